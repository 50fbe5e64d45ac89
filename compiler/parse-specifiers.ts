// Combining the basic type keywords of a declaration-specifier list (C11 6.7.2p2): the keywords
// may come in any order and mix with other specifiers, so they are counted as they arrive and
// resolved to one BasicTypeName at the end. A keyword that cannot join the ones already seen is
// refused with clang's message and dropped.
import type { BasicTypeName } from "./ast.js";

/** The basic type keywords, numbered (the bit position of each count in a keyword multiset). */
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

const KEYWORD_COUNT = 12;

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

export function basicKeywordSpelling(k: BasicKeyword): string {
  return SPELLING[k]!;
}

// Every complete combination, as the keywords written (order does not matter).
const COMBINATIONS: [string, BasicTypeName][] = [
  ["void", "void"],
  ["_Bool", "_Bool"],
  ["char", "char"],
  ["signed char", "signed char"],
  ["unsigned char", "unsigned char"],
  ["short", "short"],
  ["short int", "short"],
  ["signed short", "short"],
  ["signed short int", "short"],
  ["unsigned short", "unsigned short"],
  ["unsigned short int", "unsigned short"],
  ["int", "int"],
  ["signed", "int"],
  ["signed int", "int"],
  ["unsigned", "unsigned int"],
  ["unsigned int", "unsigned int"],
  ["long", "long"],
  ["long int", "long"],
  ["signed long", "long"],
  ["signed long int", "long"],
  ["unsigned long", "unsigned long"],
  ["unsigned long int", "unsigned long"],
  ["long long", "long long"],
  ["long long int", "long long"],
  ["signed long long", "long long"],
  ["signed long long int", "long long"],
  ["unsigned long long", "unsigned long long"],
  ["unsigned long long int", "unsigned long long"],
  ["__int128", "__int128"],
  ["signed __int128", "__int128"],
  ["unsigned __int128", "unsigned __int128"],
  ["float", "float"],
  ["double", "double"],
  ["long double", "long double"],
];

/** A multiset of keywords as a number: 2 bits per keyword count. */
function keyOf(counts: readonly number[]): number {
  let key = 0;
  for (let i = 0; i < KEYWORD_COUNT; i++) key |= counts[i]! << (2 * i);
  return key;
}

const complete = new Map<number, BasicTypeName>();
const partial = new Set<number>();

function buildTables(): void {
  for (const [words, name] of COMBINATIONS) {
    const counts = new Array<number>(KEYWORD_COUNT).fill(0);
    for (const w of words.split(" ")) counts[SPELLING.indexOf(w)]!++;
    complete.set(keyOf(counts), name);
    // Every sub-multiset is a valid prefix of some order of writing it.
    const expand = (i: number, sub: number[]): void => {
      if (i === KEYWORD_COUNT) {
        partial.add(keyOf(sub));
        return;
      }
      for (let n = 0; n <= counts[i]!; n++) {
        sub[i] = n;
        expand(i + 1, sub);
      }
    };
    expand(0, new Array<number>(KEYWORD_COUNT).fill(0));
  }
}
buildTables();

/** Adds keyword k to the multiset `key`; returns the new key, or -1 if no valid type can result. */
export function addBasicKeyword(key: number, k: BasicKeyword): number {
  const count = (key >>> (2 * k)) & 3;
  if (count === 3) return -1;
  const next = key + (1 << (2 * k));
  return partial.has(next) ? next : -1;
}

/** The type a complete keyword multiset names, or null (e.g. only `_Complex`). */
export function resolveBasicKeywords(key: number): BasicTypeName | null {
  return complete.get(key) ?? null;
}

/** The message clang gives when keyword k cannot join the multiset `key`. */
export function combineError(key: number, k: BasicKeyword): string {
  if (k === BasicKeyword.Long && ((key >>> (2 * BasicKeyword.Long)) & 3) === 2) {
    return "'long long long' is invalid";
  }
  if (k === BasicKeyword.Complex) return "_Complex types are not supported";
  // Name the first keyword already present, as clang names the previous specifier.
  for (const order of [
    BasicKeyword.Void,
    BasicKeyword.Bool,
    BasicKeyword.Char,
    BasicKeyword.Short,
    BasicKeyword.Int,
    BasicKeyword.Long,
    BasicKeyword.Float,
    BasicKeyword.Double,
    BasicKeyword.Int128,
    BasicKeyword.Signed,
    BasicKeyword.Unsigned,
  ]) {
    if (((key >>> (2 * order)) & 3) !== 0 && (order !== k || k !== BasicKeyword.Long)) {
      return `cannot combine with previous '${SPELLING[order]}' declaration specifier`;
    }
  }
  return `cannot combine with previous declaration specifier`;
}
