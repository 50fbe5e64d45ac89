// The "core_compile" section (issue 10): the libbpf-tools-style programs of test/core/tools built
// against the running kernel's own vmlinux.h (bpftool btf dump of /sys/kernel/btf/vmlinux, 2.8 MB)
// and libbpf's headers, by tsbpf and by clang side by side, with the same flags
// (-O2 -g -mcpu=v3 -D__TARGET_ARCH_x86).
//
// Per program:
//   in process  compile() in a process that has compiled before, without the prefix cache: the
//               whole vmlinux.h is preprocessed, parsed and checked again (median wall and CPU ms)
//   1st         its first compile with the prefix cache, which holds the states of the programs
//               before it: the one after their first #include line ("vmlinux.h") is shared
//   cached      the same program compiled again with the prefix cache (median wall ms)
//   cold        `tsbpf build` in a fresh node process compiling itself (TSBPF_SERVER=0)
//   server 1st  `tsbpf build` as users run it, with its compile server up (server-client.ts),
//               the first time it builds the program (after the programs before it)
//   server      the same program built again (as after an edit below its #include lines)
//   clang       clang -target bpf -c, one process per run, alternating with the in-process runs
//               (wall and CPU ms)
// The server columns' CPU time is the client process's and the server's during the build
// (from the server's own count). The ratios are of CPU times to clang's, which are what to
// read on a shared machine. A "median" row sums the programs up; a last row gives the cold
// column of a one-line file (`int x;`), against the programs' median clang time: what a fresh
// process costs before any header is read.
//
//   JSON: "core_compile": [{ program, inprocess_ms, inprocess_cpu_ms, first_ms, first_cpu_ms,
//                            cached_ms, cold_ms,
//                            cold_cpu_ms, server_first_ms, server_first_cpu_ms, server_ms,
//                            server_cpu_ms, clang_ms, clang_cpu_ms, inprocess_ratio, first_ratio,
//                            cold_ratio, server_first_ratio, server_ratio }]
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StatsReply } from "../compiler/cli/server-client.js";
import { compile, type CompileOptions } from "../compiler/compile.js";
import { medianOf, medianTiming, succeeded, timed, type Timing } from "./frontend.js";
import { median, repoRoot, type BenchSection } from "./section.js";

export interface CoreCompileRow {
  program: string;
  inprocess_ms: number | null;
  inprocess_cpu_ms: number | null;
  first_ms: number | null;
  first_cpu_ms: number | null;
  cached_ms: number | null;
  cold_ms: number | null;
  cold_cpu_ms: number | null;
  server_first_ms: number | null;
  server_first_cpu_ms: number | null;
  server_ms: number | null;
  server_cpu_ms: number | null;
  clang_ms: number | null;
  clang_cpu_ms: number | null;
  /** inprocess_cpu_ms / clang_cpu_ms */
  inprocess_ratio: number | null;
  /** first_cpu_ms / clang_cpu_ms */
  first_ratio: number | null;
  /** cold_cpu_ms / clang_cpu_ms */
  cold_ratio: number | null;
  /** server_first_cpu_ms / clang_cpu_ms */
  server_first_ratio: number | null;
  /** server_cpu_ms / clang_cpu_ms */
  server_ratio: number | null;
  error?: string;
}

const DEFINES = ["__TARGET_ARCH_x86"];
const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
const round = (n: number | null, digits: number): number | null =>
  n === null ? null : Number(n.toFixed(digits));

/** The row of a fresh process building a one-line file; its ratio is to the programs' clang median. */
const FLOOR = "one-line file";

function emptyRow(program: string): CoreCompileRow {
  return {
    program,
    inprocess_ms: null,
    inprocess_cpu_ms: null,
    first_ms: null,
    first_cpu_ms: null,
    cached_ms: null,
    cold_ms: null,
    cold_cpu_ms: null,
    server_first_ms: null,
    server_first_cpu_ms: null,
    server_ms: null,
    server_cpu_ms: null,
    clang_ms: null,
    clang_cpu_ms: null,
    inprocess_ratio: null,
    first_ratio: null,
    cold_ratio: null,
    server_first_ratio: null,
    server_ratio: null,
  };
}

function inProcess(file: string, opts: CompileOptions): Timing {
  const u = process.cpuUsage();
  const start = performance.now();
  compile(file, opts);
  return { ms: performance.now() - start, cpuMs: cpuMs(process.cpuUsage(u)) };
}

type Client = typeof import("../compiler/cli/server-client.js");

/** The compile server's client module of the built CLI (the one `tsbpf build` loads). */
async function serverClient(cli: string): Promise<Client> {
  return (await import(pathToFileURL(join(dirname(cli), "server-client.js")).href)) as Client;
}

/**
 * Starts the compile server with a build of `warm` (another file than those measured, so that
 * the server has no state of theirs) and builds it `warmup` more times through the server; the
 * server's client and socket, or undefined if it did not come up.
 */
async function startWarmServer(
  cli: string,
  buildArgs: string[],
  warm: string,
  env: NodeJS.ProcessEnv,
  warmup: number,
): Promise<{ client: Client; socket: string } | undefined> {
  const client = await serverClient(cli);
  const socket = client.serverSocket(env);
  if (socket === undefined) return undefined;
  const argv = [...buildArgs, warm, "-o", "/dev/null"];
  timed(process.execPath, [cli, "build", ...argv], env); // finds none, starts it
  for (let i = 0; i < 300; i++) {
    try {
      await client.request(socket, { op: "stats" }, 5000);
      for (let w = 0; w < warmup; w++) {
        await client.request(socket, { op: "build", argv, cwd: process.cwd() }, 120_000);
      }
      return { client, socket };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return undefined;
}

/** One `tsbpf build` through the server: wall ms, and the client's and server's CPU ms. */
async function throughServer(
  server: { client: Client; socket: string },
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Timing | undefined> {
  const before = await server.client.request<StatsReply>(server.socket, { op: "stats" }, 5000);
  const t = succeeded(timed(process.execPath, args, env));
  const after = await server.client.request<StatsReply>(server.socket, { op: "stats" }, 5000);
  if (t === undefined || after.pid !== before.pid || after.builds !== before.builds + 1)
    return undefined; // not built by the server
  return { ms: t.ms, cpuMs: t.cpuMs + (after.cpuUs - before.cpuUs) / 1000 };
}

/** medianTiming of builds through the server. */
async function medianThroughServer(
  runs: number,
  server: { client: Client; socket: string },
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Timing | undefined> {
  const timings: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const t = await throughServer(server, args, env);
    if (t === undefined) return undefined;
    timings.push(t);
  }
  return medianOf(timings);
}

export const coreCompileSection: BenchSection<CoreCompileRow> = {
  key: "core_compile",
  title:
    "core_compile: libbpf-tools programs with the real vmlinux.h, tsbpf beside clang -O2 -g (ms; CPU ratios to clang)",
  columns: [
    { header: "program", value: (r) => r.program },
    { header: "in process", value: (r) => r.inprocess_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.inprocess_cpu_ms?.toFixed(0) ?? null },
    { header: "1st", value: (r) => r.first_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.first_cpu_ms?.toFixed(0) ?? null },
    { header: "cached", value: (r) => r.cached_ms?.toFixed(1) ?? null },
    { header: "cold", value: (r) => r.cold_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.cold_cpu_ms?.toFixed(0) ?? null },
    { header: "server 1st", value: (r) => r.server_first_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.server_first_cpu_ms?.toFixed(0) ?? null },
    { header: "server", value: (r) => r.server_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.server_cpu_ms?.toFixed(0) ?? null },
    { header: "clang", value: (r) => r.clang_ms?.toFixed(0) ?? null },
    { header: "cpu", value: (r) => r.clang_cpu_ms?.toFixed(0) ?? null },
    { header: "in process/clang", value: (r) => r.inprocess_ratio?.toFixed(2) ?? null },
    { header: "1st/clang", value: (r) => r.first_ratio?.toFixed(2) ?? null },
    { header: "cold/clang", value: (r) => r.cold_ratio?.toFixed(2) ?? null },
    { header: "server 1st/clang", value: (r) => r.server_first_ratio?.toFixed(2) ?? null },
    { header: "server/clang", value: (r) => r.server_ratio?.toFixed(2) ?? null },
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
    let floor: CoreCompileRow | undefined;
    // The compile server of the server columns: its own, in the scratch directory (0700). It
    // exits when stopped, or once its socket is gone with the directory.
    const serverEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TSBPF_SERVER_DIR: join(scratch, "server"),
    };
    delete serverEnv.TSBPF_SERVER;
    let server: { client: Client; socket: string } | undefined;
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
      if (hasCli && programs.length > 0) {
        const warm = join(scratch, "warm.bpf.c");
        copyFileSync(join(tools, programs[0]!), warm);
        server = await startWarmServer(
          cli,
          [...flags, ...includes],
          warm,
          serverEnv,
          options.warmup,
        );
        if (server === undefined) options.log("core_compile: the compile server did not come up");
      }
      for (const name of programs) {
        options.log(`core_compile: ${name}`);
        const file = join(tools, name);
        const out = join(scratch, "out.o");
        const row = emptyRow(name);
        try {
          // The in-process runs alternate with clang's, so that both meet the same load (the
          // machine is shared): the ratio of their medians is then steadier than when each is
          // run in a block of its own.
          const warm: Timing[] = [];
          const clang: Timing[] = [];
          let clangFailed = false;
          for (let i = 0; i < options.runs; i++) {
            warm.push(inProcess(file, { ...opts, cache: false }));
            if (hasClang && !clangFailed) {
              const t = succeeded(
                timed("clang", ["-target", "bpf", ...flags, ...includes, "-c", file, "-o", out]),
              );
              if (t === undefined) clangFailed = true;
              else clang.push(t);
            }
          }
          const inprocess = medianOf(warm);
          row.inprocess_ms = round(inprocess.ms, 1);
          row.inprocess_cpu_ms = round(inprocess.cpuMs, 1);
          if (hasClang && !clangFailed) {
            const c = medianOf(clang);
            row.clang_ms = round(c.ms, 0);
            row.clang_cpu_ms = round(c.cpuMs, 0);
          }
          const first = inProcess(file, opts); // stores the prefix state
          row.first_ms = round(first.ms, 1);
          row.first_cpu_ms = round(first.cpuMs, 1);
          row.cached_ms = round(medianTiming(options.runs, () => inProcess(file, opts))!.ms, 2);
          if (hasCli) {
            const args = [cli, "build", ...flags, ...includes, file, "-o", out];
            const cold = medianTiming(1, () =>
              succeeded(timed(process.execPath, args, { ...process.env, TSBPF_SERVER: "0" })),
            );
            row.cold_ms = round(cold?.ms ?? null, 0);
            row.cold_cpu_ms = round(cold?.cpuMs ?? null, 0);
            if (server !== undefined) {
              const first = await throughServer(server, args, serverEnv);
              row.server_first_ms = round(first?.ms ?? null, 0);
              row.server_first_cpu_ms = round(first?.cpuMs ?? null, 0);
              const again = await medianThroughServer(options.runs, server, args, serverEnv);
              row.server_ms = round(again?.ms ?? null, 0);
              row.server_cpu_ms = round(again?.cpuMs ?? null, 0);
            }
          }
          if (row.clang_cpu_ms) {
            row.inprocess_ratio = round(row.inprocess_cpu_ms! / row.clang_cpu_ms, 2);
            const ratio = (cpu: number | null): number | null =>
              cpu === null ? null : round(cpu / row.clang_cpu_ms!, 2);
            row.first_ratio = ratio(row.first_cpu_ms);
            row.cold_ratio = ratio(row.cold_cpu_ms);
            row.server_first_ratio = ratio(row.server_first_cpu_ms);
            row.server_ratio = ratio(row.server_cpu_ms);
          }
        } catch (e) {
          row.error = (e as Error).message.split("\n")[0];
        }
        rows.push(row);
      }
      if (hasCli) {
        // What any fresh `tsbpf build` costs before it reads a header: Node's start, loading
        // the compiler, building the parser, the back end's first run. The cold column cannot
        // go under it.
        options.log("core_compile: a one-line file");
        const oneLine = join(scratch, "one-line.c");
        writeFileSync(oneLine, "int x;\n");
        const args = [cli, "build", ...flags, oneLine, "-o", join(scratch, "one-line.o")];
        const env = { ...process.env, TSBPF_SERVER: "0" };
        const cold = medianTiming(options.runs, () =>
          succeeded(timed(process.execPath, args, env)),
        );
        floor = emptyRow(FLOOR);
        floor.cold_ms = round(cold?.ms ?? null, 0);
        floor.cold_cpu_ms = round(cold?.cpuMs ?? null, 0);
        if (cold === undefined) floor.error = "tsbpf build failed";
      }
    } finally {
      await server?.client.request(server.socket, { op: "stop" }, 5000).catch(() => undefined);
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
        first_ms: mid((r) => r.first_ms),
        first_cpu_ms: mid((r) => r.first_cpu_ms),
        cached_ms: mid((r) => r.cached_ms),
        cold_ms: mid((r) => r.cold_ms),
        cold_cpu_ms: mid((r) => r.cold_cpu_ms),
        server_first_ms: mid((r) => r.server_first_ms),
        server_first_cpu_ms: mid((r) => r.server_first_cpu_ms),
        server_ms: mid((r) => r.server_ms),
        server_cpu_ms: mid((r) => r.server_cpu_ms),
        clang_ms: mid((r) => r.clang_ms),
        clang_cpu_ms: mid((r) => r.clang_cpu_ms),
        inprocess_ratio: mid((r) => r.inprocess_ratio),
        first_ratio: mid((r) => r.first_ratio),
        cold_ratio: mid((r) => r.cold_ratio),
        server_first_ratio: mid((r) => r.server_first_ratio),
        server_ratio: mid((r) => r.server_ratio),
      });
    }
    if (floor !== undefined) {
      const clang = rows.at(-1)?.clang_cpu_ms ?? null; // the median row's (or the one program's)
      if (clang && floor.cold_cpu_ms !== null)
        floor.cold_ratio = round(floor.cold_cpu_ms / clang, 2);
      rows.push(floor);
    }
    return rows;
  },
};
