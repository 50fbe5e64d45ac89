// The compile server behind `tsbpf build` (see server-client.ts for why and how it is found).
//
//   node server.js SOCKET [WARM-UP REQUEST]
//
// Listens on SOCKET and answers one request per connection, one at a time: "build" runs
// build.ts's command in the request's working directory with the prefix cache on and replies
// with what it wrote and its exit code; "stats" replies with the process's CPU time (for the
// benchmark, which counts the server's time with the client's); "stop" exits. It exits after
// TSBPF_SERVER_IDLE seconds without a request, and when its socket is gone or is another
// server's. It writes nothing of its own anywhere: it is detached, with no terminal.
import { chdir } from "node:process";
import { statSync, unlinkSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { build } from "./build.js";
import { commandErrorText } from "./report.js";
import type { BuildReply, ServerRequest, StatsReply } from "./server-client.js";

const DEFAULT_IDLE_SECONDS = 600;
/** How often the server checks that its socket is still its own. */
const CHECK_MS = 10_000;

/** Runs a build as `tsbpf build ARGS` would in `cwd`, capturing its output. */
export function serveBuild(argv: string[], cwd: string, umask?: number): BuildReply {
  const reply: BuildReply = { code: 1, stdout: "", stderr: "" };
  try {
    chdir(cwd);
    if (umask !== undefined) process.umask(umask);
    reply.code = build(
      argv,
      {
        stdout: (data) => {
          if (typeof data === "string") reply.stdout += data;
          else reply.stdoutBytes = Buffer.from(data).toString("base64");
        },
        stderr: (text) => void (reply.stderr += text),
      },
      true,
    );
  } catch (err) {
    reply.stderr += commandErrorText(err);
    reply.code = 1;
  }
  return reply;
}

function parseRequest(line: string): ServerRequest | undefined {
  try {
    const r = JSON.parse(line) as ServerRequest;
    if (r.op === "stats" || r.op === "stop") return r;
    if (
      r.op === "build" &&
      Array.isArray(r.argv) &&
      r.argv.every((a) => typeof a === "string") &&
      typeof r.cwd === "string" &&
      (r.umask === undefined || (Number.isInteger(r.umask) && r.umask >= 0 && r.umask <= 0o777))
    )
      return r;
  } catch {
    // not JSON: no reply
  }
  return undefined;
}

/** How long after a build, with no other, the server collects its garbage. */
const COLLECT_AFTER_MS = 1000;
let collectTimer: NodeJS.Timeout | undefined;

/**
 * A build leaves hundreds of MB of garbage (a vmlinux.h's tokens) that V8 would keep mapped
 * until its next collection, which an idle process never reaches: the server collects once it
 * has had no build for a second (it is started with --expose-gc), which returns the memory.
 */
function collectWhenIdle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  if (collectTimer !== undefined) clearTimeout(collectTimer);
  collectTimer = setTimeout(() => {
    collectTimer = undefined;
    gc();
  }, COLLECT_AFTER_MS);
  collectTimer.unref();
}

function serve(socketPath: string, warmUp: ServerRequest | undefined): void {
  const idleMs =
    1000 *
    (Number(process.env.TSBPF_SERVER_IDLE) > 0
      ? Number(process.env.TSBPF_SERVER_IDLE)
      : DEFAULT_IDLE_SECONDS);
  let builds = 0;
  let lastRequest = Date.now();
  let inode = 0;
  let triedUnlink = false;

  const server: Server = createServer((conn: Socket) => {
    let input = "";
    conn.setEncoding("utf8");
    conn.on("error", () => {}); // a client gone mid-reply
    conn.on("data", (chunk: string) => {
      input += chunk;
      const end = input.indexOf("\n");
      if (end < 0) return;
      lastRequest = Date.now();
      const req = parseRequest(input.slice(0, end));
      input = "";
      if (req === undefined) return void conn.destroy();
      if (req.op === "stop") {
        conn.on("close", shutDown); // whether or not the reply got there (the client may be gone)
        conn.end("{}\n");
        return;
      }
      let reply: BuildReply | StatsReply;
      if (req.op === "stats") {
        const u = process.cpuUsage();
        reply = { pid: process.pid, cpuUs: u.user + u.system, builds };
      } else {
        reply = serveBuild(req.argv, req.cwd, req.umask);
        builds++;
        lastRequest = Date.now();
        collectWhenIdle();
      }
      conn.end(JSON.stringify(reply) + "\n");
    });
  });

  // Leaves the socket file alone unless it is still this server's (another may have taken it).
  const ownsSocket = (): boolean => {
    try {
      return statSync(socketPath).ino === inode;
    } catch {
      return false;
    }
  };
  const shutDown = (): void => {
    if (ownsSocket()) server.close(() => process.exit(0));
    else process.exit(0);
  };

  server.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EADDRINUSE" || triedUnlink) process.exit(0);
    // A server answers there already (then this one is not needed), or the socket is stale.
    const probe = connect(socketPath);
    probe.on("connect", () => process.exit(0));
    probe.on("error", () => {
      triedUnlink = true;
      try {
        unlinkSync(socketPath);
      } catch {
        // gone already
      }
      server.listen(socketPath);
    });
  });

  server.listen(socketPath, () => {
    inode = statSync(socketPath).ino;
    if (warmUp?.op === "build") {
      // The build that started this server compiled in its own process; this compile warms
      // the compiler and stores the program's prefix state, and its output is thrown away.
      const argv = warmUp.argv.filter((a, i, all) => !a.startsWith("-o") && all[i - 1] !== "-o");
      serveBuild([...argv, "-o", "/dev/null"], warmUp.cwd);
      lastRequest = Date.now();
      collectWhenIdle();
    }
    setInterval(
      () => {
        if (!ownsSocket()) process.exit(0);
        if (Date.now() - lastRequest >= idleMs) shutDown();
      },
      Math.min(CHECK_MS, idleMs),
    ).unref();
    // The timer is unref'd; the listening server keeps the process up.
  });
}

const [script, socketPath, warmUpText] = process.argv.slice(1);
if (script !== undefined && import.meta.url === pathToFileURL(script).href && socketPath) {
  serve(socketPath, warmUpText === undefined ? undefined : parseRequest(warmUpText));
}
