// How C types map onto IR values, and the conversions between them (C11 6.3).
//
// Integers of 4 bytes or fewer are i32 values, held normalised: a signed char is sign-extended
// to 32 bits, an unsigned short zero-extended, a _Bool is 0 or 1. long, long long and pointers
// are i64. Records and arrays are not values: they are addressed in memory.
import type { Builder } from "./lower-builder.js";
import type { Inst, Ty } from "./ir.js";
import { type CType, canonical, integerTypeOf, sizeOf } from "./types.js";

export interface IntInfo {
  size: number;
  signed: boolean;
  isBool: boolean;
}

/** Size and signedness of an integer-like (or pointer) type; undefined for anything else. */
export function intInfo(t: CType): IntInfo | undefined {
  const c = canonical(t);
  if (c.kind === "pointer") return { size: 8, signed: false, isBool: false };
  const it = integerTypeOf(c);
  if (it === undefined) return undefined;
  return { size: it.size, signed: it.signed, isBool: it.name === "_Bool" };
}

export function isAggregate(t: CType): boolean {
  const c = canonical(t);
  return c.kind === "record" || c.kind === "array";
}

/** A 16-byte integer type (__int128): held in memory, its values handled by address (lower-wide.ts). */
export function isWideInt(t: CType): boolean {
  const c = canonical(t);
  return c.kind === "int" && c.size > 8;
}

/** Whether values of `t` are handled by their address: records, arrays and __int128. */
export function byAddress(t: CType): boolean {
  return isAggregate(t) || isWideInt(t);
}

/** The IR type holding values of `t` ("void" for void, aggregates and functions). */
export function irTy(t: CType): Ty {
  const c = canonical(t);
  switch (c.kind) {
    case "pointer":
      return "i64";
    case "int":
    case "enum": {
      const size = sizeOf(c);
      return size <= 4 ? "i32" : size === 8 ? "i64" : "void";
    }
    default:
      return "void";
  }
}

/** Whether `t` is a scalar the back end cannot hold (floating point). */
export function unsupportedScalar(t: CType): string | undefined {
  const c = canonical(t);
  if (c.kind === "float") return "floating-point types are not supported by the BPF target";
  return undefined;
}

/**
 * Brings an i32 value computed in a wider type into the normal form of the narrow type
 * `to` (size 1 or 2, or _Bool): sign- or zero-extends the low bits.
 */
export function normalizeNarrow(b: Builder, v: Inst, to: IntInfo): Inst {
  if (to.isBool) return b.cmp("ne", v, b.const32(0));
  if (to.size >= 4) return v;
  const bits = to.size * 8;
  if (to.signed) {
    const s = b.emit("sextin", "i32", [v]);
    s.width = bits;
    return s;
  }
  return b.bin("and", v, b.const32(bits === 8 ? 0xff : 0xffff));
}

/** Whether every value of `from` is a value of `to` (no normalisation needed for i32s). */
function fitsInNarrow(from: IntInfo, to: IntInfo): boolean {
  if (to.isBool) return from.isBool;
  if (from.isBool) return true;
  if (from.signed === to.signed) return from.size <= to.size;
  if (!from.signed) return from.size < to.size; // u8 -> s16
  return false; // signed -> unsigned of the same or larger size needs masking
}

/** Converts `v` (a value of type `from`) to type `to`. Both must be scalars. */
export function convert(b: Builder, v: Inst, from: CType, to: CType): Inst {
  const fi = intInfo(from);
  const ti = intInfo(to);
  if (fi === undefined || ti === undefined) return v;
  if (ti.isBool) {
    if (fi.isBool) return v;
    return b.cmp("ne", v, v.ty === "i32" ? b.const32(0) : b.const64(0, 0));
  }
  if (ti.size === 8) {
    if (fi.size === 8) return v;
    return b.emit(fi.signed ? "sext" : "zext", "i64", [v]);
  }
  // The target is an i32 type.
  let w = v;
  if (fi.size === 8) w = b.emit("trunc", "i32", [v]);
  else if (fitsInNarrow(fi, ti)) return w;
  if (ti.size === 4) return w;
  return normalizeNarrow(b, w, ti);
}
