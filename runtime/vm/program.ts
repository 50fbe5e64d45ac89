// A program made ready to run: checked once, predecoded into a typed array the dispatch loop
// reads without touching Insn objects.
//
// Predecoded form: two int32 words per slot, plus one sentinel slot after the end.
//   word 0 = code | dst << 8 | src << 12 | off << 16      (off is recovered with `w >> 16`)
//   word 1 = imm
// The sentinel has opcode 0 (not a valid instruction), so falling off the end of the program
// lands in the dispatch loop's default case instead of reading past the array.
//
// lddw with a pseudo src_reg (map fd, map value, BTF id, subprogram address) is resolved here,
// as the kernel's loader resolves it before the program runs: the resolved 64-bit constant is
// written into the imm words of both slots. BPF_PSEUDO_FUNC resolves without help to a code
// address (funcAddress); the others need a resolver from the loader.
import { TsbpfError } from "../error.js";
import { IsaError, validateProgram } from "../isa/codec.js";
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";

/**
 * Resolve an lddw whose src_reg is a pseudo value. Gets the src_reg, the imm of the first slot
 * and the imm of the second; returns the 64-bit constant as [lo, hi].
 */
export type PseudoResolver = (
  src: number,
  imm: number,
  nextImm: number,
  index: number,
) => readonly [number, number];

export interface PrepareOptions {
  /** Name used in error messages (the ELF symbol, the vector file). */
  name?: string;
  resolvePseudo?: PseudoResolver;
}

/** An error preparing a program that is not structural (an unresolvable pseudo lddw). */
export class PrepareError extends TsbpfError {}

export class Program {
  constructor(
    readonly name: string,
    readonly insns: readonly Insn[],
    /** predecoded slots, see the file comment */
    readonly code: Int32Array,
  ) {}

  /** Number of slots. */
  get length(): number {
    return this.insns.length;
  }
}

// Subprogram addresses handed out by lddw src_reg=4 (BPF_PSEUDO_FUNC): they look like kernel
// text (high word 0xffffffff), one 8-byte slot per instruction from FUNC_BASE.
export const FUNC_ADDRESS_HI = -1;
const FUNC_BASE = 0xc0000000;

/** The code address of instruction `index`, as a (lo, hi) pair. */
export function funcAddress(index: number): readonly [number, number] {
  return [(FUNC_BASE + index * 8) | 0, FUNC_ADDRESS_HI];
}

/** The instruction index a code address names in a program of `length` slots, or -1. */
export function funcIndex(lo: number, hi: number, length: number): number {
  if (hi !== FUNC_ADDRESS_HI) return -1;
  const delta = (lo >>> 0) - FUNC_BASE;
  if (delta < 0 || delta % 8 !== 0 || delta / 8 >= length) return -1;
  return delta / 8;
}

/**
 * Validate the program's structure (runtime/isa/codec.ts validateProgram: opcodes, registers,
 * lddw pairs, jump and call targets, no fall-through) and predecode it. Throws IsaError naming
 * the slot for a structural fault, PrepareError for an lddw nobody can resolve.
 */
export function prepareProgram(insns: readonly Insn[], options: PrepareOptions = {}): Program {
  const name = options.name ?? "prog";
  const n = insns.length;
  validateProgram(insns, { callx: true });
  const code = new Int32Array(2 * (n + 1));
  for (let i = 0; i < n; i++) {
    const insn = insns[i]!;
    code[2 * i] =
      (insn.code & 0xff) | ((insn.dst & 0xf) << 8) | ((insn.src & 0xf) << 12) | (insn.off << 16);
    code[2 * i + 1] = insn.imm | 0;
    if (insn.code === op.BPF_LDDW) {
      const next = insns[i + 1]!; // validateProgram checked the pair
      const [lo, hi] = lddwValue(insn, next.imm | 0, i, n, options, name);
      code[2 * i + 1] = lo;
      code[2 * (i + 1)] = 0;
      code[2 * (i + 1) + 1] = hi;
      i++;
    }
  }
  return new Program(name, insns, code);
}

function lddwValue(
  insn: Insn,
  nextImm: number,
  i: number,
  n: number,
  options: PrepareOptions,
  name: string,
): readonly [number, number] {
  if (insn.src === 0) return [insn.imm | 0, nextImm];
  if (insn.src === op.BPF_PSEUDO_FUNC) {
    const target = i + 1 + insn.imm;
    if (target < 0 || target >= n)
      throw new IsaError(i, `lddw of function ${target} is outside the program`);
    return funcAddress(target);
  }
  if (insn.src > op.BPF_PSEUDO_MAP_IDX_VALUE)
    throw new IsaError(i, `lddw has unknown src_reg ${insn.src}`);
  if (options.resolvePseudo === undefined) {
    throw new PrepareError(
      `${name}: insn ${i}: lddw with src_reg ${insn.src} (${pseudoName(insn.src)}) needs a loader to resolve it`,
    );
  }
  const [lo, hi] = options.resolvePseudo(insn.src, insn.imm | 0, nextImm, i);
  return [lo | 0, hi | 0];
}

function pseudoName(src: number): string {
  return (
    ["", "map fd", "map value", "BTF id", "function", "map index", "map index value"][src] ??
    "unknown"
  );
}
