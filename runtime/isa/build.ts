// Instruction constructors, named after the kernel's macros in include/linux/filter.h so code
// that emits BPF reads like the kernel's own (BPF_MOV64_IMM(BPF_REG_0, 0), BPF_EXIT_INSN()).
// Each returns fresh slots; lddw returns its two slots as a pair. No validation here: the
// compiler builds what it means, validateProgram checks the result.
import type { Insn } from "./insn.js";
import * as op from "./opcodes.js";

export const BPF_REG_0 = 0;
export const BPF_REG_1 = 1;
export const BPF_REG_2 = 2;
export const BPF_REG_3 = 3;
export const BPF_REG_4 = 4;
export const BPF_REG_5 = 5;
export const BPF_REG_6 = 6;
export const BPF_REG_7 = 7;
export const BPF_REG_8 = 8;
export const BPF_REG_9 = 9;
export const BPF_REG_10 = 10;

/** Any slot from its raw fields. */
export function BPF_RAW_INSN(
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
): Insn {
  return { code, dst, src, off, imm };
}

// ALU: `op` is BPF_ADD .. BPF_ARSH; off 1 on DIV/MOD makes sdiv/smod.

export const BPF_ALU64_REG = (aluOp: number, dst: number, src: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU64 | aluOp | op.BPF_X, dst, src, 0, 0);
export const BPF_ALU32_REG = (aluOp: number, dst: number, src: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU | aluOp | op.BPF_X, dst, src, 0, 0);
export const BPF_ALU64_IMM = (aluOp: number, dst: number, imm: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU64 | aluOp | op.BPF_K, dst, 0, 0, imm | 0);
export const BPF_ALU32_IMM = (aluOp: number, dst: number, imm: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU | aluOp | op.BPF_K, dst, 0, 0, imm | 0);

export const BPF_ALU64_REG_OFF = (aluOp: number, dst: number, src: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU64 | aluOp | op.BPF_X, dst, src, off, 0);
export const BPF_ALU32_REG_OFF = (aluOp: number, dst: number, src: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU | aluOp | op.BPF_X, dst, src, off, 0);
export const BPF_ALU64_IMM_OFF = (aluOp: number, dst: number, imm: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU64 | aluOp | op.BPF_K, dst, 0, off, imm | 0);
export const BPF_ALU32_IMM_OFF = (aluOp: number, dst: number, imm: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU | aluOp | op.BPF_K, dst, 0, off, imm | 0);

export const BPF_NEG64 = (dst: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU64 | op.BPF_NEG, dst, 0, 0, 0);
export const BPF_NEG32 = (dst: number): Insn => BPF_RAW_INSN(op.BPF_ALU | op.BPF_NEG, dst, 0, 0, 0);

export const BPF_MOV64_REG = (dst: number, src: number): Insn =>
  BPF_ALU64_REG(op.BPF_MOV, dst, src);
export const BPF_MOV32_REG = (dst: number, src: number): Insn =>
  BPF_ALU32_REG(op.BPF_MOV, dst, src);
export const BPF_MOV64_IMM = (dst: number, imm: number): Insn =>
  BPF_ALU64_IMM(op.BPF_MOV, dst, imm);
export const BPF_MOV32_IMM = (dst: number, imm: number): Insn =>
  BPF_ALU32_IMM(op.BPF_MOV, dst, imm);
/** Sign-extending move of the low `bits` (8, 16; 32 for the 64-bit form) of src. */
export const BPF_MOVSX64_REG = (dst: number, src: number, bits: number): Insn =>
  BPF_ALU64_REG_OFF(op.BPF_MOV, dst, src, bits);
export const BPF_MOVSX32_REG = (dst: number, src: number, bits: number): Insn =>
  BPF_ALU32_REG_OFF(op.BPF_MOV, dst, src, bits);

/** le/be byte order conversion of the low `bits` (16, 32, 64): `type` is BPF_TO_LE or BPF_TO_BE. */
export const BPF_ENDIAN = (type: number, dst: number, bits: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU | op.BPF_END | type, dst, 0, 0, bits);
/** Unconditional byte swap (cpu v4). */
export const BPF_BSWAP = (dst: number, bits: number): Insn =>
  BPF_RAW_INSN(op.BPF_ALU64 | op.BPF_END | op.BPF_K, dst, 0, 0, bits);

// 64-bit immediates, as lo/hi 32-bit halves (no BigInt).

/** lddw dst, hi:lo with a src_reg pseudo value (0 for a plain constant). */
export function BPF_LD_IMM64_RAW(dst: number, src: number, lo: number, hi: number): [Insn, Insn] {
  return [BPF_RAW_INSN(op.BPF_LDDW, dst, src, 0, lo | 0), BPF_RAW_INSN(0, 0, 0, 0, hi | 0)];
}
export const BPF_LD_IMM64 = (dst: number, lo: number, hi: number): [Insn, Insn] =>
  BPF_LD_IMM64_RAW(dst, 0, lo, hi);
export const BPF_LD_MAP_FD = (dst: number, fd: number): [Insn, Insn] =>
  BPF_LD_IMM64_RAW(dst, op.BPF_PSEUDO_MAP_FD, fd, 0);
/** Address `off` bytes into the value of map `fd` (array maps, globals). */
export const BPF_LD_MAP_VALUE = (dst: number, fd: number, off: number): [Insn, Insn] =>
  BPF_LD_IMM64_RAW(dst, op.BPF_PSEUDO_MAP_VALUE, fd, off);
/** Address of the subprogram `delta` slots after the next instruction. */
export const BPF_LD_FUNC = (dst: number, delta: number): [Insn, Insn] =>
  BPF_LD_IMM64_RAW(dst, op.BPF_PSEUDO_FUNC, delta, 0);

// Memory: `size` is BPF_B, BPF_H, BPF_W or BPF_DW.

export const BPF_LDX_MEM = (size: number, dst: number, src: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_LDX | op.BPF_MEM | size, dst, src, off, 0);
export const BPF_LDX_MEMSX = (size: number, dst: number, src: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_LDX | op.BPF_MEMSX | size, dst, src, off, 0);
export const BPF_STX_MEM = (size: number, dst: number, src: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_STX | op.BPF_MEM | size, dst, src, off, 0);
export const BPF_ST_MEM = (size: number, dst: number, off: number, imm: number): Insn =>
  BPF_RAW_INSN(op.BPF_ST | op.BPF_MEM | size, dst, 0, off, imm | 0);
/** Atomic `atomicOp` (BPF_ADD, BPF_AND | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG ...) on size W or DW. */
export const BPF_ATOMIC_OP = (
  size: number,
  atomicOp: number,
  dst: number,
  src: number,
  off: number,
): Insn => BPF_RAW_INSN(op.BPF_STX | op.BPF_ATOMIC | size, dst, src, off, atomicOp);

/** Legacy packet loads into r0 (the skb is implicitly r6). */
export const BPF_LD_ABS = (size: number, imm: number): Insn =>
  BPF_RAW_INSN(op.BPF_LD | op.BPF_ABS | size, 0, 0, 0, imm | 0);
export const BPF_LD_IND = (size: number, src: number, imm: number): Insn =>
  BPF_RAW_INSN(op.BPF_LD | op.BPF_IND | size, 0, src, 0, imm | 0);

// Control flow: offsets count slots from the next instruction.

export const BPF_JMP_REG = (jmpOp: number, dst: number, src: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP | jmpOp | op.BPF_X, dst, src, off, 0);
export const BPF_JMP_IMM = (jmpOp: number, dst: number, imm: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP | jmpOp | op.BPF_K, dst, 0, off, imm | 0);
export const BPF_JMP32_REG = (jmpOp: number, dst: number, src: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP32 | jmpOp | op.BPF_X, dst, src, off, 0);
export const BPF_JMP32_IMM = (jmpOp: number, dst: number, imm: number, off: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP32 | jmpOp | op.BPF_K, dst, 0, off, imm | 0);
/** goto +off */
export const BPF_JMP_A = (off: number): Insn => BPF_RAW_INSN(op.BPF_JMP | op.BPF_JA, 0, 0, off, 0);
/** gotol +imm (cpu v4): a 32-bit jump offset */
export const BPF_JMP32_A = (imm: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP32 | op.BPF_JA, 0, 0, 0, imm | 0);

/** Call helper number `id` (the position in the kernel's __BPF_FUNC_MAPPER). */
export const BPF_CALL_HELPER = (id: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP | op.BPF_CALL, 0, 0, 0, id | 0);
/** bpf-to-bpf call of the subprogram `delta` slots after the next instruction. */
export const BPF_CALL_REL = (delta: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP | op.BPF_CALL, 0, op.BPF_PSEUDO_CALL, 0, delta | 0);
/** Call of a kernel function by BTF id (`off` selects a module's BTF, 0 for vmlinux). */
export const BPF_CALL_KFUNC = (off: number, btfId: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP | op.BPF_CALL, 0, op.BPF_PSEUDO_KFUNC_CALL, off, btfId | 0);
/** Call through a register holding a helper id or code address (conformance suite; not Linux). */
export const BPF_CALLX = (reg: number): Insn =>
  BPF_RAW_INSN(op.BPF_JMP | op.BPF_CALL | op.BPF_X, reg, 0, 0, 0);
export const BPF_EXIT_INSN = (): Insn => BPF_RAW_INSN(op.BPF_JMP | op.BPF_EXIT, 0, 0, 0, 0);
