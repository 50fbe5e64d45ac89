// Instruction selection: IR -> machine IR over virtual registers.
//
// Each IR value gets a virtual register; BPF's two-address ALU form becomes `dst = a; dst op= b`
// and the allocator coalesces the copy away when a dies there. Constants become immediates
// wherever the instruction has room (ALU and jump imm32, st imm), and otherwise, like stack
// addresses (r10 + off) and global addresses (lddw with a relocation), are rematerialised at
// each use instead of living in a register across calls. Phis become copies at the end of the
// predecessors (critical edges are split first, so a copy never runs on the wrong path).
//
// i32 values use 32-bit ALU operations, which zero the upper half, so an unsigned widening is
// free whenever the value came from one. Comparisons of i32 values use JMP32 from cpu v3;
// before it, both sides are zero- (or sign-) extended to 64 bits and compared whole. cpu v4
// adds sign-extending loads and moves and signed division; before it those are sequences.
import {
  type Block,
  type Cond,
  type Func,
  type Inst,
  type Slot,
  type Ty,
  invertCond,
  isCommutative,
  swapCond,
} from "./ir.js";
import { CMOV, COPY, FIRST_VREG, MBlock, MFunc, MInst, NO_REG, R0, R10 } from "./isel-mir.js";
import * as op from "../runtime/isa/opcodes.js";
import type { Cpu } from "./lower.js";
import { reversePostorder } from "./opt-cse.js";

export interface IselOptions {
  cpu: Cpu;
}

const condOp: Record<Cond, number> = {
  eq: op.BPF_JEQ,
  ne: op.BPF_JNE,
  ugt: op.BPF_JGT,
  uge: op.BPF_JGE,
  ult: op.BPF_JLT,
  ule: op.BPF_JLE,
  sgt: op.BPF_JSGT,
  sge: op.BPF_JSGE,
  slt: op.BPF_JSLT,
  sle: op.BPF_JSLE,
};

const aluOp: Record<string, number> = {
  add: op.BPF_ADD,
  sub: op.BPF_SUB,
  mul: op.BPF_MUL,
  udiv: op.BPF_DIV,
  urem: op.BPF_MOD,
  and: op.BPF_AND,
  or: op.BPF_OR,
  xor: op.BPF_XOR,
  shl: op.BPF_LSH,
  lshr: op.BPF_RSH,
  ashr: op.BPF_ARSH,
};

const atomicImm: Record<string, number> = {
  add: op.BPF_ADD,
  or: op.BPF_OR,
  and: op.BPF_AND,
  xor: op.BPF_XOR,
  xchg: op.BPF_XCHG,
};

function sizeCode(width: number): number {
  return width === 1 ? op.BPF_B : width === 2 ? op.BPF_H : width === 4 ? op.BPF_W : op.BPF_DW;
}

/** Whether the jump condition exists on this cpu (v1 lacks the "less than" family). */
export function condAvailable(c: Cond, cpu: Cpu): boolean {
  return cpu !== "v1" || !(c === "ult" || c === "ule" || c === "slt" || c === "sle");
}

export function condToJmp(c: Cond): number {
  return condOp[c];
}

const fitsS32 = (c: Inst): boolean => c.ty === "i32" || c.hi === c.lo >> 31;

export function selectInstructions(fn: Func, opts: IselOptions): MFunc {
  return new Selector(fn, opts).run();
}

class Selector {
  private readonly mf: MFunc;
  private readonly vregs = new Map<Inst, number>();
  private readonly blocks = new Map<Block, MBlock>();
  private cur!: MBlock;
  private pos: Inst["pos"] = undefined;
  private readonly v4: boolean;
  private readonly jmp32: boolean;
  private readonly zextMemo = new Map<Inst, boolean>();
  private copiesBeforeBranch = new Set<Block>();
  private readonly derived = new Map<Inst, Slot[]>();
  // Addresses (lddw, r10 + off) materialised in this block since the last call.
  private addrCache = new Map<string, number>();
  // CO-RE values (and the additions of field offsets) every use of which carries the
  // relocation itself: a load or store at base + offset, a shift by the amount.
  private readonly coreAbsorbed = new Set<Inst>();

  constructor(
    private readonly fn: Func,
    private readonly opts: IselOptions,
  ) {
    this.mf = new MFunc(fn.name, fn.slots);
    this.v4 = opts.cpu === "v4";
    this.jmp32 = opts.cpu === "v3" || opts.cpu === "v4";
  }

  run(): MFunc {
    this.copiesBeforeBranch = splitCriticalEdges(this.fn);
    for (const b of this.fn.blocks) {
      const mb = this.mf.newBlock(b.name);
      mb.loopDepth = b.loopDepth;
      this.blocks.set(b, mb);
    }
    this.derivedPointers();
    this.absorbCoreValues();
    for (const b of this.fn.blocks) this.selectBlock(b);
    for (const mb of this.mf.blocks) for (const s of mb.succs) s.preds.push(mb);
    return this.mf;
  }

  /**
   * Pointers derived from stack slot addresses (the frame address itself, sums, phis), with the
   * slots they point into; a slot whose address is stored to memory or given to a BPF function
   * escapes. The instructions using such pointers mark the slots live (stack colouring).
   */
  private derivedPointers(): void {
    for (const b of this.fn.blocks) {
      for (const f of b.insts) {
        if (f.op !== "frame") continue;
        const slot = f.slot!;
        const work = [f];
        const seen = new Set<Inst>([f]);
        while (work.length) {
          const d = work.pop()!;
          const slots = this.derived.get(d);
          if (slots) {
            if (!slots.includes(slot)) slots.push(slot);
          } else this.derived.set(d, [slot]);
          for (const u of d.uses) {
            if (
              u.op === "add" ||
              u.op === "sub" ||
              u.op === "phi" ||
              u.op === "select" ||
              u.op === "opaque"
            ) {
              if (!seen.has(u)) {
                seen.add(u);
                work.push(u);
              }
            } else if ((u.op === "store" && u.args[1] === d) || (u.op === "call" && !u.helper)) {
              this.mf.escapedSlots.add(slot);
            }
          }
        }
      }
    }
  }

  /**
   * clang's BPFMISimplifyPatchable: a field relocation whose value is only added to a base that
   * is then loaded from or stored to (at offset 0) moves into those instructions' offsets, and
   * one only used as a shift amount into the shifts' immediates. What remains used otherwise is
   * materialised by a `mov` (or `lddw`) carrying the relocation.
   */
  private absorbCoreValues(): void {
    const adds: Inst[] = [];
    const cores: Inst[] = [];
    for (const b of this.fn.blocks) {
      for (const inst of b.insts) {
        if (inst.op === "core" && inst.core!.kind <= 5) cores.push(inst);
        else if (inst.op === "add" && fieldCore(inst) !== undefined) adds.push(inst);
      }
    }
    const absorbed = this.coreAbsorbed;
    for (const a of adds) {
      if (a.uses.every((u) => isMemAtOffsetZero(u, a))) absorbed.add(a);
    }
    const byUses = (v: Inst): boolean =>
      v.uses.every((u) => absorbed.has(u) || (isShift(u) && u.args[1] === v && u.args[0] !== v));
    for (const c of cores) {
      for (const u of c.uses) if (u.op === "zext" && byUses(u)) absorbed.add(u);
      if (byUses(c)) absorbed.add(c);
    }
  }

  /** Marks the last instruction emitted with the slots `inst`'s operands point into. */
  private markSlots(inst: Inst): void {
    let slots: Slot[] | undefined;
    for (const a of inst.args) {
      const s = this.derived.get(a);
      if (s) slots = slots ? [...slots, ...s] : s;
    }
    const last = this.cur.insts[this.cur.insts.length - 1];
    if (slots && last) last.liveSlots = last.liveSlots ? [...last.liveSlots, ...slots] : slots;
  }

  // ---- emission helpers ----

  private emit(code: number): MInst {
    const mi = new MInst(code);
    mi.pos = this.pos;
    this.cur.insts.push(mi);
    return mi;
  }

  private vreg(v: Inst): number {
    let r = this.vregs.get(v);
    if (r === undefined) {
      r = this.mf.vreg();
      this.vregs.set(v, r);
    }
    return r;
  }

  private fresh(): number {
    return this.mf.vreg();
  }

  private copy(dst: number, src: number): void {
    if (dst === src) return;
    const mi = this.emit(COPY);
    mi.dst = dst;
    mi.src = src;
  }

  /** A register holding `v` here: rematerialisable values are recomputed into a new one. */
  private reg(v: Inst): number {
    switch (v.op) {
      case "const": {
        const r = this.fresh();
        this.materializeInto(r, v);
        return r;
      }
      case "frame":
      case "global":
      case "funcaddr": {
        // Reused within the block until a call clobbers the argument registers they may be in.
        const key =
          v.op === "frame" ? `f${v.slot!.id}:${v.off}` : `g${v.symbol}:${v.off}:${v.relocKind}`;
        const known = this.addrCache.get(key);
        if (known !== undefined) return known;
        const r = this.fresh();
        this.materializeInto(r, v);
        this.addrCache.set(key, r);
        return r;
      }
      default:
        return this.vreg(v);
    }
  }

  /** Puts `v` into register `r` (a physical argument register or a fresh vreg). */
  private materializeInto(r: number, v: Inst): void {
    switch (v.op) {
      case "const":
        this.loadConst(r, v.ty, v.lo, v.hi);
        return;
      case "frame": {
        const mov = this.emit(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X);
        mov.dst = r;
        mov.src = R10;
        const add = this.emit(op.BPF_ALU64 | op.BPF_ADD | op.BPF_K);
        add.dst = r;
        add.imm = v.off;
        add.slot = v.slot;
        return;
      }
      case "global": {
        const mi = this.emit(op.BPF_LDDW);
        mi.dst = r;
        if (v.relocKind === "map") {
          mi.reloc = { kind: "map", symbol: v.symbol };
          mi.imm = 0;
        } else {
          mi.reloc = { kind: "data", symbol: v.symbol, addend: v.off };
          mi.imm = v.off;
        }
        return;
      }
      case "funcaddr": {
        // As clang: a plain lddw the loader turns into BPF_PSEUDO_FUNC by its relocation.
        const mi = this.emit(op.BPF_LDDW);
        mi.dst = r;
        mi.reloc = { kind: "func_addr", symbol: v.symbol };
        return;
      }
      default:
        this.copy(r, this.vreg(v));
    }
  }

  private loadConst(r: number, ty: Ty, lo: number, hi: number): void {
    if (ty === "i32") {
      const mi = this.emit(op.BPF_ALU | op.BPF_MOV | op.BPF_K);
      mi.dst = r;
      mi.imm = lo;
      return;
    }
    if (hi === lo >> 31) {
      const mi = this.emit(op.BPF_ALU64 | op.BPF_MOV | op.BPF_K);
      mi.dst = r;
      mi.imm = lo;
      return;
    }
    if (hi === 0) {
      // mov32 zero-extends: any value below 2^32 fits.
      const mi = this.emit(op.BPF_ALU | op.BPF_MOV | op.BPF_K);
      mi.dst = r;
      mi.imm = lo;
      return;
    }
    const mi = this.emit(op.BPF_LDDW);
    mi.dst = r;
    mi.imm = lo;
    mi.imm2 = hi;
  }

  // ---- blocks ----

  private selectBlock(b: Block): void {
    this.cur = this.blocks.get(b)!;
    this.addrCache.clear();
    if (b === this.fn.entry) this.entryParams();
    for (const inst of b.insts) {
      this.pos = inst.pos;
      if (inst.isTerminator) {
        this.phiCopies(b);
        this.terminator(inst);
      } else this.select(inst);
      this.markSlots(inst);
    }
  }

  private entryParams(): void {
    this.pos = this.fn.entryPos;
    for (const b of this.fn.entry.insts) {
      if (b.op === "param" && b.uses.length > 0) this.copy(this.vreg(b), b.index + 1);
    }
  }

  /** Copies into the phis of b's successor (b is its only edge into it after splitting). */
  private phiCopies(b: Block): void {
    const term = b.terminator!;
    if (term.op === "br") this.phiCopiesTo(b, term.targets[0]!);
    else if (term.op === "cbr" && this.copiesBeforeBranch.has(b)) {
      for (const succ of term.targets) this.phiCopiesTo(b, succ);
    }
  }

  private phiCopiesTo(b: Block, succ: Block): void {
    const idx = succ.preds.indexOf(b);
    if (idx < 0) return;
    const phis = succ.insts.filter((i) => i.op === "phi" && i.uses.length > 0);
    if (phis.length === 0) return;
    // Phis reading other phis of the same block need a parallel copy: go through temporaries.
    const cyclic = phis.some((p) => phis.includes(p.args[idx]!));
    if (!cyclic) {
      for (const p of phis) {
        this.materializeInto(this.vreg(p), p.args[idx]!);
        const slots = this.derived.get(p.args[idx]!);
        const last = this.cur.insts[this.cur.insts.length - 1];
        if (slots && last) last.liveSlots = [...(last.liveSlots ?? []), ...slots];
      }
      return;
    }
    const temps = phis.map((p) => {
      const t = this.fresh();
      this.materializeInto(t, p.args[idx]!);
      return t;
    });
    phis.forEach((p, i) => this.copy(this.vreg(p), temps[i]!));
  }

  private terminator(t: Inst): void {
    const mb = this.cur;
    switch (t.op) {
      case "br":
        mb.succs = [this.blocks.get(t.targets[0]!)!];
        return;
      case "cbr": {
        const j = this.jump(t.cond, t.args[0]!, t.args[1]!);
        j.target = this.blocks.get(t.targets[0]!)!;
        mb.succs = [j.target, this.blocks.get(t.targets[1]!)!];
        return;
      }
      case "ret": {
        const v = t.args[0];
        if (v !== undefined) {
          if (this.fn.isProgram && v.ty === "i32" && !this.knownZext(v)) {
            const src = this.reg(v);
            const mi = this.emit(op.BPF_ALU | op.BPF_MOV | op.BPF_X);
            mi.dst = R0;
            mi.src = src;
          } else this.materializeInto(R0, v);
        } else if (this.fn.isProgram) {
          // A program's exit reads r0 whatever its C type says.
          this.loadConst(R0, "i64", 0, 0);
        }
        const exit = this.emit(op.BPF_JMP | op.BPF_EXIT);
        exit.nargs = v !== undefined || this.fn.isProgram ? 1 : 0;
        mb.succs = [];
        return;
      }
      default: {
        // unreachable: still a valid exit for the verifier.
        const mi = this.emit(op.BPF_ALU64 | op.BPF_MOV | op.BPF_K);
        mi.dst = R0;
        this.emit(op.BPF_JMP | op.BPF_EXIT).nargs = 1;
        mb.succs = [];
      }
    }
  }

  // ---- comparisons ----

  /** Emits `if (a cond b) goto <target set by the caller>`. */
  private jump(cond: Cond, a: Inst, b: Inst): MInst {
    const c = this.compareOperands(cond, a, b);
    const mi = this.emit(c.cls | condOp[c.cond] | (c.rb === NO_REG ? op.BPF_K : op.BPF_X));
    mi.dst = c.ra;
    if (c.rb === NO_REG) mi.imm = c.imm;
    else mi.src = c.rb;
    return mi;
  }

  /** The registers/immediate and class a compare of a and b needs on this cpu. */
  private compareOperands(
    cond: Cond,
    a: Inst,
    b: Inst,
  ): { cls: number; cond: Cond; ra: number; rb: number; imm: number } {
    let c = cond;
    let x = a;
    let y = b;
    if (x.op === "const" && y.op !== "const") {
      [x, y] = [y, x];
      c = swapCond(c);
    }
    const is32 = x.ty === "i32";
    if (is32 && !this.jmp32) return this.compareWidened(c, x, y);
    const cls = is32 ? op.BPF_JMP32 : op.BPF_JMP;
    const ra = this.reg(x);
    if (y.op === "const" && fitsS32(y)) return { cls, cond: c, ra, rb: NO_REG, imm: y.lo };
    return { cls, cond: c, ra, rb: this.reg(y), imm: 0 };
  }

  /** cpu v1/v2: compare i32 values as 64-bit ones, extended as the condition's signedness says. */
  private compareWidened(
    c: Cond,
    x: Inst,
    y: Inst,
  ): { cls: number; cond: Cond; ra: number; rb: number; imm: number } {
    const signed = c[0] === "s";
    const ra = signed ? this.sextReg(x) : this.zextReg(x);
    if (y.op === "const") {
      const v = y.lo | 0;
      if (signed || v >= 0) return { cls: op.BPF_JMP, cond: c, ra, rb: NO_REG, imm: v };
      const r = this.fresh();
      this.loadConst(r, "i32", v, 0);
      return { cls: op.BPF_JMP, cond: c, ra, rb: r, imm: 0 };
    }
    const rb = signed ? this.sextReg(y) : this.zextReg(y);
    return { cls: op.BPF_JMP, cond: c, ra, rb, imm: 0 };
  }

  private zextReg(v: Inst): number {
    const r = this.reg(v);
    if (this.knownZext(v)) return r;
    const t = this.fresh();
    const mi = this.emit(op.BPF_ALU | op.BPF_MOV | op.BPF_X);
    mi.dst = t;
    mi.src = r;
    return t;
  }

  private sextReg(v: Inst): number {
    const t = this.fresh();
    this.signExtend32(t, this.reg(v));
    return t;
  }

  /** t = (s64)(s32)r */
  private signExtend32(t: number, r: number): void {
    if (this.v4) {
      const mi = this.emit(op.BPF_ALU64 | op.BPF_MOV | op.BPF_X);
      mi.dst = t;
      mi.src = r;
      mi.off = 32;
      return;
    }
    this.copy(t, r);
    this.aluImm(op.BPF_ALU64, op.BPF_LSH, t, 32);
    this.aluImm(op.BPF_ALU64, op.BPF_ARSH, t, 32);
  }

  /** Whether an i32 value's register has its upper 32 bits clear. */
  private knownZext(v: Inst, depth = 0): boolean {
    const memo = this.zextMemo.get(v);
    if (memo !== undefined) return memo;
    if (depth > 8) return false;
    let r: boolean;
    switch (v.op) {
      case "const":
      case "cmp":
      case "add":
      case "sub":
      case "mul":
      case "udiv":
      case "urem":
      case "and":
      case "or":
      case "xor":
      case "shl":
      case "lshr":
      case "ashr":
      case "neg":
      case "bswap":
      case "cmpxchg":
      case "atomic":
        r = true;
        break;
      case "sdiv":
      case "srem":
        r = true;
        break;
      case "sextin":
        r = true; // shifts in 32 bits or movsx32 both zero the upper half
        break;
      case "load":
        r = !(v.signed && this.v4);
        break;
      case "select":
        r = this.knownZext(v.args[2]!, depth + 1) && this.knownZext(v.args[3]!, depth + 1);
        break;
      case "phi":
        this.zextMemo.set(v, true); // optimistic for cycles
        r = v.args.every((a) => this.knownZext(a, depth + 1));
        break;
      case "opaque":
        r = this.knownZext(v.args[0]!, depth + 1);
        break;
      case "core":
        r = v.hi === 0 && v.lo >= 0; // a mov of a non-negative immediate
        break;
      default:
        r = false;
    }
    this.zextMemo.set(v, r);
    return r;
  }

  // ---- instructions ----

  private aluImm(cls: number, o: number, dst: number, imm: number): MInst {
    const mi = this.emit(cls | o | op.BPF_K);
    mi.dst = dst;
    mi.imm = imm;
    return mi;
  }

  private aluReg(cls: number, o: number, dst: number, src: number): MInst {
    const mi = this.emit(cls | o | op.BPF_X);
    mi.dst = dst;
    mi.src = src;
    return mi;
  }

  /** dst = a (a constant becomes a move of an immediate). */
  private moveInto(dst: number, a: Inst): void {
    if (a.op === "const") this.loadConst(dst, a.ty, a.lo, a.hi);
    else this.copy(dst, this.reg(a));
  }

  private select(inst: Inst): void {
    if (this.coreAbsorbed.has(inst)) return;
    if (
      inst.uses.length === 0 &&
      inst.op !== "store" &&
      inst.op !== "call" &&
      inst.op !== "atomic" &&
      inst.op !== "cmpxchg" &&
      inst.op !== "opaque"
    ) {
      if (inst.op !== "load" || !inst.volatile) return;
    }
    switch (inst.op) {
      case "const":
      case "frame":
      case "global":
      case "funcaddr":
      case "param":
      case "phi":
        return; // materialised at uses / at entry / by predecessors
      case "add":
      case "sub":
      case "mul":
      case "udiv":
      case "urem":
      case "and":
      case "or":
      case "xor":
      case "shl":
      case "lshr":
      case "ashr":
        this.binary(inst);
        return;
      case "sdiv":
      case "srem":
        this.signedDivision(inst);
        return;
      case "neg": {
        const d = this.vreg(inst);
        this.moveInto(d, inst.args[0]!);
        const mi = this.emit((inst.ty === "i32" ? op.BPF_ALU : op.BPF_ALU64) | op.BPF_NEG);
        mi.dst = d;
        return;
      }
      case "zext": {
        const a = inst.args[0]!;
        const d = this.vreg(inst);
        if (this.knownZext(a)) this.moveInto(d, a);
        else this.aluReg(op.BPF_ALU, op.BPF_MOV, d, this.reg(a));
        return;
      }
      case "sext":
        this.signExtend32(this.vreg(inst), this.reg(inst.args[0]!));
        return;
      case "trunc":
      case "opaque":
        this.moveInto(this.vreg(inst), inst.args[0]!);
        return;
      case "sextin":
        this.signExtendIn(inst);
        return;
      case "bswap": {
        const d = this.vreg(inst);
        this.moveInto(d, inst.args[0]!);
        const mi = this.emit(op.BPF_ALU | op.BPF_END | op.BPF_TO_BE);
        mi.dst = d;
        mi.imm = inst.width;
        return;
      }
      case "cmp":
        this.compareValue(inst);
        return;
      case "select":
        this.selectValue(inst);
        return;
      case "load":
        this.load(inst);
        return;
      case "store":
        this.store(inst);
        return;
      case "call":
        this.call(inst);
        return;
      case "atomic":
        this.atomic(inst);
        return;
      case "cmpxchg":
        this.cmpxchg(inst);
        return;
      case "ldabs":
        this.packetLoad(inst);
        return;
      case "core":
        this.coreValue(inst);
        return;
    }
  }

  /** clang's materialisation of a relocated value: lddw for enum values and type ids, else mov. */
  private coreValue(inst: Inst): void {
    const c = inst.core!;
    const wide = c.kind === 6 || c.kind === 7 || c.kind === 10 || c.kind === 11;
    const mi = this.emit(wide ? op.BPF_LDDW : op.BPF_ALU64 | op.BPF_MOV | op.BPF_K);
    mi.dst = this.vreg(inst);
    mi.imm = inst.lo;
    if (wide) mi.imm2 = inst.hi;
    mi.core = c;
  }

  private binary(inst: Inst): void {
    let [a, b] = inst.args as [Inst, Inst];
    // dst = a; dst op= b: start from the operand that dies here, so the copy coalesces.
    // (clang adds a relocated field offset to the base, never the other way round)
    if (
      isCommutative(inst.op) &&
      b.op !== "const" &&
      b.op !== "core" &&
      b.uses.length === 1 &&
      a.uses.length > 1
    )
      [a, b] = [b, a];
    const is32 = inst.ty === "i32";
    const cls = is32 ? op.BPF_ALU : op.BPF_ALU64;
    const o = aluOp[inst.op]!;
    const d = this.vreg(inst);
    // x & 0xffffffff on 64 bits is a 32-bit move.
    if (!is32 && inst.op === "and" && b.op === "const" && b.lo === -1 && b.hi === 0) {
      this.aluReg(op.BPF_ALU, op.BPF_MOV, d, this.reg(a));
      return;
    }
    this.moveInto(d, a);
    if (b.op === "const" && this.immOk(inst.op, b, is32)) {
      this.aluImm(cls, o, d, b.lo);
      return;
    }
    const shiftBy = isShift(inst) ? fieldCoreOf(b) : undefined;
    if (shiftBy !== undefined) {
      this.aluImm(cls, o, d, shiftBy.lo).core = shiftBy.core;
      return;
    }
    this.aluReg(cls, o, d, this.reg(b));
  }

  /** Whether constant b can be the imm32 of this ALU operation. */
  private immOk(irop: string, b: Inst, is32: boolean): boolean {
    if (is32) return true;
    if (!fitsS32(b)) return false;
    // 64-bit div/mod treat the sign-extended imm as unsigned: only positive values are safe.
    if ((irop === "udiv" || irop === "urem") && b.lo < 0) return false;
    return true;
  }

  /** Signed / and % : native on v4; otherwise |a| op |b| with the sign fixed up. */
  private signedDivision(inst: Inst): void {
    const [a, b] = inst.args as [Inst, Inst];
    const is32 = inst.ty === "i32";
    const cls = is32 ? op.BPF_ALU : op.BPF_ALU64;
    const o = inst.op === "sdiv" ? op.BPF_DIV : op.BPF_MOD;
    const d = this.vreg(inst);
    if (this.v4) {
      this.moveInto(d, a);
      const mi =
        b.op === "const" && (is32 || fitsS32(b))
          ? this.aluImm(cls, o, d, b.lo)
          : this.aluReg(cls, o, d, this.reg(b));
      mi.off = 1;
      return;
    }
    const top = is32 ? 31 : 63;
    const ra = this.reg(a);
    // sa = a >> top (all ones if negative); ua = (a ^ sa) - sa
    const sa = this.fresh();
    this.copy(sa, ra);
    this.aluImm(cls, op.BPF_ARSH, sa, top);
    const ua = this.fresh();
    this.copy(ua, ra);
    this.aluReg(cls, op.BPF_XOR, ua, sa);
    this.aluReg(cls, op.BPF_SUB, ua, sa);
    let sign = sa;
    const bConst = b.op === "const" ? (is32 ? b.lo : fitsS32(b) ? b.lo : undefined) : undefined;
    this.copy(d, ua);
    if (bConst !== undefined && bConst > 0) {
      this.aluImm(cls, o, d, bConst);
    } else {
      const rb = this.reg(b);
      const sb = this.fresh();
      this.copy(sb, rb);
      this.aluImm(cls, op.BPF_ARSH, sb, top);
      const ub = this.fresh();
      this.copy(ub, rb);
      this.aluReg(cls, op.BPF_XOR, ub, sb);
      this.aluReg(cls, op.BPF_SUB, ub, sb);
      this.aluReg(cls, o, d, ub);
      if (inst.op === "sdiv") {
        sign = this.fresh();
        this.copy(sign, sa);
        this.aluReg(cls, op.BPF_XOR, sign, sb);
      }
    }
    // The quotient takes the sign of a ^ b; the remainder the sign of a.
    this.aluReg(cls, op.BPF_XOR, d, sign);
    this.aluReg(cls, op.BPF_SUB, d, sign);
  }

  private signExtendIn(inst: Inst): void {
    const a = inst.args[0]!;
    const d = this.vreg(inst);
    const w = inst.width;
    const is32 = inst.ty === "i32";
    if (this.v4 && w < 64) {
      const mi = this.aluReg(
        is32 && w < 32 ? op.BPF_ALU : op.BPF_ALU64,
        op.BPF_MOV,
        d,
        this.reg(a),
      );
      mi.off = w;
      return;
    }
    this.moveInto(d, a);
    const cls = is32 ? op.BPF_ALU : op.BPF_ALU64;
    const s = (is32 ? 32 : 64) - w;
    this.aluImm(cls, op.BPF_LSH, d, s);
    this.aluImm(cls, op.BPF_ARSH, d, s);
  }

  /** (a cond b) as 0/1: d = 0; if (a cond b) d = 1. */
  private compareValue(inst: Inst): void {
    const d = this.vreg(inst);
    this.emitCmov(d, inst.args[0]!, inst.args[1]!, inst.cond, undefined, 1, undefined, 0);
  }

  private selectValue(inst: Inst): void {
    const d = this.vreg(inst);
    const [a, b, t, f] = inst.args as [Inst, Inst, Inst, Inst];
    this.emitCmov(
      d,
      a,
      b,
      inst.cond,
      t,
      t.op === "const" ? t.lo : 0,
      f,
      f.op === "const" ? f.lo : 0,
    );
  }

  /**
   * d = (a cond b) ? t : f, as `d = f; if (a cond b) d = t`, or the other way round when only
   * the inverted jump exists on this cpu. Constants t/f (given as undefined + value) are moves of
   * immediates.
   */
  private emitCmov(
    d: number,
    a: Inst,
    b: Inst,
    cond: Cond,
    t: Inst | undefined,
    tImm: number,
    f: Inst | undefined,
    fImm: number,
  ): void {
    let c = cond;
    let tv = t;
    let ti = tImm;
    let fv = f;
    let fi = fImm;
    // The expansion jumps over the move when the condition fails.
    if (!condAvailable(invertCond(c), this.opts.cpu)) {
      c = invertCond(c);
      [tv, ti, fv, fi] = [fv, fi, tv, ti];
    }
    const ty: Ty = (tv ?? fv)?.ty ?? "i32";
    const small = (v: Inst | undefined): boolean =>
      v === undefined || (v.op === "const" && (ty === "i32" || fitsS32(v)));
    if (fv === undefined || fv.op === "const") {
      this.loadConst(d, ty, fv === undefined ? fi : fv.lo, fv === undefined ? 0 : fv.hi);
    } else this.copy(d, this.reg(fv));
    const cmp = this.compareOperands(c, a, b);
    const src = small(tv) ? NO_REG : this.reg(tv!);
    const mi = this.emit(CMOV);
    mi.dst = d;
    mi.ra = cmp.ra;
    mi.rb = cmp.rb;
    mi.cmpImm = cmp.imm;
    mi.cmpClass = cmp.cls;
    mi.cmpOp = condOp[cmp.cond];
    if (small(tv)) {
      mi.srcIsImm = true;
      mi.imm = tv === undefined ? ti : tv.lo;
      // A 32-bit value's immediate move is mov32 (zero-extending).
      mi.off = ty === "i32" ? 32 : 64;
    } else mi.src = src;
  }

  // ---- memory ----

  /** Base register, offset and slot for an access at base + off. */
  private address(base: Inst, off: number): { reg: number; off: number; slot: Inst["slot"] } {
    if (base.op === "frame") return { reg: R10, off: off + base.off, slot: base.slot };
    return { reg: this.reg(base), off, slot: undefined };
  }

  /** A load or store at (base + field offset relocation) + 0: the relocation moves into off. */
  private coreAddress(inst: Inst): { reg: number; off: number; core: Inst } | undefined {
    const addr = inst.args[0]!;
    if (inst.off !== 0 || addr.op !== "add" || !isMemAtOffsetZero(inst, addr)) return undefined;
    const c = fieldCore(addr);
    if (c === undefined) return undefined;
    const base = addr.args[c.index === 0 ? 1 : 0]!;
    return { reg: this.reg(base), off: c.core.lo, core: c.core };
  }

  private load(inst: Inst): void {
    const core = this.coreAddress(inst);
    if (core !== undefined) {
      const signed = inst.signed && inst.width < 4;
      const mode = signed && this.v4 ? op.BPF_MEMSX : op.BPF_MEM;
      const mi = this.emit(op.BPF_LDX | mode | sizeCode(inst.width));
      mi.dst = this.vreg(inst);
      mi.src = core.reg;
      mi.off = core.off;
      mi.core = core.core.core;
      if (signed && !this.v4) {
        const s = 32 - inst.width * 8;
        this.aluImm(op.BPF_ALU, op.BPF_LSH, mi.dst, s);
        this.aluImm(op.BPF_ALU, op.BPF_ARSH, mi.dst, s);
      }
      return;
    }
    const a = this.address(inst.args[0]!, inst.off);
    const d = this.vreg(inst);
    const w = inst.width;
    const signed = inst.signed && w < 4;
    const mode = signed && this.v4 ? op.BPF_MEMSX : op.BPF_MEM;
    const mi = this.emit(op.BPF_LDX | mode | sizeCode(w));
    mi.dst = d;
    mi.src = a.reg;
    mi.off = a.off;
    mi.slot = a.slot;
    if (signed && !this.v4) {
      const s = 32 - w * 8;
      this.aluImm(op.BPF_ALU, op.BPF_LSH, d, s);
      this.aluImm(op.BPF_ALU, op.BPF_ARSH, d, s);
    }
  }

  private store(inst: Inst): void {
    const [base, v] = inst.args as [Inst, Inst];
    const core = this.coreAddress(inst);
    if (core !== undefined) {
      const src = this.reg(v);
      const mi = this.emit(op.BPF_STX | op.BPF_MEM | sizeCode(inst.width));
      mi.dst = core.reg;
      mi.off = core.off;
      mi.src = src;
      mi.core = core.core.core;
      return;
    }
    const a = this.address(base, inst.off);
    const w = inst.width;
    // st imm only to the stack: the verifier refuses it on ctx, and it saves a register.
    if (v.op === "const" && base.op === "frame" && (w < 8 || fitsS32(v))) {
      const mi = this.emit(op.BPF_ST | op.BPF_MEM | sizeCode(w));
      mi.dst = R10;
      mi.off = a.off;
      mi.slot = a.slot;
      mi.imm = v.lo;
      return;
    }
    const src = this.reg(v);
    const mi = this.emit(op.BPF_STX | op.BPF_MEM | sizeCode(w));
    mi.dst = a.reg;
    mi.off = a.off;
    mi.slot = a.slot;
    mi.src = src;
  }

  private atomic(inst: Inst): void {
    const [base, v] = inst.args as [Inst, Inst];
    const a = this.address(base, inst.off);
    const r = inst.fetch ? this.vreg(inst) : this.fresh();
    this.moveInto(r, v);
    const mi = this.emit(op.BPF_STX | op.BPF_ATOMIC | sizeCode(inst.width));
    mi.dst = a.reg;
    mi.off = a.off;
    mi.slot = a.slot;
    mi.src = r;
    mi.imm = atomicImm[inst.aop]! | (inst.fetch && inst.aop !== "xchg" ? op.BPF_FETCH : 0);
  }

  private cmpxchg(inst: Inst): void {
    const [base, expected, desired] = inst.args as [Inst, Inst, Inst];
    const a = this.address(base, inst.off);
    const rd = this.reg(desired);
    this.materializeInto(R0, expected);
    const mi = this.emit(op.BPF_STX | op.BPF_ATOMIC | sizeCode(inst.width));
    mi.dst = a.reg;
    mi.off = a.off;
    mi.slot = a.slot;
    mi.src = rd;
    mi.imm = op.BPF_CMPXCHG;
    this.copy(this.vreg(inst), R0);
  }

  /** load_byte/half/word: the skb goes in r6, the value comes back in r0. */
  private packetLoad(inst: Inst): void {
    const [skb, index] = inst.args as [Inst, Inst | undefined];
    const idx = index !== undefined ? this.reg(index) : NO_REG;
    this.materializeInto(6, skb);
    const size = sizeCode(inst.width);
    const mi = this.emit(op.BPF_LD | (index !== undefined ? op.BPF_IND : op.BPF_ABS) | size);
    mi.imm = inst.off;
    if (index !== undefined) mi.src = idx;
    this.addrCache.clear();
    this.copy(this.vreg(inst), R0);
  }

  private call(inst: Inst): void {
    // 32-bit arguments go zero-extended, as clang passes them (its w registers always are).
    inst.args.forEach((a, i) => {
      if (a.ty === "i32" && a.op !== "const" && !this.knownZext(a)) {
        const src = this.reg(a);
        this.aluReg(op.BPF_ALU, op.BPF_MOV, i + 1, src);
      } else this.materializeInto(i + 1, a);
    });
    const mi = this.emit(op.BPF_JMP | op.BPF_CALL);
    this.addrCache.clear();
    mi.nargs = inst.args.length;
    if (inst.helper) mi.imm = inst.helper;
    else {
      mi.src = op.BPF_PSEUDO_CALL;
      mi.imm = -1;
      mi.reloc = { kind: "call", symbol: inst.symbol };
    }
    if (inst.ty !== "void" && inst.uses.length > 0) this.copy(this.vreg(inst), R0);
  }
}

/** Splits every edge from a block with two successors into a block with phis. */
export function splitCriticalEdges(fn: Func): Set<Block> {
  const idom = dominators(fn);
  const dominates = (a: Block, b: Block): boolean => {
    for (let x: Block | undefined = b; x !== undefined; x = idom.get(x)) if (x === a) return true;
    return false;
  };
  // Blocks whose phi copies go before their conditional jump: the phis' registers are dead on
  // the other way out (it cannot reach a use without entering the join through a copy), so
  // the edge needs no block of its own (`r = k; if (c) goto join` as clang writes if-chains).
  const copiesBeforeBranch = new Set<Block>();
  for (const b of fn.blocks.slice()) {
    if (b.insts.length === 0 || b.insts[0]!.op !== "phi") continue;
    for (let i = 0; i < b.preds.length; i++) {
      const p = b.preds[i]!;
      const t = p.terminator;
      if (!t || t.targets.length < 2) continue;
      const other = t.targets[0] === b ? t.targets[1]! : t.targets[0]!;
      if (
        !copiesBeforeBranch.has(p) &&
        !dominates(b, other) &&
        !dominates(b, p) &&
        !hasPhis(other)
      ) {
        copiesBeforeBranch.add(p);
        continue;
      }
      const e = fn.newBlock("edge");
      e.loopDepth = b.loopDepth;
      const br = fn.make("br", "void", [], e);
      br.targets = [b];
      e.insts.push(br);
      e.sealed = true;
      e.preds.push(p);
      for (let k = 0; k < t.targets.length; k++) if (t.targets[k] === b) t.targets[k] = e;
      b.preds[i] = e;
      // Keep blocks in layout order: the edge block right after its predecessor.
      fn.blocks.splice(fn.blocks.indexOf(e), 1);
      fn.blocks.splice(fn.blocks.indexOf(p) + 1, 0, e);
    }
  }
  return copiesBeforeBranch;
}

function hasPhis(b: Block): boolean {
  return b.insts.length > 0 && b.insts[0]!.op === "phi";
}

/** Immediate dominators (Cooper, Harvey and Kennedy's iteration over reverse postorder). */
export function dominators(fn: Func): Map<Block, Block | undefined> {
  const order = reversePostorder(fn);
  const index = new Map(order.map((b, i) => [b, i] as const));
  const idom = new Map<Block, Block | undefined>();
  idom.set(fn.entry, fn.entry);
  const intersect = (a: Block, b: Block): Block => {
    let x = a;
    let y = b;
    while (x !== y) {
      while (index.get(x)! > index.get(y)!) x = idom.get(x)!;
      while (index.get(y)! > index.get(x)!) y = idom.get(y)!;
    }
    return x;
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (const b of order) {
      if (b === fn.entry) continue;
      let d: Block | undefined;
      for (const p of b.preds) {
        if (!idom.has(p) || !index.has(p)) continue;
        d = d === undefined ? p : intersect(p, d);
      }
      if (d !== undefined && idom.get(b) !== d) {
        idom.set(b, d);
        changed = true;
      }
    }
  }
  idom.set(fn.entry, undefined);
  return idom;
}

export { FIRST_VREG };

// ---- CO-RE ----

const isShift = (i: Inst): boolean => i.op === "shl" || i.op === "lshr" || i.op === "ashr";

/** A field relocation (kinds 0-5), seen through a zero-extension. */
function fieldCoreOf(v: Inst): Inst | undefined {
  const c = v.op === "zext" ? v.args[0]! : v;
  return c.op === "core" && c.core!.kind <= 5 ? c : undefined;
}

/** The field relocation an addition adds to a base, and its operand index. */
function fieldCore(add: Inst): { core: Inst; index: number } | undefined {
  if (add.op !== "add" || add.ty !== "i64") return undefined;
  const b = fieldCoreOf(add.args[1]!);
  if (b !== undefined) return { core: b, index: 1 };
  const a = fieldCoreOf(add.args[0]!);
  return a !== undefined ? { core: a, index: 0 } : undefined;
}

/** `u` loads from or stores to exactly `addr` (+ 0), not storing the address itself. */
function isMemAtOffsetZero(u: Inst, addr: Inst): boolean {
  if (u.off !== 0 || u.args[0] !== addr || u.volatile) return false;
  if (u.op === "load") return true;
  return u.op === "store" && u.args[1] !== addr;
}
