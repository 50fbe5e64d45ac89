// Outstanding kernel allocations grouped by call site and task, the oldest listed: what the
// memleak tool prints to point at a leak.
import { BpfObject, codec } from "../runtime/api/index.js";
import type { SimKernel } from "../runtime/kernel/kernel.js";
import { hexAddress, table } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export interface Allocation {
  address: bigint;
  size: number;
  callSite: string;
  comm: string;
  pid: number;
  /** ns the allocation has been outstanding */
  ageNs: number;
}

export interface MemleakResult {
  outstanding: Allocation[];
}

const ALLOCATION = codec.struct({
  size: codec.u64n,
  callSite: codec.u64,
  ts: codec.u64n,
  pid: codec.u32,
  reserved: codec.u32,
});

const OLDEST = 5;

export const memleak: Sample<MemleakResult> = {
  name: "memleak",
  title: "memory leak finder (__kmalloc kprobe + kretprobe, kfree kprobe: outstanding allocations)",
  workload: "alloc",
  events: 1500,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    obj.attachAll();
    return {
      collect: () => ({ outstanding: outstanding(kernel, obj) }),
      close: () => obj.close(),
    };
  },

  report({ outstanding }) {
    const bytes = outstanding.reduce((n, a) => n + a.size, 0);
    const groups = new Map<string, { site: string; comm: string; allocs: number; bytes: number }>();
    for (const a of outstanding) {
      const key = `${a.callSite} ${a.comm}`;
      const g = groups.get(key) ?? { site: a.callSite, comm: a.comm, allocs: 0, bytes: 0 };
      g.allocs++;
      g.bytes += a.size;
      groups.set(key, g);
    }
    const rows = [...groups.values()].sort(
      (a, b) => b.bytes - a.bytes || (a.comm < b.comm ? -1 : 1),
    );
    const oldest = [...outstanding].sort(
      (a, b) => b.ageNs - a.ageNs || Number(a.address - b.address),
    );
    return [
      `${outstanding.length} allocations outstanding, ${bytes} bytes, by call site and task:`,
      table(
        ["BYTES", "ALLOCS", "TASK", "CALL SITE"],
        rows.map((g) => [g.bytes, g.allocs, g.comm, g.site]),
      ),
      "",
      `oldest outstanding (the likeliest leaks):`,
      table(
        ["ADDRESS", "SIZE", "AGE ms", "TASK"],
        oldest
          .slice(0, OLDEST)
          .map((a) => [
            hexAddress(a.address),
            a.size,
            (a.ageNs / 1e6).toFixed(3),
            `${a.comm}[${a.pid}]`,
          ]),
      ),
    ].join("\n");
  },
};

function outstanding(kernel: SimKernel, obj: BpfObject): Allocation[] {
  const now = kernel.clock.ns;
  const map = obj.map("outstanding").typed(codec.u64, ALLOCATION);
  return [...map]
    .map(([address, a]) => ({
      address,
      size: a.size,
      callSite: kernel.kallsyms.format(
        Number(a.callSite & 0xffffffffn) | 0,
        Number(a.callSite >> 32n) | 0,
      ),
      comm: kernel.tasks.get(a.pid)?.comm ?? "?",
      pid: a.pid,
      ageNs: now - a.ts,
    }))
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

mainIfRun(import.meta.url, memleak);
