// The text `bpftool btf dump file X raw` prints for a BTF (bpftool v7), one type per line with
// members, values, params and vars on tab-indented lines below it.
import {
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
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
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  btfKindName,
  type Btf,
  type BtfType,
} from "./btf.js";

const intEncoding = (e: number): string =>
  e === 0
    ? "(none)"
    : e === BTF_INT_SIGNED
      ? "SIGNED"
      : e === BTF_INT_CHAR
        ? "CHAR"
        : e === BTF_INT_BOOL
          ? "BOOL"
          : "UNKN";

const linkageName = (l: number): string => ["static", "global", "extern"][l] ?? "(unknown)";

/** All types of `btf`, in bpftool's raw format (each line ends with a newline). */
export function dumpBtf(btf: Btf): string {
  const lines: string[] = [];
  for (let id = 1; id < btf.types.length; id++) lines.push(dumpBtfType(btf, btf.types[id]!));
  return lines.map((l) => l + "\n").join("");
}

export function dumpBtfType(btf: Btf, t: BtfType): string {
  const name = (off: number): string =>
    off === 0 ? "(anon)" : (btf.strings.tryGet(off) ?? "(invalid)");
  let s = `[${t.id}] ${btfKindName(t.kind)} '${name(t.nameOff)}'`;
  switch (t.kind) {
    case BTF_KIND_INT:
      s += ` size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
      break;
    case BTF_KIND_PTR:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_TYPE_TAG:
      s += ` type_id=${t.type}`;
      break;
    case BTF_KIND_ARRAY:
      s += ` type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
      break;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${name(m.nameOff)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      break;
    case BTF_KIND_ENUM:
      s += ` encoding=${t.kindFlag ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values)
        s += `\n\t'${name(v.nameOff)}' val=${t.kindFlag ? v.value : v.value >>> 0}`;
      break;
    case BTF_KIND_ENUM64:
      s += ` encoding=${t.kindFlag ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) {
        // Printing only: a 64-bit decimal needs BigInt here.
        const u = (BigInt(v.hi >>> 0) << 32n) | BigInt(v.lo >>> 0);
        s += t.kindFlag
          ? `\n\t'${name(v.nameOff)}' val=${BigInt.asIntN(64, u)}LL`
          : `\n\t'${name(v.nameOff)}' val=${u}ULL`;
      }
      break;
    case BTF_KIND_FWD:
      s += ` fwd_kind=${t.kindFlag ? "union" : "struct"}`;
      break;
    case BTF_KIND_FUNC:
      s += ` type_id=${t.type} linkage=${linkageName(t.linkage)}`;
      break;
    case BTF_KIND_FUNC_PROTO:
      s += ` ret_type_id=${t.type} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${name(p.nameOff)}' type_id=${p.type}`;
      break;
    case BTF_KIND_VAR:
      s += ` type_id=${t.type}, linkage=${linkageName(t.linkage)}`;
      break;
    case BTF_KIND_DATASEC:
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        const vt = btf.types[v.type];
        if (vt) s += ` (${btfKindName(vt.kind)} '${name(vt.nameOff)}')`;
      }
      break;
    case BTF_KIND_FLOAT:
      s += ` size=${t.size}`;
      break;
    case BTF_KIND_DECL_TAG:
      s += ` type_id=${t.type} component_idx=${t.componentIdx}`;
      break;
  }
  return s;
}
