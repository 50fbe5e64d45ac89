// Shared by the kernel tests: locating the real tools and scratch directories.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const hasCommand = (cmd: string): boolean =>
  spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

export const hasClang = hasCommand("clang");
export const hasObjcopy = hasCommand("llvm-objcopy");

/** Run `fn` with a fresh scratch directory under os.tmpdir(), removed afterwards. */
export function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-kernel-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run a command, returning stdout; a failure throws with its stderr. */
export function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${e.stderr ?? e.message}`);
  }
}
