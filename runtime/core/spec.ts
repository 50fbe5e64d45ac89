// A CO-RE access specification: what a relocation refers to, read from the local (program's)
// BTF and later matched against the target (kernel's) BTF.
//
// The access string clang writes ("0:23:1:4") is a path: the first number indexes the root
// pointer as an array (&p[0]), each following one picks a member of a struct/union or an
// element of an array. The low-level `raw` path keeps every step, anonymous members included;
// the high-level `accessors` keep only the steps that carry meaning across kernels: the
// initial index, named members and array elements. For enum kinds the string is one number,
// the enumerator's index; for type kinds it is always "0".
import {
  BTF_KIND_ARRAY,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_STRUCT,
  BTF_KIND_UNION,
  type Btf,
  type BtfArray,
  type BtfType,
} from "../btf/btf.js";
import { btfTypeById, btfTypeSize, skipModsAndTypedefs } from "../btf/query.js";
import { CoreSpecError } from "./error.js";
import { coreReloKindName, isEnumvalBased, isFieldBased, isTypeBased } from "./kinds.js";

/** Deepest access path libbpf follows. */
export const CORE_SPEC_MAX_LEN = 64;

export interface CoreAccessor {
  /** the struct/union holding the member, or the array element type (modifiers skipped) */
  typeId: number;
  /** member index, array index, or enumerator index */
  idx: number;
  /** the member or enumerator name; undefined for array indexes */
  name: string | undefined;
}

export interface CoreSpec {
  btf: Btf;
  /** the relocation's root type (local) or the candidate it matched (target) */
  rootTypeId: number;
  kind: number;
  accessors: CoreAccessor[];
  raw: number[];
  /** bit offset of the accessed field from the root pointer */
  bitOffset: number;
}

export function emptySpec(btf: Btf, rootTypeId: number, kind: number): CoreSpec {
  return { btf, rootTypeId, kind, accessors: [], raw: [], bitOffset: 0 };
}

export const isComposite = (t: BtfType): boolean =>
  t.kind === BTF_KIND_STRUCT || t.kind === BTF_KIND_UNION;

export const isAnyEnum = (t: BtfType): boolean =>
  t.kind === BTF_KIND_ENUM || t.kind === BTF_KIND_ENUM64;

/** A relocation record as the relocator needs it. */
export interface CoreReloRecord {
  typeId: number;
  accessStr: string;
  kind: number;
}

/** Read the access string of `relo` against the local BTF. Throws CoreSpecError. */
export function parseLocalSpec(btf: Btf, relo: CoreReloRecord): CoreSpec {
  const spec = emptySpec(btf, relo.typeId, relo.kind);
  const text = relo.accessStr;
  if (text === "" || text.startsWith(":")) throw new CoreSpecError(`bad access string '${text}'`);
  if (isTypeBased(relo.kind)) {
    if (text !== "0")
      throw new CoreSpecError(
        `access string '${text}' of a ${coreReloKindName(relo.kind)} relocation is not "0"`,
      );
    return spec;
  }
  spec.raw = parseAccessString(text);
  const root = skipModsAndTypedefs(btf, relo.typeId);
  const first = spec.raw[0]!;
  spec.accessors.push({ typeId: root.id, idx: first, name: undefined });
  if (isEnumvalBased(relo.kind)) return parseEnumSpec(spec, root);
  if (!isFieldBased(relo.kind))
    throw new CoreSpecError(`unknown CO-RE relocation kind ${relo.kind}`);
  spec.bitOffset = first * sizeOf(btf, root.id) * 8;
  let id = root.id;
  for (let i = 1; i < spec.raw.length; i++) {
    const t = skipModsAndTypedefs(btf, id);
    id = t.id;
    const idx = spec.raw[i]!;
    if (t.kind === BTF_KIND_STRUCT || t.kind === BTF_KIND_UNION) {
      const m = t.members[idx];
      if (m === undefined)
        throw new CoreSpecError(`access '${text}' step ${i}: ${describe(t)} has no member #${idx}`);
      spec.bitOffset += m.bitOffset;
      // anonymous members only move the offset; named ones are accessors
      if (m.name !== "") spec.accessors.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === BTF_KIND_ARRAY) {
      const elem = skipModsAndTypedefs(btf, t.type);
      const flex = isFlexArray(btf, spec.accessors[spec.accessors.length - 1]!, t);
      if (!flex && idx >= t.nelems)
        throw new CoreSpecError(
          `access '${text}' step ${i}: index ${idx} past the end of ${describe(t)}[${t.nelems}]`,
        );
      spec.accessors.push({ typeId: elem.id, idx, name: undefined });
      spec.bitOffset += idx * sizeOf(btf, elem.id) * 8;
      id = elem.id;
    } else {
      throw new CoreSpecError(
        `access '${text}' step ${i} reaches ${describe(t)}, which has no members or elements`,
      );
    }
  }
  return spec;
}

function parseAccessString(text: string): number[] {
  const raw: number[] = [];
  for (const part of text.split(":")) {
    if (!/^\d+$/.test(part)) throw new CoreSpecError(`bad access string '${text}'`);
    if (raw.length === CORE_SPEC_MAX_LEN)
      throw new CoreSpecError(`access string '${text}' is longer than ${CORE_SPEC_MAX_LEN}`);
    raw.push(Number(part));
  }
  return raw;
}

function parseEnumSpec(spec: CoreSpec, root: BtfType): CoreSpec {
  const idx = spec.raw[0]!;
  if (root.kind !== BTF_KIND_ENUM && root.kind !== BTF_KIND_ENUM64)
    throw new CoreSpecError(`enum value relocation on ${describe(root)}, not an enum`);
  if (spec.raw.length > 1 || idx >= root.values.length)
    throw new CoreSpecError(
      `access '${spec.raw.join(":")}' is not an enumerator of ${describe(root)}`,
    );
  spec.accessors[0]!.name = root.values[idx]!.name;
  return spec;
}

/**
 * A zero-length array that is the last member of the struct named by `owner` (the previous
 * accessor): indexing past its end is allowed.
 */
export function isFlexArray(btf: Btf, owner: CoreAccessor, array: BtfArray): boolean {
  if (owner.name === undefined || array.nelems > 0) return false;
  const t = btfTypeById(btf, owner.typeId);
  return isComposite(t) && owner.idx === (t as { members: unknown[] }).members.length - 1;
}

/** btf__resolve_size, as a CoreSpecError when the type has no size. */
export function sizeOf(btf: Btf, id: number): number {
  return btfTypeSize(btf, id);
}

/** libbpf's kind names: "struct", "typedef", "enum64", ... */
export function btfKindStr(t: BtfType): string {
  return KIND_STR[t.kind] ?? "unknown";
}

const KIND_STR = [
  "void",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
];

const describe = (t: BtfType): string => `[${t.id}] ${btfKindStr(t)} ${t.name || "<anon>"}`;

/**
 * The spec as libbpf prints it: "<byte_off> [12] struct task_struct.real_parent (0:52 @ offset
 * 1192)", "<enumval_value> [40] enum pid_type::PIDTYPE_TGID = 1", "<type_exists> [9] struct x".
 */
export function formatSpec(spec: CoreSpec): string {
  const root = btfTypeById(spec.btf, spec.rootTypeId);
  let s = `<${coreReloKindName(spec.kind)}> [${spec.rootTypeId}] ${btfKindStr(root)} ${root.name || "<anon>"}`;
  if (isTypeBased(spec.kind)) return s;
  if (isEnumvalBased(spec.kind)) {
    const t = skipModsAndTypedefs(spec.btf, spec.rootTypeId);
    const idx = spec.raw[0];
    if (idx === undefined || !(t.kind === BTF_KIND_ENUM || t.kind === BTF_KIND_ENUM64)) return s;
    const v = t.values[idx];
    if (v === undefined) return s;
    return `${s}::${v.name} = ${enumValueText(t, idx)}`;
  }
  if (!isFieldBased(spec.kind)) return s;
  spec.accessors.forEach((acc, i) => {
    if (acc.name !== undefined) s += `.${acc.name}`;
    else if (i > 0 || acc.idx > 0) s += `[${acc.idx}]`;
  });
  const bytes = Math.floor(spec.bitOffset / 8);
  const bits = spec.bitOffset % 8;
  return `${s} (${spec.raw.join(":")} @ offset ${bytes}${bits ? `.${bits}` : ""})`;
}

/** An enumerator's value as libbpf prints it (signedness from the enum's kind_flag). */
export function enumValueText(t: BtfType, idx: number): string {
  if (t.kind === BTF_KIND_ENUM) {
    const v = t.values[idx]!.value;
    return String(t.kindFlag ? v | 0 : v >>> 0);
  }
  if (t.kind === BTF_KIND_ENUM64) {
    const v = t.values[idx]!;
    // Printing only: a 64-bit decimal.
    const u = (BigInt(v.hi >>> 0) << 32n) | BigInt(v.lo >>> 0);
    return String(t.kindFlag ? BigInt.asIntN(64, u) : u);
  }
  return "?";
}
