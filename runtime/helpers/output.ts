// Output channels to user space: bpf_perf_event_output into the perf event a PERF_EVENT_ARRAY
// slot holds (BPF_F_CURRENT_CPU picks this CPU's slot), and the BPF ring buffer's output,
// reserve/submit/discard and query (runtime/maps/ringbuf.ts keeps the kernel's record format).
import { PerfEventArrayMap } from "../maps/fd-array.js";
import { RingbufMap, ringbufOfSample } from "../maps/ringbuf.js";
import { BpfFunc } from "../uapi/helpers.js";
import { setResult, setResultSigned, type HelperContext, type HelperTable } from "../vm/helpers.js";
import { helperFault, mapArg, setAddressResult, setU64Result, type HelperHost } from "./host.js";

type Vm = HelperContext<HelperHost>;

function ringbufArg(vm: Vm, reg: number, helper: string): RingbufMap {
  const map = mapArg(vm, reg, helper);
  if (!(map instanceof RingbufMap))
    throw helperFault(vm, helper, `${map.describe()} is not a ring buffer`);
  return map;
}

/** bpf_perf_event_output(ctx, map, flags, data, size) */
function perfEventOutput(vm: Vm): void {
  const helper = "bpf_perf_event_output";
  const map = mapArg(vm, 2, helper);
  if (!(map instanceof PerfEventArrayMap))
    throw helperFault(vm, helper, `${map.describe()} is not a perf event array`);
  const r = vm.regs;
  setResultSigned(
    vm,
    map.perfEventOutput(vm.host.cpu.id, r[6]!, r[7]!, r[8]!, r[9]!, r[10]! >>> 0),
  );
}

/** bpf_ringbuf_output(map, data, size, flags) */
function ringbufOutput(vm: Vm): void {
  const ring = ringbufArg(vm, 1, "bpf_ringbuf_output");
  const r = vm.regs;
  setResultSigned(vm, ring.output(r[4]!, r[5]!, r[6]! >>> 0, r[8]!, r[9]!));
}

/** bpf_ringbuf_reserve(map, size, flags): the sample's address or NULL. */
function ringbufReserve(vm: Vm): void {
  const ring = ringbufArg(vm, 1, "bpf_ringbuf_reserve");
  const r = vm.regs;
  setAddressResult(vm, ring.bpfReserve(r[4]!, r[5]!, r[6]!, r[7]!));
}

/** bpf_ringbuf_submit(data, flags) and bpf_ringbuf_discard(data, flags) */
function ringbufCommit(discard: boolean) {
  const helper = discard ? "bpf_ringbuf_discard" : "bpf_ringbuf_submit";
  return (vm: Vm): void => {
    const r = vm.regs;
    const ring = ringbufOfSample(vm.memory, r[2]!, r[3]!);
    if (ring === undefined) throw helperFault(vm, helper, "r1 is not a ring buffer record");
    ring.commit(r[2]! >>> 0, r[4]!, discard);
    setResult(vm, 0, 0);
  };
}

/** bpf_ringbuf_query(map, flags) */
function ringbufQuery(vm: Vm): void {
  const ring = ringbufArg(vm, 1, "bpf_ringbuf_query");
  setU64Result(vm, ring.query(vm.regs[4]!, vm.regs[5]!));
}

export function registerOutputHelpers(table: HelperTable<HelperHost>): void {
  const F = BpfFunc;
  table
    .register(F.BPF_FUNC_perf_event_output, "bpf_perf_event_output", perfEventOutput)
    .register(F.BPF_FUNC_ringbuf_output, "bpf_ringbuf_output", ringbufOutput)
    .register(F.BPF_FUNC_ringbuf_reserve, "bpf_ringbuf_reserve", ringbufReserve)
    .register(F.BPF_FUNC_ringbuf_submit, "bpf_ringbuf_submit", ringbufCommit(false))
    .register(F.BPF_FUNC_ringbuf_discard, "bpf_ringbuf_discard", ringbufCommit(true))
    .register(F.BPF_FUNC_ringbuf_query, "bpf_ringbuf_query", ringbufQuery);
}
