// The "compile" section: every corpus program (test/corpus/programs) compiled in process by
// tsbpf, warm (the median of timed runs after untimed ones), against clang -O2 run as a
// process: instructions in the code sections of each object (an lddw counts once, as
// llvm-objdump lists it), their ratio, and the times.
//
//   JSON: "compile": [{ program, ms, insns, clang_insns, ratio, clang_ms }] and a last row
//   { program: "total", ... } with the summed counts and the median times' sums.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { compile, type CompileOptions } from "../compiler/compile.js";
import { SHF_EXECINSTR, SHT_PROGBITS } from "../runtime/elf/elf.js";
import { readElf } from "../runtime/elf/read.js";
import { BPF_LDDW } from "../runtime/isa/opcodes.js";
import { median, repoRoot, type BenchOptions, type BenchSection } from "./section.js";

export interface CompileRow {
  program: string;
  /** tsbpf's warm in-process compile (preprocess to object), median ms */
  ms: number | null;
  /** the phases of those runs, medians: preprocess + parse + sema, code generation, writer */
  frontend_ms: number | null;
  codegen_ms: number | null;
  emit_ms: number | null;
  insns: number | null;
  clang_insns: number | null;
  /** insns / clang_insns */
  ratio: number | null;
  /** clang -O2 -g as a process, median ms */
  clang_ms: number | null;
  error?: string;
}

const INCLUDE = "/usr/include/x86_64-linux-gnu";
const OPTIONS: CompileOptions = {
  includeDirs: [INCLUDE],
  defines: ["__TARGET_ARCH_x86"],
  optLevel: 2,
  cpu: "v3",
  debug: true,
};

/** Instructions in the object's code sections, lddw counted once. */
export function countInstructions(object: Uint8Array): number {
  const elf = readElf(object);
  let n = 0;
  for (const s of elf.sections) {
    if (s.type !== SHT_PROGBITS || (s.flags & SHF_EXECINSTR) === 0) continue;
    for (let off = 0; off + 8 <= s.data.length; off += 8) {
      n++;
      if (s.data[off] === BPF_LDDW) off += 8;
    }
  }
  return n;
}

interface TsbpfTimes {
  ms: number;
  frontendMs: number;
  codegenMs: number;
  emitMs: number;
  insns: number;
}

function timeTsbpf(file: string, options: BenchOptions): TsbpfTimes {
  let object = compile(file, OPTIONS).object;
  for (let i = 1; i < options.warmup; i++) compile(file, OPTIONS);
  const times: number[] = [];
  const frontend: number[] = [];
  const codegen: number[] = [];
  const emit: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const start = performance.now();
    const result = compile(file, OPTIONS);
    times.push(performance.now() - start);
    object = result.object;
    const t = result.timings;
    frontend.push(t.preprocessMs + t.parseMs + t.semaMs);
    codegen.push(t.codegenMs);
    emit.push(t.emitMs);
  }
  return {
    ms: median(times),
    frontendMs: median(frontend),
    codegenMs: median(codegen),
    emitMs: median(emit),
    insns: countInstructions(object),
  };
}

function timeClang(
  file: string,
  dir: string,
  options: BenchOptions,
): { ms: number; insns: number } | undefined {
  const out = join(dir, "clang.o");
  const args = [
    "-O2",
    "-g",
    "-target",
    "bpf",
    "-mcpu=v3",
    "-D__TARGET_ARCH_x86",
    `-I${INCLUDE}`,
    "-c",
    file,
    "-o",
    out,
  ];
  const times: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const start = performance.now();
    const r = spawnSync("clang", args, { encoding: "utf8" });
    times.push(performance.now() - start);
    if (r.error || r.status !== 0) return undefined;
  }
  return { ms: median(times), insns: countInstructions(new Uint8Array(readFileSync(out))) };
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

export const compileSection: BenchSection<CompileRow> = {
  key: "compile",
  title: "compile: tsbpf in process (warm) against clang -O2 -g -mcpu=v3 (one process per run)",
  columns: [
    { header: "program", value: (r) => r.program },
    { header: "insns", value: (r) => r.insns },
    { header: "clang", value: (r) => r.clang_insns },
    { header: "ratio", value: (r) => (r.ratio === null ? null : r.ratio.toFixed(3)) },
    { header: "tsbpf ms", value: (r) => (r.ms === null ? null : r.ms.toFixed(2)) },
    { header: "front", value: (r) => (r.frontend_ms === null ? null : r.frontend_ms.toFixed(2)) },
    { header: "codegen", value: (r) => (r.codegen_ms === null ? null : r.codegen_ms.toFixed(2)) },
    { header: "emit", value: (r) => (r.emit_ms === null ? null : r.emit_ms.toFixed(2)) },
    { header: "clang ms", value: (r) => (r.clang_ms === null ? null : r.clang_ms.toFixed(1)) },
    { header: "error", value: (r) => r.error ?? "" },
  ],
  async run(options) {
    const dir = join(repoRoot(), "test", "corpus", "programs");
    const scratch = mkdtempSync(join(tmpdir(), "tsbpf-bench-compile-"));
    const rows: CompileRow[] = [];
    try {
      const programs = readdirSync(dir)
        .filter((f) => f.endsWith(".bpf.c"))
        .filter((f) => options.filter === undefined || f.includes(options.filter))
        .sort();
      for (const name of programs) {
        const file = join(dir, name);
        options.log(`compile: ${name}`);
        const row: CompileRow = {
          program: name,
          ms: null,
          frontend_ms: null,
          codegen_ms: null,
          emit_ms: null,
          insns: null,
          clang_insns: null,
          ratio: null,
          clang_ms: null,
        };
        try {
          const ours = timeTsbpf(file, options);
          row.ms = round(ours.ms, 3);
          row.frontend_ms = round(ours.frontendMs, 3);
          row.codegen_ms = round(ours.codegenMs, 3);
          row.emit_ms = round(ours.emitMs, 3);
          row.insns = ours.insns;
        } catch (err) {
          row.error = (err instanceof Error ? err.message : String(err)).split("\n")[0];
        }
        const clang = timeClang(file, scratch, options);
        if (clang) {
          row.clang_ms = round(clang.ms, 1);
          row.clang_insns = clang.insns;
        }
        if (row.insns !== null && row.clang_insns)
          row.ratio = round(row.insns / row.clang_insns, 3);
        rows.push(row);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    rows.push(totalRow(rows));
    return rows;
  },
};

/** Summed counts over the programs both compilers built, and summed median times. */
function totalRow(rows: CompileRow[]): CompileRow {
  const both = rows.filter((r) => r.insns !== null && r.clang_insns !== null);
  const insns = both.reduce((a, r) => a + r.insns!, 0);
  const clangInsns = both.reduce((a, r) => a + r.clang_insns!, 0);
  const sum = (f: (r: CompileRow) => number | null): number =>
    rows.reduce((a, r) => a + (f(r) ?? 0), 0);
  const clangMs = sum((r) => r.clang_ms);
  return {
    program: "total",
    ms: round(
      sum((r) => r.ms),
      3,
    ),
    frontend_ms: round(
      sum((r) => r.frontend_ms),
      3,
    ),
    codegen_ms: round(
      sum((r) => r.codegen_ms),
      3,
    ),
    emit_ms: round(
      sum((r) => r.emit_ms),
      3,
    ),
    insns,
    clang_insns: clangInsns,
    ratio: clangInsns > 0 ? round(insns / clangInsns, 3) : null,
    clang_ms: round(clangMs, 1),
  };
}
