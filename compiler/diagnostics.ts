// Diagnostics of the C front end, printed the way clang prints them:
//
//   In file included from main.c:1:
//   ./defs.h:3:9: error: expected expression
//   int v = B;
//           ^
//   ./defs.h:2:11: note: expanded from macro 'B'
//   #define B (1 + )
//             ^
//   1 error generated.
//
// Phases report into a DiagnosticBag and keep going where they sensibly can; the driver
// renders the bag and, if it holds errors, throws a CompileError carrying it.
import { TsbpfError } from "../runtime/error.js";

export type Severity = "error" | "warning" | "note";

/** A place in a source file: 1-based line and column (columns count UTF-8 bytes, as clang's do). */
export interface SourceLoc {
  file: string;
  line: number;
  col: number;
}

/** Columns [startCol, endCol) on the diagnostic's line, underlined with '~' around the caret. */
export interface SourceRange {
  startCol: number;
  endCol: number;
}

export interface Diagnostic {
  severity: Severity;
  message: string;
  /** Missing only for diagnostics about the whole run (e.g. a missing input file). */
  loc: SourceLoc | undefined;
  /** The main range to underline on loc's line. */
  range?: SourceRange;
  /** More ranges on loc's line (clang underlines both operands of a binary operator). */
  otherRanges?: SourceRange[];
  /** A suggested insertion at a column of loc's line, printed under the caret line as clang does. */
  fixIt?: { col: number; text: string };
  /** An error that stopped the compilation (printed "fatal error", counted as an error). */
  fatal?: boolean;
  /** clang's warning option, printed as ` [-Wname]` after the message. */
  flag?: string;
  /** The #include chain leading to loc's file, outermost first (printed as "In file included from"). */
  includedFrom?: SourceLoc[];
  notes: Diagnostic[];
}

/** The text of a file by the name diagnostics use, to show the offending line. */
export type SourceProvider = (file: string) => string | undefined;

export function formatLoc(loc: SourceLoc): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}

/** Collects the diagnostics of one compilation. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  errorCount = 0;
  warningCount = 0;

  add(diagnostic: Diagnostic): Diagnostic {
    this.items.push(diagnostic);
    if (diagnostic.severity === "error") this.errorCount++;
    else if (diagnostic.severity === "warning") this.warningCount++;
    return diagnostic;
  }

  error(loc: SourceLoc | undefined, message: string, notes: Diagnostic[] = []): Diagnostic {
    return this.add({ severity: "error", message, loc, notes });
  }

  warning(
    loc: SourceLoc | undefined,
    message: string,
    flag?: string,
    notes: Diagnostic[] = [],
  ): Diagnostic {
    const diagnostic: Diagnostic = { severity: "warning", message, loc, notes };
    if (flag !== undefined) diagnostic.flag = flag;
    return this.add(diagnostic);
  }

  hasErrors(): boolean {
    return this.errorCount > 0;
  }

  /** Throws a CompileError if any error was reported. */
  throwIfErrors(sources?: SourceProvider): void {
    if (this.errorCount > 0) throw new CompileError(this.items, sources);
  }
}

export function note(loc: SourceLoc | undefined, message: string): Diagnostic {
  return { severity: "note", message, loc, notes: [] };
}

/** A compilation that failed: carries every diagnostic; the message is the first error on one line. */
export class CompileError extends TsbpfError {
  readonly diagnostics: Diagnostic[];
  readonly sources: SourceProvider | undefined;

  constructor(diagnostics: Diagnostic[], sources?: SourceProvider) {
    super(summaryLine(diagnostics));
    this.diagnostics = diagnostics;
    this.sources = sources;
  }

  /** The full clang-style report, source lines and carets included. */
  render(): string {
    return renderDiagnostics(this.diagnostics, this.sources);
  }
}

function summaryLine(diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const first = errors[0] ?? diagnostics[0];
  if (first === undefined) return "compilation failed";
  const more =
    errors.length > 1
      ? ` (and ${errors.length - 1} more ${errors.length === 2 ? "error" : "errors"})`
      : "";
  return headerLine(first) + more;
}

function headerLine(d: Diagnostic): string {
  const where = d.loc ? `${formatLoc(d.loc)}: ` : "";
  const flag = d.flag !== undefined ? ` [${d.flag}]` : "";
  const severity = d.fatal ? "fatal error" : d.severity;
  return `${where}${severity}: ${d.message}${flag}`;
}

const TAB_STOP = 8;

/**
 * A source line as clang shows it (tabs expanded to 8-column stops) and the display position of
 * each column, columns counting UTF-8 bytes as clang's do.
 */
function expandTabs(line: string): { text: string; displayCol: (col: number) => number } {
  if (!/[\t\u0000-\u001f\u007f-\uffff]/.test(line)) {
    return { text: line, displayCol: (col) => col - 1 };
  }
  const starts: number[] = []; // display position of each byte column
  let text = "";
  let width = 0; // display columns so far: one per character, as clang counts them here
  for (const ch of line) {
    const code = ch.codePointAt(0)!;
    const bytes = code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    for (let b = 0; b < bytes; b++) starts.push(width);
    let shown = ch;
    if (ch === "\t") shown = " ".repeat(TAB_STOP - (width % TAB_STOP));
    else if (invisible(code)) shown = `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
    text += shown;
    width += shown === ch ? 1 : shown.length;
  }
  starts.push(width);
  return {
    text,
    displayCol: (col) => starts[Math.min(col - 1, starts.length - 1)] ?? width,
  };
}

/** Characters clang shows as <U+XXXX>: controls, and invisible format characters. */
function invisible(code: number): boolean {
  return (
    (code < 0x20 && code !== 9) ||
    code === 0x7f ||
    code === 0xfeff ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2064)
  );
}

function sourceLine(text: string, line: number): string | undefined {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  let end = text.indexOf("\n", start);
  if (end < 0) end = text.length;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return text.slice(start, end);
}

/** The source line and caret (with range tildes) under a location, or [] if the text is unknown. */
function snippet(d: Diagnostic, sources: SourceProvider | undefined): string[] {
  if (!d.loc || !sources) return [];
  const text = sources(d.loc.file);
  if (text === undefined) return [];
  const raw = sourceLine(text, d.loc.line);
  if (raw === undefined) return [];
  const { text: shown, displayCol } = expandTabs(raw);
  const marks: string[] = [];
  for (const range of [...(d.range ? [d.range] : []), ...(d.otherRanges ?? [])]) {
    const from = displayCol(range.startCol);
    const to = Math.max(from + 1, displayCol(range.endCol));
    for (let i = from; i < to; i++) marks[i] = "~";
  }
  marks[displayCol(d.loc.col)] = "^";
  let caret = "";
  for (let i = 0; i < marks.length; i++) caret += marks[i] ?? " ";
  const lines = [shown, caret];
  if (d.fixIt) lines.push(" ".repeat(displayCol(d.fixIt.col)) + d.fixIt.text);
  return lines;
}

/**
 * Renders one diagnostic and its notes. Like clang, the "In file included from" lines are printed
 * only when the include chain differs from the previously printed diagnostic's.
 */
function renderOne(
  d: Diagnostic,
  sources: SourceProvider | undefined,
  out: string[],
  state: { lastChain: string },
): void {
  const chain = d.includedFrom ?? [];
  const key = chain.map(formatLoc).join(" ");
  if (key !== state.lastChain) {
    for (const from of chain) out.push(`In file included from ${from.file}:${from.line}:`);
    state.lastChain = key;
  }
  out.push(headerLine(d));
  out.push(...snippet(d, sources));
  for (const n of d.notes) renderOne(n, sources, out, state);
}

/** clang's closing line: "1 error generated.", "2 warnings and 1 error generated.", or "" if none. */
export function summary(errorCount: number, warningCount: number): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (errorCount === 0 && warningCount === 0) return "";
  if (errorCount === 0) return `${plural(warningCount, "warning")} generated.`;
  if (warningCount === 0) return `${plural(errorCount, "error")} generated.`;
  return `${plural(warningCount, "warning")} and ${plural(errorCount, "error")} generated.`;
}

/** Renders diagnostics in clang's format, ending with the summary line when there is anything to count. */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources?: SourceProvider,
): string {
  const out: string[] = [];
  let errors = 0;
  let warnings = 0;
  const state = { lastChain: "" };
  for (const d of diagnostics) {
    renderOne(d, sources, out, state);
    if (d.severity === "error") errors++;
    else if (d.severity === "warning") warnings++;
  }
  const last = summary(errors, warnings);
  if (last) out.push(last);
  return out.length ? out.join("\n") + "\n" : "";
}
