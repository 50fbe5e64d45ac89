// The front end's speed (issue 3) and the warm compile with the prefix cache (issue 4).
//
// "frontend": preprocess + parse + sema of big headers, as a program that only includes them:
// the real vmlinux.h (bpftool btf dump of /sys/kernel/btf/vmlinux, where both exist), the
// simulated kernel's samples/include/vmlinux.h, and libbpf's bpf_helpers.h + bpf_tracing.h +
// bpf_core_read.h (after linux/bpf.h, with -D__TARGET_ARCH_x86). Per header: source lines and
// megabytes read, the warm in-process time (median wall and CPU ms over the runs, without the
// cache), lines/s and MB/s from the CPU time, the cold time (a fresh node process running
// `tsbpf build` on that program: wall and CPU ms of the whole process, and the CPU ms of the
// front end alone in another fresh process), and clang -target bpf -fsyntax-only on the same
// program (one process per run, wall and CPU ms) with the ratio of the CPU times of the cold
// build and clang. CPU times are what to read on a busy machine.
//
//   JSON: "frontend": [{ header, lines, mb, warm_ms, warm_cpu_ms, lines_per_s, mb_per_s,
//                        cold_ms, cold_cpu_ms, cold_frontend_cpu_ms, clang_ms, clang_cpu_ms,
//                        ratio }]
//
// "compile_cache": every corpus program (test/corpus/programs) and sample (samples/*.bpf.c)
// compiled in process, warm, without the cache (cache: false) and with it (the process-wide
// one, as `compile` uses by default): median wall and CPU ms of the whole compile and the
// front end's part (wall), and the CPU speedup.
//
//   JSON: "compile_cache": [{ program, uncached_ms, uncached_cpu_ms, uncached_frontend_ms,
//                             cached_ms, cached_cpu_ms, cached_frontend_ms, speedup }]
//         and a last "median" row
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compile, type CompileOptions } from "../compiler/compile.js";
import { checkProgram, type FrontendOptions } from "../compiler/frontend.js";
import { median, repoRoot, type BenchOptions, type BenchSection } from "./section.js";

const ARCH_INCLUDE = "/usr/include/x86_64-linux-gnu";

export interface FrontendRow {
  header: string;
  /** source lines preprocessed (a file read twice counts twice) */
  lines: number | null;
  /** megabytes of the files read */
  mb: number | null;
  /** warm in-process preprocess + parse + sema, median wall and CPU ms */
  warm_ms: number | null;
  warm_cpu_ms: number | null;
  lines_per_s: number | null;
  mb_per_s: number | null;
  /** a fresh node process running `tsbpf build` on the program: median wall and CPU ms */
  cold_ms: number | null;
  cold_cpu_ms: number | null;
  /** the CPU ms of that process's front end (preprocess + parse + sema) alone */
  cold_frontend_cpu_ms: number | null;
  /** clang -target bpf -fsyntax-only, one process per run: median wall and CPU ms */
  clang_ms: number | null;
  clang_cpu_ms: number | null;
  /** cold_cpu_ms / clang_cpu_ms */
  ratio: number | null;
  error?: string;
}

export interface CompileCacheRow {
  program: string;
  /** without the cache: median wall and CPU ms, and the front end's wall ms */
  uncached_ms: number | null;
  uncached_cpu_ms: number | null;
  uncached_frontend_ms: number | null;
  /** with it */
  cached_ms: number | null;
  cached_cpu_ms: number | null;
  cached_frontend_ms: number | null;
  /** uncached_cpu_ms / cached_cpu_ms */
  speedup: number | null;
  error?: string;
}

interface HeaderCase {
  name: string;
  /** the program: #include lines */
  source: string;
  options: FrontendOptions;
  /** clang's flags besides -target bpf -fsyntax-only */
  clangFlags: string[];
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));
const fixed = (n: number | null, digits: number): string | null =>
  n === null ? null : n.toFixed(digits);
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

function headerCases(scratch: string, log: (line: string) => void): HeaderCase[] {
  const cases: HeaderCase[] = [];
  const real = join(scratch, "vmlinux.h");
  const dump = spawnSync(
    "bpftool",
    ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
    { encoding: "utf8", maxBuffer: 1 << 28 },
  );
  if (existsSync("/sys/kernel/btf/vmlinux") && dump.status === 0 && dump.stdout) {
    writeFileSync(real, dump.stdout);
    cases.push({
      name: "vmlinux.h (bpftool, running kernel)",
      source: `#include "${real}"\n`,
      options: { optimize: true },
      clangFlags: [],
    });
  } else log("frontend: no real vmlinux.h (needs bpftool and /sys/kernel/btf/vmlinux)");
  const sim = join(repoRoot(), "samples", "include", "vmlinux.h");
  cases.push({
    name: "samples/include/vmlinux.h",
    source: `#include "${sim}"\n`,
    options: { optimize: true },
    clangFlags: [],
  });
  if (existsSync("/usr/include/bpf/bpf_helpers.h")) {
    cases.push({
      name: "libbpf: bpf_helpers+tracing+core_read",
      source:
        "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n" +
        "#include <bpf/bpf_tracing.h>\n#include <bpf/bpf_core_read.h>\n",
      options: { optimize: true, includeDirs: [ARCH_INCLUDE], defines: ["__TARGET_ARCH_x86"] },
      clangFlags: [`-I${ARCH_INCLUDE}`, "-D__TARGET_ARCH_x86"],
    });
  } else log("frontend: no libbpf headers (libbpf-dev)");
  return cases;
}

/** Lines and bytes the front end reads for a program. */
function inputSize(file: string, c: HeaderCase): { lines: number; bytes: number } {
  const seen = new Map<string, number>();
  const readFile = (path: string): string | undefined => {
    try {
      const text = readFileSync(path, "utf8");
      seen.set(path, Buffer.byteLength(text));
      return text;
    } catch {
      return undefined;
    }
  };
  const r = checkProgram({ file, source: c.source }, { ...c.options, readFile, cache: false });
  if (r.diagnostics.hasErrors()) throw new Error(r.diagnostics.items[0]!.message);
  let bytes = Buffer.byteLength(c.source);
  for (const n of seen.values()) bytes += n;
  return { lines: r.lines, bytes };
}

/** A wall time and a CPU time, in ms. */
export interface Timing {
  ms: number;
  cpuMs: number;
}

/** The medians of `runs` timings; undefined as soon as one fails (is undefined). */
export function medianTiming(runs: number, once: () => Timing | undefined): Timing | undefined {
  const timings: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const t = once();
    if (t === undefined) return undefined;
    timings.push(t);
  }
  return medianOf(timings);
}

/** The median wall and the median CPU time of runs. */
export function medianOf(timings: Timing[]): Timing {
  return { ms: median(timings.map((t) => t.ms)), cpuMs: median(timings.map((t) => t.cpuMs)) };
}

/** A command's timing (see timed) if it exited with 0. */
export function succeeded(t: Timing & { status: number | null }): Timing | undefined {
  return t.status === 0 ? { ms: t.ms, cpuMs: t.cpuMs } : undefined;
}

function warm(file: string, c: HeaderCase, options: BenchOptions): Timing {
  const opts: FrontendOptions = { ...c.options, cache: false };
  for (let i = 0; i < options.warmup; i++) checkProgram({ file, source: c.source }, opts);
  return medianTiming(options.runs, () => {
    const w = performance.now();
    const u = process.cpuUsage();
    checkProgram({ file, source: c.source }, opts);
    return { ms: performance.now() - w, cpuMs: cpuMs(process.cpuUsage(u)) };
  })!;
}

// Fresh processes: one running the CLI's build (its whole CPU time), one running the front end
// alone on the same program (the CPU time of checkProgram, cold).
const BUILD_SCRIPT = `
const [buildUrl, ...args] = process.argv.slice(1);
const { main } = await import(buildUrl);
const code = await main(args);
process.stderr.write("\\nCOLD " + JSON.stringify({ code, cpu: process.cpuUsage() }) + "\\n");
`;
const FRONTEND_SCRIPT = `
const [frontendUrl, file, options] = process.argv.slice(1);
const { checkProgram } = await import(frontendUrl);
const before = process.cpuUsage();
const r = checkProgram({ file }, { ...JSON.parse(options), cache: false });
const cpu = process.cpuUsage(before);
process.stderr.write("\\nCOLD " + JSON.stringify({ code: r.diagnostics.errorCount, cpu }) + "\\n");
`;

/**
 * CPU ms used by this process's children that have ended (Linux: /proc/self/stat's cutime and
 * cstime, in clock ticks of 10 ms); undefined elsewhere.
 */
function childrenCpuMs(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 16 and 17 of the line; the slice starts at field 3.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

/** Runs a command; its wall ms and CPU ms (the wall time where CPU time cannot be read). */
export function timed(
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): { ms: number; cpuMs: number; status: number | null; stderr: string } {
  const cpu0 = childrenCpuMs();
  const start = performance.now();
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 26, env });
  const ms = performance.now() - start;
  const cpu1 = childrenCpuMs();
  const cpuMs = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : ms;
  return { ms, cpuMs, status: r.error ? null : r.status, stderr: r.stderr ?? "" };
}

/** Runs a script in a fresh node process; its report (undefined if it failed). */
function spawnReport(script: string, args: string[]): { ms: number; cpuMs: number } | undefined {
  const r = timed(process.execPath, ["--input-type=module", "-e", script, ...args]);
  const ms = r.ms;
  const line = /COLD (.*)/.exec(r.stderr)?.[1];
  if (line === undefined) return undefined;
  const report = JSON.parse(line) as { code: number; cpu: NodeJS.CpuUsage };
  return report.code === 0 ? { ms, cpuMs: cpuMs(report.cpu) } : undefined;
}

function cold(
  file: string,
  c: HeaderCase,
  scratch: string,
  options: BenchOptions,
): { ms: number; cpuMs: number; frontendCpuMs: number } | undefined {
  const dist = join(fileURLToPath(import.meta.url), "..", "..");
  const build = join(dist, "compiler", "cli", "build.js");
  const frontend = join(dist, "compiler", "frontend.js");
  if (!existsSync(build)) return undefined; // run from source: no compiled CLI
  const args = [
    ...(c.options.includeDirs ?? []).map((d) => `-I${d}`),
    ...(c.options.defines ?? []).map((d) => `-D${d}`),
    "-O2",
    "-g",
    file,
    "-o",
    join(scratch, "cold.o"),
  ];
  const wall: number[] = [];
  const cpu: number[] = [];
  const front: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const b = spawnReport(BUILD_SCRIPT, [pathToFileURL(build).href, ...args]);
    const f = spawnReport(FRONTEND_SCRIPT, [
      pathToFileURL(frontend).href,
      file,
      JSON.stringify(c.options),
    ]);
    if (b === undefined || f === undefined) return undefined;
    wall.push(b.ms);
    cpu.push(b.cpuMs);
    front.push(f.cpuMs);
  }
  return { ms: median(wall), cpuMs: median(cpu), frontendCpuMs: median(front) };
}

function clangTime(file: string, c: HeaderCase, options: BenchOptions): Timing | undefined {
  return medianTiming(options.runs, () =>
    succeeded(timed("clang", ["-target", "bpf", "-fsyntax-only", ...c.clangFlags, file])),
  );
}

export const frontendSection: BenchSection<FrontendRow> = {
  key: "frontend",
  title:
    "frontend: preprocess + parse + sema of headers (warm in process, cold as a fresh `tsbpf build`) against clang -fsyntax-only",
  columns: [
    { header: "header", value: (r) => r.header },
    { header: "lines", value: (r) => r.lines },
    { header: "MB", value: (r) => fixed(r.mb, 2) },
    { header: "warm ms", value: (r) => fixed(r.warm_ms, 1) },
    { header: "cpu ms", value: (r) => fixed(r.warm_cpu_ms, 1) },
    { header: "lines/s", value: (r) => r.lines_per_s },
    { header: "MB/s", value: (r) => fixed(r.mb_per_s, 2) },
    { header: "cold ms", value: (r) => fixed(r.cold_ms, 0) },
    { header: "cold cpu", value: (r) => fixed(r.cold_cpu_ms, 0) },
    { header: "cold front cpu", value: (r) => fixed(r.cold_frontend_cpu_ms, 0) },
    { header: "clang ms", value: (r) => fixed(r.clang_ms, 0) },
    { header: "clang cpu", value: (r) => fixed(r.clang_cpu_ms, 0) },
    { header: "cpu/clang", value: (r) => fixed(r.ratio, 2) },
    { header: "error", value: (r) => r.error ?? "" },
  ],
  async run(options) {
    const scratch = mkdtempSync(join(tmpdir(), "tsbpf-bench-frontend-"));
    const rows: FrontendRow[] = [];
    try {
      const cases = headerCases(scratch, options.log).filter(
        (c) => options.filter === undefined || c.name.includes(options.filter),
      );
      cases.forEach((c, i) => {
        options.log(`frontend: ${c.name}`);
        const file = join(scratch, `headers${i}.c`);
        writeFileSync(file, c.source);
        const row: FrontendRow = {
          header: c.name,
          lines: null,
          mb: null,
          warm_ms: null,
          warm_cpu_ms: null,
          lines_per_s: null,
          mb_per_s: null,
          cold_ms: null,
          cold_cpu_ms: null,
          cold_frontend_cpu_ms: null,
          clang_ms: null,
          clang_cpu_ms: null,
          ratio: null,
        };
        try {
          const size = inputSize(file, c);
          const w = warm(file, c, options);
          row.lines = size.lines;
          row.mb = round(size.bytes / 1e6, 3);
          row.warm_ms = round(w.ms, 2);
          row.warm_cpu_ms = round(w.cpuMs, 2);
          row.lines_per_s = Math.round(size.lines / (w.cpuMs / 1000));
          row.mb_per_s = round(size.bytes / 1e6 / (w.cpuMs / 1000), 2);
          const k = cold(file, c, scratch, options);
          if (k !== undefined) {
            row.cold_ms = round(k.ms, 1);
            row.cold_cpu_ms = round(k.cpuMs, 1);
            row.cold_frontend_cpu_ms = round(k.frontendCpuMs, 1);
          }
        } catch (err) {
          row.error = (err instanceof Error ? err.message : String(err)).split("\n")[0];
        }
        const clang = clangTime(file, c, options);
        if (clang !== undefined) {
          row.clang_ms = round(clang.ms, 1);
          row.clang_cpu_ms = round(clang.cpuMs, 1);
        }
        if (row.cold_cpu_ms !== null && row.clang_cpu_ms)
          row.ratio = round(row.cold_cpu_ms / row.clang_cpu_ms, 2);
        rows.push(row);
      });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    return rows;
  },
};

/** Medians over `runs` compiles after `warmup` untimed ones: wall, CPU and front-end ms. */
function timeCompile(
  file: string,
  opts: CompileOptions,
  options: BenchOptions,
): { ms: number; cpuMs: number; frontendMs: number } {
  for (let i = 0; i < options.warmup; i++) compile(file, opts);
  const total: number[] = [];
  const cpu: number[] = [];
  const front: number[] = [];
  for (let i = 0; i < options.runs; i++) {
    const u = process.cpuUsage();
    const t = compile(file, opts).timings;
    cpu.push(cpuMs(process.cpuUsage(u)));
    total.push(t.totalMs);
    front.push(t.preprocessMs + t.parseMs + t.semaMs);
  }
  return { ms: median(total), cpuMs: median(cpu), frontendMs: median(front) };
}

export const compileCacheSection: BenchSection<CompileCacheRow> = {
  key: "compile_cache",
  title:
    "compile_cache: warm in-process compile without and with the front end's prefix cache (median ms; the front end's part)",
  columns: [
    { header: "program", value: (r) => r.program },
    { header: "no cache", value: (r) => fixed(r.uncached_ms, 2) },
    { header: "cpu", value: (r) => fixed(r.uncached_cpu_ms, 2) },
    { header: "front", value: (r) => fixed(r.uncached_frontend_ms, 2) },
    { header: "cached", value: (r) => fixed(r.cached_ms, 2) },
    { header: "cpu", value: (r) => fixed(r.cached_cpu_ms, 2) },
    { header: "front", value: (r) => fixed(r.cached_frontend_ms, 2) },
    { header: "cpu speedup", value: (r) => fixed(r.speedup, 1) },
    { header: "error", value: (r) => r.error ?? "" },
  ],
  async run(options) {
    const root = repoRoot();
    const base: CompileOptions = {
      includeDirs: [ARCH_INCLUDE, join(root, "samples", "include")],
      defines: ["__TARGET_ARCH_x86"],
      optLevel: 2,
      cpu: "v3",
      debug: true,
    };
    const corpus = join(root, "test", "corpus", "programs");
    const files = [
      ...readdirSync(corpus)
        .filter((f) => f.endsWith(".bpf.c"))
        .sort()
        .map((f) => ({ name: f, path: join(corpus, f) })),
      ...readdirSync(join(root, "samples"))
        .filter((f) => f.endsWith(".bpf.c"))
        .sort()
        .map((f) => ({ name: `samples/${f}`, path: join(root, "samples", f) })),
    ].filter((f) => options.filter === undefined || f.name.includes(options.filter));
    const rows: CompileCacheRow[] = [];
    for (const { name, path } of files) {
      options.log(`compile_cache: ${name}`);
      const row: CompileCacheRow = {
        program: name,
        uncached_ms: null,
        uncached_cpu_ms: null,
        uncached_frontend_ms: null,
        cached_ms: null,
        cached_cpu_ms: null,
        cached_frontend_ms: null,
        speedup: null,
      };
      try {
        const plain = timeCompile(path, { ...base, cache: false }, options);
        const cached = timeCompile(path, base, options);
        row.uncached_ms = round(plain.ms, 3);
        row.uncached_cpu_ms = round(plain.cpuMs, 3);
        row.uncached_frontend_ms = round(plain.frontendMs, 3);
        row.cached_ms = round(cached.ms, 3);
        row.cached_cpu_ms = round(cached.cpuMs, 3);
        row.cached_frontend_ms = round(cached.frontendMs, 3);
        row.speedup = round(plain.cpuMs / cached.cpuMs, 1);
      } catch (err) {
        row.error = (err instanceof Error ? err.message : String(err)).split("\n")[0];
      }
      rows.push(row);
    }
    const ok = rows.filter((r) => r.cached_ms !== null);
    if (ok.length > 0) {
      const m = (f: (r: CompileCacheRow) => number): number => round(median(ok.map(f)), 3);
      rows.push({
        program: "median",
        uncached_ms: m((r) => r.uncached_ms!),
        uncached_cpu_ms: m((r) => r.uncached_cpu_ms!),
        uncached_frontend_ms: m((r) => r.uncached_frontend_ms!),
        cached_ms: m((r) => r.cached_ms!),
        cached_cpu_ms: m((r) => r.cached_cpu_ms!),
        cached_frontend_ms: m((r) => r.cached_frontend_ms!),
        speedup: m((r) => r.speedup!),
      });
    }
    return rows;
  },
};
