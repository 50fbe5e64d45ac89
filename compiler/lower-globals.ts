// Global objects: which section each goes in and its initial bytes.
//
// Sections follow clang -target bpf: an explicit section attribute wins (license, version, maps,
// .maps, custom ones); otherwise const objects go to .rodata, objects with a non-zero initializer
// to .data, the rest to .bss. String literals used as pointers live in .rodata.str1.1 (merged,
// private). Initial bytes come from sema's flat initializer list; an address constant in an
// initializer (a pointer to another global, a map in a map-in-map `.values` array) leaves its
// addend in the bytes and an R_BPF_64_ABS64 relocation against the target.
import type * as A from "./ast.js";
import type { InitEntry, VarDecl } from "./sema.js";
import { convertValue } from "./consteval.js";
import {
  type CType,
  Q_CONST,
  Q_VOLATILE,
  canonical,
  isComplete,
  qualsOf,
  sizeOf,
} from "./types.js";
import { bitFieldUnit } from "./lower-expr.js";
import type { UnitLowering } from "./lower.js";

export interface DataReloc {
  offset: number;
  symbol: string;
  kind: "abs64" | "abs32";
}

export interface InitialData {
  bytes: Uint8Array;
  relocs: DataReloc[];
}

/** Whether the object's type is const-qualified (arrays: their elements). */
export function isConstObject(t: CType): boolean {
  let c = canonical(t);
  let q = qualsOf(t);
  while (c.kind === "array") {
    q |= qualsOf(c.element);
    c = canonical(c.element);
  }
  return (q & Q_CONST) !== 0;
}

/** The section a defined global goes in, as clang chooses it. */
export function sectionOf(v: VarDecl, data: InitialData): string {
  if (v.section !== undefined) return v.section;
  if (isConstObject(v.type)) {
    // A static constant whose address does not matter is a mergeable constant for clang.
    const n = data.bytes.length;
    const mergeable =
      v.storage === "static" && data.relocs.length === 0 && (qualsOf(v.type) & Q_VOLATILE) === 0;
    if (mergeable && (n === 4 || n === 8 || n === 16 || n === 32)) return `.rodata.cst${n}`;
    return ".rodata";
  }
  if (v.init !== undefined && data.bytes.some((x) => x !== 0)) return ".data";
  if (data.relocs.length > 0) return ".data";
  return ".bss";
}

/** Initial bytes (and relocations) of an object of `type` initialised by `init`. */
export function initialData(
  unit: UnitLowering,
  type: CType,
  init: A.Initializer | undefined,
): InitialData {
  let size = isComplete(type) ? sizeOf(type) : 0;
  const entries = init !== undefined ? (unit.sema.initializers.get(init) ?? []) : [];
  // A flexible array member with an initializer makes the object larger than its type (GNU C,
  // which libbpf's `__array(values, ...)` map-in-map and prog array definitions rely on).
  for (const e of entries)
    size = Math.max(size, e.offset + (isComplete(e.type) ? sizeOf(e.type) : 0));
  const out: InitialData = { bytes: new Uint8Array(size), relocs: [] };
  fill(unit, out, 0, entries);
  return out;
}

function fill(
  unit: UnitLowering,
  out: InitialData,
  base: number,
  entries: readonly InitEntry[],
): void {
  for (const entry of entries) placeEntry(unit, out, base, entry);
}

function placeEntry(unit: UnitLowering, out: InitialData, base: number, entry: InitEntry): void {
  const e = entry.expr;
  const c = canonical(entry.type);
  const at = base + entry.offset;
  if (c.kind === "array" && e.kind === "StringLiteral") {
    const n = sizeOf(entry.type);
    out.bytes.set(e.bytes.subarray(0, Math.min(n, e.bytes.length)), at);
    return;
  }
  if (c.kind === "record" || c.kind === "array") {
    let x = e;
    while (x.kind === "CastExpr") x = x.operand;
    if (x.kind === "CompoundLiteral") {
      fill(unit, out, at, unit.sema.initializers.get(x.init) ?? []);
      return;
    }
    unit.error(e.loc, "initializer element is not a compile-time constant");
    return;
  }
  if (entry.bitWidth !== undefined && entry.bitOffset !== undefined) {
    const v = unit.constant(e);
    if (v === undefined) {
      unit.error(e.loc, "initializer element is not a compile-time constant");
      return;
    }
    writeBits(out.bytes, base * 8 + entry.bitOffset, entry.bitWidth, BigInt.asUintN(64, v));
    void bitFieldUnit;
    return;
  }
  const size = sizeOf(entry.type);
  const v = unit.constant(e);
  if (v !== undefined) {
    writeLE(out.bytes, at, size, BigInt.asUintN(size * 8, convertValue(v, entry.type)));
    return;
  }
  const addr = addressConstant(unit, e);
  if (addr !== undefined && (size === 8 || size === 4)) {
    writeLE(out.bytes, at, size, BigInt.asUintN(64, BigInt(addr.addend)));
    out.relocs.push({ offset: at, symbol: addr.symbol, kind: size === 8 ? "abs64" : "abs32" });
    return;
  }
  unit.error(e.loc, "initializer element is not a compile-time constant");
}

function writeLE(bytes: Uint8Array, at: number, size: number, v: bigint): void {
  let x = v;
  for (let i = 0; i < size && at + i < bytes.length; i++) {
    bytes[at + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

function writeBits(bytes: Uint8Array, bitOffset: number, width: number, v: bigint): void {
  for (let i = 0; i < width; i++) {
    const bit = bitOffset + i;
    const byte = bit >> 3;
    if (byte >= bytes.length) return;
    if ((v >> BigInt(i)) & 1n) bytes[byte]! |= 1 << (bit & 7);
    else bytes[byte]! &= ~(1 << (bit & 7));
  }
}

/** `&global + k`, a function, a string literal...: the symbol and byte addend, if constant. */
export function addressConstant(
  unit: UnitLowering,
  e: A.Expr,
): { symbol: string; addend: number } | undefined {
  const info = unit.sema.exprs.get(e);
  switch (e.kind) {
    case "CastExpr":
      return addressConstant(unit, e.operand);
    case "Identifier": {
      const d = info?.decl;
      if (d?.kind === "function") return { symbol: unit.functionReferencedByData(d), addend: 0 };
      if (d?.kind === "var" && canonical(d.type).kind === "array") return lvalueConstant(unit, e);
      return undefined;
    }
    case "StringLiteral":
      return { symbol: unit.stringLiteral(e), addend: 0 };
    case "UnaryExpr":
      if (e.op === "&") return lvalueConstant(unit, e.operand);
      return undefined;
    case "BinaryExpr": {
      if (e.op !== "+" && e.op !== "-") return undefined;
      const lt = canonical(
        unit.sema.exprs.get(e.left)?.converted ?? unit.sema.exprs.get(e.left)?.type ?? info!.type,
      );
      const ptrLeft = lt.kind === "pointer" || lt.kind === "array";
      const ptrExpr = ptrLeft ? e.left : e.right;
      const intExpr = ptrLeft ? e.right : e.left;
      const base = addressConstant(unit, ptrExpr);
      const k = unit.constant(intExpr);
      if (base === undefined || k === undefined) return undefined;
      const pt = canonical(
        unit.sema.exprs.get(ptrExpr)?.converted ?? unit.sema.exprs.get(ptrExpr)!.type,
      );
      const elem = pt.kind === "pointer" ? pt.pointee : pt.kind === "array" ? pt.element : pt;
      const ec = canonical(elem);
      const esize = ec.kind === "void" || ec.kind === "function" ? 1 : sizeOf(elem);
      const delta = Number(k) * esize;
      return { symbol: base.symbol, addend: base.addend + (e.op === "-" ? -delta : delta) };
    }
    case "ConditionalExpr": {
      const c = unit.constant(e.cond);
      if (c === undefined) return undefined;
      return addressConstant(unit, c !== 0n ? (e.then ?? e.cond) : e.else);
    }
    case "CompoundLiteral":
      return { symbol: unit.fileCompoundLiteral(e), addend: 0 };
    default:
      return undefined;
  }
}

function lvalueConstant(
  unit: UnitLowering,
  e: A.Expr,
): { symbol: string; addend: number } | undefined {
  const info = unit.sema.exprs.get(e);
  switch (e.kind) {
    case "Identifier": {
      const d = info?.decl;
      if (d?.kind === "var") return { symbol: unit.useGlobal(d).symbol, addend: 0 };
      if (d?.kind === "function") return { symbol: unit.functionReferencedByData(d), addend: 0 };
      return undefined;
    }
    case "StringLiteral":
      return { symbol: unit.stringLiteral(e), addend: 0 };
    case "CompoundLiteral":
      return { symbol: unit.fileCompoundLiteral(e), addend: 0 };
    case "MemberExpr": {
      const base = e.arrow ? addressConstant(unit, e.object) : lvalueConstant(unit, e.object);
      const off = info?.member?.offset ?? 0;
      return base && { symbol: base.symbol, addend: base.addend + off };
    }
    case "IndexExpr": {
      const at = canonical(unit.sema.exprs.get(e.array)?.type ?? info!.type);
      const base =
        at.kind === "array" ? lvalueConstant(unit, e.array) : addressConstant(unit, e.array);
      const k = unit.constant(e.index);
      if (base === undefined || k === undefined || info === undefined) return undefined;
      return { symbol: base.symbol, addend: base.addend + Number(k) * sizeOf(info.type) };
    }
    case "UnaryExpr":
      if (e.op === "*") return addressConstant(unit, e.operand);
      return undefined;
    default:
      return undefined;
  }
}

/** Reads a constant of `size` bytes at `off` from initial data, if no relocation touches it. */
export function readConstant(
  data: InitialData,
  off: number,
  size: number,
  signed: boolean,
): bigint | undefined {
  if (off < 0 || off + size > data.bytes.length) return undefined;
  for (const r of data.relocs) {
    const rsize = r.kind === "abs64" ? 8 : 4;
    if (r.offset < off + size && off < r.offset + rsize) return undefined;
  }
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(data.bytes[off + i]!);
  return signed ? BigInt.asIntN(size * 8, v) : v;
}
