// Initializers: the stores sema flattens each initializer into (offset, type, bit-field
// position, value), applied to zeroed bytes, give exactly the bytes clang -target bpf emits
// for the same global. Covers nested lists, brace elision, designators (also through
// anonymous members, ranges, re-initialization), strings, bit-fields and conversions.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { Declaration } from "../../compiler/ast.js";
import { convertValue } from "../../compiler/consteval.js";
import { constantValue, type InitEntry, type SemaResult } from "../../compiler/sema.js";
import { canonical, sizeOf } from "../../compiler/types.js";
import { frontend, hasClang } from "./sema-harness.js";

if (!hasClang) console.log("initializer differential test skipped: clang is not installed");

const source = `
struct pt { int x, y; };
struct rec {
  char c;
  struct pt p[2];
  short s;
  unsigned bf1 : 3, bf2 : 5;
  int sbf : 7;
  long l;
  char name[8];
  union { int i; char b[4]; } u;
};
struct rec r1 = { 1, { {2, 3}, {4, 5} }, 6, 7, 9, -3, 10, "abc", { 11 } };
struct rec r2 = { .p[1].y = 5, .name = "hi", .bf2 = 31, .u.b = { 1, 2 } };
struct rec r3 = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
struct rec r4 = { .l = 1, 2, 3 };
struct rec r5 = { .p = { [1] = { .y = 8 } }, .c = 'z', .p[0].x = 4 };
struct rec r6 = { .s = 1, .s = 2, .u = { .b = { [3] = 7 } } };
int a1[] = { 1, 2, [5] = 6, 7 };
int a2[2][3] = { 1, 2, 3, 4, 5 };
int a3[2][3] = { {1}, {4, 5} };
int a4[4] = { [1 ... 2] = 9 };
int a5[3] = { [2] = 1, [0] = 2, 3 };
char s1[] = "hello";
char s2[10] = "hi";
char s3[3] = "abc";
char s4[2][4] = { "ab", "cde" };
char *names[2] = { 0, 0 };
struct pt pts[] = { [2].y = 1, [0] = { 5, 6 } };
unsigned char uc[4] = { 256 + 1, -1, 'a' };
_Bool bb[3] = { 0, 2, -1 };
struct { int a; struct { int b, c; }; int d; } anon1 = { 1, 2, 3, 4 };
struct { int a; struct { int b, c; }; int d; } anon2 = { .c = 7, 8 };
struct { int a; struct { int b, c; }; int d; } anon3 = { .b = 7, 8 };
struct { int a; union { int b; char c; }; int d; } anon4 = { .c = 1, 2 };
long long big = 0x123456789abcdef0;
struct { char c; long l; } scalars = { .l = -1 };
union { char c; int i; } u1 = { 0x41 };
union { char c; int i; } u2 = { .i = 0x01020304 };
struct { unsigned a : 1, b : 2, : 3, c : 4; signed char d : 3; } bits = { 1, 3, 15, -1 };
int scalar_braced = { 42 };
struct rec r7 = { .p = 1, 2, 3 };
int a6[2][2] = { [1] = 5, 6 };
struct pt pa[2] = { 1, 2, [1].x = 3, 4 };
struct { struct pt a, b; } nested = { .b.y = 1, .a = { 2 }, 3 };
union { struct pt p; long l; } u3 = { 1, 2 };
`;

// The bytes our initializer stores produce.
function ourBytes(sema: SemaResult, entries: InitEntry[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (const e of entries) {
    const c = canonical(e.type);
    if (e.expr.kind === "StringLiteral" && c.kind === "array") {
      const n = Math.min(e.expr.bytes.length + 1, sizeOf(e.type));
      const bytes = new Uint8Array(n);
      bytes.set(e.expr.bytes.subarray(0, n));
      out.set(bytes, e.offset);
      continue;
    }
    const raw = constantValue(sema, e.expr);
    if (raw === undefined) throw new Error(`initializer at offset ${e.offset} is not constant`);
    let v = BigInt.asUintN(64, convertValue(raw, e.type));
    if (e.bitWidth !== undefined) {
      for (let bit = 0; bit < e.bitWidth; bit++) {
        const at = e.bitOffset! + bit;
        const byte = at >> 3;
        const mask = 1 << (at & 7);
        if ((v >> BigInt(bit)) & 1n) out[byte]! |= mask;
        else out[byte]! &= ~mask;
      }
      continue;
    }
    for (let i = 0; i < sizeOf(e.type); i++) {
      out[e.offset + i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  return out;
}

// clang's bytes for each global, read from its .data/.bss through the symbol table.
function clangBytes(names: string[]): Map<string, Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-init-"));
  try {
    writeFileSync(join(dir, "init.c"), source);
    execFileSync("clang", ["-target", "bpf", "-O2", "-c", "-w", "init.c", "-o", "init.o"], {
      cwd: dir,
    });
    const elf = readFileSync(join(dir, "init.o"));
    const shoff = Number(elf.readBigUInt64LE(0x28));
    const shnum = elf.readUInt16LE(0x3c);
    const sec = (i: number) => {
      const b = shoff + i * 64;
      return {
        type: elf.readUInt32LE(b + 4),
        offset: Number(elf.readBigUInt64LE(b + 0x18)),
        size: Number(elf.readBigUInt64LE(b + 0x20)),
        link: elf.readUInt32LE(b + 0x28),
      };
    };
    const sections = Array.from({ length: shnum }, (_, i) => sec(i));
    const symtab = sections.find((s) => s.type === 2)!;
    const strtab = sections[symtab.link]!;
    const out = new Map<string, Uint8Array>();
    for (let off = symtab.offset; off < symtab.offset + symtab.size; off += 24) {
      const start = strtab.offset + elf.readUInt32LE(off);
      const name = elf.toString("latin1", start, elf.indexOf(0, start));
      if (!names.includes(name)) continue;
      const s = sections[elf.readUInt16LE(off + 6)]!;
      const value = Number(elf.readBigUInt64LE(off + 8));
      const size = Number(elf.readBigUInt64LE(off + 16));
      // .bss (SHT_NOBITS) holds zeros.
      out.set(
        name,
        s.type === 8
          ? new Uint8Array(size)
          : new Uint8Array(elf.subarray(s.offset + value, s.offset + value + size)),
      );
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString("hex") : "missing");

describe.skipIf(!hasClang)("initializers", () => {
  test("flattened stores give the bytes clang emits", () => {
    const p = frontend(source);
    const errors = p.diagnostics.items.filter((d) => d.severity === "error");
    expect(errors.map((d) => `${d.loc?.line}:${d.loc?.col} ${d.message}`)).toEqual([]);
    const sema = p.sema!;
    const globals = p.unit!.decls.filter(
      (d): d is Declaration => d.kind === "Declaration" && d.declarators.length > 0,
    );
    const ours = new Map<string, string>();
    for (const d of globals) {
      const init = d.declarators[0]!;
      const v = sema.declarators.get(init.declarator);
      if (!v || v.kind !== "var" || !init.init) continue;
      ours.set(v.name, hex(ourBytes(sema, sema.initializers.get(init.init)!, sizeOf(v.type))));
    }
    const clang = clangBytes([...ours.keys()]);
    const theirs = new Map([...ours.keys()].map((n) => [n, hex(clang.get(n))]));
    expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(theirs));
    expect(ours.size).toBe(34);
  });
});
