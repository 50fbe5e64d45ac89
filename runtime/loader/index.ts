// Loading BPF objects into the simulated kernel (libbpf's load phase).
export { LoadError } from "./error.js";
export { relocateProgram, type ExternResolution, type RelocatedProgram } from "./relocate.js";
export {
  LoadedObject,
  ObjectLoader,
  loadObject,
  type LoadOptions,
  type LoadedMap,
  type LoadedProgram,
  type LoaderMap,
  type LoaderProgram,
} from "./load.js";
