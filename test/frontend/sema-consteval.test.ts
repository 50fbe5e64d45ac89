// Integer constant expressions: our evaluator's value for each expression equals the value
// clang -target bpf puts in .data for the same initializer. Hand-picked expressions for the
// rules that differ between types (promotions, wrap-around, shifts, signed/unsigned compares)
// and a seeded random generator of a few hundred more.
import { describe, expect, test } from "vitest";
import type { Declaration } from "../../compiler/ast.js";
import { constantValue } from "../../compiler/sema.js";
import { askClang, frontend, hasClang } from "./sema-harness.js";
import { makePrng } from "../../runtime/object/fuzz.js";

if (!hasClang) console.log("constant evaluation differential test skipped: clang is not installed");

const prelude = `
enum small { S0, S1 = 5, S2 };
enum neg { NG = -3 };
enum big { BG = 0x100000000 };
struct s { char c; long l; int a[3]; struct { short x; char y[5]; } in; };
`;

// Our value for each expression, as `unsigned long long vN = (unsigned long long)(E);`.
function ourValues(exprs: string[]): (bigint | undefined)[] {
  const source =
    prelude +
    exprs.map((e, i) => `unsigned long long v${i} = (unsigned long long)(${e});`).join("\n") +
    "\n";
  const p = frontend(source);
  const errors = p.diagnostics.items.filter((d) => d.severity === "error");
  if (errors.length > 0 || !p.sema)
    throw new Error(errors.map((d) => `${d.loc?.line}:${d.loc?.col} ${d.message}`).join("\n"));
  const decls = p.unit!.decls.filter(
    (d): d is Declaration => d.kind === "Declaration" && d.declarators.length > 0,
  );
  const byName = new Map(
    decls.map((d) => [d.declarators[0]!.declarator.name, d.declarators[0]!.init]),
  );
  return exprs.map((_, i) => {
    const init = byName.get(`v${i}`);
    return init && init.kind !== "InitList" ? constantValue(p.sema!, init) : undefined;
  });
}

function compareWithClang(exprs: string[]): string[] {
  const ours = ourValues(exprs);
  const clang = askClang({ declarations: prelude, expressions: exprs }).values;
  const out: string[] = [];
  exprs.forEach((e, i) => {
    const o = ours[i] === undefined ? undefined : BigInt.asUintN(64, ours[i]!);
    if (o !== clang[i])
      out.push(
        `${e}: clang 0x${clang[i]!.toString(16)}, ours ${o === undefined ? "not constant" : "0x" + o.toString(16)}`,
      );
  });
  return out;
}

const handPicked = [
  "1 << 33",
  "1 << 40",
  "1 << -1",
  "-1 >> 40",
  "1u << 32",
  "1 << 31",
  "-8 >> 1",
  "5 / -2",
  "-5 % 3",
  "(unsigned)-1 / 3",
  "0x7fffffffffffffffLL + 1",
  "(char)300",
  "(_Bool)4",
  "(unsigned char)-1",
  "(signed char)200",
  "(short)0x18000",
  "-2147483648",
  "4294967295",
  "2147483648",
  "0x80000000",
  "9223372036854775807",
  "9223372036854775808ULL",
  "(long)-1 < 0u",
  "-1 < 0ul",
  "-1 < 0u",
  "(short)-1 < (unsigned short)1",
  "sizeof(-1 < 0ul)",
  "sizeof(1 ? (char)1 : (short)2)",
  "sizeof(0x80000000)",
  "sizeof(2147483648)",
  "sizeof(1 ? 1 : 1L)",
  "'ab'",
  "'\\377'",
  "sizeof('a')",
  "~0u",
  "~0",
  "sizeof(~(char)0)",
  "-(-2147483647 - 1)",
  "S2",
  "NG * 2",
  "BG + 1",
  "sizeof(enum big)",
  "sizeof(enum small)",
  "(enum small)-1 > 0",
  "sizeof(struct s)",
  "_Alignof(struct s)",
  "__builtin_offsetof(struct s, in.y[3])",
  "__builtin_offsetof(struct s, a[2])",
  "(unsigned long)&((struct s *)0)->in.x",
  "(unsigned long)&((struct s *)16)->a[1]",
  "(char *)8 - (char *)2",
  "(int *)16 - (int *)4",
  "(unsigned long)((int *)16 + 3)",
  "!((void *)0)",
  "__builtin_constant_p(3 + 4)",
  "__builtin_bswap32(0x12345678)",
  "__builtin_bswap16(0x1234)",
  "__builtin_bswap64(0x0102030405060708ULL)",
  "__builtin_expect(7, 1)",
  "1 ? 2u : -1",
  "0 ? 2u : -1",
  "(1 ? -1 : 0u) > 0",
  "3 > 2 > 1",
  "1 && 0 || 5",
  "0 && (1 / 0)",
  "1 || (1 / 0)",
  "(0 ? 1 / 0 : 4)",
  "-1 % 2147483647",
  "0xffffffffu * 0xffffffffu",
  "0xffffffffffffffffull * 3",
  "(long long)0x8000000000000000ull >> 63",
  "0x8000000000000000ull >> 63",
  "(unsigned char)255 + (unsigned char)1",
  "(unsigned short)65535 * (unsigned short)65535",
  "2147483647 * 2",
  "-2147483647 - 2",
  "(__int128)1 << 100 >> 98",
  "sizeof(__int128)",
  "_Generic((long)0, int: 1, long: 2, default: 3)",
  "_Generic(S1, enum small: 4, default: 5)",
  "_Generic((char *)0, void *: 1, char *: 2)",
  "__builtin_choose_expr(sizeof(long) == 8, 10, 20)",
];

// A seeded generator of well-defined-by-clang integer expressions (divisors made odd).
function randomExpressions(count: number, seed: number): string[] {
  const rnd = makePrng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const literals = [
    "0",
    "1",
    "7",
    "-3",
    "255",
    "0x7fffffff",
    "0x80000000",
    "4294967295u",
    "-1L",
    "0xffffffffffffffffull",
    "123456789012LL",
    "'z'",
    "S1",
    "NG",
    "BG",
    "(char)-5",
    "(unsigned short)40000",
    "(_Bool)3",
  ];
  const casts = [
    "char",
    "unsigned char",
    "short",
    "unsigned short",
    "int",
    "unsigned",
    "long",
    "unsigned long",
    "long long",
    "_Bool",
    "enum small",
  ];
  const binops = ["+", "-", "*", "&", "|", "^", "<", ">", "<=", ">=", "==", "!=", "&&", "||"];
  const gen = (depth: number): string => {
    if (depth === 0 || rnd() < 0.25) return pick(literals);
    const r = rnd();
    if (r < 0.45) return `(${gen(depth - 1)} ${pick(binops)} ${gen(depth - 1)})`;
    if (r < 0.55) return `(${gen(depth - 1)} ${pick(["/", "%"])} (${gen(depth - 1)} | 1))`;
    if (r < 0.65) return `(${gen(depth - 1)} ${pick(["<<", ">>"])} (${gen(depth - 1)} & 15))`;
    if (r < 0.75) return `((${pick(casts)})${gen(depth - 1)})`;
    if (r < 0.85) return `(${pick(["-", "~", "!", "+"])}(${gen(depth - 1)}))`;
    if (r < 0.93) return `(${gen(depth - 1)} ? ${gen(depth - 1)} : ${gen(depth - 1)})`;
    return `sizeof(${gen(depth - 1)})`;
  };
  return Array.from({ length: count }, () => gen(4));
}

describe.skipIf(!hasClang)("constant evaluation equals clang's", () => {
  test(`${handPicked.length} hand-picked expressions`, () => {
    expect(compareWithClang(handPicked)).toEqual([]);
  });

  test("400 seeded random expressions", () => {
    const exprs = randomExpressions(400, Number(process.env.TSBPF_CONSTEVAL_SEED ?? 7));
    expect(compareWithClang(exprs).slice(0, 10)).toEqual([]);
  });
});
