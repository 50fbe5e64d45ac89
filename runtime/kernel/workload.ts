// Workloads: a busy machine, deterministic for a seed and an event count. Each event is one
// action of a task (a system call, a packet, a block completion batch, an allocation, a fork or
// exit ...); between events simulated time passes, due disk completions run in their interrupts
// and, every `pollEvery` events, user-space consumers poll their buffers. Every random choice
// comes from the kernel's workload stream, never from what BPF programs do.
//
// runWorkload() returns a summary of what the kernel did (calls per function, bytes, paths,
// connections, latencies ...) so a test can check a program's output against kernel state.
import { KernelError } from "./error.js";
import type { SimKernel } from "./kernel.js";
import type { Task } from "./tasks.js";
import { AT_FDCWD } from "./fs.js";
import { NR } from "./syscalls.js";
import { filesStep, type FilesState, newFilesState, filesSummary } from "./workload-files.js";
import { netStep, type NetState, newNetState, netSummary } from "./workload-net.js";
import { diskStep, diskSummary, newDiskState, type DiskState } from "./workload-disk.js";
import { allocStep, allocSummary, newAllocState, type AllocState } from "./workload-alloc.js";
import { schedStep, schedSummary, newSchedState, type SchedState } from "./workload-sched.js";
import { adminStep, adminSummary, newAdminState, type AdminState } from "./workload-admin.js";

/** The workloads `tsbpf run --workload` offers ("admin": kill, sync, mount, bind, stat). */
export const WORKLOADS = ["files", "net", "disk", "alloc", "sched", "mixed", "admin"] as const;
/** Every workload runWorkload() knows. */
export const ALL_WORKLOADS = WORKLOADS;
export type WorkloadName = (typeof ALL_WORKLOADS)[number];

export interface WorkloadOptions {
  /** actions to perform (default 1000) */
  events?: number;
  /** user-space consumers poll after this many events (default 64) */
  pollEvery?: number;
}

export interface WorkloadSummary {
  workload: WorkloadName;
  events: number;
  /** CLOCK_MONOTONIC at the start and end, ns */
  startNs: number;
  endNs: number;
  /** calls per kernel function during the run (functions called at least once) */
  calls: Record<string, number>;
  /** system calls by name */
  syscalls: Record<string, number>;
  /** every openat by path (successful or not) */
  opensByPath: Record<string, number>;
  files?: ReturnType<typeof filesSummary>;
  net?: ReturnType<typeof netSummary>;
  disk?: ReturnType<typeof diskSummary>;
  alloc?: ReturnType<typeof allocSummary>;
  sched?: ReturnType<typeof schedSummary>;
  admin?: ReturnType<typeof adminSummary>;
}

/** What the workload steps share. */
export class WorkloadContext {
  readonly files: FilesState;
  readonly net: NetState;
  readonly disk: DiskState;
  readonly alloc: AllocState;
  readonly sched: SchedState;
  readonly admin: AdminState;
  readonly syscalls = new Map<string, number>();
  readonly opensByPath = new Map<string, number>();

  constructor(readonly kernel: SimKernel) {
    this.files = newFilesState();
    this.net = newNetState();
    this.disk = newDiskState();
    this.alloc = newAllocState();
    this.sched = newSchedState();
    this.admin = newAdminState();
  }

  get random() {
    return this.kernel.random;
  }

  /** User tasks that make system calls (not kernel threads, not tsbpf itself). */
  userTasks(): Task[] {
    const k = this.kernel;
    return k.tasks
      .list()
      .filter((t) => !t.isKthread && t !== k.self && t.pid > 1 && t.exitState === 0);
  }

  /** Kernel worker threads. */
  kworkers(): Task[] {
    return this.kernel.tasks
      .list()
      .filter((t) => t.comm.startsWith("kworker/") && t.exitState === 0);
  }

  /** A user task picked at random (weighted towards the busy daemons by list order). */
  pickTask(filter?: (t: Task) => boolean): Task {
    const tasks = this.userTasks().filter((t) => filter === undefined || filter(t));
    if (tasks.length === 0) throw new KernelError("ESRCH", "workload", "no task to run");
    return this.random.pick(tasks);
  }

  /** A system call counted by name. */
  syscall(
    task: Task,
    nr: number,
    name: string,
    args: () => ReturnType<Parameters<SimKernel["syscall"]>[2]>,
  ): number {
    this.syscalls.set(name, (this.syscalls.get(name) ?? 0) + 1);
    return this.kernel.syscall(task, nr, args);
  }

  /** openat(AT_FDCWD, path, flags, mode) by `task`, counted by path: the fd or -errno. */
  openat(task: Task, path: string, flags: number, mode = 0): number {
    this.opensByPath.set(path, (this.opensByPath.get(path) ?? 0) + 1);
    return this.syscall(task, NR.openat, "openat", () => [
      AT_FDCWD,
      task.process.pushUserString(path),
      flags,
      mode,
    ]);
  }

  /** The task's heap buffer as a user pointer (the read/write buffer). */
  userBuffer(task: Task, offset = 0): { lo: number; hi: number } {
    const heap = task.process.userHeap();
    return { lo: (heap.lo + offset) | 0, hi: heap.hi };
  }
}

type Step = (ctx: WorkloadContext) => void;

const STEPS: Record<Exclude<WorkloadName, "mixed">, Step> = {
  files: filesStep,
  net: netStep,
  disk: diskStep,
  alloc: allocStep,
  sched: schedStep,
  admin: adminStep,
};

/** How often each workload runs in "mixed" (a file-heavy server; "admin" is not part of it). */
const MIXED_WEIGHTS: [Exclude<WorkloadName, "mixed">, number][] = [
  ["files", 40],
  ["net", 25],
  ["disk", 10],
  ["alloc", 15],
  ["sched", 10],
];

const contexts = new WeakMap<SimKernel, WorkloadContext>();

/** Run `events` actions of a workload on the kernel and summarize what happened. */
export function runWorkload(
  kernel: SimKernel,
  name: WorkloadName,
  options: WorkloadOptions = {},
): WorkloadSummary {
  if (!(ALL_WORKLOADS as readonly string[]).includes(name)) {
    throw new KernelError(
      "EINVAL",
      "workload",
      `unknown workload '${name}' (${ALL_WORKLOADS.join(", ")})`,
    );
  }
  const events = options.events ?? 1000;
  const pollEvery = options.pollEvery ?? 64;
  if (!Number.isInteger(events) || events < 0)
    throw new KernelError("EINVAL", "workload", `bad event count ${events}`);
  if (!Number.isInteger(pollEvery) || pollEvery < 1)
    throw new KernelError("EINVAL", "workload", `bad poll interval ${pollEvery}`);
  let ctx = contexts.get(kernel);
  if (ctx === undefined) {
    ctx = new WorkloadContext(kernel);
    contexts.set(kernel, ctx);
  }
  const before = callCounts(kernel);
  const syscallsBefore = new Map(ctx.syscalls);
  const opensBefore = new Map(ctx.opensByPath);
  const snapshots = {
    files: { ...ctx.files.counters },
    net: { ...ctx.net.counters },
    disk: kernel.block.completed.length,
    alloc: { ...ctx.alloc.counters },
    sched: { ...ctx.sched.counters },
    admin: { ...ctx.admin.counters },
  };
  const startNs = kernel.clock.ns;
  const random = kernel.random;
  for (let i = 0; i < events; i++) {
    kernel.block.idle(random.logUniform(11, 15)); // 2..64 us between actions
    const step =
      name === "mixed"
        ? STEPS[MIXED_WEIGHTS[random.weighted(MIXED_WEIGHTS.map((w) => w[1]))]![0]]
        : STEPS[name];
    step(ctx);
    if ((i + 1) % pollEvery === 0) kernel.poll();
  }
  kernel.block.completeDue();
  kernel.poll();
  const summary: WorkloadSummary = {
    workload: name,
    events,
    startNs,
    endNs: kernel.clock.ns,
    calls: diffCounts(before, callCounts(kernel)),
    syscalls: diffCounts(syscallsBefore, ctx.syscalls),
    opensByPath: diffCounts(opensBefore, ctx.opensByPath),
  };
  const used = (n: Exclude<WorkloadName, "mixed">): boolean => name === n || name === "mixed";
  if (used("files")) summary.files = filesSummary(ctx, snapshots.files);
  if (used("net")) summary.net = netSummary(ctx, snapshots.net);
  if (used("disk") || used("files")) summary.disk = diskSummary(ctx, snapshots.disk);
  if (used("alloc")) summary.alloc = allocSummary(ctx, snapshots.alloc);
  if (used("sched")) summary.sched = schedSummary(ctx, snapshots.sched);
  if (name === "admin") summary.admin = adminSummary(ctx, snapshots.admin);
  return summary;
}

function callCounts(kernel: SimKernel): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, fn] of kernel.functions) out.set(name, fn.calls);
  return out;
}

function diffCounts(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of [...after].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const d = n - (before.get(name) ?? 0);
    if (d > 0) out[name] = d;
  }
  return out;
}

/** Counter deltas between two snapshots of a flat record of numbers. */
export function deltas<T extends Record<string, number>>(now: T, then: T): T {
  const out = {} as Record<string, number>;
  for (const key of Object.keys(now)) out[key] = now[key]! - (then[key] ?? 0);
  return out as T;
}
