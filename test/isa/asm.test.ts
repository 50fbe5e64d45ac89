// The assembler against real data: every conformance vector assembles, the one vector with a
// `-- raw` section matches it word for word, and each mnemonic encodes to the bytes llvm-mc
// produces for the same instruction in LLVM syntax. Forms LLVM 14 cannot assemble (cpu v4,
// store-immediate, fetch atomics, callx, pseudo calls) are checked against the RFC 9669 encodings.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AsmError, assemble } from "../../runtime/isa/asm.js";
import { encodeProgram } from "../../runtime/isa/codec.js";
import { TsbpfError } from "../../runtime/error.js";
import { hasLlvmMc, hex, llvmMcBytes } from "./tools.js";

// The shared data lives beside the repository (../shared), wherever it is cloned.
const CONFORMANCE = join(import.meta.dirname, "..", "..", "..", "shared", "conformance");

function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name = "";
  for (const line of text.split("\n")) {
    const m = /^-- (.*)$/.exec(line);
    if (m) {
      name = m[1]!.trim();
      out.set(name, "");
    } else if (name) {
      out.set(name, out.get(name)! + line + "\n");
    }
  }
  return out;
}

function vectors(): { file: string; asm: string; raw?: string }[] {
  return readdirSync(CONFORMANCE)
    .filter((f) => f.endsWith(".data"))
    .sort()
    .map((f) => {
      const s = sections(readFileSync(join(CONFORMANCE, f), "utf8"));
      return { file: f, asm: s.get("asm") ?? "", raw: s.get("raw") };
    });
}

describe("conformance vectors", () => {
  const all = vectors();

  it("finds all 313 vectors", () => {
    expect(all.length).toBe(313);
  });

  it("assembles every vector's asm section", () => {
    let slots = 0;
    for (const v of all) {
      const insns = assemble(v.asm, v.file);
      expect(insns.length, v.file).toBeGreaterThan(0);
      slots += insns.length;
    }
    expect(slots).toBeGreaterThan(2500);
  });

  it("matches the -- raw words of lddw.data", () => {
    const withRaw = all.filter((v) => v.raw !== undefined);
    expect(withRaw.map((v) => v.file)).toEqual(["lddw.data"]);
    for (const v of withRaw) {
      const words = v.raw!.trim().split(/\s+/);
      const bytes = encodeProgram(assemble(v.asm, v.file));
      const view = new DataView(bytes.buffer);
      const ours = words.map(
        (_, i) =>
          "0x" +
          view
            .getBigUint64(i * 8, true)
            .toString(16)
            .padStart(16, "0"),
      );
      expect(ours).toEqual(words);
      expect(bytes.length).toBe(words.length * 8);
    }
  });

  it("resolves labels, the implicit `exit` label and local calls pc-relatively", () => {
    const p = assemble(
      [
        "mov %r0, 0",
        "jne %r0, 0, exit",
        "lddw %r1, 1",
        "call local f",
        "exit",
        "f:",
        "ja -2",
        "ja32 f",
      ].join("\n"),
    );
    expect(p[1]).toMatchObject({ code: 0x55, off: 3 }); // to slot 5 (exit), lddw is two slots
    expect(p[4]).toMatchObject({ code: 0x85, src: 1, imm: 1 }); // call local f: slot 6
    expect(p[6]).toMatchObject({ code: 0x05, off: -2 });
    expect(p[7]).toMatchObject({ code: 0x06, imm: -2 });
  });
});

// uBPF syntax on the left, the same instruction in LLVM's syntax on the right.
const ALU: [string, string][] = [
  ["add", "+="],
  ["sub", "-="],
  ["mul", "*="],
  ["div", "/="],
  ["or", "|="],
  ["and", "&="],
  ["lsh", "<<="],
  ["rsh", ">>="],
  ["xor", "^="],
  ["mov", "="],
  ["arsh", "s>>="],
];
const JUMPS: [string, string][] = [
  ["jeq", "=="],
  ["jgt", ">"],
  ["jge", ">="],
  ["jne", "!="],
  ["jsgt", "s>"],
  ["jsge", "s>="],
  ["jlt", "<"],
  ["jle", "<="],
  ["jslt", "s<"],
  ["jsle", "s<="],
];
const SIZES: [string, string][] = [
  ["b", "u8"],
  ["h", "u16"],
  ["w", "u32"],
  ["dw", "u64"],
];

function pairs(): [string, string][] {
  const p: [string, string][] = [];
  for (const [m, o] of ALU) {
    p.push(
      [`${m} %r1, %r2`, `r1 ${o} r2`],
      [`${m} %r3, 7`, `r3 ${o} 7`],
      [`${m} %r9, -1`, `r9 ${o} -1`],
    );
    p.push([`${m}32 %r1, %r10`, `w1 ${o} w10`], [`${m}32 %r0, 0x7fffffff`, `w0 ${o} 2147483647`]);
    p.push([`${m}64 %r5, %r6`, `r5 ${o} r6`]);
  }
  p.push(["neg %r4", "r4 = -r4"], ["neg32 %r4", "w4 = -w4"]);
  for (const b of [16, 32, 64])
    p.push([`le${b} %r1`, `r1 = le${b} r1`], [`be${b} %r7`, `r7 = be${b} r7`]);
  for (const [s, t] of SIZES) {
    const w = s === "dw" ? "r" : "w";
    p.push([`ldx${s} %r0, [%r1+4]`, `${w}0 = *(${t} *)(r1 + 4)`]);
    p.push([`ldx${s} %r3, [%r10-8]`, `${w}3 = *(${t} *)(r10 - 8)`]);
    p.push([`ldx${s} %r3, [%r2]`, `${w}3 = *(${t} *)(r2 + 0)`]);
    p.push([`stx${s} [%r10-16], %r1`, `*(${t} *)(r10 - 16) = ${w}1`]);
    p.push([`stx${s} [%r1+0x7fff], %r9`, `*(${t} *)(r1 + 32767) = ${w}9`]);
  }
  p.push(["lddw %r1, 0x1111111111111111", "r1 = 0x1111111111111111 ll"]);
  p.push(["lddw %r0, -1", "r0 = -1 ll"], ["lddw %r9, 0xffffffff80000000", "r9 = -2147483648 ll"]);
  p.push(["ldabsb 4", "r0 = *(u8 *)skb[4]"], ["ldabsh 8", "r0 = *(u16 *)skb[8]"]);
  p.push(["ldabsw 12", "r0 = *(u32 *)skb[12]"], ["ldindb %r1, 0", "r0 = *(u8 *)skb[r1]"]);
  p.push(["ldindh %r2, 0", "r0 = *(u16 *)skb[r2]"], ["ldindw %r3, 0", "r0 = *(u32 *)skb[r3]"]);
  for (const [m, o] of JUMPS) {
    p.push(
      [`${m} %r1, %r2, +3`, `if r1 ${o} r2 goto +3`],
      [`${m} %r1, -5, -3`, `if r1 ${o} -5 goto -3`],
    );
    p.push(
      [`${m}32 %r1, %r2, +0`, `if w1 ${o} w2 goto +0`],
      [`${m}32 %r4, 77, +1`, `if w4 ${o} 77 goto +1`],
    );
  }
  p.push(["ja +2", "goto +2"], ["ja -1", "goto -1"], ["call 5", "call 5"], ["exit", "exit"]);
  for (const [m, o] of [
    ["add", "+="],
    ["and", "&="],
    ["or", "|="],
    ["xor", "^="],
  ]) {
    p.push([`lock ${m} [%r10-8], %r1`, `lock *(u64 *)(r10 - 8) ${o} r1`]);
    p.push([`lock ${m}32 [%r2+4], %r3`, `lock *(u32 *)(r2 + 4) ${o} w3`]);
  }
  return p;
}

describe.skipIf(!hasLlvmMc)("encodings equal llvm-mc's", () => {
  if (!hasLlvmMc) console.log("skipped: llvm-mc / llvm-objdump / llvm-objcopy not installed");
  const table = pairs();

  it(`encodes ${table.length} instruction forms like llvm-mc`, () => {
    const expected = llvmMcBytes(table.map(([, llvm]) => llvm));
    let at = 0;
    for (const [ubpf, llvm] of table) {
      const ours = encodeProgram(assemble(ubpf));
      const theirs = expected.subarray(at, at + ours.length);
      expect(hex(ours), `${ubpf}  (llvm: ${llvm})`).toBe(hex(theirs));
      at += ours.length;
    }
    expect(at).toBe(expected.length);
  });

  it("resolves labels like llvm-mc", () => {
    const ours = assemble(
      [
        "top:",
        "mov %r0, 0",
        "jeq %r1, 0, out",
        "lddw %r2, 5",
        "ja top",
        "out:",
        "jslt32 %r0, %r1, top",
        "exit",
      ].join("\n"),
    );
    const theirs = llvmMcBytes([
      "top:",
      "r0 = 0",
      "if r1 == 0 goto out",
      "r2 = 5 ll",
      "goto top",
      "out:",
      "if w0 s< w1 goto top",
      "exit",
    ]);
    expect(hex(encodeProgram(ours))).toBe(hex(theirs));
  });
});

describe("forms LLVM 14 cannot assemble, against RFC 9669 encodings", () => {
  const cases: [string, string][] = [
    ["stb [%r1+2], 0x11", "72 01 02 00 11 00 00 00"],
    ["sth [%r1-2], -1", "6a 01 fe ff ff ff ff ff"],
    ["stw [%r10-4], 0x80000001", "62 0a fc ff 01 00 00 80"],
    ["stdw [%r0], 0x1234", "7a 00 00 00 34 12 00 00"],
    ["lock fetch add [%r10-8], %r1", "db 1a f8 ff 01 00 00 00"],
    ["lock fetch and32 [%r10-8], %r1", "c3 1a f8 ff 51 00 00 00"],
    ["lock fetch or [%r0+0], %r2", "db 20 00 00 41 00 00 00"],
    ["lock fetch xor32 [%r0+0], %r2", "c3 20 00 00 a1 00 00 00"],
    ["lock xchg [%r10-8], %r1", "db 1a f8 ff e1 00 00 00"],
    ["lock xchg32 [%r10-8], %r1", "c3 1a f8 ff e1 00 00 00"],
    ["lock cmpxchg [%r10-8], %r1", "db 1a f8 ff f1 00 00 00"],
    ["lock cmpxchg32 [%r10-8], %r1", "c3 1a f8 ff f1 00 00 00"],
    ["sdiv %r1, %r2", "3f 21 01 00 00 00 00 00"],
    ["sdiv32 %r1, -3", "34 01 01 00 fd ff ff ff"],
    ["smod %r1, 3", "97 01 01 00 03 00 00 00"],
    ["smod32 %r1, %r2", "9c 21 01 00 00 00 00 00"],
    ["movsx864 %r0, %r1", "bf 10 08 00 00 00 00 00"],
    ["movsx1664 %r0, %r1", "bf 10 10 00 00 00 00 00"],
    ["movsx3264 %r0, %r1", "bf 10 20 00 00 00 00 00"],
    ["movsx832 %r2, %r1", "bc 12 08 00 00 00 00 00"],
    ["movsx1632 %r4, %r3", "bc 34 10 00 00 00 00 00"],
    ["ldxsb %r0, [%r10-1]", "91 a0 ff ff 00 00 00 00"],
    ["ldxsh %r0, [%r10-2]", "89 a0 fe ff 00 00 00 00"],
    ["ldxsw %r0, [%r10-4]", "81 a0 fc ff 00 00 00 00"],
    ["bswap16 %r0", "d7 00 00 00 10 00 00 00"],
    ["swap32 %r0", "d7 00 00 00 20 00 00 00"],
    ["bswap64 %r3", "d7 03 00 00 40 00 00 00"],
    ["ja32 +1", "06 00 00 00 01 00 00 00"],
    ["gotol -70000", "06 00 00 00 90 ee fe ff"],
    ["call %r2", "8d 02 00 00 00 00 00 00"],
    ["callx %r9", "8d 09 00 00 00 00 00 00"],
    ["call local +3", "85 10 00 00 03 00 00 00"],
    ["call helper 6", "85 00 00 00 06 00 00 00"],
    ["call runtime 1234", "85 20 00 00 d2 04 00 00"],
    ["ldindb %r1, 4", "50 10 00 00 04 00 00 00"],
    // LLVM 14's assembler cannot parse `%=` or `&` in jumps; its disassembler prints them.
    ["mod %r1, %r2", "9f 21 00 00 00 00 00 00"],
    ["mod32 %r1, 7", "94 01 00 00 07 00 00 00"],
    ["jset %r1, %r2, +3", "4d 21 03 00 00 00 00 00"],
    ["jset32 %r1, 0x80, -1", "46 01 ff ff 80 00 00 00"],
    ["MOV32 r0, 1", "b4 00 00 00 01 00 00 00"],
    ["add32 %r0, 0xffffffff # comment", "04 00 00 00 ff ff ff ff"],
  ];
  for (const [src, bytes] of cases) {
    it(src, () => expect(hex(encodeProgram(assemble(src)))).toBe(bytes));
  }
});

describe("errors name file:line:col and the reason", () => {
  const bad: [string, string][] = [
    ["mov %r0, 0\nfrob %r1, 2", "t.s:2:1: unknown mnemonic 'frob'"],
    ["mov %r11, 0", "t.s:1:5: bad register r11 (r0-r10)"],
    ["mov %rx, 0", "t.s:1:5: bad register '%rx'"],
    ["add32 %r0, 0x100000000", "t.s:1:12: immediate 4294967296 out of range for 32 bits"],
    ["add %r0, -2147483649", "t.s:1:10: immediate -2147483649 out of range for 32 bits"],
    ["ldxw %r0, [%r1+32768]", "t.s:1:11: offset 32768 out of range (-32768..32767)"],
    ["  ja nowhere", "t.s:1:6: undefined label 'nowhere'"],
    ["a:\na:\nexit", "t.s:2:1: duplicate label 'a'"],
    ["mov %r0", "t.s:1:1: 'mov' takes dst, src|imm"],
    ["exit %r0", "t.s:1:6: 'exit' takes no operands"],
    ["ldxw %r0, %r1", "t.s:1:11: memory operand [%rN+off] expected"],
    ["ldxw %r0, [%r1+4", "t.s:1:11: ']' expected to close the memory operand"],
    ["lock nand [%r1], %r2", "t.s:1:6: unknown atomic operation 'nand'"],
    [
      "lddw %r1, 0x10000000000000000",
      "t.s:1:11: immediate 18446744073709551616 out of range for 64 bits",
    ],
    ["mov %r0, 12ab", "t.s:1:10: bad number '12ab'"],
    ["mov %r0 @ 1", "t.s:1:9: unexpected character '@'"],
    ["mov %r0 %r1", "t.s:1:9: ',' expected before '%r1' (operand at column 5)"],
    ["jeq %r0, %r1, %r2", "t.s:1:15: jump target (label or +offset) expected"],
    ["movsx3232 %r0, %r1", "t.s:1:1: unknown mnemonic 'movsx3232'"],
  ];
  for (const [src, message] of bad) {
    it(message, () => {
      let err: unknown;
      try {
        assemble(src, "t.s");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AsmError);
      expect(err).toBeInstanceOf(TsbpfError);
      expect((err as Error).message).toBe(message);
    });
  }
});
