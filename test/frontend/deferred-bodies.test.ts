// Record bodies read past (compiler/parse-skim.ts, sema-skim.ts) change only when their members
// are parsed: against the same front end with every body parsed where it is (deferBodies:
// false), a vmlinux.h, the corpus programs, bodies with something wrong in them and thousands
// of mutated ones give the same diagnostics and the same records (sizes, alignments, members
// and their types), and a body keeps the meaning it had where it was written.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { ExternalDecl, RecordSpec } from "../../compiler/ast.js";
import { renderDiagnostics } from "../../compiler/diagnostics.js";
import { compile } from "../../compiler/compile.js";
import { checkProgram, FrontendCache, type FrontendOptions } from "../../compiler/frontend.js";
import { canonical, typeToString, type RecordDecl } from "../../compiler/types.js";
import { makePrng } from "../../runtime/object/fuzz.js";

const root = join(import.meta.dirname, "..", "..");
const archInclude = "/usr/include/x86_64-linux-gnu";
const dir = mkdtempSync(join(tmpdir(), "tsbpf-deferred-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  diagnostics: string;
  /** One line per record the front end defined: its layout and its members'. */
  records: string[];
  /** Record definitions in the unit's declarations: read past, and parsed at once. */
  deferred: number;
  parsed: number;
}

function frontEnd(
  source: string,
  deferBodies: boolean,
  opts: FrontendOptions = {},
  file = join(dir, "test.c"),
): Outcome {
  const p = checkProgram({ file, source }, { ...opts, cache: false, deferBodies });
  let deferred = 0;
  let parsed = 0;
  for (const d of p.unit?.decls ?? []) {
    const spec = (d as ExternalDecl & { spec?: { typeSpec: unknown } }).spec;
    const ts = spec?.typeSpec as RecordSpec | null | undefined;
    if (ts?.kind !== "Record") continue;
    if (ts.deferred !== undefined) deferred++;
    else if (ts.members !== null) parsed++;
  }
  // Asking every record for its layout parses every body read past.
  const records = (p.sema?.records ?? []).filter((r) => r.tag !== undefined).map(recordLine);
  return {
    diagnostics: renderDiagnostics(p.diagnostics.items),
    records: records.sort(),
    deferred,
    parsed,
  };
}

function recordLine(r: RecordDecl): string {
  return `${r.isUnion ? "union" : "struct"} ${r.tag ?? "<anonymous>"}: ${describeRecord(r)}`;
}

function describeRecord(r: RecordDecl): string {
  if (!r.complete) return "incomplete";
  const members = (r.members ?? []).map((m) => {
    const c = canonical(m.type);
    const type =
      m.name === undefined && c.kind === "record"
        ? `{${describeRecord(c.decl)}}`
        : typeToString(m.type);
    return `${m.name ?? "_"}@${m.bitOffset}${m.bitWidth !== undefined ? `:${m.bitWidth}` : ""} ${type}`;
  });
  return `size ${r.size} align ${r.align}${r.packed ? " packed" : ""} [${members.join(", ")}]`;
}

/** Both ways; the outcomes must match. Returns the deferred one. */
function bothWays(source: string, opts: FrontendOptions = {}): Outcome {
  const deferred = frontEnd(source, true, opts);
  const parsed = frontEnd(source, false, opts);
  expect(deferred.diagnostics).toEqual(parsed.diagnostics);
  expect(deferred.records).toEqual(parsed.records);
  expect(parsed.deferred).toBe(0);
  return deferred;
}

const bpftool = spawnSync("bpftool", ["version"]).status === 0;
const hasVmlinux = bpftool && existsSync("/sys/kernel/btf/vmlinux");
if (!hasVmlinux)
  console.log("vmlinux.h comparison skipped: needs bpftool and /sys/kernel/btf/vmlinux");

describe.skipIf(!hasVmlinux)("this kernel's vmlinux.h", () => {
  test("nearly every body is read past, and every record comes out as when parsed at once", () => {
    const dump = spawnSync(
      "bpftool",
      ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
      { encoding: "utf8", maxBuffer: 1 << 28 },
    );
    writeFileSync(join(dir, "vmlinux.h"), dump.stdout);
    const o = bothWays(`#include "vmlinux.h"\n`, { includeDirs: [dir] });
    expect(o.diagnostics).toBe("");
    expect(o.records.length).toBeGreaterThan(5000);
    // The bodies with attributes, nested named records and the like are parsed at once.
    expect(o.deferred / (o.deferred + o.parsed)).toBeGreaterThan(0.95);
  }, 120_000);
});

describe("the corpus programs and samples", () => {
  const sets: [string, string[]][] = [
    [join(root, "test", "corpus", "programs"), [archInclude, join(root, "samples", "include")]],
    [join(root, "samples"), [archInclude, join(root, "samples", "include")]],
    [join(root, "test", "core", "tools"), [join(root, "samples", "include")]],
  ];
  for (const [programs, includeDirs] of sets) {
    const files = readdirSync(programs).filter((f) => f.endsWith(".bpf.c"));
    test(`${files.length} programs of ${programs.replace(root + "/", "")} check the same`, () => {
      for (const f of files) {
        const p = join(programs, f);
        const source = `#include "${p}"\n`;
        const opts = { includeDirs, defines: ["__TARGET_ARCH_x86"] };
        const deferred = frontEnd(source, true, opts);
        const parsed = frontEnd(source, false, opts);
        expect({ f, ...deferred, deferred: 0, parsed: 0 }).toEqual({
          f,
          ...parsed,
          deferred: 0,
          parsed: 0,
        });
      }
    }, 120_000);
  }
});

describe("objects", () => {
  const sets: [string, string[]][] = [
    [join(root, "samples"), [archInclude, join(root, "samples", "include")]],
    [join(root, "test", "core", "tools"), [join(root, "samples", "include")]],
  ];
  for (const [programs, includeDirs] of sets) {
    const files = readdirSync(programs).filter((f) => f.endsWith(".bpf.c"));
    test(`${files.length} programs of ${programs.replace(root + "/", "")} compile to the same bytes`, () => {
      const opts = { includeDirs, defines: ["__TARGET_ARCH_x86"], cache: false as const };
      for (const f of files) {
        const deferred = compile(join(programs, f), { ...opts, deferBodies: true }).object;
        const parsed = compile(join(programs, f), { ...opts, deferBodies: false }).object;
        expect({ f, same: Buffer.compare(deferred, parsed) === 0 }).toEqual({ f, same: true });
      }
    }, 120_000);
  }
});

// Each body has one thing wrong that the skims must see (and so leave to the usual check).
const wrongBodies: [string, string][] = [
  ["unknown type name", "struct s { foo_t a; };"],
  ["incomplete struct member", "struct t; struct s { struct t a; };"],
  ["array of incomplete elements", "struct t; struct s { int x; struct t a[2]; };"],
  ["void member", "struct s { void a; };"],
  ["the record itself by value", "struct s { int x; struct s a; };"],
  ["incomplete enum member", "enum e; struct s { enum e a; };"],
  ["duplicate member", "struct s { int a; long b, a; };"],
  ["duplicate function pointer name", "struct s { void (*f)(void); int f; };"],
  ["anonymous member redeclares", "struct s { int a; union { int a; long b; }; };"],
  ["nested anonymous redeclares", "struct s { union { struct { int a; }; int a; }; };"],
  ["bit-field wider than char", "struct s { char a: 9; };"],
  ["bit-field wider than int", "typedef unsigned int u32; struct s { u32 a: 33; };"],
  ["_Bool bit-field of 2", "struct s { _Bool b: 2; };"],
  ["named zero-width bit-field", "struct s { int a: 0; };"],
  ["bit-field of pointer type", "struct s { int *a: 3; };"],
  ["bit-field array", "struct s { int a[2]: 3; };"],
  ["bit-field of struct type", "typedef struct { int x; } t; struct s { t a: 3; };"],
  ["bit-field of incomplete enum", "enum e; struct s { enum e a: 3; };"],
  ["bit-field of float", "struct s { float a: 3; };"],
  ["tag of the wrong kind", "union u { int x; }; struct s { struct u a; };"],
  ["enum named as a struct", "enum e { A }; struct s { struct e *a; };"],
  ["'void' after a parameter", "struct s { void (*f)(int, void); };"],
  ["'const void' parameter", "struct s { void (*f)(const void); };"],
  ["'void' before '...'", "struct s { void (*f)(void, ...); };"],
  ["qualified void typedef parameter", "typedef const void cv; struct s { void (*f)(cv); };"],
  ["function returning an array", "typedef int arr[2]; struct s { arr (*f)(void); };"],
  ["function returning a function", "typedef int fn(int); struct s { fn (*f)(void); };"],
  ["member of function type", "typedef int fn(int); struct s { fn f; };"],
  ["undeclared tag in a parameter", "struct s { void (*f)(struct nowhere *); };"],
  ["duplicate 'const'", "struct s { const const int a; };"],
  ["duplicate 'volatile' after '*'", "struct s { int * volatile volatile a; };"],
  ["'long char'", "struct s { long char a; };"],
  ["'unsigned float'", "struct s { unsigned float a; };"],
  ["'short long'", "struct s { short long a; };"],
  ["type after a typedef name", "typedef int t; struct s { t int a; };"],
  ["extra ';'", "struct s { int a;; };"],
  ["missing ';' before '}'", "struct s { int a };"],
  ["declares nothing", "struct s { int; };"],
  ["negative array size", "struct s { int a[-1]; };"],
  ["flexible array not at the end", "struct s { int a[]; int b; };"],
  ["flexible array alone", "struct s { int a[]; };"],
  ["no type", "struct s { const a; };"],
  ["integer too large", "struct s { char a[99999999999999999999]; };"],
];

describe("bodies with something wrong", () => {
  for (const [name, source] of wrongBodies) {
    test(`${name}: reported as when parsed at once`, () => {
      const o = bothWays(source);
      expect(o.diagnostics).not.toBe("");
    });
  }
});

// The skims' forms, each right: read past, and the same records.
const rightBodies: [string, string][] = [
  [
    "plain members",
    "typedef unsigned int u32; struct s { u32 a; const char *name; long b[4][2]; };",
  ],
  [
    "bit-fields",
    "struct s { unsigned int a: 3, b: 5; long: 64; int : 0; _Bool c: 1; char d: 8; };",
  ],
  [
    "anonymous members",
    "struct s { int a; union { long b; struct { short c, d; }; }; struct { int e; } f, *g; };",
  ],
  [
    "function pointers",
    "struct t; typedef int fn(int); struct s { void (*a)(void); int *(*b)(struct t *, const char *, ...); void (*c)(); fn *d; };",
  ],
  [
    "tags and enums",
    "struct t; union u { int x; }; enum e { A = 1 }; struct s { struct t *a; union u b; enum e c: 4; enum e d; };",
  ],
  [
    "qualifiers",
    "struct s { const volatile int a; char * const * volatile b; volatile unsigned long long c; };",
  ],
  ["a typedef name used as a member name", "typedef int t; struct s { long t; };"],
  ["zero-length array", "struct s { int n; char data[0]; };"],
];

describe("bodies of the skims' forms", () => {
  for (const [name, source] of rightBodies) {
    test(`${name}: the same records`, () => {
      const o = bothWays(`${source}\nint size(void) { return sizeof(struct s); }\n`);
      expect(o.diagnostics).toBe("");
    });
  }
  test("a body is read past (the AST shows it)", () => {
    const o = frontEnd(rightBodies[0]![1], true);
    expect(o.deferred).toBe(1);
  });
});

describe("a body means what it meant where it was written", () => {
  test("a name declared as a typedef after the body is still a member name in it", () => {
    const o = bothWays(
      "struct s { int t; long u; };\ntypedef char t;\nint f(void) { struct s x = { 1, 2 }; return x.t + sizeof(struct s); }\n",
    );
    expect(o.diagnostics).toBe("");
    expect(o.deferred).toBe(1);
  });
  test("a typedef redeclared as a variable after the body (an error) does not change it", () => {
    const o = bothWays(
      "typedef int t;\nstruct s { t a; t b; };\nint t;\nint f(void) { return sizeof(struct s); }\n",
    );
    expect(o.diagnostics).toContain("redefinition of 't' as different kind of symbol");
    expect(o.records).toEqual(["struct s: size 8 align 4 [a@0 t, b@32 t]"]);
  });
  test("a struct defined after the body is still incomplete in it, and reported", () => {
    const o = bothWays("struct t;\nstruct s { struct t a; };\nstruct t { int x; };\n");
    expect(o.diagnostics).toContain("field has incomplete type 'struct t'");
  });
});

describe("the prefix cache", () => {
  // The first compile uses `struct used` only; `struct later` is parsed in the second, which
  // goes on from the first's parser and sema states. Whether or not the first redeclares t
  // after the cut (an error), the body means what it did.
  for (const [what, extra] of [
    ["after a clean compile", ""],
    ["after a compile that redeclares its typedef", "int t;\n"],
  ] as const) {
    test(`a body read past in a cached header is parsed in a later compile ${what}`, () => {
      writeFileSync(
        join(dir, "defs.h"),
        "typedef int t;\nstruct used { t a; };\nstruct later { t a; t b; char c[3]; };\n",
      );
      const opts = { includeDirs: [dir] };
      const cache = new FrontendCache();
      const first = checkProgram(
        {
          file: join(dir, "first.c"),
          source: `#include "defs.h"\n${extra}int f(void) { return sizeof(struct used); }\n`,
        },
        { ...opts, cache },
      );
      expect(first.diagnostics.errorCount).toBe(extra === "" ? 0 : 1);
      const source = '#include "defs.h"\nint g(void) { return sizeof(struct later); }\n';
      const second = checkProgram({ file: join(dir, "first.c"), source }, { ...opts, cache });
      expect(cache.hits).toBe(1);
      expect(cache.semaHits).toBe(1);
      expect(second.diagnostics.items).toEqual([]);
      const later = second.sema!.records.find((r) => r.tag === "later")!;
      expect(recordLine(later)).toBe("struct later: size 12 align 4 [a@0 t, b@32 t, c@64 char[3]]");
      const uncached = frontEnd(source, false, opts, join(dir, "first.c"));
      expect(uncached.records).toContain(recordLine(later));
    });
  }
});

// A header's token objects appear again at each of its inclusions (and in later compiles, through
// the prefix cache): what one place makes of a token must not change another's (found by review).
describe("token objects that appear in more than one place", () => {
  const header = (name: string, text: string): void => writeFileSync(join(dir, name), text);

  test("a header read first in a body parsed at once, then in a body read past", () => {
    header("fields.h", "t a;\nlong b;\n");
    const o = bothWays(
      "typedef int t;" +
        '\nstruct first {\n  char buf[2 * 8];\n#include "fields.h"\n};\n' +
        'struct second {\n#include "fields.h"\n};\nint g(void) { return sizeof(struct second); }\n',
      { includeDirs: [dir] },
    );
    expect(o.diagnostics).toBe("");
    expect(o.deferred).toBe(1);
    expect(o.records).toContain("struct second: size 16 align 8 [a@0 t, b@64 long]");
  });

  test("a typedef name in a body read past, then a variable's name in a function", () => {
    header("tok.h", "t\n");
    const o = bothWays(
      'typedef int t;\nstruct s {\n#include "tok.h"\n a; long b; };\n' +
        'int f(void) { int t = 3; return\n#include "tok.h"\n; }\n' +
        "int g(void) { return sizeof(struct s); }\n",
      { includeDirs: [dir] },
    );
    expect(o.diagnostics).toBe("");
    expect(o.records).toEqual(["struct s: size 16 align 8 [a@0 t, b@64 long]"]);
  });

  test("through the prefix cache: a name in one compile, a body read past in the next", () => {
    header("tok.h", "t\n");
    header(
      "defs6.h",
      '#ifndef DEFS6\n#define DEFS6\ntypedef int t;\nstruct s {\n#include "tok.h"\n a; long b; };\n#endif\n',
    );
    const cache = new FrontendCache();
    const file = join(dir, "cached.c");
    const opts = { includeDirs: [dir], cache };
    const run = (body: string) =>
      checkProgram({ file, source: `#include "defs6.h"\n${body}` }, opts);
    expect(run("int f(void) { return 1; }\n").diagnostics.items).toEqual([]);
    expect(run('int f(int t) { return\n#include "tok.h"\n; }\n').diagnostics.items).toEqual([]);
    const source = "int g(void) { return sizeof(struct s); }\n";
    for (let i = 0; i < 2; i++) {
      const p = run(source);
      expect(p.diagnostics.items).toEqual([]);
      expect(recordLine(p.sema!.records.find((r) => r.tag === "s")!)).toBe(
        "struct s: size 16 align 8 [a@0 t, b@64 long]",
      );
    }
    expect(cache.hits).toBe(3);
  });

  test("through the prefix cache: a macro defined after a cached header expands its tokens", () => {
    header("fields3.h", "t a;\nt b;\n");
    header(
      "defs4.h",
      '#ifndef DEFS4\n#define DEFS4\ntypedef int t;\nstruct s {\n#include "fields3.h"\n};\n#endif\n',
    );
    const cache = new FrontendCache();
    const file = join(dir, "macro.c");
    const opts = { includeDirs: [dir], cache };
    checkProgram({ file, source: '#include "defs4.h"\nint f(void) { return 1; }\n' }, opts);
    const source =
      '#include "defs4.h"\n#define t char\nstruct other {\n#include "fields3.h"\n};\n' +
      "int g(void) { return sizeof(struct other); }\n";
    const cached = checkProgram({ file, source }, opts);
    expect(cache.hits).toBe(1);
    const other = cached.sema!.records.find((r) => r.tag === "other")!;
    expect(recordLine(other)).toBe("struct other: size 2 align 1 [a@0 char, b@8 char]");
    expect(frontEnd(source, false, { includeDirs: [dir] }, file).records).toContain(
      recordLine(other),
    );
  });
});

// Mutated bodies: tokens of the skims' grammar (and some not) deleted, repeated or replaced in
// a body no code uses, so that a body the skims let through wrongly would lose its diagnostics.
const mutationSeed = `typedef unsigned int u32;
typedef int fn(int);
struct t;
union u { int x; };
enum e { A, B };
struct s {
  u32 a;
  const char *name;
  long b[4][2];
  unsigned int c: 3, d: 5;
  long: 64;
  union { long l; struct { short h, k; }; };
  struct { int e; } f, *g;
  void (*cb)(struct t *, const char *, ...);
  int *(*get)(void);
  enum e kind: 4;
  union u v;
  char tail[0];
};
`;

const pieces = [
  "u32",
  "fn",
  "int",
  "void",
  "char",
  "long",
  "short",
  "unsigned",
  "_Bool",
  "float",
  "const",
  "volatile",
  "struct",
  "union",
  "enum",
  "t",
  "u",
  "e",
  "s",
  "a",
  "x",
  "*",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ";",
  ",",
  ":",
  "...",
  "0",
  "1",
  "3",
  "33",
  "-1",
  "=",
  "__attribute__((packed))",
];

describe("mutated bodies", () => {
  test("1,500 mutants of a body report the same diagnostics and define the same records", () => {
    const head = mutationSeed.slice(0, mutationSeed.indexOf("struct s {") + "struct s {".length);
    const body = mutationSeed.slice(head.length).match(/[A-Za-z_]\w*|\d+|\.\.\.|\S/g)!;
    const random = makePrng(20261122);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let reported = 0;
    let readPast = 0;
    for (let n = 0; n < 1500; n++) {
      const tokens = body.slice();
      const edits = 1 + Math.floor(random() * 3);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(random() * tokens.length);
        const what = random();
        if (what < 0.3) tokens.splice(at, 1);
        else if (what < 0.5) tokens.splice(at, 0, tokens[at]!);
        else if (what < 0.8) tokens[at] = pick(pieces);
        else tokens.splice(at, 0, pick(pieces));
      }
      const source = `${head} ${tokens.join(" ")}\n`;
      const deferred = frontEnd(source, true);
      const parsed = frontEnd(source, false);
      expect({ source, diagnostics: deferred.diagnostics, records: deferred.records }).toEqual({
        source,
        diagnostics: parsed.diagnostics,
        records: parsed.records,
      });
      if (deferred.diagnostics !== "") reported++;
      if (deferred.deferred > 0) readPast++;
    }
    // Both kinds are there in numbers: the comparison is not vacuous.
    expect(reported).toBeGreaterThan(500);
    expect(readPast).toBeGreaterThan(100);
  }, 120_000);
});
