// The JIT's first phase: split a prepared program into its BPF functions and each function into
// basic blocks with their successors and predecessors.
//
// A function is a subprogram as validateProgram finds them (slot 0 and every bpf-to-bpf call or
// BPF_PSEUDO_FUNC target); validateProgram also guarantees what this phase relies on: every
// jump lands on an instruction start inside its own function, and no function falls off its end.
//
// A block ends at a jump (conditional or not) or an exit, or just before another block's first
// instruction. Calls do not end blocks here: control returns to the next instruction, so they
// are ordinary straight-line code for the structuring phase.
import { validateProgram } from "../isa/codec.js";
import * as op from "../isa/opcodes.js";
import type { Program } from "../vm/program.js";

/** How a block ends. */
export type BlockEnd =
  | "fall" // runs into the next block
  | "jump" // ja / gotol
  | "cond" // conditional jump: succs = [taken, not taken]
  | "exit";

export interface BasicBlock {
  /** position in BpfFunction.blocks (ordered by start slot) */
  index: number;
  /** first slot */
  start: number;
  /** one past the last slot (an lddw's second slot included) */
  end: number;
  /** slot of the last instruction */
  last: number;
  kind: BlockEnd;
  /** successor blocks; for "cond" [taken, not taken] */
  succs: number[];
  /** predecessor blocks, one entry per edge */
  preds: number[];
}

export interface BpfFunction {
  /** position in ProgramCfg.functions */
  index: number;
  /** first slot (the call target) and one past the last slot */
  start: number;
  end: number;
  /** blocks by start slot; blocks[0] is the entry */
  blocks: BasicBlock[];
}

export interface ProgramCfg {
  program: Program;
  functions: BpfFunction[];
  /** function index by start slot */
  functionAt: Map<number, number>;
}

/** The opcode, registers and offset packed in a predecoded slot (runtime/vm/program.ts). */
export const opcodeOf = (w: number): number => w & 0xff;
export const dstOf = (w: number): number => (w >>> 8) & 0xf;
export const srcOf = (w: number): number => (w >>> 12) & 0xf;
export const offOf = (w: number): number => w >> 16;

const JA = op.BPF_JMP | op.BPF_JA;
const GOTOL = op.BPF_JMP32 | op.BPF_JA;
const EXIT = op.BPF_JMP | op.BPF_EXIT;
const CALL = op.BPF_JMP | op.BPF_CALL;
const CALLX = op.BPF_JMP | op.BPF_CALL | op.BPF_X;

/** Is this slot's opcode a conditional jump (JMP or JMP32 class, not ja/call/exit)? */
export function isConditionalJump(code: number): boolean {
  const cls = code & 0x07;
  if (cls !== op.BPF_JMP && cls !== op.BPF_JMP32) return false;
  return code !== JA && code !== GOTOL && code !== EXIT && code !== CALL && code !== CALLX;
}

/** Slot a jump at `pc` goes to. */
export function jumpTarget(code: Int32Array, pc: number): number {
  const w = code[2 * pc]!;
  return opcodeOf(w) === GOTOL ? pc + 1 + code[2 * pc + 1]! : pc + 1 + offOf(w);
}

/** Number of slots the instruction at `pc` takes (2 for lddw). */
export function slotsOf(code: Int32Array, pc: number): number {
  return opcodeOf(code[2 * pc]!) === op.BPF_LDDW ? 2 : 1;
}

/** Build the functions and blocks of a prepared program. */
export function buildCfg(program: Program): ProgramCfg {
  const { subprogs } = validateProgram(program.insns, { callx: true });
  const functions: BpfFunction[] = [];
  const functionAt = new Map<number, number>();
  subprogs.forEach((start, i) => {
    const end = i + 1 < subprogs.length ? subprogs[i + 1]! : program.length;
    functionAt.set(start, i);
    functions.push({ index: i, start, end, blocks: splitBlocks(program.code, start, end) });
  });
  return { program, functions, functionAt };
}

function splitBlocks(code: Int32Array, start: number, end: number): BasicBlock[] {
  // Leaders: the entry, every jump target, every instruction after a jump or exit.
  const leader = new Uint8Array(end - start + 1);
  leader[0] = 1;
  for (let pc = start; pc < end; pc += slotsOf(code, pc)) {
    const c = opcodeOf(code[2 * pc]!);
    if (c === JA || c === GOTOL || isConditionalJump(c)) {
      leader[jumpTarget(code, pc) - start] = 1;
      leader[pc + 1 - start] = 1;
    } else if (c === EXIT) {
      leader[pc + 1 - start] = 1;
    }
  }
  const blocks: BasicBlock[] = [];
  const blockAt = new Map<number, number>();
  let blockStart = start;
  for (let pc = start; pc < end;) {
    const next = pc + slotsOf(code, pc);
    if (next >= end || leader[next - start]) {
      blockAt.set(blockStart, blocks.length);
      blocks.push({
        index: blocks.length,
        start: blockStart,
        end: next,
        last: pc,
        kind: "fall",
        succs: [],
        preds: [],
      });
      blockStart = next;
    }
    pc = next;
  }
  for (const b of blocks) {
    const c = opcodeOf(code[2 * b.last]!);
    if (c === EXIT) {
      b.kind = "exit";
    } else if (c === JA || c === GOTOL) {
      b.kind = "jump";
      b.succs = [blockAt.get(jumpTarget(code, b.last))!];
    } else if (isConditionalJump(c)) {
      b.kind = "cond";
      b.succs = [blockAt.get(jumpTarget(code, b.last))!, blockAt.get(b.end)!];
    } else {
      b.succs = [blockAt.get(b.end)!]; // validateProgram: no fall-through past the end
    }
    for (const s of b.succs) blocks[s]!.preds.push(b.index);
  }
  return blocks;
}
