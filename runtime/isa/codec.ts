// Bytes <-> instruction slots (struct bpf_insn, 8 bytes, little endian), and the structural
// checks every consumer of untrusted byte code runs first.
//
// Slot layout: byte 0 opcode, byte 1 dst_reg (low nibble) and src_reg (high nibble),
// bytes 2-3 signed off, bytes 4-7 signed imm.
import { TsbpfError } from "../error.js";
import { INSN_SIZE, type Insn } from "./insn.js";
import * as op from "./opcodes.js";

/** A structural error in byte code, naming the slot index (or -1 for the whole program). */
export class IsaError extends TsbpfError {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(index >= 0 ? `insn ${index}: ${reason}` : reason);
  }
}

/** Decodes the slot at `byteOffset`. */
export function decodeInsn(bytes: Uint8Array, byteOffset = 0): Insn {
  const regs = bytes[byteOffset + 1]!;
  return {
    code: bytes[byteOffset]!,
    dst: regs & 0x0f,
    src: regs >>> 4,
    off: ((bytes[byteOffset + 2]! | (bytes[byteOffset + 3]! << 8)) << 16) >> 16,
    imm:
      bytes[byteOffset + 4]! |
      (bytes[byteOffset + 5]! << 8) |
      (bytes[byteOffset + 6]! << 16) |
      (bytes[byteOffset + 7]! << 24),
  };
}

/** Encodes one slot into `out` at `byteOffset` (a fresh 8-byte array by default). */
export function encodeInsn(
  insn: Insn,
  out = new Uint8Array(INSN_SIZE),
  byteOffset = 0,
): Uint8Array {
  out[byteOffset] = insn.code;
  out[byteOffset + 1] = (insn.dst & 0x0f) | ((insn.src & 0x0f) << 4);
  out[byteOffset + 2] = insn.off & 0xff;
  out[byteOffset + 3] = (insn.off >> 8) & 0xff;
  out[byteOffset + 4] = insn.imm & 0xff;
  out[byteOffset + 5] = (insn.imm >> 8) & 0xff;
  out[byteOffset + 6] = (insn.imm >> 16) & 0xff;
  out[byteOffset + 7] = (insn.imm >>> 24) & 0xff;
  return out;
}

/** Splits byte code into slots; its length must be a multiple of 8. */
export function decodeProgram(bytes: Uint8Array): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new IsaError(
      Math.floor(bytes.length / INSN_SIZE),
      `byte code length ${bytes.length} is not a multiple of ${INSN_SIZE} (truncated instruction)`,
    );
  }
  const n = bytes.length / INSN_SIZE;
  const insns = new Array<Insn>(n);
  for (let i = 0; i < n; i++) insns[i] = decodeInsn(bytes, i * INSN_SIZE);
  return insns;
}

/** Joins slots into byte code. */
export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  for (let i = 0; i < insns.length; i++) encodeInsn(insns[i]!, out, i * INSN_SIZE);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The opcode table: every opcode byte RFC 9669 and clang -mcpu=v1..v4 use. Variants that share
// an opcode and differ in off or imm (sdiv/smod, movsx, bswap widths, atomic operations) are
// told apart by validateProgram and the disassembler, not here.

export type OpKind =
  | "alu" // ALU/ALU64 binary operation, K or X
  | "neg"
  | "end" // byte swap: le/be (ALU), bswap (ALU64)
  | "ldx" // load from memory, BPF_MEM or BPF_MEMSX
  | "st" // store an immediate
  | "stx" // store a register
  | "atomic" // BPF_STX | BPF_ATOMIC, operation in imm
  | "lddw" // 64-bit immediate, two slots
  | "ldabs" // legacy packet access
  | "ldind"
  | "ja" // goto (JMP, off) or gotol (JMP32, imm)
  | "jcond" // conditional jump
  | "call" // helper, bpf-to-bpf or kfunc call, by src_reg
  | "callx" // call through a register (dst_reg)
  | "exit";

export interface OpcodeInfo {
  code: number;
  /** instruction class, BPF_LD .. BPF_ALU64 */
  cls: number;
  kind: OpKind;
  /** the uBPF / conformance mnemonic of the opcode's base form, e.g. `add32`, `ldxdw`, `jeq` */
  name: string;
}

const OPCODES: (OpcodeInfo | undefined)[] = new Array(256).fill(undefined);

const ALU_NAMES: [number, string][] = [
  [op.BPF_ADD, "add"],
  [op.BPF_SUB, "sub"],
  [op.BPF_MUL, "mul"],
  [op.BPF_DIV, "div"],
  [op.BPF_OR, "or"],
  [op.BPF_AND, "and"],
  [op.BPF_LSH, "lsh"],
  [op.BPF_RSH, "rsh"],
  [op.BPF_MOD, "mod"],
  [op.BPF_XOR, "xor"],
  [op.BPF_MOV, "mov"],
  [op.BPF_ARSH, "arsh"],
];
const JMP_NAMES: [number, string][] = [
  [op.BPF_JEQ, "jeq"],
  [op.BPF_JGT, "jgt"],
  [op.BPF_JGE, "jge"],
  [op.BPF_JSET, "jset"],
  [op.BPF_JNE, "jne"],
  [op.BPF_JSGT, "jsgt"],
  [op.BPF_JSGE, "jsge"],
  [op.BPF_JLT, "jlt"],
  [op.BPF_JLE, "jle"],
  [op.BPF_JSLT, "jslt"],
  [op.BPF_JSLE, "jsle"],
];
const SIZE_NAMES: [number, string][] = [
  [op.BPF_B, "b"],
  [op.BPF_H, "h"],
  [op.BPF_W, "w"],
  [op.BPF_DW, "dw"],
];

function defineOpcode(code: number, kind: OpKind, name: string): void {
  OPCODES[code] = { code, cls: op.classOf(code), kind, name };
}

function defineOpcodes(): void {
  for (const [cls, suffix] of [
    [op.BPF_ALU, "32"],
    [op.BPF_ALU64, ""],
  ] as const) {
    for (const [aluOp, name] of ALU_NAMES) {
      defineOpcode(cls | aluOp | op.BPF_K, "alu", name + suffix);
      defineOpcode(cls | aluOp | op.BPF_X, "alu", name + suffix);
    }
    defineOpcode(cls | op.BPF_NEG | op.BPF_K, "neg", "neg" + suffix);
  }
  defineOpcode(op.BPF_ALU | op.BPF_END | op.BPF_TO_LE, "end", "le");
  defineOpcode(op.BPF_ALU | op.BPF_END | op.BPF_TO_BE, "end", "be");
  defineOpcode(op.BPF_ALU64 | op.BPF_END | op.BPF_K, "end", "bswap");
  for (const [size, s] of SIZE_NAMES) {
    defineOpcode(op.BPF_LDX | op.BPF_MEM | size, "ldx", `ldx${s}`);
    defineOpcode(op.BPF_ST | op.BPF_MEM | size, "st", `st${s}`);
    defineOpcode(op.BPF_STX | op.BPF_MEM | size, "stx", `stx${s}`);
    if (size === op.BPF_DW) continue;
    defineOpcode(op.BPF_LDX | op.BPF_MEMSX | size, "ldx", `ldxs${s}`);
    defineOpcode(op.BPF_LD | op.BPF_ABS | size, "ldabs", `ldabs${s}`);
    defineOpcode(op.BPF_LD | op.BPF_IND | size, "ldind", `ldind${s}`);
  }
  defineOpcode(op.BPF_STX | op.BPF_ATOMIC | op.BPF_W, "atomic", "atomic32");
  defineOpcode(op.BPF_STX | op.BPF_ATOMIC | op.BPF_DW, "atomic", "atomic");
  defineOpcode(op.BPF_LDDW, "lddw", "lddw");
  for (const [cls, suffix] of [
    [op.BPF_JMP, ""],
    [op.BPF_JMP32, "32"],
  ] as const) {
    defineOpcode(cls | op.BPF_JA, "ja", "ja" + suffix);
    for (const [jmpOp, name] of JMP_NAMES) {
      defineOpcode(cls | jmpOp | op.BPF_K, "jcond", name + suffix);
      defineOpcode(cls | jmpOp | op.BPF_X, "jcond", name + suffix);
    }
  }
  defineOpcode(op.BPF_JMP | op.BPF_CALL, "call", "call");
  defineOpcode(op.BPF_JMP | op.BPF_CALL | op.BPF_X, "callx", "callx");
  defineOpcode(op.BPF_JMP | op.BPF_EXIT, "exit", "exit");
}
defineOpcodes();

/** What an opcode byte is, or undefined when no BPF instruction has it. */
export function opcodeInfo(code: number): OpcodeInfo | undefined {
  return OPCODES[code & 0xff];
}

/** Every valid opcode byte, ascending. */
export function validOpcodes(): number[] {
  return OPCODES.flatMap((info, code) => (info ? [code] : []));
}

/** The 64-bit constant of the lddw at `i`, as its low and high 32-bit halves (unsigned). */
export function lddwImm(insns: readonly Insn[], i: number): { lo: number; hi: number } {
  const first = insns[i];
  const second = insns[i + 1];
  if (first?.code !== op.BPF_LDDW) throw new IsaError(i, "not an lddw instruction");
  if (second === undefined) throw new IsaError(i, "truncated lddw (no second slot)");
  return { lo: first.imm >>> 0, hi: second.imm >>> 0 };
}

// ---------------------------------------------------------------------------------------------
// Structural validation: what can be decided from the byte code alone, before any verifier or
// interpreter looks at it (as the kernel's resolve_pseudo_ldimm64 / check_subprogs / check_cfg
// do). Register writes to r10, helper ids, shift amounts and division by zero are the
// verifier's business, not this file's.

export interface ValidateOptions {
  /** accept callx (BPF_JMP | BPF_CALL | BPF_X, target register in dst_reg); default true. The
   * conformance suite has it, the Linux kernel rejects it. */
  callx?: boolean;
}

export interface ProgramShape {
  /** start slot of every subprogram (0 and each bpf-to-bpf call or BPF_PSEUDO_FUNC target),
   * ascending */
  subprogs: number[];
}

const ATOMIC_OPERATIONS = new Set([
  op.BPF_ADD,
  op.BPF_AND,
  op.BPF_OR,
  op.BPF_XOR,
  op.BPF_ADD | op.BPF_FETCH,
  op.BPF_AND | op.BPF_FETCH,
  op.BPF_OR | op.BPF_FETCH,
  op.BPF_XOR | op.BPF_FETCH,
  op.BPF_XCHG,
  op.BPF_CMPXCHG,
]);

const hex2 = (code: number): string => "0x" + code.toString(16).padStart(2, "0");

/** Checks one slot's fields against its opcode; `i` only names the slot in errors. */
/** A register field in use must name r0-r10. */
function reg(i: number, name: string, field: string, r: number): void {
  if (r > 10) throw new IsaError(i, `${name}: bad register r${r} in ${field}`);
}

/** A field the opcode does not use must be 0, as the kernel requires. */
function zero(i: number, name: string, field: string, v: number): void {
  if (v !== 0) throw new IsaError(i, `${name}: reserved field ${field} is ${v}, must be 0`);
}

function checkInsn(insns: readonly Insn[], i: number, opts: ValidateOptions): void {
  const insn = insns[i]!;
  const { code, dst, src, off, imm } = insn;
  if (
    !Number.isInteger(code) ||
    code < 0 ||
    code > 0xff ||
    (dst & 0x0f) !== dst ||
    (src & 0x0f) !== src ||
    (off << 16) >> 16 !== off ||
    (imm | 0) !== imm
  ) {
    throw new IsaError(i, `field out of range in ${JSON.stringify(insn)}`);
  }
  const info = OPCODES[code];
  if (info === undefined || (info.kind === "callx" && opts.callx === false)) {
    throw new IsaError(i, `unknown opcode ${hex2(code)}`);
  }
  const name = info.name;
  const isX = (code & op.BPF_X) !== 0;
  switch (info.kind) {
    case "alu": {
      reg(i, name, "dst_reg", dst);
      if (isX) {
        reg(i, name, "src_reg", src);
        zero(i, name, "imm", imm);
      } else {
        zero(i, name, "src_reg", src);
      }
      if (off !== 0 && !aluOffAllowed(code, off)) {
        throw new IsaError(i, `${name}: invalid off ${off}`);
      }
      return;
    }
    case "neg":
      reg(i, name, "dst_reg", dst);
      zero(i, name, "src_reg", src);
      zero(i, name, "off", off);
      zero(i, name, "imm", imm);
      return;
    case "end":
      reg(i, name, "dst_reg", dst);
      zero(i, name, "src_reg", src);
      zero(i, name, "off", off);
      if (imm !== 16 && imm !== 32 && imm !== 64) {
        throw new IsaError(i, `${name}: invalid byte swap width ${imm} (16, 32 or 64)`);
      }
      return;
    case "ldx":
      reg(i, name, "dst_reg", dst);
      reg(i, name, "src_reg", src);
      zero(i, name, "imm", imm);
      return;
    case "st":
      reg(i, name, "dst_reg", dst);
      zero(i, name, "src_reg", src);
      return;
    case "stx":
      reg(i, name, "dst_reg", dst);
      reg(i, name, "src_reg", src);
      zero(i, name, "imm", imm);
      return;
    case "atomic":
      reg(i, name, "dst_reg", dst);
      reg(i, name, "src_reg", src);
      if (!ATOMIC_OPERATIONS.has(imm)) {
        throw new IsaError(i, `${name}: unknown atomic operation ${hex2(imm)}`);
      }
      return;
    case "lddw":
      checkLddw(insns, i);
      return;
    case "ldabs":
      zero(i, name, "dst_reg", dst);
      zero(i, name, "src_reg", src);
      zero(i, name, "off", off);
      return;
    case "ldind":
      zero(i, name, "dst_reg", dst);
      reg(i, name, "src_reg", src);
      zero(i, name, "off", off);
      return;
    case "ja":
      zero(i, name, "dst_reg", dst);
      zero(i, name, "src_reg", src);
      // goto keeps its offset in off, gotol (JMP32) in imm; the other field is reserved.
      zero(i, name, info.cls === op.BPF_JMP ? "imm" : "off", info.cls === op.BPF_JMP ? imm : off);
      return;
    case "jcond":
      reg(i, name, "dst_reg", dst);
      if (isX) {
        reg(i, name, "src_reg", src);
        zero(i, name, "imm", imm);
      } else {
        zero(i, name, "src_reg", src);
      }
      return;
    case "call":
      zero(i, name, "dst_reg", dst);
      if (src > op.BPF_PSEUDO_KFUNC_CALL) throw new IsaError(i, `call: unknown src_reg ${src}`);
      // A kfunc call may name the BTF of a module in off; the other calls reserve it.
      if (src !== op.BPF_PSEUDO_KFUNC_CALL) zero(i, name, "off", off);
      return;
    case "callx":
      reg(i, name, "dst_reg", dst);
      zero(i, name, "src_reg", src);
      zero(i, name, "off", off);
      zero(i, name, "imm", imm);
      return;
    case "exit":
      zero(i, name, "dst_reg", dst);
      zero(i, name, "src_reg", src);
      zero(i, name, "off", off);
      zero(i, name, "imm", imm);
      return;
  }
}

/** sdiv/smod use off = 1; movsx uses off = 8 or 16 (and 32 in ALU64), register source only. */
function aluOffAllowed(code: number, off: number): boolean {
  const aluOp = code & 0xf0;
  if (aluOp === op.BPF_DIV || aluOp === op.BPF_MOD) return off === 1;
  if (aluOp === op.BPF_MOV && (code & op.BPF_X) !== 0) {
    return off === 8 || off === 16 || (off === 32 && op.classOf(code) === op.BPF_ALU64);
  }
  return false;
}

function checkLddw(insns: readonly Insn[], i: number): void {
  const first = insns[i]!;
  if (first.dst > 10) throw new IsaError(i, `lddw: bad register r${first.dst} in dst_reg`);
  if (first.src > op.BPF_PSEUDO_MAP_IDX_VALUE) {
    throw new IsaError(i, `lddw: unknown src_reg ${first.src} (pseudo values are 0-6)`);
  }
  if (first.off !== 0) throw new IsaError(i, `lddw: reserved field off is ${first.off}, must be 0`);
  const second = insns[i + 1];
  if (second === undefined) throw new IsaError(i, "truncated lddw: no second slot");
  if (second.code !== 0 || second.dst !== 0 || second.src !== 0 || second.off !== 0) {
    throw new IsaError(
      i + 1,
      "malformed lddw second slot: code, dst_reg, src_reg and off must be 0",
    );
  }
}

/** Slot index a jump, call or BPF_PSEUDO_FUNC at `i` goes to; undefined for other slots. */
export function branchTarget(insn: Insn, i: number): number | undefined {
  const info = OPCODES[insn.code];
  if (info === undefined) return undefined;
  switch (info.kind) {
    case "ja":
      return i + 1 + (info.cls === op.BPF_JMP ? insn.off : insn.imm);
    case "jcond":
      return i + 1 + insn.off;
    case "call":
      return insn.src === op.BPF_PSEUDO_CALL ? i + 1 + insn.imm : undefined;
    case "lddw":
      return insn.src === op.BPF_PSEUDO_FUNC ? i + 1 + insn.imm : undefined;
    default:
      return undefined;
  }
}

/**
 * Checks the structure of a program and returns its subprogram layout. Throws IsaError naming
 * the first bad slot: unknown opcode, bad register number, reserved field set, truncated or
 * malformed lddw, bad atomic operation, jump or call outside the program, into the second
 * slot of an lddw or across a subprogram boundary, fall-through past the end, empty program.
 */
export function validateProgram(insns: readonly Insn[], opts: ValidateOptions = {}): ProgramShape {
  const n = insns.length;
  if (n === 0) throw new IsaError(0, "empty program");
  // Pass 1: each slot on its own; mark lddw second halves and collect subprogram starts.
  const secondSlot = new Uint8Array(n);
  const starts = new Set<number>([0]);
  for (let i = 0; i < n; i++) {
    checkInsn(insns, i, opts);
    const insn = insns[i]!;
    if (insn.code === op.BPF_LDDW) secondSlot[++i] = 1;
    const isCall = insn.code === (op.BPF_JMP | op.BPF_CALL) && insn.src === op.BPF_PSEUDO_CALL;
    const isFunc = insn.code === op.BPF_LDDW && insn.src === op.BPF_PSEUDO_FUNC;
    if (isCall || isFunc) {
      const at = isFunc ? i - 1 : i;
      const target = at + 1 + insn.imm;
      if (target < 0 || target >= n) {
        throw new IsaError(at, `call target ${target} outside the program (0..${n - 1})`);
      }
      starts.add(target);
    }
  }
  const subprogs = [...starts].sort((a, b) => a - b);
  // Pass 2: control flow stays inside the program, on instruction starts, within its subprogram.
  let sub = 0;
  for (let i = 0; i < n; i++) {
    if (secondSlot[i]) continue;
    while (sub + 1 < subprogs.length && i >= subprogs[sub + 1]!) sub++;
    const begin = subprogs[sub]!;
    const end = sub + 1 < subprogs.length ? subprogs[sub + 1]! : n;
    const target = branchTarget(insns[i]!, i);
    if (target !== undefined) checkTarget(insns[i]!, i, target, n, secondSlot, begin, end);
  }
  for (let s = 0; s < subprogs.length; s++) {
    const end = s + 1 < subprogs.length ? subprogs[s + 1]! : n;
    checkLastInsn(insns, end - 1, secondSlot);
  }
  return { subprogs };
}

function checkTarget(
  insn: Insn,
  i: number,
  target: number,
  n: number,
  secondSlot: Uint8Array,
  begin: number,
  end: number,
): void {
  if (target < 0 || target >= n) {
    throw new IsaError(i, `jump out of range: target ${target} outside the program (0..${n - 1})`);
  }
  if (secondSlot[target]) {
    throw new IsaError(i, `jump into the middle of the lddw at insn ${target - 1}`);
  }
  const isJump = insn.code !== (op.BPF_JMP | op.BPF_CALL) && insn.code !== op.BPF_LDDW;
  if (isJump && (target < begin || target >= end)) {
    throw new IsaError(
      i,
      `jump to insn ${target} leaves its subprogram (insns ${begin}..${end - 1})`,
    );
  }
}

/** A subprogram must not run off its end: its last instruction is exit or goto/gotol. */
function checkLastInsn(insns: readonly Insn[], last: number, secondSlot: Uint8Array): void {
  const code = insns[last]!.code;
  const isLast =
    !secondSlot[last] &&
    (code === (op.BPF_JMP | op.BPF_EXIT) ||
      code === (op.BPF_JMP | op.BPF_JA) ||
      code === (op.BPF_JMP32 | op.BPF_JA));
  if (!isLast) {
    const at = secondSlot[last] ? last - 1 : last;
    throw new IsaError(at, "fall-through past the end: last insn is not an exit or jump");
  }
}
