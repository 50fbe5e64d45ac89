// `tsbpf build` through its compile server (compiler/cli/server-client.ts, server.ts), as a user
// runs it: the built bin in a process of its own. Every build through the server is compared
// with the same build in a process that compiles itself (TSBPF_SERVER=0): exit code, stdout,
// stderr and output bytes. Needs dist/ (npm install builds it).
import { spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../emit/tools.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "compiler", "cli", "tsbpf.js");
const CLIENT = join(ROOT, "dist", "compiler", "cli", "server-client.js");
const skip = existsSync(CLI) ? false : "dist/ is not built (npm run build)";
if (skip) console.log(`server.test: skipped: ${skip}`);

type Client = typeof import("../../compiler/cli/server-client.js");
let client: Client;

const tmp = tempDir("tsbpf-server-");
const work = join(tmp.dir, "work");
const started: string[] = [];

interface Built {
  code: number | null;
  stdout: string;
  stderr: string;
  output: Buffer | undefined;
  /** The output file's permission bits. */
  mode?: number;
}

function env(serverDir: string | undefined, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, TSBPF_SERVER_IDLE: "60", ...extra };
  if (serverDir === undefined) e.TSBPF_SERVER = "0";
  else {
    delete e.TSBPF_SERVER;
    e.TSBPF_SERVER_DIR = serverDir;
  }
  return e;
}

/**
 * `tsbpf build ARGS` in `work`; through the server in `serverDir`, or compiling itself; with
 * `umask` when given.
 */
function build(
  args: string[],
  serverDir: string | undefined,
  output?: string,
  umask?: string,
): Built {
  if (output !== undefined) rmSync(join(work, output), { force: true });
  const command = [process.execPath, CLI, "build", ...args];
  const r =
    umask === undefined
      ? spawnSync(command[0]!, command.slice(1), {
          cwd: work,
          env: env(serverDir),
          encoding: "utf8",
        })
      : spawnSync("sh", ["-c", `umask ${umask} && exec "$@"`, "sh", ...command], {
          cwd: work,
          env: env(serverDir),
          encoding: "utf8",
        });
  const out = output !== undefined ? join(work, output) : undefined;
  const made = out !== undefined && existsSync(out);
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    output: made ? readFileSync(out) : undefined,
    ...(made ? { mode: statSync(out).mode & 0o777 } : {}),
  };
}

/** build(), leaving this process's event loop running. */
function buildAsync(args: string[], serverDir: string, output: string): Promise<Built> {
  rmSync(join(work, output), { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "build", ...args], {
      cwd: work,
      env: env(serverDir),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", reject);
    child.on("close", (code) => {
      const out = join(work, output);
      const made = existsSync(out);
      resolve({
        code,
        stdout,
        stderr,
        output: made ? readFileSync(out) : undefined,
        ...(made ? { mode: statSync(out).mode & 0o777 } : {}),
      });
    });
  });
}

/** The server's answer to "stats", or undefined while none listens. */
async function stats(serverDir: string): Promise<{ pid: number; builds: number } | undefined> {
  const socket = socketIn(serverDir);
  try {
    return await client.request(socket, { op: "stats" }, 5000);
  } catch {
    return undefined;
  }
}

function socketIn(serverDir: string): string {
  const socket = client.serverSocket(env(serverDir));
  if (socket === undefined) throw new Error(`no socket for ${serverDir}`);
  return socket;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function serverDir(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { mode: 0o700 });
  started.push(dir);
  return dir;
}

const HEADER = `#define SEC(n) __attribute__((section(n), used))
struct event { int pid; unsigned long long ts; char comm[16]; };
static long (*bpf_trace_printk)(const char *fmt, unsigned int size, ...) = (void *)6;
static unsigned long long (*bpf_ktime_get_ns)(void) = (void *)5;
`;

const PROGRAM = (body: string) => `#include "events.h"
char LICENSE[] SEC("license") = "GPL";
SEC("kprobe/do_nanosleep")
int probe(void *ctx)
{
${body}
}
`;

beforeAll(async () => {
  if (skip) return;
  client = (await import(CLIENT)) as Client;
  mkdirSync(work);
  writeFileSync(join(work, "events.h"), HEADER);
  writeFileSync(
    join(work, "prog.bpf.c"),
    PROGRAM(`  struct event e = { .ts = bpf_ktime_get_ns() };
  bpf_trace_printk("ts %llu\\n", 9, e.ts);
  return 0;`),
  );
});

afterAll(async () => {
  if (!skip) {
    for (const dir of started) {
      try {
        await client.request(socketIn(dir), { op: "stop" }, 5000);
      } catch {
        // not running
      }
    }
  }
  tmp.remove();
});

describe.skipIf(skip)("tsbpf build through the compile server", () => {
  it("gives what a build in its own process gives, and the server answers the later builds", async () => {
    const dir = serverDir("main");
    const flags = ["-O2", "-g", "-mcpu=v3"];
    // The first build finds no server: it compiles itself and starts one.
    const first = build([...flags, "prog.bpf.c", "-o", "a.o"], dir, "a.o");
    const alone = build([...flags, "prog.bpf.c", "-o", "a.o"], undefined, "a.o");
    expect(first).toEqual(alone);
    expect(alone.code).toBe(0);
    const up = await waitFor("the server", () => stats(dir));
    expect(up.builds).toBe(0); // its warm-up build is not counted

    const same = (args: string[], output?: string): void => {
      const viaServer = build(args, dir, output);
      const itself = build(args, undefined, output);
      expect(viaServer, args.join(" ")).toEqual(itself);
    };
    same([...flags, "prog.bpf.c", "-o", "a.o"], "a.o");
    same([...flags, "prog.bpf.c"], "prog.bpf.o"); // clang's default output name
    same([...flags, "-S", "prog.bpf.c", "-o", "-"]);
    same(["-E", "-DEXTRA=1", "prog.bpf.c"]);
    same(["-O0", "-mcpu=v1", "prog.bpf.c", "-o", "b.o"], "b.o");

    // An edit below the #include line (the server goes on from its prefix state), and one in
    // the header (the state no longer fits).
    writeFileSync(
      join(work, "prog.bpf.c"),
      PROGRAM("  int unused;\n  return bpf_ktime_get_ns() > 7;"),
    );
    same([...flags, "-Wall", "prog.bpf.c", "-o", "c.o"], "c.o");
    same([...flags, "-Werror", "prog.bpf.c", "-o", "c.o"], "c.o");
    writeFileSync(join(work, "events.h"), HEADER.replace("int pid;", "int pid; int tgid;"));
    same([...flags, "prog.bpf.c", "-o", "c.o"], "c.o");
    writeFileSync(join(work, "events.h"), HEADER);

    // Errors: in the program, in the command line, in the files named.
    writeFileSync(join(work, "bad.bpf.c"), PROGRAM("  return undeclared + ;"));
    same([...flags, "bad.bpf.c", "-o", "bad.o"], "bad.o");
    same(["-mcpu=v9", "prog.bpf.c"]);
    same(["--frobnicate", "prog.bpf.c"]);
    same(["missing.bpf.c", "-o", "m.o"], "m.o");
    same(["prog.bpf.c", "-o", join(tmp.dir, "no", "such", "dir", "x.o")]);
    // The output file's mode follows the caller's umask, not the server's.
    const masked = build([...flags, "prog.bpf.c", "-o", "m.o"], dir, "m.o", "077");
    expect(masked).toEqual(build([...flags, "prog.bpf.c", "-o", "m.o"], undefined, "m.o", "077"));
    expect(masked.mode).toBe(0o600);

    const after = await stats(dir);
    expect(after?.pid).toBe(up.pid);
    expect(after!.builds - up.builds).toBe(14); // every build above went through it
    expect(build(["prog.bpf.c", "-o", "d.o"], dir, "d.o").code).toBe(0);
  });

  it("replaces a stale socket, and falls back to compiling itself on a reply it cannot read", async () => {
    const dir = serverDir("stale");
    const socket = socketIn(dir);
    writeFileSync(socket, ""); // what a killed server can leave: nothing listens there
    const alone = build(["-O2", "prog.bpf.c", "-o", "s.o"], undefined, "s.o");
    expect(build(["-O2", "prog.bpf.c", "-o", "s.o"], dir, "s.o")).toEqual(alone);
    const up = await waitFor("the server", () => stats(dir));
    await client.request(socket, { op: "stop" }, 5000);
    await waitFor("the server to exit", async () => (existsSync(socket) ? undefined : true));
    expect(up.pid).toBeGreaterThan(0);

    // Something else answers on the socket, with nonsense.
    const impostor = createServer((c) => c.resume().end("nonsense\n"));
    await new Promise<void>((r) => impostor.listen(socket, r));
    try {
      // Not spawnSync: it would block this process's event loop, and with it the impostor.
      expect(await buildAsync(["-O2", "prog.bpf.c", "-o", "s.o"], dir, "s.o")).toEqual(alone);
    } finally {
      await new Promise((r) => impostor.close(r));
    }
  });

  it("uses no server with TSBPF_SERVER=0, nor in a directory others can use", async () => {
    const open = join(tmp.dir, "open");
    mkdirSync(open);
    chmodSync(open, 0o755);
    expect(client.serverDirectory(env(open))).toBeUndefined();
    const alone = build(["-O2", "prog.bpf.c", "-o", "o.o"], undefined, "o.o");
    expect(build(["-O2", "prog.bpf.c", "-o", "o.o"], open, "o.o")).toEqual(alone);
    const off = serverDir("off");
    const r = spawnSync(process.execPath, [CLI, "build", "prog.bpf.c", "-o", "o.o"], {
      cwd: work,
      env: { ...env(off), TSBPF_SERVER: "0" },
    });
    expect(r.status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(socketIn(off))).toBe(false);
  });

  it("exits when idle, taking its socket with it", async () => {
    const dir = serverDir("idle");
    const r = spawnSync(process.execPath, [CLI, "build", "prog.bpf.c", "-o", "i.o"], {
      cwd: work,
      env: env(dir, { TSBPF_SERVER_IDLE: "1" }),
    });
    expect(r.status).toBe(0);
    const socket = socketIn(dir);
    await waitFor("the server", () => stats(dir));
    await waitFor("the idle server to exit", async () => (existsSync(socket) ? undefined : true));
    expect(await stats(dir)).toBeUndefined();
  });

  it("tsbpf server status and stop", async () => {
    const dir = serverDir("command");
    const server = (action: string) =>
      spawnSync(process.execPath, [CLI, "server", action], { env: env(dir), encoding: "utf8" });
    const before = server("status");
    expect([before.status, before.stdout]).toEqual([1, `not running (${socketIn(dir)})\n`]);
    build(["prog.bpf.c", "-o", "t.o"], dir, "t.o");
    const up = await waitFor("the server", () => stats(dir));
    const status = server("status");
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^running: pid ${up.pid}, 0 builds, `));
    expect(server("stop").stdout).toBe(`stopped: pid ${up.pid}\n`);
    await waitFor("the server to exit", async () => (existsSync(socketIn(dir)) ? undefined : true));
    expect(server("status").status).toBe(1);
    expect(server("restart").stderr).toBe("tsbpf server: usage: tsbpf server status|stop\n");
  });

  it("names the server after the compiler's files, the Node binary and TZ", () => {
    const root = join(tmp.dir, "fingerprint");
    mkdirSync(join(root, "compiler", "cli"), { recursive: true });
    mkdirSync(join(root, "runtime"), { recursive: true });
    writeFileSync(join(root, "compiler", "cli", "a.js"), "1");
    writeFileSync(join(root, "runtime", "b.js"), "2");
    const base = client.compilerFingerprint(root, {});
    expect(client.compilerFingerprint(root, {})).toBe(base);
    expect(client.compilerFingerprint(root, { TZ: "Asia/Tokyo" })).not.toBe(base);
    writeFileSync(join(root, "runtime", "b.js"), "22");
    const changed = client.compilerFingerprint(root, {});
    expect(changed).not.toBe(base);
    writeFileSync(join(root, "runtime", "c.js"), "3");
    expect(client.compilerFingerprint(root, {})).not.toBe(changed);
  });
});
