// What every BPF map is: its attributes, and the two faces the kernel gives it.
//
// Kernel side (struct bpf_map_ops as programs reach it through helpers): keys and values are
// addresses in the simulated address space, as (lo, hi) pairs; results are plain numbers, so a
// helper call allocates nothing. A lookup returns the value's linear offset, which is also the
// low word of its kernel address (the high word is always KERNEL_HI), or 0 for NULL. Updates and
// deletes return 0 or a negative errno, as the kernel's helpers put in r0.
//
// Syscall side (what BPF_MAP_*_ELEM does before and around the ops): keys and values are
// Uint8Arrays the caller owns; the result is 0 or a negative errno, exactly as bpf() returns it.
// These functions do the syscall's own checks first (fd permissions from BPF_F_RDONLY /
// BPF_F_WRONLY and freezing, BPF_F_LOCK, NULL and short buffers), then copy the key and value
// into scratch memory and run the same type-specific code the kernel side runs.
//
// Per-CPU values on the syscall side are one flat buffer: each possible CPU's value padded to a
// multiple of 8 bytes, CPU 0 first (bpf_map_value_size()).
import {
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_F_RDONLY,
  BPF_F_RDONLY_PROG,
  BPF_F_WRONLY,
  BPF_F_WRONLY_PROG,
  mapTypeShortName,
} from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import type { InnerMapMeta } from "./map-in-map.js";
import { MemoryError, type AddressSpace, type Region } from "../vm/memory.js";
import { MapError } from "./error.js";

/** The simulated kernel as maps see it. */
export interface MapEnv {
  readonly memory: AddressSpace;
  /** num_possible_cpus(): per-CPU maps hold this many values, LRU lists are per CPU */
  readonly possibleCpus: number;
  /** get_random_u32() for hash seeds; the simulated kernel passes its seeded PRNG (default: 0) */
  readonly random32?: () => number;
  /** the CPU a bpf() call runs on (LRU free lists are per CPU); default 0 */
  readonly syscallCpu?: () => number;
}

/** union bpf_attr's BPF_MAP_CREATE fields. */
export interface MapAttr {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  /** used only with BPF_F_NUMA_NODE */
  numaNode?: number;
  /** only bloom filters (and arenas) may set it */
  mapExtra?: number;
  /** map_name: at most 15 characters of [A-Za-z0-9_.] */
  name?: string;
  /** ARRAY_OF_MAPS / HASH_OF_MAPS: the template inner map (the facade resolves inner_map_fd) */
  innerMeta?: InnerMapMeta;
}

/** The kernel's BPF_F_ACCESS_MASK: the map_flags that restrict syscall or program access. */
export const BPF_F_ACCESS_MASK =
  BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG;

/** round_up(n, 8) for sizes up to 2^32 (no int32 overflow). */
export const round8 = (n: number): number => Math.ceil(n / 8) * 8;

export abstract class BpfMap {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** max_entries as the map has it (an LRU with BPF_F_NO_COMMON_LRU rounds it up) */
  maxEntries: number;
  readonly mapFlags: number;
  readonly name: string;
  /** BPF_MAP_FREEZE was called: the syscall side may no longer write */
  frozen = false;
  /** bytes the syscall reads and writes per value (bpf_map_value_size()) */
  readonly userValueSize: number;

  protected readonly memory: AddressSpace;
  private scratch: Region | undefined;
  private freed = false;

  constructor(
    readonly env: MapEnv,
    attr: MapAttr,
    userValueSize = attr.valueSize,
  ) {
    this.memory = env.memory;
    this.type = attr.mapType;
    this.keySize = attr.keySize;
    this.valueSize = attr.valueSize;
    this.maxEntries = attr.maxEntries;
    this.mapFlags = attr.mapFlags ?? 0;
    this.name = attr.name ?? "";
    this.userValueSize = userValueSize;
  }

  /** "hash", "percpu_array", ... */
  get kind(): string {
    return mapTypeShortName(this.type) ?? `type ${this.type}`;
  }

  /** "map 'counts' (hash)" for messages. */
  describe(): string {
    return `map '${this.name}' (${this.kind})`;
  }

  // ---- kernel side: helpers call these during a program run ----

  /** bpf_map_lookup_elem: the value's linear offset (= low address word), or 0 for NULL. */
  lookupElem(_keyLo: number, _keyHi: number, _cpu: number): number {
    return 0;
  }

  /** bpf_map_update_elem: 0 or -errno. The flags are the u64 in r4 as (lo, hi). */
  updateElem(
    _keyLo: number,
    _keyHi: number,
    _valueLo: number,
    _valueHi: number,
    _flagsLo: number,
    _flagsHi: number,
    _cpu: number,
  ): number {
    return -Errno.EINVAL;
  }

  /** bpf_map_delete_elem: 0 or -errno. */
  deleteElem(_keyLo: number, _keyHi: number, _cpu: number): number {
    return -Errno.EINVAL;
  }

  /** bpf_map_lookup_percpu_elem: CPU `cpu`'s copy of the value, or 0. */
  lookupPercpuElem(_keyLo: number, _keyHi: number, _cpu: number): number {
    return 0;
  }

  // ---- syscall side: BPF_MAP_LOOKUP_ELEM, _UPDATE_ELEM, _DELETE_ELEM, _GET_NEXT_KEY, _FREEZE ----

  /** BPF_MAP_LOOKUP_ELEM into `value` (userValueSize bytes). 0 or -errno. */
  sysLookup(key: Uint8Array | null, value: Uint8Array, flags = 0): number {
    if (flags !== 0 && flags !== BPF_F_LOCK) return -Errno.EINVAL; // also non-integers
    if (!this.canRead()) return -Errno.EPERM;
    if (flags === BPF_F_LOCK) return -Errno.EINVAL; // no value has a bpf_spin_lock
    const keyOffset = this.copyKeyIn(key);
    if (keyOffset < 0) return keyOffset;
    if (value.length < this.userValueSize) return -Errno.EFAULT;
    return this.sysLookupElem(keyOffset, value);
  }

  /** BPF_MAP_UPDATE_ELEM with `value` (userValueSize bytes). 0 or -errno. */
  sysUpdate(key: Uint8Array | null, value: Uint8Array, flags = 0): number {
    if (!Number.isSafeInteger(flags) || flags < 0) return -Errno.EINVAL; // not a u64
    if (!this.canWrite()) return -Errno.EPERM;
    if (flags & BPF_F_LOCK) return -Errno.EINVAL;
    const keyOffset = this.copyKeyIn(key);
    if (keyOffset < 0) return keyOffset;
    if (value.length < this.userValueSize) return -Errno.EFAULT;
    const valueOffset = keyOffset + round8(this.keySize);
    this.memory.u8.set(value.subarray(0, this.userValueSize), valueOffset);
    return this.sysUpdateElem(keyOffset, valueOffset, flags);
  }

  /** BPF_MAP_DELETE_ELEM. 0 or -errno. */
  sysDelete(key: Uint8Array | null): number {
    if (!this.canWrite()) return -Errno.EPERM;
    const keyOffset = this.copyKeyIn(key);
    if (keyOffset < 0) return keyOffset;
    return this.sysDeleteElem(keyOffset);
  }

  /**
   * BPF_MAP_GET_NEXT_KEY: the key after `key` (or the first key for null) into `nextKey`
   * (keySize bytes). 0, or -ENOENT after the last key, or another -errno.
   */
  sysGetNextKey(key: Uint8Array | null, nextKey: Uint8Array): number {
    if (!this.canRead()) return -Errno.EPERM;
    let keyOffset = -1;
    if (key !== null) {
      keyOffset = this.copyKeyIn(key);
      if (keyOffset < 0) return keyOffset;
    }
    if (nextKey.length < this.keySize) return -Errno.EFAULT;
    return this.sysGetNextKeyElem(keyOffset, nextKey);
  }

  /** BPF_MAP_FREEZE: the syscall side may only read from now on. 0 or -errno. */
  freeze(): number {
    if (!this.canWrite()) return -Errno.EPERM;
    this.frozen = true;
    return 0;
  }

  /** Release the map's memory (map_free, when the last reference is gone). */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    if (this.scratch !== undefined) this.memory.free(this.scratch);
    this.freeMemory();
  }

  // ---- what each map type provides ----

  protected abstract sysLookupElem(keyOffset: number, value: Uint8Array): number;
  protected abstract sysUpdateElem(keyOffset: number, valueOffset: number, flags: number): number;
  protected abstract sysDeleteElem(keyOffset: number): number;
  /** keyOffset is -1 for a NULL key */
  protected abstract sysGetNextKeyElem(keyOffset: number, nextKey: Uint8Array): number;
  protected abstract freeMemory(): void;

  // ---- shared by the map types ----

  /** The fd's FMODE_CAN_READ: BPF_F_WRONLY takes it away. */
  protected canRead(): boolean {
    return (this.mapFlags & BPF_F_WRONLY) === 0;
  }

  /** The fd's FMODE_CAN_WRITE: BPF_F_RDONLY and freezing take it away. */
  protected canWrite(): boolean {
    return (this.mapFlags & BPF_F_RDONLY) === 0 && !this.frozen;
  }

  /** The CPU a bpf() call runs on. */
  protected get syscallCpu(): number {
    return this.env.syscallCpu?.() ?? 0;
  }

  /**
   * __bpf_copy_key(): the syscall's key, copied into scratch memory; returns its offset, or
   * -EFAULT for a NULL / short key, -EINVAL for a key given to a map without keys.
   */
  private copyKeyIn(key: Uint8Array | null): number {
    if (key === null) return this.keySize === 0 ? this.scratchOffset() : -Errno.EFAULT;
    if (this.keySize === 0) return -Errno.EINVAL;
    if (key.length < this.keySize) return -Errno.EFAULT;
    const offset = this.scratchOffset();
    this.memory.u8.set(key.subarray(0, this.keySize), offset);
    return offset;
  }

  /** Scratch memory for one key and one user value (allocated on first use). */
  private scratchOffset(): number {
    if (this.scratch === undefined) {
      this.scratch = this.memory.alloc(round8(this.keySize) + round8(this.userValueSize), {
        name: `${this.describe()} syscall buffer`,
        kind: "map_key",
      });
    }
    return this.scratch.base;
  }

  /** The linear offset of a key a program passed, or throw the fault (a verifier bug). */
  protected keyAt(lo: number, hi: number): number {
    const offset = this.memory.translateRead(lo, hi, this.keySize);
    if (offset < 0) throw this.memory.describeFault(lo, hi, this.keySize, "read");
    return offset;
  }

  /** The linear offset of `size` readable bytes a program passed, or throw the fault. */
  protected bytesAt(lo: number, hi: number, size: number): number {
    if (size === 0) return 0;
    const offset = this.memory.translateRead(lo, hi, size);
    if (offset < 0) throw this.memory.describeFault(lo, hi, size, "read");
    return offset;
  }

  /** A little-endian u32 at a linear offset. */
  protected u32At(offset: number): number {
    const u8 = this.memory.u8;
    return (
      (u8[offset]! | (u8[offset + 1]! << 8) | (u8[offset + 2]! << 16) | (u8[offset + 3]! << 24)) >>>
      0
    );
  }

  /** Copy `size` bytes inside the address space. */
  protected copy(to: number, from: number, size: number): void {
    const u8 = this.memory.u8;
    if (size > 32) {
      u8.copyWithin(to, from, from + size);
      return;
    }
    // Keys and values are mostly a few bytes: a loop beats copyWithin's call overhead.
    if (to < from) for (let i = 0; i < size; i++) u8[to + i] = u8[from + i]!;
    else for (let i = size - 1; i >= 0; i--) u8[to + i] = u8[from + i]!;
  }

  /** Region permissions for values, from BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG. */
  protected get programAccess(): { readable: boolean; writable: boolean } {
    return {
      readable: (this.mapFlags & BPF_F_WRONLY_PROG) === 0,
      writable: (this.mapFlags & BPF_F_RDONLY_PROG) === 0,
    };
  }

  /** Copy bytes of the address space out to a caller's buffer. */
  protected copyOut(from: number, out: Uint8Array, outOffset: number, size: number): void {
    out.set(this.memory.u8.subarray(from, from + size), outOffset);
  }

  /** A MapError for exceptions (codecs, views) naming this map. */
  error(op: string, errno: number, why?: string): MapError {
    return MapError.of(this.name, this.kind, op, errno, why);
  }
}

/** Update flags a map accepts: (flags & ~BPF_F_LOCK) must not exceed BPF_EXIST. */
export function badUpdateFlags(flagsLo: number, flagsHi: number): boolean {
  return flagsHi !== 0 || (flagsLo & ~BPF_F_LOCK) >>> 0 > BPF_EXIST;
}

/** Run an allocation, turning address-space exhaustion into -ENOMEM. */
export function tryAlloc<T>(fn: () => T): T | number {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MemoryError) return -Errno.ENOMEM;
    throw err;
  }
}
