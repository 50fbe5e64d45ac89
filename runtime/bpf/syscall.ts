// The bpf() system call of the simulated kernel, for the simulated process that loads programs
// (SimKernel.self). Maps, programs and links are files in that process's fd table, beside its
// perf event fds, with the kernel's reference counts (objects.ts).
//
// Each command is a method that returns what the call returns on success (an fd, or nothing)
// and throws a BpfSyscallError carrying the errno, the command and the reason otherwise;
// bpf(cmd, attr) is the same call in the raw ABI's style, returning -errno instead of throwing.
//
// Programs run on a per-CPU engine (interpreter or JIT) with the kernel's helpers; a map
// pointer in a program is the address of a small region standing for struct bpf_map.
import type { HelperHost, SentSignal } from "../helpers/host.js";
import { sharedKernelHelpers } from "../helpers/index.js";
import type { KernelCpu } from "../kernel/cpu.js";
import { KernelError } from "../kernel/error.js";
import { FileKind, KernelFile, type FdTable } from "../kernel/files.js";
import type { SimKernel } from "../kernel/kernel.js";
import type { PerfLink } from "../kernel/perf.js";
import type { Task } from "../kernel/tasks.js";
import { createMapOrThrow } from "../maps/create.js";
import { MapError } from "../maps/error.js";
import { PerfEventArrayMap, ProgArrayMap } from "../maps/fd-array.js";
import type { MapEnv } from "../maps/map.js";
import { ArrayOfMapsMap, HashOfMapsMap, type InnerMapMeta } from "../maps/map-in-map.js";
import { BpfAttachType, BpfCmd, BpfMapType, BpfProgType } from "../uapi/bpf.js";
import { Errno, errnoName } from "../uapi/errno.js";
import type { HelperTable } from "../vm/helpers.js";
import { KERNEL_HI, type Region } from "../vm/memory.js";
import type { Program } from "../vm/program.js";
import type {
  BpfObjInfo,
  LinkCreateAttr,
  MapCreateAttr,
  MapElemAttr,
  MapNextKeyAttr,
  ProgLoadAttr,
  ProgTestRunAttr,
  ProgTestRunResult,
} from "./attr.js";
import type { JitArrayMap, JitFacts } from "../jit/codegen.js";
import { factsFromVerifier } from "../jit/engine.js";
import { ArrayMap } from "../maps/array.js";
import { createEngine, type Engine, type ExecutionEngine } from "./engine.js";
import { BpfSyscallError } from "./error.js";
import { mapInMapHooks, perfEventArrayHooks, progArrayHooks } from "./fd-arrays.js";
import { linkInfo, mapInfo, progInfo } from "./info.js";
import { BpfMapObject, BpfProgObject } from "./objects.js";
import { progLoad } from "./prog-load.js";
import { progTestRun } from "./test-run.js";

export interface BpfSyscallOptions {
  /** the engine every CPU runs programs with (default "interp") */
  engine?: Engine;
  /**
   * Instructions one run may execute before it is stopped as a runaway (BudgetExceeded);
   * undefined: no limit (what the kernel relies on the verifier for). Default 2^26.
   */
  runBudget?: number | undefined;
}

/** sizeof(struct bpf_map) stands in for the map in the address space. */
const BPF_MAP_HANDLE_SIZE = 64;
const DEFAULT_RUN_BUDGET = 1 << 26;

/** The attributes of each command, for bpf(cmd, attr). Output fields are filled in. */
export interface BpfCommandAttrs {
  [BpfCmd.BPF_MAP_CREATE]: MapCreateAttr;
  [BpfCmd.BPF_MAP_LOOKUP_ELEM]: MapElemAttr;
  [BpfCmd.BPF_MAP_UPDATE_ELEM]: MapElemAttr;
  [BpfCmd.BPF_MAP_DELETE_ELEM]: MapElemAttr;
  [BpfCmd.BPF_MAP_GET_NEXT_KEY]: MapNextKeyAttr;
  [BpfCmd.BPF_MAP_FREEZE]: { mapFd: number };
  [BpfCmd.BPF_PROG_LOAD]: ProgLoadAttr;
  [BpfCmd.BPF_OBJ_GET_INFO_BY_FD]: { bpfFd: number; info?: BpfObjInfo };
  [BpfCmd.BPF_PROG_TEST_RUN]: ProgTestRunAttr & { result?: ProgTestRunResult };
  [BpfCmd.BPF_LINK_CREATE]: LinkCreateAttr;
  [BpfCmd.BPF_MAP_GET_FD_BY_ID]: { mapId: number };
  [BpfCmd.BPF_PROG_GET_FD_BY_ID]: { progId: number };
}

const kernels = new WeakMap<SimKernel, BpfSyscall>();

/** The bpf() facade of `kernel` (created on first use with `options`). */
export function bpfOf(kernel: SimKernel, options?: BpfSyscallOptions): BpfSyscall {
  let sys = kernels.get(kernel);
  if (sys === undefined) {
    sys = new BpfSyscall(kernel, options);
    kernels.set(kernel, sys);
  }
  return sys;
}

/** The helpers' view of one CPU. */
class CpuHost implements HelperHost {
  tailCallCount = 0;

  constructor(
    readonly kernel: SimKernel,
    readonly cpu: KernelCpu,
    private readonly sys: BpfSyscall,
  ) {}

  mapAt(lo: number, hi: number) {
    return hi === KERNEL_HI ? this.sys.mapByHandle(lo)?.map : undefined;
  }

  sendSignal(task: Task, sig: number, thread: boolean): void {
    this.sys.signals.push({
      pid: task.pid,
      tgid: task.tgid,
      sig,
      thread,
      ts: this.kernel.clock.ns,
    });
  }
}

export class BpfSyscall {
  readonly kernel: SimKernel;
  readonly engine: Engine;
  readonly runBudget: number | undefined;
  readonly helpers: HelperTable<HelperHost>;
  /** printk() lines the bpf() code wrote (bpf_probe_write_user's warning) */
  readonly dmesg: string[] = [];
  /** signals programs sent with bpf_send_signal(_thread) */
  readonly signals: SentSignal[] = [];
  private readonly env: MapEnv;
  private readonly hosts: CpuHost[];
  private readonly engines: (ExecutionEngine | undefined)[];
  private readonly runOptions: { args: [number, number][]; budget?: number; packet?: Region }[] =
    [];
  private readonly byHandle = new Map<number, BpfMapObject>();
  private readonly maps = new Map<number, BpfMapObject>();
  private readonly progs = new Map<number, BpfProgObject>();
  private readonly byProgram = new WeakMap<Program, BpfProgObject>();
  private readonly jitFacts = new WeakMap<Program, JitFacts | undefined>();
  private nextMapId = 1;
  private nextProgId = 1;

  constructor(kernel: SimKernel, options: BpfSyscallOptions = {}) {
    this.kernel = kernel;
    this.engine = options.engine ?? "interp";
    this.runBudget = "runBudget" in options ? options.runBudget : DEFAULT_RUN_BUDGET;
    this.helpers = sharedKernelHelpers();
    this.env = {
      memory: kernel.memory,
      possibleCpus: kernel.possibleCpus,
      random32: kernel.random32,
      syscallCpu: () => kernel.syscallCpu(),
    };
    this.hosts = kernel.cpus.map((cpu) => new CpuHost(kernel, cpu, this));
    this.engines = kernel.cpus.map(() => undefined);
  }

  // ---- maps ---------------------------------------------------------------------------------

  /** BPF_MAP_CREATE: the new map's fd. */
  mapCreate(attr: MapCreateAttr): number {
    let map;
    try {
      map = createMapOrThrow(this.env, { ...attr, innerMeta: this.innerMetaOf(attr) });
    } catch (err) {
      if (err instanceof MapError)
        throw new BpfSyscallError(err.errno, BpfCmd.BPF_MAP_CREATE, err.message);
      throw err;
    }
    const handle = this.kernel.memory.alloc(BPF_MAP_HANDLE_SIZE, {
      name: `struct bpf_map '${map.name}'`,
      kind: "kernel_object",
      readable: false,
      writable: false,
    });
    const obj = new BpfMapObject(this.nextMapId++, map, handle, (m) => this.forgetMap(m));
    this.maps.set(obj.id, obj);
    this.byHandle.set(handle.base, obj);
    const files = (): FdTable => this.kernel.files;
    if (map instanceof ProgArrayMap) map.hooks = progArrayHooks(files, obj);
    if (map instanceof PerfEventArrayMap) map.hooks = perfEventArrayHooks(files);
    if (map instanceof ArrayOfMapsMap || map instanceof HashOfMapsMap)
      map.hooks = mapInMapHooks((fd) => this.lookupMapFd(fd));
    return this.installMapFile(obj, BpfCmd.BPF_MAP_CREATE);
  }

  /** bpf_map_meta_alloc(): the template a map of maps copies from inner_map_fd. */
  private innerMetaOf(attr: MapCreateAttr): InnerMapMeta | undefined {
    const t = attr.mapType;
    if (t !== BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS && t !== BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS)
      return undefined;
    const inner = this.lookupMapFd(attr.innerMapFd ?? -1);
    if (typeof inner === "number") return undefined;
    const m = inner.map;
    return {
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      mapFlags: m.mapFlags,
    };
  }

  /** BPF_MAP_LOOKUP_ELEM: fills attr.value. */
  mapLookupElem(attr: MapElemAttr): void {
    const obj = this.mapOf(attr.mapFd, BpfCmd.BPF_MAP_LOOKUP_ELEM);
    const value = attr.value ?? new Uint8Array(0);
    this.mapResult(
      BpfCmd.BPF_MAP_LOOKUP_ELEM,
      obj,
      "lookup",
      obj.map.sysLookup(attr.key, value, attr.flags ?? 0),
    );
  }

  /** BPF_MAP_UPDATE_ELEM */
  mapUpdateElem(attr: MapElemAttr): void {
    const obj = this.mapOf(attr.mapFd, BpfCmd.BPF_MAP_UPDATE_ELEM);
    const value = attr.value ?? new Uint8Array(0);
    this.mapResult(
      BpfCmd.BPF_MAP_UPDATE_ELEM,
      obj,
      "update",
      obj.map.sysUpdate(attr.key, value, attr.flags ?? 0),
    );
  }

  /** BPF_MAP_DELETE_ELEM */
  mapDeleteElem(attr: MapElemAttr): void {
    const obj = this.mapOf(attr.mapFd, BpfCmd.BPF_MAP_DELETE_ELEM);
    this.mapResult(BpfCmd.BPF_MAP_DELETE_ELEM, obj, "delete", obj.map.sysDelete(attr.key));
  }

  /** BPF_MAP_GET_NEXT_KEY: fills attr.nextKey; ENOENT after the last key. */
  mapGetNextKey(attr: MapNextKeyAttr): void {
    const obj = this.mapOf(attr.mapFd, BpfCmd.BPF_MAP_GET_NEXT_KEY);
    this.mapResult(
      BpfCmd.BPF_MAP_GET_NEXT_KEY,
      obj,
      "get_next_key",
      obj.map.sysGetNextKey(attr.key, attr.nextKey),
    );
  }

  /** BPF_MAP_FREEZE: the syscall side may only read from now on (EBUSY if already frozen). */
  mapFreeze(mapFd: number): void {
    const obj = this.mapOf(mapFd, BpfCmd.BPF_MAP_FREEZE);
    if (obj.map.frozen)
      throw new BpfSyscallError(
        Errno.EBUSY,
        BpfCmd.BPF_MAP_FREEZE,
        `${obj.describe()} is already frozen`,
      );
    this.mapResult(BpfCmd.BPF_MAP_FREEZE, obj, "freeze", obj.map.freeze());
  }

  private mapResult(cmd: number, obj: BpfMapObject, op: string, result: number): void {
    if (result === 0) return;
    throw new BpfSyscallError(
      -result,
      cmd,
      `${obj.describe()}: ${op}: ${errnoName(-result) ?? -result}`,
    );
  }

  // ---- programs -----------------------------------------------------------------------------

  /** BPF_PROG_LOAD: the new program's fd. */
  progLoad(attr: ProgLoadAttr): number {
    const loaded = progLoad(
      {
        kernel: this.kernel,
        helpers: this.helpers,
        mapOfFd: (fd) => this.lookupMapFd(fd),
        printk: (line) => this.dmesg.push(line),
      },
      attr,
    );
    const prog = new BpfProgObject(
      this.nextProgId++,
      loaded,
      (p, lo, hi, cpu) => this.runOn(p, cpu, lo, hi),
      (p) => this.progs.delete(p.id),
    );
    this.progs.set(prog.id, prog);
    this.byProgram.set(prog.program, prog);
    const file = new KernelFile(FileKind.BPF_PROG, prog, () => prog.put());
    return this.install(file, BpfCmd.BPF_PROG_LOAD);
  }

  /** BPF_PROG_TEST_RUN */
  progTestRun(attr: ProgTestRunAttr): ProgTestRunResult {
    const prog = this.progOf(attr.progFd, BpfCmd.BPF_PROG_TEST_RUN);
    const kernel = this.kernel;
    return progTestRun(
      {
        memory: kernel.memory,
        cpus: kernel.cpus.length,
        syscallCpu: kernel.syscallCpu(),
        run: (p, cpu, ctx, packet) => this.runAsCaller(p, cpu, ctx, packet),
      },
      prog,
      attr,
    );
  }

  /** BPF_LINK_CREATE with attach_type BPF_PERF_EVENT: the link's fd. */
  linkCreate(attr: LinkCreateAttr): number {
    const cmd = BpfCmd.BPF_LINK_CREATE;
    const prog = this.progOf(attr.progFd, cmd);
    if ((attr.flags ?? 0) !== 0)
      throw new BpfSyscallError(Errno.EINVAL, cmd, "link_create.flags must be 0");
    if (attr.attachType !== BpfAttachType.BPF_PERF_EVENT)
      throw new BpfSyscallError(
        Errno.EINVAL,
        cmd,
        `attach type ${attr.attachType}: only BPF_PERF_EVENT links are simulated`,
      );
    const types: number[] = [
      BpfProgType.BPF_PROG_TYPE_KPROBE,
      BpfProgType.BPF_PROG_TYPE_TRACEPOINT,
      BpfProgType.BPF_PROG_TYPE_PERF_EVENT,
    ];
    if (!types.includes(prog.progType))
      throw new BpfSyscallError(
        Errno.EINVAL,
        cmd,
        `${prog.describe()} cannot be linked to a perf event`,
      );
    const [lo, hi] = cookieWords(attr.bpfCookie ?? 0);
    let file: KernelFile<PerfLink>;
    try {
      file = this.kernel.createPerfLink(attr.targetFd, prog, lo, hi);
    } catch (err) {
      if (err instanceof KernelError) throw new BpfSyscallError(err.errno, cmd, err.message);
      throw err;
    }
    return this.install(file, cmd);
  }

  // ---- fds and ids --------------------------------------------------------------------------

  /** BPF_OBJ_GET_INFO_BY_FD */
  objGetInfoByFd(fd: number): BpfObjInfo {
    const cmd = BpfCmd.BPF_OBJ_GET_INFO_BY_FD;
    const file = this.kernel.files.get(fd);
    if (file === undefined) throw new BpfSyscallError(Errno.EBADF, cmd, `fd ${fd} is not open`);
    const data = file.privateData;
    if (data instanceof BpfProgObject) return progInfo(data);
    if (data instanceof BpfMapObject) return mapInfo(data);
    if (file.kind === FileKind.BPF_LINK) {
      const link = data as PerfLink;
      return linkInfo(link, link.prog instanceof BpfProgObject ? link.prog.id : 0);
    }
    throw new BpfSyscallError(Errno.EINVAL, cmd, `fd ${fd} (${file.kind}) is not a BPF object`);
  }

  /** BPF_MAP_GET_FD_BY_ID: a new fd for a live map. */
  mapGetFdById(id: number): number {
    const obj = this.maps.get(id);
    if (obj === undefined)
      throw new BpfSyscallError(Errno.ENOENT, BpfCmd.BPF_MAP_GET_FD_BY_ID, `no map has id ${id}`);
    obj.incWithUref();
    return this.installMapFile(obj, BpfCmd.BPF_MAP_GET_FD_BY_ID);
  }

  /** BPF_PROG_GET_FD_BY_ID: a new fd for a loaded program. */
  progGetFdById(id: number): number {
    const prog = this.progs.get(id);
    if (prog === undefined)
      throw new BpfSyscallError(
        Errno.ENOENT,
        BpfCmd.BPF_PROG_GET_FD_BY_ID,
        `no program has id ${id}`,
      );
    prog.get();
    return this.install(
      new KernelFile(FileKind.BPF_PROG, prog, () => prog.put()),
      BpfCmd.BPF_PROG_GET_FD_BY_ID,
    );
  }

  /** close(): drop the fd's reference. EBADF (as a KernelError) when it is not open. */
  close(fd: number): void {
    const process = this.kernel.self.process;
    if (process.files.get(fd) === undefined)
      throw new KernelError("EBADF", `close(${fd})`, `fd ${fd} is not open`);
    process.closeFile(fd);
  }

  /** bpf(cmd, attr) in the raw ABI's style: the result (fd or 0), or -errno. */
  bpf<C extends keyof BpfCommandAttrs>(cmd: C, attr: BpfCommandAttrs[C]): number {
    try {
      return this.dispatch(cmd, attr);
    } catch (err) {
      if (err instanceof BpfSyscallError || err instanceof KernelError) return -err.errno;
      throw err;
    }
  }

  private dispatch(cmd: number, attr: unknown): number {
    const C = BpfCmd;
    switch (cmd) {
      case C.BPF_MAP_CREATE:
        return this.mapCreate(attr as MapCreateAttr);
      case C.BPF_MAP_LOOKUP_ELEM:
        return (this.mapLookupElem(attr as MapElemAttr), 0);
      case C.BPF_MAP_UPDATE_ELEM:
        return (this.mapUpdateElem(attr as MapElemAttr), 0);
      case C.BPF_MAP_DELETE_ELEM:
        return (this.mapDeleteElem(attr as MapElemAttr), 0);
      case C.BPF_MAP_GET_NEXT_KEY:
        return (this.mapGetNextKey(attr as MapNextKeyAttr), 0);
      case C.BPF_MAP_FREEZE:
        return (this.mapFreeze((attr as { mapFd: number }).mapFd), 0);
      case C.BPF_PROG_LOAD:
        return this.progLoad(attr as ProgLoadAttr);
      case C.BPF_OBJ_GET_INFO_BY_FD: {
        const a = attr as BpfCommandAttrs[typeof C.BPF_OBJ_GET_INFO_BY_FD];
        a.info = this.objGetInfoByFd(a.bpfFd);
        return 0;
      }
      case C.BPF_PROG_TEST_RUN: {
        const a = attr as BpfCommandAttrs[typeof C.BPF_PROG_TEST_RUN];
        a.result = this.progTestRun(a);
        return 0;
      }
      case C.BPF_LINK_CREATE:
        return this.linkCreate(attr as LinkCreateAttr);
      case C.BPF_MAP_GET_FD_BY_ID:
        return this.mapGetFdById((attr as { mapId: number }).mapId);
      case C.BPF_PROG_GET_FD_BY_ID:
        return this.progGetFdById((attr as { progId: number }).progId);
      default:
        throw new BpfSyscallError(
          Errno.EINVAL,
          cmd,
          "command not implemented by the simulated kernel",
        );
    }
  }

  // ---- objects, for the loader, the kernel and tests -----------------------------------------

  /** The map behind an fd (no reference taken); EBADF if not open, EINVAL if not a map. */
  mapOf(fd: number, cmd: number = BpfCmd.BPF_MAP_LOOKUP_ELEM): BpfMapObject {
    const obj = this.lookupMapFd(fd);
    if (typeof obj === "number")
      throw new BpfSyscallError(
        -obj,
        cmd,
        obj === -Errno.EBADF ? `fd ${fd} is not open` : `fd ${fd} is not a map`,
      );
    return obj;
  }

  /** The program behind an fd (no reference taken); EBADF if not open, EINVAL if not a program. */
  progOf(fd: number, cmd: number = BpfCmd.BPF_PROG_TEST_RUN): BpfProgObject {
    const file = this.kernel.files.get(fd);
    if (file === undefined) throw new BpfSyscallError(Errno.EBADF, cmd, `fd ${fd} is not open`);
    if (!(file.privateData instanceof BpfProgObject))
      throw new BpfSyscallError(Errno.EINVAL, cmd, `fd ${fd} (${file.kind}) is not a BPF program`);
    return file.privateData;
  }

  /** A live map by id. */
  mapById(id: number): BpfMapObject | undefined {
    return this.maps.get(id);
  }

  /** A loaded program by id. */
  progById(id: number): BpfProgObject | undefined {
    return this.progs.get(id);
  }

  /** Live maps and loaded programs, by id. */
  get liveMaps(): BpfMapObject[] {
    return [...this.maps.values()];
  }
  get loadedProgs(): BpfProgObject[] {
    return [...this.progs.values()];
  }

  /** The map whose struct bpf_map handle is at linear offset `lo` (map pointers in programs). */
  mapByHandle(lo: number): BpfMapObject | undefined {
    return this.byHandle.get(lo >>> 0);
  }

  /** The loaded program a prepared Program belongs to (after a tail call, the target). */
  progOfProgram(program: Program): BpfProgObject | undefined {
    return this.byProgram.get(program);
  }

  // ---- running ------------------------------------------------------------------------------

  /** Run a loaded program on `cpu` with r1 = ctx (the kernel's trace_call_bpf path). */
  private runOn(
    prog: BpfProgObject,
    cpu: number,
    ctxLo: number,
    ctxHi: number,
    packet?: Region,
  ): readonly [number, number] {
    const host = this.hosts[cpu];
    if (host === undefined)
      throw new KernelError("EINVAL", `run ${prog.describe()}`, `no CPU ${cpu}`);
    host.tailCallCount = 0;
    const engine = (this.engines[cpu] ??= this.newEngine(cpu));
    // one options object per CPU, refilled: a run allocates nothing here
    const options = (this.runOptions[cpu] ??= {
      args: [[0, 0]],
      ...(this.runBudget === undefined ? {} : { budget: this.runBudget }),
    });
    const ctx = options.args[0]!;
    ctx[0] = ctxLo;
    ctx[1] = ctxHi;
    options.packet = packet;
    const result = engine.run(prog.program, options);
    return [result.lo, result.hi];
  }

  /** A test run: on `cpu`, with the calling task current there, as in a system call. */
  private runAsCaller(prog: BpfProgObject, cpu: number, ctx: Region, packet?: Region): number {
    const c = this.kernel.cpus[cpu]!;
    const saved = c.current;
    c.current = this.kernel.self;
    try {
      prog.runCnt++;
      return this.runOn(prog, cpu, ctx.addressLo, KERNEL_HI, packet)[0] >>> 0;
    } finally {
      c.current = saved;
    }
  }

  private newEngine(cpu: number): ExecutionEngine {
    const engine = createEngine(
      this.engine,
      this.kernel.memory,
      this.helpers,
      this.hosts[cpu]!,
      (program) => this.jitFactsOf(program),
    );
    this.kernel.cpus[cpu]!.interpreter = engine;
    return engine;
  }

  /**
   * What the verifier proved about a loaded program, for the JIT: the regions of its accesses
   * and its plain array maps (lookups compiled inline as array_map_gen_lookup). One object per
   * program, so every CPU's machine shares the compiled module.
   */
  private jitFactsOf(program: Program): JitFacts | undefined {
    let facts = this.jitFacts.get(program);
    if (facts === undefined && !this.jitFacts.has(program)) {
      const loaded = this.byProgram.get(program)?.loaded;
      if (loaded?.verifierFacts !== undefined) {
        const arrays = new Map<number, JitArrayMap>();
        for (const obj of loaded.usedMaps) {
          const m = obj.map;
          // per-CPU arrays, maps of maps and fd arrays keep the helper
          if (m instanceof ArrayMap && m.type === BpfMapType.BPF_MAP_TYPE_ARRAY)
            arrays.set(obj.handle.base, {
              values: m.region.base,
              elemSize: m.elemSize,
              maxEntries: m.maxEntries,
            });
        }
        facts = factsFromVerifier(loaded.verifierFacts, arrays);
      }
      this.jitFacts.set(program, facts);
    }
    return facts;
  }

  // ---- internals ----------------------------------------------------------------------------

  private lookupMapFd(fd: number): BpfMapObject | number {
    const file = this.kernel.files.get(fd);
    if (file === undefined) return -Errno.EBADF;
    return file.privateData instanceof BpfMapObject ? file.privateData : -Errno.EINVAL;
  }

  private installMapFile(obj: BpfMapObject, cmd: number): number {
    return this.install(new KernelFile(FileKind.BPF_MAP, obj, () => obj.putWithUref()), cmd);
  }

  /** fd_install() in the calling process; on EMFILE the new file's reference is dropped. */
  private install(file: KernelFile, cmd: number): number {
    try {
      return this.kernel.self.process.installFile(file);
    } catch (err) {
      file.put();
      if (err instanceof KernelError) throw new BpfSyscallError(err.errno, cmd, err.message);
      throw err;
    }
  }

  private forgetMap(obj: BpfMapObject): void {
    this.maps.delete(obj.id);
    this.byHandle.delete(obj.handle.base);
    this.kernel.memory.free(obj.handle);
  }
}

/** A u64 cookie as (lo, hi). */
function cookieWords(cookie: number | bigint): [number, number] {
  if (typeof cookie === "bigint") {
    const v = BigInt.asUintN(64, cookie);
    return [Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0];
  }
  const hi = Math.floor(cookie / 0x100000000);
  return [(cookie - hi * 0x100000000) | 0, hi | 0];
}
