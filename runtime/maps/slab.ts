// Element memory for the maps whose elements come and go (hash tables): fixed-size slots in the
// simulated address space, so a lookup hands a program a real address.
//
// Slots are carved from chunk regions that grow geometrically and are never moved, so an
// element's address is stable for its lifetime. A freed slot is not reused while a program could
// still hold a pointer into it: the kernel waits for an RCU grace period before reusing an
// element (bpf_mem_alloc; preallocated maps even reuse at once, which tsbpf deliberately does
// not copy). Here the grace period is the address space's own: a slot freed during a program run
// waits until the outermost run ends.
//
// The address space says whether a run is in progress only through what free() does, so the
// slab frees a tiny "grace probe" region: outside a run it is unmapped at once; inside a run it
// stays in the "freeing" state until the run ends, and the slots freed alongside it are reusable
// once its state is "freed". (A public AddressSpace grace-period query would replace the probe.)
import { Errno } from "../uapi/errno.js";
import { MemoryError, type AddressSpace, type Region } from "../vm/memory.js";

const FIRST_CHUNK_SLOTS = 16;
const MAX_CHUNK_BYTES = 1 << 22;

export class ElementSlab {
  private readonly chunks: Region[] = [];
  /** reusable slot offsets */
  private readonly free: number[] = [];
  /** slots freed during the current run, reusable when `probe` is retired */
  private deferred: number[] = [];
  private probe: Region | undefined;
  /** slots never handed out in the newest chunk: [nextFresh, freshEnd) */
  private nextFresh = 0;
  private freshEnd = 0;
  private nextChunkSlots: number;
  private destroyed = false;

  constructor(
    private readonly memory: AddressSpace,
    /** bytes per slot, a multiple of 8 */
    readonly slotSize: number,
    /** region names start with this ("map 'counts' elements") */
    private readonly name: string,
    /** slots the map can hold at once: the first chunk is no bigger */
    expectedSlots: number,
    /** what programs may do with the elements (BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG) */
    private readonly access: { readable: boolean; writable: boolean } = {
      readable: true,
      writable: true,
    },
  ) {
    this.nextChunkSlots = Math.max(1, Math.min(FIRST_CHUNK_SLOTS, expectedSlots));
  }

  /**
   * A zero-filled slot's linear offset. Throws MemoryError when the address space is exhausted
   * (callers turn it into -ENOMEM).
   */
  alloc(): number {
    this.reclaim();
    let offset = this.free.pop();
    if (offset === undefined) {
      if (this.nextFresh === this.freshEnd) this.grow();
      offset = this.nextFresh;
      this.nextFresh += this.slotSize;
    }
    this.memory.u8.fill(0, offset, offset + this.slotSize);
    return offset;
  }

  /** alloc(), or -ENOMEM when the address space is exhausted. */
  tryAlloc(): number {
    try {
      return this.alloc();
    } catch (err) {
      if (err instanceof MemoryError) return -Errno.ENOMEM;
      throw err;
    }
  }

  /** Give a slot back; it is reused only after any program run in progress has ended. */
  release(offset: number): void {
    this.reclaim();
    if (this.probe === undefined) {
      const probe = this.memory.alloc(8, { name: `${this.name} grace probe`, kind: "data" });
      this.memory.free(probe);
      if (probe.state === "freed") {
        // No run in progress: nobody can hold the slot.
        this.free.push(offset);
        return;
      }
      this.probe = probe;
    }
    this.deferred.push(offset);
  }

  /** Unmap every chunk (map_free). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const chunk of this.chunks) this.memory.free(chunk);
    this.chunks.length = 0;
    this.free.length = 0;
    this.deferred = [];
  }

  /** Bytes of address space the slab holds. */
  get reservedBytes(): number {
    let total = 0;
    for (const chunk of this.chunks) total += chunk.size;
    return total;
  }

  private reclaim(): void {
    if (this.probe === undefined || this.probe.state !== "freed") return;
    for (const offset of this.deferred) this.free.push(offset);
    this.deferred = [];
    this.probe = undefined;
  }

  private grow(): void {
    if (this.destroyed) throw new MemoryError(`${this.name}: map was freed`);
    const slots = this.nextChunkSlots;
    const chunk = this.memory.alloc(slots * this.slotSize, {
      name: `${this.name} #${this.chunks.length}`,
      kind: "map_value",
      ...this.access,
    });
    this.chunks.push(chunk);
    this.nextFresh = chunk.base;
    this.freshEnd = chunk.base + chunk.size;
    const maxSlots = Math.max(1, Math.floor(MAX_CHUNK_BYTES / this.slotSize));
    this.nextChunkSlots = Math.min(slots * 2, maxSlots);
  }
}
