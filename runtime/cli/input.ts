// The file a runtime command is given (an object, a raw BTF, a conformance vector), read whole.
// When it cannot be, one error names the file and says why in strerror()'s words, as
// llvm-objdump does: `'x.o': No such file or directory`, `'dir': Is a directory`.
//
// A device or a pipe is read to its end like a file, but no input may be larger than
// MAX_INPUT_BYTES: `/dev/zero` or a 3 GiB file is an error at once, not a hang or a node crash.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { getSystemErrorMap } from "node:util";
import { TsbpfError } from "../error.js";

/** An input that could not be read: `message` is `'path': reason`. */
export class InputError extends TsbpfError {
  constructor(
    readonly path: string,
    /** "ENOENT" ... ("EFBIG" for an input over the limit) */
    readonly code: string,
    /** "No such file or directory" ... */
    readonly reason: string,
  ) {
    super(`'${path}': ${reason}`);
  }
}

/** Far above any BPF object or BTF (vmlinux BTF is a few MiB, objects rarely reach 10 MiB). */
export const MAX_INPUT_BYTES = 256 * 1024 * 1024;

/**
 * strerror()'s text for what opening and reading a file can fail with; Node only has libuv's,
 * which differs ("illegal operation on a directory" for EISDIR).
 */
const STRERROR: Record<string, string> = {
  EACCES: "Permission denied",
  EIO: "Input/output error",
  EISDIR: "Is a directory",
  ELOOP: "Too many levels of symbolic links",
  EMFILE: "Too many open files",
  ENAMETOOLONG: "File name too long",
  ENOENT: "No such file or directory",
  ENOTDIR: "Not a directory",
  ENXIO: "No such device or address",
  EPERM: "Operation not permitted",
};

/** Why a file operation failed, as strerror() says it ("No such file or directory"). */
export function systemErrorText(err: unknown): string {
  const { code, errno } = err as NodeJS.ErrnoException;
  if (code !== undefined && STRERROR[code] !== undefined) return STRERROR[code];
  const libuv = errno !== undefined ? getSystemErrorMap().get(errno)?.[1] : undefined;
  if (libuv !== undefined) return libuv[0]!.toUpperCase() + libuv.slice(1);
  return code ?? String(err);
}

/** The whole content of `path`, or an InputError. */
export function readInput(path: string, limit = MAX_INPUT_BYTES): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw systemError(path, err);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new InputError(path, "EISDIR", STRERROR.EISDIR!);
    if (stat.isFile() && stat.size > limit) throw tooLarge(path, limit, stat.size);
    return readToEnd(fd, path, stat.isFile() ? stat.size : 0, limit);
  } catch (err) {
    throw err instanceof InputError ? err : systemError(path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read until end of file: a file in one step (one byte more than its size, to meet its end), a
 * device or pipe, or a file that grew, in 1 MiB chunks, never holding more than limit + 1 bytes.
 */
function readToEnd(fd: number, path: string, size: number, limit: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let chunk = new Uint8Array(Math.min(size > 0 ? size + 1 : CHUNK, limit + 1));
  let used = 0;
  let length = 0;
  for (;;) {
    const got = readSync(fd, chunk, used, chunk.length - used, null);
    if (got === 0) break;
    used += got;
    length += got;
    if (length > limit) throw tooLarge(path, limit);
    if (used === chunk.length) {
      chunks.push(chunk);
      chunk = new Uint8Array(Math.min(CHUNK, limit + 1 - length));
      used = 0;
    }
  }
  if (chunks.length === 0) return chunk.subarray(0, used);
  chunks.push(chunk.subarray(0, used));
  const whole = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    whole.set(c, at);
    at += c.length;
  }
  return whole;
}

const CHUNK = 1 << 20;

function tooLarge(path: string, limit: number, size?: number): InputError {
  const most = limit >= 1 << 20 ? `${limit / (1 << 20)} MiB` : `${limit} bytes`;
  const what = size === undefined ? "more" : `${size} bytes, more`;
  return new InputError(path, "EFBIG", `${what} than the ${most} an input may have`);
}

function systemError(path: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code ?? "EIO";
  return new InputError(path, code, systemErrorText(err));
}
