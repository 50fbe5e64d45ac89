// Every vector of the BPF conformance suite (../shared/conformance) runs in the reference
// interpreter and gives the r0 the vector states.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkVector, parseVector } from "../runtime/vm/conformance.js";

const DIR = join(import.meta.dirname, "..", "..", "shared", "conformance");
const hasVectors = existsSync(DIR);
if (!hasVectors) console.log(`conformance vectors not found at ${DIR}: skipping`);
const files = hasVectors
  ? readdirSync(DIR)
      .filter((f) => f.endsWith(".data"))
      .sort()
  : [];

describe.skipIf(!hasVectors)("conformance vectors", () => {
  it("has all 313 vectors", () => {
    expect(files.length).toBe(313);
  });

  it.each(files)("%s", (file) => {
    const result = checkVector(readFileSync(join(DIR, file), "utf8"), file, { budget: 1_000_000 });
    expect(result.error).toBeUndefined();
    expect(result.actual).toBe(result.expected);
    expect(result.passed).toBe(true);
  });

  it("the -- raw words match the assembled program", () => {
    const vector = parseVector(readFileSync(join(DIR, "lddw.data"), "utf8"), "lddw.data");
    expect(vector.raw).toBeDefined();
    expect(vector.raw).toEqual(vector.insns);
  });
});

describe("a run's helper work is bounded too", () => {
  it("a loop calling memfrob on a big buffer stops with an error naming the call", () => {
    const text =
      "-- asm\nmov %r6, %r1\nmov %r7, %r2\nmov %r1, %r6\nmov %r2, %r7\ncall 1\nja -4\nexit\n" +
      `-- mem\n${Array(4096).fill("00").join(" ")}\n-- result\n0x0\n`;
    const result = checkVector(text, "frob-loop.data", { memfrobBytes: 1 << 20 });
    expect(result.passed).toBe(false);
    expect(result.error).toMatch(
      /frob-loop\.data.*insn 4: memfrob has xored more than 1048576 bytes in this run/,
    );
  });
});
