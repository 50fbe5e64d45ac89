// The front end as one call: preprocess -> parse -> sema, with the diagnostics of all three in
// one bag and the time each phase took. The back end (and `tsbpf build`) starts from here.
import { type Diagnostic, DiagnosticBag, type SourceProvider } from "./diagnostics.js";
import type { TranslationUnit } from "./ast.js";
import { preprocess } from "./preprocess.js";
import { parseTranslationUnit } from "./parse.js";
import { analyze, type SemaResult } from "./sema.js";

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
  result.sema = analyze(parsed.unit, semaBag);
  for (const d of semaBag.items) diagnostics.add(withIncludeChain(d, pre.includedFrom));
  timings.semaMs = performance.now() - t2;
  return result;
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
