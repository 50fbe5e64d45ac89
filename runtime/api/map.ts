// A map of an object, as libbpf's struct bpf_map: its definition can be changed until the
// object is loaded (max_entries, flags); once loaded it is read and written from user space
// through typed views (codecs for keys and values, or the object's BTF when none are given),
// which go through the same BPF_MAP_*_ELEM paths bpftool uses.
import type { BpfSyscall } from "../bpf/syscall.js";
import type { Btf } from "../btf/btf.js";
import { btfTypeToString } from "../btf/query.js";
import type { LoaderMap } from "../loader/load.js";
import { u32, type Codec } from "../maps/codec.js";
import type { BpfMap as KernelMap } from "../maps/map.js";
import { RingbufMap } from "../maps/ringbuf.js";
import { MapView, PercpuMapView } from "../maps/view.js";
import type { MapOrigin } from "../object/maps.js";
import { BPF_ANY, BpfMapType, mapTypeShortName } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { btfCodec, hexCodec, type BtfValue } from "./btf-codec.js";
import { attempt, BpfError } from "./errors.js";

const T = BpfMapType;
const PERCPU_TYPES: ReadonlySet<number> = new Set([
  T.BPF_MAP_TYPE_PERCPU_ARRAY,
  T.BPF_MAP_TYPE_PERCPU_HASH,
  T.BPF_MAP_TYPE_LRU_PERCPU_HASH,
]);

/** What a map needs from the object that owns it. */
export interface MapOwner {
  readonly fileName: string;
  readonly btf: Btf | undefined;
  /** the facade once loaded, undefined before load; throws once closed */
  loadedBpf(method: string): BpfSyscall | undefined;
}

/** A key and value decoded from a map (per-CPU maps: a value per CPU). */
export interface MapEntry {
  key: BtfValue;
  value: BtfValue;
}

export class BpfMap {
  private fdValue = -1;

  constructor(
    private readonly owner: MapOwner,
    private readonly spec: LoaderMap,
  ) {}

  /** The variable name (or, for global data, the section name: ".bss", ".rodata"). */
  get name(): string {
    return this.spec.def.realName;
  }

  /** The name given to the kernel (global data: "<object>.<section>", 15 characters). */
  get kernelName(): string {
    return this.spec.name;
  }

  /** BPF_MAP_TYPE_* */
  get type(): number {
    return this.spec.type;
  }

  /** "hash", "percpu_array" ... */
  get typeName(): string {
    return mapTypeShortName(this.spec.type) ?? `type ${this.spec.type}`;
  }

  /** legacy `maps` section, BTF `.maps`, or global data */
  get origin(): MapOrigin {
    return this.spec.def.origin;
  }

  get keySize(): number {
    return this.spec.keySize;
  }

  get valueSize(): number {
    return this.spec.valueSize;
  }

  get maxEntries(): number {
    return this.spec.maxEntries;
  }

  /** bpf_map__set_max_entries(): before load only. */
  set maxEntries(n: number) {
    this.beforeLoad("maxEntries");
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
      throw BpfError.usage(this.where, "maxEntries", `${n} is not a u32`);
    this.spec.maxEntries = n;
  }

  get flags(): number {
    return this.spec.mapFlags;
  }

  /** bpf_map__set_map_flags(): before load only. */
  set flags(flags: number) {
    this.beforeLoad("flags");
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff)
      throw BpfError.usage(this.where, "flags", `${flags} is not a u32`);
    this.spec.mapFlags = flags;
  }

  /** One value per CPU (PERCPU_ARRAY, PERCPU_HASH, LRU_PERCPU_HASH). */
  get isPercpu(): boolean {
    return PERCPU_TYPES.has(this.spec.type);
  }

  /** The key's C type from BTF ("__u32", "struct key_t"), or undefined without BTF. */
  get keyType(): string | undefined {
    return this.typeText(this.spec.def.btfKeyTypeId);
  }

  /** The value's C type from BTF. */
  get valueType(): string | undefined {
    return this.typeText(this.spec.def.btfValueTypeId);
  }

  /** The map's fd in the simulated process (-1 before load). */
  get fd(): number {
    return this.fdValue;
  }

  /** "opensnoop.bpf.o: map 'events'" */
  get where(): string {
    return `${this.owner.fileName}: map '${this.name}'`;
  }

  /**
   * Typed access to a loaded map: get, set, delete, has, keys, entries, iteration. Without
   * codecs, keys and values are decoded (and encoded) through the object's BTF.
   */
  typed<K = BtfValue, V = BtfValue>(keyCodec?: Codec<K>, valueCodec?: Codec<V>): TypedMap<K, V> {
    const map = this.kernelMap("typed");
    if (this.isPercpu)
      throw BpfError.usage(
        this.where,
        "typed",
        `a ${this.typeName} map has a value per CPU: use percpu()`,
      );
    const key =
      keyCodec ?? (this.defaultCodec(this.spec.def.btfKeyTypeId, map.keySize) as Codec<K>);
    const value =
      valueCodec ??
      (this.defaultCodec(this.spec.def.btfValueTypeId, map.userValueSize) as Codec<V>);
    const view = attempt(this.where, "typed", () => new MapView(map, key, value));
    return new TypedMap<K, V>(this, view);
  }

  /** Typed access to a loaded per-CPU map: every value is an array, CPU 0 first. */
  percpu<K = BtfValue, V = BtfValue>(keyCodec?: Codec<K>, valueCodec?: Codec<V>): TypedMap<K, V[]> {
    const map = this.kernelMap("percpu");
    if (!this.isPercpu)
      throw BpfError.usage(
        this.where,
        "percpu",
        `a ${this.typeName} map has one value per key: use typed()`,
      );
    const key =
      keyCodec ?? (this.defaultCodec(this.spec.def.btfKeyTypeId, map.keySize) as Codec<K>);
    const value =
      valueCodec ?? (this.defaultCodec(this.spec.def.btfValueTypeId, map.valueSize) as Codec<V>);
    const view = attempt(this.where, "percpu", () => new PercpuMapView(map, key, value));
    return new TypedMap<K, V[]>(this, view);
  }

  /**
   * Every entry decoded through BTF (hex without it), ordered by key as a little-endian number:
   * the order does not depend on how the map hashes or on insertion order. PROG_ARRAY slots
   * give the program's name; perf event arrays and ring buffers have no entries to list.
   */
  dump(): MapEntry[] {
    const map = this.kernelMap("dump");
    if (map.type === T.BPF_MAP_TYPE_PERF_EVENT_ARRAY || map instanceof RingbufMap) return [];
    const globalData =
      this.origin === "data" ||
      this.origin === "rodata" ||
      this.origin === "bss" ||
      this.origin === "kconfig";
    // A global-data map's one key is the index 0, which its BTF does not describe.
    const keyCodec = globalData
      ? (u32 as Codec<BtfValue>)
      : this.defaultCodec(this.spec.def.btfKeyTypeId, map.keySize);
    const percpu = this.isPercpu;
    const valueCodec = this.defaultCodec(
      this.spec.def.btfValueTypeId,
      percpu ? map.valueSize : map.userValueSize,
    );
    const out: { raw: Uint8Array; entry: MapEntry }[] = [];
    for (const raw of rawKeys(map, this.where)) {
      const value = new Uint8Array(map.userValueSize);
      const err = map.sysLookup(raw, value);
      if (err === -Errno.ENOENT) continue;
      if (err !== 0) throw new BpfError(this.where, "BPF_MAP_LOOKUP_ELEM", "lookup failed", -err);
      const key = keyCodec.decode(raw, 0);
      out.push({ raw, entry: { key, value: this.decodeValue(map, value, valueCodec, percpu) } });
    }
    return out.sort((a, b) => compareLittleEndian(a.raw, b.raw)).map((e) => e.entry);
  }

  private decodeValue(
    map: KernelMap,
    value: Uint8Array,
    codec: Codec<BtfValue>,
    percpu: boolean,
  ): BtfValue {
    if (map.type === T.BPF_MAP_TYPE_PROG_ARRAY) {
      const id = new DataView(value.buffer).getUint32(0, true);
      const bpf = this.owner.loadedBpf("dump");
      return bpf?.progById(id)?.name ?? id;
    }
    if (!percpu) return codec.decode(value, 0);
    const stride = Math.ceil(map.valueSize / 8) * 8;
    return Array.from({ length: map.userValueSize / stride }, (_, cpu) =>
      codec.decode(value, cpu * stride),
    );
  }

  /** The loaded map, as the simulated kernel holds it. */
  kernelMap(method: string): KernelMap {
    const bpf = this.owner.loadedBpf(method);
    if (bpf === undefined || this.fdValue < 0)
      throw BpfError.usage(this.where, method, "the object is not loaded yet", "EBUSY");
    return attempt(this.where, method, () => bpf.mapOf(this.fdValue).map);
  }

  /** The loader created the map: it has an fd now. */
  loaded(fd: number): void {
    this.fdValue = fd;
  }

  /** The object was closed. */
  closed(): void {
    this.fdValue = -1;
  }

  private beforeLoad(what: string): void {
    if (this.owner.loadedBpf(what) !== undefined)
      throw BpfError.usage(
        this.where,
        what,
        "the map exists already: change it before load()",
        "EBUSY",
      );
  }

  private defaultCodec(typeId: number, size: number): Codec<BtfValue> {
    const btf = this.owner.btf;
    if (btf !== undefined && typeId !== 0) {
      try {
        const codec = btfCodec(btf, typeId);
        if (codec.size === size) return codec;
      } catch {
        // a type BTF cannot size: show bytes
      }
    }
    return hexCodec(size);
  }

  private typeText(id: number): string | undefined {
    const btf = this.owner.btf;
    if (btf === undefined || id === 0) return undefined;
    try {
      return btfTypeToString(btf, id);
    } catch {
      return undefined;
    }
  }
}

/** The structural part of MapView and PercpuMapView a TypedMap delegates to. */
interface MapViewLike<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V, flags?: number): unknown;
  delete(key: K): boolean;
  keys(): IterableIterator<K>;
  entries(): IterableIterator<[K, V]>;
}

/** A loaded map with typed keys and values; errors carry the bpf() command and errno. */
export class TypedMap<K, V> implements Iterable<[K, V]> {
  constructor(
    readonly map: BpfMap,
    private readonly view: MapViewLike<K, V>,
  ) {}

  /** BPF_MAP_LOOKUP_ELEM: the value, or undefined when the key is absent. */
  get(key: K): V | undefined {
    this.check("get");
    return attempt(this.map.where, "BPF_MAP_LOOKUP_ELEM", () => this.view.get(key));
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** BPF_MAP_UPDATE_ELEM with BPF_ANY (or BPF_NOEXIST / BPF_EXIST). */
  set(key: K, value: V, flags = BPF_ANY): this {
    this.check("set");
    attempt(this.map.where, "BPF_MAP_UPDATE_ELEM", () => this.view.set(key, value, flags));
    return this;
  }

  /** BPF_MAP_DELETE_ELEM: true if the key was there. */
  delete(key: K): boolean {
    this.check("delete");
    return attempt(this.map.where, "BPF_MAP_DELETE_ELEM", () => this.view.delete(key));
  }

  /** Keys in BPF_MAP_GET_NEXT_KEY order. */
  *keys(): IterableIterator<K> {
    this.check("keys");
    yield* this.guarded(this.view.keys(), "BPF_MAP_GET_NEXT_KEY");
  }

  /** [key, value] pairs in BPF_MAP_GET_NEXT_KEY order. */
  *entries(): IterableIterator<[K, V]> {
    this.check("entries");
    yield* this.guarded(this.view.entries(), "BPF_MAP_LOOKUP_ELEM");
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Every entry at once. */
  toArray(): [K, V][] {
    return [...this.entries()];
  }

  /** Delete every key. */
  clear(): void {
    for (const key of [...this.keys()]) this.delete(key);
  }

  private *guarded<T>(it: IterableIterator<T>, command: string): IterableIterator<T> {
    for (;;) {
      const step = attempt(this.map.where, command, () => it.next());
      if (step.done) return;
      yield step.value;
    }
  }

  private check(method: string): void {
    this.map.kernelMap(method);
  }
}

/** BPF_MAP_GET_NEXT_KEY from the start; bounded so a map changed meanwhile cannot loop. */
function* rawKeys(map: KernelMap, where: string): IterableIterator<Uint8Array> {
  let key: Uint8Array | null = null;
  for (let steps = 0; steps <= 4 * map.maxEntries + 16; steps++) {
    const next = new Uint8Array(map.keySize);
    const err = map.sysGetNextKey(key, next);
    if (err === -Errno.ENOENT) return;
    if (err !== 0) throw new BpfError(where, "BPF_MAP_GET_NEXT_KEY", "iteration failed", -err);
    yield next;
    key = next;
  }
}

/** Order keys as little-endian unsigned numbers (array indices and integers sort naturally). */
function compareLittleEndian(a: Uint8Array, b: Uint8Array): number {
  for (let i = Math.max(a.length, b.length) - 1; i >= 0; i--) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
