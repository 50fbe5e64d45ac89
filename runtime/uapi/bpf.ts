// The bpf() system call's ABI as the kernel's uapi header defines it: command numbers, map,
// program, attach and link types, flag bits and the ring buffer's record header. Source of truth:
// /usr/include/linux/bpf.h (and bpf_common.h, version.h); test/uapi/bpf.test.ts has clang
// evaluate every constant below from the installed headers and compares.
//
// Enums are `as const` objects named after the kernel enum (bpf_map_type -> BpfMapType) whose
// keys are the kernel's enumerator names, so `BpfMapType.BPF_MAP_TYPE_HASH` greps like the kernel.
// Instruction-level constants (BPF_PSEUDO_*, MAX_BPF_STACK ...) live in runtime/isa/opcodes.ts.

/** enum bpf_cmd */
export const BpfCmd = {
  BPF_MAP_CREATE: 0,
  BPF_MAP_LOOKUP_ELEM: 1,
  BPF_MAP_UPDATE_ELEM: 2,
  BPF_MAP_DELETE_ELEM: 3,
  BPF_MAP_GET_NEXT_KEY: 4,
  BPF_PROG_LOAD: 5,
  BPF_OBJ_PIN: 6,
  BPF_OBJ_GET: 7,
  BPF_PROG_ATTACH: 8,
  BPF_PROG_DETACH: 9,
  BPF_PROG_TEST_RUN: 10,
  BPF_PROG_RUN: 10, // alias of BPF_PROG_TEST_RUN
  BPF_PROG_GET_NEXT_ID: 11,
  BPF_MAP_GET_NEXT_ID: 12,
  BPF_PROG_GET_FD_BY_ID: 13,
  BPF_MAP_GET_FD_BY_ID: 14,
  BPF_OBJ_GET_INFO_BY_FD: 15,
  BPF_PROG_QUERY: 16,
  BPF_RAW_TRACEPOINT_OPEN: 17,
  BPF_BTF_LOAD: 18,
  BPF_BTF_GET_FD_BY_ID: 19,
  BPF_TASK_FD_QUERY: 20,
  BPF_MAP_LOOKUP_AND_DELETE_ELEM: 21,
  BPF_MAP_FREEZE: 22,
  BPF_BTF_GET_NEXT_ID: 23,
  BPF_MAP_LOOKUP_BATCH: 24,
  BPF_MAP_LOOKUP_AND_DELETE_BATCH: 25,
  BPF_MAP_UPDATE_BATCH: 26,
  BPF_MAP_DELETE_BATCH: 27,
  BPF_LINK_CREATE: 28,
  BPF_LINK_UPDATE: 29,
  BPF_LINK_GET_FD_BY_ID: 30,
  BPF_LINK_GET_NEXT_ID: 31,
  BPF_ENABLE_STATS: 32,
  BPF_ITER_CREATE: 33,
  BPF_LINK_DETACH: 34,
  BPF_PROG_BIND_MAP: 35,
} as const;
export type BpfCmd = (typeof BpfCmd)[keyof typeof BpfCmd];

/** enum bpf_map_type */
export const BpfMapType = {
  BPF_MAP_TYPE_UNSPEC: 0,
  BPF_MAP_TYPE_HASH: 1,
  BPF_MAP_TYPE_ARRAY: 2,
  BPF_MAP_TYPE_PROG_ARRAY: 3,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY: 4,
  BPF_MAP_TYPE_PERCPU_HASH: 5,
  BPF_MAP_TYPE_PERCPU_ARRAY: 6,
  BPF_MAP_TYPE_STACK_TRACE: 7,
  BPF_MAP_TYPE_CGROUP_ARRAY: 8,
  BPF_MAP_TYPE_LRU_HASH: 9,
  BPF_MAP_TYPE_LRU_PERCPU_HASH: 10,
  BPF_MAP_TYPE_LPM_TRIE: 11,
  BPF_MAP_TYPE_ARRAY_OF_MAPS: 12,
  BPF_MAP_TYPE_HASH_OF_MAPS: 13,
  BPF_MAP_TYPE_DEVMAP: 14,
  BPF_MAP_TYPE_SOCKMAP: 15,
  BPF_MAP_TYPE_CPUMAP: 16,
  BPF_MAP_TYPE_XSKMAP: 17,
  BPF_MAP_TYPE_SOCKHASH: 18,
  BPF_MAP_TYPE_CGROUP_STORAGE: 19,
  BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: 20,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: 21,
  BPF_MAP_TYPE_QUEUE: 22,
  BPF_MAP_TYPE_STACK: 23,
  BPF_MAP_TYPE_SK_STORAGE: 24,
  BPF_MAP_TYPE_DEVMAP_HASH: 25,
  BPF_MAP_TYPE_STRUCT_OPS: 26,
  BPF_MAP_TYPE_RINGBUF: 27,
  BPF_MAP_TYPE_INODE_STORAGE: 28,
  BPF_MAP_TYPE_TASK_STORAGE: 29,
  BPF_MAP_TYPE_BLOOM_FILTER: 30,
  BPF_MAP_TYPE_USER_RINGBUF: 31,
} as const;
export type BpfMapType = (typeof BpfMapType)[keyof typeof BpfMapType];

/** enum bpf_prog_type */
export const BpfProgType = {
  BPF_PROG_TYPE_UNSPEC: 0,
  BPF_PROG_TYPE_SOCKET_FILTER: 1,
  BPF_PROG_TYPE_KPROBE: 2,
  BPF_PROG_TYPE_SCHED_CLS: 3,
  BPF_PROG_TYPE_SCHED_ACT: 4,
  BPF_PROG_TYPE_TRACEPOINT: 5,
  BPF_PROG_TYPE_XDP: 6,
  BPF_PROG_TYPE_PERF_EVENT: 7,
  BPF_PROG_TYPE_CGROUP_SKB: 8,
  BPF_PROG_TYPE_CGROUP_SOCK: 9,
  BPF_PROG_TYPE_LWT_IN: 10,
  BPF_PROG_TYPE_LWT_OUT: 11,
  BPF_PROG_TYPE_LWT_XMIT: 12,
  BPF_PROG_TYPE_SOCK_OPS: 13,
  BPF_PROG_TYPE_SK_SKB: 14,
  BPF_PROG_TYPE_CGROUP_DEVICE: 15,
  BPF_PROG_TYPE_SK_MSG: 16,
  BPF_PROG_TYPE_RAW_TRACEPOINT: 17,
  BPF_PROG_TYPE_CGROUP_SOCK_ADDR: 18,
  BPF_PROG_TYPE_LWT_SEG6LOCAL: 19,
  BPF_PROG_TYPE_LIRC_MODE2: 20,
  BPF_PROG_TYPE_SK_REUSEPORT: 21,
  BPF_PROG_TYPE_FLOW_DISSECTOR: 22,
  BPF_PROG_TYPE_CGROUP_SYSCTL: 23,
  BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: 24,
  BPF_PROG_TYPE_CGROUP_SOCKOPT: 25,
  BPF_PROG_TYPE_TRACING: 26,
  BPF_PROG_TYPE_STRUCT_OPS: 27,
  BPF_PROG_TYPE_EXT: 28,
  BPF_PROG_TYPE_LSM: 29,
  BPF_PROG_TYPE_SK_LOOKUP: 30,
  BPF_PROG_TYPE_SYSCALL: 31,
} as const;
export type BpfProgType = (typeof BpfProgType)[keyof typeof BpfProgType];

/** enum bpf_attach_type */
export const BpfAttachType = {
  BPF_CGROUP_INET_INGRESS: 0,
  BPF_CGROUP_INET_EGRESS: 1,
  BPF_CGROUP_INET_SOCK_CREATE: 2,
  BPF_CGROUP_SOCK_OPS: 3,
  BPF_SK_SKB_STREAM_PARSER: 4,
  BPF_SK_SKB_STREAM_VERDICT: 5,
  BPF_CGROUP_DEVICE: 6,
  BPF_SK_MSG_VERDICT: 7,
  BPF_CGROUP_INET4_BIND: 8,
  BPF_CGROUP_INET6_BIND: 9,
  BPF_CGROUP_INET4_CONNECT: 10,
  BPF_CGROUP_INET6_CONNECT: 11,
  BPF_CGROUP_INET4_POST_BIND: 12,
  BPF_CGROUP_INET6_POST_BIND: 13,
  BPF_CGROUP_UDP4_SENDMSG: 14,
  BPF_CGROUP_UDP6_SENDMSG: 15,
  BPF_LIRC_MODE2: 16,
  BPF_FLOW_DISSECTOR: 17,
  BPF_CGROUP_SYSCTL: 18,
  BPF_CGROUP_UDP4_RECVMSG: 19,
  BPF_CGROUP_UDP6_RECVMSG: 20,
  BPF_CGROUP_GETSOCKOPT: 21,
  BPF_CGROUP_SETSOCKOPT: 22,
  BPF_TRACE_RAW_TP: 23,
  BPF_TRACE_FENTRY: 24,
  BPF_TRACE_FEXIT: 25,
  BPF_MODIFY_RETURN: 26,
  BPF_LSM_MAC: 27,
  BPF_TRACE_ITER: 28,
  BPF_CGROUP_INET4_GETPEERNAME: 29,
  BPF_CGROUP_INET6_GETPEERNAME: 30,
  BPF_CGROUP_INET4_GETSOCKNAME: 31,
  BPF_CGROUP_INET6_GETSOCKNAME: 32,
  BPF_XDP_DEVMAP: 33,
  BPF_CGROUP_INET_SOCK_RELEASE: 34,
  BPF_XDP_CPUMAP: 35,
  BPF_SK_LOOKUP: 36,
  BPF_XDP: 37,
  BPF_SK_SKB_VERDICT: 38,
  BPF_SK_REUSEPORT_SELECT: 39,
  BPF_SK_REUSEPORT_SELECT_OR_MIGRATE: 40,
  BPF_PERF_EVENT: 41,
  BPF_TRACE_KPROBE_MULTI: 42,
  BPF_LSM_CGROUP: 43,
} as const;
export type BpfAttachType = (typeof BpfAttachType)[keyof typeof BpfAttachType];

/** enum bpf_link_type */
export const BpfLinkType = {
  BPF_LINK_TYPE_UNSPEC: 0,
  BPF_LINK_TYPE_RAW_TRACEPOINT: 1,
  BPF_LINK_TYPE_TRACING: 2,
  BPF_LINK_TYPE_CGROUP: 3,
  BPF_LINK_TYPE_ITER: 4,
  BPF_LINK_TYPE_NETNS: 5,
  BPF_LINK_TYPE_XDP: 6,
  BPF_LINK_TYPE_PERF_EVENT: 7,
  BPF_LINK_TYPE_KPROBE_MULTI: 8,
  BPF_LINK_TYPE_STRUCT_OPS: 9,
} as const;
export type BpfLinkType = (typeof BpfLinkType)[keyof typeof BpfLinkType];

/** enum bpf_core_relo_kind */
export const BpfCoreReloKind = {
  BPF_CORE_FIELD_BYTE_OFFSET: 0,
  BPF_CORE_FIELD_BYTE_SIZE: 1,
  BPF_CORE_FIELD_EXISTS: 2,
  BPF_CORE_FIELD_SIGNED: 3,
  BPF_CORE_FIELD_LSHIFT_U64: 4,
  BPF_CORE_FIELD_RSHIFT_U64: 5,
  BPF_CORE_TYPE_ID_LOCAL: 6,
  BPF_CORE_TYPE_ID_TARGET: 7,
  BPF_CORE_TYPE_EXISTS: 8,
  BPF_CORE_TYPE_SIZE: 9,
  BPF_CORE_ENUMVAL_EXISTS: 10,
  BPF_CORE_ENUMVAL_VALUE: 11,
  BPF_CORE_TYPE_MATCHES: 12,
} as const;
export type BpfCoreReloKind = (typeof BpfCoreReloKind)[keyof typeof BpfCoreReloKind];

// Reverse lookups: number -> enumerator name (the first name wins for aliases such as
// BPF_PROG_RUN, so 10 is BPF_PROG_TEST_RUN as bpftool prints it).
function reverse(table: Record<string, number>): Map<number, string> {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(table)) {
    if (!names.has(value)) names.set(value, name);
  }
  return names;
}

const cmdNames = reverse(BpfCmd);
const mapTypeNames = reverse(BpfMapType);
const progTypeNames = reverse(BpfProgType);
const attachTypeNames = reverse(BpfAttachType);
const linkTypeNames = reverse(BpfLinkType);

/** "BPF_MAP_CREATE" for 0; undefined for a number the header does not define. */
export const bpfCmdName = (cmd: number): string | undefined => cmdNames.get(cmd);
/** "BPF_MAP_TYPE_HASH" for 1. */
export const mapTypeName = (type: number): string | undefined => mapTypeNames.get(type);
/** "BPF_PROG_TYPE_KPROBE" for 2. */
export const progTypeName = (type: number): string | undefined => progTypeNames.get(type);
/** "BPF_TRACE_FENTRY" for 24. */
export const attachTypeName = (type: number): string | undefined => attachTypeNames.get(type);
/** "BPF_LINK_TYPE_PERF_EVENT" for 7. */
export const linkTypeName = (type: number): string | undefined => linkTypeNames.get(type);

// The short lower-case spelling bpftool and libbpf print ("hash", "percpu_array", "kprobe").
const shortName = (name: string | undefined, prefix: string): string | undefined =>
  name?.startsWith(prefix) ? name.slice(prefix.length).toLowerCase() : undefined;

/** "percpu_array" for BPF_MAP_TYPE_PERCPU_ARRAY. */
export const mapTypeShortName = (type: number): string | undefined =>
  shortName(mapTypeName(type), "BPF_MAP_TYPE_");
/** "kprobe" for BPF_PROG_TYPE_KPROBE. */
export const progTypeShortName = (type: number): string | undefined =>
  shortName(progTypeName(type), "BPF_PROG_TYPE_");

// --- Flags ---------------------------------------------------------------------------------

// BPF_MAP_UPDATE_ELEM flags (and bpf_map_update_elem's 4th argument).
export const BPF_ANY = 0; // create a new element or update an existing one
export const BPF_NOEXIST = 1; // create only: EEXIST if the key is present
export const BPF_EXIST = 2; // update only: ENOENT if the key is absent
export const BPF_F_LOCK = 4; // take the value's bpf_spin_lock while copying

// BPF_MAP_CREATE map_flags.
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NO_COMMON_LRU = 1 << 1;
export const BPF_F_NUMA_NODE = 1 << 2;
export const BPF_F_RDONLY = 1 << 3; // syscall side may only read
export const BPF_F_WRONLY = 1 << 4; // syscall side may only write
export const BPF_F_STACK_BUILD_ID = 1 << 5;
export const BPF_F_ZERO_SEED = 1 << 6;
export const BPF_F_RDONLY_PROG = 1 << 7; // program side may only read
export const BPF_F_WRONLY_PROG = 1 << 8; // program side may only write
export const BPF_F_CLONE = 1 << 9;
export const BPF_F_MMAPABLE = 1 << 10;
export const BPF_F_PRESERVE_ELEMS = 1 << 11;
export const BPF_F_INNER_MAP = 1 << 12;

// BPF_PROG_LOAD prog_flags.
export const BPF_F_STRICT_ALIGNMENT = 1 << 0;
export const BPF_F_ANY_ALIGNMENT = 1 << 1;
export const BPF_F_TEST_RND_HI32 = 1 << 2;
export const BPF_F_TEST_STATE_FREQ = 1 << 3;
export const BPF_F_SLEEPABLE = 1 << 4;
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;

// BPF_PROG_ATTACH attach_flags, BPF_PROG_QUERY and BPF_PROG_TEST_RUN flags.
export const BPF_F_ALLOW_OVERRIDE = 1 << 0;
export const BPF_F_ALLOW_MULTI = 1 << 1;
export const BPF_F_REPLACE = 1 << 2;
export const BPF_F_QUERY_EFFECTIVE = 1 << 0;
export const BPF_F_TEST_RUN_ON_CPU = 1 << 0;
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
/** BPF_LINK_CREATE kprobe_multi.flags: attach as kretprobes. */
export const BPF_F_KPROBE_MULTI_RETURN = 1 << 0;

// bpf_get_stackid / bpf_get_stack flags: low 8 bits are frames to skip.
export const BPF_F_SKIP_FIELD_MASK = 0xff;
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_FAST_STACK_CMP = 1 << 9; // get_stackid only
export const BPF_F_REUSE_STACKID = 1 << 10; // get_stackid only
export const BPF_F_USER_BUILD_ID = 1 << 11; // get_stack only

// bpf_perf_event_output / perf_event_read(_value) flags: the low 32 bits select the CPU slot
// of the PERF_EVENT_ARRAY; all ones means "this CPU". BPF_F_CTXLEN_MASK (bits 32-51, skb
// programs only) is above 32 bits but below 2^53, so a plain number holds it exactly.
export const BPF_F_INDEX_MASK = 0xffffffff;
export const BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;
export const BPF_F_CTXLEN_MASK = 0xfffff * 2 ** 32;

// bpf_ringbuf_output / submit / discard flags.
export const BPF_RB_NO_WAKEUP = 1 << 0;
export const BPF_RB_FORCE_WAKEUP = 1 << 1;
// bpf_ringbuf_query's second argument.
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;

// Ring buffer records: an 8-byte header {u32 len; u32 pg_off} before each sample; the top two
// bits of len say the record is still being written (busy) or was thrown away (discard).
// BUSY_BIT is 2^31: written as a positive number, so test with `(len & 0x80000000) !== 0`
// or compare `>>> 0` values.
export const BPF_RINGBUF_BUSY_BIT = 2 ** 31;
export const BPF_RINGBUF_DISCARD_BIT = 2 ** 30;
export const BPF_RINGBUF_HDR_SZ = 8;

/** bpf_{sk,task,inode}_storage_get flag: create the element if absent. */
export const BPF_LOCAL_STORAGE_GET_F_CREATE = 1 << 0;
/** bpf_read_branch_records flag: return the size needed instead of copying. */
export const BPF_F_GET_BRANCH_RECORDS_SIZE = 1 << 0;

// enum bpf_stack_build_id_status (BPF_F_STACK_BUILD_ID stack maps).
export const BPF_STACK_BUILD_ID_EMPTY = 0;
export const BPF_STACK_BUILD_ID_VALID = 1;
export const BPF_STACK_BUILD_ID_IP = 2;

// enum bpf_stats_type (BPF_ENABLE_STATS).
export const BPF_STATS_RUN_TIME = 0;

// --- Sizes ---------------------------------------------------------------------------------

/** prog_name / map_name are char[16], NUL included. */
export const BPF_OBJ_NAME_LEN = 16;
/** bpf_prog_info.tag: the first 8 bytes of the SHA-1 of the instructions. */
export const BPF_TAG_SIZE = 8;
export const BPF_BUILD_ID_SIZE = 20;
/** The classic (and 4.x unprivileged) instruction count limit, bpf_common.h. */
export const BPF_MAXINSNS = 4096;

// bpf_line_info.line_col packs line (high 22 bits) and column (low 10 bits).
export const bpfLineInfoLineNum = (lineCol: number): number => lineCol >>> 10;
export const bpfLineInfoLineCol = (lineCol: number): number => lineCol & 0x3ff;

// --- Kernel version ------------------------------------------------------------------------

/** KERNEL_VERSION(a, b, c) from linux/version.h; the sublevel saturates at 255. */
export function KERNEL_VERSION(major: number, minor: number, sublevel: number): number {
  return major * 65536 + minor * 256 + Math.min(sublevel, 255);
}

/** LINUX_VERSION_CODE of the installed uapi headers (linux-libc-dev 6.1.192). */
export const LINUX_VERSION_CODE = KERNEL_VERSION(6, 1, 192);

/** "6.1.192" for KERNEL_VERSION(6, 1, 192). */
export function kernelVersionString(code: number): string {
  return `${Math.floor(code / 65536)}.${Math.floor(code / 256) % 256}.${code % 256}`;
}

// --- Kernel-internal limits ----------------------------------------------------------------
// Not uapi: these are the kernel's own #defines (include/linux/bpf.h, bpf_verifier.h,
// kernel/trace/bpf_trace.c, kernel/bpf/helpers.c), with the kernel's names, as of 6.1.

/** Instructions the verifier may process before giving up (BPF_COMPLEXITY_LIMIT_INSNS). */
export const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;
/** Nested tail calls allowed (33 since 5.17; it was 32 before). */
export const MAX_TAIL_CALL_CNT = 33;
/** bpf_loop's nr_loops upper bound. */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;
/** Maps one program may reference. */
export const MAX_USED_MAPS = 64;
/** Subprograms (functions) one program may have. */
export const BPF_MAX_SUBPROGS = 256;
/** Helper arguments are passed in r1-r5. */
export const MAX_BPF_FUNC_REG_ARGS = 5;
/** bpf_trace_printk: at most three conversions. */
export const MAX_TRACE_PRINTK_VARARGS = 3;
/** bpf_snprintf / bpf_trace_vprintk / bpf_seq_printf: at most 12 arguments. */
export const MAX_BPRINTF_VARARGS = 12;
/** Output buffer of bpf_trace_printk / bpf_trace_vprintk. */
export const MAX_BPRINTF_BUF = 1024;
/** Programs one tracepoint / kprobe event may carry (E2BIG past it). */
export const BPF_TRACE_MAX_PROGS = 64;
/** task_struct.comm size, bpf_get_current_comm's natural buffer. */
export const TASK_COMM_LEN = 16;
/** Upper bound of a tracepoint program's ctx accesses (tp_prog_is_valid_access). */
export const PERF_MAX_TRACE_SIZE = 8192;

// bpf_attr.log_level bits and the log buffer bounds BPF_PROG_LOAD enforces (EINVAL outside:
// len_total < 128 or > UINT_MAX >> 2).
export const BPF_LOG_LEVEL1 = 1;
export const BPF_LOG_LEVEL2 = 2;
export const BPF_LOG_STATS = 4;
export const BPF_LOG_SIZE_MIN = 128;
export const BPF_LOG_SIZE_MAX = 0xffffffff >>> 2;

// The licenses the kernel treats as GPL-compatible (include/linux/license.h): programs under
// any other license may not call gpl_only helpers.
const gplCompatibleLicenses = new Set([
  "GPL",
  "GPL v2",
  "GPL and additional rights",
  "Dual BSD/GPL",
  "Dual MIT/GPL",
  "Dual MPL/GPL",
]);

/** license_is_gpl_compatible(): exact, case-sensitive match against the kernel's list. */
export const isGplCompatibleLicense = (license: string): boolean =>
  gplCompatibleLicenses.has(license);
