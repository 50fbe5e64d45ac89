// The probe_read family: copy memory a program may not load directly into its own buffer,
// never faulting. A source that is not mapped gives -EFAULT and a zero-filled destination.
//
//   bpf_probe_read_kernel(_str)  kernel memory. From 5.8 on x86 a user or non-canonical address
//                                is refused with -ERANGE (copy_from_kernel_nofault_allowed).
//   bpf_probe_read_user(_str)    the current task's user memory; anything else is -EFAULT.
//   bpf_probe_read(_str)         the old helpers: below TASK_SIZE they read user memory, above
//                                it kernel memory (x86's non-overlapping address spaces).
//
// The string variants copy up to and including the NUL (always writing one, truncating at the
// size) and return the bytes copied; they do not clear the rest of the buffer on success.
import { KERNEL_VERSION } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { BpfFunc } from "../uapi/helpers.js";
import { setResultSigned, type HelperContext, type HelperTable } from "../vm/helpers.js";
import type { HelperHost } from "./host.js";

type Vm = HelperContext<HelperHost>;

/** x86_64 TASK_SIZE_MAX (0x00007ffffffff000) as (lo, hi): user addresses lie below it. */
const TASK_SIZE_HI = 0x7fff;
const TASK_SIZE_LO = 0xfffff000;

/** (unsigned long)addr < TASK_SIZE */
export function belowTaskSize(lo: number, hi: number): boolean {
  const h = hi >>> 0;
  return h < TASK_SIZE_HI || (h === TASK_SIZE_HI && lo >>> 0 < TASK_SIZE_LO);
}

/** copy_from_kernel_nofault_allowed(): canonical kernel half (48-bit) only. */
function kernelReadAllowed(lo: number, hi: number): boolean {
  return hi >>> 0 >= 0xffff8000;
}

/** The errno a refused kernel address gets on this kernel: -ERANGE from 5.8, else -EFAULT. */
function refusedKernelAddress(vm: Vm): number {
  return vm.host.kernel.version >= KERNEL_VERSION(5, 8, 0) ? -Errno.ERANGE : -Errno.EFAULT;
}

function zeroFill(vm: Vm, dstLo: number, dstHi: number, size: number): void {
  if (size > 0) vm.memory.fill(dstLo, dstHi, size, 0);
}

/** bpf_probe_read_kernel(dst, size, unsafe_ptr) */
function readKernel(
  vm: Vm,
  dstLo: number,
  dstHi: number,
  size: number,
  lo: number,
  hi: number,
): number {
  if (!kernelReadAllowed(lo, hi)) {
    zeroFill(vm, dstLo, dstHi, size);
    return refusedKernelAddress(vm);
  }
  return vm.memory.probeRead(dstLo, dstHi, lo, hi, size) ? 0 : -Errno.EFAULT;
}

function readUser(
  vm: Vm,
  dstLo: number,
  dstHi: number,
  size: number,
  lo: number,
  hi: number,
): number {
  const { kernel, cpu } = vm.host;
  return kernel.probeReadUser(cpu, dstLo, dstHi, lo, hi, size) ? 0 : -Errno.EFAULT;
}

function readKernelStr(
  vm: Vm,
  dstLo: number,
  dstHi: number,
  size: number,
  lo: number,
  hi: number,
): number {
  if (size === 0) return 0;
  if (!kernelReadAllowed(lo, hi)) {
    zeroFill(vm, dstLo, dstHi, size);
    return refusedKernelAddress(vm);
  }
  const n = vm.memory.probeReadStr(dstLo, dstHi, lo, hi, size);
  return n < 0 ? -Errno.EFAULT : n;
}

function readUserStr(
  vm: Vm,
  dstLo: number,
  dstHi: number,
  size: number,
  lo: number,
  hi: number,
): number {
  const { kernel, cpu } = vm.host;
  const n = kernel.probeReadUserStr(cpu, dstLo, dstHi, lo, hi, size);
  return n < 0 ? -Errno.EFAULT : n;
}

type Reader = (
  vm: Vm,
  dstLo: number,
  dstHi: number,
  size: number,
  lo: number,
  hi: number,
) => number;

/** A helper (dst, size, unsafe_ptr) -> 0 / length / -errno over one reader. */
const probeHelper =
  (read: Reader) =>
  (vm: Vm): void => {
    const r = vm.regs;
    setResultSigned(vm, read(vm, r[2]!, r[3]!, r[4]! >>> 0, r[6]!, r[7]!));
  };

/** The compat helpers pick user or kernel memory by the address. */
const compat =
  (user: Reader, kernel: Reader): Reader =>
  (vm, dstLo, dstHi, size, lo, hi) =>
    (belowTaskSize(lo, hi) ? user : kernel)(vm, dstLo, dstHi, size, lo, hi);

export function registerProbeHelpers(table: HelperTable<HelperHost>): void {
  const F = BpfFunc;
  table
    .register(F.BPF_FUNC_probe_read, "bpf_probe_read", probeHelper(compat(readUser, readKernel)))
    .register(
      F.BPF_FUNC_probe_read_str,
      "bpf_probe_read_str",
      probeHelper(compat(readUserStr, readKernelStr)),
    )
    .register(F.BPF_FUNC_probe_read_kernel, "bpf_probe_read_kernel", probeHelper(readKernel))
    .register(F.BPF_FUNC_probe_read_user, "bpf_probe_read_user", probeHelper(readUser))
    .register(
      F.BPF_FUNC_probe_read_kernel_str,
      "bpf_probe_read_kernel_str",
      probeHelper(readKernelStr),
    )
    .register(F.BPF_FUNC_probe_read_user_str, "bpf_probe_read_user_str", probeHelper(readUserStr));
}
