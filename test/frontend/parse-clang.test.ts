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

// Valid C that clang accepts without errors: the parser gives no diagnostics either.
const validPrograms: [string, string][] = [
  [
    "sa_block",
    'void f(void) { _Static_assert(1, "x"); int a; _Static_assert(sizeof(a) == 4, "int"); }\n',
  ],
  ["fp_cast", "int (*fp)(int a, int b) = 0;\nvoid g(void *p) { ((void (*)(int))p)(1); }\n"],
  [
    "sizeof_arrow",
    "struct S { int x; } *p;\nint f(void) { return sizeof (p)->x + sizeof(p)[0].x; }\n",
  ],
  ["typedef_struct", "typedef struct foo foo;\nstruct foo { foo *next; };\nfoo *head;\n"],
  ["label_attr", "void f(void) { goto l; l: __attribute__((unused)); }\n"],
  ["kr_empty", "int f();\nint f(void) { return 0; }\n"],
  ["nested_fnptr_param", "typedef int T;\nvoid f(void (*cb)(T, int T2), T x);\n"],
  [
    "init_nested",
    "struct A { int x[2]; struct { int y; } b; } a = { { 1, 2 }, { 3 } }, c = { .b = { .y = 1 } };\n",
  ],
  ["comma_decl_fn", "int a, f(int), *g(void), (*h)(void);\n"],
  ["asm_label", 'int x asm("real_x");\nextern int y __asm__("real_y") __attribute__((weak));\n'],
  ["empty_struct", "struct e {};\nstruct e x;\n"],
  [
    "bitfield_anon_attr",
    "struct s { unsigned int a : 4 __attribute__((packed)); int : 0; } __attribute__((packed));\n",
  ],
  ["for_decl_multi", "void f(void) { for (int i = 0, j = 1; i < j; i++, j--) ; }\n"],
  [
    "switch_nested",
    "int f(int a) { switch (a) { case 1: { int x = 2; return x; } case 2 ... 5: return 0; default: return -1; } }\n",
  ],
  ["generic", "int f(int x) { return _Generic(x, int: 1, long: 2, default: 0); }\n"],
  ["restrict_param", "void f(int *restrict a, const int *__restrict b);\n"],
  ["complex_decl", "char (*(*x[3])(void))[5];\nint (*(*(*deep)(void))[2])(long);\n"],
  ["enum_trailing", "enum e { A, B, };\nenum f { C = 1 << 2, D = C | 1 };\n"],
  ["string_concat", 'char s[] = "a" "b" "\\x41";\n'],
  ["cond_omitted", "int f(int a, int b) { return a ?: b; }\n"],
  [
    "offsetof_nested",
    "struct s { int a; struct { int b[4]; } c; };\nint f(void) { return __builtin_offsetof(struct s, c.b[2]); }\n",
  ],
  ["cast_compound", "struct P { int x; };\nint f(void) { return ((struct P){ .x = 3 }).x; }\n"],
  [
    "alignof_expr",
    "int a; int f(void) { return __alignof__(a) + _Alignof(long) + __alignof__(struct { char c; }); }\n",
  ],
  [
    "attr_before_fn",
    "static __attribute__((always_inline)) inline int f(void) { return 1; }\n__attribute__((noinline)) int g(void) { return f(); }\n",
  ],
  ["typeof_decl", "int a; __typeof__(a) b; typeof(int *) c; __typeof__(*c) d;\n"],
  ["extension_union", "struct s { __extension__ union { int a; long b; }; };\n"],
  ["do_while_comma", "void f(int a) { do a--, a--; while (a > 0); }\n"],
  ["goto_labels", "void f(void) { a: b: goto a; }\n"],
  ["null_decl_in_block", "void f(void) { ; ; int x; ; }\n"],
  ["cast_of_typedef_paren", "typedef int T; int f(int x) { return (T)(x) + (T)-1; }\n"],
  ["pointer_to_array_param", "void f(int (*a)[3], int b[][3]);\n"],
  ["hex_float", "double d = 0x1.8p1, e = 1e-3, f = .5f;\n"],
  ["char_escapes", "char c[] = { '\\0', '\\'', '\\\\', '\\x7f', '\\177', '\\a' };\n"],
  ["const_ptr_const", 'const char *const names[] = { "a", "b" };\n'],
  ["volatile_asm_inline", 'void f(void) { __asm__ __volatile__("nop"); asm inline("nop"); }\n'],
  ["builtin_types", "__builtin_va_list ap; __int128 x; unsigned __int128 y; __uint128_t z;\n"],
  [
    "if_else_chain",
    "int f(int a) { if (a == 1) return 1; else if (a == 2) return 2; else return 3; }\n",
  ],
  ["fn_returning_fnptr", "int (*getf(void))(int);\n"],
  ["array_of_fnptr_init", "int f1(int), f2(int);\nint (*tbl[])(int) = { f1, f2 };\n"],
];

describe("valid programs: no diagnostics, as clang", () => {
  for (const [name, source] of validPrograms) {
    test(name, () => {
      expect(parseSource(source, `${name}.c`).diagnostics).toEqual([]);
      if (hasClang) {
        const file = join(dir, `${name}.c`);
        writeFileSync(file, source);
        const r = spawnSync(
          "clang",
          ["-target", "bpf", "-fsyntax-only", "-Werror=c2x-extensions", file],
          { encoding: "utf8" },
        );
        expect(r.stderr.split("\n").filter((l) => l.includes("error:"))).toEqual([]);
      }
    });
  }
});
