// tcpconnect's output: each connection attempt with its addresses and ports, then the
// destinations counted in the kernel.
import { BpfObject, codec } from "../runtime/api/index.js";
import { ipv4, seconds, table } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export const CONNECT_EVENT = codec.struct({
  ts: codec.u64n,
  pid: codec.u32,
  uid: codec.u32,
  saddr: codec.u32,
  daddr: codec.u32,
  sport: codec.u16,
  dport: codec.u16,
  ret: codec.s32,
  comm: codec.cstring(16),
});

export type ConnectEvent = ReturnType<typeof CONNECT_EVENT.decode>;

export interface TcpconnectResult {
  events: ConnectEvent[];
  /** "a.b.c.d:port" -> attempts, from the kernel-side map */
  perPeer: Map<string, number>;
  lost: number;
}

const PEER = codec.struct({ daddr: codec.u32, dport: codec.u32 });
const SHOWN = 12;

export const tcpconnect: Sample<TcpconnectResult> = {
  name: "tcpconnect",
  title:
    "tcpconnect (tcp_v4_connect entry/return pairs: addresses and ports, perf events and a count per peer)",
  workload: "net",
  events: 500,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    const events: ConnectEvent[] = [];
    const perf = obj.perfBuffer("events", {
      codec: CONNECT_EVENT,
      onSample: (e) => void events.push(e),
    });
    obj.attachAll();
    return {
      collect: () => {
        perf.poll();
        const perPeer = new Map<string, number>();
        for (const [p, n] of obj.map("per_peer").typed(PEER, codec.u64n))
          perPeer.set(`${ipv4(p.daddr)}:${p.dport}`, n);
        return { events: [...events].sort((a, b) => a.ts - b.ts), perPeer, lost: perf.lost };
      },
      close: () => obj.close(),
    };
  },

  report({ events, perPeer }) {
    const rows = events
      .slice(0, SHOWN)
      .map((e) => [
        seconds(e.ts),
        e.pid,
        e.comm,
        `${ipv4(e.saddr)}:${e.sport}`,
        `${ipv4(e.daddr)}:${e.dport}`,
        e.ret,
      ]);
    const out = [table(["TIME(s)", "PID", "COMM", "SOURCE", "DESTINATION", "RET"], rows)];
    if (events.length > SHOWN) out.push(`... ${events.length - SHOWN} more connections`);
    const peers = [...perPeer].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    out.push(
      "",
      table(
        ["CONNECTS", "DESTINATION"],
        peers.map(([p, n]) => [n, p]),
      ),
    );
    return out.join("\n");
  },
};

mainIfRun(import.meta.url, tcpconnect);
