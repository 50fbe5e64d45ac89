// Conditional jumps on scalars: deciding a branch from the bounds (is_branch_taken) and
// narrowing both operands on each side of it (reg_set_min_max / regs_refine_cond_op).
import * as op from "../isa/opcodes.js";
import { isRegConst, markUnbounded, regBoundsSync, regConstValue } from "./bounds.js";
import type { RegState } from "./reg.js";
import * as tn from "./tnum.js";
import * as u from "./u64.js";
import type { U64 } from "./u64.js";

/** The opcode of the other side of the branch; JSET's negation has its own code. */
export const JSET_NOT = op.BPF_JSET | op.BPF_X;

export function revOpcode(opcode: number): number {
  switch (opcode) {
    case op.BPF_JEQ:
      return op.BPF_JNE;
    case op.BPF_JNE:
      return op.BPF_JEQ;
    case op.BPF_JSET:
      return JSET_NOT;
    case JSET_NOT:
      return op.BPF_JSET;
    case op.BPF_JGT:
      return op.BPF_JLE;
    case op.BPF_JLE:
      return op.BPF_JGT;
    case op.BPF_JGE:
      return op.BPF_JLT;
    case op.BPF_JLT:
      return op.BPF_JGE;
    case op.BPF_JSGT:
      return op.BPF_JSLE;
    case op.BPF_JSLE:
      return op.BPF_JSGT;
    case op.BPF_JSGE:
      return op.BPF_JSLT;
    case op.BPF_JSLT:
      return op.BPF_JSGE;
    default:
      return opcode;
  }
}

/** The opcode with its operands swapped (a < b is b > a). */
export function flipOpcode(opcode: number): number {
  switch (opcode) {
    case op.BPF_JGT:
      return op.BPF_JLT;
    case op.BPF_JLT:
      return op.BPF_JGT;
    case op.BPF_JGE:
      return op.BPF_JLE;
    case op.BPF_JLE:
      return op.BPF_JGE;
    case op.BPF_JSGT:
      return op.BPF_JSLT;
    case op.BPF_JSLT:
      return op.BPF_JSGT;
    case op.BPF_JSGE:
      return op.BPF_JSLE;
    case op.BPF_JSLE:
      return op.BPF_JSGE;
    default:
      return opcode;
  }
}

interface Ranges {
  t: tn.Tnum;
  umin: U64;
  umax: U64;
  smin: U64;
  smax: U64;
}

/** The ranges a jump of this width compares (the subregister's, widened, for JMP32). */
function rangesOf(r: RegState, is32: boolean): Ranges {
  if (!is32) return { t: r.varOff, umin: r.umin, umax: r.umax, smin: r.smin, smax: r.smax };
  return {
    t: tn.subreg(r.varOff),
    umin: u.fromU32(r.u32min),
    umax: u.fromU32(r.u32max),
    smin: u.fromS32(r.s32min),
    smax: u.fromS32(r.s32max),
  };
}

/**
 * Whether `r1 <opcode> r2` is always true (1), always false (0) or unknown (-1), for two
 * scalars (r2 may be a constant made from the immediate).
 */
export function isScalarBranchTaken(
  reg1: RegState,
  reg2: RegState,
  opcode: number,
  is32: boolean,
): number {
  if (!is32 && tn.isConst(reg1.varOff) && tn.isConst(reg2.varOff)) {
    return constBranch(reg1.varOff.value, reg2.varOff.value, opcode);
  }
  const a = rangesOf(reg1, is32);
  const b = rangesOf(reg2, is32);
  switch (opcode) {
    case op.BPF_JEQ:
    case op.BPF_JNE: {
      const eqResult = opcode === op.BPF_JEQ ? 1 : 0;
      if (tn.isConst(a.t) && tn.isConst(b.t))
        return u.eq(a.t.value, b.t.value) ? eqResult : 1 - eqResult;
      // Disjoint ranges, or a known bit that differs: never equal.
      if (u.gtU(a.umin, b.umax) || u.ltU(a.umax, b.umin)) return 1 - eqResult;
      if (u.gtS(a.smin, b.smax) || u.ltS(a.smax, b.smin)) return 1 - eqResult;
      if (!is32) {
        if (reg1.u32min > reg2.u32max || reg1.u32max < reg2.u32min) return 1 - eqResult;
        if (reg1.s32min > reg2.s32max || reg1.s32max < reg2.s32min) return 1 - eqResult;
      }
      const known = u.not(u.or(a.t.mask, b.t.mask));
      if (!u.isZero(u.and(u.xor(a.t.value, b.t.value), known))) return 1 - eqResult;
      return -1;
    }
    case op.BPF_JSET: {
      let x = a;
      let y = b;
      if (!isRegConst(reg2, is32)) {
        x = b;
        y = a;
        if (!isRegConst(reg1, is32)) return -1;
      }
      if (!u.isZero(u.and(u.andNot(x.t.value, x.t.mask), y.t.value))) return 1;
      if (u.isZero(u.and(u.or(x.t.mask, x.t.value), y.t.value))) return 0;
      return -1;
    }
    case op.BPF_JGT:
      if (u.gtU(a.umin, b.umax)) return 1;
      if (u.leU(a.umax, b.umin)) return 0;
      return -1;
    case op.BPF_JSGT:
      if (u.gtS(a.smin, b.smax)) return 1;
      if (u.leS(a.smax, b.smin)) return 0;
      return -1;
    case op.BPF_JLT:
      if (u.ltU(a.umax, b.umin)) return 1;
      if (u.geU(a.umin, b.umax)) return 0;
      return -1;
    case op.BPF_JSLT:
      if (u.ltS(a.smax, b.smin)) return 1;
      if (u.geS(a.smin, b.smax)) return 0;
      return -1;
    case op.BPF_JGE:
      if (u.geU(a.umin, b.umax)) return 1;
      if (u.ltU(a.umax, b.umin)) return 0;
      return -1;
    case op.BPF_JSGE:
      if (u.geS(a.smin, b.smax)) return 1;
      if (u.ltS(a.smax, b.smin)) return 0;
      return -1;
    case op.BPF_JLE:
      if (u.leU(a.umax, b.umin)) return 1;
      if (u.gtU(a.umin, b.umax)) return 0;
      return -1;
    case op.BPF_JSLE:
      if (u.leS(a.smax, b.smin)) return 1;
      if (u.gtS(a.smin, b.smax)) return 0;
      return -1;
  }
  return -1;
}

/** The outcome of a 64-bit comparison of two constants. */
function constBranch(a: U64, b: U64, opcode: number): number {
  switch (opcode) {
    case op.BPF_JEQ:
      return u.eq(a, b) ? 1 : 0;
    case op.BPF_JNE:
      return u.eq(a, b) ? 0 : 1;
    case op.BPF_JSET:
      return u.isZero(u.and(a, b)) ? 0 : 1;
    case op.BPF_JGT:
      return u.gtU(a, b) ? 1 : 0;
    case op.BPF_JGE:
      return u.geU(a, b) ? 1 : 0;
    case op.BPF_JLT:
      return u.ltU(a, b) ? 1 : 0;
    case op.BPF_JLE:
      return u.leU(a, b) ? 1 : 0;
    case op.BPF_JSGT:
      return u.gtS(a, b) ? 1 : 0;
    case op.BPF_JSGE:
      return u.geS(a, b) ? 1 : 0;
    case op.BPF_JSLT:
      return u.ltS(a, b) ? 1 : 0;
    case op.BPF_JSLE:
      return u.leS(a, b) ? 1 : 0;
    default:
      return -1;
  }
}

const minU32 = Math.min;
const maxU32 = Math.max;

/** Narrow reg1 and reg2 (both the caller's clones) assuming `reg1 <opcode> reg2` holds. */
function refineCondOp(reg1: RegState, reg2: RegState, opcode: number, is32: boolean): void {
  // a > b is b < a: reuse the < and <= logic.
  if (
    opcode === op.BPF_JGE ||
    opcode === op.BPF_JGT ||
    opcode === op.BPF_JSGE ||
    opcode === op.BPF_JSGT
  ) {
    opcode = flipOpcode(opcode);
    [reg1, reg2] = [reg2, reg1];
  }
  switch (opcode) {
    case op.BPF_JEQ:
      if (is32) {
        reg1.u32min = maxU32(reg1.u32min, reg2.u32min);
        reg1.u32max = minU32(reg1.u32max, reg2.u32max);
        reg1.s32min = Math.max(reg1.s32min, reg2.s32min);
        reg1.s32max = Math.min(reg1.s32max, reg2.s32max);
        reg2.u32min = reg1.u32min;
        reg2.u32max = reg1.u32max;
        reg2.s32min = reg1.s32min;
        reg2.s32max = reg1.s32max;
        const t = tn.tnumIntersect(tn.subreg(reg1.varOff), tn.subreg(reg2.varOff));
        reg1.varOff = tn.withSubreg(reg1.varOff, t);
        reg2.varOff = tn.withSubreg(reg2.varOff, t);
      } else {
        reg1.umin = u.maxU(reg1.umin, reg2.umin);
        reg1.umax = u.minU(reg1.umax, reg2.umax);
        reg1.smin = u.maxS(reg1.smin, reg2.smin);
        reg1.smax = u.minS(reg1.smax, reg2.smax);
        reg2.umin = reg1.umin;
        reg2.umax = reg1.umax;
        reg2.smin = reg1.smin;
        reg2.smax = reg1.smax;
        reg1.varOff = tn.tnumIntersect(reg1.varOff, reg2.varOff);
        reg2.varOff = reg1.varOff;
      }
      return;
    case op.BPF_JNE: {
      if (!isRegConst(reg2, is32)) [reg1, reg2] = [reg2, reg1];
      if (!isRegConst(reg2, is32)) return;
      // A constant at the edge of the other range shrinks it by one.
      const val = regConstValue(reg2, is32);
      if (is32) {
        const v = val.lo;
        if (reg1.u32min === v) reg1.u32min = (reg1.u32min + 1) >>> 0;
        if (reg1.u32max === v) reg1.u32max = (reg1.u32max - 1) >>> 0;
        if (reg1.s32min === (v | 0)) reg1.s32min = (reg1.s32min + 1) | 0;
        if (reg1.s32max === (v | 0)) reg1.s32max = (reg1.s32max - 1) | 0;
      } else {
        if (u.eq(reg1.umin, val)) reg1.umin = u.add(reg1.umin, u.ONE);
        if (u.eq(reg1.umax, val)) reg1.umax = u.sub(reg1.umax, u.ONE);
        if (u.eq(reg1.smin, val)) reg1.smin = u.add(reg1.smin, u.ONE);
        if (u.eq(reg1.smax, val)) reg1.smax = u.sub(reg1.smax, u.ONE);
      }
      return;
    }
    case op.BPF_JSET: {
      if (!isRegConst(reg2, is32)) [reg1, reg2] = [reg2, reg1];
      if (!isRegConst(reg2, is32)) return;
      // Only a single tested bit tells which bit is set.
      const val = regConstValue(reg2, is32);
      if (u.isZero(val) || !u.isZero(u.and(val, u.sub(val, u.ONE)))) return;
      if (is32) {
        const t = tn.tnumOr(tn.subreg(reg1.varOff), tn.tnumConst(val));
        reg1.varOff = tn.withSubreg(reg1.varOff, t);
      } else {
        reg1.varOff = tn.tnumOr(reg1.varOff, tn.tnumConst(val));
      }
      return;
    }
    case JSET_NOT: {
      if (!isRegConst(reg2, is32)) [reg1, reg2] = [reg2, reg1];
      if (!isRegConst(reg2, is32)) return;
      // None of the tested bits is set. Forget the ranges first: on a dead branch they would
      // contradict the narrowed tnum.
      const val = regConstValue(reg2, is32);
      markUnbounded(reg1);
      if (is32) {
        const t = tn.tnumAnd(tn.subreg(reg1.varOff), tn.tnumConst(u.not(val)));
        reg1.varOff = tn.withSubreg(reg1.varOff, t);
      } else {
        reg1.varOff = tn.tnumAnd(reg1.varOff, tn.tnumConst(u.not(val)));
      }
      return;
    }
    case op.BPF_JLE:
      if (is32) {
        reg1.u32max = minU32(reg1.u32max, reg2.u32max);
        reg2.u32min = maxU32(reg1.u32min, reg2.u32min);
      } else {
        reg1.umax = u.minU(reg1.umax, reg2.umax);
        reg2.umin = u.maxU(reg1.umin, reg2.umin);
      }
      return;
    case op.BPF_JLT:
      if (is32) {
        reg1.u32max = minU32(reg1.u32max, (reg2.u32max - 1) >>> 0);
        reg2.u32min = maxU32((reg1.u32min + 1) >>> 0, reg2.u32min);
      } else {
        reg1.umax = u.minU(reg1.umax, u.sub(reg2.umax, u.ONE));
        reg2.umin = u.maxU(u.add(reg1.umin, u.ONE), reg2.umin);
      }
      return;
    case op.BPF_JSLE:
      if (is32) {
        reg1.s32max = Math.min(reg1.s32max, reg2.s32max);
        reg2.s32min = Math.max(reg1.s32min, reg2.s32min);
      } else {
        reg1.smax = u.minS(reg1.smax, reg2.smax);
        reg2.smin = u.maxS(reg1.smin, reg2.smin);
      }
      return;
    case op.BPF_JSLT:
      if (is32) {
        reg1.s32max = Math.min(reg1.s32max, (reg2.s32max - 1) | 0);
        reg2.s32min = Math.max((reg1.s32min + 1) | 0, reg2.s32min);
      } else {
        reg1.smax = u.minS(reg1.smax, u.sub(reg2.smax, u.ONE));
        reg2.smin = u.maxS(u.add(reg1.smin, u.ONE), reg2.smin);
      }
      return;
  }
}

/**
 * Narrow the operands of `dst <opcode> src` on both sides of the branch. All four registers
 * are the caller's clones: (trueDst, trueSrc) for the jump target, (falseDst, falseSrc) for the
 * fall-through. Only scalars are narrowed.
 */
export function regSetMinMax(
  trueDst: RegState,
  trueSrc: RegState,
  falseDst: RegState,
  falseSrc: RegState,
  opcode: number,
  is32: boolean,
): void {
  if (!falseDst.isScalar || !falseSrc.isScalar) return;
  refineCondOp(falseDst, falseSrc, revOpcode(opcode), is32);
  regBoundsSync(falseDst);
  regBoundsSync(falseSrc);
  refineCondOp(trueDst, trueSrc, opcode, is32);
  regBoundsSync(trueDst);
  regBoundsSync(trueSrc);
}
