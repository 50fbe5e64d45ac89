// The typed user-space view of a map: get, set, delete and iterate with key and value codecs,
// over the syscall side (BPF_MAP_*_ELEM), so it sees exactly what bpftool or libbpf would.
// Errors other than "no such key" are thrown as MapError with the kernel's errno.
//
// Iteration is BPF_MAP_GET_NEXT_KEY from the previous key, fetching the following key before it
// yields the current one: deleting the yielded key while iterating is safe (the kernel would
// restart from the first key if asked for the successor of a deleted key).
import { BPF_ANY } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import type { Codec } from "./codec.js";
import type { BpfMap } from "./map.js";
import { round8 } from "./map.js";

class BaseView<K> {
  constructor(
    readonly map: BpfMap,
    protected readonly keyCodec: Codec<K>,
  ) {
    if (keyCodec.size !== map.keySize)
      throw map.error(
        "view",
        Errno.EINVAL,
        `key codec is ${keyCodec.size} bytes, key_size is ${map.keySize}`,
      );
  }

  protected encodeKey(key: K): Uint8Array {
    const bytes = new Uint8Array(this.map.keySize);
    this.keyCodec.encode(key, bytes, 0);
    return bytes;
  }

  /** Keys in the kernel's BPF_MAP_GET_NEXT_KEY order. */
  *keys(): IterableIterator<K> {
    for (const key of this.rawKeys()) yield this.keyCodec.decode(key, 0);
  }

  protected *rawKeys(): IterableIterator<Uint8Array> {
    let current = this.nextKey(null);
    // Bound the walk: a map changed under the iterator may restart it, never loop forever.
    for (let steps = 0; current !== undefined && steps <= 4 * this.map.maxEntries + 16; steps++) {
      const following = this.nextKey(current);
      yield current;
      current = following;
    }
  }

  private nextKey(key: Uint8Array | null): Uint8Array | undefined {
    const next = new Uint8Array(this.map.keySize);
    const err = this.map.sysGetNextKey(key, next);
    if (err === -Errno.ENOENT) return undefined;
    if (err !== 0) throw this.map.error("get_next_key", -err);
    return next;
  }

  /** Delete a key: true if it was there. */
  delete(key: K): boolean {
    const err = this.map.sysDelete(this.encodeKey(key));
    if (err === -Errno.ENOENT) return false;
    if (err !== 0) throw this.map.error("delete", -err);
    return true;
  }

  /** BPF_MAP_FREEZE */
  freeze(): void {
    const err = this.map.freeze();
    if (err !== 0) throw this.map.error("freeze", -err);
  }
}

/** A map with one value per key (ARRAY, HASH, LRU_HASH, STACK_TRACE, ...). */
export class MapView<K, V> extends BaseView<K> {
  constructor(
    map: BpfMap,
    keyCodec: Codec<K>,
    private readonly valueCodec: Codec<V>,
  ) {
    super(map, keyCodec);
    if (valueCodec.size !== map.userValueSize)
      throw map.error(
        "view",
        Errno.EINVAL,
        `value codec is ${valueCodec.size} bytes, the map's value is ${map.userValueSize}`,
      );
  }

  /** The value, or undefined when the key is absent. */
  get(key: K): V | undefined {
    const value = new Uint8Array(this.map.userValueSize);
    const err = this.map.sysLookup(this.encodeKey(key), value);
    if (err === -Errno.ENOENT) return undefined;
    if (err !== 0) throw this.map.error("lookup", -err);
    return this.valueCodec.decode(value, 0);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Update with BPF_ANY (or the given flags: BPF_NOEXIST, BPF_EXIST). */
  set(key: K, value: V, flags = BPF_ANY): this {
    const bytes = new Uint8Array(this.map.userValueSize);
    this.valueCodec.encode(value, bytes, 0);
    const err = this.map.sysUpdate(this.encodeKey(key), bytes, flags);
    if (err !== 0) throw this.map.error("update", -err);
    return this;
  }

  /** [key, value] pairs in iteration order (a key deleted meanwhile is skipped). */
  *entries(): IterableIterator<[K, V]> {
    const value = new Uint8Array(this.map.userValueSize);
    for (const raw of this.rawKeys()) {
      const err = this.map.sysLookup(raw, value);
      if (err === -Errno.ENOENT) continue;
      if (err !== 0) throw this.map.error("lookup", -err);
      yield [this.keyCodec.decode(raw, 0), this.valueCodec.decode(value, 0)];
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** All entries as a JavaScript Map (keys compared by identity: use primitive key codecs). */
  toMap(): Map<K, V> {
    return new Map(this.entries());
  }
}

/** A per-CPU map: a value per possible CPU for every key. */
export class PercpuMapView<K, V> extends BaseView<K> {
  private readonly stride: number;
  private readonly cpus: number;

  constructor(
    map: BpfMap,
    keyCodec: Codec<K>,
    private readonly valueCodec: Codec<V>,
  ) {
    super(map, keyCodec);
    this.stride = round8(map.valueSize);
    this.cpus = map.userValueSize / this.stride;
    if (valueCodec.size !== map.valueSize)
      throw map.error(
        "view",
        Errno.EINVAL,
        `value codec is ${valueCodec.size} bytes, value_size is ${map.valueSize}`,
      );
  }

  /** Every CPU's value (CPU 0 first), or undefined when the key is absent. */
  get(key: K): V[] | undefined {
    const flat = new Uint8Array(this.map.userValueSize);
    const err = this.map.sysLookup(this.encodeKey(key), flat);
    if (err === -Errno.ENOENT) return undefined;
    if (err !== 0) throw this.map.error("lookup", -err);
    return this.split(flat);
  }

  /** Set every CPU's value (an array of possibleCpus values). */
  set(key: K, values: readonly V[], flags = BPF_ANY): this {
    if (values.length !== this.cpus)
      throw this.map.error("update", Errno.EINVAL, `${values.length} values for ${this.cpus} CPUs`);
    const flat = new Uint8Array(this.map.userValueSize);
    values.forEach((v, cpu) => this.valueCodec.encode(v, flat, cpu * this.stride));
    const err = this.map.sysUpdate(this.encodeKey(key), flat, flags);
    if (err !== 0) throw this.map.error("update", -err);
    return this;
  }

  *entries(): IterableIterator<[K, V[]]> {
    const flat = new Uint8Array(this.map.userValueSize);
    for (const raw of this.rawKeys()) {
      const err = this.map.sysLookup(raw, flat);
      if (err === -Errno.ENOENT) continue;
      if (err !== 0) throw this.map.error("lookup", -err);
      yield [this.keyCodec.decode(raw, 0), this.split(flat)];
    }
  }

  [Symbol.iterator](): IterableIterator<[K, V[]]> {
    return this.entries();
  }

  private split(flat: Uint8Array): V[] {
    return Array.from({ length: this.cpus }, (_, cpu) =>
      this.valueCodec.decode(flat, cpu * this.stride),
    );
  }
}
