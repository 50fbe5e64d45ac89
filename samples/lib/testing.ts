// What the samples' tests share: running a sample on a fresh seeded kernel, and building it with
// clang and with tsbpf to compare what `tsbpf run --json` prints for the two objects.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Engine } from "../../runtime/bpf/engine.js";
import { runObject, type RunReport } from "../../runtime/cli/run.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import {
  runWorkload,
  type WorkloadName,
  type WorkloadSummary,
} from "../../runtime/kernel/workload.js";
import { openObject } from "../../runtime/object/open.js";
import { COMPILE_FLAGS, HAS_LIBBPF_HEADERS, LIBBPF_INCLUDE, sourceOf } from "./paths.js";
import { compileSample, type Sample, type SampleObject } from "./sample.js";

/** clang is the reference compiler; without it the comparisons skip, saying so. */
export const HAS_CLANG = spawnSync("clang", ["--version"]).status === 0;
if (!HAS_CLANG) console.log("samples: clang not found, the clang comparisons are skipped");

/** The samples include libbpf's headers; without them nothing compiles, and the tests say so. */
export { HAS_LIBBPF_HEADERS } from "./paths.js";
if (!HAS_LIBBPF_HEADERS)
  console.log(`samples: libbpf's headers are not in ${LIBBPF_INCLUDE} (libbpf-dev): skipping`);

export interface FreshRun<R> {
  result: R;
  summary: WorkloadSummary;
  report: string;
  kernel: SimKernel;
}

/**
 * A fresh kernel (the sample's version, 2 CPUs, `seed`), the sample attached, `before` run on
 * the kernel once everything is attached, then the workload.
 */
export async function runFresh<R>(
  sample: Sample<R>,
  options: {
    seed: number;
    events?: number;
    workload?: WorkloadName;
    engine?: Engine;
    object?: SampleObject;
    before?: (kernel: SimKernel) => void;
  },
): Promise<FreshRun<R>> {
  const object = options.object ?? (await compileSample(sample.name));
  const kernel = new SimKernel({ cpus: 2, ...sample.kernel, seed: options.seed });
  const running = sample.start(kernel, object, options.engine ?? "jit");
  try {
    options.before?.(kernel);
    const summary = runWorkload(kernel, options.workload ?? sample.workload, {
      events: options.events ?? sample.events,
    });
    const result = await running.collect();
    return { result, summary, report: sample.report(result, summary), kernel };
  } finally {
    running.close();
  }
}

/** clang -O2 -g -target bpf -c of the sample, with the flags tsbpf gets. */
export function clangSample(name: string): SampleObject {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-sample-"));
  try {
    const out = join(dir, `${name}.clang.o`);
    const r = spawnSync(
      "clang",
      ["-O2", "-g", "-target", "bpf", ...COMPILE_FLAGS, "-c", sourceOf(name), "-o", out],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`clang failed on ${name}.bpf.c:\n${r.stderr}`);
    return { bytes: new Uint8Array(readFileSync(out)), name: `${name}.clang.o` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The maps an object creates, in creation order (what decides kernel memory layout). */
export const mapOrder = (object: SampleObject): string[] =>
  openObject(object.bytes, object.name).maps.map((m) => m.realName);

/** `tsbpf run --json` of an object, on the sample's workload and kernel. */
export async function runJson<R>(
  sample: Sample<R>,
  object: SampleObject,
  options: { seed?: number; engine?: Engine } = {},
): Promise<RunReport> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-run-"));
  try {
    const file = join(dir, object.name);
    writeFileSync(file, object.bytes);
    return await runObject({
      file,
      workload: sample.workload,
      events: sample.events,
      seed: options.seed ?? 1,
      kernel: sample.kernel?.version === "4.1" ? "4.1" : "6.1",
      engine: options.engine ?? "jit",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A run report without what names the object file (the rest must match between compilers). */
export const withoutObjectName = (r: RunReport): Omit<RunReport, "object"> => {
  const { object: _object, ...rest } = r;
  return rest;
};

/**
 * What must be equal between the clang-built and the tsbpf-built object's runs. Everything,
 * when both create their maps in the same order. When the orders differ (a compiler lays out
 * `.maps` differently), the kernel's own later allocations land elsewhere, so the addresses the
 * workload reports (leaked allocations) differ and are left out; the note says so.
 */
export function comparable(runs: {
  clang: RunReport;
  tsbpf: RunReport;
  clangMaps: string[];
  tsbpfMaps: string[];
}): { clang: unknown; tsbpf: unknown; note: string | undefined } {
  const sameOrder = runs.clangMaps.join() === runs.tsbpfMaps.join();
  const strip = (r: RunReport): unknown => {
    const rest = withoutObjectName(r);
    if (sameOrder || rest.workload.alloc === undefined) return rest;
    const { leakedAddresses: _addresses, ...alloc } = rest.workload.alloc;
    return { ...rest, workload: { ...rest.workload, alloc } };
  };
  const note = sameOrder
    ? undefined
    : `maps created in another order (clang: ${runs.clangMaps.join(", ")}; tsbpf: ` +
      `${runs.tsbpfMaps.join(", ")}): kernel addresses compared no further`;
  if (note !== undefined) console.log(`${runs.clang.object}: ${note}`);
  return { clang: strip(runs.clang), tsbpf: strip(runs.tsbpf), note };
}

/** `tsbpf run --json` of the clang-built and the tsbpf-built object, with their map orders. */
export async function clangAndTsbpfRuns<R>(sample: Sample<R>): Promise<{
  clang: RunReport;
  tsbpf: RunReport;
  clangMaps: string[];
  tsbpfMaps: string[];
}> {
  const clangBuilt = clangSample(sample.name);
  const ours = await compileSample(sample.name);
  return {
    clang: await runJson(sample, clangBuilt),
    tsbpf: await runJson(sample, ours),
    clangMaps: mapOrder(clangBuilt),
    tsbpfMaps: mapOrder(ours),
  };
}
