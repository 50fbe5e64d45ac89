// CO-RE: relocating programs built against one kernel's types (the program's .BTF) to the
// types of the kernel they load into (a target BTF), with libbpf's rules.
export { CoreRelocationError, ExternError } from "./error.js";
export {
  relocateCore,
  applyCoreRelo,
  type CoreRelo,
  type CoreRelocated,
  type CoreRelocateOptions,
  type CoreRelocationResult,
} from "./relocate.js";
export {
  relocateObjectCore,
  withCoreRelocations,
  explainPoisonedLoad,
  type CoreRelocatedObject,
  type ObjectCoreOptions,
  type ObjectCoreRelocation,
  type ObjectCoreResult,
} from "./object.js";
export { createCandidateCache, findCandidates, type CandidateCache } from "./candidates.js";
export { CORE_POISON_IMM, isPoisonedInsn } from "./patch.js";
export { coreReloKindName } from "./kinds.js";
export { essentialName, essentialNameLength } from "./names.js";
export { formatSpec, parseLocalSpec, type CoreSpec } from "./spec.js";
export { valueText, type CoreValue } from "./value.js";
export {
  collectExterns,
  kconfigSize,
  kconfigValue,
  resolveKsyms,
  kallsymsLookup,
  patchExternLddw,
  simKernelConfig,
  SIM_KERNEL_CONFIG,
  type BpfExtern,
  type KconfigExtern,
  type KsymExtern,
  type KernelConfigSource,
  type KsymAddress,
} from "./externs.js";
