// Every rule of the verifier, accepted and rejected (cases.ts), checked against our verifier:
// the verdict, the kernel's message for a reject, and that the error names the instruction and
// carries a hint. kernel.test.ts loads the same programs into the running kernel.
import { describe, expect, it } from "vitest";
import { VerifierError } from "../../runtime/verifier/index.js";
import cases from "./cases.js";
import { asm, run } from "./harness.js";

describe("verifier rules (own cases)", () => {
  it("has at least 200 cases, each rule accepted and rejected", () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const byRule = new Map<string, { ok: number; bad: number }>();
    for (const c of cases) {
      const r = byRule.get(c.rule) ?? { ok: 0, bad: 0 };
      if (c.expect === "ok") r.ok++;
      else r.bad++;
      byRule.set(c.rule, r);
    }
    const missing = [...byRule].filter(([, r]) => !r.ok || !r.bad).map(([rule]) => rule);
    expect(missing).toEqual([]);
  });

  for (const c of cases) {
    it(`${c.rule}: ${c.name}`, () => {
      const insns = asm(c.text);
      const result = run(insns, {
        ...(c.progType !== undefined && { progType: c.progType }),
        ...(c.license && { license: c.license }),
        ...(c.globalFuncs && { globalFuncs: c.globalFuncs }),
        ...(c.noBtf && { noBtf: true }),
        ...(c.kernel && { kernel: c.kernel }),
        ...(c.unpriv && { unpriv: true }),
        ...(c.logLevel !== undefined && { logLevel: c.logLevel }),
      });
      if (c.expect === "ok") {
        expect(result.error?.message, result.log).toBeUndefined();
        expect(result.ok).toBe(true);
        return;
      }
      expect(result.ok, result.log).toBe(false);
      const err = result.error!;
      expect(err).toBeInstanceOf(VerifierError);
      expect(err.kernelMessage, result.log).toBe(c.expect);
      // The log ends with the message (then the statistics line).
      if (c.logLevel !== 0) expect(result.log).toContain(c.expect.split("\n").at(-1)!);
      expect(err.hint.length, "every error has a hint").toBeGreaterThan(0);
      if (err.insnIndex >= 0) expect(err.message).toContain(`insn ${err.insnIndex}`);
    });
  }
});
