// A CompiledUnit made from a clang object and our front end's types for the same source: the
// instructions, relocations and line info are clang's (read back with runtime/object), the C
// types of functions and globals are sema's. Writing it with compiler/emit.ts and comparing the
// result with clang's object tests the writer apart from code generation.
//
// Functions and globals are listed in the order of clang's BTF FUNCs and VARs, so the BTF we
// build from them can be compared with clang's type by type.
import { readFileSync } from "node:fs";
import {
  BTF_KIND_FUNC,
  BTF_KIND_VAR,
  BTF_FUNC_EXTERN,
  BTF_VAR_GLOBAL_EXTERN,
} from "../../runtime/btf/btf.js";
import {
  SHT_NOBITS,
  STB_LOCAL,
  STT_OBJECT,
  STT_SECTION,
  R_BPF_64_ABS64,
  type ElfSymbol,
} from "../../runtime/elf/elf.js";
import { openObject, type BpfProgram } from "../../runtime/object/open.js";
import { BPF_CALL, BPF_JMP, BPF_PSEUDO_CALL } from "../../runtime/isa/opcodes.js";
import { checkProgram } from "../../compiler/frontend.js";
import { diagnosticLoc } from "../../compiler/lexer.js";
import type { FunctionDecl, VarDecl } from "../../compiler/sema.js";
import type { Attribute } from "../../compiler/ast.js";
import { arrayOf, charType, type CType, type RecordDecl } from "../../compiler/types.js";
import type {
  CompiledFunction,
  CompiledGlobal,
  CompiledUnit,
  InsnReloc,
  LineMark,
} from "../../compiler/unit.js";
import { BPF_FLAGS } from "./tools.js";

export function unitFromClang(objectPath: string, sourcePath: string): CompiledUnit {
  const obj = openObject(new Uint8Array(readFileSync(objectPath)), objectPath);
  const checked = checkProgram(
    { file: sourcePath },
    {
      includeDirs: BPF_FLAGS.filter((f) => f.startsWith("-I")).map((f) => f.slice(2)),
      defines: BPF_FLAGS.filter((f) => f.startsWith("-D")).map((f) => f.slice(2)),
      optimize: true,
    },
  );
  const sema = checked.sema;
  if (!sema || checked.diagnostics.hasErrors())
    throw new Error(`front end failed on ${sourcePath}: ${checked.diagnostics.items[0]?.message}`);
  const functionsByName = new Map<string, FunctionDecl>();
  const varsByName = new Map<string, VarDecl>();
  for (const g of sema.globals) {
    if (g.kind === "function") {
      functionsByName.set(g.name, g);
      for (const l of g.locals)
        if (l.storage === "static") varsByName.set(`${g.name}.${l.name}`, l);
    } else varsByName.set(g.name, g);
  }
  const btf = obj.btf!;
  const elf = obj.elf;
  const programs = [...obj.programs, ...obj.subprograms];

  const objectSymbolAt = (section: number, offset: number): ElfSymbol | undefined =>
    elf.symbols.find(
      (s) =>
        s.shndx === section &&
        s.type === STT_OBJECT &&
        s.value <= offset &&
        offset < s.value + Math.max(s.size, 1),
    );

  const functions: (CompiledFunction & {
    declTags?: string[];
    paramDeclTags?: (string[] | undefined)[];
  })[] = [];
  for (const t of btf.types) {
    if (t.kind !== BTF_KIND_FUNC || t.linkage === BTF_FUNC_EXTERN) continue;
    const prog = programs.find((p) => p.name === t.name);
    const decl = functionsByName.get(t.name);
    if (!prog || !decl) throw new Error(`function '${t.name}' not found`);
    const relocs: InsnReloc[] = [];
    for (const r of prog.relocations) {
      if (r.kind === "map")
        relocs.push({ kind: "map", insn: r.insn, symbol: obj.maps[r.map]!.name });
      else if (r.kind === "call") relocs.push({ kind: "call", insn: r.insn, symbol: r.subprogram });
      else if (r.kind === "subprog_addr")
        relocs.push({ kind: "func_addr", insn: r.insn, symbol: r.subprogram });
      else {
        const sym = elf.symbols.find(
          (s) =>
            s.name === r.symbol ||
            (s.type === STT_SECTION && elf.sections[s.shndx]!.name === r.symbol),
        )!;
        const at = r.offset + (prog.insns[r.insn]!.imm | 0);
        const covering = objectSymbolAt(sym.shndx, at);
        if (covering)
          relocs.push({
            kind: "data",
            insn: r.insn,
            symbol: covering.name,
            addend: at - covering.value,
          });
        else
          relocs.push({
            kind: "data",
            insn: r.insn,
            symbol: privateName(elf.sections[sym.shndx]!.name),
            addend: at,
          });
      }
    }
    // Calls the assembler resolved (static functions of the same section) have no relocation.
    prog.insns.forEach((insn, i) => {
      if (insn.code !== (BPF_JMP | BPF_CALL) || insn.src !== BPF_PSEUDO_CALL) return;
      if (prog.relocations.some((r) => r.insn === i)) return;
      const slot = prog.sectionInsnOffset + i + 1 + insn.imm;
      const callee = programs.find(
        (p) =>
          p.sectionIndex === prog.sectionIndex &&
          slot >= p.sectionInsnOffset &&
          slot < p.sectionInsnOffset + p.insns.length,
      )!;
      relocs.push({ kind: "call", insn: i, symbol: callee.name });
    });
    const lines: LineMark[] = prog.lineInfo.map((l) => ({
      insn: l.insn,
      pos: { file: l.fileName, line: l.line, col: l.column },
    }));
    const coreRelos = prog.coreRelos.map((c) => ({
      insn: c.insn,
      type: ctypeOfBtf(btf.types[c.typeId]!.name, sema.records),
      access: c.accessStr,
      kind: c.kind,
    }));
    const loc = diagnosticLoc(decl.loc);
    functions.push({
      declTags: declTags(decl.attributes),
      paramDeclTags: decl.params.map((p) => declTags(p.attributes)),
      name: prog.name,
      section: prog.sectionName,
      global: prog.global,
      type: decl.type,
      paramNames: decl.params.map((p) => p.name),
      insns: prog.insns,
      relocs,
      lines,
      coreRelos,
      stackSize: 0,
      pos: { file: loc.file, line: loc.line, col: loc.col },
    });
  }

  const globals: (CompiledGlobal & { declTags?: string[] })[] = [];
  const relocsIn = (section: number) =>
    elf.relocations.find((t) => t.target.index === section)?.entries ?? [];
  for (const t of btf.types) {
    if (t.kind !== BTF_KIND_VAR || t.linkage === BTF_VAR_GLOBAL_EXTERN) continue;
    const sym = elf.symbols.find((s) => s.name === t.name && s.type === STT_OBJECT);
    const decl = varsByName.get(t.name);
    if (!sym || !decl) throw new Error(`global '${t.name}' not found`);
    const section = elf.sections[sym.shndx]!;
    const bytes =
      section.type === SHT_NOBITS
        ? new Uint8Array(sym.size)
        : section.data.slice(sym.value, sym.value + sym.size);
    const dataRelocs = relocsIn(section.index)
      .filter((r) => r.offset >= sym.value && r.offset < sym.value + sym.size)
      .map((r) => ({
        offset: r.offset - sym.value,
        symbol: elf.symbols[r.symbol]!.name,
        kind: (r.type === R_BPF_64_ABS64 ? "abs64" : "abs32") as "abs64" | "abs32",
      }));
    globals.push({
      declTags: declTags(decl.attributes),
      name: t.name,
      section: section.name,
      global: sym.bind !== STB_LOCAL,
      type: decl.type,
      bytes,
      dataRelocs,
      pos: { file: sourcePath, line: 1, col: 1 },
    });
  }
  // clang's merged string sections hold private `.L` constants: one private global each.
  for (const s of elf.sections) {
    if (!/^\.rodata\.str/.test(s.name)) continue;
    globals.push({
      name: privateName(s.name),
      section: s.name,
      global: false,
      type: arrayOf(charType, s.size) as CType,
      bytes: s.data.slice(),
      dataRelocs: [],
      pos: { file: sourcePath, line: 1, col: 1 },
    });
  }

  const files = new Map<string, string[]>();
  return {
    file: sourcePath,
    functions,
    globals,
    sourceLine(file, line) {
      let lines = files.get(file);
      if (!lines) {
        try {
          lines = readFileSync(file, "utf8").split("\n");
        } catch {
          lines = [];
        }
        files.set(file, lines);
      }
      return lines[line - 1];
    },
  };
}

const privateName = (section: string): string => `.L${section}`;

/** The C record a CO-RE relocation's BTF type names (the fixtures relocate named records). */
function ctypeOfBtf(name: string, records: readonly RecordDecl[]): CType {
  const decl = records.find((r) => r.tag === name && r.complete);
  if (!decl) throw new Error(`CO-RE relocation against '${name}', which is no record here`);
  return decl.type;
}

/** btf_decl_tag names among a declaration's attributes. */
function declTags(attrs: readonly Attribute[]): string[] | undefined {
  const tags = attrs
    .filter((a) => a.name === "btf_decl_tag" && a.args?.[0]?.kind === "StringLiteral")
    .map((a) => (a.args![0] as { value: string }).value);
  return tags.length > 0 ? tags : undefined;
}

export type { BpfProgram };
