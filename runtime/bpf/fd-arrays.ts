// What a PROG_ARRAY or PERF_EVENT_ARRAY slot holds, and how an fd becomes one (the kernel's
// map_fd_get_ptr / map_fd_put_ptr / map_fd_sys_lookup_elem for those maps).
//
//   prog array   a loaded program with a reference taken; the array takes the type of its first
//                program and refuses others (EINVAL); BPF_MAP_LOOKUP_ELEM reports the prog id
//   perf event   the perf event, through a reference to its file, so closing the event's fd
//   array        does not free it while a slot holds it
import { FileKind, type FdTable, type KernelFile } from "../kernel/files.js";
import type { FdArrayHooks, PerfOutputTarget, ProgArrayEntry } from "../maps/fd-array.js";
import type { InnerMapEntry } from "../maps/map-in-map.js";
import type { BpfMap } from "../maps/map.js";
import { Errno } from "../uapi/errno.js";
import { BpfProgObject, type BpfMapObject } from "./objects.js";

export function progArrayHooks(
  files: () => FdTable,
  owner: BpfMapObject,
): FdArrayHooks<ProgArrayEntry> {
  return {
    getPtr: (fd) => {
      const file = files().get(fd);
      if (file === undefined) return -Errno.EBADF;
      const prog = file.privateData;
      if (!(prog instanceof BpfProgObject)) return -Errno.EINVAL;
      owner.ownerProgType ??= prog.progType;
      if (owner.ownerProgType !== prog.progType) return -Errno.EINVAL;
      prog.get();
      return prog;
    },
    putPtr: (entry) => (entry as BpfProgObject).put(),
    sysLookup: (entry) => (entry as BpfProgObject).id,
  };
}

/** A PERF_EVENT_ARRAY slot: the perf event, held through a reference to its file. */
class PerfEventEntry implements PerfOutputTarget {
  constructor(
    readonly file: KernelFile,
    private readonly event: PerfOutputTarget,
  ) {}
  get oncpu(): number {
    return this.event.oncpu;
  }
  get isBpfOutput(): boolean {
    return this.event.isBpfOutput;
  }
  outputSample(bytes: Uint8Array, offset: number, size: number): number {
    return this.event.outputSample(bytes, offset, size);
  }
}

export function perfEventArrayHooks(files: () => FdTable): FdArrayHooks<PerfOutputTarget> {
  return {
    getPtr: (fd) => {
      const file = files().get(fd);
      if (file === undefined || file.kind !== FileKind.PERF_EVENT) return -Errno.EBADF;
      return new PerfEventEntry(file.get(), file.privateData as PerfOutputTarget);
    },
    putPtr: (entry) => (entry as PerfEventEntry).file.put(),
  };
}

/** An ARRAY_OF_MAPS / HASH_OF_MAPS slot: the map an fd names, with a reference taken. */
export function mapInMapHooks(
  lookupMapFd: (fd: number) => BpfMapObject | number,
): FdArrayHooks<InnerMapEntry> {
  const objects = new WeakMap<BpfMap, BpfMapObject>();
  return {
    getPtr: (fd) => {
      const obj = lookupMapFd(fd);
      if (typeof obj === "number") return obj;
      obj.inc();
      objects.set(obj.map, obj);
      return { map: obj.map, handleBase: obj.handle.base, id: obj.id };
    },
    putPtr: (entry) => objects.get(entry.map)?.put(),
    sysLookup: (entry) => entry.id,
  };
}
