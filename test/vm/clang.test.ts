// Differential test against real tools: the same C functions are compiled by clang 14
// (-O2 -target bpf, for -mcpu=v1, v2 and v3) and run in the interpreter, and compiled natively by
// cc and run on this machine's CPU, on the same seeded inputs. Every result must agree.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeProgram } from "../../runtime/isa/codec.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { AddressSpace } from "../../runtime/vm/memory.js";
import { prepareProgram } from "../../runtime/vm/program.js";
import { hasTool, pair, prng, u64, withTmp } from "./run.js";

const hasTools = hasTool("clang") && hasTool("cc") && hasTool("llvm-objcopy") && hasTool("readelf");
if (!hasTools)
  console.log("clang, cc, llvm-objcopy or readelf missing: skipping the clang differential test");

// Each function takes a pointer to eight u64s and returns a u64. No UB: shift counts masked,
// divisors non-zero, aligned accesses, type punning made legal by -fno-strict-aliasing.
// Atomics that return the old value need -mcpu=v3.
const FUNCTIONS = String.raw`
typedef unsigned long long u64; typedef long long s64;
typedef unsigned int u32; typedef int s32;
typedef unsigned short u16; typedef short s16;
typedef unsigned char u8; typedef signed char s8;
#define FN(name) __attribute__((section("fn_" #name), noinline, used)) u64 name(u64 *m)

FN(arith64) {
  u64 a = m[0], b = m[1], c = m[2];
  u64 x = a * b + c;
  x ^= a - (b << (c & 63));
  x += b >> (a & 63);
  x ^= (u64)((s64)c >> (b & 63));
  x -= ~a | (b & c);
  return x * 0x9e3779b97f4a7c15ull;
}
FN(divmod64) {
  u64 a = m[0], b = m[1], c = m[2] | 1;
  u64 r = a / c + a % c;
  if (b) r ^= (a / b) * 3 + a % b;
  r += (a >> 7) / 1000003 + a % 65521;
  if (m[3] >> 32) r ^= a / (m[3] | 1) + a % (m[3] | 1);
  return r;
}
FN(arith32) {
  u32 a = m[0], b = m[1], c = m[2];
  u32 x = a * b + c;
  x ^= (a << (b & 31)) | (c >> (a & 31));
  x += (u32)((s32)b >> (c & 31));
  if (c) x ^= a / c + a % c;
  x -= (u32)(-(s32)a) * 3;
  return x;
}
FN(compare) {
  s64 a = m[0], b = m[1];
  u64 r = 0;
  if (a < b) r |= 1;
  if ((u64)a < (u64)b) r |= 2;
  if ((s32)a < (s32)b) r |= 4;
  if ((u32)a <= (u32)b) r |= 8;
  if (a == b) r |= 16;
  if ((u32)a == (u32)b) r |= 32;
  if (a & b) r |= 64;
  if (a >= 0) r |= 128;
  if ((s32)a > -5) r |= 256;
  if ((u64)a > 0x8000000000000000ull) r |= 512;
  if ((s32)b >= (s32)a) r |= 1024;
  if ((u32)b > 1000) r |= 2048;
  return r;
}
FN(loads) {
  u8 *p = (u8 *)m;
  u64 i = m[3] & 31;
  s64 r = (s8)p[i];
  r += (s16)*(u16 *)(p + (i & ~1ull));
  r ^= (s32)*(u32 *)(p + (i & ~3ull));
  r += *(u16 *)(p + (i & ~1ull));
  r ^= (u64)*(u32 *)(p + (i & ~3ull)) << 3;
  r += p[i + 7];
  return r;
}
FN(stores) {
  u8 *p = (u8 *)m;
  u64 i = m[0] & 31;
  p[i] = (u8)m[1];
  *(u16 *)(p + (i & ~1ull) + 2) = (u16)m[2];
  *(u32 *)(p + (i & ~3ull) + 4) = (u32)m[1] * 7;
  m[5] = m[4] + m[3];
  m[6] = 0x1234;
  return m[0] ^ m[1] ^ m[2] ^ m[3] ^ m[4] ^ m[5] ^ m[6] ^ m[7];
}
FN(bswap) {
  return __builtin_bswap64(m[0]) ^ __builtin_bswap32((u32)m[1]) ^ __builtin_bswap16((u16)m[2]);
}
FN(fnv) {
  u64 h = 14695981039346656037ull;
  u8 *p = (u8 *)m;
  for (int i = 0; i < 64; i++) { h ^= p[i]; h *= 1099511628211ull; }
  return h;
}
FN(stack) {
  u64 buf[8];
  for (int i = 0; i < 8; i++) buf[i] = m[i] * (i + 1);
  u64 r = 0;
  for (int i = 0; i < 8; i++) r += buf[(m[0] + i) & 7] << i;
  return r;
}
#ifdef HAS_FETCH_ATOMICS
FN(atomics) {
  u64 old = __sync_fetch_and_add(&m[0], m[1]);
  u32 old32 = __sync_fetch_and_or((u32 *)&m[2], (u32)m[3]);
  u64 prev = __sync_val_compare_and_swap(&m[4], m[5], m[6]);
  u64 prev2 = __sync_val_compare_and_swap(&m[5], m[5], m[6]);
  __sync_fetch_and_xor(&m[7], m[1]);
  __sync_fetch_and_and((u32 *)&m[1], (u32)m[0]);
  u64 x = __sync_lock_test_and_set(&m[3], 5);
  return old ^ old32 ^ prev ^ prev2 ^ m[0] ^ m[1] ^ m[2] ^ m[4] ^ m[5] ^ m[7] ^ x ^ m[3];
}
#endif
FN(collatz) {
  u64 n = (m[0] & 0xffff) + 1, steps = 0;
  while (n != 1 && steps < 400) { n = (n & 1) ? 3 * n + 1 : n >> 1; steps++; }
  return steps * 1000000 + n;
}
`;
const CPUS = ["v1", "v2", "v3"] as const;
const NAMES = [...FUNCTIONS.matchAll(/^FN\((\w+)\)/gm)].map((m) => m[1]!);

const HARNESS = String.raw`
#include <stdio.h>
#include <string.h>
#include "fns.c"
typedef u64 (*fn_t)(u64 *);
static const fn_t fns[] = { ${NAMES.join(", ")} };
int main(void) {
  u64 in[8];
  while (scanf("%llx %llx %llx %llx %llx %llx %llx %llx",
               &in[0], &in[1], &in[2], &in[3], &in[4], &in[5], &in[6], &in[7]) == 8) {
    for (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++) {
      u64 m[8];
      memcpy(m, in, sizeof m);
      printf("%llx%c", (unsigned long long)fns[i](m), i + 1 < sizeof fns / sizeof fns[0] ? ' ' : '\n');
    }
  }
  return 0;
}
`;

const EDGES = [
  0n,
  1n,
  0xffffffffffffffffn,
  0x8000000000000000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
];

function inputs(count: number): bigint[][] {
  const next = prng(99);
  const word = (): bigint => {
    const r = next() % 8;
    if (r === 0) return EDGES[next() % EDGES.length]!;
    const v = (BigInt(next()) << 32n) | BigInt(next());
    return r === 1 ? v & 0xffffn : r === 2 ? v & 0xffffffffn : v;
  };
  return Array.from({ length: count }, () => Array.from({ length: 8 }, word));
}

describe.skipIf(!hasTools)("clang -target bpf in the interpreter vs. the same C on the CPU", () => {
  const cases = inputs(300);
  const built = hasTools
    ? withTmp((dir) => {
        writeFileSync(join(dir, "fns.c"), FUNCTIONS);
        writeFileSync(join(dir, "main.c"), HARNESS);
        for (const cpu of CPUS) {
          const args = ["-O2", "-fno-strict-aliasing", "-target", "bpf", `-mcpu=${cpu}`];
          if (cpu === "v3") args.push("-DHAS_FETCH_ATOMICS");
          execFileSync("clang", [...args, "-c", "fns.c", "-o", `fns-${cpu}.o`], { cwd: dir });
        }
        execFileSync(
          "cc",
          ["-O2", "-fno-strict-aliasing", "-DHAS_FETCH_ATOMICS", "-o", "native", "main.c"],
          { cwd: dir },
        );
        let relocations = "";
        const sections = new Map<string, Uint8Array>();
        for (const cpu of CPUS) {
          const object = `fns-${cpu}.o`;
          relocations += execFileSync("readelf", ["-r", object], { cwd: dir, encoding: "utf8" });
          const present = execFileSync("readelf", ["-S", "-W", object], {
            cwd: dir,
            encoding: "utf8",
          });
          for (const name of NAMES) {
            if (!present.includes(`fn_${name} `)) continue;
            const bin = `${cpu}-${name}.bin`;
            execFileSync(
              "llvm-objcopy",
              ["-O", "binary", `--only-section=fn_${name}`, object, bin],
              {
                cwd: dir,
              },
            );
            sections.set(`${cpu}/${name}`, new Uint8Array(readFileSync(join(dir, bin))));
          }
        }
        const stdin = cases.map((c) => c.map((v) => v.toString(16)).join(" ")).join("\n") + "\n";
        const native = execFileSync(join(dir, "native"), { input: stdin, encoding: "utf8" })
          .trim()
          .split("\n")
          .map((line) => line.split(" ").map((h) => BigInt("0x" + h)));
        return { relocations, sections, native };
      })
    : undefined;

  it("the BPF functions need no relocations (so section bytes run as they are)", () => {
    expect(built!.relocations.match(/no relocations/gi)?.length).toBe(CPUS.length);
    expect(built!.sections.size).toBe(3 * NAMES.length - 2); // no atomics before v3
    expect(built!.native.length).toBe(cases.length);
  });

  const runs = CPUS.flatMap((cpu) =>
    NAMES.filter((name) => cpu === "v3" || name !== "atomics").map((name) => [cpu, name] as const),
  );
  it.each(runs)("-mcpu=%s %s agrees with the native result on 300 inputs", (cpu, name) => {
    const index = NAMES.indexOf(name);
    const bytes = built!.sections.get(`${cpu}/${name}`)!;
    const program = prepareProgram(decodeProgram(bytes), { name: `${cpu}/${name}` });
    const memory = new AddressSpace();
    const vm = new Interpreter({ memory });
    const mem = memory.alloc(64, { name: "m", kind: "data" });
    cases.forEach((input, k) => {
      input.forEach((v, i) => {
        const [lo, hi] = pair(v);
        memory.store64(mem.lo(8 * i), mem.addressHi, lo, hi);
      });
      const r = vm.run(program, { args: [[mem.addressLo, mem.addressHi]], budget: 100_000 });
      const want = built!.native[k]![index]!;
      if (u64(r.lo, r.hi) !== want) {
        throw new Error(
          `${name}(${input.map((v) => "0x" + v.toString(16)).join(", ")}) = 0x${u64(r.lo, r.hi).toString(16)}, native 0x${want.toString(16)}`,
        );
      }
    });
  });
});
