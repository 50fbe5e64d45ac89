// The "net" workload: processes opening TCP connections to web, database and cache peers (some
// refused), sending requests of many sizes, closing; and packets arriving on eth0 and lo:
// replies to live connections, traffic for local services, and junk the stack drops (no socket,
// bad checksum, another host's frames, netfilter).
import { ipv4, PACKET_OTHERHOST, SKB_DROP_REASON, TCP_ESTABLISHED, type Socket } from "./net.js";
import { NR } from "./syscalls.js";
import type { Task } from "./tasks.js";
import { deltas, type WorkloadContext } from "./workload.js";

interface OpenSocket {
  fd: number;
  peer: string;
  socket: Socket | undefined;
}

export interface NetState {
  counters: {
    connects: number;
    connectFailures: number;
    sends: number;
    sendBytes: number;
    closes: number;
    rxPackets: number;
    rxDropped: number;
  };
  connectsByPeer: Map<string, number>;
  socketsOf: Map<Task, OpenSocket[]>;
}

export function newNetState(): NetState {
  return {
    counters: {
      connects: 0,
      connectFailures: 0,
      sends: 0,
      sendBytes: 0,
      closes: 0,
      rxPackets: 0,
      rxDropped: 0,
    },
    connectsByPeer: new Map(),
    socketsOf: new Map(),
  };
}

const PEERS: [string, number, number][] = [
  ["93.184.216.34", 443, 10],
  ["140.82.112.3", 443, 6],
  ["151.101.1.69", 80, 5],
  ["192.168.1.10", 5432, 6],
  ["127.0.0.1", 8080, 5],
  ["127.0.0.1", 6379, 6],
  ["10.0.2.2", 9, 1],
  ["127.0.0.1", 8081, 1],
];

const NET_COMMS = new Set(["nginx", "postgres", "redis-server", "bash", "sshd", "cron"]);

export function netStep(ctx: WorkloadContext): void {
  const r = ctx.random;
  const s = ctx.net;
  const task = ctx.pickTask((t) => NET_COMMS.has(t.comm));
  const socks = s.socketsOf.get(task) ?? [];
  s.socketsOf.set(task, socks);
  const live = socks.filter((x) => x.socket?.state === TCP_ESTABLISHED);
  switch (
    r.weighted([
      socks.length >= 8 ? 0 : 15,
      live.length > 0 ? 30 : 0,
      socks.length > 0 ? 10 : 0,
      45,
    ])
  ) {
    case 0:
      return connect(ctx, task, socks);
    case 1: {
      const sock = r.pick(live);
      const size = r.logUniform(6, 16);
      const viaWrite = r.chance(1, 3);
      const n = viaWrite
        ? ctx.syscall(task, NR.write, "write", () => [sock.fd, ctx.userBuffer(task), size])
        : ctx.syscall(task, NR.sendto, "sendto", () => [
            sock.fd,
            ctx.userBuffer(task),
            size,
            0,
            null,
            0,
          ]);
      s.counters.sends++;
      if (n > 0) s.counters.sendBytes += n;
      return;
    }
    case 2: {
      const i = r.below(socks.length);
      ctx.syscall(task, NR.close, "close", () => [socks[i]!.fd]);
      socks.splice(i, 1);
      s.counters.closes++;
      return;
    }
    default:
      return receive(ctx);
  }
}

function connect(ctx: WorkloadContext, task: Task, socks: OpenSocket[]): void {
  const r = ctx.random;
  const s = ctx.net;
  const [addr, port] = PEERS[r.weighted(PEERS.map((p) => p[2]))]!;
  const fd = ctx.syscall(task, NR.socket, "socket", () => [2, 1, 0]);
  if (fd < 0) return;
  const sockaddr = new Uint8Array(16);
  const view = new DataView(sockaddr.buffer);
  view.setUint16(0, 2, true);
  view.setUint16(2, port, false);
  view.setUint32(4, ipv4(addr), true);
  const ret = ctx.syscall(task, NR.connect, "connect", () => [
    fd,
    task.process.pushUserBytes(sockaddr),
    16,
  ]);
  const peer = `${addr}:${port}`;
  s.connectsByPeer.set(peer, (s.connectsByPeer.get(peer) ?? 0) + 1);
  const socket = (task.process.files.get(fd)?.privateData as { socket?: Socket } | undefined)
    ?.socket;
  if (ret === 0) {
    s.counters.connects++;
    socks.push({ fd, peer, socket });
  } else {
    s.counters.connectFailures++;
    ctx.syscall(task, NR.close, "close", () => [fd]);
  }
}

function receive(ctx: WorkloadContext): void {
  const r = ctx.random;
  const s = ctx.net;
  const net = ctx.kernel.net;
  const live = net.liveSockets().filter((x) => x.state === TCP_ESTABLISHED);
  const kind = r.weighted([live.length > 0 ? 55 : 0, 12, 15, 6, 6, 6]);
  s.counters.rxPackets++;
  const eth = net.eth0;
  let result: "delivered" | "dropped";
  if (kind === 0) {
    const sock = r.pick(live);
    result = net.receive({
      dev: sock.dev ?? eth,
      saddr: sock.daddr,
      daddr: sock.saddr,
      sport: sock.dport,
      dport: sock.sport,
      flags: 0x10,
      payload: r.chance(1, 2) ? 0 : r.range(1, 1448),
    });
  } else if (kind === 1) {
    result = net.receive({
      dev: net.lo,
      saddr: ipv4("127.0.0.1"),
      daddr: ipv4("127.0.0.1"),
      sport: r.range(32768, 60999),
      dport: r.pick([8080, 5432, 6379]),
      flags: 0x18,
      payload: r.range(20, 600),
    });
  } else {
    const src = `${r.range(1, 223)}.${r.range(0, 255)}.${r.range(0, 255)}.${r.range(1, 254)}`;
    result = net.receive({
      dev: eth,
      saddr: ipv4(src),
      daddr: eth.address,
      sport: r.range(1024, 65535),
      dport: r.pick([23, 25, 3389, 445, 8443, 22, 80]),
      flags: 0x02,
      payload: 0,
      pktType: kind === 4 ? PACKET_OTHERHOST : undefined,
      dropReason:
        kind === 3
          ? SKB_DROP_REASON.TCP_CSUM
          : kind === 5
            ? SKB_DROP_REASON.NETFILTER_DROP
            : undefined,
    });
  }
  if (result === "dropped") s.counters.rxDropped++;
}

export function netSummary(ctx: WorkloadContext, before: NetState["counters"]) {
  const net = ctx.kernel.net;
  const connectsByPeer: Record<string, number> = {};
  for (const [p, n] of [...ctx.net.connectsByPeer].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    connectsByPeer[p] = n;
  ctx.net.connectsByPeer.clear();
  const devices: Record<
    string,
    { rxPackets: number; txPackets: number; rxBytes: number; txBytes: number }
  > = {};
  for (const d of net.devices) {
    devices[d.name] = {
      rxPackets: d.rxPackets,
      txPackets: d.txPackets,
      rxBytes: d.rxBytes,
      txBytes: d.txBytes,
    };
  }
  const drops: Record<string, number> = {};
  for (const [reason, n] of [...net.drops].sort((a, b) => a[0] - b[0])) drops[String(reason)] = n;
  // Device counters and drops by reason are totals since boot, as the kernel keeps them.
  return {
    ...deltas(ctx.net.counters, before),
    connectsByPeer,
    devicesTotal: devices,
    dropsByReasonTotal: drops,
  };
}
