// The six long-running programs of ../shared/bench: r0 and the number of executed instructions
// must match the figures in each file (computed by its Python model and cross-checked against
// uBPF's interpreter, one count per executed instruction, lddw once).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseVector } from "../../runtime/vm/conformance.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { AddressSpace, hex64 } from "../../runtime/vm/memory.js";
import { prepareProgram } from "../../runtime/vm/program.js";

const DIR = join(import.meta.dirname, "..", "..", "..", "shared", "bench");
const present = existsSync(DIR);
if (!present) console.log(`benchmark programs not found at ${DIR}: skipping`);
const files = present
  ? readdirSync(DIR)
      .filter((f) => f.endsWith(".data"))
      .sort()
  : [];

describe.skipIf(!present)("shared/bench programs in the interpreter", () => {
  it("there are six", () => {
    expect(files).toHaveLength(6);
  });

  it.each(files)(
    "%s: r0 and the executed instruction count",
    (file) => {
      const text = readFileSync(join(DIR, file), "utf8");
      const expectedCount = Number(/Dynamic BPF instructions executed:\s*(\d+)/.exec(text)![1]);
      const vector = parseVector(text, file);
      const memory = new AddressSpace();
      const vm = new Interpreter({ memory });
      const mem = memory.alloc(vector.mem.length, { name: "mem", kind: "data" });
      memory.u8.set(vector.mem, mem.base);
      const result = vm.run(prepareProgram(vector.insns, { name: file }), {
        args: [
          [mem.addressLo, mem.addressHi],
          [vector.mem.length, 0],
        ],
      });
      expect(hex64(result.lo, result.hi)).toBe(hex64(vector.expected!.lo, vector.expected!.hi));
      expect(result.insns).toBe(expectedCount);
    },
    60_000,
  );
});
