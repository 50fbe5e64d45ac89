// bpf_map_lookup_elem, bpf_map_update_elem, bpf_map_delete_elem, bpf_map_lookup_percpu_elem:
// the kernel side of the maps (runtime/maps), on the CPU the program runs on. A lookup returns
// the value's address in the simulated address space, so the program reads and writes the map's
// own memory.
import { BpfFunc } from "../uapi/helpers.js";
import { setResultSigned, type HelperContext, type HelperTable } from "../vm/helpers.js";
import { mapArg, setAddressResult, type HelperHost } from "./host.js";

type Vm = HelperContext<HelperHost>;

function mapLookupElem(vm: Vm): void {
  const map = mapArg(vm, 1, "bpf_map_lookup_elem");
  const r = vm.regs;
  setAddressResult(vm, map.lookupElem(r[4]!, r[5]!, vm.host.cpu.id));
}

function mapUpdateElem(vm: Vm): void {
  const map = mapArg(vm, 1, "bpf_map_update_elem");
  const r = vm.regs;
  setResultSigned(vm, map.updateElem(r[4]!, r[5]!, r[6]!, r[7]!, r[8]!, r[9]!, vm.host.cpu.id));
}

function mapDeleteElem(vm: Vm): void {
  const map = mapArg(vm, 1, "bpf_map_delete_elem");
  const r = vm.regs;
  setResultSigned(vm, map.deleteElem(r[4]!, r[5]!, vm.host.cpu.id));
}

/** bpf_map_lookup_percpu_elem(map, key, cpu): NULL for a CPU that does not exist. */
function mapLookupPercpuElem(vm: Vm): void {
  const map = mapArg(vm, 1, "bpf_map_lookup_percpu_elem");
  const r = vm.regs;
  const cpu = r[6]! >>> 0;
  if (cpu >= vm.host.kernel.possibleCpus) {
    setAddressResult(vm, 0);
    return;
  }
  setAddressResult(vm, map.lookupPercpuElem(r[4]!, r[5]!, cpu));
}

export function registerMapHelpers(table: HelperTable<HelperHost>): void {
  const F = BpfFunc;
  table
    .register(F.BPF_FUNC_map_lookup_elem, "bpf_map_lookup_elem", mapLookupElem)
    .register(F.BPF_FUNC_map_update_elem, "bpf_map_update_elem", mapUpdateElem)
    .register(F.BPF_FUNC_map_delete_elem, "bpf_map_delete_elem", mapDeleteElem)
    .register(F.BPF_FUNC_map_lookup_percpu_elem, "bpf_map_lookup_percpu_elem", mapLookupPercpuElem);
}
