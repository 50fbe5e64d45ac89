// The log in the kernel's format: every own case the running kernel can judge is loaded at
// log_level 1 and 2, and the kernel's log is compared with ours line by line (map addresses,
// which are the kernel's pointers, normalised; 6.18's stack-liveness debug lines dropped).
import { describe, expect, it } from "vitest";
import cases from "./cases.js";
import { asm, kernelProgram, run } from "./harness.js";
import { hasKernel, kernelUnavailable, runKernel } from "./kernel.js";

/** Lines of a log, comparable between the kernel and us. */
export function normalizeLog(log: string): string[] {
  return log
    .replace(/0xffff8[0-9a-f]{11}/g, "MAPADDR")
    .split("\n")
    .filter((l) => l !== "" && !/^\([\d,]+\) (frame \d+ insn \d+ [+-]|live stack update)/.test(l));
}

// Cases whose whole log differs, and why (the verdict and message still agree).
const LOG_DIFFERS: Record<string, string> = {};

const judged = cases.filter((c) => !c.noKernel && c.logLevel === undefined);

describe.skipIf(!hasKernel())("the log matches the running kernel's", () => {
  for (const level of [1, 2] as const) {
    it(`log_level ${level}: ${judged.length} programs, line by line`, () => {
      const opts = judged.map((c) => ({
        ...(c.progType !== undefined && { progType: c.progType }),
        ...(c.license && { license: c.license }),
        ...(c.globalFuncs && { globalFuncs: c.globalFuncs }),
        ...(c.noBtf && { noBtf: true }),
        logLevel: level,
      }));
      const programs = judged.map((c, i) => kernelProgram(asm(c.text), opts[i]));
      const verdicts = runKernel(programs);
      const differ: string[] = [];
      let identical = 0;
      judged.forEach((c, i) => {
        const key = `${c.rule}: ${c.name}`;
        const theirs = normalizeLog(verdicts[i]!.log);
        const ours = normalizeLog(run(programs[i]!.insns, opts[i]).log);
        const at = theirs.findIndex((line, k) => line !== ours[k]);
        if (at < 0 && theirs.length === ours.length) {
          identical++;
          return;
        }
        if (LOG_DIFFERS[key]) return;
        const k = at < 0 ? Math.min(theirs.length, ours.length) : at;
        differ.push(`${key} @${k}: kernel "${theirs[k] ?? "<end>"}" ours "${ours[k] ?? "<end>"}"`);
      });
      console.log(`log_level ${level}: ${identical} of ${judged.length} logs identical`);
      expect(differ).toEqual([]);
    });
  }
});
if (!hasKernel()) console.log(`skipping the log comparison: ${kernelUnavailable()}`);
