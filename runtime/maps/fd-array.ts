// The arrays whose values are file descriptors on the syscall side and kernel objects inside
// (kernel/bpf/arraymap.c, the fd_array_map_* functions): BPF_MAP_TYPE_PROG_ARRAY for
// bpf_tail_call and BPF_MAP_TYPE_PERF_EVENT_ARRAY for bpf_perf_event_output.
//
// The syscall writes a u32 fd; the map keeps the object behind it. Turning an fd into an object
// (and taking a reference) is the bpf() facade's business, so the map asks FdArrayHooks, the
// kernel's map_fd_get_ptr / map_fd_put_ptr / map_fd_sys_lookup_elem. Until hooks are attached no
// fd resolves (-EBADF). Slots are kept sparsely: max_entries may be large and mostly empty.
import { BPF_ANY, BPF_F_CURRENT_CPU, BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import type { Program } from "../vm/program.js";
import { arrayMapAllocCheck, arrayNextIndex, writeU32 } from "./array.js";
import { BpfMap, type MapAttr, type MapEnv } from "./map.js";

/** fd_array_map_alloc_check(): values are u32 fds, and programs may not restrict access. */
export function fdArrayMapAllocCheck(attr: MapAttr): number {
  if (attr.valueSize !== 4) return -Errno.EINVAL;
  if (((attr.mapFlags ?? 0) & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !== 0) return -Errno.EINVAL;
  return arrayMapAllocCheck(attr);
}

/** How an fd array turns the syscall's fds into objects and back (the bpf() facade provides). */
export interface FdArrayHooks<T> {
  /** map_fd_get_ptr: the object `fd` refers to, with a reference taken, or a negative errno */
  getPtr(fd: number): T | number;
  /** map_fd_put_ptr: drop the reference getPtr took (the slot was overwritten or deleted) */
  putPtr(ptr: T): void;
  /** map_fd_sys_lookup_elem: what BPF_MAP_LOOKUP_ELEM reports (a prog id); absent: -ENOTSUPP */
  sysLookup?(ptr: T): number;
}

export abstract class FdArrayMap<T> extends BpfMap {
  hooks: FdArrayHooks<T> | undefined;
  protected readonly slots = new Map<number, T>();

  constructor(env: MapEnv, attr: MapAttr, hooks?: FdArrayHooks<T>) {
    super(env, attr, 4);
    this.hooks = hooks;
  }

  /** The object in slot `index` (an unsigned index), if any. */
  get(index: number): T | undefined {
    return this.slots.get(index >>> 0);
  }

  /** Occupied slots in index order (for the facade's reference counting and for tests). */
  entries(): [number, T][] {
    return [...this.slots].sort((x, y) => x[0] - y[0]);
  }

  /** bpf_fd_array_map_clear(): empty every slot, dropping the references. */
  clear(): void {
    for (const [index, ptr] of this.entries()) {
      this.slots.delete(index);
      this.hooks?.putPtr(ptr);
    }
  }

  // ---- syscall side ----

  protected sysLookupElem(keyOffset: number, value: Uint8Array): number {
    const sysLookup = this.hooks?.sysLookup;
    if (sysLookup === undefined) return -Errno.ENOTSUPP;
    const ptr = this.slots.get(this.u32At(keyOffset));
    if (ptr === undefined) return -Errno.ENOENT;
    writeU32(value, sysLookup(ptr));
    return 0;
  }

  /** bpf_fd_array_map_update_elem(): only BPF_ANY; the value is an fd. */
  protected sysUpdateElem(keyOffset: number, valueOffset: number, flags: number): number {
    if (flags !== BPF_ANY) return -Errno.EINVAL;
    const index = this.u32At(keyOffset);
    if (index >= this.maxEntries) return -Errno.E2BIG;
    const fd = this.u32At(valueOffset) | 0;
    const ptr = this.fdToPtr(fd);
    if (typeof ptr === "number") return ptr;
    const old = this.slots.get(index);
    this.slots.set(index, ptr);
    if (old !== undefined) this.hooks!.putPtr(old);
    return 0;
  }

  /** map_fd_get_ptr: the object for an fd (a reference taken), or -errno. */
  protected fdToPtr(fd: number): T | number {
    return this.hooks === undefined ? -Errno.EBADF : this.hooks.getPtr(fd);
  }

  protected sysDeleteElem(keyOffset: number): number {
    const index = this.u32At(keyOffset);
    if (index >= this.maxEntries) return -Errno.E2BIG;
    const old = this.slots.get(index);
    if (old === undefined) return -Errno.ENOENT;
    this.slots.delete(index);
    this.hooks?.putPtr(old);
    return 0;
  }

  protected sysGetNextKeyElem(keyOffset: number, nextKey: Uint8Array): number {
    const next = arrayNextIndex(keyOffset < 0 ? -1 : this.u32At(keyOffset), this.maxEntries);
    if (next < 0) return next;
    writeU32(nextKey, next);
    return 0;
  }

  protected freeMemory(): void {
    this.clear();
  }
}

/** What a PROG_ARRAY slot holds: a loaded program (the facade's object may carry more). */
export interface ProgArrayEntry {
  readonly program: Program;
}

/** BPF_MAP_TYPE_PROG_ARRAY: bpf_tail_call's jump table. */
export class ProgArrayMap extends FdArrayMap<ProgArrayEntry> {
  /**
   * bpf_tail_call's lookup: the program in slot `index` (r3, as an unsigned 32-bit value), or
   * undefined when the index is out of range or the slot is empty (the call falls through).
   */
  tailCallTarget(index: number): ProgArrayEntry | undefined {
    const i = index >>> 0;
    return i < this.maxEntries ? this.slots.get(i) : undefined;
  }
}

/**
 * A perf event a PERF_EVENT_ARRAY slot can hold, as bpf_perf_event_output needs it. The perf
 * subsystem of the simulated kernel implements it; the map only delivers samples.
 */
export interface PerfOutputTarget {
  /** event->oncpu: the CPU the event counts on (-1 when it is not active) */
  readonly oncpu: number;
  /** attr.type == PERF_TYPE_SOFTWARE && attr.config == PERF_COUNT_SW_BPF_OUTPUT */
  readonly isBpfOutput: boolean;
  /**
   * perf_event_output(): write a PERF_RECORD_SAMPLE whose raw data is `size` bytes of `bytes`
   * from `offset`. Returns 0, or -ENOSPC when the ring is full (the event counts a lost sample).
   */
  outputSample(bytes: Uint8Array, offset: number, size: number): number;
}

/** BPF_MAP_TYPE_PERF_EVENT_ARRAY: per-CPU (or any-index) perf event slots. */
export class PerfEventArrayMap extends FdArrayMap<PerfOutputTarget> {
  /**
   * bpf_perf_event_output(ctx, map, flags, data, size) on `cpu`: 0 or -errno. The low 32 bits of
   * flags pick the slot (BPF_F_CURRENT_CPU: this CPU's); no other flag is allowed for tracing
   * programs.
   */
  perfEventOutput(
    cpu: number,
    flagsLo: number,
    flagsHi: number,
    dataLo: number,
    dataHi: number,
    size: number,
  ): number {
    if (flagsHi !== 0) return -Errno.EINVAL;
    let index = flagsLo >>> 0;
    if (index === BPF_F_CURRENT_CPU) index = cpu;
    if (index >= this.maxEntries) return -Errno.E2BIG;
    const event = this.slots.get(index);
    if (event === undefined) return -Errno.ENOENT;
    if (!event.isBpfOutput) return -Errno.EINVAL;
    if (event.oncpu !== cpu) return -Errno.EOPNOTSUPP;
    const offset = this.bytesAt(dataLo, dataHi, size);
    return event.outputSample(this.memory.u8, offset, size);
  }
}
