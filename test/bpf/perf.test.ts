// Events per second through kernel function -> kprobe -> program -> map update, for the trivial
// counter program, with each engine (one CPU of this machine; printed, with a loose floor).
import { describe, expect, it } from "vitest";
import { BpfSyscall } from "../../runtime/bpf/syscall.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { attachKprobe, countInsns, counterMap, loadKprobe, readCounter } from "./programs.js";

function eventsPerSecond(engine: "interp" | "jit", runBudget?: number): number {
  const kernel = new SimKernel({ cpus: 1 });
  const bpf = new BpfSyscall(
    kernel,
    runBudget === undefined ? { engine, runBudget: undefined } : { engine, runBudget },
  );
  const map = counterMap(bpf);
  const prog = loadKprobe(bpf, countInsns(map));
  kernel.defineFunction({ proto: "int tsbpf_bench_target(int a)", body: () => 0 });
  attachKprobe(kernel, "tsbpf_bench_target", prog);
  const fn = kernel.fn("tsbpf_bench_target");
  const args = [1];
  for (let i = 0; i < 2000; i++) kernel.call(fn, args); // warm up (JIT compile, ICs)
  // best of three rounds: the machine is shared
  const n = 30_000;
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) kernel.call(fn, args);
    best = Math.min(best, performance.now() - t0);
  }
  expect(readCounter(bpf, map)).toBe(3 * n + 2000);
  return Math.round((n / best) * 1000);
}

describe("kprobe -> program -> map update", () => {
  it("events per second", () => {
    const interp = eventsPerSecond("interp");
    const jit = eventsPerSecond("jit");
    const jitBudget = eventsPerSecond("jit", 1 << 26);
    console.info(
      `events/s: interpreter ${interp}, JIT ${jit} (unbounded), JIT ${jitBudget} (with the default run budget)`,
    );
    expect(interp).toBeGreaterThan(20_000);
    expect(jit).toBeGreaterThan(20_000);
  });
});
