// The JIT's public API: choose an engine, run programs on a machine of either kind, or compile
// one program for a machine of its own. See machine.ts for the run model and codegen.ts for
// what is checked.
export {
  compileProgram,
  createRunner,
  DEFAULT_ENGINE,
  EngineError,
  ENGINES,
  factsFromVerifier,
  parseEngine,
  type CompileProgramOptions,
  type Engine,
  type JitProgram,
  type Runner,
  type RunnerOptions,
  type VerifierInsnFact,
} from "./engine.js";
export { cachedModule, JitMachine, type JitMachineOptions } from "./machine.js";
export { compileModule, JitError, type CompileOptions, type JitModule } from "./compile.js";
export type { JitArrayMap, JitFacts, MemoryChecks } from "./codegen.js";
