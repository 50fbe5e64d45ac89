// CO-RE: accesses the loader relocates to the running kernel's type layouts (.BTF.ext
// core_relo), with clang's semantics.
//
// A member access through a record with __attribute__((preserve_access_index)) (vmlinux.h puts
// every record under it with `#pragma clang attribute push`), and every member access and
// constant array index inside __builtin_preserve_access_index(...), is one step of an access
// chain. Consecutive steps collapse into one relocation, as clang's BPFAbstractMemberAccess
// collapses its preserve_*_access_index intrinsics:
//
//   p->a.b[2].c     root p (a pointer: first index 0), access "0:A:B:2:C" on typeof(*p)
//   p[1].a          root p, access "1:A" on the record p points to
//   p->q->r         two chains: "0:Q" on typeof(*p), then "0:R" on typeof(*p->q)
//
// Indices count a record's members as BTF lists them (anonymous members included, unnamed
// bit-fields not). The chain's address is root + a BPF_CORE_FIELD_BYTE_OFFSET value, an IR
// "core" instruction the optimiser cannot see through; instruction selection puts its
// relocation on a `mov`, or into the offset of the load or store using it (isel.ts).
//
// The other builtins give values in "core" instructions too, carrying their local values as
// clang computes them: __builtin_preserve_field_info (byte offset, byte size, exists, signed,
// shifts of a bit-field's load unit), __builtin_preserve_type_info (exists, size, matches),
// __builtin_preserve_enum_value (exists, value) and __builtin_btf_type_id (local and target
// type ids; the object writer puts the local BTF id in place).
import type * as A from "./ast.js";
import type { Inst } from "./ir.js";
import type { FnLowering } from "./lower-func.js";
import { infoOf, rvalue, addressOf, bitFieldUnit, effect, type LValue } from "./lower-expr.js";
import {
  type CType,
  type Member,
  type RecordDecl,
  Q_VOLATILE,
  alignOf,
  canonical,
  isComplete,
  qualsOf,
  sizeOf,
} from "./types.js";
import { intInfo } from "./lower-types.js";

export const CORE_FIELD_BYTE_OFFSET = 0;
export const CORE_FIELD_BYTE_SIZE = 1;
export const CORE_FIELD_EXISTS = 2;
export const CORE_FIELD_SIGNED = 3;
export const CORE_FIELD_LSHIFT_U64 = 4;
export const CORE_FIELD_RSHIFT_U64 = 5;
export const CORE_TYPE_ID_LOCAL = 6;
export const CORE_TYPE_ID_TARGET = 7;
export const CORE_TYPE_EXISTS = 8;
export const CORE_TYPE_SIZE = 9;
export const CORE_ENUMVAL_EXISTS = 10;
export const CORE_ENUMVAL_VALUE = 11;
export const CORE_TYPE_MATCHES = 12;

/** The last step of a chain: a member of a record, or an element of an array. */
type LastStep =
  | {
      kind: "member";
      record: RecordDecl;
      member: Member;
      /** byte offset of `record` from the root */
      recordOffset: number;
    }
  | { kind: "index"; elem: CType };

/** An access chain: where it starts, the relocation's type and access string, the offset. */
export interface CorePath {
  /** "pointer": the root is a pointer value; "address": the root is an lvalue. */
  root: { kind: "pointer" | "address"; expr: A.Expr };
  rootType: CType;
  access: number[];
  /** byte offset of the accessed object from the root (for bit-fields: of the record) */
  offset: number;
  last: LastStep;
}

/** An unqualified version of `t` as written (a typedef stays a typedef). */
function unqualified(t: CType): CType {
  if (qualsOf(t) === 0) return t;
  switch (t.kind) {
    case "record":
    case "enum":
    case "typedef":
      return t.decl.type;
    default:
      return { ...t, quals: 0 } as CType;
  }
}

/** The BTF member index of `m` in `r`: members in order, unnamed bit-fields left out. */
function memberIndex(r: RecordDecl, m: Member): number {
  let i = 0;
  for (const x of r.members ?? []) {
    if (x === m) return i;
    if (!(x.name === undefined && x.bitWidth !== undefined)) i++;
  }
  return -1;
}

function recordOf(t: CType): RecordDecl | undefined {
  const c = canonical(t);
  return c.kind === "record" ? c.decl : undefined;
}

const isChainExpr = (e: A.Expr): boolean => e.kind === "MemberExpr" || e.kind === "IndexExpr";

/** The lvalue whose address `e` takes (`&x`), if it does. */
function addressOfChain(e: A.Expr): A.Expr | undefined {
  return e.kind === "UnaryExpr" && e.op === "&" ? e.operand : undefined;
}

/**
 * The access chain ending at `e` (a member access or a constant index), when it is one:
 * through a preserve_access_index record, or anywhere inside __builtin_preserve_access_index.
 */
export function corePath(
  fl: FnLowering,
  e: A.Expr,
  region = fl.preserveDepth > 0,
): CorePath | undefined {
  if (e.kind === "MemberExpr") return memberPath(fl, e, region);
  if (e.kind === "IndexExpr") return indexPath(fl, e, region);
  return undefined;
}

function memberPath(fl: FnLowering, e: A.MemberExpr, region: boolean): CorePath | undefined {
  const info = infoOf(fl, e);
  const path = info.member;
  if (path === undefined) return undefined;
  const objType = infoOf(fl, e.object).type;
  let written: CType;
  if (e.arrow) {
    const p = canonical(objType);
    if (p.kind !== "pointer") return undefined;
    written = p.pointee;
  } else written = objType;
  const outer = recordOf(written);
  if (outer === undefined || !(region || outer.preserveAccessIndex)) return undefined;
  // `(&p->a)->b` is `p->a.b` to clang: the address of a chain continues it.
  const inner = e.arrow ? addressOfChain(e.object) : e.object;
  let chain = inner !== undefined && isChainExpr(inner) ? corePath(fl, inner, region) : undefined;
  if (chain === undefined) {
    const m = path.member;
    // clang describes a bit-field's own record, not the type the base was written with.
    const rootType =
      path.chain.length === 1 && m.bitWidth !== undefined ? outer.type : unqualified(written);
    chain = {
      root: { kind: e.arrow ? "pointer" : "address", expr: e.object },
      rootType,
      access: [0],
      offset: 0,
      last: { kind: "index", elem: written },
    };
  }
  let record = outer;
  let recordOffset = chain.offset;
  let last: LastStep = chain.last;
  const access = chain.access.slice();
  for (const m of path.chain) {
    access.push(memberIndex(record, m));
    last = { kind: "member", record, member: m, recordOffset };
    if (m.bitWidth !== undefined) break;
    recordOffset += m.offset;
    const inner = recordOf(m.type);
    if (inner !== undefined) record = inner;
  }
  const offset = path.member.bitWidth === undefined ? chain.offset + path.offset : chain.offset;
  return { root: chain.root, rootType: chain.rootType, access, offset, last };
}

function indexPath(fl: FnLowering, e: A.IndexExpr, region: boolean): CorePath | undefined {
  const arrInfo = infoOf(fl, e.array);
  const idxInfo = infoOf(fl, e.index);
  if (idxInfo.value === undefined) return undefined;
  const index = Number(BigInt.asIntN(32, idxInfo.value));
  const elem = infoOf(fl, e).type;
  const at = canonical(arrInfo.type);
  if (at.kind === "array") {
    // clang: a constant index of an array member of a preserve_access_index record, or any
    // constant index inside __builtin_preserve_access_index.
    const memberArray =
      e.array.kind === "MemberExpr" && corePath(fl, e.array, region) !== undefined;
    if (!region && !memberArray) return undefined;
    const chain = isChainExpr(e.array) ? corePath(fl, e.array, region) : undefined;
    if (chain === undefined) {
      // The root is an array object: the chain starts at an element that is a record.
      const r = recordOf(elem);
      if (r === undefined || !isComplete(elem)) return undefined;
      return {
        root: { kind: "address", expr: e.array },
        rootType: r.type,
        access: [index],
        offset: index * sizeOf(elem),
        last: { kind: "index", elem },
      };
    }
    return {
      root: chain.root,
      rootType: chain.rootType,
      access: [...chain.access, index],
      offset: chain.offset + index * sizeOf(elem),
      last: { kind: "index", elem },
    };
  }
  if (at.kind !== "pointer") return undefined;
  const r = recordOf(at.pointee);
  if (r === undefined || !r.complete) return undefined;
  if (!region && !(e.array.kind === "Identifier" && r.preserveAccessIndex)) return undefined;
  return {
    root: { kind: "pointer", expr: e.array },
    rootType: r.type,
    access: [index],
    offset: index * r.size,
    last: { kind: "index", elem },
  };
}

/** A relocated value in the IR. */
export function coreValue(
  fl: FnLowering,
  kind: number,
  type: CType,
  access: string,
  value: bigint,
  ty: "i32" | "i64",
): Inst {
  const inst = fl.b.emit("core", ty, []);
  inst.core = { kind, type, access };
  const v = BigInt.asUintN(64, value);
  inst.lo = Number(v & 0xffffffffn) | 0;
  inst.hi = ty === "i32" ? 0 : Number(v >> 32n) | 0;
  return inst;
}

/** LLVM's ABI alignment of an integer of `bits` bits (BPF data layout: i8 i16 i32 i64 i128). */
function intAlign(bits: number): number {
  for (const a of [1, 2, 4, 8, 16]) if (bits <= a * 8) return a;
  return 16;
}

const llvmAligns = new WeakMap<RecordDecl, number>();

/** The alignment of the LLVM type clang gives `t` (a record's may be below its C alignment). */
function llvmAlign(t: CType): number {
  const c = canonical(t);
  if (c.kind === "array") return llvmAlign(c.element);
  if (c.kind === "record") return llvmRecordAlign(c.decl);
  return isComplete(c) ? alignOf(c) : 1;
}

/**
 * The alignment of clang's LLVM struct type for a record (CGRecordLowering): each run of
 * adjacent bit-fields is stored in one iN (N = its bits rounded to bytes), clipped to a byte
 * array where its allocation would overlap the next member; a member at an offset its type's
 * alignment does not divide, or a size the alignment does not divide, makes the struct packed.
 * BPFAbstractMemberAccess aligns bit-field load units to this.
 */
export function llvmRecordAlign(r: RecordDecl): number {
  const known = llvmAligns.get(r);
  if (known !== undefined) return known;
  let align = 1;
  // (the packed attribute alone does not pack the LLVM struct: only a layout LLVM's natural
  // alignment cannot give does)
  if (r.isUnion) {
    align = Math.max(1, ...(r.members ?? []).map((m) => llvmAlign(m.type)));
    if (r.size % align !== 0) align = 1;
  } else {
    // (offset, alloc size, alignment) of each storage member, in order
    const units: { offset: number; size: number; align: number; bits: boolean }[] = [];
    const members = r.members ?? [];
    for (let i = 0; i < members.length; i++) {
      const m = members[i]!;
      if (m.bitWidth === undefined) {
        const a = llvmAlign(m.type);
        units.push({
          offset: m.offset,
          size: isComplete(m.type) ? sizeOf(m.type) : 0,
          align: a,
          bits: false,
        });
        continue;
      }
      if (m.bitWidth === 0) continue;
      const start = m.bitOffset;
      let tail = start + m.bitWidth;
      while (i + 1 < members.length) {
        const n = members[i + 1]!;
        if (n.bitWidth === undefined || n.bitWidth === 0 || n.bitOffset !== tail) break;
        tail += n.bitWidth;
        i++;
      }
      const bytes = Math.ceil((tail - start) / 8);
      const a = intAlign(bytes * 8);
      units.push({
        offset: Math.floor(start / 8),
        size: Math.ceil(bytes / a) * a,
        align: a,
        bits: true,
      });
    }
    // clipTailPadding: a bit-field unit running into the next member becomes a byte array
    for (let i = 0; i < units.length; i++) {
      const u = units[i]!;
      const next = units[i + 1]?.offset;
      if (u.bits && next !== undefined && u.offset + u.size > next) {
        u.size = next - u.offset;
        u.align = 1;
      }
    }
    let packed = false;
    for (const u of units) {
      if (u.offset % u.align !== 0) packed = true;
      align = Math.max(align, u.align);
    }
    if (r.size % align !== 0) packed = true;
    if (packed) align = 1;
  }
  llvmAligns.set(r, align);
  return align;
}

/** Bit range of the load unit clang reads a bit-field through (its record's LLVM alignment). */
function bitFieldStorage(
  fl: FnLowering,
  at: A.Expr,
  record: RecordDecl,
  m: Member,
): { start: number; bits: number } {
  const alignBits = llvmRecordAlign(record) * 8;
  const width = m.bitWidth ?? 0;
  if (alignBits > 64 || width > alignBits) {
    fl.error(
      at.loc,
      "Unsupported field expression for llvm.bpf.preserve.field.info, requiring too big alignment",
    );
    return { start: 0, bits: 8 };
  }
  const start = m.bitOffset & ~(alignBits - 1);
  if (start + alignBits < m.bitOffset + width) {
    fl.error(
      at.loc,
      "Unsupported field expression for llvm.bpf.preserve.field.info, cross alignment boundary",
    );
  }
  return { start, bits: alignBits };
}

/** The address (and bit-field shape) of a chain's object: root + relocated byte offset. */
export function coreLValue(fl: FnLowering, e: A.Expr, chain: CorePath): LValue {
  const info = infoOf(fl, e);
  const isVolatile = (qualsOf(info.type) & Q_VOLATILE) !== 0;
  const base =
    chain.root.kind === "pointer" ? rvalue(fl, chain.root.expr) : addressOf(fl, chain.root.expr);
  const last = chain.last;
  const access = chain.access.join(":");
  if (last.kind === "member" && last.member.bitWidth !== undefined) {
    const m = last.member;
    const storage = bitFieldStorage(fl, e, last.record, m);
    const local = last.recordOffset + storage.start / 8;
    const off = coreValue(fl, CORE_FIELD_BYTE_OFFSET, chain.rootType, access, BigInt(local), "i64");
    const addr = fl.b.bin("add", base, off);
    addr.inbounds = true;
    const absBits = last.recordOffset * 8 + m.bitOffset;
    const unit = bitFieldUnit(absBits, m.bitWidth!, sizeOf(m.type)) ?? {
      offset: local,
      bytes: storage.bits / 8,
    };
    return {
      kind: "mem",
      base: addr,
      off: unit.offset - local,
      type: info.type,
      volatile: isVolatile,
      bits: { shift: absBits - unit.offset * 8, width: m.bitWidth!, unit: unit.bytes },
    };
  }
  const off = coreValue(
    fl,
    CORE_FIELD_BYTE_OFFSET,
    chain.rootType,
    access,
    BigInt(chain.offset),
    "i64",
  );
  const addr = fl.b.bin("add", base, off);
  addr.inbounds = true;
  return {
    kind: "mem",
    base: addr,
    off: 0,
    type: info.type,
    volatile: isVolatile,
    bits: undefined,
  };
}

// ---- the builtins ----

/** __builtin_preserve_field_info(field, kind): a u32. */
export function fieldInfo(fl: FnLowering, e: A.CallExpr): Inst {
  const [arg, kindArg] = e.args as [A.Expr, A.Expr];
  const kind = Number(fl.unit.constant(kindArg) ?? 0n);
  const chain = corePath(fl, arg, true);
  if (chain === undefined || (chain.last.kind !== "member" && chain.access.length < 2)) {
    fl.error(arg.loc, "Invalid field access for llvm.preserve.field.info intrinsic");
    return fl.b.const32(0);
  }
  effect(fl, chain.root.expr);
  const last = chain.last;
  const member = last.kind === "member" ? last.member : undefined;
  const bitField = member !== undefined && member.bitWidth !== undefined;
  const type = last.kind === "member" ? last.member.type : last.elem;
  const storage = bitField
    ? bitFieldStorage(fl, arg, (last as { record: RecordDecl }).record, member!)
    : undefined;
  const sizeBits = bitField ? member!.bitWidth! : sizeOf(type) * 8;
  let value: number;
  switch (kind) {
    case CORE_FIELD_BYTE_OFFSET:
      value = bitField
        ? (last as { recordOffset: number }).recordOffset + storage!.start / 8
        : chain.offset;
      break;
    case CORE_FIELD_BYTE_SIZE:
      value = bitField ? storage!.bits / 8 : sizeOf(type);
      break;
    case CORE_FIELD_EXISTS:
      value = 1;
      break;
    case CORE_FIELD_SIGNED: {
      const ii = intInfo(type);
      const c = canonical(type);
      if (ii === undefined || c.kind === "pointer") {
        fl.error(arg.loc, "Invalid field expression for llvm.bpf.preserve.field.info");
        return fl.b.const32(0);
      }
      value = ii.signed && !ii.isBool ? 1 : 0;
      break;
    }
    case CORE_FIELD_LSHIFT_U64:
    case CORE_FIELD_RSHIFT_U64: {
      if ((bitField ? storage!.bits : sizeBits) > 64) {
        fl.error(arg.loc, "too big field size for llvm.bpf.preserve.field.info");
        return fl.b.const32(0);
      }
      if (kind === CORE_FIELD_RSHIFT_U64 || !bitField) value = 64 - sizeBits;
      else value = storage!.start + 64 - member!.bitOffset - sizeBits;
      break;
    }
    default:
      fl.error(kindArg.loc, "Incorrect flag for llvm.bpf.preserve.field.info intrinsic");
      return fl.b.const32(0);
  }
  return coreValue(fl, kind, chain.rootType, chain.access.join(":"), BigInt(value), "i32");
}

/** __builtin_preserve_type_info(*(T *)0, kind): a u32. */
export function typeInfo(fl: FnLowering, e: A.CallExpr): Inst {
  const [arg, kindArg] = e.args as [A.Expr, A.Expr];
  const flag = Number(fl.unit.constant(kindArg) ?? 0n);
  const type = unqualified(infoOf(fl, arg).type);
  const relo = [CORE_TYPE_EXISTS, CORE_TYPE_SIZE, CORE_TYPE_MATCHES][flag];
  if (relo === undefined) {
    fl.error(kindArg.loc, "Incorrect flag for llvm.bpf.preserve.type.info intrinsic");
    return fl.b.const32(0);
  }
  let value = 1;
  if (relo === CORE_TYPE_SIZE) {
    if (!isComplete(type)) {
      fl.error(arg.loc, "__builtin_preserve_type_info of an incomplete type has no size");
      return fl.b.const32(0);
    }
    value = sizeOf(type);
  }
  return coreValue(fl, relo, type, "0", BigInt(value), "i32");
}

/** __builtin_preserve_enum_value(*(enum E *)ENUMERATOR, kind): a long. */
export function enumValue(fl: FnLowering, e: A.CallExpr): Inst {
  const [arg, kindArg] = e.args as [A.Expr, A.Expr];
  const flag = Number(fl.unit.constant(kindArg) ?? 0n);
  const type = unqualified(infoOf(fl, arg).type);
  const enumerator = enumeratorOf(arg);
  const c = canonical(type);
  const index =
    enumerator !== undefined && c.kind === "enum"
      ? c.decl.constants.findIndex((k) => k.name === enumerator.name)
      : -1;
  if (index < 0 || c.kind !== "enum") {
    fl.error(arg.loc, "__builtin_preserve_enum_value argument 1 invalid");
    return fl.b.const64(0, 0);
  }
  const relo = [CORE_ENUMVAL_EXISTS, CORE_ENUMVAL_VALUE][flag];
  if (relo === undefined) {
    fl.error(kindArg.loc, "Incorrect flag for llvm.bpf.preserve.enum.value intrinsic");
    return fl.b.const64(0, 0);
  }
  const value = relo === CORE_ENUMVAL_VALUE ? c.decl.constants[index]!.value : 1n;
  return coreValue(fl, relo, type, String(index), value, "i64");
}

/** __builtin_btf_type_id(expr, kind): an unsigned long (the local id is written by the emitter). */
export function btfTypeId(fl: FnLowering, e: A.CallExpr): Inst {
  const [arg, kindArg] = e.args as [A.Expr, A.Expr];
  const flag = Number(fl.unit.constant(kindArg) ?? 0n);
  const type = unqualified(infoOf(fl, arg).type);
  const relo = [CORE_TYPE_ID_LOCAL, CORE_TYPE_ID_TARGET][flag];
  if (relo === undefined) {
    fl.error(kindArg.loc, "Incorrect flag for llvm.bpf.btf.type.id intrinsic");
    return fl.b.const64(0, 0);
  }
  return coreValue(fl, relo, type, "0", 0n, "i64");
}

/** The enumerator named in `*(enum E *)ENUMERATOR`. */
export function enumeratorOf(arg: A.Expr): A.Identifier | undefined {
  if (arg.kind !== "UnaryExpr" || arg.op !== "*") return undefined;
  const cast = arg.operand;
  if (cast.kind !== "CastExpr") return undefined;
  return cast.operand.kind === "Identifier" ? cast.operand : undefined;
}
