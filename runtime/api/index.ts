// tsbpf's loader API: libbpf's object, program, map and link, for the simulated kernel.
//
//   using obj = await BpfObject.open("opensnoop.bpf.c");
//   obj.load(new SimKernel({ seed: 1 }));
//   obj.attachAll();
//   const events = obj.perfBuffer("events", { codec, onSample: (e) => console.log(e) });
//   runWorkload(obj.kernel, "files", { events: 1000 });
//   for (const [key, count] of obj.map("counts").typed(codec.u32, codec.u64n)) ...
import "./dispose.js";

export { BpfObject, type GlobalVariable, type LoadOptions, type OpenOptions } from "./object.js";
export { BpfProgram, type ProgramStats } from "./program.js";
export { BpfMap, TypedMap, type MapEntry } from "./map.js";
export { BpfLink, type KprobeAttachMode, type KprobeLinkInfo } from "./link.js";
export type { KprobeOptions } from "./attach.js";
export { BpfError } from "./errors.js";
export { TracePipe, type TraceLine, type TracePipeOptions } from "./trace-pipe.js";
export { PerfBuffer, type PerfBufferEvent, type PerfBufferOptions } from "./perf-buffer.js";
export { RingBuffer, type RingBufferOptions } from "./ring-buffer.js";
export { EventConsumer } from "./consumer.js";
export { btfCodec, hexCodec, type BtfValue } from "./btf-codec.js";
export type { CompileSettings, ObjectInput } from "./source.js";

// What a program of this API is loaded into and driven by.
export { SimKernel, type SimKernelOptions } from "../kernel/kernel.js";
export {
  runWorkload,
  WORKLOADS,
  type WorkloadName,
  type WorkloadSummary,
} from "../kernel/workload.js";
export type { Engine } from "../bpf/engine.js";
export * as codec from "../maps/codec.js";
export type { Codec } from "../maps/codec.js";
