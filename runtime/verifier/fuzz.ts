// Soundness fuzzing: the verifier's promise is that an accepted program cannot fault or run
// away. Seeded random programs (map lookups, null checks, pointer arithmetic, stack spills,
// helpers, ring buffer records, branches and bounded loops) and mutations of accepted ones are
// verified; every accepted program then runs in the checked interpreter over random context and
// map contents. Any memory fault, helper misuse or exhausted budget is a verifier bug.
//
//   fuzzVerifier({ seed, programs }) -> { generated, accepted, runs, faults, ... }
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import { BpfMapType, BpfProgType } from "../uapi/bpf.js";
import {
  __BPF_FUNC_MAX_ID,
  ArgType,
  baseType,
  helperProto,
  MEM_WRITE,
  PTR_MAYBE_NULL,
} from "../uapi/helpers.js";
import { HelperTable, type HelperContext } from "../vm/helpers.js";
import { Interpreter } from "../vm/interpreter.js";
import { AddressSpace, KERNEL_HI, type Region } from "../vm/memory.js";
import { prepareProgram } from "../vm/program.js";
import { funcIndex } from "../vm/program.js";
import { type FuncInfo, verify, type VerifyMap } from "./verifier.js";

// ---- a seeded PRNG ----

class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

// ---- the fuzz maps ----

const FD_HASH = 3;
const FD_ARRAY = 4;
const FD_RINGBUF = 5;
const FD_RODATA = 8;
const FD_DATA = 9;
const BPF_F_RDONLY_PROG = 1 << 7;

export const FUZZ_MAPS: Record<number, VerifyMap> = {
  [FD_HASH]: {
    type: BpfMapType.BPF_MAP_TYPE_HASH,
    keySize: 4,
    valueSize: 8,
    maxEntries: 16,
    flags: 0,
  },
  [FD_ARRAY]: {
    type: BpfMapType.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 48,
    maxEntries: 4,
    flags: 0,
  },
  [FD_RINGBUF]: {
    type: BpfMapType.BPF_MAP_TYPE_RINGBUF,
    keySize: 0,
    valueSize: 0,
    maxEntries: 4096,
    flags: 0,
  },
  [FD_RODATA]: {
    type: BpfMapType.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 16,
    maxEntries: 1,
    flags: BPF_F_RDONLY_PROG,
    frozen: true,
  },
  [FD_DATA]: {
    type: BpfMapType.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 64,
    maxEntries: 1,
    flags: 0,
  },
};

// ---- program generation ----

/** A program under construction with forward labels. */
class Builder {
  readonly insns: Insn[] = [];
  private readonly fixups: { at: number; label: string }[] = [];
  private readonly labels = new Map<string, number>();
  private nextLabel = 0;

  emit(...xs: Insn[]): void {
    this.insns.push(...xs);
  }
  newLabel(): string {
    return `L${this.nextLabel++}`;
  }
  /** A jump to `label`; `code` is any jump opcode (off patched later). */
  jump(code: number, dst: number, src: number, imm: number, label: string): void {
    this.fixups.push({ at: this.insns.length, label });
    this.insns.push({ code, dst, src, off: 0, imm });
  }
  place(label: string): void {
    this.labels.set(label, this.insns.length);
  }
  /** lddw `dst` = the address of the function at `label` (BPF_PSEUDO_FUNC, imm patched later). */
  funcAddress(dst: number, label: string): void {
    this.funcFixups.push({ at: this.insns.length, label });
    this.insns.push(insn(op.BPF_LDDW, dst, op.BPF_PSEUDO_FUNC), insn(0));
  }
  private readonly funcFixups: { at: number; label: string }[] = [];
  /** callbacks to append after the main function: their label and body */
  readonly callbacks: { label: string; body: (b: Builder) => void }[] = [];
  finish(): Insn[] {
    for (const c of this.callbacks) {
      this.place(c.label);
      c.body(this);
    }
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target !== undefined) this.insns[f.at]!.off = target - f.at - 1;
    }
    for (const f of this.funcFixups) {
      const target = this.labels.get(f.label);
      if (target !== undefined) this.insns[f.at]!.imm = target - f.at - 1;
    }
    return this.insns;
  }
}

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});
const ALU64 = op.BPF_ALU64;
const ALU32 = op.BPF_ALU;
const SIZES = [op.BPF_B, op.BPF_H, op.BPF_W, op.BPF_DW];
const SIZE_BYTES: Record<number, number> = {
  [op.BPF_B]: 1,
  [op.BPF_H]: 2,
  [op.BPF_W]: 4,
  [op.BPF_DW]: 8,
};
const JMPS = [
  op.BPF_JEQ,
  op.BPF_JNE,
  op.BPF_JGT,
  op.BPF_JGE,
  op.BPF_JLT,
  op.BPF_JLE,
  op.BPF_JSGT,
  op.BPF_JSGE,
  op.BPF_JSLT,
  op.BPF_JSLE,
  op.BPF_JSET,
];
const ALUS = [
  op.BPF_ADD,
  op.BPF_SUB,
  op.BPF_MUL,
  op.BPF_DIV,
  op.BPF_OR,
  op.BPF_AND,
  op.BPF_LSH,
  op.BPF_RSH,
  op.BPF_MOD,
  op.BPF_XOR,
  op.BPF_ARSH,
];
/** Scalar registers the generator works with (r6 holds ctx). */
const WORK = [7, 8, 9];

function imm(rng: Prng): number {
  switch (rng.int(5)) {
    case 0:
      return rng.int(16);
    case 1:
      return rng.pick([0x7, 0xf, 0x1f, 0x3f, 0xff, 47, 48, 40, 8, 16, 63, 64]);
    case 2:
      return -rng.int(64);
    case 3:
      return rng.next() | 0;
    default:
      return rng.int(128);
  }
}

function genAlu(b: Builder, rng: Prng, regs: number[]): void {
  const aluOp = rng.pick(ALUS);
  const cls = rng.chance(0.25) ? ALU32 : ALU64;
  const d = rng.pick(regs);
  if (rng.chance(0.4)) {
    b.emit(insn(cls | aluOp | op.BPF_X, d, rng.pick(regs)));
    return;
  }
  let k = imm(rng);
  if (aluOp === op.BPF_LSH || aluOp === op.BPF_RSH || aluOp === op.BPF_ARSH)
    k = rng.int(cls === ALU64 ? 64 : 32);
  if ((aluOp === op.BPF_DIV || aluOp === op.BPF_MOD) && k === 0) k = 3;
  b.emit(insn(cls | aluOp | op.BPF_K, d, 0, 0, k));
}

function genCtxLoad(b: Builder, rng: Prng, regs: number[]): void {
  const size = rng.chance(0.7) ? op.BPF_DW : rng.pick(SIZES);
  const bytes = SIZE_BYTES[size]!;
  const off = rng.chance(0.97) ? rng.int(168 / bytes) * bytes : rng.int(180) - 4;
  b.emit(insn(op.BPF_LDX | op.BPF_MEM | size, rng.pick(regs), 6, off));
}

function stackOff(rng: Prng, bytes: number): number {
  return -(rng.int(512 / bytes) + 1) * bytes + (rng.chance(0.02) ? rng.int(8) : 0);
}

function genStack(b: Builder, rng: Prng, regs: number[]): void {
  const size = rng.pick(SIZES);
  const bytes = SIZE_BYTES[size]!;
  const off = rng.chance(0.6) ? -8 * (1 + rng.int(6)) : stackOff(rng, bytes);
  switch (rng.int(4)) {
    case 0:
      b.emit(insn(op.BPF_STX | op.BPF_MEM | size, 10, rng.pick(regs), off));
      break;
    case 1:
      b.emit(insn(op.BPF_ST | op.BPF_MEM | size, 10, 0, off, imm(rng)));
      break;
    case 2:
      // spill and fill a pointer (ctx or fp): whole slots only, mostly
      b.emit(
        insn(
          op.BPF_STX | op.BPF_MEM | (rng.chance(0.97) ? op.BPF_DW : size),
          10,
          rng.pick([6, 10]),
          -8 * (1 + rng.int(6)),
        ),
      );
      break;
    default:
      b.emit(insn(op.BPF_LDX | op.BPF_MEM | size, rng.pick(regs), 10, off));
  }
}

/** An index register bounded by a mask or a comparison (or, sometimes, not at all). */
function genIndex(b: Builder, rng: Prng, reg: number, limit: number, skip: string): void {
  switch (rng.chance(0.08) ? 3 : rng.int(3)) {
    case 0:
      b.emit(
        insn(ALU64 | op.BPF_AND | op.BPF_K, reg, 0, 0, rng.pick([7, 15, 31, 63, limit - 1, limit])),
      );
      break;
    case 1:
      b.jump(
        op.BPF_JMP | rng.pick([op.BPF_JGT, op.BPF_JGE, op.BPF_JSGT]) | op.BPF_K,
        reg,
        0,
        limit - rng.int(10),
        skip,
      );
      break;
    case 2:
      b.jump(op.BPF_JMP32 | op.BPF_JGT | op.BPF_K, reg, 0, limit - rng.int(10), skip);
      b.emit(insn(ALU32 | op.BPF_MOV | op.BPF_X, reg, reg));
      break;
    default:
      // sometimes no bound at all: the verifier must refuse
      break;
  }
}

function genMapAccess(b: Builder, rng: Prng, regs: number[]): void {
  const fd = rng.chance(0.6) ? FD_ARRAY : FD_HASH;
  const valueSize = FUZZ_MAPS[fd]!.valueSize;
  const keyOff = -8 * (1 + rng.int(4));
  b.emit(
    insn(op.BPF_ST | op.BPF_MEM | op.BPF_W, 10, 0, keyOff, rng.chance(0.7) ? rng.int(6) : imm(rng)),
  );
  b.emit(
    insn(ALU64 | op.BPF_MOV | op.BPF_X, 2, 10),
    insn(ALU64 | op.BPF_ADD | op.BPF_K, 2, 0, 0, keyOff),
  );
  b.emit(insn(op.BPF_LDDW, 1, op.BPF_PSEUDO_MAP_FD, 0, fd), insn(0));
  b.emit(insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, 1));
  const skip = b.newLabel();
  if (rng.chance(0.96)) b.jump(op.BPF_JMP | op.BPF_JEQ | op.BPF_K, 0, 0, 0, skip);
  const ptr = rng.chance(0.5) ? 0 : rng.pick(regs);
  if (ptr) b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, ptr, 0));
  const size = rng.pick(SIZES);
  const bytes = SIZE_BYTES[size]!;
  if (rng.chance(0.5)) {
    const idx = rng.pick(regs.filter((r) => r !== ptr));
    genIndex(b, rng, idx, valueSize - bytes + 1, skip);
    b.emit(insn(ALU64 | op.BPF_ADD | op.BPF_X, ptr, idx));
  }
  const off = rng.chance(0.8)
    ? rng.int(Math.max(1, valueSize - bytes + 1))
    : rng.int(valueSize + 8) - 4;
  if (rng.chance(0.5))
    b.emit(insn(op.BPF_LDX | op.BPF_MEM | size, rng.pick(WORK.filter((r) => r !== ptr)), ptr, off));
  else b.emit(insn(op.BPF_STX | op.BPF_MEM | size, ptr, rng.pick(WORK), off));
  b.place(skip);
}

function genGlobal(b: Builder, rng: Prng, regs: number[]): void {
  const store = rng.chance(0.3);
  const fd = store && rng.chance(0.95) ? FD_DATA : rng.chance(0.5) ? FD_DATA : FD_RODATA;
  const valueSize = FUZZ_MAPS[fd]!.valueSize;
  const size = rng.pick(SIZES);
  const bytes = SIZE_BYTES[size]!;
  const base = rng.int(valueSize);
  b.emit(insn(op.BPF_LDDW, 2, op.BPF_PSEUDO_MAP_VALUE, 0, fd), insn(0, 0, 0, 0, base));
  const off = rng.int(valueSize - bytes + 1) - base + (rng.chance(0.03) ? 8 : 0);
  if (!store) b.emit(insn(op.BPF_LDX | op.BPF_MEM | size, rng.pick(regs), 2, off));
  else b.emit(insn(op.BPF_ST | op.BPF_MEM | size, 2, 0, off, imm(rng)));
}

function genHelper(b: Builder, rng: Prng, regs: number[]): void {
  switch (rng.int(4)) {
    case 0: {
      // probe_read(fp - n, size, src)
      const n = 8 * (1 + rng.int(8));
      b.emit(
        insn(ALU64 | op.BPF_MOV | op.BPF_X, 1, 10),
        insn(ALU64 | op.BPF_ADD | op.BPF_K, 1, 0, 0, -n),
      );
      if (rng.chance(0.5))
        b.emit(
          insn(ALU64 | op.BPF_MOV | op.BPF_K, 2, 0, 0, rng.int(rng.chance(0.95) ? n + 1 : n + 8)),
        );
      else {
        b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, 2, rng.pick(regs)));
        b.emit(insn(ALU64 | op.BPF_AND | op.BPF_K, 2, 0, 0, rng.pick([7, 15, 31, 63])));
      }
      b.emit(
        insn(ALU64 | op.BPF_MOV | op.BPF_K, 3, 0, 0, 0),
        insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, 4),
      );
      break;
    }
    case 1:
      b.emit(insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, rng.pick([5, 7, 8, 14])));
      b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, rng.pick(regs), 0));
      break;
    case 2: {
      // get_current_comm(fp - 16, 16)
      b.emit(
        insn(ALU64 | op.BPF_MOV | op.BPF_X, 1, 10),
        insn(ALU64 | op.BPF_ADD | op.BPF_K, 1, 0, 0, -16),
      );
      b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 2, 0, 0, rng.chance(0.97) ? 16 : 24));
      b.emit(insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, 16));
      break;
    }
    default: {
      // a ring buffer record written and submitted
      const size = 8 * (1 + rng.int(4));
      b.emit(insn(op.BPF_LDDW, 1, op.BPF_PSEUDO_MAP_FD, 0, FD_RINGBUF), insn(0));
      b.emit(
        insn(ALU64 | op.BPF_MOV | op.BPF_K, 2, 0, 0, size),
        insn(ALU64 | op.BPF_MOV | op.BPF_K, 3, 0, 0, 0),
      );
      b.emit(insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, 131));
      const skip = b.newLabel();
      b.jump(op.BPF_JMP | op.BPF_JEQ | op.BPF_K, 0, 0, 0, skip);
      const off = rng.chance(0.97) ? 8 * rng.int(size / 8) : size;
      b.emit(insn(op.BPF_STX | op.BPF_MEM | op.BPF_DW, 0, rng.pick(regs), off));
      b.emit(
        insn(ALU64 | op.BPF_MOV | op.BPF_X, 1, 0),
        insn(ALU64 | op.BPF_MOV | op.BPF_K, 2, 0, 0, 0),
      );
      b.emit(insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, rng.chance(0.5) ? 132 : 133));
      b.place(skip);
    }
  }
}

function genBranch(b: Builder, rng: Prng, depth: number, regs: number[]): void {
  const skip = b.newLabel();
  const jop = rng.pick(JMPS);
  const cls = rng.chance(0.25) ? op.BPF_JMP32 : op.BPF_JMP;
  if (rng.chance(0.4)) b.jump(cls | jop | op.BPF_X, rng.pick(regs), rng.pick(regs), 0, skip);
  else b.jump(cls | jop | op.BPF_K, rng.pick(regs), 0, imm(rng), skip);
  genActions(b, rng, 1 + rng.int(3), depth + 1, regs);
  b.place(skip);
}

function genLoop(b: Builder, rng: Prng, depth: number, regs: number[]): void {
  if (!regs.includes(9)) return genAlu(b, rng, regs);
  // for (r9 = 0; r9 < n; r9++) { body; *(u8 *)(fp - 64 + r9) = r9 }
  const n = 1 + rng.int(16);
  b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 9, 0, 0, 0));
  const head = b.newLabel();
  b.place(head);
  genActions(
    b,
    rng,
    rng.int(3),
    depth + 1,
    regs.filter((r) => r !== 9),
  );
  b.emit(
    insn(ALU64 | op.BPF_MOV | op.BPF_X, 2, 10),
    insn(ALU64 | op.BPF_ADD | op.BPF_K, 2, 0, 0, -64),
  );
  b.emit(insn(ALU64 | op.BPF_ADD | op.BPF_X, 2, 9));
  b.emit(insn(op.BPF_STX | op.BPF_MEM | op.BPF_B, 2, 9, 0));
  b.emit(insn(ALU64 | op.BPF_ADD | op.BPF_K, 9, 0, 0, 1));
  b.jump(op.BPF_JMP | op.BPF_JLT | op.BPF_K, 9, 0, n, head);
}

/**
 * bpf_loop(nr, callback, ctx, flags) with a 32-byte context on the stack (or NULL), the
 * callback appended after the main function: it reads and writes the context through r2,
 * indexes map values with its index r1, and returns 0 or 1 (or, sometimes, something else).
 */
function genLoopCall(b: Builder, rng: Prng, regs: number[]): void {
  const ctxOff = -8 * (5 + rng.int(4));
  if (rng.chance(0.7)) {
    for (let k = 0; k < 4; k++)
      b.emit(insn(op.BPF_ST | op.BPF_MEM | op.BPF_DW, 10, 0, ctxOff + 8 * k, rng.int(4)));
  }
  if (rng.chance(0.7)) b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 1, 0, 0, rng.int(20)));
  else {
    // a number of iterations known only at run time, kept small for the interpreter's sake
    b.emit(insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, 7));
    b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, 1, 0));
    b.emit(insn(ALU64 | op.BPF_AND | op.BPF_K, 1, 0, 0, 31));
  }
  const label = b.newLabel();
  b.funcAddress(2, label);
  if (rng.chance(0.96)) {
    b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, 3, 10));
    b.emit(insn(ALU64 | op.BPF_ADD | op.BPF_K, 3, 0, 0, ctxOff));
  } else b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 3, 0, 0, 0));
  b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 4, 0, 0, rng.chance(0.95) ? 0 : 1));
  b.emit(insn(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, 181));
  if (rng.chance(0.5)) b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, rng.pick(regs), 0));
  b.callbacks.push({ label, body: (cb) => genCallback(cb, rng) });
}

function genCallback(b: Builder, rng: Prng): void {
  const ctxLoad = (reg: number, k: number): Insn =>
    insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, reg, 6, 8 * k);
  b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, 6, 2), insn(ALU64 | op.BPF_MOV | op.BPF_X, 7, 1));
  b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 8, 0, 0, imm(rng)));
  b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 9, 0, 0, imm(rng)));
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) {
    // the context's slots: 0..3 (4 reaches past it, into the rest of the caller's stack)
    const k = rng.chance(0.95) ? rng.int(4) : 4 + rng.int(3);
    switch (rng.int(5)) {
      case 0:
        b.emit(ctxLoad(rng.pick([8, 9]), k));
        break;
      case 1:
        b.emit(insn(op.BPF_STX | op.BPF_MEM | op.BPF_DW, 6, rng.pick([7, 8, 9]), 8 * k));
        break;
      case 2:
        // a counter in the context
        b.emit(ctxLoad(8, k), insn(ALU64 | op.BPF_ADD | op.BPF_K, 8, 0, 0, 1));
        b.emit(insn(op.BPF_STX | op.BPF_MEM | op.BPF_DW, 6, 8, 8 * k));
        break;
      case 3:
        if (rng.chance(0.5)) genMapAccess(b, rng, [7, 8, 9]);
        break;
      default:
        genAlu(b, rng, [7, 8, 9]);
    }
  }
  switch (rng.chance(0.95) ? rng.int(3) : 3) {
    case 0:
      b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, 0, 0, 0, rng.int(2)));
      break;
    case 1:
      b.emit(
        insn(ALU64 | op.BPF_MOV | op.BPF_X, 0, 7),
        insn(ALU64 | op.BPF_AND | op.BPF_K, 0, 0, 0, 1),
      );
      break;
    case 2:
      b.emit(ctxLoad(0, 0), insn(ALU64 | op.BPF_AND | op.BPF_K, 0, 0, 0, 1));
      break;
    default:
      b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, 0, rng.pick([7, 8, 9])));
  }
  b.emit(insn(op.BPF_JMP | op.BPF_EXIT));
}

function genActions(b: Builder, rng: Prng, n: number, depth: number, regs = WORK): void {
  for (let i = 0; i < n; i++) {
    const k = rng.int(depth > 1 ? 8 : 10);
    if (k < 3) genAlu(b, rng, regs);
    else if (k < 4) genCtxLoad(b, rng, regs);
    else if (k < 5) genStack(b, rng, regs);
    else if (k < 6) genMapAccess(b, rng, regs);
    else if (k < 7) genHelper(b, rng, regs);
    else if (k < 8) genGlobal(b, rng, regs);
    else if (k < 9) genBranch(b, rng, depth, regs);
    else genLoop(b, rng, depth, regs);
  }
}

/**
 * A random tracing program (kprobe, r1 = pt_regs). With `callbacks`, some bpf_loop calls with
 * callbacks are mixed in (kept out of the default stream so earlier seeds stay as they were).
 */
export function generateProgram(rng: Prng, callbacks = false): Insn[] {
  const b = new Builder();
  b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, 6, 1));
  for (const r of WORK) {
    if (rng.chance(0.5)) b.emit(insn(op.BPF_LDX | op.BPF_MEM | op.BPF_DW, r, 6, 8 * rng.int(21)));
    else b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_K, r, 0, 0, imm(rng)));
  }
  if (callbacks) {
    const n = 2 + rng.int(8);
    const call = rng.int(n);
    for (let i = 0; i < n; i++) {
      if (i === call || rng.chance(0.05)) genLoopCall(b, rng, WORK);
      else genActions(b, rng, 1, 0);
    }
  } else genActions(b, rng, 3 + rng.int(12), 0);
  b.emit(insn(ALU64 | op.BPF_MOV | op.BPF_X, 0, rng.pick(WORK)), insn(op.BPF_JMP | op.BPF_EXIT));
  return b.finish();
}

/** One to three random field changes. */
export function mutateProgram(rng: Prng, insns: readonly Insn[]): Insn[] {
  const out = insns.map((x) => ({ ...x }));
  const n = 1 + rng.int(3);
  for (let k = 0; k < n; k++) {
    const i = rng.int(out.length);
    const x = out[i]!;
    if (i > 0 && out[i - 1]!.code === op.BPF_LDDW) continue;
    switch (rng.int(5)) {
      case 0:
        x.imm = rng.chance(0.5) ? x.imm + rng.int(17) - 8 : imm(rng);
        break;
      case 1:
        x.off = x.off + rng.int(17) - 8;
        break;
      case 2:
        x.dst = rng.int(11);
        break;
      case 3:
        x.src = x.code === op.BPF_LDDW ? x.src : rng.int(11);
        break;
      default:
        // another operation of the same class
        if (x.code !== op.BPF_LDDW && op.classOf(x.code) !== op.BPF_JMP)
          x.code = (x.code & 0x0f) | (rng.int(14) << 4);
    }
  }
  return out;
}

// ---- running accepted programs ----

/** A fault found: a program the verifier accepted that misbehaved at run time. */
export interface FuzzFault {
  seed: number;
  index: number;
  kind: "generated" | "mutated";
  reason: string;
  insns: Insn[];
}

export interface FuzzReport {
  generated: number;
  mutated: number;
  accepted: number;
  rejected: number;
  runs: number;
  faults: FuzzFault[];
  /** verification and run time, ms */
  verifyMs: number;
  runMs: number;
  /** the program that took longest to verify */
  slowest: { index: number; ms: number; processedInsns: number };
}

export interface FuzzOptions {
  seed: number;
  /** random programs to generate (each also mutated `mutations` times) */
  programs: number;
  mutations?: number;
  /** interpreter runs per accepted program (random ctx and maps each time) */
  runs?: number;
  /** mix bpf_loop calls with callbacks into the programs */
  callbacks?: boolean;
}

const MAP_HANDLE_HI = 0xffffa000 | 0;

/** The machine an accepted program runs on: ctx, maps and the helpers fuzz programs call. */
class FuzzMachine {
  readonly memory = new AddressSpace();
  readonly ctx: Region;
  readonly arrays: Region[];
  readonly hash = new Map<number, Region>();
  readonly rodata: Region;
  readonly data: Region;
  readonly helpers = new HelperTable();
  readonly vm: Interpreter;
  rng: Prng;

  constructor(rng: Prng) {
    this.rng = rng;
    const m = this.memory;
    this.ctx = m.alloc(168, { name: "pt_regs", kind: "ctx", writable: false });
    this.arrays = [0, 1, 2, 3].map((k) => m.alloc(48, { name: `array[${k}]`, kind: "map_value" }));
    for (let k = 0; k < 16; k++)
      this.hash.set(k, m.alloc(8, { name: `hash[${k}]`, kind: "map_value" }));
    this.rodata = m.alloc(16, { name: ".rodata", kind: "map_value", writable: false });
    this.data = m.alloc(64, { name: ".data", kind: "map_value" });
    this.installHelpers();
    this.vm = new Interpreter({ memory: m, helpers: this.helpers });
  }

  /** Fresh random contents. */
  randomize(): void {
    const u8 = this.memory.u8;
    const fill = (r: Region): void => {
      for (let i = 0; i < r.size; i++) u8[r.base + i] = this.rng.int(256);
    };
    fill(this.ctx);
    this.arrays.forEach(fill);
    for (const r of this.hash.values()) fill(r);
    fill(this.rodata);
    fill(this.data);
    this.present = new Set([...this.hash.keys()].filter(() => this.rng.chance(0.5)));
  }

  present = new Set<number>();

  /** Read `size` bytes a helper was given; a bad pointer is the verifier's fault. */
  private checkRead(vm: HelperContext, reg: number, size: number, what: string): number {
    if (size === 0) return -1;
    const at = vm.memory.translateRead(vm.regs[2 * reg]!, vm.regs[2 * reg + 1]!, size);
    if (at < 0) throw new Error(`helper ${what}: r${reg} does not point to ${size} readable bytes`);
    return at;
  }

  private checkWrite(vm: HelperContext, reg: number, size: number, what: string): number {
    if (size === 0) return -1;
    const at = vm.memory.translateWrite(vm.regs[2 * reg]!, vm.regs[2 * reg + 1]!, size);
    if (at < 0) throw new Error(`helper ${what}: r${reg} does not point to ${size} writable bytes`);
    return at;
  }

  private mapOf(vm: HelperContext): number {
    if (vm.regs[3] !== MAP_HANDLE_HI) throw new Error("helper: r1 is not a map");
    return vm.regs[2]!;
  }

  private setR0(vm: HelperContext, lo: number, hi: number): void {
    vm.regs[0] = lo | 0;
    vm.regs[1] = hi | 0;
  }

  /**
   * Any other helper a kprobe may call: its memory arguments are checked against the prototype
   * (readable, or writable for helpers that fill memory), then r0 gets a random number.
   */
  private genericHelper(id: number): (vm: HelperContext) => void {
    const proto = helperProto(BpfProgType.BPF_PROG_TYPE_KPROBE, id);
    return (vm) => {
      const args = proto?.args ?? [];
      for (let a = 0; a < args.length; a++) {
        const t = args[a]!;
        const isNull0 = vm.regs[2 * (a + 1)] === 0 && vm.regs[2 * (a + 1) + 1] === 0;
        if (
          baseType(t) === ArgType.ARG_PTR_TO_MAP_KEY ||
          baseType(t) === ArgType.ARG_PTR_TO_MAP_VALUE
        ) {
          if (isNull0 && t & PTR_MAYBE_NULL) continue;
          const map = FUZZ_MAPS[this.mapOf(vm)]!;
          const size = baseType(t) === ArgType.ARG_PTR_TO_MAP_KEY ? map.keySize : map.valueSize;
          if (t & MEM_WRITE) this.checkWrite(vm, a + 1, size, `helper ${id}`);
          else this.checkRead(vm, a + 1, size, `helper ${id}`);
          continue;
        }
        if (baseType(t) !== ArgType.ARG_PTR_TO_MEM) continue;
        const size = vm.regs[2 * (a + 2)]! >>> 0;
        const isNull = vm.regs[2 * (a + 1)] === 0 && vm.regs[2 * (a + 1) + 1] === 0;
        if (size === 0 || (isNull && t & PTR_MAYBE_NULL)) continue;
        if (t & MEM_WRITE) {
          const at = this.checkWrite(vm, a + 1, size, `helper ${id}`);
          for (let i = 0; i < size; i++) vm.memory.u8[at + i] = this.rng.int(256);
        } else {
          this.checkRead(vm, a + 1, size, `helper ${id}`);
        }
      }
      if (proto?.args.some((t) => baseType(t) === ArgType.ARG_PTR_TO_LONG)) {
        throw new Error(`helper ${id}: ARG_PTR_TO_LONG not modelled by the fuzz machine`);
      }
      this.setR0(vm, this.rng.next(), this.rng.next());
    };
  }

  private installHelpers(): void {
    const h = this.helpers;
    for (let id = 1; id < __BPF_FUNC_MAX_ID; id++)
      h.register(id, `helper ${id}`, this.genericHelper(id));
    // bpf_loop as the kernel runs it: the callback, nr_loops times or until it returns 1
    h.register(181, "loop", (vm) => {
      const nr = vm.regs[2]! >>> 0;
      if (vm.regs[8] !== 0 || vm.regs[9] !== 0) return this.setR0(vm, -22, -1);
      if (nr > 1 << 23) return this.setR0(vm, -7, -1); // -E2BIG, as the kernel's helper
      // (more than 64 iterations are cut short: a long but bounded run is no verifier bug, and
      // any number of iterations is a run the verifier must have allowed for)
      const runs = Math.min(nr, 64);
      const pc = funcIndex(vm.regs[4]!, vm.regs[5]!, vm.program.length);
      if (pc < 0) throw new Error("bpf_loop: r2 is not the address of a subprogram");
      const ctxLo = vm.regs[6]!;
      const ctxHi = vm.regs[7]!;
      let i = 0;
      for (; i < runs; i++) {
        const ret = vm.callSubprogram(pc, [i, 0, ctxLo, ctxHi]);
        if (ret.hi !== 0 || (ret.lo !== 0 && ret.lo !== 1))
          throw new Error(`bpf_loop: the callback returned ${ret.lo} (not 0 or 1)`);
        if (ret.lo === 1) {
          i++;
          break;
        }
      }
      this.setR0(vm, i, 0);
    });
    h.register(1, "map_lookup_elem", (vm) => {
      const fd = this.mapOf(vm);
      const at = this.checkRead(vm, 2, 4, "map_lookup_elem key");
      const key = vm.memory.view.getUint32(at, true);
      let region: Region | undefined;
      if (fd === FD_ARRAY) region = this.arrays[key];
      else if (fd === FD_HASH) region = this.present.has(key) ? this.hash.get(key) : undefined;
      else if (fd === FD_DATA) region = key === 0 ? this.data : undefined;
      else if (fd === FD_RODATA) region = key === 0 ? this.rodata : undefined;
      else throw new Error(`map_lookup_elem on map fd ${fd}`);
      if (region) this.setR0(vm, region.lo(0), KERNEL_HI);
      else this.setR0(vm, 0, 0);
    });
    h.register(4, "probe_read", (vm) => {
      const size = vm.regs[4]! >>> 0;
      const at = this.checkWrite(vm, 1, size, "probe_read");
      for (let i = 0; i < size; i++) vm.memory.u8[at + i] = this.rng.int(256);
      this.setR0(vm, 0, 0);
    });
    for (const id of [5, 7, 14])
      h.register(id, "value", (vm) => this.setR0(vm, this.rng.next(), this.rng.next()));
    h.register(8, "get_smp_processor_id", (vm) => this.setR0(vm, this.rng.int(2), 0));
    h.register(16, "get_current_comm", (vm) => {
      const size = vm.regs[4]! >>> 0;
      const at = this.checkWrite(vm, 1, size, "get_current_comm");
      for (let i = 0; i < size; i++) vm.memory.u8[at + i] = 0x61;
      this.setR0(vm, 0, 0);
    });
    h.register(131, "ringbuf_reserve", (vm) => {
      this.mapOf(vm);
      const size = vm.regs[4]! >>> 0;
      // A record larger than the ring (or, now and then, a full ring) gives NULL.
      if (size > 4096 || this.rng.chance(0.2)) return this.setR0(vm, 0, 0);
      const r = vm.memory.alloc(size, { name: "ringbuf record", kind: "map_value" });
      this.records.add(r.base);
      this.setR0(vm, r.lo(0), KERNEL_HI);
    });
    for (const id of [132, 133]) {
      h.register(id, "ringbuf_submit", (vm) => {
        const base = vm.regs[2]! >>> 0;
        if (vm.regs[3] !== KERNEL_HI || !this.records.delete(base)) {
          throw new Error("ringbuf_submit: not a reserved record");
        }
        const region = vm.memory.regionAt(base);
        if (region) vm.memory.free(region);
        this.setR0(vm, 0, 0);
      });
    }
  }

  readonly records = new Set<number>();

  /** Address of an lddw's map reference (a handle) or global-data pointer. */
  resolve(src: number, fd: number, off: number): readonly [number, number] {
    if (src === op.BPF_PSEUDO_MAP_FD) return [fd, MAP_HANDLE_HI];
    const region = fd === FD_RODATA ? this.rodata : this.data;
    return [region.lo(off), KERNEL_HI];
  }
}

/** Run the fuzz loop: verify random and mutated programs, run every accepted one. */
export function fuzzVerifier(options: FuzzOptions): FuzzReport {
  const rng = new Prng(options.seed);
  const machine = new FuzzMachine(new Prng(options.seed ^ 0x5bd1e995));
  const report: FuzzReport = {
    generated: 0,
    mutated: 0,
    accepted: 0,
    rejected: 0,
    runs: 0,
    faults: [],
    verifyMs: 0,
    runMs: 0,
    slowest: { index: -1, ms: 0, processedInsns: 0 },
  };
  const mutations = options.mutations ?? 1;
  const runs = options.runs ?? 3;
  const check = (insns: Insn[], index: number, kind: "generated" | "mutated"): boolean => {
    const t0 = performance.now();
    const funcInfo = funcInfoOf(insns);
    const result = verify(
      { insns, progType: BpfProgType.BPF_PROG_TYPE_KPROBE, license: "GPL" },
      { mapByFd: (fd) => FUZZ_MAPS[fd], insnLimit: 30_000, ...(funcInfo && { funcInfo }) },
    );
    const ms = performance.now() - t0;
    report.verifyMs += ms;
    if (ms > report.slowest.ms)
      report.slowest = { index, ms, processedInsns: result.stats.processedInsns };
    if (!result.ok) {
      report.rejected++;
      return false;
    }
    report.accepted++;
    const t1 = performance.now();
    // As the kernel does, code no path reaches becomes a trap (ja -1): reaching it is a fault.
    const runnable = insns.map((x, i) =>
      result.facts[i]!.seen || isSecondSlot(insns, i) ? x : TRAP,
    );
    // The kernel ignores exit's off field; the interpreter insists it is 0.
    for (let i = 0; i < runnable.length; i++) {
      const x = runnable[i]!;
      if (x.code === (op.BPF_JMP | op.BPF_EXIT) && x.off !== 0 && !isSecondSlot(insns, i))
        runnable[i] = { ...x, off: 0 };
    }
    for (let i = 0; i + 1 < runnable.length; i++) {
      if (runnable[i] === TRAP && insns[i]!.code === op.BPF_LDDW) runnable[i + 1] = TRAP;
    }
    const fault = runAccepted(machine, runnable, runs, result.stats.processedInsns, report);
    report.runMs += performance.now() - t1;
    if (fault) report.faults.push({ seed: options.seed, index, kind, reason: fault, insns });
    return true;
  };
  for (let i = 0; i < options.programs; i++) {
    const insns = generateProgram(rng, options.callbacks);
    report.generated++;
    check(insns, i, "generated");
    for (let m = 0; m < mutations; m++) {
      report.mutated++;
      check(mutateProgram(rng, insns), i, "mutated");
    }
  }
  return report;
}

/** BTF func_info as clang gives it: every subprogram start, static (when callbacks exist). */
function funcInfoOf(insns: readonly Insn[]): FuncInfo[] | undefined {
  const starts = new Set([0]);
  let callbacks = false;
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    const func = x.code === op.BPF_LDDW && x.src === op.BPF_PSEUDO_FUNC;
    if (func) callbacks = true;
    if (func || (x.code === (op.BPF_JMP | op.BPF_CALL) && x.src === op.BPF_PSEUDO_CALL))
      starts.add(i + x.imm + 1);
    if (x.code === op.BPF_LDDW) i++;
  }
  if (!callbacks) return undefined;
  return [...starts].sort((a, b) => a - b).map((insnOff, k) => ({ insnOff, name: `f${k}` }));
}

const TRAP: Insn = { code: op.BPF_JMP | op.BPF_JA, dst: 0, src: 0, off: -1, imm: 0 };

const isSecondSlot = (insns: readonly Insn[], i: number): boolean => {
  // The second slot of a seen lddw stays; walk back over lddw pairs to tell slots apart.
  let k = 0;
  while (k < i) k += insns[k]!.code === op.BPF_LDDW ? 2 : 1;
  return k > i;
};

function runAccepted(
  machine: FuzzMachine,
  insns: Insn[],
  runs: number,
  processed: number,
  report: FuzzReport,
): string | undefined {
  let program;
  try {
    program = prepareProgram(insns, {
      name: "fuzz",
      resolvePseudo: (src, fd, off) => machine.resolve(src, fd, off),
    });
  } catch (err) {
    return `the verifier accepted a program the interpreter cannot prepare: ${(err as Error).message}`;
  }
  // A program cannot run longer than the verifier walked it (plus slack for short paths).
  // bpf_loop runs its callback up to 64 times where the verifier may have walked it twice.
  const loops = insns.some(
    (x) => x.code === (op.BPF_JMP | op.BPF_CALL) && x.src === 0 && x.imm === 181,
  );
  const budget = Math.max(loops ? 200000 : 10000, processed * 4);
  for (let r = 0; r < runs; r++) {
    machine.randomize();
    report.runs++;
    try {
      machine.vm.run(program, { args: [[machine.ctx.lo(0), KERNEL_HI]], budget });
    } catch (err) {
      return (err as Error).message;
    }
    if (machine.records.size) {
      machine.records.clear();
      return "a ring buffer record was neither submitted nor discarded";
    }
  }
  return undefined;
}

export { Prng as FuzzPrng };
