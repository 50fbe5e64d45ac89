// What the three output readers (trace_pipe, perf buffer, ring buffer) share: they register as
// a poller of the simulated kernel, so a workload hands them their events at its polling points
// as epoll would wake a reader; each event goes to the callback given at creation or, without
// one, waits in a queue for an async iterator or drain().
import type { SimKernel } from "../kernel/kernel.js";
import "./dispose.js";
import { BpfError } from "./errors.js";
import { EventQueue } from "./event-queue.js";

export abstract class EventConsumer<E> implements AsyncIterable<E>, Disposable {
  private readonly queue: EventQueue<E> | undefined;
  private readonly unregister: () => void;
  private closedFlag = false;

  constructor(
    protected readonly kernel: SimKernel,
    /** for messages: "perf buffer 'events'" */
    readonly description: string,
    private readonly callback: ((event: E) => void) | undefined,
  ) {
    this.queue = callback === undefined ? new EventQueue<E>() : undefined;
    this.unregister = kernel.addPoller(() => this.poll());
  }

  /** Read what the kernel has produced so far; returns the number of events handed out. */
  abstract poll(): number;

  /** Release what the consumer holds in the kernel (perf event fds ...). */
  protected release(): void {}

  protected emit(event: E): void {
    if (this.callback !== undefined) this.callback(event);
    else this.queue!.push(event);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Events waiting to be iterated (0 with a callback). */
  get pending(): number {
    return this.queue?.length ?? 0;
  }

  /** Poll, then take every waiting event (for consumers made without a callback). */
  drain(): E[] {
    if (!this.closedFlag) this.poll();
    return this.queue?.drain() ?? [];
  }

  /** Events as they come; the loop ends once the consumer is closed and drained. */
  [Symbol.asyncIterator](): AsyncIterator<E> {
    if (this.queue === undefined)
      throw BpfError.usage(
        this.description,
        "[Symbol.asyncIterator]",
        "events go to the callback given at creation; make the consumer without one to iterate",
      );
    return this.queue;
  }

  /** Take what is left, stop polling, release the kernel side; iterators finish. */
  close(): void {
    if (this.closedFlag) return;
    this.poll();
    this.closedFlag = true;
    this.unregister();
    this.release();
    this.queue?.end();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
