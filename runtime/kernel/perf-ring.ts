// A perf event's mmap ring buffer, read from user space as libbpf's perf_buffer does: records
// (struct perf_event_header + body, 8-byte aligned) between data_tail (the reader) and data_head
// (the kernel), in a data area of 2^n pages. A record that does not fit is not written; the
// event counts it lost and, when room returns, writes a PERF_RECORD_LOST saying how many.
import { PerfEventHeader, PerfEventType, PerfSampleFormat } from "../uapi/perf_event.js";

export const PAGE_SIZE = 4096;

export type PerfRecord =
  | {
      readonly type: "sample";
      /** sample_type fields present in the record */
      readonly id?: number;
      readonly ip?: readonly [number, number];
      readonly pid?: number;
      readonly tid?: number;
      readonly time?: number;
      readonly cpu?: number;
      readonly period?: number;
      /** PERF_SAMPLE_RAW data, padding included (its length is the record's u32 size) */
      readonly raw?: Uint8Array;
    }
  | { readonly type: "lost"; readonly id: number; readonly lost: number }
  | { readonly type: "other"; readonly recordType: number; readonly bytes: Uint8Array };

export class PerfRing {
  readonly data: Uint8Array;
  readonly size: number;
  /** data_head: bytes ever written (the kernel's position) */
  head = 0;
  /** data_tail: bytes ever consumed (the reader's position) */
  tail = 0;

  constructor(
    readonly dataPages: number,
    /** sample_type of the event, to decode samples */
    readonly sampleType: number,
  ) {
    this.size = dataPages * PAGE_SIZE;
    this.data = new Uint8Array(this.size);
  }

  /** Bytes the kernel may still write. */
  get free(): number {
    return this.size - (this.head - this.tail);
  }

  /** Copy one record in at data_head (the caller checked it fits). */
  write(record: Uint8Array): void {
    const at = this.head % this.size;
    const first = Math.min(record.length, this.size - at);
    this.data.set(record.subarray(0, first), at);
    if (first < record.length) this.data.set(record.subarray(first), 0);
    this.head += record.length;
  }

  /** Consume every record written so far, as raw bytes (what perf_buffer__poll hands out). */
  consumeRaw(): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (this.tail < this.head) {
      const header = this.copy(this.tail, PerfEventHeader.SIZE);
      const size = header[6]! | (header[7]! << 8);
      out.push(this.copy(this.tail, size));
      this.tail += size;
    }
    return out;
  }

  /** Consume and decode every record. */
  consume(): PerfRecord[] {
    return this.consumeRaw().map((r) => decodeRecord(r, this.sampleType));
  }

  private copy(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const at = position % this.size;
    const first = Math.min(length, this.size - at);
    out.set(this.data.subarray(at, at + first), 0);
    if (first < length) out.set(this.data.subarray(0, length - first), first);
    return out;
  }
}

/** Decode a record whose samples carry the fields of `sampleType`. */
export function decodeRecord(bytes: Uint8Array, sampleType: number): PerfRecord {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint32(0, true);
  const u64 = (at: number): number =>
    view.getUint32(at + 4, true) * 0x100000000 + view.getUint32(at, true);
  if (type === PerfEventType.PERF_RECORD_LOST) {
    return { type: "lost", id: u64(8), lost: u64(16) };
  }
  if (type !== PerfEventType.PERF_RECORD_SAMPLE) return { type: "other", recordType: type, bytes };
  const S = PerfSampleFormat;
  let at = 8;
  const sample: {
    type: "sample";
    id?: number;
    ip?: readonly [number, number];
    pid?: number;
    tid?: number;
    time?: number;
    cpu?: number;
    period?: number;
    raw?: Uint8Array;
  } = { type: "sample" };
  if (sampleType & S.PERF_SAMPLE_IDENTIFIER) ((sample.id = u64(at)), (at += 8));
  if (sampleType & S.PERF_SAMPLE_IP) {
    sample.ip = [view.getInt32(at, true), view.getInt32(at + 4, true)];
    at += 8;
  }
  if (sampleType & S.PERF_SAMPLE_TID) {
    sample.pid = view.getInt32(at, true);
    sample.tid = view.getInt32(at + 4, true);
    at += 8;
  }
  if (sampleType & S.PERF_SAMPLE_TIME) ((sample.time = u64(at)), (at += 8));
  if (sampleType & S.PERF_SAMPLE_ADDR) at += 8;
  if (sampleType & S.PERF_SAMPLE_ID) ((sample.id = u64(at)), (at += 8));
  if (sampleType & S.PERF_SAMPLE_STREAM_ID) at += 8;
  if (sampleType & S.PERF_SAMPLE_CPU) ((sample.cpu = view.getUint32(at, true)), (at += 8));
  if (sampleType & S.PERF_SAMPLE_PERIOD) ((sample.period = u64(at)), (at += 8));
  if (sampleType & S.PERF_SAMPLE_RAW) {
    const size = view.getUint32(at, true);
    sample.raw = bytes.slice(at + 4, at + 4 + size);
  }
  return sample;
}
