// The "kprobe" section: events per second through kernel function -> kprobe -> program -> map
// update, on one CPU of the simulated kernel, for a trivial counter program (look up slot 0 of
// an array map, add 1 atomically), per engine. Everything goes the way a user's program goes:
// the map from BPF_MAP_CREATE, the program through BPF_PROG_LOAD (verified) on the bpf()
// facade's engine and its kernel helpers, attached with perf_event_open(kprobe event) and
// PERF_EVENT_IOC_SET_BPF. Also the same calls with no probe (the kernel's own cost) and a whole
// workload with the counter on a busy function, for scale: its events/s is firings per CPU
// second of the whole workload, which costs far more than the probes in it.
import { performance } from "node:perf_hooks";
import { bpfOf } from "../runtime/bpf/syscall.js";
import type { Engine } from "../runtime/bpf/engine.js";
import { assemble } from "../runtime/isa/asm.js";
import { BPF_PSEUDO_MAP_FD } from "../runtime/isa/opcodes.js";
import { SimKernel } from "../runtime/kernel/kernel.js";
import { runWorkload } from "../runtime/kernel/workload.js";
import { BpfMapType, BpfProgType } from "../runtime/uapi/bpf.js";
import { PERF_EVENT_IOC_SET_BPF, PerfTypeId } from "../runtime/uapi/perf_event.js";
import { median, type BenchOptions, type BenchSection } from "./section.js";

/** The goal of issue 9 for the JIT's kprobe path (events per CPU second). */
export const KPROBE_GOAL_EVENTS_PER_S = 5_000_000;

export interface KprobeRow {
  engine: Engine;
  /** what was driven: direct calls of one function, or a workload */
  driver: string;
  events: number;
  /** probe firings (program runs) per second of the process's CPU time (the machine is shared) */
  events_per_s: number;
  ns_per_event: number;
  /** the same, per second of wall time */
  wall_events_per_s: number;
  /** the same calls with nothing attached, per CPU second */
  unprobed_calls_per_s: number | null;
  /** events_per_s / the goal (JIT rows of direct calls), else null */
  goal_ratio: number | null;
  /** the counter the program kept equals the number of firings */
  ok: boolean;
}

/** counts[0] += 1, return 0 (the lddw at slot 4 gets the map's fd) */
const COUNTER = `
  mov %r1, 0
  stxw [%r10-4], %r1
  mov %r2, %r10
  add %r2, -4
  lddw %r1, 0
  call 1
  jeq %r0, 0, out
  mov %r1, 1
  lock add [%r0+0], %r1
out:
  mov %r0, 0
  exit`;

/** A kernel with the counter attached to `symbol` by one perf event (all CPUs). */
function counterKernel(symbol: string, cpus: number, engine: Engine) {
  const kernel = new SimKernel({ cpus, seed: 1 });
  const bpf = bpfOf(kernel, { engine });
  const mapFd = bpf.mapCreate({
    mapType: BpfMapType.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
    name: "counts",
  });
  const insns = assemble(COUNTER);
  insns[4] = { ...insns[4]!, src: BPF_PSEUDO_MAP_FD, imm: mapFd };
  const progFd = bpf.progLoad({
    progType: BpfProgType.BPF_PROG_TYPE_KPROBE,
    insns,
    license: "GPL",
    progName: "count_calls",
  });
  const id = kernel.createKprobeEvent(`p:kprobes/count ${symbol}`);
  const perfFd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
  kernel.ioctl(perfFd, PERF_EVENT_IOC_SET_BPF, progFd);
  const key = new Uint8Array(4); // slot 0
  const value = new Uint8Array(8);
  const count = (): number => {
    bpf.mapLookupElem({ mapFd, key, value });
    return new DataView(value.buffer).getUint32(0, true);
  };
  return { kernel, count, perfFd, event: kernel.kprobes.get(id)! };
}

/** Wall and CPU milliseconds of `fn`. */
function timed(fn: () => void): { wall: number; cpu: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  fn();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

/** Calls of fd_install (a function whose body does nothing) on one CPU: the probe path alone. */
function directCalls(
  options: BenchOptions,
  engine: Engine,
  probed: boolean,
  n: number,
): { perSecond: number; wallPerSecond: number; ok: boolean } {
  const symbol = "fd_install";
  const { kernel, event, count, perfFd } = counterKernel(symbol, 1, engine);
  if (!probed) kernel.close(perfFd); // closing the perf event fd detaches and disarms
  const fn = kernel.fn(symbol);
  const args = [3, null];
  const loop = (count: number): void => {
    for (let i = 0; i < count; i++) kernel.call(fn, args);
  };
  const warm = Math.min(n, 50_000) * options.warmup;
  loop(warm);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < options.runs; r++) {
    const t = timed(() => loop(n));
    cpu.push(t.cpu);
    wall.push(t.wall);
  }
  const runs = probed ? event.progs[0]!.runs : 0;
  const expected = probed ? warm + n * options.runs : 0;
  return {
    perSecond: n / (median(cpu) / 1000),
    wallPerSecond: n / (median(wall) / 1000),
    ok: runs === expected && (!probed || count() === runs),
  };
}

function workload(options: BenchOptions, engine: Engine): KprobeRow {
  const events = 3000;
  const cpu: number[] = [];
  const wall: number[] = [];
  let firings = 0;
  let ok = true;
  // Untimed runs first: the workload's own JavaScript warms up in them, whichever engine.
  for (let r = 0; r < options.warmup + options.runs; r++) {
    const { kernel, event, count } = counterKernel("vfs_read", 2, engine);
    let calls = 0;
    const t = timed(() => {
      calls = runWorkload(kernel, "files", { events }).calls.vfs_read ?? 0;
    });
    if (r >= options.warmup) {
      cpu.push(t.cpu);
      wall.push(t.wall);
    }
    firings = event.progs[0]!.runs;
    ok &&= firings === calls && count() === firings;
  }
  const ms = median(cpu);
  return {
    engine,
    driver: `files workload, ${events} events (counter on vfs_read)`,
    events: firings,
    events_per_s: Math.round(firings / (ms / 1000)),
    ns_per_event: Math.round((ms * 1e6) / firings),
    wall_events_per_s: Math.round(firings / (median(wall) / 1000)),
    unprobed_calls_per_s: null,
    goal_ratio: null,
    ok,
  };
}

export const kprobeSection: BenchSection<KprobeRow> = {
  key: "kprobe",
  title:
    "kprobe: kernel function -> kprobe -> program -> map update (one CPU; per CPU second; " +
    `goal ${KPROBE_GOAL_EVENTS_PER_S / 1e6} M events/s with the JIT)`,
  columns: [
    { header: "engine", value: (r) => r.engine },
    { header: "driver", value: (r) => r.driver },
    { header: "events", value: (r) => r.events },
    { header: "events/s", value: (r) => r.events_per_s },
    { header: "ns/event", value: (r) => r.ns_per_event },
    { header: "wall events/s", value: (r) => r.wall_events_per_s },
    { header: "unprobed calls/s", value: (r) => r.unprobed_calls_per_s },
    { header: "x goal", value: (r) => (r.goal_ratio === null ? null : r.goal_ratio.toFixed(2)) },
    { header: "check", value: (r) => (r.ok ? "ok" : "FAIL") },
  ],
  async run(options) {
    const n = 500_000;
    const rows: KprobeRow[] = [];
    for (const engine of ["interp", "jit"] as const) {
      options.log(`kprobe: direct calls (${engine})`);
      const probed = directCalls(options, engine, true, n);
      const bare = directCalls(options, engine, false, n);
      rows.push({
        engine,
        driver: "fd_install called directly",
        events: n,
        events_per_s: Math.round(probed.perSecond),
        ns_per_event: Math.round(1e9 / probed.perSecond),
        wall_events_per_s: Math.round(probed.wallPerSecond),
        unprobed_calls_per_s: Math.round(bare.perSecond),
        goal_ratio:
          engine === "jit"
            ? Math.round((probed.perSecond / KPROBE_GOAL_EVENTS_PER_S) * 100) / 100
            : null,
        ok: probed.ok,
      });
    }
    for (const engine of ["interp", "jit"] as const) {
      options.log(`kprobe: files workload (${engine})`);
      rows.push(workload(options, engine));
    }
    return rows;
  },
};
