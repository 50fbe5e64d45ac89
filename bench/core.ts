// The "core_compile" section (issue 10): the libbpf-tools-style programs of test/core/tools built
// against the running kernel's own vmlinux.h (bpftool btf dump of /sys/kernel/btf/vmlinux, 2.8 MB)
// and libbpf's headers, by tsbpf and by clang side by side, with the same flags
// (-O2 -g -mcpu=v3 -D__TARGET_ARCH_x86).
//
// Per program:
//   in process  compile() in a process that has compiled before, without the prefix cache: the
//               whole vmlinux.h is preprocessed, parsed and checked again (median wall and CPU ms)
//   cached      the same program compiled again with the prefix cache (median wall ms)
//   cold        a fresh node process running `tsbpf build` (wall and CPU ms of the process)
//   clang       clang -target bpf -c, one process per run (wall and CPU ms)
// and the ratios of the in-process and cold CPU times to clang's. CPU times are what to read on
// a shared machine. A last "median" row sums the programs up.
//
//   JSON: "core_compile": [{ program, inprocess_ms, inprocess_cpu_ms, cached_ms, cold_ms,
//                            cold_cpu_ms, clang_ms, clang_cpu_ms, inprocess_ratio, cold_ratio }]
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile, type CompileOptions } from "../compiler/compile.js";
import { medianTiming, succeeded, timed, type Timing } from "./frontend.js";
import { median, repoRoot, type BenchSection } from "./section.js";

export interface CoreCompileRow {
  program: string;
  inprocess_ms: number | null;
  inprocess_cpu_ms: number | null;
  cached_ms: number | null;
  cold_ms: number | null;
  cold_cpu_ms: number | null;
  clang_ms: number | null;
  clang_cpu_ms: number | null;
  /** inprocess_cpu_ms / clang_cpu_ms */
  inprocess_ratio: number | null;
  /** cold_cpu_ms / clang_cpu_ms */
  cold_ratio: number | null;
  error?: string;
}

const DEFINES = ["__TARGET_ARCH_x86"];
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
const round = (n: number | null, digits: number): number | null =>
  n === null ? null : Number(n.toFixed(digits));

function inProcess(file: string, opts: CompileOptions): Timing {
  const u = process.cpuUsage();
  const start = performance.now();
  compile(file, opts);
  return { ms: performance.now() - start, cpuMs: cpuMs(process.cpuUsage(u)) };
}

export const coreCompileSection: BenchSection<CoreCompileRow> = {
  key: "core_compile",
  title:
    "core_compile: libbpf-tools programs with the real vmlinux.h, tsbpf beside clang -O2 -g (ms; CPU ratios to clang)",
  columns: [
    { header: "program", value: (r) => r.program },
    { header: "in process", value: (r) => r.inprocess_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.inprocess_cpu_ms?.toFixed(0) ?? null },
    { header: "cached", value: (r) => r.cached_ms?.toFixed(1) ?? null },
    { header: "cold", value: (r) => r.cold_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.cold_cpu_ms?.toFixed(0) ?? null },
    { header: "clang", value: (r) => r.clang_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.clang_cpu_ms?.toFixed(0) ?? null },
    { header: "in process/clang", value: (r) => r.inprocess_ratio?.toFixed(2) ?? null },
    { header: "cold/clang", value: (r) => r.cold_ratio?.toFixed(2) ?? null },
    { header: "error", value: (r) => r.error ?? "" },
  ],
  async run(options) {
    const root = repoRoot();
    const tools = join(root, "test", "core", "tools");
    const dump = spawnSync(
      "bpftool",
      ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
      { encoding: "utf8", maxBuffer: 1 << 28 },
    );
    if (!existsSync("/sys/kernel/btf/vmlinux") || dump.status !== 0 || !dump.stdout) {
      options.log("core_compile: skipped (needs bpftool and /sys/kernel/btf/vmlinux)");
      return [];
    }
    const scratch = mkdtempSync(join(tmpdir(), "tsbpf-core-"));
    const rows: CoreCompileRow[] = [];
    try {
      writeFileSync(join(scratch, "vmlinux.h"), dump.stdout);
      const opts: CompileOptions = {
        includeDirs: [scratch, tools],
        defines: DEFINES,
        optLevel: 2,
        cpu: "v3",
        debug: true,
      };
      const hasClang = spawnSync("clang", ["--version"]).status === 0;
      const cli = join(fileURLToPath(import.meta.url), "..", "..", "compiler", "cli", "tsbpf.js");
      const hasCli = existsSync(cli);
      if (!hasClang) options.log("core_compile: no clang, its columns are empty");
      const programs = readdirSync(tools)
        .filter((f) => f.endsWith(".bpf.c"))
        .filter((f) => options.filter === undefined || f.includes(options.filter))
        .sort();
      // The process compiles before anything is timed (V8 has optimized the compiler).
      if (programs.length > 0) {
        for (let i = 0; i < options.warmup; i++) {
          compile(join(tools, programs[0]!), { ...opts, cache: false });
        }
      }
      const flags = ["-O2", "-g", "-mcpu=v3", ...DEFINES.map((d) => `-D${d}`)];
      const includes = [`-I${scratch}`, `-I${tools}`];
      for (const name of programs) {
        options.log(`core_compile: ${name}`);
        const file = join(tools, name);
        const out = join(scratch, "out.o");
        const row: CoreCompileRow = {
          program: name,
          inprocess_ms: null,
          inprocess_cpu_ms: null,
          cached_ms: null,
          cold_ms: null,
          cold_cpu_ms: null,
          clang_ms: null,
          clang_cpu_ms: null,
          inprocess_ratio: null,
          cold_ratio: null,
        };
        try {
          const warm = medianTiming(options.runs, () => inProcess(file, { ...opts, cache: false }));
          row.inprocess_ms = round(warm!.ms, 1);
          row.inprocess_cpu_ms = round(warm!.cpuMs, 1);
          compile(file, opts); // stores the prefix state
          row.cached_ms = round(medianTiming(options.runs, () => inProcess(file, opts))!.ms, 2);
          if (hasCli) {
            const cold = medianTiming(1, () =>
              succeeded(
                timed(process.execPath, [cli, "build", ...flags, ...includes, file, "-o", out]),
              ),
            );
            row.cold_ms = round(cold?.ms ?? null, 0);
            row.cold_cpu_ms = round(cold?.cpuMs ?? null, 0);
          }
          if (hasClang) {
            const clang = medianTiming(options.runs, () =>
              succeeded(
                timed("clang", ["-target", "bpf", ...flags, ...includes, "-c", file, "-o", out]),
              ),
            );
            row.clang_ms = round(clang?.ms ?? null, 0);
            row.clang_cpu_ms = round(clang?.cpuMs ?? null, 0);
          }
          if (row.clang_cpu_ms) {
            row.inprocess_ratio = round(row.inprocess_cpu_ms! / row.clang_cpu_ms, 2);
            if (row.cold_cpu_ms !== null)
              row.cold_ratio = round(row.cold_cpu_ms / row.clang_cpu_ms, 2);
          }
        } catch (e) {
          row.error = (e as Error).message.split("\n")[0];
        }
        rows.push(row);
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    const done = rows.filter((r) => r.error === undefined);
    if (done.length > 1) {
      const mid = (pick: (r: CoreCompileRow) => number | null): number | null => {
        const values = done.map(pick).filter((v): v is number => v !== null);
        return values.length === 0 ? null : median(values);
      };
      rows.push({
        program: "median",
        inprocess_ms: mid((r) => r.inprocess_ms),
        inprocess_cpu_ms: mid((r) => r.inprocess_cpu_ms),
        cached_ms: mid((r) => r.cached_ms),
        cold_ms: mid((r) => r.cold_ms),
        cold_cpu_ms: mid((r) => r.cold_cpu_ms),
        clang_ms: mid((r) => r.clang_ms),
        clang_cpu_ms: mid((r) => r.clang_cpu_ms),
        inprocess_ratio: mid((r) => r.inprocess_ratio),
        cold_ratio: mid((r) => r.cold_ratio),
      });
    }
    return rows;
  },
};
