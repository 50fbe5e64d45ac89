// Callbacks: helpers such as bpf_loop and bpf_for_each_map_elem call a static subprogram of the
// program (whose address an lddw with BPF_PSEUDO_FUNC loaded) any number of times before they
// return. The kernel verifies this as a loop (push_callback_call): at the helper call the path
// goes on after the call, and a copy of the state enters the callback as a new frame. When the
// callback exits, the path goes back to the helper call (not past it), so the call is checked
// again with the state the callback left and may enter the callback once more. The call is a
// forced checkpoint: once a visit finds a state there that covers it (ranges included, see
// prune.ts), the iteration has converged and the path is pruned. Scalars the callback changes
// are widened to unknown when they are not precise (widen_imprecise_scalars), so that counters
// in the callback's context converge instead of being unrolled.
import { knownScalar, unknownScalar } from "./bounds.js";
import type { Env } from "./env.js";
import { markRegPrecise } from "./precision.js";
import { RegType } from "./reg.js";
import type { RegState } from "./reg.js";
import {
  initFuncState,
  MAX_CALL_FRAMES,
  StackSlot,
  type FuncState,
  type VerifierState,
} from "./state.js";
import { regsExact, IdMap } from "./prune.js";
import * as u from "./u64.js";

const T = RegType;
const E2BIG = 7;

/** Fills the callback's registers from the caller's at the helper call (set_callee_state_fn). */
export type SetCalleeState = (env: Env, caller: FuncState, callee: FuncState) => void;

/**
 * set_loop_callback_state: bpf_loop(nr_loops, callback_fn, callback_ctx, flags) calls
 * callback_fn(u64 index, void *callback_ctx). The index is any scalar (it is not bounded by
 * nr_loops), the context is what the caller passed in r3.
 */
export const setLoopCallbackState: SetCalleeState = (_env, caller, callee) => {
  callee.regs[1] = unknownScalar();
  callee.regs[2] = caller.regs[3]!;
  callee.inCallbackFn = true;
  callee.callbackRetMin = 0;
  callee.callbackRetMax = 1;
};

/**
 * set_map_elem_callback_state: bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags) calls
 * callback_fn(map, key, value, callback_ctx) for the map types that support it.
 */
export const setMapElemCallbackState: SetCalleeState = (env, caller, callee) => {
  const map = caller.regs[1]!.map;
  if (!map || !FOR_EACH_MAP_TYPES.has(map.type)) {
    env.fail(
      "callback function not allowed for map",
      "bpf_for_each_map_elem walks hash and array maps only",
      ENOTSUPP,
    );
  }
  callee.regs[1] = caller.regs[1]!;
  const key = knownScalar(u.ZERO);
  key.type = T.PTR_TO_MAP_KEY;
  key.map = map;
  callee.regs[2] = key;
  const value = knownScalar(u.ZERO);
  value.type = T.PTR_TO_MAP_VALUE;
  value.map = map;
  callee.regs[3] = value;
  callee.regs[4] = caller.regs[3]!;
  callee.inCallbackFn = true;
  callee.callbackRetMin = 0;
  callee.callbackRetMax = 1;
};

const ENOTSUPP = 524;
/** hash, array, percpu hash, percpu array, LRU hash, LRU percpu hash (map_for_each_callback). */
const FOR_EACH_MAP_TYPES = new Set([1, 2, 5, 6, 9, 10]);

/**
 * push_callback_call: the path continues after the helper call; a copy of the state, with a new
 * frame for `subprog`, waits to be walked from the callback's first instruction.
 */
export function pushCallbackCall(env: Env, subprog: number, setState: SetCalleeState): void {
  const start = env.cfg.subprogs[subprog]!.start;
  const st = env.pushState(start, env.insnIdx);
  if (st.curframe + 1 >= MAX_CALL_FRAMES) {
    env.fail(
      `the call stack of ${st.curframe + 2} frames is too deep`,
      `calls and callbacks nest at most ${MAX_CALL_FRAMES} frames deep`,
      E2BIG,
    );
  }
  const caller = st.frames[st.curframe]!;
  const callee = initFuncState(env.insnIdx, st.curframe + 1, subprog, []);
  setState(env, caller, callee);
  st.frames.push(callee);
  st.curframe++;
  st.callbackUnrollDepth++;
  caller.callbackDepth++;
  env.cur.frame.callbackDepth = 0;
  env.scratch.markAll();
}

/** The kernel's verbose_invalid_scalar(): "<ctx> the register R0 has smin=.. should have been in [a, b]". */
export function invalidScalarText(ctx: string, reg: RegState, min: number, max: number): string {
  let text = `${ctx} the register R0 has`;
  let unknown = true;
  if (!u.eq(reg.smin, u.S64_MIN)) {
    text += ` smin=${u.decS(reg.smin)}`;
    unknown = false;
  }
  if (!u.eq(reg.smax, u.S64_MAX)) {
    text += ` smax=${u.decS(reg.smax)}`;
    unknown = false;
  }
  if (unknown) text += " unknown scalar value";
  return `${text} should have been in [${min}, ${max}]`;
}

/** A callback's exit (prepare_func_exit, in_callback_fn): r0 must be a scalar in its range. */
export function checkCallbackReturn(env: Env, callee: FuncState): void {
  const r0 = callee.regs[0]!;
  if (r0.type !== T.SCALAR_VALUE) {
    env.fail("R0 not a scalar value", "a callback returns a number: 0 to go on, 1 to stop", EACCES);
  }
  markRegPrecise(env, 0);
  const reg = env.reg(0);
  const min = callee.callbackRetMin;
  const max = callee.callbackRetMax;
  if (u.ltS(reg.smin, u.fromS32(min)) || u.gtS(reg.smax, u.fromS32(max))) {
    env.fail(
      invalidScalarText("At callback return", reg, min, max),
      `a callback must return ${min} (go on) or ${max} (stop)`,
      EINVAL,
    );
  }
}
const EACCES = 13;
const EINVAL = 22;

const sameCallsites = (a: VerifierState, b: VerifierState): boolean => {
  if (a.curframe !== b.curframe) return false;
  for (let fr = a.curframe; fr >= 0; fr--)
    if (a.frames[fr]!.callsite !== b.frames[fr]!.callsite) return false;
  return true;
};

/**
 * find_prev_entry: the checkpoint at `insnIdx` on the current path (still being explored, same
 * call chain, above the current state) — the previous visit of a callback-calling helper.
 */
export function findPrevEntry(
  env: Env,
  cur: VerifierState,
  insnIdx: number,
): VerifierState | undefined {
  for (const ck of env.explored[insnIdx] ?? []) {
    const st = ck.state;
    if (st.insnIdx === insnIdx && st.branches > 0 && sameCallsites(st, cur)) {
      if (st.dfsDepth < cur.dfsDepth) return st;
    }
  }
  return undefined;
}

/**
 * widen_imprecise_scalars: every scalar (register or spilled to the stack) that is not precise
 * and differs from the previous visit becomes unknown, so the next visit can match it.
 */
export function widenImpreciseScalars(old: VerifierState, cur: VerifierState): void {
  const ids = new IdMap();
  const widen = (o: RegState, c: RegState): RegState | undefined => {
    if (o.type !== T.SCALAR_VALUE || o.type !== c.type) return undefined;
    if (o.precise || c.precise || regsExact(o, c, ids)) return undefined;
    return unknownScalar();
  };
  for (let fr = old.curframe; fr >= 0; fr--) {
    const fo = old.frames[fr]!;
    const fc = cur.frames[fr]!;
    for (let r = 0; r < fc.regs.length; r++) {
      const w = widen(fo.regs[r]!, fc.regs[r]!);
      if (w) fc.regs[r] = w;
    }
    const slots = Math.min(fo.stack.length, fc.stack.length);
    for (let spi = 0; spi < slots; spi++) {
      const so = fo.stack[spi]!;
      const sc = fc.stack[spi]!;
      if (!so.isSpill || !sc.isSpill || !so.spilled || !sc.spilled) continue;
      const w = widen(so.spilled, sc.spilled);
      if (w) fc.stack[spi] = new StackSlot(sc.types, w);
    }
  }
}
