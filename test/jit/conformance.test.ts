// Every vector of the BPF conformance suite (../shared/conformance) compiled by the JIT gives the
// r0 the vector states, in both memory-check modes, and the same instruction count as the
// interpreter when counted.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JitMachine } from "../../runtime/jit/machine.js";
import { parseVector, testHelpers } from "../../runtime/vm/conformance.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { AddressSpace, hex64 } from "../../runtime/vm/memory.js";
import { prepareProgram } from "../../runtime/vm/program.js";

const DIR = join(import.meta.dirname, "..", "..", "..", "shared", "conformance");
const hasVectors = existsSync(DIR);
if (!hasVectors) console.log(`conformance vectors not found at ${DIR}: skipping`);
const files = hasVectors
  ? readdirSync(DIR)
      .filter((f) => f.endsWith(".data"))
      .sort()
  : [];

type Engine = "interp" | "jit-regions" | "jit-address";

function runVector(file: string, engine: Engine, budget?: number): { r0: string; insns: number } {
  const vector = parseVector(readFileSync(join(DIR, file), "utf8"), file);
  const program = prepareProgram(vector.insns, { name: file });
  const memory = new AddressSpace();
  const helpers = testHelpers();
  const vm =
    engine === "interp"
      ? new Interpreter({ memory, helpers })
      : new JitMachine({
          memory,
          helpers,
          checks: engine === "jit-regions" ? "regions" : "address",
        });
  const mem = memory.alloc(vector.mem.length, { name: "mem", kind: "data" });
  memory.u8.set(vector.mem, mem.base);
  const r1: [number, number] = vector.mem.length > 0 ? [mem.addressLo, mem.addressHi] : [0, 0];
  const result = vm.run(program, {
    args: [r1, [vector.mem.length, 0]],
    packet: mem,
    ...(budget !== undefined ? { budget } : {}),
  });
  return { r0: hex64(result.lo, result.hi), insns: result.insns };
}

describe.skipIf(!hasVectors)("conformance vectors under the JIT", () => {
  it("has all 313 vectors", () => {
    expect(files.length).toBe(313);
  });

  it.each(files)("%s", (file) => {
    const vector = parseVector(readFileSync(join(DIR, file), "utf8"), file);
    const expected = hex64(vector.expected!.lo, vector.expected!.hi);
    expect(runVector(file, "jit-regions").r0).toBe(expected);
    expect(runVector(file, "jit-address").r0).toBe(expected);
    // counted: the same instruction count as the interpreter
    const counted = runVector(file, "jit-regions", 1_000_000);
    expect(counted.r0).toBe(expected);
    expect(counted.insns).toBe(runVector(file, "interp", 1_000_000).insns);
  });
});
