// The C lexer: Chevrotain token types for C11 (plus the GNU/clang spellings BPF headers use) and
// the function that turns a file's text into CTokens for the preprocessor.
//
// Token type names (what the parser matches on):
//   Identifier                    names; with every keyword it is in the category IdentifierOrKeyword,
//                                 because the preprocessor treats keywords as identifiers
//   Keywords (one type per keyword; GNU alternate spellings share the type):
//     Auto Break Case Char Const(const __const __const__) Continue Default Do Double Else Enum
//     Extern Float For Goto If Inline(inline __inline __inline__) Int Long Register
//     Restrict(restrict __restrict __restrict__) Return Short Signed(signed __signed __signed__)
//     Sizeof Static Struct Switch Typedef Union Unsigned Void Volatile(volatile __volatile __volatile__)
//     While Alignas(_Alignas) Alignof(_Alignof __alignof __alignof__) Atomic(_Atomic) Bool(_Bool)
//     Complex(_Complex __complex__) Generic(_Generic) Imaginary(_Imaginary) Noreturn(_Noreturn)
//     StaticAssert(_Static_assert) ThreadLocal(_Thread_local __thread)
//     Attribute(__attribute__ __attribute) Asm(asm __asm __asm__) Typeof(typeof __typeof __typeof__)
//     Extension(__extension__) Int128(__int128) AutoType(__auto_type) Label(__label__)
//     Real(__real__ __real) Imag(__imag__ __imag) BuiltinVaList(__builtin_va_list)
//     BuiltinVaArg(__builtin_va_arg) BuiltinOffsetof(__builtin_offsetof)
//     BuiltinTypesCompatibleP(__builtin_types_compatible_p) BuiltinChooseExpr(__builtin_choose_expr)
//   Constants: IntegerConstant (dec/hex/octal/binary, u/l/ll suffixes), FloatConstant (accepted
//     here so the compiler can reject it with a location), PPNumber (any other preprocessing
//     number, e.g. `1abc`: legal to the preprocessor, an error to the parser), CharConstant,
//     StringLiteral (both with L/u/U/u8 prefixes and escapes kept verbatim in the image),
//     UnterminatedString, UnterminatedChar (a quote with no closing quote on its line)
//   Punctuators: LBracket([ <:) RBracket(] :>) LParen RParen LBrace({ <%) RBrace(} %>) Dot Arrow
//     PlusPlus MinusMinus Amp Star Plus Minus Tilde Bang Slash Percent LShift RShift Less Greater
//     LessEqual GreaterEqual EqualEqual BangEqual Caret Pipe AmpAmp PipePipe Question Colon Semicolon
//     Ellipsis Assign StarAssign SlashAssign PercentAssign PlusAssign MinusAssign LShiftAssign
//     RShiftAssign AmpAssign CaretAssign PipeAssign Comma Hash(# %:) HashHash(## %:%:)
//   Other                         any other single non-blank character (`@`, a stray `\`)
//   Pragma                        never lexed: the preprocessor turns `#pragma X` / `_Pragma("X")`
//                                 that the back end may need (unroll, clang loop, clang attribute,
//                                 pack, GCC diagnostic) into one Pragma token whose payload holds
//                                 the pragma's tokens (CToken[]), placed where the pragma was
//
// The token types are Chevrotain's, and chevrotainLexer() is the plain Chevrotain Lexer over
// them. lexFile(), which the preprocessor uses, is a hand-written scanner producing exactly the
// same tokens (a test keeps them equal on real headers) several times faster, with one object per
// token. Blank space and comments make no tokens: the preprocessor's needs (is this token the first
// on its line, is it preceded by blank space) are flags on the next token. A backslash-newline
// between tokens is blank space; one that splits a token is removed first (translation phase 2).
// Columns count UTF-8 bytes, as clang's do.
import { createToken, Lexer, type IToken, type TokenType } from "chevrotain";
import type { DiagnosticBag, SourceLoc } from "./diagnostics.js";

/** One level of macro expansion a token went through: innermost level first, parent = enclosing one. */
export interface MacroExpansion {
  /** The macro's name. */
  macro: string;
  /** Where the macro was used (its name token's spelling location). */
  use: SourceLoc;
  /** Just past the use: past the name, or past the `)` closing its arguments (for ranges). */
  useEnd: SourceLoc;
  /** Where the macro was defined (its name in the #define). */
  definition: SourceLoc;
  /** The expansion the use itself came from, when the macro was used inside another macro's expansion. */
  parent: MacroExpansion | undefined;
}

/**
 * A token with its spelling location. For a token produced by macro expansion, (file, line, col)
 * is where it was spelled (inside the #define, or at the argument), and `expansion` says which
 * macro produced it and where that macro was used: a diagnostic points at the outermost use and adds
 * "expanded from macro 'X'" notes (see expansionChain below). Of IToken's optional fields only
 * `payload` is used (a Pragma token's CToken[]); startLine/startColumn/endOffset are not set: use
 * line/col, and startOffset + image.length (offsets are into the token's file).
 */
export interface CToken extends IToken {
  file: string;
  line: number;
  col: number;
  /** Blank space, a newline or a comment comes right before this token. */
  hasSpace: boolean;
  /** This is the first token on its line (ends a directive; newlines inside comments do not count). */
  atLineStart: boolean;
  expansion: MacroExpansion | undefined;
  /** Macro names this token may no longer expand (C11 6.10.3.4 "painted blue"); set by the preprocessor. */
  hideSet: ReadonlySet<string> | undefined;
}

// ---- token types ----

export const IdentifierOrKeyword = createToken({ name: "IdentifierOrKeyword", pattern: Lexer.NA });
export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_$][\w$]*/,
  categories: [IdentifierOrKeyword],
});

const keywordTokens: TokenType[] = [];
/** Every keyword spelling to its token type (the preprocessor re-types pasted identifiers with it). */
export const keywordBySpelling = new Map<string, TokenType>();

function keyword(name: string, ...spellings: string[]): TokenType {
  // Longest spelling first so `__inline__` is not taken for `__inline`.
  const ordered = [...spellings].sort((a, b) => b.length - a.length);
  const token = createToken({
    name,
    pattern: ordered.length === 1 ? ordered[0]! : new RegExp(ordered.join("|")),
    longer_alt: Identifier,
    categories: [IdentifierOrKeyword],
  });
  keywordTokens.push(token);
  for (const s of spellings) keywordBySpelling.set(s, token);
  return token;
}

export const Auto = keyword("Auto", "auto");
export const Break = keyword("Break", "break");
export const Case = keyword("Case", "case");
export const Char = keyword("Char", "char");
export const Const = keyword("Const", "const", "__const", "__const__");
export const Continue = keyword("Continue", "continue");
export const Default = keyword("Default", "default");
export const Do = keyword("Do", "do");
export const Double = keyword("Double", "double");
export const Else = keyword("Else", "else");
export const Enum = keyword("Enum", "enum");
export const Extern = keyword("Extern", "extern");
export const Float = keyword("Float", "float");
export const For = keyword("For", "for");
export const Goto = keyword("Goto", "goto");
export const If = keyword("If", "if");
export const Inline = keyword("Inline", "inline", "__inline", "__inline__");
export const Int = keyword("Int", "int");
export const Long = keyword("Long", "long");
export const Register = keyword("Register", "register");
export const Restrict = keyword("Restrict", "restrict", "__restrict", "__restrict__");
export const Return = keyword("Return", "return");
export const Short = keyword("Short", "short");
export const Signed = keyword("Signed", "signed", "__signed", "__signed__");
export const Sizeof = keyword("Sizeof", "sizeof");
export const Static = keyword("Static", "static");
export const Struct = keyword("Struct", "struct");
export const Switch = keyword("Switch", "switch");
export const Typedef = keyword("Typedef", "typedef");
export const Union = keyword("Union", "union");
export const Unsigned = keyword("Unsigned", "unsigned");
export const Void = keyword("Void", "void");
export const Volatile = keyword("Volatile", "volatile", "__volatile", "__volatile__");
export const While = keyword("While", "while");
export const Alignas = keyword("Alignas", "_Alignas");
export const Alignof = keyword("Alignof", "_Alignof", "__alignof", "__alignof__");
export const Atomic = keyword("Atomic", "_Atomic");
export const Bool = keyword("Bool", "_Bool");
export const Complex = keyword("Complex", "_Complex", "__complex__");
export const Generic = keyword("Generic", "_Generic");
export const Imaginary = keyword("Imaginary", "_Imaginary");
export const Noreturn = keyword("Noreturn", "_Noreturn");
export const StaticAssert = keyword("StaticAssert", "_Static_assert");
export const ThreadLocal = keyword("ThreadLocal", "_Thread_local", "__thread");
export const Attribute = keyword("Attribute", "__attribute__", "__attribute");
export const Asm = keyword("Asm", "asm", "__asm", "__asm__");
export const Typeof = keyword("Typeof", "typeof", "__typeof", "__typeof__");
export const Extension = keyword("Extension", "__extension__");
export const Int128 = keyword("Int128", "__int128");
export const AutoType = keyword("AutoType", "__auto_type");
export const Label = keyword("Label", "__label__");
export const Real = keyword("Real", "__real__", "__real");
export const Imag = keyword("Imag", "__imag__", "__imag");
export const BuiltinVaList = keyword("BuiltinVaList", "__builtin_va_list");
export const BuiltinVaArg = keyword("BuiltinVaArg", "__builtin_va_arg");
export const BuiltinOffsetof = keyword("BuiltinOffsetof", "__builtin_offsetof");
export const BuiltinTypesCompatibleP = keyword(
  "BuiltinTypesCompatibleP",
  "__builtin_types_compatible_p",
);
export const BuiltinChooseExpr = keyword("BuiltinChooseExpr", "__builtin_choose_expr");

/** Keyword types ordered so that no spelling is tried before one it is a prefix of (`do` after `double`). */
function keywordsLongestFirst(): TokenType[] {
  const longest = (t: TokenType) =>
    Math.max(...[...keywordBySpelling].filter(([, k]) => k === t).map(([s]) => s.length));
  return [...keywordTokens].sort((a, b) => longest(b) - longest(a));
}

// Preprocessing numbers (C11 6.4.8): whatever starts like a number, so `0x1e+1` stays one token.
export const PPNumber = createToken({ name: "PPNumber", pattern: /\.?\d(?:[eEpP][+-]|[\w.$])*/ });
export const FloatConstant = createToken({
  name: "FloatConstant",
  pattern:
    /(?:0[xX](?:[\da-fA-F]*\.[\da-fA-F]+|[\da-fA-F]+\.?)[pP][+-]?\d+|(?:\d*\.\d+|\d+\.)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)[fFlL]?/,
  longer_alt: PPNumber,
});
export const IntegerConstant = createToken({
  name: "IntegerConstant",
  pattern: /(?:0[xX][\da-fA-F]+|0[bB][01]+|\d+)(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?/,
  longer_alt: PPNumber,
});

// Literals: the prefix letters are also identifier starts, so these come before Identifier.
export const CharConstant = createToken({
  name: "CharConstant",
  pattern: /(?:u8|[uUL])?'(?:[^'\\\n]|\\\r?\n|\\[^])*'/,
});
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /(?:u8|[uUL])?"(?:[^"\\\n]|\\\r?\n|\\[^])*"/,
});
export const UnterminatedChar = createToken({
  name: "UnterminatedChar",
  pattern: /(?:u8|[uUL])?'[^\n]*/,
});
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /(?:u8|[uUL])?"[^\n]*/,
});

function punctuator(name: string, pattern: string | RegExp): TokenType {
  return createToken({ name, pattern });
}

// Longest first: Chevrotain takes the first pattern that matches.
export const HashHash = punctuator("HashHash", /##|%:%:/);
export const Ellipsis = punctuator("Ellipsis", "...");
export const LShiftAssign = punctuator("LShiftAssign", "<<=");
export const RShiftAssign = punctuator("RShiftAssign", ">>=");
export const Arrow = punctuator("Arrow", "->");
export const PlusPlus = punctuator("PlusPlus", "++");
export const MinusMinus = punctuator("MinusMinus", "--");
export const LShift = punctuator("LShift", "<<");
export const RShift = punctuator("RShift", ">>");
export const LessEqual = punctuator("LessEqual", "<=");
export const GreaterEqual = punctuator("GreaterEqual", ">=");
export const EqualEqual = punctuator("EqualEqual", "==");
export const BangEqual = punctuator("BangEqual", "!=");
export const AmpAmp = punctuator("AmpAmp", "&&");
export const PipePipe = punctuator("PipePipe", "||");
export const StarAssign = punctuator("StarAssign", "*=");
export const SlashAssign = punctuator("SlashAssign", "/=");
export const PercentAssign = punctuator("PercentAssign", "%=");
export const PlusAssign = punctuator("PlusAssign", "+=");
export const MinusAssign = punctuator("MinusAssign", "-=");
export const AmpAssign = punctuator("AmpAssign", "&=");
export const CaretAssign = punctuator("CaretAssign", "^=");
export const PipeAssign = punctuator("PipeAssign", "|=");
export const LBracket = punctuator("LBracket", /\[|<:/);
export const RBracket = punctuator("RBracket", /\]|:>/);
export const LBrace = punctuator("LBrace", /\{|<%/);
export const RBrace = punctuator("RBrace", /\}|%>/);
export const Hash = punctuator("Hash", /#|%:/);
export const LParen = punctuator("LParen", "(");
export const RParen = punctuator("RParen", ")");
export const Dot = punctuator("Dot", ".");
export const Amp = punctuator("Amp", "&");
export const Star = punctuator("Star", "*");
export const Plus = punctuator("Plus", "+");
export const Minus = punctuator("Minus", "-");
export const Tilde = punctuator("Tilde", "~");
export const Bang = punctuator("Bang", "!");
export const Slash = punctuator("Slash", "/");
export const Percent = punctuator("Percent", "%");
export const Less = punctuator("Less", "<");
export const Greater = punctuator("Greater", ">");
export const Caret = punctuator("Caret", "^");
export const Pipe = punctuator("Pipe", "|");
export const Question = punctuator("Question", "?");
export const Colon = punctuator("Colon", ":");
export const Semicolon = punctuator("Semicolon", ";");
export const Assign = punctuator("Assign", "=");
export const Comma = punctuator("Comma", ",");

// Every non-blank character, written as ranges so Chevrotain can index it by first character.
export const Other = createToken({
  name: "Other",
  pattern: /[\u0000-\u0008\u000e-\u001f\u0021-\uffff]/,
});
export const Pragma = createToken({ name: "Pragma", pattern: Lexer.NA });

// Skipped: blank space, backslash-newline, comments. An unterminated /* comment runs to the end of
// the file and is reported by lexFile.
const Blank = createToken({
  name: "Blank",
  pattern: /(?:[ \t\n\r\f\v]|\\\r?\n)+/,
  group: Lexer.SKIPPED,
});
const LineComment = createToken({
  name: "LineComment",
  pattern: /\/\/(?:[^\n\\]|\\\r?\n|\\[^])*/,
  group: Lexer.SKIPPED,
});
const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[^]*?\*\//,
  group: Lexer.SKIPPED,
});
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[^]*/,
});

/** The token vocabulary, in lexing order: pass it to the Chevrotain parser. */
export const allTokens: TokenType[] = [
  Blank,
  LineComment,
  BlockComment,
  UnterminatedComment,
  FloatConstant,
  IntegerConstant,
  PPNumber,
  CharConstant,
  StringLiteral,
  UnterminatedChar,
  UnterminatedString,
  ...keywordsLongestFirst(),
  Identifier,
  IdentifierOrKeyword,
  HashHash,
  Ellipsis,
  LShiftAssign,
  RShiftAssign,
  Arrow,
  PlusPlus,
  MinusMinus,
  LShift,
  RShift,
  LessEqual,
  GreaterEqual,
  EqualEqual,
  BangEqual,
  AmpAmp,
  PipePipe,
  StarAssign,
  SlashAssign,
  PercentAssign,
  PlusAssign,
  MinusAssign,
  AmpAssign,
  CaretAssign,
  PipeAssign,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Hash,
  LParen,
  RParen,
  Dot,
  Amp,
  Star,
  Plus,
  Minus,
  Tilde,
  Bang,
  Slash,
  Percent,
  Less,
  Greater,
  Caret,
  Pipe,
  Question,
  Colon,
  Semicolon,
  Assign,
  Comma,
  Other,
  Pragma,
];

let referenceLexer: Lexer | undefined;

/**
 * The C lexer as a plain Chevrotain Lexer over allTokens (keywords by longer_alt). lexFile below
 * produces the same tokens with a hand-written scanner that is several times faster on kernel
 * headers (no second object per token, no pattern trials); test/frontend/lexer.test.ts keeps the
 * two equal on real headers.
 */
export function chevrotainLexer(): Lexer {
  referenceLexer ??= new Lexer(allTokens, {
    positionTracking: "onlyOffset",
    ensureOptimizations: true,
  });
  return referenceLexer;
}

// Sticky copies of the token patterns the scanner defers to, so their meaning is defined once.
const sticky = (t: TokenType) => new RegExp((t.PATTERN as RegExp).source, "y");
const floatAt = sticky(FloatConstant);
const integerAt = sticky(IntegerConstant);
const ppNumberAt = sticky(PPNumber);
const charAt = sticky(CharConstant);
const stringAt = sticky(StringLiteral);
const unterminatedCharAt = sticky(UnterminatedChar);
const unterminatedStringAt = sticky(UnterminatedString);

const NL = 10;
const CR = 13;
const BACKSLASH = 92;
const SLASH = 47;
const STAR = 42;
const QUOTE = 39;
const DQUOTE = 34;

/** [A-Za-z0-9_$] as a table: 1 = may start an identifier, 2 = may continue one only. */
const identChar = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_$]/.test(ch)) identChar[c] = 1;
  else if (/\d/.test(ch)) identChar[c] = 2;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Length of the sticky pattern's match at `pos`, or -1. */
function matchAt(re: RegExp, text: string, pos: number): number {
  re.lastIndex = pos;
  return re.test(text) ? re.lastIndex - pos : -1;
}

/**
 * What the scanner recognised at a position: one object reused for every token, so that
 * recognising a token allocates nothing.
 */
interface Scanned {
  type: TokenType;
  length: number;
}
const scanned: Scanned = { type: Identifier, length: 0 };
function found(type: TokenType, length: number): Scanned {
  scanned.type = type;
  scanned.length = length;
  return scanned;
}

/** The punctuator at `pos` (Chevrotain's first-listed-wins order, i.e. longest first), or undefined. */
function punctuatorAt(text: string, pos: number, c: number): Scanned | undefined {
  const c1 = text.charCodeAt(pos + 1);
  switch (c) {
    case 35: // #
      return c1 === 35 ? found(HashHash, 2) : found(Hash, 1);
    case 37: // %
      if (c1 === 58) {
        return text.startsWith("%:", pos + 2) ? found(HashHash, 4) : found(Hash, 2);
      }
      if (c1 === 61) return found(PercentAssign, 2);
      if (c1 === 62) return found(RBrace, 2);
      return found(Percent, 1);
    case 46: // . (a number if a digit follows: handled before)
      return c1 === 46 && text.charCodeAt(pos + 2) === 46 ? found(Ellipsis, 3) : found(Dot, 1);
    case 60: // <
      if (c1 === 60)
        return text.charCodeAt(pos + 2) === 61 ? found(LShiftAssign, 3) : found(LShift, 2);
      if (c1 === 61) return found(LessEqual, 2);
      if (c1 === 58) return found(LBracket, 2);
      if (c1 === 37) return found(LBrace, 2);
      return found(Less, 1);
    case 62: // >
      if (c1 === 62)
        return text.charCodeAt(pos + 2) === 61 ? found(RShiftAssign, 3) : found(RShift, 2);
      if (c1 === 61) return found(GreaterEqual, 2);
      return found(Greater, 1);
    case 45: // -
      if (c1 === 62) return found(Arrow, 2);
      if (c1 === 45) return found(MinusMinus, 2);
      if (c1 === 61) return found(MinusAssign, 2);
      return found(Minus, 1);
    case 43: // +
      if (c1 === 43) return found(PlusPlus, 2);
      if (c1 === 61) return found(PlusAssign, 2);
      return found(Plus, 1);
    case 61: // =
      return c1 === 61 ? found(EqualEqual, 2) : found(Assign, 1);
    case 33: // !
      return c1 === 61 ? found(BangEqual, 2) : found(Bang, 1);
    case 38: // &
      if (c1 === 38) return found(AmpAmp, 2);
      if (c1 === 61) return found(AmpAssign, 2);
      return found(Amp, 1);
    case 124: // |
      if (c1 === 124) return found(PipePipe, 2);
      if (c1 === 61) return found(PipeAssign, 2);
      return found(Pipe, 1);
    case 42: // *
      return c1 === 61 ? found(StarAssign, 2) : found(Star, 1);
    case 47: // / (comments: handled before)
      return c1 === 61 ? found(SlashAssign, 2) : found(Slash, 1);
    case 94: // ^
      return c1 === 61 ? found(CaretAssign, 2) : found(Caret, 1);
    case 58: // :
      return c1 === 62 ? found(RBracket, 2) : found(Colon, 1);
    case 91:
      return found(LBracket, 1);
    case 93:
      return found(RBracket, 1);
    case 123:
      return found(LBrace, 1);
    case 125:
      return found(RBrace, 1);
    case 40:
      return found(LParen, 1);
    case 41:
      return found(RParen, 1);
    case 126:
      return found(Tilde, 1);
    case 63:
      return found(Question, 1);
    case 59:
      return found(Semicolon, 1);
    case 44:
      return found(Comma, 1);
    default:
      return undefined;
  }
}

/** A number at `pos`: Float or Integer if that pattern covers the whole preprocessing number. */
function numberAt(text: string, pos: number): Scanned {
  const ppLength = matchAt(ppNumberAt, text, pos);
  const floatLength = matchAt(floatAt, text, pos);
  if (floatLength >= 0)
    return ppLength > floatLength ? found(PPNumber, ppLength) : found(FloatConstant, floatLength);
  const intLength = matchAt(integerAt, text, pos);
  if (intLength >= 0)
    return ppLength > intLength ? found(PPNumber, ppLength) : found(IntegerConstant, intLength);
  return found(PPNumber, ppLength);
}

/** A character constant or string literal starting at `pos` (prefix included). */
function literalAt(text: string, pos: number, quote: number): Scanned {
  if (quote === QUOTE) {
    const n = matchAt(charAt, text, pos);
    return n >= 0
      ? found(CharConstant, n)
      : found(UnterminatedChar, matchAt(unterminatedCharAt, text, pos));
  }
  const n = matchAt(stringAt, text, pos);
  return n >= 0
    ? found(StringLiteral, n)
    : found(UnterminatedString, matchAt(unterminatedStringAt, text, pos));
}

/** The quote after an encoding prefix (L, u, U, u8) at `pos`, or 0 if none follows. */
function quoteAfterPrefix(text: string, pos: number, c: number): number {
  let q = pos + 1;
  if (c === 117 && text.charCodeAt(q) === 56)
    q++; // u8
  else if (c !== 117 && c !== 85 && c !== 76) return 0;
  const quote = text.charCodeAt(q);
  return quote === QUOTE || quote === DQUOTE ? quote : 0;
}

/**
 * Lexes one file into CTokens with locations and the line-start/blank-space flags. An
 * unterminated block comment is reported into `diagnostics`; literals without a closing quote come
 * back as Unterminated* tokens for the caller to judge (clang only warns about them).
 */
export function lexFile(text: string, file: string, diagnostics?: DiagnosticBag): CToken[] {
  const tokens = hasJoiningSplice(text)
    ? lexSpliced(text, file, diagnostics)
    : scan(text, file, (offset, line, col) =>
        diagnostics?.error(
          { file, line, col: byteColumn(text, offset - (col - 1), offset) },
          "unterminated /* comment",
        ),
      );
  if (nonAscii.test(text)) toByteColumns(tokens, text);
  return tokens;
}

const nonAscii = /[^\x00-\x7f]/;

/**
 * clang counts columns in bytes of UTF-8: where a line has non-ASCII characters before a token,
 * turn its column (counted in UTF-16 units by the scanner) into a byte column.
 */
function toByteColumns(tokens: CToken[], text: string): void {
  // Tokens come in order: count bytes from the previous token of the same line, not from its start.
  let lineStart = -1;
  let offset = 0;
  let col = 1;
  for (const t of tokens) {
    const start = t.startOffset - (t.col - 1);
    if (start !== lineStart) {
      lineStart = start;
      offset = start;
      col = 1;
    }
    col += byteColumn(text, offset, t.startOffset) - 1;
    offset = t.startOffset;
    t.col = col;
  }
}

/** The 1-based UTF-8 byte column of `offset` in the line starting at `lineStart`. */
export function byteColumn(text: string, lineStart: number, offset: number): number {
  let bytes = 0;
  for (let i = lineStart; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes + 1;
}

/**
 * Whether a backslash-newline has something other than blank on both sides, so that it may join
 * two pieces into one token. (Found by indexOf: most files have few backslashes or none.)
 */
function hasJoiningSplice(text: string): boolean {
  for (let i = text.indexOf("\\"); i >= 0; i = text.indexOf("\\", i + 1)) {
    let j = i + 1;
    if (text.charCodeAt(j) === CR) j++;
    if (text.charCodeAt(j) !== NL || i === 0 || j + 1 >= text.length) continue;
    const before = text.charCodeAt(i - 1);
    const after = text.charCodeAt(j + 1);
    if (!isBlank(before) && before !== BACKSLASH && !isBlank(after)) return true;
  }
  return false;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === NL || c === CR;
}

/**
 * Lexes a file in which a line splice may fall inside a token (`foo\<newline>bar` is `foobar`):
 * removes the splices first (C11 5.1.1.2 phase 2), then maps each token back to where it starts in
 * the file. Rare, so it may be slower than scan().
 */
function lexSpliced(text: string, file: string, diagnostics?: DiagnosticBag): CToken[] {
  const origin: number[] = []; // offset in `text` of each character kept
  let spliced = "";
  let kept = 0;
  for (let i = text.indexOf("\\"); i >= 0; i = text.indexOf("\\", i + 1)) {
    let j = i + 1;
    if (text.charCodeAt(j) === CR) j++;
    if (text.charCodeAt(j) !== NL) continue;
    spliced += text.slice(kept, i);
    for (let k = kept; k < i; k++) origin.push(k);
    kept = j + 1;
    i = j;
  }
  spliced += text.slice(kept);
  for (let k = kept; k <= text.length; k++) origin.push(k);
  const lineStarts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lineStarts.push(i + 1);
  const locate = (offset: number): SourceLoc => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, col: offset - lineStarts[lo]! + 1 };
  };
  const tokens = scan(spliced, file, (offset) =>
    diagnostics?.error(locate(origin[offset]!), "unterminated /* comment"),
  );
  for (const t of tokens) {
    t.startOffset = origin[t.startOffset]!;
    const { line, col } = locate(t.startOffset);
    t.line = line;
    t.col = col;
  }
  return tokens;
}

/** The scanner proper; reports an unterminated comment (offset, line, col) through the callback. */
function scan(
  text: string,
  file: string,
  unterminatedComment: (offset: number, line: number, col: number) => void,
): CToken[] {
  const tokens: CToken[] = [];
  const n = text.length;
  let p = 0;
  let line = 1;
  let lineStart = 0; // offset of the first character of `line`
  let atLineStart = true;
  let hasSpace = false;
  if (text.charCodeAt(0) === 0xfeff) p = 1; // a UTF-8 byte order mark is not a token
  for (;;) {
    // Blank space, splices and comments; a newline that is not a splice starts a line.
    while (p < n) {
      const c = text.charCodeAt(p);
      if (c === 32 || c === 9 || c === CR || c === 11 || c === 12) {
        p++;
      } else if (c === NL) {
        p++;
        line++;
        lineStart = p;
        atLineStart = true;
      } else if (c === BACKSLASH) {
        let q = p + 1;
        if (text.charCodeAt(q) === CR) q++;
        if (text.charCodeAt(q) !== NL) break;
        p = q + 1;
        line++;
        lineStart = p;
      } else if (c === SLASH && text.charCodeAt(p + 1) === SLASH) {
        p += 2;
        while (p < n) {
          const d = text.charCodeAt(p);
          if (d === NL) break;
          if (d === BACKSLASH) {
            let q = p + 1;
            if (text.charCodeAt(q) === CR) q++;
            if (text.charCodeAt(q) === NL) {
              line++;
              lineStart = q + 1;
              p = q + 1;
              continue;
            }
            p++; // `\` and the character it escapes
          }
          p++;
        }
      } else if (c === SLASH && text.charCodeAt(p + 1) === STAR) {
        const close = text.indexOf("*/", p + 2);
        if (close < 0) {
          unterminatedComment(p, line, p - lineStart + 1);
          return tokens;
        }
        // A comment is one space (C11 5.1.1.2): its newlines do not end a directive line.
        for (
          let q = text.indexOf("\n", p + 2);
          q >= 0 && q < close;
          q = text.indexOf("\n", q + 1)
        ) {
          line++;
          lineStart = q + 1;
        }
        p = close + 2;
      } else {
        break;
      }
      hasSpace = true;
    }
    if (p >= n) return tokens;

    const start = p;
    const c = text.charCodeAt(p);
    let type: TokenType;
    let length: number;
    let multiline = false;
    let word: string | undefined; // an identifier's spelling, sliced once
    const quote = c < 128 && identChar[c] === 1 ? quoteAfterPrefix(text, p, c) : 0;
    if (quote !== 0 || c === QUOTE || c === DQUOTE) {
      ({ type, length } = literalAt(text, p, quote || c));
      multiline = true;
    } else if (c < 128 && identChar[c] === 1) {
      let q = p + 1;
      for (; q < n; q++) {
        const d = text.charCodeAt(q);
        if (d >= 128 || identChar[d] === 0) break;
      }
      length = q - p;
      word = text.slice(p, q);
      type = keywordBySpelling.get(word) ?? Identifier;
    } else if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(p + 1)))) {
      ({ type, length } = numberAt(text, p));
    } else {
      ({ type, length } = punctuatorAt(text, p, c) ?? found(Other, 1));
    }
    p += length;
    const col = start - lineStart + 1;
    // One object literal per token, always the same shape, so later phases stay monomorphic.
    tokens.push({
      image: word ?? text.slice(start, p),
      startOffset: start,
      tokenTypeIdx: type.tokenTypeIdx!,
      tokenType: type,
      file,
      line,
      col,
      hasSpace,
      atLineStart,
      expansion: undefined,
      hideSet: undefined,
    });
    hasSpace = false;
    atLineStart = false;
    if (multiline) {
      // A literal may contain spliced newlines: keep the line count right.
      for (let q = text.indexOf("\n", start); q >= 0 && q < p; q = text.indexOf("\n", q + 1)) {
        line++;
        lineStart = q + 1;
      }
    }
  }
}

/** Lexes a string that is not a file (a -D value, a pasted spelling), locating it at `loc`. */
export function lexFragment(text: string, loc: SourceLoc): CToken[] {
  const tokens = lexFile(text, loc.file);
  for (const t of tokens) {
    t.line = loc.line;
    t.col = loc.col;
    t.atLineStart = false;
  }
  return tokens;
}

/** A copy of a token, to be given a different location, expansion or flags. */
export function copyToken(t: CToken): CToken {
  return {
    image: t.image,
    startOffset: t.startOffset,
    tokenTypeIdx: t.tokenTypeIdx,
    tokenType: t.tokenType,
    file: t.file,
    line: t.line,
    col: t.col,
    hasSpace: t.hasSpace,
    atLineStart: t.atLineStart,
    expansion: t.expansion,
    hideSet: t.hideSet,
  };
}

/** The location a diagnostic about this token should point at: the outermost macro use, else its spelling. */
export function diagnosticLoc(t: CToken): SourceLoc {
  let e = t.expansion;
  if (e === undefined) return { file: t.file, line: t.line, col: t.col };
  while (e.parent !== undefined) e = e.parent;
  return e.use;
}

/**
 * clang's "expanded from macro 'X'" notes for a token, outermost macro first: each note points
 * where the next inner macro was used inside X's body, the last one at the token's own spelling.
 */
export function expansionChain(t: CToken): { macro: string; loc: SourceLoc }[] {
  const levels: MacroExpansion[] = [];
  for (let e = t.expansion; e !== undefined; e = e.parent) levels.push(e);
  const notes: { macro: string; loc: SourceLoc }[] = [];
  for (let i = levels.length - 1; i >= 0; i--) {
    const inner = levels[i - 1];
    notes.push({
      macro: levels[i]!.macro,
      loc: inner !== undefined ? inner.use : { file: t.file, line: t.line, col: t.col },
    });
  }
  return notes;
}

/** Tokens to a whitespace-normalised string (one space where the source had blank space). */
export function spell(tokens: readonly CToken[]): string {
  let out = "";
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (i > 0 && t.hasSpace) out += " ";
    out += t.image;
  }
  return out;
}
