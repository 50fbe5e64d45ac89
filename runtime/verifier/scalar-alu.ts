// ALU operations on two scalars: the result's tnum and ranges (adjust_scalar_min_max_vals and
// the scalar{32,}_min_max_* functions). 32-bit operations compute the 32-bit ranges and then
// zero-extend; 64-bit ones compute both widths. Operations whose range cannot be computed
// (division, modulo, byte swaps, shifts by an unknown or too large amount) give an unknown scalar.
import * as op from "../isa/opcodes.js";
import {
  coerceToSize,
  mark32Known,
  mark32Unbounded,
  mark64Unbounded,
  markKnown,
  markUnknownScalar,
  regBoundsSync,
  updateRegBounds,
  zext32To64,
} from "./bounds.js";
import type { RegState } from "./reg.js";
import * as tn from "./tnum.js";
import * as u from "./u64.js";

const S32_MIN = -0x80000000;
const S32_MAX = 0x7fffffff;
const U32_MAX = 0xffffffff;

const isS32 = (n: number): boolean => n >= S32_MIN && n <= S32_MAX;

/** Whether the source is one known value of the operation's width. */
function srcIsConst(src: RegState, alu32: boolean): boolean {
  if (alu32) {
    return tn.subregIsConst(src.varOff) && src.s32min === src.s32max && src.u32min === src.u32max;
  }
  return tn.isConst(src.varOff) && u.eq(src.smin, src.smax) && u.eq(src.umin, src.umax);
}

function safeToCompute(opcode: number, src: RegState, alu32: boolean): boolean {
  switch (opcode) {
    case op.BPF_ADD:
    case op.BPF_SUB:
    case op.BPF_NEG:
    case op.BPF_AND:
    case op.BPF_XOR:
    case op.BPF_OR:
    case op.BPF_MUL:
      return true;
    case op.BPF_LSH:
    case op.BPF_RSH:
    case op.BPF_ARSH:
      // Shift ranges are computable only for a known amount inside the width.
      return srcIsConst(src, alu32) && u.ltU(src.umax, u.fromU32(alu32 ? 32 : 64));
    default:
      return false;
  }
}

// ---- add / sub ----

function scalar32Add(dst: RegState, src: RegState): void {
  const smin = dst.s32min + src.s32min;
  const smax = dst.s32max + src.s32max;
  if (!isS32(smin) || !isS32(smax)) {
    dst.s32min = S32_MIN;
    dst.s32max = S32_MAX;
  } else {
    dst.s32min = smin;
    dst.s32max = smax;
  }
  // All additions overflow or none do: the sums stay ordered; some do: nothing is known.
  const umin = dst.u32min + src.u32min;
  const umax = dst.u32max + src.u32max;
  const minOverflow = umin > U32_MAX;
  const maxOverflow = umax > U32_MAX;
  if (!minOverflow && maxOverflow) {
    dst.u32min = 0;
    dst.u32max = U32_MAX;
  } else {
    dst.u32min = umin >>> 0;
    dst.u32max = umax >>> 0;
  }
}

function scalar64Add(dst: RegState, src: RegState): void {
  if (u.addOverflowsS(dst.smin, src.smin) || u.addOverflowsS(dst.smax, src.smax)) {
    dst.smin = u.S64_MIN;
    dst.smax = u.S64_MAX;
  } else {
    dst.smin = u.add(dst.smin, src.smin);
    dst.smax = u.add(dst.smax, src.smax);
  }
  const minOverflow = u.addOverflowsU(dst.umin, src.umin);
  const maxOverflow = u.addOverflowsU(dst.umax, src.umax);
  if (!minOverflow && maxOverflow) {
    dst.umin = u.ZERO;
    dst.umax = u.U64_MAX;
  } else {
    dst.umin = u.add(dst.umin, src.umin);
    dst.umax = u.add(dst.umax, src.umax);
  }
}

function scalar32Sub(dst: RegState, src: RegState): void {
  const smin = dst.s32min - src.s32max;
  const smax = dst.s32max - src.s32min;
  if (!isS32(smin) || !isS32(smax)) {
    dst.s32min = S32_MIN;
    dst.s32max = S32_MAX;
  } else {
    dst.s32min = smin;
    dst.s32max = smax;
  }
  const umin = dst.u32min - src.u32max;
  const umax = dst.u32max - src.u32min;
  const minUnderflow = umin < 0;
  const maxUnderflow = umax < 0;
  if (minUnderflow && !maxUnderflow) {
    dst.u32min = 0;
    dst.u32max = U32_MAX;
  } else {
    dst.u32min = umin >>> 0;
    dst.u32max = umax >>> 0;
  }
}

function scalar64Sub(dst: RegState, src: RegState): void {
  if (u.subOverflowsS(dst.smin, src.smax) || u.subOverflowsS(dst.smax, src.smin)) {
    dst.smin = u.S64_MIN;
    dst.smax = u.S64_MAX;
  } else {
    const smin = u.sub(dst.smin, src.smax);
    dst.smax = u.sub(dst.smax, src.smin);
    dst.smin = smin;
  }
  const minUnderflow = u.subOverflowsU(dst.umin, src.umax);
  const maxUnderflow = u.subOverflowsU(dst.umax, src.umin);
  if (minUnderflow && !maxUnderflow) {
    dst.umin = u.ZERO;
    dst.umax = u.U64_MAX;
  } else {
    const umin = u.sub(dst.umin, src.umax);
    dst.umax = u.sub(dst.umax, src.umin);
    dst.umin = umin;
  }
}

// ---- mul ----

function scalar32Mul(dst: RegState, src: RegState): void {
  // Doubles may round products above 2^53, but never below 2^32: the overflow test is exact.
  const umax = dst.u32max * src.u32max;
  const umin = dst.u32min * src.u32min;
  if (umax > U32_MAX || umin > U32_MAX) {
    dst.u32min = 0;
    dst.u32max = U32_MAX;
  } else {
    dst.u32min = umin;
    dst.u32max = umax;
  }
  const products = [
    dst.s32min * src.s32min,
    dst.s32min * src.s32max,
    dst.s32max * src.s32min,
    dst.s32max * src.s32max,
  ];
  if (products.some((p) => !isS32(p))) {
    dst.s32min = S32_MIN;
    dst.s32max = S32_MAX;
  } else {
    dst.s32min = Math.min(...products);
    dst.s32max = Math.max(...products);
  }
}

function scalar64Mul(dst: RegState, src: RegState): void {
  if (u.mulOverflowsU(dst.umax, src.umax) || u.mulOverflowsU(dst.umin, src.umin)) {
    dst.umin = u.ZERO;
    dst.umax = u.U64_MAX;
  } else {
    dst.umin = u.mul(dst.umin, src.umin);
    dst.umax = u.mul(dst.umax, src.umax);
  }
  const pairs: [u.U64, u.U64][] = [
    [dst.smin, src.smin],
    [dst.smin, src.smax],
    [dst.smax, src.smin],
    [dst.smax, src.smax],
  ];
  if (pairs.some(([a, b]) => u.mulOverflowsS(a, b))) {
    dst.smin = u.S64_MIN;
    dst.smax = u.S64_MAX;
  } else {
    const products = pairs.map(([a, b]) => u.mul(a, b));
    dst.smin = products.reduce(u.minS);
    dst.smax = products.reduce(u.maxS);
  }
}

// ---- bitwise ----

/** Signed bounds from unsigned ones when those do not cross the sign bit, else unbounded. */
function signed32FromUnsigned(dst: RegState): void {
  if ((dst.u32min | 0) <= (dst.u32max | 0)) {
    dst.s32min = dst.u32min | 0;
    dst.s32max = dst.u32max | 0;
  } else {
    dst.s32min = S32_MIN;
    dst.s32max = S32_MAX;
  }
}

function signed64FromUnsigned(dst: RegState): void {
  if (u.leS(dst.umin, dst.umax)) {
    dst.smin = dst.umin;
    dst.smax = dst.umax;
  } else {
    dst.smin = u.S64_MIN;
    dst.smax = u.S64_MAX;
  }
}

// The bitwise functions run after var_off was combined: dst.varOff is already the result's.

function scalar32And(dst: RegState, src: RegState): void {
  const v32 = tn.subreg(dst.varOff);
  if (tn.subregIsConst(src.varOff) && tn.subregIsConst(dst.varOff)) {
    mark32Known(dst, v32.value.lo);
    return;
  }
  // The minimum comes from var_off; the maximum is the smaller of the maxima.
  dst.u32min = v32.value.lo;
  dst.u32max = Math.min(dst.u32max, src.u32max);
  signed32FromUnsigned(dst);
}

function scalar64And(dst: RegState, src: RegState): void {
  if (tn.isConst(src.varOff) && tn.isConst(dst.varOff)) {
    markKnown(dst, dst.varOff.value);
    return;
  }
  dst.umin = dst.varOff.value;
  dst.umax = u.minU(dst.umax, src.umax);
  signed64FromUnsigned(dst);
  updateRegBounds(dst);
}

function scalar32Or(dst: RegState, src: RegState): void {
  const v32 = tn.subreg(dst.varOff);
  if (tn.subregIsConst(src.varOff) && tn.subregIsConst(dst.varOff)) {
    mark32Known(dst, v32.value.lo);
    return;
  }
  // The maximum comes from var_off; the minimum is the larger of the minima.
  dst.u32min = Math.max(dst.u32min, src.u32min);
  dst.u32max = (v32.value.lo | v32.mask.lo) >>> 0;
  signed32FromUnsigned(dst);
}

function scalar64Or(dst: RegState, src: RegState): void {
  if (tn.isConst(src.varOff) && tn.isConst(dst.varOff)) {
    markKnown(dst, dst.varOff.value);
    return;
  }
  dst.umin = u.maxU(dst.umin, src.umin);
  dst.umax = u.or(dst.varOff.value, dst.varOff.mask);
  signed64FromUnsigned(dst);
  updateRegBounds(dst);
}

function scalar32Xor(dst: RegState, src: RegState): void {
  const v32 = tn.subreg(dst.varOff);
  if (tn.subregIsConst(src.varOff) && tn.subregIsConst(dst.varOff)) {
    mark32Known(dst, v32.value.lo);
    return;
  }
  dst.u32min = v32.value.lo;
  dst.u32max = (v32.value.lo | v32.mask.lo) >>> 0;
  signed32FromUnsigned(dst);
}

function scalar64Xor(dst: RegState, src: RegState): void {
  if (tn.isConst(src.varOff) && tn.isConst(dst.varOff)) {
    markKnown(dst, dst.varOff.value);
    return;
  }
  dst.umin = dst.varOff.value;
  dst.umax = u.or(dst.varOff.value, dst.varOff.mask);
  signed64FromUnsigned(dst);
  updateRegBounds(dst);
}

// ---- shifts (amount known, inside the width) ----

function scalar32LshBounds(dst: RegState, umin: number, umax: number): void {
  // Sign information is lost (except what var_off keeps).
  dst.s32min = S32_MIN;
  dst.s32max = S32_MAX;
  if (umax > 31 || dst.u32max > 2 ** (31 - umax)) {
    dst.u32min = 0;
    dst.u32max = U32_MAX;
  } else {
    dst.u32min = (dst.u32min * 2 ** umin) >>> 0;
    dst.u32max = (dst.u32max * 2 ** umax) >>> 0;
  }
}

function scalar32Lsh(dst: RegState, src: RegState): void {
  const sub = tn.subreg(dst.varOff);
  scalar32LshBounds(dst, src.u32min, src.u32max);
  dst.varOff = tn.subreg(tn.lshift(sub, src.u32min));
  mark64Unbounded(dst);
  updateRegBounds(dst);
}

function scalar64Lsh(dst: RegState, src: RegState): void {
  const umin = src.umin.lo;
  const umax = src.umax.lo;
  // `<< 32` then `s>> 32` is the compiler's sign extension of a subregister: keep its range.
  if (umin === 32 && umax === 32) {
    dst.smax = u.shl(u.fromS32(dst.s32max), 32);
    dst.smin = u.shl(u.fromS32(dst.s32min), 32);
  } else {
    dst.smax = u.S64_MAX;
    dst.smin = u.S64_MIN;
  }
  if (u.ltU(u.shl(u.ONE, 63 - umax), dst.umax)) {
    dst.umin = u.ZERO;
    dst.umax = u.U64_MAX;
  } else {
    dst.umin = u.shl(dst.umin, umin);
    dst.umax = u.shl(dst.umax, umax);
  }
  scalar32LshBounds(dst, umin, umax);
  dst.varOff = tn.lshift(dst.varOff, umin);
  updateRegBounds(dst);
}

function scalar32Rsh(dst: RegState, src: RegState): void {
  const sub = tn.subreg(dst.varOff);
  // An unsigned shift of a possibly negative value tells nothing about its sign.
  dst.s32min = S32_MIN;
  dst.s32max = S32_MAX;
  dst.varOff = tn.rshift(sub, src.u32min);
  dst.u32min = dst.u32min >>> src.u32max;
  dst.u32max = dst.u32max >>> src.u32min;
  mark64Unbounded(dst);
  updateRegBounds(dst);
}

function scalar64Rsh(dst: RegState, src: RegState): void {
  const umin = src.umin.lo;
  const umax = src.umax.lo;
  dst.smin = u.S64_MIN;
  dst.smax = u.S64_MAX;
  dst.varOff = tn.rshift(dst.varOff, umin);
  dst.umin = u.shr(dst.umin, umax);
  dst.umax = u.shr(dst.umax, umin);
  // The subregister depends on the bits shifted in: recompute it from var_off.
  mark32Unbounded(dst);
  updateRegBounds(dst);
}

function scalar32Arsh(dst: RegState, src: RegState): void {
  const n = src.u32min;
  dst.s32min = dst.s32min >> n;
  dst.s32max = dst.s32max >> n;
  dst.varOff = tn.arshift(tn.subreg(dst.varOff), n, 32);
  dst.u32min = 0;
  dst.u32max = U32_MAX;
  mark64Unbounded(dst);
  updateRegBounds(dst);
}

function scalar64Arsh(dst: RegState, src: RegState): void {
  const n = src.umin.lo;
  dst.smin = u.sar(dst.smin, n);
  dst.smax = u.sar(dst.smax, n);
  dst.varOff = tn.arshift(dst.varOff, n, 64);
  dst.umin = u.ZERO;
  dst.umax = u.U64_MAX;
  mark32Unbounded(dst);
  updateRegBounds(dst);
}

/** The result of an operation on two constants (of the operation's width), else undefined. */
function constFold(
  dst: RegState,
  src: RegState,
  opcode: number,
  alu32: boolean,
): u.U64 | undefined {
  if (alu32) {
    if (!tn.subregIsConst(dst.varOff) || !tn.subregIsConst(src.varOff)) return undefined;
    const a = dst.varOff.value.lo;
    const b = src.varOff.value.lo;
    let r: number;
    switch (opcode) {
      case op.BPF_ADD:
        r = a + b;
        break;
      case op.BPF_SUB:
        r = a - b;
        break;
      case op.BPF_MUL:
        r = Math.imul(a, b);
        break;
      case op.BPF_AND:
        r = a & b;
        break;
      case op.BPF_OR:
        r = a | b;
        break;
      case op.BPF_XOR:
        r = a ^ b;
        break;
      case op.BPF_LSH:
        r = a << b;
        break;
      case op.BPF_RSH:
        r = a >>> b;
        break;
      case op.BPF_ARSH:
        r = (a | 0) >> b;
        break;
      case op.BPF_NEG:
        r = -a;
        break;
      default:
        return undefined;
    }
    return u.fromU32(r >>> 0);
  }
  if (!tn.isConst(dst.varOff) || !tn.isConst(src.varOff)) return undefined;
  const a = dst.varOff.value;
  const b = src.varOff.value;
  switch (opcode) {
    case op.BPF_ADD:
      return u.add(a, b);
    case op.BPF_SUB:
      return u.sub(a, b);
    case op.BPF_MUL:
      return u.mul(a, b);
    case op.BPF_AND:
      return u.and(a, b);
    case op.BPF_OR:
      return u.or(a, b);
    case op.BPF_XOR:
      return u.xor(a, b);
    case op.BPF_LSH:
      return u.shl(a, b.lo);
    case op.BPF_RSH:
      return u.shr(a, b.lo);
    case op.BPF_ARSH:
      return u.sar(a, b.lo);
    case op.BPF_NEG:
      return u.neg(a);
    default:
      return undefined;
  }
}

/**
 * dst = dst <op> src on scalars, in place. `dst` must be the caller's own clone; `src` is read
 * only. For 32-bit operations the result is zero-extended. Returns nothing: an operation the
 * verifier cannot bound leaves an unknown scalar.
 */
export function adjustScalar(dst: RegState, src: RegState, opcode: number, alu32: boolean): void {
  if (!safeToCompute(opcode, src, alu32)) {
    // As the kernel: even a 32-bit result is then unknown in all 64 bits.
    markUnknownScalar(dst);
    return;
  }
  // Two known values give a known value: the general path would reach the same constant.
  const folded = constFold(dst, src, opcode, alu32);
  if (folded) {
    markKnown(dst, folded);
    return;
  }
  switch (opcode) {
    case op.BPF_ADD:
      scalar32Add(dst, src);
      scalar64Add(dst, src);
      dst.varOff = tn.tnumAdd(dst.varOff, src.varOff);
      break;
    case op.BPF_SUB:
      scalar32Sub(dst, src);
      scalar64Sub(dst, src);
      dst.varOff = tn.tnumSub(dst.varOff, src.varOff);
      break;
    case op.BPF_NEG: {
      // -x is 0 - x
      const operand = dst.clone();
      markKnown(dst, u.ZERO);
      scalar32Sub(dst, operand);
      scalar64Sub(dst, operand);
      dst.varOff = tn.tnumNeg(operand.varOff);
      break;
    }
    case op.BPF_MUL:
      dst.varOff = tn.tnumMul(dst.varOff, src.varOff);
      scalar32Mul(dst, src);
      scalar64Mul(dst, src);
      break;
    case op.BPF_AND:
      dst.varOff = tn.tnumAnd(dst.varOff, src.varOff);
      scalar32And(dst, src);
      scalar64And(dst, src);
      break;
    case op.BPF_OR:
      dst.varOff = tn.tnumOr(dst.varOff, src.varOff);
      scalar32Or(dst, src);
      scalar64Or(dst, src);
      break;
    case op.BPF_XOR:
      dst.varOff = tn.tnumXor(dst.varOff, src.varOff);
      scalar32Xor(dst, src);
      scalar64Xor(dst, src);
      break;
    case op.BPF_LSH:
      if (alu32) scalar32Lsh(dst, src);
      else scalar64Lsh(dst, src);
      break;
    case op.BPF_RSH:
      if (alu32) scalar32Rsh(dst, src);
      else scalar64Rsh(dst, src);
      break;
    case op.BPF_ARSH:
      if (alu32) scalar32Arsh(dst, src);
      else scalar64Arsh(dst, src);
      break;
  }
  if (alu32) zext32To64(dst);
  regBoundsSync(dst);
}

/** The bytes of the low `width` bits in reverse order. */
function swapBytes(v: u.U64, width: number): u.U64 {
  let out = u.ZERO;
  for (let i = 0; i < width / 8; i++) {
    const byte = u.and(u.shr(v, i * 8), u.u64(0, 0xff));
    out = u.or(out, u.shl(byte, width - 8 - i * 8));
  }
  return out;
}

/**
 * Byte swaps and truncations (BPF_END): le16/le32 truncate on this little-endian machine,
 * be16/be32/be64 and bswap16/32/64 reverse the bytes of the low width bits. Known bits move with
 * their bytes; the ranges are then recomputed from the tnum.
 */
export function adjustEndian(dst: RegState, width: number, swap: boolean): void {
  if (!swap) {
    // A truncation keeps what is known of the remaining bits.
    if (width === 64) return;
    if (width === 32) {
      zext32To64(dst);
      regBoundsSync(dst);
    } else {
      coerceToSize(dst, 2);
    }
    return;
  }
  const cast = tn.tnumCast(dst.varOff, width / 8);
  dst.varOff = swap
    ? { value: swapBytes(cast.value, width), mask: swapBytes(cast.mask, width) }
    : cast;
  mark32Unbounded(dst);
  mark64Unbounded(dst);
  regBoundsSync(dst);
}

/**
 * `x & c` / `x | c` with x known to be -1 or 0 (a compiler's mask idiom): the kernel verifies
 * the two values as separate states, so both results stay exact. Returns the width (64 or 32)
 * whose range is [-1, 0], or 0 when the operation is not split.
 */
export function splitMaskWidth(
  dst: RegState,
  src: RegState,
  opcode: number,
  alu32: boolean,
): number {
  if (opcode !== op.BPF_AND && opcode !== op.BPF_OR) return 0;
  if (!dst.isScalar || !srcIsConst(src, alu32)) return 0;
  if (u.eq(dst.smin, u.U64_MAX) && u.isZero(dst.smax)) return 64;
  if (dst.s32min === -1 && dst.s32max === 0) return 32;
  return 0;
}

/** One side of the split: dst holds `value` (0 or -1) in the split width. */
export function setSplitValue(dst: RegState, width: number, value: 0 | -1): void {
  if (width === 64) markKnown(dst, value === 0 ? u.ZERO : u.U64_MAX);
  else mark32Known(dst, value);
}
