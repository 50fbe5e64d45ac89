// State pruning (is_state_visited / states_equal): at a prune point the current state is
// compared with the states remembered there. If a fully explored one covers it (every register
// and stack slot the rest of the program can read is at least as constrained), the path is
// safe and is not walked again. States still being explored (a loop's head) are compared
// exactly, to catch loops that make no progress.
import { rangeWithin, sameBounds } from "./bounds.js";
import type { Checkpoint, Env } from "./env.js";
import { stateText } from "./log.js";
import { markChainPrecision, Backtrack } from "./precision.js";
import { RegState, RegType, baseOf } from "./reg.js";
import type { FuncState, StackSlot, VerifierState } from "./state.js";
import { BPF_REG_SIZE, STACK_INVALID, STACK_MISC, STACK_SPILL, STACK_ZERO } from "./state.js";
import { unknownScalar } from "./bounds.js";
import * as tn from "./tnum.js";

const enum Exact {
  NOT_EXACT = 0,
  /** scalars compared by range even when not precise (a callback's loop converging) */
  RANGE_WITHIN = 1,
  EXACT = 2,
}

/** Consistent renaming of ids between an old and a current state (check_ids). */
export class IdMap {
  private readonly oldToCur = new Map<number, number>();
  private readonly curToOld = new Map<number, number>();
  private tmp = 0x40000000;

  check(oldId: number, curId: number): boolean {
    if ((oldId === 0) !== (curId === 0)) return false;
    if (oldId === 0) return true;
    const mapped = this.oldToCur.get(oldId);
    if (mapped !== undefined) return mapped === curId;
    if (this.curToOld.has(curId)) return false;
    this.oldToCur.set(oldId, curId);
    this.curToOld.set(curId, oldId);
    return true;
  }

  /** Scalars: an id of 0 gets a fresh private id, so "0 vs unique id" pairs are fine. */
  checkScalar(oldId: number, curId: number): boolean {
    return this.check(oldId || ++this.tmp, curId || ++this.tmp);
  }
}

/** Every field equal, ids renamed consistently (regs_exact). */
export function regsExact(old: RegState, cur: RegState, ids: IdMap): boolean {
  return (
    old.type === cur.type &&
    old.off === cur.off &&
    old.map === cur.map &&
    old.memSize === cur.memSize &&
    old.frameno === cur.frameno &&
    old.btfName === cur.btfName &&
    old.subprogno === cur.subprogno &&
    sameBounds(old, cur) &&
    ids.check(old.id, cur.id) &&
    ids.check(old.refObjId, cur.refObjId)
  );
}

/** Whether everything the old register allowed holds for the current one (regsafe). */
function regSafe(old: RegState, cur: RegState, ids: IdMap, exact: Exact): boolean {
  if (exact === Exact.EXACT) return regsExact(old, cur, ids);
  if (old.type === RegType.NOT_INIT) return true;
  if (old.type !== cur.type) return false;
  switch (baseOf(old.type)) {
    case RegType.SCALAR_VALUE:
      if (!old.precise && exact === Exact.NOT_EXACT) return true;
      if (!ids.checkScalar(old.id, cur.id)) return false;
      return rangeWithin(old, cur) && tn.tnumIn(old.varOff, cur.varOff);
    case RegType.PTR_TO_MAP_KEY:
    case RegType.PTR_TO_MAP_VALUE:
    case RegType.PTR_TO_MEM:
      return (
        old.off === cur.off &&
        old.map === cur.map &&
        old.memSize === cur.memSize &&
        rangeWithin(old, cur) &&
        tn.tnumIn(old.varOff, cur.varOff) &&
        ids.check(old.id, cur.id) &&
        ids.check(old.refObjId, cur.refObjId)
      );
    case RegType.PTR_TO_STACK:
      // fp-8 of one frame is not fp-8 of another
      return regsExact(old, cur, ids) && old.frameno === cur.frameno;
    default:
      return regsExact(old, cur, ids);
  }
}

const UNBOUND = unknownScalar();

/** A slot read back as a scalar: an 8-byte scalar spill, or 8 bytes of data (scalar_reg_for_stack). */
function scalarForSlot(env: Env, slot: StackSlot): RegState | undefined {
  if (slot.isSpilledScalar && slot.spillSize === 8) return slot.spilled;
  for (let i = 0; i < 8; i++) {
    const t = slot.typeAt(i);
    if (t !== STACK_MISC && !(t === STACK_INVALID && env.allowUninitStack)) return undefined;
  }
  return UNBOUND;
}

function stackSafe(env: Env, old: FuncState, cur: FuncState, ids: IdMap, exact: Exact): boolean {
  const oldBytes = old.allocatedStack;
  for (let i = 0; i < oldBytes; i++) {
    const spi = (i / BPF_REG_SIZE) | 0;
    const b = i % BPF_REG_SIZE;
    const oldSlot = old.slot(spi);
    const curSlot = cur.slot(spi);
    const ot = oldSlot.typeAt(b);
    if (exact === Exact.EXACT) {
      if (i >= cur.allocatedStack || ot !== curSlot.typeAt(b)) return false;
    }
    if (ot === STACK_INVALID && exact !== Exact.EXACT) continue;
    // A privileged program may read uninitialised stack: data is as good as nothing.
    if (env.allowUninitStack && ot === STACK_MISC && exact !== Exact.EXACT) continue;
    if (i >= cur.allocatedStack) return false;
    const oldReg = scalarForSlot(env, oldSlot);
    const curReg = scalarForSlot(env, curSlot);
    if (oldReg && curReg) {
      if (!regSafe(oldReg, curReg, ids, exact)) return false;
      i += BPF_REG_SIZE - 1 - b;
      continue;
    }
    const ct = curSlot.typeAt(b);
    if (ot === STACK_MISC && ct === STACK_ZERO) continue;
    if (ot !== ct) return false;
    if (b !== BPF_REG_SIZE - 1) continue;
    if (ot === STACK_SPILL) {
      if (!oldSlot.spilled || !curSlot.spilled) return false;
      if (!regSafe(oldSlot.spilled, curSlot.spilled, ids, exact)) return false;
    }
  }
  return true;
}

/** Registers of frame `fr` that matter at instruction `insnIdx` of the state. */
function liveMask(env: Env, st: VerifierState, fr: number, insnIdx: number): number {
  if (fr === st.curframe) return env.liveBefore[insnIdx]!;
  // A caller frame resumes after its call; only its callee-saved registers survive the call.
  // A callback returns to the helper call itself, which reads its arguments again.
  const callsite = st.frames[fr + 1]!.callsite;
  if (env.cfg.callsCallback[callsite]) return env.liveBefore[callsite]!;
  return env.liveBefore[callsite + 1]! & 0x3c0;
}

function statesEqual(
  env: Env,
  old: VerifierState,
  cur: VerifierState,
  insnIdx: number,
  exact: Exact,
): boolean {
  if (old.curframe !== cur.curframe) return false;
  const ids = new IdMap();
  if (old.refs.length !== cur.refs.length) return false;
  for (let i = 0; i < old.refs.length; i++) {
    if (!ids.check(old.refs[i]!.id, cur.refs[i]!.id)) return false;
  }
  for (let fr = 0; fr <= old.curframe; fr++) {
    const of = old.frames[fr]!;
    const cf = cur.frames[fr]!;
    if (of.callsite !== cf.callsite) return false;
    // fewer callback visits from this frame's helper call than before: not covered
    if (of.callbackDepth > cf.callbackDepth) return false;
    const live = exact === Exact.EXACT ? 0x7ff : liveMask(env, cur, fr, insnIdx);
    for (let r = 0; r < 10; r++) {
      if (!(live & (1 << r))) continue;
      if (!regSafe(of.regs[r]!, cf.regs[r]!, ids, exact)) return false;
    }
    if (!stackSafe(env, of, cf, ids, exact)) return false;
  }
  return true;
}

/** The registers of the current frame are identical but for precision (states_maybe_looping). */
function maybeLooping(old: VerifierState, cur: VerifierState): boolean {
  if (old.curframe !== cur.curframe) return false;
  const of = old.frames[old.curframe]!;
  const cf = cur.frames[cur.curframe]!;
  for (let r = 0; r < 11; r++) {
    const a = of.regs[r]!;
    const b = cf.regs[r]!;
    if (a === b) continue;
    if (
      a.type !== b.type ||
      a.off !== b.off ||
      a.id !== b.id ||
      a.refObjId !== b.refObjId ||
      a.map !== b.map ||
      a.memSize !== b.memSize ||
      a.frameno !== b.frameno ||
      !sameBounds(a, b)
    ) {
      return false;
    }
  }
  return true;
}

/** Precision the old state relied on is needed on the current path too (propagate_precision). */
function propagatePrecision(env: Env, old: VerifierState): void {
  const bt = new Backtrack(env.cur.curframe);
  // One line per frame, the innermost first: "frame 1: propagating r0,r1" "frame 0: ...".
  const lines: string[] = [];
  for (let fr = old.curframe; fr >= 0; fr--) {
    const names: string[] = [];
    const f = old.frames[fr]!;
    for (let r = 0; r < 10; r++) {
      const reg = f.regs[r]!;
      if (reg.type !== RegType.SCALAR_VALUE || !reg.precise) continue;
      bt.setReg(fr, r);
      names.push(`r${r}`);
    }
    for (let spi = 0; spi < f.stack.length; spi++) {
      const slot = f.stack[spi]!;
      if (!slot.isSpilledScalar || !slot.spilled!.precise) continue;
      bt.setSlot(fr, spi);
      names.push(`fp${-(spi + 1) * 8}`);
    }
    if (names.length) lines.push(`frame ${fr}: propagating ${names.join(",")}\n`);
  }
  if (bt.empty) return;
  if (env.level >= 2) env.verbose(lines.join(""));
  markChainPrecision(env, bt, false);
}

const STATE_EVICT_FACTOR = 3;

/** explored_state(): the bucket of (instruction, call site of the current frame). */
function exploredBucket(env: Env, insnIdx: number, st: VerifierState): number {
  return ((insnIdx ^ st.frames[st.curframe]!.callsite) >>> 0) % env.insns.length;
}

/**
 * At prune point `insnIdx`: true when the current path is covered by an explored state (prune
 * it). Otherwise the current state may be remembered as a new checkpoint.
 */
export function isStateVisited(env: Env, insnIdx: number): boolean {
  const cur = env.cur;
  const forceNewState = env.forceNewState || env.cfg.callsCallback[insnIdx] === 1;
  let addNewState =
    forceNewState ||
    (env.jmpsProcessed - env.prevJmpsProcessed >= 2 &&
      env.insnProcessed - env.prevInsnProcessed >= 8);
  env.forceNewState = false;
  const list = env.explored[insnIdx];
  // The kernel keeps explored states in a table hashed by instruction and the current frame's
  // call site, and max_states_per_insn counts every state in the bucket (other instructions'
  // too); only the states of this instruction in this bucket are compared.
  const bucket = exploredBucket(env, insnIdx, cur);
  const count = env.bucketSize[bucket]!;
  if (list) {
    for (let k = 0; k < list.length; k++) {
      const ck = list[k]!;
      if (ck.bucket !== bucket) continue;
      if (ck.state.branches > 0) {
        if (env.cfg.callsCallback[insnIdx]) {
          // Back at a callback-calling helper from the callback: when a previous visit covers
          // this one, ranges included, the callback's iteration has converged.
          if (statesEqual(env, ck.state, cur, insnIdx, Exact.RANGE_WITHIN)) {
            ck.hits++;
            propagatePrecision(env, ck.state);
            return true;
          }
        } else if (
          // An ancestor still being explored: equal states mean a loop that changes nothing.
          maybeLooping(ck.state, cur) &&
          statesEqual(env, ck.state, cur, insnIdx, Exact.EXACT) &&
          ck.state.callbackUnrollDepth === cur.callbackUnrollDepth
        ) {
          reportInfiniteLoop(env, insnIdx, ck);
        }
        // Inside a loop, remember states only now and then.
        if (
          !forceNewState &&
          env.jmpsProcessed - env.prevJmpsProcessed < 20 &&
          env.insnProcessed - env.prevInsnProcessed < 100
        ) {
          addNewState = false;
        }
      } else if (statesEqual(env, ck.state, cur, insnIdx, Exact.NOT_EXACT)) {
        ck.hits++;
        propagatePrecision(env, ck.state);
        return true;
      }
      if (addNewState) ck.misses++;
      // A state that keeps missing is unlikely to help: stop comparing with it.
      // Checkpoints of a callback's iterations are kept longer, or the iteration could not converge.
      const n = env.cfg.callsCallback[insnIdx] && ck.state.branches > 0 ? 64 : STATE_EVICT_FACTOR;
      if (ck.misses > ck.hits * n + n) {
        // Evicted states stay allocated (and counted in peak_states) until no path below them
        // is left to explore, and their loop, if any, has been left (maybe_free_verifier_state).
        list.splice(k, 1);
        env.bucketSize[bucket]!--;
        ck.state.evicted = true;
        maybeFreeState(env, ck.state);
        k--;
      }
    }
  }
  if (count > env.maxStatesPerInsn) env.maxStatesPerInsn = count;
  if (!addNewState) return false;
  // Remember this state: it becomes the parent of the path going on from here.
  env.totalStates++;
  env.liveStates++;
  if (env.liveStates > env.peakStates) env.peakStates = env.liveStates;
  env.prevJmpsProcessed = env.jmpsProcessed;
  env.prevInsnProcessed = env.insnProcessed;
  const ck = cur.copy();
  ck.insnIdx = insnIdx;
  ck.branches = 1;
  ck.hist = cur.hist;
  cur.hist = [];
  cur.parent = ck;
  cur.dfsDepth = ck.dfsDepth + 1;
  env.bucketSize[bucket]!++;
  if (list) list.unshift({ state: ck, hits: 0, misses: 0, bucket });
  else env.explored[insnIdx] = [{ state: ck, hits: 0, misses: 0, bucket }];
  maybeEnterLoop(env, ck);
  return false;
}

/** The loop a state is in, named by the call sites leading to it: "(1)", "(12,2)"; or "". */
function loopChain(env: Env, st: VerifierState): string {
  const parts: number[] = [];
  for (let fr = 0; fr <= st.curframe; fr++) {
    const at = fr === st.curframe ? st.insnIdx : st.frames[fr + 1]!.callsite;
    const scc = env.scc[at] ?? 0;
    if (scc) return `(${[...parts, scc].join(",")})`;
    if (fr === st.curframe) return "";
    parts.push(at);
  }
  return "";
}

/** The first checkpoint inside a loop instance enters it (maybe_enter_scc). */
function maybeEnterLoop(env: Env, st: VerifierState): void {
  const chain = loopChain(env, st);
  if (!chain || env.sccEntries.has(chain)) return;
  env.sccEntries.set(chain, st);
  if (env.level >= 2) env.verbose(`SCC enter ${chain}\n`);
}

/** That checkpoint fully explored: the loop instance is left (maybe_exit_scc). */
function maybeExitLoop(env: Env, st: VerifierState): void {
  const chain = loopChain(env, st);
  if (!chain || env.sccEntries.get(chain) !== st) return;
  env.sccEntries.delete(chain);
  if (env.level >= 2) env.verbose(`SCC exit ${chain}\n`);
}

function reportInfiniteLoop(env: Env, insnIdx: number, ck: Checkpoint): never {
  env.verbose(`infinite loop detected at insn ${insnIdx}\n`);
  env.verbose("cur state:" + stateText(env.cur, env.cur.frame));
  env.verbose("old state:" + stateText(ck.state, ck.state.frames[ck.state.curframe]!));
  env.abort(
    `infinite loop detected at insn ${insnIdx}`,
    "this loop repeats with the same state every time: make its exit condition depend on something that changes",
  );
}

/** A path ended: its checkpoints have one branch fewer to wait for (update_branch_counts). */
export function updateBranchCounts(env: Env, st: VerifierState | undefined): void {
  while (st) {
    st.branches--;
    if (st.branches > 0) break;
    maybeExitLoop(env, st);
    maybeFreeState(env, st);
    st = st.parent;
  }
}

/** An evicted checkpoint is freed once fully explored and out of any loop still being walked. */
function maybeFreeState(env: Env, st: VerifierState): void {
  if (!st.evicted || st.branches !== 0) return;
  const chain = loopChain(env, st);
  if (chain && env.sccEntries.has(chain)) return;
  st.evicted = false;
  env.liveStates--;
}
