// ELF section names -> program type, the way libbpf reads SEC("...") (libbpf 1.1, the version
// installed with libbpf-dev here): a table of prefixes tried in order, the first match wins.
//
//   "name"    must equal the section name exactly            SEC("socket"), SEC("perf_event")
//   "name+"   the name alone or followed by '/' and a target  SEC("kprobe"), SEC("kprobe/vfs_read")
//   "name/"   must be followed by a target (none in 1.1's table, kept for the rule's sake)
//
// A leading '?' (SEC("?kprobe/...")) is not part of the name: it marks the program as not
// loaded by default. The target after the '/' is parsed per kind by parseAttachTarget().
// test/uapi/sections.test.ts checks every rule against libbpf itself
// (libbpf_prog_type_by_name / libbpf_attach_type_by_name from the installed libbpf.so).
import { TsbpfError } from "../error.js";
import { BpfAttachType, BpfProgType } from "./bpf.js";

/** A section name that names a known kind but whose target cannot be used. */
export class SectionNameError extends TsbpfError {
  constructor(
    readonly section: string,
    reason: string,
  ) {
    super(`section '${section}': ${reason}`);
  }
}

// enum sec_def_flags (libbpf): stored per table entry.
export const SEC_NONE = 0;
/** expected_attach_type may be dropped on kernels that do not know it. */
export const SEC_EXP_ATTACH_OPT = 1;
/** Attachable with BPF_PROG_ATTACH (cgroup and similar programs). */
export const SEC_ATTACHABLE = 2;
export const SEC_ATTACHABLE_OPT = SEC_ATTACHABLE | SEC_EXP_ATTACH_OPT;
/** The target is a BTF name (fentry/fexit/fmod_ret/freplace/tp_btf/lsm/iter). */
export const SEC_ATTACH_BTF = 4;
/** The program may sleep (BPF_F_SLEEPABLE at load). */
export const SEC_SLEEPABLE = 8;
/** XDP program that handles multi-buffer frames (BPF_F_XDP_HAS_FRAGS at load). */
export const SEC_XDP_FRAGS = 16;

/** How a program of this section auto-attaches, which decides how its target is parsed. */
export type AttachKind =
  | "kprobe"
  | "uprobe"
  | "ksyscall"
  | "usdt"
  | "kprobe_multi"
  | "tracepoint"
  | "raw_tracepoint"
  | "trace" // fentry, fexit, fmod_ret, freplace, tp_btf
  | "lsm"
  | "iter";

/** One row of libbpf's section_defs. */
export interface SectionDef {
  /** libbpf's spelling, with its trailing '+' or '/' match rule. */
  readonly sec: string;
  readonly progType: number;
  readonly expectedAttachType: number;
  /** SEC_* bits. */
  readonly flags: number;
  /** Whether "<prefix>/<target>" is accepted: never (exact names), optionally ('+'), always ('/'). */
  readonly target: "none" | "optional" | "required";
  /** Undefined for programs libbpf cannot auto-attach (socket, xdp, cgroup ...). */
  readonly attach?: AttachKind;
}

const P = BpfProgType;
const T = BpfAttachType;

function def(
  sec: string,
  progType: number,
  expectedAttachType: number,
  flags: number,
  attach?: AttachKind,
): SectionDef {
  const target = sec.endsWith("+") ? "optional" : sec.endsWith("/") ? "required" : "none";
  const row = { sec, progType, expectedAttachType, flags, target } as const;
  return Object.freeze(attach ? { ...row, attach } : row);
}

/** libbpf 1.1's section_defs, in its order (order matters: "xdp.frags/devmap" before "xdp"). */
export const SECTION_DEFS: readonly SectionDef[] = [
  def("socket", P.BPF_PROG_TYPE_SOCKET_FILTER, 0, SEC_NONE),
  def(
    "sk_reuseport/migrate",
    P.BPF_PROG_TYPE_SK_REUSEPORT,
    T.BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
    SEC_ATTACHABLE,
  ),
  def("sk_reuseport", P.BPF_PROG_TYPE_SK_REUSEPORT, T.BPF_SK_REUSEPORT_SELECT, SEC_ATTACHABLE),
  def("kprobe+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_NONE, "kprobe"),
  def("uprobe+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_NONE, "uprobe"),
  def("uprobe.s+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_SLEEPABLE, "uprobe"),
  def("kretprobe+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_NONE, "kprobe"),
  def("uretprobe+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_NONE, "uprobe"),
  def("uretprobe.s+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_SLEEPABLE, "uprobe"),
  def("kprobe.multi+", P.BPF_PROG_TYPE_KPROBE, T.BPF_TRACE_KPROBE_MULTI, SEC_NONE, "kprobe_multi"),
  def(
    "kretprobe.multi+",
    P.BPF_PROG_TYPE_KPROBE,
    T.BPF_TRACE_KPROBE_MULTI,
    SEC_NONE,
    "kprobe_multi",
  ),
  def("ksyscall+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_NONE, "ksyscall"),
  def("kretsyscall+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_NONE, "ksyscall"),
  def("usdt+", P.BPF_PROG_TYPE_KPROBE, 0, SEC_NONE, "usdt"),
  def("tc", P.BPF_PROG_TYPE_SCHED_CLS, 0, SEC_NONE),
  def("classifier", P.BPF_PROG_TYPE_SCHED_CLS, 0, SEC_NONE),
  def("action", P.BPF_PROG_TYPE_SCHED_ACT, 0, SEC_NONE),
  def("tracepoint+", P.BPF_PROG_TYPE_TRACEPOINT, 0, SEC_NONE, "tracepoint"),
  def("tp+", P.BPF_PROG_TYPE_TRACEPOINT, 0, SEC_NONE, "tracepoint"),
  def("raw_tracepoint+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0, SEC_NONE, "raw_tracepoint"),
  def("raw_tp+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0, SEC_NONE, "raw_tracepoint"),
  def("raw_tracepoint.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, SEC_NONE, "raw_tracepoint"),
  def("raw_tp.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, SEC_NONE, "raw_tracepoint"),
  def("tp_btf+", P.BPF_PROG_TYPE_TRACING, T.BPF_TRACE_RAW_TP, SEC_ATTACH_BTF, "trace"),
  def("fentry+", P.BPF_PROG_TYPE_TRACING, T.BPF_TRACE_FENTRY, SEC_ATTACH_BTF, "trace"),
  def("fmod_ret+", P.BPF_PROG_TYPE_TRACING, T.BPF_MODIFY_RETURN, SEC_ATTACH_BTF, "trace"),
  def("fexit+", P.BPF_PROG_TYPE_TRACING, T.BPF_TRACE_FEXIT, SEC_ATTACH_BTF, "trace"),
  def(
    "fentry.s+",
    P.BPF_PROG_TYPE_TRACING,
    T.BPF_TRACE_FENTRY,
    SEC_ATTACH_BTF | SEC_SLEEPABLE,
    "trace",
  ),
  def(
    "fmod_ret.s+",
    P.BPF_PROG_TYPE_TRACING,
    T.BPF_MODIFY_RETURN,
    SEC_ATTACH_BTF | SEC_SLEEPABLE,
    "trace",
  ),
  def(
    "fexit.s+",
    P.BPF_PROG_TYPE_TRACING,
    T.BPF_TRACE_FEXIT,
    SEC_ATTACH_BTF | SEC_SLEEPABLE,
    "trace",
  ),
  def("freplace+", P.BPF_PROG_TYPE_EXT, 0, SEC_ATTACH_BTF, "trace"),
  def("lsm+", P.BPF_PROG_TYPE_LSM, T.BPF_LSM_MAC, SEC_ATTACH_BTF, "lsm"),
  def("lsm.s+", P.BPF_PROG_TYPE_LSM, T.BPF_LSM_MAC, SEC_ATTACH_BTF | SEC_SLEEPABLE, "lsm"),
  def("lsm_cgroup+", P.BPF_PROG_TYPE_LSM, T.BPF_LSM_CGROUP, SEC_ATTACH_BTF),
  def("iter+", P.BPF_PROG_TYPE_TRACING, T.BPF_TRACE_ITER, SEC_ATTACH_BTF, "iter"),
  def("iter.s+", P.BPF_PROG_TYPE_TRACING, T.BPF_TRACE_ITER, SEC_ATTACH_BTF | SEC_SLEEPABLE, "iter"),
  def("syscall", P.BPF_PROG_TYPE_SYSCALL, 0, SEC_SLEEPABLE),
  def("xdp.frags/devmap", P.BPF_PROG_TYPE_XDP, T.BPF_XDP_DEVMAP, SEC_XDP_FRAGS),
  def("xdp/devmap", P.BPF_PROG_TYPE_XDP, T.BPF_XDP_DEVMAP, SEC_ATTACHABLE),
  def("xdp.frags/cpumap", P.BPF_PROG_TYPE_XDP, T.BPF_XDP_CPUMAP, SEC_XDP_FRAGS),
  def("xdp/cpumap", P.BPF_PROG_TYPE_XDP, T.BPF_XDP_CPUMAP, SEC_ATTACHABLE),
  def("xdp.frags", P.BPF_PROG_TYPE_XDP, T.BPF_XDP, SEC_XDP_FRAGS),
  def("xdp", P.BPF_PROG_TYPE_XDP, T.BPF_XDP, SEC_ATTACHABLE_OPT),
  def("perf_event", P.BPF_PROG_TYPE_PERF_EVENT, 0, SEC_NONE),
  def("lwt_in", P.BPF_PROG_TYPE_LWT_IN, 0, SEC_NONE),
  def("lwt_out", P.BPF_PROG_TYPE_LWT_OUT, 0, SEC_NONE),
  def("lwt_xmit", P.BPF_PROG_TYPE_LWT_XMIT, 0, SEC_NONE),
  def("lwt_seg6local", P.BPF_PROG_TYPE_LWT_SEG6LOCAL, 0, SEC_NONE),
  def("sockops", P.BPF_PROG_TYPE_SOCK_OPS, T.BPF_CGROUP_SOCK_OPS, SEC_ATTACHABLE_OPT),
  def(
    "sk_skb/stream_parser",
    P.BPF_PROG_TYPE_SK_SKB,
    T.BPF_SK_SKB_STREAM_PARSER,
    SEC_ATTACHABLE_OPT,
  ),
  def(
    "sk_skb/stream_verdict",
    P.BPF_PROG_TYPE_SK_SKB,
    T.BPF_SK_SKB_STREAM_VERDICT,
    SEC_ATTACHABLE_OPT,
  ),
  def("sk_skb", P.BPF_PROG_TYPE_SK_SKB, 0, SEC_NONE),
  def("sk_msg", P.BPF_PROG_TYPE_SK_MSG, T.BPF_SK_MSG_VERDICT, SEC_ATTACHABLE_OPT),
  def("lirc_mode2", P.BPF_PROG_TYPE_LIRC_MODE2, T.BPF_LIRC_MODE2, SEC_ATTACHABLE_OPT),
  def("flow_dissector", P.BPF_PROG_TYPE_FLOW_DISSECTOR, T.BPF_FLOW_DISSECTOR, SEC_ATTACHABLE_OPT),
  def(
    "cgroup_skb/ingress",
    P.BPF_PROG_TYPE_CGROUP_SKB,
    T.BPF_CGROUP_INET_INGRESS,
    SEC_ATTACHABLE_OPT,
  ),
  def(
    "cgroup_skb/egress",
    P.BPF_PROG_TYPE_CGROUP_SKB,
    T.BPF_CGROUP_INET_EGRESS,
    SEC_ATTACHABLE_OPT,
  ),
  def("cgroup/skb", P.BPF_PROG_TYPE_CGROUP_SKB, 0, SEC_NONE),
  def(
    "cgroup/sock_create",
    P.BPF_PROG_TYPE_CGROUP_SOCK,
    T.BPF_CGROUP_INET_SOCK_CREATE,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/sock_release",
    P.BPF_PROG_TYPE_CGROUP_SOCK,
    T.BPF_CGROUP_INET_SOCK_RELEASE,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/sock",
    P.BPF_PROG_TYPE_CGROUP_SOCK,
    T.BPF_CGROUP_INET_SOCK_CREATE,
    SEC_ATTACHABLE_OPT,
  ),
  def(
    "cgroup/post_bind4",
    P.BPF_PROG_TYPE_CGROUP_SOCK,
    T.BPF_CGROUP_INET4_POST_BIND,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/post_bind6",
    P.BPF_PROG_TYPE_CGROUP_SOCK,
    T.BPF_CGROUP_INET6_POST_BIND,
    SEC_ATTACHABLE,
  ),
  def("cgroup/bind4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, T.BPF_CGROUP_INET4_BIND, SEC_ATTACHABLE),
  def("cgroup/bind6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, T.BPF_CGROUP_INET6_BIND, SEC_ATTACHABLE),
  def(
    "cgroup/connect4",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_INET4_CONNECT,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/connect6",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_INET6_CONNECT,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/sendmsg4",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_UDP4_SENDMSG,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/sendmsg6",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_UDP6_SENDMSG,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/recvmsg4",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_UDP4_RECVMSG,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/recvmsg6",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_UDP6_RECVMSG,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/getpeername4",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_INET4_GETPEERNAME,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/getpeername6",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_INET6_GETPEERNAME,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/getsockname4",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_INET4_GETSOCKNAME,
    SEC_ATTACHABLE,
  ),
  def(
    "cgroup/getsockname6",
    P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
    T.BPF_CGROUP_INET6_GETSOCKNAME,
    SEC_ATTACHABLE,
  ),
  def("cgroup/sysctl", P.BPF_PROG_TYPE_CGROUP_SYSCTL, T.BPF_CGROUP_SYSCTL, SEC_ATTACHABLE),
  def("cgroup/getsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, T.BPF_CGROUP_GETSOCKOPT, SEC_ATTACHABLE),
  def("cgroup/setsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, T.BPF_CGROUP_SETSOCKOPT, SEC_ATTACHABLE),
  def("cgroup/dev", P.BPF_PROG_TYPE_CGROUP_DEVICE, T.BPF_CGROUP_DEVICE, SEC_ATTACHABLE_OPT),
  def("struct_ops+", P.BPF_PROG_TYPE_STRUCT_OPS, 0, SEC_NONE),
  def("sk_lookup", P.BPF_PROG_TYPE_SK_LOOKUP, T.BPF_SK_LOOKUP, SEC_ATTACHABLE),
];

/** libbpf's sec_def_matches(). */
export function sectionDefMatches(sectionDef: SectionDef, name: string): boolean {
  const sec = sectionDef.sec;
  if (sec.endsWith("/")) return name.startsWith(sec);
  if (sec.endsWith("+")) {
    const prefix = sec.slice(0, -1);
    if (!name.startsWith(prefix)) return false;
    return name.length === prefix.length || name[prefix.length] === "/";
  }
  return name === sec;
}

/** find_sec_def(): the first table row matching the name (without its '?'). */
export function findSectionDef(name: string): SectionDef | undefined {
  return SECTION_DEFS.find((sectionDef) => sectionDefMatches(sectionDef, name));
}

/** A program section name, read the libbpf way. */
export interface ParsedSection {
  /** The name without a leading '?'. */
  readonly name: string;
  readonly def: SectionDef;
  readonly progType: number;
  readonly expectedAttachType: number;
  /** False for SEC("?..."): the program is opened but not loaded unless asked for. */
  readonly autoload: boolean;
  /** SEC_SLEEPABLE: loaded with BPF_F_SLEEPABLE. */
  readonly sleepable: boolean;
  /** What follows "<prefix>/" (e.g. "vfs_read" in "kprobe/vfs_read"); undefined if nothing. */
  readonly target?: string;
}

/**
 * Reads a section name as libbpf does: program type, expected attach type, autoload flag and
 * raw target. Undefined when libbpf does not recognise the name (the loader reports it).
 */
export function parseSectionName(section: string): ParsedSection | undefined {
  const autoload = !section.startsWith("?");
  const name = autoload ? section : section.slice(1);
  const sectionDef = findSectionDef(name);
  if (!sectionDef) return undefined;
  const parsed: ParsedSection = {
    name,
    def: sectionDef,
    progType: sectionDef.progType,
    expectedAttachType: sectionDef.expectedAttachType,
    autoload,
    sleepable: (sectionDef.flags & SEC_SLEEPABLE) !== 0,
  };
  const target = targetOf(sectionDef, name);
  return Object.freeze(target === undefined ? parsed : { ...parsed, target });
}

// The text after the matched prefix and its '/', if the name has one.
function targetOf(sectionDef: SectionDef, name: string): string | undefined {
  const prefix = sectionDef.sec.replace(/[+/]$/, "");
  return name.length > prefix.length && name[prefix.length] === "/"
    ? name.slice(prefix.length + 1)
    : undefined;
}

// --- Attach targets --------------------------------------------------------------------------

/** Where a program auto-attaches, parsed from its section name as libbpf's attach_*() do. */
export type AttachTarget =
  | {
      readonly kind: "kprobe";
      readonly retprobe: boolean;
      readonly func: string;
      readonly offset: number;
    }
  | { readonly kind: "ksyscall"; readonly retprobe: boolean; readonly syscall: string }
  | {
      readonly kind: "uprobe";
      readonly retprobe: boolean;
      readonly binaryPath: string;
      readonly func: string;
      readonly offset: number;
    }
  | {
      readonly kind: "usdt";
      readonly path: string;
      readonly provider: string;
      readonly name: string;
    }
  | { readonly kind: "kprobe_multi"; readonly retprobe: boolean; readonly pattern: string }
  | { readonly kind: "tracepoint"; readonly category: string; readonly name: string }
  | { readonly kind: "raw_tracepoint"; readonly name: string }
  | {
      readonly kind: "btf";
      /** The target as written: "do_unlinkat", "task", "file_open". */
      readonly name: string;
      /** The name to look up in the kernel's BTF (btf_trace_*, bpf_lsm_*, bpf_iter_*). */
      readonly btfName: string;
    };

// The [a-zA-Z0-9_.] run libbpf's sscanf() takes as a function name.
const FUNC_CHARS = /^[A-Za-z0-9_.]+/;

/**
 * The auto-attach target of a parsed section, or undefined where libbpf does not auto-attach
 * (SEC("kprobe"), SEC("uprobe"), SEC("tp"), SEC("socket") ...). Throws SectionNameError for a
 * target libbpf would refuse, with libbpf's reason.
 */
export function parseAttachTarget(section: ParsedSection): AttachTarget | undefined {
  const { name, target } = section;
  const sec = section.def.sec;
  const retprobe = sec.startsWith("kret") || sec.startsWith("uret");
  switch (section.def.attach) {
    case undefined: // lsm_cgroup still loads against a BTF target, it just does not auto-attach
      return (section.def.flags & SEC_ATTACH_BTF) !== 0 ? btfTarget(section) : undefined;
    case "kprobe":
      return target === undefined ? undefined : kprobeTarget(name, target, retprobe);
    case "ksyscall":
      return target === undefined ? undefined : { kind: "ksyscall", retprobe, syscall: target };
    case "uprobe":
      return uprobeTarget(name, target, retprobe);
    case "usdt":
      return target === undefined ? undefined : usdtTarget(name, target);
    case "kprobe_multi":
      return target === undefined ? undefined : kprobeMultiTarget(name, target, retprobe);
    case "tracepoint":
      return target === undefined ? undefined : tracepointTarget(name, target);
    case "raw_tracepoint":
      return target === undefined ? undefined : { kind: "raw_tracepoint", name: target };
    case "trace":
    case "lsm":
    case "iter":
      return btfTarget(section);
  }
}

// "kprobe/<func>[+<offset>]": a function name, an optional offset, anything after is ignored.
function kprobeTarget(section: string, target: string, retprobe: boolean): AttachTarget {
  const func = FUNC_CHARS.exec(target)?.[0];
  if (func === undefined) throw new SectionNameError(section, `kprobe name is invalid: ${target}`);
  const offset = target[func.length] === "+" ? parseCLong(target.slice(func.length + 1)) : 0;
  if (retprobe && offset !== 0) {
    throw new SectionNameError(section, "kretprobes do not support offset specification");
  }
  return { kind: "kprobe", retprobe, func, offset };
}

// "uprobe/<binary path>:<func>[+<offset>]"; SEC("uprobe") alone does not auto-attach.
function uprobeTarget(section: string, target: string | undefined, retprobe: boolean) {
  const colon = target?.indexOf(":") ?? -1;
  if (target === undefined || target === "" || colon === 0) return undefined;
  if (colon < 0) {
    throw new SectionNameError(section, "missing ':function[+offset]' specification");
  }
  const binaryPath = target.slice(0, colon);
  const rest = target.slice(colon + 1);
  const func = FUNC_CHARS.exec(rest)?.[0];
  if (func === undefined) {
    throw new SectionNameError(section, "missing ':function[+offset]' specification");
  }
  const offset = rest[func.length] === "+" ? parseCLong(rest.slice(func.length + 1)) : 0;
  if (retprobe && offset !== 0) {
    throw new SectionNameError(section, "uretprobes do not support offset specification");
  }
  return { kind: "uprobe", retprobe, binaryPath, func, offset } as const;
}

// "usdt/<path>:<provider>:<name>", each part non-empty.
function usdtTarget(section: string, target: string): AttachTarget {
  const parts = /^([^:]+):([^:]+):([^:]+)/.exec(target);
  if (!parts) {
    throw new SectionNameError(section, 'expected SEC("usdt/<path>:<provider>:<name>")');
  }
  return { kind: "usdt", path: parts[1]!, provider: parts[2]!, name: parts[3]! };
}

// "kprobe.multi/<glob>": function-name characters plus '*' and '?'.
function kprobeMultiTarget(section: string, target: string, retprobe: boolean): AttachTarget {
  const pattern = /^[A-Za-z0-9_.*?]+/.exec(target)?.[0];
  if (pattern === undefined) {
    throw new SectionNameError(section, `kprobe multi pattern is invalid: ${target}`);
  }
  return { kind: "kprobe_multi", retprobe, pattern };
}

// "tp/<category>/<name>" or "tracepoint/<category>/<name>".
function tracepointTarget(section: string, target: string): AttachTarget {
  const slash = target.indexOf("/");
  if (slash < 0) {
    throw new SectionNameError(section, 'expected SEC("tp/<category>/<name>")');
  }
  return { kind: "tracepoint", category: target.slice(0, slash), name: target.slice(slash + 1) };
}

// BTF-attached programs name their target after the first '/' of the section name; libbpf
// looks tp_btf, lsm and iter targets up under a prefixed BTF name.
function btfTarget(section: ParsedSection): AttachTarget {
  const slash = section.name.indexOf("/");
  if (slash < 0) {
    throw new SectionNameError(section.name, "no BTF-based attach target is specified");
  }
  const name = section.name.slice(slash + 1);
  const prefix =
    section.expectedAttachType === BpfAttachType.BPF_TRACE_RAW_TP
      ? "btf_trace_"
      : section.progType === BpfProgType.BPF_PROG_TYPE_LSM
        ? "bpf_lsm_"
        : section.def.attach === "iter"
          ? "bpf_iter_"
          : "";
  return { kind: "btf", name, btfName: prefix + name };
}

// strtol(s, NULL, 0) as sscanf's %li reads it: optional sign, then 0x.. hex, 0.. octal or
// decimal; no digits reads as 0 (sscanf then leaves the offset at its initial 0).
function parseCLong(text: string): number {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return 0;
  const digits = m[2]!;
  const value = /^0[xX]/.test(digits)
    ? parseInt(digits.slice(2), 16)
    : digits.length > 1 && digits.startsWith("0")
      ? parseInt(digits.slice(1), 8)
      : parseInt(digits, 10);
  return m[1] === "-" ? -value : value;
}
