// The shape of the tree the parser builds: declarators, the typedef-name ambiguity decided by
// scope, initializers, GNU extensions, attributes where clang accepts them, loop pragmas, literal
// values and locations. (Precedence and declarator types are also checked against clang in
// parse-clang.test.ts.)
import { describe, expect, test } from "vitest";
import type {
  AsmStmt,
  BlockItem,
  CaseStmt,
  CompoundStmt,
  Declaration,
  ExprStmt,
  ExternalDecl,
  FieldDecl,
  ForStmt,
  FunctionDef,
  IntegerLiteral,
  RecordSpec,
  Stmt,
  StringLiteral,
  WhileStmt,
} from "../../compiler/ast.js";
import { parseSource } from "../../compiler/parse.js";
import { preprocess } from "../../compiler/preprocess.js";
import { parseTranslationUnit } from "../../compiler/parse.js";
import { formatExpr, formatInitializer, formatType } from "../../compiler/parse-print.js";

function parse(source: string, diagnostics: string[] = []): ExternalDecl[] {
  const r = parseSource(source, "t.c");
  expect(r.diagnostics.map((d) => `${d.loc?.line}:${d.loc?.col}: ${d.message}`)).toEqual(
    diagnostics,
  );
  return r.unit.decls;
}

function decl(decls: ExternalDecl[], i: number): Declaration {
  const d = decls[i]!;
  expect(d.kind).toBe("Declaration");
  return d as Declaration;
}

function fn(decls: ExternalDecl[], name: string): FunctionDef {
  const f = decls.find((d) => d.kind === "FunctionDef" && d.declarator.name === name);
  expect(f).toBeDefined();
  return f as FunctionDef;
}

/** A function body's items in short form: declarations as `decl name: type`, statements as s-expressions. */
function body(f: FunctionDef): string[] {
  return f.body.items.map(item);
}

function item(i: BlockItem): string {
  if (i.kind === "Declaration") {
    return i.declarators
      .map((d) => `decl ${d.declarator.name}: ${formatType(i.spec, d.declarator)}`)
      .join("; ");
  }
  if (i.kind === "ExprStmt") return i.expr === null ? ";" : formatExpr(i.expr);
  return i.kind;
}

describe("declarators", () => {
  test("int (*(*fp)(int))[3]: derivations read from the name outward", () => {
    const d = decl(parse("int (*(*fp)(int))[3];"), 0).declarators[0]!.declarator;
    expect(d.name).toBe("fp");
    expect(d.derivations.map((x) => x.kind)).toEqual(["Pointer", "Function", "Pointer", "Array"]);
    expect(d.nameLoc).toMatchObject({ line: 1, col: 9 });
  });

  test("pointer qualifiers belong to the pointer, array sizes and parameters are kept", () => {
    const d = decl(parse("const char *const *volatile p[2][N];"), 0);
    const ders = d.declarators[0]!.declarator.derivations;
    expect(ders.map((x) => x.kind)).toEqual(["Array", "Array", "Pointer", "Pointer"]);
    expect(ders[2]).toMatchObject({
      kind: "Pointer",
      qualifiers: { volatile: true, const: false },
    });
    expect(ders[3]).toMatchObject({ kind: "Pointer", qualifiers: { const: true } });
    expect(d.spec.qualifiers.const).toBe(true);
    expect(ders[1]!.kind === "Array" && ders[1].size !== null && formatExpr(ders[1].size)).toBe(
      "N",
    );
  });

  test("(void), () and variadic parameter lists", () => {
    const decls = parse(
      "int f(void);\nint g();\nint h(const char *fmt, ...);\nint k(int, char *);",
    );
    const fns = decls.map((d) => (d as Declaration).declarators[0]!.declarator.derivations[0]!);
    expect(
      fns.map((f) => f.kind === "Function" && [f.params.length, f.hasPrototype, f.variadic]),
    ).toEqual([
      [0, true, false],
      [0, false, false],
      [1, true, true],
      [2, true, false],
    ]);
  });

  test("abstract declarators in parameters and type names", () => {
    const d = decl(parse("void f(int (*)(char), int [4], int *(*)[2], void (*)(void));"), 0);
    const f = d.declarators[0]!.declarator.derivations[0]!;
    expect(f.kind === "Function" && f.params.map((p) => formatType(p.spec, p.declarator))).toEqual([
      "int (*)(char)",
      "int[4]",
      "int *(*)[2]",
      "void (*)(void)",
    ]);
  });

  test("array parameters: static, qualifiers and [*]", () => {
    const d = decl(parse("void f(int a[static 4], int b[const], int c[*]);"), 0);
    const f = d.declarators[0]!.declarator.derivations[0]!;
    const arrays = f.kind === "Function" ? f.params.map((p) => p.declarator.derivations[0]) : [];
    expect(arrays).toMatchObject([
      { kind: "Array", isStatic: true, star: false },
      { kind: "Array", isStatic: false, qualifiers: { const: true }, size: null },
      { kind: "Array", star: true, size: null },
    ]);
  });

  test("struct members: bit-fields, unnamed bit-fields, anonymous members, flexible arrays", () => {
    const d = decl(
      parse(
        "struct s { int a : 3, : 0; unsigned b; union { int x; char y; }; struct { int z; } named; char data[]; };",
      ),
      0,
    );
    const rec = d.spec.typeSpec as RecordSpec;
    expect(rec).toMatchObject({ kind: "Record", tagKind: "struct", tag: "s" });
    const fields = rec.members! as FieldDecl[];
    expect(
      fields.map((f) =>
        f.declarators.map((x) => [
          x.declarator?.name ?? null,
          x.bitWidth && formatExpr(x.bitWidth),
        ]),
      ),
    ).toEqual([
      [
        ["a", "3"],
        [null, "0"],
      ],
      [["b", null]],
      [],
      [["named", null]],
      [["data", null]],
    ]);
    expect(fields[2]!.spec.typeSpec).toMatchObject({ kind: "Record", tagKind: "union", tag: null });
    expect(fields[4]!.declarators[0]!.declarator!.derivations).toMatchObject([
      { kind: "Array", size: null },
    ]);
  });

  test("basic type keywords in any order are combined", () => {
    const decls = parse(
      "long unsigned int a; int long long b; signed c; char unsigned d; long double e; unsigned __int128 f; _Bool g; short h;",
    );
    expect(decls.map((d) => ((d as Declaration).spec.typeSpec as { name: string }).name)).toEqual([
      "unsigned long",
      "long long",
      "int",
      "unsigned char",
      "long double",
      "unsigned __int128",
      "_Bool",
      "short",
    ]);
  });

  test("storage classes, function specifiers, _Alignas, _Atomic, typeof", () => {
    const decls = parse(
      "static inline int f(void);\nextern _Thread_local int t;\n_Noreturn void die(void);\n_Alignas(16) char buf[16];\n_Atomic(int) a;\n_Atomic int b;\ntypeof(a) c;\n__typeof__(int *) d;\nregister int r;",
    );
    const specs = decls.map((d) => (d as Declaration).spec);
    expect(specs[0]).toMatchObject({ storage: "static", inline: true });
    expect(specs[1]).toMatchObject({ storage: "extern", threadLocal: true });
    expect(specs[2]).toMatchObject({ noreturn: true });
    expect(specs[3]!.alignas.map((a) => a.kind)).toEqual(["IntegerLiteral"]);
    expect(specs[4]!.typeSpec).toMatchObject({ kind: "AtomicType" });
    expect(specs[5]).toMatchObject({
      qualifiers: { atomic: true },
      typeSpec: { kind: "BasicType", name: "int" },
    });
    expect(specs[6]!.typeSpec).toMatchObject({
      kind: "Typeof",
      arg: { kind: "Identifier", name: "a" },
    });
    expect(specs[7]!.typeSpec).toMatchObject({ kind: "Typeof", arg: { kind: "TypeName" } });
    expect(specs[8]).toMatchObject({ storage: "register" });
  });
});

describe("typedef names decided by scope", () => {
  test("a typedef name starts a declaration; an ordinary name an expression", () => {
    const f = fn(parse("typedef int T;\nint a, x;\nvoid f(void) { T * x; a * x; T(y); }"), "f");
    expect(body(f)).toEqual(["decl x: T *", "(* a x)", "decl y: T"]);
  });

  test("a block-scope variable hides the typedef; it is a type again after the block", () => {
    const f = fn(parse("typedef int T;\nint x;\nvoid f(void) { { int T; T * x; } T * y; }"), "f");
    const inner = f.body.items[0] as CompoundStmt;
    expect(inner.items.map(item)).toEqual(["decl T: int", "(* T x)"]);
    expect(item(f.body.items[1]!)).toBe("decl y: T *");
  });

  test("parameters hide typedefs in the function body, not after it", () => {
    const decls = parse("typedef int T;\nint x;\nvoid f(int T) { T * x; }\nT * g;");
    expect(body(fn(decls, "f"))).toEqual(["(* T x)"]);
    expect(formatType(decl(decls, 3).spec, decl(decls, 3).declarators[0]!.declarator)).toBe("T *");
  });

  test("a prototype's parameter names end with the prototype", () => {
    const decls = parse("typedef int T;\nvoid f(int (*cb)(int T), T x);");
    const f = decl(decls, 1).declarators[0]!.declarator.derivations[0]!;
    expect(f.kind === "Function" && f.params.map((p) => formatType(p.spec, p.declarator))).toEqual([
      "int (*)(int)",
      "T",
    ]);
  });

  test("an enumerator hides a typedef of the same name", () => {
    const f = fn(parse("typedef int T;\nint x;\nvoid f(void) { enum { T = 2 }; T * x; }"), "f");
    expect(item(f.body.items[1]!)).toBe("(* T x)");
  });

  test("a member may be named like a typedef; `T T;` is type then name", () => {
    const d = decl(parse("typedef int T;\nstruct s { T T; T *U; };"), 1);
    const fields = (d.spec.typeSpec as RecordSpec).members as FieldDecl[];
    expect(fields.map((f) => [f.spec.typeSpec!.kind, f.declarators[0]!.declarator!.name])).toEqual([
      ["TypedefName", "T"],
      ["TypedefName", "U"],
    ]);
  });

  test("casts, sizeof and compound literals take a type only when the name is one", () => {
    const f = fn(
      parse(
        "typedef int T;\nint a, *p;\nvoid f(void) { a = (T)*p; a = (a)*p; a = sizeof(T); a = sizeof(a); a = (T){1}; }",
      ),
      "f",
    );
    expect(body(f)).toEqual([
      "(= a (cast {T} (* p)))",
      "(= a (* a p))",
      "(= a (sizeof {T}))",
      "(= a (sizeof a))",
      "(= a (compound {T} {1}))",
    ]);
  });

  test("a typedef declared in a block or a for header is local to it", () => {
    const decls = parse(
      "int T, x;\nvoid f(void) { { typedef int T; T * x; } T * x; for (typedef int T;;) { T * y; } T * y; }",
    );
    const f = fn(decls, "f");
    expect((f.body.items[0] as CompoundStmt).items.map(item)).toEqual([
      "decl T: int",
      "decl x: T *",
    ]);
    expect(item(f.body.items[1]!)).toBe("(* T x)");
    expect(((f.body.items[2] as ForStmt).body as CompoundStmt).items.map(item)).toEqual([
      "decl y: T *",
    ]);
    expect(item(f.body.items[3]!)).toBe("(* T y)");
  });

  test("typeof and _Alignas take a typedef name as a type, an ordinary name as an expression", () => {
    const decls = parse(
      "typedef unsigned int u32;\nu32 v;\ntypeof(u32) a;\ntypeof(v) b;\n_Alignas(u32) char c;\n_Alignas(v) char d;",
    );
    expect(
      decls.slice(2).map((d) => {
        const spec = (d as Declaration).spec;
        return spec.typeSpec?.kind === "Typeof" ? spec.typeSpec.arg.kind : spec.alignas[0]!.kind;
      }),
    ).toEqual(["TypeName", "Identifier", "TypeName", "Identifier"]);
  });

  test("libbpf's __type(key, __u32) expands to typeof(__u32) *key", () => {
    const d = decl(
      parse("typedef unsigned int __u32;\nstruct { typeof(__u32) *key; int (*type)[1]; } m;"),
      1,
    );
    const member = (d.spec.typeSpec as RecordSpec).members![0] as FieldDecl;
    expect(member.spec.typeSpec).toMatchObject({
      kind: "Typeof",
      arg: { kind: "TypeName", spec: { typeSpec: { kind: "TypedefName", name: "__u32" } } },
    });
  });

  test("clang's builtin typedefs", () => {
    const decls = parse("__builtin_va_list ap; __int128_t a; __uint128_t b;");
    expect(decls.map((d) => (d as Declaration).spec.typeSpec)).toMatchObject([
      { kind: "TypedefName", name: "__builtin_va_list" },
      { kind: "TypedefName", name: "__int128_t" },
      { kind: "TypedefName", name: "__uint128_t" },
    ]);
  });

  test("extra typedef names from the options", () => {
    const r = parseSource("u32 x;", "t.c", { typedefs: ["u32"] });
    expect(r.diagnostics).toEqual([]);
    expect((r.unit.decls[0] as Declaration).spec.typeSpec).toMatchObject({
      kind: "TypedefName",
      name: "u32",
    });
  });
});

describe("initializers", () => {
  test("designated, nested, ranges and GNU's `field:` form", () => {
    const d = decl(
      parse(
        "struct P { int a, b; struct { int c[4]; } q; } p = { .a = 1, .q.c[2] = 3, [1 ... 3] = 5, b: 6, { 7, 8, }, };",
      ),
      0,
    );
    expect(formatInitializer(d.declarators[0]!.init!)).toBe(
      "{.a=1 .q.c[2]=3 [1 ... 3]=5 .b=6 {7 8}}",
    );
  });

  test("several declarators with and without initializers", () => {
    const d = decl(parse("int a = 1, *b, c[] = { [0] = 1, 2 }, d = { 4 };"), 0);
    expect(
      d.declarators.map((i) => [i.declarator.name, i.init && formatInitializer(i.init)]),
    ).toEqual([
      ["a", "1"],
      ["b", null],
      ["c", "{[0]=1 2}"],
      ["d", "{4}"],
    ]);
  });

  test("empty braces", () => {
    expect(formatInitializer(decl(parse("int a[2] = {};"), 0).declarators[0]!.init!)).toBe("{}");
  });
});

describe("GNU and builtin expressions", () => {
  const source = `
struct s { int a; struct { int b[4]; } in; };
typedef __builtin_va_list va_list;
int x, y, *p;
int f(int n, ...) {
  va_list ap;
  x = ({ int t = n; t * 2; });
  x = y ?: 3;
  x = __builtin_offsetof(struct s, in.b[2]);
  x = __builtin_va_arg(ap, int);
  x = __builtin_types_compatible_p(int, unsigned);
  x = __builtin_expect(!!p, 0);
  x = __builtin_choose_expr(1, 2, 3);
  x = __extension__ 1;
  x = _Generic(x, int: 1, default: 2);
  p = &(int){ 5 };
  x = (struct s){ .a = 1 }.a;
  x = sizeof(struct s){ 0 };
  x = __builtin_bswap32(y) + __builtin_preserve_access_index(&p[1]) - __func__[0];
  return x;
}`;
  test("each in s-expression form", () => {
    expect(body(fn(parse(source), "f"))).toEqual([
      "decl ap: va_list",
      "(= x ({ 2 items }))",
      "(= x (? y _ 3))",
      "(= x (offsetof {struct s} in.b[2]))",
      "(= x (va_arg ap {int}))",
      "(= x (types_compatible {int} {unsigned int}))",
      "(= x (call __builtin_expect (! (! p)) 0))",
      "(= x (call __builtin_choose_expr 1 2 3))",
      "(= x 1)",
      "(= x (_Generic x {int}:1 default:2))",
      "(= p (& (compound {int} {5})))",
      "(= x (. (compound {struct s} {.a=1}) a))",
      "(= x (sizeof (compound {struct s} {0})))",
      "(= x (- (+ (call __builtin_bswap32 y) (call __builtin_preserve_access_index (& ([] p 1)))) ([] __func__ 0)))",
      "ReturnStmt",
    ]);
  });
});

describe("statements", () => {
  test("every kind, with case ranges, labels and for declarations", () => {
    const f = fn(
      parse(`int f(int a) {
  int i;
  for (int j = 0; j < a; j++) i += j;
  for (;;) break;
  while (a) a--;
  do { a++; } while (a < 3);
  switch (a) { case 1: case 2 ... 4: a = 0; break; default: ; }
  if (a) goto out; else if (i) a = 1; else { }
out:
  return a;
}`),
      "f",
    );
    expect(f.body.items.map((s) => s.kind)).toEqual([
      "Declaration",
      "ForStmt",
      "ForStmt",
      "WhileStmt",
      "DoStmt",
      "SwitchStmt",
      "IfStmt",
      "LabeledStmt",
    ]);
    const loop = f.body.items[1] as ForStmt;
    expect(loop.init?.kind).toBe("Declaration");
    expect([loop.cond && formatExpr(loop.cond), loop.step && formatExpr(loop.step)]).toEqual([
      "(< j a)",
      "(post++ j)",
    ]);
    const sw = (f.body.items[5] as Stmt & { body: CompoundStmt }).body;
    const range = (sw.items[0] as CaseStmt).body as CaseStmt;
    expect([formatExpr(range.value), range.rangeEnd && formatExpr(range.rangeEnd)]).toEqual([
      "2",
      "4",
    ]);
  });

  test("dangling else binds to the nearest if", () => {
    const f = fn(parse("void f(int a, int b) { if (a) if (b) a = 1; else a = 2; }"), "f");
    const outer = f.body.items[0] as Stmt & { kind: "IfStmt" };
    expect(outer.else).toBeNull();
    expect((outer.then as Stmt & { kind: "IfStmt" }).else).not.toBeNull();
  });

  test("asm statements with outputs, inputs, clobbers and goto labels", () => {
    const f = fn(
      parse(
        'void f(long x) { asm volatile("r1 = %[v]\\n\\t" : "=r"(x) : [v] "r"(x), "0"(x) : "memory", "r1"); asm goto("" :::: out); out: ; }',
      ),
      "f",
    );
    const a = f.body.items[0] as AsmStmt;
    expect(a).toMatchObject({ isVolatile: true, template: { value: "r1 = %[v]\n\t" } });
    expect(a.outputs.map((o) => [o.symbolicName, o.constraint.value, formatExpr(o.expr)])).toEqual([
      [null, "=r", "x"],
    ]);
    expect(a.inputs.map((o) => [o.symbolicName, o.constraint.value])).toEqual([
      ["v", "r"],
      [null, "0"],
    ]);
    expect(a.clobbers.map((c) => c.value)).toEqual(["memory", "r1"]);
    expect((f.body.items[1] as AsmStmt).labels).toEqual(["out"]);
  });

  test("libbpf's barrier() and barrier_var() as they expand", () => {
    const f = fn(
      parse(
        'void f(int v) { asm volatile("" ::: "memory"); asm volatile("" : "=r"(v) : "0"(v)); }',
      ),
      "f",
    );
    expect(f.body.items.map((s) => s.kind)).toEqual(["AsmStmt", "AsmStmt"]);
  });

  test("loop pragmas attach to the loop that follows", () => {
    const f = fn(
      parse(
        "void f(int n) {\n#pragma unroll\n  for (int i = 0; i < 4; i++) n++;\n#pragma clang loop unroll(full)\n  while (n) n--;\n  while (n) n--;\n}",
      ),
      "f",
    );
    expect((f.body.items[0] as ForStmt).pragmas.map((p) => p.words.join(" "))).toEqual(["unroll"]);
    expect((f.body.items[1] as WhileStmt).pragmas.map((p) => p.words.join(" "))).toEqual([
      "clang loop unroll ( full )",
    ]);
    expect((f.body.items[2] as WhileStmt).pragmas).toEqual([]);
  });

  test("__extension__ before declarations and expressions, empty statements", () => {
    const f = fn(parse("void f(void) { __extension__ int a; __extension__ (void)a; ; }"), "f");
    expect(body(f)).toEqual(["decl a: int", "(cast {void} a)", ";"]);
  });
});

describe("attributes", () => {
  test("kept on the node they belong to", () => {
    const decls = parse(`
struct __attribute__((packed)) p { char c; int i __attribute__((aligned(8))); };
struct q { int x; } __attribute__((aligned(16), preserve_access_index));
__attribute__((unused)) static int a;
int b __attribute__((section(".data.b"))) = 1;
int * __attribute__((btf_type_tag("user"))) up;
void f(int x __attribute__((unused)), char *__attribute__((btf_type_tag("user"))) s) __attribute__((noinline));
enum e { E1 __attribute__((deprecated)) = 1 };
int g(int a) { switch (a) { case 1: a++; __attribute__((fallthrough)); default: l: __attribute__((unused)); } return a; }
`);
    const p = decl(decls, 0).spec.typeSpec as RecordSpec;
    expect(p.attributes.map((a) => a.name)).toEqual(["packed"]);
    const pi = (p.members![1] as FieldDecl).declarators[0]!.declarator!;
    expect(pi.attributes.map((a) => [a.name, a.args?.map(formatExpr)])).toEqual([
      ["aligned", ["8"]],
    ]);
    const q = decl(decls, 1).spec.typeSpec as RecordSpec;
    expect(q.attributes.map((a) => a.name)).toEqual(["aligned", "preserve_access_index"]);
    expect(decl(decls, 2).spec.attributes.map((a) => a.name)).toEqual(["unused"]);
    const b = decl(decls, 3).declarators[0]!;
    expect(
      b.declarator.attributes.map((a) => [a.name, (a.args![0] as StringLiteral).value]),
    ).toEqual([["section", ".data.b"]]);
    expect(b.init && formatInitializer(b.init)).toBe("1");
    const up = decl(decls, 4).declarators[0]!.declarator.derivations[0]!;
    expect(up.kind === "Pointer" && up.attributes.map((a) => a.name)).toEqual(["btf_type_tag"]);
    const f = decl(decls, 5).declarators[0]!.declarator;
    expect(f.attributes.map((a) => a.name)).toEqual(["noinline"]);
    const params = f.derivations[0]!.kind === "Function" ? f.derivations[0]!.params : [];
    expect(params[0]!.declarator.attributes.map((a) => a.name)).toEqual(["unused"]);
    const sp = params[1]!.declarator.derivations[0]!;
    expect(sp.kind === "Pointer" && sp.attributes.map((a) => a.name)).toEqual(["btf_type_tag"]);
    const en = decl(decls, 6).spec.typeSpec;
    expect(en?.kind === "Enum" && en.enumerators![0]!.attributes.map((a) => a.name)).toEqual([
      "deprecated",
    ]);
    const sw = (fn(decls, "g").body.items[0] as Stmt & { body: CompoundStmt }).body;
    const fall = (sw.items[1] as ExprStmt).attributes;
    expect(fall.map((a) => a.name)).toEqual(["fallthrough"]);
  });

  test("names lose their surrounding underscores; keyword names and identifier arguments work", () => {
    const d = decl(
      parse(
        "int printf(const char *, ...) __attribute__((__format__(__printf__, 1, 2), __const__, mode(__DI__)));",
      ),
      0,
    );
    expect(
      d.declarators[0]!.declarator.attributes.map((a) => [a.name, a.args?.map(formatExpr) ?? null]),
    ).toEqual([
      ["format", ["__printf__", "1", "2"]],
      ["const", null],
      ["mode", ["__DI__"]],
    ]);
  });

  test("#pragma clang attribute push/pop applies to the records defined in between", () => {
    const decls = parse(`struct before { int a; };
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
struct inside { int a; };
struct before *ref;
#pragma clang attribute pop
struct after { int a; };`);
    const attrs = (i: number) =>
      (decl(decls, i).spec.typeSpec as RecordSpec).attributes.map((a) => a.name);
    expect([attrs(0), attrs(1), attrs(2), attrs(3)]).toEqual([
      [],
      ["preserve_access_index"],
      [],
      [],
    ]);
  });

  test("#pragma pack sets the records' maximum field alignment", () => {
    const decls = parse(`#pragma pack(push, 2)
struct a { char c; int i; };
#pragma pack(pop)
struct b { char c; int i; };
#pragma pack(1)
struct c { char c; int i; };`);
    expect(
      [0, 1, 2].map((i) => (decl(decls, i).spec.typeSpec as RecordSpec).maxFieldAlign),
    ).toEqual([2, 0, 1]);
  });
});

describe("other declarations", () => {
  test("_Static_assert, file-scope asm and function definitions", () => {
    const decls = parse(
      '_Static_assert(sizeof(int) == 4, "int" "size");\nasm(".globl x");\nint f(int a) { return a; }',
    );
    expect(decls.map((d) => d.kind)).toEqual(["StaticAssert", "FileScopeAsm", "FunctionDef"]);
    expect(decls[0]).toMatchObject({ message: { value: "intsize" } });
    const f = decls[2] as FunctionDef;
    expect(f.body.endLoc).toMatchObject({ line: 3, col: 26 });
  });

  test("libbpf's SEC() and map definitions as they expand", () => {
    const decls = parse(`struct {
  int (*type)[2];
  int (*max_entries)[10240];
  unsigned int *key;
  unsigned long *value;
} counts __attribute__((section(".maps"), used));
__attribute__((section("kprobe/do_sys_open"), used)) int prog(void *ctx) { return 0; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";`);
    const map = decl(decls, 0);
    const members = (map.spec.typeSpec as RecordSpec).members as FieldDecl[];
    expect(members.map((m) => formatType(m.spec, m.declarators[0]!.declarator!))).toEqual([
      "int (*)[2]",
      "int (*)[10240]",
      "unsigned int *",
      "unsigned long *",
    ]);
    expect(map.declarators[0]!.declarator.attributes.map((a) => a.name)).toEqual([
      "section",
      "used",
    ]);
    expect((decls[1] as FunctionDef).spec.attributes.map((a) => a.name)).toEqual([
      "section",
      "used",
    ]);
    const lic = decl(decls, 2).declarators[0]!;
    expect(lic.init).toMatchObject({ kind: "StringLiteral", value: "GPL" });
  });
});

describe("literals", () => {
  test("integer values are exact in 64 bits, with radix and suffix", () => {
    const f = fn(
      parse(
        "void f(void) { 0; 42u; 0x7fffffff; 0xffffffffffffffffULL; 010; 0b101; 9007199254740993; 18446744073709551615ul; 123456789012345678LL; }",
      ),
      "f",
    );
    const lits = f.body.items.map((s) => (s as ExprStmt).expr as IntegerLiteral);
    expect(lits.map((l) => [l.lo, l.hi, l.radix, l.unsigned, l.longness])).toEqual([
      [0, 0, 10, false, 0],
      [42, 0, 10, true, 0],
      [0x7fffffff, 0, 16, false, 0],
      [0xffffffff, 0xffffffff, 16, true, 2],
      [8, 0, 8, false, 0],
      [5, 0, 2, false, 0],
      [1, 0x200000, 10, false, 0],
      [0xffffffff, 0xffffffff, 10, true, 1],
      [0xa630f34e, 0x1b69b4b, 10, false, 2],
    ]);
    expect(lits.map((l) => formatExpr(l)).slice(-3)).toEqual([
      "9007199254740993",
      "18446744073709551615",
      "123456789012345678",
    ]);
  });

  test("characters have their int values (char is signed), strings are decoded and joined", () => {
    const f = fn(
      parse(
        `void f(void) { 'a'; '\\n'; '\\xff'; '\\0'; '\\377'; L'x'; 'AB'; "a\\tb" "c\\x41\\101"; u8"é"; L"hi"; }`,
        ["1:55: multi-character character constant"],
      ),
      "f",
    );
    const exprs = f.body.items.map((s) => (s as ExprStmt).expr!);
    expect(exprs.slice(0, 7).map((e) => e.kind === "CharLiteral" && e.value)).toEqual([
      97, 10, -1, 0, -1, 120, 0x4142,
    ]);
    const s = exprs[7] as StringLiteral;
    expect([s.value, [...s.bytes]]).toEqual(["a\tbcAA", [97, 9, 98, 99, 65, 65]]);
    expect([...(exprs[8] as StringLiteral).bytes]).toEqual([0xc3, 0xa9]);
    expect([...(exprs[9] as StringLiteral).bytes]).toEqual([104, 0, 0, 0, 105, 0, 0, 0]);
  });

  test("floating constants", () => {
    const f = fn(parse("void f(void) { 1.5; 2e3f; 0x1.8p1; .25L; }"), "f");
    expect(
      f.body.items.map((s) => {
        const e = (s as ExprStmt).expr!;
        return e.kind === "FloatLiteral" && [e.value, e.suffix];
      }),
    ).toEqual([
      [1.5, ""],
      [2000, "f"],
      [3, ""],
      [0.25, "l"],
    ]);
  });
});

describe("locations", () => {
  test("every node points at its first token", () => {
    const decls = parse("int x;\nint f(int a) {\n  return a +\n    x;\n}");
    const f = fn(decls, "f");
    expect(f.loc).toMatchObject({ file: "t.c", line: 2, col: 1 });
    const ret = f.body.items[0] as Stmt & { kind: "ReturnStmt" };
    expect(ret.loc).toMatchObject({ line: 3, col: 3 });
    expect(ret.value).toMatchObject({
      kind: "BinaryExpr",
      loc: { line: 3, col: 10 },
      opLoc: { line: 3, col: 12 },
    });
  });

  test("tokens from macros keep their expansion chain", () => {
    const source =
      "#define ADD(a, b) ((a) + (b))\n#define TWICE(x) ADD(x, x)\nint f(int v) { return TWICE(v); }\n";
    const pre = preprocess({ text: source, name: "m.c" });
    const r = parseTranslationUnit(pre.tokens);
    expect(r.diagnostics).toEqual([]);
    const ret = (r.unit.decls[0] as FunctionDef).body.items[0] as Stmt & { kind: "ReturnStmt" };
    const plus = ret.value!;
    expect(plus.kind).toBe("BinaryExpr");
    const op = plus.kind === "BinaryExpr" ? plus.opLoc : undefined;
    expect(op).toMatchObject({ file: "m.c", line: 1, col: 24 });
    expect(op?.expansion?.macro).toBe("ADD");
    expect(op?.expansion?.parent?.macro).toBe("TWICE");
  });
});

describe("many pragmas", () => {
  // The parser takes Pragma tokens out of the array by copying the runs between them: a file
  // may have far more pragmas than a call may have arguments.
  test("140,000 pragmas around one declaration", () => {
    const source = "#pragma GCC diagnostic push\n#pragma GCC diagnostic pop\n".repeat(70_000);
    const r = parseSource(source + "int x;\n", "t.c");
    expect(r.diagnostics).toEqual([]);
    expect(r.unit.decls.length).toBe(1);
  });
});
