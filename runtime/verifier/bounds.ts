// Scalar bounds: keeping a register's tnum and its six ranges (s64, u64, s32, u32 as min/max
// pairs) consistent with each other, the kernel's reg_bounds_sync() and its helpers. Every
// function here works on a RegState the caller owns (a fresh clone), never on a shared one.
import { RegState, RegType } from "./reg.js";
import * as tn from "./tnum.js";
import * as u from "./u64.js";
import type { U64 } from "./u64.js";

const S32_MIN = -0x80000000;
const S32_MAX = 0x7fffffff;
const U32_MAX = 0xffffffff;

/** Forget the 32-bit bounds. */
export function mark32Unbounded(reg: RegState): void {
  reg.s32min = S32_MIN;
  reg.s32max = S32_MAX;
  reg.u32min = 0;
  reg.u32max = U32_MAX;
}

/** Forget the 64-bit bounds. */
export function mark64Unbounded(reg: RegState): void {
  reg.smin = u.S64_MIN;
  reg.smax = u.S64_MAX;
  reg.umin = u.ZERO;
  reg.umax = u.U64_MAX;
}

export function markUnbounded(reg: RegState): void {
  mark64Unbounded(reg);
  mark32Unbounded(reg);
}

/** The register holds exactly `value` (its var_off and all bounds). */
export function markKnown(reg: RegState, value: U64): void {
  reg.varOff = tn.tnumConst(value);
  reg.smin = reg.smax = reg.umin = reg.umax = value;
  reg.s32min = reg.s32max = value.lo | 0;
  reg.u32min = reg.u32max = value.lo;
}

/** Only the low 32 bits are known to be `value`. */
export function mark32Known(reg: RegState, value: number): void {
  reg.varOff = tn.withSubreg(reg.varOff, tn.tnumConst(u.fromU32(value)));
  reg.s32min = reg.s32max = value | 0;
  reg.u32min = reg.u32max = value >>> 0;
}

/** A scalar about which nothing is known (__mark_reg_unknown). */
export function markUnknownScalar(reg: RegState): void {
  reg.type = RegType.SCALAR_VALUE;
  reg.off = 0;
  reg.id = 0;
  reg.refObjId = 0;
  reg.map = undefined;
  reg.memSize = 0;
  reg.frameno = 0;
  reg.btfName = "";
  reg.precise = false;
  reg.varOff = tn.TNUM_UNKNOWN;
  markUnbounded(reg);
}

export function unknownScalar(): RegState {
  const r = new RegState();
  markUnknownScalar(r);
  return r;
}

/** A scalar holding exactly `value`. */
export function knownScalar(value: U64): RegState {
  const r = new RegState();
  markUnknownScalar(r);
  markKnown(r, value);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Learning bounds from var_off, and var_off from bounds

function updateReg32Bounds(reg: RegState): void {
  const v = reg.varOff.value.lo;
  const m = reg.varOff.mask.lo;
  // min signed is max(sign bit) | min(other bits); max signed is min(sign bit) | max(other bits)
  reg.s32min = Math.max(reg.s32min, v | (m & 0x80000000) | 0);
  reg.s32max = Math.min(reg.s32max, v | (m & 0x7fffffff) | 0);
  reg.u32min = Math.max(reg.u32min, v);
  reg.u32max = Math.min(reg.u32max, (v | m) >>> 0);
}

function updateReg64Bounds(reg: RegState): void {
  const v = reg.varOff.value;
  const m = reg.varOff.mask;
  reg.smin = u.maxS(reg.smin, u.or(v, u.and(m, u.S64_MIN)));
  reg.smax = u.minS(reg.smax, u.or(v, u.and(m, u.S64_MAX)));
  reg.umin = u.maxU(reg.umin, v);
  reg.umax = u.minU(reg.umax, u.or(v, m));
}

export function updateRegBounds(reg: RegState): void {
  updateReg32Bounds(reg);
  updateReg64Bounds(reg);
}

/** Tighten the 32-bit ranges from each other and from the 64-bit ones. */
function reg32DeduceBounds(reg: RegState): void {
  // Upper halves of the u64 range equal: its low halves bound the subregister.
  if (reg.umin.hi === reg.umax.hi) {
    reg.u32min = Math.max(reg.u32min, reg.umin.lo);
    reg.u32max = Math.min(reg.u32max, reg.umax.lo);
    if ((reg.umin.lo | 0) <= (reg.umax.lo | 0)) {
      reg.s32min = Math.max(reg.s32min, reg.umin.lo | 0);
      reg.s32max = Math.min(reg.s32max, reg.umax.lo | 0);
    }
  }
  if (reg.smin.hi === reg.smax.hi) {
    if (reg.smin.lo <= reg.smax.lo) {
      reg.u32min = Math.max(reg.u32min, reg.smin.lo);
      reg.u32max = Math.min(reg.u32max, reg.smax.lo);
    }
    if ((reg.smin.lo | 0) <= (reg.smax.lo | 0)) {
      reg.s32min = Math.max(reg.s32min, reg.smin.lo | 0);
      reg.s32max = Math.min(reg.s32max, reg.smax.lo | 0);
    }
  }
  // Upper halves are two consecutive numbers and the low halves go from negative to positive:
  // the low halves still form an s32 range.
  if ((reg.umin.hi + 1) >>> 0 === reg.umax.hi && (reg.umin.lo | 0) < 0 && (reg.umax.lo | 0) >= 0) {
    reg.s32min = Math.max(reg.s32min, reg.umin.lo | 0);
    reg.s32max = Math.min(reg.s32max, reg.umax.lo | 0);
  }
  if ((reg.smin.hi + 1) >>> 0 === reg.smax.hi && (reg.smin.lo | 0) < 0 && (reg.smax.lo | 0) >= 0) {
    reg.s32min = Math.max(reg.s32min, reg.smin.lo | 0);
    reg.s32max = Math.min(reg.s32max, reg.smax.lo | 0);
  }
  // A u32 range that does not cross the sign bit is also an s32 range, and the other way round.
  if ((reg.u32min | 0) <= (reg.u32max | 0)) {
    reg.s32min = Math.max(reg.s32min, reg.u32min | 0);
    reg.s32max = Math.min(reg.s32max, reg.u32max | 0);
  }
  if (reg.s32min >>> 0 <= reg.s32max >>> 0) {
    reg.u32min = Math.max(reg.s32min >>> 0, reg.u32min);
    reg.u32max = Math.min(reg.s32max >>> 0, reg.u32max);
  } else if (reg.u32max < reg.s32min >>> 0) {
    // The s32 range crosses zero and the u32 range lies in its non-negative part.
    reg.s32min = reg.u32min | 0;
    reg.u32max = Math.min(reg.u32max, reg.s32max >>> 0);
  } else if (reg.s32max >>> 0 < reg.u32min) {
    // ... or in its negative part.
    reg.s32max = reg.u32max | 0;
    reg.u32min = Math.max(reg.u32min, reg.s32min >>> 0);
  }
}

/** Tighten the signed and unsigned 64-bit ranges from each other. */
function reg64DeduceBounds(reg: RegState): void {
  if (u.leS(reg.umin, reg.umax)) {
    reg.smin = u.maxS(reg.smin, reg.umin);
    reg.smax = u.minS(reg.smax, reg.umax);
  }
  if (u.leU(reg.smin, reg.smax)) {
    reg.umin = u.maxU(reg.smin, reg.umin);
    reg.umax = u.minU(reg.smax, reg.umax);
  } else if (u.ltU(reg.umax, reg.smin)) {
    // The s64 range crosses the sign boundary; the u64 range lies in its non-negative part.
    reg.smin = reg.umin;
    reg.umax = u.minU(reg.umax, reg.smax);
  } else if (u.ltU(reg.smax, reg.umin)) {
    // ... or in its negative part.
    reg.smax = reg.umax;
    reg.umin = u.maxU(reg.umin, reg.smin);
  }
}

const HIGH_HALF = u.u64(0xffffffff, 0);

/** Tighten the 64-bit ranges from the 32-bit ones. */
function regDeduceMixedBounds(reg: RegState): void {
  // Replacing the low half of a 64-bit bound by the u32 bound stays inside the range.
  const newUmin = u.or(u.and(reg.umin, HIGH_HALF), u.fromU32(reg.u32min));
  const newUmax = u.or(u.and(reg.umax, HIGH_HALF), u.fromU32(reg.u32max));
  reg.umin = u.maxU(reg.umin, newUmin);
  reg.umax = u.minU(reg.umax, newUmax);
  const newSmin = u.or(u.and(reg.smin, HIGH_HALF), u.fromU32(reg.u32min));
  const newSmax = u.or(u.and(reg.smax, HIGH_HALF), u.fromU32(reg.u32max));
  reg.smin = u.maxS(reg.smin, newSmin);
  reg.smax = u.minS(reg.smax, newSmax);
  // A value within the s32 range whose subregister is non-negative is that subregister.
  if (reg.s32min >= 0 && u.geS(reg.smin, u.S32_MIN) && u.leS(reg.smax, u.S32_MAX)) {
    reg.smin = u.fromS32(reg.s32min);
    reg.smax = u.fromS32(reg.s32max);
    reg.umin = reg.smin;
    reg.umax = reg.smax;
    reg.varOff = tn.tnumIntersect(reg.varOff, tn.tnumRange(reg.smin, reg.smax));
  }
}

function regDeduceBounds(reg: RegState): void {
  reg32DeduceBounds(reg);
  reg64DeduceBounds(reg);
  regDeduceMixedBounds(reg);
}

/** Learn known bits of var_off from the unsigned ranges. */
function regBoundOffset(reg: RegState): void {
  const var64 = tn.tnumIntersect(reg.varOff, tn.tnumRange(reg.umin, reg.umax));
  const var32 = tn.tnumIntersect(
    tn.subreg(var64),
    tn.tnumRange(u.fromU32(reg.u32min), u.fromU32(reg.u32max)),
  );
  reg.varOff = tn.tnumOr(tn.clearSubreg(var64), var32);
}

/** Make all bounds and var_off agree (reg_bounds_sync). */
export function regBoundsSync(reg: RegState): void {
  updateRegBounds(reg);
  regDeduceBounds(reg);
  regDeduceBounds(reg);
  regBoundOffset(reg);
  updateRegBounds(reg);
  singleMember(reg);
}

/** When exactly one value of var_off lies in [umin, umax], the register is that constant. */
function singleMember(reg: RegState): void {
  const t = reg.varOff;
  if (tn.isConst(t)) return;
  // With both bounds at var_off's extremes there are at least two members.
  if (u.leU(reg.umin, t.value) && u.leU(u.or(t.value, t.mask), reg.umax)) return;
  const first = tn.tnumNextGE(t, reg.umin);
  if (first === undefined || u.ltU(reg.umax, first)) return;
  const last = tn.tnumPrevLE(t, reg.umax);
  if (last !== undefined && u.eq(first, last)) markKnown(reg, first);
}

/** Whether the bounds describe at least one value (false on a path that cannot happen). */
export function boundsValid(reg: RegState): boolean {
  if (u.ltU(reg.umax, reg.umin) || u.ltS(reg.smax, reg.smin)) return false;
  if (reg.u32max < reg.u32min || reg.s32max < reg.s32min) return false;
  if (tn.isConst(reg.varOff)) {
    const v = reg.varOff.value;
    if (!u.eq(reg.umin, v) || !u.eq(reg.umax, v) || !u.eq(reg.smin, v) || !u.eq(reg.smax, v)) {
      return false;
    }
  }
  // Some value of var_off must lie in [umin, umax].
  const first = tn.tnumNextGE(reg.varOff, reg.umin);
  if (first === undefined || u.ltU(reg.umax, first)) return false;
  if (tn.subregIsConst(reg.varOff)) {
    const v = reg.varOff.value.lo;
    if (reg.u32min !== v || reg.u32max !== v || reg.s32min !== (v | 0) || reg.s32max !== (v | 0)) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// 32-bit results and narrow loads

/** The 64-bit bounds after a 32-bit operation that zero-extends (__reg_assign_32_into_64). */
export function assign32Into64(reg: RegState): void {
  reg.umin = u.fromU32(reg.u32min);
  reg.umax = u.fromU32(reg.u32max);
  // Signed 32-bit bounds carry over only when non-negative; the rest comes from the tnum later.
  reg.smax = reg.s32min >= 0 && reg.s32max >= 0 ? u.fromS32(reg.s32max) : u.U32_MAX;
  reg.smin = reg.s32min >= 0 ? u.fromS32(reg.s32min) : u.ZERO;
}

/** A 32-bit ALU result: the upper half becomes zero (zext_32_to_64). */
export function zext32To64(reg: RegState): void {
  reg.varOff = tn.subreg(reg.varOff);
  assign32Into64(reg);
}

/** Keep the low `size` bytes, zero-extended (a narrow load, coerce_reg_to_size). */
export function coerceToSize(reg: RegState, size: number): void {
  reg.varOff = tn.tnumCast(reg.varOff, size);
  const mask = u.sub(u.shl(u.ONE, size * 8), u.ONE);
  if (u.eq(u.andNot(reg.umin, mask), u.andNot(reg.umax, mask))) {
    reg.umin = u.and(reg.umin, mask);
    reg.umax = u.and(reg.umax, mask);
  } else {
    reg.umin = u.ZERO;
    reg.umax = mask;
  }
  reg.smin = reg.umin;
  reg.smax = reg.umax;
  // Below 32 bits the subregister bounds were truncated too; take them from the 64-bit ones.
  if (size < 4) mark32Unbounded(reg);
  regBoundsSync(reg);
}

const SIGNED_LIMITS: Record<number, [number, number]> = {
  1: [-0x80, 0x7f],
  2: [-0x8000, 0x7fff],
  4: [S32_MIN, S32_MAX],
};

/** Sign-extend the low value to 64 bits as `size` bytes (ldsx, movsx). */
function signExtend(v: U64, size: number): U64 {
  const bits = size * 8;
  const low = bits === 32 ? v.lo | 0 : (v.lo << (32 - bits)) >> (32 - bits);
  return u.fromS32(low);
}

/** Keep the low `size` bytes, sign-extended (coerce_reg_to_size_sx). */
export function coerceToSizeSx(reg: RegState, size: number): void {
  if (tn.isConst(reg.varOff)) {
    markKnown(reg, signExtend(reg.varOff.value, size));
    return;
  }
  const bits = size * 8;
  const topMax = u.shl(u.shr(reg.smax, bits), bits);
  const topMin = u.shl(u.shr(reg.smin, bits), bits);
  if (u.eq(topMax, topMin)) {
    const a = signExtend(reg.smax, size);
    const b = signExtend(reg.smin, size);
    const hi = u.maxS(a, b);
    const lo = u.minS(a, b);
    // Both ends on the same side of zero: the extension keeps the range.
    if (u.isNeg(hi) === u.isNeg(lo)) {
      reg.smin = lo;
      reg.smax = hi;
      reg.s32min = lo.lo | 0;
      reg.s32max = hi.lo | 0;
      reg.umin = lo;
      reg.umax = hi;
      reg.u32min = lo.lo;
      reg.u32max = hi.lo;
      reg.varOff = tn.tnumRange(lo, hi);
      return;
    }
  }
  const [min, max] = SIGNED_LIMITS[size]!;
  reg.smin = u.fromS32(min);
  reg.smax = u.fromS32(max);
  reg.s32min = min;
  reg.s32max = max;
  reg.umin = u.ZERO;
  reg.umax = u.U64_MAX;
  reg.u32min = 0;
  reg.u32max = U32_MAX;
  reg.varOff = tn.TNUM_UNKNOWN;
}

// ---------------------------------------------------------------------------------------------
// Comparisons used by state pruning

/** Every value cur may hold, old may hold too (range_within). */
export function rangeWithin(old: RegState, cur: RegState): boolean {
  return (
    u.leU(old.umin, cur.umin) &&
    u.leU(cur.umax, old.umax) &&
    u.leS(old.smin, cur.smin) &&
    u.leS(cur.smax, old.smax) &&
    old.u32min <= cur.u32min &&
    cur.u32max <= old.u32max &&
    old.s32min <= cur.s32min &&
    cur.s32max <= old.s32max
  );
}

/** Identical scalar knowledge (bounds and tnum). */
export function sameBounds(a: RegState, b: RegState): boolean {
  return (
    tn.tnumEq(a.varOff, b.varOff) &&
    u.eq(a.smin, b.smin) &&
    u.eq(a.smax, b.smax) &&
    u.eq(a.umin, b.umin) &&
    u.eq(a.umax, b.umax) &&
    a.s32min === b.s32min &&
    a.s32max === b.s32max &&
    a.u32min === b.u32min &&
    a.u32max === b.u32max
  );
}

/** The value is one known constant (tnum known and all 64-bit bounds agree). */
export const isRegConst = (reg: RegState, is32: boolean): boolean =>
  is32 ? tn.subregIsConst(reg.varOff) : tn.isConst(reg.varOff);

/** The constant of a register for which isRegConst holds. */
export const regConstValue = (reg: RegState, is32: boolean): U64 =>
  is32 ? u.fromU32(reg.varOff.value.lo) : reg.varOff.value;

/** The scalar is the constant 0. */
export const isKnownZero = (reg: RegState): boolean =>
  reg.type === RegType.SCALAR_VALUE && tn.equalsConst(reg.varOff, u.ZERO);
