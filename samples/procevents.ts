// Process starts and exits as they came through the ring buffer, read with an async iterator:
// time, event, process, parent, exit code and lifetime.
import { BpfObject, codec } from "../runtime/api/index.js";
import { seconds, table } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export const PROCESS_EVENT = codec.struct({
  ts: codec.u64n,
  durationNs: codec.u64n,
  pid: codec.u32,
  ppid: codec.u32,
  exitCode: codec.u32,
  exitEvent: codec.u32,
  comm: codec.cstring(16),
});

export type ProcessEvent = ReturnType<typeof PROCESS_EVENT.decode>;

export interface ProceventsResult {
  events: ProcessEvent[];
}

const SHOWN = 20;

export const procevents: Sample<ProceventsResult> = {
  name: "procevents",
  title: "process starts and exits (wake_up_new_task, do_exit) through a BPF ring buffer",
  workload: "sched",
  events: 600,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    const ring = obj.ringBuffer("events", { codec: PROCESS_EVENT });
    const events: ProcessEvent[] = [];
    // The reader loop waits for records; it finishes once the ring buffer is closed.
    const reading = (async () => {
      for await (const e of ring) events.push(e);
    })();
    obj.attachAll();
    return {
      collect: async () => {
        ring.close(); // the loop takes what is left, then ends
        await reading;
        return { events };
      },
      close: () => obj.close(),
    };
  },

  report({ events }) {
    const rows = events
      .slice(0, SHOWN)
      .map((e) =>
        e.exitEvent
          ? [
              seconds(e.ts),
              "EXIT",
              e.comm,
              e.pid,
              e.ppid,
              exitText(e.exitCode),
              (e.durationNs / 1e6).toFixed(3),
            ]
          : [seconds(e.ts), "EXEC", e.comm, e.pid, e.ppid, "", ""],
      );
    const starts = events.filter((e) => !e.exitEvent).length;
    const out = [table(["TIME(s)", "EVENT", "COMM", "PID", "PPID", "EXIT", "LIFE ms"], rows)];
    if (events.length > SHOWN) out.push(`... ${events.length - SHOWN} more events`);
    out.push(`${starts} processes started, ${events.length - starts} exited`);
    return out.join("\n");
  },
};

/** A wait status as a shell shows it: "exit 1", "killed by signal 9". */
export function exitText(status: number): string {
  const signal = status & 0x7f;
  return signal === 0 ? `exit ${(status >> 8) & 0xff}` : `signal ${signal}`;
}

mainIfRun(import.meta.url, procevents);
