// Questions asked of a BTF by the object model, the CO-RE relocator and the verifier: look up a
// type, see through typedefs and modifiers, size a type, print it as C, find a member.
// Every walk is bounded (MAX_RESOLVE_DEPTH), so corrupt or cyclic BTF fails instead of hanging.
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_UNKN,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  BTF_INT_BOOL,
  BtfError,
  describeType,
  type Btf,
  type BtfMember,
  type BtfType,
} from "./btf.js";

/** How many typedef/modifier/array links a walk follows before calling the BTF corrupt. */
export const MAX_RESOLVE_DEPTH = 32;
/** Pointers are 64-bit on BPF. */
export const BTF_POINTER_SIZE = 8;

export function btfTypeById(btf: Btf, id: number): BtfType {
  const t = btf.types[id];
  if (t === undefined || !Number.isInteger(id))
    throw new BtfError(`type id ${id} is out of range (last type [${btf.types.length - 1}])`);
  return t;
}

const isModifier = (kind: number): boolean =>
  kind === BTF_KIND_TYPEDEF ||
  kind === BTF_KIND_VOLATILE ||
  kind === BTF_KIND_CONST ||
  kind === BTF_KIND_RESTRICT ||
  kind === BTF_KIND_TYPE_TAG;

function tooDeep(start: number): never {
  throw new BtfError(
    `type [${start}]: chain of more than ${MAX_RESOLVE_DEPTH} types (cyclic BTF?)`,
  );
}

/** The type `id` denotes once typedefs, const/volatile/restrict and type tags are seen through. */
export function skipModsAndTypedefs(btf: Btf, id: number): BtfType {
  let t = btfTypeById(btf, id);
  for (let depth = 0; isModifier(t.kind); depth++) {
    if (depth >= MAX_RESOLVE_DEPTH) tooDeep(id);
    t = btfTypeById(btf, (t as { type: number }).type);
  }
  return t;
}

/** Like skipModsAndTypedefs but stops at typedefs (sees through qualifiers and tags only). */
export function skipModifiers(btf: Btf, id: number): BtfType {
  let t = btfTypeById(btf, id);
  for (let depth = 0; isModifier(t.kind) && t.kind !== BTF_KIND_TYPEDEF; depth++) {
    if (depth >= MAX_RESOLVE_DEPTH) tooDeep(id);
    t = btfTypeById(btf, (t as { type: number }).type);
  }
  return t;
}

/**
 * Size in bytes of an object of type `id` (as libbpf's btf__resolve_size): arrays multiply,
 * pointers are 8 bytes; void, functions and forward declarations have no size.
 */
export function btfTypeSize(btf: Btf, id: number): number {
  let t = btfTypeById(btf, id);
  let count = 1;
  for (let depth = 0; ; depth++) {
    if (depth > MAX_RESOLVE_DEPTH) tooDeep(id);
    switch (t.kind) {
      case BTF_KIND_INT:
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_DATASEC:
      case BTF_KIND_FLOAT:
        return scaled(id, t.size, count);
      case BTF_KIND_PTR:
        return scaled(id, BTF_POINTER_SIZE, count);
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
        t = btfTypeById(btf, t.type);
        break;
      case BTF_KIND_ARRAY:
        count *= t.nelems;
        if (count > 0xffffffff) throw new BtfError(`type [${id}]: array size overflows 32 bits`);
        t = btfTypeById(btf, t.type);
        break;
      default:
        throw new BtfError(`type [${id}]: ${describeType(t)} has no size`);
    }
  }
}

function scaled(id: number, size: number, count: number): number {
  const total = size * count;
  if (total > 0xffffffff) throw new BtfError(`type [${id}]: size ${total} overflows 32 bits`);
  return total;
}

/** The first type named `name` (of `kind` when given), or undefined. */
export function findBtfType(btf: Btf, name: string, kind?: number): BtfType | undefined {
  for (let id = 1; id < btf.types.length; id++) {
    const t = btf.types[id]!;
    if (t.name === name && (kind === undefined || t.kind === kind)) return t;
  }
  return undefined;
}

export interface FoundMember {
  member: BtfMember;
  /** bit offset from the start of the outermost struct (anonymous members flattened) */
  bitOffset: number;
  /** member indexes from the outermost struct down (more than one through anonymous members) */
  path: number[];
}

/** Finds member `name` of the struct/union `id` (through typedefs), searching anonymous members. */
export function findMember(btf: Btf, id: number, name: string): FoundMember | undefined {
  return findMemberIn(btf, id, name, 0, 0);
}

function findMemberIn(
  btf: Btf,
  id: number,
  name: string,
  base: number,
  depth: number,
): FoundMember | undefined {
  if (depth > MAX_RESOLVE_DEPTH) tooDeep(id);
  const t = skipModsAndTypedefs(btf, id);
  if (t.kind !== BTF_KIND_STRUCT && t.kind !== BTF_KIND_UNION)
    throw new BtfError(`${describeType(t)} is not a struct or union`);
  for (const [i, m] of t.members.entries()) {
    if (m.name === name) return { member: m, bitOffset: base + m.bitOffset, path: [i] };
    if (m.name === "") {
      const inner = skipModsAndTypedefs(btf, m.type);
      if (inner.kind !== BTF_KIND_STRUCT && inner.kind !== BTF_KIND_UNION) continue;
      const found = findMemberIn(btf, inner.id, name, base + m.bitOffset, depth + 1);
      if (found) return { ...found, path: [i, ...found.path] };
    }
  }
  return undefined;
}

/**
 * The C spelling of type `id`, optionally declaring `declarator` (a variable name):
 * "struct pt_regs *", "const volatile int", "int (*)[4]", "u64 (*)(void *, int)".
 */
export function btfTypeToString(btf: Btf, id: number, declarator = ""): string {
  return spell(btf, id, declarator, 0).trim();
}

function spell(btf: Btf, id: number, decl: string, depth: number): string {
  if (depth > MAX_RESOLVE_DEPTH) tooDeep(id);
  const t = btfTypeById(btf, id);
  const named = (base: string): string =>
    !decl ? base : decl.startsWith("[") ? base + decl : `${base} ${decl}`;
  const anon = (s: string): string => s || "(anon)";
  // A suffix ([N] or (params)) binds tighter than a leading '*'.
  const wrap = (d: string): string => (d.startsWith("*") ? `(${d})` : d);
  switch (t.kind) {
    case BTF_KIND_UNKN:
      return named("void");
    case BTF_KIND_INT:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPEDEF:
      return named(anon(t.name));
    case BTF_KIND_STRUCT:
      return named(`struct ${anon(t.name)}`);
    case BTF_KIND_UNION:
      return named(`union ${anon(t.name)}`);
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
      return named(`enum ${anon(t.name)}`);
    case BTF_KIND_FWD:
      return named(`${t.kindFlag ? "union" : "struct"} ${anon(t.name)}`);
    case BTF_KIND_PTR:
      return spell(btf, t.type, `*${decl}`, depth + 1);
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT: {
      const q =
        t.kind === BTF_KIND_CONST
          ? "const"
          : t.kind === BTF_KIND_VOLATILE
            ? "volatile"
            : "restrict";
      const target = btfTypeById(btf, t.type);
      // A qualified pointer puts the qualifier after the '*'.
      if (target.kind === BTF_KIND_PTR) return spell(btf, t.type, `${q} ${decl}`.trim(), depth + 1);
      return `${q} ${spell(btf, t.type, decl, depth + 1)}`;
    }
    case BTF_KIND_TYPE_TAG:
      return spell(btf, t.type, decl, depth + 1);
    case BTF_KIND_ARRAY:
      return spell(btf, t.type, `${wrap(decl)}[${t.nelems}]`, depth + 1);
    case BTF_KIND_FUNC_PROTO: {
      const params = t.params.map((p) =>
        p.type === 0 ? "..." : spell(btf, p.type, "", depth + 1).trim(),
      );
      return spell(
        btf,
        t.type,
        `${wrap(decl)}(${params.length ? params.join(", ") : "void"})`,
        depth + 1,
      );
    }
    case BTF_KIND_FUNC:
      return spell(btf, t.type, t.name, depth + 1);
    case BTF_KIND_VAR:
      return spell(btf, t.type, t.name, depth + 1);
    case BTF_KIND_DATASEC:
      return `SEC("${t.name}")`;
    case BTF_KIND_DECL_TAG:
      return `__attribute__((btf_decl_tag("${t.name}")))`;
  }
}

/** True for an INT that is a C bool (the verifier and printers care). */
export const isBtfBool = (t: BtfType): boolean =>
  t.kind === BTF_KIND_INT && (t.encoding & BTF_INT_BOOL) !== 0;
