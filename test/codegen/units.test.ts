// What a CompiledUnit holds besides instructions: globals with their sections, names, bytes and
// relocations (checked against what clang puts in its object), relocations of instructions,
// line marks (the lines clang's line_info names), stack sizes; and the few features no clang 14
// can compile (atomic load/store), checked by running them.
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openObject } from "../../runtime/object/open.js";
import { readElf } from "../../runtime/elf/read.js";
import {
  clangCompile,
  hasClang,
  imageFromObject,
  imageFromUnit,
  randomBytes,
  runImage,
  tsbpfCompile,
} from "./harness.js";
import type { CompiledUnit } from "../../compiler/unit.js";

const GLOBALS = String.raw`
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } in1 SEC(".maps"), in2 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 2); __type(key, __u32); __array(values, struct inner); } outer SEC(".maps") = { .values = { &in1, [1] = &in2 } };
SEC("kprobe/tail") int tail(void *ctx) { return 0; }
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 2); __type(key, __u32); __array(values, int (void *)); } progs SEC(".maps") = { .values = { [1] = (void *)&tail } };
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
int zero_init = 0;
int uninit;
int data_init = 3;
int *ptr_init = &data_init;
const int ro = 7;
const volatile __u64 knob = 100;
static int unused_static = 5;
static const char table[4] = { 1, 2, 3, 4 };
SEC("kprobe/prog") int prog(void *ctx) {
  static __u32 calls;
  __u32 k = 0;
  void *m = bpf_map_lookup_elem(&outer, &k);
  calls++;
  bpf_tail_call(ctx, &progs, 1);
  bpf_printk("calls %d", calls);
  return (m != 0) + LINUX_KERNEL_VERSION + *ptr_init + ro + knob + table[k & 3] + uninit + zero_init;
}
char LICENSE[] SEC("license") = "GPL";
`;

function globalsOf(
  unit: CompiledUnit,
): Record<string, { section: string; global: boolean; size: number; relocs: string[] }> {
  const out: Record<string, { section: string; global: boolean; size: number; relocs: string[] }> =
    {};
  for (const g of unit.globals) {
    out[g.name] = {
      section: g.section,
      global: g.global,
      size: g.bytes.length,
      relocs: g.dataRelocs.map((r) => `${r.offset}:${r.symbol}:${r.kind}`),
    };
  }
  return out;
}

describe("globals", () => {
  const unit = tsbpfCompile(GLOBALS);
  const gl = globalsOf(unit);

  it("go in the sections clang puts them in", () => {
    expect(gl).toMatchObject({
      in1: { section: ".maps", global: true, size: 32 },
      in2: { section: ".maps", global: true, size: 32 },
      outer: { section: ".maps", size: 40, relocs: ["24:in1:abs64", "32:in2:abs64"] },
      progs: { section: ".maps", size: 40, relocs: ["32:tail:abs64"] },
      zero_init: { section: ".bss", size: 4 },
      uninit: { section: ".bss", size: 4 },
      data_init: { section: ".data", size: 4 },
      ptr_init: { section: ".data", size: 8, relocs: ["0:data_init:abs64"] },
      ro: { section: ".rodata", size: 4 },
      knob: { section: ".rodata", size: 8 },
      "prog.calls": { section: ".bss", global: false, size: 4 },
      LICENSE: { section: "license", size: 4 },
      LINUX_KERNEL_VERSION: { section: ".kconfig" },
    });
    // Unused statics leave the object, as with clang; a const table read at a run-time index stays.
    expect(gl.unused_static).toBeUndefined();
    expect(gl.table).toMatchObject({ section: ".rodata.cst4", global: false, size: 4 });
    const ext = unit.globals.find((g) => g.name === "LINUX_KERNEL_VERSION")!;
    expect(ext.external).toEqual({ weak: false, section: ".kconfig" });
  });

  it.skipIf(!hasClang)("have the names, sections and sizes of clang's symbols", () => {
    const elf = readElf(clangCompile(GLOBALS), "g.o");
    for (const g of unit.globals) {
      if (g.name.startsWith(".")) continue; // private string literals have no symbol
      const sym = elf.symbols.find((s) => s.name === g.name);
      expect(sym, g.name).toBeDefined();
      if (g.external) continue;
      expect(elf.sections[sym!.shndx]!.name, g.name).toBe(
        g.section === ".rodata.str1.1" ? ".rodata.str1.1" : g.section,
      );
      expect(sym!.size, g.name).toBe(g.bytes.length);
    }
  });

  it("have their initial bytes", () => {
    const bytes = (name: string): number[] => [...unit.globals.find((g) => g.name === name)!.bytes];
    expect(bytes("data_init")).toEqual([3, 0, 0, 0]);
    expect(bytes("ro")).toEqual([7, 0, 0, 0]);
    expect(bytes("knob")).toEqual([100, 0, 0, 0, 0, 0, 0, 0]);
    expect(bytes("LICENSE")).toEqual([0x47, 0x50, 0x4c, 0]);
    const fmt = unit.globals.find((g) => g.section === ".rodata" && g.name.endsWith("____fmt"))!;
    expect(Buffer.from(fmt.bytes).toString("latin1")).toBe("calls %d\0");
  });

  it("are referenced by relocations on lddw", () => {
    const prog = unit.functions.find((f) => f.name === "prog")!;
    const kinds = prog.relocs.map((r) => `${r.kind}:${r.symbol}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "map:outer",
        "map:progs",
        "data:prog.calls",
        "data:LINUX_KERNEL_VERSION",
        "data:ptr_init",
        "data:knob",
      ]),
    );
    for (const r of prog.relocs) expect(prog.insns[r.insn]!.code).toBe(0x18); // lddw
  });
});

describe("instructions", () => {
  it("call and callback relocations name their functions", () => {
    const unit = tsbpfCompile(String.raw`
      #include <linux/bpf.h>
      #include <bpf/bpf_helpers.h>
      extern int bpf_kfunc_example(int x) __ksym;
      static __noinline int helper(int x) { return x * 3; }
      static int cb(__u32 i, void *c) { return 0; }
      SEC("kprobe/p") int p(void *ctx) { bpf_loop(4, cb, 0, 0); return helper(bpf_kfunc_example(2)); }
    `);
    const p = unit.functions.find((f) => f.name === "p")!;
    expect(p.relocs.map((r) => `${r.kind}:${r.symbol}`).sort()).toEqual([
      "call:bpf_kfunc_example",
      "call:helper",
      "func_addr:cb",
    ]);
    const call = p.relocs.find((r) => r.symbol === "helper")!;
    expect(p.insns[call.insn]).toMatchObject({ code: 0x85, src: 1 }); // BPF_PSEUDO_CALL
    expect(unit.functions.map((f) => `${f.section}:${f.name}`).sort()).toEqual([
      ".text:cb",
      ".text:helper",
      "kprobe/p:p",
    ]);
  });

  it("stack objects alive at different times share bytes (two inlined 300-byte buffers fit)", () => {
    const source = `
      typedef unsigned long long u64;
      static long (*probe)(void *d, unsigned s, const void *p) = (void *) 4;
      static __attribute__((always_inline)) int one(u64 *m) { char a[300]; for (int i = 0; i < 300; i += 50) a[i] = m[0] + i; probe(a + 250, 8, m); return a[50] + a[m[1] % 300 / 50 * 50]; }
      static __attribute__((always_inline)) int two(u64 *m) { char b[300]; for (int i = 0; i < 300; i += 60) b[i] = m[2] ^ i; return b[60] + b[m[3] % 300 / 60 * 60]; }
      __attribute__((section("kprobe/x"), used)) int f(u64 *m) { int x = one(m); m[5] = x; return x + two(m); }
      __attribute__((section("kprobe/y"), used)) int g(u64 *m) { char a[200], b[200]; probe(a, 200, m); probe(b, 200, m + 1); return a[m[0] % 200] + b[m[1] % 200]; }`;
    const unit = tsbpfCompile(source);
    expect(unit.functions.find((x) => x.name === "f")!.stackSize).toBeLessThanOrEqual(304);
    // a and b of g are both alive at the end: no sharing there.
    expect(unit.functions.find((x) => x.name === "g")!.stackSize).toBe(400);
    // The same results as clang's (whose stack colouring shares these buffers too).
    if (!hasClang) return;
    const theirs = imageFromObject(clangCompile(source));
    for (const seed of [1, 2, 3]) {
      const ctx = randomBytes(seed, 64);
      for (const program of ["f", "g"]) {
        const a = runImage(imageFromUnit(unit), { program, ctx });
        const b = runImage(theirs, { program, ctx });
        delete a.insns;
        delete b.insns;
        expect(a).toEqual(b);
      }
    }
  });

  it("stack sizes add up the frame's objects, 8-byte aligned", () => {
    const unit = tsbpfCompile(`
      static long (*probe)(void *d, unsigned s, const void *p) = (void *) 4;
      int f(void *ctx) { char a[13]; long b; probe(a, 13, ctx); probe(&b, 8, ctx); return a[1] + b; }`);
    expect(unit.functions[0]!.stackSize).toBe(24);
  });
});

describe.skipIf(!hasClang)("line marks", () => {
  const DIR = join(dirname(fileURLToPath(import.meta.url)), "programs");
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".bpf.c"))) {
    it(`name every source line clang's line_info names (${file})`, () => {
      const source = readFileSync(join(DIR, file), "utf8");
      const unit = tsbpfCompile(source, { debugLines: true }, file);
      const obj = openObject(clangCompile(source), file);
      for (const p of obj.programs) {
        const f = unit.functions.find((x) => x.name === p.name)!;
        const ours = new Set(f.lines.filter((l) => l.pos.file === file).map((l) => l.pos.line));
        const theirs = new Set(
          p.lineInfo.filter((l) => l.fileName.endsWith(file)).map((l) => l.line),
        );
        expect([...theirs].filter((l) => !ours.has(l))).toEqual([]);
        // Marks are in instruction order and point inside the function's insns.
        for (let i = 1; i < f.lines.length; i++)
          expect(f.lines[i]!.insn).toBeGreaterThan(f.lines[i - 1]!.insn);
        expect(f.lines[0]!.insn).toBe(0);
        expect(f.lines.at(-1)!.insn).toBeLessThan(f.insns.length);
      }
    });
  }
});

describe("features clang 14 cannot compile", () => {
  it("__atomic_load_n and __atomic_store_n are plain loads and stores", () => {
    const unit = tsbpfCompile(`
      typedef unsigned long long u64;
      __attribute__((section("kprobe/x"), used)) int prog(u64 *m) {
        __atomic_store_n(&m[1], __atomic_load_n(&m[0], __ATOMIC_ACQUIRE) + 5, __ATOMIC_RELEASE);
        return 0;
      }`);
    const ctx = randomBytes(5, 64);
    const out = runImage(imageFromUnit(unit), { program: "prog", ctx });
    const v = new DataView(ctx.buffer);
    const want = (v.getBigUint64(0, true) + 5n) & 0xffffffffffffffffn;
    const got = Buffer.from(out.ctx, "hex").readBigUInt64LE(8);
    expect(got).toBe(want);
  });
});
