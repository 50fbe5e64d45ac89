// Kprobe events (kernel/trace/trace_kprobe.c): created by name through the kprobe_events text
// interface ("p:kprobes/NAME SYMBOL", "r:...", "-:kprobes/NAME") or, from 4.17 on, through the
// kprobe PMU of perf_event_open; each gets a trace event id. An event is armed on its function
// while a perf event is open on it or ftrace has enabled it.
//
// Firing, as kprobe_dispatcher() does it:
//   - ftrace path (events/kprobes/NAME/enable): the hit goes to the trace buffer, unfiltered;
//   - perf path (kprobe_perf_func): the attached programs run through trace_call_bpf() with a
//     read-only pt_regs (function arguments in di si dx cx r8 r9, ip = the function, ax = the
//     return value for a kretprobe, sp pointing at the return address); a result of 0 drops
//     the event, otherwise it is recorded by every enabled perf event on it whose cpu and task
//     match: counted, written to its mmap ring if it has one, and shown as a trace line.
//     (The real kernel writes that record only to the perf ring; the trace line is the
//     simulator's way of making it visible in trace_pipe, as the project's design asks.)
import { KERNEL_VERSION } from "../uapi/bpf.js";
import { PtRegs, PT_REGS_SIZE } from "../uapi/ptregs.js";
import { KERNEL_HI } from "../vm/memory.js";
import { traceCallBpf, type BpfAttachment } from "./attach.js";
import type { KernelCpu } from "./cpu.js";
import { KernelError } from "./error.js";
import type { KArg, KernelFunction } from "./functions.js";
import { KERNEL_TEXT_HI } from "./kallsyms.js";
import type { SimKernel } from "./kernel.js";
import type { PerfEvent } from "./perf.js";

/** The first id handed to a dynamic trace event (ids of the static events come before). */
const FIRST_DYNAMIC_EVENT_ID = 1520;
/** BPF_TRACE_MAX_PROGS: programs on one event (kernels with prog arrays, 4.15+). */
export const BPF_TRACE_MAX_PROGS = 64;

const EVENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class KprobeEvent {
  /** perf events open on this event (TP_FLAG_PROFILE while any) */
  readonly perfEvents: PerfEvent[] = [];
  /** call->prog_array: the attached programs, in attach order */
  readonly progs: BpfAttachment[] = [];
  /** enabled through tracefs (TP_FLAG_TRACE) */
  ftraceEnabled = false;
  /** hits while armed */
  nhit = 0;
  /** events recorded (a program returned non-zero, or no program was attached) */
  recorded = 0;
  private armed = false;

  constructor(
    readonly id: number,
    readonly group: string,
    readonly name: string,
    readonly fn: KernelFunction,
    readonly retprobe: boolean,
    /** created by the kprobe PMU, removed when its perf event closes */
    readonly local: boolean,
  ) {}

  get fullName(): string {
    return `${this.group}/${this.name}`;
  }

  /** "p:kprobes/NAME vfs_read" as kprobe_events lists it. */
  get definition(): string {
    return `${this.retprobe ? "r" : "p"}:${this.fullName} ${this.fn.name}`;
  }

  /** Arm or disarm on the function as users come and go. */
  updateArmed(): void {
    const want = this.ftraceEnabled || this.perfEvents.length > 0;
    if (want === this.armed) return;
    this.armed = want;
    const list = this.retprobe ? this.fn.returnProbes : this.fn.entryProbes;
    if (want) list.push(this);
    else list.splice(list.indexOf(this), 1);
  }

  get isArmed(): boolean {
    return this.armed;
  }
}

export class KprobeRegistry {
  private readonly byName = new Map<string, KprobeEvent>();
  /** by CPU id: its pt_regs block holds the words no event changes (fillPtRegs) */
  private readonly ptRegsReady: boolean[] = [];
  private readonly byId = new Map<number, KprobeEvent>();
  private nextId = FIRST_DYNAMIC_EVENT_ID;

  constructor(private readonly kernel: SimKernel) {}

  /** An event by id (perf_event_attr.config of a PERF_TYPE_TRACEPOINT event). */
  get(id: number): KprobeEvent | undefined {
    return this.byId.get(id);
  }

  /** An event by "group/name" or by name in the kprobes group. */
  find(name: string): KprobeEvent | undefined {
    return this.byName.get(name.includes("/") ? name : `kprobes/${name}`);
  }

  /** Every event, in creation order. */
  list(): KprobeEvent[] {
    return [...this.byId.values()];
  }

  /**
   * Write lines to kprobe_events. Returns the ids of the events created (a "-:" line deletes).
   * Errors are KernelErrors with the errno the write would fail with.
   */
  write(text: string): number[] {
    const ids: number[] = [];
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*$/, "").trim();
      if (line === "") continue;
      const id = this.writeLine(line);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  /** kprobe_events as read back: one definition per line. */
  read(): string {
    return this.list()
      .filter((e) => !e.local)
      .map((e) => e.definition + "\n")
      .join("");
  }

  private writeLine(line: string): number | undefined {
    const call = `kprobe_events: '${line}'`;
    const [head, target, ...rest] = line.split(/\s+/);
    const m = /^([pr-])(\d*)(?::(?:([^/\s]+)\/)?([^/\s]+))?$/.exec(head!);
    if (m === null)
      throw new KernelError(
        "EINVAL",
        call,
        "expected p[:[GRP/]EVENT] SYMBOL, r[...] or -:[GRP/]EVENT",
      );
    const [, kind, , groupText, nameText] = m;
    const group = groupText ?? "kprobes";
    if (kind === "-") {
      if (nameText === undefined || target !== undefined)
        throw new KernelError("EINVAL", call, "expected -:[GRP/]EVENT");
      this.remove(`${group}/${nameText}`, call);
      return undefined;
    }
    if (target === undefined)
      throw new KernelError("EINVAL", call, "no probe point (symbol) given");
    if (rest.length > 0) {
      throw new KernelError(
        "EINVAL",
        call,
        `fetch arguments ('${rest.join(" ")}') are not simulated`,
      );
    }
    const sym = /^([A-Za-z_][\w.]*)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(target);
    if (sym === null) throw new KernelError("EINVAL", call, `bad probe point '${target}'`);
    if (sym[2] !== undefined && Number(sym[2]) !== 0) {
      throw new KernelError(
        "EINVAL",
        call,
        `only function entry (+0) is simulated, not '${target}'`,
      );
    }
    const retprobe = kind === "r";
    const name = nameText ?? `${kind}_${sym[1]}_0`;
    return this.create(group, name, sym[1]!, retprobe, false, call).id;
  }

  /** register_trace_kprobe(): a new event on `symbol`'s entry (or return). */
  create(
    group: string,
    name: string,
    symbol: string,
    retprobe: boolean,
    local: boolean,
    call = "kprobe_events",
  ): KprobeEvent {
    if (!EVENT_NAME.test(name) || !EVENT_NAME.test(group)) {
      throw new KernelError("EINVAL", call, `bad event name '${group}/${name}'`);
    }
    const full = `${group}/${name}`;
    if (!local && this.byName.has(full)) {
      throw new KernelError("EEXIST", call, `event ${full} already exists`);
    }
    const fn = this.kernel.functions.get(symbol);
    if (fn === undefined) {
      const known = this.kernel.kallsyms.lookup(symbol);
      const reason = known
        ? `'${symbol}' is not a probe-able function of the simulated kernel`
        : `unknown symbol '${symbol}' (no such kernel function)`;
      throw new KernelError("ENOENT", call, reason);
    }
    const event = new KprobeEvent(this.nextId++, group, name, fn, retprobe, local);
    this.byId.set(event.id, event);
    if (!local) this.byName.set(full, event);
    return event;
  }

  /** Delete an event; EBUSY while it is in use, ENOENT if there is no such event. */
  remove(fullName: string, call = "kprobe_events"): void {
    const event = this.byName.get(fullName);
    if (event === undefined) throw new KernelError("ENOENT", call, `no event ${fullName}`);
    if (event.isArmed || event.progs.length > 0) {
      throw new KernelError("EBUSY", call, `event ${fullName} is in use`);
    }
    this.byName.delete(fullName);
    this.byId.delete(event.id);
  }

  /** A PMU-created (local) event goes away with its perf event. */
  destroyLocal(event: KprobeEvent): void {
    if (event.local) this.byId.delete(event.id);
  }

  /** events/GROUP/NAME/enable. */
  setEnabled(name: string, enabled: boolean): void {
    const event = this.find(name);
    if (event === undefined)
      throw new KernelError("ENOENT", `events/${name}/enable`, `no event ${name}`);
    event.ftraceEnabled = enabled;
    event.updateArmed();
  }

  // ---- firing -------------------------------------------------------------------------------

  /** The function was entered on `cpu` with `args`: run every armed entry event. */
  fireEntry(fn: KernelFunction, args: readonly KArg[], cpu: KernelCpu): void {
    const events = fn.entryProbes;
    for (let i = 0; i < events.length; i++) this.fire(events[i]!, fn, args, undefined, cpu);
  }

  /** The function returned `ret` on `cpu`: run every armed return event. */
  fireReturn(fn: KernelFunction, args: readonly KArg[], ret: KArg, cpu: KernelCpu): void {
    const events = fn.returnProbes;
    for (let i = 0; i < events.length; i++) this.fire(events[i]!, fn, args, ret, cpu);
  }

  private fire(
    event: KprobeEvent,
    fn: KernelFunction,
    args: readonly KArg[],
    ret: KArg | undefined,
    cpu: KernelCpu,
  ): void {
    event.nhit++;
    const wasIrqsOff = cpu.irqsOff;
    cpu.irqsOff = true; // kprobe handlers run from the int3 trap with interrupts off
    cpu.preemptCount++;
    try {
      if (event.ftraceEnabled) this.recordLine(event, fn, cpu);
      if (event.perfEvents.length === 0) return;
      if (event.progs.length > 0) {
        // A busy CPU runs nothing (trace_call_bpf counts the miss): its pt_regs stay as the
        // running program's.
        if (cpu.bpfProgActive === 0) this.fillPtRegs(fn, args, ret, cpu);
        const result = traceCallBpf(cpu, event.progs, cpu.ptRegs.addressLo, KERNEL_HI);
        if (result === 0) return;
      }
      this.recordPerf(event, fn, cpu);
    } finally {
      cpu.preemptCount--;
      cpu.irqsOff = wasIrqsOff;
    }
  }

  /**
   * Fill the CPU's pt_regs block for a program (written by the kernel, read-only to BPF),
   * through the address space's int32 view (the block is 8-byte aligned). The first fill on a
   * CPU writes all 42 words; later ones only the words that differ between events (the argument
   * registers, ax, bp, ip and sp): nothing else writes the block, so the rest keep their values.
   */
  private fillPtRegs(
    fn: KernelFunction,
    args: readonly KArg[],
    ret: KArg | undefined,
    cpu: KernelCpu,
  ): void {
    const w = this.kernel.memory.i32;
    const at = cpu.ptRegs.base >> 2;
    if (this.ptRegsReady[cpu.id] !== true) {
      for (let i = 0; i < PT_REGS_WORDS; i++) w[at + i] = 0;
      w[at + W_ORIG_AX] = -1;
      w[at + W_ORIG_AX + 1] = -1;
      w[at + W_CS] = 0x10; // __KERNEL_CS
      w[at + W_SS] = 0x18; // __KERNEL_DS
      w[at + W_FLAGS] = 0x246;
      w[at + W_BP + 1] = KERNEL_HI;
      w[at + W_IP + 1] = KERNEL_TEXT_HI;
      w[at + W_SP + 1] = KERNEL_HI;
      this.ptRegsReady[cpu.id] = true;
    }
    const n = args.length < 6 ? args.length : 6;
    const sizes = fn.paramSizes;
    for (let i = 0; i < n; i++) storeArgWords(w, at + ARG_REG_WORDS[i]!, args[i]!, sizes[i] ?? 8);
    for (let i = n; i < 6; i++) {
      const r = at + ARG_REG_WORDS[i]!;
      w[r] = 0;
      w[r + 1] = 0;
    }
    const depth = cpu.depth - 1; // the probed function's frame
    const sp = cpu.stackPointer(depth);
    w[at + W_BP] = (sp + FRAME_BP_OFFSET) | 0;
    if (ret === undefined) {
      w[at + W_IP] = fn.symbol.lo;
      w[at + W_SP] = sp | 0;
      w[at + W_AX] = 0;
      w[at + W_AX + 1] = 0;
    } else {
      // After the return: ip is where the function returned to, sp one slot higher.
      w[at + W_IP] = cpu.returnAddrs[depth]!;
      w[at + W_SP] = (sp + 8) | 0;
      storeArgWords(w, at + W_AX, ret, 8);
    }
  }

  /** perf_trace_buf_submit(): every enabled perf event on this CPU/task records the hit. */
  private recordPerf(event: KprobeEvent, fn: KernelFunction, cpu: KernelCpu): void {
    let recorded = false;
    const task = cpu.current;
    for (const pe of event.perfEvents) {
      if (!pe.enabled) continue;
      if (pe.cpu >= 0 && pe.cpu !== cpu.id) continue;
      if (pe.task !== undefined && pe.task.tgid !== task.tgid) continue;
      pe.recordTraceSample(cpu, event, fn);
      recorded = true;
    }
    if (recorded) {
      event.recorded++;
      this.recordLine(event, fn, cpu);
    }
  }

  /** The kprobe event's trace line: "NAME: (sym+0x0/0x..)" or "NAME: (caller+0x../0x.. <- sym)". */
  private recordLine(event: KprobeEvent, fn: KernelFunction, cpu: KernelCpu): void {
    const k = this.kernel;
    const text = event.retprobe
      ? `(${k.kallsyms.format(cpu.returnAddrs[cpu.depth - 1]!, KERNEL_TEXT_HI)} <- ${fn.name})`
      : `(${k.kallsyms.format(fn.lo, KERNEL_TEXT_HI)})`;
    const task = cpu.current;
    k.trace.record({
      ts: k.clock.ns,
      cpu: cpu.id,
      pid: task.pid,
      comm: task.comm,
      flags: cpu.traceFlags(0, k.version >= KERNEL_VERSION(5, 14, 0)),
      event: event.name,
      text,
    });
  }
}

/** pt_regs int32 word indices of the argument registers, in order (di si dx cx r8 r9). */
const ARG_REG_WORDS = [PtRegs.di, PtRegs.si, PtRegs.dx, PtRegs.cx, PtRegs.r8, PtRegs.r9].map(
  (off) => off >> 2,
);
const PT_REGS_WORDS = PT_REGS_SIZE >> 2;
const W_ORIG_AX = PtRegs.orig_ax >> 2;
const W_CS = PtRegs.cs >> 2;
const W_SS = PtRegs.ss >> 2;
const W_FLAGS = PtRegs.flags >> 2;
const W_BP = PtRegs.bp >> 2;
const W_IP = PtRegs.ip >> 2;
const W_SP = PtRegs.sp >> 2;
const W_AX = PtRegs.ax >> 2;
/** Where a frame's saved rbp sits relative to sp at entry (after `push %rbp`). */
const FRAME_BP_OFFSET = -8;

/**
 * A register value for an argument, as two words of an int32 view from index `at` (the low word
 * first, little-endian): addresses as they are, integers sign-extended when 8 bytes
 * wide and zero-extended when narrower (a `mov r32` leaves the upper half zero).
 */
function storeArgWords(w: Int32Array, at: number, value: KArg, size: number): void {
  let lo: number;
  let hi: number;
  if (value === null) {
    lo = 0;
    hi = 0;
  } else if (typeof value === "object") {
    lo = value.lo;
    hi = value.hi;
  } else if (size >= 8) {
    lo = value | 0;
    hi = Math.floor(value / 0x100000000) | 0;
  } else {
    const bits = size * 8;
    lo = bits === 32 ? value | 0 : value & ((1 << bits) - 1);
    hi = 0;
  }
  w[at] = lo; // little-endian: the low word first
  w[at + 1] = hi;
}
