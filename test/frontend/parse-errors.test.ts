// Bad input: every case states the exact diagnostics the parser gives (message, file:line:col,
// notes), and where clang 14 is installed the same lines are checked against
// `clang -fsyntax-only` (its errors and their notes; warnings from later phases are left out).
// Cases marked `clang: false` are where tsbpf deliberately says less than clang (clang's typo
// correction, follow-on errors of its own recovery, semantic errors); they still state ours.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { CompileError } from "../../compiler/diagnostics.js";
import { TsbpfError } from "../../runtime/error.js";
import { parseSource } from "../../compiler/parse.js";

const hasClang = spawnSync("clang", ["--version"]).status === 0;
if (!hasClang) console.log("clang comparison of parse errors skipped: clang is not installed");

const dir = mkdtempSync(join(tmpdir(), "tsbpf-parse-errors-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Our diagnostics as clang prints them (-fno-caret-diagnostics): one line each, notes after. */
function ours(name: string, source: string): string[] {
  const lines: string[] = [];
  for (const d of parseSource(source, name).diagnostics) {
    const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.col}: ` : "";
    lines.push(`${where}${d.fatal === true ? "fatal error" : d.severity}: ${d.message}`);
    for (const n of d.notes)
      lines.push(`${n.loc!.file}:${n.loc!.line}:${n.loc!.col}: note: ${n.message}`);
  }
  return lines;
}

/** clang's errors (and warnings the parser gives too), each with its notes. */
function clangDiagnostics(name: string, source: string, keepWarnings: boolean): string[] {
  writeFileSync(join(dir, name), source);
  const r = spawnSync(
    "clang",
    ["-target", "bpf", "-fsyntax-only", "-fno-caret-diagnostics", name],
    {
      cwd: dir,
      encoding: "utf8",
    },
  );
  const out: string[] = [];
  let keep = false;
  for (const line of r.stderr.split("\n")) {
    if (/: (fatal error|error|warning): /.test(line)) {
      keep = !line.includes(": warning: ") || keepWarnings;
      if (keep) out.push(line.replace(/ \[-W[\w-]+\]$/, ""));
    } else if (/: note: /.test(line) && keep) {
      out.push(line);
    }
  }
  return out;
}

interface Case {
  name: string;
  source: string;
  expected: string[];
  /** false: tsbpf's output is stated but intentionally not clang's. */
  clang?: boolean;
  /** Compare clang's warnings too (for warnings the parser itself gives). */
  warnings?: boolean;
}

const cases: Case[] = [
  {
    name: "missing_semicolon_file_scope.c",
    source: "int x = 1\nint y;\nint z 5;\nint w;\n",
    expected: [
      "missing_semicolon_file_scope.c:1:10: error: expected ';' after top level declarator",
      "missing_semicolon_file_scope.c:3:6: error: expected ';' after top level declarator",
    ],
  },
  {
    name: "missing_semicolon_block.c",
    source: "void f(void) {\n  int a = 1\n  int b;\n  a = 2\n  b = 3;\n  return;\n}\n",
    expected: [
      "missing_semicolon_block.c:2:12: error: expected ';' at end of declaration",
      "missing_semicolon_block.c:4:8: error: expected ';' after expression",
    ],
  },
  {
    name: "missing_semicolon_statements.c",
    source:
      "void f1(void) { while (1) { break } }\nvoid f2(int a) { do {} while (a) }\nvoid f3(void) { for (;;) continue }\nvoid f4(void) { l: goto l }\nint f5(int a) { return a }\n",
    expected: [
      "missing_semicolon_statements.c:1:34: error: expected ';' after break statement",
      "missing_semicolon_statements.c:2:33: error: expected ';' after do/while statement",
      "missing_semicolon_statements.c:3:34: error: expected ';' after continue statement",
      "missing_semicolon_statements.c:4:26: error: expected ';' after goto statement",
      "missing_semicolon_statements.c:5:25: error: expected ';' after return statement",
    ],
  },
  {
    // After a bad statement clang skips to the next ';' or '}': later lines in the block are not
    // looked at again.
    name: "skip_after_bad_statement.c",
    source:
      "int f(int a) {\n  while (1) { break }\n  do {} while (a)\n  for (;;) continue\n  goto out\nout:\n  return a\n}\n",
    expected: [
      "skip_after_bad_statement.c:2:20: error: expected ';' after break statement",
      "skip_after_bad_statement.c:3:18: error: expected ';' after do/while statement",
    ],
  },
  {
    name: "missing_semicolon_struct.c",
    source: "struct t { int b; }\nint k;\nenum e { A }\nint m;\n",
    expected: [
      "missing_semicolon_struct.c:1:20: error: expected ';' after struct",
      "missing_semicolon_struct.c:3:13: error: expected ';' after enum",
    ],
  },
  {
    name: "missing_semicolon_member.c",
    source: "struct s { int a } ;\nstruct u { int b int c; };\n",
    expected: [
      "missing_semicolon_member.c:1:17: warning: expected ';' at end of declaration list",
      "missing_semicolon_member.c:2:17: error: expected ';' at end of declaration list",
    ],
    warnings: true,
  },
  {
    name: "missing_semicolon_for.c",
    source:
      "void f(void) { for (int i = 0 i < 3; i++); }\nvoid g(int i) { for (i = 0 i < 3; i++); }\n",
    expected: [
      "missing_semicolon_for.c:1:31: error: expected ';' in 'for' statement specifier",
      "missing_semicolon_for.c:2:28: error: expected ';' in 'for' statement specifier",
    ],
  },
  {
    name: "unbalanced_brace_at_eof.c",
    source: "int f(void) {\n  return 0;\n",
    expected: [
      "unbalanced_brace_at_eof.c:2:12: error: expected '}'",
      "unbalanced_brace_at_eof.c:1:13: note: to match this '{'",
    ],
  },
  {
    name: "extraneous_brace.c",
    source: "int a;\n}\nint b;\n",
    expected: ["extraneous_brace.c:2:1: error: extraneous closing brace ('}')"],
  },
  {
    name: "unbalanced_parens.c",
    source:
      "int f(int);\nint g(void) {\n  return (1 + 2;\n}\nint h(void) { return f(1; }\nint k(int a) {\n  if (a return 1;\n  return 0;\n}\nint (*p(int);\n",
    expected: [
      "unbalanced_parens.c:3:16: error: expected ')'",
      "unbalanced_parens.c:3:10: note: to match this '('",
      "unbalanced_parens.c:5:25: error: expected ')'",
      "unbalanced_parens.c:5:23: note: to match this '('",
      "unbalanced_parens.c:7:9: error: expected ')'",
      "unbalanced_parens.c:7:6: note: to match this '('",
      "unbalanced_parens.c:10:13: error: expected ')'",
      "unbalanced_parens.c:10:5: note: to match this '('",
    ],
  },
  {
    name: "unbalanced_brackets.c",
    source: "int a[3;\nint b[4];\nint f(void) { return b[1; }\n",
    expected: [
      "unbalanced_brackets.c:1:8: error: expected ']'",
      "unbalanced_brackets.c:1:6: note: to match this '['",
      "unbalanced_brackets.c:3:25: error: expected ']'",
      "unbalanced_brackets.c:3:23: note: to match this '['",
    ],
  },
  {
    name: "unknown_type_name.c",
    source: "foo x;\nvoid g(bar y);\nstruct s { baz z; };\nstatic qux *q;\n",
    expected: [
      "unknown_type_name.c:1:1: error: unknown type name 'foo'",
      "unknown_type_name.c:2:8: error: unknown type name 'bar'",
      "unknown_type_name.c:3:12: error: unknown type name 'baz'",
      "unknown_type_name.c:4:8: error: unknown type name 'qux'",
    ],
  },
  {
    name: "unknown_type_name_in_block.c",
    source: "void g(void) { fooo y; int n; n m; }\n",
    expected: [
      "unknown_type_name_in_block.c:1:16: error: use of undeclared identifier 'fooo'",
      "unknown_type_name_in_block.c:1:32: error: expected ';' after expression",
    ],
    // clang adds a semantic error for m.
    clang: false,
  },
  {
    name: "expected_expression.c",
    source:
      "int h(void) { return ); }\nint k(void) { return 1 + ; }\nint m(void) { int x = ; return sizeof(; }\nvoid n(void) { else; }\n",
    expected: [
      "expected_expression.c:1:22: error: expected expression",
      "expected_expression.c:2:26: error: expected expression",
      "expected_expression.c:3:23: error: expected expression",
      "expected_expression.c:3:39: error: expected expression",
      "expected_expression.c:4:16: error: expected expression",
    ],
  },
  {
    name: "stray_tokens.c",
    source: "int a;\n) int b;\n3;\nint c;\n",
    expected: [
      "stray_tokens.c:2:1: error: expected identifier or '('",
      "stray_tokens.c:3:1: error: expected identifier or '('",
    ],
  },
  {
    name: "declarator_expected.c",
    source: "int *;\nvoid f(void) { int *; }\nstruct;\n",
    expected: [
      "declarator_expected.c:1:6: error: expected identifier or '('",
      "declarator_expected.c:2:21: error: expected identifier or '('",
      "declarator_expected.c:3:1: error: declaration of anonymous struct must be a definition",
    ],
  },
  {
    name: "unexpected_type_name.c",
    source: "typedef int T;\nint g(void) { return T + 1; }\n",
    expected: ["unexpected_type_name.c:2:22: error: unexpected type name 'T': expected expression"],
  },
  {
    name: "specifier_combinations.c",
    source:
      "int char a;\nlong long long b;\nunsigned signed c;\nshort double d;\nunsigned float e;\nlong char f;\ntypedef int T;\nT int g;\nstruct s { int x; } int h;\n",
    expected: [
      "specifier_combinations.c:1:5: error: cannot combine with previous 'int' declaration specifier",
      "specifier_combinations.c:2:11: error: cannot combine with previous 'long long' declaration specifier",
      "specifier_combinations.c:3:10: error: cannot combine with previous 'unsigned' declaration specifier",
      "specifier_combinations.c:4:1: error: 'short double' is invalid",
      "specifier_combinations.c:5:1: error: 'float' cannot be signed or unsigned",
      "specifier_combinations.c:6:1: error: 'long char' is invalid",
      "specifier_combinations.c:8:3: error: cannot combine with previous 'type-name' declaration specifier",
      "specifier_combinations.c:9:20: error: expected ';' after struct",
    ],
  },
  {
    name: "duplicate_specifiers.c",
    source: "const const int a;\nunsigned unsigned b;\nstatic static int c;\n",
    expected: [
      "duplicate_specifiers.c:1:7: warning: duplicate 'const' declaration specifier",
      "duplicate_specifiers.c:2:10: warning: duplicate 'unsigned' declaration specifier",
      "duplicate_specifiers.c:3:8: warning: duplicate 'static' declaration specifier",
    ],
    warnings: true,
  },
  {
    name: "storage_class_misplaced.c",
    source: "struct s { static int x; };\nvoid f(static int a);\n",
    expected: [
      "storage_class_misplaced.c:1:12: error: type name does not allow storage class to be specified",
      "storage_class_misplaced.c:2:8: error: invalid storage class specifier in function declarator",
    ],
  },
  {
    name: "bad_numbers.c",
    source:
      "int a = 08;\nint b = 1abc;\nint c = 0x;\nint d = 0b102;\nint e = 12LLL;\nint f = 18446744073709551616;\n",
    expected: [
      "bad_numbers.c:1:10: error: invalid digit '8' in octal constant",
      "bad_numbers.c:2:10: error: invalid digit 'a' in decimal constant",
      "bad_numbers.c:3:10: error: invalid suffix 'x' on integer constant",
      "bad_numbers.c:4:13: error: invalid digit '2' in binary constant",
      "bad_numbers.c:5:11: error: invalid suffix 'LLL' on integer constant",
      "bad_numbers.c:6:9: error: integer literal is too large to be represented in any integer type",
    ],
  },
  {
    name: "enumerators.c",
    source: "enum e { A, B C };\nenum f { X = 1 Y };\n",
    expected: [
      "enumerators.c:1:14: error: missing ',' between enumerators",
      "enumerators.c:2:15: error: missing ',' between enumerators",
    ],
  },
  {
    // A missing '(' after while skips the statement to the next ';' (the `if a)` line too).
    name: "statements.c",
    source:
      "void f(int a) {\n  switch (a) { case 1 return; default break; }\n  while a) {}\n  if a) return;\n  do {} (1);\n}\nvoid g(void) { l: }\nvoid h(int a) { if (a) ; else }\nvoid k(int a) { if a) return; }\n",
    expected: [
      "statements.c:2:22: error: expected ':' after 'case'",
      "statements.c:2:38: error: expected ':' after 'default'",
      "statements.c:3:9: error: expected '(' after 'while'",
      "statements.c:5:9: error: expected 'while' in do/while loop",
      "statements.c:5:3: note: to match this 'do'",
      "statements.c:7:19: error: expected statement",
      "statements.c:8:31: error: expected statement",
      "statements.c:9:20: error: expected '(' after 'if'",
    ],
  },
  {
    name: "label_before_declaration.c",
    source: "void f(void) { l: int x; }\n",
    expected: ["label_before_declaration.c:1:19: error: expected expression"],
  },
  {
    name: "sizeof_with_name.c",
    source: "int g(void) { return sizeof(int x); }\n",
    expected: [
      "sizeof_with_name.c:1:33: error: expected ')'",
      "sizeof_with_name.c:1:28: note: to match this '('",
    ],
  },
  {
    name: "conditional.c",
    source: "int f(int a) { return a ? 1 ; }\n",
    expected: [
      "conditional.c:1:29: error: expected ':'",
      "conditional.c:1:25: note: to match this '?'",
    ],
    // clang also reports the then-missing third operand.
    clang: false,
  },
  {
    name: "attributes_and_asm.c",
    source: 'int x __attribute__((aligned(8));\nint y;\nvoid f(void) { asm volatile("" : : : ; }\n',
    expected: [
      "attributes_and_asm.c:1:33: error: expected ')'",
      "attributes_and_asm.c:3:38: error: expected ')'",
    ],
  },
  {
    name: "designators.c",
    source: "struct P { int x, y; };\nstruct P p = { .x = 1, .y 2 };\nint a[] = { 1, 2 3 };\n",
    expected: [
      "designators.c:2:27: error: expected '=' or another designator",
      "designators.c:3:18: error: expected '}'",
      "designators.c:3:11: note: to match this '{'",
    ],
  },
  {
    name: "parameters.c",
    source: "void f(int a, ) ;\n",
    expected: ["parameters.c:1:15: error: expected parameter declarator"],
  },
  {
    // Tag references next to other specifiers (read without the record and enum rules).
    name: "tag_reference_specifiers.c",
    source: "int struct S *x;\nstruct S struct T *y;\nunion U const *const p;\nenum E long e;\n",
    expected: [
      "tag_reference_specifiers.c:1:5: error: cannot combine with previous 'int' declaration specifier",
      "tag_reference_specifiers.c:2:10: error: cannot combine with previous 'struct' declaration specifier",
      "tag_reference_specifiers.c:4:8: error: 'long enum' is invalid",
    ],
  },
  {
    // `name = value` enumerators (read without the enumerator rule) with commas missing.
    name: "enumerator_values.c",
    source: "enum e { A = 1 B = 2, C = A D };\nenum f { X = 1, Y = X, Z = 0x10000000000000000 };\n",
    expected: [
      "enumerator_values.c:1:15: error: missing ',' between enumerators",
      "enumerator_values.c:1:28: error: missing ',' between enumerators",
      "enumerator_values.c:2:28: error: integer literal is too large to be represented in any integer type",
    ],
  },
  {
    // Plain members, a padding bit-field and a member with an error, read in one loop.
    name: "member_loop.c",
    source:
      "struct s { int a; struct t *p; long: 64; int b c; unsigned d: 3; };\nstruct u { struct t *q, **r; enum e *s; };\n",
    expected: ["member_loop.c:1:47: error: expected ';' at end of declaration list"],
  },
  {
    name: "static_assert.c",
    source: '_Static_assert(1, "x")\nint y;\n',
    expected: ["static_assert.c:1:23: error: expected ';' after static_assert"],
  },
  {
    name: "statement_expression.c",
    source: "int f(void) { return ({ int a = 1; a + ; }); }\n",
    expected: ["statement_expression.c:1:40: error: expected expression"],
    // clang adds a semantic error about the statement expression's type.
    clang: false,
  },
  {
    name: "loop_pragma_without_loop.c",
    source: "void f(int a) {\n#pragma unroll\n  a++;\n}\n",
    expected: [
      "loop_pragma_without_loop.c:2:1: error: expected a for, while, or do-while loop to follow '#pragma unroll'",
    ],
    // clang points at the statement after the pragma.
    clang: false,
  },
];

describe("parse errors: exact diagnostics", () => {
  for (const c of cases) {
    test(c.name, () => {
      expect(ours(c.name, c.source)).toEqual(c.expected);
    });
  }
});

describe.skipIf(!hasClang)("parse errors: the same as clang 14", () => {
  for (const c of cases) {
    if (c.clang === false) continue;
    test(c.name, () => {
      expect(clangDiagnostics(c.name, c.source, c.warnings === true)).toEqual(c.expected);
    });
  }
});

describe("nesting limits", () => {
  const deep = (n: number, open: string, close: string, inner: string): string =>
    open.repeat(n) + inner + close.repeat(n);
  // clang adds "note: use -fbracket-depth=N to increase maximum nesting level": tsbpf has no
  // such option, and says only the error.
  const withoutDepthNote = (lines: string[]): string[] =>
    lines.filter((l) => !l.includes("-fbracket-depth"));

  test("a 257th nested bracket is clang's fatal error, after the errors before it", () => {
    const source = `int x = ;\nvoid f(void) { ${deep(256, "{", "}", "")} }\nint y = ;\n`;
    const expected = [
      "braces.c:1:9: error: expected expression",
      "braces.c:2:271: fatal error: bracket nesting level exceeded maximum of 256",
    ];
    expect(ours("braces.c", source)).toEqual(expected);
    if (hasClang)
      expect(withoutDepthNote(clangDiagnostics("braces.c", source, false))).toEqual(expected);
  });

  test("nested struct bodies count too (one that holds the 257th is not read past)", () => {
    const fields = Array.from({ length: 257 }, (_, i) => `} f${i}; `).join("");
    const source = `struct s { ${"struct { ".repeat(257)}int x; ${fields}};\n`;
    const expected = [
      "structs.c:1:2314: fatal error: bracket nesting level exceeded maximum of 256",
    ];
    expect(ours("structs.c", source)).toEqual(expected);
    if (hasClang)
      expect(withoutDepthNote(clangDiagnostics("structs.c", source, false))).toEqual(expected);
  });

  test("nesting the rules' recursion cannot reach is a located fatal error, not an exception", () => {
    // clang accepts 200 nested parentheses and 3,000 unary minuses; tsbpf's recursive rules run
    // out of JavaScript stack first, and say where.
    for (const source of [
      `int x = ${deep(200, "(", ")", "1")};\n`,
      `int y = ${"-".repeat(3000)}1;\n`,
    ]) {
      const lines = ours("deep.c", source);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^deep\.c:1:\d+: fatal error: nesting too deep for the parser \(out of stack\)$/,
      );
      // The parser is fine afterwards.
      expect(ours("after.c", `int z = ${deep(20, "(", ")", "1")};\n`)).toEqual([]);
    }
  });
});

describe("error recovery", () => {
  test("independent errors are all reported in one run, and the rest still parses", () => {
    const source = [
      "int f(void) {",
      "  int x = ;",
      "  return 0",
      "}",
      "struct s { int a; }",
      "enum e { A B };",
      "int h(void) { return (1 + 2; }",
      "int k = 08;",
      "int ok(int a) { return a * 2; }",
      "",
    ].join("\n");
    const expected = [
      "multi.c:2:11: error: expected expression",
      "multi.c:3:11: error: expected ';' after return statement",
      "multi.c:5:20: error: expected ';' after struct",
      "multi.c:6:11: error: missing ',' between enumerators",
      "multi.c:7:28: error: expected ')'",
      "multi.c:7:22: note: to match this '('",
      "multi.c:8:10: error: invalid digit '8' in octal constant",
    ];
    expect(ours("multi.c", source)).toEqual(expected);
    if (hasClang) expect(clangDiagnostics("multi.c", source, false)).toEqual(expected);
    const r = parseSource(source, "multi.c");
    const names = r.unit.decls.flatMap((d) =>
      d.kind === "FunctionDef"
        ? [d.declarator.name]
        : d.kind === "Declaration"
          ? d.declarators.map((i) => i.declarator.name)
          : [],
    );
    expect(names).toEqual(["f", "h", "k", "ok"]);
  });

  test("stops after 20 errors, as clang does", () => {
    const source = Array.from({ length: 30 }, (_, i) => `int v${i} = ;\n`).join("");
    const lines = ours("many.c", source);
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe("error: too many errors emitted, stopping now");
  });

  test("never throws on garbage: random token soup gives diagnostics, not exceptions", () => {
    const pieces = [
      "int",
      "(",
      ")",
      "{",
      "}",
      "[",
      "]",
      ";",
      ",",
      "*",
      "x",
      "1",
      "struct",
      "=",
      "+",
      "?",
      ":",
      "typedef",
      "'a'",
      '"s"',
      "...",
      "->",
      "__attribute__",
      "enum",
      "if",
      "else",
      "for",
      "#pragma unroll\n",
    ];
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 200; round++) {
      let text = "";
      const n = 5 + (next() % 60);
      for (let i = 0; i < n; i++) text += pieces[next() % pieces.length] + " ";
      const r = parseSource(text, "soup.c");
      expect(Array.isArray(r.diagnostics)).toBe(true);
    }
  });

  test("diagnostics are clang-rendered by CompileError, a TsbpfError", () => {
    const source = "int x = 1\n";
    const r = parseSource(source, "one.c");
    const err = new CompileError(r.diagnostics, (f) => (f === "one.c" ? source : undefined));
    expect(err).toBeInstanceOf(TsbpfError);
    expect(err.message).toBe("one.c:1:10: error: expected ';' after top level declarator");
    expect(err.render()).toBe(
      "one.c:1:10: error: expected ';' after top level declarator\nint x = 1\n         ^\n1 error generated.\n",
    );
  });
});
