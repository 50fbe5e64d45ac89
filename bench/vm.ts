// The "vm" section: ../shared/bench/*.data in the interpreter. Each program is checked first
// (r0 and the executed instruction count against the figures in the file), then timed.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseVector } from "../runtime/vm/conformance.js";
import { Interpreter } from "../runtime/vm/interpreter.js";
import { AddressSpace, hex64 } from "../runtime/vm/memory.js";
import { prepareProgram } from "../runtime/vm/program.js";
import { testHelpers } from "../runtime/vm/conformance.js";
import { median, sharedDir, type BenchOptions, type BenchSection } from "./section.js";

export interface VmRow {
  program: string;
  engine: "interp" | "jit";
  /** instructions executed by one run */
  insns: number;
  /** median wall time of one run */
  ms: number;
  /** median CPU time of the process during one run (less disturbed by other load) */
  cpu_ms: number;
  ns_per_insn: number;
  /** million instructions per second (of wall time, the figure) */
  mips: number;
  /** million instructions per second of the process's CPU time (steadier on a shared machine) */
  cpu_mips: number;
  /** r0 and the instruction count match the file's figures */
  ok: boolean;
  error?: string;
}

const COUNT_COMMENT = /^#\s*Dynamic BPF instructions executed:\s*(\d+)/m;

/** Run one benchmark file in the interpreter: check it once, then time it. */
export function benchInterpreter(file: string, options: BenchOptions): VmRow {
  const name = file.replace(/^.*\//, "").replace(/\.data$/, "");
  const text = readFileSync(file, "utf8");
  const vector = parseVector(text, name + ".data");
  const expectedCount = Number(COUNT_COMMENT.exec(text)?.[1] ?? NaN);
  const program = prepareProgram(vector.insns, { name });
  const memory = new AddressSpace();
  const vm = new Interpreter({ memory, helpers: testHelpers() });
  const mem = memory.alloc(vector.mem.length, { name: "mem", kind: "data" });
  const runOnce = (): { lo: number; hi: number; insns: number; ms: number; cpuMs: number } => {
    memory.u8.set(vector.mem, mem.base); // programs may write their buffer
    const cpu = process.cpuUsage();
    const start = performance.now();
    const result = vm.run(program, {
      args: [
        [mem.addressLo, mem.addressHi],
        [vector.mem.length, 0],
      ],
      budget: Number.POSITIVE_INFINITY,
    });
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    return { ...result, ms, cpuMs: (used.user + used.system) / 1000 };
  };
  const first = runOnce();
  const problems: string[] = [];
  if (vector.expected && (first.lo !== vector.expected.lo || first.hi !== vector.expected.hi)) {
    problems.push(
      `r0 ${hex64(first.lo, first.hi)}, expected ${hex64(vector.expected.lo, vector.expected.hi)}`,
    );
  }
  if (!Number.isNaN(expectedCount) && first.insns !== expectedCount) {
    problems.push(`executed ${first.insns} instructions, expected ${expectedCount}`);
  }
  for (let i = 1; i < options.warmup; i++) runOnce();
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const run = runOnce();
    times.push(run.ms);
    cpuTimes.push(run.cpuMs);
  }
  const ms = median(times);
  const row: VmRow = {
    program: name + ".data",
    engine: "interp",
    insns: first.insns,
    ms: round(ms, 3),
    cpu_ms: round(median(cpuTimes), 3),
    ns_per_insn: round((ms * 1e6) / first.insns, 3),
    mips: round(first.insns / ms / 1000, 1),
    cpu_mips: round(first.insns / median(cpuTimes) / 1000, 1),
    ok: problems.length === 0,
  };
  if (problems.length > 0) row.error = problems.join("; ");
  return row;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export const vmSection: BenchSection<VmRow> = {
  key: "vm",
  title: "BPF programs in the interpreter (../shared/bench)",
  columns: [
    { header: "program", value: (r) => r.program },
    { header: "engine", value: (r) => r.engine },
    { header: "insns", value: (r) => r.insns },
    { header: "ms", value: (r) => r.ms.toFixed(1) },
    { header: "cpu ms", value: (r) => r.cpu_ms.toFixed(1) },
    { header: "ns/insn", value: (r) => r.ns_per_insn.toFixed(2) },
    { header: "M insn/s", value: (r) => r.mips.toFixed(1) },
    { header: "cpu M insn/s", value: (r) => r.cpu_mips.toFixed(1) },
    { header: "check", value: (r) => (r.ok ? "ok" : `FAIL: ${r.error}`) },
  ],
  async run(options) {
    const dir = join(sharedDir(), "bench");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".data"))
      .filter((f) => options.filter === undefined || f.includes(options.filter))
      .sort();
    const rows: VmRow[] = [];
    for (const f of files) {
      options.log(`vm: ${f}`);
      rows.push(benchInterpreter(join(dir, f), options));
    }
    return rows;
  },
};
