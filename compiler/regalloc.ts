// Register allocation by graph colouring with iterated coalescing (George and Appel, "Iterated
// Register Coalescing", TOPLAS 1996), for BPF's ten registers r0-r9 (r10 is the read-only frame
// pointer and never allocated).
//
// The calling convention is all in the interference graph: a call defines r0-r5, so every value
// live across it interferes with them and lands in r6-r9; arguments are copies into r1-r5 and
// results copies out of r0, which coalescing removes when it can. When colouring fails, the
// cheapest values (uses weighted by loop depth, per degree) are spilled to 8-byte stack slots:
// each use reloads into a fresh short-lived register, each definition stores from one, and
// allocation runs again.
import {
  COPY,
  FIRST_VREG,
  MFunc,
  MInst,
  NO_REG,
  Operands,
  R10,
  mapRegs,
  operands,
  type MBlock,
} from "./isel-mir.js";
import * as op from "../runtime/isa/opcodes.js";
import type { Slot } from "./ir.js";

const K = 10;
// Colour preference: argument/scratch registers first, r0 (results) next, callee-saved last.
const COLOR_ORDER = [1, 2, 3, 4, 5, 0, 6, 7, 8, 9];

export class RegAllocError extends Error {}

/** Allocates registers in place: every virtual register becomes r0-r9. Returns spill count. */
export function allocateRegisters(mf: MFunc): number {
  let spilled = 0;
  for (let round = 0; round < 16; round++) {
    const ra = new Allocation(mf);
    const spills = ra.run();
    if (spills.length === 0) {
      ra.rewrite();
      return spilled;
    }
    spilled += spills.length;
    rewriteSpills(mf, spills, ra.spillTemps);
  }
  throw new RegAllocError(`register allocation of ${mf.name} did not converge`);
}

// Node states.
const PRECOLORED = 1;
const INITIAL = 2;
const SIMPLIFY = 3;
const FREEZE = 4;
const SPILL = 5;
const SPILLED = 6;
const COALESCED = 7;
const COLORED = 8;
const ON_STACK = 9;

// Move states.
const M_WORKLIST = 1;
const M_ACTIVE = 2;
const M_COALESCED = 3;
const M_CONSTRAINED = 4;
const M_FROZEN = 5;

interface Move {
  dst: number;
  src: number;
  state: number;
}

class Allocation {
  readonly n: number;
  private readonly adj: Uint32Array;
  private readonly words: number;
  private readonly adjList: number[][];
  private readonly degree: Int32Array;
  private readonly state: Uint8Array;
  private readonly alias: Int32Array;
  readonly color: Int32Array;
  private readonly moveList: number[][];
  private readonly moves: Move[] = [];
  private readonly cost: Float64Array;
  private simplifyWl: number[] = [];
  private freezeWl: number[] = [];
  private spillWl: number[] = [];
  private worklistMoves: number[] = [];
  private readonly selectStack: number[] = [];
  // Visit marks for Briggs's test.
  private readonly mark: Int32Array;
  private stamp = 0;
  /** Registers created by spill code: never spilled again. */
  spillTemps: Set<number>;

  constructor(private readonly mf: MFunc) {
    this.n = mf.nextVreg;
    this.words = (this.n + 31) >>> 5;
    this.adj = new Uint32Array(this.n * this.words);
    this.adjList = new Array<number[]>(this.n);
    this.moveList = new Array<number[]>(this.n);
    for (let r = 0; r < this.n; r++) {
      this.adjList[r] = [];
      this.moveList[r] = [];
    }
    this.degree = new Int32Array(this.n);
    this.state = new Uint8Array(this.n);
    this.alias = new Int32Array(this.n).fill(-1);
    this.color = new Int32Array(this.n).fill(-1);
    this.cost = new Float64Array(this.n);
    this.mark = new Int32Array(this.n);
    this.spillTemps = mf.spillTemps;
    for (let r = 0; r < K; r++) {
      this.state[r] = PRECOLORED;
      this.color[r] = r;
      this.degree[r] = 1 << 30;
    }
  }

  run(): number[] {
    this.build();
    this.makeWorklist();
    for (;;) {
      if (this.simplifyWl.length) this.simplify();
      else if (this.worklistMoves.length) this.coalesce();
      else if (this.freezeWl.length) this.freeze();
      else if (this.spillWl.length) this.selectSpill();
      else break;
    }
    return this.assignColors();
  }

  // ---- graph ----

  private interferes(u: number, v: number): boolean {
    return (this.adj[u * this.words + (v >>> 5)]! & (1 << (v & 31))) !== 0;
  }

  private addEdge(u: number, v: number): void {
    if (u === v || u === R10 || v === R10 || this.interferes(u, v)) return;
    this.adj[u * this.words + (v >>> 5)]! |= 1 << (v & 31);
    this.adj[v * this.words + (u >>> 5)]! |= 1 << (u & 31);
    if (this.state[u] !== PRECOLORED) {
      this.adjList[u]!.push(v);
      this.degree[u]!++;
    }
    if (this.state[v] !== PRECOLORED) {
      this.adjList[v]!.push(u);
      this.degree[v]!++;
    }
  }

  private build(): void {
    const mf = this.mf;
    const live = computeLiveness(mf);
    const ops = new Operands();
    const { uses, defs } = ops;
    const liveNow = new OrderedRegs(this.n);
    for (let bi = 0; bi < mf.blocks.length; bi++) {
      const b = mf.blocks[bi]!;
      const weight = Math.pow(10, Math.min(b.loopDepth, 4));
      liveNow.clear();
      for (const r of live.liveOut[bi]!) liveNow.add(r);
      for (let i = b.insts.length - 1; i >= 0; i--) {
        const mi = b.insts[i]!;
        operands(mi, ops);
        const nUses = ops.nUses;
        const nDefs = ops.nDefs;
        for (let j = 0; j < nUses; j++) if (uses[j]! >= FIRST_VREG) this.cost[uses[j]!]! += weight;
        for (let j = 0; j < nDefs; j++) if (defs[j]! >= FIRST_VREG) this.cost[defs[j]!]! += weight;
        if (mi.code === COPY && !mi.srcIsImm && mi.src !== R10 && mi.dst !== R10) {
          liveNow.delete(mi.src);
          const m = this.moves.length;
          this.moves.push({ dst: mi.dst, src: mi.src, state: M_WORKLIST });
          this.moveList[mi.dst]!.push(m);
          this.moveList[mi.src]!.push(m);
          this.worklistMoves.push(m);
        }
        for (let j = 0; j < nDefs; j++) if (defs[j] !== R10) liveNow.add(defs[j]!);
        for (let j = 0; j < nDefs; j++) {
          const d = defs[j]!;
          if (d === R10) continue;
          for (let l = liveNow.first; l >= 0; l = liveNow.next[l]!) this.addEdge(l, d);
        }
        for (let j = 0; j < nDefs; j++) liveNow.delete(defs[j]!);
        for (let j = 0; j < nUses; j++) if (uses[j] !== R10) liveNow.add(uses[j]!);
      }
    }
    for (let r = FIRST_VREG; r < this.n; r++) {
      if (this.degree[r]! > 0 || this.moveList[r]!.length > 0 || live.mentioned.has(r))
        this.state[r] = INITIAL;
    }
  }

  private makeWorklist(): void {
    for (let r = FIRST_VREG; r < this.n; r++) {
      if (this.state[r] !== INITIAL) continue;
      if (this.degree[r]! >= K) {
        this.state[r] = SPILL;
        this.spillWl.push(r);
      } else if (this.moveRelated(r)) {
        this.state[r] = FREEZE;
        this.freezeWl.push(r);
      } else {
        this.state[r] = SIMPLIFY;
        this.simplifyWl.push(r);
      }
    }
  }

  /** Neighbours still in the graph (not simplified, not merged away). */
  private adjacent(r: number): number[] {
    const out: number[] = [];
    const list = this.adjList[r]!;
    for (let i = 0; i < list.length; i++) {
      const x = list[i]!;
      const s = this.state[x];
      if (s !== ON_STACK && s !== COALESCED) out.push(x);
    }
    return out;
  }

  private nodeMoves(r: number): number[] {
    const out: number[] = [];
    const list = this.moveList[r]!;
    for (let i = 0; i < list.length; i++) {
      const s = this.moves[list[i]!]!.state;
      if (s === M_ACTIVE || s === M_WORKLIST) out.push(list[i]!);
    }
    return out;
  }

  private moveRelated(r: number): boolean {
    const list = this.moveList[r]!;
    for (let i = 0; i < list.length; i++) {
      const s = this.moves[list[i]!]!.state;
      if (s === M_ACTIVE || s === M_WORKLIST) return true;
    }
    return false;
  }

  private simplify(): void {
    const r = this.simplifyWl.pop()!;
    if (this.state[r] !== SIMPLIFY) return;
    this.state[r] = ON_STACK;
    this.selectStack.push(r);
    for (const m of this.adjacent(r)) this.decrementDegree(m);
  }

  private decrementDegree(m: number): void {
    if (this.state[m] === PRECOLORED) return;
    const d = this.degree[m]!--;
    if (d === K) {
      this.enableMovesOf(m);
      for (const x of this.adjacent(m)) this.enableMovesOf(x);
      if (this.state[m] === SPILL) {
        if (this.moveRelated(m)) {
          this.state[m] = FREEZE;
          this.freezeWl.push(m);
        } else {
          this.state[m] = SIMPLIFY;
          this.simplifyWl.push(m);
        }
      }
    }
  }

  private enableMovesOf(n: number): void {
    const list = this.moveList[n]!;
    for (let i = 0; i < list.length; i++) {
      const mv = this.moves[list[i]!]!;
      if (mv.state === M_ACTIVE) {
        mv.state = M_WORKLIST;
        this.worklistMoves.push(list[i]!);
      }
    }
  }

  private getAlias(r: number): number {
    let x = r;
    while (this.state[x] === COALESCED) x = this.alias[x]!;
    return x;
  }

  private coalesce(): void {
    const m = this.worklistMoves.pop()!;
    const mv = this.moves[m]!;
    if (mv.state !== M_WORKLIST) return;
    let u = this.getAlias(mv.dst);
    let v = this.getAlias(mv.src);
    if (this.state[v] === PRECOLORED) [u, v] = [v, u];
    if (u === v) {
      mv.state = M_COALESCED;
      this.addWorklist(u);
    } else if (this.state[v] === PRECOLORED || this.interferes(u, v)) {
      mv.state = M_CONSTRAINED;
      this.addWorklist(u);
      this.addWorklist(v);
    } else if (
      (this.state[u] === PRECOLORED && this.georgeOk(v, u)) ||
      (this.state[u] !== PRECOLORED && this.conservative(u, v))
    ) {
      mv.state = M_COALESCED;
      this.combine(u, v);
      this.addWorklist(u);
    } else {
      mv.state = M_ACTIVE;
    }
  }

  private addWorklist(u: number): void {
    if (this.state[u] === FREEZE && !this.moveRelated(u) && this.degree[u]! < K) {
      this.state[u] = SIMPLIFY;
      this.simplifyWl.push(u);
    }
  }

  /** George's test: t is harmless to u. */
  private ok(t: number, r: number): boolean {
    return this.degree[t]! < K || this.state[t] === PRECOLORED || this.interferes(t, r);
  }

  /** George's test for every neighbour of v still in the graph. */
  private georgeOk(v: number, u: number): boolean {
    const list = this.adjList[v]!;
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      const s = this.state[t];
      if (s === ON_STACK || s === COALESCED) continue;
      if (!this.ok(t, u)) return false;
    }
    return true;
  }

  /** Briggs's test: fewer than K significant-degree neighbours of u and v together. */
  private conservative(u: number, v: number): boolean {
    const stamp = ++this.stamp;
    let k = 0;
    for (const r of [u, v]) {
      const list = this.adjList[r]!;
      for (let i = 0; i < list.length; i++) {
        const n = list[i]!;
        const s = this.state[n];
        if (s === ON_STACK || s === COALESCED || this.mark[n] === stamp) continue;
        this.mark[n] = stamp;
        if (this.degree[n]! >= K && ++k >= K) return false;
      }
    }
    return true;
  }

  private combine(u: number, v: number): void {
    // v leaves the freeze or spill worklist: those are pruned lazily by state.
    this.state[v] = COALESCED;
    this.alias[v] = u;
    const into = this.moveList[u]!;
    for (const m of this.moveList[v]!) into.push(m);
    this.enableMovesOf(v);
    for (const t of this.adjacent(v)) {
      this.addEdge(t, u);
      this.decrementDegree(t);
    }
    if (this.state[u] !== PRECOLORED) this.cost[u]! += this.cost[v]!;
    if (this.degree[u]! >= K && this.state[u] === FREEZE) {
      this.state[u] = SPILL;
      this.spillWl.push(u);
    }
  }

  private freeze(): void {
    const u = this.freezeWl.pop()!;
    if (this.state[u] !== FREEZE) return;
    this.state[u] = SIMPLIFY;
    this.simplifyWl.push(u);
    this.freezeMoves(u);
  }

  private freezeMoves(u: number): void {
    for (const m of this.nodeMoves(u)) {
      const mv = this.moves[m]!;
      const x = this.getAlias(mv.dst);
      const y = this.getAlias(mv.src);
      const v = y === this.getAlias(u) ? x : y;
      mv.state = M_FROZEN;
      if (this.state[v] === FREEZE && !this.moveRelated(v) && this.degree[v]! < K) {
        this.state[v] = SIMPLIFY;
        this.simplifyWl.push(v);
      }
    }
  }

  private selectSpill(): void {
    let best = -1;
    let bestScore = Infinity;
    for (const r of this.spillWl) {
      if (this.state[r] !== SPILL) continue;
      const score = this.spillTemps.has(r) ? 1e30 : this.cost[r]! / Math.max(1, this.degree[r]!);
      if (score < bestScore) {
        bestScore = score;
        best = r;
      }
    }
    this.spillWl = this.spillWl.filter((x) => x !== best && this.state[x] === SPILL);
    if (best < 0) return;
    this.state[best] = SIMPLIFY;
    this.simplifyWl.push(best);
    this.freezeMoves(best);
  }

  private assignColors(): number[] {
    const spilled: number[] = [];
    while (this.selectStack.length) {
      const r = this.selectStack.pop()!;
      const used = new Set<number>();
      for (const w of this.adjList[r]!) {
        const a = this.getAlias(w);
        if (this.state[a] === COLORED || this.state[a] === PRECOLORED) used.add(this.color[a]!);
      }
      const c = this.pickColor(r, used);
      if (c < 0) {
        this.state[r] = SPILLED;
        spilled.push(r);
      } else {
        this.state[r] = COLORED;
        this.color[r] = c;
      }
    }
    for (let r = FIRST_VREG; r < this.n; r++) {
      if (this.state[r] === COALESCED) this.color[r] = this.color[this.getAlias(r)]!;
    }
    return spilled;
  }

  /** A free colour, preferring one a move partner already has (the copy then disappears). */
  private pickColor(r: number, used: Set<number>): number {
    for (const m of this.moveList[r]!) {
      const mv = this.moves[m]!;
      const other = this.getAlias(mv.dst) === r ? this.getAlias(mv.src) : this.getAlias(mv.dst);
      const oc =
        this.state[other] === COLORED || this.state[other] === PRECOLORED ? this.color[other]! : -1;
      if (oc >= 0 && !used.has(oc)) return oc;
    }
    for (const c of COLOR_ORDER) if (!used.has(c)) return c;
    return -1;
  }

  /** Replaces virtual registers by their colours and drops copies that became no-ops. */
  rewrite(): void {
    const f = (r: number): number => (r >= FIRST_VREG ? this.color[r]! : r);
    for (const b of this.mf.blocks) {
      const kept: MInst[] = [];
      for (const mi of b.insts) {
        mapRegs(mi, f);
        if (mi.code === COPY && !mi.srcIsImm && mi.dst === mi.src) continue;
        if (mi.dst < 0 && mi.dst !== NO_REG)
          throw new RegAllocError(`unallocated register in ${this.mf.name}`);
        kept.push(mi);
      }
      b.insts.length = 0;
      b.insts.push(...kept);
    }
  }
}

// ---- liveness ----

export interface Liveness {
  /** by index in mf.blocks */
  liveIn: Set<number>[];
  liveOut: Set<number>[];
  mentioned: Set<number>;
}

export function computeLiveness(mf: MFunc): Liveness {
  const ops = new Operands();
  const { uses, defs } = ops;
  const blocks = mf.blocks;
  const gen: Set<number>[] = [];
  const kill: Set<number>[] = [];
  const mentioned = new Set<number>();
  for (const b of blocks) {
    const g = new Set<number>();
    const k = new Set<number>();
    for (const mi of b.insts) {
      operands(mi, ops);
      for (let j = 0; j < ops.nUses; j++) {
        const u = uses[j]!;
        if (u === R10) continue;
        mentioned.add(u);
        if (!k.has(u)) g.add(u);
      }
      for (let j = 0; j < ops.nDefs; j++) {
        const d = defs[j]!;
        if (d === R10) continue;
        mentioned.add(d);
        k.add(d);
      }
    }
    gen.push(g);
    kill.push(k);
  }
  const index = new Map<MBlock, number>();
  blocks.forEach((b, i) => index.set(b, i));
  const succs = blocks.map((b) => b.succs.map((s) => index.get(s)!));
  const liveIn = blocks.map(() => new Set<number>());
  const liveOut = blocks.map(() => new Set<number>());
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = blocks.length - 1; i >= 0; i--) {
      const out = liveOut[i]!;
      for (const s of succs[i]!)
        for (const r of liveIn[s]!)
          if (!out.has(r)) {
            out.add(r);
            changed = true;
          }
      const inn = liveIn[i]!;
      const k = kill[i]!;
      for (const r of gen[i]!)
        if (!inn.has(r)) {
          inn.add(r);
          changed = true;
        }
      for (const r of out)
        if (!k.has(r) && !inn.has(r)) {
          inn.add(r);
          changed = true;
        }
    }
  }
  return { liveIn, liveOut, mentioned };
}

/**
 * A set of registers that iterates in insertion order, as a Set does (interference edges are
 * added in that order, which colouring depends on), kept in a linked list over typed arrays.
 */
class OrderedRegs {
  /** the first register, -1 when empty */
  first = -1;
  private last = -1;
  /** the register after each one, -1 at the end */
  readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly present: Uint8Array;

  constructor(n: number) {
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.present = new Uint8Array(n);
  }

  add(r: number): void {
    if (this.present[r] !== 0) return;
    this.present[r] = 1;
    this.prev[r] = this.last;
    this.next[r] = -1;
    if (this.last >= 0) this.next[this.last] = r;
    else this.first = r;
    this.last = r;
  }

  delete(r: number): void {
    if (this.present[r] !== 1) return;
    this.present[r] = 0;
    const p = this.prev[r]!;
    const n = this.next[r]!;
    if (p >= 0) this.next[p] = n;
    else this.first = n;
    if (n >= 0) this.prev[n] = p;
    else this.last = p;
  }

  clear(): void {
    for (let r = this.first; r >= 0; r = this.next[r]!) this.present[r] = 0;
    this.first = -1;
    this.last = -1;
  }
}

// ---- spilling ----

function rewriteSpills(mf: MFunc, spills: number[], temps: Set<number>): void {
  const slotOf = new Map<number, Slot>();
  for (const r of spills) {
    const slot: Slot = { id: mf.slots.length, size: 8, align: 8, name: `spill.v${r}`, offset: 0 };
    mf.slots.push(slot);
    slotOf.set(r, slot);
  }
  const ops = new Operands();
  for (const b of mf.blocks) {
    const out: MInst[] = [];
    for (const mi of b.insts) {
      operands(mi, ops);
      const uses = ops.uses.slice(0, ops.nUses);
      const defs = ops.defs.slice(0, ops.nDefs);
      const loaded = new Map<number, number>();
      for (const u of uses) {
        const slot = slotOf.get(u);
        if (!slot || loaded.has(u)) continue;
        const t = mf.vreg();
        temps.add(t);
        loaded.set(u, t);
        const ld = new MInst(op.BPF_LDX | op.BPF_MEM | op.BPF_DW);
        ld.dst = t;
        ld.src = R10;
        ld.slot = slot;
        ld.pos = mi.pos;
        out.push(ld);
      }
      const stored = new Map<number, number>();
      for (const d of defs) {
        const slot = slotOf.get(d);
        if (!slot) continue;
        const t = loaded.get(d) ?? mf.vreg();
        temps.add(t);
        stored.set(d, t);
      }
      if (loaded.size || stored.size) mapRegs(mi, (r) => stored.get(r) ?? loaded.get(r) ?? r);
      out.push(mi);
      for (const [r, t] of stored) {
        const st = new MInst(op.BPF_STX | op.BPF_MEM | op.BPF_DW);
        st.dst = R10;
        st.src = t;
        st.slot = slotOf.get(r)!;
        st.pos = mi.pos;
        out.push(st);
      }
    }
    b.insts.length = 0;
    b.insts.push(...out);
  }
}
