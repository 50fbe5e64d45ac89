// Member names of a record definition: "duplicate member" and "member of anonymous struct
// redeclares" in records with few and with many members (sema compares a few names one by one
// and indexes many), with records defined inside others between the outer record's members.
// Each snippet's lines are clang -target bpf -fsyntax-only's, re-checked where clang is installed.
import { testDiagnosticCases, type DiagnosticCase } from "./sema-harness.js";

// `int m0; int m1; ...` for members first..last-1.
function members(first: number, last: number): string {
  let s = "";
  for (let i = first; i < last; i++) s += ` int m${i};`;
  return s;
}

const cases: DiagnosticCase[] = [
  {
    name: "duplicate of the first of many members",
    source: `struct s {${members(0, 40)} long m0; };\n`,
    expected: [
      "test.c:1:367: error: duplicate member 'm0'",
      "test.c:1:16: note: previous declaration is here",
    ],
  },
  {
    name: "duplicate of a member declared after the record had many",
    source: `struct s {${members(0, 40)} long m35; };\n`,
    expected: [
      "test.c:1:367: error: duplicate member 'm35'",
      "test.c:1:321: note: previous declaration is here",
    ],
  },
  {
    name: "a record defined between members has its own names",
    source: "struct s { int a; struct t { int a; int b; } x; int b; long a; };\n",
    expected: [
      "test.c:1:61: error: duplicate member 'a'",
      "test.c:1:16: note: previous declaration is here",
    ],
  },
  {
    name: "a record with many members defined inside one with few",
    source: `struct s { int m3; struct t {${members(0, 30)} } x; long m3; };\n`,
    expected: [
      "test.c:1:301: error: duplicate member 'm3'",
      "test.c:1:16: note: previous declaration is here",
    ],
  },
  {
    name: "a record defined inside one with many, in a declarator",
    source: `struct s {${members(0, 20)} int (*f)(struct t { int m1; int m1; } *); int m1; };\n`,
    expected: [
      "test.c:1:198: warning: declaration of 'struct t' will not be visible outside of this function [-Wvisibility]",
      "test.c:1:214: error: duplicate member 'm1'",
      "test.c:1:206: note: previous declaration is here",
      "test.c:1:228: error: duplicate member 'm1'",
      "test.c:1:24: note: previous declaration is here",
    ],
  },
  {
    name: "anonymous members nested, with many names",
    source: `struct s {${members(0, 20)} struct { union { int q; int m7; }; int r; }; };\n`,
    expected: [
      "test.c:1:210: error: member of anonymous struct redeclares 'm7'",
      "test.c:1:72: note: previous declaration is here",
    ],
  },
  {
    name: "clang names the anonymous member's kind, not the enclosing record's",
    source: "struct s { int a; union { int a; }; };\n",
    expected: [
      "test.c:1:31: error: member of anonymous union redeclares 'a'",
      "test.c:1:16: note: previous declaration is here",
    ],
  },
  {
    name: "nested anonymous members: the outermost one's kind",
    source:
      "union t { int b; struct { int c; union { int b; }; }; };\nstruct u { int d; struct { union { int d; }; }; };\n",
    expected: [
      "test.c:1:46: error: member of anonymous struct redeclares 'b'",
      "test.c:1:15: note: previous declaration is here",
      "test.c:2:40: error: member of anonymous struct redeclares 'd'",
      "test.c:2:16: note: previous declaration is here",
    ],
  },
];

testDiagnosticCases("member names of a record definition", cases);
