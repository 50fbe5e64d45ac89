// The BigInt-free 64-bit arithmetic against exact BigInt arithmetic (the RFC 9669 definitions),
// on edge values and seeded random values of every magnitude.
import { describe, expect, it } from "vitest";
import * as alu from "../../runtime/vm/alu64.js";
import { pair, prng, u64 } from "./run.js";

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);

const EDGES = [
  0n,
  1n,
  2n,
  3n,
  7n,
  0xffn,
  0xffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x100000001n,
  0x1fffffffffffffn, // 2^53 - 1
  0x20000000000000n,
  0x20000000000001n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0x8000000000000001n,
  0xfffffffffffffffen,
  0xffffffffffffffffn,
  0xfedcba9876543210n,
  0x123456789n,
];

function values(): bigint[] {
  const next = prng(0x5eed);
  const out = [...EDGES];
  for (let i = 0; i < 150; i++) {
    const hi = BigInt(next());
    const lo = BigInt(next());
    // every magnitude: full 64 bits, 33-53 bits, 32 bits, a few bits
    const bits = BigInt(next() % 64) + 1n;
    out.push(((hi << 32n) | lo) & ((1n << bits) - 1n));
  }
  return out;
}

type Op = (regs: Int32Array, d: number, bLo: number, bHi: number) => void;

function apply(fn: Op, a: bigint, b: bigint): bigint {
  const regs = new Int32Array(22);
  [regs[4], regs[5]] = pair(a);
  const [bLo, bHi] = pair(b);
  fn(regs, 4, bLo, bHi);
  return u64(regs[4]!, regs[5]!);
}

const reference: Record<string, (a: bigint, b: bigint) => bigint> = {
  mul64: (a, b) => (a * b) & M64,
  div64: (a, b) => (b === 0n ? 0n : a / b),
  mod64: (a, b) => (b === 0n ? a : a % b),
  // BigInt division truncates toward zero and % takes the dividend's sign, as RFC 9669 wants.
  sdiv64: (a, b) => (b === 0n ? 0n : BigInt.asUintN(64, s64(a) / s64(b))),
  smod64: (a, b) => (b === 0n ? a : BigInt.asUintN(64, s64(a) % s64(b))),
};

describe("64-bit multiply, divide and modulo without BigInt", () => {
  const vs = values();
  for (const [name, ref] of Object.entries(reference)) {
    it(`${name} matches exact arithmetic on ${vs.length}x${vs.length} operand pairs`, () => {
      const fn = (alu as unknown as Record<string, Op>)[name]!;
      let checked = 0;
      for (const a of vs) {
        for (const b of vs) {
          const got = apply(fn, a, b);
          const want = ref(a, b);
          if (got !== want) {
            throw new Error(
              `${name}(0x${a.toString(16)}, 0x${b.toString(16)}) = 0x${got.toString(16)}, want 0x${want.toString(16)}`,
            );
          }
          checked++;
        }
      }
      expect(checked).toBe(vs.length * vs.length);
    });
  }

  it("mulHighU32 is exact for all edge pairs", () => {
    const edges = [
      0, 1, 2, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x12345678,
    ];
    for (const a of edges) {
      for (const b of edges) {
        expect(alu.mulHighU32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
      }
    }
  });
});

describe("64-bit shifts", () => {
  const vs = values().slice(0, 60);
  it("lsh64 / rsh64 / arsh64 for every amount 0..63", () => {
    for (const a of vs) {
      for (let n = 0; n < 64; n++) {
        const regs = new Int32Array(22);
        const set = (): void => {
          [regs[2], regs[3]] = pair(a);
        };
        set();
        alu.lsh64(regs, 2, n);
        expect(u64(regs[2]!, regs[3]!)).toBe((a << BigInt(n)) & M64);
        set();
        alu.rsh64(regs, 2, n);
        expect(u64(regs[2]!, regs[3]!)).toBe(a >> BigInt(n));
        set();
        alu.arsh64(regs, 2, n);
        expect(u64(regs[2]!, regs[3]!)).toBe(BigInt.asUintN(64, s64(a) >> BigInt(n)));
      }
    }
  });
});
