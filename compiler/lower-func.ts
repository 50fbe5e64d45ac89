// Lowering state for one emitted function: the IR builder, where each variable lives, the
// enclosing loops and switches, labels, and the stack of inlined calls being expanded.
//
// A local variable lives in SSA values unless its address is taken, it is volatile, or it is an
// aggregate; then it gets a stack slot. An inlined call gets its own frame: fresh storage for
// the callee's parameters and locals, its own labels, and a block its returns jump to.
import type * as A from "./ast.js";
import { Builder, VarKey } from "./lower-builder.js";
import { type Block, Func, type Inst, type Slot, type Ty } from "./ir.js";
import type { FunctionDecl, SemaResult, VarDecl } from "./sema.js";
import { type CType, Q_VOLATILE, alignOf, canonical, qualsOf, sizeOf } from "./types.js";
import { byAddress, irTy } from "./lower-types.js";
import type { UnitLowering } from "./lower.js";
import { diagnosticLoc } from "./lexer.js";

export type Storage =
  { kind: "ssa"; key: VarKey } | { kind: "slot"; slot: Slot } | { kind: "global"; decl: VarDecl };

/** One function body being expanded: the emitted function itself or an inlined callee. */
export interface InlineFrame {
  readonly decl: FunctionDecl;
  readonly vars: Map<VarDecl, Storage>;
  readonly labels: Map<A.LabeledStmt, Block>;
  /** Where `return` goes in an inlined body; undefined in the emitted function. */
  readonly returnTo: Block | undefined;
  /** The returned value of an inlined scalar function. */
  readonly returnKey: VarKey | undefined;
  /** The returned value of an inlined function returning a record. */
  readonly returnSlot: Slot | undefined;
  readonly returnType: CType;
}

export interface LoopTargets {
  readonly breakTo: Block;
  /** undefined for a switch (continue goes to the enclosing loop). */
  readonly continueTo: Block | undefined;
}

export interface SwitchContext {
  readonly cases: Map<A.CaseStmt | A.DefaultStmt, Block>;
}

export class FnLowering {
  readonly b: Builder;
  readonly sema: SemaResult;
  readonly frames: InlineFrame[] = [];
  readonly loops: LoopTargets[] = [];
  readonly switches: SwitchContext[] = [];
  /** Functions being inlined, outermost first: a guard against runaway expansion. */
  readonly inlineDepth: FunctionDecl[] = [];
  /** Inside __builtin_preserve_access_index(...): every member access is a CO-RE access. */
  preserveDepth = 0;

  constructor(
    readonly unit: UnitLowering,
    readonly decl: FunctionDecl,
    readonly func: Func,
  ) {
    this.b = new Builder(func);
    this.sema = unit.sema;
  }

  get frame(): InlineFrame {
    return this.frames[this.frames.length - 1]!;
  }

  /** Reports an error at `loc` (the first one stops code generation for the unit). */
  error(loc: A.SourceLoc, message: string): void {
    this.unit.error(loc, message);
  }

  /** Source position of a node, for line info. */
  at(node: { loc: A.SourceLoc }): void {
    const l = diagnosticLoc(node.loc);
    this.b.pos = { file: l.file, line: l.line, col: l.col };
  }

  // ---- variables ----

  /** Creates the storage of a local (or parameter) in the current frame. */
  declareLocal(v: VarDecl): Storage {
    const vars = this.frame.vars;
    const known = vars.get(v);
    if (known) return known;
    let s: Storage;
    if (v.storage === "static" || v.storage === "extern" || v.isFileScope) {
      s = { kind: "global", decl: v };
    } else if (this.needsSlot(v)) {
      s = { kind: "slot", slot: this.newSlot(v.type, v.name) };
    } else {
      s = { kind: "ssa", key: new VarKey(v.name, irTy(v.type)) };
    }
    vars.set(v, s);
    return s;
  }

  private needsSlot(v: VarDecl): boolean {
    if (byAddress(v.type)) return true;
    if ((qualsOf(v.type) & Q_VOLATILE) !== 0) return true;
    if (irTy(v.type) === "void") return true;
    return this.unit.addressTaken(this.frame.decl).has(v);
  }

  newSlot(type: CType, name: string): Slot {
    const size = Math.max(1, sizeOf(type));
    // Aligning an object to its size (up to 8) lets copies and fills use wide stores.
    let align = Math.max(1, Math.min(8, alignOf(type)));
    while (align < 8 && align * 2 <= size) align *= 2;
    return this.func.newSlot(size, align, name);
  }

  /** Where `v` lives, for a variable of the current frame or a global. */
  storageOf(v: VarDecl): Storage {
    const s = this.frame.vars.get(v);
    if (s) return s;
    if (v.isFileScope || v.storage === "static" || v.storage === "extern")
      return { kind: "global", decl: v };
    // A local first seen without its declaration (a jump over it): declare it now.
    return this.declareLocal(v);
  }

  frameAddr(slot: Slot, off = 0): Inst {
    const f = this.b.emit("frame", "i64", []);
    f.slot = slot;
    f.off = off;
    return f;
  }

  globalAddr(v: VarDecl, off = 0): Inst {
    const sym = this.unit.useGlobal(v, this.frames.at(-1)?.decl);
    const g = this.b.emit("global", "i64", []);
    g.symbol = sym.symbol;
    g.relocKind = sym.reloc;
    g.off = off;
    return g;
  }

  // ---- frames ----

  pushFrame(frame: InlineFrame): void {
    this.frames.push(frame);
  }

  popFrame(): void {
    const f = this.frames.pop()!;
    for (const block of f.labels.values()) this.b.seal(block);
  }

  newFrame(decl: FunctionDecl, returnTo: Block | undefined, returnType: CType): InlineFrame {
    let returnKey: VarKey | undefined;
    let returnSlot: Slot | undefined;
    const rc = canonical(returnType);
    if (returnTo !== undefined && rc.kind !== "void") {
      if (byAddress(rc)) returnSlot = this.newSlot(rc, `${decl.name}.ret`);
      else returnKey = new VarKey(`${decl.name}.ret`, irTy(rc));
    }
    return {
      decl,
      vars: new Map(),
      labels: new Map(),
      returnTo,
      returnKey,
      returnSlot,
      returnType,
    };
  }

  labelBlock(s: A.LabeledStmt): Block {
    const labels = this.frame.labels;
    let b = labels.get(s);
    if (!b) {
      b = this.b.newBlock(`L.${s.label}.`);
      labels.set(s, b);
    }
    return b;
  }

  paramTy(t: CType): Ty {
    return irTy(t);
  }
}
