// BTF and BTF.ext: parsed clang BTF prints exactly as bpftool prints it, both sections encode
// back byte for byte, hand-built BTF of every kind is read back by bpftool, .BTF.ext records
// agree with the C sources and symbols, type sizes and member offsets agree with clang.
import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BTF_FUNC_GLOBAL,
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
  BTF_VAR_GLOBAL_ALLOCATED,
  BtfError,
  addBtfType,
  createBtf,
  type Btf,
} from "../../runtime/btf/btf.js";
import { dumpBtf } from "../../runtime/btf/dump.js";
import { encodeBtf } from "../../runtime/btf/encode.js";
import { encodeBtfExt } from "../../runtime/btf/ext-encode.js";
import { parseBtfExt } from "../../runtime/btf/ext-parse.js";
import { lineOf } from "../../runtime/btf/ext.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import {
  btfTypeSize,
  btfTypeToString,
  findBtfType,
  findMember,
  skipModsAndTypedefs,
} from "../../runtime/btf/query.js";
import { SHT_PROGBITS, STT_FUNC, findSection, type ElfFile } from "../../runtime/elf/elf.js";
import { readElf } from "../../runtime/elf/read.js";
import { writeElf } from "../../runtime/elf/write.js";
import { TsbpfError } from "../../runtime/error.js";
import { openObject } from "../../runtime/object/open.js";
import {
  FIXTURES,
  FIXTURE_NAMES,
  compileFixture,
  hasBpftool,
  hasClang,
  readBytes,
  run,
  scratchDir,
  skipReason,
} from "../object/tools.js";

const elfOf = (name: string): ElfFile => readElf(readBytes(compileFixture(name)), `${name}.bpf.o`);
const btfBytes = (elf: ElfFile): Uint8Array => findSection(elf, ".BTF")!.data;
const extBytes = (elf: ElfFile): Uint8Array => findSection(elf, ".BTF.ext")!.data;

describe.skipIf(skipReason({ clang: hasClang, bpftool: hasBpftool }))("clang's BTF", () => {
  it.each(FIXTURE_NAMES)("%s: dump equals `bpftool btf dump file`", (name) => {
    const btf = parseBtf(btfBytes(elfOf(name)));
    const expected = run("bpftool", ["btf", "dump", "file", compileFixture(name)]);
    expect(expected.status).toBe(0);
    expect(dumpBtf(btf)).toBe(expected.stdout);
  });

  it.each(FIXTURE_NAMES)("%s: .BTF and .BTF.ext encode back byte for byte", (name) => {
    const elf = elfOf(name);
    const btf = parseBtf(btfBytes(elf));
    expect(Buffer.from(encodeBtf(btf)).equals(Buffer.from(btfBytes(elf)))).toBe(true);
    const ext = parseBtfExt(extBytes(elf), btf);
    expect(Buffer.from(encodeBtfExt(ext)).equals(Buffer.from(extBytes(elf)))).toBe(true);
  });

  it.each(FIXTURE_NAMES)("%s: line_info names the C source line it points at", (name) => {
    const elf = elfOf(name);
    const btf = parseBtf(btfBytes(elf));
    const ext = parseBtfExt(extBytes(elf), btf);
    const source = readFileSync(join(FIXTURES, `${name}.bpf.c`), "utf8").split("\n");
    let checked = 0;
    for (const block of ext.lineInfo.blocks) {
      expect(findSection(elf, block.secName), block.secName).toBeDefined();
      for (const rec of block.records) {
        const file = btf.strings.get(rec.fileNameOff);
        if (!file.endsWith(`${name}.bpf.c`)) continue; // lines inside included headers
        const line = lineOf(rec.lineCol);
        // Line 0 marks compiler-made code with no source line.
        expect(btf.strings.get(rec.lineOff)).toBe(line === 0 ? "" : source[line - 1]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it.each(FIXTURE_NAMES)("%s: func_info names the function symbol at its offset", (name) => {
    const elf = elfOf(name);
    const btf = parseBtf(btfBytes(elf));
    const ext = parseBtfExt(extBytes(elf), btf);
    const funcs = elf.symbols.filter((s) => s.type === STT_FUNC);
    let checked = 0;
    for (const block of ext.funcInfo.blocks) {
      const section = findSection(elf, block.secName)!;
      for (const rec of block.records) {
        const sym = funcs.find((s) => s.shndx === section.index && s.value === rec.insnOff);
        const func = btf.types[rec.typeId]!;
        expect(func.kind).toBe(BTF_KIND_FUNC);
        expect(func.name).toBe(sym?.name);
        checked++;
      }
    }
    expect(checked).toBe(funcs.length);
  });

  it("core: CO-RE relocation records match the source's accesses", () => {
    const elf = elfOf("core");
    const btf = parseBtf(btfBytes(elf));
    const ext = parseBtfExt(extBytes(elf), btf);
    expect(ext.hdrLen).toBe(32);
    const relos = ext.coreRelo.blocks.flatMap((b) =>
      b.records.map((r) => [
        b.secName,
        btf.types[r.typeId]!.name,
        btf.strings.get(r.accessStrOff),
        r.kind,
      ]),
    );
    // BPF_CORE_READ(t, parent, tgid): byte offsets of parent (member 2) then tgid (member 1);
    // bpf_core_field_exists(t->comm): member 3; bpf_core_type_size(struct task_struct).
    expect(relos).toEqual([
      ["tp/sched/sched_process_exec", "task_struct", "0:2", 0],
      ["tp/sched/sched_process_exec", "task_struct", "0:1", 0],
      ["tp/sched/sched_process_exec", "task_struct", "0:3", 2],
      ["tp/sched/sched_process_exec", "task_struct", "0", 9],
    ]);
    const prog = openObject(readBytes(compileFixture("core")), "core.bpf.o").programs[0]!;
    expect(prog.coreRelos.map((r) => [r.accessStr, r.kind])).toEqual(
      relos.map((r) => [r[2], r[3]]),
    );
  });

  it("btfkinds: sizes and member offsets agree with clang's sizeof/offsetof", () => {
    const object = openObject(readBytes(compileFixture("btfkinds")), "btfkinds.bpf.o");
    const btf = object.btf!;
    const rodata = object.maps.find((m) => m.realName === ".rodata")!;
    const words = new DataView(rodata.initialValue!.buffer, rodata.initialValue!.byteOffset);
    const datasec = btf.types[rodata.btfValueTypeId]!;
    if (datasec.kind !== BTF_KIND_DATASEC) throw new Error("no .rodata DATASEC");
    const arrayAt = (varName: string): number[] => {
      const v = datasec.vars.find((x) => btf.types[x.type]!.name === varName)!;
      return Array.from({ length: v.size / 4 }, (_, i) => words.getUint32(v.offset + i * 4, true));
    };
    const id = (name: string, kind: number): number => findBtfType(btf, name, kind)!.id;
    expect(arrayAt("sizes")).toEqual([
      btfTypeSize(btf, id("bits", BTF_KIND_STRUCT)),
      btfTypeSize(btf, id("bits_t", BTF_KIND_TYPEDEF)),
      btfTypeSize(btf, id("bits_arr_t", BTF_KIND_TYPEDEF)),
      btfTypeSize(btf, id("inner", BTF_KIND_STRUCT)),
      btfTypeSize(btf, id("color", BTF_KIND_ENUM)),
      btfTypeSize(btf, id("float", BTF_KIND_FLOAT)),
    ]);
    const bits = id("bits", BTF_KIND_STRUCT);
    const offset = (member: string): number => findMember(btf, bits, member)!.bitOffset / 8;
    expect(arrayAt("offsets")).toEqual(
      ["c", "op", "as_long", "pair", "rp", "in", "cb"].map(offset),
    );
    expect(findMember(btf, bits, "as_long")!.path).toHaveLength(2); // through the anonymous union
    expect(findMember(btf, bits, "nope")).toBeUndefined();
    const big = findMember(btf, bits, "big")!.member;
    expect(big.bitfieldSize).toBe(40);
  });

  it("btfkinds: C spellings of types", () => {
    const btf = parseBtf(btfBytes(elfOf("btfkinds")));
    const spell = (name: string) => btfTypeToString(btf, findBtfType(btf, name)!.id);
    const struct = btf.types[findBtfType(btf, "bits", BTF_KIND_STRUCT)!.id]!;
    if (struct.kind !== BTF_KIND_STRUCT) throw new Error("bits");
    const member = (n: string) =>
      btfTypeToString(btf, struct.members.find((m) => m.name === n)!.type);
    expect(member("rp")).toBe("const volatile int *restrict");
    expect(member("cb")).toBe("long (*)(int, char *)");
    expect(member("in")).toBe("struct inner[3]");
    expect(member("op")).toBe("struct opaque *");
    expect(spell("bits_arr_t")).toBe("bits_arr_t");
    expect(
      btfTypeToString(btf, skipModsAndTypedefs(btf, findBtfType(btf, "bits_arr_t")!.id).id),
    ).toBe("bits_t[2]");
    expect(spell("user_ptr")).toBe("int *user_ptr");
    expect(spell("pick")).toBe("int pick(enum color, struct bits *)");
  });
});

// --- BTF built by hand: every kind, checked by bpftool --------------------------------------

function everyKind(): Btf {
  const btf = createBtf();
  const int = addBtfType(btf, {
    kind: BTF_KIND_INT,
    name: "int",
    kindFlag: false,
    size: 4,
    encoding: BTF_INT_SIGNED,
    bitOffset: 0,
    bits: 32,
  });
  const u64 = addBtfType(btf, {
    kind: BTF_KIND_INT,
    name: "unsigned long long",
    kindFlag: false,
    size: 8,
    encoding: 0,
    bitOffset: 0,
    bits: 64,
  });
  addBtfType(btf, {
    kind: BTF_KIND_ENUM64,
    name: "big",
    kindFlag: false,
    size: 8,
    values: [
      { name: "HUGE", lo: 1, hi: 0xffffffff },
      { name: "SMALL", lo: 5, hi: 0 },
    ],
  });
  addBtfType(btf, {
    kind: BTF_KIND_ENUM64,
    name: "sbig",
    kindFlag: true,
    size: 8,
    values: [{ name: "MINUS_TWO", lo: 0xfffffffe, hi: 0xffffffff }],
  });
  addBtfType(btf, {
    kind: BTF_KIND_ENUM,
    name: "small",
    kindFlag: true,
    size: 4,
    values: [
      { name: "MINUS_ONE", value: -1 },
      { name: "TEN", value: 10 },
    ],
  });
  const fwd = addBtfType(btf, { kind: BTF_KIND_FWD, name: "later", kindFlag: true });
  const bf = addBtfType(btf, {
    kind: BTF_KIND_STRUCT,
    name: "bf",
    kindFlag: true,
    size: 16,
    members: [
      { name: "a", type: int, bitOffset: 0, bitfieldSize: 3 },
      { name: "b", type: int, bitOffset: 3, bitfieldSize: 29 },
      { name: "c", type: u64, bitOffset: 64, bitfieldSize: 0 },
    ],
  });
  addBtfType(btf, { kind: BTF_KIND_PTR, name: "", kindFlag: false, type: fwd });
  const tag = addBtfType(btf, {
    kind: BTF_KIND_TYPE_TAG,
    name: "user",
    kindFlag: false,
    type: int,
  });
  const tagged = addBtfType(btf, { kind: BTF_KIND_PTR, name: "", kindFlag: false, type: tag });
  const dbl = addBtfType(btf, { kind: BTF_KIND_FLOAT, name: "double", kindFlag: false, size: 8 });
  const v = addBtfType(btf, {
    kind: BTF_KIND_VAR,
    name: "v",
    kindFlag: false,
    type: bf,
    linkage: BTF_VAR_GLOBAL_ALLOCATED,
  });
  addBtfType(btf, {
    kind: BTF_KIND_DECL_TAG,
    name: "field_tag",
    kindFlag: false,
    type: bf,
    componentIdx: 1,
  });
  const proto = addBtfType(btf, {
    kind: BTF_KIND_FUNC_PROTO,
    name: "",
    kindFlag: false,
    type: int,
    params: [
      { name: "x", type: int },
      { name: "", type: 0 },
    ],
  });
  addBtfType(btf, {
    kind: BTF_KIND_FUNC,
    name: "f",
    kindFlag: false,
    type: proto,
    linkage: BTF_FUNC_GLOBAL,
  });
  addBtfType(btf, {
    kind: BTF_KIND_DATASEC,
    name: ".data",
    kindFlag: false,
    size: 16,
    vars: [{ type: v, offset: 0, size: 16 }],
  });
  const c = addBtfType(btf, { kind: BTF_KIND_CONST, name: "", kindFlag: false, type: dbl });
  addBtfType(btf, { kind: BTF_KIND_VOLATILE, name: "", kindFlag: false, type: c });
  addBtfType(btf, { kind: BTF_KIND_RESTRICT, name: "", kindFlag: false, type: tagged });
  addBtfType(btf, { kind: BTF_KIND_TYPEDEF, name: "bf_t", kindFlag: false, type: bf });
  addBtfType(btf, {
    kind: BTF_KIND_UNION,
    name: "un",
    kindFlag: false,
    size: 8,
    members: [
      { name: "i", type: int, bitOffset: 0, bitfieldSize: 0 },
      { name: "d", type: dbl, bitOffset: 0, bitfieldSize: 0 },
    ],
  });
  addBtfType(btf, {
    kind: BTF_KIND_ARRAY,
    name: "",
    kindFlag: false,
    type: int,
    indexType: int,
    nelems: 4,
  });
  return btf;
}

describe.skipIf(skipReason({ bpftool: hasBpftool }))("hand-built BTF", () => {
  it("bpftool reads every kind (ENUM64 included) as we print it", () => {
    const btf = everyKind();
    const bytes = encodeBtf(btf);
    const path = join(scratchDir(), "every-kind.o");
    writeFileSync(
      path,
      writeElf({
        sections: [{ name: ".BTF", type: SHT_PROGBITS, flags: 0, data: bytes, addralign: 4 }],
        symbols: [],
      }),
    );
    const r = run("bpftool", ["btf", "dump", "file", path]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(dumpBtf(btf));
    expect(r.stdout).toContain("'HUGE' val=18446744069414584321ULL");
    expect(r.stdout).toContain("'MINUS_TWO' val=-2LL");
    expect(r.stdout).toContain("'MINUS_ONE' val=-1");
  });

  it("parses back to the same model and bytes", () => {
    const btf = everyKind();
    const bytes = encodeBtf(btf);
    const again = parseBtf(bytes);
    expect(again.types).toEqual(btf.types);
    expect(Buffer.from(encodeBtf(again)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("string table reuses existing strings", () => {
    const btf = everyKind();
    const before = btf.strings.size;
    expect(btf.strings.add("bf")).toBe(btf.types.find((t) => t.name === "bf")!.nameOff);
    expect(btf.strings.size).toBe(before);
    expect(btf.strings.add("")).toBe(0);
  });
});

describe("BTF walks are bounded", () => {
  it("typedef and pointer cycles fail instead of hanging", () => {
    const btf = createBtf();
    // [1] typedef a -> [2] typedef b -> [1]; [3] ptr -> [3]
    addBtfType(btf, { kind: BTF_KIND_TYPEDEF, name: "a", kindFlag: false, type: 2 });
    addBtfType(btf, { kind: BTF_KIND_TYPEDEF, name: "b", kindFlag: false, type: 1 });
    addBtfType(btf, { kind: BTF_KIND_PTR, name: "", kindFlag: false, type: 3 });
    addBtfType(btf, {
      kind: BTF_KIND_ARRAY,
      name: "",
      kindFlag: false,
      type: 4,
      indexType: 0,
      nelems: 2,
    });
    const again = parseBtf(encodeBtf(btf)); // structurally valid: every id exists
    expect(() => skipModsAndTypedefs(again, 1)).toThrow(BtfError);
    expect(() => btfTypeSize(again, 1)).toThrow(/cyclic BTF/);
    expect(() => btfTypeToString(again, 3)).toThrow(BtfError);
    expect(() => btfTypeSize(again, 4)).toThrow(BtfError);
    expect(btfTypeSize(again, 3)).toBe(8);
    expect(() => btfTypeSize(again, 99)).toThrow(/out of range/);
  });

  it("a reference past the last type is reported at the referring type's offset", () => {
    const btf = createBtf();
    addBtfType(btf, { kind: BTF_KIND_TYPEDEF, name: "a", kindFlag: false, type: 0 });
    addBtfType(btf, { kind: BTF_KIND_PTR, name: "", kindFlag: false, type: 99 });
    // header 24 bytes, then [1] typedef (12 bytes): [2] starts at 0x24
    expect(() => parseBtf(encodeBtf(btf), "x.btf")).toThrow(
      "x.btf: offset 0x24: type [2] PTR '': its type refers to type [99], past the last type [2]",
    );
  });
});

// --- malformed .BTF and .BTF.ext ------------------------------------------------------------

function expectBtfError(f: () => unknown, pattern: RegExp): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(BtfError);
  expect(error).toBeInstanceOf(TsbpfError);
  expect((error as Error).message).toMatch(/^x\.o: \.BTF(\.ext)?: offset 0x[0-9a-f]+: /);
  expect((error as Error).message).toMatch(pattern);
}

type Patch = (b: Uint8Array, v: DataView) => Uint8Array | void;

const btfCases: [string, Patch, RegExp][] = [
  ["truncated header", (b) => b.slice(0, 20), /header \(24 bytes\) runs past the end/],
  ["bad magic", (_b, v) => v.setUint16(0, 0x1234, true), /bad magic 0x1234/],
  ["big endian", (_b, v) => v.setUint16(0, 0x9feb, true), /big-endian BTF is not supported/],
  ["version", (b) => void (b[2] = 2), /unsupported version 2/],
  ["flags", (b) => void (b[3] = 1), /unsupported flags 0x1/],
  ["header length", (_b, v) => v.setUint32(4, 16, true), /header length 16 is shorter than 24/],
  [
    "type section past the end",
    (_b, v) => v.setUint32(12, 0x100000, true),
    /offset 0x8: type section .* runs past the data/,
  ],
  [
    "string section not after types",
    (_b, v) => v.setUint32(16, v.getUint32(16, true) + 4, true),
    /runs past the data|does not follow the type section/,
  ],
  [
    "trailing bytes",
    (b) => {
      const c = new Uint8Array(b.length + 4);
      c.set(b);
      return c;
    },
    /4 bytes after the string section/,
  ],
  [
    "string section start",
    (b, v) => void (b[24 + v.getUint32(16, true)] = 0x41),
    /string section does not start with NUL/,
  ],
  [
    "string section end",
    (b) => void (b[b.length - 1] = 0x41),
    /string section does not end with NUL/,
  ],
  [
    "unknown kind",
    (_b, v) => v.setUint32(28, 25 << 24, true),
    /offset 0x1c: type \[1\]: unknown kind 25/,
  ],
  [
    "unused info bits",
    (_b, v) => v.setUint32(28, v.getUint32(28, true) | 0x10000, true),
    /type \[1\] .*unused info bits set/,
  ],
  [
    "vlen on a pointer",
    (_b, v) => v.setUint32(28, (2 << 24) | 3, true),
    /type \[1\] PTR: vlen 3 must be 0/,
  ],
  [
    "name offset",
    (_b, v) => v.setUint32(24, 0xffffff, true),
    /type \[1\] .*name offset 16777215 is past the string section/,
  ],
  [
    "dangling type id",
    (_b, v) => v.setUint32(32, 9999, true),
    /type \[1\] PTR .*refers to type \[9999\]/,
  ],
  [
    "entries past the type section",
    (_b, v) => v.setUint32(28, (4 << 24) | 0xffff, true),
    /type \[1\] STRUCT: 65535 entries run past the type section/,
  ],
];

const extCases: [string, Patch, RegExp][] = [
  ["truncated", (b) => b.slice(0, 6), /header \(8 bytes\) runs past the end/],
  ["bad magic", (_b, v) => v.setUint16(0, 0x1111, true), /bad magic 0x1111/],
  ["version", (b) => void (b[2] = 3), /unsupported version 3/],
  ["header length", (_b, v) => v.setUint32(4, 8, true), /header length 8 is shorter than 24/],
  [
    "func_info past the end",
    (_b, v) => v.setUint32(12, 0x100000, true),
    /func_info .* runs past the end/,
  ],
  [
    "record size",
    (_b, v) => v.setUint32(v.getUint32(4, true) + v.getUint32(8, true), 4, true),
    /func_info record size 4 is invalid/,
  ],
  [
    "zero records",
    (_b, v) => v.setUint32(v.getUint32(4, true) + v.getUint32(8, true) + 8, 0, true),
    /func_info of '.*': zero records/,
  ],
  [
    "too many records",
    (_b, v) => v.setUint32(v.getUint32(4, true) + v.getUint32(8, true) + 8, 1000, true),
    /1000 records of 8 bytes run past the section/,
  ],
  [
    "section name",
    (_b, v) => v.setUint32(v.getUint32(4, true) + v.getUint32(8, true) + 4, 0xfffffff, true),
    /func_info section name: string offset 268435455 is past the \.BTF strings/,
  ],
  [
    "func type id",
    (_b, v) => v.setUint32(v.getUint32(4, true) + v.getUint32(8, true) + 16, 77777, true),
    /record 0: type id 77777 is past the last type/,
  ],
  [
    "line file name",
    (_b, v) => v.setUint32(v.getUint32(4, true) + v.getUint32(16, true) + 16, 0xfffffff, true),
    /line_info of '.*': record 0 file name: string offset/,
  ],
];

describe.skipIf(skipReason({ clang: hasClang }))("BTF errors", () => {
  it.each(btfCases)(".BTF: %s", (_what, patch, pattern) => {
    const bytes = btfBytes(elfOf("tracing")).slice();
    const out = patch(bytes, new DataView(bytes.buffer)) ?? bytes;
    expectBtfError(() => parseBtf(out, "x.o: .BTF"), pattern);
  });

  it.each(extCases)(".BTF.ext: %s", (_what, patch, pattern) => {
    const elf = elfOf("tracing");
    const btf = parseBtf(btfBytes(elf));
    const bytes = extBytes(elf).slice();
    const out = patch(bytes, new DataView(bytes.buffer)) ?? bytes;
    expectBtfError(() => parseBtfExt(out, btf, "x.o: .BTF.ext"), pattern);
  });
});
