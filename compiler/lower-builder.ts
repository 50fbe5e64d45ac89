// Building IR for one function: the current insertion block, instruction constructors, and SSA
// construction for local variables as Braun et al. describe it ("Simple and Efficient
// Construction of Static Single Assignment Form", CC 2013): a variable read looks backwards
// through the predecessors, placing a phi where paths merge; blocks whose predecessors are not
// all known yet ("unsealed": loop headers, goto labels) get placeholder phis completed when the
// block is sealed; phis that turn out to merge a single value are removed on the spot.
//
// Nothing here knows about the C AST.
import {
  type Block,
  type BinOp,
  type Cond,
  type Func,
  type Inst,
  type Op,
  type Ty,
  removeInst,
  replaceAllUses,
} from "./ir.js";
import type { SourcePos } from "./types.js";

/** A local variable held in SSA values. */
export class VarKey {
  /** The current definition per block id. */
  readonly defs = new Map<number, Inst>();
  constructor(
    readonly name: string,
    readonly ty: Ty,
  ) {}
}

export class Builder {
  block: Block;
  /** Source position given to new instructions. */
  pos: SourcePos | undefined = undefined;
  // Placeholder phis of unsealed blocks.
  private readonly incomplete = new Map<Block, Map<VarKey, Inst>>();
  // A removed trivial phi -> the value that replaced it (definitions may still name the phi).
  private readonly forwarded = new Map<Inst, Inst>();
  private undef32: Inst | undefined;
  private undef64: Inst | undefined;

  private placed = 0;

  constructor(readonly fn: Func) {
    this.block = fn.newBlock("entry");
    this.block.sealed = true;
    this.block.order = this.placed++;
  }

  // ---- blocks ----

  newBlock(name: string): Block {
    return this.fn.newBlock(name);
  }

  /** Continue emitting into `b`. */
  setBlock(b: Block): void {
    this.block = b;
    if (b.order === Infinity) b.order = this.placed++;
  }

  /** Puts the blocks in the order code was emitted into them (source order). */
  finish(): void {
    this.fn.blocks.sort((a, b) => a.order - b.order);
  }

  /** The current block already ends in a terminator (code after return, break, goto). */
  get terminated(): boolean {
    return this.block.terminator !== undefined;
  }

  /** A fresh block for code that follows a terminator and is reachable only through labels. */
  startDeadBlock(): void {
    const b = this.newBlock("dead");
    b.sealed = true;
    this.setBlock(b);
  }

  seal(b: Block): void {
    if (b.sealed) return;
    const phis = this.incomplete.get(b);
    b.sealed = true;
    if (phis) {
      this.incomplete.delete(b);
      for (const [key, phi] of phis) this.addPhiOperands(key, phi);
    }
  }

  // ---- SSA variables ----

  write(key: VarKey, value: Inst): void {
    key.defs.set(this.block.id, value);
  }

  read(key: VarKey): Inst {
    return this.readIn(key, this.block);
  }

  private resolve(v: Inst): Inst {
    let r = v;
    for (let next = this.forwarded.get(r); next !== undefined; next = this.forwarded.get(r))
      r = next;
    return r;
  }

  private readIn(key: VarKey, b: Block): Inst {
    const d = key.defs.get(b.id);
    if (d !== undefined) {
      const r = this.resolve(d);
      if (r !== d) key.defs.set(b.id, r);
      return r;
    }
    return this.readRecursive(key, b);
  }

  private readRecursive(key: VarKey, b: Block): Inst {
    let value: Inst;
    if (!b.sealed) {
      value = this.newPhi(key.ty, b);
      let m = this.incomplete.get(b);
      if (!m) this.incomplete.set(b, (m = new Map()));
      m.set(key, value);
    } else if (b.preds.length === 0) {
      value = this.undef(key.ty);
    } else if (b.preds.length === 1) {
      value = this.readIn(key, b.preds[0]!);
    } else {
      const phi = this.newPhi(key.ty, b);
      key.defs.set(b.id, phi);
      value = this.addPhiOperands(key, phi);
    }
    key.defs.set(b.id, value);
    return value;
  }

  private newPhi(ty: Ty, b: Block): Inst {
    const phi = this.fn.make("phi", ty, [], b);
    phi.pos = undefined;
    let i = 0;
    while (i < b.insts.length && b.insts[i]!.op === "phi") i++;
    b.insts.splice(i, 0, phi);
    return phi;
  }

  private addPhiOperands(key: VarKey, phi: Inst): Inst {
    for (const pred of phi.block.preds) {
      const v = this.readIn(key, pred);
      phi.args.push(v);
      v.uses.push(phi);
    }
    return this.tryRemoveTrivialPhi(phi);
  }

  private tryRemoveTrivialPhi(phi: Inst): Inst {
    let same: Inst | undefined;
    for (const a of phi.args) {
      if (a === same || a === phi) continue;
      if (same !== undefined) return phi;
      same = a;
    }
    same ??= this.undef(phi.ty);
    const users = phi.uses.filter((u) => u !== phi);
    // Unlink the operands first (the phi may use itself), then redirect its users.
    removeInst(phi);
    replaceAllUses(phi, same);
    this.forwarded.set(phi, same);
    for (const u of users)
      if (u.op === "phi" && !this.forwarded.has(u)) this.tryRemoveTrivialPhi(u);
    return same;
  }

  /** The value an uninitialised variable reads as: zero, so the verifier sees it initialised. */
  undef(ty: Ty): Inst {
    if (ty === "i32") return (this.undef32 ??= this.placeConst("i32", 0, 0));
    return (this.undef64 ??= this.placeConst("i64", 0, 0));
  }

  private placeConst(ty: Ty, lo: number, hi: number): Inst {
    const entry = this.fn.entry;
    const c = this.fn.make("const", ty, [], entry);
    c.lo = lo | 0;
    c.hi = hi | 0;
    let i = 0;
    while (i < entry.insts.length && entry.insts[i]!.op === "phi") i++;
    entry.insts.splice(i, 0, c);
    return c;
  }

  // ---- instructions ----

  /** Appends an instruction to the current block. */
  emit(op: Op, ty: Ty, args: Inst[]): Inst {
    const inst = this.fn.make(op, ty, args, this.block);
    inst.pos = this.pos;
    this.block.insts.push(inst);
    return inst;
  }

  const32(v: number): Inst {
    const c = this.emit("const", "i32", []);
    c.lo = v | 0;
    c.hi = 0;
    return c;
  }

  /** A 64-bit constant from its halves. */
  const64(lo: number, hi: number): Inst {
    const c = this.emit("const", "i64", []);
    c.lo = lo | 0;
    c.hi = hi | 0;
    return c;
  }

  /** A constant of type `ty` from a JS number (|v| < 2^53) */
  constOf(ty: Ty, v: number): Inst {
    if (ty === "i32") return this.const32(v);
    return this.const64(v | 0, Math.floor(v / 4294967296) | 0);
  }

  constBig(ty: Ty, v: bigint): Inst {
    const lo = Number(BigInt.asIntN(32, v));
    if (ty === "i32") return this.const32(lo);
    return this.const64(lo, Number(BigInt.asIntN(32, v >> 32n)));
  }

  bin(op: BinOp, a: Inst, b: Inst): Inst {
    return this.emit(op, a.ty, [a, b]);
  }

  cmp(cond: Cond, a: Inst, b: Inst): Inst {
    const c = this.emit("cmp", "i32", [a, b]);
    c.cond = cond;
    return c;
  }

  select(cond: Cond, a: Inst, b: Inst, t: Inst, f: Inst): Inst {
    const s = this.emit("select", t.ty, [a, b, t, f]);
    s.cond = cond;
    return s;
  }

  load(ty: Ty, width: number, signed: boolean, addr: Inst, off: number, isVolatile: boolean): Inst {
    const l = this.emit("load", ty, [addr]);
    l.width = width;
    l.signed = signed;
    l.off = off;
    l.volatile = isVolatile;
    return l;
  }

  store(width: number, addr: Inst, off: number, value: Inst, isVolatile = false): Inst {
    const s = this.emit("store", "void", [addr, value]);
    s.width = width;
    s.off = off;
    s.volatile = isVolatile;
    return s;
  }

  // ---- terminators ----

  private link(from: Block, to: Block): void {
    if (to.sealed) throw new Error(`internal: edge into sealed block ${to.name}`);
    to.preds.push(from);
  }

  br(target: Block): void {
    if (this.terminated) return;
    const t = this.emit("br", "void", []);
    t.targets = [target];
    this.link(this.block, target);
  }

  cbr(cond: Cond, a: Inst, b: Inst, then: Block, otherwise: Block): void {
    if (this.terminated) return;
    if (then === otherwise) return this.br(then);
    const t = this.emit("cbr", "void", [a, b]);
    t.cond = cond;
    t.targets = [then, otherwise];
    this.link(this.block, then);
    this.link(this.block, otherwise);
  }

  ret(value: Inst | undefined): void {
    if (this.terminated) return;
    this.emit("ret", "void", value ? [value] : []);
  }

  unreachable(): void {
    if (this.terminated) return;
    this.emit("unreachable", "void", []);
  }
}
