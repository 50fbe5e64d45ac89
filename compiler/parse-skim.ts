// Record bodies read past. A vmlinux.h defines 10,000 structs and unions, two thirds of its
// tokens, and a program uses a few dozen of them; clang parses them all, and so must we to
// report what is wrong in them, but a body whose members all have the plain forms below cannot
// have anything wrong with it that the grammar would see. The parser checks a body against these
// forms in one pass over its tokens (skimRecordBody) and, when it passes, keeps the token range
// instead of the members; sema checks the same forms against the types in scope
// (sema-skim.ts) and defines the record with the body still unparsed; the members are parsed
// and checked, without a diagnostic to report, when the record is first asked for them
// (RecordDecl in types.ts). Any other body is parsed at once, as it always was.
//
//   body        member* '}'
//   member      specifiers (declarator (',' declarator)*)? ';'
//                 (no declarator: only after an anonymous struct or union, a member itself)
//   specifiers  ('const' | 'volatile' | basic keyword)* and one of: nothing more (then at least
//               one basic keyword), a typedef name, ('struct' | 'union' | 'enum') name (not
//               followed by '{'), ('struct' | 'union') '{' body; each qualifier once; the basic
//               keywords a valid combination (parse-specifiers.ts)
//   declarator  ':' integer
//               pointer* name ('[' integer ']')* (':' integer)?
//               pointer* '(' '*' name ')' '(' parameters ')'
//   pointer     '*' ('const' | 'volatile')*            (each qualifier once)
//   parameters  nothing | parameter (',' parameter)* (',' '...')?
//   parameter   specifiers pointer*                     (no body, no name)
//   integer     a decimal literal without suffix, at most 9 digits
//
// An identifier names a type only where no type specifier came before it (as clang decides):
// after one it is the member's name, a typedef name or not. The skim notes which identifiers it
// read as typedef names, and the later parse reads them so (and the rest as names) whatever is
// declared after the body. It changes no token: a header's token objects appear again at each
// of its inclusions, and in later compiles through the front end's prefix cache.
import type { IToken, TokenType } from "./chevrotain.js";
import * as T from "./lexer.js";
import {
  addBasicKeyword,
  BasicKeyword,
  basicKeywordsFit,
  BasicSpecifiers,
} from "./parse-specifiers.js";

/** What a token is to the skims (an index into small tables, not its Chevrotain type). */
export const Kind = {
  Other: 0,
  Name: 1,
  Const: 2,
  Volatile: 3,
  Basic: 4,
  Struct: 5,
  Union: 6,
  Enum: 7,
  LBrace: 8,
  RBrace: 9,
  Semicolon: 10,
  Comma: 11,
  Star: 12,
  LParen: 13,
  RParen: 14,
  LBracket: 15,
  RBracket: 16,
  Colon: 17,
  Integer: 18,
  Ellipsis: 19,
} as const;

const kinds: number[] = [];
/** The BasicKeyword of each basic type keyword token type (by tokenTypeIdx). */
export const basicKeywordOf: number[] = [];

function setKind(type: TokenType, kind: number): void {
  kinds[type.tokenTypeIdx!] = kind;
}
setKind(T.Identifier, Kind.Name);
setKind(T.Const, Kind.Const);
setKind(T.Volatile, Kind.Volatile);
setKind(T.Struct, Kind.Struct);
setKind(T.Union, Kind.Union);
setKind(T.Enum, Kind.Enum);
setKind(T.LBrace, Kind.LBrace);
setKind(T.RBrace, Kind.RBrace);
setKind(T.Semicolon, Kind.Semicolon);
setKind(T.Comma, Kind.Comma);
setKind(T.Star, Kind.Star);
setKind(T.LParen, Kind.LParen);
setKind(T.RParen, Kind.RParen);
setKind(T.LBracket, Kind.LBracket);
setKind(T.RBracket, Kind.RBracket);
setKind(T.Colon, Kind.Colon);
setKind(T.IntegerConstant, Kind.Integer);
setKind(T.Ellipsis, Kind.Ellipsis);
/** The basic type keywords (but _Complex, which the skims leave to the parser) as BasicKeywords. */
export const basicKeywordTokens: readonly (readonly [TokenType, BasicKeyword])[] = [
  [T.Void, BasicKeyword.Void],
  [T.Char, BasicKeyword.Char],
  [T.Short, BasicKeyword.Short],
  [T.Int, BasicKeyword.Int],
  [T.Long, BasicKeyword.Long],
  [T.Float, BasicKeyword.Float],
  [T.Double, BasicKeyword.Double],
  [T.Signed, BasicKeyword.Signed],
  [T.Unsigned, BasicKeyword.Unsigned],
  [T.Bool, BasicKeyword.Bool],
  [T.Int128, BasicKeyword.Int128],
];
for (const [type, keyword] of basicKeywordTokens) {
  setKind(type, Kind.Basic);
  basicKeywordOf[type.tokenTypeIdx!] = keyword;
}

/** The skim kind of a token; the parser's TypedefName type is a Name too (see nameKind). */
export function kindOf(tok: IToken | undefined): number {
  return tok === undefined ? Kind.Other : (kinds[tok.tokenTypeIdx] ?? Kind.Other);
}

/** Registers the parser's TypedefName token type (parse-base.ts) as a Name. */
export function nameKind(type: TokenType): void {
  setKind(type, Kind.Name);
}

/** The value of an integer token of the skim grammar, or -1 if it is not one. */
export function plainInteger(tok: IToken): number {
  const s = tok.image;
  const n = s.length;
  if (n > 9 || (s.charCodeAt(0) === 48 && n > 1)) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Resets a BasicSpecifiers for reuse. */
export function clearBasics(b: BasicSpecifiers<number>): void {
  b.type = -1;
  b.typeToken = undefined;
  b.width = 0;
  b.widthToken = undefined;
  b.sign = 0;
  b.signToken = undefined;
  b.complexToken = undefined;
}

/** Whether the basic keywords read make a type without a problem (with no other type). */
export function basicsValid(b: BasicSpecifiers<number>): boolean {
  return (b.type >= 0 || b.width !== 0 || b.sign !== 0) && basicKeywordsFit(b, null);
}

/**
 * The parser's skim. `open` is the index of a body's '{'. Returns the index of the '}' that
 * closes it when the body has only the forms above, else -1. The places of the identifiers it
 * read as typedef names are pushed onto `typedefs`, counted from the token after the '{'.
 */
export function skimRecordBody(
  tokens: readonly IToken[],
  open: number,
  isTypedef: (name: string) => boolean,
  typedefs: number[],
): number {
  skim.tokens = tokens;
  skim.first = skim.i = open + 1;
  skim.isTypedef = isTypedef;
  skim.typedefs = typedefs;
  try {
    return skim.members() ? skim.i : -1;
  } finally {
    skim.tokens = NO_TOKENS;
    skim.typedefs = NO_PLACES;
  }
}

const NO_TOKENS: readonly IToken[] = [];
const NO_PLACES: number[] = [];

class ParserSkim {
  tokens = NO_TOKENS;
  i = 0;
  /** The body's first token (after its '{'). */
  first = 0;
  isTypedef: (name: string) => boolean = () => false;
  typedefs = NO_PLACES;
  private readonly basics = new BasicSpecifiers<number>();

  private kind(): number {
    return kindOf(this.tokens[this.i]);
  }

  /** Members up to the '}' of their body (left as the current token). */
  members(): boolean {
    for (;;) {
      if (this.kind() === Kind.RBrace) return true;
      const spec = this.specifiers(true);
      if (spec < 0) return false;
      if (this.kind() === Kind.Semicolon) {
        if (spec !== 1) return false;
        this.i++;
        continue;
      }
      for (;;) {
        if (!this.declarator()) return false;
        const k = this.kind();
        this.i++;
        if (k === Kind.Semicolon) break;
        if (k !== Kind.Comma) return false;
      }
    }
  }

  /** -1: not of the forms; 1: an anonymous struct or union body; 0: any other type. */
  specifiers(allowBody: boolean): number {
    const b = this.basics;
    clearBasics(b);
    let hasConst = false;
    let hasVolatile = false;
    // 0 none, 1 typedef name, 2 tag, 3 anonymous body
    let other = 0;
    for (;;) {
      const tok = this.tokens[this.i];
      const k = kindOf(tok);
      if (k === Kind.Const) {
        if (hasConst) return -1;
        hasConst = true;
      } else if (k === Kind.Volatile) {
        if (hasVolatile) return -1;
        hasVolatile = true;
      } else if (k === Kind.Basic) {
        if (other !== 0) return -1;
        if (addBasicKeyword(b, basicKeywordOf[tok!.tokenTypeIdx] as BasicKeyword, 0, null))
          return -1;
      } else if (k === Kind.Name) {
        // After a type specifier, the declarator's name.
        if (other !== 0 || b.any()) break;
        if (!this.isTypedef(tok!.image)) return -1;
        this.typedefs.push(this.i - this.first);
        other = 1;
      } else if (k === Kind.Struct || k === Kind.Union || k === Kind.Enum) {
        if (other !== 0 || b.any()) return -1;
        const next = this.tokens[this.i + 1];
        const nk = kindOf(next);
        if (nk === Kind.Name) {
          if (kindOf(this.tokens[this.i + 2]) === Kind.LBrace) return -1;
          this.i++;
          other = 2;
        } else if (nk === Kind.LBrace && k !== Kind.Enum && allowBody) {
          this.i += 2;
          if (!this.members()) return -1;
          other = 3;
        } else return -1;
      } else break;
      this.i++;
    }
    if (other === 0) return b.any() && basicsValid(b) ? 0 : -1;
    return other === 3 ? 1 : 0;
  }

  private pointers(): void {
    while (this.kind() === Kind.Star) {
      this.i++;
      let hasConst = false;
      let hasVolatile = false;
      for (;;) {
        const k = this.kind();
        if (k === Kind.Const && !hasConst) hasConst = true;
        else if (k === Kind.Volatile && !hasVolatile) hasVolatile = true;
        else break;
        this.i++;
      }
    }
  }

  private declarator(): boolean {
    if (this.kind() === Kind.Colon) {
      this.i++;
      return this.integer();
    }
    this.pointers();
    if (this.kind() === Kind.LParen) {
      this.i++;
      if (this.kind() !== Kind.Star) return false;
      this.i++;
      if (!this.name()) return false;
      if (this.kind() !== Kind.RParen) return false;
      this.i++;
      if (this.kind() !== Kind.LParen) return false;
      this.i++;
      return this.parameters();
    }
    if (!this.name()) return false;
    while (this.kind() === Kind.LBracket) {
      this.i++;
      if (!this.integer() || this.kind() !== Kind.RBracket) return false;
      this.i++;
    }
    if (this.kind() === Kind.Colon) {
      this.i++;
      return this.integer();
    }
    return true;
  }

  private name(): boolean {
    const tok = this.tokens[this.i];
    // A typedef name too: after the specifiers it is the member's name (clang's reading).
    if (kindOf(tok) !== Kind.Name) return false;
    this.i++;
    return true;
  }

  private integer(): boolean {
    const tok = this.tokens[this.i];
    if (kindOf(tok) !== Kind.Integer || plainInteger(tok!) < 0) return false;
    this.i++;
    return true;
  }

  /** After the '(' of a parameter list, through its ')'. */
  private parameters(): boolean {
    if (this.kind() === Kind.RParen) {
      this.i++;
      return true;
    }
    for (;;) {
      if (this.specifiers(false) !== 0) return false;
      this.pointers();
      const k = this.kind();
      this.i++;
      if (k === Kind.RParen) return true;
      if (k !== Kind.Comma) return false;
      if (this.kind() === Kind.Ellipsis) {
        this.i++;
        if (this.kind() !== Kind.RParen) return false;
        this.i++;
        return true;
      }
    }
  }
}

const skim = new ParserSkim();
