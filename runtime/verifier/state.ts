// Verifier states (struct bpf_verifier_state / bpf_func_state): the registers and stack of
// every call frame on one path, the references it holds, and its place in the tree of
// checkpoints used for pruning and precision backtracking.
//
// Stack: one StackSlot per 8 bytes (spi 0 is fp-8..fp-1). Each of its 8 bytes has a type; byte
// i of the slot (the kernel's slot_type[i]) is at offset -(spi*8 + i + 1), so byte 7 is the
// lowest address. A slot's `spilled` register is what a register spill left there. Slots and
// RegStates are immutable: copying a frame copies arrays of references.
import { RegState, RegType } from "./reg.js";
import { knownScalar } from "./bounds.js";
import * as u from "./u64.js";

export const STACK_INVALID = 0;
export const STACK_SPILL = 1;
export const STACK_MISC = 2;
export const STACK_ZERO = 3;

export const BPF_REG_SIZE = 8;
export const MAX_BPF_REG = 11;
export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;

const TYPE_CHARS = ["?", "r", "m", "0"];

export class StackSlot {
  constructor(
    /** byte types packed two bits per byte: byte i at bits 2i..2i+1 */
    readonly types: number,
    /** the spilled register (for STACK_SPILL bytes), else undefined */
    readonly spilled: RegState | undefined,
  ) {}

  typeAt(i: number): number {
    return (this.types >>> (2 * i)) & 3;
  }

  /** The kernel's is_spilled_reg(): byte 7 (the lowest address) holds a spill. */
  get isSpill(): boolean {
    return this.typeAt(7) === STACK_SPILL;
  }

  get isSpilledScalar(): boolean {
    return this.isSpill && this.spilled?.type === RegType.SCALAR_VALUE;
  }

  /** How many bytes (from byte 7 down) hold the spill. */
  get spillSize(): number {
    let n = 0;
    for (let i = 7; i >= 0 && this.typeAt(i) === STACK_SPILL; i--) n++;
    return n;
  }

  /** Every byte is uninitialised. */
  get isEmpty(): boolean {
    return this.types === 0;
  }

  /** "0000????"-style text of the byte types (slot_type[0] first). */
  typeString(): string {
    let s = "";
    for (let i = 0; i < 8; i++) s += TYPE_CHARS[this.typeAt(i)];
    return s;
  }
}

export const EMPTY_SLOT = new StackSlot(0, undefined);

/** All eight bytes of one type. */
export const uniformTypes = (type: number): number => {
  let t = 0;
  for (let i = 0; i < 8; i++) t |= type << (2 * i);
  return t;
};

export const withType = (types: number, i: number, type: number): number =>
  (types & ~(3 << (2 * i))) | (type << (2 * i));

export class FuncState {
  regs: RegState[];
  /** slot spi covers fp-(spi+1)*8 .. fp-spi*8-1 */
  stack: StackSlot[];
  /** a callback a helper (bpf_loop, bpf_for_each_map_elem) calls: its exit goes back to the call */
  inCallbackFn = false;
  /** the range r0 must lie in when a callback returns (callback_ret_range) */
  callbackRetMin = 0;
  callbackRetMax = 0;
  /** callback visits started from the helper call this frame is at (callback_depth) */
  callbackDepth = 0;
  constructor(
    /** the call instruction that made this frame (-1 for the main function) */
    readonly callsite: number,
    readonly frameno: number,
    /** index of the subprogram this frame runs */
    readonly subprog: number,
    regs?: RegState[],
    stack?: StackSlot[],
  ) {
    this.regs = regs ?? new Array<RegState>(MAX_BPF_REG);
    this.stack = stack ?? [];
  }

  copy(): FuncState {
    const f = new FuncState(
      this.callsite,
      this.frameno,
      this.subprog,
      this.regs.slice(),
      this.stack.slice(),
    );
    f.inCallbackFn = this.inCallbackFn;
    f.callbackRetMin = this.callbackRetMin;
    f.callbackRetMax = this.callbackRetMax;
    f.callbackDepth = this.callbackDepth;
    return f;
  }

  /** Bytes of stack in use (allocated_stack). */
  get allocatedStack(): number {
    return this.stack.length * BPF_REG_SIZE;
  }

  slot(spi: number): StackSlot {
    return this.stack[spi] ?? EMPTY_SLOT;
  }

  /** Make room for `size` bytes below the frame pointer (grow_stack_state). */
  grow(size: number): void {
    const slots = Math.ceil(size / BPF_REG_SIZE);
    while (this.stack.length < slots) this.stack.push(EMPTY_SLOT);
  }
}

/** The state on entry to a frame: r1..r5 as given, r10 the frame pointer, the rest unset. */
export function initFuncState(
  callsite: number,
  frameno: number,
  subprog: number,
  args: readonly RegState[],
): FuncState {
  const f = new FuncState(callsite, frameno, subprog);
  for (let i = 0; i < MAX_BPF_REG; i++) f.regs[i] = NOT_INIT;
  for (let i = 0; i < args.length; i++) f.regs[i + 1] = args[i]!;
  const fp = knownScalar(u.ZERO);
  fp.type = RegType.PTR_TO_STACK;
  fp.frameno = frameno;
  f.regs[10] = fp;
  return f;
}

export const NOT_INIT = new RegState();

export interface RefState {
  /** the reference id (ref_obj_id of the pointers holding it) */
  readonly id: number;
  /** the instruction that acquired it */
  readonly insnIdx: number;
}

/**
 * Instructions walked since the parent checkpoint, for precision backtracking: pairs of
 * (instruction index, flags). Flags: 0 nothing; > 0 a register spill/fill at a fixed stack
 * offset, 1 + frameno * 64 + spi; < 0 a conditional jump that linked scalars, -(k + 1) with k an
 * index into Env.linkedSets.
 */
export type History = number[];

export class VerifierState {
  frames: FuncState[];
  curframe: number;
  refs: RefState[];
  /** the checkpoint this path continues from */
  parent: VerifierState | undefined;
  /** live paths below this checkpoint; 0 once it is fully explored */
  branches = 1;
  /** instruction of a checkpoint */
  insnIdx = 0;
  hist: History;
  /** callback bodies entered on this path (callback_unroll_depth) */
  callbackUnrollDepth = 0;
  /** checkpoints above this state on its path (dfs_depth) */
  dfsDepth = 0;
  /** a checkpoint dropped from pruning but not freed yet (in the kernel's free list) */
  evicted = false;

  constructor(
    frames: FuncState[],
    curframe: number,
    refs: RefState[],
    parent: VerifierState | undefined,
    hist: History,
  ) {
    this.frames = frames;
    this.curframe = curframe;
    this.refs = refs;
    this.parent = parent;
    this.hist = hist;
  }

  /** A copy for another path (push_stack / a checkpoint). */
  copy(): VerifierState {
    const s = new VerifierState(
      this.frames.map((f) => f.copy()),
      this.curframe,
      this.refs.slice(),
      this.parent,
      this.hist.slice(),
    );
    s.insnIdx = this.insnIdx;
    s.callbackUnrollDepth = this.callbackUnrollDepth;
    s.dfsDepth = this.dfsDepth;
    return s;
  }

  get frame(): FuncState {
    return this.frames[this.curframe]!;
  }

  get regs(): RegState[] {
    return this.frames[this.curframe]!.regs;
  }
}

/** The program's state at its first instruction: r1 = ctx, r10 = fp. */
export function initialState(): VerifierState {
  const ctx = knownScalar(u.ZERO);
  ctx.type = RegType.PTR_TO_CTX;
  const frame = initFuncState(-1, 0, 0, [ctx]);
  return new VerifierState([frame], 0, [], undefined, []);
}
