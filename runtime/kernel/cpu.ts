// One CPU of the simulated machine: its current task, the per-CPU state BPF programs depend on
// (bpf_prog_active, the run context with the attachment's cookie, the engine slot the bpf()
// facade fills with an Interpreter or JIT instance), the interrupt context, the kernel stack the
// call frames live on, and the block of memory kprobe programs get as their pt_regs.
import { PT_REGS_SIZE } from "../uapi/ptregs.js";
import type { AddressSpace, Region } from "../vm/memory.js";
import type { BpfCpuState, BpfRunContext } from "./attach.js";
import type { KernelFunction } from "./functions.js";
import type { KernelSymbol } from "./kallsyms.js";
import type { KObject } from "./objects.js";
import { Prng } from "./random.js";
import type { Task } from "./tasks.js";
import type { SimKernel } from "./kernel.js";

/** THREAD_SIZE on x86_64. */
export const KERNEL_STACK_SIZE = 16 * 1024;
/** Bytes of kernel stack one simulated call frame takes (return address, then locals). */
export const FRAME_SIZE = 256;
/** Deepest call chain the simulated kernel allows (a body recursing forever is a bug). */
export const MAX_CALL_DEPTH = 60;

export class KernelCpu implements BpfCpuState {
  bpfProgActive = 0;
  runContext: BpfRunContext | undefined = undefined;
  /** The bpf() facade's execution engine for this CPU (an Interpreter, a JIT instance ...). */
  interpreter: unknown = undefined;
  current!: Task;
  /** preempt_count's preemption depth (the trace line's 4th flag column) */
  preemptCount = 0;
  inSoftirq = false;
  inHardirq = false;
  irqsOff = false;
  /** context switches on this CPU */
  nrSwitches = 0;
  /** bpf_get_prandom_u32()'s per-CPU state, apart from every other random stream */
  readonly prandom: Prng;
  /** struct rq of this CPU */
  rq: KObject | undefined;

  /** the pt_regs a kprobe program gets: kind "ctx", not writable by programs */
  readonly ptRegs: Region;
  readonly kernelStack: Region;
  /** call frames: the function at each depth and the (low word of the) address it returns to */
  depth = 0;
  readonly frames: KernelFunction[] = [];
  readonly returnAddrs: number[] = [];
  /** the entry code at the bottom of the stack (entry_SYSCALL_64_after_hwframe, ...) */
  contextBase: KernelSymbol | undefined;

  /** the idle task (pid 0, swapper/N), set once tasks exist */
  idle!: Task;
  /** bytes of frame-local kernel memory used at each depth (open_how, loff_t, msghdr ...) */
  readonly localsUsed: number[] = [];

  constructor(
    /** the machine this CPU belongs to (what helpers reach through vm.host.kernel) */
    readonly kernel: SimKernel,
    readonly id: number,
    memory: AddressSpace,
    seed: number,
  ) {
    this.prandom = new Prng(seed, `prandom/cpu${id}`);
    this.ptRegs = memory.alloc(PT_REGS_SIZE, {
      name: `pt_regs cpu${id}`,
      kind: "ctx",
      writable: false,
    });
    this.kernelStack = memory.alloc(KERNEL_STACK_SIZE, {
      name: `kernel stack cpu${id}`,
      kind: "kernel_object",
      writable: false,
      align: 4096,
    });
  }

  /** Linear offset of the stack pointer at entry to the function at `depth`. */
  stackPointer(depth: number): number {
    return this.kernelStack.base + KERNEL_STACK_SIZE - 16 - depth * FRAME_SIZE;
  }

  /**
   * The trace line's latency flags: irqs-off, need-resched, hard/softirq, preemption depth and,
   * from 5.14 on, the migrate-disable depth (BPF programs run with migration disabled).
   */
  traceFlags(extraPreempt: number, modern: boolean): string {
    const irq = this.irqsOff ? "d" : ".";
    const hs = this.inHardirq ? (this.inSoftirq ? "H" : "h") : this.inSoftirq ? "s" : ".";
    const depth = this.preemptCount + extraPreempt;
    const preempt = depth === 0 ? "." : Math.min(depth, 15).toString(16);
    if (!modern) return `${irq}.${hs}${preempt}`;
    const migrate = this.bpfProgActive > 0 ? "1" : ".";
    return `${irq}.${hs}${preempt}${migrate}`;
  }
}
