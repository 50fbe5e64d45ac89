// Mutated objects (truncated, bytes flipped in headers, section headers, symbols, relocations,
// code and BTF, indexes set to boundary values) may only ever raise TsbpfErrors.
import { describe, expect, it } from "vitest";
import { fuzzObjects, makePrng } from "../../runtime/object/fuzz.js";
import { FIXTURE_NAMES, compileFixture, hasClang, readBytes, skipReason } from "./tools.js";

describe.skipIf(skipReason({ clang: hasClang }))("fuzzed objects", () => {
  const seeds = () =>
    FIXTURE_NAMES.map((name) => ({
      name: `${name}.bpf.o`,
      bytes: readBytes(compileFixture(name)),
    }));

  it("400 seeded mutants: only ElfError/BtfError/ObjectError, no crash, no hang", () => {
    const report = fuzzObjects(seeds(), { cases: 400, seed: 42 });
    console.log(
      `fuzz: ${report.cases} cases, ${report.opened} opened, rejected ${JSON.stringify(report.rejected)}, ` +
        `slowest ${report.slowestCaseMs.toFixed(1)} ms (${report.slowestMutation}), total ${report.totalMs.toFixed(0)} ms`,
    );
    expect(report.crashes).toEqual([]);
    expect(report.cases).toBe(400);
    expect(report.opened).toBeGreaterThan(0);
    for (const kind of ["ElfError", "BtfError", "ObjectError"])
      expect(report.rejected[kind]).toBeGreaterThan(0);
    expect(report.slowestCaseMs).toBeLessThan(2000);
  });

  it("is deterministic for a seed", () => {
    const a = fuzzObjects(seeds(), { cases: 60, seed: 7 });
    const b = fuzzObjects(seeds(), { cases: 60, seed: 7 });
    expect([a.opened, a.rejected]).toEqual([b.opened, b.rejected]);
    const r1 = makePrng(1);
    const r2 = makePrng(1);
    expect([r1(), r1(), r1()]).toEqual([r2(), r2(), r2()]);
  });
});
