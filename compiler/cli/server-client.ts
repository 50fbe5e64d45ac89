// `tsbpf build` through a compile server. A fresh Node process spends most of a build starting
// up: loading the compiler, and running it before V8 has compiled it to machine code (a program
// with a vmlinux.h takes ~5x the CPU time in a fresh process that it takes in one that has
// compiled before). So, like the Gradle and Kotlin daemons, `tsbpf build` hands its command line
// to a server process that stays up between builds, has the compiler warm and keeps the prefix
// cache (frontend.ts) of the programs it built: rebuilding a program after an edit below its
// #include lines preprocesses, parses and checks only what follows them.
//
// The server is per user and per tsbpf build: its socket is in a directory only the user can
// use (TSBPF_SERVER_DIR, default $TMPDIR/tsbpf-UID, mode 0700) and is named after a fingerprint
// of the compiler's files, the Node binary and TZ (for __DATE__ and __TIME__), so a changed
// tsbpf never answers with an old compiler. The first build finds no server: it compiles in its
// own process, as it would without one, and starts the server, which compiles the same program
// once to warm up and then waits. A server with no build for TSBPF_SERVER_IDLE seconds (600)
// exits. Anything wrong with the server (none, refused, gone mid-build, a reply that does not
// parse, no reply for 2 minutes) makes the build compile in its own process, so the server
// can only make a build faster, never change what it gives: the server runs the same code
// (build.ts) in the client's working directory and replies with its exit code, stdout and
// stderr. A build that reads stdin or names /dev/stdout and the like compiles in its own
// process (needsOwnProcess). TSBPF_SERVER=0 turns it off.
//
// This module is what the client loads: node built-ins only, so it costs nothing next to the
// compiler it saves loading.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type ServerRequest =
  { op: "build"; argv: string[]; cwd: string; umask?: number } | { op: "stats" } | { op: "stop" };

export interface BuildReply {
  code: number;
  stdout: string;
  stderr: string;
  /** What the build wrote to stdout when that was bytes (an object, -o -), base64. */
  stdoutBytes?: string;
}

export interface StatsReply {
  pid: number;
  /** The server process's CPU time so far (all its threads), microseconds. */
  cpuUs: number;
  /** Builds it has answered. */
  builds: number;
}

/** The directory holding this build's compiler/ and runtime/ (dist/ when run as JavaScript). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SERVER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "server.js");

/** Unix socket paths longer than this do not fit sockaddr_un (108 bytes with the NUL). */
const MAX_SOCKET_PATH = 100;
/**
 * How long a build waits for the server's reply before compiling in its own process: builds
 * queue there (it answers one at a time), and a warm build takes well under a second.
 */
const REPLY_TIMEOUT_MS = 120_000;

/** Whether builds go through a server: not with TSBPF_SERVER=0. */
export function serverEnabled(env: NodeJS.ProcessEnv): boolean {
  return env.TSBPF_SERVER !== "0";
}

/**
 * The directory for the server's socket, made if absent; undefined if it is not a directory
 * only this user can use (another user could otherwise answer our builds).
 */
export function serverDirectory(env: NodeJS.ProcessEnv): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = env.TSBPF_SERVER_DIR || join(tmpdir(), `tsbpf-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return dir;
}

/** Names, sizes and modification times of the compiler's files, the Node binary's and TZ. */
export function compilerFingerprint(root = PACKAGE_ROOT, env = process.env): string {
  const hash = createHash("sha256");
  hash.update(`${process.execPath}\0${process.version}\0${env.TZ ?? ""}\0`);
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".js")) {
        const st = statSync(path);
        hash.update(`${path}\0${st.size}\0${st.mtimeMs}\0`);
      }
    }
  };
  for (const sub of ["compiler", "runtime"]) walk(join(root, sub));
  return hash.digest("hex").slice(0, 16);
}

/** The socket of the server for this tsbpf, or undefined when builds cannot use one. */
export function serverSocket(env: NodeJS.ProcessEnv): string | undefined {
  if (!serverEnabled(env)) return undefined;
  const dir = serverDirectory(env);
  if (dir === undefined) return undefined;
  let socket: string;
  try {
    socket = join(dir, `build-${compilerFingerprint(PACKAGE_ROOT, env)}.sock`);
  } catch {
    return undefined;
  }
  return socket.length <= MAX_SOCKET_PATH ? socket : undefined;
}

/**
 * Sends one request and reads the reply (one line of JSON each way). Rejects with the
 * connection's error (ENOENT, ECONNREFUSED: no server), or when the server closes without a
 * reply, or does not reply in time (code ETIMEDOUT: it took the request, and is busy).
 */
export function request<T>(
  socket: string,
  req: ServerRequest,
  timeoutMs = REPLY_TIMEOUT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      conn.destroy();
      const late = new Error("the compile server did not reply in time");
      reject(Object.assign(late, { code: "ETIMEDOUT" }));
    }, timeoutMs);
    conn.on("connect", () => conn.end(JSON.stringify(req) + "\n"));
    conn.on("data", (chunk: Buffer) => chunks.push(chunk));
    conn.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on("close", () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as T);
      } catch {
        reject(new Error("the compile server closed without a reply"));
      }
    });
  });
}

/** Starts a server on `socket`, detached: it outlives this process. */
export function startServer(socket: string, warmUp: ServerRequest | undefined): void {
  const args = ["--expose-gc", SERVER_SCRIPT, socket]; // server.ts: collectWhenIdle
  if (warmUp !== undefined) args.push(JSON.stringify(warmUp));
  const child = spawn(process.execPath, args, { detached: true, stdio: "ignore", cwd: "/" });
  child.on("error", () => {}); // cannot start: later builds compile in their own process
  child.unref();
}

function isBuildReply(r: unknown): r is BuildReply {
  const b = r as BuildReply;
  return (
    typeof b === "object" &&
    b !== null &&
    typeof b.code === "number" &&
    typeof b.stdout === "string" &&
    typeof b.stderr === "string" &&
    (b.stdoutBytes === undefined || typeof b.stdoutBytes === "string")
  );
}

/**
 * Whether a build must compile in this process: it reads stdin (`-`, but for -o's), or names a
 * file under /dev or /proc but /dev/null, which can be another file in the server (/dev/stdout,
 * /dev/fd/63 from `<(...)`, /dev/tty): the server would read or write its own.
 */
export function needsOwnProcess(args: string[], cwd: string): boolean {
  return args.some((a, i) => {
    if (a === "-") return args[i - 1] !== "-o";
    const path = /^-[oI]./.test(a) ? a.slice(2) : a.startsWith("-") ? undefined : a;
    if (path === undefined) return false;
    const full = resolve(cwd, path);
    return /^\/(dev|proc)\//.test(full) && full !== "/dev/null";
  });
}

/**
 * Runs `tsbpf build ARGS` on the server and writes its output; the exit code, or undefined
 * when the build must compile in this process (then a server is started if none answered).
 */
export async function buildOnServer(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<number | undefined> {
  let cwd: string;
  try {
    cwd = process.cwd();
  } catch {
    return undefined; // the working directory was removed: the server cannot build there
  }
  if (needsOwnProcess(args, cwd)) return undefined;
  const socket = serverSocket(env);
  if (socket === undefined) return undefined;
  // The umask too: the server makes the output file, with the mode this process would give it.
  const req: ServerRequest = { op: "build", argv: args, cwd, umask: process.umask() };
  let reply: unknown;
  try {
    reply = await request<unknown>(socket, req);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ECONNREFUSED") startServer(socket, req);
    return undefined;
  }
  if (!isBuildReply(reply)) return undefined;
  if (reply.stdout) process.stdout.write(reply.stdout);
  if (reply.stdoutBytes) process.stdout.write(Buffer.from(reply.stdoutBytes, "base64"));
  if (reply.stderr) process.stderr.write(reply.stderr);
  return reply.code;
}

const SERVER_USAGE = "usage: tsbpf server status|stop";
/** How long `tsbpf server status` waits for the server's answer. */
const STATUS_TIMEOUT_MS = 5000;

/**
 * `tsbpf server status|stop`: whether the compile server of this tsbpf (and this TZ, user and
 * TSBPF_SERVER_DIR) is up, with its pid and the builds it answered; or stop it. A server busy
 * with a long build answers neither until the build ends: status says so, stop waits for it.
 */
export async function main(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if ((action !== "status" && action !== "stop") || rest.length > 0) {
    process.stderr.write(`tsbpf server: ${SERVER_USAGE}\n`);
    return 1;
  }
  if (!serverEnabled(process.env)) {
    process.stdout.write("the compile server is off (TSBPF_SERVER=0)\n");
    return action === "stop" ? 0 : 1;
  }
  const socket = serverSocket(process.env);
  if (socket === undefined) {
    const dir = serverDirectory(process.env);
    process.stdout.write(
      dir === undefined
        ? "no compile server: no directory only this user can use for its socket\n"
        : `no compile server: a socket in ${dir} would be a longer path than a socket can have\n`,
    );
    return action === "stop" ? 0 : 1;
  }
  const busy = (err: unknown) => (err as NodeJS.ErrnoException).code === "ETIMEDOUT";
  let stats: StatsReply | undefined;
  try {
    stats = await request<StatsReply>(socket, { op: "stats" }, STATUS_TIMEOUT_MS);
  } catch (err) {
    if (!busy(err)) {
      process.stdout.write(`not running (${socket})\n`);
      return action === "stop" ? 0 : 1;
    }
  }
  const seconds = STATUS_TIMEOUT_MS / 1000;
  if (action === "status") {
    if (stats === undefined) {
      process.stdout.write(`running, busy with a build: no answer in ${seconds} s (${socket})\n`);
      return 0;
    }
    const cpu = (stats.cpuUs / 1e6).toFixed(1);
    process.stdout.write(
      `running: pid ${stats.pid}, ${stats.builds} builds, ${cpu} s of CPU (${socket})\n`,
    );
    return 0;
  }
  try {
    // A busy server reads this when its build ends.
    await request(
      socket,
      { op: "stop" },
      stats === undefined ? REPLY_TIMEOUT_MS : STATUS_TIMEOUT_MS,
    );
  } catch (err) {
    if (busy(err)) {
      process.stdout.write(
        `not stopped: still busy after ${REPLY_TIMEOUT_MS / 1000} s (${socket})\n`,
      );
      return 1;
    }
  }
  process.stdout.write(
    stats === undefined ? "stopped, once its build ended\n" : `stopped: pid ${stats.pid}\n`,
  );
  return 0;
}
