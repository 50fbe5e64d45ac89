// The simulated kernel address space: every byte a BPF program can reach lives here.
//
// Layout
//   One linear buffer, a growable `WebAssembly.Memory`, holds every region (per-CPU stacks, the
//   ctx / pt_regs block, map values, simulated kernel objects, test buffers). A future WebAssembly
//   JIT imports the same memory, so a pointer means the same byte under both engines.
//   A region at linear offset `off` has the kernel virtual address 0xffff888000000000 + off (the
//   x86_64 direct map), so its high word is always 0xffff8880 and its low word is `off`. Offsets
//   below FIRST_REGION_OFFSET are never mapped, so 0xffff888000000000 itself faults (engines may
//   keep small blocks of their own there: reserveEngineBlock).
//
// Regions
//   A region has a name, a kind, a reserved extent [base, base + size) and an accessible window
//   [start, end) inside it, plus read/write permissions. The window is normally the whole extent;
//   the interpreter narrows a stack's window as call frames come and go, so an access below the
//   deepest live frame faults. Regions are separated by guard gaps of at least GUARD_GAP bytes,
//   so small overruns land in unmapped space and fault instead of touching a neighbour.
//
// Lifetime (an RCU grace period)
//   free() does not unmap at once while a program run is in progress: a program may still hold a
//   pointer into the region (a map element it looked up, then deleted). Such a region stays
//   mapped until the outermost run ends (exitRun), then it is unmapped and its bytes go back to
//   a free list. Memory is zeroed when a region is allocated, never when it is freed.
//
// Lookup
//   Regions are kept sorted by base. translate() first tries the last region it hit, then a
//   binary search. It returns a linear offset or -1; describeFault() turns a miss into a
//   MemoryFault naming the address, the size, read/write and the nearest region.
//
// Planned: the user-space window. Tracing programs read user memory of the current task only
// through helpers (bpf_probe_read_user, bpf_copy_from_user); the kernel never lets them
// dereference user pointers directly. The plan: user addresses (high word < 0x00008000) resolve
// through a per-task table of user mappings (user virtual start -> region of kind "user" in this
// same linear buffer) that the simulated kernel installs when it switches the current task.
// translate() stays kernel-only (a direct load of a user address faults, as in the kernel) and a
// separate translateUser() serves the user-copy helpers.
import { TsbpfError } from "../error.js";

/** High word of every kernel address in this address space (0xffff8880 as a signed int32). */
export const KERNEL_HI = 0xffff8880 | 0;
/** Low offsets that are never mapped: a guard page below the first region. */
export const FIRST_REGION_OFFSET = 0x1000;
/** Minimum unmapped bytes between two regions. */
export const GUARD_GAP = 64;

const PAGE_SIZE = 65536; // WebAssembly page

/**
 * The part of WebAssembly.Memory used here. The project's lib settings (ES2022 + node types)
 * do not declare the WebAssembly namespace, so the constructor is reached through globalThis.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
type WasmMemoryConstructor = new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
const WasmMemoryCtor = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } })
  .WebAssembly.Memory;
const MAX_PAGES = 65536; // 4 GiB: offsets must fit in the low address word

export type RegionKind =
  "stack" | "ctx" | "packet" | "map_value" | "map_key" | "kernel_object" | "data" | "user";

export type Access = "read" | "write";

export interface RegionOptions {
  name: string;
  kind: RegionKind;
  /** power of two, default 8 */
  align?: number;
  readable?: boolean;
  writable?: boolean;
}

type RegionState = "live" | "freeing" | "freed";

export class Region {
  /** accessible window, linear offsets; starts as the whole extent */
  start: number;
  end: number;
  state: RegionState = "live";

  constructor(
    readonly id: number,
    readonly name: string,
    readonly kind: RegionKind,
    /** reserved extent [base, base + size) in the linear buffer */
    readonly base: number,
    readonly size: number,
    readonly readable: boolean,
    readonly writable: boolean,
  ) {
    this.start = base;
    this.end = base + size;
  }

  /** Low word of the region's kernel address (its base). */
  get addressLo(): number {
    return this.base | 0;
  }

  /** High word of the region's kernel address. */
  get addressHi(): number {
    return KERNEL_HI;
  }

  /** Low word of the kernel address of the byte at `offset` inside the region. */
  lo(offset = 0): number {
    return (this.base + offset) | 0;
  }

  /** The address as hex, for messages. */
  describe(): string {
    return `'${this.name}' (${this.kind}, ${kernelHex(this.base)}..${kernelHex(this.base + this.size)})`;
  }
}

/** A load or store the address space cannot serve. */
export class MemoryFault extends TsbpfError {
  constructor(
    readonly addrLo: number,
    readonly addrHi: number,
    readonly size: number,
    readonly access: Access,
    readonly reason: string,
    readonly region: Region | undefined,
  ) {
    super(
      `invalid ${access} of ${size} byte${size === 1 ? "" : "s"} at ${hex64(addrLo, addrHi)}: ${reason}`,
    );
  }
}

/** Errors of the address space itself (exhaustion, bad requests). */
export class MemoryError extends TsbpfError {}

export function hex64(lo: number, hi: number): string {
  return "0x" + (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

function bytes(n: number): string {
  return n === 1 ? "1 byte" : `${n} bytes`;
}

function kernelHex(offset: number): string {
  return hex64(offset | 0, KERNEL_HI);
}

interface FreeExtent {
  start: number;
  end: number;
}

export class AddressSpace {
  /** The linear buffer (a WebAssembly.Memory, importable by a wasm module). */
  readonly memory: WasmMemory;
  /** Views of memory.buffer; replaced after every growth, so re-read them after any allocation. */
  u8!: Uint8Array;
  view!: DataView;
  /** The buffer as little-endian int32 words (index = offset >> 2), for aligned hot paths. */
  i32!: Int32Array;
  /** Bumped on every growth: callers that cache views compare it. */
  generation = 0;

  private readonly regions: Region[] = []; // sorted by base
  private readonly freeExtents: FreeExtent[] = [];
  private pendingFree: Region[] = [];
  private top = FIRST_REGION_OFFSET;
  // Last region hit by a read and by a write: programs tend to read one region (ctx, a map
  // value) while writing another (the stack).
  private lastRead: Region;
  private lastWrite: Region;
  private readonly noRegion: Region;
  private nextId = 1;
  // engine blocks fill the guard page from here up (the first 256 bytes stay untouched)
  private engineTop = 0x100;
  private runDepth = 0;

  constructor(initialPages = 1) {
    try {
      this.memory = new WasmMemoryCtor({ initial: initialPages, maximum: MAX_PAGES });
    } catch (err) {
      // V8 throws RangeError when it cannot reserve the memory.
      throw new MemoryError(`cannot create the address space: ${(err as Error).message}`);
    }
    this.refreshViews();
    // A sentinel that matches nothing, so translate() needs no null check.
    this.noRegion = new Region(0, "(none)", "data", 0, 0, false, false);
    this.lastRead = this.noRegion;
    this.lastWrite = this.noRegion;
  }

  private refreshViews(): void {
    this.u8 = new Uint8Array(this.memory.buffer);
    this.view = new DataView(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.generation++;
  }

  /** Size of the linear buffer in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  // ---- allocation ----

  /**
   * `size` bytes (a multiple of 8) below FIRST_REGION_OFFSET for an engine's own bookkeeping
   * (the JIT's control block): outside every region, so programs cannot reach them through
   * checked accesses, and taking them moves no region, so the address layout is the same
   * whichever engine runs. Their linear offset, or undefined once the guard page is used up.
   */
  reserveEngineBlock(size: number): number | undefined {
    const base = this.engineTop;
    if (base + size > FIRST_REGION_OFFSET) return undefined;
    this.engineTop = alignUp(base + size, 8);
    return base;
  }

  /** Map a new zero-filled region of `size` bytes. */
  alloc(size: number, options: RegionOptions): Region {
    const align = options.align ?? 8;
    if (!Number.isInteger(size) || size < 0 || size > 0x40000000) {
      throw new MemoryError(`cannot allocate region '${options.name}': bad size ${size}`);
    }
    if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0 || align > 65536) {
      throw new MemoryError(
        `cannot allocate region '${options.name}': alignment ${align} is not a power of two`,
      );
    }
    const base = this.takeFromFreeList(size, align) ?? this.takeFromTop(size, align, options.name);
    if (size > 0) this.u8.fill(0, base, base + size);
    const region = new Region(
      this.nextId++,
      options.name,
      options.kind,
      base,
      size,
      options.readable ?? true,
      options.writable ?? true,
    );
    this.insertSorted(region);
    return region;
  }

  private takeFromTop(size: number, align: number, name: string): number {
    const base = alignUp(this.top + GUARD_GAP, align);
    const end = base + size;
    // Keep a guard gap after the last region too.
    this.ensureCapacity(end + GUARD_GAP, name);
    this.top = end;
    return base;
  }

  private takeFromFreeList(size: number, align: number): number | undefined {
    for (let i = 0; i < this.freeExtents.length; i++) {
      const extent = this.freeExtents[i]!;
      const base = alignUp(extent.start, align);
      if (base + size > extent.end) continue;
      // What remains after the new region keeps a guard gap in front of it.
      const rest = base + size + GUARD_GAP;
      if (rest < extent.end) extent.start = rest;
      else this.freeExtents.splice(i, 1);
      return base;
    }
    return undefined;
  }

  private ensureCapacity(bytes: number, name: string): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const havePages = have / PAGE_SIZE;
    const needPages = Math.ceil(bytes / PAGE_SIZE);
    const pages = Math.min(MAX_PAGES, Math.max(needPages, havePages * 2));
    if (needPages > MAX_PAGES) {
      throw new MemoryError(`cannot allocate region '${name}': address space exhausted (4 GiB)`);
    }
    try {
      this.memory.grow(pages - havePages);
    } catch (err) {
      throw new MemoryError(`cannot allocate region '${name}': ${(err as Error).message}`);
    }
    this.refreshViews();
  }

  private insertSorted(region: Region): void {
    const i = this.upperBound(region.base);
    this.regions.splice(i, 0, region);
  }

  /**
   * Unmap a region. Inside a program run the region stays readable and writable until the
   * outermost run ends (the grace period); its bytes are reused only after that.
   */
  free(region: Region): void {
    if (region.state !== "live") {
      throw new MemoryError(`region '${region.name}' freed twice`);
    }
    if (this.runDepth > 0) {
      region.state = "freeing";
      this.pendingFree.push(region);
    } else {
      this.retire(region);
    }
  }

  private retire(region: Region): void {
    region.state = "freed";
    const i = this.upperBound(region.base) - 1;
    if (this.regions[i] === region) this.regions.splice(i, 1);
    if (this.lastRead === region) this.lastRead = this.noRegion;
    if (this.lastWrite === region) this.lastWrite = this.noRegion;
    if (region.base + region.size === this.top) {
      this.top = region.base;
    } else if (region.size > 0) {
      this.freeExtents.push({ start: region.base, end: region.base + region.size });
    }
  }

  /** A program run begins: frees are deferred until the outermost run ends. */
  enterRun(): void {
    this.runDepth++;
  }

  /** A program run ends; at the outermost level the grace period ends too. */
  exitRun(): void {
    if (this.runDepth === 0) throw new MemoryError("exitRun without enterRun");
    if (--this.runDepth === 0 && this.pendingFree.length > 0) {
      const pending = this.pendingFree;
      this.pendingFree = [];
      for (const region of pending) this.retire(region);
    }
  }

  /** Live regions, sorted by address. */
  list(): readonly Region[] {
    return this.regions;
  }

  // ---- lookup ----

  /** Index of the first region whose base is greater than `offset`. */
  private upperBound(offset: number): number {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (regions[mid]!.base <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The region whose reserved extent contains `offset`, if any. */
  regionAt(offset: number): Region | undefined {
    const i = this.upperBound(offset) - 1;
    const region = this.regions[i];
    return region !== undefined && offset < region.base + region.size ? region : undefined;
  }

  /** Linear offset for a readable access of `size` bytes at (lo, hi), or -1. */
  translateRead(lo: number, hi: number, size: number): number {
    const offset = lo >>> 0;
    const region = this.lastRead;
    if (hi === KERNEL_HI && offset >= region.start && offset + size <= region.end) return offset;
    const found = this.lookup(lo, hi, size);
    if (found === undefined || !found.readable) return -1;
    this.lastRead = found;
    return offset;
  }

  /** Linear offset for a writable access of `size` bytes at (lo, hi), or -1. */
  translateWrite(lo: number, hi: number, size: number): number {
    const offset = lo >>> 0;
    const region = this.lastWrite;
    if (hi === KERNEL_HI && offset >= region.start && offset + size <= region.end) return offset;
    const found = this.lookup(lo, hi, size);
    if (found === undefined || !found.writable) return -1;
    this.lastWrite = found;
    return offset;
  }

  /** The region whose accessible window holds the whole access, if any. */
  private lookup(lo: number, hi: number, size: number): Region | undefined {
    if (hi !== KERNEL_HI) return undefined;
    const offset = lo >>> 0;
    const region = this.regions[this.upperBound(offset) - 1];
    if (region === undefined || offset < region.start || offset + size > region.end)
      return undefined;
    return region;
  }

  /** Explain why an access of `size` bytes at (lo, hi) cannot be served. */
  describeFault(lo: number, hi: number, size: number, access: Access): MemoryFault {
    if (hi !== KERNEL_HI) {
      const reason =
        hi === 0 && lo >>> 0 < 0x10000
          ? "NULL or near-NULL pointer"
          : hi >>> 0 < 0x8000
            ? "user-space address; use a probe_read_user-style helper"
            : "not a mapped kernel address";
      return new MemoryFault(lo, hi, size, access, reason, undefined);
    }
    const offset = lo >>> 0;
    const end = offset + size;
    const i = this.upperBound(offset) - 1;
    const before = this.regions[i];
    const after = this.regions[i + 1];
    if (before !== undefined && offset < before.base + before.size) {
      if (offset < before.start) {
        return new MemoryFault(
          lo,
          hi,
          size,
          access,
          `${bytes(before.start - offset)} below the live part of ${before.describe()}`,
          before,
        );
      }
      if (end > before.end) {
        return new MemoryFault(
          lo,
          hi,
          size,
          access,
          `runs ${bytes(end - before.end)} past the end of ${before.describe()}`,
          before,
        );
      }
      const perm = access === "write" ? "writable" : "readable";
      return new MemoryFault(lo, hi, size, access, `${before.describe()} is not ${perm}`, before);
    }
    const gapAfter = before === undefined ? Infinity : offset - (before.base + before.size);
    const gapBefore = after === undefined ? Infinity : after.base - offset;
    if (gapAfter === Infinity && gapBefore === Infinity) {
      return new MemoryFault(lo, hi, size, access, "no regions are mapped", undefined);
    }
    if (gapAfter <= gapBefore) {
      return new MemoryFault(
        lo,
        hi,
        size,
        access,
        `unmapped, ${bytes(gapAfter)} past the end of ${before!.describe()}`,
        before,
      );
    }
    return new MemoryFault(
      lo,
      hi,
      size,
      access,
      `unmapped, ${bytes(gapBefore)} before ${after!.describe()}`,
      after,
    );
  }

  /** Linear offset of a checked access, or throw its MemoryFault. */
  check(lo: number, hi: number, size: number, access: Access): number {
    const offset =
      access === "write" ? this.translateWrite(lo, hi, size) : this.translateRead(lo, hi, size);
    if (offset < 0) throw this.describeFault(lo, hi, size, access);
    return offset;
  }

  /** Is the whole range [(lo, hi), +size) accessible? (size 0 is always accessible) */
  isAccessible(lo: number, hi: number, size: number, access: Access): boolean {
    if (size === 0) return true;
    return (
      (access === "write" ? this.translateWrite(lo, hi, size) : this.translateRead(lo, hi, size)) >=
      0
    );
  }

  // ---- scalar loads and stores (checked; throw MemoryFault) ----

  load8(lo: number, hi: number): number {
    return this.u8[this.check(lo, hi, 1, "read")]!;
  }
  load16(lo: number, hi: number): number {
    return this.view.getUint16(this.check(lo, hi, 2, "read"), true);
  }
  /** Returns the 32-bit value as a signed int32. */
  load32(lo: number, hi: number): number {
    return this.view.getInt32(this.check(lo, hi, 4, "read"), true);
  }
  /** Writes the 64-bit value into out[index] (low word) and out[index + 1] (high word). */
  load64(lo: number, hi: number, out: Int32Array, index: number): void {
    const offset = this.check(lo, hi, 8, "read");
    out[index] = this.view.getInt32(offset, true);
    out[index + 1] = this.view.getInt32(offset + 4, true);
  }
  store8(lo: number, hi: number, value: number): void {
    this.u8[this.check(lo, hi, 1, "write")] = value;
  }
  store16(lo: number, hi: number, value: number): void {
    this.view.setUint16(this.check(lo, hi, 2, "write"), value, true);
  }
  store32(lo: number, hi: number, value: number): void {
    this.view.setInt32(this.check(lo, hi, 4, "write"), value, true);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    const offset = this.check(lo, hi, 8, "write");
    this.view.setInt32(offset, valueLo, true);
    this.view.setInt32(offset + 4, valueHi, true);
  }

  // ---- bulk access ----

  /** Copy `length` bytes out of the address space (throws MemoryFault). */
  readBytes(lo: number, hi: number, length: number): Uint8Array {
    if (length === 0) return new Uint8Array(0);
    const offset = this.check(lo, hi, length, "read");
    return this.u8.slice(offset, offset + length);
  }

  /** Copy bytes into the address space (throws MemoryFault). */
  writeBytes(lo: number, hi: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const offset = this.check(lo, hi, bytes.length, "write");
    this.u8.set(bytes, offset);
  }

  /** Fill `length` bytes with `byte` (throws MemoryFault). */
  fill(lo: number, hi: number, length: number, byte: number): void {
    if (length === 0) return;
    const offset = this.check(lo, hi, length, "write");
    this.u8.fill(byte, offset, offset + length);
  }

  /**
   * bpf_probe_read_kernel-style copy: copy `length` bytes from src to dst. If the source is not
   * readable, zero-fill the destination and return false. The destination must be writable
   * (the verifier guarantees it; a bad destination is a fault and throws).
   */
  probeRead(dstLo: number, dstHi: number, srcLo: number, srcHi: number, length: number): boolean {
    if (length === 0) return true;
    const dst = this.check(dstLo, dstHi, length, "write");
    const src = this.translateRead(srcLo, srcHi, length);
    if (src < 0) {
      this.u8.fill(0, dst, dst + length);
      return false;
    }
    this.u8.copyWithin(dst, src, src + length);
    return true;
  }

  /**
   * bpf_probe_read_kernel_str-style copy: copy a NUL-terminated string of at most `length`
   * bytes (including the NUL, which is always written). Returns the bytes copied including the
   * NUL, or -1 if the source is unreadable (destination zero-filled then).
   */
  probeReadStr(dstLo: number, dstHi: number, srcLo: number, srcHi: number, length: number): number {
    if (length === 0) return 0;
    const dst = this.check(dstLo, dstHi, length, "write");
    const u8 = this.u8;
    for (let i = 0; i < length - 1; i++) {
      const s = this.translateRead(
        (srcLo + i) | 0,
        srcHi + ((srcLo >>> 0) + i > 0xffffffff ? 1 : 0),
        1,
      );
      if (s < 0) {
        u8.fill(0, dst, dst + length);
        return -1;
      }
      const byte = u8[s]!;
      u8[dst + i] = byte;
      if (byte === 0) return i + 1;
    }
    u8[dst + length - 1] = 0;
    return length;
  }

  /**
   * Read a NUL-terminated string of at most `max` bytes (without the NUL). Throws MemoryFault
   * naming the first unreadable byte.
   */
  readCString(lo: number, hi: number, max = 4096): Uint8Array {
    const start = this.check(lo, hi, 1, "read");
    const u8 = this.u8;
    for (let i = 0; i < max; i++) {
      const byteLo = (lo + i) | 0;
      const byteHi = hi + ((lo >>> 0) + i > 0xffffffff ? 1 : 0);
      const s = i === 0 ? start : this.check(byteLo, byteHi, 1, "read");
      if (u8[s] === 0) return u8.slice(start, start + i);
    }
    return u8.slice(start, start + max);
  }
}

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}
