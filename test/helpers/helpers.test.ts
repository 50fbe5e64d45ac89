// The helpers' behaviour: memory readers (against the running kernel where a socket filter can
// call them), the tail call limit (against the running kernel), ring buffer and perf event
// output, and the helpers that read the simulated kernel's state while a kprobe fires (task,
// clock, random stream, cookie, function address, stack).
import { describe, expect, it } from "vitest";
import { BpfSyscallError } from "../../runtime/bpf/error.js";
import {
  BPF_ALU64_IMM,
  BPF_ATOMIC_OP,
  BPF_CALL_HELPER,
  BPF_EXIT_INSN,
  BPF_JMP_IMM,
  BPF_LD_IMM64,
  BPF_LD_MAP_FD,
  BPF_LDX_MEM,
  BPF_MOV64_IMM,
  BPF_MOV64_REG,
  BPF_STX_MEM,
  BPF_ST_MEM,
} from "../../runtime/isa/build.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BPF_ADD, BPF_DW, BPF_JNE, BPF_W } from "../../runtime/isa/opcodes.js";
import { KERNEL_TEXT_HI } from "../../runtime/kernel/kallsyms.js";
import { RingbufMap } from "../../runtime/maps/ringbuf.js";
import { StackTraceMap } from "../../runtime/maps/stackmap.js";
import {
  BpfAttachType,
  BpfMapType,
  BpfProgType,
  MAX_TAIL_CALL_CNT,
} from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";
import { PERF_EVENT_IOC_SET_BPF, PerfSwIds, PerfTypeId } from "../../runtime/uapi/perf_event.js";
import { BpfSyscall } from "../../runtime/bpf/syscall.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { hex, insnsHex, kernelUnavailable, runKernel, unhex } from "../bpf/kernel.js";
import {
  F,
  boot,
  countInsns,
  counterMap,
  kprobeEvent,
  loadKprobe,
  readCounter,
} from "../bpf/programs.js";

const noKernel = kernelUnavailable();
const P = BpfProgType;
const RET0: Insn[] = [BPF_MOV64_IMM(0, 0), BPF_EXIT_INSN()];

/** r1 = fp - 16 pre-filled with 0xff.., r2 = size, r3 = address; call; r0 = result, r1 = buf. */
function probeProgram(helper: number, addrLo: number, addrHi: number, size = 8): Insn[] {
  return [
    ...BPF_LD_IMM64(1, -1, -1),
    BPF_STX_MEM(BPF_DW, 10, 1, -16),
    BPF_STX_MEM(BPF_DW, 10, 1, -8),
    BPF_MOV64_REG(1, 10),
    BPF_ALU64_IMM(BPF_ADD, 1, -16),
    BPF_MOV64_IMM(2, size),
    ...BPF_LD_IMM64(3, addrLo, addrHi),
    BPF_CALL_HELPER(helper),
    // r0 = result << 8 | first byte of the buffer (0 when zero-filled)
    BPF_ALU64_IMM(0x60, 0, 8), // lsh
    BPF_LDX_MEM(0x10, 1, 10, -16), // u8
    { code: 0x4f, dst: 0, src: 1, off: 0, imm: 0 }, // r0 |= r1
    BPF_EXIT_INSN(),
  ];
}

describe("probe_read helpers", () => {
  const probes: [string, number, number, number][] = [
    ["probe_read_kernel of NULL", F.BPF_FUNC_probe_read_kernel, 0, 0],
    ["probe_read_kernel of a user address", F.BPF_FUNC_probe_read_kernel, 0x1000, 0x7fff],
    [
      "probe_read_kernel of a non-canonical address",
      F.BPF_FUNC_probe_read_kernel,
      0,
      0x80000000 | 0,
    ],
    ["probe_read_user of NULL", F.BPF_FUNC_probe_read_user, 0, 0],
    ["probe_read_user of a kernel address", F.BPF_FUNC_probe_read_user, 0, 0xffff8880 | 0],
    ["probe_read_kernel_str of NULL", F.BPF_FUNC_probe_read_kernel_str, 0, 0],
    ["probe_read_user_str of NULL", F.BPF_FUNC_probe_read_user_str, 0, 0],
  ];

  const ours = (insns: Insn[]) => {
    const { bpf } = boot();
    const fd = bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: "GPL" });
    return bpf.progTestRun({ progFd: fd, dataIn: new Uint8Array(14) }).retval | 0;
  };

  it.skipIf(noKernel !== undefined)(
    "refuse bad addresses with the running kernel's errno and zero-fill the buffer",
    () => {
      const programs = probes.map(([, helper, lo, hi]) => probeProgram(helper, lo, hi));
      const lines = runKernel([
        ...programs.map((p) => `load 1 GPL 0 0 - ${insnsHex(p)}`),
        ...programs.map((_, i) => `run ${i} ${hex(new Uint8Array(14))} 1`),
      ]).filter((l) => l.startsWith("run "));
      probes.forEach(([what], i) => {
        const kernel = Number(/retval=(-?\d+)/.exec(lines[i]!)![1]);
        expect(ours(programs[i]!), what).toBe(kernel);
        expect(kernel & 0xff, `${what}: zero-filled`).toBe(0);
      });
    },
  );

  it("read mapped kernel memory and strings; -EFAULT with zero fill past a region", () => {
    const { bpf, kernel } = boot();
    const text = new TextEncoder().encode("kernel string\0");
    const region = kernel.memory.alloc(32, { name: "test data", kind: "kernel_object" });
    kernel.memory.u8.set(text, region.base);
    const run = (insns: Insn[]) => {
      const fd = bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: "GPL" });
      return bpf.progTestRun({ progFd: fd, dataIn: new Uint8Array(14) }).retval | 0;
    };
    const hi = region.addressHi;
    expect(run(probeProgram(F.BPF_FUNC_probe_read_kernel, region.addressLo, hi))).toBe(0x6b); // 'k'
    expect(run(probeProgram(F.BPF_FUNC_probe_read_kernel_str, region.addressLo, hi, 16))).toBe(
      (14 << 8) | 0x6b,
    );
    // a string longer than the buffer: size - 1 bytes and a NUL, returns size
    expect(run(probeProgram(F.BPF_FUNC_probe_read_kernel_str, region.addressLo, hi, 5))).toBe(
      (5 << 8) | 0x6b,
    );
    // 8 bytes starting 4 before the end of the region: unmapped past it
    expect(run(probeProgram(F.BPF_FUNC_probe_read_kernel, region.addressLo + 28, hi)) >> 8).toBe(
      -Errno.EFAULT,
    );
    expect(run(probeProgram(F.BPF_FUNC_probe_read_kernel, region.addressLo + 28, hi)) & 0xff).toBe(
      0,
    );
  });

  it("probe_read_user reads the current task's user memory; probe_write_user writes it", () => {
    const { bpf, kernel } = boot();
    kernel.defineFunction({ proto: "int tsbpf_user_target(const char *buf)", body: () => 0 });
    const task = kernel.self;
    task.process.resetScratch();
    const ptr = task.process.pushUserString("from user");
    const out = counterMap(bpf, 1, "out");
    // read 8 bytes of the user string into the stack, then overwrite the user string's start
    const insns: Insn[] = [
      BPF_LDX_MEM(BPF_DW, 6, 1, 112), // r6 = PT_REGS_PARM1 (di)
      BPF_MOV64_REG(1, 10),
      BPF_ALU64_IMM(BPF_ADD, 1, -8),
      BPF_MOV64_IMM(2, 8),
      BPF_MOV64_REG(3, 6),
      BPF_CALL_HELPER(F.BPF_FUNC_probe_read), // below TASK_SIZE the old helper reads user memory
      BPF_MOV64_REG(7, 0),
      BPF_ST_MEM(BPF_W, 10, -16, 0x21212121),
      BPF_MOV64_REG(1, 6),
      BPF_MOV64_REG(2, 10),
      BPF_ALU64_IMM(BPF_ADD, 2, -16),
      BPF_MOV64_IMM(3, 4),
      BPF_CALL_HELPER(F.BPF_FUNC_probe_write_user),
      // results: the read's result and the first 4 bytes read, in a map
      BPF_LDX_MEM(BPF_W, 8, 10, -8),
      BPF_ST_MEM(BPF_W, 10, -20, 0),
      ...BPF_LD_MAP_FD(1, out),
      BPF_MOV64_REG(2, 10),
      BPF_ALU64_IMM(BPF_ADD, 2, -20),
      BPF_CALL_HELPER(F.BPF_FUNC_map_lookup_elem),
      BPF_JMP_IMM(BPF_JNE, 0, 0, 1),
      BPF_EXIT_INSN(),
      BPF_STX_MEM(BPF_W, 0, 7, 0),
      BPF_STX_MEM(BPF_W, 0, 8, 4),
      ...RET0,
    ];
    const prog = loadKprobe(bpf, insns, "writer");
    expect(bpf.dmesg).toEqual([
      `tsbpf[${task.pid}] is installing a program with bpf_probe_write_user helper that may corrupt user memory!`,
    ]);
    const event = kprobeEvent(kernel, "tsbpf_user_target");
    kernel.ioctl(event, PERF_EVENT_IOC_SET_BPF, prog);
    kernel.runOn(task.cpu, task, () => kernel.callByName("tsbpf_user_target", ptr));
    expect(task.process.user!.readString(ptr)).toBe("!!!! user");
    expect(readCounter(bpf, out)).toBe(
      new DataView(new TextEncoder().encode("from").buffer).getUint32(0, true) * 2 ** 32,
    );
  });
});

describe("bpf_tail_call", () => {
  // counts[0]++ then tail-call slot 0 of the prog array (itself)
  const selfCall = (counts: number, jumps: number): Insn[] => [
    BPF_MOV64_REG(6, 1),
    ...countInsns(counts).slice(0, -2),
    BPF_MOV64_REG(1, 6),
    ...BPF_LD_MAP_FD(2, jumps),
    BPF_MOV64_IMM(3, 0),
    BPF_CALL_HELPER(F.BPF_FUNC_tail_call),
    BPF_MOV64_IMM(0, 7),
    BPF_EXIT_INSN(),
  ];

  function ours(): { runs: number; retval: number } {
    const { bpf } = boot();
    const counts = counterMap(bpf, 1);
    const jumps = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
    });
    const prog = bpf.progLoad({
      progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: selfCall(counts, jumps),
      license: "GPL",
    });
    bpf.mapUpdateElem({
      mapFd: jumps,
      key: new Uint8Array(4),
      value: new Uint8Array(new Int32Array([prog]).buffer),
    });
    const { retval } = bpf.progTestRun({ progFd: prog, dataIn: new Uint8Array(14) });
    return { runs: readCounter(bpf, counts), retval };
  }

  it("stops after MAX_TAIL_CALL_CNT (33) tail calls and falls through", () => {
    expect(ours()).toEqual({ runs: MAX_TAIL_CALL_CNT + 1, retval: 7 });
  });

  it.skipIf(noKernel !== undefined)("as the running kernel does", () => {
    const lines = runKernel([
      "map 2 4 8 1 0",
      "map 3 4 4 1 0",
      `load 1 GPL 0 0 - ${insnsHex(selfCall(0, 1))}`,
      "setprog 1 0 0",
      `run 0 ${hex(new Uint8Array(14))} 1`,
      "lookup 0 00000000",
    ]);
    const retval = Number(/retval=(-?\d+)/.exec(lines.find((l) => l.startsWith("run "))!)![1]);
    const count = new DataView(
      unhex(lines.find((l) => l.startsWith("lookup "))!.split(" ")[2]!).buffer,
    ).getUint32(0, true);
    expect(ours()).toEqual({ runs: count, retval });
  });

  it("an empty slot or an index past the array falls through to the next instruction", () => {
    const { bpf } = boot();
    const jumps = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    for (const index of [1, 2, -1]) {
      // bpf_tail_call returns void: r0 must be set again after it (the verifier's rule).
      const insns = [
        ...BPF_LD_MAP_FD(2, jumps),
        BPF_MOV64_IMM(3, index),
        BPF_CALL_HELPER(F.BPF_FUNC_tail_call),
        BPF_MOV64_IMM(0, 99),
        BPF_EXIT_INSN(),
      ];
      const fd = bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: "GPL" });
      expect(bpf.progTestRun({ progFd: fd, dataIn: new Uint8Array(14) }).retval).toBe(99);
    }
  });
});

describe("ring buffer helpers", () => {
  it("output, reserve/submit, reserve/discard and query", () => {
    const { bpf } = boot();
    const ring = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_RINGBUF,
      keySize: 0,
      valueSize: 0,
      maxEntries: 4096,
    });
    const insns: Insn[] = [
      // output 8 bytes 0x11..
      ...BPF_LD_IMM64(1, 0x44332211, 0x88776655),
      BPF_STX_MEM(BPF_DW, 10, 1, -8),
      ...BPF_LD_MAP_FD(1, ring),
      BPF_MOV64_REG(2, 10),
      BPF_ALU64_IMM(BPF_ADD, 2, -8),
      BPF_MOV64_IMM(3, 8),
      BPF_MOV64_IMM(4, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_ringbuf_output),
      // reserve 4, write, submit
      ...BPF_LD_MAP_FD(1, ring),
      BPF_MOV64_IMM(2, 4),
      BPF_MOV64_IMM(3, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_ringbuf_reserve),
      BPF_JMP_IMM(BPF_JNE, 0, 0, 2),
      BPF_MOV64_IMM(0, -1),
      BPF_EXIT_INSN(),
      BPF_ST_MEM(BPF_W, 0, 0, 0x0badf00d),
      BPF_MOV64_REG(1, 0),
      BPF_MOV64_IMM(2, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_ringbuf_submit),
      // reserve 16 and discard
      ...BPF_LD_MAP_FD(1, ring),
      BPF_MOV64_IMM(2, 16),
      BPF_MOV64_IMM(3, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_ringbuf_reserve),
      BPF_JMP_IMM(BPF_JNE, 0, 0, 2),
      BPF_MOV64_IMM(0, -2),
      BPF_EXIT_INSN(),
      BPF_MOV64_REG(1, 0),
      BPF_MOV64_IMM(2, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_ringbuf_discard),
      // r0 = available data
      ...BPF_LD_MAP_FD(1, ring),
      BPF_MOV64_IMM(2, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_ringbuf_query),
      BPF_EXIT_INSN(),
    ];
    const fd = bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: "GPL" });
    // 16 (8 + header) + 16 (4 + header, rounded) + 24 (16 + header)
    expect(bpf.progTestRun({ progFd: fd, dataIn: new Uint8Array(14) }).retval).toBe(56);
    const map = bpf.mapOf(ring).map as RingbufMap;
    const samples: string[] = [];
    map.consume((s) => void samples.push(hex(s)));
    expect(samples).toEqual(["1122334455667788", "0df0ad0b"]);
  });
});

describe("perf_event_output", () => {
  it("writes a sample into the perf event in this CPU's slot", () => {
    const { kernel, bpf } = boot({ cpus: 2 });
    const events = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    const perf = kernel.perfEventOpen(
      {
        type: PerfTypeId.PERF_TYPE_SOFTWARE,
        config: PerfSwIds.PERF_COUNT_SW_BPF_OUTPUT,
        sampleType: 1 << 10,
      },
      -1,
      0,
    );
    const ring = kernel.perfMmap(perf, 2);
    bpf.mapUpdateElem({
      mapFd: events,
      key: new Uint8Array(4),
      value: new Uint8Array(new Int32Array([perf]).buffer),
    });
    const insns: Insn[] = [
      ...BPF_LD_IMM64(2, 0x01020304, 0x05060708),
      BPF_STX_MEM(BPF_DW, 10, 2, -8),
      ...BPF_LD_MAP_FD(2, events),
      ...BPF_LD_IMM64(3, -1, 0), // BPF_F_CURRENT_CPU
      BPF_MOV64_REG(4, 10),
      BPF_ALU64_IMM(BPF_ADD, 4, -8),
      BPF_MOV64_IMM(5, 8),
      BPF_CALL_HELPER(F.BPF_FUNC_perf_event_output),
      BPF_EXIT_INSN(),
    ];
    const prog = loadKprobe(bpf, insns, "out");
    kernel.defineFunction({ proto: "int tsbpf_perf_target(int a)", body: () => 0 });
    const event = kprobeEvent(kernel, "tsbpf_perf_target");
    kernel.ioctl(event, PERF_EVENT_IOC_SET_BPF, prog);
    kernel.runOn(0, undefined, () => kernel.callByName("tsbpf_perf_target", 1));
    kernel.runOn(1, undefined, () => kernel.callByName("tsbpf_perf_target", 1)); // slot 1 is empty: -ENOENT
    const records = ring.consume();
    expect(records.length).toBe(1);
    const sample = records[0]!;
    expect(sample.type).toBe("sample");
    expect("raw" in sample && hex(sample.raw!.subarray(0, 8))).toBe("0403020108070605");
  });
});

describe("helpers on a kprobe", () => {
  /** A program storing r0 of `helper` (called with no arguments) in results[slot]. */
  function storeResult(results: number, slot: number, helper: number): Insn[] {
    return [
      BPF_CALL_HELPER(helper),
      BPF_MOV64_REG(7, 0),
      BPF_ST_MEM(BPF_W, 10, -4, slot),
      ...BPF_LD_MAP_FD(1, results),
      BPF_MOV64_REG(2, 10),
      BPF_ALU64_IMM(BPF_ADD, 2, -4),
      BPF_CALL_HELPER(F.BPF_FUNC_map_lookup_elem),
      BPF_JMP_IMM(BPF_JNE, 0, 0, 1),
      BPF_EXIT_INSN(),
      BPF_STX_MEM(BPF_DW, 0, 7, 0),
    ];
  }

  const helpers = [
    F.BPF_FUNC_get_current_pid_tgid,
    F.BPF_FUNC_get_current_uid_gid,
    F.BPF_FUNC_ktime_get_ns,
    F.BPF_FUNC_get_smp_processor_id,
    F.BPF_FUNC_get_current_task,
    F.BPF_FUNC_get_attach_cookie,
    F.BPF_FUNC_get_prandom_u32,
    F.BPF_FUNC_ktime_get_boot_ns,
  ];

  function program(results: number): Insn[] {
    // helpers that take ctx need it in r1: keep it in r6
    const insns: Insn[] = [BPF_MOV64_REG(6, 1)];
    helpers.forEach((h, i) => insns.push(BPF_MOV64_REG(1, 6), ...storeResult(results, i, h)));
    insns.push(
      BPF_MOV64_REG(1, 6),
      ...storeResult(results, helpers.length, F.BPF_FUNC_get_func_ip),
    );
    return [...insns, ...RET0];
  }

  const read64 = (bpf: ReturnType<typeof boot>["bpf"], map: number, i: number): bigint => {
    const value = new Uint8Array(8);
    bpf.mapLookupElem({ mapFd: map, key: Uint8Array.of(i, 0, 0, 0), value });
    return new DataView(value.buffer).getBigUint64(0, true);
  };

  function fire(engine: "interp" | "jit", retprobe = false) {
    const kernel = new SimKernel({ cpus: 2, seed: 11 });
    const bpf = new BpfSyscall(kernel, { engine });
    const results = counterMap(bpf, 16, "results");
    const prog = loadKprobe(bpf, program(results), "state");
    kernel.defineFunction({ proto: "int tsbpf_state_target(int a)", body: () => 0 });
    kernel.defineFunction({
      proto: "int tsbpf_state_caller(int a)",
      body: (k) => k.callByName("tsbpf_state_target", 2),
    });
    const event = kprobeEvent(kernel, "tsbpf_state_target", retprobe);
    bpf.linkCreate({
      progFd: prog,
      targetFd: event,
      attachType: BpfAttachType.BPF_PERF_EVENT,
      bpfCookie: 0x1234567890abn,
    });
    const task = kernel.tasks.list().find((t) => t.comm === "nginx" && t.uid === 33)!;
    kernel.clock.advance(5000);
    const ns = kernel.clock.ns;
    kernel.runOn(1, task, () => kernel.callByName("tsbpf_state_caller", 1));
    return {
      kernel,
      bpf,
      task,
      ns,
      values: [...helpers.keys(), helpers.length].map((i) => read64(bpf, results, i)),
    };
  }

  it("read the task, CPU, clock and cookie of the event", () => {
    const { kernel, task, ns, values } = fire("interp");
    const [pidTgid, uidGid, ktime, cpu, current, cookie, , boot_] = values;
    expect(pidTgid).toBe((BigInt(task.tgid) << 32n) | BigInt(task.pid));
    expect(uidGid).toBe((BigInt(task.gid) << 32n) | BigInt(task.uid));
    expect(Number(ktime)).toBeGreaterThan(ns);
    expect(Number(ktime)).toBeLessThanOrEqual(kernel.clock.ns);
    expect(cpu).toBe(1n);
    expect(current).toBe((BigInt(task.address.hi >>> 0) << 32n) | BigInt(task.address.lo >>> 0));
    expect(cookie).toBe(0x1234567890abn);
    expect(boot_).toBe(ktime);
    // bpf_get_func_ip: the probed function's address
    const fn = kernel.fn("tsbpf_state_target");
    expect(values[helpers.length]).toBe(
      (BigInt(KERNEL_TEXT_HI >>> 0) << 32n) | BigInt(fn.lo >>> 0),
    );
  });

  it("get_func_ip is 0 in a kretprobe (6.1)", () => {
    const { values } = fire("interp", true);
    expect(values[helpers.length]).toBe(0n);
  });

  it("bpf_get_prandom_u32 is the CPU's seeded stream: same seed, same numbers, any engine", () => {
    const a = fire("interp").values[6];
    expect(fire("interp").values).toEqual(fire("jit").values);
    const { kernel } = boot({ cpus: 2, seed: 11 });
    expect(a).toBe(BigInt(kernel.cpus[1]!.prandom.u32()));
  });

  it("bpf_get_stackid stores the probed function and its callers' return addresses", () => {
    const { kernel, bpf } = boot();
    const stacks = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_STACK_TRACE,
      keySize: 4,
      valueSize: 8 * 8,
      maxEntries: 8,
    });
    const ids = counterMap(bpf, 1, "ids");
    const insns: Insn[] = [
      ...BPF_LD_MAP_FD(2, stacks),
      BPF_MOV64_IMM(3, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_get_stackid),
      BPF_MOV64_REG(7, 0),
      BPF_ST_MEM(BPF_W, 10, -4, 0),
      ...BPF_LD_MAP_FD(1, ids),
      BPF_MOV64_REG(2, 10),
      BPF_ALU64_IMM(BPF_ADD, 2, -4),
      BPF_CALL_HELPER(F.BPF_FUNC_map_lookup_elem),
      BPF_JMP_IMM(BPF_JNE, 0, 0, 1),
      BPF_EXIT_INSN(),
      BPF_STX_MEM(BPF_DW, 0, 7, 0),
      ...RET0,
    ];
    const prog = loadKprobe(bpf, insns, "stacks");
    kernel.defineFunction({ proto: "int tsbpf_leaf(int a)", body: () => 0 });
    kernel.defineFunction({
      proto: "int tsbpf_middle(int a)",
      body: (k) => k.callByName("tsbpf_leaf", 1),
    });
    kernel.defineFunction({
      proto: "int tsbpf_top(int a)",
      body: (k) => k.callByName("tsbpf_middle", 1),
    });
    const event = kprobeEvent(kernel, "tsbpf_leaf");
    kernel.ioctl(event, PERF_EVENT_IOC_SET_BPF, prog);
    kernel.callByName("tsbpf_top", 0);
    const id = readCounter(bpf, ids);
    const stack = (bpf.mapOf(stacks).map as StackTraceMap).stack(id)!;
    const names = [];
    for (let i = 0; i < stack.length; i += 2)
      names.push(kernel.kallsyms.format(stack[i]!, stack[i + 1]!));
    expect(names[0]).toMatch(/^tsbpf_leaf\+0x0\//);
    expect(names[1]).toMatch(/^tsbpf_middle\+0x[0-9a-f]+\//);
    expect(names[2]).toMatch(/^tsbpf_top\+0x[0-9a-f]+\//);
    // BPF_F_USER_STACK: no user call chain is simulated
    const user = bpf.progLoad({
      progType: P.BPF_PROG_TYPE_KPROBE,
      insns: [
        ...BPF_LD_MAP_FD(2, stacks),
        BPF_MOV64_IMM(3, 1 << 8),
        BPF_CALL_HELPER(F.BPF_FUNC_get_stackid),
        BPF_EXIT_INSN(),
      ],
      license: "GPL",
    });
    expect(user).toBeGreaterThan(0);
  });

  it("bpf_get_current_comm copies task->comm, NUL-padded or cut to the buffer", () => {
    const { kernel, bpf } = boot();
    const comms = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 16,
      maxEntries: 2,
    });
    const commInto = (key: number, size: number): Insn[] => [
      BPF_ST_MEM(BPF_W, 10, -4, key),
      ...BPF_LD_MAP_FD(1, comms),
      BPF_MOV64_REG(2, 10),
      BPF_ALU64_IMM(BPF_ADD, 2, -4),
      BPF_CALL_HELPER(F.BPF_FUNC_map_lookup_elem),
      BPF_JMP_IMM(BPF_JNE, 0, 0, 1),
      BPF_EXIT_INSN(),
      BPF_MOV64_REG(1, 0),
      BPF_MOV64_IMM(2, size),
      BPF_CALL_HELPER(F.BPF_FUNC_get_current_comm),
    ];
    const prog = loadKprobe(bpf, [...commInto(0, 16), ...commInto(1, 4), ...RET0], "comm");
    kernel.defineFunction({ proto: "int tsbpf_comm_target(int a)", body: () => 0 });
    kernel.ioctl(kprobeEvent(kernel, "tsbpf_comm_target"), PERF_EVENT_IOC_SET_BPF, prog);
    const task = kernel.tasks.list().find((t) => t.comm === "systemd-journal")!;
    // fill the values first: the helper must clear what follows the name
    bpf.mapUpdateElem({
      mapFd: comms,
      key: new Uint8Array(4),
      value: new Uint8Array(16).fill(0x41),
    });
    bpf.mapUpdateElem({
      mapFd: comms,
      key: Uint8Array.of(1, 0, 0, 0),
      value: new Uint8Array(16).fill(0x41),
    });
    kernel.runOn(0, task, () => kernel.callByName("tsbpf_comm_target", 0));
    const value = (key: number) => {
      const v = new Uint8Array(16);
      bpf.mapLookupElem({ mapFd: comms, key: Uint8Array.of(key, 0, 0, 0), value: v });
      return Buffer.from(v).toString("latin1");
    };
    expect(value(0)).toBe("systemd-journal\0");
    expect(value(1)).toBe("sys\0" + "A".repeat(12));
  });

  it("bpf_send_signal queues a signal for the current task, not for kernel threads", () => {
    const { kernel, bpf } = boot();
    const insns = [BPF_MOV64_IMM(1, 10), BPF_CALL_HELPER(F.BPF_FUNC_send_signal), BPF_EXIT_INSN()];
    const prog = loadKprobe(bpf, insns, "sig");
    const results = counterMap(bpf, 2, "res");
    void results;
    kernel.defineFunction({ proto: "int tsbpf_sig_target(int a)", body: () => 0 });
    const event = kprobeEvent(kernel, "tsbpf_sig_target");
    kernel.ioctl(event, PERF_EVENT_IOC_SET_BPF, prog);
    const nginx = kernel.tasks.list().find((t) => t.comm === "nginx")!;
    kernel.runOn(0, nginx, () => kernel.callByName("tsbpf_sig_target", 0));
    const kthread = kernel.tasks.list().find((t) => t.comm === "kthreadd")!;
    kernel.runOn(0, kthread, () => kernel.callByName("tsbpf_sig_target", 0));
    expect(bpf.signals.map((s) => [s.pid, s.sig, s.thread])).toEqual([[nginx.pid, 10, false]]);
  });

  it("an unimplemented or refused helper is a clear load error, never a stub", () => {
    const { bpf } = boot();
    // arguments the verifier accepts for both helpers: ctx, a stack buffer, its size, 0
    const load = (id: number) => {
      try {
        loadKprobe(bpf, [
          BPF_ST_MEM(BPF_DW, 10, -8, 0),
          BPF_MOV64_REG(2, 10),
          BPF_ALU64_IMM(BPF_ADD, 2, -8),
          BPF_MOV64_IMM(3, 8),
          BPF_MOV64_IMM(4, 0),
          BPF_CALL_HELPER(id),
          ...RET0,
        ]);
        return "";
      } catch (err) {
        return (err as BpfSyscallError).reason;
      }
    };
    expect(load(F.BPF_FUNC_get_stack)).toBe(
      "insn 5: bpf_get_stack#67 is not implemented by tsbpf's simulated kernel",
    );
    expect(load(F.BPF_FUNC_override_return)).toMatch(
      /^program 'prog': insn 5: unknown func bpf_override_return#58 /,
    );
  });
});

describe("engines", () => {
  it("the JIT and the interpreter give the same helper results", () => {
    const run = (engine: "interp" | "jit") => {
      const kernel = new SimKernel({ cpus: 1, seed: 3 });
      const bpf = new BpfSyscall(kernel, { engine });
      const map = counterMap(bpf, 4);
      const insns: Insn[] = [
        BPF_CALL_HELPER(F.BPF_FUNC_get_prandom_u32),
        BPF_MOV64_REG(6, 0),
        BPF_ST_MEM(BPF_W, 10, -4, 1),
        ...BPF_LD_MAP_FD(1, map),
        BPF_MOV64_REG(2, 10),
        BPF_ALU64_IMM(BPF_ADD, 2, -4),
        BPF_CALL_HELPER(F.BPF_FUNC_map_lookup_elem),
        BPF_JMP_IMM(BPF_JNE, 0, 0, 1),
        BPF_EXIT_INSN(),
        BPF_ATOMIC_OP(BPF_DW, BPF_ADD, 0, 6, 0),
        ...RET0,
      ];
      const prog = bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: "GPL" });
      for (let i = 0; i < 5; i++) bpf.progTestRun({ progFd: prog, dataIn: new Uint8Array(14) });
      return readCounter(bpf, map, 1);
    };
    expect(run("jit")).toBe(run("interp"));
  });
});
