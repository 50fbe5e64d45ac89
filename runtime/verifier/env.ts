// The verifier's working state for one program (struct bpf_verifier_env): the program and its
// structure, the current path's state, pending branches, remembered states, counters and the
// log. The check_* modules take an Env and work on env.cur.
import type { Insn } from "../isa/insn.js";
import type { HelperContext } from "../uapi/helpers.js";
import type { ProgramCfg } from "./cfg.js";
import { VerifyAbort } from "./errors.js";
import { Scratch, stateColumnPad, stateText, VerifierLog } from "./log.js";
import type { InsnFact } from "./facts.js";
import { insnString, kernelLddwText } from "./print.js";
import { RegState, RegType } from "./reg.js";
import type { MapInfo } from "./reg.js";
import { NOT_INIT, VerifierState } from "./state.js";
import { markUnknownScalar } from "./bounds.js";

export type KernelSetting = "4.1" | "6.1" | "6.18";

export interface EnvOptions {
  progType: number;
  expectedAttachType: number;
  gplCompatible: boolean;
  kernel: KernelSetting;
  unpriv: boolean;
  helperContext: HelperContext;
  nrCpus: number;
  mapByFd(fd: number): MapInfo | undefined;
  /** BTF func_info of the subprograms, when the program has it (linkage 0 = static) */
  funcInfo: readonly { insnOff: number; linkage?: number }[] | undefined;
}

/** A branch waiting to be walked (struct bpf_verifier_stack_elem). */
export interface PendingBranch {
  state: VerifierState;
  insnIdx: number;
  prevInsnIdx: number;
  logPos: number;
}

/** A remembered state at a prune point. */
export interface Checkpoint {
  state: VerifierState;
  hits: number;
  misses: number;
  /** the kernel's hash bucket of explored states this one sits in (see prune.ts) */
  bucket: number;
}

export const enum RegArg {
  SRC = 0,
  DST = 1,
  DST_NO_MARK = 2,
}

export class Env {
  readonly insns: readonly Insn[];
  readonly opts: EnvOptions;
  readonly cfg: ProgramCfg;
  readonly liveBefore: Uint16Array;
  readonly log: VerifierLog;
  readonly scratch = new Scratch();
  readonly facts: InsnFact[];
  /** deepest stack use (bytes) of each subprogram */
  readonly stackDepth: number[];

  cur!: VerifierState;
  insnIdx = 0;
  prevInsnIdx = -1;
  readonly pending: PendingBranch[] = [];
  readonly explored: (Checkpoint[] | undefined)[];
  /** remembered states per hash bucket of the kernel's explored_states table */
  readonly bucketSize: Int32Array;
  /** sets of linked scalar registers recorded at conditional jumps, for backtracking */
  readonly linkedSets: number[][] = [];

  idGen = 0;
  insnProcessed = 0;
  jmpsProcessed = 0;
  prevJmpsProcessed = 0;
  prevInsnProcessed = 0;
  totalStates = 0;
  /** remembered states not yet evicted */
  liveStates = 0;
  peakStates = 0;
  maxStatesPerInsn = 0;
  /** loop (strongly connected component) of each instruction, 0 outside loops */
  scc: Int32Array = new Int32Array(0);
  /** the checkpoint that entered each loop instance still being explored, by call chain */
  readonly sccEntries = new Map<string, VerifierState>();
  /** complexity limit override (tests and fuzzing) */
  insnLimit: number | undefined;
  /** a new checkpoint must be taken at the next prune point (after a call) */
  forceNewState = false;

  // log bookkeeping, as the kernel keeps it
  prevLogPos = 0;
  prevInsnPrintPos = 0;
  /** the current branch came from the pending stack: print its state first */
  doPrintState = false;
  /** line info for "; source @ file:line" log lines */
  lineInfo:
    | readonly { insnOff: number; file: string; line: number; col: number; text?: string }[]
    | undefined;
  prevLineKey = "";

  constructor(
    insns: readonly Insn[],
    opts: EnvOptions,
    cfg: ProgramCfg,
    liveBefore: Uint16Array,
    log: VerifierLog,
    facts: InsnFact[],
  ) {
    this.insns = insns;
    this.opts = opts;
    this.cfg = cfg;
    this.liveBefore = liveBefore;
    this.log = log;
    this.facts = facts;
    this.stackDepth = cfg.subprogs.map(() => 0);
    this.explored = new Array(insns.length);
    this.bucketSize = new Int32Array(insns.length);
  }

  get level(): number {
    return this.log.level;
  }

  /** Kernels from 5.x on: privileged loaders may read uninitialised stack, leak pointers... */
  get priv(): boolean {
    return !this.opts.unpriv;
  }

  /** Reading stack that was never written gives an unknown value (privileged, kernels >= 5.x). */
  get allowUninitStack(): boolean {
    return !this.opts.unpriv && this.opts.kernel !== "4.1";
  }

  get modern(): boolean {
    return this.opts.kernel !== "4.1";
  }

  verbose(s: string): void {
    if (this.log.level) this.log.write(s);
  }

  /** Stop verification with the kernel's message (printed to the log) and a hint. */
  fail(message: string, hint: string, errno?: number): never {
    this.verbose(message + "\n");
    throw new VerifyAbort(message, hint, this.insnIdx, errno);
  }

  /** fail() for the kernel's one message that ends without a newline. */
  failNoNewline(message: string, hint: string): never {
    this.verbose(message);
    throw new VerifyAbort(message, hint, this.insnIdx);
  }

  /** Stop verification; the message is already in the log. */
  abort(message: string, hint: string): never {
    throw new VerifyAbort(message, hint, this.insnIdx);
  }

  /** A copy of the current state to walk later from `insnIdx` (push_stack). */
  pushState(insnIdx: number, prevInsnIdx: number): VerifierState {
    const st = this.cur.copy();
    this.pending.push({ state: st, insnIdx, prevInsnIdx, logPos: this.log.end });
    if (this.pending.length > 8192) {
      this.fail(
        `The sequence of ${this.pending.length} jumps is too complex.`,
        "too many branches are waiting to be explored: simplify the control flow",
      );
    }
    if (st.parent) st.parent.branches++;
    return st;
  }

  newId(): number {
    return ++this.idGen;
  }

  // ---- registers of the current frame ----

  get regs(): RegState[] {
    return this.cur.frames[this.cur.curframe]!.regs;
  }

  reg(r: number): RegState {
    return this.regs[r]!;
  }

  setReg(r: number, reg: RegState): void {
    this.regs[r] = reg;
  }

  /** check_reg_arg(): a source must be initialised; r10 cannot be a destination. */
  checkRegArg(r: number, kind: RegArg): void {
    if (r >= 11) this.fail(`R${r} is invalid`, "BPF has registers r0 to r10 only");
    this.scratch.reg(r);
    if (kind === RegArg.SRC) {
      if (this.regs[r]!.type === RegType.NOT_INIT) {
        this.fail(
          `R${r} !read_ok`,
          `r${r} is read here but no value was written to it on this path`,
        );
      }
      return;
    }
    if (r === 10)
      this.fail(
        "frame pointer is read only",
        "r10 holds the stack frame address and cannot be written",
      );
    if (kind === RegArg.DST) {
      const reg = new RegState();
      markUnknownScalar(reg);
      this.regs[r] = reg;
    }
  }

  markRegNotInit(r: number): void {
    this.regs[r] = NOT_INIT;
  }

  // ---- log ----

  /** The kernel's print of one instruction: "(b7) r0 = 0". */
  insnText(i: number): string {
    return insnString(this.insns, i, kernelLddwText);
  }

  /** print_verifier_state() of one frame. */
  printState(frameno: number, all: boolean): void {
    if (!this.log.level) return;
    const frame = this.cur.frames[frameno]!;
    this.verbose(stateText(this.cur, frame, all ? undefined : this.scratch));
    if (!all) this.scratch.clean();
  }

  /** print_insn_state(): the scratched state, appended to the instruction's line when possible. */
  printInsnState(): void {
    if (!this.log.level) return;
    if (this.prevLogPos && this.prevLogPos === this.log.end) {
      this.log.reset(this.prevLogPos - 1);
      this.verbose(" ".repeat(stateColumnPad(this.prevInsnPrintPos) - 1) + " ;");
    } else {
      this.verbose(`${this.insnIdx}:`);
    }
    this.printState(this.cur.curframe, false);
  }
}
