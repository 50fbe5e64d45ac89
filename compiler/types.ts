// The C type model for the BPF target, as clang -target bpf sees it: char is signed, int is
// 32 bits, long and pointers are 64, long double is 8, little endian. Records are laid out
// with clang's generic (Itanium-style) record layout, bit-fields included.
//
// Types are small immutable objects tagged by `kind`. Qualifiers live on the type object;
// a qualified variant is a shallow copy, so records and enums keep their mutable part
// (members, layout, completion) in a shared declaration object. Typedefs stay as sugar
// (`kind: "typedef"`) so diagnostics and BTF keep their names; `canonical` strips them.
import { TsbpfError } from "../runtime/error.js";

export const Q_CONST = 1;
export const Q_VOLATILE = 2;
export const Q_RESTRICT = 4;

// Where a declaration was written; the printer uses it for unnamed records and enums.
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export type CType =
  | VoidType
  | IntegerType
  | FloatType
  | PointerType
  | ArrayType
  | FunctionType
  | RecordType
  | EnumType
  | TypedefType;

export interface VoidType {
  readonly kind: "void";
  readonly quals: number;
}

export type IntegerName =
  | "_Bool"
  | "char"
  | "signed char"
  | "unsigned char"
  | "short"
  | "unsigned short"
  | "int"
  | "unsigned int"
  | "long"
  | "unsigned long"
  | "long long"
  | "unsigned long long"
  | "__int128"
  | "unsigned __int128";

export interface IntegerType {
  readonly kind: "int";
  readonly quals: number;
  readonly name: IntegerName;
  readonly size: number;
  readonly align: number;
  readonly signed: boolean;
  // Conversion rank (C11 6.3.1.1); signed and unsigned of one width share a rank.
  readonly rank: number;
}

// Present so programs using them can be rejected with a location, never laid out silently.
export interface FloatType {
  readonly kind: "float";
  readonly quals: number;
  readonly name: "float" | "double" | "long double";
  readonly size: number;
  readonly align: number;
}

export interface PointerType {
  readonly kind: "pointer";
  readonly quals: number;
  readonly pointee: CType;
  // btf_type_tag names on the pointee as written (`int __user *` -> ["user"]), for BTF:
  // PTR -> TYPE_TAG... -> pointee. They do not change what the type is.
  readonly pointeeTags?: readonly string[];
}

export interface ArrayType {
  readonly kind: "array";
  readonly quals: number;
  readonly element: CType;
  // undefined: incomplete (`extern int a[];`, a flexible array member).
  readonly length: number | undefined;
}

export interface Param {
  readonly name: string | undefined;
  readonly type: CType;
}

export interface FunctionType {
  readonly kind: "function";
  readonly quals: number;
  readonly ret: CType;
  readonly params: readonly Param[];
  readonly variadic: boolean;
  // false for `int f()`: no prototype, any arguments.
  readonly prototyped: boolean;
}

export interface RecordType {
  readonly kind: "record";
  readonly quals: number;
  readonly decl: RecordDecl;
}

export interface EnumType {
  readonly kind: "enum";
  readonly quals: number;
  readonly decl: EnumDecl;
}

export interface TypedefType {
  readonly kind: "typedef";
  readonly quals: number;
  readonly decl: TypedefDecl;
}

// A laid-out member of a struct or union.
export interface Member {
  // undefined for anonymous struct/union members and unnamed bit-fields.
  readonly name: string | undefined;
  readonly type: CType;
  // Byte offset of the member (for a bit-field: of the byte holding its first bit).
  readonly offset: number;
  // Offset in bits from the start of the record; offset * 8 unless a bit-field.
  readonly bitOffset: number;
  // Width for bit-fields, undefined otherwise.
  readonly bitWidth: number | undefined;
  readonly loc: SourcePos | undefined;
  // Where the member's declaration starts (its specifiers), for "declared here" notes.
  readonly declLoc?: SourcePos;
  // btf_decl_tag names on the member, for BTF DECL_TAG records.
  readonly declTags?: readonly string[];
}

// What the path to a (possibly nested anonymous) member looks like.
export interface MemberPath {
  // Outermost first; all but the last are anonymous struct/union members.
  readonly chain: readonly Member[];
  readonly member: Member;
  // Byte offset from the start of the outer record (of the storage byte for bit-fields).
  readonly offset: number;
  readonly bitOffset: number;
}

export class RecordDecl {
  // The definition's fields, laid out on first need (as clang does): most records of a header
  // such as vmlinux.h are never asked for their layout; and its attributes.
  private pending: readonly FieldDecl[] | undefined = undefined;
  // A definition whose body is not parsed yet (sema's deferred bodies): defines the record.
  private unresolved: (() => void) | undefined = undefined;
  private attrs: RecordAttrs = noRecordAttrs;
  private layout: RecordLayout | undefined = undefined;
  // __attribute__((preserve_access_index)) (CO-RE: accesses become relocations).
  preserveAccessIndex = false;
  // Where the tag was first declared and where it was defined (for notes).
  declaredAt: SourcePos | undefined = undefined;
  definedAt: SourcePos | undefined = undefined;
  readonly type: RecordType;

  constructor(
    readonly isUnion: boolean,
    readonly tag: string | undefined,
    public loc: SourcePos | undefined,
  ) {
    this.type = { kind: "record", quals: 0, decl: this };
  }

  get complete(): boolean {
    return this.pending !== undefined || this.layout !== undefined || this.unresolved !== undefined;
  }

  /** The definition's fields as declared, laid out or not; undefined while incomplete. */
  get declaredFields(): readonly DeclaredField[] | undefined {
    if (this.unresolved !== undefined) this.resolve();
    return this.pending ?? this.layout?.members;
  }

  // undefined until the definition is seen (or for a forward declaration only).
  get members(): Member[] | undefined {
    if (this.unresolved !== undefined || this.pending !== undefined) this.layOut();
    return this.layout?.members;
  }

  get size(): number {
    if (this.unresolved !== undefined || this.pending !== undefined) this.layOut();
    return this.layout?.size ?? 0;
  }

  get align(): number {
    if (this.unresolved !== undefined || this.pending !== undefined) this.layOut();
    return this.layout?.align ?? 1;
  }

  // An aligned attribute on the record's definition (bytes), 0 if none.
  get alignAttr(): number {
    if (this.unresolved !== undefined) this.resolve();
    return this.attrs.alignAttr ?? 0;
  }

  get packed(): boolean {
    if (this.unresolved !== undefined) this.resolve();
    return this.attrs.packed === true;
  }

  // The last member is a flexible array member (or such a record nests one at its end).
  get hasFlexibleArray(): boolean {
    if (this.unresolved !== undefined || this.pending !== undefined) this.layOut();
    return this.layout?.hasFlexibleArray ?? false;
  }

  /** Defined, and not laid out yet. */
  get hasPendingLayout(): boolean {
    return this.pending !== undefined || this.unresolved !== undefined;
  }

  /**
   * Completes the record with a body that was checked but not parsed: `resolve` parses it and
   * calls define, when the fields are first asked for.
   */
  defineLater(resolve: () => void): void {
    this.unresolved = resolve;
    this.pending = undefined;
    this.layout = undefined;
  }

  private resolve(): void {
    const resolve = this.unresolved!;
    this.unresolved = undefined;
    try {
      resolve();
    } catch (e) {
      // Still defined but unparsed: the next use fails the same way, not as an incomplete type.
      this.unresolved = resolve;
      throw e;
    }
  }

  /** Completes the record with these fields; layoutRecord lays them out when first asked. */
  define(fields: readonly FieldDecl[], attrs: RecordAttrs): void {
    this.unresolved = undefined;
    this.pending = fields;
    this.attrs = attrs;
    this.layout = undefined;
  }

  private layOut(): void {
    // The records this one holds by value are laid out first, deepest first, by a loop: their
    // layouts would otherwise be asked for from inside this one's, a recursion as deep as the
    // nesting (generated code nests thousands deep; eagerly laid-out records never recursed).
    const stack: { record: RecordDecl; next: number }[] = [{ record: this, next: 0 }];
    const seen = new Set<RecordDecl>([this]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.record.unresolved !== undefined) top.record.resolve();
      const fields = top.record.pending ?? [];
      if (top.next < fields.length) {
        const nested = pendingRecordIn(fields[top.next++]!.type);
        if (nested !== undefined && !seen.has(nested)) {
          seen.add(nested);
          stack.push({ record: nested, next: 0 });
        }
      } else {
        stack.pop();
        top.record.layOutSelf();
      }
    }
  }

  private layOutSelf(): void {
    if (this.pending === undefined) return;
    // `pending` is cleared only once laid out: a layout that throws leaves the record as it was.
    this.layout = layoutFields(this.isUnion, this.pending, this.attrs);
    this.pending = undefined;
  }

  // Finds a member by name, looking through anonymous struct/union members as C11 says.
  findMember(name: string): MemberPath | undefined {
    const members = this.members;
    if (members === undefined) return undefined;
    const layout = this.layout!;
    if (layout.lookup === undefined) {
      layout.lookup = new Map();
      addMembersTo(layout.lookup, members, [], 0);
    }
    return layout.lookup.get(name);
  }
}

/** The record not yet laid out that a field of this type holds by value (through arrays). */
function pendingRecordIn(t: CType): RecordDecl | undefined {
  for (;;) {
    if (t.kind === "array") t = t.element;
    else if (t.kind === "typedef") t = t.decl.target;
    else if (t.kind === "record") return t.decl.hasPendingLayout ? t.decl : undefined;
    else return undefined;
  }
}

function addMembersTo(
  map: Map<string, MemberPath>,
  members: readonly Member[],
  chain: Member[],
  baseBits: number,
): void {
  for (const m of members) {
    const bitOffset = baseBits + m.bitOffset;
    if (m.name !== undefined) {
      if (!map.has(m.name)) {
        map.set(m.name, {
          chain: chain.length === 0 ? [m] : [...chain, m],
          member: m,
          offset: Math.floor(bitOffset / 8),
          bitOffset,
        });
      }
    } else if (m.bitWidth === undefined) {
      const inner = canonical(m.type);
      if (inner.kind === "record" && inner.decl.members !== undefined) {
        addMembersTo(map, inner.decl.members, [...chain, m], bitOffset);
      }
    }
  }
}

export interface EnumConstant {
  readonly name: string;
  readonly value: bigint;
  // int when the value fits in int, else the enum's underlying type (clang's C rule).
  readonly type: IntegerType;
  readonly loc: SourcePos | undefined;
}

export class EnumDecl {
  // undefined while incomplete (a forward `enum e;`, or inside its own definition).
  underlying: IntegerType | undefined = undefined;
  constants: EnumConstant[] = [];
  packed = false;
  // Where the tag was first declared and where it was defined (for notes).
  declaredAt: SourcePos | undefined = undefined;
  definedAt: SourcePos | undefined = undefined;
  readonly type: EnumType;

  constructor(
    readonly tag: string | undefined,
    public loc: SourcePos | undefined,
  ) {
    this.type = { kind: "enum", quals: 0, decl: this };
  }

  get complete(): boolean {
    return this.underlying !== undefined;
  }
}

export class TypedefDecl {
  readonly type: TypedefType;
  private canon: CType | undefined = undefined;

  constructor(
    readonly name: string,
    readonly target: CType,
    // An aligned attribute on the typedef (bytes), 0 if none; it may lower alignment too.
    readonly alignAttr: number,
    readonly loc: SourcePos | undefined,
  ) {
    this.type = { kind: "typedef", quals: 0, decl: this };
  }

  canonical(): CType {
    return (this.canon ??= canonical(this.target));
  }
}

// Raised when the type model is asked something undefined (size of an incomplete type...).
// Sema checks first and reports with a source location; this is the last line of defence.
export class CTypeError extends TsbpfError {}

// ---------------------------------------------------------------------------------------
// The basic types of the target.

function integer(name: IntegerName, size: number, signed: boolean, rank: number): IntegerType {
  return { kind: "int", quals: 0, name, size, align: size, signed, rank };
}

export const voidType: VoidType = { kind: "void", quals: 0 };
export const boolType = integer("_Bool", 1, false, 0);
export const charType = integer("char", 1, true, 1);
export const scharType = integer("signed char", 1, true, 1);
export const ucharType = integer("unsigned char", 1, false, 1);
export const shortType = integer("short", 2, true, 2);
export const ushortType = integer("unsigned short", 2, false, 2);
export const intType = integer("int", 4, true, 3);
export const uintType = integer("unsigned int", 4, false, 3);
export const longType = integer("long", 8, true, 4);
export const ulongType = integer("unsigned long", 8, false, 4);
export const longlongType = integer("long long", 8, true, 5);
export const ulonglongType = integer("unsigned long long", 8, false, 5);
export const int128Type = integer("__int128", 16, true, 6);
export const uint128Type = integer("unsigned __int128", 16, false, 6);
export const floatType: FloatType = { kind: "float", quals: 0, name: "float", size: 4, align: 4 };
export const doubleType: FloatType = { kind: "float", quals: 0, name: "double", size: 8, align: 8 };
export const longDoubleType: FloatType = {
  kind: "float",
  quals: 0,
  name: "long double",
  size: 8,
  align: 8,
};

// The types of `sizeof` and pointer differences on this target.
export const sizeType = ulongType;
export const ptrdiffType = longType;

// The alignment `__attribute__((aligned))` without an argument gives on BPF.
export const DEFAULT_ATTRIBUTE_ALIGN = 16;

const unsignedOf: Record<string, IntegerType> = {
  _Bool: boolType,
  char: ucharType,
  "signed char": ucharType,
  "unsigned char": ucharType,
  short: ushortType,
  "unsigned short": ushortType,
  int: uintType,
  "unsigned int": uintType,
  long: ulongType,
  "unsigned long": ulongType,
  "long long": ulonglongType,
  "unsigned long long": ulonglongType,
  __int128: uint128Type,
  "unsigned __int128": uint128Type,
};

export function unsignedVersion(t: IntegerType): IntegerType {
  return unsignedOf[t.name]!;
}

// ---------------------------------------------------------------------------------------
// Constructors and qualifiers.

export function pointerTo(pointee: CType, quals = 0, pointeeTags?: readonly string[]): PointerType {
  return { kind: "pointer", quals, pointee, pointeeTags };
}

export function arrayOf(element: CType, length: number | undefined): ArrayType {
  return { kind: "array", quals: 0, element, length };
}

export function functionType(
  ret: CType,
  params: readonly Param[],
  variadic: boolean,
  prototyped = true,
): FunctionType {
  return { kind: "function", quals: 0, ret, params, variadic, prototyped };
}

// The same type with exactly these qualifiers. Qualifying an array qualifies its element,
// as C11 6.7.3p9 says.
export function withQuals(t: CType, quals: number): CType {
  if (t.quals === quals) return t;
  if (t.kind === "array") {
    return { ...t, element: withQuals(t.element, quals | t.element.quals) };
  }
  return { ...t, quals } as CType;
}

export function addQuals(t: CType, quals: number): CType {
  return quals === 0 ? t : withQuals(t, t.quals | quals);
}

export function unqualified(t: CType): CType {
  return t.quals === 0 ? t : withQuals(t, 0);
}

// Strips typedef sugar at the top level, keeping every qualifier met on the way.
export function canonical(t: CType): CType {
  if (t.kind !== "typedef") return t;
  const inner = t.decl.canonical();
  return t.quals === 0 ? inner : addQuals(inner, t.quals);
}

// The qualifiers of a type including those a typedef carries.
export function qualsOf(t: CType): number {
  let q = t.quals;
  while (t.kind === "typedef") {
    t = t.decl.target;
    q |= t.quals;
  }
  return q;
}

// ---------------------------------------------------------------------------------------
// Classification (all look through typedefs).

export function isInteger(t: CType): boolean {
  const c = canonical(t);
  return c.kind === "int" || (c.kind === "enum" && c.decl.complete);
}

export function isArithmetic(t: CType): boolean {
  const c = canonical(t);
  return c.kind === "int" || c.kind === "enum" || c.kind === "float";
}

export function isScalar(t: CType): boolean {
  const c = canonical(t);
  return c.kind === "int" || c.kind === "enum" || c.kind === "float" || c.kind === "pointer";
}

export function isPointer(t: CType): t is CType {
  return canonical(t).kind === "pointer";
}

export function isVoid(t: CType): boolean {
  return canonical(t).kind === "void";
}

export function isRecord(t: CType): boolean {
  return canonical(t).kind === "record";
}

export function isFunction(t: CType): boolean {
  return canonical(t).kind === "function";
}

export function isArray(t: CType): boolean {
  return canonical(t).kind === "array";
}

// The integer type an integer-like type (enum, _Bool...) is represented as.
export function integerTypeOf(t: CType): IntegerType | undefined {
  const c = canonical(t);
  if (c.kind === "int") return c.quals === 0 ? c : (unqualified(c) as IntegerType);
  if (c.kind === "enum") return c.decl.underlying;
  return undefined;
}

export function isSignedInteger(t: CType): boolean {
  return integerTypeOf(t)?.signed ?? false;
}

// Complete object type: size known (void, functions and incomplete arrays/records are not).
export function isComplete(t: CType): boolean {
  const c = canonical(t);
  switch (c.kind) {
    case "void":
    case "function":
      return false;
    case "array":
      return c.length !== undefined && isComplete(c.element);
    case "record":
      return c.decl.complete;
    case "enum":
      return c.decl.complete;
    default:
      return true;
  }
}

// ---------------------------------------------------------------------------------------
// Size and alignment.

// sizeof in bytes. void and function types are 1 (the GNU rule pointer arithmetic uses).
export function sizeOf(t: CType): number {
  switch (t.kind) {
    case "void":
    case "function":
      return 1;
    case "int":
    case "float":
      return t.size;
    case "pointer":
      return 8;
    case "array":
      if (t.length === undefined)
        throw new CTypeError(`sizeof of incomplete type '${typeToString(t)}'`);
      // clang rounds an array up to its element's alignment, which matters only for a
      // typedef whose aligned attribute exceeds its size ('char __attribute__((aligned(4)))').
      return alignTo(t.length * sizeOf(t.element), alignOf(t.element));
    case "record":
      if (!t.decl.complete) throw new CTypeError(`sizeof of incomplete type '${typeToString(t)}'`);
      return t.decl.size;
    case "enum":
      if (t.decl.underlying === undefined)
        throw new CTypeError(`sizeof of incomplete type '${typeToString(t)}'`);
      return t.decl.underlying.size;
    case "typedef":
      return sizeOf(t.decl.target);
  }
}

// _Alignof in bytes. A typedef's aligned attribute wins, even when it lowers alignment.
export function alignOf(t: CType): number {
  switch (t.kind) {
    case "void":
    case "function":
      return 1;
    case "int":
    case "float":
      return t.align;
    case "pointer":
      return 8;
    case "array":
      return alignOf(t.element);
    case "record":
      if (!t.decl.complete) throw new CTypeError(`alignof of incomplete type '${typeToString(t)}'`);
      return t.decl.align;
    case "enum":
      if (t.decl.underlying === undefined)
        throw new CTypeError(`alignof of incomplete type '${typeToString(t)}'`);
      return t.decl.underlying.align;
    case "typedef":
      return t.decl.alignAttr !== 0 ? t.decl.alignAttr : alignOf(t.decl.target);
  }
}

// ---------------------------------------------------------------------------------------
// Record layout, as clang's generic record layout builder does it for this target.

export interface FieldDecl {
  name: string | undefined;
  type: CType;
  // Present for bit-fields (already checked: 0 <= width <= bits of type, 0 only unnamed).
  bitWidth?: number;
  // __attribute__((packed)) on the member.
  packed?: boolean;
  // The largest of the member's aligned attributes and _Alignas, in bytes; 0 if none.
  alignAttr?: number;
  loc?: SourcePos;
  declLoc?: SourcePos;
  declTags?: readonly string[];
}

// What a field and the member laid out from it both tell.
export type DeclaredField = Pick<FieldDecl, "name" | "type" | "bitWidth" | "loc">;

export interface RecordAttrs {
  packed?: boolean;
  // aligned attribute on the record, bytes; 0 if none.
  alignAttr?: number;
  // #pragma pack(N) in effect, bytes; 0 if none.
  maxFieldAlign?: number;
}

// What most records have: one object for all (vmlinux.h has 11.7k records).
export const noRecordAttrs: RecordAttrs = Object.freeze({});

// Completes `decl` with `fields`, laid out when first asked (RecordDecl.members, size...).
// Field types must be complete, except that the last member of a struct may be an
// incomplete array (flexible member).
export function layoutRecord(
  decl: RecordDecl,
  fields: readonly FieldDecl[],
  attrs: RecordAttrs = noRecordAttrs,
): void {
  decl.define(fields, attrs);
}

interface RecordLayout {
  members: Member[];
  size: number;
  align: number;
  hasFlexibleArray: boolean;
  // The members by name (anonymous members looked through), made on first findMember.
  lookup: Map<string, MemberPath> | undefined;
}

function layoutFields(
  isUnion: boolean,
  fields: readonly FieldDecl[],
  attrs: RecordAttrs,
): RecordLayout {
  const recordPacked = attrs.packed === true;
  const maxFieldAlignBits = (attrs.maxFieldAlign ?? 0) * 8;
  let alignBits = 8;
  if (attrs.alignAttr) alignBits = Math.max(alignBits, attrs.alignAttr * 8);
  let dataSizeBits = 0; // bits used so far, rounded to whole bytes
  let sizeBits = 0;
  let unfilledBits = 0; // bits left in the last byte a bit-field used
  let hasFlexibleArray = false;
  const members: Member[] = [];

  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const fieldPacked = recordPacked || f.packed === true;
    const explicitAlignBits = (f.alignAttr ?? 0) * 8;
    let offsetBits: number;
    let fieldAlignBits: number;

    if (f.bitWidth !== undefined) {
      const width = f.bitWidth;
      const unitBits = sizeOf(f.type) * 8;
      fieldAlignBits = alignOf(f.type) * 8;
      let unpackedAlignBits = fieldAlignBits;
      // A packed bit-field may start at any bit.
      if (fieldPacked && width !== 0) fieldAlignBits = 1;
      if (explicitAlignBits) {
        fieldAlignBits = Math.max(fieldAlignBits, explicitAlignBits);
        unpackedAlignBits = Math.max(unpackedAlignBits, explicitAlignBits);
      }
      if (maxFieldAlignBits && width !== 0) {
        unpackedAlignBits = Math.min(unpackedAlignBits, maxFieldAlignBits);
        fieldAlignBits = fieldPacked
          ? unpackedAlignBits
          : Math.min(fieldAlignBits, maxFieldAlignBits);
      }
      offsetBits = isUnion ? 0 : dataSizeBits - unfilledBits;
      // A bit-field may not straddle a boundary of its type's alignment unless packing
      // (attribute or #pragma pack) allows it; a zero-width one always aligns.
      const allowPadding = maxFieldAlignBits === 0;
      if (width === 0 || (allowPadding && (offsetBits % fieldAlignBits) + width > unitBits)) {
        offsetBits = alignTo(offsetBits, fieldAlignBits);
      } else if (
        explicitAlignBits &&
        (maxFieldAlignBits === 0 || explicitAlignBits <= maxFieldAlignBits)
      ) {
        offsetBits = alignTo(offsetBits, explicitAlignBits);
      }
      // Unnamed bit-fields do not affect the record's alignment.
      if (f.name === undefined) fieldAlignBits = 1;
      if (isUnion) {
        dataSizeBits = Math.max(dataSizeBits, alignTo(width, 8));
      } else {
        const end = offsetBits + width;
        dataSizeBits = alignTo(end, 8);
        unfilledBits = dataSizeBits - end;
      }
    } else {
      const c = canonical(f.type);
      let fieldSizeBits: number;
      if (c.kind === "array" && c.length === undefined) {
        if (isUnion || i !== fields.length - 1) {
          // Sema rejects these with a location; clang does too.
          throw new CTypeError(`flexible array member '${f.name ?? ""}' not at end of struct`);
        }
        fieldSizeBits = 0;
        hasFlexibleArray = true;
      } else {
        if (!isComplete(f.type)) {
          throw new CTypeError(
            `field '${f.name ?? ""}' has incomplete type '${typeToString(f.type)}'`,
          );
        }
        fieldSizeBits = sizeOf(f.type) * 8;
        if (c.kind === "record" && c.decl.hasFlexibleArray) hasFlexibleArray = true;
      }
      fieldAlignBits = alignOf(f.type) * 8;
      if (fieldPacked) fieldAlignBits = 8;
      if (explicitAlignBits) fieldAlignBits = Math.max(fieldAlignBits, explicitAlignBits);
      if (maxFieldAlignBits) fieldAlignBits = Math.min(fieldAlignBits, maxFieldAlignBits);
      unfilledBits = 0;
      offsetBits = isUnion ? 0 : alignTo(dataSizeBits, fieldAlignBits);
      dataSizeBits = isUnion ? Math.max(dataSizeBits, fieldSizeBits) : offsetBits + fieldSizeBits;
    }
    sizeBits = Math.max(sizeBits, dataSizeBits);
    alignBits = Math.max(alignBits, fieldAlignBits & ~7);
    members.push({
      name: f.name,
      type: f.type,
      offset: Math.floor(offsetBits / 8),
      bitOffset: offsetBits,
      bitWidth: f.bitWidth,
      loc: f.loc,
      declLoc: f.declLoc,
      declTags: f.declTags,
    });
  }

  return {
    members,
    size: alignTo(sizeBits, alignBits) / 8,
    align: alignBits / 8,
    hasFlexibleArray,
    lookup: undefined,
  };
}

function alignTo(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

// ---------------------------------------------------------------------------------------
// Enums: the underlying type clang picks in C mode.

// Sets the underlying type from the enumerator values (already computed) and gives each
// enumerator its type: int when its value fits, else the underlying type.
export function completeEnum(
  decl: EnumDecl,
  constants: readonly { name: string; value: bigint; loc?: SourcePos }[],
): void {
  let min = 0n;
  let max = 0n;
  for (const c of constants) {
    if (c.value < min) min = c.value;
    if (c.value > max) max = c.value;
  }
  decl.underlying = enumUnderlyingType(min, max, decl.packed);
  decl.constants = constants.map((c) => ({
    name: c.name,
    value: c.value,
    type: fitsIn(c.value, intType) ? intType : decl.underlying!,
    loc: c.loc,
  }));
}

export function enumUnderlyingType(min: bigint, max: bigint, packed: boolean): IntegerType {
  if (min < 0n) {
    const candidates = packed
      ? [scharType, shortType, intType, longType, longlongType]
      : [intType, longType, longlongType];
    for (const t of candidates) if (fitsIn(min, t) && fitsIn(max, t)) return t;
    return longlongType;
  }
  const candidates = packed
    ? [ucharType, ushortType, uintType, ulongType, ulonglongType]
    : [uintType, ulongType, ulonglongType];
  for (const t of candidates) if (fitsIn(max, t)) return t;
  return ulonglongType;
}

export function fitsIn(value: bigint, t: IntegerType): boolean {
  const [min, max] = rangeOf(t);
  return value >= min && value <= max;
}

// [min, max] of an integer type, computed once per type.
const ranges = new Map<IntegerName, readonly [bigint, bigint]>();

export function rangeOf(t: IntegerType): readonly [bigint, bigint] {
  let r = ranges.get(t.name);
  if (r === undefined) {
    const bits = BigInt(t.size * 8);
    if (t.name === "_Bool") r = [0n, 1n];
    else if (t.signed) r = [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
    else r = [0n, (1n << bits) - 1n];
    ranges.set(t.name, r);
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// offsetof with a designator path (`a.b[3].c`).

export type Designator = { field: string } | { index: number };

export function offsetOf(t: CType, path: readonly Designator[]): number {
  let offset = 0;
  let cur = t;
  for (const d of path) {
    const c = canonical(cur);
    if ("field" in d) {
      if (c.kind !== "record")
        throw new CTypeError(
          `offsetof requires struct, union, or class type, '${typeToString(cur)}' invalid`,
        );
      if (!c.decl.complete)
        throw new CTypeError(`offsetof of incomplete type '${typeToString(cur)}'`);
      const m = c.decl.findMember(d.field);
      if (m === undefined)
        throw new CTypeError(`no member named '${d.field}' in '${typeToString(cur)}'`);
      if (m.member.bitWidth !== undefined)
        throw new CTypeError(`cannot compute offset of bit-field '${d.field}'`);
      offset += m.offset;
      cur = m.member.type;
    } else {
      if (c.kind !== "array")
        throw new CTypeError(`subscripted value is not an array: '${typeToString(cur)}'`);
      offset += d.index * sizeOf(c.element);
      cur = c.element;
    }
  }
  return offset;
}

// ---------------------------------------------------------------------------------------
// Conversions (C11 6.3).

// Integer promotion of an arithmetic type; `bitWidth` for a bit-field operand.
export function promote(t: CType, bitWidth?: number): CType {
  const c = canonical(t);
  let it: IntegerType | undefined;
  if (c.kind === "int") it = c;
  else if (c.kind === "enum") it = c.decl.underlying ?? intType;
  else return unqualified(c);
  if (bitWidth !== undefined) {
    // A bit-field narrower than int promotes to int, of exactly int's width to unsigned int,
    // whatever its declared type (clang: even `long x : 7` is an int operand).
    if (bitWidth < 32) return intType;
    if (bitWidth === 32) return it.signed ? intType : uintType;
  }
  if (it.rank < intType.rank) return intType;
  return it.quals === 0 ? it : unqualified(it);
}

// The common type of two arithmetic operands after promotion (C11 6.3.1.8).
export function usualArithmeticConversion(a: CType, b: CType): CType {
  const ca = canonical(a);
  const cb = canonical(b);
  if (ca.kind === "float" || cb.kind === "float") {
    const fa = ca.kind === "float" ? ca.size : 0;
    const fb = cb.kind === "float" ? cb.size : 0;
    if (ca.kind === "float" && cb.kind === "float")
      return ca.name === "long double" || fa >= fb ? unqualified(ca) : unqualified(cb);
    return unqualified(ca.kind === "float" ? ca : cb);
  }
  const x = promote(ca) as IntegerType;
  const y = promote(cb) as IntegerType;
  if (x.name === y.name) return x;
  if (x.signed === y.signed) return x.rank >= y.rank ? x : y;
  const [u, s] = x.signed ? [y, x] : [x, y];
  if (u.rank >= s.rank) return u;
  if (s.size > u.size) return s;
  return unsignedVersion(s);
}

// ---------------------------------------------------------------------------------------
// Compatibility and composite types (C11 6.2.7).

export function compatible(a: CType, b: CType): boolean {
  const ca = canonical(a);
  const cb = canonical(b);
  if (ca.quals !== cb.quals) return false;
  return compatibleUnqualified(ca, cb);
}

function compatibleUnqualified(a: CType, b: CType): boolean {
  if (a.kind === "enum" && b.kind === "int") return a.decl.underlying?.name === b.name;
  if (a.kind === "int" && b.kind === "enum") return b.decl.underlying?.name === a.name;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "void":
      return true;
    case "int":
    case "float":
      return a.name === (b as IntegerType | FloatType).name;
    case "pointer":
      return compatible(a.pointee, (b as PointerType).pointee);
    case "array": {
      const y = b as ArrayType;
      if (a.length !== undefined && y.length !== undefined && a.length !== y.length) return false;
      return compatible(a.element, y.element);
    }
    case "record":
      return a.decl === (b as RecordType).decl;
    case "enum":
      return a.decl === (b as EnumType).decl;
    case "function":
      return compatibleFunctions(a, b as FunctionType);
    case "typedef":
      return false; // unreachable: canonical types have no typedefs
  }
}

function compatibleFunctions(a: FunctionType, b: FunctionType): boolean {
  if (!compatible(a.ret, b.ret)) return false;
  if (a.prototyped && b.prototyped) {
    if (a.variadic !== b.variadic || a.params.length !== b.params.length) return false;
    for (let i = 0; i < a.params.length; i++) {
      // Top-level qualifiers of parameters do not count.
      if (
        !compatible(
          unqualified(canonical(a.params[i]!.type)),
          unqualified(canonical(b.params[i]!.type)),
        )
      )
        return false;
    }
    return true;
  }
  // One side has no prototype: the other's parameters must survive default promotions.
  const proto = a.prototyped ? a : b.prototyped ? b : undefined;
  if (proto === undefined) return true;
  if (proto.variadic) return false;
  for (const p of proto.params) {
    const c = unqualified(canonical(p.type));
    if (isArithmetic(c) && !compatible(c, defaultArgumentPromotion(c))) return false;
  }
  return true;
}

export function defaultArgumentPromotion(t: CType): CType {
  const c = canonical(t);
  if (c.kind === "float") return c.name === "float" ? doubleType : unqualified(c);
  if (c.kind === "int" || c.kind === "enum") return promote(c);
  return t;
}

// The composite of two compatible types (C11 6.2.7p3): array lengths and prototypes filled in.
export function compositeType(a: CType, b: CType): CType {
  const ca = canonical(a);
  const cb = canonical(b);
  if (ca.kind === "array" && cb.kind === "array") {
    const element = compositeType(ca.element, cb.element);
    return arrayOf(element, ca.length ?? cb.length);
  }
  if (ca.kind === "pointer" && cb.kind === "pointer") {
    return pointerTo(compositeType(ca.pointee, cb.pointee), ca.quals);
  }
  if (ca.kind === "function" && cb.kind === "function") {
    const ret = compositeType(ca.ret, cb.ret);
    if (!ca.prototyped)
      return cb.prototyped
        ? functionType(ret, cb.params, cb.variadic)
        : functionType(ret, [], false, false);
    if (!cb.prototyped) return functionType(ret, ca.params, ca.variadic);
    const params = ca.params.map((p, i) => ({
      name: p.name ?? cb.params[i]!.name,
      type: compositeType(p.type, cb.params[i]!.type),
    }));
    return functionType(ret, params, ca.variadic);
  }
  // Keep the first type's sugar when nothing needs merging.
  return a;
}

// ---------------------------------------------------------------------------------------
// Printing in clang's spelling, for diagnostics: 'struct task_struct *', 'int (*)(void *)'.

export function typeToString(t: CType): string {
  return print(t, "");
}

// A declaration of `name` with type `t` in C syntax: 'int (*name)(void *)', 'char name[16]'.
export function declToString(t: CType, name: string): string {
  return print(t, name);
}

// 'T' or 'T' (aka 'canonical T') when typedefs hide what it is, as clang's notes do.
export function describeType(t: CType): string {
  const sugared = print(t, "");
  const plain = print(desugar(t), "");
  return sugared === plain ? `'${sugared}'` : `'${sugared}' (aka '${plain}')`;
}

function qualWords(q: number): string {
  const words: string[] = [];
  if (q & Q_CONST) words.push("const");
  if (q & Q_VOLATILE) words.push("volatile");
  if (q & Q_RESTRICT) words.push("restrict");
  return words.join(" ");
}

function print(t: CType, inner: string): string {
  switch (t.kind) {
    case "pointer": {
      const q = qualWords(t.quals);
      let s = "*" + (q ? q + (inner && !inner.startsWith("[") ? " " + inner : inner) : inner);
      const pk = t.pointee.kind;
      if (pk === "array" || pk === "function") s = "(" + s + ")";
      return print(t.pointee, s);
    }
    case "array":
      return print(t.element, inner + "[" + (t.length ?? "") + "]");
    case "function": {
      const parts = t.params.map((p) => print(p.type, ""));
      if (t.variadic) parts.push("...");
      const list = t.prototyped && parts.length === 0 ? "void" : parts.join(", ");
      return print(t.ret, inner + "(" + list + ")");
    }
    default: {
      const q = qualWords(t.quals);
      const base = (q ? q + " " : "") + baseName(t);
      if (inner === "") return base;
      return inner.startsWith("[") ? base + inner : base + " " + inner;
    }
  }
}

function baseName(
  t: VoidType | IntegerType | FloatType | RecordType | EnumType | TypedefType,
): string {
  switch (t.kind) {
    case "void":
      return "void";
    case "int":
    case "float":
      return t.name;
    case "typedef":
      return t.decl.name;
    case "record": {
      const word = t.decl.isUnion ? "union" : "struct";
      return `${word} ${t.decl.tag ?? unnamed(word, t.decl.loc)}`;
    }
    case "enum":
      return `enum ${t.decl.tag ?? unnamed("enum", t.decl.loc)}`;
  }
}

function unnamed(word: string, loc: SourcePos | undefined): string {
  if (loc === undefined) return `(unnamed ${word})`;
  const at = outermostUse(loc);
  return `(unnamed ${word} at ${at.file}:${at.line}:${at.col})`;
}

// A declaration's location may be a token from a macro expansion (it carries `expansion`
// with the macro's use site and enclosing uses): clang names the outermost use.
function outermostUse(loc: SourcePos): SourcePos {
  type Expansion = { use: SourcePos; parent: Expansion | undefined };
  let e = (loc as { expansion?: Expansion }).expansion;
  if (e === undefined) return loc;
  while (e.parent !== undefined) e = e.parent;
  return e.use;
}

// The type with every typedef removed, at every level (for 'aka' text).
export function desugar(t: CType): CType {
  switch (t.kind) {
    case "typedef":
      return desugar(canonical(t));
    case "pointer":
      return pointerTo(desugar(t.pointee), t.quals);
    case "array":
      return { ...t, element: desugar(t.element) };
    case "function":
      return {
        ...t,
        ret: desugar(t.ret),
        params: t.params.map((p) => ({ name: p.name, type: desugar(p.type) })),
      };
    default:
      return t;
  }
}
