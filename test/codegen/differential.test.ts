// The differential code generation test: every snippet is compiled by tsbpf (-O2 and -O0) and
// by clang 14 (-O2 -target bpf -mcpu=v3), both run in the interpreter on the same inputs against
// the same simulated kernel, and everything they leave behind must be equal. The instruction
// counts are printed beside clang's.
import { describe, expect, it } from "vitest";
import { PRELUDE, SNIPPETS } from "./snippets.js";
import {
  clangCompile,
  hasClang,
  imageFromObject,
  imageFromUnit,
  objectSlots,
  randomBytes,
  runImage,
  totalSlots,
  tsbpfCompile,
} from "./harness.js";

if (!hasClang)
  console.log("clang not installed: skipping the clang differential code generation test");

const INPUTS: Uint8Array[] = [
  new Uint8Array(64),
  new Uint8Array(64).fill(0xff),
  ...[1, 2, 3, 4, 5, 6].map((seed) => randomBytes(seed * 7919, 64)),
  Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff),
];

const counts: { name: string; ours: number; clang: number }[] = [];

describe.skipIf(!hasClang)("tsbpf vs clang -O2 -target bpf, run in the interpreter", () => {
  for (const snippet of SNIPPETS) {
    it(snippet.name, () => {
      const source = PRELUDE + snippet.source;
      const clangImage = imageFromObject(clangCompile(source, "v3"));
      const unit = tsbpfCompile(source, { cpu: "v3" });
      const ours = imageFromUnit(unit);
      const o0 = imageFromUnit(tsbpfCompile(source, { cpu: "v3", optLevel: 0 }));
      // Other cpu versions: v1 (no JMP32, no JLT/JLE), v2 (no JMP32), v4 (sign-extending loads and
      // moves, signed division): same results. Atomics returning values need v3.
      const others = (snippet.name.startsWith("atomic") ? ["v4"] : ["v1", "v2", "v4"]).map((cpu) =>
        imageFromUnit(tsbpfCompile(source, { cpu: cpu as "v1" })),
      );
      for (const ctx of INPUTS) {
        const spec = { program: "prog", ctx, times: snippet.times ?? 1 };
        const expected = runImage(clangImage, spec);
        expect(expected.fault).toBeUndefined();
        const got = runImage(ours, spec);
        delete expected.insns;
        delete got.insns;
        expect(got).toEqual(expected);
        const got0 = runImage(o0, spec);
        delete got0.insns;
        expect(got0).toEqual(expected);
        for (const other of others) {
          const g = runImage(other, spec);
          delete g.insns;
          expect(g).toEqual(expected);
        }
      }
      const n = totalSlots(unit);
      const c = objectSlots(clangCompile(source, "v3"));
      counts.push({ name: snippet.name, ours: n, clang: c });
    });
  }
  it("prints instruction counts beside clang's", () => {
    const total = counts.reduce((a, c) => a + c.ours, 0);
    const totalClang = counts.reduce((a, c) => a + c.clang, 0);
    const lines = counts.map(
      (c) =>
        `  ${c.name.padEnd(20)} ${String(c.ours).padStart(5)} ${String(c.clang).padStart(6)}  ${(c.ours / c.clang).toFixed(2)}`,
    );
    console.log(
      `instruction slots: snippet, tsbpf, clang -O2, ratio\n${lines.join("\n")}\n  total ${total} vs ${totalClang}: ${(total / totalClang).toFixed(3)}`,
    );
    expect(counts.length).toBe(SNIPPETS.length);
  });
});
