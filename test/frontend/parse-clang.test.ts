// The parser's trees against clang's own: the same C file is parsed by tsbpf and dumped by
// `clang -Xclang -ast-dump=json`; expression trees (precedence, associativity, casts, postfix
// chains) are compared as s-expressions, and every declaration's type as clang spells it
// (which checks how declarators nest: pointers, arrays, functions, qualifiers, typedef names).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Declaration, ExprStmt, FunctionDef, RecordSpec } from "../../compiler/ast.js";
import { parseSource } from "../../compiler/parse.js";
import { formatExpr, formatType } from "../../compiler/parse-print.js";

const hasClang = spawnSync("clang", ["--version"]).status === 0;
if (!hasClang) console.log("parser-vs-clang tests skipped: clang is not installed");

const dir = mkdtempSync(join(tmpdir(), "tsbpf-parse-clang-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ClangNode {
  kind: string;
  name?: string;
  opcode?: string;
  isPostfix?: boolean;
  isArrow?: boolean;
  isImplicit?: boolean;
  value?: string;
  type?: { qualType: string };
  argType?: { qualType: string };
  referencedDecl?: { name: string };
  inner?: ClangNode[];
}

function clangAst(name: string, source: string): ClangNode {
  const file = join(dir, name);
  writeFileSync(file, source);
  const r = spawnSync(
    "clang",
    ["-target", "bpf", "-fsyntax-only", "-Wno-everything", "-Xclang", "-ast-dump=json", file],
    {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    },
  );
  if (r.status !== 0) throw new Error(`clang failed on ${name}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as ClangNode;
}

/** clang's expression tree in the s-expression form of compiler/parse-print.ts. */
function clangExpr(n: ClangNode): string {
  const kids = n.inner ?? [];
  const sub = (i: number): string => clangExpr(kids[i]!);
  switch (n.kind) {
    case "ImplicitCastExpr":
    case "ParenExpr":
    case "ConstantExpr":
      return sub(0);
    case "DeclRefExpr":
      return n.referencedDecl!.name;
    case "IntegerLiteral":
    case "CharacterLiteral":
      return n.value!;
    case "BinaryOperator":
    case "CompoundAssignOperator":
      return `(${n.opcode} ${sub(0)} ${sub(1)})`;
    case "UnaryOperator":
      if (n.opcode === "++" || n.opcode === "--")
        return `(${n.isPostfix ? "post" : "pre"}${n.opcode} ${sub(0)})`;
      return `(${n.opcode} ${sub(0)})`;
    case "ConditionalOperator":
      return `(? ${sub(0)} ${sub(1)} ${sub(2)})`;
    case "CallExpr":
      return `(call ${kids.map(clangExpr).join(" ")})`;
    case "MemberExpr":
      return `(${n.isArrow ? "->" : "."} ${sub(0)} ${n.name})`;
    case "ArraySubscriptExpr":
      return `([] ${sub(0)} ${sub(1)})`;
    case "CStyleCastExpr":
      return `(cast {${n.type!.qualType}} ${sub(0)})`;
    case "UnaryExprOrTypeTraitExpr": {
      const op = n.name === "sizeof" ? "sizeof" : "alignof";
      return n.argType !== undefined ? `(${op} {${n.argType.qualType}})` : `(${op} ${sub(0)})`;
    }
    default:
      return `<${n.kind}>`;
  }
}

// Declarations the expressions below use.
const prelude = `
typedef int T;
int a, b, c, *p, arr[2][3];
long l;
struct S { int x; struct S *n; } s, *ps;
int f(int, int);
`;

const expressions = [
  "a = b + c * 2 - (a << 1)",
  "a = b - c - a",
  "a = b / c * a % b",
  "a = b = c",
  "a += b *= c -= 1",
  "a = b || c && a | b ^ c & a",
  "a = b == c != a < b",
  "a = b < c <= a > b >= c",
  "a = b >> c << 1 + 2",
  "a = b & c == a",
  "a = -b * ~c / !a % +b",
  "a = *p++ + *++p - p[1]--",
  "a = b ? c : a ? b : c",
  "a = b + c > a ? b : c",
  "a = b ? c = 1 : a",
  "a = (b, c)",
  "a = b, c, a",
  "ps->n->x = s.n->x",
  "a = sizeof(int) + sizeof a + sizeof(int *) * sizeof *p",
  "a = sizeof(T) - 1",
  "a = sizeof (a) + 1",
  "a = (int)(char)b",
  "a = (int)-b",
  "a = (T)+b",
  "a = (a)+b",
  "a = (unsigned long)&a",
  "p = &a",
  "a = f(b, c) + f(f(a, b), c)",
  "a = arr[b][c]",
  "a = !b++",
  "a = - -b",
  "a = (long)a * b",
  "a = ~-!+*p",
  "a = ++*p",
  "a = *&*p",
  "a = sizeof(int[3]) / sizeof(int (*)[3])",
  "a = _Alignof(int) + __alignof__(a) + __alignof__(long long)",
  "a = (int)sizeof(struct S *) << 2",
  "l = (long)(int *)p - (long)p",
  "a = b <<= 2",
  "a = c >>= b |= a &= 1 ^ 2",
  "a = 'x' + '\\n'",
  "a = 0x10 + 010 + 0b11 + 10u + 7ULL",
];

describe.skipIf(!hasClang)("expressions: same tree as clang", () => {
  const source = `${prelude}\nvoid t(void) {\n${expressions.map((e) => `  ${e};`).join("\n")}\n}\n`;
  const ours = parseSource(source, "exprs.c");
  // Collected even when skipped: ask clang only when it is there.
  const clang = hasClang
    ? clangAst("exprs.c", source)
    : { kind: "", inner: [{ kind: "", name: "t", inner: [] }] };
  const fn = clang.inner!.find((d) => d.name === "t")!;
  const clangStmts = fn.inner!.find((n) => n.kind === "CompoundStmt")?.inner ?? [];
  const body = (ours.unit.decls.find((d) => d.kind === "FunctionDef") as FunctionDef).body;

  test("parses without diagnostics", () => {
    expect(ours.diagnostics).toEqual([]);
    expect(body.items).toHaveLength(expressions.length);
  });
  expressions.forEach((text, i) => {
    test(text, () => {
      const stmt = body.items[i] as ExprStmt;
      expect(formatExpr(stmt.expr!)).toBe(clangExpr(clangStmts[i]!));
    });
  });
});

const declarations = `
typedef int T;
typedef int (*handler_t)(int, ...);
int (*(*fp)(int))[3];
int *ap[4];
int (*pa)[4];
char *const cp;
const char *pc;
volatile int *const *vcp;
void (*signal(int, void (*)(int)))(int);
int (*fa[2])(void);
unsigned long long ull;
long unsigned int lu;
short signed ss;
unsigned u;
signed char sc;
long double ld;
_Bool flag;
handler_t h;
int g();
int v(const char *, ...);
T t1, *t2, t3[2];
int arr[2][3];
int (*const cfp)(int);
int *restrict rp;
const volatile unsigned short cvus;
struct S { int x : 3; unsigned long y[2]; struct S *n; int (*cb)(struct S *); T T; } s;
enum E { A, B = 3 } e;
union U { int i; char c[4]; } un;
void (*(*complicated[3])(int (*)(void)))(char);
int (*(*(*deep)(void))[2])(long);
__int128 i128;
unsigned __int128 u128;
char (*(*x2())[5])();
`;

interface DeclType {
  name: string;
  type: string;
}

function clangDeclTypes(root: ClangNode): DeclType[] {
  const out: DeclType[] = [];
  const visit = (n: ClangNode): void => {
    if (n.isImplicit) return;
    if (
      (n.kind === "VarDecl" ||
        n.kind === "FunctionDecl" ||
        n.kind === "FieldDecl" ||
        n.kind === "TypedefDecl") &&
      n.name
    ) {
      out.push({ name: n.name, type: n.type!.qualType });
    }
    if (n.kind === "RecordDecl") for (const c of n.inner ?? []) visit(c);
  };
  for (const d of root.inner ?? []) visit(d);
  return out;
}

function ourDeclTypes(decls: readonly unknown[]): DeclType[] {
  const out: DeclType[] = [];
  for (const d of decls as Declaration[]) {
    if (d.kind !== "Declaration") continue;
    const t = d.spec.typeSpec;
    if (t?.kind === "Record" && t.members !== null) {
      for (const m of (t as RecordSpec).members!) {
        if (m.kind !== "FieldDecl") continue;
        for (const fd of m.declarators) {
          if (fd.declarator?.name)
            out.push({ name: fd.declarator.name, type: formatType(m.spec, fd.declarator) });
        }
      }
    }
    for (const id of d.declarators) {
      out.push({ name: id.declarator.name!, type: formatType(d.spec, id.declarator) });
    }
  }
  return out;
}

describe.skipIf(!hasClang)("declarators: same types as clang", () => {
  const ours = parseSource(declarations, "decls.c");
  const theirs = hasClang ? clangDeclTypes(clangAst("decls.c", declarations)) : [];
  const mine = ourDeclTypes(ours.unit.decls);

  test("parses without diagnostics", () => {
    expect(ours.diagnostics).toEqual([]);
  });
  test("the same declarations in the same order", () => {
    expect(mine.map((d) => d.name)).toEqual(theirs.map((d) => d.name));
  });
  theirs.forEach((expected, i) => {
    test(`${expected.name}: ${expected.type}`, () => {
      expect(mine[i]).toEqual(expected);
    });
  });
  test("every type spelled as clang spells it", () => {
    expect(mine).toEqual(theirs);
  });
});
