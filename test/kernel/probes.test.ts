// The attach mechanisms of the seeds and of today, on small hand-assembled programs: kprobe
// events by name, perf_event_open / SET_BPF / close, the BPF perf link with its cookie,
// trace_call_bpf's bpf_prog_active (recursion skipped and counted), return 0 vs non-zero,
// read-only pt_regs, kretprobes, reference counts, the kern_version rule and trace_pipe text.
import { describe, expect, it } from "vitest";
import { KernelError, syscallResult } from "../../runtime/kernel/error.js";
import { AT_FDCWD, O_RDONLY } from "../../runtime/kernel/fs.js";
import { KERNEL_TEXT_HI } from "../../runtime/kernel/kallsyms.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { NR } from "../../runtime/kernel/syscalls.js";
import type { Task } from "../../runtime/kernel/tasks.js";
import { BpfProgType, KERNEL_VERSION } from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";
import {
  PERF_EVENT_IOC_DISABLE,
  PERF_EVENT_IOC_ENABLE,
  PERF_EVENT_IOC_SET_BPF,
  PerfSampleFormat,
  PerfTypeId,
} from "../../runtime/uapi/perf_event.js";
import { PtRegs } from "../../runtime/uapi/ptregs.js";
import { KPROBE_PMU_TYPE } from "../../runtime/kernel/perf.js";
import { VmFault } from "../../runtime/vm/fault.js";
import { assemble } from "../../runtime/isa/asm.js";
import { BpfSyscallError } from "../../runtime/bpf/error.js";
import { bpfOf } from "../../runtime/bpf/syscall.js";
import { RECORD_HELPER, testHelpers } from "./helpers.js";
import { installProg, TestProg } from "./prog.js";

const KPROBE = BpfProgType.BPF_PROG_TYPE_KPROBE;
const err = (fn: () => number): number => syscallResult(fn);

/** r1 = ctx->di, record(r1), return 1 */
const RECORD_DI = `
  ldxdw %r1, [%r1+${PtRegs.di}]
  call ${RECORD_HELPER}
  mov %r0, 1
  exit`;
/** record(ctx->ax), return 1 */
const RECORD_AX = `
  ldxdw %r1, [%r1+${PtRegs.ax}]
  call ${RECORD_HELPER}
  mov %r0, 1
  exit`;
const RETURN = (n: number): string => `mov %r0, ${n}\nexit`;

function setup(options: ConstructorParameters<typeof SimKernel>[0] = {}) {
  const kernel = new SimKernel({ cpus: 2, seed: 1, ...options });
  const log: bigint[] = [];
  const prog = (src: string, type: number = KPROBE, name = "test_prog") =>
    new TestProg(kernel, src, type, testHelpers(log), name);
  const task = (comm: string): Task => kernel.tasks.list().find((t) => t.comm === comm)!;
  /** The seeds' way: kprobe_events, perf_event_open(TRACEPOINT, id), ENABLE, SET_BPF. */
  const attach = (line: string, p: TestProg, cpu = 0) => {
    const id = kernel.createKprobeEvent(line);
    const perfFd = kernel.perfEventOpen(
      {
        type: PerfTypeId.PERF_TYPE_TRACEPOINT,
        config: id,
        sampleType: PerfSampleFormat.PERF_SAMPLE_RAW,
        samplePeriod: 1,
        wakeupEvents: 1,
      },
      -1,
      cpu,
      -1,
      0,
    );
    kernel.ioctl(perfFd, PERF_EVENT_IOC_ENABLE, 0);
    const progFd = installProg(kernel, p);
    kernel.ioctl(perfFd, PERF_EVENT_IOC_SET_BPF, progFd);
    return { id, perfFd, progFd };
  };
  const open = (t: Task, path: string): number =>
    kernel.syscall(t, NR.openat, () => [AT_FDCWD, t.process.pushUserString(path), O_RDONLY, 0]);
  return { kernel, log, prog, task, attach, open };
}

describe("kprobe events by name", () => {
  it("are created from kprobe_events lines and get ids", () => {
    const { kernel } = setup();
    const ids = kernel.writeKprobeEvents(
      "p:kprobes/myprobe do_sys_openat2\nr:kprobes/myret vfs_read\np vfs_write\n",
    );
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(kernel.kprobes.read()).toBe(
      "p:kprobes/myprobe do_sys_openat2\nr:kprobes/myret vfs_read\np:kprobes/p_vfs_write_0 vfs_write\n",
    );
    expect(kernel.kprobes.find("myret")!.retprobe).toBe(true);
    expect(kernel.kprobes.get(ids[2]!)!.fullName).toBe("kprobes/p_vfs_write_0");
  });

  it("refuse unknown symbols (ENOENT), duplicates (EEXIST) and bad lines (EINVAL)", () => {
    const { kernel } = setup();
    const errnoOf = (line: string): number => {
      try {
        kernel.writeKprobeEvents(line);
        return 0;
      } catch (e) {
        expect(e).toBeInstanceOf(KernelError);
        return (e as KernelError).errno;
      }
    };
    expect(() => kernel.createKprobeEvent("p:kprobes/x no_such_function")).toThrow(
      /unknown symbol 'no_such_function'.*\(ENOENT\)/,
    );
    expect(errnoOf("p:kprobes/y ret_from_fork")).toBe(Errno.ENOENT); // entry code, not probe-able
    kernel.createKprobeEvent("p:kprobes/dup vfs_read");
    expect(errnoOf("p:kprobes/dup vfs_write")).toBe(Errno.EEXIST);
    expect(errnoOf("x:kprobes/bad vfs_read")).toBe(Errno.EINVAL);
    expect(errnoOf("p:kprobes/args vfs_read %di")).toBe(Errno.EINVAL);
    expect(errnoOf("p:kprobes/off vfs_read+4")).toBe(Errno.EINVAL);
    expect(errnoOf("-:kprobes/nothere")).toBe(Errno.ENOENT);
  });

  it("can be deleted, except while a perf event uses them (EBUSY)", () => {
    const { kernel } = setup();
    const id = kernel.createKprobeEvent("p:kprobes/busy vfs_read");
    const fd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
    expect(() => kernel.writeKprobeEvents("-:kprobes/busy")).toThrow(/EBUSY/);
    kernel.close(fd);
    kernel.writeKprobeEvents("-:busy");
    expect(kernel.kprobes.get(id)).toBeUndefined();
  });
});

describe("perf_event_open, SET_BPF and close", () => {
  it("fail with the kernel's errno", () => {
    const { kernel, prog } = setup();
    const id = kernel.createKprobeEvent("p:kprobes/e vfs_read");
    const tp = (config: number) => ({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config });
    expect(err(() => kernel.perfEventOpen(tp(99999), -1, 0))).toBe(-Errno.EINVAL);
    expect(err(() => kernel.perfEventOpen({ type: 77 }, -1, 0))).toBe(-Errno.ENOENT);
    expect(err(() => kernel.perfEventOpen(tp(id), -1, -1))).toBe(-Errno.EINVAL);
    expect(err(() => kernel.perfEventOpen(tp(id), -1, 2))).toBe(-Errno.EINVAL);
    expect(err(() => kernel.perfEventOpen(tp(id), 999999, -1))).toBe(-Errno.ESRCH);
    expect(err(() => kernel.perfEventOpen(tp(id), -1, 0, 77))).toBe(-Errno.EBADF);
    expect(err(() => kernel.perfEventOpen(tp(id), -1, 0, -1, 0x100))).toBe(-Errno.EINVAL);
    expect(err(() => kernel.perfEventOpen({ ...tp(id), size: 8 }, -1, 0))).toBe(-Errno.E2BIG);

    const fd = kernel.perfEventOpen(tp(id), -1, 0);
    expect(fd).toBe(3); // lowest free fd after stdio
    const progFd = installProg(kernel, prog(RETURN(1), BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER));
    expect(err(() => kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, 99))).toBe(-Errno.EBADF);
    expect(err(() => kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, fd))).toBe(-Errno.EINVAL);
    expect(err(() => kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, progFd))).toBe(-Errno.EINVAL);
    expect(err(() => kernel.ioctl(progFd, PERF_EVENT_IOC_SET_BPF, progFd))).toBe(-Errno.ENOTTY);
    expect(err(() => kernel.ioctl(55, PERF_EVENT_IOC_ENABLE))).toBe(-Errno.EBADF);
    expect(err(() => kernel.ioctl(fd, 0x2400ff))).toBe(-Errno.ENOTTY);
    const good = installProg(kernel, prog(RETURN(1)));
    expect(kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, good)).toBe(0);
    expect(err(() => kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, good))).toBe(-Errno.EEXIST);
    expect(err(() => (kernel.close(42), 0))).toBe(-Errno.EBADF);
  });

  it("run the program with the function's arguments in a read-only pt_regs", () => {
    const { kernel, log, prog, task, attach } = setup();
    attach("p:kprobes/kmalloc __kmalloc", prog(RECORD_DI));
    const bash = task("bash");
    const ptr = kernel.runOn(bash.cpu, bash, () => kernel.callByName("__kmalloc", 200, 0xcc0));
    expect(ptr).not.toBeNull();
    expect(log).toEqual([200n]);
    // A store into the context faults at run time (the verifier rejects it before that).
    const writer = prog("mov %r2, 7\nstxdw [%r1+112], %r2\nmov %r0, 0\nexit");
    attach("p:kprobes/kfree kfree", writer);
    expect(() => kernel.runOn(bash.cpu, bash, () => kernel.callByName("kfree", ptr))).toThrow(
      VmFault,
    );
    expect(() => kernel.runOn(bash.cpu, bash, () => kernel.callByName("kfree", ptr))).toThrow(
      /not writable/,
    );
  });

  it("pt_regs writes are refused by the verifier at BPF_PROG_LOAD, as the kernel refuses them", () => {
    const kernel = new SimKernel({ cpus: 1 });
    const bpf = bpfOf(kernel);
    const load = (text: string) =>
      bpf.progLoad({
        progType: BpfProgType.BPF_PROG_TYPE_KPROBE,
        insns: assemble(text),
        license: "GPL",
        logLevel: 1,
        logBuf: new Uint8Array(4096),
        logSize: 4096,
      });
    // reading an argument register is fine; storing into one, or past the end, is not
    expect(load("ldxdw %r0, [%r1+112]\nexit")).toBeGreaterThan(0);
    for (const [text, message] of [
      [
        "mov %r2, 7\nstxdw [%r1+112], %r2\nmov %r0, 0\nexit",
        "invalid bpf_context access off=112 size=8",
      ],
      ["stdw [%r1+0], 0\nmov %r0, 0\nexit", "invalid bpf_context access off=0 size=8"],
      ["ldxdw %r0, [%r1+168]\nexit", "invalid bpf_context access off=168 size=8"],
    ] as const) {
      let err: unknown;
      try {
        load(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(BpfSyscallError);
      expect((err as BpfSyscallError).errno, text).toBe(Errno.EACCES);
      expect((err as BpfSyscallError).log, text).toContain(`${message}\n`);
    }
  });

  it("place ip, sp (pointing at the return address) and the kernel's cs/ss/flags", () => {
    const { kernel, log, prog, task, attach, open } = setup();
    const regs: bigint[] = [];
    const p = prog(`
      mov %r6, %r1
      ldxdw %r1, [%r6+${PtRegs.ip}]
      call ${RECORD_HELPER}
      ldxdw %r1, [%r6+${PtRegs.sp}]
      call ${RECORD_HELPER}
      ldxdw %r1, [%r6+${PtRegs.cs}]
      call ${RECORD_HELPER}
      ldxdw %r1, [%r6+${PtRegs.orig_ax}]
      call ${RECORD_HELPER}
      mov %r0, 0
      exit`);
    attach("p:kprobes/getname getname", p);
    open(task("bash"), "/etc/passwd");
    regs.push(...log);
    const getname = kernel.kallsyms.lookup("getname")!;
    expect(regs[0]).toBe(BigInt.asIntN(64, (0xffffffffn << 32n) | BigInt(getname.lo >>> 0)));
    const sp = regs[1]!;
    const spLo = Number(sp & 0xffffffffn) | 0;
    const spHi = Number((sp >> 32n) & 0xffffffffn) | 0;
    const retLo = kernel.memory.load32(spLo, spHi); // BPF_KPROBE_READ_RET_IP
    expect(kernel.kallsyms.format(retLo, KERNEL_TEXT_HI)).toMatch(
      /^do_sys_openat2\+0x[0-9a-f]+\/0x1c0$/,
    );
    expect(regs[2]).toBe(0x10n);
    expect(regs[3]).toBe(-1n);
  });

  it("close(event fd) detaches; ENABLE/DISABLE only gate recording", () => {
    const { kernel, log, prog, task, attach, open } = setup();
    const bash = task("bash");
    const { perfFd } = attach("p:kprobes/o do_sys_openat2", prog(RECORD_DI), bash.cpu);
    open(bash, "/etc/hosts");
    expect(log).toHaveLength(1);
    expect(kernel.trace.pending).toBe(1);
    kernel.ioctl(perfFd, PERF_EVENT_IOC_DISABLE);
    open(bash, "/etc/hosts");
    expect(log).toHaveLength(2); // the program still runs (it hangs off the trace event)
    expect(kernel.trace.pending).toBe(1); // but nothing is recorded
    kernel.close(perfFd);
    open(bash, "/etc/hosts");
    expect(log).toHaveLength(2);
    expect(kernel.fn("do_sys_openat2").entryProbes).toHaveLength(0);
  });

  it("a program closed while attached stays loaded until it is detached", () => {
    const { kernel, log, prog, task, attach, open } = setup();
    const p = prog(RECORD_DI);
    const bash = task("bash");
    const { perfFd, progFd } = attach("p:kprobes/o do_sys_openat2", p);
    expect(p.refs).toBe(2); // the fd and the event
    kernel.close(progFd);
    expect(p.refs).toBe(1);
    expect(p.released).toBe(false);
    open(bash, "/etc/passwd");
    expect(log).toHaveLength(1);
    kernel.close(perfFd);
    expect(p.released).toBe(true);
  });

  it("a kretprobe sees the return value in ax", () => {
    const { kernel, log, prog, task, attach, open } = setup();
    attach("r:kprobes/openret do_sys_openat2", prog(RECORD_AX));
    const bash = task("bash");
    const fds = [open(bash, "/etc/passwd"), open(bash, "/no/such/file"), open(bash, "/etc/hosts")];
    expect(fds).toEqual([3, -Errno.ENOENT, 4]);
    expect(log).toEqual(fds.map(BigInt));
    void kernel;
  });
});

describe("trace_call_bpf", () => {
  it("skips a program reached while another runs on the CPU, and counts the miss", () => {
    const { kernel, prog, task, attach, open, log } = setup();
    // A helper of the outer program calls a probed kernel function (as a map update might
    // reach the allocator).
    const helpers = testHelpers(log);
    helpers[2000] = (vm) => {
      vm.host.kernel.callByName("__kmalloc", 64, 0);
      vm.regs[0] = 0;
      vm.regs[1] = 0;
    };
    // After the helper, the outer program still sees its own pt_regs (do_sys_openat2's dfd).
    const outer = new TestProg(
      kernel,
      `mov %r6, %r1\ncall 2000\nldxdw %r1, [%r6+${PtRegs.di}]\ncall ${RECORD_HELPER}\nmov %r0, 0\nexit`,
      KPROBE,
      helpers,
      "outer",
    );
    const inner = prog(RECORD_DI);
    attach("p:kprobes/outer do_sys_openat2", outer);
    attach("p:kprobes/inner __kmalloc", inner);
    const bash = task("bash");
    open(bash, "/etc/passwd");
    open(bash, "/etc/hosts");
    expect(outer.runs).toBe(2);
    expect(inner.runs).toBe(0);
    expect(inner.misses).toBe(2);
    expect(kernel.kprobes.find("inner")!.progs[0]!.missed).toBe(2);
    expect(kernel.fn("__kmalloc").calls).toBe(2); // the function itself ran
    expect(log).toEqual([0xffffff9cn, 0xffffff9cn]); // AT_FDCWD as an int register
    kernel.runOn(bash.cpu, bash, () => kernel.callByName("__kmalloc", 24, 0));
    expect(log.slice(2)).toEqual([24n]); // outside a program it runs
    expect(kernel.cpus.every((c) => c.bpfProgActive === 0)).toBe(true);
  });

  it("records the event for a non-zero result and drops it for 0", () => {
    const { kernel, prog, task, attach, open } = setup();
    const bash = task("bash");
    attach("p:kprobes/keep do_sys_openat2", prog(RETURN(1)), bash.cpu);
    attach("p:kprobes/drop do_filp_open", prog(RETURN(0)), bash.cpu);
    open(bash, "/etc/passwd");
    const lines = kernel.trace.readPipe().split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    const openat2 = kernel.kallsyms.lookup("do_sys_openat2")!;
    expect(lines[0]).toMatch(
      new RegExp(
        `^ {12}bash-${bash.pid} {${8 - String(bash.pid).length}}\\[00${bash.cpu}\\] d\\.\\.1\\. +\\d+\\.\\d{6}: keep: \\(do_sys_openat2\\+0x0/0x${openat2.size.toString(16)}\\)$`,
      ),
    );
    expect(kernel.kprobes.find("keep")!.recorded).toBe(1);
    expect(kernel.kprobes.find("drop")!.recorded).toBe(0);
  });

  it("ANDs the results of several programs on one event (6.1) and refuses a second one on 4.1", () => {
    const modern = setup();
    const bash = modern.task("bash");
    const id = modern.kernel.createKprobeEvent("p:kprobes/two do_sys_openat2");
    for (const ret of [1, 2]) {
      const fd = modern.kernel.perfEventOpen(
        { type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id },
        -1,
        bash.cpu,
      );
      modern.kernel.ioctl(
        fd,
        PERF_EVENT_IOC_SET_BPF,
        installProg(modern.kernel, modern.prog(RETURN(ret))),
      );
    }
    modern.open(bash, "/etc/passwd");
    expect(modern.kernel.trace.pending).toBe(0); // 1 & 2 == 0
    const legacy = setup({ version: "4.1" });
    const id4 = legacy.kernel.createKprobeEvent("p:kprobes/two do_sys_openat2");
    const fds = [0, 1].map(() =>
      legacy.kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id4 }, -1, 0),
    );
    const progFd = installProg(legacy.kernel, legacy.prog(RETURN(1)));
    legacy.kernel.ioctl(fds[0]!, PERF_EVENT_IOC_SET_BPF, progFd);
    expect(err(() => legacy.kernel.ioctl(fds[1]!, PERF_EVENT_IOC_SET_BPF, progFd))).toBe(
      -Errno.EEXIST,
    );
  });
});

describe("BPF perf links and bpf_cookie", () => {
  it("give each attachment its own cookie; closing the link detaches", () => {
    const { kernel, log, prog, task, open } = setup();
    const p = prog("call 174\nmov %r1, %r0\ncall 1000\nmov %r0, 0\nexit");
    const links: number[] = [];
    for (const [sym, cookie] of [
      ["do_sys_openat2", 0x1111],
      ["getname", 0x2222],
      ["putname", 0x3333],
    ] as const) {
      const id = kernel.createKprobeEvent(`p:kprobes/c_${sym} ${sym}`);
      const fd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
      links.push(kernel.files.install(kernel.createPerfLink(fd, p, cookie, 0x7)));
      kernel.close(fd); // the link keeps the perf event alive
    }
    open(task("bash"), "/etc/passwd");
    const c = (lo: number): bigint => (7n << 32n) | BigInt(lo);
    expect(log).toEqual([c(0x1111), c(0x2222), c(0x3333)]);
    expect(p.refs).toBe(1 + 3 * 2); // creator, and per link: the link and the event
    kernel.close(links[1]!);
    open(task("bash"), "/etc/hosts");
    expect(log.slice(3)).toEqual([c(0x1111), c(0x3333)]);
    for (const l of [links[0]!, links[2]!]) kernel.close(l);
    expect(p.refs).toBe(1);
  });

  it("fail as bpf(BPF_LINK_CREATE) does", () => {
    const { kernel, prog } = setup();
    const p = prog(RETURN(0));
    const progFd = installProg(kernel, p);
    expect(() => kernel.createPerfLink(progFd, p)).toThrow(/EBADF/);
    expect(() => kernel.createPerfLink(77, p)).toThrow(/EBADF/);
    const id = kernel.createKprobeEvent("p:kprobes/l vfs_read");
    const fd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
    kernel.files.install(kernel.createPerfLink(fd, p, 1));
    expect(() => kernel.createPerfLink(fd, p, 2)).toThrow(/EEXIST/);
    const tp = prog(RETURN(0), BpfProgType.BPF_PROG_TYPE_TRACEPOINT);
    const fd2 = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
    expect(() => kernel.createPerfLink(fd2, tp)).toThrow(/EINVAL/);
    const old = setup({ version: "4.1" });
    const id4 = old.kernel.createKprobeEvent("p:kprobes/l vfs_read");
    const fd4 = old.kernel.perfEventOpen(
      { type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id4 },
      -1,
      0,
    );
    expect(() => old.kernel.createPerfLink(fd4, old.prog(RETURN(0)))).toThrow(/need 5\.15/);
  });

  it("work through the kprobe PMU (a local event that goes with its perf event)", () => {
    const { kernel, log, prog, task, open } = setup();
    const fd = kernel.perfEventOpen(
      { type: KPROBE_PMU_TYPE, config: 1, kprobeFunc: "do_sys_openat2" },
      -1,
      0,
    );
    const link = kernel.files.install(kernel.createPerfLink(fd, prog(RECORD_AX), 5));
    kernel.close(fd);
    open(task("bash"), "/etc/passwd");
    expect(log).toEqual([3n]);
    expect(kernel.kprobes.read()).toBe(""); // not listed in kprobe_events
    kernel.close(link);
    expect(kernel.kprobes.list()).toHaveLength(0);
    expect(
      err(() => kernel.perfEventOpen({ type: KPROBE_PMU_TYPE, kprobeFunc: "nope" }, -1, 0)),
    ).toBe(-Errno.ENOENT);
    const old = new SimKernel({ version: "4.1" });
    expect(
      err(() => old.perfEventOpen({ type: KPROBE_PMU_TYPE, kprobeFunc: "vfs_read" }, -1, 0)),
    ).toBe(-Errno.ENOENT);
  });
});

describe("the kernel's version", () => {
  it("sets LINUX_VERSION_CODE and the kern_version rule", () => {
    const old = new SimKernel({ version: "4.1" });
    expect(old.LINUX_VERSION_CODE).toBe(KERNEL_VERSION(4, 1, 0));
    expect(old.checkKernVersion).toBe(true);
    expect(old.kernVersionProblem(KPROBE, KERNEL_VERSION(4, 1, 0))).toBeUndefined();
    expect(old.kernVersionProblem(KPROBE, KERNEL_VERSION(6, 1, 0))).toMatch(
      /kern_version 0x60100 \(6\.1\.0\), the kernel's LINUX_VERSION_CODE is 0x40100 \(4\.1\.0\)/,
    );
    expect(old.kernVersionProblem(BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER, 0)).toBeUndefined();
    const modern = new SimKernel();
    expect(modern.LINUX_VERSION_CODE).toBe(KERNEL_VERSION(6, 1, 192));
    expect(modern.kernVersionProblem(KPROBE, 0)).toBeUndefined();
    modern.checkKernVersion = true;
    expect(modern.kernVersionProblem(KPROBE, undefined)).toMatch(/no kern_version/);
    expect(() => new SimKernel({ version: -3 })).toThrow(KernelError);
    expect(() => new SimKernel({ cpus: 0 })).toThrow(KernelError);
  });

  it("formats trace_pipe lines as that kernel does", () => {
    for (const [version, expected] of [
      ["4.1", /^ {12}bash-(\d+) {1,4}\[00\d\] d\.\.2 +\d+\.\d{6}: : hello 7\n$/],
      ["6.1", /^ {12}bash-(\d+) {1,6}\[00\d\] d\.\.21 +\d+\.\d{6}: bpf_trace_printk: hello 7\n$/],
    ] as const) {
      const { kernel, prog, task, attach, open } = setup({ version });
      // "hello %d\n" built on the stack, then bpf_trace_printk(fmt, 10, 7)
      const p = prog(`
        lddw %r1, 0x6425206f6c6c6568
        stxdw [%r10-16], %r1
        mov %r1, 10
        stxh [%r10-8], %r1
        mov %r1, %r10
        add %r1, -16
        mov %r2, 10
        mov %r3, 7
        call 6
        mov %r0, 0
        exit`);
      attach("p:kprobes/hello do_sys_openat2", p);
      open(task("bash"), "/etc/passwd");
      expect(kernel.trace.readPipe()).toMatch(expected);
    }
  });
});

describe("nested kernel functions", () => {
  it("give stack traces like the kernel's, from the probed function out to the entry code", () => {
    const { kernel, task, open } = setup();
    const stacks: string[][] = [];
    // Look from inside getname's body (what a probe on it would see).
    const getname = kernel.fn("getname");
    const body = getname.body;
    (getname as { body: typeof body }).body = (k, args) => {
      stacks.push(k.stackTrace().map(([lo, hi]) => k.kallsyms.format(lo, hi).replace(/\/.*$/, "")));
      return body(k, args);
    };
    open(task("bash"), "/etc/passwd");
    expect(stacks[0]!.map((f) => f.replace(/\+0x[0-9a-f]+$/, ""))).toEqual([
      "getname",
      "do_sys_openat2",
      "do_sys_open",
      "__x64_sys_openat",
      "do_syscall_64",
      "entry_SYSCALL_64_after_hwframe",
    ]);
    expect(stacks[0]![0]).toBe("getname+0x0");
    expect(stacks[0]![5]).toBe("entry_SYSCALL_64_after_hwframe+0x63");
  });

  it("fire their probes in call order, with return addresses in their callers", () => {
    const { kernel, prog, task, attach } = setup();
    const bash = task("bash");
    for (const fn of ["ksys_write", "vfs_write"])
      attach(`p:kprobes/${fn} ${fn}`, prog(RETURN(1)), bash.cpu);
    attach("r:kprobes/vfs_write_ret vfs_write", prog(RETURN(1)), bash.cpu);
    const fd = kernel.syscall(bash, NR.openat, () => [
      AT_FDCWD,
      bash.process.pushUserString("/var/log/syslog"),
      1,
      0,
    ]);
    kernel.syscall(bash, NR.write, () => [
      fd,
      { lo: bash.process.userHeap().lo | 0, hi: bash.process.userHeap().hi },
      100,
    ]);
    const events = kernel.trace.peek().map((e) => `${e.event}: ${e.text}`);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatch(/^ksys_write: \(ksys_write\+0x0\//);
    expect(events[1]).toMatch(/^vfs_write: \(vfs_write\+0x0\//);
    expect(events[2]).toMatch(
      /^vfs_write_ret: \(ksys_write\+0x[0-9a-f]+\/0x[0-9a-f]+ <- vfs_write\)$/,
    );
  });
});
