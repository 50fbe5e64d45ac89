// The structural pass, before any state is walked (the kernel's add_subprog_and_kfunc,
// check_subprogs, resolve_pseudo_ldimm64 and check_cfg): subprogram boundaries, jump ranges,
// valid opcodes and lddw pairs, map references, the depth-first walk that finds unreachable
// instructions (and back-edges where loops are not allowed), and the prune points where states
// are remembered.
import { opcodeInfo } from "../isa/codec.js";
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import { BpfMapType } from "../uapi/bpf.js";
import { BpfFunc } from "../uapi/helpers.js";
import type { MapInfo } from "./reg.js";

/** A fault found by the structural pass: the kernel's message and our hint. */
export class CfgFault {
  constructor(
    readonly message: string,
    readonly hint: string,
    readonly insnIndex: number,
  ) {}
}

export interface Subprog {
  start: number;
  /** one past the last instruction */
  end: number;
  hasTailCall: boolean;
  hasLdAbs: boolean;
}

export interface CfgOptions {
  /** bounded loops allowed (a privileged loader on a kernel from 5.3 on) */
  loops: boolean;
  /** bpf-to-bpf calls known (kernels from 4.16 on) */
  calls: boolean;
  mapByFd(fd: number): MapInfo | undefined;
  /** told the subprograms once they are known (for the log) */
  onSubprogs?: (subprogs: readonly Subprog[]) => void;
}

export interface ProgramCfg {
  subprogs: Subprog[];
  /** instruction where a state is remembered for pruning (is_prune_point) */
  prunePoint: Uint8Array;
  /** a helper call that calls a callback synchronously (bpf_calls_callback): a checkpoint is
   * always taken there (is_force_checkpoint), the callback's exits come back to it */
  callsCallback: Uint8Array;
  /** map referenced by each lddw (by first slot index) */
  lddwMap: (MapInfo | undefined)[];
}

const isLddw = (insn: Insn): boolean => insn.code === op.BPF_LDDW;
const isPseudoCall = (insn: Insn): boolean =>
  insn.code === (op.BPF_JMP | op.BPF_CALL) && insn.src === op.BPF_PSEUDO_CALL;
const isPseudoFunc = (insn: Insn): boolean => isLddw(insn) && insn.src === op.BPF_PSEUDO_FUNC;

/** Helpers that call a BPF callback before they return (is_sync_callback_calling_function). */
export const isSyncCallbackCalling = (id: number): boolean =>
  id === BpfFunc.BPF_FUNC_loop ||
  id === BpfFunc.BPF_FUNC_for_each_map_elem ||
  id === BpfFunc.BPF_FUNC_find_vma ||
  id === BpfFunc.BPF_FUNC_user_ringbuf_drain;

/** A helper call instruction that calls a callback (is_sync_callback_calling_insn). */
export const isCallbackCall = (insn: Insn): boolean =>
  insn.code === (op.BPF_JMP | op.BPF_CALL) && insn.src === 0 && isSyncCallbackCalling(insn.imm);

/** Opcodes the kernel accepts (bpf_opcode_in_insntable); callx is the conformance suite's only. */
export function kernelOpcode(code: number): boolean {
  const info = opcodeInfo(code);
  return info !== undefined && info.kind !== "callx";
}

function fault(message: string, hint: string, insn = -1): never {
  throw new CfgFault(message, hint, insn);
}

/** Subprogram starts: instruction 0 and every call / function-address target. */
function findSubprogs(insns: readonly Insn[], opts: CfgOptions): Subprog[] {
  const starts = new Set<number>([0]);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (!(isPseudoCall(insn) || isPseudoFunc(insn)) || !opts.calls) continue;
    const target = i + insn.imm + 1;
    if (target < 0 || target >= insns.length) {
      fault("call to invalid destination", "the call's target lies outside the program", i);
    }
    starts.add(target);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  return sorted.map((start, k) => ({
    start,
    end: sorted[k + 1] ?? insns.length,
    hasTailCall: false,
    hasLdAbs: false,
  }));
}

/** Jumps stay within their subprogram; each subprogram ends in exit or goto (check_subprogs). */
function checkSubprogs(insns: readonly Insn[], subprogs: Subprog[]): void {
  let cur = 0;
  for (let i = 0; i < insns.length; i++) {
    const sub = subprogs[cur]!;
    const insn = insns[i]!;
    const code = insn.code;
    const cls = op.classOf(code);
    if (code === (op.BPF_JMP | op.BPF_CALL) && insn.src === 0 && insn.imm === 12)
      sub.hasTailCall = true;
    if (cls === op.BPF_LD && (op.modeOf(code) === op.BPF_ABS || op.modeOf(code) === op.BPF_IND)) {
      sub.hasLdAbs = true;
    }
    const isJump = cls === op.BPF_JMP || cls === op.BPF_JMP32;
    const jop = op.opOf(code);
    if (isJump && jop !== op.BPF_EXIT && jop !== op.BPF_CALL) {
      const target = code === (op.BPF_JMP32 | op.BPF_JA) ? i + insn.imm + 1 : i + insn.off + 1;
      if (target < sub.start || target >= sub.end) {
        fault(
          `jump out of range from insn ${i} to ${target}`,
          target < 0 || target >= insns.length
            ? "the jump's target lies outside the program"
            : "a jump may not leave its function; call it instead",
          i,
        );
      }
    }
    if (i === sub.end - 1) {
      if (
        code !== (op.BPF_JMP | op.BPF_EXIT) &&
        code !== (op.BPF_JMP32 | op.BPF_JA) &&
        code !== (op.BPF_JMP | op.BPF_JA)
      ) {
        fault(
          "last insn is not an exit or jmp",
          "execution would run past the end of the function: end it with exit",
          i,
        );
      }
      cur++;
    }
  }
}

/** lddw pairs, map references, unknown opcodes (resolve_pseudo_ldimm64). */
function resolvePseudoLdimm64(insns: readonly Insn[], opts: CfgOptions): (MapInfo | undefined)[] {
  const maps: (MapInfo | undefined)[] = [];
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    const cls = op.classOf(insn.code);
    if (cls === op.BPF_LDX) {
      const mode = op.modeOf(insn.code);
      if ((mode !== op.BPF_MEM && mode !== op.BPF_MEMSX) || insn.imm !== 0) {
        fault("BPF_LDX uses reserved fields", "a load's imm field must be 0", i);
      }
    }
    if (isLddw(insn)) {
      const next = insns[i + 1];
      if (!next || next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        fault(
          "invalid bpf_ld_imm64 insn",
          "lddw takes two slots; the second must be all zero but imm",
          i,
        );
      }
      maps[i] = resolveMapRef(insns, i, opts);
      i++;
      continue;
    }
    if (!kernelOpcode(insn.code)) {
      fault(
        `unknown opcode ${insn.code.toString(16).padStart(2, "0")}`,
        "this byte is not a BPF instruction the kernel knows",
        i,
      );
    }
  }
  return maps;
}

function resolveMapRef(insns: readonly Insn[], i: number, opts: CfgOptions): MapInfo | undefined {
  const insn = insns[i]!;
  const next = insns[i + 1]!;
  const src = insn.src;
  if (src === 0 || src === op.BPF_PSEUDO_FUNC) return undefined;
  if (src === op.BPF_PSEUDO_BTF_ID) {
    fault(
      "ksym references (BPF_PSEUDO_BTF_ID) are not supported",
      "kernel variables need kernel BTF",
      i,
    );
  }
  const known =
    src === op.BPF_PSEUDO_MAP_VALUE ||
    src === op.BPF_PSEUDO_MAP_IDX_VALUE ||
    ((src === op.BPF_PSEUDO_MAP_FD || src === op.BPF_PSEUDO_MAP_IDX) && next.imm === 0);
  if (!known) fault("unrecognized bpf_ld_imm64 insn", "lddw has an unknown src_reg", i);
  if (src === op.BPF_PSEUDO_MAP_IDX || src === op.BPF_PSEUDO_MAP_IDX_VALUE) {
    fault("fd_idx without fd_array is invalid", "map indices need an fd array; use map fds", i);
  }
  const map = opts.mapByFd(insn.imm);
  if (!map) {
    fault(
      `fd ${insn.imm} is not pointing to valid bpf_map`,
      "the lddw names a map fd the loader did not create",
      i,
    );
  }
  if (src === op.BPF_PSEUDO_MAP_VALUE) {
    const off = next.imm >>> 0;
    if (off >= 1 << 29)
      fault(`direct value offset of ${off} is not allowed`, "offset too large", i);
    if (!directValueAccess(map)) {
      fault(
        "no direct value access support for this map type",
        "only array maps hold global variables (.data/.rodata/.bss)",
        i,
      );
    }
    if (map.maxEntries !== 1 || off >= map.valueSize) {
      fault(
        `invalid access to map value pointer, value_size=${map.valueSize} off=${off}`,
        "a global-data reference must point inside a one-element array map's value",
        i,
      );
    }
  }
  return map;
}

const directValueAccess = (map: MapInfo): boolean => map.type === BpfMapType.BPF_MAP_TYPE_ARRAY;

// ---- check_cfg: depth-first walk ----

const DISCOVERED = 0x10;
const EXPLORED = 0x20;
const FALLTHROUGH = 1;
const BRANCH = 2;
const DONE = 0;
const KEEP = 1;

function checkCfg(
  insns: readonly Insn[],
  opts: CfgOptions,
  prunePoint: Uint8Array,
  callsCallback: Uint8Array,
): void {
  const n = insns.length;
  const state = new Uint8Array(n);
  const stack: number[] = [0];
  state[0] = DISCOVERED;

  const push = (t: number, w: number, e: number): number => {
    if (e === FALLTHROUGH && state[t]! >= (DISCOVERED | FALLTHROUGH)) return DONE;
    if (e === BRANCH && state[t]! >= (DISCOVERED | BRANCH)) return DONE;
    if (w < 0 || w >= n) {
      fault(
        `jump out of range from insn ${t} to ${w}`,
        "the jump's target lies outside the program",
        t,
      );
    }
    if (e === BRANCH) prunePoint[w] = 1;
    if (state[w] === 0) {
      state[t] = DISCOVERED | e;
      state[w] = DISCOVERED;
      stack.push(w);
      return KEEP;
    }
    if ((state[w]! & 0xf0) === DISCOVERED) {
      if (opts.loops) return DONE;
      fault(
        `back-edge from insn ${t} to ${w}`,
        "this kernel allows no loops: unroll it (#pragma unroll) or use a newer kernel",
        t,
      );
    }
    state[t] = DISCOVERED | e;
    return DONE;
  };

  const callEdges = (t: number, size: number, callee: number | undefined): number => {
    const r = push(t, t + size, FALLTHROUGH);
    if (r !== DONE) return r;
    prunePoint[t + size] = 1;
    if (callee === undefined) return DONE;
    prunePoint[t] = 1;
    return push(t, callee, BRANCH);
  };

  const visit = (t: number): number => {
    const insn = insns[t]!;
    if (isPseudoFunc(insn) && opts.calls) return callEdges(t, 2, t + insn.imm + 1);
    const cls = op.classOf(insn.code);
    if (cls !== op.BPF_JMP && cls !== op.BPF_JMP32)
      return push(t, t + (isLddw(insn) ? 2 : 1), FALLTHROUGH);
    switch (op.opOf(insn.code)) {
      case op.BPF_EXIT:
        return DONE;
      case op.BPF_CALL:
        // The callback comes back to the call: a checkpoint there ends the iteration.
        if (isCallbackCall(insn)) {
          callsCallback[t] = 1;
          prunePoint[t] = 1;
        }
        return callEdges(t, 1, isPseudoCall(insn) && opts.calls ? t + insn.imm + 1 : undefined);
      case op.BPF_JA: {
        const off = cls === op.BPF_JMP ? insn.off : insn.imm;
        const r = push(t, t + off + 1, FALLTHROUGH);
        if (r !== DONE) return r;
        prunePoint[t + off + 1] = 1;
        return DONE;
      }
      default: {
        prunePoint[t] = 1;
        const r = push(t, t + 1, FALLTHROUGH);
        if (r !== DONE) return r;
        return push(t, t + insn.off + 1, BRANCH);
      }
    }
  };

  while (stack.length) {
    const t = stack[stack.length - 1]!;
    if (visit(t) === DONE) {
      state[t] = EXPLORED;
      stack.pop();
    }
  }
  for (let i = 0; i < n; i++) {
    if (state[i] !== EXPLORED) {
      fault(`unreachable insn ${i}`, "no path leads to this instruction: remove it", i);
    }
    if (isLddw(insns[i]!)) {
      if (state[i + 1] !== 0) {
        fault(
          `jump into the middle of ldimm64 insn ${i}`,
          "a jump lands on the second slot of an lddw",
          i,
        );
      }
      i++;
    }
  }
}

/** Run the structural checks; throws CfgFault with the kernel's message. */
export function analyzeProgram(insns: readonly Insn[], opts: CfgOptions): ProgramCfg {
  const subprogs = findSubprogs(insns, opts);
  opts.onSubprogs?.(subprogs);
  checkSubprogs(insns, subprogs);
  const lddwMap = resolvePseudoLdimm64(insns, opts);
  const prunePoint = new Uint8Array(insns.length + 1);
  const callsCallback = new Uint8Array(insns.length);
  checkCfg(insns, opts, prunePoint, callsCallback);
  return { subprogs, prunePoint, callsCallback, lddwMap };
}

/** The subprogram holding instruction `i`. */
export function subprogOf(subprogs: readonly Subprog[], i: number): number {
  let lo = 0;
  let hi = subprogs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (subprogs[mid]!.start <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
