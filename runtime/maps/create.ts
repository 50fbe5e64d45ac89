// BPF_MAP_CREATE (kernel/bpf/syscall.c map_create): the checks every map goes through, then the
// type's own alloc check and allocation. createMap() returns the map or a negative errno, as
// bpf() does; createMapOrThrow() raises a MapError naming the map and the rule instead.
//
// Every EINVAL / E2BIG rule is the kernel's (test/maps/kernel.test.ts compares them with the
// running kernel). Where the kernel would simply try to allocate, tsbpf has a budget instead: a
// map whose memory, counted as the kernel counts it, exceeds MAP_MEMORY_LIMIT (1 GiB) is -ENOMEM,
// where a real machine with enough memory creates it (a 2 GiB array value, a 2 GiB ring).
import {
  BPF_F_MMAPABLE,
  BPF_F_NUMA_NODE,
  BPF_F_RDONLY,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY,
  BPF_OBJ_NAME_LEN,
  BpfMapType,
  mapTypeName,
  mapTypeShortName,
} from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { ArrayMap, arrayMapAllocCheck } from "./array.js";
import { MapError } from "./error.js";
import { fdArrayMapAllocCheck, PerfEventArrayMap, ProgArrayMap } from "./fd-array.js";
import { HashMap, htabMapAllocCheck, htabMapAllocSize, MAP_MEMORY_LIMIT } from "./hashtab.js";
import { tryAlloc, type BpfMap, type MapAttr, type MapEnv } from "./map.js";
import {
  ArrayOfMapsMap,
  fdHtabMapAllocCheck,
  HashOfMapsMap,
  innerMapMetaCheck,
} from "./map-in-map.js";
import { RingbufMap, ringbufMapAllocCheck } from "./ringbuf.js";
import { StackTraceMap, stackMapAllocCheck } from "./stackmap.js";

/** The simulated machine has one NUMA node. */
const NR_NODE_IDS = 1;

interface MapTypeOps {
  allocCheck(attr: MapAttr, env: MapEnv): number;
  alloc(env: MapEnv, attr: MapAttr): BpfMap;
}

const T = BpfMapType;

const arrayOps: MapTypeOps = {
  allocCheck: (attr) => arrayMapAllocCheck(attr) || arraySize(attr),
  alloc: (env, attr) => new ArrayMap(env, attr),
};

const hashOps: MapTypeOps = {
  allocCheck: (attr, env) => htabMapAllocCheck(attr) || htabMapAllocSize(attr, env.possibleCpus),
  alloc: (env, attr) => new HashMap(env, attr),
};

/** The map types tsbpf implements, by bpf_map_type. */
const mapTypes = new Map<number, MapTypeOps>([
  [T.BPF_MAP_TYPE_ARRAY, arrayOps],
  [T.BPF_MAP_TYPE_PERCPU_ARRAY, arrayOps],
  [T.BPF_MAP_TYPE_HASH, hashOps],
  [T.BPF_MAP_TYPE_PERCPU_HASH, hashOps],
  [T.BPF_MAP_TYPE_LRU_HASH, hashOps],
  [T.BPF_MAP_TYPE_LRU_PERCPU_HASH, hashOps],
  [
    T.BPF_MAP_TYPE_PROG_ARRAY,
    {
      allocCheck: (attr) => fdArrayMapAllocCheck(attr) || arraySize(attr),
      alloc: (env, attr) => new ProgArrayMap(env, attr),
    },
  ],
  [
    T.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    {
      allocCheck: (attr) => fdArrayMapAllocCheck(attr) || arraySize(attr),
      alloc: (env, attr) => new PerfEventArrayMap(env, attr),
    },
  ],
  [
    T.BPF_MAP_TYPE_ARRAY_OF_MAPS,
    {
      // fd_array_map_alloc_check, then array_of_map_alloc's bpf_map_meta_alloc
      allocCheck: (attr) =>
        fdArrayMapAllocCheck(attr) || arraySize(attr) || innerMapMetaCheck(attr.innerMeta),
      alloc: (env, attr) => new ArrayOfMapsMap(env, attr, attr.innerMeta!),
    },
  ],
  [
    T.BPF_MAP_TYPE_HASH_OF_MAPS,
    {
      allocCheck: (attr, env) =>
        fdHtabMapAllocCheck(attr) ||
        htabMapAllocSize(attr, env.possibleCpus) ||
        innerMapMetaCheck(attr.innerMeta),
      alloc: (env, attr) => new HashOfMapsMap(env, attr, attr.innerMeta!),
    },
  ],
  [
    T.BPF_MAP_TYPE_RINGBUF,
    {
      allocCheck: (attr) =>
        ringbufMapAllocCheck(attr) || (2 * attr.maxEntries > MAP_MEMORY_LIMIT ? -Errno.ENOMEM : 0),
      alloc: (env, attr) => new RingbufMap(env, attr),
    },
  ],
  [
    T.BPF_MAP_TYPE_STACK_TRACE,
    {
      allocCheck: (attr) => stackMapAllocCheck(attr),
      alloc: (env, attr) => new StackTraceMap(env, attr),
    },
  ],
]);

/** The memory an array-backed map would take: more than the simulation allows is -ENOMEM. */
function arraySize(attr: MapAttr): number {
  const elemSize = Math.ceil(attr.valueSize / 8) * 8;
  return attr.maxEntries * elemSize > MAP_MEMORY_LIMIT ? -Errno.ENOMEM : 0;
}

/** Is a bpf_map_type one tsbpf can create? */
export function isSupportedMapType(type: number): boolean {
  return mapTypes.has(type);
}

/** bpf_obj_name_cpy(): letters, digits, '_' and '.', shorter than BPF_OBJ_NAME_LEN. */
export function isValidObjName(name: string): boolean {
  return name.length < BPF_OBJ_NAME_LEN && /^[A-Za-z0-9_.]*$/.test(name);
}

/** Why map_create refuses: the first rule the attributes break, or undefined. */
function commonCheck(attr: MapAttr): { errno: number; why: string } | undefined {
  const flags = attr.mapFlags ?? 0;
  for (const field of ["mapType", "keySize", "valueSize", "maxEntries", "mapFlags"] as const) {
    const value = attr[field] ?? 0;
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      return { errno: Errno.EINVAL, why: `${field} ${value} is not a u32` };
  }
  const type = mapTypes.get(attr.mapType);
  if (attr.mapType !== T.BPF_MAP_TYPE_BLOOM_FILTER && (attr.mapExtra ?? 0) !== 0)
    return { errno: Errno.EINVAL, why: "map_extra is only for bloom filters" };
  if ((flags & BPF_F_RDONLY) !== 0 && (flags & BPF_F_WRONLY) !== 0)
    return { errno: Errno.EINVAL, why: "BPF_F_RDONLY and BPF_F_WRONLY together" };
  if ((flags & BPF_F_NUMA_NODE) !== 0) {
    const node = attr.numaNode ?? 0;
    if (!Number.isInteger(node) || node < 0 || node >= NR_NODE_IDS)
      return { errno: Errno.EINVAL, why: `NUMA node ${node} does not exist` };
  }
  if (type === undefined) {
    const known = mapTypeName(attr.mapType);
    return {
      errno: Errno.EINVAL,
      why: known === undefined ? "unknown map type" : `${known} is not supported by tsbpf`,
    };
  }
  return undefined;
}

/**
 * BPF_MAP_CREATE: the new map, or a negative errno exactly as the kernel's bpf() returns it
 * (EINVAL for bad attributes, E2BIG for sizes the type cannot hold, ENOMEM when the simulated
 * kernel would run out of memory).
 */
export function createMap(env: MapEnv, attr: MapAttr): BpfMap | number {
  const result = createMapChecked(env, attr);
  return result instanceof MapError ? -result.errno : result;
}

/** BPF_MAP_CREATE that throws a MapError (with the rule that failed) instead of returning errno. */
export function createMapOrThrow(env: MapEnv, attr: MapAttr): BpfMap {
  const result = createMapChecked(env, attr);
  if (result instanceof MapError) throw result;
  return result;
}

function createMapChecked(env: MapEnv, attr: MapAttr): BpfMap | MapError {
  const name = attr.name ?? "";
  const kind = mapTypeShortName(attr.mapType) ?? `type ${attr.mapType}`;
  const fail = (errno: number, why: string): MapError =>
    MapError.of(name, kind, "create", errno, why);
  const common = commonCheck(attr);
  if (common !== undefined) return fail(common.errno, common.why);
  const ops = mapTypes.get(attr.mapType)!;
  const err = ops.allocCheck(attr, env);
  if (err !== 0) return fail(-err, describeAttr(attr));
  if (!isValidObjName(name)) return fail(Errno.EINVAL, `bad map name '${name}'`);
  const map = tryAlloc(() => ops.alloc(env, attr));
  if (typeof map === "number") return fail(-map, "the simulated address space is exhausted");
  return map;
}

function describeAttr(attr: MapAttr): string {
  return (
    `key_size ${attr.keySize}, value_size ${attr.valueSize}, max_entries ${attr.maxEntries}, ` +
    `map_flags 0x${(attr.mapFlags ?? 0).toString(16)}`
  );
}

/** The three kinds of global-data map libbpf makes from .data, .rodata and .bss. */
export type GlobalDataKind = "data" | "rodata" | "bss";

/**
 * A global-data map as libbpf creates it for an object's .data / .rodata / .bss section: a
 * one-element ARRAY (key u32 0) of the section's size, BPF_F_MMAPABLE, and for .rodata also
 * BPF_F_RDONLY_PROG; the section's bytes are written in (.bss stays zero), and .rodata is then
 * frozen so neither programs nor the syscall side can change it.
 */
export function createGlobalDataMap(
  env: MapEnv,
  name: string,
  kind: GlobalDataKind,
  size: number,
  initial?: Uint8Array,
): ArrayMap {
  const mapFlags = BPF_F_MMAPABLE | (kind === "rodata" ? BPF_F_RDONLY_PROG : 0);
  const map = createMapOrThrow(env, {
    mapType: T.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: size,
    maxEntries: 1,
    mapFlags,
    name,
  }) as ArrayMap;
  if (initial !== undefined && kind !== "bss") {
    const value = new Uint8Array(size);
    value.set(initial.subarray(0, size));
    const err = map.sysUpdate(new Uint8Array(4), value, 0);
    if (err !== 0) throw map.error("populate", -err);
  }
  if (kind === "rodata") map.freeze();
  return map;
}
