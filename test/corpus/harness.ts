// A minimal loader for the corpus' differential test: an object (clang's or ours) opened with
// runtime/object, its maps created and its programs linked and loaded through the simulated
// kernel's bpf() facade as libbpf would (subprograms appended, map and global lddw rewritten to
// BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE, program arrays and perf buffers filled), kprobe
// and kretprobe programs attached through the kprobe PMU, then a seeded workload driven.
//
// What the run leaves is collected as text so two runs compare whole: every map's entries
// (sorted; per-CPU values for every CPU), global data, ring buffer and perf buffer records,
// trace_pipe lines and socket-filter test-run results. The same seed gives the same kernel
// events for both objects; the programs alone can make the results differ.
import {
  openObject,
  type BpfFuncInfo,
  type BpfObject,
  type BpfProgram,
} from "../../runtime/object/open.js";
import type { BpfMapDef } from "../../runtime/object/maps.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { runWorkload, type WorkloadName } from "../../runtime/kernel/workload.js";
import { KPROBE_PMU_TYPE, PERF_PROBE_CONFIG_IS_RETPROBE } from "../../runtime/kernel/perf.js";
import { bpfOf, type BpfSyscall } from "../../runtime/bpf/syscall.js";
import {
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_BPF,
  PerfSampleFormat,
  PerfSwIds,
  PerfTypeId,
} from "../../runtime/uapi/perf_event.js";
import { BpfMapType, BpfProgType } from "../../runtime/uapi/bpf.js";
import { RingbufMap } from "../../runtime/maps/ringbuf.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BTF_KIND_DATASEC } from "../../runtime/btf/btf.js";
import {
  BPF_CALL,
  BPF_JMP,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
} from "../../runtime/isa/opcodes.js";

export interface RunOptions {
  seed?: number;
  events?: number;
  workload?: WorkloadName;
  /** values for `.rodata` variables before load (libbpf skeleton style), by variable name */
  rodata?: Record<string, Uint8Array>;
}

export interface CorpusRun {
  maps: Record<string, string[]>;
  ringbuf: Record<string, string[]>;
  perf: string[];
  trace: string[];
  testRuns: string[];
  /** how many times each attached program ran */
  runs: Record<string, number>;
}

/** Map types the simulated kernel does not create: programs using them cannot run here. */
export function unsupportedMaps(bytes: Uint8Array, name: string): string[] {
  const obj = openObject(bytes, name);
  const supported = new Set<number>([
    BpfMapType.BPF_MAP_TYPE_ARRAY,
    BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY,
    BpfMapType.BPF_MAP_TYPE_HASH,
    BpfMapType.BPF_MAP_TYPE_PERCPU_HASH,
    BpfMapType.BPF_MAP_TYPE_LRU_HASH,
    BpfMapType.BPF_MAP_TYPE_LRU_PERCPU_HASH,
    BpfMapType.BPF_MAP_TYPE_PROG_ARRAY,
    BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    BpfMapType.BPF_MAP_TYPE_RINGBUF,
    BpfMapType.BPF_MAP_TYPE_STACK_TRACE,
    BpfMapType.BPF_MAP_TYPE_ARRAY_OF_MAPS,
    BpfMapType.BPF_MAP_TYPE_HASH_OF_MAPS,
  ]);
  return obj.maps.filter((m) => !supported.has(m.type)).map((m) => `${m.name} (type ${m.type})`);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Loads `bytes` into a fresh simulated kernel, runs the workload and collects the results. */
export function runObject(bytes: Uint8Array, name: string, options: RunOptions = {}): CorpusRun {
  const kernel = new SimKernel({ cpus: 2, seed: options.seed ?? 7 });
  const sys = bpfOf(kernel);
  const obj = openObject(bytes, name);
  const loader = new Loader(kernel, sys, obj, options);
  loader.createMaps();
  loader.loadPrograms();
  loader.fillSlots();
  const collected: CorpusRun = {
    maps: {},
    ringbuf: {},
    perf: [],
    trace: [],
    testRuns: [],
    runs: {},
  };
  loader.openPerfBuffers(collected);
  loader.pollRingbufs(collected);
  loader.attach();
  if (loader.attached.length > 0)
    runWorkload(kernel, options.workload ?? "mixed", { events: options.events ?? 300 });
  loader.testRunSockets(collected);
  kernel.poll();
  collected.trace = kernel.trace
    .read()
    .split("\n")
    .filter((l) => l !== "");
  for (const a of loader.attached) collected.runs[a.name] = a.runs();
  loader.dumpMaps(collected);
  return collected;
}

class Loader {
  readonly mapFds = new Map<BpfMapDef, number>();
  readonly progFds = new Map<string, number>();
  readonly attached: { name: string; runs: () => number }[] = [];

  constructor(
    private readonly kernel: SimKernel,
    private readonly sys: BpfSyscall,
    private readonly obj: BpfObject,
    private readonly options: RunOptions,
  ) {}

  createMaps(): void {
    for (const def of this.obj.maps) {
      // maps of maps: from a template of the inner map, closed afterwards (as libbpf does)
      const inner = def.inner;
      const innerFd =
        inner &&
        this.sys.mapCreate({
          mapType: inner.type,
          keySize: inner.keySize,
          valueSize: inner.valueSize,
          maxEntries: inner.maxEntries,
          mapFlags: inner.mapFlags,
        });
      const fd = this.sys.mapCreate({
        ...(innerFd !== undefined && { innerMapFd: innerFd }),
        mapType: def.type,
        keySize: def.keySize,
        valueSize: def.valueSize,
        maxEntries:
          def.type === BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY && def.maxEntries === 0
            ? 2
            : def.maxEntries,
        mapFlags: def.mapFlags,
        name: def.name.slice(0, 15),
      });
      if (innerFd !== undefined) this.sys.close(innerFd);
      this.mapFds.set(def, fd);
      if (def.origin === "data" || def.origin === "rodata") {
        const value = new Uint8Array(def.valueSize);
        if (def.initialValue) value.set(def.initialValue.subarray(0, def.valueSize));
        if (def.origin === "rodata") {
          for (const [name, bytes] of Object.entries(this.options.rodata ?? {})) {
            const v = datasecVars(this.obj, def.realName).find((x) => x.name === name);
            if (!v) throw new Error(`no .rodata variable '${name}'`);
            value.set(bytes.subarray(0, v.size), v.offset);
          }
        }
        this.sys.mapUpdateElem({ mapFd: fd, key: new Uint8Array(4), value });
      }
    }
  }

  loadPrograms(): void {
    for (const prog of this.obj.programs) {
      const { insns, funcInfo } = this.link(prog);
      const fd = this.sys.progLoad({
        progType: prog.type,
        insns,
        // func info (and the BTF it names): the kernel wants it for callbacks
        ...(this.obj.btf && funcInfo.length > 0 && { btf: this.obj.btf, funcInfo }),
        license: this.obj.license,
        ...(this.obj.kernVersion !== undefined ? { kernVersion: this.obj.kernVersion } : {}),
        progName: prog.name.slice(0, 15),
        expectedAttachType: prog.expectedAttachType,
      });
      this.progFds.set(prog.name, fd);
    }
  }

  /** libbpf's linking: the program, then each subprogram it calls, appended once. */
  private link(prog: BpfProgram): { insns: Insn[]; funcInfo: BpfFuncInfo[] } {
    const out: Insn[] = prog.insns.map((i) => ({ ...i }));
    const bases = new Map<BpfProgram, number>([[prog, 0]]);
    const work: BpfProgram[] = [prog];
    const place = (sub: BpfProgram): number => {
      let base = bases.get(sub);
      if (base === undefined) {
        base = out.length;
        bases.set(sub, base);
        out.push(...sub.insns.map((i) => ({ ...i })));
        work.push(sub);
      }
      return base;
    };
    const functionAt = (section: number, slot: number): BpfProgram => {
      const f = [...this.obj.programs, ...this.obj.subprograms].find(
        (p) =>
          p.sectionIndex === section &&
          slot >= p.sectionInsnOffset &&
          slot < p.sectionInsnOffset + p.insns.length,
      );
      if (!f) throw new Error(`${prog.name}: no function at slot ${slot} of section ${section}`);
      return f;
    };
    while (work.length > 0) {
      const f = work.shift()!;
      const base = bases.get(f)!;
      const relocated = new Set<number>();
      for (const r of f.relocations) {
        const at = base + r.insn;
        relocated.add(r.insn);
        const insn = out[at]!;
        if (r.kind === "map") {
          insn.src = BPF_PSEUDO_MAP_FD;
          insn.imm = this.mapFds.get(this.obj.maps[r.map]!)!;
        } else if (r.kind === "data") {
          insn.src = BPF_PSEUDO_MAP_VALUE;
          out[at + 1]!.imm = r.offset + insn.imm;
          insn.imm = this.mapFds.get(this.obj.maps[r.map]!)!;
        } else {
          const text = this.obj.subprograms.find((s) => s.name === r.subprogram)!;
          const target = place(text) + (r.target - text.sectionInsnOffset);
          insn.imm = target - (at + 1);
          if (r.kind === "subprog_addr") insn.src = BPF_PSEUDO_FUNC;
        }
      }
      f.insns.forEach((insn, i) => {
        if (insn.code !== (BPF_JMP | BPF_CALL) || insn.src !== BPF_PSEUDO_CALL || relocated.has(i))
          return;
        const slot = f.sectionInsnOffset + i + 1 + insn.imm;
        const callee = functionAt(f.sectionIndex, slot);
        const target = place(callee) + (slot - callee.sectionInsnOffset);
        out[base + i]!.imm = target - (base + i + 1);
      });
    }
    const funcInfo = [...bases].flatMap(([f, base]) =>
      f.funcInfo.map((fi) => ({ ...fi, insn: fi.insn + base })),
    );
    return { insns: out, funcInfo: funcInfo.sort((a, b) => a.insn - b.insn) };
  }

  /** Program arrays and maps of maps get their `.values = { ... }` initial slots. */
  fillSlots(): void {
    for (const def of this.obj.maps) {
      for (const slot of def.initialSlots) {
        const fd =
          slot.kind === "prog"
            ? this.progFds.get(slot.name)!
            : this.mapFds.get(this.obj.maps.find((m) => m.name === slot.name)!)!;
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, slot.index, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, fd, true);
        this.sys.mapUpdateElem({ mapFd: this.mapFds.get(def)!, key, value });
      }
    }
  }

  /** A BPF output perf event per CPU in every perf event array, records kept as they come. */
  openPerfBuffers(collected: CorpusRun): void {
    for (const def of this.obj.maps) {
      if (def.type !== BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY) continue;
      for (let cpu = 0; cpu < this.kernel.cpus.length; cpu++) {
        const fd = this.kernel.perfEventOpen(
          {
            type: PerfTypeId.PERF_TYPE_SOFTWARE,
            config: PerfSwIds.PERF_COUNT_SW_BPF_OUTPUT,
            sampleType: PerfSampleFormat.PERF_SAMPLE_RAW,
            samplePeriod: 1,
            wakeupEvents: 1,
          },
          -1,
          cpu,
        );
        const ring = this.kernel.perfMmap(fd, 1 + 8);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, cpu, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, fd, true);
        this.sys.mapUpdateElem({ mapFd: this.mapFds.get(def)!, key, value });
        this.kernel.addPoller(() => {
          for (const r of ring.consume()) {
            if (r.type === "sample")
              collected.perf.push(`cpu${cpu} ${hex(r.raw ?? new Uint8Array(0))}`);
            else if (r.type === "lost") collected.perf.push(`cpu${cpu} lost ${r.lost}`);
          }
        });
      }
    }
  }

  pollRingbufs(collected: CorpusRun): void {
    for (const def of this.obj.maps) {
      if (def.type !== BpfMapType.BPF_MAP_TYPE_RINGBUF) continue;
      const map = this.sys.mapOf(this.mapFds.get(def)!).map as RingbufMap;
      const records: string[] = (collected.ringbuf[def.name] = []);
      this.kernel.addPoller(() => {
        map.consume((sample) => {
          records.push(hex(sample));
        });
      });
    }
  }

  attach(): void {
    for (const prog of this.obj.programs) {
      const target = prog.attach;
      if (prog.type !== BpfProgType.BPF_PROG_TYPE_KPROBE || target === undefined) continue;
      if (target.kind !== "kprobe") continue;
      const func = target.func;
      const retprobe = target.retprobe;
      const fd = this.kernel.perfEventOpen(
        {
          type: KPROBE_PMU_TYPE,
          config: retprobe ? PERF_PROBE_CONFIG_IS_RETPROBE : 0,
          kprobeFunc: func,
        },
        -1,
        0,
      );
      this.kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, this.progFds.get(prog.name)!);
      this.kernel.ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
      const event = this.kernel.files.get(fd)?.privateData as
        { attachment?: { runs: number } } | undefined;
      this.attached.push({ name: prog.name, runs: () => event?.attachment?.runs ?? -1 });
    }
  }

  /** Socket filters run on a few frames with BPF_PROG_TEST_RUN. */
  testRunSockets(collected: CorpusRun): void {
    const frames = [
      frame(0x0800, 60),
      frame(0x86dd, 90),
      frame(0x0806, 42),
      frame(0x0800, 1500),
      frame(0x88cc, 64),
    ];
    for (const prog of this.obj.programs) {
      if (prog.type !== BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER) continue;
      for (const [i, data] of frames.entries()) {
        const ctxIn = new Uint8Array(192);
        new DataView(ctxIn.buffer).setUint32(8, i % 2, true); // mark
        const r = this.sys.progTestRun({
          progFd: this.progFds.get(prog.name)!,
          dataIn: data,
          ctxIn,
        });
        collected.testRuns.push(`${prog.name} frame${i} retval=${r.retval}`);
      }
    }
  }

  dumpMaps(collected: CorpusRun): void {
    for (const def of this.obj.maps) {
      if (
        def.type === BpfMapType.BPF_MAP_TYPE_PROG_ARRAY ||
        def.type === BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
        def.type === BpfMapType.BPF_MAP_TYPE_RINGBUF
      )
        continue;
      const map = this.sys.mapOf(this.mapFds.get(def)!).map;
      if (def.origin === "data" || def.origin === "rodata" || def.origin === "bss") {
        // Variables by name: the two compilers may lay a section out in different orders.
        const value = new Uint8Array(map.userValueSize);
        map.sysLookup(new Uint8Array(4), value);
        for (const v of datasecVars(this.obj, def.realName))
          collected.maps[`${def.realName}:${v.name}`] = [
            hex(value.subarray(v.offset, v.offset + v.size)),
          ];
        continue;
      }
      const entries: string[] = [];
      let key: Uint8Array | null = null;
      const next = new Uint8Array(map.keySize);
      for (let n = 0; n < 100000 && map.sysGetNextKey(key, next) === 0; n++) {
        const value = new Uint8Array(map.userValueSize);
        const found = map.sysLookup(next, value);
        entries.push(`${hex(next)} ${found === 0 ? hex(value) : `errno ${-found}`}`);
        key = next.slice();
      }
      collected.maps[def.name] = entries.sort();
    }
  }
}

/** The variables of a global-data section, from the object's BTF DATASEC (offsets fixed up). */
function datasecVars(
  obj: BpfObject,
  section: string,
): { name: string; offset: number; size: number }[] {
  const btf = obj.btf;
  const ds = btf?.types.find((t) => t.kind === BTF_KIND_DATASEC && t.name === section);
  if (!btf || ds?.kind !== BTF_KIND_DATASEC) return [];
  return ds.vars.map((v) => ({ name: btf.types[v.type]!.name, offset: v.offset, size: v.size }));
}

/** An Ethernet frame of `length` bytes with `proto`, filled with a pattern. */
function frame(proto: number, length: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 7 + 3) & 0xff;
  f.fill(0, 0, 6);
  f[12] = proto >> 8;
  f[13] = proto & 0xff;
  return f;
}
