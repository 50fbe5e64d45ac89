// The C preprocessor (C11 6.10 plus the GNU/clang extensions BPF headers use), working on CTokens.
//
// Input: a file (or text) and clang-style options. Output: the fully expanded token array for the
// parser, with directives removed and pragmas the back end may need kept as Pragma tokens, plus the
// diagnostics. Macro expansion follows Prosser's algorithm (as chibicc does): every token carries a
// hide set, the names of the macros that produced it, and an identifier is never expanded by a
// macro in its own hide set, which makes recursive macros terminate. Each file is read and lexed
// once; a file guarded by `#ifndef X / #define X ... #endif` or `#pragma once` is not re-read.
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Lexer, createToken, type TokenType } from "./chevrotain.js";
import {
  CharConstant,
  Comma,
  FloatConstant,
  Greater,
  Hash,
  HashHash,
  Identifier,
  IdentifierOrKeyword,
  IntegerConstant,
  LParen,
  Less,
  PPNumber,
  Pragma,
  RParen,
  StringLiteral,
  UnterminatedChar,
  UnterminatedString,
  allTokens,
  copyToken,
  diagnosticLoc,
  expansionChain,
  countLines,
  lexFile,
  lexSource,
  wordSpellingType,
  type CToken,
  type MacroExpansion,
} from "./lexer.js";
import {
  DiagnosticBag,
  note,
  type Diagnostic,
  type SourceLoc,
  type SourceProvider,
  type SourceRange,
} from "./diagnostics.js";
import {
  knownAttributes,
  knownBuiltins,
  knownExtensions,
  knownFeatures,
  predefinedSource,
} from "./predefined.js";

// ---------------------------------------------------------------------------------------------
// Public interface

export interface PreprocessOptions {
  /** -I directories, searched in order for "..." and <...> includes. */
  includePaths?: string[];
  /** -iquote directories, searched for "..." includes only, before includePaths. */
  quoteIncludePaths?: string[];
  /** -isystem directories, searched after includePaths (their warnings are suppressed). */
  systemIncludePaths?: string[];
  /**
   * The default system directories, after systemIncludePaths. Defaults to what clang -target bpf
   * searches, with the bundled include directory standing in for clang's resource directory:
   * /usr/local/include, <bundled>, /usr/include.
   */
  defaultIncludePaths?: string[];
  /** -D values: "NAME" (defined as 1) or "NAME=VALUE", applied in order, then undefines. */
  defines?: string[];
  /** -U names. */
  undefines?: string[];
  /** -O1 and above (predefines __OPTIMIZE__ instead of __NO_INLINE__). */
  optimize?: boolean;
  std?: "c11" | "gnu11" | "c17" | "gnu17";
  /** Reads a file; undefined if it does not exist. Defaults to the file system. */
  readFile?: (path: string) => string | undefined;
  /** The clock for __DATE__ and __TIME__ (fixed in tests). */
  now?: Date;
  /** Where to report; a new bag if not given. */
  diagnostics?: DiagnosticBag;
}

export type PreprocessInput = { path: string } | { text: string; name?: string };

/** A macro as #define made it. */
export interface MacroDefinition {
  name: string;
  /** Parameter names for a function-like macro (a variadic one ends in `__VA_ARGS__` or `name`). */
  params: string[] | undefined;
  variadic: boolean;
  body: CToken[];
  /** The macro name's location in its #define (or <built-in>). */
  definition: SourceLoc;
  /** Set for __FILE__, __LINE__, __has_include, _Pragma, ...: computed at each use. */
  builtin: BuiltinMacro | undefined;
}

export interface PreprocessStats {
  /** Distinct files read. */
  files: number;
  /** Source lines processed (a file included twice counts twice; skipped re-inclusions do not). */
  lines: number;
  /** Tokens lexed. */
  inputTokens: number;
  outputTokens: number;
  macroExpansions: number;
  /** Includes skipped thanks to an include guard or #pragma once. */
  skippedIncludes: number;
  milliseconds: number;
}

export interface PreprocessResult {
  tokens: CToken[];
  /** The indices of the Pragma tokens in `tokens`, ascending. */
  pragmas: number[];
  diagnostics: DiagnosticBag;
  /** File texts by the names locations use, for rendering diagnostics. */
  sources: SourceProvider;
  /** The macros defined at the end of the input. */
  macros: ReadonlyMap<string, MacroDefinition>;
  /** The #include chain (outermost first) through which a file was first entered. */
  includedFrom: (file: string) => SourceLoc[];
  stats: PreprocessStats;
}

/** The directory of bundled headers (stddef.h, stdint.h, ...). */
export const bundledIncludeDir = fileURLToPath(new URL("./include", import.meta.url)).replace(
  /([\\/])dist[\\/]compiler[\\/]include$/,
  "$1compiler$1include",
);

export function defaultIncludePaths(): string[] {
  return ["/usr/local/include", bundledIncludeDir, "/usr/include"];
}

/**
 * A source file's text from disk, or undefined when there is none. A device or a pipe reads as
 * empty, as in clang (it reads the size stat gives: none), not forever (/dev/zero) or until a
 * writer comes (a FIFO); a directory is not a file.
 */
export function readSourceFile(path: string): string | undefined {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return stat.isDirectory() ? undefined : "";
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Preprocesses a file or a text. Never throws on bad input: problems are in `diagnostics`. */
export function preprocess(
  input: PreprocessInput,
  options: PreprocessOptions = {},
  snapshot?: SnapshotRequest,
): PreprocessResult {
  const started = performance.now();
  const pp = new Preprocessor(options);
  pp.run(input, snapshot);
  return pp.result(performance.now() - started);
}

/**
 * Asks preprocess() for its state once the main file's tokens before `line` are done (its
 * leading `#include`/`#define` lines, in practice), for the front end's prefix cache
 * (frontend.ts). The snapshot is only taken when the state there is clean: at the main file's
 * top level, out of every conditional and macro expansion, no diagnostic but the main file's
 * own lexing ones, no #line, no clock macro, the main file not included by itself.
 */
export interface SnapshotRequest {
  line: number;
  onSnapshot: (snapshot: PreprocessSnapshot) => void;
  /** Another snapshot, at a later line. */
  next?: SnapshotRequest;
}

/** The preprocessor's state at the start of a line of the main file (see SnapshotRequest). */
export interface PreprocessSnapshot {
  /** The first line of the main file not yet read. */
  readonly line: number;
  /** How many tokens were output before it. */
  readonly count: number;
  /**
   * The tokens output before it: the first `count` of this array. A run resumed from the
   * snapshot appends its own tokens to this array (not to a copy of it), which the next such
   * run cuts off again.
   */
  readonly tokens: readonly CToken[];
  /** Everything else the run needs to go on (opaque outside this module). */
  readonly state: unknown;
}

/**
 * Preprocesses a main file whose text before `snapshot.line` is the text the snapshot was taken
 * on (and whose included files read the same), starting from the snapshot: the result is the
 * one preprocess() gives for the whole text. Undefined when the text does not fit the snapshot.
 * The result's `tokens` is the snapshot's array, so that resuming costs what the rest of the
 * main file costs and not a copy of the headers' tokens: it holds the result until the next
 * run resumed from the same snapshot.
 */
export function resumePreprocess(
  snapshot: PreprocessSnapshot,
  input: { text: string; name: string },
  options: PreprocessOptions = {},
  more: ResumeOptions = {},
): PreprocessResult | undefined {
  const started = performance.now();
  const pp = new Preprocessor(options);
  try {
    if (!pp.resume(snapshot, input.name, input.text, more)) return undefined;
    return pp.result(performance.now() - started);
  } finally {
    pp.stopAppending();
  }
}

/** A run going on from a snapshot: where in the main file, and a snapshot to take after it. */
export interface ResumeOptions {
  /**
   * The main file's line the snapshot's state fits (default: the snapshot's own line). Another
   * main file than the snapshot's can go on from it when the snapshot's main tokens were one
   * #include line and this main file has the same line there (see SavedState.mainInclude).
   */
  line?: number;
  snapshot?: SnapshotRequest;
}

/** Snapshot token arrays a resumed run is appending to now (see Preprocessor.resume). */
const appending = new WeakSet<CToken[]>();

/** The -dM listing: `#define NAME(params) body` lines sorted by name, as clang prints them. */
export function dumpMacros(macros: ReadonlyMap<string, MacroDefinition>): string {
  const lines: string[] = [];
  for (const m of macros.values()) {
    if (m.builtin !== undefined) continue;
    let head = m.name;
    if (m.params !== undefined) {
      const params = m.params.map((p, i) =>
        m.variadic && i === m.params!.length - 1 ? (p === "__VA_ARGS__" ? "..." : `${p}...`) : p,
      );
      head += `(${params.join(",")})`;
    }
    lines.push(`#define ${head} ${spellBody(m.body)}`);
  }
  return lines.sort().join("\n") + (lines.length ? "\n" : "");
}

/** Preprocessed tokens as text, one source line per line (like clang -E -P), pragmas on their own lines. */
export function printTokens(tokens: readonly CToken[]): string {
  let out = "";
  let first = true;
  for (const t of tokens) {
    if (t.tokenType === Pragma) {
      out += (first ? "" : "\n") + "#pragma " + t.image + "\n";
      first = true;
      continue;
    }
    if (!first) out += t.atLineStart && t.expansion === undefined ? "\n" : t.hasSpace ? " " : "";
    out += t.image;
    first = false;
  }
  return out + (first ? "" : "\n");
}

// ---------------------------------------------------------------------------------------------
// Internal model

export type BuiltinMacro =
  | "__FILE__"
  | "__FILE_NAME__"
  | "__BASE_FILE__"
  | "__LINE__"
  | "__COUNTER__"
  | "__INCLUDE_LEVEL__"
  | "__DATE__"
  | "__TIME__"
  | "__TIMESTAMP__"
  | "_Pragma"
  | "__has_include"
  | "__has_include_next"
  | "__has_builtin"
  | "__has_attribute"
  | "__has_c_attribute"
  | "__has_cpp_attribute"
  | "__has_declspec_attribute"
  | "__has_feature"
  | "__has_extension"
  | "__has_warning"
  | "__is_identifier";

const builtinNames: BuiltinMacro[] = [
  "__FILE__",
  "__FILE_NAME__",
  "__BASE_FILE__",
  "__LINE__",
  "__COUNTER__",
  "__INCLUDE_LEVEL__",
  "__DATE__",
  "__TIME__",
  "__TIMESTAMP__",
  "_Pragma",
  "__has_include",
  "__has_include_next",
  "__has_builtin",
  "__has_attribute",
  "__has_c_attribute",
  "__has_cpp_attribute",
  "__has_declspec_attribute",
  "__has_feature",
  "__has_extension",
  "__has_warning",
  "__is_identifier",
];

interface Macro extends MacroDefinition {
  /** For each body token, the index of the parameter it names, or -1. */
  paramIndex: Int16Array;
  /** The body has no parameters, `#`, `##` or __VA_OPT__: expansion is a plain copy. */
  plain: boolean;
}

/** The builtin macros (the same objects in every run: nothing changes a macro). */
const builtinMacros: readonly Macro[] = builtinNames.map((name) => ({
  name,
  params: undefined,
  variadic: false,
  body: [],
  definition: { file: "<built-in>", line: 0, col: 0 },
  builtin: name,
  paramIndex: new Int16Array(0),
  plain: true,
}));

/** A lexed file, cached by path for the whole run. */
interface FileEntry {
  path: string;
  text: string;
  tokens: CToken[];
  /** Where its directives start (the indices of its line-starting `#` tokens). */
  directives: number[];
  /** Its source lines. */
  lines: number;
  /** Include guard macro; null if the file has none (undefined: not computed yet). */
  guard: string | null | undefined;
  pragmaOnce: boolean;
}

interface Conditional {
  /** The directive name token of the #if/#ifdef/#ifndef. */
  where: CToken;
  /** Some group of this conditional was already taken. */
  taken: boolean;
  sawElse: boolean;
}

/** A file being read, on the include stack. */
interface FileState {
  entry: FileEntry;
  /** The name locations and __FILE__ use (the path as found, or #line's name). */
  name: string;
  tokens: CToken[];
  pos: number;
  /** The index in entry.directives of the first directive at `pos` or after (moved on lazily). */
  nextDirective: number;
  conditionals: Conditional[];
  /** Index in the search path where the file was found (for #include_next); -1 if not searched. */
  searchIndex: number;
  system: boolean;
  /** The #include directive that entered it. */
  includedAt: SourceLoc | undefined;
}

/**
 * What a PreprocessSnapshot keeps besides its tokens (copies: the run goes on after it). Runs
 * resumed from it share `macros` until they change it, and add to `hideSets`.
 */
interface SavedState {
  macros: Map<string, Macro>;
  hideSets: HideSets;
  /** Every file looked up (null: not found), without the main file. */
  entries: Map<string, FileEntry | null>;
  texts: Map<string, string>;
  firstInclusion: Map<string, SourceLoc[]>;
  pushedMacros: Map<string, (Macro | undefined)[]>;
  counter: number;
  scratch: string;
  scratchLines: number;
  baseFile: string;
  /** Without the main file's part (its lines, its tokens, one file). */
  stats: Preprocessor["stats"];
  mainName: string;
  mainPragmaOnce: boolean;
  /** The main file's token index where the snapshot was taken. */
  pos: number;
  /** Where the Pragma tokens are among the snapshot's tokens. */
  pragmaAt: number[];
  /**
   * When the main file's tokens before the snapshot are one #include line: its line and tokens.
   * Nothing else in the state then comes from the main file but the place of that line in the
   * include chains (and its name and lines, which `mainPlaceUsed` tells), so another main file whose
   * tokens there are the same line, in the same directory, can go on from it (see rebasable),
   * and so can this main file when that line has moved.
   */
  mainInclude: { line: number; tokens: string[] } | undefined;
  mainPlaceUsed: boolean;
}

/** The main file's tokens before `at` when they are one #include line (see SavedState). */
function oneIncludeLine(
  tokens: readonly CToken[],
  at: number,
): SavedState["mainInclude"] | undefined {
  if (at < 2 || tokens[0]!.image !== "#" || tokens[1]!.image !== "include") return undefined;
  const line = tokens[0]!.line;
  for (let i = 1; i < at; i++) if (tokens[i]!.atLineStart) return undefined;
  return { line, tokens: tokens.slice(0, at).map((t) => `${t.col}:${t.image}`) };
}

/**
 * Whether a main file whose first `pos` tokens are `tokens` can go on from the snapshot at
 * another line, or as another file: the snapshot's main tokens were one #include line, these
 * are the same tokens at the same columns (on any line), and nothing depended on the main
 * file's name or lines.
 */
function rebasable(s: SavedState, tokens: readonly CToken[], pos: number): boolean {
  const include = s.mainInclude;
  if (include === undefined || s.mainPlaceUsed || include.tokens.length !== pos) return false;
  if (s.entries.has(tokens[0]!.file)) return false; // the new main file is one of its headers
  for (let i = 0; i < pos; i++) {
    const t = tokens[i]!;
    if (`${t.col}:${t.image}` !== include.tokens[i] || (i > 0 && t.atLineStart)) return false;
  }
  return true;
}

/** An include chain of the snapshot's, for a main file `name` whose #include line is `line`. */
function rebaseChain(chain: SourceLoc[], s: SavedState, name: string, line: number): SourceLoc[] {
  if (!chain.some((loc) => loc.file === s.mainName)) return chain;
  return chain.map((loc) =>
    loc.file === s.mainName
      ? { ...loc, file: name, line: line + (loc.line - s.mainInclude!.line) }
      : loc,
  );
}

/** Index of the first token on `line` or after it. */
function firstTokenFrom(tokens: readonly CToken[], line: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Tokens waiting to be rescanned (a macro's replacement). */
interface Frame {
  tokens: CToken[];
  pos: number;
}

/** Marks where an empty argument was next to `##` (C11 6.10.3.3 placemarker); removed after pasting. */
const Placemarker = createToken({ name: "Placemarker", pattern: Lexer.NA });

const MAX_INCLUDE_DEPTH = 200;
/** Nesting of macro invocations inside arguments, and of #if subexpressions (recursion bounds). */
const MAX_ARGUMENT_DEPTH = 256;
const MAX_EXPRESSION_DEPTH = 256;
/** Expansions in one run: far more than any real program needs; stops exponential macros. */
const MAX_EXPANSIONS = 1_000_000;
const SCRATCH = "<scratch space>";

/** Whether a token type is an identifier or keyword, by tokenTypeIdx. */
const identifierLike: boolean[] = [];
for (const t of allTokens) {
  identifierLike[t.tokenTypeIdx!] =
    t === IdentifierOrKeyword || t.CATEGORIES?.includes(IdentifierOrKeyword) === true;
}

/**
 * Appends from[start, end) to `out`, which grows once for the run instead of at every push (a
 * vmlinux.h is one run of 500,000 tokens).
 */
function appendRun(out: CToken[], from: readonly CToken[], start: number, end: number): void {
  let next = out.length;
  const length = next + (end - start);
  // A length past the capacity allocates just that much, and the next push would copy it all
  // again: a long run leaves room behind it (a shorter length keeps the capacity).
  if (end - start > 4096) out.length = length + (length >> 3);
  out.length = length;
  for (let i = start; i < end; i++) out[next++] = from[i]!;
}

function isIdentifier(t: CToken | undefined): t is CToken {
  return t !== undefined && identifierLike[t.tokenTypeIdx] === true;
}

function locOf(t: CToken): SourceLoc {
  return { file: t.file, line: t.line, col: t.col };
}

/** The location just past a token (where clang points for "expected X" at the end of a line). */
function locAfter(t: CToken): SourceLoc {
  return { file: t.file, line: t.line, col: t.col + t.image.length };
}

function spellBody(tokens: readonly CToken[]): string {
  let out = "";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (i > 0 && t.hasSpace) out += " ";
    out += t.image;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hide sets: interned, so that identity comparison and caching work.

class HideSets {
  private readonly byKey = new Map<string, ReadonlySet<string>>();
  private readonly addCache = new WeakMap<ReadonlySet<string>, Map<string, ReadonlySet<string>>>();

  private intern(names: string[]): ReadonlySet<string> {
    names.sort();
    const key = names.join(" ");
    let set = this.byKey.get(key);
    if (set === undefined) {
      set = new Set(names);
      this.byKey.set(key, set);
    }
    return set;
  }

  add(set: ReadonlySet<string> | undefined, name: string): ReadonlySet<string> {
    if (set === undefined) return this.intern([name]);
    if (set.has(name)) return set;
    let cache = this.addCache.get(set);
    if (cache === undefined) this.addCache.set(set, (cache = new Map()));
    let result = cache.get(name);
    if (result === undefined) {
      result = this.intern([...set, name]);
      cache.set(name, result);
    }
    return result;
  }

  union(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): ReadonlySet<string> {
    if (a === undefined || a === b) return b;
    let result = a;
    for (const name of b) result = this.add(result, name);
    return result;
  }

  intersect(
    a: ReadonlySet<string> | undefined,
    b: ReadonlySet<string> | undefined,
  ): ReadonlySet<string> | undefined {
    if (a === b) return a;
    if (a === undefined || b === undefined) return undefined;
    const common = [...a].filter((name) => b.has(name));
    return common.length === 0 ? undefined : this.intern(common);
  }
}

// ---------------------------------------------------------------------------------------------
// The preprocessor

class Preprocessor {
  private readonly options: PreprocessOptions;
  readonly diagnostics: DiagnosticBag;
  private macros = new Map<string, Macro>();
  /** `macros` is a snapshot's: copy it before a change (see writableMacros). */
  private macrosShared = false;
  private out: CToken[] = [];
  /** The snapshot's token array this run appends to in place, while it does. */
  private appendingTo: CToken[] | undefined = undefined;
  /** Where the Pragma tokens are in `out`. */
  private pragmaAt: number[] = [];
  private hideSets = new HideSets();
  private readonly entries = new Map<string, FileEntry | null>();
  private readonly texts = new Map<string, string>();
  private readonly firstInclusion = new Map<string, SourceLoc[]>();
  private readonly includeStack: FileState[] = [];
  private readonly searchPath: { dir: string; system: boolean }[];
  private readonly quoteSearchPath: string[];
  private readonly pushedMacros = new Map<string, (Macro | undefined)[]>();
  private file!: FileState;
  /** Replacement tokens waiting to be rescanned. */
  private frames: Frame[] = [];
  /** Whether reading past the frames may take tokens from the file (macro arguments at top level). */
  private fromFile = false;
  /** Expanding a #if line: `defined` is an operator. */
  private inCondition = false;
  /** Collecting the arguments of a function-like macro from the file (a directive there is embedded). */
  private collectingArgs = false;
  private fatal = false;
  private counter = 0;
  private argumentDepth = 0;
  /** An error in the #if line being expanded: stop and count the condition as false. */
  private conditionFailed = false;
  /** The text _Pragma operators are spelled in (clang's "<scratch space>"). */
  private scratch = "";
  /** Its lines (every _Pragma adds whole lines). */
  private scratchLines = 0;
  private baseFile = "";
  /** The main file's token index where a snapshot is wanted (-1: none). */
  private pauseAt = -1;
  private snapshotRequest: SnapshotRequest | undefined;
  /** Diagnostics in the bag once the main file was lexed (-1: some came before it). */
  private mainLexDiagnostics = -1;
  private mainEntry: FileEntry | undefined;
  /** The main file was included (by itself). */
  private mainIncluded = false;
  /** __DATE__, __TIME__ or __TIMESTAMP__ was expanded: the output depends on the clock. */
  private clockUsed = false;
  /**
   * __BASE_FILE__ was expanded, or __FILE__, __FILE_NAME__ or __LINE__ in the main file: the
   * output depends on the main file's name or on where its lines are.
   */
  private mainPlaceUsed = false;
  readonly stats = {
    files: 0,
    lines: 0,
    inputTokens: 0,
    outputTokens: 0,
    macroExpansions: 0,
    skippedIncludes: 0,
  };

  constructor(options: PreprocessOptions) {
    this.options = options;
    this.diagnostics = options.diagnostics ?? new DiagnosticBag();
    this.quoteSearchPath = options.quoteIncludePaths ?? [];
    this.searchPath = [
      ...(options.includePaths ?? []).map((dir) => ({ dir, system: false })),
      ...(options.systemIncludePaths ?? []).map((dir) => ({ dir, system: true })),
      ...(options.defaultIncludePaths ?? defaultIncludePaths()).map((dir) => ({
        dir,
        system: true,
      })),
    ];
    for (const m of builtinMacros) this.macros.set(m.name, m);
  }

  result(milliseconds: number): PreprocessResult {
    const texts = this.texts;
    const firstInclusion = this.firstInclusion;
    return {
      tokens: this.out,
      pragmas: this.pragmaAt,
      diagnostics: this.diagnostics,
      sources: (file) => texts.get(file),
      macros: this.macros,
      includedFrom: (file) => firstInclusion.get(file) ?? [],
      stats: { ...this.stats, outputTokens: this.out.length, milliseconds },
    };
  }

  run(input: PreprocessInput, snapshot?: SnapshotRequest): void {
    const builtin = predefinedSource({ optimize: this.options.optimize, std: this.options.std });
    this.processText("<built-in>", builtin);
    const commandLine = [
      ...(this.options.defines ?? []).map((d) => {
        const eq = d.indexOf("=");
        return eq < 0 ? `#define ${d} 1` : `#define ${d.slice(0, eq)} ${d.slice(eq + 1)}`;
      }),
      ...(this.options.undefines ?? []).map((u) => `#undef ${u}`),
    ];
    if (commandLine.length) {
      // clang reads the command line's definitions as if included at the end of <built-in>.
      const builtinEnd = { file: "<built-in>", line: countLines(builtin) + 1, col: 1 };
      this.processText("<command line>", commandLine.join("\n") + "\n", builtinEnd);
    }

    let name: string;
    let text: string | undefined;
    if ("path" in input) {
      name = input.path;
      text = this.read(name);
      if (text === undefined) {
        this.diagnostics.add({
          severity: "error",
          message: `no such file or directory: '${name}'`,
          loc: undefined,
          notes: [],
        });
        return;
      }
    } else {
      name = input.name ?? "<stdin>";
      text = input.text;
    }
    this.baseFile = name;
    if (snapshot !== undefined) {
      const before = this.diagnostics.items.length;
      const entry = this.entry(name, text)!;
      this.mainEntry = entry;
      this.mainLexDiagnostics = before === 0 ? this.diagnostics.items.length : -1;
      this.pauseAt = firstTokenFrom(entry.tokens, snapshot.line);
      this.snapshotRequest = snapshot;
    }
    this.processText(name, text);
  }

  /** The run is over: another may append to the snapshot's token array in place. */
  stopAppending(): void {
    if (this.appendingTo !== undefined) appending.delete(this.appendingTo);
    this.appendingTo = undefined;
  }

  /** Goes on from a snapshot with the main file's new text (see resumePreprocess). */
  resume(snapshot: PreprocessSnapshot, name: string, text: string, more: ResumeOptions): boolean {
    const s = snapshot.state as SavedState;
    const lexed = new DiagnosticBag();
    const { tokens, directives, lines } = lexSource(text, name, lexed);
    const pos = firstTokenFrom(tokens, more.line ?? snapshot.line);
    if (pos !== s.pos || (pos < tokens.length && !tokens[pos]!.atLineStart)) return false;
    // Going on from the state after another main file's first #include line, or this file's
    // when that line has moved: the include chains must name this file and its line.
    const rebased = name !== s.mainName || more.line !== undefined;
    if (rebased && !rebasable(s, tokens, pos)) return false;
    const before = this.diagnostics.items.length;
    for (const d of lexed.items) this.diagnostics.add(d);
    this.macros = s.macros;
    this.macrosShared = true;
    this.hideSets = s.hideSets;
    for (const [k, v] of s.entries) this.entries.set(k, v && { ...v });
    for (const [k, v] of s.texts) this.texts.set(k, v);
    for (const [k, v] of s.firstInclusion) {
      if (rebased && k === s.mainName) continue; // another file now, maybe included later
      this.firstInclusion.set(k, rebased ? rebaseChain(v, s, name, tokens[0]!.line) : v);
    }
    if (rebased) this.firstInclusion.set(name, []);
    for (const [k, v] of s.pushedMacros) this.pushedMacros.set(k, [...v]);
    this.counter = s.counter;
    this.scratch = s.scratch;
    this.scratchLines = s.scratchLines;
    this.baseFile = rebased ? name : s.baseFile;
    this.mainPlaceUsed = s.mainPlaceUsed;
    if (rebased) this.texts.delete(s.mainName);
    Object.assign(this.stats, s.stats);
    // The snapshot's array is appended to in place, unless a run that goes on from it is still
    // appending (a compile started from a readFile callback of another): then a copy.
    const shared = snapshot.tokens as CToken[];
    let out: CToken[];
    if (appending.has(shared)) {
      out = shared.slice(0, snapshot.count);
    } else {
      out = shared;
      out.length = snapshot.count;
      appending.add(shared);
      this.appendingTo = shared;
    }
    this.out = out;
    this.pragmaAt = s.pragmaAt.slice();
    const entry: FileEntry = {
      path: name,
      text,
      tokens,
      directives,
      lines,
      guard: undefined,
      pragmaOnce: s.mainPragmaOnce,
    };
    this.entries.set(name, entry);
    this.texts.set(name, text);
    this.stats.files++;
    this.stats.inputTokens += tokens.length;
    this.pushFile(entry, -1, false, undefined);
    this.file.name = rebased ? name : s.mainName;
    this.file.pos = pos;
    if (more.snapshot !== undefined) {
      // As in run(): nothing but the main file's own lexing reported before the snapshot.
      this.mainEntry = entry;
      this.mainLexDiagnostics = before === 0 ? this.diagnostics.items.length : -1;
      this.pauseAt = firstTokenFrom(tokens, more.snapshot.line);
      this.snapshotRequest = more.snapshot;
    }
    this.loop();
    return true;
  }

  /** Called at the main file's top level: takes the snapshot asked for once its line is reached. */
  private snapshot(): void {
    const file = this.file;
    const at = this.pauseAt;
    if (file.pos < at) return;
    const request = this.snapshotRequest!;
    const main = this.mainEntry!;
    this.pauseAt = -1;
    if (request.next !== undefined) {
      this.snapshotRequest = request.next;
      this.pauseAt = firstTokenFrom(main.tokens, request.next.line);
    }
    const clean =
      file.pos === at &&
      at > 0 &&
      file.entry === main &&
      file.tokens === main.tokens &&
      (at === main.tokens.length || main.tokens[at]!.atLineStart) &&
      file.conditionals.length === 0 &&
      this.frames.length === 0 &&
      !this.fatal &&
      !this.clockUsed &&
      !this.mainIncluded &&
      this.diagnostics.items.length === this.mainLexDiagnostics;
    if (!clean) return;
    const entries = new Map<string, FileEntry | null>();
    for (const [path, e] of this.entries) if (path !== main.path) entries.set(path, e && { ...e });
    const pushedMacros = new Map<string, (Macro | undefined)[]>();
    for (const [k, v] of this.pushedMacros) pushedMacros.set(k, [...v]);
    const stats = { ...this.stats };
    stats.files--;
    stats.inputTokens -= main.tokens.length;
    stats.lines -= main.lines;
    const state: SavedState = {
      macros: new Map(this.macros),
      hideSets: this.hideSets,
      entries,
      texts: new Map(this.texts),
      firstInclusion: new Map(this.firstInclusion),
      pushedMacros,
      counter: this.counter,
      scratch: this.scratch,
      scratchLines: this.scratchLines,
      baseFile: this.baseFile,
      stats,
      mainName: file.name,
      mainPragmaOnce: main.pragmaOnce,
      pos: at,
      pragmaAt: this.pragmaAt.slice(),
      mainInclude: oneIncludeLine(main.tokens, at),
      mainPlaceUsed: this.mainPlaceUsed,
    };
    request.onSnapshot({
      line: request.line,
      count: this.out.length,
      tokens: this.out.slice(),
      state,
    });
  }

  // ---- files ----

  private read(path: string): string | undefined {
    if (this.options.readFile) return this.options.readFile(path);
    return readSourceFile(path);
  }

  /** The cached entry for a path, or null if there is no such file. */
  private entry(path: string, text?: string): FileEntry | null {
    let entry = this.entries.get(path);
    if (entry !== undefined) return entry;
    text ??= this.read(path);
    if (text === undefined) {
      this.entries.set(path, null);
      return null;
    }
    this.stats.files++;
    this.texts.set(path, text);
    const { tokens, directives, lines } = lexSource(text, path, this.diagnostics);
    this.stats.inputTokens += tokens.length;
    entry = { path, text, tokens, directives, lines, guard: undefined, pragmaOnce: false };
    this.entries.set(path, entry);
    return entry;
  }

  private processText(name: string, text: string, includedAt?: SourceLoc): void {
    const entry = this.entry(name, text)!;
    this.pushFile(entry, -1, false, includedAt);
    if (!this.firstInclusion.has(name)) this.firstInclusion.set(name, this.includeChain());
    this.loop();
  }

  private pushFile(
    entry: FileEntry,
    searchIndex: number,
    system: boolean,
    includedAt: SourceLoc | undefined,
  ): void {
    this.stats.lines += entry.lines;
    this.file = {
      entry,
      name: entry.path,
      tokens: entry.tokens,
      pos: 0,
      nextDirective: 0,
      conditionals: [],
      searchIndex,
      system,
      includedAt,
    };
    this.includeStack.push(this.file);
  }

  /** Leaves the current file at its end; false when it was the outermost one. */
  private popFile(): boolean {
    const done = this.includeStack.pop()!;
    for (const c of done.conditionals) this.error(c.where, "unterminated conditional directive");
    const outer = this.includeStack[this.includeStack.length - 1];
    if (outer === undefined) return false;
    this.file = outer;
    return true;
  }

  /** The include chain to report with a diagnostic in the current file (outermost first). */
  private includeChain(): SourceLoc[] {
    const chain: SourceLoc[] = [];
    for (const f of this.includeStack) if (f.includedAt !== undefined) chain.push(f.includedAt);
    return chain;
  }

  // ---- diagnostics ----

  private report(
    severity: "error" | "warning",
    at: CToken | SourceLoc,
    message: string,
    extra: Partial<Diagnostic> = {},
  ): void {
    if (severity === "warning" && this.file?.system) return; // clang hides warnings in system headers
    const token = "image" in at ? at : undefined;
    const loc = token ? diagnosticLoc(token) : (at as SourceLoc);
    const notes: Diagnostic[] = [];
    if (token)
      for (const level of expansionChain(token))
        notes.push(note(level.loc, `expanded from macro '${level.macro}'`));
    notes.push(...(extra.notes ?? []));
    const diagnostic: Diagnostic = { severity, message, loc, ...extra, notes };
    this.attachIncludeChains(diagnostic);
    this.diagnostics.add(diagnostic);
  }

  /** Gives a diagnostic and its notes the include chain of the file each points into. */
  private attachIncludeChains(d: Diagnostic): void {
    if (d.loc !== undefined) {
      const chain =
        d.loc.file === this.file.name
          ? this.includeChain()
          : (this.firstInclusion.get(d.loc.file) ?? []);
      if (chain.length) d.includedFrom = chain;
    }
    for (const n of d.notes) this.attachIncludeChains(n);
  }

  private error(at: CToken | SourceLoc, message: string, extra: Partial<Diagnostic> = {}): void {
    this.report("error", at, message, extra);
  }

  private warning(
    at: CToken | SourceLoc,
    message: string,
    flag?: string,
    extra: Partial<Diagnostic> = {},
  ): void {
    this.report("warning", at, message, flag !== undefined ? { ...extra, flag } : extra);
  }

  // ---- the main loop: file tokens, directives, macro uses ----

  private loop(): void {
    const out = this.out;
    while (!this.fatal) {
      if (this.pauseAt >= 0 && this.includeStack.length === 1) this.snapshot();
      let macros = this.macros;
      const file = this.file;
      const tokens = file.tokens;
      const n = tokens.length;
      let pos = file.pos;
      const stop = this.nextDirective(file);
      // The hot path: plain tokens straight from the file to the output, up to a directive, a
      // run between macro uses at a time.
      let run = pos;
      while (pos < stop) {
        const t = tokens[pos]!;
        if (identifierLike[t.tokenTypeIdx] === true) {
          const m = macros.get(t.image);
          if (m !== undefined) {
            appendRun(out, tokens, run, pos);
            file.pos = pos + 1;
            this.expandAtTopLevel(t, m);
            if (this.file !== file) break; // unreachable today: includes only come from directives
            pos = run = file.pos; // (past `stop` when the arguments ran over a directive)
            macros = this.macros; // (a copy, if a #define among the arguments changed it)
            continue;
          }
        } else if (t.tokenType === UnterminatedString || t.tokenType === UnterminatedChar) {
          this.warnUnterminated(t);
        }
        pos++;
      }
      if (this.file !== file) continue;
      appendRun(out, tokens, run, pos);
      file.pos = pos;
      if (pos < n) {
        if (pos === stop) this.directive();
        continue;
      }
      if (!this.popFile()) return;
    }
  }

  /** The macro table, to change: a snapshot's shared one is copied first. */
  private writableMacros(): Map<string, Macro> {
    if (this.macrosShared) {
      this.macros = new Map(this.macros);
      this.macrosShared = false;
    }
    return this.macros;
  }

  /** Where the file's next directive at its position or after starts (its length if none does). */
  private nextDirective(file: FileState): number {
    const directives = file.entry.directives;
    let k = file.nextDirective;
    while (k < directives.length && directives[k]! < file.pos) k++;
    file.nextDirective = k;
    return k < directives.length ? directives[k]! : file.tokens.length;
  }

  private warnUnterminated(t: CToken): void {
    const quote = t.tokenType === UnterminatedString ? `'"'` : "'";
    this.warning(t, `missing terminating ${quote} character`, "-Winvalid-pp-token");
  }

  // ---- directives ----

  /** The tokens of the directive line starting at `pos` (the `#`), up to the next line start. */
  private lineEnd(tokens: CToken[], pos: number): number {
    let end = pos + 1;
    while (end < tokens.length && !tokens[end]!.atLineStart) end++;
    return end;
  }

  private directive(): void {
    const file = this.file;
    const tokens = file.tokens;
    const hash = tokens[file.pos]!;
    const end = this.lineEnd(tokens, file.pos);
    const nameToken = file.pos + 1 < end ? tokens[file.pos + 1]! : undefined;
    const args = tokens.slice(file.pos + 2, end);
    file.pos = end;
    if (nameToken === undefined) return; // the null directive
    // clang reads #error and #warning raw; the other directives' tokens are lexed, and warned about.
    if (nameToken.image !== "error" && nameToken.image !== "warning") {
      for (const t of args) {
        if (t.tokenType === UnterminatedString || t.tokenType === UnterminatedChar) {
          this.warnUnterminated(t);
        }
      }
    }
    if (
      this.collectingArgs &&
      nameToken.image !== "define" &&
      nameToken.image !== "undef" &&
      !isConditionalName(nameToken.image)
    ) {
      this.error(nameToken, `#${nameToken.image} inside macro arguments is not supported`);
      return;
    }
    switch (nameToken.image) {
      case "define":
        return this.define(nameToken, args);
      case "undef":
        return this.undef(nameToken, args);
      case "include":
        return this.include(nameToken, args, false);
      case "include_next":
        return this.include(nameToken, args, true);
      case "if":
        return this.ifDirective(nameToken, args);
      case "ifdef":
      case "ifndef":
        return this.ifdef(nameToken, args, nameToken.image === "ifndef");
      case "elif":
      case "elifdef":
      case "elifndef":
        return this.elif(nameToken, args);
      case "else":
        return this.elseDirective(nameToken, args);
      case "endif":
        return this.endif(nameToken, args);
      case "error":
        return this.error(nameToken, this.restOfLine(hash, args));
      case "warning":
        return this.warning(nameToken, this.restOfLine(hash, args), "-W#warnings");
      case "line":
        return this.lineDirective(nameToken, args);
      case "pragma":
        return this.pragma(hash, args);
      case "ident":
      case "sccs":
        return;
      default:
        if (nameToken.tokenType === IntegerConstant)
          return this.lineDirective(nameToken, [nameToken, ...args], true);
        this.error(nameToken, "invalid preprocessing directive");
    }
  }

  /** The raw text of a directive's arguments (for #error/#warning), as written. */
  private restOfLine(hash: CToken, args: CToken[]): string {
    const first = args[0];
    if (first === undefined) return "";
    const text = this.texts.get(hash.file) ?? "";
    let end = text.indexOf("\n", first.startOffset);
    if (end < 0) end = text.length;
    // A continued line ends at the last argument's line.
    const last = args[args.length - 1]!;
    const lastEnd = last.startOffset + last.image.length;
    if (lastEnd > end) {
      end = text.indexOf("\n", lastEnd);
      if (end < 0) end = text.length;
    }
    if (text.charCodeAt(end - 1) === 13) end--;
    return text.slice(first.startOffset, end);
  }

  private extraTokens(args: CToken[], from: number, directive: string): void {
    const extra = args[from];
    if (extra !== undefined)
      this.warning(extra, `extra tokens at end of #${directive} directive`, "-Wextra-tokens", {
        fixIt: { col: extra.col, text: "//" },
      });
  }

  // ---- #define / #undef ----

  private macroName(
    directive: CToken,
    args: CToken[],
    what: "define" | "undef" | "ifdef",
  ): CToken | undefined {
    const name = args[0];
    if (name === undefined) {
      this.error(locAfter(directive), "macro name missing");
      return undefined;
    }
    if (!isIdentifier(name)) {
      this.error(name, "macro name must be an identifier");
      return undefined;
    }
    if (name.image === "defined" && what !== "ifdef") {
      this.error(name, "'defined' cannot be used as a macro name");
      return undefined;
    }
    return name;
  }

  private define(directive: CToken, args: CToken[]): void {
    const name = this.macroName(directive, args, "define");
    if (name === undefined) return;
    let bodyStart = 1;
    let params: string[] | undefined;
    let variadic = false;
    const open = args[1];
    if (open !== undefined && open.tokenType === LParen && !open.hasSpace) {
      const parsed = this.parseParams(args, 2);
      if (parsed === undefined) return;
      ({ params, variadic } = parsed);
      bodyStart = parsed.next;
    }
    const body = args.slice(bodyStart);
    const macro = this.makeMacro(name, params, variadic, body);
    if (macro === undefined) return;
    const previous = this.macros.get(name.image);
    if (previous !== undefined) {
      if (previous.builtin !== undefined) {
        this.warning(name, "redefining builtin macro", "-Wbuiltin-macro-redefined");
      } else if (!sameDefinition(previous, macro)) {
        this.warning(name, `'${name.image}' macro redefined`, "-Wmacro-redefined", {
          notes: [note(previous.definition, "previous definition is here")],
        });
      }
    }
    this.writableMacros().set(name.image, macro);
  }

  /** Parses `a, b, ...)` from args[from]; returns the parameters and the index after `)`. */
  private parseParams(
    args: CToken[],
    from: number,
  ): { params: string[]; variadic: boolean; next: number } | undefined {
    const params: string[] = [];
    let i = from;
    if (args[i]?.tokenType === RParen) return { params, variadic: false, next: i + 1 };
    for (;;) {
      const t = args[i];
      if (t === undefined) {
        this.error(locAfter(args[i - 1]!), "missing ')' in macro parameter list");
        return undefined;
      }
      if (t.image === "...") {
        params.push("__VA_ARGS__");
        const close = args[i + 1];
        if (close?.tokenType !== RParen) {
          this.error(close ?? locAfter(t), "missing ')' in macro parameter list");
          return undefined;
        }
        return { params, variadic: true, next: i + 2 };
      }
      if (!isIdentifier(t)) {
        this.error(t, "invalid token in macro parameter list");
        return undefined;
      }
      if (t.image === "__VA_ARGS__") {
        this.warning(
          t,
          "__VA_ARGS__ can only appear in the expansion of a C99 variadic macro",
          "-Wpedantic",
        );
      }
      if (params.includes(t.image)) {
        this.error(t, `duplicate macro parameter name '${t.image}'`);
        return undefined;
      }
      params.push(t.image);
      const sep = args[i + 1];
      if (sep?.image === "...") {
        // GNU named variadic parameter: `args...`
        const close = args[i + 2];
        if (close?.tokenType !== RParen) {
          this.error(close ?? locAfter(sep), "missing ')' in macro parameter list");
          return undefined;
        }
        return { params, variadic: true, next: i + 3 };
      }
      if (sep?.tokenType === RParen) return { params, variadic: false, next: i + 2 };
      if (sep?.tokenType !== Comma) {
        this.error(sep ?? locAfter(t), "expected comma in macro parameter list");
        return undefined;
      }
      i += 2;
    }
  }

  private makeMacro(
    name: CToken,
    params: string[] | undefined,
    variadic: boolean,
    body: CToken[],
  ): Macro | undefined {
    const paramIndex = new Int16Array(body.length).fill(-1);
    let plain = true;
    for (let i = 0; i < body.length; i++) {
      const t = body[i]!;
      if (t.tokenType === HashHash) {
        plain = false;
        if (i === 0) return void this.error(t, "'##' cannot appear at start of macro expansion");
        if (i === body.length - 1)
          return void this.error(t, "'##' cannot appear at end of macro expansion");
      } else if (params !== undefined && isIdentifier(t)) {
        const p = params.indexOf(t.image);
        if (p >= 0) {
          paramIndex[i] = p;
          plain = false;
        } else if (t.image === "__VA_OPT__" && variadic) {
          plain = false;
        }
      } else if (params !== undefined && t.tokenType === Hash) {
        plain = false;
        const operand = body[i + 1];
        const isParam =
          operand !== undefined &&
          isIdentifier(operand) &&
          (params.includes(operand.image) || (variadic && operand.image === "__VA_OPT__"));
        if (!isParam)
          return void this.error(
            operand ?? locAfter(t),
            "'#' is not followed by a macro parameter",
          );
      }
    }
    return {
      name: name.image,
      params,
      variadic,
      body,
      definition: locOf(name),
      builtin: undefined,
      paramIndex,
      plain,
    };
  }

  private undef(directive: CToken, args: CToken[]): void {
    const name = this.macroName(directive, args, "undef");
    if (name === undefined) return;
    this.extraTokens(args, 1, "undef");
    const m = this.macros.get(name.image);
    if (m?.builtin !== undefined)
      this.warning(name, "undefining builtin macro", "-Wbuiltin-macro-redefined");
    this.writableMacros().delete(name.image);
  }

  // ---- #include ----

  /** The file name of an #include or __has_include operand: [name, angled] or undefined. */
  private headerName(tokens: CToken[], rawText: string | undefined): [string, boolean] | undefined {
    const first = tokens[0];
    if (first === undefined) return undefined;
    if (first.tokenType === StringLiteral && first.image.startsWith('"'))
      return [first.image.slice(1, -1), false];
    if (first.tokenType === Less) {
      const close = tokens.findIndex((t) => t.tokenType === Greater);
      if (close < 0) return undefined;
      // Written in the file: take the text between the brackets as is; else spell the tokens.
      if (
        rawText !== undefined &&
        tokens[close]!.file === first.file &&
        first.expansion === undefined
      ) {
        return [rawText.slice(first.startOffset + 1, tokens[close]!.startOffset), true];
      }
      return [spellBody(tokens.slice(1, close)), true];
    }
    return undefined;
  }

  private include(directive: CToken, args: CToken[], next: boolean): void {
    const text = this.file.entry.text;
    let operand = args;
    if (!(args[0]?.tokenType === StringLiteral || args[0]?.tokenType === Less))
      operand = this.expandLine(args);
    const header = this.headerName(operand, operand === args ? text : undefined);
    if (header === undefined) {
      this.error(args[0] ?? locAfter(directive), 'expected "FILENAME" or <FILENAME>');
      return;
    }
    const [name, angled] = header;
    const where = args[0]!;
    if (name === "") {
      this.error(where, "empty filename");
      return;
    }
    if (next && this.file.searchIndex < 0) {
      this.warning(
        directive,
        "#include_next in primary source file",
        "-Winclude-next-outside-header",
      );
    }
    const found = this.findInclude(name, angled, next);
    if (found === undefined) {
      const last = angled ? (args.find((t) => t.tokenType === Greater) ?? where) : where;
      const range =
        where.expansion === undefined && last.line === where.line
          ? { startCol: where.col, endCol: last.col + last.image.length }
          : undefined;
      this.report(
        "error",
        where,
        `'${name}' file not found`,
        range ? { fatal: true, range } : { fatal: true },
      );
      this.fatal = true;
      return;
    }
    if (found.entry === this.mainEntry) this.mainIncluded = true;
    if (found.entry.pragmaOnce || this.isGuarded(found.entry)) {
      this.stats.skippedIncludes++;
      return;
    }
    if (this.includeStack.length >= MAX_INCLUDE_DEPTH) {
      this.error(where, "#include nested too deeply");
      this.fatal = true;
      return;
    }
    const includedAt = { file: this.file.name, line: directive.line, col: directive.col };
    this.pushFile(found.entry, found.searchIndex, found.system || this.file.system, includedAt);
    if (!this.firstInclusion.has(found.entry.path))
      this.firstInclusion.set(found.entry.path, this.includeChain());
  }

  /** Resolves an include the way clang does: the includer's directory (quoted), -iquote, -I, system dirs. */
  private findInclude(
    name: string,
    angled: boolean,
    next: boolean,
  ): { entry: FileEntry; searchIndex: number; system: boolean } | undefined {
    if (name.startsWith("/")) {
      const entry = this.entry(name);
      return entry ? { entry, searchIndex: -1, system: false } : undefined;
    }
    if (!angled && !next) {
      const dir = dirName(this.file.entry.path);
      const entry = this.entry(dir === "" ? name : `${dir}/${name}`) ?? undefined;
      if (entry) return { entry, searchIndex: -1, system: this.file.system };
      for (const d of this.quoteSearchPath) {
        const e = this.entry(joinPath(d, name));
        if (e) return { entry: e, searchIndex: -1, system: false };
      }
    }
    const start = next && this.file.searchIndex >= 0 ? this.file.searchIndex + 1 : 0;
    for (let i = start; i < this.searchPath.length; i++) {
      const { dir, system } = this.searchPath[i]!;
      const entry = this.entry(joinPath(dir, name));
      if (entry) return { entry, searchIndex: i, system };
    }
    return undefined;
  }

  /** Is this file wrapped in `#ifndef X #define X ... #endif` with X now defined? */
  private isGuarded(entry: FileEntry): boolean {
    entry.guard ??= findIncludeGuard(entry.tokens, entry.directives);
    return entry.guard !== null && this.macros.has(entry.guard);
  }

  // ---- conditionals ----

  private ifDirective(directive: CToken, args: CToken[]): void {
    const value = this.condition(directive, args);
    this.file.conditionals.push({ where: directive, taken: value, sawElse: false });
    if (!value) this.skipGroup();
  }

  private ifdef(directive: CToken, args: CToken[], negate: boolean): void {
    const name = this.macroName(directive, args, "ifdef");
    const defined = name !== undefined && this.macros.has(name.image);
    if (name !== undefined) this.extraTokens(args, 1, directive.image);
    const value = name !== undefined && defined !== negate;
    this.file.conditionals.push({ where: directive, taken: value, sawElse: false });
    if (!value) this.skipGroup();
  }

  private elif(directive: CToken, args: CToken[]): void {
    const c = this.file.conditionals[this.file.conditionals.length - 1];
    if (c === undefined) {
      this.error(directive, `#${directive.image} without #if`);
      return;
    }
    if (c.sawElse) this.error(directive, `#${directive.image} after #else`);
    if (c.taken) return this.skipGroup();
    let value: boolean;
    if (directive.image === "elif") {
      value = this.condition(directive, args);
    } else {
      const name = this.macroName(directive, args, "ifdef");
      value = name !== undefined && this.macros.has(name.image) === (directive.image === "elifdef");
    }
    if (value) c.taken = true;
    else this.skipGroup();
  }

  private elseDirective(directive: CToken, args: CToken[]): void {
    const c = this.file.conditionals[this.file.conditionals.length - 1];
    if (c === undefined) {
      this.error(directive, "#else without #if");
      return;
    }
    this.extraTokens(args, 0, "else");
    if (c.sawElse) this.error(directive, "#else after #else");
    c.sawElse = true;
    if (c.taken) return this.skipGroup();
    c.taken = true;
  }

  private endif(directive: CToken, args: CToken[]): void {
    if (this.file.conditionals.pop() === undefined) {
      this.error(directive, "#endif without #if");
      return;
    }
    this.extraTokens(args, 0, "endif");
  }

  /**
   * Skips a group whose condition is false: advances to the #elif/#else/#endif that ends it
   * (leaving that directive to be processed) or to the end of the file.
   */
  private skipGroup(): void {
    const file = this.file;
    const tokens = file.tokens;
    const directives = file.entry.directives;
    this.nextDirective(file);
    let depth = 0;
    for (let k = file.nextDirective; k < directives.length; k++) {
      const pos = directives[k]!;
      const name = tokens[pos + 1];
      if (name === undefined || name.atLineStart) continue;
      switch (name.image) {
        case "if":
        case "ifdef":
        case "ifndef":
          depth++;
          break;
        case "endif":
          if (depth-- === 0) {
            file.pos = pos;
            return;
          }
          break;
        case "elif":
        case "elifdef":
        case "elifndef":
        case "else":
          if (depth === 0) {
            file.pos = pos;
            return;
          }
      }
    }
    file.pos = tokens.length;
  }

  /** Evaluates a #if/#elif line; errors are reported and count as false. */
  private condition(directive: CToken, args: CToken[]): boolean {
    this.conditionFailed = false;
    const expanded = this.expandLine(args, true);
    if (this.conditionFailed) return false; // `defined` or a feature check already reported
    return evaluateCondition(expanded, this.endOfLine(args[args.length - 1] ?? directive), {
      error: (at, message, extra) => this.error(at, message, extra),
      warning: (at, message, flag, extra) => this.warning(at, message, flag, extra),
    });
  }

  /** Where the line of a file token ends (clang's "end of directive" location). */
  private endOfLine(last: CToken): SourceLoc {
    const text = this.texts.get(last.file);
    const end = last.startOffset + last.image.length;
    if (text === undefined) return locAfter(last);
    let newline = text.indexOf("\n", end);
    if (newline < 0) newline = text.length;
    if (text.charCodeAt(newline - 1) === 13) newline--;
    return {
      file: last.file,
      line: last.line,
      col: last.col + last.image.length + (newline - end),
    };
  }

  // ---- #line, #pragma ----

  private lineDirective(directive: CToken, args: CToken[], gnuMarker = false): void {
    const number = args[0];
    const value =
      number?.tokenType === IntegerConstant && /^\d+$/.test(number.image)
        ? Number(number.image)
        : NaN;
    if (!(value > 0) && !(gnuMarker && value === 0)) {
      this.error(
        number ?? locAfter(directive),
        "#line directive requires a positive integer argument",
      );
      return;
    }
    const nameToken = args[1];
    let name = this.file.name;
    if (nameToken !== undefined) {
      if (nameToken.tokenType !== StringLiteral) {
        this.error(nameToken, "invalid filename for #line directive");
        return;
      }
      name = nameToken.image.slice(1, -1);
    }
    // Renumber the rest of the file: line `directive.line + 1` becomes `value`.
    const delta = value - (directive.line + 1);
    const file = this.file;
    const rest = file.tokens.slice(file.pos).map((t) => {
      const c = copyToken(t);
      c.line = t.line + delta;
      c.file = name;
      return c;
    });
    file.tokens = file.tokens.slice(0, file.pos).concat(rest);
    file.pos = file.tokens.length - rest.length;
    file.name = name;
    if (!this.texts.has(name)) this.texts.set(name, file.entry.text);
  }

  private pragma(hash: CToken, args: CToken[]): void {
    this.handlePragma(hash, args, undefined);
  }

  /**
   * Acts on a pragma the preprocessor owns; any other is passed on as a Pragma token placed at
   * `at`. Diagnostics point at `reportAt` (the _Pragma operator) or else at the pragma's words.
   */
  private handlePragma(at: CToken, args: CToken[], reportAt: CToken | undefined): void {
    const words = args.map((t) => t.image);
    const [first, second] = words;
    if (first === "once") {
      if (this.includeStack.length <= 1) {
        const [where, extra] = this.pragmaDiagnosticPlace(args[0]!, reportAt);
        this.warning(where, "#pragma once in main file", "-Wpragma-once-outside-header", extra);
      }
      this.file.entry.pragmaOnce = true;
      return;
    }
    if ((first === "GCC" || first === "clang") && second === "system_header") {
      this.file.system = true;
      return;
    }
    if ((first === "GCC" || first === "clang") && (second === "warning" || second === "error")) {
      const text =
        args[2]?.tokenType === StringLiteral ? unquote(args[2].image) : spellBody(args.slice(2));
      const [where, extra] = this.pragmaDiagnosticPlace(args[1]!, reportAt);
      if (second === "error") this.error(where, text, extra);
      else this.warning(where, text, "-W#pragma-messages", extra);
      return;
    }
    if (first === "message") {
      const literal = args.find((t) => t.tokenType === StringLiteral);
      const [where, extra] = this.pragmaDiagnosticPlace(args[0]!, reportAt);
      this.warning(where, literal ? unquote(literal.image) : "", "-W#pragma-messages", extra);
      return;
    }
    if (first === "push_macro" || first === "pop_macro") {
      const literal = args.find((t) => t.tokenType === StringLiteral);
      if (literal === undefined) return;
      const name = unquote(literal.image);
      let stack = this.pushedMacros.get(name);
      if (first === "push_macro") {
        if (stack === undefined) this.pushedMacros.set(name, (stack = []));
        stack.push(this.macros.get(name));
      } else if (stack !== undefined && stack.length > 0) {
        const m = stack.pop();
        if (m === undefined) this.writableMacros().delete(name);
        else this.writableMacros().set(name, m);
      }
      return;
    }
    if (first === "GCC" && (second === "poison" || second === "dependency")) return;
    const token = copyToken(at);
    token.tokenType = Pragma;
    token.tokenTypeIdx = Pragma.tokenTypeIdx!;
    token.image = spellBody(args);
    token.payload = args;
    this.pragmaAt.push(this.out.length);
    this.out.push(token);
  }

  // ---- macro expansion ----

  /** Expands a macro use found in the file, then rescans until its replacement is used up. */
  private expandAtTopLevel(name: CToken, macro: Macro): void {
    this.fromFile = true;
    if (!this.expand(name, macro)) this.out.push(name);
    this.drain(this.out);
    this.fromFile = false;
  }

  /** Rescans the pending frames into `out`, expanding macros, until they are used up. */
  private drain(out: CToken[]): void {
    const frames = this.frames;
    while (frames.length > 0 && !this.fatal && !(this.inCondition && this.conditionFailed)) {
      const frame = frames[frames.length - 1]!;
      if (frame.pos >= frame.tokens.length) {
        frames.pop();
        continue;
      }
      const t = frame.tokens[frame.pos++]!;
      if (identifierLike[t.tokenTypeIdx] === true) {
        if (this.inCondition && t.image === "defined") {
          // `defined` written in an object-like macro: clang warns (function-like ones are common
          // practice and only pedantic).
          const from = t.expansion === undefined ? undefined : this.macros.get(t.expansion.macro);
          if (from !== undefined && from.params === undefined) {
            this.warning(
              t,
              "macro expansion producing 'defined' has undefined behavior",
              "-Wexpansion-to-defined",
            );
          }
          out.push(this.definedOperator(t));
          continue;
        }
        const m = this.macros.get(t.image);
        if (
          m !== undefined &&
          (t.hideSet === undefined || !t.hideSet.has(t.image)) &&
          this.expand(t, m)
        )
          continue;
      }
      out.push(t);
    }
  }

  /** Macro-expands a directive's tokens on their own (no reading past them). */
  private expandLine(tokens: CToken[], condition = false): CToken[] {
    const saved = { frames: this.frames, fromFile: this.fromFile, inCondition: this.inCondition };
    this.frames = [{ tokens, pos: 0 }];
    this.fromFile = false;
    this.inCondition = condition;
    const out: CToken[] = [];
    this.drain(out);
    this.frames = saved.frames;
    this.fromFile = saved.fromFile;
    this.inCondition = saved.inCondition;
    return out;
  }

  /** The next token for a macro invocation: from the frames, then (at top level) from the file. */
  private nextToken(): CToken | undefined {
    const frames = this.frames;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.pos < frame.tokens.length) return frame.tokens[frame.pos++];
      frames.pop();
    }
    if (!this.fromFile) return undefined;
    const file = this.file;
    while (file.pos < file.tokens.length) {
      const t = file.tokens[file.pos]!;
      if (t.atLineStart && t.tokenType === Hash) {
        // A directive among macro arguments: clang processes it (#ifdef inside arguments).
        const wasCollecting = this.collectingArgs;
        this.collectingArgs = true;
        this.directive();
        this.collectingArgs = wasCollecting;
        if (this.file !== file) return undefined;
        continue;
      }
      file.pos++;
      // Read from the file for the first time: warn as the main loop would have.
      if (t.tokenType === UnterminatedString || t.tokenType === UnterminatedChar) {
        this.warnUnterminated(t);
      }
      return t;
    }
    return undefined;
  }

  /** Is the next token `(`? (Looks through the frames and, at top level, the file, consuming nothing.) */
  private nextIsLParen(): boolean {
    const frames = this.frames;
    for (let i = frames.length - 1; i >= 0; i--) {
      const frame = frames[i]!;
      if (frame.pos < frame.tokens.length) return frame.tokens[frame.pos]!.tokenType === LParen;
    }
    if (!this.fromFile) return false;
    const t = this.file.tokens[this.file.pos];
    return t !== undefined && t.tokenType === LParen && !(t.atLineStart && t.tokenType === Hash);
  }

  /**
   * Expands one macro use: pushes the replacement (to be rescanned) as a frame. Returns false when
   * a function-like macro's name is not followed by `(` (it is then an ordinary identifier).
   */
  private expand(name: CToken, macro: Macro): boolean {
    if (macro.builtin !== undefined) return this.expandBuiltin(name, macro.builtin);
    const expansion: MacroExpansion = {
      macro: macro.name,
      use: locOf(name),
      useEnd: locAfter(name),
      definition: macro.definition,
      parent: name.expansion,
    };
    if (++this.stats.macroExpansions > MAX_EXPANSIONS) {
      this.error(name, `macro expansion stopped after ${MAX_EXPANSIONS} expansions`);
      this.fatal = true;
      this.frames.length = 0;
      return true;
    }
    if (macro.params === undefined) {
      const hideSet = this.hideSets.add(name.hideSet, macro.name);
      const tokens = macro.plain
        ? this.copyBody(macro.body, hideSet, expansion, name.hasSpace)
        : this.substitute(macro, [], hideSet, expansion, name);
      this.frames.push({ tokens, pos: 0 });
      return true;
    }
    if (!this.nextIsLParen()) return false;
    this.nextToken(); // (
    const collected = this.collectArguments(name, macro);
    if (collected === undefined) return true;
    const { args, close } = collected;
    if (close.expansion === name.expansion && close.file === name.file) {
      expansion.useEnd = locAfter(close);
    }
    const hideSet = this.hideSets.add(
      this.hideSets.intersect(name.hideSet, close.hideSet),
      macro.name,
    );
    const tokens = this.substitute(macro, args, hideSet, expansion, name);
    this.frames.push({ tokens, pos: 0 });
    return true;
  }

  private copyBody(
    body: CToken[],
    hideSet: ReadonlySet<string>,
    expansion: MacroExpansion,
    hasSpace: boolean,
  ): CToken[] {
    const tokens = new Array<CToken>(body.length);
    for (let i = 0; i < body.length; i++) {
      const t = copyToken(body[i]!);
      t.hideSet = hideSet;
      t.expansion = expansion;
      t.atLineStart = false;
      tokens[i] = t;
    }
    if (tokens.length > 0) tokens[0]!.hasSpace = hasSpace;
    return tokens;
  }

  /** Reads the arguments of a function-like macro use after its `(`; reports a bad count. */
  private collectArguments(
    name: CToken,
    macro: Macro,
  ): { args: CToken[][]; close: CToken } | undefined {
    const params = macro.params!;
    const args: CToken[][] = [];
    let current: CToken[] = [];
    let depth = 0;
    let excessStart: CToken | undefined;
    const wasCollecting = this.collectingArgs;
    for (;;) {
      const t = this.nextToken();
      if (t === undefined) {
        this.collectingArgs = wasCollecting;
        this.error(name, "unterminated function-like macro invocation", {
          notes: [note(macro.definition, `macro '${macro.name}' defined here`)],
        });
        return undefined;
      }
      if (t.tokenType === LParen) depth++;
      else if (t.tokenType === RParen) {
        if (depth === 0) {
          args.push(current);
          this.collectingArgs = wasCollecting;
          return this.checkArgumentCount(name, macro, args, t, excessStart)
            ? { args, close: t }
            : undefined;
        }
        depth--;
      } else if (
        t.tokenType === Comma &&
        depth === 0 &&
        !(macro.variadic && args.length === params.length - 1)
      ) {
        args.push(current);
        current = [];
        continue;
      }
      if (args.length === params.length && excessStart === undefined && params.length > 0)
        excessStart = t;
      if (params.length === 0 && excessStart === undefined) excessStart = t;
      current.push(t);
    }
  }

  private checkArgumentCount(
    name: CToken,
    macro: Macro,
    args: CToken[][],
    close: CToken,
    excessStart: CToken | undefined,
  ): boolean {
    const params = macro.params!;
    const definedHere = [note(macro.definition, `macro '${macro.name}' defined here`)];
    if (params.length === 0) {
      if (args.length === 1 && args[0]!.length === 0) {
        args.length = 0;
        return true;
      }
      this.error(
        excessStart ?? close,
        "too many arguments provided to function-like macro invocation",
        { notes: definedHere },
      );
      return false;
    }
    if (args.length > params.length) {
      this.error(
        excessStart ?? close,
        "too many arguments provided to function-like macro invocation",
        { notes: definedHere },
      );
      return false;
    }
    // The variadic arguments may be left out altogether (a GNU extension C2x adopted).
    const required = macro.variadic ? params.length - 1 : params.length;
    if (args.length < required) {
      this.error(close, "too few arguments provided to function-like macro invocation", {
        notes: definedHere,
      });
      return false;
    }
    return true;
  }

  /** Fully macro-expands one argument on its own (C11 6.10.3.1). */
  private expandArgument(arg: CToken[]): CToken[] {
    // Each nested level of arguments is a level of recursion here: bound it, as a deep enough
    // input would otherwise exhaust the JavaScript stack.
    if (this.argumentDepth >= MAX_ARGUMENT_DEPTH) {
      if (arg[0] !== undefined) this.error(arg[0], "macro arguments nested too deeply");
      this.fatal = true;
      return [];
    }
    this.argumentDepth++;
    try {
      return this.expandArgumentFrames(arg);
    } finally {
      this.argumentDepth--;
    }
  }

  private expandArgumentFrames(arg: CToken[]): CToken[] {
    const saved = { frames: this.frames, fromFile: this.fromFile };
    this.frames = [{ tokens: arg, pos: 0 }];
    this.fromFile = false;
    const out: CToken[] = [];
    this.drain(out);
    this.frames = saved.frames;
    this.fromFile = saved.fromFile;
    return out;
  }

  /**
   * The replacement of a macro use: parameters replaced by (expanded, or for # and ## raw)
   * arguments, # stringized, ## pasted, every token given the hide set and expansion record.
   */
  private substitute(
    macro: Macro,
    args: CToken[][],
    hideSet: ReadonlySet<string>,
    expansion: MacroExpansion,
    name: CToken,
  ): CToken[] {
    const body = macro.body;
    const out: CToken[] = [];
    const expanded: (CToken[] | undefined)[] = []; // each argument expanded at most once
    const vaIndex = macro.variadic ? macro.params!.length - 1 : -1;
    // The `##` just seen, if any: the next operand is pasted onto the last token of `out`.
    let pasteNext: CToken | undefined;
    for (let i = 0; i < body.length; i++) {
      const t = body[i]!;
      const p = macro.paramIndex[i]!;
      let tokens: CToken[];
      if (t.tokenType === Hash && macro.params !== undefined) {
        const q = macro.paramIndex[i + 1]!;
        tokens = [this.stringize(q >= 0 ? (args[q] ?? []) : [], t, hideSet, expansion)];
        i++;
      } else if (t.tokenType === HashHash) {
        if (this.isCommaElision(macro, i, out)) {
          this.elideComma(macro, args[vaIndex], out, hideSet, body[i + 1]!);
          i++;
        } else {
          pasteNext = this.withExpansion(t, expansion);
        }
        continue;
      } else if (p >= 0) {
        // Operands of ## are used as written; other arguments fully expanded first.
        const arg = args[p] ?? [];
        const raw = pasteNext !== undefined || body[i + 1]?.tokenType === HashHash;
        const value = raw
          ? arg.length === 0
            ? [this.placemarker(t)]
            : arg
          : (expanded[p] ??= this.expandArgument(arg));
        tokens = this.mark(value, hideSet, t.hasSpace);
      } else if (t.image === "__VA_OPT__" && vaIndex >= 0 && body[i + 1]?.tokenType === LParen) {
        const close = matchingParen(body, i + 1);
        const va = (expanded[vaIndex] ??= this.expandArgument(args[vaIndex] ?? []));
        tokens =
          va.length > 0
            ? this.substituteVaOpt(macro, i + 2, close, args, hideSet, expansion, name)
            : [this.placemarker(t)];
        if (tokens.length > 0) tokens[0]!.hasSpace = t.hasSpace;
        i = close;
      } else {
        const c = copyToken(t);
        c.hideSet = hideSet;
        c.expansion = expansion;
        c.atLineStart = false;
        tokens = [c];
      }
      this.append(out, tokens, pasteNext);
      pasteNext = undefined;
    }
    const result = out.filter((t) => t.tokenType !== Placemarker);
    if (result.length > 0) result[0]!.hasSpace = name.hasSpace;
    return result;
  }

  /** `, ## __VA_ARGS__` (the GNU form): the `##` at `i` is between a comma and the variadic parameter. */
  private isCommaElision(macro: Macro, i: number, out: CToken[]): boolean {
    const vaIndex = macro.variadic ? macro.params!.length - 1 : -1;
    return (
      vaIndex >= 0 &&
      macro.paramIndex[i + 1] === vaIndex &&
      macro.body[i - 1]?.tokenType === Comma &&
      out[out.length - 1]?.tokenType === Comma
    );
  }

  /**
   * GNU comma elision: the comma goes when the variadic arguments are left out (or are the only
   * parameter's and empty), as clang does; otherwise they follow the comma, unpasted.
   */
  private elideComma(
    macro: Macro,
    va: CToken[] | undefined,
    out: CToken[],
    hideSet: ReadonlySet<string>,
    param: CToken,
  ): void {
    if (va === undefined || (va.length === 0 && macro.params!.length === 1)) out.pop();
    else if (va.length > 0) this.append(out, this.mark(va, hideSet, param.hasSpace), undefined);
  }

  /** The replacement of `__VA_OPT__(` body[from, to) `)` when the variadic arguments are not empty. */
  private substituteVaOpt(
    macro: Macro,
    from: number,
    to: number,
    args: CToken[][],
    hideSet: ReadonlySet<string>,
    expansion: MacroExpansion,
    name: CToken,
  ): CToken[] {
    const inner: Macro = {
      ...macro,
      body: macro.body.slice(from, to),
      paramIndex: macro.paramIndex.slice(from, to),
    };
    return this.substitute(inner, args, hideSet, expansion, name);
  }

  /** Copies argument tokens into a replacement: the macro's hide set added, the first spaced like the parameter. */
  private mark(tokens: CToken[], hideSet: ReadonlySet<string>, hasSpace: boolean): CToken[] {
    const marked = new Array<CToken>(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const c = copyToken(tokens[i]!);
      c.hideSet = this.hideSets.union(c.hideSet, hideSet);
      c.atLineStart = false;
      marked[i] = c;
    }
    if (marked.length > 0) marked[0]!.hasSpace = hasSpace;
    return marked;
  }

  private placemarker(at: CToken): CToken {
    const p = copyToken(at);
    p.tokenType = Placemarker;
    p.tokenTypeIdx = Placemarker.tokenTypeIdx!;
    p.image = "";
    return p;
  }

  /** A body token as it appears in this expansion (for diagnostics that point into the body). */
  private withExpansion(t: CToken, expansion: MacroExpansion): CToken {
    const c = copyToken(t);
    c.expansion = expansion;
    return c;
  }

  /**
   * Appends tokens; after a `##` (given as `pasteAt`) the first is pasted onto the last token
   * already there. A paste that does not form a token is reported and leaves both tokens.
   */
  private append(out: CToken[], tokens: CToken[], pasteAt: CToken | undefined): void {
    let start = 0;
    if (pasteAt !== undefined && out.length > 0 && tokens.length > 0) {
      const pasted = this.paste(out[out.length - 1]!, tokens[0]!, pasteAt);
      if (pasted !== undefined) {
        out[out.length - 1] = pasted;
        start = 1;
      }
    }
    for (let i = start; i < tokens.length; i++) out.push(tokens[i]!);
  }

  /** `lhs ## rhs`: the spelling of both, lexed again; it must form one token. */
  private paste(lhs: CToken, rhs: CToken, operator: CToken): CToken | undefined {
    if (lhs.tokenType === Placemarker) {
      const r = copyToken(rhs);
      r.hasSpace = lhs.hasSpace;
      return r;
    }
    if (rhs.tokenType === Placemarker) return lhs;
    const spelling = lhs.image + rhs.image;
    // Most pastes make a name (`prefix ## name`): one identifier or keyword, without lexing it.
    let type = wordSpellingType(spelling);
    if (type === undefined) {
      const lexed = lexFile(spelling, lhs.file);
      const pasted = lexed[0];
      if (lexed.length !== 1 || pasted === undefined || pasted.image !== spelling) {
        this.error(operator, `pasting formed '${spelling}', an invalid preprocessing token`);
        return undefined;
      }
      type = pasted.tokenType;
    }
    const result = copyToken(lhs);
    result.image = spelling;
    result.tokenType = type;
    result.tokenTypeIdx = type.tokenTypeIdx!;
    return result;
  }

  /** `#param`: the argument's spelling as a string literal (C11 6.10.3.2). */
  private stringize(
    arg: CToken[],
    hash: CToken,
    hideSet: ReadonlySet<string>,
    expansion: MacroExpansion,
  ): CToken {
    let text = "";
    for (let i = 0; i < arg.length; i++) {
      const t = arg[i]!;
      if (i > 0 && t.hasSpace) text += " ";
      const quoted = t.tokenType === StringLiteral || t.tokenType === CharConstant;
      text += quoted ? t.image.replace(/[\\"]/g, "\\$&") : t.image;
    }
    const literal = copyToken(hash);
    literal.image = `"${text}"`;
    literal.tokenType = StringLiteral;
    literal.tokenTypeIdx = StringLiteral.tokenTypeIdx!;
    literal.hideSet = hideSet;
    literal.expansion = expansion;
    literal.atLineStart = false;
    return literal;
  }

  // ---- builtin macros ----

  private expandBuiltin(name: CToken, builtin: BuiltinMacro): boolean {
    const where = diagnosticLoc(name);
    if (
      builtin === "__BASE_FILE__" ||
      (where.file === this.baseFile &&
        (builtin === "__FILE__" || builtin === "__FILE_NAME__" || builtin === "__LINE__"))
    )
      this.mainPlaceUsed = true;
    switch (builtin) {
      case "__FILE__":
        return this.pushSynthetic(name, StringLiteral, quote(where.file));
      case "__FILE_NAME__":
        return this.pushSynthetic(
          name,
          StringLiteral,
          quote(where.file.slice(where.file.lastIndexOf("/") + 1)),
        );
      case "__BASE_FILE__":
        return this.pushSynthetic(name, StringLiteral, quote(this.baseFile));
      case "__LINE__":
        return this.pushSynthetic(name, IntegerConstant, String(where.line));
      case "__COUNTER__":
        return this.pushSynthetic(name, IntegerConstant, String(this.counter++));
      case "__INCLUDE_LEVEL__":
        return this.pushSynthetic(
          name,
          IntegerConstant,
          String(Math.max(0, this.includeStack.length - 1)),
        );
      case "__DATE__":
      case "__TIME__":
      case "__TIMESTAMP__":
        this.clockUsed = true;
        return this.pushSynthetic(
          name,
          StringLiteral,
          quote(formatDate(this.options.now ?? new Date(), builtin)),
        );
      case "_Pragma":
        return this.pragmaOperator(name);
      default:
        return this.featureCheck(name, builtin);
    }
  }

  private pushSynthetic(at: CToken, type: TokenType, image: string): boolean {
    const t = copyToken(at);
    t.tokenType = type;
    t.tokenTypeIdx = type.tokenTypeIdx!;
    t.image = image;
    this.frames.push({ tokens: [t], pos: 0 });
    return true;
  }

  /** `_Pragma("text")`: acts like `#pragma text` at this point. */
  private pragmaOperator(name: CToken): boolean {
    const open = this.nextIsLParen() ? this.nextToken() : undefined;
    const literal = open ? this.nextToken() : undefined;
    const close = literal ? this.nextToken() : undefined;
    if (open === undefined || literal?.tokenType !== StringLiteral || close?.tokenType !== RParen) {
      this.error(name, "_Pragma takes a parenthesized string literal");
      return true;
    }
    // Like clang, spell the pragma in a scratch buffer, one " text" line per _Pragma, so that its
    // words have a place a diagnostic can show ("expanded from here").
    const text = unquote(literal.image);
    const line = this.scratchLines + 2;
    const lines = `\n ${text}\n`;
    this.scratch += lines;
    this.scratchLines += countLines(lines);
    this.texts.set(SCRATCH, this.scratch);
    const tokens = lexFile(text, SCRATCH);
    for (const t of tokens) {
      t.line = line;
      t.col += 1;
    }
    this.handlePragma(name, tokens, name);
    return true;
  }

  /** Where a pragma's diagnostic goes: its word, or the _Pragma with a note at the word. */
  private pragmaDiagnosticPlace(
    word: CToken,
    operator: CToken | undefined,
  ): [CToken, Partial<Diagnostic>] {
    if (operator === undefined) return [word, {}];
    return [operator, { notes: [note(locOf(word), "expanded from here")] }];
  }

  /** `defined X` / `defined(X)` in a #if line (the operand is not expanded). */
  private definedOperator(defined: CToken): CToken {
    let t = this.nextToken();
    let open: CToken | undefined;
    if (t?.tokenType === LParen) {
      open = t;
      t = this.nextToken();
    }
    let value = false;
    if (t === undefined) {
      this.conditionFailed = true;
      this.error(locAfter(open ?? defined), "macro name missing");
    } else if (!isIdentifier(t)) {
      this.conditionFailed = true;
      this.error(t, "macro name must be an identifier");
    } else {
      value = this.macros.has(t.image);
      if (open !== undefined) {
        const close = this.nextToken();
        if (close?.tokenType !== RParen) {
          this.conditionFailed = true;
          this.error(close ?? locAfter(t), "missing ')' after 'defined'", {
            notes: [note(locOf(open), "to match this '('")],
          });
        }
      }
    }
    const result = copyToken(defined);
    result.tokenType = IntegerConstant;
    result.tokenTypeIdx = IntegerConstant.tokenTypeIdx!;
    result.image = value ? "1" : "0";
    return result;
  }

  /** __has_include(<x>), __has_builtin(x), __has_attribute(x), ...: 1 or 0. */
  private featureCheck(name: CToken, builtin: BuiltinMacro): boolean {
    const fail = (at: CToken | SourceLoc, message: string, extra?: Partial<Diagnostic>) => {
      if (this.inCondition) this.conditionFailed = true;
      this.error(at, message, extra);
      return this.pushSynthetic(name, IntegerConstant, "0");
    };
    if (!this.nextIsLParen()) return fail(locAfter(name), `missing '(' after '${builtin}'`);
    const open = this.nextToken()!;
    const operand: CToken[] = [];
    let depth = 0;
    for (;;) {
      const t = this.nextToken();
      if (t === undefined) {
        return fail(
          locAfter(operand[operand.length - 1] ?? open),
          "unterminated function-like macro invocation",
        );
      }
      if (t.tokenType === RParen && depth-- === 0) break;
      if (t.tokenType === LParen) depth++;
      operand.push(t);
    }
    const takesName = !/^__has_(include|include_next|warning)$/.test(builtin);
    if (takesName) {
      const [first, second] = operand;
      if (first === undefined || !isIdentifier(first)) {
        return fail(
          first ?? open,
          "builtin feature check macro requires a parenthesized identifier",
        );
      }
      // Scoped attribute names (`gnu::packed`) are one operand.
      if (second !== undefined && second.image !== ":") {
        return fail(second, `missing ')' after '${first.image}'`, {
          notes: [note(locOf(open), "to match this '('")],
        });
      }
    }
    const value = this.featureValue(name, builtin, operand);
    if (value === undefined) return fail(operand[0] ?? open, 'expected "FILENAME" or <FILENAME>');
    return this.pushSynthetic(name, IntegerConstant, value ? "1" : "0");
  }

  private featureValue(
    name: CToken,
    builtin: BuiltinMacro,
    operand: CToken[],
  ): boolean | undefined {
    if (builtin === "__has_include" || builtin === "__has_include_next") {
      const expandedOperand =
        operand[0]?.tokenType === StringLiteral || operand[0]?.tokenType === Less
          ? operand
          : this.expandLine(operand);
      const header = this.headerName(expandedOperand, undefined);
      if (header === undefined) return undefined;
      return this.findInclude(header[0], header[1], builtin === "__has_include_next") !== undefined;
    }
    if (builtin === "__has_warning") return false;
    const word = spellBody(operand);
    if (builtin === "__is_identifier")
      return operand.length === 1 && operand[0]!.tokenType === Identifier;
    const plain = word.replace(/^__(.*)__$/, "$1");
    switch (builtin) {
      case "__has_builtin":
        return knownBuiltins.has(word);
      case "__has_attribute":
        return knownAttributes.has(plain);
      case "__has_c_attribute":
        return false;
      case "__has_feature":
        return knownFeatures.has(plain);
      case "__has_extension":
        return knownFeatures.has(plain) || knownExtensions.has(plain);
      default:
        return false;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function isConditionalName(name: string): boolean {
  return /^(?:if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)$/.test(name);
}

function dirName(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash);
}

function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, "\\$&")}"`;
}

function unquote(literal: string): string {
  return literal.replace(/^(?:u8|[uUL])?"|"$/g, "").replace(/\\([\\"])/g, "$1");
}

/** The index of the `)` matching the `(` at `open`, or the last index. */
function matchingParen(tokens: CToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType === LParen) depth++;
    else if (t.tokenType === RParen && --depth === 0) return i;
  }
  return tokens.length - 1;
}

function sameDefinition(a: Macro, b: Macro): boolean {
  if ((a.params === undefined) !== (b.params === undefined) || a.variadic !== b.variadic)
    return false;
  if (a.params && b.params && a.params.join(",") !== b.params.join(",")) return false;
  if (a.body.length !== b.body.length) return false;
  for (let i = 0; i < a.body.length; i++) {
    const x = a.body[i]!;
    const y = b.body[i]!;
    if (x.image !== y.image || (i > 0 && x.hasSpace !== y.hasSpace)) return false;
  }
  return true;
}

/**
 * The include guard of a file: X when the file is `#ifndef X` (or `#if !defined X`), `#define X`,
 * ..., a matching `#endif`, and nothing outside; else null. `directives` are where the file's
 * directives start (LexedFile.directives).
 */
export function findIncludeGuard(tokens: CToken[], directives: readonly number[]): string | null {
  if (directives[0] !== 0) return null;
  let guard: string | undefined;
  const directive = tokens[1]?.image;
  if (directive === "ifndef" && isIdentifier(tokens[2]) && tokens[3]?.atLineStart !== false) {
    guard = tokens[2]!.image;
  } else if (directive === "if" && tokens[2]?.image === "!" && tokens[3]?.image === "defined") {
    let i = 4;
    const paren = tokens[i]?.tokenType === LParen;
    if (paren) i++;
    if (isIdentifier(tokens[i])) guard = tokens[i]!.image;
    i++;
    if (paren && tokens[i++]?.tokenType !== RParen) guard = undefined;
    if (tokens[i]?.atLineStart === false) guard = undefined;
  }
  if (guard === undefined) return null;
  // The #if at token 0 must be closed by the last directive of the file, with no tokens after it.
  let depth = 0;
  for (const i of directives) {
    const name = tokens[i + 1];
    if (name === undefined || name.atLineStart) continue;
    const word = name.image;
    if (word === "if" || word === "ifdef" || word === "ifndef") depth++;
    else if (word === "endif") {
      depth--;
      if (depth === 0) {
        let j = i + 2;
        while (j < tokens.length && !tokens[j]!.atLineStart) j++;
        return j === tokens.length ? guard : null;
      }
    } else if (
      (word === "else" || word === "elif" || word === "elifdef" || word === "elifndef") &&
      depth === 1
    ) {
      return null;
    }
  }
  return null;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function formatDate(now: Date, which: "__DATE__" | "__TIME__" | "__TIMESTAMP__"): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const time = `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
  const day = String(now.getDate()).padStart(2, " ");
  if (which === "__TIME__") return time;
  if (which === "__DATE__") return `${MONTHS[now.getMonth()]} ${day} ${now.getFullYear()}`;
  return `${DAYS[now.getDay()]} ${MONTHS[now.getMonth()]} ${day} ${time} ${now.getFullYear()}`;
}

// ---------------------------------------------------------------------------------------------
// #if expressions (C11 6.10.1): integer constant expressions in intmax_t / uintmax_t, i.e. 64-bit
// signed or unsigned. BigInt is fine here: conditions are few and short, never a hot path.

interface ConditionReporter {
  error(at: CToken | SourceLoc, message: string, extra?: Partial<Diagnostic>): void;
  warning(
    at: CToken | SourceLoc,
    message: string,
    flag?: string,
    extra?: Partial<Diagnostic>,
  ): void;
}

/** A value with the tokens its subexpression spans (for clang's operand underlining). */
interface PPValue {
  value: bigint;
  unsigned: boolean;
  first: CToken;
  last: CToken;
}

/** Thrown to abandon a condition after its first error (the condition then counts as false). */
class ConditionFailed {}

const binaryPrecedence: Record<string, number> = {
  "||": 1,
  "&&": 2,
  "|": 3,
  "^": 4,
  "&": 5,
  "==": 6,
  "!=": 6,
  "<": 7,
  ">": 7,
  "<=": 7,
  ">=": 7,
  "<<": 8,
  ">>": 8,
  "+": 9,
  "-": 9,
  "*": 10,
  "/": 10,
  "%": 10,
};

const toSigned = (v: bigint) => BigInt.asIntN(64, v);
const toUnsigned = (v: bigint) => BigInt.asUintN(64, v);

/** The columns a subexpression covers, when all of it is written on `line` (not from a macro). */
function spanOf(v: PPValue, line: SourceLoc): SourceRange | undefined {
  const start = diagnosticLoc(v.first);
  const end = endOf(v.last);
  if (start.file !== line.file || end.file !== line.file) return undefined;
  if (start.line !== line.line || end.line !== line.line) return undefined;
  return { startCol: start.col, endCol: end.col };
}

/** Just past a token where a diagnostic shows it: past its outermost macro use if it has one. */
function endOf(t: CToken): SourceLoc {
  let e = t.expansion;
  if (e === undefined) return locAfter(t);
  while (e.parent !== undefined) e = e.parent;
  return e.useEnd;
}

/** Ranges for a diagnostic at `at` underlining the given subexpressions, as clang draws them. */
function ranges(at: CToken | SourceLoc, ...values: PPValue[]): Partial<Diagnostic> {
  const line = "image" in at ? diagnosticLoc(at) : at;
  const spans = values.map((v) => spanOf(v, line)).filter((r) => r !== undefined);
  if (spans.length === 0) return {};
  const [range, ...otherRanges] = spans as SourceRange[];
  return otherRanges.length ? { range, otherRanges } : { range };
}

/** Evaluates the macro-expanded tokens of a #if; `end` is where the line ends (for "expected ..."). */
export function evaluateCondition(
  tokens: CToken[],
  end: SourceLoc,
  report: ConditionReporter,
): boolean {
  const parser = new ConditionParser(tokens, end, report);
  try {
    return parser.condition().value !== 0n;
  } catch (e) {
    if (e instanceof ConditionFailed) return false;
    throw e;
  }
}

class ConditionParser {
  private pos = 0;
  /** Recursion depth through unary operators and parentheses. */
  private depth = 0;
  constructor(
    private readonly tokens: CToken[],
    private readonly end: SourceLoc,
    private readonly report: ConditionReporter,
  ) {}

  private fail(
    at: CToken | SourceLoc | undefined,
    message: string,
    extra?: Partial<Diagnostic>,
  ): never {
    this.report.error(at ?? this.end, message, extra);
    throw new ConditionFailed();
  }

  private peek(): CToken | undefined {
    return this.tokens[this.pos];
  }

  /** The whole line: an expression and nothing after it. */
  condition(): PPValue {
    const result = this.expression(true);
    const extra = this.peek();
    if (extra !== undefined) {
      this.fail(
        extra,
        "token is not a valid binary operator in a preprocessor subexpression",
        ranges(extra, result),
      );
    }
    return result;
  }

  /** expression := conditional (',' conditional)* */
  private expression(live: boolean): PPValue {
    let value = this.conditional(live);
    while (this.peek()?.tokenType === Comma) {
      this.pos++;
      value = this.conditional(live);
    }
    return value;
  }

  /** conditional := binary ('?' expression ':' conditional)? */
  private conditional(live: boolean): PPValue {
    const condition = this.binary(1, live);
    const question = this.peek();
    if (question?.image !== "?") return condition;
    this.pos++;
    const chooseFirst = condition.value !== 0n;
    const first = this.expression(live && chooseFirst);
    const colon = this.peek();
    if (colon?.image !== ":") {
      const at = colon ?? this.end;
      this.fail(at, "expected ':'", {
        ...ranges(at, condition, first),
        notes: [note(locOf(question), "to match this '?'")],
      });
    }
    this.pos++;
    const second = this.conditional(live && !chooseFirst);
    const unsigned = first.unsigned || second.unsigned;
    const chosen = chooseFirst ? first.value : second.value;
    return {
      value: unsigned ? toUnsigned(chosen) : chosen,
      unsigned,
      first: condition.first,
      last: second.last,
    };
  }

  /** Precedence climbing over the binary operators at or above `minPrecedence`. */
  private binary(minPrecedence: number, live: boolean): PPValue {
    let left = this.unary(live);
    for (;;) {
      const op = this.peek();
      if (op === undefined) return left;
      const precedence = binaryPrecedence[op.image];
      if (precedence === undefined || precedence < minPrecedence) return left;
      this.pos++;
      if (op.image === "&&" || op.image === "||") {
        const leftTrue = left.value !== 0n;
        const rightLive = live && (op.image === "&&" ? leftTrue : !leftTrue);
        const right = this.binary(precedence + 1, rightLive);
        const value =
          op.image === "&&" ? leftTrue && right.value !== 0n : leftTrue || right.value !== 0n;
        left = { value: value ? 1n : 0n, unsigned: false, first: left.first, last: right.last };
        continue;
      }
      const right = this.binary(precedence + 1, live);
      left = { ...this.apply(op, left, right, live), first: left.first, last: right.last };
    }
  }

  private apply(
    op: CToken,
    left: PPValue,
    right: PPValue,
    live: boolean,
  ): { value: bigint; unsigned: boolean } {
    const name = op.image;
    if (name === "<<" || name === ">>") return this.shift(op, left, right, live);
    const unsigned = left.unsigned || right.unsigned;
    if (unsigned && live) {
      if (!left.unsigned && left.value < 0n) this.converted(op, "left", left, right);
      if (!right.unsigned && right.value < 0n) this.converted(op, "right", left, right);
    }
    const a = unsigned ? toUnsigned(left.value) : left.value;
    const b = unsigned ? toUnsigned(right.value) : right.value;
    const truth = (v: boolean) => ({ value: v ? 1n : 0n, unsigned: false });
    switch (name) {
      case "==":
        return truth(a === b);
      case "!=":
        return truth(a !== b);
      case "<":
        return truth(a < b);
      case ">":
        return truth(a > b);
      case "<=":
        return truth(a <= b);
      case ">=":
        return truth(a >= b);
    }
    let exact: bigint;
    switch (name) {
      case "+":
        exact = a + b;
        break;
      case "-":
        exact = a - b;
        break;
      case "*":
        exact = a * b;
        break;
      case "/":
      case "%":
        if (b === 0n) {
          if (live) {
            const what = name === "/" ? "division" : "remainder";
            this.fail(op, `${what} by zero in preprocessor expression`, ranges(op, left, right));
          }
          return { value: 0n, unsigned };
        }
        exact = name === "/" ? a / b : a % b;
        break;
      case "&":
        exact = a & b;
        break;
      case "|":
        exact = a | b;
        break;
      default:
        exact = a ^ b;
    }
    return this.wrap(op, exact, unsigned, live, left, right);
  }

  private converted(op: CToken, side: "left" | "right", left: PPValue, right: PPValue): void {
    const value = side === "left" ? left.value : right.value;
    this.report.warning(
      op,
      `${side} side of operator converted from negative value to unsigned: ${value} to ${toUnsigned(value)}`,
      undefined,
      ranges(op, left, right),
    );
  }

  /** Reduces an exact result to 64 bits; signed overflow is reported as clang does. */
  private wrap(
    op: CToken,
    exact: bigint,
    unsigned: boolean,
    live: boolean,
    ...operands: PPValue[]
  ): { value: bigint; unsigned: boolean } {
    if (unsigned) return { value: toUnsigned(exact), unsigned };
    const value = toSigned(exact);
    if (value !== exact && live) {
      this.report.warning(
        op,
        "integer overflow in preprocessor expression",
        undefined,
        ranges(op, ...operands),
      );
    }
    return { value, unsigned };
  }

  private shift(
    op: CToken,
    left: PPValue,
    right: PPValue,
    live: boolean,
  ): { value: bigint; unsigned: boolean } {
    const amount = right.unsigned ? toUnsigned(right.value) : right.value;
    const leftShift = op.image === "<<" ? amount >= 0n : amount < 0n;
    const count = amount < 0n ? -amount : amount;
    if (count >= 64n) {
      const value = !leftShift && !left.unsigned && left.value < 0n ? -1n : 0n;
      if (leftShift && !left.unsigned && left.value !== 0n && live) {
        this.report.warning(
          op,
          "integer overflow in preprocessor expression",
          undefined,
          ranges(op, left, right),
        );
      }
      return { value, unsigned: left.unsigned };
    }
    if (!leftShift) return { value: left.value >> count, unsigned: left.unsigned };
    return this.wrap(op, left.value << count, left.unsigned, live, left, right);
  }

  /** unary := ('+' | '-' | '~' | '!') unary | primary */
  private unary(live: boolean): PPValue {
    const t = this.peek();
    if (++this.depth > MAX_EXPRESSION_DEPTH)
      this.fail(t, "preprocessor expression nested too deeply");
    try {
      return this.unaryAt(t, live);
    } finally {
      this.depth--;
    }
  }

  private unaryAt(t: CToken | undefined, live: boolean): PPValue {
    if (
      t === undefined ||
      !(t.image === "+" || t.image === "-" || t.image === "~" || t.image === "!")
    ) {
      return this.primary(live);
    }
    this.pos++;
    const v = this.unary(live);
    const span = { first: t, last: v.last };
    switch (t.image) {
      case "+":
        return { ...v, ...span };
      case "-":
        return { ...this.wrap(t, -v.value, v.unsigned, live), ...span };
      case "~":
        return {
          value: v.unsigned ? toUnsigned(~v.value) : ~v.value,
          unsigned: v.unsigned,
          ...span,
        };
      default:
        return { value: v.value === 0n ? 1n : 0n, unsigned: false, ...span };
    }
  }

  /** primary := '(' expression ')' | integer | character | identifier (which is 0) */
  private primary(live: boolean): PPValue {
    const t = this.peek();
    if (t === undefined) this.fail(this.end, "expected value in expression");
    if (t.tokenType === LParen) {
      this.pos++;
      const inner = this.expression(live);
      const close = this.peek();
      if (close?.tokenType !== RParen) {
        const at = close ?? this.end;
        this.fail(at, "expected ')' in preprocessor expression", {
          ...ranges(at, inner),
          notes: [note(locOf(t), "to match this '('")],
        });
      }
      this.pos++;
      return { ...inner, first: t, last: close };
    }
    this.pos++;
    const value = (v: bigint, unsigned = false): PPValue => ({
      value: v,
      unsigned,
      first: t,
      last: t,
    });
    if (t.tokenType === IntegerConstant || t.tokenType === PPNumber) {
      const { value: v, unsigned } = this.integer(t);
      return value(v, unsigned);
    }
    if (t.tokenType === FloatConstant)
      this.fail(t, "floating point literal in preprocessor expression");
    if (t.tokenType === CharConstant) return value(this.character(t));
    if (identifierLike[t.tokenTypeIdx] === true) {
      if (this.peek()?.tokenType === LParen) {
        this.fail(t, `function-like macro '${t.image}' is not defined`);
      }
      return value(0n);
    }
    if (t.tokenType === RParen) this.fail(t, "expected value in expression");
    this.fail(t, "invalid token at start of a preprocessor expression");
  }

  /** Fails at the `index`th character of a number token. */
  private failInNumber(t: CToken, index: number, message: string): never {
    const at = t.expansion === undefined ? { file: t.file, line: t.line, col: t.col + index } : t;
    this.fail(at, message);
  }

  /** An integer constant's value and signedness (C11 6.4.4.1, in #if every type is 64-bit). */
  private integer(t: CToken): { value: bigint; unsigned: boolean } {
    const image = t.image;
    let radix = 10;
    let i = 0;
    if (/^0[xX][\da-fA-F]/.test(image)) {
      radix = 16;
      i = 2;
    } else if (/^0[bB][01]/.test(image)) {
      radix = 2;
      i = 2;
    } else if (image.startsWith("0")) {
      radix = 8;
    }
    const digitsStart = i;
    const digit = radix === 16 ? /[\da-fA-F]/ : /\d/;
    while (i < image.length && digit.test(image[i]!)) i++;
    const digits = image.slice(digitsStart, i);
    const suffix = image.slice(i);
    if (radix === 8 || radix === 2) {
      const bad = digits.search(radix === 8 ? /[89]/ : /[2-9]/);
      if (bad >= 0) {
        const kind = radix === 8 ? "octal" : "binary";
        this.failInNumber(
          t,
          digitsStart + bad,
          `invalid digit '${digits[bad]}' in ${kind} constant`,
        );
      }
    }
    if (radix === 10 && /^[a-fA-F]/.test(suffix) && !/^[eE]/.test(suffix)) {
      this.failInNumber(t, i, `invalid digit '${suffix[0]}' in decimal constant`);
    }
    if (!/^(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?$/.test(suffix)) {
      this.failInNumber(t, i, `invalid suffix '${suffix}' on integer constant`);
    }
    const prefix = radix === 16 ? "0x" : radix === 8 ? "0o" : radix === 2 ? "0b" : "";
    const value = BigInt(prefix + (digits || "0"));
    if (value > 0xffffffffffffffffn) {
      this.fail(t, "integer literal is too large to be represented in any integer type");
    }
    let unsigned = /[uU]/.test(suffix);
    if (!unsigned && value > 0x7fffffffffffffffn) {
      if (radix === 10) {
        this.report.warning(
          t,
          "integer literal is too large to be represented in a signed integer type, interpreting as unsigned",
          "-Wimplicitly-unsigned-literal",
        );
      }
      unsigned = true;
    }
    return { value, unsigned };
  }

  /** A character constant's value: plain char is signed on BPF; several chars combine as clang does. */
  private character(t: CToken): bigint {
    const prefix = /^(u8|[uUL])?'/.exec(t.image)![1] ?? "";
    const chars = decodeEscapes(t.image.slice(prefix.length + 1, -1));
    if (chars.length === 0) this.fail(t, "empty character constant");
    if (prefix === "") {
      if (chars.length > 1)
        this.report.warning(t, "multi-character character constant", "-Wmultichar");
      let value = 0;
      for (const c of chars) value = ((value << 8) | (c & 0xff)) >>> 0;
      return chars.length === 1 ? BigInt((value << 24) >> 24) : BigInt(value | 0);
    }
    const c = chars[chars.length - 1]!;
    if (prefix === "u") return BigInt(c & 0xffff);
    if (prefix === "u8") return BigInt(c & 0xff);
    return BigInt(prefix === "L" ? c | 0 : c >>> 0);
  }
}

const simpleEscapes: Record<string, number> = {
  n: 10,
  t: 9,
  r: 13,
  a: 7,
  b: 8,
  f: 12,
  v: 11,
  e: 27,
  "\\": 92,
  "'": 39,
  '"': 34,
  "?": 63,
};

/** The code units of a character constant's contents, escapes decoded (UTF-8 bytes for plain text). */
function decodeEscapes(body: string): number[] {
  const units: number[] = [];
  const text = body.replace(/\\\r?\n/g, "");
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch !== "\\") {
      const code = text.codePointAt(i)!;
      if (code < 0x80) units.push(code);
      else {
        for (const b of new TextEncoder().encode(String.fromCodePoint(code))) units.push(b);
        if (code > 0xffff) i++;
      }
      continue;
    }
    const next = text[++i] ?? "";
    if (next in simpleEscapes) units.push(simpleEscapes[next]!);
    else if (next === "x") {
      const m = /^[\da-fA-F]+/.exec(text.slice(i + 1))?.[0] ?? "0";
      units.push(parseInt(m, 16) >>> 0);
      i += m.length;
    } else if (/[0-7]/.test(next)) {
      const m = /^[0-7]{1,3}/.exec(text.slice(i))![0];
      units.push(parseInt(m, 8));
      i += m.length - 1;
    } else if (next === "u" || next === "U") {
      const len = next === "u" ? 4 : 8;
      units.push(parseInt(text.slice(i + 1, i + 1 + len), 16) || 0);
      i += len;
    } else {
      units.push(next.charCodeAt(0));
    }
  }
  return units;
}
