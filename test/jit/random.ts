// Seeded random BPF programs for the JIT's differential tests: mostly well-formed, with memory
// accesses aimed at the buffer and the stack often enough that programs run a while before they
// fault, loops that end or exhaust the budget, calls (local, helper, callx, kfunc, tail calls,
// callbacks), atomics, legacy packet loads, and now and then something wild (a write to r10,
// a recursive call, a pointer to code, an unknown helper).
import * as op from "../../runtime/isa/opcodes.js";
import type { Insn } from "../../runtime/isa/insn.js";

/** xorshift32, so failures reproduce from the seed. */
export function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

export interface RandomProgram {
  insns: Insn[];
  /** start slot of each function */
  functions: number[];
}

/** Helper ids the differential test registers beyond the suite's 0-5. */
export const TAIL_CALL_SELF = 12;
export const TAIL_CALL_OTHER = 13;
export const LOOP_CALLBACK = 181;

const ALU_OPS = [
  op.BPF_ADD,
  op.BPF_SUB,
  op.BPF_MUL,
  op.BPF_DIV,
  op.BPF_OR,
  op.BPF_AND,
  op.BPF_LSH,
  op.BPF_RSH,
  op.BPF_NEG,
  op.BPF_MOD,
  op.BPF_XOR,
  op.BPF_MOV,
  op.BPF_ARSH,
  op.BPF_END,
];
const JMP_OPS = [
  op.BPF_JEQ,
  op.BPF_JGT,
  op.BPF_JGE,
  op.BPF_JSET,
  op.BPF_JNE,
  op.BPF_JSGT,
  op.BPF_JSGE,
  op.BPF_JLT,
  op.BPF_JLE,
  op.BPF_JSLT,
  op.BPF_JSLE,
];
const SIZES = [op.BPF_B, op.BPF_H, op.BPF_W, op.BPF_DW];
const ATOMIC_IMMS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
const SPECIAL_IMMS = [0, 1, -1, 2, 3, 7, 8, 16, 31, 32, 33, 63, 64, 0x7fffffff, -0x80000000, 255];

/**
 * A main function and up to two subprograms. `memSize` is the buffer r1 points to on entry
 * (main copies it to r6, which the generator rarely overwrites, so accesses through r6 mostly
 * land in it).
 */
export function randomProgram(next: () => number, memSize: number): RandomProgram {
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
  const chance = (n: number): boolean => next() % n === 0;
  const lengths = [4 + (next() % 40)];
  for (let k = next() % 3; k > 0; k--) lengths.push(3 + (next() % 16));
  const starts: number[] = [];
  lengths.reduce((at, n) => (starts.push(at), at + n), 0);
  const insns: Insn[] = [];
  const reg = (): number => (chance(12) ? next() % 11 : pick([0, 0, 2, 3, 4, 5, 7, 8, 9]));
  const imm = (): number => (chance(3) ? pick(SPECIAL_IMMS) : (next() | 0) >> (next() % 32));

  const emit = (fn: number): void => {
    const begin = starts[fn]!;
    const end = begin + lengths[fn]!;
    const forward = (at: number): number => {
      // mostly forward (loops are rarer and usually exhaust the budget)
      const target = chance(6)
        ? begin + (next() % (at - begin + 1))
        : at + 1 + (next() % (end - at));
      return Math.min(target, end - 1) - at - 1;
    };
    if (fn === 0) insns.push(alu64(op.BPF_MOV | op.BPF_X, 6, 1, 0, 0));
    while (insns.length < end - 1) {
      const at = insns.length;
      const kind = next() % 100;
      if (kind < 40) {
        const aluOp = pick(ALU_OPS);
        const cls = chance(2) ? op.BPF_ALU64 : op.BPF_ALU;
        const x = chance(2) && aluOp !== op.BPF_NEG;
        let code = cls | aluOp | (x ? op.BPF_X : op.BPF_K);
        let off = 0;
        let value = x ? 0 : imm();
        if (aluOp === op.BPF_END) {
          code =
            cls === op.BPF_ALU64
              ? op.BPF_ALU64 | op.BPF_END
              : op.BPF_ALU | op.BPF_END | (chance(2) ? op.BPF_X : 0);
          value = pick([16, 32, 64]);
          insns.push({ code, dst: reg(), src: 0, off: 0, imm: value });
          continue;
        }
        if ((aluOp === op.BPF_DIV || aluOp === op.BPF_MOD) && chance(3)) off = 1;
        if (aluOp === op.BPF_MOV && x && chance(4))
          off = pick(cls === op.BPF_ALU64 ? [8, 16, 32] : [8, 16]);
        if (aluOp === op.BPF_NEG) value = 0;
        insns.push({ code, dst: reg(), src: x ? reg() : 0, off, imm: value });
      } else if (kind < 52) {
        // load: through r6 (the buffer) or r10 (the stack), sometimes anything
        const size = pick(SIZES);
        const [base, off] = address(next, memSize);
        const sx = size !== op.BPF_DW && chance(4);
        insns.push({
          code: op.BPF_LDX | (sx ? op.BPF_MEMSX : op.BPF_MEM) | size,
          dst: reg(),
          src: base,
          off,
          imm: 0,
        });
      } else if (kind < 64) {
        const size = pick(SIZES);
        const [base, off] = address(next, memSize);
        if (chance(3))
          insns.push({ code: op.BPF_ST | op.BPF_MEM | size, dst: base, src: 0, off, imm: imm() });
        else
          insns.push({ code: op.BPF_STX | op.BPF_MEM | size, dst: base, src: reg(), off, imm: 0 });
      } else if (kind < 68) {
        const [base, off] = address(next, memSize);
        insns.push({
          code: op.BPF_STX | op.BPF_ATOMIC | (chance(2) ? op.BPF_DW : op.BPF_W),
          dst: base,
          src: reg(),
          off: off & ~7,
          imm: pick(ATOMIC_IMMS),
        });
      } else if (kind < 82) {
        const cls = chance(3) ? op.BPF_JMP32 : op.BPF_JMP;
        const x = chance(2);
        insns.push({
          code: cls | pick(JMP_OPS) | (x ? op.BPF_X : op.BPF_K),
          dst: reg(),
          src: x ? reg() : 0,
          off: forward(at),
          imm: x ? 0 : chance(2) ? next() % 16 : imm(),
        });
      } else if (kind < 84) {
        const o = forward(at);
        insns.push(
          chance(4)
            ? { code: op.BPF_JMP32 | op.BPF_JA, dst: 0, src: 0, off: 0, imm: o }
            : { code: op.BPF_JMP | op.BPF_JA, dst: 0, src: 0, off: o, imm: 0 },
        );
      } else if (kind < 88) {
        if (at + 2 > end - 1) continue;
        const toFunc = chance(4) && starts.length > 1;
        const target = toFunc ? pick(starts.slice(1)) - at - 1 : imm();
        // a code address goes to r2 mostly: the callback helper takes its function there
        const dst = toFunc && chance(2) ? 2 : reg();
        insns.push({
          code: op.BPF_LDDW,
          dst,
          src: toFunc ? op.BPF_PSEUDO_FUNC : 0,
          off: 0,
          imm: target,
        });
        insns.push({ code: 0, dst: 0, src: 0, off: 0, imm: toFunc ? 0 : imm() });
      } else if (kind < 93) {
        if (starts.length > 1 && chance(2)) {
          // a local call (sometimes to main or to itself: recursion meets the depth limit)
          const target = chance(8) ? pick(starts) : pick(starts.slice(1));
          insns.push({
            code: op.BPF_JMP | op.BPF_CALL,
            dst: 0,
            src: op.BPF_PSEUDO_CALL,
            off: 0,
            imm: target - at - 1,
          });
        } else {
          const id = pick([
            0,
            0,
            1,
            2,
            2,
            3,
            3,
            4,
            5,
            5,
            TAIL_CALL_SELF,
            TAIL_CALL_OTHER,
            LOOP_CALLBACK,
            99,
          ]);
          if (id === LOOP_CALLBACK && starts.length > 1 && at + 3 <= end - 1 && chance(2)) {
            // the callback (a subprogram's address) in r2, as bpf_loop takes it
            const fnStart = pick(starts.slice(1));
            insns.push({
              code: op.BPF_LDDW,
              dst: 2,
              src: op.BPF_PSEUDO_FUNC,
              off: 0,
              imm: fnStart - at - 1,
            });
            insns.push({ code: 0, dst: 0, src: 0, off: 0, imm: 0 });
          }
          insns.push({ code: op.BPF_JMP | op.BPF_CALL, dst: 0, src: 0, off: 0, imm: id });
        }
      } else if (kind < 94) {
        insns.push(
          chance(2)
            ? { code: op.BPF_JMP | op.BPF_CALL | op.BPF_X, dst: reg(), src: 0, off: 0, imm: 0 }
            : {
                code: op.BPF_JMP | op.BPF_CALL,
                dst: 0,
                src: op.BPF_PSEUDO_KFUNC_CALL,
                off: 0,
                imm: pick([1, 2]),
              },
        );
      } else if (kind < 96) {
        const size = pick([op.BPF_B, op.BPF_H, op.BPF_W]);
        insns.push(
          chance(2)
            ? {
                code: op.BPF_LD | op.BPF_ABS | size,
                dst: 0,
                src: 0,
                off: 0,
                imm: pick([0, 1, 2, memSize - 4, memSize - 1, memSize, -1]),
              }
            : {
                code: op.BPF_LD | op.BPF_IND | size,
                dst: 0,
                src: reg(),
                off: 0,
                imm: pick([0, 1, 3, -1, 7]),
              },
        );
      } else if (kind < 97 && chance(4)) {
        // r10 is read-only to the verifier, but the interpreter lets it be written
        insns.push(alu64(op.BPF_ADD | op.BPF_K, 10, 0, 0, pick([-8, 8, -512])));
      } else {
        insns.push(alu64(op.BPF_MOV | op.BPF_K, reg(), 0, 0, imm()));
      }
    }
    insns.push({ code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  };
  starts.forEach((_, i) => emit(i));
  return { insns, functions: starts };
}

function alu64(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code: op.BPF_ALU64 | code, dst, src, off, imm };
}

/** A base register and offset: mostly inside the buffer (r6) or the frame (r10). */
function address(next: () => number, memSize: number): [number, number] {
  const r = next() % 10;
  if (r < 4) return [6, (next() % (memSize + 16)) - 8];
  if (r < 8) return [10, -((next() % 520) + 1)];
  if (r < 9) return [next() % 11, (next() % 64) - 32];
  return [pick2(next, [1, 2, 3, 7]), (next() % 64) - 8];
}

function pick2(next: () => number, xs: readonly number[]): number {
  return xs[next() % xs.length]!;
}
