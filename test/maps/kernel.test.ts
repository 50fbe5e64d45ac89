// The same BPF_MAP_* operations on the running kernel (through test/maps/c/kmap.c and the raw
// bpf() system call) and on tsbpf's maps: every errno and every byte returned must agree.
import { writeFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { kernelCpus, kernelUnavailable, runKernelScript } from "./kernel.js";
import {
  pattern,
  progDelete,
  progLookup,
  progPerfEventOutput,
  progRingbufOutput,
  progRingbufQuery,
  progRingbufReserve,
  progUpdate,
} from "./programs.js";
import { le, normalize, prng, runSimScript, scriptOps } from "./script.js";

const unavailable = kernelUnavailable();
if (unavailable !== undefined) console.log(`test/maps/kernel.test.ts skipped: ${unavailable}`);

let compared = 0;
afterAll(() => {
  if (compared > 0)
    console.log(`test/maps/kernel.test.ts: ${compared} result lines equal on the kernel and tsbpf`);
});

/** Run on both and compare; on a mismatch show the first differing operation in context. */
function agree(script: string): number {
  if (process.env.TSBPF_MAPS_DUMP) writeFileSync(process.env.TSBPF_MAPS_DUMP, script);
  const k = normalize(runKernelScript(script), script);
  const s = normalize(runSimScript(script, kernelCpus()), script);
  for (let i = 0; i < Math.max(k.length, s.length); i++) {
    if (k[i]?.line !== s[i]?.line) {
      const context = k
        .slice(Math.max(1, i - 6), i)
        .map((e) => `  ${e.op.slice(0, 60).padEnd(60)} -> ${e.line.slice(0, 100)}`)
        .join("\n");
      expect.fail(
        `line ${i}: ${k[i]?.op ?? s[i]?.op}\n  kernel: ${k[i]?.line}\n  tsbpf:  ${s[i]?.line}\ncontext:\n${context}`,
      );
    }
  }
  compared += k.length;
  return scriptOps(script).length;
}

const T = {
  HASH: 1,
  ARRAY: 2,
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  RINGBUF: 27,
};

/** create lines for every combination (the kernel answers each; the map is then closed) */
function createMatrix(
  type: number,
  keySizes: number[],
  valueSizes: number[],
  maxEntries: number[],
  flags: number[],
): string {
  const lines: string[] = [];
  for (const k of keySizes)
    for (const v of valueSizes)
      for (const m of maxEntries)
        for (const f of flags) lines.push(`create ${type} ${k} ${v} ${m} ${f}`);
  return lines.join("\n");
}

// Every single map_flags bit, and some pairs the kernel refuses together.
const FLAG_BITS = [
  0,
  1,
  2,
  4,
  8,
  16,
  24,
  32,
  64,
  128,
  256,
  384,
  512,
  1024,
  2048,
  4096,
  8192,
  1 << 20,
];

describe.skipIf(unavailable !== undefined)("map semantics against the running kernel", () => {
  describe("BPF_MAP_CREATE validation", () => {
    it("ARRAY and PERCPU_ARRAY", () => {
      agree(createMatrix(T.ARRAY, [0, 1, 4, 8], [0, 1, 4, 8], [0, 1, 1000], [0]));
      agree(createMatrix(T.ARRAY, [4], [8], [1], FLAG_BITS));
      agree(createMatrix(T.PERCPU_ARRAY, [4], [8], [1], FLAG_BITS));
      agree(createMatrix(T.PERCPU_ARRAY, [4], [1, 32760, 32761, 32768, 32769, 65536], [1], [0]));
      // (value_size 0x7fffffff is created by the kernel; tsbpf stops at MAP_MEMORY_LIMIT, see maps.test.ts)
      agree(createMatrix(T.ARRAY, [4], [1 << 20, 0x80000000, 0xffffffff], [1], [0]));
      agree("create 2 4 8 1 4 0\ncreate 2 4 8 1 4 1\ncreate 2 4 8 1 0 1\ncreate 2 4 8 1 0 0 1");
    });

    it("HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH", () => {
      for (const type of [T.HASH, T.PERCPU_HASH, T.LRU_HASH, T.LRU_PERCPU_HASH]) {
        agree(createMatrix(type, [0, 1, 4, 100], [0, 1, 8], [0, 1, 7], [0]));
        agree(createMatrix(type, [4], [8], [4], FLAG_BITS));
        agree(createMatrix(type, [4], [8], [4], [3, 5, 6, 7, 65, 66, 67]));
        agree(createMatrix(type, [4], [32768, 32769], [1], [0]));
        agree(createMatrix(type, [4], [8], [134217729, 2 ** 31 + 1, 0xffffffff], [1]));
      }
      // key_size + value_size against KMALLOC_MAX_SIZE - sizeof(struct htab_elem)
      agree(createMatrix(T.HASH, [4194000, 4194255, 4194256], [1], [1], [1]));
      agree(createMatrix(T.HASH, [4], [4194251, 4194252], [1], [1]));
    });

    it("PROG_ARRAY and PERF_EVENT_ARRAY", () => {
      for (const type of [T.PROG_ARRAY, T.PERF_EVENT_ARRAY]) {
        agree(createMatrix(type, [0, 4, 8], [0, 4, 8], [0, 1, 64], [0]));
        agree(createMatrix(type, [4], [4], [4], FLAG_BITS));
      }
    });

    it("RINGBUF", () => {
      agree(createMatrix(T.RINGBUF, [0, 4], [0, 8], [4096], [0]));
      agree(
        createMatrix(T.RINGBUF, [0], [0], [0, 1, 2048, 4096, 8192, 12288, 65536, 1 << 20], [0]),
      );
      agree(createMatrix(T.RINGBUF, [0], [0], [4096], FLAG_BITS));
    });

    it("STACK_TRACE", () => {
      agree(
        createMatrix(T.STACK_TRACE, [0, 4, 8], [0, 4, 8, 12, 16, 1016, 1024], [0, 1, 100], [0]),
      );
      agree(createMatrix(T.STACK_TRACE, [4], [32], [4], FLAG_BITS));
      agree(createMatrix(T.STACK_TRACE, [4], [24, 32, 64, 4064, 4096], [4], [32]));
      agree(createMatrix(T.STACK_TRACE, [4], [8], [2 ** 31 + 1, 0xffffffff], [0]));
    });

    it("unknown map types and map_extra", () => {
      agree("create 0 4 8 1 0\ncreate 32 4 8 1 0\ncreate 1000 4 8 1 0\ncreate 1 4 8 1 0 0 5");
    });
  });

  describe("operations, written out", () => {
    it("ARRAY: flags, bounds, delete, get_next_key", () => {
      agree(`create 2 4 8 4 0
        update ${le(0)} 0102030405060708 0
        update ${le(3)} 1112131415161718 2
        update ${le(1)} 21 1
        update ${le(4)} 31 0
        update ${le(0)} 41 3
        update ${le(0)} 41 4
        update ${le(0)} 41 5
        update ${le(0)} 41 8
        lookup ${le(0)}
        lookup ${le(3)}
        lookup ${le(2)}
        lookup ${le(4)}
        lookup ${le(0)} 1
        lookup ${le(0)} 4
        delete ${le(0)}
        delete ${le(9)}
        next -
        next ${le(0)}
        next ${le(2)}
        next ${le(3)}
        next ${le(4)}
        next ${le(0xffffffff)}
        lookup -
        update - 00 0
        create 2 4 3 2 0
        update ${le(1)} 010203 0
        lookup ${le(1)}`);
    });

    it("PERCPU_ARRAY: every CPU's value, padding included", () => {
      agree(`create 6 4 4 2 0
        update ${le(0)} 01020304aabbccdd0506070811223344 0
        lookup ${le(0)}
        lookup ${le(1)}
        update ${le(1)} 01 1
        update ${le(1)} 01 2
        update ${le(1)} 01 4
        update ${le(2)} 01 0
        delete ${le(1)}
        next -
        next ${le(1)}
        create 6 4 12 3 0
        update ${le(2)} 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 0
        lookup ${le(2)}`);
    });

    it("HASH: full map, flags, replace, delete", () => {
      agree(`create 1 4 4 3 64
        update ${le(1)} 01000000 2
        update ${le(1)} 01000000 1
        update ${le(1)} 02000000 1
        update ${le(1)} 03000000 2
        update ${le(2)} 04000000 0
        update ${le(3)} 05000000 0
        update ${le(4)} 06000000 0
        update ${le(4)} 06000000 1
        update ${le(3)} 07000000 0
        update ${le(1)} 07000000 3
        update ${le(1)} 07000000 4
        lookup ${le(1)}
        lookup ${le(3)}
        lookup ${le(4)}
        delete ${le(4)}
        delete ${le(2)}
        update ${le(4)} 08000000 0
        next -
        next ${le(9)}`);
    });

    it("RDONLY, WRONLY, RDONLY_PROG and freeze", () => {
      agree(`create 2 4 4 2 8
        update ${le(0)} 01020304 0
        lookup ${le(0)}
        next -
        delete ${le(0)}
        freeze
        create 2 4 4 2 16
        update ${le(0)} 01020304 0
        lookup ${le(0)}
        next -
        delete ${le(0)}
        freeze
        create 2 4 4 2 128
        update ${le(0)} 01020304 0
        freeze
        update ${le(0)} 01020304 0
        lookup ${le(0)}
        freeze
        delete ${le(0)}
        create 1 4 4 2 8
        update ${le(0)} 01020304 0
        delete ${le(0)}
        create 1 4 4 2 0
        update ${le(1)} 01020304 0
        freeze
        update ${le(1)} 01020304 0
        delete ${le(1)}
        lookup ${le(1)}
        next -`);
    });

    it("PROG_ARRAY and PERF_EVENT_ARRAY: fds in, ids out", () => {
      agree(`prog
        perf
        create 3 4 4 4 0
        lookup ${le(0)}
        update ${le(0)} @prog 0
        lookup ${le(0)}
        update ${le(0)} @prog 1
        update ${le(0)} @prog 2
        update ${le(9)} @prog 0
        update ${le(1)} ffffffff 0
        update ${le(1)} @perf 0
        next -
        next ${le(0)}
        next ${le(3)}
        delete ${le(1)}
        delete ${le(9)}
        delete ${le(0)}
        delete ${le(0)}
        create 4 4 4 2 0
        lookup ${le(0)}
        lookup ${le(7)}
        update ${le(0)} @perf 0
        update ${le(0)} @prog 0
        update ${le(0)} @perf 2
        update ${le(5)} @perf 0
        lookup ${le(0)}
        delete ${le(0)}
        delete ${le(0)}
        delete ${le(5)}
        next ${le(0)}`);
    });

    it("RINGBUF and STACK_TRACE from the syscall side", () => {
      agree(`create 27 0 0 4096 0
        lookup -
        update - 00 0
        delete -
        next -
        lookup 00
        update 00 00 0
        delete 00
        next 00
        create 7 4 8 4 0
        lookup ${le(0)}
        update ${le(0)} 0000000000000000 0
        delete ${le(0)}
        delete ${le(3)}
        delete ${le(4)}
        delete ${le(9)}
        next -
        next ${le(1)}`);
    });
  });

  describe("seeded random operation sequences", () => {
    const cpus = unavailable === undefined ? kernelCpus() : 1;
    interface Shape {
      create: string;
      keySize: number;
      /** bytes of a user value */
      valueBytes: number;
      /** keys are drawn from [0, keys) */
      keys: number;
      ops: number;
      /** also switch the syscall between CPUs (LRU lists are per CPU) */
      cpus?: number;
      /** flags to draw updates from */
      flags?: number[];
      /** also drive the map from BPF programs (BPF_PROG_TEST_RUN / the interpreter) */
      programs?: { valueSize: number };
    }

    /** A script of random updates, lookups, deletes and get_next_keys over a small key space. */
    function randomScript(seed: number, shape: Shape): string {
      const rand = prng(seed);
      const pick = <T>(items: readonly T[]): T => items[rand() % items.length]!;
      const key = (): string => {
        const k = rand() % shape.keys;
        // Spread the key over all its bytes, so every byte feeds the hash.
        const bytes = new Uint8Array(shape.keySize);
        for (let i = 0; i < shape.keySize; i++)
          bytes[i] = (k * (i + 1) * 37 + (i === 0 ? k : 0)) & 0xff;
        bytes.set(
          new Uint8Array(new Uint32Array([k]).buffer).subarray(0, Math.min(4, shape.keySize)),
        );
        return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      };
      const value = (): string =>
        Array.from({ length: shape.valueBytes }, () =>
          (rand() & 0xff).toString(16).padStart(2, "0"),
        ).join("");
      const flags = shape.flags ?? [0, 0, 0, 1, 2];
      const lines = [shape.create];
      for (let i = 0; i < shape.ops; i++) {
        const r = rand() % 100;
        if (r < 45) lines.push(`update ${key()} ${value()} ${pick(flags)}`);
        else if (r < 65) lines.push(`lookup ${key()}`);
        else if (r < 80) lines.push(`delete ${key()}`);
        else if (r < 88) lines.push(`next ${key()}`);
        else if (r < 90) lines.push("next -");
        else if (shape.cpus !== undefined && r < 93) lines.push(`cpu ${rand() % shape.cpus}`);
        else lines.push(`lookup ${key()}`);
        if (shape.programs !== undefined && rand() % 3 === 0) {
          const v = (): string =>
            Array.from({ length: shape.programs!.valueSize }, () =>
              (rand() & 0xff).toString(16).padStart(2, "0"),
            ).join("");
          const which = rand() % 4;
          if (which === 0) lines.push(`run ${progUpdate(key(), v(), pick(flags))}`);
          else if (which === 1) lines.push(`run ${progDelete(key())}`);
          else lines.push(`run ${progLookup(key())}`);
        }
      }
      // Finish with a full walk: the kernel's iteration order, element by element.
      lines.push("walk");
      return lines.join("\n");
    }

    /** Run `seeds` scripts; returns the number of operations and of keys the final walks saw. */
    function agreeRandom(shape: Shape, seeds: number): { ops: number; walked: number } {
      let ops = 0;
      let walked = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const script = randomScript(seed * 7919, shape);
        ops += agree(script);
        // The walk's lines follow one line per earlier operation (and the "cpus" line).
        const before = script.split("\n").length - 1;
        const out = runSimScript(script, cpus);
        walked += out.slice(1 + before).filter((l) => l.startsWith("next 0")).length;
      }
      return { ops, walked };
    }

    it("ARRAY", () => {
      const { ops, walked } = agreeRandom(
        {
          create: "create 2 4 12 16 0",
          keySize: 4,
          valueBytes: 12,
          keys: 20,
          ops: 300,
          flags: [0, 1, 2, 3],
        },
        3,
      );
      expect(ops).toBeGreaterThan(900);
      expect(walked).toBe(3 * 16);
    });

    it("PERCPU_ARRAY", () => {
      agreeRandom(
        { create: "create 6 4 4 16 0", keySize: 4, valueBytes: 8 * cpus, keys: 20, ops: 300 },
        3,
      );
    });

    it("HASH (BPF_F_ZERO_SEED: iteration in the kernel's bucket order)", () => {
      agreeRandom(
        { create: "create 1 4 8 32 64", keySize: 4, valueBytes: 8, keys: 48, ops: 400 },
        3,
      );
      // key sizes that take jhash() (not a multiple of 4) and jhash2() with a tail
      agreeRandom(
        { create: "create 1 3 4 32 64", keySize: 3, valueBytes: 4, keys: 40, ops: 300 },
        2,
      );
      agreeRandom(
        { create: "create 1 13 4 32 64", keySize: 13, valueBytes: 4, keys: 40, ops: 300 },
        2,
      );
      agreeRandom(
        { create: "create 1 20 4 64 65", keySize: 20, valueBytes: 4, keys: 80, ops: 300 },
        2,
      );
    });

    it("PERCPU_HASH", () => {
      agreeRandom(
        { create: "create 5 4 12 24 64", keySize: 4, valueBytes: 16 * cpus, keys: 32, ops: 400 },
        3,
      );
    });

    it("LRU_HASH: evictions in the kernel's order and batch sizes", () => {
      agreeRandom(
        { create: "create 9 4 8 16 64", keySize: 4, valueBytes: 8, keys: 40, ops: 400 },
        3,
      );
      agreeRandom(
        { create: "create 9 4 8 64 64", keySize: 4, valueBytes: 8, keys: 150, ops: 600, cpus },
        3,
      );
      agreeRandom(
        { create: "create 9 8 4 10 66", keySize: 8, valueBytes: 4, keys: 30, ops: 400, cpus },
        3,
      );
    });

    it("the same, driven by programs too (kernel-side lookups set LRU ref bits)", () => {
      const programs = (valueSize: number) => ({ programs: { valueSize } });
      agreeRandom(
        {
          create: "create 1 4 8 16 64",
          keySize: 4,
          valueBytes: 8,
          keys: 24,
          ops: 200,
          ...programs(8),
        },
        2,
      );
      agreeRandom(
        {
          create: "create 2 4 8 16 0",
          keySize: 4,
          valueBytes: 8,
          keys: 20,
          ops: 200,
          ...programs(8),
        },
        2,
      );
      agreeRandom(
        {
          create: "create 6 4 4 8 0",
          keySize: 4,
          valueBytes: 8 * cpus,
          keys: 10,
          ops: 200,
          cpus,
          ...programs(4),
        },
        2,
      );
      agreeRandom(
        {
          create: "create 5 4 4 8 64",
          keySize: 4,
          valueBytes: 8 * cpus,
          keys: 12,
          ops: 200,
          cpus,
          ...programs(4),
        },
        2,
      );
      agreeRandom(
        {
          create: "create 9 4 8 16 64",
          keySize: 4,
          valueBytes: 8,
          keys: 40,
          ops: 300,
          cpus,
          ...programs(8),
        },
        3,
      );
      agreeRandom(
        {
          create: "create 10 4 4 12 64",
          keySize: 4,
          valueBytes: 8 * cpus,
          keys: 30,
          ops: 300,
          cpus,
          ...programs(4),
        },
        3,
      );
      agreeRandom(
        {
          create: "create 9 4 8 12 66",
          keySize: 4,
          valueBytes: 8,
          keys: 30,
          ops: 300,
          cpus,
          ...programs(8),
        },
        2,
      );
    });

    it("LRU_PERCPU_HASH and BPF_F_NO_COMMON_LRU", () => {
      agreeRandom(
        {
          create: "create 10 4 8 16 64",
          keySize: 4,
          valueBytes: 8 * cpus,
          keys: 40,
          ops: 400,
          cpus,
        },
        3,
      );
      agreeRandom(
        {
          create: "create 10 4 4 9 66",
          keySize: 4,
          valueBytes: 8 * cpus,
          keys: 30,
          ops: 400,
          cpus,
        },
        3,
      );
    });
  });

  describe("driven by programs", () => {
    it("LRU_HASH: a program's lookup keeps an element from eviction", () => {
      const keys = Array.from({ length: 17 }, (_, i) => le(i + 1));
      agree(
        [
          "create 9 4 8 16 64",
          ...keys.slice(0, 16).map((k) => `update ${k} ${k}${k} 0`),
          ...keys.slice(0, 4).map((k) => `run ${progLookup(k)}`),
          `update ${keys[16]} 00 0`,
          "walk",
        ].join("\n"),
      );
    });

    it("PERCPU_HASH and PERCPU_ARRAY: a program writes its own CPU's copy", () => {
      for (const create of ["create 5 4 8 4 64", "create 6 4 8 4 0"]) {
        agree(`${create}
          cpu 1
          run ${progUpdate(le(1), "0102030405060708", 0)}
          lookup ${le(1)}
          run ${progLookup(le(1))}
          cpu 0
          run ${progLookup(le(1))}
          run ${progUpdate(le(1), "1112131415161718", 2)}
          lookup ${le(1)}
          run ${progUpdate(le(1), le(0x21, 8), 1)}
          run ${progUpdate(le(2), le(0x31, 8), 0)}
          run ${progUpdate(le(3), le(0x41, 8), 0)}
          run ${progUpdate(le(4), le(0x51, 8), 0)}
          run ${progUpdate(le(5), le(0x61, 8), 0)}
          run ${progUpdate(le(5), le(0x61, 8), 4)}
          run ${progUpdate(le(5), le(0x61, 8), 8)}
          run ${progDelete(le(2))}
          run ${progDelete(le(2))}
          walk`);
      }
    });

    it("PERF_EVENT_ARRAY: bpf_perf_event_output's slot, CPU and flag checks", () => {
      const out = (lo: number, hi = 0, size = 8): string =>
        `run ${progPerfEventOutput(lo, hi, size)}`;
      agree(`create 4 4 4 4 0
        ${out(0)}
        ${out(0xffffffff)}
        ${out(9)}
        perf
        update ${le(0)} @perf 0
        ${out(0)}
        ${out(0xffffffff)}
        ${out(1)}
        ${out(4)}
        ${out(0xfffffffe)}
        ${out(0, 0, 0)}
        cpu 1
        ${out(0)}
        ${out(0xffffffff)}
        update ${le(1)} @perf 0
        ${out(0xffffffff)}
        ${out(1)}
        cpu 0
        ${out(1)}`);
    });

    it("RINGBUF: records, wraparound, discard, query and the consumer", () => {
      const outputs = (n: number, size: number, seed: number): string[] =>
        Array.from({ length: n }, (_, i) => `run ${progRingbufOutput(size, seed + i, 0)}`);
      const queries = [0, 1, 2, 3, 4].map((f) => `run ${progRingbufQuery(f)}`);
      const ops = agree(
        [
          "create 27 0 0 4096 0",
          ...queries,
          ...outputs(12, 300, 1), // 13 x 312 > 4095: the last ones fail with -EAGAIN
          ...queries,
          "ring",
          "consume",
          ...queries,
          `run ${progRingbufReserve(1000, 7, true, 0)}`, // discarded, then wraps
          ...outputs(6, 333, 50),
          `run ${progRingbufReserve(4090, 1, false, 0)}`, // too big for the ring
          `run ${progRingbufReserve(2000, 9, false, 2)}`,
          `run ${progRingbufOutput(0, 0, 0)}`,
          `run ${progRingbufOutput(5, 0, 4)}`,
          ...queries,
          "ring",
          "consume",
          ...outputs(3, 8, 90),
          `run ${progRingbufReserve(24, 3, false, 1)}`,
          "ring",
          "consume",
          ...queries,
        ].join("\n"),
      );
      expect(ops).toBeGreaterThan(40);
      expect(pattern(3, 254)).toBe("feff00");
    });
  });
});
