// BPF_PROG_LOAD's verifier log buffer, as 6.1 fills it: log_level, log_buf and log_size go
// together (log_size 128 .. UINT_MAX >> 2, from 6.4 on any size up to that; a non-zero level
// with only known bits; a buffer); the text is written from the start, cut to log_size - 1
// bytes and NUL-terminated; a log that filled the buffer makes the load fail with ENOSPC even
// when the program verified.
import {
  BPF_LOG_LEVEL1,
  BPF_LOG_LEVEL2,
  BPF_LOG_SIZE_MAX,
  BPF_LOG_SIZE_MIN,
  BPF_LOG_STATS,
  KERNEL_VERSION,
} from "../uapi/bpf.js";

const BPF_LOG_MASK = BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS;
/** 6.4's BPF_LOG_FIXED: keep the start of the log instead of rotating (the 6.1 behaviour). */
const BPF_LOG_FIXED = 8;

export interface LogAttr {
  logLevel?: number;
  logSize?: number;
  logBuf?: Uint8Array;
}

/**
 * Why the log attributes are refused (EINVAL) by a kernel of `version`, or undefined when they
 * are fine or absent.
 */
export function logAttrProblem(attr: LogAttr, version: number): string | undefined {
  const level = attr.logLevel ?? 0;
  const size = attr.logSize ?? attr.logBuf?.length ?? 0;
  if (level === 0 && attr.logBuf === undefined && size === 0) return undefined;
  const modern = version >= KERNEL_VERSION(6, 4, 0);
  const mask = BPF_LOG_MASK | (modern ? BPF_LOG_FIXED : 0);
  if (!Number.isInteger(level) || level === 0 || (level & ~mask) !== 0)
    return `log_level ${level} is not a combination of ${modern ? "1, 2, 4 and 8" : "1, 2 and 4"}`;
  if (attr.logBuf === undefined) return "log_level is set but there is no log_buf";
  const min = modern ? 1 : BPF_LOG_SIZE_MIN;
  if (!Number.isInteger(size) || size < min || size > BPF_LOG_SIZE_MAX)
    return `log_size ${size} is outside ${min}..${BPF_LOG_SIZE_MAX}`;
  return undefined;
}

/** The log_size in effect (0 without a log). */
export function logSizeOf(attr: LogAttr): number {
  return (attr.logLevel ?? 0) === 0 ? 0 : (attr.logSize ?? attr.logBuf?.length ?? 0);
}

/**
 * Copy the log into the user's buffer. Returns the text the buffer now holds and whether the
 * log was full (ENOSPC). Writing past the buffer's real length is EFAULT: `fault` is set.
 */
export function writeLog(
  attr: LogAttr,
  text: string,
): { kept: string; full: boolean; fault: boolean } {
  const size = logSizeOf(attr);
  const buf = attr.logBuf;
  if (size === 0 || buf === undefined) return { kept: "", full: false, fault: false };
  const bytes = new TextEncoder().encode(text);
  const n = Math.min(bytes.length, size - 1);
  if (n + 1 > buf.length) return { kept: "", full: false, fault: true };
  buf.set(bytes.subarray(0, n));
  buf[n] = 0;
  return {
    kept: new TextDecoder().decode(bytes.subarray(0, n)),
    full: n === size - 1,
    fault: false,
  };
}
