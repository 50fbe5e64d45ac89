// The C header for BPF programs that trace the simulated kernel: a vmlinux.h written from the
// same definitions the kernel lays its objects out with (vmlinux.ts), in the style bpftool
// writes one (forward declarations, then every type before its first use by value, records
// under clang's preserve_access_index so CO-RE relocates field accesses).
import {
  declToC,
  resolve,
  type CType,
  type Definition,
  type EnumType,
  type RecordType,
  type TypeRegistry,
  type TypedefType,
} from "./ctypes.js";
import { kernelTypes } from "./vmlinux.js";

/** The header text for `types` (default: the simulated kernel's). */
export function writeVmlinuxHeader(types: TypeRegistry = kernelTypes()): string {
  const out: string[] = [
    "/* vmlinux.h of the tsbpf simulated kernel: generated from runtime/kernel/vmlinux.ts. */",
    "#ifndef __VMLINUX_H__",
    "#define __VMLINUX_H__",
    "",
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX",
    "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)",
    "#endif",
    "",
  ];
  const defs = types.definitions();
  for (const def of defs) {
    if ((def.kind === "struct" || def.kind === "union") && def.name !== "") {
      out.push(`${def.kind} ${def.name};`);
    }
  }
  for (const name of undefinedRecords(defs)) out.push(`${name};`);
  out.push("");
  const emitted = new Set<Definition>();
  const emit = (def: Definition): void => {
    if (emitted.has(def)) return;
    emitted.add(def);
    for (const dep of dependencies(def)) emit(dep);
    out.push(definitionText(def), "");
  };
  for (const def of defs) emit(def);
  out.push(
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX",
    "#pragma clang attribute pop",
    "#endif",
    "",
    "#endif /* __VMLINUX_H__ */",
    "",
  );
  return out.join("\n");
}

/** Records only ever pointed to (struct key, struct net ...): they get a forward declaration. */
function undefinedRecords(defs: readonly Definition[]): string[] {
  const seen = new Set<string>();
  const visited = new Set<CType>();
  const walk = (type: CType): void => {
    if (visited.has(type)) return;
    visited.add(type);
    switch (type.kind) {
      case "ptr":
        return walk(type.to);
      case "array":
        return walk(type.of);
      case "const":
      case "volatile":
      case "typedef":
        return walk(type.type);
      case "func":
        walk(type.ret);
        for (const p of type.params) walk(p.type);
        return;
      case "struct":
      case "union":
        if (type.members === undefined) seen.add(`${type.kind} ${type.name}`);
        else for (const m of type.members) walk(m.type);
        return;
      default:
        return;
    }
  };
  for (const def of defs) walk(def);
  return [...seen].sort();
}

/** Named definitions that must precede `def`: by-value records and every typedef or enum used. */
function dependencies(def: Definition): Definition[] {
  const deps: Definition[] = [];
  const visit = (type: CType, byValue: boolean): void => {
    switch (type.kind) {
      case "typedef":
        deps.push(type);
        return;
      case "enum":
        if (type.name !== "") deps.push(type);
        return;
      case "struct":
      case "union":
        if (type.name !== "") {
          if (byValue && type !== def) deps.push(type);
          return;
        }
        for (const m of type.members ?? []) visit(m.type, byValue);
        return;
      case "ptr":
        return visit(type.to, false);
      case "array":
        return visit(type.of, byValue);
      case "const":
      case "volatile":
        return visit(type.type, byValue);
      case "func":
        visit(type.ret, false);
        for (const p of type.params) visit(p.type, false);
        return;
      default:
        return;
    }
  };
  if (def.kind === "typedef") visit(def.type, true);
  else if (def.kind !== "enum") for (const m of def.members ?? []) visit(m.type, true);
  return deps;
}

function definitionText(def: Definition): string {
  switch (def.kind) {
    case "typedef":
      return typedefText(def);
    case "enum":
      return `${enumBody(def)};`;
    default:
      return `${recordBody(def, 0)};`;
  }
}

function typedefText(def: TypedefType): string {
  return `typedef ${declToC(def.type, def.name, (r) => (r.kind === "enum" ? enumBody(r) : recordBody(r, 0)))};`;
}

function enumBody(type: EnumType): string {
  const lines = (type.values ?? []).map((v) => `\t${v.name} = ${enumValueText(v.value)},`);
  return [`enum ${type.name === "" ? "" : type.name + " "}{`, ...lines, "}"].join("\n");
}

function enumValueText(value: number): string {
  if (value > 0x7fffffff) return `${value}ULL`;
  return String(value);
}

function recordBody(record: RecordType, depth: number): string {
  const indent = "\t".repeat(depth + 1);
  const head = record.name === "" ? `${record.kind} {` : `${record.kind} ${record.name} {`;
  const lines = (record.members ?? []).map((m) => {
    const anonymous = (r: RecordType | EnumType): string =>
      r.kind === "enum" ? enumBody(r) : recordBody(r, depth + 1);
    const bits = m.bits === undefined ? "" : `: ${m.bits}`;
    return `${indent}${declToC(m.type, m.name, anonymous)}${bits};`;
  });
  return [head, ...lines, `${"\t".repeat(depth)}}`].join("\n");
}

/** Is the type (through typedefs and qualifiers) a struct or union? */
export function isRecord(type: CType): boolean {
  const t = resolve(type);
  return t.kind === "struct" || t.kind === "union";
}
