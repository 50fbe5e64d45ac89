// Lowering expressions: values, lvalues, addresses and conditions.
//
// `rvalue(e)` is the value of `e` after the conversion sema recorded for its context (array and
// function decay, promotions, the usual arithmetic conversions, assignment conversions). A record
// value is represented by its address: record-typed expressions evaluate to a pointer to an object
// holding them (the object itself for lvalues, a stack temporary otherwise).
//
// `lvalue(e)` says where an lvalue lives: an SSA variable, or memory at base + constant offset
// (with bit-field position when it is one). Constant offsets of member and index chains fold into
// that offset, so `p->a.b[2]` is one load at an offset from p.
import type * as A from "./ast.js";
import { VarKey } from "./lower-builder.js";
import type { FnLowering } from "./lower-func.js";
import { type Cond, type Inst, type Ty, type BinOp } from "./ir.js";
import type { ExprInfo, VarDecl } from "./sema.js";
import {
  type CType,
  Q_VOLATILE,
  canonical,
  compatible,
  intType,
  isInteger,
  pointerTo,
  qualsOf,
  sizeOf,
  ulonglongType,
  unqualified,
} from "./types.js";
import {
  byAddress,
  convert,
  intInfo,
  irTy,
  isAggregate,
  isWideInt,
  unsupportedScalar,
} from "./lower-types.js";
import {
  arithHalves,
  compareHalves,
  constantHalves,
  convertWide,
  extendedHalves,
  loadHalves,
  narrowed,
  negateHalves,
  truthOperand,
  wideValue,
  type Halves,
} from "./lower-wide.js";
import { lowerCall } from "./lower-call.js";
import { lowerStmtExpr } from "./lower-stmt.js";
import { copyMemory, initializeLocal } from "./lower-init.js";
import { convertValue } from "./consteval.js";
import { coreLValue, corePath } from "./lower-core.js";

export interface BitField {
  /** Bit position of the field's lowest bit inside the storage unit. */
  readonly shift: number;
  readonly width: number;
  /** Bytes of the storage unit loaded and stored. */
  readonly unit: number;
}

export type LValue =
  | { kind: "ssa"; key: VarKey; type: CType }
  | {
      kind: "mem";
      base: Inst;
      off: number;
      type: CType;
      volatile: boolean;
      bits: BitField | undefined;
    };

export function infoOf(fl: FnLowering, e: A.Expr): ExprInfo {
  const info = fl.sema.exprs.get(e);
  if (info === undefined)
    throw new Error(`internal: expression at ${e.loc.line}:${e.loc.col} was not typed`);
  return info;
}

/** The type of e's value before its implicit conversion: arrays and functions decayed. */
export function valueType(info: ExprInfo): CType {
  const c = canonical(info.type);
  if (c.kind === "array") return pointerTo(c.element);
  if (c.kind === "function") return pointerTo(info.type);
  return info.lvalue ? unqualified(info.type) : info.type;
}

/** The type of e's value after the conversion its context applies. */
export function convertedType(info: ExprInfo): CType {
  return info.converted ?? valueType(info);
}

/** The value of `e` after its implicit conversion. */
export function rvalue(fl: FnLowering, e: A.Expr): Inst {
  const info = infoOf(fl, e);
  const to = convertedType(info);
  if (info.value !== undefined && !info.lvalue && isInteger(info.type)) {
    return constantOf(fl, to, info.value);
  }
  const from = valueType(info);
  // (a narrowed 128-bit value needs only the halves it keeps: no temporary)
  if (isWideInt(from) && !isWideInt(to)) return narrowed(fl, halvesOf(fl, e), to);
  const v = valueOf(fl, e, info);
  if (from === to) return v;
  return convertWide(fl, v, from, to) ?? convert(fl.b, v, from, to);
}

/** The value of `e` converted to `to` (after its own implicit conversion). */
export function rvalueAs(fl: FnLowering, e: A.Expr, to: CType): Inst {
  const info = infoOf(fl, e);
  const v = rvalue(fl, e);
  const from = convertedType(info);
  return convertWide(fl, v, from, to) ?? convert(fl.b, v, from, to);
}

export function constantOf(fl: FnLowering, t: CType, v: bigint): Inst {
  if (isWideInt(t)) return wideValue(fl, t, constantHalves(fl, convertValue(v, t)));
  const ty = irTy(t);
  return fl.b.constBig(ty === "void" ? "i32" : ty, convertValue(v, t));
}

/** Evaluates `e` for its side effects only. */
export function effect(fl: FnLowering, e: A.Expr): void {
  const info = infoOf(fl, e);
  if (info.value !== undefined && !info.lvalue) return;
  switch (e.kind) {
    case "CommaExpr":
      effect(fl, e.left);
      effect(fl, e.right);
      return;
    case "UpdateExpr":
      // (no copy of the old value when nothing reads it)
      if (isWideInt(info.type)) {
        wideUpdate(fl, e, false);
        return;
      }
      break;
    case "CastExpr":
      effect(fl, e.operand);
      return;
    case "ConditionalExpr":
      if (canonical(info.type).kind === "void" || e.then === null) break;
      {
        const t = fl.b.newBlock("cond.then");
        const f = fl.b.newBlock("cond.else");
        const join = fl.b.newBlock("cond.end");
        condBranch(fl, e.cond, t, f);
        sealAndEnter(fl, t);
        effect(fl, e.then);
        fl.b.br(join);
        sealAndEnter(fl, f);
        effect(fl, e.else);
        fl.b.br(join);
        sealAndEnter(fl, join);
      }
      return;
    case "Identifier":
    case "IntegerLiteral":
    case "CharLiteral":
    case "StringLiteral":
    case "SizeofExpr":
    case "AlignofExpr":
      return;
  }
  valueOf(fl, e, info);
}

export function sealAndEnter(fl: FnLowering, b: import("./ir.js").Block): void {
  fl.b.seal(b);
  fl.b.setBlock(b);
}

// ---------------------------------------------------------------------------------------------
// Values

/** The value of `e` in its own (decayed) type; records give their address. */
export function valueOf(fl: FnLowering, e: A.Expr, info: ExprInfo): Inst {
  const bad = unsupportedScalar(info.type);
  if (bad !== undefined) {
    fl.error(e.loc, bad);
    return fl.b.const64(0, 0);
  }
  if (isWideInt(info.type)) {
    const wide = wideOperation(fl, e, info);
    if (wide !== undefined) return wide;
  }
  switch (e.kind) {
    case "Identifier":
      return identifierValue(fl, e, info);
    case "IntegerLiteral":
    case "CharLiteral":
      return constantOf(
        fl,
        info.type,
        info.value ?? BigInt(e.kind === "CharLiteral" ? e.value : 0),
      );
    case "FloatLiteral":
      fl.error(e.loc, "floating-point types are not supported by the BPF target");
      return fl.b.const64(0, 0);
    case "StringLiteral":
      return stringAddress(fl, e);
    case "UnaryExpr":
      return unaryValue(fl, e, info);
    case "UpdateExpr":
      return updateValue(fl, e, info);
    case "BinaryExpr":
      return binaryValue(fl, e, info);
    case "AssignExpr":
      return assignValue(fl, e, info);
    case "CommaExpr":
      effect(fl, e.left);
      return rvalue(fl, e.right);
    case "ConditionalExpr":
      return conditionalValue(fl, e, info);
    case "CastExpr":
      return castValue(fl, e, info);
    case "SizeofExpr":
    case "AlignofExpr":
    case "OffsetofExpr":
    case "TypesCompatibleExpr":
      return constantOf(fl, info.type, info.value ?? 0n);
    case "CompoundLiteral":
      return compoundLiteralValue(fl, e, info);
    case "StmtExpr":
      return lowerStmtExpr(fl, e) ?? fl.b.const32(0);
    case "CallExpr":
      return lowerCall(fl, e) ?? fl.b.const32(0);
    case "MemberExpr":
    case "IndexExpr":
      return loadLValue(fl, lvalue(fl, e), e);
    case "VaArgExpr":
      fl.error(e.loc, "variadic functions are not supported by the BPF target");
      return fl.b.const64(0, 0);
    case "GenericSelection":
      return rvalue(fl, genericChoice(fl, e));
  }
}

function identifierValue(fl: FnLowering, e: A.Identifier, info: ExprInfo): Inst {
  const d = info.decl;
  if (d === undefined) return fl.b.const32(0);
  if (d.kind === "enumConst") return constantOf(fl, info.type, d.value);
  if (d.kind === "function") return functionAddress(fl, e, d);
  if (fl.unit.helperId(d) !== undefined) {
    fl.error(
      e.loc,
      `taking the address of helper function '${d.name}' is not supported: helpers can only be called`,
    );
    return fl.b.const64(0, 0);
  }
  return loadLValue(fl, variableLValue(fl, d, info.type), e);
}

export function functionAddress(
  fl: FnLowering,
  e: A.Expr,
  d: import("./sema.js").FunctionDecl,
): Inst {
  const sym = fl.unit.functionAddressTaken(d, e.loc);
  const f = fl.b.emit("funcaddr", "i64", []);
  f.symbol = sym;
  return f;
}

function stringAddress(fl: FnLowering, s: A.StringLiteral): Inst {
  const sym = fl.unit.stringLiteral(s);
  const g = fl.b.emit("global", "i64", []);
  g.symbol = sym;
  g.relocKind = "data";
  return g;
}

function unaryValue(fl: FnLowering, e: A.UnaryExpr, info: ExprInfo): Inst {
  const b = fl.b;
  switch (e.op) {
    case "&":
      return addressOf(fl, e.operand);
    case "*": {
      const c = canonical(info.type);
      if (c.kind === "function") return rvalue(fl, e.operand);
      return loadLValue(fl, lvalue(fl, e), e);
    }
    case "+":
      return rvalue(fl, e.operand);
    case "-": {
      const v = rvalue(fl, e.operand);
      return b.emit("neg", v.ty, [v]);
    }
    case "~": {
      const v = rvalue(fl, e.operand);
      return b.bin("xor", v, b.constOf(v.ty, -1));
    }
    case "!": {
      if (isWideOperand(fl, e.operand)) {
        return b.cmp("eq", truthOperand(fl, halvesOf(fl, e.operand)), b.const64(0, 0));
      }
      const v = rvalue(fl, e.operand);
      return b.cmp("eq", v, b.constOf(v.ty, 0));
    }
  }
}

/** The address of an lvalue (or of a function) as a pointer value. */
export function addressOf(fl: FnLowering, e: A.Expr): Inst {
  const info = infoOf(fl, e);
  const c = canonical(info.type);
  if (c.kind === "function") {
    if (e.kind === "Identifier" && info.decl?.kind === "function")
      return functionAddress(fl, e, info.decl);
    if (e.kind === "UnaryExpr" && e.op === "*") return rvalue(fl, e.operand);
  }
  if (
    e.kind === "Identifier" &&
    info.decl?.kind === "var" &&
    fl.unit.helperId(info.decl) !== undefined
  ) {
    fl.error(
      e.loc,
      `taking the address of helper function '${info.decl.name}' is not supported: helpers can only be called`,
    );
    return fl.b.const64(0, 0);
  }
  const lv = lvalue(fl, e);
  if (lv.kind === "ssa") {
    // Cannot happen: address-taken variables get stack slots.
    fl.error(e.loc, "internal: address of a register variable");
    return fl.b.const64(0, 0);
  }
  return materialize(fl, lv.base, lv.off);
}

/** base + off as a pointer value. */
export function materialize(fl: FnLowering, base: Inst, off: number): Inst {
  if (off === 0) return base;
  if (base.op === "frame" || base.op === "global") {
    // A new address, never base moved: base may be a variable's value (an inlined function's
    // pointer parameter bound to `&local`) that other reads still return.
    const moved = fl.b.emit(base.op, "i64", []);
    moved.slot = base.slot;
    moved.symbol = base.symbol;
    moved.relocKind = base.relocKind;
    moved.off = base.off + off;
    return moved;
  }
  const r = fl.b.bin("add", base, fl.b.const64(off, off < 0 ? -1 : 0));
  r.inbounds = true;
  return r;
}

// ---- loads and stores through lvalues ----

export function variableLValue(fl: FnLowering, d: VarDecl, type: CType): LValue {
  const s = fl.storageOf(d);
  const isVolatile = (qualsOf(type) & Q_VOLATILE) !== 0;
  switch (s.kind) {
    case "ssa":
      return { kind: "ssa", key: s.key, type: d.type };
    case "slot":
      return {
        kind: "mem",
        base: fl.frameAddr(s.slot),
        off: 0,
        type,
        volatile: isVolatile,
        bits: undefined,
      };
    case "global":
      return {
        kind: "mem",
        base: fl.globalAddr(d),
        off: 0,
        type,
        volatile: isVolatile,
        bits: undefined,
      };
  }
}

/** Reads an lvalue's value: records and arrays give their address. */
export function loadLValue(fl: FnLowering, lv: LValue, at: A.Expr): Inst {
  if (lv.kind === "ssa") return fl.b.read(lv.key);
  if (byAddress(lv.type)) return materialize(fl, lv.base, lv.off);
  const bad = unsupportedScalar(lv.type);
  if (bad !== undefined) {
    fl.error(at.loc, bad);
    return fl.b.const64(0, 0);
  }
  const folded = fl.unit.constantLoad(lv.base, lv.off, lv.type, lv.volatile);
  if (folded !== undefined) return constantOf(fl, lv.type, folded);
  const ii = intInfo(lv.type);
  const ty = irTy(lv.type);
  if (ii === undefined || ty === "void") {
    fl.error(at.loc, "cannot load a value of this type");
    return fl.b.const64(0, 0);
  }
  if (lv.bits) return loadBitField(fl, lv.base, lv.off, lv.bits, ii, ty, lv.volatile);
  return fl.b.load(ty, ii.size, ii.signed && ii.size < 4, lv.base, lv.off, lv.volatile);
}

function loadBitField(
  fl: FnLowering,
  base: Inst,
  off: number,
  bits: BitField,
  ii: { signed: boolean },
  ty: Ty,
  isVolatile: boolean,
): Inst {
  const b = fl.b;
  const unitTy: Ty = bits.unit === 8 ? "i64" : "i32";
  const unitBits = unitTy === "i64" ? 64 : 32;
  let v = b.load(unitTy, bits.unit, false, base, off, isVolatile);
  if (ii.signed) {
    const left = unitBits - bits.shift - bits.width;
    if (left) v = b.bin("shl", v, b.constOf(unitTy, left));
    if (unitBits - bits.width) v = b.bin("ashr", v, b.constOf(unitTy, unitBits - bits.width));
  } else {
    if (bits.shift) v = b.bin("lshr", v, b.constOf(unitTy, bits.shift));
    if (bits.width < unitBits) v = maskLow(fl, v, bits.width);
  }
  if (unitTy !== ty) v = b.emit(ty === "i64" ? (ii.signed ? "sext" : "zext") : "trunc", ty, [v]);
  return v;
}

function maskLow(fl: FnLowering, v: Inst, width: number): Inst {
  const b = fl.b;
  if (width >= 64) return v;
  if (width === 32 && v.ty === "i64") return b.emit("zext", "i64", [b.emit("trunc", "i32", [v])]);
  if (width >= 32) {
    const hiMask = (2 ** (width - 32) - 1) | 0;
    return b.bin("and", v, b.const64(-1, hiMask));
  }
  const m = width === 31 ? 0x7fffffff : (1 << width) - 1;
  return b.bin("and", v, b.constOf(v.ty, m));
}

/**
 * Stores `value` (already of lv's type) and returns the value the assignment expression has
 * (for a bit-field: the stored bits, extended as the field's type says).
 */
export function storeLValue(fl: FnLowering, lv: LValue, value: Inst, at: A.Expr): Inst {
  const b = fl.b;
  if (lv.kind === "ssa") {
    b.write(lv.key, value);
    return value;
  }
  checkStackLeak(fl, lv.base, value, at);
  if (byAddress(lv.type)) {
    copyMemory(fl, lv.base, lv.off, value, 0, sizeOf(lv.type), at);
    return materialize(fl, lv.base, lv.off);
  }
  const ii = intInfo(lv.type);
  if (ii === undefined) {
    fl.error(at.loc, "cannot store a value of this type");
    return value;
  }
  if (lv.bits) return storeBitField(fl, lv.base, lv.off, lv.bits, value, ii, lv.volatile);
  b.store(ii.size, lv.base, lv.off, value, lv.volatile);
  return value;
}

function storeBitField(
  fl: FnLowering,
  base: Inst,
  off: number,
  bits: BitField,
  value: Inst,
  ii: { signed: boolean },
  isVolatile: boolean,
): Inst {
  const b = fl.b;
  const unitTy: Ty = bits.unit === 8 ? "i64" : "i32";
  const unitBits = unitTy === "i64" ? 64 : 32;
  let v = value;
  if (v.ty !== unitTy) v = b.emit(unitTy === "i64" ? "zext" : "trunc", unitTy, [v]);
  const old = b.load(unitTy, bits.unit, false, base, off, isVolatile);
  const field = maskLow(fl, v, bits.width);
  const shifted = bits.shift ? b.bin("shl", field, b.constOf(unitTy, bits.shift)) : field;
  // Clear the field's bits in the old unit: ~(mask << shift).
  const keep = bitMask(unitBits, bits.shift, bits.width, true);
  const cleared = b.bin(
    "and",
    old,
    keep.hi === undefined ? b.const32(keep.lo) : b.const64(keep.lo, keep.hi),
  );
  b.store(bits.unit, base, off, b.bin("or", cleared, shifted), isVolatile);
  // The value of the assignment: the field as it now reads.
  let result: Inst = v;
  const left = unitBits - bits.width;
  if (ii.signed) {
    if (left)
      result = b.bin("ashr", b.bin("shl", v, b.constOf(unitTy, left)), b.constOf(unitTy, left));
  } else if (bits.width < unitBits) {
    result = maskLow(fl, v, bits.width);
  }
  if (result.ty !== value.ty)
    result = b.emit(value.ty === "i64" ? (ii.signed ? "sext" : "zext") : "trunc", value.ty, [
      result,
    ]);
  return result;
}

/** The bits outside [shift, shift + width) set (or inside, if !invert) in a unit of `unitBits`. */
function bitMask(
  unitBits: number,
  shift: number,
  width: number,
  invert: boolean,
): { lo: number; hi: number | undefined } {
  let lo = 0;
  let hi = 0;
  for (let i = shift; i < shift + width; i++) {
    if (i < 32) lo |= 1 << i;
    else hi |= 1 << (i - 32);
  }
  if (invert) {
    lo = ~lo;
    hi = ~hi;
  }
  return unitBits === 64 ? { lo: lo | 0, hi: hi | 0 } : { lo: lo | 0, hi: undefined };
}

/** Whether `v` is (derived from) the address of a stack object; returns the object's name. */
export function stackObject(v: Inst): string | undefined {
  for (let cur: Inst | undefined = v, n = 0; cur !== undefined && n < 16; n++) {
    if (cur.op === "frame") return cur.slot!.name;
    if (cur.op === "add" || cur.op === "sub") {
      const a: Inst = cur.args[0]!;
      const c: Inst = cur.args[1]!;
      cur = a.ty === "i64" && a.op !== "const" ? a : c;
      continue;
    }
    return undefined;
  }
  return undefined;
}

function checkStackLeak(fl: FnLowering, base: Inst, value: Inst, at: A.Expr): void {
  if (base.op !== "global" || value.ty !== "i64") return;
  const name = stackObject(value);
  if (name === undefined) return;
  fl.error(
    at.loc,
    `storing the address of local variable '${name}' in global memory is not supported: the verifier rejects a stack pointer leaked out of its frame`,
  );
}

// ---- lvalues ----

export function lvalue(fl: FnLowering, e: A.Expr): LValue {
  const info = infoOf(fl, e);
  const isVolatile = (qualsOf(info.type) & Q_VOLATILE) !== 0;
  switch (e.kind) {
    case "Identifier": {
      const d = info.decl;
      if (d?.kind === "var") return variableLValue(fl, d, info.type);
      break;
    }
    case "UnaryExpr":
      if (e.op === "*") {
        const p = rvalue(fl, e.operand);
        const { base, off } = splitAddress(p);
        return { kind: "mem", base, off, type: info.type, volatile: isVolatile, bits: undefined };
      }
      break;
    case "MemberExpr":
      return memberLValue(fl, e, info, isVolatile);
    case "IndexExpr":
      return indexLValue(fl, e, info, isVolatile);
    case "StringLiteral":
      return {
        kind: "mem",
        base: stringAddress(fl, e),
        off: 0,
        type: info.type,
        volatile: false,
        bits: undefined,
      };
    case "CompoundLiteral": {
      const addr = compoundLiteralAddress(fl, e, info);
      return {
        kind: "mem",
        base: addr,
        off: 0,
        type: info.type,
        volatile: isVolatile,
        bits: undefined,
      };
    }
    case "GenericSelection":
      return lvalue(fl, genericChoice(fl, e));
    case "CommaExpr":
      effect(fl, e.left);
      return lvalue(fl, e.right);
    default:
      break;
  }
  // A record-typed rvalue (call, conditional, assignment...) lives in memory too.
  if (byAddress(info.type)) {
    const addr = valueOf(fl, e, info);
    const { base, off } = splitAddress(addr);
    return { kind: "mem", base, off, type: info.type, volatile: isVolatile, bits: undefined };
  }
  fl.error(e.loc, "expression is not an lvalue the BPF back end can address");
  const slot = fl.newSlot(info.type, "invalid");
  return {
    kind: "mem",
    base: fl.frameAddr(slot),
    off: 0,
    type: info.type,
    volatile: false,
    bits: undefined,
  };
}

/** Splits `p` into a base pointer and a constant offset (p = base + off). */
export function splitAddress(p: Inst): { base: Inst; off: number } {
  let base = p;
  let off = 0;
  for (;;) {
    if ((base.op === "add" || base.op === "sub") && base.args[1]!.op === "const") {
      const c = base.args[1]!;
      if (c.hi !== c.lo >> 31) break;
      const d = base.op === "add" ? c.lo : -c.lo;
      if (Math.abs(off + d) > 0x7fff) break;
      off += d;
      base = base.args[0]!;
      continue;
    }
    break;
  }
  return { base, off };
}

function memberLValue(
  fl: FnLowering,
  e: A.MemberExpr,
  info: ExprInfo,
  isVolatile: boolean,
): LValue {
  const chain = corePath(fl, e);
  if (chain !== undefined) return coreLValue(fl, e, chain);
  const path = info.member!;
  let base: Inst;
  let off: number;
  let vol = isVolatile;
  if (e.arrow) {
    ({ base, off } = splitAddress(rvalue(fl, e.object)));
  } else {
    const obj = lvalue(fl, e.object);
    if (obj.kind === "ssa") {
      fl.error(e.loc, "internal: member of a register variable");
      return obj;
    }
    base = obj.base;
    off = obj.off;
    vol ||= obj.volatile;
  }
  const m = path.member;
  if (m.bitWidth !== undefined && isWideInt(m.type)) {
    fl.error(e.memberLoc, "__int128 bit-fields are not supported by the BPF back end of tsbpf");
  }
  if (m.bitWidth === undefined || isWideInt(m.type)) {
    return {
      kind: "mem",
      base,
      off: off + path.offset,
      type: info.type,
      volatile: vol,
      bits: undefined,
    };
  }
  const unit = bitFieldUnit(path.bitOffset, m.bitWidth, sizeOf(m.type));
  if (unit === undefined) {
    fl.error(
      e.memberLoc,
      `bit-field '${m.name ?? ""}' straddles an 8-byte boundary, which the BPF back end cannot access`,
    );
    return { kind: "mem", base, off, type: info.type, volatile: vol, bits: undefined };
  }
  return {
    kind: "mem",
    base,
    off: off + unit.offset,
    type: info.type,
    volatile: vol,
    bits: { shift: path.bitOffset - unit.offset * 8, width: m.bitWidth, unit: unit.bytes },
  };
}

/**
 * The storage unit to access a bit-field through: the naturally aligned unit of the declared
 * type's size holding all its bits, else the smallest aligned unit that does.
 */
export function bitFieldUnit(
  bitOffset: number,
  width: number,
  declaredSize: number,
): { offset: number; bytes: number } | undefined {
  const sizes = [declaredSize, 1, 2, 4, 8];
  for (const bytes of sizes) {
    if (bytes > 8 || bytes < 1) continue;
    const start = Math.floor(bitOffset / (bytes * 8)) * bytes;
    if (bitOffset + width <= (start + bytes) * 8) return { offset: start, bytes };
  }
  return undefined;
}

function indexLValue(fl: FnLowering, e: A.IndexExpr, info: ExprInfo, isVolatile: boolean): LValue {
  const chain = corePath(fl, e);
  if (chain !== undefined) return coreLValue(fl, e, chain);
  const ai = infoOf(fl, e.array);
  const arrayIsPointer = canonical(convertedType(ai)).kind === "pointer";
  const ptrExpr = arrayIsPointer ? e.array : e.index;
  const idxExpr = arrayIsPointer ? e.index : e.array;
  const elemSize = sizeOf(info.type);
  // An array operand that is itself an lvalue keeps its volatility and constant offsets.
  let base: Inst;
  let off: number;
  const pInfo = infoOf(fl, ptrExpr);
  if (canonical(pInfo.type).kind === "array") {
    const arr = lvalue(fl, ptrExpr);
    if (arr.kind === "ssa") {
      fl.error(e.loc, "internal: array in a register");
      return arr;
    }
    base = arr.base;
    off = arr.off;
  } else {
    ({ base, off } = splitAddress(rvalue(fl, ptrExpr)));
  }
  const idxInfo = infoOf(fl, idxExpr);
  const constIdx = idxInfo.value !== undefined && !idxInfo.lvalue ? idxInfo.value : undefined;
  if (constIdx !== undefined) {
    const delta =
      Number(BigInt.asIntN(64, convertValue(constIdx, convertedType(idxInfo)))) * elemSize;
    if (Math.abs(off + delta) <= 0x7fff) {
      return {
        kind: "mem",
        base,
        off: off + delta,
        type: info.type,
        volatile: isVolatile,
        bits: undefined,
      };
    }
  }
  const idx = rvalue(fl, idxExpr);
  const addr = pointerAdd(fl, base, idx, convertedType(idxInfo), elemSize, false);
  return { kind: "mem", base: addr, off, type: info.type, volatile: isVolatile, bits: undefined };
}

/** p + idx * elemSize (or minus), idx of integer type idxType. */
export function pointerAdd(
  fl: FnLowering,
  p: Inst,
  idx: Inst,
  idxType: CType,
  elemSize: number,
  negate: boolean,
): Inst {
  const b = fl.b;
  let i = idx;
  if (i.ty === "i32") i = b.emit(intInfo(idxType)?.signed ? "sext" : "zext", "i64", [i]);
  if (elemSize !== 1) i = b.bin("mul", i, b.const64(elemSize, 0));
  // Pointer arithmetic stays inside its object: it never wraps (marked like signed arithmetic).
  const r = b.bin(negate ? "sub" : "add", p, i);
  r.inbounds = true;
  return r;
}

// ---- operators ----

function binOpFor(op: A.BinaryOp, signed: boolean): BinOp {
  switch (op) {
    case "*":
      return "mul";
    case "/":
      return signed ? "sdiv" : "udiv";
    case "%":
      return signed ? "srem" : "urem";
    case "+":
      return "add";
    case "-":
      return "sub";
    case "<<":
      return "shl";
    case ">>":
      return signed ? "ashr" : "lshr";
    case "&":
      return "and";
    case "|":
      return "or";
    case "^":
      return "xor";
    default:
      throw new Error(`internal: ${op} is not arithmetic`);
  }
}

export function condFor(op: A.BinaryOp, signed: boolean): Cond {
  switch (op) {
    case "==":
      return "eq";
    case "!=":
      return "ne";
    case "<":
      return signed ? "slt" : "ult";
    case "<=":
      return signed ? "sle" : "ule";
    case ">":
      return signed ? "sgt" : "ugt";
    case ">=":
      return signed ? "sge" : "uge";
    default:
      throw new Error(`internal: ${op} is not a comparison`);
  }
}

/** Computes `a op b` in type `t` (a, b already of that type; shift counts of any int type). */
export function arith(
  fl: FnLowering,
  op: A.BinaryOp,
  a: Inst,
  b: Inst,
  t: CType,
  at: A.SourceLoc,
): Inst {
  const ii = intInfo(t);
  if (ii === undefined) {
    fl.error(at, "invalid operand types for the BPF back end");
    return a;
  }
  let rhs = b;
  if (op === "<<" || op === ">>") {
    if (rhs.ty !== a.ty) rhs = fl.b.emit(a.ty === "i64" ? "zext" : "trunc", a.ty, [rhs]);
  }
  const inst = fl.b.bin(binOpFor(op, ii.signed), a, rhs);
  if (ii.signed && (op === "+" || op === "-" || op === "*")) inst.nsw = true;
  return inst;
}

function binaryValue(fl: FnLowering, e: A.BinaryExpr, info: ExprInfo): Inst {
  const b = fl.b;
  switch (e.op) {
    case "&&":
    case "||":
      return logicalValue(fl, e);
    case "==":
    case "!=":
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const opType = info.opType ?? valueType(infoOf(fl, e.left));
      const signed = intInfo(opType)?.signed ?? false;
      if (isWideInt(opType)) {
        const l = halvesOf(fl, e.left);
        return compareHalves(fl, condFor(e.op, signed), l, halvesOf(fl, e.right));
      }
      const l = rvalue(fl, e.left);
      const r = rvalue(fl, e.right);
      return b.cmp(condFor(e.op, signed), l, r);
    }
    case "+":
    case "-":
      return additiveValue(fl, e, info);
    default: {
      const l = rvalue(fl, e.left);
      const r = shiftCountOr(fl, e.op, e.right) ?? rvalue(fl, e.right);
      return arith(fl, e.op, l, r, info.opType ?? info.type, e.opLoc);
    }
  }
}

/**
 * A shift's count when it has a 128-bit type and the shifted operand does not: its low bits
 * (a count past 63 is undefined anyway); undefined for any other operand.
 */
function shiftCountOr(fl: FnLowering, op: A.BinaryOp, count: A.Expr): Inst | undefined {
  if ((op !== "<<" && op !== ">>") || !isWideOperand(fl, count)) return undefined;
  return narrowed(fl, halvesOf(fl, count), ulonglongType);
}

function additiveValue(fl: FnLowering, e: A.BinaryExpr, info: ExprInfo): Inst {
  const li = infoOf(fl, e.left);
  const ri = infoOf(fl, e.right);
  const lt = canonical(convertedType(li));
  const rt = canonical(convertedType(ri));
  if (lt.kind === "pointer" && rt.kind === "pointer") {
    // Pointer difference: bytes / element size, exact.
    const diff = fl.b.bin("sub", rvalue(fl, e.left), rvalue(fl, e.right));
    return exactDivide(fl, diff, elementSize(lt.pointee));
  }
  if (lt.kind === "pointer") {
    const p = rvalue(fl, e.left);
    const i = rvalue(fl, e.right);
    return pointerAdd(fl, p, i, rt, elementSize(lt.pointee), e.op === "-");
  }
  if (rt.kind === "pointer") {
    const i = rvalue(fl, e.left);
    const p = rvalue(fl, e.right);
    return pointerAdd(fl, p, i, lt, elementSize(rt.pointee), false);
  }
  const l = rvalue(fl, e.left);
  const r = rvalue(fl, e.right);
  return arith(fl, e.op, l, r, info.opType ?? info.type, e.opLoc);
}

export function elementSize(t: CType): number {
  const c = canonical(t);
  if (c.kind === "void" || c.kind === "function") return 1;
  return sizeOf(c);
}

/** v / d where the division is known exact: a shift and a multiply by the odd part's inverse. */
function exactDivide(fl: FnLowering, v: Inst, d: number): Inst {
  const b = fl.b;
  if (d === 1) return v;
  let shift = 0;
  let odd = d;
  while ((odd & 1) === 0) {
    odd >>= 1;
    shift++;
  }
  let r = v;
  if (shift) r = b.bin("ashr", r, b.const64(shift, 0));
  if (odd !== 1) {
    // The inverse of an odd number modulo 2^64 (Newton's iteration doubles the correct bits).
    const m = 1n << 64n;
    const o = BigInt(odd);
    let inv = o;
    for (let i = 0; i < 6; i++) inv = (inv * (2n - o * inv)) % m;
    inv = (inv + m) % m;
    r = b.bin("mul", r, b.constBig("i64", inv));
  }
  return r;
}

function logicalValue(fl: FnLowering, e: A.BinaryExpr): Inst {
  const key = new VarKey("logical", "i32");
  const t = fl.b.newBlock("lor.true");
  const f = fl.b.newBlock("lor.false");
  const join = fl.b.newBlock("lor.end");
  condBranch(fl, e, t, f);
  sealAndEnter(fl, t);
  fl.b.write(key, fl.b.const32(1));
  fl.b.br(join);
  sealAndEnter(fl, f);
  fl.b.write(key, fl.b.const32(0));
  fl.b.br(join);
  sealAndEnter(fl, join);
  return fl.b.read(key);
}

// ---- __int128 (lower-wide.ts) ----

/** Whether `e`'s value, converted for its context, is a 128-bit integer. */
function isWideOperand(fl: FnLowering, e: A.Expr): boolean {
  return isWideInt(convertedType(infoOf(fl, e)));
}

/**
 * The halves of `e`'s value as a 128-bit integer (its context converts it to one). Operators
 * are computed on halves directly: only a value that must be in memory gets a temporary.
 */
export function halvesOf(fl: FnLowering, e: A.Expr): Halves {
  const info = infoOf(fl, e);
  if (info.value !== undefined && !info.lvalue && isInteger(info.type)) {
    return constantHalves(fl, info.value);
  }
  const from = valueType(info);
  if (!isWideInt(from)) return extendedHalves(fl, valueOf(fl, e, info), from);
  if (e.kind === "CastExpr") return halvesOf(fl, e.operand);
  return operationHalves(fl, e, info) ?? loadHalves(fl, valueOf(fl, e, info));
}

/** The value of a constant operand (a shift count), if it is one. */
function constantOperand(fl: FnLowering, e: A.Expr): bigint | undefined {
  const info = infoOf(fl, e);
  return info.value !== undefined && !info.lvalue ? info.value : undefined;
}

/** Stores a 128-bit value at addr + off. */
function storeHalves(
  fl: FnLowering,
  addr: Inst,
  off: number,
  h: Halves,
  isVolatile: boolean,
): void {
  fl.b.store(8, addr, off, h.lo, isVolatile);
  fl.b.store(8, addr, off + 8, h.hi, isVolatile);
}

/** Where a 128-bit lvalue is (they always have memory: byAddress), and its volatility. */
function wideAddress(fl: FnLowering, lv: LValue, at: A.Expr): { addr: Inst; volatile: boolean } {
  // (materialize may move lv's base, so lv is not used after this)
  return { addr: loadLValue(fl, lv, at), volatile: lv.kind === "mem" && lv.volatile };
}

/** The operators without side effects whose result is a 128-bit integer, as halves. */
function operationHalves(fl: FnLowering, e: A.Expr, info: ExprInfo): Halves | undefined {
  const t = info.type;
  switch (e.kind) {
    case "UnaryExpr":
      if (e.op === "+") return halvesOf(fl, e.operand);
      if (e.op !== "-" && e.op !== "~") return undefined;
      return negateHalves(fl, e.op, halvesOf(fl, e.operand));
    case "BinaryExpr": {
      if (e.op === "&&" || e.op === "||") return undefined;
      const l = halvesOf(fl, e.left);
      const shift = e.op === "<<" || e.op === ">>";
      const r = shift ? l : halvesOf(fl, e.right);
      const count = shift ? constantOperand(fl, e.right) : undefined;
      return arithHalves(fl, e.op, l, r, info.opType ?? t, count, e.opLoc);
    }
    default:
      return undefined;
  }
}

/** The operators whose result is a 128-bit integer; undefined for the other expressions. */
function wideOperation(fl: FnLowering, e: A.Expr, info: ExprInfo): Inst | undefined {
  const t = info.type;
  if (e.kind === "UpdateExpr") return wideUpdate(fl, e, !e.prefix);
  const h = operationHalves(fl, e, info);
  return h === undefined ? undefined : wideValue(fl, t, h);
}

/** `++x`, `x--`...: the object's address, or with `keepOld` a copy of its old value. */
function wideUpdate(fl: FnLowering, e: A.UpdateExpr, keepOld: boolean): Inst {
  const target = unqualified(infoOf(fl, e.operand).type);
  const { addr, volatile } = wideAddress(fl, lvalue(fl, e.operand), e.operand);
  const old = loadHalves(fl, addr);
  const op = e.op === "++" ? "+" : "-";
  const next = arithHalves(fl, op, old, constantHalves(fl, 1n), target, undefined, e.loc);
  storeHalves(fl, addr, 0, next, volatile);
  return keepOld ? wideValue(fl, target, old) : addr;
}

/** `x op= v` computed in a 128-bit type (x itself may be narrower). */
function wideCompoundAssign(fl: FnLowering, e: A.AssignExpr, info: ExprInfo): Inst {
  const target = unqualified(infoOf(fl, e.target).type);
  const op = e.op.slice(0, -1) as A.BinaryOp;
  const lv = lvalue(fl, e.target);
  const wide = isWideInt(target) ? wideAddress(fl, lv, e.target) : undefined;
  const old =
    wide !== undefined
      ? loadHalves(fl, wide.addr)
      : extendedHalves(fl, loadLValue(fl, lv, e.target), target);
  const shift = op === "<<" || op === ">>";
  const r = shift ? old : halvesOf(fl, e.value);
  const count = shift ? constantOperand(fl, e.value) : undefined;
  const result = arithHalves(fl, op, old, r, info.opType ?? target, count, e.opLoc);
  if (wide === undefined) return storeLValue(fl, lv, narrowed(fl, result, target), e);
  storeHalves(fl, wide.addr, 0, result, wide.volatile);
  return wide.addr;
}

// ---- assignment and update ----

function assignValue(fl: FnLowering, e: A.AssignExpr, info: ExprInfo): Inst {
  const b = fl.b;
  const target = infoOf(fl, e.target);
  const ttype = unqualified(target.type);
  if (e.op !== "=" && isWideInt(info.opType ?? ttype)) return wideCompoundAssign(fl, e, info);
  if (isWideInt(ttype)) {
    // clang evaluates the value before the place it goes to
    const h = halvesOf(fl, e.value);
    const { addr, volatile } = wideAddress(fl, lvalue(fl, e.target), e.target);
    storeHalves(fl, addr, 0, h, volatile);
    return addr;
  }
  if (byAddress(ttype)) {
    const src = rvalue(fl, e.value);
    const lv = lvalue(fl, e.target);
    if (lv.kind === "mem") {
      copyMemory(fl, lv.base, lv.off, src, 0, sizeOf(ttype), e);
      return materialize(fl, lv.base, lv.off);
    }
    return src;
  }
  if (e.op === "=") {
    const root = rootVariable(fl, e.target);
    if (root !== undefined && fl.unit.isWriteOnly(root)) return rvalue(fl, e.value);
    // clang evaluates the value before the place it goes to
    const v = rvalue(fl, e.value);
    const lv = lvalue(fl, e.target);
    return storeLValue(fl, lv, v, e);
  }
  const lv = lvalue(fl, e.target);
  const old = loadLValue(fl, lv, e.target);
  const op = e.op.slice(0, -1) as A.BinaryOp;
  const opType = info.opType ?? ttype;
  const tc = canonical(ttype);
  let result: Inst;
  if (tc.kind === "pointer" && (op === "+" || op === "-")) {
    const vi = infoOf(fl, e.value);
    result = pointerAdd(
      fl,
      old,
      rvalue(fl, e.value),
      convertedType(vi),
      elementSize(tc.pointee),
      op === "-",
    );
  } else {
    const a = convert(b, old, ttype, opType);
    const v = shiftCountOr(fl, op, e.value) ?? rvalue(fl, e.value);
    const r = arith(fl, op, a, v, opType, e.opLoc);
    result = convert(b, r, opType, ttype);
  }
  return storeLValue(fl, lv, result, e);
}

/** The variable an lvalue is part of (through members and array elements), if any. */
function rootVariable(fl: FnLowering, e: A.Expr): VarDecl | undefined {
  let x = e;
  for (;;) {
    if (x.kind === "MemberExpr" && !x.arrow) x = x.object;
    else if (x.kind === "IndexExpr" && canonical(infoOf(fl, x.array).type).kind === "array")
      x = x.array;
    else break;
  }
  if (x.kind !== "Identifier") return undefined;
  const d = infoOf(fl, x).decl;
  return d?.kind === "var" ? d : undefined;
}

function updateValue(fl: FnLowering, e: A.UpdateExpr, info: ExprInfo): Inst {
  const b = fl.b;
  const lv = lvalue(fl, e.operand);
  const t = unqualified(infoOf(fl, e.operand).type);
  const old = loadLValue(fl, lv, e.operand);
  const c = canonical(t);
  let next: Inst;
  if (c.kind === "pointer") {
    const step = elementSize(c.pointee);
    next = b.bin(e.op === "++" ? "add" : "sub", old, b.const64(step, 0));
  } else {
    const ii = intInfo(t)!;
    if (ii.isBool) {
      // ++ on _Bool sets it; -- flips it (C11 6.5.2.4 via +=/-= 1 then conversion).
      next = e.op === "++" ? b.const32(1) : b.cmp("eq", old, b.const32(0));
    } else {
      const one = b.constOf(old.ty, 1);
      const r = b.bin(e.op === "++" ? "add" : "sub", old, one);
      if (ii.signed && ii.size >= 4) r.nsw = true;
      next = ii.size < 4 ? convert(b, r, intType, t) : r;
    }
  }
  const stored = storeLValue(fl, lv, next, e);
  void info;
  return e.prefix ? stored : old;
}

// ---- conditional, cast, compound literal ----

function conditionalValue(fl: FnLowering, e: A.ConditionalExpr, info: ExprInfo): Inst {
  const b = fl.b;
  const type = info.type;
  if (canonical(type).kind === "void") {
    effect(fl, e);
    return b.const32(0);
  }
  const ty: Ty = byAddress(type) ? "i64" : irTy(type);
  if (e.then === null) {
    // GNU `a ?: b`: a is evaluated once.
    const a = rvalue(fl, e.cond);
    const ai = infoOf(fl, e.cond);
    const from = convertedType(ai);
    const key = new VarKey("cond", ty);
    const t = b.newBlock("cond.then");
    const f = b.newBlock("cond.else");
    const join = b.newBlock("cond.end");
    const truth = isWideInt(from) ? truthOperand(fl, loadHalves(fl, a)) : a;
    b.cbr("ne", truth, b.constOf(truth.ty, 0), t, f);
    sealAndEnter(fl, t);
    b.write(key, convertWide(fl, a, from, type) ?? convert(b, a, from, type));
    b.br(join);
    sealAndEnter(fl, f);
    b.write(key, rvalue(fl, e.else));
    b.br(join);
    sealAndEnter(fl, join);
    return b.read(key);
  }
  if (fl.unit.optimize && isSpeculatable(fl, e.then) && isSpeculatable(fl, e.else)) {
    const tv = rvalue(fl, e.then);
    const fv = rvalue(fl, e.else);
    const c = conditionOperands(fl, e.cond);
    if (c !== undefined) return b.select(c.cond, c.a, c.b, tv, fv);
  }
  const key = new VarKey("cond", ty);
  const t = b.newBlock("cond.then");
  const f = b.newBlock("cond.else");
  const join = b.newBlock("cond.end");
  condBranch(fl, e.cond, t, f);
  sealAndEnter(fl, t);
  b.write(key, rvalue(fl, e.then));
  b.br(join);
  sealAndEnter(fl, f);
  b.write(key, rvalue(fl, e.else));
  b.br(join);
  sealAndEnter(fl, join);
  return b.read(key);
}

/** Cheap expressions without side effects or memory reads, safe to evaluate unconditionally. */
function isSpeculatable(fl: FnLowering, e: A.Expr, depth = 0): boolean {
  if (depth > 3) return false;
  const info = infoOf(fl, e);
  if (byAddress(info.type) || isWideOperand(fl, e)) return false;
  if (info.value !== undefined && !info.lvalue) return true;
  switch (e.kind) {
    case "IntegerLiteral":
    case "CharLiteral":
      return true;
    case "Identifier": {
      const d = info.decl;
      if (d?.kind === "enumConst") return true;
      if (d?.kind !== "var") return false;
      if (canonical(d.type).kind === "array") return false;
      return fl.storageOf(d).kind === "ssa";
    }
    case "CastExpr":
      return isSpeculatable(fl, e.operand, depth + 1);
    case "UnaryExpr":
      return (
        (e.op === "-" || e.op === "~" || e.op === "+") && isSpeculatable(fl, e.operand, depth + 1)
      );
    case "BinaryExpr":
      if (e.op === "/" || e.op === "%" || e.op === "&&" || e.op === "||") return false;
      return isSpeculatable(fl, e.left, depth + 1) && isSpeculatable(fl, e.right, depth + 1);
    default:
      return false;
  }
}

/** A condition as a comparison of two values (for select), or undefined for && / ||. */
function conditionOperands(
  fl: FnLowering,
  e: A.Expr,
): { cond: Cond; a: Inst; b: Inst } | undefined {
  if (e.kind === "BinaryExpr") {
    switch (e.op) {
      case "==":
      case "!=":
      case "<":
      case "<=":
      case ">":
      case ">=": {
        const info = infoOf(fl, e);
        const opType = info.opType ?? valueType(infoOf(fl, e.left));
        if (isWideInt(opType)) break;
        const a = rvalue(fl, e.left);
        const b = rvalue(fl, e.right);
        const signed = intInfo(opType)?.signed ?? false;
        return { cond: condFor(e.op, signed), a, b };
      }
      case "&&":
      case "||":
        return undefined;
    }
  }
  if (e.kind === "UnaryExpr" && e.op === "!" && !isWideOperand(fl, e.operand)) {
    const v = rvalue(fl, e.operand);
    return { cond: "eq", a: v, b: fl.b.constOf(v.ty, 0) };
  }
  const v = isWideOperand(fl, e) ? truthOperand(fl, halvesOf(fl, e)) : rvalue(fl, e);
  return { cond: "ne", a: v, b: fl.b.constOf(v.ty, 0) };
}

function castValue(fl: FnLowering, e: A.CastExpr, info: ExprInfo): Inst {
  const to = info.type;
  const tc = canonical(to);
  if (tc.kind === "void") {
    effect(fl, e.operand);
    return fl.b.const32(0);
  }
  const bad = unsupportedScalar(to);
  if (bad !== undefined) {
    fl.error(e.loc, bad);
    return fl.b.const64(0, 0);
  }
  const oi = infoOf(fl, e.operand);
  const from = convertedType(oi);
  if (isWideInt(from) && !isWideInt(to)) return narrowed(fl, halvesOf(fl, e.operand), to);
  const v = rvalue(fl, e.operand);
  if (isAggregate(to)) return v;
  return convertWide(fl, v, from, to) ?? convert(fl.b, v, from, to);
}

function compoundLiteralAddress(fl: FnLowering, e: A.CompoundLiteral, info: ExprInfo): Inst {
  const slot = fl.newSlot(info.type, "compoundliteral");
  initializeLocal(fl, slot, info.type, e.init, e);
  return fl.frameAddr(slot);
}

function compoundLiteralValue(fl: FnLowering, e: A.CompoundLiteral, info: ExprInfo): Inst {
  const addr = compoundLiteralAddress(fl, e, info);
  if (byAddress(info.type)) return addr;
  return loadLValue(
    fl,
    { kind: "mem", base: addr, off: 0, type: info.type, volatile: false, bits: undefined },
    e,
  );
}

/** The association a _Generic selection picks (sema records only the result's type). */
export function genericChoice(fl: FnLowering, e: A.GenericSelection): A.Expr {
  const ci = infoOf(fl, e.control);
  const control = unqualified(valueType(ci));
  let fallback: A.Expr | undefined;
  for (const a of e.assocs) {
    if (a.type === null) {
      fallback = a.expr;
      continue;
    }
    const t = fl.sema.typeNames.get(a.type);
    if (t !== undefined && compatible(t, control)) return a.expr;
  }
  return fallback ?? e.assocs[0]!.expr;
}

// ---------------------------------------------------------------------------------------------
// Conditions

/** Branches to `t` when `e` is true (non-zero), else to `f`. */
export function condBranch(
  fl: FnLowering,
  e: A.Expr,
  t: import("./ir.js").Block,
  f: import("./ir.js").Block,
): void {
  const b = fl.b;
  const info = infoOf(fl, e);
  if (info.value !== undefined && !info.lvalue) {
    b.br(info.value !== 0n ? t : f);
    return;
  }
  fl.at(e);
  switch (e.kind) {
    case "BinaryExpr":
      switch (e.op) {
        case "&&": {
          const mid = b.newBlock("land.rhs");
          condBranch(fl, e.left, mid, f);
          sealAndEnter(fl, mid);
          condBranch(fl, e.right, t, f);
          return;
        }
        case "||": {
          const mid = b.newBlock("lor.rhs");
          condBranch(fl, e.left, t, mid);
          sealAndEnter(fl, mid);
          condBranch(fl, e.right, t, f);
          return;
        }
        case "==":
        case "!=":
        case "<":
        case "<=":
        case ">":
        case ">=": {
          const opType = info.opType ?? valueType(infoOf(fl, e.left));
          if (isWideInt(opType)) break;
          const l = rvalue(fl, e.left);
          const r = rvalue(fl, e.right);
          const signed = intInfo(opType)?.signed ?? false;
          b.cbr(condFor(e.op, signed), l, r, t, f);
          return;
        }
      }
      break;
    case "UnaryExpr":
      if (e.op === "!") {
        condBranch(fl, e.operand, f, t);
        return;
      }
      break;
    case "CommaExpr":
      effect(fl, e.left);
      condBranch(fl, e.right, t, f);
      return;
  }
  const v = isWideOperand(fl, e) ? truthOperand(fl, halvesOf(fl, e)) : rvalue(fl, e);
  b.cbr("ne", v, b.constOf(v.ty, 0), t, f);
}
