// The foundation of the C parser (parse-decl.ts, parse-expr.ts, parse-stmt.ts build the grammar
// on it): the Chevrotain parser configuration, the typedef-name classification of identifier
// tokens, the per-parse state (scopes, pragmas, problems) and small helpers shared by the rules.
//
// Typedef names: an Identifier token is re-typed to TypedefName when the scope in effect declares
// it as a typedef. The classification happens lazily, when the parser looks at the token (LA),
// and is cached per token until a declaration or a closing scope changes what some name means
// (TypedefScopes.generation). TypedefName is in the Identifier category, so every place that
// wants a name (declarator, member, tag, label) accepts both, while the places where only a type
// may start (declaration specifiers, casts, sizeof) match TypedefName alone.
import {
  createToken,
  EmbeddedActionsParser,
  EOF,
  Lexer,
  type IToken,
  type TokenType,
} from "./chevrotain.js";
import * as T from "./lexer.js";
import type { CToken } from "./lexer.js";
import {
  BUILTIN_TYPEDEFS,
  noQualifiers,
  type Attribute,
  type DeclSpec,
  type Declarator,
  type Expr,
  type IntegerLiteral,
  type LoopPragma,
  type TypeName,
  type TypeQualifiers,
  type TypeSpecifier,
} from "./ast.js";
import { LazyLookahead } from "./parse-lookahead.js";
import { scanPragmas, type PragmaScan } from "./parse-pragmas.js";
import { TypedefScopes } from "./parse-scope.js";
import {
  addBasicKeyword,
  BasicKeyword,
  BasicSpecifiers,
  resolveBasicKeywords,
  type SpecifierProblem,
} from "./parse-specifiers.js";
import { nameKind, skimRecordBody } from "./parse-skim.js";

/** An identifier that names a typedef in the scope where it appears (never produced by the lexer). */
export const TypedefName = createToken({
  name: "TypedefName",
  pattern: Lexer.NA,
  categories: [T.Identifier],
});
nameKind(TypedefName);

export const parserVocabulary: TokenType[] = [...T.allTokens, TypedefName];

export const IDENTIFIER_IDX = T.Identifier.tokenTypeIdx!;
export const STRUCT_IDX = T.Struct.tokenTypeIdx!;
export const UNION_IDX = T.Union.tokenTypeIdx!;
export const ENUM_IDX = T.Enum.tokenTypeIdx!;
export const TYPEDEF_IDX = TypedefName.tokenTypeIdx!;
const LPAREN_IDX = T.LParen.tokenTypeIdx!;
const LBRACKET_IDX = T.LBracket.tokenTypeIdx!;
export const LBRACE_IDX = T.LBrace.tokenTypeIdx!;
const RPAREN_IDX = T.RParen.tokenTypeIdx!;
const RBRACKET_IDX = T.RBracket.tokenTypeIdx!;
const RBRACE_IDX = T.RBrace.tokenTypeIdx!;

/** Where a declaration-specifier list or declaration appears: decides messages and what is allowed. */
export const DeclContext = {
  File: 0,
  Block: 1,
  For: 2,
  Member: 3,
  Param: 4,
  TypeName: 5,
} as const;
export type DeclContext = (typeof DeclContext)[keyof typeof DeclContext];

/** A diagnostic found while parsing, before it is turned into a clang-style Diagnostic. */
export interface ParseProblem {
  severity: "error" | "warning";
  message: string;
  /** The token the diagnostic is about. */
  token: CToken;
  /** Point just past the token (clang's place for a missing ';') instead of at it. */
  afterToken: boolean;
  /** An error that stopped the parse (printed "fatal error"). */
  fatal?: boolean;
  flag?: string;
  notes: { token: CToken; message: string }[];
  /** Position in the token array, to order problems from different sources. */
  order: number;
  /** Characters into the token (clang points at the bad digit of a number). */
  colOffset?: number;
}

/** The parser's cursor, which Chevrotain keeps as internal fields of the lexer adapter. */
interface TokenCursor {
  currIdx: number;
  tokVector: IToken[];
}

const MAX_LOOKAHEAD = 2;

/** The `#pragma clang attribute` attributes and `#pragma pack` value in effect. */
export interface PragmaState {
  readonly attributes: Attribute[];
  readonly pack: number;
}
const NO_PRAGMA_STATE: PragmaState = { attributes: [], pack: 0 };
const NO_POSITIONS: readonly number[] = [];

/**
 * The parser's state between two external declarations, for the front end's prefix cache
 * (frontend.ts): a parse of the same tokens before `count` followed by others goes on from here.
 */
export interface ParseSnapshot {
  /** Preprocessed tokens (Pragma tokens included) before the snapshot. */
  readonly count: number;
  /** The same place among the tokens the parser reads (Pragma tokens taken out). */
  readonly index: number;
  readonly decls: readonly unknown[];
  readonly scopes: TypedefScopes;
  readonly eventCursor: number;
  readonly attributeGroups: readonly Attribute[][];
  readonly pack: number;
  readonly pragmaState: PragmaState;
  readonly takenLoopPragmas: ReadonlySet<number>;
  /** The pragma scan of the tokens before `count`, which a resumed parse goes on from. */
  readonly pragmaScan: PragmaScan;
}

/** Where a parse takes a snapshot, or the snapshot it starts from. */
export interface SnapshotOptions {
  /** Take a snapshot when the parse reaches this many preprocessed tokens (at file scope). */
  snapshotAt?: number;
  onSnapshot?: (snapshot: ParseSnapshot) => void;
  /** Another snapshot, at a later count. */
  next?: { snapshotAt: number; onSnapshot: (snapshot: ParseSnapshot) => void };
  resume?: ParseSnapshot;
  /** Where the Pragma tokens are in the token array, ascending (found by a scan if not given). */
  pragmas?: readonly number[];
  /**
   * Read past the record bodies parse-skim.ts accepts, to be parsed when first asked for
   * (default true; false parses every body at once).
   */
  deferBodies?: boolean;
}

/** A record body read past (parse-skim.ts): where its tokens are and what was in effect there. */
export interface DeferredTokens {
  /** Tokens holding the body's, braces included. */
  readonly tokens: readonly CToken[];
  /** Indexes of its '{' and '}' in them. */
  readonly open: number;
  readonly close: number;
  /** The identifiers the skim read as typedef names: their places after the '{' (0: the first). */
  readonly typedefs: readonly number[];
  readonly pragma: PragmaState;
}

/**
 * A snapshot's pragma scan, owning its token array: without pragmas, a scan of all the tokens
 * is the parsed array itself, which a resumed compile's is, and a later one cuts and refills.
 */
function keptScan(scan: PragmaScan, given: CToken[]): PragmaScan {
  return scan.tokens === given ? { ...scan, tokens: given.slice() } : scan;
}

/** Stops the parse after clang's default error limit. */
export class TooManyErrors extends Error {}

/** clang's -fbracket-depth default: more nested (, [ and { than this stop the parse. */
export const BRACKET_DEPTH = 256;

/** Stops the parse at the bracket nested past BRACKET_DEPTH (clang: a fatal error). */
export class BracketDepthExceeded extends Error {
  constructor(readonly token: CToken) {
    super("bracket nesting level exceeded");
  }
}

/** No bracket is nested too deep (see ParserBase.tooDeepAt). */
const NOT_TOO_DEEP = 0x7fffffff;

/** The index of the first bracket nested past BRACKET_DEPTH from `from` on, else NOT_TOO_DEEP. */
function bracketPastDepth(tokens: readonly CToken[], from: number): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const type = tokens[i]!.tokenTypeIdx;
    if (type === LPAREN_IDX || type === LBRACKET_IDX || type === LBRACE_IDX) {
      if (++depth > BRACKET_DEPTH) return i;
    } else if (type === RPAREN_IDX || type === RBRACKET_IDX || type === RBRACE_IDX) {
      if (depth > 0) depth--;
    }
  }
  return NOT_TOO_DEEP;
}

export const ERROR_LIMIT = 20;

// Token types that can begin a declaration (an unknown type name, `foo x;`, is decided apart).
const DECLARATION_START_TYPES: TokenType[] = [
  T.Typedef,
  T.Extern,
  T.Static,
  T.Auto,
  T.Register,
  T.ThreadLocal,
  T.Const,
  T.Volatile,
  T.Restrict,
  T.Atomic,
  T.Inline,
  T.Noreturn,
  T.Void,
  T.Char,
  T.Short,
  T.Int,
  T.Long,
  T.Float,
  T.Double,
  T.Signed,
  T.Unsigned,
  T.Bool,
  T.Int128,
  T.Complex,
  T.Struct,
  T.Union,
  T.Enum,
  T.BuiltinVaList,
  T.AutoType,
  T.Typeof,
  T.Alignas,
  T.Attribute,
  TypedefName,
];

function tokenTypeSet(types: TokenType[]): boolean[] {
  const set: boolean[] = [];
  for (const t of types) set[t.tokenTypeIdx!] = true;
  return set;
}

export const declarationStart = tokenTypeSet(DECLARATION_START_TYPES);
/** Basic type keywords: after a struct/union/enum body one of these means the ';' is missing. */
export const basicTypeKeyword = tokenTypeSet([
  T.Void,
  T.Char,
  T.Short,
  T.Int,
  T.Long,
  T.Float,
  T.Double,
  T.Signed,
  T.Unsigned,
  T.Bool,
  T.Int128,
  T.Struct,
  T.Union,
  T.Enum,
  T.Typedef,
  T.StaticAssert,
]);

// The tree is read-only once built: lists without items and TypeQualifiers with none set are
// shared frozen objects (an AST of vmlinux.h has some hundred thousand of each; the garbage
// collector copies every live object it has, so fewer objects is a faster parse).
const EMPTY_LIST: readonly never[] = Object.freeze([]);
export const NO_QUALIFIERS: TypeQualifiers = Object.freeze(noQualifiers());

/** `items` as stored in a node: the shared empty list, a one-item literal, or the list itself. */
export function exact<X>(items: X[]): X[] {
  if (items.length === 0) return EMPTY_LIST as unknown as X[];
  if (items.length === 1) return [items[0]!];
  return items;
}

/** `a` then `b` without changing either (either may be a shared empty list). */
export function joined<X>(a: X[], b: readonly X[]): X[] {
  if (b.length === 0) return a;
  if (a.length === 0) return exact([...b]);
  return [...a, ...b];
}

/** A node's fields, writable while the parser completes it. */
export type Building<N> = { -readonly [K in keyof N]: N[K] };

/** A declaration-specifier list being gathered (see DeclParser.declarationSpecifiers). */
export class SpecState {
  readonly node: DeclSpec;
  /** The basic type keywords, once one is seen (most specifier lists have none). */
  basic: BasicSpecifiers<CToken> | null = null;
  other: TypeSpecifier | null = null;
  otherToken: CToken | undefined = undefined;

  constructor(
    loc: CToken,
    readonly context: DeclContext = DeclContext.File,
  ) {
    this.node = {
      kind: "DeclSpec",
      loc,
      storage: null,
      threadLocal: false,
      qualifiers: NO_QUALIFIERS,
      typeSpec: null,
      inline: false,
      noreturn: false,
      alignas: EMPTY_LIST as unknown as (Expr | TypeName)[],
      attributes: EMPTY_LIST as unknown as Attribute[],
    };
  }

  hasType(): boolean {
    return this.other !== null || (this.basic !== null && this.basic.any());
  }

  /** The specifier already seen, as clang names it in "cannot combine with previous ...". */
  previousName(): string {
    const o = this.other;
    if (o === null) return "";
    switch (o.kind) {
      case "Record":
        return o.tagKind;
      case "Enum":
        return "enum";
      case "TypedefName":
        return "type-name";
      case "Typeof":
        return "typeof";
      case "AtomicType":
        return "_Atomic";
      case "BasicType":
        return o.name;
    }
  }
}

export abstract class ParserBase extends EmbeddedActionsParser {
  protected scopes = new TypedefScopes([]);
  /**
   * Per token from `classBase` on: the TypedefScopes generation its type was decided in (a
   * resumed parse never looks at the tokens before its snapshot, so it has no room for them).
   */
  private classGen = new Int32Array(0);
  private classBase = 0;
  /** The lent prefix token array of a resumed parse and its length (see ScanRange.from). */
  private lent: { tokens: CToken[]; length: number } | undefined = undefined;
  /** Tokens given the type TypedefName, to give back their lexer type after the parse. */
  private retyped: IToken[] = [];
  protected problems: ParseProblem[] = [];
  protected pragmas: PragmaScan = {
    tokens: [],
    loopPragmas: new Map(),
    events: [],
    problems: [],
    pack: 0,
    packStack: [],
  };
  /** The tokens the parse was given (Pragma tokens included) and where their pragmas are. */
  private given: { tokens: CToken[]; pragmas: readonly number[] | undefined } = {
    tokens: [],
    pragmas: undefined,
  };
  private eventCursor = 0;
  private attributeGroups: Attribute[][] = [];
  /** What pragmaStateAt returns until the next pragma event (read only by its callers). */
  private pragmaState: PragmaState = NO_PRAGMA_STATE;
  private pack = 0;
  protected takenLoopPragmas = new Set<number>();
  /** The specifier list being parsed (nested lists save and restore it). */
  protected spec: SpecState | undefined = undefined;
  /** Attributes read before a block item, for the declaration that follows. */
  protected pendingAttributes: Attribute[] = [];
  /** Inside __attribute__((...)) arguments, where a typedef name is just a name. */
  protected attributeArgDepth = 0;
  protected firstToken: CToken | undefined = undefined;
  protected errorCount = 0;
  /** Where the snapshot asked for is taken (index among the parsed tokens; -1: none). */
  private snapshotIndex = -1;
  private snapshotOptions: SnapshotOptions = {};
  /** Whether bodies may be read past (SnapshotOptions.deferBodies). */
  private deferBodies = true;
  /** Record bodies being parsed around the parser: one inside another is never read past. */
  protected recordNesting = 0;
  /**
   * A deferred body's parse: 1 for the places of the identifiers the skim read as typedef
   * names (see DeferredTokens.typedefs); undefined in other parses.
   */
  private deferredTypedefs: Uint8Array | undefined = undefined;
  /** The typedef names of the body the skim last read past (see DeferredTokens.typedefs). */
  private readonly skimTypedefs: number[] = [];
  /** Between begin (or beginDeferred) and end. */
  private inParse = false;
  /** The index of the bracket nested past BRACKET_DEPTH: the parse stops on looking at it. */
  private tooDeepAt = NOT_TOO_DEEP;
  private problemsAtBegin = 0;

  constructor(validate: boolean) {
    super(parserVocabulary, {
      recoveryEnabled: true,
      maxLookahead: MAX_LOOKAHEAD,
      lookaheadStrategy: new LazyLookahead(MAX_LOOKAHEAD),
      skipValidations: !validate,
      errorMessageProvider: messageProvider,
    });
  }

  /** Prepares a parse of `tokens` (Pragma tokens are taken out here). */
  protected begin(
    tokens: CToken[],
    typedefs: Iterable<string>,
    snapshot: SnapshotOptions = {},
  ): void {
    const resume = snapshot.resume;
    // A resumed parse reads the pragmas after the snapshot only, behind the prefix's tokens.
    this.lent =
      resume !== undefined
        ? { tokens: resume.pragmaScan.tokens, length: resume.pragmaScan.tokens.length }
        : undefined;
    this.pragmas = scanPragmas(
      tokens,
      snapshot.pragmas,
      resume !== undefined ? { from: { count: resume.count, prefix: resume.pragmaScan } } : {},
    );
    this.startParse(
      { tokens, pragmas: snapshot.pragmas },
      resume !== undefined ? resume.index : 0,
      NO_PRAGMA_STATE,
    );
    this.scopes = new TypedefScopes([...BUILTIN_TYPEDEFS, ...typedefs]);
    this.firstToken = this.pragmas.tokens[0] ?? tokens[0];
    this.input = this.pragmas.tokens;
    for (const p of this.pragmas.problems) this.warnAt(p.token, p.message, "-Wignored-pragmas");
    this.problemsAtBegin = this.problems.length;
    this.snapshotOptions = snapshot;
    this.tooDeepAt = bracketPastDepth(this.pragmas.tokens, this.classBase);
    this.deferBodies = snapshot.deferBodies ?? true;
    this.recordNesting = 0;
    this.deferredTypedefs = undefined;
    if (snapshot.snapshotAt !== undefined && snapshot.onSnapshot !== undefined) {
      this.aimSnapshot(snapshot.snapshotAt);
    }
    if (resume !== undefined) {
      // Layered over the snapshot's scopes (never changed), not a copy of them.
      this.scopes = new TypedefScopes([], resume.scopes);
      this.eventCursor = resume.eventCursor;
      this.attributeGroups = resume.attributeGroups.slice();
      this.pack = resume.pack;
      this.pragmaState = resume.pragmaState;
      this.takenLoopPragmas = new Set(resume.takenLoopPragmas);
      (this as unknown as TokenCursor).currIdx = resume.index - 1;
    }
  }

  /**
   * The state every parse starts from (begin's and beginDeferred's), once this.pragmas holds the
   * tokens to parse: their classification from `classBase` on, the pragma state, no problems.
   */
  private startParse(
    given: { tokens: CToken[]; pragmas: readonly number[] | undefined },
    classBase: number,
    pragmaState: PragmaState,
  ): void {
    this.inParse = true;
    this.given = given;
    this.classBase = classBase;
    this.classGen = new Int32Array(this.pragmas.tokens.length - classBase + 8);
    this.problems = [];
    this.eventCursor = 0;
    this.attributeGroups = [];
    this.pragmaState = pragmaState;
    this.pack = pragmaState.pack;
    this.takenLoopPragmas = new Set();
    this.spec = undefined;
    this.pendingAttributes = [];
    this.attributeArgDepth = 0;
    this.errorCount = 0;
    this.snapshotIndex = -1;
  }

  /**
   * Called between external declarations: takes the snapshot asked for when the parse is exactly
   * at its place, with nothing reported so far.
   */
  protected maybeSnapshot(decls: readonly unknown[]): void {
    const next = this.position() + 1;
    if (next < this.snapshotIndex) return;
    const index = this.snapshotIndex;
    this.snapshotIndex = -1;
    const options = this.snapshotOptions;
    if (options.next !== undefined) {
      // The next one is aimed at now, whether or not this one is taken.
      this.snapshotOptions = { ...options.next };
      this.aimSnapshot(options.next.snapshotAt);
    }
    const clean =
      next === index &&
      this.problems.length === this.problemsAtBegin &&
      this.errors.length === 0 &&
      this.errorCount === 0 &&
      this.scopes.depth === 0 &&
      this.pendingAttributes.length === 0 &&
      this.spec === undefined;
    if (!clean) return;
    options.onSnapshot!({
      count: options.snapshotAt!,
      index,
      decls: decls.slice(),
      scopes: this.scopes.clone(),
      eventCursor: this.eventCursor,
      attributeGroups: this.attributeGroups.slice(),
      pack: this.pack,
      pragmaState: this.pragmaState,
      takenLoopPragmas: new Set(this.takenLoopPragmas),
      pragmaScan: keptScan(
        scanPragmas(this.given.tokens, this.given.pragmas, { end: options.snapshotAt! }),
        this.given.tokens,
      ),
    });
    if (this.snapshotIndex === next) this.maybeSnapshot(decls); // the next is here too
  }

  /** Where (among the tokens the parser reads) the snapshot of `count` tokens is taken. */
  private aimSnapshot(count: number): void {
    const tokens = this.given.tokens;
    let pragmas = 0;
    for (let i = 0; i < count; i++) if (tokens[i]!.tokenType === T.Pragma) pragmas++;
    this.snapshotIndex = count - pragmas;
  }

  /** Whether a snapshot is still to be taken (see maybeSnapshot). */
  protected get snapshotPending(): boolean {
    return this.snapshotIndex >= 0;
  }

  /** Gives identifier tokens their lexer type back (the token array belongs to the caller). */
  protected end(): void {
    for (const t of this.retyped) {
      if (t.tokenTypeIdx === TYPEDEF_IDX) {
        t.tokenType = T.Identifier;
        t.tokenTypeIdx = IDENTIFIER_IDX;
      }
    }
    this.retyped = [];
    this.given = { tokens: [], pragmas: undefined };
    this.inParse = false;
    this.deferredTypedefs = undefined;
  }

  /** Gives a resumed parse's lent token array back as it was (after the parse's last use). */
  protected giveBackTokens(): void {
    if (this.lent !== undefined) this.lent.tokens.length = this.lent.length;
    this.lent = undefined;
  }

  /**
   * Chevrotain pads the token array with EOF tokens here so that its LA_FAST needs no bounds
   * check; LA_FAST below has one, so the array (often hundreds of thousands of tokens) is not
   * grown, which copied it.
   */
  protected onBeforeParse(): void {}

  // ---- token classification ----

  protected override LA_FAST(howMuch: number): IToken {
    const cursor = this as unknown as TokenCursor;
    const pos = cursor.currIdx + howMuch;
    const tok = cursor.tokVector[pos];
    // Only while Chevrotain records the grammar is there no token here.
    if (tok === undefined) return super.LA(howMuch);
    if (pos === this.tooDeepAt) throw new BracketDepthExceeded(tok as CToken);
    const type = tok.tokenTypeIdx;
    if (
      (type === IDENTIFIER_IDX || type === TYPEDEF_IDX) &&
      this.classGen[pos - this.classBase] !== this.scopes.generation
    ) {
      this.classify(tok, pos);
    }
    return tok;
  }

  protected override LA(howMuch: number): IToken {
    const tok = super.LA(howMuch);
    const type = tok.tokenTypeIdx;
    if (howMuch > 0 && (type === IDENTIFIER_IDX || type === TYPEDEF_IDX)) {
      const pos = (this as unknown as TokenCursor).currIdx + howMuch;
      if (this.classGen[pos - this.classBase] !== this.scopes.generation) this.classify(tok, pos);
    } else if (
      howMuch > 0 &&
      (this as unknown as TokenCursor).currIdx + howMuch === this.tooDeepAt
    ) {
      throw new BracketDepthExceeded(tok as CToken);
    }
    return tok;
  }

  private classify(tok: IToken, pos: number): void {
    // A tag (after struct, union or enum) is a name either way: no need to look it up (a
    // vmlinux.h has some 40,000).
    const before = (this as unknown as TokenCursor).tokVector[pos - 1]?.tokenTypeIdx;
    const isTag = before === STRUCT_IDX || before === UNION_IDX || before === ENUM_IDX;
    const deferred = this.deferredTypedefs;
    if (deferred !== undefined ? deferred[pos] === 1 : !isTag && this.scopes.isTypedef(tok.image)) {
      if (tok.tokenTypeIdx !== TYPEDEF_IDX) {
        tok.tokenType = TypedefName;
        tok.tokenTypeIdx = TYPEDEF_IDX;
        this.retyped.push(tok);
      }
    } else {
      tok.tokenType = T.Identifier;
      tok.tokenTypeIdx = IDENTIFIER_IDX;
    }
    this.classGen[pos - this.classBase] = this.scopes.generation;
  }

  /**
   * With the '{' of a record body just read: the index of its '}' when the body can be read past
   * (parse-skim.ts): at file scope, not inside another body, with no pragma taking effect inside
   * it. Else -1.
   */
  protected deferrableBody(): number {
    if (!this.deferBodies || this.recordNesting !== 0 || this.scopes.depth !== 0) return -1;
    const cursor = this as unknown as TokenCursor;
    this.skimTypedefs.length = 0;
    const close = skimRecordBody(
      cursor.tokVector,
      cursor.currIdx,
      this.isTypedefHere,
      this.skimTypedefs,
    );
    // A body holding the bracket nested too deep is parsed, to stop there.
    if (close < 0 || close >= this.tooDeepAt) return -1;
    const events = this.pragmas.events;
    if (this.eventCursor < events.length && events[this.eventCursor]!.index <= close) return -1;
    return close;
  }

  private readonly isTypedefHere = (name: string): boolean => this.scopes.isTypedef(name);

  /**
   * Where a deferred body's tokens are (see deferrableBody), and the parse goes on after it. A
   * resumed parse's token array is the prefix cache's, which the next compile going on from the
   * same state writes over past the prefix: such a body gets a copy of its tokens. Any other
   * parse's array is kept as it is, for as long as a body needs it.
   */
  protected deferredTokens(
    close: number,
  ): Pick<DeferredTokens, "tokens" | "open" | "close" | "typedefs"> {
    const cursor = this as unknown as TokenCursor;
    const open = cursor.currIdx;
    cursor.currIdx = close;
    const found = this.skimTypedefs;
    const typedefs = found.length === 0 ? NO_POSITIONS : found.slice();
    const tokens = cursor.tokVector as CToken[];
    if (this.lent === undefined) return { tokens, open, close, typedefs };
    return { tokens: tokens.slice(open, close + 1), open: 0, close: close - open, typedefs };
  }

  /**
   * Prepares the parse of a deferred body's members: its tokens after the '{' through the '}',
   * with the pragma state of its place and its identifiers read as the skim read them.
   */
  protected beginDeferred(d: DeferredTokens): void {
    // Sema asks for a body, after the parse: never during one, which this would wreck.
    if (this.inParse) throw new Error("internal error: a deferred record body read during a parse");
    const tokens = d.tokens.slice(d.open + 1, d.close + 1);
    this.lent = undefined;
    this.pragmas = {
      tokens,
      loopPragmas: new Map(),
      events: [],
      problems: [],
      pack: 0,
      packStack: [],
    };
    this.startParse({ tokens, pragmas: undefined }, 0, d.pragma);
    this.scopes = new TypedefScopes(BUILTIN_TYPEDEFS);
    this.firstToken = tokens[0];
    this.snapshotOptions = {};
    this.deferBodies = false;
    this.tooDeepAt = NOT_TOO_DEEP;
    this.recordNesting = 1;
    this.deferredTypedefs = new Uint8Array(tokens.length + 1);
    for (const at of d.typedefs) this.deferredTypedefs[at] = 1;
    this.input = tokens;
    this.problemsAtBegin = 0;
  }

  /** Whether the parse begun so far reported nothing. */
  protected reportedNothing(): boolean {
    return this.problems.length === 0 && this.errors.length === 0 && this.errorCount === 0;
  }

  /** Index of the last consumed token. */
  protected position(): number {
    return (this as unknown as TokenCursor).currIdx;
  }

  /** Skips one token (error recovery done by hand, the way clang's SkipUntil does). */
  protected skipToken(): void {
    (this as unknown as TokenCursor).currIdx++;
  }

  /**
   * clang's SkipUntil(r_brace, StopAtSemi | StopBeforeMatch): skips balanced tokens until a ';'
   * or a '}' at this level (not consumed), or the end.
   */
  protected skipToSemicolonOrBrace(): void {
    let depth = 0;
    for (;;) {
      const t = this.LA(1).tokenType;
      if (t === EOF) return;
      if (depth === 0 && (t === T.Semicolon || t === T.RBrace)) return;
      if (t === T.LParen || t === T.LBracket || t === T.LBrace) depth++;
      else if (t === T.RParen || t === T.RBracket || t === T.RBrace) {
        // An unbalanced ')' or ']' closes nothing the statement opened: skipped, as clang does.
        if (depth > 0) depth--;
      }
      this.skipToken();
    }
  }

  /** The innermost unclosed `open` token before the next token (for "to match this '('" notes). */
  protected unclosed(open: TokenType, close: TokenType): CToken | undefined {
    const cursor = this as unknown as TokenCursor;
    let depth = 0;
    for (let i = cursor.currIdx; i >= 0; i--) {
      const t = cursor.tokVector[i]!.tokenType;
      if (t === close) depth++;
      else if (t === open && depth-- === 0) return cursor.tokVector[i] as CToken;
    }
    return undefined;
  }

  // ---- pragmas ----

  /** The `#pragma clang attribute` attributes and `#pragma pack` value in effect at token `pos`. */
  protected pragmaStateAt(pos: number): PragmaState {
    const events = this.pragmas.events;
    if (this.eventCursor < events.length && events[this.eventCursor]!.index <= pos) {
      do {
        const e = events[this.eventCursor++]!;
        if (e.kind === "attributePush") this.attributeGroups.push(e.attributes);
        else if (e.kind === "attributePop") this.attributeGroups.pop();
        else this.pack = e.pack;
      } while (this.eventCursor < events.length && events[this.eventCursor]!.index <= pos);
      // One state object until the next event: every struct of a vmlinux.h is under a
      // `#pragma clang attribute push`, and most of them are references, not definitions.
      const groups = this.attributeGroups;
      this.pragmaState = { attributes: groups.length === 0 ? [] : groups.flat(), pack: this.pack };
    }
    return this.pragmaState;
  }

  /** Loop pragmas written right before the token at `pos`. */
  protected loopPragmasAt(pos: number): LoopPragma[] {
    const list = this.pragmas.loopPragmas.get(pos);
    if (list === undefined) return [];
    this.takenLoopPragmas.add(pos);
    return list;
  }

  // ---- locations and problems ----

  /** A token usable as a location: tokens inserted by error recovery have none, so use a neighbour. */
  protected real(tok: IToken | undefined): CToken {
    if (tok !== undefined && (tok as CToken).file !== undefined) return tok as CToken;
    const cursor = this as unknown as TokenCursor;
    for (let i = Math.min(cursor.currIdx, cursor.tokVector.length - 1); i >= 0; i--) {
      const t = cursor.tokVector[i] as CToken;
      if (t.file !== undefined) return t;
    }
    return this.firstToken ?? placeholderToken();
  }

  protected addProblem(problem: ParseProblem): void {
    if (problem.severity === "error") {
      this.errorCount++;
      if (this.errorCount > ERROR_LIMIT) throw new TooManyErrors();
    }
    this.problems.push(problem);
  }

  /** An error at `tok` (the next token when omitted). */
  protected errorAt(
    tok: IToken | undefined,
    message: string,
    notes: ParseProblem["notes"] = [],
    colOffset = 0,
  ): void {
    const at = tok ?? this.LA(1);
    const pos = this.position();
    const problem: ParseProblem = {
      severity: "error",
      message,
      token: this.real(at),
      afterToken: false,
      notes,
      order: at === this.LA(1) ? pos + 1 : pos,
    };
    if (colOffset !== 0) problem.colOffset = colOffset;
    this.addProblem(problem);
  }

  /** An error just past the last consumed token (where clang reports a missing ';'). */
  protected errorAfterPrevious(message: string, severity: "error" | "warning" = "error"): void {
    this.addProblem({
      severity,
      message,
      token: this.real(this.LA(0)),
      afterToken: true,
      notes: [],
      order: this.position(),
    });
  }

  protected warnAt(tok: IToken, message: string, flag?: string): void {
    const problem: ParseProblem = {
      severity: "warning",
      message,
      token: this.real(tok),
      afterToken: false,
      notes: [],
      order: this.position() + 1,
    };
    if (flag !== undefined) problem.flag = flag;
    this.addProblem(problem);
  }

  /** Appends a sub-rule's list (which is a placeholder object while Chevrotain records the grammar). */
  protected pushAll<X>(into: X[], items: X[]): void {
    if (this.RECORDING_PHASE) return;
    for (const item of items) into.push(item);
  }

  // ---- placeholders returned by rules that recovered from an error ----

  protected errorExpr(): IntegerLiteral {
    const loc = this.real(this.LA(0));
    return {
      kind: "IntegerLiteral",
      loc,
      text: "0",
      lo: 0,
      hi: 0,
      overflow: false,
      radix: 10,
      unsigned: false,
      longness: 0,
    };
  }

  protected errorSpec(): DeclSpec {
    const state = new SpecState(this.real(this.LA(0)));
    state.node.typeSpec = { kind: "BasicType", loc: state.node.loc, name: "int" };
    return state.node;
  }

  protected errorDeclarator(): Declarator {
    return emptyDeclarator(this.real(this.LA(0)));
  }

  protected errorTypeName(): TypeName {
    const spec = this.errorSpec();
    return { kind: "TypeName", loc: spec.loc, spec, declarator: emptyDeclarator(spec.loc) };
  }

  // ---- declaration specifiers ----

  protected addBasic(tok: IToken, keyword: BasicKeyword): void {
    const state = this.spec!;
    const other = state.other !== null ? state.previousName() : null;
    const problem = addBasicKeyword(
      (state.basic ??= new BasicSpecifiers()),
      keyword,
      tok as CToken,
      other,
    );
    if (problem !== null) this.specifierProblem(problem);
  }

  private specifierProblem(p: SpecifierProblem<CToken>): void {
    if (p.warning) this.warnAt(p.token, p.message, "-Wduplicate-decl-specifier");
    else this.errorAt(p.token, p.message);
  }

  protected setTypeSpecifier(tok: IToken, spec: TypeSpecifier): void {
    const state = this.spec!;
    const basic = state.basic;
    if (basic !== null && basic.type >= 0) {
      this.errorAt(
        tok,
        `cannot combine with previous '${basic.previousSpelling()}' declaration specifier`,
      );
      return;
    }
    if (state.other !== null) {
      this.errorAt(
        tok,
        `cannot combine with previous '${state.previousName()}' declaration specifier`,
      );
      return;
    }
    state.other = spec;
    state.otherToken = tok as CToken;
  }

  protected setStorage(tok: IToken, storage: DeclSpec["storage"] & string): void {
    if (this.RECORDING_PHASE) return;
    const node = this.spec!.node;
    if (node.storage === storage) {
      this.warnAt(
        tok,
        `duplicate '${storage}' declaration specifier`,
        "-Wduplicate-decl-specifier",
      );
    } else if (node.storage !== null) {
      this.errorAt(tok, `cannot combine with previous '${node.storage}' declaration specifier`);
    } else {
      node.storage = storage;
    }
  }

  protected setQualifier(
    tok: IToken,
    qualifier: "const" | "volatile" | "restrict" | "atomic",
  ): void {
    if (this.RECORDING_PHASE) return;
    const node = this.spec!.node as Building<DeclSpec>;
    if (node.qualifiers === NO_QUALIFIERS) node.qualifiers = noQualifiers();
    const q = node.qualifiers;
    if (q[qualifier]) {
      const spelling = qualifier === "atomic" ? "_Atomic" : qualifier;
      this.warnAt(
        tok,
        `duplicate '${spelling}' declaration specifier`,
        "-Wduplicate-decl-specifier",
      );
    }
    q[qualifier] = true;
  }

  protected addSpecAttributes(attributes: Attribute[]): void {
    const node = this.spec!.node as Building<DeclSpec>;
    node.attributes = joined(node.attributes, attributes);
  }

  protected addAlignas(arg: Expr | TypeName): void {
    const node = this.spec!.node as Building<DeclSpec>;
    node.alignas = joined(node.alignas, [arg]);
  }

  /** Completes the specifier list: resolves the basic type keywords, checks the context. */
  protected finishSpec(state: SpecState, context: DeclContext | undefined): DeclSpec {
    const node = state.node;
    const basic = state.basic;
    if (basic !== null && basic.any()) {
      const other = state.other !== null ? state.previousName() : null;
      const { name, problems } = resolveBasicKeywords(basic, other);
      for (const p of problems) this.specifierProblem(p);
      if (name !== null) node.typeSpec = { kind: "BasicType", loc: basic.firstToken()!, name };
    }
    if (state.other !== null) node.typeSpec = state.other;
    if (node.storage !== null || node.threadLocal) {
      if (context === DeclContext.Member || context === DeclContext.TypeName) {
        this.errorAt(node.loc, "type name does not allow storage class to be specified");
        node.storage = null;
      } else if (context === DeclContext.Param && node.storage !== "register") {
        this.errorAt(node.loc, "invalid storage class specifier in function declarator");
        node.storage = null;
      }
    }
    return node;
  }

  /** Declares the name of a completed declarator in the innermost scope. */
  protected declareName(d: Declarator, spec: DeclSpec): void {
    if (d.name !== null) this.scopes.declare(d.name, spec.storage === "typedef");
  }
}

export function emptyDeclarator(loc: CToken): Declarator {
  return {
    kind: "Declarator",
    loc,
    name: null,
    nameLoc: null,
    derivations: [],
    attributes: [],
    asmLabel: null,
  };
}

function placeholderToken(): CToken {
  return {
    image: "",
    startOffset: 0,
    endOffset: 0,
    startLine: 1,
    startColumn: 1,
    tokenTypeIdx: EOF.tokenTypeIdx!,
    tokenType: EOF,
    file: "<input>",
    line: 1,
    col: 1,
    hasSpace: false,
    atLineStart: true,
    expansion: undefined,
    hideSet: undefined,
  };
}

// ---- Chevrotain's messages, in clang's words ----

/** How clang names an expected token: `';'`, `'while'`, `identifier`. */
export function describeTokenType(type: TokenType): string {
  if (type === T.Identifier || type === TypedefName || type === T.IdentifierOrKeyword)
    return "identifier";
  if (type === EOF) return "end of file";
  const spelled = T.punctuatorSpelling.get(type);
  if (spelled !== undefined) return `'${spelled}'`;
  for (const [spelling, kw] of T.keywordBySpelling) if (kw === type) return `'${spelling}'`;
  return type.name;
}

const messageProvider = {
  buildMismatchTokenMessage(options: {
    expected: TokenType;
    actual: IToken;
    ruleName: string;
  }): string {
    // A block's statements stopped at something no statement starts with (Chevrotain's
    // in-repetition recovery skips it): clang's words for that.
    if (options.expected === T.RBrace && options.actual.tokenType !== EOF) {
      if (options.ruleName === "compoundStatement") return "expected expression";
      // Likewise for a struct's members.
      if (options.ruleName === "recordSpecifier")
        return "type name requires a specifier or qualifier";
    }
    if (options.expected === EOF) {
      return options.actual.tokenType === T.RBrace
        ? "extraneous closing brace ('}')"
        : "expected identifier or '('";
    }
    return `expected ${describeTokenType(options.expected)}`;
  },
  buildNotAllInputParsedMessage(options: { firstRedundant: IToken }): string {
    return options.firstRedundant.tokenType === T.RBrace
      ? "extraneous closing brace ('}')"
      : "expected identifier or '('";
  },
  // ERR_MSG of an OR / AT_LEAST_ONE arrives as customUserDescription.
  buildNoViableAltMessage(options: {
    customUserDescription?: string;
    actual: IToken[];
    ruleName: string;
  }): string {
    // A statement was required but the block ends: clang's "expected statement".
    if (options.ruleName === "statement" && options.actual[0]?.tokenType === T.RBrace) {
      return "expected statement";
    }
    return options.customUserDescription ?? "expected expression";
  },
  buildEarlyExitMessage(options: { customUserDescription?: string }): string {
    return options.customUserDescription ?? "expected expression";
  },
};

export type { Expr };
