// Bad input through `tsbpf build`: every construct BPF cannot express gets an error naming
// file:line:col and the reason, rendered as clang renders diagnostics (source line and caret,
// "N errors generated."), exit status 1, no stack trace and no object written.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../emit/tools.js";
import { runCli } from "./cli.js";

const tmp = tempDir("tsbpf-errors-");
afterAll(() => tmp.remove());

interface BadInput {
  name: string;
  source: string;
  /** the first error: line:col and a pattern of its message */
  at: string;
  message: RegExp;
  flags?: string[];
}

const HELPERS = `static long (*map_update)(void *map, const void *key, const void *value, unsigned long long flags) = (void *)2;
static long (*trace_printk)(const char *fmt, int size, ...) = (void *)6;
`;

const CASES: BadInput[] = [
  {
    name: "floating-point variable",
    source: "int f(int x)\n{\n\tdouble d = x * 1.5;\n\treturn d;\n}\n",
    at: "3:9",
    message: /floating-point types are not supported by the BPF target/,
  },
  {
    name: "floating-point parameter and return",
    source: "float scale(float v) { return v * 2; }\n",
    at: "1:\\d+",
    message: /floating-point types are not supported by the BPF target/,
  },
  {
    name: "variable-length array",
    source: "int f(int n)\n{\n\tchar buf[n];\n\tbuf[0] = 1;\n\treturn buf[0];\n}\n",
    at: "3:11",
    message: /variable length arrays are not supported/,
  },
  {
    name: "direct recursion",
    source:
      "static __attribute__((noinline)) int fact(int n)\n{\n\treturn n <= 1 ? 1 : n * fact(n - 1);\n}\n" +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx) { return fact(5); }\n',
    at: "3:26",
    message: /recursive call to 'fact' is not supported/,
  },
  {
    name: "mutual recursion",
    source:
      "static __attribute__((noinline)) int even(int n);\n" +
      "static __attribute__((noinline)) int odd(int n) { return n == 0 ? 0 : even(n - 1); }\n" +
      "static __attribute__((noinline)) int even(int n) { return n == 0 ? 1 : odd(n - 1); }\n" +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx) { return even(4); }\n',
    at: "2:71",
    message: /'even' .*recursive/,
  },
  {
    name: "six arguments to a function",
    source:
      "static __attribute__((noinline)) int six(int a, int b, int c, int d, int e, int f)\n{\n\treturn a + b + c + d + e + f;\n}\n" +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx) { return six(1, 2, 3, 4, 5, 6); }\n',
    at: "5:67",
    message: /too many args to 'six'.*at most 5 arguments/,
  },
  {
    name: "six arguments to a helper",
    source:
      "static long (*six_args)(long a, long b, long c, long d, long e, long f) = (void *)6;\n" +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx) { return six_args(1, 2, 3, 4, 5, 6); }\n',
    at: "2:\\d+",
    message: /too many arguments to helper call.*at most 5/,
  },
  {
    name: "address of a helper",
    source:
      HELPERS +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\tvoid *p = &trace_printk;\n\treturn p != 0;\n}\n',
    at: "5:13",
    message: /taking the address of helper function 'trace_printk' is not supported/,
  },
  {
    name: "a helper used as a value",
    source:
      HELPERS +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\tvoid *p = trace_printk;\n\treturn p != 0;\n}\n',
    at: "5:12",
    message: /address of helper function 'trace_printk'/,
  },
  {
    name: "undeclared function",
    source:
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\treturn not_declared(1);\n}\n',
    at: "3:9",
    message: /call to undeclared function 'not_declared'/,
  },
  {
    name: "declared but never defined function",
    source:
      'int elsewhere(int x);\n__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\treturn elsewhere(1);\n}\n',
    at: "4:9",
    message: /call to undefined function 'elsewhere'/,
  },
  {
    name: "address of a local kept past its frame",
    source:
      'int *keep;\n__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\tint key = 0;\n\tkeep = &key;\n\treturn *keep;\n}\n',
    at: "5:2",
    message: /storing the address of local variable 'key' in global memory is not supported/,
  },
  {
    name: "address of a local where a helper wants a map",
    source:
      "static void *(*map_lookup)(void *map, const void *key) = (void *)1;\n" +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\tint fake_map = 0, key = 0;\n\treturn map_lookup(&fake_map, &key) != 0;\n}\n',
    at: "5:20",
    message:
      /passing the address of local variable 'fake_map' to bpf_map_lookup_elem: argument 1 must be a map/,
  },
  {
    name: "stack over 512 bytes",
    source:
      "static long (*probe_read)(void *dst, int size, const void *src) = (void *)4;\n" +
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\tchar big[600];\n\tprobe_read(big, sizeof(big), ctx);\n\treturn big[10];\n}\n',
    at: "2:42",
    message: /BPF stack limit of 512 bytes is exceeded.*'prog' uses 600 bytes/,
  },
  {
    name: "old value of an atomic before -mcpu=v3",
    source:
      'unsigned long long counter;\n__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\treturn __sync_fetch_and_add(&counter, 1);\n}\n',
    at: "4:9",
    message: /atomics that return the old value need -mcpu=v3/,
    flags: ["-mcpu=v2"],
  },
  {
    name: "inline assembly",
    source:
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\tint x;\n\tasm volatile("r0 = 1" : "=r"(x));\n\treturn x;\n}\n',
    at: "4:2",
    message: /inline assembly is not supported/,
  },
  {
    name: "__int128 arithmetic",
    source:
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\t__int128 a = (long)ctx;\n\treturn (int)(a * a >> 64);\n}\n',
    at: "4:17",
    message: /A call to built-in function '__multi3' is not supported/,
  },
  {
    name: "syntax error (front end)",
    source: "int f(int x)\n{\n\treturn x +;\n}\n",
    at: "3:12",
    message: /expected expression/,
  },
];

describe("tsbpf build on bad input", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const file = join(tmp.dir, `${c.name.replace(/\W+/g, "_")}.bpf.c`);
    const out = file.replace(/\.c$/, ".o");
    writeFileSync(file, c.source);
    const r = await runCli("build", [
      "-O2",
      "-target",
      "bpf",
      ...(c.flags ?? []),
      "-c",
      file,
      "-o",
      out,
    ]);
    expect(r.code).toBe(1);
    const first = r.stderr.split("\n")[0]!;
    expect(first).toMatch(new RegExp(`^${escape(file)}:${c.at}: error: `));
    expect(first).toMatch(c.message);
    // clang's rendering: the source line, a caret, and the count.
    const lines = r.stderr.split("\n");
    expect(lines[2]).toMatch(/^\s*\^/);
    expect(r.stderr).toMatch(/\d+ errors? generated\.\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(out)).toBe(false);
  });
});

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
