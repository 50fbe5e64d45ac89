// Shared by test/elf, test/btf and test/object: which reference tools exist, compiling the C
// fixtures with clang, running tools and collecting their output.
import { spawnSync } from "node:child_process";
import { afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures");

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string): RunResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, maxBuffer: 64 << 20 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

const works = (cmd: string, args: string[]): boolean => {
  try {
    return run(cmd, args).status === 0;
  } catch {
    return false;
  }
};

export const hasClang = works("clang", ["--version"]);
export const hasReadelf = works("readelf", ["--version"]);
export const hasObjdump = works("llvm-objdump", ["--version"]);
export const hasBpftool = works("bpftool", ["version"]);
export const hasLibbpf = works("cc", ["--version"]) && existsSync("/usr/include/bpf/libbpf.h");

/** Logs why a suite skips (vitest's skip reason is not shown otherwise). */
export function skipReason(tools: Record<string, boolean>): string | undefined {
  const missing = Object.entries(tools)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  if (missing.length === 0) return undefined;
  const reason = `skipped: ${missing.join(", ")} not installed`;
  console.log(reason);
  return reason;
}

let workDir: string | undefined;
// Registered by every test file that imports this module: its scratch files go with it.
afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
  compiled.clear();
});
export function scratchDir(): string {
  workDir ??= mkdtempSync(join(tmpdir(), "tsbpf-obj-"));
  return workDir;
}

export const FIXTURE_NAMES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".bpf.c"))
  .map((f) => f.slice(0, -".bpf.c".length))
  .sort();

const compiled = new Map<string, string>();

function clangBpf(source: string, out: string, debug: boolean): string {
  const args = ["-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I/usr/include/x86_64-linux-gnu"];
  const r = run("clang", [...args, ...(debug ? ["-g"] : []), "-c", source, "-o", out]);
  if (r.status !== 0) throw new Error(`clang failed on ${source}:\n${r.stderr}`);
  return out;
}

/** Compiles fixtures/<name>.bpf.c with clang -O2 -g -target bpf; returns the object's path. */
export function compileFixture(name: string): string {
  const cached = compiled.get(name);
  if (cached) return cached;
  const out = clangBpf(join(FIXTURES, `${name}.bpf.c`), join(scratchDir(), `${name}.bpf.o`), true);
  compiled.set(name, out);
  return out;
}

/** Compiles C source text (written to the scratch directory as <name>.bpf.c). */
export function compileSource(name: string, code: string, debug = true): string {
  const source = join(scratchDir(), `${name}.bpf.c`);
  writeFileSync(source, code);
  return clangBpf(source, join(scratchDir(), `${name}.bpf.o`), debug);
}

export const readBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));
