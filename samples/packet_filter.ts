// The packet filter's driver: every packet the kernel received on the loopback device, as the
// program printed it to trace_pipe.
import { BpfObject, type TraceLine } from "../runtime/api/index.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export interface PacketFilterResult {
  /** the program's trace_pipe lines, in order */
  lines: TraceLine[];
  /** netif_receive_skb calls the program saw (every device) */
  received: number;
}

const SHOWN = 12;

export const packetFilter: Sample<PacketFilterResult> = {
  name: "packet_filter",
  title:
    "packet filter: packets received on lo (kprobe netif_receive_skb, skb->dev->name, bpf_trace_printk)",
  workload: "net",
  events: 400,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    const lines: TraceLine[] = [];
    obj.tracePipe({
      onLine: (line) => void (line.event === "bpf_trace_printk" && lines.push(line)),
    });
    const [link] = obj.attachAll();
    return {
      collect: () => ({ lines: [...lines], received: link!.runs }),
      close: () => obj.close(),
    };
  },

  report({ lines, received }) {
    const out = [`${lines.length} of ${received} received packets arrived on lo:`];
    out.push(...lines.slice(0, SHOWN).map((l) => l.line));
    if (lines.length > SHOWN) out.push(`... and ${lines.length - SHOWN} more`);
    return out.join("\n");
  },
};

mainIfRun(import.meta.url, packetFilter);
