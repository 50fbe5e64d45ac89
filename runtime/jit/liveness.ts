// Register liveness over the whole program, for the calling convention of the compiled code.
//
// Each BPF function becomes a WebAssembly function whose parameters are the registers it reads
// before writing them (its live-in set among r0-r9) and whose results are r0 plus the registers
// among r1-r5 that some caller reads after calling it. With that, the compiled code keeps exactly
// the values the interpreter would have in every register a program can observe, without passing
// all eleven registers on every call:
//   - a callee sees its caller's value of any register it reads before writing (r6-r9
//     included, as the interpreter's shared register file gives it);
//   - a caller that reads r1-r5 after a call (unverifiable, the verifier marks them clobbered)
//     sees the callee's values, as in the interpreter.
// r10 is not tracked: it is the frame pointer, passed separately.
//
// Uses and defs per instruction:
//   helper call  uses r0-r9 (the helper sees the whole register file), defs r0-r5; an array
//                lookup compiled inline (inline.ts) uses r2 and defs r0
//   local call   uses the callee's parameters, defs r0-r5 (the callee's results among them)
//   exit         uses the function's results
// The sets depend on each other across functions (a callee's parameters are the caller's uses,
// a caller's live-out registers are the callee's results), so the analysis iterates over all
// functions until nothing changes; the sets only grow, so it ends.
import * as op from "../isa/opcodes.js";
import type { Program } from "../vm/program.js";
import { NO_INLINE_LOOKUPS, type InlineLookups } from "./inline.js";
import {
  dstOf,
  isConditionalJump,
  opcodeOf,
  slotsOf,
  srcOf,
  type BpfFunction,
  type ProgramCfg,
} from "./cfg.js";

/** A set of registers r0-r9 as bits. */
export type RegSet = number;

export const R0 = 1;
export const R1_R5 = 0b111110;
export const R0_R5 = 0b111111;
export const R0_R9 = 0x3ff;

export interface FunctionLiveness {
  /** registers the function reads before writing: its parameters, ascending */
  params: RegSet;
  /** r0 and the registers among r1-r5 callers read after calling it: its results */
  results: RegSet;
}

export interface ProgramLiveness {
  functions: FunctionLiveness[];
  /** registers live right after each call instruction (helper or local), by slot */
  liveAfterCall: Map<number, RegSet>;
}

/** Registers in a set, ascending. */
export function regsOf(set: RegSet): number[] {
  const regs: number[] = [];
  for (let r = 0; r < 10; r++) if (set & (1 << r)) regs.push(r);
  return regs;
}

const CALL = op.BPF_JMP | op.BPF_CALL;
const CALLX = op.BPF_JMP | op.BPF_CALL | op.BPF_X;
const EXIT = op.BPF_JMP | op.BPF_EXIT;

const bit = (r: number): RegSet => (r < 10 ? 1 << r : 0);

interface Effect {
  use: RegSet;
  def: RegSet;
}

/** The registers an instruction reads and writes (calls and exit handled by the caller). */
function effectOf(w: number): Effect {
  const code = opcodeOf(w);
  const d = bit(dstOf(w));
  const s = bit(srcOf(w));
  const cls = code & 0x07;
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const o = code & 0xf0;
      const x = (code & op.BPF_X) !== 0;
      if (o === op.BPF_MOV) return { use: x ? s : 0, def: d };
      if (o === op.BPF_NEG || o === op.BPF_END) return { use: d, def: d };
      return { use: d | (x ? s : 0), def: d };
    }
    case op.BPF_JMP:
    case op.BPF_JMP32:
      if (isConditionalJump(code)) return { use: d | ((code & op.BPF_X) !== 0 ? s : 0), def: 0 };
      return { use: 0, def: 0 }; // ja
    case op.BPF_LDX:
      return { use: s, def: d };
    case op.BPF_ST:
      return { use: d, def: 0 };
    case op.BPF_STX: {
      if ((code & 0xe0) !== op.BPF_ATOMIC) return { use: d | s, def: 0 };
      return { use: d | s, def: 0 }; // the atomic's extra effects are added by atomicEffect
    }
    case op.BPF_LD: {
      if (code === op.BPF_LDDW) return { use: 0, def: d };
      const ind = (code & 0xe0) === op.BPF_IND;
      return { use: ind ? s : 0, def: R0 };
    }
  }
  return { use: 0, def: 0 };
}

function atomicEffect(w: number, imm: number): Effect {
  const d = bit(dstOf(w));
  const s = bit(srcOf(w));
  if (imm === op.BPF_CMPXCHG) return { use: d | s | R0, def: R0 };
  if ((imm & op.BPF_FETCH) !== 0) return { use: d | s, def: s };
  return { use: d | s, def: 0 };
}

interface CallSite {
  pc: number;
  callee: number;
}

/** Liveness of every function, iterated to a fixed point across calls. */
export function analyzeLiveness(
  cfg: ProgramCfg,
  inlined: InlineLookups = NO_INLINE_LOOKUPS,
): ProgramLiveness {
  const program = cfg.program;
  const functions: FunctionLiveness[] = cfg.functions.map((f) => ({
    params: 0,
    // The program's entry may also be a tail call's or a callback's target, whose caller reads
    // r0-r5 from the register file afterwards; it returns them all.
    results: f.start === 0 ? R0_R5 : R0,
  }));
  const liveAfterCall = new Map<number, RegSet>();
  const calls = cfg.functions.map((f) => localCalls(program, cfg, f));
  for (let changed = true; changed;) {
    changed = false;
    for (const f of cfg.functions) {
      const params = analyzeFunction(program, cfg, f, functions, liveAfterCall, inlined) & R0_R9;
      if (params !== functions[f.index]!.params) {
        functions[f.index]!.params = params;
        changed = true;
      }
      for (const call of calls[f.index]!) {
        const callee = functions[call.callee]!;
        const results = callee.results | (liveAfterCall.get(call.pc)! & R1_R5);
        if (results !== callee.results) {
          callee.results = results;
          changed = true;
        }
      }
    }
  }
  return { functions, liveAfterCall };
}

function localCalls(program: Program, cfg: ProgramCfg, f: BpfFunction): CallSite[] {
  const sites: CallSite[] = [];
  for (let pc = f.start; pc < f.end; pc += slotsOf(program.code, pc)) {
    const w = program.code[2 * pc]!;
    if (opcodeOf(w) === CALL && srcOf(w) === op.BPF_PSEUDO_CALL) {
      const target = pc + 1 + program.code[2 * pc + 1]!;
      sites.push({ pc, callee: cfg.functionAt.get(target)! });
    }
  }
  return sites;
}

/** Backward dataflow over one function's blocks; returns the live-in set of its entry. */
function analyzeFunction(
  program: Program,
  cfg: ProgramCfg,
  f: BpfFunction,
  functions: FunctionLiveness[],
  liveAfterCall: Map<number, RegSet>,
  inlined: InlineLookups,
): RegSet {
  const code = program.code;
  const blocks = f.blocks;
  const liveIn = new Int32Array(blocks.length);
  // Slots of each block, for the backward walk.
  const slots = blocks.map((b) => {
    const pcs: number[] = [];
    for (let pc = b.start; pc < b.end; pc += slotsOf(code, pc)) pcs.push(pc);
    return pcs;
  });
  for (let changed = true; changed;) {
    changed = false;
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i]!;
      let live = 0;
      for (const s of b.succs) live |= liveIn[s]!;
      const pcs = slots[i]!;
      for (let k = pcs.length - 1; k >= 0; k--) {
        const pc = pcs[k]!;
        const w = code[2 * pc]!;
        const c = opcodeOf(w);
        if (c === EXIT) {
          live = functions[f.index]!.results;
        } else if (c === CALL || c === CALLX) {
          liveAfterCall.set(pc, live);
          if (inlined.has(pc)) {
            live = (live & ~R0) | bit(2); // reads the key pointer, writes r0
            continue;
          }
          let use: RegSet;
          if (c === CALL && srcOf(w) === op.BPF_PSEUDO_CALL) {
            const callee = cfg.functionAt.get(pc + 1 + code[2 * pc + 1]!)!;
            use = functions[callee]!.params;
          } else {
            use = R0_R9 | (c === CALLX ? bit(dstOf(w)) : 0);
          }
          live = (live & ~R0_R5) | use;
        } else {
          const e =
            (c & 0x07) === op.BPF_STX && (c & 0xe0) === op.BPF_ATOMIC
              ? atomicEffect(w, code[2 * pc + 1]!)
              : effectOf(w);
          live = (live & ~e.def) | e.use;
        }
      }
      if (live !== liveIn[i]) {
        liveIn[i] = live;
        changed = true;
      }
    }
  }
  return liveIn[0]!;
}
