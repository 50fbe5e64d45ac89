// Speed of the instruction-set paths every tool uses (decode, encode, validate, disassemble,
// assemble), per instruction slot, on all conformance programs back to back.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { assemble } from "../runtime/isa/asm.js";
import { decodeProgram, encodeProgram, validateProgram } from "../runtime/isa/codec.js";
import { disassemble, formatObjdump } from "../runtime/isa/disasm.js";
import { median, sharedDir, type BenchSection } from "./section.js";

export interface IsaRow {
  operation: string;
  slots: number;
  ns_per_slot: number;
}

function conformanceSources(): string[] {
  const dir = join(sharedDir(), "conformance");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".data"))
    .map((f) => /^-- asm\n([\s\S]*?)(?=^-- )/m.exec(readFileSync(join(dir, f), "utf8"))?.[1])
    .filter((s): s is string => s !== undefined);
}

export const isaSection: BenchSection<IsaRow> = {
  key: "isa",
  title: "Instruction set tools (runtime/isa), conformance programs back to back",
  columns: [
    { header: "operation", value: (r) => r.operation },
    { header: "slots", value: (r) => r.slots },
    { header: "ns/slot", value: (r) => r.ns_per_slot },
  ],
  run: async (options) => {
    const sources = conformanceSources();
    // Each program keeps its jumps and calls inside itself and ends in exit, so the
    // concatenation is a valid program too.
    const parts = sources.map((s) => encodeProgram(assemble(s)));
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
    const insns = decodeProgram(bytes);
    const n = insns.length;
    const operations: [string, () => unknown][] = [
      ["decodeProgram", () => decodeProgram(bytes)],
      ["encodeProgram", () => encodeProgram(insns)],
      ["validateProgram", () => validateProgram(insns)],
      ["disassemble", () => insns.forEach((_, i) => disassemble(insns, i))],
      ["formatObjdump", () => formatObjdump(insns)],
      ["assemble", () => sources.forEach((s) => assemble(s))],
    ];
    const rows: IsaRow[] = [];
    for (const [operation, fn] of operations) {
      if (options.filter !== undefined && !operation.includes(options.filter)) continue;
      for (let i = 0; i < options.warmup; i++) fn();
      const times: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        const t = performance.now();
        fn();
        times.push(performance.now() - t);
      }
      rows.push({ operation, slots: n, ns_per_slot: Math.round((median(times) * 1e6) / n) });
    }
    return rows;
  },
};
