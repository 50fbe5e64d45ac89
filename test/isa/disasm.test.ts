// The disassembler against llvm-objdump (LLVM 14): objects clang 14 builds from C at
// -mcpu=v1, v2 and v3 (inline asm for every form the assembler accepts, plus ordinary C), and
// thousands of random valid instructions wrapped into an object. Every instruction line is
// compared in full: decode the bytes objdump shows, disassemble, and expect objdump's text
// (plain and --mattr=+alu32); formatObjdumpLine must reproduce the whole line including the
// ` <label>` annotation; encode(decode(bytes)) must give the bytes back.
//
// Where LLVM 14 prints `<unknown>` for a valid instruction we print newer LLVM's syntax; those
// forms are checked against the strings of LLVM's BPFInstrInfo.td at the end of this file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeProgram, encodeProgram } from "../../runtime/isa/codec.js";
import { disassemble, formatObjdump, formatObjdumpLine } from "../../runtime/isa/disasm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { assemble } from "../../runtime/isa/asm.js";
import {
  compileBpf,
  hasClang,
  hasLlvmMc,
  hex,
  objdump,
  objdumpBytes,
  sectionBytes,
  symbols,
  withTmp,
  type ObjdumpLine,
} from "./tools.js";

const C_DIR = join(import.meta.dirname, "c");

/** Counts of what a comparison covered, for the summary test. */
const seen = { lines: 0, distinct: new Set<string>() };

/**
 * LLVM 14 without +alu32 prints `<unknown>` for 32-bit atomic and/or/xor/fetch/xchg/cmpxchg,
 * and misreads the 32-bit fetch-add as a plain `lock ... += r`: for those our text is the
 * one `--mattr=+alu32` prints.
 */
function expectedText(insns: Insn[], plain: ObjdumpLine, alu32: ObjdumpLine | undefined): string {
  const first = insns[0]!;
  const misread = first.code === 0xc3 && first.imm === 0x01;
  if (plain.text !== "<unknown>" && !misread) return plain.text;
  expect(alu32?.text, plain.raw).toBeDefined();
  expect(alu32!.text, plain.raw).not.toBe("<unknown>");
  return alu32!.text;
}

/** Checks one objdump line: bytes round-trip and our text equals objdump's. */
function checkLine(line: ObjdumpLine, alu32Line: ObjdumpLine | undefined): string {
  const insns = decodeProgram(line.bytes);
  expect(hex(encodeProgram(insns)), line.raw).toBe(hex(line.bytes));
  const expected = expectedText(insns, line, alu32Line);
  expect(disassemble(insns, 0), line.raw).toBe(expected);
  if (alu32Line) expect(disassemble(insns, 0, { alu32: true }), alu32Line.raw).toBe(alu32Line.text);
  seen.lines++;
  seen.distinct.add(expected);
  // The whole line as objdump would print it had it decoded the instruction as we do.
  return (
    line.raw.slice(0, line.raw.length - line.text.length - line.annotation.length) +
    expected +
    line.annotation
  );
}

/** The label llvm-objdump prints for a jump target: the nearest symbol at or before it. */
function labeller(object: string, section: string): (target: number) => string | undefined {
  const syms = symbols(object)
    .filter((s) => s.section === section && !s.flags.includes("d") && !s.flags.includes("df"))
    .sort((a, b) => a.value - b.value);
  return (target) => {
    const at = target * 8;
    let best: (typeof syms)[number] | undefined;
    for (const s of syms) if (s.value <= at) best = s;
    if (!best) return `${section}+0x${at.toString(16)}`;
    return best.value === at ? best.name : `${best.name}+0x${(at - best.value).toString(16)}`;
  };
}

/** Compares every instruction line of an object, per line and per whole section. */
function checkObject(dir: string, object: string): number {
  const plain = objdump(object);
  const alu32 = objdump(object, ["--mattr=+alu32"]);
  expect(alu32.length).toBe(plain.length);
  const expected = plain.map((line, i) => checkLine(line, alu32[i]));
  // Whole sections: decodeProgram on the raw section, formatObjdumpLine reproduces each line.
  for (const section of new Set(plain.map((l) => l.section))) {
    const bytes = sectionBytes(dir, object, section);
    const insns = decodeProgram(bytes);
    expect(hex(encodeProgram(insns))).toBe(hex(bytes));
    const label = labeller(object, section);
    const theirs = expected.filter((_, k) => plain[k]!.section === section);
    expect(formatObjdump(insns, { label })).toEqual(theirs);
  }
  return plain.length;
}

// ---------------------------------------------------------------------------------------------
// Inline asm in LLVM syntax: every form clang 14's assembler parses, many registers and values.

const ALU_OPS = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "^=", "=", "s>>="];
const JMP_OPS = ["==", ">", ">=", "!=", "s>", "s>=", "<", "<=", "s<", "s<="];
const IMMS = [0, 1, -1, 7, -8, 255, 4096, 65535, -32768, 2147483647, -2147483648, 123456789];
const OFFSETS = [0, 1, -1, 8, -8, 511, -512, 32767, -32768];
const LDDW = [
  "0",
  "1",
  "-1",
  "0x7fffffffffffffff",
  "0x8000000000000000",
  "0xdeadbeefcafebabe",
  "9007199254740993",
  "-9007199254740993",
  "0x100000000",
  "4294967295",
];

function inlineAsmLines(): string[] {
  const lines: string[] = [];
  let k = 0;
  const reg = (): number => k++ % 11;
  for (const o of ALU_OPS) {
    for (const imm of IMMS) lines.push(`r${reg()} ${o} ${imm}`, `w${reg()} ${o} ${imm}`);
    for (let r = 0; r <= 10; r++)
      lines.push(`r${r} ${o} r${(r * 3 + 1) % 11}`, `w${r} ${o} w${(r * 7 + 2) % 11}`);
  }
  for (let r = 0; r <= 10; r++) lines.push(`r${r} = -r${r}`, `w${r} = -w${r}`);
  for (const b of [16, 32, 64])
    for (let r = 0; r <= 10; r += 2) lines.push(`r${r} = le${b} r${r}`, `r${r} = be${b} r${r}`);
  for (const t of ["u8", "u16", "u32", "u64"]) {
    for (const off of OFFSETS) {
      const at = off < 0 ? `r${reg()} - ${-off}` : `r${reg()} + ${off}`;
      lines.push(`r${reg()} = *(${t} *)(${at})`, `*(${t} *)(${at}) = r${reg()}`);
    }
  }
  for (const v of LDDW) lines.push(`r${reg()} = ${v} ll`);
  for (const t of ["u8", "u16", "u32"])
    lines.push(`r0 = *(${t} *)skb[${IMMS[k++ % IMMS.length]}]`, `r0 = *(${t} *)skb[r${reg()}]`);
  for (const o of JMP_OPS) {
    for (const off of [0, 1, 5, -3]) {
      const to = off < 0 ? `${off}` : `+${off}`;
      lines.push(
        `if r${reg()} ${o} r${reg()} goto ${to}`,
        `if r${reg()} ${o} ${IMMS[k % IMMS.length]} goto ${to}`,
      );
      lines.push(
        `if w${reg()} ${o} w${reg()} goto ${to}`,
        `if w${reg()} ${o} ${IMMS[(k + 3) % IMMS.length]} goto ${to}`,
      );
    }
  }
  lines.push("goto +0", "goto +7", "goto -2", "call 1", "call 6", "call 130", "call -1", "exit");
  for (const off of [0, 8, -16]) {
    const at = off < 0 ? `r${reg()} - ${-off}` : `r${reg()} + ${off}`;
    lines.push(`lock *(u64 *)(${at}) += r${reg()}`, `lock *(u32 *)(${at}) += w${reg()}`);
    lines.push(`lock *(u64 *)(${at}) &= r${reg()}`, `lock *(u64 *)(${at}) |= r${reg()}`);
    lines.push(`lock *(u64 *)(${at}) ^= r${reg()}`);
  }
  return lines;
}

function inlineAsmSource(lines: string[]): string {
  const body = lines.map((l) => `    "${l}\\n"`).join("\n");
  // Jumps in the asm may point past the end; the trailing exits keep every target inside.
  return `void all_forms(void) {\n  asm volatile(\n${body}\n    "exit\\n" "exit\\n" "exit\\n" "exit\\n" "exit\\n" "exit\\n" "exit\\n" "exit\\n");\n}\n`;
}

describe.skipIf(!hasClang)("disassembly equals llvm-objdump on clang 14 objects", () => {
  if (!hasClang) console.log("skipped: clang or llvm-objdump not installed");

  it("inline asm: every instruction form clang 14 assembles", () => {
    const lines = inlineAsmLines();
    const count = withTmp((dir) =>
      checkObject(dir, compileBpf(dir, "forms", inlineAsmSource(lines), ["-mcpu=v3"])),
    );
    expect(count).toBe(lines.length + 8 + 1);
  });

  for (const file of ["alu", "tracing", "atomics", "skb"]) {
    for (const cpu of ["v1", "v2", "v3"]) {
      it(`${file}.c at -mcpu=${cpu}`, () => {
        const source = readFileSync(join(C_DIR, `${file}.c`), "utf8");
        const flags = [`-mcpu=${cpu}`, "-D__TARGET_ARCH_x86", `-DCPU_${cpu.toUpperCase()}`, "-g"];
        const count = withTmp((dir) => checkObject(dir, compileBpf(dir, file, source, flags)));
        expect(count).toBeGreaterThan(10);
      });
    }
  }

  it("compared hundreds of distinct instruction lines", () => {
    console.log(
      `compared ${seen.lines} objdump lines, ${seen.distinct.size} distinct instruction texts`,
    );
    expect(seen.distinct.size).toBeGreaterThan(800);
  });
});

// ---------------------------------------------------------------------------------------------
// Random valid instructions: a seeded PRNG picks every opcode LLVM 14 decodes with random
// registers, offsets and immediates.

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomProgram(seed: number, count: number): Insn[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const reg = (): number => Math.floor(rnd() * 11);
  const imm = (): number =>
    pick([
      () => 0,
      () => Math.floor(rnd() * 64),
      () => (rnd() * 2 ** 32) | 0,
      () => -Math.floor(rnd() * 100),
    ])();
  const off = (): number => pick([0, 1, -1, 8, -8, 32767, -32768, ((rnd() * 65536) << 16) >> 16]);
  const alu = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0];
  const jmp = [0x10, 0x20, 0x30, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
  const forms: (() => Insn[])[] = [
    () => [{ code: pick([0x04, 0x07]) | pick(alu), dst: reg(), src: 0, off: 0, imm: imm() }],
    () => [{ code: pick([0x0c, 0x0f]) | pick(alu), dst: reg(), src: reg(), off: 0, imm: 0 }],
    () => [{ code: pick([0x84, 0x87]), dst: reg(), src: 0, off: 0, imm: 0 }],
    () => [{ code: pick([0xd4, 0xdc]), dst: reg(), src: 0, off: 0, imm: pick([16, 32, 64]) }],
    () => [{ code: pick([0x61, 0x69, 0x71, 0x79]), dst: reg(), src: reg(), off: off(), imm: 0 }],
    () => [{ code: pick([0x63, 0x6b, 0x73, 0x7b]), dst: reg(), src: reg(), off: off(), imm: 0 }],
    () => [
      {
        code: 0xc3,
        dst: reg(),
        src: reg(),
        off: off(),
        imm: pick([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]),
      },
    ],
    () => [
      {
        code: 0xdb,
        dst: reg(),
        src: reg(),
        off: off(),
        imm: pick([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]),
      },
    ],
    () => [
      { code: 0x18, dst: reg(), src: 0, off: 0, imm: imm() },
      { code: 0, dst: 0, src: 0, off: 0, imm: imm() },
    ],
    () => [{ code: pick([0x20, 0x28, 0x30]), dst: 0, src: 0, off: 0, imm: imm() }],
    () => [{ code: pick([0x40, 0x48, 0x50]), dst: 0, src: reg(), off: 0, imm: 0 }],
    () => [{ code: pick([0x05, 0x06]) | pick(jmp), dst: reg(), src: 0, off: off(), imm: imm() }],
    () => [{ code: pick([0x0d, 0x0e]) | pick(jmp), dst: reg(), src: reg(), off: off(), imm: 0 }],
    () => [{ code: 0x05, dst: 0, src: 0, off: off(), imm: 0 }],
    () => [{ code: 0x85, dst: 0, src: pick([0, 1]), off: 0, imm: imm() }],
    () => [{ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 }],
  ];
  const insns: Insn[] = [];
  while (insns.length < count) insns.push(...pick(forms)());
  return insns;
}

describe.skipIf(!hasLlvmMc)("disassembly equals llvm-objdump on random valid instructions", () => {
  if (!hasLlvmMc) console.log("skipped: llvm-mc / llvm-objdump not installed");
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 1500 slots`, () => {
      const insns = randomProgram(seed, 1500);
      const bytes = encodeProgram(insns);
      const plain = objdumpBytes(bytes);
      const alu32 = objdumpBytes(bytes, ["--mattr=+alu32"]);
      expect(plain.length).toBe(alu32.length);
      const expected = plain.map((line, i) => checkLine(line, alu32[i]));
      const lines = formatObjdump(insns, { label: (t) => `.text+0x${(t * 8).toString(16)}` });
      // objdump prints targets before the section as 64-bit wrapped addresses; compare the rest.
      const wrapped = (l: string): boolean =>
        /<\.text\+0x[0-9a-f]{16}>$/.test(l) || /\+0x-/.test(l);
      const keep = (k: number): boolean => !wrapped(expected[k]!) && !wrapped(lines[k]!);
      const ours = lines.filter((_, k) => keep(k));
      expect(ours).toEqual(expected.filter((_, k) => keep(k)));
      expect(ours.length).toBeGreaterThan(plain.length * 0.8);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Forms LLVM 14 prints as <unknown> or misreads: the syntax of LLVM's current BPFInstrInfo.td.

describe("cpu v4 and other forms in newer LLVM syntax", () => {
  const cases: [string, string][] = [
    ["sdiv %r1, %r2", "r1 s/= r2"],
    ["sdiv32 %r1, -3", "w1 s/= -3"],
    ["smod %r1, 3", "r1 s%= 3"],
    ["smod32 %r4, %r5", "w4 s%= w5"],
    ["mod %r1, %r2", "r1 %= r2"],
    ["mod32 %r1, 10", "w1 %= 10"],
    ["movsx864 %r1, %r2", "r1 = (s8)r2"],
    ["movsx1664 %r1, %r2", "r1 = (s16)r2"],
    ["movsx3264 %r1, %r2", "r1 = (s32)r2"],
    ["movsx832 %r1, %r2", "w1 = (s8)w2"],
    ["movsx1632 %r1, %r2", "w1 = (s16)w2"],
    ["ldxsb %r1, [%r2]", "r1 = *(s8 *)(r2 + 0)"],
    ["ldxsh %r1, [%r2-2]", "r1 = *(s16 *)(r2 - 2)"],
    ["ldxsw %r1, [%r10+8]", "r1 = *(s32 *)(r10 + 8)"],
    ["bswap16 %r1", "r1 = bswap16 r1"],
    ["bswap32 %r1", "r1 = bswap32 r1"],
    ["bswap64 %r1", "r1 = bswap64 r1"],
    ["ja32 +5", "gotol +5"],
    ["ja32 -70000", "gotol -70000"],
    ["callx %r2", "callx r2"],
    ["jset %r1, %r2, +1", "if r1 & r2 goto +1"],
    ["jset32 %r1, 0x80, -2", "if w1 & 128 goto -2"],
    ["stw [%r1+0], 5", "*(u32 *)(r1 + 0) = 5"],
    ["stdw [%r10-8], -1", "*(u64 *)(r10 - 8) = -1"],
    ["stb [%r1-1], 0xff", "*(u8 *)(r1 - 1) = 255"],
    ["sth [%r2+2], 0x1234", "*(u16 *)(r2 + 2) = 4660"],
    ["lock fetch xor32 [%r1+4], %r3", "w3 = atomic_fetch_xor((u32 *)(r1 + 4), w3)"],
    ["lock cmpxchg32 [%r1], %r3", "w0 = cmpxchg32_32(r1 + 0, w0, w3)"],
    ["lock xchg32 [%r1], %r3", "w3 = xchg32_32(r1 + 0, w3)"],
    ["lock or32 [%r1], %r3", "lock *(u32 *)(r1 + 0) |= w3"],
  ];
  for (const [src, text] of cases) {
    it(`${src} -> ${text}`, () => expect(disassemble(assemble(src), 0)).toBe(text));
  }

  it("prints <unknown> for bytes no instruction has", () => {
    const unknown: Insn[] = [
      { code: 0x8e, dst: 0, src: 0, off: 0, imm: 0 },
      { code: 0x3f, dst: 1, src: 2, off: 2, imm: 0 }, // div with off 2
      { code: 0xd4, dst: 1, src: 0, off: 0, imm: 8 }, // le8
      { code: 0xdf, dst: 1, src: 0, off: 0, imm: 16 }, // bswap with X
      { code: 0xdb, dst: 1, src: 2, off: 0, imm: 0x02 }, // bad atomic op
      { code: 0x99, dst: 1, src: 2, off: 0, imm: 0 }, // ldxsdw
      { code: 0x18, dst: 1, src: 0, off: 0, imm: 0 }, // truncated lddw
    ];
    for (let i = 0; i < unknown.length; i++)
      expect(disassemble(unknown, i), `#${i}`).toBe("<unknown>");
  });
});
