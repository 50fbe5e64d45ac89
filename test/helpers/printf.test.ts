// bpf_snprintf and bpf_trace_printk format rules against the running kernel: the same socket
// filter runs with BPF_PROG_TEST_RUN in the machine's kernel (test/bpf/c/kbpf.c) and in the
// simulated kernel; the helper's return value and the bytes bpf_snprintf wrote must agree.
// Conversions whose output is the kernel's own secret (%p and %pK print a keyed hash) are
// compared by length only. trace_printk's text goes to trace_pipe: its return value (the
// message length, or -EINVAL) is compared, and the trace line is checked in the simulation.
import { describe, expect, it } from "vitest";
import {
  BPF_ALU64_IMM,
  BPF_CALL_HELPER,
  BPF_EXIT_INSN,
  BPF_JMP_IMM,
  BPF_LD_IMM64,
  BPF_LD_IMM64_RAW,
  BPF_LD_MAP_FD,
  BPF_MOV64_IMM,
  BPF_MOV64_REG,
  BPF_STX_MEM,
  BPF_ST_MEM,
} from "../../runtime/isa/build.js";
import type { Insn } from "../../runtime/isa/insn.js";
import {
  BPF_ADD,
  BPF_B,
  BPF_DW,
  BPF_JNE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_W,
} from "../../runtime/isa/opcodes.js";
import { BPF_F_RDONLY_PROG, BpfProgType } from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";
import { hex, insnsHex, kernelUnavailable, runKernel, unhex } from "../bpf/kernel.js";
import { F, boot } from "../bpf/programs.js";

const noKernel = kernelUnavailable();
if (noKernel) console.log(`test/helpers: running-kernel comparisons skipped: ${noKernel}`);

type Arg = bigint | { str: string } | { bytes: number[] };

const OUT_SIZE = 256;
const ARGS_AT = -112; // up to 14 u64 arguments below the frame pointer
const KEY_AT = -120;
const BLOBS_AT = -512; // strings and addresses the arguments point to

/** Stack stores of `bytes` at fp + at. */
function storeBytes(bytes: Uint8Array, at: number): Insn[] {
  return [...bytes].map((b, i) => BPF_ST_MEM(BPF_B, 10, at + i, b));
}

/** r1 = arg, stored at args[i]; blobs laid out from BLOBS_AT. */
function argStores(args: Arg[]): Insn[] {
  const insns: Insn[] = [];
  let blob = BLOBS_AT;
  args.forEach((arg, i) => {
    if (typeof arg === "bigint") {
      const v = BigInt.asUintN(64, arg);
      insns.push(...BPF_LD_IMM64(1, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0));
    } else {
      const bytes =
        "str" in arg ? new TextEncoder().encode(arg.str + "\0") : Uint8Array.from(arg.bytes);
      insns.push(...storeBytes(bytes, blob), BPF_MOV64_REG(1, 10), BPF_ALU64_IMM(BPF_ADD, 1, blob));
      blob += Math.ceil(bytes.length / 8) * 8;
    }
    insns.push(BPF_STX_MEM(BPF_DW, 10, 1, ARGS_AT + 8 * i));
  });
  return insns;
}

/** r0 = bpf_snprintf(out map value, 256, fmt map value, args, nargs * 8). Maps by index 0, 1. */
function snprintfProgram(args: Arg[], dataLen = args.length * 8): Insn[] {
  return [
    BPF_ST_MEM(BPF_W, 10, KEY_AT, 0),
    ...BPF_LD_MAP_FD(1, 1),
    BPF_MOV64_REG(2, 10),
    BPF_ALU64_IMM(BPF_ADD, 2, KEY_AT),
    BPF_CALL_HELPER(F.BPF_FUNC_map_lookup_elem),
    BPF_JMP_IMM(BPF_JNE, 0, 0, 2),
    BPF_MOV64_IMM(0, -1),
    BPF_EXIT_INSN(),
    BPF_MOV64_REG(7, 0),
    ...argStores(args),
    BPF_MOV64_REG(1, 7),
    BPF_MOV64_IMM(2, OUT_SIZE),
    ...BPF_LD_IMM64_RAW(3, BPF_PSEUDO_MAP_VALUE, 0, 0),
    ...(dataLen === 0
      ? [BPF_MOV64_IMM(4, 0)]
      : [BPF_MOV64_REG(4, 10), BPF_ALU64_IMM(BPF_ADD, 4, ARGS_AT)]),
    BPF_MOV64_IMM(5, dataLen),
    BPF_CALL_HELPER(F.BPF_FUNC_snprintf),
    BPF_EXIT_INSN(),
  ];
}

interface Case {
  fmt: string;
  args: Arg[];
  /** compare the return value only (keyed hashes) */
  lengthOnly?: boolean;
  dataLen?: number;
}

const cases: Case[] = [
  { fmt: "hello %d", args: [-5n] },
  { fmt: "%d %i %u %x %X", args: [-2n, 2147483648n, -1n, 0xdeadbeefn, 0xabcdefn] },
  {
    fmt: "%ld %lu %lld %llu %llx %lX",
    args: [-2n, -1n, -(2n ** 63n), 2n ** 64n - 1n, 0x123456789abcdefn, 0xfeedfacecafen],
  },
  { fmt: "[%5d|%-5d|%05d|%+d|% d|%+05d]", args: [42n, 42n, -42n, 7n, 7n, -3n] },
  { fmt: "[%8x|%-8X|%08lx]", args: [255n, 255n, 0xfffffffffn] },
  { fmt: "%s!", args: [{ str: "abc" }] },
  { fmt: "[%10s|%-10s|%2s]", args: [{ str: "right" }, { str: "left" }, { str: "longer" }] },
  { fmt: "%c%c%c [%3c|%-3c]", args: [0x61n, 0x62n, 0x163n, 0x78n, 0x79n] },
  { fmt: "100%% %d%%", args: [5n] },
  { fmt: "%pI4 %pi4", args: [{ bytes: [192, 168, 1, 10] }, { bytes: [10, 0, 0, 1] }] },
  {
    fmt: "%pI6 / %pi6",
    args: [
      { bytes: [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] },
      { bytes: [0xfe, 0x80, ...new Array(13).fill(0), 5] },
    ],
  },
  { fmt: "[%pks] [%pus] [%18pks]", args: [{ str: "kernel" }, { str: "user?" }, { str: "wide" }] },
  {
    fmt: "[%18pI4] [%-20pi6]",
    args: [{ bytes: [1, 2, 3, 4] }, { bytes: new Array(16).fill(0xab) }],
  },
  { fmt: "[%20px] [%-20px] [%020px]", args: [0x1234n, 0x1234n, 0x1234n] },
  { fmt: "[%20p] [%-20pK]", args: [0x1234n, 0x1234n], lengthOnly: true },
  { fmt: "%px|%px", args: [0xffff888012345678n, 0n] },
  { fmt: "%p %pK", args: [0xffff888012345678n, 0xffff888012345678n], lengthOnly: true },
  { fmt: "no conversions at all", args: [] },
  { fmt: "%s.%s;%s", args: [{ str: "" }, { str: "x" }, { str: "yz" }] },
  // refused formats
  { fmt: "%q", args: [1n] },
  { fmt: "%.3d", args: [1n] },
  { fmt: "%#x", args: [1n] },
  { fmt: "%hd", args: [1n] },
  { fmt: "%n", args: [1n] },
  { fmt: "%llld", args: [1n] },
  { fmt: "%sx", args: [{ str: "a" }] },
  { fmt: "%pZ", args: [1n] },
  { fmt: "%pI5", args: [{ bytes: [1, 2, 3, 4, 5] }] },
  { fmt: "%d %d", args: [1n] },
  { fmt: "tab\there", args: [] },
  { fmt: "bell\x07", args: [] },
  { fmt: "%d", args: [1n], dataLen: 12 },
  { fmt: "%d".repeat(12), args: new Array(12).fill(-1n) },
];

/** The fmt map's value: the string, its NUL, padded to 8 bytes. */
function fmtValue(fmt: string): Uint8Array {
  const bytes = new TextEncoder().encode(fmt + "\0");
  const value = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
  value.set(bytes);
  return value;
}

/** Run one case in the simulated kernel: [retval, out bytes up to the NUL]. */
function ours(c: Case): [number, string] {
  const { bpf } = boot();
  const fmt = fmtValue(c.fmt);
  const fmtMap = bpf.mapCreate({
    mapType: 2,
    keySize: 4,
    valueSize: fmt.length,
    maxEntries: 1,
    mapFlags: BPF_F_RDONLY_PROG,
  });
  bpf.mapUpdateElem({ mapFd: fmtMap, key: new Uint8Array(4), value: fmt });
  bpf.mapFreeze(fmtMap);
  const outMap = bpf.mapCreate({ mapType: 2, keySize: 4, valueSize: OUT_SIZE, maxEntries: 1 });
  const fds = [fmtMap, outMap];
  const insns = snprintfProgram(c.args, c.dataLen).map((i) =>
    i.code === 0x18 && (i.src === 1 || i.src === 2) ? { ...i, imm: fds[i.imm]! } : i,
  );
  const prog = bpf.progLoad({
    progType: BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER,
    insns,
    license: "GPL",
  });
  const { retval } = bpf.progTestRun({ progFd: prog, dataIn: new Uint8Array(14) });
  const out = new Uint8Array(OUT_SIZE);
  bpf.mapLookupElem({ mapFd: outMap, key: new Uint8Array(4), value: out });
  return [retval | 0, textOf(out)];
}

function textOf(out: Uint8Array): string {
  const end = out.indexOf(0);
  return hex(out.subarray(0, end < 0 ? out.length : end));
}

describe.skipIf(noKernel !== undefined)("bpf_snprintf", () => {
  it(`formats ${cases.length} cases as the running kernel does`, () => {
    for (const c of cases) {
      const fmt = fmtValue(c.fmt);
      const lines = runKernel([
        `map 2 4 ${fmt.length} 1 ${BPF_F_RDONLY_PROG}`,
        `update 0 00000000 ${hex(fmt)}`,
        "freeze 0",
        `map 2 4 ${OUT_SIZE} 1 0`,
        `load 1 GPL 0 0 - ${insnsHex(snprintfProgram(c.args, c.dataLen))}`,
        `run 0 ${hex(new Uint8Array(14))} 1`,
        "lookup 1 00000000",
      ]);
      const [ourRet, ourOut] = ours(c);
      const load = lines.find((l) => l.startsWith("load "))!;
      if (!/^load \d+ /.test(load)) {
        // The kernel's verifier checks a constant format at load time (-EINVAL); the helper
        // refuses the same format when it runs.
        expect(load, `load of "${c.fmt}"`).toBe(`load -${Errno.EINVAL}`);
        expect(ourRet, `"${c.fmt}"`).toBe(-Errno.EINVAL);
        continue;
      }
      const retval = Number(/retval=(-?\d+)/.exec(lines.find((l) => l.startsWith("run "))!)![1]);
      const kernelOut = textOf(unhex(lines.find((l) => l.startsWith("lookup "))!.split(" ")[2]!));
      expect(ourRet, `return value of "${c.fmt}"`).toBe(retval);
      if (!c.lengthOnly && retval > 0)
        expect(latin1(ourOut), `output of "${c.fmt}"`).toBe(latin1(kernelOut));
    }
  });
});

const latin1 = (hexText: string): string => Buffer.from(unhex(hexText)).toString("latin1");

describe("bpf_snprintf without the kernel", () => {
  it("writes at most size bytes, NUL included, and returns the full length + 1", () => {
    expect(ours({ fmt: "%d-%s", args: [12n, { str: "ab" }] })).toEqual([
      6,
      hex(new TextEncoder().encode("12-ab")),
    ]);
    expect(ours({ fmt: "%q", args: [1n] })[0]).toBe(-Errno.EINVAL);
    // more than 12 arguments (data_len 104) and a data_len that is no multiple of 8
    expect(ours({ fmt: "%d", args: new Array(13).fill(1n), dataLen: 104 })[0]).toBe(-Errno.EINVAL);
    expect(ours({ fmt: "%d", args: [1n, 2n], dataLen: 12 })[0]).toBe(-Errno.EINVAL);
  });
});

// ---- bpf_trace_printk -------------------------------------------------------------------------

/** r0 = bpf_trace_printk(fmt on the stack, size, a1, a2, a3). */
function tracePrintkProgram(fmt: Uint8Array, args: bigint[]): Insn[] {
  const at = -Math.ceil(fmt.length / 8) * 8;
  const insns: Insn[] = [
    ...storeBytes(fmt, at),
    BPF_MOV64_REG(1, 10),
    BPF_ALU64_IMM(BPF_ADD, 1, at),
    BPF_MOV64_IMM(2, fmt.length),
  ];
  args.forEach((a, i) => {
    const v = BigInt.asUintN(64, a);
    insns.push(...BPF_LD_IMM64(3 + i, Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0));
  });
  return [...insns, BPF_CALL_HELPER(F.BPF_FUNC_trace_printk), BPF_EXIT_INSN()];
}

const printkCases: { fmt: string; size?: number; args: bigint[] }[] = [
  { fmt: "tsbpf test %d %u %x\0", args: [-1n, 5n, 255n] },
  { fmt: "tsbpf test %d %d %d %d\0", args: [1n, 2n, 3n] },
  { fmt: "tsbpf test no NUL", args: [] },
  { fmt: "tsbpf test\0 after the NUL %q", args: [] },
  { fmt: "tsbpf test %lld %llx\0", args: [-(2n ** 40n), 2n ** 40n] },
  { fmt: "tsbpf %s\0", args: [0n] },
  { fmt: "tsbpf test %5d|%-4u|\0", args: [3n, 4n] },
];

describe("bpf_trace_printk", () => {
  const oursPrintk = (fmt: Uint8Array, args: bigint[], version?: "4.1") => {
    const { bpf, kernel } = boot(version ? { version } : {});
    const prog = bpf.progLoad({
      progType: BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: tracePrintkProgram(fmt, args),
      license: "GPL",
    });
    const { retval } = bpf.progTestRun({ progFd: prog, dataIn: new Uint8Array(14) });
    return { retval: retval | 0, trace: kernel.trace.readPipe() };
  };

  it.skipIf(noKernel !== undefined)("returns what the running kernel returns", () => {
    const programs = printkCases.map((c) =>
      tracePrintkProgram(new TextEncoder().encode(c.fmt), c.args),
    );
    const lines = runKernel([
      ...programs.map((p) => `load 1 GPL 0 0 - ${insnsHex(p)}`),
      ...programs.map((_, i) => `run ${i} ${hex(new Uint8Array(14))} 1`),
    ]).filter((l) => l.startsWith("run "));
    printkCases.forEach((c, i) => {
      const retval = Number(/retval=(-?\d+)/.exec(lines[i]!)![1]);
      expect(oursPrintk(new TextEncoder().encode(c.fmt), c.args).retval, c.fmt).toBe(retval);
    });
  });

  it("prints a trace_pipe line in the kernel's format", () => {
    const { retval, trace } = oursPrintk(new TextEncoder().encode("value=%d\0"), [42n]);
    expect(retval).toBe(8);
    expect(trace).toMatch(
      /^ +tsbpf-\d+ +\[000\] [.dhsHNp0-9]{5} +\d+\.\d{6}: bpf_trace_printk: value=42\n$/,
    );
  });

  it("4.1's rules: at most 3 of %d %u %x (l, ll) and %p, no %s, %% or widths", () => {
    const run = (fmt: string, args: bigint[] = []) =>
      oursPrintk(new TextEncoder().encode(fmt + "\0"), args, "4.1");
    expect(run("a %d %lu %llx", [-1n, 2n, 3n]).retval).toBe("a -1 2 3".length);
    expect(run("%p", [0n]).trace).toMatch(/: \s+\(null\)\n$/);
    expect(run("%p", [0xffff8880_00001000n]).trace).toMatch(/: ffff888000001000\n$/);
    for (const bad of ["%s", "%%", "%5d", "%i", "%X", "%c", "%d %d %d %d"])
      expect(run(bad, [1n, 1n, 1n]).retval, bad).toBe(-Errno.EINVAL);
    // the format's last byte must be its NUL
    expect(oursPrintk(new TextEncoder().encode("abc\0x"), [], "4.1").retval).toBe(-Errno.EINVAL);
  });

  it("trace_vprintk takes up to 12 u64 arguments; a bad array is -EINVAL", () => {
    const { bpf, kernel } = boot();
    const fmt = new TextEncoder().encode("%d %d %d %d %d\0");
    const at = -64;
    const insns: Insn[] = [...storeBytes(fmt, -24)];
    for (let i = 0; i < 5; i++) insns.push(BPF_ST_MEM(BPF_DW, 10, at + 8 * i, i + 1));
    insns.push(
      BPF_MOV64_REG(1, 10),
      BPF_ALU64_IMM(BPF_ADD, 1, -24),
      BPF_MOV64_IMM(2, fmt.length),
      BPF_MOV64_REG(3, 10),
      BPF_ALU64_IMM(BPF_ADD, 3, at),
      BPF_MOV64_IMM(4, 40),
      BPF_CALL_HELPER(F.BPF_FUNC_trace_vprintk),
      BPF_EXIT_INSN(),
    );
    const prog = bpf.progLoad({
      progType: BpfProgType.BPF_PROG_TYPE_KPROBE,
      insns,
      license: "GPL",
    });
    kernel.defineFunction({ proto: "int tsbpf_vprintk_target(int a)", body: () => 0 });
    const id = kernel.createKprobeEvent("p:kprobes/tsbpf_vp tsbpf_vprintk_target");
    const event = kernel.perfEventOpen({ type: 2, config: id }, -1, 0);
    kernel.ioctl(event, 0x40042408, prog);
    kernel.callByName("tsbpf_vprintk_target", 0);
    expect(kernel.trace.readPipe()).toMatch(/bpf_trace_printk: 1 2 3 4 5\n/);
    const bad = insns.map((i) => (i.code === 0xb7 && i.dst === 4 ? { ...i, imm: 12 } : i));
    const badProg = bpf.progLoad({
      progType: BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER,
      insns: bad,
      license: "GPL",
    });
    expect(bpf.progTestRun({ progFd: badProg, dataIn: new Uint8Array(14) }).retval | 0).toBe(
      -Errno.EINVAL,
    );
  });
});
