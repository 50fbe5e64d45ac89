// Helpers that change the flow of the program: bpf_tail_call jumps into the program in a
// PROG_ARRAY slot without returning (at most MAX_TAIL_CALL_CNT = 33 times per run; an index
// past the array, an empty slot or the limit falls through to the next instruction), and
// bpf_loop runs a callback subprogram up to nr_loops times.
import { ProgArrayMap } from "../maps/fd-array.js";
import { BPF_MAX_LOOPS, MAX_TAIL_CALL_CNT } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { BpfFunc } from "../uapi/helpers.js";
import { setResultSigned, type HelperContext, type HelperTable } from "../vm/helpers.js";
import { funcIndex } from "../vm/program.js";
import { helperFault, mapArg, type HelperHost } from "./host.js";

type Vm = HelperContext<HelperHost>;

/** bpf_tail_call(ctx, prog_array, index): r0 is left as it was when the call falls through. */
function tailCall(vm: Vm): void {
  const helper = "bpf_tail_call";
  const map = mapArg(vm, 2, helper);
  if (!(map instanceof ProgArrayMap))
    throw helperFault(vm, helper, `${map.describe()} is not a prog array`);
  const index = vm.regs[6]! >>> 0;
  if (index >= map.maxEntries) return;
  const host = vm.host;
  if (host.tailCallCount >= MAX_TAIL_CALL_CNT) return;
  host.tailCallCount++;
  const target = map.tailCallTarget(index);
  if (target !== undefined) vm.tailCall(target.program);
}

/** bpf_loop(nr_loops, callback_fn, callback_ctx, flags): the number of iterations run. */
function loop(vm: Vm): void {
  const r = vm.regs;
  const nrLoops = r[2]! >>> 0;
  if (r[8] !== 0 || r[9] !== 0) {
    setResultSigned(vm, -Errno.EINVAL);
    return;
  }
  if (nrLoops > BPF_MAX_LOOPS) {
    setResultSigned(vm, -Errno.E2BIG);
    return;
  }
  const pc = funcIndex(r[4]!, r[5]!, vm.program.length);
  if (pc < 0) throw helperFault(vm, "bpf_loop", "r2 is not the address of a subprogram");
  const ctxLo = r[6]!;
  const ctxHi = r[7]!;
  let i = 0;
  for (; i < nrLoops; i++) {
    const ret = vm.callSubprogram(pc, [i, 0, ctxLo, ctxHi]);
    if (ret.lo !== 0 || ret.hi !== 0) {
      setResultSigned(vm, i + 1);
      return;
    }
  }
  setResultSigned(vm, i);
}

export function registerControlHelpers(table: HelperTable<HelperHost>): void {
  table
    .register(BpfFunc.BPF_FUNC_tail_call, "bpf_tail_call", tailCall)
    .register(BpfFunc.BPF_FUNC_loop, "bpf_loop", loop);
}
