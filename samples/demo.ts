// `npm start`: compile every sample with tsbpf (in process), load and attach them all on one
// simulated kernel, run a mixed workload, and print each sample's report under its heading.
// A sample that needs another kernel (the seed's flow on Linux 4.1) runs on its own.
//
//   node dist/samples/demo.js [--seed N] [--events N] [--engine interp|jit]
import type { Engine } from "../runtime/bpf/engine.js";
import { SimKernel } from "../runtime/kernel/kernel.js";
import { runWorkload } from "../runtime/kernel/workload.js";
import { SAMPLES } from "./index.js";
import { HAS_LIBBPF_HEADERS, LIBBPF_INCLUDE } from "./lib/paths.js";
import { compileSample, isMain, runSample, type Running, type SampleObject } from "./lib/sample.js";

export interface DemoOptions {
  seed: number;
  events: number;
  engine: Engine;
}

function parseOptions(args: string[]): DemoOptions {
  const options: DemoOptions = { seed: 1, events: 3000, engine: "jit" };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === "--seed" && value !== undefined) options.seed = Number(value);
    else if (flag === "--events" && value !== undefined) options.events = Number(value);
    else if (flag === "--engine" && (value === "interp" || value === "jit")) options.engine = value;
    else
      throw new Error(`usage: demo [--seed N] [--events N] [--engine interp|jit] (at '${flag}')`);
  }
  return options;
}

function heading(index: number, name: string, title: string): string {
  const text = `[${index + 1}/${SAMPLES.length}] ${name}: ${title}`;
  return `\n${"=".repeat(Math.min(text.length, 100))}\n${text}\n${"=".repeat(Math.min(text.length, 100))}`;
}

/** Compile, attach and run every sample; `print` gets the output line by line. */
export async function runDemo(options: DemoOptions, print: (text: string) => void): Promise<void> {
  const started = performance.now();
  print(`tsbpf demo: compiling ${SAMPLES.length} sample programs with tsbpf ...`);
  if (!HAS_LIBBPF_HEADERS)
    print(
      `(libbpf's headers are not in ${LIBBPF_INCLUDE}: install libbpf-dev, the samples include them)`,
    );
  const compiled: (SampleObject | Error)[] = [];
  for (const sample of SAMPLES) {
    try {
      compiled.push(await compileSample(sample.name));
    } catch (err) {
      compiled.push(err instanceof Error ? err : new Error(String(err)));
    }
  }
  const compileMs = performance.now() - started;

  const kernel = new SimKernel({ cpus: 2, seed: options.seed });
  const running = new Map<number, Running<unknown>>();
  const failures = new Map<number, string>();
  SAMPLES.forEach((sample, i) => {
    const object = compiled[i]!;
    if (object instanceof Error) failures.set(i, `tsbpf could not compile it: ${object.message}`);
    else if (sample.kernel === undefined) {
      try {
        running.set(i, sample.start(kernel, object, options.engine));
      } catch (err) {
        failures.set(i, err instanceof Error ? err.message : String(err));
      }
    }
  });
  const summary = runWorkload(kernel, "mixed", { events: options.events });
  print(
    `one simulated Linux ${kernel.release} kernel, ${kernel.cpus.length} CPUs, seed ${options.seed}: ` +
      `${running.size} samples attached, workload 'mixed' of ${options.events} events ` +
      `(${((summary.endNs - summary.startNs) / 1e6).toFixed(1)} ms of kernel time)`,
  );

  for (const [i, sample] of SAMPLES.entries()) {
    print(heading(i, sample.name, sample.title));
    const failure = failures.get(i);
    if (failure !== undefined) {
      print(`(not run: ${failure})`);
      continue;
    }
    const object = compiled[i] as SampleObject;
    try {
      if (sample.kernel !== undefined) {
        const run = await runSample(sample, { object, seed: options.seed, engine: options.engine });
        print(`(on its own simulated Linux ${run.kernel.release} kernel)\n${run.report}`);
      } else {
        const r = running.get(i)!;
        print(sample.report(await r.collect(), summary));
        r.close();
      }
    } catch (err) {
      print(`(failed: ${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const totalMs = performance.now() - started;
  print(
    `\ncompiled ${compiled.filter((c) => !(c instanceof Error)).length}/${SAMPLES.length} samples in ` +
      `${(compileMs / 1000).toFixed(1)} s; everything in ${(totalMs / 1000).toFixed(1)} s ` +
      `(${options.engine} engine). Each sample also runs alone: node dist/samples/NAME.js`,
  );
}

if (isMain(import.meta.url)) {
  runDemo(parseOptions(process.argv.slice(2)), (text) => console.log(text)).catch(
    (err: unknown) => {
      console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
