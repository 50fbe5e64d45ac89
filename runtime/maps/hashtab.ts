// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c).
//
// The table: n_buckets = roundup_pow_of_two(max_entries) singly linked chains; a key's bucket is
// htab_map_hash() (jhash with the map's seed, 0 under BPF_F_ZERO_SEED) masked by n_buckets - 1.
// New elements go to the head of their chain, and an update of an existing key in a HASH or
// LRU_HASH inserts a fresh element at the head and unlinks the old one (per-CPU maps update in
// place) - which is what BPF_MAP_GET_NEXT_KEY shows: it walks bucket 0 upwards, each chain from
// its head, and a key it does not find starts the walk over from the first key.
//
// Elements: an element index names the chain link, the stored hash and the element's memory, a
// slot of the ElementSlab laid out as the kernel's htab_elem payload: the key (padded to 8),
// then the value (padded to 8) or, for per-CPU maps, one padded value per possible CPU. A
// replaced or deleted element's slot is reused only after the program run that could still hold
// its address has ended. Chain links are stored +1 so zero-filled arrays mean "empty".
//
// Capacity: HASH and PERCPU_HASH refuse a new key with -E2BIG once max_entries elements exist
// (preallocated or not, the user sees the same). The LRU maps never fill: taking a node for a
// new key may evict (lru.ts) - and the kernel takes that node before it checks BPF_NOEXIST /
// BPF_EXIST, so even a failing update can evict.
import {
  BPF_EXIST,
  BPF_F_NO_COMMON_LRU,
  BPF_F_NO_PREALLOC,
  BPF_F_NUMA_NODE,
  BPF_F_ZERO_SEED,
  BPF_NOEXIST,
  BpfMapType,
} from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { mapFlagsAccessOk, PCPU_MIN_UNIT_SIZE } from "./array.js";
import { htabMapHash } from "./jhash.js";
import { BpfLru } from "./lru.js";
import { BPF_F_ACCESS_MASK, BpfMap, round8, type MapAttr, type MapEnv } from "./map.js";
import { ElementSlab } from "./slab.js";

const HTAB_CREATE_FLAG_MASK =
  BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED;

/** KMALLOC_MAX_SIZE on x86_64 (4 MiB) less sizeof(struct htab_elem) (48). */
const HTAB_MAX_KEY_VALUE = 4 * 1024 * 1024 - 48;
/** U32_MAX / sizeof(struct bucket): more buckets than this is -E2BIG. */
const MAX_BUCKETS = Math.floor(0xffffffff / 16);
/** What a map may cost in simulated kernel memory before creation fails with -ENOMEM. */
export const MAP_MEMORY_LIMIT = 1 << 30;

const isPercpuType = (type: number): boolean =>
  type === BpfMapType.BPF_MAP_TYPE_PERCPU_HASH || type === BpfMapType.BPF_MAP_TYPE_LRU_PERCPU_HASH;
const isLruType = (type: number): boolean =>
  type === BpfMapType.BPF_MAP_TYPE_LRU_HASH || type === BpfMapType.BPF_MAP_TYPE_LRU_PERCPU_HASH;

/** htab_map_alloc_check(): 0 or -errno. */
export function htabMapAllocCheck(attr: MapAttr): number {
  const flags = attr.mapFlags ?? 0;
  const percpu = isPercpuType(attr.mapType);
  const lru = isLruType(attr.mapType);
  const percpuLru = (flags & BPF_F_NO_COMMON_LRU) !== 0;
  const prealloc = (flags & BPF_F_NO_PREALLOC) === 0;
  // BPF_F_ZERO_SEED needs CAP_SYS_ADMIN; the simulated process is privileged.
  if ((flags & ~HTAB_CREATE_FLAG_MASK) !== 0 || !mapFlagsAccessOk(flags)) return -Errno.EINVAL;
  if (!lru && percpuLru) return -Errno.EINVAL;
  if (lru && !prealloc) return -Errno.ENOTSUPP;
  if ((flags & BPF_F_NUMA_NODE) !== 0 && (percpu || percpuLru)) return -Errno.EINVAL;
  if (attr.maxEntries === 0 || attr.keySize === 0 || attr.valueSize === 0) return -Errno.EINVAL;
  if (attr.keySize + attr.valueSize >= HTAB_MAX_KEY_VALUE) return -Errno.E2BIG;
  if (percpu && round8(attr.valueSize) > PCPU_MIN_UNIT_SIZE) return -Errno.E2BIG;
  return 0;
}

/** max_entries of an LRU with BPF_F_NO_COMMON_LRU: a multiple of the CPU count. */
function percpuLruEntries(maxEntries: number, cpus: number): number {
  const up = Math.ceil(maxEntries / cpus) * cpus;
  return up > 0xffffffff ? Math.floor(maxEntries / cpus) * cpus : up;
}

/** The checks htab_map_alloc() makes after the alloc check: 0 or -errno. */
export function htabMapAllocSize(attr: MapAttr, cpus: number): number {
  const flags = attr.mapFlags ?? 0;
  let maxEntries = attr.maxEntries;
  if (isLruType(attr.mapType) && (flags & BPF_F_NO_COMMON_LRU) !== 0)
    maxEntries = percpuLruEntries(maxEntries, cpus);
  if (maxEntries > 2 ** 31) return -Errno.E2BIG;
  const nBuckets = roundupPowOfTwo(maxEntries);
  if (nBuckets > MAX_BUCKETS) return -Errno.E2BIG;
  const percpu = isPercpuType(attr.mapType);
  const valueBytes = percpu ? round8(attr.valueSize) * cpus : round8(attr.valueSize);
  const elemBytes = 48 + round8(attr.keySize) + valueBytes;
  const prealloc = (flags & BPF_F_NO_PREALLOC) === 0;
  const bytes = nBuckets * 16 + (prealloc ? (maxEntries + cpus) * elemBytes : 0);
  return bytes > MAP_MEMORY_LIMIT ? -Errno.ENOMEM : 0;
}

export function roundupPowOfTwo(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

export class HashMap extends BpfMap {
  readonly percpu: boolean;
  readonly lru: BpfLru | undefined;
  readonly nBuckets: number;
  /** the seed of the bucket hash (htab->hashrnd) */
  readonly hashrnd: number;
  /** elements in the table */
  count = 0;

  private readonly bucketMask: number;
  private readonly keyStride: number;
  private readonly valueStride: number;
  private readonly cpus: number;
  private readonly slab: ElementSlab;
  /** bucket heads: element index + 1, 0 = empty */
  private readonly heads: Int32Array;
  // Per element index: chain link (+1), hash, slot offset (0 = no element).
  private links: Int32Array;
  private hashes: Int32Array;
  private slots: Float64Array;
  /** element indices free for reuse (HASH / PERCPU_HASH; LRU maps use node numbers) */
  private readonly freeIndices: number[] = [];
  private nextIndex = 0;

  constructor(env: MapEnv, attr: MapAttr) {
    const percpu = isPercpuType(attr.mapType);
    const cpus = env.possibleCpus;
    super(env, attr, percpu ? round8(attr.valueSize) * cpus : attr.valueSize);
    this.percpu = percpu;
    this.cpus = percpu ? cpus : 1;
    const lru = isLruType(this.type);
    const percpuLru = (this.mapFlags & BPF_F_NO_COMMON_LRU) !== 0;
    if (lru && percpuLru) this.maxEntries = percpuLruEntries(this.maxEntries, cpus);
    this.nBuckets = roundupPowOfTwo(this.maxEntries);
    this.bucketMask = this.nBuckets - 1;
    this.hashrnd = (this.mapFlags & BPF_F_ZERO_SEED) !== 0 ? 0 : (env.random32?.() ?? 0) >>> 0;
    this.keyStride = round8(this.keySize);
    this.valueStride = round8(this.valueSize);
    this.heads = new Int32Array(this.nBuckets);
    const capacity = lru ? this.maxEntries : Math.min(this.maxEntries + 1, 64);
    this.links = new Int32Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.slots = new Float64Array(capacity);
    this.slab = new ElementSlab(
      env.memory,
      this.keyStride + this.valueStride * this.cpus,
      `${this.describe()} elements`,
      this.maxEntries,
      this.programAccess,
    );
    this.lru = lru
      ? new BpfLru(this.maxEntries, cpus, percpuLru, (node) => this.lruDeleteNode(node))
      : undefined;
  }

  // ---- kernel side ----

  override lookupElem(keyLo: number, keyHi: number, cpu: number): number {
    const keyOffset = this.keyAt(keyLo, keyHi);
    const elem = this.lookupRaw(keyOffset, this.hashOf(keyOffset));
    if (elem < 0) return 0;
    if (this.lru !== undefined) this.lru.setRef(elem);
    return this.valueOffset(elem, this.percpu ? cpu : 0);
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
    const valueOffset = this.bytesAt(valueLo, valueHi, this.valueSize);
    return this.update(keyOffset, valueOffset, flagsLo, flagsHi, cpu, cpu);
  }

  override deleteElem(keyLo: number, keyHi: number, _cpu: number): number {
    return this.delete(this.keyAt(keyLo, keyHi));
  }

  // ---- syscall side ----

  protected sysLookupElem(keyOffset: number, value: Uint8Array): number {
    // The syscall's lookup leaves the LRU ref bit alone (map_lookup_elem_sys_only).
    const elem = this.lookupRaw(keyOffset, this.hashOf(keyOffset));
    if (elem < 0) return -Errno.ENOENT;
    this.copyOut(
      this.valueOffset(elem, 0),
      value,
      0,
      this.percpu ? this.userValueSize : this.valueSize,
    );
    return 0;
  }

  protected sysUpdateElem(keyOffset: number, valueOffset: number, flags: number): number {
    const flagsLo = flags % 2 ** 32;
    const flagsHi = Math.floor(flags / 2 ** 32);
    return this.update(keyOffset, valueOffset, flagsLo, flagsHi, this.syscallCpu, -1);
  }

  protected sysDeleteElem(keyOffset: number): number {
    return this.delete(keyOffset);
  }

  protected sysGetNextKeyElem(keyOffset: number, nextKey: Uint8Array): number {
    let bucket = 0;
    if (keyOffset >= 0) {
      const hash = this.hashOf(keyOffset);
      const elem = this.lookupRaw(keyOffset, hash);
      if (elem >= 0) {
        const following = this.links[elem]! - 1;
        if (following >= 0) {
          this.copyOut(this.slots[following]!, nextKey, 0, this.keySize);
          return 0;
        }
        bucket = (hash & this.bucketMask) + 1;
      }
      // A key that is not in the table starts the walk over.
    }
    for (; bucket < this.nBuckets; bucket++) {
      const first = this.heads[bucket]! - 1;
      if (first >= 0) {
        this.copyOut(this.slots[first]!, nextKey, 0, this.keySize);
        return 0;
      }
    }
    return -Errno.ENOENT;
  }

  protected freeMemory(): void {
    this.slab.destroy();
  }

  // ---- the table ----

  private hashOf(keyOffset: number): number {
    return htabMapHash(this.memory.u8, keyOffset, this.keySize, this.hashrnd) | 0;
  }

  /** The element holding the key at `keyOffset`, or -1. */
  private lookupRaw(keyOffset: number, hash: number): number {
    const u8 = this.memory.u8;
    const size = this.keySize;
    for (
      let elem = this.heads[hash & this.bucketMask]! - 1;
      elem >= 0;
      elem = this.links[elem]! - 1
    ) {
      if (this.hashes[elem] !== hash) continue;
      const slot = this.slots[elem]!;
      let i = 0;
      while (i < size && u8[slot + i] === u8[keyOffset + i]) i++;
      if (i === size) return elem;
    }
    return -1;
  }

  /** Linear offset of an element's value (CPU `cpu`'s copy). */
  private valueOffset(elem: number, cpu: number): number {
    return this.slots[elem]! + this.keyStride + cpu * this.valueStride;
  }

  private linkHead(elem: number, hash: number): void {
    const bucket = hash & this.bucketMask;
    this.hashes[elem] = hash;
    this.links[elem] = this.heads[bucket]!;
    this.heads[bucket] = elem + 1;
  }

  /** Unlink an element from its chain; false if it is not there. */
  private unlink(elem: number): boolean {
    const bucket = this.hashes[elem]! & this.bucketMask;
    let link = this.heads[bucket]! - 1;
    if (link === elem) {
      this.heads[bucket] = this.links[elem]!;
      return true;
    }
    while (link >= 0) {
      const following = this.links[link]! - 1;
      if (following === elem) {
        this.links[link] = this.links[elem]!;
        return true;
      }
      link = following;
    }
    return false;
  }

  /** A new element with the key at `keyOffset`: its index, or -ENOMEM. */
  private newElement(keyOffset: number): number {
    let elem = this.freeIndices.pop();
    if (elem === undefined) {
      elem = this.nextIndex++;
      if (elem >= this.links.length) this.growIndices();
    }
    const slot = this.slab.tryAlloc();
    if (slot < 0) {
      this.freeIndices.push(elem);
      return slot;
    }
    this.slots[elem] = slot;
    this.copy(slot, keyOffset, this.keySize);
    return elem;
  }

  private growIndices(): void {
    const capacity = Math.min(this.links.length * 2, this.maxEntries + 1);
    const grow = <T extends Int32Array | Float64Array>(old: T, next: T): T => {
      next.set(old);
      return next;
    };
    this.links = grow(this.links, new Int32Array(capacity));
    this.hashes = grow(this.hashes, new Int32Array(capacity));
    this.slots = grow(this.slots, new Float64Array(capacity));
  }

  /** An element left the table: its memory waits out the run; its index is free at once. */
  private releaseElement(elem: number): void {
    this.slab.release(this.slots[elem]!);
    this.slots[elem] = 0;
    if (this.lru === undefined) this.freeIndices.push(elem);
  }

  /**
   * Copy a value in: from a program (`fromCpu` >= 0: value_size bytes into that CPU's copy) or
   * from the syscall (-1: every CPU's padded value from the flat buffer).
   */
  private copyValue(elem: number, valueOffset: number, fromCpu: number): void {
    if (!this.percpu) this.copy(this.valueOffset(elem, 0), valueOffset, this.valueSize);
    else if (fromCpu < 0) this.copy(this.valueOffset(elem, 0), valueOffset, this.userValueSize);
    else this.copy(this.valueOffset(elem, fromCpu), valueOffset, this.valueSize);
  }

  /**
   * A fresh element's value. Slots start zeroed, so a program's value on its CPU leaves zeroes
   * in the other CPUs' copies, as pcpu_init_value() does.
   */
  private initValue(elem: number, valueOffset: number, fromCpu: number): void {
    this.copyValue(elem, valueOffset, fromCpu);
  }

  /**
   * htab_*_map_update_elem. `cpu` is the CPU doing the update (its LRU lists); `fromCpu` is the
   * value's source: that CPU's copy for a program, -1 for the syscall's all-CPU buffer.
   */
  private update(
    keyOffset: number,
    valueOffset: number,
    flagsLo: number,
    flagsHi: number,
    cpu: number,
    fromCpu: number,
  ): number {
    // Any flag above BPF_EXIST is -EINVAL (HASH accepts BPF_F_LOCK only for values that hold a
    // bpf_spin_lock, which no value here does).
    if (flagsHi !== 0 || flagsLo >>> 0 > BPF_EXIST) return -Errno.EINVAL;
    const hash = this.hashOf(keyOffset);
    if (this.lru !== undefined)
      return this.lruUpdate(keyOffset, valueOffset, flagsLo, hash, cpu, fromCpu);
    const old = this.lookupRaw(keyOffset, hash);
    const err = checkFlags(old, flagsLo);
    if (err !== 0) return err;
    if (old >= 0 && this.percpu) {
      this.copyValue(old, valueOffset, fromCpu); // per-CPU values are updated in place
      return 0;
    }
    if (old < 0 && this.count >= this.maxEntries) return -Errno.E2BIG;
    const elem = this.newElement(keyOffset);
    if (elem < 0) return elem;
    this.initValue(elem, valueOffset, fromCpu);
    this.linkHead(elem, hash);
    if (old >= 0) {
      this.unlink(old);
      this.releaseElement(old);
    } else {
      this.count++;
    }
    return 0;
  }

  /** htab_lru_map_update_elem / htab_lru_percpu_map_update_elem. */
  private lruUpdate(
    keyOffset: number,
    valueOffset: number,
    flags: number,
    hash: number,
    cpu: number,
    fromCpu: number,
  ): number {
    const lru = this.lru!;
    // The node is taken (possibly evicting) before the flags are checked against the table;
    // a per-CPU LRU skips it for BPF_EXIST, whose update happens in place.
    let node = -1;
    if (!this.percpu || flags !== BPF_EXIST) {
      node = this.lruPop(keyOffset, cpu);
      if (node < 0) return node;
      if (!this.percpu) this.copyValue(node, valueOffset, fromCpu);
    }
    const old = this.lookupRaw(keyOffset, hash);
    const err = checkFlags(old, flags);
    if (err !== 0) {
      if (node >= 0) this.lruPushFree(node);
      return err;
    }
    if (this.percpu && old >= 0) {
      lru.setRef(old);
      this.copyValue(old, valueOffset, fromCpu);
      if (node >= 0) this.lruPushFree(node);
      return 0;
    }
    if (this.percpu) this.initValue(node, valueOffset, fromCpu);
    this.linkHead(node, hash);
    this.count++;
    if (old >= 0) {
      lru.setRef(node);
      this.unlink(old);
      this.count--;
      this.lruPushFree(old);
    }
    return 0;
  }

  /** prealloc_lru_pop(): a node with fresh memory holding the key, or -ENOMEM. */
  private lruPop(keyOffset: number, cpu: number): number {
    const node = this.lru!.popFree(cpu);
    if (node < 0) return -Errno.ENOMEM;
    const slot = this.slab.tryAlloc();
    if (slot < 0) {
      this.lru!.pushFree(node);
      return slot;
    }
    this.slots[node] = slot;
    this.copy(slot, keyOffset, this.keySize);
    return node;
  }

  /** A node's element is gone (or never went in): release its memory, free the node. */
  private lruPushFree(node: number): void {
    this.releaseElement(node);
    this.lru!.pushFree(node);
  }

  /** htab_lru_map_delete_node(): the LRU evicts a node's element. */
  private lruDeleteNode(node: number): boolean {
    if (this.slots[node] === 0 || !this.unlink(node)) return false;
    this.count--;
    this.releaseElement(node);
    return true;
  }

  private delete(keyOffset: number): number {
    const elem = this.lookupRaw(keyOffset, this.hashOf(keyOffset));
    if (elem < 0) return -Errno.ENOENT;
    this.unlink(elem);
    this.count--;
    if (this.lru !== undefined) this.lruPushFree(elem);
    else this.releaseElement(elem);
    return 0;
  }
}

/** check_flags(): BPF_NOEXIST on a present key is -EEXIST, BPF_EXIST on a missing one -ENOENT. */
function checkFlags(old: number, flags: number): number {
  if (old >= 0 && (flags & 3) === BPF_NOEXIST) return -Errno.EEXIST;
  if (old < 0 && (flags & 3) === BPF_EXIST) return -Errno.ENOENT;
  return 0;
}
