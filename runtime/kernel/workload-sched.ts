// The "sched" workload: a shell and cron forking short-lived commands (kernel_clone ->
// wake_up_new_task) that exit with realistic codes (exit_group through do_syscall_64, or killed
// by a signal: do_exit), tasks sleeping and being woken (try_to_wake_up), and CPUs switching
// between runnable tasks (schedule -> __schedule -> finish_task_switch).
import { NR } from "./syscalls.js";
import { TASK_INTERRUPTIBLE, type Task } from "./tasks.js";
import { deltas, type WorkloadContext } from "./workload.js";

export interface SchedState {
  counters: { forks: number; exits: number; sleeps: number; wakeups: number; switches: number };
  exitCodes: Map<number, number>;
  children: Task[];
}

export function newSchedState(): SchedState {
  return {
    counters: { forks: 0, exits: 0, sleeps: 0, wakeups: 0, switches: 0 },
    exitCodes: new Map(),
    children: [],
  };
}

const COMMANDS: string[][] = [
  ["ls", "-la"],
  ["cat", "/etc/hosts"],
  ["grep", "-r", "TODO", "."],
  ["git", "status"],
  ["make", "-j4"],
  ["gcc", "-O2", "-c", "main.c"],
  ["python3", "script.py"],
  ["sh", "-c", "date"],
  ["curl", "-s", "https://example.com"],
  ["ps", "aux"],
];
/** wait status values: exit(0), exit(1), exit(2), exit(127), killed by SIGKILL, SIGTERM */
const EXIT_STATUS: [number, number][] = [
  [0, 70],
  [1 << 8, 10],
  [2 << 8, 5],
  [127 << 8, 3],
  [9, 6],
  [15, 6],
];

export function schedStep(ctx: WorkloadContext): void {
  const r = ctx.random;
  const s = ctx.sched;
  const k = ctx.kernel;
  const sleeping = ctx.userTasks().filter((t) => t.state === TASK_INTERRUPTIBLE);
  const before = k.sched.switches;
  switch (
    r.weighted([
      s.children.length < 24 ? 20 : 0,
      s.children.length > 0 ? 18 : 0,
      32,
      12,
      sleeping.length > 0 ? 18 : 0,
    ])
  ) {
    case 0: {
      const parent = ctx.pickTask(
        (t) => t.comm === "bash" || t.comm === "cron" || t.comm === "sshd",
      );
      const argv = r.pick(COMMANDS);
      const child = k.sched.fork(parent, argv[0]!, false, argv);
      s.children.push(child);
      s.counters.forks++;
      k.runOn(child.cpu, child, () => undefined); // the child gets the CPU
      break;
    }
    case 1: {
      const child = s.children.splice(r.below(s.children.length), 1)[0]!;
      const status = EXIT_STATUS[r.weighted(EXIT_STATUS.map((e) => e[1]))]![0];
      if ((status & 0x7f) === 0) {
        ctx.syscall(child, NR.exit_group, "exit_group", () => [status >> 8]);
      } else {
        k.sched.exit(child, status);
      }
      s.exitCodes.set(status, (s.exitCodes.get(status) ?? 0) + 1);
      s.counters.exits++;
      break;
    }
    case 2: {
      const task = ctx.pickTask((t) => t.state !== TASK_INTERRUPTIBLE);
      const cpu = r.below(k.cpus.length);
      k.runOn(cpu, task, () => undefined);
      break;
    }
    case 3: {
      const task = ctx.pickTask((t) => t.state !== TASK_INTERRUPTIBLE && !s.children.includes(t));
      k.sched.sleep(task);
      s.counters.sleeps++;
      break;
    }
    default: {
      const task = r.pick(sleeping);
      const cpu = r.below(k.cpus.length);
      k.interrupt(cpu, "hardirq", () => k.call(k.fn("try_to_wake_up"), [task.obj, 3, 0]));
      s.counters.wakeups++;
    }
  }
  s.counters.switches += k.sched.switches - before;
}

export function schedSummary(ctx: WorkloadContext, before: SchedState["counters"]) {
  const exitCodes: Record<string, number> = {};
  for (const [code, n] of [...ctx.sched.exitCodes].sort((a, b) => a[0] - b[0]))
    exitCodes[String(code)] = n;
  ctx.sched.exitCodes.clear();
  return {
    ...deltas(ctx.sched.counters, before),
    exitCodes,
    switchesPerCpu: ctx.kernel.cpus.map((c) => c.nrSwitches),
  };
}
