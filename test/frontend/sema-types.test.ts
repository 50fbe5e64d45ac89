// The type sema gives each expression is the type clang gives it: for every expression E
// with our type T (printed in C syntax), clang must agree that __typeof__(E) is T, qualifiers
// included (compared through pointers, where qualifiers must match exactly). Also checks
// what the back end reads from the side tables: lvalues, decay, member paths, conversions.
import { describe, expect, test } from "vitest";
import type {
  AssignExpr,
  BinaryExpr,
  CallExpr,
  Expr,
  ExprStmt,
  FunctionDef,
} from "../../compiler/ast.js";
import type { ExprInfo } from "../../compiler/sema.js";
import {
  type PointerType,
  canonical,
  intType,
  pointerTo,
  typeToString,
} from "../../compiler/types.js";
import { askClang, frontend, hasClang } from "./sema-harness.js";
import { makePrng } from "../../runtime/object/fuzz.js";

if (!hasClang) console.log("expression type differential test skipped: clang is not installed");

const prelude = `
typedef unsigned int __u32;
typedef unsigned long long __u64;
struct inner { short x; char tag[4]; };
struct s { char c; long l; int a[3]; unsigned bf : 5; long wide : 40; struct inner in; const int k; struct s *next; union { __u32 u; char b4[4]; }; };
enum color { RED, GREEN };
enum big { BIG = 0x100000000 };
extern struct s g, *gp;
extern const struct s cg;
extern char c; extern signed char sc; extern unsigned char uc; extern short sh; extern unsigned short us;
extern int i; extern unsigned u; extern long l; extern unsigned long ul; extern long long ll; extern unsigned long long ull;
extern _Bool b; extern enum color col; extern enum big bg; extern __u32 u32; extern __u64 u64;
extern int *ip; extern const char *ccp; extern char *cp; extern void *vp; extern int arr[10]; extern int (*fp)(void *);
extern volatile int vi; extern int * const ipc;
int func(void *p);
`;

// What sema recorded for each expression statement in a probe function (and the whole table).
function ourInfos(exprs: string[]): ExprInfo[] {
  return probe(exprs).infos;
}

function probe(exprs: string[]): {
  infos: ExprInfo[];
  stmts: ExprStmt[];
  table: Map<Expr, ExprInfo>;
} {
  const source =
    prelude + "void tsbpf_probe(void) {\n" + exprs.map((e) => `  ${e};`).join("\n") + "\n}\n";
  const p = frontend(source);
  const errors = p.diagnostics.items.filter((d) => d.severity === "error");
  if (errors.length > 0 || !p.sema)
    throw new Error(errors.map((d) => `${d.loc?.line}:${d.loc?.col} ${d.message}`).join("\n"));
  const fn = p.unit!.decls.find((d): d is FunctionDef => d.kind === "FunctionDef")!;
  const stmts = fn.body.items as ExprStmt[];
  return { infos: stmts.map((s) => p.sema!.exprs.get(s.expr!)!), stmts, table: p.sema!.exprs };
}

const expressions = [
  "c + c",
  "uc + 1",
  "us * us",
  "u + i",
  "l + u",
  "ul + ll",
  "ll + ul",
  "ull - 1",
  "i << l",
  "uc << 1",
  "b + b",
  "col + 1",
  "bg + 1",
  "-us",
  "~uc",
  "!ip",
  "c ? 1 : 2u",
  "i ? l : ul",
  "i ? ip : 0",
  "i ? vp : ip",
  "i ? ccp : cp",
  "i ? (void)0 : (void)1",
  "ip + 1",
  "1 + ip",
  "ip - ip",
  "cp - 1",
  "&arr",
  "&arr[1]",
  "arr",
  "*arr",
  "arr[2]",
  "2[arr]",
  "*ip",
  "&*ip",
  "&g",
  "g.a",
  "g.in",
  "g.in.tag",
  "gp->next",
  "gp->next->l",
  "+g.bf",
  "g.bf + 1",
  "g.wide + 1",
  "g.u",
  "g.b4",
  "cg.in.x",
  "cg.k",
  "g.k",
  "&cg.a",
  "u32 + u32",
  "u64 * 2",
  "u32",
  "&u32",
  "fp",
  "func",
  "&func",
  "*fp",
  "fp(0)",
  "func(vp)",
  "sizeof(struct s)",
  "sizeof g",
  "_Alignof(long)",
  "__builtin_offsetof(struct s, in.tag[1])",
  "(char)i",
  "(void *)ip",
  "(const int *)ip",
  "i = 3",
  "l += u",
  "cp += 2",
  "uc <<= 2",
  "i++",
  "--cp",
  "i, cp",
  '"hello"',
  "'a'",
  "42",
  "42u",
  "42l",
  "42ul",
  "42ll",
  "42ull",
  "2147483648",
  "0x80000000",
  "0xffffffffffffffff",
  "vi",
  "vi + 1",
  "ipc",
  "i < l",
  "ip == 0",
  "ip != vp",
  "(struct s *)vp",
  "__builtin_expect(i, 0)",
  "__builtin_bswap32(u)",
  "__builtin_memcpy(cp, ccp, 4)",
  "__sync_fetch_and_add(&l, 1)",
  "__builtin_preserve_access_index(gp->l)",
];

// A seeded generator of well-typed expressions over the prelude's globals.
function randomExpressions(count: number, seed: number): string[] {
  const rnd = makePrng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ints = [
    "c",
    "sc",
    "uc",
    "sh",
    "us",
    "i",
    "u",
    "l",
    "ul",
    "ll",
    "ull",
    "b",
    "col",
    "bg",
    "u32",
    "u64",
    "g.bf",
    "g.wide",
    "vi",
    "1",
    "2u",
    "3l",
    "'x'",
    "arr[1]",
    "*ip",
  ];
  const ptrs = ["ip", "cp", "vp", "ccp", "arr", "ipc", "gp", "&g.l", "&u32"];
  const casts = [
    "char",
    "unsigned char",
    "short",
    "int",
    "unsigned",
    "long",
    "unsigned long",
    "long long",
    "_Bool",
    "__u32",
    "enum color",
  ];
  const intExpr = (d: number): string => {
    if (d === 0 || rnd() < 0.3) return pick(ints);
    const r = rnd();
    if (r < 0.4)
      return `(${intExpr(d - 1)} ${pick(["+", "-", "*", "/", "%", "&", "|", "^", "<", "==", "&&", "||"])} ${intExpr(d - 1)})`;
    if (r < 0.5) return `(${intExpr(d - 1)} ${pick(["<<", ">>"])} ${intExpr(d - 1)})`;
    if (r < 0.6) return `((${pick(casts)})${intExpr(d - 1)})`;
    if (r < 0.7) return `(${pick(["-", "~", "!", "+"])}(${intExpr(d - 1)}))`;
    if (r < 0.8) return `(${intExpr(d - 1)} ? ${intExpr(d - 1)} : ${intExpr(d - 1)})`;
    if (r < 0.9)
      return `(${pick(["ip", "arr", "(ip + 1)", "ipc"])} - ${pick(["ip", "arr", "ipc"])})`;
    return `sizeof(+(${intExpr(d - 1)}))`;
  };
  const ptrExpr = (d: number): string => {
    if (d === 0 || rnd() < 0.4) return pick(ptrs);
    const r = rnd();
    if (r < 0.5)
      return `(${pick(["ip", "cp", "ccp", "arr"])} ${pick(["+", "-"])} ${intExpr(d - 1)})`;
    if (r < 0.8)
      return `(${intExpr(d - 1)} ? ${pick(ptrs)} : ${pick(["0", "vp", "(void *)0", ...ptrs])})`;
    return `(${pick(["char *", "void *", "const int *", "long *"])})${pick(ptrs)}`;
  };
  // typeof of a bare bit-field is an error: those become arithmetic.
  const top = () => (rnd() < 0.7 ? intExpr(4) : ptrExpr(3));
  return Array.from({ length: count }, () => top().replace(/^g\.(bf|wide)$/, "(g.$1 + 0)"));
}

describe("expression types", () => {
  test.skipIf(!hasClang)("300 seeded random expressions have the type clang gives them", () => {
    const exprs = randomExpressions(300, Number(process.env.TSBPF_TYPES_SEED ?? 11));
    const infos = ourInfos(exprs);
    const ours = infos.map((info) => typeToString(info.type));
    const pointers = infos.map((info) => typeToString(pointerTo(info.type)));
    const probes = exprs.flatMap((e, i) => [
      `__builtin_types_compatible_p(__typeof__(${e}), ${ours[i]})`,
      `__builtin_types_compatible_p(__typeof__(${e}) *, ${pointers[i]})`,
    ]);
    const answers = askClang({
      declarations: prelude,
      expressions: probes,
      clangArgs: ["-Wno-everything"],
    }).values;
    const wrong = exprs
      .map((e, i) =>
        answers[2 * i] === 1n && answers[2 * i + 1] === 1n ? "" : `${e}: ours '${ours[i]}'`,
      )
      .filter((x) => x);
    expect(wrong.slice(0, 10)).toEqual([]);
  });
  test.skipIf(!hasClang)(`${expressions.length} expressions have the type clang gives them`, () => {
    const infos = ourInfos(expressions);
    const ours = infos.map((info) => typeToString(info.type));
    const pointers = infos.map((info) => typeToString(pointerTo(info.type)));
    const probes = expressions.flatMap((e, i) => [
      `__builtin_types_compatible_p(__typeof__(${e}), ${ours[i]})`,
      // Through a pointer the qualifiers must match too.
      `__builtin_types_compatible_p(__typeof__(${e}) *, ${pointers[i]})`,
    ]);
    const answers = askClang({ declarations: prelude, expressions: probes }).values;
    const wrong = expressions
      .filter((_, i) => answers[2 * i] !== 1n || answers[2 * i + 1] !== 1n)
      .map((e) => `${e}: ours '${ours[expressions.indexOf(e)]}'`);
    expect(wrong).toEqual([]);
  });

  test("lvalues, decay, bit-fields, member paths and implicit conversions", () => {
    const { infos, stmts, table } = probe([
      "arr",
      "*ip",
      "42",
      "g.bf",
      "g.u",
      "uc + sh",
      "l = i",
      "func(cp)",
      "ip = arr",
    ]);
    const [arr, deref, lit, bf, anon, sum, assign, call] = infos;
    expect(arr!.lvalue).toBe(true);
    expect(typeToString(arr!.type)).toBe("int[10]");
    // Used as a value the array decays: the assignment records the conversion.
    const decayed = table.get((stmts[8]!.expr as AssignExpr).value)!;
    expect(typeToString(decayed.converted!)).toBe("int *");
    const operands = stmts[5]!.expr as BinaryExpr;
    expect(typeToString(table.get(operands.left)!.converted!)).toBe("int");
    expect(typeToString(table.get(operands.right)!.converted!)).toBe("int");
    expect(typeToString(table.get((stmts[6]!.expr as AssignExpr).value)!.converted!)).toBe("long");
    expect(typeToString(table.get((stmts[7]!.expr as CallExpr).args[0]!)!.converted!)).toBe(
      "void *",
    );
    expect(deref!.lvalue).toBe(true);
    expect(lit!.lvalue).toBe(false);
    expect(bf!.member!.member.bitWidth).toBe(5);
    // g.u goes through the anonymous union: the chain names both members.
    expect(anon!.member!.chain.map((m) => m.name)).toEqual([undefined, "u"]);
    expect(anon!.member!.offset).toBe(56);
    expect(typeToString(sum!.type)).toBe("int");
    expect(typeToString(sum!.opType!)).toBe("int");
    expect(typeToString(assign!.type)).toBe("long");
    expect(typeToString(call!.type)).toBe("int");
  });
});

describe("BTF tags kept for the BTF writer", () => {
  test("btf_type_tag on pointees and btf_decl_tag on members", () => {
    const p = frontend(
      [
        'int __attribute__((btf_type_tag("user"))) *user_ptr;',
        'int * __attribute__((btf_type_tag("a"))) *two;',
        'struct b { int x __attribute__((btf_decl_tag("wide"))); int y; };',
        "",
      ].join("\n"),
    );
    expect(p.diagnostics.items).toEqual([]);
    const vars = p.sema!.globals.filter((g) => g.kind === "var");
    const userPtr = canonical(vars[0]!.type) as PointerType;
    expect(userPtr.pointeeTags).toEqual(["user"]);
    const two = canonical(vars[1]!.type) as PointerType;
    expect(two.pointeeTags).toEqual(["a"]);
    expect((canonical(two.pointee) as PointerType).pointeeTags).toBeUndefined();
    const b = p.sema!.records.find((r) => r.tag === "b")!;
    expect(b.members!.map((m) => m.declTags)).toEqual([["wide"], undefined]);
  });
});

describe("name resolution", () => {
  test("ordinary names, tags and members live apart; inner scopes shadow outer ones", () => {
    const p = frontend(
      [
        "int x;",
        "struct x { int x; } sx;",
        "enum { E = 2 };",
        "int f(int x) {",
        "  long r = x;",
        "  { long x = E; r += x; }",
        "  for (short x = 0; x < 1; x++) r += x;",
        "  return (int)r + sx.x;",
        "}",
        "int g(void) { extern int x; return x + _Generic(x, int: 1, default: 2); }",
        "",
      ].join("\n"),
    );
    expect(p.diagnostics.items).toEqual([]);
    const sema = p.sema!;
    // Every use of `x` with the declaration it resolved to, in source order.
    const uses = [...sema.exprs]
      .filter(([e]) => e.kind === "Identifier" && e.name === "x")
      .map(([e, info]) => {
        const d = info.decl!;
        if (d.kind !== "var") return `${e.loc.line}:${e.loc.col} ${d.kind}`;
        const where = d.isParam ? "param" : d.isFileScope ? "file" : "block";
        return `${e.loc.line}:${e.loc.col} var ${typeToString(d.type)} ${where}`;
      });
    expect(uses).toEqual([
      "5:12 var int param",
      "6:22 var long block",
      "7:21 var short block",
      "7:28 var short block",
      "7:38 var short block",
      "10:36 var int file",
      "10:49 var int file",
    ]);
    const generic = [...sema.exprs].find(([e]) => e.kind === "GenericSelection")!;
    expect(generic[1].selected?.kind).toBe("IntegerLiteral");
    expect(generic[1].value).toBe(1n);
    const global = sema.globals.find((d) => d.name === "x")!;
    expect(uses.length).toBe(7);
    expect(sema.globals.filter((d) => d.name === "x")).toEqual([global]);
  });
});
