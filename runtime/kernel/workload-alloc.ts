// The "alloc" workload: kernel threads allocating with __kmalloc (sizes from the common kmalloc
// classes, now and then a large buffer) and freeing with kfree, LIFO-ish, with a small share of
// allocations never freed: the leaks a memleak-style program should find.
import type { Ptr } from "./objects.js";
import { deltas, type WorkloadContext } from "./workload.js";

/** GFP_KERNEL */
export const GFP_KERNEL = 0xcc0;

interface Allocation {
  ptr: Ptr;
  size: number;
}

export interface AllocState {
  counters: {
    allocations: number;
    frees: number;
    bytesAllocated: number;
    bytesFreed: number;
    leaks: number;
    leakedBytes: number;
  };
  live: Allocation[];
  leaked: Allocation[];
}

export function newAllocState(): AllocState {
  return {
    counters: {
      allocations: 0,
      frees: 0,
      bytesAllocated: 0,
      bytesFreed: 0,
      leaks: 0,
      leakedBytes: 0,
    },
    live: [],
    leaked: [],
  };
}

const SIZES: [number, number][] = [
  [16, 8],
  [32, 12],
  [64, 14],
  [96, 6],
  [128, 10],
  [192, 6],
  [256, 8],
  [512, 8],
  [1024, 6],
  [2048, 4],
  [4096, 5],
];

export function allocStep(ctx: WorkloadContext): void {
  const r = ctx.random;
  const s = ctx.alloc;
  const k = ctx.kernel;
  const worker = r.pick(ctx.kworkers());
  const freeing = s.live.length > 0 && (s.live.length > 256 || r.chance(45, 100));
  k.runOn(worker.cpu, worker, () => {
    if (freeing) {
      const i = s.live.length - 1 - r.below(Math.min(s.live.length, 8));
      const a = s.live.splice(i, 1)[0]!;
      k.call(k.fn("kfree"), [a.ptr]);
      s.counters.frees++;
      s.counters.bytesFreed += a.size;
      return;
    }
    const size = r.chance(1, 50)
      ? r.logUniform(13, 16)
      : SIZES[r.weighted(SIZES.map((x) => x[1]))]![0];
    const ptr = k.call(k.fn("__kmalloc"), [size, GFP_KERNEL]) as Ptr | null;
    if (ptr === null) return;
    s.counters.allocations++;
    s.counters.bytesAllocated += size;
    if (r.chance(3, 100)) {
      s.leaked.push({ ptr, size });
      s.counters.leaks++;
      s.counters.leakedBytes += size;
    } else {
      s.live.push({ ptr, size });
    }
  });
}

export function allocSummary(ctx: WorkloadContext, before: AllocState["counters"]) {
  const s = ctx.alloc;
  return {
    ...deltas(s.counters, before),
    outstanding: s.live.length,
    outstandingBytes: s.live.reduce((n, a) => n + a.size, 0),
    /** every leaked allocation so far: address (low word, hex) -> size */
    leakedAddresses: Object.fromEntries(
      s.leaked.map((a) => [(a.ptr.lo >>> 0).toString(16), a.size]),
    ),
  };
}
