// BPF helper functions: ids, the prototypes the verifier checks calls against, which program
// types may call which helper, and which map types each map-taking helper accepts.
//
// Ids are positions in linux/bpf.h's __BPF_FUNC_MAPPER list; HELPER_NAMES below is generated
// from the installed header (6.1: 210 entries) and test/uapi/helpers.test.ts re-derives it.
// Prototypes, program-type sets and map rules are written from the kernel's bpf_func_proto
// definitions (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c, kernel/bpf/stackmap.c,
// kernel/bpf/ringbuf.c, net/core/filter.c) and check_map_func_compatibility() in
// kernel/bpf/verifier.c, as a current kernel has them (validated on 6.18; where 6.1 differs,
// e.g. which helpers the base set holds, we follow the newer kernel) for a privileged (root)
// loader. test/uapi/helpers.kernel.test.ts loads probe programs into the machine's kernel and
// compares availability, gpl_only, argument kinds and map compatibility.
//
// Types are encoded the kernel's way: a base type in the low 8 bits and bpf_type_flag bits
// above, so `baseType(t)` and `t & PTR_MAYBE_NULL` read like the kernel's base_type() and
// type_flag(). The numeric values are ours (they are not uapi).
import { BpfAttachType, BpfMapType, BpfProgType } from "./bpf.js";

// --- Helper ids (generated from /usr/include/linux/bpf.h) ------------------------------------

export const HELPER_NAMES = [
  "unspec", // 0
  "map_lookup_elem", // 1
  "map_update_elem", // 2
  "map_delete_elem", // 3
  "probe_read", // 4
  "ktime_get_ns", // 5
  "trace_printk", // 6
  "get_prandom_u32", // 7
  "get_smp_processor_id", // 8
  "skb_store_bytes", // 9
  "l3_csum_replace", // 10
  "l4_csum_replace", // 11
  "tail_call", // 12
  "clone_redirect", // 13
  "get_current_pid_tgid", // 14
  "get_current_uid_gid", // 15
  "get_current_comm", // 16
  "get_cgroup_classid", // 17
  "skb_vlan_push", // 18
  "skb_vlan_pop", // 19
  "skb_get_tunnel_key", // 20
  "skb_set_tunnel_key", // 21
  "perf_event_read", // 22
  "redirect", // 23
  "get_route_realm", // 24
  "perf_event_output", // 25
  "skb_load_bytes", // 26
  "get_stackid", // 27
  "csum_diff", // 28
  "skb_get_tunnel_opt", // 29
  "skb_set_tunnel_opt", // 30
  "skb_change_proto", // 31
  "skb_change_type", // 32
  "skb_under_cgroup", // 33
  "get_hash_recalc", // 34
  "get_current_task", // 35
  "probe_write_user", // 36
  "current_task_under_cgroup", // 37
  "skb_change_tail", // 38
  "skb_pull_data", // 39
  "csum_update", // 40
  "set_hash_invalid", // 41
  "get_numa_node_id", // 42
  "skb_change_head", // 43
  "xdp_adjust_head", // 44
  "probe_read_str", // 45
  "get_socket_cookie", // 46
  "get_socket_uid", // 47
  "set_hash", // 48
  "setsockopt", // 49
  "skb_adjust_room", // 50
  "redirect_map", // 51
  "sk_redirect_map", // 52
  "sock_map_update", // 53
  "xdp_adjust_meta", // 54
  "perf_event_read_value", // 55
  "perf_prog_read_value", // 56
  "getsockopt", // 57
  "override_return", // 58
  "sock_ops_cb_flags_set", // 59
  "msg_redirect_map", // 60
  "msg_apply_bytes", // 61
  "msg_cork_bytes", // 62
  "msg_pull_data", // 63
  "bind", // 64
  "xdp_adjust_tail", // 65
  "skb_get_xfrm_state", // 66
  "get_stack", // 67
  "skb_load_bytes_relative", // 68
  "fib_lookup", // 69
  "sock_hash_update", // 70
  "msg_redirect_hash", // 71
  "sk_redirect_hash", // 72
  "lwt_push_encap", // 73
  "lwt_seg6_store_bytes", // 74
  "lwt_seg6_adjust_srh", // 75
  "lwt_seg6_action", // 76
  "rc_repeat", // 77
  "rc_keydown", // 78
  "skb_cgroup_id", // 79
  "get_current_cgroup_id", // 80
  "get_local_storage", // 81
  "sk_select_reuseport", // 82
  "skb_ancestor_cgroup_id", // 83
  "sk_lookup_tcp", // 84
  "sk_lookup_udp", // 85
  "sk_release", // 86
  "map_push_elem", // 87
  "map_pop_elem", // 88
  "map_peek_elem", // 89
  "msg_push_data", // 90
  "msg_pop_data", // 91
  "rc_pointer_rel", // 92
  "spin_lock", // 93
  "spin_unlock", // 94
  "sk_fullsock", // 95
  "tcp_sock", // 96
  "skb_ecn_set_ce", // 97
  "get_listener_sock", // 98
  "skc_lookup_tcp", // 99
  "tcp_check_syncookie", // 100
  "sysctl_get_name", // 101
  "sysctl_get_current_value", // 102
  "sysctl_get_new_value", // 103
  "sysctl_set_new_value", // 104
  "strtol", // 105
  "strtoul", // 106
  "sk_storage_get", // 107
  "sk_storage_delete", // 108
  "send_signal", // 109
  "tcp_gen_syncookie", // 110
  "skb_output", // 111
  "probe_read_user", // 112
  "probe_read_kernel", // 113
  "probe_read_user_str", // 114
  "probe_read_kernel_str", // 115
  "tcp_send_ack", // 116
  "send_signal_thread", // 117
  "jiffies64", // 118
  "read_branch_records", // 119
  "get_ns_current_pid_tgid", // 120
  "xdp_output", // 121
  "get_netns_cookie", // 122
  "get_current_ancestor_cgroup_id", // 123
  "sk_assign", // 124
  "ktime_get_boot_ns", // 125
  "seq_printf", // 126
  "seq_write", // 127
  "sk_cgroup_id", // 128
  "sk_ancestor_cgroup_id", // 129
  "ringbuf_output", // 130
  "ringbuf_reserve", // 131
  "ringbuf_submit", // 132
  "ringbuf_discard", // 133
  "ringbuf_query", // 134
  "csum_level", // 135
  "skc_to_tcp6_sock", // 136
  "skc_to_tcp_sock", // 137
  "skc_to_tcp_timewait_sock", // 138
  "skc_to_tcp_request_sock", // 139
  "skc_to_udp6_sock", // 140
  "get_task_stack", // 141
  "load_hdr_opt", // 142
  "store_hdr_opt", // 143
  "reserve_hdr_opt", // 144
  "inode_storage_get", // 145
  "inode_storage_delete", // 146
  "d_path", // 147
  "copy_from_user", // 148
  "snprintf_btf", // 149
  "seq_printf_btf", // 150
  "skb_cgroup_classid", // 151
  "redirect_neigh", // 152
  "per_cpu_ptr", // 153
  "this_cpu_ptr", // 154
  "redirect_peer", // 155
  "task_storage_get", // 156
  "task_storage_delete", // 157
  "get_current_task_btf", // 158
  "bprm_opts_set", // 159
  "ktime_get_coarse_ns", // 160
  "ima_inode_hash", // 161
  "sock_from_file", // 162
  "check_mtu", // 163
  "for_each_map_elem", // 164
  "snprintf", // 165
  "sys_bpf", // 166
  "btf_find_by_name_kind", // 167
  "sys_close", // 168
  "timer_init", // 169
  "timer_set_callback", // 170
  "timer_start", // 171
  "timer_cancel", // 172
  "get_func_ip", // 173
  "get_attach_cookie", // 174
  "task_pt_regs", // 175
  "get_branch_snapshot", // 176
  "trace_vprintk", // 177
  "skc_to_unix_sock", // 178
  "kallsyms_lookup_name", // 179
  "find_vma", // 180
  "loop", // 181
  "strncmp", // 182
  "get_func_arg", // 183
  "get_func_ret", // 184
  "get_func_arg_cnt", // 185
  "get_retval", // 186
  "set_retval", // 187
  "xdp_get_buff_len", // 188
  "xdp_load_bytes", // 189
  "xdp_store_bytes", // 190
  "copy_from_user_task", // 191
  "skb_set_tstamp", // 192
  "ima_file_hash", // 193
  "kptr_xchg", // 194
  "map_lookup_percpu_elem", // 195
  "skc_to_mptcp_sock", // 196
  "dynptr_from_mem", // 197
  "ringbuf_reserve_dynptr", // 198
  "ringbuf_submit_dynptr", // 199
  "ringbuf_discard_dynptr", // 200
  "dynptr_read", // 201
  "dynptr_write", // 202
  "dynptr_data", // 203
  "tcp_raw_gen_syncookie_ipv4", // 204
  "tcp_raw_gen_syncookie_ipv6", // 205
  "tcp_raw_check_syncookie_ipv4", // 206
  "tcp_raw_check_syncookie_ipv6", // 207
  "ktime_get_tai_ns", // 208
  "user_ringbuf_drain", // 209
] as const;

export type HelperName = (typeof HELPER_NAMES)[number];

/** enum bpf_func_id's end: valid helper ids are 1 .. __BPF_FUNC_MAX_ID - 1 (0 is unspec). */
export const __BPF_FUNC_MAX_ID = HELPER_NAMES.length;

/** enum bpf_func_id: BpfFunc.BPF_FUNC_map_lookup_elem === 1. */
export const BpfFunc = Object.freeze(
  Object.fromEntries(HELPER_NAMES.map((name, id) => [`BPF_FUNC_${name}`, id])),
) as { readonly [K in HelperName as `BPF_FUNC_${K}`]: number };

// --- Argument and return types ---------------------------------------------------------------

// bpf_type_flag: modifiers or-ed onto a base type.
export const PTR_MAYBE_NULL = 1 << 8; // the value may be NULL (0)
export const MEM_RDONLY = 1 << 9; // the helper only reads the memory
export const MEM_UNINIT = 1 << 10; // the memory need not be initialised (helper fills it)
export const MEM_WRITE = 1 << 11; // the helper writes the memory
export const OBJ_RELEASE = 1 << 12; // the call releases the reference held in this register
export const PTR_TRUSTED = 1 << 13; // returned BTF pointer is trusted (task from current)
export const MEM_RINGBUF = 1 << 14; // returned memory is a ring buffer record
export const DYNPTR_TYPE_LOCAL = 1 << 15; // dynptr over program memory
export const DYNPTR_TYPE_RINGBUF = 1 << 16; // dynptr over a ring buffer record
const BASE_TYPE_MASK = 0xff;

/** base_type(): the type with its flags stripped. */
export const baseType = (type: number): number => type & BASE_TYPE_MASK;
/** type_flag(): only the flag bits. */
export const typeFlags = (type: number): number => type & ~BASE_TYPE_MASK;

/** enum bpf_arg_type: what the verifier requires of one argument register. */
export const ArgType = {
  ARG_DONTCARE: 0, // unused argument: not checked at all
  ARG_CONST_MAP_PTR: 1, // a map pointer known at verification time (lddw of a map)
  ARG_PTR_TO_MAP_KEY: 2, // pointer to key_size readable bytes of the map in the map argument
  ARG_PTR_TO_MAP_VALUE: 3, // pointer to value_size bytes of that map
  ARG_PTR_TO_MEM: 4, // pointer to memory whose size is the next (ARG_CONST_SIZE*) argument
  ARG_CONST_SIZE: 5, // the size of the previous memory argument, > 0 and bounded
  ARG_CONST_SIZE_OR_ZERO: 6, // same, and 0 is allowed
  ARG_PTR_TO_CTX: 7, // the program's own context pointer, unmodified
  ARG_ANYTHING: 8, // any initialised value
  ARG_PTR_TO_SPIN_LOCK: 9, // a struct bpf_spin_lock inside a map value
  ARG_PTR_TO_SOCK_COMMON: 10, // a socket pointer of any kind
  ARG_PTR_TO_LONG: 11, // 8 writable, 8-byte aligned bytes (stack or map value)
  ARG_PTR_TO_SOCKET: 12, // a full socket
  ARG_PTR_TO_BTF_ID: 13, // a kernel object pointer of the BTF type named in argBtfTypes
  ARG_PTR_TO_RINGBUF_MEM: 14, // a record from bpf_ringbuf_reserve (6.1: ARG_PTR_TO_ALLOC_MEM)
  ARG_CONST_ALLOC_SIZE_OR_ZERO: 15, // a known constant size for the returned memory
  ARG_PTR_TO_BTF_ID_SOCK_COMMON: 16, // any socket, from BTF or from a socket lookup
  ARG_PTR_TO_PERCPU_BTF_ID: 17, // a per-CPU kernel variable (ksym)
  ARG_PTR_TO_FUNC: 18, // a BPF subprogram (callback) address
  ARG_PTR_TO_STACK: 19, // a pointer into the program's stack
  ARG_PTR_TO_CONST_STR: 20, // a NUL-terminated string in a read-only map (.rodata)
  ARG_PTR_TO_TIMER: 21, // a struct bpf_timer inside a map value
  ARG_PTR_TO_KPTR: 22, // a kptr field inside a map value
  ARG_PTR_TO_DYNPTR: 23, // a struct bpf_dynptr on the stack
} as const;

// The kernel's composite spellings.
export const ARG_PTR_TO_UNINIT_MEM = ArgType.ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE;
export const ARG_PTR_TO_MEM_OR_NULL = ArgType.ARG_PTR_TO_MEM | PTR_MAYBE_NULL;
export const ARG_PTR_TO_MAP_VALUE_OR_NULL = ArgType.ARG_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL;
export const ARG_PTR_TO_CTX_OR_NULL = ArgType.ARG_PTR_TO_CTX | PTR_MAYBE_NULL;
export const ARG_PTR_TO_STACK_OR_NULL = ArgType.ARG_PTR_TO_STACK | PTR_MAYBE_NULL;
export const ARG_PTR_TO_BTF_ID_OR_NULL = ArgType.ARG_PTR_TO_BTF_ID | PTR_MAYBE_NULL;
/** 6.1's name for ARG_PTR_TO_RINGBUF_MEM. */
export const ARG_PTR_TO_ALLOC_MEM = ArgType.ARG_PTR_TO_RINGBUF_MEM;

/** enum bpf_return_type: what r0 holds after the call. */
export const RetType = {
  RET_INTEGER: 0, // a scalar
  RET_VOID: 1, // nothing: r0 is left uninitialised
  RET_PTR_TO_MAP_VALUE: 2, // pointer to a value of the map in the map argument
  RET_PTR_TO_SOCKET: 3,
  RET_PTR_TO_TCP_SOCK: 4,
  RET_PTR_TO_SOCK_COMMON: 5,
  RET_PTR_TO_MEM: 6, // memory of the size given by the argument at retSizeArg
  RET_PTR_TO_MEM_OR_BTF_ID: 7, // per-CPU variable: memory, or BTF object if it has a type
  RET_PTR_TO_BTF_ID: 8, // kernel object of type retBtfType
} as const;

export const RET_PTR_TO_MAP_VALUE_OR_NULL = RetType.RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL;
export const RET_PTR_TO_SOCKET_OR_NULL = RetType.RET_PTR_TO_SOCKET | PTR_MAYBE_NULL;
export const RET_PTR_TO_MEM_OR_NULL = RetType.RET_PTR_TO_MEM | PTR_MAYBE_NULL;
export const RET_PTR_TO_RINGBUF_MEM_OR_NULL = RET_PTR_TO_MEM_OR_NULL | MEM_RINGBUF;
export const RET_PTR_TO_BTF_ID_OR_NULL = RetType.RET_PTR_TO_BTF_ID | PTR_MAYBE_NULL;

const flagNames: [number, string][] = [
  [PTR_MAYBE_NULL, "PTR_MAYBE_NULL"],
  [MEM_RDONLY, "MEM_RDONLY"],
  [MEM_UNINIT, "MEM_UNINIT"],
  [MEM_WRITE, "MEM_WRITE"],
  [OBJ_RELEASE, "OBJ_RELEASE"],
  [PTR_TRUSTED, "PTR_TRUSTED"],
  [MEM_RINGBUF, "MEM_RINGBUF"],
  [DYNPTR_TYPE_LOCAL, "DYNPTR_TYPE_LOCAL"],
  [DYNPTR_TYPE_RINGBUF, "DYNPTR_TYPE_RINGBUF"],
];

function typeString(type: number, bases: Record<string, number>): string {
  const base = Object.keys(bases).find((name) => bases[name] === baseType(type)) ?? "?";
  const flags = flagNames.filter(([bit]) => (type & bit) !== 0).map(([, name]) => name);
  return [base, ...flags].join(" | ");
}

/** "ARG_PTR_TO_MEM | MEM_RDONLY", for messages and tests. */
export const argTypeString = (type: number): string => typeString(type, ArgType);
/** "RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL". */
export const retTypeString = (type: number): string => typeString(type, RetType);

// --- Prototypes ------------------------------------------------------------------------------

/** struct bpf_func_proto, as the verifier needs it. */
export interface HelperProto {
  /** Callable only from programs whose license is GPL-compatible. */
  readonly gplOnly: boolean;
  /** RetType base | flags. */
  readonly ret: number;
  /** For RET_PTR_TO_MEM: the index (0-based) of the argument giving the memory's size. */
  readonly retSizeArg?: number;
  /** For RET_PTR_TO_BTF_ID: the kernel struct returned ("task_struct"). */
  readonly retBtfType?: string;
  /** ArgType base | flags for r1, r2, ...; its length is the number of checked arguments. */
  readonly args: readonly number[];
  /** For ARG_PTR_TO_BTF_ID arguments: the kernel struct expected, by argument index. */
  readonly argBtfTypes?: readonly (string | undefined)[];
  /** The helper may sleep: only sleepable programs may call it. */
  readonly mightSleep?: boolean;
}

/** One helper: its id, its name without the bpf_ prefix, and its default prototype. */
export interface Helper {
  readonly id: number;
  readonly name: HelperName;
  /** Undefined for helpers of program types this table does not model (networking mostly). */
  readonly proto?: HelperProto;
}

const A = ArgType;
const R = RetType;
const MEM_RO = A.ARG_PTR_TO_MEM | MEM_RDONLY;
const MEM_WR = A.ARG_PTR_TO_MEM | MEM_WRITE;
const UNINIT = ARG_PTR_TO_UNINIT_MEM;
const SIZE = A.ARG_CONST_SIZE;
const SIZE0 = A.ARG_CONST_SIZE_OR_ZERO;
const ANY = A.ARG_ANYTHING;
const CTX = A.ARG_PTR_TO_CTX;
const MAP = A.ARG_CONST_MAP_PTR;
const BTF = A.ARG_PTR_TO_BTF_ID;

interface ProtoSpec {
  gpl?: boolean;
  ret?: number;
  args?: number[];
  retSizeArg?: number;
  retBtfType?: string;
  argBtfTypes?: (string | undefined)[];
  mightSleep?: boolean;
}

const proto = (spec: ProtoSpec): HelperProto => ({
  gplOnly: spec.gpl ?? false,
  ret: spec.ret ?? R.RET_INTEGER,
  args: spec.args ?? [],
  ...(spec.retSizeArg !== undefined && { retSizeArg: spec.retSizeArg }),
  ...(spec.retBtfType !== undefined && { retBtfType: spec.retBtfType }),
  ...(spec.argBtfTypes !== undefined && { argBtfTypes: spec.argBtfTypes }),
  ...(spec.mightSleep && { mightSleep: true }),
});

const NO_ARGS = proto({});
const probeRead = proto({ gpl: true, args: [UNINIT, SIZE0, ANY] });
const skcTo = (target: string, arg: number = A.ARG_PTR_TO_BTF_ID_SOCK_COMMON): HelperProto =>
  proto({ ret: RET_PTR_TO_BTF_ID_OR_NULL, retBtfType: target, args: [arg] });

// The default prototype of each helper: the kprobe variant where program types differ (see
// protoVariant below for the others).
const protos: Partial<Record<HelperName, HelperProto>> = {
  // maps
  map_lookup_elem: proto({ ret: RET_PTR_TO_MAP_VALUE_OR_NULL, args: [MAP, A.ARG_PTR_TO_MAP_KEY] }),
  map_update_elem: proto({ args: [MAP, A.ARG_PTR_TO_MAP_KEY, A.ARG_PTR_TO_MAP_VALUE, ANY] }),
  map_delete_elem: proto({ args: [MAP, A.ARG_PTR_TO_MAP_KEY] }),
  map_push_elem: proto({ args: [MAP, A.ARG_PTR_TO_MAP_VALUE, ANY] }),
  map_pop_elem: proto({ args: [MAP, A.ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE] }),
  map_peek_elem: proto({ args: [MAP, A.ARG_PTR_TO_MAP_VALUE | MEM_UNINIT | MEM_WRITE] }),
  map_lookup_percpu_elem: proto({
    ret: RET_PTR_TO_MAP_VALUE_OR_NULL,
    args: [MAP, A.ARG_PTR_TO_MAP_KEY, ANY],
  }),
  for_each_map_elem: proto({ args: [MAP, A.ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL, ANY] }),
  loop: proto({ args: [ANY, A.ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL, ANY] }),
  tail_call: proto({ ret: R.RET_VOID, args: [CTX, MAP, ANY] }),

  // reading and writing memory
  probe_read: probeRead,
  probe_read_str: probeRead,
  probe_read_user: probeRead,
  probe_read_kernel: probeRead,
  probe_read_user_str: probeRead,
  probe_read_kernel_str: probeRead,
  probe_write_user: proto({ gpl: true, args: [ANY, MEM_RO, SIZE] }),
  copy_from_user: proto({ args: [UNINIT, SIZE0, ANY], mightSleep: true }),
  copy_from_user_task: proto({
    gpl: true,
    args: [UNINIT, SIZE0, ANY, BTF, ANY],
    argBtfTypes: [undefined, undefined, undefined, "task_struct"],
    mightSleep: true,
  }),

  // time, randomness, CPU
  ktime_get_ns: NO_ARGS,
  ktime_get_boot_ns: NO_ARGS,
  ktime_get_coarse_ns: NO_ARGS,
  ktime_get_tai_ns: NO_ARGS,
  jiffies64: NO_ARGS,
  get_prandom_u32: NO_ARGS,
  get_smp_processor_id: NO_ARGS,
  get_numa_node_id: NO_ARGS,

  // the current task
  get_current_pid_tgid: NO_ARGS,
  get_current_uid_gid: NO_ARGS,
  get_current_comm: proto({ args: [UNINIT, SIZE] }),
  get_current_task: proto({ gpl: true }),
  get_current_task_btf: proto({
    gpl: true,
    ret: R.RET_PTR_TO_BTF_ID | PTR_TRUSTED,
    retBtfType: "task_struct",
  }),
  task_pt_regs: proto({
    gpl: true,
    ret: R.RET_PTR_TO_BTF_ID,
    retBtfType: "pt_regs",
    args: [BTF],
    argBtfTypes: ["task_struct"],
  }),
  get_current_cgroup_id: NO_ARGS,
  get_current_ancestor_cgroup_id: proto({ args: [ANY] }),
  get_cgroup_classid: NO_ARGS, // the task variant; tc programs get one taking the skb
  current_task_under_cgroup: proto({ args: [MAP, ANY] }),
  get_ns_current_pid_tgid: proto({ args: [ANY, ANY, UNINIT, SIZE] }),
  send_signal: proto({ args: [ANY] }),
  send_signal_thread: proto({ args: [ANY] }),
  get_task_stack: proto({
    args: [BTF, UNINIT, SIZE0, ANY],
    argBtfTypes: ["task_struct"],
  }),
  find_vma: proto({
    args: [BTF, ANY, A.ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL, ANY],
    argBtfTypes: ["task_struct"],
  }),
  task_storage_get: proto({
    ret: RET_PTR_TO_MAP_VALUE_OR_NULL,
    args: [MAP, ARG_PTR_TO_BTF_ID_OR_NULL, ARG_PTR_TO_MAP_VALUE_OR_NULL, ANY],
    argBtfTypes: [undefined, "task_struct"],
  }),
  task_storage_delete: proto({
    args: [MAP, ARG_PTR_TO_BTF_ID_OR_NULL],
    argBtfTypes: [undefined, "task_struct"],
  }),
  per_cpu_ptr: proto({
    ret: R.RET_PTR_TO_MEM_OR_BTF_ID | PTR_MAYBE_NULL | MEM_RDONLY,
    args: [A.ARG_PTR_TO_PERCPU_BTF_ID, ANY],
  }),
  this_cpu_ptr: proto({
    ret: R.RET_PTR_TO_MEM_OR_BTF_ID | MEM_RDONLY,
    args: [A.ARG_PTR_TO_PERCPU_BTF_ID],
  }),

  // printing and strings
  trace_printk: proto({ gpl: true, args: [MEM_RO, SIZE] }), // r3-r5 are the (unchecked) values
  trace_vprintk: proto({ gpl: true, args: [MEM_RO, SIZE, MEM_RO | PTR_MAYBE_NULL, SIZE0] }),
  snprintf: proto({
    gpl: true,
    args: [MEM_WR | PTR_MAYBE_NULL, SIZE0, A.ARG_PTR_TO_CONST_STR, MEM_RO | PTR_MAYBE_NULL, SIZE0],
  }),
  snprintf_btf: proto({ args: [MEM_WR, SIZE, MEM_RO, SIZE, ANY] }),
  strncmp: proto({ args: [MEM_RO, SIZE, A.ARG_PTR_TO_CONST_STR] }),
  strtol: proto({ args: [MEM_RO, SIZE, ANY, A.ARG_PTR_TO_LONG] }),
  strtoul: proto({ args: [MEM_RO, SIZE, ANY, A.ARG_PTR_TO_LONG] }),

  // perf events and stacks
  perf_event_read: proto({ gpl: true, args: [MAP, ANY] }),
  perf_event_read_value: proto({ gpl: true, args: [MAP, ANY, UNINIT, SIZE] }),
  perf_event_output: proto({ gpl: true, args: [CTX, MAP, ANY, MEM_RO, SIZE0] }),
  perf_prog_read_value: proto({ gpl: true, args: [CTX, UNINIT, SIZE] }),
  read_branch_records: proto({ gpl: true, args: [CTX, MEM_WR | PTR_MAYBE_NULL, SIZE0, ANY] }),
  get_branch_snapshot: proto({ gpl: true, args: [UNINIT, SIZE0] }),
  get_stackid: proto({ gpl: true, args: [CTX, MAP, ANY] }),
  get_stack: proto({ gpl: true, args: [CTX, UNINIT, SIZE0, ANY] }),

  // the probed function
  override_return: proto({ gpl: true, args: [CTX, ANY] }),
  get_func_ip: proto({ gpl: true, args: [CTX] }),
  get_attach_cookie: proto({ args: [CTX] }),
  get_func_arg: proto({ args: [CTX, ANY, A.ARG_PTR_TO_LONG] }),
  get_func_ret: proto({ args: [CTX, A.ARG_PTR_TO_LONG] }),
  get_func_arg_cnt: proto({ args: [CTX] }),
  d_path: proto({ args: [BTF, MEM_WR, SIZE0], argBtfTypes: ["path"] }),

  // ring buffers and dynptrs
  ringbuf_output: proto({ args: [MAP, MEM_RO, SIZE0, ANY] }),
  ringbuf_reserve: proto({
    ret: RET_PTR_TO_RINGBUF_MEM_OR_NULL,
    retSizeArg: 1,
    args: [MAP, A.ARG_CONST_ALLOC_SIZE_OR_ZERO, ANY],
  }),
  ringbuf_submit: proto({ ret: R.RET_VOID, args: [A.ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE, ANY] }),
  ringbuf_discard: proto({ ret: R.RET_VOID, args: [A.ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE, ANY] }),
  ringbuf_query: proto({ args: [MAP, ANY] }),
  ringbuf_reserve_dynptr: proto({
    args: [MAP, ANY, ANY, A.ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | MEM_UNINIT | MEM_WRITE],
  }),
  ringbuf_submit_dynptr: proto({
    ret: R.RET_VOID,
    args: [A.ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE, ANY],
  }),
  ringbuf_discard_dynptr: proto({
    ret: R.RET_VOID,
    args: [A.ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_RINGBUF | OBJ_RELEASE, ANY],
  }),
  user_ringbuf_drain: proto({ args: [MAP, A.ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL, ANY] }),
  dynptr_from_mem: proto({
    args: [UNINIT, SIZE0, ANY, A.ARG_PTR_TO_DYNPTR | DYNPTR_TYPE_LOCAL | MEM_UNINIT | MEM_WRITE],
  }),
  dynptr_read: proto({ args: [UNINIT, SIZE0, A.ARG_PTR_TO_DYNPTR | MEM_RDONLY, ANY, ANY] }),
  dynptr_write: proto({ args: [A.ARG_PTR_TO_DYNPTR | MEM_RDONLY, ANY, MEM_RO, SIZE0, ANY] }),
  dynptr_data: proto({
    ret: RET_PTR_TO_MEM_OR_NULL,
    retSizeArg: 2,
    args: [A.ARG_PTR_TO_DYNPTR | MEM_RDONLY, ANY, A.ARG_CONST_ALLOC_SIZE_OR_ZERO],
  }),

  // locks, timers, kptrs
  spin_lock: proto({ ret: R.RET_VOID, args: [A.ARG_PTR_TO_SPIN_LOCK] }),
  spin_unlock: proto({ ret: R.RET_VOID, args: [A.ARG_PTR_TO_SPIN_LOCK] }),
  timer_init: proto({ gpl: true, args: [A.ARG_PTR_TO_TIMER, MAP, ANY] }),
  timer_set_callback: proto({ gpl: true, args: [A.ARG_PTR_TO_TIMER, A.ARG_PTR_TO_FUNC] }),
  timer_start: proto({ gpl: true, args: [A.ARG_PTR_TO_TIMER, ANY, ANY] }),
  timer_cancel: proto({ gpl: true, args: [A.ARG_PTR_TO_TIMER] }),
  kptr_xchg: proto({
    ret: RET_PTR_TO_BTF_ID_OR_NULL,
    args: [A.ARG_PTR_TO_KPTR, ARG_PTR_TO_BTF_ID_OR_NULL | OBJ_RELEASE],
  }),

  // socket filter programs
  skb_load_bytes: proto({ args: [CTX, ANY, UNINIT, SIZE] }),
  skb_load_bytes_relative: proto({ args: [CTX, ANY, UNINIT, SIZE, ANY] }),
  get_socket_cookie: proto({ args: [CTX] }),
  get_socket_uid: proto({ args: [CTX] }),
  get_netns_cookie: proto({ args: [ARG_PTR_TO_CTX_OR_NULL] }),
  skc_to_tcp6_sock: skcTo("tcp6_sock"),
  skc_to_tcp_sock: skcTo("tcp_sock"),
  skc_to_tcp_timewait_sock: skcTo("tcp_timewait_sock"),
  skc_to_tcp_request_sock: skcTo("tcp_request_sock"),
  skc_to_udp6_sock: skcTo("udp6_sock"),
  skc_to_unix_sock: skcTo("unix_sock"),
  skc_to_mptcp_sock: skcTo("mptcp_sock", A.ARG_PTR_TO_SOCK_COMMON),

  // BTF-typed tracing programs (fentry / fexit / iter)
  skb_output: proto({
    gpl: true,
    args: [BTF, MAP, ANY, MEM_RO, SIZE0],
    argBtfTypes: ["sk_buff"],
  }),
  xdp_output: proto({
    gpl: true,
    args: [BTF, MAP, ANY, MEM_RO, SIZE0],
    argBtfTypes: ["xdp_buff"],
  }),
  seq_printf: proto({
    gpl: true,
    args: [BTF, MEM_RO, SIZE, MEM_RO | PTR_MAYBE_NULL, SIZE0],
    argBtfTypes: ["seq_file"],
  }),
  seq_write: proto({ gpl: true, args: [BTF, MEM_RO, SIZE0], argBtfTypes: ["seq_file"] }),
  seq_printf_btf: proto({
    gpl: true,
    args: [BTF, MEM_RO, SIZE0, ANY],
    argBtfTypes: ["seq_file"],
  }),
  sock_from_file: proto({
    ret: RET_PTR_TO_BTF_ID_OR_NULL,
    retBtfType: "socket",
    args: [BTF],
    argBtfTypes: ["file"],
  }),
};

// --- Lookup ----------------------------------------------------------------------------------

const helpers: readonly Helper[] = HELPER_NAMES.map((name, id) => {
  const p = protos[name];
  return Object.freeze(p ? { id, name, proto: p } : { id, name });
});
const helpersByName = new Map<string, Helper>(helpers.map((h) => [h.name, h]));

/** The helper with this id (0 is "unspec"), or undefined outside 0 .. __BPF_FUNC_MAX_ID-1. */
export function helperById(id: number): Helper | undefined {
  return Number.isInteger(id) ? helpers[id] : undefined;
}

/** By "map_lookup_elem", "bpf_map_lookup_elem" or "BPF_FUNC_map_lookup_elem". */
export function helperByName(name: string): Helper | undefined {
  const bare = name.replace(/^BPF_FUNC_/, "").replace(/^bpf_/, "");
  return helpersByName.get(bare) ?? helpersByName.get(name);
}

/** The kernel's func_id_name(): "bpf_map_lookup_elem", or "unknown" for a bad id. */
export function helperFuncName(id: number): string {
  const helper = id > 0 ? helperById(id) : undefined;
  return helper ? `bpf_${helper.name}` : "unknown";
}

// --- Which program types may call which helper -----------------------------------------------

/** Kernel configuration and program attributes that change which helpers are available. */
export interface HelperContext {
  /** The program's expected_attach_type (kprobe.multi, fentry vs iter ...). */
  readonly expectedAttachType?: number;
  /**
   * Kernel lockdown: "integrity" removes bpf_probe_write_user, "confidentiality" also the
   * kernel-memory readers (probe_read, probe_read_str, probe_read_kernel(_str)). Default none.
   */
  readonly lockdown?: "none" | "integrity" | "confidentiality";
  /** CONFIG_BPF_KPROBE_OVERRIDE: whether kprobes may call bpf_override_return. Default false. */
  readonly kprobeOverride?: boolean;
}

type Ids = readonly number[];
const ids = (...names: HelperName[]): Ids => names.map((n) => HELPER_NAMES.indexOf(n));

// bpf_base_func_proto() for a loader with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: every
// program type starts from this set.
const baseHelpers = ids(
  "map_lookup_elem",
  "map_update_elem",
  "map_delete_elem",
  "map_push_elem",
  "map_pop_elem",
  "map_peek_elem",
  "map_lookup_percpu_elem",
  "get_prandom_u32",
  "get_smp_processor_id",
  "get_numa_node_id",
  "tail_call",
  "ktime_get_ns",
  "ktime_get_boot_ns",
  "ktime_get_tai_ns",
  "jiffies64",
  "ringbuf_output",
  "ringbuf_reserve",
  "ringbuf_submit",
  "ringbuf_discard",
  "ringbuf_query",
  "strncmp",
  "strtol",
  "strtoul",
  "get_current_pid_tgid",
  "get_ns_current_pid_tgid",
  "get_current_uid_gid",
  "get_current_comm",
  "get_current_cgroup_id",
  "get_current_ancestor_cgroup_id",
  "get_cgroup_classid",
  "current_task_under_cgroup",
  "send_signal",
  "send_signal_thread",
  "get_task_stack",
  "task_storage_get",
  "task_storage_delete",
  "perf_event_read",
  "perf_event_read_value",
  "spin_lock",
  "spin_unlock",
  "per_cpu_ptr",
  "this_cpu_ptr",
  "timer_init",
  "timer_set_callback",
  "timer_start",
  "timer_cancel",
  "kptr_xchg",
  "for_each_map_elem",
  "loop",
  "find_vma",
  "user_ringbuf_drain",
  "ringbuf_reserve_dynptr",
  "ringbuf_submit_dynptr",
  "ringbuf_discard_dynptr",
  "dynptr_from_mem",
  "dynptr_read",
  "dynptr_write",
  "dynptr_data",
  "copy_from_user",
  "copy_from_user_task",
  // CAP_PERFMON
  "trace_printk",
  "trace_vprintk",
  "snprintf",
  "snprintf_btf",
  "get_current_task",
  "get_current_task_btf",
  "task_pt_regs",
  "get_branch_snapshot",
  "probe_read_user",
  "probe_read_user_str",
  "probe_read_kernel",
  "probe_read_kernel_str",
);

// bpf_tracing_func_proto(): what every tracing program type adds to the base set.
const tracingHelpers = ids("probe_read", "probe_read_str", "probe_write_user", "get_func_ip");

// Each program type's get_func_proto() on top of its parent set.
const kprobeHelpers = ids(
  "perf_event_output",
  "get_stackid",
  "get_stack",
  "override_return",
  "get_func_ip",
  "get_attach_cookie",
);
const tracepointHelpers = ids("perf_event_output", "get_stackid", "get_stack", "get_attach_cookie");
const perfEventHelpers = ids(
  "perf_event_output",
  "get_stackid",
  "get_stack",
  "perf_prog_read_value",
  "read_branch_records",
  "get_attach_cookie",
);
const rawTracepointHelpers = ids(
  "perf_event_output",
  "get_stackid",
  "get_stack",
  "get_attach_cookie",
);
// tracing_prog_func_proto() (fentry, fexit, fmod_ret, iter, tp_btf) adds to the raw_tp set.
const btfTracingHelpers = ids(
  "skb_output",
  "xdp_output",
  "skc_to_tcp6_sock",
  "skc_to_tcp_sock",
  "skc_to_tcp_timewait_sock",
  "skc_to_tcp_request_sock",
  "skc_to_udp6_sock",
  "skc_to_unix_sock",
  "skc_to_mptcp_sock",
  "sock_from_file",
  "d_path",
  "get_func_arg",
  "get_func_ret",
  "get_func_arg_cnt",
  "seq_printf",
  "seq_write",
  "seq_printf_btf",
);
// sk_filter_func_proto() and bpf_sk_base_func_proto().
const socketFilterHelpers = ids(
  "skb_load_bytes",
  "skb_load_bytes_relative",
  "get_socket_cookie",
  "get_socket_uid",
  "perf_event_output",
  "get_netns_cookie",
  "ktime_get_coarse_ns",
  "skc_to_tcp6_sock",
  "skc_to_tcp_sock",
  "skc_to_tcp_timewait_sock",
  "skc_to_tcp_request_sock",
  "skc_to_udp6_sock",
  "skc_to_unix_sock",
  "skc_to_mptcp_sock",
);

const P = BpfProgType;
const tracingTypes: ReadonlySet<number> = new Set([
  P.BPF_PROG_TYPE_KPROBE,
  P.BPF_PROG_TYPE_TRACEPOINT,
  P.BPF_PROG_TYPE_PERF_EVENT,
  P.BPF_PROG_TYPE_RAW_TRACEPOINT,
  P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE,
  P.BPF_PROG_TYPE_TRACING,
]);

const extraHelpers = new Map<number, Ids>([
  [P.BPF_PROG_TYPE_SOCKET_FILTER, socketFilterHelpers],
  [P.BPF_PROG_TYPE_KPROBE, kprobeHelpers],
  [P.BPF_PROG_TYPE_TRACEPOINT, tracepointHelpers],
  [P.BPF_PROG_TYPE_PERF_EVENT, perfEventHelpers],
  [P.BPF_PROG_TYPE_RAW_TRACEPOINT, rawTracepointHelpers],
  [P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, rawTracepointHelpers],
  [P.BPF_PROG_TYPE_TRACING, [...rawTracepointHelpers, ...btfTracingHelpers]],
]);

const allowedSets = new Map<number, ReadonlySet<number>>();
function allowedSet(progType: number): ReadonlySet<number> {
  let set = allowedSets.get(progType);
  if (!set) {
    set = new Set([
      ...baseHelpers,
      ...(tracingTypes.has(progType) ? tracingHelpers : []),
      ...(extraHelpers.get(progType) ?? []),
    ]);
    allowedSets.set(progType, set);
  }
  return set;
}

/** The program types whose helper sets this table models from their get_func_proto(). */
export const modeledProgTypes: readonly number[] = [...extraHelpers.keys()];

const F = BpfFunc;
const lockdownLevel = { none: 0, integrity: 1, confidentiality: 2 } as const;

// Helpers the kernel hides behind configuration or attach type even where the type allows them.
function configAllows(progType: number, id: number, ctx: HelperContext): boolean {
  const lockdown = lockdownLevel[ctx.lockdown ?? "none"];
  const attach = ctx.expectedAttachType ?? 0;
  switch (id) {
    case F.BPF_FUNC_probe_write_user: // LOCKDOWN_BPF_WRITE_USER
      return lockdown < lockdownLevel.integrity;
    case F.BPF_FUNC_probe_read: // LOCKDOWN_BPF_READ_KERNEL
    case F.BPF_FUNC_probe_read_str:
    case F.BPF_FUNC_probe_read_kernel:
    case F.BPF_FUNC_probe_read_kernel_str:
      return lockdown < lockdownLevel.confidentiality;
    case F.BPF_FUNC_override_return:
      return ctx.kprobeOverride === true;
    case F.BPF_FUNC_seq_printf:
    case F.BPF_FUNC_seq_write:
    case F.BPF_FUNC_seq_printf_btf:
      return attach === BpfAttachType.BPF_TRACE_ITER;
    case F.BPF_FUNC_get_func_arg:
    case F.BPF_FUNC_get_func_ret:
    case F.BPF_FUNC_get_func_arg_cnt:
      return progType !== P.BPF_PROG_TYPE_TRACING || hasTrampoline(attach);
    case F.BPF_FUNC_get_attach_cookie:
      return progType !== P.BPF_PROG_TYPE_TRACING || hasTrampoline(attach);
    default:
      return true;
  }
}

// bpf_prog_has_trampoline(): fentry, fexit, fmod_ret (and LSM) run through a trampoline.
const hasTrampoline = (attach: number): boolean =>
  attach === BpfAttachType.BPF_TRACE_FENTRY ||
  attach === BpfAttachType.BPF_TRACE_FEXIT ||
  attach === BpfAttachType.BPF_MODIFY_RETURN ||
  attach === BpfAttachType.BPF_LSM_MAC;

// Prototypes that differ by program type (the kernel has one bpf_func_proto per variant).
const getStackidPerfEvent = proto({ args: [CTX, MAP, ANY] }); // bpf_get_stackid_proto_pe
const getFuncIpKprobeMulti = proto({ args: [CTX] }); // bpf_get_func_ip_proto_kprobe_multi
const getSocketPtrCookie = proto({ args: [A.ARG_PTR_TO_BTF_ID_SOCK_COMMON | PTR_MAYBE_NULL] });

function protoVariant(
  progType: number,
  id: number,
  ctx: HelperContext,
  base: HelperProto,
): HelperProto {
  switch (id) {
    case F.BPF_FUNC_get_stackid:
      return progType === P.BPF_PROG_TYPE_PERF_EVENT ? getStackidPerfEvent : base;
    case F.BPF_FUNC_get_func_ip:
      return progType === P.BPF_PROG_TYPE_KPROBE &&
        ctx.expectedAttachType === BpfAttachType.BPF_TRACE_KPROBE_MULTI
        ? getFuncIpKprobeMulti
        : base;
    case F.BPF_FUNC_get_socket_cookie: // fentry & co: bpf_get_socket_ptr_cookie_proto
      return progType === P.BPF_PROG_TYPE_TRACING ? getSocketPtrCookie : base;
    default:
      return base;
  }
}

/**
 * The prototype the verifier checks a call to helper `id` against in a program of type
 * `progType`, or undefined where the kernel's get_func_proto() returns NULL (the verifier then
 * says "program of this type cannot use helper bpf_<name>#<id>").
 *
 * Three kernel checks happen later and are the verifier's: get_func_ip outside kprobe and
 * trampoline programs ("func bpf_get_func_ip#173 not supported for program type N"),
 * mightSleep helpers in non-sleepable programs ("helper call might sleep in a non-sleepable
 * prog"), and d_path outside its allow-list of attach targets (bpf_d_path_allowed()).
 */
export function helperProto(
  progType: number,
  id: number,
  ctx: HelperContext = {},
): HelperProto | undefined {
  const proto = helperById(id)?.proto;
  if (!proto || id === 0) return undefined;
  if (!allowedSet(progType).has(id) || !configAllows(progType, id, ctx)) return undefined;
  return protoVariant(progType, id, ctx, proto);
}

/** Whether a program of type `progType` may call helper `id` (see helperProto). */
export function helperAllowed(progType: number, id: number, ctx: HelperContext = {}): boolean {
  return helperProto(progType, id, ctx) !== undefined;
}

// --- Which maps a helper accepts (check_map_func_compatibility) ------------------------------

const M = BpfMapType;

// First direction: maps that only a few helpers may touch.
const helpersForMap = new Map<number, Ids>([
  [M.BPF_MAP_TYPE_PROG_ARRAY, ids("tail_call")],
  [
    M.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    ids(
      "perf_event_read",
      "perf_event_output",
      "skb_output",
      "perf_event_read_value",
      "xdp_output",
    ),
  ],
  [
    M.BPF_MAP_TYPE_RINGBUF,
    ids(
      "ringbuf_output",
      "ringbuf_reserve",
      "ringbuf_query",
      "ringbuf_reserve_dynptr",
      "ringbuf_submit_dynptr",
      "ringbuf_discard_dynptr",
    ),
  ],
  [M.BPF_MAP_TYPE_USER_RINGBUF, ids("user_ringbuf_drain")],
  [M.BPF_MAP_TYPE_STACK_TRACE, ids("get_stackid")],
  [M.BPF_MAP_TYPE_CGROUP_ARRAY, ids("skb_under_cgroup", "current_task_under_cgroup")],
  [M.BPF_MAP_TYPE_CGROUP_STORAGE, ids("get_local_storage")],
  [M.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE, ids("get_local_storage")],
  [M.BPF_MAP_TYPE_DEVMAP, ids("redirect_map", "map_lookup_elem")],
  [M.BPF_MAP_TYPE_DEVMAP_HASH, ids("redirect_map", "map_lookup_elem")],
  [M.BPF_MAP_TYPE_CPUMAP, ids("redirect_map")],
  [M.BPF_MAP_TYPE_XSKMAP, ids("redirect_map", "map_lookup_elem")],
  [M.BPF_MAP_TYPE_ARRAY_OF_MAPS, ids("map_lookup_elem")],
  [M.BPF_MAP_TYPE_HASH_OF_MAPS, ids("map_lookup_elem")],
  [
    M.BPF_MAP_TYPE_SOCKMAP,
    ids(
      "sk_redirect_map",
      "sock_map_update",
      "msg_redirect_map",
      "sk_select_reuseport",
      "map_lookup_elem",
    ),
  ],
  [
    M.BPF_MAP_TYPE_SOCKHASH,
    ids(
      "sk_redirect_hash",
      "sock_hash_update",
      "msg_redirect_hash",
      "sk_select_reuseport",
      "map_lookup_elem",
    ),
  ],
  [M.BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, ids("sk_select_reuseport")],
  [M.BPF_MAP_TYPE_QUEUE, ids("map_peek_elem", "map_pop_elem", "map_push_elem")],
  [M.BPF_MAP_TYPE_STACK, ids("map_peek_elem", "map_pop_elem", "map_push_elem")],
  [M.BPF_MAP_TYPE_BLOOM_FILTER, ids("map_peek_elem", "map_push_elem")],
  [M.BPF_MAP_TYPE_SK_STORAGE, ids("sk_storage_get", "sk_storage_delete", "kptr_xchg")],
  [M.BPF_MAP_TYPE_INODE_STORAGE, ids("inode_storage_get", "inode_storage_delete", "kptr_xchg")],
  [M.BPF_MAP_TYPE_TASK_STORAGE, ids("task_storage_get", "task_storage_delete", "kptr_xchg")],
]);

// Second direction: helpers that only work on certain map types.
const mapsForHelper = new Map<number, readonly number[]>();
function requireMaps(names: HelperName[], maps: number[]): void {
  for (const id of ids(...names)) mapsForHelper.set(id, maps);
}
requireMaps(["tail_call"], [M.BPF_MAP_TYPE_PROG_ARRAY]);
requireMaps(
  ["perf_event_read", "perf_event_output", "perf_event_read_value", "skb_output", "xdp_output"],
  [M.BPF_MAP_TYPE_PERF_EVENT_ARRAY],
);
requireMaps(
  [
    "ringbuf_output",
    "ringbuf_reserve",
    "ringbuf_query",
    "ringbuf_reserve_dynptr",
    "ringbuf_submit_dynptr",
    "ringbuf_discard_dynptr",
  ],
  [M.BPF_MAP_TYPE_RINGBUF],
);
requireMaps(["user_ringbuf_drain"], [M.BPF_MAP_TYPE_USER_RINGBUF]);
requireMaps(["get_stackid"], [M.BPF_MAP_TYPE_STACK_TRACE]);
requireMaps(["current_task_under_cgroup", "skb_under_cgroup"], [M.BPF_MAP_TYPE_CGROUP_ARRAY]);
requireMaps(
  ["redirect_map"],
  [M.BPF_MAP_TYPE_DEVMAP, M.BPF_MAP_TYPE_DEVMAP_HASH, M.BPF_MAP_TYPE_CPUMAP, M.BPF_MAP_TYPE_XSKMAP],
);
requireMaps(["sk_redirect_map", "msg_redirect_map", "sock_map_update"], [M.BPF_MAP_TYPE_SOCKMAP]);
requireMaps(
  ["sk_redirect_hash", "msg_redirect_hash", "sock_hash_update"],
  [M.BPF_MAP_TYPE_SOCKHASH],
);
requireMaps(
  ["get_local_storage"],
  [M.BPF_MAP_TYPE_CGROUP_STORAGE, M.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE],
);
requireMaps(
  ["sk_select_reuseport"],
  [M.BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, M.BPF_MAP_TYPE_SOCKMAP, M.BPF_MAP_TYPE_SOCKHASH],
);
requireMaps(["map_pop_elem"], [M.BPF_MAP_TYPE_QUEUE, M.BPF_MAP_TYPE_STACK]);
requireMaps(
  ["map_peek_elem", "map_push_elem"],
  [M.BPF_MAP_TYPE_QUEUE, M.BPF_MAP_TYPE_STACK, M.BPF_MAP_TYPE_BLOOM_FILTER],
);
requireMaps(
  ["map_lookup_percpu_elem"],
  [M.BPF_MAP_TYPE_PERCPU_ARRAY, M.BPF_MAP_TYPE_PERCPU_HASH, M.BPF_MAP_TYPE_LRU_PERCPU_HASH],
);
requireMaps(["sk_storage_get", "sk_storage_delete"], [M.BPF_MAP_TYPE_SK_STORAGE]);
requireMaps(["inode_storage_get", "inode_storage_delete"], [M.BPF_MAP_TYPE_INODE_STORAGE]);
requireMaps(["task_storage_get", "task_storage_delete"], [M.BPF_MAP_TYPE_TASK_STORAGE]);

/** The map types a helper's map argument must have, or undefined when any map will do. */
export function helperMapTypes(id: number): readonly number[] | undefined {
  return mapsForHelper.get(id);
}

// may_update_sockmap(): program types that may update/delete sockmap entries directly.
function mayUpdateSockmap(id: number, progType: number, attach: number): boolean {
  if (id !== F.BPF_FUNC_map_update_elem && id !== F.BPF_FUNC_map_delete_elem) return false;
  switch (progType) {
    case P.BPF_PROG_TYPE_TRACING:
      return attach === BpfAttachType.BPF_TRACE_ITER;
    case P.BPF_PROG_TYPE_SOCK_OPS:
      return id === F.BPF_FUNC_map_delete_elem;
    case P.BPF_PROG_TYPE_SOCKET_FILTER:
    case P.BPF_PROG_TYPE_SCHED_CLS:
    case P.BPF_PROG_TYPE_SCHED_ACT:
    case P.BPF_PROG_TYPE_XDP:
    case P.BPF_PROG_TYPE_SK_REUSEPORT:
    case P.BPF_PROG_TYPE_FLOW_DISSECTOR:
    case P.BPF_PROG_TYPE_SK_LOOKUP:
      return true;
    default:
      return false;
  }
}

/**
 * check_map_func_compatibility(): may helper `id` be passed a map of type `mapType`? When it
 * may not, the kernel's verifier says "cannot pass map_type <mapType> into func
 * bpf_<name>#<id>" (for tail_call, earlier and in its own words: "expected prog array map for
 * tail call"). `progType` and `expectedAttachType` matter only for sockmap updates.
 */
export function helperMapCompatible(
  id: number,
  mapType: number,
  progType: number = P.BPF_PROG_TYPE_KPROBE,
  expectedAttachType = 0,
): boolean {
  const onlyHelpers = helpersForMap.get(mapType);
  if (onlyHelpers && !onlyHelpers.includes(id)) {
    const sockmap = mapType === M.BPF_MAP_TYPE_SOCKMAP || mapType === M.BPF_MAP_TYPE_SOCKHASH;
    if (!sockmap || !mayUpdateSockmap(id, progType, expectedAttachType)) return false;
  }
  const maps = mapsForHelper.get(id);
  return maps === undefined || maps.includes(mapType);
}
