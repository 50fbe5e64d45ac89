// Memory allocation functions: __kmalloc and kfree on the kmalloc caches of kmem.ts. What they
// return is a real kernel address; what they free goes back to its cache.
import type { SimKernel } from "./kernel.js";
import { kptr, type Ptr } from "./objects.js";

export function registerMm(k: SimKernel): void {
  k.defineFunction({
    proto: "void *__kmalloc(size_t size, gfp_t flags)",
    cost: 60,
    size: 0x290,
    body: (kernel, args) => {
      const size = args[0] as number;
      if (size > 4 * 1024 * 1024) return null; // beyond KMALLOC_MAX_SIZE: NULL
      const offset = kernel.kmalloc.alloc(size);
      return offset === 0 ? { lo: 16, hi: 0 } : kptr(offset); // ZERO_SIZE_PTR for size 0
    },
  });
  k.defineFunction({
    proto: "void kfree(const void *objp)",
    cost: 40,
    size: 0x190,
    body: (kernel, args) => {
      const p = args[0] as Ptr | null;
      if (p === null || (p.hi === 0 && p.lo >>> 0 <= 16)) return null; // NULL and ZERO_SIZE_PTR
      kernel.kmalloc.free(p.lo >>> 0);
      return null;
    },
  });
}
