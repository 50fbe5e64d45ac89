// Malformed input never crashes or hangs: a seeded PRNG feeds random byte strings and random
// mutations of valid programs to decodeProgram + validateProgram + disassemble, and random
// edits of assembler source to assemble. Only IsaError / AsmError may come out, every IsaError
// names a slot of the input, and every call returns quickly.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AsmError, assemble } from "../../runtime/isa/asm.js";
import {
  IsaError,
  decodeProgram,
  encodeProgram,
  validateProgram,
} from "../../runtime/isa/codec.js";
import { UNKNOWN, disassemble, formatObjdump } from "../../runtime/isa/disasm.js";
import type { Insn } from "../../runtime/isa/insn.js";

/** mulberry32: small, fast, good enough to spread inputs. */
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

// The shared data lives beside the repository (../shared), wherever it is cloned.
const CONFORMANCE = join(import.meta.dirname, "..", "..", "..", "shared", "conformance");
const sources = readdirSync(CONFORMANCE)
  .filter((f) => f.endsWith(".data"))
  .sort()
  .map((f) => /^-- asm\n([\s\S]*?)(?=^-- )/m.exec(readFileSync(join(CONFORMANCE, f), "utf8"))![1]!);
const programs = sources.map((s) => encodeProgram(assemble(s)));

const stats = { inputs: 0, valid: 0, isaErrors: 0, asmErrors: 0, slowestMs: 0 };

/** Runs the whole byte-code pipeline on `bytes`; anything but an IsaError fails the test. */
function exercise(bytes: Uint8Array): void {
  const start = performance.now();
  stats.inputs++;
  let insns: Insn[] | undefined;
  try {
    insns = decodeProgram(bytes);
    validateProgram(insns);
    stats.valid++;
    // A program that validates has a known text for every instruction.
    for (const line of formatObjdump(insns)) expect(line.endsWith(UNKNOWN), line).toBe(false);
  } catch (e) {
    if (!(e instanceof IsaError)) throw e;
    stats.isaErrors++;
    const slots = Math.ceil(bytes.length / 8);
    expect(Number.isInteger(e.index)).toBe(true);
    expect(e.index).toBeGreaterThanOrEqual(0);
    expect(e.index).toBeLessThanOrEqual(Math.max(slots - 1, 0));
    expect(e.message).toMatch(/^insn \d+: \S/);
  }
  // Disassembly never throws, whatever the slots hold (objdump prints <unknown> instead).
  if (insns) {
    for (let i = 0; i < insns.length; i++) expect(typeof disassemble(insns, i)).toBe("string");
    formatObjdump(insns, { label: (t) => `L${t}` });
  }
  stats.slowestMs = Math.max(stats.slowestMs, performance.now() - start);
}

function randomBytes(rnd: () => number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Random bytes biased towards real opcodes so validation gets past the first slot. */
function plausibleBytes(rnd: () => number, slots: number): Uint8Array {
  const b = randomBytes(rnd, slots * 8);
  const opcodes = [
    0x07, 0xb7, 0xbf, 0x18, 0x61, 0x7b, 0x15, 0x05, 0x85, 0x95, 0xdb, 0xd4, 0x06, 0x3f,
  ];
  for (let i = 0; i < slots; i++) {
    if (rnd() < 0.7) b[i * 8] = opcodes[Math.floor(rnd() * opcodes.length)]!;
    if (rnd() < 0.6) b[i * 8 + 1] = Math.floor(rnd() * 11) | (Math.floor(rnd() * 11) << 4);
    if (rnd() < 0.5) b[i * 8 + 2] = b[i * 8 + 3] = 0;
    if (rnd() < 0.3) b[i * 8 + 4] = b[i * 8 + 5] = b[i * 8 + 6] = b[i * 8 + 7] = 0;
  }
  if (rnd() < 0.5) b.set([0x95, 0, 0, 0, 0, 0, 0, 0], (slots - 1) * 8);
  return b;
}

function mutate(rnd: () => number, program: Uint8Array): Uint8Array {
  let b: Uint8Array = program.slice();
  const edits = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < edits; k++) {
    const slots = Math.floor(b.length / 8);
    const slot = Math.floor(rnd() * slots);
    if (slots === 0) break;
    switch (Math.floor(rnd() * 7)) {
      case 0: // flip one bit
        b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // random opcode
        b[slot * 8] = Math.floor(rnd() * 256);
        break;
      case 2: // random registers
        b[slot * 8 + 1] = Math.floor(rnd() * 256);
        break;
      case 3: // extreme offset
        b.set([0, 0x80], slot * 8 + 2);
        break;
      case 4: // truncate, possibly mid-slot
        b = b.subarray(0, Math.floor(rnd() * (b.length + 1)));
        break;
      case 5: // drop a slot (splits lddw pairs, breaks jump targets)
        b = Uint8Array.from([...b.subarray(0, slot * 8), ...b.subarray(slot * 8 + 8)]);
        break;
      case 6: // duplicate a slot
        b = Uint8Array.from([...b.subarray(0, slot * 8 + 8), ...b.subarray(slot * 8)]);
        break;
    }
  }
  return b;
}

describe("fuzzing the byte-code pipeline", () => {
  it("random byte strings of every length", () => {
    const rnd = prng(0x5eed);
    for (let n = 0; n < 3000; n++) exercise(randomBytes(rnd, Math.floor(rnd() * 200)));
  });

  it("plausible random programs", () => {
    const rnd = prng(42);
    for (let n = 0; n < 4000; n++) exercise(plausibleBytes(rnd, 1 + Math.floor(rnd() * 40)));
  });

  it("mutations of the 313 conformance programs", () => {
    const rnd = prng(7);
    for (let n = 0; n < 6000; n++) exercise(mutate(rnd, programs[n % programs.length]!));
  });

  it("summary: only IsaErrors, each naming its slot, none slow", () => {
    console.log(
      `fuzz: ${stats.inputs} inputs, ${stats.valid} valid, ${stats.isaErrors} IsaErrors, slowest ${stats.slowestMs.toFixed(2)} ms`,
    );
    expect(stats.inputs).toBe(13000);
    expect(stats.valid).toBeGreaterThan(100);
    expect(stats.isaErrors).toBeGreaterThan(10000);
    expect(stats.slowestMs).toBeLessThan(250);
  });
});

describe("fuzzing the assembler", () => {
  const alphabet = "%r0123456789[]+-,: #xabcdefghijklmnopqrstuvwxyz\n\t.;/";

  function edit(rnd: () => number, text: string): string {
    let t = text;
    for (let k = 0, edits = 1 + Math.floor(rnd() * 5); k < edits; k++) {
      const at = Math.floor(rnd() * (t.length + 1));
      const r = rnd();
      if (r < 0.4) t = t.slice(0, at) + alphabet[Math.floor(rnd() * alphabet.length)] + t.slice(at);
      else if (r < 0.8) t = t.slice(0, at) + t.slice(at + 1 + Math.floor(rnd() * 3));
      else t = t.slice(0, at) + String(Math.floor(rnd() * 2 ** 40)) + t.slice(at);
    }
    return t;
  }

  it("random edits of the conformance sources give programs or AsmErrors with a place", () => {
    const rnd = prng(99);
    let ok = 0;
    for (let n = 0; n < 5000; n++) {
      const text = edit(rnd, sources[n % sources.length]!);
      try {
        assemble(text, "f.s");
        ok++;
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        stats.asmErrors++;
        expect(e.message).toMatch(/^f\.s:\d+:\d+: \S/);
        expect(e.line).toBeGreaterThanOrEqual(1);
        expect(e.col).toBeGreaterThanOrEqual(1);
      }
    }
    console.log(`asm fuzz: 5000 edits, ${ok} assembled, ${stats.asmErrors} AsmErrors`);
    expect(stats.asmErrors).toBeGreaterThan(1000);
  });
});
