// The system call entry: do_syscall_64(regs, nr) looks the number up in sys_call_table and calls
// the __x64_sys_* wrapper, which unpacks its arguments from the pt_regs the entry code saved
// (di si dx r10 r8 r9) and calls the kernel function doing the work; the result goes back in
// regs->ax. Programs on do_syscall_64 see orig_ax = nr in the regs argument.
import { PtRegs } from "../uapi/ptregs.js";
import type { FunctionBody, KArg } from "./functions.js";
import type { SimKernel } from "./kernel.js";
import type { Ptr } from "./objects.js";

/** x86_64 syscall numbers the simulated kernel implements (arch/x86/entry/syscalls). */
export const NR = {
  read: 0,
  write: 1,
  close: 3,
  socket: 41,
  connect: 42,
  sendto: 44,
  clone: 56,
  exit: 60,
  fsync: 74,
  exit_group: 231,
  openat: 257,
  unlinkat: 263,
  openat2: 437,
} as const;

/** -ENOSYS, what an unknown syscall returns. */
const ENOSYS = -38;

export function registerSyscalls(k: SimKernel): void {
  k.defineFunction({
    proto: "void do_syscall_64(struct pt_regs *regs, int nr)",
    cost: 80,
    size: 0xd0,
    body: (kernel, args) => {
      const regs = args[0] as Ptr;
      const nr = args[1] as number;
      const handler = kernel.syscallTable.get(nr);
      const ret = handler === undefined ? ENOSYS : kernel.call(handler, [regs]);
      const value = typeof ret === "number" ? ret : 0;
      const at = (regs.lo >>> 0) + PtRegs.ax;
      kernel.memory.view.setInt32(at, value | 0, true);
      kernel.memory.view.setInt32(at + 4, Math.floor(value / 0x100000000) | 0, true);
      return null;
    },
  });
}

/**
 * Define `long __x64_sys_NAME(const struct pt_regs *regs)` for syscall `nr`: `body` gets the six
 * argument registers.
 */
export function defineSyscall(
  k: SimKernel,
  nr: number,
  name: string,
  body: (kernel: SimKernel, regs: readonly Ptr[]) => KArg,
): void {
  const wrapper: FunctionBody = (kernel, args) => {
    const regs = args[0] as Ptr;
    const values = [0, 1, 2, 3, 4, 5].map((i) => kernel.syscallArg(regs, i));
    return body(kernel, values);
  };
  const fn = k.defineFunction({
    proto: `long __x64_sys_${name}(const struct pt_regs *regs)`,
    cost: 40,
    body: wrapper,
  });
  k.syscallTable.set(nr, fn);
}

/** A register as a signed int (the low half). */
export const asInt = (r: Ptr): number => r.lo | 0;
/** A register as an unsigned 32-bit value. */
export const asU32 = (r: Ptr): number => r.lo >>> 0;
/** A register as an integer below 2^53 (sizes, 64-bit flags). */
export const asU64 = (r: Ptr): number => (r.hi >>> 0) * 0x100000000 + (r.lo >>> 0);
/** A register as a signed long (for values that fit in 53 bits). */
export const asLong = (r: Ptr): number => (r.hi | 0) * 0x100000000 + (r.lo >>> 0);
