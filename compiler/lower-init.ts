// Initializing stack objects, and inline memory copies and fills (struct assignment,
// __builtin_memcpy/memset with constant sizes), as clang -target bpf expands them: no calls,
// just loads and stores of the widest width the alignment allows.
//
// A local initializer is sema's flat list of stores (InitEntry). Bytes no entry covers are zero
// (C11 6.7.9p21), padding included, so the object can be handed to a helper without the
// verifier seeing uninitialised stack. Bytes whose value is known at compile time are merged
// into as few immediate stores as alignment permits.
import type * as A from "./ast.js";
import type { FnLowering } from "./lower-func.js";
import type { Inst, Slot } from "./ir.js";
import type { InitEntry } from "./sema.js";
import { convertValue } from "./consteval.js";
import { type CType, canonical, sizeOf } from "./types.js";
import { type LValue, bitFieldUnit, halvesOf, infoOf, rvalue, storeLValue } from "./lower-expr.js";
import { byAddress, intInfo, isWideInt } from "./lower-types.js";

// Byte states of an object being initialised.
const ZERO = 0; // not written by any entry: zero
const CONST = 1; // a known constant byte
const DYNAMIC = 2; // written by a store computed at run time

export function initializeLocal(
  fl: FnLowering,
  slot: Slot,
  type: CType,
  init: A.Initializer,
  at: { loc: A.SourceLoc },
): void {
  const size = sizeOf(type);
  const entries: readonly InitEntry[] = fl.sema.initializers.get(init) ?? [];
  const state = new Uint8Array(size);
  const bytes = new Uint8Array(size);
  const dynamic: InitEntry[] = [];
  for (const entry of entries) {
    if (!placeConstant(fl, entry, state, bytes)) {
      dynamic.push(entry);
      if (entry.bitWidth === undefined) {
        const end = Math.min(size, entry.offset + entrySize(entry));
        state.fill(DYNAMIC, entry.offset, end);
      }
    }
  }
  storeKnownBytes(fl, slot, state, bytes);
  for (const entry of dynamic) storeEntry(fl, slot, entry, at);
}

function entrySize(entry: InitEntry): number {
  return sizeOf(entry.type);
}

/** Records a compile-time constant entry's bytes; false if the entry is not constant. */
function placeConstant(
  fl: FnLowering,
  entry: InitEntry,
  state: Uint8Array,
  bytes: Uint8Array,
): boolean {
  const e = entry.expr;
  if (e.kind === "StringLiteral" && canonical(entry.type).kind === "array") {
    const n = sizeOf(entry.type);
    for (let i = 0; i < n && entry.offset + i < bytes.length; i++) {
      bytes[entry.offset + i] = i < e.bytes.length ? e.bytes[i]! : 0;
      state[entry.offset + i] = CONST;
    }
    return true;
  }
  if (byAddress(entry.type)) return false;
  const ii = intInfo(entry.type);
  if (ii === undefined) return false;
  const info = infoOf(fl, e);
  if (info.lvalue && info.value === undefined) return false;
  const raw = info.value !== undefined && !info.lvalue ? info.value : fl.unit.constant(e);
  if (raw === undefined) return false;
  // The stored value: the expression converted to the entry's type.
  const v = convertValue(raw, entry.type);
  if (entry.bitWidth !== undefined && entry.bitOffset !== undefined) {
    const mask = (1n << BigInt(entry.bitWidth)) - 1n;
    const field = BigInt.asUintN(64, v) & mask;
    for (let i = 0; i < entry.bitWidth; i++) {
      const bit: number = entry.bitOffset + i;
      const byte = bit >> 3;
      if (byte >= bytes.length) break;
      if (state[byte] === ZERO) state[byte] = CONST;
      if (state[byte] !== CONST) return false;
      if ((field >> BigInt(i)) & 1n) bytes[byte]! |= 1 << (bit & 7);
      else bytes[byte]! &= ~(1 << (bit & 7));
    }
    return true;
  }
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < ii.size; i++) {
    const at = entry.offset + i;
    if (at >= bytes.length) break;
    bytes[at] = Number(x & 0xffn);
    state[at] = CONST;
    x >>= 8n;
  }
  return true;
}

/** Stores every ZERO and CONST byte with the fewest aligned immediate stores. */
function storeKnownBytes(fl: FnLowering, slot: Slot, state: Uint8Array, bytes: Uint8Array): void {
  const n = state.length;
  let i = 0;
  while (i < n) {
    if (state[i] === DYNAMIC) {
      i++;
      continue;
    }
    let w = 8;
    while (w > 1 && (i % w !== 0 || w > slot.align || i + w > n || !allKnown(state, i, w))) w >>= 1;
    storeImmediate(fl, fl.frameAddr(slot), i, bytes, i, w);
    i += w;
  }
}

function allKnown(state: Uint8Array, at: number, w: number): boolean {
  for (let k = 0; k < w; k++) if (state[at + k] === DYNAMIC) return false;
  return true;
}

/** An immediate store of `w` bytes read from `bytes` at `from` (two words if it needs 64 bits). */
function storeImmediate(
  fl: FnLowering,
  base: Inst,
  off: number,
  bytes: Uint8Array,
  from: number,
  w: number,
): void {
  const b = fl.b;
  const word = (k: number): number =>
    bytes[k]! | (bytes[k + 1]! << 8) | (bytes[k + 2]! << 16) | (bytes[k + 3]! << 24);
  if (w === 8) {
    const lo = word(from);
    const hi = word(from + 4);
    b.store(8, base, off, b.const64(lo, hi));
    return;
  }
  let v = 0;
  for (let k = w - 1; k >= 0; k--) v = (v << 8) | bytes[from + k]!;
  b.store(w, base, off, b.const32(v | 0));
}

function storeEntry(fl: FnLowering, slot: Slot, entry: InitEntry, at: { loc: A.SourceLoc }): void {
  const base = fl.frameAddr(slot);
  if (isWideInt(entry.type)) {
    const h = halvesOf(fl, entry.expr);
    fl.b.store(8, base, entry.offset, h.lo);
    fl.b.store(8, base, entry.offset + 8, h.hi);
    return;
  }
  if (byAddress(entry.type)) {
    const src = rvalue(fl, entry.expr);
    copyMemory(fl, base, entry.offset, src, 0, sizeOf(entry.type), at);
    return;
  }
  const value = rvalue(fl, entry.expr);
  let lv: LValue;
  if (entry.bitWidth !== undefined && entry.bitOffset !== undefined) {
    const unit = bitFieldUnit(entry.bitOffset, entry.bitWidth, sizeOf(entry.type))!;
    lv = {
      kind: "mem",
      base,
      off: unit.offset,
      type: entry.type,
      volatile: false,
      bits: { shift: entry.bitOffset - unit.offset * 8, width: entry.bitWidth, unit: unit.bytes },
    };
  } else {
    lv = {
      kind: "mem",
      base,
      off: entry.offset,
      type: entry.type,
      volatile: false,
      bits: undefined,
    };
  }
  storeLValue(fl, lv, value, entry.expr);
}

// ---------------------------------------------------------------------------------------------
// Copies and fills

/** The alignment known for base + off (stack slots and globals know theirs). */
export function knownAlign(base: Inst, off: number, fallback: number): number {
  let a = fallback;
  if (base.op === "frame") a = Math.max(a, base.slot!.align);
  const total = off + base.off * (base.op === "frame" || base.op === "global" ? 1 : 0);
  while (a > 1 && total % a !== 0) a >>= 1;
  return Math.min(a, 8);
}

/** Copies `size` bytes from src + srcOff to dst + dstOff with loads and stores. */
export function copyMemory(
  fl: FnLowering,
  dst: Inst,
  dstOff: number,
  src: Inst,
  srcOff: number,
  size: number,
  _at: { loc: A.SourceLoc },
  align = 8,
): void {
  const b = fl.b;
  const a = Math.min(knownAlign(dst, dstOff, align), knownAlign(src, srcOff, align));
  let i = 0;
  while (i < size) {
    let w = 8;
    while (w > 1 && (w > a || i + w > size)) w >>= 1;
    const v = b.load(w === 8 ? "i64" : "i32", w, false, src, srcOff + i, false);
    b.store(w, dst, dstOff + i, v);
    i += w;
  }
}

/** Sets `size` bytes at dst + dstOff to the byte `value` (a constant or a run-time i32). */
export function fillMemory(
  fl: FnLowering,
  dst: Inst,
  dstOff: number,
  value: Inst,
  size: number,
  align = 1,
): void {
  const b = fl.b;
  const a = knownAlign(dst, dstOff, align);
  const constByte = value.op === "const" ? value.lo & 0xff : undefined;
  let pattern32: Inst | undefined;
  let pattern64: Inst | undefined;
  let i = 0;
  while (i < size) {
    let w = 8;
    while (w > 1 && (w > a || i + w > size)) w >>= 1;
    let v: Inst;
    if (constByte !== undefined) {
      const p = constByte * 0x01010101;
      v =
        w === 8
          ? b.const64(p | 0, p | 0)
          : b.const32(w === 4 ? p | 0 : w === 2 ? p & 0xffff : constByte);
    } else if (w === 8) {
      pattern64 ??= b.bin(
        "mul",
        b.emit("zext", "i64", [b.bin("and", value, b.const32(0xff))]),
        b.const64(0x01010101, 0x01010101),
      );
      v = pattern64;
    } else {
      pattern32 ??= b.bin("mul", b.bin("and", value, b.const32(0xff)), b.const32(0x01010101));
      v = pattern32;
    }
    b.store(w, dst, dstOff + i, v);
    i += w;
  }
}
