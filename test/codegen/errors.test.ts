// Bad input: everything BPF cannot express gets an error naming the place (file:line:col) and
// the reason, never an exception of another kind. Where clang -target bpf also refuses the
// input, clang is run too and its words checked (the messages follow clang's where it has one).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CompileError } from "../../compiler/diagnostics.js";
import { formatLoc } from "../../compiler/diagnostics.js";
import { hasClang, tsbpfCompile } from "./harness.js";
import type { Cpu } from "../../compiler/lower.js";

interface BadInput {
  name: string;
  source: string;
  /** "line:col: message" of the first error. */
  error: string;
  cpu?: Cpu;
  /** A fragment of the error clang -O2 -target bpf gives for the same input. */
  clang?: string;
}

const HELPERS = String.raw`
typedef unsigned long long u64; typedef unsigned int u32;
static long (*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
static long (*bpf_trace_printk)(const char *fmt, u32 size, ...) = (void *) 6;
static long (*bpf_ringbuf_submit)(void *data, u64 flags) = (void *) 132;
static long (*bpf_snprintf)(char *str, u32 size, const char *fmt, u64 *data, u32 len) = (void *) 165;
static long (*bpf_tail_call)(void *ctx, void *map, u32 index) = (void *) 12;
`;
// The helper declarations take lines 1-7; test programs start on line 8.

const CASES: BadInput[] = [
  {
    name: "floating point",
    source: `int f(int x) { double d = x; return d; }`,
    error:
      "8:23: floating-point types are not supported by the BPF target (variable 'd' has type 'double')",
  },
  {
    name: "variable-length array",
    source: `int f(int n) { char buf[n]; buf[0] = 1; return buf[0]; }`,
    error: "8:25: variable length arrays are not supported by the BPF target",
  },
  {
    name: "direct recursion",
    source: `static __attribute__((noinline)) int fact(int n) { return n ? n * fact(n - 1) : 1; }\nint f(int x) { return fact(x); }`,
    error: "8:67: recursive call to 'fact' is not supported: BPF programs cannot recurse",
  },
  {
    name: "mutual recursion",
    source: `static int odd(int n);\nstatic int even(int n) { return n == 0 ? 1 : odd(n - 1); }\nstatic int odd(int n) { return n == 0 ? 0 : even(n - 1); }\nint f(int x) { return even(x); }`,
    error:
      "9:46: call to 'odd' from 'even' makes a recursive cycle, which BPF programs cannot have",
  },
  {
    name: "more than 5 arguments to a call",
    source: `__attribute__((noinline)) static int six(int a, int b, int c, int d, int e) { return a + b + c + d + e; }\nint g(int x);\nint f(int x) { return bpf_trace_printk("%d %d %d %d", 12, x, x, x, x); }`,
    error:
      "10:68: too many arguments to helper call: BPF passes at most 5 arguments (r1-r5), have 6",
  },
  {
    name: "function defined with more than 5 parameters",
    source: `__attribute__((noinline)) int f6(int a, int b, int c, int d, int e, int f) { return a + b + c + d + e + f; }`,
    error: "8:31: defined with too many args",
    clang: "defined with too many args",
  },
  {
    name: "address of a helper",
    source: `int f(void) { void *p = bpf_map_lookup_elem; return p != 0; }`,
    error:
      "8:25: taking the address of helper function 'bpf_map_lookup_elem' is not supported: helpers can only be called",
  },
  {
    name: "address of a helper with &",
    source: `int f(void) { void *p = &bpf_trace_printk; return p != 0; }`,
    error:
      "8:26: taking the address of helper function 'bpf_trace_printk' is not supported: helpers can only be called",
  },
  {
    name: "call to an undeclared function",
    source: `int f(int x) { return undeclared(x); }`,
    // sema's error, as clang 15 and later give it (clang 14 only warns)
    error:
      "8:23: call to undeclared function 'undeclared'; ISO C99 and later do not support implicit function declarations",
  },
  {
    name: "call to an undefined function",
    source: `extern int elsewhere(int);\nint f(int x) { return elsewhere(x); }`,
    error:
      "9:23: call to undefined function 'elsewhere': a BPF program can call helpers, functions defined in the same file, and kfuncs declared __ksym",
  },
  {
    name: "indirect call",
    source: `int f(int (*fp)(int), int x) { return fp(x); }`,
    error:
      "8:39: indirect calls are not supported by the BPF back end: call a helper or a function defined in this file",
  },
  {
    name: "stack address to a ring buffer helper",
    source: `int f(void) { char rec[16] = {}; bpf_ringbuf_submit(rec, 0); return 0; }`,
    error:
      "8:53: passing the address of local variable 'rec' to bpf_ringbuf_submit: argument 1 must be a ring buffer record from bpf_ringbuf_reserve (ARG_PTR_TO_RINGBUF_MEM | OBJ_RELEASE), and the verifier rejects a stack pointer there",
  },
  {
    name: "stack format string for bpf_snprintf",
    source: `int f(void) { char fmt[] = "%d"; char out[8]; u64 a[1] = {1}; return bpf_snprintf(out, 8, fmt, a, 8); }`,
    error:
      "8:91: passing the address of local variable 'fmt' to bpf_snprintf: argument 3 must be a constant string in read-only global data (ARG_PTR_TO_CONST_STR), and the verifier rejects a stack pointer there",
  },
  {
    name: "stack address as a map",
    source: `int f(void *ctx) { u32 fake[4] = {}; bpf_tail_call(ctx, fake, 0); return 0; }`,
    error:
      "8:57: passing the address of local variable 'fake' to bpf_tail_call: argument 2 must be a map (ARG_CONST_MAP_PTR), and the verifier rejects a stack pointer there",
  },
  {
    name: "returning the address of a local",
    source: `__attribute__((noinline)) static int *leak(void) { int x = 1; return &x; }\nint f(void) { return *leak(); }`,
    error: "8:70: address of stack memory associated with local variable 'x' returned",
  },
  {
    name: "storing the address of a local in a global",
    source: `int *saved;\nint f(void) { int x = 1; saved = &x; return x; }`,
    error:
      "9:26: storing the address of local variable 'x' in global memory is not supported: the verifier rejects a stack pointer leaked out of its frame",
  },
  {
    name: "struct argument passed by value to a call",
    source: `struct pair { long a, b; };\n__attribute__((noinline)) static long sum(struct pair p) { return p.a + p.b; }\nint f(int x) { struct pair p = { x, x }; return sum(p); }`,
    error: "10:53: pass by value not supported: 'sum' is not inlined, pass a pointer instead",
    clang: "pass by value not supported",
  },
  {
    name: "struct returned by value from a call",
    source: `struct pair { int a, b; };\n__attribute__((noinline)) static struct pair mk(int x) { struct pair p = { x, x }; return p; }\nint f(int x) { return mk(x).b; }`,
    error: "9:46: functions with VarArgs or StructRet are not supported",
    clang: "functions with VarArgs or StructRet are not supported",
  },
  {
    name: "variadic function",
    source: `int v(int a, ...) { return a; }`,
    error: "8:5: functions with VarArgs or StructRet are not supported",
    clang: "functions with VarArgs or StructRet are not supported",
  },
  {
    name: "stack over 512 bytes",
    source: `int big(int a) {\n  char buf[600];\n  buf[a & 511] = 1;\n  return buf[(a + 1) & 511];\n}`,
    error:
      "8:5: Looks like the BPF stack limit of 512 bytes is exceeded. Please move large on stack variables into BPF per-cpu array map. (function 'big' uses 600 bytes)",
    clang: "Looks like the BPF stack limit of 512 bytes is exceeded",
  },
  {
    name: "atomic result before cpu v3",
    source: `long f(long *p) { return __sync_fetch_and_add(p, 3); }`,
    cpu: "v1",
    error:
      "8:26: Invalid usage of the XADD return value: atomics that return the old value need -mcpu=v3 or later",
  },
  {
    name: "atomic or before cpu v3",
    source: `void f(long *p) { __sync_fetch_and_or(p, 3); }`,
    cpu: "v2",
    error:
      "8:19: atomic '__sync_fetch_and_or' needs -mcpu=v3 or later: before it BPF has only an atomic add without a result",
  },
  {
    name: "16-bit atomic",
    source: `int f(short *p) { return __sync_fetch_and_add(p, 3); }`,
    error: "8:26: Unsupported atomic operations, please use 32/64 bit version",
    clang: "Unsupported atomic operations, please use 32/64 bit version",
  },
  {
    name: "memcpy with a run-time size",
    source: `int f(char *d, char *s, unsigned long n) { __builtin_memcpy(d, s, n); return 0; }`,
    error: "8:44: A call to built-in function 'memcpy' is not supported.",
    clang: "A call to built-in function 'memcpy' is not supported.",
  },
  {
    name: "unsupported builtin",
    source: `int f(unsigned x) { return __builtin_clz(x); }`,
    error: "8:28: A call to built-in function 'clz' is not supported.",
  },
  {
    name: "inline assembly",
    source: `int f(int x) { asm volatile("r0 = 1"); return x; }`,
    error: "8:16: inline assembly is not supported by the BPF back end of tsbpf",
  },
  {
    name: "__int128 multiplication",
    source: `unsigned __int128 g, h;\nint f(void) { g = g * h; return 0; }`,
    error: "9:21: A call to built-in function '__multi3' is not supported.",
    clang: "A call to built-in function '__multi3' is not supported.",
  },
  {
    name: "__int128 shift by a variable count",
    source: `unsigned __int128 g;\nint f(int n) { g <<= n; return 0; }`,
    error: "9:18: A call to built-in function '__ashlti3' is not supported.",
    clang: "A call to built-in function '__ashlti3' is not supported.",
  },
  {
    name: "__int128 division",
    source: `unsigned __int128 g, h;\nint f(void) { g = g / h; return 0; }`,
    error: "9:21: A call to built-in function '__udivti3' is not supported.",
    clang: "A call to built-in function '__udivti3' is not supported.",
  },
  {
    name: "__int128 returned",
    source: `__attribute__((noinline)) unsigned __int128 wide(long x) { return x; }\nint f(long x) { return (int)wide(x); }`,
    error: "8:45: only small returns supported",
  },
  {
    name: "__int128 switch",
    source: `int f(long x) { __int128 y = x; switch (y) { case 1: return 1; } return 0; }`,
    error: "8:41: a switch on an __int128 value is not supported by the BPF back end of tsbpf",
  },
];

function firstError(e: unknown): string {
  if (!(e instanceof CompileError)) throw e;
  const d = e.diagnostics.find((x) => x.severity === "error")!;
  return `${d.loc ? formatLoc(d.loc).replace(/^prog\.c:/, "") : "?"}: ${d.message}`;
}

function clangError(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-errors-"));
  try {
    writeFileSync(join(dir, "bad.c"), source);
    const r = spawnSync(
      "clang",
      ["-O2", "-target", "bpf", "-mcpu=v3", "-c", "bad.c", "-o", "bad.o"],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    return r.status === 0 ? "" : r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("bad input gets an error with its place and reason", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const source = HELPERS + c.source;
      let message = "";
      try {
        tsbpfCompile(source, { cpu: c.cpu ?? "v3" });
      } catch (e) {
        message = firstError(e);
      }
      expect(message).toBe(c.error);
    });
  }
});

describe.skipIf(!hasClang)("clang refuses the same inputs, in the words we use", () => {
  for (const c of CASES.filter((x) => x.clang !== undefined)) {
    it(c.name, () => {
      expect(clangError(HELPERS + c.source)).toContain(c.clang);
    });
  }
});

describe("division by a constant zero", () => {
  it("is a warning (BPF defines x / 0 = 0 and x % 0 = x), and compiles", () => {
    const checkedSource = HELPERS + `int f(unsigned x) { return x / 0 + x % 0; }`;
    const unit = tsbpfCompile(checkedSource);
    expect(unit.functions.map((f) => f.name)).toEqual(["f"]);
  });
});

describe("an error in an always_inline function's body", () => {
  it("is reported once, not at each call the body is lowered for", () => {
    const source =
      HELPERS +
      `static __attribute__((always_inline)) int bits(unsigned x) { return __builtin_clz(x); }\n` +
      `int f(unsigned x) { return bits(x) + bits(x + 1) + bits(x + 2); }`;
    let errors: string[] = [];
    try {
      tsbpfCompile(source);
    } catch (e) {
      if (!(e instanceof CompileError)) throw e;
      errors = e.diagnostics
        .filter((d) => d.severity === "error")
        .map((d) => `${d.loc ? formatLoc(d.loc) : "?"}: ${d.message}`);
    }
    expect(errors).toEqual(["prog.c:8:69: A call to built-in function 'clz' is not supported."]);
  });
});
