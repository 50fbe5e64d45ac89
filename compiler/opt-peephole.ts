// Peephole clean-ups on allocated machine code (-O2 only): moves that became no-ops once
// registers were assigned, and zero-extensions of registers whose upper half is already zero.
import * as op from "../runtime/isa/opcodes.js";
import { type MFunc, type MInst, NO_REG } from "./isel-mir.js";

export function peephole(mf: MFunc): void {
  for (const b of mf.blocks) {
    const out: MInst[] = [];
    for (const mi of b.insts) {
      if (isRegMove(mi, op.BPF_ALU64) && mi.dst === mi.src) continue;
      if (isRegMove(mi, op.BPF_ALU) && mi.dst === mi.src && upperKnownZero(out, mi.dst)) continue;
      out.push(mi);
    }
    b.insts.length = 0;
    b.insts.push(...out);
  }
}

function isRegMove(mi: MInst, cls: number): boolean {
  return mi.code === (cls | op.BPF_MOV | op.BPF_X) && mi.off === 0 && mi.src !== NO_REG;
}

/** Whether the last write to `r` before this point in the block left its upper half zero. */
function upperKnownZero(prev: MInst[], r: number): boolean {
  for (let i = prev.length - 1; i >= 0; i--) {
    const mi = prev[i]!;
    const cls = op.classOf(mi.code);
    if (cls === op.BPF_JMP || cls === op.BPF_JMP32) {
      if (op.opOf(mi.code) === op.BPF_CALL) return false;
      continue;
    }
    if (mi.code >= 0x100) return false;
    const writes =
      ((cls === op.BPF_ALU || cls === op.BPF_ALU64 || cls === op.BPF_LDX) && mi.dst === r) ||
      (cls === op.BPF_LD && mi.dst === r) ||
      (cls === op.BPF_STX && op.modeOf(mi.code) === op.BPF_ATOMIC && (mi.src === r || r === 0));
    if (!writes) continue;
    // Every 32-bit ALU operation zeroes the upper half, except a 64-bit byte swap.
    if (cls === op.BPF_ALU) return !(op.opOf(mi.code) === op.BPF_END && mi.imm === 64);
    if (cls === op.BPF_LDX)
      return op.modeOf(mi.code) === op.BPF_MEM && op.sizeOf(mi.code) !== op.BPF_DW;
    return false;
  }
  return false;
}
