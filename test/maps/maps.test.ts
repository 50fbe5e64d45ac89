// Map semantics a program sees (the kernel side: real addresses, per-CPU copies, element
// lifetimes, LRU eviction, ring buffer records, fd arrays, stack ids) and the user-side typed
// view. What the syscall side returns is checked against the running kernel in kernel.test.ts.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ArrayMap } from "../../runtime/maps/array.js";
import * as codec from "../../runtime/maps/codec.js";
import { createGlobalDataMap, createMap, createMapOrThrow } from "../../runtime/maps/create.js";
import { MapError } from "../../runtime/maps/error.js";
import {
  PerfEventArrayMap,
  ProgArrayMap,
  type PerfOutputTarget,
  type ProgArrayEntry,
} from "../../runtime/maps/fd-array.js";
import { HashMap, MAP_MEMORY_LIMIT } from "../../runtime/maps/hashtab.js";
import { jhash2 } from "../../runtime/maps/jhash.js";
import type { BpfMap, MapAttr, MapEnv } from "../../runtime/maps/map.js";
import { RingbufMap, ringbufOfSample } from "../../runtime/maps/ringbuf.js";
import { StackTraceMap } from "../../runtime/maps/stackmap.js";
import { MapView, PercpuMapView } from "../../runtime/maps/view.js";
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_CURRENT_CPU,
  BPF_F_FAST_STACK_CMP,
  BPF_F_MMAPABLE,
  BPF_F_NO_COMMON_LRU,
  BPF_F_RDONLY_PROG,
  BPF_F_REUSE_STACKID,
  BPF_F_STACK_BUILD_ID,
  BPF_NOEXIST,
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_STACK_BUILD_ID_IP,
  BpfMapType,
} from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";
import { AddressSpace, KERNEL_HI, MemoryFault, type Region } from "../../runtime/vm/memory.js";

const T = BpfMapType;

/** A simulated kernel with `cpus` CPUs and a scratch region for keys and values programs pass. */
function setup(cpus = 4) {
  const memory = new AddressSpace();
  const env: MapEnv = { memory, possibleCpus: cpus };
  const stack: Region = memory.alloc(4096, { name: "test stack", kind: "stack" });
  let used = 0;
  /** Bytes placed where a program would have them; returns their (lo, hi) address. */
  const place = (bytes: Uint8Array): [number, number] => {
    const at = stack.base + used;
    used += Math.ceil(bytes.length / 8) * 8;
    memory.u8.set(bytes, at);
    return [at, KERNEL_HI];
  };
  const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
  const u64 = (lo: number, hi = 0): Uint8Array => new Uint8Array(new Uint32Array([lo, hi]).buffer);
  const make = <M extends BpfMap>(attr: MapAttr): M => {
    const map = createMap(env, attr);
    if (typeof map === "number") throw new Error(`create failed: ${map}`);
    return map as M;
  };
  return { memory, env, place, u32, u64, make };
}

/** Kernel-side update with key/value bytes placed in memory first. */
function kupdate(
  s: ReturnType<typeof setup>,
  map: BpfMap,
  key: Uint8Array,
  value: Uint8Array,
  flags: number,
  cpu: number,
): number {
  const [kl, kh] = s.place(key);
  const [vl, vh] = s.place(value);
  return map.updateElem(kl, kh, vl, vh, flags, 0, cpu);
}

function klookup(s: ReturnType<typeof setup>, map: BpfMap, key: Uint8Array, cpu: number): number {
  const [kl, kh] = s.place(key);
  return map.lookupElem(kl, kh, cpu);
}

describe("array maps from a program's side", () => {
  it("a lookup is the address of the value, and a store through it is what the syscall reads", () => {
    const s = setup();
    const map = s.make<ArrayMap>({
      mapType: T.BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 12,
      maxEntries: 3,
    });
    const addr = klookup(s, map, s.u32(2), 0);
    expect(addr).toBe(map.region.base + 2 * 16); // values are 8-byte aligned: stride round_up(12, 8)
    s.memory.store32(addr + 8, KERNEL_HI, 0x11223344);
    const out = new Uint8Array(12);
    expect(map.sysLookup(s.u32(2), out)).toBe(0);
    expect(Array.from(out.subarray(8))).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(klookup(s, map, s.u32(3), 0)).toBe(0); // out of range: NULL
    expect(kupdate(s, map, s.u32(3), new Uint8Array(12), BPF_ANY, 0)).toBe(-Errno.E2BIG);
    expect(kupdate(s, map, s.u32(0), new Uint8Array(12), BPF_NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(map.deleteElem(0, 0, 0)).toBe(-Errno.EINVAL);
  });

  it("PERCPU_ARRAY: each CPU has its own copy; the syscall sees them all, padded to 8", () => {
    const s = setup(4);
    const map = s.make<ArrayMap>({
      mapType: T.BPF_MAP_TYPE_PERCPU_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    expect(kupdate(s, map, s.u32(1), s.u32(0xaabbccdd), BPF_ANY, 2)).toBe(0);
    const onCpu = [0, 1, 2, 3].map((cpu) => klookup(s, map, s.u32(1), cpu));
    expect(new Set(onCpu).size).toBe(4);
    expect(onCpu.map((a) => s.memory.load32(a, KERNEL_HI) >>> 0)).toEqual([0, 0, 0xaabbccdd, 0]);
    const flat = new Uint8Array(map.userValueSize);
    expect(map.userValueSize).toBe(4 * 8);
    map.sysLookup(s.u32(1), flat);
    expect(Array.from(new Uint32Array(flat.buffer))).toEqual([0, 0, 0, 0, 0xaabbccdd, 0, 0, 0]);
    const [kl, kh] = s.place(s.u32(1));
    expect(map.lookupPercpuElem(kl, kh, 2)).toBe(onCpu[2]);
    expect(map.lookupPercpuElem(kl, kh, 4)).toBe(0);
  });

  it("BPF_F_RDONLY_PROG makes the values read-only to programs; BPF_F_MMAPABLE page-aligns them", () => {
    const s = setup();
    const ro = s.make<ArrayMap>({
      mapType: T.BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
      mapFlags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
    });
    const addr = klookup(s, ro, s.u32(0), 0);
    expect(() => s.memory.store32(addr, KERNEL_HI, 1)).toThrow(MemoryFault);
    expect(ro.sysUpdate(s.u32(0), s.u64(7), 0)).toBe(0); // the syscall side may still write
    expect(s.memory.load32(addr, KERNEL_HI)).toBe(7);
    expect(ro.region.base % 4096).toBe(0);
    expect(ro.mmapView()[0]).toBe(7);
  });

  it("global-data maps as libbpf makes them", () => {
    const s = setup();
    const rodata = createGlobalDataMap(
      s.env,
      "obj.rodata",
      "rodata",
      5,
      new Uint8Array([1, 2, 3, 4, 5]),
    );
    expect(rodata.mapFlags).toBe(BPF_F_MMAPABLE | BPF_F_RDONLY_PROG);
    expect(rodata.frozen).toBe(true);
    expect(Array.from(rodata.mmapView().subarray(0, 6))).toEqual([1, 2, 3, 4, 5, 0]);
    expect(rodata.sysUpdate(new Uint8Array(4), new Uint8Array(5), 0)).toBe(-Errno.EPERM);
    const data = createGlobalDataMap(s.env, "obj.data", "data", 3, new Uint8Array([9, 8, 7]));
    expect(data.frozen).toBe(false);
    expect(data.mmapView()[1]).toBe(8);
    const bss = createGlobalDataMap(s.env, "obj.bss", "bss", 16);
    expect(bss.mmapView().every((b) => b === 0)).toBe(true);
    expect(() => createGlobalDataMap(s.env, "bad name!", "data", 4)).toThrow(MapError);
  });
});

describe("hash maps from a program's side", () => {
  it("elements have stable addresses; a replaced or deleted element is not reused during the run", () => {
    const s = setup();
    const map = s.make<HashMap>({
      mapType: T.BPF_MAP_TYPE_HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 8,
    });
    expect(kupdate(s, map, s.u32(1), s.u64(100), BPF_ANY, 0)).toBe(0);
    const first = klookup(s, map, s.u32(1), 0);
    expect(s.memory.load32(first, KERNEL_HI)).toBe(100);
    for (let k = 2; k < 8; k++) kupdate(s, map, s.u32(k), s.u64(k), BPF_ANY, 0);
    expect(klookup(s, map, s.u32(1), 0)).toBe(first);

    s.memory.enterRun(); // a program runs and holds `first`
    expect(kupdate(s, map, s.u32(1), s.u64(200), BPF_ANY, 0)).toBe(0); // HASH replaces the element
    const second = klookup(s, map, s.u32(1), 0);
    expect(second).not.toBe(first);
    expect(s.memory.load32(first, KERNEL_HI)).toBe(100); // the old element is intact
    const [kl, kh] = s.place(s.u32(1));
    expect(map.deleteElem(kl, kh, 0)).toBe(0);
    expect(kupdate(s, map, s.u32(9), s.u64(300), BPF_ANY, 0)).toBe(0);
    const third = klookup(s, map, s.u32(9), 0);
    expect([first, second]).not.toContain(third);
    expect(s.memory.load32(second, KERNEL_HI)).toBe(200);
    s.memory.exitRun();

    // After the run, freed elements are reused.
    kupdate(s, map, s.u32(10), s.u64(1), BPF_ANY, 0);
    expect([first, second]).toContain(klookup(s, map, s.u32(10), 0));
  });

  it("a full HASH refuses new keys but still replaces existing ones", () => {
    const s = setup();
    const map = s.make<HashMap>({
      mapType: T.BPF_MAP_TYPE_HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    expect(kupdate(s, map, s.u32(1), s.u32(1), BPF_ANY, 0)).toBe(0);
    expect(kupdate(s, map, s.u32(2), s.u32(2), BPF_ANY, 0)).toBe(0);
    expect(kupdate(s, map, s.u32(3), s.u32(3), BPF_ANY, 0)).toBe(-Errno.E2BIG);
    expect(kupdate(s, map, s.u32(2), s.u32(5), BPF_EXIST, 0)).toBe(0);
    expect(kupdate(s, map, s.u32(2), s.u32(5), BPF_NOEXIST, 0)).toBe(-Errno.EEXIST);
    expect(kupdate(s, map, s.u32(3), s.u32(5), BPF_EXIST, 0)).toBe(-Errno.ENOENT);
    expect(kupdate(s, map, s.u32(3), s.u32(5), 4, 0)).toBe(-Errno.EINVAL);
    expect(map.count).toBe(2);
  });

  it("PERCPU_HASH: a program's new element has zeroes on the other CPUs; updates are in place", () => {
    const s = setup(3);
    const map = s.make<HashMap>({
      mapType: T.BPF_MAP_TYPE_PERCPU_HASH,
      keySize: 4,
      valueSize: 8,
      maxEntries: 4,
    });
    expect(kupdate(s, map, s.u32(7), s.u64(0x55), BPF_ANY, 1)).toBe(0);
    const view = new PercpuMapView(map, codec.u32, codec.u64n);
    expect(view.get(7)).toEqual([0, 0x55, 0]);
    const before = klookup(s, map, s.u32(7), 2);
    expect(kupdate(s, map, s.u32(7), s.u64(0x66), BPF_EXIST, 2)).toBe(0);
    expect(klookup(s, map, s.u32(7), 2)).toBe(before);
    expect(view.get(7)).toEqual([0, 0x55, 0x66]);
  });

  it("LRU_HASH evicts the least recently used first; a program's lookup counts as a use", () => {
    // 16 elements on 2 CPUs: refills move 16 / 2 / 2 = 4 nodes, so evictions come 4 at a time.
    const fill = (touch: number[]): number[] => {
      const s = setup(2);
      const map = s.make<HashMap>({
        mapType: T.BPF_MAP_TYPE_LRU_HASH,
        keySize: 4,
        valueSize: 4,
        maxEntries: 16,
      });
      for (let k = 1; k <= 16; k++) expect(kupdate(s, map, s.u32(k), s.u32(k), BPF_ANY, 0)).toBe(0);
      for (const k of touch) expect(klookup(s, map, s.u32(k), 0)).not.toBe(0);
      expect(kupdate(s, map, s.u32(17), s.u32(17), BPF_ANY, 0)).toBe(0);
      return [...new MapView(map, codec.u32, codec.u32).keys()].sort((a, b) => a - b);
    };
    const range = (a: number, b: number): number[] =>
      Array.from({ length: b - a + 1 }, (_, i) => a + i);
    expect(fill([])).toEqual(range(5, 17));
    expect(fill([1, 2, 3, 4])).toEqual([...range(1, 4), ...range(9, 17)]);
  });

  it("LRU with BPF_F_NO_COMMON_LRU: each CPU evicts from its own share", () => {
    const s = setup(2);
    const map = s.make<HashMap>({
      mapType: T.BPF_MAP_TYPE_LRU_HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 7, // rounded up to a multiple of the CPUs
      mapFlags: BPF_F_NO_COMMON_LRU,
    });
    expect(map.maxEntries).toBe(8);
    for (let k = 1; k <= 4; k++) kupdate(s, map, s.u32(k), s.u32(k), BPF_ANY, 0);
    for (let k = 11; k <= 14; k++) kupdate(s, map, s.u32(k), s.u32(k), BPF_ANY, 1);
    kupdate(s, map, s.u32(5), s.u32(5), BPF_ANY, 0); // CPU 0 is out of nodes: it evicts its own
    const keys = [...new MapView(map, codec.u32, codec.u32).keys()].sort((a, b) => a - b);
    expect(keys.filter((k) => k > 10)).toEqual([11, 12, 13, 14]);
    expect(keys).toContain(5);
    expect(keys.filter((k) => k < 10).length).toBeLessThan(5);
  });
});

describe("iteration", () => {
  it("get_next_key from a deleted key starts over; the view's iteration survives deletes", () => {
    const s = setup();
    const map = s.make<HashMap>({
      mapType: T.BPF_MAP_TYPE_HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 64,
    });
    const view = new MapView(map, codec.u32, codec.u32);
    for (let k = 0; k < 40; k++) view.set(k, k * 10);
    const order = [...view.keys()];
    expect(order.length).toBe(40);
    const next = new Uint8Array(4);
    view.delete(order[10]!);
    expect(map.sysGetNextKey(s.u32(order[10]!), next)).toBe(0);
    expect(new Uint32Array(next.buffer)[0]).toBe(order[0]); // restarts from the first key
    const seen: number[] = [];
    for (const [k, v] of view) {
      expect(v).toBe(k * 10);
      seen.push(k);
      view.delete(k); // deleting the yielded key while iterating
    }
    expect(seen).toEqual(order.filter((k) => k !== order[10]));
    expect(map.count).toBe(0);
  });
});

describe("ring buffer", () => {
  const ring = (size = 4096) => {
    const s = setup();
    const rb = s.make<RingbufMap>({
      mapType: T.BPF_MAP_TYPE_RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: size,
    });
    return { s, rb };
  };
  const samples = (rb: RingbufMap): number[][] => {
    const got: number[][] = [];
    rb.consume((sample) => void got.push(Array.from(sample)));
    return got;
  };

  it("a record still being written holds back the consumer; discarded records are skipped", () => {
    const { s, rb } = ring();
    const a = rb.reserve(3);
    const b = rb.reserve(5);
    const c = rb.reserve(1);
    s.memory.u8.set([1, 2, 3], a);
    s.memory.u8.set([4, 5, 6, 7, 8], b);
    rb.commit(b, 0, false);
    rb.commit(c, 0, true);
    expect(rb.recordHeader(0).len >>> 0).toBe((BPF_RINGBUF_BUSY_BIT | 3) >>> 0);
    expect(samples(rb)).toEqual([]); // a is busy
    rb.commit(a, 0, false);
    expect(rb.recordHeader(32).len >>> 0).toBe((BPF_RINGBUF_DISCARD_BIT | 1) >>> 0);
    expect(samples(rb)).toEqual([
      [1, 2, 3],
      [4, 5, 6, 7, 8],
    ]);
    expect(rb.query(BPF_RB_CONS_POS, 0)).toBe(16 + 16 + 16);
    expect(rb.query(BPF_RB_AVAIL_DATA, 0)).toBe(0);
  });

  it("the producer stays less than the ring size ahead of the consumer", () => {
    const { rb } = ring(4096);
    expect(rb.reserve(4088)).toBe(0); // 4096 bytes with its header: one too many
    const big = rb.reserve(4080);
    expect(big).not.toBe(0);
    expect(rb.reserve(0)).toBe(0);
    rb.commit(big, 0, false);
    expect(rb.reserve(0)).toBe(0); // committed but not consumed
    expect(samples(rb).length).toBe(1);
    expect(rb.reserve(0)).not.toBe(0);
  });

  it("a record that wraps is contiguous for the program and in order for the consumer", () => {
    const { s, rb } = ring(4096);
    const filler = rb.reserve(4000);
    rb.commit(filler, 0, true);
    expect(samples(rb)).toEqual([]);
    const at = rb.reserve(200); // starts 4008 bytes in: runs 120 bytes past the end
    expect(at).toBe(rb.dataOffset + 4016);
    const bytes = Uint8Array.from({ length: 200 }, (_, i) => i);
    s.memory.writeBytes(at, KERNEL_HI, bytes); // one contiguous write, as a program does
    rb.commit(at, 0, false);
    // 4016 + 200 runs 120 bytes past 4096: sample bytes 80.. sit at the ring's start
    expect(Array.from(s.memory.u8.subarray(rb.dataOffset, rb.dataOffset + 4))).toEqual([
      80, 81, 82, 83,
    ]);
    expect(samples(rb)).toEqual([Array.from(bytes)]);
    expect(rb.query(BPF_RB_PROD_POS, 0)).toBe(4008 + 208);
    expect(rb.query(BPF_RB_RING_SIZE, 0)).toBe(4096);
    expect(rb.query(99, 0)).toBe(0);
    // The consumer and producer pages hold the positions as u64, as the user's mmap sees them.
    expect(s.memory.view.getUint32(rb.region.base + 4096, true)).toBe(4216);
    expect(s.memory.view.getUint32(rb.region.base + 8192, true)).toBe(4216);
  });

  it("output copies and commits; wakeups follow the flags and the consumer's position", () => {
    const { s, rb } = ring();
    const [lo, hi] = s.place(new Uint8Array([9, 9, 9]));
    expect(rb.output(lo, hi, 3, 0, 0)).toBe(0);
    expect(rb.wakeups).toBe(1); // the consumer was waiting at this record
    expect(rb.output(lo, hi, 3, 0, 0)).toBe(0);
    expect(rb.wakeups).toBe(1); // it was not: no wakeup
    expect(rb.output(lo, hi, 3, BPF_RB_FORCE_WAKEUP, 0)).toBe(0);
    expect(rb.wakeups).toBe(2);
    samples(rb);
    expect(rb.output(lo, hi, 3, BPF_RB_NO_WAKEUP, 0)).toBe(0);
    expect(rb.wakeups).toBe(2);
    expect(rb.output(lo, hi, 3, 4, 0)).toBe(-Errno.EINVAL);
    const hog = rb.reserve(4064); // with the unconsumed record: 4088 of 4095 bytes
    expect(rb.output(lo, hi, 3, 0, 0)).toBe(-Errno.EAGAIN); // no room
    rb.commit(hog, 0, true);
    expect(samples(rb)).toEqual([[9, 9, 9]]); // the discarded hog is skipped
    expect(rb.bpfReserve(8, 0, 1, 0)).toBe(0); // any flag: NULL
    const sample = rb.bpfReserve(8, 0, 0, 0);
    expect(ringbufOfSample(s.memory, sample, KERNEL_HI)).toBe(rb);
    expect(ringbufOfSample(s.memory, lo, hi)).toBeUndefined();
    rb.commit(sample, 0, true);
    expect(rb.sysLookup(null, new Uint8Array(0))).toBe(-Errno.ENOTSUPP);
  });
});

describe("fd arrays", () => {
  it("PROG_ARRAY: slots hold referenced programs; tail calls find them", () => {
    const s = setup();
    const map = s.make<ProgArrayMap>({
      mapType: T.BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
    });
    expect(map.sysUpdate(s.u32(0), s.u32(3), BPF_ANY)).toBe(-Errno.EBADF); // no fds without the facade
    const progs = new Map<number, ProgArrayEntry & { refs: number; id: number }>();
    for (const fd of [3, 4]) progs.set(fd, { program: undefined as never, refs: 1, id: 40 + fd });
    map.hooks = {
      getPtr: (fd) => {
        const p = progs.get(fd);
        if (p === undefined) return -Errno.EBADF;
        p.refs++;
        return p;
      },
      putPtr: (p) => void (p as unknown as { refs: number }).refs--,
      sysLookup: (p) => (p as unknown as { id: number }).id,
    };
    expect(map.sysUpdate(s.u32(1), s.u32(3), BPF_ANY)).toBe(0);
    expect(map.sysUpdate(s.u32(1), s.u32(3), BPF_NOEXIST)).toBe(-Errno.EINVAL);
    expect(map.tailCallTarget(1)).toBe(progs.get(3));
    expect(map.tailCallTarget(0)).toBeUndefined();
    expect(map.tailCallTarget(-1)).toBeUndefined(); // 0xffffffff
    expect(progs.get(3)!.refs).toBe(2);
    expect(map.sysUpdate(s.u32(1), s.u32(4), BPF_ANY)).toBe(0); // replacing drops the old reference
    expect(progs.get(3)!.refs).toBe(1);
    const out = new Uint8Array(4);
    expect(map.sysLookup(s.u32(1), out)).toBe(0);
    expect(new Uint32Array(out.buffer)[0]).toBe(44);
    map.sysUpdate(s.u32(2), s.u32(3), BPF_ANY);
    map.clear(); // the last user reference went away
    expect(progs.get(3)!.refs).toBe(1);
    expect(progs.get(4)!.refs).toBe(1);
    expect(map.entries()).toEqual([]);
  });

  it("PERF_EVENT_ARRAY: perf_event_output delivers the bytes to this CPU's event", () => {
    const s = setup(2);
    const map = s.make<PerfEventArrayMap>({
      mapType: T.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    const got: number[][] = [];
    let lost = 0;
    const event = (cpu: number): PerfOutputTarget => ({
      oncpu: cpu,
      isBpfOutput: true,
      outputSample: (bytes, offset, size) => {
        if (got.length >= 2) {
          lost++;
          return -Errno.ENOSPC;
        }
        got.push(Array.from(bytes.subarray(offset, offset + size)));
        return 0;
      },
    });
    const events = [event(0), event(1)];
    map.hooks = { getPtr: (fd) => events[fd - 10] ?? -Errno.EBADF, putPtr: () => {} };
    map.sysUpdate(s.u32(0), s.u32(10), BPF_ANY);
    map.sysUpdate(s.u32(1), s.u32(11), BPF_ANY);
    const [lo, hi] = s.place(new Uint8Array([1, 2, 3]));
    expect(map.perfEventOutput(1, BPF_F_CURRENT_CPU, 0, lo, hi, 3)).toBe(0);
    expect(map.perfEventOutput(0, 0, 0, lo, hi, 2)).toBe(0);
    expect(got).toEqual([
      [1, 2, 3],
      [1, 2],
    ]);
    expect(map.perfEventOutput(0, 1, 0, lo, hi, 3)).toBe(-Errno.EOPNOTSUPP); // CPU 1's event
    expect(map.perfEventOutput(0, 2, 0, lo, hi, 3)).toBe(-Errno.E2BIG);
    expect(map.perfEventOutput(0, 0, 1, lo, hi, 3)).toBe(-Errno.EINVAL);
    expect(map.perfEventOutput(0, 0, 0, lo, hi, 3)).toBe(-Errno.ENOSPC);
    expect(lost).toBe(1);
  });
});

describe("stack trace maps", () => {
  /** (lo, hi) pairs of kernel text addresses */
  const stack = (...ips: number[]): Int32Array => {
    const out = new Int32Array(2 * ips.length);
    ips.forEach((ip, i) => {
      out[2 * i] = (0x81000000 + ip) | 0;
      out[2 * i + 1] = -1;
    });
    return out;
  };

  it("the same stack gets the same id; the syscall reads it back zero-padded", () => {
    const s = setup();
    const map = s.make<StackTraceMap>({
      mapType: T.BPF_MAP_TYPE_STACK_TRACE,
      keySize: 4,
      valueSize: 32,
      maxEntries: 64,
    });
    const a = stack(1, 2, 3);
    const id = map.getStackid(a, 3, 0, 0);
    expect(id).toBeGreaterThanOrEqual(0);
    expect(map.getStackid(a, 3, 0, 0)).toBe(id);
    const out = new Uint8Array(32).fill(0xee);
    expect(map.sysLookup(s.u32(id), out)).toBe(0);
    expect(Array.from(new Int32Array(out.buffer))).toEqual([...a, 0, 0]);
    // skip drops the innermost frames; more frames than the value holds are cut off
    const skipped = map.getStackid(stack(9, 1, 2, 3), 4, 1, 0);
    expect(skipped).toBe(id);
    expect(map.getStackid(a, 3, 3, 0)).toBe(-Errno.EFAULT);
    const deep = map.getStackid(stack(5, 6, 7, 8, 9, 10), 6, 0, 0);
    expect(Array.from(map.stack(deep)!)).toEqual(Array.from(stack(5, 6, 7, 8)));
    expect(map.getStackid(a, 3, 1 << 12, 0)).toBe(-Errno.EINVAL);
    // get_next_key walks the occupied ids in order; delete frees one
    const ids: number[] = [];
    const key = new Uint8Array(4);
    for (let prev: Uint8Array | null = null; map.sysGetNextKey(prev, key) === 0; prev = key.slice())
      ids.push(new Uint32Array(key.buffer)[0]!);
    expect(ids).toEqual([id, deep].sort((x, y) => x - y));
    expect(map.sysDelete(s.u32(id))).toBe(0);
    expect(map.sysDelete(s.u32(id))).toBe(-Errno.ENOENT);
    expect(map.sysDelete(s.u32(64))).toBe(-Errno.E2BIG);
    expect(map.sysUpdate(s.u32(0), new Uint8Array(32), 0)).toBe(-Errno.EINVAL);
  });

  it("a different stack in an occupied bucket: -EEXIST, or replaced with BPF_F_REUSE_STACKID", () => {
    const s = setup();
    const map = s.make<StackTraceMap>({
      mapType: T.BPF_MAP_TYPE_STACK_TRACE,
      keySize: 4,
      valueSize: 16,
      maxEntries: 2,
    });
    const first = map.getStackid(stack(1, 2), 2, 0, 0);
    expect(first).toBeGreaterThanOrEqual(0);
    // Another stack that hashes to the same bucket (found without storing it).
    const bucketOf = (ips: Int32Array): number => jhash2(ips, 0, ips.length, 0) % 2;
    let ip = 100;
    while (bucketOf(stack(++ip, 2)) !== first);
    expect(map.getStackid(stack(ip, 2), 2, 0, 0)).toBe(-Errno.EEXIST);
    expect(map.getStackid(stack(ip, 2), 2, BPF_F_FAST_STACK_CMP, 0)).toBe(-Errno.EEXIST); // hashes differ
    expect(map.getStackid(stack(ip, 2), 2, BPF_F_REUSE_STACKID, 0)).toBe(first);
    expect(Array.from(map.stack(first)!)).toEqual(Array.from(stack(ip, 2)));
  });

  it("with one stack preallocated, BPF_F_REUSE_STACKID has none to spare: -ENOMEM", () => {
    const s = setup();
    const map = s.make<StackTraceMap>({
      mapType: T.BPF_MAP_TYPE_STACK_TRACE,
      keySize: 4,
      valueSize: 16,
      maxEntries: 1,
    });
    expect(map.getStackid(stack(1, 2), 2, 0, 0)).toBe(0); // one bucket: every stack lands in it
    expect(map.getStackid(stack(3, 4), 2, 0, 0)).toBe(-Errno.EEXIST);
    expect(map.getStackid(stack(3, 4), 2, BPF_F_REUSE_STACKID, 0)).toBe(-Errno.ENOMEM);
  });

  it("with every preallocated stack in use a new one is -ENOMEM", () => {
    const s = setup();
    const map = s.make<StackTraceMap>({
      mapType: T.BPF_MAP_TYPE_STACK_TRACE,
      keySize: 4,
      valueSize: 8,
      maxEntries: 3,
    });
    const ids = new Set<number>();
    let ip = 0;
    while (ids.size < 3) ids.add(map.getStackid(stack(++ip), 1, 0, 0));
    // a stack for the fourth (free) bucket
    let result = 0;
    while (result >= 0 || result === -Errno.EEXIST) {
      result = map.getStackid(stack(++ip), 1, 0, 0);
      if (result >= 0) throw new Error("a fourth stack was stored");
    }
    expect(result).toBe(-Errno.ENOMEM);
  });

  it("BPF_F_STACK_BUILD_ID values: records with status BPF_STACK_BUILD_ID_IP and the ip", () => {
    const s = setup();
    const map = s.make<StackTraceMap>({
      mapType: T.BPF_MAP_TYPE_STACK_TRACE,
      keySize: 4,
      valueSize: 64,
      maxEntries: 8,
      mapFlags: BPF_F_STACK_BUILD_ID,
    });
    const id = map.getStackid(stack(1), 1, 0, 0);
    const out = new Uint8Array(64);
    map.sysLookup(s.u32(id), out);
    const words = new Int32Array(out.buffer);
    expect(words[0]).toBe(BPF_STACK_BUILD_ID_IP);
    expect([words[6], words[7]]).toEqual([0x81000001 | 0, -1]);
    expect(Array.from(words.subarray(8))).toEqual(new Array(8).fill(0));
  });
});

describe("creation", () => {
  it("errors name the map, its type and the rule", () => {
    const s = setup();
    const err = (attr: MapAttr): MapError => {
      try {
        createMapOrThrow(s.env, attr);
      } catch (e) {
        if (e instanceof MapError) return e;
      }
      throw new Error("no MapError");
    };
    const full = err({
      mapType: T.BPF_MAP_TYPE_HASH,
      keySize: 0,
      valueSize: 4,
      maxEntries: 1,
      name: "counts",
    });
    expect(full.errno).toBe(Errno.EINVAL);
    expect(full.message).toBe(
      "map 'counts' (hash): create: EINVAL (key_size 0, value_size 4, max_entries 1, map_flags 0x0)",
    );
    expect(
      err({ mapType: T.BPF_MAP_TYPE_LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 1 }).message,
    ).toMatch(/BPF_MAP_TYPE_LPM_TRIE is not supported by tsbpf/);
    expect(err({ mapType: 12345, keySize: 4, valueSize: 4, maxEntries: 1 }).message).toMatch(
      /unknown map type/,
    );
    expect(
      err({
        mapType: T.BPF_MAP_TYPE_ARRAY,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
        name: "x".repeat(16),
      }).message,
    ).toMatch(/bad map name/);
    expect(
      err({ mapType: T.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 1.5, maxEntries: 1 }).message,
    ).toMatch(/not a u32/);
  });

  it("sizes past the simulated kernel's memory are -ENOMEM", () => {
    const s = setup();
    const big = MAP_MEMORY_LIMIT / 8 + 1;
    expect(
      createMap(s.env, {
        mapType: T.BPF_MAP_TYPE_ARRAY,
        keySize: 4,
        valueSize: 8,
        maxEntries: big,
      }),
    ).toBe(-Errno.ENOMEM);
    expect(
      createMap(s.env, {
        mapType: T.BPF_MAP_TYPE_HASH,
        keySize: 4,
        valueSize: 8,
        maxEntries: 1 << 26,
      }),
    ).toBe(-Errno.ENOMEM);
    expect(
      createMap(s.env, {
        mapType: T.BPF_MAP_TYPE_RINGBUF,
        keySize: 0,
        valueSize: 0,
        maxEntries: 2 ** 31,
      }),
    ).toBe(-Errno.ENOMEM);
  });

  it("a map's memory goes back to the address space when it is freed", () => {
    const s = setup();
    const before = s.memory.list().length;
    const maps = [
      s.make({ mapType: T.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 }),
      s.make({ mapType: T.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 4 }),
      s.make({ mapType: T.BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }),
    ];
    for (const map of maps) map.sysUpdate(new Uint8Array(4), new Uint8Array(8), 0);
    for (const map of maps) map.free();
    expect(s.memory.list().length).toBe(before);
  });
});

describe("typed views and codecs", () => {
  it("MapView: get, set, delete, entries; errors carry the errno", () => {
    const s = setup();
    const map = s.make<HashMap>({
      mapType: T.BPF_MAP_TYPE_HASH,
      keySize: 16,
      valueSize: 16,
      maxEntries: 2,
      name: "comms",
    });
    const value = codec.struct({ count: codec.u64, pid: codec.u32 });
    const view = new MapView(map, codec.cstring(16), value);
    view.set("bash", { count: 3n, pid: 42 });
    view.set("sshd", { count: 1n, pid: 7 });
    expect(view.get("bash")).toEqual({ count: 3n, pid: 42 });
    expect(view.get("nope")).toBeUndefined();
    const e = (() => {
      try {
        view.set("cron", { count: 0n, pid: 0 });
      } catch (err) {
        return err as MapError;
      }
    })()!;
    expect(e).toBeInstanceOf(MapError);
    expect(e.errno).toBe(Errno.E2BIG);
    expect(e.message).toBe("map 'comms' (hash): update: E2BIG");
    expect(() => view.set("bash", { count: 0n, pid: 0 }, BPF_NOEXIST)).toThrow(/EEXIST/);
    expect(view.delete("sshd")).toBe(true);
    expect(view.delete("sshd")).toBe(false);
    expect(view.toMap()).toEqual(new Map([["bash", { count: 3n, pid: 42 }]]));
    expect(() => new MapView(map, codec.u32, value)).toThrow(/key codec is 4 bytes/);
  });

  it("struct layout is C's: offsets and size match the C compiler", () => {
    const c = codec.struct({
      a: codec.u8,
      b: codec.u64,
      c: codec.u16,
      d: codec.array(codec.u32, 3),
      e: codec.s8,
      f: codec.struct({ x: codec.u16, y: codec.u8 }),
    });
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-maps-"));
    writeFileSync(
      join(dir, "layout.c"),
      `#include <stddef.h>
       #include <stdio.h>
       #include <stdint.h>
       struct s { uint8_t a; uint64_t b; uint16_t c; uint32_t d[3]; int8_t e; struct { uint16_t x; uint8_t y; } f; };
       int main(void) {
         printf("%zu %zu %zu %zu %zu %zu %zu\\n", sizeof(struct s), offsetof(struct s, a), offsetof(struct s, b),
                offsetof(struct s, c), offsetof(struct s, d), offsetof(struct s, e), offsetof(struct s, f));
       }`,
    );
    execFileSync("cc", ["-o", join(dir, "layout"), join(dir, "layout.c")]);
    const [size, ...offsets] = execFileSync(join(dir, "layout"), { encoding: "utf8" })
      .trim()
      .split(" ")
      .map(Number);
    expect(c.size).toBe(size);
    // Find each field's offset by encoding a marker in it.
    const zero = { a: 0, b: 0n, c: 0, d: [0, 0, 0], e: 0, f: { x: 0, y: 0 } };
    const marks: [keyof typeof zero, unknown][] = [
      ["a", 0xff],
      ["b", 0xffn],
      ["c", 0xff],
      ["d", [0xff, 0, 0]],
      ["e", -1],
      ["f", { x: 0xff, y: 0 }],
    ];
    const found = marks.map(([field, mark]) =>
      codec.encode(c, { ...zero, [field]: mark }).indexOf(0xff),
    );
    expect(found).toEqual(offsets);
    expect(c.decode(codec.encode(c, { ...zero, b: 2n ** 63n, e: -5 }), 0)).toMatchObject({
      b: 2n ** 63n,
      e: -5,
    });
  });

  it("number codecs refuse what they cannot hold exactly", () => {
    expect(() => codec.encode(codec.u32, -1)).toThrow(codec.CodecError);
    expect(() => codec.encode(codec.u8, 256)).toThrow(/out of range/);
    expect(codec.u64n.decode(codec.encode(codec.u64n, 2 ** 40 + 3), 0)).toBe(2 ** 40 + 3);
    expect(codec.s64n.decode(codec.encode(codec.s64n, -2), 0)).toBe(-2);
    expect(() => codec.u64n.decode(codec.encode(codec.u64, 2n ** 60n), 0)).toThrow(/use u64/);
    expect(() => codec.encode(codec.cstring(4), "abcd")).toThrow(/too long/);
  });
});
