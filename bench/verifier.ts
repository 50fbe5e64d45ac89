// The "verifier" section: every program of every corpus object (test/corpus/programs, built by
// tsbpf in process and by clang -O2 when installed) relocated as libbpf would and verified under
// the running kernel's rules: instructions, processed instructions, states, and the median time
// of a verification.
//
//   JSON: "verifier": [{ program, compiler, function, insns, processed, states, ms, ok }]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { compile } from "../compiler/compile.js";
import { relocateProgram } from "../runtime/loader/relocate.js";
import { openObject } from "../runtime/object/open.js";
import { BPF_F_RDONLY_PROG, BpfMapType } from "../runtime/uapi/bpf.js";
import { verify, type VerifyMap } from "../runtime/verifier/index.js";
import { median, repoRoot, type BenchOptions, type BenchSection } from "./section.js";

export interface VerifierRow {
  program: string;
  compiler: "tsbpf" | "clang";
  function: string;
  insns: number;
  /** instructions the walk processed (the kernel's verified_insns) */
  processed: number;
  states: number;
  /** median wall ms of one verification */
  ms: number;
  ok: boolean;
  error?: string;
}

const INCLUDE = "/usr/include/x86_64-linux-gnu";
const FLAGS = ["-D__TARGET_ARCH_x86", `-I${INCLUDE}`];
const MAP_FD_BASE = 100;

function clangObject(path: string, dir: string): Uint8Array | undefined {
  const out = join(dir, "clang.o");
  const r = spawnSync("clang", [
    "-O2",
    "-g",
    "-target",
    "bpf",
    "-mcpu=v3",
    ...FLAGS,
    "-c",
    path,
    "-o",
    out,
  ]);
  return r.status === 0 ? new Uint8Array(readFileSync(out)) : undefined;
}

/** Each autoloaded program of an object, relocated, verified `runs` times. */
function verifyObject(
  bytes: Uint8Array,
  program: string,
  compiler: VerifierRow["compiler"],
  options: BenchOptions,
): VerifierRow[] {
  const object = openObject(bytes, program);
  const maps = new Map<number, VerifyMap>();
  object.maps.forEach((m, i) => {
    const rodata = m.origin === "rodata";
    maps.set(MAP_FD_BASE + i, {
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries:
        m.type === BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY && m.maxEntries === 0
          ? 2
          : m.maxEntries,
      flags: rodata ? m.mapFlags | BPF_F_RDONLY_PROG : m.mapFlags,
      ...(rodata && { frozen: true, value: new Uint8Array(m.valueSize) }),
      ...(m.inner && {
        innerMap: {
          type: m.inner.type,
          keySize: m.inner.keySize,
          valueSize: m.inner.valueSize,
          maxEntries: m.inner.maxEntries,
          flags: m.inner.mapFlags,
        },
      }),
    });
  });
  const rows: VerifierRow[] = [];
  for (const p of object.programs.filter((x) => x.autoload && !x.isSubprogram)) {
    const relocated = relocateProgram(object, p, (i) => MAP_FD_BASE + i);
    const insns = relocated.insns;
    const prog = {
      insns,
      progType: p.type,
      expectedAttachType: p.expectedAttachType,
      license: object.license,
      name: p.name,
    };
    const env = {
      mapByFd: (fd: number) => maps.get(fd),
      kernel: "6.18" as const,
      funcInfo: relocated.funcInfo.map((f) => ({
        insnOff: f.insn,
        name: object.btf?.types[f.typeId]?.name ?? "",
      })),
    };
    const times: number[] = [];
    let result = verify(prog, env);
    for (let i = 0; i < options.warmup; i++) result = verify(prog, env);
    for (let i = 0; i < options.runs; i++) {
      const t0 = performance.now();
      result = verify(prog, env);
      times.push(performance.now() - t0);
    }
    rows.push({
      program,
      compiler,
      function: p.name,
      insns: insns.length,
      processed: result.stats.processedInsns,
      states: result.stats.totalStates,
      ms: Number(median(times).toFixed(3)),
      ok: result.ok,
      ...(result.error && { error: result.error.kernelMessage.split("\n")[0] }),
    });
  }
  return rows;
}

async function run(options: BenchOptions): Promise<VerifierRow[]> {
  const dir = join(repoRoot(), "test", "corpus", "programs");
  const tmp = mkdtempSync(join(tmpdir(), "tsbpf-bench-verifier-"));
  const rows: VerifierRow[] = [];
  try {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith(".bpf.c"))
      .sort()) {
      if (options.filter !== undefined && !file.includes(options.filter)) continue;
      const path = join(dir, file);
      const objects: [VerifierRow["compiler"], Uint8Array | undefined][] = [];
      try {
        objects.push([
          "tsbpf",
          compile(path, {
            includeDirs: [INCLUDE],
            defines: ["__TARGET_ARCH_x86"],
            optLevel: 2,
            cpu: "v3",
            debug: true,
          }).object,
        ]);
      } catch (err) {
        options.log(
          `verifier: ${file}: tsbpf: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      objects.push(["clang", clangObject(path, tmp)]);
      for (const [compiler, bytes] of objects) {
        if (bytes === undefined) continue;
        try {
          rows.push(...verifyObject(bytes, file, compiler, options));
        } catch (err) {
          // objects the loader cannot relocate (legacy maps sections) are listed, not timed
          options.log(
            `verifier: ${file} (${compiler}): ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const processed = rows.reduce((s, r) => s + r.processed, 0);
  options.log(
    `verifier: ${rows.length} programs, ${processed} processed insns in ${total.toFixed(1)} ms ` +
      `(${((processed / total) * 1e-3).toFixed(2)} M processed insns/s)`,
  );
  return rows;
}

export const verifierSection: BenchSection<VerifierRow> = {
  key: "verifier",
  title: "Verifier: each corpus program relocated and verified under the 6.18 rules",
  columns: [
    { header: "program", value: (r) => r.program },
    { header: "by", value: (r) => r.compiler },
    { header: "function", value: (r) => r.function },
    { header: "insns", value: (r) => r.insns },
    { header: "processed", value: (r) => r.processed },
    { header: "states", value: (r) => r.states },
    { header: "ms", value: (r) => r.ms.toFixed(3) },
    { header: "verdict", value: (r) => (r.ok ? "ok" : `refused: ${r.error ?? ""}`) },
  ],
  run,
};
