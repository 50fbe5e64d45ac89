// The front end as one call: preprocess -> parse -> sema, with the diagnostics of all three in
// one bag and the time each phase took. The back end (and `tsbpf build`) starts from here.
import { type Diagnostic, DiagnosticBag, type SourceProvider } from "./diagnostics.js";
import type { TranslationUnit } from "./ast.js";
import { preprocess } from "./preprocess.js";
import { parseTranslationUnit } from "./parse.js";
import { analyze, type SemaResult } from "./sema.js";
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
  const diagnostics = new DiagnosticBag();
  const t0 = performance.now();
  const pre = preprocess(
    input.source !== undefined ? { text: input.source, name: input.file } : { path: input.file },
    {
      includePaths: opts.includeDirs ?? [],
      defines: opts.defines ?? [],
      undefines: opts.undefines ?? [],
      optimize: opts.optimize ?? false,
      diagnostics,
      ...(opts.readFile ? { readFile: opts.readFile } : {}),
    },
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

  const parsed = parseTranslationUnit(pre.tokens);
  for (const d of parsed.diagnostics) diagnostics.add(withIncludeChain(d, pre.includedFrom));
  const t2 = performance.now();
  timings.parseMs = t2 - t1;
  result.unit = parsed.unit;
  if (parsed.diagnostics.some((d) => d.severity === "error")) return result;

  const semaBag = new DiagnosticBag();
  const anchors = new Map<Diagnostic, SourcePos>();
  result.sema = analyze(parsed.unit, semaBag, anchors);
  for (const d of applyDiagnosticPragmas(semaBag.items, anchors, pre.tokens)) {
    diagnostics.add(withIncludeChain(d, pre.includedFrom));
  }
  timings.semaMs = performance.now() - t2;
  return result;
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
): Diagnostic[] {
  if (!items.some((d) => d.flag !== undefined)) return [...items];
  const events: PragmaEvent[] = [];
  const wanted = new Set<SourcePos>();
  for (const d of items) {
    const a = anchors.get(d);
    if (d.flag !== undefined && a !== undefined) wanted.add(a);
  }
  const indexOf = new Map<SourcePos, number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType === Pragma) {
      const e = pragmaEvent(t, i);
      if (e) events.push(e);
    } else if (wanted.has(t)) indexOf.set(t, i);
  }
  if (events.length === 0) return [...items];
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
