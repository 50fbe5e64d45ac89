// ALU instructions (check_alu_op): reserved fields, moves (with scalar ids that link copies),
// scalar arithmetic through scalar-alu.ts, and the rules for arithmetic on pointers
// (adjust_ptr_min_max_vals): which pointers may move, by what, and how far.
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import {
  coerceToSizeSx,
  knownScalar,
  mark32Unbounded,
  markUnknownScalar,
  regBoundsSync,
  zext32To64,
} from "./bounds.js";
import { type Env, RegArg } from "./env.js";
import { markRegPrecise } from "./precision.js";
import { aluOpString } from "./print.js";
import { baseOf, mayBeNull, RegState, RegType, regTypeStr } from "./reg.js";
import { adjustEndian, adjustScalar, setSplitValue, splitMaskWidth } from "./scalar-alu.js";
import * as tn from "./tnum.js";
import * as u from "./u64.js";

/** BPF_MAX_VAR_OFF: pointer offsets beyond this are refused. */
export const MAX_VAR_OFF = 1 << 29;

const T = RegType;

/** A pointer the program must not see as a number (only for unprivileged loaders). */
export const isPointerValue = (env: Env, reg: RegState): boolean =>
  !env.priv ? reg.isPointer : false;

/** Give a scalar an id before copying it, so the copies stay linked (assign_scalar_id_before_mov). */
function assignIdBeforeMov(env: Env, regno: number): void {
  const src = env.reg(regno);
  if (src.type === T.SCALAR_VALUE && !src.id && !tn.isConst(src.varOff)) {
    const r = src.clone();
    r.id = env.newId();
    env.setReg(regno, r);
  }
}

export function checkAluOp(env: Env, insn: Insn): void {
  const code = insn.code;
  const aluOp = op.opOf(code);
  const alu64 = op.classOf(code) === op.BPF_ALU64;
  const x = op.srcOf(code) === op.BPF_X;
  if (aluOp === op.BPF_END || aluOp === op.BPF_NEG) return checkEndNeg(env, insn, aluOp, alu64);
  if (aluOp === op.BPF_MOV) return checkMov(env, insn, alu64, x);
  if (aluOp > op.BPF_END) {
    env.fail(`invalid BPF_ALU opcode ${(aluOp >> 4).toString(16)}`, "unknown ALU operation");
  }
  const offOk =
    insn.off === 0 || (insn.off === 1 && (aluOp === op.BPF_DIV || aluOp === op.BPF_MOD));
  if (x) {
    if (insn.imm !== 0 || !offOk)
      env.fail("BPF_ALU uses reserved fields", "imm must be 0 with a register source");
    env.checkRegArg(insn.src, RegArg.SRC);
  } else if (insn.src !== 0 || !offOk) {
    env.fail("BPF_ALU uses reserved fields", "src_reg must be 0 with an immediate source");
  }
  env.checkRegArg(insn.dst, RegArg.SRC);
  if ((aluOp === op.BPF_MOD || aluOp === op.BPF_DIV) && !x && insn.imm === 0) {
    env.fail(
      "div by zero",
      "dividing by the constant 0 is refused (a register divisor of 0 gives 0 at run time)",
    );
  }
  if ((aluOp === op.BPF_LSH || aluOp === op.BPF_RSH || aluOp === op.BPF_ARSH) && !x) {
    const size = alu64 ? 64 : 32;
    if (insn.imm < 0 || insn.imm >= size) {
      env.fail(`invalid shift ${insn.imm}`, `a shift by a constant must be 0..${size - 1}`);
    }
  }
  env.checkRegArg(insn.dst, RegArg.DST_NO_MARK);
  if ((aluOp === op.BPF_DIV || aluOp === op.BPF_MOD) && x) {
    const d = env.reg(insn.src);
    if (d.type === T.SCALAR_VALUE && u.isZero(alu64 ? d.umin : u.fromU32(d.u32min))) {
      env.facts[env.insnIdx]!.divisorMayBeZero = true;
    }
  }
  adjustRegMinMaxVals(env, insn, aluOp, alu64, x);
}

function checkEndNeg(env: Env, insn: Insn, aluOp: number, alu64: boolean): void {
  if (aluOp === op.BPF_NEG) {
    if (op.srcOf(insn.code) !== op.BPF_K || insn.src !== 0 || insn.off !== 0 || insn.imm !== 0) {
      env.fail("BPF_NEG uses reserved fields", "neg takes only a destination register");
    }
  } else if (
    insn.src !== 0 ||
    insn.off !== 0 ||
    (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) ||
    (alu64 && op.srcOf(insn.code) !== op.BPF_TO_LE)
  ) {
    env.fail("BPF_END uses reserved fields", "a byte swap takes a width of 16, 32 or 64");
  }
  env.checkRegArg(insn.dst, RegArg.SRC);
  const dst = env.reg(insn.dst);
  if (isPointerValue(env, dst)) {
    env.fail(
      `R${insn.dst} pointer arithmetic prohibited`,
      "pointers cannot be negated or byte-swapped",
    );
  }
  if (dst.type !== T.SCALAR_VALUE) {
    // A privileged program may turn a pointer into a number it knows nothing about.
    env.checkRegArg(insn.dst, RegArg.DST);
    return;
  }
  env.checkRegArg(insn.dst, RegArg.DST_NO_MARK);
  const r = dst.clone();
  r.id = 0;
  if (aluOp === op.BPF_NEG) adjustScalar(r, r, op.BPF_NEG, !alu64);
  else adjustEndian(r, insn.imm, alu64 || op.srcOf(insn.code) === op.BPF_TO_BE);
  env.setReg(insn.dst, r);
}

function checkMov(env: Env, insn: Insn, alu64: boolean, x: boolean): void {
  if (x) {
    const offOk = insn.off === 0 || insn.off === 8 || insn.off === 16 || (alu64 && insn.off === 32);
    if (!offOk || insn.imm !== 0)
      env.fail("BPF_MOV uses reserved fields", "mov reg takes no immediate");
    env.checkRegArg(insn.src, RegArg.SRC);
  } else if (insn.src !== 0 || insn.off !== 0) {
    env.fail("BPF_MOV uses reserved fields", "mov imm takes no source register");
  }
  env.checkRegArg(insn.dst, RegArg.DST_NO_MARK);
  if (!x) {
    // dst = imm: sign-extended in 64-bit moves, zero-extended in 32-bit ones
    env.setReg(insn.dst, knownScalar(alu64 ? u.fromS32(insn.imm) : u.fromU32(insn.imm)));
    return;
  }
  const s = insn.src;
  if (alu64) {
    if (insn.off === 0) {
      assignIdBeforeMov(env, s);
      env.setReg(insn.dst, env.reg(s));
      return;
    }
    const src = env.reg(s);
    if (isPointerValue(env, src)) {
      env.fail(`R${s} sign-extension part of pointer`, "only numbers can be sign-extended");
    }
    if (src.type !== T.SCALAR_VALUE) {
      env.checkRegArg(insn.dst, RegArg.DST);
      return;
    }
    movSignExtend(env, insn, src, false);
    return;
  }
  const src = env.reg(s);
  if (isPointerValue(env, src)) {
    env.fail(`R${s} partial copy of pointer`, "copying half of a pointer is refused");
  }
  let r: RegState;
  if (src.type === T.SCALAR_VALUE) {
    if (insn.off === 0) {
      const fits32 = u.fls(src.umax) <= 32;
      if (fits32) assignIdBeforeMov(env, s);
      r = env.reg(s).clone();
      // A value wider than 32 bits changes: it must not stay linked to its source.
      if (!fits32) r.id = 0;
    } else {
      movSignExtend(env, insn, src, true);
      return;
    }
  } else {
    r = new RegState();
    markUnknownScalar(r);
  }
  zext32To64(r);
  regBoundsSync(r);
  env.setReg(insn.dst, r);
}

/** movsx: dst = (s8/s16/s32) src, in 64 or 32 bits. */
function movSignExtend(env: Env, insn: Insn, src: RegState, alu32: boolean): void {
  const noSext = u.ltU(src.umax, u.shl(u.ONE, insn.off - 1));
  if (noSext) assignIdBeforeMov(env, insn.src);
  const r = env.reg(insn.src).clone();
  if (!noSext) r.id = 0;
  if (alu32) {
    // sign-extend within the subregister, then zero-extend to 64 bits
    const sub = r.clone();
    coerceToSizeSx(sub, insn.off >> 3);
    r.varOff = tn.withSubreg(r.varOff, tn.subreg(sub.varOff));
    r.s32min = sub.s32min;
    r.s32max = sub.s32max;
    r.u32min = sub.u32min;
    r.u32max = sub.u32max;
    zext32To64(r);
    regBoundsSync(r);
  } else {
    coerceToSizeSx(r, insn.off >> 3);
  }
  env.setReg(insn.dst, r);
}

/** adjust_reg_min_max_vals: scalar op scalar, pointer op scalar, pointer op pointer. */
function adjustRegMinMaxVals(
  env: Env,
  insn: Insn,
  aluOp: number,
  alu64: boolean,
  x: boolean,
): void {
  const d = insn.dst;
  const dst = env.reg(d);
  let src: RegState;
  if (x) {
    src = env.reg(insn.src);
    if (src.type !== T.SCALAR_VALUE) {
      if (dst.type !== T.SCALAR_VALUE) {
        // Two pointers: only their difference is a (meaningless) number, and only for root.
        if (aluOp === op.BPF_SUB && env.priv) {
          env.checkRegArg(d, RegArg.DST);
          return;
        }
        env.fail(
          `R${d} pointer ${aluOpString(aluOp)} pointer prohibited`,
          "two pointers cannot be combined",
        );
      }
      // scalar += pointer: the result is the pointer moved by the scalar
      markRegPrecise(env, d);
      adjustPtrMinMaxVals(env, insn, aluOp, alu64, src, env.reg(d), true);
      return;
    }
    if (dst.type !== T.SCALAR_VALUE) {
      markRegPrecise(env, insn.src);
      adjustPtrMinMaxVals(env, insn, aluOp, alu64, dst, src, false);
      return;
    }
  } else {
    src = knownScalar(u.fromS32(insn.imm));
    if (dst.type !== T.SCALAR_VALUE) {
      adjustPtrMinMaxVals(env, insn, aluOp, alu64, dst, src, false);
      return;
    }
  }
  const r = dst.clone();
  // x & c for x in [-1, 0]: walk x = 0 as another path, go on with x = -1 (6.18).
  const split = env.opts.kernel === "6.18" ? splitMaskWidth(r, src, aluOp, !alu64) : 0;
  if (split) {
    const zero = r.clone();
    setSplitValue(zero, split, 0);
    const other = env.pushState(env.insnIdx, env.insnIdx);
    other.frames[other.curframe]!.regs[d] = zero;
    // The other path walks this instruction again: it is not yet in its history.
    other.hist.length -= 2;
    setSplitValue(r, split, -1);
  }
  adjustScalar(r, src, aluOp, !alu64);
  // The value changed: it is no longer a copy of anything.
  r.id = 0;
  env.setReg(d, r);
}

/** pointer <op> scalar (or scalar + pointer): the kernel's adjust_ptr_min_max_vals. */
function adjustPtrMinMaxVals(
  env: Env,
  insn: Insn,
  aluOp: number,
  alu64: boolean,
  ptr: RegState,
  off: RegState,
  /** scalar <op> pointer: the scalar is the destination */
  scalarDst: boolean,
): void {
  const d = insn.dst;
  if (!alu64) {
    // 32-bit operations on pointers give meaningless numbers.
    if (aluOp === op.BPF_SUB && env.priv) {
      env.checkRegArg(d, RegArg.DST);
      return;
    }
    env.fail(`R${d} 32-bit pointer arithmetic prohibited`, "use 64-bit arithmetic on pointers");
  }
  if (mayBeNull(ptr.type)) {
    env.fail(
      `R${d} pointer arithmetic on ${regTypeStr(ptr.type)} prohibited, null-check it first`,
      "the pointer may be NULL: check it against 0 before moving it",
    );
  }
  const known = tn.isConst(off.varOff);
  const sminVal = off.smin;
  switch (baseOf(ptr.type)) {
    case T.PTR_TO_CTX:
    case T.PTR_TO_MAP_VALUE:
    case T.PTR_TO_MAP_KEY:
    case T.PTR_TO_STACK:
    case T.PTR_TO_PACKET_META:
    case T.PTR_TO_PACKET:
    case T.PTR_TO_BTF_ID:
    case T.PTR_TO_MEM:
    case T.PTR_TO_BUF:
    case T.PTR_TO_FUNC:
      break;
    default:
      // Only `map_ptr += 0` is allowed on a map pointer.
      if (ptr.type === T.CONST_PTR_TO_MAP && known && u.isZero(sminVal) && aluOp === op.BPF_ADD)
        break;
      env.fail(
        `R${d} pointer arithmetic on ${regTypeStr(ptr.type)} prohibited`,
        `a ${regTypeStr(ptr.type)} pointer cannot be moved: only map values, the stack, ctx and memory can`,
      );
  }
  checkSaneOffset(env, off, ptr.type);
  checkSaneOffset(env, ptr, ptr.type);
  const r = ptr.clone();
  mark32Unbounded(r);
  switch (aluOp) {
    case op.BPF_ADD: {
      const sum = ptr.off + (u.toSafeS(sminVal) ?? Infinity);
      if (known && sum === (sum | 0)) {
        // pointer += K: fold into the fixed offset
        r.off = sum;
        break;
      }
      if (u.addOverflowsS(ptr.smin, off.smin) || u.addOverflowsS(ptr.smax, off.smax)) {
        r.smin = u.S64_MIN;
        r.smax = u.S64_MAX;
      } else {
        r.smin = u.add(ptr.smin, off.smin);
        r.smax = u.add(ptr.smax, off.smax);
      }
      if (u.addOverflowsU(ptr.umin, off.umin) || u.addOverflowsU(ptr.umax, off.umax)) {
        r.umin = u.ZERO;
        r.umax = u.U64_MAX;
      } else {
        r.umin = u.add(ptr.umin, off.umin);
        r.umax = u.add(ptr.umax, off.umax);
      }
      r.varOff = tn.tnumAdd(ptr.varOff, off.varOff);
      break;
    }
    case op.BPF_SUB: {
      if (scalarDst) {
        env.fail(
          `R${d} tried to subtract pointer from scalar`,
          "subtract the number from the pointer instead",
        );
      }
      if (ptr.type === T.PTR_TO_STACK) {
        env.fail(
          `R${d} subtraction from stack pointer prohibited`,
          "add a negative number to a stack pointer instead",
        );
      }
      const diff = ptr.off - (u.toSafeS(sminVal) ?? -Infinity);
      if (known && diff === (diff | 0)) {
        r.off = diff;
        break;
      }
      if (u.subOverflowsS(ptr.smin, off.smax) || u.subOverflowsS(ptr.smax, off.smin)) {
        r.smin = u.S64_MIN;
        r.smax = u.S64_MAX;
      } else {
        r.smin = u.sub(ptr.smin, off.smax);
        r.smax = u.sub(ptr.smax, off.smin);
      }
      if (u.ltU(ptr.umin, off.umax)) {
        r.umin = u.ZERO;
        r.umax = u.U64_MAX;
      } else {
        r.umin = u.sub(ptr.umin, off.umax);
        r.umax = u.sub(ptr.umax, off.umin);
      }
      r.varOff = tn.tnumSub(ptr.varOff, off.varOff);
      break;
    }
    case op.BPF_AND:
    case op.BPF_OR:
    case op.BPF_XOR:
      return env.fail(
        `R${d} bitwise operator ${aluOpString(aluOp)} on pointer prohibited`,
        "bit operations on pointers are refused: compute on offsets, then add them",
      );
    default:
      env.fail(
        `R${d} pointer arithmetic with ${aluOpString(aluOp)} operator prohibited`,
        "only addition and subtraction move a pointer",
      );
  }
  checkSaneOffset(env, r, ptr.type);
  regBoundsSync(r);
  if (!env.priv) checkUnprivPointerMath(env, d, r, off);
  env.setReg(d, r);
}

/** check_reg_sane_offset: offsets a pointer may carry. */
function checkSaneOffset(env: Env, reg: RegState, ptrType: number): void {
  const type = regTypeStr(ptrType);
  const val = reg.varOff.value;
  if (
    tn.isConst(reg.varOff) &&
    (u.geS(val, u.fromNumber(MAX_VAR_OFF)) || u.leS(val, u.fromNumber(-MAX_VAR_OFF)))
  ) {
    env.fail(
      `math between ${type} pointer and ${u.decS(val)} is not allowed`,
      "the offset is far too large",
    );
  }
  if (reg.off >= MAX_VAR_OFF || reg.off <= -MAX_VAR_OFF) {
    env.fail(`${type} pointer offset ${reg.off} is not allowed`, "the offset is far too large");
  }
  if (u.eq(reg.smin, u.S64_MIN)) {
    env.fail(
      `math between ${type} pointer and register with unbounded min value is not allowed`,
      "bound the number first (if (x < N) / x &= mask) before adding it to a pointer",
    );
  }
  if (u.geS(reg.smin, u.fromNumber(MAX_VAR_OFF)) || u.leS(reg.smin, u.fromNumber(-MAX_VAR_OFF))) {
    env.fail(
      `value ${u.decS(reg.smin)} makes ${type} pointer be out of bounds`,
      "the offset added to the pointer is far too large",
    );
  }
}

/** What an unprivileged loader may not do with pointer arithmetic. */
function checkUnprivPointerMath(env: Env, d: number, r: RegState, off: RegState): void {
  if (r.type === T.PTR_TO_STACK && !tn.isConst(r.varOff)) {
    env.fail(
      `R${d} variable stack access prohibited for !root, off=${r.off}`,
      "unprivileged programs may move stack pointers only by constants",
    );
  }
  if (!tn.isConst(off.varOff) && u.isNeg(off.smin) && !u.isNeg(off.smax) && !u.isZero(off.smax)) {
    env.fail(
      `R${d} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root`,
      "bound the number to one sign before adding it to a pointer",
    );
  }
}
