// Which context loads and stores each program type allows (the kernel's *_is_valid_access
// callbacks), and what a load from the context yields.
import { BpfProgType } from "../uapi/bpf.js";
import { PT_REGS_SIZE } from "../uapi/ptregs.js";
import { PTR_MAYBE_NULL, RegType } from "./reg.js";

const P = BpfProgType;

/** struct bpf_perf_event_data: pt_regs, then sample_period and addr. */
const PERF_EVENT_DATA_SIZE = PT_REGS_SIZE + 16;
/** PERF_MAX_TRACE_SIZE: the tracepoint record a program may read. */
const PERF_MAX_TRACE_SIZE = 8192;
/** MAX_BPF_FUNC_ARGS raw tracepoint arguments of 8 bytes. */
const RAW_TP_ARGS_SIZE = 12 * 8;

/** Offsets in struct __sk_buff (linux/bpf.h). */
export const SkBuff = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48, // __u32 cb[5]
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  napi_id: 84,
  family: 88,
  remote_ip4: 92,
  local_ip4: 96,
  remote_ip6: 100, // __u32[4]
  local_ip6: 116, // __u32[4]
  remote_port: 132,
  local_port: 136,
  data_meta: 140,
  flow_keys: 144,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  sk: 168,
  gso_size: 176,
  tstamp_type: 180,
  hwtstamp: 184,
  SIZE: 192,
} as const;

/** What a context access gives: undefined when refused, else the loaded value's type. */
export interface CtxAccess {
  /** RegType of the loaded value: a scalar, or a pointer for fields that hold one */
  regType: number;
}

const SCALAR: CtxAccess = { regType: RegType.SCALAR_VALUE };
const inRange = (off: number, size: number, start: number, end: number): boolean =>
  off >= start && off < end && off + size <= end;
/** A narrow load of a field of `fieldSize` bytes (bpf_ctx_narrow_access_ok). */
const narrowOk = (size: number, fieldSize: number): boolean =>
  size <= fieldSize && (size & (size - 1)) === 0;

function kprobeAccess(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= PT_REGS_SIZE || write || off % size !== 0) return undefined;
  if (off + size > PT_REGS_SIZE) return undefined;
  return SCALAR;
}

function tracepointAccess(off: number, size: number, write: boolean): CtxAccess | undefined {
  // The first 8 bytes (common fields) are not readable.
  if (off < 8 || off >= PERF_MAX_TRACE_SIZE || write || off % size !== 0) return undefined;
  return SCALAR;
}

function perfEventAccess(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= PERF_EVENT_DATA_SIZE || write || off % size !== 0) return undefined;
  if (off >= PT_REGS_SIZE) return narrowOk(size, 8) ? SCALAR : undefined; // sample_period, addr
  return size === 8 ? SCALAR : undefined; // registers: whole longs only
}

function rawTracepointAccess(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= RAW_TP_ARGS_SIZE || write || off % size !== 0) return undefined;
  return SCALAR;
}

const S = SkBuff;

/** bpf_skb_is_valid_access after sk_filter_is_valid_access's own refusals. */
function socketFilterAccess(off: number, size: number, write: boolean): CtxAccess | undefined {
  if (off < 0 || off >= S.SIZE || off % size !== 0) return undefined;
  // Fields a socket filter never sees.
  if (
    inRange(off, 1, S.tc_classid, S.tc_classid + 4) ||
    inRange(off, 1, S.data, S.data + 4) ||
    inRange(off, 1, S.data_meta, S.data_meta + 4) ||
    inRange(off, 1, S.data_end, S.data_end + 4) ||
    inRange(off, 1, S.family, S.local_port + 4) ||
    inRange(off, 1, S.tstamp, S.tstamp + 8) ||
    inRange(off, 1, S.wire_len, S.wire_len + 4) ||
    inRange(off, 1, S.hwtstamp, S.hwtstamp + 8)
  ) {
    return undefined;
  }
  if (write && !inRange(off, 1, S.cb, S.cb + 20)) return undefined;
  if (inRange(off, 1, S.cb, S.cb + 20)) return off + size <= S.cb + 20 ? SCALAR : undefined;
  if (inRange(off, 1, S.flow_keys, S.flow_keys + 8)) return undefined;
  if (off === S.sk) {
    if (write || size !== 8) return undefined;
    return { regType: RegType.PTR_TO_SOCK_COMMON | PTR_MAYBE_NULL };
  }
  if (inRange(off, 1, S.sk, S.sk + 8)) return undefined;
  if (off === S.tstamp_type || inRange(off, 1, S.tstamp_type + 1, S.hwtstamp)) return undefined;
  if (write) return size === 4 ? SCALAR : undefined;
  return narrowOk(size, 4) ? SCALAR : undefined;
}

/** check_ctx_access for the modelled program types. */
export function ctxAccess(
  progType: number,
  off: number,
  size: number,
  write: boolean,
): CtxAccess | undefined {
  switch (progType) {
    case P.BPF_PROG_TYPE_KPROBE:
      return kprobeAccess(off, size, write);
    case P.BPF_PROG_TYPE_TRACEPOINT:
      return tracepointAccess(off, size, write);
    case P.BPF_PROG_TYPE_PERF_EVENT:
      return perfEventAccess(off, size, write);
    case P.BPF_PROG_TYPE_RAW_TRACEPOINT:
      return rawTracepointAccess(off, size, write);
    case P.BPF_PROG_TYPE_SOCKET_FILTER:
      return socketFilterAccess(off, size, write);
    default:
      return undefined;
  }
}

/** The context's name in hints. */
export function ctxName(progType: number): string {
  switch (progType) {
    case P.BPF_PROG_TYPE_KPROBE:
      return "struct pt_regs (read-only, aligned, 168 bytes)";
    case P.BPF_PROG_TYPE_TRACEPOINT:
      return "the tracepoint record (read-only, from offset 8)";
    case P.BPF_PROG_TYPE_PERF_EVENT:
      return "struct bpf_perf_event_data (read-only)";
    case P.BPF_PROG_TYPE_RAW_TRACEPOINT:
      return "the raw tracepoint's u64 arguments (read-only)";
    case P.BPF_PROG_TYPE_SOCKET_FILTER:
      return "struct __sk_buff (only cb[] is writable)";
    default:
      return "this program type's context";
  }
}
