// The runtime commands (objdump, verify, run, btf dump, vector; runtime/cli, main() in-process)
// given bad input as a user gives it: directories, devices that never end, files too large,
// options without their value, a bad file among good ones, BTF that C cannot express, vectors
// the interpreter refuses. Each must be one clear error that names the file and the reason, with
// exit code 1 (or a thrown TsbpfError, which the tsbpf bin prints as one line and exits 1 on):
// no stack trace, no hang, no message in Node's words.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main as btf } from "../../runtime/cli/btf.js";
import { InputError, MAX_INPUT_BYTES, readInput } from "../../runtime/cli/input.js";
import { main as objdump } from "../../runtime/cli/objdump.js";
import { main as run } from "../../runtime/cli/run.js";
import { main as vector } from "../../runtime/cli/vector.js";
import { main as verify } from "../../runtime/cli/verify.js";
import { TsbpfError } from "../../runtime/error.js";
import { scratchDir } from "./tools.js";

type Command = (args: string[]) => Promise<number>;

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** What the tsbpf bin would print on stderr, and the exit code. */
async function outcome(
  command: Command,
  args: string[],
): Promise<{ code: number; stderr: string }> {
  try {
    const code = await command(args);
    return { code, stderr: err.join("\n") };
  } catch (e) {
    if (!(e instanceof TsbpfError)) throw e;
    return { code: 1, stderr: `tsbpf: ${e.message}` };
  }
}

const dir = (): string => {
  const d = join(scratchDir(), "robust");
  mkdirSync(d, { recursive: true });
  return d;
};

describe("reading the input file", () => {
  it("a directory is 'Is a directory', in every command", async () => {
    const d = join(dir(), "adir.o");
    mkdirSync(d, { recursive: true });
    for (const [command, args] of [
      [objdump, ["-d", d]],
      [verify, [d]],
      [btf, ["dump", d]],
    ] as [Command, string[]][]) {
      expect(await outcome(command, args)).toEqual({
        code: 1,
        stderr: `tsbpf: '${d}': Is a directory`,
      });
      err = [];
    }
    // run and vector keep their own framing, with the same reason
    expect((await outcome(run, [d])).stderr).toBe(
      `tsbpf: ${d}: open: cannot read the object: EISDIR (Is a directory)`,
    );
    const c = join(dir(), "adir.c");
    mkdirSync(c, { recursive: true });
    expect((await outcome(run, [c])).stderr).toBe(
      `tsbpf: ${c}: open: cannot read the source: EISDIR (Is a directory)`,
    );
    expect(await outcome(vector, [d])).toEqual({
      code: 1,
      stderr: `tsbpf vector: cannot read ${d}: EISDIR (Is a directory)`,
    });
  });

  it("a missing file is 'No such file or directory'", async () => {
    const m = join(dir(), "missing.o");
    expect(await outcome(verify, [m])).toEqual({
      code: 1,
      stderr: `tsbpf: '${m}': No such file or directory`,
    });
    expect((await outcome(run, [m])).stderr).toBe(
      `tsbpf: ${m}: open: cannot read the object: ENOENT (No such file or directory)`,
    );
  });

  it("a file larger than any object is refused from its size, without reading it", async () => {
    const big = join(dir(), "big.o");
    writeFileSync(big, "");
    truncateSync(big, MAX_INPUT_BYTES + 4096); // sparse: no disk used
    for (const [command, args] of [
      [objdump, ["-d", big]],
      [verify, [big]],
      [btf, ["dump", big]],
    ] as [Command, string[]][]) {
      const r = await outcome(command, args);
      expect(r).toEqual({
        code: 1,
        stderr: `tsbpf: '${big}': ${MAX_INPUT_BYTES + 4096} bytes, more than the 256 MiB an input may have`,
      });
      err = [];
    }
  });

  it.skipIf(!existsSync("/dev/zero"))(
    "a device that never ends is an error, not a hang",
    async () => {
      expect(() => readInput("/dev/zero", 3 << 20)).toThrow(
        new InputError("/dev/zero", "EFBIG", "more than the 3 MiB an input may have"),
      );
      expect(() => readInput("/dev/zero", 100)).toThrow(
        /more than the 100 bytes an input may have/,
      );
      const t0 = performance.now();
      expect(await outcome(objdump, ["-d", "/dev/zero"])).toEqual({
        code: 1,
        stderr: "tsbpf: '/dev/zero': more than the 256 MiB an input may have",
      });
      expect(performance.now() - t0).toBeLessThan(20_000);
    },
  );

  it("reads a file whole, and a pipe to its end, over several chunks", () => {
    const f = join(dir(), "bytes.bin");
    const bytes = Buffer.from(Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 7) & 0xff));
    writeFileSync(f, bytes);
    const same = (a: Uint8Array): boolean => bytes.equals(a);
    expect(same(readInput(f))).toBe(true);
    expect(same(readInput(f, bytes.length))).toBe(true);
    expect(() => readInput(f, bytes.length - 1)).toThrow(
      /'.*bytes\.bin': 3000000 bytes, more than/,
    );
    const fifo = join(dir(), "bytes.fifo");
    execFileSync("mkfifo", [fifo]);
    const writer = spawn("sh", ["-c", 'cat "$0" > "$1"', f, fifo], { stdio: "ignore" });
    try {
      expect(same(readInput(fifo))).toBe(true);
    } finally {
      writer.kill();
    }
    if (existsSync("/dev/null")) expect(readInput("/dev/null")).toEqual(new Uint8Array(0));
  });
});

describe("options", () => {
  it("verify and run answer -h and --help with their usage, exit 0", async () => {
    for (const [command, usage] of [
      [verify, /^usage: tsbpf verify FILE\.o/],
      [run, /^usage: tsbpf run FILE\.o\|FILE\.bpf\.c/],
    ] as [Command, RegExp][]) {
      for (const flag of ["-h", "--help"]) {
        out = [];
        expect(await command([flag])).toBe(0);
        expect(out.join("\n")).toMatch(usage);
      }
    }
  });

  it("btf dump --format without its value says so", async () => {
    const r = await outcome(btf, ["dump", "--sim", "--format"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsbpf: btf dump: --format needs a value\nusage: /);
  });
});

describe("tsbpf vector --check", () => {
  it("an unreadable entry fails, the rest still run", async () => {
    const d = join(dir(), "vectors-a");
    mkdirSync(join(d, "b-sub.data"), { recursive: true });
    writeFileSync(join(d, "a-ok.data"), "-- asm\nmov %r0, 4\nexit\n-- result\n0x4\n");
    expect(await vector(["--check", d])).toBe(1);
    expect(out).toEqual([
      `FAIL cannot read ${join(d, "b-sub.data")}: EISDIR (Is a directory)`,
      "1 passed, 1 failed",
    ]);
  });
});
