// `tsbpf objdump` prints what llvm-objdump 14 prints: -d, -d -r, -r alone, and -d -S (source
// lines from .BTF.ext on our side, from DWARF on LLVM's), for clang's objects and for ours.
import { afterAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitObject } from "../../compiler/emit.js";
import { objdumpText } from "../../runtime/cli/objdump.js";
import { unitFromClang } from "./from-clang.js";
import { clangCompile, hasClang, hasObjdump, run, skipReason, tempDir } from "./tools.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, "..", "object", "fixtures");
const SOURCES = [
  ...readdirSync(join(here, "programs"))
    .filter((f) => f.endsWith(".c"))
    .map((f) => join(here, "programs", f)),
  ...readdirSync(fixtures)
    .filter((f) => f.endsWith(".bpf.c"))
    .map((f) => join(fixtures, f)),
].sort();

const tmp = tempDir("tsbpf-objdump-");
afterAll(() => tmp.remove());

const objects = new Map<string, { clang: string; ours: string }>();
function objectsOf(source: string): { clang: string; ours: string } {
  let o = objects.get(source);
  if (!o) {
    const name = basename(source).replace(/\.c$/, "");
    const clang = clangCompile(source, join(tmp.dir, `${name}.clang.o`));
    const ours = join(tmp.dir, `${name}.ours.o`);
    writeFileSync(ours, emitObject(unitFromClang(clang, source), { debugLines: true }));
    objects.set(source, (o = { clang, ours }));
  }
  return o;
}

const llvm = (args: string[], path: string): string => {
  const r = run("llvm-objdump", [...args, path]);
  expect(r.stderr).toBe("");
  return r.stdout;
};
const ours = (flags: string, path: string): string =>
  objdumpText(new Uint8Array(readFileSync(path)), path, {
    disassemble: flags.includes("d"),
    relocations: flags.includes("r"),
    source: flags.includes("S"),
  });

/** Each instruction line with the source line shown above it (if any) and the one before. */
function sourceByInsn(text: string) {
  const out: { insn: string; source?: string; previous?: string; first: boolean }[] = [];
  let pending: string | undefined;
  let last: string | undefined;
  let first = false;
  for (const line of text.split("\n").slice(2)) {
    if (line.startsWith("; ")) pending = line;
    else if (/^[0-9a-f]{16} </.test(line)) first = !/<LBB/.test(line);
    else if (/^\s+\d+:\t/.test(line)) {
      out.push({ insn: line, source: pending, previous: last, first });
      if (pending !== undefined) last = pending;
      pending = undefined;
      first = false;
    }
  }
  return out;
}

const cases = SOURCES.flatMap((s) => [
  [`${basename(s)} (clang)`, s, "clang"],
  [`${basename(s)} (tsbpf)`, s, "ours"],
]) as [string, string, "clang" | "ours"][];

describe.skipIf(skipReason({ clang: hasClang, "llvm-objdump": hasObjdump }))(
  "tsbpf objdump",
  () => {
    it.each(cases)("%s: -d", (_, source, which) => {
      const path = objectsOf(source)[which];
      expect(ours("d", path)).toBe(llvm(["-d"], path));
    });

    it.each(cases)("%s: -d -r", (_, source, which) => {
      const path = objectsOf(source)[which];
      expect(ours("dr", path)).toBe(llvm(["-d", "-r"], path));
    });

    it.each(cases)("%s: -r", (_, source, which) => {
      const path = objectsOf(source)[which];
      expect(ours("r", path)).toBe(llvm(["-r"], path));
    });

    // llvm-objdump reads DWARF, which only clang's objects have; ours reads line_info. The two
    // differ in two known ways: at a function's first instruction DWARF names the line of the
    // opening brace, line_info the line of the function's name; and DWARF has line-0 rows for
    // instructions without a location, after which llvm-objdump shows the same line again.
    it.each(SOURCES.map((s) => [basename(s), s]))(
      "%s: -d -S shows clang's source lines",
      (_, source) => {
        const { clang, ours: mine } = objectsOf(source);
        const expected = sourceByInsn(llvm(["-d", "-S"], clang));
        for (const path of [clang, mine]) {
          const got = sourceByInsn(ours("dS", path));
          expect(got.map((g) => g.insn)).toEqual(expected.map((e) => e.insn));
          let shown = 0;
          got.forEach((g, i) => {
            const e = expected[i]!;
            if (g.source === e.source) {
              if (g.source !== undefined) shown++;
              return;
            }
            const context = `${e.insn}: expected ${e.source}, got ${g.source}`;
            if (e.first) expect(g.source, context).toMatch(/\S/);
            else expect(g.source === undefined && e.source === e.previous, context).toBe(true);
          });
          expect(shown).toBeGreaterThanOrEqual(
            expected.filter((e) => e.source !== undefined).length * 0.5,
          );
        }
      },
    );
  },
);

describe("tsbpf objdump errors", () => {
  it("names the file and the reason for a file that is not ELF", () => {
    expect(() => ours("d", join(here, "programs", "calls.c"))).toThrow(/calls\.c.*(magic|ELF)/);
  });
});
