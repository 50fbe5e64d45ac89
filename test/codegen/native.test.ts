// C semantics against the machine's own C compiler: the same functions compiled natively by cc
// (x86-64 has BPF's type sizes: int 32, long 64, char signed) and by tsbpf for every -mcpu,
// run on the same seeded inputs, must compute the same 64-bit values. This covers what clang
// -target bpf cannot compile before -mcpu=v4 (signed division and remainder), the v4 forms
// (sign-extending loads and moves, sdiv/smod) that clang 14 cannot emit at all, and the
// integer conversions, shifts and comparisons of C at every width. No undefined behaviour:
// divisors are non-zero and not -1, shift counts are masked.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageFromUnit, randomBytes, runImage, tsbpfCompile } from "./harness.js";

const hasCc = spawnSync("cc", ["--version"]).status === 0;
if (!hasCc) console.log("cc not installed: skipping the native C semantics test");

const FUNCTIONS = String.raw`
FN(sdiv64) {
  s64 a = m[0], b = (s64)m[1] >> (m[2] & 31);
  if (b == 0 || b == -1) b = 7;
  return (u64)(a / b) ^ (u64)(a % b) << 1 ^ (u64)(a / 13) ^ (u64)(a % -9) ^ (u64)(-a / 4) ^ (u64)(a % 16);
}
FN(sdiv32) {
  s32 a = m[0], b = (s32)m[1] >> (m[2] & 15);
  if (b == 0 || b == -1) b = -3;
  s32 q = a / b, r = a % b;
  return (u64)(s64)q * 3 + (u64)(s64)r + (u64)(s64)(a / 1000) + (u64)(s64)(a % 10) + (u64)(s64)(a / -8);
}
FN(narrowdiv) {
  s8 a = m[0]; s16 b = m[1] | 1; s8 c = (s8)(m[2] | 1);
  if (c == -1) c = 5;
  return (u64)(s64)(a / c) + (u64)(s64)(b % c) + (u64)(s64)((s16)(b * 3) / 7);
}
FN(convert) {
  u64 x = m[0];
  s64 r = (s8)x + (u8)x * 2 + (s16)x * 3 + (u16)x * 5 + (s32)x * 7 + (u64)(u32)x * 11;
  r ^= (s64)(s8)(x >> 8) << 3;
  char c = x >> 16; unsigned char uc = c; signed char sc = uc;
  r += c + uc + sc;
  _Bool bb = x & 0xff00;
  r += bb + (_Bool)(x >> 63);
  return r;
}
FN(shifts) {
  u64 x = m[0]; s64 y = m[1]; u32 a = m[2]; s32 b = m[3];
  unsigned n = m[4] & 63, k = m[4] & 31;
  return (x << n) ^ (x >> n) ^ (u64)(y >> n) ^ (u64)(a << k) ^ (u64)(a >> k) ^ (u64)(s64)(b >> k) ^ (u64)((s8)b >> 3);
}
FN(compares) {
  s64 a = m[0], b = m[1]; s32 c = m[2], d = m[3]; u32 e = m[2]; s8 f = m[4]; u16 g = m[5];
  u64 r = 0;
  r = r << 1 | (a < b); r = r << 1 | (a <= -3); r = r << 1 | ((u64)a > (u64)b);
  r = r << 1 | (c < d); r = r << 1 | (c >= -100); r = r << 1 | (e > 4000000000u);
  r = r << 1 | (f < 0); r = r << 1 | (f > -100); r = r << 1 | (g > 40000);
  r = r << 1 | (c < (s64)b); r = r << 1 | (e < (u64)a); r = r << 1 | ((s32)e < d);
  r = r << 1 | (c == d); r = r << 1 | (e != 7); r = r << 1 | (a == (s32)a);
  return r;
}
FN(mulwrap) {
  u32 a = m[0], b = m[1]; u16 c = m[2]; s16 d = m[3];
  u32 p = a * b; u16 q = c * c; s16 s = d * 3;
  return (u64)p + q + (u64)(s64)s + (u64)(u8)(a * 7);
}
FN(ternary) {
  s32 a = m[0], b = m[1];
  s32 x = a > b ? a : b;
  s64 y = a < 0 ? -(s64)a : a;
  u32 z = (a & 1) ? (u32)b : (u32)a * 2;
  return (u64)(s64)x ^ (u64)y ^ z;
}
FN(switchneg) {
  s32 v = (s32)m[0] % 20 - 10;
  switch (v) {
  case -10: return 1;
  case -5 ... -3: return 2;
  case -1: return 3;
  case 0: return 4;
  case 4 ... 6: return 5;
  case 9: return 6;
  default: return v * 100;
  }
}
FN(loopsum) {
  s64 s = 0;
  for (s32 i = -5; i < (s32)(m[0] & 15); i++) s += i * (s64)m[1];
  u8 j = m[2];
  while (j != 0) { s ^= j; j <<= 1; }
  return s;
}
struct bf { s32 a : 5; u32 b : 11; s64 c : 33; u8 d : 3; };
FN(bitfield) {
  struct bf x = { 0 };
  x.a = m[0]; x.b = m[1]; x.c = m[2]; x.d = m[3];
  x.a += 3; x.c -= m[4];
  return (u64)(s64)x.a * 3 + x.b * 5 + (u64)x.c * 7 + x.d;
}
FN(pointers) {
  u32 *p = (u32 *)m + (m[0] & 7);
  u8 *q = (u8 *)m + 40;
  s64 d = (u8 *)p - q;
  return (u64)d ^ *p ^ q[1];
}
`;

const NAMES = [...FUNCTIONS.matchAll(/^FN\((\w+)\)/gm)].map((m) => m[1]!);

const TYPES = String.raw`
typedef unsigned long long u64; typedef long long s64;
typedef unsigned int u32; typedef int s32;
typedef unsigned short u16; typedef short s16;
typedef unsigned char u8; typedef signed char s8;
`;

// Natively: functions plus a main that prints each result per input line.
const NATIVE = String.raw`
#include <stdio.h>
${TYPES}
#define FN(name) static __attribute__((noinline)) u64 name(u64 *m)
${FUNCTIONS}
int main(void) {
  u64 in[8];
  while (scanf("%llx %llx %llx %llx %llx %llx %llx %llx", &in[0], &in[1], &in[2], &in[3], &in[4], &in[5], &in[6], &in[7]) == 8) {
${NAMES.map((n) => `    { u64 c[8]; for (int i = 0; i < 8; i++) c[i] = in[i]; printf("%llx\\n", (unsigned long long)${n}(c)); }`).join("\n")}
  }
  return 0;
}
`;

// For BPF: each function becomes a program storing its result in m[7].
const BPF = String.raw`
${TYPES}
#define FN(name) static __attribute__((always_inline)) u64 name##_body(u64 *m); __attribute__((section("kprobe/" #name), used)) int name(u64 *m) { m[7] = name##_body(m); return 0; } static __attribute__((always_inline)) u64 name##_body(u64 *m)
${FUNCTIONS}
char LICENSE[] __attribute__((section("license"), used)) = "GPL";
`;

const INPUTS = [0, ...Array.from({ length: 40 }, (_, i) => i + 1)].map((seed) =>
  seed === 0 ? new Uint8Array(64) : randomBytes(seed * 104729, 64),
);

function words(b: Uint8Array): bigint[] {
  const v = new DataView(b.buffer, b.byteOffset, 64);
  return Array.from({ length: 8 }, (_, i) => v.getBigUint64(i * 8, true));
}

describe.skipIf(!hasCc)("C semantics: tsbpf in the interpreter vs the native compiler", () => {
  const expected: string[][] = [];
  if (hasCc) {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-native-"));
    try {
      writeFileSync(join(dir, "main.c"), NATIVE);
      const cc = spawnSync("cc", ["-O1", "-fwrapv", "-o", "native", "main.c"], {
        cwd: dir,
        encoding: "utf8",
      });
      if (cc.status !== 0) throw new Error(cc.stderr);
      const input =
        INPUTS.map((b) =>
          words(b)
            .map((w) => w.toString(16))
            .join(" "),
        ).join("\n") + "\n";
      const out = spawnSync(join(dir, "native"), [], { input, encoding: "utf8" })
        .stdout.trim()
        .split("\n");
      for (let i = 0; i < INPUTS.length; i++)
        expected.push(out.slice(i * NAMES.length, (i + 1) * NAMES.length));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const cpu of ["v1", "v2", "v3", "v4"] as const) {
    for (const optLevel of [2, 0] as const) {
      it(`-mcpu=${cpu} -O${optLevel}`, () => {
        const image = imageFromUnit(tsbpfCompile(BPF, { cpu, optLevel }));
        INPUTS.forEach((ctx, i) => {
          NAMES.forEach((name, k) => {
            const out = runImage(image, { program: name, ctx });
            expect(out.fault).toBeUndefined();
            const m7 = BigInt("0x" + out.ctx.slice(112, 128).match(/../g)!.reverse().join(""));
            expect(`${name}: ${m7.toString(16)}`).toBe(`${name}: ${expected[i]![k]}`);
          });
        });
      });
    }
  }
});
