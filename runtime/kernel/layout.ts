// Memory layout of the kernel's C types, as clang lays them out for x86_64 and for -target bpf
// (both LP64, little endian, System V rules): sizes, alignments, member offsets and bit-field
// positions. test/kernel/layout.test.ts checks every offset against clang.
//
// Bit-fields follow the System V ABI: a bit-field of declared type T goes at the next free bit
// unless it would straddle a sizeof(T)-aligned unit, in which case it starts the next unit; a
// named bit-field gives the record T's alignment. Zero-width and packed layouts are not needed by
// the kernel types and are refused.
import {
  type CType,
  type EnumType,
  type Member,
  type RecordType,
  resolve,
  declToC,
} from "./ctypes.js";
import { KernelTypeError } from "./error.js";

export interface MemberLayout {
  readonly member: Member;
  /** offset of the member's first byte (for a bit-field: of the byte holding its first bit) */
  readonly offset: number;
  /** offset in bits from the start of the record */
  readonly bitOffset: number;
  /** bit-field width, 0 for ordinary members */
  readonly bitSize: number;
}

export interface RecordLayout {
  readonly size: number;
  readonly align: number;
  readonly members: readonly MemberLayout[];
}

const recordLayouts = new WeakMap<RecordType, RecordLayout>();

/** sizeof(type) in bytes. Throws for incomplete and function types. */
export function sizeOf(type: CType): number {
  const t = resolve(type);
  switch (t.kind) {
    case "void":
      throw new KernelTypeError("sizeof(void)");
    case "int":
      return t.size;
    case "ptr":
      return 8;
    case "enum":
      return enumSize(t);
    case "array":
      return t.length <= 0 ? 0 : t.length * sizeOf(t.of);
    case "struct":
    case "union":
      return layoutRecord(t).size;
    case "func":
      throw new KernelTypeError("sizeof of a function type");
    default:
      throw new KernelTypeError(`sizeof(${t.kind})`);
  }
}

/** _Alignof(type). */
export function alignOf(type: CType): number {
  const t = resolve(type);
  switch (t.kind) {
    case "int":
      return t.size;
    case "ptr":
      return 8;
    case "enum":
      return enumSize(t);
    case "array":
      return alignOf(t.of);
    case "struct":
    case "union":
      return layoutRecord(t).align;
    default:
      throw new KernelTypeError(`_Alignof(${t.kind})`);
  }
}

/** 4, or 8 when a value does not fit in 32 bits (clang widens the enum, BTF says ENUM64). */
export function enumSize(type: EnumType): 4 | 8 {
  const fits = (v: number): boolean => v >= -0x80000000 && v <= 0xffffffff;
  return (type.values ?? []).every((v) => fits(v.value)) ? 4 : 8;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The layout of a struct or union (cached). */
export function layoutRecord(record: RecordType): RecordLayout {
  const cached = recordLayouts.get(record);
  if (cached !== undefined) return cached;
  const where = `${record.kind} ${record.name || "(anonymous)"}`;
  if (record.members === undefined) throw new KernelTypeError(`${where} is incomplete`);
  const union = record.kind === "union";
  let bit = 0; // next free bit (struct) or largest size in bits (union)
  let align = 1;
  const members: MemberLayout[] = [];
  for (const member of record.members) {
    const size = sizeOf(member.type);
    const a = alignOf(member.type);
    let at: number;
    if (member.bits === undefined) {
      at = union ? 0 : alignUp(bit, a * 8);
      members.push({ member, offset: at / 8, bitOffset: at, bitSize: 0 });
      bit = union ? Math.max(bit, size * 8) : at + size * 8;
    } else {
      checkBitField(member, size, where);
      const unit = size * 8;
      at = union ? 0 : bit;
      if (Math.floor(at / unit) !== Math.floor((at + member.bits - 1) / unit)) {
        at = alignUp(at, unit);
      }
      members.push({ member, offset: Math.floor(at / 8), bitOffset: at, bitSize: member.bits });
      bit = union ? Math.max(bit, member.bits) : at + member.bits;
    }
    align = Math.max(align, a);
  }
  const layout: RecordLayout = { size: alignUp(Math.ceil(bit / 8), align), align, members };
  recordLayouts.set(record, layout);
  return layout;
}

function checkBitField(member: Member, size: number, where: string): void {
  const t = resolve(member.type);
  if (t.kind !== "int" && t.kind !== "enum") {
    throw new KernelTypeError(`${where}: bit-field '${member.name}' is not an integer`);
  }
  if (member.bits! <= 0 || member.bits! > size * 8) {
    throw new KernelTypeError(`${where}: bit-field '${member.name}' has bad width ${member.bits}`);
  }
}

/** A member found by path, with its offset from the outermost record. */
export interface FieldInfo {
  /** "__sk_common.skc_daddr" */
  readonly path: string;
  readonly type: CType;
  readonly offset: number;
  readonly bitOffset: number;
  readonly bitSize: number;
  /** sizeof the member's type */
  readonly size: number;
}

/**
 * Find a member by a dotted path of names, looking through anonymous members the way C does
 * (sock_common's skc_daddr lives in an anonymous struct inside an anonymous union). Array
 * elements are written `name[3]`.
 */
export function fieldOf(record: RecordType, path: string): FieldInfo {
  let type: CType = record;
  let bitOffset = 0;
  let bitSize = 0;
  for (const part of path.split(".")) {
    const m = /^(\w+)((?:\[\d+\])*)$/.exec(part);
    if (m === null) throw new KernelTypeError(`bad field path '${path}'`);
    const t = resolve(type);
    if (t.kind !== "struct" && t.kind !== "union") {
      throw new KernelTypeError(`'${path}': '${m[1]}' is not inside a struct or union`);
    }
    const found = findMember(t, m[1]!);
    if (found === undefined) {
      throw new KernelTypeError(
        `${t.kind} ${t.name || "(anonymous)"} has no member '${m[1]}' (in '${path}')`,
      );
    }
    bitOffset += found.bitOffset;
    bitSize = found.bitSize;
    type = found.type;
    for (const index of m[2]!.match(/\d+/g) ?? []) {
      const arr = resolve(type);
      if (arr.kind !== "array") throw new KernelTypeError(`'${path}': not an array`);
      const i = Number(index);
      if (arr.length >= 0 && i >= arr.length) {
        throw new KernelTypeError(`'${path}': index ${i} past ${declToC(arr, "")}`);
      }
      bitOffset += i * sizeOf(arr.of) * 8;
      type = arr.of;
    }
  }
  return {
    path,
    type,
    offset: Math.floor(bitOffset / 8),
    bitOffset,
    bitSize,
    size:
      resolve(type).kind === "array" && (resolve(type) as { length: number }).length < 0
        ? 0
        : sizeOf(type),
  };
}

function findMember(
  record: RecordType,
  name: string,
): { type: CType; bitOffset: number; bitSize: number } | undefined {
  for (const m of layoutRecord(record).members) {
    if (m.member.name === name)
      return { type: m.member.type, bitOffset: m.bitOffset, bitSize: m.bitSize };
    if (m.member.name === "") {
      const inner = resolve(m.member.type);
      if (inner.kind === "struct" || inner.kind === "union") {
        const found = findMember(inner, name);
        if (found) return { ...found, bitOffset: found.bitOffset + m.bitOffset };
      }
    }
  }
  return undefined;
}

/** Every named leaf member of a record with its path and offsets, in declaration order. */
export function allFields(record: RecordType, prefix = "", base = 0): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const m of layoutRecord(record).members) {
    const inner = resolve(m.member.type);
    const at = base + m.bitOffset;
    if (m.member.name === "" && (inner.kind === "struct" || inner.kind === "union")) {
      out.push(...allFields(inner, prefix, at));
      continue;
    }
    const path = prefix + m.member.name;
    const size = inner.kind === "array" && inner.length < 0 ? 0 : sizeOf(m.member.type);
    out.push({
      path,
      type: m.member.type,
      offset: Math.floor(at / 8),
      bitOffset: at,
      bitSize: m.bitSize,
      size,
    });
    if ((inner.kind === "struct" || inner.kind === "union") && m.bitSize === 0) {
      out.push(...allFields(inner, path + ".", at));
    }
  }
  return out;
}
