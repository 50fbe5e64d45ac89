// BTF compared up to type order: every type written out with what it refers to spelled in
// place (named records, enums and typedefs by name, to cut cycles), DATASECs as sets of
// variables. Two objects whose functions and globals come in a different order (so do their
// type ids) but describe the same types give the same sorted list.
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
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  type Btf,
} from "../../runtime/btf/btf.js";

export function canonicalBtf(btf: Btf): string[] {
  const memo = new Map<number, string>();
  const ref = (id: number): string => {
    const t = btf.types[id]!;
    if (id === 0) return "void";
    if ((t.kind === BTF_KIND_STRUCT || t.kind === BTF_KIND_UNION) && t.name !== "")
      return `${t.kind === BTF_KIND_STRUCT ? "struct" : "union"} ${t.name}`;
    if ((t.kind === BTF_KIND_ENUM || t.kind === BTF_KIND_ENUM64) && t.name !== "")
      return `enum ${t.name}`;
    if (t.kind === BTF_KIND_TYPEDEF) return `typedef ${t.name}`;
    if (t.kind === BTF_KIND_FUNC || t.kind === BTF_KIND_VAR)
      return `${t.kind === BTF_KIND_FUNC ? "func" : "var"} ${t.name}`;
    return render(id);
  };
  const render = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const t = btf.types[id]!;
    let s: string;
    switch (t.kind) {
      case BTF_KIND_INT:
        s = `int ${t.name} size=${t.size} enc=${t.encoding} bits=${t.bits}@${t.bitOffset}`;
        break;
      case BTF_KIND_FLOAT:
        s = `float ${t.name} size=${t.size}`;
        break;
      case BTF_KIND_PTR:
        s = `*(${ref(t.type)})`;
        break;
      case BTF_KIND_CONST:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG: {
        const what = {
          [BTF_KIND_CONST]: "const",
          [BTF_KIND_VOLATILE]: "volatile",
          [BTF_KIND_RESTRICT]: "restrict",
          [BTF_KIND_TYPE_TAG]: `tag ${t.name}`,
        }[t.kind];
        s = `${what}(${ref(t.type)})`;
        break;
      }
      case BTF_KIND_TYPEDEF:
        s = `typedef ${t.name} = ${ref(t.type)}`;
        break;
      case BTF_KIND_ARRAY:
        s = `[${t.nelems}](${ref(t.type)}) index ${ref(t.indexType)}`;
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        s =
          `${t.kind === BTF_KIND_STRUCT ? "struct" : "union"} ${t.name} size=${t.size} flag=${t.kindFlag} { ` +
          t.members
            .map((m) => `${m.name}: ${ref(m.type)} @${m.bitOffset}:${m.bitfieldSize}`)
            .join("; ") +
          " }";
        break;
      case BTF_KIND_ENUM:
        s = `enum ${t.name} size=${t.size} { ${t.values.map((v) => `${v.name}=${v.value}`).join(", ")} }`;
        break;
      case BTF_KIND_ENUM64:
        s = `enum64 ${t.name} size=${t.size} { ${t.values.map((v) => `${v.name}=${v.hi}:${v.lo}`).join(", ")} }`;
        break;
      case BTF_KIND_FWD:
        s = `fwd ${t.kindFlag ? "union" : "struct"} ${t.name}`;
        break;
      case BTF_KIND_FUNC_PROTO:
        s = `proto ${ref(t.type)} (${t.params.map((p) => `${p.name}: ${ref(p.type)}`).join(", ")})`;
        break;
      case BTF_KIND_FUNC:
        s = `func ${t.name} linkage=${t.linkage} ${ref(t.type)}`;
        break;
      case BTF_KIND_VAR:
        s = `var ${t.name} linkage=${t.linkage} ${ref(t.type)}`;
        break;
      case BTF_KIND_DATASEC:
        s = `datasec ${t.name} { ${t.vars
          .map((v) => `${ref(v.type)} size=${v.size}`)
          .sort()
          .join("; ")} }`;
        break;
      case BTF_KIND_DECL_TAG:
        s = `decl_tag ${t.name} on ${ref(t.type)} #${t.componentIdx}`;
        break;
      default:
        s = `kind ${t.kind}`;
    }
    memo.set(id, s);
    return s;
  };
  const out: string[] = [];
  for (let id = 1; id < btf.types.length; id++) out.push(render(id));
  return out.sort();
}
