// Choosing an engine: the reference interpreter (runtime/vm) or the JIT (this directory). Both
// run a prepared Program with the same options, results, helper ABI and errors; the kernel and
// the CLI (`--engine interp|jit`) pick one through createRunner.
import { TsbpfError } from "../error.js";
import type { Insn } from "../isa/insn.js";
import type { HelperTable } from "../vm/helpers.js";
import { Interpreter, type RunOptions, type RunResult } from "../vm/interpreter.js";
import { AddressSpace, type Region } from "../vm/memory.js";
import { prepareProgram, Program, type PseudoResolver } from "../vm/program.js";
import type { JitArrayMap, JitFacts, MemoryChecks } from "./codegen.js";
import type { JitModule } from "./compile.js";
import { JitMachine } from "./machine.js";

export type Engine = "interp" | "jit";

export const ENGINES: readonly Engine[] = ["interp", "jit"];

/** The engine verified programs run on unless asked otherwise. */
export const DEFAULT_ENGINE: Engine = "jit";

/** An engine name that is not one of ENGINES (from a command line, say). */
export class EngineError extends TsbpfError {}

/** "interp" or "jit", or an EngineError naming the choices. */
export function parseEngine(text: string): Engine {
  if ((ENGINES as readonly string[]).includes(text)) return text as Engine;
  throw new EngineError(`unknown engine '${text}' (expected ${ENGINES.join(" or ")})`);
}

/** What both engines offer: one CPU's machine running prepared programs. */
export interface Runner {
  readonly memory: AddressSpace;
  readonly stack: Region;
  /** the helpers' register file */
  readonly regs: Int32Array;
  /** instructions the last run executed (-1 when the JIT ran it without a budget) */
  readonly insns: number;
  run(program: Program, options?: RunOptions): RunResult;
}

export interface RunnerOptions<Host> {
  memory: AddressSpace;
  helpers?: HelperTable<Host>;
  host?: Host;
  /** a stack region of at least MAX_CALL_FRAMES * 512 bytes (allocated if absent) */
  stack?: Region;
  /** JIT only: how loads and stores are checked (default "regions", as the interpreter) */
  checks?: MemoryChecks;
  /** JIT only: what the verifier proved about a program */
  facts?: (program: Program) => JitFacts | undefined;
}

/** Per instruction, what a verifier proved (runtime/verifier's InsnFact has this shape). */
export interface VerifierInsnFact {
  /** loads, stores, atomics: the kinds of region proven on every path that reached it */
  readonly access?: readonly string[];
}

/**
 * JIT facts from the verifier's: every load, store or atomic the verifier proved (on all the
 * paths that reach it) is compiled without a run-time check; lookups in the plain array maps
 * given (by map pointer, see JitFacts.arrayMaps) are compiled inline.
 */
export function factsFromVerifier(
  facts: ReadonlyArray<VerifierInsnFact | undefined>,
  arrayMaps?: ReadonlyMap<number, JitArrayMap>,
): JitFacts {
  const access = facts.map((f) =>
    f?.access !== undefined && f.access.length > 0 ? f.access.join("|") : undefined,
  );
  return arrayMaps !== undefined && arrayMaps.size > 0 ? { access, arrayMaps } : { access };
}

/** A machine of the chosen engine. */
export function createRunner<Host = unknown>(engine: Engine, options: RunnerOptions<Host>): Runner {
  if (engine === "interp") {
    return new Interpreter<Host>({
      memory: options.memory,
      ...(options.helpers ? { helpers: options.helpers } : {}),
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.stack ? { stack: options.stack } : {}),
    });
  }
  return new JitMachine<Host>(options);
}

export interface CompileProgramOptions<Host> {
  /** the address space to run in (a fresh one if absent) */
  memory?: AddressSpace;
  helpers?: HelperTable<Host>;
  host?: Host;
  stack?: Region;
  checks?: MemoryChecks;
  facts?: JitFacts;
  /** for slots: the program's name in messages, and the loader's lddw resolver */
  name?: string;
  resolvePseudo?: PseudoResolver;
}

/** A program compiled by the JIT, bound to a machine. */
export interface JitProgram {
  readonly program: Program;
  readonly machine: JitMachine<unknown>;
  /** the compiled module (uncounted variant; a budget compiles the counted one on demand) */
  readonly module: JitModule;
  run(options?: RunOptions): RunResult;
}

/** Compile a program (or raw slots, prepared first) for a machine of its own. */
export function compileProgram<Host = unknown>(
  source: Program | readonly Insn[],
  options: CompileProgramOptions<Host> = {},
): JitProgram {
  const program =
    source instanceof Program
      ? source
      : prepareProgram(source, {
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.resolvePseudo ? { resolvePseudo: options.resolvePseudo } : {}),
        });
  const facts = options.facts;
  const machine = new JitMachine<Host>({
    memory: options.memory ?? new AddressSpace(),
    ...(options.helpers ? { helpers: options.helpers } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.stack ? { stack: options.stack } : {}),
    ...(options.checks ? { checks: options.checks } : {}),
    ...(facts ? { facts: () => facts } : {}),
  });
  const module = machine.compile(program);
  return {
    program,
    machine: machine as JitMachine<unknown>,
    module,
    run: (runOptions: RunOptions = {}) => machine.run(program, runOptions),
  };
}
