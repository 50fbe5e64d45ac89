// The bpf() facade: commands, errno results and reference counts.
//
// Errno results are compared with the running kernel (test/bpf/c/kbpf.c issues the same
// bpf() calls) where the machine allows it; the reference counting rules are the kernel's
// documented behaviour (a program stays loaded while an fd or an attachment holds it, a map
// while an fd or a program uses it, prog array slots go with the last user reference) and are
// checked through what the simulated kernel does: programs still running on kprobes, maps still
// readable, objects gone from the id tables.
import { describe, expect, it } from "vitest";
import { BpfSyscallError } from "../../runtime/bpf/error.js";
import { progTag } from "../../runtime/bpf/tag.js";
import {
  BPF_CALL_HELPER,
  BPF_EXIT_INSN,
  BPF_JMP_A,
  BPF_LD_IMM64_RAW,
  BPF_LD_MAP_FD,
  BPF_MOV64_IMM,
  BPF_MOV64_REG,
  BPF_ALU64_IMM,
  BPF_ST_MEM,
} from "../../runtime/isa/build.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BPF_ADD, BPF_DW, BPF_PSEUDO_MAP_VALUE } from "../../runtime/isa/opcodes.js";
import { KernelError } from "../../runtime/kernel/error.js";
import {
  BpfAttachType,
  BpfCmd,
  BpfMapType,
  BpfProgType,
  KERNEL_VERSION,
} from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";
import {
  hex,
  insnsHex,
  kernelUnavailable,
  licenseArg,
  runKernel,
  runningKernelVersion,
  unhex,
} from "./kernel.js";
import {
  F,
  attachKprobe,
  boot,
  countInsns,
  counterMap,
  kprobeEvent,
  loadKprobe,
  readCounter,
} from "./programs.js";

const P = BpfProgType;
const noKernel = kernelUnavailable();
if (noKernel) console.log(`test/bpf: running-kernel comparisons skipped: ${noKernel}`);

const RET0: Insn[] = [BPF_MOV64_IMM(0, 0), BPF_EXIT_INSN()];

/** The errno (positive) a facade call fails with, or 0. */
function errnoOf(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (err) {
    if (err instanceof BpfSyscallError || err instanceof KernelError) return err.errno;
    throw err;
  }
}

function catchSyscall(fn: () => unknown): BpfSyscallError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BpfSyscallError) return err;
    throw err;
  }
  throw new Error("expected a BpfSyscallError");
}

/** A kernel function of our own with one kprobe-able call. */
function defineTarget(kernel: ReturnType<typeof boot>["kernel"], name: string): () => void {
  kernel.defineFunction({ proto: `int ${name}(int a)`, body: () => 0 });
  return () => void kernel.callByName(name, 1);
}

describe("PROG_LOAD checks", () => {
  interface Case {
    what: string;
    type: number;
    insns: Insn[];
    license?: string;
    name?: string;
    logLevel?: number;
    logSize?: number;
    /** the log line the simulated kernel writes */
    line?: string;
  }
  const cases: Case[] = [
    { what: "a valid socket filter", type: P.BPF_PROG_TYPE_SOCKET_FILTER, insns: RET0 },
    {
      what: "a GPL-only helper under a non-GPL license",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      license: "MIT",
      insns: [
        BPF_MOV64_REG(1, 10),
        BPF_ALU64_IMM(BPF_ADD, 1, -8),
        BPF_ST_MEM(BPF_DW, 10, -8, 0),
        BPF_MOV64_IMM(2, 8),
        BPF_CALL_HELPER(F.BPF_FUNC_trace_printk),
        ...RET0,
      ],
      logLevel: 1,
      line: "cannot call GPL-restricted function from non-GPL compatible program",
    },
    {
      what: "a helper the program type may not call",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: [BPF_CALL_HELPER(F.BPF_FUNC_get_stackid), ...RET0],
      logLevel: 1,
      line: "unknown func bpf_get_stackid#27",
    },
    {
      what: "a helper id past the last",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: [BPF_CALL_HELPER(10000), ...RET0],
      logLevel: 1,
      line: "invalid func unknown#10000",
    },
    { what: "a bad prog_name", type: P.BPF_PROG_TYPE_SOCKET_FILTER, insns: RET0, name: "has-dash" },
    {
      what: "a 16-character prog_name",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      name: "sixteen_chars_ab",
    },
    {
      what: "a 15-character prog_name",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      name: "fifteen_chars_a",
    },
    {
      what: "an lddw of an fd that is not open",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: [...BPF_LD_MAP_FD(1, 999), ...RET0],
      logLevel: 1,
      line: "fd 999 is not pointing to valid bpf_map",
    },
    {
      what: "log_size below 128",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      logLevel: 1,
      logSize: 100,
    },
    {
      what: "an unknown log_level bit",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      logLevel: 16,
      logSize: 4096,
    },
    {
      what: "a jump out of the program",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: [BPF_JMP_A(5), ...RET0],
      logLevel: 1,
    },
    {
      what: "a program falling off its end",
      type: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: [BPF_MOV64_IMM(0, 0)],
      logLevel: 1,
    },
    { what: "a kprobe program", type: P.BPF_PROG_TYPE_KPROBE, insns: RET0 },
  ];

  /** The case on a simulated kernel of `version` (default 6.1). */
  const ours = (c: Case, version?: number) => {
    const { bpf } = boot(version === undefined ? {} : { version });
    const logBuf = c.logLevel || c.logSize ? new Uint8Array(c.logSize ?? 4096) : undefined;
    try {
      bpf.progLoad({
        progType: c.type,
        insns: c.insns,
        license: c.license ?? "GPL",
        progName: c.name,
        logLevel: c.logLevel,
        ...(logBuf ? { logBuf, logSize: c.logSize ?? 4096 } : {}),
      });
      return { errno: 0, log: "" };
    } catch (err) {
      if (!(err instanceof BpfSyscallError)) throw err;
      return { errno: err.errno, log: err.log ?? "" };
    }
  };

  it.skipIf(noKernel !== undefined)("give the running kernel's errno", () => {
    const script = cases.map(
      (c) =>
        `load ${c.type} ${licenseArg(c.license ?? "GPL")} ${c.logLevel ?? 0} ${c.logSize ?? (c.logLevel ? 4096 : 0)} ${c.name ?? "-"} ${insnsHex(c.insns)}`,
    );
    const lines = runKernel(script).filter((l) => l.startsWith("load "));
    cases.forEach((c, i) => {
      const kernel = Number(lines[i]!.split(" ")[1]) < 0 ? -Number(lines[i]!.split(" ")[1]) : 0;
      expect(ours(c, runningKernelVersion()).errno, c.what).toBe(kernel);
    });
  });

  it("write the kernel's log line for the reason", () => {
    for (const c of cases.filter((x) => x.line !== undefined)) {
      expect(ours(c).log, c.what).toContain(`${c.line}\n`);
    }
  });

  it("log_size below 128 and log_level 8 are EINVAL before 6.4, accepted after", () => {
    const c = cases.find((x) => x.what === "log_size below 128")!;
    expect(ours(c).errno).toBe(Errno.EINVAL);
    expect(ours(c, KERNEL_VERSION(6, 4, 0)).errno).toBe(0);
    const fixed = { ...cases[0]!, logLevel: 8, logSize: 4096 };
    expect(ours(fixed).errno).toBe(Errno.EINVAL);
    expect(ours(fixed, KERNEL_VERSION(6, 4, 0)).errno).toBe(0);
  });

  it.skipIf(noKernel !== undefined)("log the same reason as the running kernel", () => {
    const withLines = cases.filter(
      (c) => c.line !== undefined && !c.line.startsWith("unknown func"),
    );
    const script = withLines.map(
      (c) => `load ${c.type} ${licenseArg(c.license ?? "GPL")} 1 4096 - ${insnsHex(c.insns)}`,
    );
    const logs = runKernel(script).filter((l) => l.startsWith("log "));
    withLines.forEach((c, i) => {
      const text = new TextDecoder().decode(unhex(logs[i]!.slice(4)));
      expect(text, c.what).toContain(`${c.line}\n`);
    });
  });

  it("insn_cnt: 0 and more than BPF_COMPLEXITY_LIMIT_INSNS are E2BIG, beyond the buffer EFAULT", () => {
    const { bpf } = boot();
    const load = (insns: Insn[] | Uint8Array, insnCnt?: number) =>
      errnoOf(() =>
        bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns, insnCnt, license: "GPL" }),
      );
    expect(load(RET0, 0)).toBe(Errno.E2BIG);
    expect(load(new Uint8Array(8 * 1_000_001), 1_000_001)).toBe(Errno.E2BIG);
    expect(load(RET0, 3)).toBe(Errno.EFAULT);
    expect(load(RET0)).toBe(0);
  });

  it.skipIf(noKernel !== undefined)("insn_cnt 0 is E2BIG in the running kernel too", () => {
    expect(runKernel([`loadcnt 1 0 ${insnsHex(RET0)}`])).toEqual([`loadcnt -${Errno.E2BIG}`]);
  });

  it("4.1 kernels: insn_cnt up to 4095, and kprobes must carry LINUX_VERSION_CODE", () => {
    const { bpf, kernel } = boot({ version: "4.1" });
    const load = (type: number, insns: Insn[] | Uint8Array, kernVersion?: number) =>
      errnoOf(() => bpf.progLoad({ progType: type, insns, license: "GPL", kernVersion }));
    expect(load(P.BPF_PROG_TYPE_SOCKET_FILTER, new Uint8Array(8 * 4096))).toBe(Errno.EINVAL);
    expect(load(P.BPF_PROG_TYPE_KPROBE, RET0)).toBe(Errno.EINVAL);
    expect(load(P.BPF_PROG_TYPE_KPROBE, RET0, kernel.version + 1)).toBe(Errno.EINVAL);
    expect(load(P.BPF_PROG_TYPE_KPROBE, RET0, kernel.version)).toBe(0);
    expect(load(P.BPF_PROG_TYPE_SOCKET_FILTER, RET0)).toBe(0); // the rule is for kprobes only
    const logBuf = new Uint8Array(256);
    const err = catchSyscall(() =>
      bpf.progLoad({
        progType: P.BPF_PROG_TYPE_KPROBE,
        insns: RET0,
        license: "GPL",
        kernVersion: 0x60100,
        logLevel: 1,
        logBuf,
      }),
    );
    expect(err.log).toBe(
      "kprobe program has kern_version 0x60100 (6.1.0), the kernel's LINUX_VERSION_CODE is 0x40100 (4.1.0)\n",
    );
    expect(new TextDecoder().decode(logBuf.subarray(0, logBuf.indexOf(0)))).toBe(err.log);
    // 6.1 ignores kern_version
    expect(
      errnoOf(() =>
        boot().bpf.progLoad({ progType: P.BPF_PROG_TYPE_KPROBE, insns: RET0, license: "GPL" }),
      ),
    ).toBe(0);
  });

  it("a log that fills log_size is ENOSPC: the buffer keeps the start, NUL-terminated", () => {
    const { bpf } = boot();
    const insns = [BPF_CALL_HELPER(F.BPF_FUNC_override_return), ...RET0];
    const load = (size: number, logBuf: Uint8Array) =>
      catchSyscall(() =>
        bpf.progLoad({
          progType: P.BPF_PROG_TYPE_KPROBE,
          insns,
          license: "GPL",
          logLevel: 1,
          logBuf,
          logSize: size,
        }),
      );
    const big = new Uint8Array(4096);
    const full = load(4096, big);
    expect(full.errno).toBe(Errno.EINVAL); // the whole log fits: the verifier's own errno
    expect(full.log).toMatch(
      /^0: R1=ctx\(\) R10=fp0\n0: \(85\) call bpf_override_return#58\nunknown func bpf_override_return#58\n/,
    );
    const small = new Uint8Array(140).fill(0xee);
    const cut = load(128, small);
    expect(cut.errno).toBe(Errno.ENOSPC); // the truncated log wins over the rejection
    expect(cut.log).toBe(full.log!.slice(0, 127));
    expect(small[127]).toBe(0);
    expect(small[128]).toBe(0xee);
    expect(cut.message).toMatch(
      /does not fit in log_size 128; the program was also rejected: .*unknown func bpf_override_return/,
    );
  });

  it("ENOSPC when the log fills the buffer, even for a program that would load", async () => {
    const { writeLog } = await import("../../runtime/bpf/log.js");
    const buf = new Uint8Array(130).fill(0xee);
    const text = "x".repeat(200);
    const r = writeLog({ logLevel: 1, logBuf: buf, logSize: 128 }, text);
    expect(r.full).toBe(true);
    expect(r.kept).toBe("x".repeat(127));
    expect(buf[127]).toBe(0);
    expect(buf[128]).toBe(0xee);
    expect(writeLog({ logLevel: 1, logBuf: buf, logSize: 128 }, "x".repeat(126)).full).toBe(false);
    expect(writeLog({ logLevel: 1, logBuf: buf, logSize: 128 }, "x".repeat(127)).full).toBe(true);
  });

  it.skipIf(noKernel !== undefined)(
    "prog tags zero map fds as the kernel does (SHA-256 on this 6.18 kernel)",
    () => {
      const programs: Insn[][] = [
        RET0,
        [...BPF_LD_MAP_FD(1, 0), ...RET0],
        [...BPF_LD_IMM64_RAW(1, BPF_PSEUDO_MAP_VALUE, 0, 4), ...RET0],
        [...BPF_LD_IMM64_RAW(1, 0, 0x12345678, 0x9abc), ...RET0],
      ];
      const script = ["map 2 4 16 1 0", ...programs.map((p) => `load 1 GPL 0 0 - ${insnsHex(p)}`)];
      const tags = runKernel(script)
        .filter((l) => l.startsWith("load "))
        .map((l) => /tag=([0-9a-f]+)/.exec(l)![1]);
      // our fds differ from the kernel's; the tag must not depend on them
      const withFd = (p: Insn[], fd: number) =>
        p.map((i, k) => (k === 0 && i.src !== 0 ? { ...i, imm: fd } : i));
      expect(programs.map((p) => progTag(withFd(p, 17), "sha256"))).toEqual(tags);
    },
  );
});

describe("maps through bpf()", () => {
  it("lookup/update/delete/get_next_key/freeze with errno results", () => {
    const { bpf } = boot();
    const fd = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
      name: "h",
    });
    const k = (n: number) => Uint8Array.of(n, 0, 0, 0);
    const v = new Uint8Array(4);
    expect(bpf.bpf(BpfCmd.BPF_MAP_LOOKUP_ELEM, { mapFd: fd, key: k(1), value: v })).toBe(
      -Errno.ENOENT,
    );
    expect(bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, { mapFd: fd, key: k(1), value: k(7) })).toBe(0);
    expect(
      bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, { mapFd: fd, key: k(1), value: k(8), flags: 1 }),
    ).toBe(-Errno.EEXIST);
    expect(bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, { mapFd: fd, key: k(2), value: k(8) })).toBe(0);
    expect(bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, { mapFd: fd, key: k(3), value: k(9) })).toBe(
      -Errno.E2BIG,
    );
    expect(bpf.bpf(BpfCmd.BPF_MAP_LOOKUP_ELEM, { mapFd: fd, key: k(1), value: v })).toBe(0);
    expect([...v]).toEqual([7, 0, 0, 0]);
    const next = new Uint8Array(4);
    expect(bpf.bpf(BpfCmd.BPF_MAP_GET_NEXT_KEY, { mapFd: fd, key: null, nextKey: next })).toBe(0);
    expect(bpf.bpf(BpfCmd.BPF_MAP_DELETE_ELEM, { mapFd: fd, key: k(1) })).toBe(0);
    expect(bpf.bpf(BpfCmd.BPF_MAP_FREEZE, { mapFd: fd })).toBe(0);
    expect(bpf.bpf(BpfCmd.BPF_MAP_FREEZE, { mapFd: fd })).toBe(-Errno.EBUSY);
    expect(bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, { mapFd: fd, key: k(1), value: k(7) })).toBe(
      -Errno.EPERM,
    );
    expect(bpf.bpf(BpfCmd.BPF_MAP_LOOKUP_ELEM, { mapFd: 77, key: k(1), value: v })).toBe(
      -Errno.EBADF,
    );
    const prog = bpf.progLoad({
      progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      license: "GPL",
    });
    expect(bpf.bpf(BpfCmd.BPF_MAP_LOOKUP_ELEM, { mapFd: prog, key: k(1), value: v })).toBe(
      -Errno.EINVAL,
    );
    expect(
      bpf.bpf(BpfCmd.BPF_MAP_CREATE, { mapType: 2, keySize: 4, valueSize: 0, maxEntries: 1 }),
    ).toBe(-Errno.EINVAL);
    const e = catchSyscall(() =>
      bpf.mapCreate({ mapType: 2, keySize: 4, valueSize: 0, maxEntries: 1, name: "bad" }),
    );
    expect(e.message).toMatch(/^bpf\(BPF_MAP_CREATE\): map 'bad' \(array\): create: EINVAL/);
  });

  it.skipIf(noKernel !== undefined)(
    "a map value lddw: only into single-element arrays and inside the value",
    () => {
      const load = (mapIndex: number, off: number) => [
        ...BPF_LD_IMM64_RAW(1, BPF_PSEUDO_MAP_VALUE, mapIndex, off),
        ...RET0,
      ];
      const maps = ["map 2 4 16 1 0", "map 2 4 16 2 0", "map 1 4 16 1 0"];
      const progs = [load(0, 8), load(0, 16), load(1, 0), load(2, 0)];
      const kernel = runKernel([...maps, ...progs.map((p) => `load 1 GPL 0 0 - ${insnsHex(p)}`)])
        .filter((l) => l.startsWith("load "))
        .map((l) => Number(l.split(" ")[1]));
      const { bpf } = boot();
      const fds = [
        bpf.mapCreate({ mapType: 2, keySize: 4, valueSize: 16, maxEntries: 1 }),
        bpf.mapCreate({ mapType: 2, keySize: 4, valueSize: 16, maxEntries: 2 }),
        bpf.mapCreate({ mapType: 1, keySize: 4, valueSize: 16, maxEntries: 1 }),
      ];
      const ours = progs.map((p) => {
        const insns = p.map((i, k) => (k === 0 ? { ...i, imm: fds[i.imm]! } : i));
        return -errnoOf(() => bpf.progLoad({ progType: 1, insns, license: "GPL" }));
      });
      expect(ours.map((e) => (e < 0 ? e : 0))).toEqual(kernel.map((e) => (e < 0 ? e : 0)));
    },
  );
});

describe("file descriptors and reference counts", () => {
  it("a program closed while attached stays loaded until the event is closed", () => {
    const { kernel, bpf } = boot();
    const fire = defineTarget(kernel, "tsbpf_target_a");
    const map = counterMap(bpf);
    const prog = loadKprobe(bpf, countInsns(map));
    const id = (bpf.objGetInfoByFd(prog) as { id: number }).id;
    const event = attachKprobe(kernel, "tsbpf_target_a", prog);
    bpf.close(prog);
    expect(bpf.progById(id)).toBeDefined();
    fire();
    fire();
    expect(readCounter(bpf, map)).toBe(2);
    kernel.close(event);
    expect(bpf.progById(id)).toBeUndefined();
    fire();
    expect(readCounter(bpf, map)).toBe(2);
  });

  it("a perf link holds the program; closing the link detaches and unloads", () => {
    const { kernel, bpf } = boot();
    const fire = defineTarget(kernel, "tsbpf_target_b");
    const map = counterMap(bpf);
    const prog = loadKprobe(bpf, countInsns(map));
    const id = bpf.progOf(prog).id;
    const event = kprobeEvent(kernel, "tsbpf_target_b");
    const link = bpf.linkCreate({
      progFd: prog,
      targetFd: event,
      attachType: BpfAttachType.BPF_PERF_EVENT,
      bpfCookie: 5n,
    });
    const info = bpf.objGetInfoByFd(link);
    expect(info).toMatchObject({ kind: "link", progId: id });
    bpf.close(prog);
    kernel.close(event); // the link holds the perf event file too
    fire();
    expect(readCounter(bpf, map)).toBe(1);
    bpf.close(link);
    expect(bpf.progById(id)).toBeUndefined();
    expect(
      errnoOf(() =>
        bpf.linkCreate({ progFd: 99, targetFd: event, attachType: BpfAttachType.BPF_PERF_EVENT }),
      ),
    ).toBe(Errno.EBADF);
  });

  it("link_create refuses other attach types, flags and program types", () => {
    const { kernel, bpf } = boot();
    const prog = loadKprobe(bpf, RET0);
    const sock = bpf.progLoad({
      progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      license: "GPL",
    });
    const event = kprobeEvent(kernel, "vfs_read");
    expect(
      errnoOf(() =>
        bpf.linkCreate({
          progFd: prog,
          targetFd: event,
          attachType: BpfAttachType.BPF_TRACE_FENTRY,
        }),
      ),
    ).toBe(Errno.EINVAL);
    expect(
      errnoOf(() =>
        bpf.linkCreate({
          progFd: prog,
          targetFd: event,
          attachType: BpfAttachType.BPF_PERF_EVENT,
          flags: 1,
        }),
      ),
    ).toBe(Errno.EINVAL);
    expect(
      errnoOf(() =>
        bpf.linkCreate({ progFd: sock, targetFd: event, attachType: BpfAttachType.BPF_PERF_EVENT }),
      ),
    ).toBe(Errno.EINVAL);
    expect(
      errnoOf(() =>
        bpf.linkCreate({ progFd: prog, targetFd: prog, attachType: BpfAttachType.BPF_PERF_EVENT }),
      ),
    ).toBe(Errno.EBADF);
    // a perf link on a 4.1 kernel does not exist
    const old = boot({ version: "4.1" });
    const oldProg = old.bpf.progLoad({
      progType: P.BPF_PROG_TYPE_KPROBE,
      insns: RET0,
      license: "GPL",
      kernVersion: old.kernel.version,
    });
    const oldEvent = kprobeEvent(old.kernel, "vfs_read");
    expect(
      errnoOf(() =>
        old.bpf.linkCreate({
          progFd: oldProg,
          targetFd: oldEvent,
          attachType: BpfAttachType.BPF_PERF_EVENT,
        }),
      ),
    ).toBe(Errno.EINVAL);
  });

  it("a map stays while a program uses it, and goes with the program", () => {
    const { kernel, bpf } = boot();
    const fire = defineTarget(kernel, "tsbpf_target_c");
    const map = counterMap(bpf);
    const mapId = bpf.mapOf(map).id;
    const prog = loadKprobe(bpf, countInsns(map));
    const event = attachKprobe(kernel, "tsbpf_target_c", prog);
    bpf.close(map);
    expect(bpf.mapById(mapId)).toBeDefined();
    fire();
    // a new fd for the map by id still sees the count
    const again = bpf.mapGetFdById(mapId);
    expect(readCounter(bpf, again)).toBe(1);
    bpf.close(again);
    bpf.close(prog);
    kernel.close(event);
    expect(bpf.mapById(mapId)).toBeUndefined();
    expect(bpf.liveMaps).toEqual([]);
    expect(errnoOf(() => bpf.mapGetFdById(mapId))).toBe(Errno.ENOENT);
  });

  it("prog array slots hold programs until the map's last user reference goes", () => {
    const { bpf } = boot();
    const array = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
    });
    // a program that tail-calls through the array it sits in: a reference cycle
    const insns = [
      ...BPF_LD_MAP_FD(2, array),
      BPF_MOV64_IMM(3, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_tail_call),
      ...RET0,
    ];
    const prog = loadKprobe(bpf, insns);
    const progId = bpf.progOf(prog).id;
    const arrayId = bpf.mapOf(array).id;
    const fdValue = new Uint8Array(new Int32Array([prog]).buffer);
    bpf.mapUpdateElem({ mapFd: array, key: new Uint8Array(4), value: fdValue });
    const id = new Uint8Array(4);
    bpf.mapLookupElem({ mapFd: array, key: new Uint8Array(4), value: id });
    expect(new DataView(id.buffer).getUint32(0, true)).toBe(progId);
    bpf.close(prog);
    expect(bpf.progById(progId)).toBeDefined(); // the slot holds it
    const second = bpf.mapGetFdById(arrayId);
    bpf.close(array);
    expect(bpf.progById(progId)).toBeDefined(); // another user reference remains
    bpf.close(second);
    expect(bpf.progById(progId)).toBeUndefined();
    expect(bpf.mapById(arrayId)).toBeUndefined();
  });

  it("a prog array takes one program type", () => {
    const { bpf } = boot();
    const array = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_PROG_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    const kp = loadKprobe(bpf, RET0);
    const sock = bpf.progLoad({
      progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      license: "GPL",
    });
    const slot = (fd: number) => new Uint8Array(new Int32Array([fd]).buffer);
    expect(
      bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, {
        mapFd: array,
        key: new Uint8Array(4),
        value: slot(kp),
      }),
    ).toBe(0);
    expect(
      bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, {
        mapFd: array,
        key: new Uint8Array(4),
        value: slot(sock),
      }),
    ).toBe(-Errno.EINVAL);
    expect(
      bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, {
        mapFd: array,
        key: new Uint8Array(4),
        value: slot(array),
      }),
    ).toBe(-Errno.EINVAL);
    expect(
      bpf.bpf(BpfCmd.BPF_MAP_UPDATE_ELEM, {
        mapFd: array,
        key: new Uint8Array(4),
        value: slot(90),
      }),
    ).toBe(-Errno.EBADF);
    // a socket filter that tail-calls through it cannot load either
    const caller = [
      ...BPF_LD_MAP_FD(2, array),
      BPF_MOV64_IMM(3, 0),
      BPF_CALL_HELPER(F.BPF_FUNC_tail_call),
      ...RET0,
    ];
    expect(
      errnoOf(() =>
        bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns: caller, license: "GPL" }),
      ),
    ).toBe(Errno.EINVAL);
  });

  it("fds are the lowest free, shared with perf events; close of a closed fd is EBADF", () => {
    const { kernel, bpf } = boot();
    const a = counterMap(bpf);
    const event = kprobeEvent(kernel, "vfs_read");
    const b = counterMap(bpf);
    expect([a, event, b]).toEqual([3, 4, 5]);
    bpf.close(a);
    expect(counterMap(bpf)).toBe(3);
    expect(errnoOf(() => bpf.close(42))).toBe(Errno.EBADF);
    expect(bpf.bpf(BpfCmd.BPF_OBJ_GET_INFO_BY_FD, { bpfFd: event })).toBe(-Errno.EINVAL);
    expect(bpf.bpf(BpfCmd.BPF_OBJ_GET_INFO_BY_FD, { bpfFd: 42 })).toBe(-Errno.EBADF);
  });
});

describe("OBJ_GET_INFO_BY_FD", () => {
  it("describes maps and programs", () => {
    const { bpf } = boot();
    const map = bpf.mapCreate({
      mapType: BpfMapType.BPF_MAP_TYPE_LRU_HASH,
      keySize: 4,
      valueSize: 16,
      maxEntries: 64,
      mapFlags: 0,
      name: "lru",
    });
    expect(bpf.objGetInfoByFd(map)).toEqual({
      kind: "map",
      type: 9,
      id: 1,
      keySize: 4,
      valueSize: 16,
      maxEntries: 64,
      mapFlags: 0,
      name: "lru",
    });
    const insns = countInsns(map);
    const prog = loadKprobe(bpf, insns, "counter");
    const info = bpf.objGetInfoByFd(prog);
    expect(info).toMatchObject({
      kind: "prog",
      type: P.BPF_PROG_TYPE_KPROBE,
      id: 1,
      name: "counter",
      mapIds: [1],
      xlatedProgLen: insns.length * 8,
      gplCompatible: true,
      tag: progTag(insns),
    });
    // the dump shows map ids where the program had fds
    if (info.kind === "prog") expect(info.xlatedProgInsns[1]!.imm).toBe(1);
  });
});

describe("PROG_TEST_RUN", () => {
  const skbPrograms: [string, Insn[]][] = [
    ["len", [{ code: 0x61, dst: 0, src: 1, off: 0, imm: 0 }, BPF_EXIT_INSN()]],
    ["pkt_type", [{ code: 0x61, dst: 0, src: 1, off: 4, imm: 0 }, BPF_EXIT_INSN()]],
    ["protocol", [{ code: 0x61, dst: 0, src: 1, off: 16, imm: 0 }, BPF_EXIT_INSN()]],
    ["ifindex", [{ code: 0x61, dst: 0, src: 1, off: 40, imm: 0 }, BPF_EXIT_INSN()]],
    [
      "ld_abs byte 9",
      [BPF_MOV64_REG(6, 1), { code: 0x30, dst: 0, src: 0, off: 0, imm: 9 }, BPF_EXIT_INSN()],
    ],
    [
      "ld_abs word 0",
      [BPF_MOV64_REG(6, 1), { code: 0x20, dst: 0, src: 0, off: 0, imm: 0 }, BPF_EXIT_INSN()],
    ],
    [
      "ld_abs past the end",
      [
        BPF_MOV64_REG(6, 1),
        BPF_MOV64_IMM(0, 5),
        { code: 0x20, dst: 0, src: 0, off: 0, imm: 1000 },
        BPF_EXIT_INSN(),
      ],
    ],
  ];
  const frames: [string, Uint8Array][] = [
    ["ipv4 to host", frame([0, 0, 0, 0, 0, 0], 0x0800, 40)],
    ["arp broadcast", frame([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0x0806, 28)],
    ["multicast", frame([0x01, 0x00, 0x5e, 0, 0, 1], 0x86dd, 48)],
    ["other host", frame([0x02, 0x11, 0x22, 0x33, 0x44, 0x55], 0x0800, 20)],
    ["802.3 length", frame([0, 0, 0, 0, 0, 0], 0x0040, 20)],
  ];

  function frame(dest: number[], proto: number, payload: number): Uint8Array {
    const f = new Uint8Array(14 + payload);
    f.set(dest, 0);
    f.set([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff], 6);
    f[12] = proto >> 8;
    f[13] = proto & 0xff;
    for (let i = 14; i < f.length; i++) f[i] = (i * 7) & 0xff;
    return f;
  }

  it.skipIf(noKernel !== undefined)(
    "socket filters see the __sk_buff and packet the running kernel gives",
    () => {
      const script: string[] = [];
      skbPrograms.forEach(([, insns]) => script.push(`load 1 GPL 0 0 - ${insnsHex(insns)}`));
      skbPrograms.forEach((_, p) => frames.forEach(([, f]) => script.push(`run ${p} ${hex(f)} 1`)));
      const kernel = runKernel(script).filter((l) => l.startsWith("run "));
      const { bpf } = boot();
      const fds = skbPrograms.map(([, insns]) =>
        bpf.progLoad({ progType: P.BPF_PROG_TYPE_SOCKET_FILTER, insns, license: "GPL" }),
      );
      let i = 0;
      for (const [name, _insns] of skbPrograms) {
        for (const [frameName, f] of frames) {
          const out = new Uint8Array(f.length);
          const r = bpf.progTestRun({
            progFd: fds[skbPrograms.findIndex((x) => x[0] === name)]!,
            dataIn: f,
            dataOut: out,
            repeat: 1,
          });
          expect(
            `run 0 retval=${r.retval | 0} size=${r.dataSizeOut} out=${hex(out)}`,
            `${name} on ${frameName}`,
          ).toBe(kernel[i++]);
        }
      }
    },
  );

  it.skipIf(noKernel !== undefined)("data_in and data_out limits are the running kernel's", () => {
    const { bpf } = boot();
    const fd = bpf.progLoad({
      progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: RET0,
      license: "GPL",
    });
    const sizes = [13, 14, 3712, 3713];
    const script = [
      `load 1 GPL 0 0 - ${insnsHex(RET0)}`,
      ...sizes.map((n) => `run 0 ${hex(new Uint8Array(n))} 1`),
      `run 0 ${hex(new Uint8Array(20))} 1 10`,
    ];
    const kernel = runKernel(script)
      .filter((l) => l.startsWith("run "))
      .map((l) => Number(l.split(" ")[1]));
    const ours = [
      ...sizes.map(
        (n) => -errnoOf(() => bpf.progTestRun({ progFd: fd, dataIn: new Uint8Array(n) })),
      ),
      -errnoOf(() =>
        bpf.progTestRun({ progFd: fd, dataIn: new Uint8Array(20), dataOut: new Uint8Array(10) }),
      ),
    ];
    expect(ours).toEqual(kernel.map((e) => (e === 0 ? -0 : e)));
  });

  it("kprobe programs cannot be test-run (ENOTSUPP); raw tracepoints take their arguments", () => {
    const { bpf } = boot();
    const kp = loadKprobe(bpf, RET0);
    expect(errnoOf(() => bpf.progTestRun({ progFd: kp }))).toBe(Errno.ENOTSUPP);
    const raw = bpf.progLoad({
      progType: P.BPF_PROG_TYPE_RAW_TRACEPOINT,
      insns: [{ code: 0x79, dst: 0, src: 1, off: 8, imm: 0 }, BPF_EXIT_INSN()],
      license: "GPL",
    });
    const args = new Uint8Array(16);
    new DataView(args.buffer).setUint32(8, 1234, true);
    expect(bpf.progTestRun({ progFd: raw, ctxIn: args }).retval).toBe(1234);
    expect(errnoOf(() => bpf.progTestRun({ progFd: raw, ctxIn: args, repeat: 2 }))).toBe(
      Errno.EINVAL,
    );
    expect(errnoOf(() => bpf.progTestRun({ progFd: raw, ctxIn: new Uint8Array(13 * 8) }))).toBe(
      Errno.EINVAL,
    );
    expect(errnoOf(() => bpf.progTestRun({ progFd: raw, ctxIn: args, flags: 1, cpu: 5 }))).toBe(
      Errno.ENXIO,
    );
  });

  it.skipIf(noKernel !== undefined)(
    "kprobe test runs are ENOTSUPP in the running kernel too",
    () => {
      const lines = runKernel([
        `load 2 GPL 0 0 - ${insnsHex(RET0)}`,
        `run 0 ${hex(new Uint8Array(20))} 1`,
      ]);
      expect(lines[1]!.split(" ")[1]).toBe(String(-Errno.ENOTSUPP));
    },
  );
});
