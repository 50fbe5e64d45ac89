// The verifier's entry point and main loop (bpf_check / do_check): structural checks, then a
// walk of every path from the first instruction with abstract register and stack states,
// pruning paths whose state is covered by one already explored, then the stack-depth check.
//
//   verify(prog, env) -> { ok, log, error, stats, facts, subprogs }
//
// Rules are the kernel's for a privileged loader (root): they follow the running 6.18 kernel by
// default; kernel "6.1" drops the few newer refinements, and "4.1" is the seed kernel (4096
// instructions, no loops, no bpf-to-bpf calls, 11 helpers, no uninitialised stack reads).
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import { BpfProgType } from "../uapi/bpf.js";
import { helperProto, type HelperContext } from "../uapi/helpers.js";
import { analyzeProgram, CfgFault, type ProgramCfg } from "./cfg.js";
import { checkAluOp } from "./check-alu.js";
import { checkExit, checkFuncCall, checkLdAbs, checkLdImm } from "./check-call.js";
import { checkHelperCall, licenseIsGplCompatible } from "./check-helper.js";
import { checkCondJmp } from "./check-jmp.js";
import { Access, checkMemAccess } from "./check-mem.js";
import { Env, type KernelSetting, RegArg } from "./env.js";
import { type SourcePlace, VerifierError, VerifyAbort } from "./errors.js";
import { type InsnFact, newFacts } from "./facts.js";
import { liveRegisters, liveString, loopIds } from "./liveness.js";
import { stateText, VerifierLog } from "./log.js";
import { isStateVisited, updateBranchCounts } from "./prune.js";
import { insnString, kernelLddwText } from "./print.js";
import type { MapInfo } from "./reg.js";
import { initialState, MAX_BPF_STACK, MAX_CALL_FRAMES } from "./state.js";

export interface VerifyProgram {
  /** instructions after relocation: maps as lddw src_reg 1 (fd) or 2 (fd + value offset) */
  insns: readonly Insn[];
  progType: number;
  expectedAttachType?: number;
  license: string;
  name?: string;
  kernVersion?: number;
}

/** A map as the verifier needs it (what env.mapByFd returns). */
export interface VerifyMap {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name?: string;
  frozen?: boolean;
  /** the value of a frozen read-only one-element array (.rodata): loads from it are constants */
  value?: Uint8Array;
  /** ARRAY_OF_MAPS / HASH_OF_MAPS: the inner map template every element matches */
  innerMap?: Omit<VerifyMap, "innerMap">;
}

/** One line-info record of .BTF.ext: the C place of the instruction at insnOff (a slot index). */
export interface LineInfo {
  insnOff: number;
  file: string;
  line: number;
  col: number;
  /** the source line's text */
  text?: string;
}

export interface FuncInfo {
  insnOff: number;
  name: string;
  /** BTF linkage of the FUNC: 0 static (the default), 1 global, 2 extern */
  linkage?: number;
}

export interface VerifyEnv {
  mapByFd(fd: number): VerifyMap | undefined;
  logLevel?: 0 | 1 | 2;
  /** the kernel whose rules apply (default "6.18", the machine's kernel) */
  kernel?: KernelSetting;
  lineInfo?: readonly LineInfo[];
  funcInfo?: readonly FuncInfo[];
  helperContext?: HelperContext;
  /** load as an unprivileged user (default false: root) */
  unpriv?: boolean;
  /** CPUs of the kernel (bpf_get_smp_processor_id's range); default 2 */
  nrCpus?: number;
  /** log buffer limit in bytes; the oldest text is dropped beyond it (default 16 MiB) */
  logSize?: number;
  /** complexity limit in processed instructions (default: the kernel's, 1000000) */
  insnLimit?: number;
}

export interface VerifyStats {
  processedInsns: number;
  totalStates: number;
  peakStates: number;
  maxStatesPerInsn: number;
  /** wall-clock milliseconds */
  ms: number;
}

export interface SubprogInfo {
  start: number;
  end: number;
  /** deepest stack use in bytes */
  stackDepth: number;
}

export interface VerifyResult {
  ok: boolean;
  /** the verifier log in the kernel's format (empty at log level 0) */
  log: string;
  error?: VerifierError;
  stats: VerifyStats;
  /** per instruction: reached, memory regions accessed, branch directions, helper ids */
  facts: InsnFact[];
  subprogs: SubprogInfo[];
}

const COMPLEXITY_LIMIT = 1_000_000;
const COMPLEXITY_LIMIT_4_1 = 32768;
/** BPF_MAXINSNS of the seed kernel. */
const MAX_INSNS_4_1 = 4096;

export function verify(prog: VerifyProgram, env: VerifyEnv): VerifyResult {
  const t0 = performance.now();
  const level = env.logLevel ?? 0;
  const log = new VerifierLog(level, env.logSize ?? 16 << 20);
  const kernel = env.kernel ?? "6.18";
  const insns = prog.insns;
  const facts = newFacts(insns.length);
  const maps = new Map<number, MapInfo | undefined>();
  const mapByFd = (fd: number): MapInfo | undefined => {
    if (!maps.has(fd)) {
      const m = env.mapByFd(fd);
      const inner = m?.innerMap && { ...m.innerMap, fd: -1 };
      maps.set(fd, m ? { ...m, fd, innerMap: inner } : undefined);
    }
    return maps.get(fd);
  };
  let ctx: Env | undefined;
  let error: VerifierError | undefined;
  let cfg: ProgramCfg | undefined;
  try {
    checkShape(insns, kernel);
    cfg = analyzeProgram(insns, {
      loops: kernel !== "4.1" && !env.unpriv,
      calls: kernel !== "4.1",
      mapByFd,
      // func#N @start, as check_subprogs prints them before checking jumps
      onSubprogs: (subs) => {
        if (level < 2) return;
        for (let i = 0; i < subs.length; i++) log.write(`func#${i} @${subs[i]!.start}\n`);
      },
    });
    const helperArgs = (id: number): number =>
      helperProto(prog.progType, id, env.helperContext)?.args.length ?? 5;
    const live = liveRegisters(insns, helperArgs);
    const loops = loopIds(insns);
    if (level >= 2) printLiveRegs(log, insns, live, loops, (i) => insnText(insns, i));
    ctx = new Env(
      insns,
      {
        progType: prog.progType,
        expectedAttachType: prog.expectedAttachType ?? 0,
        gplCompatible: licenseIsGplCompatible(prog.license),
        kernel,
        unpriv: env.unpriv ?? false,
        helperContext: env.helperContext ?? {},
        nrCpus: env.nrCpus ?? 2,
        mapByFd,
        funcInfo: env.funcInfo,
      },
      cfg,
      live,
      log,
      facts,
    );
    ctx.scc = loops;
    ctx.cur = initialState();
    ctx.lineInfo = env.lineInfo;
    if (env.insnLimit !== undefined) ctx.insnLimit = env.insnLimit;
    doCheck(ctx);
    // A successful log_level 1 walk keeps no trace.
    if (level === 1) log.reset(0);
    checkMaxStackDepth(ctx);
  } catch (e) {
    if (e instanceof CfgFault) {
      log.write(e.message + "\n");
      error = new VerifierError(
        e.insnIndex,
        e.message,
        e.hint,
        sourceOf(env.lineInfo, e.insnIndex),
        prog.name,
      );
    } else if (e instanceof VerifyAbort) {
      error = new VerifierError(
        e.insnIndex,
        e.kernelMessage,
        e.hint,
        sourceOf(env.lineInfo, e.insnIndex),
        prog.name,
        e.errno,
      );
    } else {
      throw e;
    }
  }
  const stats: VerifyStats = {
    processedInsns: ctx?.insnProcessed ?? 0,
    totalStates: ctx?.totalStates ?? 0,
    peakStates: ctx?.peakStates ?? 0,
    maxStatesPerInsn: ctx?.maxStatesPerInsn ?? 0,
    ms: 0,
  };
  log.write(
    `processed ${stats.processedInsns} insns (limit ${kernel === "4.1" ? COMPLEXITY_LIMIT_4_1 : COMPLEXITY_LIMIT}) ` +
      `max_states_per_insn ${stats.maxStatesPerInsn} total_states ${stats.totalStates} ` +
      `peak_states ${stats.peakStates} mark_read 0\n`,
  );
  stats.ms = performance.now() - t0;
  return {
    ok: error === undefined,
    log: log.toString(),
    ...(error && { error }),
    stats,
    facts,
    subprogs: (cfg?.subprogs ?? []).map((s, i) => ({
      start: s.start,
      end: s.end,
      stackDepth: ctx?.stackDepth[i] ?? 0,
    })),
  };
}

const insnText = (insns: readonly Insn[], i: number): string =>
  insnString(insns, i, kernelLddwText);

/** Malformed instruction objects and the program size limit. */
function checkShape(insns: readonly Insn[], kernel: KernelSetting): void {
  if (insns.length === 0)
    throw new CfgFault("empty program", "the program has no instructions", -1);
  if (kernel === "4.1" && insns.length > MAX_INSNS_4_1) {
    throw new CfgFault(
      `program of ${insns.length} insns is too large (limit ${MAX_INSNS_4_1})`,
      "this kernel loads at most 4096 instructions",
      -1,
    );
  }
  if (insns.length > COMPLEXITY_LIMIT) {
    throw new CfgFault(
      `program of ${insns.length} insns is too large`,
      "at most 1000000 instructions",
      -1,
    );
  }
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    const ok =
      Number.isInteger(x.code) &&
      x.code >= 0 &&
      x.code <= 0xff &&
      Number.isInteger(x.dst) &&
      x.dst >= 0 &&
      x.dst <= 15 &&
      Number.isInteger(x.src) &&
      x.src >= 0 &&
      x.src <= 15 &&
      Number.isInteger(x.off) &&
      x.off >= -0x8000 &&
      x.off <= 0x7fff &&
      Number.isInteger(x.imm) &&
      x.imm === (x.imm | 0);
    if (!ok)
      throw new CfgFault(
        `malformed instruction ${JSON.stringify(x)}`,
        "a field is out of its range",
        i,
      );
    if (kernel === "4.1") check41(insns, i);
  }
}

/** What the seed kernel (4.1) did not know yet. */
function check41(insns: readonly Insn[], i: number): void {
  const x = insns[i]!;
  const cls = op.classOf(x.code);
  const hex = x.code.toString(16).padStart(2, "0");
  const old = "the 4.1 kernel does not have this instruction";
  if (cls === op.BPF_JMP32) throw new CfgFault(`unknown insn class ${cls}`, old, i);
  if (cls === op.BPF_LDX && op.modeOf(x.code) === op.BPF_MEMSX)
    throw new CfgFault("BPF_LDX uses reserved fields", old, i);
  if ((cls === op.BPF_ALU || cls === op.BPF_ALU64) && x.off !== 0)
    throw new CfgFault("BPF_ALU uses reserved fields", old, i);
  if (x.code === (op.BPF_ALU64 | op.BPF_END)) throw new CfgFault(`unknown opcode ${hex}`, old, i);
  if (cls === op.BPF_STX && op.modeOf(x.code) === op.BPF_ATOMIC && x.imm !== op.BPF_ADD) {
    throw new CfgFault("BPF_XADD uses reserved fields", old, i);
  }
  if (x.code === (op.BPF_JMP | op.BPF_CALL) && x.src !== 0)
    throw new CfgFault("BPF_CALL uses reserved fields", old, i);
}

function printLiveRegs(
  log: VerifierLog,
  insns: readonly Insn[],
  live: Uint16Array,
  loops: Int32Array,
  text: (i: number) => string,
): void {
  log.write("Live regs before insn:\n");
  // The loop (strongly connected component) an instruction belongs to, then its index.
  for (let i = 0; i < insns.length; i++) {
    const loop = loops[i] ? String(loops[i]) : "";
    log.write(`${loop.padStart(3)} ${String(i).padStart(3)}: ${liveString(live[i]!)} ${text(i)}\n`);
    if (insns[i]!.code === op.BPF_LDDW) i++;
  }
}

/** The C place of instruction `i` from line info (the last record at or before it). */
export function sourceOf(
  lineInfo: readonly LineInfo[] | undefined,
  i: number,
): SourcePlace | undefined {
  if (!lineInfo || i < 0) return undefined;
  let best: LineInfo | undefined;
  for (const li of lineInfo)
    if (li.insnOff <= i && (!best || li.insnOff >= best.insnOff)) best = li;
  return best
    ? {
        file: best.file,
        line: best.line,
        col: best.col,
        ...(best.text !== undefined && { text: best.text }),
      }
    : undefined;
}

// ---- the walk ----

function doCheck(env: Env): void {
  const insns = env.insns;
  const limit = env.insnLimit ?? (env.modern ? COMPLEXITY_LIMIT : COMPLEXITY_LIMIT_4_1);
  env.scratch.markAll();
  for (;;) {
    const idx = env.insnIdx;
    if (++env.insnProcessed > limit) {
      env.fail(
        `BPF program is too large. Processed ${env.insnProcessed} insn`,
        "the verifier walked too many instructions: a loop runs too long, or branches multiply paths; bound loops tighter",
      );
    }
    env.facts[idx]!.seen = true;
    if (env.cfg.prunePoint[idx] && isStateVisited(env, idx)) {
      if (env.level) {
        if (env.doPrintState) env.verbose(`\nfrom ${env.prevInsnIdx} to ${idx}: safe\n`);
        else env.verbose(`${idx}: safe\n`);
      }
      if (!processExit(env)) return;
      continue;
    }
    env.cur.hist.push(idx, 0);
    if (env.level) printBeforeInsn(env, idx);
    env.prevInsnIdx = idx;
    if (checkInsn(env, insns[idx]!) && !processExit(env)) return;
  }
}

function printBeforeInsn(env: Env, idx: number): void {
  if (env.level >= 2 && env.doPrintState) {
    env.verbose(`\nfrom ${env.prevInsnIdx} to ${idx}:` + stateText(env.cur, env.cur.frame));
    env.doPrintState = false;
  }
  if (env.scratch.any) env.printInsnState();
  env.doPrintState = false;
  printLineInfo(env, idx);
  env.prevLogPos = env.log.end;
  env.verbose(`${idx}: ${env.insnText(idx)}\n`);
  env.prevInsnPrintPos = env.log.end - env.prevLogPos;
  env.prevLogPos = env.log.end;
}

/** "; source line @ file.c:12" before the first instruction of each source line. */
function printLineInfo(env: Env, idx: number): void {
  const info = env.lineInfo;
  if (!info) return;
  const place = sourceOf(info, idx);
  if (!place) return;
  // Records of one line with other columns print nothing: the log shows no columns.
  const key = `${place.file}:${place.line}`;
  if (key === env.prevLineKey) return;
  env.prevLineKey = key;
  const file = place.file.slice(place.file.lastIndexOf("/") + 1);
  env.verbose(`; ${(place.text ?? "").trimStart()} @ ${file}:${place.line}\n`);
}

/** A path ended: take the next pending branch. Returns false when none is left. */
function processExit(env: Env): boolean {
  env.scratch.markAll();
  updateBranchCounts(env, env.cur.parent);
  const next = env.pending.pop();
  if (!next) return false;
  // log_level 1 keeps only the failing path: forget the trace of this one.
  if (env.level === 1) env.log.reset(next.logPos);
  env.cur = next.state;
  env.insnIdx = next.insnIdx;
  env.prevInsnIdx = next.prevInsnIdx;
  env.doPrintState = true;
  return true;
}

/** Check one instruction and move env.insnIdx on. True when the path ends here. */
function checkInsn(env: Env, insn: Insn): boolean {
  const cls = op.classOf(insn.code);
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64:
      checkAluOp(env, insn);
      env.insnIdx++;
      return false;
    case op.BPF_LDX: {
      env.checkRegArg(insn.src, RegArg.SRC);
      env.checkRegArg(insn.dst, RegArg.DST_NO_MARK);
      const sx = op.modeOf(insn.code) === op.BPF_MEMSX;
      checkMemAccess(
        env,
        insn.src,
        insn.off,
        op.sizeBytes(op.sizeOf(insn.code)),
        Access.READ,
        insn.dst,
        false,
        sx,
      );
      checkSamePointerKind(env);
      env.insnIdx++;
      return false;
    }
    case op.BPF_STX:
      if (op.modeOf(insn.code) === op.BPF_ATOMIC) checkAtomic(env, insn);
      else {
        if (op.modeOf(insn.code) !== op.BPF_MEM || insn.imm !== 0) {
          env.fail("BPF_STX uses reserved fields", "a register store takes no immediate");
        }
        env.checkRegArg(insn.src, RegArg.SRC);
        env.checkRegArg(insn.dst, RegArg.SRC);
        checkMemAccess(
          env,
          insn.dst,
          insn.off,
          op.sizeBytes(op.sizeOf(insn.code)),
          Access.WRITE,
          insn.src,
          false,
          false,
        );
        checkSamePointerKind(env);
      }
      env.insnIdx++;
      return false;
    case op.BPF_ST:
      if (op.modeOf(insn.code) !== op.BPF_MEM || insn.src !== 0) {
        env.fail("BPF_ST uses reserved fields", "an immediate store takes no source register");
      }
      env.checkRegArg(insn.dst, RegArg.SRC);
      checkMemAccess(
        env,
        insn.dst,
        insn.off,
        op.sizeBytes(op.sizeOf(insn.code)),
        Access.WRITE,
        -1,
        false,
        false,
      );
      checkSamePointerKind(env);
      env.insnIdx++;
      return false;
    case op.BPF_JMP:
    case op.BPF_JMP32:
      env.jmpsProcessed++;
      return checkJmp(env, insn, cls);
    default:
      if (op.modeOf(insn.code) === op.BPF_ABS || op.modeOf(insn.code) === op.BPF_IND) {
        checkLdAbs(env, insn);
        env.insnIdx++;
        return false;
      }
      if (op.modeOf(insn.code) !== op.BPF_IMM) env.fail("invalid BPF_LD mode", "unknown load mode");
      checkLdImm(env, insn);
      env.insnIdx += 2;
      return false;
  }
}

function checkJmp(env: Env, insn: Insn, cls: number): boolean {
  const jop = op.opOf(insn.code);
  if (jop === op.BPF_CALL) {
    const srcOk =
      insn.src === 0 || insn.src === op.BPF_PSEUDO_CALL || insn.src === op.BPF_PSEUDO_KFUNC_CALL;
    if (
      op.srcOf(insn.code) !== op.BPF_K ||
      (insn.src !== op.BPF_PSEUDO_KFUNC_CALL && insn.off !== 0) ||
      !srcOk ||
      insn.dst !== 0 ||
      cls === op.BPF_JMP32
    ) {
      env.fail("BPF_CALL uses reserved fields", "call takes only an immediate");
    }
    if (insn.src === op.BPF_PSEUDO_CALL) {
      checkFuncCall(env, insn);
      return false;
    }
    if (insn.src === op.BPF_PSEUDO_KFUNC_CALL) {
      env.fail("calling kernel functions is not supported", "kfuncs need the kernel's BTF");
    }
    checkHelperCall(env, insn);
    env.scratch.reg(0);
    env.insnIdx++;
    return false;
  }
  if (jop === op.BPF_JA) {
    if (
      op.srcOf(insn.code) !== op.BPF_K ||
      insn.src !== 0 ||
      insn.dst !== 0 ||
      (cls === op.BPF_JMP && insn.imm !== 0) ||
      (cls === op.BPF_JMP32 && insn.off !== 0)
    ) {
      env.fail("BPF_JA uses reserved fields", "goto takes only an offset");
    }
    env.insnIdx += (cls === op.BPF_JMP ? insn.off : insn.imm) + 1;
    return false;
  }
  if (jop === op.BPF_EXIT) return checkExit(env, insn);
  checkCondJmp(env, insn);
  return false;
}

/** BPF_STX | BPF_ATOMIC (check_atomic): read and write the same aligned memory. */
function checkAtomic(env: Env, insn: Insn): void {
  const imm = insn.imm;
  const ops = [op.BPF_ADD, op.BPF_AND, op.BPF_OR, op.BPF_XOR];
  const known =
    ops.includes(imm) ||
    ops.includes(imm & ~op.BPF_FETCH) ||
    imm === op.BPF_XCHG ||
    imm === op.BPF_CMPXCHG;
  if (!known)
    env.fail(
      `BPF_ATOMIC uses invalid atomic opcode ${imm.toString(16).padStart(2, "0")}`,
      "unknown atomic operation",
    );
  const size = op.sizeBytes(op.sizeOf(insn.code));
  if (size !== 4 && size !== 8)
    env.fail("invalid atomic operand size", "atomics work on 4 or 8 bytes");
  env.checkRegArg(insn.src, RegArg.SRC);
  env.checkRegArg(insn.dst, RegArg.SRC);
  if (imm === op.BPF_CMPXCHG) env.checkRegArg(0, RegArg.SRC);
  const dst = env.reg(insn.dst);
  if (dst.type === 2 /* ctx */) {
    env.fail(
      `BPF_ATOMIC stores into R${insn.dst} ctx is not allowed`,
      "atomics cannot target the context",
    );
  }
  let loadReg = -1;
  if (imm & op.BPF_FETCH) {
    loadReg = imm === op.BPF_CMPXCHG ? 0 : insn.src;
    env.checkRegArg(loadReg, RegArg.DST);
  }
  checkMemAccess(env, insn.dst, insn.off, size, Access.READ, loadReg, true, false);
  checkMemAccess(env, insn.dst, insn.off, size, Access.WRITE, -1, true, false);
  checkSamePointerKind(env);
}

/** An instruction touching the context must touch only the context (save_aux_ptr_type). */
function checkSamePointerKind(env: Env): void {
  const access = env.facts[env.insnIdx]!.access;
  if (access && access.length > 1 && access.includes("ctx")) {
    env.fail(
      "same insn cannot be used with different pointers",
      "this load/store reaches the context on one path and other memory on another: split it",
    );
  }
}

// ---- stack depth ----

/** Tracing programs on 6.18 give deep subprograms a private stack (bpf_enable_priv_stack). */
function privateStack(env: Env): boolean {
  if (env.opts.kernel !== "6.18") return false;
  const P = BpfProgType;
  const t = env.opts.progType;
  const tracing =
    t === P.BPF_PROG_TYPE_KPROBE ||
    t === P.BPF_PROG_TYPE_TRACEPOINT ||
    t === P.BPF_PROG_TYPE_PERF_EVENT ||
    t === P.BPF_PROG_TYPE_RAW_TRACEPOINT;
  return tracing && !env.cfg.subprogs.some((s) => s.hasTailCall);
}

/** check_max_stack_depth: frames on every call chain fit in 512 bytes together. */
function checkMaxStackDepth(env: Env): void {
  const subs = env.cfg.subprogs;
  const priv = privateStack(env);
  const round = (d: number): number => Math.ceil(d / 16) * 16;
  const visit = (idx: number, frames: number, depth: number, chain: number[]): void => {
    if (frames > MAX_CALL_FRAMES) {
      env.fail(`the call stack of ${frames} frames is too deep !`, "calls nest too deeply");
    }
    const own = round(env.stackDepth[idx]!);
    if (!(priv && own >= 64)) {
      depth += own;
      if (depth > MAX_BPF_STACK) {
        env.fail(
          `combined stack size of ${frames} calls is ${depth}. Too large`,
          `the stack frames of the nested calls add up to ${depth} bytes; all frames together may use ${MAX_BPF_STACK}`,
        );
      }
    }
    const sub = subs[idx]!;
    for (let i = sub.start; i < sub.end; i++) {
      const insn = env.insns[i]!;
      if (insn.code !== (op.BPF_JMP | op.BPF_CALL) || insn.src !== op.BPF_PSEUDO_CALL) continue;
      const target = i + insn.imm + 1;
      const callee = subs.findIndex((s) => s.start === target);
      if (callee < 0 || chain.includes(callee)) continue;
      visit(callee, frames + 1, depth, [...chain, callee]);
    }
  };
  visit(0, 1, 0, [0]);
}
