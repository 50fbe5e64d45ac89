// The execution engine a CPU runs programs with: the reference interpreter or the WebAssembly
// JIT. Both take the same helper table, address space and host, and run a prepared Program with
// r1 = ctx; the choice never changes a result, only the speed.
import type { HelperHost } from "../helpers/host.js";
import type { JitFacts } from "../jit/codegen.js";
import { JitMachine } from "../jit/machine.js";
import type { HelperTable } from "../vm/helpers.js";
import { Interpreter, type RunOptions, type RunResult } from "../vm/interpreter.js";
import type { AddressSpace } from "../vm/memory.js";
import type { Program } from "../vm/program.js";

export type Engine = "interp" | "jit";

/** One CPU's machine. */
export interface ExecutionEngine {
  run(program: Program, options?: RunOptions): RunResult;
}

export function createEngine(
  engine: Engine,
  memory: AddressSpace,
  helpers: HelperTable<HelperHost>,
  host: HelperHost,
  /** what the verifier proved about a program (the JIT skips proven checks, inlines lookups) */
  facts?: (program: Program) => JitFacts | undefined,
): ExecutionEngine {
  const options = { memory, helpers, host };
  return engine === "jit"
    ? new JitMachine<HelperHost>({ ...options, ...(facts && { facts }) })
    : new Interpreter<HelperHost>(options);
}
