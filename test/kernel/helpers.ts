// Stub BPF helpers for the kernel tests only (the project's real helpers live elsewhere): just
// enough to let small programs report what they see through the kernel's services.
import type { KernelCpu } from "../../runtime/kernel/cpu.js";
import { KERNEL_HI } from "../../runtime/vm/memory.js";
import { BpfFunc } from "../../runtime/uapi/helpers.js";
import type { Helper, HelperContext } from "../../runtime/vm/helpers.js";

type Vm = HelperContext<KernelCpu>;
const reg = (vm: Vm, r: number): [number, number] => [vm.regs[2 * r]!, vm.regs[2 * r + 1]!];
const ret = (vm: Vm, lo: number, hi = lo < 0 ? -1 : 0): void => {
  vm.regs[0] = lo | 0;
  vm.regs[1] = hi | 0;
};

/** A custom helper id that appends r1 (as a bigint) to `log`. */
export const RECORD_HELPER = 1000;

/** bpf_trace_printk with %d %u %x %lu %llu %ld %lld %lx %llx %s (strings from kernel memory). */
const tracePrintk: Helper<KernelCpu> = (vm) => {
  const [fmtLo, fmtHi] = reg(vm, 1);
  const size = vm.regs[4]! >>> 0;
  const bytes = vm.memory.readBytes(fmtLo, fmtHi, size);
  const end = bytes.indexOf(0);
  const fmt = new TextDecoder().decode(bytes.subarray(0, end < 0 ? size : end));
  let arg = 3;
  const text = fmt.replace(/%(l{0,2})([duxs])/g, (_m, _l: string, conv: string) => {
    const [lo, hi] = reg(vm, arg++);
    if (conv === "s") return new TextDecoder().decode(vm.memory.readCString(lo, hi, 256));
    const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    if (conv === "x") return value.toString(16);
    if (conv === "d")
      return (_l === "" ? BigInt.asIntN(32, value) : BigInt.asIntN(64, value)).toString();
    return (_l === "" ? BigInt.asUintN(32, value) : value).toString();
  });
  vm.host.kernel.tracePrintk(vm.host, text);
  ret(vm, text.length);
};

export function testHelpers(log: bigint[] = []): Record<number, Helper<KernelCpu>> {
  return {
    [BpfFunc.BPF_FUNC_trace_printk]: tracePrintk,
    [BpfFunc.BPF_FUNC_ktime_get_ns]: (vm) => {
      const ns = vm.host.kernel.clock.ns;
      ret(vm, ns % 0x100000000, Math.floor(ns / 0x100000000));
    },
    [BpfFunc.BPF_FUNC_get_current_pid_tgid]: (vm) =>
      ret(vm, vm.host.current.pid, vm.host.current.tgid),
    [BpfFunc.BPF_FUNC_get_current_task]: (vm) => ret(vm, vm.host.current.obj.lo, KERNEL_HI),
    [BpfFunc.BPF_FUNC_get_smp_processor_id]: (vm) => ret(vm, vm.host.id),
    [BpfFunc.BPF_FUNC_get_prandom_u32]: (vm) => ret(vm, vm.host.prandom.u32(), 0),
    [BpfFunc.BPF_FUNC_get_attach_cookie]: (vm) => {
      const ctx = vm.host.kernel.runContext(vm.host);
      ret(vm, ctx?.cookieLo ?? 0, ctx?.cookieHi ?? 0);
    },
    [BpfFunc.BPF_FUNC_probe_read_kernel]: (vm) => {
      const [dLo, dHi] = reg(vm, 1);
      const [sLo, sHi] = reg(vm, 3);
      ret(vm, vm.memory.probeRead(dLo, dHi, sLo, sHi, vm.regs[4]! >>> 0) ? 0 : -14);
    },
    [BpfFunc.BPF_FUNC_probe_read_kernel_str]: (vm) => {
      const [dLo, dHi] = reg(vm, 1);
      const [sLo, sHi] = reg(vm, 3);
      const n = vm.memory.probeReadStr(dLo, dHi, sLo, sHi, vm.regs[4]! >>> 0);
      ret(vm, n < 0 ? -14 : n);
    },
    [BpfFunc.BPF_FUNC_probe_read_user_str]: (vm) => {
      const [dLo, dHi] = reg(vm, 1);
      const [sLo, sHi] = reg(vm, 3);
      const n = vm.host.kernel.probeReadUserStr(vm.host, dLo, dHi, sLo, sHi, vm.regs[4]! >>> 0);
      ret(vm, n < 0 ? -14 : n);
    },
    [RECORD_HELPER]: (vm) => {
      const [lo, hi] = reg(vm, 1);
      log.push(BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)));
      ret(vm, 0);
    },
  };
}
