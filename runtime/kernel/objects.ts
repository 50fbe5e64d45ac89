// Kernel objects in the address space: a struct of a kernel type at a linear offset, with its
// fields written and read by name through the layouts of layout.ts. Kernel code (the function
// bodies, the workloads) fills task_struct, sk_buff, file ... exactly where a BPF program using
// the published header reads them.
import type { RecordType } from "./ctypes.js";
import { fieldOf, sizeOf, type FieldInfo } from "./layout.js";
import { kernelStruct } from "./vmlinux.js";
import { KERNEL_HI, type AddressSpace } from "../vm/memory.js";
import { hi32 } from "./clock.js";
import { KernelTypeError } from "./error.js";

/** One encoder/decoder for the kernel's strings (creating them per call is costly). */
export const utf8 = {
  encoder: new TextEncoder(),
  decoder: new TextDecoder(),
  encode(text: string): Uint8Array {
    return this.encoder.encode(text);
  },
  decode(bytes: Uint8Array): string {
    return this.decoder.decode(bytes);
  },
};

/** A 64-bit address as two 32-bit words (a kernel object: hi = KERNEL_HI, lo = offset). */
export interface Ptr {
  readonly lo: number;
  readonly hi: number;
}

export const NULL: Ptr = { lo: 0, hi: 0 };

/** The kernel address of linear offset `offset`. */
export const kptr = (offset: number): Ptr => ({ lo: offset | 0, hi: KERNEL_HI });

const fieldCache = new WeakMap<RecordType, Map<string, FieldInfo>>();

/** A member of a struct by path ("f_path.dentry"), cached. */
export function field(record: RecordType, path: string): FieldInfo {
  let fields = fieldCache.get(record);
  if (fields === undefined) {
    fields = new Map();
    fieldCache.set(record, fields);
  }
  let info = fields.get(path);
  if (info === undefined) {
    info = fieldOf(record, path);
    fields.set(path, info);
  }
  return info;
}

/** A struct of a kernel type placed at `offset` in the address space. */
export class KObject implements Ptr {
  readonly lo: number;
  readonly hi = KERNEL_HI;

  constructor(
    readonly memory: AddressSpace,
    readonly record: RecordType,
    /** linear offset of the struct's first byte */
    readonly offset: number,
  ) {
    this.lo = offset | 0;
  }

  static of(memory: AddressSpace, structName: string, offset: number): KObject {
    return new KObject(memory, kernelStruct(structName), offset);
  }

  get size(): number {
    return sizeOf(this.record);
  }

  /** Linear offset of a member. */
  at(path: string): number {
    return this.offset + field(this.record, path).offset;
  }

  /** The address of a member (&obj->path). */
  addressOf(path: string): Ptr {
    return kptr(this.at(path));
  }

  /** Write an integer, a pointer (or null), into a member; bit-fields are merged in place. */
  set(path: string, value: number | Ptr | null): this {
    writeField(this.memory, this.offset, field(this.record, path), value);
    return this;
  }

  /** An integer member as a number (unsigned members unsigned, 64-bit exact below 2^53). */
  get(path: string): number {
    return readField(this.memory, this.offset, field(this.record, path));
  }

  /** A pointer member. */
  ptr(path: string): Ptr {
    const at = this.at(path);
    const view = this.memory.view;
    return { lo: view.getInt32(at, true), hi: view.getInt32(at + 4, true) };
  }

  /** Copy a string into a char array member, truncated and NUL-terminated (strscpy). */
  setString(path: string, text: string): this {
    const f = field(this.record, path);
    const bytes = utf8.encode(text);
    const n = Math.min(bytes.length, f.size - 1);
    const at = this.offset + f.offset;
    this.memory.u8.fill(0, at, at + f.size);
    this.memory.u8.set(bytes.subarray(0, n), at);
    return this;
  }

  /** A char array member as text (up to its NUL). */
  getString(path: string): string {
    const f = field(this.record, path);
    const at = this.offset + f.offset;
    const bytes = this.memory.u8.subarray(at, at + f.size);
    const end = bytes.indexOf(0);
    return utf8.decode(bytes.subarray(0, end < 0 ? bytes.length : end));
  }
}

/** Store `value` into the member `f` of the struct at linear offset `base`. */
export function writeField(
  memory: AddressSpace,
  base: number,
  f: FieldInfo,
  value: number | Ptr | null,
): void {
  const at = base + f.offset;
  const view = memory.view;
  if (f.bitSize !== 0) {
    writeBits(memory, base, f, typeof value === "number" ? value : 0);
    return;
  }
  if (value === null || typeof value === "object") {
    const p = value ?? { lo: 0, hi: 0 };
    view.setInt32(at, p.lo, true);
    view.setInt32(at + 4, p.hi, true);
    return;
  }
  switch (f.size) {
    case 1:
      view.setUint8(at, value & 0xff);
      return;
    case 2:
      view.setUint16(at, value & 0xffff, true);
      return;
    case 4:
      view.setInt32(at, value | 0, true);
      return;
    case 8:
      view.setInt32(at, value | 0, true);
      view.setInt32(at + 4, hi32(value), true);
      return;
    default:
      throw new KernelTypeError(`field '${f.path}' of ${f.size} bytes is not a scalar`);
  }
}

function writeBits(memory: AddressSpace, base: number, f: FieldInfo, value: number): void {
  for (let i = 0; i < f.bitSize; i++) {
    const bit = base * 8 + f.bitOffset + i;
    const byte = bit >>> 3;
    const mask = 1 << (bit & 7);
    if ((value >>> i) & 1) memory.u8[byte]! |= mask;
    else memory.u8[byte]! &= ~mask;
  }
}

/** Load the member `f` of the struct at linear offset `base` as an unsigned number. */
export function readField(memory: AddressSpace, base: number, f: FieldInfo): number {
  const at = base + f.offset;
  const view = memory.view;
  if (f.bitSize !== 0) {
    let v = 0;
    for (let i = 0; i < f.bitSize; i++) {
      const bit = base * 8 + f.bitOffset + i;
      if ((memory.u8[bit >>> 3]! >>> (bit & 7)) & 1) v |= 1 << i;
    }
    return v >>> 0;
  }
  switch (f.size) {
    case 1:
      return view.getUint8(at);
    case 2:
      return view.getUint16(at, true);
    case 4:
      return view.getUint32(at, true);
    case 8:
      return view.getUint32(at + 4, true) * 0x100000000 + view.getUint32(at, true);
    default:
      throw new KernelTypeError(`field '${f.path}' of ${f.size} bytes is not a scalar`);
  }
}
