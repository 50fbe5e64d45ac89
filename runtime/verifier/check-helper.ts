// Helper calls (check_helper_call): the helper must exist and be allowed for the program type
// and license; every argument is checked against the prototype (types, the memory a pointer
// argument covers with its size argument, map keys and values of the map argument, references
// to release); then r1-r5 are clobbered and r0 gets the return type.
import type { Insn } from "../isa/insn.js";
import { BpfFunc, BpfMapType, mapTypeName } from "../uapi/index.js";
import {
  ArgType,
  baseType as argBase,
  __BPF_FUNC_MAX_ID,
  helperFuncName,
  helperMapCompatible,
  helperProto,
  MEM_RDONLY as ARG_MEM_RDONLY,
  MEM_UNINIT,
  MEM_WRITE,
  OBJ_RELEASE,
  PTR_MAYBE_NULL as ARG_MAYBE_NULL,
  RetType,
  type HelperProto,
} from "../uapi/helpers.js";
import { BPF_F_RDONLY_PROG } from "../uapi/bpf.js";
import { isKnownZero, knownScalar, regBoundsSync, unknownScalar } from "./bounds.js";
import { isPointerValue } from "./check-alu.js";
import {
  Access,
  checkMemRegion,
  checkStackRangeInitialized,
  frameOf,
  markStackWritten,
} from "./check-mem.js";
import { type Env, RegArg } from "./env.js";
import { pushCallbackCall, setLoopCallbackState, setMapElemCallbackState } from "./callback.js";
import { markRegPrecise, markSlotPrecise } from "./precision.js";
import {
  baseOf,
  MEM_RDONLY,
  MEM_RINGBUF,
  PTR_MAYBE_NULL,
  PTR_TRUSTED,
  RegState,
  RegType,
  regTypeStr,
} from "./reg.js";
import type { MapInfo } from "./reg.js";
import { BPF_REG_SIZE, NOT_INIT, STACK_SPILL, STACK_ZERO, StackSlot } from "./state.js";
import * as tn from "./tnum.js";
import * as u from "./u64.js";

const T = RegType;
const A = ArgType;
const F = BpfFunc;

/** BPF_MAX_VAR_SIZ: the largest size a helper's memory argument may have. */
const MAX_VAR_SIZ = 1 << 29;
const MAX_ERRNO = 4095;
const EFAULT = 14;

// What each argument kind accepts (compatible_reg_types), in the kernel's order.
const MEM_TYPES = [
  T.PTR_TO_STACK,
  T.PTR_TO_PACKET,
  T.PTR_TO_PACKET_META,
  T.PTR_TO_MAP_KEY,
  T.PTR_TO_MAP_VALUE,
  T.PTR_TO_MEM,
  T.PTR_TO_MEM | MEM_RINGBUF,
  T.PTR_TO_BUF,
  T.PTR_TO_BTF_ID | PTR_TRUSTED,
];
const COMPATIBLE: Record<number, number[]> = {
  [A.ARG_PTR_TO_MAP_KEY]: MEM_TYPES,
  [A.ARG_PTR_TO_MAP_VALUE]: MEM_TYPES,
  [A.ARG_PTR_TO_MEM]: MEM_TYPES,
  [A.ARG_PTR_TO_LONG]: MEM_TYPES,
  [A.ARG_CONST_SIZE]: [T.SCALAR_VALUE],
  [A.ARG_CONST_SIZE_OR_ZERO]: [T.SCALAR_VALUE],
  [A.ARG_CONST_ALLOC_SIZE_OR_ZERO]: [T.SCALAR_VALUE],
  [A.ARG_CONST_MAP_PTR]: [T.CONST_PTR_TO_MAP],
  [A.ARG_PTR_TO_CTX]: [T.PTR_TO_CTX],
  [A.ARG_PTR_TO_RINGBUF_MEM]: [T.PTR_TO_MEM | MEM_RINGBUF],
  [A.ARG_PTR_TO_STACK]: [T.PTR_TO_STACK],
  [A.ARG_PTR_TO_FUNC]: [T.PTR_TO_FUNC],
  [A.ARG_PTR_TO_CONST_STR]: [T.PTR_TO_MAP_VALUE],
  [A.ARG_PTR_TO_BTF_ID]: [T.PTR_TO_BTF_ID, T.PTR_TO_BTF_ID | PTR_TRUSTED],
  [A.ARG_PTR_TO_TIMER]: [T.PTR_TO_MAP_VALUE],
  [A.ARG_PTR_TO_SPIN_LOCK]: [T.PTR_TO_MAP_VALUE],
};

/** What one call's arguments established (struct bpf_call_arg_meta). */
interface CallMeta {
  map?: MapInfo;
  /** MEM_UNINIT stack memory the helper fills: its register and size */
  rawRegno: number;
  rawSize: number;
  rawMode: boolean;
  releaseRegno: number;
  refObjId: number;
  memSize: number;
  msizeMaxValue: u.U64;
  constMapKey: number;
  /** ARG_PTR_TO_FUNC: the callback's subprogram */
  subprogno: number;
}

const GPL_LICENSES = new Set([
  "GPL",
  "GPL v2",
  "GPL and additional rights",
  "Dual BSD/GPL",
  "Dual MIT/GPL",
  "Dual MPL/GPL",
]);

/** license_is_gpl_compatible(). */
export const licenseIsGplCompatible = (license: string): boolean => GPL_LICENSES.has(license);

/** Helpers the 4.1 kernel knew, and which a kprobe program could call. */
const HELPERS_4_1 = 12;

export function checkHelperCall(env: Env, insn: Insn): void {
  const id = insn.imm;
  const name = id === 0 ? "bpf_unspec" : helperFuncName(id);
  const fact = env.facts[env.insnIdx]!;
  fact.helper = id;
  if (!env.modern) {
    if (id <= 0 || id >= HELPERS_4_1)
      env.fail(`invalid func ${id}`, "this kernel (4.1) has helpers 1 to 11 only");
  }
  if (id < 0 || id >= __BPF_FUNC_MAX_ID)
    env.fail(`invalid func ${name}#${id}`, "there is no helper with this number");
  const proto = helperProto(env.opts.progType, id, {
    ...env.opts.helperContext,
    expectedAttachType: env.opts.expectedAttachType,
  });
  if (!proto) {
    env.fail(
      // 6.1 and older say "unknown func"; later kernels name the program type's refusal
      env.opts.kernel === "6.18"
        ? `program of this type cannot use helper ${name}#${id}`
        : `unknown func ${name}#${id}`,
      `${name} is not available to this program type`,
    );
  }
  if (!env.opts.gplCompatible && proto.gplOnly) {
    env.fail(
      "cannot call GPL-restricted function from non-GPL compatible program",
      `${name} is GPL-only: declare a GPL-compatible license (e.g. char LICENSE[] SEC("license") = "GPL")`,
    );
  }
  if (proto.mightSleep) {
    env.fail(
      "helper call might sleep in a non-sleepable prog",
      `${name} may sleep: only sleepable programs may call it`,
    );
  }
  const meta: CallMeta = {
    rawRegno: -1,
    rawSize: 0,
    rawMode: false,
    releaseRegno: 0,
    refObjId: 0,
    memSize: 0,
    msizeMaxValue: u.ZERO,
    constMapKey: -1,
    subprogno: -1,
  };
  for (let arg = 0; arg < 5; arg++) checkFuncArg(env, arg, meta, proto, id);
  recordFuncMap(env, meta, id);
  recordFuncKey(env, meta, id);
  // Stack the helper fills: the bytes are data now.
  if (meta.rawRegno >= 0 && meta.rawSize > 0) markStackWritten(env, meta.rawRegno, meta.rawSize);
  if (meta.releaseRegno) {
    if (meta.refObjId) releaseReference(env, meta.refObjId);
    else if (!isKnownZero(env.reg(meta.releaseRegno))) {
      env.fail(
        `func ${name}#${id} reference has not been acquired before`,
        "only what was reserved can be released",
      );
    }
  }
  if (id === F.BPF_FUNC_tail_call) checkReferenceLeak(env, "tail_call");
  if (meta.subprogno >= 0) callbackCall(env, id, meta.subprogno);
  // r0-r5 are clobbered by the call.
  for (let r = 0; r <= 5; r++) {
    env.markRegNotInit(r);
    env.scratch.reg(r);
  }
  setReturnValue(env, proto, id, meta);
  if (
    meta.map &&
    !helperMapCompatible(id, meta.map.type, env.opts.progType, env.opts.expectedAttachType)
  ) {
    env.fail(
      `cannot pass map_type ${meta.map.type} into func ${name}#${id}`,
      `${name} does not work on a ${mapTypeName(meta.map.type) ?? "map of type " + meta.map.type}`,
    );
  }
}

function checkFuncArg(env: Env, arg: number, meta: CallMeta, proto: HelperProto, id: number): void {
  const regno = arg + 1;
  const argType = proto.args[arg] ?? A.ARG_DONTCARE;
  if (argType === A.ARG_DONTCARE) return;
  env.checkRegArg(regno, RegArg.SRC);
  const reg = env.reg(regno);
  const base = argBase(argType);
  if (argType === A.ARG_ANYTHING) {
    if (isPointerValue(env, reg)) {
      env.fail(
        `R${regno} leaks addr into helper function`,
        "unprivileged programs may not pass pointers here",
      );
    }
    return;
  }
  const nullOk = (argType & ARG_MAYBE_NULL) !== 0 && isKnownZero(reg);
  if (!nullOk) {
    checkRegType(env, regno, argType);
    checkArgRegOff(env, reg, regno, argType);
  }
  if (argType & OBJ_RELEASE) {
    if (!reg.refObjId && !isKnownZero(reg)) {
      env.fail(
        `R${regno} must be referenced when passed to release function`,
        "pass the pointer returned by bpf_ringbuf_reserve, unmodified",
      );
    }
    meta.releaseRegno = regno;
  }
  if (reg.refObjId) {
    if (meta.refObjId) {
      env.fail(
        `more than one arg with ref_obj_id R${regno} ${reg.refObjId} ${meta.refObjId}`,
        "one reference per call",
      );
    }
    meta.refObjId = reg.refObjId;
  }
  const name = helperFuncName(id);
  switch (base) {
    case A.ARG_CONST_MAP_PTR:
      meta.map = reg.map;
      return;
    case A.ARG_PTR_TO_MAP_KEY: {
      if (!meta.map)
        env.fail("invalid map_ptr to access map->key", "the map argument must come first");
      checkHelperMemAccess(
        env,
        regno,
        meta.map.keySize,
        Access.READ,
        false,
        undefined,
        "the map key",
      );
      if (
        meta.map.type === BpfMapType.BPF_MAP_TYPE_ARRAY ||
        meta.map.type === BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY
      ) {
        meta.constMapKey = constantMapKey(env, reg, meta.map.keySize);
      }
      return;
    }
    case A.ARG_PTR_TO_MAP_VALUE: {
      if (nullOk) return;
      if (!meta.map)
        env.fail("invalid map_ptr to access map->value", "the map argument must come first");
      meta.rawMode = (argType & MEM_UNINIT) !== 0;
      checkHelperMemAccess(
        env,
        regno,
        meta.map.valueSize,
        argType & MEM_WRITE ? Access.WRITE : Access.READ,
        false,
        meta,
        "the map value",
      );
      return;
    }
    case A.ARG_PTR_TO_MEM:
      // Checked together with the size argument that follows.
      if (argType & MEM_UNINIT) meta.rawMode = true;
      return;
    case A.ARG_CONST_SIZE:
    case A.ARG_CONST_SIZE_OR_ZERO: {
      const memArg = proto.args[arg - 1] ?? 0;
      checkMemSizeReg(
        env,
        reg,
        regno,
        memArg & MEM_WRITE ? Access.WRITE : Access.READ,
        base === A.ARG_CONST_SIZE_OR_ZERO,
        meta,
        name,
      );
      return;
    }
    case A.ARG_CONST_ALLOC_SIZE_OR_ZERO:
      if (!tn.isConst(reg.varOff)) {
        env.fail(
          `R${regno} is not a known constant'`,
          `the size given to ${name} must be a constant`,
        );
      }
      meta.memSize = reg.varOff.value.lo;
      markRegPrecise(env, regno);
      return;
    case A.ARG_PTR_TO_LONG:
      checkHelperMemAccess(env, regno, 8, Access.READ, false, meta, "the result buffer");
      return;
    case A.ARG_PTR_TO_CONST_STR:
      checkConstStr(env, reg, regno);
      return;
    case A.ARG_PTR_TO_FUNC:
      meta.subprogno = reg.subprogno;
      return;
    case A.ARG_PTR_TO_TIMER:
    case A.ARG_PTR_TO_SPIN_LOCK:
      env.fail(
        `${name}#${id}: callbacks, timers and spin locks are not supported by this verifier`,
        "bpf_loop, timers and spin locks need BTF-described map values and callback verification",
      );
  }
}

/**
 * A helper that calls back into the program (the callback part of check_helper_call): bpf_loop
 * enters its callback while the visits at this call are fewer than nr_loops can be;
 * bpf_for_each_map_elem every time, until the states converge.
 */
function callbackCall(env: Env, id: number, subprog: number): void {
  switch (id) {
    case F.BPF_FUNC_loop: {
      updateLoopInlineState(env, subprog);
      // Whether the iteration is finished depends on r1's exact value; the kernel's precision
      // tracking refuses a pointer there (its bounds would say 0 iterations).
      if (env.reg(1).type !== T.SCALAR_VALUE) {
        env.fail(
          "verifier bug: backtracking misuse",
          "bpf_loop's first argument, the number of iterations, must be a number",
          EFAULT,
        );
      }
      markRegPrecise(env, 1);
      const frame = env.cur.frame;
      if (u.ltU(u.fromNumber(frame.callbackDepth), env.reg(1).umax)) {
        pushCallbackCall(env, subprog, setLoopCallbackState);
      } else {
        frame.callbackDepth = 0;
        if (env.level >= 2)
          env.verbose(`frame${env.cur.curframe} bpf_loop iteration limit reached\n`);
      }
      return;
    }
    case F.BPF_FUNC_for_each_map_elem:
      pushCallbackCall(env, subprog, setMapElemCallbackState);
      return;
    default:
      env.fail(
        `${helperFuncName(id)}#${id}: callbacks of this helper are not supported by this verifier`,
        "bpf_loop and bpf_for_each_map_elem are the callback helpers modelled",
      );
  }
}

/**
 * update_loop_inline_state: the kernel inlines bpf_loop when every visit passes flags 0 and the
 * same callback; a zero flags register is marked precise for that.
 */
function updateLoopInlineState(env: Env, subprog: number): void {
  const fact = env.facts[env.insnIdx]!;
  const zeroFlags = (): boolean => {
    const isZero = isKnownZero(env.reg(4));
    if (isZero) markRegPrecise(env, 4);
    return isZero;
  };
  if (fact.loopInline === undefined) {
    fact.loopInline = zeroFlags() ? subprog : -1;
    return;
  }
  if (fact.loopInline < 0) return;
  if (!(zeroFlags() && fact.loopInline === subprog)) fact.loopInline = -1;
}

/** check_reg_type: the register's type is one the argument kind accepts. */
function checkRegType(env: Env, regno: number, argType: number): void {
  const reg = env.reg(regno);
  const compatible = COMPATIBLE[argBase(argType)];
  if (!compatible) {
    env.fail(
      `verifier internal error: unsupported arg type ${argType}`,
      "this helper argument kind is not modelled",
    );
  }
  let type = reg.type;
  if (argType & ARG_MEM_RDONLY) type &= ~MEM_RDONLY;
  if (argType & ARG_MAYBE_NULL) type &= ~PTR_MAYBE_NULL;
  if (compatible.includes(type)) return;
  env.fail(
    `R${regno} type=${regTypeStr(reg.type)} expected=${compatible.map(regTypeStr).join(", ")}`,
    argTypeHint(argBase(argType), reg),
  );
}

function argTypeHint(base: number, reg: RegState): string {
  if (reg.type & PTR_MAYBE_NULL) return "the pointer may be NULL: check it before passing it";
  switch (base) {
    case A.ARG_CONST_MAP_PTR:
      return "pass the map itself (lddw of the map), not a value or a pointer into it";
    case A.ARG_PTR_TO_MAP_KEY:
    case A.ARG_PTR_TO_MAP_VALUE:
    case A.ARG_PTR_TO_MEM:
      return "pass a pointer to a buffer (usually on the stack: r10 minus an offset), not a number";
    case A.ARG_PTR_TO_CTX:
      return "pass the program's context pointer (the r1 it started with)";
    case A.ARG_PTR_TO_RINGBUF_MEM:
      return "pass the record returned by bpf_ringbuf_reserve after checking it is not NULL";
    default:
      return "this argument has the wrong kind of value";
  }
}

/** check_func_arg_reg_off: most pointer arguments must be unmodified. */
function checkArgRegOff(env: Env, reg: RegState, regno: number, argType: number): void {
  if (argType & OBJ_RELEASE) {
    if (reg.off) {
      env.fail(
        `R${regno} must have zero offset when passed to release func or trusted arg to kfunc`,
        "release the pointer exactly as it was returned",
      );
    }
  }
  switch (reg.type) {
    case T.PTR_TO_STACK:
    case T.PTR_TO_PACKET:
    case T.PTR_TO_PACKET_META:
    case T.PTR_TO_MAP_KEY:
    case T.PTR_TO_MAP_VALUE:
    case T.PTR_TO_MEM:
    case T.PTR_TO_MEM | MEM_RDONLY:
    case T.PTR_TO_MEM | MEM_RINGBUF:
    case T.PTR_TO_BUF:
    case T.SCALAR_VALUE:
      if (!(argType & OBJ_RELEASE) || !reg.off) return;
  }
  const type = regTypeStr(reg.type);
  if (reg.off < 0)
    env.fail(
      `negative offset ${type} ptr R${regno} off=${reg.off} disallowed`,
      "pass it unmodified",
    );
  if (reg.off && baseOf(reg.type) !== T.PTR_TO_BTF_ID) {
    env.fail(
      `dereference of modified ${type} ptr R${regno} off=${reg.off} disallowed`,
      "pass the pointer unmodified",
    );
  }
  if (!tn.isConst(reg.varOff) || !u.isZero(reg.varOff.value)) {
    env.fail(
      `variable ${type} access var_off=${tn.tnumString(reg.varOff)} disallowed`,
      "pass the pointer unmodified",
    );
  }
}

/** check_helper_mem_access: `size` bytes at the pointer in regno are accessible. */
function checkHelperMemAccess(
  env: Env,
  regno: number,
  size: number,
  t: Access,
  zeroOk: boolean,
  meta: CallMeta | undefined,
  what: string,
): void {
  const reg = env.reg(regno);
  switch (baseOf(reg.type)) {
    case T.PTR_TO_MAP_KEY:
      if (t === Access.WRITE)
        env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`, "map keys are read-only");
      checkMemRegion(env, regno, reg.off, size, reg.map!.keySize, false, "the map key");
      return;
    case T.PTR_TO_MAP_VALUE: {
      const map = reg.map!;
      if (t === Access.WRITE && map.flags & BPF_F_RDONLY_PROG) {
        env.fail(
          `write into map forbidden, value_size=${map.valueSize} off=${reg.off} size=${size}`,
          "the map is read-only for programs",
        );
      }
      checkMemRegion(
        env,
        regno,
        reg.off,
        size,
        map.valueSize,
        zeroOk,
        `the map value (${map.valueSize} bytes)`,
      );
      return;
    }
    case T.PTR_TO_MEM:
      if (reg.type & MEM_RDONLY && t === Access.WRITE) {
        env.fail(`R${regno} cannot write into ${regTypeStr(reg.type)}`, "this memory is read-only");
      }
      checkMemRegion(
        env,
        regno,
        reg.off,
        size,
        reg.memSize,
        zeroOk,
        `the ${reg.memSize}-byte record`,
      );
      return;
    case T.PTR_TO_STACK: {
      const raw = meta?.rawMode === true;
      checkStackRangeInitialized(
        env,
        regno,
        reg.off,
        size,
        zeroOk,
        t,
        raw && tn.isConst(reg.varOff),
      );
      if (raw && tn.isConst(reg.varOff) && meta) {
        meta.rawRegno = regno;
        meta.rawSize = size;
      }
      void what;
      return;
    }
    default:
      if (zeroOk && size === 0 && isKnownZero(reg)) return;
      env.fail(
        `R${regno} type=${regTypeStr(reg.type)} expected=${regTypeStr(T.PTR_TO_STACK)}`,
        "pass a pointer to a buffer",
      );
  }
}

/** check_mem_size_reg: the size argument is bounded and the memory before it covers it. */
function checkMemSizeReg(
  env: Env,
  reg: RegState,
  regno: number,
  t: Access,
  zeroOk: boolean,
  meta: CallMeta,
  name: string,
): void {
  meta.msizeMaxValue = reg.umax;
  // A size that is not a constant: the memory must be initialised even if the helper writes it.
  const useMeta = tn.isConst(reg.varOff) ? meta : undefined;
  if (!useMeta) meta.rawMode = false;
  if (u.isNeg(reg.smin)) {
    env.fail(
      `R${regno} min value is negative, either use unsigned or 'var &= const'`,
      `the size passed to ${name} may be negative: make it unsigned or mask it`,
    );
  }
  if (u.isZero(reg.umin) && !zeroOk) {
    env.fail(
      `R${regno} invalid zero-sized read: u64=[${u.decS(reg.umin)},${u.decS(reg.umax)}]`,
      `${name} needs a size of at least 1`,
    );
  }
  if (u.geU(reg.umax, u.fromNumber(MAX_VAR_SIZ))) {
    env.fail(
      `R${regno} unbounded memory access, use 'var &= const' or 'if (var < const)'`,
      `bound the size passed to ${name} (if (n < sizeof buf) or n &= mask)`,
    );
  }
  checkHelperMemAccess(env, regno - 1, reg.umax.lo, t, zeroOk, useMeta, "the buffer");
  markRegPrecise(env, regno);
}

/** An array map key given as a constant on the stack, or -1 (get_constant_map_key). */
function constantMapKey(env: Env, key: RegState, keySize: number): number {
  if (!env.priv || env.opts.kernel !== "6.18") return -1;
  if (key.type !== T.PTR_TO_STACK || !tn.isConst(key.varOff)) return -1;
  const stackOff = key.off + (key.varOff.value.lo | 0);
  const slotIdx = -stackOff - 1;
  const spi = (slotIdx / BPF_REG_SIZE) | 0;
  const off = slotIdx % BPF_REG_SIZE;
  const frame = frameOf(env, key);
  const slot = frame.slot(spi);
  let zeros = 0;
  for (let i = off; i >= 0 && slot.typeAt(i) === STACK_ZERO; i--) zeros++;
  if (zeros >= keySize) return 0;
  if (!slot.isSpilledScalar) return -1;
  let spill = 0;
  for (let i = off; i >= 0 && slot.typeAt(i) === STACK_SPILL; i--) spill++;
  if (spill !== keySize) return -1;
  const reg = slot.spilled!;
  if (!tn.isConst(reg.varOff)) return -1;
  // The lookup's result depends on this value.
  markSlotPrecise(env, frame.frameno, spi);
  const v = reg.varOff.value;
  return v.hi === 0 && v.lo < 0x80000000 ? v.lo : -1;
}

/** ARG_PTR_TO_CONST_STR: a NUL-terminated string in a frozen read-only map. */
function checkConstStr(env: Env, reg: RegState, regno: number): void {
  const map = reg.map!;
  if (!(map.flags & BPF_F_RDONLY_PROG) || !map.frozen) {
    env.fail(
      `R${regno} does not point to a readonly map'`,
      "format strings must live in .rodata (a frozen read-only map)",
    );
  }
  if (!tn.isConst(reg.varOff)) {
    env.fail(`R${regno} is not a constant address'`, "the string must be at a constant offset");
  }
  const off = reg.off + reg.varOff.value.lo;
  if (map.value) {
    const nul = map.value.indexOf(0, off);
    if (nul < 0)
      env.fail("string is not zero-terminated", "the string in .rodata has no terminating NUL");
  }
}

/** Read-only maps refuse updates; tail calls need a program array (record_func_map/key). */
function recordFuncMap(env: Env, meta: CallMeta, id: number): void {
  const map = meta.map;
  if (!map) return;
  const writes =
    id === F.BPF_FUNC_map_delete_elem ||
    id === F.BPF_FUNC_map_update_elem ||
    id === F.BPF_FUNC_map_push_elem ||
    id === F.BPF_FUNC_map_pop_elem;
  if (writes && map.flags & BPF_F_RDONLY_PROG) {
    env.fail("write into map forbidden", "the map is read-only for programs (BPF_F_RDONLY_PROG)");
  }
}

function recordFuncKey(env: Env, meta: CallMeta, id: number): void {
  if (id !== F.BPF_FUNC_tail_call) return;
  if (!meta.map || meta.map.type !== BpfMapType.BPF_MAP_TYPE_PROG_ARRAY) {
    // The kernel prints this message without a newline.
    env.failNoNewline(
      "expected prog array map for tail call",
      "bpf_tail_call takes a BPF_MAP_TYPE_PROG_ARRAY map",
    );
  }
  const r3 = env.reg(3);
  if (
    r3.isScalar &&
    tn.isConst(r3.varOff) &&
    u.ltU(r3.varOff.value, u.fromNumber(meta.map.maxEntries))
  ) {
    markRegPrecise(env, 3);
  }
}

/** Every register holding the released reference becomes unusable (release_reference). */
export function releaseReference(env: Env, refObjId: number): void {
  const st = env.cur;
  st.refs = st.refs.filter((r) => r.id !== refObjId);
  // A privileged program may keep the value as a number; otherwise it is gone.
  const invalid = (): RegState => (env.priv ? unknownScalar() : NOT_INIT);
  for (const f of st.frames) {
    for (let r = 0; r < f.regs.length; r++) {
      if (f.regs[r]!.refObjId === refObjId) f.regs[r] = invalid();
    }
    for (let spi = 0; spi < f.stack.length; spi++) {
      const slot = f.stack[spi]!;
      if (slot.spilled?.refObjId === refObjId)
        f.stack[spi] = new StackSlot(slot.types, unknownScalar());
    }
  }
}

/** Held references at a program exit or tail call (check_reference_leak). */
export function checkReferenceLeak(env: Env, prefix: string): void {
  if (env.cur.curframe !== 0 || env.cur.refs.length === 0) return;
  for (const r of env.cur.refs)
    env.verbose(`Unreleased reference id=${r.id} alloc_insn=${r.insnIdx}\n`);
  const first = env.cur.refs[0]!;
  env.fail(
    `${prefix} would lead to reference leak`,
    `the ring buffer record reserved at insn ${first.insnIdx} is neither submitted nor discarded on this path`,
  );
}

function setReturnValue(env: Env, proto: HelperProto, id: number, meta: CallMeta): void {
  const retBase = argBase(proto.ret);
  let retFlag = proto.ret & ~0xff;
  let r0: RegState | undefined;
  switch (retBase) {
    case RetType.RET_INTEGER:
      r0 = unknownScalar();
      break;
    case RetType.RET_VOID:
      return;
    case RetType.RET_PTR_TO_MAP_VALUE: {
      if (!meta.map) env.fail("kernel subsystem misconfigured verifier", "");
      if (
        id === F.BPF_FUNC_map_lookup_elem &&
        meta.constMapKey >= 0 &&
        meta.constMapKey < meta.map.maxEntries &&
        (meta.map.type === BpfMapType.BPF_MAP_TYPE_ARRAY ||
          meta.map.type === BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY)
      ) {
        // A constant key inside an array: the value always exists.
        retFlag &= ~PTR_MAYBE_NULL;
      }
      r0 = knownScalar(u.ZERO);
      r0.type = T.PTR_TO_MAP_VALUE | (retFlag & PTR_MAYBE_NULL);
      r0.map = meta.map;
      break;
    }
    case RetType.RET_PTR_TO_MEM:
      r0 = knownScalar(u.ZERO);
      r0.type = T.PTR_TO_MEM | (retFlag & (PTR_MAYBE_NULL | MEM_RINGBUF | MEM_RDONLY));
      r0.memSize = meta.memSize;
      break;
    case RetType.RET_PTR_TO_BTF_ID:
      r0 = knownScalar(u.ZERO);
      r0.type = T.PTR_TO_BTF_ID | (retFlag & (PTR_MAYBE_NULL | PTR_TRUSTED));
      r0.btfName = proto.retBtfType ?? "";
      break;
    default:
      env.fail(
        `helper ${helperFuncName(id)}#${id} returns a value this verifier does not model`,
        "",
      );
  }
  if (r0.type & PTR_MAYBE_NULL) r0.id = env.newId();
  if (id === F.BPF_FUNC_ringbuf_reserve) {
    const ref = env.newId();
    env.cur.refs.push({ id: ref, insnIdx: env.insnIdx });
    r0.id = ref;
    r0.refObjId = ref;
  }
  refineRetvalRange(env, r0, id, meta);
  env.setReg(0, r0);
}

/** Helpers whose result is known to lie in a range (do_refine_retval_range). */
function refineRetvalRange(env: Env, r0: RegState, id: number, meta: CallMeta): void {
  switch (id) {
    case F.BPF_FUNC_get_stack:
    case F.BPF_FUNC_get_task_stack:
    case F.BPF_FUNC_probe_read_str:
    case F.BPF_FUNC_probe_read_kernel_str:
    case F.BPF_FUNC_probe_read_user_str:
      r0.smax = meta.msizeMaxValue;
      r0.s32max =
        Math.min(meta.msizeMaxValue.hi ? 0x7fffffff : meta.msizeMaxValue.lo, 0x7fffffff) | 0;
      r0.smin = u.fromS32(-MAX_ERRNO);
      r0.s32min = -MAX_ERRNO;
      regBoundsSync(r0);
      return;
    case F.BPF_FUNC_get_smp_processor_id: {
      const max = env.opts.nrCpus - 1;
      r0.umin = r0.smin = u.ZERO;
      r0.u32min = r0.s32min = 0;
      r0.umax = r0.smax = u.fromNumber(max);
      r0.u32max = r0.s32max = max;
      regBoundsSync(r0);
      return;
    }
  }
}
