// The "kprobe" section: events per second through kernel function -> kprobe -> program -> map
// update, on one CPU of the simulated kernel, for a trivial counter program (look up slot 0 of
// an array map, add 1 atomically). Also the same calls with no probe (the kernel's own cost)
// and a whole workload with the counter on a busy function, for scale.
import { performance } from "node:perf_hooks";
import { assemble } from "../runtime/isa/asm.js";
import { KernelFile, FileKind } from "../runtime/kernel/files.js";
import { SimKernel } from "../runtime/kernel/kernel.js";
import type { KernelCpu } from "../runtime/kernel/cpu.js";
import type { AttachableProg } from "../runtime/kernel/attach.js";
import { runWorkload } from "../runtime/kernel/workload.js";
import { createMapOrThrow } from "../runtime/maps/create.js";
import { BpfMapType, BpfProgType } from "../runtime/uapi/bpf.js";
import { PERF_EVENT_IOC_SET_BPF, PerfTypeId } from "../runtime/uapi/perf_event.js";
import { HelperTable } from "../runtime/vm/helpers.js";
import { Interpreter } from "../runtime/vm/interpreter.js";
import { KERNEL_HI } from "../runtime/vm/memory.js";
import { prepareProgram } from "../runtime/vm/program.js";
import { median, type BenchOptions, type BenchSection } from "./section.js";

export interface KprobeRow {
  engine: "interp" | "jit";
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
  /** the counter the program kept equals the number of firings */
  ok: boolean;
}

/** counts[0] += 1, return 0 */
const COUNTER = `
  mov %r1, 0
  stxw [%r10-4], %r1
  mov %r1, 0
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, out
  mov %r1, 1
  lock add [%r0+0], %r1
out:
  mov %r0, 0
  exit`;

/** A kernel with the counter attached to `symbol` on every CPU's perf event. */
function counterKernel(symbol: string, cpus: number) {
  const kernel = new SimKernel({ cpus, seed: 1 });
  const map = createMapOrThrow(kernel, {
    mapType: BpfMapType.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
    name: "counts",
  });
  const helpers = new HelperTable<KernelCpu>().register(1, "map_lookup_elem", (vm) => {
    const offset = map.lookupElem(vm.regs[4]!, vm.regs[5]!, vm.host.id);
    vm.regs[0] = offset;
    vm.regs[1] = offset === 0 ? 0 : KERNEL_HI;
  });
  const program = prepareProgram(assemble(COUNTER), { name: "count_calls" });
  const engines = kernel.cpus.map(
    (cpu) => new Interpreter<KernelCpu>({ memory: kernel.memory, helpers, host: cpu }),
  );
  const prog: AttachableProg = {
    progType: BpfProgType.BPF_PROG_TYPE_KPROBE,
    name: "count_calls",
    run: (lo, hi, cpu) => {
      const r = engines[cpu]!.run(program, { args: [[lo, hi]] });
      return [r.lo, r.hi];
    },
    get: () => undefined,
    put: () => undefined,
  };
  const id = kernel.createKprobeEvent(`p:kprobes/count ${symbol}`);
  const perfFd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
  const progFd = kernel.files.install(new KernelFile(FileKind.BPF_PROG, prog));
  kernel.ioctl(perfFd, PERF_EVENT_IOC_SET_BPF, progFd);
  const key = kernel.memory.alloc(4, { name: "bench key", kind: "data" }); // zero: slot 0
  const slot = map.lookupElem(key.addressLo, KERNEL_HI, 0);
  const count = (): number => kernel.memory.view.getUint32(slot, true);
  return { kernel, count, event: kernel.kprobes.get(id)! };
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
  probed: boolean,
  n: number,
): { perSecond: number; wallPerSecond: number; ok: boolean } {
  const symbol = "fd_install";
  const { kernel, event, count } = counterKernel(symbol, 1);
  if (!probed) kernel.close(3); // closing the perf event fd detaches and disarms
  const fn = kernel.fn(symbol);
  const args = [3, null];
  const loop = (count: number): void => {
    for (let i = 0; i < count; i++) kernel.call(fn, args);
  };
  loop(Math.min(n, 20_000) * options.warmup);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < options.runs; r++) {
    const t = timed(() => loop(n));
    cpu.push(t.cpu);
    wall.push(t.wall);
  }
  const runs = probed ? event.progs[0]!.runs : 0;
  const expected = probed ? Math.min(n, 20_000) * options.warmup + n * options.runs : 0;
  return {
    perSecond: n / (median(cpu) / 1000),
    wallPerSecond: n / (median(wall) / 1000),
    ok: runs === expected && count() === runs,
  };
}

function workload(options: BenchOptions): KprobeRow {
  const events = 3000;
  const cpu: number[] = [];
  const wall: number[] = [];
  let firings = 0;
  let ok = true;
  for (let r = 0; r < Math.max(1, options.runs); r++) {
    const { kernel, event, count } = counterKernel("vfs_read", 2);
    let calls = 0;
    const t = timed(() => {
      calls = runWorkload(kernel, "files", { events }).calls.vfs_read ?? 0;
    });
    cpu.push(t.cpu);
    wall.push(t.wall);
    firings = event.progs[0]!.runs;
    ok &&= firings === calls && count() === firings;
  }
  const ms = median(cpu);
  return {
    engine: "interp",
    driver: `files workload, ${events} events (counter on vfs_read)`,
    events: firings,
    events_per_s: Math.round(firings / (ms / 1000)),
    ns_per_event: Math.round((ms * 1e6) / firings),
    wall_events_per_s: Math.round(firings / (median(wall) / 1000)),
    unprobed_calls_per_s: null,
    ok,
  };
}

export const kprobeSection: BenchSection<KprobeRow> = {
  key: "kprobe",
  title: "kprobe: kernel function -> kprobe -> program -> map update (one CPU)",
  columns: [
    { header: "engine", value: (r) => r.engine },
    { header: "driver", value: (r) => r.driver },
    { header: "events", value: (r) => r.events },
    { header: "events/s", value: (r) => r.events_per_s },
    { header: "ns/event", value: (r) => r.ns_per_event },
    { header: "wall events/s", value: (r) => r.wall_events_per_s },
    { header: "unprobed calls/s", value: (r) => r.unprobed_calls_per_s },
    { header: "check", value: (r) => (r.ok ? "ok" : "FAIL") },
  ],
  async run(options) {
    const n = 200_000;
    options.log("kprobe: direct calls");
    const probed = directCalls(options, true, n);
    const bare = directCalls(options, false, n);
    const rows: KprobeRow[] = [
      {
        engine: "interp",
        driver: "fd_install called directly",
        events: n,
        events_per_s: Math.round(probed.perSecond),
        ns_per_event: Math.round(1e9 / probed.perSecond),
        wall_events_per_s: Math.round(probed.wallPerSecond),
        unprobed_calls_per_s: Math.round(bare.perSecond),
        ok: probed.ok,
      },
    ];
    options.log("kprobe: files workload");
    rows.push(workload(options));
    return rows;
  },
};
