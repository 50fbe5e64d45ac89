// The compiler's intermediate representation: one function at a time, in SSA form.
//
// A function is a list of basic blocks; a block is a list of instructions ending in exactly one
// terminator (br, cbr, ret, unreachable). Every instruction that produces a value is that value
// (an `Inst`), so operands are direct references and each value has a list of its users.
//
// Values are typed by register width only: i32 (C's int, unsigned and everything narrower,
// always held normalised: a `char` value is sign-extended to 32 bits, an `unsigned short`
// zero-extended) or i64 (long, pointers). Memory is explicit: loads and stores name their width
// and, for loads, whether they sign-extend. Local variables whose address is never taken live in
// SSA values (phi nodes where control flow merges); the others live in stack slots.
//
// lower.ts builds this from the checked AST, opt*.ts rewrite it, isel.ts turns it into BPF
// instructions over virtual registers.
import type { CType, SourcePos } from "./types.js";

export type Ty = "i32" | "i64" | "void";

/** Comparison conditions, named like LLVM's icmp predicates. */
export type Cond = "eq" | "ne" | "ugt" | "uge" | "ult" | "ule" | "sgt" | "sge" | "slt" | "sle";

export type BinOp =
  | "add"
  | "sub"
  | "mul"
  | "udiv"
  | "sdiv"
  | "urem"
  | "srem"
  | "and"
  | "or"
  | "xor"
  | "shl"
  | "lshr"
  | "ashr";

export type AtomicOp = "add" | "or" | "and" | "xor" | "xchg";

export type Op =
  | "const" // lo, hi
  | "param" // index
  | BinOp
  | "neg"
  | "zext" // i32 -> i64
  | "sext" // i32 -> i64
  | "trunc" // i64 -> i32
  | "sextin" // sign-extend the low `bits` bits within the same type
  | "bswap" // byte swap of the low `bits` bits (result zero-extended above them)
  | "cmp" // cond(args[0], args[1]) as 0/1 (i32)
  | "select" // cond(args[0], args[1]) ? args[2] : args[3]
  | "phi" // args[i] comes from block.preds[i]
  | "load" // *(width)(args[0] + off), `signed` extends
  | "store" // *(width)(args[0] + off) = args[1]
  | "frame" // address of stack slot `slot` (+ off)
  | "global" // address of `symbol` + off (lddw with a map or data relocation)
  | "funcaddr" // address of function `symbol` (lddw with a func_addr relocation)
  | "call" // helper `helper` or function `symbol`, args in r1..r5
  | "atomic" // atomic `aop` on *(width)(args[0] + off) with args[1]; result if `fetch`
  | "cmpxchg" // *(width)(args[0] + off): if == args[1] then = args[2]; result old value
  | "opaque" // args[0], hidden from the optimiser (asm barriers)
  | "ldabs" // legacy packet load of `width` bytes of skb args[0] at off (+ args[1]: BPF_IND)
  | "core" // a CO-RE relocated value `core` (local value in lo, hi): opaque to the optimiser
  // terminators
  | "br"
  | "cbr" // if cond(args[0], args[1]) goto targets[0] else targets[1]
  | "ret" // args[0] if the function returns a value
  | "unreachable";

/** A stack object: an address-taken local, an aggregate, a temporary, a spill slot. */
export interface Slot {
  readonly id: number;
  readonly size: number;
  readonly align: number;
  /** For diagnostics and the IR printer. */
  readonly name: string;
  /** Offset from r10 (negative), assigned by the frame layout. */
  offset: number;
}

export type RelocKind = "map" | "data";

/**
 * A CO-RE relocation (.BTF.ext core_relo): what the loader rewrites in the instruction that
 * materialises the value, with the local value the compiler computed (in the inst's lo, hi).
 */
export interface CoreRelo {
  /** enum bpf_core_relo_kind */
  readonly kind: number;
  /** the root type (a record for field kinds; the named type for type and enum kinds) */
  readonly type: CType;
  /** clang's access string: "0:1:2" for fields, "0" for types, the enumerator's index */
  readonly access: string;
}

/** A fresh stamp for Inst.mark. */
export const newMark = (): number => ++lastMark;
let lastMark = 0;

export class Inst {
  /** Users of this value; an instruction appears once per operand it uses this value in. */
  readonly uses: Inst[] = [];
  /** Constant (lo, hi as signed 32-bit halves) */
  lo = 0;
  hi = 0;
  /** Byte offset of loads, stores, atomics, frame and global addresses. */
  off = 0;
  /** Access width in bytes of load/store/atomic/cmpxchg/ldabs; bit count of sextin/bswap. */
  width = 0;
  signed = false;
  cond: Cond = "eq";
  /** Parameter index. */
  index = 0;
  slot: Slot | undefined = undefined;
  symbol = "";
  relocKind: RelocKind = "data";
  /** Helper id of a helper call (0 for a function call). */
  helper = 0;
  aop: AtomicOp = "add";
  fetch = false;
  volatile = false;
  /** add/sub/mul of C signed integers: overflow is undefined, so the result never wraps. */
  nsw = false;
  /** add of pointer arithmetic: stays inside one object, so it wraps neither way. */
  inbounds = false;
  targets: Block[] = [];
  pos: SourcePos | undefined = undefined;
  /** The relocation of a "core" value. */
  core: CoreRelo | undefined = undefined;
  /** Scratch for a pass's visited marks (a stamp of its own, so nothing needs clearing). */
  mark = 0;

  constructor(
    public id: number,
    public op: Op,
    public ty: Ty,
    public args: Inst[],
    public block: Block,
  ) {}

  get isTerminator(): boolean {
    return this.op === "br" || this.op === "cbr" || this.op === "ret" || this.op === "unreachable";
  }

  isConst(): boolean {
    return this.op === "const";
  }
}

export class Block {
  readonly insts: Inst[] = [];
  readonly preds: Block[] = [];
  /** Set by SSA construction once every predecessor is known. */
  sealed = false;
  /** Loop nesting depth, for spill costs. */
  loopDepth = 0;
  /** When lowering first emitted into this block: the block order follows the source. */
  order = Infinity;

  constructor(
    public id: number,
    public name: string,
  ) {}

  get terminator(): Inst | undefined {
    const last = this.insts[this.insts.length - 1];
    return last !== undefined && last.isTerminator ? last : undefined;
  }

  get succs(): Block[] {
    return this.terminator?.targets ?? [];
  }
}

export class Func {
  readonly blocks: Block[] = [];
  readonly slots: Slot[] = [];
  /** Whether the body calls anything (helpers, functions): r1-r5 are clobbered somewhere. */
  hasCalls = false;
  /** A program (SEC function): its i32 result is returned zero-extended. */
  isProgram = false;
  /** The function's name in its definition: the line of the parameter copies, as clang's prologue. */
  entryPos: SourcePos | undefined = undefined;
  /** Bytes of read-only global data known at compile time (loads from them fold). */
  constantBytes: (
    symbol: string,
    off: number,
    size: number,
    signed: boolean,
  ) => bigint | undefined = () => undefined;
  private nextInst = 0;
  private nextBlock = 0;

  constructor(
    readonly name: string,
    readonly retTy: Ty,
    /** Types of the parameters as passed in r1..r5. */
    readonly paramTys: Ty[],
  ) {}

  get entry(): Block {
    return this.blocks[0]!;
  }

  newBlock(name: string): Block {
    const id = this.nextBlock++;
    const b = new Block(id, `${name}${id}`);
    this.blocks.push(b);
    return b;
  }

  newSlot(size: number, align: number, name: string): Slot {
    const s: Slot = { id: this.slots.length, size, align, name, offset: 0 };
    this.slots.push(s);
    return s;
  }

  /** An instruction not yet placed (the caller inserts it). */
  make(op: Op, ty: Ty, args: Inst[], block: Block): Inst {
    const inst = new Inst(this.nextInst++, op, ty, args, block);
    for (const a of args) a.uses.push(inst);
    return inst;
  }

  get instCount(): number {
    return this.nextInst;
  }
}

// ---------------------------------------------------------------------------------------------
// Editing helpers shared by the passes.

/** Drops `user` from the use list of `value` (one occurrence). */
export function removeUse(value: Inst, user: Inst): void {
  const i = value.uses.indexOf(user);
  if (i >= 0) {
    value.uses[i] = value.uses[value.uses.length - 1]!;
    value.uses.pop();
  }
}

export function setArg(inst: Inst, i: number, value: Inst): void {
  const old = inst.args[i]!;
  if (old === value) return;
  removeUse(old, inst);
  inst.args[i] = value;
  value.uses.push(inst);
}

/** Makes every user of `from` use `to` instead. */
export function replaceAllUses(from: Inst, to: Inst): void {
  if (from === to) return;
  const users = from.uses.splice(0);
  for (const u of users) {
    for (let i = 0; i < u.args.length; i++) {
      if (u.args[i] === from) {
        u.args[i] = to;
        to.uses.push(u);
      }
    }
  }
}

/** Unlinks an instruction from its operands (it must be unused) and from its block. */
export function removeInst(inst: Inst): void {
  for (const a of inst.args) removeUse(a, inst);
  inst.args.length = 0;
  const insts = inst.block.insts;
  const i = insts.indexOf(inst);
  if (i >= 0) insts.splice(i, 1);
}

/** Instructions without side effects, removable when unused. */
export function isPure(inst: Inst): boolean {
  switch (inst.op) {
    case "store":
    case "call":
    case "atomic":
    case "cmpxchg":
    case "opaque":
    case "ldabs":
    case "br":
    case "cbr":
    case "ret":
    case "unreachable":
      return false;
    case "load":
      return !inst.volatile;
    default:
      return true;
  }
}

export function isCommutative(op: Op): boolean {
  return op === "add" || op === "mul" || op === "and" || op === "or" || op === "xor";
}

const swapped: Record<Cond, Cond> = {
  eq: "eq",
  ne: "ne",
  ugt: "ult",
  uge: "ule",
  ult: "ugt",
  ule: "uge",
  sgt: "slt",
  sge: "sle",
  slt: "sgt",
  sle: "sge",
};
const inverted: Record<Cond, Cond> = {
  eq: "ne",
  ne: "eq",
  ugt: "ule",
  uge: "ult",
  ult: "uge",
  ule: "ugt",
  sgt: "sle",
  sge: "slt",
  slt: "sge",
  sle: "sgt",
};

/** The condition with its operands exchanged: a < b is b > a. */
export function swapCond(c: Cond): Cond {
  return swapped[c];
}

/** The negated condition: !(a < b) is a >= b. */
export function invertCond(c: Cond): Cond {
  return inverted[c];
}

export function isSignedCond(c: Cond): boolean {
  return c[0] === "s";
}

/** Removes `pred` from `block`'s predecessors together with the matching phi operands. */
export function removePred(block: Block, pred: Block): void {
  const i = block.preds.indexOf(pred);
  if (i < 0) return;
  block.preds.splice(i, 1);
  for (const inst of block.insts) {
    if (inst.op !== "phi") break;
    const a = inst.args[i]!;
    inst.args.splice(i, 1);
    removeUse(a, inst);
  }
}

// ---------------------------------------------------------------------------------------------
// Printer, for tests and debugging.

export function constValueText(inst: Inst): string {
  if (inst.ty === "i32") return String(inst.lo | 0);
  if (inst.hi === inst.lo >> 31) return String(inst.lo | 0);
  return "0x" + (inst.hi >>> 0).toString(16) + (inst.lo >>> 0).toString(16).padStart(8, "0");
}

function valueName(v: Inst): string {
  return v.op === "const" ? constValueText(v) : `%${v.id}`;
}

export function printInst(inst: Inst): string {
  const a = inst.args.map(valueName);
  const lhs = inst.ty === "void" || inst.isTerminator ? "" : `%${inst.id}:${inst.ty} = `;
  switch (inst.op) {
    case "const":
      return `${lhs}${constValueText(inst)}`;
    case "param":
      return `${lhs}param ${inst.index}`;
    case "cmp":
      return `${lhs}cmp ${inst.cond} ${a.join(", ")}`;
    case "select":
      return `${lhs}select ${inst.cond} ${a[0]}, ${a[1]} ? ${a[2]} : ${a[3]}`;
    case "phi":
      return `${lhs}phi ${inst.args.map((v, i) => `[${valueName(v)}, ${inst.block.preds[i]?.name ?? "?"}]`).join(" ")}`;
    case "load":
      return `${lhs}load${inst.signed ? "s" : ""}.${inst.width} ${a[0]}${offText(inst.off)}${inst.volatile ? " volatile" : ""}`;
    case "store":
      return `store.${inst.width} ${a[0]}${offText(inst.off)}, ${a[1]}`;
    case "frame":
      return `${lhs}frame ${inst.slot!.name}#${inst.slot!.id}${offText(inst.off)}`;
    case "global":
      return `${lhs}global ${inst.relocKind} ${inst.symbol}${offText(inst.off)}`;
    case "funcaddr":
      return `${lhs}funcaddr ${inst.symbol}`;
    case "call":
      return `${lhs}call ${inst.helper ? `helper ${inst.helper}` : inst.symbol}(${a.join(", ")})`;
    case "atomic":
      return `${lhs}atomic${inst.fetch ? ".fetch" : ""} ${inst.aop}.${inst.width} ${a[0]}${offText(inst.off)}, ${a[1]}`;
    case "cmpxchg":
      return `${lhs}cmpxchg.${inst.width} ${a[0]}${offText(inst.off)}, ${a[1]}, ${a[2]}`;
    case "sextin":
    case "bswap":
      return `${lhs}${inst.op}.${inst.width} ${a[0]}`;
    case "ldabs":
      return `${lhs}ldabs.${inst.width} ${a[0]}[${a.length > 1 ? a[1] + " + " : ""}${inst.off}]`;
    case "core":
      return `${lhs}core ${inst.core!.kind} "${inst.core!.access}" = ${inst.lo}${inst.hi ? `:${inst.hi}` : ""}`;
    case "br":
      return `br ${inst.targets[0]!.name}`;
    case "cbr":
      return `cbr ${inst.cond} ${a[0]}, ${a[1]} ? ${inst.targets[0]!.name} : ${inst.targets[1]!.name}`;
    case "ret":
      return a.length ? `ret ${a[0]}` : "ret";
    default:
      return `${lhs}${inst.op} ${a.join(", ")}`;
  }
}

function offText(off: number): string {
  return off === 0 ? "" : off > 0 ? ` + ${off}` : ` - ${-off}`;
}

export function printFunc(fn: Func): string {
  const lines: string[] = [`func ${fn.name}(${fn.paramTys.join(", ")}): ${fn.retTy}`];
  for (const s of fn.slots) lines.push(`  slot ${s.name}#${s.id} size ${s.size} align ${s.align}`);
  for (const b of fn.blocks) {
    lines.push(
      `${b.name}:${b.preds.length ? `  ; preds ${b.preds.map((p) => p.name).join(", ")}` : ""}`,
    );
    for (const inst of b.insts) lines.push(`  ${printInst(inst)}`);
  }
  return lines.join("\n");
}
