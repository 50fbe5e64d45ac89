// Map operations per second, kernel side (what a helper call costs beyond the interpreter) and
// syscall side. bench/maps.ts reports these figures in `npm run bench`; it depends on nothing in
// bench/.
import { performance } from "node:perf_hooks";
import { BPF_ANY, BpfMapType } from "../uapi/bpf.js";
import { AddressSpace, KERNEL_HI } from "../vm/memory.js";
import { createMapOrThrow } from "./create.js";
import type { BpfMap, MapAttr } from "./map.js";
import type { RingbufMap } from "./ringbuf.js";
import type { StackTraceMap } from "./stackmap.js";

export interface MapOpsRow {
  map: string;
  op: string;
  /** median nanoseconds per operation */
  ns_per_op: number;
  /** million operations per second */
  mops: number;
}

export interface MapBenchOptions {
  /** operations per timed run */
  ops?: number;
  /** timed runs (the median is reported) */
  runs?: number;
  /** only rows whose "map op" contains this */
  filter?: string;
}

/** Programs run in batches: one simulated program run per this many operations. */
const OPS_PER_RUN = 64;

export function measureMapOps(options: MapBenchOptions = {}): MapOpsRow[] {
  const ops = options.ops ?? 200_000;
  const runs = options.runs ?? 5;
  const rows: MapOpsRow[] = [];
  for (const c of cases()) {
    if (options.filter !== undefined && !`${c.map} ${c.op}`.includes(options.filter)) continue;
    const bench = c.setup();
    bench(Math.min(ops, 10_000)); // warm up
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      bench(ops);
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const ns = (times[times.length >> 1]! * 1e6) / ops;
    rows.push({ map: c.map, op: c.op, ns_per_op: Math.round(ns), mops: Math.round(1000 / ns) / 1 });
  }
  return rows;
}

interface Case {
  map: string;
  op: string;
  /** returns a function that performs n operations */
  setup: () => (n: number) => void;
}

const T = BpfMapType;
const attr = (
  mapType: number,
  keySize: number,
  valueSize: number,
  maxEntries: number,
  mapFlags = 0,
): MapAttr => ({
  mapType,
  keySize,
  valueSize,
  maxEntries,
  mapFlags,
});

/** A map plus 1024 keys (u32 0..1023) and a value laid out where a program's stack would be. */
function fixture(a: MapAttr) {
  const memory = new AddressSpace();
  const map = createMapOrThrow({ memory, possibleCpus: 4 }, a);
  const keys = memory.alloc(1024 * 8, { name: "keys", kind: "stack" });
  for (let i = 0; i < 1024; i++) memory.view.setUint32(keys.base + 8 * i, i, true);
  const value = memory.alloc(64, { name: "value", kind: "stack" });
  const key = (i: number): number => keys.base + 8 * (i & 1023);
  /** n operations in program runs of OPS_PER_RUN */
  const inRuns = (n: number, op: (i: number) => void): void => {
    for (let i = 0; i < n;) {
      memory.enterRun();
      const end = Math.min(n, i + OPS_PER_RUN);
      for (; i < end; i++) op(i);
      memory.exitRun();
    }
  };
  return { memory, map, key, value: value.base, inRuns };
}

function fill(map: BpfMap, key: (i: number) => number, value: number, count: number): void {
  for (let i = 0; i < count; i++)
    map.updateElem(key(i), KERNEL_HI, value, KERNEL_HI, BPF_ANY, 0, 0);
}

function cases(): Case[] {
  const kernelLookup = (name: string, a: MapAttr): Case => ({
    map: name,
    op: "lookup (program)",
    setup: () => {
      const f = fixture(a);
      fill(f.map, f.key, f.value, Math.min(a.maxEntries, 1024));
      return (n) => f.inRuns(n, (i) => f.map.lookupElem(f.key(i), KERNEL_HI, i & 3));
    },
  });
  const kernelUpdate = (name: string, a: MapAttr, op = "update existing (program)"): Case => ({
    map: name,
    op,
    setup: () => {
      const f = fixture(a);
      fill(f.map, f.key, f.value, Math.min(a.maxEntries, 1024));
      return (n) =>
        f.inRuns(n, (i) =>
          f.map.updateElem(f.key(i), KERNEL_HI, f.value, KERNEL_HI, BPF_ANY, 0, i & 3),
        );
    },
  });
  return [
    kernelLookup("array", attr(T.BPF_MAP_TYPE_ARRAY, 4, 8, 1024)),
    kernelUpdate("array", attr(T.BPF_MAP_TYPE_ARRAY, 4, 8, 1024)),
    kernelLookup("percpu_array", attr(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1024)),
    kernelLookup("hash", attr(T.BPF_MAP_TYPE_HASH, 4, 8, 1024)),
    kernelUpdate("hash", attr(T.BPF_MAP_TYPE_HASH, 4, 8, 1024)),
    {
      map: "hash",
      op: "insert + delete (program)",
      setup: () => {
        const f = fixture(attr(T.BPF_MAP_TYPE_HASH, 4, 8, 1024));
        return (n) =>
          f.inRuns(n, (i) => {
            if (i & 1) f.map.deleteElem(f.key(i >> 1), KERNEL_HI, 0);
            else f.map.updateElem(f.key(i >> 1), KERNEL_HI, f.value, KERNEL_HI, BPF_ANY, 0, 0);
          });
      },
    },
    kernelUpdate("percpu_hash", attr(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 1024)),
    kernelLookup("lru_hash", attr(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 1024)),
    {
      map: "lru_hash",
      op: "update evicting (program)",
      setup: () => {
        // 1024 keys cycling through a 256-element LRU: most updates evict
        const f = fixture(attr(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 256));
        return (n) =>
          f.inRuns(n, (i) =>
            f.map.updateElem(f.key(i), KERNEL_HI, f.value, KERNEL_HI, BPF_ANY, 0, 0),
          );
      },
    },
    {
      map: "hash",
      op: "update + lookup (syscall)",
      setup: () => {
        const f = fixture(attr(T.BPF_MAP_TYPE_HASH, 4, 8, 1024));
        const key = new Uint8Array(4);
        const value = new Uint8Array(8);
        return (n) => {
          for (let i = 0; i < n; i++) {
            key[0] = i & 0xff;
            key[1] = (i >> 8) & 3;
            if (i & 1) f.map.sysLookup(key, value);
            else f.map.sysUpdate(key, value, BPF_ANY);
          }
        };
      },
    },
    {
      map: "ringbuf",
      op: "reserve + submit + consume 64 B",
      setup: () => {
        const f = fixture(attr(T.BPF_MAP_TYPE_RINGBUF, 0, 0, 1 << 16));
        const rb = f.map as RingbufMap;
        return (n) =>
          f.inRuns(n, (i) => {
            const sample = rb.reserve(64);
            rb.commit(sample, 0, false);
            if ((i & 255) === 255) rb.consume(() => {});
          });
      },
    },
    {
      map: "stack_trace",
      op: "get_stackid (16 frames, seen before)",
      setup: () => {
        const f = fixture(attr(T.BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 1024));
        const stacks = Array.from({ length: 64 }, (_, s) =>
          Int32Array.from({ length: 32 }, (_, w) => (w & 1 ? -1 : 0x81000000 + s * 4096 + w * 16)),
        );
        const map = f.map as StackTraceMap;
        return (n) => {
          for (let i = 0; i < n; i++) map.getStackid(stacks[i & 63]!, 16, 0, 0);
        };
      },
    },
  ];
}
