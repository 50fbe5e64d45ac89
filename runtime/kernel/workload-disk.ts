// The "disk" workload: a database and a logger writing and fsyncing (write bios, the task asleep
// until the completion interrupt wakes it), and cold reads of large files missing the page cache
// (read bios). Each request's latency comes from its disk's seeded distribution.
import { O_APPEND, O_CLOEXEC, O_RDONLY, O_WRONLY } from "./fs.js";
import { NR } from "./syscalls.js";
import type { Task } from "./tasks.js";
import type { WorkloadContext } from "./workload.js";

export interface DiskState {
  counters: {
    fsyncs: number;
    writes: number;
    writeBytes: number;
    reads: number;
    readBytes: number;
  };
  writers: Map<Task, number>;
  readers: Map<Task, number>;
}

export function newDiskState(): DiskState {
  return {
    counters: { fsyncs: 0, writes: 0, writeBytes: 0, reads: 0, readBytes: 0 },
    writers: new Map(),
    readers: new Map(),
  };
}

const WRITE_TARGETS: [string, string][] = [
  ["postgres", "/var/lib/postgresql/14/main/pg_wal/000000010000000000000001"],
  ["rsyslogd", "/var/log/syslog"],
  ["systemd-journal", "/var/log/auth.log"],
];
const COLD_FILES = [
  "/var/lib/postgresql/14/main/base/16384/1259",
  "/var/lib/postgresql/14/main/base/16384/2619",
  "/usr/bin/git",
  "/lib/x86_64-linux-gnu/libssl.so.3",
  "/usr/lib/locale/locale-archive",
];

export function diskStep(ctx: WorkloadContext): void {
  const r = ctx.random;
  const s = ctx.disk;
  if (r.chance(2, 3)) {
    const [comm, path] = r.pick(WRITE_TARGETS);
    const task = ctx.pickTask((t) => t.comm === comm);
    let fd = s.writers.get(task);
    if (fd === undefined) {
      fd = ctx.openat(task, path, O_WRONLY | O_APPEND | O_CLOEXEC);
      s.writers.set(task, fd);
    }
    const size = r.logUniform(9, 17);
    const n = ctx.syscall(task, NR.write, "write", () => [fd, ctx.userBuffer(task), size]);
    s.counters.writes++;
    if (n > 0) s.counters.writeBytes += n;
    if (r.chance(1, 2)) {
      ctx.syscall(task, NR.fsync, "fsync", () => [fd]);
      s.counters.fsyncs++;
    }
    return;
  }
  const task = ctx.pickTask((t) => t.comm === "postgres" || t.comm === "bash");
  const path = r.pick(COLD_FILES);
  const fd = ctx.openat(task, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const size = r.logUniform(12, 16);
  const n = ctx.syscall(task, NR.read, "read", () => [fd, ctx.userBuffer(task), size]);
  s.counters.reads++;
  if (n > 0) s.counters.readBytes += n;
  ctx.syscall(task, NR.close, "close", () => [fd]);
}

export function diskSummary(ctx: WorkloadContext, completedBefore: number) {
  const done = ctx.kernel.block.completed.slice(completedBefore);
  const requests: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  const latencyLog2Us: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  for (const c of done) {
    requests[c.disk] = (requests[c.disk] ?? 0) + 1;
    bytes[c.disk] = (bytes[c.disk] ?? 0) + c.bytes;
    const us = Math.floor(c.latencyNs / 1000);
    const slot = us === 0 ? 0 : Math.floor(Math.log2(us)) + 1;
    latencyLog2Us[slot] = (latencyLog2Us[slot] ?? 0) + 1;
    if (c.op === 0) reads++;
    else writes++;
  }
  const d = ctx.disk.counters;
  return {
    ...d,
    requests,
    bytes,
    readRequests: reads,
    writeRequests: writes,
    latencyLog2Us,
    inFlight: ctx.kernel.block.inFlight,
  };
}
