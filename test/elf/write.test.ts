// writeElf: clang objects written again read the same (readelf, llvm-objdump, bpftool, our
// reader) and are laid out as clang lays them out; an object built from scratch is accepted by
// every tool.
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  R_BPF_64_32,
  R_BPF_64_64,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
  type ElfFile,
} from "../../runtime/elf/elf.js";
import { readElf } from "../../runtime/elf/read.js";
import { specFromElf, writeElf, type ElfObjectSpec } from "../../runtime/elf/write.js";
import { ElfError } from "../../runtime/elf/elf.js";
import { encodeProgram } from "../../runtime/isa/codec.js";
import { openObject } from "../../runtime/object/open.js";
import {
  FIXTURE_NAMES,
  compileFixture,
  hasBpftool,
  hasClang,
  hasObjdump,
  hasReadelf,
  readBytes,
  run,
  scratchDir,
  skipReason,
} from "../object/tools.js";

/** llvm-objdump output without its first lines (which name the file). */
const disassemble = (path: string): string => {
  const r = run("llvm-objdump", ["-d", "-r", path]);
  expect(r.stderr).toBe("");
  return r.stdout.split("\n").slice(2).join("\n");
};

function expectNoToolWarnings(path: string): void {
  const readelf = run("readelf", ["-a", "-W", path]);
  expect(readelf.stderr).toBe("");
  expect(readelf.status).toBe(0);
  const llvm = run("llvm-readelf", ["-a", path]);
  expect(llvm.stderr).toBe("");
}

const byName = (elf: ElfFile, name: string) => elf.sections.find((s) => s.name === name)!;

describe.skipIf(
  skipReason({
    clang: hasClang,
    readelf: hasReadelf,
    "llvm-objdump": hasObjdump,
    bpftool: hasBpftool,
  }),
)("writeElf on clang objects", () => {
  it.each(FIXTURE_NAMES)("%s: rewritten object reads the same", (name) => {
    const path = compileFixture(name);
    const original = readElf(readBytes(path), `${name}.bpf.o`);
    const out = join(scratchDir(), `${name}.rewritten.o`);
    writeFileSync(out, writeElf(specFromElf(original)));

    expectNoToolWarnings(out);
    expect(disassemble(out)).toBe(disassemble(path));
    expect(run("bpftool", ["btf", "dump", "file", out]).stdout).toBe(
      run("bpftool", ["btf", "dump", "file", path]).stdout,
    );

    const again = readElf(readBytes(out), "rewritten.o");
    const kept = original.sections.filter((s) => s.type !== 0x6fff4c03); // .llvm_addrsig is dropped
    expect(again.sections.map((s) => s.name)).toEqual(kept.map((s) => s.name));
    for (const s of kept) {
      // Rebuilt: names move in the new string table (which has no ".llvm_addrsig").
      if (s.name === ".strtab" || s.name === ".symtab") continue;
      const t = byName(again, s.name);
      expect([t.type, t.flags, t.addralign, t.entsize, t.size], s.name).toEqual([
        s.type,
        s.flags,
        s.addralign,
        s.entsize,
        s.size,
      ]);
      expect(Buffer.from(t.data).equals(Buffer.from(s.data)), s.name).toBe(true);
    }
    const symbol = (e: ElfFile, i: number) => {
      const { nameOffset: _n, ...rest } = e.symbols[i]!;
      return rest;
    };
    expect(again.symbols.map((_, i) => symbol(again, i))).toEqual(
      original.symbols.map((_, i) => symbol(original, i)),
    );
    const rels = (e: ElfFile) =>
      e.relocations.map((t) => [
        t.section.name,
        t.target.name,
        t.entries.map((r) => [r.offset, r.type, e.symbols[r.symbol]!.name]),
      ]);
    expect(rels(again)).toEqual(rels(original));
  });

  it.each(FIXTURE_NAMES)("%s: laid out at clang's offsets", (name) => {
    const path = compileFixture(name);
    const original = readElf(readBytes(path), `${name}.bpf.o`);
    const again = readElf(writeElf(specFromElf(original)), "rewritten.o");
    // Everything clang places before .llvm_addrsig and .strtab lands at the same file offset.
    for (const s of original.sections) {
      if (s.index === 0 || s.name === ".strtab" || s.type === 0x6fff4c03) continue;
      const t = byName(again, s.name);
      expect(t.offset, s.name).toBe(s.offset);
      expect(t.flags, s.name).toBe(s.flags);
      if (s.type === 9)
        expect(again.sections[t.info]!.name, s.name).toBe(original.sections[s.info]!.name);
    }
    expect(again.symtab!.info).toBe(original.symtab!.info);
    expect(again.sections[1]!.name).toBe(".strtab");
    expect(again.sections[again.sections.length - 1]!.name).toBe(".symtab");
  });
});

// --- from scratch ---------------------------------------------------------------------------

/** Two programs, a .text subprogram called from both, a legacy map and a global. */
function scratchSpec(): ElfObjectSpec {
  const lddw = (dst: number) => [
    { code: 0x18, dst, src: 0, off: 0, imm: 0 },
    { code: 0, dst: 0, src: 0, off: 0, imm: 0 },
  ];
  const mov = (dst: number, imm: number) => ({ code: 0xb7, dst, src: 0, off: 0, imm });
  const call = (imm: number, src = 0) => ({ code: 0x85, dst: 0, src, off: 0, imm });
  const exit = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
  const text = encodeProgram([mov(0, 7), exit]);
  const prog = encodeProgram([...lddw(1), call(-1, 1), ...lddw(2), mov(0, 0), exit]);
  const map = new Uint8Array(20);
  new DataView(map.buffer).setUint32(0, 2, true); // BPF_MAP_TYPE_ARRAY
  new DataView(map.buffer).setUint32(4, 4, true);
  new DataView(map.buffer).setUint32(8, 8, true);
  new DataView(map.buffer).setUint32(12, 16, true);
  return {
    sections: [
      {
        name: ".text",
        type: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_EXECINSTR,
        data: text,
        addralign: 8,
      },
      {
        name: "kprobe/do_nanosleep",
        type: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_EXECINSTR,
        data: prog,
        addralign: 8,
        relocations: [
          { offset: 0, type: R_BPF_64_64, symbol: 3 },
          { offset: 16, type: R_BPF_64_32, symbol: 0 },
          { offset: 24, type: R_BPF_64_64, symbol: 4 },
        ],
      },
      { name: "maps", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, data: map, addralign: 4 },
      { name: ".bss", type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE, size: 8, addralign: 8 },
      {
        name: "license",
        type: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_WRITE,
        data: new TextEncoder().encode("GPL\0"),
        addralign: 1,
      },
    ],
    // Deliberately globals first: the writer must put locals first and set sh_info.
    symbols: [
      { name: "", value: 0, size: 0, type: STT_SECTION, bind: STB_LOCAL, section: 0 },
      {
        name: "on_sleep",
        value: 0,
        size: prog.length,
        type: STT_FUNC,
        bind: STB_GLOBAL,
        section: 1,
      },
      { name: "seven", value: 0, size: text.length, type: STT_FUNC, bind: STB_LOCAL, section: 0 },
      { name: "my_map", value: 0, size: 20, type: STT_OBJECT, bind: STB_GLOBAL, section: 2 },
      { name: "total", value: 0, size: 8, type: STT_OBJECT, bind: STB_GLOBAL, section: 3 },
      { name: "_license", value: 0, size: 4, type: STT_OBJECT, bind: STB_GLOBAL, section: 4 },
    ],
  };
}

describe.skipIf(skipReason({ readelf: hasReadelf, "llvm-objdump": hasObjdump }))(
  "writeElf from scratch",
  () => {
    it("is read by readelf and llvm-objdump without warnings", () => {
      const out = join(scratchDir(), "scratch.o");
      writeFileSync(out, writeElf(scratchSpec()));
      expectNoToolWarnings(out);
      const text = disassemble(out);
      expect(text).toContain("<on_sleep>:");
      expect(text).toMatch(/R_BPF_64_64\s+my_map/);
      expect(text).toMatch(/R_BPF_64_32\s+\.text/);
      expect(text).toMatch(/R_BPF_64_64\s+total/);
      const symbols = run("readelf", ["-s", "-W", out]).stdout;
      expect(symbols).toMatch(/1: 0+\s+0 SECTION LOCAL\s+DEFAULT\s+2 \.text/);
      expect(symbols).toMatch(/2: 0+\s+16 FUNC\s+LOCAL\s+DEFAULT\s+2 seven/);
      expect(symbols).toMatch(/3: 0+\s+56 FUNC\s+GLOBAL DEFAULT\s+3 on_sleep/);
      expect(run("readelf", ["-S", "-W", out]).stdout).toMatch(
        /\.symtab\s+SYMTAB\s+\S+\s+\S+\s+\S+\s+18\s+1\s+3\s+8/,
      );
    });

    it("opens as a BPF object", () => {
      const object = openObject(writeElf(scratchSpec()), "scratch.o");
      expect(object.license).toBe("GPL");
      expect(
        object.maps.map((m) => [m.name, m.type, m.keySize, m.valueSize, m.maxEntries]),
      ).toEqual([
        ["my_map", 2, 4, 8, 16],
        ["scratch.bss", 2, 4, 8, 1],
      ]);
      const prog = object.programs[0]!;
      expect(prog.name).toBe("on_sleep");
      expect(prog.relocations).toEqual([
        { kind: "map", insn: 0, symbol: "my_map", map: 0 },
        { kind: "call", insn: 2, symbol: ".text", target: 0, subprogram: "seven" },
        { kind: "data", insn: 3, symbol: "total", map: 1, offset: 0 },
      ]);
    });

    it("refuses an inconsistent spec", () => {
      const spec = scratchSpec();
      spec.sections[1]!.relocations![0]!.symbol = 99;
      expect(() => writeElf(spec)).toThrow(ElfError);
      const spec2 = scratchSpec();
      spec2.sections[0]!.addralign = 3;
      expect(() => writeElf(spec2)).toThrow(/alignment 3 is not a power of two/);
    });
  },
);
