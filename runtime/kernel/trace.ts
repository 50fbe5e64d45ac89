// The tracing ring buffer and its text, as /sys/kernel/tracing/trace_pipe shows it: one line per
// entry, "<comm>-<pid> [<cpu>] <flags> <seconds>.<micros>: <event>: <text>". The context
// columns follow trace_print_context() of the chosen kernel (pid in 5 columns and 4 flag
// characters before 5.14, 7 and 5 after); bpf_trace_printk entries read "bpf_trace_printk: msg"
// from 5.10 on, "0x00000001: msg" from 4.13 and ": : msg" before; kprobe entries read
// "NAME: (sym+0x0/0x1c0)" and kretprobe entries "NAME: (caller+0x2e/0x90 <- sym)".
//
// Entries keep their fields and are formatted when read, so recording stays cheap. The buffer
// holds at most `capacity` entries; older ones are overwritten (and counted) when it is full,
// like the kernel's overwrite mode.
import { KERNEL_VERSION } from "../uapi/bpf.js";

export interface TraceEntry {
  /** CLOCK_MONOTONIC in ns (the trace clock) */
  readonly ts: number;
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  /** the latency columns: irqs-off, need-resched, hard/softirq, preempt depth(s) */
  readonly flags: string;
  /** "bpf_trace_printk", or the kprobe event name */
  readonly event: string;
  /** what follows "event: " */
  readonly text: string;
}

export class TraceBuffer {
  private entries: TraceEntry[] = [];
  private start = 0;
  /** entries overwritten before anyone read them */
  overrun = 0;

  constructor(
    private readonly version: number,
    readonly capacity = 1 << 16,
  ) {}

  /** Record an entry (the text may end with a newline; formatting adds one if it does not). */
  record(entry: TraceEntry): void {
    if (this.entries.length - this.start >= this.capacity) {
      this.start++;
      this.overrun++;
    }
    this.entries.push(entry);
    if (this.start > 4096 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }

  /** Entries not yet consumed. */
  get pending(): number {
    return this.entries.length - this.start;
  }

  /** Read trace_pipe: the pending entries as text, consumed. */
  readPipe(): string {
    const text = this.format(this.entries.slice(this.start));
    this.entries = [];
    this.start = 0;
    return text;
  }

  /** Read `trace`: the pending entries as text, left in place. */
  read(): string {
    return this.format(this.entries.slice(this.start));
  }

  /** The pending entries themselves. */
  peek(): readonly TraceEntry[] {
    return this.entries.slice(this.start);
  }

  format(entries: readonly TraceEntry[]): string {
    let out = "";
    for (const e of entries) out += this.line(e);
    return out;
  }

  // Before 5.10 bpf_trace_printk went through trace_printk() with ip 1: kernels before 4.13
  // print nothing for an ip no symbol matches, later ones print the address.
  private printkEventName(): string {
    if (this.version >= KERNEL_VERSION(5, 10, 0)) return "bpf_trace_printk";
    return this.version >= KERNEL_VERSION(4, 13, 0) ? "0x00000001" : "";
  }

  /** One entry as trace_pipe prints it, newline-terminated. */
  line(e: TraceEntry): string {
    const modern = this.version >= KERNEL_VERSION(5, 14, 0);
    const comm = e.pid === 0 ? "<idle>" : e.comm;
    const context = `${comm.padStart(16)}-${String(e.pid).padEnd(modern ? 7 : 5)} [${String(e.cpu).padStart(3, "0")}] ${e.flags}`;
    const micros = Math.floor(e.ts / 1000);
    const time = `${String(Math.floor(micros / 1e6)).padStart(5)}.${String(micros % 1e6).padStart(6, "0")}`;
    const text = e.text.endsWith("\n") ? e.text : e.text + "\n";
    const event = e.event === "bpf_trace_printk" ? this.printkEventName() : e.event;
    return `${context} ${time}: ${event}: ${text}`;
  }
}
