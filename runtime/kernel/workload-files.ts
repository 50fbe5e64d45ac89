// The "files" workload: processes opening realistic paths (libraries, configuration, logs,
// /proc, temporary files, a few that do not exist), reading and writing with a spread of sizes,
// closing, and removing their temporary files, all through system calls.
import {
  AT_FDCWD,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
} from "./fs.js";
import { NR } from "./syscalls.js";
import type { Task } from "./tasks.js";
import { deltas, type WorkloadContext } from "./workload.js";

interface OpenFd {
  fd: number;
  path: string;
  writable: boolean;
}

export interface FilesState {
  counters: {
    opens: number;
    openFailures: number;
    reads: number;
    readBytes: number;
    writes: number;
    writeBytes: number;
    closes: number;
    creates: number;
    unlinks: number;
  };
  openFds: Map<Task, OpenFd[]>;
  tmpFiles: string[];
  tmpCounter: number;
}

export function newFilesState(): FilesState {
  return {
    counters: {
      opens: 0,
      openFailures: 0,
      reads: 0,
      readBytes: 0,
      writes: 0,
      writeBytes: 0,
      closes: 0,
      creates: 0,
      unlinks: 0,
    },
    openFds: new Map(),
    tmpFiles: [],
    tmpCounter: 0,
  };
}

/** Paths read often, with their relative weights. */
const READ_PATHS: [string, number][] = [
  ["/etc/ld.so.cache", 12],
  ["/lib/x86_64-linux-gnu/libc.so.6", 12],
  ["/etc/passwd", 8],
  ["/etc/hosts", 6],
  ["/etc/nsswitch.conf", 4],
  ["/etc/resolv.conf", 4],
  ["/etc/localtime", 4],
  ["/usr/lib/locale/locale-archive", 6],
  ["/proc/meminfo", 6],
  ["/proc/stat", 4],
  ["/proc/self/stat", 5],
  ["/proc/loadavg", 3],
  ["/sys/fs/cgroup/cpu.max", 2],
  ["/lib/x86_64-linux-gnu/libm.so.6", 3],
  ["/lib/x86_64-linux-gnu/libssl.so.3", 2],
  ["/etc/ssl/certs/ca-certificates.crt", 2],
  ["/usr/share/zoneinfo/UTC", 2],
  ["/var/www/html/index.html", 5],
  ["/var/www/html/style.css", 3],
  ["/home/user/.bashrc", 2],
  ["/home/user/project/main.c", 3],
  ["/home/user/project/util.c", 2],
  ["/home/user/project/Makefile", 2],
  ["/dev/null", 3],
  ["/dev/urandom", 2],
  // Looked up and absent, as on every real system.
  ["/etc/ld.so.preload", 5],
  ["/usr/lib/x86_64-linux-gnu/libtinfo.so.6", 1],
  ["/home/user/.config/git/attributes", 1],
];

const LOG_PATHS = ["/var/log/syslog", "/var/log/auth.log", "/var/log/nginx/access.log"];
const READ_SIZES = [128, 832, 4096, 4096, 8192, 16384, 65536];

export function filesStep(ctx: WorkloadContext): void {
  const r = ctx.random;
  const s = ctx.files;
  const task = ctx.pickTask();
  const fds = s.openFds.get(task) ?? [];
  s.openFds.set(task, fds);
  const writable = fds.filter((f) => f.writable);
  const weights = [
    fds.length >= 12 ? 0 : 30, // open
    fds.length > 0 ? 30 : 0, // read
    writable.length > 0 ? 15 : 0, // write
    fds.length > 0 ? 20 : 0, // close
    s.tmpFiles.length > 0 ? 5 : 0, // unlink
  ];
  switch (r.weighted(weights)) {
    case 0:
      return openSomething(ctx, task, fds);
    case 1: {
      const f = r.pick(fds);
      const size = r.chance(1, 4) ? r.logUniform(6, 15) : r.pick(READ_SIZES);
      const n = ctx.syscall(task, NR.read, "read", () => [f.fd, ctx.userBuffer(task), size]);
      s.counters.reads++;
      if (n > 0) s.counters.readBytes += n;
      return;
    }
    case 2: {
      const f = r.pick(writable);
      const size = r.logUniform(5, 12);
      const n = ctx.syscall(task, NR.write, "write", () => [f.fd, ctx.userBuffer(task), size]);
      s.counters.writes++;
      if (n > 0) s.counters.writeBytes += n;
      return;
    }
    case 3: {
      const i = r.below(fds.length);
      ctx.syscall(task, NR.close, "close", () => [fds[i]!.fd]);
      fds.splice(i, 1);
      s.counters.closes++;
      return;
    }
    default: {
      const path = s.tmpFiles.splice(r.below(s.tmpFiles.length), 1)[0]!;
      const ret = ctx.syscall(task, NR.unlinkat, "unlinkat", () => [
        AT_FDCWD,
        task.process.pushUserString(path),
        0,
      ]);
      if (ret === 0) s.counters.unlinks++;
    }
  }
}

function openSomething(ctx: WorkloadContext, task: Task, fds: OpenFd[]): void {
  const r = ctx.random;
  const s = ctx.files;
  const kind = r.weighted([70, 15, 15]);
  let path: string;
  let flags: number;
  let mode = 0;
  if (kind === 0) {
    path = READ_PATHS[r.weighted(READ_PATHS.map((p) => p[1]))]![0];
    flags = O_RDONLY | O_CLOEXEC;
  } else if (kind === 1) {
    path = r.pick(LOG_PATHS);
    flags = O_WRONLY | O_APPEND | O_CLOEXEC;
  } else {
    path = `/tmp/tmp${(s.tmpCounter++).toString(36).padStart(6, "0")}`;
    flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;
    mode = 0o600;
  }
  const fd = ctx.openat(task, path, flags, mode);
  if (fd < 0) {
    s.counters.openFailures++;
    return;
  }
  s.counters.opens++;
  if (kind === 2) {
    s.counters.creates++;
    s.tmpFiles.push(path);
  }
  fds.push({ fd, path, writable: kind !== 0 });
}

export function filesSummary(ctx: WorkloadContext, before: FilesState["counters"]) {
  return deltas(ctx.files.counters, before);
}
