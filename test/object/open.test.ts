// openObject against libbpf's own open phase (the machine's libbpf 1.1, through a small C
// program), readelf's relocations and the C sources; and its errors on bad objects.
import { beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeBtf } from "../../runtime/btf/encode.js";
import { BtfError } from "../../runtime/btf/btf.js";
import {
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_PROGBITS,
  STB_GLOBAL,
  STT_OBJECT,
  STT_FUNC,
  ElfError,
  type ElfFile,
} from "../../runtime/elf/elf.js";
import { readElf } from "../../runtime/elf/read.js";
import { writeElf, type ElfObjectSpec } from "../../runtime/elf/write.js";
import { TsbpfError } from "../../runtime/error.js";
import { encodeProgram } from "../../runtime/isa/codec.js";
import { ObjectError } from "../../runtime/object/error.js";
import { internalMapName } from "../../runtime/object/maps.js";
import { missingProgramType, openObject, type BpfObject } from "../../runtime/object/open.js";
import {
  FIXTURE_NAMES,
  compileFixture,
  compileSource,
  hasClang,
  hasLibbpf,
  hasReadelf,
  readBytes,
  run,
  scratchDir,
  skipReason,
} from "./tools.js";

const here = dirname(fileURLToPath(import.meta.url));
let oracle = "";

function buildOracle(): void {
  oracle = join(scratchDir(), "libbpf-open");
  const r = run("cc", ["-O2", "-o", oracle, join(here, "libbpf-open.c"), "-lbpf"]);
  if (r.status !== 0) throw new Error(`building libbpf-open failed:\n${r.stderr}`);
}

const open = (name: string): BpfObject =>
  openObject(readBytes(compileFixture(name)), `${name}.bpf.o`);

/** What libbpf prints for an object, in the oracle's line format. */
function libbpfView(path: string, btfOut?: string): string[] {
  const r = run(oracle, btfOut ? [path, btfOut] : [path]);
  return r.stdout.trim().split("\n");
}

function ourView(o: BpfObject): string[] {
  const lines: string[] = [];
  for (const p of o.programs) {
    const section = p.sectionName.replace(/^\?/, "");
    lines.push(
      `prog ${p.name} ${section} ${p.type} ${p.expectedAttachType} ${p.autoload ? 1 : 0} ${p.insns.length}`,
    );
  }
  for (const m of o.maps) {
    const internal = m.origin === "data" || m.origin === "rodata" || m.origin === "bss" ? 1 : 0;
    const line = (what: string, x: typeof m) =>
      `${what} ${x.name} ${x.type} ${x.keySize} ${x.valueSize} ${x.maxEntries} ${x.mapFlags} ${x.btfKeyTypeId} ${x.btfValueTypeId} ${internal}`;
    lines.push(line("map", m));
    if (m.inner) lines.push(line("inner", m.inner));
  }
  return lines;
}

const BTF_FIXTURES = FIXTURE_NAMES.filter((n) => n !== "legacy"); // libbpf 1.x refuses legacy maps

describe.skipIf(skipReason({ clang: hasClang, "cc + libbpf-dev": hasLibbpf }))(
  "openObject vs libbpf's open phase",
  () => {
    beforeAll(buildOracle);

    it.each(BTF_FIXTURES)("%s: programs and maps", (name) => {
      const view = libbpfView(compileFixture(name));
      expect(view[0]).toMatch(/^kversion \d+$/);
      expect(ourView(open(name))).toEqual(view.slice(1));
    });

    it.each(BTF_FIXTURES)(
      "%s: BTF after the open-time DATASEC fix-ups is libbpf's, byte for byte",
      (name) => {
        const out = join(scratchDir(), `${name}.libbpf.btf`);
        libbpfView(compileFixture(name), out);
        const ours = encodeBtf(open(name).btf!);
        expect(Buffer.from(ours).equals(readFileSync(out))).toBe(true);
      },
    );

    it("legacy maps: libbpf 1.x refuses them (EOPNOTSUPP); we read them", () => {
      expect(libbpfView(compileFixture("legacy"))).toEqual(["error 95"]);
      const o = open("legacy");
      expect(o.kernVersion).toBe(0x050a00);
      expect(o.license).toBe("GPL");
      expect(
        o.maps.map((m) => [
          m.name,
          m.origin,
          m.type,
          m.keySize,
          m.valueSize,
          m.maxEntries,
          m.mapFlags,
        ]),
      ).toEqual([
        ["my_map", "legacy", 1, 8, 8, 256, 0],
        ["stats", "legacy", 2, 4, 8, 64, 0],
      ]);
    });
  },
);

describe.skipIf(skipReason({ clang: hasClang, readelf: hasReadelf }))(
  "openObject on clang objects",
  () => {
    it.each(FIXTURE_NAMES)(
      "%s: every relocation in program sections is recorded on its instruction",
      (name) => {
        const path = compileFixture(name);
        const o = open(name);
        const elf = o.elf;
        const all = [...o.programs, ...o.subprograms];
        let count = 0;
        let section = "";
        for (const line of run("readelf", ["-r", "-W", path]).stdout.split("\n")) {
          const head = /^Relocation section '\.rel(.+)' at offset/.exec(line);
          if (head) section = head[1]!;
          const m = /^([0-9a-f]{16})\s+([0-9a-f]{16})\s+\S+\s+[0-9a-f]+\s+(\S+)/.exec(line);
          if (!m || !all.some((p) => p.sectionName === section)) continue;
          const slot = parseInt(m[1]!, 16) / 8;
          const type = parseInt(m[2]!.slice(8), 16);
          const symName = m[3]!;
          const prog = all.find(
            (p) =>
              p.sectionName === section &&
              slot >= p.sectionInsnOffset &&
              slot < p.sectionInsnOffset + p.insns.length,
          )!;
          const rel = prog.relocations.find((r) => r.insn === slot - prog.sectionInsnOffset)!;
          expect(rel, `${section}+${slot}`).toBeDefined();
          expect(rel.symbol).toBe(symName);
          const symSection =
            elf.sections[
              elf.symbols.find(
                (s) =>
                  s.name === symName || (s.type === 3 && elf.sections[s.shndx]!.name === symName),
              )!.shndx
            ]!.name;
          const expectedKind =
            type === 10
              ? "call"
              : symSection === ".text"
                ? "subprog_addr"
                : symSection === "maps" || symSection === ".maps"
                  ? "map"
                  : "data";
          expect(rel.kind).toBe(expectedKind);
          if (rel.kind === "map" || rel.kind === "data")
            expect(o.maps[rel.map]!.sectionIndex).toBe(
              elf.sections.find((s) => s.name === symSection)!.index,
            );
          if (rel.kind === "call") {
            // clang's static callees start where the call lands.
            const callee = elf.symbols.find(
              (s) => s.type === STT_FUNC && s.name === rel.subprogram,
            )!;
            expect(rel.target * 8).toBe(callee.value);
          }
          count++;
        }
        expect(count).toBe(all.reduce((n, p) => n + p.relocations.length, 0));
      },
    );

    it("tracing: programs, subprograms, license, globals, tail-call slots, BTF.ext per program", () => {
      const o = open("tracing");
      expect(o.name).toBe("tracing");
      expect(o.license).toBe("Dual BSD/GPL");
      expect(o.kernVersion).toBeUndefined();
      expect(o.programs.map((p) => [p.name, p.sectionName, p.attach])).toEqual([
        [
          "tail_one",
          "kprobe/vfs_read",
          { kind: "kprobe", retprobe: false, func: "vfs_read", offset: 0 },
        ],
        [
          "on_open",
          "kprobe/do_sys_openat2",
          { kind: "kprobe", retprobe: false, func: "do_sys_openat2", offset: 0 },
        ],
        [
          "on_open_too",
          "kprobe/do_sys_openat2",
          { kind: "kprobe", retprobe: false, func: "do_sys_openat2", offset: 0 },
        ],
        [
          "on_open_ret",
          "kretprobe/do_sys_openat2",
          { kind: "kprobe", retprobe: true, func: "do_sys_openat2", offset: 0 },
        ],
      ]);
      expect(o.subprograms.map((p) => [p.name, p.isSubprogram, p.autoload, p.global])).toEqual([
        ["bump", true, false, false],
        ["scale", true, false, false],
      ]);
      const jump = o.maps.find((m) => m.name === "jump")!;
      expect(jump.initialSlots).toEqual([{ index: 2, kind: "prog", name: "tail_one" }]);
      expect(o.maps.find((m) => m.name === "counts")!.pinning).toBe(1); // LIBBPF_PIN_BY_NAME
      const rodata = o.maps.find((m) => m.realName === ".rodata")!;
      expect(new TextDecoder().decode(rodata.initialValue!)).toContain("tracing\0");
      const strings = o.maps.find((m) => m.realName === ".rodata.str1.1")!;
      expect(new TextDecoder().decode(strings.initialValue!)).toBe("ret %ld\n\0");
      expect(o.maps.find((m) => m.origin === "bss")!.initialValue).toBeUndefined();
      for (const p of [...o.programs, ...o.subprograms]) {
        expect(p.funcInfo[0]).toEqual({
          insn: 0,
          typeId: o.btf!.types.find((t) => t.kind === 12 && t.name === p.name)!.id,
        });
        expect(p.lineInfo.length).toBeGreaterThan(0);
        expect(p.lineInfo.every((l) => l.insn >= 0 && l.insn < p.insns.length)).toBe(true);
      }
      expect(o.programs[1]!.lineInfo[0]!.source).toContain("BPF_KPROBE(on_open");
    });

    it("mapinmap: inner definition and initial slots", () => {
      const outer = open("mapinmap").maps.find((m) => m.name === "outer")!;
      expect(outer.inner).toMatchObject({
        name: "outer.inner",
        type: 2,
        keySize: 4,
        valueSize: 8,
        maxEntries: 8,
      });
      expect(outer.initialSlots).toEqual([
        { index: 0, kind: "map", name: "inner1" },
        { index: 3, kind: "map", name: "inner2" },
      ]);
    });

    it("sections: attach targets and autoload as libbpf reads the names", () => {
      const o = open("sections");
      const by = (name: string) => o.programs.find((p) => p.name === `prog_${name}`)!;
      expect(by("bare_kprobe").attach).toBeUndefined();
      expect(by("kprobe_off").attach).toEqual({
        kind: "kprobe",
        retprobe: false,
        func: "tcp_v4_connect",
        offset: 16,
      });
      expect(by("uprobe").attach).toEqual({
        kind: "uprobe",
        retprobe: false,
        binaryPath: "/usr/lib/libc.so.6",
        func: "malloc",
        offset: 0,
      });
      expect(by("uretprobe").attach).toMatchObject({
        kind: "uprobe",
        retprobe: true,
        binaryPath: "/bin/bash",
        func: "readline",
      });
      expect(by("tracepoint").attach).toEqual({
        kind: "tracepoint",
        category: "syscalls",
        name: "sys_enter_openat",
      });
      expect(by("tp").attach).toEqual({
        kind: "tracepoint",
        category: "sched",
        name: "sched_switch",
      });
      expect(by("raw_tp_w").attach).toEqual({ kind: "raw_tracepoint", name: "sys_exit" });
      expect(by("fentry").attach).toMatchObject({ kind: "btf", name: "do_unlinkat" });
      expect(by("lsm_s").sleepable).toBe(true);
      expect(by("ksyscall").attach).toEqual({
        kind: "ksyscall",
        retprobe: false,
        syscall: "openat",
      });
      expect(by("maybe_kprobe").autoload).toBe(false);
      expect(by("maybe_kprobe").sectionName).toBe("?kprobe/do_exit");
      const unknown = by("unknown");
      expect(unknown.type).toBe(0);
      expect(unknown.section).toBeUndefined();
      expect(missingProgramType(unknown).message).toBe(
        "prog 'prog_unknown': missing BPF prog type, check ELF section name 'nonsense/section'",
      );
    });

    it("attach targets that cannot attach are kept as errors, not thrown at open", () => {
      const exit = encodeProgram([
        { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
        { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
      ]);
      const bytes = writeElf({
        sections: [
          {
            name: "kretprobe/foo+8",
            type: SHT_PROGBITS,
            flags: SHF_ALLOC | SHF_EXECINSTR,
            data: exit,
            addralign: 8,
          },
        ],
        symbols: [{ name: "p", value: 0, size: 16, type: STT_FUNC, bind: STB_GLOBAL, section: 0 }],
      });
      const prog = openObject(bytes, "r.o").programs[0]!;
      expect(prog.type).toBe(2);
      expect(prog.attach).toBeUndefined();
      expect(prog.attachError).toMatch(/kretprobes do not support offset specification/);
    });

    it("internal map names follow libbpf's truncation rules", () => {
      expect(internalMapName("tracex2", ".data")).toBe("tracex2.data");
      expect(internalMapName("my_object_name", ".rodata")).toBe("my_objec.rodata");
      expect(internalMapName("my_object_name", ".bss")).toBe("my_objec.bss");
      expect(internalMapName("my_object_name", ".kconfig")).toBe("my_obje.kconfig");
      expect(internalMapName("obj", ".rodata.str1.1")).toBe(".rodata.str1.1");
      expect(internalMapName("obj", ".rodata.abracadabra")).toBe(".rodata.abracad");
      expect(internalMapName("a-b", ".data")).toBe("a_b.data");
    });
  },
);

// --- errors ---------------------------------------------------------------------------------

function expectError(f: () => unknown, type: typeof TsbpfError, pattern: RegExp): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(TsbpfError);
  expect((error as Error).message).toMatch(pattern);
}

const patchable = (name: string): { bytes: Uint8Array; view: DataView; elf: ElfFile } => {
  const bytes = readBytes(compileFixture(name)).slice();
  return { bytes, view: new DataView(bytes.buffer), elf: readElf(bytes, `${name}.bpf.o`) };
};

/** A legacy-maps object made with the writer, `def` being the maps section contents. */
function legacyObject(
  def: Uint8Array,
  mapSymbols: number,
  extra: Partial<ElfObjectSpec> = {},
): Uint8Array {
  const exit = encodeProgram([
    { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
    { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
  ]);
  const size = def.length / mapSymbols;
  return writeElf({
    sections: [
      {
        name: "kprobe/f",
        type: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_EXECINSTR,
        data: exit,
        addralign: 8,
      },
      { name: "maps", type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE, data: def, addralign: 4 },
      ...(extra.sections ?? []),
    ],
    symbols: [
      { name: "prog", value: 0, size: 16, type: STT_FUNC, bind: STB_GLOBAL, section: 0 },
      ...Array.from({ length: mapSymbols }, (_, i) => ({
        name: `m${i}`,
        value: i * size,
        size,
        type: STT_OBJECT,
        bind: STB_GLOBAL,
        section: 1,
      })),
      ...(extra.symbols ?? []),
    ],
  });
}

describe.skipIf(skipReason({ clang: hasClang }))("openObject errors", () => {
  it("relocation on an instruction that is not lddw", () => {
    const v = patchable("tracing");
    const table = v.elf.relocations.find((t) => t.target.name === "kprobe/do_sys_openat2")!;
    const rel = table.entries.find((r) => r.type === 1)!;
    v.bytes[table.target.offset + rel.offset] = 0xb7;
    expectError(
      () => openObject(v.bytes, "tracing.bpf.o"),
      ObjectError,
      new RegExp(
        `^tracing\\.bpf\\.o: section \\d+ '\\.relkprobe/do_sys_openat2': relocation \\d+ at offset 0x${rel.offset.toString(16)} against '\\w+' \\(prog 'on_open' insn ${rel.offset / 8}\\): R_BPF_64_64 on a non-lddw instruction \\(code 0xb7\\)$`,
      ),
    );
  });

  it("call relocation on an instruction that is not a call, or on a helper call", () => {
    const v = patchable("tracing");
    const table = v.elf.relocations.find((t) => t.target.name === "kprobe/vfs_read")!;
    const at = table.target.offset + table.entries[0]!.offset;
    v.bytes[at + 1] = 0x00; // src_reg 0: a helper call
    expectError(
      () => openObject(v.bytes, "t.o"),
      ObjectError,
      /call relocation on a helper call \(src_reg 0, expected 1\)/,
    );
    v.bytes[at] = 0x05; // ja
    expectError(
      () => openObject(v.bytes, "t.o"),
      ObjectError,
      /R_BPF_64_32 on a non-call instruction \(code 0x05\)/,
    );
  });

  it("relocation at an offset inside an instruction", () => {
    const v = patchable("tracing");
    const table = v.elf.relocations.find((t) => t.target.name === "kprobe/vfs_read")!;
    v.view.setUint32(table.section.offset, table.entries[0]!.offset - 4, true);
    expectError(
      () => openObject(v.bytes, "t.o"),
      ObjectError,
      /offset 0x4 against '\.text': offset is not at an instruction boundary/,
    );
  });

  it("relocation against a section that holds no maps or globals", () => {
    const v = patchable("tracing");
    const table = v.elf.relocations.find((t) => t.target.name === "kprobe/do_sys_openat2")!;
    const license = v.elf.symbols.find((s) => s.name === "LICENSE")!;
    v.view.setUint32(table.section.offset + 12, license.index, true);
    expectError(
      () => openObject(v.bytes, "t.o"),
      ObjectError,
      /against 'LICENSE' \(prog 'on_open' insn \d+\): bad data relocation against section 'license'/,
    );
  });

  it("legacy map definitions: too short, unequal sizes, unknown non-zero fields, static", () => {
    expectError(
      () => openObject(legacyObject(new Uint8Array(16), 1), "l.o"),
      ObjectError,
      /^l\.o: section \d+ 'maps': map definition too short \(16 bytes, struct bpf_map_def is 20\)$/,
    );
    expectError(
      () => openObject(legacyObject(new Uint8Array(30), 2), "l.o"),
      ObjectError,
      /map definition too short \(15 bytes/,
    );
    const nonzero = new Uint8Array(24);
    nonzero[22] = 1;
    expectError(
      () => openObject(legacyObject(nonzero, 1), "l.o"),
      ObjectError,
      /map 'm0' at offset 0: unrecognized non-zero fields after struct bpf_map_def/,
    );
    const ok = new Uint8Array(24);
    ok[0] = 2;
    expect(openObject(legacyObject(ok, 1), "l.o").maps[0]).toMatchObject({ name: "m0", type: 2 });
  });

  it("legacy map section whose size is no multiple of the map count", () => {
    const third = { name: "m2", value: 0, size: 0, type: STT_OBJECT, bind: STB_GLOBAL, section: 1 };
    expectError(
      () => openObject(legacyObject(new Uint8Array(40), 2, { symbols: [third] }), "l.o"),
      ObjectError,
      /section \d+ 'maps': cannot determine the map definition size \(40 bytes, 3 map symbols\)/,
    );
  });

  it("static program outside .text", () => {
    const v = patchable("tracing");
    const sym = v.elf.symbols.find((s) => s.name === "tail_one")!;
    v.bytes[v.elf.symtab!.offset + sym.index * 24 + 4] = STT_FUNC; // bind LOCAL
    expectError(
      () => openObject(v.bytes, "t.o"),
      ObjectError,
      /program 'tail_one' at offset 0: program is static and not supported/,
    );
  });

  it("version section of the wrong size", () => {
    const version = {
      name: "version",
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_WRITE,
      data: new Uint8Array(2),
      addralign: 4,
    };
    expectError(
      () => openObject(legacyObject(new Uint8Array(20), 1, { sections: [version] }), "l.o"),
      ObjectError,
      /^l\.o: section \d+ 'version': invalid kern_version section \(2 bytes, expected 4\)$/,
    );
  });

  it("BTF that does not parse", () => {
    const v = patchable("tracing");
    const btf = v.elf.sections.find((s) => s.name === ".BTF")!;
    v.bytes[btf.offset] = 0;
    expectError(() => openObject(v.bytes, "t.o"), BtfError, /^t\.o: \.BTF: offset 0x0: bad magic/);
  });

  it("ELF errors come through", () => {
    expectError(
      () => openObject(new Uint8Array(10), "t.o"),
      ElfError,
      /^t\.o: ELF header: file is 10 bytes/,
    );
  });

  const mapSource = (members: string) => `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { ${members} } m SEC(".maps");
SEC("xdp") int f(void *ctx) { int k = 0; return bpf_map_lookup_elem(&m, &k) != 0; }
char LICENSE[] SEC("license") = "GPL";
`;

  it.each([
    [
      "unknown field",
      "__uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __uint(foo, 1);",
      /map 'm': unknown field 'foo'/,
    ],
    [
      "missing type",
      "__uint(max_entries, 1); __type(key, int); __type(value, int);",
      /map 'm': map type isn't specified/,
    ],
    [
      "conflicting key size",
      "__uint(type, BPF_MAP_TYPE_HASH); __uint(key_size, 8); __type(key, int); __type(value, int);",
      /map 'm': conflicting key size 8 != 4/,
    ],
    [
      "values on a hash map",
      "__uint(type, BPF_MAP_TYPE_HASH); __type(key, int); __array(values, int (void *));",
      /'values' needs a map-in-map or prog-array map type/,
    ],
    [
      "type not a pointer to an array",
      "int type; __uint(max_entries, 1);",
      /attr 'type': expected PTR, got INT/,
    ],
    ["key not a pointer", "__uint(type, BPF_MAP_TYPE_HASH); int key;", /key spec is not PTR: INT/],
  ])("BTF map definition: %s", (what, members, pattern) => {
    const path = compileSource(what.replace(/\W+/g, "_"), mapSource(members));
    expectError(() => openObject(readBytes(path), "m.o"), ObjectError, pattern);
  });

  it(".maps without BTF", () => {
    const path = compileSource(
      "nobtf",
      mapSource("__uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1);"),
      false,
    );
    expectError(
      () => openObject(readBytes(path), "m.o"),
      ObjectError,
      /^m\.o: section \d+ '\.maps': BTF-defined maps need \.BTF \(build with -g\)$/,
    );
  });

  it("externs are recorded against their lddw, with the .kconfig map", () => {
    const path = compileSource(
      "extern",
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int CONFIG_HZ __kconfig;
SEC("xdp") int f(void *ctx) { return CONFIG_HZ; }
char LICENSE[] SEC("license") = "GPL";
`,
    );
    const object = openObject(readBytes(path), "e.o");
    expect(object.externs).toMatchObject([{ kind: "kconfig", name: "CONFIG_HZ", offset: 0 }]);
    expect(object.programs[0]!.externRelocations).toEqual([
      { insn: 0, symbol: "CONFIG_HZ", extern: 0 },
    ]);
    expect(object.programs[0]!.relocations).toEqual([]);
    expect(object.maps.map((m) => [m.name, m.origin, m.valueSize])).toEqual([
      ["e.kconfig", "kconfig", 4],
    ]);
  });

  it("an extern without BTF is refused with its name", () => {
    const path = compileSource(
      "extern_nobtf",
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int CONFIG_HZ __kconfig;
SEC("xdp") int f(void *ctx) { return CONFIG_HZ; }
char LICENSE[] SEC("license") = "GPL";
`,
      false,
    );
    expectError(
      () => openObject(readBytes(path), "e.o"),
      TsbpfError,
      /^e\.o: extern 'CONFIG_HZ': no BTF describes it \(no \.BTF\)$/,
    );
  });

  it("no symbol table", () => {
    const bytes = legacyObject(new Uint8Array(20), 1);
    const elf = readElf(bytes, "s.o");
    const view = new DataView(bytes.buffer);
    view.setUint32(view.getUint32(40, true) + elf.symtab!.index * 64 + 4, SHT_PROGBITS, true);
    expectError(
      () => openObject(bytes, "s.o"),
      ObjectError,
      /^s\.o: no symbol table \(stripped object\?\)$/,
    );
  });
});
