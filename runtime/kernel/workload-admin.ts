// The "admin" workload: the housekeeping of a server. Services reloaded with signals (and
// liveness checks with signal 0, some of gone processes), sync before maintenance, a root shell
// mounting and an unprivileged one trying to, daemons binding listening ports (privileged ones
// refused to non-root users), and configuration probed with stat, some of it absent.
import { ADMIN_NR } from "./admin.js";
import { NR } from "./syscalls.js";
import type { Task } from "./tasks.js";
import { deltas, type WorkloadContext } from "./workload.js";

export interface AdminState {
  counters: {
    kills: number;
    killFailures: number;
    syncs: number;
    mounts: number;
    mountFailures: number;
    binds: number;
    bindFailures: number;
    stats: number;
    statFailures: number;
  };
  /** signal number -> kill calls */
  signals: Map<number, number>;
  /** path -> stat calls */
  statsByPath: Map<string, number>;
  /** "source dest" -> mount calls */
  mountsBy: Map<string, number>;
  /** port -> bind calls */
  bindsByPort: Map<number, number>;
}

export function newAdminState(): AdminState {
  return {
    counters: {
      kills: 0,
      killFailures: 0,
      syncs: 0,
      mounts: 0,
      mountFailures: 0,
      binds: 0,
      bindFailures: 0,
      stats: 0,
      statFailures: 0,
    },
    signals: new Map(),
    statsByPath: new Map(),
    mountsBy: new Map(),
    bindsByPort: new Map(),
  };
}

/** SIGHUP reloads, SIGUSR1 reopens logs, 0 checks liveness, SIGTERM ends. */
const SIGNALS: [number, number][] = [
  [1, 30],
  [10, 15],
  [0, 45],
  [15, 10],
];
const STAT_PATHS = [
  "/etc/passwd",
  "/etc/hosts",
  "/etc/nginx/nginx.conf",
  "/etc/ssl/certs/ca-certificates.crt",
  "/var/log/syslog",
  "/var/run/nginx.pid",
  "/etc/cron.d/backup",
  "/home/user/.bashrc",
];
const MOUNTS: [string, string, string][] = [
  ["tmpfs", "/mnt/scratch", "tmpfs"],
  ["/dev/sdb1", "/mnt/backup", "ext4"],
  ["/var/www", "/srv/www", "none"],
];
const PORTS = [80, 443, 8080, 5432, 6379, 22, 9000];

function count<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export function adminStep(ctx: WorkloadContext): void {
  const r = ctx.random;
  const s = ctx.admin;
  switch (r.weighted([25, 10, 10, 20, 35])) {
    case 0: {
      const sender = ctx.pickTask((t) => t.comm === "systemd" || t.comm === "bash");
      const sig = SIGNALS[r.weighted(SIGNALS.map((x) => x[1]))]![0];
      // a live service, or a pid from a stale pid file
      const pid = r.chance(1, 5)
        ? r.range(30000, 32000)
        : ctx.pickTask((t) => ["nginx", "rsyslogd", "postgres", "redis-server"].includes(t.comm))
            .tgid;
      const ret = ctx.syscall(sender, ADMIN_NR.kill, "kill", () => [pid, sig]);
      s.counters.kills++;
      count(s.signals, sig);
      if (ret < 0) s.counters.killFailures++;
      return;
    }
    case 1: {
      ctx.syscall(
        ctx.pickTask((t) => t.comm === "cron" || t.comm === "bash"),
        ADMIN_NR.sync,
        "sync",
        () => [],
      );
      s.counters.syncs++;
      return;
    }
    case 2: {
      const task = ctx.pickTask((t) => t.comm === "systemd" || t.comm === "bash");
      const [source, dest, type] = r.pick(MOUNTS);
      const ret = ctx.syscall(task, ADMIN_NR.mount, "mount", () => [
        task.process.pushUserString(source),
        task.process.pushUserString(dest),
        task.process.pushUserString(type),
        type === "none" ? 0x1000 : 0, // MS_BIND
        null,
      ]);
      s.counters.mounts++;
      count(s.mountsBy, `${source} ${dest}`);
      if (ret < 0) s.counters.mountFailures++;
      return;
    }
    case 3:
      return bindPort(
        ctx,
        ctx.pickTask((t) => ["nginx", "sshd", "bash", "redis-server"].includes(t.comm)),
      );
    default: {
      const task = ctx.pickTask();
      const path = r.pick(STAT_PATHS);
      const ret = ctx.syscall(task, ADMIN_NR.newfstatat, "newfstatat", () => [
        -100, // AT_FDCWD
        task.process.pushUserString(path),
        ctx.userBuffer(task),
        0,
      ]);
      s.counters.stats++;
      count(s.statsByPath, path);
      if (ret < 0) s.counters.statFailures++;
    }
  }
}

/** socket(), bind() to a port, close(). */
function bindPort(ctx: WorkloadContext, task: Task): void {
  const s = ctx.admin;
  const fd = ctx.syscall(task, NR.socket, "socket", () => [2, 1, 0]);
  if (fd < 0) return;
  const port = ctx.random.pick(PORTS);
  const addr = new Uint8Array(16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, 2, true);
  view.setUint16(2, port, false);
  const ret = ctx.syscall(task, ADMIN_NR.bind, "bind", () => [
    fd,
    task.process.pushUserBytes(addr),
    16,
  ]);
  s.counters.binds++;
  count(s.bindsByPort, port);
  if (ret < 0) s.counters.bindFailures++;
  ctx.syscall(task, NR.close, "close", () => [fd]);
}

const record = <K extends string | number>(map: Map<K, number>): Record<string, number> =>
  Object.fromEntries(
    [...map]
      .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : String(a[0]) > String(b[0]) ? 1 : 0))
      .map(([k, n]) => [String(k), n]),
  );

export function adminSummary(ctx: WorkloadContext, before: AdminState["counters"]) {
  const s = ctx.admin;
  const out = {
    ...deltas(s.counters, before),
    signals: record(s.signals),
    statsByPath: record(s.statsByPath),
    mountsBy: record(s.mountsBy),
    bindsByPort: record(s.bindsByPort),
  };
  s.signals.clear();
  s.statsByPath.clear();
  s.mountsBy.clear();
  s.bindsByPort.clear();
  return out;
}
