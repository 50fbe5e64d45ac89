// Kernel functions: a name, a C prototype, an address in kallsyms, a cost in simulated time and
// a body written in TypeScript. SimKernel.call() runs one the way the CPU would: push a frame
// (the return address goes on the CPU's kernel stack, where BPF_KPROBE_READ_RET_IP finds it),
// fire the function's kprobes with its arguments in pt_regs, run the body, fire the kretprobes
// with the return value in ax. Bodies call other kernel functions through SimKernel.call(), so
// nested probes fire as in the kernel (ksys_write -> vfs_write).
import type { FuncType } from "./ctypes.js";
import type { KernelSymbol } from "./kallsyms.js";
import type { Ptr } from "./objects.js";
import type { SimKernel } from "./kernel.js";
import type { KprobeEvent } from "./kprobes.js";

/**
 * An argument or return value: an integer (exact below 2^53; negative values are two's
 * complement in the register), an address, or null for NULL.
 */
export type KArg = number | Ptr | null;

export type FunctionBody = (kernel: SimKernel, args: readonly KArg[]) => KArg;

export interface KernelFunctionSpec {
  /** C prototype with Linux 6.1 parameter names: "ssize_t vfs_read(struct file *file, ...)" */
  readonly proto: string;
  readonly body: FunctionBody;
  /** simulated time one call takes, in ns, not counting the functions it calls (default 50) */
  readonly cost?: number;
  /** bytes of text (kallsyms size; default from the prototype's length) */
  readonly size?: number;
  /** never returns (do_exit): no kretprobe fires */
  readonly noreturn?: boolean;
}

export class KernelFunction {
  /** times called */
  calls = 0;
  /** armed kprobe events on entry and on return */
  readonly entryProbes: KprobeEvent[] = [];
  readonly returnProbes: KprobeEvent[] = [];
  /** per parameter: bytes of its C type (sub-register arguments are zero-extended) */
  readonly paramSizes: readonly number[];

  constructor(
    readonly name: string,
    readonly type: FuncType,
    readonly symbol: KernelSymbol,
    readonly body: FunctionBody,
    readonly cost: number,
    readonly noreturn: boolean,
    paramSizes: readonly number[],
  ) {
    this.paramSizes = paramSizes;
  }

  /** Low word of the function's address (the high word is 0xffffffff). */
  get lo(): number {
    return this.symbol.lo;
  }

  get size(): number {
    return this.symbol.size;
  }
}

/** Deterministic text size for a function without an explicit one: 0x40..0x400 bytes. */
export function defaultTextSize(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return 0x40 + ((h >>> 0) % 60) * 16;
}

/**
 * The return address of a call from `caller` to `callee`: just past a 5-byte call instruction
 * at a fixed, name-derived place inside the caller.
 */
export function callSiteOffset(callerSize: number, calleeName: string): number {
  let h = 0x01000193;
  for (let i = 0; i < calleeName.length; i++)
    h = Math.imul(h ^ calleeName.charCodeAt(i), 0x5bd1e995);
  const room = Math.max(callerSize - 16, 1);
  return 8 + ((h >>> 0) % room);
}
