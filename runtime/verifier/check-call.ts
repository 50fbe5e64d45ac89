// BPF-to-BPF calls and exits: a call opens a frame (r1-r5 passed, at most 8 frames), an exit
// returns r0 to the caller and restores its frame; the main program's exit checks r0, held
// references and the program type's return range. Also the 64-bit immediate loads (constants,
// maps, global data) and the legacy packet loads.
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import { BpfAttachType, BpfProgType } from "../uapi/bpf.js";
import { knownScalar, unknownScalar } from "./bounds.js";
import { isPointerValue } from "./check-alu.js";
import { checkReferenceLeak } from "./check-helper.js";
import {
  checkCallbackReturn,
  findPrevEntry,
  invalidScalarText,
  widenImpreciseScalars,
} from "./callback.js";
import { subprogOf } from "./cfg.js";
import { type Env, RegArg } from "./env.js";
import { stateText } from "./log.js";
import { markRegPrecise } from "./precision.js";
import { RegType, regTypeStr } from "./reg.js";
import { initFuncState, MAX_CALL_FRAMES, NOT_INIT } from "./state.js";
import * as u from "./u64.js";

const T = RegType;
const EINVAL = 22;
/** enum bpf_attach_type from 6.10 on (the installed 6.1 header predates it). */
const BPF_TRACE_KPROBE_SESSION = 56;

/** check_func_call: enter the subprogram the call at env.insnIdx names. */
export function checkFuncCall(env: Env, insn: Insn): void {
  const target = env.insnIdx + insn.imm + 1;
  const subprog = subprogOf(env.cfg.subprogs, target);
  const st = env.cur;
  if (st.curframe + 1 >= MAX_CALL_FRAMES) {
    env.fail(
      `the call stack of ${st.curframe + 2} frames is too deep`,
      `calls nest at most ${MAX_CALL_FRAMES} frames deep (is the function recursive?)`,
    );
  }
  const caller = st.frames[st.curframe]!;
  const args = [1, 2, 3, 4, 5].map((r) => caller.regs[r]!);
  const callee = initFuncState(env.insnIdx, st.curframe + 1, subprog, args);
  st.frames.push(callee);
  // r1-r5 of the caller are clobbered by the call.
  for (let r = 0; r <= 5; r++) caller.regs[r] = NOT_INIT;
  st.curframe++;
  if (env.level) {
    env.verbose("caller:\n" + stateText(st, caller) + "callee:\n" + stateText(st, callee));
  }
  env.scratch.markAll();
  env.insnIdx = target;
}

/** Return from a callee (prepare_func_exit). */
function prepareFuncExit(env: Env): void {
  const st = env.cur;
  const callee = st.frames[st.curframe]!;
  const r0 = callee.regs[0]!;
  if (r0.type === T.PTR_TO_STACK) {
    env.fail(
      "cannot return stack pointer to the caller",
      "the callee's stack is gone after it returns: return a value, or write through a pointer the caller passed",
    );
  }
  const caller = st.frames[st.curframe - 1]!;
  // A callback goes back to the helper that called it, which may call it again.
  if (callee.inCallbackFn) checkCallbackReturn(env, callee);
  else caller.regs[0] = r0;
  env.insnIdx = callee.inCallbackFn ? callee.callsite : callee.callsite + 1;
  if (env.level) {
    env.verbose("returning from callee:\n" + stateText(st, callee));
    env.verbose(`to caller at ${env.insnIdx}:\n` + stateText(st, caller));
  }
  st.frames.pop();
  st.curframe--;
  env.scratch.clean();
  if (callee.inCallbackFn) {
    const prev = findPrevEntry(env, st, env.insnIdx);
    if (prev) widenImpreciseScalars(prev, st);
  }
  // log_level 2 shows the return as a jump: "from <exit> to <after the call>".
  env.doPrintState = true;
}

/** Program types whose return value must lie in a range (the kernel's check_return_code). */
function returnRange(env: Env): [number, number] | undefined {
  const P = BpfProgType;
  switch (env.opts.progType) {
    case P.BPF_PROG_TYPE_CGROUP_SKB:
      return env.opts.expectedAttachType === BpfAttachType.BPF_CGROUP_INET_EGRESS ? [0, 3] : [0, 1];
    case P.BPF_PROG_TYPE_CGROUP_SOCK:
    case P.BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
    case P.BPF_PROG_TYPE_SOCK_OPS:
    case P.BPF_PROG_TYPE_CGROUP_DEVICE:
    case P.BPF_PROG_TYPE_CGROUP_SYSCTL:
    case P.BPF_PROG_TYPE_CGROUP_SOCKOPT:
    case P.BPF_PROG_TYPE_SK_LOOKUP:
      return [0, 1];
    case P.BPF_PROG_TYPE_KPROBE:
      return env.opts.expectedAttachType === BPF_TRACE_KPROBE_SESSION ? [0, 1] : undefined;
    default:
      return undefined;
  }
}

function checkReturnCode(env: Env): void {
  env.checkRegArg(0, RegArg.SRC);
  const r0 = env.reg(0);
  if (isPointerValue(env, r0)) {
    env.fail("R0 leaks addr as return value", "unprivileged programs may not return pointers");
  }
  const range = returnRange(env);
  if (!range) return;
  if (r0.type !== T.SCALAR_VALUE) {
    env.fail(
      `At program exit the register R0 is not a known value (${regTypeStr(r0.type)})`,
      `this program type must return a number in [${range[0]}, ${range[1]}]`,
    );
  }
  markRegPrecise(env, 0);
  const min = u.fromS32(range[0]);
  const max = u.fromS32(range[1]);
  if (u.ltS(r0.smin, min) || u.gtS(r0.smax, max) || r0.s32min < range[0] || r0.s32max > range[1]) {
    env.fail(
      invalidScalarText("At program exit", r0, range[0], range[1]),
      `this program type must return a number in [${range[0]}, ${range[1]}]`,
    );
  }
}

/** BPF_EXIT. Returns true when the path ends (an exit of the main program). */
export function checkExit(env: Env, insn: Insn): boolean {
  if (
    insn.imm !== 0 ||
    insn.src !== 0 ||
    insn.dst !== 0 ||
    op.classOf(insn.code) === op.BPF_JMP32
  ) {
    env.fail("BPF_EXIT uses reserved fields", "exit takes no operands");
  }
  checkReferenceLeak(env, "BPF_EXIT instruction in main prog");
  if (env.cur.curframe > 0) {
    prepareFuncExit(env);
    return false;
  }
  checkReturnCode(env);
  return true;
}

/** lddw: a constant, a map, or a pointer into a map's value (check_ld_imm). */
export function checkLdImm(env: Env, insn: Insn): void {
  if (op.sizeOf(insn.code) !== op.BPF_DW)
    env.fail("invalid BPF_LD_IMM insn", "only the 64-bit form exists");
  if (insn.off !== 0) env.fail("BPF_LD_IMM64 uses reserved fields", "off must be 0");
  env.checkRegArg(insn.dst, RegArg.DST);
  const next = env.insns[env.insnIdx + 1]!;
  if (insn.src === 0) {
    env.setReg(insn.dst, knownScalar(u.u64(next.imm, insn.imm)));
    return;
  }
  const map = env.cfg.lddwMap[env.insnIdx];
  if (insn.src === op.BPF_PSEUDO_FUNC) {
    // A callback's address: the subprogram it names, which BTF must describe as static.
    const target = env.insnIdx + insn.imm + 1;
    const subprog = subprogOf(env.cfg.subprogs, target);
    const info = env.opts.funcInfo;
    if (!info) {
      env.fail(
        "missing btf func_info",
        "a program that takes a function's address needs BTF func_info (build with clang -g)",
        EINVAL,
      );
    }
    if ((info[subprog]?.linkage ?? 0) !== 0) {
      env.fail(
        "callback function not static",
        "a callback must be a static function: declare it `static`",
        EINVAL,
      );
    }
    const r = knownScalar(u.ZERO);
    r.type = T.PTR_TO_FUNC;
    r.subprogno = subprog;
    env.setReg(insn.dst, r);
    return;
  }
  const r = knownScalar(u.ZERO);
  r.map = map;
  if (insn.src === op.BPF_PSEUDO_MAP_VALUE) {
    r.type = T.PTR_TO_MAP_VALUE;
    r.off = next.imm;
  } else {
    r.type = T.CONST_PTR_TO_MAP;
  }
  env.setReg(insn.dst, r);
}

/** Legacy packet loads (BPF_LD | BPF_ABS / BPF_IND), socket filters only (check_ld_abs). */
export function checkLdAbs(env: Env, insn: Insn): void {
  const mode = op.modeOf(insn.code);
  if (env.opts.progType !== BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER) {
    env.fail(
      "BPF_LD_[ABS|IND] instructions not allowed for this program type",
      "legacy packet loads exist only in socket filter and tc programs",
    );
  }
  if (env.cfg.subprogs.length > 1) {
    env.fail(
      "BPF_LD_[ABS|IND] instructions cannot be mixed with bpf-to-bpf calls",
      "use bpf_skb_load_bytes in programs with functions",
    );
  }
  if (
    insn.dst !== 0 ||
    insn.off !== 0 ||
    op.sizeOf(insn.code) === op.BPF_DW ||
    (mode === op.BPF_ABS && insn.src !== 0)
  ) {
    env.fail("BPF_LD_[ABS|IND] uses reserved fields", "dst_reg and off must be 0");
  }
  env.checkRegArg(6, RegArg.SRC);
  if (mode === op.BPF_IND) env.checkRegArg(insn.src, RegArg.SRC);
  if (env.reg(6).type !== T.PTR_TO_CTX) {
    env.fail(
      "at the time of BPF_LD_ABS|IND R6 != pointer to skb",
      "legacy packet loads read the packet through r6, which must hold the context",
    );
  }
  checkReferenceLeak(env, "BPF_LD_[ABS|IND]");
  for (let r = 0; r <= 5; r++) env.markRegNotInit(r);
  env.setReg(0, unknownScalar());
  env.scratch.reg(0);
}
