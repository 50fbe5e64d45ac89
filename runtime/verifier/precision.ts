// Precision backtracking (mark_chain_precision). Scalars are imprecise by default: pruning
// treats any two scalars as equivalent. When the exact value of a scalar decides safety (it is
// added to a pointer, sizes a helper's memory, decides a branch), the instructions of the
// current path are walked backwards to find every register and stack slot the value came from,
// and those are marked precise in the remembered states along the path, so that later pruning
// compares them by range.
import type { Env } from "./env.js";
import * as op from "../isa/opcodes.js";
import { RegType } from "./reg.js";
import type { VerifierState } from "./state.js";
import { MAX_CALL_FRAMES, StackSlot } from "./state.js";
import { stateText } from "./log.js";
import { isCallbackCall } from "./cfg.js";

/** Registers and stack slots (per frame) whose precision is still being traced. */
export class Backtrack {
  readonly regs = new Array<number>(MAX_CALL_FRAMES).fill(0);
  readonly slotsLo = new Array<number>(MAX_CALL_FRAMES).fill(0);
  readonly slotsHi = new Array<number>(MAX_CALL_FRAMES).fill(0);

  constructor(public frame: number) {}

  setReg(fr: number, r: number): void {
    this.regs[fr]! |= 1 << r;
  }
  clearReg(fr: number, r: number): void {
    this.regs[fr]! &= ~(1 << r);
  }
  hasReg(fr: number, r: number): boolean {
    return (this.regs[fr]! & (1 << r)) !== 0;
  }
  setSlot(fr: number, spi: number): void {
    if (spi < 32) this.slotsLo[fr]! |= 1 << spi;
    else this.slotsHi[fr]! |= 1 << (spi - 32);
  }
  clearSlot(fr: number, spi: number): void {
    if (spi < 32) this.slotsLo[fr]! &= ~(1 << spi);
    else this.slotsHi[fr]! &= ~(1 << (spi - 32));
  }
  hasSlot(fr: number, spi: number): boolean {
    return spi < 32
      ? (this.slotsLo[fr]! & (1 << spi)) !== 0
      : (this.slotsHi[fr]! & (1 << (spi - 32))) !== 0;
  }

  get empty(): boolean {
    for (let fr = 0; fr < MAX_CALL_FRAMES; fr++) {
      if (this.regs[fr] || this.slotsLo[fr] || this.slotsHi[fr]) return false;
    }
    return true;
  }

  regNames(fr: number): string {
    const out: string[] = [];
    for (let r = 0; r < 11; r++) if (this.hasReg(fr, r)) out.push(`r${r}`);
    return out.join(",");
  }

  slotNames(fr: number): string {
    const out: string[] = [];
    for (let spi = 0; spi < 64; spi++) if (this.hasSlot(fr, spi)) out.push(String(-(spi + 1) * 8));
    return out.join(",");
  }
}

/** History flags of a register spill/fill at a fixed stack slot. */
export const stackAccessFlag = (frameno: number, spi: number): number => 1 + frameno * 64 + spi;

const enum Result {
  OK,
  /** an instruction precision cannot be traced through: everything becomes precise */
  GIVE_UP,
}

/** Update the traced set for one instruction walked backwards (backtrack_insn). */
function backtrackInsn(
  env: Env,
  idx: number,
  subseq: number,
  flags: number,
  bt: Backtrack,
): Result {
  const insn = env.insns[idx]!;
  const code = insn.code;
  const cls = op.classOf(code);
  const fr = bt.frame;
  const d = insn.dst;
  const s = insn.src;
  if (cls === op.BPF_ALU || cls === op.BPF_ALU64) {
    if (!bt.hasReg(fr, d)) return Result.OK;
    const aluOp = op.opOf(code);
    if (aluOp === op.BPF_END || aluOp === op.BPF_NEG) return Result.OK;
    const x = op.srcOf(code) === op.BPF_X;
    if (aluOp === op.BPF_MOV) {
      // dst = src: the source needs precision instead; dst = K: done.
      bt.clearReg(fr, d);
      if (x && s !== 10) bt.setReg(fr, s);
    } else if (x && s !== 10) {
      bt.setReg(fr, s);
    }
    return Result.OK;
  }
  if (
    cls === op.BPF_LDX ||
    (cls === op.BPF_STX && op.modeOf(code) === op.BPF_ATOMIC && insn.imm & op.BPF_FETCH)
  ) {
    const loaded = cls === op.BPF_LDX ? d : insn.imm === op.BPF_CMPXCHG ? 0 : s;
    if (!bt.hasReg(fr, loaded)) return Result.OK;
    bt.clearReg(fr, loaded);
    // Only a fill from the stack carries a traceable value.
    if (flags > 0 && cls === op.BPF_LDX) {
      const f = Math.floor((flags - 1) / 64);
      bt.setSlot(f, (flags - 1) % 64);
    }
    return Result.OK;
  }
  if (cls === op.BPF_STX || cls === op.BPF_ST) {
    // A scalar used as a base address: pointer arithmetic we cannot follow.
    if (bt.hasReg(fr, d)) return Result.GIVE_UP;
    if (flags <= 0) return Result.OK;
    const f = Math.floor((flags - 1) / 64);
    const spi = (flags - 1) % 64;
    if (!bt.hasSlot(f, spi)) return Result.OK;
    bt.clearSlot(f, spi);
    if (cls === op.BPF_STX) bt.setReg(fr, s);
    return Result.OK;
  }
  if (cls === op.BPF_JMP || cls === op.BPF_JMP32) {
    const jop = op.opOf(code);
    if (jop === op.BPF_CALL) {
      if (insn.src === op.BPF_PSEUDO_CALL) {
        // Walking back out of a callee into its call: arguments r1-r5 come from the caller.
        for (let r = 1; r <= 5; r++) {
          if (bt.hasReg(fr, r)) {
            bt.clearReg(fr, r);
            bt.setReg(fr - 1, r);
          }
        }
        bt.regs[fr] = 0;
        bt.slotsLo[fr] = 0;
        bt.slotsHi[fr] = 0;
        bt.frame = fr - 1;
        return Result.OK;
      }
      if (isCallbackCall(insn) && idx !== subseq - 1) {
        // Walking back out of a callback into the helper that called it: the callback's r1-r5
        // were set by the helper, not passed by the caller.
        bt.regs[fr] = 0;
        bt.slotsLo[fr] = 0;
        bt.slotsHi[fr] = 0;
        bt.frame = fr - 1;
        return Result.OK;
      }
      // A helper sets r0; it reads r1-r5 but their values are not traced through it.
      bt.clearReg(fr, 0);
      return Result.OK;
    }
    if (jop === op.BPF_EXIT) {
      // Walking back into a callback from the helper call it returned to: the helper's
      // arguments are its own, not the callback's.
      if (subseq >= 0 && env.cfg.callsCallback[subseq]) {
        for (let r = 1; r <= 5; r++) bt.clearReg(fr, r);
      }
      // Walking back into a callee from the instruction after its call: r0 comes from it (a
      // callback's r0 goes to the helper, not to the caller).
      const after = env.insns[subseq - 1];
      const r0 =
        subseq - 1 >= 0 &&
        after !== undefined &&
        after.code === (op.BPF_JMP | op.BPF_CALL) &&
        after.src === op.BPF_PSEUDO_CALL &&
        bt.hasReg(fr, 0);
      bt.clearReg(fr, 0);
      bt.frame = fr + 1;
      if (r0) bt.setReg(fr + 1, 0);
      return Result.OK;
    }
    if (jop !== op.BPF_JA && op.srcOf(code) === op.BPF_X) {
      // Bounds moved between both operands: both need precision.
      if (bt.hasReg(fr, d) || bt.hasReg(fr, s)) {
        bt.setReg(fr, d);
        bt.setReg(fr, s);
      }
    }
    return Result.OK;
  }
  if (cls === op.BPF_LD) {
    if (!bt.hasReg(fr, d) && op.modeOf(code) === op.BPF_IMM) return Result.OK;
    if (op.modeOf(code) === op.BPF_IMM) {
      bt.clearReg(fr, d);
      return Result.OK;
    }
    if (bt.hasReg(fr, 0)) return Result.GIVE_UP;
  }
  return Result.OK;
}

/** Registers linked at a conditional jump share their precision (bt_sync_linked_regs). */
function syncLinked(env: Env, flags: number, bt: Backtrack): void {
  if (flags >= 0) return;
  const set = env.linkedSets[-flags - 1]!;
  const has = (e: number): boolean => {
    const { frame, slot, index } = linkedEntry(e);
    return slot ? bt.hasSlot(frame, index) : bt.hasReg(frame, index);
  };
  if (!set.some(has)) return;
  for (const e of set) {
    const { frame, slot, index } = linkedEntry(e);
    if (slot) bt.setSlot(frame, index);
    else bt.setReg(frame, index);
  }
}

/** A member of a set of linked scalars: a register of a frame ... */
export const linkedReg = (frame: number, regno: number): number => (frame << 4) | regno;
/** ... or a stack slot holding a spilled copy. */
export const linkedSlot = (frame: number, spi: number): number => 0x1000 | (frame << 6) | spi;
export function linkedEntry(e: number): { frame: number; slot: boolean; index: number } {
  if (e & 0x1000) return { frame: (e >> 6) & 7, slot: true, index: e & 63 };
  return { frame: e >> 4, slot: false, index: e & 15 };
}

/** Everything scalar on the path becomes precise (the fallback when tracing fails). */
function markAllPrecise(env: Env): void {
  for (let st: VerifierState | undefined = env.cur.parent; st; st = st.parent) {
    for (const f of st.frames) {
      for (let r = 0; r < f.regs.length; r++) {
        const reg = f.regs[r]!;
        if (reg.type === RegType.SCALAR_VALUE && !reg.precise) {
          const p = reg.clone();
          p.precise = true;
          f.regs[r] = p;
        }
      }
      for (let spi = 0; spi < f.stack.length; spi++) {
        const slot = f.stack[spi]!;
        if (slot.isSpilledScalar && !slot.spilled!.precise) {
          const p = slot.spilled!.clone();
          p.precise = true;
          f.stack[spi] = new StackSlot(slot.types, p);
        }
      }
    }
  }
}

/** Mark in checkpoint `st` what is traced; stop tracing what was already precise there. */
function markInParent(env: Env, st: VerifierState, bt: Backtrack): void {
  for (let fr = bt.frame; fr >= 0; fr--) {
    const f = st.frames[fr];
    if (!f) continue;
    for (let r = 0; r < 11; r++) {
      if (!bt.hasReg(fr, r)) continue;
      const reg = f.regs[r]!;
      if (reg.type !== RegType.SCALAR_VALUE || reg.precise) {
        bt.clearReg(fr, r);
        continue;
      }
      const p = reg.clone();
      p.precise = true;
      f.regs[r] = p;
    }
    for (let spi = 0; spi < 64; spi++) {
      if (!bt.hasSlot(fr, spi)) continue;
      const slot = f.slot(spi);
      if (!slot.isSpilledScalar || slot.spilled!.precise) {
        bt.clearSlot(fr, spi);
        continue;
      }
      const p = slot.spilled!.clone();
      p.precise = true;
      f.stack[spi] = new StackSlot(slot.types, p);
    }
    if (env.level >= 2) {
      env.verbose(
        `mark_precise: frame${fr}: parent state regs=${bt.regNames(fr)} stack=${bt.slotNames(fr)}: `,
      );
      env.verbose(stateText(st, f));
    }
  }
}

/**
 * Trace `bt` backwards from the current instruction through the path's history and mark the
 * sources precise in its checkpoints. `skipFirst`: the last history entry is the instruction
 * being checked, whose own effect is not part of the trace.
 */
export function markChainPrecision(env: Env, bt: Backtrack, skipFirst: boolean): void {
  if (bt.empty) return;
  let st: VerifierState | undefined = env.cur;
  let skip = skipFirst;
  // The instruction after the walked segment: -1 for the current one.
  let subseq = -1;
  while (st) {
    const hist = st.hist;
    const first = hist.length ? hist[0]! : st.insnIdx;
    if (env.level >= 2) {
      // The current state's segment ends at the instruction being checked.
      const last = st === env.cur ? env.insnIdx : hist.length ? hist[hist.length - 2]! : st.insnIdx;
      env.verbose(
        `mark_precise: frame${bt.frame}: last_idx ${last} first_idx ${first} subseq_idx ${subseq} \n`,
      );
    }
    for (let k = hist.length - 2; k >= 0; k -= 2) {
      const idx = hist[k]!;
      const flags = hist[k + 1]!;
      if (skip) {
        skip = false;
        continue;
      }
      if (env.level >= 2) {
        env.verbose(
          `mark_precise: frame${bt.frame}: regs=${bt.regNames(bt.frame)} stack=${bt.slotNames(bt.frame)} before ${idx}: ${env.insnText(idx)}\n`,
        );
      }
      syncLinked(env, flags, bt);
      // (the instruction being checked follows the last one walked, when it is not in hist)
      const next =
        k + 2 < hist.length ? hist[k + 2]! : st === env.cur && !skipFirst ? env.insnIdx : subseq;
      if (backtrackInsn(env, idx, next, flags, bt) === Result.GIVE_UP) {
        markAllPrecise(env);
        return;
      }
      syncLinked(env, flags, bt);
      if (bt.empty) return;
    }
    skip = false;
    subseq = first;
    st = st.parent;
    if (!st) break;
    markInParent(env, st, bt);
    if (bt.empty) return;
  }
  // Something traced reached the program start without an origin: be conservative.
  if (!bt.empty) markAllPrecise(env);
}

/** mark_chain_precision(env, regno) for a register of the current frame. */
export function markRegPrecise(env: Env, regno: number): void {
  const reg = env.reg(regno);
  if (reg.type !== RegType.SCALAR_VALUE) return;
  const bt = new Backtrack(env.cur.curframe);
  bt.setReg(env.cur.curframe, regno);
  markChainPrecision(env, bt, true);
}

/** The same for a stack slot of frame `frameno`. */
export function markSlotPrecise(env: Env, frameno: number, spi: number): void {
  const bt = new Backtrack(env.cur.curframe);
  bt.setSlot(frameno, spi);
  markChainPrecision(env, bt, true);
}
