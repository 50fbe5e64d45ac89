// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): max_entries values
// of round_up(value_size, 8) bytes, allocated and zeroed at creation, indexed by a u32 key.
// Elements always exist: delete is -EINVAL and BPF_NOEXIST is -EEXIST.
//
// Values live in one region of the address space. A per-CPU array keeps each element's CPU
// copies side by side: element i of CPU c is at (i * possibleCpus + c) * elemSize. A map created
// with BPF_F_RDONLY_PROG (libbpf's .rodata) gets a read-only region (BPF_F_WRONLY_PROG an
// unreadable one), so a program access the flags forbid faults even if a verifier let it through; with BPF_F_MMAPABLE (libbpf's global data) the
// region is page aligned as the kernel's mmap-able array is.
import {
  BPF_F_INNER_MAP,
  BPF_F_MMAPABLE,
  BPF_F_NUMA_NODE,
  BPF_F_PRESERVE_ELEMS,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY_PROG,
  BPF_NOEXIST,
  BPF_F_LOCK,
  BpfMapType,
} from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import type { Region } from "../vm/memory.js";
import {
  BPF_F_ACCESS_MASK,
  BpfMap,
  badUpdateFlags,
  round8,
  type MapAttr,
  type MapEnv,
} from "./map.js";

const ARRAY_CREATE_FLAG_MASK =
  BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;

/** PCPU_MIN_UNIT_SIZE: the largest per-CPU value (after rounding to 8) the kernel allocates. */
export const PCPU_MIN_UNIT_SIZE = 32768;
const INT_MAX = 0x7fffffff;
const PAGE_SIZE = 4096;

/** bpf_map_flags_access_ok(): a program may not be both read-only and write-only. */
export function mapFlagsAccessOk(flags: number): boolean {
  return (
    (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !== (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
  );
}

/** array_map_alloc_check(): 0 or -errno (ARRAY, PERCPU_ARRAY and the fd arrays). */
export function arrayMapAllocCheck(attr: MapAttr): number {
  const flags = attr.mapFlags ?? 0;
  const percpu = attr.mapType === BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY;
  if (
    attr.maxEntries === 0 ||
    attr.keySize !== 4 ||
    attr.valueSize === 0 ||
    (flags & ~ARRAY_CREATE_FLAG_MASK) !== 0 ||
    !mapFlagsAccessOk(flags) ||
    (percpu && (flags & BPF_F_NUMA_NODE) !== 0)
  )
    return -Errno.EINVAL;
  if (
    attr.mapType !== BpfMapType.BPF_MAP_TYPE_ARRAY &&
    (flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)) !== 0
  )
    return -Errno.EINVAL;
  if (
    attr.mapType !== BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY &&
    (flags & BPF_F_PRESERVE_ELEMS) !== 0
  )
    return -Errno.EINVAL;
  // round_up(value_size, 8) must not overflow
  if (attr.valueSize > INT_MAX) return -Errno.E2BIG;
  if (percpu && round8(attr.valueSize) > PCPU_MIN_UNIT_SIZE) return -Errno.E2BIG;
  return 0;
}

export class ArrayMap extends BpfMap {
  /** round_up(value_size, 8): the stride between values */
  readonly elemSize: number;
  readonly percpu: boolean;
  /** the values, zeroed at creation */
  readonly region: Region;
  private readonly cpus: number;

  constructor(env: MapEnv, attr: MapAttr) {
    const percpu = attr.mapType === BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY;
    const elemSize = round8(attr.valueSize);
    super(env, attr, percpu ? elemSize * env.possibleCpus : attr.valueSize);
    this.percpu = percpu;
    this.elemSize = elemSize;
    this.cpus = percpu ? env.possibleCpus : 1;
    const mmapable = (this.mapFlags & BPF_F_MMAPABLE) !== 0;
    let size = this.maxEntries * elemSize * this.cpus;
    if (mmapable) size = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    this.region = env.memory.alloc(size, {
      name: `${this.describe()} values`,
      kind: "map_value",
      align: mmapable ? PAGE_SIZE : 8,
      ...this.programAccess,
    });
  }

  /** Linear offset of element `index`'s value on `cpu` (no bounds check). */
  valueOffset(index: number, cpu = 0): number {
    return this.region.base + (index * this.cpus + cpu) * this.elemSize;
  }

  /**
   * The values as the user's mmap() of a BPF_F_MMAPABLE array sees them: a live view of the
   * address space. Take a new view after the address space grows (AddressSpace.generation).
   */
  mmapView(): Uint8Array {
    return this.memory.u8.subarray(this.region.base, this.region.base + this.region.size);
  }

  // ---- kernel side ----

  override lookupElem(keyLo: number, keyHi: number, cpu: number): number {
    const index = this.u32At(this.keyAt(keyLo, keyHi));
    if (index >= this.maxEntries) return 0;
    return this.valueOffset(index, this.percpu ? cpu : 0);
  }

  override lookupPercpuElem(keyLo: number, keyHi: number, cpu: number): number {
    if (!this.percpu || cpu >>> 0 >= this.cpus) return 0;
    return this.lookupElem(keyLo, keyHi, cpu);
  }

  override updateElem(
    keyLo: number,
    keyHi: number,
    valueLo: number,
    valueHi: number,
    flagsLo: number,
    flagsHi: number,
    cpu: number,
  ): number {
    const keyOffset = this.keyAt(keyLo, keyHi);
    const from = this.bytesAt(valueLo, valueHi, this.valueSize);
    const err = this.checkUpdate(this.u32At(keyOffset), flagsLo, flagsHi);
    if (err !== 0) return err;
    this.copy(this.valueOffset(this.u32At(keyOffset), this.percpu ? cpu : 0), from, this.valueSize);
    return 0;
  }

  override deleteElem(_keyLo: number, _keyHi: number, _cpu: number): number {
    return -Errno.EINVAL;
  }

  /** array_map_update_elem's checks: flags, then the index, then BPF_NOEXIST. */
  private checkUpdate(index: number, flagsLo: number, flagsHi: number): number {
    if (badUpdateFlags(flagsLo, flagsHi)) return -Errno.EINVAL;
    if (index >= this.maxEntries) return -Errno.E2BIG;
    if (flagsLo & BPF_NOEXIST) return -Errno.EEXIST;
    if (flagsLo & BPF_F_LOCK) return -Errno.EINVAL; // no value holds a bpf_spin_lock
    return 0;
  }

  // ---- syscall side ----

  protected sysLookupElem(keyOffset: number, value: Uint8Array): number {
    const index = this.u32At(keyOffset);
    if (index >= this.maxEntries) return -Errno.ENOENT;
    // Per-CPU: every CPU's value with its padding (copy_map_value_long), CPU 0 first.
    this.copyOut(
      this.valueOffset(index),
      value,
      0,
      this.percpu ? this.userValueSize : this.valueSize,
    );
    return 0;
  }

  protected sysUpdateElem(keyOffset: number, valueOffset: number, flags: number): number {
    const err = this.checkUpdate(
      this.u32At(keyOffset),
      flags % 2 ** 32,
      Math.floor(flags / 2 ** 32),
    );
    if (err !== 0) return err;
    const size = this.percpu ? this.userValueSize : this.valueSize;
    this.copy(this.valueOffset(this.u32At(keyOffset)), valueOffset, size);
    return 0;
  }

  protected sysDeleteElem(): number {
    return -Errno.EINVAL;
  }

  protected sysGetNextKeyElem(keyOffset: number, nextKey: Uint8Array): number {
    const next = arrayNextIndex(keyOffset < 0 ? -1 : this.u32At(keyOffset), this.maxEntries);
    if (next < 0) return next;
    writeU32(nextKey, next);
    return 0;
  }

  protected freeMemory(): void {
    this.memory.free(this.region);
  }
}

/**
 * array_map_get_next_key(): the index after `index`; a missing (-1) or out-of-range index
 * starts over at 0; after the last index, -ENOENT.
 */
export function arrayNextIndex(index: number, maxEntries: number): number {
  if (index < 0 || index >= maxEntries) return 0;
  if (index === maxEntries - 1) return -Errno.ENOENT;
  return index + 1;
}

export function writeU32(out: Uint8Array, value: number): void {
  out[0] = value & 0xff;
  out[1] = (value >>> 8) & 0xff;
  out[2] = (value >>> 16) & 0xff;
  out[3] = (value >>> 24) & 0xff;
}
