// The object writer against clang: clang's instructions, relocations and line info, with our
// front end's C types, written by compiler/emit.ts, must give the object clang wrote — the
// same `bpftool btf dump`, the same `llvm-objdump -d -r`, the same .BTF/.BTF.ext relocations,
// func_info and line_info, the same sections and symbols (debug info aside) — and readelf and
// llvm-objdump read it without a warning.
import { describe, expect, it, afterAll } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitObject } from "../../compiler/emit.js";
import { openObject } from "../../runtime/object/open.js";
import { unitFromClang } from "./from-clang.js";
import {
  clangCompile,
  hasBpftool,
  hasClang,
  hasObjdump,
  hasReadelf,
  run,
  runClean,
  skipReason,
  tempDir,
} from "./tools.js";

const here = dirname(fileURLToPath(import.meta.url));
const objectFixtures = join(here, "..", "object", "fixtures");
const SOURCES = [
  ...readdirSync(join(here, "programs"))
    .filter((f) => f.endsWith(".c"))
    .map((f) => join(here, "programs", f)),
  ...readdirSync(objectFixtures)
    .filter((f) => f.endsWith(".bpf.c"))
    .map((f) => join(objectFixtures, f)),
].sort();

const tmp = tempDir("tsbpf-emit-");
afterAll(() => tmp.remove());

/** clang's object and ours for one source. */
function both(source: string): { clang: string; ours: string } {
  const name = basename(source).replace(/\.c$/, "");
  const clang = clangCompile(source, join(tmp.dir, `${name}.clang.o`));
  const unit = unitFromClang(clang, source);
  const ours = join(tmp.dir, `${name}.ours.o`);
  writeFileSync(ours, emitObject(unit, { debugLines: true }));
  return { clang, ours };
}

const cache = new Map<string, { clang: string; ours: string }>();
const objects = (source: string) => {
  let o = cache.get(source);
  if (!o) cache.set(source, (o = both(source)));
  return o;
};

/** objdump output without the file name line. */
const disassembly = (path: string): string =>
  runClean("llvm-objdump", ["-d", "-r", path]).split("\n").slice(2).join("\n");

/** readelf -r of one relocation section, without the offset of the section and symbol indexes. */
function relocations(path: string, section: string): string[] {
  const out = runClean("readelf", ["-rW", path]);
  const start = out.indexOf(`Relocation section '${section}'`);
  if (start < 0) return [];
  const block = out.slice(start).split("\n\n")[0]!.split("\n").slice(2);
  return block
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const f = l.trim().split(/\s+/);
      return `${f[0]} ${f[2]} ${f[3]} ${f[4] ?? ""}`;
    });
}

/**
 * Sections other than DWARF and address-significance tables (name, type, flags, size, align)
 * as a sorted set: data sections come in the order of their first global, which follows
 * clang's emission order in clang and the unit's order in ours. .symtab and .strtab sizes
 * differ by clang's DWARF section symbols.
 */
function sections(path: string): string[] {
  const elf = openObject(new Uint8Array(readFileSync(path)), path).elf;
  return elf.sections
    .filter((s) => !/^(\.rel)?\.debug|^\.llvm_addrsig/.test(s.name))
    .map((s) =>
      s.name === ".symtab" || s.name === ".strtab"
        ? s.name
        : `${s.name} type=${s.type} flags=${s.flags} size=${s.size} align=${s.addralign} entsize=${s.entsize}`,
    )
    .sort();
}

/** Symbols other than DWARF section symbols, as a sorted set. */
function symbolSet(path: string): string[] {
  const elf = openObject(new Uint8Array(readFileSync(path)), path).elf;
  return elf.symbols
    .slice(1)
    .map((s) => {
      const section = s.shndx > 0 && s.shndx < 0xff00 ? elf.sections[s.shndx]!.name : `#${s.shndx}`;
      return `${s.name || section} type=${s.type} bind=${s.bind} ${section} value=${s.value} size=${s.size}`;
    })
    .filter((s) => !/\.debug|\.llvm_addrsig/.test(s))
    .sort();
}

/**
 * func_info, line_info and CO-RE relocations of each program. clang starts a new line_info
 * record where the location's scope changes even if line and column do not (a macro's
 * inlined helper); a unit's line marks carry no scope, so ours merge such neighbours: the
 * comparison merges them on both sides.
 */
function extRecords(path: string) {
  const obj = openObject(new Uint8Array(readFileSync(path)), path);
  return [...obj.programs, ...obj.subprograms].map((p) => ({
    name: p.name,
    funcInfo: p.funcInfo.map((f) => `${f.insn} ${obj.btf!.types[f.typeId]!.name}`),
    lineInfo: p.lineInfo
      .filter((l, i, all) => i === 0 || !samePlace(l, all[i - 1]!))
      .map((l) => `${l.insn} ${l.fileName}:${l.line}:${l.column} ${l.source}`),
    coreRelos: p.coreRelos.map(
      (c) => `${c.insn} ${obj.btf!.types[c.typeId]!.name} ${c.accessStr} ${c.kind}`,
    ),
  }));
}

const samePlace = (a: { fileName: string; line: number; column: number }, b: typeof a): boolean =>
  a.fileName === b.fileName && a.line === b.line && a.column === b.column;

/** Whether clang wrote two neighbouring line_info records for one place (see extRecords). */
function hasRepeatedPlaces(path: string): boolean {
  const obj = openObject(new Uint8Array(readFileSync(path)), path);
  return [...obj.programs, ...obj.subprograms].some((p) =>
    p.lineInfo.some((l, i, all) => i > 0 && samePlace(l, all[i - 1]!)),
  );
}

describe.skipIf(skipReason({ clang: hasClang, readelf: hasReadelf, "llvm-objdump": hasObjdump }))(
  "objects written from clang's code",
  () => {
    it.each(SOURCES.map((s) => [basename(s), s]))(
      "%s: readelf and llvm-objdump read it cleanly",
      (_, source) => {
        const { ours } = objects(source);
        runClean("readelf", ["-a", "-W", ours]);
        runClean("llvm-objdump", ["-d", "-r", "-t", ours]);
      },
    );

    it.each(SOURCES.map((s) => [basename(s), s]))(
      "%s: same disassembly and relocations",
      (_, source) => {
        const { clang, ours } = objects(source);
        expect(disassembly(ours)).toBe(disassembly(clang));
      },
    );

    it.each(SOURCES.map((s) => [basename(s), s]))("%s: same sections and symbols", (_, source) => {
      const { clang, ours } = objects(source);
      // With merged line_info records (see extRecords) .BTF.ext is shorter by those records.
      const merged = hasRepeatedPlaces(clang);
      const sizesOf = (path: string) =>
        sections(path).map((s) =>
          merged && /^(\.rel)?\.BTF\.ext /.test(s) ? s.split(" ")[0]! : s,
        );
      expect(sizesOf(ours)).toEqual(sizesOf(clang));
      expect(symbolSet(ours)).toEqual(symbolSet(clang));
      for (const rel of [
        ".rel.BTF",
        ...(merged ? [] : [".rel.BTF.ext"]),
        ".rel.maps",
        ".rel.text",
      ]) {
        expect(relocations(ours, rel), rel).toEqual(relocations(clang, rel));
      }
    });

    it.each(SOURCES.map((s) => [basename(s), s]))(
      "%s: same func_info and line_info",
      (_, source) => {
        const { clang, ours } = objects(source);
        expect(extRecords(ours)).toEqual(extRecords(clang));
      },
    );
  },
);

describe.skipIf(skipReason({ clang: hasClang, bpftool: hasBpftool }))("BTF against clang", () => {
  it.each(SOURCES.map((s) => [basename(s), s]))("%s: bpftool btf dump is clang's", (_, source) => {
    const { clang, ours } = objects(source);
    const dump = (path: string) => run("bpftool", ["btf", "dump", "file", path]);
    const theirs = dump(clang);
    const mine = dump(ours);
    expect(mine.stderr).toBe("");
    expect(mine.stdout).toBe(theirs.stdout);
  });
});
