// The front end as one call: preprocess -> parse -> sema, with the diagnostics of all three in
// one bag and the time each phase took. The back end (and `tsbpf build`) starts from here.
import { type Diagnostic, DiagnosticBag, type SourceProvider } from "./diagnostics.js";
import type { TranslationUnit } from "./ast.js";
import { statSync } from "node:fs";
import { dirname } from "node:path";
import { withoutPagePromotion } from "./gc.js";
import {
  preprocess,
  readSourceFile,
  resumePreprocess,
  type PreprocessOptions,
  type PreprocessResult,
  type PreprocessSnapshot,
  type SnapshotRequest,
} from "./preprocess.js";
import { parseTranslationUnit, type ParseResult, type ParseSnapshot } from "./parse.js";
import { analyze, type SemaCacheOptions, type SemaResult, type SemaSnapshot } from "./sema.js";
import { type CToken, Pragma } from "./lexer.js";
import type { SourcePos } from "./types.js";

export interface FrontendInput {
  // The file name diagnostics use; read from disk unless `source` is given.
  file: string;
  source?: string;
}

export interface FrontendOptions {
  // -I directories, in order.
  includeDirs?: string[];
  // -D values: "NAME" or "NAME=VALUE".
  defines?: string[];
  // -U names.
  undefines?: string[];
  // -mcpu: v1, v2, v3, v4, probe, generic. clang 14 predefines nothing that depends on it,
  // so the front end only passes it through for the back end.
  cpu?: string;
  // -O level above 0 (predefines __OPTIMIZE__).
  optimize?: boolean;
  // Reads a file (tests); the file system by default.
  readFile?: (path: string) => string | undefined;
  // The prefix cache (see FrontendCache): a process-wide one by default; false for none.
  cache?: FrontendCache | false;
  // false: every record body is parsed and checked where it is, none read past to be parsed
  // when first used (parse-skim.ts); for the tests that compare the two. Implies no cache.
  deferBodies?: boolean;
}

export interface FrontendTimings {
  preprocessMs: number;
  parseMs: number;
  semaMs: number;
}

export interface CheckedProgram {
  // Undefined when preprocessing failed fatally.
  unit: TranslationUnit | undefined;
  // Undefined when the parse had errors (sema does not run on a broken tree).
  sema: SemaResult | undefined;
  diagnostics: DiagnosticBag;
  // File texts for rendering diagnostics.
  sources: SourceProvider;
  // Source lines preprocessed (a file included twice counts twice).
  lines: number;
  timings: FrontendTimings;
}

export function checkProgram(input: FrontendInput, opts: FrontendOptions = {}): CheckedProgram {
  return withoutPagePromotion(() => check(input, opts));
}

function check(input: FrontendInput, opts: FrontendOptions): CheckedProgram {
  const diagnostics = new DiagnosticBag();
  const t0 = performance.now();
  const cache =
    opts.cache === false || opts.deferBodies === false ? undefined : (opts.cache ?? sharedCache);
  const run = cache?.begin(input, opts, diagnostics);
  const pre =
    run?.preprocessed() ??
    preprocess(
      input.source !== undefined ? { text: input.source, name: input.file } : { path: input.file },
      preprocessOptions(opts, diagnostics),
    );
  const t1 = performance.now();
  const timings: FrontendTimings = { preprocessMs: t1 - t0, parseMs: 0, semaMs: 0 };
  const result: CheckedProgram = {
    unit: undefined,
    sema: undefined,
    diagnostics,
    sources: pre.sources,
    lines: pre.stats.lines,
    timings,
  };
  if (diagnostics.items.some((d: Diagnostic) => d.fatal === true)) return result;

  const parsed =
    run?.parse(pre) ??
    parseTranslationUnit(pre.tokens, { pragmas: pre.pragmas, deferBodies: opts.deferBodies });
  for (const d of parsed.diagnostics) diagnostics.add(withIncludeChain(d, pre.includedFrom));
  const t2 = performance.now();
  timings.parseMs = t2 - t1;
  result.unit = parsed.unit;
  if (parsed.diagnostics.some((d) => d.severity === "error")) return result;

  const semaBag = new DiagnosticBag();
  const anchors = new Map<Diagnostic, SourcePos>();
  result.sema = analyze(parsed.unit, semaBag, anchors, run?.sema());
  for (const d of applyDiagnosticPragmas(semaBag.items, anchors, pre.tokens, pre.pragmas)) {
    diagnostics.add(withIncludeChain(d, pre.includedFrom));
  }
  timings.semaMs = performance.now() - t2;
  return result;
}

function preprocessOptions(opts: FrontendOptions, diagnostics: DiagnosticBag): PreprocessOptions {
  return {
    includePaths: opts.includeDirs ?? [],
    defines: opts.defines ?? [],
    undefines: opts.undefines ?? [],
    optimize: opts.optimize ?? false,
    diagnostics,
    ...(opts.readFile ? { readFile: opts.readFile } : {}),
  };
}

// ---------------------------------------------------------------------------------------
// The prefix cache. A BPF program starts with its #include lines, and those headers (a
// vmlinux.h, libbpf's, the kernel's uapi) are nearly all of what the front end reads. The cache
// keeps, per main file and options, the state after those lines: the preprocessor's (tokens,
// macros, files read, include guards) and the parser's (declarations, typedef names, pragma
// state). A compile whose main file has the same text before the end of its last leading
// #include line, with the same options, and whose every file read by then (found or looked for
// and not found) still reads the same, goes on from that state: it preprocesses and parses only
// the rest. Sema's state after the declarations before the cut is kept too (when nothing was
// reported by then and no later declaration of that compile changed what it holds), and a
// compile going on from the parser's state checks only the declarations after them (see
// analyze in sema.ts: it checks the whole unit when one of them would change a header's
// variable, function, struct or enum). The result is the one a compile without the
// cache gives, diagnostics and locations included: the cache stores a state only when nothing
// was reported before it (but the main file's own lexing, which is done again), at file scope
// between declarations and outside every conditional and macro expansion.
//
// The state after the main file's first #include line, when only comments come before it, is
// also kept under that line and the main file's directory: other main files there that start
// with the same line (at the same columns, on any line) go on from it, as from a precompiled
// header, and store their own state. Nothing in that state comes from the main file but the
// place of the line in include chains, which the preprocessor moves (preprocess.ts, rebasable),
// and what __BASE_FILE__, or __FILE__ and __LINE__ in the main file, gave: a state that used
// them is not gone on from at another line or by another file.

/** A file the preprocessor read (or looked for), to tell whether it still reads the same. */
interface FileRead {
  path: string;
  /** What it read (undefined: no such file). */
  text: string | undefined;
  /** Its stat() (size, times, inode) when read from disk: a file that still has it is unchanged. */
  stat: string | undefined;
}

/** statSync's options, made once: a cached compile stats every file its state read. */
const statOptions = { throwIfNoEntry: false } as const;

/** size, mtime, ctime and inode: a write changes the times (nanoseconds on Linux). */
function statKey(path: string): string {
  try {
    const s = statSync(path, statOptions);
    return s === undefined ? "none" : `${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.ino}`;
  } catch {
    return "error";
  }
}

/** Whether every file reads the same (by stat() first, by content when that changed). */
function unchanged(reads: FileRead[], read: (path: string) => string | undefined): boolean {
  for (const r of reads) {
    if (r.stat !== undefined) {
      const now = statKey(r.path);
      if (now === r.stat) continue;
      if (read(r.path) !== r.text) return false;
      r.stat = now;
    } else if (read(r.path) !== r.text) return false;
  }
  return true;
}

interface CacheEntry {
  /** The main file's text before `line`; for a shared entry, the #include line's text. */
  prefix: string;
  line: number;
  /** Every file read before the snapshot (found or not). */
  reads: FileRead[];
  preprocessed: PreprocessSnapshot;
  parsed: ParseSnapshot;
  /** Sema's state after the parsed declarations, once a compile has given one. */
  sema?: SemaSnapshot;
  /** Its tokens no other entry stored by the same compile holds (for the cache's budget). */
  ownTokens: number;
}

/**
 * What an entry costs against the budget, in tokens: its own token objects, and the arrays of
 * all its state's tokens (the preprocessor's and the parser's, 8 bytes a token each, against a
 * token's ~110) and tables that grow with them, counted as a quarter of a token per token.
 */
function weight(e: CacheEntry): number {
  return e.ownTokens + (e.preprocessed.count >> 2);
}

/** A prefix cache (see above); `new FrontendCache()` for one of your own. */
export class FrontendCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly readerIds = new WeakMap<object, number>();
  private readers = 0;
  /** Compiles that went on from a cached state, that stored one, that found none to use. */
  hits = 0;
  stores = 0;
  misses = 0;
  /** Compiles that went on from the state after another main file's first #include line. */
  sharedHits = 0;
  /** Hits whose sema went on from a kept state (the rest checked the whole unit). */
  semaHits = 0;

  /**
   * @param maxEntries states kept (least recently used dropped first)
   * @param maxTokens preprocessed tokens kept over all states, each token object counted once
   *   and each state's lists of them as a quarter of a token per token (see weight; a 3 MB
   *   vmlinux.h has ~500,000 tokens)
   */
  constructor(
    readonly maxEntries = 16,
    readonly maxTokens = 1_500_000,
  ) {}

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** A compile's use of the cache (undefined when its main file has no leading #include). */
  begin(
    input: FrontendInput,
    opts: FrontendOptions,
    diagnostics: DiagnosticBag,
  ): CachedRun | undefined {
    const read = opts.readFile ?? readSourceFile;
    const text = input.source ?? read(input.file);
    if (text === undefined) return undefined;
    const cut = leadingIncludes(text);
    if (cut === undefined) return undefined;
    const key = this.key(input.file, opts);
    const prefix = text.slice(0, cut.offset);
    const run = { file: input.file, text, cut, opts, diagnostics, key };
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.prefix === prefix && entry.line === cut.line) {
      if (unchanged(entry.reads, read)) {
        this.touch(key, entry);
        return new CachedRun(this, run, entry, undefined);
      }
      this.entries.delete(key);
    }
    // The state after the first #include line, which main files in one directory share.
    let shared: { key: string; entry: CacheEntry | undefined } | undefined;
    if (cut.first !== undefined) {
      const sharedKey = this.sharedKey(input.file, opts, cut.first.directive);
      let found = this.entries.get(sharedKey);
      if (found !== undefined && unchanged(found.reads, read)) this.touch(sharedKey, found);
      else if (found !== undefined) {
        this.entries.delete(sharedKey);
        found = undefined;
      }
      shared = { key: sharedKey, entry: found };
    }
    return new CachedRun(this, run, undefined, shared);
  }

  private touch(key: string, entry: CacheEntry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  /** @internal */
  store(key: string, entry: CacheEntry): void {
    this.touch(key, entry);
    this.stores++;
    let tokens = 0;
    for (const e of this.entries.values()) tokens += weight(e);
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && tokens <= this.maxTokens) break;
      this.entries.delete(k);
      tokens -= weight(e);
    }
  }

  private key(file: string, opts: FrontendOptions): string {
    return JSON.stringify([file, ...this.optionsKey(opts)]);
  }

  /** Main files in one directory include the same files by the same #include line. */
  private sharedKey(file: string, opts: FrontendOptions, directive: string): string {
    return JSON.stringify(["shared", dirname(file), directive, ...this.optionsKey(opts)]);
  }

  private optionsKey(opts: FrontendOptions): unknown[] {
    let reader = 0;
    if (opts.readFile !== undefined) {
      reader = this.readerIds.get(opts.readFile) ?? 0;
      if (reader === 0) this.readerIds.set(opts.readFile, (reader = ++this.readers));
    }
    return [
      opts.includeDirs ?? [],
      opts.defines ?? [],
      opts.undefines ?? [],
      opts.optimize ?? false,
      opts.cpu ?? "",
      reader,
    ];
  }
}

interface RunInput {
  file: string;
  text: string;
  cut: LeadingIncludes;
  opts: FrontendOptions;
  diagnostics: DiagnosticBag;
  /** The cache key of this main file's own state. */
  key: string;
}

/** The preprocessor's snapshots a run takes, with the files read before each. */
interface Pending {
  own?: { pp: PreprocessSnapshot; reads: FileRead[] };
  shared?: { pp: PreprocessSnapshot; reads: FileRead[] };
}

/**
 * One compile: goes on from its main file's own state (`entry`), or from the state after the
 * first #include line another main file of its directory stored (`shared.entry`), or reads the
 * whole file; the last two store the states they can (its own, and the shared one).
 */
class CachedRun {
  private pending: Pending | undefined;
  /** The shared entry the preprocessor went on from. */
  private resumedFrom: CacheEntry | undefined;
  /** The entry whose sema state this compile goes on from or gives. */
  private used: CacheEntry | undefined;
  /** An entry stored by this compile, after `used`'s state, to give a sema state as well. */
  private also: CacheEntry | undefined;

  constructor(
    private readonly cache: FrontendCache,
    private readonly run: RunInput,
    private readonly entry: CacheEntry | undefined,
    private readonly shared: { key: string; entry: CacheEntry | undefined } | undefined,
  ) {}

  preprocessed(): PreprocessResult {
    const { text, file, cut, opts, diagnostics } = this.run;
    const input = { text, name: file };
    const options = preprocessOptions(opts, diagnostics);
    if (this.entry !== undefined) {
      const pre = resumePreprocess(this.entry.preprocessed, input, options);
      if (pre !== undefined) return pre;
    }
    const reads: FileRead[] = [];
    const custom = opts.readFile;
    const pending: Pending = {};
    this.pending = pending;
    options.readFile = (path) => {
      // The stat first: a write between the two makes the next compile compare the text.
      const stat = custom === undefined ? statKey(path) : undefined;
      const text = (custom ?? readSourceFile)(path);
      reads.push({ path, text, stat });
      return text;
    };
    const first = cut.first;
    const sharedEntry = this.shared?.entry;
    if (sharedEntry !== undefined && first !== undefined) {
      const own: SnapshotRequest | undefined =
        cut.line > first.line
          ? {
              line: cut.line,
              onSnapshot: (pp) => (pending.own = { pp, reads: [...sharedEntry.reads, ...reads] }),
            }
          : undefined;
      const pre = resumePreprocess(sharedEntry.preprocessed, input, options, {
        line: first.line,
        snapshot: own,
      });
      if (pre !== undefined) {
        this.resumedFrom = sharedEntry;
        return pre;
      }
    }
    // No usable state: a whole run that records what it reads and takes its snapshots.
    this.cache.misses++;
    const ownRequest: SnapshotRequest = {
      line: cut.line,
      onSnapshot: (pp) => (pending.own = { pp, reads: reads.slice() }),
    };
    let request = ownRequest;
    if (first !== undefined && this.shared !== undefined) {
      const onShared = (pp: PreprocessSnapshot) => (pending.shared = { pp, reads: reads.slice() });
      if (first.line === cut.line) {
        request = {
          line: cut.line,
          onSnapshot: (pp) => {
            ownRequest.onSnapshot(pp);
            onShared(pp);
          },
        };
      } else request = { line: first.line, onSnapshot: onShared, next: ownRequest };
    }
    return preprocess(input, options, request);
  }

  parse(pre: PreprocessResult): ParseResult {
    const pragmas = pre.pragmas;
    if (this.entry !== undefined && this.pending === undefined) {
      this.cache.hits++;
      this.used = this.entry;
      return parseTranslationUnit(pre.tokens, { resume: this.entry.parsed, pragmas });
    }
    const from = this.resumedFrom;
    if (from !== undefined) {
      // Sema goes on from the shared entry's state (or gives it one).
      this.cache.sharedHits++;
      this.used = from;
    }
    const { own, shared } = this.pending ?? {};
    // The parser's state at each of the preprocessor's, stored with it. One state taken where
    // the first #include line is the last is stored under both keys.
    const stores: { count: number; store: (parsed: ParseSnapshot) => void }[] = [];
    if (shared !== undefined) {
      stores.push({ count: shared.pp.count, store: (parsed) => this.store(shared, parsed, true) });
    }
    if (own !== undefined) {
      const store = (parsed: ParseSnapshot) => this.store(own, parsed, false);
      if (shared?.pp === own.pp) {
        const both = stores[0]!.store;
        stores[0]!.store = (parsed) => {
          both(parsed);
          store(parsed);
        };
      } else stores.push({ count: own.pp.count, store });
    }
    const [first, second] = stores;
    return parseTranslationUnit(pre.tokens, {
      pragmas,
      ...(from !== undefined ? { resume: from.parsed } : {}),
      ...(first !== undefined ? { snapshotAt: first.count, onSnapshot: first.store } : {}),
      ...(second !== undefined
        ? { next: { snapshotAt: second.count, onSnapshot: second.store } }
        : {}),
    });
  }

  /**
   * Stores the state the preprocessor took and the parser's there: the shared one under the
   * first #include line, or this file's own. The first stored gives sema's state (`used`, unless
   * the compile went on from a shared one); a second one too (`also`).
   */
  private store(
    taken: { pp: PreprocessSnapshot; reads: FileRead[] },
    parsed: ParseSnapshot,
    shared: boolean,
  ): void {
    const { text, cut, key } = this.run;
    // Its tokens no state this compile went on from or stored before it holds.
    const before = this.resumedFrom?.preprocessed.count ?? this.pending?.shared?.pp.count ?? 0;
    const entry: CacheEntry = {
      prefix: shared ? cut.first!.directive : text.slice(0, lineOffset(text, cut.line)),
      line: shared ? cut.first!.line : cut.line,
      reads: taken.reads,
      preprocessed: taken.pp,
      parsed,
      ownTokens: shared ? taken.pp.count : taken.pp.count - before,
    };
    this.cache.store(shared ? this.shared!.key : key, entry);
    if (this.used === undefined) this.used = entry;
    else this.also = entry;
  }

  /** How sema uses the entry: goes on from its state, or gives it one (and `also` one). */
  sema(): SemaCacheOptions | undefined {
    const entry = this.used;
    if (entry === undefined) return undefined;
    const also = this.also?.sema === undefined ? this.also : undefined;
    // One state stored under both keys gets one sema state.
    const same = also !== undefined && also.parsed === entry.parsed;
    if (same && entry.sema !== undefined) also.sema = entry.sema;
    const later =
      also === undefined || same
        ? undefined
        : {
            snapshotAt: also.parsed.decls.length,
            onSnapshot: (snapshot: SemaSnapshot) => (also.sema = snapshot),
          };
    if (entry.sema !== undefined) {
      return { resume: entry.sema, onResumed: () => this.cache.semaHits++, ...later };
    }
    return {
      snapshotAt: entry.parsed.decls.length,
      onSnapshot: (snapshot) => {
        entry.sema = snapshot;
        if (same) also.sema = snapshot;
      },
      next: later,
    };
  }
}

const sharedCache = new FrontendCache();

/** The process-wide cache compiles use unless given another (or false). */
export function sharedFrontendCache(): FrontendCache {
  return sharedCache;
}

/** Offset of the start of 1-based `line` (the text's length past its last line). */
function lineOffset(text: string, line: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  return offset;
}

/**
 * Where the main file's leading directive lines end: the line after its last leading #include,
 * when it has one. The lines before may only be blank, comments, #include, #define and #undef
 * (no line continued by a backslash). The preprocessor and the parser check again that their
 * state there is clean before anything is stored, so this only has to be a good guess.
 */
export function leadingIncludes(text: string): LeadingIncludes | undefined {
  let inComment = false;
  let best: LeadingIncludes | undefined;
  let first: LeadingIncludes["first"];
  let directives = 0;
  let offset = 0;
  for (let line = 1; offset < text.length; line++) {
    let end = text.indexOf("\n", offset);
    if (end < 0) end = text.length;
    const raw = text.slice(offset, end).replace(/\r$/, "");
    if (raw.endsWith("\\")) break;
    let code = "";
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (inComment) {
        if (c === "*" && raw[i + 1] === "/") {
          inComment = false;
          i++;
        }
        continue;
      }
      if (c === "/" && raw[i + 1] === "*") {
        inComment = true;
        code += " ";
        i++;
      } else if (c === "/" && raw[i + 1] === "/") break;
      else if (c === '"' || c === "'") {
        const close = raw.indexOf(c, i + 1);
        if (close < 0) return best;
        code += raw.slice(i, close + 1);
        i = close;
      } else code += c;
    }
    const directive = /^\s*#\s*(\w*)/.exec(code)?.[1];
    if (
      code.trim() !== "" &&
      directive !== "include" &&
      directive !== "define" &&
      directive !== "undef"
    )
      break;
    offset = end + 1;
    if (directive !== undefined && ++directives === 1 && directive === "include" && !inComment)
      first = { line: line + 1, directive: code.trim() };
    if (directive === "include" && !inComment)
      best = { line: line + 1, offset: Math.min(offset, text.length), first };
  }
  return best;
}

/** Where the leading directive lines end (see leadingIncludes). */
export interface LeadingIncludes {
  /** The line after the last leading #include, and its offset. */
  line: number;
  offset: number;
  /**
   * When the first of them is an #include (only blank lines and comments before it): the line
   * after it, and its text without comments (the key of the state shared between main files).
   */
  first: { line: number; directive: string } | undefined;
}

// ---------------------------------------------------------------------------------------
// `#pragma GCC diagnostic push/pop/ignored/warning/error "-Wflag"` (and `clang diagnostic`):
// regions of the token stream where a warning is dropped or made an error, as clang does
// (libbpf's BPF_KPROBE silences -Wint-conversion this way with _Pragma).

type Severity = "ignored" | "warning" | "error";

interface PragmaEvent {
  index: number;
  action: "push" | "pop" | Severity;
  flag: string;
}

// clang's groups that contain other warnings (ignoring the group ignores its members).
const parentFlag: Record<string, string> = {
  "-Wincompatible-pointer-types-discards-qualifiers": "-Wincompatible-pointer-types",
  "-Wincompatible-function-pointer-types": "-Wincompatible-pointer-types",
  "-Wunused-comparison": "-Wunused-value",
};

function pragmaEvent(t: CToken, index: number): PragmaEvent | undefined {
  if (t.tokenType !== Pragma || !Array.isArray(t.payload)) return undefined;
  let words = (t.payload as CToken[]).map((w) => w.image);
  if (words[0] === "pragma") words = words.slice(1);
  if ((words[0] !== "GCC" && words[0] !== "clang") || words[1] !== "diagnostic") return undefined;
  const action = words[2];
  if (action === "push" || action === "pop") return { index, action, flag: "" };
  if (action !== "ignored" && action !== "warning" && action !== "error") return undefined;
  const flag = (words[3] ?? "").replace(/^"|"$/g, "");
  return { index, action, flag };
}

function applyDiagnosticPragmas(
  items: readonly Diagnostic[],
  anchors: ReadonlyMap<Diagnostic, SourcePos>,
  tokens: readonly CToken[],
  pragmas: readonly number[],
): Diagnostic[] {
  if (!items.some((d) => d.flag !== undefined)) return [...items];
  const events: PragmaEvent[] = [];
  const wanted = new Set<SourcePos>();
  for (const d of items) {
    const a = anchors.get(d);
    if (d.flag !== undefined && a !== undefined) wanted.add(a);
  }
  for (const i of pragmas) {
    const e = pragmaEvent(tokens[i]!, i);
    if (e) events.push(e);
  }
  if (events.length === 0) return [...items];
  const indexOf = new Map<SourcePos, number>();
  for (const a of wanted) {
    const i = tokens.lastIndexOf(a as CToken);
    if (i >= 0) indexOf.set(a, i);
  }
  const out: Diagnostic[] = [];
  for (const d of items) {
    const a = anchors.get(d);
    const at = a === undefined ? undefined : indexOf.get(a);
    if (d.flag === undefined || at === undefined) {
      out.push(d);
      continue;
    }
    const severity = severityAt(events, at, d.flag);
    if (severity === "ignored") continue;
    if (severity === "error" && d.severity === "warning") {
      out.push({ ...d, severity: "error", flag: `-Werror,${d.flag}` });
    } else if (severity === "warning" && d.severity === "error")
      out.push({ ...d, severity: "warning" });
    else out.push(d);
  }
  return out;
}

// The severity the pragmas before token `at` give `flag` (undefined: no pragma says).
function severityAt(
  events: readonly PragmaEvent[],
  at: number,
  flag: string,
): Severity | undefined {
  const stack: Map<string, Severity>[] = [];
  let state = new Map<string, Severity>();
  for (const e of events) {
    if (e.index > at) break;
    if (e.action === "push") stack.push(new Map(state));
    else if (e.action === "pop") state = stack.pop() ?? new Map();
    else state.set(e.flag, e.action);
  }
  for (let f: string | undefined = flag; f !== undefined; f = parentFlag[f]) {
    const s = state.get(f);
    if (s !== undefined) return s;
  }
  return undefined;
}

// clang prints "In file included from ..." above a diagnostic in a header.
function withIncludeChain(
  d: Diagnostic,
  includedFrom: (file: string) => Diagnostic["includedFrom"],
): Diagnostic {
  if (d.loc === undefined || d.includedFrom !== undefined) return d;
  const chain = includedFrom(d.loc.file);
  return chain && chain.length > 0 ? { ...d, includedFrom: chain } : d;
}
