// BPF maps with the kernel's semantics: what the loader, the helpers and the bpf() facade use.
export { MapError } from "./error.js";
export { BpfMap, BPF_F_ACCESS_MASK, round8, type MapAttr, type MapEnv } from "./map.js";
export { ArrayMap, PCPU_MIN_UNIT_SIZE } from "./array.js";
export { HashMap, MAP_MEMORY_LIMIT } from "./hashtab.js";
export {
  FdArrayMap,
  PerfEventArrayMap,
  ProgArrayMap,
  type FdArrayHooks,
  type PerfOutputTarget,
  type ProgArrayEntry,
} from "./fd-array.js";
export { RingbufMap, ringbufOfSample } from "./ringbuf.js";
export { StackTraceMap, PERF_EVENT_MAX_STACK } from "./stackmap.js";
export {
  createGlobalDataMap,
  createMap,
  createMapOrThrow,
  isSupportedMapType,
  isValidObjName,
  type GlobalDataKind,
} from "./create.js";
export { MapView, PercpuMapView } from "./view.js";
export * as codec from "./codec.js";
export { jhash, jhash2, htabMapHash } from "./jhash.js";
