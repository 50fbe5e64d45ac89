// Diagnostics for bad input, checked word for word against what clang 14 prints for the same
// file (clang -E: the preprocessor's diagnostics), including the source line, caret, range,
// "expanded from macro" notes, "In file included from" lines and the closing count. Then the model
// and renderer on their own.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CompileError,
  DiagnosticBag,
  note,
  renderDiagnostics,
  summary,
} from "../../compiler/diagnostics.js";
import { preprocess } from "../../compiler/preprocess.js";
import { TsbpfError } from "../../runtime/error.js";

const hasClang = spawnSync("clang", ["--version"]).status === 0;
if (!hasClang) console.log("diagnostic tests against clang skipped: clang is not installed");

const work = mkdtempSync(join(tmpdir(), "tsbpf-diag-"));

/** Our rendering and clang's for the same files, the first one being the input. */
function both(contents: Record<string, string>): { ours: string; clang: string } {
  const dir = mkdtempSync(join(work, "case-"));
  for (const [name, text] of Object.entries(contents)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const input = Object.keys(contents)[0]!;
  const clang = spawnSync("clang", ["-target", "bpf", "-E", "-o", "/dev/null", input], {
    cwd: dir,
    encoding: "utf8",
  }).stderr;
  // Relative names as clang prints them: read them relative to the case's directory.
  const readFile = (path: string) => {
    try {
      return readFileSync(path.startsWith("/") ? path : join(dir, path), "utf8");
    } catch {
      return undefined;
    }
  };
  const result = preprocess({ path: input }, { readFile });
  return { ours: renderDiagnostics(result.diagnostics.items, result.sources), clang };
}

const cases: [string, Record<string, string>][] = [
  ["unterminated comment", { "c.c": "int a;\n/* never\nclosed\n" }],
  ["unterminated comment after code", { "c.c": "int a; /* x */ int b; /* open\n" }],
  ["unterminated string and char", { "s.c": "int a = \"abc;\nchar c = 'x;\nint d = 1;\n" }],
  [
    "unterminated literals in directives",
    {
      "d.c":
        "#define X don't\n#error don't\n#if 0\n#define Y 'a\n#endif\n#undef Z 'q\n" +
        "#define F(a) a\nX F(\"s) F('c)\n",
    },
  ],
  ["unterminated string in a skipped group is fine", { "s.c": '#if 0\nint a = "abc;\n#endif\n' }],
  ["unterminated #if", { "u.c": "#if 1\nint a;\n" }],
  ["unterminated nested #ifdef", { "u.c": "#ifdef X\n#if 1\n#endif\n" }],
  ["#else after #else", { "e.c": "#if 1\n#else\n#else\n#endif\n" }],
  ["#elif after #else", { "e.c": "#if 0\n#else\n#elif 1\n#endif\n" }],
  ["#elif, #else and #endif without #if", { "e.c": "#elif 1\n#endif\n#else\n" }],
  ["missing quoted include", { "m.c": '#include "nosuch.h"\nint a;\n' }],
  ["missing angled include", { "m.c": "#include <no/such.h>\nint a;\n" }],
  [
    "missing include inside an included file",
    { "m.c": '#include "inc.h"\n', "inc.h": 'int x;\n#include "deeper.h"\n' },
  ],
  [
    "#error and #warning",
    { "w.c": '#error this is   bad  \n#warning careful "here"\nint a;\n#error\n' },
  ],
  [
    "wrong number of macro arguments",
    {
      "a.c":
        "#define F(a,b) a+b\nF(1)\nF(1,2,3)\nF()\n#define G(a) a\nG()\nG(1,2)\n#define H() 1\nH(1)\n#define V(a, ...) a\nV()\n",
    },
  ],
  ["unterminated macro invocation", { "u.c": "#define F(a) a\nint x = F(1,\n2\n" }],
  [
    "'##' at either end, '#' without a parameter",
    { "h.c": "#define A ## x\n#define B x ##\n#define C(y) #z\n#define D(y) y #\n" },
  ],
  [
    "invalid #if expressions",
    {
      "i.c":
        '#if 1 +\n#endif\n#if (1\n#endif\n#if 1 2\n#endif\n#if\n#endif\n#if 1.0\n#endif\n#if "s"\n#endif\n' +
        "#if defined\n#endif\n#if defined(X\n#endif\n#if 1 ? 2\n#endif\n#if 08\n#endif\n#if 0x\n#endif\n" +
        "#if 1abc\n#endif\n#if foo(\n#endif\n#if 99999999999999999999\n#endif\n#if )\n#endif\n#if 1 == == 2\n#endif\n",
    },
  ],
  [
    "#if warnings",
    {
      "i.c":
        "#if 18446744073709551615 == -1\n#endif\n#if -1 < 0u\n#endif\n#if 9223372036854775807 + 1\n#endif\n#if 'ab'\n#endif\n",
    },
  ],
  [
    "division by zero in #if",
    {
      "d.c":
        "#if 1/0\n#endif\n#if 1 % 0\n#endif\n#if 0 && 1/0\n#endif\n#define Z 0\n#if 2 / Z\n#endif\n",
    },
  ],
  [
    "bad #define and #undef",
    {
      "m.c":
        "#define\n#define 123\n#define defined\n#undef\n#define F(a,a) a\n#define G(a b) a\n#define H(a\n" +
        "#define I(1) x\n#foo\n#ifdef\n#endif\n#ifdef 3\n#endif\n#define X 1\n#define X 2\n#include\n#include foo\n#line x\n",
    },
  ],
  [
    "extra tokens after directives",
    { "x.c": "#if 1\n#else junk\n#endif junk\n#ifdef A B\n#endif\n#undef A B\n" },
  ],
  ["invalid pastes", { "p.c": "#define CAT(a,b) a##b\nCAT(+,-)\nCAT(.,.)\nCAT(/,/)\n" }],
  // (Operand ranges are drawn on the main line only, not again inside each macro's body.)
  [
    "error through nested macros",
    {
      "n.c":
        "#define DIV(x) (1 / (x))\n#define ZERO 0\n#if DIV(ZERO)\n#endif\n#define BAD(x) x ## +\nBAD(a)\n",
    },
  ],
  [
    "defined from macros",
    {
      "d.c":
        "#define FOO 1\n#define HAS(x) defined(x)\n#define D defined\n#if HAS(FOO)\nyes1\n#endif\n" +
        "#if HAS(BAR)\nno\n#endif\n#if D FOO && D(FOO)\nyes2\n#endif\n",
    },
  ],
  [
    "macro redefinition",
    {
      "r.c":
        "#define A 1\n#define A 2\n#define F(x) x\n#define F(y) y\n#define G(x)  x\n#define G(x) x\n",
    },
  ],
  [
    "_Pragma errors",
    {
      "g.c":
        '_Pragma("GCC error \\"stop here\\"")\n_Pragma("GCC warning \\"careful\\"")\n_Pragma(1)\n#pragma GCC error "in directive"\n',
    },
  ],
  [
    "UTF-8 before the place: columns count bytes",
    { "u.c": "#if /* \u00e9t\u00e9 \u20ac */ 1 +\n#endif\n#if 1 /* \u{1f600} */ 2\n#endif\n" },
  ],
  ["a byte order mark", { "b.c": "\ufeff#if 1 +\n#endif\n" }],
  ["tabs in the source line", { "t.c": "\tint x;\n#if\t1 +\t\n#endif\n" }],
];

/** The "file:line:col: severity: message" lines of a rendering. */
function headers(rendered: string): string[] {
  return rendered
    .split("\n")
    .filter((l) => /^\S+:\d+:\d+: (error|warning|note|fatal error): /.test(l));
}

describe.skipIf(!hasClang)("preprocessor diagnostics, word for word as clang prints them", () => {
  it("feature checks misused: clang's first error for each (it adds follow-up errors we do not)", () => {
    const { ours, clang } = both({
      "f.c":
        "#if __has_builtin\n#endif\n#if __has_builtin(x\n#endif\n#if __has_include(nope)\n#endif\n" +
        "#if __has_include\n#endif\n#if __has_attribute(1)\n#endif\n#if __has_feature(a b)\n#endif\n",
    });
    const theirs = headers(clang);
    const mine = headers(ours);
    expect(mine).toHaveLength(7);
    let k = 0;
    for (const line of mine) {
      while (k < theirs.length && theirs[k] !== line) k++;
      expect(k, `${line} not in clang's output, in order`).toBeLessThan(theirs.length);
    }
  });

  for (const [name, contents] of cases) {
    it(name, () => {
      const { ours, clang } = both(contents);
      if (name === "error through nested macros") {
        const caretsOnly = (text: string) => text.replace(/~/g, " ").replace(/ +$/gm, "");
        expect(caretsOnly(ours)).toBe(caretsOnly(clang));
      } else {
        expect(ours).toBe(clang);
      }
    });
  }
});

describe("model and rendering", () => {
  const source = "int main(void) {\n\treturn x + 1;\n}\n";
  const sources = (file: string) => (file === "m.c" ? source : undefined);

  it("renders errors, warnings, ranges, notes and the summary as clang does", () => {
    const bag = new DiagnosticBag();
    bag.add({
      severity: "error",
      message: "use of undeclared identifier 'x'",
      loc: { file: "m.c", line: 2, col: 9 },
      range: { startCol: 9, endCol: 14 },
      notes: [note({ file: "m.c", line: 1, col: 5 }, "in this function")],
    });
    bag.warning({ file: "m.c", line: 1, col: 1 }, "something odd", "-Wodd");
    expect(renderDiagnostics(bag.items, sources)).toBe(
      [
        "m.c:2:9: error: use of undeclared identifier 'x'",
        "        return x + 1;",
        "               ^~~~~",
        "m.c:1:5: note: in this function",
        "int main(void) {",
        "    ^",
        "m.c:1:1: warning: something odd [-Wodd]",
        "int main(void) {",
        "^",
        "1 warning and 1 error generated.",
        "",
      ].join("\n"),
    );
    expect(bag.errorCount).toBe(1);
    expect(bag.warningCount).toBe(1);
  });

  it("counts as clang does", () => {
    expect(summary(1, 0)).toBe("1 error generated.");
    expect(summary(2, 0)).toBe("2 errors generated.");
    expect(summary(0, 1)).toBe("1 warning generated.");
    expect(summary(3, 2)).toBe("2 warnings and 3 errors generated.");
    expect(summary(0, 0)).toBe("");
  });

  it("prints what it can without the source, and diagnostics without a place", () => {
    const bag = new DiagnosticBag();
    bag.error({ file: "gone.c", line: 3, col: 4 }, "bad");
    bag.error(undefined, "no input files");
    expect(renderDiagnostics(bag.items)).toBe(
      "gone.c:3:4: error: bad\nerror: no input files\n2 errors generated.\n",
    );
  });

  it("CompileError is a TsbpfError naming the first error's place", () => {
    const bag = new DiagnosticBag();
    bag.warning({ file: "m.c", line: 1, col: 1 }, "first a warning");
    bag.error({ file: "m.c", line: 2, col: 9 }, "use of undeclared identifier 'x'");
    bag.error({ file: "m.c", line: 2, col: 13 }, "another");
    expect(() => bag.throwIfErrors(sources)).toThrow(CompileError);
    try {
      bag.throwIfErrors(sources);
    } catch (e) {
      expect(e).toBeInstanceOf(TsbpfError);
      const error = e as CompileError;
      expect(error.message).toBe(
        "m.c:2:9: error: use of undeclared identifier 'x' (and 1 more error)",
      );
      expect(error.diagnostics).toHaveLength(3);
      expect(error.render()).toContain("2 errors generated.");
    }
    new DiagnosticBag().throwIfErrors(); // nothing to throw
  });
});
