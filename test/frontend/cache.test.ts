// The front end's prefix cache (compiler/frontend.ts): a compile that goes on from the cached
// state after the main file's leading #include lines gives the object and the diagnostics a
// compile without the cache gives, and the state is not used once a file it read, a -D, the
// text before the cut or anything else it depends on is different.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { compile, type CompileOptions } from "../../compiler/compile.js";
import { CompileError } from "../../compiler/diagnostics.js";
import { PRELUDE, SNIPPETS } from "../codegen/snippets.js";
import {
  checkProgram,
  FrontendCache,
  leadingIncludes,
  type FrontendOptions,
} from "../../compiler/frontend.js";
import {
  preprocess,
  resumePreprocess,
  type PreprocessSnapshot,
} from "../../compiler/preprocess.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const archInclude = "/usr/include/x86_64-linux-gnu";
const hasLibbpf = existsSync("/usr/include/bpf/bpf_helpers.h");
if (!hasLibbpf) console.log("corpus cache tests skipped: libbpf-dev is not installed");

const OPTIONS: CompileOptions = {
  includeDirs: [archInclude, join(root, "samples", "include")],
  defines: ["__TARGET_ARCH_x86"],
  optLevel: 2,
  cpu: "v3",
  debug: true,
};

const programs = [
  ...readdirSync(join(root, "test", "corpus", "programs"))
    .filter((f) => f.endsWith(".bpf.c"))
    .map((f) => join(root, "test", "corpus", "programs", f)),
  ...readdirSync(join(root, "samples"))
    .filter((f) => f.endsWith(".bpf.c"))
    .map((f) => join(root, "samples", f)),
].sort();

/** The diagnostics of a compile as data (a CompileError's too). */
function outcome(run: () => { object: Uint8Array; diagnostics: unknown }): {
  object: number[] | undefined;
  diagnostics: string;
} {
  try {
    const r = run();
    return { object: [...r.object], diagnostics: JSON.stringify(r.diagnostics) };
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return { object: undefined, diagnostics: JSON.stringify(e.diagnostics) };
  }
}

function checked(
  file: string,
  source: string | undefined,
  opts: FrontendOptions,
): { diagnostics: string; decls: number; lines: number } {
  const p = checkProgram(source === undefined ? { file } : { file, source }, opts);
  return {
    diagnostics: JSON.stringify(p.diagnostics.items),
    decls: p.unit?.decls.length ?? -1,
    lines: p.lines,
  };
}

describe.skipIf(!hasLibbpf)("corpus: cached compiles give the uncached object", () => {
  const cache = new FrontendCache();
  test.each(programs.map((p) => [p.slice(root.length + 1), p]))("%s", (_name, path) => {
    const reference = outcome(() => compile(path, { ...OPTIONS, cache: false }));
    const hits = cache.hits;
    const semaHits = cache.semaHits;
    const first = outcome(() => compile(path, { ...OPTIONS, cache }));
    const second = outcome(() => compile(path, { ...OPTIONS, cache }));
    const third = outcome(() => compile(path, { ...OPTIONS, cache }));
    expect(first).toEqual(reference);
    expect(second).toEqual(reference);
    expect(third).toEqual(reference);
    // Every corpus program starts with #include lines whose state can be kept.
    expect(cache.hits).toBe(hits + 2);
    // ... and none declares again, after them, what a header declared: sema goes on too (in
    // the first compile as well, when it went on from another program's first #include line).
    expect(cache.semaHits).toBeGreaterThanOrEqual(semaHits + 2);
  });
});

describe.skipIf(!hasLibbpf)("one file name, many programs after the same #include lines", () => {
  // The differential snippets share their first lines: each compile goes on from the state the
  // previous ones left (sema's included), and must give the object a compile without it gives.
  test("every codegen snippet in a row", () => {
    const cache = new FrontendCache();
    const opts: CompileOptions = { includeDirs: [archInclude], defines: ["__TARGET_ARCH_x86"] };
    for (const snippet of SNIPPETS) {
      const source = PRELUDE + snippet.source;
      const reference = outcome(() =>
        compile({ file: "prog.c", source }, { ...opts, cache: false }),
      );
      expect(outcome(() => compile({ file: "prog.c", source }, { ...opts, cache }))).toEqual(
        reference,
      );
    }
    expect(cache.semaHits).toBe(SNIPPETS.length - 1);
  });
});

// An in-memory file system, to change files between compiles (one reader per file set: the
// cache keys its states by the reader too).
const readers = new WeakMap<Record<string, string>, (path: string) => string | undefined>();
function memoryFs(files: Record<string, string>): (path: string) => string | undefined {
  let reader = readers.get(files);
  if (reader === undefined) readers.set(files, (reader = (path) => files[path]));
  return reader;
}

const header = `#ifndef H_H
#define H_H
#ifdef BIG
typedef long num_t;
#else
typedef int num_t;
#endif
#define TWICE(x) ((x) + (x))
struct pair { num_t a, b; };
static inline int inc(int v) { return v + 1; }
#endif
`;

const main = `// a program
#include "h.h"
/* comment */
#include "other.h"

int size = sizeof(struct pair);
int f(void) { return TWICE(inc(1)); }
`;

/** checkProgram with and without `cache`: equal results; returns the cached one. */
function same(files: Record<string, string>, opts: FrontendOptions, cache: FrontendCache) {
  const readFile = memoryFs(files);
  const plain = checked("/src/main.c", files["/src/main.c"], {
    ...opts,
    readFile,
    cache: false,
  });
  const cached = checked("/src/main.c", files["/src/main.c"], { ...opts, readFile, cache });
  expect(cached).toEqual(plain);
  return cached;
}

describe("what a cached state depends on", () => {
  const base = (): Record<string, string> => ({
    "/src/main.c": main,
    "/src/h.h": header,
    "/src/other.h": "extern int other;\n",
  });

  test("the same program twice: the second compile goes on from the state", () => {
    const cache = new FrontendCache();
    const files = base();
    same(files, {}, cache);
    // Its own state, and the one after its first #include line (shared with other files).
    expect(cache.stores).toBe(2);
    same(files, {}, cache);
    expect(cache.hits).toBe(1);
  });

  test("a header with a different text is read again", () => {
    const cache = new FrontendCache();
    const files = base();
    same(files, {}, cache);
    files["/src/h.h"] = header.replace("num_t a, b;", "num_t a, b, c;");
    const r = same(files, {}, cache);
    expect(cache.hits).toBe(0);
    expect(cache.misses).toBe(2);
    expect(r.diagnostics).toBe("[]");
  });

  test("a -D the header tests makes another state", () => {
    const cache = new FrontendCache();
    const files = base();
    same(files, {}, cache);
    same(files, { defines: ["BIG"] }, cache);
    expect(cache.hits).toBe(0);
    same(files, { defines: ["BIG"] }, cache);
    same(files, {}, cache);
    expect(cache.hits).toBe(2);
  });

  test("a -U, -I, -O or reader change makes another state", () => {
    const cache = new FrontendCache();
    const files = base();
    same(files, {}, cache);
    same(files, { undefines: ["BIG"] }, cache);
    same(files, { includeDirs: ["/inc"] }, cache);
    same(files, { optimize: true }, cache);
    expect(cache.hits).toBe(0);
  });

  test("a header that appears where the search found none before is read", () => {
    const cache = new FrontendCache();
    const files = base();
    delete files["/src/other.h"];
    files["/inc/other.h"] = "extern int other;\n";
    same(files, { includeDirs: ["/inc"] }, cache);
    // other.h now in the includer's directory, which is searched before -I.
    files["/src/other.h"] = "extern long other;\n";
    same(files, { includeDirs: ["/inc"] }, cache);
    expect(cache.hits).toBe(0);
  });

  test("an edit after the #include lines keeps the state; one before it does not", () => {
    const cache = new FrontendCache();
    const files = base();
    same(files, {}, cache);
    files["/src/main.c"] = main.replace("TWICE(inc(1))", "TWICE(inc(2)) + size");
    same(files, {}, cache);
    expect(cache.hits).toBe(1);
    files["/src/main.c"] = main.replace("/* comment */", "/* another comment */");
    same(files, {}, cache);
    expect(cache.hits).toBe(1);
  });

  test("diagnostics after the cut, and notes pointing into the headers, as without it", () => {
    const cache = new FrontendCache();
    const files = base();
    files["/src/main.c"] = main + "int g(void) { return TWICE(undeclared) + inc(); }\n";
    same(files, {}, cache);
    const r = same(files, {}, cache);
    expect(cache.hits).toBe(1);
    expect(r.diagnostics).toContain("undeclared");
    expect(r.diagnostics).toContain("'inc' declared here");
    files["/src/main.c"] = main + "int h( {\nstruct pair p = { .c = 1 };\n";
    same(files, {}, cache);
    expect(cache.hits).toBe(2);
  });

  test("warnings in the main file's text (lexing) and after the cut", () => {
    const cache = new FrontendCache();
    const files = base();
    files["/src/main.c"] =
      main + "int w(void) { unsigned char c = 300; return c; }\n#warning here\n/* open";
    same(files, {}, cache);
    const r = same(files, {}, cache);
    expect(cache.hits).toBe(1);
    expect(JSON.parse(r.diagnostics).length).toBeGreaterThan(1);
  });

  test("a header that warns: its state is not kept (diagnostics stay exact)", () => {
    const cache = new FrontendCache();
    const files = base();
    files["/src/other.h"] = "#warning from a header\nextern int other;\n";
    same(files, {}, cache);
    same(files, {}, cache);
    // Only the state after the first #include line, before the warning, is kept.
    expect(cache.stores).toBe(1);
    expect(cache.hits).toBe(0);
    expect(cache.sharedHits).toBe(1);
  });

  test("__COUNTER__ and _Pragma in headers; a clock macro keeps nothing", () => {
    const cache = new FrontendCache();
    const files = base();
    files["/src/other.h"] =
      'enum { A = __COUNTER__, B = __COUNTER__ };\n_Pragma("pack(push, 1)")\nstruct p { char c; int i; };\n_Pragma("pack(pop)")\n';
    files["/src/main.c"] = main + "enum { C = __COUNTER__ };\nint k = C + sizeof(struct p);\n";
    same(files, {}, cache);
    same(files, {}, cache);
    expect(cache.hits).toBe(1);
    const clock = new FrontendCache();
    files["/src/other.h"] = "static const char when[] = __TIME__;\n";
    const readFile = memoryFs(files);
    checked("/src/main.c", files["/src/main.c"], { readFile, cache: clock });
    checked("/src/main.c", files["/src/main.c"], { readFile, cache: clock });
    expect(clock.stores).toBe(1); // the state after the first #include line, before the clock
    expect(clock.hits).toBe(0);
  });

  test("sema goes on from the headers' state; a later declaration that changes one of their entities checks the whole unit", () => {
    const cache = new FrontendCache();
    const files = base();
    files["/src/other.h"] = `extern int other;
extern int counter;
int proto(int a, num_t b);
struct later;
enum color { RED, GREEN = 5, BLUE };
typedef struct later later_t;
static inline int uses(struct later *p) { return p != 0; }
`;
    const pure = `${main}enum { C = BLUE + 1 };
typedef struct later later_t;
typedef int num_t;
int tentative;
int tentative;
long arr[];
int w(later_t *p) { return proto(RED, C) + uses(p) + GREEN; }
`;
    // What follows the program, and whether sema goes on from the state (errors change nothing).
    const changes: [string, boolean][] = [
      ["int proto(int a, num_t b) { return a + b; }\n", false],
      ["int counter = 3;\n", false],
      ["int counter;\n", false],
      ["void g(void) { extern int other; other = 1; }\n", false],
      ["struct later { int x; };\nint h(later_t *p) { return p->x; }\n", false],
      ["int proto(int, int);\n", false],
      ["enum color { WHITE };\n", true],
      ["typedef long num_t;\n", true],
      ["int proto(long a, num_t b);\n", true],
    ];
    files["/src/main.c"] = pure;
    same(files, {}, cache);
    expect(cache.stores).toBe(2);
    let semaHits = 0;
    for (const [change, resumes] of changes) {
      files["/src/main.c"] = pure + change;
      same(files, {}, cache);
      if (resumes) semaHits++;
      expect(cache.semaHits).toBe(semaHits);
      // The kept state is unchanged: a compile after one that gave up still goes on from it.
      files["/src/main.c"] = pure;
      same(files, {}, cache);
      expect(cache.semaHits).toBe(++semaHits);
    }
    files["/src/main.c"] = pure + changes[7]![0];
    expect(same(files, {}, cache).diagnostics).toContain("typedef redefinition");
    files["/src/main.c"] = pure + changes[5]![0] + changes[8]![0];
    expect(same(files, {}, cache).diagnostics).toContain("conflicting types");
    expect(cache.semaHits).toBe(semaHits + 1);
    expect(cache.hits).toBe(2 * changes.length + 2);
  });

  test("a state spoiled by the storing compile is not kept; a later compile keeps one", () => {
    const cache = new FrontendCache();
    const files = base();
    files["/src/other.h"] = "int proto(int a);\n";
    files["/src/main.c"] = main + "int proto(int a) { return a; }\n";
    same(files, {}, cache);
    same(files, {}, cache);
    expect(cache.semaHits).toBe(0);
    files["/src/main.c"] = main + "int k(void) { return proto(1); }\n";
    same(files, {}, cache);
    same(files, {}, cache);
    expect(cache.semaHits).toBe(1);
  });

  test("a header sema warns about: its state is not kept", () => {
    const cache = new FrontendCache();
    const files = base();
    files["/src/other.h"] = "int tentative[];\n";
    same(files, {}, cache);
    same(files, {}, cache);
    expect(cache.hits).toBe(1);
    expect(cache.semaHits).toBe(0);
  });

  test("a file on disk rewritten between compiles", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-cache-"));
    try {
      const cache = new FrontendCache();
      const file = join(dir, "main.c");
      writeFileSync(join(dir, "h.h"), "typedef int num_t;\n");
      writeFileSync(file, '#include "h.h"\nint size = sizeof(num_t);\n');
      const opts = { optLevel: 2 as const, cache };
      const a = compile(file, opts).object;
      expect(compile(file, opts).object).toEqual(a);
      expect(cache.hits).toBe(1);
      // Same length, other text.
      writeFileSync(join(dir, "h.h"), "typedef long num_t;\n");
      const b = compile(file, opts).object;
      expect(b).toEqual(compile(file, { optLevel: 2, cache: false }).object);
      expect(b).not.toEqual(a);
      expect(cache.hits).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("compiles that go on from one state at the same time", () => {
  // A resumed compile appends the rest of its main file to the state's own token array. A
  // compile started from inside it (here from its readFile callback) goes on from the same
  // state: it must work on a copy and leave the outer compile's tokens alone.
  test("a compile started from a readFile callback of another", () => {
    const files: Record<string, string> = {
      "/inc/a.h":
        "#ifndef A_H\n#define A_H\ntypedef unsigned int u32;\nstruct pt { u32 a; };\n#endif\n",
      "/inc/b.h": "int from_b;\n",
    };
    const cache = new FrontendCache();
    const prefix = '#include "a.h"\n';
    let inner: string | undefined;
    const readFile = (path: string): string | undefined => {
      if (path === "/inc/b.h" && inner === undefined) {
        inner = checked("/m.c", prefix + "u32 inner1, inner2;\n", opts).diagnostics;
      }
      return files[path];
    };
    const opts: FrontendOptions = { includeDirs: ["/inc"], readFile, cache };
    const names = (source: string, o: FrontendOptions): string[] =>
      checkProgram({ file: "/m.c", source }, o).unit!.decls.flatMap((d) =>
        d.kind === "Declaration" ? d.declarators.map((x) => x.declarator.name ?? "") : [],
      );
    names(prefix + "int s;\n", opts); // stores the state
    const outer = prefix + 'int first;\n#include "b.h"\nint outer;\n';
    const cached = names(outer, opts);
    expect(inner).toBe("[]");
    expect(cache.hits).toBe(2);
    expect(cached).toEqual(names(outer, { ...opts, cache: false }));
    expect(cached.slice(-3)).toEqual(["first", "from_b", "outer"]);
  });
});

describe("leadingIncludes: where the cached prefix ends", () => {
  test.each([
    ['#include "a.h"\nint x;\n', 2],
    ['// c\n#include <a.h>\n/* b\n c */\n#include "b.h"\n#define X 1\nint y;\n', 6],
    ["/* start\n#include <a.h>\n*/ int z;\n", undefined],
    ['#include "a.h" /* open\n*/\nint x;\n', undefined],
    ['#include "a.h"\n#define LONG \\\n  1\n#include "b.h"\n', 2],
    ['#include "a.h"\n#ifdef X\n#include "b.h"\n#endif\n', 2],
    ["int x;\n#include <a.h>\n", undefined],
    ['#include "a.h"', 2],
  ])("%j -> line %s", (text, line) => {
    expect(leadingIncludes(text)?.line).toBe(line);
  });
});

describe("main files of one directory share the state after their first #include line", () => {
  const inner = "int proto(int);\nstruct shape { int w, h; };\n";
  const shared =
    '#ifndef S_H\n#define S_H\n#include "inner.h"\ntypedef unsigned int u32;\n#endif\n';
  const files = (extra: Record<string, string> = {}): Record<string, string> => ({
    "/src/shared.h": shared,
    "/src/inner.h": inner,
    "/src/more.h": "extern int more;\n",
    "/src/a.c": '// a\n#include "shared.h"\n#include "more.h"\nu32 a(void) { return proto(1); }\n',
    // Other comments, the #include line three lines lower, then an error whose note is in a
    // header: its include chain must name b.c and b.c's line.
    "/src/b.c":
      '/* b,\n * another program\n */\n\n#include "shared.h"\n#include "more.h"\nlong proto(int);\nint b(struct shape *s) { return s->w; }\n',
    ...extra,
  });

  /** checkProgram of `file` with `cache` and without: equal; the cached result. */
  function both(all: Record<string, string>, file: string, cache: FrontendCache) {
    const readFile = memoryFs(all);
    const plain = checked(file, undefined, { readFile, cache: false });
    const cached = checked(file, undefined, { readFile, cache });
    expect(cached).toEqual(plain);
    return cached;
  }

  test("another file goes on from it, with its own include chains", () => {
    const cache = new FrontendCache();
    const all = files();
    expect(both(all, "/src/a.c", cache).diagnostics).toBe("[]");
    const b = both(all, "/src/b.c", cache);
    expect(cache.sharedHits).toBe(1);
    expect(JSON.parse(b.diagnostics)[0].message).toContain("conflicting types for 'proto'");
    // b.c's own state was stored too: its next compile goes on from that.
    both(all, "/src/b.c", cache);
    expect(cache.hits).toBe(1);
  });

  test("the include chains of the headers before the cut name the new main file and its line", () => {
    const all = files();
    const options = { readFile: memoryFs(all) };
    let snapshot: PreprocessSnapshot | undefined;
    preprocess({ path: "/src/a.c" }, options, { line: 3, onSnapshot: (s) => (snapshot = s) });
    const text = all["/src/b.c"]!;
    const resumed = resumePreprocess(snapshot!, { text, name: "/src/b.c" }, options, { line: 6 });
    const fresh = preprocess({ path: "/src/b.c" }, options);
    const chain = (r: typeof fresh, file: string) =>
      r.includedFrom(file).map((l) => `${l.file}:${l.line}:${l.col}`);
    for (const file of ["/src/shared.h", "/src/inner.h", "/src/more.h"]) {
      expect(chain(resumed!, file)).toEqual(chain(fresh, file));
    }
    expect(chain(resumed!, "/src/inner.h")).toEqual(["/src/b.c:5:2", "/src/shared.h:3:2"]);
    expect(resumed!.tokens.map((t) => t.image)).toEqual(fresh.tokens.map((t) => t.image));
    // The line it fits is where b.c's first #include line ends, not a.c's.
    expect(resumePreprocess(snapshot!, { text, name: "/src/b.c" }, options)).toBeUndefined();
  });

  test("sema goes on from the shared state, then from the file's own, taken over it", () => {
    const cache = new FrontendCache();
    const all = files({
      "/src/g.c":
        '#include "shared.h"\n#include "more.h"\nint g(struct shape *s) { return proto(s->h) + more; }\n',
    });
    both(all, "/src/a.c", cache);
    expect(cache.semaHits).toBe(0);
    both(all, "/src/g.c", cache);
    expect([cache.sharedHits, cache.semaHits]).toEqual([1, 1]);
    all["/src/g.c"] += "int again(void) { return g(0); }\n";
    both(all, "/src/g.c", cache);
    both(all, "/src/g.c", cache);
    expect([cache.hits, cache.semaHits]).toEqual([2, 3]);
  });

  test("a program whose only #include is the first", () => {
    const cache = new FrontendCache();
    const all = files({
      "/src/c.c": '#include "shared.h"\nint c = sizeof(struct shape);\n',
      "/src/d.c": '\n\n#include "shared.h"\nint d(void) { return proto(2); }\n',
    });
    both(all, "/src/c.c", cache);
    both(all, "/src/d.c", cache);
    both(all, "/src/d.c", cache);
    expect(cache.sharedHits).toBe(2);
  });

  test("not from another directory, another column, __BASE_FILE__ or a changed header", () => {
    const cache = new FrontendCache();
    const all = files({
      "/lib/shared.h": shared.replace("typedef", "typedef long lib_only;\ntypedef"),
      "/lib/inner.h": inner,
      "/lib/more.h": "",
      "/lib/a.c": '#include "shared.h"\n#include "more.h"\nint size = sizeof(lib_only);\n',
      "/src/e.c": ' #include "shared.h"\n#include "more.h"\nint e;\n',
    });
    both(all, "/src/a.c", cache);
    expect(JSON.parse(both(all, "/lib/a.c", cache).diagnostics)).toEqual([]);
    both(all, "/src/e.c", cache); // indented: its tokens are not at the same columns
    expect(cache.sharedHits).toBe(0);

    const base = new FrontendCache();
    const named = files({
      "/src/shared.h": shared + "static const char base[] = __BASE_FILE__;\n",
      "/src/f.c": '#include "shared.h"\n#include "more.h"\nconst char *f = base;\n',
    });
    both(named, "/src/a.c", base);
    both(named, "/src/f.c", base);
    expect(base.sharedHits).toBe(0);

    const edited = files();
    both(edited, "/src/a.c", cache);
    edited["/src/inner.h"] = inner.replace("int w, h;", "int w, h, d;");
    both(edited, "/src/b.c", cache);
    expect(cache.sharedHits).toBe(0);
  });

  // Found by review (helper-32): each failed before the fix.
  describe("what a compile going on from the shared state must not keep or miss", () => {
    /** Compiles `sequence` in order, each with the cache and without: equal every time. */
    function sequence(all: Record<string, string>, files: string[], opts: FrontendOptions = {}) {
      const cache = new FrontendCache();
      const readFile = memoryFs(all);
      for (const file of files) {
        expect({ file, ...checked(file, undefined, { ...opts, readFile, cache }) }).toEqual({
          file,
          ...checked(file, undefined, { ...opts, readFile, cache: false }),
        });
      }
      return cache;
    }

    test("the same file, its first #include line moved down: chains name the new line", () => {
      const all: Record<string, string> = {
        "/d/vmlinux.h": "#define MAX 16\n",
        "/d/more.h": "",
        "/d/prog.c": '#include "vmlinux.h"\n#include "more.h"\n#define MAX 32\nint a[MAX];\n',
      };
      const cache = new FrontendCache();
      const readFile = memoryFs(all);
      const once = () =>
        expect(checked("/d/prog.c", undefined, { readFile, cache })).toEqual(
          checked("/d/prog.c", undefined, { readFile, cache: false }),
        );
      once();
      all["/d/prog.c"] = "// SPDX-License-Identifier: GPL-2.0\n" + all["/d/prog.c"];
      once();
      expect(cache.sharedHits).toBe(1);
    });

    test("a main file that includes itself, or the file that stored the state", () => {
      const h = { "/d/h.h": "typedef int T;\n" };
      sequence(
        {
          ...h,
          "/d/a.c": '#include "h.h"\nint a;\n',
          "/d/b.c":
            '#include "h.h"\n#ifndef ONCE\n#define ONCE\n#include "b.c"\n#else\nint f(void) { return 1 / 0; }\n#endif\n',
        },
        ["/d/a.c", "/d/b.c"],
      );
      sequence(
        {
          ...h,
          "/d/a.c": '#include "h.h"\nint f(void) { return 1 / 0; }\n',
          "/d/b.c": '#include "h.h"\n#include "a.c"\n',
        },
        ["/d/a.c", "/d/b.c"],
      );
    });

    test("a file with nothing after its #include lines keeps its own tokens", () => {
      const cache = sequence(
        {
          "/d/h.h": "typedef int T;\n",
          "/d/g.h": "extern T g;\n",
          "/d/a.c": '#include "h.h"\nT a;\n',
          "/d/c.c": '#include "h.h"\n#include "g.h"\n',
          "/d/b.c": '#include "h.h"\nT b1, b2;\nint f(void) { return undeclared; }\n',
        },
        ["/d/a.c", "/d/c.c", "/d/b.c", "/d/c.c", "/d/b.c", "/d/c.c"],
      );
      expect(cache.hits).toBeGreaterThan(0);
    });

    test("a header's block-scope extern, defined later by one program: not by the others", () => {
      // (helper-33) It is in no file scope; a file-scope definition completes it in place.
      const program =
        '__attribute__((section("xdp"))) int prog(void *ctx) { return use_bx(); }\nchar LICENSE[] __attribute__((section("license"))) = "GPL";\n';
      const all: Record<string, string> = {
        "/d/h.h": "static inline int use_bx(void) { extern int bx; return bx; }\n",
        "/d/a.c": '#include "h.h"\n' + program,
        "/d/b.c": '#include "h.h"\nint bx = 5;\n' + program,
      };
      const cache = new FrontendCache();
      const readFile = memoryFs(all);
      for (const file of ["/d/a.c", "/d/b.c", "/d/a.c", "/d/b.c", "/d/a.c"]) {
        const plain = outcome(() => compile(file, { readFile, cache: false }));
        expect({ file, ...outcome(() => compile(file, { readFile, cache })) }).toEqual({
          file,
          ...plain,
        });
      }
      all["/d/a.c"] = '#include "h.h"\nlong bx;\n' + program;
      sequence(all, ["/d/b.c", "/d/a.c"]);
    });

    test("an #include line that names its header with __LINE__", () => {
      const cache = sequence(
        {
          "/d/1": "typedef int T;\n",
          "/d/3": "typedef char T;\nint only_in_h3;\n",
          "/d/a.c": "#include HDR\nint a = sizeof(T);\n",
          "/d/b.c": "// b\n\n#include HDR\nint b = only_in_h3;\n",
        },
        ["/d/a.c", "/d/b.c"],
        { defines: ["STR(x)=#x", "XSTR(x)=STR(x)", "HDR=XSTR(__LINE__)"] },
      );
      expect(cache.sharedHits).toBe(0);
    });
  });

  test.skipIf(!hasLibbpf)(
    "the libbpf-tools programs, one after another and again: the bytes of compiles without it",
    () => {
      const tools = join(root, "test", "core", "tools");
      const opts: CompileOptions = { ...OPTIONS, includeDirs: [join(root, "samples", "include")] };
      const cache = new FrontendCache();
      const names = readdirSync(tools).filter((f) => f.endsWith(".bpf.c"));
      for (const round of [1, 2]) {
        for (const f of names) {
          const plain = outcome(() => compile(join(tools, f), { ...opts, cache: false }));
          expect({
            f,
            round,
            ...outcome(() => compile(join(tools, f), { ...opts, cache })),
          }).toEqual({ f, round, ...plain });
        }
      }
      expect(cache.sharedHits).toBeGreaterThanOrEqual(names.length - 1);
    },
    240_000,
  );
});
