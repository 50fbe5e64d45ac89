// Which registers are live before each instruction (compute_live_registers): read on some path
// before being written. State pruning ignores dead registers, and log_level 2 prints the table.
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";

const ARGS = 0b111110; // r1-r5
const CALLER_SAVED = 0b111111; // r0-r5

export interface UseDef {
  use: number;
  def: number;
}

/** Registers an instruction reads and writes, as bit masks. `helperArgs` gives a helper's arity. */
export function useDef(insn: Insn, helperArgs: (id: number) => number): UseDef {
  const code = insn.code;
  const d = 1 << insn.dst;
  const s = 1 << insn.src;
  switch (op.classOf(code)) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const aluOp = op.opOf(code);
      if (aluOp === op.BPF_END || aluOp === op.BPF_NEG) return { use: d, def: d };
      const x = op.srcOf(code) === op.BPF_X;
      if (aluOp === op.BPF_MOV) return { use: x ? s : 0, def: d };
      return { use: d | (x ? s : 0), def: d };
    }
    case op.BPF_LDX:
      return { use: s, def: d };
    case op.BPF_ST:
      return { use: d, def: 0 };
    case op.BPF_STX: {
      if (op.modeOf(code) !== op.BPF_ATOMIC) return { use: d | s, def: 0 };
      if (insn.imm === op.BPF_CMPXCHG) return { use: d | s | 1, def: 1 };
      return { use: d | s, def: insn.imm & op.BPF_FETCH ? s : 0 };
    }
    case op.BPF_LD: {
      const mode = op.modeOf(code);
      if (mode === op.BPF_IMM) return { use: 0, def: d };
      // Legacy packet loads read the skb from r6, clobber r0-r5 and may end the program
      // (the kernel counts every register as used).
      return { use: 0x3ff, def: CALLER_SAVED };
    }
    default: {
      const jop = op.opOf(code);
      if (jop === op.BPF_EXIT) return { use: 1, def: 0 };
      if (jop === op.BPF_JA) return { use: 0, def: 0 };
      if (jop === op.BPF_CALL) {
        if (insn.src === 0) {
          const n = Math.min(helperArgs(insn.imm), 5);
          return { use: ((1 << (n + 1)) - 1) & ARGS, def: CALLER_SAVED };
        }
        return { use: ARGS, def: CALLER_SAVED };
      }
      return { use: d | (op.srcOf(code) === op.BPF_X ? s : 0), def: 0 };
    }
  }
}

/** Instructions that may follow `i` within its function. */
export function successors(insns: readonly Insn[], i: number): number[] {
  const insn = insns[i]!;
  const cls = op.classOf(insn.code);
  if (insn.code === op.BPF_LDDW) return [i + 2];
  if (cls !== op.BPF_JMP && cls !== op.BPF_JMP32) return [i + 1];
  const jop = op.opOf(insn.code);
  if (jop === op.BPF_EXIT) return [];
  if (jop === op.BPF_CALL) return [i + 1];
  if (jop === op.BPF_JA) return [i + 1 + (cls === op.BPF_JMP ? insn.off : insn.imm)];
  return [i + 1, i + 1 + insn.off];
}

/** live_regs_before for every instruction (a bit mask of r0-r9). */
export function liveRegisters(
  insns: readonly Insn[],
  helperArgs: (id: number) => number,
): Uint16Array {
  const n = insns.length;
  const live = new Uint16Array(n);
  const uses = new Uint16Array(n);
  const defs = new Uint16Array(n);
  const succ: number[][] = [];
  for (let i = 0; i < n; i++) {
    const ud = useDef(insns[i]!, helperArgs);
    uses[i] = ud.use & 0x3ff;
    defs[i] = ud.def & 0x3ff;
    succ[i] = successors(insns, i).filter((t) => t >= 0 && t < n);
  }
  // Backward fixed point; lddw second slots keep 0 and are never successors.
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = n - 1; i >= 0; i--) {
      if (i > 0 && insns[i - 1]!.code === op.BPF_LDDW) continue;
      let out = 0;
      for (const t of succ[i]!) out |= live[t]!;
      const before = uses[i]! | (out & ~defs[i]!);
      if (before !== live[i]) {
        live[i] = before;
        changed = true;
      }
    }
  }
  return live;
}

/** ".1..4....." : the log's picture of a live mask. */
export function liveString(mask: number): string {
  let s = "";
  for (let r = 0; r < 10; r++) s += mask & (1 << r) ? String(r) : ".";
  return s;
}

/**
 * Loops of the control-flow graph: for each instruction the number of the strongly connected
 * component it belongs to (1, 2, ... in the order Tarjan's walk closes them), 0 outside loops.
 * log_level 2 prints it beside the live registers.
 */
export function loopIds(insns: readonly Insn[]): Int32Array {
  const n = insns.length;
  const ids = new Int32Array(n);
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const second = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (insns[i]!.code === op.BPF_LDDW) second[++i] = 1;
  const succ = (i: number): number[] =>
    successors(insns, i).filter((t) => t >= 0 && t < n && !second[t]);
  let counter = 0;
  let next = 1;
  for (let root = 0; root < n; root++) {
    if (second[root] || index[root]! >= 0) continue;
    // iterative Tarjan: frames of (node, successors, next successor)
    const frames: { v: number; s: number[]; k: number }[] = [];
    const enter = (v: number): void => {
      index[v] = low[v] = counter++;
      stack.push(v);
      onStack[v] = 1;
      frames.push({ v, s: succ(v), k: 0 });
    };
    enter(root);
    while (frames.length) {
      const f = frames[frames.length - 1]!;
      if (f.k < f.s.length) {
        const w = f.s[f.k++]!;
        if (index[w]! < 0) enter(w);
        else if (onStack[w]) low[f.v] = Math.min(low[f.v]!, index[w]!);
        continue;
      }
      frames.pop();
      if (frames.length) {
        const parent = frames[frames.length - 1]!.v;
        low[parent] = Math.min(low[parent]!, low[f.v]!);
      }
      if (low[f.v] !== index[f.v]) continue;
      const members: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        members.push(w);
      } while (w !== f.v);
      const selfLoop = members.length === 1 && succ(f.v).includes(f.v);
      if (members.length > 1 || selfLoop) {
        for (const m of members) ids[m] = next;
        next++;
      }
    }
  }
  return ids;
}
