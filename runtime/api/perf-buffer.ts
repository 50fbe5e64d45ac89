// libbpf's perf_buffer for a BPF_MAP_TYPE_PERF_EVENT_ARRAY: one PERF_COUNT_SW_BPF_OUTPUT event
// per CPU, its ring mmap'd, its fd stored in the map at the CPU's index, so a program's
// bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, ...) lands in that CPU's ring. Polling
// hands out the samples and the PERF_RECORD_LOST counts, CPU by CPU.
import type { BpfSyscall } from "../bpf/syscall.js";
import type { SimKernel } from "../kernel/kernel.js";
import type { PerfRing } from "../kernel/perf-ring.js";
import type { Codec } from "../maps/codec.js";
import { PerfSampleFormat, PerfSwIds, PerfTypeId } from "../uapi/perf_event.js";
import { EventConsumer } from "./consumer.js";
import { attempt, BpfError } from "./errors.js";

export type PerfBufferEvent<T> =
  | { readonly type: "sample"; readonly cpu: number; readonly data: T }
  | { readonly type: "lost"; readonly cpu: number; readonly lost: number };

export interface PerfBufferOptions<T> {
  /** data pages per CPU ring, a power of two (default 8) */
  pages?: number;
  /** decodes each sample (default: the raw bytes, padding included) */
  codec?: Codec<T>;
  /** called for each sample; without it, events wait for `for await` or drain() */
  onSample?: (data: T, cpu: number) => void;
  /** called with each lost-sample count (with onSample; counted in `lost` either way) */
  onLost?: (lost: number, cpu: number) => void;
}

/** The map a perf buffer reads, as the API hands it over. */
export interface PerfBufferTarget {
  readonly name: string;
  readonly fd: number;
  readonly maxEntries: number;
}

export class PerfBuffer<T = Uint8Array> extends EventConsumer<PerfBufferEvent<T>> {
  /** samples handed out */
  samples = 0;
  /** samples the kernel could not write (ring full) */
  lost = 0;
  private readonly rings: { cpu: number; fd: number; ring: PerfRing }[] = [];
  private readonly codec: Codec<T> | undefined;

  constructor(
    kernel: SimKernel,
    private readonly bpf: BpfSyscall,
    readonly map: PerfBufferTarget,
    options: PerfBufferOptions<T> = {},
  ) {
    const onSample = options.onSample;
    const onLost = options.onLost;
    super(
      kernel,
      `perf buffer '${map.name}'`,
      onSample === undefined
        ? undefined
        : (e) => (e.type === "sample" ? onSample(e.data, e.cpu) : onLost?.(e.lost, e.cpu)),
    );
    this.codec = options.codec;
    const pages = options.pages ?? 8;
    try {
      this.open(pages);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private open(pages: number): void {
    const where = this.description;
    const cpus = Math.min(this.kernel.cpus.length, this.map.maxEntries);
    for (let cpu = 0; cpu < cpus; cpu++) {
      const fd = attempt(where, "perf_event_open", () =>
        this.kernel.perfEventOpen(
          {
            type: PerfTypeId.PERF_TYPE_SOFTWARE,
            config: PerfSwIds.PERF_COUNT_SW_BPF_OUTPUT,
            sampleType: PerfSampleFormat.PERF_SAMPLE_RAW,
            samplePeriod: 1,
            wakeupEvents: 1,
          },
          -1,
          cpu,
        ),
      );
      const ring = attempt(where, "mmap", () => this.kernel.perfMmap(fd, 1 + pages));
      this.rings.push({ cpu, fd, ring });
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, cpu, true);
      const value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, fd, true);
      attempt(where, "BPF_MAP_UPDATE_ELEM", () =>
        this.bpf.mapUpdateElem({ mapFd: this.map.fd, key, value }),
      );
    }
  }

  poll(): number {
    let handed = 0;
    for (const { cpu, ring } of this.rings) {
      for (const record of ring.consume()) {
        if (record.type === "sample") {
          this.samples++;
          handed++;
          this.emit({
            type: "sample",
            cpu,
            data: this.decode(record.raw ?? new Uint8Array(0), cpu),
          });
        } else if (record.type === "lost") {
          this.lost += record.lost;
          this.emit({ type: "lost", cpu, lost: record.lost });
        }
      }
    }
    return handed;
  }

  private decode(raw: Uint8Array, cpu: number): T {
    const codec = this.codec;
    if (codec === undefined) return raw as T;
    if (raw.length < codec.size)
      throw new BpfError(
        this.description,
        "perf_buffer__poll",
        `a ${raw.length}-byte sample on CPU ${cpu} is shorter than the ${codec.size}-byte codec`,
      );
    return codec.decode(raw, 0);
  }

  /** Close the per-CPU events (the map's slots go with them, as the kernel clears them). */
  protected override release(): void {
    for (const { fd } of this.rings.splice(0)) {
      try {
        this.kernel.close(fd);
      } catch {
        // already closed by the caller: nothing left to release
      }
    }
  }
}
