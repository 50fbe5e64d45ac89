// The JIT's code generator: one BPF function, structured (structure.ts), becomes the body of one
// WebAssembly function.
//
// Registers are i64 locals, so 64-bit arithmetic is native. Local 0 is `fp`, the linear offset of
// this frame's r10; the function's parameters (liveness.ts) follow, then the other registers,
// then scratch locals. r10 is computed from fp where it is read, unless the function writes it
// (only unverified byte code does), in which case it is an ordinary local reset from fp at entry
// and after every bpf-to-bpf call, as the interpreter's frame bookkeeping resets it.
//
// Memory: a kernel address is 0xffff888000000000 + linear offset, so its high word must be
// 0xffff8880 and its low word is the offset into the imported memory. Per access, cheapest first:
//   - r10 + a constant inside the current frame: fp + off, no check at all;
//   - the verifier proved the access (facts): the low word, no check;
//   - "address" checks: the high word is compared inline; the low word indexes the memory,
//     whose own bounds check traps beyond its end (mapped back to the pc by the machine);
//   - "regions" checks (the interpreter's checked mode, the default): the high word, then the
//     current frame's window of the stack region, then a one-region cache per access kind in
//     the control block, all inline; a miss calls the `access` import, which consults the
//     region table, fills the cache or throws the fault the interpreter would throw.
//
// Helpers keep the interpreter's ABI: r0-r10 are stored to the control block (abi.ts), the
// `call` import runs the helper on them, and r0 (plus any of r1-r5 read later) is loaded back.
// The exception (inline.ts): with JitFacts.arrayMaps, map_lookup_elem on a plain array map
// becomes a bounds check and an address computation, as the kernel's array_map_gen_lookup.
//
// Counting (optional): the control block's counter is decremented at the start of each
// straight-line segment by the segment's instruction count; segments end after every one that can
// fault or leave the function (checked loads, calls, ld_abs/ld_ind) and after every store, so
// a budget that runs out within a segment would have run out in the interpreter before
// anything in that segment could fault or write memory: the budget error comes at the same
// instruction as there, with the same memory.
import * as op from "../isa/opcodes.js";
import { MAX_BPF_STACK } from "../isa/opcodes.js";
import { KERNEL_HI } from "../vm/memory.js";
import type { Program } from "../vm/program.js";
import {
  dstOf,
  isConditionalJump,
  offOf,
  opcodeOf,
  slotsOf,
  srcOf,
  type BasicBlock,
  type BpfFunction,
  type ProgramCfg,
} from "./cfg.js";
import { R1_R5, regsOf, type ProgramLiveness } from "./liveness.js";
import type { InlineLookups } from "./inline.js";
import type { Shape, StructuredFunction } from "./structure.js";
import {
  ACCESS_READ,
  ACCESS_RW,
  ACCESS_WRITE,
  CALL_HELPER,
  CALL_KFUNC,
  CALL_X,
  CB_LEFT,
  CB_PACKET_LENGTH,
  CB_PACKET_START,
  CB_READ_END,
  CB_READ_START,
  CB_REGS,
  CB_WRITE_END,
  CB_WRITE_START,
} from "./abi.js";
import { Code, I32, I64, Op, type ValType } from "./wasm.js";

/** How loads and stores are checked (see the file comment). */
export type MemoryChecks = "regions" | "address";

/** Facts a verifier proved about the program, all optional. */
export interface JitFacts {
  /**
   * By slot: the kind of region a load, store or atomic at that slot was proven to access
   * entirely in bounds and with the needed permission. Such accesses are compiled unchecked.
   */
  readonly access?: ReadonlyArray<string | undefined>;
  /**
   * Plain (not per-CPU) array maps, by the low word of the map pointer a program's lddw loads
   * (the high word being KERNEL_HI). A map_lookup_elem call (helper 1) with one of them in r1,
   * set by an lddw in the same basic block, is compiled inline as the kernel's
   * array_map_gen_lookup does: r0 = index < max_entries ? &values[index] : NULL, no call into
   * JavaScript. Only for verified programs (the key in r2 is read unchecked) run with the
   * kernel's helper table (helper 1 is bpf_map_lookup_elem).
   */
  readonly arrayMaps?: ReadonlyMap<number, JitArrayMap>;
}

/** An array map's values as an inline lookup needs them. */
export interface JitArrayMap {
  /** linear offset of element 0's value */
  readonly values: number;
  /** bytes between values (value_size rounded up to 8) */
  readonly elemSize: number;
  readonly maxEntries: number;
}

/** Indices in the module that the generated code refers to. */
export interface ModuleIndices {
  /** wasm function index of each BPF function */
  functions: number[];
  call: number;
  access: number;
  depthFault: number;
  refill: number;
  packetMiss: number;
  /** the control block's linear offset (abi.ts) */
  regs: number;
  stackTop: number;
  callLimit: number;
}

export interface CodegenOptions {
  checks: MemoryChecks;
  counted: boolean;
  facts: JitFacts | undefined;
  /** map lookups compiled inline (inline.ts) */
  inlined: InlineLookups;
}

export interface FunctionCode {
  /** locals after the parameters */
  locals: ValType[];
  code: Uint8Array;
  /** (byte offset in `code`, slot) pairs, in code order: where each instruction's code begins */
  positions: number[];
}

const MEM_ALIGN_LOG2 = [0, 0, 1, 1, 2, 2, 2, 2, 3]; // by access size

/** Where each register and scratch value lives. */
interface Frame {
  fp: number;
  regLocal: number[]; // r0-r10 (r10: -1 when computed from fp)
  tA: number; // i64 scratch
  tO: number; // i32 scratch: a linear offset
  tX: number; // i32 scratch
  state: number; // i32: the dispatch state
}

/** The parameters of a compiled BPF function: fp then its live-in registers. */
export function functionParams(liveness: ProgramLiveness, index: number): ValType[] {
  return [I32, ...regsOf(liveness.functions[index]!.params).map((): ValType => I64)];
}

/** The results of a compiled BPF function: r0 then the r1-r5 its callers read. */
export function functionResults(liveness: ProgramLiveness, index: number): ValType[] {
  return regsOf(liveness.functions[index]!.results).map((): ValType => I64);
}

/** Does the function write r10 (unverifiable, but the interpreter allows it)? */
function writesR10(code: Int32Array, f: BpfFunction): boolean {
  for (let pc = f.start; pc < f.end; pc += slotsOf(code, pc)) {
    const w = code[2 * pc]!;
    const c = opcodeOf(w);
    const cls = c & 0x07;
    if (dstOf(w) === 10 && (cls === op.BPF_ALU || cls === op.BPF_ALU64 || cls === op.BPF_LDX))
      return true;
    if (dstOf(w) === 10 && c === op.BPF_LDDW) return true;
    if (
      srcOf(w) === 10 &&
      (c & 0xe7) === (op.BPF_STX | op.BPF_ATOMIC) &&
      (code[2 * pc + 1]! & op.BPF_FETCH) !== 0
    )
      return true;
  }
  return false;
}

export function compileFunction(
  program: Program,
  cfg: ProgramCfg,
  liveness: ProgramLiveness,
  f: BpfFunction,
  structured: StructuredFunction,
  indices: ModuleIndices,
  options: CodegenOptions,
): FunctionCode {
  return new FunctionCompiler(program, cfg, liveness, f, indices, options).compile(structured);
}

class FunctionCompiler {
  private readonly code = new Code();
  private readonly positions: number[] = [];
  private readonly labels: number[] = []; // enclosing labels, innermost last; -1 for an if
  private readonly labelAt = new Map<number, number>(); // label -> its index in labels
  private readonly insns: Int32Array;
  private readonly frame: Frame;
  private readonly locals: ValType[] = [];
  private readonly r10Writable: boolean;
  private readonly results: number[];

  constructor(
    private readonly program: Program,
    private readonly cfg: ProgramCfg,
    private readonly liveness: ProgramLiveness,
    private readonly f: BpfFunction,
    private readonly ix: ModuleIndices,
    private readonly options: CodegenOptions,
  ) {
    this.insns = program.code;
    this.r10Writable = writesR10(this.insns, f);
    this.results = regsOf(liveness.functions[f.index]!.results);
    const params = regsOf(liveness.functions[f.index]!.params);
    const regLocal = new Array<number>(11).fill(-1);
    let next = 1;
    for (const r of params) regLocal[r] = next++;
    const local = (type: ValType): number => {
      this.locals.push(type);
      return next++;
    };
    for (let r = 0; r < 10; r++) if (regLocal[r] === -1) regLocal[r] = local(I64);
    if (this.r10Writable) regLocal[10] = local(I64);
    this.frame = {
      fp: 0,
      regLocal,
      tA: local(I64),
      tO: local(I32),
      tX: local(I32),
      state: local(I32),
    };
  }

  compile(structured: StructuredFunction): FunctionCode {
    const c = this.code;
    if (this.r10Writable) {
      this.framePointer();
      c.localSet(this.frame.regLocal[10]!);
    }
    this.shapes(structured.body);
    c.op(Op.unreachable); // control never falls off the end: every path ends in return
    c.end();
    return { locals: this.locals, code: c.toBytes(), positions: this.positions };
  }

  // ---- structure ----

  private shapes(list: readonly Shape[]): void {
    for (const s of list) this.shape(s);
  }

  private depth(label: number): number {
    const i = this.labelAt.get(label);
    if (i === undefined) throw new Error(`jit: branch to label ${label} outside its construct`);
    return this.labels.length - 1 - i;
  }

  private pushLabel(label: number): void {
    if (label >= 0) this.labelAt.set(label, this.labels.length);
    this.labels.push(label);
  }

  private popLabel(): void {
    const label = this.labels.pop()!;
    if (label >= 0) this.labelAt.delete(label);
  }

  private shape(s: Shape): void {
    const c = this.code;
    switch (s.kind) {
      case "block":
        c.block();
        this.pushLabel(s.label);
        this.shapes(s.body);
        this.popLabel();
        c.end();
        return;
      case "loop":
        c.loop();
        this.pushLabel(s.label);
        this.shapes(s.body);
        this.popLabel();
        c.end();
        return;
      case "code":
        this.blockCode(this.f.blocks[s.block]!);
        return;
      case "if":
        this.branch(s.block, s.taken, s.notTaken);
        return;
      case "br":
        c.br(this.depth(s.label));
        return;
      case "exit":
        this.exit(this.f.blocks[s.block]!.last);
        return;
      case "state":
        c.i32Const(s.value).localSet(this.frame.state);
        return;
      case "dispatch":
        this.dispatch(s.label, s.cases);
        return;
    }
  }

  /** The dispatch loop (structure.ts), emitted without recursion: it may have many cases. */
  private dispatch(label: number, cases: Shape[][]): void {
    const c = this.code;
    const n = cases.length;
    c.loop();
    this.pushLabel(label);
    for (let i = 0; i < n; i++) {
      c.block();
      this.pushLabel(-1);
    }
    c.localGet(this.frame.state);
    c.brTable(
      cases.map((_, i) => i),
      n - 1,
    );
    for (const body of cases) {
      c.end();
      this.popLabel();
      this.shapes(body);
    }
    this.popLabel();
    c.end();
  }

  /** The conditional jump ending a block; a lone branch in an arm becomes br_if. */
  private branch(block: number, taken: Shape[], notTaken: Shape[]): void {
    const c = this.code;
    const pc = this.f.blocks[block]!.last;
    this.position(pc);
    this.condition(pc);
    const only = (arm: Shape[]): Shape | undefined =>
      arm.length === 1 && arm[0]!.kind === "br" ? arm[0] : undefined;
    const takenBr = only(taken);
    const notTakenBr = only(notTaken);
    if (takenBr !== undefined && takenBr.kind === "br") {
      c.brIf(this.depth(takenBr.label));
      this.shapes(notTaken);
    } else if (notTakenBr !== undefined && notTakenBr.kind === "br") {
      c.op(Op.i32_eqz).brIf(this.depth(notTakenBr.label));
      this.shapes(taken);
    } else {
      c.if();
      this.pushLabel(-1);
      this.shapes(taken);
      if (notTaken.length > 0) {
        c.else();
        this.shapes(notTaken);
      }
      this.popLabel();
      c.end();
    }
  }

  // ---- straight-line code ----

  private position(pc: number): void {
    this.positions.push(this.code.length, pc);
  }

  /** A block's instructions (its closing jump or exit excepted), with the budget charges. */
  private blockCode(b: BasicBlock): void {
    const pcs: number[] = [];
    for (let pc = b.start; pc < b.end; pc += slotsOf(this.insns, pc)) pcs.push(pc);
    let segmentStart = 0;
    for (let i = 0; i < pcs.length; i++) {
      const pc = pcs[i]!;
      if (this.options.counted && i === segmentStart) {
        let end = i;
        while (end < pcs.length - 1 && !this.endsSegment(pcs[end]!)) end++;
        this.charge(pc, end - i + 1);
        segmentStart = end + 1;
      }
      if (b.kind !== "fall" && pc === b.last) break; // the structure emits it
      this.position(pc);
      this.insn(pc);
    }
  }

  /**
   * r0 = the address of value `*(u32 *)r2` of the array, or 0 past max_entries. The call's
   * other registers keep their values, as the helper leaves them.
   */
  private arrayLookup(map: JitArrayMap): void {
    const c = this.code;
    const t = this.frame.tX;
    this.getReg32(2);
    // the index and max_entries compare as u32 (i32Const takes them modulo 2^32)
    c.mem(Op.i32_load, 0).localTee(t).i32Const(map.maxEntries).op(Op.i32_lt_u);
    c.if(I64);
    c.localGet(t).i32Const(map.elemSize).op(Op.i32_mul).i32Const(map.values).op(Op.i32_add);
    c.op(Op.i64_extend_i32_u).i64Const(0, KERNEL_HI).op(Op.i64_or);
    c.else();
    c.i64Const(0, 0);
    c.end();
    this.setReg(0);
  }

  private charge(pc: number, count: number): void {
    const c = this.code;
    const t = this.frame.tX;
    const regs = this.ix.regs;
    c.globalGet(regs).globalGet(regs).mem(Op.i32_load, 2, CB_LEFT);
    c.i32Const(count).op(Op.i32_sub).localTee(t).mem(Op.i32_store, 2, CB_LEFT);
    c.localGet(t).i32Const(0).op(Op.i32_lt_s).if();
    c.globalGet(regs)
      .i32Const(pc)
      .i32Const(count)
      .call(this.ix.refill)
      .mem(Op.i32_store, 2, CB_LEFT);
    c.end();
  }

  /**
   * Must the instruction end a counting segment? Those that can fault, stop the run or leave
   * the function, and every store: when the budget runs out inside a segment, nothing in it
   * may have happened that the interpreter would not have done before stopping.
   */
  private endsSegment(pc: number): boolean {
    const w = this.insns[2 * pc]!;
    const code = opcodeOf(w);
    const cls = code & 0x07;
    if (cls === op.BPF_LDX) return this.accessChecked(pc, srcOf(w), offOf(w), sizeOfCode(code));
    if (cls === op.BPF_ST || cls === op.BPF_STX) return true; // a write is a side effect
    if (cls === op.BPF_LD) return code !== op.BPF_LDDW;
    return (code & 0xf7) === (op.BPF_JMP | op.BPF_CALL);
  }

  private insn(pc: number): void {
    const w = this.insns[2 * pc]!;
    const imm = this.insns[2 * pc + 1]!;
    const code = opcodeOf(w);
    switch (code & 0x07) {
      case op.BPF_ALU64:
        return this.alu64(w, imm);
      case op.BPF_ALU:
        return this.alu32(w, imm);
      case op.BPF_LDX:
        return this.load(pc, w);
      case op.BPF_ST:
      case op.BPF_STX:
        if ((code & 0xe0) === op.BPF_ATOMIC) return this.atomic(pc, w, imm);
        return this.store(pc, w, imm);
      case op.BPF_LD:
        if (code === op.BPF_LDDW) {
          this.code.i64Const(imm, this.insns[2 * pc + 3]!);
          return this.setReg(dstOf(w));
        }
        return this.loadPacket(pc, w, imm);
      case op.BPF_JMP:
        if (code === (op.BPF_JMP | op.BPF_CALL)) {
          if (srcOf(w) === op.BPF_PSEUDO_CALL) return this.localCall(pc, imm);
          return this.helperCall(
            pc,
            srcOf(w) === op.BPF_PSEUDO_KFUNC_CALL ? CALL_KFUNC : CALL_HELPER,
            imm,
            0,
          );
        }
        if (code === (op.BPF_JMP | op.BPF_CALL | op.BPF_X))
          return this.helperCall(pc, CALL_X, 0, dstOf(w));
        return; // jumps and exit end blocks; the structure emits them
      case op.BPF_JMP32:
        return;
    }
    throw new Error(`jit: no code for opcode 0x${code.toString(16)} at insn ${pc}`);
  }

  // ---- registers ----

  private getReg(r: number): void {
    const local = this.frame.regLocal[r]!;
    if (local >= 0) this.code.localGet(local);
    else this.framePointer(); // r10
  }

  private setReg(r: number): void {
    this.code.localSet(this.frame.regLocal[r]!);
  }

  /** r10 of this frame: the kernel address of fp. */
  private framePointer(): void {
    this.code.localGet(this.frame.fp).op(Op.i64_extend_i32_u).i64Const(0, KERNEL_HI).op(Op.i64_or);
  }

  /** Push the low word of a register as i32. */
  private getReg32(r: number): void {
    this.getReg(r);
    this.code.op(Op.i32_wrap_i64);
  }

  // ---- ALU ----

  private alu64(w: number, imm: number): void {
    const c = this.code;
    const code = opcodeOf(w);
    const d = dstOf(w);
    const s = srcOf(w);
    const x = (code & op.BPF_X) !== 0;
    const operand = (): void => {
      if (x) this.getReg(s);
      else c.i64Const(imm, imm >> 31);
    };
    const binary = (opcode: Op): void => {
      this.getReg(d);
      operand();
      c.op(opcode);
      this.setReg(d);
    };
    switch (code & 0xf0) {
      case op.BPF_ADD:
        return binary(Op.i64_add);
      case op.BPF_SUB:
        return binary(Op.i64_sub);
      case op.BPF_MUL:
        return binary(Op.i64_mul);
      case op.BPF_OR:
        return binary(Op.i64_or);
      case op.BPF_AND:
        return binary(Op.i64_and);
      case op.BPF_XOR:
        return binary(Op.i64_xor);
      case op.BPF_LSH:
        return binary(Op.i64_shl); // wasm masks the count to 6 bits, as BPF does
      case op.BPF_RSH:
        return binary(Op.i64_shr_u);
      case op.BPF_ARSH:
        return binary(Op.i64_shr_s);
      case op.BPF_NEG:
        c.i64Const(0, 0);
        this.getReg(d);
        c.op(Op.i64_sub);
        return this.setReg(d);
      case op.BPF_MOV:
        if (!x) c.i64Const(imm, imm >> 31);
        else {
          this.getReg(s);
          const off = offOf(w);
          if (off === 8) c.op(Op.i64_extend8_s);
          else if (off === 16) c.op(Op.i64_extend16_s);
          else if (off === 32) c.op(Op.i64_extend32_s);
        }
        return this.setReg(d);
      case op.BPF_DIV:
      case op.BPF_MOD:
        return this.divmod64(w, imm);
      case op.BPF_END: // bswap16/32/64
        return this.byteSwap(d, imm, true);
    }
    throw new Error(`jit: bad ALU64 opcode 0x${code.toString(16)}`);
  }

  /**
   * 64-bit division and modulo (RFC 9669 4.1): by zero, div gives 0 and mod leaves dst; signed
   * INT_MIN / -1 is INT_MIN (wasm would trap) and INT_MIN % -1 is 0. An immediate divisor is
   * sign-extended, then divides unsigned unless off is 1.
   */
  private divmod64(w: number, imm: number): void {
    const c = this.code;
    const d = dstOf(w);
    const isMod = (opcodeOf(w) & 0xf0) === op.BPF_MOD;
    const signed = offOf(w) === 1;
    if ((opcodeOf(w) & op.BPF_X) === 0) {
      if (imm === 0) {
        if (!isMod) {
          c.i64Const(0, 0);
          this.setReg(d);
        }
        return;
      }
      if (signed && imm === -1) {
        if (isMod) c.i64Const(0, 0);
        else {
          c.i64Const(0, 0);
          this.getReg(d);
          c.op(Op.i64_sub);
        }
        return this.setReg(d);
      }
      this.getReg(d);
      c.i64Const(imm, imm >> 31);
      c.op(isMod ? (signed ? Op.i64_rem_s : Op.i64_rem_u) : signed ? Op.i64_div_s : Op.i64_div_u);
      return this.setReg(d);
    }
    const t = this.frame.tA;
    this.getReg(srcOf(w));
    c.localSet(t);
    c.localGet(t).op(Op.i64_eqz).if(I64);
    if (isMod) this.getReg(d);
    else c.i64Const(0, 0);
    c.else();
    if (signed && !isMod) {
      c.localGet(t).i64Const(-1, -1).op(Op.i64_eq).if(I64);
      c.i64Const(0, 0);
      this.getReg(d);
      c.op(Op.i64_sub);
      c.else();
      this.getReg(d);
      c.localGet(t).op(Op.i64_div_s);
      c.end();
    } else {
      this.getReg(d);
      c.localGet(t);
      c.op(isMod ? (signed ? Op.i64_rem_s : Op.i64_rem_u) : Op.i64_div_u);
    }
    c.end();
    this.setReg(d);
  }

  /** 32-bit ALU: the operation on the low words, the result zero-extended. */
  private alu32(w: number, imm: number): void {
    const c = this.code;
    const code = opcodeOf(w);
    const d = dstOf(w);
    const s = srcOf(w);
    const x = (code & op.BPF_X) !== 0;
    const operand = (): void => {
      if (x) this.getReg32(s);
      else c.i32Const(imm);
    };
    const finish = (): void => {
      c.op(Op.i64_extend_i32_u);
      this.setReg(d);
    };
    const binary = (opcode: Op): void => {
      this.getReg32(d);
      operand();
      c.op(opcode);
      finish();
    };
    switch (code & 0xf0) {
      case op.BPF_ADD:
        return binary(Op.i32_add);
      case op.BPF_SUB:
        return binary(Op.i32_sub);
      case op.BPF_MUL:
        return binary(Op.i32_mul);
      case op.BPF_OR:
        return binary(Op.i32_or);
      case op.BPF_AND:
        return binary(Op.i32_and);
      case op.BPF_XOR:
        return binary(Op.i32_xor);
      case op.BPF_LSH:
        return binary(Op.i32_shl);
      case op.BPF_RSH:
        return binary(Op.i32_shr_u);
      case op.BPF_ARSH:
        return binary(Op.i32_shr_s);
      case op.BPF_NEG:
        c.i32Const(0);
        this.getReg32(d);
        c.op(Op.i32_sub);
        return finish();
      case op.BPF_MOV:
        if (!x) {
          c.i64Const(imm, 0);
          return this.setReg(d);
        }
        this.getReg32(s);
        if (offOf(w) === 8) c.op(Op.i32_extend8_s);
        else if (offOf(w) === 16) c.op(Op.i32_extend16_s);
        return finish();
      case op.BPF_DIV:
      case op.BPF_MOD:
        return this.divmod32(w, imm);
      case op.BPF_END:
        return this.byteSwap(d, imm, (code & op.BPF_X) !== 0);
    }
    throw new Error(`jit: bad ALU opcode 0x${code.toString(16)}`);
  }

  /** 32-bit division and modulo, with the same rules as divmod64 on the low words. */
  private divmod32(w: number, imm: number): void {
    const c = this.code;
    const d = dstOf(w);
    const isMod = (opcodeOf(w) & 0xf0) === op.BPF_MOD;
    const signed = offOf(w) === 1;
    const divide = isMod
      ? signed
        ? Op.i32_rem_s
        : Op.i32_rem_u
      : signed
        ? Op.i32_div_s
        : Op.i32_div_u;
    if ((opcodeOf(w) & op.BPF_X) === 0) {
      if (imm === 0) {
        if (isMod) this.getReg32(d);
        else c.i32Const(0);
      } else if (signed && imm === -1) {
        c.i32Const(0);
        if (!isMod) {
          this.getReg32(d);
          c.op(Op.i32_sub);
        }
      } else {
        this.getReg32(d);
        c.i32Const(imm).op(divide);
      }
      c.op(Op.i64_extend_i32_u);
      return this.setReg(d);
    }
    const t = this.frame.tX;
    this.getReg32(srcOf(w));
    c.localSet(t);
    c.localGet(t).op(Op.i32_eqz).if(I32);
    if (isMod) this.getReg32(d);
    else c.i32Const(0);
    c.else();
    if (signed && !isMod) {
      c.localGet(t).i32Const(-1).op(Op.i32_eq).if(I32);
      c.i32Const(0);
      this.getReg32(d);
      c.op(Op.i32_sub);
      c.else();
      this.getReg32(d);
      c.localGet(t).op(Op.i32_div_s);
      c.end();
    } else {
      this.getReg32(d);
      c.localGet(t).op(divide);
    }
    c.end();
    c.op(Op.i64_extend_i32_u);
    this.setReg(d);
  }

  /** le16/32/64 truncate; be16/32/64 and bswap reverse bytes; the result is zero-extended. */
  private byteSwap(d: number, width: number, swap: boolean): void {
    const c = this.code;
    if (!swap) {
      if (width === 64) return;
      this.getReg(d);
      c.i64Const(width === 16 ? 0xffff : -1, 0).op(Op.i64_and);
      return this.setReg(d);
    }
    if (width === 16) {
      this.getReg32(d);
      c.localTee(this.frame.tX).i32Const(8).op(Op.i32_shl).i32Const(0xff00).op(Op.i32_and);
      c.localGet(this.frame.tX).i32Const(8).op(Op.i32_shr_u).i32Const(0xff).op(Op.i32_and);
      c.op(Op.i32_or).op(Op.i64_extend_i32_u);
      return this.setReg(d);
    }
    if (width === 32) {
      this.getReg32(d);
      this.bswap32();
      c.op(Op.i64_extend_i32_u);
      return this.setReg(d);
    }
    // 64: the swapped low word becomes the high word and vice versa
    this.getReg32(d);
    this.bswap32();
    c.op(Op.i64_extend_i32_u).i64Const(32, 0).op(Op.i64_shl);
    this.getReg(d);
    c.i64Const(32, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
    this.bswap32();
    c.op(Op.i64_extend_i32_u).op(Op.i64_or);
    this.setReg(d);
  }

  /** Reverse the bytes of the i32 on the stack: rotl 8 places bytes 1 and 3, rotr 8 0 and 2. */
  private bswap32(): void {
    const c = this.code;
    const t = this.frame.tX;
    c.localTee(t).i32Const(8).op(Op.i32_rotl).i32Const(0x00ff00ff).op(Op.i32_and);
    c.localGet(t)
      .i32Const(8)
      .op(Op.i32_rotr)
      .i32Const(0xff00ff00 | 0)
      .op(Op.i32_and);
    c.op(Op.i32_or);
  }

  // ---- jumps ----

  /** Push the i32 truth of the conditional jump at pc. */
  private condition(pc: number): void {
    const c = this.code;
    const w = this.insns[2 * pc]!;
    const imm = this.insns[2 * pc + 1]!;
    const code = opcodeOf(w);
    const wide = (code & 0x07) === op.BPF_JMP;
    const x = (code & op.BPF_X) !== 0;
    const d = dstOf(w);
    const s = srcOf(w);
    if (wide) this.getReg(d);
    else this.getReg32(d);
    if (x) {
      if (wide) this.getReg(s);
      else this.getReg32(s);
    } else if (wide) c.i64Const(imm, imm >> 31);
    else c.i32Const(imm);
    const table = wide ? COMPARE64 : COMPARE32;
    const jop = code & 0xf0;
    if (jop === op.BPF_JSET) {
      if (wide) c.op(Op.i64_and).op(Op.i64_eqz).op(Op.i32_eqz);
      else c.op(Op.i32_and).op(Op.i32_eqz).op(Op.i32_eqz);
      return;
    }
    const compare = table.get(jop);
    if (compare === undefined || !isConditionalJump(code))
      throw new Error(`jit: bad jump opcode 0x${code.toString(16)} at insn ${pc}`);
    c.op(compare);
  }

  /** exit: return r0 and the results the callers read. */
  private exit(pc: number): void {
    this.position(pc);
    for (const r of this.results) this.getReg(r);
    this.code.op(Op.return);
  }

  // ---- memory ----

  /** Does this access need a run-time check (false when proven or inside the frame)? */
  private accessChecked(pc: number, base: number, off: number, size: number): boolean {
    if (base === 10 && !this.r10Writable && off >= -MAX_BPF_STACK && off + size <= 0) return false;
    return this.options.facts?.access?.[pc] === undefined;
  }

  /** Push the linear offset (i32) of an access of `size` bytes at base + off, or fault. */
  private address(pc: number, base: number, off: number, size: number, access: number): void {
    const c = this.code;
    const ix = this.ix;
    const { fp, tA, tO } = this.frame;
    if (base === 10 && !this.r10Writable && off >= -MAX_BPF_STACK && off + size <= 0) {
      c.localGet(fp).i32Const(off).op(Op.i32_add);
      return;
    }
    this.getReg(base);
    if (off !== 0) c.i64Const(off, off >> 31).op(Op.i64_add);
    if (!this.accessChecked(pc, base, off, size)) {
      c.op(Op.i32_wrap_i64);
      return;
    }
    c.localSet(tA);
    const slowPath = (): void => {
      c.i32Const(pc).localGet(tA).op(Op.i32_wrap_i64);
      c.localGet(tA).i64Const(32, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
      c.i32Const(size | (access << 8))
        .localGet(fp)
        .call(ix.access);
    };
    const highWordOk = (): void => {
      c.localGet(tA).i64Const(32, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
      c.i32Const(KERNEL_HI).op(Op.i32_eq);
    };
    if (this.options.checks === "address") {
      highWordOk();
      c.op(Op.i32_eqz).if();
      slowPath(); // throws
      c.op(Op.drop).end();
      c.localGet(tA).op(Op.i32_wrap_i64);
      return;
    }
    c.localGet(tA).op(Op.i32_wrap_i64).localSet(tO);
    c.block();
    highWordOk();
    c.if();
    // the live part of the stack: [fp - 512, top)
    c.localGet(tO).localGet(fp).i32Const(MAX_BPF_STACK).op(Op.i32_sub).op(Op.i32_ge_u);
    c.localGet(tO).globalGet(ix.stackTop).i32Const(size).op(Op.i32_sub).op(Op.i32_le_u);
    c.op(Op.i32_and).brIf(1);
    // the last region this access kind hit
    const [start, end] =
      access === ACCESS_READ ? [CB_READ_START, CB_READ_END] : [CB_WRITE_START, CB_WRITE_END];
    c.localGet(tO).globalGet(ix.regs).mem(Op.i32_load, 2, start).op(Op.i32_ge_u);
    c.localGet(tO).globalGet(ix.regs).mem(Op.i32_load, 2, end);
    c.i32Const(size).op(Op.i32_sub).op(Op.i32_le_u);
    c.op(Op.i32_and).brIf(1);
    c.end();
    slowPath();
    c.localSet(tO);
    c.end();
    c.localGet(tO);
  }

  private load(pc: number, w: number): void {
    const code = opcodeOf(w);
    const size = sizeOfCode(code);
    const signed = (code & 0xe0) === op.BPF_MEMSX;
    this.address(pc, srcOf(w), offOf(w), size, ACCESS_READ);
    const opcode =
      size === 1
        ? signed
          ? Op.i64_load8_s
          : Op.i64_load8_u
        : size === 2
          ? signed
            ? Op.i64_load16_s
            : Op.i64_load16_u
          : size === 4
            ? signed
              ? Op.i64_load32_s
              : Op.i64_load32_u
            : Op.i64_load;
    this.code.mem(opcode, MEM_ALIGN_LOG2[size]!);
    this.setReg(dstOf(w));
  }

  private store(pc: number, w: number, imm: number): void {
    const c = this.code;
    const code = opcodeOf(w);
    const size = sizeOfCode(code);
    this.address(pc, dstOf(w), offOf(w), size, ACCESS_WRITE);
    if ((code & 0x07) === op.BPF_ST) c.i64Const(imm, imm >> 31);
    else this.getReg(srcOf(w));
    const opcode =
      size === 1
        ? Op.i64_store8
        : size === 2
          ? Op.i64_store16
          : size === 4
            ? Op.i64_store32
            : Op.i64_store;
    c.mem(opcode, MEM_ALIGN_LOG2[size]!);
  }

  /**
   * BPF_ATOMIC (RFC 9669 5.3): add/or/and/xor, with BPF_FETCH the old value into src; xchg;
   * cmpxchg compares r0 and always returns the old value in r0. Single-threaded, so a plain
   * load, operation and store. 32-bit forms work on the low word and zero-extend what they fetch.
   */
  private atomic(pc: number, w: number, imm: number): void {
    const c = this.code;
    const { tA, tO } = this.frame;
    const size = (opcodeOf(w) & 0x18) === op.BPF_DW ? 8 : 4;
    const d = dstOf(w);
    const s = srcOf(w);
    this.address(pc, d, offOf(w), size, ACCESS_RW);
    c.localTee(tO);
    c.mem(size === 8 ? Op.i64_load : Op.i64_load32_u, MEM_ALIGN_LOG2[size]!).localSet(tA); // old
    c.localGet(tO);
    const operation = imm & ~op.BPF_FETCH;
    if (imm === op.BPF_CMPXCHG) {
      // new = (r0 == old) ? src : old
      this.getReg(s);
      c.localGet(tA);
      this.getReg(0);
      if (size === 4) c.i64Const(-1, 0).op(Op.i64_and);
      c.localGet(tA).op(Op.i64_eq).op(Op.select);
    } else if (imm === op.BPF_XCHG) {
      this.getReg(s);
    } else {
      c.localGet(tA);
      this.getReg(s);
      const combine = ATOMIC_OPS.get(operation);
      if (combine === undefined)
        throw new Error(`jit: bad atomic operation 0x${imm.toString(16)} at insn ${pc}`);
      c.op(combine);
    }
    c.mem(size === 8 ? Op.i64_store : Op.i64_store32, MEM_ALIGN_LOG2[size]!);
    if (imm === op.BPF_CMPXCHG) {
      c.localGet(tA);
      this.setReg(0);
    } else if ((imm & op.BPF_FETCH) !== 0) {
      c.localGet(tA);
      this.setReg(s);
    }
  }

  /**
   * Legacy ld_abs / ld_ind: r0 = the big-endian word, half word or byte at the packet offset
   * imm (+ src as a 32-bit signed sum). Out of bounds, or without a packet, the `packetMiss`
   * import ends the run (r0 = 0) or faults.
   */
  private loadPacket(pc: number, w: number, imm: number): void {
    const c = this.code;
    const ix = this.ix;
    const { tO } = this.frame;
    const code = opcodeOf(w);
    const size = sizeOfCode(code);
    if ((code & 0xe0) === op.BPF_IND) {
      this.getReg32(srcOf(w));
      c.i32Const(imm).op(Op.i32_add);
    } else {
      c.i32Const(imm);
    }
    c.localTee(tO).i32Const(0).op(Op.i32_ge_s);
    c.localGet(tO).globalGet(ix.regs).mem(Op.i32_load, 2, CB_PACKET_LENGTH);
    c.i32Const(size).op(Op.i32_sub).op(Op.i32_le_s);
    c.op(Op.i32_and).op(Op.i32_eqz).if();
    c.i32Const(pc).call(ix.packetMiss); // throws
    c.end();
    c.localGet(tO).globalGet(ix.regs).mem(Op.i32_load, 2, CB_PACKET_START).op(Op.i32_add);
    if (size === 4) {
      c.mem(Op.i32_load, 0);
      this.bswap32();
    } else if (size === 2) {
      c.mem(Op.i32_load16_u, 0).localTee(this.frame.tX).i32Const(8).op(Op.i32_shl);
      c.i32Const(0xff00).op(Op.i32_and).localGet(this.frame.tX).i32Const(8).op(Op.i32_shr_u);
      c.op(Op.i32_or);
    } else {
      c.mem(Op.i32_load8_u, 0);
    }
    c.op(Op.i64_extend_i32_u);
    this.setReg(0);
  }

  // ---- calls ----

  /** bpf-to-bpf call: a new frame 512 bytes below, at most MAX_CALL_FRAMES deep. */
  private localCall(pc: number, imm: number): void {
    const c = this.code;
    const ix = this.ix;
    const callee = this.cfg.functionAt.get(pc + 1 + imm)!;
    c.localGet(this.frame.fp).globalGet(ix.callLimit).op(Op.i32_lt_u).if();
    c.i32Const(pc).call(ix.depthFault).end(); // throws
    c.localGet(this.frame.fp).i32Const(MAX_BPF_STACK).op(Op.i32_sub);
    for (const r of regsOf(this.liveness.functions[callee]!.params)) this.getReg(r);
    c.call(ix.functions[callee]!);
    const results = regsOf(this.liveness.functions[callee]!.results);
    for (let i = results.length - 1; i >= 0; i--) this.setReg(results[i]!);
    this.resetR10();
  }

  /**
   * Helper, kfunc or callx: the register file goes to the control block, the `call` import
   * runs the helper; a non-zero status means a tail call ran the rest of this frame, whose
   * results are in the control block.
   */
  private helperCall(pc: number, kind: number, imm: number, reg: number): void {
    const c = this.code;
    const ix = this.ix;
    const array = this.options.inlined.get(pc);
    if (array !== undefined) return this.arrayLookup(array);
    for (let r = 0; r <= 10; r++) {
      c.globalGet(ix.regs);
      this.getReg(r);
      c.mem(Op.i64_store, 3, CB_REGS + 8 * r);
    }
    c.i32Const(kind === CALL_X ? kind | (reg << 4) : kind);
    if (kind === CALL_X) {
      this.getReg32(reg);
      this.getReg(reg);
      c.i64Const(32, 0).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
    } else {
      c.i32Const(imm).i32Const(0);
    }
    c.i32Const(pc).localGet(this.frame.fp).call(ix.call);
    c.if();
    for (const r of this.results) c.globalGet(ix.regs).mem(Op.i64_load, 3, CB_REGS + 8 * r);
    c.op(Op.return);
    c.end();
    const reload = 1 | (this.liveness.liveAfterCall.get(pc)! & R1_R5);
    for (const r of regsOf(reload)) {
      c.globalGet(ix.regs).mem(Op.i64_load, 3, CB_REGS + 8 * r);
      this.setReg(r);
    }
  }

  /** After a bpf-to-bpf call the interpreter recomputes r10 from the frame depth. */
  private resetR10(): void {
    if (!this.r10Writable) return;
    this.framePointer();
    this.code.localSet(this.frame.regLocal[10]!);
  }
}

function sizeOfCode(code: number): number {
  return op.sizeBytes(op.sizeOf(code));
}

const COMPARE64 = new Map<number, Op>([
  [op.BPF_JEQ, Op.i64_eq],
  [op.BPF_JNE, Op.i64_ne],
  [op.BPF_JGT, Op.i64_gt_u],
  [op.BPF_JGE, Op.i64_ge_u],
  [op.BPF_JLT, Op.i64_lt_u],
  [op.BPF_JLE, Op.i64_le_u],
  [op.BPF_JSGT, Op.i64_gt_s],
  [op.BPF_JSGE, Op.i64_ge_s],
  [op.BPF_JSLT, Op.i64_lt_s],
  [op.BPF_JSLE, Op.i64_le_s],
]);

const COMPARE32 = new Map<number, Op>([
  [op.BPF_JEQ, Op.i32_eq],
  [op.BPF_JNE, Op.i32_ne],
  [op.BPF_JGT, Op.i32_gt_u],
  [op.BPF_JGE, Op.i32_ge_u],
  [op.BPF_JLT, Op.i32_lt_u],
  [op.BPF_JLE, Op.i32_le_u],
  [op.BPF_JSGT, Op.i32_gt_s],
  [op.BPF_JSGE, Op.i32_ge_s],
  [op.BPF_JSLT, Op.i32_lt_s],
  [op.BPF_JSLE, Op.i32_le_s],
]);

const ATOMIC_OPS = new Map<number, Op>([
  [op.BPF_ADD, Op.i64_add],
  [op.BPF_OR, Op.i64_or],
  [op.BPF_AND, Op.i64_and],
  [op.BPF_XOR, Op.i64_xor],
]);
