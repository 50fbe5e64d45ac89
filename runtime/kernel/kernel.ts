// The simulated Linux kernel BPF programs attach to: CPUs, one address space, a clock and random
// streams under the workload's control, tasks, kallsyms, kernel functions that call each other
// and fire kprobes, perf events, BPF perf links and the trace buffer. See DESIGN.md's "Runtime
// model"; every run of a workload with the same seed is the same, byte for byte.
//
// The simulated user-space process that loads programs (tsbpf itself, `self`) owns `files`: the
// bpf() facade installs map, program and link fds there, and perf_event_open/ioctl/close work
// on it as the real system calls do.
import type { Btf } from "../btf/btf.js";
import { KERNEL_VERSION, kernelVersionString, BpfProgType } from "../uapi/bpf.js";
import { PtRegs, PT_REGS_SIZE } from "../uapi/ptregs.js";
import { AddressSpace, KERNEL_HI, type Region } from "../vm/memory.js";
import type { AttachableProg, BpfRunContext } from "./attach.js";
import { hi32, KernelClock } from "./clock.js";
import { KernelCpu, MAX_CALL_DEPTH, FRAME_SIZE } from "./cpu.js";
import type { RecordType } from "./ctypes.js";
import { KernelError, KernelTypeError } from "./error.js";
import type { FdTable, KernelFile } from "./files.js";
import {
  callSiteOffset,
  defaultTextSize,
  KernelFunction,
  type KArg,
  type KernelFunctionSpec,
} from "./functions.js";
import { Kallsyms, KERNEL_TEXT_HI, type KernelSymbol } from "./kallsyms.js";
import { KmemCache, Kmalloc } from "./kmem.js";
import { KprobeRegistry } from "./kprobes.js";
import { sizeOf } from "./layout.js";
import { KObject, kptr, type Ptr } from "./objects.js";
import { PerfSubsystem, type PerfEventAttr, type PerfLink } from "./perf.js";
import type { PerfRing } from "./perf-ring.js";
import { Prng } from "./random.js";
import { TaskTable, type Task } from "./tasks.js";
import { TraceBuffer } from "./trace.js";
import { isUserAddress } from "./user.js";
import { kernelStruct, kernelTypes } from "./vmlinux.js";
import { Vfs, registerFs } from "./fs.js";
import { Net, registerNet } from "./net.js";
import { Block, registerBlock } from "./block.js";
import { registerMm } from "./mm.js";
import { registerSched, Scheduler } from "./sched.js";
import { registerAdmin } from "./admin.js";
import { registerSyscalls } from "./syscalls.js";
import { bootTasks } from "./boot.js";
import { kernelBtf } from "./btf.js";
import { utf8 } from "./objects.js";

export interface SimKernelOptions {
  /** number of CPUs (default 2) */
  cpus?: number;
  /** "4.1", "6.1", "6.18" (the verifier rules of the machine's running kernel) or a
   * LINUX_VERSION_CODE (default "6.1") */
  version?: "4.1" | "6.1" | "6.18" | number;
  /** KPROBE programs must carry kern_version == LINUX_VERSION_CODE (default: kernels before 5.0) */
  checkKernVersion?: boolean;
  /** seed of every random stream (default 1) */
  seed?: number;
}

/** LINUX_VERSION_CODE for a version option. 6.1 is the machine's uapi headers' 6.1.192. */
export function versionCode(version: SimKernelOptions["version"]): number {
  if (version === undefined || version === "6.1") return KERNEL_VERSION(6, 1, 192);
  if (version === "4.1") return KERNEL_VERSION(4, 1, 0);
  if (version === "6.18") return KERNEL_VERSION(6, 18, 0);
  if (Number.isInteger(version) && version > 0 && version < 0x1000000) return version;
  throw new KernelError("EINVAL", "SimKernel", `bad kernel version ${String(version)}`);
}

export class SimKernel {
  readonly memory: AddressSpace;
  readonly cpus: KernelCpu[];
  /** LINUX_VERSION_CODE */
  readonly version: number;
  /** PROG_LOAD of a KPROBE program requires kern_version == LINUX_VERSION_CODE */
  checkKernVersion: boolean;
  readonly seed: number;
  readonly clock = new KernelClock();
  /** the workload's random stream */
  readonly random: Prng;
  /** addresses and canaries (ASLR-like choices), apart from the workload's stream */
  readonly layoutRandom: Prng;
  readonly kallsyms = new Kallsyms();
  readonly kmalloc: Kmalloc;
  readonly trace: TraceBuffer;
  readonly kprobes: KprobeRegistry;
  readonly perf: PerfSubsystem;
  readonly functions = new Map<string, KernelFunction>();
  /** sys_call_table: syscall number -> __x64_sys_* handler */
  readonly syscallTable = new Map<number, KernelFunction>();
  readonly tasks: TaskTable;
  readonly vfs: Vfs;
  readonly net: Net;
  readonly block: Block;
  readonly sched: Scheduler;
  /** init_nsproxy and its namespaces */
  readonly initNsproxy: KObject;
  readonly initPidNs: KObject;
  readonly initMntNs: KObject;
  /** the user-space process that calls bpf() and perf_event_open (tsbpf) */
  self!: Task;
  /** the CPU the kernel is executing on now */
  private cpuIndex = 0;
  private readonly caches = new Map<RecordType, KmemCache>();
  private readonly objectCache = new Map<number, KmemCache>();
  private readonly syscallRegs: Region[];
  private readonly pollers: (() => void)[] = [];

  constructor(options: SimKernelOptions = {}) {
    const ncpus = options.cpus ?? 2;
    if (!Number.isInteger(ncpus) || ncpus < 1 || ncpus > 64) {
      throw new KernelError("EINVAL", "SimKernel", `cpus must be 1..64, not ${ncpus}`);
    }
    this.version = versionCode(options.version);
    this.checkKernVersion = options.checkKernVersion ?? this.version < KERNEL_VERSION(5, 0, 0);
    this.seed = options.seed ?? 1;
    this.random = new Prng(this.seed, "workload");
    this.layoutRandom = new Prng(this.seed, "layout");
    this.memory = new AddressSpace(64);
    this.kmalloc = new Kmalloc(this.memory);
    this.trace = new TraceBuffer(this.version);
    this.kprobes = new KprobeRegistry(this);
    this.perf = new PerfSubsystem(this);
    this.cpus = [];
    for (let i = 0; i < ncpus; i++) this.cpus.push(new KernelCpu(this, i, this.memory, this.seed));
    this.syscallRegs = this.cpus.map((c) =>
      this.memory.alloc(PT_REGS_SIZE, {
        name: `syscall pt_regs cpu${c.id}`,
        kind: "kernel_object",
        writable: false,
      }),
    );
    this.defineEntrySymbols();
    this.initPidNs = this.newObject("pid_namespace");
    this.initPidNs.set("ns.inum", 0xeffffffc).set("ns.count.refs.counter", 1).set("level", 0);
    this.initMntNs = this.newObject("mnt_namespace");
    this.initMntNs.set("ns.inum", 0xf0000000).set("ns.count.refs.counter", 1);
    this.initNsproxy = this.newObject("nsproxy");
    this.initNsproxy
      .set("count.counter", 1)
      .set("pid_ns_for_children", this.initPidNs)
      .set("mnt_ns", this.initMntNs);
    this.vfs = new Vfs(this);
    this.net = new Net(this);
    this.block = new Block(this);
    this.sched = new Scheduler(this);
    this.tasks = new TaskTable(this);
    for (const cpu of this.cpus) {
      const idle = this.tasks.createIdle(cpu.id);
      cpu.idle = idle;
      cpu.current = idle;
      cpu.rq = this.sched.createRq(cpu);
    }
    this.kallsyms.addData("init_task", this.cpus[0]!.idle.obj.lo, this.cpus[0]!.idle.obj.size);
    registerSyscalls(this);
    registerFs(this);
    registerNet(this);
    registerBlock(this);
    registerMm(this);
    registerSched(this);
    registerAdmin(this);
    this.vfs.boot();
    this.net.boot();
    this.block.boot();
    bootTasks(this);
  }

  // ---- the machine --------------------------------------------------------------------------

  /** The CPU executing now (workload actions and helpers run on it). */
  get cpu(): KernelCpu {
    return this.cpus[this.cpuIndex]!;
  }

  /** num_possible_cpus() (MapEnv). */
  get possibleCpus(): number {
    return this.cpus.length;
  }

  /** get_random_u32() for map hash seeds (MapEnv): its own stream. */
  readonly random32 = ((): (() => number) => {
    let rng: Prng | undefined;
    return () => (rng ??= new Prng(this.seed, "get_random_u32")).u32();
  })();

  /** The CPU bpf() syscalls run on (MapEnv): where the simulated process runs. */
  syscallCpu(): number {
    return this.self?.cpu ?? 0;
  }

  /**
   * The kernel's BTF, as /sys/kernel/btf/vmlinux publishes it: every type of its memory layouts
   * and a FUNC per kernel function. Built on first use, then shared (callers must not modify it).
   */
  get btf(): Btf {
    return kernelBtf(this);
  }

  /** LINUX_VERSION_CODE of this kernel. */
  get LINUX_VERSION_CODE(): number {
    return this.version;
  }

  /** "6.1.192" */
  get release(): string {
    return kernelVersionString(this.version);
  }

  /** The current task on a CPU (default: the executing one). */
  current(cpu: number = this.cpuIndex): Task {
    return this.cpus[cpu]!.current;
  }

  /**
   * Run `fn` on `cpu`, switching that CPU to `task` first (through schedule(), so the switch is
   * seen by probes on __schedule and finish_task_switch) when another task is running there.
   */
  runOn<T>(cpu: number, task: Task | undefined, fn: () => T): T {
    const saved = this.cpuIndex;
    this.cpuIndex = cpu;
    try {
      const c = this.cpus[cpu]!;
      if (task !== undefined && c.current !== task) this.sched.switchTo(c, task);
      return fn();
    } finally {
      this.cpuIndex = saved;
    }
  }

  /** Run `fn` in an interrupt on `cpu` (softirq for network receive, hardirq for completions). */
  interrupt<T>(cpu: number, kind: "softirq" | "hardirq", fn: () => T): T {
    return this.runOn(cpu, undefined, () => {
      const c = this.cpu;
      const savedBase = c.contextBase;
      const savedSoft = c.inSoftirq;
      const savedHard = c.inHardirq;
      if (kind === "softirq") c.inSoftirq = true;
      else c.inHardirq = true;
      c.contextBase = this.entrySymbol(
        kind === "softirq" ? "__do_softirq" : "asm_common_interrupt",
      );
      try {
        return fn();
      } finally {
        c.contextBase = savedBase;
        c.inSoftirq = savedSoft;
        c.inHardirq = savedHard;
      }
    });
  }

  // ---- kernel functions ---------------------------------------------------------------------

  /** Define a kernel function: parse its prototype, give it a kallsyms address. */
  defineFunction(spec: KernelFunctionSpec): KernelFunction {
    const { name, type } = kernelTypes().parsePrototype(spec.proto);
    if (this.functions.has(name))
      throw new KernelTypeError(`kernel function ${name} defined twice`);
    const symbol = this.kallsyms.addText(name, spec.size ?? defaultTextSize(name));
    const sizes = type.params.map((p) => {
      try {
        return sizeOf(p.type);
      } catch {
        return 8;
      }
    });
    const fn = new KernelFunction(
      name,
      type,
      symbol,
      spec.body,
      spec.cost ?? 50,
      spec.noreturn ?? false,
      sizes,
    );
    this.functions.set(name, fn);
    return fn;
  }

  /** A kernel function by name. */
  fn(name: string): KernelFunction {
    const fn = this.functions.get(name);
    if (fn === undefined) throw new KernelTypeError(`no kernel function ${name}`);
    return fn;
  }

  /**
   * Call a kernel function on the executing CPU: push its frame, fire its kprobes, run its body,
   * let its cost pass on the clock, fire its kretprobes, pop. Returns the body's result.
   */
  call(fn: KernelFunction, args: readonly KArg[]): KArg {
    const cpu = this.cpus[this.cpuIndex]!;
    const depth = cpu.depth;
    if (depth >= MAX_CALL_DEPTH) {
      throw new KernelTypeError(`kernel call depth ${MAX_CALL_DEPTH} exceeded calling ${fn.name}`);
    }
    fn.calls++;
    const caller = depth > 0 ? cpu.frames[depth - 1]! : undefined;
    const ret = caller
      ? caller.lo + callSiteOffset(caller.size, fn.name)
      : (cpu.contextBase ?? this.defaultBase).lo + 0x63;
    cpu.frames[depth] = fn;
    cpu.returnAddrs[depth] = ret | 0;
    cpu.localsUsed[depth] = 0;
    const sp = cpu.stackPointer(depth);
    const view = this.memory.view;
    view.setInt32(sp, ret | 0, true);
    view.setInt32(sp + 4, KERNEL_TEXT_HI, true);
    cpu.depth = depth + 1;
    try {
      if (fn.entryProbes.length !== 0) this.kprobes.fireEntry(fn, args, cpu);
      const result = fn.body(this, args);
      // The function's own work takes its time between its entry and its return.
      this.clock.ns += fn.cost;
      if (fn.returnProbes.length !== 0 && !fn.noreturn)
        this.kprobes.fireReturn(fn, args, result, cpu);
      return result;
    } finally {
      cpu.depth = depth;
    }
  }

  /** Call by name. */
  callByName(name: string, ...args: KArg[]): KArg {
    return this.call(this.fn(name), args);
  }

  /**
   * `size` bytes of the executing function's stack frame (a local variable such as a struct
   * open_how or a loff_t), zeroed; returns the linear offset.
   */
  stackLocal(size: number): number {
    const cpu = this.cpu;
    const depth = Math.max(cpu.depth - 1, 0);
    const used = (cpu.localsUsed[depth] ?? 0) + Math.ceil(size / 8) * 8;
    if (used > FRAME_SIZE - 16)
      throw new KernelTypeError(`stack frame of ${cpu.frames[depth]?.name} overflows`);
    cpu.localsUsed[depth] = used;
    const at = cpu.stackPointer(depth) - used;
    this.memory.u8.fill(0, at, at + size);
    return at;
  }

  /** A struct of a kernel type on the executing function's stack frame. */
  stackObject(structName: string): KObject {
    const record = kernelStruct(structName);
    return new KObject(this.memory, record, this.stackLocal(sizeOf(record)));
  }

  private defaultBase!: KernelSymbol;
  private readonly entrySymbols = new Map<string, KernelSymbol>();

  /** Text symbols of entry code (not probe-able functions): the bottom of every call chain. */
  private defineEntrySymbols(): void {
    for (const [name, size] of [
      ["_stext", 0x40],
      ["startup_64", 0x100],
      ["ret_from_fork", 0x60],
      ["entry_SYSCALL_64", 0x40],
      ["entry_SYSCALL_64_after_hwframe", 0xa0],
      ["asm_common_interrupt", 0x30],
      ["__do_softirq", 0x2e0],
      ["cpu_startup_entry", 0x30],
    ] as const) {
      this.entrySymbols.set(name, this.kallsyms.addText(name, size));
    }
    this.defaultBase = this.entrySymbol("ret_from_fork");
  }

  entrySymbol(name: string): KernelSymbol {
    const s = this.entrySymbols.get(name);
    if (s === undefined) throw new KernelTypeError(`no entry symbol ${name}`);
    return s;
  }

  /**
   * The kernel stack on `cpu` as bpf_get_stackid sees it from a probe: the innermost function's
   * address, then each frame's return address (an address inside its caller), outermost last.
   */
  stackTrace(cpu: KernelCpu = this.cpu): [number, number][] {
    const out: [number, number][] = [];
    if (cpu.depth === 0) return out;
    out.push([cpu.frames[cpu.depth - 1]!.lo, KERNEL_TEXT_HI]);
    for (let d = cpu.depth - 1; d >= 0; d--) out.push([cpu.returnAddrs[d]!, KERNEL_TEXT_HI]);
    return out;
  }

  // ---- kernel memory ------------------------------------------------------------------------

  /** kmem_cache_zalloc() of a struct of the kernel type `structName`. */
  newObject(structName: string): KObject {
    const record = kernelStruct(structName);
    let cache = this.caches.get(record);
    if (cache === undefined) {
      cache = new KmemCache(this.memory, structName, sizeOf(record));
      this.caches.set(record, cache);
    }
    const offset = cache.alloc();
    this.objectCache.set(offset, cache);
    return new KObject(this.memory, record, offset);
  }

  /** kmem_cache_free() of an object from newObject(). */
  freeObject(obj: KObject): void {
    const cache = this.objectCache.get(obj.offset);
    if (cache === undefined)
      throw new KernelTypeError(`freeing ${obj.record.name} at ${obj.offset} twice`);
    this.objectCache.delete(obj.offset);
    cache.release(obj.offset);
  }

  /** A NUL-terminated kernel string (kstrdup): its linear offset. */
  kstrdup(text: string): number {
    const bytes = utf8.encode(text + "\0");
    const at = this.kmalloc.alloc(bytes.length);
    this.memory.u8.set(bytes, at);
    return at;
  }

  // ---- system calls of the workload's tasks --------------------------------------------------

  /**
   * A system call by `task`: switch its CPU to it, write the syscall pt_regs (orig_ax = nr,
   * arguments in di si dx r10 r8 r9) and enter do_syscall_64. `args` runs after the task's
   * user scratch is reset, so it can place strings in user memory. Returns regs->ax.
   */
  syscall(task: Task, nr: number, args: () => KArg[]): number {
    return this.runOn(task.cpu, task, () => {
      const cpu = this.cpu;
      task.process.resetScratch();
      const values = args();
      const regs = this.syscallRegs[cpu.id]!;
      this.fillSyscallRegs(regs, nr, values);
      const savedBase = cpu.contextBase;
      cpu.contextBase = this.entrySymbol("entry_SYSCALL_64_after_hwframe");
      try {
        this.call(this.fn("do_syscall_64"), [kptr(regs.base), nr]);
      } finally {
        cpu.contextBase = savedBase;
      }
      const view = this.memory.view;
      const lo = view.getInt32(regs.base + PtRegs.ax, true);
      const hi = view.getInt32(regs.base + PtRegs.ax + 4, true);
      return hi * 0x100000000 + (lo >>> 0);
    });
  }

  private fillSyscallRegs(regs: Region, nr: number, args: KArg[]): void {
    const view = this.memory.view;
    const base = regs.base;
    this.memory.u8.fill(0, base, base + PT_REGS_SIZE);
    const set = (off: number, v: KArg): void => {
      const lo = v === null ? 0 : typeof v === "object" ? v.lo : v | 0;
      const hi = v === null ? 0 : typeof v === "object" ? v.hi : hi32(v);
      view.setInt32(base + off, lo, true);
      view.setInt32(base + off + 4, hi, true);
    };
    const regsOrder = [PtRegs.di, PtRegs.si, PtRegs.dx, PtRegs.r10, PtRegs.r8, PtRegs.r9];
    args.forEach((a, i) => set(regsOrder[i]!, a));
    const userIp: Ptr = { lo: 0xf7a1b2c0 | 0, hi: 0x7f3c };
    set(PtRegs.orig_ax, nr);
    set(PtRegs.ax, -38); // -ENOSYS until the handler returns
    set(PtRegs.ip, userIp);
    set(PtRegs.cx, userIp); // syscall saves rip in rcx and rflags in r11
    set(PtRegs.r11, 0x246);
    set(PtRegs.flags, 0x246);
    set(PtRegs.cs, 0x33); // __USER_CS
    set(PtRegs.ss, 0x2b); // __USER_DS
    set(PtRegs.sp, { lo: 0xffffe3c0 | 0, hi: 0x7ffd });
  }

  /** Read argument `n` (0-based: di si dx r10 r8 r9) of a syscall's pt_regs. */
  syscallArg(regs: Ptr, n: number): Ptr {
    const at =
      (regs.lo >>> 0) + [PtRegs.di, PtRegs.si, PtRegs.dx, PtRegs.r10, PtRegs.r8, PtRegs.r9][n]!;
    const view = this.memory.view;
    return { lo: view.getInt32(at, true), hi: view.getInt32(at + 4, true) };
  }

  // ---- the simulated process's system calls --------------------------------------------------

  /** The fd table of the simulated process (bpf() fds, perf event fds). */
  get files(): FdTable {
    return this.self.process.files;
  }

  /** Write to /sys/kernel/tracing/kprobe_events; returns the ids of the created events. */
  writeKprobeEvents(text: string): number[] {
    return this.kprobes.write(text);
  }

  /** Create one kprobe event from a kprobe_events line; returns its id (events/.../id). */
  createKprobeEvent(line: string): number {
    const ids = this.kprobes.write(line);
    if (ids.length !== 1)
      throw new KernelError("EINVAL", `kprobe_events: '${line}'`, "expected one probe definition");
    return ids[0]!;
  }

  /** perf_event_open(): a new fd in the simulated process. */
  perfEventOpen(attr: PerfEventAttr, pid: number, cpu: number, groupFd = -1, flags = 0): number {
    return this.perf.open(attr, pid, cpu, groupFd, flags);
  }

  /** ioctl() on an fd of the simulated process (perf events). */
  ioctl(fd: number, request: number, arg = 0): number {
    return this.perf.ioctl(fd, request, arg);
  }

  /** close() an fd of the simulated process. */
  close(fd: number): void {
    this.files.close(fd);
  }

  /** mmap() a perf event's ring buffer of 1 + 2^n pages. */
  perfMmap(fd: number, pages: number): PerfRing {
    return this.perf.mmap(fd, pages);
  }

  /**
   * BPF_LINK_CREATE on a perf event fd (attach type BPF_PERF_EVENT) with a bpf_cookie: the link
   * file, refcount 1, for the caller to install (files.install) as the link fd.
   */
  createPerfLink(
    perfFd: number,
    prog: AttachableProg,
    cookieLo = 0,
    cookieHi = 0,
  ): KernelFile<PerfLink> {
    return this.perf.createPerfLink(perfFd, prog, cookieLo, cookieHi);
  }

  /**
   * PROG_LOAD's kern_version rule: the reason a program must be refused (EINVAL), or undefined.
   * Only KPROBE programs, and only when checkKernVersion is on.
   */
  kernVersionProblem(progType: number, kernVersion: number | undefined): string | undefined {
    if (!this.checkKernVersion || progType !== BpfProgType.BPF_PROG_TYPE_KPROBE) return undefined;
    if (kernVersion === this.version) return undefined;
    const given =
      kernVersion === undefined
        ? "no kern_version"
        : `kern_version 0x${kernVersion.toString(16)} (${kernelVersionString(kernVersion)})`;
    return `kprobe program has ${given}, the kernel's LINUX_VERSION_CODE is 0x${this.version.toString(16)} (${this.release})`;
  }

  // ---- what BPF helpers read --------------------------------------------------------------

  /** current->bpf_ctx on `cpu`: the running attachment (bpf_get_attach_cookie). */
  runContext(cpu: KernelCpu): BpfRunContext | undefined {
    return cpu.runContext;
  }

  /** bpf_trace_printk's output line on `cpu`. */
  tracePrintk(cpu: KernelCpu, message: string): void {
    const task = cpu.current;
    this.trace.record({
      ts: this.clock.ns,
      cpu: cpu.id,
      pid: task.pid,
      comm: task.comm,
      flags: cpu.traceFlags(1, this.version >= KERNEL_VERSION(5, 14, 0)),
      event: "bpf_trace_printk",
      text: message,
    });
  }

  /**
   * Linear offset of `size` bytes of the current task's user memory on `cpu` at (lo, hi), or -1
   * (not a user address, or not mapped). What bpf_probe_read_user and copy_from_user use.
   */
  translateUser(cpu: KernelCpu, lo: number, hi: number, size: number): number {
    if (!isUserAddress(hi)) return -1;
    const user = cpu.current.process.user;
    return user === undefined ? -1 : user.translate(lo, hi, size);
  }

  /**
   * bpf_probe_read_user(): copy `size` bytes from the current task's user memory into program
   * memory at dst. On a fault the destination is zeroed and the result is false (-EFAULT).
   */
  probeReadUser(
    cpu: KernelCpu,
    dstLo: number,
    dstHi: number,
    srcLo: number,
    srcHi: number,
    size: number,
  ): boolean {
    if (size === 0) return true;
    const dst = this.memory.check(dstLo, dstHi, size, "write");
    const src = this.translateUser(cpu, srcLo, srcHi, size);
    if (src < 0) {
      this.memory.u8.fill(0, dst, dst + size);
      return false;
    }
    this.memory.u8.copyWithin(dst, src, src + size);
    return true;
  }

  /**
   * bpf_probe_read_user_str(): copy a string of at most `size` bytes (NUL included, always
   * written); returns the bytes copied including the NUL, or -1 on a fault (destination zeroed).
   */
  probeReadUserStr(
    cpu: KernelCpu,
    dstLo: number,
    dstHi: number,
    srcLo: number,
    srcHi: number,
    size: number,
  ): number {
    if (size === 0) return 0;
    const dst = this.memory.check(dstLo, dstHi, size, "write");
    const u8 = this.memory.u8;
    for (let i = 0; i < size - 1; i++) {
      const s = this.translateUser(cpu, (srcLo + i) | 0, srcHi, 1);
      if (s < 0) {
        u8.fill(0, dst, dst + size);
        return -1;
      }
      u8[dst + i] = u8[s]!;
      if (u8[s] === 0) return i + 1;
    }
    u8[dst + size - 1] = 0;
    return size;
  }

  // ---- output consumers ---------------------------------------------------------------------

  /**
   * Register a user-space consumer (a ring buffer reader, a perf buffer poller). Workloads call
   * poll() at fixed points of simulated time, as a reader woken by epoll would run.
   */
  addPoller(poll: () => void): () => void {
    this.pollers.push(poll);
    return () => {
      const i = this.pollers.indexOf(poll);
      if (i >= 0) this.pollers.splice(i, 1);
    };
  }

  /** Let every consumer drain what is ready. */
  poll(): void {
    for (const p of [...this.pollers]) p();
  }

  /** Address of a kernel object as a (lo, hi) pair. */
  static address(offset: number): Ptr {
    return { lo: offset | 0, hi: KERNEL_HI };
  }
}
