// The preprocessor against clang -E: real headers (the kernel's uapi headers, libbpf's headers, a
// vmlinux.h generated from this machine's BTF), macro cases in the manner of C11 6.10.3's examples,
// #if arithmetic, builtin macros, include search and guards. Outputs are compared as token
// sequences (blank space ignored), clang's output being tokenized by our lexer.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderDiagnostics } from "../../compiler/diagnostics.js";
import { Pragma, lexFile, type CToken } from "../../compiler/lexer.js";
import {
  bundledIncludeDir,
  preprocess,
  printTokens,
  type PreprocessOptions,
  type PreprocessResult,
} from "../../compiler/preprocess.js";

const hasClang = spawnSync("clang", ["--version"]).status === 0;
if (!hasClang) console.log("preprocessor tests against clang skipped: clang is not installed");

const work = mkdtempSync(join(tmpdir(), "tsbpf-pp-"));

/** Writes files (relative names) under a fresh directory; returns that directory. */
function files(contents: Record<string, string>): string {
  const dir = mkdtempSync(join(work, "case-"));
  for (const [name, text] of Object.entries(contents)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Our output as spellings, a Pragma token spelled as the `#pragma ...` line clang prints. */
function spellings(tokens: CToken[]): string[] {
  const out: string[] = [];
  for (const t of tokens) {
    if (t.tokenType === Pragma)
      out.push("#", "pragma", ...(t.payload as CToken[]).map((p) => p.image));
    else out.push(t.image);
  }
  return out;
}

function clangArgs(options: PreprocessOptions): string[] {
  return [
    ...(options.includePaths ?? []).map((d) => `-I${d}`),
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...(options.undefines ?? []).map((u) => `-U${u}`),
  ];
}

/** clang -E -P of a file, as spellings; `cwd` matters for the names __FILE__ gives. */
function clangPreprocess(path: string, options: PreprocessOptions = {}, cwd?: string): string[] {
  const out = execFileSync("clang", ["-target", "bpf", "-E", "-P", ...clangArgs(options), path], {
    maxBuffer: 1 << 30,
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();
  return lexFile(out, "<clang -E>").map((t) => t.image);
}

function ours(path: string, options: PreprocessOptions = {}): PreprocessResult {
  return preprocess({ path }, options);
}

/** The first differing position, shown with context, or "" when equal. */
function firstDifference(a: string[], b: string[]): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return "";
  const around = (x: string[]) => x.slice(Math.max(0, i - 8), i + 8).join(" ");
  return `token ${i}: ours  ...${around(a)}...\n          clang ...${around(b)}...`;
}

function expectSameAsClang(path: string, options: PreprocessOptions = {}): PreprocessResult {
  const result = ours(path, options);
  const rendered = renderDiagnostics(result.diagnostics.items, result.sources);
  expect(rendered, `diagnostics for ${path}`).toBe("");
  expect(firstDifference(spellings(result.tokens), clangPreprocess(path, options)), path).toBe("");
  return result;
}

/** Preprocesses a snippet with both and compares (the snippet may use the given extra files). */
function expectSnippet(
  source: string,
  extra: Record<string, string> = {},
  optionsIn: PreprocessOptions | ((dir: string) => PreprocessOptions) = {},
): string[] {
  const dir = files({ "main.c": source, ...extra });
  const path = join(dir, "main.c");
  const options = typeof optionsIn === "function" ? optionsIn(dir) : optionsIn;
  const result = ours(path, options);
  expect(renderDiagnostics(result.diagnostics.items, result.sources)).toBe("");
  const mine = spellings(result.tokens);
  expect(firstDifference(mine, clangPreprocess(path, options)), source).toBe("");
  return mine;
}

describe.skipIf(!hasClang)("real headers, token for token as clang -E", () => {
  const x86 = "/usr/include/x86_64-linux-gnu";
  const headers: [string, PreprocessOptions][] = [
    ["/usr/include/linux/bpf.h", { includePaths: [x86] }],
    ["/usr/include/linux/ptrace.h", { includePaths: [x86] }],
    ["/usr/include/bpf/bpf_helpers.h", {}],
    ["/usr/include/bpf/bpf_helper_defs.h", {}],
    ["/usr/include/bpf/bpf_tracing.h", { defines: ["__TARGET_ARCH_x86"] }],
    ["/usr/include/bpf/bpf_core_read.h", {}],
    ["/usr/include/bpf/bpf_endian.h", {}],
  ];
  for (const [header, options] of headers) {
    it.skipIf(!existsSync(header))(header, () => {
      const result = expectSameAsClang(header, options);
      expect(result.stats.files).toBeGreaterThan(0);
    });
  }

  it("a BPF program including the libbpf headers and using their macros", () => {
    const dir = files({
      "prog.bpf.c": `
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("kprobe/do_sys_open")
int BPF_KPROBE(trace_open, int dfd, const char *filename, int flags)
{
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  __u64 one = 1, *val;
  bpf_printk("open %s %d", filename, bpf_ntohs(flags));
  val = bpf_map_lookup_elem(&counts, &pid);
  if (val) __sync_fetch_and_add(val, 1);
  else bpf_map_update_elem(&counts, &pid, &one, BPF_ANY);
  return BPF_CORE_READ_BITFIELD_PROBED(ctx, flags) + bpf_core_field_exists(ctx->di);
}

SEC("kretprobe/do_sys_open")
int BPF_KRETPROBE(trace_ret, long ret) { return ret == 0; }

char LICENSE[] SEC("license") = "GPL";
`,
    });
    expectSameAsClang(join(dir, "prog.bpf.c"), {
      includePaths: ["/usr/include/x86_64-linux-gnu"],
      defines: ["__TARGET_ARCH_x86"],
    });
  });

  it("a vmlinux.h generated from this machine's BTF", () => {
    if (!existsSync("/sys/kernel/btf/vmlinux") || spawnSync("bpftool", ["version"]).status !== 0) {
      return console.log("skipped: needs /sys/kernel/btf/vmlinux and bpftool");
    }
    const path = join(work, "vmlinux.h");
    writeFileSync(
      path,
      execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], {
        maxBuffer: 1 << 30,
      }),
    );
    const result = expectSameAsClang(path);
    // Preprocessing speed, the best of three runs.
    let best = result.stats.milliseconds;
    for (let i = 0; i < 2; i++) best = Math.min(best, ours(path).stats.milliseconds);
    const { lines, outputTokens } = result.stats;
    console.log(
      `preprocessed vmlinux.h: ${lines} lines, ${outputTokens} tokens in ${best.toFixed(0)} ms ` +
        `(${Math.round(lines / (best / 1000))} lines/s)`,
    );
  });
});

describe.skipIf(!hasClang)("macro expansion as clang does it", () => {
  const cases: [string, string][] = [
    ["object-like", "#define N 4\n#define M (N * N)\nint a[M]; N M"],
    ["function-like", "#define SQ(x) ((x) * (x))\nSQ(3) SQ(a + b) SQ(SQ(2)) SQ((1, 2))"],
    ["not an invocation without (", "#define F(x) [x]\nF F + 1 (F)(2)"],
    ["invocation across lines", "#define F(a, b) a-b\nF\n(\n1,\n2\n)"],
    ["empty arguments", "#define F(a, b) <a|b>\n#define G() g\nF(,) F( , ) F(x,) F(,y) G() G( )"],
    [
      "nested parentheses in arguments",
      "#define F(a, b) a;b\nF((1, 2), [3]) F(f(x, y), {z}) F(((,)), ())",
    ],
    [
      "stringizing",
      '#define S(x) #x\nS(a + b) S(  a   +  b  ) S("q\\n" \'\\\'\') S() S(L"w" u8"x") S(a\n b)',
    ],
    [
      "stringizing keeps argument unexpanded",
      "#define S(x) #x\n#define XS(x) S(x)\n#define V 42\nS(V) XS(V) XS(__LINE__)",
    ],
    [
      "pasting",
      "#define CAT(a, b) a ## b\nCAT(x, y) CAT(1, 2) CAT(+, =) CAT(-, >) CAT(<<, =) CAT(L, 'a') CAT(u8, \"s\") CAT(, z) CAT(z, ) CAT(,)",
    ],
    [
      "pasting unexpanded arguments",
      "#define CAT(a, b) a ## b\n#define XCAT(a, b) CAT(a, b)\n#define ONE 1\nCAT(ONE, 2) XCAT(ONE, 2) CAT(O, NE)",
    ],
    [
      "chained pasting",
      "#define T(x, y, z) x ## y ## z\nT(1, 2, 3) T(, 4, 5) T(6, , 7) T(8, 9, ) T(, , 10) T(, , )",
    ],
    [
      "pasting into a macro name rescans it",
      "#define AB done\n#define CAT(a, b) a ## b\nCAT(A, B)",
    ],
    [
      "hash_hash through an argument",
      "#define hh # ## #\n#define mk(a) # a\n#define mid(a) mk(a)\n#define j(c, d) mid(c hh d)\nj(p, q)",
    ],
    ["rescanning picks up a following (", "#define f(a) a*g\n#define g(a) f(a)\nf(2)(9)"],
    [
      "recursion stops (blue paint)",
      "#define foo foo\n#define bar baz\n#define baz bar\n#define R(x) R(x) x\nfoo bar baz R(R(1))",
    ],
    ["indirect recursion", "#define a b + a\n#define b a * b\na b"],
    [
      "function-like name produced by expansion",
      "#define ID(x) x\n#define F ID\n#define G(x) F(x)\nF(1) G(2) ID(ID)(3)",
    ],
    [
      "a nested chain in the manner of C11 6.10.3.5",
      "#define x 3\n#define f(a) f(x * (a))\n#undef x\n#define x 2\n#define g f\n#define z z[0]\n#define h g(~\n#define m(a) a(w)\n#define w 0,1\n#define t(a) a\n#define p() int\n#define q(x) x\n#define r(x,y) x ## y\n" +
        "f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);\ng(x+(3,4)-w) | h 5) & m\n(f)^m(m);\np() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };",
    ],
    [
      "variadic",
      "#define V(...) [__VA_ARGS__]\n#define W(a, ...) a:__VA_ARGS__\nV() V(1) V(1, 2, (3, 4)) W(x) W(x, y, z)",
    ],
    [
      "variadic stringized",
      '#define show(...) #__VA_ARGS__\n#define rep(t, ...) ((t) ? #t : f(__VA_ARGS__))\nshow(one, two,  three) rep(x > y, "%d", x)',
    ],
    [
      "GNU comma elision",
      "#define G(fmt, ...) g(fmt, ## __VA_ARGS__)\n#define E(...) e(0, ## __VA_ARGS__)\n#define H(a, args...) h(a, ##args)\nG(x) G(x, y) G(x, y, z) E() E(1) H(x) H(x, 1, 2)",
    ],
    [
      "__VA_OPT__",
      "#define F(a, ...) f(a __VA_OPT__(,) __VA_ARGS__)\n#define V(...) __VA_OPT__(<__VA_ARGS__>)\nF(1) F(1, 2) F(1, 2, 3) V() V(x)",
    ],
    [
      "redefinition with the same spelling is silent",
      "#define A 1 + 2\n#define A 1 + 2\n#define A  1  +  2\nA",
    ],
    ["#undef", "#define A 1\nA\n#undef A\nA\n#undef NEVER_DEFINED\n"],
    [
      "keywords as macro names",
      "#define int long\n#define __inline inline __attribute__((always_inline))\nint x; static __inline void f(void);",
    ],
    [
      "_Pragma",
      '#define DIAG(x) _Pragma(#x)\n#define PUSH _Pragma("GCC diagnostic push")\nPUSH int a; DIAG(GCC diagnostic ignored "-Wunused") int b; _Pragma("unroll")',
    ],
    [
      "pragmas kept in order",
      "#pragma unroll\nfor(;;);\n#pragma clang loop unroll(full)\nwhile(0);\n#pragma GCC diagnostic push\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\nstruct s { int a; };\n#pragma clang attribute pop\n#pragma pack(push, 1)\n",
    ],
    [
      "directives inside macro arguments",
      "#define F(x) [x]\nF(1\n#ifdef F\n+ 2\n#else\n- 2\n#endif\n)",
    ],
    [
      "#if with macros and defined",
      "#define A 2\n#define B\n#if A * 2 == 4 && defined B && defined(A) && !defined C\nyes\n#else\nno\n#endif\n#ifdef B\nb\n#endif\n#ifndef C\nnot_c\n#endif",
    ],
    [
      "#elif chains and nesting",
      "#define V 3\n#if V == 1\none\n#elif V == 2\ntwo\n#elif V == 3\nthree\n#if 0\n#error never\n#elif 1\ninner\n#endif\n#else\nother\n#endif",
    ],
    [
      "skipped groups are not interpreted",
      "#if 0\n#include <nonexistent.h>\n#error no\n' unmatched \" quotes\n#bogus directive\n#if garbage (\n#endif\n#else\nkept\n#endif",
    ],
    [
      "__LINE__ and __COUNTER__",
      "__LINE__ __COUNTER__ __COUNTER__\n#define L __LINE__\nL\n#line 100\n__LINE__ L\n__COUNTER__",
    ],
    [
      "#line with a file name, and GNU line markers",
      '#line 50 "other.c"\n__FILE__ __LINE__\n# 7 "x.h" 1\n__FILE__ __LINE__\n#line 3\n__FILE__ __LINE__',
    ],
    ["null directive", "#\n# /* nothing */\nx\n  #  \ny"],
    ["digraphs", "%:define D(x) <:x:> <%x%>\nD(1) %:%:"],
  ];
  for (const [name, source] of cases) it(name, () => expectSnippet(source + "\n"));

  it("include search: quoted from the includer's directory, -I, #include_next, computed includes", () => {
    const result = expectSnippet(
      [
        '#include "a.h"',
        '#include "sub/b.h"',
        "#include <c.h>",
        "#define HDR <d.h>",
        "#include HDR",
        '#define Q "e.h"',
        "#include Q",
        '#if __has_include(<c.h>) && !__has_include("missing.h") && __has_include("sub/b2.h")',
        "has",
        "#endif",
        "__INCLUDE_LEVEL__",
      ].join("\n") + "\n",
      {
        "a.h": "in_a __INCLUDE_LEVEL__\n",
        "sub/b.h": '#include "b2.h"\nin_b\n',
        "sub/b2.h": "in_b2 __INCLUDE_LEVEL__\n",
        "inc1/c.h": "in_c1\n#if __has_include_next(<c.h>)\n#include_next <c.h>\n#endif\n",
        "inc2/c.h": "in_c2\n",
        "inc1/d.h": "in_d\n",
        "e.h": "in_e\n",
      },
      (dir) => ({ includePaths: [join(dir, "inc1"), join(dir, "inc2")] }),
    );
    expect(result).toContain("in_b2");
  });

  it("include guards and #pragma once skip re-reading", () => {
    const extra = {
      "g.h": "#ifndef G_H\n#define G_H\nguarded\n#endif\n",
      "g2.h": "/* comment */\n#if !defined(G2_H)\n#define G2_H\nguarded2\n#endif /* G2_H */\n",
      "o.h": "#pragma once\nonce\n",
      "n.h": "#ifndef N_H\n#define N_H\n#endif\nafter_guard\n",
    };
    const source =
      '#include "g.h"\n#include "g.h"\n#include "g2.h"\n#include "g2.h"\n#include "o.h"\n#include "o.h"\n#include "n.h"\n#include "n.h"\n';
    expectSnippet(source, extra);
    const dir = files({ "main.c": source, ...extra });
    const result = ours(join(dir, "main.c"));
    // g.h, g2.h (a comment before the guard is fine) and o.h are skipped; n.h is not a guard.
    expect(result.stats.skippedIncludes).toBe(3);
    expect(spellings(result.tokens).filter((t) => t === "after_guard")).toHaveLength(2);
  });

  it("-D and -U", () => {
    expectSnippet(
      "A B C D __bpf__ __STDC_VERSION__\n",
      {},
      { defines: ["A", "B=2", "C=x y", "D="], undefines: ["__bpf__"] },
    );
  });

  it("__FILE__, __BASE_FILE__ and __FILE_NAME__ name files as clang does", () => {
    const dir = files({
      "main.c": '__FILE__ __BASE_FILE__ __FILE_NAME__\n#include "sub/x.h"\n#include <y.h>\n',
      "sub/x.h": '__FILE__ __FILE_NAME__\n#include "z.h"\n',
      "sub/z.h": "__FILE__\n",
      "inc/y.h": "__FILE__ __INCLUDE_LEVEL__\n",
    });
    for (const [path, cwd] of [
      [join(dir, "main.c"), undefined],
      ["main.c", dir],
    ] as const) {
      const options = { includePaths: [cwd ? "inc" : join(dir, "inc")] };
      const mine = cwd
        ? (() => {
            const previous = process.cwd();
            process.chdir(cwd);
            try {
              return spellings(ours(path, options).tokens);
            } finally {
              process.chdir(previous);
            }
          })()
        : spellings(ours(path, options).tokens);
      expect(firstDifference(mine, clangPreprocess(path, options, cwd))).toBe("");
    }
  });
});

describe.skipIf(!hasClang)("__DATE__, __TIME__ and __TIMESTAMP__", () => {
  it("have clang's formats", () => {
    const source = "__DATE__ __TIME__ __TIMESTAMP__\n";
    const theirs = lexFile(
      execFileSync("clang", ["-target", "bpf", "-E", "-P", "-"], { input: source }).toString(),
      "out",
    ).map((t) => t.image);
    const now = new Date(2024, 0, 5, 7, 8, 9);
    const mine = spellings(preprocess({ text: source }, { now }).tokens);
    expect(mine).toEqual(['"Jan  5 2024"', '"07:08:09"', '"Fri Jan  5 07:08:09 2024"']);
    const shapes = [
      /^"[A-Z][a-z]{2} [ \d]\d \d{4}"$/,
      /^"\d\d:\d\d:\d\d"$/,
      /^"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"$/,
    ];
    theirs.forEach((t, i) => expect(t).toMatch(shapes[i]!));
    mine.forEach((t, i) => expect(t).toMatch(shapes[i]!));
  });
});

describe.skipIf(!hasClang)("#if arithmetic as clang evaluates it", () => {
  // Each expression is decided by both; 64-bit signed/unsigned semantics, conversions, shifts,
  // character constants, short-circuit and conditional operators.
  const expressions = [
    "1",
    "0",
    "-1",
    "1 + 2 * 3 == 7",
    "(1 + 2) * 3 == 9",
    "10 / 3 == 3",
    "-10 / 3 == -3",
    "-10 % 3 == -1",
    "10 % -3 == 1",
    "7 - 10 < 0",
    "7u - 10 < 0",
    "7u - 10 > 0",
    "-1 < 0u",
    "-1 > 0u",
    "0xffffffffffffffff == -1",
    "0xffffffffffffffff > 0",
    "0x7fffffffffffffff > 0",
    "0x8000000000000000 > 0",
    "9223372036854775807 + 0 > 0",
    "1 << 63 < 0",
    "1u << 63 > 0",
    "(1 << 62) * 2 < 0",
    "-1 >> 1 == -1",
    "-1u >> 1 == 0x7fffffffffffffff",
    "1 << 0 == 1",
    "~0 == -1",
    "~0u == 18446744073709551615u",
    "!0 == 1",
    "!5 == 0",
    "-(-1) == 1",
    "(0 ? 1u : -1) > 0",
    "(1 ? -1 : 0u) > 0",
    "(1 ? -1 : 0) < 0",
    "0 && 1 / 0",
    "1 || 1 / 0",
    "0 ? 1 / 0 : 2",
    "1 ? 2 : 1 / 0",
    "(2 || 0) == 1",
    "(2 && 3) == 1",
    "3 & 5 == 5",
    "(3 & 5) == 1",
    "(3 | 5) == 7",
    "(3 ^ 5) == 6",
    "1 == 1 == 1",
    "2 == 2 == 2",
    "1 < 2 < 3",
    "3 > 2 > 1",
    "'a' == 97",
    "'\\n' == 10",
    "'\\377' < 0",
    "'\\xff' == -1",
    "'\\0' == 0",
    "L'\\xff' == 255",
    "u'x' == 120",
    "U'\\x7fffffff' > 0",
    "'ab' == 24930",
    "'\\'' == 39",
    "'\"' == 34",
    "0x10 == 16",
    "010 == 8",
    "0b101 == 5",
    "10ULL == 10",
    "10l == 10",
    "18446744073709551615u == -1",
    "-9223372036854775807 - 1 < 0",
    "undefined_name == 0",
    "defined undefined_name == 0",
    "(1, 2) == 2",
    "+3 == 3",
    "- - 3 == 3",
    "1 ? 2 ? 3 : 4 : 5",
    "0 ? 2 : 0 ? 4 : 5",
    "true",
    "false",
    "__bpf__",
    "__BPF__ && __LP64__",
    "__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__",
    "__clang_major__ >= 14",
    "__GNUC__ == 4",
    "__SIZEOF_LONG__ == 8",
    "__STDC_VERSION__ >= 201112L",
    "__has_builtin(__builtin_memcpy)",
    "__has_builtin(__builtin_nonexistent)",
    "__has_attribute(preserve_access_index)",
    "__has_attribute(__packed__)",
    "__has_feature(c_alignas)",
    "__has_extension(gnu_asm)",
    "__is_identifier(int)",
    "__is_identifier(foo)",
  ];

  it(`decides ${expressions.length} conditions the same way`, () => {
    const source =
      expressions.map((e, i) => `#if ${e}\nyes_${i}\n#else\nno_${i}\n#endif`).join("\n") + "\n";
    const dir = files({ "main.c": source });
    const path = join(dir, "main.c");
    const mine = spellings(ours(path).tokens);
    const theirs = clangPreprocess(path);
    const decisions = (tokens: string[]) =>
      expressions.map((e, i) => `${e} => ${tokens.includes(`yes_${i}`)}`);
    expect(decisions(mine)).toEqual(decisions(theirs));
  });
});

describe("without clang", () => {
  it("reads from a custom file reader and keeps the locations and expansion chain of tokens", () => {
    const sources: Record<string, string> = {
      "/v/main.c": '#include "defs.h"\nint v = TWICE(ONE);\n',
      "/v/defs.h": "#define ONE 1\n#define TWICE(x) ((x) + (x))\n",
    };
    const result = preprocess(
      { path: "/v/main.c" },
      { readFile: (p) => sources[p], defaultIncludePaths: [] },
    );
    expect(result.diagnostics.items).toEqual([]);
    expect(printTokens(result.tokens)).toBe("int v = ((1) + (1));\n");
    const one = result.tokens[5]!;
    expect(one.image).toBe("1");
    expect({ file: one.file, line: one.line, col: one.col }).toEqual({
      file: "/v/defs.h",
      line: 1,
      col: 13,
    });
    // `1` came from ONE (used at main.c:2:15, inside TWICE's argument); the parentheses from TWICE.
    expect(one.expansion).toMatchObject({
      macro: "ONE",
      use: { file: "/v/main.c", line: 2, col: 15 },
    });
    const paren = result.tokens[3]!;
    expect(paren.expansion).toMatchObject({
      macro: "TWICE",
      use: { file: "/v/main.c", line: 2, col: 9 },
      definition: { file: "/v/defs.h", line: 2, col: 9 },
    });
    expect(result.includedFrom("/v/defs.h")).toEqual([{ file: "/v/main.c", line: 1, col: 2 }]);
    expect(result.sources("/v/defs.h")).toBe(sources["/v/defs.h"]);
  });

  it("terminates on self-referential macros and deep include recursion", () => {
    const sources: Record<string, string> = {
      "/r/main.c":
        '#define A B A C\n#define B A\n#define C(x) C(C(x))\nA C(1)\n#include "main.c"\n',
    };
    const result = preprocess(
      { path: "/r/main.c" },
      { readFile: (p) => sources[p], defaultIncludePaths: [] },
    );
    expect(result.diagnostics.items.map((d) => d.message)).toContain("#include nested too deeply");
  });

  it("finds the bundled headers", () => {
    expect(existsSync(join(bundledIncludeDir, "stdint.h"))).toBe(true);
    const result = preprocess(
      { text: "#include <stdint.h>\n#include <stdbool.h>\nUINT32_MAX true", name: "t.c" },
      { defaultIncludePaths: [bundledIncludeDir] },
    );
    expect(result.diagnostics.items).toEqual([]);
    expect(printTokens(result.tokens)).toContain("4294967295U 1");
  });
});

describe.skipIf(!hasClang)("bundled headers", () => {
  const headers = ["stddef", "stdint", "stdbool", "stdarg", "limits", "stdalign", "float"];
  // Every public macro the bundled headers define, used once: `NAME: NAME` or `F: F(a, b)`.
  const uses = new Map<string, number>();
  for (const h of headers) {
    const text = readFileSync(join(bundledIncludeDir, `${h}.h`), "utf8");
    for (const m of text.matchAll(/^#define ([A-Za-z]\w*)(\(([^)]*)\))?/gm)) {
      if (m[1]!.startsWith("_")) continue;
      uses.set(m[1]!, m[2] === undefined ? -1 : m[3]!.split(",").length);
    }
  }
  const source =
    headers.map((h) => `#include <${h}.h>`).join("\n") +
    "\nmacros_start\n" +
    [...uses]
      .map(([name, arity]) => {
        const args = ["struct s", "f", "c"].slice(0, arity).join(", ");
        return arity < 0 ? `${name}: ${name}` : `${name}: ${name}(${args})`;
      })
      .join("\n") +
    "\n";

  it(`define the same ${uses.size} macros as clang's own headers`, () => {
    const dir = files({ "main.c": source });
    const path = join(dir, "main.c");
    const clangOwn = execFileSync("clang", [
      "-target",
      "bpf",
      "-ffreestanding",
      "-E",
      "-P",
      path,
    ]).toString();
    const clangWithOurs = execFileSync("clang", [
      "-target",
      "bpf",
      "-nostdinc",
      "-isystem",
      bundledIncludeDir,
      "-E",
      "-P",
      path,
    ]).toString();
    // The declarations' private member names differ: compare the macro uses after the marker.
    const fromMarker = (spelled: string[]) => spelled.slice(spelled.indexOf("macros_start"));
    const tokens = (text: string) => fromMarker(lexFile(text, "out").map((t) => t.image));
    expect(firstDifference(tokens(clangWithOurs), tokens(clangOwn))).toBe("");
    const result = ours(path, { defaultIncludePaths: [bundledIncludeDir] });
    expect(firstDifference(fromMarker(spellings(result.tokens)), tokens(clangOwn))).toBe("");
  });

  it("declare the same types as clang's own headers (checked by clang)", () => {
    const types: [string, string][] = [
      ["size_t", "unsigned long"],
      ["ptrdiff_t", "long"],
      ["wchar_t", "int"],
      ["int8_t", "signed char"],
      ["uint8_t", "unsigned char"],
      ["int16_t", "short"],
      ["uint16_t", "unsigned short"],
      ["int32_t", "int"],
      ["uint32_t", "unsigned int"],
      ["int64_t", "long"],
      ["uint64_t", "unsigned long"],
      ["intptr_t", "long"],
      ["uintptr_t", "unsigned long"],
      ["intmax_t", "long"],
      ["uintmax_t", "unsigned long"],
      ["int_least8_t", "signed char"],
      ["uint_fast64_t", "unsigned long"],
      ["va_list", "__builtin_va_list"],
      ["bool", "_Bool"],
    ];
    const program =
      headers.map((h) => `#include <${h}.h>`).join("\n") +
      "\n" +
      types
        .map(([t, c]) => `_Static_assert(__builtin_types_compatible_p(${t}, ${c}), "${t}");`)
        .join("\n") +
      '\n_Static_assert(sizeof(max_align_t) == 16 && _Alignof(max_align_t) == 8, "max_align_t");\n' +
      'struct s { char c; int i; };\n_Static_assert(offsetof(struct s, i) == 4, "offsetof");\n';
    const dir = files({ "types.c": program });
    const run = spawnSync(
      "clang",
      [
        "-target",
        "bpf",
        "-nostdinc",
        "-isystem",
        bundledIncludeDir,
        "-fsyntax-only",
        join(dir, "types.c"),
      ],
      { encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});

describe("robustness", () => {
  it("includes a device or a pipe as an empty file, as clang does, instead of reading forever", () => {
    const dir = files({});
    const fifo = join(dir, "pipe");
    execFileSync("mkfifo", [fifo]);
    for (const target of ["/dev/zero", fifo]) {
      const r = preprocess({ text: `#include "${target}"\nint x;\n`, name: join(dir, "d.c") });
      expect(r.diagnostics.items.map((d) => d.message)).toEqual([]);
      expect(printTokens(r.tokens).trim()).toBe("int x;");
    }
    // a directory is not a file
    const r = preprocess({ text: `#include "${dir}"\n`, name: join(dir, "e.c") });
    expect(r.diagnostics.items.map((d) => d.message)).toEqual([`'${dir}' file not found`]);
  });

  it("limits recursion depth and exponential expansion with an error, not a crash", () => {
    const deep = 2000;
    const source =
      "#define F(x) x\n" +
      `#if ${"(".repeat(deep)}1${")".repeat(deep)}\n#endif\n` +
      `#if ${"- ".repeat(deep)}1\n#endif\n` +
      `F(${"F(".repeat(deep)}1${")".repeat(deep)})\n`;
    const messages = preprocess({ text: source, name: "deep.c" }).diagnostics.items.map(
      (d) => d.message,
    );
    expect(messages).toEqual([
      "preprocessor expression nested too deeply",
      "preprocessor expression nested too deeply",
      "macro arguments nested too deeply",
    ]);
    // 2^40 tokens if nothing stopped it.
    const levels = Array.from({ length: 40 }, (_, i) => `#define M${i} M${i + 1} M${i + 1}`).join(
      "\n",
    );
    const started = performance.now();
    const exploded = preprocess({ text: `${levels}\nM0\n`, name: "exp.c" });
    expect(exploded.diagnostics.items[0]?.message).toBe(
      "macro expansion stopped after 1000000 expansions",
    );
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it("survives seeded random directive soup: only located diagnostics, always terminates", () => {
    const fragments = [
      "#define A(x, ...) x ## __VA_ARGS__ #x\n",
      "#define B A(\n",
      "#define C C B\n",
      "#undef A\n",
      "#if ",
      "#elif ",
      "#else\n",
      "#endif\n",
      "#ifdef B\n",
      "#ifndef C\n",
      '#include "x.h"\n',
      "#pragma once\n",
      '_Pragma("x")',
      "defined(A)",
      "1/0",
      "(",
      ")",
      ",",
      "A",
      "B",
      "C",
      "A(1, 2)",
      "__LINE__",
      "#",
      "##",
      "'a",
      '"s',
      "\\\n",
      "/*",
      "*/",
      "\n",
      " ",
      "0x1p",
      "__has_include(<",
      ">",
      "#error e\n",
      "#line 0\n",
      "__VA_ARGS__",
      "...",
      "%:",
    ];
    let seed = 2024;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let round = 0; round < 400; round++) {
      let text = "";
      for (let i = 0; i < 30; i++) text += fragments[next() % fragments.length];
      const result = preprocess(
        { text, name: "soup.c" },
        { readFile: (p) => (p.endsWith("x.h") ? text : undefined), defaultIncludePaths: [] },
      );
      for (const d of result.diagnostics.items) {
        expect(d.loc, `${d.message} in ${JSON.stringify(text)}`).toBeDefined();
        expect(d.loc!.line).toBeGreaterThan(0);
      }
      renderDiagnostics(result.diagnostics.items, result.sources); // renders without throwing
    }
  });
});
