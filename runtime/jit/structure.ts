// Structured control flow for one BPF function: arbitrary jumps become WebAssembly blocks,
// loops, ifs and branches to enclosing labels.
//
// Reducible control flow (everything clang emits) is translated after N. Ramsey, "Beyond
// Relooper: recursive translation of unstructured control flow to structured control flow"
// (ICFP 2022): walk the dominator tree; a block's dominator-tree children that have two or more
// forward in-edges ("merge" blocks) are placed right after it, each behind a `block` whose end
// a forward branch targets; a loop header wraps its code in a `loop` that back edges continue;
// any other forward edge goes to a block with a single forward predecessor, whose code is
// placed inline at the branch. Every block's code is emitted once and branches are direct, so
// hot loops compile to plain machine loops.
//
// Irreducible control flow (only hand-written or random byte code has it) falls back to a
// dispatch loop: a `loop` around a `br_table` on a state variable holding the next block, one
// entry per block; an edge sets the state and continues the loop, or just falls into the next
// block when that is its target.
import type { BpfFunction } from "./cfg.js";

/** The structured form of a function, consumed by the code generator. */
export type Shape =
  /** a label whose branches go to the end of `body` */
  | { kind: "block"; label: number; body: Shape[] }
  /** a label whose branches go back to the start of `body` */
  | { kind: "loop"; label: number; body: Shape[] }
  /** the straight-line instructions of a block (without a jump or exit that ends it) */
  | { kind: "code"; block: number }
  /** the conditional jump ending `block`: `taken` when the condition holds */
  | { kind: "if"; block: number; taken: Shape[]; notTaken: Shape[] }
  | { kind: "br"; label: number }
  /** the exit instruction ending `block` */
  | { kind: "exit"; block: number }
  /** dispatch: set the state variable (the position of the next block in the switch) */
  | { kind: "state"; value: number }
  /**
   * dispatch: a loop (labelled `label`) around a br_table on the state variable choosing one
   * of `cases`, each the code of one block; falling off a case runs the next one
   */
  | { kind: "dispatch"; label: number; cases: Shape[][] };

export interface StructuredFunction {
  body: Shape[];
  /** the dispatch fallback was used (the control flow is irreducible) */
  dispatch: boolean;
  /** blocks reachable from the entry (others are never emitted) */
  reachable: boolean[];
}

/** Structure a function's control flow. */
export function structureFunction(f: BpfFunction): StructuredFunction {
  const order = reversePostorder(f);
  const reachable = f.blocks.map((b) => order.rpo[b.index]! >= 0);
  const idom = dominators(f, order);
  if (!isReducible(f, order, idom)) {
    return { body: dispatchShape(f, order.blocks), dispatch: true, reachable };
  }
  return { body: new RamseyTranslation(f, order, idom).translate(), dispatch: false, reachable };
}

/** Dispatch over all reachable blocks; usable for any control flow. */
export function structureAsDispatch(f: BpfFunction): StructuredFunction {
  const order = reversePostorder(f);
  const reachable = f.blocks.map((b) => order.rpo[b.index]! >= 0);
  return { body: dispatchShape(f, order.blocks), dispatch: true, reachable };
}

interface Order {
  /** reachable blocks in reverse postorder */
  blocks: number[];
  /** position of each block in that order, -1 when unreachable */
  rpo: Int32Array;
}

/** Reverse postorder of the blocks reachable from the entry (iterative depth-first search). */
function reversePostorder(f: BpfFunction): Order {
  const n = f.blocks.length;
  const visited = new Uint8Array(n);
  const post: number[] = [];
  const stack: [number, number][] = [[0, 0]];
  visited[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const succs = f.blocks[top[0]]!.succs;
    if (top[1] < succs.length) {
      const s = succs[top[1]++]!;
      if (!visited[s]) {
        visited[s] = 1;
        stack.push([s, 0]);
      }
    } else {
      post.push(top[0]);
      stack.pop();
    }
  }
  const blocks = post.reverse();
  const rpo = new Int32Array(n).fill(-1);
  blocks.forEach((b, i) => (rpo[b] = i));
  return { blocks, rpo };
}

/**
 * Immediate dominators (Cooper, Harvey, Kennedy, "A Simple, Fast Dominance Algorithm"),
 * indexed by block; the entry's is itself, unreachable blocks' -1.
 */
function dominators(f: BpfFunction, order: Order): Int32Array {
  const idom = new Int32Array(f.blocks.length).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (order.rpo[a]! > order.rpo[b]!) a = idom[a]!;
      while (order.rpo[b]! > order.rpo[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const b of order.blocks) {
      if (b === 0) continue;
      let dom = -1;
      for (const p of f.blocks[b]!.preds) {
        if (idom[p] === -1) continue; // not processed yet, or unreachable
        dom = dom === -1 ? p : intersect(p, dom);
      }
      if (dom !== idom[b]) {
        idom[b] = dom;
        changed = true;
      }
    }
  }
  return idom;
}

function dominates(idom: Int32Array, a: number, b: number): boolean {
  for (;;) {
    if (a === b) return true;
    if (b === 0) return false;
    b = idom[b]!;
  }
}

/** Every retreating edge goes to a block that dominates its source (a natural loop). */
function isReducible(f: BpfFunction, order: Order, idom: Int32Array): boolean {
  for (const b of order.blocks) {
    for (const s of f.blocks[b]!.succs) {
      if (order.rpo[s]! <= order.rpo[b]! && !dominates(idom, s, b)) return false;
    }
  }
  return true;
}

class RamseyTranslation {
  private nextLabel = 0;
  private readonly loopLabel = new Map<number, number>();
  private readonly mergeLabel = new Map<number, number>();
  private readonly isLoopHeader: boolean[];
  private readonly isMerge: boolean[];
  /** dominator-tree children that are merge blocks, ascending reverse postorder */
  private readonly mergeChildren: number[][];

  constructor(
    private readonly f: BpfFunction,
    private readonly order: Order,
    idom: Int32Array,
  ) {
    const n = f.blocks.length;
    this.isLoopHeader = new Array<boolean>(n).fill(false);
    this.isMerge = new Array<boolean>(n).fill(false);
    this.mergeChildren = Array.from({ length: n }, () => []);
    const forwardIn = new Int32Array(n);
    for (const b of order.blocks) {
      for (const s of f.blocks[b]!.succs) {
        if (order.rpo[s]! <= order.rpo[b]!) this.isLoopHeader[s] = true;
        else forwardIn[s]!++;
      }
    }
    for (const b of order.blocks) {
      this.isMerge[b] = forwardIn[b]! >= 2;
      if (b !== 0 && this.isMerge[b]) this.mergeChildren[idom[b]!]!.push(b);
    }
    for (const list of this.mergeChildren) list.sort((a, b) => order.rpo[a]! - order.rpo[b]!);
  }

  translate(): Shape[] {
    const out: Shape[] = [];
    this.doTree(0, out);
    return out;
  }

  // Each method appends to `out` (returning fresh arrays to be spread would copy a chain of
  // n sequential joins n times).

  /**
   * The code of block x and of everything it dominates: x inside one `block` per merge child
   * (the child with the highest reverse postorder outermost, so a forward branch to a child
   * leaves the block that precedes it), then the children in ascending reverse postorder. The
   * last child's tree ends the sequence, so it is handled by the loop instead of recursion:
   * a chain of thousands of sequential joins does not exhaust the stack.
   */
  private doTree(x: number, out: Shape[]): void {
    for (;;) {
      if (this.isLoopHeader[x]) {
        const label = this.nextLabel++;
        this.loopLabel.set(x, label);
        const body: Shape[] = [];
        out.push({ kind: "loop", label, body });
        out = body; // everything x dominates goes inside its loop
      }
      const merges = this.mergeChildren[x]!;
      if (merges.length === 0) {
        out.push({ kind: "code", block: x });
        return this.terminator(x, out);
      }
      // bodies[k] holds block k's contents; block k + 1 holds block k and y_k's tree
      const bodies = merges.map((y): Shape[] => {
        this.mergeLabel.set(y, this.nextLabel++);
        return [];
      });
      for (let k = merges.length - 1; k > 0; k--) {
        bodies[k]!.push({
          kind: "block",
          label: this.mergeLabel.get(merges[k - 1]!)!,
          body: bodies[k - 1]!,
        });
      }
      out.push({
        kind: "block",
        label: this.mergeLabel.get(merges[merges.length - 1]!)!,
        body: bodies[merges.length - 1]!,
      });
      bodies[0]!.push({ kind: "code", block: x });
      this.terminator(x, bodies[0]!);
      for (let k = 0; k + 1 < merges.length; k++) this.doTree(merges[k]!, bodies[k + 1]!);
      x = merges[merges.length - 1]!;
    }
  }

  private terminator(x: number, out: Shape[]): void {
    const b = this.f.blocks[x]!;
    switch (b.kind) {
      case "exit":
        out.push({ kind: "exit", block: x });
        return;
      case "cond": {
        const taken: Shape[] = [];
        const notTaken: Shape[] = [];
        out.push({ kind: "if", block: x, taken, notTaken });
        this.branch(x, b.succs[0]!, taken);
        this.branch(x, b.succs[1]!, notTaken);
        return;
      }
      default:
        return this.branch(x, b.succs[0]!, out);
    }
  }

  private branch(x: number, y: number, out: Shape[]): void {
    if (this.order.rpo[y]! <= this.order.rpo[x]!) {
      out.push({ kind: "br", label: this.loopLabel.get(y)! });
    } else if (this.isMerge[y]) {
      out.push({ kind: "br", label: this.mergeLabel.get(y)! });
    } else {
      this.doTree(y, out);
    }
  }
}

/**
 * loop L { block B_n-1 { ... block B_0 { br_table B_0..B_n-1 } case_0 } case_1 ... } case_n-1 }
 * with the state variable holding the next block's position (its initial value 0 is the entry,
 * the first block by start slot). Cases only branch to L, so the blocks need no labels.
 */
function dispatchShape(f: BpfFunction, blocks: number[]): Shape[] {
  // Blocks in the order the fallthrough works best: by start slot (the program's order).
  const order = [...blocks].sort((a, b) => a - b);
  const position = new Map<number, number>();
  order.forEach((b, i) => position.set(b, i));
  const loopLabel = 0;
  const goto = (to: number): Shape[] => [
    { kind: "state", value: position.get(to)! },
    { kind: "br", label: loopLabel },
  ];
  const edge = (from: number, to: number): Shape[] =>
    position.get(to) === position.get(from)! + 1 ? [] : goto(to); // [] falls into the next case
  const cases = order.map((b): Shape[] => {
    const block = f.blocks[b]!;
    const code: Shape[] = [{ kind: "code", block: b }];
    if (block.kind === "exit") return [...code, { kind: "exit", block: b }];
    if (block.kind === "cond") {
      return [
        ...code,
        { kind: "if", block: b, taken: goto(block.succs[0]!), notTaken: edge(b, block.succs[1]!) },
      ];
    }
    return [...code, ...edge(b, block.succs[0]!)];
  });
  return [{ kind: "dispatch", label: loopLabel, cases }];
}
