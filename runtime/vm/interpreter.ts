// The reference interpreter: one dispatch over opcodes, exact 64-bit semantics (RFC 9669 and
// clang -mcpu=v1..v4), every load and store checked against the address space.
//
// Machine state
//   regs      Int32Array(22): regs[2*i] low word, regs[2*i+1] high word of r_i (the helper ABI).
//   stack     one region of MAX_CALL_FRAMES * 512 bytes. Frame k (k = 0 for the entry function)
//             has r10 = top - k*512. The region's accessible window is [deepest frame's bottom,
//             top): a callee may use pointers into its callers' frames (the kernel allows it),
//             but nothing below the deepest live frame is reachable. The stack is not cleared
//             between runs (nor is it in the kernel); it is zeroed when first allocated.
//   frames    for a BPF-to-BPF call: return pc, the caller's r6-r9 and program. r6-r9 are
//             restored on exit from the callee, r10 is recomputed from the depth.
//
// Semantics worth stating (RFC 9669 section 4): division by zero gives 0, modulo by zero leaves
// dst; 32-bit operations zero the high word (also for a modulo by zero); shift amounts are masked
// to the operand width; sdiv INT_MIN / -1 = INT_MIN and smod INT_MIN % -1 = 0; immediates of
// 64-bit operations are sign-extended (also for div/mod, which then divide unsigned); legacy
// ld_abs/ld_ind read big-endian from the run's packet region and end the program with r0 = 0
// when out of bounds, as the kernel does.
//
// Counting: every dispatched instruction counts once (lddw included, as one). The budget counts
// down in int32-sized chunks so the counter stays a small integer in the hot loop.
//
// Speed: the program is predecoded once (runtime/vm/program.ts); the loop keeps the register
// file, the code and the data view in locals; rare operations (64-bit mul/div/mod, shifts, byte
// swaps, atomics, calls) live in small functions.
import * as alu from "./alu64.js";
import { BudgetExceeded, VmFault } from "./fault.js";
import type { Helper, HelperContext, HelperTable } from "./helpers.js";
import { AddressSpace, KERNEL_HI, MemoryFault, type Access, type Region } from "./memory.js";
import type { Program } from "./program.js";
import { MAX_BPF_STACK, MAX_CALL_FRAMES } from "../isa/opcodes.js";

/** Opcodes the dispatch knows, named as the kernel's interpreter names them. */
const enum Op {
  ALU_ADD_K = 0x04,
  ALU_ADD_X = 0x0c,
  ALU_SUB_K = 0x14,
  ALU_SUB_X = 0x1c,
  ALU_MUL_K = 0x24,
  ALU_MUL_X = 0x2c,
  ALU_DIV_K = 0x34,
  ALU_DIV_X = 0x3c,
  ALU_OR_K = 0x44,
  ALU_OR_X = 0x4c,
  ALU_AND_K = 0x54,
  ALU_AND_X = 0x5c,
  ALU_LSH_K = 0x64,
  ALU_LSH_X = 0x6c,
  ALU_RSH_K = 0x74,
  ALU_RSH_X = 0x7c,
  ALU_NEG = 0x84,
  ALU_MOD_K = 0x94,
  ALU_MOD_X = 0x9c,
  ALU_XOR_K = 0xa4,
  ALU_XOR_X = 0xac,
  ALU_MOV_K = 0xb4,
  ALU_MOV_X = 0xbc,
  ALU_ARSH_K = 0xc4,
  ALU_ARSH_X = 0xcc,
  ALU_END_TO_LE = 0xd4,
  ALU_END_TO_BE = 0xdc,

  ALU64_ADD_K = 0x07,
  ALU64_ADD_X = 0x0f,
  ALU64_SUB_K = 0x17,
  ALU64_SUB_X = 0x1f,
  ALU64_MUL_K = 0x27,
  ALU64_MUL_X = 0x2f,
  ALU64_DIV_K = 0x37,
  ALU64_DIV_X = 0x3f,
  ALU64_OR_K = 0x47,
  ALU64_OR_X = 0x4f,
  ALU64_AND_K = 0x57,
  ALU64_AND_X = 0x5f,
  ALU64_LSH_K = 0x67,
  ALU64_LSH_X = 0x6f,
  ALU64_RSH_K = 0x77,
  ALU64_RSH_X = 0x7f,
  ALU64_NEG = 0x87,
  ALU64_MOD_K = 0x97,
  ALU64_MOD_X = 0x9f,
  ALU64_XOR_K = 0xa7,
  ALU64_XOR_X = 0xaf,
  ALU64_MOV_K = 0xb7,
  ALU64_MOV_X = 0xbf,
  ALU64_ARSH_K = 0xc7,
  ALU64_ARSH_X = 0xcf,
  ALU64_END = 0xd7, // bswap16/32/64

  JMP_JA = 0x05,
  JMP_JEQ_K = 0x15,
  JMP_JEQ_X = 0x1d,
  JMP_JGT_K = 0x25,
  JMP_JGT_X = 0x2d,
  JMP_JGE_K = 0x35,
  JMP_JGE_X = 0x3d,
  JMP_JSET_K = 0x45,
  JMP_JSET_X = 0x4d,
  JMP_JNE_K = 0x55,
  JMP_JNE_X = 0x5d,
  JMP_JSGT_K = 0x65,
  JMP_JSGT_X = 0x6d,
  JMP_JSGE_K = 0x75,
  JMP_JSGE_X = 0x7d,
  JMP_CALL = 0x85,
  JMP_CALLX = 0x8d,
  JMP_EXIT = 0x95,
  JMP_JLT_K = 0xa5,
  JMP_JLT_X = 0xad,
  JMP_JLE_K = 0xb5,
  JMP_JLE_X = 0xbd,
  JMP_JSLT_K = 0xc5,
  JMP_JSLT_X = 0xcd,
  JMP_JSLE_K = 0xd5,
  JMP_JSLE_X = 0xdd,

  JMP32_JA = 0x06, // gotol: 32-bit offset in imm
  JMP32_JEQ_K = 0x16,
  JMP32_JEQ_X = 0x1e,
  JMP32_JGT_K = 0x26,
  JMP32_JGT_X = 0x2e,
  JMP32_JGE_K = 0x36,
  JMP32_JGE_X = 0x3e,
  JMP32_JSET_K = 0x46,
  JMP32_JSET_X = 0x4e,
  JMP32_JNE_K = 0x56,
  JMP32_JNE_X = 0x5e,
  JMP32_JSGT_K = 0x66,
  JMP32_JSGT_X = 0x6e,
  JMP32_JSGE_K = 0x76,
  JMP32_JSGE_X = 0x7e,
  JMP32_JLT_K = 0xa6,
  JMP32_JLT_X = 0xae,
  JMP32_JLE_K = 0xb6,
  JMP32_JLE_X = 0xbe,
  JMP32_JSLT_K = 0xc6,
  JMP32_JSLT_X = 0xce,
  JMP32_JSLE_K = 0xd6,
  JMP32_JSLE_X = 0xde,

  LD_IMM_DW = 0x18,
  LD_ABS_W = 0x20,
  LD_ABS_H = 0x28,
  LD_ABS_B = 0x30,
  LD_IND_W = 0x40,
  LD_IND_H = 0x48,
  LD_IND_B = 0x50,

  LDX_MEM_W = 0x61,
  LDX_MEM_H = 0x69,
  LDX_MEM_B = 0x71,
  LDX_MEM_DW = 0x79,
  LDX_MEMSX_W = 0x81,
  LDX_MEMSX_H = 0x89,
  LDX_MEMSX_B = 0x91,

  ST_MEM_W = 0x62,
  ST_MEM_H = 0x6a,
  ST_MEM_B = 0x72,
  ST_MEM_DW = 0x7a,

  STX_MEM_W = 0x63,
  STX_MEM_H = 0x6b,
  STX_MEM_B = 0x73,
  STX_MEM_DW = 0x7b,
  STX_ATOMIC_W = 0xc3,
  STX_ATOMIC_DW = 0xdb,
}

// Atomic operations (imm of STX_ATOMIC_*).
const BPF_FETCH = 0x01;
const ATOMIC_ADD = 0x00;
const ATOMIC_OR = 0x40;
const ATOMIC_AND = 0x50;
const ATOMIC_XOR = 0xa0;
const ATOMIC_XCHG = 0xe0 | BPF_FETCH;
const ATOMIC_CMPXCHG = 0xf0 | BPF_FETCH;

const STACK_SIZE = MAX_CALL_FRAMES * MAX_BPF_STACK;
/** Default instruction budget of one run (about 10 s of interpretation). */
export const DEFAULT_BUDGET = 1 << 30;
const BUDGET_CHUNK = 1 << 30;

// Control requests a helper leaves for the dispatch loop.
const REQUEST_NONE = 0;
const REQUEST_STOP = 1;
const REQUEST_TAIL_CALL = 2;

export interface InterpreterOptions<Host> {
  memory: AddressSpace;
  helpers?: HelperTable<Host>;
  host?: Host;
  /** A stack region of at least MAX_CALL_FRAMES * 512 bytes (one is allocated if absent). */
  stack?: Region;
}

export interface RunOptions {
  /** r1, r2, ... on entry as [lo, hi] pairs; other registers start at 0. */
  args?: ReadonlyArray<readonly [number, number]>;
  /** Maximum instructions to execute (default DEFAULT_BUDGET). */
  budget?: number;
  /** The packet that legacy ld_abs / ld_ind read (a socket filter's skb data). */
  packet?: Region;
}

export interface RunResult {
  /** r0 at exit */
  lo: number;
  hi: number;
  /** instructions executed */
  insns: number;
}

/** Carry-in for the high word of base + sign-extended 16-bit offset, given the low result. */
function addressHi(baseLo: number, baseHi: number, off: number, lo: number): number {
  return (baseHi + (off >> 31) + (lo >>> 0 < baseLo >>> 0 ? 1 : 0)) | 0;
}

export class Interpreter<Host = unknown> implements HelperContext<Host> {
  readonly regs = new Int32Array(22);
  readonly memory: AddressSpace;
  readonly host: Host;
  readonly helpers: HelperTable<Host> | undefined;
  readonly stack: Region;
  private readonly stackTop: number; // linear offset one past the stack

  program!: Program;
  /** Index of the instruction being executed when a helper runs. */
  pc = 0;
  /** Instructions executed by the last (or current) run. */
  insns = 0;
  tailCallCount = 0;

  private depth = 0;
  private running = false;
  private readonly returnPc = new Int32Array(MAX_CALL_FRAMES);
  private readonly savedRegs = new Int32Array(MAX_CALL_FRAMES * 8); // r6-r9 of each caller
  private readonly framePrograms: Program[] = [];
  private packet: Region | undefined;
  private request = REQUEST_NONE;
  private tailTarget: Program | undefined;
  // Budget, counted in chunks: `left` is the dispatch loop's counter (synced around helper
  // calls) within the current chunk of `chunk` instructions; `spent` counts earlier chunks.
  private left = 0;
  private chunk = 0;
  private spent = 0;
  private budget = 0;

  constructor(options: InterpreterOptions<Host>) {
    this.memory = options.memory;
    this.helpers = options.helpers;
    this.host = options.host as Host;
    this.stack =
      options.stack ?? this.memory.alloc(STACK_SIZE, { name: "stack", kind: "stack", align: 16 });
    if (this.stack.size < STACK_SIZE) {
      throw new VmFault(
        "interpreter",
        0,
        `stack region '${this.stack.name}' is smaller than ${STACK_SIZE} bytes`,
      );
    }
    this.stackTop = this.stack.base + this.stack.size;
  }

  /** Run `program` from instruction 0 and return r0. */
  run(program: Program, options: RunOptions = {}): RunResult {
    if (this.running) {
      // One interpreter is one CPU's machine; the kernel's bpf_prog_active keeps a second
      // program from starting on a CPU that is running one. Use another Interpreter.
      throw new VmFault(
        program.name,
        0,
        "interpreter is already running a program (not re-entrant)",
      );
    }
    const regs = this.regs;
    regs.fill(0);
    const args = options.args ?? [];
    for (let i = 0; i < args.length && i < 5; i++) {
      regs[2 + 2 * i] = args[i]![0] | 0;
      regs[3 + 2 * i] = args[i]![1] | 0;
    }
    this.program = program;
    this.packet = options.packet;
    this.request = REQUEST_NONE;
    this.tailCallCount = 0;
    this.depth = 0;
    this.setFramePointer();
    const budget = Math.floor(options.budget ?? DEFAULT_BUDGET);
    if (!(budget >= 0)) throw new VmFault(program.name, 0, `bad instruction budget ${budget}`);
    this.budget = budget;
    this.spent = 0;
    this.chunk = Math.min(budget, BUDGET_CHUNK);
    this.left = this.chunk;
    this.memory.enterRun();
    this.running = true;
    try {
      this.execute(program, 0, 0);
    } finally {
      this.running = false;
      this.memory.exitRun();
      this.insns = this.executed();
    }
    return { lo: regs[0]!, hi: regs[1]!, insns: this.insns };
  }

  private executed(): number {
    return this.spent + this.chunk - this.left;
  }

  /** r10 and the stack window for the current depth. */
  private setFramePointer(): void {
    const fp = this.stackTop - this.depth * MAX_BPF_STACK;
    this.regs[20] = fp | 0;
    this.regs[21] = KERNEL_HI;
    this.stack.start = fp - MAX_BPF_STACK;
  }

  /** Called when the chunk counter runs out: take the next chunk or stop the run. */
  private refill(pc: number): number {
    this.spent += this.chunk;
    const remaining = this.budget - this.spent;
    if (remaining <= 0) {
      this.chunk = 0;
      this.left = 0;
      throw new BudgetExceeded(this.program.name, pc, this.budget);
    }
    this.chunk = Math.min(remaining, BUDGET_CHUNK);
    return this.chunk - 1; // this instruction is the first of the new chunk
  }

  // ---- helper context ----

  stop(): void {
    this.request = REQUEST_STOP;
  }

  tailCall(target: Program): void {
    this.request = REQUEST_TAIL_CALL;
    this.tailTarget = target;
  }

  callSubprogram(pc: number, args: readonly number[]): { lo: number; hi: number } {
    const program = this.program;
    if (!Number.isInteger(pc) || pc < 0 || pc >= program.length) {
      throw new VmFault(program.name, this.pc, `callback target ${pc} is outside the program`);
    }
    const saved = this.regs.slice();
    const savedPc = this.pc;
    this.pushFrame(this.pc, program);
    for (let i = 0; i < 10; i++) this.regs[2 + i] = args[i] ?? 0;
    this.execute(program, pc, this.depth);
    const result = { lo: this.regs[0]!, hi: this.regs[1]! };
    this.depth--;
    this.setFramePointer();
    this.regs.set(saved);
    this.pc = savedPc;
    this.program = program;
    return result;
  }

  // ---- frames ----

  private pushFrame(returnPc: number, program: Program): void {
    const depth = this.depth;
    if (depth + 1 >= MAX_CALL_FRAMES) {
      throw new VmFault(
        program.name,
        this.pc,
        `call depth limit of ${MAX_CALL_FRAMES} frames exceeded`,
      );
    }
    const regs = this.regs;
    const saved = this.savedRegs;
    const at = depth << 3; // r6-r9, unrolled: this runs on every call
    saved[at] = regs[12]!;
    saved[at + 1] = regs[13]!;
    saved[at + 2] = regs[14]!;
    saved[at + 3] = regs[15]!;
    saved[at + 4] = regs[16]!;
    saved[at + 5] = regs[17]!;
    saved[at + 6] = regs[18]!;
    saved[at + 7] = regs[19]!;
    this.returnPc[depth] = returnPc;
    this.framePrograms[depth] = program;
    this.depth = depth + 1;
    this.setFramePointer();
  }

  /** Pop the current frame; returns the pc to continue at in the caller. */
  private popFrame(): number {
    const depth = --this.depth;
    const regs = this.regs;
    const saved = this.savedRegs;
    const at = depth << 3;
    regs[12] = saved[at]!;
    regs[13] = saved[at + 1]!;
    regs[14] = saved[at + 2]!;
    regs[15] = saved[at + 3]!;
    regs[16] = saved[at + 4]!;
    regs[17] = saved[at + 5]!;
    regs[18] = saved[at + 6]!;
    regs[19] = saved[at + 7]!;
    this.program = this.framePrograms[depth]!;
    this.setFramePointer();
    return this.returnPc[depth]!;
  }

  // ---- faults ----

  // Faults raised in the dispatch loop pass its counter, so `insns` stays exact.

  private memoryFault(
    pc: number,
    lo: number,
    hi: number,
    size: number,
    access: Access,
    left = this.left,
  ): VmFault {
    this.left = left;
    const fault = this.memory.describeFault(lo, hi, size, access);
    return new VmFault(this.program.name, pc, fault.message, fault);
  }

  private fault(pc: number, reason: string, left = this.left): VmFault {
    this.left = left;
    return new VmFault(this.program.name, pc, reason);
  }

  // ---- the dispatch loop ----

  /**
   * Execute from `startPc` until the frame at `baseDepth` exits (or a helper stops the run).
   * BPF-to-BPF calls stay inside this loop; only callbacks (callSubprogram) nest it.
   */
  private execute(startProgram: Program, startPc: number, baseDepth: number): void {
    const regs = this.regs;
    const memory = this.memory;
    let program = startProgram;
    let code = program.code;
    let view = memory.view;
    let pc = startPc;
    let left = this.left;

    for (;;) {
      if (--left < 0) left = this.refill(pc);
      const w = code[pc << 1]!;
      const imm = code[(pc << 1) | 1]!;
      const d = (w >>> 7) & 0x1e; // 2 * dst_reg
      const s = (w >>> 11) & 0x1e; // 2 * src_reg
      const off = w >> 16;
      pc++;

      switch (w & 0xff) {
        // ---- 32-bit ALU: result in the low word, high word zeroed ----
        case Op.ALU_ADD_K:
          regs[d] = regs[d]! + imm;
          regs[d + 1] = 0;
          break;
        case Op.ALU_ADD_X:
          regs[d] = regs[d]! + regs[s]!;
          regs[d + 1] = 0;
          break;
        case Op.ALU_SUB_K:
          regs[d] = regs[d]! - imm;
          regs[d + 1] = 0;
          break;
        case Op.ALU_SUB_X:
          regs[d] = regs[d]! - regs[s]!;
          regs[d + 1] = 0;
          break;
        case Op.ALU_MUL_K:
          regs[d] = Math.imul(regs[d]!, imm);
          regs[d + 1] = 0;
          break;
        case Op.ALU_MUL_X:
          regs[d] = Math.imul(regs[d]!, regs[s]!);
          regs[d + 1] = 0;
          break;
        case Op.ALU_DIV_K:
          regs[d] = div32(regs[d]!, imm, off);
          regs[d + 1] = 0;
          break;
        case Op.ALU_DIV_X:
          regs[d] = div32(regs[d]!, regs[s]!, off);
          regs[d + 1] = 0;
          break;
        case Op.ALU_MOD_K:
          regs[d] = mod32(regs[d]!, imm, off);
          regs[d + 1] = 0;
          break;
        case Op.ALU_MOD_X:
          regs[d] = mod32(regs[d]!, regs[s]!, off);
          regs[d + 1] = 0;
          break;
        case Op.ALU_OR_K:
          regs[d] = regs[d]! | imm;
          regs[d + 1] = 0;
          break;
        case Op.ALU_OR_X:
          regs[d] = regs[d]! | regs[s]!;
          regs[d + 1] = 0;
          break;
        case Op.ALU_AND_K:
          regs[d] = regs[d]! & imm;
          regs[d + 1] = 0;
          break;
        case Op.ALU_AND_X:
          regs[d] = regs[d]! & regs[s]!;
          regs[d + 1] = 0;
          break;
        case Op.ALU_XOR_K:
          regs[d] = regs[d]! ^ imm;
          regs[d + 1] = 0;
          break;
        case Op.ALU_XOR_X:
          regs[d] = regs[d]! ^ regs[s]!;
          regs[d + 1] = 0;
          break;
        case Op.ALU_LSH_K:
          regs[d] = regs[d]! << (imm & 31);
          regs[d + 1] = 0;
          break;
        case Op.ALU_LSH_X:
          regs[d] = regs[d]! << (regs[s]! & 31);
          regs[d + 1] = 0;
          break;
        case Op.ALU_RSH_K:
          regs[d] = regs[d]! >>> (imm & 31);
          regs[d + 1] = 0;
          break;
        case Op.ALU_RSH_X:
          regs[d] = regs[d]! >>> (regs[s]! & 31);
          regs[d + 1] = 0;
          break;
        case Op.ALU_ARSH_K:
          regs[d] = regs[d]! >> (imm & 31);
          regs[d + 1] = 0;
          break;
        case Op.ALU_ARSH_X:
          regs[d] = regs[d]! >> (regs[s]! & 31);
          regs[d + 1] = 0;
          break;
        case Op.ALU_NEG:
          regs[d] = -regs[d]!;
          regs[d + 1] = 0;
          break;
        case Op.ALU_MOV_K:
          regs[d] = imm;
          regs[d + 1] = 0;
          break;
        case Op.ALU_MOV_X: // off 8/16: movsx, sign-extend into 32 bits
          regs[d] =
            off === 0 ? regs[s]! : off === 8 ? (regs[s]! << 24) >> 24 : (regs[s]! << 16) >> 16;
          regs[d + 1] = 0;
          break;
        case Op.ALU_END_TO_LE:
        case Op.ALU_END_TO_BE:
        case Op.ALU64_END:
          if (imm !== 16 && imm !== 32 && imm !== 64)
            throw this.fault(pc - 1, `bad byte swap width ${imm}`, left);
          alu.endian(regs, d, imm, (w & 0xff) !== Op.ALU_END_TO_LE);
          break;

        // ---- 64-bit ALU ----
        case Op.ALU64_ADD_K: {
          const a = regs[d]!;
          const lo = (a + imm) | 0;
          regs[d + 1] = (regs[d + 1]! + (imm >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
          regs[d] = lo;
          break;
        }
        case Op.ALU64_ADD_X: {
          const a = regs[d]!;
          const lo = (a + regs[s]!) | 0;
          regs[d + 1] = (regs[d + 1]! + regs[s + 1]! + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
          regs[d] = lo;
          break;
        }
        case Op.ALU64_SUB_K: {
          const a = regs[d]!;
          regs[d + 1] = (regs[d + 1]! - (imm >> 31) - (a >>> 0 < imm >>> 0 ? 1 : 0)) | 0;
          regs[d] = a - imm;
          break;
        }
        case Op.ALU64_SUB_X: {
          const a = regs[d]!;
          const b = regs[s]!;
          regs[d + 1] = (regs[d + 1]! - regs[s + 1]! - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
          regs[d] = a - b;
          break;
        }
        case Op.ALU64_MUL_K:
          alu.mul64(regs, d, imm, imm >> 31);
          break;
        case Op.ALU64_MUL_X:
          alu.mul64(regs, d, regs[s]!, regs[s + 1]!);
          break;
        case Op.ALU64_DIV_K:
          if (off === 0) alu.div64(regs, d, imm, imm >> 31);
          else alu.sdiv64(regs, d, imm, imm >> 31);
          break;
        case Op.ALU64_DIV_X:
          if (off === 0) alu.div64(regs, d, regs[s]!, regs[s + 1]!);
          else alu.sdiv64(regs, d, regs[s]!, regs[s + 1]!);
          break;
        case Op.ALU64_MOD_K:
          if (off === 0) alu.mod64(regs, d, imm, imm >> 31);
          else alu.smod64(regs, d, imm, imm >> 31);
          break;
        case Op.ALU64_MOD_X:
          if (off === 0) alu.mod64(regs, d, regs[s]!, regs[s + 1]!);
          else alu.smod64(regs, d, regs[s]!, regs[s + 1]!);
          break;
        case Op.ALU64_OR_K:
          regs[d] = regs[d]! | imm;
          regs[d + 1] = regs[d + 1]! | (imm >> 31);
          break;
        case Op.ALU64_OR_X:
          regs[d] = regs[d]! | regs[s]!;
          regs[d + 1] = regs[d + 1]! | regs[s + 1]!;
          break;
        case Op.ALU64_AND_K:
          regs[d] = regs[d]! & imm;
          regs[d + 1] = regs[d + 1]! & (imm >> 31);
          break;
        case Op.ALU64_AND_X:
          regs[d] = regs[d]! & regs[s]!;
          regs[d + 1] = regs[d + 1]! & regs[s + 1]!;
          break;
        case Op.ALU64_XOR_K:
          regs[d] = regs[d]! ^ imm;
          regs[d + 1] = regs[d + 1]! ^ (imm >> 31);
          break;
        case Op.ALU64_XOR_X:
          regs[d] = regs[d]! ^ regs[s]!;
          regs[d + 1] = regs[d + 1]! ^ regs[s + 1]!;
          break;
        case Op.ALU64_LSH_K:
          alu.lsh64(regs, d, imm & 63);
          break;
        case Op.ALU64_LSH_X:
          alu.lsh64(regs, d, regs[s]! & 63);
          break;
        case Op.ALU64_RSH_K:
          alu.rsh64(regs, d, imm & 63);
          break;
        case Op.ALU64_RSH_X:
          alu.rsh64(regs, d, regs[s]! & 63);
          break;
        case Op.ALU64_ARSH_K:
          alu.arsh64(regs, d, imm & 63);
          break;
        case Op.ALU64_ARSH_X:
          alu.arsh64(regs, d, regs[s]! & 63);
          break;
        case Op.ALU64_NEG:
          regs[d + 1] = alu.negHigh(regs[d]!, regs[d + 1]!);
          regs[d] = -regs[d]!;
          break;
        case Op.ALU64_MOV_K:
          regs[d] = imm;
          regs[d + 1] = imm >> 31;
          break;
        case Op.ALU64_MOV_X: // off 8/16/32: movsx, sign-extend into 64 bits
          if (off === 0) {
            regs[d] = regs[s]!;
            regs[d + 1] = regs[s + 1]!;
          } else {
            const lo =
              off === 8 ? (regs[s]! << 24) >> 24 : off === 16 ? (regs[s]! << 16) >> 16 : regs[s]!;
            regs[d] = lo;
            regs[d + 1] = lo >> 31;
          }
          break;

        // ---- 64-bit jumps ----
        case Op.JMP_JA:
          pc += off;
          break;
        case Op.JMP_JEQ_K:
          if (regs[d] === imm && regs[d + 1] === imm >> 31) pc += off;
          break;
        case Op.JMP_JEQ_X:
          if (regs[d] === regs[s] && regs[d + 1] === regs[s + 1]) pc += off;
          break;
        case Op.JMP_JNE_K:
          if (regs[d] !== imm || regs[d + 1] !== imm >> 31) pc += off;
          break;
        case Op.JMP_JNE_X:
          if (regs[d] !== regs[s] || regs[d + 1] !== regs[s + 1]) pc += off;
          break;
        case Op.JMP_JSET_K:
          if ((regs[d]! & imm) !== 0 || (regs[d + 1]! & (imm >> 31)) !== 0) pc += off;
          break;
        case Op.JMP_JSET_X:
          if ((regs[d]! & regs[s]!) !== 0 || (regs[d + 1]! & regs[s + 1]!) !== 0) pc += off;
          break;
        case Op.JMP_JGT_K:
          if (ugt(regs[d + 1]!, regs[d]!, imm >> 31, imm)) pc += off;
          break;
        case Op.JMP_JGT_X:
          if (ugt(regs[d + 1]!, regs[d]!, regs[s + 1]!, regs[s]!)) pc += off;
          break;
        case Op.JMP_JGE_K:
          if (!ugt(imm >> 31, imm, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JGE_X:
          if (!ugt(regs[s + 1]!, regs[s]!, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JLT_K:
          if (ugt(imm >> 31, imm, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JLT_X:
          if (ugt(regs[s + 1]!, regs[s]!, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JLE_K:
          if (!ugt(regs[d + 1]!, regs[d]!, imm >> 31, imm)) pc += off;
          break;
        case Op.JMP_JLE_X:
          if (!ugt(regs[d + 1]!, regs[d]!, regs[s + 1]!, regs[s]!)) pc += off;
          break;
        case Op.JMP_JSGT_K:
          if (sgt(regs[d + 1]!, regs[d]!, imm >> 31, imm)) pc += off;
          break;
        case Op.JMP_JSGT_X:
          if (sgt(regs[d + 1]!, regs[d]!, regs[s + 1]!, regs[s]!)) pc += off;
          break;
        case Op.JMP_JSGE_K:
          if (!sgt(imm >> 31, imm, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JSGE_X:
          if (!sgt(regs[s + 1]!, regs[s]!, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JSLT_K:
          if (sgt(imm >> 31, imm, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JSLT_X:
          if (sgt(regs[s + 1]!, regs[s]!, regs[d + 1]!, regs[d]!)) pc += off;
          break;
        case Op.JMP_JSLE_K:
          if (!sgt(regs[d + 1]!, regs[d]!, imm >> 31, imm)) pc += off;
          break;
        case Op.JMP_JSLE_X:
          if (!sgt(regs[d + 1]!, regs[d]!, regs[s + 1]!, regs[s]!)) pc += off;
          break;

        // ---- 32-bit jumps: compare the low words only ----
        case Op.JMP32_JA:
          pc += imm;
          break;
        case Op.JMP32_JEQ_K:
          if (regs[d] === imm) pc += off;
          break;
        case Op.JMP32_JEQ_X:
          if (regs[d] === regs[s]) pc += off;
          break;
        case Op.JMP32_JNE_K:
          if (regs[d] !== imm) pc += off;
          break;
        case Op.JMP32_JNE_X:
          if (regs[d] !== regs[s]) pc += off;
          break;
        case Op.JMP32_JSET_K:
          if ((regs[d]! & imm) !== 0) pc += off;
          break;
        case Op.JMP32_JSET_X:
          if ((regs[d]! & regs[s]!) !== 0) pc += off;
          break;
        case Op.JMP32_JGT_K:
          if (regs[d]! >>> 0 > imm >>> 0) pc += off;
          break;
        case Op.JMP32_JGT_X:
          if (regs[d]! >>> 0 > regs[s]! >>> 0) pc += off;
          break;
        case Op.JMP32_JGE_K:
          if (regs[d]! >>> 0 >= imm >>> 0) pc += off;
          break;
        case Op.JMP32_JGE_X:
          if (regs[d]! >>> 0 >= regs[s]! >>> 0) pc += off;
          break;
        case Op.JMP32_JLT_K:
          if (regs[d]! >>> 0 < imm >>> 0) pc += off;
          break;
        case Op.JMP32_JLT_X:
          if (regs[d]! >>> 0 < regs[s]! >>> 0) pc += off;
          break;
        case Op.JMP32_JLE_K:
          if (regs[d]! >>> 0 <= imm >>> 0) pc += off;
          break;
        case Op.JMP32_JLE_X:
          if (regs[d]! >>> 0 <= regs[s]! >>> 0) pc += off;
          break;
        case Op.JMP32_JSGT_K:
          if (regs[d]! > imm) pc += off;
          break;
        case Op.JMP32_JSGT_X:
          if (regs[d]! > regs[s]!) pc += off;
          break;
        case Op.JMP32_JSGE_K:
          if (regs[d]! >= imm) pc += off;
          break;
        case Op.JMP32_JSGE_X:
          if (regs[d]! >= regs[s]!) pc += off;
          break;
        case Op.JMP32_JSLT_K:
          if (regs[d]! < imm) pc += off;
          break;
        case Op.JMP32_JSLT_X:
          if (regs[d]! < regs[s]!) pc += off;
          break;
        case Op.JMP32_JSLE_K:
          if (regs[d]! <= imm) pc += off;
          break;
        case Op.JMP32_JSLE_X:
          if (regs[d]! <= regs[s]!) pc += off;
          break;

        // ---- calls and exit ----
        case Op.JMP_CALL:
        case Op.JMP_CALLX: {
          const src = (w >>> 12) & 0xf;
          if ((w & 0xff) === Op.JMP_CALL && src === 1) {
            // BPF_PSEUDO_CALL: a new frame, r6-r9 saved; the count is synced first so a
            // depth-limit fault reports the instructions really executed
            this.pc = pc - 1;
            this.left = left;
            this.pushFrame(pc, program);
            pc += imm;
            break;
          }
          this.pc = pc - 1;
          this.program = program;
          this.left = left;
          this.callHelper(w, imm, d);
          left = this.left;
          view = memory.view;
          if (this.request !== REQUEST_NONE) {
            if (this.request === REQUEST_STOP) return;
            // tail call: the current frame starts over in the target program
            program = this.tailTarget!;
            code = program.code;
            this.program = program;
            this.tailTarget = undefined;
            this.request = REQUEST_NONE;
            this.tailCallCount++;
            this.setFramePointer();
            pc = 0;
          }
          break;
        }
        case Op.JMP_EXIT:
          if (this.depth === baseDepth) {
            this.left = left;
            return;
          }
          pc = this.popFrame();
          program = this.program;
          code = program.code;
          break;

        // ---- 64-bit immediate ----
        case Op.LD_IMM_DW:
          regs[d] = imm;
          regs[d + 1] = code[(pc << 1) | 1]!;
          pc++;
          break;

        // ---- loads ----
        case Op.LDX_MEM_B:
        case Op.LDX_MEMSX_B: {
          const lo = (regs[s]! + off) | 0;
          const hi = addressHi(regs[s]!, regs[s + 1]!, off, lo);
          const o = memory.translateRead(lo, hi, 1);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 1, "read", left);
          if ((w & 0xff) === Op.LDX_MEM_B) {
            regs[d] = view.getUint8(o);
            regs[d + 1] = 0;
          } else {
            regs[d] = view.getInt8(o);
            regs[d + 1] = regs[d]! >> 31;
          }
          break;
        }
        case Op.LDX_MEM_H:
        case Op.LDX_MEMSX_H: {
          const lo = (regs[s]! + off) | 0;
          const hi = addressHi(regs[s]!, regs[s + 1]!, off, lo);
          const o = memory.translateRead(lo, hi, 2);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 2, "read", left);
          if ((w & 0xff) === Op.LDX_MEM_H) {
            regs[d] = view.getUint16(o, true);
            regs[d + 1] = 0;
          } else {
            regs[d] = view.getInt16(o, true);
            regs[d + 1] = regs[d]! >> 31;
          }
          break;
        }
        case Op.LDX_MEM_W:
        case Op.LDX_MEMSX_W: {
          const lo = (regs[s]! + off) | 0;
          const hi = addressHi(regs[s]!, regs[s + 1]!, off, lo);
          const o = memory.translateRead(lo, hi, 4);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 4, "read", left);
          regs[d] = view.getInt32(o, true);
          regs[d + 1] = (w & 0xff) === Op.LDX_MEM_W ? 0 : regs[d]! >> 31;
          break;
        }
        case Op.LDX_MEM_DW: {
          const lo = (regs[s]! + off) | 0;
          const hi = addressHi(regs[s]!, regs[s + 1]!, off, lo);
          const o = memory.translateRead(lo, hi, 8);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 8, "read", left);
          regs[d] = view.getInt32(o, true);
          regs[d + 1] = view.getInt32(o + 4, true);
          break;
        }

        // ---- stores: the base address is dst ----
        case Op.ST_MEM_B:
        case Op.STX_MEM_B: {
          const lo = (regs[d]! + off) | 0;
          const hi = addressHi(regs[d]!, regs[d + 1]!, off, lo);
          const o = memory.translateWrite(lo, hi, 1);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 1, "write", left);
          view.setUint8(o, (w & 0xff) === Op.ST_MEM_B ? imm : regs[s]!);
          break;
        }
        case Op.ST_MEM_H:
        case Op.STX_MEM_H: {
          const lo = (regs[d]! + off) | 0;
          const hi = addressHi(regs[d]!, regs[d + 1]!, off, lo);
          const o = memory.translateWrite(lo, hi, 2);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 2, "write", left);
          view.setUint16(o, (w & 0xff) === Op.ST_MEM_H ? imm : regs[s]!, true);
          break;
        }
        case Op.ST_MEM_W:
        case Op.STX_MEM_W: {
          const lo = (regs[d]! + off) | 0;
          const hi = addressHi(regs[d]!, regs[d + 1]!, off, lo);
          const o = memory.translateWrite(lo, hi, 4);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 4, "write", left);
          view.setInt32(o, (w & 0xff) === Op.ST_MEM_W ? imm : regs[s]!, true);
          break;
        }
        case Op.ST_MEM_DW:
        case Op.STX_MEM_DW: {
          const lo = (regs[d]! + off) | 0;
          const hi = addressHi(regs[d]!, regs[d + 1]!, off, lo);
          const o = memory.translateWrite(lo, hi, 8);
          if (o < 0) throw this.memoryFault(pc - 1, lo, hi, 8, "write", left);
          if ((w & 0xff) === Op.ST_MEM_DW) {
            view.setInt32(o, imm, true);
            view.setInt32(o + 4, imm >> 31, true);
          } else {
            view.setInt32(o, regs[s]!, true);
            view.setInt32(o + 4, regs[s + 1]!, true);
          }
          break;
        }
        case Op.STX_ATOMIC_W:
        case Op.STX_ATOMIC_DW:
          this.left = left;
          this.atomic(pc - 1, w, imm, d, s, off);
          break;

        // ---- legacy packet access ----
        case Op.LD_ABS_W:
        case Op.LD_ABS_H:
        case Op.LD_ABS_B:
        case Op.LD_IND_W:
        case Op.LD_IND_H:
        case Op.LD_IND_B:
          this.left = left;
          if (!this.loadPacket(pc - 1, w, imm, s)) {
            // out of bounds: the kernel ends the program with r0 = 0
            regs[0] = 0;
            regs[1] = 0;
            this.left = left;
            return;
          }
          break;

        default:
          throw this.fault(pc - 1, badInsnReason(pc - 1, program.length, w), left);
      }
    }
  }

  /** Helper call by id (src 0), kfunc (src 2), or callx (id in dst). */
  private callHelper(w: number, imm: number, d: number): void {
    const program = this.program;
    const helpers = this.helpers;
    let fn: Helper<Host> | undefined;
    let what: string;
    if ((w & 0xff) === Op.JMP_CALLX) {
      const id = this.regs[d]!;
      fn = this.regs[d + 1] === 0 && id >= 0 ? helpers?.get(id) : undefined;
      what = `helper ${id >>> 0} (callx r${d >> 1})`;
    } else if (((w >>> 12) & 0xf) > 2) {
      throw this.fault(this.pc, `call with unknown src_reg ${(w >>> 12) & 0xf}`);
    } else if (((w >>> 12) & 0xf) === 2) {
      const kfunc = helpers?.kfuncs.get(imm);
      fn = kfunc?.fn;
      what = kfunc?.name ?? `kfunc with BTF id ${imm}`;
    } else {
      fn = helpers?.get(imm);
      what = helpers?.nameOf(imm) ?? `helper ${imm}`;
    }
    if (fn === undefined) throw this.fault(this.pc, `call to unknown ${what}`);
    try {
      fn(this);
    } catch (err) {
      if (err instanceof MemoryFault) {
        throw new VmFault(program.name, this.pc, `in ${what}: ${err.message}`, err);
      }
      throw err;
    }
  }

  /** BPF_STX | BPF_ATOMIC: add/or/and/xor with and without fetch, xchg, cmpxchg. */
  private atomic(pc: number, w: number, imm: number, d: number, s: number, off: number): void {
    const regs = this.regs;
    const memory = this.memory;
    const size = (w & 0xff) === Op.STX_ATOMIC_W ? 4 : 8;
    const lo = (regs[d]! + off) | 0;
    const hi = addressHi(regs[d]!, regs[d + 1]!, off, lo);
    const o = memory.translateWrite(lo, hi, size);
    if (o < 0 || memory.translateRead(lo, hi, size) < 0) {
      throw this.memoryFault(pc, lo, hi, size, o < 0 ? "write" : "read");
    }
    const view = memory.view;
    const oldLo = view.getInt32(o, true);
    const oldHi = size === 8 ? view.getInt32(o + 4, true) : 0;
    const srcLo = regs[s]!;
    const srcHi = size === 8 ? regs[s + 1]! : 0;
    let newLo: number;
    let newHi: number;
    switch (imm & ~BPF_FETCH) {
      case ATOMIC_ADD: {
        newLo = (oldLo + srcLo) | 0;
        newHi = (oldHi + srcHi + (newLo >>> 0 < oldLo >>> 0 ? 1 : 0)) | 0;
        break;
      }
      case ATOMIC_OR:
        newLo = oldLo | srcLo;
        newHi = oldHi | srcHi;
        break;
      case ATOMIC_AND:
        newLo = oldLo & srcLo;
        newHi = oldHi & srcHi;
        break;
      case ATOMIC_XOR:
        newLo = oldLo ^ srcLo;
        newHi = oldHi ^ srcHi;
        break;
      case ATOMIC_XCHG & ~BPF_FETCH:
        if (imm !== ATOMIC_XCHG)
          throw this.fault(pc, `atomic xchg without BPF_FETCH (imm 0x${imm.toString(16)})`);
        newLo = srcLo;
        newHi = srcHi;
        break;
      case ATOMIC_CMPXCHG & ~BPF_FETCH: {
        if (imm !== ATOMIC_CMPXCHG)
          throw this.fault(pc, `atomic cmpxchg without BPF_FETCH (imm 0x${imm.toString(16)})`);
        const r0Hi = size === 8 ? regs[1]! : 0;
        const equal = regs[0] === oldLo && r0Hi === oldHi;
        newLo = equal ? srcLo : oldLo;
        newHi = equal ? srcHi : oldHi;
        regs[0] = oldLo;
        regs[1] = oldHi;
        break;
      }
      default:
        throw this.fault(pc, `unknown atomic operation 0x${(imm >>> 0).toString(16)}`);
    }
    view.setInt32(o, newLo, true);
    if (size === 8) view.setInt32(o + 4, newHi, true);
    if ((imm & BPF_FETCH) !== 0 && imm !== ATOMIC_CMPXCHG) {
      regs[s] = oldLo;
      regs[s + 1] = oldHi;
    }
  }

  /** ld_abs / ld_ind into r0, big-endian; false when out of the packet's bounds. */
  private loadPacket(pc: number, w: number, imm: number, s: number): boolean {
    const packet = this.packet;
    if (packet === undefined)
      throw this.fault(pc, "legacy packet access (ld_abs/ld_ind) without a packet");
    const mode = w & 0xe0;
    const size = (w & 0x18) === 0 ? 4 : (w & 0x18) === 0x08 ? 2 : 1;
    // The kernel adds the offsets as 32-bit signed integers; negative ones are special
    // (SKF_LL_OFF, SKF_NET_OFF) and not supported here, so they are out of bounds.
    const offset = mode === 0x40 ? (this.regs[s]! + imm) | 0 : imm;
    if (offset < 0 || offset + size > packet.end - packet.start) return false;
    const view = this.memory.view;
    const o = packet.start + offset;
    this.regs[0] =
      size === 4
        ? view.getInt32(o, false)
        : size === 2
          ? view.getUint16(o, false)
          : view.getUint8(o);
    this.regs[1] = 0;
    return true;
  }
}

/** Why the dispatch loop could not execute the slot at `pc`. */
function badInsnReason(pc: number, length: number, w: number | undefined): string {
  if (pc === length) return "fell off the end of the program (no exit)";
  if (pc < 0 || pc > length) return `jumped outside the program (0..${length - 1})`;
  return `unknown opcode 0x${((w ?? 0) & 0xff).toString(16).padStart(2, "0")}`;
}

/** Unsigned 64-bit a > b, on (hi, lo) words. */
function ugt(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi >>> 0 > bHi >>> 0 || (aHi === bHi && aLo >>> 0 > bLo >>> 0);
}

/** Signed 64-bit a > b, on (hi, lo) words. */
function sgt(aHi: number, aLo: number, bHi: number, bLo: number): boolean {
  return aHi > bHi || (aHi === bHi && aLo >>> 0 > bLo >>> 0);
}

/** 32-bit division: off 0 unsigned, off 1 signed (sdiv); by zero gives 0. */
function div32(a: number, b: number, off: number): number {
  if (b === 0) return 0;
  return off === 0 ? (a >>> 0) / (b >>> 0) : a / b; // truncated by the int32 store
}

/** 32-bit modulo: off 0 unsigned, off 1 signed (smod); by zero leaves dst. */
function mod32(a: number, b: number, off: number): number {
  if (b === 0) return a;
  return off === 0 ? (a >>> 0) % (b >>> 0) : a % b;
}
