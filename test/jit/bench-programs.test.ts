// The six long-running programs of ../shared/bench under the JIT: r0 as the file states it
// (computed by its Python model, checked against uBPF), and, counted, the file's number of
// executed instructions — the same count the interpreter gives.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JitMachine } from "../../runtime/jit/machine.js";
import { parseVector } from "../../runtime/vm/conformance.js";
import { AddressSpace, hex64 } from "../../runtime/vm/memory.js";
import { prepareProgram } from "../../runtime/vm/program.js";
import type { MemoryChecks } from "../../runtime/jit/codegen.js";

const DIR = join(import.meta.dirname, "..", "..", "..", "shared", "bench");
const present = existsSync(DIR);
if (!present) console.log(`benchmark programs not found at ${DIR}: skipping`);
const files = present
  ? readdirSync(DIR)
      .filter((f) => f.endsWith(".data"))
      .sort()
  : [];

describe.skipIf(!present)("shared/bench programs under the JIT", () => {
  it("there are six", () => {
    expect(files).toHaveLength(6);
  });

  const cases = files.flatMap((f) =>
    (["regions", "address"] as MemoryChecks[]).map((checks) => [f, checks] as const),
  );
  it.each(cases)(
    "%s (%s checks): r0 and the executed instruction count",
    (file, checks) => {
      const text = readFileSync(join(DIR, file), "utf8");
      const expectedCount = Number(/Dynamic BPF instructions executed:\s*(\d+)/.exec(text)![1]);
      const vector = parseVector(text, file);
      const memory = new AddressSpace();
      const machine = new JitMachine({ memory, checks });
      const mem = memory.alloc(vector.mem.length, { name: "mem", kind: "data" });
      const program = prepareProgram(vector.insns, { name: file });
      const run = (budget?: number): { r0: string; insns: number } => {
        memory.u8.set(vector.mem, mem.base); // the programs write their buffer
        const r = machine.run(program, {
          args: [
            [mem.addressLo, mem.addressHi],
            [vector.mem.length, 0],
          ],
          ...(budget !== undefined ? { budget } : {}),
        });
        return { r0: hex64(r.lo, r.hi), insns: r.insns };
      };
      const expected = hex64(vector.expected!.lo, vector.expected!.hi);
      expect(run()).toEqual({ r0: expected, insns: -1 });
      expect(run(Number.POSITIVE_INFINITY)).toEqual({ r0: expected, insns: expectedCount });
    },
    60_000,
  );
});
