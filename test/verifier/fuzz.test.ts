// Soundness fuzz: seeded random and mutated programs; every one the verifier accepts runs in the
// checked interpreter over random context and map contents without a fault or a runaway
// (runtime/verifier/fuzz.ts; the bench runs the same loop with many thousands of programs).
import { describe, expect, it } from "vitest";
import { disassemble } from "../../runtime/isa/disasm.js";
import { fuzzVerifier } from "../../runtime/verifier/fuzz.js";

describe("verifier soundness fuzz", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: accepted programs never fault`, () => {
      const report = fuzzVerifier({ seed, programs: 150, mutations: 2, runs: 3 });
      const shown = report.faults.slice(0, 3).map((f) => {
        const text = f.insns.map((_, i) => `${i}: ${safeDisasm(f.insns, i)}`).join("\n");
        return `${f.kind} #${f.index}: ${f.reason}\n${text}`;
      });
      expect(shown).toEqual([]);
      // The generator is useful only if a fair share verifies and a fair share does not.
      expect(report.accepted).toBeGreaterThan((report.generated + report.mutated) * 0.15);
      expect(report.rejected).toBeGreaterThan((report.generated + report.mutated) * 0.15);
      expect(report.runs).toBeGreaterThan(250);
      console.log(
        `fuzz seed ${seed}: ${report.generated} generated + ${report.mutated} mutated, ${report.accepted} accepted, ${report.runs} runs, verify ${report.verifyMs.toFixed(0)} ms, run ${report.runMs.toFixed(0)} ms`,
      );
    });
  }

  // Programs with bpf_loop callbacks: the verifier walks each callback as a loop that must
  // converge; the interpreter runs it as many times as nr_loops says.
  for (const seed of [11, 12]) {
    it(`seed ${seed} with bpf_loop callbacks: accepted programs never fault`, () => {
      const report = fuzzVerifier({ seed, programs: 150, mutations: 2, runs: 3, callbacks: true });
      const shown = report.faults.slice(0, 3).map((f) => {
        const text = f.insns.map((_, i) => `${i}: ${safeDisasm(f.insns, i)}`).join("\n");
        return `${f.kind} #${f.index}: ${f.reason}\n${text}`;
      });
      expect(shown).toEqual([]);
      expect(report.accepted).toBeGreaterThan((report.generated + report.mutated) * 0.15);
      expect(report.rejected).toBeGreaterThan((report.generated + report.mutated) * 0.15);
      expect(report.runs).toBeGreaterThan(250);
      console.log(
        `fuzz seed ${seed} (callbacks): ${report.generated} generated + ${report.mutated} mutated, ${report.accepted} accepted, ${report.runs} runs, verify ${report.verifyMs.toFixed(0)} ms, run ${report.runMs.toFixed(0)} ms`,
      );
    });
  }
});

function safeDisasm(insns: Parameters<typeof disassemble>[0], i: number): string {
  try {
    return disassemble(insns, i);
  } catch {
    return JSON.stringify(insns[i]);
  }
}
