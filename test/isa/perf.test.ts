// Speed of the hot isa paths on the conformance programs (2762 slots), best of 30 runs. The
// bounds are ten times the figures measured on the development machine, so only a real
// regression (an allocation per field, a quadratic pass) trips them.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble } from "../../runtime/isa/asm.js";
import { decodeProgram, encodeProgram, validateProgram } from "../../runtime/isa/codec.js";
import { disassemble, formatObjdump } from "../../runtime/isa/disasm.js";

const CONFORMANCE = "/work/shared/conformance";
const sources = readdirSync(CONFORMANCE)
  .filter((f) => f.endsWith(".data"))
  .map((f) => /^-- asm\n([\s\S]*?)(?=^-- )/m.exec(readFileSync(join(CONFORMANCE, f), "utf8"))![1]!);

// All programs back to back: each keeps its jumps and calls inside itself and ends in exit.
const parts = sources.map((s) => encodeProgram(assemble(s)));
const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
const insns = decodeProgram(bytes);

/** Best time per slot over `runs` runs, in nanoseconds. */
function nsPerSlot(fn: () => unknown, slots: number, runs = 30): number {
  let best = Infinity;
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return (best * 1e6) / slots;
}

describe("isa speed", () => {
  it("decode, validate, disassemble and assemble stay fast", () => {
    const n = insns.length;
    const figures = {
      decodeProgram: nsPerSlot(() => decodeProgram(bytes), n),
      encodeProgram: nsPerSlot(() => encodeProgram(insns), n),
      validateProgram: nsPerSlot(() => validateProgram(insns), n),
      disassemble: nsPerSlot(() => {
        for (let i = 0; i < n; i++) disassemble(insns, i);
      }, n),
      formatObjdump: nsPerSlot(() => formatObjdump(insns), n),
      assemble: nsPerSlot(() => sources.forEach((s) => assemble(s)), n, 5),
    };
    console.log(
      `${n} slots: ` +
        Object.entries(figures)
          .map(([k, v]) => `${k} ${v.toFixed(0)} ns/slot`)
          .join(", "),
    );
    expect(figures.decodeProgram).toBeLessThan(150);
    expect(figures.encodeProgram).toBeLessThan(150);
    expect(figures.validateProgram).toBeLessThan(700);
    expect(figures.disassemble).toBeLessThan(1200);
    expect(figures.formatObjdump).toBeLessThan(2500);
    expect(figures.assemble).toBeLessThan(10000);
  });
});
