// What a helper sees of the simulated kernel while a program runs: the kernel, the CPU the
// program runs on, and the few things only the bpf() facade knows (which map a map pointer
// names, where signals and kernel warnings go). The facade gives each CPU's engine one host.
import type { BpfMap } from "../maps/map.js";
import type { KernelCpu } from "../kernel/cpu.js";
import type { SimKernel } from "../kernel/kernel.js";
import type { Task } from "../kernel/tasks.js";
import { VmFault } from "../vm/fault.js";
import type { HelperContext } from "../vm/helpers.js";
import { KERNEL_HI } from "../vm/memory.js";

/** A signal bpf_send_signal / bpf_send_signal_thread queued for a task. */
export interface SentSignal {
  /** the receiving task's pid (thread id) and tgid */
  readonly pid: number;
  readonly tgid: number;
  readonly sig: number;
  /** bpf_send_signal_thread: to the thread only, not the whole thread group */
  readonly thread: boolean;
  /** CLOCK_MONOTONIC when it was sent */
  readonly ts: number;
}

export interface HelperHost {
  readonly kernel: SimKernel;
  /** the CPU the program runs on */
  readonly cpu: KernelCpu;
  /** The map behind a map pointer (what lddw BPF_PSEUDO_MAP_FD loaded), or undefined. */
  mapAt(lo: number, hi: number): BpfMap | undefined;
  /**
   * Tail calls counted in the current run, as the kernel counts them: every attempt within
   * max_entries, taken or not. The facade zeroes it when a run starts.
   */
  tailCallCount: number;
  /** Queue a signal for `task` (the kernel's group_send_sig_info / send_sig_info). */
  sendSignal(task: Task, sig: number, thread: boolean): void;
}

/**
 * A helper was called with something the verifier should have refused (not a map pointer, a
 * sample that is no ring buffer record ...): a fault naming the program and instruction.
 */
export function helperFault(
  vm: HelperContext<HelperHost>,
  helper: string,
  reason: string,
): VmFault {
  return new VmFault(vm.program.name, vm.pc, `in ${helper}: ${reason}`);
}

/** The map r`reg` points to, or a fault. */
export function mapArg(vm: HelperContext<HelperHost>, reg: number, helper: string): BpfMap {
  const lo = vm.regs[2 * reg]!;
  const hi = vm.regs[2 * reg + 1]!;
  const map = vm.host.mapAt(lo, hi);
  if (map === undefined) throw helperFault(vm, helper, `r${reg} is not a map pointer`);
  return map;
}

/** r0 = an address in the kernel's address space from a linear offset (0: NULL). */
export function setAddressResult(vm: HelperContext<HelperHost>, offset: number): void {
  vm.regs[0] = offset | 0;
  vm.regs[1] = offset === 0 ? 0 : KERNEL_HI;
}

/** r0 = an unsigned integer below 2^53 (timestamps, positions). */
export function setU64Result(vm: HelperContext<HelperHost>, value: number): void {
  const hi = Math.floor(value / 0x100000000);
  vm.regs[0] = (value - hi * 0x100000000) | 0;
  vm.regs[1] = hi | 0;
}
