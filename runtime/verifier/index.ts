// The verifier: kernel-faithful safety checking of BPF programs with messages people can act on.
export {
  verify,
  sourceOf,
  type FuncInfo,
  type LineInfo,
  type SubprogInfo,
  type VerifyEnv,
  type VerifyMap,
  type VerifyProgram,
  type VerifyResult,
  type VerifyStats,
} from "./verifier.js";
export { VerifierError, type SourcePlace } from "./errors.js";
export type { AccessRegion, InsnFact } from "./facts.js";
export type { KernelSetting } from "./env.js";
export { licenseIsGplCompatible } from "./check-helper.js";
