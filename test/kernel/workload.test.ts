// Workloads: deterministic byte for byte for a seed (trace text, summaries), independent of what
// programs do (a program drawing random numbers changes nothing else), and their summaries agree
// with what programs attached to the kernel count.
import { describe, expect, it } from "vitest";
import { KernelError } from "../../runtime/kernel/error.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { runWorkload, WORKLOADS, type WorkloadName } from "../../runtime/kernel/workload.js";
import { BpfProgType } from "../../runtime/uapi/bpf.js";
import { PERF_EVENT_IOC_SET_BPF, PerfTypeId } from "../../runtime/uapi/perf_event.js";
import { PtRegs } from "../../runtime/uapi/ptregs.js";
import { RECORD_HELPER, testHelpers } from "./helpers.js";
import { installProg, TestProg } from "./prog.js";

const PROBES = [
  "p:kprobes/open do_sys_openat2",
  "r:kprobes/read ksys_read",
  "p:kprobes/rx netif_receive_skb",
  "p:kprobes/drop kfree_skb_reason",
  "p:kprobes/rq blk_mq_start_request",
  "p:kprobes/alloc __kmalloc",
  "p:kprobes/fork wake_up_new_task",
  "p:kprobes/exit do_exit",
  "p:kprobes/sw finish_task_switch",
];

/** Attach `source` to every probe on every CPU's perf event; returns the kernel. */
function traced(seed: number, source: string, helpers = testHelpers()): SimKernel {
  const kernel = new SimKernel({ cpus: 2, seed });
  for (const line of PROBES) {
    const id = kernel.createKprobeEvent(line);
    for (const cpu of kernel.cpus) {
      const fd = kernel.perfEventOpen(
        { type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id },
        -1,
        cpu.id,
      );
      kernel.ioctl(
        fd,
        PERF_EVENT_IOC_SET_BPF,
        installProg(
          kernel,
          new TestProg(kernel, source, BpfProgType.BPF_PROG_TYPE_KPROBE, helpers),
        ),
      );
    }
  }
  return kernel;
}

describe("workloads are deterministic", () => {
  for (const name of WORKLOADS) {
    it(`${name}: same seed, same trace text and summary, byte for byte`, () => {
      const run = (seed: number) => {
        const kernel = traced(seed, "mov %r0, 1\nexit");
        const summary = runWorkload(kernel, name, { events: 300 });
        return { trace: kernel.trace.readPipe(), summary: JSON.stringify(summary) };
      };
      const a = run(42);
      const b = run(42);
      expect(a.trace.length).toBeGreaterThan(1000);
      expect(b.trace).toBe(a.trace);
      expect(b.summary).toBe(a.summary);
      expect(run(43).trace).not.toBe(a.trace);
    });
  }

  it("do not depend on programs: bpf_get_prandom_u32 has its own per-CPU streams", () => {
    const quiet = traced(7, "mov %r0, 1\nexit");
    const noisy = traced(7, "call 7\ncall 7\ncall 7\nmov %r0, 1\nexit");
    const a = runWorkload(quiet, "mixed", { events: 400 });
    const b = runWorkload(noisy, "mixed", { events: 400 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(noisy.trace.readPipe()).toBe(quiet.trace.readPipe());
    expect(noisy.cpus[0]!.prandom.u32()).not.toBe(quiet.cpus[0]!.prandom.u32());
  });

  it("do not move the clock for instructions executed", () => {
    const short = traced(9, "mov %r0, 0\nexit");
    const long = traced(9, `mov %r0, 0\nmov %r1, 2000\nloop:\nsub %r1, 1\njne %r1, 0, loop\nexit`);
    expect(runWorkload(long, "files", { events: 200 }).endNs).toBe(
      runWorkload(short, "files", { events: 200 }).endNs,
    );
  });

  it("refuse unknown names and bad counts", () => {
    const kernel = new SimKernel();
    expect(() => runWorkload(kernel, "nope" as WorkloadName)).toThrow(KernelError);
    expect(() => runWorkload(kernel, "files", { events: -1 })).toThrow(/bad event count/);
    const empty = runWorkload(kernel, "files", { events: 0 });
    expect(empty.calls).toEqual({});
  });
});

describe("workload summaries agree with the kernel and with programs", () => {
  it("files: a kretprobe summing ksys_read's results sees the bytes read", () => {
    const log: bigint[] = [];
    const kernel = new SimKernel({ cpus: 2, seed: 3 });
    const id = kernel.createKprobeEvent("r:kprobes/rd ksys_read");
    const fd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
    const prog = new TestProg(
      kernel,
      `ldxdw %r1, [%r1+${PtRegs.ax}]\ncall ${RECORD_HELPER}\nmov %r0, 0\nexit`,
      2,
      testHelpers(log),
    );
    kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, installProg(kernel, prog));
    const s = runWorkload(kernel, "files", { events: 800 });
    const files = s.files!;
    expect(log.length).toBe(files.reads);
    expect(Number(log.filter((n) => n > 0n).reduce((a, b) => a + b, 0n))).toBe(files.readBytes);
    expect(files.opens + files.openFailures).toBe(s.syscalls.openat);
    expect(s.calls.do_sys_openat2).toBe(s.syscalls.openat);
    expect(s.calls.vfs_read).toBe(files.reads);
    expect(s.calls.fd_install).toBe(files.opens);
    expect(s.opensByPath["/etc/ld.so.preload"]).toBeGreaterThan(0);
    expect(files.openFailures).toBeGreaterThan(0);
  });

  it("net: every skb is freed once; connects and drops are counted", () => {
    const kernel = new SimKernel({ cpus: 2, seed: 4 });
    const s = runWorkload(kernel, "net", { events: 800 });
    const c = s.calls;
    expect((c.netif_receive_skb ?? 0) + (c.dev_queue_xmit ?? 0)).toBe(
      (c.consume_skb ?? 0) + (c.kfree_skb_reason ?? 0),
    );
    expect(s.net!.connects + s.net!.connectFailures).toBe(s.syscalls.connect);
    expect(c.tcp_v4_connect).toBe(s.syscalls.connect);
    expect(s.net!.connectFailures).toBeGreaterThan(0);
    expect(Object.values(s.net!.connectsByPeer).reduce((a, b) => a + b, 0)).toBe(
      s.syscalls.connect,
    );
    expect(c.tcp_sendmsg).toBe(s.net!.sends);
    expect(s.net!.devicesTotal.lo!.rxPackets).toBeGreaterThan(0);
    expect(s.net!.devicesTotal.eth0!.txPackets).toBeGreaterThan(0);
  });

  it("disk: requests start, complete and are timed", () => {
    const kernel = new SimKernel({ cpus: 2, seed: 5 });
    const s = runWorkload(kernel, "disk", { events: 400 });
    const d = s.disk!;
    const total = Object.values(d.requests).reduce((a, b) => a + b, 0);
    expect(s.calls.blk_mq_start_request).toBe(total + d.inFlight);
    expect(s.calls.blk_mq_end_request).toBe(total);
    expect(Object.values(d.latencyLog2Us).reduce((a, b) => a + b, 0)).toBe(total);
    expect(d.writeRequests).toBeGreaterThan(0);
    expect(d.readRequests).toBeGreaterThan(0);
    expect(s.calls.vfs_fsync).toBe(d.fsyncs);
  });

  it("alloc: allocations, frees and leaks", () => {
    const kernel = new SimKernel({ cpus: 2, seed: 6 });
    const live = kernel.kmalloc.liveObjects;
    const s = runWorkload(kernel, "alloc", { events: 1000 });
    const a = s.alloc!;
    expect(s.calls.__kmalloc).toBe(a.allocations);
    expect(s.calls.kfree).toBe(a.frees);
    expect(a.leaks).toBeGreaterThan(0);
    expect(Object.keys(a.leakedAddresses)).toHaveLength(a.leaks);
    expect(kernel.kmalloc.liveObjects - live).toBe(a.allocations - a.frees);
  });

  it("sched: forks, exits and switches", () => {
    const kernel = new SimKernel({ cpus: 2, seed: 8 });
    const tasks = kernel.tasks.count;
    const s = runWorkload(kernel, "sched", { events: 800 });
    const x = s.sched!;
    expect(s.calls.kernel_clone).toBe(x.forks);
    expect(s.calls.wake_up_new_task).toBe(x.forks);
    expect(s.calls.do_exit).toBe(x.exits);
    expect(Object.values(x.exitCodes).reduce((a, b) => a + b, 0)).toBe(x.exits);
    expect(s.calls.finish_task_switch).toBe(x.switches);
    expect(kernel.tasks.count - tasks).toBe(x.forks - x.exits);
    expect(x.switchesPerCpu.every((n) => n > 0)).toBe(true);
  });
});
