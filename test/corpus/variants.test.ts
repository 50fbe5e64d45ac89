// The corpus at the other settings a user may pick: tsbpf -O0 (no optimisation) and tsbpf -O2
// -mcpu=v1 (no ALU32, no JMP32, only "greater than" jumps, atomic add without a result) must
// run like clang's -O2 -mcpu=v3 object on the same workload. A program the CPU cannot express
// (atomics that return the old value before v3) gets a diagnostic instead.
import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { compile, type CompileOptions } from "../../compiler/compile.js";
import { CompileError } from "../../compiler/diagnostics.js";
import { writeFileSync } from "node:fs";
import { hasClang, hasLibbpf, isRoot, skipReason, tempDir } from "../emit/tools.js";
import {
  COMPILE_OPTIONS,
  CORPUS,
  PROGRAMS_DIR,
  RUN_SETTINGS,
  clangObject,
  kernelVerdicts,
  kload,
  readBytes,
} from "./corpus.js";
import { runObject, unsupportedMaps, type CorpusRun } from "./harness.js";

const tmp = tempDir("tsbpf-variants-");
afterAll(() => tmp.remove());

const expected = new Map<string, CorpusRun | undefined>();
function clangRun(program: string): CorpusRun | undefined {
  if (!expected.has(program)) {
    const bytes = readBytes(clangObject(program, tmp.dir));
    const runnable = unsupportedMaps(bytes, program).length === 0;
    expected.set(
      program,
      runnable ? runObject(bytes, "corpus.bpf.o", settings(program)) : undefined,
    );
  }
  return expected.get(program);
}

const settings = (program: string) => ({ events: 200, seed: 5, ...RUN_SETTINGS[program] });

/** Programs that need -mcpu=v3: atomics whose old value is used. */
const NEEDS_V3 = new Set(["atomics.bpf.c"]);

/**
 * Objects the kernel's verifier refuses, and our PROG_LOAD with the running kernel's message
 * (checked through libbpf where root can load). -O0: the variable index is added to a stack
 * pointer before its bound is known. -mcpu=v1: without JMP32 the callback's u32 bound check is a
 * 64-bit compare of a register the verifier cannot tie to the narrowed copy used as the index
 * (a back-end weakness at v1: clang -mcpu=v1 keeps one register).
 */
const REFUSED: Record<string, Record<string, string>> = {
  "-O0": {
    "pointer_walk.bpf.c":
      "math between fp pointer and register with unbounded min value is not allowed",
  },
  "-O2 -mcpu=v1": {
    "loop_callback.bpf.c": "R3 unbounded memory access, make sure to bounds check any such access",
  },
};

const kloadExe = isRoot && hasLibbpf ? kload(tmp.dir) : undefined;

/** The running kernel's verdict lines on an object (libbpf through kload), when root can load. */
function kernelVerdict(object: Uint8Array, name: string): string | undefined {
  if (kloadExe === undefined) return undefined;
  const file = join(tmp.dir, name);
  writeFileSync(file, object);
  return [...kernelVerdicts(kloadExe, file).values()].join("\n");
}

const VARIANTS: [string, Partial<CompileOptions>][] = [
  ["-O0", { optLevel: 0 }],
  ["-O2 -mcpu=v1", { cpu: "v1" }],
];

describe.skipIf(skipReason({ clang: hasClang }))("corpus at -O0 and -mcpu=v1", () => {
  const cases = VARIANTS.flatMap(([name, options]) =>
    CORPUS.map((program) => [`${program} ${name}`, program, options] as const),
  );
  it.each(cases)("%s runs like clang's -O2 object", (name, program, options) => {
    const compileIt = () =>
      compile(join(PROGRAMS_DIR, program), { ...COMPILE_OPTIONS, ...options });
    if (options.cpu === "v1" && NEEDS_V3.has(program)) {
      expect(compileIt).toThrow(CompileError);
      expect(compileIt).toThrow(/needs -mcpu=v3/);
      return;
    }
    const object = compileIt().object;
    const refusal = REFUSED[name.slice(program.length + 1)]?.[program];
    if (refusal !== undefined) {
      expect(() => runObject(object, "corpus.bpf.o", settings(program))).toThrow(refusal);
      const kernel = kernelVerdict(object, `${program}.variant.o`);
      if (kernel !== undefined) expect(kernel).toContain(refusal);
      return;
    }
    const want = clangRun(program);
    if (!want) return; // a map type the simulated kernel lacks (printed by corpus.test.ts)
    expect(runObject(object, "corpus.bpf.o", settings(program))).toEqual(want);
  });
});
