// Lowering a translation unit: which functions and globals exist in the object, how calls are
// resolved (helper, inlined, BPF-to-BPF call, kfunc), and the checks that need the whole unit
// (recursion, unit-wide writes to globals for constant folding).
//
// Functions emitted: every SEC("...") function, every function with external linkage (into
// .text), and static functions that remain called or whose address is taken. A static function
// is inlined at its calls unless it is `noinline`, or large and called from several places;
// `always_inline` always inlines. Globals emitted: every defined object with external linkage,
// and static objects (static locals too, named `function.name` as clang names them) that code
// or other emitted data reference.
import type * as A from "./ast.js";
import type { CheckedProgram } from "./frontend.js";
import type { DiagnosticBag } from "./diagnostics.js";
import { diagnosticLoc, expansionChain } from "./lexer.js";
import { note } from "./diagnostics.js";
import type { FunctionDecl, SemaResult, VarDecl } from "./sema.js";
import { constantValue } from "./sema.js";
import { Func, type Inst, type RelocKind } from "./ir.js";
import type { CompiledGlobal } from "./unit.js";
import {
  type CType,
  Q_VOLATILE,
  arrayOf,
  canonical,
  charType,
  qualsOf,
  typeToString,
} from "./types.js";
import { FnLowering } from "./lower-func.js";
import { lowerFunctionBody, returnTypeOf } from "./lower-stmt.js";
import {
  type InitialData,
  initialData,
  isConstObject,
  readConstant,
  sectionOf,
} from "./lower-globals.js";
import { byAddress, intInfo, irTy, isAggregate, isWideInt } from "./lower-types.js";

export type Cpu = "v1" | "v2" | "v3" | "v4";

export interface LowerOptions {
  optLevel: 0 | 2;
  cpu: Cpu;
}

export interface LoweredFunction {
  decl: FunctionDecl;
  func: Func;
  section: string;
  global: boolean;
}

interface GlobalInfo {
  symbol: string;
  reloc: RelocKind;
  data: InitialData | undefined;
}

// A static function bigger than this (AST nodes) is not inlined when called more than once.
const INLINE_SIZE_LIMIT = 400;

/** Creation positions of globals first used in deferred (static) functions start here. */
const DEFERRED = 1e9;

export class UnitLowering {
  readonly sema: SemaResult;
  readonly diags: DiagnosticBag;
  readonly optimize: boolean;
  /** BPF_FETCH atomics (xchg, cmpxchg, fetch-and-op) exist from cpu v3. */
  readonly atomicFetch: boolean;

  private readonly addressTakenCache = new Map<FunctionDecl, Set<VarDecl>>();
  private readonly helperIds = new Map<VarDecl, number | undefined>();
  private readonly globalsInfo = new Map<VarDecl, GlobalInfo>();
  private readonly globalBySymbol = new Map<string, VarDecl>();
  private readonly strings = new Map<string, { symbol: string; lit: A.StringLiteral }>();
  private readonly compoundLiterals = new Map<A.CompoundLiteral, string>();
  private readonly extraGlobals: CompiledGlobal[] = [];
  private readonly staticLocalOwner = new Map<VarDecl, FunctionDecl>();
  private readonly usedNames = new Set<string>();
  private readonly writtenGlobals = new Set<VarDecl>();
  private readonly readGlobals = new Set<VarDecl>();
  // Identifiers that are the whole object a plain `=` stores into (not reads of it).
  private readonly storeTargets = new Set<A.Expr>();
  private readonly stringsBySymbol = new Map<string, A.StringLiteral>();
  private readonly keptStrings = new Set<string>();
  private readonly globalIndex = new Map<VarDecl | FunctionDecl, number>();
  // Where clang creates a global that code reaches before its definition is emitted (an
  // extern, a tentative definition): at its first use, in the function being emitted then.
  private readonly firstUse = new Map<VarDecl, number>();
  private emitting: FunctionDecl | undefined = undefined;
  private uses = 0;
  private readonly callSites = new Map<FunctionDecl, number>();
  private readonly bodySize = new Map<FunctionDecl, number>();
  private readonly pending: FunctionDecl[] = [];
  private readonly scheduled = new Set<FunctionDecl>();
  private readonly kfuncs = new Set<string>();

  constructor(
    readonly program: CheckedProgram,
    readonly opts: LowerOptions,
  ) {
    this.sema = program.sema!;
    this.diags = program.diagnostics;
    this.optimize = opts.optLevel > 0;
    this.atomicFetch = opts.cpu === "v3" || opts.cpu === "v4";
  }

  /** The value of an integer (or address-as-number) constant expression sema typed. */
  constant(e: A.Expr): bigint | undefined {
    return constantValue(this.sema, e);
  }

  // ---- diagnostics ----

  /** The messages reported so far, by the token they point at. */
  private readonly reported = new Map<A.SourceLoc, string[]>();

  /**
   * Reports an error at `loc`, once: an always_inline function's body is lowered again at each
   * of its calls, and clang reports what is wrong in it once.
   */
  error(loc: A.SourceLoc, message: string): void {
    const said = this.reported.get(loc);
    if (said?.includes(message)) return;
    if (said === undefined) this.reported.set(loc, [message]);
    else said.push(message);
    const notes = expansionChain(loc)
      .slice(0, -1)
      .map((n) => note(n.loc, `expanded from macro '${n.macro}'`));
    this.diags.add({ severity: "error", message, loc: diagnosticLoc(loc), notes });
  }

  // ---- the whole unit ----

  /** Lowers every function that goes into the object, in definition order. */
  lowerFunctions(): LoweredFunction[] {
    this.scanUnit();
    if (this.diags.hasErrors()) return [];
    for (const g of this.sema.globals) {
      if (g.kind !== "function" || g.definition === undefined) continue;
      if (g.section !== undefined || this.hasExternalDefinition(g)) this.schedule(g);
    }
    const lowered = new Map<FunctionDecl, LoweredFunction>();
    while (this.pending.length > 0) {
      const f = this.pending.shift()!;
      lowered.set(f, this.lowerFunction(f));
    }
    const order = new Map(this.sema.globals.map((g, i) => [g, i] as const));
    return [...lowered.values()].sort((a, b) => order.get(a.decl)! - order.get(b.decl)!);
  }

  private hasExternalDefinition(f: FunctionDecl): boolean {
    if (f.storage === "static") return false;
    // A C99 inline definition (inline without extern) provides no external definition.
    if (f.inline && f.storage !== "extern") return false;
    return true;
  }

  private schedule(f: FunctionDecl): void {
    if (this.scheduled.has(f)) return;
    this.scheduled.add(f);
    this.pending.push(f);
  }

  private lowerFunction(decl: FunctionDecl): LoweredFunction {
    this.emitting = decl;
    try {
      return this.lowerFunctionBody(decl);
    } finally {
      this.emitting = undefined;
    }
  }

  private lowerFunctionBody(decl: FunctionDecl): LoweredFunction {
    const ft = canonical(decl.type);
    const ret = returnTypeOf(decl);
    const params = ft.kind === "function" ? ft.params : [];
    const func = new Func(
      decl.name,
      irTy(ret),
      decl.params.map((p) => irTy(p.type)),
    );
    func.isProgram = decl.section !== undefined;
    func.constantBytes = (symbol, off, size, signed) =>
      this.constantBytes(symbol, off, size, signed);
    this.checkSignature(decl, ret, params.length);
    const fl = new FnLowering(this, decl, func);
    lowerFunctionBody(fl);
    return {
      decl,
      func,
      section: decl.section ?? ".text",
      global: decl.storage !== "static",
    };
  }

  /** The calling convention's limits, in clang's words. */
  private checkSignature(decl: FunctionDecl, ret: CType, paramCount: number): void {
    const ft = canonical(decl.type);
    const at = decl.definition?.declarator.nameLoc ?? decl.loc;
    if (ft.kind === "function" && ft.variadic) {
      this.error(at, "functions with VarArgs or StructRet are not supported");
      return;
    }
    if (isAggregate(ret)) {
      this.error(at, "functions with VarArgs or StructRet are not supported");
      return;
    }
    if (isWideInt(ret)) {
      // Two registers would be needed; clang's BPF back end refuses it too.
      this.error(at, "only small returns supported");
      return;
    }
    if (paramCount > 5) {
      this.error(at, "defined with too many args");
      return;
    }
    for (const p of decl.params) {
      if (byAddress(p.type))
        this.error(
          p.loc,
          `pass by value not supported: parameter '${p.name}' of '${decl.name}' is a '${typeToString(p.type)}'; pass a pointer`,
        );
    }
  }

  // ---- unit scan: call graph, recursion, globals written, static local owners ----

  /** The width a legacy packet load intrinsic (`asm("llvm.bpf.load.byte")`...) reads. */
  intrinsicOf(f: FunctionDecl): number | undefined {
    if (this.intrinsics === undefined) {
      this.intrinsics = new Map();
      const widths: Record<string, number> = {
        "llvm.bpf.load.byte": 1,
        "llvm.bpf.load.half": 2,
        "llvm.bpf.load.word": 4,
      };
      for (const d of this.sema.unit.decls) {
        if (d.kind !== "Declaration") continue;
        for (const init of d.declarators) {
          const label = init.declarator.asmLabel?.value;
          const w = label !== undefined ? widths[label] : undefined;
          const entity = this.sema.declarators.get(init.declarator);
          if (w !== undefined && entity?.kind === "function") this.intrinsics.set(entity, w);
        }
      }
    }
    return this.intrinsics.get(f);
  }

  private intrinsics: Map<FunctionDecl, number> | undefined;

  private scanUnit(): void {
    // Only code that can end up in the object matters: programs, functions with external
    // linkage, and what they call or take the address of (header-defined helpers usually not).
    const roots: FunctionDecl[] = [];
    for (const g of this.sema.globals) {
      if (g.kind !== "function" || g.definition === undefined) continue;
      if (g.section !== undefined || this.hasExternalDefinition(g)) roots.push(g);
    }
    const reached = new Set<FunctionDecl>(roots);
    const work = [...roots];
    const reach = (d: FunctionDecl): void => {
      if (d.definition !== undefined && !reached.has(d)) {
        reached.add(d);
        work.push(d);
      }
    };
    // Global initializers can take addresses too (and name functions: prog arrays).
    for (const g of this.sema.globals) {
      if (g.kind !== "var" || !g.init) continue;
      // `(void *) 1`, the helper declarations of bpf_helper_defs.h: nothing to see.
      if (g.init.kind === "CastExpr" && g.init.operand.kind === "IntegerLiteral") continue;
      walk(g.init, (n, parent) => {
        this.noteWrites(n, parent);
        if (n.kind === "Identifier") {
          const d = this.sema.exprs.get(n as A.Identifier)?.decl;
          if (d?.kind === "function") reach(d);
        }
      });
    }
    const calls = new Map<FunctionDecl, { callee: FunctionDecl; at: A.CallExpr }[]>();
    while (work.length) {
      const f = work.pop()!;
      for (const l of f.locals) if (l.storage === "static") this.staticLocalOwner.set(l, f);
      const out: { callee: FunctionDecl; at: A.CallExpr }[] = [];
      let size = 0;
      const taken = new Set<VarDecl>();
      this.addressTakenCache.set(f, taken);
      walk(f.definition!.body, (n, parent) => {
        size++;
        this.noteWrites(n, parent);
        this.noteAddressTaken(n, taken);
        if (n.kind === "Identifier") {
          const d = this.sema.exprs.get(n as A.Identifier)?.decl;
          if (d?.kind === "function" && !d.builtin) reach(d);
        } else if (n.kind === "CallExpr") {
          const c = n as A.CallExpr;
          let callee = c.callee;
          while (callee.kind === "UnaryExpr" && callee.op === "*") callee = callee.operand;
          if (callee.kind === "Identifier") {
            const d = this.sema.exprs.get(callee)?.decl;
            if (d?.kind === "function" && !d.builtin && d.definition !== undefined) {
              out.push({ callee: d, at: c });
              this.callSites.set(d, (this.callSites.get(d) ?? 0) + 1);
            }
          }
        }
      });
      calls.set(f, out);
      this.bodySize.set(f, size);
    }
    const defs = this.sema.globals.filter(
      (g): g is FunctionDecl => g.kind === "function" && reached.has(g),
    );
    this.checkRecursion(defs, calls);
  }

  private checkRecursion(
    defs: FunctionDecl[],
    calls: Map<FunctionDecl, { callee: FunctionDecl; at: A.CallExpr }[]>,
  ): void {
    const state = new Map<FunctionDecl, 1 | 2>();
    const reported = new Set<A.CallExpr>();
    const visit = (f: FunctionDecl): void => {
      state.set(f, 1);
      for (const { callee, at } of calls.get(f) ?? []) {
        const s = state.get(callee);
        if (s === 1) {
          if (!reported.has(at)) {
            reported.add(at);
            this.error(
              at.loc,
              callee === f
                ? `recursive call to '${callee.name}' is not supported: BPF programs cannot recurse`
                : `call to '${callee.name}' from '${f.name}' makes a recursive cycle, which BPF programs cannot have`,
            );
          }
        } else if (s === undefined) visit(callee);
      }
      state.set(f, 2);
    };
    for (const f of defs) if (!state.has(f)) visit(f);
  }

  /** The variable an lvalue is part of (through `.` members and array elements). */
  private baseVar(e: A.Expr): VarDecl | undefined {
    let x = e;
    for (;;) {
      if (x.kind === "MemberExpr" && !x.arrow) x = x.object;
      else if (x.kind === "IndexExpr") {
        const at = this.sema.exprs.get(x.array)?.type;
        if (at && canonical(at).kind === "array") x = x.array;
        else return undefined;
      } else break;
    }
    if (x.kind !== "Identifier") return undefined;
    const d = this.sema.exprs.get(x)?.decl;
    return d?.kind === "var" ? d : undefined;
  }

  // Marks globals that are assigned, incremented, or whose address escapes.
  private noteWrites(n: AstNode, parent: AstNode | undefined): void {
    switch (n.kind) {
      case "AssignExpr": {
        const target = (n as A.AssignExpr).target;
        this.markWritten(this.baseVar(target));
        if ((n as A.AssignExpr).op === "=") {
          let x = target;
          for (;;) {
            const at = x.kind === "IndexExpr" ? this.sema.exprs.get(x.array)?.type : undefined;
            if (x.kind === "MemberExpr" && !x.arrow) x = x.object;
            else if (x.kind === "IndexExpr" && at !== undefined && canonical(at).kind === "array")
              x = x.array;
            else break;
          }
          if (x.kind === "Identifier") this.storeTargets.add(x);
        }
        break;
      }
      case "UpdateExpr":
        this.markWritten(this.baseVar((n as A.UpdateExpr).operand));
        break;
      case "UnaryExpr":
        if ((n as A.UnaryExpr).op === "&")
          this.markWritten(this.baseVar((n as A.UnaryExpr).operand));
        break;
      case "Identifier": {
        const info = this.sema.exprs.get(n as A.Identifier);
        if (info?.decl?.kind === "var" && !this.storeTargets.has(n as A.Identifier))
          this.readGlobals.add(info.decl);
        // An array used as a pointer (passed to a helper, stored) escapes, except as a[i].
        if (info?.decl?.kind !== "var" || canonical(info.type).kind !== "array") break;
        if (parent?.kind === "IndexExpr" && (parent as A.IndexExpr).array === n) break;
        if (parent?.kind === "MemberExpr") break;
        if (parent?.kind === "SizeofExpr") break;
        this.markWritten(info.decl);
        break;
      }
      case "AsmStmt":
        for (const o of (n as A.AsmStmt).outputs) this.markWritten(this.baseVar(o.expr));
        break;
    }
  }

  private markWritten(v: VarDecl | undefined): void {
    if (v) this.writtenGlobals.add(v);
  }

  // ---- per-function facts ----

  /** Locals and parameters of `f` whose address is taken (they need stack slots). */
  addressTaken(f: FunctionDecl): Set<VarDecl> {
    let s = this.addressTakenCache.get(f);
    if (s) return s;
    const set = new Set<VarDecl>();
    this.addressTakenCache.set(f, set);
    const body = f.definition?.body;
    if (body) walk(body, (n) => this.noteAddressTaken(n, set));
    return set;
  }

  private noteAddressTaken(n: AstNode, set: Set<VarDecl>): void {
    if (n.kind === "UnaryExpr" && (n as A.UnaryExpr).op === "&") {
      let x = (n as A.UnaryExpr).operand;
      while (x.kind === "MemberExpr" && !x.arrow) x = x.object;
      if (x.kind === "Identifier") {
        const d = this.sema.exprs.get(x)?.decl;
        if (d?.kind === "var") set.add(d);
      }
    } else if (n.kind === "AsmStmt") {
      for (const o of [...(n as A.AsmStmt).outputs, ...(n as A.AsmStmt).inputs]) {
        if (o.constraint.value.includes("m") && o.expr.kind === "Identifier") {
          const d = this.sema.exprs.get(o.expr)?.decl;
          if (d?.kind === "var") set.add(d);
        }
      }
    }
  }

  shouldInline(f: FunctionDecl): boolean {
    if (f.definition === undefined) return false;
    const attrs = f.attributes.map((a) => a.name);
    if (attrs.includes("noinline")) return false;
    if (attrs.includes("always_inline")) return true;
    if (!this.optimize) return false;
    if ((this.callSites.get(f) ?? 0) > 1 && (this.bodySize.get(f) ?? 0) > INLINE_SIZE_LIMIT)
      return false;
    return true;
  }

  /** A BPF-to-BPF call to `f` stays: `f` is emitted in .text. */
  requestCall(f: FunctionDecl, _at: A.CallExpr): string {
    this.schedule(f);
    return f.name;
  }

  functionAddressTaken(f: FunctionDecl, at: A.SourceLoc): string {
    if (f.definition === undefined) {
      if (f.builtin) this.error(at, `builtin function '${f.name}' has no address`);
      else this.error(at, `address of undefined function '${f.name}'`);
      return f.name;
    }
    this.schedule(f);
    return f.name;
  }

  functionReferencedByData(f: FunctionDecl): string {
    if (f.definition !== undefined) this.schedule(f);
    return f.name;
  }

  useKfunc(f: FunctionDecl): string {
    this.kfuncs.add(f.name);
    return f.name;
  }

  /** The helper a function-pointer variable names (`= (void *) 1`), if it is one. */
  helperId(v: VarDecl): number | undefined {
    if (this.helperIds.has(v)) return this.helperIds.get(v);
    let id: number | undefined;
    const c = canonical(v.type);
    if (
      c.kind === "pointer" &&
      canonical(c.pointee).kind === "function" &&
      v.init &&
      v.init.kind !== "InitList"
    ) {
      const value = this.constant(v.init);
      if (value !== undefined && value > 0n && value < 0x10000n) id = Number(value);
    }
    this.helperIds.set(v, id);
    return id;
  }

  // ---- globals ----

  /** The symbol and relocation kind code uses for a global. */
  useGlobal(v: VarDecl, source?: FunctionDecl): { symbol: string; reloc: RelocKind } {
    // The function whose body holds the use (an inlined callee's, not the emitted one's): clang
    // creates globals while generating each function's own body, before any inlining.
    const f = source ?? this.emitting;
    if (f !== undefined && !this.firstUse.has(v)) {
      // Functions with an external definition are emitted in source order; the others
      // (static callees, BPF_KPROBE's inner bodies) after them all, as clang defers them -
      // after the end of the unit has completed the tentative definitions, which therefore
      // keep their declaration order.
      const deferred = !this.hasExternalDefinition(f);
      if (!(deferred && this.isTentative(v))) {
        const at = deferred ? DEFERRED : (this.globalPosition(f) ?? 0);
        this.firstUse.set(v, at + ++this.uses / 1e6);
      }
    }
    return this.globalInfo(v);
  }

  private globalInfo(v: VarDecl): GlobalInfo {
    let g = this.globalsInfo.get(v);
    if (g) return g;
    const owner = this.staticLocalOwner.get(v);
    const symbol = this.uniqueName(owner ? `${owner.name}.${v.name}` : v.name);
    const reloc: RelocKind = v.section === "maps" || v.section === ".maps" ? "map" : "data";
    g = { symbol, reloc, data: undefined };
    this.globalsInfo.set(v, g);
    this.globalBySymbol.set(symbol, v);
    return g;
  }

  private uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}.${i}`;
    this.usedNames.add(name);
    return name;
  }

  private dataOf(v: VarDecl): InitialData {
    const g = this.globalInfo(v);
    g.data ??= initialData(this, v.type, v.init);
    return g.data;
  }

  /**
   * The value a load from a global reads when it cannot change at run time: a non-volatile
   * const object, or a static one nothing in the unit writes or takes the address of.
   */
  constantLoad(base: Inst, off: number, type: CType, isVolatile: boolean): bigint | undefined {
    if (isVolatile || base.op !== "global") return undefined;
    const ii = intInfo(type);
    if (ii === undefined) return undefined;
    return this.constantBytes(base.symbol, base.off + off, ii.size, ii.signed);
  }

  /** `size` bytes at `off` in global `symbol` when they are known at compile time (-O2). */
  constantBytes(symbol: string, off: number, size: number, signed: boolean): bigint | undefined {
    if (!this.optimize) return undefined;
    const str = this.stringsBySymbol.get(symbol);
    if (str !== undefined) {
      const bytes = new Uint8Array(str.bytes.length + 4);
      bytes.set(str.bytes);
      return readConstant(
        { bytes: bytes.subarray(0, str.bytes.length + 1), relocs: [] },
        off,
        size,
        signed,
      );
    }
    const v = this.globalBySymbol.get(symbol);
    if (v === undefined || v.storage === "extern" || !v.defined) return undefined;
    if (v.section !== undefined && !v.section.startsWith(".rodata")) return undefined;
    if ((qualsOf(v.type) & Q_VOLATILE) !== 0 || hasVolatileElement(v.type)) return undefined;
    const fixed = isConstObject(v.type) || (v.storage === "static" && !this.writtenGlobals.has(v));
    if (!fixed) return undefined;
    return readConstant(this.dataOf(v), off, size, signed);
  }

  /**
   * A static object nothing reads (no loads, no address taken): stores to it are dead and it
   * leaves the object, as clang's global optimiser drops it.
   */
  isWriteOnly(v: VarDecl): boolean {
    if (!this.optimize || v.section !== undefined || !v.defined) return false;
    if (!(v.storage === "static" && (v.isFileScope || this.staticLocalOwner.has(v)))) return false;
    if ((qualsOf(v.type) & Q_VOLATILE) !== 0 || hasVolatileElement(v.type)) return false;
    return !this.readGlobals.has(v);
  }

  /** A string literal emitted whether or not code still refers to it (a memcpy source). */
  keepString(s: A.StringLiteral): void {
    this.keptStrings.add(this.stringLiteral(s));
  }

  stringLiteral(s: A.StringLiteral): string {
    const unitSize = s.prefix === "" || s.prefix === "u8" ? 1 : s.prefix === "u" ? 2 : 4;
    const key = `${unitSize}:${Array.from(s.bytes).join(",")}`;
    let e = this.strings.get(key);
    if (!e) {
      e = { symbol: `.L.str${this.strings.size === 0 ? "" : `.${this.strings.size}`}`, lit: s };
      this.strings.set(key, e);
      this.stringsBySymbol.set(e.symbol, s);
    }
    return e.symbol;
  }

  fileCompoundLiteral(e: A.CompoundLiteral): string {
    let sym = this.compoundLiterals.get(e);
    if (sym) return sym;
    sym = this.uniqueName(".compoundliteral");
    this.compoundLiterals.set(e, sym);
    const type = this.sema.exprs.get(e)?.type;
    if (type) {
      const data = initialData(this, type, e.init);
      const l = diagnosticLoc(e.loc);
      this.extraGlobals.push({
        name: sym,
        section: isConstObject(type) ? ".rodata" : ".data",
        global: false,
        type,
        bytes: data.bytes,
        dataRelocs: data.relocs,
        pos: { file: l.file, line: l.line, col: l.col },
      });
    }
    return sym;
  }

  /**
   * Every global the object holds: those with external linkage, and statics, string literals
   * and compound literals that the code (`referenced`, from relocations) or other emitted data
   * refer to. Clang's order: initialised objects first, then tentative definitions.
   */
  compileGlobals(referenced: Iterable<string>): CompiledGlobal[] {
    const want = new Set<string>([...referenced, ...this.keptStrings]);
    for (const g of this.sema.globals) {
      if (g.kind !== "var" || g.storage === "extern" || g.storage === "static" || !g.defined)
        continue;
      if (this.helperId(g) !== undefined && g.storage === undefined) {
        // A non-static helper pointer is still a real object, as clang emits it.
      }
      want.add(this.useGlobal(g).symbol);
    }
    // Data referring to more data: close over relocations.
    const work = [...want];
    while (work.length) {
      const sym = work.pop()!;
      const v = this.globalBySymbol.get(sym);
      if (v === undefined || (v.storage === "extern" && !v.defined)) continue;
      for (const r of this.dataOf(v).relocs) {
        if (!want.has(r.symbol)) {
          want.add(r.symbol);
          work.push(r.symbol);
        }
      }
    }
    for (const c of this.extraGlobals) {
      for (const r of c.dataRelocs) want.add(r.symbol);
    }
    const out: CompiledGlobal[] = [];
    const tentative: CompiledGlobal[] = [];
    // created while generating deferred (static) functions, after the tentative definitions
    const late: CompiledGlobal[] = [];
    const entries = [...this.globalsInfo].sort(
      (a, b) => this.creationOrder(a[0]) - this.creationOrder(b[0]),
    );
    for (const [v, g] of entries) {
      if (!want.has(g.symbol)) continue;
      const l = diagnosticLoc(v.loc);
      const pos = { file: l.file, line: l.line, col: l.col };
      if (v.storage === "extern" && !v.defined) {
        const weak = v.attributes.some((a) => a.name === "weak");
        const section = v.section === ".kconfig" || v.section === ".ksyms" ? v.section : undefined;
        (this.isDeferredUse(v) ? late : out).push({
          name: g.symbol,
          section: section ?? ".extern",
          global: true,
          type: v.type,
          bytes: new Uint8Array(0),
          dataRelocs: [],
          external: { weak, section },
          pos,
        });
        continue;
      }
      const data = this.dataOf(v);
      const item: CompiledGlobal = {
        name: g.symbol,
        section: sectionOf(v, data),
        global: v.storage !== "static",
        type: v.type,
        bytes: data.bytes,
        dataRelocs: data.relocs,
        pos,
      };
      if (this.isTentative(v) && !this.firstUse.has(v)) tentative.push(item);
      else if (this.isDeferredUse(v)) late.push(item);
      else out.push(item);
    }
    for (const { symbol, lit } of this.strings.values()) {
      if (!want.has(symbol)) continue;
      const l = diagnosticLoc(lit.loc);
      const unitSize = lit.prefix === "" || lit.prefix === "u8" ? 1 : lit.prefix === "u" ? 2 : 4;
      const bytes = new Uint8Array(lit.bytes.length + unitSize);
      bytes.set(lit.bytes);
      out.push({
        name: symbol,
        section: unitSize === 1 ? ".rodata.str1.1" : `.rodata.str${unitSize}.${unitSize}`,
        global: false,
        type: arrayOf(charType, bytes.length),
        bytes,
        dataRelocs: [],
        pos: { file: l.file, line: l.line, col: l.col },
      });
    }
    for (const c of this.extraGlobals) if (want.has(c.name)) out.push(c);
    return [...out, ...tentative, ...late];
  }

  /** An extern or tentative definition clang first meets in a deferred function's body. */
  private isDeferredUse(v: VarDecl): boolean {
    const used = this.firstUse.get(v);
    return used !== undefined && used >= DEFERRED && this.placedAtFirstUse(v);
  }

  /** An extern without a definition, or a tentative definition: clang creates it at a use. */
  private placedAtFirstUse(v: VarDecl): boolean {
    return (v.storage === "extern" && !v.defined) || this.isTentative(v);
  }

  private isTentative(v: VarDecl): boolean {
    return v.init === undefined && v.section === undefined && !this.staticLocalOwner.has(v);
  }

  /**
   * clang's order of globals (the module's, which .BTF and the sections follow): definitions
   * with initialisers where they are declared, externs and tentative definitions at the first
   * use in emitted code, unused tentative definitions at the end.
   */
  private creationOrder(v: VarDecl): number {
    const used = this.firstUse.get(v);
    if (used !== undefined && this.placedAtFirstUse(v)) return used;
    return this.declOrder(v);
  }

  /** Declaration order of a global (static locals come with their function). */
  private declOrder(v: VarDecl): number {
    const owner = this.staticLocalOwner.get(v);
    const i = this.globalPosition(owner ?? v);
    if (i === undefined) return Number.MAX_SAFE_INTEGER;
    return owner ? i + (owner.locals.indexOf(v) + 1) / (owner.locals.length + 2) : i;
  }

  /** A global's place in sema's list of globals (declaration order). */
  private globalPosition(g: VarDecl | FunctionDecl): number | undefined {
    if (this.globalIndex.size === 0)
      this.sema.globals.forEach((x, i) => this.globalIndex.set(x, i));
    return this.globalIndex.get(g);
  }

  /** kfuncs called (undefined function symbols the object references). */
  get kfuncNames(): string[] {
    return [...this.kfuncs];
  }
}

function hasVolatileElement(t: CType): boolean {
  let c = canonical(t);
  while (c.kind === "array") {
    if ((qualsOf(c.element) & Q_VOLATILE) !== 0) return true;
    c = canonical(c.element);
  }
  return false;
}

// ---- AST walking ----

type AstNode = { kind: string };

/** Visits every AST node under `root` (statements, declarations, expressions), parents first. */
export function walk(root: object, visit: (n: AstNode, parent: AstNode | undefined) => void): void {
  const go = (n: unknown, parent: AstNode | undefined): void => {
    if (n === null || typeof n !== "object") return;
    if (Array.isArray(n)) {
      for (let i = 0; i < n.length; i++) go(n[i], parent);
      return;
    }
    const node = n as Record<string, unknown>;
    const kind = node.kind;
    if (typeof kind !== "string") return;
    const an = node as unknown as AstNode;
    visit(an, parent);
    let keys = childKeys.get(kind);
    if (keys === undefined) {
      // Nodes of one kind share their shape: find the child-bearing properties once.
      // Locations (loc, opLoc, memberLoc, ...) are tokens, not children; a property holding a
      // string, number or boolean never holds a node (ast.ts mixes no such types), and reading
      // each such property of every node was most of a walk's time.
      keys = Object.keys(node).filter(
        (k) =>
          k !== "kind" &&
          !/[lL]oc$/.test(k) &&
          (node[k] === null || typeof node[k] === "object" || node[k] === undefined),
      );
      childKeys.set(kind, keys);
    }
    for (let i = 0; i < keys.length; i++) {
      const child = node[keys[i]!];
      if (child !== null && typeof child === "object") go(child, an);
    }
  };
  go(root, undefined);
}

const childKeys = new Map<string, string[]>();
