// Attaching a loaded program to a kprobe or kretprobe, the ways libbpf does on a given kernel:
//
//   perf event   the kprobe PMU (4.17+) or, on older kernels, a kprobe_events entry created by
//                name and opened as a PERF_TYPE_TRACEPOINT event (the seed's path)
//   then         "perf_event": PERF_EVENT_IOC_SET_BPF + PERF_EVENT_IOC_ENABLE on it, or
//                "link": BPF_LINK_CREATE (attach type BPF_PERF_EVENT) with a bpf_cookie (5.15+)
//
// Every step that fails is undone and reported as a BpfError naming the call.
import type { BpfSyscall } from "../bpf/syscall.js";
import type { PerfEvent } from "../kernel/perf.js";
import { KPROBE_PMU_TYPE, PERF_PROBE_CONFIG_IS_RETPROBE } from "../kernel/perf.js";
import type { SimKernel } from "../kernel/kernel.js";
import { BpfAttachType, KERNEL_VERSION } from "../uapi/bpf.js";
import {
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_BPF,
  PerfTypeId,
} from "../uapi/perf_event.js";
import { attempt, BpfError } from "./errors.js";
import { BpfLink, type KprobeAttachMode } from "./link.js";

export interface KprobeOptions {
  /** attach to the function's return (a kretprobe) */
  retprobe?: boolean;
  /** u64 the program reads with bpf_get_attach_cookie() (needs mode "link") */
  cookie?: number | bigint;
  /** default: "link" where the kernel has BPF perf links (5.15+), "perf_event" before */
  mode?: KprobeAttachMode;
}

/** The loaded program being attached. */
export interface AttachSubject {
  readonly kernel: SimKernel;
  readonly bpf: BpfSyscall;
  readonly progFd: number;
  readonly name: string;
  /** "opensnoop.bpf.o: program 'trace_open'" */
  readonly where: string;
}

const PMU_KERNEL = KERNEL_VERSION(4, 17, 0);
const LINK_KERNEL = KERNEL_VERSION(5, 15, 0);
/** kprobe_events entries made per kernel, to name them apart */
const legacyEvents = new WeakMap<SimKernel, number>();

export function attachKprobe(
  subject: AttachSubject,
  symbol: string,
  options: KprobeOptions = {},
): BpfLink {
  const { kernel, where } = subject;
  const retprobe = options.retprobe ?? false;
  const mode = options.mode ?? (kernel.version >= LINK_KERNEL ? "link" : "perf_event");
  const cookie = cookieOf(options.cookie, where);
  if (typeof symbol !== "string" || !/^[A-Za-z_][\w.]*$/.test(symbol))
    throw BpfError.usage(where, "attachKprobe", `'${String(symbol)}' is not a function name`);
  if (mode !== "link" && mode !== "perf_event")
    throw BpfError.usage(
      where,
      "attachKprobe",
      `mode must be "link" or "perf_event", not '${String(mode)}'`,
    );
  if (cookie !== 0n && mode !== "link")
    throw BpfError.usage(
      where,
      "attachKprobe",
      'a bpf_cookie needs a BPF link (mode "link"); PERF_EVENT_IOC_SET_BPF carries none',
      "EOPNOTSUPP",
    );
  const event = openKprobeEvent(kernel, where, symbol, retprobe);
  let linkFd = -1;
  try {
    if (mode === "link") {
      linkFd = attempt(where, "BPF_LINK_CREATE", () =>
        subject.bpf.linkCreate({
          progFd: subject.progFd,
          targetFd: event.fd,
          attachType: BpfAttachType.BPF_PERF_EVENT,
          bpfCookie: cookie,
        }),
      );
    } else {
      attempt(where, "ioctl(PERF_EVENT_IOC_SET_BPF)", () =>
        kernel.ioctl(event.fd, PERF_EVENT_IOC_SET_BPF, subject.progFd),
      );
      attempt(where, "ioctl(PERF_EVENT_IOC_ENABLE)", () =>
        kernel.ioctl(event.fd, PERF_EVENT_IOC_ENABLE, 0),
      );
    }
  } catch (err) {
    event.close();
    throw err;
  }
  const perf = kernel.files.get(event.fd)?.privateData as PerfEvent | undefined;
  const info = {
    program: subject.name,
    symbol,
    retprobe,
    mode,
    cookie,
    traceEvent: event.traceEvent,
  };
  return new BpfLink(info, event.fd, linkFd, perf?.attachment, () => {
    if (linkFd >= 0) subject.bpf.close(linkFd);
    else kernel.ioctl(event.fd, PERF_EVENT_IOC_DISABLE, 0);
    event.close();
  });
}

interface OpenedEvent {
  fd: number;
  traceEvent: string | undefined;
  close(): void;
}

/** A perf event counting the kprobe: the kprobe PMU, or a kprobe_events entry on old kernels. */
function openKprobeEvent(
  kernel: SimKernel,
  where: string,
  symbol: string,
  retprobe: boolean,
): OpenedEvent {
  if (kernel.version >= PMU_KERNEL) {
    const fd = attempt(where, "perf_event_open", () =>
      kernel.perfEventOpen(
        {
          type: KPROBE_PMU_TYPE,
          config: retprobe ? PERF_PROBE_CONFIG_IS_RETPROBE : 0,
          kprobeFunc: symbol,
        },
        -1,
        0,
      ),
    );
    return { fd, traceEvent: undefined, close: () => kernel.close(fd) };
  }
  const n = legacyEvents.get(kernel) ?? 0;
  legacyEvents.set(kernel, n + 1);
  const name = `tsbpf_${kernel.self.pid}_${symbol}_${n}`;
  const definition = `${retprobe ? "r" : "p"}:kprobes/${name} ${symbol}`;
  const id = attempt(where, "write(kprobe_events)", () => kernel.createKprobeEvent(definition));
  const remove = (): void => void kernel.writeKprobeEvents(`-:kprobes/${name}`);
  let fd: number;
  try {
    fd = attempt(where, "perf_event_open", () =>
      kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0),
    );
  } catch (err) {
    remove();
    throw err;
  }
  return {
    fd,
    traceEvent: `kprobes/${name}`,
    close: () => {
      kernel.close(fd);
      remove();
    },
  };
}

function cookieOf(cookie: number | bigint | undefined, where: string): bigint {
  if (cookie === undefined) return 0n;
  if (typeof cookie === "number" && !Number.isSafeInteger(cookie))
    throw BpfError.usage(where, "attachKprobe", `cookie ${cookie} is not an integer`);
  return BigInt.asUintN(64, BigInt(cookie));
}
