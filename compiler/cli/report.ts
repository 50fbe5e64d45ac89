// How the tsbpf command reports an error a command let through: a user's error (TsbpfError) as
// one line, anything else as an internal error with its stack. The compile server writes the
// same text into its reply.
import { format, getSystemErrorMap } from "node:util";
import { TsbpfError } from "../../runtime/error.js";

export function commandErrorText(err: unknown): string {
  return err instanceof TsbpfError
    ? `tsbpf: ${err.message}\n`
    : `${format("tsbpf: internal error:", err)}\n`;
}

/**
 * strerror()'s text for the errors opening, reading and writing a file gives, as clang prints
 * them; Node only has libuv's, which differs ("illegal operation on a directory" for EISDIR).
 */
const STRERROR: Record<string, string> = {
  EACCES: "Permission denied",
  EDQUOT: "Disk quota exceeded",
  EFBIG: "File too large",
  EIO: "Input/output error",
  EISDIR: "Is a directory",
  ELOOP: "Too many levels of symbolic links",
  ENAMETOOLONG: "File name too long",
  ENOENT: "No such file or directory",
  ENOSPC: "No space left on device",
  ENOTDIR: "Not a directory",
  ENXIO: "No such device or address",
  EPERM: "Operation not permitted",
  EPIPE: "Broken pipe",
  EROFS: "Read-only file system",
  ETXTBSY: "Text file busy",
};

/** Why a file operation failed, as strerror() says it ("No such file or directory"). */
export function systemErrorText(err: unknown): string {
  const { code, errno } = err as NodeJS.ErrnoException;
  if (code !== undefined && STRERROR[code] !== undefined) return STRERROR[code];
  const libuv = errno !== undefined ? getSystemErrorMap().get(errno)?.[1] : undefined;
  if (libuv !== undefined) return libuv[0]!.toUpperCase() + libuv.slice(1);
  return code ?? String(err);
}
