// The README's loader API example, run as written: the code block under "## The loader API",
// its import pointed at this checkout's runtime/api: it prints commands by bytes read, most first.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it, vi } from "vitest";
import { HAS_LIBBPF_HEADERS } from "../../samples/lib/testing.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = mkdtempSync(join(tmpdir(), "tsbpf-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The first ```ts block after a heading of the README. */
function exampleUnder(heading: string): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(`\n## ${heading}\n`));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (m === null) throw new Error(`README: no ts example under '${heading}'`);
  return m[1]!;
}

it.skipIf(!HAS_LIBBPF_HEADERS)(
  "the README's loader API example runs and prints bytes read per command",
  async () => {
    const code = exampleUnder("The loader API").replace(
      '"../runtime/api/index.js"',
      JSON.stringify(join(root, "runtime", "api", "index.ts")),
    );
    expect(code).toContain("BpfObject.open(");
    const file = join(dir, "reads.ts");
    writeFileSync(file, code);
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation(
      (...parts: unknown[]) => void printed.push(parts.join(" ")),
    );
    try {
      await import(/* @vite-ignore */ file);
    } finally {
      vi.restoreAllMocks();
    }
    expect(printed.length).toBeGreaterThan(3);
    const rows = printed.map((line) => /^(.{16}) (\d+)$/.exec(line));
    for (const [i, row] of rows.entries()) expect(row, printed[i]).not.toBeNull();
    const totals = rows.map((r) => Number(r![2]));
    expect([...totals].sort((a, b) => b - a)).toEqual(totals);
    expect(new Set(rows.map((r) => r![1]!.trim())).size).toBe(rows.length);
  },
);
