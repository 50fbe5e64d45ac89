// Runs `tsbpf build` / `tsbpf objdump` in process (their main() as the tsbpf command calls it),
// capturing what they write and their exit code.
import { vi } from "vitest";
import { TsbpfError } from "../../runtime/error.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(command: "build" | "objdump", args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  const log = vi.spyOn(console, "log").mockImplementation((...s: unknown[]) => {
    stdout += s.join(" ") + "\n";
  });
  let code: number;
  try {
    const main =
      command === "build"
        ? (await import("../../compiler/cli/build.js")).main
        : (await import("../../runtime/cli/objdump.js")).main;
    code = await main(args);
  } catch (e) {
    // What compiler/cli/tsbpf.ts does with an error a command lets through.
    if (!(e instanceof TsbpfError)) throw e;
    stderr += `tsbpf: ${e.message}\n`;
    code = 1;
  } finally {
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
  }
  return { code, stdout, stderr };
}
