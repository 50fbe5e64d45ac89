// The JIT's rows of the "vm" section: ../shared/bench/*.data compiled to WebAssembly.
//
// Per program: the interpreter runs it once for the reference r0 and the executed instruction
// count (M insn/s divides that count by the JIT's wall time; the JIT does not count unless a
// budget asks it to); the JIT's compile time is the median of warm in-process compiles
// (CFG, structuring, code generation, encoding and WebAssembly.Module); then the compiled
// program runs `warmup` times (V8 first runs WebAssembly in its baseline compiler and switches
// to the optimizing one for later calls) and `runs` timed times. The row's mips is the default
// machine ("regions" checks: every load and store checked against the region table, as the
// interpreter does); mips_unchecked is the same program with only the inline address check
// (what verified programs get). Where bench/native has the program as C, native_mips is the
// same work as cc -O2 code (bench/native.ts): the yardstick that shows a JIT figure is real.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { compileModule } from "../runtime/jit/compile.js";
import type { MemoryChecks } from "../runtime/jit/codegen.js";
import { JitMachine } from "../runtime/jit/machine.js";
import { parseVector, testHelpers } from "../runtime/vm/conformance.js";
import { Interpreter } from "../runtime/vm/interpreter.js";
import { AddressSpace, hex64 } from "../runtime/vm/memory.js";
import { prepareProgram, type Program } from "../runtime/vm/program.js";
import { median, sharedDir, type BenchOptions, type BenchSection } from "./section.js";
import { runNative } from "./native.js";
import type { VmRow } from "./vm.js";

export interface JitRow extends VmRow {
  engine: "jit";
  /** median warm compile time of the program (ms) */
  compile_ms: number;
  /** size of the WebAssembly module (bytes) */
  wasm_bytes: number;
  /** M insn/s with unchecked ("address") memory accesses */
  mips_unchecked: number;
  /** the same program as C (bench/native), cc -O2: median CPU ms and M insn/s, if it has one */
  native_ms: number | null;
  native_mips: number | null;
}

interface Timed {
  lo: number;
  hi: number;
  ms: number;
  cpuMs: number;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Time `runs` runs of the program after `warmup` untimed ones; the first result is kept. */
function timeJit(
  program: Program,
  mem: Uint8Array,
  checks: MemoryChecks,
  options: BenchOptions,
): { first: Timed; ms: number; cpuMs: number } {
  const memory = new AddressSpace();
  const machine = new JitMachine({ memory, helpers: testHelpers(), checks });
  const region = memory.alloc(mem.length, { name: "mem", kind: "data" });
  const runOnce = (): Timed => {
    memory.u8.set(mem, region.base); // programs may write their buffer
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = machine.run(program, {
      args: [
        [region.addressLo, region.addressHi],
        [mem.length, 0],
      ],
    });
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    return { lo: result.lo, hi: result.hi, ms, cpuMs: (used.user + used.system) / 1000 };
  };
  const first = runOnce();
  for (let i = 1; i < options.warmup; i++) runOnce();
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const run = runOnce();
    times.push(run.ms);
    cpuTimes.push(run.cpuMs);
  }
  return { first, ms: median(times), cpuMs: median(cpuTimes) };
}

/** Executed instructions and r0 from one interpreter run (the reference). */
function interpreterReference(
  program: Program,
  mem: Uint8Array,
): { lo: number; hi: number; insns: number } {
  const memory = new AddressSpace();
  const vm = new Interpreter({ memory, helpers: testHelpers() });
  const region = memory.alloc(mem.length, { name: "mem", kind: "data" });
  memory.u8.set(mem, region.base);
  return vm.run(program, {
    args: [
      [region.addressLo, region.addressHi],
      [mem.length, 0],
    ],
    budget: Number.POSITIVE_INFINITY,
  });
}

/** Compile, check and time one benchmark file under the JIT. */
export function benchJit(file: string, options: BenchOptions): JitRow {
  const name = file.replace(/^.*\//, "").replace(/\.data$/, "");
  const vector = parseVector(readFileSync(file, "utf8"), name + ".data");
  const program = prepareProgram(vector.insns, { name });
  const reference = interpreterReference(program, vector.mem);

  const compileTimes: number[] = [];
  let wasmBytes = 0;
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const fresh = prepareProgram(vector.insns, { name });
    const start = performance.now();
    wasmBytes = compileModule(fresh).byteLength;
    if (i >= options.warmup) compileTimes.push(performance.now() - start);
  }

  const checked = timeJit(program, vector.mem, "regions", options);
  const unchecked = timeJit(program, vector.mem, "address", options);
  const problems: string[] = [];
  for (const [mode, t] of [
    ["regions", checked.first],
    ["address", unchecked.first],
  ] as const) {
    if (t.lo !== reference.lo || t.hi !== reference.hi) {
      problems.push(
        `${mode}: r0 ${hex64(t.lo, t.hi)}, interpreter ${hex64(reference.lo, reference.hi)}`,
      );
    }
  }
  const insns = reference.insns;
  const row: JitRow = {
    program: name + ".data",
    engine: "jit",
    insns,
    ms: round(checked.ms, 3),
    cpu_ms: round(checked.cpuMs, 3),
    ns_per_insn: round((checked.ms * 1e6) / insns, 3),
    mips: round(insns / checked.ms / 1000, 1),
    cpu_mips: round(insns / checked.cpuMs / 1000, 1),
    ok: problems.length === 0,
    compile_ms: round(median(compileTimes), 3),
    wasm_bytes: wasmBytes,
    mips_unchecked: round(insns / unchecked.ms / 1000, 1),
    native_ms: null,
    native_mips: null,
  };
  const native = runNative(name, options.runs);
  if (native !== undefined) {
    row.native_ms = round(native.ms, 3);
    row.native_mips = round(insns / native.ms / 1000, 1);
    const want = hex64(reference.lo, reference.hi);
    if (native.result !== want) problems.push(`native: r0 ${native.result}, interpreter ${want}`);
  }
  row.ok = problems.length === 0;
  if (problems.length > 0) row.error = problems.join("; ");
  return row;
}

export const jitSection: BenchSection<JitRow> = {
  key: "vm",
  title: "BPF programs under the JIT (../shared/bench; insns counted by the interpreter)",
  columns: [
    { header: "program", value: (r) => r.program },
    { header: "engine", value: (r) => r.engine },
    { header: "insns", value: (r) => r.insns },
    { header: "compile ms", value: (r) => r.compile_ms.toFixed(2) },
    { header: "wasm bytes", value: (r) => r.wasm_bytes },
    { header: "ms", value: (r) => r.ms.toFixed(2) },
    { header: "cpu ms", value: (r) => r.cpu_ms.toFixed(2) },
    { header: "ns/insn", value: (r) => r.ns_per_insn.toFixed(3) },
    { header: "M insn/s", value: (r) => r.mips.toFixed(1) },
    { header: "cpu M insn/s", value: (r) => r.cpu_mips.toFixed(1) },
    { header: "unchecked M insn/s", value: (r) => r.mips_unchecked.toFixed(1) },
    { header: "native M insn/s", value: (r) => r.native_mips?.toFixed(1) ?? null },
    { header: "check", value: (r) => (r.ok ? "ok" : `FAIL: ${r.error}`) },
  ],
  async run(options) {
    const dir = join(sharedDir(), "bench");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".data"))
      .filter((f) => options.filter === undefined || f.includes(options.filter))
      .sort();
    const rows: JitRow[] = [];
    for (const f of files) {
      options.log(`vm (jit): ${f}`);
      rows.push(benchJit(join(dir, f), options));
    }
    return rows;
  },
};
