// The load phase of a BPF object (libbpf's bpf_object__load) into a simulated kernel, through
// its bpf() facade:
//
//   0. externs resolved against the kernel (libbpf's bpf_object__resolve_externs): `__kconfig`
//      values from its version and config (SimKernel's, or the text given), `__ksym`
//      addresses from its kallsyms; a strong extern the kernel lacks fails the load, naming it,
//      a weak one is 0
//   1. maps, in the object's order: legacy and BTF-defined maps with their attributes (a
//      PERF_EVENT_ARRAY without max_entries gets one slot per CPU), global-data maps as
//      one-element arrays filled with the section's bytes, .rodata (and .rodata.*) frozen,
//      then the `.kconfig` map filled with the extern values and frozen
//   2. every program with autoload on: CO-RE-relocated against the kernel's BTF (SimKernel.btf,
//      or the one given) as libbpf does before loading any (runtime/core), relocated
//      (relocate.ts: maps, globals, subprograms, externs) and loaded with BPF_PROG_LOAD
//      under the object's license and kern_version (the kernel's own LINUX_VERSION_CODE when
//      the object has no `version` section, as libbpf uses the running kernel's)
//   3. prog array slots given in the object (`.values = { [i] = &prog }`) set to the programs
//
// Before load, an ObjectLoader lets the caller change what will be created: a map's
// max_entries / key and value sizes / flags, the initial bytes of globals, a program's autoload
// and type. Errors are LoadErrors naming the map or the section and program, with the errno and
// the verifier log; with `keepGoing` a failing program is reported and the others still load.
import type { BpfSyscallError } from "../bpf/error.js";
import { BpfSyscallError as SyscallError } from "../bpf/error.js";
import { bpfOf, type BpfSyscall } from "../bpf/syscall.js";
import { BTF_KIND_DATASEC, BTF_KIND_VAR, type Btf } from "../btf/btf.js";
import {
  CoreRelocationError,
  ExternError,
  explainPoisonedLoad,
  kconfigValue,
  relocateObjectCore,
  resolveKsyms,
  simKernelConfig,
  withCoreRelocations,
  type CoreRelocatedObject,
} from "../core/index.js";
import type { Insn } from "../isa/insn.js";
import type { SimKernel } from "../kernel/kernel.js";
import {
  missingProgramType,
  type BpfFuncInfo,
  type BpfLineInfo,
  type BpfObject,
  type BpfProgram,
} from "../object/open.js";
import type { BpfMapDef, MapOrigin } from "../object/maps.js";
import { ObjectError } from "../object/error.js";
import { BPF_F_SLEEPABLE, BpfMapType, BpfProgType, progTypeShortName } from "../uapi/bpf.js";
import { LoadError } from "./error.js";
import { relocateProgram, type ExternResolution } from "./relocate.js";

/** A map as it will be created; its fields may be changed before load. */
export interface LoaderMap {
  readonly def: BpfMapDef;
  /** the name given to the kernel */
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  /** global-data maps: the value written after creation (undefined: zeroes) */
  initialValue: Uint8Array | undefined;
}

/** A program as it will be loaded; its fields may be changed before load. */
export interface LoaderProgram {
  readonly prog: BpfProgram;
  readonly name: string;
  readonly sectionName: string;
  autoload: boolean;
  type: number;
  expectedAttachType: number;
}

export interface LoadOptions {
  /** the facade to load through (default: bpfOf(kernel)) */
  bpf?: BpfSyscall;
  /** verifier log level for every program (default 1: the log explains a rejection) */
  logLevel?: number;
  /** bytes of log buffer per program (default 1 MiB) */
  logSize?: number;
  /** report a failing program and go on with the others (default: stop at the first) */
  keepGoing?: boolean;
  /** the BTF CO-RE relocations target (libbpf's btf_custom_path; default: the kernel's own) */
  targetBtf?: Btf;
  /**
   * kernel config text ("CONFIG_X=y" lines) read before the kernel's own for `__kconfig`
   * externs, so its values win (libbpf's `kconfig` open option)
   */
  kconfig?: string;
}

export interface LoadedMap {
  readonly name: string;
  readonly def: BpfMapDef;
  readonly origin: MapOrigin;
  readonly fd: number;
}

export interface LoadedProgram {
  readonly name: string;
  readonly sectionName: string;
  readonly type: number;
  readonly expectedAttachType: number;
  /** -1 when not loaded (autoload off, or failed) */
  readonly fd: number;
  readonly autoload: boolean;
  /** the relocated instructions given to PROG_LOAD (map fds in lddw) */
  readonly insns: Insn[];
  readonly funcInfo: BpfFuncInfo[];
  readonly lineInfo: BpfLineInfo[];
  /** where each function starts in `insns`: the program itself first, then appended ones */
  readonly functions: { name: string; start: number }[];
  /** the verifier log ("" at log level 0) */
  readonly log: string;
  /** why it failed (keepGoing only; otherwise load() throws) */
  readonly error?: LoadError;
  /** the object's program */
  readonly prog: BpfProgram;
}

/** An object loaded into a kernel: its maps and programs, with their fds. */
export class LoadedObject {
  private closed = false;

  constructor(
    readonly object: BpfObject,
    readonly kernel: SimKernel,
    readonly bpf: BpfSyscall,
    readonly maps: LoadedMap[],
    readonly programs: LoadedProgram[],
  ) {}

  /** A map by its name (variable name, or the kernel name of a global-data map). */
  map(name: string): LoadedMap {
    const map = this.maps.find((m) => m.name === name || m.def.realName === name);
    if (map === undefined) throw new LoadError(this.object.elf.fileName, `no map '${name}'`);
    return map;
  }

  /** A program by its function name. */
  program(name: string): LoadedProgram {
    const prog = this.programs.find((p) => p.name === name);
    if (prog === undefined) throw new LoadError(this.object.elf.fileName, `no program '${name}'`);
    return prog;
  }

  /** Every program that failed (keepGoing). */
  get failures(): LoadedProgram[] {
    return this.programs.filter((p) => p.error !== undefined);
  }

  /** bpf_object__close(): close every fd (programs stay loaded while attached). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.programs) if (p.fd >= 0) this.bpf.close(p.fd);
    for (const m of this.maps) this.bpf.close(m.fd);
  }
}

export class ObjectLoader {
  readonly maps: LoaderMap[];
  readonly programs: LoaderProgram[];

  constructor(readonly object: BpfObject) {
    this.maps = object.maps.map((def) => ({
      def,
      name: def.name,
      type: def.type,
      keySize: def.keySize,
      valueSize: def.valueSize,
      maxEntries: def.maxEntries,
      mapFlags: def.mapFlags,
      initialValue: def.initialValue?.slice(),
    }));
    this.programs = object.programs.map((prog) => ({
      prog,
      name: prog.name,
      sectionName: prog.sectionName,
      autoload: prog.autoload,
      type: prog.type,
      expectedAttachType: prog.expectedAttachType,
    }));
  }

  /** A map by variable name, kernel name or (global data) section name. */
  map(name: string): LoaderMap {
    const map = this.maps.find((m) => m.name === name || m.def.realName === name);
    if (map === undefined) throw new LoadError(this.object.elf.fileName, `no map '${name}'`);
    return map;
  }

  program(name: string): LoaderProgram {
    const prog = this.programs.find((p) => p.name === name);
    if (prog === undefined) throw new LoadError(this.object.elf.fileName, `no program '${name}'`);
    return prog;
  }

  /**
   * Set the initial value of global variable `name` (in .data, .rodata, .bss or their
   * relatives) to `bytes` (at most the variable's size), as a skeleton's rodata/bss fields do.
   */
  setGlobal(name: string, bytes: Uint8Array): void {
    const btf = this.object.btf;
    const file = this.object.elf.fileName;
    for (const map of this.maps) {
      const datasec = btf?.types[map.def.btfValueTypeId];
      if (
        datasec?.kind !== BTF_KIND_DATASEC ||
        map.def.origin === "legacy" ||
        map.def.origin === "btf" ||
        map.def.origin === "kconfig"
      )
        continue;
      for (const v of datasec.vars) {
        const var_ = btf!.types[v.type];
        if (var_?.kind !== BTF_KIND_VAR || var_.name !== name) continue;
        if (bytes.length > v.size)
          throw new LoadError(file, `global '${name}' has ${v.size} bytes, ${bytes.length} given`);
        const value = map.initialValue ?? new Uint8Array(map.valueSize);
        value.set(bytes, v.offset);
        map.initialValue = value;
        return;
      }
    }
    throw new LoadError(file, `no global variable '${name}' (globals are found through .BTF)`);
  }

  /** Create the maps, load the programs, fill prog arrays. */
  load(kernel: SimKernel, options: LoadOptions = {}): LoadedObject {
    const bpf = options.bpf ?? bpfOf(kernel);
    const maps: LoadedMap[] = [];
    const programs: LoadedProgram[] = [];
    const partial = new LoadedObject(this.object, kernel, bpf, maps, programs);
    try {
      const { kconfig, ksyms } = this.resolveExterns(kernel, options);
      for (const map of this.maps) maps.push(this.createMap(bpf, map, kconfig));
      const kconfigMap = maps.findIndex((m) => m.origin === "kconfig");
      const externs: ExternResolution = {
        externs: this.object.externs,
        ksyms,
        kconfigFd: kconfigMap < 0 ? -1 : maps[kconfigMap]!.fd,
      };
      const core = this.relocateCore(kernel, options);
      for (const p of this.programs)
        programs.push(this.loadProgram(kernel, bpf, maps, p, options, core, externs));
      this.initProgArrays(bpf, maps, programs);
    } catch (err) {
      partial.close();
      throw err;
    }
    return partial;
  }

  /** The `.kconfig` value and the ksym addresses, from the kernel (LoadError naming the extern). */
  private resolveExterns(
    kernel: SimKernel,
    options: LoadOptions,
  ): { kconfig: Uint8Array; ksyms: ExternResolution["ksyms"] } {
    const file = this.object.elf.fileName;
    const externs = this.object.externs;
    try {
      const source = simKernelConfig(kernel);
      if (options.kconfig !== undefined) source.config = `${options.kconfig}\n${source.config}`;
      const kconfig = kconfigValue(externs, source, file);
      const ksyms = resolveKsyms(
        externs,
        (name) => {
          const sym = kernel.kallsyms.lookup(name);
          return sym === undefined ? undefined : { lo: sym.lo, hi: sym.hi };
        },
        file,
      );
      return { kconfig, ksyms };
    } catch (err) {
      if (!(err instanceof ExternError)) throw err;
      const reason = err.message.startsWith(`${file}: `)
        ? err.message.slice(file.length + 2)
        : err.message;
      throw new LoadError(file, reason);
    }
  }

  private createMap(bpf: BpfSyscall, map: LoaderMap, kconfig: Uint8Array): LoadedMap {
    const where = `${this.object.elf.fileName}: map '${map.def.realName}'`;
    let maxEntries = map.maxEntries;
    if (map.type === BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY && maxEntries === 0)
      maxEntries = bpf.kernel.possibleCpus;
    // A map of maps is created from a template of its inner map, closed once the outer exists.
    const inner = map.def.inner;
    const innerFd =
      inner === undefined
        ? undefined
        : syscall(`${where}: inner map template`, () =>
            bpf.mapCreate({
              mapType: inner.type,
              keySize: inner.keySize,
              valueSize: inner.valueSize,
              maxEntries: inner.maxEntries,
              mapFlags: inner.mapFlags,
              name: map.name.slice(0, 9) + ".inner",
            }),
          );
    const fd = syscall(
      where,
      () =>
        bpf.mapCreate({
          mapType: map.type,
          keySize: map.keySize,
          valueSize: map.valueSize,
          maxEntries,
          mapFlags: map.mapFlags,
          numaNode: map.def.numaNode,
          mapExtra: map.def.mapExtra,
          name: map.name,
          ...(innerFd !== undefined && { innerMapFd: innerFd }),
        }),
      () => {
        if (innerFd !== undefined) bpf.close(innerFd);
      },
    );
    if (innerFd !== undefined) bpf.close(innerFd);
    const origin = map.def.origin;
    if (origin === "data" || origin === "rodata" || origin === "bss" || origin === "kconfig") {
      const value = new Uint8Array(map.valueSize);
      const initial = origin === "kconfig" ? kconfig : map.initialValue;
      if (initial !== undefined) value.set(initial.subarray(0, map.valueSize));
      syscall(
        where,
        () => bpf.mapUpdateElem({ mapFd: fd, key: new Uint8Array(4), value }),
        () => bpf.close(fd),
      );
      if (origin === "rodata" || origin === "kconfig")
        syscall(
          where,
          () => bpf.mapFreeze(fd),
          () => bpf.close(fd),
        );
    }
    return { name: map.name, def: map.def, origin, fd };
  }

  /** CO-RE relocation of every program that will load (a failure fails the whole object). */
  private relocateCore(kernel: SimKernel, options: LoadOptions): CoreRelocatedObject {
    const autoload = new Map(this.programs.map((p) => [p.prog, p.autoload]));
    try {
      const core = relocateObjectCore(this.object, options.targetBtf ?? kernel.btf, {
        autoload: (prog) => autoload.get(prog) ?? false,
      });
      return withCoreRelocations(this.object, core);
    } catch (err) {
      if (err instanceof CoreRelocationError) throw new LoadError(err.where, err.reason);
      throw err;
    }
  }

  private loadProgram(
    kernel: SimKernel,
    bpf: BpfSyscall,
    maps: LoadedMap[],
    p: LoaderProgram,
    options: LoadOptions,
    core: CoreRelocatedObject,
    externs: ExternResolution,
  ): LoadedProgram {
    const object = this.object;
    const where = `${object.elf.fileName}: section '${p.sectionName}': program '${p.name}'`;
    const base = {
      name: p.name,
      sectionName: p.sectionName,
      type: p.type,
      expectedAttachType: p.expectedAttachType,
      autoload: p.autoload,
      prog: p.prog,
    };
    const none = { insns: [], funcInfo: [], lineInfo: [], functions: [], log: "" };
    if (!p.autoload) return { ...base, ...none, fd: -1 };
    let relocated;
    try {
      if (p.type === BpfProgType.BPF_PROG_TYPE_UNSPEC) throw missingProgramType(p.prog);
      relocated = relocateProgram(core.object, core.program(p.prog), (i) => maps[i]!.fd, externs);
    } catch (err) {
      if (!options.keepGoing || !(err instanceof LoadError || err instanceof ObjectError))
        throw err;
      const error = err instanceof LoadError ? err : new LoadError(where, err.message);
      return { ...base, ...none, fd: -1, error };
    }
    const logLevel = options.logLevel ?? 1;
    const logBuf = logLevel > 0 ? new Uint8Array(options.logSize ?? 1 << 20) : undefined;
    const done = {
      ...base,
      insns: relocated.insns,
      funcInfo: relocated.funcInfo,
      lineInfo: relocated.lineInfo,
      functions: relocated.functions,
    };
    try {
      const fd = bpf.progLoad({
        progType: p.type,
        expectedAttachType: p.expectedAttachType,
        insns: relocated.insns,
        license: object.license,
        kernVersion: object.kernVersion ?? kernel.version,
        progName: p.name.slice(0, 15),
        progFlags: p.prog.sleepable ? BPF_F_SLEEPABLE : 0,
        logLevel,
        ...(logBuf === undefined ? {} : { logBuf, logSize: logBuf.length }),
        btf: object.btf,
        funcInfo: relocated.funcInfo,
        lineInfo: relocated.lineInfo,
      });
      return { ...done, fd, log: logText(logBuf) };
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      const coreReason = explainPoisonedLoad(
        core.results,
        relocated.functions,
        err.reason,
        err.log ?? "",
      );
      const error = programError(where, p, err, coreReason);
      if (!options.keepGoing) throw error;
      return { ...done, fd: -1, log: err.log ?? "", error };
    }
  }

  /**
   * bpf_object_init_prog_arrays() and init_map_in_map_slots(): the slots
   * `.values = { [i] = &prog }` and `.values = { [i] = &map }` asked for.
   */
  private initProgArrays(bpf: BpfSyscall, maps: LoadedMap[], programs: LoadedProgram[]): void {
    for (const map of maps) {
      for (const slot of map.def.initialSlots) {
        const where = `${this.object.elf.fileName}: map '${map.def.realName}'`;
        if (slot.kind === "map") {
          const target = maps.find((m) => m.def.name === slot.name || m.name === slot.name);
          if (target === undefined)
            throw new LoadError(
              where,
              `slot [${slot.index}] names map '${slot.name}', which is not created`,
            );
          this.setSlot(bpf, map, where, slot.index, target.fd, slot.name);
          continue;
        }
        const prog = programs.find((p) => p.name === slot.name);
        if (prog === undefined || prog.fd < 0)
          throw new LoadError(
            where,
            `slot [${slot.index}] names program '${slot.name}', which is not loaded`,
          );
        this.setSlot(bpf, map, where, slot.index, prog.fd, slot.name);
      }
    }
  }

  /** map[index] = fd, the index as a u32 key (as libbpf writes prog array and map-in-map slots). */
  private setSlot(
    bpf: BpfSyscall,
    map: LoadedMap,
    where: string,
    index: number,
    fd: number,
    name: string,
  ): void {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, index, true);
    const value = new Uint8Array(4);
    new DataView(value.buffer).setInt32(0, fd, true);
    syscall(`${where}: slot [${index}] = '${name}'`, () =>
      bpf.mapUpdateElem({ mapFd: map.fd, key, value }),
    );
  }
}

/** Open-phase object to loaded object in one call (no changes before load). */
export function loadObject(
  kernel: SimKernel,
  object: BpfObject,
  options?: LoadOptions,
): LoadedObject {
  return new ObjectLoader(object).load(kernel, options);
}

/** Run a bpf() call; a refusal becomes a LoadError naming `where` (after `cleanup`). */
function syscall<T>(where: string, fn: () => T, cleanup?: () => void): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    cleanup?.();
    throw new LoadError(where, err.reason, err.errno, err.log ?? "");
  }
}

function programError(
  where: string,
  p: LoaderProgram,
  err: BpfSyscallError,
  coreReason = "",
): LoadError {
  const type = progTypeShortName(p.type) ?? String(p.type);
  return new LoadError(
    `${where} (${type})`,
    `failed to load: ${err.reason}${coreReason ? ` (${coreReason})` : ""}`,
    err.errno,
    err.log ?? "",
  );
}

function logText(buf: Uint8Array | undefined): string {
  if (buf === undefined) return "";
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}
