// Machine IR: BPF instructions over virtual registers, grouped in blocks, between instruction
// selection (isel.ts) and the final encoding (codegen.ts).
//
// An MInst is one BPF instruction (its opcode byte in `code`) or one of a few pseudo
// instructions that register allocation must see whole: COPY (a register move the allocator may
// coalesce away), CMOV (a conditional move, expanded after allocation into a jump over a move),
// and the block's conditional jump (a real JMP/JMP32 whose fall-through successor is the block's
// second successor). Registers 0-10 are r0-r10; numbers from FIRST_VREG up are virtual.
// Stack references carry their slot: the frame layout adds the slot's offset to `off` (memory
// operands) or `imm` (address computations) once every slot has its place.
import type { CoreRelo, Slot } from "./ir.js";
import type { SourcePos } from "./types.js";
import type { InsnReloc } from "./unit.js";
import * as op from "../runtime/isa/opcodes.js";

export const FIRST_VREG = 16;
export const R0 = 0;
export const R10 = 10;
export const NO_REG = -1;

// Pseudo opcodes (above any BPF opcode byte).
export const COPY = 0x100;
/** if (ra cond rb|cmpImm) dst = src|imm; dst is read and written. */
export const CMOV = 0x101;

export type JmpOp = number; // BPF_JEQ, BPF_JGT, ...

/** A relocation of an instruction before it has its final index. */
export type MReloc = InsnReloc extends infer R
  ? R extends unknown
    ? Omit<R, "insn">
    : never
  : never;

export class MInst {
  dst = NO_REG;
  src = NO_REG;
  off = 0;
  imm = 0;
  /** High word of lddw. */
  imm2 = 0;
  /** Frame slot whose offset is added to off (memory) or imm (ALU add) at layout. */
  slot: Slot | undefined = undefined;
  reloc: MReloc | undefined = undefined;
  /** A CO-RE relocation on this instruction (.BTF.ext core_relo). */
  core: CoreRelo | undefined = undefined;
  /** Jump target (conditional jumps, JA). */
  target: MBlock | undefined = undefined;
  pos: SourcePos | undefined = undefined;
  /** Calls: argument registers r1..r<nargs> are read, r0-r5 written. Exit: 1 if r0 is read. */
  nargs = 0;
  /** CMOV compare operands. */
  ra = NO_REG;
  rb = NO_REG;
  cmpImm = 0;
  cmpClass = op.BPF_JMP;
  cmpOp: JmpOp = op.BPF_JEQ;
  /** CMOV / COPY: the moved value is an immediate (src unused). */
  srcIsImm = false;
  /** Stack slots this instruction reaches through a pointer derived from their address. */
  liveSlots: Slot[] | undefined = undefined;

  constructor(public code: number) {}
}

export class MBlock {
  readonly insts: MInst[] = [];
  /** [taken, fall-through] for a conditional jump; [next] for a jump; [] after exit. */
  succs: MBlock[] = [];
  preds: MBlock[] = [];
  loopDepth = 0;
  constructor(
    readonly id: number,
    readonly name: string,
  ) {}
}

export class MFunc {
  readonly blocks: MBlock[] = [];
  nextVreg = FIRST_VREG;
  /** Registers created by spill code (never spilled again). */
  readonly spillTemps = new Set<number>();
  /** Slots whose address escapes where it cannot be followed: alive in the whole function. */
  readonly escapedSlots = new Set<Slot>();
  /** Stack slots, including spill slots added by register allocation. */
  readonly slots: Slot[];
  constructor(
    readonly name: string,
    slots: Slot[],
  ) {
    this.slots = slots.slice();
  }

  vreg(): number {
    return this.nextVreg++;
  }

  newBlock(name: string): MBlock {
    const b = new MBlock(this.blocks.length, name);
    this.blocks.push(b);
    return b;
  }
}

export const isJump = (mi: MInst): boolean =>
  (op.classOf(mi.code) === op.BPF_JMP || op.classOf(mi.code) === op.BPF_JMP32) &&
  mi.code < 0x100 &&
  op.opOf(mi.code) !== op.BPF_CALL &&
  op.opOf(mi.code) !== op.BPF_EXIT;

export const isCall = (mi: MInst): boolean => mi.code === (op.BPF_JMP | op.BPF_CALL);
export const isExit = (mi: MInst): boolean => mi.code === (op.BPF_JMP | op.BPF_EXIT);

/**
 * The registers an instruction reads and writes: uses[0..nUses) and defs[0..nDefs). One list
 * is refilled for every instruction (the allocator's loops allocate nothing, and never
 * truncate arrays).
 */
export class Operands {
  readonly uses: number[] = [0, 0, 0, 0, 0, 0];
  readonly defs: number[] = [0, 0, 0, 0, 0, 0];
  nUses = 0;
  nDefs = 0;

  use(r: number): void {
    this.uses[this.nUses++] = r;
  }

  def(r: number): void {
    this.defs[this.nDefs++] = r;
  }

  /** A call (or legacy packet load) writes r0-r5. */
  clobberCallRegs(): void {
    for (let r = 0; r <= 5; r++) this.defs[this.nDefs++] = r;
  }
}

/** Fills `ops` with the registers `mi` reads and writes. A two-address ALU instruction reads and writes dst. */
export function operands(mi: MInst, ops: Operands): void {
  ops.nUses = 0;
  ops.nDefs = 0;
  const code = mi.code;
  if (code === COPY) {
    ops.def(mi.dst);
    if (!mi.srcIsImm) ops.use(mi.src);
    return;
  }
  if (code === CMOV) {
    ops.use(mi.dst);
    ops.use(mi.ra);
    if (mi.rb !== NO_REG) ops.use(mi.rb);
    if (!mi.srcIsImm) ops.use(mi.src);
    ops.def(mi.dst);
    return;
  }
  const cls = op.classOf(code);
  switch (cls) {
    case op.BPF_ALU:
    case op.BPF_ALU64: {
      const o = op.opOf(code);
      if (o === op.BPF_MOV) {
        if (op.srcOf(code) === op.BPF_X) ops.use(mi.src);
        ops.def(mi.dst);
        return;
      }
      ops.use(mi.dst);
      if (o !== op.BPF_NEG && o !== op.BPF_END && op.srcOf(code) === op.BPF_X) ops.use(mi.src);
      ops.def(mi.dst);
      return;
    }
    case op.BPF_LDX:
      ops.use(mi.src);
      ops.def(mi.dst);
      return;
    case op.BPF_ST:
      ops.use(mi.dst);
      return;
    case op.BPF_STX:
      ops.use(mi.dst);
      ops.use(mi.src);
      if (op.modeOf(code) === op.BPF_ATOMIC) {
        if (mi.imm === op.BPF_CMPXCHG) {
          ops.use(R0);
          ops.def(R0);
        } else if ((mi.imm & op.BPF_FETCH) !== 0) ops.def(mi.src);
      }
      return;
    case op.BPF_LD:
      if (code === op.BPF_LDDW) ops.def(mi.dst);
      else {
        // Legacy packet loads read the skb in r6 and, like a call, clobber r0-r5.
        ops.use(6);
        if (op.modeOf(code) === op.BPF_IND) ops.use(mi.src);
        ops.clobberCallRegs();
      }
      return;
    case op.BPF_JMP:
    case op.BPF_JMP32: {
      const o = op.opOf(code);
      if (o === op.BPF_CALL) {
        for (let i = 1; i <= mi.nargs; i++) ops.use(i);
        ops.clobberCallRegs();
        return;
      }
      if (o === op.BPF_EXIT) {
        // nargs 1: r0 holds the result (a void function returns nothing in it).
        if (mi.nargs > 0) ops.use(R0);
        return;
      }
      if (o === op.BPF_JA) return;
      ops.use(mi.dst);
      if (op.srcOf(code) === op.BPF_X) ops.use(mi.src);
      return;
    }
  }
}

/** Rewrites every register operand of `mi` through `f` (uses and defs alike). */
export function mapRegs(mi: MInst, f: (r: number) => number): void {
  if (mi.dst !== NO_REG) mi.dst = f(mi.dst);
  if (mi.src !== NO_REG) mi.src = f(mi.src);
  if (mi.ra !== NO_REG) mi.ra = f(mi.ra);
  if (mi.rb !== NO_REG) mi.rb = f(mi.rb);
}

const regName = (r: number): string => (r < FIRST_VREG ? `r${r}` : `v${r}`);

/** A readable line for a machine instruction (debugging and tests). */
export function printMInst(mi: MInst): string {
  const slot = mi.slot ? ` [${mi.slot.name}#${mi.slot.id}]` : "";
  if (mi.code === COPY)
    return `${regName(mi.dst)} = ${mi.srcIsImm ? mi.imm : regName(mi.src)}${slot}`;
  if (mi.code === CMOV)
    return `if ${regName(mi.ra)} ${jmpName(mi.cmpOp)}${mi.cmpClass === op.BPF_JMP32 ? "32" : ""} ${mi.rb === NO_REG ? mi.cmpImm : regName(mi.rb)}: ${regName(mi.dst)} = ${mi.srcIsImm ? mi.imm : regName(mi.src)}`;
  const parts = [`0x${mi.code.toString(16).padStart(2, "0")}`];
  if (mi.dst !== NO_REG) parts.push(`dst=${regName(mi.dst)}`);
  if (mi.src !== NO_REG) parts.push(`src=${regName(mi.src)}`);
  if (mi.off) parts.push(`off=${mi.off}`);
  if (mi.imm || mi.imm2) parts.push(`imm=${mi.imm}${mi.imm2 ? `:${mi.imm2}` : ""}`);
  if (mi.reloc) parts.push(`reloc=${mi.reloc.kind}:${mi.reloc.symbol}`);
  if (mi.target) parts.push(`-> ${mi.target.name}`);
  if (isCall(mi)) parts.push(`nargs=${mi.nargs}`);
  return parts.join(" ") + slot;
}

export function jmpName(o: number): string {
  const names: Record<number, string> = {
    [op.BPF_JEQ]: "==",
    [op.BPF_JNE]: "!=",
    [op.BPF_JGT]: ">",
    [op.BPF_JGE]: ">=",
    [op.BPF_JLT]: "<",
    [op.BPF_JLE]: "<=",
    [op.BPF_JSGT]: "s>",
    [op.BPF_JSGE]: "s>=",
    [op.BPF_JSLT]: "s<",
    [op.BPF_JSLE]: "s<=",
    [op.BPF_JSET]: "&",
  };
  return names[o] ?? "?";
}

export function printMFunc(mf: MFunc): string {
  const out = [`mfunc ${mf.name}`];
  for (const b of mf.blocks) {
    out.push(`${b.name}:  ; succs ${b.succs.map((s) => s.name).join(", ")}`);
    for (const mi of b.insts) out.push(`  ${printMInst(mi)}`);
  }
  return out.join("\n");
}
