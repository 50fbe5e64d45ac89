// Tasks and processes. A Task is a thread with its task_struct (and cred, struct pid) in the
// address space; a Process is what the threads of one tgid share: the mm with its user memory,
// the open files (an FdTable plus files_struct/fdtable in memory), fs_struct and signal_struct.
// Every field a tracing program commonly reads is kept in memory as the kernel keeps it: pid,
// tgid, comm, real_parent, parent, group_leader, cred->uid, flags, exit_code, __state, mm ...
import { KERNEL_HI } from "../vm/memory.js";
import { lo32 } from "./clock.js";
import { FdTable, type KernelFile } from "./files.js";
import type { SimKernel } from "./kernel.js";
import { KObject, kptr, NULL, type Ptr } from "./objects.js";
import { UserMemory, type UserMapping } from "./user.js";
import { utf8 } from "./objects.js";

// task_struct->flags (include/linux/sched.h)
export const PF_IDLE = 0x00000002;
export const PF_EXITING = 0x00000004;
export const PF_WQ_WORKER = 0x00000020;
export const PF_FORKNOEXEC = 0x00000040;
export const PF_SUPERPRIV = 0x00000100;
export const PF_NOFREEZE = 0x00008000;
export const PF_KTHREAD = 0x00200000;
export const PF_RANDOMIZE = 0x00400000;

// task_struct->__state and exit_state
export const TASK_RUNNING = 0x0000;
export const TASK_INTERRUPTIBLE = 0x0001;
export const TASK_UNINTERRUPTIBLE = 0x0002;
export const EXIT_DEAD = 0x0010;
export const EXIT_ZOMBIE = 0x0020;
export const TASK_DEAD = 0x0080;
export const TASK_NEW = 0x0800;

/** Namespace inode numbers of the initial namespaces (PROC_*_INIT_INO). */
export const PROC_PID_INIT_INO = 0xeffffffc;
export const PROC_MNT_INIT_INO = 0xeffffff8 + 8; // 0xf0000000, as init_mnt_ns is allocated

/** Bytes of user stack and heap mapped for each process. */
const USER_STACK_SIZE = 16 * 1024;
const USER_HEAP_SIZE = 64 * 1024;
/** fdtable slots of each process (max_fds) */
const MAX_FDS = 256;

export interface TaskOptions {
  comm: string;
  uid?: number;
  gid?: number;
  /** the CPU the task runs on */
  cpu?: number;
  kthread?: boolean;
  /** a thread of this task's process instead of a new process */
  threadOf?: Task;
  parent?: Task;
  /** the command line (argv) written at mm->arg_start */
  argv?: string[];
  flags?: number;
}

/** What the threads of one process share. */
export class Process {
  readonly threads: Task[] = [];
  /** mm_struct, absent for kernel threads */
  readonly mm: KObject | undefined;
  readonly user: UserMemory | undefined;
  readonly files: FdTable;
  readonly filesStruct: KObject;
  /** linear offset of the fdtable's `struct file *fd[MAX_FDS]` array */
  private readonly fdArray: number;
  readonly fs: KObject;
  readonly signal: KObject;
  private stack: UserMapping | undefined;
  private heap: UserMapping | undefined;
  /** next free byte of per-syscall scratch at the top of the user stack */
  private scratch = 0;

  constructor(
    private readonly kernel: SimKernel,
    readonly tgid: number,
    readonly name: string,
    kthread: boolean,
  ) {
    const memory = kernel.memory;
    this.files = new FdTable(`${name}[${tgid}]`, MAX_FDS, !kthread);
    this.filesStruct = kernel.newObject("files_struct");
    this.fdArray = kernel.kmalloc.alloc(MAX_FDS * 8);
    const fdt = this.filesStruct.at("fdtab");
    this.filesStruct
      .set("count.counter", 1)
      .set("fdt", kptr(fdt))
      .set("fdtab.max_fds", MAX_FDS)
      .set("fdtab.fd", kptr(this.fdArray))
      .set("next_fd", 0);
    this.fs = kernel.newObject("fs_struct");
    this.fs.set("users", 1).set("umask", 0o22);
    kernel.vfs.setRootAndPwd(this.fs);
    this.signal = kernel.newObject("signal_struct");
    this.signal.set("sigcnt.refs.counter", 1).set("live.counter", 1);
    if (kthread) {
      this.mm = undefined;
      this.user = undefined;
    } else {
      this.user = new UserMemory(memory, `${name}[${tgid}]`);
      this.mm = kernel.newObject("mm_struct");
      this.mm
        .set("mm_users.counter", 1)
        .set("mm_count.counter", 1)
        .set("map_count", 2)
        .set("task_size", 0x7ffffffff000);
    }
    for (const [fd, file] of this.files.list()) this.setFdSlot(fd, file);
  }

  /** fd_install(): a new fd for `file`, also visible in files_struct->fdt->fd[]. */
  installFile(file: KernelFile): number {
    const fd = this.files.install(file);
    this.setFdSlot(fd, file);
    return fd;
  }

  /** close_fd(): returns the file that was open (its reference now dropped) or undefined. */
  closeFile(fd: number): KernelFile | undefined {
    const file = this.files.get(fd);
    if (file === undefined) return undefined;
    this.setFdSlot(fd, undefined);
    this.files.close(fd);
    return file;
  }

  private setFdSlot(fd: number, file: KernelFile | undefined): void {
    if (fd >= MAX_FDS) return;
    const obj = (file?.privateData as { obj?: Ptr } | undefined)?.obj;
    const p = obj ?? NULL;
    this.kernel.memory.view.setInt32(this.fdArray + fd * 8, p.lo, true);
    this.kernel.memory.view.setInt32(this.fdArray + fd * 8 + 4, file && obj ? p.hi : 0, true);
  }

  /** The process's user stack (mapped on first use at a seeded, ASLR-like address). */
  userStack(): UserMapping {
    if (this.stack === undefined) {
      const rng = this.kernel.layoutRandom;
      const hi = 0x7ffc + rng.below(4);
      const lo = (0xfff00000 - rng.below(0x1000) * 0x1000) >>> 0;
      this.stack = this.user!.map(lo, hi, USER_STACK_SIZE, "[stack]");
      this.mm?.set("start_stack", hi * 0x100000000 + lo + USER_STACK_SIZE - 0x100);
    }
    return this.stack;
  }

  /** The process's heap, where its read/write buffers live. */
  userHeap(): UserMapping {
    if (this.heap === undefined) {
      const rng = this.kernel.layoutRandom;
      const hi = 0x5500 + rng.below(0x100);
      const lo = (0x10000000 + rng.below(0x10000) * 0x1000) >>> 0;
      this.heap = this.user!.map(lo, hi, USER_HEAP_SIZE, "[heap]");
      const start = hi * 0x100000000 + lo;
      this.mm?.set("start_brk", start).set("brk", start + USER_HEAP_SIZE);
    }
    return this.heap;
  }

  /** Start a system call: its string arguments are written from the top of the stack down. */
  resetScratch(): void {
    this.scratch = 0;
  }

  /** Copy a NUL-terminated string into user memory (the caller's stack); returns its address. */
  pushUserString(text: string): Ptr {
    return this.pushUserBytes(utf8.encode(text + "\0"));
  }

  pushUserBytes(bytes: Uint8Array): Ptr {
    const stack = this.userStack();
    this.scratch = Math.ceil((this.scratch + bytes.length) / 8) * 8;
    if (this.scratch > USER_STACK_SIZE - 256) this.scratch = Math.ceil(bytes.length / 8) * 8;
    const at: Ptr = { lo: lo32(stack.lo + USER_STACK_SIZE - 256 - this.scratch), hi: stack.hi };
    this.user!.write(at, bytes);
    return at;
  }

  /** Record the command line at mm->arg_start..arg_end, as execve leaves it. */
  setArgv(argv: string[]): void {
    if (this.mm === undefined) return;
    const bytes = utf8.encode(argv.join("\0") + "\0");
    const stack = this.userStack();
    const offset = USER_STACK_SIZE - 256 + 8;
    const at: Ptr = { lo: lo32(stack.lo + offset), hi: stack.hi };
    const n = Math.min(bytes.length, 240);
    this.user!.write(at, bytes.subarray(0, n));
    const start = stack.hi * 0x100000000 + (stack.lo >>> 0) + offset;
    this.mm.set("arg_start", start).set("arg_end", start + n);
  }

  /** The process is gone: its files closed, user memory unmapped, its objects freed. */
  release(): void {
    this.files.closeAll();
    this.user?.release();
    const k = this.kernel;
    k.kmalloc.free(this.fdArray);
    for (const obj of [this.mm, this.filesStruct, this.fs, this.signal]) if (obj) k.freeObject(obj);
  }
}

export class Task {
  readonly obj: KObject;
  readonly cred: KObject;
  readonly pidStruct: KObject;
  readonly children: Task[] = [];
  /** TASK_RUNNING, TASK_INTERRUPTIBLE ... (mirrored in task_struct->__state) */
  private stateValue = TASK_RUNNING;
  exitCode = 0;
  exitState = 0;
  /** the CPU the task last ran on */
  cpu: number;
  private commValue: string;

  constructor(
    private readonly kernel: SimKernel,
    readonly pid: number,
    readonly process: Process,
    readonly parent: Task | undefined,
    options: TaskOptions,
  ) {
    this.cpu = options.cpu ?? 0;
    this.commValue = options.comm;
    const uid = options.uid ?? parent?.uid ?? 0;
    const gid = options.gid ?? parent?.gid ?? 0;
    this.cred = kernel.newObject("cred");
    this.cred.set("usage.counter", 1);
    for (const f of ["uid", "suid", "euid", "fsuid"]) this.cred.set(`${f}.val`, uid);
    for (const f of ["gid", "sgid", "egid", "fsgid"]) this.cred.set(`${f}.val`, gid);
    if (uid === 0) {
      for (const f of ["cap_permitted", "cap_effective", "cap_bset"]) {
        this.cred.set(`${f}.cap[0]`, 0xffffffff).set(`${f}.cap[1]`, 0x1ff);
      }
    }
    this.pidStruct = kernel.newObject("pid");
    this.pidStruct
      .set("count.refs.counter", 1)
      .set("numbers[0].nr", pid)
      .set("numbers[0].ns", kernel.initPidNs);
    const t = kernel.newObject("task_struct");
    this.obj = t;
    const leader = options.threadOf?.process.threads[0] ?? this;
    const flags = (options.flags ?? 0) | (options.kthread ? PF_KTHREAD : 0);
    t.set("thread_info.cpu", this.cpu)
      .set("__state", TASK_RUNNING)
      .set("stack", kptr(kernel.cpus[this.cpu]?.kernelStack.base ?? 0))
      .set("usage.refs.counter", 1)
      .set("flags", flags)
      .set("cpu", this.cpu)
      .set("prio", 120)
      .set("static_prio", 120)
      .set("normal_prio", 120)
      .set("nr_cpus_allowed", kernel.cpus.length || 1)
      .set("se.load.weight", 1048576)
      .set("mm", process.mm ?? null)
      .set("active_mm", process.mm ?? null)
      .set("exit_signal", 17)
      .set("pid", pid)
      .set("tgid", process.tgid)
      .set("stack_canary", kernel.layoutRandom.u32())
      .set("real_parent", parent?.obj ?? t)
      .set("parent", parent?.obj ?? t)
      .set("group_leader", leader.obj ?? t)
      .set("thread_pid", this.pidStruct)
      .set("start_time", kernel.clock.ns)
      .set("start_boottime", kernel.clock.bootNs)
      .set("real_cred", this.cred)
      .set("cred", this.cred)
      .set("fs", process.fs)
      .set("files", process.filesStruct)
      .set("nsproxy", kernel.initNsproxy)
      .set("signal", process.signal);
    for (const list of ["children", "sibling", "thread_group", "tasks"]) {
      t.set(`${list}.next`, t.addressOf(list)).set(`${list}.prev`, t.addressOf(list));
    }
    t.setString("comm", options.comm);
    parent?.children.push(this);
    process.threads.push(this);
  }

  get comm(): string {
    return this.commValue;
  }

  /** set_task_comm(): the name programs read from task_struct->comm (15 bytes kept). */
  set comm(name: string) {
    this.commValue = name.slice(0, 15);
    this.obj.setString("comm", name);
  }

  get tgid(): number {
    return this.process.tgid;
  }

  get uid(): number {
    return this.cred.get("uid.val");
  }

  get gid(): number {
    return this.cred.get("gid.val");
  }

  get flags(): number {
    return this.obj.get("flags");
  }

  set flags(value: number) {
    this.obj.set("flags", value);
  }

  get state(): number {
    return this.stateValue;
  }

  set state(value: number) {
    this.stateValue = value;
    this.obj.set("__state", value);
  }

  get isKthread(): boolean {
    return (this.flags & PF_KTHREAD) !== 0;
  }

  /** Address of the task_struct (bpf_get_current_task()). */
  get address(): Ptr {
    return this.obj;
  }

  /** Move the task to `cpu` (set_task_cpu). */
  setCpu(cpu: number): void {
    this.cpu = cpu;
    this.obj.set("cpu", cpu).set("thread_info.cpu", cpu);
  }

  /** do_exit()'s bookkeeping: exit_code, PF_EXITING, then a zombie until reaped. */
  markExited(code: number): void {
    this.exitCode = code;
    this.obj.set("exit_code", code);
    this.flags = this.flags | PF_EXITING;
    this.exitState = EXIT_ZOMBIE;
    this.obj.set("exit_state", EXIT_ZOMBIE);
    this.state = TASK_DEAD;
  }
}

/** The pid allocator and every live task. */
export class TaskTable {
  private readonly byPid = new Map<number, Task>();
  private nextPid: number;

  constructor(
    private readonly kernel: SimKernel,
    firstPid = 1,
  ) {
    this.nextPid = firstPid;
  }

  /** A task by pid (the initial namespace's numbers). */
  get(pid: number): Task | undefined {
    return this.byPid.get(pid);
  }

  private sorted: Task[] | undefined;

  /** Every live task (zombies included), by pid. Do not modify the array. */
  list(): readonly Task[] {
    this.sorted ??= [...this.byPid.values()].sort((a, b) => a.pid - b.pid);
    return this.sorted;
  }

  get count(): number {
    return this.byPid.size;
  }

  /** The idle task of a CPU: pid 0, "swapper/N". */
  createIdle(cpu: number): Task {
    const process = new Process(this.kernel, 0, `swapper/${cpu}`, true);
    return new Task(this.kernel, 0, process, undefined, {
      comm: `swapper/${cpu}`,
      cpu,
      kthread: true,
      flags: PF_IDLE,
    });
  }

  /** A new task: a new process, or a thread of options.threadOf's process. */
  create(options: TaskOptions): Task {
    const pid = this.allocPid();
    const process =
      options.threadOf?.process ??
      new Process(this.kernel, pid, options.comm, options.kthread ?? false);
    const parent = options.parent ?? options.threadOf?.parent;
    const task = new Task(this.kernel, pid, process, parent, options);
    this.byPid.set(pid, task);
    this.sorted = undefined;
    if (options.argv !== undefined) process.setArgv(options.argv);
    return task;
  }

  /** Continue pid allocation at `pid` (boot leaves gaps as a real boot does). */
  skipTo(pid: number): void {
    if (pid > this.nextPid) this.nextPid = pid;
  }

  private allocPid(): number {
    while (this.byPid.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  /** release_task(): a reaped zombie disappears; its objects go back to their caches. */
  release(task: Task): void {
    this.byPid.delete(task.pid);
    this.sorted = undefined;
    task.exitState = EXIT_DEAD;
    task.obj.set("exit_state", EXIT_DEAD);
    const siblings = task.parent?.children;
    if (siblings) siblings.splice(siblings.indexOf(task), 1);
    const threads = task.process.threads;
    threads.splice(threads.indexOf(task), 1);
    if (threads.length === 0) task.process.release();
    this.kernel.freeObject(task.cred);
    this.kernel.freeObject(task.pidStruct);
    this.kernel.freeObject(task.obj);
  }
}

/** task_struct address as a (lo, hi) pair for a kernel address. */
export const taskPtr = (task: Task): Ptr => ({ lo: task.obj.lo, hi: KERNEL_HI });
