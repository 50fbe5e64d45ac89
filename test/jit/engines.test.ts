// The engines on whole programs, each built by tsbpf and by clang, once under the interpreter
// and once under the JIT:
//   - every corpus program (test/corpus/programs), loaded, attached and driven by the mixed
//     workload as `tsbpf run` does (runtime/cli/run.ts): the reports (maps, trace_pipe, perf
//     and ring buffer records, program statistics, the workload's summary) must be identical
//     but for the engine's name, and so must the error when an object cannot run here;
//   - every sample, through its own driver (samples/lib): the same result, summary and report.
// The engines differ in speed only: even kernel addresses (which depend on what was allocated
// before) come out the same.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/bpf/engine.js";
import { runObject, type RunReport } from "../../runtime/cli/run.js";
import type { WorkloadName } from "../../runtime/kernel/workload.js";
import { SAMPLES } from "../../samples/index.js";
import { compileSample, type SampleObject } from "../../samples/lib/sample.js";
import { clangSample, HAS_CLANG, HAS_LIBBPF_HEADERS, runFresh } from "../../samples/lib/testing.js";
import { clangObject, CORPUS, tsbpfObject } from "../corpus/corpus.js";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-engines-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Outcome = { report: Omit<RunReport, "kernel"> & { release: string } } | { error: string };

/** `tsbpf run --json` of an object file under one engine, without the engine's name. */
async function run(
  file: string,
  engine: Engine,
  options: { workload?: WorkloadName; events: number; kernel?: "4.1" | "6.1" },
): Promise<Outcome> {
  try {
    const report = await runObject({
      file,
      engine,
      seed: 3,
      events: options.events,
      ...(options.workload !== undefined ? { workload: options.workload } : {}),
      ...(options.kernel !== undefined ? { kernel: options.kernel } : {}),
    });
    expect(report.kernel.engine).toBe(engine);
    const { kernel, ...rest } = report;
    return { report: { ...rest, release: kernel.release } };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** Corpus objects that ran programs, and those that could not run here (and why). */
const corpus = { ran: 0, runs: 0, errors: [] as string[] };

async function agree(file: string, options: Parameters<typeof run>[2]): Promise<void> {
  const interp = await run(file, "interp", options);
  const jit = await run(file, "jit", options);
  expect(jit, file).toEqual(interp);
  if ("error" in interp) corpus.errors.push(`${file}: ${interp.error}`);
  else {
    const runs = interp.report.programs.reduce((n, p) => n + p.runs, 0);
    if (runs > 0) corpus.ran++;
    corpus.runs += runs;
  }
}

describe("corpus programs under both engines", () => {
  it.each(CORPUS)("%s (tsbpf's object) gives the same report", async (program) => {
    const file = tsbpfObject(program, dir);
    await agree(file, { events: 200 });
  });

  it.skipIf(!HAS_CLANG).each(CORPUS)("%s (clang's object) gives the same report", async (p) => {
    const file = clangObject(p, dir);
    await agree(file, { events: 200 });
  });

  it("ran programs for nearly every object", () => {
    console.log(
      `corpus under both engines: ${corpus.ran} objects ran programs (${corpus.runs} runs);`,
      `could not run: ${corpus.errors.length === 0 ? "none" : corpus.errors.join("; ")}`,
    );
    expect(corpus.ran).toBeGreaterThanOrEqual((HAS_CLANG ? 2 : 1) * CORPUS.length - 6);
  });
});

describe.skipIf(!HAS_LIBBPF_HEADERS)("samples under both engines", () => {
  const names = SAMPLES.map((s) => s.name);

  /** The sample's own driver (attachments with cookies, its readers) on its workload. */
  async function sampleAgrees(name: string, object: SampleObject): Promise<void> {
    const sample = SAMPLES.find((s) => s.name === name)!;
    const outcome = async (engine: Engine) => {
      const { result, summary, report } = await runFresh(sample, { seed: 3, engine, object });
      return { result, summary, report };
    };
    const interp = await outcome("interp");
    expect(await outcome("jit"), name).toEqual(interp);
  }

  it.each(names)("%s (tsbpf's object) gives the same result and report", async (name) => {
    await sampleAgrees(name, await compileSample(name));
  });

  it.skipIf(!HAS_CLANG).each(names)(
    "%s (clang's object) gives the same result and report",
    async (name) => {
      await sampleAgrees(name, clangSample(name));
    },
  );
});
