// The pragmas the parser acts on. The preprocessor leaves each `#pragma X` (or `_Pragma("X")`)
// it keeps as one Pragma token in the stream, its payload the pragma's tokens. Before parsing they
// are taken out of the token array and turned into events keyed by the index of the token that
// follows them:
//   #pragma unroll / nounroll / clang loop ... / GCC unroll N   -> attached to the next loop
//   #pragma clang attribute push(__attribute__((a)), apply_to = record) / pop
//                                                               -> attributes for records in between
//   #pragma pack(N) / pack(push, N) / pack(pop) / pack()        -> max field alignment of records
// Anything else (GCC diagnostic, once, ...) is dropped, as clang ignores it for code generation.
import * as T from "./lexer.js";
import type { CToken } from "./lexer.js";
import type { Attribute, Expr, LoopPragma } from "./ast.js";
import { decodeInteger, decodeStrings } from "./parse-literals.js";

export interface PragmaEvent {
  /** Index (in the filtered token array) of the first token after the pragma. */
  index: number;
  kind: "attributePush" | "attributePop" | "pack";
  attributes: Attribute[];
  /** For pack: the alignment cap in bytes now in effect (0: none). */
  pack: number;
}

export interface PragmaProblem {
  token: CToken;
  message: string;
}

export interface PragmaScan {
  tokens: CToken[];
  loopPragmas: Map<number, LoopPragma[]>;
  /** In token order. */
  events: PragmaEvent[];
  problems: PragmaProblem[];
  /** `#pragma pack`'s value and its push stack after the last pragma (to go on from). */
  pack: number;
  packStack: number[];
}

/** Which tokens scanPragmas reads. */
export interface ScanRange {
  /**
   * Go on from the scan of the tokens before `count` (the front end's prefix cache). The
   * prefix's token array is lent, not copied: the tokens after it are pushed onto it, and the
   * caller gives it back with `prefix.tokens.length = <its length before>` once the parse is
   * over (a vmlinux.h prefix has 500,000 tokens; copying them cost more than parsing the rest).
   */
  from?: { count: number; prefix: PragmaScan };
  /** Stop before this token (default: the end). */
  end?: number;
}

/** The payload's tokens without a leading `pragma` word. */
function pragmaWords(pragma: CToken): CToken[] {
  const payload = pragma.payload as CToken[] | undefined;
  if (!Array.isArray(payload)) return [];
  return payload.length > 0 && payload[0]!.image === "pragma" ? payload.slice(1) : payload;
}

function isLoopPragma(words: CToken[]): boolean {
  const w0 = words[0]?.image;
  const w1 = words[1]?.image;
  return (
    w0 === "unroll" ||
    w0 === "nounroll" ||
    (w0 === "clang" && w1 === "loop") ||
    (w0 === "GCC" && (w1 === "unroll" || w1 === "ivdep"))
  );
}

/**
 * Splits Pragma tokens out of `input`; returns the remaining tokens and what the pragmas say.
 * `known` lists where the Pragma tokens are, when the caller knows (the preprocessor does).
 * With `range.from`, only the tokens after the prefix are read, and the result is the one a scan
 * of all of `input` gives (the prefix's own lists are not changed).
 */
export function scanPragmas(
  input: CToken[],
  known?: readonly number[],
  range: ScanRange = {},
): PragmaScan {
  const begin = range.from?.count ?? 0;
  const end = range.end ?? input.length;
  const pragmaAt: number[] = [];
  if (known !== undefined) {
    for (const at of known) if (at >= begin && at < end) pragmaAt.push(at);
  } else {
    const pragma = T.Pragma;
    for (let i = begin; i < end; i++) if (input[i]!.tokenType === pragma) pragmaAt.push(i);
  }
  const prefix = range.from?.prefix;
  const scan: PragmaScan = {
    tokens: input,
    loopPragmas: new Map(prefix?.loopPragmas),
    events: prefix !== undefined ? prefix.events.slice() : [],
    problems: prefix !== undefined ? prefix.problems.slice() : [],
    pack: prefix?.pack ?? 0,
    packStack: prefix !== undefined ? prefix.packStack.slice() : [],
  };
  // Without pragmas and prefix, the array itself (the parser does not change it). Otherwise the
  // runs of tokens between pragmas, by slice and, if there are several, concat: both copy as a
  // block (Array.prototype.copyWithin took some 80 ms on a vmlinux.h's 500,000 tokens, a push
  // loop 15-25, a loop into an array made at the result's size 11-19, a store and its write
  // barrier per token); a vmlinux.h, with pragmas only as its first and last token, is one
  // slice. Or pushed behind the prefix's tokens (see ScanRange.from).
  const base = prefix?.tokens.length ?? 0;
  if (prefix !== undefined) {
    const tokens = prefix.tokens;
    let from = begin;
    for (let k = 0; k <= pragmaAt.length; k++) {
      const to = k < pragmaAt.length ? pragmaAt[k]! : end;
      for (let i = from; i < to; i++) tokens.push(input[i]!);
      from = to + 1;
    }
    scan.tokens = tokens;
  } else if (pragmaAt.length > 0 || begin > 0 || end < input.length) {
    const runs: CToken[][] = [];
    let from = begin;
    for (let k = 0; k <= pragmaAt.length; k++) {
      const to = k < pragmaAt.length ? pragmaAt[k]! : end;
      if (to > from) runs.push(input.slice(from, to));
      from = to + 1;
    }
    // (concat takes the runs as arguments: in batches, as a file may have 100,000 pragmas)
    let tokens: CToken[] = runs.length === 1 ? runs[0]! : [];
    for (let i = 0; runs.length > 1 && i < runs.length; i += 1024) {
      tokens = tokens.concat(...runs.slice(i, i + 1024));
    }
    scan.tokens = tokens;
  }
  for (let k = 0; k < pragmaAt.length; k++) {
    const tok = input[pragmaAt[k]!]!;
    const words = pragmaWords(tok);
    // The index (among the remaining tokens) of the token after the pragma.
    const index = base + pragmaAt[k]! - begin - k;
    if (isLoopPragma(words)) {
      const pragma: LoopPragma = { kind: "LoopPragma", loc: tok, words: words.map((w) => w.image) };
      const list = scan.loopPragmas.get(index);
      scan.loopPragmas.set(index, list === undefined ? [pragma] : [...list, pragma]);
    } else if (words[0]?.image === "clang" && words[1]?.image === "attribute") {
      clangAttribute(words, tok, index, scan);
    } else if (words[0]?.image === "pack") {
      scan.pack = packPragma(words, tok, scan.pack, scan.packStack, scan);
      scan.events.push({ index, kind: "pack", attributes: [], pack: scan.pack });
    }
  }
  return scan;
}

// #pragma clang attribute [namespace.]push(__attribute__((...)), apply_to = ...) | pop
function clangAttribute(words: CToken[], pragma: CToken, index: number, scan: PragmaScan): void {
  let i = 2;
  // An optional namespace: `clang attribute ns.push`.
  if (words[i + 1]?.image === ".") i += 2;
  const verb = words[i]?.image;
  if (verb === "pop") {
    scan.events.push({ index, kind: "attributePop", attributes: [], pack: 0 });
    return;
  }
  if (verb !== "push") {
    scan.problems.push({
      token: words[i] ?? pragma,
      message: "expected 'push', 'pop', or '(' after '#pragma clang attribute'",
    });
    return;
  }
  const start = words.findIndex((w) => w.tokenType === T.Attribute);
  if (start < 0) {
    // `push` alone opens a group whose attributes come in later pragmas: nothing to apply yet.
    scan.events.push({ index, kind: "attributePush", attributes: [], pack: 0 });
    return;
  }
  const attrs = parseAttributeTokens(words, start);
  if (attrs === null) {
    scan.problems.push({
      token: words[start]!,
      message: "expected '__attribute__((...))' in '#pragma clang attribute'",
    });
    return;
  }
  const applyTo = words.findIndex((w) => w.image === "apply_to");
  const subjects = applyTo < 0 ? [] : words.slice(applyTo + 2).map((w) => w.image);
  // Only record subjects matter to the parser; other subjects are not used in BPF headers.
  if (!subjects.includes("record") && !subjects.includes("any")) {
    scan.events.push({ index, kind: "attributePush", attributes: [], pack: 0 });
    return;
  }
  scan.events.push({ index, kind: "attributePush", attributes: attrs, pack: 0 });
}

/** `__attribute__ ( ( name [ ( args ) ] , ... ) )` from a pragma's tokens; args are literals or names. */
function parseAttributeTokens(words: CToken[], start: number): Attribute[] | null {
  let i = start + 1;
  if (words[i]?.image !== "(" || words[i + 1]?.image !== "(") return null;
  i += 2;
  const attrs: Attribute[] = [];
  while (i < words.length && words[i]!.image !== ")") {
    const nameTok = words[i]!;
    if (nameTok.image === ",") {
      i++;
      continue;
    }
    if (!/^[A-Za-z_]\w*$/.test(nameTok.image)) return null;
    i++;
    let args: Expr[] | null = null;
    if (words[i]?.image === "(") {
      args = [];
      i++;
      while (i < words.length && words[i]!.image !== ")") {
        const a = words[i]!;
        if (a.image !== ",") args.push(literalExpr(a));
        i++;
      }
      i++;
    }
    attrs.push({
      kind: "Attribute",
      loc: nameTok,
      name: normalizeAttributeName(nameTok.image),
      args,
    });
  }
  return attrs;
}

function literalExpr(tok: CToken): Expr {
  if (tok.tokenType === T.IntegerConstant) {
    const d = decodeInteger(tok.image);
    return {
      kind: "IntegerLiteral",
      loc: tok,
      text: tok.image,
      lo: d.lo,
      hi: d.hi,
      overflow: d.overflow,
      radix: d.radix,
      unsigned: d.unsigned,
      longness: d.longness,
    };
  }
  if (tok.tokenType === T.StringLiteral) {
    const s = decodeStrings([tok.image]);
    return { kind: "StringLiteral", loc: tok, prefix: s.prefix, value: s.value, bytes: s.bytes };
  }
  return { kind: "Identifier", loc: tok, name: tok.image };
}

// #pragma pack(N) | pack(push[, N]) | pack(pop) | pack()
function packPragma(
  words: CToken[],
  pragma: CToken,
  pack: number,
  stack: number[],
  scan: PragmaScan,
): number {
  const args = words
    .slice(1)
    .map((w) => w.image)
    .filter((w) => w !== "(" && w !== ")" && w !== ",");
  const bad = (): number => {
    scan.problems.push({
      token: pragma,
      message: "expected integer or identifier in '#pragma pack' - ignored",
    });
    return pack;
  };
  const value = (text: string | undefined): number | null => {
    if (text === undefined || !/^\d+$/.test(text)) return null;
    const n = Number(text);
    return n === 0 || n === 1 || n === 2 || n === 4 || n === 8 || n === 16 ? n : null;
  };
  if (args.length === 0) return 0;
  if (args[0] === "push") {
    stack.push(pack);
    if (args.length === 1) return pack;
    const n = value(args[1]);
    return n === null ? bad() : n;
  }
  if (args[0] === "pop") return stack.pop() ?? 0;
  const n = value(args[0]);
  return n === null ? bad() : n;
}

/** clang matches `__packed__` and `packed` as the same attribute. */
export function normalizeAttributeName(name: string): string {
  return name.length > 4 && name.startsWith("__") && name.endsWith("__") ? name.slice(2, -2) : name;
}
