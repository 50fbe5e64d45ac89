// /sys/kernel/tracing/trace_pipe as a stream of lines: what bpf_trace_printk() wrote (and the
// kprobe events programs kept), consumed as reading trace_pipe consumes them.
import type { SimKernel } from "../kernel/kernel.js";
import { EventConsumer } from "./consumer.js";

export interface TraceLine {
  /** CLOCK_MONOTONIC in ns */
  readonly ts: number;
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  /** "bpf_trace_printk", or a kprobe event's name */
  readonly event: string;
  /** the message, without its newline */
  readonly text: string;
  /** the whole line as trace_pipe prints it, without its newline */
  readonly line: string;
}

export interface TracePipeOptions {
  /** called for each line; without it, lines wait for `for await` or drain() */
  onLine?: (line: TraceLine) => void;
}

export class TracePipe extends EventConsumer<TraceLine> {
  constructor(kernel: SimKernel, options: TracePipeOptions = {}) {
    super(kernel, "trace_pipe", options.onLine);
  }

  poll(): number {
    const trace = this.kernel.trace;
    const entries = trace.peek();
    if (entries.length === 0) return 0;
    trace.readPipe();
    for (const e of entries) {
      this.emit({
        ts: e.ts,
        cpu: e.cpu,
        pid: e.pid,
        comm: e.comm,
        event: e.event,
        text: e.text.replace(/\n$/, ""),
        line: trace.format([e]).replace(/\n$/, ""),
      });
    }
    return entries.length;
  }
}
