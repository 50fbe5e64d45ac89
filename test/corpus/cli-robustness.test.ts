// `tsbpf build` and `tsbpf server` given bad input as a user gives it: missing, unreadable and
// odd files, outputs that cannot be written, malformed options. Each must end in one clear error
// that names the file or argument and the reason (as clang words it where clang has the case),
// with exit code 1: no stack trace, no hang, no "internal error", no wrong output.
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../emit/tools.js";
import { runCli } from "./cli.js";

const tmp = tempDir("tsbpf-robust-");
afterAll(() => tmp.remove());

const PROGRAM = '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\treturn 0;\n}\n';
const source = join(tmp.dir, "prog.bpf.c");
writeFileSync(source, PROGRAM);

describe("tsbpf build: output files", () => {
  it.each([
    ["a missing directory", join(tmp.dir, "no", "such", "x.o"), "No such file or directory"],
    ["a directory", tmp.dir, "Is a directory"],
  ])("names the output and the reason when it is in %s", async (_, out, reason) => {
    const r = await runCli("build", [source, "-o", out]);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: unable to open output file '${out}': '${reason}'\n1 error generated.\n`,
    });
  });

  it.skipIf(!existsSync("/dev/full"))("reports a write that fails, for -c, -S and -E", async () => {
    for (const mode of ["-c", "-S", "-E"]) {
      const r = await runCli("build", [mode, source, "-o", "/dev/full"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        "error: unable to write output file '/dev/full': 'No space left on device'\n1 error generated.\n",
      );
    }
  });

  it("leaves no older output behind when the build fails, and never removes the input", async () => {
    const bad = join(tmp.dir, "bad.bpf.c");
    writeFileSync(bad, "#ifdef PREPROCESS_ONLY\n#error stop\n#endif\nint x = ;\n");
    for (const mode of [["-c"], ["-S"], ["-E", "-DPREPROCESS_ONLY"]]) {
      const out = join(tmp.dir, "stale.out");
      writeFileSync(out, "an older build's output");
      const r = await runCli("build", [...mode, bad, "-o", out]);
      expect(r.code).toBe(1);
      expect(existsSync(out), mode.join(" ")).toBe(false);
    }
    const warn = join(tmp.dir, "warn.bpf.c");
    writeFileSync(warn, "int f(int x)\n{\n\tx == 1;\n\treturn 0;\n}\n");
    const warnOut = join(tmp.dir, "warn.bpf.o");
    writeFileSync(warnOut, "an older build's output");
    const strict = await runCli("build", ["-Werror", warn, "-o", warnOut]);
    expect(strict.code).toBe(1);
    expect(existsSync(warnOut)).toBe(false);
    // clang -c bad.c -o bad.c removes the source; tsbpf keeps it.
    const r = await runCli("build", [bad, "-o", bad]);
    expect(r.code).toBe(1);
    expect(readFileSync(bad, "utf8")).toMatch(/^#ifdef PREPROCESS_ONLY/);
  });
});
