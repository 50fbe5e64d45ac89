// perf events of the simulated kernel (kernel/events/core.c, the parts BPF uses):
// perf_event_open() on a kprobe event id (PERF_TYPE_TRACEPOINT), on the kprobe PMU (4.17+),
// or a PERF_COUNT_SW_BPF_OUTPUT software event for bpf_perf_event_output(); the ioctls that
// enable, disable and attach a program (PERF_EVENT_IOC_SET_BPF); mmap'd ring buffers; and the
// BPF perf link (BPF_LINK_CREATE with a bpf_cookie, 5.15+). Errors carry the kernel's errno.
//
// Reference counts follow the kernel: an attached program is held by the event (and by the
// link); a link holds its perf event file, so closing the event's fd does not detach a linked
// program; closing the last reference to the event detaches and releases everything.
import {
  BpfAttachType,
  BpfLinkType,
  BpfProgType,
  KERNEL_VERSION,
  kernelVersionString,
} from "../uapi/bpf.js";
import {
  PERF_ATTR_SIZE_VER0,
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_ID,
  PERF_EVENT_IOC_RESET,
  PERF_EVENT_IOC_SET_BPF,
  PERF_FLAG_FD_CLOEXEC,
  PERF_FLAG_FD_NO_GROUP,
  PERF_FLAG_FD_OUTPUT,
  PERF_FLAG_PID_CGROUP,
  PerfEventType,
  PerfSampleFormat,
  PerfSwIds,
  PerfTypeId,
} from "../uapi/perf_event.js";
import { Errno } from "../uapi/errno.js";
import { BpfAttachment, type AttachableProg } from "./attach.js";
import type { KernelCpu } from "./cpu.js";
import { KernelError } from "./error.js";
import { FileKind, KernelFile } from "./files.js";
import type { KernelFunction } from "./functions.js";
import { KERNEL_TEXT_HI } from "./kallsyms.js";
import type { SimKernel } from "./kernel.js";
import { BPF_TRACE_MAX_PROGS, type KprobeEvent } from "./kprobes.js";
import { PAGE_SIZE, PerfRing } from "./perf-ring.js";
import type { Task } from "./tasks.js";

/** The kprobe PMU's type (/sys/bus/event_source/devices/kprobe/type). */
export const KPROBE_PMU_TYPE = 6;
/** config bit 0 of a kprobe PMU event: a return probe (PERF_PROBE_CONFIG_IS_RETPROBE). */
export const PERF_PROBE_CONFIG_IS_RETPROBE = 1;
/** PERF_RECORD_MISC_KERNEL: the sample was taken in kernel mode. */
const PERF_RECORD_MISC_KERNEL = 1;

const PERF_FLAG_ALL =
  PERF_FLAG_FD_NO_GROUP | PERF_FLAG_FD_OUTPUT | PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC;

/** The simulated sample_type bits (others are refused with EINVAL). */
const SUPPORTED_SAMPLE_TYPE =
  PerfSampleFormat.PERF_SAMPLE_IDENTIFIER |
  PerfSampleFormat.PERF_SAMPLE_IP |
  PerfSampleFormat.PERF_SAMPLE_TID |
  PerfSampleFormat.PERF_SAMPLE_TIME |
  PerfSampleFormat.PERF_SAMPLE_ADDR |
  PerfSampleFormat.PERF_SAMPLE_ID |
  PerfSampleFormat.PERF_SAMPLE_STREAM_ID |
  PerfSampleFormat.PERF_SAMPLE_CPU |
  PerfSampleFormat.PERF_SAMPLE_PERIOD |
  PerfSampleFormat.PERF_SAMPLE_RAW;

/** The fields of struct perf_event_attr the simulation uses. */
export interface PerfEventAttr {
  type: number;
  /** event id for PERF_TYPE_TRACEPOINT; PERF_COUNT_SW_* for software; retprobe bit for kprobe */
  config?: number;
  /** attr.size; 0 or absent means PERF_ATTR_SIZE_VER0 */
  size?: number;
  sampleType?: number;
  samplePeriod?: number;
  wakeupEvents?: number;
  disabled?: boolean;
  sampleIdAll?: boolean;
  /** the kprobe PMU's probe point (attr.kprobe_func, a user string in the real ABI) */
  kprobeFunc?: string;
  /** attr.probe_offset */
  probeOffset?: number;
}

export class PerfEvent {
  enabled: boolean;
  /** samples recorded (what read() returns for a tracepoint event) */
  count = 0;
  /** samples that did not fit in the ring */
  lostSamples = 0;
  /** lost samples not yet reported with a PERF_RECORD_LOST */
  private pendingLost = 0;
  /** event->prog */
  attachment: BpfAttachment | undefined;
  ring: PerfRing | undefined;
  readonly sampleType: number;
  file!: KernelFile<PerfEvent>;

  constructor(
    private readonly kernel: SimKernel,
    /** event->id */
    readonly id: number,
    readonly attr: PerfEventAttr,
    /** -1: any CPU */
    readonly cpu: number,
    /** the task it follows, or undefined for all tasks (pid -1) */
    readonly task: Task | undefined,
    /** the kprobe event it counts, for tracepoint and kprobe PMU events */
    readonly tpEvent: KprobeEvent | undefined,
  ) {
    this.enabled = !attr.disabled;
    this.sampleType = attr.sampleType ?? 0;
  }

  /** event->oncpu: the CPU it is active on, -1 when inactive (PerfOutputTarget). */
  get oncpu(): number {
    if (!this.enabled) return -1;
    if (this.cpu >= 0) return this.cpu;
    if (this.task !== undefined) {
      const cpu = this.kernel.cpus[this.task.cpu];
      return cpu?.current === this.task ? this.task.cpu : -1;
    }
    return -1;
  }

  /** A PERF_COUNT_SW_BPF_OUTPUT event (what bpf_perf_event_output writes to). */
  get isBpfOutput(): boolean {
    return (
      this.attr.type === PerfTypeId.PERF_TYPE_SOFTWARE &&
      this.attr.config === PerfSwIds.PERF_COUNT_SW_BPF_OUTPUT
    );
  }

  /**
   * perf_event_output() of bpf_perf_event_output(): a PERF_RECORD_SAMPLE whose raw data is
   * `size` bytes of `bytes` from `offset`. 0, or -ENOSPC when the ring has no room (counted).
   */
  outputSample(bytes: Uint8Array, offset: number, size: number): number {
    const cpu = this.kernel.cpu;
    const frame = cpu.depth > 0 ? cpu.frames[cpu.depth - 1] : undefined;
    return this.writeSample(cpu, frame, bytes.subarray(offset, offset + size));
  }

  /** A kprobe event hit this event (kprobe_perf_func after the programs said keep). */
  recordTraceSample(cpu: KernelCpu, event: KprobeEvent, fn: KernelFunction): void {
    const retprobe = event.retprobe;
    // struct trace_entry then ip, or func and ret_ip for a kretprobe (kprobe_trace_entry_head)
    const raw = new Uint8Array(retprobe ? 24 : 16);
    const view = new DataView(raw.buffer);
    view.setUint16(0, event.id & 0xffff, true);
    view.setUint8(2, cpu.irqsOff ? 1 : 0);
    view.setUint8(3, Math.min(cpu.preemptCount, 255));
    view.setInt32(4, cpu.current.pid, true);
    view.setInt32(8, fn.lo, true);
    view.setInt32(12, KERNEL_TEXT_HI, true);
    if (retprobe) {
      view.setInt32(16, cpu.returnAddrs[cpu.depth - 1]!, true);
      view.setInt32(20, KERNEL_TEXT_HI, true);
    }
    this.writeSample(cpu, fn, raw);
  }

  private writeSample(cpu: KernelCpu, fn: KernelFunction | undefined, raw: Uint8Array): number {
    this.count++;
    const ring = this.ring;
    if (ring === undefined) return 0;
    const record = this.sampleRecord(cpu, fn, raw);
    if (record === undefined) return -errno("E2BIG");
    const lost = this.pendingLost > 0 ? this.lostRecord(cpu) : undefined;
    const need = record.length + (lost?.length ?? 0);
    if (need > ring.free) {
      this.pendingLost++;
      this.lostSamples++;
      return -errno("ENOSPC");
    }
    if (lost !== undefined) {
      ring.write(lost);
      this.pendingLost = 0;
    }
    ring.write(record);
    return 0;
  }

  private sampleRecord(
    cpu: KernelCpu,
    fn: KernelFunction | undefined,
    raw: Uint8Array,
  ): Uint8Array | undefined {
    const S = PerfSampleFormat;
    const t = this.sampleType;
    const rawSize = Math.ceil((raw.length + 4) / 8) * 8 - 4; // padded as perf_prepare_sample does
    const words: number[] = []; // 32-bit little-endian words after the header
    const u64 = (lo: number, hi: number): void => void words.push(lo | 0, hi | 0);
    const n64 = (n: number): void => u64(n | 0, Math.floor(n / 0x100000000));
    if (t & S.PERF_SAMPLE_IDENTIFIER) n64(this.id);
    if (t & S.PERF_SAMPLE_IP) u64(fn?.lo ?? 0, fn ? KERNEL_TEXT_HI : 0);
    if (t & S.PERF_SAMPLE_TID) u64(cpu.current.tgid, cpu.current.pid);
    if (t & S.PERF_SAMPLE_TIME) n64(this.kernel.clock.ns);
    if (t & S.PERF_SAMPLE_ADDR) u64(0, 0);
    if (t & S.PERF_SAMPLE_ID) n64(this.id);
    if (t & S.PERF_SAMPLE_STREAM_ID) n64(this.id);
    if (t & S.PERF_SAMPLE_CPU) u64(cpu.id, 0);
    if (t & S.PERF_SAMPLE_PERIOD) n64(this.attr.samplePeriod ?? 1);
    const rawBytes = t & S.PERF_SAMPLE_RAW ? 4 + rawSize : 0;
    const size = 8 + words.length * 4 + rawBytes;
    if (size > 0xffff) return undefined;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, PerfEventType.PERF_RECORD_SAMPLE, true);
    view.setUint16(4, PERF_RECORD_MISC_KERNEL, true);
    view.setUint16(6, size, true);
    words.forEach((w, i) => view.setInt32(8 + i * 4, w, true));
    if (rawBytes > 0) {
      const at = 8 + words.length * 4;
      view.setUint32(at, rawSize, true);
      out.set(raw, at + 4);
    }
    return out;
  }

  private lostRecord(cpu: KernelCpu): Uint8Array {
    const idFields = this.attr.sampleIdAll ? this.sampleIdFields(cpu) : [];
    const size = 24 + idFields.length * 4;
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, PerfEventType.PERF_RECORD_LOST, true);
    view.setUint16(6, size, true);
    view.setUint32(8, this.id, true);
    view.setUint32(16, this.pendingLost, true);
    idFields.forEach((w, i) => view.setInt32(24 + i * 4, w, true));
    return out;
  }

  /** struct sample_id for sample_id_all: tid, time, id, stream_id, cpu, identifier. */
  private sampleIdFields(cpu: KernelCpu): number[] {
    const S = PerfSampleFormat;
    const t = this.sampleType;
    const w: number[] = [];
    const n64 = (n: number): void => void w.push(n | 0, Math.floor(n / 0x100000000) | 0);
    if (t & S.PERF_SAMPLE_TID) w.push(cpu.current.tgid, cpu.current.pid);
    if (t & S.PERF_SAMPLE_TIME) n64(this.kernel.clock.ns);
    if (t & S.PERF_SAMPLE_ID) n64(this.id);
    if (t & S.PERF_SAMPLE_STREAM_ID) n64(this.id);
    if (t & S.PERF_SAMPLE_CPU) w.push(cpu.id, 0);
    if (t & S.PERF_SAMPLE_IDENTIFIER) n64(this.id);
    return w;
  }
}

const errno = (name: "E2BIG" | "ENOSPC"): number => Errno[name];

/** A BPF perf link (struct bpf_perf_link). */
export class PerfLink {
  constructor(
    readonly id: number,
    readonly prog: AttachableProg,
    readonly perfFile: KernelFile<PerfEvent>,
    readonly attachment: BpfAttachment,
  ) {}

  readonly type = BpfLinkType.BPF_LINK_TYPE_PERF_EVENT;

  get event(): PerfEvent {
    return this.perfFile.privateData;
  }
}

export class PerfSubsystem {
  private nextEventId = 1;
  private nextLinkId = 1;

  constructor(private readonly kernel: SimKernel) {}

  /** perf_event_open(attr, pid, cpu, group_fd, flags) for the simulated process: a new fd. */
  open(attr: PerfEventAttr, pid: number, cpu: number, groupFd: number, flags: number): number {
    const call = `perf_event_open(type ${attr.type}, config ${attr.config ?? 0}, pid ${pid}, cpu ${cpu})`;
    const k = this.kernel;
    if ((flags & ~PERF_FLAG_ALL) !== 0)
      throw new KernelError("EINVAL", call, `unknown flags 0x${flags.toString(16)}`);
    const size = attr.size ?? 0;
    if (size !== 0 && (size < PERF_ATTR_SIZE_VER0 || size > PAGE_SIZE)) {
      throw new KernelError("E2BIG", call, `attr.size ${size} is not a perf_event_attr size`);
    }
    const sampleType = attr.sampleType ?? 0;
    if ((sampleType & ~SUPPORTED_SAMPLE_TYPE) !== 0) {
      throw new KernelError(
        "EINVAL",
        call,
        `sample_type 0x${sampleType.toString(16)} has bits the simulation does not produce`,
      );
    }
    if (groupFd !== -1) {
      const group = k.files.get(groupFd);
      if (group === undefined || group.kind !== FileKind.PERF_EVENT) {
        throw new KernelError("EBADF", call, `group_fd ${groupFd} is not a perf event`);
      }
    }
    let task: Task | undefined;
    if (pid !== -1 && (flags & PERF_FLAG_PID_CGROUP) === 0) {
      task = pid === 0 ? k.self : k.tasks.get(pid);
      if (task === undefined) throw new KernelError("ESRCH", call, `no task with pid ${pid}`);
    }
    if (cpu < -1 || cpu >= k.cpus.length || (cpu === -1 && task === undefined)) {
      throw new KernelError(
        "EINVAL",
        call,
        cpu === -1 ? "pid -1 needs a cpu" : `no CPU ${cpu} (the kernel has ${k.cpus.length})`,
      );
    }
    const tpEvent = this.eventFor(attr, call);
    const event = new PerfEvent(k, this.nextEventId++, attr, cpu, task, tpEvent);
    event.file = new KernelFile(FileKind.PERF_EVENT, event, () => this.release(event));
    if (tpEvent !== undefined) {
      tpEvent.perfEvents.push(event);
      tpEvent.updateArmed();
    }
    return k.files.install(event.file);
  }

  /** The PMU's event_init: which kprobe event (if any) the new perf event counts. */
  private eventFor(attr: PerfEventAttr, call: string): KprobeEvent | undefined {
    const k = this.kernel;
    const config = attr.config ?? 0;
    switch (attr.type) {
      case PerfTypeId.PERF_TYPE_TRACEPOINT: {
        const event = k.kprobes.get(config);
        if (event === undefined)
          throw new KernelError("EINVAL", call, `no trace event has id ${config}`);
        return event;
      }
      case PerfTypeId.PERF_TYPE_SOFTWARE:
        if (config < 0 || config > PerfSwIds.PERF_COUNT_SW_CGROUP_SWITCHES) {
          throw new KernelError("ENOENT", call, `unknown software event ${config}`);
        }
        return undefined;
      case KPROBE_PMU_TYPE:
        if (k.version >= KERNEL_VERSION(4, 17, 0)) return this.pmuKprobe(attr, call);
        break;
    }
    throw new KernelError("ENOENT", call, `no PMU of type ${attr.type} in the simulated kernel`);
  }

  /** perf_kprobe_init(): a local kprobe event on attr.kprobe_func. */
  private pmuKprobe(attr: PerfEventAttr, call: string): KprobeEvent {
    const func = attr.kprobeFunc;
    if (func === undefined || func === "")
      throw new KernelError(
        "EINVAL",
        call,
        "kprobe_func is empty (address probes are not simulated)",
      );
    if ((attr.probeOffset ?? 0) !== 0)
      throw new KernelError("EINVAL", call, "only function entry (probe_offset 0) is simulated");
    const retprobe = ((attr.config ?? 0) & PERF_PROBE_CONFIG_IS_RETPROBE) !== 0;
    return this.kernel.kprobes.create(
      "kprobes",
      `${retprobe ? "r" : "p"}_${func}_0`,
      func,
      retprobe,
      true,
      call,
    );
  }

  /** The perf event behind an fd of the simulated process; EBADF otherwise. */
  eventOf(fd: number, call: string): PerfEvent {
    const file = this.kernel.files.get(fd);
    if (file === undefined) throw new KernelError("EBADF", call, `fd ${fd} is not open`);
    if (file.kind !== FileKind.PERF_EVENT)
      throw new KernelError("EBADF", call, `fd ${fd} is not a perf event`);
    return file.privateData as PerfEvent;
  }

  /** ioctl() on a perf event fd. Returns 0 (or the event id for PERF_EVENT_IOC_ID). */
  ioctl(fd: number, request: number, arg: number): number {
    const req = request >>> 0;
    const call = `ioctl(${fd}, ${ioctlName(req)})`;
    const file = this.kernel.files.get(fd);
    if (file === undefined) throw new KernelError("EBADF", call, `fd ${fd} is not open`);
    if (file.kind !== FileKind.PERF_EVENT)
      throw new KernelError("ENOTTY", call, `fd ${fd} (${file.kind}) is not a perf event`);
    const event = file.privateData as PerfEvent;
    switch (req) {
      case PERF_EVENT_IOC_ENABLE:
        event.enabled = true;
        return 0;
      case PERF_EVENT_IOC_DISABLE:
        event.enabled = false;
        return 0;
      case PERF_EVENT_IOC_RESET:
        event.count = 0;
        return 0;
      case PERF_EVENT_IOC_ID:
        return event.id;
      case PERF_EVENT_IOC_SET_BPF:
        this.setBpfFromFd(event, arg, call);
        return 0;
      default:
        throw new KernelError("ENOTTY", call, `unknown perf ioctl 0x${req.toString(16)}`);
    }
  }

  /** PERF_EVENT_IOC_SET_BPF: bpf_prog_get(fd), then perf_event_set_bpf_prog(event, prog, 0). */
  private setBpfFromFd(event: PerfEvent, progFd: number, call: string): void {
    const k = this.kernel;
    // 4.x checked the event before looking at the program fd.
    const legacy = k.version < KERNEL_VERSION(4, 15, 0);
    if (legacy) this.checkLegacy(event, call);
    const file = k.files.get(progFd);
    if (file === undefined) throw new KernelError("EBADF", call, `prog fd ${progFd} is not open`);
    if (file.kind !== FileKind.BPF_PROG)
      throw new KernelError("EINVAL", call, `fd ${progFd} (${file.kind}) is not a BPF program`);
    this.attach(event, file.privateData as AttachableProg, 0, 0, call);
  }

  private checkLegacy(event: PerfEvent, call: string): void {
    if (event.attr.type !== PerfTypeId.PERF_TYPE_TRACEPOINT) {
      throw new KernelError(
        "EINVAL",
        call,
        "only tracepoint (kprobe) events take BPF programs on this kernel",
      );
    }
    if (event.tpEvent !== undefined && event.tpEvent.progs.length > 0) {
      throw new KernelError(
        "EEXIST",
        call,
        `event ${event.tpEvent.fullName} already has a program`,
      );
    }
  }

  /** perf_event_set_bpf_prog() + perf_event_attach_bpf_prog(): the event takes a reference. */
  attach(
    event: PerfEvent,
    prog: AttachableProg,
    cookieLo: number,
    cookieHi: number,
    call: string,
  ): BpfAttachment {
    const k = this.kernel;
    const tp = event.tpEvent;
    const progName = prog.name ? `program '${prog.name}'` : "the program";
    if (tp === undefined) {
      // Sampling events take BPF_PROG_TYPE_PERF_EVENT programs; samples are not simulated.
      if (prog.progType !== BpfProgType.BPF_PROG_TYPE_PERF_EVENT) {
        throw new KernelError("EINVAL", call, `${progName} is not a perf_event program`);
      }
    } else if (prog.progType !== BpfProgType.BPF_PROG_TYPE_KPROBE) {
      throw new KernelError(
        "EINVAL",
        call,
        `${progName} has type ${prog.progType}, a kprobe event needs BPF_PROG_TYPE_KPROBE`,
      );
    } else if (prog.expectedAttachType === BpfAttachType.BPF_TRACE_KPROBE_MULTI) {
      throw new KernelError("EINVAL", call, `${progName} was loaded for kprobe_multi links`);
    }
    if (event.attachment !== undefined) {
      throw new KernelError("EEXIST", call, "the perf event already has a program");
    }
    if (tp !== undefined && k.version < KERNEL_VERSION(4, 15, 0) && tp.progs.length > 0) {
      throw new KernelError(
        "EEXIST",
        call,
        `event ${tp.fullName} already has a program (one per event before 4.15)`,
      );
    }
    if (tp !== undefined && tp.progs.length >= BPF_TRACE_MAX_PROGS) {
      throw new KernelError(
        "E2BIG",
        call,
        `event ${tp.fullName} has ${BPF_TRACE_MAX_PROGS} programs`,
      );
    }
    prog.get();
    const attachment = new BpfAttachment(prog, cookieLo | 0, cookieHi | 0);
    event.attachment = attachment;
    tp?.progs.push(attachment);
    return attachment;
  }

  /** perf_event_free_bpf_prog(): detach the event's program and drop the event's reference. */
  detach(event: PerfEvent): void {
    const a = event.attachment;
    if (a === undefined) return;
    event.attachment = undefined;
    const progs = event.tpEvent?.progs;
    if (progs) progs.splice(progs.indexOf(a), 1);
    a.prog.put();
  }

  /** The last reference to the event went away (perf_release). */
  private release(event: PerfEvent): void {
    this.detach(event);
    const tp = event.tpEvent;
    if (tp !== undefined) {
      tp.perfEvents.splice(tp.perfEvents.indexOf(event), 1);
      tp.updateArmed();
      if (tp.local) this.kernel.kprobes.destroyLocal(tp);
    }
    event.ring = undefined;
  }

  /** mmap() of 1 + 2^n pages on a perf event fd: its ring buffer. */
  mmap(fd: number, pages: number): PerfRing {
    const call = `mmap(perf fd ${fd}, ${pages} pages)`;
    const event = this.eventOf(fd, call);
    const data = pages - 1;
    if (!Number.isInteger(pages) || data < 1 || (data & (data - 1)) !== 0) {
      throw new KernelError("EINVAL", call, "a perf ring is 1 + 2^n pages");
    }
    if (event.ring !== undefined) {
      if (event.ring.dataPages !== data)
        throw new KernelError("EINVAL", call, "already mapped with another size");
      return event.ring;
    }
    event.ring = new PerfRing(data, event.sampleType);
    return event.ring;
  }

  /**
   * BPF_LINK_CREATE with attach_type BPF_PERF_EVENT (bpf_perf_link_attach): link `prog` to the
   * perf event at `perfFd` with a bpf_cookie. The link takes its own references to the program
   * and to the perf event file; closing the link's last reference detaches. Returns the link
   * file (refcount 1) for the caller to install as an fd.
   */
  createPerfLink(
    perfFd: number,
    prog: AttachableProg,
    cookieLo = 0,
    cookieHi = 0,
  ): KernelFile<PerfLink> {
    const k = this.kernel;
    const call = `bpf(BPF_LINK_CREATE, perf fd ${perfFd})`;
    if (k.version < KERNEL_VERSION(5, 15, 0)) {
      throw new KernelError(
        "EINVAL",
        call,
        `perf event links need 5.15, the kernel is ${kernelVersionString(k.version)}`,
      );
    }
    const event = this.eventOf(perfFd, call);
    const attachment = this.attach(event, prog, cookieLo, cookieHi, call);
    prog.get(); // the link's own reference
    const perfFile = event.file.get();
    const link = new PerfLink(this.nextLinkId++, prog, perfFile, attachment);
    return new KernelFile(FileKind.BPF_LINK, link, () => {
      if (event.attachment === attachment) this.detach(event);
      perfFile.put();
      prog.put();
    });
  }
}

function ioctlName(req: number): string {
  const names: Record<number, string> = {
    [PERF_EVENT_IOC_ENABLE]: "PERF_EVENT_IOC_ENABLE",
    [PERF_EVENT_IOC_DISABLE]: "PERF_EVENT_IOC_DISABLE",
    [PERF_EVENT_IOC_RESET]: "PERF_EVENT_IOC_RESET",
    [PERF_EVENT_IOC_ID]: "PERF_EVENT_IOC_ID",
    [PERF_EVENT_IOC_SET_BPF]: "PERF_EVENT_IOC_SET_BPF",
  };
  return names[req] ?? `0x${req.toString(16)}`;
}
