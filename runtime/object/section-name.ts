// Program type, expected attach type and attach target from an ELF section name, the way
// libbpf (v1.1, the one installed beside Linux 6.1 headers) reads SEC("...") names.
//
// Matching follows libbpf's rules: a definition written "kprobe+" matches "kprobe" exactly or
// "kprobe/<anything>"; any other definition matches only the exact name. The first match in
// table order wins. A leading '?' means "do not load automatically" and is not part of the
// name. A name that matches nothing leaves the program without a type: libbpf opens such an
// object (the user may set the type) and fails at load with "missing BPF prog type".
import { ObjectError } from "./error.js";
import * as uapi from "./uapi.js";

export interface SectionDef {
  /** the definition as libbpf writes it ("kprobe+", "xdp", "cgroup/bind4") */
  pattern: string;
  progType: number;
  expectedAttachType: number;
  sleepable: boolean;
  /** attaches by kernel BTF id (fentry/fexit/lsm/iter/tp_btf/freplace) */
  attachBtf: boolean;
  /** loads with BPF_F_XDP_HAS_FRAGS */
  xdpFrags: boolean;
  /** whether PROG_LOAD carries expected_attach_type: always, when supported, or never */
  attachable: "yes" | "optional" | "no";
}

export type AttachTarget =
  /** a bare name (SEC("kprobe")) or a type that attaches by other means */
  | { kind: "none" }
  /** the name is malformed for its type; attaching fails with `reason` (opening does not) */
  | { kind: "invalid"; reason: string }
  | { kind: "kprobe"; retprobe: boolean; func: string; offset: number }
  | { kind: "uprobe"; retprobe: boolean; binary: string; func: string; offset: number }
  | { kind: "tracepoint"; category: string; name: string }
  | { kind: "raw_tracepoint"; name: string }
  /** fentry/fexit/fmod_ret/freplace/lsm/iter/tp_btf: a kernel BTF name */
  | { kind: "btf"; name: string }
  | { kind: "ksyscall"; retprobe: boolean; syscall: string }
  | { kind: "kprobe_multi"; retprobe: boolean; pattern: string }
  | { kind: "usdt"; spec: string };

/** How a definition's attach target is read from the rest of the name. */
type TargetSyntax =
  | "kprobe"
  | "uprobe"
  | "tracepoint"
  | "raw_tracepoint"
  | "btf"
  | "ksyscall"
  | "kprobe_multi"
  | "usdt"
  | "none";

interface TableEntry extends SectionDef {
  target: TargetSyntax;
}

type Flag = "sleepable" | "attachBtf" | "xdpFrags" | "attachable" | "attachableOpt";

function def(
  pattern: string,
  progType: number,
  expectedAttachType: number,
  flags: Flag[] = [],
  target: TargetSyntax = "none",
): TableEntry {
  return {
    pattern,
    progType,
    expectedAttachType,
    sleepable: flags.includes("sleepable"),
    attachBtf: flags.includes("attachBtf"),
    xdpFrags: flags.includes("xdpFrags"),
    attachable: flags.includes("attachable")
      ? "yes"
      : flags.includes("attachableOpt") || flags.includes("xdpFrags")
        ? "optional"
        : "no",
    target,
  };
}

const P = uapi;
const BTF: Flag[] = ["attachBtf"];
const BTF_S: Flag[] = ["attachBtf", "sleepable"];
const ATT: Flag[] = ["attachable"];
const OPT: Flag[] = ["attachableOpt"];

/** libbpf's section definitions, in its matching order. */
export const SECTION_DEFS: readonly SectionDef[] = [
  def("socket", P.BPF_PROG_TYPE_SOCKET_FILTER, 0),
  def(
    "sk_reuseport/migrate",
    P.BPF_PROG_TYPE_SK_REUSEPORT,
    P.BPF_SK_REUSEPORT_SELECT_OR_MIGRATE,
    ATT,
  ),
  def("sk_reuseport", P.BPF_PROG_TYPE_SK_REUSEPORT, P.BPF_SK_REUSEPORT_SELECT, ATT),
  def("kprobe+", P.BPF_PROG_TYPE_KPROBE, 0, [], "kprobe"),
  def("uprobe+", P.BPF_PROG_TYPE_KPROBE, 0, [], "uprobe"),
  def("uprobe.s+", P.BPF_PROG_TYPE_KPROBE, 0, ["sleepable"], "uprobe"),
  def("kretprobe+", P.BPF_PROG_TYPE_KPROBE, 0, [], "kprobe"),
  def("uretprobe+", P.BPF_PROG_TYPE_KPROBE, 0, [], "uprobe"),
  def("uretprobe.s+", P.BPF_PROG_TYPE_KPROBE, 0, ["sleepable"], "uprobe"),
  def("kprobe.multi+", P.BPF_PROG_TYPE_KPROBE, P.BPF_TRACE_KPROBE_MULTI, [], "kprobe_multi"),
  def("kretprobe.multi+", P.BPF_PROG_TYPE_KPROBE, P.BPF_TRACE_KPROBE_MULTI, [], "kprobe_multi"),
  def("ksyscall+", P.BPF_PROG_TYPE_KPROBE, 0, [], "ksyscall"),
  def("kretsyscall+", P.BPF_PROG_TYPE_KPROBE, 0, [], "ksyscall"),
  def("usdt+", P.BPF_PROG_TYPE_KPROBE, 0, [], "usdt"),
  def("tc", P.BPF_PROG_TYPE_SCHED_CLS, 0),
  def("classifier", P.BPF_PROG_TYPE_SCHED_CLS, 0),
  def("action", P.BPF_PROG_TYPE_SCHED_ACT, 0),
  def("tracepoint+", P.BPF_PROG_TYPE_TRACEPOINT, 0, [], "tracepoint"),
  def("tp+", P.BPF_PROG_TYPE_TRACEPOINT, 0, [], "tracepoint"),
  def("raw_tracepoint+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0, [], "raw_tracepoint"),
  def("raw_tp+", P.BPF_PROG_TYPE_RAW_TRACEPOINT, 0, [], "raw_tracepoint"),
  def("raw_tracepoint.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, [], "raw_tracepoint"),
  def("raw_tp.w+", P.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0, [], "raw_tracepoint"),
  def("tp_btf+", P.BPF_PROG_TYPE_TRACING, P.BPF_TRACE_RAW_TP, BTF, "btf"),
  def("fentry+", P.BPF_PROG_TYPE_TRACING, P.BPF_TRACE_FENTRY, BTF, "btf"),
  def("fmod_ret+", P.BPF_PROG_TYPE_TRACING, P.BPF_MODIFY_RETURN, BTF, "btf"),
  def("fexit+", P.BPF_PROG_TYPE_TRACING, P.BPF_TRACE_FEXIT, BTF, "btf"),
  def("fentry.s+", P.BPF_PROG_TYPE_TRACING, P.BPF_TRACE_FENTRY, BTF_S, "btf"),
  def("fmod_ret.s+", P.BPF_PROG_TYPE_TRACING, P.BPF_MODIFY_RETURN, BTF_S, "btf"),
  def("fexit.s+", P.BPF_PROG_TYPE_TRACING, P.BPF_TRACE_FEXIT, BTF_S, "btf"),
  def("freplace+", P.BPF_PROG_TYPE_EXT, 0, BTF, "btf"),
  def("lsm+", P.BPF_PROG_TYPE_LSM, P.BPF_LSM_MAC, BTF, "btf"),
  def("lsm.s+", P.BPF_PROG_TYPE_LSM, P.BPF_LSM_MAC, BTF_S, "btf"),
  def("lsm_cgroup+", P.BPF_PROG_TYPE_LSM, P.BPF_LSM_CGROUP, BTF, "btf"),
  def("iter+", P.BPF_PROG_TYPE_TRACING, P.BPF_TRACE_ITER, BTF, "btf"),
  def("iter.s+", P.BPF_PROG_TYPE_TRACING, P.BPF_TRACE_ITER, BTF_S, "btf"),
  def("syscall", P.BPF_PROG_TYPE_SYSCALL, 0, ["sleepable"]),
  def("xdp.frags/devmap", P.BPF_PROG_TYPE_XDP, P.BPF_XDP_DEVMAP, ["xdpFrags"]),
  def("xdp/devmap", P.BPF_PROG_TYPE_XDP, P.BPF_XDP_DEVMAP, ATT),
  def("xdp.frags/cpumap", P.BPF_PROG_TYPE_XDP, P.BPF_XDP_CPUMAP, ["xdpFrags"]),
  def("xdp/cpumap", P.BPF_PROG_TYPE_XDP, P.BPF_XDP_CPUMAP, ATT),
  def("xdp.frags", P.BPF_PROG_TYPE_XDP, P.BPF_XDP, ["xdpFrags"]),
  def("xdp", P.BPF_PROG_TYPE_XDP, P.BPF_XDP, OPT),
  def("perf_event", P.BPF_PROG_TYPE_PERF_EVENT, 0),
  def("lwt_in", P.BPF_PROG_TYPE_LWT_IN, 0),
  def("lwt_out", P.BPF_PROG_TYPE_LWT_OUT, 0),
  def("lwt_xmit", P.BPF_PROG_TYPE_LWT_XMIT, 0),
  def("lwt_seg6local", P.BPF_PROG_TYPE_LWT_SEG6LOCAL, 0),
  def("sockops", P.BPF_PROG_TYPE_SOCK_OPS, P.BPF_CGROUP_SOCK_OPS, OPT),
  def("sk_skb/stream_parser", P.BPF_PROG_TYPE_SK_SKB, P.BPF_SK_SKB_STREAM_PARSER, OPT),
  def("sk_skb/stream_verdict", P.BPF_PROG_TYPE_SK_SKB, P.BPF_SK_SKB_STREAM_VERDICT, OPT),
  def("sk_skb", P.BPF_PROG_TYPE_SK_SKB, 0),
  def("sk_msg", P.BPF_PROG_TYPE_SK_MSG, P.BPF_SK_MSG_VERDICT, OPT),
  def("lirc_mode2", P.BPF_PROG_TYPE_LIRC_MODE2, P.BPF_LIRC_MODE2, OPT),
  def("flow_dissector", P.BPF_PROG_TYPE_FLOW_DISSECTOR, P.BPF_FLOW_DISSECTOR, OPT),
  def("cgroup_skb/ingress", P.BPF_PROG_TYPE_CGROUP_SKB, P.BPF_CGROUP_INET_INGRESS, OPT),
  def("cgroup_skb/egress", P.BPF_PROG_TYPE_CGROUP_SKB, P.BPF_CGROUP_INET_EGRESS, OPT),
  def("cgroup/skb", P.BPF_PROG_TYPE_CGROUP_SKB, 0),
  def("cgroup/sock_create", P.BPF_PROG_TYPE_CGROUP_SOCK, P.BPF_CGROUP_INET_SOCK_CREATE, ATT),
  def("cgroup/sock_release", P.BPF_PROG_TYPE_CGROUP_SOCK, P.BPF_CGROUP_INET_SOCK_RELEASE, ATT),
  def("cgroup/sock", P.BPF_PROG_TYPE_CGROUP_SOCK, P.BPF_CGROUP_INET_SOCK_CREATE, OPT),
  def("cgroup/post_bind4", P.BPF_PROG_TYPE_CGROUP_SOCK, P.BPF_CGROUP_INET4_POST_BIND, ATT),
  def("cgroup/post_bind6", P.BPF_PROG_TYPE_CGROUP_SOCK, P.BPF_CGROUP_INET6_POST_BIND, ATT),
  def("cgroup/bind4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET4_BIND, ATT),
  def("cgroup/bind6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET6_BIND, ATT),
  def("cgroup/connect4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET4_CONNECT, ATT),
  def("cgroup/connect6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET6_CONNECT, ATT),
  def("cgroup/sendmsg4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_UDP4_SENDMSG, ATT),
  def("cgroup/sendmsg6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_UDP6_SENDMSG, ATT),
  def("cgroup/recvmsg4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_UDP4_RECVMSG, ATT),
  def("cgroup/recvmsg6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_UDP6_RECVMSG, ATT),
  def("cgroup/getpeername4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET4_GETPEERNAME, ATT),
  def("cgroup/getpeername6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET6_GETPEERNAME, ATT),
  def("cgroup/getsockname4", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET4_GETSOCKNAME, ATT),
  def("cgroup/getsockname6", P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, P.BPF_CGROUP_INET6_GETSOCKNAME, ATT),
  def("cgroup/sysctl", P.BPF_PROG_TYPE_CGROUP_SYSCTL, P.BPF_CGROUP_SYSCTL, ATT),
  def("cgroup/getsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, P.BPF_CGROUP_GETSOCKOPT, ATT),
  def("cgroup/setsockopt", P.BPF_PROG_TYPE_CGROUP_SOCKOPT, P.BPF_CGROUP_SETSOCKOPT, ATT),
  def("cgroup/dev", P.BPF_PROG_TYPE_CGROUP_DEVICE, P.BPF_CGROUP_DEVICE, OPT),
  def("struct_ops+", P.BPF_PROG_TYPE_STRUCT_OPS, 0),
  def("sk_lookup", P.BPF_PROG_TYPE_SK_LOOKUP, P.BPF_SK_LOOKUP, ATT),
];

function matches(pattern: string, name: string): boolean {
  if (!pattern.endsWith("+")) return name === pattern;
  const base = pattern.slice(0, -1);
  return name === base || name.startsWith(base + "/");
}

/** The first definition matching `name` (without its '?'), or undefined. */
export function findSectionDef(name: string): SectionDef | undefined {
  return SECTION_DEFS.find((d) => matches(d.pattern, name));
}

export interface ProgramSection {
  /** the name without a leading '?' */
  name: string;
  /** false for SEC("?...") */
  autoload: boolean;
  def: SectionDef | undefined;
  attach: AttachTarget;
}

/** Everything the section name says about the programs in it. */
export function parseSectionName(sectionName: string): ProgramSection {
  const autoload = !sectionName.startsWith("?");
  const name = autoload ? sectionName : sectionName.slice(1);
  const def = findSectionDef(name);
  const syntax = def ? (def as TableEntry).target : "none";
  return {
    name,
    autoload,
    def,
    attach: def ? parseAttachTarget(name, def.pattern, syntax) : { kind: "none" },
  };
}

/**
 * The error libbpf gives when loading a program whose section name matched no definition
 * (and whose type nobody set); the loader throws it.
 */
export function missingProgramType(program: string, section: string): ObjectError {
  return new ObjectError(
    `prog '${program}': missing BPF prog type, check ELF section name '${section}'`,
  );
}

// --- attach targets -------------------------------------------------------------------------

function parseAttachTarget(name: string, pattern: string, syntax: TargetSyntax): AttachTarget {
  const base = pattern.endsWith("+") ? pattern.slice(0, -1) : pattern;
  if (syntax === "none") return { kind: "none" };
  if (name === base) return { kind: "none" }; // bare name: attached by hand
  const rest = name.slice(base.length + 1);
  const retprobe = /^(kret|uret)/.test(base);
  switch (syntax) {
    case "kprobe":
      return parseKprobe(rest, retprobe);
    case "uprobe":
      return parseUprobe(rest, retprobe);
    case "tracepoint": {
      const slash = rest.indexOf("/");
      if (slash <= 0 || slash === rest.length - 1)
        return { kind: "invalid", reason: `tracepoint '${rest}' is not CATEGORY/NAME` };
      return { kind: "tracepoint", category: rest.slice(0, slash), name: rest.slice(slash + 1) };
    }
    case "raw_tracepoint":
      return rest ? { kind: "raw_tracepoint", name: rest } : invalidEmpty(name);
    case "btf":
      return rest ? { kind: "btf", name: rest } : invalidEmpty(name);
    case "ksyscall":
      return rest ? { kind: "ksyscall", retprobe, syscall: rest } : invalidEmpty(name);
    case "kprobe_multi":
      return rest ? { kind: "kprobe_multi", retprobe, pattern: rest } : invalidEmpty(name);
    case "usdt":
      return { kind: "usdt", spec: rest };
  }
}

const invalidEmpty = (name: string): AttachTarget => ({
  kind: "invalid",
  reason: `section '${name}' names an empty attach target`,
});

/** "FUNC" or "FUNC+OFFSET" (offset in C syntax: decimal, 0x hex or 0 octal). */
function parseKprobe(rest: string, retprobe: boolean): AttachTarget {
  const m = /^([A-Za-z0-9_.]+)(?:\+(.+))?$/.exec(rest);
  if (!m) return { kind: "invalid", reason: `kprobe name '${rest}' is invalid` };
  const offset = m[2] === undefined ? 0 : parseCInteger(m[2]);
  if (offset === undefined || offset < 0)
    return { kind: "invalid", reason: `kprobe offset '${m[2]}' must be a non-negative integer` };
  if (retprobe && offset !== 0)
    return { kind: "invalid", reason: "kretprobes do not support offset specification" };
  return { kind: "kprobe", retprobe, func: m[1]!, offset };
}

/** "BINARY:FUNC", "BINARY:FUNC+OFFSET" or "BINARY:OFFSET". */
function parseUprobe(rest: string, retprobe: boolean): AttachTarget {
  const colon = rest.indexOf(":");
  if (colon <= 0)
    return { kind: "invalid", reason: `uprobe '${rest}' is not BINARY:FUNC[+OFFSET]` };
  const binary = rest.slice(0, colon);
  const spec = rest.slice(colon + 1);
  const asOffset = parseCInteger(spec);
  if (asOffset !== undefined)
    return { kind: "uprobe", retprobe, binary, func: "", offset: asOffset };
  const m = /^([^+]+)(?:\+(.+))?$/.exec(spec);
  const offset = m?.[2] === undefined ? 0 : parseCInteger(m[2]);
  if (!m || offset === undefined || offset < 0)
    return { kind: "invalid", reason: `uprobe function '${spec}' is not FUNC[+OFFSET]` };
  return { kind: "uprobe", retprobe, binary, func: m[1]!, offset };
}

/** An integer written as C's strtol(base 0) reads it; undefined when not wholly a number. */
export function parseCInteger(s: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const digits = m[2]!;
  const value = /^0[xX]/.test(digits)
    ? parseInt(digits.slice(2), 16)
    : digits.length > 1 && digits.startsWith("0")
      ? parseInt(digits, 8)
      : parseInt(digits, 10);
  if (!Number.isSafeInteger(value)) return undefined;
  return m[1] === "-" ? -value : value;
}
