// `tsbpf build` and `tsbpf server` given bad input as a user gives it: missing, unreadable and
// odd files, outputs that cannot be written, malformed options. Each must end in one clear error
// that names the file or argument and the reason (as clang words it where clang has the case),
// with exit code 1: no stack trace, no hang, no "internal error", no wrong output.
import { EventEmitter } from "node:events";
import { createServer, type Socket } from "node:net";
import { afterAll, describe, expect, it, vi } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { build, parseBuildArgs } from "../../compiler/cli/build.js";
import { serveBuild } from "../../compiler/cli/server.js";
import { exitOnWriteError } from "../../compiler/cli/report.js";
import {
  buildOnServer,
  main as serverMain,
  needsOwnProcess,
  serverSocket,
} from "../../compiler/cli/server-client.js";
import { compile } from "../../compiler/compile.js";
import { tempDir } from "../emit/tools.js";
import { runCli, type CliResult } from "./cli.js";

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

describe("tsbpf build: input files", () => {
  it("names a directory and a file it cannot read, with the reason", async () => {
    const dir = join(tmp.dir, "dir.bpf.c");
    mkdirSync(dir);
    const r = await runCli("build", [dir, "-o", join(tmp.dir, "d.o")]);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: error reading '${dir}': Is a directory\n1 error generated.\n`,
    });
    const loop = join(tmp.dir, "loop.bpf.c");
    symlinkSync(loop, loop);
    const looped = await runCli("build", ["-E", loop]);
    expect(looped.stderr).toBe(
      `error: error reading '${loop}': Too many levels of symbolic links\n1 error generated.\n`,
    );
  });

  it("reads a pipe and a device, and stops reading one that never ends", async () => {
    // What `tsbpf build <(...)` names is a pipe; the front end cannot read it a second time.
    const fifo = join(tmp.dir, "fifo.bpf.c");
    spawnSync("mkfifo", [fifo]);
    spawn("cp", [source, fifo], { stdio: "ignore" }); // blocks in open() until the build reads
    const fromPipe = await runCli("build", ["-S", fifo, "-o", "-"]);
    expect(fromPipe.code).toBe(0);
    expect(fromPipe.stdout).toContain("<prog>:");
    expect((await runCli("build", ["-E", "/dev/null"])).code).toBe(0);
    const endless = await runCli("build", ["/dev/zero", "-o", join(tmp.dir, "z.o")]);
    expect(endless.stderr).toBe(
      "error: error reading '/dev/zero': more than the 256 MiB an input may have\n1 error generated.\n",
    );
  });

  it("reads - from stdin, named <stdin> as clang names it, and writes -o - to stdout", () => {
    let stdout: string | Uint8Array = "";
    let stderr = "";
    const io = (text: string) => ({
      stdout: (data: string | Uint8Array) => void (stdout = data),
      stderr: (s: string) => void (stderr += s),
      stdin: () => Buffer.from(text),
    });
    expect(build(["-", "-o", join(tmp.dir, "s.o")], io("int x = ;\n"), false)).toBe(1);
    expect(stderr).toBe(
      "<stdin>:1:9: error: expected expression\nint x = ;\n        ^\n1 error generated.\n",
    );
    expect(build(["-O2", "-", "-o", "-"], io(PROGRAM), false)).toBe(0);
    expect(stdout).toEqual(
      compile({ file: "<stdin>", source: PROGRAM }, { debug: false, cache: false }).object,
    );
  });
});

describe("tsbpf build through the compile server: what only the client has", () => {
  it("compiles in its own process when it reads stdin or names /dev/stdout, /dev/fd/N, /proc", () => {
    const own = (...args: string[]) => needsOwnProcess(args, tmp.dir);
    expect(own("-O2", "-", "-o", "x.o")).toBe(true);
    expect(own("<(...)", "/dev/fd/63")).toBe(true);
    expect(own("-S", "x.c", "-o", "/dev/stdout")).toBe(true);
    expect(own("-S", "x.c", "-o/dev/stderr")).toBe(true);
    expect(own("-E", "/proc/self/fd/0")).toBe(true);
    expect(needsOwnProcess(["x.c", "-o", "stdout"], "/dev")).toBe(true);
    // These mean the same file in every process: the server can build them.
    expect(own("-S", "x.c", "-o", "-")).toBe(false);
    expect(own("x.c", "-o-")).toBe(false);
    expect(own("x.c", "-o", "/dev/null")).toBe(false);
    expect(own("-DDEV=/dev/x", "-I", "inc", "x.c")).toBe(false);
  });

  it("sends an object written to stdout (-o -) as bytes", () => {
    const cwd = process.cwd();
    try {
      const reply = serveBuild([source, "-o", "-"], tmp.dir);
      expect(reply).toMatchObject({ code: 0, stdout: "", stderr: "" });
      const object = compile(source, { debug: false, optLevel: 0, cache: false }).object;
      expect(new Uint8Array(Buffer.from(reply.stdoutBytes!, "base64"))).toEqual(object);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("tsbpf build: the command line", () => {
  it("stops at the earliest phase asked for, as clang does: -E, then -fsyntax-only, then -S", () => {
    const mode = (...args: string[]) => parseBuildArgs([...args, "x.c"]).mode;
    expect(mode("-E", "-S")).toBe("preprocess");
    expect(mode("-S", "-E", "-c")).toBe("preprocess");
    expect(mode("-S", "-c")).toBe("assembly");
    expect(mode("-fsyntax-only", "-S")).toBe("syntax");
    expect(mode("-c")).toBe("object");
  });

  it("-fsyntax-only reports the program's errors and writes nothing", async () => {
    const out = join(tmp.dir, "syntax.o");
    writeFileSync(out, "not to be touched");
    expect(await runCli("build", ["-fsyntax-only", source, "-o", out])).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
    expect(readFileSync(out, "utf8")).toBe("not to be touched");
    const bad = join(tmp.dir, "syntax.c");
    writeFileSync(bad, "int x = ;\n");
    expect((await runCli("build", ["-fsyntax-only", bad])).stderr).toMatch(
      /^.*syntax\.c:1:9: error/,
    );
  });

  it("-E -o - prints to stdout", async () => {
    const r = await runCli("build", ["-E", "-DV=7", source, "-o", "-"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("int prog(void *ctx)");
    expect(existsSync("-")).toBe(false);
  });

  it.each([
    ["-mcpu=", "error: unknown target CPU ''"],
    ["-mcpu=constructor", "error: unknown target CPU 'constructor'"],
    ["-mcpu=__proto__", "error: unknown target CPU '__proto__'"],
  ])("refuses %s, naming it", async (flag, message) => {
    const r = await runCli("build", [flag, source, "-o", join(tmp.dir, "cpu.o")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`tsbpf build: ${message}`);
  });

  it("--help prints the usage on stdout and exits 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await runCli("build", [flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: tsbpf build /);
      expect(r.stderr).toBe("");
    }
  });
});

describe("tsbpf: the process around a command", () => {
  it("builds in a working directory that was removed, as clang does", async () => {
    const cwd = process.cwd();
    const gone = join(tmp.dir, "gone");
    mkdirSync(gone);
    process.chdir(gone);
    try {
      rmdirSync(gone);
      // The server cannot build there: this process compiles.
      expect(await buildOnServer([source], { ...process.env, TSBPF_SERVER_DIR: tmp.dir })).toBe(
        undefined,
      );
      const out = join(tmp.dir, "gone.o");
      expect(await runCli("build", ["-g", source, "-o", out])).toEqual({
        code: 0,
        stdout: "",
        stderr: "",
      });
      expect(new Uint8Array(readFileSync(out))).toEqual(
        // (source is absolute: the cwd given here, which compile() needs in a removed one, is unused)
        compile(source, { optLevel: 0, debug: true, cache: false, cwd: "/" }).object,
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it("ends with the reason when stdout cannot be written, quietly when its reader is gone", () => {
    const exit = vi.spyOn(process, "exit").mockImplementation((() => undefined) as never);
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const stream = new EventEmitter();
      exitOnWriteError(stream, "standard output");
      const failure = (code: string, errno: number) =>
        Object.assign(new Error(code), { code, errno, syscall: "write" });
      stream.emit("error", failure("ENOSPC", -28));
      expect(err).toHaveBeenCalledWith(
        "tsbpf: error: unable to write to standard output: No space left on device\n",
      );
      stream.emit("error", failure("EPIPE", -32));
      expect(err).toHaveBeenCalledTimes(1);
      expect(exit.mock.calls).toEqual([[1], [1]]);
    } finally {
      exit.mockRestore();
      err.mockRestore();
    }
  });
});

describe("tsbpf server status|stop", () => {
  /** main() of `tsbpf server`, with TSBPF_SERVER_DIR set; what it printed and its exit code. */
  async function serverCommand(action: string, dir: string): Promise<CliResult> {
    const saved = { dir: process.env.TSBPF_SERVER_DIR, on: process.env.TSBPF_SERVER };
    process.env.TSBPF_SERVER_DIR = dir;
    delete process.env.TSBPF_SERVER;
    let stdout = "";
    const out = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      stdout += String(s);
      return true;
    });
    try {
      const code = await serverMain([action]);
      return { code, stdout, stderr: "" };
    } finally {
      out.mockRestore();
      if (saved.dir === undefined) delete process.env.TSBPF_SERVER_DIR;
      else process.env.TSBPF_SERVER_DIR = saved.dir;
      if (saved.on !== undefined) process.env.TSBPF_SERVER = saved.on;
    }
  }

  it("says a server busy with a build is running, and stop waits for it", async () => {
    const dir = join(tmp.dir, "busy");
    mkdirSync(dir, { mode: 0o700 });
    const socket = serverSocket({ TSBPF_SERVER_DIR: dir })!;
    // A server in a long build: it answers nothing but, later, the stop (and keeps the other
    // connections open, as one whose event loop is held by a build does).
    let stopped = false;
    const held: Socket[] = [];
    const busy = createServer({ allowHalfOpen: true }, (c) => {
      held.push(c);
      c.on("error", () => {});
      c.setEncoding("utf8").on("data", (line: string) => {
        if (line.startsWith('{"op":"stop"')) {
          stopped = true;
          c.end("{}\n");
        }
      });
    });
    await new Promise<void>((r) => busy.listen(socket, r));
    try {
      expect(await serverCommand("status", dir)).toEqual({
        code: 0,
        stdout: `running, busy with a build: no answer in 5 s (${socket})\n`,
        stderr: "",
      });
      const stop = await serverCommand("stop", dir);
      expect([stop.code, stop.stdout, stopped]).toEqual([
        0,
        "stopped, once its build ended\n",
        true,
      ]);
    } finally {
      for (const c of held) c.destroy();
      await new Promise((r) => busy.close(r));
    }
    expect((await serverCommand("status", dir)).stdout).toBe(`not running (${socket})\n`);
  });

  it("says why there is no server when its socket path would be too long", async () => {
    const dir = join(tmp.dir, "d".repeat(100));
    const r = await serverCommand("status", dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `no compile server: a socket in ${dir} would be a longer path than a socket can have\n`,
    );
  });
});

describe("tsbpf build: programs that nest deeper than the compiler recurses", () => {
  // Each one passes the parser and ran a later phase out of stack: sema (the sum), BTF (the
  // pointer), type layout (the array). A clang-like result, or an error naming the file.
  it.each([
    ["a sum of 20,000 terms", `int f(int a) { return ${Array(20000).fill("a").join(" + ")}; }\n`],
    ["a pointer to pointer 100,000 deep", `int ${"*".repeat(100000)}p;\n`],
    ["an array of 20,000 dimensions", `int x${"[1]".repeat(20000)};\n`],
  ])("%s: no stack trace", async (_, text) => {
    const file = join(tmp.dir, "deep.c");
    writeFileSync(file, text);
    const r = await runCli("build", [file, "-o", join(tmp.dir, "deep.o")]);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    if (r.code !== 0)
      expect(r.stderr).toBe(
        `error: nesting too deep to compile '${file}' (out of stack)\n1 error generated.\n`,
      );
  });
});
