// What every sample is: a BPF program (NAME.bpf.c) and its driver (NAME.ts) that loads it into
// a simulated kernel, attaches it, and after a workload turns what it gathered into the report
// its user wants to read. The demo runs them all on one kernel; each also runs on its own:
//
//   node dist/samples/NAME.js [--seed N] [--events N] [--object FILE.o] [--engine interp|jit]
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { objectBytes } from "../../runtime/api/source.js";
import type { Engine } from "../../runtime/bpf/engine.js";
import { SimKernel, type SimKernelOptions } from "../../runtime/kernel/kernel.js";
import {
  runWorkload,
  type WorkloadName,
  type WorkloadSummary,
} from "../../runtime/kernel/workload.js";
import { INCLUDE_DIR, sourceOf } from "./paths.js";

/** A sample attached to a kernel, gathering. */
export interface Running<R> {
  /** What the sample gathered (called once, after the workload). */
  collect(): R | Promise<R>;
  /** Detach and close everything. */
  close(): void;
}

export interface Sample<R> {
  /** the file names: NAME.bpf.c, NAME.ts */
  readonly name: string;
  /** the heading the demo prints */
  readonly title: string;
  /** the workload that shows it best on its own */
  readonly workload: WorkloadName;
  readonly events: number;
  /** a kernel other than the default 6.1 one, when the sample needs it */
  readonly kernel?: SimKernelOptions;
  /** Load `object` (the sample's compiled program) into `kernel` and attach it. */
  start(kernel: SimKernel, object: SampleObject, engine: Engine): Running<R>;
  /** The text its user reads. */
  report(result: R, summary: WorkloadSummary): string;
}

/** A compiled sample object. */
export interface SampleObject {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** Compile a sample's C source with tsbpf, in process. */
export async function compileSample(name: string): Promise<SampleObject> {
  const { bytes } = await objectBytes(sourceOf(name), { includeDirs: [INCLUDE_DIR] });
  return { bytes, name: `${name}.bpf.o` };
}

export interface RunOptions {
  seed?: number;
  events?: number;
  engine?: Engine;
  /** an object file to use instead of compiling the source (e.g. clang's) */
  object?: SampleObject;
}

export interface SampleRun<R> {
  result: R;
  summary: WorkloadSummary;
  report: string;
  kernel: SimKernel;
}

/** A sample on its own kernel and its own workload: what its test and its main() run. */
export async function runSample<R>(
  sample: Sample<R>,
  options: RunOptions = {},
): Promise<SampleRun<R>> {
  const object = options.object ?? (await compileSample(sample.name));
  const kernel = new SimKernel({ cpus: 2, ...sample.kernel, seed: options.seed ?? 1 });
  const running = sample.start(kernel, object, options.engine ?? "jit");
  try {
    const summary = runWorkload(kernel, sample.workload, {
      events: options.events ?? sample.events,
    });
    const result = await running.collect();
    return { result, summary, report: sample.report(result, summary), kernel };
  } finally {
    running.close();
  }
}

/** Is the module at `url` the program node was started with? (Symbolic links resolved.) */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/** Run the sample and print its report when its file is the program node was started with. */
export function mainIfRun<R>(url: string, sample: Sample<R>): void {
  if (!isMain(url)) return;
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const file = option("--object");
  void (async () => {
    const run = await runSample(sample, {
      ...(option("--seed") ? { seed: Number(option("--seed")) } : {}),
      ...(option("--events") ? { events: Number(option("--events")) } : {}),
      ...(option("--engine") ? { engine: option("--engine") as Engine } : {}),
      ...(file ? { object: { bytes: new Uint8Array(readFileSync(file)), name: file } } : {}),
    });
    console.log(run.report);
  })().catch((err: unknown) => {
    console.error(`${sample.name}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
