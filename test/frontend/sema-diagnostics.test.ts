// Bad inputs for sema: each snippet's diagnostics (header lines: location, severity, message,
// flag, notes) must be exactly the expected ones, and those are clang -target bpf
// -fsyntax-only's own lines for the snippet, which the second test re-checks where clang is
// installed.
import { describe, expect, test } from "vitest";
import {
  clangDiagnostics,
  hasClang,
  ourDiagnostics,
  testDiagnosticCases,
  type DiagnosticCase,
} from "./sema-harness.js";

if (!hasClang)
  console.log("sema diagnostics: comparison with clang skipped (clang is not installed)");

const cases: DiagnosticCase[] = [
  {
    name: "undeclared identifier",
    source: "int f(void) { return x; }\n",
    expected: ["test.c:1:22: error: use of undeclared identifier 'x'"],
  },
  {
    name: "no member named",
    source: "struct s { int a; };\nint f(struct s *p) { return p->zz; }\n",
    expected: ["test.c:2:32: error: no member named 'zz' in 'struct s'"],
  },
  {
    name: "member reference not a pointer",
    source: "struct s { int a; };\nint f(struct s v) { return v->a; }\n",
    expected: [
      "test.c:2:29: error: member reference type 'struct s' is not a pointer; did you mean to use '.'?",
    ],
  },
  {
    name: "member reference is a pointer",
    source: "struct s { int a; };\nint f(struct s *p) { return p.a; }\n",
    expected: [
      "test.c:2:30: error: member reference type 'struct s *' is a pointer; did you mean to use '->'?",
    ],
  },
  {
    name: "member reference base not a record",
    source: "int f(int v) { return v.a; }\n",
    expected: ["test.c:1:24: error: member reference base type 'int' is not a structure or union"],
  },
  {
    name: "incomplete definition of type",
    source: "struct t;\nint f(struct t *p) { return p->a; }\n",
    expected: [
      "test.c:2:30: error: incomplete definition of type 'struct t'",
      "test.c:1:8: note: forward declaration of 'struct t'",
    ],
  },
  {
    name: "sizeof incomplete type",
    source: "struct t;\nunsigned long f(void) { return sizeof(struct t); }\n",
    expected: [
      "test.c:2:32: error: invalid application of 'sizeof' to an incomplete type 'struct t'",
      "test.c:1:8: note: forward declaration of 'struct t'",
    ],
  },
  {
    name: "alignof incomplete type",
    source: "int y = _Alignof(struct nope);\n",
    expected: [
      "test.c:1:9: error: invalid application of 'alignof' to an incomplete type 'struct nope'",
      "test.c:1:25: note: forward declaration of 'struct nope'",
    ],
  },
  {
    name: "assign to const variable",
    source: "void f(void) { const int c = 1; c = 2; }\n",
    expected: [
      "test.c:1:35: error: cannot assign to variable 'c' with const-qualified type 'const int'",
      "test.c:1:26: note: variable 'c' declared const here",
    ],
  },
  {
    name: "assign through pointer to const struct",
    source: "struct s { int a; };\nvoid f(const struct s *p) { p->a = 1; }\n",
    expected: [
      "test.c:2:34: error: cannot assign to variable 'p' with const-qualified type 'const struct s *'",
      "test.c:2:24: note: variable 'p' declared const here",
    ],
  },
  {
    name: "assign to const member",
    source: "struct s { int a; const int k; };\nvoid f(struct s *p) { p->k = 1; }\n",
    expected: [
      "test.c:2:28: error: cannot assign to non-static data member 'k' with const-qualified type 'const int'",
      "test.c:1:29: note: non-static data member 'k' declared const here",
    ],
  },
  {
    name: "read-only variable",
    source: "void f(const int *p) { *p = 1; }\n",
    expected: ["test.c:1:27: error: read-only variable is not assignable"],
  },
  {
    name: "array not assignable",
    source: "void f(void) { int a[3]; a = 0; }\n",
    expected: ["test.c:1:28: error: array type 'int[3]' is not assignable"],
  },
  {
    name: "expression not assignable",
    source: "void f(void) { 1 = 2; }\n",
    expected: ["test.c:1:18: error: expression is not assignable"],
  },
  {
    name: "too few and too many arguments",
    source: "int g(int a, int b);\nvoid f(void) { g(1); g(1,2,3); }\n",
    expected: [
      "test.c:2:19: error: too few arguments to function call, expected 2, have 1",
      "test.c:1:5: note: 'g' declared here",
      "test.c:2:28: error: too many arguments to function call, expected 2, have 3",
      "test.c:1:5: note: 'g' declared here",
    ],
  },
  {
    name: "called object not a function",
    source: "void f(void) { int v; v(); }\n",
    expected: [
      "test.c:1:24: error: called object type 'int' is not a function or function pointer",
    ],
  },
  {
    name: "incompatible pointer types initializing",
    source: "void f(void) { int *p = 0; char *q = p; }\n",
    expected: [
      "test.c:1:34: warning: incompatible pointer types initializing 'char *' with an expression of type 'int *' [-Wincompatible-pointer-types]",
    ],
  },
  {
    name: "incompatible struct to int",
    source: "struct s { int a; };\nvoid f(struct s v) { int x = v; }\n",
    expected: [
      "test.c:2:26: error: initializing 'int' with an expression of incompatible type 'struct s'",
    ],
  },
  {
    name: "int-conversion both ways",
    source: "struct s { int a; };\nvoid f(struct s *p) { int x = p; int *q = 5; }\n",
    expected: [
      "test.c:2:27: warning: incompatible pointer to integer conversion initializing 'int' with an expression of type 'struct s *' [-Wint-conversion]",
      "test.c:2:39: warning: incompatible integer to pointer conversion initializing 'int *' with an expression of type 'int' [-Wint-conversion]",
    ],
  },
  {
    name: "discards qualifiers",
    source: "void f(const char *p) { char *q = p; }\n",
    expected: [
      "test.c:1:31: warning: initializing 'char *' with an expression of type 'const char *' discards qualifiers [-Wincompatible-pointer-types-discards-qualifiers]",
    ],
  },
  {
    name: "pointer sign",
    source: "void f(unsigned char *q, char *c, unsigned int *u, int *i) { q = c; u = i; }\n",
    expected: [
      "test.c:1:64: warning: assigning to 'unsigned char *' from 'char *' converts between pointers to integer types where one is of the unique plain 'char' type and the other is not [-Wpointer-sign]",
      "test.c:1:71: warning: assigning to 'unsigned int *' from 'int *' converts between pointers to integer types with different sign [-Wpointer-sign]",
    ],
  },
  {
    name: "passing incompatible pointer with note",
    source: "void take(int *p);\nvoid f(char *c) { take(c); }\n",
    expected: [
      "test.c:2:24: warning: incompatible pointer types passing 'char *' to parameter of type 'int *' [-Wincompatible-pointer-types]",
      "test.c:1:16: note: passing argument to parameter 'p' here",
    ],
  },
  {
    name: "passing struct to int parameter",
    source: "struct s { int a; };\nvoid take(int v);\nvoid f(struct s v) { take(v); }\n",
    expected: [
      "test.c:3:27: error: passing 'struct s' to parameter of incompatible type 'int'",
      "test.c:2:15: note: passing argument to parameter 'v' here",
    ],
  },
  {
    name: "returning incompatible",
    source:
      "struct s { int a; };\nint *r1(char *p) { return p; }\nint r2(struct s v) { return v; }\n",
    expected: [
      "test.c:2:27: warning: incompatible pointer types returning 'char *' from a function with result type 'int *' [-Wincompatible-pointer-types]",
      "test.c:3:29: error: returning 'struct s' from a function with incompatible result type 'int'",
    ],
  },
  {
    name: "subscript errors",
    source: "struct s { int a; };\nvoid f(struct s *p) { int v; v[1]; int *q = 0; q[p]; }\n",
    expected: [
      "test.c:2:31: error: subscripted value is not an array, pointer, or vector",
      "test.c:2:49: error: array subscript is not an integer",
    ],
  },
  {
    name: "redefinition with a different type",
    source: "int g;\nlong g;\n",
    expected: [
      "test.c:2:6: error: redefinition of 'g' with a different type: 'long' vs 'int'",
      "test.c:1:5: note: previous definition is here",
    ],
  },
  {
    name: "conflicting types for function",
    source: "int h(int);\nint h(long);\n",
    expected: [
      "test.c:2:5: error: conflicting types for 'h'",
      "test.c:1:5: note: previous declaration is here",
    ],
  },
  {
    name: "redefinition of local",
    source: "void f(void) { int z; int z; }\n",
    expected: [
      "test.c:1:27: error: redefinition of 'z'",
      "test.c:1:20: note: previous definition is here",
    ],
  },
  {
    name: "typedef redefinition with different types",
    source: "typedef int myint;\ntypedef long myint;\n",
    expected: [
      "test.c:2:14: error: typedef redefinition with different types ('long' vs 'int')",
      "test.c:1:13: note: previous definition is here",
    ],
  },
  {
    name: "redefinition of enumerator",
    source: "enum e { A, A };\n",
    expected: [
      "test.c:1:13: error: redefinition of enumerator 'A'",
      "test.c:1:10: note: previous definition is here",
    ],
  },
  {
    name: "struct redefinition",
    source: "struct s { int a; };\nstruct s { int c; };\n",
    expected: [
      "test.c:2:8: error: redefinition of 's'",
      "test.c:1:8: note: previous definition is here",
    ],
  },
  {
    name: "redefinition of parameter",
    source: "int f(int a, int a);\n",
    expected: [
      "test.c:1:18: error: redefinition of parameter 'a'",
      "test.c:1:11: note: previous declaration is here",
    ],
  },
  {
    name: "redefinition of function",
    source: "int f(int x) { return x; }\nint f(int x) { return x; }\n",
    expected: [
      "test.c:2:5: error: redefinition of 'f'",
      "test.c:1:5: note: previous definition is here",
    ],
  },
  {
    name: "break and continue outside loops",
    source: "void f(void) { break; }\nvoid g(void) { continue; }\n",
    expected: [
      "test.c:1:16: error: 'break' statement not in loop or switch statement",
      "test.c:2:16: error: 'continue' statement not in loop statement",
    ],
  },
  {
    name: "case outside switch",
    source: "void f(void) { case 1: ; }\n",
    expected: ["test.c:1:16: error: 'case' statement not in switch statement"],
  },
  {
    name: "undeclared label",
    source: "void f(void) { goto nowhere; }\n",
    expected: ["test.c:1:21: error: use of undeclared label 'nowhere'"],
  },
  {
    name: "return value checks",
    source: "int f(void) { return; }\nvoid g(void) { return 1; }\n",
    expected: [
      "test.c:1:15: error: non-void function 'f' should return a value [-Wreturn-type]",
      "test.c:2:16: error: void function 'g' should not return a value [-Wreturn-type]",
    ],
  },
  {
    name: "duplicate case value",
    source: "void f(int x) { switch (x) { case 1: case 2: case 1: break; } }\n",
    expected: [
      "test.c:1:51: error: duplicate case value '1'",
      "test.c:1:35: note: previous case defined here",
    ],
  },
  {
    name: "multiple default labels",
    source: "void f(int x) { switch (x) { default: default: ; } }\n",
    expected: [
      "test.c:1:39: error: multiple default labels in one switch",
      "test.c:1:30: note: previous case defined here",
    ],
  },
  {
    name: "scalar and integer conditions",
    source: "struct s { int a; };\nvoid f(struct s v) { if (v) {} switch (v) { } }\n",
    expected: [
      "test.c:2:22: error: statement requires expression of scalar type ('struct s' invalid)",
      "test.c:2:32: error: statement requires expression of integer type ('struct s' invalid)",
    ],
  },
  {
    name: "address of bit-field",
    source: "struct s { int b : 3; };\nvoid f(void) { struct s v; int *p = &v.b; }\n",
    expected: ["test.c:2:37: error: address of bit-field requested"],
  },
  {
    name: "invalid operands",
    source: "void f(int *p, int *q) { int x = p * 2; x = p + q; }\n",
    expected: [
      "test.c:1:36: error: invalid operands to binary expression ('int *' and 'int')",
      "test.c:1:47: error: invalid operands to binary expression ('int *' and 'int *')",
    ],
  },
  {
    name: "distinct pointer comparison",
    source: "void f(int *p, char *q) { if (p == q) {} }\n",
    expected: [
      "test.c:1:33: warning: comparison of distinct pointer types ('int *' and 'char *') [-Wcompare-distinct-pointer-types]",
    ],
  },
  {
    name: "pointer subtraction of incompatible types",
    source: "long f(int *p, char *q) { return p - q; }\n",
    expected: ["test.c:1:36: error: 'int *' and 'char *' are not pointers to compatible types"],
  },
  {
    name: "excess elements",
    source:
      "struct s { int a; int b; };\nint arr[2] = {1, 2, 3};\nstruct s v = {1, 2, 3};\nint x = {1, 2};\n",
    expected: [
      "test.c:2:21: warning: excess elements in array initializer [-Wexcess-initializers]",
      "test.c:3:21: warning: excess elements in struct initializer [-Wexcess-initializers]",
      "test.c:4:13: warning: excess elements in scalar initializer [-Wexcess-initializers]",
    ],
  },
  {
    name: "designator errors",
    source: "struct s { int a; };\nstruct s v = { .zz = 1 };\nint arr[2] = { [5] = 1 };\n",
    expected: [
      "test.c:2:17: error: field designator 'zz' does not refer to any field in type 'struct s'",
      "test.c:3:17: error: array designator index (5) exceeds array bounds (2)",
    ],
  },
  {
    name: "initializer-string too long",
    source: 'char c[2] = "hello";\n',
    expected: [
      "test.c:1:13: warning: initializer-string for char array is too long [-Wexcess-initializers]",
    ],
  },
  {
    name: "static assert failures",
    source:
      '_Static_assert(1 == 2, "one is two");\n_Static_assert(0, "zero");\n_Static_assert(sizeof(int) == 8, "int is 4");\n',
    expected: [
      "test.c:1:1: error: static_assert failed due to requirement '1 == 2' \"one is two\"",
      'test.c:2:1: error: static_assert failed "zero"',
      "test.c:3:1: error: static_assert failed due to requirement 'sizeof(int) == 8' \"int is 4\"",
    ],
  },
  {
    name: "not an integer constant expression (division by zero)",
    source: "enum { A = 1/0 };\n",
    expected: [
      "test.c:1:12: error: expression is not an integer constant expression",
      "test.c:1:13: note: division by zero",
    ],
  },
  {
    name: "integer overflow in constant",
    source: "enum { B = 0x7fffffff + 1 };\nint k = 2147483647 * 2;\n",
    expected: [
      "test.c:1:23: warning: overflow in expression; result is -2147483648 with type 'int' [-Winteger-overflow]",
      "test.c:2:20: warning: overflow in expression; result is -2 with type 'int' [-Winteger-overflow]",
    ],
  },
  {
    name: "negative array size",
    source: "int neg[-1];\nint z = 3;\nint w[z];\n",
    expected: [
      "test.c:1:9: error: 'neg' declared as an array with a negative size",
      "test.c:3:5: error: variable length array declaration not allowed at file scope",
    ],
  },
  {
    name: "flexible array members",
    source: "struct fl { int n; int data[]; int after; };\nunion uf { int n; int data[]; };\n",
    expected: [
      "test.c:1:24: error: flexible array member 'data' with type 'int[]' is not at the end of struct",
      "test.c:1:36: note: next field declaration is here",
      "test.c:2:23: error: flexible array member 'data' in a union is not allowed",
    ],
  },
  {
    name: "bit-field errors",
    source: "struct bf { int x : 40; int y : 0; int : -1; };\n",
    expected: [
      "test.c:1:17: error: width of bit-field 'x' (40 bits) exceeds the width of its type (32 bits)",
      "test.c:1:29: error: named bit-field 'y' has zero width",
      "test.c:1:36: error: anonymous bit-field has negative width (-1)",
    ],
  },
  {
    name: "field has incomplete type",
    source: "struct inc { struct s2 m; };\n",
    expected: [
      "test.c:1:24: error: field has incomplete type 'struct s2'",
      "test.c:1:21: note: forward declaration of 'struct s2'",
    ],
  },
  {
    name: "initializer not constant",
    source: "int v1 = 5;\nint v2 = v1;\nint f(void) { int x = 1; static int y = x; return y; }\n",
    expected: [
      "test.c:2:10: error: initializer element is not a compile-time constant",
      "test.c:3:41: error: initializer element is not a compile-time constant",
    ],
  },
  {
    name: "constant conversion",
    source: "void f(void) { char a = 300; unsigned char b = -1; int j = 4294967296; }\n",
    expected: [
      "test.c:1:25: warning: implicit conversion from 'int' to 'char' changes value from 300 to 44 [-Wconstant-conversion]",
      "test.c:1:60: warning: implicit conversion from 'long' to 'int' changes value from 4294967296 to 0 [-Wconstant-conversion]",
    ],
  },
  {
    name: "unused results",
    source: "void f(int x) { x; x == 1; x < 2; }\n",
    expected: [
      "test.c:1:22: warning: equality comparison result unused [-Wunused-comparison]",
      "test.c:1:22: note: use '=' to turn this equality comparison into an assignment",
      "test.c:1:30: warning: relational comparison result unused [-Wunused-comparison]",
      "test.c:1:17: warning: expression result unused [-Wunused-value]",
    ],
  },
  {
    name: "division by zero and shift counts",
    source: "void f(int x) { x = x / 0; x = x % 0; x = x << 40; x = x << -1; }\n",
    expected: [
      "test.c:1:23: warning: division by zero is undefined [-Wdivision-by-zero]",
      "test.c:1:34: warning: remainder by zero is undefined [-Wdivision-by-zero]",
      "test.c:1:45: warning: shift count >= width of type [-Wshift-count-overflow]",
      "test.c:1:58: warning: shift count is negative [-Wshift-count-negative]",
    ],
  },
  {
    name: "wrong tag kind",
    source: "struct s { int a; };\nunion s *p;\n",
    expected: [
      "test.c:2:1: error: use of 's' with tag type that does not match previous declaration",
      "test.c:1:8: note: previous use is here",
    ],
  },
  {
    name: "void must be the only parameter",
    source: "void f(void, int);\n",
    expected: ["test.c:1:12: error: 'void' must be the first and only parameter if specified"],
  },
  {
    name: "void must not be followed by '...'",
    source: "void f(void, ...);\nstruct s { void (*g)(void, ...); };\n",
    expected: [
      "test.c:1:12: error: 'void' must be the first and only parameter if specified",
      "test.c:2:26: error: 'void' must be the first and only parameter if specified",
    ],
  },
  {
    name: "increment and unary on a struct",
    source: "struct s { int a; };\nvoid f(struct s v) { v++; -v; ~v; !v; }\n",
    expected: [
      "test.c:2:23: error: cannot increment value of type 'struct s'",
      "test.c:2:27: error: invalid argument type 'struct s' to unary expression",
      "test.c:2:31: error: invalid argument type 'struct s' to unary expression",
      "test.c:2:35: error: invalid argument type 'struct s' to unary expression",
    ],
  },
  {
    name: "unary on pointers",
    source: "void f(int *p) { int x = ~*p; x = -p; }\n",
    expected: ["test.c:1:35: error: invalid argument type 'int *' to unary expression"],
  },
  {
    name: "incomplete variable",
    source: "struct t;\nvoid f(void) { struct t v; }\n",
    expected: [
      "test.c:2:25: error: variable has incomplete type 'struct t'",
      "test.c:1:8: note: forward declaration of 'struct t'",
    ],
  },
  {
    name: "array of incomplete type",
    source: "struct t;\nstruct t arr[3];\n",
    expected: [
      "test.c:2:13: error: array has incomplete element type 'struct t'",
      "test.c:1:8: note: forward declaration of 'struct t'",
    ],
  },
  {
    name: "pointer type mismatch in conditional",
    source: "void f(int c, int *p, long *q) { int *r = c ? p : q; }\n",
    expected: [
      "test.c:1:45: warning: pointer type mismatch ('int *' and 'long *') [-Wpointer-type-mismatch]",
    ],
  },
  {
    name: "redefinition as different kind of symbol",
    source: "int x;\ntypedef int x;\n",
    expected: [
      "test.c:2:13: error: redefinition of 'x' as different kind of symbol",
      "test.c:1:5: note: previous definition is here",
    ],
  },
  {
    name: "call to undeclared function",
    source: "int f(void) { return undeclared_fn(1); }\n",
    expected: [
      "test.c:1:22: error: call to undeclared function 'undeclared_fn'; ISO C99 and later do not support implicit function declarations",
    ],
    clangDiffers:
      "clang 14 only warns (implicit declaration); BPF programs need declarations, so tsbpf makes it clang 15's error",
  },
  {
    name: "static after non-static",
    source: "int f(void);\nstatic int f(void) { return 0; }\n",
    expected: [
      "test.c:2:12: error: static declaration of 'f' follows non-static declaration",
      "test.c:1:5: note: previous declaration is here",
    ],
  },
  {
    name: "extern then static variable",
    source: "extern int v;\nstatic int v;\n",
    expected: [
      "test.c:2:12: error: static declaration of 'v' follows non-static declaration",
      "test.c:1:12: note: previous declaration is here",
    ],
  },
  {
    name: "incomplete return type",
    source: "struct t;\nstruct t get(void) { }\n",
    expected: [
      "test.c:2:10: error: incomplete result type 'struct t' in function definition",
      "test.c:1:8: note: forward declaration of 'struct t'",
    ],
  },
  {
    name: "calling with struct by value mismatch",
    source:
      "struct a { int x; };\nstruct b { int x; };\nvoid take(struct a v);\nvoid f(struct b v) { take(v); }\n",
    expected: [
      "test.c:4:27: error: passing 'struct b' to parameter of incompatible type 'struct a'",
      "test.c:3:20: note: passing argument to parameter 'v' here",
    ],
  },
  {
    name: "assigning struct types",
    source:
      "struct a { int x; };\nstruct b { int x; };\nvoid f(struct a x, struct b y) { x = y; }\n",
    expected: ["test.c:3:36: error: assigning to 'struct a' from incompatible type 'struct b'"],
  },
  {
    name: "void value used",
    source: "void g(void);\nint f(void) { int x = g(); return x; }\n",
    expected: [
      "test.c:2:19: error: initializing 'int' with an expression of incompatible type 'void'",
    ],
  },
  {
    name: "dereference non-pointer",
    source: "int f(int x) { return *x; }\n",
    expected: ["test.c:1:23: error: indirection requires pointer operand ('int' invalid)"],
  },
  {
    name: "address of rvalue",
    source: "int f(int x) { int *p = &(x + 1); return *p; }\n",
    expected: ["test.c:1:25: error: cannot take the address of an rvalue of type 'int'"],
  },
  {
    name: "arithmetic on void pointer is fine but on incomplete struct",
    source: "struct t;\nvoid f(struct t *p, void *v) { p + 1; v = v + 1; }\n",
    expected: [
      "test.c:2:34: error: arithmetic on a pointer to an incomplete type 'struct t'",
      "test.c:1:8: note: forward declaration of 'struct t'",
    ],
  },
  {
    name: "too many initializers for char array from braces",
    source: "char s[2] = { 'a', 'b', 'c' };\n",
    expected: [
      "test.c:1:25: warning: excess elements in array initializer [-Wexcess-initializers]",
    ],
  },
  {
    name: "switch on pointer",
    source: "void f(int *p) { switch (p) { case 0: break; } }\n",
    expected: [
      "test.c:1:18: error: statement requires expression of integer type ('int *' invalid)",
    ],
  },
  {
    name: "case value not constant",
    source: "void f(int x, int y) { switch (x) { case y: break; } }\n",
    expected: ["test.c:1:42: error: expression is not an integer constant expression"],
  },
  {
    name: "shift of pointer",
    source: "void f(int *p) { p = p << 1; }\n",
    expected: ["test.c:1:24: error: invalid operands to binary expression ('int *' and 'int')"],
  },
  {
    name: "modulo on pointers",
    source: "void f(int *p) { long x = (long)p % 2; x = p % 2; }\n",
    expected: ["test.c:1:46: error: invalid operands to binary expression ('int *' and 'int')"],
  },
  {
    name: "bitwise with struct",
    source: "struct s { int a; };\nvoid f(struct s v) { int x = v & 1; }\n",
    expected: ["test.c:2:32: error: invalid operands to binary expression ('struct s' and 'int')"],
  },
  {
    name: "unary plus on pointer",
    source: "void f(int *p) { +p; }\n",
    expected: ["test.c:1:18: error: invalid argument type 'int *' to unary expression"],
  },
  {
    name: "increment of const",
    source: "void f(const int x) { x++; }\n",
    expected: [
      "test.c:1:24: error: cannot assign to variable 'x' with const-qualified type 'const int'",
      "test.c:1:18: note: variable 'x' declared const here",
    ],
  },
  {
    name: "assignment to function",
    source: "void g(void);\nvoid f(void) { g = 0; }\n",
    expected: ["test.c:2:18: error: non-object type 'void (void)' is not assignable"],
  },
  {
    name: "return struct from void*",
    source: "struct s { int a; };\nstruct s f(void *p) { return p; }\n",
    expected: [
      "test.c:2:30: error: returning 'void *' from a function with incompatible result type 'struct s'",
    ],
  },
  {
    name: "duplicate member in struct",
    source: "struct s { int a; long a; };\n",
    expected: [
      "test.c:1:24: error: duplicate member 'a'",
      "test.c:1:16: note: previous declaration is here",
    ],
  },
  {
    name: "anonymous member conflict",
    source: "struct s { int a; struct { int a; }; };\n",
    expected: [
      "test.c:1:32: error: member of anonymous struct redeclares 'a'",
      "test.c:1:16: note: previous declaration is here",
    ],
  },
  {
    name: "enum value too large for int used as array size",
    source: "enum e { BIG = 0x100000000 };\nchar arr[BIG];\n",
    expected: [],
  },
  {
    name: "sizeof function type",
    source: "void g(void);\nunsigned long n = sizeof(g);\n",
    expected: [],
  },
  {
    name: "alignas not power of two",
    source: "_Alignas(3) int x;\n",
    expected: ["test.c:1:1: error: requested alignment is not a power of 2"],
  },
  {
    name: "aligned attribute not power of two",
    source: "int y __attribute__((aligned(3)));\n",
    expected: ["test.c:1:22: error: requested alignment is not a power of 2"],
  },
  {
    name: "redefinition of typedef as variable",
    source: "typedef int T;\nint T;\n",
    expected: [
      "test.c:2:5: error: redefinition of 'T' as different kind of symbol",
      "test.c:1:13: note: previous definition is here",
    ],
  },
  {
    name: "tentative definitions fine then conflicting initializers",
    source: "int x = 1;\nint x = 2;\n",
    expected: [
      "test.c:2:5: error: redefinition of 'x'",
      "test.c:1:5: note: previous definition is here",
    ],
  },
  {
    name: "extern with initializer in block",
    source: "void f(void) { extern int x = 3; }\n",
    expected: ["test.c:1:27: error: 'extern' variable cannot have an initializer"],
  },
  {
    name: "incompatible pointer comparison with int",
    source: "int f(int *p) { return p == 5; }\n",
    expected: [
      "test.c:1:26: warning: comparison between pointer and integer ('int *' and 'int') [-Wpointer-integer-compare]",
    ],
  },
  {
    name: "ordered comparison pointer int",
    source: "int f(int *p) { return p < 5; }\n",
    expected: [
      "test.c:1:26: warning: ordered comparison between pointer and integer ('int *' and 'int')",
    ],
  },
  {
    name: "conditional struct and int",
    source: "struct s { int a; };\nint f(int c, struct s v) { return c ? v : 1; }\n",
    expected: ["test.c:2:37: error: incompatible operand types ('struct s' and 'int')"],
  },
  {
    name: "negative enum packed bitfield ok",
    source:
      'enum __attribute__((packed)) e { A = -1, B = 1 };\nstruct s { enum e v : 2; };\n_Static_assert(sizeof(enum e) == 1, "packed enum");\n',
    expected: [],
  },
  {
    name: "nested function declaration then use",
    source: "int f(void) { int g(int); return g(1); }\n",
    expected: [],
  },
  {
    name: "void parameter named",
    source: "void f(void x);\n",
    expected: ["test.c:1:13: error: argument may not have 'void' type"],
  },
  {
    name: "array of void",
    source: "void arr[3];\n",
    expected: ["test.c:1:9: error: array has incomplete element type 'void'"],
  },
  {
    name: "function returning function",
    source: "typedef int fn(void);\nfn f(void);\n",
    expected: ["test.c:2:5: error: function cannot return function type 'fn' (aka 'int (void)')"],
  },
  {
    name: "call through void pointer",
    source: "void f(void *p) { p(); }\n",
    expected: [
      "test.c:1:20: error: called object type 'void *' is not a function or function pointer",
    ],
  },
  {
    name: "member of union via arrow on non-pointer",
    source: "union u { int a; };\nint f(union u v) { return v->a; }\n",
    expected: [
      "test.c:2:28: error: member reference type 'union u' is not a pointer; did you mean to use '.'?",
    ],
  },
  {
    name: "string to int",
    source: 'int x = "abc";\n',
    expected: [
      "test.c:1:5: warning: incompatible pointer to integer conversion initializing 'int' with an expression of type 'char[4]' [-Wint-conversion]",
      "test.c:1:9: error: initializer element is not a compile-time constant",
    ],
  },
  {
    name: "char array from wide string",
    source: 'char s[] = L"ab";\n',
    expected: ["test.c:1:6: error: initializing char array with wide string literal"],
  },
  {
    name: "goto into ok and label unused",
    source: "void f(void) { goto done; done: ; }\n",
    expected: [],
  },
  {
    name: "continue inside switch inside loop",
    source: "void f(int x) { while (x) { switch (x) { case 1: continue; } break; } }\n",
    expected: [],
  },
  {
    name: "break inside loop inside switch",
    source: "void f(int x) { switch (x) { case 1: while (x) break; } }\n",
    expected: [],
  },
  {
    name: "error inside a macro",
    source:
      "#define GET(p) ((p)->missing)\nstruct s { int a; };\nint f(struct s *p) { return GET(p); }\n",
    expected: [
      "test.c:3:29: error: no member named 'missing' in 'struct s'",
      "test.c:1:22: note: expanded from macro 'GET'",
    ],
  },
  {
    name: "warning inside nested macros",
    source: "#define INNER(x) (x) == 1\n#define OUTER(x) INNER(x)\nvoid f(int v) { OUTER(v); }\n",
    expected: [],
  },
  {
    name: "undeclared identifier from macro argument",
    source: "#define ID(x) x\nint f(void) { return ID(nope); }\n",
    expected: ["test.c:2:25: error: use of undeclared identifier 'nope'"],
  },
  {
    name: "incompatible pointer from macro",
    source: "#define PTR(x) ((char *)(x))\nvoid f(int *p) { int *q = PTR(p); }\n",
    expected: [
      "test.c:2:23: warning: incompatible pointer types initializing 'int *' with an expression of type 'char *' [-Wincompatible-pointer-types]",
    ],
  },
  {
    name: "static assert from macro",
    source: "#define CHECK(c) _Static_assert(c, #c)\nCHECK(sizeof(int) == 2);\n",
    expected: [
      "test.c:2:1: error: static_assert failed due to requirement 'sizeof(int) == 2' \"sizeof(int) == 2\"",
      "test.c:1:18: note: expanded from macro 'CHECK'",
    ],
  },
  {
    name: "constant conversion with macro value",
    source: "#define BIG 300\nvoid f(void) { char c = BIG; }\n",
    expected: [
      "test.c:2:25: warning: implicit conversion from 'int' to 'char' changes value from 300 to 44 [-Wconstant-conversion]",
      "test.c:1:13: note: expanded from macro 'BIG'",
    ],
  },
  {
    name: "division by zero through macro",
    source: "#define DIV(a, b) ((a) / (b))\nint f(int x) { return DIV(x, 0); }\n",
    expected: [
      "test.c:2:23: warning: division by zero is undefined [-Wdivision-by-zero]",
      "test.c:1:24: note: expanded from macro 'DIV'",
    ],
  },
  {
    name: "argument count wording",
    source:
      "int one(int a);\nint onev(int a, ...);\nint two(int a, int b);\nint twov(int a, int b, ...);\nint unnamed(int);\nvoid f(void) { one(); onev(); two(1); twov(1); unnamed(); unnamed(1, 2); one(1, 2, 3); }\n",
    expected: [
      "test.c:6:20: error: too few arguments to function call, single argument 'a' was not specified",
      "test.c:1:5: note: 'one' declared here",
      "test.c:6:28: error: too few arguments to function call, at least argument 'a' must be specified",
      "test.c:2:5: note: 'onev' declared here",
      "test.c:6:36: error: too few arguments to function call, expected 2, have 1",
      "test.c:3:5: note: 'two' declared here",
      "test.c:6:45: error: too few arguments to function call, expected at least 2, have 1",
      "test.c:4:5: note: 'twov' declared here",
      "test.c:6:56: error: too few arguments to function call, expected 1, have 0",
      "test.c:5:5: note: 'unnamed' declared here",
      "test.c:6:70: error: too many arguments to function call, expected 1, have 2",
      "test.c:5:5: note: 'unnamed' declared here",
      "test.c:6:81: error: too many arguments to function call, expected single argument 'a', have 3 arguments",
      "test.c:1:5: note: 'one' declared here",
    ],
  },
  {
    name: "typedef names with aka",
    source:
      "typedef unsigned int __u32;\ntypedef __u32 u32_t;\nvoid f(__u32 *p, u32_t q) { long *l = p; char *c = q; }\n",
    expected: [
      "test.c:3:35: warning: incompatible pointer types initializing 'long *' with an expression of type '__u32 *' (aka 'unsigned int *') [-Wincompatible-pointer-types]",
      "test.c:3:48: warning: incompatible integer to pointer conversion initializing 'char *' with an expression of type 'u32_t' (aka 'unsigned int') [-Wint-conversion]",
    ],
  },
  {
    name: "unnamed struct in messages",
    source: "struct { int a; } anon;\nvoid f(void) { int x = anon; int *p = &anon; }\n",
    expected: [
      "test.c:2:20: error: initializing 'int' with an expression of incompatible type 'struct (unnamed struct at test.c:1:1)'",
      "test.c:2:35: warning: incompatible pointer types initializing 'int *' with an expression of type 'struct (unnamed struct at test.c:1:1) *' [-Wincompatible-pointer-types]",
    ],
  },
  {
    name: "typedef of pointer to function",
    source: "typedef int (*handler_t)(void *ctx);\nint h(long x);\nhandler_t table = h;\n",
    expected: [
      "test.c:3:11: warning: incompatible function pointer types initializing 'handler_t' (aka 'int (*)(void *)') with an expression of type 'int (long)' [-Wincompatible-function-pointer-types]",
    ],
  },
  {
    name: "const typedef",
    source: "typedef const char *cstr;\nvoid f(cstr s) { char *p = s; }\n",
    expected: [
      "test.c:2:24: warning: initializing 'char *' with an expression of type 'cstr' (aka 'const char *') discards qualifiers [-Wincompatible-pointer-types-discards-qualifiers]",
    ],
  },
  {
    name: "array typedef",
    source: "typedef char comm_t[16];\nvoid f(comm_t c) { int *p = c; }\n",
    expected: [
      "test.c:2:25: warning: incompatible pointer types initializing 'int *' with an expression of type 'char *' [-Wincompatible-pointer-types]",
    ],
  },
  {
    name: "enum in messages",
    source: "enum color { RED };\nvoid f(enum color c) { int *p = c; }\n",
    expected: [
      "test.c:2:29: warning: incompatible integer to pointer conversion initializing 'int *' with an expression of type 'enum color' [-Wint-conversion]",
    ],
  },
  {
    name: "diagnostic pragmas ignore, restore and promote",
    source:
      'void take(int *p);\n#pragma GCC diagnostic push\n#pragma GCC diagnostic ignored "-Wint-conversion"\nvoid f(long v) { take(v); }\n#pragma GCC diagnostic pop\nvoid g(long v) { take(v); }\n#pragma clang diagnostic error "-Wincompatible-pointer-types"\nvoid h(char *c) { take(c); }\n',
    expected: [
      "test.c:6:23: warning: incompatible integer to pointer conversion passing 'long' to parameter of type 'int *' [-Wint-conversion]",
      "test.c:1:16: note: passing argument to parameter 'p' here",
      "test.c:8:24: error: incompatible pointer types passing 'char *' to parameter of type 'int *' [-Werror,-Wincompatible-pointer-types]",
      "test.c:1:16: note: passing argument to parameter 'p' here",
    ],
  },
  {
    name: "_Pragma inside a macro silences its expansion",
    source:
      '#define QUIET(x) _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \\"-Wincompatible-pointer-types\\"") x; _Pragma("GCC diagnostic pop")\nvoid take(int *p);\nvoid f(char *c) { QUIET(take(c)) take(c); }\n',
    expected: [
      "test.c:3:39: warning: incompatible pointer types passing 'char *' to parameter of type 'int *' [-Wincompatible-pointer-types]",
      "test.c:2:16: note: passing argument to parameter 'p' here",
    ],
  },
  {
    name: "ignoring a group ignores its members",
    source:
      '#pragma GCC diagnostic ignored "-Wincompatible-pointer-types"\nvoid f(const char *s) { char *p = s; int *q = (long *)0; }\n',
    expected: [],
  },
  {
    name: "enumeration values not handled",
    source:
      "enum e { A, B, C, D, E };\nvoid f1(enum e x) { switch (x) { case A: break; case B: case C: case D: break; } }\nvoid f2(enum e x) { switch (x) { case A: case B: case C: break; } }\nvoid f3(enum e x) { switch (x) { case A: case B: break; } }\nvoid f4(enum e x) { switch (x) { case A: break; } }\nvoid f5(enum e x) { switch (x) { case A: break; default: break; } }\nvoid f6(enum e x) { switch (x) { case A: case B: case C: case D: case E: case 7: break; } }\nvoid f7(int x) { switch (x) { case A: break; } }\n",
    expected: [
      "test.c:2:29: warning: enumeration value 'E' not handled in switch [-Wswitch]",
      "test.c:3:29: warning: enumeration values 'D' and 'E' not handled in switch [-Wswitch]",
      "test.c:4:29: warning: enumeration values 'C', 'D', and 'E' not handled in switch [-Wswitch]",
      "test.c:5:29: warning: 4 enumeration values not handled in switch: 'B', 'C', 'D'... [-Wswitch]",
      "test.c:7:79: warning: case value not in enumerated type 'enum e' [-Wswitch]",
    ],
  },
  {
    name: "casts between integers and pointers",
    source:
      "void f(int i, long l, unsigned char c) { void *a = (void *)i; char *b = (char *)c; void *d = (void *)l; void *e = (void *)1; int g = (int)(long)a; }\n",
    expected: [
      "test.c:1:52: warning: cast to 'void *' from smaller integer type 'int' [-Wint-to-void-pointer-cast]",
      "test.c:1:73: warning: cast to 'char *' from smaller integer type 'unsigned char' [-Wint-to-pointer-cast]",
    ],
  },
  {
    name: "falling off the end of non-void functions",
    source:
      "int a(int x) { if (x) return 1; }\nint b(int x) { x++; }\nint c(int x) { while (1) { if (x) return 1; } }\nint d(int x) { for (;;) { if (x) break; } }\nint e(int x) { switch (x) { case 1: return 1; default: return 2; } }\nint f(int x) { switch (x) { case 1: return 1; } }\nint g(int x) { if (x) return 1; else return 2; }\nint h(int x) { do { return 1; } while (0); }\nint i(int x) { goto out; out: return x; }\nint j(int x) { if (x) { __builtin_unreachable(); } return 0; }\nint k(int x) { __builtin_trap(); }\nint l(int x) { x / 0; }\nint m(int x) { while (x) { return 1; } }\nint n(int x) { if (0) return 1; }\nint o(int x) { if (1) return 1; }\nvoid p(int x) { }\nint q(int x) { return ({ int y = x; y; }); }\n",
    expected: [
      "test.c:1:33: warning: non-void function does not return a value in all control paths [-Wreturn-type]",
      "test.c:2:21: warning: non-void function does not return a value [-Wreturn-type]",
      "test.c:4:43: warning: non-void function does not return a value [-Wreturn-type]",
      "test.c:6:49: warning: non-void function does not return a value in all control paths [-Wreturn-type]",
      "test.c:12:18: warning: division by zero is undefined [-Wdivision-by-zero]",
      "test.c:12:18: warning: expression result unused [-Wunused-value]",
      "test.c:12:23: warning: non-void function does not return a value [-Wreturn-type]",
      "test.c:13:40: warning: non-void function does not return a value in all control paths [-Wreturn-type]",
      "test.c:14:33: warning: non-void function does not return a value [-Wreturn-type]",
    ],
  },
  {
    name: "noreturn functions end paths",
    source:
      "void die(void) __attribute__((noreturn));\n_Noreturn void stop(void);\nint a(int x) { if (x) return 1; die(); }\nint b(int x) { if (x) return 1; stop(); }\n",
    expected: [],
  },
  {
    name: "array bounds with constant subscripts",
    source:
      "struct s { int a[4]; int tail[1]; };\nstruct f { int n; int flex[]; };\nint g(struct s *p, struct f *q, int i) {\n  int arr[3];\n  int *e = &arr[3];\n  p->a[4] = 1;\n  p->tail[3] = 1;\n  q->flex[9] = 1;\n  arr[2] = i;\n  arr[-1] = 0;\n  return arr[3] + sizeof(arr[7]);\n}\n",
    expected: [
      "test.c:6:3: warning: array index 4 is past the end of the array (which contains 4 elements) [-Warray-bounds]",
      "test.c:1:12: note: array 'a' declared here",
      "test.c:10:3: warning: array index -1 is before the beginning of the array [-Warray-bounds]",
      "test.c:4:3: note: array 'arr' declared here",
      "test.c:11:10: warning: array index 3 is past the end of the array (which contains 3 elements) [-Warray-bounds]",
      "test.c:4:3: note: array 'arr' declared here",
    ],
  },
  {
    name: "comparisons with out of range constants",
    source:
      "int h(unsigned char c, short s, _Bool b, int x) {\n  int r = c == 256;\n  r += s > 40000;\n  r += b == 2;\n  r += 256 > c;\n  r += c >= 255;\n  return r + (c < -1);\n}\n",
    expected: [
      "test.c:2:13: warning: result of comparison of constant 256 with expression of type 'unsigned char' is always false [-Wtautological-constant-out-of-range-compare]",
      "test.c:3:10: warning: result of comparison of constant 40000 with expression of type 'short' is always false [-Wtautological-constant-out-of-range-compare]",
      "test.c:4:10: warning: result of comparison of constant 2 with expression of type '_Bool' is always false [-Wtautological-constant-out-of-range-compare]",
      "test.c:5:12: warning: result of comparison of constant 256 with expression of type 'unsigned char' is always true [-Wtautological-constant-out-of-range-compare]",
      "test.c:7:17: warning: result of comparison of constant -1 with expression of type 'unsigned char' is always false [-Wtautological-constant-out-of-range-compare]",
    ],
  },
  {
    name: "floating point and variable length arrays are rejected for BPF",
    source:
      "float f;\nint g(void) { return 1.5 > 0; }\nint h(int n) { char buf[n]; return buf[0]; }\nlong double ld;\n",
    expected: [
      "test.c:1:7: error: floating-point types are not supported by the BPF target (variable 'f' has type 'float')",
      "test.c:2:22: error: floating-point types are not supported by the BPF target",
      "test.c:3:25: error: variable length arrays are not supported by the BPF target",
      "test.c:4:13: error: floating-point types are not supported by the BPF target (variable 'ld' has type 'long double')",
    ],
    clangDiffers:
      "clang's front end accepts these; its BPF back end fails later without a source location",
  },
];

testDiagnosticCases("sema diagnostics on bad input", cases);

// Random conversions between a pool of object types, in the four contexts clang words
// differently (assigning, initializing, passing, returning): every warning, error, hint and
// note must be the line clang prints, in the same order.
const conversionPrelude = `typedef unsigned int __u32;
struct a { int x; }; struct b { int x; };
union u { int i; };
enum e { E0 };
int i; unsigned u; long l; char c; unsigned char uc; _Bool bo; enum e en; __u32 u32;
int *ip; const int *cip; unsigned *up; char *cp; const char *ccp; unsigned char *ucp; void *vp; const void *cvp;
long *lp; __u32 *u32p; int **ipp; const int **cipp; int *const *ipcp;
struct a sa, *pa; struct b sb, *pb; union u un;
int arr[4]; char carr[8];
int (*fp)(void *); int (*fp2)(int); void (*vfp)(void);
int fn(void *p);
`;
const conversionTargets: [string, string][] = [
  ["i", "int"],
  ["u", "unsigned"],
  ["l", "long"],
  ["c", "char"],
  ["uc", "unsigned char"],
  ["bo", "_Bool"],
  ["en", "enum e"],
  ["u32", "__u32"],
  ["ip", "int *"],
  ["cip", "const int *"],
  ["up", "unsigned *"],
  ["cp", "char *"],
  ["ccp", "const char *"],
  ["ucp", "unsigned char *"],
  ["vp", "void *"],
  ["cvp", "const void *"],
  ["lp", "long *"],
  ["u32p", "__u32 *"],
  ["ipp", "int **"],
  ["cipp", "const int **"],
  ["sa", "struct a"],
  ["pa", "struct a *"],
  ["un", "union u"],
  ["fp", "int (*)(void *)"],
  ["fp2", "int (*)(int)"],
  ["vfp", "void (*)(void)"],
];
const conversionSources = [
  ...conversionTargets.map(([name]) => name),
  ...[
    "arr",
    "carr",
    "fn",
    "0",
    "1",
    "(void *)0",
    '"s"',
    "&i",
    "&arr",
    "&sa",
    "*ipp",
    "ipcp",
    "sb",
    "pb",
  ],
];

function conversionProgram(seed: number, count: number): string {
  let state = seed >>> 0;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const lines: string[] = [];
  for (let k = 0; k < count; k++) {
    const [name, type] = conversionTargets[next(conversionTargets.length)]!;
    const value = conversionSources[next(conversionSources.length)]!;
    const declare = (id: string) =>
      type.includes("(*)") ? type.replace("(*)", `(*${id})`) : `${type} ${id}`;
    switch (next(4)) {
      case 0:
        lines.push(`void t${k}(void) { ${name} = ${value}; }`);
        break;
      case 1:
        lines.push(`void t${k}(void) { ${declare("v")} = ${value}; (void)v; }`);
        break;
      case 2:
        lines.push(`void take${k}(${declare("p")});\nvoid t${k}(void) { take${k}(${value}); }`);
        break;
      default:
        lines.push(`typedef ${declare(`r${k}_t`)};\nr${k}_t t${k}(void) { return ${value}; }`);
    }
  }
  return conversionPrelude + lines.join("\n") + "\n";
}

describe.skipIf(!hasClang)("conversion diagnostics equal clang's", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`150 random conversions (seed ${seed})`, () => {
      const source = conversionProgram(seed, 150);
      expect(ourDiagnostics(source)).toEqual(clangDiagnostics(source));
    });
  }
});

// Random operators over the same pool: invalid operands, pointer arithmetic and
// comparisons, conditional operand types, unary operators on every kind of operand.
function operatorProgram(seed: number, count: number): string {
  let state = seed >>> 0;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
  const binary = ["+", "-", "*", "/", "%", "<<", "&", "|", "<", "<=", "==", "!=", "&&", "||"];
  const unary = ["-", "~", "!", "*", "&", "+"];
  const lines: string[] = [];
  for (let k = 0; k < count; k++) {
    const a = conversionSources[next(conversionSources.length)]!;
    const b = conversionSources[next(conversionSources.length)]!;
    const c = conversionSources[next(conversionSources.length)]!;
    const r = next(10);
    let e: string;
    if (r < 6) e = `${a} ${binary[next(binary.length)]} ${b}`;
    else if (r < 8) e = `${unary[next(unary.length)]} ${a}`;
    else e = `${a} ? ${b} : ${c}`;
    lines.push(`void t${k}(void) { (void)(${e}); }`);
  }
  return conversionPrelude + lines.join("\n") + "\n";
}

describe.skipIf(!hasClang)("operator diagnostics equal clang's", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`150 random operator expressions (seed ${seed})`, () => {
      const source = operatorProgram(seed, 150);
      expect(ourDiagnostics(source)).toEqual(clangDiagnostics(source));
    });
  }
});
