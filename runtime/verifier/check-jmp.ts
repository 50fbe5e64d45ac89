// Conditional jumps (check_cond_jmp_op): a branch decided by the bounds follows one side only;
// otherwise the jump target is pushed for later and both sides get narrowed operands. Comparing
// a maybe-NULL pointer with 0 makes it a real pointer on one side and the number 0 on the other,
// for every register holding a copy of it.
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import { isRegConst, knownScalar, regConstValue } from "./bounds.js";
import { flipOpcode, isScalarBranchTaken, regSetMinMax } from "./branch.js";
import { type Env, RegArg } from "./env.js";
import { isPointerValue } from "./check-alu.js";
import { linkedEntry, linkedReg, linkedSlot, markRegPrecise } from "./precision.js";
import { baseOf, mayBeNull, PTR_MAYBE_NULL, RegState, RegType } from "./reg.js";
import type { VerifierState } from "./state.js";
import { StackSlot } from "./state.js";
import * as u from "./u64.js";

const T = RegType;

/** A pointer that cannot be NULL (reg_not_null). */
function regNotNull(reg: RegState): boolean {
  if (mayBeNull(reg.type)) return false;
  const base = baseOf(reg.type);
  return (
    base === T.PTR_TO_SOCKET ||
    base === T.PTR_TO_TCP_SOCK ||
    base === T.PTR_TO_MAP_VALUE ||
    base === T.PTR_TO_MAP_KEY ||
    base === T.PTR_TO_SOCK_COMMON ||
    base === T.PTR_TO_MEM
  );
}

/** 1: always taken, 0: never, -1: unknown (is_branch_taken). */
export function isBranchTaken(r1: RegState, r2: RegState, opcode: number, is32: boolean): number {
  if (r1.isPointer || r2.isPointer) {
    let a = r1;
    let b = r2;
    let o = opcode;
    if (!(b.isScalar && isRegConst(b, is32))) {
      o = flipOpcode(o);
      [a, b] = [b, a];
    }
    if (!(b.isScalar && isRegConst(b, is32))) return -1;
    if (!regNotNull(a)) return -1;
    if (!u.isZero(regConstValue(b, is32))) return -1;
    if (o === op.BPF_JEQ) return 0;
    if (o === op.BPF_JNE) return 1;
    return -1;
  }
  return isScalarBranchTaken(r1, r2, opcode, is32);
}

/**
 * Every scalar with this id in any frame, in a register or spilled to the stack
 * (collect_linked_regs): encoded as linkedReg(frame, regno) or linkedSlot(frame, spi).
 */
function linkedRegs(st: VerifierState, id: number, out: number[]): void {
  for (const f of st.frames) {
    for (let r = 0; r < 10; r++) {
      const reg = f.regs[r]!;
      if (reg.type === T.SCALAR_VALUE && reg.id === id) {
        const e = linkedReg(f.frameno, r);
        if (!out.includes(e)) out.push(e);
      }
    }
    for (let spi = 0; spi < f.stack.length; spi++) {
      const slot = f.stack[spi]!;
      if (slot.isSpilledScalar && slot.spilled!.id === id) {
        const e = linkedSlot(f.frameno, spi);
        if (!out.includes(e)) out.push(e);
      }
    }
  }
}

/** Copies of a scalar learn what a branch taught about it (sync_linked_regs). */
function syncLinked(st: VerifierState, known: RegState, linked: number[]): void {
  if (!known.isScalar || !known.id) return;
  for (const e of linked) {
    const { frame, slot, index } = linkedEntry(e);
    const f = st.frames.find((fr) => fr.frameno === frame);
    if (!f) continue;
    if (slot) {
      const s = f.stack[index];
      if (s?.isSpilledScalar && s.spilled!.id === known.id)
        f.stack[index] = new StackSlot(s.types, known);
      continue;
    }
    const reg = f.regs[index]!;
    if (reg.type === T.SCALAR_VALUE && reg.id === known.id) f.regs[index] = known;
  }
}

/** After `if rX ==/!= 0` on a maybe-NULL pointer: NULL or not on this side, for all copies. */
function markPtrOrNullRegs(st: VerifierState, regno: number, isNull: boolean): void {
  const reg = st.frames[st.curframe]!.regs[regno]!;
  const id = reg.id;
  if (!id) return;
  // On the NULL side there is nothing to release.
  if (isNull && reg.refObjId && reg.refObjId === id) st.refs = st.refs.filter((r) => r.id !== id);
  const convert = (r: RegState): RegState => {
    if (!mayBeNull(r.type) || r.id !== id) return r;
    if (isNull) return knownScalar(u.ZERO);
    const p = r.clone();
    p.type &= ~PTR_MAYBE_NULL;
    p.id = 0;
    // A non-NULL element of a map of maps is the inner map itself (mark_ptr_not_null_reg).
    if (baseOf(p.type) === T.PTR_TO_MAP_VALUE && p.map?.innerMap) {
      p.type = T.CONST_PTR_TO_MAP;
      p.map = p.map.innerMap;
    }
    return p;
  };
  for (const f of st.frames) {
    for (let r = 0; r < f.regs.length; r++) f.regs[r] = convert(f.regs[r]!);
    for (let spi = 0; spi < f.stack.length; spi++) {
      const slot = f.stack[spi]!;
      if (slot.spilled && slot.isSpill) {
        const c = convert(slot.spilled);
        if (c !== slot.spilled) f.stack[spi] = new StackSlot(slot.types, c);
      }
    }
  }
}

export function checkCondJmp(env: Env, insn: Insn): void {
  const jop = op.opOf(insn.code);
  const is32 = op.classOf(insn.code) === op.BPF_JMP32;
  const x = op.srcOf(insn.code) === op.BPF_X;
  if (jop > op.BPF_JSLE) {
    env.fail(`invalid BPF_JMP/JMP32 opcode ${(jop >> 4).toString(16)}`, "unknown jump operation");
  }
  env.checkRegArg(insn.dst, RegArg.SRC);
  let src: RegState;
  if (x) {
    if (insn.imm !== 0)
      env.fail("BPF_JMP/JMP32 uses reserved fields", "imm must be 0 with a register operand");
    env.checkRegArg(insn.src, RegArg.SRC);
    src = env.reg(insn.src);
    if (isPointerValue(env, src)) {
      env.fail(
        `R${insn.src} pointer comparison prohibited`,
        "unprivileged programs may not compare pointers",
      );
    }
  } else {
    if (insn.src !== 0)
      env.fail("BPF_JMP/JMP32 uses reserved fields", "src_reg must be 0 with an immediate");
    src = knownScalar(u.fromS32(insn.imm));
  }
  const dst = env.reg(insn.dst);
  const fact = env.facts[env.insnIdx]!;
  const target = env.insnIdx + insn.off + 1;
  const pred = isBranchTaken(dst, src, jop, is32);
  if (pred >= 0) {
    // The decision depends on these values: pruning must respect them.
    if (dst.isScalar) markRegPrecise(env, insn.dst);
    if (x && src.isScalar) markRegPrecise(env, insn.src);
  }
  if (pred === 1) {
    fact.taken = true;
    env.printInsnState();
    env.insnIdx = target;
    return;
  }
  if (pred === 0) {
    fact.fallthrough = true;
    env.printInsnState();
    env.insnIdx++;
    return;
  }
  fact.taken = fact.fallthrough = true;
  // Scalars sharing an id with an operand are narrowed together: remember them for backtracking.
  const linked: number[] = [];
  if (dst.isScalar && dst.id) linkedRegs(env.cur, dst.id, linked);
  if (x && src.isScalar && src.id) linkedRegs(env.cur, src.id, linked);
  if (linked.length > 1) {
    env.linkedSets.push(linked);
    env.cur.hist[env.cur.hist.length - 1] = -env.linkedSets.length;
  }
  const other = env.pushState(target, env.insnIdx);
  const otherRegs = other.frames[other.curframe]!.regs;
  const same = x && insn.src === insn.dst;
  if (dst.isScalar && src.isScalar) {
    const tDst = dst.clone();
    const fDst = dst.clone();
    // `if r1 > r1`: one register is both operands, as in the kernel.
    const tSrc = same ? tDst : src.clone();
    const fSrc = same ? fDst : src.clone();
    regSetMinMax(tDst, tSrc, fDst, fSrc, jop, is32);
    otherRegs[insn.dst] = tDst;
    env.setReg(insn.dst, fDst);
    if (x && !same) {
      otherRegs[insn.src] = tSrc;
      env.setReg(insn.src, fSrc);
    }
    if (x && !same && src.id) {
      syncLinked(env.cur, fSrc, linked);
      syncLinked(other, tSrc, linked);
    }
    if (dst.id) {
      syncLinked(env.cur, fDst, linked);
      syncLinked(other, tDst, linked);
    }
  }
  const zeroSrc = !x
    ? insn.imm === 0
    : src.isScalar && isRegConst(src, false) && u.isZero(src.varOff.value);
  if (!is32 && zeroSrc && (jop === op.BPF_JEQ || jop === op.BPF_JNE) && mayBeNull(dst.type)) {
    // fall-through of `== 0` and target of `!= 0`: not NULL
    markPtrOrNullRegs(env.cur, insn.dst, jop === op.BPF_JNE);
    markPtrOrNullRegs(other, insn.dst, jop === op.BPF_JEQ);
  } else if (isPointerValue(env, dst)) {
    env.fail(
      `R${insn.dst} pointer comparison prohibited`,
      "unprivileged programs may not compare pointers",
    );
  }
  env.printInsnState();
  env.insnIdx++;
}
