// Semantic analysis: scopes and name resolution, the type of every expression, implicit
// conversions, lvalue rules, initializers, statements, and clang's diagnostics for them.
//
// The AST stays as the parser built it; what sema learns goes into side tables (SemaResult)
// keyed by AST node: the type, lvalue-ness and implicit conversion of each expression, the
// declaration each identifier names, the member each member access reaches, the type of each
// type name, and the flattened layout of each initializer. The back end lowers from these.
//
// The order of checks follows clang's so that the first diagnostic on bad input is the one
// clang gives, in clang's words.
import type * as A from "./ast.js";
import { isDefinition } from "./ast.js";
import { type Diagnostic, DiagnosticBag, type SourceLoc as DiagLoc, note } from "./diagnostics.js";
import { diagnosticLoc, expansionChain } from "./lexer.js";
import { bodyChecksOut, type SkimScope } from "./sema-skim.js";
import {
  ConstEvaluator,
  type ConstEvalHost,
  convertValue,
  isNotConstant,
  literalValue,
  smallValue,
} from "./consteval.js";
import {
  type ArrayType,
  type CType,
  type DeclaredField,
  type FunctionType,
  type IntegerType,
  type Member,
  type MemberPath,
  type Param,
  type PointerType,
  type SourcePos,
  DEFAULT_ATTRIBUTE_ALIGN,
  EnumDecl,
  Q_CONST,
  Q_RESTRICT,
  Q_VOLATILE,
  RecordDecl,
  TypedefDecl,
  addQuals,
  alignOf,
  arrayOf,
  boolType,
  canonical,
  charType,
  compatible,
  compositeType,
  defaultArgumentPromotion,
  describeType,
  doubleType,
  enumUnderlyingType,
  fitsIn,
  floatType,
  rangeOf,
  functionType,
  int128Type,
  intType,
  integerTypeOf,
  isArithmetic,
  isComplete,
  isInteger,
  isScalar,
  layoutRecord,
  longDoubleType,
  longType,
  longlongType,
  noRecordAttrs,
  pointerTo,
  promote,
  ptrdiffType,
  qualsOf,
  scharType,
  shortType,
  sizeOf,
  sizeType,
  typeToString,
  ucharType,
  uint128Type,
  uintType,
  ulongType,
  ulonglongType,
  unqualified,
  ushortType,
  usualArithmeticConversion,
  voidType,
  withQuals,
  type FieldDecl as LayoutField,
  type RecordAttrs,
} from "./types.js";

// ---------------------------------------------------------------------------------------
// What sema produces.

export type StorageClass = "extern" | "static" | "auto" | "register" | undefined;

// A variable: global, local or parameter. One object per entity, shared by redeclarations.
export interface VarDecl {
  readonly kind: "var";
  readonly name: string;
  type: CType;
  // The name, and the start of the declaration it is in (clang's "declared here" notes).
  readonly loc: A.SourceLoc;
  readonly startLoc: A.SourceLoc;
  storage: StorageClass;
  readonly isFileScope: boolean;
  readonly isParam: boolean;
  // A definition was seen (initializer, or a file-scope declaration without extern).
  defined: boolean;
  init: A.Initializer | undefined;
  attributes: A.Attribute[];
  // From __attribute__((section("..."))).
  section: string | undefined;
  // From aligned attributes / _Alignas on the variable, bytes; 0 if none.
  alignAttr: number;
}

export interface FunctionDecl {
  readonly kind: "function";
  readonly name: string;
  type: CType;
  readonly loc: A.SourceLoc;
  storage: StorageClass;
  inline: boolean;
  // _Noreturn or __attribute__((noreturn)): a call ends the path (for -Wreturn-type).
  noreturn: boolean;
  definition: A.FunctionDef | undefined;
  // The parameters of the definition, in order (empty until defined).
  params: VarDecl[];
  // Block-scope variables of the definition, in declaration order (statics included).
  locals: VarDecl[];
  attributes: A.Attribute[];
  section: string | undefined;
  // A compiler builtin (__builtin_memcpy...), declared implicitly.
  readonly builtin: boolean;
}

export interface EnumConstDecl {
  readonly kind: "enumConst";
  readonly name: string;
  value: bigint;
  type: IntegerType;
  readonly enumDecl: EnumDecl;
  readonly loc: A.SourceLoc;
}

export interface TypedefEntry {
  readonly kind: "typedef";
  readonly name: string;
  readonly decl: TypedefDecl;
  readonly loc: A.SourceLoc;
}

export type Decl = VarDecl | FunctionDecl | EnumConstDecl;
export type OrdinaryEntity = Decl | TypedefEntry;

export interface ExprInfo {
  // The expression's own type (an array stays an array; lvalues have their object's type).
  type: CType;
  lvalue: boolean;
  // The declaration an Identifier names.
  decl?: Decl;
  // The member a MemberExpr reaches (through anonymous members: the whole chain).
  member?: MemberPath;
  // The type the context converts the value to, decay included (clang's ImplicitCastExpr);
  // absent when the value is used as it is.
  converted?: CType;
  // The type an operator computes in: the common type of arithmetic/comparison operands,
  // the promoted left operand of a shift, the computation type of a compound assignment.
  opType?: CType;
  // The value of an integer constant expression, where one was required or folded.
  value?: bigint;
  // For _Generic and __builtin_choose_expr: the expression chosen (its value is the result).
  selected?: A.Expr;
}

// One scalar (or string/array-copy) store that an initializer performs: at `offset` bytes
// into the object, of `type`; bit-fields carry their position. Unmentioned bytes are zero.
export interface InitEntry {
  readonly offset: number;
  readonly type: CType;
  readonly expr: A.Expr;
  readonly bitOffset?: number; // from the object's start, for bit-fields
  readonly bitWidth?: number;
}

export interface SemaResult {
  readonly unit: A.TranslationUnit;
  readonly exprs: Map<A.Expr, ExprInfo>;
  // The entity each named declarator declares (parameters included).
  readonly declarators: Map<A.Declarator, Decl | TypedefEntry>;
  readonly typeNames: Map<A.TypeName, CType>;
  // Initializer (the top one of a declaration or compound literal) -> its stores.
  readonly initializers: Map<A.Initializer, InitEntry[]>;
  // File-scope variables and functions in order of first declaration.
  readonly globals: (VarDecl | FunctionDecl)[];
  // Records and enums in order of definition. The anonymous records inside a body read past
  // (parse-skim.ts) are not among them: they are made when the body is first used, maybe by a
  // later compile that goes on from this one's state.
  readonly records: RecordDecl[];
  readonly enums: EnumDecl[];
  // Case/default statements of each switch, and the value of each case label.
  readonly switches: Map<A.SwitchStmt, (A.CaseStmt | A.DefaultStmt)[]>;
  readonly caseValues: Map<A.CaseStmt, bigint>;
  // The last value of GNU `case low ... high` ranges.
  readonly caseRangeEnds: Map<A.CaseStmt, bigint>;
  readonly labels: Map<A.GotoStmt, A.LabeledStmt>;
}

// ---------------------------------------------------------------------------------------
// Scopes: ordinary identifiers and tags, file / function / block / prototype.

type Tag = RecordDecl | EnumDecl;

class Scope {
  // Made on first use: most prototype and block scopes declare no tags, many no names.
  private nameMap: Map<string, OrdinaryEntity> | undefined;
  private tagMap: Map<string, Tag> | undefined;

  constructor(
    readonly parent: Scope | undefined,
    readonly kind: "file" | "block" | "prototype" | "function",
    names?: Map<string, OrdinaryEntity>,
    tags?: Map<string, Tag>,
  ) {
    this.nameMap = names;
    this.tagMap = tags;
  }

  get names(): Map<string, OrdinaryEntity> {
    return (this.nameMap ??= new Map());
  }

  get tags(): Map<string, Tag> {
    return (this.tagMap ??= new Map());
  }

  lookup(name: string): OrdinaryEntity | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const e = s.nameMap?.get(name);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  lookupTag(name: string): Tag | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const t = s.tagMap?.get(name);
      if (t !== undefined) return t;
    }
    return undefined;
  }
}

// The function being checked: return type, labels, the enclosing loops and switches.
interface FunctionContext {
  readonly decl: FunctionDecl;
  readonly returnType: CType;
  readonly labels: Map<string, A.LabeledStmt>;
  readonly gotos: A.GotoStmt[];
  loopDepth: number;
  readonly switches: SwitchContext[];
  // Warnings clang emits when the function body is done (runtime-behaviour diagnostics).
  readonly deferred: Diagnostic[];
}

interface SwitchContext {
  readonly stmt: A.SwitchStmt;
  readonly type: CType;
  // Case values with their range ends (GNU `case a ... b`), in source order.
  readonly ranges: { value: A.Expr; low: bigint; high: bigint }[];
  readonly cases: (A.CaseStmt | A.DefaultStmt)[];
  readonly seen: Map<bigint, A.Expr>;
  defaultStmt: A.DefaultStmt | undefined;
}

// A value sema could not type; keeps checking going without cascades of errors.
// A distinct object (never === intType) so that "already diagnosed" can be recognized.
const errorType: CType = { ...intType };
const ERROR: ExprInfo = { type: errorType, lvalue: false };

// ---------------------------------------------------------------------------------------

// `anchors`, when given, receives the token each diagnostic was reported at, so that the
// driver can apply `#pragma GCC diagnostic` regions (which are positions in the token stream).
//
// `cache` (the front end's prefix cache, compiler/frontend.ts): `resume` goes on from the state
// a snapshot kept after the unit's first external declarations (the same AST objects), so only
// the rest is checked; `snapshotAt` and `onSnapshot` ask for such a state. The result and the
// diagnostics are the ones a whole run gives.
export function analyze(
  unit: A.TranslationUnit,
  diagnostics: DiagnosticBag,
  anchors?: Map<Diagnostic, SourcePos>,
  cache?: SemaCacheOptions,
): SemaResult {
  const resume = cache?.resume;
  if (resume !== undefined && resumable(unit, resume)) {
    // Its own bag: a resumed run that gives up (see Sema.touch) leaves nothing behind.
    const bag = new DiagnosticBag();
    const marks = anchors === undefined ? undefined : new Map<Diagnostic, SourcePos>();
    const sema = new Sema(unit, bag, marks, resume);
    let kept: KeptState[];
    try {
      // A later declaration that would change an entity of the resumed state, or of a state
      // taken after it, abandons the run, which then starts over.
      kept = runKeepingStates(sema, resume.count, statesAsked(cache!, resume.count + 1, unit), bag);
    } catch (e) {
      if (!(e instanceof ResumeAbandoned)) throw e;
      return analyze(unit, diagnostics, anchors, { ...cache, resume: undefined });
    }
    for (const d of bag.items) diagnostics.add(d);
    if (marks !== undefined) for (const [d, at] of marks) anchors!.set(d, at);
    for (const k of kept) k.give(k.snapshot);
    cache!.onResumed?.();
    return sema.result;
  }
  const sema = new Sema(unit, diagnostics, anchors, undefined);
  const asked = cache === undefined ? [] : statesAsked(cache, 0, unit);
  for (const k of runKeepingStates(sema, 0, asked, diagnostics)) k.give(k.snapshot);
  return sema.result;
}

interface StateAsked {
  at: number;
  give: (snapshot: SemaSnapshot) => void;
}

interface KeptState {
  snapshot: SemaSnapshot;
  give: (snapshot: SemaSnapshot) => void;
}

/** The states `cache` asks for, in order, from declaration `from` on. */
function statesAsked(cache: SemaCacheOptions, from: number, unit: A.TranslationUnit): StateAsked[] {
  const asked: StateAsked[] = [];
  if (cache.snapshotAt !== undefined && cache.onSnapshot !== undefined)
    asked.push({ at: cache.snapshotAt, give: cache.onSnapshot });
  if (cache.next !== undefined)
    asked.push({ at: cache.next.snapshotAt, give: cache.next.onSnapshot });
  const ordered: StateAsked[] = [];
  for (const a of asked) {
    if (a.at >= from && a.at <= unit.decls.length && a.at > (ordered.at(-1)?.at ?? -1))
      ordered.push(a);
  }
  return ordered;
}

/**
 * Checks the declarations from `start` on, taking the states asked for where nothing was
 * reported before them; returns those no later declaration spoiled by changing one of their
 * entities (a state's entities include those of the states before it).
 */
function runKeepingStates(
  sema: Sema,
  start: number,
  asked: StateAsked[],
  bag: DiagnosticBag,
): KeptState[] {
  let kept: KeptState[] = [];
  let done = start;
  for (const { at, give } of asked) {
    sema.run(done, at);
    done = at;
    if (sema.spoiled) kept = [];
    sema.spoiled = false;
    if (bag.items.length === 0) kept.push({ snapshot: sema.snapshot(at), give });
  }
  sema.run(done);
  return sema.spoiled ? [] : kept;
}

/** Where sema takes a snapshot, or the one it goes on from (see analyze). */
export interface SemaCacheOptions {
  /** Take a snapshot after this many external declarations. */
  snapshotAt?: number;
  onSnapshot?: (snapshot: SemaSnapshot) => void;
  /** A second state, after `snapshotAt`'s. With `resume`, those past the resumed state. */
  next?: { snapshotAt: number; onSnapshot: (snapshot: SemaSnapshot) => void };
  resume?: SemaSnapshot;
  /** Called when a run went on from `resume` (rather than checking the whole unit). */
  onResumed?: () => void;
}

/**
 * Sema's state after a unit's first `count` external declarations, with nothing reported.
 * Never changed once taken: a run going on from it copies the tables and scopes, and gives up
 * (to check the whole unit again) before it would change an entity the snapshot holds (a
 * variable or function declared again, a record or enum defined after a forward declaration).
 */
export interface SemaSnapshot {
  readonly count: number;
  readonly decls: readonly A.ExternalDecl[];
  readonly result: SemaResult;
  readonly names: ReadonlyMap<string, OrdinaryEntity>;
  readonly tags: ReadonlyMap<string, Tag>;
  /** The file scope's entities and tags: a later declaration must not change them. */
  readonly frozen: ReadonlySet<object>;
  readonly builtins: ReadonlyMap<string, FunctionDecl>;
  readonly evalWarnings: ReadonlySet<string>;
  readonly paramLocs: ReadonlyMap<FunctionDecl, A.SourceLoc[]>;
}

/** Whether `unit` starts with the snapshot's declarations (the parse went on from its state). */
function resumable(unit: A.TranslationUnit, s: SemaSnapshot): boolean {
  if (unit.decls.length < s.count) return false;
  for (let i = 0; i < s.count; i++) if (unit.decls[i] !== s.decls[i]) return false;
  return true;
}

/** Thrown by a resumed run about to change an entity its snapshot holds. */
class ResumeAbandoned extends Error {}

/** The size of a layer over a frozen base: its own, and the base's keys it does not shadow. */
function layeredSize<K>(own: number, base: Iterable<K>, shadows: (key: K) => boolean): number {
  let n = own;
  for (const k of base) if (!shadows(k)) n++;
  return n;
}

/**
 * A map over a frozen one: reads see both, writes go to this one, so a run going on from a
 * snapshot costs what it adds, not what the snapshot holds (which it never changes).
 */
class LayeredMap<K, V> extends Map<K, V> {
  constructor(private readonly base: ReadonlyMap<K, V>) {
    super();
  }

  override get(key: K): V | undefined {
    const v = super.get(key);
    return v !== undefined ? v : this.base.get(key);
  }

  override has(key: K): boolean {
    return super.has(key) || this.base.has(key);
  }

  override delete(): boolean {
    throw new Error("LayeredMap: delete is not supported");
  }

  /** A copy to keep (a snapshot's): over the same base, with this layer's entries copied. */
  layerCopy(): LayeredMap<K, V> {
    const copy = new LayeredMap<K, V>(this.base);
    for (const [k, v] of super.entries()) Map.prototype.set.call(copy, k, v);
    return copy;
  }

  /** The values of this layer alone. */
  ownValues(): MapIterator<V> {
    return super.values();
  }

  override get size(): number {
    return layeredSize(super.size, this.base.keys(), (k) => super.has(k));
  }

  override *entries(): MapIterator<[K, V]> {
    for (const e of this.base) if (!super.has(e[0])) yield e;
    yield* super.entries();
  }

  override [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  override *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  override *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  override forEach(f: (value: V, key: K, map: Map<K, V>) => void, self?: unknown): void {
    for (const [k, v] of this.entries()) f.call(self, v, k, this);
  }
}

/** A set over a frozen one, as LayeredMap. */
class LayeredSet<T> extends Set<T> {
  constructor(private readonly base: ReadonlySet<T>) {
    super();
  }

  override has(value: T): boolean {
    return super.has(value) || this.base.has(value);
  }

  override delete(): boolean {
    throw new Error("LayeredSet: delete is not supported");
  }

  /** A copy to keep (see LayeredMap.layerCopy). */
  layerCopy(): LayeredSet<T> {
    const copy = new LayeredSet<T>(this.base);
    for (const v of super.values()) Set.prototype.add.call(copy, v);
    return copy;
  }

  override get size(): number {
    return layeredSize(super.size, this.base, (v) => super.has(v));
  }

  override *values(): SetIterator<T> {
    for (const v of this.base) if (!super.has(v)) yield v;
    yield* super.values();
  }

  override [Symbol.iterator](): SetIterator<T> {
    return this.values();
  }

  override keys(): SetIterator<T> {
    return this.values();
  }

  override *entries(): SetIterator<[T, T]> {
    for (const v of this.values()) yield [v, v];
  }

  override forEach(f: (value: T, key: T, set: Set<T>) => void, self?: unknown): void {
    for (const v of this.values()) f.call(self, v, v, this);
  }
}

/**
 * A snapshot's copy of a map: a layer over a resumed state's map keeps that base and copies only
 * itself, so that a state taken after another (the front end's shared and own prefixes) costs
 * what it adds.
 */
function keptMap<K, V>(m: Map<K, V>): Map<K, V> {
  return m instanceof LayeredMap ? m.layerCopy() : new Map(m);
}

function keptSet<T>(s: Set<T>): Set<T> {
  return s instanceof LayeredSet ? s.layerCopy() : new Set(s);
}

/**
 * A result going on from `r`: its lists copied and its maps made by `map` (a copy to keep, or a
 * layer over r's that a resumed compile writes to).
 */
function resultFrom(
  r: SemaResult,
  unit: A.TranslationUnit,
  map: <K, V>(m: Map<K, V>) => Map<K, V>,
): SemaResult {
  return {
    unit,
    exprs: map(r.exprs),
    declarators: map(r.declarators),
    typeNames: map(r.typeNames),
    initializers: map(r.initializers),
    globals: r.globals.slice(),
    records: r.records.slice(),
    enums: r.enums.slice(),
    switches: map(r.switches),
    caseValues: map(r.caseValues),
    caseRangeEnds: map(r.caseRangeEnds),
    labels: map(r.labels),
  };
}

class Sema implements ConstEvalHost {
  readonly result: SemaResult;
  private bag: DiagnosticBag;
  private readonly fileScope: Scope;
  private scope: Scope;
  // The snapshot's entities (see SemaSnapshot), when going on from one or having taken one.
  private frozen: ReadonlySet<object> | undefined;
  private readonly resumed: boolean;
  // A declaration after the snapshot changed one of its entities.
  spoiled = false;
  private fn: FunctionContext | undefined = undefined;
  private readonly evaluator: ConstEvaluator;
  // Where each tag was first declared and defined, for notes.

  private readonly builtins: Map<string, FunctionDecl>;
  // Suppresses diagnostics while a value is only probed (e.g. is it a null pointer constant).
  private quiet = 0;
  /**
   * The scope deferred record bodies are checked in (see deferredFields): the file scope, and
   * for those defined before a snapshot the snapshot's copy of it, which later declarations of
   * this compile do not change.
   */
  private era: { scope: Scope };
  // Deferred bodies being checked (see deferredFields).
  private deferredDepth = 0;
  private readonly skimScope: SkimScope = {
    typedefType: (name) => this.typedefType(name),
    tag: (name) => this.scope.lookupTag(name),
    basicType,
  };
  // What the records being defined have declared so far (see RecordMembers).
  private readonly memberStack: MemberStack = {
    names: [],
    locs: [],
    nameTop: 0,
    fields: [],
    fieldTop: 0,
  };

  constructor(
    private readonly unit: A.TranslationUnit,
    diagnostics: DiagnosticBag,
    private readonly anchors: Map<Diagnostic, SourcePos> | undefined,
    resume: SemaSnapshot | undefined,
  ) {
    this.bag = diagnostics;
    this.evaluator = new ConstEvaluator(this);
    this.resumed = resume !== undefined;
    if (resume !== undefined) {
      this.fileScope = new Scope(
        undefined,
        "file",
        new LayeredMap(resume.names),
        new LayeredMap(resume.tags),
      );
      this.scope = this.fileScope;
      this.era = { scope: this.fileScope };
      this.frozen = resume.frozen;
      this.builtins = new LayeredMap(resume.builtins);
      this.evalWarnings = new LayeredSet(resume.evalWarnings);
      this.paramLocs = new LayeredMap(resume.paramLocs);
      this.result = resultFrom(resume.result, unit, (m) => new LayeredMap(m));
      return;
    }
    this.fileScope = new Scope(undefined, "file");
    this.scope = this.fileScope;
    this.era = { scope: this.fileScope };
    this.builtins = new Map();
    this.evalWarnings = new Set();
    this.paramLocs = new Map();
    this.result = {
      unit,
      exprs: new Map(),
      declarators: new Map(),
      typeNames: new Map(),
      initializers: new Map(),
      globals: [],
      records: [],
      enums: [],
      switches: new Map(),
      caseValues: new Map(),
      caseRangeEnds: new Map(),
      labels: new Map(),
    };
  }

  /** Checks the external declarations from `from` to `to`. */
  run(from: number, to = this.unit.decls.length): void {
    const decls = this.unit.decls;
    for (let i = from; i < to; i++) this.externalDecl(decls[i]!);
  }

  /** The state after the first `count` declarations (see SemaSnapshot); later ones are watched. */
  snapshot(count: number): SemaSnapshot {
    const fileNames = this.fileScope.names;
    const fileTags = this.fileScope.tags;
    let frozen: Set<object>;
    if (fileNames instanceof LayeredMap && fileTags instanceof LayeredMap && this.frozen) {
      // Going on from a state: its entities are frozen already; add what was declared since.
      frozen = new LayeredSet<object>(this.frozen);
      for (const e of fileNames.ownValues()) frozen.add(e);
      for (const t of fileTags.ownValues()) frozen.add(t);
    } else {
      frozen = new Set<object>();
      for (const e of fileNames.values()) frozen.add(e);
      for (const t of fileTags.values()) frozen.add(t);
    }
    // And the globals: those declared `extern` in a block only (in a header's inline function)
    // are in no file scope, but a later file-scope declaration completes them in place.
    for (const g of this.result.globals) frozen.add(g);
    this.frozen = frozen;
    const names = keptMap(fileNames);
    const tags = keptMap(fileTags);
    // Bodies deferred so far are checked against the names as they are now.
    this.era.scope = new Scope(undefined, "file", names, tags);
    this.era = { scope: this.fileScope };
    return {
      count,
      decls: this.unit.decls.slice(0, count),
      result: resultFrom(this.result, this.unit, keptMap),
      names,
      tags,
      frozen,
      builtins: keptMap(this.builtins),
      evalWarnings: keptSet(this.evalWarnings),
      paramLocs: keptMap(this.paramLocs),
    };
  }

  /** Called before an entity from an earlier declaration is changed (see SemaSnapshot). */
  private touch(entity: object): void {
    if (this.frozen === undefined || !this.frozen.has(entity)) return;
    if (this.resumed) throw new ResumeAbandoned();
    this.spoiled = true;
  }

  // -------------------------------------------------------------------------------------
  // Diagnostics

  private diag(
    severity: "error" | "warning",
    at: SourcePos,
    message: string,
    flag?: string,
    extra: Diagnostic[] = [],
  ): Diagnostic | undefined {
    if (this.quiet > 0) return undefined;
    const d: Diagnostic = {
      severity,
      message,
      loc: diagLocOf(at),
      notes: [...macroNotes(at), ...extra],
    };
    if (flag !== undefined) d.flag = flag;
    this.anchors?.set(d, shiftedFrom.get(at) ?? at);
    return this.bag.add(d);
  }

  private error(at: SourcePos, message: string, extra: Diagnostic[] = [], flag?: string): void {
    this.diag("error", at, message, flag, extra);
  }

  // `flag` undefined: a warning clang gives without a -W option name.
  private warning(
    at: SourcePos,
    message: string,
    flag: string | undefined,
    extra: Diagnostic[] = [],
  ): void {
    this.diag("warning", at, message, flag, extra);
  }

  // A warning clang emits only once the enclosing function body is complete.
  private deferredWarning(
    at: SourcePos,
    message: string,
    flag: string,
    extra: Diagnostic[] = [],
  ): void {
    if (this.quiet > 0 || this.constantContext > 0) return;
    if (this.fn === undefined) return this.warning(at, message, flag, extra);
    const d: Diagnostic = {
      severity: "warning",
      message,
      loc: diagLocOf(at),
      notes: [...macroNotes(at), ...extra],
      flag,
    };
    this.anchors?.set(d, shiftedFrom.get(at) ?? at);
    this.fn.deferred.push(d);
  }

  private noteAt(at: SourcePos, message: string): Diagnostic {
    return note(diagLocOf(at), message);
  }

  // ConstEvalHost. An expression may be evaluated more than once (conversion checks, then
  // the constant initializer check): its warnings are given once.
  private readonly evalWarnings: Set<string>;
  warn(loc: A.SourceLoc, message: string, flag: string): void {
    const key = `${loc.file}:${loc.line}:${loc.col}:${message}`;
    if (this.evalWarnings.has(key)) return;
    this.evalWarnings.add(key);
    this.warning(loc, message, flag);
  }

  // Typing inside an integer-constant context (enum values, array sizes, bit widths, case
  // labels, _Static_assert): clang gives no runtime-behaviour warnings there.
  private constantContext = 0;
  private constantExpr(e: A.Expr): ExprInfo {
    this.constantContext++;
    try {
      return this.expr(e);
    } finally {
      this.constantContext--;
    }
  }

  typeOf(e: A.Expr): CType | undefined {
    return this.result.exprs.get(e)?.type;
  }

  enumConstant(e: A.Identifier): bigint | undefined {
    const d = this.result.exprs.get(e)?.decl;
    return d?.kind === "enumConst" ? d.value : undefined;
  }

  typeNameType(t: A.TypeName): CType | undefined {
    return this.result.typeNames.get(t);
  }

  memberOf(e: A.MemberExpr): MemberPath | undefined {
    return this.result.exprs.get(e)?.member;
  }

  selectedOf(e: A.Expr): A.Expr | undefined {
    return this.result.exprs.get(e)?.selected;
  }

  // -------------------------------------------------------------------------------------
  // External declarations

  private externalDecl(d: A.ExternalDecl): void {
    switch (d.kind) {
      case "Declaration":
        this.declaration(d);
        break;
      case "FunctionDef":
        this.functionDefinition(d);
        break;
      case "StaticAssert":
        this.staticAssert(d);
        break;
      case "FileScopeAsm":
        break;
    }
  }

  private declaration(d: A.Declaration): void {
    const base = this.specType(d.spec, d.declarators.length === 0);
    if (d.declarators.length === 0) {
      this.emptyDeclaration(d);
      return;
    }
    for (const init of d.declarators) this.initDeclarator(d.spec, base, init);
  }

  // `struct s;`, `enum e { ... };`, `int;` ...
  private emptyDeclaration(d: A.Declaration): void {
    const ts = d.spec.typeSpec;
    if (ts && (ts.kind === "Record" || ts.kind === "Enum")) return;
    this.warning(d.loc, "declaration does not declare anything", "-Wmissing-declarations");
  }

  private initDeclarator(spec: A.DeclSpec, base: CType, init: A.InitDeclarator): void {
    const dr = init.declarator;
    let type = this.applyDeclarator(base, dr, spec.attributes);
    const name = dr.name;
    if (name === null) return; // the parser reports a missing name
    const nameLoc = dr.nameLoc ?? dr.loc;
    const attrs = joinAttributes(spec.attributes, dr.attributes);
    if (spec.storage === "typedef") {
      if (init.init) this.error(nameLoc, "illegal initializer (only variables can be initialized)");
      this.declareTypedef(name, type, nameLoc, attrs, dr);
      return;
    }
    if (canonical(type).kind === "function") {
      if (init.init) this.error(nameLoc, `illegal initializer (only variables can be initialized)`);
      const f = this.declareFunction(name, type, nameLoc, spec, attrs, false);
      if (f) {
        this.result.declarators.set(dr, f);
        this.rememberParamLocs(f, dr);
      }
      return;
    }
    const v = this.declareVariable(name, type, nameLoc, spec, attrs, init.init !== null);
    if (!v) return;
    this.result.declarators.set(dr, v);
    if (init.init) {
      v.init = init.init;
      if (v.storage === "extern" && !v.isFileScope) {
        this.error(nameLoc, "'extern' variable cannot have an initializer");
        return;
      }
      if (!isComplete(v.type) && canonical(v.type).kind !== "array") {
        this.incompleteVariable(v.type, nameLoc);
        this.typeInitializer(init.init);
        return;
      }
      // An array without a size takes it from its initializer.
      v.type = this.checkInitializer(
        v.type,
        init.init,
        nameLoc,
        v.isFileScope || v.storage === "static",
      );
    } else {
      this.checkVariableCompleteness(v, nameLoc);
    }
  }

  private checkVariableCompleteness(v: VarDecl, loc: A.SourceLoc): void {
    const c = canonical(v.type);
    if (v.storage === "extern") return;
    if (c.kind === "array" && c.length === undefined) {
      if (v.isFileScope) {
        this.warning(loc, "tentative array definition assumed to have one element", undefined);
        v.type = arrayOf(c.element, 1);
      } else {
        this.error(
          loc,
          "definition of variable with array type needs an explicit size or an initializer",
        );
      }
      return;
    }
    if (!v.isFileScope && !isComplete(v.type)) {
      this.incompleteVariable(v.type, loc);
    }
  }

  private incompleteVariable(t: CType, loc: A.SourceLoc): void {
    const c = canonical(t);
    this.error(loc, `variable has incomplete type ${describeType(t)}`, this.forwardNote(c));
  }

  private forwardNote(c: CType): Diagnostic[] {
    if (c.kind === "record" || c.kind === "enum") {
      const at = c.decl.declaredAt;
      if (at) return [this.noteAt(at, `forward declaration of '${typeToString(unqualified(c))}'`)];
    }
    return [];
  }

  // --- typedefs

  private declareTypedef(
    name: string,
    type: CType,
    loc: A.SourceLoc,
    attrs: A.Attribute[],
    dr: A.Declarator,
  ): void {
    const alignAttr = this.alignAttribute(attrs);
    const existing = this.scope.names.get(name);
    if (existing) {
      if (existing.kind === "typedef") {
        const prev = existing.decl.target;
        if (!sameTypedefTarget(prev, type)) {
          this.error(
            loc,
            `typedef redefinition with different types (${quoted(type)} vs ${quoted(prev)})`,
            [this.noteAt(existing.loc, "previous definition is here")],
          );
        }
        this.result.declarators.set(dr, existing);
        return;
      }
      this.error(loc, `redefinition of '${name}' as different kind of symbol`, [
        this.noteAt(existing.loc, "previous definition is here"),
      ]);
      return;
    }
    const decl = new TypedefDecl(name, type, alignAttr, undefined);
    const entry: TypedefEntry = { kind: "typedef", name, decl, loc };
    this.scope.names.set(name, entry);
    this.result.declarators.set(dr, entry);
  }

  // --- functions

  private declareFunction(
    name: string,
    type: CType,
    loc: A.SourceLoc,
    spec: A.DeclSpec,
    attrs: A.Attribute[],
    isDefinition: boolean,
  ): FunctionDecl | undefined {
    const storage = storageOf(spec);
    // A block-scope function declaration names the file-scope entity.
    const existing =
      this.scope.names.get(name) ??
      (this.scope !== this.fileScope ? this.fileScope.names.get(name) : undefined);
    if (existing) {
      if (existing.kind !== "function") {
        this.error(loc, `redefinition of '${name}' as different kind of symbol`, [
          this.noteAt(existing.loc, "previous definition is here"),
        ]);
        return undefined;
      }
      if (!existing.builtin) {
        if (!compatible(existing.type, type)) {
          this.error(loc, `conflicting types for '${name}'`, [
            this.noteAt(existing.loc, "previous declaration is here"),
          ]);
          return undefined;
        }
        if (storage === "static" && existing.storage !== "static") {
          this.error(loc, `static declaration of '${name}' follows non-static declaration`, [
            this.noteAt(existing.loc, "previous declaration is here"),
          ]);
          return undefined;
        }
        if (isDefinition && existing.definition) {
          this.error(loc, `redefinition of '${name}'`, [
            this.noteAt(
              existing.definition.declarator.nameLoc ?? existing.loc,
              "previous definition is here",
            ),
          ]);
          return undefined;
        }
        this.touch(existing);
        existing.type = isDefinition ? type : compositeType(existing.type, type);
        existing.attributes.push(...attrs);
        existing.section ??= sectionAttribute(attrs);
        existing.inline ||= spec.inline;
        existing.noreturn ||= spec.noreturn || hasAttribute(attrs, "noreturn");
        if (this.scope !== this.fileScope) this.scope.names.set(name, existing);
        return existing;
      }
    }
    const f: FunctionDecl = {
      kind: "function",
      name,
      type,
      loc,
      storage,
      inline: spec.inline,
      noreturn: spec.noreturn || hasAttribute(attrs, "noreturn"),
      definition: undefined,
      params: [],
      locals: [],
      attributes: [...attrs],
      section: sectionAttribute(attrs),
      builtin: false,
    };
    this.fileScope.names.set(name, f);
    if (this.scope !== this.fileScope) this.scope.names.set(name, f);
    this.result.globals.push(f);
    return f;
  }

  private rememberParamLocs(f: FunctionDecl, dr: A.Declarator): void {
    const d = dr.derivations[0];
    if (d?.kind !== "Function" || this.paramLocs.has(f)) return;
    this.paramLocs.set(
      f,
      d.params.map((p) => p.declarator.nameLoc ?? p.loc),
    );
  }

  private functionDefinition(def: A.FunctionDef): void {
    const base = this.specType(def.spec, false);
    const dr = def.declarator;
    const fnDerivation = dr.derivations[0];
    if (!fnDerivation || fnDerivation.kind !== "Function") {
      this.error(dr.loc, "expected function body after function declarator");
      return;
    }
    // Parameters live in the function's outermost block scope.
    const paramScope = new Scope(this.scope, "function");
    const type = this.applyDeclarator(base, dr, def.spec.attributes, paramScope);
    const name = dr.name ?? "";
    const nameLoc = dr.nameLoc ?? dr.loc;
    const ft = canonical(type) as FunctionType;
    const attrs = joinAttributes(def.spec.attributes, dr.attributes);
    const f = this.declareFunction(name, type, nameLoc, def.spec, attrs, true);
    if (!f) return;
    f.definition = def;
    this.result.declarators.set(dr, f);
    const ret = ft.ret;
    if (!isVoidType(ret) && !isComplete(ret)) {
      this.error(
        nameLoc,
        `incomplete result type ${describeType(ret)} in function definition`,
        this.forwardNote(canonical(ret)),
      );
    }
    // Parameters: named and complete in a definition.
    f.params = [];
    for (const p of fnDerivation.params) {
      const pdr = p.declarator;
      const entity = this.result.declarators.get(pdr);
      if (entity && entity.kind === "var") {
        f.params.push(entity);
        if (!isComplete(entity.type)) {
          this.error(
            pdr.nameLoc ?? p.loc,
            `variable has incomplete type ${describeType(entity.type)}`,
            this.forwardNote(canonical(entity.type)),
          );
        }
      } else if (
        pdr.name === null &&
        !(fnDerivation.params.length === 1 && isVoidType(this.paramType(p)))
      ) {
        // clang accepts unnamed parameters in C2x only.
        this.warning(
          p.loc,
          "omitting the parameter name in a function definition is a C2x extension",
          "-Wc2x-extensions",
        );
      }
    }
    const outer = this.scope;
    const outerFn = this.fn;
    this.scope = paramScope;
    this.fn = {
      decl: f,
      returnType: ret,
      labels: new Map(),
      gotos: [],
      loopDepth: 0,
      switches: [],
      deferred: [],
    };
    this.compound(def.body, false);
    for (const g of this.fn.gotos) {
      const target = this.fn.labels.get(g.label);
      if (target) this.result.labels.set(g, target);
      else this.error(gotoLabelLoc(g), `use of undeclared label '${g.label}'`);
    }
    for (const d of this.fn.deferred) this.bag.add(d);
    this.checkFallOff(def, ret);
    this.fn = outerFn;
    this.scope = outer;
  }

  private paramType(p: A.ParamDecl): CType {
    const entity = this.result.declarators.get(p.declarator);
    return entity && entity.kind === "var" ? entity.type : voidType;
  }

  // --- variables

  private declareVariable(
    name: string,
    type: CType,
    loc: A.SourceLoc,
    spec: A.DeclSpec,
    attrs: A.Attribute[],
    hasInit: boolean,
  ): VarDecl | undefined {
    const storage = storageOf(spec);
    const isFile = this.scope === this.fileScope;
    const alignAttr = Math.max(this.alignAttribute(attrs), this.alignas(spec));
    if (isFloating(type) && (isFile || storage !== "extern")) {
      this.error(
        loc,
        `floating-point types are not supported by the BPF target (variable '${name}' has type ${describeType(type)})`,
      );
    }
    const existing = this.scope.names.get(name);
    if (existing) {
      const linkage = isFile || storage === "extern";
      if (
        existing.kind === "var" &&
        linkage &&
        (existing.isFileScope || existing.storage === "extern")
      ) {
        return this.redeclareVariable(existing, type, loc, storage, attrs, hasInit);
      }
      if (existing.kind === "var" && existing.isParam) {
        this.error(loc, `redefinition of '${name}'`, [
          this.noteAt(existing.loc, "previous definition is here"),
        ]);
        return undefined;
      }
      const sameKind = existing.kind === "var";
      this.error(
        loc,
        sameKind
          ? `redefinition of '${name}'`
          : `redefinition of '${name}' as different kind of symbol`,
        [this.noteAt(existing.loc, "previous definition is here")],
      );
      return undefined;
    }
    // A file-scope declaration after a block-scope extern of the same name (with no file-scope
    // declaration between) is the same entity: both have external linkage (C11 6.2.2p4).
    if (isFile && storage !== "static") {
      const earlier = this.blockExternNamed(name);
      if (earlier) {
        const v = this.redeclareVariable(earlier, type, loc, storage, attrs, hasInit);
        if (v) {
          // the entity now has a file-scope declaration: lowering treats it as a global
          (v as { isFileScope: boolean }).isFileScope = true;
          this.fileScope.names.set(name, v);
        }
        return v;
      }
    }
    // A block-scope extern refers to the file-scope entity when there is one.
    if (!isFile && storage === "extern") {
      // (or an earlier block-scope extern of the same name: one entity with external linkage)
      const global = this.fileScope.names.get(name) ?? this.blockExternNamed(name);
      if (global && global.kind === "var") {
        const v = this.redeclareVariable(global, type, loc, storage, attrs, false);
        if (v) this.scope.names.set(name, v);
        return v;
      }
    }
    const v: VarDecl = {
      kind: "var",
      name,
      type,
      loc,
      startLoc: spec.loc,
      storage,
      isFileScope: isFile,
      isParam: false,
      defined: hasInit || (isFile ? storage !== "extern" : storage !== "extern"),
      init: undefined,
      attributes: [...attrs],
      section: sectionAttribute(attrs),
      alignAttr,
    };
    this.scope.names.set(name, v);
    if (isFile || storage === "extern") this.result.globals.push(v);
    else this.fn?.decl.locals.push(v);
    return v;
  }

  /** A variable declared `extern` in a block, with no file-scope declaration (yet). */
  private blockExternNamed(name: string): VarDecl | undefined {
    for (const g of this.result.globals)
      if (g.kind === "var" && g.name === name && !g.isFileScope && g.storage === "extern") return g;
    return undefined;
  }

  private redeclareVariable(
    v: VarDecl,
    type: CType,
    loc: A.SourceLoc,
    storage: StorageClass,
    attrs: A.Attribute[],
    hasInit: boolean,
  ): VarDecl | undefined {
    if (!compatible(v.type, type)) {
      this.error(
        loc,
        `redefinition of '${v.name}' with a different type: ${quoted(type)} vs ${quoted(v.type)}`,
        [this.noteAt(v.loc, "previous definition is here")],
      );
      return undefined;
    }
    if (storage === "static" && v.storage !== "static") {
      this.error(loc, `static declaration of '${v.name}' follows non-static declaration`, [
        this.noteAt(v.loc, "previous declaration is here"),
      ]);
      return undefined;
    }
    if (storage === undefined && v.storage === "static") {
      this.error(loc, `non-static declaration of '${v.name}' follows static declaration`, [
        this.noteAt(v.loc, "previous declaration is here"),
      ]);
      return undefined;
    }
    if (hasInit && v.init !== undefined) {
      this.error(loc, `redefinition of '${v.name}'`, [
        this.noteAt(v.loc, "previous definition is here"),
      ]);
      return undefined;
    }
    this.touch(v);
    v.type = compositeType(v.type, type);
    v.attributes.push(...attrs);
    v.section ??= sectionAttribute(attrs);
    if (storage !== "extern" || hasInit) v.defined = true;
    if (v.storage === "extern" && storage !== "extern") v.storage = storage;
    return v;
  }

  // -------------------------------------------------------------------------------------
  // Types from declaration specifiers

  private specType(spec: A.DeclSpec, standalone: boolean): CType {
    let t: CType;
    const ts = spec.typeSpec;
    if (ts === null) {
      this.warning(spec.loc, "type specifier missing, defaults to 'int'", "-Wimplicit-int");
      t = intType;
    } else {
      t = this.typeSpecifier(ts, standalone);
    }
    const q = spec.qualifiers;
    let quals = 0;
    if (q.const) quals |= Q_CONST;
    if (q.volatile) quals |= Q_VOLATILE;
    if (q.restrict) {
      if (canonical(t).kind !== "pointer") {
        this.error(spec.loc, `restrict requires a pointer or reference (${quoted(t)} is invalid)`);
      } else quals |= Q_RESTRICT;
    }
    return addQuals(t, quals);
  }

  private typeSpecifier(ts: A.TypeSpecifier, standalone: boolean): CType {
    switch (ts.kind) {
      case "BasicType":
        return basicType(ts.name);
      case "Record":
        return this.recordSpec(ts, standalone);
      case "Enum":
        return this.enumSpec(ts, standalone);
      case "TypedefName":
        return this.typedefName(ts);
      case "Typeof": {
        const arg = ts.arg;
        if (arg.kind === "TypeName") return this.typeName(arg);
        // `typeof(name)` where name is a typedef: a type, whichever way it was parsed.
        if (arg.kind === "Identifier") {
          const e = this.scope.lookup(arg.name);
          if (e?.kind === "typedef") return e.decl.type;
        }
        // The operand is not evaluated.
        this.unevaluated++;
        try {
          const info = this.expr(arg);
          if (info.member?.member.bitWidth !== undefined) {
            this.error(ts.loc, "invalid application of 'typeof' to bit-field");
            return errorType;
          }
          return info.type;
        } finally {
          this.unevaluated--;
        }
      }
      case "AtomicType":
        return this.typeName(ts.type);
    }
  }

  private typedefName(ts: A.TypedefNameSpec): CType {
    const t = this.typedefType(ts.name);
    if (t !== undefined) return t;
    this.error(ts.loc, `unknown type name '${ts.name}'`);
    return errorType;
  }

  /** The type a typedef name in scope (or one of clang's builtin typedefs) names. */
  private typedefType(name: string): CType | undefined {
    const e = this.scope.lookup(name);
    return e?.kind === "typedef" ? e.decl.type : builtinTypedef(name);
  }

  // The type written in a type name (casts, sizeof, compound literals...).
  typeName(tn: A.TypeName): CType {
    const cached = this.result.typeNames.get(tn);
    if (cached) return cached;
    const base = this.specType(tn.spec, false);
    const t = this.applyDeclarator(base, tn.declarator, tn.spec.attributes);
    this.result.typeNames.set(tn, t);
    return t;
  }

  // --- declarators

  // Applies derivations (listed from the name outward) last-to-first onto the base type.
  // `specAttributes`: btf_type_tag among them tags the base type, so the first pointer
  // points to a tagged type; a tag after a `*` tags that pointer for the next one.
  // `protoScope`: where the parameters of the outermost function derivation are declared.
  private applyDeclarator(
    base: CType,
    dr: A.Declarator,
    specAttributes: readonly A.Attribute[],
    protoScope?: Scope,
  ): CType {
    let t = base;
    let tags = btfTypeTags(specAttributes);
    const ds = dr.derivations;
    for (let i = ds.length - 1; i >= 0; i--) {
      const d = ds[i]!;
      switch (d.kind) {
        case "Pointer": {
          let quals = 0;
          if (d.qualifiers.const) quals |= Q_CONST;
          if (d.qualifiers.volatile) quals |= Q_VOLATILE;
          if (d.qualifiers.restrict) quals |= Q_RESTRICT;
          t = pointerTo(t, quals, tags);
          tags = btfTypeTags(d.attributes);
          break;
        }
        case "Array":
          t = this.arrayDerivation(t, d, dr);
          tags = undefined;
          break;
        case "Function":
          t = this.functionDerivation(t, d, i === 0 ? protoScope : undefined);
          tags = undefined;
          break;
      }
    }
    return t;
  }

  private arrayDerivation(element: CType, d: A.ArrayDerivation, dr: A.Declarator): CType {
    const ce = canonical(element);
    const what = dr.name !== null ? `'${dr.name}'` : "type name";
    if (ce.kind === "function") {
      this.error(
        dr.nameLoc ?? d.loc,
        `${what} declared as array of functions of type ${quoted(element)}`,
      );
      return errorType;
    }
    if (!isComplete(element)) {
      this.error(
        d.loc,
        `array has incomplete element type ${describeType(element)}`,
        this.forwardNote(ce),
      );
      return errorType;
    }
    if (d.size === null) return arrayOf(element, undefined);
    const info = this.constantExpr(d.size);
    if (!isInteger(info.type)) {
      this.error(d.size.loc, `size of array has non-integer type ${describeType(info.type)}`);
      return arrayOf(element, 1);
    }
    const v = this.evaluator.evaluate(d.size);
    if (isNotConstant(v)) {
      if (this.scope === this.fileScope) {
        this.error(
          dr.nameLoc ?? d.loc,
          "variable length array declaration not allowed at file scope",
        );
      } else {
        this.error(d.size.loc, "variable length arrays are not supported by the BPF target");
      }
      return arrayOf(element, 1);
    }
    const signed = integerTypeOf(info.type)?.signed ?? true;
    if (signed && v < 0n) {
      this.error(d.size.loc, `${what} declared as an array with a negative size`);
      return arrayOf(element, 1);
    }
    info.value = v;
    return arrayOf(element, Number(v));
  }

  private functionDerivation(
    ret: CType,
    d: A.FunctionDerivation,
    protoScope: Scope | undefined,
  ): CType {
    const cr = canonical(ret);
    if (cr.kind === "array") {
      this.error(d.loc, `function cannot return array type ${quoted(ret)}`);
      ret = errorType;
    } else if (cr.kind === "function") {
      this.error(d.loc, `function cannot return function type ${quoted(ret)}`);
      ret = errorType;
    }
    const scope = protoScope ?? new Scope(this.scope, "prototype");
    const outer = this.scope;
    this.scope = scope;
    // Made at its size: vmlinux.h's 6k prototypes keep theirs to the end.
    const params: Param[] = new Array(d.params.length);
    let count = 0;
    try {
      for (let i = 0; i < d.params.length; i++) {
        const p = d.params[i]!;
        const base = this.specType(p.spec, false);
        let t = this.applyDeclarator(base, p.declarator, p.spec.attributes);
        const c = canonical(t);
        if (c.kind === "void") {
          if (d.params.length === 1 && p.declarator.name !== null) {
            this.error(p.declarator.nameLoc ?? p.loc, "argument may not have 'void' type");
          } else if (d.params.length > 1 || d.variadic || qualsOf(t) !== 0) {
            // clang points where the parameter's name would be.
            this.error(
              p.declarator.nameLoc ?? p.declarator.loc,
              "'void' must be the first and only parameter if specified",
            );
          }
          continue;
        }
        // Parameter adjustment (C11 6.7.6.3p7-8).
        if (c.kind === "array") t = pointerTo(c.element, qualsOfArrayParam(p.declarator));
        else if (c.kind === "function") t = pointerTo(t);
        params[count++] = { name: p.declarator.name ?? undefined, type: t };
        this.declareParam(p, t, scope);
      }
    } finally {
      this.scope = outer;
    }
    if (count < params.length) params.length = count; // `(void)`, or parameters in error
    return functionType(ret, params, d.variadic, d.hasPrototype);
  }

  private declareParam(p: A.ParamDecl, type: CType, scope: Scope): void {
    const name = p.declarator.name;
    if (name === null) return;
    const loc = p.declarator.nameLoc ?? p.loc;
    const existing = scope.names.get(name);
    if (existing) {
      this.error(loc, `redefinition of parameter '${name}'`, [
        this.noteAt(existing.loc, "previous declaration is here"),
      ]);
      return;
    }
    const attrs = joinAttributes(p.spec.attributes, p.declarator.attributes);
    const v: VarDecl = {
      kind: "var",
      name,
      type,
      loc,
      startLoc: p.spec.loc,
      storage: p.spec.storage === "register" ? "register" : undefined,
      isFileScope: false,
      isParam: true,
      defined: true,
      init: undefined,
      attributes: attrs,
      section: undefined,
      alignAttr: 0,
    };
    scope.names.set(name, v);
    this.result.declarators.set(p.declarator, v);
  }

  // -------------------------------------------------------------------------------------
  // Attributes

  // The aligned attributes' value in bytes (0 if none). `aligned` alone is the target's
  // default; the largest wins.
  private alignAttribute(attrs: readonly A.Attribute[]): number {
    let align = 0;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i]!;
      if (a.name !== "aligned") continue;
      if (a.args === null || a.args.length === 0) {
        align = Math.max(align, DEFAULT_ATTRIBUTE_ALIGN);
        continue;
      }
      const arg = a.args[0]!;
      this.expr(arg);
      const v = this.evaluator.evaluate(arg);
      if (isNotConstant(v)) {
        this.error(arg.loc, "'aligned' attribute requires integer constant");
        continue;
      }
      if (v <= 0n || (v & (v - 1n)) !== 0n) {
        this.error(a.loc, "requested alignment is not a power of 2");
        continue;
      }
      align = Math.max(align, Number(v));
    }
    return align;
  }

  private alignas(spec: A.DeclSpec): number {
    let align = 0;
    const alignas = spec.alignas;
    for (let i = 0; i < alignas.length; i++) {
      const a = alignas[i]!;
      if (a.kind === "TypeName") {
        const t = this.typeName(a);
        if (isComplete(t)) align = Math.max(align, alignOf(t));
        continue;
      }
      this.expr(a);
      const v = this.evaluator.evaluate(a);
      if (isNotConstant(v)) {
        this.error(a.loc, "expression is not an integer constant expression");
        continue;
      }
      if (v !== 0n && (v < 0n || (v & (v - 1n)) !== 0n)) {
        this.error(alignasKeywordLoc(spec, a), "requested alignment is not a power of 2");
        continue;
      }
      align = Math.max(align, Number(v));
    }
    return align;
  }

  // -------------------------------------------------------------------------------------
  // Records

  private recordSpec(rs: A.RecordSpec, standalone: boolean): CType {
    const isUnion = rs.tagKind === "union";
    const tagLoc = rs.tagLoc ?? rs.loc;
    let decl: RecordDecl | undefined;
    if (rs.tag !== null) {
      if (isDefinition(rs) || standalone) {
        // A definition or `struct s;` declares the tag in the current scope.
        const here = this.scope.tags.get(rs.tag);
        if (here) decl = this.checkTagKind(here, isUnion, rs.tag, rs.loc) as RecordDecl | undefined;
        if (here && isDefinition(rs) && decl?.complete) {
          this.error(tagLoc, `redefinition of '${rs.tag}'`, [
            this.noteAt(decl.definedAt ?? decl.declaredAt!, "previous definition is here"),
          ]);
          decl = undefined; // lay the new body out in a fresh, unnamed-for-lookup decl
          const fresh = new RecordDecl(isUnion, rs.tag, posOf(rs.loc));
          this.recordBody(fresh, rs);
          return fresh.type;
        }
      } else {
        const visible = this.scope.lookupTag(rs.tag);
        if (visible)
          decl = this.checkTagKind(visible, isUnion, rs.tag, rs.loc) as RecordDecl | undefined;
        if (visible && !decl) return errorType;
      }
      if (!decl) {
        decl = new RecordDecl(isUnion, rs.tag, posOf(rs.loc));
        this.declareTag(rs.tag, decl, tagLoc);
      }
    } else {
      decl = new RecordDecl(isUnion, undefined, posOf(rs.loc));
      decl.declaredAt = rs.loc;
    }
    if (isDefinition(rs)) this.recordBody(decl, rs);
    return decl.type;
  }

  private declareTag(name: string, decl: Tag, loc: A.SourceLoc): void {
    // Tags first seen in a prototype still belong to the enclosing scope for our purposes,
    // but clang warns that they are not visible outside.
    let scope = this.scope;
    if (scope.kind === "prototype") {
      this.warning(
        loc,
        `declaration of '${tagKeyword(decl)} ${name}' will not be visible outside of this function`,
        "-Wvisibility",
      );
    }
    scope.tags.set(name, decl);
    decl.declaredAt = loc;
  }

  private checkTagKind(
    existing: Tag,
    wantUnion: boolean | "enum",
    name: string,
    loc: A.SourceLoc,
  ): Tag | undefined {
    const isEnum = existing instanceof EnumDecl;
    const ok =
      wantUnion === "enum" ? isEnum : !isEnum && (existing as RecordDecl).isUnion === wantUnion;
    if (ok) return existing;
    this.error(loc, `use of '${name}' with tag type that does not match previous declaration`, [
      this.noteAt(existing.declaredAt!, "previous use is here"),
    ]);
    return undefined;
  }

  private recordBody(decl: RecordDecl, rs: A.RecordSpec): void {
    this.touch(decl);
    decl.definedAt = rs.tagLoc ?? rs.loc;
    const deferred = rs.deferred;
    if (deferred !== undefined && bodyChecksOut(deferred, this.skimScope)) {
      // Nothing to report: parsed and checked when its fields are first asked for.
      const attrs = this.recordAttributes(decl, rs);
      const era = this.era;
      decl.defineLater(() => this.deferredFields(decl, rs, attrs, era.scope));
    } else {
      const fields = this.fields(decl, rs);
      layoutRecord(decl, fields, this.recordAttributes(decl, rs));
    }
    if (this.deferredDepth === 0) this.result.records.push(decl);
  }

  /** The attributes of a record's definition (after its fields: clang reports them after). */
  private recordAttributes(decl: RecordDecl, rs: A.RecordSpec): RecordAttrs {
    const attrs = rs.attributes;
    let packed = false;
    for (let i = 0; i < attrs.length; i++) if (attrs[i]!.name === "packed") packed = true;
    const alignAttr = this.alignAttribute(attrs);
    if (hasAttribute(attrs, "preserve_access_index")) decl.preserveAccessIndex = true;
    const maxFieldAlign = packMaxAlign(rs);
    return packed || alignAttr !== 0 || maxFieldAlign !== 0
      ? { packed, alignAttr, maxFieldAlign }
      : noRecordAttrs;
  }

  /** The fields of a record's body (parsed now if it was read past). */
  private fields(decl: RecordDecl, rs: A.RecordSpec): LayoutField[] {
    const members = new RecordMembers(this.memberStack);
    const memberDecls = rs.members!;
    for (let i = 0; i < memberDecls.length; i++) {
      const md = memberDecls[i]!;
      if (md.kind === "StaticAssert") {
        this.staticAssert(md);
        continue;
      }
      this.fieldDecl(md, members, decl);
    }
    const fields = members.end();
    this.checkFlexibleArrays(decl, fields);
    return fields;
  }

  /**
   * Defines a record whose body bodyChecksOut passed: parses and checks it in `scope`, the file
   * scope as it was where the record was defined (or a superset: the names the body uses mean
   * there what they meant then), from wherever the fields are first asked for.
   */
  private deferredFields(
    decl: RecordDecl,
    rs: A.RecordSpec,
    attrs: RecordAttrs,
    scope: Scope,
  ): void {
    const outer = { scope: this.scope, fn: this.fn, bag: this.bag };
    const bag = new DiagnosticBag();
    this.scope = scope;
    this.fn = undefined;
    this.bag = bag;
    this.deferredDepth++;
    let fields: LayoutField[];
    try {
      fields = this.fields(decl, rs);
    } finally {
      this.scope = outer.scope;
      this.fn = outer.fn;
      this.bag = outer.bag;
      this.deferredDepth--;
    }
    const reported = bag.items[0];
    if (reported !== undefined) {
      throw new Error(
        `internal error: the body of ${describeType(decl.type)} was checked ahead but reports: ${reported.message}`,
      );
    }
    layoutRecord(decl, fields, attrs);
  }

  private fieldDecl(md: A.FieldDecl, members: RecordMembers, record: RecordDecl): void {
    const base = this.specType(md.spec, false);
    const specAlign = this.alignas(md.spec);
    if (md.declarators.length === 0) {
      // An anonymous struct/union member, or a declaration that declares nothing.
      const c = canonical(base);
      const ts = md.spec.typeSpec;
      if (c.kind === "record" && ts?.kind === "Record" && ts.tag === null) {
        const inner = c.decl.declaredFields ?? [];
        for (let j = 0; j < inner.length; j++) this.noteMemberNames(inner[j]!, members, c.decl);
        members.addField({
          name: undefined,
          type: base,
          packed: hasAttribute(md.spec.attributes, "packed"),
          alignAttr: Math.max(specAlign, this.alignAttribute(md.spec.attributes)),
          loc: posOf(md.loc),
        });
      } else {
        this.warning(md.loc, "declaration does not declare anything", "-Wmissing-declarations");
      }
      return;
    }
    const declarators = md.declarators;
    for (let i = 0; i < declarators.length; i++) {
      const fd = declarators[i]!;
      const dr = fd.declarator;
      const type = dr ? this.applyDeclarator(base, dr, md.spec.attributes) : base;
      const name = dr?.name ?? undefined;
      const loc = dr?.nameLoc ?? fd.loc;
      const attrs = dr ? joinAttributes(md.spec.attributes, dr.attributes) : md.spec.attributes;
      const c = canonical(type);
      if (name !== undefined) {
        const prev = members.declaredAt(name);
        if (prev) {
          this.error(loc, `duplicate member '${name}'`, [
            this.noteAt(prev, "previous declaration is here"),
          ]);
          continue;
        }
        members.declare(name, loc);
      }
      if (c.kind === "function") {
        this.error(loc, `field '${name ?? ""}' declared as a function`);
        continue;
      }
      let bitWidth: number | undefined;
      if (fd.bitWidth !== null) {
        // clang points at the name, or at the declaration for an unnamed bit-field.
        bitWidth = this.bitFieldWidth(fd.bitWidth, type, name, name !== undefined ? loc : md.loc);
        if (bitWidth === undefined) continue;
      } else if (!isComplete(type) && !(c.kind === "array" && c.length === undefined)) {
        this.error(loc, `field has incomplete type ${describeType(type)}`, this.forwardNote(c));
        continue;
      }
      const packed = hasAttribute(attrs, "packed");
      const alignAttr = Math.max(specAlign, this.alignAttribute(attrs));
      const declTags = btfDeclTags(attrs);
      // Most fields (vmlinux.h has 70k, all kept to the end) have no attributes and are not
      // bit-fields: their objects carry only what they need.
      if (packed || alignAttr !== 0 || declTags !== undefined) {
        members.addField({
          name,
          type,
          bitWidth,
          packed,
          alignAttr,
          loc: posOf(loc),
          declLoc: md.loc,
          declTags,
        });
      } else if (bitWidth !== undefined) {
        members.addField({ name, type, bitWidth, loc: posOf(loc), declLoc: md.loc });
      } else {
        members.addField({ name, type, loc: posOf(loc), declLoc: md.loc });
      }
    }
  }

  // The names an anonymous struct/union member brings in (its fields are read as declared: the
  // record need not be laid out for this). `anonymous` is the member's record, the outermost one
  // when they nest: clang names its kind.
  private noteMemberNames(m: DeclaredField, members: RecordMembers, anonymous: RecordDecl): void {
    if (m.name !== undefined) {
      const at = m.loc;
      const prev = members.declaredAt(m.name);
      if (prev && at) {
        this.error(
          at,
          `member of anonymous ${anonymous.isUnion ? "union" : "struct"} redeclares '${m.name}'`,
          [this.noteAt(prev, "previous declaration is here")],
        );
      } else if (at) members.declare(m.name, at);
      return;
    }
    const c = canonical(m.type);
    if (m.bitWidth === undefined && c.kind === "record") {
      const inner = c.decl.declaredFields ?? [];
      for (let j = 0; j < inner.length; j++) this.noteMemberNames(inner[j]!, members, anonymous);
    }
  }

  private bitFieldWidth(
    widthExpr: A.Expr,
    type: CType,
    name: string | undefined,
    loc: A.SourceLoc,
  ): number | undefined {
    const it = integerTypeOf(type);
    const label = name !== undefined ? `bit-field '${name}'` : "anonymous bit-field";
    if (it === undefined) {
      this.error(loc, `${label} has non-integral type ${describeType(type)}`);
      return undefined;
    }
    this.constantExpr(widthExpr);
    const v = this.evaluator.evaluate(widthExpr);
    if (isNotConstant(v)) {
      this.notIntegerConstant(v.loc === widthExpr.loc ? widthExpr : widthExpr, v);
      return undefined;
    }
    const bits = it.name === "_Bool" ? 1 : it.size * 8;
    if (v < 0n) {
      this.error(loc, `${label} has negative width (${v})`);
      return undefined;
    }
    if (v === 0n && name !== undefined) {
      this.error(loc, `named bit-field '${name}' has zero width`);
      return undefined;
    }
    if (v > smallValue(bits)) {
      const what =
        name !== undefined ? `width of bit-field '${name}'` : "width of anonymous bit-field";
      this.error(
        loc,
        `${what} (${v} bits) exceeds the width of its type (${bits} bit${bits === 1 ? "" : "s"})`,
      );
      return undefined;
    }
    return Number(v);
  }

  private checkFlexibleArrays(decl: RecordDecl, fields: LayoutField[]): void {
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      const c = canonical(f.type);
      if (c.kind !== "array" || c.length !== undefined || f.bitWidth !== undefined) continue;
      if (decl.isUnion) {
        this.error(f.loc!, `flexible array member '${f.name ?? ""}' in a union is not allowed`);
      } else if (i !== fields.length - 1) {
        this.error(
          f.loc!,
          `flexible array member '${f.name ?? ""}' with type ${quoted(f.type)} is not at the end of struct`,
          [this.noteAt(fields[i + 1]!.loc!, "next field declaration is here")],
        );
      } else if (fields.length === 1) {
        this.error(
          f.loc!,
          `flexible array member '${f.name ?? ""}' not allowed in otherwise empty struct`,
        );
      } else continue;
      // Recover as a zero-length array so layout can proceed.
      fields[i] = { ...f, type: arrayOf(c.element, 0) };
    }
  }

  // -------------------------------------------------------------------------------------
  // Enums

  private enumSpec(es: A.EnumSpec, standalone: boolean): CType {
    const tagLoc = es.tagLoc ?? es.loc;
    let decl: EnumDecl | undefined;
    if (es.tag !== null) {
      const here =
        es.enumerators !== null || standalone
          ? this.scope.tags.get(es.tag)
          : this.scope.lookupTag(es.tag);
      if (here) {
        decl = this.checkTagKind(here, "enum", es.tag, es.loc) as EnumDecl | undefined;
        if (!decl) return errorType;
        if (es.enumerators !== null && decl.complete) {
          this.error(tagLoc, `redefinition of '${es.tag}'`, [
            this.noteAt(decl.definedAt ?? tagLoc, "previous definition is here"),
          ]);
          decl = new EnumDecl(es.tag, posOf(es.loc));
        }
      } else {
        decl = new EnumDecl(es.tag, posOf(es.loc));
        this.declareTag(es.tag, decl, tagLoc);
      }
    } else {
      decl = new EnumDecl(undefined, posOf(es.loc));
      decl.declaredAt = es.loc;
    }
    if (es.enumerators !== null) this.enumBody(decl, es);
    return decl.type;
  }

  private enumBody(decl: EnumDecl, es: A.EnumSpec): void {
    this.touch(decl);
    decl.definedAt = es.tagLoc ?? es.loc;
    decl.packed = hasAttribute(es.attributes, "packed");
    const enumerators = es.enumerators!;
    if (enumerators.length === 0) {
      this.error(es.loc, "use of empty enum");
    }
    // One per enumerator, made at its size (vmlinux.h's 2.4k enums keep theirs to the end).
    const consts: EnumConstDecl[] = new Array(enumerators.length);
    // The previous enumerator's value; the next one without a value is one more.
    let prev = -1n;
    const scopeNames = this.scope.names;
    for (let i = 0; i < enumerators.length; i++) {
      const en = enumerators[i]!;
      let value: bigint | undefined;
      const ve = en.value;
      if (ve !== null) {
        const info = this.constantExpr(ve);
        if (ve.kind === "IntegerLiteral" && info.value !== undefined) {
          value = info.value; // the common case, no evaluation needed
        } else if (!isInteger(info.type)) {
          this.error(ve.loc, "expression is not an integer constant expression");
        } else {
          const v = this.evaluator.evaluate(ve);
          if (isNotConstant(v)) this.notIntegerConstant(ve, v);
          else value = v;
        }
      }
      if (value === undefined) value = prev + 1n;
      // While the enum is being defined an enumerator has the type its value needs.
      const type = fitsIn(value, intType)
        ? intType
        : enumUnderlyingType(value < 0n ? value : 0n, value, false);
      const existing = scopeNames.get(en.name);
      if (existing) {
        const kind =
          existing.kind === "enumConst"
            ? `redefinition of enumerator '${en.name}'`
            : `redefinition of '${en.name}' as different kind of symbol`;
        this.error(en.loc, kind, [this.noteAt(existing.loc, "previous definition is here")]);
      }
      const c: EnumConstDecl = {
        kind: "enumConst",
        name: en.name,
        value,
        type,
        enumDecl: decl,
        loc: en.loc,
      };
      if (!existing) scopeNames.set(en.name, c);
      consts[i] = c;
      prev = value;
    }
    let min = 0n;
    let max = 0n;
    for (const c of consts) {
      if (c.value < min) min = c.value;
      if (c.value > max) max = c.value;
    }
    const underlying = enumUnderlyingType(min, max, decl.packed);
    decl.underlying = underlying;
    // The declarations serve as the enum's constants (same name, value, type and place).
    for (const c of consts) c.type = fitsIn(c.value, intType) ? intType : underlying;
    decl.constants = consts;
    this.result.enums.push(decl);
  }

  // -------------------------------------------------------------------------------------
  // _Static_assert

  private staticAssert(sa: A.StaticAssertDecl): void {
    const info = this.constantExpr(sa.cond);
    if (!isInteger(info.type) && !isScalar(info.type)) {
      this.error(sa.cond.loc, "expression is not an integer constant expression");
      return;
    }
    const v = this.evaluator.evaluateScalar(sa.cond);
    if (isNotConstant(v)) {
      this.notIntegerConstant(sa.cond, v);
      return;
    }
    info.value = v;
    if (sa.message === null) {
      this.warning(
        sa.loc,
        "'_Static_assert' with no message is a C2x extension",
        "-Wc2x-extensions",
      );
    }
    if (v === 0n) {
      const msg = sa.message !== null ? ` ${JSON.stringify(sa.message.value)}` : "";
      const cond = sa.cond;
      const literal = cond.kind === "IntegerLiteral" || cond.kind === "CharLiteral";
      const requirement = literal ? "" : ` due to requirement '${this.exprText(cond, 0)}'`;
      this.error(sa.loc, `static_assert failed${requirement}${msg}`);
    }
  }

  // An expression as clang's printer writes it in diagnostics ("sizeof(int) == 8"); the
  // parser keeps no parentheses, so they are put back where precedence needs them.
  private exprText(e: A.Expr, outer: number): string {
    const prec = precedenceOf(e);
    const text = this.exprTextInner(e);
    return prec < outer ? `(${text})` : text;
  }

  private exprTextInner(e: A.Expr): string {
    switch (e.kind) {
      case "Identifier":
        return e.name;
      case "IntegerLiteral": {
        const info = this.result.exprs.get(e);
        return `${literalValue(e)}${literalSuffix(info?.type)}`;
      }
      case "CharLiteral":
      case "FloatLiteral":
        return e.text;
      case "StringLiteral":
        return JSON.stringify(e.value);
      case "UnaryExpr":
        return e.op + this.exprText(e.operand, PREC_UNARY);
      case "UpdateExpr":
        return e.prefix
          ? e.op + this.exprText(e.operand, PREC_UNARY)
          : this.exprText(e.operand, PREC_POSTFIX) + e.op;
      case "BinaryExpr": {
        const p = binaryPrecedence[e.op];
        return `${this.exprText(e.left, p)} ${e.op} ${this.exprText(e.right, p + 1)}`;
      }
      case "AssignExpr":
        return `${this.exprText(e.target, PREC_UNARY)} ${e.op} ${this.exprText(e.value, PREC_ASSIGN)}`;
      case "CommaExpr":
        return `${this.exprText(e.left, 1)}, ${this.exprText(e.right, 2)}`;
      case "ConditionalExpr":
        return `${this.exprText(e.cond, PREC_COND + 1)} ? ${e.then ? this.exprText(e.then, 1) : ""} : ${this.exprText(e.else, PREC_COND)}`;
      case "CastExpr":
        return `(${typeToString(this.typeName(e.type))})${this.exprText(e.operand, PREC_UNARY)}`;
      case "SizeofExpr":
        return e.arg.kind === "TypeName"
          ? `sizeof(${typeToString(this.typeName(e.arg))})`
          : `sizeof ${this.exprText(e.arg, PREC_UNARY)}`;
      case "AlignofExpr":
        return e.arg.kind === "TypeName"
          ? `${e.spelling}(${typeToString(this.typeName(e.arg))})`
          : `${e.spelling} ${this.exprText(e.arg, PREC_UNARY)}`;
      case "CallExpr":
        return `${this.exprText(e.callee, PREC_POSTFIX)}(${e.args.map((a) => this.exprText(a, 2)).join(", ")})`;
      case "MemberExpr":
        return `${this.exprText(e.object, PREC_POSTFIX)}${e.arrow ? "->" : "."}${e.member}`;
      case "IndexExpr":
        return `${this.exprText(e.array, PREC_POSTFIX)}[${this.exprText(e.index, 0)}]`;
      case "OffsetofExpr": {
        let path = "";
        for (const d of e.path)
          path +=
            d.kind === "FieldDesignator"
              ? (path ? "." : "") + d.name
              : `[${this.exprText(d.index, 0)}]`;
        return `__builtin_offsetof(${typeToString(this.typeName(e.type))}, ${path})`;
      }
      default:
        return "...";
    }
  }

  private notIntegerConstant(e: A.Expr, why: { loc: A.SourceLoc; note: string | undefined }): void {
    const notes = why.note !== undefined ? [this.noteAt(why.loc, why.note)] : [];
    this.error(e.loc, "expression is not an integer constant expression", notes);
  }

  // -------------------------------------------------------------------------------------
  // Expressions

  private record(e: A.Expr, info: ExprInfo): ExprInfo {
    this.result.exprs.set(e, info);
    return info;
  }

  // Types an expression (once) and returns what sema knows about it.
  expr(e: A.Expr): ExprInfo {
    const known = this.result.exprs.get(e);
    if (known) return known;
    return this.record(e, this.exprUncached(e));
  }

  private exprUncached(e: A.Expr): ExprInfo {
    switch (e.kind) {
      case "Identifier":
        return this.identifier(e, false);
      case "IntegerLiteral":
        return this.integerLiteral(e);
      case "FloatLiteral":
        this.error(e.loc, "floating-point types are not supported by the BPF target");
        return { type: e.suffix === "f" ? floatType : doubleType, lvalue: false };
      case "CharLiteral":
        return { type: charLiteralType(e.prefix), lvalue: false, value: BigInt(e.value) };
      case "StringLiteral":
        return { type: stringLiteralType(e), lvalue: true };
      case "UnaryExpr":
        return this.unary(e);
      case "UpdateExpr":
        return this.update(e);
      case "BinaryExpr":
        return this.binary(e);
      case "AssignExpr":
        return this.assign(e);
      case "CommaExpr": {
        this.rvalue(e.left);
        this.checkUnused(e.left, "left operand of comma operator has no effect");
        const r = this.rvalue(e.right);
        return { type: r, lvalue: false };
      }
      case "ConditionalExpr":
        return this.conditional(e);
      case "CastExpr":
        return this.cast(e);
      case "SizeofExpr":
        return this.sizeofAlignof(e, "sizeof");
      case "AlignofExpr":
        return this.sizeofAlignof(
          e,
          e.spelling.startsWith("_") && !e.spelling.startsWith("__") ? "_Alignof" : "__alignof",
        );
      case "CompoundLiteral":
        return this.compoundLiteral(e);
      case "StmtExpr":
        return this.stmtExpr(e);
      case "CallExpr":
        return this.call(e);
      case "MemberExpr":
        return this.memberExpr(e);
      case "IndexExpr":
        return this.index(e);
      case "OffsetofExpr":
        return this.offsetofExpr(e);
      case "VaArgExpr":
        this.expr(e.ap);
        this.error(e.loc, "variadic functions are not supported by the BPF target");
        return { type: this.typeName(e.type), lvalue: false };
      case "TypesCompatibleExpr": {
        const a = unqualified(canonical(this.typeName(e.first)));
        const b = unqualified(canonical(this.typeName(e.second)));
        return { type: intType, lvalue: false, value: compatible(a, b) ? 1n : 0n };
      }
      case "GenericSelection":
        return this.generic(e);
    }
  }

  // The value of an expression used as an rvalue: lvalue conversion, array and function
  // decay. Returns the resulting type and records it as the conversion when it differs.
  private rvalue(e: A.Expr): CType {
    const info = this.expr(e);
    const t = decayed(info.type);
    if (t !== info.type) info.converted = t;
    else if (info.lvalue && info.type.quals !== 0) {
      // lvalue conversion drops qualifiers
      const u = unqualified(info.type);
      if (u !== info.type) info.converted = u;
      return u;
    }
    return t;
  }

  // Records an implicit conversion of `e` (already typed) to `to`.
  private convert(e: A.Expr, to: CType): void {
    const info = this.expr(e);
    const from = info.converted ?? info.type;
    if (
      from !== to &&
      !(sameUnqualified(from, to) && canonical(from).quals === canonical(to).quals)
    )
      info.converted = to;
  }

  private identifier(e: A.Identifier, isCallee: boolean): ExprInfo {
    const entity = this.scope.lookup(e.name);
    if (entity === undefined) {
      const builtin = this.builtinFunction(e.name);
      if (builtin) return { type: builtin.type, lvalue: false, decl: builtin };
      if (isCallee) {
        this.error(
          e.loc,
          `call to undeclared function '${e.name}'; ISO C99 and later do not support implicit function declarations`,
        );
      } else {
        this.error(e.loc, `use of undeclared identifier '${e.name}'`);
      }
      return ERROR;
    }
    switch (entity.kind) {
      case "var":
        return { type: entity.type, lvalue: true, decl: entity };
      case "function":
        return { type: entity.type, lvalue: false, decl: entity };
      case "enumConst":
        return { type: entity.type, lvalue: false, decl: entity, value: entity.value };
      case "typedef":
        this.error(e.loc, `unexpected type name '${e.name}': expected expression`);
        return ERROR;
    }
  }

  private integerLiteral(e: A.IntegerLiteral): ExprInfo {
    if (e.overflow) {
      this.error(e.loc, "integer literal is too large to be represented in any integer type");
      return { type: ulonglongType, lvalue: false };
    }
    const value = literalValue(e);
    const decimal = e.radix === 10;
    // A small value is an int whatever the radix, unless a suffix says otherwise.
    if (!e.unsigned && e.longness === 0 && e.hi === 0 && e.lo >= 0 && e.lo <= 0x7fffffff) {
      return { type: intType, lvalue: false, value };
    }
    const candidates =
      literalCandidates[(e.unsigned ? 6 : 0) + e.longness * 2 + (decimal ? 0 : 1)]!;
    for (const t of candidates) if (fitsIn(value, t)) return { type: t, lvalue: false, value };
    if (decimal && !e.unsigned) {
      this.warning(
        e.loc,
        "integer literal is too large to be represented in a signed integer type, interpreting as unsigned",
        "-Wimplicitly-unsigned-literal",
      );
    }
    return { type: ulonglongType, lvalue: false, value };
  }

  private unary(e: A.UnaryExpr): ExprInfo {
    switch (e.op) {
      case "&":
        return this.addressOf(e);
      case "*": {
        const t = this.rvalue(e.operand);
        const c = canonical(t);
        if (c.kind !== "pointer") {
          const shown = this.promotedOperand(e.operand);
          if (t !== errorType)
            this.error(e.loc, `indirection requires pointer operand (${quoted(shown)} invalid)`);
          return ERROR;
        }
        return { type: c.pointee, lvalue: canonical(c.pointee).kind !== "function" };
      }
      case "+":
      case "-":
      case "~": {
        const t = this.rvalue(e.operand);
        const ok = e.op === "~" ? isInteger(t) : isArithmetic(t);
        if (!ok) {
          if (t !== errorType)
            this.error(e.loc, `invalid argument type ${quoted(t)} to unary expression`);
          return ERROR;
        }
        const p = promote(t, this.bitWidthOf(e.operand));
        this.convert(e.operand, p);
        return { type: p, lvalue: false };
      }
      case "!": {
        const t = this.rvalue(e.operand);
        if (!isScalar(t)) {
          if (t !== errorType)
            this.error(e.loc, `invalid argument type ${quoted(t)} to unary expression`);
          return ERROR;
        }
        this.checkPointerToBool(e.operand);
        return { type: intType, lvalue: false };
      }
    }
  }

  private addressOf(e: A.UnaryExpr): ExprInfo {
    const operand = e.operand;
    // `&arr[N]` (one past the end) is a valid address: -Warray-bounds allows it.
    const outer = this.addressOperand;
    this.addressOperand = operand;
    const info = this.expr(operand);
    this.addressOperand = outer;
    if (info === ERROR || info.type === errorType) return ERROR;
    const c = canonical(info.type);
    if (c.kind === "function") return { type: pointerTo(info.type), lvalue: false };
    if (!info.lvalue) {
      this.error(e.loc, `cannot take the address of an rvalue of type ${quoted(info.type)}`);
      return ERROR;
    }
    if (info.member?.member.bitWidth !== undefined) {
      this.error(e.loc, "address of bit-field requested");
      return ERROR;
    }
    if (info.decl?.kind === "var" && info.decl.storage === "register") {
      this.error(e.loc, `address of register variable requested`);
      return ERROR;
    }
    return { type: pointerTo(info.type), lvalue: false };
  }

  private update(e: A.UpdateExpr): ExprInfo {
    const info = this.expr(e.operand);
    if (info.type === errorType) return ERROR;
    const t = info.type;
    const c = canonical(t);
    if (!isArithmetic(t) && c.kind !== "pointer") {
      this.error(
        updateOperatorLoc(e),
        `cannot ${e.op === "++" ? "increment" : "decrement"} value of type ${quoted(t)}`,
      );
      return ERROR;
    }
    if (c.kind === "pointer" && !this.checkPointerArithmetic(c, e.loc)) return ERROR;
    if (!this.checkModifiable(e.operand, info, updateOperatorLoc(e))) return ERROR;
    return { type: unqualified(t), lvalue: false };
  }

  // The width of a bit-field operand, for promotion.
  private bitWidthOf(e: A.Expr): number | undefined {
    return this.result.exprs.get(e)?.member?.member.bitWidth;
  }

  private binary(e: A.BinaryExpr): ExprInfo {
    const op = e.op;
    const lt = this.rvalue(e.left);
    const rt = this.rvalue(e.right);
    if (lt === errorType || rt === errorType) return ERROR;
    switch (op) {
      case "*":
      case "/":
      case "%":
      case "&":
      case "|":
      case "^": {
        const ok =
          op === "*" || op === "/"
            ? isArithmetic(lt) && isArithmetic(rt)
            : isInteger(lt) && isInteger(rt);
        if (!ok) return this.invalidOperands(e, lt, rt);
        const common = usualArithmeticConversion(
          this.promoted(e.left, lt),
          this.promoted(e.right, rt),
        );
        this.convert(e.left, common);
        this.convert(e.right, common);
        if ((op === "/" || op === "%") && this.isZeroConstant(e.right)) {
          this.deferredWarning(
            e.opLoc,
            `${op === "/" ? "division" : "remainder"} by zero is undefined`,
            "-Wdivision-by-zero",
          );
        }
        return { type: common, lvalue: false, opType: common };
      }
      case "<<":
      case ">>": {
        if (!isInteger(lt) || !isInteger(rt)) return this.invalidOperands(e, lt, rt);
        const pl = promote(lt, this.bitWidthOf(e.left));
        const pr = promote(rt, this.bitWidthOf(e.right));
        this.convert(e.left, pl);
        this.convert(e.right, pr);
        this.checkShiftCount(e, pl);
        return { type: pl, lvalue: false, opType: pl };
      }
      case "+":
      case "-":
        return this.additive(e, lt, rt);
      case "<":
      case ">":
      case "<=":
      case ">=":
      case "==":
      case "!=":
        return this.comparison(e, lt, rt);
      case "&&":
      case "||":
        if (!isScalar(lt) || !isScalar(rt)) return this.invalidOperands(e, lt, rt);
        this.checkPointerToBool(e.left);
        this.checkPointerToBool(e.right);
        return { type: intType, lvalue: false };
    }
  }

  private promoted(e: A.Expr, t: CType): CType {
    return promote(t, this.bitWidthOf(e));
  }

  // The operands are named with their own types (an array stays 'char[8]').
  private invalidOperands(e: A.BinaryExpr | A.AssignExpr, lt: CType, rt: CType): ExprInfo {
    const left = e.kind === "BinaryExpr" ? e.left : e.target;
    const right = e.kind === "BinaryExpr" ? e.right : e.value;
    const l = this.result.exprs.get(left)?.type ?? lt;
    const r = this.result.exprs.get(right)?.type ?? rt;
    this.error(e.opLoc, `invalid operands to binary expression (${quotedPair(l, r)})`);
    return ERROR;
  }

  // An operand's type after lvalue conversion, decay and integer promotion.
  private promotedOperand(e: A.Expr): CType {
    const t = this.rvalue(e);
    if (t === errorType || !isInteger(t)) return t;
    const p = promote(t, this.bitWidthOf(e)) as IntegerType;
    // A type promotion leaves alone keeps its typedef name ('__u32').
    const c = canonical(t);
    return c.kind === "int" && c.name === p.name ? t : p;
  }

  private checkShiftCount(e: A.BinaryExpr | A.AssignExpr, leftType: CType): void {
    const right = e.kind === "BinaryExpr" ? e.right : e.value;
    if (!this.looksConstant(right)) return;
    const v = this.evaluator.evaluate(right);
    if (isNotConstant(v)) return;
    const bits = BigInt(sizeOf(leftType) * 8);
    if (v < 0n) this.deferredWarning(e.opLoc, "shift count is negative", "-Wshift-count-negative");
    else if (v >= bits)
      this.deferredWarning(e.opLoc, "shift count >= width of type", "-Wshift-count-overflow");
  }

  private additive(e: A.BinaryExpr, lt: CType, rt: CType): ExprInfo {
    const lc = canonical(lt);
    const rc = canonical(rt);
    // -Wstring-plus-int: "abc" + n is a pointer, not a longer string.
    if (e.op === "+") {
      const [str, other] = e.left.kind === "StringLiteral" ? [e.left, e.right] : [e.right, e.left];
      const ot = this.result.exprs.get(other)?.type;
      if (str.kind === "StringLiteral" && ot !== undefined && isInteger(ot)) {
        this.warning(
          e.opLoc,
          `adding ${quoted(ot)} to a string does not append to the string`,
          "-Wstring-plus-int",
          [this.noteAt(e.opLoc, "use array indexing to silence this warning")],
        );
      }
    }
    if (isArithmetic(lt) && isArithmetic(rt)) {
      const common = usualArithmeticConversion(
        this.promoted(e.left, lt),
        this.promoted(e.right, rt),
      );
      this.convert(e.left, common);
      this.convert(e.right, common);
      return { type: common, lvalue: false, opType: common };
    }
    if (lc.kind === "pointer" && isInteger(rt)) {
      if (!this.checkPointerArithmetic(lc, e.opLoc)) return ERROR;
      this.convert(e.right, promote(rt));
      return { type: lt, lvalue: false, opType: lt };
    }
    if (e.op === "+" && isInteger(lt) && rc.kind === "pointer") {
      if (!this.checkPointerArithmetic(rc, e.opLoc)) return ERROR;
      this.convert(e.left, promote(lt));
      return { type: rt, lvalue: false, opType: rt };
    }
    if (e.op === "-" && lc.kind === "pointer" && rc.kind === "pointer") {
      if (!compatible(unqualified(canonical(lc.pointee)), unqualified(canonical(rc.pointee)))) {
        this.error(e.opLoc, `${quoted(lt)} and ${quoted(rt)} are not pointers to compatible types`);
        return ERROR;
      }
      if (!this.checkPointerArithmetic(lc, e.opLoc)) return ERROR;
      return { type: ptrdiffType, lvalue: false, opType: lt };
    }
    return this.invalidOperands(e, lt, rt);
  }

  // False (after the error) when the pointee has no size.
  // -Wtautological-pointer-compare: an array, function or address compared with null.
  private checkNullComparison(e: A.BinaryExpr): void {
    if (e.op !== "==" && e.op !== "!=") return;
    const check = (side: A.Expr, other: A.Expr) => {
      if (!this.isNullPointerConstant(other)) return false;
      let what: string | undefined;
      let at = side.loc;
      const d = side.kind === "Identifier" ? this.result.exprs.get(side)?.decl : undefined;
      if (d?.kind === "function") what = `function '${d.name}'`;
      else if (d?.kind === "var" && canonical(d.type).kind === "array") what = `array '${d.name}'`;
      else if (side.kind === "UnaryExpr" && side.op === "&" && side.operand.kind === "Identifier") {
        const v = this.result.exprs.get(side.operand)?.decl;
        if (v?.kind === "var") {
          what = `address of '${v.name}'`;
          at = side.operand.loc;
        }
      }
      if (what === undefined) return false;
      const equal = e.op === "==";
      const notes =
        d?.kind === "function"
          ? [this.noteAt(side.loc, "prefix with the address-of operator to silence this warning")]
          : [];
      this.warning(
        at,
        `comparison of ${what} ${equal ? "equal to" : "not equal to"} a null pointer is always ${equal ? "false" : "true"}`,
        "-Wtautological-pointer-compare",
        notes,
      );
      return true;
    };
    if (!check(e.left, e.right)) check(e.right, e.left);
  }

  // -Wtautological-compare: a variable compared with itself.
  private checkSelfComparison(e: A.BinaryExpr): void {
    if (e.left.kind !== "Identifier" || e.right.kind !== "Identifier") return;
    const a = this.result.exprs.get(e.left)?.decl;
    const b = this.result.exprs.get(e.right)?.decl;
    if (a === undefined || b === undefined || a.kind === "enumConst") return;
    if ((qualsOf(a.type) & Q_VOLATILE) !== 0) return;
    if (a !== b) {
      // Two different arrays: their addresses differ, whatever the operator.
      const arrays = canonical(a.type).kind === "array" && canonical(b.type).kind === "array";
      if (arrays)
        this.warning(
          e.opLoc,
          "array comparison always evaluates to a constant",
          "-Wtautological-compare",
        );
      return;
    }
    const always = e.op === "==" || e.op === "<=" || e.op === ">=";
    this.warning(
      e.opLoc,
      `self-comparison always evaluates to ${always}`,
      "-Wtautological-compare",
    );
  }

  // -Wtautological-constant-out-of-range-compare: a constant no value of the other
  // (narrower than int, or boolean) operand can equal.
  private checkOutOfRangeCompare(e: A.BinaryExpr): void {
    if (this.unevaluated > 0) return;
    const sides: [A.Expr, A.Expr, boolean][] = [
      [e.right, e.left, false],
      [e.left, e.right, true],
    ];
    for (const [constant, other, constantFirst] of sides) {
      if (!this.looksConstant(constant) || this.looksConstant(other)) continue;
      const k = this.evaluator.evaluate(constant);
      if (isNotConstant(k)) continue;
      const info = this.result.exprs.get(other)!;
      let range: readonly [bigint, bigint];
      let what: string;
      if (isBooleanExpression(other)) {
        range = [0n, 1n];
        what = "boolean expression";
      } else {
        const it = integerTypeOf(info.type);
        if (it === undefined || it.rank >= intType.rank) continue;
        range = rangeOf(it);
        what = `expression of type ${quoted(info.type)}`;
      }
      // With the constant first, `K < x` reads as `x > K`.
      const op = constantFirst ? mirrored(e.op) : e.op;
      if (k >= range[0] && k <= range[1]) {
        // In range, only a boolean's edges make the answer fixed (`b <= 1`, `b < 0`).
        if (range[1] !== 1n) continue;
        const edge =
          (op === "<=" && k === 1n) || (op === ">=" && k === 0n)
            ? true
            : (op === "<" && k === 0n) || (op === ">" && k === 1n)
              ? false
              : undefined;
        if (edge === undefined) continue;
        this.deferredWarning(
          e.opLoc,
          `result of comparison of constant ${k} with ${what} is always ${edge}`,
          "-Wtautological-constant-compare",
        );
        return;
      }
      const above = k > range[1];
      const always =
        op === "==" ? false : op === "!=" ? true : op === "<" || op === "<=" ? above : !above;
      this.deferredWarning(
        e.opLoc,
        `result of comparison of constant ${k} with ${what} is always ${always}`,
        "-Wtautological-constant-out-of-range-compare",
      );
      return;
    }
  }

  private checkPointerArithmetic(p: PointerType, loc: A.SourceLoc): boolean {
    const target = canonical(p.pointee);
    if (target.kind === "void" || target.kind === "function") return true; // GNU: size 1
    if (isComplete(p.pointee)) return true;
    this.error(
      loc,
      `arithmetic on a pointer to an incomplete type ${quoted(p.pointee)}`,
      this.forwardNote(target),
    );
    return false;
  }

  private comparison(e: A.BinaryExpr, lt: CType, rt: CType): ExprInfo {
    const lc = canonical(lt);
    const rc = canonical(rt);
    const stringVersus = (s: A.Expr, other: A.Expr) =>
      s.kind === "StringLiteral" && !this.isNullPointerConstant(other);
    if (stringVersus(e.left, e.right) || stringVersus(e.right, e.left)) {
      this.warning(
        e.opLoc,
        "result of comparison against a string literal is unspecified (use an explicit string comparison function instead)",
        "-Wstring-compare",
      );
    }
    this.checkSelfComparison(e);
    this.checkNullComparison(e);
    if (isArithmetic(lt) && isArithmetic(rt)) {
      const common = usualArithmeticConversion(
        this.promoted(e.left, lt),
        this.promoted(e.right, rt),
      );
      this.convert(e.left, common);
      this.convert(e.right, common);
      this.checkOutOfRangeCompare(e);
      return { type: intType, lvalue: false, opType: common };
    }
    const equality = e.op === "==" || e.op === "!=";
    if (lc.kind === "pointer" && rc.kind === "pointer") {
      const lp = unqualified(canonical(lc.pointee));
      const rp = unqualified(canonical(rc.pointee));
      if (!equality && lp.kind === "function" && rp.kind === "function") {
        this.warning(
          e.opLoc,
          `ordered comparison of function pointers (${quoted(lt)} and ${quoted(rt)})`,
          "-Wordered-compare-function-pointers",
        );
      }
      // void * matches any pointer in an equality, not in an ordering.
      const voidOk = equality && (lp.kind === "void" || rp.kind === "void");
      if (!compatible(lp, rp) && !voidOk) {
        this.warning(
          e.opLoc,
          `comparison of distinct pointer types (${quoted(lt)} and ${quoted(rt)})`,
          "-Wcompare-distinct-pointer-types",
        );
      }
      return { type: intType, lvalue: false, opType: lt };
    }
    if (lc.kind === "pointer" && isInteger(rt)) {
      if (!this.isNullPointerConstant(e.right)) {
        this.warning(
          e.opLoc,
          `${equality ? "comparison between pointer and integer" : "ordered comparison between pointer and integer"} (${quoted(lt)} and ${quoted(rt)})`,
          equality ? "-Wpointer-integer-compare" : undefined,
        );
      }
      this.convert(e.right, lt);
      return { type: intType, lvalue: false, opType: lt };
    }
    if (rc.kind === "pointer" && isInteger(lt)) {
      if (!this.isNullPointerConstant(e.left)) {
        this.warning(
          e.opLoc,
          `${equality ? "comparison between pointer and integer" : "ordered comparison between pointer and integer"} (${quoted(lt)} and ${quoted(rt)})`,
          equality ? "-Wpointer-integer-compare" : undefined,
        );
      }
      this.convert(e.left, rt);
      return { type: intType, lvalue: false, opType: rt };
    }
    return this.invalidOperands(e, lt, rt);
  }

  private assign(e: A.AssignExpr): ExprInfo {
    const target = this.expr(e.target);
    if (e.op === "=") {
      const rt = this.rvalue(e.value);
      if (target.type === errorType || rt === errorType) return ERROR;
      if (!this.checkModifiable(e.target, target, e.opLoc)) return ERROR;
      const to = unqualified(target.type);
      this.checkAssignment(to, e.value, "assigning", e.opLoc);
      return { type: to, lvalue: false };
    }
    const lt = decayed(target.type);
    const rt = this.rvalue(e.value);
    if (target.type === errorType || rt === errorType) return ERROR;
    const op = e.op.slice(0, -1);
    const lc = canonical(lt);
    let opType: CType | undefined;
    if ((op === "+" || op === "-") && lc.kind === "pointer" && isInteger(rt)) {
      if (!this.checkPointerArithmetic(lc, e.opLoc)) return ERROR;
      opType = lt;
    } else if (op === "*" || op === "/" || op === "+" || op === "-") {
      if (isArithmetic(lt) && isArithmetic(rt))
        opType = usualArithmeticConversion(promote(lt), promote(rt));
    } else if (op === "<<" || op === ">>") {
      if (isInteger(lt) && isInteger(rt)) {
        opType = promote(lt, this.bitWidthOf(e.target));
        this.convert(e.value, promote(rt));
        this.checkShiftCount(e, opType);
      }
    } else if (isInteger(lt) && isInteger(rt)) {
      opType = usualArithmeticConversion(promote(lt), promote(rt));
    }
    if (opType === undefined) return this.invalidOperands(e, lt, rt);
    if (op !== "<<" && op !== ">>" && lc.kind !== "pointer") this.convert(e.value, opType);
    if (!this.checkModifiable(e.target, target, e.opLoc)) return ERROR;
    return { type: unqualified(target.type), lvalue: false, opType };
  }

  // Modifiable-lvalue rules with clang's messages for each way to fail.
  private checkModifiable(e: A.Expr, info: ExprInfo, opLoc: A.SourceLoc): boolean {
    if (!info.lvalue) {
      if (canonical(info.type).kind === "function") {
        this.error(opLoc, `non-object type ${quoted(info.type)} is not assignable`);
      } else this.error(opLoc, "expression is not assignable");
      return false;
    }
    const c = canonical(info.type);
    if (c.kind === "array") {
      this.error(opLoc, `array type ${quoted(info.type)} is not assignable`);
      return false;
    }
    if (!isComplete(info.type) && c.kind !== "pointer") {
      this.error(opLoc, `incomplete type ${quoted(info.type)} is not assignable`);
      return false;
    }
    if (
      (qualsOf(info.type) & Q_CONST) !== 0 ||
      (c.kind === "record" && recordHasConstMember(c.decl))
    ) {
      this.constAssignment(e, opLoc);
      return false;
    }
    return true;
  }

  private constAssignment(e: A.Expr, opLoc: A.SourceLoc): void {
    // Walk member accesses: a const member is reported as such, otherwise the variable.
    let cur: A.Expr = e;
    for (;;) {
      if (cur.kind === "MemberExpr") {
        const m = this.result.exprs.get(cur)?.member?.member;
        if (m && (qualsOf(m.type) & Q_CONST) !== 0) {
          const at = m.loc;
          this.error(
            opLoc,
            `cannot assign to non-static data member '${m.name ?? ""}' with const-qualified type ${quoted(m.type)}`,
            at
              ? [this.noteAt(at, `non-static data member '${m.name ?? ""}' declared const here`)]
              : [],
          );
          return;
        }
        cur = cur.object;
        continue;
      }
      if (cur.kind === "Identifier") {
        const d = this.result.exprs.get(cur)?.decl;
        if (d && d.kind === "var") {
          this.error(
            opLoc,
            `cannot assign to variable '${d.name}' with const-qualified type ${quoted(d.type)}`,
            [this.noteAt(d.loc, `variable '${d.name}' declared const here`)],
          );
          return;
        }
      }
      break;
    }
    this.error(opLoc, "read-only variable is not assignable");
  }

  private conditional(e: A.ConditionalExpr): ExprInfo {
    const info = this.conditionalOperands(e);
    // clang looks at the condition as a truth value last.
    if (info !== ERROR) this.checkPointerToBool(e.cond);
    return info;
  }

  private conditionalOperands(e: A.ConditionalExpr): ExprInfo {
    const ct = this.rvalue(e.cond);
    if (ct !== errorType && !isScalar(ct)) {
      this.error(
        questionLoc(e),
        `used type ${quoted(ct)} where arithmetic or pointer type is required`,
      );
      return ERROR;
    }
    const thenExpr = e.then ?? e.cond;
    // Messages show the operands after the usual unary conversions (as clang does).
    const a = this.promotedOperand(thenExpr);
    const b = this.promotedOperand(e.else);
    if (a === errorType || b === errorType) return ERROR;
    const ac = canonical(a);
    const bc = canonical(b);
    let type: CType;
    if (isArithmetic(a) && isArithmetic(b)) {
      type = usualArithmeticConversion(a, b);
    } else if (ac.kind === "void" || bc.kind === "void") {
      type = voidType;
    } else if (ac.kind === "record" && bc.kind === "record" && ac.decl === bc.decl) {
      type = unqualified(a);
    } else if (ac.kind === "pointer" && bc.kind === "pointer") {
      type = this.conditionalPointers(e, ac, bc, a, b);
    } else if (ac.kind === "pointer" && isInteger(b)) {
      if (!this.isNullPointerConstant(e.else))
        this.warning(
          questionLoc(e),
          `pointer/integer type mismatch in conditional expression (${quoted(a)} and ${quoted(b)})`,
          "-Wconditional-type-mismatch",
        );
      type = a;
    } else if (bc.kind === "pointer" && isInteger(a)) {
      if (!this.isNullPointerConstant(thenExpr))
        this.warning(
          questionLoc(e),
          `pointer/integer type mismatch in conditional expression (${quoted(a)} and ${quoted(b)})`,
          "-Wconditional-type-mismatch",
        );
      type = b;
    } else {
      this.error(questionLoc(e), `incompatible operand types (${quoted(a)} and ${quoted(b)})`);
      return ERROR;
    }
    if (canonical(type).kind !== "void") {
      this.convert(thenExpr, type);
      this.convert(e.else, type);
    }
    return { type, lvalue: false };
  }

  private conditionalPointers(
    e: A.ConditionalExpr,
    ac: PointerType,
    bc: PointerType,
    a: CType,
    b: CType,
  ): CType {
    const ap = canonical(ac.pointee);
    const bp = canonical(bc.pointee);
    const quals = qualsOf(ac.pointee) | qualsOf(bc.pointee);
    if (this.isNullPointerConstant(e.else) && bp.kind === "void") return a;
    if (this.isNullPointerConstant(e.then ?? e.cond) && ap.kind === "void") return b;
    // void * goes with object pointers; with a function pointer it is a mismatch.
    const objectAndVoid =
      (ap.kind === "void" && bp.kind !== "function") ||
      (bp.kind === "void" && ap.kind !== "function");
    if (objectAndVoid) return pointerTo(addQuals(voidType, quals));
    if (compatible(unqualified(ap), unqualified(bp)))
      return pointerTo(
        addQuals(compositeType(unqualified(ac.pointee), unqualified(bc.pointee)), quals),
      );
    this.warning(
      questionLoc(e),
      `pointer type mismatch (${quoted(a)} and ${quoted(b)})`,
      "-Wpointer-type-mismatch",
    );
    // clang then assumes plain `void *` (as GCC does), qualifiers dropped.
    return pointerTo(voidType);
  }

  private cast(e: A.CastExpr): ExprInfo {
    const to = this.typeName(e.type);
    const from = this.rvalue(e.operand);
    if (from === errorType || to === errorType) return { type: unqualified(to), lvalue: false };
    const tc = canonical(to);
    const fc = canonical(from);
    if (tc.kind === "void") return { type: to, lvalue: false };
    if (!isScalar(to)) {
      if (tc.kind === "record" && fc.kind === "record" && tc.decl === fc.decl)
        return { type: unqualified(to), lvalue: false };
      this.error(e.loc, `used type ${quoted(to)} where arithmetic or pointer type is required`);
      return ERROR;
    }
    if (!isScalar(from)) {
      this.error(
        e.loc,
        `operand of type ${quoted(from)} where arithmetic or pointer type is required`,
      );
      return ERROR;
    }
    if (isFloating(to) || isFloating(from)) {
      this.error(e.loc, "floating-point types are not supported by the BPF target");
    }
    if (
      tc.kind === "pointer" &&
      isInteger(from) &&
      sizeOf(from) < 8 &&
      !this.looksConstant(e.operand)
    ) {
      const toVoid = canonical(tc.pointee).kind === "void";
      this.warning(
        e.loc,
        `cast to ${quoted(to)} from smaller integer type ${quoted(from)}`,
        toVoid ? "-Wint-to-void-pointer-cast" : "-Wint-to-pointer-cast",
      );
    }
    if (
      fc.kind === "pointer" &&
      isInteger(to) &&
      sizeOf(to) < 8 &&
      tc.kind === "int" &&
      tc.name !== "_Bool"
    ) {
      this.warning(
        e.loc,
        `cast to smaller integer type ${quoted(to)} from ${quoted(from)}`,
        "-Wpointer-to-int-cast",
      );
    }
    return { type: unqualified(to), lvalue: false };
  }

  private sizeofAlignof(e: A.SizeofExpr | A.AlignofExpr, keyword: string): ExprInfo {
    const arg = e.arg;
    let t: CType;
    let bitField = false;
    if (arg.kind === "TypeName") t = this.typeName(arg);
    else {
      this.unevaluated++;
      const info = this.expr(arg);
      this.unevaluated--;
      t = info.type;
      bitField = info.member?.member.bitWidth !== undefined;
    }
    if (t === errorType) return ERROR;
    const c = canonical(t);
    const name = keyword === "sizeof" ? "sizeof" : "alignof";
    if (bitField) {
      this.error(e.loc, `invalid application of '${name}' to bit-field`);
      return ERROR;
    }
    if (c.kind === "function" || c.kind === "void") {
      // GNU: size 1; clang warns only under -Wpointer-arith.
    } else if (!isComplete(t)) {
      this.error(
        e.loc,
        `invalid application of '${name}' to an incomplete type ${quoted(t)}`,
        this.forwardNote(c),
      );
      return ERROR;
    }
    const value = BigInt(e.kind === "SizeofExpr" ? sizeOf(t) : alignOf(t));
    return { type: sizeType, lvalue: false, value };
  }

  private compoundLiteral(e: A.CompoundLiteral): ExprInfo {
    let t = this.typeName(e.type);
    if (!isComplete(t) && canonical(t).kind !== "array") {
      this.error(
        e.loc,
        `variable has incomplete type ${quoted(t)}`,
        this.forwardNote(canonical(t)),
      );
      this.typeInitializer(e.init);
      return ERROR;
    }
    t = this.checkInitializer(t, e.init, e.loc, this.fn === undefined);
    return { type: t, lvalue: true };
  }

  private stmtExpr(e: A.StmtExpr): ExprInfo {
    if (this.fn === undefined) {
      this.error(e.loc, "statement expression not allowed at file scope");
      return ERROR;
    }
    // The last expression statement is the value, not an unused result.
    const items = e.body.items;
    const last = items[items.length - 1];
    const valued =
      last !== undefined && last.kind === "ExprStmt" && last.expr !== null ? last.expr : undefined;
    const outer = this.scope;
    this.scope = new Scope(outer, "block");
    try {
      for (const item of items) {
        if (item === last && valued) this.rvalue(valued);
        else this.blockItem(item);
      }
    } finally {
      this.scope = outer;
    }
    if (valued) return { type: decayedUnqualified(this.expr(valued).type), lvalue: false };
    return { type: voidType, lvalue: false };
  }

  private memberExpr(e: A.MemberExpr): ExprInfo {
    const obj = this.expr(e.object);
    if (obj.type === errorType) return ERROR;
    let recordType: CType;
    const opLoc = operatorLoc(e);
    if (e.arrow) {
      const t = this.rvalue(e.object);
      const c = canonical(t);
      if (c.kind !== "pointer") {
        if (canonical(t).kind === "record")
          this.error(
            opLoc,
            `member reference type ${quoted(t)} is not a pointer; did you mean to use '.'?`,
          );
        else this.error(opLoc, `member reference type ${quoted(t)} is not a pointer`);
        return ERROR;
      }
      recordType = c.pointee;
    } else {
      recordType = obj.type;
    }
    const rc = canonical(recordType);
    if (rc.kind !== "record") {
      const pc = rc.kind === "pointer" ? canonical(rc.pointee) : undefined;
      if (!e.arrow && pc && pc.kind === "record") {
        this.error(
          opLoc,
          `member reference type ${quoted(recordType)} is a pointer; did you mean to use '->'?`,
        );
      } else {
        this.error(
          opLoc,
          `member reference base type ${quoted(recordType)} is not a structure or union`,
        );
      }
      return ERROR;
    }
    if (!rc.decl.complete) {
      this.error(
        opLoc,
        `incomplete definition of type ${quoted(unqualified(recordType))}`,
        this.forwardNote(rc),
      );
      return ERROR;
    }
    const path = rc.decl.findMember(e.member);
    if (path === undefined) {
      this.error(
        e.memberLoc,
        `no member named '${e.member}' in ${quoted(unqualified(recordType))}`,
      );
      return ERROR;
    }
    // The member inherits the object's qualifiers.
    const type = addQuals(path.member.type, qualsOf(recordType));
    return { type, lvalue: e.arrow || obj.lvalue, member: path };
  }

  private index(e: A.IndexExpr): ExprInfo {
    const at = this.rvalue(e.array);
    const it = this.rvalue(e.index);
    if (at === errorType || it === errorType) return ERROR;
    const ac = canonical(at);
    const ic = canonical(it);
    const loc = bracketLoc(e);
    let ptr: PointerType;
    let intExpr: A.Expr;
    if (ac.kind === "pointer") {
      ptr = ac;
      intExpr = e.index;
      if (!isInteger(it)) {
        this.error(loc, "array subscript is not an integer");
        return ERROR;
      }
    } else if (ic.kind === "pointer") {
      ptr = ic;
      intExpr = e.array;
      if (!isInteger(at)) {
        this.error(loc, "array subscript is not an integer");
        return ERROR;
      }
    } else {
      this.error(loc, "subscripted value is not an array, pointer, or vector");
      return ERROR;
    }
    const target = canonical(ptr.pointee);
    if (target.kind === "void") {
      this.error(loc, `subscript of pointer to incomplete type ${quoted(ptr.pointee)}`);
      return ERROR;
    }
    if (!isComplete(ptr.pointee) && target.kind !== "function") {
      this.error(
        loc,
        `subscript of pointer to incomplete type ${quoted(ptr.pointee)}`,
        this.forwardNote(target),
      );
      return ERROR;
    }
    this.convert(intExpr, promote(canonical(this.expr(intExpr).converted ?? it)));
    if (intExpr === e.index) this.checkArrayBounds(e);
    return { type: ptr.pointee, lvalue: true };
  }

  // The operand of the `&` being typed, and the depth of unevaluated operands (sizeof...).
  private addressOperand: A.Expr | undefined = undefined;
  private unevaluated = 0;

  // -Warray-bounds: a constant subscript outside an array of known length.
  private checkArrayBounds(e: A.IndexExpr): void {
    if (this.unevaluated > 0 || !this.looksConstant(e.index)) return;
    const base = this.result.exprs.get(e.array);
    const arr = base && canonical(base.type);
    if (!arr || arr.kind !== "array" || arr.length === undefined) return;
    const v = this.evaluator.evaluate(e.index);
    if (isNotConstant(v)) return;
    const length = BigInt(arr.length);
    let message: string;
    if (v < 0n) message = `array index ${v} is before the beginning of the array`;
    else if (v > length || (v === length && this.addressOperand !== e)) {
      // A trailing member array of 0 or 1 elements is the old flexible array idiom.
      const m = base.member?.member;
      if (m && arr.length <= 1 && this.isLastMember(base.member!, this.memberObjectType(e.array))) {
        return;
      }
      const elements = `${arr.length} element${arr.length === 1 ? "" : "s"}`;
      message = `array index ${v} is past the end of the array (which contains ${elements})`;
    } else return;
    const declared = this.arrayDeclaredAt(e.array, base);
    this.deferredWarning(e.loc, message, "-Warray-bounds", declared ? [declared] : []);
  }

  // Is the member the last of the struct that holds it (where a trailing array may be the
  // old flexible-array idiom)? `object` is the type the access was made on.
  private isLastMember(path: MemberPath, object: CType): boolean {
    const holder =
      path.chain.length > 1
        ? canonical(path.chain[path.chain.length - 2]!.type)
        : canonical(object);
    if (holder.kind !== "record" || holder.decl.isUnion) return false;
    const members = holder.decl.members ?? [];
    return members[members.length - 1] === path.member;
  }

  // The record type a member access was made on (`s.m`: s's type, `p->m`: *p's type).
  private memberObjectType(e: A.Expr): CType {
    if (e.kind !== "MemberExpr") return errorType;
    const t = this.result.exprs.get(e.object)?.type ?? errorType;
    if (!e.arrow) return t;
    const c = canonical(decayed(t));
    return c.kind === "pointer" ? c.pointee : errorType;
  }

  private arrayDeclaredAt(array: A.Expr, info: ExprInfo): Diagnostic | undefined {
    if (array.kind === "Identifier" && info.decl?.kind === "var") {
      return this.noteAt(info.decl.startLoc, `array '${info.decl.name}' declared here`);
    }
    const m = info.member?.member;
    if (m?.declLoc && m.name !== undefined)
      return this.noteAt(m.declLoc, `array '${m.name}' declared here`);
    return undefined;
  }

  private offsetofExpr(e: A.OffsetofExpr): ExprInfo {
    let t = this.typeName(e.type);
    let offset = 0n;
    let constant = true;
    for (const d of e.path) {
      const c = canonical(t);
      if (d.kind === "FieldDesignator") {
        if (c.kind !== "record") {
          this.error(d.loc, `offsetof requires struct, union, or class type, ${quoted(t)} invalid`);
          return { type: sizeType, lvalue: false };
        }
        if (!c.decl.complete) {
          this.error(e.type.loc, `offsetof of incomplete type ${quoted(t)}`, this.forwardNote(c));
          return { type: sizeType, lvalue: false };
        }
        const m = c.decl.findMember(d.name);
        if (!m) {
          this.error(
            designatorNameLoc(d),
            `no member named '${d.name}' in ${quoted(unqualified(t))}`,
          );
          return { type: sizeType, lvalue: false };
        }
        if (m.member.bitWidth !== undefined) {
          this.error(designatorNameLoc(d), `cannot compute offset of bit-field '${d.name}'`);
          return { type: sizeType, lvalue: false };
        }
        offset += BigInt(m.offset);
        t = m.member.type;
      } else {
        if (c.kind !== "array") {
          this.error(d.loc, `subscripted value is not an array, pointer, or vector`);
          return { type: sizeType, lvalue: false };
        }
        const info = this.expr(d.index);
        if (!isInteger(info.type)) {
          this.error(d.index.loc, "array subscript is not an integer");
          return { type: sizeType, lvalue: false };
        }
        const v = this.evaluator.evaluate(d.index);
        if (isNotConstant(v)) constant = false;
        else offset += v * BigInt(sizeOf(c.element));
        t = c.element;
      }
    }
    return constant
      ? { type: sizeType, lvalue: false, value: offset }
      : { type: sizeType, lvalue: false };
  }

  private generic(e: A.GenericSelection): ExprInfo {
    const control = decayedUnqualified(this.expr(e.control).type);
    let chosen: A.GenericAssoc | undefined;
    let fallback: A.GenericAssoc | undefined;
    for (const a of e.assocs) {
      if (a.type === null) {
        fallback = a;
        continue;
      }
      const t = this.typeName(a.type);
      if (compatible(t, control)) chosen ??= a;
    }
    const pick = chosen ?? fallback;
    if (!pick) {
      this.error(
        e.control.loc,
        `controlling expression type ${quoted(control)} not compatible with any generic association type`,
      );
      return ERROR;
    }
    for (const a of e.assocs) if (a !== pick) this.quietly(() => this.expr(a.expr));
    const info = this.expr(pick.expr);
    return { type: info.type, lvalue: info.lvalue, value: info.value, selected: pick.expr };
  }

  private quietly<T>(f: () => T): T {
    this.quiet++;
    try {
      return f();
    } finally {
      this.quiet--;
    }
  }

  // --- calls

  private call(e: A.CallExpr): ExprInfo {
    const callee = e.callee;
    let calleeInfo: ExprInfo;
    if (callee.kind === "Identifier") {
      calleeInfo = this.identifier(callee, true);
      this.record(callee, calleeInfo);
    } else {
      calleeInfo = this.expr(callee);
    }
    if (calleeInfo.type === errorType) {
      for (const a of e.args) this.expr(a);
      return ERROR;
    }
    const fnDecl = calleeInfo.decl?.kind === "function" ? calleeInfo.decl : undefined;
    if (fnDecl?.builtin) {
      const special = this.builtinCall(e, fnDecl);
      if (special) return special;
    }
    const ct = this.rvalue(callee);
    const cc = canonical(ct);
    const fc = cc.kind === "pointer" ? canonical(cc.pointee) : undefined;
    if (!fc || fc.kind !== "function") {
      this.error(
        calleeEndLoc(e),
        `called object type ${quoted(ct)} is not a function or function pointer`,
      );
      for (const a of e.args) this.expr(a);
      return ERROR;
    }
    const ft = fc;
    const params = ft.params;
    const declNote = fnDecl ? [this.noteAt(fnDecl.loc, `'${fnDecl.name}' declared here`)] : [];
    if (ft.prototyped) {
      // clang names the parameter when there is exactly one and it has a name.
      const single = params.length === 1 ? params[0]!.name : undefined;
      if (e.args.length < params.length) {
        const why =
          single !== undefined
            ? ft.variadic
              ? `at least argument '${single}' must be specified`
              : `single argument '${single}' was not specified`
            : `expected ${ft.variadic ? "at least " : ""}${params.length}, have ${e.args.length}`;
        this.error(closingParenLoc(e), `too few arguments to function call, ${why}`, declNote);
      } else if (e.args.length > params.length && !ft.variadic) {
        const why =
          single !== undefined
            ? `expected single argument '${single}', have ${e.args.length} arguments`
            : `expected ${params.length}, have ${e.args.length}`;
        this.error(
          e.args[params.length]!.loc,
          `too many arguments to function call, ${why}`,
          declNote,
        );
      }
    }
    for (let i = 0; i < e.args.length; i++) {
      const arg = e.args[i]!;
      const at = this.rvalue(arg);
      if (at === errorType) continue;
      const p = ft.prototyped ? params[i] : undefined;
      if (p) {
        this.checkAssignment(
          unqualified(p.type),
          arg,
          "passing",
          arg.loc,
          this.paramNote(fnDecl, i, p),
        );
      } else {
        if (!isComplete(at) && canonical(at).kind !== "pointer") {
          this.error(arg.loc, `argument type ${quoted(at)} is incomplete`);
          continue;
        }
        this.convert(arg, defaultArgumentPromotion(at));
      }
    }
    const ret = ft.ret;
    const rc = canonical(ret);
    if (rc.kind !== "void" && !isComplete(ret)) {
      this.error(
        e.loc,
        `calling function with incomplete return type ${quoted(ret)}`,
        this.forwardNote(rc),
      );
    }
    return { type: unqualified(ret), lvalue: false };
  }

  private paramNote(fn: FunctionDecl | undefined, index: number, p: Param): Diagnostic[] {
    if (!fn || p.name === undefined) return [];
    const def = fn.definition;
    const paramLoc = def ? fn.params[index]?.loc : this.paramLocOf(fn, index);
    return paramLoc
      ? [this.noteAt(paramLoc, `passing argument to parameter '${p.name}' here`)]
      : [];
  }

  // Where a declared function's parameter name was written (for "passing argument" notes).
  private readonly paramLocs: Map<FunctionDecl, A.SourceLoc[]>;
  private paramLocOf(fn: FunctionDecl, index: number): A.SourceLoc | undefined {
    return this.paramLocs.get(fn)?.[index];
  }

  // -------------------------------------------------------------------------------------
  // Assignment conversions (C11 6.5.16.1) with clang's warnings.

  private checkAssignment(
    to: CType,
    e: A.Expr,
    context: "assigning" | "initializing" | "passing" | "returning",
    loc: A.SourceLoc,
    extra: Diagnostic[] = [],
  ): void {
    const info = this.expr(e);
    const from = info.converted ?? decayedUnqualified(info.type);
    if (from === errorType || to === errorType) return;
    // Messages name the expression's own type, as written ('char[16]', 'const int').
    const shown = info.type;
    const tc = canonical(to);
    const fc = canonical(from);
    if (isArithmetic(to) && isArithmetic(from)) {
      this.convert(e, to);
      this.checkConstantConversion(e, from, to);
      return;
    }
    if (tc.kind === "int" && tc.name === "_Bool" && fc.kind === "pointer") {
      this.checkPointerToBool(e);
      this.convert(e, to);
      return;
    }
    if (tc.kind === "record" && fc.kind === "record" && tc.decl === fc.decl) return;
    let kind: string | undefined; // the warning, for the mismatches that are only warnings
    if (tc.kind === "pointer" && fc.kind === "pointer") {
      const problem = this.pointerProblem(tc, fc);
      this.convert(e, to);
      if (problem === undefined) return;
      const text =
        problem.suffix !== undefined
          ? phraseSuffix(context, to, shown, problem.suffix)
          : phrase(context, to, shown, problem.kind!);
      this.warning(
        loc,
        text + (problem.hints ? this.conversionHint(e, tc, fc) : ""),
        problem.flag,
        extra,
      );
      return;
    }
    if (tc.kind === "pointer" && isInteger(from)) {
      this.convert(e, to);
      if (this.isNullPointerConstant(e)) return;
      kind = "incompatible integer to pointer conversion";
    } else if (isInteger(to) && fc.kind === "pointer") {
      this.convert(e, to);
      kind = "incompatible pointer to integer conversion";
    }
    if (kind !== undefined) {
      const text = phrase(context, to, shown, kind) + this.conversionHint(e, tc, fc);
      this.warning(loc, text, "-Wint-conversion", extra);
      return;
    }
    this.error(loc, incompatiblePhrase(context, to, shown) + this.conversionHint(e, tc, fc), extra);
  }

  // The fix clang suggests after a conversion message: "; remove &" for `&x` where x
  // itself fits, "; take the address with &" when the target points to the value's type
  // (and the value is an object), "; dereference with *" the other way round.
  private conversionHint(e: A.Expr, tc: CType, fc: CType): string {
    if (e.kind === "UnaryExpr" && (e.op === "&" || e.op === "*")) {
      const inner = this.result.exprs.get(e.operand);
      if (inner && fixFits(inner.type, tc)) return e.op === "&" ? "; remove &" : "; remove *";
    }
    const info = this.result.exprs.get(e);
    // Arrays and functions decayed to the pointer: clang offers no fix for those.
    const own = info && canonical(info.type).kind;
    if (info === undefined || own === "array" || own === "function") return "";
    if (
      tc.kind === "pointer" &&
      info.lvalue &&
      info.member?.member.bitWidth === undefined &&
      fixFits(pointerTo(info.type), tc)
    ) {
      return "; take the address with &";
    }
    if (fc.kind === "pointer" && fixFits(fc.pointee, tc)) return "; dereference with *";
    return "";
  }

  // What is wrong with assigning a `fc` pointer to a `tc` pointer, in clang's order:
  // lost qualifiers (before sign), different-sign integers, nested qualifiers, then
  // incompatible pointee types. undefined when nothing is.
  private pointerProblem(
    tc: PointerType,
    fc: PointerType,
  ): { kind?: string; suffix?: string; flag: string; hints: boolean } | undefined {
    const tpu = unqualified(canonical(tc.pointee));
    const fpu = unqualified(canonical(fc.pointee));
    // Qualifiers of void do not matter when a function pointer is involved.
    const functionInvolved = tpu.kind === "function" || fpu.kind === "function";
    const lostQuals = functionInvolved ? 0 : qualsOf(fc.pointee) & ~qualsOf(tc.pointee);
    const discards = {
      suffix: "discards qualifiers",
      flag: "-Wincompatible-pointer-types-discards-qualifiers",
      hints: false,
    };
    if (tpu.kind === "void" || fpu.kind === "void" || compatible(tpu, fpu)) {
      return lostQuals !== 0 ? discards : undefined;
    }
    if (tpu.kind === "int" && fpu.kind === "int" && tpu.size === fpu.size) {
      if (lostQuals !== 0) return discards;
      const plainChar = tpu.name === "char" || fpu.name === "char";
      return {
        suffix: plainChar
          ? "converts between pointers to integer types where one is of the unique plain 'char' type and the other is not"
          : "converts between pointers to integer types with different sign",
        flag: "-Wpointer-sign",
        hints: false,
      };
    }
    if (compatibleIgnoringNestedQualifiers(tpu, fpu)) {
      return {
        suffix: "discards qualifiers in nested pointer types",
        flag: "-Wincompatible-pointer-types-discards-qualifiers",
        hints: false,
      };
    }
    const functions = tpu.kind === "function" && fpu.kind === "function";
    return {
      kind: functions ? "incompatible function pointer types" : "incompatible pointer types",
      flag: functions ? "-Wincompatible-function-pointer-types" : "-Wincompatible-pointer-types",
      hints: true,
    };
  }

  // -Wpointer-bool-conversion: a function or array name as a truth value is always true.
  private checkPointerToBool(e: A.Expr): void {
    if (e.kind === "UnaryExpr" && e.op === "&" && e.operand.kind === "Identifier") {
      const v = this.result.exprs.get(e.operand)?.decl;
      if (v?.kind === "var") {
        this.warning(
          e.operand.loc,
          `address of '${v.name}' will always evaluate to 'true'`,
          "-Wpointer-bool-conversion",
        );
      }
      return;
    }
    if (e.kind !== "Identifier") return;
    const d = this.result.exprs.get(e)?.decl;
    if (d?.kind === "function") {
      this.warning(
        e.loc,
        `address of function '${d.name}' will always evaluate to 'true'`,
        "-Wpointer-bool-conversion",
        [this.noteAt(e.loc, "prefix with the address-of operator to silence this warning")],
      );
    } else if (d?.kind === "var" && canonical(d.type).kind === "array") {
      this.warning(
        e.loc,
        `address of array '${d.name}' will always evaluate to 'true'`,
        "-Wpointer-bool-conversion",
      );
    }
  }

  // -Wconstant-conversion: an integer constant that changes value in the target type.
  private checkConstantConversion(e: A.Expr, from: CType, to: CType): void {
    if (!this.looksConstant(e)) return;
    const tc = canonical(to);
    if (tc.kind !== "int" || tc.name === "_Bool") return;
    const v = this.evaluator.evaluate(e);
    if (isNotConstant(v)) return;
    const converted = convertValue(v, to);
    if (converted === v) return;
    // clang stays quiet when only the sign interpretation changes (e.g. `unsigned x = -1`).
    if (
      BigInt.asUintN(tc.size * 8, v) === BigInt.asUintN(tc.size * 8, converted) &&
      fitsInWidth(v, tc.size * 8)
    )
      return;
    this.warning(
      e.loc,
      `implicit conversion from ${quoted(from)} to ${quoted(to)} changes value from ${v} to ${converted}`,
      "-Wconstant-conversion",
    );
  }

  // A cheap syntactic filter before running the constant evaluator.
  private looksConstant(e: A.Expr): boolean {
    switch (e.kind) {
      case "IntegerLiteral":
      case "CharLiteral":
        return true;
      case "UnaryExpr":
        return (e.op === "-" || e.op === "~" || e.op === "+") && this.looksConstant(e.operand);
      case "BinaryExpr":
        return this.looksConstant(e.left) && this.looksConstant(e.right);
      case "CastExpr":
        return this.looksConstant(e.operand);
      case "Identifier":
        return this.result.exprs.get(e)?.decl?.kind === "enumConst";
      case "SizeofExpr":
      case "AlignofExpr":
        return true;
      default:
        return false;
    }
  }

  private isZeroConstant(e: A.Expr): boolean {
    if (!this.looksConstant(e)) return false;
    const v = this.evaluator.evaluate(e);
    return !isNotConstant(v) && v === 0n;
  }

  // An integer constant expression with value 0, possibly cast to void * (C11 6.3.2.3).
  private isNullPointerConstant(e: A.Expr): boolean {
    const info = this.result.exprs.get(e);
    if (!info) return false;
    const c = canonical(info.type);
    if (
      e.kind === "CastExpr" &&
      c.kind === "pointer" &&
      canonical(c.pointee).kind === "void" &&
      qualsOf(c.pointee) === 0
    ) {
      return this.isNullPointerConstant(e.operand);
    }
    if (!isInteger(info.type)) return false;
    const v = this.evaluator.evaluate(e);
    return !isNotConstant(v) && v === 0n;
  }

  // -------------------------------------------------------------------------------------
  // Initializers (C11 6.7.9): designators, nested lists, brace elision, strings.

  // Checks `init` against `type` and returns the type completed by it (an array without a
  // size gets its length). Records the flattened stores in result.initializers.
  private checkInitializer(
    type: CType,
    init: A.Initializer,
    loc: A.SourceLoc,
    isStatic: boolean,
  ): CType {
    const entries: InitEntry[] = [];
    const state: InitState = { entries, isStatic, maxIndex: -1 };
    let result = type;
    const c = canonical(type);
    if (init.kind === "InitList") {
      if (c.kind === "array" || c.kind === "record") {
        const cursor = new InitCursor(init.items);
        this.fillAggregate(type, 0, cursor, true, state, true);
        if (c.kind === "array" && c.length === undefined)
          result = arrayOf(c.element, state.maxIndex + 1);
      } else {
        this.scalarFromList(type, 0, init, state);
      }
    } else {
      const strLen = this.stringInitLength(type, init);
      if (strLen !== undefined) {
        if (c.kind === "array" && c.length === undefined) result = arrayOf(c.element, strLen);
        this.stringInit(result, 0, init as A.StringLiteral, state);
      } else if (c.kind === "array" && init.kind === "StringLiteral" && isIntegerArray(c)) {
        this.expr(init);
        const wide = init.prefix !== "" && init.prefix !== "u8";
        this.error(
          loc,
          wide
            ? "initializing char array with wide string literal"
            : "initializing wide char array with non-wide string literal",
        );
      } else if (c.kind === "array") {
        this.expr(init);
        this.error(
          init.loc,
          "array initializer must be an initializer list" +
            (isCharArray(c) ? " or string literal" : ""),
        );
      } else {
        this.initScalarOrRecord(type, 0, init, state, loc);
      }
    }
    this.result.initializers.set(init, entries);
    return result;
  }

  // Fills an array or record from the cursor. `braced`: the list belongs to this aggregate
  // (excess items are diagnosed); otherwise braces were elided and it stops when full or at
  // a designator, leaving the rest for the enclosing aggregate.
  private fillAggregate(
    type: CType,
    offset: number,
    cur: InitCursor,
    braced: boolean,
    state: InitState,
    top: boolean,
  ): void {
    const c = canonical(type);
    if (c.kind === "array") this.fillArray(c, offset, cur, braced, state, top);
    else if (c.kind === "record") this.fillRecord(type, c.decl, offset, cur, braced, state);
  }

  private fillArray(
    t: ArrayType,
    offset: number,
    cur: InitCursor,
    braced: boolean,
    state: InitState,
    top: boolean,
    entry = false,
  ): void {
    const elem = t.element;
    const esize = isComplete(elem) ? sizeOf(elem) : 0;
    let index = 0;
    while (!cur.done()) {
      const item = cur.peek();
      if (item.designators.length > cur.level) {
        // A designator belongs to the innermost braced list, or leads into this array.
        if (!braced && !entry) return;
        entry = false;
        const d = item.designators[cur.level]!;
        if (d.kind !== "IndexDesignator") {
          this.error(
            d.loc,
            `field designator cannot initialize a non-struct, non-union type ${quoted(t)}`,
          );
          cur.skipItem(this);
          continue;
        }
        const first = this.designatorIndex(d, t);
        const last =
          first === undefined || d.last === null
            ? first
            : this.designatorIndex({ ...d, index: d.last, last: null }, t);
        if (first === undefined || last === undefined) {
          cur.skipItem(this);
          continue;
        }
        // A GNU range gives every element in it the same value.
        for (let i = first; i < last; i++) {
          const copy = new InitCursor([item]);
          copy.level = cur.level + 1;
          this.designatedElement(elem, offset + i * esize, copy, state);
        }
        cur.level++;
        this.designatedElement(elem, offset + last * esize, cur, state);
        if (top) state.maxIndex = Math.max(state.maxIndex, last);
        index = last + 1;
        continue;
      }
      if (t.length !== undefined && index >= t.length) {
        if (!braced) return;
        this.warning(
          cur.peek().loc,
          "excess elements in array initializer",
          "-Wexcess-initializers",
        );
        cur.skipRest(this);
        return;
      }
      this.initElement(elem, offset + index * esize, cur, state);
      if (top) state.maxIndex = Math.max(state.maxIndex, index);
      index++;
    }
  }

  private designatorIndex(d: A.IndexDesignator, t: ArrayType): number | undefined {
    const info = this.constantExpr(d.index);
    if (!isInteger(info.type)) {
      this.error(d.index.loc, "expression is not an integer constant expression");
      return undefined;
    }
    const v = this.evaluator.evaluate(d.index);
    if (isNotConstant(v)) {
      this.notIntegerConstant(d.index, v);
      return undefined;
    }
    if (v < 0n) {
      this.error(d.index.loc, `array designator value '${v}' is negative`);
      return undefined;
    }
    if (t.length !== undefined && v >= BigInt(t.length)) {
      this.error(d.index.loc, `array designator index (${v}) exceeds array bounds (${t.length})`);
      return undefined;
    }
    return Number(v);
  }

  // The members positional initializers visit: named members and anonymous records.
  private initializableMembers(decl: RecordDecl): Member[] {
    return (decl.members ?? []).filter((m) => m.name !== undefined || m.bitWidth === undefined);
  }

  // Fills a struct or union. `entry`: the current item's next designator names a member of
  // this record although its braces were elided (a designator path leading inside); after
  // it, positional items continue with the following members, as C11 6.7.9p17 says.
  private fillRecord(
    type: CType,
    decl: RecordDecl,
    offset: number,
    cur: InitCursor,
    braced: boolean,
    state: InitState,
    entry = false,
  ): void {
    if (!decl.complete) {
      if (!cur.done())
        this.error(
          cur.peek().loc,
          `variable has incomplete type ${quoted(type)}`,
          this.forwardNote(canonical(type)),
        );
      cur.skipRest(this);
      return;
    }
    const members = this.initializableMembers(decl);
    let next = 0;
    while (!cur.done()) {
      const item = cur.peek();
      if (item.designators.length > cur.level) {
        if (!braced && !entry) return;
        entry = false;
        const d = item.designators[cur.level]!;
        if (d.kind !== "FieldDesignator") {
          this.error(d.loc, `array designator cannot initialize non-array type ${quoted(type)}`);
          cur.skipItem(this);
          continue;
        }
        const path = decl.findMember(d.name);
        if (!path) {
          this.error(
            designatorNameLoc(d),
            `field designator '${d.name}' does not refer to any field in type ${quoted(unqualified(type))}`,
          );
          cur.skipItem(this);
          continue;
        }
        const outer = path.chain[0]!;
        const inner = canonical(outer.type);
        if (path.chain.length > 1 && inner.kind === "record") {
          // The name is found inside an anonymous member: continue in there.
          this.fillRecord(outer.type, inner.decl, offset + outer.offset, cur, false, state, true);
        } else if (outer.bitWidth !== undefined) {
          if (cur.level + 1 < item.designators.length) {
            this.error(
              item.designators[cur.level + 1]!.loc,
              `designator in initializer for scalar type ${quoted(outer.type)}`,
            );
            cur.skipItem(this);
          } else {
            this.initBitField(outer.type, offset * 8 + outer.bitOffset, outer.bitWidth, cur, state);
          }
        } else {
          cur.level++;
          this.designatedElement(outer.type, offset + outer.offset, cur, state);
        }
        next = decl.isUnion ? members.length : members.indexOf(outer) + 1;
        continue;
      }
      if (next >= members.length || (decl.isUnion && next > 0)) {
        if (!braced) return;
        this.warning(
          item.loc,
          `excess elements in ${decl.isUnion ? "union" : "struct"} initializer`,
          "-Wexcess-initializers",
        );
        cur.skipRest(this);
        return;
      }
      const m = members[next]!;
      this.initMember(m, offset, cur, state);
      next++;
    }
  }

  // The subobject a designator reached: more designators lead inside it, else the item's
  // value initializes it.
  private designatedElement(type: CType, offset: number, cur: InitCursor, state: InitState): void {
    const item = cur.peek();
    if (cur.level >= item.designators.length) {
      this.initElement(type, offset, cur, state);
      return;
    }
    const c = canonical(type);
    if (c.kind === "array") this.fillArray(c, offset, cur, false, state, false, true);
    else if (c.kind === "record") this.fillRecord(type, c.decl, offset, cur, false, state, true);
    else {
      const d = item.designators[cur.level]!;
      this.error(
        d.loc,
        d.kind === "FieldDesignator"
          ? `field designator cannot initialize a non-struct, non-union type ${quoted(type)}`
          : `array designator cannot initialize non-array type ${quoted(type)}`,
      );
      cur.skipItem(this);
    }
  }

  private initMember(m: Member, offset: number, cur: InitCursor, state: InitState): void {
    if (m.bitWidth !== undefined) {
      this.initBitField(m.type, offset * 8 + m.bitOffset, m.bitWidth, cur, state);
      return;
    }
    this.initElement(m.type, offset + m.offset, cur, state);
  }

  // A bit-field takes the current item (a scalar, or a braced scalar).
  private initBitField(
    type: CType,
    bitOffset: number,
    bitWidth: number,
    cur: InitCursor,
    state: InitState,
  ): void {
    const value = cur.peek().value;
    cur.advance();
    const field = { type, bitOffset, bitWidth };
    if (value.kind === "InitList") {
      this.scalarFromList(type, Math.floor(bitOffset / 8), value, state, field);
      return;
    }
    this.bitFieldStore(field, value, state);
  }

  private bitFieldStore(
    field: { type: CType; bitOffset: number; bitWidth: number },
    value: A.Expr,
    state: InitState,
  ): void {
    this.rvalue(value);
    this.checkAssignment(field.type, value, "initializing", value.loc);
    if (state.isStatic) this.checkConstantInitializer(value);
    state.entries.push({
      offset: Math.floor(field.bitOffset / 8),
      type: field.type,
      expr: value,
      bitOffset: field.bitOffset,
      bitWidth: field.bitWidth,
    });
  }

  // Initializes one subobject from the cursor's current item, consuming it (and more items
  // when the subobject is an aggregate whose braces were elided). Any designators of the
  // item have already been followed (cur.level) to get here.
  private initElement(type: CType, offset: number, cur: InitCursor, state: InitState): void {
    const value = cur.peek().value;
    const c = canonical(type);
    if (value.kind === "InitList") {
      cur.advance();
      if (c.kind === "array" || c.kind === "record") {
        this.fillAggregate(type, offset, new InitCursor(value.items), true, state, false);
      } else {
        this.scalarFromList(type, offset, value, state);
      }
      return;
    }
    if (c.kind === "array" || c.kind === "record") {
      if (this.stringInitLength(type, value) !== undefined) {
        cur.advance();
        this.stringInit(type, offset, value as A.StringLiteral, state);
        return;
      }
      if (c.kind === "record") {
        const vc = canonical(decayedUnqualified(this.expr(value).type));
        if (vc.kind === "record" && vc.decl === c.decl) {
          cur.advance();
          this.rvalue(value);
          if (state.isStatic) this.checkConstantInitializer(value);
          state.entries.push({ offset, type, expr: value });
          return;
        }
      }
      // Brace elision: the aggregate takes as many items as it needs, starting with this one.
      this.fillAggregate(type, offset, cur, false, state, false);
      return;
    }
    cur.advance();
    this.initScalarOrRecord(type, offset, value, state, value.loc);
  }

  private initScalarOrRecord(
    type: CType,
    offset: number,
    value: A.Expr,
    state: InitState,
    loc: A.SourceLoc,
  ): void {
    this.rvalue(value);
    this.checkAssignment(unqualified(type), value, "initializing", loc);
    if (state.isStatic) this.checkConstantInitializer(value);
    state.entries.push({ offset, type, expr: value });
  }

  // `int x = { 1 }` (allowed), `{ { 1 } }` (clang warns), `{ 1, 2 }` (excess).
  private scalarFromList(
    type: CType,
    offset: number,
    list: A.InitList,
    state: InitState,
    bitField?: { type: CType; bitOffset: number; bitWidth: number },
  ): void {
    const items = list.items;
    if (items.length === 0) {
      // `= {}`: zero (a GNU extension in C17).
      return;
    }
    const first = items[0]!;
    for (let i = 1; i < items.length; i++) {
      if (i === 1)
        this.warning(
          items[i]!.loc,
          "excess elements in scalar initializer",
          "-Wexcess-initializers",
        );
      const v = items[i]!.value;
      if (v.kind !== "InitList") this.expr(v);
    }
    if (first.designators.length > 0) {
      this.error(
        first.designators[0]!.loc,
        `designator in initializer for scalar type ${quoted(type)}`,
      );
      return;
    }
    if (first.value.kind === "InitList") {
      this.warning(
        first.value.loc,
        "too many braces around scalar initializer",
        "-Wmany-braces-around-scalar-init",
      );
      this.scalarFromList(type, offset, first.value, state, bitField);
      return;
    }
    if (bitField) {
      this.bitFieldStore(bitField, first.value, state);
      return;
    }
    this.initScalarOrRecord(type, offset, first.value, state, first.value.loc);
  }

  // The length a string literal gives a char array it initializes, or undefined when `e`
  // is not a string initializing a char array.
  private stringInitLength(type: CType, e: A.Initializer): number | undefined {
    const c = canonical(type);
    if (c.kind !== "array" || e.kind !== "StringLiteral") return undefined;
    const elem = canonical(c.element);
    if (elem.kind !== "int") return undefined;
    const unit = e.prefix === "" || e.prefix === "u8" ? 1 : e.prefix === "u" ? 2 : 4;
    if (elem.size !== unit) return undefined;
    return e.bytes.length / unit + 1;
  }

  private stringInit(type: CType, offset: number, s: A.StringLiteral, state: InitState): void {
    this.expr(s);
    const c = canonical(type) as ArrayType;
    const unit = sizeOf(c.element);
    if (c.length !== undefined && s.bytes.length / unit > c.length) {
      this.warning(s.loc, "initializer-string for char array is too long", "-Wexcess-initializers");
    }
    state.entries.push({ offset, type, expr: s });
  }

  // Static storage needs constants: arithmetic constants and address constants.
  private checkConstantInitializer(e: A.Expr): void {
    const info = this.result.exprs.get(e);
    if (info === undefined || info === ERROR || info.type === errorType) return; // already diagnosed
    if (this.isConstantInitializer(e)) return;
    this.error(e.loc, "initializer element is not a compile-time constant");
  }

  private isConstantInitializer(e: A.Expr): boolean {
    const info = this.result.exprs.get(e);
    if (!info) return false;
    const t = info.converted ?? info.type;
    const c = canonical(t);
    if (c.kind === "int" || c.kind === "enum") {
      if (!isNotConstant(this.evaluator.evaluateScalar(e))) return true;
      // (long)&global is an address constant too when it keeps all 64 bits.
      if (e.kind === "CastExpr" && sizeOf(t) === 8) return this.isAddressConstant(e.operand);
      return false;
    }
    if (c.kind === "pointer" || c.kind === "array" || c.kind === "function")
      return this.isAddressConstant(e);
    if (c.kind === "record") return e.kind === "CompoundLiteral";
    return false;
  }

  // Addresses of static objects and functions, plus or minus constants, through casts.
  private isAddressConstant(e: A.Expr): boolean {
    switch (e.kind) {
      case "StringLiteral":
        return true;
      case "Identifier": {
        const d = this.result.exprs.get(e)?.decl;
        if (!d) return false;
        if (d.kind === "function") return true;
        if (d.kind === "var") {
          const c = canonical(d.type);
          return (
            (d.isFileScope || d.storage === "static" || d.storage === "extern") &&
            (c.kind === "array" || c.kind === "function")
          );
        }
        return false;
      }
      case "UnaryExpr":
        if (e.op === "&") return this.isStaticLvalue(e.operand);
        return false;
      case "CastExpr": {
        const t = canonical(this.result.exprs.get(e)?.type ?? errorType);
        if (t.kind === "int" && sizeOf(t) < 8) return false;
        return (
          this.isAddressConstant(e.operand) ||
          !isNotConstant(this.evaluator.evaluateScalar(e.operand))
        );
      }
      case "BinaryExpr":
        if (e.op !== "+" && e.op !== "-") return false;
        return (
          (this.isAddressConstant(e.left) && !isNotConstant(this.evaluator.evaluate(e.right))) ||
          (e.op === "+" &&
            this.isAddressConstant(e.right) &&
            !isNotConstant(this.evaluator.evaluate(e.left)))
        );
      case "ConditionalExpr": {
        const cond = this.evaluator.evaluateScalar(e.cond);
        if (isNotConstant(cond)) return false;
        const chosen = cond !== 0n ? (e.then ?? e.cond) : e.else;
        return this.isConstantInitializer(chosen);
      }
      case "CompoundLiteral":
        return this.fn === undefined;
      case "MemberExpr":
      case "IndexExpr":
        // An array member of a static object decays to a constant address.
        return this.isStaticLvalue(e);
      default:
        return !isNotConstant(this.evaluator.evaluateScalar(e));
    }
  }

  private isStaticLvalue(e: A.Expr): boolean {
    switch (e.kind) {
      case "Identifier": {
        const d = this.result.exprs.get(e)?.decl;
        return (
          d !== undefined &&
          (d.kind === "function" ||
            (d.kind === "var" &&
              (d.isFileScope || d.storage === "static" || d.storage === "extern")))
        );
      }
      case "StringLiteral":
        return true;
      case "CompoundLiteral":
        return this.fn === undefined;
      case "MemberExpr":
        return e.arrow ? this.isAddressConstant(e.object) : this.isStaticLvalue(e.object);
      case "IndexExpr": {
        const at = canonical(this.result.exprs.get(e.array)?.type ?? errorType);
        const base =
          at.kind === "array" ? this.isStaticLvalue(e.array) : this.isAddressConstant(e.array);
        return base && !isNotConstant(this.evaluator.evaluate(e.index));
      }
      case "UnaryExpr":
        return e.op === "*" && this.isAddressConstant(e.operand);
      default:
        return false;
    }
  }

  // -------------------------------------------------------------------------------------
  // Statements

  private compound(s: A.CompoundStmt, openScope: boolean): void {
    const outer = this.scope;
    if (openScope) this.scope = new Scope(outer, "block");
    try {
      for (const item of s.items) this.blockItem(item);
    } finally {
      this.scope = outer;
    }
  }

  private blockItem(item: A.BlockItem): void {
    switch (item.kind) {
      case "Declaration":
        this.declaration(item);
        return;
      case "StaticAssert":
        this.staticAssert(item);
        return;
      default:
        this.stmt(item);
    }
  }

  private stmt(s: A.Stmt): void {
    const fn = this.fn!;
    switch (s.kind) {
      case "CompoundStmt":
        this.compound(s, true);
        return;
      case "ExprStmt":
        if (s.expr) {
          this.expr(s.expr);
          this.checkUnused(s.expr);
        }
        return;
      case "IfStmt":
        this.condition(s.cond, s.loc);
        this.subStatement(s.then);
        if (s.else) this.subStatement(s.else);
        return;
      case "SwitchStmt":
        this.switchStmt(s);
        return;
      case "CaseStmt":
        this.caseStmt(s);
        return;
      case "DefaultStmt": {
        const sw = fn.switches[fn.switches.length - 1];
        if (!sw) this.error(s.loc, "'default' statement not in switch statement");
        else if (sw.defaultStmt) {
          this.error(s.loc, "multiple default labels in one switch", [
            this.noteAt(sw.defaultStmt.loc, "previous case defined here"),
          ]);
        } else {
          sw.defaultStmt = s;
          sw.cases.push(s);
        }
        this.subStatement(s.body);
        return;
      }
      case "WhileStmt":
        this.condition(s.cond, s.loc);
        this.loopBody(s.body);
        return;
      case "DoStmt":
        this.loopBody(s.body);
        this.condition(s.cond, s.loc);
        return;
      case "ForStmt": {
        const outer = this.scope;
        this.scope = new Scope(outer, "block");
        try {
          if (s.init) {
            if (s.init.kind === "Declaration") this.declaration(s.init);
            else {
              this.expr(s.init);
              this.checkUnused(s.init);
            }
          }
          if (s.cond) this.condition(s.cond, s.loc);
          if (s.step) {
            this.expr(s.step);
            this.checkUnused(s.step);
          }
          this.loopBody(s.body);
        } finally {
          this.scope = outer;
        }
        return;
      }
      case "GotoStmt":
        fn.gotos.push(s);
        return;
      case "LabeledStmt": {
        // clang declares the label after its statement, so in `a: a: ;` the inner one is first.
        this.subStatement(s.body);
        const prev = fn.labels.get(s.label);
        if (prev)
          this.error(s.loc, `redefinition of label '${s.label}'`, [
            this.noteAt(prev.loc, "previous definition is here"),
          ]);
        else fn.labels.set(s.label, s);
        return;
      }
      case "BreakStmt":
        if (fn.loopDepth === 0 && fn.switches.length === 0)
          this.error(s.loc, "'break' statement not in loop or switch statement");
        return;
      case "ContinueStmt":
        if (fn.loopDepth === 0) this.error(s.loc, "'continue' statement not in loop statement");
        return;
      case "ReturnStmt":
        this.returnStmt(s);
        return;
      case "AsmStmt":
        for (const o of [...s.outputs, ...s.inputs]) this.expr(o.expr);
        return;
    }
  }

  private subStatement(s: A.Stmt): void {
    // A sub-statement is its own block scope in C99 (a declaration is not a statement, so
    // only compound statements introduce names).
    this.stmt(s);
  }

  private loopBody(s: A.Stmt): void {
    const fn = this.fn!;
    // Loops inside a switch: break leaves the loop; continue is fine.
    const switches = fn.switches.splice(0);
    fn.loopDepth++;
    try {
      this.subStatement(s);
    } finally {
      fn.loopDepth--;
      fn.switches.push(...switches);
    }
  }

  private condition(e: A.Expr, stmtLoc: A.SourceLoc): void {
    const t = this.rvalue(e);
    if (t !== errorType && !isScalar(t)) {
      this.error(stmtLoc, `statement requires expression of scalar type (${quoted(t)} invalid)`);
      return;
    }
    this.checkPointerToBool(e);
  }

  private switchStmt(s: A.SwitchStmt): void {
    const fn = this.fn!;
    const t = this.rvalue(s.cond);
    let type: CType = intType;
    if (t !== errorType) {
      if (!isInteger(t))
        this.error(s.loc, `statement requires expression of integer type (${quoted(t)} invalid)`);
      else {
        type = promote(t, this.bitWidthOf(s.cond));
        this.convert(s.cond, type);
      }
    }
    const ctx: SwitchContext = {
      stmt: s,
      type,
      ranges: [],
      cases: [],
      seen: new Map(),
      defaultStmt: undefined,
    };
    fn.switches.push(ctx);
    const loops = fn.loopDepth;
    try {
      this.subStatement(s.body);
    } finally {
      fn.switches.pop();
      fn.loopDepth = loops;
    }
    this.result.switches.set(s, ctx.cases);
    const ce = canonical(t);
    if (ce.kind === "enum" && ce.decl.complete) this.checkEnumSwitch(s, ce.decl, ctx);
  }

  // -Wswitch: case values outside the enum, and enumerators no case handles (without default).
  private checkEnumSwitch(s: A.SwitchStmt, decl: EnumDecl, ctx: SwitchContext): void {
    const values = decl.constants.map((c) => convertValue(c.value, ctx.type));
    for (const r of ctx.ranges) {
      if (r.low === r.high && !values.includes(r.low)) {
        this.warning(
          r.value.loc,
          `case value not in enumerated type ${quoted(decl.type)}`,
          "-Wswitch",
        );
      }
    }
    if (ctx.defaultStmt) return;
    const missing: string[] = [];
    const seen = new Set<string>();
    decl.constants.forEach((c, i) => {
      const v = values[i]!;
      if (seen.has(c.name) || ctx.ranges.some((r) => v >= r.low && v <= r.high)) return;
      seen.add(c.name);
      missing.push(`'${c.name}'`);
    });
    if (missing.length === 0) return;
    const n = missing.length;
    const text =
      n === 1
        ? `enumeration value ${missing[0]} not handled in switch`
        : n === 2
          ? `enumeration values ${missing[0]} and ${missing[1]} not handled in switch`
          : n === 3
            ? `enumeration values ${missing[0]}, ${missing[1]}, and ${missing[2]} not handled in switch`
            : `${n} enumeration values not handled in switch: ${missing.slice(0, 3).join(", ")}...`;
    this.warning(s.cond.loc, text, "-Wswitch");
  }

  private caseStmt(s: A.CaseStmt): void {
    const fn = this.fn!;
    const sw = fn.switches[fn.switches.length - 1];
    const info = this.constantExpr(s.value);
    if (s.rangeEnd) this.constantExpr(s.rangeEnd);
    if (!sw) {
      this.error(s.loc, "'case' statement not in switch statement");
      this.subStatement(s.body);
      return;
    }
    if (info.type !== errorType) {
      if (!isInteger(info.type)) {
        this.error(s.value.loc, "expression is not an integer constant expression");
      } else {
        const v = this.evaluator.evaluate(s.value);
        if (isNotConstant(v)) this.notIntegerConstant(s.value, v);
        else {
          const value = convertValue(v, sw.type);
          const prev = sw.seen.get(value);
          if (prev) {
            this.error(s.value.loc, `duplicate case value '${value}'`, [
              this.noteAt(prev.loc, "previous case defined here"),
            ]);
          } else sw.seen.set(value, s.value);
          this.result.caseValues.set(s, value);
          info.value = value;
          let high = value;
          if (s.rangeEnd) {
            const end = this.evaluator.evaluate(s.rangeEnd);
            if (isNotConstant(end)) this.notIntegerConstant(s.rangeEnd, end);
            else {
              high = convertValue(end, sw.type);
              this.result.caseRangeEnds.set(s, high);
            }
          }
          sw.ranges.push({ value: s.value, low: value, high });
        }
      }
    }
    sw.cases.push(s);
    this.subStatement(s.body);
  }

  private returnStmt(s: A.ReturnStmt): void {
    const fn = this.fn!;
    const ret = fn.returnType;
    const isVoid = canonical(ret).kind === "void";
    if (s.value === null) {
      if (!isVoid)
        this.error(
          s.loc,
          `non-void function '${fn.decl.name}' should return a value`,
          [],
          "-Wreturn-type",
        );
      return;
    }
    const vt = this.rvalue(s.value);
    if (isVoid) {
      if (canonical(vt).kind !== "void")
        this.error(
          s.loc,
          `void function '${fn.decl.name}' should not return a value`,
          [],
          "-Wreturn-type",
        );
      return;
    }
    if (vt === errorType) return;
    this.checkAssignment(unqualified(ret), s.value, "returning", s.value.loc);
  }

  // -------------------------------------------------------------------------------------
  // -Wreturn-type: can control reach the closing brace of a non-void function? A walk of
  // the statements tracking reachability as clang's CFG does for the common shapes:
  // constant conditions prune branches, loops without a way out never end, labels and
  // case labels are entry points, calls to noreturn functions end a path.

  private reachableReturn = false;

  private checkFallOff(def: A.FunctionDef, ret: CType): void {
    // An invalid return type was reported already.
    if (canonical(ret).kind === "void" || ret === errorType || !isComplete(ret)) return;
    this.reachableReturn = false;
    if (!this.flow(def.body, true, [])) return;
    const message = this.reachableReturn
      ? "non-void function does not return a value in all control paths"
      : "non-void function does not return a value";
    this.warning(def.body.endLoc, message, "-Wreturn-type");
  }

  // Whether control can leave `s` at its end. `switchReachable` holds, for the enclosing
  // switches (innermost last), whether the switch itself is reachable.
  private flow(s: A.BlockItem, reach: boolean, switchReachable: boolean[]): boolean {
    switch (s.kind) {
      case "Declaration":
      case "StaticAssert":
        return reach;
      case "ExprStmt":
        return reach && !(s.expr !== null && this.isNoreturnCall(s.expr));
      case "CompoundStmt": {
        let r = reach;
        for (const item of s.items) r = this.flow(item, r, switchReachable);
        return r;
      }
      case "LabeledStmt":
        return this.flow(s.body, true, switchReachable);
      case "CaseStmt":
      case "DefaultStmt":
        return this.flow(
          s.body,
          reach || (switchReachable[switchReachable.length - 1] ?? false),
          switchReachable,
        );
      case "IfStmt": {
        const c = this.constantCondition(s.cond);
        const t = this.flow(s.then, reach && c !== false, switchReachable);
        const e = s.else
          ? this.flow(s.else, reach && c !== true, switchReachable)
          : reach && c !== true;
        return t || e;
      }
      case "WhileStmt": {
        const c = this.constantCondition(s.cond);
        this.flow(s.body, reach && c !== false, switchReachable);
        return reach && (c !== true || breaksOut(s.body));
      }
      case "DoStmt": {
        const bodyEnd = this.flow(s.body, reach, switchReachable);
        const c = this.constantCondition(s.cond);
        if (c === true) return breaksOut(s.body);
        return bodyEnd || breaksOut(s.body) || continuesIn(s.body);
      }
      case "ForStmt": {
        const c = s.cond === null ? true : this.constantCondition(s.cond);
        this.flow(s.body, reach && c !== false, switchReachable);
        return reach && (c !== true || breaksOut(s.body));
      }
      case "SwitchStmt": {
        const bodyEnd = this.flow(s.body, false, [...switchReachable, reach]);
        const hasDefault = (this.result.switches.get(s) ?? []).some(
          (c) => c.kind === "DefaultStmt",
        );
        return reach && (!hasDefault || bodyEnd || breaksOut(s.body));
      }
      case "ReturnStmt":
        if (reach) this.reachableReturn = true;
        return false;
      case "GotoStmt":
      case "BreakStmt":
      case "ContinueStmt":
        return false;
      case "AsmStmt":
        return reach;
    }
  }

  // true/false for a condition that is an integer constant, undefined otherwise.
  private constantCondition(e: A.Expr): boolean | undefined {
    if (!this.looksConstant(e)) return undefined;
    const v = this.evaluator.evaluateScalar(e);
    return isNotConstant(v) ? undefined : v !== 0n;
  }

  private isNoreturnCall(e: A.Expr): boolean {
    if (e.kind === "CastExpr") return this.isNoreturnCall(e.operand);
    if (e.kind !== "CallExpr") return false;
    const d = this.result.exprs.get(e.callee)?.decl;
    return d?.kind === "function" && d.noreturn;
  }

  // -Wunused-value / -Wunused-comparison for expression statements without effect.
  private checkUnused(e: A.Expr, message = "expression result unused"): void {
    const info = this.result.exprs.get(e);
    if (info === undefined || info === ERROR || info.type === errorType) return;
    // Expressions a macro wrote are not the programmer's statement: clang stays quiet.
    if (
      e.loc.expansion !== undefined ||
      (e.kind === "BinaryExpr" && e.opLoc.expansion !== undefined)
    )
      return;
    switch (e.kind) {
      case "BinaryExpr":
        if (e.op === "==" || e.op === "!=") {
          this.warning(e.opLoc, "equality comparison result unused", "-Wunused-comparison", [
            this.noteAt(
              e.opLoc,
              `use '${e.op === "==" ? "=" : "|="}' to turn this ${e.op === "==" ? "equality comparison into an assignment" : "inequality comparison into an or-assignment"}`,
            ),
          ]);
          return;
        }
        if (e.op === "<" || e.op === ">" || e.op === "<=" || e.op === ">=") {
          this.warning(e.opLoc, "relational comparison result unused", "-Wunused-comparison");
          return;
        }
        if (e.op === "&&" || e.op === "||") return;
        this.deferredWarning(e.opLoc, message, "-Wunused-value");
        return;
      case "Identifier":
      case "IntegerLiteral":
      case "CharLiteral":
      case "StringLiteral":
      case "SizeofExpr":
      case "AlignofExpr":
        this.deferredWarning(e.loc, message, "-Wunused-value");
        return;
      case "MemberExpr":
        this.deferredWarning(e.memberLoc, message, "-Wunused-value");
        return;
      case "UnaryExpr":
        if (e.op === "*") {
          const info = this.result.exprs.get(e);
          if (info && (qualsOf(info.type) & Q_VOLATILE) !== 0) return;
        }
        this.deferredWarning(e.loc, message, "-Wunused-value");
        return;
      case "CommaExpr":
        this.checkUnused(e.right, message);
        return;
      default:
        return;
    }
  }

  // -------------------------------------------------------------------------------------
  // Builtins

  private builtinFunction(name: string): FunctionDecl | undefined {
    const known = this.builtins.get(name);
    if (known) return known;
    const type = builtinSignature(name);
    if (!type) return undefined;
    const f: FunctionDecl = {
      kind: "function",
      name,
      type,
      loc: this.unit.loc,
      storage: "extern",
      inline: false,
      noreturn: name === "__builtin_unreachable" || name === "__builtin_trap",
      definition: undefined,
      params: [],
      locals: [],
      attributes: [],
      section: undefined,
      builtin: true,
    };
    this.builtins.set(name, f);
    return f;
  }

  // Builtins whose type depends on their arguments; undefined means "check as a call".
  private builtinCall(e: A.CallExpr, f: FunctionDecl): ExprInfo | undefined {
    const args = e.args;
    const want = (n: number): boolean => {
      if (args.length === n) return true;
      const msg = args.length < n ? "too few" : "too many";
      this.error(
        args.length < n ? closingParenLoc(e) : args[n]!.loc,
        `${msg} arguments to function call, expected ${n}, have ${args.length}`,
      );
      for (const a of args) this.expr(a);
      return false;
    };
    switch (f.name) {
      case "__builtin_constant_p": {
        if (!want(1)) return ERROR;
        this.expr(args[0]!);
        const v = this.evaluator.evaluateScalar(args[0]!);
        return { type: intType, lvalue: false, value: isNotConstant(v) ? 0n : 1n };
      }
      case "__builtin_preserve_access_index": {
        if (!want(1)) return ERROR;
        const info = this.expr(args[0]!);
        return { type: decayedUnqualified(info.type), lvalue: false };
      }
      case "__builtin_preserve_field_info":
      case "__builtin_preserve_type_info":
      case "__builtin_preserve_enum_value":
      case "__builtin_btf_type_id": {
        if (!want(2)) return ERROR;
        const argInfo = this.expr(args[0]!);
        const kind = args[1]!;
        this.rvalue(kind);
        const v = this.evaluator.evaluate(kind);
        // clang checks the flag first, then the shape of the first argument.
        if (isNotConstant(v)) this.error(kind.loc, `${f.name} argument 2 not a constant`);
        else if (!this.validCoreArgument(f.name, args[0]!, argInfo)) {
          const what =
            f.name === "__builtin_preserve_field_info" ? "not a field access" : "invalid";
          this.error(args[0]!.loc, `${f.name} argument 1 ${what}`);
        }
        const type =
          f.name === "__builtin_preserve_enum_value"
            ? longType
            : f.name === "__builtin_btf_type_id"
              ? ulongType
              : uintType;
        return { type, lvalue: false };
      }
      case "__builtin_choose_expr": {
        if (!want(3)) return ERROR;
        this.expr(args[0]!);
        const v = this.evaluator.evaluate(args[0]!);
        if (isNotConstant(v)) {
          this.notIntegerConstant(args[0]!, v);
          return ERROR;
        }
        const chosen = v !== 0n ? args[1]! : args[2]!;
        const other = v !== 0n ? args[2]! : args[1]!;
        this.quietly(() => this.expr(other));
        const info = this.expr(chosen);
        return { type: info.type, lvalue: info.lvalue, value: info.value, selected: chosen };
      }
      case "__builtin_expect_with_probability":
        return undefined;
    }
    if (f.name.startsWith("__sync_") || f.name.startsWith("__atomic_"))
      return this.atomicBuiltin(e, f.name);
    return undefined;
  }

  // The first argument of the CO-RE builtins, as clang's Sema accepts it:
  //   __builtin_preserve_field_info(s->field or a[N], kind)   a member access or an index
  //   __builtin_preserve_type_info(*(T *)0 or var, kind)       T a typedef or a named record/enum
  //   __builtin_preserve_enum_value(*(enum E *)ENUMERATOR, kind)
  //   __builtin_btf_type_id(anything, kind)
  private validCoreArgument(name: string, arg: A.Expr, info: ExprInfo): boolean {
    switch (name) {
      case "__builtin_preserve_field_info":
        return arg.kind === "MemberExpr" || arg.kind === "IndexExpr";
      case "__builtin_preserve_type_info": {
        if (arg.kind !== "Identifier" && arg.kind !== "UnaryExpr") return false;
        if (info.type.kind === "typedef") return true;
        const c = canonical(info.type);
        if (c.kind === "record" || c.kind === "enum") return c.decl.tag !== undefined;
        return false;
      }
      case "__builtin_preserve_enum_value": {
        if (arg.kind !== "UnaryExpr" || arg.op !== "*") return false;
        const cast = arg.operand;
        if (cast.kind !== "CastExpr" || cast.operand.kind !== "Identifier") return false;
        const d = this.result.exprs.get(cast.operand)?.decl;
        const c = canonical(info.type);
        if (d?.kind !== "enumConst" || c.kind !== "enum") return false;
        return d.enumDecl === c.decl;
      }
      default:
        return true;
    }
  }

  // __sync_fetch_and_add(p, v), __atomic_fetch_add(p, v, order)...: typed by *p.
  private atomicBuiltin(e: A.CallExpr, name: string): ExprInfo {
    const args = e.args;
    for (const a of args) this.rvalue(a);
    const p = args[0];
    const pc = p ? canonical(this.expr(p).converted ?? this.expr(p).type) : undefined;
    if (!p || !pc || pc.kind !== "pointer") {
      this.error(
        p?.loc ?? e.loc,
        `address argument to atomic builtin must be a pointer (${quoted(p ? this.expr(p).type : errorType)} invalid)`,
      );
      return ERROR;
    }
    const target = unqualified(pc.pointee);
    if (!isInteger(target) && canonical(target).kind !== "pointer") {
      this.error(
        p.loc,
        `address argument to atomic builtin must be a pointer to integer or pointer (${quoted(pc)} invalid)`,
      );
      return ERROR;
    }
    for (let i = 1; i < args.length; i++) {
      const a = args[i]!;
      if (isArithmetic(this.expr(a).converted ?? this.expr(a).type)) this.convert(a, target);
    }
    if (name.includes("compare_and_swap") && name.startsWith("__sync_bool"))
      return { type: boolType, lvalue: false };
    if (name === "__atomic_compare_exchange_n" || name === "__atomic_compare_exchange")
      return { type: boolType, lvalue: false };
    if (
      name === "__atomic_store_n" ||
      name === "__atomic_store" ||
      name === "__sync_synchronize" ||
      name === "__sync_lock_release"
    ) {
      return { type: voidType, lvalue: false };
    }
    return { type: target, lvalue: false };
  }

  // Type-checks every expression inside an initializer that is not placed anywhere.
  typeInitializer(init: A.Initializer): void {
    if (init.kind === "InitList") for (const item of init.items) this.typeInitializer(item.value);
    else this.expr(init);
  }
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the parts of Sema.

// The types an integer literal may have, in order (C11 6.4.4.1), indexed by
// unsigned * 6 + longness * 2 + (radix is not decimal).
const literalCandidates: readonly (readonly IntegerType[])[] = [
  [intType, longType, longlongType],
  [intType, uintType, longType, ulongType, longlongType, ulonglongType],
  [longType, longlongType],
  [longType, ulongType, longlongType, ulonglongType],
  [longlongType],
  [longlongType, ulonglongType],
  [uintType, ulongType, ulonglongType],
  [uintType, ulongType, ulonglongType],
  [ulongType, ulonglongType],
  [ulongType, ulonglongType],
  [ulonglongType],
  [ulonglongType],
];

// Precedence levels for re-parenthesizing printed expressions (higher binds tighter).
const PREC_ASSIGN = 2;
const PREC_COND = 3;
const PREC_UNARY = 14;
const PREC_POSTFIX = 15;
const binaryPrecedence: Record<A.BinaryOp, number> = {
  "||": 4,
  "&&": 5,
  "|": 6,
  "^": 7,
  "&": 8,
  "==": 9,
  "!=": 9,
  "<": 10,
  ">": 10,
  "<=": 10,
  ">=": 10,
  "<<": 11,
  ">>": 11,
  "+": 12,
  "-": 12,
  "*": 13,
  "/": 13,
  "%": 13,
};

function precedenceOf(e: A.Expr): number {
  switch (e.kind) {
    case "CommaExpr":
      return 1;
    case "AssignExpr":
      return PREC_ASSIGN;
    case "ConditionalExpr":
      return PREC_COND;
    case "BinaryExpr":
      return binaryPrecedence[e.op];
    case "UnaryExpr":
    case "CastExpr":
    case "SizeofExpr":
    case "AlignofExpr":
      return PREC_UNARY;
    case "UpdateExpr":
      return e.prefix ? PREC_UNARY : PREC_POSTFIX;
    default:
      return 16;
  }
}

// clang prints integer literals in decimal with the suffix their type needs.
function literalSuffix(t: CType | undefined): string {
  const c = t && canonical(t);
  if (!c || c.kind !== "int") return "";
  switch (c.name) {
    case "unsigned int":
      return "U";
    case "long":
      return "L";
    case "unsigned long":
      return "UL";
    case "long long":
      return "LL";
    case "unsigned long long":
      return "ULL";
    default:
      return "";
  }
}

// Where a diagnostic points: the outermost macro use for a token from an expansion.
function diagLocOf(at: SourcePos): DiagLoc {
  const token = at as Partial<A.SourceLoc>;
  if (token.expansion !== undefined) return diagnosticLoc(at as A.SourceLoc);
  return { file: at.file, line: at.line, col: at.col };
}

function macroNotes(at: SourcePos): Diagnostic[] {
  const token = at as Partial<A.SourceLoc>;
  if (token.expansion === undefined) return [];
  return expansionChain(at as A.SourceLoc).map((n) =>
    note(n.loc, `expanded from macro '${n.macro}'`),
  );
}

// A token as a SourcePos: the token itself (a macro-expanded one is mapped to its use site
// only when printed, so the hot path never touches the token).
function posOf(t: A.SourceLoc): SourcePos {
  return t;
}

// What the records being defined have declared so far: their fields, and their member names
// (and where they were declared) for "duplicate member". A record's are on top of these stacks
// while it is being defined (a member's type may define another record: its entries go on top
// and leave when it ends).
interface MemberStack {
  names: string[];
  locs: SourcePos[];
  nameTop: number;
  fields: LayoutField[];
  fieldTop: number;
}

// Looks a record's names up one by one (records have a few members) until it has so many that
// a map is cheaper.
const MEMBER_SCAN_LIMIT = 16;

// One record definition's fields and member names (see MemberStack).
class RecordMembers {
  private readonly namesFrom: number;
  private readonly fieldsFrom: number;
  private index: Map<string, SourcePos> | undefined = undefined;

  constructor(private readonly stack: MemberStack) {
    this.namesFrom = stack.nameTop;
    this.fieldsFrom = stack.fieldTop;
  }

  /** Where the record declared a member of this name, if it did. */
  declaredAt(name: string): SourcePos | undefined {
    if (this.index !== undefined) return this.index.get(name);
    const { names, nameTop } = this.stack;
    for (let i = this.namesFrom; i < nameTop; i++) if (names[i] === name) return this.stack.locs[i];
    return undefined;
  }

  declare(name: string, loc: SourcePos): void {
    if (this.index !== undefined) {
      this.index.set(name, loc);
      return;
    }
    const s = this.stack;
    if (s.nameTop - this.namesFrom < MEMBER_SCAN_LIMIT) {
      s.names[s.nameTop] = name;
      s.locs[s.nameTop] = loc;
      s.nameTop++;
      return;
    }
    this.index = new Map();
    for (let i = this.namesFrom; i < s.nameTop; i++) this.index.set(s.names[i]!, s.locs[i]!);
    this.index.set(name, loc);
  }

  addField(f: LayoutField): void {
    this.stack.fields[this.stack.fieldTop++] = f;
  }

  /** The definition is over: its entries leave the stacks; its fields, in an array of their number. */
  end(): LayoutField[] {
    const s = this.stack;
    const fields = s.fields.slice(this.fieldsFrom, s.fieldTop);
    s.fieldTop = this.fieldsFrom;
    s.nameTop = this.namesFrom;
    return fields;
  }
}

// The names in btf_type_tag("...") attributes, in source order; undefined if none.
function btfTypeTags(attrs: readonly A.Attribute[]): string[] | undefined {
  let tags: string[] | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    if (a.name === "btf_type_tag" && a.args?.[0]?.kind === "StringLiteral")
      (tags ??= []).push(a.args[0].value);
  }
  return tags;
}

// The names in btf_decl_tag("...") attributes; undefined if none.
function btfDeclTags(attrs: readonly A.Attribute[]): string[] | undefined {
  let tags: string[] | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    if (a.name === "btf_decl_tag" && a.args?.[0]?.kind === "StringLiteral")
      (tags ??= []).push(a.args[0].value);
  }
  return tags;
}

// Attribute lists of a declaration's specifiers and declarator, joined without copying
// when one is empty (the usual case).
function joinAttributes(a: A.Attribute[], b: A.Attribute[]): A.Attribute[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  return [...a, ...b];
}

function quoted(t: CType): string {
  return describeType(t);
}

// Two types in one message: clang gives the "aka" only once for the same spelling.
function quotedPair(a: CType, b: CType): string {
  const first = describeType(a);
  const second = typeToString(a) === typeToString(b) ? `'${typeToString(b)}'` : describeType(b);
  return `${first} and ${second}`;
}

function storageOf(spec: A.DeclSpec): StorageClass {
  const s = spec.storage;
  return s === "extern" || s === "static" || s === "auto" || s === "register" ? s : undefined;
}

function hasAttribute(attrs: readonly A.Attribute[], name: string): boolean {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.name === name) return true;
  return false;
}

function sectionAttribute(attrs: readonly A.Attribute[]): string | undefined {
  for (const a of attrs) {
    if (a.name === "section" && a.args && a.args[0]?.kind === "StringLiteral")
      return a.args[0].value;
  }
  return undefined;
}

// The `#pragma pack(N)` cap the parser recorded on the record (0: none).
function packMaxAlign(rs: A.RecordSpec): number {
  return (rs as { maxFieldAlign?: number }).maxFieldAlign ?? 0;
}

function tagKeyword(t: Tag): string {
  return t instanceof EnumDecl ? "enum" : t.isUnion ? "union" : "struct";
}

function isVoidType(t: CType): boolean {
  return canonical(t).kind === "void";
}

function isFloating(t: CType): boolean {
  const c = canonical(t);
  if (c.kind === "float") return true;
  if (c.kind === "array") return isFloating(c.element);
  return false;
}

function qualsOfArrayParam(dr: A.Declarator): number {
  const d = dr.derivations[0];
  if (!d || d.kind !== "Array") return 0;
  let q = 0;
  if (d.qualifiers.const) q |= Q_CONST;
  if (d.qualifiers.volatile) q |= Q_VOLATILE;
  if (d.qualifiers.restrict) q |= Q_RESTRICT;
  return q;
}

// C11 allows repeating a typedef with the same type.
function sameTypedefTarget(a: CType, b: CType): boolean {
  return compatible(a, b) && qualsOf(a) === qualsOf(b);
}

function basicType(name: A.BasicTypeName): CType {
  switch (name) {
    case "void":
      return voidType;
    case "_Bool":
      return boolType;
    case "char":
      return charType;
    case "signed char":
      return scharType;
    case "unsigned char":
      return ucharType;
    case "short":
      return shortType;
    case "unsigned short":
      return ushortType;
    case "int":
      return intType;
    case "unsigned int":
      return uintType;
    case "long":
      return longType;
    case "unsigned long":
      return ulongType;
    case "long long":
      return longlongType;
    case "unsigned long long":
      return ulonglongType;
    case "__int128":
      return int128Type;
    case "unsigned __int128":
      return uint128Type;
    case "float":
      return floatType;
    case "double":
      return doubleType;
    case "long double":
      return longDoubleType;
  }
}

// clang's predeclared typedef names (on BPF, va_list is a plain pointer).
const builtinTypedefs = new Map<string, TypedefDecl>([
  ["__builtin_va_list", new TypedefDecl("__builtin_va_list", pointerTo(charType), 0, undefined)],
  ["__int128_t", new TypedefDecl("__int128_t", int128Type, 0, undefined)],
  ["__uint128_t", new TypedefDecl("__uint128_t", uint128Type, 0, undefined)],
]);

function builtinTypedef(name: string): CType | undefined {
  return builtinTypedefs.get(name)?.type;
}

// Would the fixed expression's type `from` do for `to`, as clang judges a fix-it: the same
// type, `to` at least as qualified, looking through one level of pointers.
function fixFits(from: CType, to: CType): boolean {
  let f = canonical(from);
  let t = canonical(to);
  if ((qualsOf(f) & ~qualsOf(t)) !== 0) return false;
  if (f.kind === "pointer" && t.kind === "pointer") {
    f = canonical(f.pointee);
    t = canonical(t.pointee);
    if ((qualsOf(f) & ~qualsOf(t)) !== 0) return false;
  }
  const x = unqualified(f);
  const y = unqualified(t);
  // An enum is not its underlying integer type here.
  return x.kind === y.kind && compatible(x, y);
}

// Pointer types equal but for qualifiers below the first level (`int **` vs `const int **`).
function compatibleIgnoringNestedQualifiers(a: CType, b: CType): boolean {
  const x = canonical(a);
  const y = canonical(b);
  if (x.kind === "pointer" && y.kind === "pointer") {
    return compatibleIgnoringNestedQualifiers(
      unqualified(canonical(x.pointee)),
      unqualified(canonical(y.pointee)),
    );
  }
  return compatible(unqualified(x), unqualified(y));
}

// `!x`, comparisons and logical operators: int-typed but 0 or 1 (clang's "boolean expression").
function isBooleanExpression(e: A.Expr): boolean {
  if (e.kind === "UnaryExpr") return e.op === "!";
  if (e.kind !== "BinaryExpr") return false;
  switch (e.op) {
    case "<":
    case ">":
    case "<=":
    case ">=":
    case "==":
    case "!=":
    case "&&":
    case "||":
      return true;
    default:
      return false;
  }
}

function mirrored(op: A.BinaryOp): A.BinaryOp {
  return op === "<" ? ">" : op === ">" ? "<" : op === "<=" ? ">=" : op === ">=" ? "<=" : op;
}

// A `break` that leaves this loop or switch body (not one of an inner loop or switch).
function breaksOut(s: A.Stmt): boolean {
  return findJump(s, "BreakStmt");
}

// A `continue` of this loop body (not of an inner loop).
function continuesIn(s: A.Stmt): boolean {
  return findJump(s, "ContinueStmt");
}

function findJump(s: A.Stmt, kind: "BreakStmt" | "ContinueStmt"): boolean {
  switch (s.kind) {
    case "BreakStmt":
    case "ContinueStmt":
      return s.kind === kind;
    case "CompoundStmt":
      return s.items.some(
        (i) => i.kind !== "Declaration" && i.kind !== "StaticAssert" && findJump(i, kind),
      );
    case "IfStmt":
      return findJump(s.then, kind) || (s.else !== null && findJump(s.else, kind));
    case "LabeledStmt":
    case "CaseStmt":
    case "DefaultStmt":
      return findJump(s.body, kind);
    case "SwitchStmt":
      // A break inside an inner switch leaves that switch; a continue still reaches us.
      return kind === "ContinueStmt" && findJump(s.body, kind);
    default:
      return false; // inner loops own their breaks and continues
  }
}

// ---------------------------------------------------------------------------------------
// Initializer walking state.

interface InitState {
  readonly entries: InitEntry[];
  readonly isStatic: boolean;
  // Highest array index initialized at the top level (sizes `int a[] = {...}`).
  maxIndex: number;
}

// The items of one brace-enclosed list, consumed in order by the aggregate being filled.
class InitCursor {
  private pos = 0;
  // How many of the current item's designators were already followed.
  level = 0;

  constructor(private readonly items: readonly A.InitItem[]) {}

  done(): boolean {
    return this.pos >= this.items.length;
  }

  peek(): A.InitItem {
    return this.items[this.pos]!;
  }

  advance(): void {
    this.pos++;
    this.level = 0;
  }

  // Skips an item that cannot be placed, still type-checking what it contains.
  skipItem(typer: { typeInitializer(init: A.Initializer): void }): void {
    typer.typeInitializer(this.peek().value);
    this.advance();
  }

  skipRest(typer: { typeInitializer(init: A.Initializer): void }): void {
    while (!this.done()) this.skipItem(typer);
  }
}

// ---------------------------------------------------------------------------------------
// Type helpers for expressions.

// Array-to-pointer and function-to-pointer conversion (C11 6.3.2.1).
function decayed(t: CType): CType {
  const c = canonical(t);
  if (c.kind === "array") return pointerTo(c.element);
  if (c.kind === "function") return pointerTo(t);
  return t;
}

function decayedUnqualified(t: CType): CType {
  const d = decayed(t);
  return d.quals === 0 ? d : unqualified(d);
}

function sameUnqualified(a: CType, b: CType): boolean {
  return a === b || unqualified(a) === unqualified(b);
}

function recordHasConstMember(decl: RecordDecl): boolean {
  for (const m of decl.members ?? []) {
    if ((qualsOf(m.type) & Q_CONST) !== 0) return true;
    const c = canonical(m.type);
    if (c.kind === "record" && recordHasConstMember(c.decl)) return true;
  }
  return false;
}

type AssignContext = "assigning" | "initializing" | "passing" | "returning";

// "<kind> initializing 'T' with an expression of type 'U'" and its siblings.
function phrase(context: AssignContext, to: CType, from: CType, kind: string): string {
  return `${kind} ${contextText(context, to, from)}`;
}

// "initializing 'T' with an expression of type 'U' <suffix>".
function phraseSuffix(context: AssignContext, to: CType, from: CType, suffix: string): string {
  return `${contextText(context, to, from)} ${suffix}`;
}

function contextText(context: AssignContext, to: CType, from: CType): string {
  switch (context) {
    case "initializing":
      return `initializing ${quoted(to)} with an expression of type ${quoted(from)}`;
    case "assigning":
      return `assigning to ${quoted(to)} from ${quoted(from)}`;
    case "passing":
      return `passing ${quoted(from)} to parameter of type ${quoted(to)}`;
    case "returning":
      return `returning ${quoted(from)} from a function with result type ${quoted(to)}`;
  }
}

function incompatiblePhrase(context: AssignContext, to: CType, from: CType): string {
  switch (context) {
    case "initializing":
      return `initializing ${quoted(to)} with an expression of incompatible type ${quoted(from)}`;
    case "assigning":
      return `assigning to ${quoted(to)} from incompatible type ${quoted(from)}`;
    case "passing":
      return `passing ${quoted(from)} to parameter of incompatible type ${quoted(to)}`;
    case "returning":
      return `returning ${quoted(from)} from a function with incompatible result type ${quoted(to)}`;
  }
}

// A value fits in `bits` when read as signed or as unsigned (clang stays quiet then).
function fitsInWidth(v: bigint, bits: number): boolean {
  return v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits);
}

function charLiteralType(prefix: A.CharLiteral["prefix"]): CType {
  switch (prefix) {
    case "u":
      return ushortType;
    case "U":
      return uintType;
    default:
      return intType; // plain and L (wchar_t is int on this target); u8 is char in C2x only
  }
}

function stringLiteralType(s: A.StringLiteral): CType {
  switch (s.prefix) {
    case "L":
      return arrayOf(intType, s.bytes.length / 4 + 1);
    case "u":
      return arrayOf(ushortType, s.bytes.length / 2 + 1);
    case "U":
      return arrayOf(uintType, s.bytes.length / 4 + 1);
    default:
      return arrayOf(charType, s.bytes.length + 1);
  }
}

function isIntegerArray(t: ArrayType): boolean {
  return canonical(t.element).kind === "int";
}

function isCharArray(t: ArrayType): boolean {
  const e = canonical(t.element);
  return e.kind === "int" && e.size === 1;
}

// --- locations clang points at that the AST records only indirectly

type MaybeLocs = {
  opLoc?: A.SourceLoc;
  lbracketLoc?: A.SourceLoc;
  lparenLoc?: A.SourceLoc;
  rparenLoc?: A.SourceLoc;
};

// A location `delta` columns away from a token (same line), keeping its macro expansion;
// the copy remembers the token it came from (its place in the token stream).
function shifted(t: A.SourceLoc, delta: number): A.SourceLoc {
  const copy = { ...t, col: t.col + delta };
  shiftedFrom.set(copy, shiftedFrom.get(t) ?? t);
  return copy;
}

const shiftedFrom = new WeakMap<SourcePos, SourcePos>();

// The `.` or `->` of a member access.
function operatorLoc(e: A.MemberExpr): A.SourceLoc {
  const given = (e as unknown as MaybeLocs).opLoc;
  if (given) return given;
  return shifted(e.memberLoc, e.arrow ? -2 : -1);
}

// The `[` of a subscript.
function bracketLoc(e: A.IndexExpr): A.SourceLoc {
  const given = (e as unknown as MaybeLocs).lbracketLoc;
  if (given) return given;
  return e.array.kind === "Identifier" ? shifted(e.array.loc, e.array.name.length) : e.loc;
}

// The `(` of a call.
function calleeEndLoc(e: A.CallExpr): A.SourceLoc {
  const given = (e as unknown as MaybeLocs).lparenLoc;
  if (given) return given;
  return e.callee.kind === "Identifier" ? shifted(e.callee.loc, e.callee.name.length) : e.loc;
}

// The `)` of a call: given by the parser, else estimated from a one-token last argument
// (or the callee when there are none), assuming no blank before the parenthesis.
function closingParenLoc(e: A.CallExpr): A.SourceLoc {
  const given = (e as unknown as MaybeLocs).rparenLoc;
  if (given) return given;
  const last = e.args[e.args.length - 1];
  if (last === undefined) return shifted(calleeEndLoc(e), 1);
  if (last.kind === "Identifier" || last.kind === "IntegerLiteral" || last.kind === "CharLiteral") {
    return shifted(last.loc, last.loc.image.length);
  }
  return e.loc;
}

// The operator of `x++` / `x--` (prefix ones start the expression).
function updateOperatorLoc(e: A.UpdateExpr): A.SourceLoc {
  const given = (e as unknown as MaybeLocs).opLoc;
  if (given) return given;
  if (e.prefix) return e.loc;
  return e.operand.kind === "Identifier" ? shifted(e.operand.loc, e.operand.name.length) : e.loc;
}

// The `?` of a conditional, estimated one blank after the condition's last token.
function questionLoc(e: A.ConditionalExpr): A.SourceLoc {
  const given = (e as unknown as { questionLoc?: A.SourceLoc }).questionLoc;
  if (given) return given;
  const end = endOf(e.cond);
  return end ? shifted(end.token, end.delta + 1) : e.loc;
}

// Just past an expression's last token, when the AST tells where that is (no parentheses
// are recorded, so a parenthesized ending is missed).
function endOf(e: A.Expr): { token: A.SourceLoc; delta: number } | undefined {
  switch (e.kind) {
    case "Identifier":
    case "IntegerLiteral":
    case "CharLiteral":
    case "FloatLiteral":
    case "StringLiteral":
      return e.loc.line === e.loc.line ? { token: e.loc, delta: e.loc.image.length } : undefined;
    case "UnaryExpr":
    case "CastExpr":
      return endOf(e.operand);
    case "BinaryExpr":
      return endOf(e.right);
    case "MemberExpr":
      return { token: e.memberLoc, delta: e.member.length };
    case "UpdateExpr":
      if (e.prefix) return endOf(e.operand);
      {
        const end = endOf(e.operand);
        return end && { token: end.token, delta: end.delta + 2 };
      }
    default:
      return undefined;
  }
}

// The label name of `goto name`, estimated one blank after the keyword.
function gotoLabelLoc(g: A.GotoStmt): A.SourceLoc {
  const given = (g as unknown as { labelLoc?: A.SourceLoc }).labelLoc;
  if (given) return given;
  return shifted(g.loc, g.loc.image.length + 1);
}

// The `_Alignas` keyword of an alignment specifier: the AST keeps only its argument, so
// this assumes `_Alignas(` is written without blanks.
function alignasKeywordLoc(spec: A.DeclSpec, arg: A.Expr): A.SourceLoc {
  if (spec.loc.image === "_Alignas" && spec.loc.line === arg.loc.line) return spec.loc;
  return shifted(arg.loc, -"_Alignas(".length);
}

// The name in `.name` of a designator.
function designatorNameLoc(d: A.FieldDesignator): A.SourceLoc {
  return d.loc.image === "." ? shifted(d.loc, 1) : d.loc;
}

// ---------------------------------------------------------------------------------------
// Builtin functions clang declares implicitly (those BPF programs and headers use).

const voidPtr = pointerTo(voidType);
const constVoidPtr = pointerTo(withQuals(voidType, Q_CONST));
const constCharPtr = pointerTo(withQuals(charType, Q_CONST));

function sig(ret: CType, params: CType[], variadic = false): FunctionType {
  return functionType(
    ret,
    params.map((type) => ({ name: undefined, type })),
    variadic,
  );
}

// Builtins checked by builtinCall, whatever their arguments: a placeholder signature.
const anyArgs = sig(intType, [], true);

const builtinSignatures = new Map<string, FunctionType>([
  ["__builtin_memcpy", sig(voidPtr, [voidPtr, constVoidPtr, ulongType])],
  ["__builtin_memmove", sig(voidPtr, [voidPtr, constVoidPtr, ulongType])],
  ["__builtin_memset", sig(voidPtr, [voidPtr, intType, ulongType])],
  ["__builtin_memcmp", sig(intType, [constVoidPtr, constVoidPtr, ulongType])],
  ["__builtin_strlen", sig(ulongType, [constCharPtr])],
  ["__builtin_strcmp", sig(intType, [constCharPtr, constCharPtr])],
  ["__builtin_strncmp", sig(intType, [constCharPtr, constCharPtr, ulongType])],
  ["__builtin_expect", sig(longType, [longType, longType])],
  ["__builtin_bswap16", sig(ushortType, [ushortType])],
  ["__builtin_bswap32", sig(uintType, [uintType])],
  ["__builtin_bswap64", sig(ulonglongType, [ulonglongType])],
  ["__builtin_unreachable", sig(voidType, [])],
  ["__builtin_trap", sig(voidType, [])],
  ["__builtin_assume", sig(voidType, [intType])],
  ["__builtin_clz", sig(intType, [uintType])],
  ["__builtin_clzl", sig(intType, [ulongType])],
  ["__builtin_clzll", sig(intType, [ulonglongType])],
  ["__builtin_ctz", sig(intType, [uintType])],
  ["__builtin_ctzl", sig(intType, [ulongType])],
  ["__builtin_ctzll", sig(intType, [ulonglongType])],
  ["__builtin_popcount", sig(intType, [uintType])],
  ["__builtin_popcountl", sig(intType, [ulongType])],
  ["__builtin_popcountll", sig(intType, [ulonglongType])],
  ["__builtin_ffs", sig(intType, [intType])],
  ["__builtin_ffsl", sig(intType, [longType])],
  ["__builtin_ffsll", sig(intType, [longlongType])],
  ["__builtin_frame_address", sig(voidPtr, [uintType])],
  ["__builtin_return_address", sig(voidPtr, [uintType])],
  ["__builtin_object_size", sig(ulongType, [constVoidPtr, intType])],
  ["__builtin_constant_p", anyArgs],
  ["__builtin_choose_expr", anyArgs],
  ["__builtin_preserve_access_index", anyArgs],
  ["__builtin_preserve_field_info", anyArgs],
  ["__builtin_preserve_type_info", anyArgs],
  ["__builtin_preserve_enum_value", anyArgs],
  ["__builtin_btf_type_id", anyArgs],
]);

const atomicBuiltins = [
  "__sync_fetch_and_add",
  "__sync_fetch_and_sub",
  "__sync_fetch_and_or",
  "__sync_fetch_and_and",
  "__sync_fetch_and_xor",
  "__sync_fetch_and_nand",
  "__sync_add_and_fetch",
  "__sync_sub_and_fetch",
  "__sync_or_and_fetch",
  "__sync_and_and_fetch",
  "__sync_xor_and_fetch",
  "__sync_lock_test_and_set",
  "__sync_lock_release",
  "__sync_val_compare_and_swap",
  "__sync_bool_compare_and_swap",
  "__atomic_fetch_add",
  "__atomic_fetch_sub",
  "__atomic_fetch_or",
  "__atomic_fetch_and",
  "__atomic_fetch_xor",
  "__atomic_add_fetch",
  "__atomic_sub_fetch",
  "__atomic_or_fetch",
  "__atomic_and_fetch",
  "__atomic_xor_fetch",
  "__atomic_load_n",
  "__atomic_store_n",
  "__atomic_exchange_n",
  "__atomic_compare_exchange_n",
];
for (const name of atomicBuiltins) builtinSignatures.set(name, anyArgs);

function builtinSignature(name: string): FunctionType | undefined {
  return builtinSignatures.get(name);
}

// ---------------------------------------------------------------------------------------
// Constant values after analysis (for the back end's global data and for tests).

// The value of an integer (or address-as-number) constant expression that sema typed,
// converted to the expression's type; undefined if it is not constant.
export function constantValue(result: SemaResult, e: A.Expr): bigint | undefined {
  let evaluator = evaluators.get(result);
  if (evaluator === undefined) {
    evaluator = new ConstEvaluator(resultHost(result));
    evaluators.set(result, evaluator);
  }
  const v = evaluator.evaluateScalar(e);
  return isNotConstant(v) ? undefined : v;
}

const evaluators = new WeakMap<SemaResult, ConstEvaluator>();

function resultHost(result: SemaResult): ConstEvalHost {
  return {
    typeOf: (x) => result.exprs.get(x)?.type,
    enumConstant: (x) => {
      const d = result.exprs.get(x)?.decl;
      return d?.kind === "enumConst" ? d.value : undefined;
    },
    typeNameType: (t) => result.typeNames.get(t),
    memberOf: (x) => result.exprs.get(x)?.member,
    selectedOf: (x) => result.exprs.get(x)?.selected,
    warn: () => {},
  };
}
