// Decoding of C constants as the lexer spelled them: integer constants to an exact unsigned
// 64-bit (lo, hi) pair, floating constants, character constants and string literals with their
// escape sequences. No BigInt: the integer path works in 16-bit limbs past 2^53.
//
// Each decoder returns an error message (clang's wording) instead of throwing, so the parser can
// report it at the token and go on.

export interface DecodedInteger {
  lo: number;
  hi: number;
  overflow: boolean;
  radix: 2 | 8 | 10 | 16;
  unsigned: boolean;
  longness: 0 | 1 | 2;
  error: string | null;
  /** Where in the text the error is (clang points at the offending character). */
  errorOffset: number;
}

const TWO_32 = 4294967296;

function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return 99;
}

function failed(result: DecodedInteger, message: string, offset: number): DecodedInteger {
  result.error = message;
  result.errorOffset = offset;
  return result;
}

function radixName(radix: 2 | 8 | 10 | 16): string {
  return radix === 8 ? "octal" : radix === 2 ? "binary" : "decimal";
}

/** `123`, `0x1fULL`, `0b101`, `0777u`, `10l` -> value and suffix. */
export function decodeInteger(text: string): DecodedInteger {
  let radix: 2 | 8 | 10 | 16 = 10;
  let start = 0;
  const c1 = text.charCodeAt(1) | 32;
  if (text.charCodeAt(0) === 48 && text.length > 1) {
    if (c1 === 120) {
      radix = 16;
      start = 2;
    } else if (c1 === 98) {
      radix = 2;
      start = 2;
    } else {
      radix = 8;
      start = 1;
    }
  }
  // The digits: hex digits for radix 16, else decimal digits (an 8 in an octal constant is an
  // invalid digit, not the start of a suffix).
  let end = start;
  while (end < text.length) {
    const v = digitValue(text.charCodeAt(end));
    if (v >= (radix === 16 ? 16 : 10)) break;
    end++;
  }
  const result: DecodedInteger = {
    lo: 0,
    hi: 0,
    overflow: false,
    radix,
    unsigned: false,
    longness: 0,
    error: null,
    errorOffset: 0,
  };
  if (end === start && radix !== 8)
    return failed(result, `invalid suffix '${text.slice(1)}' on integer constant`, 1);
  for (let i = start; i < end; i++) {
    if (digitValue(text.charCodeAt(i)) >= radix)
      return failed(result, `invalid digit '${text[i]}' in ${radixName(radix)} constant`, i);
  }
  if (end < text.length) {
    const suffix = text.slice(end);
    if (/^(?:[uU](?:ll|LL|[lL])?|(?:ll|LL|[lL])[uU]?)$/.test(suffix)) {
      result.unsigned = /[uU]/.test(suffix);
      result.longness = suffix.replace(/[uU]/, "").length as 0 | 1 | 2;
    } else if (radix !== 16 && digitValue(text.charCodeAt(end)) < 16) {
      // A hex letter after decimal digits reads as a bad digit, not a suffix (clang).
      return failed(result, `invalid digit '${text[end]}' in ${radixName(radix)} constant`, end);
    } else {
      return failed(result, `invalid suffix '${suffix}' on integer constant`, end);
    }
  }
  const digits = end - start;
  const safeDigits = radix === 16 ? 13 : radix === 10 ? 15 : radix === 8 ? 17 : 52;
  if (digits <= safeDigits) {
    // Below 2^53: a double holds it, and every step to it, exactly.
    let v = 0;
    for (let i = start; i < end; i++) v = v * radix + digitValue(text.charCodeAt(i));
    result.lo = v % TWO_32;
    result.hi = Math.floor(v / TWO_32);
    return result;
  }
  // value = value * radix + digit, in four 16-bit limbs (least significant first).
  const limbs = [0, 0, 0, 0];
  for (let i = start; i < end; i++) {
    let carry = digitValue(text.charCodeAt(i));
    for (let k = 0; k < 4; k++) {
      const v = limbs[k]! * radix + carry;
      limbs[k] = v & 0xffff;
      carry = v >>> 16;
    }
    if (carry !== 0) result.overflow = true;
  }
  result.lo = (limbs[0]! | (limbs[1]! << 16)) >>> 0;
  result.hi = (limbs[2]! | (limbs[3]! << 16)) >>> 0;
  return result;
}

export interface DecodedFloat {
  value: number;
  suffix: "" | "f" | "l";
  error: string | null;
}

/**
 * What is wrong with a preprocessing number that is no valid constant (`1abc`, `0x`, `1.2.3`),
 * in clang's words, and at which character.
 */
export function invalidNumber(text: string): { message: string; offset: number } {
  const isHex = /^0[xX]/.test(text);
  const float = isHex
    ? /^0[xX][\da-fA-F]*(?:\.[\da-fA-F]*)?[pP][+-]?\d+/.exec(text)
    : /^(?:\d*\.\d*|\d+)(?:[eE][+-]?\d+)?/.exec(text);
  const looksFloat =
    float !== null && /[.eEpP]/.test(float[0]) && !(isHex && !/[pP]/.test(float[0]));
  if (!looksFloat) {
    const d = decodeInteger(text);
    if (d.error !== null) return { message: d.error, offset: d.errorOffset };
    return { message: `invalid suffix '${text}' on integer constant`, offset: 0 };
  }
  const end = float![0].length;
  return { message: `invalid suffix '${text.slice(end)}' on floating constant`, offset: end };
}

/** `1.5`, `1e3f`, `0x1.8p1`, `2.0L`. */
export function decodeFloat(text: string): DecodedFloat {
  let body = text;
  let suffix: "" | "f" | "l" = "";
  const last = text.charCodeAt(text.length - 1) | 32;
  const isHex = (text.charCodeAt(1) | 32) === 120;
  if (last === 102 /* f */ && !isHex) {
    suffix = "f";
    body = text.slice(0, -1);
  } else if (last === 108 /* l */) {
    suffix = "l";
    body = text.slice(0, -1);
  } else if (last === 102 && isHex) {
    // In a hex float the exponent is decimal, so a trailing f is a suffix.
    suffix = "f";
    body = text.slice(0, -1);
  }
  if (!isHex) return { value: Number(body), suffix, error: null };
  const m = /^0[xX]([\da-fA-F]*)(?:\.([\da-fA-F]*))?[pP]([+-]?\d+)$/.exec(body);
  if (m === null)
    return { value: 0, suffix, error: "hexadecimal floating constant requires an exponent" };
  const whole = m[1] ?? "";
  const frac = m[2] ?? "";
  let mantissa = 0;
  for (const ch of whole + frac) mantissa = mantissa * 16 + digitValue(ch.charCodeAt(0));
  const exponent = Number(m[3]) - 4 * frac.length;
  return { value: mantissa * Math.pow(2, exponent), suffix, error: null };
}

export type LiteralPrefix = "" | "L" | "u" | "U" | "u8";

function prefixOf(text: string): { prefix: LiteralPrefix; quote: number } {
  const q = text.charCodeAt(0);
  if (q === 34 || q === 39) return { prefix: "", quote: 0 };
  if (text.startsWith("u8")) return { prefix: "u8", quote: 2 };
  return { prefix: text[0] as "L" | "u" | "U", quote: 1 };
}

/** Removes backslash-newline splices the lexer kept inside a literal's image. */
function unsplice(body: string): string {
  return body.indexOf("\\\n") < 0 && body.indexOf("\\\r\n") < 0
    ? body
    : body.replace(/\\\r?\n/g, "");
}

interface Escape {
  /** A code point (for \u, \U and literal characters) or a raw unit (for octal and \x). */
  value: number;
  raw: boolean;
  next: number;
  error: string | null;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10,
  t: 9,
  r: 13,
  "0": 0,
  "\\": 92,
  "'": 39,
  '"': 34,
  "?": 63,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  e: 27,
  E: 27,
};

/** Reads one character or escape sequence of a literal body starting at i. */
function readChar(body: string, i: number): Escape {
  const c = body.codePointAt(i)!;
  if (c !== 92) return { value: c, raw: false, next: i + (c > 0xffff ? 2 : 1), error: null };
  const e = body[i + 1] ?? "";
  if (e >= "0" && e <= "7") {
    let v = 0;
    let j = i + 1;
    while (j < body.length && j < i + 4 && body[j]! >= "0" && body[j]! <= "7")
      v = v * 8 + (body.charCodeAt(j++) - 48);
    return { value: v, raw: true, next: j, error: null };
  }
  if (e === "x") {
    let j = i + 2;
    let v = 0;
    while (j < body.length && digitValue(body.charCodeAt(j)) < 16)
      v = v * 16 + digitValue(body.charCodeAt(j++));
    if (j === i + 2)
      return { value: 0, raw: true, next: j, error: "\\x used with no following hex digits" };
    return {
      value: v,
      raw: true,
      next: j,
      error: v > 0xffffffff ? "hex escape sequence out of range" : null,
    };
  }
  if (e === "u" || e === "U") {
    const n = e === "u" ? 4 : 8;
    const hex = body.slice(i + 2, i + 2 + n);
    if (hex.length !== n || !/^[\da-fA-F]+$/.test(hex)) {
      return { value: 0, raw: false, next: i + 2, error: `incomplete universal character name` };
    }
    return { value: parseInt(hex, 16), raw: false, next: i + 2 + n, error: null };
  }
  const simple = SIMPLE_ESCAPES[e];
  if (simple !== undefined) return { value: simple, raw: true, next: i + 2, error: null };
  // clang warns "unknown escape sequence" and uses the character itself.
  return { value: e.codePointAt(0) ?? 92, raw: true, next: i + 2, error: null };
}

function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else
    out.push(
      0xf0 | (cp >> 18),
      0x80 | ((cp >> 12) & 63),
      0x80 | ((cp >> 6) & 63),
      0x80 | (cp & 63),
    );
}

function unitSize(prefix: LiteralPrefix): 1 | 2 | 4 {
  return prefix === "u" ? 2 : prefix === "U" || prefix === "L" ? 4 : 1;
}

function pushUnit(out: number[], v: number, size: 1 | 2 | 4): void {
  out.push(v & 0xff);
  if (size >= 2) out.push((v >>> 8) & 0xff);
  if (size === 4) out.push((v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

export interface DecodedString {
  prefix: LiteralPrefix;
  value: string;
  bytes: Uint8Array;
  error: string | null;
}

/** Decodes adjacent string literals as one (C11 5.1.1.2 phase 6). */
export function decodeStrings(texts: readonly string[]): DecodedString {
  let prefix: LiteralPrefix = "";
  let error: string | null = null;
  for (const t of texts) {
    const p = prefixOf(t).prefix;
    if (p === "") continue;
    if (prefix !== "" && prefix !== p)
      error = "unsupported non-standard concatenation of string literals";
    prefix = p;
  }
  const size = unitSize(prefix);
  const out: number[] = [];
  let value = "";
  for (const t of texts) {
    const body = unsplice(t.slice(prefixOf(t).quote + 1, -1));
    // Fast path: nothing to decode, plain ASCII.
    if (size === 1 && !/[\\\u0080-\uffff]/.test(body)) {
      for (let i = 0; i < body.length; i++) out.push(body.charCodeAt(i));
      value += body;
      continue;
    }
    for (let i = 0; i < body.length;) {
      const ch = readChar(body, i);
      if (ch.error !== null && error === null) error = ch.error;
      i = ch.next;
      if (size === 1) {
        if (ch.raw) out.push(ch.value & 0xff);
        else pushUtf8(out, ch.value);
      } else if (size === 2 && !ch.raw && ch.value > 0xffff) {
        const v = ch.value - 0x10000;
        pushUnit(out, 0xd800 + (v >> 10), 2);
        pushUnit(out, 0xdc00 + (v & 0x3ff), 2);
      } else {
        pushUnit(out, ch.value, size);
      }
      value += String.fromCodePoint(ch.raw ? ch.value & (size === 1 ? 0xff : 0x10ffff) : ch.value);
    }
  }
  return { prefix, value, bytes: Uint8Array.from(out), error };
}

export interface DecodedChar {
  prefix: LiteralPrefix;
  value: number;
  error: string | null;
  /** clang's warning for 'ab' (multi-character character constant). */
  multiChar: boolean;
}

/** `'a'`, `'\n'`, `'\xff'` (-1: char is signed), `L'x'`, `'ab'` (multi-character: 0x6162). */
export function decodeChar(text: string): DecodedChar {
  const { prefix, quote } = prefixOf(text);
  const body = unsplice(text.slice(quote + 1, -1));
  if (body.length === 0)
    return { prefix, value: 0, error: "empty character constant", multiChar: false };
  const units: number[] = [];
  let error: string | null = null;
  for (let i = 0; i < body.length;) {
    const ch = readChar(body, i);
    if (ch.error !== null && error === null) error = ch.error;
    i = ch.next;
    if (prefix === "" && !ch.raw) pushUtf8(units, ch.value);
    else units.push(ch.value);
  }
  if (prefix !== "")
    return { prefix, value: units[units.length - 1]! >>> 0, error, multiChar: units.length > 1 };
  if (units.length === 1) {
    // A plain character constant has type int with the value of a (signed) char.
    const b = units[0]! & 0xff;
    return { prefix, value: b >= 128 ? b - 256 : b, error, multiChar: false };
  }
  let v = 0;
  for (const u of units) v = (v << 8) | (u & 0xff) | 0;
  return { prefix, value: v, error, multiChar: true };
}
