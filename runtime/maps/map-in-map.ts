// Maps of maps (kernel/bpf/map_in_map.c, arraymap.c's array_of_map_*, hashtab.c's htab_of_map_*):
// BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS. Created from a template inner map
// (inner_map_fd), whose type, key and value sizes and flags (and max_entries, unless the template
// has BPF_F_INNER_MAP) every map stored later must share. The syscall writes a map fd; a program's
// lookup yields the inner map itself, which it passes to bpf_map_lookup_elem in turn; the
// syscall's lookup reports the inner map's id.
import { BPF_F_INNER_MAP, BpfMapType } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { FdArrayMap, fdArrayMapAllocCheck, type FdArrayHooks } from "./fd-array.js";
import { HashMap, htabMapAllocCheck } from "./hashtab.js";
import { BpfMap, type MapAttr, type MapEnv } from "./map.js";

/** What the template inner map leaves behind (bpf_map_meta_alloc's copy). */
export interface InnerMapMeta {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
}

/** A map stored in a map of maps: the facade's object for it, with a reference held. */
export interface InnerMapEntry {
  readonly map: BpfMap;
  /** the linear address of the inner map's struct bpf_map (what a program's lookup returns) */
  readonly handleBase: number;
  /** the map id BPF_MAP_LOOKUP_ELEM reports */
  readonly id: number;
}

/** Map types that cannot be an inner map (bpf_map_meta_alloc: -ENOTSUPP). */
const NOT_INNER = new Set<number>([
  BpfMapType.BPF_MAP_TYPE_PROG_ARRAY,
  BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS,
]);

/** bpf_map_meta_alloc()'s refusals for a template: 0 or -errno. */
export function innerMapMetaCheck(meta: InnerMapMeta | undefined): number {
  if (meta === undefined) return -Errno.EBADF;
  if (NOT_INNER.has(meta.type)) return -Errno.ENOTSUPP;
  return 0;
}

/** bpf_map_meta_equal(): may `map` be stored where `meta` is the template? */
export function innerMapMatches(meta: InnerMapMeta, map: BpfMap): boolean {
  return (
    meta.type === map.type &&
    meta.keySize === map.keySize &&
    meta.valueSize === map.valueSize &&
    meta.mapFlags === map.mapFlags &&
    ((meta.mapFlags & BPF_F_INNER_MAP) !== 0 || meta.maxEntries === map.maxEntries)
  );
}

/** The entry for an fd, refused unless it matches the template (the reference is dropped). */
function entryFor(
  hooks: FdArrayHooks<InnerMapEntry> | undefined,
  meta: InnerMapMeta,
  fd: number,
): InnerMapEntry | number {
  const entry = hooks === undefined ? -Errno.EBADF : hooks.getPtr(fd);
  if (typeof entry === "number") return entry;
  if (!innerMapMatches(meta, entry.map)) {
    hooks!.putPtr(entry);
    return -Errno.EINVAL;
  }
  return entry;
}

/** BPF_MAP_TYPE_ARRAY_OF_MAPS: u32 index -> inner map. */
export class ArrayOfMapsMap extends FdArrayMap<InnerMapEntry> {
  constructor(
    env: MapEnv,
    attr: MapAttr,
    readonly innerMeta: InnerMapMeta,
  ) {
    super(env, attr);
  }

  /** array_of_map_lookup_elem(): the inner map's address, or 0. */
  override lookupElem(keyLo: number, keyHi: number, _cpu: number): number {
    const index = this.u32At(this.keyAt(keyLo, keyHi));
    if (index >= this.maxEntries) return 0;
    return this.slots.get(index)?.handleBase ?? 0;
  }

  /** bpf_map_fd_get_ptr(): only maps the template allows. */
  protected override fdToPtr(fd: number): InnerMapEntry | number {
    return entryFor(this.hooks, this.innerMeta, fd);
  }
}

/** fd_htab_map_alloc_check(): values are u32 fds. */
export function fdHtabMapAllocCheck(attr: MapAttr): number {
  if (attr.valueSize !== 4) return -Errno.EINVAL;
  return htabMapAllocCheck(attr);
}

/**
 * BPF_MAP_TYPE_HASH_OF_MAPS: key -> inner map. The table is a kernel hash map whose values are
 * the inner maps' addresses (the kernel stores the pointer, 8 bytes); the entries behind them
 * are kept by address so references can be dropped on overwrite and delete.
 */
export class HashOfMapsMap extends BpfMap {
  hooks: FdArrayHooks<InnerMapEntry> | undefined;
  private readonly table: HashMap;
  /** each stored map by address, with the number of keys holding it (one reference each) */
  private readonly entries = new Map<number, { entry: InnerMapEntry; slots: number }>();

  constructor(
    env: MapEnv,
    attr: MapAttr,
    readonly innerMeta: InnerMapMeta,
  ) {
    super(env, attr, 4);
    this.table = new HashMap(env, {
      ...attr,
      mapType: BpfMapType.BPF_MAP_TYPE_HASH,
      valueSize: 8,
      name: attr.name ?? "",
    });
  }

  /** htab_of_map_lookup_elem(): the inner map's address, or 0. */
  override lookupElem(keyLo: number, keyHi: number, cpu: number): number {
    const value = this.table.lookupElem(keyLo, keyHi, cpu);
    return value === 0 ? 0 : this.u32At(value);
  }

  /** The address stored for `key`, or -1. */
  private storedAt(key: Uint8Array | null): number {
    const slot = new Uint8Array(8);
    if (this.table.sysLookup(key, slot) !== 0) return -1;
    return new DataView(slot.buffer).getUint32(0, true);
  }

  override sysLookup(key: Uint8Array | null, value: Uint8Array, flags = 0): number {
    if (flags !== 0) return -Errno.EINVAL;
    if (value.length < 4) return -Errno.EFAULT;
    const slot = new Uint8Array(8);
    const err = this.table.sysLookup(key, slot, flags);
    if (err !== 0) return err;
    const held = this.entries.get(new DataView(slot.buffer).getUint32(0, true));
    if (held === undefined) return -Errno.ENOENT;
    new DataView(value.buffer, value.byteOffset).setUint32(0, held.entry.id, true);
    return 0;
  }

  /** bpf_fd_htab_map_update_elem(): the value is a map fd. */
  override sysUpdate(key: Uint8Array | null, value: Uint8Array, flags = 0): number {
    if (!this.canWrite()) return -Errno.EPERM;
    if (value.length < 4) return -Errno.EFAULT;
    const fd = new DataView(value.buffer, value.byteOffset).getInt32(0, true);
    const entry = entryFor(this.hooks, this.innerMeta, fd);
    if (typeof entry === "number") return entry;
    const old = this.storedAt(key);
    const slot = new Uint8Array(8);
    new DataView(slot.buffer).setUint32(0, entry.handleBase, true);
    const err = this.table.sysUpdate(key, slot, flags);
    if (err !== 0) {
      this.hooks!.putPtr(entry);
      return err;
    }
    const held = this.entries.get(entry.handleBase);
    if (held === undefined) this.entries.set(entry.handleBase, { entry, slots: 1 });
    else held.slots++;
    if (old >= 0) this.release(old);
    return 0;
  }

  override sysDelete(key: Uint8Array | null): number {
    if (!this.canWrite()) return -Errno.EPERM;
    const old = this.storedAt(key);
    const err = this.table.sysDelete(key);
    if (err === 0 && old >= 0) this.release(old);
    return err;
  }

  override sysGetNextKey(key: Uint8Array | null, nextKey: Uint8Array): number {
    return this.table.sysGetNextKey(key, nextKey);
  }

  /** Drop one reference to the map at `address` (one table slot held it). */
  private release(address: number): void {
    const held = this.entries.get(address);
    if (held === undefined) return;
    if (--held.slots === 0) this.entries.delete(address);
    this.hooks?.putPtr(held.entry);
  }

  // The syscall entry points above replace the per-element ones.
  protected sysLookupElem(): number {
    return -Errno.EINVAL;
  }
  protected sysUpdateElem(): number {
    return -Errno.EINVAL;
  }
  protected sysDeleteElem(): number {
    return -Errno.EINVAL;
  }
  protected sysGetNextKeyElem(): number {
    return -Errno.EINVAL;
  }

  protected freeMemory(): void {
    for (const { entry, slots } of this.entries.values())
      for (let i = 0; i < slots; i++) this.hooks?.putPtr(entry);
    this.entries.clear();
    this.table.free();
  }
}
