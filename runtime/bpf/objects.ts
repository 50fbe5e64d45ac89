// The kernel objects behind BPF file descriptors, with the kernel's two reference counts.
//
// struct bpf_map: `refcnt` counts everything that keeps the map alive (its fds and every loaded
// program that uses it), `usercnt` only user references (fds). When the last user reference
// goes, prog and perf event arrays drop their slots (map_release_uref): this is what breaks the
// cycle "program uses prog array, prog array holds program". When refcnt reaches zero the map
// is freed.
//
// struct bpf_prog: one count for its fds, the prog array slots holding it and every attachment
// (perf event, link). The last put unloads it: its maps lose a reference each.
import type { Insn } from "../isa/insn.js";
import type { AttachableProg } from "../kernel/attach.js";
import { KernelTypeError } from "../kernel/error.js";
import { FdArrayMap, type ProgArrayEntry } from "../maps/fd-array.js";
import type { BpfMap } from "../maps/map.js";
import { ArrayOfMapsMap } from "../maps/map-in-map.js";
import type { BpfFuncInfo, BpfLineInfo } from "../object/open.js";
import { mapTypeShortName, progTypeShortName } from "../uapi/bpf.js";
import type { Region } from "../vm/memory.js";
import type { Program } from "../vm/program.js";
import type { InsnFact } from "../verifier/index.js";

export class BpfMapObject {
  private refcnt = 1;
  private usercnt = 1;
  /** PROG_ARRAY: the program type every program in it (or calling through it) must have */
  ownerProgType: number | undefined;

  constructor(
    readonly id: number,
    readonly map: BpfMap,
    /** struct bpf_map's address: the value lddw BPF_PSEUDO_MAP_FD loads */
    readonly handle: Region,
    /** called once the map is freed (the facade forgets it) */
    private readonly onFree: (map: BpfMapObject) => void,
  ) {}

  get refs(): number {
    return this.refcnt;
  }

  get userRefs(): number {
    return this.usercnt;
  }

  get freed(): boolean {
    return this.refcnt === 0;
  }

  /** "map 'counts' (hash, id 3)" */
  describe(): string {
    return `map '${this.map.name}' (${mapTypeShortName(this.map.type) ?? this.map.type}, id ${this.id})`;
  }

  /** bpf_map_inc(): a program (or another kernel object) uses the map. */
  inc(): void {
    this.check("bpf_map_inc");
    this.refcnt++;
  }

  /** bpf_map_inc_with_uref(): another fd. */
  incWithUref(): void {
    this.check("bpf_map_inc_with_uref");
    this.refcnt++;
    this.usercnt++;
  }

  /** bpf_map_put(): the last reference frees the map. */
  put(): void {
    this.check("bpf_map_put");
    if (--this.refcnt === 0) {
      this.map.free();
      this.onFree(this);
    }
  }

  /** bpf_map_put_with_uref(): an fd closed; the last one empties fd arrays. */
  putWithUref(): void {
    this.check("bpf_map_put_with_uref");
    // prog and perf event arrays let go of their slots with the last fd; maps of maps keep theirs
    if (
      --this.usercnt === 0 &&
      this.map instanceof FdArrayMap &&
      !(this.map instanceof ArrayOfMapsMap)
    )
      this.map.clear();
    this.put();
  }

  private check(what: string): void {
    if (this.refcnt <= 0)
      throw new KernelTypeError(`${what}: ${this.describe()} was already freed`);
  }
}

/** Runs a loaded program on a CPU's engine (the facade provides it). */
export type ProgRunner = (
  prog: BpfProgObject,
  ctxLo: number,
  ctxHi: number,
  cpu: number,
) => readonly [number, number];

/** What PROG_LOAD produced, before it becomes a program object. */
export interface LoadedProgram {
  progType: number;
  expectedAttachType: number;
  name: string;
  license: string;
  gplCompatible: boolean;
  /** the instructions as loaded (map fds in lddw) */
  insns: Insn[];
  /** prepared for the engines: pseudo lddws resolved */
  program: Program;
  /** every map the program references, each with a reference taken */
  usedMaps: BpfMapObject[];
  /** the map each map lddw names, by instruction index */
  mapRefs: ReadonlyMap<number, BpfMapObject>;
  tag: string;
  verifiedInsns: number;
  /** what the verifier proved per instruction (the JIT may rely on it) */
  verifierFacts?: readonly InsnFact[];
  funcInfo: readonly BpfFuncInfo[];
  lineInfo: readonly BpfLineInfo[];
  loadTime: number;
  createdByUid: number;
}

export class BpfProgObject implements AttachableProg, ProgArrayEntry {
  private refcnt = 1;
  /** runs (every run, not only with BPF_ENABLE_STATS) */
  runCnt = 0;
  /** runs skipped because the CPU was already running a program */
  recursionMisses = 0;
  readonly progType: number;
  readonly expectedAttachType: number;
  readonly name: string;
  readonly program: Program;

  constructor(
    readonly id: number,
    readonly loaded: LoadedProgram,
    private readonly runner: ProgRunner,
    /** called once the program is unloaded */
    private readonly onUnload: (prog: BpfProgObject) => void,
  ) {
    this.progType = loaded.progType;
    this.expectedAttachType = loaded.expectedAttachType;
    this.name = loaded.name;
    this.program = loaded.program;
  }

  get refs(): number {
    return this.refcnt;
  }

  /** Unloaded: no fd, attachment or prog array slot holds it any more. */
  get unloaded(): boolean {
    return this.refcnt === 0;
  }

  /** "program 'count_reads' (kprobe, id 4)" */
  describe(): string {
    const name = this.name === "" ? "" : ` '${this.name}'`;
    return `program${name} (${progTypeShortName(this.progType) ?? this.progType}, id ${this.id})`;
  }

  run(ctxLo: number, ctxHi: number, cpu: number): readonly [number, number] {
    if (this.refcnt === 0)
      throw new KernelTypeError(`${this.describe()} runs after it was unloaded`);
    this.runCnt++;
    return this.runner(this, ctxLo, ctxHi, cpu);
  }

  /** bpf_prog_inc() */
  get(): void {
    if (this.refcnt <= 0)
      throw new KernelTypeError(`bpf_prog_inc: ${this.describe()} was already unloaded`);
    this.refcnt++;
  }

  /** bpf_prog_put(): the last reference unloads the program and releases its maps. */
  put(): void {
    if (this.refcnt <= 0)
      throw new KernelTypeError(`bpf_prog_put: ${this.describe()} was already unloaded`);
    if (--this.refcnt > 0) return;
    this.onUnload(this);
    for (const map of this.loaded.usedMaps) map.put();
  }

  incMissesCounter(): void {
    this.recursionMisses++;
  }
}
