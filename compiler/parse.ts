// The C parser's entry points: preprocessed tokens in, a TranslationUnit (ast.ts) and clang-style
// diagnostics out. The grammar lives in parse-decl.ts, parse-expr.ts and parse-stmt.ts; this file
// runs it and turns what went wrong into Diagnostics.
//
// The parser is built once per process (Chevrotain's grammar analysis is the expensive part) and
// reused; a parse never throws on bad input: errors come back as diagnostics, with error recovery
// so that independent errors are all reported (up to clang's limit of 20).
import { EOF, type IRecognitionException, type IToken } from "./chevrotain.js";
import * as T from "./lexer.js";
import { copyToken, diagnosticLoc, expansionChain, lexFile, type CToken } from "./lexer.js";
import { note, type Diagnostic, type SourceLoc } from "./diagnostics.js";
import type { ExternalDecl, TranslationUnit } from "./ast.js";
import {
  BRACKET_DEPTH,
  BracketDepthExceeded,
  ERROR_LIMIT,
  TooManyErrors,
  type ParseProblem,
  type ParseSnapshot,
  type SnapshotOptions,
} from "./parse-base.js";
import { CParser } from "./parse-stmt.js";

export interface ParseOptions extends SnapshotOptions {
  /** Names to treat as typedef names from the start (besides clang's builtin ones). */
  typedefs?: Iterable<string>;
}

export type { ParseSnapshot };

export interface ParseResult {
  unit: TranslationUnit;
  /** Errors and warnings in source order; the parse succeeded when none is an error. */
  diagnostics: Diagnostic[];
}

/** The parser with its entry point exposed to this module. */
class TranslationUnitParser extends CParser {
  run(
    tokens: CToken[],
    options: ParseOptions,
  ): { decls: ExternalDecl[]; problems: ParseProblem[]; stopped: boolean } {
    this.begin(tokens, options.typedefs ?? [], options);
    let stopped = false;
    let decls: ExternalDecl[];
    try {
      decls = this.parseUnit((options.resume?.decls ?? []) as ExternalDecl[]);
    } catch (e) {
      decls = this.unitDecls;
      if (e instanceof BracketDepthExceeded) {
        this.stopAt(e.token, `bracket nesting level exceeded maximum of ${BRACKET_DEPTH}`);
      } else if (e instanceof RangeError && e.message.includes("call stack")) {
        // Nesting under clang's bracket limit can still be deeper than the rules' recursion
        // can go on the JavaScript stack (about 150 parentheses in an expression).
        this.stopAt(this.current(), "nesting too deep for the parser (out of stack)");
      } else if (e instanceof TooManyErrors) {
        stopped = true;
      } else {
        throw e;
      }
    } finally {
      this.end();
    }
    const problems = this.problems;
    for (const p of this.strayLoopPragmas()) {
      const what =
        p.words[0] === "clang" ? "clang loop" : p.words[0] === "GCC" ? "GCC unroll" : p.words[0]!;
      problems.push({
        severity: "error",
        message: `expected a for, while, or do-while loop to follow '#pragma ${what}'`,
        token: p.loc,
        afterToken: false,
        notes: [],
        order: Number.MAX_SAFE_INTEGER,
      });
    }
    return { decls, problems, stopped };
  }

  /** Reports a fatal error at `token`, where the parse stopped. */
  private stopAt(token: CToken, message: string): void {
    // Chevrotain took the unwinding of its outermost rule for input left over.
    this.errors = this.errors.filter((e) => e.name !== "NotAllInputParsedException");
    const tokens = this.pragmas.tokens;
    const index = tokens.indexOf(token);
    this.problems.push({
      severity: "error",
      fatal: true,
      message,
      token,
      afterToken: false,
      notes: [],
      order: index < 0 ? tokens.length : index,
    });
  }

  /** The next token (where the parse is), or the last one. */
  private current(): CToken {
    const tokens = this.pragmas.tokens;
    return tokens[Math.min(this.position() + 1, tokens.length - 1)]!;
  }

  recognitionErrors(): IRecognitionException[] {
    return this.errors;
  }

  parsedTokens(): CToken[] {
    return this.pragmas.tokens;
  }

  /** Ends a parse: the parser keeps nothing of it (a vmlinux.h's declarations hold ~85 MB). */
  release(): void {
    this.giveBackTokens();
    this.unitDecls = [];
  }
}

let sharedParser: TranslationUnitParser | undefined;

function parser(): TranslationUnitParser {
  sharedParser ??= new TranslationUnitParser();
  return sharedParser;
}

/**
 * Parses a translation unit from preprocessed tokens (Pragma tokens included). The tokens'
 * Chevrotain types are changed while parsing (identifiers that name types) and restored after.
 */
export function parseTranslationUnit(tokens: CToken[], options: ParseOptions = {}): ParseResult {
  const p = parser();
  let result: { decls: ExternalDecl[]; problems: ParseProblem[]; stopped: boolean };
  try {
    result = p.run(tokens, options);
    const parsed = p.parsedTokens();
    for (const e of p.recognitionErrors()) result.problems.push(recognitionProblem(e, parsed));
  } finally {
    p.release();
  }
  const { decls, problems, stopped } = result;
  problems.sort((a, b) => a.order - b.order);
  const diagnostics = toDiagnostics(problems, stopped);
  const first = tokens[0];
  const loc: CToken = first ?? emptyFileToken();
  return { unit: { kind: "TranslationUnit", loc, decls }, diagnostics };
}

/**
 * Lexes `text` and parses it without preprocessing: for tests and for `clang -E` output. Lines
 * starting with '#' are directives the preprocessor would have handled: `#pragma` lines become
 * Pragma tokens, anything else (line markers) is dropped.
 */
export function parseSource(
  text: string,
  file = "<input>",
  options: ParseOptions = {},
): ParseResult {
  return parseTranslationUnit(withPragmaTokens(lexFile(text, file)), options);
}

function withPragmaTokens(tokens: CToken[]): CToken[] {
  const out: CToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType !== T.Hash || !t.atLineStart) {
      out.push(t);
      continue;
    }
    let end = i + 1;
    while (end < tokens.length && !tokens[end]!.atLineStart) end++;
    const line = tokens.slice(i + 1, end);
    if (line[0]?.image === "pragma") {
      const pragma = copyToken(t);
      pragma.tokenType = T.Pragma;
      pragma.tokenTypeIdx = T.Pragma.tokenTypeIdx!;
      pragma.image = "#pragma";
      pragma.payload = line.slice(1);
      out.push(pragma);
    }
    i = end - 1;
  }
  return out;
}

// ---- problems to diagnostics ----

const CLOSERS: Record<string, [string, typeof T.LParen, typeof T.RParen]> = {
  "expected ')'": ["(", T.LParen, T.RParen],
  "expected ']'": ["[", T.LBracket, T.RBracket],
  "expected '}'": ["{", T.LBrace, T.RBrace],
};

/** A Chevrotain recognition error as a problem located the way clang locates it. */
function recognitionProblem(e: IRecognitionException, tokens: CToken[]): ParseProblem {
  const token = e.token;
  const isEof = token.tokenType === EOF || (token as CToken).file === undefined;
  let index = isEof ? tokens.length : tokens.indexOf(token as CToken);
  if (index < 0) index = tokens.length;
  const last = tokens[Math.min(index, tokens.length) - 1];
  const previous = (e as IRecognitionException & { previousToken?: IToken }).previousToken as
    CToken | undefined;
  const message = e.message;
  // clang puts a missing ';' (and anything at the end of the file) just past the previous token.
  // (and a missing ':' after case/default); in a for header it points at the token.
  const afterPrevious =
    (message.startsWith("expected ';'") && !message.endsWith("'for' statement specifier")) ||
    message.startsWith("expected ':' after") ||
    isEof;
  const at = afterPrevious ? (previous?.file !== undefined ? previous : last) : (token as CToken);
  const problem: ParseProblem = {
    severity: "error",
    message,
    token: at ?? emptyFileToken(),
    afterToken: afterPrevious,
    notes: [],
    order: index,
  };
  if (message === "expected 'while' in do/while loop") {
    const d = enclosingKeyword(tokens, index, T.Do);
    if (d !== undefined) problem.notes.push({ token: d, message: "to match this 'do'" });
  }
  if (message === "expected ':'") {
    const q = enclosingKeyword(tokens, index, T.Question);
    if (q !== undefined) problem.notes.push({ token: q, message: "to match this '?'" });
  }
  const closer = CLOSERS[message];
  if (closer !== undefined) {
    const opener = matchingOpener(tokens, index, closer[1], closer[2]);
    // clang names the '(' it matches, except those of __attribute__((...)) and asm(...).
    if (opener !== undefined && !opensAttributeOrAsm(tokens, opener)) {
      problem.notes.push({ token: opener, message: `to match this '${closer[0]}'` });
    }
  }
  return problem;
}

function opensAttributeOrAsm(tokens: CToken[], opener: CToken): boolean {
  const i = tokens.indexOf(opener);
  const before = tokens[i - 1]?.tokenType;
  const twoBefore = tokens[i - 2]?.tokenType;
  return (
    before === T.Attribute ||
    (before === T.LParen && twoBefore === T.Attribute) ||
    before === T.Asm ||
    ((before === T.Volatile || before === T.Inline || before === T.Goto) && twoBefore === T.Asm)
  );
}

/** The innermost unclosed `open` before token `index`. */
function matchingOpener(
  tokens: CToken[],
  index: number,
  open: unknown,
  close: unknown,
): CToken | undefined {
  let depth = 0;
  for (let i = Math.min(index, tokens.length) - 1; i >= 0; i--) {
    const t = tokens[i]!.tokenType;
    if (t === close) depth++;
    else if (t === open) {
      if (depth === 0) return tokens[i];
      depth--;
    }
  }
  return undefined;
}

/** The nearest `keyword` before token `index` outside the brackets closed in between. */
function enclosingKeyword(tokens: CToken[], index: number, keyword: unknown): CToken | undefined {
  let depth = 0;
  for (let i = Math.min(index, tokens.length) - 1; i >= 0; i--) {
    const t = tokens[i]!.tokenType;
    if (t === T.RBrace || t === T.RParen || t === T.RBracket) depth++;
    else if (t === T.LBrace || t === T.LParen || t === T.LBracket) depth--;
    else if (t === keyword && depth === 0) return tokens[i];
  }
  return undefined;
}

/** Just past the token, where clang points for a missing ';'. */
function endOf(tok: CToken): SourceLoc {
  if (tok.expansion !== undefined) return diagnosticLoc(tok);
  const image = tok.image;
  const newline = image.lastIndexOf("\n");
  if (newline < 0) return { file: tok.file, line: tok.line, col: tok.col + image.length };
  let lines = 0;
  for (let i = 0; i < image.length; i++) if (image.charCodeAt(i) === 10) lines++;
  return { file: tok.file, line: tok.line + lines, col: image.length - newline };
}

function macroNotes(tok: CToken): Diagnostic[] {
  if (tok.expansion === undefined) return [];
  return expansionChain(tok).map((step) => note(step.loc, `expanded from macro '${step.macro}'`));
}

function toDiagnostics(problems: ParseProblem[], stopped: boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const reportedOpeners = new Set<CToken>();
  let errors = 0;
  for (const p of problems) {
    let loc = p.afterToken ? endOf(p.token) : diagnosticLoc(p.token);
    if (p.colOffset !== undefined && p.token.expansion === undefined)
      loc = { ...loc, col: loc.col + p.colOffset };
    const key = `${loc.file}:${loc.line}:${loc.col}:${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // Recovery may ask again for the same ')': clang reports an unclosed bracket once.
    const opener = p.notes.find((n) => n.message.startsWith("to match this"))?.token;
    if (opener !== undefined) {
      if (reportedOpeners.has(opener)) continue;
      reportedOpeners.add(opener);
    }
    if (p.severity === "error" && ++errors > ERROR_LIMIT) {
      stopped = true;
      break;
    }
    const notes = macroNotes(p.token);
    for (const n of p.notes)
      notes.push(note(diagnosticLoc(n.token), n.message), ...macroNotes(n.token));
    const d: Diagnostic = { severity: p.severity, message: p.message, loc, notes };
    if (p.flag !== undefined) d.flag = p.flag;
    if (p.fatal === true) d.fatal = true;
    out.push(d);
    if (p.fatal === true) break;
  }
  if (stopped)
    out.push({
      severity: "error",
      message: "too many errors emitted, stopping now",
      loc: undefined,
      notes: [],
    });
  return out;
}

function emptyFileToken(): CToken {
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

/** Builds the parser now (it is otherwise built on first use; about 100 ms). */
export function warmUpParser(): void {
  parser();
}
