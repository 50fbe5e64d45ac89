// opensnoop's output: one line per open with its time, process, fd or error and path, read
// from the perf buffer as the program streamed them; then the files opened most.
import { BpfObject, codec } from "../runtime/api/index.js";
import { errnoName } from "../runtime/uapi/errno.js";
import { seconds, table } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export const OPEN_EVENT = codec.struct({
  ts: codec.u64n,
  pid: codec.u32,
  uid: codec.u32,
  ret: codec.s32,
  flags: codec.u32,
  comm: codec.cstring(16),
  fname: codec.cstring(64),
});

export type OpenEvent = ReturnType<typeof OPEN_EVENT.decode> & { cpu: number };

export interface OpensnoopResult {
  events: OpenEvent[];
  lost: number;
}

const SHOWN = 15;
const TOP = 8;

export const opensnoop: Sample<OpensnoopResult> = {
  name: "opensnoop",
  title: "opensnoop (do_sys_openat2 entry + return, events through bpf_perf_event_output)",
  workload: "files",
  events: 500,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    const events: OpenEvent[] = [];
    const perf = obj.perfBuffer("events", {
      codec: OPEN_EVENT,
      onSample: (e, cpu) => void events.push({ ...e, cpu }),
    });
    obj.attachAll();
    return {
      collect: () => {
        perf.poll();
        // Each CPU's ring is in order; across CPUs, order by time as opensnoop's reader would.
        return { events: [...events].sort((a, b) => a.ts - b.ts), lost: perf.lost };
      },
      close: () => obj.close(),
    };
  },

  report({ events, lost }) {
    const rows = events.slice(0, SHOWN).map((e) => {
      const failed = e.ret < 0;
      return [
        seconds(e.ts),
        e.pid,
        e.comm,
        failed ? -1 : e.ret,
        failed ? (errnoName(-e.ret) ?? -e.ret) : 0,
        e.fname,
      ];
    });
    const byPath = new Map<string, number>();
    for (const e of events) byPath.set(e.fname, (byPath.get(e.fname) ?? 0) + 1);
    const top = [...byPath].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP);
    const out = [table(["TIME(s)", "PID", "COMM", "FD", "ERR", "PATH"], rows)];
    if (events.length > SHOWN) out.push(`... ${events.length - SHOWN} more opens`);
    out.push("", `${events.length} opens, ${lost} lost; most opened:`);
    out.push(
      table(
        ["OPENS", "PATH"],
        top.map(([path, n]) => [n, path]),
      ),
    );
    return out.join("\n");
  },
};

mainIfRun(import.meta.url, opensnoop);
