// The abstract value of one register (struct bpf_reg_state): its type, and for scalars and
// pointer offsets the tnum plus signed/unsigned 64- and 32-bit bounds.
//
// A RegState stored in a verifier state is never mutated: states share RegState objects after a
// copy, so code that changes a register clones it first (`clone()`), changes the clone and puts
// it back. Types follow the kernel's encoding: a base type in the low 8 bits and flag bits above
// (the flag values are shared with runtime/uapi/helpers.ts).
import { MEM_RDONLY, MEM_RINGBUF, PTR_MAYBE_NULL, PTR_TRUSTED } from "../uapi/helpers.js";
import * as tn from "./tnum.js";
import type { Tnum } from "./tnum.js";
import * as u from "./u64.js";
import type { U64 } from "./u64.js";

export { MEM_RDONLY, MEM_RINGBUF, PTR_MAYBE_NULL, PTR_TRUSTED };

/** enum bpf_reg_type (base types). */
export const RegType = {
  NOT_INIT: 0,
  SCALAR_VALUE: 1,
  PTR_TO_CTX: 2,
  CONST_PTR_TO_MAP: 3,
  PTR_TO_MAP_VALUE: 4,
  PTR_TO_MAP_KEY: 5,
  PTR_TO_STACK: 6,
  PTR_TO_PACKET_META: 7,
  PTR_TO_PACKET: 8,
  PTR_TO_PACKET_END: 9,
  PTR_TO_SOCKET: 10,
  PTR_TO_SOCK_COMMON: 11,
  PTR_TO_TCP_SOCK: 12,
  PTR_TO_BTF_ID: 13,
  PTR_TO_MEM: 14,
  PTR_TO_BUF: 15,
  PTR_TO_FUNC: 16,
} as const;

const T = RegType;
const BASE_MASK = 0xff;
export const baseOf = (type: number): number => type & BASE_MASK;
export const mayBeNull = (type: number): boolean => (type & PTR_MAYBE_NULL) !== 0;

const baseNames: Record<number, string> = {
  [T.NOT_INIT]: "?",
  [T.SCALAR_VALUE]: "scalar",
  [T.PTR_TO_CTX]: "ctx",
  [T.CONST_PTR_TO_MAP]: "map_ptr",
  [T.PTR_TO_MAP_VALUE]: "map_value",
  [T.PTR_TO_STACK]: "fp",
  [T.PTR_TO_PACKET]: "pkt",
  [T.PTR_TO_PACKET_META]: "pkt_meta",
  [T.PTR_TO_PACKET_END]: "pkt_end",
  [T.PTR_TO_SOCKET]: "sock",
  [T.PTR_TO_SOCK_COMMON]: "sock_common",
  [T.PTR_TO_TCP_SOCK]: "tcp_sock",
  [T.PTR_TO_BTF_ID]: "ptr_",
  [T.PTR_TO_MEM]: "mem",
  [T.PTR_TO_BUF]: "buf",
  [T.PTR_TO_FUNC]: "func",
  [T.PTR_TO_MAP_KEY]: "map_key",
};

/** The kernel's reg_type_str(): "map_value_or_null", "ringbuf_mem", "trusted_ptr_". */
export function regTypeStr(type: number): string {
  const base = baseOf(type);
  let postfix = "";
  if (type & PTR_MAYBE_NULL) postfix = base === T.PTR_TO_BTF_ID ? "or_null_" : "_or_null";
  const prefix =
    (type & MEM_RDONLY ? "rdonly_" : "") +
    (type & MEM_RINGBUF ? "ringbuf_" : "") +
    (type & PTR_TRUSTED ? "trusted_" : "");
  return prefix + (baseNames[base] ?? "?") + postfix;
}

/** What the verifier knows of a map (from env.mapByFd). */
export interface MapInfo {
  readonly fd: number;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name?: string;
  readonly frozen?: boolean;
  /** contents of the single value of a frozen read-only array map (.rodata), if known */
  readonly value?: Uint8Array;
  /** a map of maps' inner map template (what a successful lookup yields) */
  readonly innerMap?: MapInfo | undefined;
}

export class RegState {
  type: number = T.NOT_INIT;
  /** fixed offset of a pointer */
  off = 0;
  varOff: Tnum = tn.TNUM_UNKNOWN;
  smin: U64 = u.S64_MIN;
  smax: U64 = u.S64_MAX;
  umin: U64 = u.ZERO;
  umax: U64 = u.U64_MAX;
  /** 32-bit bounds: s32 as int32, u32 as uint32 numbers */
  s32min = -0x80000000;
  s32max = 0x7fffffff;
  u32min = 0;
  u32max = 0xffffffff;
  /** ties copies of one scalar (linked bounds) or of one maybe-null pointer */
  id = 0;
  /** the acquired reference this pointer holds (ringbuf record) */
  refObjId = 0;
  map: MapInfo | undefined = undefined;
  /** PTR_TO_MEM: accessible bytes */
  memSize = 0;
  /** PTR_TO_STACK: which call frame's stack */
  frameno = 0;
  /** PTR_TO_BTF_ID: the kernel struct */
  btfName = "";
  /** PTR_TO_FUNC: the subprogram (callback) it points to */
  subprogno = 0;
  /** scalar whose exact value matters for safety (state pruning compares it) */
  precise = false;

  clone(): RegState {
    const r = new RegState();
    r.type = this.type;
    r.off = this.off;
    r.varOff = this.varOff;
    r.smin = this.smin;
    r.smax = this.smax;
    r.umin = this.umin;
    r.umax = this.umax;
    r.s32min = this.s32min;
    r.s32max = this.s32max;
    r.u32min = this.u32min;
    r.u32max = this.u32max;
    r.id = this.id;
    r.refObjId = this.refObjId;
    r.map = this.map;
    r.memSize = this.memSize;
    r.frameno = this.frameno;
    r.btfName = this.btfName;
    r.subprogno = this.subprogno;
    r.precise = this.precise;
    return r;
  }

  get isScalar(): boolean {
    return this.type === T.SCALAR_VALUE;
  }

  /** A pointer of any kind (not NOT_INIT, not a scalar). */
  get isPointer(): boolean {
    return this.type !== T.NOT_INIT && this.type !== T.SCALAR_VALUE;
  }
}

export const NOT_INIT_REG: RegState = new RegState();
