// BPF_MAP_TYPE_RINGBUF (kernel/bpf/ringbuf.c): a multi-producer, single-consumer byte ring of
// max_entries bytes (a power of 2 and a multiple of the page size) shared by all CPUs.
//
// Record layout, as the kernel writes it and libbpf reads it: an 8-byte header
// { u32 len; u32 pg_off; } then the sample, the whole rounded up to 8 bytes. While a record is
// reserved its len has BPF_RINGBUF_BUSY_BIT; submit clears it, discard replaces it with
// BPF_RINGBUF_DISCARD_BIT (the consumer skips the record). Positions are byte counters that
// only grow; a position's place in the ring is pos & (size - 1). The producer never gets more
// than size - 1 bytes ahead of the consumer, nor of the oldest record still being written.
//
// Region layout, kept like the kernel's struct bpf_ringbuf so pg_off means the same: page 0
// (the kernel's bookkeeping, unused), page 1 the consumer position (user-writable in the kernel's
// mmap), page 2 the producer position, then the data. The kernel maps the data pages twice in a
// row so a record that wraps is contiguous; here the data area is followed by a second
// size-byte area: a reservation that wraps is handed out contiguous over the end, and its tail
// is copied to the ring's start when it is committed.
import {
  BPF_F_NUMA_NODE,
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
} from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import type { AddressSpace, Region } from "../vm/memory.js";
import { BpfMap, type MapAttr, type MapEnv } from "./map.js";

const PAGE_SIZE = 4096;
const RINGBUF_PGOFF = 1; // consumer_pos page
const RINGBUF_DATA_PAGE = 3; // data starts after the consumer and producer pages
/** RINGBUF_MAX_RECORD_SZ: larger reservations fail. */
const RINGBUF_MAX_RECORD_SZ = Math.floor(0xffffffff / 4);
const BUSY = BPF_RINGBUF_BUSY_BIT;
const DISCARD = BPF_RINGBUF_DISCARD_BIT;
const TWO32 = 2 ** 32;

/** ringbuf_map_alloc()'s checks: 0 or -errno. */
export function ringbufMapAllocCheck(attr: MapAttr): number {
  if (((attr.mapFlags ?? 0) & ~BPF_F_NUMA_NODE) !== 0) return -Errno.EINVAL;
  const size = attr.maxEntries;
  if (attr.keySize !== 0 || attr.valueSize !== 0 || size === 0 || (size & (size - 1)) !== 0)
    return -Errno.EINVAL;
  if (size % PAGE_SIZE !== 0) return -Errno.EINVAL;
  return 0;
}

const roundRecord = (len: number): number => Math.ceil((len + BPF_RINGBUF_HDR_SZ) / 8) * 8;

/** Ring buffers by their region, so bpf_ringbuf_submit(sample) finds its ring as pg_off does. */
const ringsByRegion = new WeakMap<Region, RingbufMap>();

/** The ring buffer a reserved sample address belongs to (what bpf_ringbuf_submit needs). */
export function ringbufOfSample(
  memory: AddressSpace,
  lo: number,
  hi: number,
): RingbufMap | undefined {
  const offset = memory.translateRead(lo, hi, 1);
  if (offset < 0) return undefined;
  const region = memory.regionAt(offset);
  return region === undefined ? undefined : ringsByRegion.get(region);
}

export class RingbufMap extends BpfMap {
  readonly region: Region;
  /** ring size in bytes (max_entries) */
  readonly size: number;
  private readonly mask: number;
  /** linear offset of the data area */
  readonly dataOffset: number;
  // Positions as plain numbers: exact up to 2^53 bytes of traffic.
  private consumerPos = 0;
  private producerPos = 0;
  private pendingPos = 0;
  /** notifications sent to a waiting consumer (epoll wakeups) */
  wakeups = 0;
  /** called on each wakeup (the simulated epoll) */
  onWakeup: (() => void) | undefined;

  constructor(env: MapEnv, attr: MapAttr) {
    super(env, attr, 0);
    this.size = attr.maxEntries;
    this.mask = this.size - 1;
    this.region = env.memory.alloc(RINGBUF_DATA_PAGE * PAGE_SIZE + 2 * this.size, {
      name: `${this.describe()} ring`,
      kind: "map_value",
      align: PAGE_SIZE,
    });
    this.dataOffset = this.region.base + RINGBUF_DATA_PAGE * PAGE_SIZE;
    ringsByRegion.set(this.region, this);
  }

  /** The consumer position, as the user's mmap of the consumer page holds it. */
  get consumerPosition(): number {
    return this.consumerPos;
  }

  /** The producer position, as the user's read-only mmap of the producer page shows it. */
  get producerPosition(): number {
    return this.producerPos;
  }

  // ---- kernel side ----

  /**
   * __bpf_ringbuf_reserve(): the linear offset of a `size`-byte sample (after its header), or
   * 0 when it does not fit. bpf_ringbuf_reserve also returns NULL for any flags.
   */
  reserve(size: number): number {
    if (size > RINGBUF_MAX_RECORD_SZ) return 0;
    const len = roundRecord(size);
    if (len > this.size) return 0;
    // Records committed since the last reservation no longer hold the producer back.
    let pend = this.pendingPos;
    const prod = this.producerPos;
    while (pend < prod) {
      const header = this.headerLen(pend);
      if (header & BUSY) break;
      pend += roundRecord(header & ~DISCARD);
    }
    this.pendingPos = pend;
    const newProd = prod + len;
    if (newProd - this.consumerPos > this.mask || newProd - pend > this.mask) return 0;
    const header = this.dataOffset + (prod & this.mask);
    const view = this.memory.view;
    view.setUint32(header, (size | BUSY) >>> 0, true);
    view.setUint32(header + 4, this.pgOff(header), true);
    this.setProducerPos(newProd);
    return header + BPF_RINGBUF_HDR_SZ;
  }

  /** bpf_ringbuf_reserve(map, size, flags) with u64 size and flags: the sample's offset or 0. */
  bpfReserve(sizeLo: number, sizeHi: number, flagsLo: number, flagsHi: number): number {
    if (flagsLo !== 0 || flagsHi !== 0 || sizeHi !== 0) return 0;
    return this.reserve(sizeLo >>> 0);
  }

  /** bpf_ringbuf_submit / bpf_ringbuf_discard of the sample at linear offset `sample`. */
  commit(sample: number, flagsLo: number, discard: boolean): void {
    const header = sample - BPF_RINGBUF_HDR_SZ;
    const view = this.memory.view;
    const len = view.getUint32(header, true);
    const size = len & ~BUSY & ~DISCARD;
    // A reservation that ran past the end: its tail goes to the start of the ring.
    const end = header - this.dataOffset + roundRecord(size);
    if (end > this.size) this.copy(this.dataOffset, this.dataOffset + this.size, end - this.size);
    let newLen = (len ^ BUSY) >>> 0;
    if (discard) newLen = (newLen | DISCARD) >>> 0;
    view.setUint32(header, newLen, true);
    const recordPos = header - this.dataOffset;
    const consumerAt = this.consumerPos % this.size;
    if (flagsLo & BPF_RB_FORCE_WAKEUP) this.wakeup();
    else if (consumerAt === recordPos && !(flagsLo & BPF_RB_NO_WAKEUP)) this.wakeup();
  }

  /**
   * bpf_ringbuf_output(map, data, size, flags): copy `size` bytes at (dataLo, dataHi) into a new
   * record and commit it. 0, -EINVAL for unknown flags, -EAGAIN when it does not fit.
   */
  output(dataLo: number, dataHi: number, size: number, flagsLo: number, flagsHi: number): number {
    if (flagsHi !== 0 || (flagsLo & ~(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) !== 0)
      return -Errno.EINVAL;
    const from = this.bytesAt(dataLo, dataHi, size);
    const sample = this.reserve(size);
    if (sample === 0) return -Errno.EAGAIN;
    this.copy(sample, from, size);
    this.commit(sample, flagsLo, false);
    return 0;
  }

  /** bpf_ringbuf_query(map, flags): the 64-bit answer as a number (0 for unknown flags). */
  query(flagsLo: number, flagsHi: number): number {
    if (flagsHi !== 0) return 0;
    switch (flagsLo) {
      case BPF_RB_AVAIL_DATA:
        return this.producerPos - this.consumerPos;
      case BPF_RB_RING_SIZE:
        return this.size;
      case BPF_RB_CONS_POS:
        return this.consumerPos;
      case BPF_RB_PROD_POS:
        return this.producerPos;
      default:
        return 0;
    }
  }

  // ---- user side: the consumer (libbpf's ring_buffer__consume) ----

  /**
   * Hand each committed record, in order, to `callback` (a copy of the sample bytes), skipping
   * discarded ones, and advance the consumer position past them. Stops at a record still being
   * written, or when the callback returns a negative number (which is then returned). Returns
   * the number of samples delivered.
   */
  consume(callback: (sample: Uint8Array) => number | void): number {
    let delivered = 0;
    let cons = this.consumerPos;
    while (cons < this.producerPos) {
      const len = this.headerLen(cons);
      if (len & BUSY) break;
      const size = len & ~DISCARD;
      const sampleAt = (cons & this.mask) + BPF_RINGBUF_HDR_SZ;
      cons += roundRecord(size);
      if ((len & DISCARD) === 0) {
        const result = callback(this.readRing(sampleAt, size));
        delivered++;
        if (typeof result === "number" && result < 0) {
          this.setConsumerPos(cons);
          return result;
        }
      }
      this.setConsumerPos(cons);
    }
    return delivered;
  }

  /** Committed samples waiting, oldest first, without consuming them. */
  peek(): Uint8Array[] {
    const samples: Uint8Array[] = [];
    for (let cons = this.consumerPos; cons < this.producerPos;) {
      const len = this.headerLen(cons);
      if (len & BUSY) break;
      const size = len & ~DISCARD;
      if ((len & DISCARD) === 0)
        samples.push(this.readRing((cons & this.mask) + BPF_RINGBUF_HDR_SZ, size));
      cons += roundRecord(size);
    }
    return samples;
  }

  /** The record header at a position: { len with its BUSY/DISCARD bits, pg_off }. */
  recordHeader(pos: number): { len: number; pgOff: number } {
    const at = this.dataOffset + (pos & this.mask);
    return { len: this.headerLen(pos), pgOff: this.memory.view.getUint32(at + 4, true) };
  }

  // ---- syscall side: a ring buffer has no elements ----

  protected sysLookupElem(): number {
    return -Errno.ENOTSUPP;
  }
  protected sysUpdateElem(): number {
    return -Errno.ENOTSUPP;
  }
  protected sysDeleteElem(): number {
    return -Errno.ENOTSUPP;
  }
  protected sysGetNextKeyElem(): number {
    return -Errno.ENOTSUPP;
  }

  protected freeMemory(): void {
    ringsByRegion.delete(this.region);
    this.memory.free(this.region);
  }

  // ---- internals ----

  private headerLen(pos: number): number {
    return this.memory.view.getUint32(this.dataOffset + (pos & this.mask), true);
  }

  /** bpf_ringbuf_rec_pg_off(): the header's page counted from the start of the ring. */
  private pgOff(header: number): number {
    return Math.floor((header - this.region.base) / PAGE_SIZE);
  }

  /** Copy `size` bytes starting at ring offset `at`, wrapping at the end. */
  private readRing(at: number, size: number): Uint8Array {
    const out = new Uint8Array(size);
    const start = at & this.mask;
    const first = Math.min(size, this.size - start);
    this.copyOut(this.dataOffset + start, out, 0, first);
    if (first < size) this.copyOut(this.dataOffset, out, first, size - first);
    return out;
  }

  private setConsumerPos(pos: number): void {
    this.consumerPos = pos;
    this.storePos(this.region.base + RINGBUF_PGOFF * PAGE_SIZE, pos);
  }

  private setProducerPos(pos: number): void {
    this.producerPos = pos;
    this.storePos(this.region.base + (RINGBUF_PGOFF + 1) * PAGE_SIZE, pos);
  }

  /** Positions also live in the region, where the user's mmap would read them. */
  private storePos(at: number, pos: number): void {
    const view = this.memory.view;
    view.setUint32(at, pos % TWO32, true);
    view.setUint32(at + 4, Math.floor(pos / TWO32), true);
  }

  private wakeup(): void {
    this.wakeups++;
    this.onWakeup?.();
  }
}
