// The format engine behind bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf.
//
// Two rule sets, as the kernel had them:
//   "bprintf" (5.13 on, bpf_bprintf_prepare + bstr_printf): the format is read up to its NUL,
//     must be printable ASCII; conversions are %d %i %u %x %X with l/ll, %c, %s, %%, and the
//     pointer forms %p %pK %px %ps %pS %pB %pks %pus %pi4 %pI4 %pi6 %pI6; flags "0+- " and a
//     width are allowed, a precision is not; a %s/%p conversion must be followed by the end, a
//     space or punctuation; at most `numArgs` conversions. Strings and IP addresses are copied
//     into a 512-byte buffer first (MAX_BPRINTF_BUF): running out of it is -ENOSPC.
//   "legacy" (4.1's bpf_trace_printk): the format's last byte must be its NUL; at most three
//     conversions, only %d %u %x with l/ll and %p; no flags, widths, %s or %%.
// Anything else is -EINVAL, before anything is printed.
//
// Output follows the kernel's vsnprintf: %p prints a hashed value (32 bits, zero-padded to 16
// hex digits) so addresses do not leak, %px the raw address, %ps/%pS kallsyms names. What
// bpf_bprintf_prepare dereferenced beforehand (%pks, %pus, IP addresses, %pB) is printed
// without the conversion's width, as the running kernel does.
// The result is the formatted bytes (not truncated: callers cut to their buffer).
import { Errno } from "../uapi/errno.js";

export type PrintfRules = "bprintf" | "legacy";

/** What formatting needs from the kernel: memory reads and kallsyms. */
export interface PrintfEnv {
  /**
   * A NUL-terminated string at (lo, hi) of at most `max` bytes including the NUL, read the way
   * kind asks ('s': user below TASK_SIZE else kernel, 'k': kernel, 'u': user), without the
   * NUL; undefined when unreadable.
   */
  readString(lo: number, hi: number, kind: "s" | "k" | "u", max: number): Uint8Array | undefined;
  /** `size` bytes of kernel memory, undefined when unreadable (copy_from_kernel_nofault). */
  readKernel(lo: number, hi: number, size: number): Uint8Array | undefined;
  /** %ps ("name"), %pS ("name+0x1c/0x150"), %pB (the same for a return address). */
  symbol(lo: number, hi: number, style: "s" | "S" | "B"): string;
  /** ptr_to_id(): the 32-bit hash %p and %pK print instead of the address. */
  hashPointer(lo: number, hi: number): number;
}

/** bpf_bprintf_prepare's buffer for copied strings and arguments (MAX_BPRINTF_BUF_LEN). */
export const MAX_BPRINTF_BUF = 512;

export type PrintfResult = { bytes: Uint8Array } | { errno: number };

const EINVAL = { errno: Errno.EINVAL } as const;
const ENOSPC = { errno: Errno.ENOSPC } as const;

// Kernel ctype for 7-bit characters.
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const isAlnum = (c: number): boolean =>
  isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isPunct = (c: number): boolean => isPrint(c) && c !== 0x20 && !isAlnum(c);
const ch = (s: string): number => s.charCodeAt(0);

/** A conversion's flags and width (vsnprintf's printf_spec without precision). */
interface Spec {
  left: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  /** -1: none given */
  width: number;
}

/**
 * Format `fmt` (the bytes the program passed, `fmt.length` = the size it gave) with `numArgs`
 * 64-bit arguments taken from `args` as (lo, hi) pairs.
 */
export function bpfPrintf(
  fmt: Uint8Array,
  args: ArrayLike<number>,
  numArgs: number,
  env: PrintfEnv,
  rules: PrintfRules,
): PrintfResult {
  return rules === "legacy" ? legacyPrintf(fmt, args, env) : bprintf(fmt, args, numArgs, env);
}

// ---- 5.13+: bpf_bprintf_prepare then bstr_printf ---------------------------------------------

function bprintf(
  fmtBuf: Uint8Array,
  args: ArrayLike<number>,
  numArgs: number,
  env: PrintfEnv,
): PrintfResult {
  const nul = fmtBuf.indexOf(0);
  if (nul < 0) return EINVAL; // strnchr(fmt, fmt_size, 0) found no end
  const fmt = fmtBuf.subarray(0, nul);
  const at = (i: number): number => (i < fmt.length ? fmt[i]! : 0);
  const out = new ByteSink();
  let budget = MAX_BPRINTF_BUF; // bytes left in the prepare buffer
  let used = 0; // its fill position, for the u32 alignment of copied numbers
  let numSpec = 0;
  const take = (size: number): boolean => {
    const aligned = Math.ceil(used / 4) * 4;
    if (MAX_BPRINTF_BUF - aligned < size) return false;
    used = aligned + size;
    budget = MAX_BPRINTF_BUF - used;
    return true;
  };
  const takeBytes = (n: number): void => {
    used += n;
    budget = MAX_BPRINTF_BUF - used;
  };

  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c >= 0x80 || (!isPrint(c) && !isSpace(c))) return EINVAL;
    if (c !== ch("%")) {
      out.byte(c);
      continue;
    }
    if (at(i + 1) === ch("%")) {
      out.byte(c);
      i++;
      continue;
    }
    if (numSpec >= numArgs) return EINVAL;
    const lo = args[2 * numSpec]! | 0;
    const hi = args[2 * numSpec + 1]! | 0;
    i++;
    const spec = readFlagsAndWidth(fmt, i);
    i = spec.next;

    if (at(i) === ch("p")) {
      const ext = at(i + 1);
      if ((ext === ch("k") || ext === ch("u")) && at(i + 2) === ch("s")) {
        i += 2;
        if (!endsConversion(at(i + 1))) return EINVAL;
        if (budget === 0) return ENOSPC;
        const text = env.readString(lo, hi, ext === ch("k") ? "k" : "u", budget) ?? EMPTY;
        takeBytes(text.length + 1);
        out.raw(text); // pre-dereferenced: printed without its width
        numSpec++;
        continue;
      }
      if (
        ext === 0 ||
        isSpace(ext) ||
        isPunct(ext) ||
        ext === ch("K") ||
        ext === ch("x") ||
        ext === ch("s") ||
        ext === ch("S")
      ) {
        if (!take(8)) return ENOSPC;
        out.ascii(pointerText(ext, lo, hi, spec, env), spec, ext !== ch("s") && ext !== ch("S"));
        // A letter extension is part of the conversion; anything else is printed after it.
        if (isAlnum(ext)) i++;
        numSpec++;
        continue;
      }
      if (ext === ch("B")) {
        i++;
        const text = env.symbol(lo, hi, "B");
        takeBytes(text.length + 1);
        out.ascii(text, NO_WIDTH);
        numSpec++;
        continue;
      }
      const family = at(i + 2);
      if ((ext !== ch("i") && ext !== ch("I")) || (family !== ch("4") && family !== ch("6")))
        return EINVAL;
      i += 2;
      const size = family === ch("4") ? 4 : 16;
      if (budget < size) return ENOSPC;
      const raw = env.readKernel(lo, hi, size) ?? new Uint8Array(size);
      const text = ipText(raw, ext === ch("I"));
      takeBytes(text.length + 1);
      out.ascii(text, NO_WIDTH);
      numSpec++;
      continue;
    }
    if (at(i) === ch("s")) {
      if (!endsConversion(at(i + 1))) return EINVAL;
      if (budget === 0) return ENOSPC;
      const text = env.readString(lo, hi, "s", budget) ?? EMPTY;
      takeBytes(text.length + 1);
      out.padded(text, spec);
      numSpec++;
      continue;
    }
    if (at(i) === ch("c")) {
      if (budget === 0) return ENOSPC;
      takeBytes(1);
      out.padded(Uint8Array.of(lo & 0xff), spec);
      numSpec++;
      continue;
    }
    let size = 4;
    if (at(i) === ch("l")) {
      size = 8;
      i++;
    }
    if (at(i) === ch("l")) i++;
    const conv = at(i);
    if (
      conv !== ch("i") &&
      conv !== ch("d") &&
      conv !== ch("u") &&
      conv !== ch("x") &&
      conv !== ch("X")
    )
      return EINVAL;
    if (!take(size)) return ENOSPC;
    out.ascii(integerText(conv, lo, size === 8 ? hi : 0, size, spec), spec, true);
    numSpec++;
  }
  return { bytes: out.bytes() };
}

const EMPTY = new Uint8Array(0);
/** Strings bpf_bprintf_prepare formatted or copied beforehand lose their width. */
const NO_WIDTH: Spec = { left: false, plus: false, space: false, zero: false, width: -1 };

/** After %s, %pks, %pus or a bare %p: the end, a space or punctuation. */
const endsConversion = (c: number): boolean => c === 0 || isSpace(c) || isPunct(c);

/** The "[0 +-]*" flags and a width starting at fmt[i]; `next` is the conversion character. */
function readFlagsAndWidth(fmt: Uint8Array, i: number): Spec & { next: number } {
  const spec = { left: false, plus: false, space: false, zero: false, width: -1, next: i };
  for (;;) {
    const c = fmt[i];
    if (c === ch("0")) spec.zero = true;
    else if (c === ch("+")) spec.plus = true;
    else if (c === ch("-")) spec.left = true;
    else if (c === ch(" ")) spec.space = true;
    else break;
    i++;
  }
  if (i < fmt.length && fmt[i]! >= ch("1") && fmt[i]! <= ch("9")) {
    let width = 0;
    while (i < fmt.length && isDigit(fmt[i]!))
      width = Math.min(width * 10 + fmt[i++]! - 0x30, 1 << 20);
    spec.width = width;
  }
  spec.next = i;
  return spec;
}

// ---- 4.1: bpf_trace_printk's own check, then the trace_printk() of its day ---------------------

function legacyPrintf(fmt: Uint8Array, args: ArrayLike<number>, env: PrintfEnv): PrintfResult {
  const size = fmt.length - 1;
  if (size < 0 || fmt[size] !== 0) return EINVAL;
  const at = (i: number): number => (i < size ? fmt[i]! : 0);
  const out = new ByteSink();
  const noFlags: Spec = { left: false, plus: false, space: false, zero: false, width: -1 };
  let count = 0;
  for (let i = 0; i < size; i++) {
    const c = fmt[i]!;
    if (c >= 0x80 || (!isPrint(c) && !isSpace(c))) return EINVAL;
    if (c !== ch("%")) {
      out.byte(c);
      continue;
    }
    if (count >= 3) return EINVAL;
    const lo = args[2 * count]! | 0;
    const hi = args[2 * count + 1]! | 0;
    i++;
    let longs = 0;
    if (at(i) === ch("l")) {
      longs++;
      i++;
    } else if (at(i) === ch("p")) {
      if (!endsConversion(at(i + 1))) return EINVAL;
      out.ascii(legacyPointerText(lo, hi), noFlags);
      count++;
      continue;
    }
    if (at(i) === ch("l")) {
      longs++;
      i++;
    }
    const conv = at(i);
    if (conv !== ch("d") && conv !== ch("u") && conv !== ch("x")) return EINVAL;
    // mod 0 passes the argument as u32, 1 as long, 2 as u64: all 64-bit on x86_64 except 0.
    const wide = longs > 0;
    out.ascii(integerText(conv, lo, wide ? hi : 0, wide ? 8 : 4, noFlags), noFlags, true);
    count++;
  }
  return { bytes: out.bytes() };
}

/** 4.1's %p: the raw address in 16 hex digits; NULL prints "(null)" in a pointer's width. */
function legacyPointerText(lo: number, hi: number): string {
  if (lo === 0 && hi === 0) return "(null)".padStart(16);
  return hex64(lo, hi).padStart(16, "0");
}

// ---- conversions -----------------------------------------------------------------------------

function pointerText(ext: number, lo: number, hi: number, spec: Spec, env: PrintfEnv): string {
  if (ext === ch("s") || ext === ch("S")) return env.symbol(lo, hi, ext === ch("s") ? "s" : "S");
  // %px: the address; %p and %pK (kptr_restrict 0): the hash, so addresses do not leak.
  const value = ext === ch("x") ? hex64(lo, hi) : (env.hashPointer(lo, hi) >>> 0).toString(16);
  return spec.width === -1 ? value.padStart(16, "0") : value;
}

/** "%pI4" 1.2.3.4, "%pi4" 001.002.003.004, "%pI6" 8 colon-separated groups, "%pi6" 32 digits. */
function ipText(raw: Uint8Array, dotted: boolean): string {
  if (raw.length === 4) {
    const parts = [...raw].map((b) => (dotted ? String(b) : String(b).padStart(3, "0")));
    return parts.join(".");
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push(((raw[i]! << 8) | raw[i + 1]!).toString(16).padStart(4, "0"));
  return groups.join(dotted ? ":" : "");
}

/** %d %i %u %x %X of a 4- or 8-byte argument, with sign but without padding. */
function integerText(conv: number, lo: number, hi: number, size: number, spec: Spec): string {
  const signed = conv === ch("d") || conv === ch("i");
  let negative = false;
  if (signed) {
    negative = size === 8 ? hi < 0 : lo < 0;
    if (negative) {
      // two's complement negate (lo, hi) without BigInt
      const nlo = (~lo + 1) | 0;
      const nhi = size === 8 ? (~hi + (nlo === 0 ? 1 : 0)) | 0 : 0;
      lo = size === 8 ? nlo : (-lo | 0) >>> 0;
      hi = nhi;
    }
  }
  if (size === 4) hi = 0;
  let digits: string;
  if (conv === ch("x")) digits = hex64(lo, hi);
  else if (conv === ch("X")) digits = hex64(lo, hi).toUpperCase();
  else digits = decimal64(lo, hi);
  const sign = negative ? "-" : spec.plus && signed ? "+" : spec.space && signed ? " " : "";
  return sign + digits;
}

/** Unsigned (lo, hi) in hex, no leading zeros. */
function hex64(lo: number, hi: number): string {
  if (hi === 0) return (lo >>> 0).toString(16);
  return (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");
}

/** Unsigned (lo, hi) in decimal; exact above 2^53 by splitting at 10^9. */
function decimal64(lo: number, hi: number): string {
  const h = hi >>> 0;
  const l = lo >>> 0;
  if (h < 0x200000) return String(h * 0x100000000 + l);
  // v = h * 2^32 + l; divide by 1e9 in two 16-bit halves of l to stay below 2^53.
  const upper = h * 0x10000 + (l >>> 16); // v >> 16
  const q1 = Math.floor(upper / 1e9);
  const r1 = upper - q1 * 1e9;
  const lower = r1 * 0x10000 + (l & 0xffff);
  const q2 = Math.floor(lower / 1e9);
  const r2 = lower - q2 * 1e9;
  const quotient = q1 * 0x10000 + q2; // v / 1e9 < 2^55: print it recursively
  const qHi = Math.floor(quotient / 0x100000000);
  const head = decimal64(quotient - qHi * 0x100000000, qHi);
  return head + String(r2).padStart(9, "0");
}

/** Collects output bytes; applies widths as vsnprintf does. */
class ByteSink {
  private buf = new Uint8Array(64);
  private len = 0;

  byte(b: number): void {
    if (this.len === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.len++] = b;
  }

  /** A converted ASCII field; numbers zero-pad after their sign when asked. */
  ascii(text: string, spec: Spec, numeric = false): void {
    const pad = spec.width - text.length;
    if (pad > 0 && numeric && spec.zero && !spec.left) {
      const sign = text[0] === "-" || text[0] === "+" || text[0] === " " ? text[0] : "";
      text = sign + "0".repeat(pad) + text.slice(sign.length);
    } else if (pad > 0) {
      text = spec.left ? text + " ".repeat(pad) : " ".repeat(pad) + text;
    }
    for (let i = 0; i < text.length; i++) this.byte(text.charCodeAt(i) & 0xff);
  }

  raw(bytes: Uint8Array): void {
    for (const b of bytes) this.byte(b);
  }

  /** Raw bytes (strings, characters) padded with spaces to the width. */
  padded(bytes: Uint8Array, spec: Spec): void {
    const pad = Math.max(spec.width - bytes.length, 0);
    if (!spec.left) for (let i = 0; i < pad; i++) this.byte(0x20);
    for (const b of bytes) this.byte(b);
    if (spec.left) for (let i = 0; i < pad; i++) this.byte(0x20);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
