// perf events: BPF output rings per CPU (records, padding, lost samples), kprobe samples in an
// mmap'd ring, and perf_event_open/ioctl error numbers checked against the machine's own kernel
// (a C program makes the same calls; nothing is attached there, only refused).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syscallResult } from "../../runtime/kernel/error.js";
import { AT_FDCWD, O_RDONLY } from "../../runtime/kernel/fs.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import type { PerfEvent } from "../../runtime/kernel/perf.js";
import { NR } from "../../runtime/kernel/syscalls.js";
import { BpfMapType, BpfProgType, BPF_F_CURRENT_CPU } from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";
import { BpfFunc } from "../../runtime/uapi/helpers.js";
import {
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_BPF,
  PerfSampleFormat,
  PerfSwIds,
  PerfTypeId,
} from "../../runtime/uapi/perf_event.js";
import type { KernelCpu } from "../../runtime/kernel/cpu.js";
import type { Helper } from "../../runtime/vm/helpers.js";
import { testHelpers } from "./helpers.js";
import { createMapOrThrow } from "../../runtime/maps/create.js";
import type { PerfEventArrayMap } from "../../runtime/maps/fd-array.js";
import { FileKind, KernelFile } from "../../runtime/kernel/files.js";
import { installProg, TestProg } from "./prog.js";
import { hasClang, run, withTmp } from "./tools.js";

const S = PerfSampleFormat;
const bpfOutput = (sampleType: number) => ({
  type: PerfTypeId.PERF_TYPE_SOFTWARE,
  config: PerfSwIds.PERF_COUNT_SW_BPF_OUTPUT,
  sampleType,
  samplePeriod: 1,
  wakeupEvents: 1,
});

/** One BPF output event per CPU, mapped with 1 + `pages` pages. */
function perCpuOutputs(
  kernel: SimKernel,
  pages: number,
  sampleType = S.PERF_SAMPLE_RAW,
): PerfEvent[] {
  return kernel.cpus.map((c) => {
    const fd = kernel.perfEventOpen(bpfOutput(sampleType), -1, c.id, -1, 0);
    kernel.perfMmap(fd, 1 + pages);
    return kernel.perf.eventOf(fd, "test");
  });
}

/** bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, data, size) against `events` (a stub map). */
function perfOutputHelper(events: PerfEvent[], results: number[]): Helper<KernelCpu> {
  return (vm) => {
    const flags = vm.regs[6]! >>> 0;
    const index = flags === BPF_F_CURRENT_CPU ? vm.host.id : flags;
    const event = events[index]!;
    const size = vm.regs[10]! >>> 0;
    const offset = vm.memory.check(vm.regs[8]!, vm.regs[9]!, size, "read");
    const r =
      event.oncpu !== vm.host.id
        ? -Errno.EOPNOTSUPP
        : event.outputSample(vm.memory.u8, offset, size);
    results.push(r);
    vm.regs[0] = r;
    vm.regs[1] = r < 0 ? -1 : 0;
  };
}

/** A kprobe program that sends `size` bytes of its stack (filled with `byte`) to the ring. */
function outputProgram(size: number, byte: number): string {
  const lines: string[] = [`mov %r2, ${byte}`];
  for (let i = 0; i < size; i++) lines.push(`stxb [%r10-${size - i}], %r2`);
  lines.push(
    "lddw %r3, 0xffffffff",
    "mov %r2, 0",
    "mov %r4, %r10",
    `add %r4, -${size}`,
    `mov %r5, ${size}`,
    `call ${BpfFunc.BPF_FUNC_perf_event_output}`,
    "mov %r0, 0",
    "exit",
  );
  return lines.join("\n");
}

function setup() {
  const kernel = new SimKernel({ cpus: 2, seed: 5 });
  const bash = kernel.tasks.list().find((t) => t.comm === "bash")!;
  const open = (path: string): number =>
    kernel.syscall(bash, NR.openat, () => [
      AT_FDCWD,
      bash.process.pushUserString(path),
      O_RDONLY,
      0,
    ]);
  const attach = (line: string, prog: TestProg): void => {
    const id = kernel.createKprobeEvent(line);
    const fd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
    kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, installProg(kernel, prog));
  };
  return { kernel, bash, open, attach };
}

describe("bpf_perf_event_output rings", () => {
  it("deliver samples to the CPU's ring, raw data padded to 8 bytes", () => {
    const { kernel, bash, open, attach } = setup();
    const events = perCpuOutputs(kernel, 2);
    const results: number[] = [];
    const helpers = {
      ...testHelpers(),
      [BpfFunc.BPF_FUNC_perf_event_output]: perfOutputHelper(events, results),
    };
    attach(
      "p:kprobes/out do_sys_openat2",
      new TestProg(kernel, outputProgram(13, 0xab), 2, helpers),
    );
    for (let i = 0; i < 3; i++) open("/etc/passwd");
    expect(results).toEqual([0, 0, 0]);
    const mine = events[bash.cpu]!.ring!.consume();
    expect(events[1 - bash.cpu]!.ring!.consume()).toEqual([]);
    expect(mine).toHaveLength(3);
    for (const r of mine) {
      expect(r.type).toBe("sample");
      if (r.type !== "sample") continue;
      expect(r.raw!.length).toBe(20); // round_up(13 + 4, 8) - 4
      expect([...r.raw!.subarray(0, 13)]).toEqual(new Array(13).fill(0xab));
      expect([...r.raw!.subarray(13)]).toEqual(new Array(7).fill(0));
    }
    expect(events[bash.cpu]!.count).toBe(3);
  });

  it("count samples that do not fit and report them with PERF_RECORD_LOST", () => {
    const { kernel, bash, open, attach } = setup();
    const events = perCpuOutputs(
      kernel,
      1,
      S.PERF_SAMPLE_RAW | S.PERF_SAMPLE_TID | S.PERF_SAMPLE_CPU,
    );
    const results: number[] = [];
    const helpers = {
      ...testHelpers(),
      [BpfFunc.BPF_FUNC_perf_event_output]: perfOutputHelper(events, results),
    };
    attach("p:kprobes/big do_sys_openat2", new TestProg(kernel, outputProgram(500, 7), 2, helpers));
    for (let i = 0; i < 10; i++) open("/etc/hosts");
    // Each record: 8 header + 8 tid + 8 cpu + 4 size + 500 data padded to 504 = 528 bytes.
    const fit = Math.floor(4096 / 528);
    expect(results).toEqual([
      ...new Array(fit).fill(0),
      ...new Array(10 - fit).fill(-Errno.ENOSPC),
    ]);
    const ring = events[bash.cpu]!.ring!;
    const first = ring.consume();
    expect(first).toHaveLength(fit);
    const sample = first[0]!;
    expect(sample.type === "sample" && [sample.pid, sample.tid, sample.cpu]).toEqual([
      bash.tgid,
      bash.pid,
      bash.cpu,
    ]);
    open("/etc/hosts");
    const next = ring.consume();
    expect(next.map((r) => r.type)).toEqual(["lost", "sample"]);
    expect(next[0]!.type === "lost" && next[0]!.lost).toBe(10 - fit);
    expect(events[bash.cpu]!.lostSamples).toBe(10 - fit);
  });

  it("refuse an event of another CPU (EOPNOTSUPP) through oncpu", () => {
    const { kernel } = setup();
    const [e0, e1] = perCpuOutputs(kernel, 1);
    expect(e0!.oncpu).toBe(0);
    expect(e1!.oncpu).toBe(1);
    expect(e0!.isBpfOutput).toBe(true);
  });
});

describe("the maps' BPF_MAP_TYPE_PERF_EVENT_ARRAY", () => {
  it("holds the kernel's perf events by fd and delivers bpf_perf_event_output to them", () => {
    const { kernel, bash, open, attach } = setup();
    const map = createMapOrThrow(kernel, {
      mapType: BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: kernel.cpus.length,
    }) as PerfEventArrayMap;
    // The facade's map_fd_get_ptr / map_fd_put_ptr: perf event fds of the simulated process.
    map.hooks = {
      getPtr: (fd) => {
        const file = kernel.files.get(fd);
        if (file === undefined || file.kind !== FileKind.PERF_EVENT) return -Errno.EBADF;
        return (file.get() as KernelFile<PerfEvent>).privateData;
      },
      putPtr: (event) => (event as PerfEvent).file.put(),
    };
    const fds = kernel.cpus.map((c) =>
      kernel.perfEventOpen(bpfOutput(S.PERF_SAMPLE_RAW), -1, c.id),
    );
    fds.forEach((fd, cpu) => {
      kernel.perfMmap(fd, 2);
      const key = new Uint8Array(new Uint32Array([cpu]).buffer);
      expect(map.sysUpdate(key, new Uint8Array(new Uint32Array([fd]).buffer))).toBe(0);
      kernel.close(fd); // the map holds the event now
    });
    const results: number[] = [];
    const helper: Helper<KernelCpu> = (vm) => {
      const r = map.perfEventOutput(
        vm.host.id,
        vm.regs[6]!,
        vm.regs[7]!,
        vm.regs[8]!,
        vm.regs[9]!,
        vm.regs[10]! >>> 0,
      );
      results.push(r);
      vm.regs[0] = r;
      vm.regs[1] = r < 0 ? -1 : 0;
    };
    const helpers = { ...testHelpers(), [BpfFunc.BPF_FUNC_perf_event_output]: helper };
    attach(
      "p:kprobes/out do_sys_openat2",
      new TestProg(kernel, outputProgram(8, 0x5a), 2, helpers),
    );
    open("/etc/passwd");
    open("/etc/hosts");
    expect(results).toEqual([0, 0]);
    const event = map.get(bash.cpu) as PerfEvent;
    const records = event.ring!.consume();
    expect(records.map((r) => r.type === "sample" && [...r.raw!.subarray(0, 8)])).toEqual([
      new Array(8).fill(0x5a),
      new Array(8).fill(0x5a),
    ]);
    map.clear(); // the last references: the events are released
    expect(event.file.released).toBe(true);
  });
});

describe("kprobe samples in the event's ring", () => {
  it("carry the trace entry, the task, the time and the CPU", () => {
    const { kernel, bash, open } = setup();
    const id = kernel.createKprobeEvent("p:kprobes/opens do_sys_openat2");
    const types =
      S.PERF_SAMPLE_IP |
      S.PERF_SAMPLE_TID |
      S.PERF_SAMPLE_TIME |
      S.PERF_SAMPLE_CPU |
      S.PERF_SAMPLE_RAW;
    const fd = kernel.perfEventOpen(
      { type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id, sampleType: types, disabled: true },
      -1,
      bash.cpu,
    );
    const ring = kernel.perfMmap(fd, 1 + 4);
    open("/etc/passwd"); // disabled: not recorded
    kernel.ioctl(fd, PERF_EVENT_IOC_ENABLE);
    open("/etc/passwd");
    const records = ring.consume();
    expect(records).toHaveLength(1);
    const r = records[0]!;
    if (r.type !== "sample") throw new Error("expected a sample");
    const fn = kernel.fn("do_sys_openat2");
    expect(r.ip).toEqual([fn.lo, -1]);
    expect([r.pid, r.tid, r.cpu]).toEqual([bash.tgid, bash.pid, bash.cpu]);
    expect(r.time).toBeGreaterThan(3600e9);
    const raw = new DataView(r.raw!.buffer, r.raw!.byteOffset);
    expect(raw.getUint16(0, true)).toBe(id); // common_type
    expect(raw.getInt32(4, true)).toBe(bash.pid); // common_pid
    expect(raw.getInt32(8, true)).toBe(fn.lo); // ip
    expect(() => kernel.perfMmap(fd, 4)).toThrow(/EINVAL/);
  });
});

// ---- the machine's kernel as oracle ------------------------------------------------------------

const ORACLE_C = `
#include <linux/perf_event.h>
#include <linux/bpf.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
static long peo(struct perf_event_attr *a, int pid, int cpu, int g, unsigned long f) { return syscall(SYS_perf_event_open, a, pid, cpu, g, f); }
static void show(const char *name, long r) { printf("%s %d\\n", name, r < 0 ? -errno : 0); }
int main(void) {
  struct perf_event_attr a; memset(&a, 0, sizeof a); a.size = sizeof a;
  a.type = PERF_TYPE_SOFTWARE; a.config = PERF_COUNT_SW_BPF_OUTPUT; a.sample_type = PERF_SAMPLE_RAW;
  long fd = peo(&a, -1, 0, -1, 0); show("open_bpf_output", fd);
  show("pid_and_cpu_minus_1", peo(&a, -1, -1, -1, 0));
  show("bad_group_fd", peo(&a, -1, 0, 999, 0));
  show("bad_flags", peo(&a, -1, 0, -1, 0x100));
  show("cpu_out_of_range", peo(&a, -1, 4096, -1, 0));
  show("no_such_pid", peo(&a, 999999, -1, -1, 0));
  struct perf_event_attr s = a; s.size = 8; show("attr_size_too_small", peo(&s, -1, 0, -1, 0));
  struct perf_event_attr t = a; t.type = PERF_TYPE_TRACEPOINT; t.config = 999999; show("unknown_tracepoint_id", peo(&t, -1, 0, -1, 0));
  struct perf_event_attr u = a; u.type = 77; u.config = 0; show("unknown_pmu_type", peo(&u, -1, 0, -1, 0));
  show("set_bpf_bad_prog_fd", ioctl(fd, PERF_EVENT_IOC_SET_BPF, 999));
  show("set_bpf_fd_not_a_prog", ioctl(fd, PERF_EVENT_IOC_SET_BPF, fd));
  struct bpf_insn insns[2] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 }, { .code = BPF_JMP | BPF_EXIT } };
  union bpf_attr p; memset(&p, 0, sizeof p);
  p.prog_type = BPF_PROG_TYPE_SOCKET_FILTER; p.insns = (unsigned long)insns; p.insn_cnt = 2; p.license = (unsigned long)"GPL";
  long prog = syscall(SYS_bpf, BPF_PROG_LOAD, &p, sizeof p);
  if (prog >= 0) show("set_bpf_wrong_prog_type", ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog));
  int pipefd[2]; pipe(pipefd);
  show("ioctl_not_a_perf_event", ioctl(pipefd[0], PERF_EVENT_IOC_SET_BPF, 3));
  show("ioctl_closed_fd", ioctl(999, PERF_EVENT_IOC_ENABLE, 0));
  show("ioctl_unknown_request", ioctl(fd, _IO('$', 0xff), 0));
  return 0;
}
`;

/** The same calls on the simulated kernel: name -> 0 or -errno. */
function simulatedCases(): Map<string, number> {
  const kernel = new SimKernel({ cpus: 2 });
  const out = new Map<string, number>();
  const show = (name: string, fn: () => number): void =>
    void out.set(name, Math.min(0, syscallResult(fn)));
  const a = bpfOutput(S.PERF_SAMPLE_RAW);
  let fd = -1;
  show("open_bpf_output", () => (fd = kernel.perfEventOpen(a, -1, 0, -1, 0)));
  show("pid_and_cpu_minus_1", () => kernel.perfEventOpen(a, -1, -1, -1, 0));
  show("bad_group_fd", () => kernel.perfEventOpen(a, -1, 0, 999, 0));
  show("bad_flags", () => kernel.perfEventOpen(a, -1, 0, -1, 0x100));
  show("cpu_out_of_range", () => kernel.perfEventOpen(a, -1, 4096, -1, 0));
  show("no_such_pid", () => kernel.perfEventOpen(a, 999999, -1, -1, 0));
  show("attr_size_too_small", () => kernel.perfEventOpen({ ...a, size: 8 }, -1, 0, -1, 0));
  show("unknown_tracepoint_id", () =>
    kernel.perfEventOpen(
      { ...a, type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: 999999 },
      -1,
      0,
      -1,
      0,
    ),
  );
  show("unknown_pmu_type", () => kernel.perfEventOpen({ ...a, type: 77, config: 0 }, -1, 0, -1, 0));
  show("set_bpf_bad_prog_fd", () => kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, 999));
  show("set_bpf_fd_not_a_prog", () => kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, fd));
  const prog = installProg(
    kernel,
    new TestProg(kernel, "mov %r0, 0\nexit", BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER),
  );
  show("set_bpf_wrong_prog_type", () => kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog));
  show("ioctl_not_a_perf_event", () => kernel.ioctl(0, PERF_EVENT_IOC_SET_BPF, 3));
  show("ioctl_closed_fd", () => kernel.ioctl(999, PERF_EVENT_IOC_ENABLE, 0));
  show("ioctl_unknown_request", () => kernel.ioctl(fd, 0x24ff, 0));
  return out;
}

describe.skipIf(!hasClang)("perf_event_open and ioctl errors vs the machine's kernel", () => {
  it("give the same errno for the same calls", () => {
    const real = withTmp((dir) => {
      writeFileSync(join(dir, "oracle.c"), ORACLE_C);
      run("clang", ["-O1", "-w", "-o", join(dir, "oracle"), join(dir, "oracle.c")]);
      return run(join(dir, "oracle"), []);
    });
    const realCases = new Map(
      real
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([name, value]) => [name!, Number(value)] as const),
    );
    if (realCases.get("open_bpf_output") !== 0) {
      console.log("test/kernel/perf: this kernel refuses perf_event_open; comparing nothing");
      return;
    }
    const sim = simulatedCases();
    const compared = [...realCases.keys()];
    expect(compared.length).toBeGreaterThanOrEqual(14);
    for (const name of compared) expect([name, sim.get(name)]).toEqual([name, realCases.get(name)]);
    console.log(
      `test/kernel/perf: ${compared.length} perf_event_open/ioctl cases match the machine's kernel`,
    );
  });
});
