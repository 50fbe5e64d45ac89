// Differential test against the machine's kernel: every own case (cases.ts) that the running
// kernel can judge is loaded as a KPROBE (or its own) program with its test maps created through
// BPF_MAP_CREATE. The verdicts must agree, and for a rejected program the kernel's log must
// contain the message we expect. Disagreements are listed; the ones that remain are explained
// below, case by case.
import { describe, expect, it } from "vitest";
import cases from "./cases.js";
import { asm, kernelProgram, run } from "./harness.js";
import { hasKernel, kernelUnavailable, runKernel } from "./kernel.js";

/** Cases where the kernel and we differ on purpose or by a known limit, with the reason. */
const EXPLAINED: Record<string, string> = {
  // (none at present: the cases the kernel cannot judge carry `noKernel` in cases.ts)
};

const judged = cases.filter((c) => !c.noKernel);

describe.skipIf(!hasKernel())("verdicts agree with the running kernel", () => {
  it(`${judged.length} own cases`, () => {
    const opts = judged.map((c) => ({
      ...(c.progType !== undefined && { progType: c.progType }),
      ...(c.license && { license: c.license }),
      ...(c.globalFuncs && { globalFuncs: c.globalFuncs }),
      ...(c.noBtf && { noBtf: true }),
      ...(c.logLevel !== undefined && { logLevel: c.logLevel }),
    }));
    // The kernel always logs at level 1: its message is checked.
    const programs = judged.map((c, i) => kernelProgram(asm(c.text), { ...opts[i], logLevel: 1 }));
    const verdicts = runKernel(programs);
    const disagreements: string[] = [];
    const wrongMessages: string[] = [];
    const wrongErrnos: string[] = [];
    judged.forEach((c, i) => {
      const k = verdicts[i]!;
      const key = `${c.rule}: ${c.name}`;
      expect(k.result, `${key}: a test map could not be created`).not.toBe("MAPFAIL");
      const kernelOk = k.result === "OK";
      const ours = run(programs[i]!.insns, opts[i]);
      if (kernelOk !== ours.ok) {
        if (!EXPLAINED[key]) {
          disagreements.push(
            `${key}: kernel ${k.result} (${lastLine(k.log)}), ours ${ours.ok ? "OK" : ours.error!.kernelMessage}`,
          );
        }
        return;
      }
      if (c.expect !== "ok") {
        for (const line of c.expect.split("\n")) {
          if (!k.log.includes(line))
            wrongMessages.push(`${key}: kernel said "${lastLine(k.log)}", we expect "${line}"`);
        }
        // A log buffer the kernel filled turns any error into ENOSPC (the million-insn case).
        const logFull = k.errno === 28 && k.log.length > 15 << 20;
        if (ours.error && ours.error.errno !== k.errno && !logFull) {
          wrongErrnos.push(`${key}: kernel errno ${k.errno}, ours ${ours.error.errno}`);
        }
      }
    });
    expect(disagreements).toEqual([]);
    expect(wrongMessages).toEqual([]);
    expect(wrongErrnos).toEqual([]);
  });
});
if (!hasKernel()) console.log(`skipping the kernel differential: ${kernelUnavailable()}`);

/** The kernel's last message before its statistics line. */
function lastLine(log: string): string {
  const lines = log.split("\n").filter((l) => l && !l.startsWith("processed "));
  return lines.at(-1) ?? "";
}
