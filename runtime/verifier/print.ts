// Text of the verifier log: instructions as the kernel's print_bpf_insn() writes them
// (`(b7) r0 = 0`, `(85) call bpf_map_lookup_elem#1`, `(15) if r0 == 0x0 goto pc+1`) and register
// states as print_verifier_state() does (`R1=ctx() R2=fp-8 R3=scalar(smin=0,umax=255)`).
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import { helperFuncName } from "../uapi/helpers.js";
import { baseOf, regTypeStr, RegState, RegType } from "./reg.js";
import * as tn from "./tnum.js";
import * as u from "./u64.js";
import type { U64 } from "./u64.js";

// ---- numbers ----

const U16_MAX = u.u64(0, 0xffff);
const S16_MIN = u.fromS32(-0x8000);
const S16_MAX = u.u64(0, 0x7fff);

/** Unsigned: decimal up to 0xffff, hex above (verbose_unum). */
export const unum = (v: U64): string => (u.leU(v, U16_MAX) ? u.decU(v) : u.hex(v));
/** Signed: decimal in the s16 range, hex outside (verbose_snum). */
export const snum = (v: U64): string =>
  u.leS(S16_MIN, v) && u.leS(v, S16_MAX) ? u.decS(v) : u.hex(v);

interface Bound {
  name: string;
  val: U64;
  omit: boolean;
  signed: boolean;
}

/** The ranges of a scalar that say something, equal values merged: "smin=umin=0,smax=umax=7". */
export function scalarRanges(reg: RegState): string {
  // A negative 32-bit bound printed in hex is not sign-extended (it would read as 64-bit).
  const s32 = (v: number): U64 => {
    const ext = u.fromS32(v);
    return v >= -0x8000 && v <= 0x7fff ? ext : u.fromU32(v);
  };
  const bounds: Bound[] = [
    { name: "smin", val: reg.smin, omit: u.eq(reg.smin, u.S64_MIN), signed: true },
    { name: "smax", val: reg.smax, omit: u.eq(reg.smax, u.S64_MAX), signed: true },
    { name: "umin", val: reg.umin, omit: u.isZero(reg.umin), signed: false },
    { name: "umax", val: reg.umax, omit: u.eq(reg.umax, u.U64_MAX), signed: false },
    { name: "smin32", val: s32(reg.s32min), omit: reg.s32min === -0x80000000, signed: true },
    { name: "smax32", val: s32(reg.s32max), omit: reg.s32max === 0x7fffffff, signed: true },
    { name: "umin32", val: u.fromU32(reg.u32min), omit: reg.u32min === 0, signed: false },
    { name: "umax32", val: u.fromU32(reg.u32max), omit: reg.u32max === 0xffffffff, signed: false },
  ];
  const parts: string[] = [];
  for (let i = 0; i < bounds.length; i++) {
    const b1 = bounds[i]!;
    if (b1.omit) continue;
    const neg1 = b1.signed && u.isNeg(b1.val);
    let text = `${b1.name}=`;
    // Merge later bounds of the same kind (min with min, max with max) and value.
    for (let j = i + 2; j < bounds.length; j += 2) {
      const b2 = bounds[j]!;
      if (b2.omit || !u.eq(b2.val, b1.val)) continue;
      const neg2 = b2.signed && u.isNeg(b2.val);
      if (neg2 !== neg1) continue;
      b2.omit = true;
      text += `${b2.name}=`;
    }
    parts.push(text + (b1.signed ? snum(b1.val) : unum(b1.val)));
  }
  return parts.join(",");
}

const isMapPtrType = (t: number): boolean =>
  t === RegType.CONST_PTR_TO_MAP || t === RegType.PTR_TO_MAP_KEY || t === RegType.PTR_TO_MAP_VALUE;

/** One register as print_reg_state() writes it, seen from call frame `frameno`. */
export function regString(reg: RegState, frameno: number): string {
  const t = reg.type;
  const precise = t === RegType.SCALAR_VALUE && reg.precise ? "P" : "";
  if (t === RegType.SCALAR_VALUE && tn.isConst(reg.varOff)) return precise + snum(reg.varOff.value);
  let text = precise + regTypeStr(t);
  if (t === RegType.PTR_TO_STACK) {
    if (reg.frameno !== frameno) text += `[${reg.frameno}]`;
    if (tn.isConst(reg.varOff)) return text + snum(u.add(reg.varOff.value, u.fromS32(reg.off)));
  }
  if (baseOf(t) === RegType.PTR_TO_BTF_ID) text += reg.btfName;
  const attrs: string[] = [];
  if (reg.id) attrs.push(`id=${reg.id}`);
  if (reg.refObjId) attrs.push(`ref_obj_id=${reg.refObjId}`);
  if (isMapPtrType(baseOf(t)) && reg.map) {
    if (reg.map.name) attrs.push(`map=${reg.map.name}`);
    attrs.push(`ks=${reg.map.keySize},vs=${reg.map.valueSize}`);
  }
  if (t !== RegType.SCALAR_VALUE && reg.off) attrs.push(`off=${snum(u.fromS32(reg.off))}`);
  if (baseOf(t) === RegType.PTR_TO_MEM) attrs.push(`sz=${unum(u.fromU32(reg.memSize))}`);
  if (tn.isConst(reg.varOff)) {
    if (!u.isZero(reg.varOff.value)) attrs.push(`imm=${snum(reg.varOff.value)}`);
  } else {
    const ranges = scalarRanges(reg);
    if (ranges) attrs.push(ranges);
    if (!tn.isUnknown(reg.varOff)) attrs.push(`var_off=${tn.tnumString(reg.varOff)}`);
  }
  return `${text}(${attrs.join(",")})`;
}

// ---- instructions ----

const ALU_OPS: Record<number, string> = {
  [op.BPF_ADD]: "+=",
  [op.BPF_SUB]: "-=",
  [op.BPF_MUL]: "*=",
  [op.BPF_DIV]: "/=",
  [op.BPF_OR]: "|=",
  [op.BPF_AND]: "&=",
  [op.BPF_LSH]: "<<=",
  [op.BPF_RSH]: ">>=",
  [op.BPF_NEG]: "neg",
  [op.BPF_MOD]: "%=",
  [op.BPF_XOR]: "^=",
  [op.BPF_MOV]: "=",
  [op.BPF_ARSH]: "s>>=",
  [op.BPF_END]: "endian",
};

/** The kernel's bpf_alu_string[] entry for an operation. */
export const aluOpString = (opcode: number): string => ALU_OPS[opcode] ?? "?";

const JMP_OPS: Record<number, string> = {
  [op.BPF_JA]: "jmp",
  [op.BPF_JEQ]: "==",
  [op.BPF_JGT]: ">",
  [op.BPF_JGE]: ">=",
  [op.BPF_JSET]: "&",
  [op.BPF_JNE]: "!=",
  [op.BPF_JSGT]: "s>",
  [op.BPF_JSGE]: "s>=",
  [op.BPF_CALL]: "call",
  [op.BPF_EXIT]: "exit",
  [op.BPF_JLT]: "<",
  [op.BPF_JLE]: "<=",
  [op.BPF_JSLT]: "s<",
  [op.BPF_JSLE]: "s<=",
};

const SIZE_NAMES: Record<number, string> = {
  [op.BPF_B]: "u8",
  [op.BPF_H]: "u16",
  [op.BPF_W]: "u32",
  [op.BPF_DW]: "u64",
};
const SX_SIZE_NAMES: Record<number, string> = {
  [op.BPF_B]: "s8",
  [op.BPF_H]: "s16",
  [op.BPF_W]: "s32",
};

const hex2 = (code: number): string => code.toString(16).padStart(2, "0");
const signedOff = (off: number): string => (off >= 0 ? `+${off}` : `${off}`);

/** How an lddw's constant is shown: the kernel prints the resolved 64-bit address. */
export type LddwText = (insns: readonly Insn[], i: number) => string;

/** The kernel's text of one instruction (without the "N: " prefix). */
export function insnString(insns: readonly Insn[], i: number, lddw?: LddwText): string {
  const insn = insns[i]!;
  const code = insn.code;
  const cls = op.classOf(code);
  const c = `(${hex2(code)})`;
  if (cls === op.BPF_ALU || cls === op.BPF_ALU64) return aluString(insn, c, cls === op.BPF_ALU64);
  if (cls === op.BPF_STX) return stxString(insn, c);
  if (cls === op.BPF_ST) {
    return `${c} *(${SIZE_NAMES[op.sizeOf(code)]} *)(r${insn.dst} ${signedOff(insn.off)}) = ${insn.imm}`;
  }
  if (cls === op.BPF_LDX) {
    const sx = op.modeOf(code) === op.BPF_MEMSX;
    const size = (sx ? SX_SIZE_NAMES : SIZE_NAMES)[op.sizeOf(code)] ?? "u64";
    return `${c} r${insn.dst} = *(${size} *)(r${insn.src} ${signedOff(insn.off)})`;
  }
  if (cls === op.BPF_LD) {
    const mode = op.modeOf(code);
    const size = SIZE_NAMES[op.sizeOf(code)];
    if (mode === op.BPF_ABS) return `${c} r0 = *(${size} *)skb[${insn.imm}]`;
    if (mode === op.BPF_IND) return `${c} r0 = *(${size} *)skb[r${insn.src} + ${insn.imm}]`;
    if (code === op.BPF_LDDW) {
      const text = lddw ? lddw(insns, i) : lddwConst(insns, i);
      return `${c} r${insn.dst} = ${text}`;
    }
    return `${c} BUG_ld_${hex2(code)}`;
  }
  return jmpString(insn, c, cls === op.BPF_JMP32);
}

/** The kernel prints a map reference as the map's address: we derive one from the fd. */
export function kernelLddwText(insns: readonly Insn[], i: number): string {
  const insn = insns[i]!;
  const next = insns[i + 1];
  if (insn.src === 1 || insn.src === 2) {
    const base = u.add(u.u64(0xffff8881, 0), u.fromNumber((insn.imm >>> 0) * 0x1000));
    const off = insn.src === 2 ? 0x100 + ((next?.imm ?? 0) >>> 0) : 0;
    return u.hex(u.add(base, u.fromNumber(off)));
  }
  return lddwConst(insns, i);
}

function lddwConst(insns: readonly Insn[], i: number): string {
  const lo = insns[i]!.imm >>> 0;
  const hi = (insns[i + 1]?.imm ?? 0) >>> 0;
  return u.hex(u.u64(hi, lo));
}

function aluString(insn: Insn, c: string, is64: boolean): string {
  const r = is64 ? "r" : "w";
  const aluOp = op.opOf(insn.code);
  if (aluOp === op.BPF_END) {
    const kind = !is64 ? (op.srcOf(insn.code) === op.BPF_TO_BE ? "be" : "le") : "bswap";
    return `${c} r${insn.dst} = ${kind}${insn.imm} r${insn.dst}`;
  }
  if (aluOp === op.BPF_NEG) return `${c} ${r}${insn.dst} = -${r}${insn.dst}`;
  if (op.srcOf(insn.code) === op.BPF_X) {
    if (aluOp === op.BPF_MOV && insn.off !== 0) {
      return `${c} ${r}${insn.dst} = (s${insn.off})${r}${insn.src}`;
    }
    const signed = (aluOp === op.BPF_DIV || aluOp === op.BPF_MOD) && insn.off === 1 ? "s" : "";
    return `${c} ${r}${insn.dst} ${signed}${aluOpString(aluOp)} ${r}${insn.src}`;
  }
  const signed = (aluOp === op.BPF_DIV || aluOp === op.BPF_MOD) && insn.off === 1 ? "s" : "";
  return `${c} ${r}${insn.dst} ${signed}${aluOpString(aluOp)} ${insn.imm}`;
}

const ATOMIC_NAMES: Record<number, string> = {
  [op.BPF_ADD]: "add",
  [op.BPF_AND]: "and",
  [op.BPF_OR]: "or",
  [op.BPF_XOR]: "xor",
};

function stxString(insn: Insn, c: string): string {
  const size = SIZE_NAMES[op.sizeOf(insn.code)];
  const mem = `(${size} *)(r${insn.dst} ${signedOff(insn.off)})`;
  if (op.modeOf(insn.code) === op.BPF_MEM) return `${c} *${mem} = r${insn.src}`;
  const width = op.sizeOf(insn.code) === op.BPF_DW ? "64" : "";
  const imm = insn.imm;
  if (imm === op.BPF_XCHG) return `${c} r${insn.src} = atomic${width}_xchg(${mem}, r${insn.src})`;
  if (imm === op.BPF_CMPXCHG) {
    return `${c} r0 = atomic${width}_cmpxchg(${mem}, r0, r${insn.src})`;
  }
  const base = imm & ~op.BPF_FETCH;
  if (imm & op.BPF_FETCH) {
    return `${c} r${insn.src} = atomic${width}_fetch_${ATOMIC_NAMES[base] ?? "?"}(${mem}, r${insn.src})`;
  }
  return `${c} lock *${mem} ${aluOpString(base)} r${insn.src}`;
}

function jmpString(insn: Insn, c: string, is32: boolean): string {
  const jop = op.opOf(insn.code);
  if (jop === op.BPF_CALL && !is32) {
    if (insn.src === op.BPF_PSEUDO_CALL) return `${c} call pc${signedOff(insn.imm)}`;
    if (insn.src === op.BPF_PSEUDO_KFUNC_CALL) return `${c} call kernel-function`;
    if (op.srcOf(insn.code) === op.BPF_X) return `${c} callx r${insn.dst}`;
    return `${c} call ${helperFuncName(insn.imm)}#${insn.imm}`;
  }
  if (jop === op.BPF_JA) {
    return is32 ? `${c} gotol pc${signedOff(insn.imm)}` : `${c} goto pc${signedOff(insn.off)}`;
  }
  if (jop === op.BPF_EXIT) return `${c} exit`;
  const r = is32 ? "w" : "r";
  const cond = JMP_OPS[jop] ?? "?";
  if (op.srcOf(insn.code) === op.BPF_X) {
    return `${c} if ${r}${insn.dst} ${cond} ${r}${insn.src} goto pc${signedOff(insn.off)}`;
  }
  return `${c} if ${r}${insn.dst} ${cond} 0x${(insn.imm >>> 0).toString(16)} goto pc${signedOff(insn.off)}`;
}
