// Writing a relocation's value into its instruction, for the instruction forms clang attaches
// CO-RE relocations to:
//
//   rX = imm, rX op= imm         (ALU/ALU64 with an immediate)    imm
//   rX = *(T *)(rY + off)        (LDX)                            off, and width if T changed
//   *(T *)(rX + off) = rY / imm  (STX / ST)                       off, and width if T changed
//   rX = imm64                   (lddw)                           both halves of the immediate
//
// Before patching, the instruction must hold the local value (unless the result says not to
// check). A relocation that cannot be satisfied poisons the instruction instead: it becomes
// `call 0xbad2310` (an unknown helper, "bad relo"), which the verifier only rejects if the
// instruction is reachable, so code guarded by bpf_core_field_exists() still loads.
import type { Insn } from "../isa/insn.js";
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_B,
  BPF_CALL,
  BPF_DW,
  BPF_H,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_LDDW,
  BPF_LDX,
  BPF_ST,
  BPF_STX,
  BPF_W,
  classOf,
  modeOf,
} from "../isa/opcodes.js";
import type { CoreReloResult } from "./calc.js";
import { CoreSpecError } from "./error.js";
import { fromInt32, sameValue, valueText, type CoreValue } from "./value.js";

/** The helper id of a poisoned instruction: 0xbad2310, "bad relo". */
export const CORE_POISON_IMM = 195896080;

/** Turn `insn` into `call 0xbad2310`. */
export function poisonInsn(insn: Insn): void {
  insn.code = BPF_JMP | BPF_CALL;
  insn.dst = 0;
  insn.src = 0;
  insn.off = 0;
  insn.imm = CORE_POISON_IMM;
}

export const isPoisonedInsn = (insn: Insn): boolean =>
  insn.code === (BPF_JMP | BPF_CALL) && insn.src === 0 && insn.imm === CORE_POISON_IMM;

/** What patchInsn did. */
export type PatchOutcome =
  | { kind: "patched"; field: "imm" | "off" | "imm64"; widthFrom?: number; widthTo?: number }
  | { kind: "poisoned"; reason: "missing" | "width" };

const SIZE_BYTES: Record<number, number> = { [BPF_W]: 4, [BPF_H]: 2, [BPF_B]: 1, [BPF_DW]: 8 };
const BYTES_SIZE: Record<number, number> = { 4: BPF_W, 2: BPF_H, 1: BPF_B, 8: BPF_DW };

/**
 * Patch instruction `idx` of `insns` in place with `res`. Throws CoreSpecError when the
 * instruction is not a relocatable form or does not hold the expected local value.
 */
export function patchInsn(insns: Insn[], idx: number, res: CoreReloResult): PatchOutcome {
  const insn = insns[idx]!;
  if (res.poison) return poison(insns, idx, "missing");
  const cls = classOf(insn.code);
  const expect = (got: CoreValue, what: string): void => {
    if (res.validate && !sameValue(got, res.origVal))
      throw new CoreSpecError(
        `unexpected insn #${idx} (${what}) value: got ${valueText(got)}, exp ${valueText(res.origVal)} -> ${valueText(res.newVal)}`,
      );
  };
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      if ((insn.code & 0x08) !== BPF_K)
        throw new CoreSpecError(`insn #${idx} (ALU/ALU64) takes a register, not an immediate`);
      expect(fromInt32(insn.imm), "ALU/ALU64");
      insn.imm = res.newVal.lo | 0;
      return { kind: "patched", field: "imm" };
    case BPF_LDX:
    case BPF_ST:
    case BPF_STX:
      return patchMemory(insns, idx, res, expect);
    case BPF_LD: {
      const next = insns[idx + 1];
      if (
        insn.code !== BPF_LDDW ||
        insn.src !== 0 ||
        insn.off !== 0 ||
        next === undefined ||
        next.code !== 0 ||
        next.dst !== 0 ||
        next.src !== 0 ||
        next.off !== 0
      )
        throw new CoreSpecError(`insn #${idx} (LDIMM64) has unexpected form`);
      expect({ lo: insn.imm >>> 0, hi: next.imm >>> 0 }, "LDIMM64");
      insn.imm = res.newVal.lo | 0;
      next.imm = res.newVal.hi | 0;
      return { kind: "patched", field: "imm64" };
    }
    default:
      throw new CoreSpecError(
        `trying to relocate unrecognized insn #${idx}, code:0x${insn.code.toString(16)}, src:0x${insn.src.toString(16)}, dst:0x${insn.dst.toString(16)}, off:0x${(insn.off & 0xffff).toString(16)}, imm:0x${(insn.imm >>> 0).toString(16)}`,
      );
  }
}

function patchMemory(
  insns: Insn[],
  idx: number,
  res: CoreReloResult,
  expect: (got: CoreValue, what: string) => void,
): PatchOutcome {
  const insn = insns[idx]!;
  expect(fromInt32(insn.off), "LDX/ST/STX");
  if (res.newVal.hi !== 0 || res.newVal.lo > 0x7fff)
    throw new CoreSpecError(`insn #${idx} (LDX/ST/STX) value too big: ${valueText(res.newVal)}`);
  if (res.failMemszAdjust) return poison(insns, idx, "width");
  insn.off = res.newVal.lo;
  if (res.newSize === res.origSize) return { kind: "patched", field: "off" };
  const width = SIZE_BYTES[insn.code & 0x18]!;
  if (width !== res.origSize)
    throw new CoreSpecError(
      `insn #${idx} (LDX/ST/STX) unexpected mem size: got ${width}, exp ${res.origSize}`,
    );
  const size = BYTES_SIZE[res.newSize];
  if (size === undefined)
    throw new CoreSpecError(`insn #${idx} (LDX/ST/STX) invalid new mem size: ${res.newSize}`);
  insn.code = modeOf(insn.code) | size | classOf(insn.code);
  return { kind: "patched", field: "off", widthFrom: res.origSize, widthTo: res.newSize };
}

function poison(insns: Insn[], idx: number, reason: "missing" | "width"): PatchOutcome {
  const insn = insns[idx]!;
  // the second slot of an lddw too, or the verifier complains about "unknown opcode 00"
  if (insn.code === BPF_LDDW && insns[idx + 1] !== undefined) poisonInsn(insns[idx + 1]!);
  poisonInsn(insn);
  return { kind: "poisoned", reason };
}
