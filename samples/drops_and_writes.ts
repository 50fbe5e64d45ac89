// Where packets are dropped (kfree_skb_reason call sites, resolved through kallsyms) and who
// writes how much (a log2 histogram of write sizes per process, summed over the CPUs).
import { BpfObject, codec } from "../runtime/api/index.js";
import type { SimKernel } from "../runtime/kernel/kernel.js";
import { log2Histogram, table } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export interface DropSite {
  /** "tcp_v4_rcv+0x1a2/0x..." */
  site: string;
  drops: number;
}

export interface WriterHistogram {
  comm: string;
  pid: number;
  uid: number;
  /** writes per log2 slot of their size */
  slots: number[];
  writes: number;
}

export interface DropsAndWritesResult {
  drops: DropSite[];
  writers: WriterHistogram[];
}

const WRITE_KEY = codec.struct({
  comm: codec.cstring(16),
  pid: codec.u32,
  uid: codec.u32,
  slot: codec.u32,
});

const TOP_WRITERS = 3;

export const dropsAndWrites: Sample<DropsAndWritesResult> = {
  name: "drops_and_writes",
  title:
    "packet drops by call site and write sizes per process (HASH by return address, PERCPU_HASH log2 histograms)",
  workload: "mixed",
  events: 1500,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    obj.attachAll();
    return {
      collect: () => ({ drops: dropSites(kernel, obj), writers: writers(obj) }),
      close: () => obj.close(),
    };
  },

  report({ drops, writers }) {
    const total = drops.reduce((n, d) => n + d.drops, 0);
    const out = [`${total} packets dropped, by the kernel function that freed them:`];
    out.push(
      table(
        ["CALL SITE", "DROPS"],
        drops.map((d) => [d.site, d.drops]),
      ),
    );
    for (const w of writers.slice(0, TOP_WRITERS)) {
      out.push("", `${w.comm} (pid ${w.pid}, uid ${w.uid}): ${w.writes} writes`);
      out.push(log2Histogram(w.slots, "bytes"));
    }
    if (writers.length > TOP_WRITERS)
      out.push("", `... and ${writers.length - TOP_WRITERS} more processes that wrote`);
    return out.join("\n");
  },
};

function dropSites(kernel: SimKernel, obj: BpfObject): DropSite[] {
  const sites = obj.map("drop_sites").typed(codec.u64, codec.u64n);
  return [...sites]
    .map(([address, drops]) => ({
      site: kernel.kallsyms.format(Number(address & 0xffffffffn) | 0, Number(address >> 32n) | 0),
      drops,
    }))
    .sort((a, b) => b.drops - a.drops || (a.site < b.site ? -1 : 1));
}

/** Per-CPU counts summed; one histogram per process, busiest first. */
function writers(obj: BpfObject): WriterHistogram[] {
  const byProcess = new Map<string, WriterHistogram>();
  for (const [key, perCpu] of obj.map("write_sizes").percpu(WRITE_KEY, codec.u64n)) {
    const id = `${key.pid}/${key.comm}/${key.uid}`;
    let w = byProcess.get(id);
    if (w === undefined) {
      w = { comm: key.comm, pid: key.pid, uid: key.uid, slots: [], writes: 0 };
      byProcess.set(id, w);
    }
    const n = perCpu.reduce((a, b) => a + b, 0);
    while (w.slots.length <= key.slot) w.slots.push(0);
    w.slots[key.slot]! += n;
    w.writes += n;
  }
  return [...byProcess.values()].sort((a, b) => b.writes - a.writes || a.pid - b.pid);
}

mainIfRun(import.meta.url, dropsAndWrites);
