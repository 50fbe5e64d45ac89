// Constant folding, constant and copy propagation, and algebraic simplification on SSA.
//
// Each instruction is looked at with its operands already simplified; when it computes a known
// value (a constant, or one of its operands) every use is redirected there and the instruction is
// left for dead-code elimination. Strength reduction (x * 2^k -> x << k, unsigned x / 2^k ->
// x >> k), reassociation of constant additions (so address offsets collect into load/store
// offsets), and the folding of comparisons into branches happen here too.
import {
  type Block,
  type Cond,
  type Func,
  type Inst,
  type Op,
  type Ty,
  invertCond,
  isCommutative,
  removePred,
  replaceAllUses,
  setArg,
  swapCond,
} from "./ir.js";

const M32 = 0xffffffffn;
const M64 = (1n << 64n) - 1n;

/** A constant's value as an unsigned bigint of its width. */
export function constBig(c: Inst): bigint {
  if (c.ty === "i32") return BigInt(c.lo >>> 0);
  return (BigInt(c.hi >>> 0) << 32n) | BigInt(c.lo >>> 0);
}

function signedBig(v: bigint, ty: Ty): bigint {
  return ty === "i32" ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v);
}

function mask(ty: Ty): bigint {
  return ty === "i32" ? M32 : M64;
}

function bits(ty: Ty): bigint {
  return ty === "i32" ? 32n : 64n;
}

/** Whether `c` is a constant equal to `v` (as an unsigned value of its width). */
export function isConstValue(c: Inst, v: bigint): boolean {
  return c.op === "const" && constBig(c) === (v & mask(c.ty));
}

export class Folder {
  changed = false;
  constructor(readonly fn: Func) {}

  /** A constant instruction placed before `at`. */
  makeConst(ty: Ty, v: bigint, at: Inst): Inst {
    const c = this.fn.make("const", ty, [], at.block);
    const u = v & mask(ty);
    c.lo = Number(u & M32) | 0;
    c.hi = ty === "i64" ? Number((u >> 32n) & M32) | 0 : 0;
    insertBefore(c, at);
    return c;
  }

  makeInst(op: Op, ty: Ty, args: Inst[], at: Inst): Inst {
    const i = this.fn.make(op, ty, args, at.block);
    i.pos = at.pos;
    insertBefore(i, at);
    return i;
  }

  replace(inst: Inst, by: Inst): void {
    if (inst === by) return;
    replaceAllUses(inst, by);
    this.changed = true;
  }

  run(): boolean {
    for (const b of this.fn.blocks) {
      for (let i = 0; i < b.insts.length; i++) {
        const inst = b.insts[i]!;
        if (
          inst.uses.length === 0 &&
          !inst.isTerminator &&
          inst.op !== "store" &&
          inst.op !== "atomic" &&
          inst.op !== "call" &&
          inst.op !== "cmpxchg"
        )
          continue;
        this.visit(inst);
      }
    }
    return this.changed;
  }

  private visit(inst: Inst): void {
    switch (inst.op) {
      case "add":
      case "sub":
      case "mul":
      case "udiv":
      case "sdiv":
      case "urem":
      case "srem":
      case "and":
      case "or":
      case "xor":
      case "shl":
      case "lshr":
      case "ashr":
        this.binary(inst);
        return;
      case "neg": {
        const a = inst.args[0]!;
        if (a.op === "const") this.replace(inst, this.makeConst(inst.ty, -constBig(a), inst));
        else if (a.op === "neg") this.replace(inst, a.args[0]!);
        return;
      }
      case "zext":
      case "sext":
      case "trunc":
        this.conversion(inst);
        return;
      case "sextin":
        this.sextIn(inst);
        return;
      case "bswap": {
        const a = inst.args[0]!;
        if (a.op === "const")
          this.replace(inst, this.makeConst(inst.ty, byteSwap(constBig(a), inst.width), inst));
        return;
      }
      case "cmp":
        this.compare(inst);
        return;
      case "select":
        this.select(inst);
        return;
      case "phi":
        this.phi(inst);
        return;
      case "load":
      case "store":
      case "atomic":
      case "cmpxchg":
        this.address(inst);
        if (inst.op === "store") this.storeValue(inst);
        if (inst.op === "load") this.constantLoad(inst);
        return;
      case "cbr":
        this.branch(inst);
        return;
    }
  }

  // ---- arithmetic ----

  private binary(inst: Inst): void {
    let a = inst.args[0]!;
    let b = inst.args[1]!;
    const ty = inst.ty;
    if (isCommutative(inst.op) && a.op === "const" && b.op !== "const") {
      setArg(inst, 0, b);
      setArg(inst, 1, a);
      [a, b] = [b, a];
      this.changed = true;
    }
    if (a.op === "const" && b.op === "const") {
      const v = evalBinary(inst.op, constBig(a), constBig(b), ty);
      if (v !== undefined) this.replace(inst, this.makeConst(ty, v, inst));
      return;
    }
    if (b.op !== "const") {
      if (a === b) {
        if (inst.op === "sub" || inst.op === "xor")
          this.replace(inst, this.makeConst(ty, 0n, inst));
        else if (inst.op === "and" || inst.op === "or") this.replace(inst, a);
      }
      return;
    }
    const c = constBig(b);
    const sc = signedBig(c, ty);
    switch (inst.op) {
      case "add":
      case "sub":
        if (c === 0n) return this.replace(inst, a);
        // A stack or global address plus a constant is that address further on.
        if ((a.op === "frame" || a.op === "global") && Math.abs(Number(sc)) < 0x7fff) {
          const moved = this.makeInst(a.op, "i64", [], inst);
          moved.slot = a.slot;
          moved.symbol = a.symbol;
          moved.relocKind = a.relocKind;
          moved.off = a.off + Number(sc) * (inst.op === "sub" ? -1 : 1);
          return this.replace(inst, moved);
        }
        // (x + c1) + c2 -> x + (c1 + c2)
        if ((a.op === "add" || a.op === "sub") && a.args[1]!.op === "const") {
          const c1 = signedBig(constBig(a.args[1]!), ty) * (a.op === "sub" ? -1n : 1n);
          const total = c1 + sc * (inst.op === "sub" ? -1n : 1n);
          const r =
            total === 0n
              ? a.args[0]!
              : this.makeInst("add", ty, [a.args[0]!, this.makeConst(ty, total, inst)], inst);
          return this.replace(inst, r);
        }
        if (inst.op === "sub") {
          // x - c -> x + (-c): one canonical form for the reassociation above.
          const r = this.makeInst("add", ty, [a, this.makeConst(ty, -sc, inst)], inst);
          r.nsw = inst.nsw;
          r.inbounds = inst.inbounds;
          return this.replace(inst, r);
        }
        return;
      case "mul": {
        if (c === 0n) return this.replace(inst, b);
        if (c === 1n) return this.replace(inst, a);
        const k = log2(c);
        if (k > 0)
          this.replace(
            inst,
            this.makeInst("shl", ty, [a, this.makeConst(ty, BigInt(k), inst)], inst),
          );
        return;
      }
      case "udiv": {
        if (c === 1n) return this.replace(inst, a);
        const k = log2(c);
        if (k > 0)
          this.replace(
            inst,
            this.makeInst("lshr", ty, [a, this.makeConst(ty, BigInt(k), inst)], inst),
          );
        return;
      }
      case "sdiv":
      case "srem":
        if (c === 1n)
          return this.replace(inst, inst.op === "sdiv" ? a : this.makeConst(ty, 0n, inst));
        // A non-negative dividend and a positive divisor: the unsigned operation is the same.
        if (sc > 0n && nonNegative(a)) {
          const r = this.makeInst(inst.op === "sdiv" ? "udiv" : "urem", ty, [a, b], inst);
          return this.replace(inst, r);
        }
        return;
      case "urem": {
        if (c === 1n) return this.replace(inst, this.makeConst(ty, 0n, inst));
        const k = log2(c);
        if (k > 0)
          this.replace(inst, this.makeInst("and", ty, [a, this.makeConst(ty, c - 1n, inst)], inst));
        return;
      }
      case "and":
        if (c === 0n) return this.replace(inst, b);
        if (c === mask(ty)) return this.replace(inst, a);
        if (
          knownZeroAbove(a) !== undefined &&
          (c | ((1n << BigInt(knownZeroAbove(a)!)) - 1n)) === c
        )
          return this.replace(inst, a);
        if (a.op === "and" && a.args[1]!.op === "const") {
          const m = constBig(a.args[1]!) & c;
          return this.replace(
            inst,
            this.makeInst("and", ty, [a.args[0]!, this.makeConst(ty, m, inst)], inst),
          );
        }
        return;
      case "or":
        if (c === 0n) return this.replace(inst, a);
        if (c === mask(ty)) return this.replace(inst, b);
        return;
      case "xor":
        if (c === 0n) return this.replace(inst, a);
        return;
      case "shl":
      case "lshr":
      case "ashr":
        if (c === 0n) return this.replace(inst, a);
        return;
    }
  }

  private conversion(inst: Inst): void {
    const a = inst.args[0]!;
    if (a.op === "const") {
      const v = constBig(a);
      const r =
        inst.op === "zext"
          ? v
          : inst.op === "sext"
            ? BigInt.asUintN(64, BigInt.asIntN(32, v))
            : v & M32;
      this.replace(inst, this.makeConst(inst.ty, r, inst));
      return;
    }
    if (inst.op === "trunc" && (a.op === "zext" || a.op === "sext")) this.replace(inst, a.args[0]!);
    else if (inst.op === "sext" && nonNegative(a))
      this.replace(inst, this.makeInst("zext", "i64", [a], inst));
  }

  private sextIn(inst: Inst): void {
    const a = inst.args[0]!;
    const w = inst.width;
    if (a.op === "const") {
      const v = BigInt.asIntN(w, constBig(a));
      this.replace(inst, this.makeConst(inst.ty, v, inst));
      return;
    }
    // Already sign-extended from at most w bits: a signed load that narrow, or the same sextin.
    if (a.op === "load" && a.signed && a.width * 8 <= w) return this.replace(inst, a);
    if (a.op === "sextin" && a.width <= w) return this.replace(inst, a);
    if (a.op === "load" && !a.signed && a.width * 8 < w) return this.replace(inst, a);
  }

  // ---- comparisons and control flow ----

  private compare(inst: Inst): void {
    const a = inst.args[0]!;
    const b = inst.args[1]!;
    if (a.op === "const" && b.op === "const") {
      this.replace(
        inst,
        this.makeConst("i32", evalCond(inst.cond, constBig(a), constBig(b), a.ty) ? 1n : 0n, inst),
      );
      return;
    }
    if (a.op === "const" && b.op !== "const") {
      setArg(inst, 0, b);
      setArg(inst, 1, a);
      inst.cond = swapCond(inst.cond);
      this.changed = true;
      return;
    }
    // (cmp ...) != 0 is the comparison itself; (cmp ...) == 0 its inverse.
    if (a.op === "cmp" && b.op === "const" && constBig(b) === 0n) {
      if (inst.cond === "ne") return this.replace(inst, a);
      if (inst.cond === "eq") {
        const r = this.makeInst("cmp", "i32", [a.args[0]!, a.args[1]!], inst);
        r.cond = invertCond(a.cond);
        return this.replace(inst, r);
      }
    }
    if (a === b) {
      this.replace(inst, this.makeConst("i32", reflexive(inst.cond) ? 1n : 0n, inst));
      return;
    }
    const known = compareOffsets(inst.cond, a, b);
    if (known !== undefined) this.replace(inst, this.makeConst("i32", known ? 1n : 0n, inst));
  }

  private select(inst: Inst): void {
    const [a, b, t, f] = inst.args as [Inst, Inst, Inst, Inst];
    if (t === f) return this.replace(inst, t);
    if (a === b) return this.replace(inst, reflexive(inst.cond) ? t : f);
    if (a.op === "const" && b.op === "const") {
      this.replace(inst, evalCond(inst.cond, constBig(a), constBig(b), a.ty) ? t : f);
    }
  }

  private phi(inst: Inst): void {
    let same: Inst | undefined;
    for (const a of inst.args) {
      if (a === inst || a === same) continue;
      if (same !== undefined) {
        // Equal constants are the same value too.
        if (a.op === "const" && same.op === "const" && a.lo === same.lo && a.hi === same.hi)
          continue;
        return;
      }
      same = a;
    }
    if (same !== undefined) this.replace(inst, same);
  }

  private branch(inst: Inst): void {
    let a = inst.args[0]!;
    let b = inst.args[1]!;
    if (a.op === "const" && b.op === "const") {
      const taken = evalCond(inst.cond, constBig(a), constBig(b), a.ty);
      toBranch(inst, taken ? 0 : 1);
      this.changed = true;
      return;
    }
    if (a.op === "const") {
      setArg(inst, 0, b);
      setArg(inst, 1, a);
      inst.cond = swapCond(inst.cond);
      [a, b] = [b, a];
      this.changed = true;
    }
    if (a === b) {
      toBranch(inst, reflexive(inst.cond) ? 0 : 1);
      this.changed = true;
      return;
    }
    const known = compareOffsets(inst.cond, a, b);
    if (known !== undefined) {
      toBranch(inst, known ? 0 : 1);
      this.changed = true;
      return;
    }
    if (b.op !== "const" || constBig(b) !== 0n || (inst.cond !== "ne" && inst.cond !== "eq"))
      return;
    // if (cmp(x, y) != 0) -> if (x cond y)
    if (a.op === "cmp") {
      inst.cond = inst.cond === "ne" ? a.cond : invertCond(a.cond);
      setArg(inst, 0, a.args[0]!);
      setArg(inst, 1, a.args[1]!);
      this.changed = true;
      return;
    }
    // if (zext(x) != 0) -> if (x != 0)
    if (a.op === "zext" || a.op === "sext") {
      setArg(inst, 0, a.args[0]!);
      setArg(inst, 1, this.makeConst(a.args[0]!.ty, 0n, inst));
      this.changed = true;
    }
  }

  // ---- memory ----

  /** load/store (x + c) + off -> x + (off + c). */
  private address(inst: Inst): void {
    const addr = inst.args[0]!;
    if (addr.op !== "add") return;
    const c = addr.args[1]!;
    if (c.op !== "const") return;
    const d = Number(signedBig(constBig(c), "i64"));
    const off = inst.off + d;
    if (off < -0x8000 || off > 0x7fff) return;
    setArg(inst, 0, addr.args[0]!);
    inst.off = off;
    this.changed = true;
  }

  /** A load from read-only data known at compile time is that constant. */
  private constantLoad(inst: Inst): void {
    const base = inst.args[0]!;
    if (base.op !== "global" || base.relocKind !== "data" || inst.volatile) return;
    const v = this.fn.constantBytes(base.symbol, base.off + inst.off, inst.width, inst.signed);
    if (v !== undefined) this.replace(inst, this.makeConst(inst.ty, BigInt.asUintN(64, v), inst));
  }

  /** A narrow store needs only the low bits: drop a mask or sign extension feeding it. */
  private storeValue(inst: Inst): void {
    const v = inst.args[1]!;
    const w = inst.width * 8;
    if (w >= 32) {
      if (w === 32 && v.op === "trunc" && v.args[0]!.op === "zext")
        setArg(inst, 1, v.args[0]!.args[0]!);
      return;
    }
    if (v.op === "sextin" && v.width >= w) {
      setArg(inst, 1, v.args[0]!);
      this.changed = true;
    } else if (v.op === "and" && v.args[1]!.op === "const") {
      const m = constBig(v.args[1]!);
      const low = (1n << BigInt(w)) - 1n;
      if ((m & low) === low) {
        setArg(inst, 1, v.args[0]!);
        this.changed = true;
      }
    }
  }
}

/**
 * Whether `v`, read as a signed number of its type, is never negative. Signed C arithmetic
 * (nsw) cannot wrap, so a loop counter starting at 0 and incremented stays non-negative.
 */
export function nonNegative(v: Inst, path: Set<Inst> = new Set()): boolean {
  // A phi met again on the path: the induction hypothesis (every other way in decides).
  if (path.has(v)) return v.op === "phi";
  if (path.size > 16) return false;
  path.add(v);
  const r = nonNegativeStep(v, path);
  path.delete(v);
  return r;
}

function nonNegativeStep(v: Inst, path: Set<Inst>): boolean {
  const ty = v.ty;
  switch (v.op) {
    case "const":
      return signedBig(constBig(v), ty) >= 0n;
    case "load":
      return !v.signed && v.width < (ty === "i32" ? 4 : 8);
    case "zext":
    case "cmp":
      return true;
    case "and":
      return nonNegative(v.args[0]!, path) || nonNegative(v.args[1]!, path);
    case "lshr":
      return v.args[1]!.op === "const" && constBig(v.args[1]!) > 0n;
    case "udiv":
      return v.args[1]!.op === "const" && constBig(v.args[1]!) > 1n;
    case "urem":
      return nonNegative(v.args[1]!, path);
    case "add":
    case "mul":
      return v.nsw && nonNegative(v.args[0]!, path) && nonNegative(v.args[1]!, path);
    case "select":
      return nonNegative(v.args[2]!, path) && nonNegative(v.args[3]!, path);
    case "phi":
      return v.args.every((a) => nonNegative(a, path));
    default:
      return false;
  }
}

/** Bits above which `v` is known to be zero (narrow unsigned loads, masks), if any. */
function knownZeroAbove(v: Inst): number | undefined {
  if (v.op === "load" && !v.signed && v.width < 8) return v.width * 8;
  if (v.op === "cmp") return 1;
  if (v.op === "and" && v.args[1]!.op === "const") {
    const m = constBig(v.args[1]!);
    let n = 0;
    while (m >> BigInt(n) !== 0n) n++;
    return n;
  }
  if (v.op === "zext") return knownZeroAbove(v.args[0]!) ?? 32;
  return undefined;
}

/** v as base + constant (through non-wrapping additions of constants). */
function splitConst(v: Inst): { base: unknown; off: bigint; nsw: boolean; inbounds: boolean } {
  if (v.op === "add" && v.args[1]!.op === "const") {
    const inner = splitConst(v.args[0]!);
    if (v.args[0]!.op !== "frame" && v.args[0]!.op !== "global") inner.base = v.args[0]!;
    return {
      base: inner.base,
      off: inner.off + signedBig(constBig(v.args[1]!), v.ty),
      nsw: v.nsw || v.inbounds,
      inbounds: v.inbounds,
    };
  }
  // Addresses of one stack slot or one global differ by their constant offsets.
  if (v.op === "frame") return { base: v.slot, off: BigInt(v.off), nsw: true, inbounds: true };
  if (v.op === "global")
    return { base: `${v.relocKind}:${v.symbol}`, off: BigInt(v.off), nsw: true, inbounds: true };
  return { base: v, off: 0n, nsw: true, inbounds: true };
}

/**
 * (x + c1) cond (x + c2): equality compares the constants; an ordering too when neither sum
 * can wrap (pointer arithmetic inside one object, signed C arithmetic).
 */
function compareOffsets(cond: Cond, a: Inst, b: Inst): boolean | undefined {
  const da = splitConst(a);
  const db = splitConst(b);
  if (da.base !== db.base || (da.off === 0n && db.off === 0n)) return undefined;
  if (cond === "eq") return da.off === db.off;
  if (cond === "ne") return da.off !== db.off;
  const signed = cond[0] === "s";
  if (signed ? !(da.nsw && db.nsw) : !(da.inbounds && db.inbounds)) return undefined;
  switch (cond) {
    case "ugt":
    case "sgt":
      return da.off > db.off;
    case "uge":
    case "sge":
      return da.off >= db.off;
    case "ult":
    case "slt":
      return da.off < db.off;
    default:
      return da.off <= db.off;
  }
}

/** Whether x cond x holds. */
function reflexive(c: Cond): boolean {
  return c === "eq" || c === "uge" || c === "ule" || c === "sge" || c === "sle";
}

export function insertBefore(inst: Inst, at: Inst): void {
  const list = at.block.insts;
  let i = list.indexOf(at);
  if (inst.op !== "phi") {
    // Never above a phi.
    while (i < list.length && list[i]!.op === "phi") i++;
  }
  list.splice(i, 0, inst);
}

/** Turns a cbr into a br to targets[which], dropping the other edge. */
export function toBranch(cbr: Inst, which: 0 | 1): void {
  const keep = cbr.targets[which]!;
  const drop = cbr.targets[1 - which]!;
  for (const a of cbr.args) {
    const i = a.uses.indexOf(cbr);
    if (i >= 0) a.uses.splice(i, 1);
  }
  cbr.args = [];
  cbr.op = "br";
  cbr.targets = [keep];
  if (drop !== keep) removePred(drop, cbr.block);
  else removeOnePred(drop, cbr.block);
}

function removeOnePred(block: Block, pred: Block): void {
  removePred(block, pred);
}

function log2(v: bigint): number {
  if (v <= 0n || (v & (v - 1n)) !== 0n) return -1;
  let k = 0;
  while (1n << BigInt(k) !== v) k++;
  return k;
}

function byteSwap(v: bigint, width: number): bigint {
  let r = 0n;
  for (let i = 0; i < width / 8; i++) r = (r << 8n) | ((v >> BigInt(i * 8)) & 0xffn);
  return r;
}

/** The value of `op` on unsigned operands of type `ty`, or undefined (division by zero). */
export function evalBinary(op: Op, a: bigint, b: bigint, ty: Ty): bigint | undefined {
  const m = mask(ty);
  const n = bits(ty);
  switch (op) {
    case "add":
      return (a + b) & m;
    case "sub":
      return (a - b) & m;
    case "mul":
      return (a * b) & m;
    case "and":
      return a & b;
    case "or":
      return a | b;
    case "xor":
      return a ^ b;
    // BPF semantics: division by zero gives 0, modulo by zero leaves the dividend.
    case "udiv":
      return b === 0n ? 0n : a / b;
    case "urem":
      return b === 0n ? a : a % b;
    case "sdiv": {
      if (b === 0n) return 0n;
      return (signedBig(a, ty) / signedBig(b, ty)) & m;
    }
    case "srem": {
      if (b === 0n) return a;
      return (signedBig(a, ty) % signedBig(b, ty)) & m;
    }
    case "shl":
      return (a << (b & (n - 1n))) & m;
    case "lshr":
      return a >> (b & (n - 1n));
    case "ashr":
      return (signedBig(a, ty) >> (b & (n - 1n))) & m;
    default:
      return undefined;
  }
}

export function evalCond(cond: Cond, a: bigint, b: bigint, ty: Ty): boolean {
  const sa = signedBig(a, ty);
  const sb = signedBig(b, ty);
  switch (cond) {
    case "eq":
      return a === b;
    case "ne":
      return a !== b;
    case "ugt":
      return a > b;
    case "uge":
      return a >= b;
    case "ult":
      return a < b;
    case "ule":
      return a <= b;
    case "sgt":
      return sa > sb;
    case "sge":
      return sa >= sb;
    case "slt":
      return sa < sb;
    case "sle":
      return sa <= sb;
  }
}
