// Loads and stores (check_mem_access): what each kind of pointer may touch. The stack is tracked
// byte by byte (spilled registers keep their state, other bytes are data, zero or
// uninitialised); map values and memory are bounds-checked with the pointer's variable offset;
// the context follows the program type's rules.
import * as op from "../isa/opcodes.js";
import { BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, BpfMapType } from "../uapi/bpf.js";
import { coerceToSize, coerceToSizeSx, isKnownZero, knownScalar, unknownScalar } from "./bounds.js";
import { isPointerValue, MAX_VAR_OFF } from "./check-alu.js";
import { ctxAccess, ctxName } from "./ctx.js";
import type { Env } from "./env.js";
import { type AccessRegion, recordAccess } from "./facts.js";
import { markRegPrecise, stackAccessFlag } from "./precision.js";
import {
  baseOf,
  mayBeNull,
  MEM_RDONLY,
  MEM_RINGBUF,
  RegState,
  RegType,
  regTypeStr,
} from "./reg.js";
import type { FuncState } from "./state.js";
import {
  BPF_REG_SIZE,
  MAX_BPF_STACK,
  STACK_INVALID,
  STACK_MISC,
  STACK_SPILL,
  STACK_ZERO,
  StackSlot,
  withType,
} from "./state.js";
import * as tn from "./tnum.js";
import * as u from "./u64.js";

const T = RegType;

export const enum Access {
  READ = 0,
  WRITE = 1,
}

/** The frame a stack pointer points into. */
export const frameOf = (env: Env, reg: RegState): FuncState => env.cur.frames[reg.frameno]!;

/** The current frame's stack depth grows (grow_stack_state / update_stack_depth). */
function growStack(env: Env, frame: FuncState, size: number): void {
  frame.grow(size);
  if (env.stackDepth[frame.subprog]! < size) env.stackDepth[frame.subprog] = size;
}

/** Record that the current instruction spilled to or filled from a fixed stack slot. */
function noteStackAccess(env: Env, frameno: number, spi: number): void {
  env.cur.hist[env.cur.hist.length - 1] = stackAccessFlag(frameno, spi);
}

// ---- alignment ----

function checkAlignment(
  env: Env,
  reg: RegState,
  off: number,
  size: number,
  strictOnce: boolean,
): void {
  let desc = "";
  let strict = strictOnce;
  switch (reg.type) {
    case T.PTR_TO_MAP_KEY:
      desc = "key ";
      break;
    case T.PTR_TO_MAP_VALUE:
      desc = "value ";
      break;
    case T.PTR_TO_CTX:
      desc = "context ";
      break;
    case T.PTR_TO_STACK:
      // spill tracking needs aligned stack slots
      desc = "stack ";
      strict = true;
      break;
  }
  if (!strict || size === 1) return;
  const at = tn.tnumAdd(reg.varOff, tn.tnumConst(u.fromS32(reg.off + off)));
  if (!tn.isAligned(at, size)) {
    env.fail(
      `misaligned ${desc}access off ${tn.tnumString(reg.varOff)}+${reg.off}+${off} size ${size}`,
      `a ${size}-byte access must be ${size}-byte aligned here`,
    );
  }
}

// ---- bounded regions (map values, memory) ----

function regionFault(env: Env, regno: number, off: number, size: number, memSize: number): string {
  const reg = env.reg(regno);
  switch (baseOf(reg.type)) {
    case T.PTR_TO_MAP_KEY:
      return `invalid access to map key, key_size=${memSize} off=${off} size=${size}`;
    case T.PTR_TO_MAP_VALUE:
      return `invalid access to map value, value_size=${memSize} off=${off} size=${size}`;
    default:
      return `invalid access to memory, mem_size=${memSize} off=${off} size=${size}`;
  }
}

const accessOk = (off: U64s, size: number, memSize: number, zeroOk: boolean): boolean =>
  (size > 0 || (size === 0 && zeroOk)) &&
  !u.isNeg(off) &&
  u.leU(u.add(off, u.fromNumber(size)), u.fromNumber(memSize));
type U64s = u.U64;

/**
 * [reg + off, reg + off + size) lies in [0, memSize) for every value of reg's variable offset
 * (check_mem_region_access).
 */
export function checkMemRegion(
  env: Env,
  regno: number,
  off: number,
  size: number,
  memSize: number,
  zeroOk: boolean,
  what: string,
): void {
  const reg = env.reg(regno);
  const offU = u.fromS32(off);
  const lowest = u.add(reg.smin, offU);
  if (u.isNeg(reg.smin) && (u.eq(reg.smin, u.S64_MIN) || !fitsS32(lowest) || u.isNeg(lowest))) {
    env.fail(
      `R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`,
      `the index into ${what} may be negative: check it (if (i >= 0)) or make it unsigned`,
    );
  }
  if (!accessOk(lowest, size, memSize, zeroOk)) {
    env.fail(
      `${regionFault(env, regno, u.toSafeS(lowest) ?? off, size, memSize)}\nR${regno} min value is outside of the allowed memory range`,
      boundsHint(what, memSize, u.toSafeS(lowest) ?? off, size),
    );
  }
  if (u.geU(reg.umax, u.fromNumber(MAX_VAR_OFF))) {
    env.fail(
      `R${regno} unbounded memory access, make sure to bounds check any such access`,
      `the offset into ${what} has no upper bound: check it against the size (if (i < N)) first`,
    );
  }
  const highest = u.add(reg.umax, offU);
  if (!accessOk(highest, size, memSize, zeroOk)) {
    env.fail(
      `${regionFault(env, regno, u.toSafeS(highest) ?? off, size, memSize)}\nR${regno} max value is outside of the allowed memory range`,
      `the largest possible offset ${u.toSafeS(highest)} + ${size} bytes runs past the ${memSize} bytes of ${what}: tighten the bounds check`,
    );
  }
}

const fitsS32 = (v: u.U64): boolean =>
  u.leS(u.fromS32(-0x80000000), v) && u.leS(v, u.fromS32(0x7fffffff));

function boundsHint(what: string, memSize: number, off: number, size: number): string {
  if (off < 0) return `the access starts ${-off} bytes before ${what}`;
  return `${what} has ${memSize} bytes; this access reads or writes bytes ${off}..${off + size - 1}`;
}

/** Map values may be read-only or write-only for programs (check_map_access_type). */
function checkMapAccessType(env: Env, regno: number, off: number, size: number, t: Access): void {
  const map = env.reg(regno).map!;
  if (t === Access.WRITE && map.flags & BPF_F_RDONLY_PROG) {
    env.fail(
      `write into map forbidden, value_size=${map.valueSize} off=${off} size=${size}`,
      "the map was created read-only for programs (BPF_F_RDONLY_PROG, e.g. .rodata)",
    );
  }
  if (t === Access.READ && map.flags & BPF_F_WRONLY_PROG) {
    env.fail(
      `read from map forbidden, value_size=${map.valueSize} off=${off} size=${size}`,
      "the map was created write-only for programs (BPF_F_WRONLY_PROG)",
    );
  }
}

/** A constant read from a frozen read-only map whose contents are known. */
function readFrozenValue(
  reg: RegState,
  off: number,
  size: number,
  sx: boolean,
): RegState | undefined {
  const map = reg.map;
  if (!map?.value || !map.frozen || !(map.flags & BPF_F_RDONLY_PROG) || !tn.isConst(reg.varOff))
    return undefined;
  const at = off + reg.varOff.value.lo;
  if (at < 0 || at + size > map.value.length) return undefined;
  let lo = 0;
  let hi = 0;
  for (let i = size - 1; i >= 0; i--) {
    const b = map.value[at + i]!;
    if (i >= 4) hi = (hi << 8) | b;
    else lo = ((lo << 8) | b) >>> 0;
  }
  let v = u.u64(hi, lo);
  if (sx && size < 8) {
    const bits = 64 - size * 8;
    v = u.sar(u.shl(v, bits), bits);
  }
  return knownScalar(v);
}

// ---- stack ----

/** check_stack_access_within_bounds: [off, off + size) inside the 512-byte frame. */
function checkStackBounds(
  env: Env,
  regno: number,
  off: number,
  size: number,
  t: Access | "helper",
): void {
  const reg = env.reg(regno);
  const extra = t === Access.READ ? " read from" : t === Access.WRITE ? " write to" : " read from";
  let minOff: number;
  let maxOff: number;
  if (tn.isConst(reg.varOff)) {
    minOff = (reg.varOff.value.lo | 0) + off;
    maxOff = minOff + size;
  } else {
    if (u.geS(reg.smax, u.fromNumber(MAX_VAR_OFF)) || u.leS(reg.smin, u.fromNumber(-MAX_VAR_OFF))) {
      env.fail(
        `invalid unbounded variable-offset${extra} stack R${regno}`,
        "the stack offset has no bounds: check the index first",
      );
    }
    minOff = (u.toSafeS(reg.smin) ?? 0) + off;
    maxOff = (u.toSafeS(reg.smax) ?? 0) + off + size;
  }
  const frame = frameOf(env, reg);
  const minValid =
    t === Access.WRITE || env.allowUninitStack ? -MAX_BPF_STACK : -frame.allocatedStack;
  if (minOff < minValid || minOff > -1 || maxOff > 0 || size < 0) {
    // A start outside the frame is EACCES; an end past the frame pointer EINVAL.
    const errno = minOff < minValid || minOff > -1 ? 13 : 22;
    const hint =
      minOff < -MAX_BPF_STACK
        ? `the stack frame is ${MAX_BPF_STACK} bytes: fp${minOff} is below it`
        : maxOff > 0
          ? "the stack lies below r10: offsets must be negative and the access must end at or below fp-0"
          : "unprivileged programs may only read stack they wrote";
    if (tn.isConst(reg.varOff))
      env.fail(`invalid${extra} stack R${regno} off=${off} size=${size}`, hint, errno);
    env.fail(
      `invalid variable-offset${extra} stack R${regno} var_off=${tn.tnumString(reg.varOff)} off=${off} size=${size}`,
      hint,
      errno,
    );
  }
  growStack(env, frame, -minOff);
}

function setSlot(frame: FuncState, spi: number, slot: StackSlot): void {
  frame.stack[spi] = slot;
}

/** A byte of a destroyed spill becomes data unless it was never written (scrub_spilled_slot). */
const scrub = (t: number): number => (t === STACK_INVALID ? STACK_INVALID : STACK_MISC);

/** The slot's types with every byte scrubbed. */
function scrubAll(types: number): number {
  for (let i = 0; i < 8; i++) types = withType(types, i, scrub((types >>> (2 * i)) & 3));
  return types;
}

function checkStackWriteFixed(
  env: Env,
  frame: FuncState,
  off: number,
  size: number,
  valueRegno: number,
): void {
  const slotIdx = -off - 1;
  const spi = (slotIdx / BPF_REG_SIZE) | 0;
  const cur = env.cur.frame;
  const old = frame.slot(spi);
  const insn = env.insns[env.insnIdx]!;
  const isSt = op.classOf(insn.code) === op.BPF_ST;
  const value = valueRegno >= 0 ? cur.regs[valueRegno]! : undefined;
  env.scratch.slot(spi);
  if (!env.priv && old.isSpill && !old.isSpilledScalar && size !== BPF_REG_SIZE) {
    env.fail(
      "attempt to corrupt spilled pointer on stack",
      "part of a spilled pointer would be overwritten",
    );
  }
  const aligned = off % BPF_REG_SIZE === 0;
  if (value && aligned && value.isScalar && env.priv) {
    // A scalar spill keeps the register's knowledge (and links the copies when it fits).
    const fits = u.fls(value.umax) <= 8 * size;
    let spilled = value;
    if (fits && !value.id && !tn.isConst(value.varOff)) {
      spilled = value.clone();
      spilled.id = env.newId();
      cur.regs[valueRegno] = spilled;
    } else if (!fits && value.id) {
      spilled = value.clone();
      spilled.id = 0;
    }
    saveSpill(env, frame, spi, spilled, size, old);
    return;
  }
  if (!value && aligned && isSt && env.priv) {
    saveSpill(env, frame, spi, knownScalar(u.fromS32(insn.imm)), size, old);
    return;
  }
  if (value && value.isPointer) {
    if (size !== BPF_REG_SIZE) {
      env.fail(
        "invalid size of register spill",
        "a pointer must be spilled as 8 bytes to an 8-byte aligned slot",
      );
    }
    if (frame !== cur && value.type === T.PTR_TO_STACK) {
      env.fail(
        "cannot spill pointers to stack into stack frame of the caller",
        "a callee may not store its stack pointers in its caller's frame",
      );
    }
    saveSpill(env, frame, spi, value, size, old);
    return;
  }
  // Plain data: destroys a spill in the slot; zeros are remembered as zeros.
  let types = old.isSpill ? scrubAll(old.types) : old.types;
  let type = STACK_MISC;
  if ((value && isKnownZero(value)) || (!value && isSt && insn.imm === 0)) {
    if (value) markRegPrecise(env, valueRegno);
    type = STACK_ZERO;
  }
  for (let i = 0; i < size; i++) types = withType(types, (slotIdx - i) % BPF_REG_SIZE, type);
  setSlot(frame, spi, new StackSlot(types, undefined));
}

/** save_register_state: a spill of `size` bytes at the slot's start. */
function saveSpill(
  env: Env,
  frame: FuncState,
  spi: number,
  reg: RegState,
  size: number,
  old: StackSlot,
): void {
  let types = old.types;
  for (let i = BPF_REG_SIZE; i > BPF_REG_SIZE - size; i--)
    types = withType(types, i - 1, STACK_SPILL);
  // Bytes above a narrow spill become data, unless they were zero (or unwritten, for root).
  for (let i = BPF_REG_SIZE - size; i > 0; i--) {
    const t = (old.types >>> (2 * (i - 1))) & 3;
    if (t === STACK_ZERO || (t === STACK_INVALID && env.allowUninitStack)) continue;
    types = withType(types, i - 1, STACK_MISC);
  }
  setSlot(frame, spi, new StackSlot(types, reg));
  noteStackAccess(env, frame.frameno, spi);
}

function checkStackWriteVar(
  env: Env,
  frame: FuncState,
  regno: number,
  off: number,
  size: number,
  valueRegno: number,
): void {
  const reg = env.reg(regno);
  const insn = env.insns[env.insnIdx]!;
  const value = valueRegno >= 0 ? env.reg(valueRegno) : undefined;
  const writingZero =
    (value && isKnownZero(value)) ||
    (!value && op.classOf(insn.code) === op.BPF_ST && insn.imm === 0);
  const minOff = (u.toSafeS(reg.smin) ?? 0) + off;
  const maxOff = (u.toSafeS(reg.smax) ?? 0) + off + size;
  let zeroUsed = false;
  for (let i = minOff; i < maxOff; i++) {
    const slotIdx = -i - 1;
    const spi = (slotIdx / BPF_REG_SIZE) | 0;
    const b = slotIdx % BPF_REG_SIZE;
    const slot = frame.slot(spi);
    const t = slot.typeAt(b);
    env.scratch.slot(spi);
    if (!env.priv && t !== STACK_MISC && t !== STACK_ZERO) {
      env.fail(
        `spilled ptr in range of var-offset stack write; insn ${env.insnIdx}, ptr off: ${i}`,
        "a variable-offset store could overwrite a spilled register",
      );
    }
    if (
      writingZero &&
      t === STACK_SPILL &&
      slot.isSpilledScalar &&
      tn.equalsConst(slot.spilled!.varOff, u.ZERO)
    ) {
      zeroUsed = true;
      continue;
    }
    let types = slot.isSpill ? scrubAll(slot.types) : slot.types;
    let newType = STACK_MISC;
    if (writingZero && t === STACK_ZERO) {
      newType = STACK_ZERO;
      zeroUsed = true;
    }
    if (t === STACK_INVALID && !env.allowUninitStack) {
      env.fail(
        `uninit stack in range of var-offset write prohibited for !root; insn ${env.insnIdx}, off: ${i}`,
        "initialise the stack buffer before writing to it at a variable offset",
      );
    }
    types = withType(types, b, newType);
    setSlot(frame, spi, new StackSlot(types, undefined));
  }
  if (zeroUsed && valueRegno >= 0) markRegPrecise(env, valueRegno);
}

/** The loaded register from stack bytes that are all zero: 0, else unknown (mark_reg_stack_read). */
function stackReadValue(env: Env, frame: FuncState, minOff: number, maxOff: number): RegState {
  for (let i = minOff; i < maxOff; i++) {
    const slotIdx = -i - 1;
    const spi = (slotIdx / BPF_REG_SIZE) | 0;
    env.scratch.slot(spi);
    if (frame.slot(spi).typeAt(slotIdx % BPF_REG_SIZE) !== STACK_ZERO) return unknownScalar();
  }
  return knownScalar(u.ZERO);
}

function uninitRead(env: Env, off: number, i: number, size: number): never {
  env.fail(
    `invalid read from stack off ${off}+${i} size ${size}`,
    `fp${off + i} is read before anything was written there: initialise it first`,
  );
}

function checkStackReadFixed(
  env: Env,
  frame: FuncState,
  off: number,
  size: number,
  dstRegno: number,
): void {
  const slotIdx = -off - 1;
  const spi = (slotIdx / BPF_REG_SIZE) | 0;
  const slot = frame.slot(spi);
  env.scratch.slot(spi);
  const cur = env.cur.frame;
  if (slot.isSpill) {
    const spillSize = slot.spillSize;
    const spilled = slot.spilled!;
    if (size !== BPF_REG_SIZE || spillSize !== BPF_REG_SIZE) {
      if (spilled.type !== T.SCALAR_VALUE) {
        env.fail("invalid size of register fill", "a spilled pointer must be read back as 8 bytes");
      }
      if (dstRegno < 0) return;
      if (size <= spillSize && off % BPF_REG_SIZE === 0) {
        // A narrow fill of a narrow spill gives the spilled scalar back.
        let r = spilled;
        if (
          size === 4 &&
          spillSize === 4 &&
          env.priv &&
          u.fls(spilled.umax) <= 32 &&
          !spilled.id &&
          !tn.isConst(spilled.varOff)
        ) {
          r = spilled.clone();
          r.id = env.newId();
          setSlot(frame, spi, new StackSlot(slot.types, r));
        }
        if (size !== spillSize) {
          r = r.clone();
          r.id = 0;
        }
        cur.regs[dstRegno] = r;
        noteStackAccess(env, frame.frameno, spi);
        return;
      }
      let spillCnt = 0;
      let zeroCnt = 0;
      for (let i = 0; i < size; i++) {
        const t = slot.typeAt((slotIdx - i) % BPF_REG_SIZE);
        if (t === STACK_SPILL) spillCnt++;
        else if (t === STACK_ZERO) zeroCnt++;
        else if (t === STACK_INVALID && !env.allowUninitStack) uninitRead(env, off, i, size);
      }
      if (spillCnt === size && tn.equalsConst(spilled.varOff, u.ZERO)) {
        cur.regs[dstRegno] = knownScalar(u.ZERO);
        noteStackAccess(env, frame.frameno, spi);
      } else if (zeroCnt === size) {
        cur.regs[dstRegno] = knownScalar(u.ZERO);
      } else {
        cur.regs[dstRegno] = unknownScalar();
      }
      return;
    }
    if (dstRegno >= 0) {
      // restore the spilled register
      cur.regs[dstRegno] = spilled;
      noteStackAccess(env, frame.frameno, spi);
    } else if (isPointerValue(env, spilled)) {
      env.fail(
        `leaking pointer from stack off ${off}`,
        "a spilled pointer cannot be used as a number here",
      );
    }
    return;
  }
  for (let i = 0; i < size; i++) {
    const t = slot.typeAt((slotIdx - i) % BPF_REG_SIZE);
    if (t === STACK_MISC || t === STACK_ZERO) continue;
    if (t === STACK_INVALID && env.allowUninitStack) continue;
    uninitRead(env, off, i, size);
  }
  if (dstRegno >= 0) cur.regs[dstRegno] = stackReadValue(env, frame, off, off + size);
}

function checkStackRead(
  env: Env,
  regno: number,
  off: number,
  size: number,
  dstRegno: number,
): void {
  const reg = env.reg(regno);
  const frame = frameOf(env, reg);
  if (tn.isConst(reg.varOff)) {
    checkStackReadFixed(env, frame, off + (reg.varOff.value.lo | 0), size, dstRegno);
    return;
  }
  if (dstRegno < 0) {
    env.fail(
      `variable offset stack pointer cannot be passed into helper function; var_off=${tn.tnumString(reg.varOff)} off=${off} size=${size}`,
      "use a constant stack offset here",
    );
  }
  checkStackRangeInitialized(env, regno, off, size, false, Access.READ, false);
  const minOff = (u.toSafeS(reg.smin) ?? 0) + off;
  const maxOff = (u.toSafeS(reg.smax) ?? 0) + off;
  env.cur.frame.regs[dstRegno] = stackReadValue(env, frame, minOff, maxOff + size);
}

/**
 * Stack bytes a helper reads (or, with `clobber`, may write) are in bounds and initialised
 * (check_stack_range_initialized). `raw`: the helper fills uninitialised memory itself.
 */
export function checkStackRangeInitialized(
  env: Env,
  regno: number,
  off: number,
  size: number,
  zeroOk: boolean,
  t: Access,
  raw: boolean,
): void {
  const reg = env.reg(regno);
  if (size === 0 && !zeroOk) env.fail("invalid zero-sized read", "the size must be at least 1");
  checkStackBounds(env, regno, off, size, t);
  const frame = frameOf(env, reg);
  let minOff: number;
  let maxOff: number;
  if (tn.isConst(reg.varOff)) {
    minOff = maxOff = (reg.varOff.value.lo | 0) + off;
  } else {
    if (!env.priv) {
      env.fail(
        `R${regno} variable offset stack access prohibited for !root, var_off=${tn.tnumString(reg.varOff)}`,
        "unprivileged programs pass stack buffers at constant offsets only",
      );
    }
    raw = false;
    minOff = (u.toSafeS(reg.smin) ?? 0) + off;
    maxOff = (u.toSafeS(reg.smax) ?? 0) + off;
  }
  if (raw) return;
  const clobber = t === Access.WRITE;
  for (let i = minOff; i < maxOff + size; i++) {
    const slotIdx = -i - 1;
    const spi = (slotIdx / BPF_REG_SIZE) | 0;
    const b = slotIdx % BPF_REG_SIZE;
    const slot = frame.slot(spi);
    const type = slot.typeAt(b);
    if (type === STACK_MISC) continue;
    if (type === STACK_ZERO || (type === STACK_INVALID && env.allowUninitStack)) {
      if (clobber)
        setSlot(frame, spi, new StackSlot(withType(slot.types, b, STACK_MISC), slot.spilled));
      continue;
    }
    if (slot.isSpill && (slot.isSpilledScalar || env.priv)) {
      if (clobber) setSlot(frame, spi, new StackSlot(scrubAll(slot.types), undefined));
      continue;
    }
    if (tn.isConst(reg.varOff)) {
      env.fail(
        `invalid read from stack R${regno} off ${minOff}+${i - minOff} size ${size}`,
        `the helper reads fp${i}, which was never written: initialise the buffer first`,
      );
    }
    env.fail(
      `invalid read from stack R${regno} var_off ${tn.tnumString(reg.varOff)}+${i - minOff} size ${size}`,
      "the helper may read stack that was never written: initialise the buffer first",
    );
  }
}

/** After a helper wrote `size` bytes at regno's stack pointer: the bytes are data now. */
export function markStackWritten(env: Env, regno: number, size: number): void {
  const reg = env.reg(regno);
  const frame = frameOf(env, reg);
  const start = (reg.varOff.value.lo | 0) + reg.off;
  for (let i = 0; i < size; i++) {
    const at = start + i;
    const slotIdx = -at - 1;
    const spi = (slotIdx / BPF_REG_SIZE) | 0;
    const slot = frame.slot(spi);
    env.scratch.slot(spi);
    let types = slot.isSpill ? scrubAll(slot.types) : slot.types;
    types = withType(types, slotIdx % BPF_REG_SIZE, STACK_MISC);
    setSlot(frame, spi, new StackSlot(types, undefined));
  }
}

// ---- the dispatcher ----

function regionOf(reg: RegState): AccessRegion {
  switch (baseOf(reg.type)) {
    case T.PTR_TO_STACK:
      return "stack";
    case T.PTR_TO_CTX:
      return "ctx";
    case T.PTR_TO_MAP_VALUE:
      return "map_value";
    case T.PTR_TO_MAP_KEY:
      return "map_key";
    case T.PTR_TO_MEM:
      return reg.type & MEM_RINGBUF ? "ringbuf_mem" : "mem";
    default:
      return "packet";
  }
}

/**
 * check_mem_access: a load (t = READ, result into valueRegno) or store (t = WRITE of valueRegno,
 * or of the instruction's immediate when valueRegno < 0) of `size` bytes at reg + off.
 */
export function checkMemAccess(
  env: Env,
  regno: number,
  off: number,
  size: number,
  t: Access,
  valueRegno: number,
  strictOnce: boolean,
  sx: boolean,
): void {
  const reg = env.reg(regno);
  checkAlignment(env, reg, off, size, strictOnce);
  off += reg.off;
  const value = valueRegno >= 0 ? env.reg(valueRegno) : undefined;
  const cur = env.cur.frame;
  switch (reg.type) {
    case T.PTR_TO_MAP_VALUE: {
      if (t === Access.WRITE && value && isPointerValue(env, value)) {
        env.fail(
          `R${valueRegno} leaks addr into map`,
          "unprivileged programs may not store pointers in maps",
        );
      }
      checkMapAccessType(env, regno, off, size, t);
      checkMemRegion(
        env,
        regno,
        off,
        size,
        reg.map!.valueSize,
        false,
        `the map value (${reg.map!.valueSize} bytes)`,
      );
      if (t === Access.READ && valueRegno >= 0) {
        cur.regs[valueRegno] = readFrozenValue(reg, off, size, sx) ?? unknownScalar();
      }
      break;
    }
    case T.PTR_TO_MAP_KEY:
      if (t === Access.WRITE)
        env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`, "map keys are read-only");
      checkMemRegion(env, regno, off, size, reg.map!.keySize, false, "the map key");
      if (valueRegno >= 0) cur.regs[valueRegno] = unknownScalar();
      break;
    case T.PTR_TO_CTX: {
      if (t === Access.WRITE && value && isPointerValue(env, value)) {
        env.fail(`R${valueRegno} leaks addr into ctx`, "pointers cannot be stored in the context");
      }
      checkPtrOffReg(env, reg, regno);
      const field = ctxAccess(env.opts.progType, off, size, t === Access.WRITE);
      if (!field) {
        env.fail(
          `invalid bpf_context access off=${off} size=${size}`,
          `the context is ${ctxName(env.opts.progType)}`,
        );
      }
      if (t === Access.READ && valueRegno >= 0) {
        if (field.regType === T.SCALAR_VALUE) cur.regs[valueRegno] = unknownScalar();
        else {
          const p = knownScalar(u.ZERO);
          p.type = field.regType;
          p.id = env.newId();
          cur.regs[valueRegno] = p;
        }
      }
      break;
    }
    case T.CONST_PTR_TO_MAP:
      checkPtrToMapAccess(env, reg, regno, off, t);
      break;
    case T.PTR_TO_STACK: {
      checkStackBounds(env, regno, off, size, t);
      if (t === Access.READ) checkStackRead(env, regno, off, size, valueRegno);
      else {
        const frame = frameOf(env, reg);
        if (tn.isConst(reg.varOff))
          checkStackWriteFixed(env, frame, off + (reg.varOff.value.lo | 0), size, valueRegno);
        else checkStackWriteVar(env, frame, regno, off, size, valueRegno);
      }
      break;
    }
    default:
      if (baseOf(reg.type) === T.PTR_TO_MEM && !mayBeNull(reg.type)) {
        if (t === Access.WRITE && reg.type & MEM_RDONLY) {
          env.fail(
            `R${regno} cannot write into ${regTypeStr(reg.type)}`,
            "this memory is read-only",
          );
        }
        if (t === Access.WRITE && value && isPointerValue(env, value)) {
          env.fail(
            `R${valueRegno} leaks addr into mem`,
            "unprivileged programs may not store pointers here",
          );
        }
        checkMemRegion(env, regno, off, size, reg.memSize, false, `the ${reg.memSize}-byte record`);
        if (t === Access.READ && valueRegno >= 0) cur.regs[valueRegno] = unknownScalar();
        break;
      }
      env.fail(`R${regno} invalid mem access '${regTypeStr(reg.type)}'`, invalidAccessHint(reg));
  }
  recordAccess(env.facts[env.insnIdx]!, regionOf(reg));
  if (size < BPF_REG_SIZE && valueRegno >= 0 && t === Access.READ) {
    const r = cur.regs[valueRegno]!;
    if (r.type === T.SCALAR_VALUE) {
      const c = r.clone();
      if (sx) coerceToSizeSx(c, size);
      else coerceToSize(c, size);
      cur.regs[valueRegno] = c;
    }
  }
}

/** The kernel struct behind a map of each type (what its ops name as map_btf_id). */
function mapStructName(mapType: number): string {
  const M = BpfMapType;
  switch (mapType) {
    case M.BPF_MAP_TYPE_HASH:
    case M.BPF_MAP_TYPE_PERCPU_HASH:
    case M.BPF_MAP_TYPE_LRU_HASH:
    case M.BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case M.BPF_MAP_TYPE_HASH_OF_MAPS:
      return "bpf_htab";
    case M.BPF_MAP_TYPE_RINGBUF:
    case M.BPF_MAP_TYPE_USER_RINGBUF:
      return "bpf_ringbuf_map";
    case M.BPF_MAP_TYPE_STACK_TRACE:
      return "bpf_stack_map";
    case M.BPF_MAP_TYPE_QUEUE:
    case M.BPF_MAP_TYPE_STACK:
      return "bpf_queue_stack";
    case M.BPF_MAP_TYPE_LPM_TRIE:
      return "lpm_trie";
    case M.BPF_MAP_TYPE_BLOOM_FILTER:
      return "bpf_bloom_filter";
    default:
      return "bpf_array";
  }
}

/**
 * check_ptr_to_map_access: the kernel reads `struct bpf_map` fields (max_entries, ...) through
 * a map pointer by the running kernel's BTF. Without that BTF only the refusals are modelled.
 */
function checkPtrToMapAccess(env: Env, reg: RegState, regno: number, off: number, t: Access): void {
  const name = mapStructName(reg.map!.type);
  if (off < 0) {
    env.fail(
      `R${regno} is ${name} invalid negative access: off=${off}`,
      "fields of a map are read at non-negative offsets",
    );
  }
  if (t !== Access.READ) {
    env.fail(`only read from ${name} is supported`, "a map's own fields are read-only");
  }
  env.fail(
    `map_ptr access to 'struct ${name}' needs the kernel's BTF, which this verifier does not have`,
    "read map properties through helpers, or keep max_entries in a global constant",
  );
}

function invalidAccessHint(reg: RegState): string {
  if (mayBeNull(reg.type)) {
    return baseOf(reg.type) === T.PTR_TO_MAP_VALUE
      ? "the pointer returned by bpf_map_lookup_elem may be NULL: check it before this access"
      : "the pointer may be NULL: compare it with 0 before this access";
  }
  if (reg.type === T.SCALAR_VALUE) return "this register holds a number, not a pointer";
  if (reg.type === T.CONST_PTR_TO_MAP)
    return "a map is used through helpers (bpf_map_lookup_elem), not dereferenced";
  return `memory behind a ${regTypeStr(reg.type)} pointer cannot be accessed directly`;
}

/** Context pointers are used unmodified; the instruction's offset selects the field. */
function checkPtrOffReg(env: Env, reg: RegState, regno: number): void {
  const type = regTypeStr(reg.type);
  if (reg.off < 0) {
    env.fail(
      `negative offset ${type} ptr R${regno} off=${reg.off} disallowed`,
      "the context cannot be indexed backwards",
    );
  }
  if (reg.off) {
    env.fail(
      `dereference of modified ${type} ptr R${regno} off=${reg.off} disallowed`,
      "use the unmodified context pointer with the field's offset in the load itself",
    );
  }
  if (!tn.isConst(reg.varOff) || !u.isZero(reg.varOff.value)) {
    env.fail(
      `variable ${type} access var_off=${tn.tnumString(reg.varOff)} disallowed`,
      "context fields must be selected by a constant offset",
    );
  }
}
