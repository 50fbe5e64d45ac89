// The scheduler and process lifetime: context switches through schedule() -> __schedule() ->
// finish_task_switch(prev) (which runs as the next task, as in the kernel), forks through
// kernel_clone() -> wake_up_new_task(), wakeups through try_to_wake_up(), exits through
// do_exit(code) -> release_task(). CPU placement is deterministic: a new task goes to the CPU
// with the fewest tasks placed on it, lowest number first.
import type { KernelCpu } from "./cpu.js";
import type { KArg } from "./functions.js";
import type { SimKernel } from "./kernel.js";
import type { KObject, Ptr } from "./objects.js";
import { defineSyscall, NR, asInt, asU64 } from "./syscalls.js";
import { TASK_INTERRUPTIBLE, TASK_NEW, TASK_RUNNING, type Task } from "./tasks.js";
import { utf8 } from "./objects.js";

/** __schedule()'s sched_mode: a voluntary switch. */
const SM_NONE = 0;
/** The CLONE_* flag that makes a thread instead of a process. */
export const CLONE_THREAD = 0x00010000;
const CLONE_VM = 0x00000100;
const SIGCHLD = 17;

export class Scheduler {
  /** the task the next __schedule() switches to */
  next: Task | undefined;
  /** tasks placed on each CPU over time, for placement */
  private readonly placed: number[];
  /** context switches, forks, exits, wakeups */
  switches = 0;
  forks = 0;
  exits = 0;
  wakeups = 0;

  constructor(private readonly kernel: SimKernel) {
    this.placed = kernel.cpus.map(() => 0);
  }

  /** struct rq of a CPU. */
  createRq(cpu: KernelCpu): KObject {
    const rq = this.kernel.newObject("rq");
    rq.set("cpu", cpu.id).set("online", 1).set("curr", cpu.current.obj).set("idle", cpu.idle.obj);
    this.kernel.kallsyms.addData(
      cpu.id === 0 ? "runqueues" : `runqueues.${cpu.id}`,
      rq.lo,
      rq.size,
      "d",
    );
    return rq;
  }

  /** select_task_rq(): the CPU for a new task. */
  pickCpu(): number {
    let best = 0;
    for (let i = 1; i < this.placed.length; i++) if (this.placed[i]! < this.placed[best]!) best = i;
    this.placed[best]!++;
    return best;
  }

  /** Switch `cpu` (the executing CPU) to `next` through schedule(). */
  switchTo(cpu: KernelCpu, next: Task): void {
    if (cpu.current === next) return;
    this.next = next;
    const k = this.kernel;
    const savedBase = cpu.contextBase;
    cpu.contextBase = k.entrySymbol("ret_from_fork");
    try {
      k.call(k.fn("schedule"), []);
    } finally {
      cpu.contextBase = savedBase;
      this.next = undefined;
    }
  }

  /** The task blocks (sleeps) and its CPU goes idle. */
  sleep(task: Task): void {
    const cpu = this.kernel.cpus[task.cpu]!;
    if (cpu.current !== task) {
      task.state = TASK_INTERRUPTIBLE;
      return;
    }
    this.kernel.runOn(cpu.id, undefined, () => {
      task.state = TASK_INTERRUPTIBLE;
      this.switchTo(cpu, cpu.idle);
    });
  }

  /** __schedule()'s switch: `cpu` runs `next` from now on; finish_task_switch(prev) follows. */
  contextSwitch(cpu: KernelCpu, next: Task): Task {
    const prev = cpu.current;
    cpu.current = next;
    cpu.nrSwitches++;
    this.switches++;
    if (next.cpu !== cpu.id) next.setCpu(cpu.id);
    next.state = TASK_RUNNING;
    const rq = cpu.rq!;
    rq.set("curr", next.obj).set("nr_switches", cpu.nrSwitches).set("clock", this.kernel.clock.ns);
    const counter = prev.state === TASK_RUNNING ? "nivcsw" : "nvcsw";
    prev.obj.set(counter, prev.obj.get(counter) + 1);
    prev.obj.set("on_cpu", 0);
    next.obj.set("on_cpu", 1).set("sched_info.last_arrival", this.kernel.clock.ns);
    return prev;
  }

  /** Fork `parent` (the current task of its CPU) through kernel_clone(): the child. */
  fork(parent: Task, comm: string, thread = false, argv?: string[]): Task {
    const k = this.kernel;
    let child: Task | undefined;
    k.runOn(parent.cpu, parent, () => {
      const args = k.stackObject("kernel_clone_args");
      args
        .set("flags", thread ? CLONE_THREAD | CLONE_VM : 0)
        .set("exit_signal", thread ? 0 : SIGCHLD);
      this.pendingFork = { comm, thread, argv };
      const pid = k.call(k.fn("kernel_clone"), [args]) as number;
      child = k.tasks.get(pid);
    });
    return child!;
  }

  /** What the next kernel_clone() creates (the workload's choice of name and kind). */
  pendingFork: { comm: string; thread: boolean; argv?: string[] } | undefined;

  /** The task exits with `code` (do_exit on its CPU) and is reaped. */
  exit(task: Task, code: number): void {
    const k = this.kernel;
    k.runOn(task.cpu, task, () => k.call(k.fn("do_exit"), [code]));
  }
}

export function registerSched(k: SimKernel): void {
  k.defineFunction({
    proto: "void schedule(void)",
    cost: 200,
    size: 0xa0,
    body: (kernel) => kernel.call(kernel.fn("__schedule"), [SM_NONE]),
  });
  k.defineFunction({
    proto: "void __schedule(unsigned int sched_mode)",
    cost: 400,
    size: 0x8c0,
    body: (kernel) => {
      const sched = kernel.sched;
      const cpu = kernel.cpu;
      const next = sched.next ?? cpu.idle;
      if (next === cpu.current) return null;
      const prev = sched.contextSwitch(cpu, next);
      kernel.call(kernel.fn("finish_task_switch"), [prev.obj]);
      return null;
    },
  });
  k.defineFunction({
    proto: "struct rq *finish_task_switch(struct task_struct *prev)",
    cost: 120,
    size: 0x2a0,
    body: (kernel) => kernel.cpu.rq ?? null,
  });
  k.defineFunction({
    proto: "pid_t kernel_clone(struct kernel_clone_args *args)",
    cost: 15_000,
    size: 0x3f0,
    body: (kernel, args) => {
      const sched = kernel.sched;
      const request = sched.pendingFork ?? { comm: kernel.current().comm, thread: false };
      sched.pendingFork = undefined;
      const parent = kernel.current();
      const cloneArgs = args[0] as Ptr;
      const flags = kernel.memory.view.getUint32((cloneArgs.lo >>> 0) + 0, true);
      const thread = request.thread || (flags & CLONE_THREAD) !== 0;
      const child = kernel.tasks.create({
        comm: request.comm,
        parent: thread ? parent.parent : parent,
        threadOf: thread ? parent : undefined,
        cpu: sched.pickCpu(),
        argv: request.argv,
      });
      child.state = TASK_NEW;
      sched.forks++;
      kernel.call(kernel.fn("wake_up_new_task"), [child.obj]);
      return child.pid;
    },
  });
  k.defineFunction({
    proto: "void wake_up_new_task(struct task_struct *p)",
    cost: 800,
    size: 0x240,
    body: (kernel, args) => {
      const task = taskAt(kernel, args[0]);
      if (task) {
        task.state = TASK_RUNNING;
        task.obj.set("on_rq", 1);
      }
      return null;
    },
  });
  k.defineFunction({
    proto: "int try_to_wake_up(struct task_struct *p, unsigned int state, int wake_flags)",
    cost: 600,
    size: 0x520,
    body: (kernel, args) => {
      const task = taskAt(kernel, args[0]);
      if (task === undefined || task.state === TASK_RUNNING) return 0;
      task.state = TASK_RUNNING;
      task.obj.set("on_rq", 1).set("sched_info.last_queued", kernel.clock.ns);
      kernel.sched.wakeups++;
      return 1;
    },
  });
  k.defineFunction({
    proto: "void do_exit(long code)",
    cost: 20_000,
    size: 0x5e0,
    noreturn: true,
    body: (kernel, args) => exitCurrent(kernel, args[0] as number),
  });
  k.defineFunction({
    proto: "void do_group_exit(int exit_code)",
    cost: 300,
    size: 0xb0,
    noreturn: true,
    body: (kernel, args) => kernel.call(kernel.fn("do_exit"), [args[0]!]),
  });
  k.defineFunction({
    proto: "void release_task(struct task_struct *p)",
    cost: 2_000,
    size: 0x4c0,
    body: (kernel, args) => {
      const task = taskAt(kernel, args[0]);
      if (task) kernel.tasks.release(task);
      return null;
    },
  });
  k.defineFunction({
    proto: "void __set_task_comm(struct task_struct *tsk, const char *buf, bool exec)",
    cost: 100,
    size: 0x90,
    body: (kernel, args) => {
      const task = taskAt(kernel, args[0]);
      const name = args[1] as Ptr;
      if (task) task.comm = utf8.decode(kernel.memory.readCString(name.lo, name.hi, 16));
      return null;
    },
  });
  defineSyscall(k, NR.clone, "clone", (kernel, regs) => {
    const args = kernel.stackObject("kernel_clone_args");
    args.set("flags", asU64(regs[0]!) & ~0xff).set("exit_signal", asU64(regs[0]!) & 0xff);
    return kernel.call(kernel.fn("kernel_clone"), [args]);
  });
  defineSyscall(k, NR.exit_group, "exit_group", (kernel, regs) =>
    kernel.call(kernel.fn("do_group_exit"), [(asInt(regs[0]!) & 0xff) << 8]),
  );
  defineSyscall(k, NR.exit, "exit", (kernel, regs) =>
    kernel.call(kernel.fn("do_exit"), [(asInt(regs[0]!) & 0xff) << 8]),
  );
}

/** do_exit(): files closed, children to init, a zombie; the CPU switches away; reaped. */
function exitCurrent(kernel: SimKernel, code: KArg): KArg {
  const cpu = kernel.cpu;
  const task = cpu.current;
  if (task.pid === 0) return null; // the idle task never exits
  task.markExited(typeof code === "number" ? code : 0);
  kernel.sched.exits++;
  if (task.process.threads.length === 1) {
    for (const [fd] of task.process.files.list()) {
      const file = task.process.files.get(fd)!;
      const obj = (file.privateData as { obj?: Ptr } | undefined)?.obj ?? null;
      kernel.call(kernel.fn("filp_close"), [obj, task.process.filesStruct]);
      task.process.closeFile(fd);
    }
  }
  const init = kernel.tasks.get(1);
  for (const child of [...task.children]) {
    if (init && child !== init) {
      child.obj.set("real_parent", init.obj).set("parent", init.obj);
    }
  }
  kernel.sched.switchTo(cpu, cpu.idle);
  kernel.call(kernel.fn("release_task"), [task.obj]);
  return null;
}

/** The task whose task_struct is at a pointer argument. */
function taskAt(kernel: SimKernel, arg: KArg | undefined): Task | undefined {
  if (arg === null || arg === undefined || typeof arg !== "object") return undefined;
  const pid = kernel.memory.view.getInt32((arg.lo >>> 0) + taskPidOffset(kernel), true);
  const task = kernel.tasks.get(pid);
  return task?.obj.lo === arg.lo ? task : undefined;
}

let pidOffset = -1;
function taskPidOffset(kernel: SimKernel): number {
  if (pidOffset < 0)
    pidOffset = kernel.cpus[0]!.idle.obj.at("pid") - kernel.cpus[0]!.idle.obj.offset;
  return pidOffset;
}
