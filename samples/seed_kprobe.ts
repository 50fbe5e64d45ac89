// The seed's flow, by hand, with the system calls of Linux 4.1: BPF_MAP_CREATE and
// BPF_PROG_LOAD with a kern_version (a kernel that checks it refuses any other), a kprobe event
// created by name in kprobe_events, perf_event_open on that event, PERF_EVENT_IOC_SET_BPF to
// attach the program, and close() to detach it. The program returns non-zero for big reads, so
// the kernel keeps those events: they show in trace_pipe.
import { BpfSyscallError } from "../runtime/bpf/error.js";
import { bpfOf } from "../runtime/bpf/syscall.js";
import { relocateProgram } from "../runtime/loader/relocate.js";
import { codec } from "../runtime/maps/index.js";
import { runWorkload } from "../runtime/kernel/workload.js";
import { openObject } from "../runtime/object/open.js";
import { BpfProgType, KERNEL_VERSION, kernelVersionString } from "../runtime/uapi/bpf.js";
import {
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_BPF,
  PerfSampleFormat,
  PerfTypeId,
} from "../runtime/uapi/perf_event.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

const READ_STATS = codec.struct({ calls: codec.u64n, bytes: codec.u64n, big: codec.u64n });
const EVENT = "p:kprobes/seed_vfs_read vfs_read";

export interface SeedResult {
  /** each system call made, with its result */
  steps: string[];
  /** summed over the CPUs */
  stats: { calls: number; bytes: number; big: number };
  /** big reads kept on CPU 0, where the perf event was opened (the only ones it records) */
  bigOnCpu0: number;
  /** the kept events the perf event recorded, as trace_pipe shows them */
  trace: string[];
  /** after close(perf fd): vfs_read calls made, and the program's count (unchanged) */
  afterClose: { vfsReads: number; counted: number; unloaded: boolean };
}

export const seedKprobe: Sample<SeedResult> = {
  name: "seed_kprobe",
  title:
    "the seed's flow by hand on Linux 4.1: PROG_LOAD with kern_version, kprobe_events, perf_event_open, SET_BPF, close",
  workload: "files",
  events: 400,
  kernel: { version: "4.1", checkKernVersion: true },

  start(kernel, object, engine) {
    const bpf = bpfOf(kernel, { engine });
    const file = openObject(object.bytes, object.name);
    const steps: string[] = [];
    const def = file.maps[0]!;
    const mapFd = bpf.mapCreate({
      mapType: def.type,
      keySize: def.keySize,
      valueSize: def.valueSize,
      maxEntries: def.maxEntries,
    });
    steps.push(
      `bpf(BPF_MAP_CREATE, array, key 4, value ${def.valueSize}, ${def.maxEntries} entries) = ${mapFd}`,
    );
    const prog = file.programs[0]!;
    const { insns } = relocateProgram(file, prog, () => mapFd);
    const load = (kernVersion: number): number =>
      bpf.progLoad({
        progType: BpfProgType.BPF_PROG_TYPE_KPROBE,
        insns,
        license: file.license,
        kernVersion,
        progName: prog.name,
      });
    // A kern_version for another kernel: the 4.1 rule refuses it.
    const wrong = KERNEL_VERSION(6, 1, 0);
    try {
      load(wrong);
      steps.push(`bpf(BPF_PROG_LOAD, kern_version ${kernelVersionString(wrong)}) accepted?!`);
    } catch (err) {
      if (!(err instanceof BpfSyscallError)) throw err;
      steps.push(
        `bpf(BPF_PROG_LOAD, kern_version ${kernelVersionString(wrong)}) = -${err.errnoName}: ${err.reason}`,
      );
    }
    const version = file.kernVersion ?? kernel.version;
    const progFd = load(version);
    steps.push(
      `bpf(BPF_PROG_LOAD, kprobe '${prog.name}', kern_version ${kernelVersionString(version)}) = ${progFd}`,
    );
    const id = kernel.createKprobeEvent(EVENT);
    steps.push(`echo '${EVENT}' >> kprobe_events; cat events/kprobes/seed_vfs_read/id = ${id}`);
    const perfFd = kernel.perfEventOpen(
      {
        type: PerfTypeId.PERF_TYPE_TRACEPOINT,
        config: id,
        sampleType: PerfSampleFormat.PERF_SAMPLE_RAW,
        samplePeriod: 1,
        wakeupEvents: 1,
      },
      -1,
      0,
    );
    steps.push(`perf_event_open(PERF_TYPE_TRACEPOINT, config ${id}, pid -1, cpu 0) = ${perfFd}`);
    kernel.ioctl(perfFd, PERF_EVENT_IOC_SET_BPF, progFd);
    steps.push(`ioctl(${perfFd}, PERF_EVENT_IOC_SET_BPF, ${progFd}) = 0`);
    kernel.ioctl(perfFd, PERF_EVENT_IOC_ENABLE, 0);
    steps.push(`ioctl(${perfFd}, PERF_EVENT_IOC_ENABLE, 0) = 0`);
    const progId = bpf.objGetInfoByFd(progFd).id;
    bpf.close(progFd);
    steps.push(`close(${progFd}) = 0   (the perf event still holds the program)`);

    /** Each CPU's slot of the map. */
    const readStats = () =>
      kernel.cpus.map((cpu) => {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, cpu.id, true);
        const value = new Uint8Array(def.valueSize);
        bpf.mapLookupElem({ mapFd, key, value });
        return READ_STATS.decode(value, 0);
      });
    const sum = (perCpu: ReturnType<typeof readStats>) => ({
      calls: perCpu.reduce((n, s) => n + s.calls, 0),
      bytes: perCpu.reduce((n, s) => n + s.bytes, 0),
      big: perCpu.reduce((n, s) => n + s.big, 0),
    });
    let closed = false;
    return {
      collect: () => {
        const perCpu = readStats();
        const trace = kernel.trace
          .readPipe()
          .split("\n")
          .filter((l) => l !== "");
        kernel.close(perfFd);
        closed = true;
        steps.push(`close(${perfFd}) = 0   (detached; the program's last reference is gone)`);
        const unloaded = bpf.progById(progId) === undefined;
        const before = kernel.fn("vfs_read").calls;
        runWorkload(kernel, "files", { events: 100 });
        const afterClose = {
          vfsReads: kernel.fn("vfs_read").calls - before,
          counted: sum(readStats()).calls,
          unloaded,
        };
        return { steps, stats: sum(perCpu), bigOnCpu0: perCpu[0]!.big, trace, afterClose };
      },
      close: () => {
        if (!closed) kernel.close(perfFd);
        closed = true;
        bpf.close(mapFd);
      },
    };
  },

  report({ steps, stats, bigOnCpu0, trace, afterClose }) {
    const out = [...steps.map((s) => `  ${s}`)];
    out.push(
      "",
      `vfs_read: ${stats.calls} calls, ${stats.bytes} bytes asked; ${stats.big} reads of 64 KiB or more kept,`,
      `${bigOnCpu0} of them on CPU 0, where the perf event is open, which recorded them:`,
      ...trace.slice(0, 6),
    );
    if (trace.length > 6) out.push(`... ${trace.length - 6} more`);
    out.push(
      "",
      `after close: ${afterClose.vfsReads} more vfs_read calls, the count stays at ${afterClose.counted}` +
        `; program ${afterClose.unloaded ? "unloaded" : "still loaded"}`,
    );
    return out.join("\n");
  },
};

mainIfRun(import.meta.url, seedKprobe);
