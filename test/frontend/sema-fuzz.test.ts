// Seeded mutation fuzzing of the front end: valid and invalid C snippets with tokens
// deleted, duplicated, swapped or replaced must come back as diagnostics, never as an
// exception (a TypeError in sema would be a bug) and never as a hang.
import { describe, expect, test } from "vitest";
import { checkProgram } from "../../compiler/frontend.js";
import { makePrng } from "../../runtime/object/fuzz.js";

const seeds = [
  `struct s { int a; char b[4]; unsigned bf : 3; union { long l; short h[4]; }; };
typedef struct s s_t;
enum e { A, B = 5, C };
static const int table[] = { 1, 2, [4] = 3 };
s_t g = { .a = 1, .b = "xy", .l = 7 };
int f(s_t *p, int n) {
  int sum = 0;
  for (int i = 0; i < n && i < 4; i++) sum += p->b[i] * table[i % 5];
  switch (n) { case A: sum++; break; case B ... C: sum--; default: ; }
  sum += sizeof(struct s) + _Alignof(long) + __builtin_offsetof(struct s, h[2]);
  _Static_assert(sizeof(s_t) > 4, "size");
  return p ? (int)p->bf + sum : -1;
}`,
  `typedef unsigned long u64;
struct node { struct node *next; u64 val; const char *name; };
static int walk(struct node *n) { int c = 0; while (n) { c += (int)(n->val & 1); n = n->next; } return c; }
u64 pick(int c, u64 *a, u64 *b) { return *(c ? a : b) + (u64)walk(0); }
void copy(void *dst, const void *src) { __builtin_memcpy(dst, src, 8); }`,
  `int x = 1 << 33; char c = 300; int *p = 5; struct t; struct t *q; int y = sizeof(struct t);
void h(void) { break; goto nowhere; } int k(void) { return; }`,
];

const replacements = [
  "int",
  "void",
  "struct s",
  "*",
  "&",
  "0",
  "-1",
  "[",
  "]",
  "(",
  ")",
  "{",
  "}",
  ";",
  ",",
  ".",
  "->",
  "=",
  "sizeof",
  "x",
  "p",
  "const",
  "typedef",
  "static",
  "4294967296",
  '"s"',
  "'c'",
  "?",
  ":",
];

function mutate(source: string, rnd: () => number): string {
  const tokens =
    source.match(/[A-Za-z_]\w*|\d+|"[^"]*"|'[^']*'|->|\.\.\.|<<|>>|&&|\|\||[^\s\w]|\s+/g) ?? [];
  const edits = rnd() < 0.7 ? 1 : 2 + Math.floor(rnd() * 2);
  for (let k = 0; k < edits; k++) {
    const i = Math.floor(rnd() * tokens.length);
    const r = rnd();
    if (r < 0.3) tokens.splice(i, 1);
    else if (r < 0.5) tokens.splice(i, 0, tokens[i]!);
    else if (r < 0.7) {
      const j = Math.floor(rnd() * tokens.length);
      [tokens[i], tokens[j]] = [tokens[j]!, tokens[i]!];
    } else tokens[i] = " " + replacements[Math.floor(rnd() * replacements.length)]! + " ";
  }
  return tokens.join("");
}

describe("front end on mutated input", () => {
  test("400 seeded mutants give diagnostics, never an exception", () => {
    const rnd = makePrng(Number(process.env.TSBPF_FUZZ_SEED ?? 99));
    const failures: string[] = [];
    let withErrors = 0;
    let reachedSema = 0;
    for (let n = 0; n < 400; n++) {
      const source = mutate(seeds[n % seeds.length]!, rnd);
      try {
        const p = checkProgram({ file: "fuzz.c", source });
        if (p.diagnostics.errorCount > 0) withErrors++;
        if (p.sema) reachedSema++;
      } catch (e) {
        failures.push(`${String(e)}\n--- input ---\n${source}`);
      }
    }
    expect(failures.slice(0, 3)).toEqual([]);
    expect(withErrors).toBeGreaterThan(200);
    // Mutants that parse exercise sema on odd but well-formed trees.
    expect(reachedSema).toBeGreaterThan(60);
  });
});
