// The bpf() system call of the simulated kernel.
export { BpfSyscall, bpfOf, type BpfCommandAttrs, type BpfSyscallOptions } from "./syscall.js";
export { BpfSyscallError } from "./error.js";
export { BpfMapObject, BpfProgObject, type LoadedProgram as LoadedBpfProgram } from "./objects.js";
export type { Engine } from "./engine.js";
export { progTag } from "./tag.js";
export {
  runVerifier,
  type VerifierMapInfo,
  type VerifierRequest,
  type VerifierVerdict,
} from "./verify.js";
export { SK_BUFF_CTX_SIZE, SkBuff } from "./test-run.js";
export type * from "./attr.js";
