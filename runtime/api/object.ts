// The loader API's entry: a BPF object through libbpf's phases.
//
//   open    BpfObject.open(path | bytes | { source })   programs and maps inspectable, and
//           changeable: map sizes and flags, initial values of globals, autoload
//   load    obj.load(kernel, { engine, logLevel })      maps created, programs relocated and
//           through BPF_PROG_LOAD (the verifier); failures carry errno, command and log
//   attach  obj.attachAll() by section name, or prog.attachKprobe(symbol, { retprobe, cookie })
//   use     typed maps, trace_pipe, perf buffers, ring buffers
//   close   obj.close() or `using`: links detached, readers closed, fds closed
import { readFileSync } from "node:fs";
import type { BpfSyscallError as SyscallErrorType } from "../bpf/error.js";
import { BpfSyscallError } from "../bpf/error.js";
import { bpfOf, type BpfSyscall } from "../bpf/syscall.js";
import type { Engine } from "../bpf/engine.js";
import { BTF_KIND_DATASEC, BTF_KIND_VAR, BTF_VAR_STATIC, type Btf } from "../btf/btf.js";
import { parseBtf } from "../btf/parse.js";
import { TsbpfError } from "../error.js";
import type { SimKernel } from "../kernel/kernel.js";
import { LoadError } from "../loader/error.js";
import { ObjectLoader, type LoadedObject } from "../loader/load.js";
import { RingbufMap } from "../maps/ringbuf.js";
import { openObject, type BpfObject as ObjectFile } from "../object/open.js";
import { bpfCmdName, BpfMapType } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { btfCodec, type BtfValue } from "./btf-codec.js";
import "./dispose.js";
import { attempt, BpfError } from "./errors.js";
import type { BpfLink } from "./link.js";
import { BpfMap } from "./map.js";
import { PerfBuffer, type PerfBufferOptions } from "./perf-buffer.js";
import { BpfProgram } from "./program.js";
import { RingBuffer, type RingBufferOptions } from "./ring-buffer.js";
import { objectBytes, type CompileSettings, type ObjectInput } from "./source.js";
import { TracePipe, type TracePipeOptions } from "./trace-pipe.js";

export interface OpenOptions extends CompileSettings {
  /** the name messages use (default: the file's base name) */
  name?: string;
}

export interface LoadOptions {
  /** how programs run: "jit" (WebAssembly, the default) or "interp" (the reference) */
  engine?: Engine;
  /** verifier log level for every program (default 1: a rejection comes with its log) */
  logLevel?: 0 | 1 | 2;
  /** bytes of verifier log per program (default 1 MiB) */
  logSize?: number;
  /**
   * the BTF to relocate CO-RE accesses against (libbpf's btf_custom_path): a path to a raw BTF
   * file such as /sys/kernel/btf/vmlinux, or parsed BTF (default: the kernel's own, kernel.btf)
   */
  targetBtf?: string | Btf;
  /**
   * kernel config lines ("CONFIG_HZ=1000") that override the kernel's own for `__kconfig`
   * externs (libbpf's `kconfig` option)
   */
  kconfig?: string;
}

/** A global variable of .data, .rodata or .bss. */
export interface GlobalVariable {
  readonly name: string;
  /** ".bss", ".data", ".rodata" ... */
  readonly section: string;
  readonly offset: number;
  readonly size: number;
}

type Phase = "opened" | "loaded" | "closed";

export class BpfObject implements Disposable {
  readonly programs: readonly BpfProgram[];
  readonly maps: readonly BpfMap[];
  /** compiler warnings, when opened from C source */
  readonly warnings: readonly string[];
  private readonly loader: ObjectLoader;
  private phase: Phase = "opened";
  private loadedObject: LoadedObject | undefined;
  private readonly links: BpfLink[] = [];
  private readonly consumers: { close(): void }[] = [];

  private constructor(
    private readonly file: ObjectFile,
    warnings: string[],
  ) {
    this.loader = new ObjectLoader(file);
    this.warnings = warnings;
    const owner = {
      fileName: file.elf.fileName,
      btf: file.btf,
      loadedBpf: (method: string) => this.loadedKernel(method)?.bpf,
      loadedKernel: (method: string) => this.loadedKernel(method),
      adopt: (link: BpfLink) => void this.links.push(link),
    };
    this.programs = this.loader.programs.map((p) => new BpfProgram(owner, p));
    this.maps = this.loader.maps.map((m) => new BpfMap(owner, m));
  }

  /**
   * Open an object: a path to an ELF object, a path to C source (compiled in process), object
   * bytes, or `{ source }` text. Nothing is created in any kernel yet.
   */
  static async open(input: ObjectInput, options: OpenOptions = {}): Promise<BpfObject> {
    const { bytes, name, warnings } = await objectBytes(input, options);
    return BpfObject.fromBytes(bytes, options.name ?? name, warnings);
  }

  /** Open object bytes synchronously. */
  static fromBytes(bytes: Uint8Array, name = "object.o", warnings: string[] = []): BpfObject {
    let file: ObjectFile;
    try {
      file = openObject(bytes, name);
    } catch (err) {
      if (!(err instanceof TsbpfError)) throw err;
      const wrapped = new BpfError(name, "open", err.message, Errno.EINVAL);
      wrapped.cause = err;
      throw wrapped;
    }
    return new BpfObject(file, warnings);
  }

  /** The object's file name. */
  get name(): string {
    return this.file.elf.fileName;
  }

  /** The `license` section. */
  get license(): string {
    return this.file.license;
  }

  /** The `version` section (kern_version), if any. */
  get kernVersion(): number | undefined {
    return this.file.kernVersion;
  }

  get btf(): Btf | undefined {
    return this.file.btf;
  }

  /** The kernel it is loaded into. */
  get kernel(): SimKernel {
    const loaded = this.loadedKernel("kernel");
    if (loaded === undefined) throw BpfError.usage(this.name, "kernel", "not loaded yet", "EBUSY");
    return loaded.kernel;
  }

  get isLoaded(): boolean {
    return this.phase === "loaded";
  }

  /** A program by its function name. */
  program(name: string): BpfProgram {
    const prog = this.programs.find((p) => p.name === name);
    if (prog === undefined)
      throw BpfError.usage(
        this.name,
        "program",
        `no program '${name}' (${names(this.programs)})`,
        "ENOENT",
      );
    return prog;
  }

  /** A map by variable name, kernel name or (global data) section name. */
  map(name: string): BpfMap {
    const map = this.maps.find((m) => m.name === name || m.kernelName === name);
    if (map === undefined)
      throw BpfError.usage(this.name, "map", `no map '${name}' (${names(this.maps)})`, "ENOENT");
    return map;
  }

  /** The global variables, from the object's BTF. */
  get globals(): GlobalVariable[] {
    return this.globalVars().map(({ name, section, offset, size }) => ({
      name,
      section,
      offset,
      size,
    }));
  }

  /**
   * Set a global variable's initial value before load, as a skeleton's rodata/bss fields do:
   * bytes, or a value encoded through the variable's BTF type (a number, string, object ...).
   */
  setGlobal(name: string, value: Uint8Array | BtfValue): this {
    const where = `${this.name}: global '${name}'`;
    if (this.phase !== "opened")
      throw BpfError.usage(where, "setGlobal", "the object is loaded already", "EBUSY");
    const v = this.globalVar(name, "setGlobal");
    let bytes: Uint8Array;
    if (value instanceof Uint8Array) bytes = value;
    else {
      const codec = attempt(where, "setGlobal", () => btfCodec(this.file.btf!, v.typeId));
      bytes = new Uint8Array(codec.size);
      attempt(where, "setGlobal", () => codec.encode(value, bytes, 0));
    }
    attempt(where, "setGlobal", () => this.loader.setGlobal(name, bytes));
    return this;
  }

  /** A global variable's current value in the loaded object, decoded through BTF. */
  readGlobal(name: string): BtfValue {
    const v = this.globalVar(name, "readGlobal");
    const map = this.map(v.section).kernelMap("readGlobal");
    const value = new Uint8Array(map.userValueSize);
    const err = map.sysLookup(new Uint8Array(4), value);
    if (err !== 0)
      throw new BpfError(
        `${this.name}: global '${name}'`,
        "BPF_MAP_LOOKUP_ELEM",
        "lookup failed",
        -err,
      );
    return btfCodec(this.file.btf!, v.typeId).decode(value, v.offset);
  }

  /**
   * Create the maps and load every program with autoload on into `kernel`. A program the
   * verifier rejects makes this throw a BpfError with the errno, BPF_PROG_LOAD and the log; the
   * maps and programs made so far are closed again.
   */
  load(kernel: SimKernel, options: LoadOptions = {}): this {
    if (this.phase !== "opened")
      throw BpfError.usage(this.name, "load", `the object is ${this.phase} already`, "EBUSY");
    const bpf = facadeOf(kernel, options.engine, this.name);
    const failed: { last?: SyscallErrorType } = {};
    let loaded: LoadedObject;
    try {
      loaded = this.loader.load(kernel, {
        bpf: recordingFailures(bpf, failed),
        logLevel: options.logLevel ?? 1,
        ...(options.logSize === undefined ? {} : { logSize: options.logSize }),
        ...(options.targetBtf === undefined
          ? {}
          : { targetBtf: targetBtfOf(options.targetBtf, this.name) }),
        ...(options.kconfig === undefined ? {} : { kconfig: options.kconfig }),
      });
    } catch (err) {
      if (err instanceof LoadError) {
        const cmd = failed.last === undefined ? "load" : (bpfCmdName(failed.last.cmd) ?? "load");
        const wrapped = new BpfError(err.where, cmd, err.reason, err.errno, err.log);
        wrapped.cause = err;
        throw wrapped;
      }
      throw err;
    }
    this.loadedObject = loaded;
    this.phase = "loaded";
    loaded.maps.forEach((m, i) => this.maps[i]!.loaded(m.fd));
    loaded.programs.forEach((p, i) => this.programs[i]!.loadedAs(p));
    return this;
  }

  /**
   * Attach every loaded program whose section names a target (kprobe/SYM, kretprobe/SYM,
   * ksyscall/NAME); programs of SEC("kprobe") and the like are left for attachKprobe().
   */
  attachAll(): BpfLink[] {
    this.loadedKernel("attachAll", true);
    const links: BpfLink[] = [];
    try {
      for (const prog of this.programs) {
        if (!prog.loaded) continue;
        const link = prog.attach();
        if (link !== undefined) links.push(link);
      }
    } catch (err) {
      for (const link of links) link.detach();
      throw err;
    }
    return links;
  }

  /** Links made from this object's programs and not yet detached. */
  get attached(): BpfLink[] {
    return this.links.filter((l) => !l.detached);
  }

  /** trace_pipe of the kernel the object is loaded into. */
  tracePipe(options: TracePipeOptions = {}): TracePipe {
    const { kernel } = this.loadedKernel("tracePipe", true)!;
    return this.adoptConsumer(new TracePipe(kernel, options));
  }

  /** A perf buffer on a BPF_MAP_TYPE_PERF_EVENT_ARRAY map: one ring per CPU. */
  perfBuffer<T = Uint8Array>(mapName: string, options: PerfBufferOptions<T> = {}): PerfBuffer<T> {
    const { kernel, bpf } = this.loadedKernel("perfBuffer", true)!;
    const map = this.map(mapName);
    if (map.type !== BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY)
      throw BpfError.usage(
        map.where,
        "perfBuffer",
        `a ${map.typeName} map is not a perf event array`,
      );
    const target = {
      name: map.name,
      fd: map.fd,
      maxEntries: map.kernelMap("perfBuffer").maxEntries,
    };
    return this.adoptConsumer(new PerfBuffer<T>(kernel, bpf, target, options));
  }

  /** A reader of a BPF_MAP_TYPE_RINGBUF map. */
  ringBuffer<T = Uint8Array>(mapName: string, options: RingBufferOptions<T> = {}): RingBuffer<T> {
    const { kernel } = this.loadedKernel("ringBuffer", true)!;
    const map = this.map(mapName);
    const ring = map.kernelMap("ringBuffer");
    if (!(ring instanceof RingbufMap))
      throw BpfError.usage(map.where, "ringBuffer", `a ${map.typeName} map is not a ring buffer`);
    return this.adoptConsumer(new RingBuffer<T>(kernel, ring, map.name, options));
  }

  /**
   * Detach every link, close every reader, close every map and program fd (a program stays
   * loaded while something else still holds it). Idempotent.
   */
  close(): void {
    if (this.phase === "closed") return;
    const wasLoaded = this.phase === "loaded";
    this.phase = "closed";
    if (!wasLoaded) return;
    for (const link of this.links.splice(0)) link.detach();
    for (const consumer of this.consumers.splice(0)) consumer.close();
    this.loadedObject?.close();
    this.loadedObject = undefined;
    for (const m of this.maps) m.closed();
    for (const p of this.programs) p.closed();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private adoptConsumer<C extends { close(): void }>(consumer: C): C {
    this.consumers.push(consumer);
    return consumer;
  }

  /** The kernel and facade when loaded; undefined before load; an error once closed. */
  private loadedKernel(method: string): { kernel: SimKernel; bpf: BpfSyscall } | undefined;
  private loadedKernel(method: string, required: true): { kernel: SimKernel; bpf: BpfSyscall };
  private loadedKernel(method: string, required = false) {
    if (this.phase === "closed")
      throw BpfError.usage(this.name, method, "the object is closed", "EBADF");
    const loaded = this.loadedObject;
    if (loaded === undefined) {
      if (required)
        throw BpfError.usage(this.name, method, "the object is not loaded yet", "EBUSY");
      return undefined;
    }
    return { kernel: loaded.kernel, bpf: loaded.bpf };
  }

  private globalVar(name: string, method: string) {
    const v = this.globalVars().find((g) => g.name === name);
    if (v === undefined)
      throw BpfError.usage(
        this.name,
        method,
        `no global variable '${name}' (${
          this.globalVars()
            .map((g) => g.name)
            .join(", ") || "none"
        })`,
        "ENOENT",
      );
    return v;
  }

  private globalVars(): (GlobalVariable & { typeId: number })[] {
    const btf = this.file.btf;
    if (btf === undefined) return [];
    const out: (GlobalVariable & { typeId: number })[] = [];
    for (const map of this.file.maps) {
      if (map.origin !== "data" && map.origin !== "rodata" && map.origin !== "bss") continue;
      const datasec = btf.types[map.btfValueTypeId];
      if (datasec?.kind !== BTF_KIND_DATASEC) continue;
      for (const s of datasec.vars) {
        const v = btf.types[s.type];
        // statics (bpf_printk's format strings ...) are the object's own, as in a skeleton
        if (v?.kind !== BTF_KIND_VAR || v.linkage === BTF_VAR_STATIC) continue;
        out.push({
          name: v.name,
          section: map.realName,
          offset: s.offset,
          size: s.size,
          typeId: v.type,
        });
      }
    }
    return out;
  }
}

/** The CO-RE target BTF option: parsed BTF as given, or a raw BTF file read and parsed. */
function targetBtfOf(target: string | Btf, where: string): Btf {
  if (typeof target !== "string") return target;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(target));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw BpfError.usage(
      where,
      "load",
      `targetBtf '${target}': ${(err as Error).message}`,
      code === "ENOENT" ? "ENOENT" : "EINVAL",
    );
  }
  return attempt(where, "load", () => parseBtf(bytes, target));
}

/** The kernel's bpf() facade, made with `engine` if this is its first use. */
function facadeOf(kernel: SimKernel, engine: Engine | undefined, where: string): BpfSyscall {
  if (engine !== undefined && engine !== "jit" && engine !== "interp")
    throw BpfError.usage(
      where,
      "load",
      `engine must be "jit" or "interp", not '${String(engine)}'`,
    );
  const bpf = bpfOf(kernel, { engine: engine ?? "jit" });
  if (engine !== undefined && bpf.engine !== engine)
    throw BpfError.usage(
      where,
      "load",
      `the kernel already runs programs with the ${bpf.engine} engine (one engine per kernel)`,
      "EBUSY",
    );
  return bpf;
}

/** The facade, remembering the last bpf() command that failed (a LoadError does not say). */
function recordingFailures(bpf: BpfSyscall, failed: { last?: SyscallErrorType }): BpfSyscall {
  return new Proxy(bpf, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        try {
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          if (err instanceof BpfSyscallError) failed.last = err;
          throw err;
        }
      };
    },
  });
}

function names(items: readonly { name: string }[]): string {
  return items.length === 0
    ? "it has none"
    : `it has ${items.map((i) => `'${i.name}'`).join(", ")}`;
}
