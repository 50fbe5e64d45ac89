// readElf against binutils readelf on objects clang builds, and its errors on malformed input.
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { ElfError, SHN_ABS, SHN_COMMON, SHN_UNDEF, type ElfFile } from "../../runtime/elf/elf.js";
import { readElf } from "../../runtime/elf/read.js";
import { TsbpfError } from "../../runtime/error.js";
import {
  FIXTURE_NAMES,
  compileFixture,
  hasClang,
  hasReadelf,
  readBytes,
  run,
  scratchDir,
  skipReason,
} from "../object/tools.js";

const SECTION_TYPES: Record<number, string> = {
  0: "NULL",
  1: "PROGBITS",
  2: "SYMTAB",
  3: "STRTAB",
  4: "RELA",
  8: "NOBITS",
  9: "REL",
};
const sectionTypeName = (t: number): string =>
  SECTION_TYPES[t] ?? `LOOS+0x${(t - 0x60000000).toString(16)}`;

// readelf's flag letters, in the order it prints them.
const FLAG_LETTERS: [number, string][] = [
  [0x1, "W"],
  [0x2, "A"],
  [0x4, "X"],
  [0x10, "M"],
  [0x20, "S"],
  [0x40, "I"],
  [0x80, "L"],
  [0x100, "O"],
  [0x200, "G"],
  [0x400, "T"],
  [0x800, "C"],
  [0x80000000, "E"],
];
const flagString = (flags: number): string =>
  FLAG_LETTERS.filter(([bit]) => (flags & bit) >>> 0 !== 0)
    .map(([, l]) => l)
    .join("");

function readelfSections(path: string): string[] {
  const out = run("readelf", ["-S", "-W", path]).stdout;
  const rows: string[] = [];
  for (const line of out.split("\n")) {
    const m =
      /^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(
        line,
      );
    if (!m) continue;
    const [, idx, name, type, , off, size, es, flg, lk, inf, al] = m;
    rows.push(
      [
        idx,
        name,
        type,
        parseInt(off!, 16),
        parseInt(size!, 16),
        parseInt(es!, 16),
        flg,
        lk,
        inf,
        al,
      ].join(" "),
    );
  }
  return rows;
}

function ourSections(elf: ElfFile): string[] {
  return elf.sections
    .filter((s) => s.index > 0)
    .map((s) =>
      [
        s.index,
        s.name,
        sectionTypeName(s.type),
        s.offset,
        s.size,
        s.entsize,
        flagString(s.flags),
        s.link,
        s.info,
        s.addralign,
      ].join(" "),
    );
}

const STT = ["NOTYPE", "OBJECT", "FUNC", "SECTION", "FILE"];
const STB = ["LOCAL", "GLOBAL", "WEAK"];
const STV = ["DEFAULT", "INTERNAL", "HIDDEN", "PROTECTED"];
const ndx = (shndx: number): string =>
  shndx === SHN_UNDEF
    ? "UND"
    : shndx === SHN_ABS
      ? "ABS"
      : shndx === SHN_COMMON
        ? "COM"
        : String(shndx);

function readelfSymbols(path: string): string[] {
  const out = run("readelf", ["-s", "-W", path]).stdout;
  const rows: string[] = [];
  for (const line of out.split("\n")) {
    const m =
      /^\s*(\d+):\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s?(.*)$/.exec(
        line,
      );
    if (!m) continue;
    const [, num, value, size, type, bind, vis, shndx, name] = m;
    rows.push([num, parseInt(value!, 16), Number(size), type, bind, vis, shndx, name].join(" "));
  }
  return rows;
}

// readelf shows a section symbol by its section's name.
const displayName = (elf: ElfFile, s: ElfFile["symbols"][number]): string =>
  s.type === 3 && s.name === "" ? elf.sections[s.shndx]!.name : s.name;

const ourSymbols = (elf: ElfFile): string[] =>
  elf.symbols.map((s) =>
    [
      s.index,
      s.value,
      s.size,
      STT[s.type],
      STB[s.bind],
      STV[s.visibility],
      ndx(s.shndx),
      displayName(elf, s),
    ].join(" "),
  );

function readelfRelocations(path: string): string[] {
  const out = run("readelf", ["-r", "-W", path]).stdout;
  const rows: string[] = [];
  let section = "";
  for (const line of out.split("\n")) {
    const head = /^Relocation section '(.+)' at offset/.exec(line);
    if (head) section = head[1]!;
    const m = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+\S+/.exec(line);
    if (!m) continue;
    const info = m[2]!;
    rows.push(
      [
        section,
        parseInt(m[1]!, 16),
        parseInt(info.slice(0, 8), 16),
        parseInt(info.slice(8), 16),
      ].join(" "),
    );
  }
  return rows;
}

const ourRelocations = (elf: ElfFile): string[] =>
  elf.relocations.flatMap((t) =>
    t.entries.map((r) => [t.section.name, r.offset, r.symbol, r.type].join(" ")),
  );

describe.skipIf(skipReason({ clang: hasClang, readelf: hasReadelf }))(
  "readElf vs readelf on clang objects",
  () => {
    it.each(FIXTURE_NAMES)("%s: sections, symbols and relocations", (name) => {
      const path = compileFixture(name);
      const elf = readElf(readBytes(path), `${name}.bpf.o`);
      expect(ourSections(elf)).toEqual(readelfSections(path));
      expect(ourSymbols(elf)).toEqual(readelfSymbols(path));
      const rels = ourRelocations(elf);
      expect(rels.length).toBeGreaterThan(0);
      expect(rels).toEqual(readelfRelocations(path));
    });
  },
);

// --- malformed input ------------------------------------------------------------------------

/** A clang object to break, with helpers to patch its header fields. */
function victim(): { bytes: Uint8Array; view: DataView; elf: ElfFile } {
  const bytes = readBytes(compileFixture("legacy"));
  return { bytes, view: new DataView(bytes.buffer), elf: readElf(bytes, "legacy.bpf.o") };
}

const shdr = (elf: ElfFile, index: number): number =>
  Number(new DataView(elf.bytes.buffer).getUint32(40, true)) + index * 64;
const sectionIndex = (elf: ElfFile, name: string): number =>
  elf.sections.find((s) => s.name === name)!.index;

function expectElfError(bytes: Uint8Array, pattern: RegExp): void {
  let error: unknown;
  try {
    readElf(bytes, "bad.o");
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ElfError);
  expect(error).toBeInstanceOf(TsbpfError);
  expect((error as Error).message).toMatch(/^bad\.o: /);
  expect((error as Error).message).toMatch(pattern);
}

type Breaker = (v: ReturnType<typeof victim>) => Uint8Array;

const cases: [string, Breaker, RegExp][] = [
  ["empty file", () => new Uint8Array(0), /ELF header: file is 0 bytes, too short/],
  ["truncated header", (v) => v.bytes.slice(0, 63), /too short for the 64-byte header/],
  ["bad magic", (v) => ((v.bytes[1] = 0x46), v.bytes), /bad magic/],
  ["32-bit class", (v) => ((v.bytes[4] = 1), v.bytes), /class 1 is not ELFCLASS64/],
  ["big endian", (v) => ((v.bytes[5] = 2), v.bytes), /not little endian/],
  [
    "executable type",
    (v) => (v.view.setUint16(16, 2, true), v.bytes),
    /type 2 is not a relocatable object/,
  ],
  ["x86-64 machine", (v) => (v.view.setUint16(18, 62, true), v.bytes), /machine 62 is not BPF/],
  [
    "truncated file",
    (v) => v.bytes.slice(0, v.bytes.length - 10),
    /section header table .* runs past the end of the file/,
  ],
  [
    "section table past the end",
    (v) => (v.view.setUint32(40, v.bytes.length + 64, true), v.bytes),
    /past the end of the file/,
  ],
  [
    "section data past the end",
    (v) => (
      v.view.setUint32(shdr(v.elf, sectionIndex(v.elf, "maps")) + 32, 0x100000, true),
      v.bytes
    ),
    /section \d+: data \[.*\) runs past the end of the file/,
  ],
  [
    "names index out of range",
    (v) => (v.view.setUint16(62, 200, true), v.bytes),
    /section-name string table index 200 is out of range/,
  ],
  [
    "names table not a string table",
    (v) => (v.view.setUint16(62, sectionIndex(v.elf, ".text") || 2, true), v.bytes),
    /not SHT_STRTAB/,
  ],
  [
    "section name past the table",
    (v) => (v.view.setUint32(shdr(v.elf, 2), 0xffff, true), v.bytes),
    /section 2 name: string offset 65535 is past the end of the table/,
  ],
  [
    "unterminated name",
    (v) => {
      const strtab = v.elf.sections[v.elf.header.shstrndx]!;
      v.bytes.fill(0x41, strtab.offset + strtab.size - 1, strtab.offset + strtab.size);
      return v.bytes;
    },
    /not NUL-terminated/,
  ],
  [
    "symbol entry size",
    (v) => (v.view.setUint32(shdr(v.elf, v.elf.symtab!.index) + 56, 20, true), v.bytes),
    /section \d+ '\.symtab': entry size 20 is not 24/,
  ],
  [
    "symbol string table index",
    (v) => (v.view.setUint32(shdr(v.elf, v.elf.symtab!.index) + 40, 999, true), v.bytes),
    /'\.symtab': string table index 999 \(sh_link\) is out of range/,
  ],
  [
    "symbol section index out of range",
    (v) => (v.view.setUint16(v.elf.symtab!.offset + 3 * 24 + 6, 200, true), v.bytes),
    /symbol 3 .*section index 200 is out of range/,
  ],
  [
    "extended symbol section index",
    (v) => (v.view.setUint16(v.elf.symtab!.offset + 2 * 24 + 6, 0xffff, true), v.bytes),
    /symbol 2 .*SHN_XINDEX/,
  ],
  [
    "function past its section",
    (v) => {
      const fn = v.elf.symbols.find((s) => s.type === 2)!;
      v.view.setUint32(v.elf.symtab!.offset + fn.index * 24 + 16, 0x10000, true);
      return v.bytes;
    },
    /symbol \d+ 'bpf_prog\d': .* runs past the end of section/,
  ],
  [
    "relocation symbol out of range",
    (v) => (v.view.setUint32(v.elf.relocations[0]!.section.offset + 12, 5000, true), v.bytes),
    /'\.relkprobe\/kfree_skb': relocation 0: symbol index 5000 is out of range/,
  ],
  [
    "relocation past its section",
    (v) => (v.view.setUint32(v.elf.relocations[0]!.section.offset, 0x8000, true), v.bytes),
    /relocation 0: R_BPF_64_64 at offset 0x8000 \(16 bytes\) is past the end of section \d+ 'kprobe\/kfree_skb'/,
  ],
  [
    "unknown relocation type",
    (v) => (v.view.setUint32(v.elf.relocations[0]!.section.offset + 8, 7, true), v.bytes),
    /relocation 0: unknown relocation type 7/,
  ],
  [
    "relocation target index",
    (v) => (
      v.view.setUint32(shdr(v.elf, v.elf.relocations[0]!.section.index) + 44, 0, true),
      v.bytes
    ),
    /target section index 0 \(sh_info\) is out of range/,
  ],
  [
    "relocation symbol table link",
    (v) => (
      v.view.setUint32(shdr(v.elf, v.elf.relocations[0]!.section.index) + 40, 2, true),
      v.bytes
    ),
    /symbol table index 2 \(sh_link\) is not the symbol table/,
  ],
  [
    "overlapping sections",
    (v) => {
      const text = v.elf.sections.find((s) => s.name === "kprobe/kfree_skb")!;
      v.view.setUint32(shdr(v.elf, sectionIndex(v.elf, "maps")) + 24, text.offset + 8, true);
      return v.bytes;
    },
    /section \d+ 'maps': file range .* overlaps section \d+ 'kprobe\/kfree_skb'/,
  ],
  [
    "section over the ELF header",
    (v) => (v.view.setUint32(shdr(v.elf, sectionIndex(v.elf, "maps")) + 24, 0, true), v.bytes),
    /the ELF header: file range \[0x0, 0x40\) overlaps section \d+ 'maps'/,
  ],
  [
    "second symbol table",
    (v) => {
      // Any other section whose size is a whole number of symbols can pose as one.
      const s = v.elf.sections.find((x) => x.type === 9 && x.size % 24 === 0)!;
      v.view.setUint32(shdr(v.elf, s.index) + 4, 2, true);
      v.view.setUint32(shdr(v.elf, s.index) + 56, 24, true);
      v.view.setUint32(shdr(v.elf, s.index) + 40, v.elf.symtab!.link, true);
      return v.bytes;
    },
    /a second symbol table/,
  ],
  [
    "alignment not a power of two",
    (v) => (v.view.setUint32(shdr(v.elf, sectionIndex(v.elf, "maps")) + 48, 3, true), v.bytes),
    /section \d+ 'maps': alignment 3 is not a power of two/,
  ],
  [
    "huge offset",
    (v) => (v.view.setUint32(shdr(v.elf, 2) + 28, 0xffffffff, true), v.bytes),
    /sh_offset 0x[0-9a-f]+ is too large/,
  ],
];

describe.skipIf(skipReason({ clang: hasClang }))("readElf errors", () => {
  it.each(cases)("%s", (_what, breakIt, pattern) => {
    expectElfError(breakIt(victim()), pattern);
  });

  it.skipIf(!hasClang)("refuses an x86-64 object from the host compiler", () => {
    const c = join(scratchDir(), "host.c");
    writeFileSync(c, "int f(void) { return 1; }\n");
    const o = join(scratchDir(), "host.o");
    expect(run("clang", ["-c", c, "-o", o]).status).toBe(0);
    expectElfError(readBytes(o), /machine 62 is not BPF \(EM_BPF, 247\)/);
  });
});
