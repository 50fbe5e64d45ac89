// BPF opcode fields, as in linux/bpf_common.h and linux/bpf.h (RFC 9669 names in comments).

// Instruction classes: the low 3 bits of the opcode.
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

export const classOf = (code: number): number => code & 0x07;

// Load/store: size (bits 3-4) and mode (bits 5-7).
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20; // legacy packet access
export const BPF_IND = 0x40; // legacy packet access
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80; // sign-extending load (cpu v4)
export const BPF_ATOMIC = 0xc0;

export const sizeOf = (code: number): number => code & 0x18;
export const modeOf = (code: number): number => code & 0xe0;
/** Bytes moved by a load/store of this size field. */
export const sizeBytes = (size: number): number =>
  size === BPF_B ? 1 : size === BPF_H ? 2 : size === BPF_W ? 4 : 8;

// ALU/JMP: source (bit 3) and operation (bits 4-7).
export const BPF_K = 0x00;
export const BPF_X = 0x08;
export const srcOf = (code: number): number => code & 0x08;
export const opOf = (code: number): number => code & 0xf0;

export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30; // off = 1: sdiv (cpu v4)
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90; // off = 1: smod (cpu v4)
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0; // off = 8/16/32: movsx (cpu v4)
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0; // byte swap; BPF_ALU: TO_LE (K) / TO_BE (X); BPF_ALU64 + K: bswap

export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

export const BPF_JA = 0x00; // BPF_JMP32 + JA: gotol, 32-bit offset in imm
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

// Atomic operations live in imm of BPF_STX | BPF_ATOMIC | BPF_W/BPF_DW.
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// src_reg values with special meaning.
export const BPF_PSEUDO_MAP_FD = 1; // lddw: imm is a map fd
export const BPF_PSEUDO_MAP_VALUE = 2; // lddw: imm is a map fd, next imm an offset into its value
export const BPF_PSEUDO_BTF_ID = 3; // lddw: imm is a kernel BTF id (ksym)
export const BPF_PSEUDO_FUNC = 4; // lddw: imm is a pc-relative subprogram offset
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;
export const BPF_PSEUDO_CALL = 1; // call: imm is a pc-relative offset to a subprogram
export const BPF_PSEUDO_KFUNC_CALL = 2; // call: imm is a kernel function BTF id

/** The lddw opcode: BPF_LD | BPF_IMM | BPF_DW. */
export const BPF_LDDW = BPF_LD | BPF_IMM | BPF_DW;

export const MAX_BPF_REG = 11; // r0-r10
export const BPF_REG_FP = 10;
export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;
