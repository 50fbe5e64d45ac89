// The helper ABI shared by the interpreter and the JIT.
//
// A helper is a function of the machine state. It reads its arguments from r1-r5 in the
// register file (regs[2*i] low word, regs[2*i+1] high word) and writes its result to r0 there.
// Through the context it reaches the address space, the host (the simulated kernel, later), the
// program that is running, and the run itself: stop() ends the run after the helper returns with
// r0 as the helper left it (bpf_throw / the test suite's unwind), tailCall() replaces the current
// frame's program (bpf_tail_call), callSubprogram() runs a callback to completion (bpf_loop).
import { TsbpfError } from "../error.js";
import type { AddressSpace } from "./memory.js";
import type { Program } from "./program.js";

export interface HelperContext<Host = unknown> {
  /** The register file: Int32Array(22). */
  readonly regs: Int32Array;
  readonly memory: AddressSpace;
  readonly host: Host;
  /** The program whose instruction is calling (after a tail call, the target). */
  readonly program: Program;
  /** Index of the call instruction. */
  readonly pc: number;
  /** Tail calls taken so far in this run (the kernel allows MAX_TAIL_CALL_CNT = 33). */
  readonly tailCallCount: number;
  /** End the run when the helper returns; r0 is the program's result. */
  stop(): void;
  /**
   * When the helper returns, replace the current frame's program with `target` and start it at
   * instruction 0 with the registers as they are (r1 still holds the ctx). Does not return to
   * the caller of the helper.
   */
  tailCall(target: Program): void;
  /**
   * Run the subprogram starting at instruction `pc` of the current program in a new frame, with
   * r1.. from `args` (lo, hi pairs), and return its r0. The caller's registers are preserved.
   */
  callSubprogram(pc: number, args: readonly number[]): { lo: number; hi: number };
}

export type Helper<Host = unknown> = (vm: HelperContext<Host>) => void;

/** Helpers by id (bpf_func_id), and kernel functions by BTF id for BPF_PSEUDO_KFUNC_CALL. */
export class HelperTable<Host = unknown> {
  /** Dense by id, for the dispatch loop. */
  readonly byId: (Helper<Host> | undefined)[] = [];
  private readonly names = new Map<number, string>();
  readonly kfuncs = new Map<number, { name: string; fn: Helper<Host> }>();

  register(id: number, name: string, fn: Helper<Host>): this {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff)
      throw new TsbpfError(`cannot register ${name}: bad helper id ${id}`);
    while (this.byId.length <= id) this.byId.push(undefined);
    this.byId[id] = fn;
    this.names.set(id, name);
    return this;
  }

  registerKfunc(btfId: number, name: string, fn: Helper<Host>): this {
    this.kfuncs.set(btfId, { name, fn });
    return this;
  }

  get(id: number): Helper<Host> | undefined {
    return this.byId[id];
  }

  nameOf(id: number): string {
    return this.names.get(id) ?? `helper ${id}`;
  }
}

// Small accessors for helper authors (r0-r5 by number).

export function argLo(vm: HelperContext<unknown>, reg: number): number {
  return vm.regs[2 * reg]!;
}

export function argHi(vm: HelperContext<unknown>, reg: number): number {
  return vm.regs[2 * reg + 1]!;
}

/** r0 = (lo, hi). */
export function setResult(vm: HelperContext<unknown>, lo: number, hi: number): void {
  vm.regs[0] = lo;
  vm.regs[1] = hi;
}

/** r0 = a signed 32-bit value sign-extended to 64 bits (errno returns: -EFAULT, ...). */
export function setResultSigned(vm: HelperContext<unknown>, value: number): void {
  vm.regs[0] = value | 0;
  vm.regs[1] = (value | 0) >> 31;
}
