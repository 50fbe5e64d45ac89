// The writer on hand-built units: what it does with externs, private constants, static and
// global symbols, and the EmitError (naming the unit, function, instruction or global) for a
// unit that cannot be written.
import { describe, expect, it } from "vitest";
import { emitObject, EmitError } from "../../compiler/emit.js";
import type { CompiledFunction, CompiledGlobal, CompiledUnit } from "../../compiler/unit.js";
import {
  arrayOf,
  charType,
  functionType,
  intType,
  pointerTo,
  ulonglongType,
  voidType,
} from "../../compiler/types.js";
import { readElf } from "../../runtime/elf/read.js";
import { openObject } from "../../runtime/object/open.js";
import { dumpBtf } from "../../runtime/btf/dump.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import {
  BPF_CALL_HELPER,
  BPF_CALL_REL,
  BPF_EXIT_INSN,
  BPF_LD_IMM64,
  BPF_MOV64_IMM,
} from "../../runtime/isa/build.js";
import type { Insn } from "../../runtime/isa/insn.js";
import {
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS32,
  R_BPF_64_NODYLD32,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  SHN_UNDEF,
} from "../../runtime/elf/elf.js";

const pos = { file: "t.bpf.c", line: 1, col: 1 };
const progType = functionType(intType, [{ name: "ctx", type: pointerTo(voidType) }], false);

function fn(name: string, insns: Insn[], extra: Partial<CompiledFunction> = {}): CompiledFunction {
  return {
    name,
    section: "kprobe/f",
    global: true,
    type: progType,
    paramNames: ["ctx"],
    insns,
    relocs: [],
    lines: [],
    coreRelos: [],
    stackSize: 0,
    pos,
    ...extra,
  };
}

function global(
  name: string,
  section: string,
  bytes: number[],
  extra: Partial<CompiledGlobal> = {},
): CompiledGlobal {
  return {
    name,
    section,
    global: true,
    type: arrayOf(charType, bytes.length),
    bytes: Uint8Array.from(bytes),
    dataRelocs: [],
    pos,
    ...extra,
  };
}

function unit(functions: CompiledFunction[], globals: CompiledGlobal[]): CompiledUnit {
  return { file: "t.bpf.c", functions, globals, sourceLine: () => "int x;" };
}

const license = global("LICENSE", "license", [71, 80, 76, 0]);

describe("the writer on hand-built units", () => {
  it("relocates a private string, a static global and an extern as clang's assembler does", () => {
    const insns = [
      ...BPF_LD_IMM64(1, 0, 0), // .L.str + 2
      ...BPF_LD_IMM64(2, 0, 0), // counter (static)
      ...BPF_LD_IMM64(3, 0, 0), // CONFIG_X (extern, weak)
      BPF_MOV64_IMM(0, 0),
      BPF_EXIT_INSN(),
    ];
    const u = unit(
      [
        fn("prog", insns, {
          relocs: [
            { kind: "data", insn: 0, symbol: ".L.str", addend: 2 },
            { kind: "data", insn: 2, symbol: "counter", addend: 4 },
            { kind: "data", insn: 4, symbol: "CONFIG_X", addend: 0 },
          ],
        }),
      ],
      [
        global(".L.str", ".rodata.str1.1", [104, 105, 0]),
        global("pad", ".bss", [0, 0, 0, 0]),
        global("counter", ".bss", [0, 0, 0, 0, 0, 0, 0, 0], { global: false, type: ulonglongType }),
        global("CONFIG_X", ".kconfig", [], {
          type: ulonglongType,
          external: { weak: true, section: ".kconfig" },
        }),
        license,
      ],
    );
    const bytes = emitObject(u);
    const elf = readElf(bytes, "t.o");
    const text = elf.sections.find((s) => s.name === "kprobe/f")!;
    const rel = elf.relocations.find((t) => t.target === text)!.entries;
    const names = rel.map((r) => {
      const sym = elf.symbols[r.symbol]!;
      return sym.name || elf.sections[sym.shndx]!.name;
    });
    expect(names).toEqual([".rodata.str1.1", ".bss", "CONFIG_X"]);
    expect(rel.every((r) => r.type === R_BPF_64_64)).toBe(true);
    const imm = (slot: number) =>
      new DataView(text.data.buffer, text.data.byteOffset).getInt32(slot * 8 + 4, true);
    expect([imm(0), imm(2), imm(4)]).toEqual([2, 12, 0]); // counter sits at 8, after pad; + 4
    expect(elf.symbols.some((s) => s.name === ".L.str")).toBe(false);
    const ext = elf.symbols.find((s) => s.name === "CONFIG_X")!;
    expect([ext.shndx, ext.bind]).toEqual([SHN_UNDEF, STB_WEAK]);
    expect(elf.symbols.find((s) => s.name === "counter")!.bind).toBe(STB_LOCAL);
    expect(elf.sections.find((s) => s.name === ".rodata.str1.1")!.entsize).toBe(1);
    const btf = parseBtf(elf.sections.find((s) => s.name === ".BTF")!.data);
    const dump = dumpBtf(btf);
    expect(dump).toContain("VAR 'CONFIG_X' type_id=");
    expect(dump).toContain("linkage=extern");
    expect(dump).toMatch(/DATASEC '\.kconfig'/);
    expect(dump).not.toMatch(/\.rodata\.str/);
    // DATASEC offsets: .bss is writable (NODYLD32 against the section for the static counter),
    // the extern is undefined (ABS32 against its symbol).
    const btfRel = elf.relocations.find((t) => t.target.name === ".BTF")!.entries;
    const described = btfRel.map(
      (r) =>
        `${r.type} ${elf.symbols[r.symbol]!.name || elf.sections[elf.symbols[r.symbol]!.shndx]!.name}`,
    );
    expect(described).toContain(`${R_BPF_64_NODYLD32} .bss`);
    expect(described).toContain(`${R_BPF_64_ABS32} CONFIG_X`);
  });

  it("resolves a call to a static function of the same section and relocates the others", () => {
    const callee = (name: string, global: boolean) =>
      fn(name, [BPF_MOV64_IMM(0, 1), BPF_EXIT_INSN()], {
        global,
        section: ".text",
        paramNames: [],
        type: functionType(intType, [], false),
      });
    const calls = (name: string, section: string) =>
      fn(name, [BPF_CALL_REL(0), BPF_CALL_REL(0), BPF_EXIT_INSN()], {
        section,
        relocs: [
          { kind: "call", insn: 0, symbol: "text_static" },
          { kind: "call", insn: 1, symbol: "text_global" },
        ],
      });
    const u = unit(
      [
        calls("entry", ".text"),
        callee("text_static", false),
        callee("text_global", true),
        calls("prog", "kprobe/f"),
      ],
      [license],
    );
    const bytes = emitObject(u);
    const elf = readElf(bytes, "t.o");
    const imm = (name: string, slot: number) => {
      const sec = elf.sections.find((s) => s.name === name)!;
      return new DataView(sec.data.buffer, sec.data.byteOffset).getInt32(slot * 8 + 4, true);
    };
    // .text: entry (0-2), text_static (3-4), text_global (5-6)
    expect(imm(".text", 0)).toBe(3 - 1); // resolved: no relocation
    expect(imm(".text", 1)).toBe(-1); // against text_global itself
    expect(imm("kprobe/f", 0)).toBe(3 - 1); // against the .text section symbol, offset in imm
    expect(imm("kprobe/f", 1)).toBe(-1);
    const relocs = (name: string) =>
      elf.relocations
        .find((t) => t.target.name === name)!
        .entries.map((r) => `${r.offset} ${r.type} ${elf.symbols[r.symbol]!.name || "section"}`);
    expect(relocs(".text")).toEqual([`8 ${R_BPF_64_32} text_global`]);
    expect(relocs("kprobe/f")).toEqual([
      `0 ${R_BPF_64_32} section`,
      `8 ${R_BPF_64_32} text_global`,
    ]);
    expect(elf.symbols.find((s) => s.name === "text_global")!.bind).toBe(STB_GLOBAL);
    expect(elf.symbols.find((s) => s.name === "text_static")!.bind).toBe(STB_LOCAL);
    const obj = openObject(bytes, "t.o");
    const prog = obj.programs.find((p) => p.name === "prog")!;
    expect(
      prog.relocations.map((r) => (r.kind === "call" ? `${r.subprogram}@${r.target}` : r.kind)),
    ).toEqual(["text_static@3", "text_global@5"]);
  });

  it("calls a kfunc (an extern of function type) as clang does", () => {
    const kfuncType = functionType(intType, [{ name: "a", type: intType }], false);
    const u = unit(
      [
        fn("prog", [BPF_CALL_REL(0), ...BPF_LD_IMM64(1, 0, 0), BPF_EXIT_INSN()], {
          relocs: [
            { kind: "call", insn: 0, symbol: "bpf_kfunc" },
            { kind: "func_addr", insn: 1, symbol: "maybe_kfunc" },
          ],
        }),
      ],
      [
        global("bpf_kfunc", ".ksyms", [], {
          type: kfuncType,
          external: { weak: false, section: ".ksyms" },
        }),
        global("maybe_kfunc", ".ksyms", [], {
          type: kfuncType,
          external: { weak: true, section: ".ksyms" },
        }),
        license,
      ],
    );
    const elf = readElf(emitObject(u), "t.o");
    const sec = elf.sections.find((s) => s.name === "kprobe/f")!;
    const view = new DataView(sec.data.buffer, sec.data.byteOffset);
    expect([sec.data[1]! >> 4, view.getInt32(4, true)]).toEqual([1, -1]); // call -1, src_reg 1
    const rel = elf.relocations.find((t) => t.target === sec)!.entries;
    expect(rel.map((r) => `${r.type} ${elf.symbols[r.symbol]!.name}`)).toEqual([
      `${R_BPF_64_32} bpf_kfunc`,
      `${R_BPF_64_64} maybe_kfunc`,
    ]);
    const sym = elf.symbols.find((s) => s.name === "maybe_kfunc")!;
    expect([sym.shndx, sym.bind]).toEqual([SHN_UNDEF, STB_WEAK]);
    const dump = dumpBtf(parseBtf(elf.sections.find((s) => s.name === ".BTF")!.data));
    expect(dump).toMatch(/FUNC 'bpf_kfunc' type_id=\d+ linkage=extern/);
    expect(dump).toMatch(
      /DATASEC '\.ksyms' size=0 vlen=2\n\ttype_id=\d+ offset=0 size=0 \(FUNC 'bpf_kfunc'\)/,
    );
  });

  it.each([
    [
      "a relocation against an unknown symbol",
      unit(
        [
          fn("prog", [...BPF_LD_IMM64(1, 0, 0), BPF_EXIT_INSN()], {
            relocs: [{ kind: "map", insn: 0, symbol: "nope" }],
          }),
        ],
        [],
      ),
      "t.bpf.c: function 'prog' insn 0: reference to unknown symbol 'nope'",
    ],
    [
      "a map relocation on a call",
      unit(
        [
          fn("prog", [BPF_CALL_HELPER(1), BPF_EXIT_INSN()], {
            relocs: [{ kind: "map", insn: 0, symbol: "m" }],
          }),
        ],
        [global("m", ".maps", [0, 0, 0, 0, 0, 0, 0, 0])],
      ),
      "t.bpf.c: function 'prog' insn 0: map relocation on a non-lddw instruction (code 0x85)",
    ],
    [
      "a call relocation past the end",
      unit(
        [fn("prog", [BPF_EXIT_INSN()], { relocs: [{ kind: "call", insn: 3, symbol: "prog" }] })],
        [],
      ),
      "t.bpf.c: function 'prog' insn 3: relocation past the end of the function",
    ],
    [
      "a call to a variable",
      unit(
        [
          fn("prog", [BPF_CALL_REL(0), BPF_EXIT_INSN()], {
            relocs: [{ kind: "call", insn: 0, symbol: "v" }],
          }),
        ],
        [global("v", ".data", [1, 0, 0, 0])],
      ),
      "t.bpf.c: function 'prog' insn 0: call to 'v', which is not a function",
    ],
    [
      "a symbol defined twice",
      unit([fn("x", [BPF_EXIT_INSN()])], [global("x", ".data", [1])]),
      "t.bpf.c: symbol 'x' defined twice",
    ],
    [
      "initial data in .bss",
      unit([], [global("b", ".bss", [1])]),
      "t.bpf.c: global 'b' in .bss has initial data",
    ],
    [
      "a data relocation outside its variable",
      unit(
        [],
        [
          global("p", ".data", [0, 0, 0, 0], {
            dataRelocs: [{ offset: 0, symbol: "p", kind: "abs64" }],
          }),
        ],
      ),
      "t.bpf.c: global 'p' offset 0: relocation outside the variable",
    ],
  ])("refuses %s with an EmitError naming it", (_, u, message) => {
    expect(() => emitObject(u)).toThrow(EmitError);
    expect(() => emitObject(u)).toThrow(message);
  });
});
