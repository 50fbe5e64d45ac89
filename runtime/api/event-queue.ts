// Events waiting for an async iterator. Consumers are fed by the kernel's pollers while a
// workload runs (synchronously); a `for await` loop started before the workload sees every event
// once the workload yields, and ends after the consumer is closed and the queue is drained.
import "./dispose.js";

export class EventQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private readonly waiting: ((result: IteratorResult<T>) => void)[] = [];
  private ended = false;

  /** Events queued and not yet taken. */
  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter({ value: item, done: false });
    else this.items.push(item);
  }

  /** No more events: waiting iterators finish once the queue is empty. */
  end(): void {
    this.ended = true;
    for (const waiter of this.waiting.splice(0)) waiter({ value: undefined, done: true });
  }

  /** Take every queued event at once. */
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Leaving a `for await` early ends the iteration (the consumer stays open). */
  return(): Promise<IteratorResult<T>> {
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
