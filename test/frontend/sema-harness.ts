// Helpers for the sema tests: run the front end on a snippet, list its diagnostics the way
// clang's header lines read, and get clang's own lines for the same snippet.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkProgram, type CheckedProgram } from "../../compiler/frontend.js";
import { renderDiagnostics } from "../../compiler/diagnostics.js";
import { describe, expect, test } from "vitest";

export const hasClang = spawnSync("clang", ["--version"]).status === 0;

const headerLine = /^\S+:\d+:\d+: (?:fatal error|error|warning|note): .*$/;

export function frontend(source: string, file = "test.c"): CheckedProgram {
  return checkProgram({ file, source }, { includeDirs: ["/usr/include/x86_64-linux-gnu"] });
}

// The diagnostic header lines ("test.c:3:5: error: ...", notes included), in order.
export function ourDiagnostics(source: string): string[] {
  const p = frontend(source);
  return renderDiagnostics(p.diagnostics.items)
    .split("\n")
    .filter((l) => headerLine.test(l));
}

// clang -target bpf -fsyntax-only's header lines for the same snippet, named test.c.
export function clangDiagnostics(source: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-sema-"));
  try {
    writeFileSync(join(dir, "test.c"), source);
    const r = spawnSync(
      "clang",
      ["-target", "bpf", "-fsyntax-only", "-fno-color-diagnostics", "-ferror-limit=0", "test.c"],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    return r.stderr.split("\n").filter((l) => headerLine.test(l));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Compiles `source` with clang and reads back integer constants (see layout-oracle.ts).
export { askClang } from "./layout-oracle.js";

// clang -target bpf -fsyntax-only -Werror finds nothing to say about `source`.
export function clangAccepts(source: string, args: string[] = []): boolean {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-sema-"));
  try {
    writeFileSync(join(dir, "test.c"), source);
    execFileSync("clang", ["-target", "bpf", "-fsyntax-only", "-Werror", ...args, "test.c"], {
      cwd: dir,
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A snippet and the diagnostic header lines it must give. */
export interface DiagnosticCase {
  name: string;
  source: string;
  expected: string[];
  // Set where tsbpf deliberately says something else than clang 14, and why.
  clangDiffers?: string;
}

/**
 * One test per case: our lines are exactly the expected ones. And, where clang is installed,
 * one test that they are clang -fsyntax-only's own lines (but for the cases that say why not).
 */
export function testDiagnosticCases(title: string, cases: DiagnosticCase[]): void {
  describe(title, () => {
    for (const c of cases) {
      test(c.name, () => {
        expect(ourDiagnostics(c.source)).toEqual(c.expected);
      });
    }
  });
  describe.skipIf(!hasClang)(`${title}: the expected lines are clang's`, () => {
    test(`clang -fsyntax-only prints the same lines for ${cases.length} snippets`, () => {
      const differing = cases.filter(
        (c) =>
          c.clangDiffers === undefined &&
          JSON.stringify(clangDiagnostics(c.source)) !== JSON.stringify(c.expected),
      );
      expect(differing.map((c) => c.name)).toEqual([]);
    });
  });
}
