// Tristate numbers: what is known about each bit of a 64-bit value.
//
// A tnum is (value, mask): a bit set in mask is unknown; otherwise the bit equals the bit of
// value (value has no bits where mask has them). The set of concrete values it stands for is
// { x : x & ~mask == value }. Operations are the kernel's (kernel/bpf/tnum.c): each result
// contains every concrete result of the operation on members of the operands.
import * as u from "./u64.js";
import type { U64 } from "./u64.js";

export interface Tnum {
  readonly value: U64;
  readonly mask: U64;
}

const make = (value: U64, mask: U64): Tnum => ({ value, mask });

export const tnumConst = (value: U64): Tnum => make(value, u.ZERO);
export const TNUM_UNKNOWN: Tnum = make(u.ZERO, u.U64_MAX);
export const TNUM_ZERO: Tnum = tnumConst(u.ZERO);

export const isConst = (a: Tnum): boolean => u.isZero(a.mask);
export const isUnknown = (a: Tnum): boolean => u.eq(a.mask, u.U64_MAX);
export const equalsConst = (a: Tnum, v: U64): boolean => isConst(a) && u.eq(a.value, v);
export const tnumEq = (a: Tnum, b: Tnum): boolean => u.eq(a.value, b.value) && u.eq(a.mask, b.mask);

/** The smallest tnum holding every value in [min, max] (unsigned). */
export function tnumRange(min: U64, max: U64): Tnum {
  const chi = u.xor(min, max);
  const bits = u.fls(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = u.sub(u.shl(u.ONE, bits), u.ONE);
  return make(u.andNot(min, delta), delta);
}

export const lshift = (a: Tnum, n: number): Tnum => make(u.shl(a.value, n), u.shl(a.mask, n));
export const rshift = (a: Tnum, n: number): Tnum => make(u.shr(a.value, n), u.shr(a.mask, n));

/** Arithmetic shift right by n within 32 or 64 bits. */
export function arshift(a: Tnum, n: number, bits: 32 | 64): Tnum {
  if (bits === 32) {
    return make(u.u64(0, (a.value.lo | 0) >> n), u.u64(0, (a.mask.lo | 0) >> n));
  }
  return make(u.sar(a.value, n), u.sar(a.mask, n));
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u.add(a.mask, b.mask);
  const sv = u.add(a.value, b.value);
  const sigma = u.add(sm, sv);
  const chi = u.xor(sigma, sv);
  const mu = u.or(chi, u.or(a.mask, b.mask));
  return make(u.andNot(sv, mu), mu);
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = u.sub(a.value, b.value);
  const alpha = u.add(dv, a.mask);
  const beta = u.sub(dv, b.mask);
  const chi = u.xor(alpha, beta);
  const mu = u.or(chi, u.or(a.mask, b.mask));
  return make(u.andNot(dv, mu), mu);
}

export const tnumNeg = (a: Tnum): Tnum => tnumSub(TNUM_ZERO, a);

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = u.or(a.value, a.mask);
  const beta = u.or(b.value, b.mask);
  const v = u.and(a.value, b.value);
  return make(v, u.andNot(u.and(alpha, beta), v));
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = u.or(a.value, b.value);
  const mu = u.or(a.mask, b.mask);
  return make(v, u.andNot(mu, v));
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = u.xor(a.value, b.value);
  const mu = u.or(a.mask, b.mask);
  return make(u.andNot(v, mu), mu);
}

/**
 * Long multiplication over the bits of a: a known 1 adds the shifted b, an unknown bit gives
 * either the accumulator or the accumulator plus b, so the union of both is kept.
 */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  let acc = TNUM_ZERO;
  let x = a;
  let y = b;
  while (!u.isZero(x.value) || !u.isZero(x.mask)) {
    if ((x.value.lo & 1) !== 0) acc = tnumAdd(acc, y);
    else if ((x.mask.lo & 1) !== 0) acc = tnumUnion(acc, tnumAdd(acc, y));
    x = rshift(x, 1);
    y = lshift(y, 1);
  }
  return acc;
}

/** Values in both a and b (their knowledge combined). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = u.or(a.value, b.value);
  const mu = u.and(a.mask, b.mask);
  return make(u.andNot(v, mu), mu);
}

/** Values in either a or b. */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const v = u.and(a.value, b.value);
  const mu = u.or(u.xor(a.value, b.value), u.or(a.mask, b.mask));
  return make(u.andNot(v, mu), mu);
}

/** Keep only the low `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  if (size >= 8) return a;
  const keep = u.sub(u.shl(u.ONE, size * 8), u.ONE);
  return make(u.and(a.value, keep), u.and(a.mask, keep));
}

export function isAligned(a: Tnum, size: number): boolean {
  if (size === 0) return true;
  return ((a.value.lo | a.mask.lo) & (size - 1)) === 0;
}

/** Whether every value of b is a value of a. */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if (!u.isZero(u.andNot(b.mask, a.mask))) return false;
  return u.eq(a.value, u.andNot(b.value, a.mask));
}

/** The low 32 bits. */
export const subreg = (a: Tnum): Tnum => tnumCast(a, 4);
/** The value with its low 32 bits cleared. */
export const clearSubreg = (a: Tnum): Tnum => lshift(rshift(a, 32), 32);
/** The high 32 bits of reg with the low 32 bits of sub. */
export const withSubreg = (reg: Tnum, sub: Tnum): Tnum => tnumOr(clearSubreg(reg), subreg(sub));
export const subregIsConst = (a: Tnum): boolean => a.mask.lo === 0;

/** The kernel's tnum_strn: a known value alone, else "(value; mask)". */
export function tnumString(a: Tnum): string {
  if (isConst(a)) return u.leU(a.value, u.u64(0, 0xffff)) ? u.decU(a.value) : u.hex(a.value);
  return `(${u.hex(a.value)}; ${u.hex(a.mask)})`;
}

/** Mask of the bits below bit `n` (0..64). */
const below = (n: number): U64 => (n >= 64 ? u.U64_MAX : u.sub(u.shl(u.ONE, n), u.ONE));

/** The smallest value of `t` that is >= x, or undefined when there is none. */
export function tnumNextGE(t: Tnum, x: U64): U64 | undefined {
  if (u.leU(x, t.value)) return t.value;
  // x's unknown bits with t's known bits; it differs from x only in known bits.
  const y = u.or(u.and(x, t.mask), t.value);
  const diff = u.xor(y, x);
  if (u.isZero(diff)) return x;
  const d = u.fls(diff) - 1;
  if (!u.isZero(u.and(y, u.shl(u.ONE, d)))) {
    // y is above x from bit d on: the smallest completion clears the unknown bits below d.
    return u.andNot(y, u.and(t.mask, below(d)));
  }
  // A known 0 where x has a 1: carry into the lowest unknown bit above d that x has clear.
  const candidates = u.andNot(u.andNot(t.mask, x), below(d + 1));
  if (u.isZero(candidates)) return undefined;
  const j = lowestBit(candidates);
  const bit = u.shl(u.ONE, j);
  return u.or(u.or(u.andNot(y, below(j + 1)), bit), u.and(t.value, below(j)));
}

/** The largest value of `t` that is <= x, or undefined when there is none. */
export function tnumPrevLE(t: Tnum, x: U64): U64 | undefined {
  // Complementing every bit turns "largest <= x" into "smallest >= ~x".
  const flipped: Tnum = { value: u.andNot(u.not(t.value), t.mask), mask: t.mask };
  const n = tnumNextGE(flipped, u.not(x));
  return n === undefined ? undefined : u.andNot(u.not(n), u.ZERO);
}

function lowestBit(a: U64): number {
  if (a.lo !== 0) return 31 - Math.clz32(a.lo & -a.lo);
  return 63 - Math.clz32(a.hi & -a.hi);
}
