// User memory of a simulated process (its mm): the user-space window memory.ts plans. User
// addresses (high word below 0x00008000) resolve through the process's own mappings to regions
// of kind "user" in the same linear buffer. Those regions are neither readable nor writable
// through kernel addresses, so a BPF load of a user pointer faults as in the kernel; only the
// user-copy paths (bpf_probe_read_user, copy_from_user) reach them through translate().
import type { AddressSpace, Region } from "../vm/memory.js";
import type { Ptr } from "./objects.js";
import { utf8 } from "./objects.js";

/** User addresses have a high word below this (x86_64 TASK_SIZE_MAX is 0x00007ffffffff000). */
export const USER_HI_LIMIT = 0x8000;

export interface UserMapping {
  /** user virtual address of the first byte */
  readonly lo: number;
  readonly hi: number;
  readonly size: number;
  readonly region: Region;
}

export class UserMemory {
  private readonly mappings: UserMapping[] = [];
  private last: UserMapping | undefined;

  constructor(
    private readonly memory: AddressSpace,
    /** for region names: "bash[1234]" */
    readonly owner: string,
  ) {}

  /** mmap(): `size` zeroed bytes at the user address (lo, hi); the range must not wrap 2^32. */
  map(lo: number, hi: number, size: number, name: string): UserMapping {
    const region = this.memory.alloc(size, {
      name: `${this.owner} ${name}`,
      kind: "user",
      readable: false,
      writable: false,
      align: 4096,
    });
    const mapping: UserMapping = { lo: lo >>> 0, hi, size, region };
    this.mappings.push(mapping);
    return mapping;
  }

  /** Linear offset of `size` bytes at a user address, or -1 when not all of them are mapped. */
  translate(lo: number, hi: number, size: number): number {
    const m = this.last;
    const a = lo >>> 0;
    if (m !== undefined && hi === m.hi && a >= m.lo && a + size <= m.lo + m.size) {
      return m.region.base + (a - m.lo);
    }
    for (const mapping of this.mappings) {
      if (hi === mapping.hi && a >= mapping.lo && a + size <= mapping.lo + mapping.size) {
        this.last = mapping;
        return mapping.region.base + (a - mapping.lo);
      }
    }
    return -1;
  }

  /** copy_to_user(): false if any byte is unmapped (nothing is written then). */
  write(to: Ptr, bytes: Uint8Array): boolean {
    const offset = this.translate(to.lo, to.hi, bytes.length);
    if (offset < 0) return false;
    this.memory.u8.set(bytes, offset);
    return true;
  }

  /** copy_from_user() into a new array, or undefined if any byte is unmapped. */
  read(from: Ptr, length: number): Uint8Array | undefined {
    const offset = this.translate(from.lo, from.hi, length);
    if (offset < 0) return undefined;
    return this.memory.u8.slice(offset, offset + length);
  }

  /** strncpy_from_user(): the string at `from` (without its NUL), or undefined on a fault. */
  readString(from: Ptr, max = 4096): string | undefined {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const offset = this.translate((from.lo + i) | 0, from.hi, 1);
      if (offset < 0) return undefined;
      const b = this.memory.u8[offset]!;
      if (b === 0) break;
      bytes.push(b);
    }
    return utf8.decode(new Uint8Array(bytes));
  }

  /** munmap everything (the mm goes away). */
  release(): void {
    for (const m of this.mappings) this.memory.free(m.region);
    this.mappings.length = 0;
    this.last = undefined;
  }

  list(): readonly UserMapping[] {
    return this.mappings;
  }
}

/** Is (lo, hi) a user-space address? */
export const isUserAddress = (hi: number): boolean => hi >>> 0 < USER_HI_LIMIT;
