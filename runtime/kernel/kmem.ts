// Kernel memory: slab caches for fixed-size objects (task_struct, sk_buff, file ...) and the
// kmalloc size classes, all carved from regions of the simulated address space so a pointer a
// probe reads is a real address. As in the kernel, a freed object is reused at once (LIFO): a
// program that reads through a stale pointer sees whatever lives there now, it does not fault.
import type { AddressSpace, Region } from "../vm/memory.js";
import { KernelError } from "./error.js";

const CHUNK_BYTES = 64 * 1024;

/** A kmem_cache: objects of one size. Offsets are linear offsets (= low address words). */
export class KmemCache {
  private readonly free: number[] = [];
  private readonly chunks: Region[] = [];
  private fresh = 0;
  private freshEnd = 0;
  /** objects currently allocated */
  inUse = 0;
  /** every allocation ever made */
  allocations = 0;

  constructor(
    private readonly memory: AddressSpace,
    readonly name: string,
    readonly objectSize: number,
    readonly align = 8,
  ) {
    this.objectSize = Math.max(8, Math.ceil(objectSize / align) * align);
  }

  /** kmem_cache_zalloc(): a zeroed object's linear offset. */
  alloc(): number {
    let offset = this.free.pop();
    if (offset === undefined) {
      if (this.fresh + this.objectSize > this.freshEnd) this.grow();
      offset = this.fresh;
      this.fresh += this.objectSize;
    }
    this.memory.u8.fill(0, offset, offset + this.objectSize);
    this.inUse++;
    this.allocations++;
    return offset;
  }

  /** kmem_cache_free(). */
  release(offset: number): void {
    this.free.push(offset);
    this.inUse--;
  }

  private grow(): void {
    const size = Math.max(CHUNK_BYTES, this.objectSize * 4);
    const region = this.memory.alloc(size, {
      name: `kmem_cache '${this.name}'`,
      kind: "kernel_object",
      align: Math.max(this.align, 64),
    });
    this.chunks.push(region);
    this.fresh = region.base;
    this.freshEnd = region.base + size;
  }
}

/** kmalloc's size classes (x86_64 SLUB). */
export const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

/** kmalloc/kfree: size classes, and a region of its own for larger requests. */
export class Kmalloc {
  private readonly caches: KmemCache[];
  private readonly owner = new Map<number, KmemCache | Region>();
  /** bytes requested and not freed */
  bytesInUse = 0;
  private readonly requested = new Map<number, number>();

  constructor(private readonly memory: AddressSpace) {
    this.caches = KMALLOC_SIZES.map((size) => new KmemCache(memory, `kmalloc-${size}`, size));
  }

  /** __kmalloc(size): the linear offset of `size` zeroed bytes (0 for a zero-size request). */
  alloc(size: number): number {
    if (!Number.isInteger(size) || size < 0)
      throw new KernelError("EINVAL", "kmalloc", `bad size ${size}`);
    if (size === 0) return 0; // ZERO_SIZE_PTR is not a real object; callers treat it as NULL
    const cache = this.caches.find((c) => c.objectSize >= size);
    let offset: number;
    if (cache !== undefined) {
      offset = cache.alloc();
      this.owner.set(offset, cache);
    } else {
      const region = this.memory.alloc(size, {
        name: `kmalloc-large ${size}`,
        kind: "kernel_object",
        align: 4096,
      });
      offset = region.base;
      this.owner.set(offset, region);
    }
    this.requested.set(offset, size);
    this.bytesInUse += size;
    return offset;
  }

  /** kfree(): false when the offset is not a live kmalloc object (the kernel would BUG). */
  free(offset: number): boolean {
    const owner = this.owner.get(offset);
    if (owner === undefined) return false;
    this.owner.delete(offset);
    this.bytesInUse -= this.requested.get(offset)!;
    this.requested.delete(offset);
    if (owner instanceof KmemCache) owner.release(offset);
    else this.memory.free(owner);
    return true;
  }

  /** ksize(): the usable size of a live object, or 0. */
  ksize(offset: number): number {
    const owner = this.owner.get(offset);
    if (owner === undefined) return 0;
    return owner instanceof KmemCache ? owner.objectSize : owner.size;
  }

  /** Live objects. */
  get liveObjects(): number {
    return this.owner.size;
  }
}
