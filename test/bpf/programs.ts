// Small programs and kernel plumbing shared by test/bpf and test/helpers.
import { bpfOf, type BpfSyscall } from "../../runtime/bpf/syscall.js";
import {
  BPF_ALU64_IMM,
  BPF_ATOMIC_OP,
  BPF_CALL_HELPER,
  BPF_EXIT_INSN,
  BPF_JMP_IMM,
  BPF_LD_MAP_FD,
  BPF_MOV64_IMM,
  BPF_MOV64_REG,
  BPF_ST_MEM,
} from "../../runtime/isa/build.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BPF_ADD, BPF_DW, BPF_JNE, BPF_W } from "../../runtime/isa/opcodes.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { BpfMapType, BpfProgType } from "../../runtime/uapi/bpf.js";
import { BpfFunc } from "../../runtime/uapi/helpers.js";
import { PERF_EVENT_IOC_SET_BPF, PerfTypeId } from "../../runtime/uapi/perf_event.js";

export const F = BpfFunc;

/** A fresh kernel (one CPU unless asked) and its bpf() facade. */
export function boot(options: ConstructorParameters<typeof SimKernel>[0] = {}): {
  kernel: SimKernel;
  bpf: BpfSyscall;
} {
  const kernel = new SimKernel({ cpus: 1, ...options });
  return { kernel, bpf: bpfOf(kernel) };
}

/** An ARRAY map of u64 counters. */
export function counterMap(bpf: BpfSyscall, entries = 4, name = "counts"): number {
  return bpf.mapCreate({
    mapType: BpfMapType.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 8,
    maxEntries: entries,
    name,
  });
}

/** counts[key] += 1 (atomically); r0 = `ret`. */
export function countInsns(mapFd: number, key = 0, ret = 0): Insn[] {
  return [
    BPF_ST_MEM(BPF_W, 10, -4, key),
    ...BPF_LD_MAP_FD(1, mapFd),
    BPF_MOV64_REG(2, 10),
    BPF_ALU64_IMM(BPF_ADD, 2, -4),
    BPF_CALL_HELPER(F.BPF_FUNC_map_lookup_elem),
    BPF_JMP_IMM(BPF_JNE, 0, 0, 2),
    BPF_MOV64_IMM(0, ret),
    BPF_EXIT_INSN(),
    BPF_MOV64_IMM(1, 1),
    BPF_ATOMIC_OP(BPF_DW, BPF_ADD, 0, 1, 0),
    BPF_MOV64_IMM(0, ret),
    BPF_EXIT_INSN(),
  ];
}

export function loadKprobe(bpf: BpfSyscall, insns: Insn[], name = "prog", license = "GPL"): number {
  return bpf.progLoad({
    progType: BpfProgType.BPF_PROG_TYPE_KPROBE,
    insns,
    license,
    progName: name,
  });
}

/** A kprobe event on `symbol` and a perf event fd counting it on every CPU. */
export function kprobeEvent(kernel: SimKernel, symbol: string, retprobe = false): number {
  const name = `tsbpf_${retprobe ? "r" : "p"}_${symbol}_${Math.floor(Math.random() * 1e9)}`;
  const id = kernel.createKprobeEvent(`${retprobe ? "r" : "p"}:kprobes/${name} ${symbol}`);
  return kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
}

/** Attach with PERF_EVENT_IOC_SET_BPF (the seed's way); returns the perf event fd. */
export function attachKprobe(
  kernel: SimKernel,
  symbol: string,
  progFd: number,
  retprobe = false,
): number {
  const fd = kprobeEvent(kernel, symbol, retprobe);
  kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, progFd);
  return fd;
}

/** The u64 at key `key` of an ARRAY map. */
export function readCounter(bpf: BpfSyscall, mapFd: number, key = 0): number {
  const value = new Uint8Array(8);
  bpf.mapLookupElem({ mapFd, key: Uint8Array.of(key, 0, 0, 0), value });
  const view = new DataView(value.buffer);
  return view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
}
