// The file a runtime command is given (an object, a raw BTF, a conformance vector), read whole.
// When it cannot be, one error names the file and says why in strerror()'s words, as
// llvm-objdump does: `'x.o': No such file or directory`, `'dir': Is a directory`.
//
// A device or a pipe is read to its end like a file, but no input may be larger than
// MAX_INPUT_BYTES: `/dev/zero` or a 3 GiB file is an error at once, not a hang or a node crash.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { getSystemErrorMap } from "node:util";
import { TsbpfError } from "../error.js";

/** An input that could not be read: `message` is `command: 'path': reason`. */
export class InputError extends TsbpfError {
  constructor(
    readonly path: string,
    /** "ENOENT" ... ("EFBIG" for an input over the limit) */
    readonly code: string,
    /** "No such file or directory" ... */
    readonly reason: string,
    /** the command that read it ("objdump"), when messages name it */
    command?: string,
  ) {
    super(`${command === undefined ? "" : `${command}: `}'${path}': ${reason}`);
  }
}

export interface ReadOptions {
  /** the command that reads, to begin the message with ("objdump", "btf dump") */
  command?: string;
  /** the most bytes the input may have (default MAX_INPUT_BYTES) */
  limit?: number;
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
export function readInput(path: string, options: ReadOptions = {}): Uint8Array {
  const { command, limit = MAX_INPUT_BYTES } = options;
  const fail = (code: string, reason: string): InputError =>
    new InputError(path, code, reason, command);
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    throw fail(errorCode(err), systemErrorText(err));
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw fail("EISDIR", STRERROR.EISDIR!);
    if (stat.isFile() && stat.size > limit) throw fail("EFBIG", tooLarge(limit, stat.size));
    const bytes = readToEnd(fd, stat.isFile() ? stat.size : 0, limit);
    if (bytes === undefined) throw fail("EFBIG", tooLarge(limit));
    return bytes;
  } catch (err) {
    throw err instanceof InputError ? err : fail(errorCode(err), systemErrorText(err));
  } finally {
    closeSync(fd);
  }
}

/**
 * Read until end of file: a file in one step (one byte more than its size, to meet its end), a
 * device or pipe, or a file that grew, in 1 MiB chunks, never holding more than limit + 1 bytes;
 * undefined when there are more than `limit`.
 */
function readToEnd(fd: number, size: number, limit: number): Uint8Array | undefined {
  const chunks: Uint8Array[] = [];
  let chunk = new Uint8Array(Math.min(size > 0 ? size + 1 : CHUNK, limit + 1));
  let used = 0;
  let length = 0;
  for (;;) {
    const got = readSync(fd, chunk, used, chunk.length - used, null);
    if (got === 0) break;
    used += got;
    length += got;
    if (length > limit) return undefined;
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

function tooLarge(limit: number, size?: number): string {
  const most = limit >= 1 << 20 ? `${limit / (1 << 20)} MiB` : `${limit} bytes`;
  return `${size === undefined ? "more" : `${size} bytes, more`} than the ${most} an input may have`;
}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? "EIO";
