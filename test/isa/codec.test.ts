// Decoding, encoding and structural validation. Oracles: the running kernel's verifier (each
// malformed program we reject, it rejects for the same reason; its opcode table is ours),
// clang 14's objects (every program it builds validates, after linking its calls the way a
// loader does), and the 313 conformance vectors (all valid).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble } from "../../runtime/isa/asm.js";
import {
  IsaError,
  decodeInsn,
  decodeProgram,
  encodeInsn,
  encodeProgram,
  lddwImm,
  opcodeInfo,
  validOpcodes,
  validateProgram,
} from "../../runtime/isa/codec.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { TsbpfError } from "../../runtime/error.js";
import {
  compileBpf,
  hasClang,
  hex,
  kernelVerdicts,
  sectionBytes,
  symbols,
  withTmp,
} from "./tools.js";

// The shared data lives beside the repository (../shared), wherever it is cloned.
const CONFORMANCE = join(import.meta.dirname, "..", "..", "..", "shared", "conformance");

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("decode and encode", () => {
  it("decodes the fields of struct bpf_insn, little endian, signed off and imm", () => {
    const bytes = new Uint8Array([
      0x18, 0xa1, 0xfe, 0xff, 0x88, 0x77, 0x66, 0x85, 0, 0, 0, 0, 0x44, 0x33, 0x22, 0x11,
    ]);
    const [first, second] = decodeProgram(bytes);
    expect(first).toEqual({ code: 0x18, dst: 1, src: 10, off: -2, imm: 0x85667788 | 0 });
    expect(second).toEqual({ code: 0, dst: 0, src: 0, off: 0, imm: 0x11223344 });
    expect(lddwImm([first!, second!], 0)).toEqual({ lo: 0x85667788, hi: 0x11223344 });
    expect(hex(encodeProgram([first!, second!]))).toBe(hex(bytes));
    expect(decodeInsn(bytes, 8)).toEqual(second);
    expect(hex(encodeInsn(first!))).toBe(hex(bytes.subarray(0, 8)));
  });

  it("rejects byte code whose length is not a multiple of 8", () => {
    for (const n of [1, 7, 9, 15, 17]) {
      const e = thrown(() => decodeProgram(new Uint8Array(n)));
      expect(e).toBeInstanceOf(IsaError);
      expect(e).toBeInstanceOf(TsbpfError);
      expect((e as IsaError).index).toBe(Math.floor(n / 8));
      expect((e as Error).message).toBe(
        `insn ${Math.floor(n / 8)}: byte code length ${n} is not a multiple of 8 (truncated instruction)`,
      );
    }
  });

  it("lddwImm names the slot when it is not an lddw or is truncated", () => {
    const p = assemble("lddw %r1, 5\nexit");
    expect((thrown(() => lddwImm(p, 2)) as IsaError).message).toBe(
      "insn 2: not an lddw instruction",
    );
    expect((thrown(() => lddwImm(p.slice(0, 1), 0)) as IsaError).message).toBe(
      "insn 0: truncated lddw (no second slot)",
    );
  });
});

describe("conformance vectors", () => {
  it("all 313 validate", () => {
    const files = readdirSync(CONFORMANCE).filter((f) => f.endsWith(".data"));
    expect(files.length).toBe(313);
    for (const f of files) {
      const text = readFileSync(join(CONFORMANCE, f), "utf8");
      const asm = /^-- asm\n([\s\S]*?)(?=^-- )/m.exec(text)![1]!;
      const insns = assemble(asm, f);
      expect(() => validateProgram(insns), f).not.toThrow();
      // Byte code round trip.
      expect(decodeProgram(encodeProgram(insns))).toEqual(insns);
    }
  });

  it("reports the subprograms of a program with local calls", () => {
    const text = readFileSync(join(CONFORMANCE, "call_local.data"), "utf8");
    const insns = assemble(/^-- asm\n([\s\S]*?)(?=^-- )/m.exec(text)![1]!);
    expect(validateProgram(insns).subprogs).toEqual([0, 20]);
  });
});

// ---------------------------------------------------------------------------------------------
// Linking clang's calls the way a loader does: a program is its section followed by .text, each
// R_BPF_64_32 call (readelf: R_BPF_INSN_DISP32) retargeted at the callee's copy in .text. The
// callee is the symbol's slot plus imm + 1 (clang 14 relocates against the .text section symbol).

interface Reloc {
  offset: number;
  type: string;
  value: number;
  symbol: string;
}

function relocations(object: string): Map<string, Reloc[]> {
  const out = execFileSync("readelf", ["-rW", object], { encoding: "utf8" });
  const bySection = new Map<string, Reloc[]>();
  let current: Reloc[] = [];
  for (const line of out.split("\n")) {
    const header = /^Relocation section '\.rel(.*)'/.exec(line);
    if (header) bySection.set(header[1]!, (current = []));
    const m = /^([0-9a-f]{16})\s+[0-9a-f]+\s+(\S+)\s+([0-9a-f]+)\s+(\S+)/.exec(line);
    if (m)
      current.push({
        offset: parseInt(m[1]!, 16),
        type: m[2]!,
        value: parseInt(m[3]!, 16),
        symbol: m[4]!,
      });
  }
  return bySection;
}

function linkedPrograms(dir: string, object: string): Map<string, Insn[]> {
  const syms = symbols(object);
  const relocs = relocations(object);
  const text = syms.some((s) => s.section === ".text" && s.flags.includes("F"))
    ? decodeProgram(sectionBytes(dir, object, ".text"))
    : [];
  const programs = new Map<string, Insn[]>();
  const sections = new Set(syms.filter((s) => s.flags.includes("F")).map((s) => s.section));
  for (const section of sections) {
    const own = section === ".text" ? [] : decodeProgram(sectionBytes(dir, object, section));
    const insns = [...own, ...text.map((i) => ({ ...i }))];
    const patch = (rs: Reloc[], base: number): void => {
      for (const r of rs.filter(
        (r) => r.type === "R_BPF_64_32" || r.type === "R_BPF_INSN_DISP32",
      )) {
        const at = base + r.offset / 8;
        const callee = own.length + r.value / 8 + insns[at]!.imm + 1;
        insns[at]!.imm = callee - (at + 1);
      }
    };
    patch(relocs.get(section) ?? [], 0);
    if (section !== ".text") patch(relocs.get(".text") ?? [], own.length);
    programs.set(section, insns);
  }
  return programs;
}

describe.skipIf(!hasClang)("clang 14 objects validate", () => {
  if (!hasClang) console.log("skipped: clang not installed");
  for (const file of ["alu", "tracing", "atomics", "skb"]) {
    for (const cpu of ["v1", "v2", "v3"]) {
      it(`${file}.c at -mcpu=${cpu}`, () => {
        const source = readFileSync(join(import.meta.dirname, "c", `${file}.c`), "utf8");
        const flags = [`-mcpu=${cpu}`, "-D__TARGET_ARCH_x86", `-DCPU_${cpu.toUpperCase()}`];
        withTmp((dir) => {
          const programs = linkedPrograms(dir, compileBpf(dir, file, source, flags));
          expect(programs.size).toBeGreaterThan(0);
          for (const [section, insns] of programs) {
            const shape = validateProgram(insns);
            // The kprobe calls two static functions in .text: three subprograms.
            if (section === "kprobe/tcp_sendmsg") expect(shape.subprogs.length, section).toBe(3);
          }
        });
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Malformed programs: our error (index and reason) and the kernel verifier's verdict.

const exit: Insn = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const mov0: Insn = { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 };
const raw = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

interface Bad {
  name: string;
  insns: Insn[];
  message: string;
  /** what the kernel verifier log says about it */
  kernel: RegExp;
}

const BAD: Bad[] = [
  { name: "empty program", insns: [], message: "insn 0: empty program", kernel: /errno=7/ },
  {
    name: "unknown opcode",
    insns: [mov0, raw(0x8e), exit],
    message: "insn 1: unknown opcode 0x8e",
    kernel: /unknown opcode 8e/,
  },
  {
    name: "unknown opcode ldxdw sign-extending",
    insns: [mov0, raw(0x99, 1, 10, -8), exit],
    message: "insn 1: unknown opcode 0x99",
    kernel: /unknown opcode 99/,
  },
  {
    name: "callx, with the kernel's rules",
    insns: [mov0, raw(0x8d, 1), exit],
    message: "insn 1: unknown opcode 0x8d",
    kernel: /unknown opcode 8d/,
  },
  {
    name: "bad dst register",
    insns: [raw(0xb7, 11), exit],
    message: "insn 0: mov: bad register r11 in dst_reg",
    kernel: /R11 is invalid/,
  },
  {
    name: "bad src register",
    insns: [mov0, raw(0xbf, 1, 12), exit],
    message: "insn 1: mov: bad register r12 in src_reg",
    kernel: /R12 is invalid/,
  },
  {
    name: "ALU K with src_reg",
    insns: [mov0, raw(0x07, 0, 1, 0, 1), exit],
    message: "insn 1: add: reserved field src_reg is 1, must be 0",
    kernel: /BPF_ALU uses reserved fields/,
  },
  {
    name: "ALU X with imm",
    insns: [mov0, raw(0x0f, 0, 0, 0, 1), exit],
    message: "insn 1: add: reserved field imm is 1, must be 0",
    kernel: /BPF_ALU uses reserved fields/,
  },
  {
    name: "sdiv with off 2",
    insns: [mov0, raw(0x37, 0, 0, 2, 3), exit],
    message: "insn 1: div: invalid off 2",
    kernel: /BPF_ALU uses reserved fields/,
  },
  {
    name: "movsx32 from 32 bits",
    insns: [mov0, raw(0xbc, 0, 0, 32), exit],
    message: "insn 1: mov32: invalid off 32",
    kernel: /BPF_MOV uses reserved fields/,
  },
  {
    name: "mov K with off",
    insns: [raw(0xb7, 0, 0, 8), exit],
    message: "insn 0: mov: invalid off 8",
    kernel: /BPF_MOV uses reserved fields/,
  },
  {
    name: "neg with imm",
    insns: [mov0, raw(0x87, 0, 0, 0, 1), exit],
    message: "insn 1: neg: reserved field imm is 1, must be 0",
    kernel: /BPF_NEG uses reserved fields/,
  },
  {
    name: "byte swap width 8",
    insns: [mov0, raw(0xd4, 0, 0, 0, 8), exit],
    message: "insn 1: le: invalid byte swap width 8 (16, 32 or 64)",
    kernel: /BPF_END uses reserved fields/,
  },
  {
    name: "ldx with imm",
    insns: [mov0, raw(0x79, 0, 10, -8, 1), exit],
    message: "insn 1: ldxdw: reserved field imm is 1, must be 0",
    kernel: /BPF_LDX uses reserved fields/,
  },
  {
    name: "st with src_reg",
    insns: [raw(0x7a, 10, 1, -8, 1), mov0, exit],
    message: "insn 0: stdw: reserved field src_reg is 1, must be 0",
    kernel: /BPF_ST uses reserved fields/,
  },
  {
    name: "stx with imm",
    insns: [mov0, raw(0x7b, 10, 0, -8, 1), exit],
    message: "insn 1: stxdw: reserved field imm is 1, must be 0",
    kernel: /BPF_STX uses reserved fields/,
  },
  {
    name: "bad atomic operation",
    insns: [mov0, raw(0xdb, 10, 0, -8, 0x02), exit],
    message: "insn 1: atomic: unknown atomic operation 0x02",
    kernel: /BPF_ATOMIC uses invalid atomic opcode 02/,
  },
  {
    name: "truncated lddw",
    insns: [mov0, raw(0x18, 1, 0, 0, 5)],
    message: "insn 1: truncated lddw: no second slot",
    kernel: /invalid bpf_ld_imm64 insn|last insn is not an exit or jmp/,
  },
  {
    name: "malformed lddw second slot",
    insns: [raw(0x18, 0, 0, 0, 5), raw(0xb7), exit],
    message: "insn 1: malformed lddw second slot: code, dst_reg, src_reg and off must be 0",
    kernel: /invalid bpf_ld_imm64 insn/,
  },
  {
    name: "lddw src_reg 7",
    insns: [raw(0x18, 0, 7, 0, 5), raw(0), exit],
    message: "insn 0: lddw: unknown src_reg 7 (pseudo values are 0-6)",
    kernel: /unrecognized bpf_ld_imm64 insn/,
  },
  {
    name: "lddw with off",
    insns: [raw(0x18, 0, 0, 1, 5), raw(0), exit],
    message: "insn 0: lddw: reserved field off is 1, must be 0",
    kernel: /BPF_LD_IMM64 uses reserved fields/,
  },
  {
    name: "ldabs with dst_reg",
    insns: [raw(0xbf, 6, 1), raw(0x30, 1, 0, 0, 4), exit],
    message: "insn 1: ldabsb: reserved field dst_reg is 1, must be 0",
    kernel: /BPF_LD_\[ABS\|IND\] uses reserved fields/,
  },
  {
    name: "ldabs 8 bytes",
    insns: [raw(0xbf, 6, 1), raw(0x38, 0, 0, 0, 4), exit],
    message: "insn 1: unknown opcode 0x38",
    kernel: /unknown opcode 38/,
  },
  {
    name: "ja with imm",
    insns: [raw(0x05, 0, 0, 0, 1), mov0, exit],
    message: "insn 0: ja: reserved field imm is 1, must be 0",
    kernel: /BPF_JA uses reserved fields/,
  },
  {
    name: "gotol with off",
    insns: [raw(0x06, 0, 0, 1, 0), mov0, exit],
    message: "insn 0: ja32: reserved field off is 1, must be 0",
    kernel: /BPF_JA uses reserved fields/,
  },
  {
    name: "jeq K with src_reg",
    insns: [mov0, raw(0x15, 0, 1, 0, 0), exit],
    message: "insn 1: jeq: reserved field src_reg is 1, must be 0",
    kernel: /BPF_JMP\/JMP32 uses reserved fields/,
  },
  {
    name: "jeq X with imm",
    insns: [mov0, raw(0x1d, 0, 0, 0, 1), exit],
    message: "insn 1: jeq: reserved field imm is 1, must be 0",
    kernel: /BPF_JMP\/JMP32 uses reserved fields/,
  },
  {
    name: "call with dst_reg",
    insns: [raw(0x85, 1, 0, 0, 5), exit],
    message: "insn 0: call: reserved field dst_reg is 1, must be 0",
    kernel: /BPF_CALL uses reserved fields/,
  },
  {
    name: "call src_reg 3",
    insns: [raw(0x85, 0, 3, 0, 5), exit],
    message: "insn 0: call: unknown src_reg 3",
    kernel: /BPF_CALL uses reserved fields/,
  },
  {
    name: "exit with imm",
    insns: [mov0, raw(0x95, 0, 0, 0, 1)],
    message: "insn 1: exit: reserved field imm is 1, must be 0",
    kernel: /BPF_EXIT uses reserved fields/,
  },
  {
    name: "jump past the end",
    insns: [mov0, raw(0x05, 0, 0, 1), exit],
    message: "insn 1: jump out of range: target 3 outside the program (0..2)",
    kernel: /jump out of range from insn 1 to 3/,
  },
  {
    name: "jump before the start",
    insns: [mov0, raw(0x15, 0, 0, -3), exit],
    message: "insn 1: jump out of range: target -1 outside the program (0..2)",
    kernel: /jump out of range from insn 1 to -1/,
  },
  {
    name: "gotol past the end",
    insns: [mov0, raw(0x06, 0, 0, 0, 5), exit],
    message: "insn 1: jump out of range: target 7 outside the program (0..2)",
    kernel: /jump out of range from insn 1 to 7/,
  },
  {
    name: "jump into an lddw",
    insns: [mov0, raw(0x15, 0, 0, 1), raw(0x18, 1), raw(0), exit],
    message: "insn 1: jump into the middle of the lddw at insn 2",
    kernel: /jump into the middle of ldimm64 insn 2/,
  },
  {
    name: "jump into another subprogram",
    insns: [mov0, raw(0x85, 0, 1, 0, 2), raw(0x05, 0, 0, 1), exit, mov0, exit],
    message: "insn 2: jump to insn 4 leaves its subprogram (insns 0..3)",
    kernel: /jump out of range from insn 2 to 4/,
  },
  {
    name: "call past the end",
    insns: [mov0, raw(0x85, 0, 1, 0, 5), exit],
    message: "insn 1: call target 7 outside the program (0..2)",
    kernel: /call to invalid destination|invalid destination/,
  },
  {
    name: "call into an lddw",
    insns: [mov0, raw(0x85, 0, 1, 0, 2), exit, raw(0x18), raw(0), exit],
    message: "insn 1: jump into the middle of the lddw at insn 3",
    // The kernel sees the same fault from the caller's side: its subprogram ends in the lddw.
    kernel: /last insn is not an exit or jmp/,
  },
  {
    name: "fall-through past the end",
    insns: [mov0, mov0],
    message: "insn 1: fall-through past the end: last insn is not an exit or jump",
    kernel: /last insn is not an exit or jmp/,
  },
  {
    name: "program ends in an lddw",
    insns: [mov0, raw(0x18), raw(0)],
    message: "insn 1: fall-through past the end: last insn is not an exit or jump",
    kernel: /last insn is not an exit or jmp/,
  },
  {
    name: "subprogram falls into the next",
    insns: [mov0, raw(0x85, 0, 1, 0, 1), mov0, mov0, exit],
    message: "insn 2: fall-through past the end: last insn is not an exit or jump",
    kernel: /last insn is not an exit or jmp/,
  },
];

describe("malformed programs are IsaErrors naming the slot and the reason", () => {
  for (const bad of BAD) {
    it(bad.name, () => {
      const opts = bad.name.includes("kernel's rules") ? { callx: false } : {};
      const e = thrown(() => validateProgram(bad.insns, opts));
      expect(e).toBeInstanceOf(IsaError);
      expect((e as Error).message).toBe(bad.message);
      expect((e as IsaError).index).toBe(Number(/^insn (\d+)/.exec(bad.message)![1]));
    });
  }
});

const verdicts =
  kernelVerdicts([]) === undefined
    ? undefined
    : kernelVerdicts(BAD.map((b) => encodeProgram(b.insns)));

describe.skipIf(!verdicts)("the kernel verifier rejects each of them for the same reason", () => {
  if (!verdicts) console.log("skipped: not root, no C compiler, or the bpf() syscall is closed");
  BAD.forEach((bad, i) => {
    it(bad.name, () => {
      expect(verdicts![i]).toMatch(/^REJECT /);
      expect(verdicts![i]).toMatch(bad.kernel);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The opcode table against the kernel's: a canonical instruction of every opcode byte.

function canonical(code: number): Insn[] {
  const info = opcodeInfo(code);
  const cls = code & 7;
  // Fields that keep every known instruction structurally valid.
  if (code === 0x18) return [raw(0x18, 0, 0, 0, 0), raw(0), exit];
  if ((code & 0xf0) === 0xd0 && (cls === 4 || cls === 7))
    return [mov0, raw(code, 0, 0, 0, 16), exit];
  if (code === 0xc3 || code === 0xdb) return [mov0, raw(code, 10, 0, -8, 0), exit];
  if (info?.kind === "ldx" || info?.kind === "stx") return [mov0, raw(code, 10, 0, -8), exit];
  if (info?.kind === "st") return [raw(code, 10, 0, -8, 0), mov0, exit];
  if (cls === 5 || cls === 6) return [mov0, raw(code, 0, 0, 0, 0), exit];
  return [mov0, raw(code, 0, 0, 0, 0), exit];
}

// Kernel extensions outside RFC 9669 and clang -mcpu=v4: may_goto (BPF_JMP | BPF_JCOND) and
// the 8/16-bit atomics load-acquire/store-release use; and callx, which the conformance suite
// has and the kernel lacks.
const KERNEL_ONLY = new Set([0xcb, 0xd3, 0xe5]);
const OURS_ONLY = new Set([0x8d]);

const opcodeVerdicts =
  verdicts === undefined
    ? undefined
    : kernelVerdicts(Array.from({ length: 256 }, (_, c) => encodeProgram(canonical(c))));

describe.skipIf(!opcodeVerdicts)("our opcode table is the kernel's", () => {
  it("every byte the kernel calls an unknown opcode is unknown to us, and the reverse", () => {
    const theirs: number[] = [];
    for (let c = 0; c < 256; c++) {
      // The kernel refuses a bad LDX mode before it looks the opcode up.
      const unknown = new RegExp(
        `unknown opcode ${c.toString(16).padStart(2, "0")}\\b|BPF_LDX uses reserved fields`,
      ).test(opcodeVerdicts![c]!);
      if (!unknown && c !== 0) theirs.push(c);
    }
    const ours = validOpcodes();
    expect(ours.filter((c) => !theirs.includes(c))).toEqual([...OURS_ONLY]);
    expect(theirs.filter((c) => !ours.includes(c)).sort()).toEqual([...KERNEL_ONLY].sort());
    expect(ours.length).toBe(126);
  });
});

// Well-formed programs using the cpu v4 forms, legacy packet loads and every atomic: we accept
// them and so does the kernel.
const GOOD: string[] = [
  `mov %r0, 0
   mov %r1, 7
   mov %r2, -3
   sdiv %r1, %r2
   smod %r1, 5
   sdiv32 %r1, -2
   smod32 %r1, %r2
   movsx864 %r3, %r1
   movsx1664 %r3, %r1
   movsx3264 %r3, %r1
   movsx832 %r3, %r1
   movsx1632 %r3, %r1
   bswap16 %r1
   bswap32 %r1
   bswap64 %r1
   le64 %r1
   be16 %r1
   jset %r1, 1, +1
   jset32 %r1, %r2, +0
   ja32 +0
   mov %r0, 1
   exit`,
  `mov %r0, 0
   stdw [%r10-8], 5
   stw [%r10-12], 6
   sth [%r10-14], 7
   stb [%r10-15], 8
   ldxsb %r1, [%r10-15]
   ldxsh %r1, [%r10-14]
   ldxsw %r1, [%r10-12]
   lock add [%r10-8], %r1
   lock fetch and [%r10-8], %r1
   lock or32 [%r10-12], %r1
   lock fetch xor32 [%r10-12], %r1
   lock xchg [%r10-8], %r1
   lock xchg32 [%r10-12], %r1
   lock cmpxchg [%r10-8], %r1
   lock cmpxchg32 [%r10-12], %r1
   exit`,
  `mov %r6, %r1
   ldabsb 0
   ldabsh 2
   ldabsw 4
   mov %r7, 1
   ldindb %r7, 0
   ldindh %r7, 2
   ldindw %r7, 4
   exit`,
  `mov %r1, 1
   call local f
   exit
   f:
   mov %r0, %r1
   jne %r0, 1, +1
   ja +0
   exit`,
];

const goodVerdicts =
  verdicts === undefined ? undefined : kernelVerdicts(GOOD.map((g) => encodeProgram(assemble(g))));

describe("well-formed programs with every instruction family validate", () => {
  GOOD.forEach((source, i) => {
    it(`program ${i}`, () => {
      expect(() => validateProgram(assemble(source))).not.toThrow();
      if (goodVerdicts) expect(goodVerdicts[i]).toBe("OK");
    });
  });
});
