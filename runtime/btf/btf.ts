// The BTF type model (linux/btf.h): one object per type, ids as indexes into Btf.types,
// names kept both decoded and as string-section offsets so that encoding reproduces the input
// byte for byte.
import { decodeName } from "../elf/cstring.js";
import { TsbpfError } from "../error.js";

export const BTF_MAGIC = 0xeb9f;
export const BTF_VERSION = 1;
export const BTF_HEADER_SIZE = 24;
export const BTF_MAX_TYPE = 0x000fffff;
export const BTF_MAX_NAME_OFFSET = 0x00ffffff;
export const BTF_MAX_VLEN = 0xffff;

export const BTF_KIND_UNKN = 0; // id 0: void
export const BTF_KIND_INT = 1;
export const BTF_KIND_PTR = 2;
export const BTF_KIND_ARRAY = 3;
export const BTF_KIND_STRUCT = 4;
export const BTF_KIND_UNION = 5;
export const BTF_KIND_ENUM = 6;
export const BTF_KIND_FWD = 7;
export const BTF_KIND_TYPEDEF = 8;
export const BTF_KIND_VOLATILE = 9;
export const BTF_KIND_CONST = 10;
export const BTF_KIND_RESTRICT = 11;
export const BTF_KIND_FUNC = 12;
export const BTF_KIND_FUNC_PROTO = 13;
export const BTF_KIND_VAR = 14;
export const BTF_KIND_DATASEC = 15;
export const BTF_KIND_FLOAT = 16;
export const BTF_KIND_DECL_TAG = 17;
export const BTF_KIND_TYPE_TAG = 18;
export const BTF_KIND_ENUM64 = 19;
export const BTF_KIND_MAX = 19;

export const BTF_KIND_NAMES = [
  "UNKNOWN",
  "INT",
  "PTR",
  "ARRAY",
  "STRUCT",
  "UNION",
  "ENUM",
  "FWD",
  "TYPEDEF",
  "VOLATILE",
  "CONST",
  "RESTRICT",
  "FUNC",
  "FUNC_PROTO",
  "VAR",
  "DATASEC",
  "FLOAT",
  "DECL_TAG",
  "TYPE_TAG",
  "ENUM64",
] as const;

// INT encoding bits
export const BTF_INT_SIGNED = 1 << 0;
export const BTF_INT_CHAR = 1 << 1;
export const BTF_INT_BOOL = 1 << 2;

// VAR linkage
export const BTF_VAR_STATIC = 0;
export const BTF_VAR_GLOBAL_ALLOCATED = 1;
export const BTF_VAR_GLOBAL_EXTERN = 2;

// FUNC linkage (in vlen)
export const BTF_FUNC_STATIC = 0;
export const BTF_FUNC_GLOBAL = 1;
export const BTF_FUNC_EXTERN = 2;

/** Malformed BTF or BTF.ext, or a type that cannot be used as asked; names offset/type and reason. */
export class BtfError extends TsbpfError {}

interface BtfTypeCommon {
  id: number;
  name: string;
  /** name_off in the string section */
  nameOff: number;
  /** bit 31 of info: bitfield offsets (struct/union), union (fwd), signed (enum) */
  kindFlag: boolean;
}

export interface BtfVoid extends BtfTypeCommon {
  kind: typeof BTF_KIND_UNKN;
}

export interface BtfInt extends BtfTypeCommon {
  kind: typeof BTF_KIND_INT;
  size: number;
  /** BTF_INT_SIGNED / CHAR / BOOL */
  encoding: number;
  bitOffset: number;
  bits: number;
}

/** Kinds that only refer to another type. */
export interface BtfRef extends BtfTypeCommon {
  kind:
    | typeof BTF_KIND_PTR
    | typeof BTF_KIND_TYPEDEF
    | typeof BTF_KIND_VOLATILE
    | typeof BTF_KIND_CONST
    | typeof BTF_KIND_RESTRICT
    | typeof BTF_KIND_TYPE_TAG;
  type: number;
}

export interface BtfArray extends BtfTypeCommon {
  kind: typeof BTF_KIND_ARRAY;
  /** element type */
  type: number;
  indexType: number;
  nelems: number;
}

export interface BtfMember {
  name: string;
  nameOff: number;
  type: number;
  /** bit offset from the start of the struct */
  bitOffset: number;
  /** bitfield width (kind_flag structs only), 0 otherwise */
  bitfieldSize: number;
}

export interface BtfComposite extends BtfTypeCommon {
  kind: typeof BTF_KIND_STRUCT | typeof BTF_KIND_UNION;
  size: number;
  members: BtfMember[];
}

export interface BtfEnumValue {
  name: string;
  nameOff: number;
  /** the raw 32-bit value as a signed integer (reinterpret with >>> 0 when unsigned) */
  value: number;
}

export interface BtfEnum extends BtfTypeCommon {
  kind: typeof BTF_KIND_ENUM;
  size: number;
  values: BtfEnumValue[];
}

export interface BtfEnum64Value {
  name: string;
  nameOff: number;
  /** low and high 32 bits, unsigned */
  lo: number;
  hi: number;
}

export interface BtfEnum64 extends BtfTypeCommon {
  kind: typeof BTF_KIND_ENUM64;
  size: number;
  values: BtfEnum64Value[];
}

export interface BtfFwd extends BtfTypeCommon {
  kind: typeof BTF_KIND_FWD;
}

export interface BtfFunc extends BtfTypeCommon {
  kind: typeof BTF_KIND_FUNC;
  /** the FUNC_PROTO */
  type: number;
  /** BTF_FUNC_STATIC / GLOBAL / EXTERN (stored in vlen) */
  linkage: number;
}

export interface BtfParam {
  name: string;
  nameOff: number;
  type: number;
}

export interface BtfFuncProto extends BtfTypeCommon {
  kind: typeof BTF_KIND_FUNC_PROTO;
  /** return type */
  type: number;
  params: BtfParam[];
}

export interface BtfVar extends BtfTypeCommon {
  kind: typeof BTF_KIND_VAR;
  type: number;
  /** BTF_VAR_STATIC / GLOBAL_ALLOCATED / GLOBAL_EXTERN */
  linkage: number;
}

export interface BtfVarSecinfo {
  /** the VAR (or FUNC for extern functions) */
  type: number;
  offset: number;
  size: number;
}

export interface BtfDatasec extends BtfTypeCommon {
  kind: typeof BTF_KIND_DATASEC;
  size: number;
  vars: BtfVarSecinfo[];
}

export interface BtfFloat extends BtfTypeCommon {
  kind: typeof BTF_KIND_FLOAT;
  size: number;
}

export interface BtfDeclTag extends BtfTypeCommon {
  kind: typeof BTF_KIND_DECL_TAG;
  type: number;
  /** -1: the declaration itself; otherwise the member or parameter index */
  componentIdx: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfRef
  | BtfArray
  | BtfComposite
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

export interface Btf {
  /** types[id]; types[0] is void */
  types: BtfType[];
  strings: BtfStrings;
}

const utf8Encoder = new TextEncoder();

/**
 * The string section: NUL-terminated strings addressed by byte offset. Adding a string reuses
 * an existing identical one, so a builder and a parser share the same table.
 */
export class BtfStrings {
  private data: Uint8Array;
  private length: number;
  private readonly decoded = new Map<number, string>();
  private index: Map<string, number> | undefined;

  /** `bytes` must start and end with NUL (the parser checks); default: the empty table "\0". */
  constructor(bytes: Uint8Array = new Uint8Array(1)) {
    this.data = bytes.slice();
    this.length = bytes.length;
  }

  get size(): number {
    return this.length;
  }

  /** The string at `off`, or undefined when `off` is out of range. */
  tryGet(off: number): string | undefined {
    if (!Number.isInteger(off) || off < 0 || off >= this.length) return undefined;
    let s = this.decoded.get(off);
    if (s === undefined) {
      let end = this.data.indexOf(0, off);
      if (end < 0 || end >= this.length) end = this.length;
      s = decodeName(this.data, off, end);
      this.decoded.set(off, s);
    }
    return s;
  }

  get(off: number): string {
    const s = this.tryGet(off);
    if (s === undefined)
      throw new BtfError(
        `string offset ${off} is past the end of the string section (${this.length} bytes)`,
      );
    return s;
  }

  /** Offset of `s`, appending it when absent. "" is always offset 0. */
  add(s: string): number {
    if (s === "") return 0;
    const index = this.buildIndex();
    const existing = index.get(s);
    if (existing !== undefined) return existing;
    const off = this.length;
    // Names are almost always ASCII: their bytes are their char codes (TextEncoder is slow on
    // short strings).
    this.reserve(s.length + 1);
    let i = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.data[off + i++] = c;
    }
    let size = i;
    if (i < s.length) {
      const bytes = utf8Encoder.encode(s);
      this.reserve(bytes.length + 1);
      this.data.set(bytes, off);
      size = bytes.length;
    }
    this.data[off + size] = 0;
    this.length += size + 1;
    index.set(s, off);
    return off;
  }

  bytes(): Uint8Array {
    return this.data.slice(0, this.length);
  }

  private buildIndex(): Map<string, number> {
    if (!this.index) {
      this.index = new Map();
      let start = 0;
      for (let i = 0; i < this.length; i++) {
        if (this.data[i] !== 0) continue;
        const s = decodeName(this.data, start, i);
        if (!this.index.has(s)) this.index.set(s, start);
        start = i + 1;
      }
    }
    return this.index;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const grown = new Uint8Array(Math.max(this.data.length * 2, this.length + extra, 64));
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }
}

/** An empty BTF (void only), to build types into. */
export function createBtf(): Btf {
  return { types: [voidType()], strings: new BtfStrings() };
}

export function voidType(): BtfVoid {
  return { id: 0, kind: BTF_KIND_UNKN, name: "", nameOff: 0, kindFlag: false };
}

type Named = { name: string; nameOff: number };
/** Named list elements (members, params, enum values) may leave nameOff out. */
type LooseNames<T> = {
  [K in keyof T]: T[K] extends (infer E)[]
    ? E extends Named
      ? (Omit<E, "nameOff"> & { nameOff?: number })[]
      : T[K]
    : T[K];
};
/** A type to add: no id, and names not yet interned (distributes over the union). */
export type NewBtfType = BtfType extends infer T
  ? T extends BtfType
    ? LooseNames<Omit<T, "id" | "nameOff">> & { nameOff?: number }
    : never
  : never;

/**
 * Appends a type, interning the names that carry no nameOff (its own and its members',
 * params', values') in the string section; returns the new id.
 */
export function addBtfType(btf: Btf, type: NewBtfType): number {
  const id = btf.types.length;
  const t: Record<string, unknown> = {
    ...type,
    id,
    nameOff: type.nameOff ?? btf.strings.add(type.name),
  };
  if ("members" in type) t.members = internNames(btf.strings, type.members);
  else if ("params" in type) t.params = internNames(btf.strings, type.params);
  else if ("values" in type) t.values = internNames(btf.strings, type.values);
  btf.types.push(t as unknown as BtfType);
  return id;
}

/** Copies of named list elements with their names interned (a given nameOff is kept). */
function internNames(
  strings: BtfStrings,
  xs: readonly { name: string; nameOff?: number }[],
): Named[] {
  const out: Named[] = new Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    out[i] = { ...x, nameOff: x.nameOff ?? strings.add(x.name) };
  }
  return out;
}

export const btfKindName = (kind: number): string => BTF_KIND_NAMES[kind] ?? "UNKNOWN";

/** "[12] STRUCT 'pt_regs'" — how errors name a type. */
export function describeType(t: BtfType): string {
  return `[${t.id}] ${btfKindName(t.kind)} '${t.name || "(anon)"}'`;
}
