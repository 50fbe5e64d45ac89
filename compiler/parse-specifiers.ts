// Combining the basic type keywords of a declaration-specifier list (C11 6.7.2p2) the way clang
// does: they may come in any order, mixed with other specifiers, and are kept as three parts -
// the type keyword (int, char, double, ...), the width (short, long, long long) and the sign -
// each refused with clang's message when it conflicts with what came before, and checked
// against each other once the list is complete.
import type { BasicTypeName } from "./ast.js";

export const BasicKeyword = {
  Void: 0,
  Char: 1,
  Short: 2,
  Int: 3,
  Long: 4,
  Float: 5,
  Double: 6,
  Signed: 7,
  Unsigned: 8,
  Bool: 9,
  Int128: 10,
  Complex: 11,
} as const;
export type BasicKeyword = (typeof BasicKeyword)[keyof typeof BasicKeyword];

const SPELLING = [
  "void",
  "char",
  "short",
  "int",
  "long",
  "float",
  "double",
  "signed",
  "unsigned",
  "_Bool",
  "__int128",
  "_Complex",
];

const WIDTH_SPELLING = ["", "short", "long", "long long"];

/** The basic keywords seen so far, with the token of each part for diagnostics. */
export class BasicSpecifiers<Tok> {
  /** The type keyword (Void, Char, Int, Float, Double, Bool, Int128), or -1. */
  type = -1;
  typeToken: Tok | undefined = undefined;
  /** 0 none, 1 short, 2 long, 3 long long. */
  width = 0;
  widthToken: Tok | undefined = undefined;
  /** 0 none, 1 signed, 2 unsigned. */
  sign = 0;
  signToken: Tok | undefined = undefined;
  complexToken: Tok | undefined = undefined;

  any(): boolean {
    return this.type >= 0 || this.width !== 0 || this.sign !== 0 || this.complexToken !== undefined;
  }

  /** The first token of these keywords. */
  firstToken(): Tok | undefined {
    return this.typeToken ?? this.widthToken ?? this.signToken ?? this.complexToken;
  }

  /** How clang names these keywords as "previous" specifier: the type, else the width, else the sign. */
  previousSpelling(): string {
    if (this.type >= 0) return SPELLING[this.type]!;
    if (this.width !== 0) return WIDTH_SPELLING[this.width]!;
    return this.sign === 1 ? "signed" : this.sign === 2 ? "unsigned" : "_Complex";
  }
}

export interface SpecifierProblem<Tok> {
  token: Tok;
  message: string;
  warning?: boolean;
}

/**
 * Adds keyword k. `otherType` names a struct/union/enum/typedef specifier already seen (clang's
 * 'struct', 'type-name', ...), which a type keyword cannot join. Returns the problem, if any
 * (the keyword is then ignored).
 */
export function addBasicKeyword<Tok>(
  s: BasicSpecifiers<Tok>,
  k: BasicKeyword,
  token: Tok,
  otherType: string | null,
): SpecifierProblem<Tok> | null {
  switch (k) {
    case BasicKeyword.Short:
    case BasicKeyword.Long: {
      if (k === BasicKeyword.Short ? s.width === 1 : false) {
        return { token, message: "duplicate 'short' declaration specifier", warning: true };
      }
      if (k === BasicKeyword.Long && (s.width === 0 || s.width === 2)) {
        s.width = s.width === 0 ? 2 : 3;
        s.widthToken ??= token;
        return null;
      }
      if (s.width !== 0)
        return {
          token,
          message: `cannot combine with previous '${WIDTH_SPELLING[s.width]}' declaration specifier`,
        };
      s.width = 1;
      s.widthToken = token;
      return null;
    }
    case BasicKeyword.Signed:
    case BasicKeyword.Unsigned: {
      const sign = k === BasicKeyword.Signed ? 1 : 2;
      if (s.sign === sign)
        return {
          token,
          message: `duplicate '${SPELLING[k]}' declaration specifier`,
          warning: true,
        };
      if (s.sign !== 0)
        return {
          token,
          message: `cannot combine with previous '${s.sign === 1 ? "signed" : "unsigned"}' declaration specifier`,
        };
      s.sign = sign;
      s.signToken = token;
      return null;
    }
    case BasicKeyword.Complex:
      s.complexToken ??= token;
      return null;
    default:
      if (otherType !== null)
        return {
          token,
          message: `cannot combine with previous '${otherType}' declaration specifier`,
        };
      if (s.type >= 0)
        return {
          token,
          message: `cannot combine with previous '${SPELLING[s.type]}' declaration specifier`,
        };
      s.type = k;
      s.typeToken = token;
      return null;
  }
}

/** A width keyword (short, long) goes with the type keyword, if any (and with no other type). */
function widthFits<Tok>(s: BasicSpecifiers<Tok>, otherType: string | null): boolean {
  return (
    otherType === null &&
    (s.type < 0 || s.type === BasicKeyword.Int || (s.type === BasicKeyword.Double && s.width === 2))
  );
}

/** A sign keyword goes with the type keyword, if any (and with no other type). */
function signFits<Tok>(s: BasicSpecifiers<Tok>, otherType: string | null): boolean {
  return (
    otherType === null &&
    (s.type < 0 ||
      s.type === BasicKeyword.Int ||
      s.type === BasicKeyword.Char ||
      s.type === BasicKeyword.Int128)
  );
}

/** Whether resolveBasicKeywords finds no problem (without making its result). */
export function basicKeywordsFit<Tok>(s: BasicSpecifiers<Tok>, otherType: string | null): boolean {
  return (
    s.complexToken === undefined &&
    (s.width === 0 || widthFits(s, otherType)) &&
    (s.sign === 0 || signFits(s, otherType))
  );
}

/**
 * The basic type the keywords name, checking width and sign against the type keyword.
 * `otherType` is the struct/union/enum/typedef specifier they were written with, if any
 * (then only a width or sign can be wrong).
 */
export function resolveBasicKeywords<Tok>(
  s: BasicSpecifiers<Tok>,
  otherType: string | null,
): { name: BasicTypeName | null; problems: SpecifierProblem<Tok>[] } {
  const problems: SpecifierProblem<Tok>[] = [];
  const typeName = otherType ?? (s.type >= 0 ? SPELLING[s.type]! : "int");
  if (s.complexToken !== undefined)
    problems.push({ token: s.complexToken, message: "_Complex types are not supported" });
  let width = s.width;
  let sign = s.sign;
  if (width !== 0) {
    if (!widthFits(s, otherType)) {
      problems.push({
        token: s.widthToken!,
        message: `'${WIDTH_SPELLING[width]} ${typeName}' is invalid`,
      });
      width = 0;
    }
  }
  if (sign !== 0) {
    if (!signFits(s, otherType)) {
      problems.push({
        token: s.signToken!,
        message: `'${otherType ?? SPELLING[s.type]}' cannot be signed or unsigned`,
      });
      sign = 0;
    }
  }
  if (otherType !== null) return { name: null, problems };
  const unsigned = sign === 2;
  let name: BasicTypeName;
  switch (s.type) {
    case BasicKeyword.Void:
      name = "void";
      break;
    case BasicKeyword.Bool:
      name = "_Bool";
      break;
    case BasicKeyword.Char:
      name = sign === 0 ? "char" : unsigned ? "unsigned char" : "signed char";
      break;
    case BasicKeyword.Float:
      name = "float";
      break;
    case BasicKeyword.Double:
      name = width === 2 ? "long double" : "double";
      break;
    case BasicKeyword.Int128:
      name = unsigned ? "unsigned __int128" : "__int128";
      break;
    default:
      // int, or only a width and/or a sign.
      name =
        width === 1
          ? unsigned
            ? "unsigned short"
            : "short"
          : width === 2
            ? unsigned
              ? "unsigned long"
              : "long"
            : width === 3
              ? unsigned
                ? "unsigned long long"
                : "long long"
              : unsigned
                ? "unsigned int"
                : "int";
  }
  return { name, problems };
}
