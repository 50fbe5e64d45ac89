// Shared by test/emit and test/corpus: the reference tools, compiling with clang, and the
// normalisations used to compare our objects with clang's.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { cwd?: string } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, cwd: options.cwd });
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
export const isRoot = process.getuid?.() === 0;

/** Logs why a suite skips (vitest does not show the reason otherwise); undefined if none. */
export function skipReason(tools: Record<string, boolean>): string | undefined {
  const missing = Object.entries(tools)
    .filter(([, ok]) => !ok)
    .map(([name]) => name);
  if (missing.length === 0) return undefined;
  const reason = `skipped: ${missing.join(", ")} not available`;
  console.log(reason);
  return reason;
}

/** The flags the corpus is compiled with, by clang and by tsbpf alike. */
export const BPF_FLAGS = ["-D__TARGET_ARCH_x86", "-I/usr/include/x86_64-linux-gnu"];

/** clang -O2 -g -target bpf; throws with clang's stderr on failure. */
export function clangCompile(source: string, out: string, extra: string[] = []): string {
  const r = run("clang", [
    "-O2",
    "-g",
    "-target",
    "bpf",
    ...BPF_FLAGS,
    ...extra,
    "-c",
    source,
    "-o",
    out,
  ]);
  if (r.status !== 0) throw new Error(`clang failed on ${source}:\n${r.stderr}`);
  return out;
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs a tool that must succeed and print nothing on stderr (warnings included). */
export function runClean(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.status !== 0 || r.stderr.trim() !== "")
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}
