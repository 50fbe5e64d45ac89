// After register allocation: the stack frame's layout, pseudo instruction expansion, block
// order, branch resolution, and the final encoding into instruction slots with their
// relocations and line marks.
//
// Slots are placed downwards from r10 in creation order (locals first, spill slots last), each
// at its alignment. Blocks keep their order; a conditional jump falls through to its second
// successor, inverted when the first one comes next instead, with a `goto` added when neither
// does. Blocks left empty by coalescing are skipped, and a jump to a lone `exit` is replaced by
// the exit itself.
import type { Slot } from "./ir.js";
import type { Insn } from "../runtime/isa/insn.js";
import * as op from "../runtime/isa/opcodes.js";
import {
  CMOV,
  COPY,
  type MBlock,
  type MFunc,
  MInst,
  NO_REG,
  R10,
  isExit,
  isJump,
} from "./isel-mir.js";
import type { InsnReloc, LineMark } from "./unit.js";
import type { SourcePos } from "./types.js";
import type { Cpu } from "./lower.js";

/** BPF's per-frame stack limit. */
export const MAX_STACK = 512;

/** Assigns each used slot its offset from r10; returns the frame size in bytes. */
export function layoutFrame(mf: MFunc): number {
  const used = new Set<Slot>();
  for (const b of mf.blocks) for (const mi of b.insts) if (mi.slot) used.add(mi.slot);
  let size = 0;
  for (const s of mf.slots) {
    if (!used.has(s)) continue;
    size = alignUp(size + s.size, s.align);
    s.offset = -size;
  }
  for (const b of mf.blocks) {
    for (const mi of b.insts) {
      if (!mi.slot) continue;
      if (op.classOf(mi.code) === op.BPF_ALU64 && op.opOf(mi.code) === op.BPF_ADD)
        mi.imm += mi.slot.offset;
      else mi.off += mi.slot.offset;
    }
  }
  return alignUp(size, 8);
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

const inverse: Record<number, number> = {
  [op.BPF_JEQ]: op.BPF_JNE,
  [op.BPF_JNE]: op.BPF_JEQ,
  [op.BPF_JGT]: op.BPF_JLE,
  [op.BPF_JLE]: op.BPF_JGT,
  [op.BPF_JGE]: op.BPF_JLT,
  [op.BPF_JLT]: op.BPF_JGE,
  [op.BPF_JSGT]: op.BPF_JSLE,
  [op.BPF_JSLE]: op.BPF_JSGT,
  [op.BPF_JSGE]: op.BPF_JSLT,
  [op.BPF_JSLT]: op.BPF_JSGE,
};

const swappedJmp: Record<number, number> = {
  [op.BPF_JEQ]: op.BPF_JEQ,
  [op.BPF_JNE]: op.BPF_JNE,
  [op.BPF_JGT]: op.BPF_JLT,
  [op.BPF_JLT]: op.BPF_JGT,
  [op.BPF_JGE]: op.BPF_JLE,
  [op.BPF_JLE]: op.BPF_JGE,
  [op.BPF_JSGT]: op.BPF_JSLT,
  [op.BPF_JSLT]: op.BPF_JSGT,
  [op.BPF_JSGE]: op.BPF_JSLE,
  [op.BPF_JSLE]: op.BPF_JSGE,
};

function lessThan(o: number): boolean {
  return o === op.BPF_JLT || o === op.BPF_JLE || o === op.BPF_JSLT || o === op.BPF_JSLE;
}

/** Whether `jmp op` can be encoded for this cpu (v1 has no JLT/JLE/JSLT/JSLE). */
export function jumpAvailable(o: number, cpu: Cpu): boolean {
  return cpu !== "v1" || !lessThan(o);
}

/** Makes a jump encodable on v1 by swapping register operands (a < b is b > a). */
function fixForCpu(mi: MInst, cpu: Cpu): boolean {
  const o = op.opOf(mi.code);
  if (jumpAvailable(o, cpu)) return true;
  if (op.srcOf(mi.code) !== op.BPF_X) return false;
  mi.code = (mi.code & ~0xf0) | swappedJmp[o]!;
  [mi.dst, mi.src] = [mi.src, mi.dst];
  return true;
}

/** COPY -> mov; CMOV -> `if !(cond) goto +1; mov`. */
export function expandPseudos(mf: MFunc): void {
  for (const b of mf.blocks) {
    const out: MInst[] = [];
    for (const mi of b.insts) {
      if (mi.code === COPY) {
        mi.code = op.BPF_ALU64 | op.BPF_MOV | (mi.srcIsImm ? op.BPF_K : op.BPF_X);
        if (mi.srcIsImm) mi.src = NO_REG;
        out.push(mi);
        continue;
      }
      if (mi.code !== CMOV) {
        out.push(mi);
        continue;
      }
      const j = new MInst(
        mi.cmpClass | inverse[mi.cmpOp]! | (mi.rb === NO_REG ? op.BPF_K : op.BPF_X),
      );
      j.dst = mi.ra;
      if (mi.rb === NO_REG) j.imm = mi.cmpImm;
      else j.src = mi.rb;
      j.off = 1;
      j.pos = mi.pos;
      out.push(j);
      const mov = new MInst(
        (mi.srcIsImm && mi.off === 32 ? op.BPF_ALU : op.BPF_ALU64) |
          op.BPF_MOV |
          (mi.srcIsImm ? op.BPF_K : op.BPF_X),
      );
      mov.dst = mi.dst;
      if (mi.srcIsImm) mov.imm = mi.imm;
      else mov.src = mi.src;
      mov.pos = mi.pos;
      out.push(mov);
    }
    b.insts.length = 0;
    b.insts.push(...out);
  }
}

export interface Encoded {
  insns: Insn[];
  relocs: InsnReloc[];
  lines: LineMark[];
}

/** Orders blocks, resolves branches and encodes the function. */
export function encode(mf: MFunc, cpu: Cpu, debugLines: boolean): Encoded {
  const order = arrange(mf);
  // Final instruction lists per block, with control transfers made explicit.
  const code: { block: MBlock; insts: MInst[] }[] = [];
  for (let i = 0; i < order.length; i++) {
    const b = order[i]!;
    const next = order[i + 1];
    const insts = b.insts.slice();
    const last = insts[insts.length - 1];
    if (b.succs.length === 2 && b.succs[0] === b.succs[1] && last && isJump(last)) {
      // Both ways lead to the same place: the jump is pointless.
      insts.pop();
      const target = b.succs[0]!;
      if (target !== next) insts.push(ja(target, last.pos));
    } else if (b.succs.length === 2 && last && isJump(last)) {
      const [taken, fall] = b.succs as [MBlock, MBlock];
      last.target = taken;
      if (fall === next) {
        if (!fixForCpu(last, cpu)) {
          // v1 and `a < imm`: jump on the inverse to the fall-through, then to the target.
          last.code = (last.code & ~0xf0) | inverse[op.opOf(last.code)]!;
          last.target = fall;
          insts.push(ja(taken, last.pos));
        }
      } else if (taken === next && jumpAvailable(inverse[op.opOf(last.code)]!, cpu)) {
        last.code = (last.code & ~0xf0) | inverse[op.opOf(last.code)]!;
        last.target = fall;
      } else {
        if (!fixForCpu(last, cpu)) {
          last.code = (last.code & ~0xf0) | inverse[op.opOf(last.code)]!;
          last.target = fall;
          insts.push(ja(taken, last.pos));
        } else insts.push(ja(fall, last.pos));
      }
    } else if (b.succs.length === 1 && b.succs[0] !== next) {
      const target = b.succs[0]!;
      // A jump to a lone exit is the exit.
      if (target.insts.length === 1 && isExit(target.insts[0]!)) {
        const e = new MInst(op.BPF_JMP | op.BPF_EXIT);
        e.pos = last?.pos;
        insts.push(e);
      } else insts.push(ja(target, last?.pos));
    }
    code.push({ block: b, insts });
  }
  // Slot indices.
  const start = new Map<MBlock, number>();
  let n = 0;
  for (const c of code) {
    start.set(c.block, n);
    for (const mi of c.insts) n += mi.code === op.BPF_LDDW ? 2 : 1;
  }
  const insns: Insn[] = [];
  const relocs: InsnReloc[] = [];
  const lines: LineMark[] = [];
  let lastPos: SourcePos | undefined;
  for (const c of code) {
    for (const mi of c.insts) {
      const index = insns.length;
      if (mi.target) {
        const t = start.get(mi.target);
        if (t === undefined)
          throw new Error(`internal: jump to a block not laid out (${mi.target.name})`);
        mi.off = t - (index + 1);
        if (mi.off < -0x8000 || mi.off > 0x7fff)
          throw new RangeJumpError(
            `jump of ${mi.off} instructions in ${mf.name} exceeds the 16-bit offset`,
          );
      }
      if (mi.reloc) relocs.push({ ...mi.reloc, insn: index } as InsnReloc);
      if (debugLines && mi.pos && !samePos(mi.pos, lastPos)) {
        lines.push({ insn: index, pos: mi.pos });
        lastPos = mi.pos;
      }
      const dst = mi.dst === NO_REG ? 0 : mi.dst;
      const src = mi.src === NO_REG ? 0 : mi.src;
      if (dst > R10 || src > 15) throw new Error(`internal: unallocated register in ${mf.name}`);
      insns.push({ code: mi.code, dst, src, off: mi.off, imm: mi.imm | 0 });
      if (mi.code === op.BPF_LDDW)
        insns.push({ code: 0, dst: 0, src: 0, off: 0, imm: mi.imm2 | 0 });
    }
  }
  return { insns, relocs, lines };
}

export class RangeJumpError extends Error {}

function ja(target: MBlock, pos: SourcePos | undefined): MInst {
  const mi = new MInst(op.BPF_JMP | op.BPF_JA);
  mi.target = target;
  mi.pos = pos;
  return mi;
}

function samePos(a: SourcePos, b: SourcePos | undefined): boolean {
  return b !== undefined && a.line === b.line && a.col === b.col && a.file === b.file;
}

/** Blocks in final order, empty forwarding blocks bypassed. */
function arrange(mf: MFunc): MBlock[] {
  // Bypass blocks with no instructions and one successor.
  const forward = (b: MBlock): MBlock => {
    let cur = b;
    for (let guard = 0; guard < 1000; guard++) {
      if (cur.insts.length !== 0 || cur.succs.length !== 1 || cur.succs[0] === cur) return cur;
      cur = cur.succs[0]!;
    }
    return cur;
  };
  const entry = mf.blocks[0]!;
  for (const b of mf.blocks) b.succs = b.succs.map(forward);
  const seen = new Set<MBlock>();
  const order: MBlock[] = [];
  const reachable = new Set<MBlock>();
  const stack = [entry];
  while (stack.length) {
    const b = stack.pop()!;
    if (reachable.has(b)) continue;
    reachable.add(b);
    for (const s of b.succs) stack.push(s);
  }
  for (const b of mf.blocks) {
    if (!reachable.has(b) || seen.has(b)) continue;
    if (b !== entry && b.insts.length === 0 && b.succs.length === 1) continue;
    seen.add(b);
    order.push(b);
  }
  return order;
}

export { R10 };
