// The simulated kernel's public face, for the bpf() facade, the loader, the helpers, the CLI and
// the samples.
export { SimKernel, versionCode, type SimKernelOptions } from "./kernel.js";
export { KernelCpu } from "./cpu.js";
export { KernelError, KernelTypeError, syscallResult } from "./error.js";
export { FdTable, FileKind, KernelFile, NR_OPEN_DEFAULT } from "./files.js";
export {
  BpfAttachment,
  traceCallBpf,
  type AttachableProg,
  type BpfCpuState,
  type BpfRunContext,
} from "./attach.js";
export {
  KPROBE_PMU_TYPE,
  PERF_PROBE_CONFIG_IS_RETPROBE,
  PerfEvent,
  PerfLink,
  type PerfEventAttr,
} from "./perf.js";
export { PerfRing, decodeRecord, type PerfRecord } from "./perf-ring.js";
export { KprobeEvent, BPF_TRACE_MAX_PROGS } from "./kprobes.js";
export { TraceBuffer, type TraceEntry } from "./trace.js";
export { Kallsyms, KERNEL_TEXT_HI, type KernelSymbol } from "./kallsyms.js";
export { KernelFunction, type KArg, type KernelFunctionSpec } from "./functions.js";
export { KObject, kptr, NULL, type Ptr } from "./objects.js";
export { Task, Process, TaskTable } from "./tasks.js";
export { UserMemory, isUserAddress } from "./user.js";
export { KernelClock, lo32, hi32, join64 } from "./clock.js";
export { Prng } from "./random.js";
export { NR } from "./syscalls.js";
export {
  runWorkload,
  WORKLOADS,
  type WorkloadName,
  type WorkloadOptions,
  type WorkloadSummary,
} from "./workload.js";
export { kernelTypes, kernelStruct, defineKernelTypes } from "./vmlinux.js";
export { writeVmlinuxHeader } from "./header.js";
export { TypeRegistry, type CType, type RecordType } from "./ctypes.js";
export { sizeOf, alignOf, layoutRecord, fieldOf, allFields, type FieldInfo } from "./layout.js";
