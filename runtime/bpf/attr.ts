// union bpf_attr for the commands the facade implements, and what BPF_OBJ_GET_INFO_BY_FD
// returns, in TypeScript form: the kernel's field names in camelCase, user buffers as
// Uint8Array, instructions as Insn[] (or their raw bytes).
import type { Btf } from "../btf/btf.js";
import type { Insn } from "../isa/insn.js";
import type { MapAttr } from "../maps/map.js";
import type { BpfFuncInfo, BpfLineInfo } from "../object/open.js";

/** BPF_MAP_CREATE: map_type, key_size, value_size, max_entries, map_flags, numa_node, map_name. */
export type MapCreateAttr = Omit<MapAttr, "innerMeta"> & {
  /** ARRAY_OF_MAPS / HASH_OF_MAPS: a map of the kind every element will be */
  innerMapFd?: number;
};

/** BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM. */
export interface MapElemAttr {
  mapFd: number;
  /** null: a NULL key pointer */
  key: Uint8Array | null;
  /** lookup: filled in; update: read (unused by delete) */
  value?: Uint8Array;
  flags?: number;
}

/** BPF_MAP_GET_NEXT_KEY */
export interface MapNextKeyAttr {
  mapFd: number;
  /** null: start from the first key */
  key: Uint8Array | null;
  nextKey: Uint8Array;
}

/** BPF_PROG_LOAD */
export interface ProgLoadAttr {
  progType: number;
  /** the instructions, as Insn[] or their bytes (8 per slot) */
  insns: readonly Insn[] | Uint8Array;
  /** insn_cnt; default: every instruction given */
  insnCnt?: number;
  /** the license string (the kernel reads it up to its NUL) */
  license: string;
  logLevel?: number;
  /** log_size; default: logBuf's length */
  logSize?: number;
  logBuf?: Uint8Array;
  kernVersion?: number;
  progFlags?: number;
  /** prog_name: at most 15 characters of [A-Za-z0-9_.] */
  progName?: string;
  expectedAttachType?: number;
  /** map fds for lddw with BPF_PSEUDO_MAP_IDX / BPF_PSEUDO_MAP_IDX_VALUE */
  fdArray?: readonly number[];
  /** the object's BTF and the program's func_info / line_info (instruction indexes of `insns`) */
  btf?: Btf;
  funcInfo?: readonly BpfFuncInfo[];
  lineInfo?: readonly BpfLineInfo[];
}

/** BPF_PROG_TEST_RUN */
export interface ProgTestRunAttr {
  progFd: number;
  dataIn?: Uint8Array;
  /** where data_out goes; its length is data_size_out */
  dataOut?: Uint8Array;
  ctxIn?: Uint8Array;
  ctxOut?: Uint8Array;
  /** 0 means 1 */
  repeat?: number;
  flags?: number;
  /** with BPF_F_TEST_RUN_ON_CPU */
  cpu?: number;
}

export interface ProgTestRunResult {
  retval: number;
  /** average ns per run: the simulated clock does not move while programs run, so 0 */
  duration: number;
  /** bytes the program's packet had (data_size_out): may exceed dataOut's length (ENOSPC) */
  dataSizeOut: number;
  ctxSizeOut: number;
}

/** BPF_LINK_CREATE */
export interface LinkCreateAttr {
  progFd: number;
  /** the perf event fd for BPF_PERF_EVENT */
  targetFd: number;
  attachType: number;
  flags?: number;
  /** perf_event.bpf_cookie: a u64 */
  bpfCookie?: number | bigint;
}

/** struct bpf_prog_info (the fields the simulation has). */
export interface BpfProgInfo {
  kind: "prog";
  type: number;
  id: number;
  /** the first 8 bytes of the SHA-1 of the instructions, as 16 hex digits */
  tag: string;
  /** bytes of the loaded instructions (no verifier rewrites are applied, so = insn_cnt * 8) */
  xlatedProgLen: number;
  /** the loaded instructions with map fds replaced by map ids, as the kernel dumps them */
  xlatedProgInsns: Insn[];
  jitedProgLen: number;
  /** CLOCK_BOOTTIME of the load, ns */
  loadTime: number;
  createdByUid: number;
  mapIds: number[];
  name: string;
  gplCompatible: boolean;
  expectedAttachType: number;
  verifiedInsns: number;
  runTimeNs: number;
  runCnt: number;
  recursionMisses: number;
  nrFuncInfo: number;
  nrLineInfo: number;
}

/** struct bpf_map_info */
export interface BpfMapInfo {
  kind: "map";
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  name: string;
}

/** struct bpf_link_info */
export interface BpfLinkInfo {
  kind: "link";
  type: number;
  id: number;
  progId: number;
}

export type BpfObjInfo = BpfProgInfo | BpfMapInfo | BpfLinkInfo;
