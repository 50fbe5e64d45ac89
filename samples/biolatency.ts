// Block I/O latency as a histogram of microseconds, drawn as bcc's biolatency draws it.
import { BpfObject, codec } from "../runtime/api/index.js";
import { log2Histogram } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export interface BiolatencyResult {
  /** requests per log2 slot of their latency in microseconds */
  slots: number[];
  /** completions without a start seen */
  unmatched: number;
}

export const biolatency: Sample<BiolatencyResult> = {
  name: "biolatency",
  title: "block I/O latency (blk_mq_start_request -> blk_mq_end_request, log2 histogram of usecs)",
  workload: "disk",
  events: 600,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    obj.attachAll();
    return {
      collect: () => {
        const usecs = obj.map("usecs").typed(codec.u32, codec.u64n);
        const slots: number[] = [];
        for (const [slot, n] of usecs) slots[slot] = n;
        return { slots, unmatched: obj.readGlobal("unmatched") as number };
      },
      close: () => obj.close(),
    };
  },

  report({ slots, unmatched }) {
    const total = slots.reduce((a, b) => a + b, 0);
    const out = [`${total} requests completed`, log2Histogram(slots, "usecs")];
    if (unmatched > 0) out.push(`(${unmatched} completions had started before tracing began)`);
    return out.join("\n");
  },
};

mainIfRun(import.meta.url, biolatency);
