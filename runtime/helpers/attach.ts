// Helpers about the attachment that fired: bpf_get_attach_cookie returns the bpf_cookie of the
// perf link (or 0 for an attachment without one) from the CPU's run context, which
// trace_call_bpf sets for each program it runs; bpf_get_func_ip returns the address of the
// probed function for a kprobe at a function's entry. As in 6.1, a kretprobe (whose handler
// runs from the return trampoline, not under the kprobe) gets 0.
import { KERNEL_TEXT_HI } from "../kernel/kallsyms.js";
import { BpfFunc } from "../uapi/helpers.js";
import { PtRegs } from "../uapi/ptregs.js";
import { setResult, type HelperContext, type HelperTable } from "../vm/helpers.js";
import { KERNEL_HI } from "../vm/memory.js";
import type { HelperHost } from "./host.js";

type Vm = HelperContext<HelperHost>;

function getAttachCookie(vm: Vm): void {
  const { kernel, cpu } = vm.host;
  const run = kernel.runContext(cpu);
  setResult(vm, run?.cookieLo ?? 0, run?.cookieHi ?? 0);
}

function getFuncIp(vm: Vm): void {
  const { kernel, cpu } = vm.host;
  const r = vm.regs;
  const depth = cpu.depth;
  if (depth === 0 || r[3] !== KERNEL_HI || r[2] !== cpu.ptRegs.addressLo) {
    setResult(vm, 0, 0);
    return;
  }
  const fn = cpu.frames[depth - 1]!;
  const view = kernel.memory.view;
  const ipLo = view.getInt32(cpu.ptRegs.base + PtRegs.ip, true);
  const ipHi = view.getInt32(cpu.ptRegs.base + PtRegs.ip + 4, true);
  const atEntry = ipLo === (fn.lo | 0) && ipHi === KERNEL_TEXT_HI;
  setResult(vm, atEntry ? fn.lo | 0 : 0, atEntry ? KERNEL_TEXT_HI : 0);
}

export function registerAttachHelpers(table: HelperTable<HelperHost>): void {
  table
    .register(BpfFunc.BPF_FUNC_get_attach_cookie, "bpf_get_attach_cookie", getAttachCookie)
    .register(BpfFunc.BPF_FUNC_get_func_ip, "bpf_get_func_ip", getFuncIp);
}
