// Differential-test harness for code generation: the same C compiled by tsbpf (a CompiledUnit,
// no object file needed) and by clang 14 (an ELF object read with runtime/object), linked the
// way libbpf links (.text functions appended, bpf-to-bpf calls and map/global lddw resolved),
// then run in the interpreter against one small simulated kernel: hash and array maps whose
// values live in the address space, global data regions, and the tracing helpers programs use.
// Everything a run leaves behind (r0, trace_printk output, perf/ring buffer records, map
// contents, global data, the ctx buffer) is collected so two runs can be compared whole.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Insn } from "../../runtime/isa/insn.js";
import * as op from "../../runtime/isa/opcodes.js";
import { HelperTable, type HelperContext } from "../../runtime/vm/helpers.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { AddressSpace, KERNEL_HI, type Region } from "../../runtime/vm/memory.js";
import { funcIndex, prepareProgram } from "../../runtime/vm/program.js";
import { openObject } from "../../runtime/object/open.js";
import { helperByName } from "../../runtime/uapi/helpers.js";
import { checkProgram } from "../../compiler/frontend.js";
import { generate, type CodegenOptions } from "../../compiler/codegen.js";
import type { CompiledGlobal, CompiledUnit } from "../../compiler/unit.js";
import { type CType, canonical, sizeOf } from "../../compiler/types.js";

// ---- tools ----

function works(cmd: string, args: string[]): boolean {
  try {
    return spawnSync(cmd, args, { encoding: "utf8" }).status === 0;
  } catch {
    return false;
  }
}
export const hasClang = works("clang", ["--version"]);

export const INCLUDES = ["/usr/include/x86_64-linux-gnu"];

/** Compiles C with clang -O2 -target bpf; returns the object's bytes. */
export function clangCompile(source: string, cpu = "v3", extra: string[] = []): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-codegen-"));
  try {
    const src = join(dir, "prog.c");
    const out = join(dir, "prog.o");
    writeFileSync(src, source);
    execFileSync(
      "clang",
      [
        "-O2",
        "-g",
        "-target",
        "bpf",
        `-mcpu=${cpu}`,
        "-D__TARGET_ARCH_x86",
        ...INCLUDES.map((i) => `-I${i}`),
        ...extra,
        "-c",
        src,
        "-o",
        out,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compiles C with tsbpf. */
export function tsbpfCompile(
  source: string,
  opts: Partial<CodegenOptions> = {},
  file = "prog.c",
): CompiledUnit {
  const checked = checkProgram(
    { file, source },
    { includeDirs: INCLUDES, defines: ["__TARGET_ARCH_x86"], optimize: (opts.optLevel ?? 2) > 0 },
  );
  return generate(checked, {
    optLevel: opts.optLevel ?? 2,
    cpu: opts.cpu ?? "v3",
    debugLines: opts.debugLines ?? false,
  });
}

// ---- linked images ----

type Link =
  | { insn: number; kind: "map"; map: string }
  | { insn: number; kind: "data"; object: string; offset: number }
  /** lddw of a function's address: BPF_PSEUDO_FUNC with the relative offset (set at link time). */
  | { insn: number; kind: "func" };

export interface Linked {
  name: string;
  insns: Insn[];
  links: Link[];
}

export interface MapSpec {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
}

export interface DataSpec {
  key: string;
  bytes: Uint8Array;
  /** 64-bit pointers inside the data: the address of `target` + the addend already in the bytes. */
  relocs: { offset: number; target: string }[];
  /** Named objects in it, for comparing contents by name. */
  symbols: { name: string; offset: number; size: number }[];
}

export interface Image {
  programs: Map<string, Linked>;
  maps: MapSpec[];
  data: DataSpec[];
}

const cloneInsns = (insns: readonly Insn[]): Insn[] => insns.map((i) => ({ ...i }));

/** Links a tsbpf CompiledUnit: .text functions appended to each program. */
export function imageFromUnit(unit: CompiledUnit): Image {
  const text: Insn[] = [];
  const textStart = new Map<string, number>();
  const textLinks: Link[] = [];
  const pending: { at: number; symbol: string }[] = [];
  const addCode = (
    insns: Insn[],
    base: number,
    relocs: CompiledUnit["functions"][number]["relocs"],
    links: Link[],
    calls: { at: number; symbol: string }[],
  ): void => {
    for (const r of relocs) {
      const at = base + r.insn;
      if (r.kind === "map") links.push({ insn: at, kind: "map", map: r.symbol });
      else if (r.kind === "data")
        links.push({ insn: at, kind: "data", object: r.symbol, offset: r.addend });
      else if (r.kind === "call") calls.push({ at, symbol: r.symbol });
      else {
        calls.push({ at, symbol: r.symbol });
        links.push({ insn: at, kind: "func" });
      }
    }
    void insns;
  };
  for (const f of unit.functions) {
    if (f.section !== ".text") continue;
    textStart.set(f.name, text.length);
    addCode(f.insns, text.length, f.relocs, textLinks, pending);
    text.push(...cloneInsns(f.insns));
  }
  const programs = new Map<string, Linked>();
  for (const f of unit.functions) {
    if (f.section === ".text") continue;
    const insns = cloneInsns(f.insns);
    const links: Link[] = [];
    const calls: { at: number; symbol: string }[] = [];
    addCode(insns, 0, f.relocs, links, calls);
    const base = insns.length;
    if (calls.length || pending.length) {
      insns.push(...cloneInsns(text));
      for (const l of textLinks) links.push({ ...l, insn: l.insn + base });
      for (const c of pending) calls.push({ at: c.at + base, symbol: c.symbol });
    }
    for (const c of calls) {
      const start = textStart.get(c.symbol);
      if (start === undefined) throw new Error(`harness: call to unknown ${c.symbol}`);
      insns[c.at]!.imm = base + start - (c.at + 1);
    }
    programs.set(f.name, { name: f.name, insns, links });
  }
  const maps: MapSpec[] = [];
  const data: DataSpec[] = [];
  for (const g of unit.globals) {
    if (g.section === "maps") maps.push(legacyMap(g));
    else if (g.section === ".maps") maps.push(btfMap(g));
    else if (g.external === undefined && g.section !== "license" && g.section !== "version")
      data.push({
        key: g.name,
        bytes: g.bytes,
        relocs: g.dataRelocs.map((r) => ({ offset: r.offset, target: r.symbol })),
        symbols: [{ name: g.name, offset: 0, size: g.bytes.length }],
      });
  }
  return { programs, maps, data };
}

function legacyMap(g: CompiledGlobal): MapSpec {
  const v = new DataView(g.bytes.buffer, g.bytes.byteOffset, g.bytes.byteLength);
  return {
    name: g.name,
    type: v.getUint32(0, true),
    keySize: v.getUint32(4, true),
    valueSize: v.getUint32(8, true),
    maxEntries: v.getUint32(12, true),
  };
}

/** Reads `__uint(type, N)`, `__type(key, T)` ... from a BTF-defined map's struct type. */
function btfMap(g: CompiledGlobal): MapSpec {
  const c = canonical(g.type);
  const spec: MapSpec = { name: g.name, type: 0, keySize: 0, valueSize: 0, maxEntries: 0 };
  if (c.kind !== "record") return spec;
  for (const m of c.decl.members ?? []) {
    const t = canonical(m.type);
    if (t.kind !== "pointer") continue;
    const p = canonical(t.pointee);
    const num = p.kind === "array" ? (p.length ?? 0) : undefined;
    const size = (x: CType): number => sizeOf(x);
    switch (m.name) {
      case "type":
        spec.type = num ?? 0;
        break;
      case "max_entries":
        spec.maxEntries = num ?? 0;
        break;
      case "key_size":
        spec.keySize = num ?? 0;
        break;
      case "value_size":
        spec.valueSize = num ?? 0;
        break;
      case "key":
        spec.keySize = size(t.pointee);
        break;
      case "value":
        spec.valueSize = size(t.pointee);
        break;
    }
  }
  return spec;
}

/** Links a clang object the way libbpf does (through runtime/object's open phase). */
export function imageFromObject(bytes: Uint8Array): Image {
  const obj = openObject(bytes, "prog.o");
  const textLen = Math.max(0, ...obj.subprograms.map((s) => s.sectionInsnOffset + s.insns.length));
  const text: Insn[] = Array.from({ length: textLen }, () => ({
    code: 0,
    dst: 0,
    src: 0,
    off: 0,
    imm: 0,
  }));
  const textLinks: Link[] = [];
  const textCalls: { at: number; target: number }[] = [];
  const mapName = (i: number): string => obj.maps[i]!.realName;
  const collect = (
    p: (typeof obj.programs)[number],
    base: number,
    links: Link[],
    calls: { at: number; target: number }[],
  ): void => {
    for (const r of p.relocations) {
      const at = base + r.insn;
      if (r.kind === "map") links.push({ insn: at, kind: "map", map: mapName(r.map) });
      else if (r.kind === "data")
        links.push({
          insn: at,
          kind: "data",
          object: mapName(r.map),
          offset: r.offset + (p.insns[r.insn]!.imm | 0),
        });
      else if (r.kind === "call") calls.push({ at, target: r.target });
      else {
        calls.push({ at, target: r.target });
        links.push({ insn: at, kind: "func" });
      }
    }
  };
  for (const s of obj.subprograms) {
    s.insns.forEach((insn, i) => (text[s.sectionInsnOffset + i] = { ...insn }));
    collect(s, s.sectionInsnOffset, textLinks, textCalls);
  }
  const programs = new Map<string, Linked>();
  for (const p of obj.programs) {
    const insns = cloneInsns(p.insns);
    const links: Link[] = [];
    const calls: { at: number; target: number }[] = [];
    collect(p, 0, links, calls);
    const base = insns.length;
    if (textLen > 0) {
      insns.push(...cloneInsns(text));
      for (const l of textLinks) links.push({ ...l, insn: l.insn + base });
      for (const c of textCalls) calls.push({ at: c.at + base, target: c.target });
    }
    for (const c of calls) {
      // A call relocation's target is a slot of .text; calls inside .text are already relative.
      insns[c.at]!.imm = base + c.target - (c.at + 1);
    }
    // Calls between .text functions were encoded relative by clang: keep them.
    programs.set(p.name, { name: p.name, insns, links });
  }
  const maps: MapSpec[] = [];
  const data: DataSpec[] = [];
  const symtab = obj.elf.symbols;
  for (const m of obj.maps) {
    if (m.origin === "legacy" || m.origin === "btf") {
      maps.push({
        name: m.realName,
        type: m.type,
        keySize: m.keySize,
        valueSize: m.valueSize,
        maxEntries: m.maxEntries,
      });
      continue;
    }
    const bytes = m.initialValue ? new Uint8Array(m.initialValue) : new Uint8Array(m.valueSize);
    const symbols = symtab
      .filter((s) => s.shndx === m.sectionIndex && s.type === 1 /* STT_OBJECT */)
      .map((s) => ({ name: s.name, offset: Number(s.value), size: Number(s.size) }));
    // Pointers inside the section: R_BPF_64_ABS64 against a symbol of another data section.
    const relocs: DataSpec["relocs"] = [];
    for (const t of obj.elf.relocations) {
      if (t.target.index !== m.sectionIndex) continue;
      for (const r of t.entries) {
        const sym = symtab[r.symbol]!;
        const target = obj.maps.find((x) => x.sectionIndex === sym.shndx);
        if (!target) continue;
        const view = new DataView(bytes.buffer, bytes.byteOffset);
        view.setBigUint64(r.offset, view.getBigUint64(r.offset, true) + BigInt(sym.value), true);
        relocs.push({ offset: r.offset, target: target.realName });
      }
    }
    data.push({ key: m.realName, bytes, relocs, symbols });
  }
  return { programs, maps, data };
}

// ---- the simulated kernel ----

const ids = {
  lookup: helperByName("map_lookup_elem")!.id,
  update: helperByName("map_update_elem")!.id,
  delete: helperByName("map_delete_elem")!.id,
  probeRead: helperByName("probe_read")!.id,
  probeReadKernel: helperByName("probe_read_kernel")!.id,
  probeReadUser: helperByName("probe_read_user")!.id,
  probeReadStr: helperByName("probe_read_str")!.id,
  probeReadKernelStr: helperByName("probe_read_kernel_str")!.id,
  probeReadUserStr: helperByName("probe_read_user_str")!.id,
  ktime: helperByName("ktime_get_ns")!.id,
  printk: helperByName("trace_printk")!.id,
  prandom: helperByName("get_prandom_u32")!.id,
  cpu: helperByName("get_smp_processor_id")!.id,
  pidTgid: helperByName("get_current_pid_tgid")!.id,
  uidGid: helperByName("get_current_uid_gid")!.id,
  comm: helperByName("get_current_comm")!.id,
  perfOut: helperByName("perf_event_output")!.id,
  task: helperByName("get_current_task")!.id,
  ringbufOutput: helperByName("ringbuf_output")!.id,
  ringbufReserve: helperByName("ringbuf_reserve")!.id,
  ringbufSubmit: helperByName("ringbuf_submit")!.id,
  ringbufDiscard: helperByName("ringbuf_discard")!.id,
  loop: helperByName("loop")!.id,
};

const BPF_MAP_TYPE_HASH = 1;
const BPF_MAP_TYPE_ARRAY = 2;
const BPF_MAP_TYPE_PERCPU_HASH = 5;
const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
const BPF_MAP_TYPE_LRU_HASH = 9;

class SimMap {
  readonly handle: Region;
  private readonly array: Region | undefined;
  private readonly entries = new Map<string, Region>();
  constructor(
    readonly spec: MapSpec,
    private readonly memory: AddressSpace,
  ) {
    this.handle = memory.alloc(8, {
      name: `map:${spec.name}`,
      kind: "kernel_object",
      readable: false,
      writable: false,
    });
    if (this.isArray)
      this.array = memory.alloc(Math.max(1, spec.maxEntries * spec.valueSize), {
        name: `array:${spec.name}`,
        kind: "map_value",
      });
  }
  get isArray(): boolean {
    return this.spec.type === BPF_MAP_TYPE_ARRAY || this.spec.type === BPF_MAP_TYPE_PERCPU_ARRAY;
  }
  get isHash(): boolean {
    const t = this.spec.type;
    return t === BPF_MAP_TYPE_HASH || t === BPF_MAP_TYPE_PERCPU_HASH || t === BPF_MAP_TYPE_LRU_HASH;
  }
  lookup(key: Uint8Array): Region | { region: Region; offset: number } | undefined {
    if (this.array) {
      const idx = new DataView(key.buffer, key.byteOffset).getUint32(0, true);
      return idx < this.spec.maxEntries
        ? { region: this.array, offset: idx * this.spec.valueSize }
        : undefined;
    }
    return this.entries.get(hex(key));
  }
  update(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (this.array) {
      const idx = new DataView(key.buffer, key.byteOffset).getUint32(0, true);
      if (idx >= this.spec.maxEntries) return -7;
      if (flags === 1) return -17;
      this.memory.u8.set(value, this.array.base + idx * this.spec.valueSize);
      return 0;
    }
    const k = hex(key);
    const known = this.entries.get(k);
    if (known && flags === 1) return -17;
    if (!known && flags === 2) return -2;
    if (!known && this.entries.size >= this.spec.maxEntries) return -7;
    const r =
      known ??
      this.memory.alloc(Math.max(1, this.spec.valueSize), {
        name: `value:${this.spec.name}`,
        kind: "map_value",
      });
    this.memory.u8.set(value, r.base);
    this.entries.set(k, r);
    return 0;
  }
  delete(key: Uint8Array): number {
    if (this.array) return -22;
    const r = this.entries.get(hex(key));
    if (!r) return -2;
    this.entries.delete(hex(key));
    this.memory.free(r);
    return 0;
  }
  /** Contents as sorted "key=value" lines. */
  dump(): string[] {
    if (this.array) {
      const out: string[] = [];
      for (let i = 0; i < this.spec.maxEntries; i++) {
        const v = this.memory.u8.slice(
          this.array.base + i * this.spec.valueSize,
          this.array.base + (i + 1) * this.spec.valueSize,
        );
        if (v.some((b) => b !== 0)) out.push(`${i}=${hex(v)}`);
      }
      return out;
    }
    return [...this.entries.entries()]
      .map(([k, r]) => `${k}=${hex(this.memory.u8.slice(r.base, r.base + this.spec.valueSize))}`)
      .sort();
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

export interface Outcome {
  r0: string;
  trace: string[];
  output: string[];
  maps: Record<string, string[]>;
  data: Record<string, string>;
  ctx: string;
  fault?: string;
  insns?: number;
}

export interface RunSpec {
  /** Program (function) name. */
  program: string;
  /** Bytes of the buffer r1 points to. */
  ctx: Uint8Array;
  /** Runs in a row on the same kernel (maps and globals persist). */
  times?: number;
}

/** Runs a program of an image in a fresh simulated kernel and collects everything it changed. */
export function runImage(image: Image, spec: RunSpec): Outcome {
  const memory = new AddressSpace(4);
  const maps = new Map<string, SimMap>();
  for (const m of image.maps) maps.set(m.name, new SimMap(m, memory));
  const mapByHandle = new Map<number, SimMap>();
  for (const m of maps.values()) mapByHandle.set(m.handle.base, m);
  const dataRegions = new Map<string, Region>();
  for (const d of image.data) {
    const r = memory.alloc(Math.max(1, d.bytes.length), {
      name: `data:${d.key}`,
      kind: "map_value",
    });
    memory.u8.set(d.bytes, r.base);
    dataRegions.set(d.key, r);
  }
  for (const d of image.data) {
    const r = dataRegions.get(d.key)!;
    for (const rel of d.relocs) {
      const target = dataRegions.get(rel.target);
      if (!target) continue;
      const at = r.base + rel.offset;
      const addend = memory.view.getUint32(at, true);
      memory.view.setUint32(at, (target.base + addend) >>> 0, true);
      memory.view.setUint32(at + 4, KERNEL_HI >>> 0, true);
    }
  }
  const ctx = memory.alloc(spec.ctx.length, { name: "ctx", kind: "ctx" });
  memory.u8.set(spec.ctx, ctx.base);
  const task = memory.alloc(256, { name: "task", kind: "kernel_object" });
  for (let i = 0; i < 256; i++) memory.u8[task.base + i] = (i * 7 + 3) & 0xff;
  const trace: string[] = [];
  const output: string[] = [];
  let clock = 1_000_000;
  let seed = 12345;
  const helpers = new HelperTable();
  const reg = (vm: HelperContext, r: number): [number, number] => [
    vm.regs[2 * r]!,
    vm.regs[2 * r + 1]!,
  ];
  const ret = (vm: HelperContext, v: number): void => {
    vm.regs[0] = v | 0;
    vm.regs[1] = v < 0 ? -1 : 0;
  };
  const retAddr = (vm: HelperContext, lo: number): void => {
    vm.regs[0] = lo | 0;
    vm.regs[1] = lo === 0 ? 0 : KERNEL_HI;
  };
  const mapOf = (vm: HelperContext): SimMap => {
    const m = mapByHandle.get(vm.regs[2]! >>> 0) ?? mapByHandle.get(vm.regs[2]!);
    if (!m) throw new Error("harness: helper called with something that is not a map");
    return m;
  };
  const read = (vm: HelperContext, r: number, n: number): Uint8Array => {
    const [lo, hi] = reg(vm, r);
    return memory.readBytes(lo, hi, n);
  };
  helpers.register(ids.lookup, "map_lookup_elem", (vm) => {
    const m = mapOf(vm);
    const v = m.lookup(read(vm, 2, m.spec.keySize));
    if (v === undefined) return retAddr(vm, 0);
    if ("region" in v) return retAddr(vm, v.region.lo(v.offset));
    retAddr(vm, v.lo());
  });
  helpers.register(ids.update, "map_update_elem", (vm) => {
    const m = mapOf(vm);
    ret(vm, m.update(read(vm, 2, m.spec.keySize), read(vm, 3, m.spec.valueSize), vm.regs[8]!));
  });
  helpers.register(ids.delete, "map_delete_elem", (vm) => {
    const m = mapOf(vm);
    ret(vm, m.delete(read(vm, 2, m.spec.keySize)));
  });
  const probeRead = (vm: HelperContext): void => {
    const [dl, dh] = reg(vm, 1);
    const [sl, sh] = reg(vm, 3);
    ret(vm, memory.probeRead(dl, dh, sl, sh, vm.regs[4]! >>> 0) ? 0 : -14);
  };
  const probeReadStr = (vm: HelperContext): void => {
    const [dl, dh] = reg(vm, 1);
    const [sl, sh] = reg(vm, 3);
    ret(vm, memory.probeReadStr(dl, dh, sl, sh, vm.regs[4]! >>> 0));
  };
  helpers.register(ids.probeRead, "probe_read", probeRead);
  helpers.register(ids.probeReadKernel, "probe_read_kernel", probeRead);
  helpers.register(ids.probeReadUser, "probe_read_user", probeRead);
  helpers.register(ids.probeReadStr, "probe_read_str", probeReadStr);
  helpers.register(ids.probeReadKernelStr, "probe_read_kernel_str", probeReadStr);
  helpers.register(ids.probeReadUserStr, "probe_read_user_str", probeReadStr);
  helpers.register(ids.ktime, "ktime_get_ns", (vm) => {
    clock += 1000;
    ret(vm, clock);
  });
  helpers.register(ids.printk, "trace_printk", (vm) => {
    const fmt = read(vm, 1, vm.regs[4]! >>> 0);
    const args = [3, 4, 5].map((r) => hex64(vm.regs[2 * r]!, vm.regs[2 * r + 1]!));
    trace.push(`${Buffer.from(fmt).toString("latin1")}|${args.join(",")}`);
    ret(vm, fmt.length);
  });
  helpers.register(ids.prandom, "get_prandom_u32", (vm) => {
    seed = (Math.imul(seed, 1103515245) + 12345) | 0;
    vm.regs[0] = seed;
    vm.regs[1] = 0;
  });
  helpers.register(ids.cpu, "get_smp_processor_id", (vm) => ret(vm, 0));
  helpers.register(ids.pidTgid, "get_current_pid_tgid", (vm) => {
    vm.regs[0] = 4321;
    vm.regs[1] = 4320;
  });
  helpers.register(ids.uidGid, "get_current_uid_gid", (vm) => {
    vm.regs[0] = 1000;
    vm.regs[1] = 1001;
  });
  helpers.register(ids.comm, "get_current_comm", (vm) => {
    const [lo, hi] = reg(vm, 1);
    const size = vm.regs[4]! >>> 0;
    const name = new Uint8Array(size);
    name.set(Buffer.from("test-comm").subarray(0, Math.max(0, size - 1)));
    memory.writeBytes(lo, hi, name);
    ret(vm, 0);
  });
  helpers.register(ids.perfOut, "perf_event_output", (vm) => {
    output.push(`perf:${hex(read(vm, 4, vm.regs[10]! >>> 0))}`);
    ret(vm, 0);
  });
  helpers.register(ids.ringbufOutput, "ringbuf_output", (vm) => {
    output.push(`ringbuf:${hex(read(vm, 2, vm.regs[6]! >>> 0))}`);
    ret(vm, 0);
  });
  helpers.register(ids.task, "get_current_task", (vm) => retAddr(vm, task.lo()));
  const reserved = new Map<number, Region>();
  helpers.register(ids.ringbufReserve, "ringbuf_reserve", (vm) => {
    const r = memory.alloc(Math.max(1, vm.regs[4]! >>> 0), {
      name: "ringbuf record",
      kind: "map_value",
    });
    reserved.set(r.base, r);
    retAddr(vm, r.lo());
  });
  const release = (vm: HelperContext, keep: boolean): void => {
    const r = reserved.get(vm.regs[2]! >>> 0);
    if (!r) throw new Error("harness: ringbuf submit of something not reserved");
    if (keep) output.push(`ringbuf:${hex(memory.u8.slice(r.base, r.base + r.size))}`);
    reserved.delete(r.base);
    memory.free(r);
  };
  helpers.register(ids.ringbufSubmit, "ringbuf_submit", (vm) => release(vm, true));
  helpers.register(ids.loop, "loop", (vm) => {
    const n = vm.regs[2]! >>> 0;
    const pc = funcIndex(vm.regs[4]!, vm.regs[5]!, vm.program.length);
    if (pc < 0) throw new Error("harness: bpf_loop callback is not a function address");
    const ctxArg = [vm.regs[6]!, vm.regs[7]!];
    let i = 0;
    for (; i < n; i++) {
      const r = vm.callSubprogram(pc, [i, 0, ctxArg[0]!, ctxArg[1]!]);
      if (r.lo !== 0) {
        i++;
        break;
      }
    }
    ret(vm, i);
  });
  helpers.register(ids.ringbufDiscard, "ringbuf_discard", (vm) => release(vm, false));

  const linked = image.programs.get(spec.program);
  if (!linked) throw new Error(`harness: no program ${spec.program}`);
  const insns = cloneInsns(linked.insns);
  const handles: (SimMap | { region: Region })[] = [];
  for (const l of linked.links) {
    const insn = insns[l.insn]!;
    if (l.kind === "func") {
      insn.src = op.BPF_PSEUDO_FUNC;
      continue;
    }
    if (l.kind === "map") {
      const m = maps.get(l.map);
      if (!m) throw new Error(`harness: no map ${l.map}`);
      insn.src = op.BPF_PSEUDO_MAP_FD;
      insn.imm = handles.push(m) - 1;
    } else {
      const r = dataRegions.get(l.object);
      if (!r) throw new Error(`harness: no data ${l.object}`);
      insn.src = op.BPF_PSEUDO_MAP_VALUE;
      insn.imm = handles.push({ region: r }) - 1;
      insns[l.insn + 1]!.imm = l.offset;
    }
  }
  const program = prepareProgram(insns, {
    name: spec.program,
    resolvePseudo: (src, imm, nextImm) => {
      const h = handles[imm]!;
      if (h instanceof SimMap) return [h.handle.lo(), h.handle.addressHi];
      return [h.region.lo(src === op.BPF_PSEUDO_MAP_VALUE ? nextImm : 0), h.region.addressHi];
    },
  });
  const vm = new Interpreter({ memory, helpers });
  const outcome: Outcome = { r0: "", trace, output, maps: {}, data: {}, ctx: "" };
  try {
    for (let i = 0; i < (spec.times ?? 1); i++) {
      // The ctx bytes are the packet legacy loads (load_byte...) read, as a socket filter's skb data.
      const r = vm.run(program, {
        args: [[ctx.lo(), ctx.addressHi]],
        budget: 1 << 22,
        packet: ctx,
      });
      // Programs return int: the kernel reads the low 32 bits (tsbpf zero-extends, clang may not).
      outcome.r0 = (r.lo >>> 0).toString(16).padStart(8, "0");
    }
  } catch (e) {
    outcome.fault = (e as Error).message.replace(/insn \d+/, "insn N");
  }
  outcome.insns = vm.insns;
  for (const [name, m] of maps) outcome.maps[name] = m.dump();
  for (const d of image.data) {
    const r = dataRegions.get(d.key)!;
    for (const s of d.symbols) {
      if (s.name.startsWith(".")) continue;
      outcome.data[s.name] = hex(memory.u8.slice(r.base + s.offset, r.base + s.offset + s.size));
    }
  }
  outcome.ctx = hex(memory.u8.slice(ctx.base, ctx.base + spec.ctx.length));
  return outcome;
}

function hex64(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

/** Static instruction count of a program (its own function, not the appended .text). */
export function programSize(image: Image, name: string, unit?: CompiledUnit): number {
  if (unit)
    return unit.functions.filter((f) => f.name === name).reduce((n, f) => n + f.insns.length, 0);
  return image.programs.get(name)?.insns.length ?? 0;
}

/** Slots of every function (programs and .text) in a compiled unit / clang object. */
export function totalSlots(unit: CompiledUnit): number {
  return unit.functions.reduce((n, f) => n + f.insns.length, 0);
}

export function objectSlots(bytes: Uint8Array): number {
  const obj = openObject(bytes, "prog.o");
  return [...obj.programs, ...obj.subprograms].reduce((n, p) => n + p.insns.length, 0);
}

/** Deterministic pseudo-random bytes. */
export function randomBytes(seed: number, n: number): Uint8Array {
  let s = seed >>> 0 || 1;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

export { execFileSync };
