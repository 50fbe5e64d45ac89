// Seeded random programs and random bytes through decode -> validate -> run. The only errors
// allowed out are the machine's typed ones (VmFault, BudgetExceeded, IsaError, PrepareError);
// anything else (TypeError, RangeError, a hang) fails the test.
import { describe, expect, it } from "vitest";
import {
  decodeProgram,
  encodeProgram,
  IsaError,
  opcodeInfo,
  validOpcodes,
} from "../../runtime/isa/codec.js";
import type { Insn } from "../../runtime/isa/insn.js";
import * as op from "../../runtime/isa/opcodes.js";
import { VmError } from "../../runtime/vm/fault.js";
import { PrepareError, prepareProgram } from "../../runtime/vm/program.js";
import { machine, prng } from "./run.js";

const OPCODES = validOpcodes();
const ATOMIC_IMMS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
const SPECIAL_IMMS = [0, 1, -1, 2, 7, 8, 16, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 512, -8];

type Outcome = "ok" | "fault" | "budget" | "invalid";

/**
 * A random program that is mostly well-formed: a main function and one subprogram, each ending
 * in exit; fields filled as each opcode kind wants them; jumps inside their own function; calls
 * to the subprogram (or to main: recursion, which meets the depth limit). One slot in 50 gets a
 * random corruption so the validator's path stays exercised too.
 */
function randomProgram(next: () => number): Insn[] {
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
  const mainLength = 2 + (next() % 30);
  const subLength = 2 + (next() % 12);
  const reg = (): number => (next() % 4 === 0 ? next() % 11 : pick([0, 1, 2, 3, 4, 5, 10]));
  const imm = (): number => (next() % 3 === 0 ? pick(SPECIAL_IMMS) : (next() | 0) >> (next() % 32));
  const memOff = (): number => (next() % 3 === 0 ? (next() % 1200) - 600 : (next() % 72) - 8);
  const insns: Insn[] = [];
  const segment = (begin: number, length: number): void => {
    const end = begin + length;
    while (insns.length < end - 1) {
      const at = insns.length;
      const code = pick(OPCODES);
      const info = opcodeInfo(code)!;
      const isX = (code & op.BPF_X) !== 0;
      const jumpOff = (): number => begin + (next() % length) - at - 1;
      let insn: Insn = { code, dst: 0, src: 0, off: 0, imm: 0 };
      switch (info.kind) {
        case "alu": {
          const aluOp = op.opOf(code);
          let off = 0;
          if (aluOp === op.BPF_DIV || aluOp === op.BPF_MOD) off = pick([0, 0, 1]);
          if (aluOp === op.BPF_MOV && isX)
            off = pick([0, 0, 8, 16, info.cls === op.BPF_ALU64 ? 32 : 0]);
          insn = { code, dst: reg(), src: isX ? reg() : 0, off, imm: isX ? 0 : imm() };
          break;
        }
        case "neg":
          insn = { code, dst: reg(), src: 0, off: 0, imm: 0 };
          break;
        case "end":
          insn = { code, dst: reg(), src: 0, off: 0, imm: pick([16, 32, 64]) };
          break;
        case "ldx":
          insn = { code, dst: reg(), src: reg(), off: memOff(), imm: 0 };
          break;
        case "st":
          insn = { code, dst: reg(), src: 0, off: memOff(), imm: imm() };
          break;
        case "stx":
          insn = { code, dst: reg(), src: reg(), off: memOff(), imm: 0 };
          break;
        case "atomic":
          insn = { code, dst: reg(), src: reg(), off: memOff(), imm: pick(ATOMIC_IMMS) };
          break;
        case "lddw": {
          if (at + 2 > end - 1) continue;
          const src = pick([0, 0, 0, 0, 4, 1]);
          const target = src === 4 ? mainLength - at - 1 : imm();
          insns.push({ code, dst: reg(), src, off: 0, imm: target });
          insns.push({ code: 0, dst: 0, src: 0, off: 0, imm: imm() });
          continue;
        }
        case "ldabs":
          insn = { code, dst: 0, src: 0, off: 0, imm: pick([0, 1, 2, 3, 250, 255, 300, -1]) };
          break;
        case "ldind":
          insn = { code, dst: 0, src: reg(), off: 0, imm: pick([0, 1, 2, 3, 250, -1]) };
          break;
        case "ja":
          insn =
            info.cls === op.BPF_JMP
              ? { code, dst: 0, src: 0, off: jumpOff(), imm: 0 }
              : { code, dst: 0, src: 0, off: 0, imm: jumpOff() };
          break;
        case "jcond":
          insn = { code, dst: reg(), src: isX ? reg() : 0, off: jumpOff(), imm: isX ? 0 : imm() };
          break;
        case "call": {
          const src = pick([0, 0, 0, 1, 1, 2]);
          const target = pick([mainLength, mainLength, 0]) - at - 1;
          insn = { code, dst: 0, src, off: 0, imm: src === 1 ? target : next() % 8 };
          break;
        }
        case "callx":
          insn = { code, dst: reg(), src: 0, off: 0, imm: 0 };
          break;
        case "exit":
          insn = { code, dst: 0, src: 0, off: 0, imm: 0 };
          break;
      }
      if (next() % 50 === 0) insn = { ...insn, src: next() % 16, off: (next() << 16) >> 16 };
      insns.push(insn);
    }
    insns.push({ code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  };
  segment(0, mainLength);
  segment(mainLength, subLength);
  return insns;
}

function attempt(insns: Insn[], m = machine()): Outcome {
  try {
    const program = prepareProgram(insns, { name: "fuzz" });
    m.vm.run(program, {
      args: [
        [m.mem.addressLo, m.mem.addressHi],
        [m.mem.size, 0],
      ],
      budget: 5000,
      packet: m.mem,
    });
    return "ok";
  } catch (err) {
    if (err instanceof IsaError || err instanceof PrepareError) return "invalid";
    if (err instanceof VmError) return err.name === "BudgetExceeded" ? "budget" : "fault";
    throw new Error(`untyped error on ${JSON.stringify(insns)}: ${String(err)}`, { cause: err });
  }
}

describe("random programs", () => {
  it("3000 seeded random programs give only typed errors", () => {
    const next = prng(20240917);
    const counts: Record<Outcome, number> = { ok: 0, fault: 0, budget: 0, invalid: 0 };
    const m = machine(new Uint8Array(256));
    for (let i = 0; i < 3000; i++) counts[attempt(randomProgram(next), m)]++;
    console.log("random programs:", counts);
    // The generator must reach the interpreter, not just the validator.
    expect(counts.ok + counts.fault + counts.budget).toBeGreaterThan(1000);
    expect(counts.ok).toBeGreaterThan(100);
    expect(counts.fault).toBeGreaterThan(100);
  });

  it("pure random bytes (any length) give only IsaErrors", () => {
    const next = prng(77);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: next() % 120 }, () => next() & 0xff);
      try {
        attempt(decodeProgram(bytes));
      } catch (err) {
        if (!(err instanceof IsaError)) throw err;
      }
    }
  });

  it("mutated byte code (flipped bytes, truncation) gives only typed errors", () => {
    const next = prng(4242);
    const counts: Record<Outcome | "undecodable", number> = {
      ok: 0,
      fault: 0,
      budget: 0,
      invalid: 0,
      undecodable: 0,
    };
    const m = machine(new Uint8Array(256));
    for (let i = 0; i < 2000; i++) {
      const bytes = encodeProgram(randomProgram(next));
      for (let k = next() % 4; k > 0; k--) bytes[next() % bytes.length] = next() & 0xff;
      const cut = next() % 8 === 0 ? bytes.subarray(0, next() % bytes.length) : bytes;
      try {
        counts[attempt(decodeProgram(cut), m)]++;
      } catch (err) {
        if (!(err instanceof IsaError)) throw err;
        counts.undecodable++;
      }
    }
    console.log("mutated byte code:", counts);
    expect(counts.ok + counts.fault + counts.budget).toBeGreaterThan(200);
  });
});
