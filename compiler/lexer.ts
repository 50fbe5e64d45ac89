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
// lexFile() tokenizes with one shared Chevrotain Lexer over these types (every pattern indexed by
// its first character; one pattern reads every word, keywords typed as their token is made),
// which makes each token directly as a CToken, its line, column and flags set from the text
// between it and the previous token.
// Blank space and comments make no tokens: the preprocessor's needs (is this token the first on
// its line, is it preceded by blank space) are flags on the next token. A backslash-newline
// between tokens is blank space; one that splits a token is removed first (translation phase 2).
// Columns count UTF-8 bytes, as clang's do.
import { createToken, Lexer, type IToken, type TokenType } from "./chevrotain.js";
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

// Identifiers and keywords are read by one Chevrotain custom pattern, Identifier's: it takes any
// word (`[A-Za-z_$][A-Za-z0-9_$]*`, unless it is a literal's encoding prefix), looks it up in the
// keyword table once, and the token is given the keyword's type when it is made (see
// CTokenLexer). Keyword types have no pattern of their own: as patterns, every word starting
// with `s` was tried against each keyword starting with `s`.

/** [A-Za-z0-9_$] as a table: 1 = may start an identifier, 2 = may continue one only. */
const identChar = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_$]/.test(ch)) identChar[c] = 1;
  else if (/\d/.test(ch)) identChar[c] = 2;
}
const identStartChars = [...identChar.keys()].filter((c) => identChar[c] === 1);

/** A keyword spelling's type, and the spelling as the one image of every token spelled so. */
interface KeywordWord {
  type: TokenType;
  image: string;
}
const keywordWords = new Map<string, KeywordWord>();

// The words lexed last, by a hash of their characters (one word per slot): a word found here
// costs no string and shares its image with the tokens spelled the same before it (a vmlinux.h
// has 240,000 words, of which a 4096-slot cache leaves 80,000 to be made; the images outlive
// the parse). Only words of up to 12 characters are kept: V8 makes a longer slice a view into
// the file's text, which the cache would keep alive, and long words seldom repeat.
const WORD_CACHE_BITS = 12;
const WORD_CACHE_MAX_LENGTH = 12;
const cachedWords: string[] = new Array<string>(1 << WORD_CACHE_BITS).fill("");
const cachedWordHashes = new Int32Array(1 << WORD_CACHE_BITS);
const cachedWordTypes: (TokenType | undefined)[] = new Array<TokenType | undefined>(
  1 << WORD_CACHE_BITS,
).fill(undefined);
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** The type of the word last matched: Identifier or a keyword's type. */
let wordType: TokenType;
/** One match array for the word pattern: Chevrotain reads it at once and keeps only the image. */
const wordMatch: [string] = [""];

/** An encoding prefix (L u U u8) right before a quote starts a literal, not an identifier. */
function isLiteralPrefix(text: string, offset: number, length: number): boolean {
  const next = text.charCodeAt(offset + length);
  if (next !== 39 && next !== 34) return false;
  const c = text.charCodeAt(offset);
  if (length === 1) return c === 76 || c === 117 || c === 85; // L u U
  return c === 117 && text.charCodeAt(offset + 1) === 56; // u8
}

function matchWord(text: string, offset: number): [string] | null {
  // (Chevrotain's own checks also try the pattern on other characters.)
  const c = text.charCodeAt(offset);
  if (c >= 128 || identChar[c] !== 1) return null;
  let hash = Math.imul(FNV_OFFSET ^ c, FNV_PRIME);
  let end = offset + 1;
  for (const n = text.length; end < n; end++) {
    const d = text.charCodeAt(end);
    if (d >= 128 || identChar[d] === 0) break;
    hash = Math.imul(hash ^ d, FNV_PRIME);
  }
  const length = end - offset;
  if (length <= 2 && isLiteralPrefix(text, offset, length)) return null;
  const slot = (hash ^ (hash >>> WORD_CACHE_BITS)) & ((1 << WORD_CACHE_BITS) - 1);
  const cached = cachedWords[slot]!;
  if (
    cachedWordHashes[slot] === hash &&
    cached.length === length &&
    text.startsWith(cached, offset)
  ) {
    wordType = cachedWordTypes[slot]!;
    wordMatch[0] = cached;
    return wordMatch;
  }
  let word = text.slice(offset, end);
  const keyword = keywordWords.get(word);
  if (keyword !== undefined) {
    wordType = keyword.type;
    word = keyword.image;
  } else {
    wordType = Identifier;
  }
  if (length <= WORD_CACHE_MAX_LENGTH) {
    cachedWords[slot] = word;
    cachedWordHashes[slot] = hash;
    cachedWordTypes[slot] = wordType;
  }
  wordMatch[0] = word;
  return wordMatch;
}

/**
 * The token type of a spelling that is exactly one identifier or keyword; undefined for any other
 * spelling (for pasting: `a ## b` of words is a word, without lexing it).
 */
export function wordSpellingType(spelling: string): TokenType | undefined {
  const c = spelling.charCodeAt(0);
  if (!(c < 128) || identChar[c] !== 1) return undefined;
  for (let i = 1; i < spelling.length; i++) {
    const d = spelling.charCodeAt(i);
    if (d >= 128 || identChar[d] === 0) return undefined;
  }
  return keywordWords.get(spelling)?.type ?? Identifier;
}

export const IdentifierOrKeyword = createToken({ name: "IdentifierOrKeyword", pattern: Lexer.NA });
export const Identifier = createToken({
  name: "Identifier",
  pattern: { exec: matchWord },
  start_chars_hint: identStartChars,
  line_breaks: false,
  categories: [IdentifierOrKeyword],
});

const keywordTokens: TokenType[] = [];
/** Every keyword spelling to its token type (the preprocessor re-types pasted identifiers with it). */
export const keywordBySpelling = new Map<string, TokenType>();

function keyword(name: string, ...spellings: string[]): TokenType {
  const token = createToken({ name, pattern: Lexer.NA, categories: [IdentifierOrKeyword] });
  keywordTokens.push(token);
  for (const s of spellings) {
    keywordBySpelling.set(s, token);
    keywordWords.set(s, { type: token, image: s });
  }
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

// Numbers are custom patterns too, sharing one reading of the preprocessing number at an offset
// (C11 6.4.8: whatever starts like a number, so `0x1e+1` stays one token; `$` ends one, as in
// clang, though it may continue an identifier). It is a FloatConstant or an IntegerConstant when
// that syntax covers all of it, else a PPNumber (`1abc`: legal to the preprocessor, an error to
// the parser).
const floatSyntax =
  /(?:0[xX](?:[\da-fA-F]*\.[\da-fA-F]+|[\da-fA-F]+\.?)[pP][+-]?\d+|(?:\d*\.\d+|\d+\.)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)[fFlL]?/y;
const integerSyntax =
  /(?:0[xX][\da-fA-F]+|0[bB][01]+|\d+)(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?/y;

/** The number last read: where, its image, and its type (undefined: no number starts there). */
let numberOffset = -1;
let numberText = "";
let numberType: TokenType | undefined;
const numberMatch: [string] = [""];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Reads the preprocessing number at `offset` unless it is the one last read; its type. */
function readNumber(text: string, offset: number): TokenType | undefined {
  if (offset === numberOffset && text === numberText) return numberType;
  numberOffset = offset;
  numberText = text;
  numberType = undefined;
  let end = text.charCodeAt(offset) === 46 ? offset + 1 : offset;
  if (!isDigit(text.charCodeAt(end))) return undefined;
  for (end++; ; end++) {
    const c = text.charCodeAt(end);
    if (c === 101 || c === 69 || c === 112 || c === 80) {
      // e E p P, and a sign after it
      const sign = text.charCodeAt(end + 1);
      if (sign === 43 || sign === 45) end++;
    } else if (c !== 46 && (!(c < 128) || identChar[c] === 0 || c === 36)) {
      break; // (also at the end of the text, where c is NaN)
    }
  }
  const length = end - offset;
  floatSyntax.lastIndex = offset;
  if (floatSyntax.test(text)) {
    numberType = floatSyntax.lastIndex - offset === length ? FloatConstant : PPNumber;
  } else {
    integerSyntax.lastIndex = offset;
    const integer = integerSyntax.test(text) && integerSyntax.lastIndex - offset === length;
    numberType = integer ? IntegerConstant : PPNumber;
  }
  numberMatch[0] = text.slice(offset, end);
  return numberType;
}

function numberToken(name: string, startChars: number[]): TokenType {
  const token: TokenType = createToken({
    name,
    pattern: {
      exec: (text: string, offset: number) =>
        readNumber(text, offset) === token ? numberMatch : null,
    },
    start_chars_hint: startChars,
    line_breaks: false,
  });
  return token;
}

const digits = Array.from("0123456789", (c) => c.charCodeAt(0));
export const FloatConstant = numberToken("FloatConstant", [...digits, 46]);
export const IntegerConstant = numberToken("IntegerConstant", digits);
export const PPNumber = numberToken("PPNumber", [...digits, 46]);

// Literals (an encoding prefix is not taken for an identifier when a quote follows it).
export const CharConstant = createToken({
  name: "CharConstant",
  pattern: /(?:u8|[uUL])?'(?:[^'\\\n]|\\\r?\n|\\(?:\\\r?\n)*[^])*'/,
});
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /(?:u8|[uUL])?"(?:[^"\\\n]|\\\r?\n|\\(?:\\\r?\n)*[^])*"/,
});
export const UnterminatedChar = createToken({
  name: "UnterminatedChar",
  pattern: /(?:u8|[uUL])?'[^\n]*/,
});
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /(?:u8|[uUL])?"[^\n]*/,
});

/** Every punctuator type to its spelling (the first one, for a type with a digraph). */
export const punctuatorSpelling = new Map<TokenType, string>();

/**
 * A punctuator type. A single character is a string pattern, which Chevrotain compares inline;
 * anything longer, or with a digraph spelling, is a custom pattern comparing character codes and
 * answering with a constant image, so that no regular expression runs and no string is made.
 */
function punctuator(name: string, ...spellings: string[]): TokenType {
  const first = spellings[0]!;
  const token =
    spellings.length === 1 && first.length === 1
      ? createToken({ name, pattern: first })
      : createToken({
          name,
          pattern: { exec: spellingMatcher(spellings) },
          start_chars_hint: [...new Set(spellings.map((s) => s.charCodeAt(0)))],
          line_breaks: false,
        });
  punctuatorSpelling.set(token, first);
  return token;
}

function spellingMatcher(spellings: string[]): (text: string, offset: number) => [string] | null {
  const matches = spellings.map((s): [string] => [s]);
  const codes = spellings.map((s) => Array.from(s, (c) => c.charCodeAt(0)));
  return (text, offset) => {
    for (let k = 0; k < codes.length; k++) {
      const spelling = codes[k]!;
      let i = 0;
      while (i < spelling.length && text.charCodeAt(offset + i) === spelling[i]) i++;
      if (i === spelling.length) return matches[k]!;
    }
    return null;
  };
}

// Longest first: Chevrotain takes the first pattern that matches.
export const HashHash = punctuator("HashHash", "##", "%:%:");
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
export const LBracket = punctuator("LBracket", "[", "<:");
export const RBracket = punctuator("RBracket", "]", ":>");
export const LBrace = punctuator("LBrace", "{", "<%");
export const RBrace = punctuator("RBrace", "}", "%>");
export const Hash = punctuator("Hash", "#", "%:");
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
  pattern: /\/\/(?:[^\n\\]|\\\r?\n|\\)*/,
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
  Identifier,
  ...keywordTokens,
  FloatConstant,
  IntegerConstant,
  PPNumber,
  CharConstant,
  StringLiteral,
  UnterminatedChar,
  UnterminatedString,
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

/**
 * Chevrotain's Lexer, making each token in CToken's shape straight away, with its place. Under
 * positionTracking "onlyOffset" Chevrotain creates every token, in order, with its
 * createOffsetOnlyToken method; making the whole CToken there means one object per token and no
 * second pass over them, and every token has the hidden class that copyToken's copies have too,
 * so the phases after this one stay monomorphic. A word is given its keyword's type here.
 */
class CTokenLexer extends Lexer {
  createOffsetOnlyToken(
    image: string,
    startOffset: number,
    tokenTypeIdx: number,
    tokenType: TokenType,
  ): CToken {
    if (tokenType === Identifier && wordType !== Identifier) {
      tokenType = wordType;
      tokenTypeIdx = wordType.tokenTypeIdx!;
    }
    const t: CToken = {
      image,
      startOffset,
      tokenTypeIdx,
      tokenType,
      file: "",
      line: 0,
      col: 0,
      hasSpace: false,
      atLineStart: false,
      expansion: undefined,
      hideSet: undefined,
    };
    lexing.locate(t);
    return t;
  }

  // Chevrotain pushes each token onto an array it starts empty (with custom patterns it does not
  // guess a size): the tokens go into Lexing's array instead, sized from the text once, so that
  // a 500,000-token file is not copied into ever larger arrays as it grows.
  addTokenUsingPush(_tokens: IToken[], index: number, t: CToken): number {
    lexing.tokens[lexing.made++] = t;
    return index;
  }
}

let sharedLexer: CTokenLexer | undefined;

/**
 * The one C lexer of the process. The token definitions are fixed, so Chevrotain's checks of them
 * run in the lexer test instead of at every start (skipValidations); ensureOptimizations makes
 * sure every pattern is indexed by its first character.
 */
function cLexer(): CTokenLexer {
  sharedLexer ??= new CTokenLexer(allTokens, {
    positionTracking: "onlyOffset",
    ensureOptimizations: true,
    skipValidations: true,
  });
  return sharedLexer;
}

const NL = 10;
const CR = 13;
const BACKSLASH = 92;
const SLASH = 47;
const STAR = 42;
const BYTE_ORDER_MARK = 0xfeff;

const UNTERMINATED_COMMENT_IDX = UnterminatedComment.tokenTypeIdx!;
const STRING_LITERAL_IDX = StringLiteral.tokenTypeIdx!;
const CHAR_CONSTANT_IDX = CharConstant.tokenTypeIdx!;
const HASH_IDX = Hash.tokenTypeIdx!;

/** A file's tokens, and where its directives are. */
export interface LexedFile {
  tokens: CToken[];
  /** The indices of the tokens that are a `#` first on its line (a directive's start), ascending. */
  directives: number[];
  /** The file's lines (a last line without a newline counts). */
  lines: number;
}

/**
 * Lexes one file into CTokens with locations and the line-start/blank-space flags. An
 * unterminated block comment is reported into `diagnostics`; literals without a closing quote come
 * back as Unterminated* tokens for the caller to judge (clang only warns about them).
 */
export function lexFile(text: string, file: string, diagnostics?: DiagnosticBag): CToken[] {
  return lexSource(text, file, diagnostics).tokens;
}

/** lexFile(), and where the file's directives start. */
export function lexSource(text: string, file: string, diagnostics?: DiagnosticBag): LexedFile {
  const lexed = hasJoiningSplice(text)
    ? lexSpliced(text, file, diagnostics)
    : lexText(text, file, (offset, line, col) =>
        diagnostics?.error(
          { file, line, col: byteColumn(text, offset - (col - 1), offset) },
          "unterminated /* comment",
        ),
      );
  if (nonAscii.test(text)) toByteColumns(lexed.tokens, text);
  return lexed;
}

/** Chevrotain's tokens for `text`, located; reports an unterminated comment (offset, line, col). */
function lexText(
  text: string,
  file: string,
  unterminatedComment: (offset: number, line: number, col: number) => void,
): LexedFile {
  lexing.start(text, file);
  const result = cLexer().tokenize(text);
  // `Other` matches any character that is not blank, so the lexer never fails.
  if (result.errors.length > 0) {
    throw new Error(`internal error: the C lexer failed in ${file}: ${result.errors[0]!.message}`);
  }
  const tokens = lexing.tokens;
  tokens.length = lexing.made;
  const directives = lexing.directives;
  // A UTF-8 byte order mark is not a token (Chevrotain lexes it as `Other`).
  // (Tokens are counted without it.)
  if (lexing.byteOrderMark && tokens.length > 0) tokens.shift();
  const cut = lexing.unterminatedComment;
  let lines: number;
  if (cut !== undefined) {
    unterminatedComment(cut.offset, cut.line, cut.col);
    tokens.length = cut.index;
    lines = countLines(text);
  } else {
    // Every newline is in skipped text or in a literal: the line count has seen them all but
    // those after the last token.
    const where = lexing.where;
    where.skip(text, lexing.end, text.length);
    lines = where.line - 1 + (text.length > 0 && text.charCodeAt(text.length - 1) !== NL ? 1 : 0);
  }
  lexing.start("", "");
  return { tokens, directives, lines };
}

/** Where the lexer is in the file: the line, where it starts, and whether a token would be the first on it. */
class LineTracker {
  line = 1;
  /** Offset of the first character of `line`. */
  lineStart = 0;
  atLineStart = true;

  /** Moves over skipped text (blank space, splices and comments only) from `p` to `end`. */
  skip(text: string, p: number, end: number): void {
    while (p < end) {
      const c = text.charCodeAt(p);
      if (c === NL) {
        this.newline(p);
        this.atLineStart = true;
        p++;
      } else if (c === BACKSLASH) {
        // A splice (`\`, maybe CR, newline) continues the line: only the count moves.
        p = text.indexOf("\n", p);
        this.newline(p++);
      } else if (c === SLASH && text.charCodeAt(p + 1) === STAR) {
        // A comment is one space (C11 5.1.1.2): its newlines do not end a directive line.
        const close = text.indexOf("*/", p + 2);
        this.newlinesIn(text, p + 2, close);
        p = close + 2;
      } else if (c === SLASH) {
        p = this.lineComment(text, p + 2, end);
      } else {
        p++;
      }
    }
  }

  /** Past the `//` comment whose text starts at `p`: up to its newline, splices continuing it. */
  private lineComment(text: string, p: number, end: number): number {
    while (p < end) {
      const c = text.charCodeAt(p);
      if (c === NL) return p;
      if (c === BACKSLASH) {
        let q = p + 1;
        if (text.charCodeAt(q) === CR) q++;
        if (text.charCodeAt(q) === NL) {
          this.newline(q);
          p = q;
        }
      }
      p++;
    }
    return p;
  }

  /** Counts the newlines in text[from, to) (inside a comment or a literal). */
  newlinesIn(text: string, from: number, to: number): void {
    for (let q = text.indexOf("\n", from); q >= 0 && q < to; q = text.indexOf("\n", q + 1)) {
      this.newline(q);
    }
  }

  private newline(at: number): void {
    this.line++;
    this.lineStart = at + 1;
  }
}

/**
 * The text being lexed, and where its tokens are: each token made is placed (file, line, column,
 * flags) from the skipped text between it and the previous one (Chevrotain has matched all else).
 */
class Lexing {
  text = "";
  file = "";
  where = new LineTracker();
  /** Just past the previous token: where skipped text starts. */
  end = 0;
  /** The tokens Chevrotain made, in order (a byte order mark's too): `made` of them. */
  tokens: CToken[] = [];
  made = 0;
  directives: number[] = [];
  /** The text starts with a byte order mark (lexed as a token that lexText drops). */
  byteOrderMark = false;
  /** Where an unterminated comment starts; it and the tokens from it on are dropped. */
  unterminatedComment: { offset: number; line: number; col: number; index: number } | undefined;

  start(text: string, file: string): void {
    this.text = text;
    this.file = file;
    this.where = new LineTracker();
    this.end = 0;
    // (A vmlinux.h has a token per 5.6 characters; a header with long comments, fewer.)
    this.tokens = new Array<CToken>(Math.ceil(text.length / 5) + 16);
    this.made = 0;
    this.directives = [];
    this.byteOrderMark = text.charCodeAt(0) === BYTE_ORDER_MARK;
    this.unterminatedComment = undefined;
  }

  locate(t: CToken): void {
    const start = t.startOffset;
    if (start === 0 && this.byteOrderMark) {
      this.end = 1;
      return;
    }
    // Its index among the file's tokens (it is stored after this; a byte order mark is not one).
    const index = this.byteOrderMark ? this.made - 1 : this.made;
    const text = this.text;
    const where = this.where;
    where.skip(text, this.end, start);
    if (t.tokenTypeIdx === UNTERMINATED_COMMENT_IDX) {
      const col = start - where.lineStart + 1;
      this.unterminatedComment ??= { offset: start, line: where.line, col, index };
      return;
    }
    t.file = this.file;
    t.line = where.line;
    t.col = start - where.lineStart + 1;
    if (text.charCodeAt(start - 1) === NL) locateAfterSplices(t, text);
    t.hasSpace = start > this.end;
    if (where.atLineStart) {
      t.atLineStart = true;
      where.atLineStart = false;
      if (t.tokenTypeIdx === HASH_IDX) this.directives.push(index);
    }
    const end = start + t.image.length;
    this.end = end;
    // A literal may contain spliced newlines.
    const type = t.tokenTypeIdx;
    if (type === STRING_LITERAL_IDX || type === CHAR_CONSTANT_IDX)
      where.newlinesIn(text, start, end);
  }
}

const lexing = new Lexing();

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
 * clang places a token that follows splices directly (`\\`, newline, token) at the first splice's
 * backslash: its lexer starts the token there and reads through the splices.
 */
function locateAfterSplices(t: CToken, text: string): void {
  const at = spliceRunStart(text, t.startOffset);
  if (at === t.startOffset) return;
  const lineStart = text.lastIndexOf("\n", at - 1) + 1;
  t.line -= countNewlines(text, at, t.startOffset);
  t.col = at - lineStart + 1;
}

/** The offset of the first of the splices that end right at `offset` (`offset` if none does). */
function spliceRunStart(text: string, offset: number): number {
  for (;;) {
    if (text.charCodeAt(offset - 1) !== NL) return offset;
    let b = offset - 2;
    if (text.charCodeAt(b) === CR) b--;
    if (text.charCodeAt(b) !== BACKSLASH) return offset;
    offset = b;
  }
}

/** Offsets where each line of a text starts (index = line - 1). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", nl + 1)) starts.push(nl + 1);
  return starts;
}

/** The lines of a text (a last line without a newline counts). */
export function countLines(text: string): number {
  const newlines = countNewlines(text, 0, text.length);
  return text.length > 0 && !text.endsWith("\n") ? newlines + 1 : newlines;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let q = text.indexOf("\n", from); q >= 0 && q < to; q = text.indexOf("\n", q + 1)) count++;
  return count;
}

/** The end of the run of splices (backslash-newlines) starting at `i`; `i` if none starts there. */
function spliceRunEnd(text: string, i: number): number {
  for (;;) {
    if (text.charCodeAt(i) !== BACKSLASH) return i;
    let j = i + 1;
    if (text.charCodeAt(j) === CR) j++;
    if (text.charCodeAt(j) !== NL) return i;
    i = j + 1;
  }
}

/**
 * Whether the splices text[start, end) may join two pieces into one token: something other than
 * blank on both sides. (Other splices are blank space to the lexer patterns.)
 */
function splicesJoin(text: string, start: number, end: number): boolean {
  if (start === 0 || end >= text.length) return false;
  return !isBlank(text.charCodeAt(start - 1)) && !isBlank(text.charCodeAt(end));
}

/** Whether some splice joins pieces. (Found by indexOf: most files have few backslashes or none.) */
function hasJoiningSplice(text: string): boolean {
  for (let i = text.indexOf("\\"); i >= 0;) {
    const end = spliceRunEnd(text, i);
    if (end > i && splicesJoin(text, i, end)) return true;
    i = text.indexOf("\\", end > i ? end : i + 1);
  }
  return false;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === NL || c === CR;
}

/**
 * Lexes a file in which a line splice may fall inside a token (`foo\<newline>bar` is `foobar`):
 * removes the splices that join pieces first (C11 5.1.1.2 phase 2), then maps each token back to
 * where it starts in the file. Rare, so it may be slower than lexText().
 */
function lexSpliced(text: string, file: string, diagnostics?: DiagnosticBag): LexedFile {
  const origin: number[] = []; // offset in `text` of each character kept
  let spliced = "";
  let kept = 0;
  for (let i = text.indexOf("\\"); i >= 0;) {
    const end = spliceRunEnd(text, i);
    if (end > i && splicesJoin(text, i, end)) {
      spliced += text.slice(kept, i);
      for (let k = kept; k < i; k++) origin.push(k);
      kept = end;
    }
    i = text.indexOf("\\", end > i ? end : i + 1);
  }
  spliced += text.slice(kept);
  for (let k = kept; k <= text.length; k++) origin.push(k);
  const starts = lineStarts(text);
  const locate = (offset: number): SourceLoc => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file, line: lo + 1, col: offset - starts[lo]! + 1 };
  };
  const lexed = lexText(spliced, file, (offset) =>
    diagnostics?.error(locate(origin[offset]!), "unterminated /* comment"),
  );
  for (const t of lexed.tokens) {
    t.startOffset = origin[t.startOffset]!;
    const { line, col } = locate(spliceRunStart(text, t.startOffset));
    t.line = line;
    t.col = col;
  }
  return { ...lexed, lines: countLines(text) };
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
