// bpf_get_stackid(ctx, map, flags): the kernel stack of the event, from the simulated CPU's call
// chain, stored in a STACK_TRACE map. As perf_callchain_kernel() does from a kprobe's pt_regs,
// the chain starts at regs->ip (the probed function, or for a kretprobe the address it returned
// to) and continues with the return addresses of the frames still on the stack. User stacks
// (BPF_F_USER_STACK) are not simulated: there is no user call chain, which the kernel reports
// as -EFAULT.
import { KERNEL_TEXT_HI } from "../kernel/kallsyms.js";
import { PERF_EVENT_MAX_STACK, StackTraceMap } from "../maps/stackmap.js";
import { BPF_F_USER_STACK } from "../uapi/bpf.js";
import { BpfFunc } from "../uapi/helpers.js";
import { PtRegs } from "../uapi/ptregs.js";
import { setResultSigned, type HelperContext, type HelperTable } from "../vm/helpers.js";
import { KERNEL_HI } from "../vm/memory.js";
import { helperFault, mapArg, type HelperHost } from "./host.js";

type Vm = HelperContext<HelperHost>;

const chains = new WeakMap<HelperHost, Int32Array>();

/**
 * The kernel call chain at the event into `out` as (lo, hi) pairs, innermost first; returns the
 * number of entries. ctx is the program's r1: the CPU's pt_regs for kprobe programs.
 */
export function kernelCallchain(
  host: HelperHost,
  ctxLo: number,
  ctxHi: number,
  out: Int32Array,
): number {
  const cpu = host.cpu;
  const depth = cpu.depth;
  const max = out.length / 2;
  let n = 0;
  const push = (lo: number): void => {
    if (n < max) {
      out[2 * n] = lo | 0;
      out[2 * n + 1] = KERNEL_TEXT_HI;
      n++;
    }
  };
  let ip: number | undefined;
  if (ctxHi === KERNEL_HI && ctxLo === cpu.ptRegs.addressLo) {
    ip = host.kernel.memory.view.getInt32(cpu.ptRegs.base + PtRegs.ip, true);
  } else if (depth > 0) {
    ip = cpu.frames[depth - 1]!.lo;
  }
  if (ip === undefined) return 0;
  push(ip);
  for (let d = depth - 1; d >= 0; d--) {
    const ret = cpu.returnAddrs[d]! | 0;
    if (d === depth - 1 && ret === (ip | 0)) continue; // a kretprobe: ip is this return address
    push(ret);
  }
  return n;
}

function getStackid(vm: Vm): void {
  const helper = "bpf_get_stackid";
  const map = mapArg(vm, 2, helper);
  if (!(map instanceof StackTraceMap))
    throw helperFault(vm, helper, `${map.describe()} is not a stack trace map`);
  const r = vm.regs;
  let chain = chains.get(vm.host);
  if (chain === undefined) {
    chain = new Int32Array(2 * PERF_EVENT_MAX_STACK);
    chains.set(vm.host, chain);
  }
  const user = (r[6]! & BPF_F_USER_STACK) !== 0;
  const nr = user ? 0 : kernelCallchain(vm.host, r[2]!, r[3]!, chain);
  setResultSigned(vm, map.getStackid(chain, nr, r[6]!, r[7]!));
}

export function registerStackHelpers(table: HelperTable<HelperHost>): void {
  table.register(BpfFunc.BPF_FUNC_get_stackid, "bpf_get_stackid", getStackid);
}
