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
import type { CoreReloMark, InsnReloc, LineMark } from "./unit.js";
import type { SourcePos } from "./types.js";
import type { Cpu } from "./lower.js";

/** BPF's per-frame stack limit. */
export const MAX_STACK = 512;

/** Assigns each used slot its offset from r10; returns the frame size in bytes. */
export function layoutFrame(mf: MFunc, shareSlots: boolean): number {
  const loops = cycles(mf);
  const live = slotLifetimes(mf, loops);
  // Lifetimes as position ranges are sound when every edge outside a loop goes forward.
  const share = shareSlots && forwardOutsideLoops(mf, loops);
  // Place each slot at the shallowest depth that overlaps no slot alive at the same time
  // (all slots conflict when not sharing): disjoint lifetimes share bytes, as clang's stack
  // colouring lets two inlined buffers of 300 bytes fit in one 512-byte frame.
  const placed: { slot: Slot; lo: number; hi: number; from: number; to: number }[] = [];
  let size = 0;
  const order = [...live.keys()].sort((a, b) => b.size - a.size || a.id - b.id);
  for (const s of order) {
    const [from, to] = live.get(s)!;
    let depth = alignUp(s.size, s.align);
    for (;;) {
      const lo = depth - s.size;
      const clash = placed.find(
        (p) => (!share || (p.from <= to && from <= p.to)) && p.lo < depth && lo < p.hi,
      );
      if (!clash) break;
      depth = alignUp(clash.hi + s.size, s.align);
    }
    placed.push({ slot: s, lo: depth - s.size, hi: depth, from, to });
    s.offset = -depth;
    size = Math.max(size, depth);
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

/**
 * Each used slot's lifetime as a range of instruction positions (in block order): from its
 * first reference to its last, widened to a whole loop when it is referenced inside one.
 */
function slotLifetimes(mf: MFunc, loops: MBlock[][]): Map<Slot, [number, number]> {
  const out = new Map<Slot, [number, number]>();
  const span = new Map<MBlock, [number, number]>();
  const touch = (s: Slot, at: number): void => {
    const r = out.get(s);
    if (r) {
      r[0] = Math.min(r[0], at);
      r[1] = Math.max(r[1], at);
    } else out.set(s, [at, at]);
  };
  let pos = 0;
  for (const b of mf.blocks) {
    const start = pos;
    for (const mi of b.insts) {
      if (mi.slot) touch(mi.slot, pos);
      if (mi.liveSlots) for (const s of mi.liveSlots) touch(s, pos);
      pos++;
    }
    span.set(b, [start, Math.max(start, pos - 1)]);
  }
  for (const s of mf.escapedSlots) {
    const r = out.get(s);
    if (r) {
      r[0] = 0;
      r[1] = pos;
    }
  }
  for (const scc of loops) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const b of scc) {
      const [s, e] = span.get(b)!;
      lo = Math.min(lo, s);
      hi = Math.max(hi, e);
    }
    for (const r of out.values()) {
      // A slot used anywhere in the loop lives through all of it.
      if (r[1] >= lo && r[0] <= hi) {
        r[0] = Math.min(r[0], lo);
        r[1] = Math.max(r[1], hi);
      }
    }
  }
  return out;
}

/** Whether every edge that leaves no loop goes to a later block (the order is topological). */
function forwardOutsideLoops(mf: MFunc, loops: MBlock[][]): boolean {
  const where = new Map<MBlock, number>();
  loops.forEach((scc, i) => scc.forEach((b) => where.set(b, i)));
  const index = new Map(mf.blocks.map((b, i) => [b, i] as const));
  for (const b of mf.blocks) {
    for (const s of b.succs) {
      if (index.get(s)! > index.get(b)!) continue;
      const l = where.get(b);
      if (l === undefined || where.get(s) !== l) return false;
    }
  }
  return true;
}

/** The strongly connected components with a cycle (Tarjan's algorithm, iteratively). */
function cycles(mf: MFunc): MBlock[][] {
  const index = new Map<MBlock, number>();
  const low = new Map<MBlock, number>();
  const onStack = new Set<MBlock>();
  const stack: MBlock[] = [];
  const out: MBlock[][] = [];
  let next = 0;
  for (const root of mf.blocks) {
    if (index.has(root)) continue;
    const work: { b: MBlock; i: number }[] = [{ b: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const top = work[work.length - 1]!;
      if (top.i < top.b.succs.length) {
        const s = top.b.succs[top.i++]!;
        if (!index.has(s)) {
          index.set(s, next);
          low.set(s, next++);
          stack.push(s);
          onStack.add(s);
          work.push({ b: s, i: 0 });
        } else if (onStack.has(s)) low.set(top.b, Math.min(low.get(top.b)!, index.get(s)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.b, Math.min(low.get(parent.b)!, low.get(top.b)!));
      if (low.get(top.b) === index.get(top.b)) {
        const scc: MBlock[] = [];
        let x: MBlock;
        do {
          x = stack.pop()!;
          onStack.delete(x);
          scc.push(x);
        } while (x !== top.b);
        if (scc.length > 1 || top.b.succs.includes(top.b)) out.push(scc);
      }
    }
  }
  return out;
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
  coreRelos: CoreReloMark[];
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
  const coreRelos: CoreReloMark[] = [];
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
      if (mi.core) coreRelos.push({ insn: index, ...mi.core });
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
  return { insns, relocs, lines, coreRelos };
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
