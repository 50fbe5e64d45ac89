// Disassembler: the text `llvm-objdump -d` (LLVM 14) prints for each instruction, e.g.
// `r1 = 682344`, `w0 += w1`, `*(u32 *)(r10 - 4) = r1`, `if r1 > 3 goto +2`, `r0 = 0 ll`.
//
// Where LLVM 14 prints `<unknown>` for a valid instruction (cpu v4 forms, mod, jset, store of
// an immediate, 32-bit atomics other than add without +alu32) we print what newer LLVM prints:
// `r1 s/= r2`, `r1 = (s8)r2`, `r1 = *(s8 *)(r2 + 0)`, `r1 = bswap16 r1`, `gotol +N`,
// `r1 %= r2`, `if r1 & r2 goto +1`, `*(u32 *)(r1 + 0) = 5`, `callx r2` (register in dst_reg).
// Where LLVM 14 reads an instruction wrongly (sdiv/smod/movsx as plain div/mod/mov, because it
// ignores off) we print the right thing too. Bytes no BPF instruction has give `<unknown>`.
import type { Insn } from "./insn.js";
import * as op from "./opcodes.js";

export interface DisasmOptions {
  /** print as `llvm-objdump -d --mattr=+alu32` does: 8/16/32-bit loads, stores and 32-bit
   * atomics name w registers */
  alu32?: boolean;
}

export interface ObjdumpLineOptions extends DisasmOptions {
  /** name for the jump/call target slot, printed as ` <name>` after the instruction */
  label?: (target: number) => string | undefined;
  /** slot number printed in the first column (default: the index) */
  address?: number;
}

export const UNKNOWN = "<unknown>";

const ALU_OPERATORS: string[] = [];
ALU_OPERATORS[op.BPF_ADD >> 4] = "+=";
ALU_OPERATORS[op.BPF_SUB >> 4] = "-=";
ALU_OPERATORS[op.BPF_MUL >> 4] = "*=";
ALU_OPERATORS[op.BPF_DIV >> 4] = "/=";
ALU_OPERATORS[op.BPF_OR >> 4] = "|=";
ALU_OPERATORS[op.BPF_AND >> 4] = "&=";
ALU_OPERATORS[op.BPF_LSH >> 4] = "<<=";
ALU_OPERATORS[op.BPF_RSH >> 4] = ">>=";
ALU_OPERATORS[op.BPF_MOD >> 4] = "%=";
ALU_OPERATORS[op.BPF_XOR >> 4] = "^=";
ALU_OPERATORS[op.BPF_MOV >> 4] = "=";
ALU_OPERATORS[op.BPF_ARSH >> 4] = "s>>=";

const JMP_OPERATORS: string[] = [];
JMP_OPERATORS[op.BPF_JEQ >> 4] = "==";
JMP_OPERATORS[op.BPF_JGT >> 4] = ">";
JMP_OPERATORS[op.BPF_JGE >> 4] = ">=";
JMP_OPERATORS[op.BPF_JSET >> 4] = "&";
JMP_OPERATORS[op.BPF_JNE >> 4] = "!=";
JMP_OPERATORS[op.BPF_JSGT >> 4] = "s>";
JMP_OPERATORS[op.BPF_JSGE >> 4] = "s>=";
JMP_OPERATORS[op.BPF_JLT >> 4] = "<";
JMP_OPERATORS[op.BPF_JLE >> 4] = "<=";
JMP_OPERATORS[op.BPF_JSLT >> 4] = "s<";
JMP_OPERATORS[op.BPF_JSLE >> 4] = "s<=";

// Indexed by the size field >> 3: W, H, B, DW.
const UNSIGNED_TYPE = ["u32", "u16", "u8", "u64"];
const SIGNED_TYPE = ["s32", "s16", "s8", ""];

const ATOMIC_NAMES: Record<number, string> = {
  [op.BPF_ADD]: "add",
  [op.BPF_AND]: "and",
  [op.BPF_OR]: "or",
  [op.BPF_XOR]: "xor",
};

/** Signed offset as LLVM prints branch targets: `+3`, `-1`, `+0`. */
const signed = (n: number): string => (n < 0 ? `${n}` : `+${n}`);

/** Memory operand body `r1 + 4` / `r10 - 8`. */
const address = (reg: number, off: number): string =>
  off < 0 ? `r${reg} - ${-off}` : `r${reg} + ${off}`;

/** The text llvm-objdump prints for the instruction at `index` (an lddw reads two slots). */
export function disassemble(insns: readonly Insn[], index: number, opts?: DisasmOptions): string {
  const insn = insns[index];
  if (insn === undefined) return UNKNOWN;
  const code = insn.code;
  switch (code & 0x07) {
    case op.BPF_ALU:
    case op.BPF_ALU64:
      return alu(insn);
    case op.BPF_JMP:
    case op.BPF_JMP32:
      return jump(insn);
    case op.BPF_LDX:
      return load(insn, opts?.alu32 === true);
    case op.BPF_ST:
    case op.BPF_STX:
      return store(insn, opts?.alu32 === true);
    default:
      return ld(insns, index);
  }
}

function alu(insn: Insn): string {
  const { code, dst, src, off, imm } = insn;
  const is64 = (code & 0x07) === op.BPF_ALU64;
  const r = is64 ? "r" : "w";
  const aluOp = code & 0xf0;
  const isX = (code & op.BPF_X) !== 0;
  if (aluOp === op.BPF_NEG) return isX ? UNKNOWN : `${r}${dst} = -${r}${dst}`;
  if (aluOp === op.BPF_END) {
    if (imm !== 16 && imm !== 32 && imm !== 64) return UNKNOWN;
    if (is64) return isX ? UNKNOWN : `r${dst} = bswap${imm} r${dst}`;
    return `r${dst} = ${isX ? "be" : "le"}${imm} r${dst}`;
  }
  const operator = ALU_OPERATORS[aluOp >> 4];
  if (operator === undefined) return UNKNOWN;
  const source = isX ? `${r}${src}` : `${imm}`;
  if (off === 0) return `${r}${dst} ${operator} ${source}`;
  // cpu v4 variants told apart by off.
  if (off === 1 && (aluOp === op.BPF_DIV || aluOp === op.BPF_MOD)) {
    return `${r}${dst} s${operator} ${source}`;
  }
  if (aluOp === op.BPF_MOV && isX && (off === 8 || off === 16 || (off === 32 && is64))) {
    return `${r}${dst} = (s${off})${r}${src}`;
  }
  return UNKNOWN;
}

function jump(insn: Insn): string {
  const { code, dst, src, off, imm } = insn;
  const is64 = (code & 0x07) === op.BPF_JMP;
  const jmpOp = code & 0xf0;
  const isX = (code & op.BPF_X) !== 0;
  switch (jmpOp) {
    case op.BPF_JA:
      if (isX) return UNKNOWN;
      return is64 ? `goto ${signed(off)}` : `gotol ${signed(imm)}`;
    case op.BPF_CALL:
      if (!is64) return UNKNOWN;
      return isX ? `callx r${dst}` : `call ${imm}`;
    case op.BPF_EXIT:
      return is64 && !isX ? "exit" : UNKNOWN;
  }
  const operator = JMP_OPERATORS[jmpOp >> 4];
  if (operator === undefined) return UNKNOWN;
  const r = is64 ? "r" : "w";
  const right = isX ? `${r}${src}` : `${imm}`;
  return `if ${r}${dst} ${operator} ${right} goto ${signed(off)}`;
}

function load(insn: Insn, alu32: boolean): string {
  const { code, dst, src, off } = insn;
  const sizeIndex = (code & 0x18) >> 3;
  const mode = code & 0xe0;
  if (mode === op.BPF_MEMSX) {
    const type = SIGNED_TYPE[sizeIndex]!;
    return type === "" ? UNKNOWN : `r${dst} = *(${type} *)(${address(src, off)})`;
  }
  if (mode !== op.BPF_MEM) return UNKNOWN;
  const r = alu32 && sizeIndex !== 3 ? "w" : "r";
  return `${r}${dst} = *(${UNSIGNED_TYPE[sizeIndex]} *)(${address(src, off)})`;
}

function store(insn: Insn, alu32: boolean): string {
  const { code, dst, src, off, imm } = insn;
  const sizeIndex = (code & 0x18) >> 3;
  const mode = code & 0xe0;
  const type = UNSIGNED_TYPE[sizeIndex]!;
  if ((code & 0x07) === op.BPF_ST) {
    return mode === op.BPF_MEM ? `*(${type} *)(${address(dst, off)}) = ${imm}` : UNKNOWN;
  }
  const is32 = sizeIndex !== 3;
  if (mode === op.BPF_MEM) {
    return `*(${type} *)(${address(dst, off)}) = ${alu32 && is32 ? "w" : "r"}${src}`;
  }
  if (mode !== op.BPF_ATOMIC || (sizeIndex !== 0 && sizeIndex !== 3)) return UNKNOWN;
  return atomic(insn, is32, alu32);
}

// 32-bit atomics other than add exist in LLVM only with +alu32, so they always print w.
function atomic(insn: Insn, is32: boolean, alu32: boolean): string {
  const { dst, src, off, imm } = insn;
  const at = address(dst, off);
  const type = is32 ? "u32" : "u64";
  const r = is32 ? "w" : "r";
  if (imm === op.BPF_XCHG)
    return is32 ? `w${src} = xchg32_32(${at}, w${src})` : `r${src} = xchg_64(${at}, r${src})`;
  if (imm === op.BPF_CMPXCHG) {
    return is32 ? `w0 = cmpxchg32_32(${at}, w0, w${src})` : `r0 = cmpxchg_64(${at}, r0, r${src})`;
  }
  const name = ATOMIC_NAMES[imm & ~op.BPF_FETCH];
  if (name === undefined) return UNKNOWN;
  if (imm & op.BPF_FETCH)
    return `${r}${src} = atomic_fetch_${name}((${type} *)(${at}), ${r}${src})`;
  // `lock ... += r2` on u32 keeps r unless +alu32 (LLVM 14's XADDW); and/or/xor exist only as w.
  const reg = is32 && (alu32 || imm !== op.BPF_ADD) ? "w" : "r";
  const operator = ALU_OPERATORS[imm >> 4]!;
  return `lock *(${type} *)(${at}) ${operator} ${reg}${src}`;
}

function ld(insns: readonly Insn[], index: number): string {
  const { code, src, imm, off } = insns[index]!;
  const sizeIndex = (code & 0x18) >> 3;
  const mode = code & 0xe0;
  if (mode === op.BPF_ABS || mode === op.BPF_IND) {
    if (sizeIndex === 3) return UNKNOWN;
    const at = mode === op.BPF_ABS ? `${imm}` : `r${src}`;
    return `r0 = *(${UNSIGNED_TYPE[sizeIndex]} *)skb[${at}]`;
  }
  if (code !== op.BPF_LDDW || off !== 0) return UNKNOWN;
  const second = insns[index + 1];
  if (second === undefined) return UNKNOWN;
  const dst = insns[index]!.dst;
  // With a pseudo src_reg LLVM prints the raw fields and only the low half, unsigned.
  if (src !== 0) return `ld_pseudo\tr${dst}, ${src}, ${imm >>> 0}`;
  return `r${dst} = ${int64ToString(imm >>> 0, second.imm | 0)} ll`;
}

/** Signed decimal of the 64-bit value hi:lo, without BigInt while it fits a double exactly. */
export function int64ToString(lo: number, hi: number): string {
  const value = hi * 0x100000000 + (lo >>> 0);
  if (Number.isSafeInteger(value)) return `${value}`;
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString();
}

/** Number of slots the instruction at `index` takes (2 for lddw, else 1). */
export function insnSlots(insns: readonly Insn[], index: number): number {
  return insns[index]?.code === op.BPF_LDDW && index + 1 < insns.length ? 2 : 1;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

function slotHex(insn: Insn): string {
  const { code, dst, src, off, imm } = insn;
  return (
    `${HEX[code & 0xff]} ${HEX[(dst & 0x0f) | ((src & 0x0f) << 4)]} ` +
    `${HEX[off & 0xff]} ${HEX[(off >> 8) & 0xff]} ` +
    `${HEX[imm & 0xff]} ${HEX[(imm >> 8) & 0xff]} ${HEX[(imm >> 16) & 0xff]} ${HEX[(imm >>> 24) & 0xff]}`
  );
}

/** Target slot of a jump at `index`; llvm-objdump annotates jumps only, not calls. */
function jumpTarget(insn: Insn, index: number): number | undefined {
  const cls = insn.code & 0x07;
  if (cls !== op.BPF_JMP && cls !== op.BPF_JMP32) return undefined;
  const jmpOp = insn.code & 0xf0;
  if (jmpOp === op.BPF_EXIT || jmpOp === op.BPF_CALL) return undefined;
  if (jmpOp === op.BPF_JA && cls === op.BPF_JMP32) return index + 1 + insn.imm;
  return index + 1 + insn.off;
}

/**
 * The whole line llvm-objdump -d prints for the instruction at `index`:
 * `      12:\tb7 06 00 00 01 00 00 00\tr6 = 1`, both slots' bytes for an lddw, and ` <name>`
 * after a jump when `opts.label` names its target.
 */
export function formatObjdumpLine(
  insns: readonly Insn[],
  index: number,
  opts?: ObjdumpLineOptions,
): string {
  return objdumpLine(insns, index, opts?.address ?? index, opts);
}

function objdumpLine(
  insns: readonly Insn[],
  index: number,
  address: number,
  opts: ObjdumpLineOptions | undefined,
): string {
  const insn = insns[index]!;
  let bytes = slotHex(insn);
  if (insnSlots(insns, index) === 2) bytes += " " + slotHex(insns[index + 1]!);
  let text = disassemble(insns, index, opts);
  const label = opts?.label;
  if (label !== undefined && text !== UNKNOWN) {
    const target = jumpTarget(insn, index);
    const name = target === undefined ? undefined : label(target);
    if (name !== undefined) text += ` <${name}>`;
  }
  const at = address < 10000000 ? (PAD + address).slice(-8) : `${address}`;
  return `${at}:\t${bytes}\t${text}`;
}

const PAD = "        ";

/** Disassembles a whole program, one objdump line per instruction (lddw takes one line). */
export function formatObjdump(
  insns: readonly Insn[],
  opts?: DisasmOptions & Pick<ObjdumpLineOptions, "label">,
): string[] {
  const lines: string[] = [];
  for (let i = 0; i < insns.length; i += insnSlots(insns, i)) {
    lines.push(objdumpLine(insns, i, i, opts));
  }
  return lines;
}
