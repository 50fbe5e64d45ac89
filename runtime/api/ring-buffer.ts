// libbpf's ring_buffer for a BPF_MAP_TYPE_RINGBUF: committed records in the order programs
// reserved them, across CPUs, discarded ones skipped.
import type { SimKernel } from "../kernel/kernel.js";
import type { Codec } from "../maps/codec.js";
import type { RingbufMap } from "../maps/ringbuf.js";
import { EventConsumer } from "./consumer.js";
import { BpfError } from "./errors.js";

export interface RingBufferOptions<T> {
  /** decodes each record (default: the raw bytes) */
  codec?: Codec<T>;
  /** called for each record; without it, records wait for `for await` or drain() */
  onEvent?: (data: T) => void;
}

export class RingBuffer<T = Uint8Array> extends EventConsumer<T> {
  /** records handed out */
  records = 0;
  private readonly codec: Codec<T> | undefined;

  constructor(
    kernel: SimKernel,
    private readonly ring: RingbufMap,
    readonly name: string,
    options: RingBufferOptions<T> = {},
  ) {
    super(kernel, `ring buffer '${name}'`, options.onEvent);
    this.codec = options.codec;
  }

  poll(): number {
    return this.ring.consume((sample) => {
      this.records++;
      this.emit(this.decode(sample));
    });
  }

  private decode(sample: Uint8Array): T {
    const codec = this.codec;
    if (codec === undefined) return sample as T;
    if (sample.length < codec.size)
      throw new BpfError(
        this.description,
        "ring_buffer__poll",
        `a ${sample.length}-byte record is shorter than the ${codec.size}-byte codec`,
      );
    return codec.decode(sample, 0);
  }
}
