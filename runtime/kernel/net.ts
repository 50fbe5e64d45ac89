// Networking: two devices (lo and eth0), TCP sockets whose struct sock carries real addresses and
// ports in __sk_common, and sk_buffs holding real Ethernet/IPv4/TCP headers. The call chains are
// the kernel's:
//
//   socket  -> __sys_socket                    (struct socket, tcp_sock, file, fd)
//   connect -> __sys_connect -> inet_stream_connect -> tcp_v4_connect -> tcp_set_state,
//              ip_queue_xmit -> dev_queue_xmit  (then the SYN-ACK arrives in a softirq)
//   sendto / write on a socket -> sock_sendmsg -> tcp_sendmsg -> ip_queue_xmit -> dev_queue_xmit
//   close (last reference) -> tcp_close -> tcp_set_state ...
//   receive (softirq) -> netif_receive_skb -> __netif_receive_skb -> ip_rcv -> tcp_v4_rcv
//              -> consume_skb, or kfree_skb_reason(skb, reason) when nobody wants it
//
// Transmitted skbs are freed with consume_skb when the device is done (on lo, after being
// received again: loopback traffic goes through the receive path, as in the kernel).
import type { SimKernel } from "./kernel.js";
import type { KArg } from "./functions.js";
import { KObject, kptr, type Ptr } from "./objects.js";
import { asInt, asU32, asU64, defineSyscall, NR } from "./syscalls.js";
import type { Task } from "./tasks.js";

export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const IPPROTO_TCP = 6;
export const ETH_P_IP = 0x0800;
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_OTHERHOST = 3;
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_FIN_WAIT1 = 4;
export const TCP_CLOSE = 7;
export const SS_UNCONNECTED = 1;
export const SS_CONNECTING = 2;
export const SS_CONNECTED = 3;
/** enum skb_drop_reason values used (Linux 6.1 order) */
export const SKB_DROP_REASON = {
  NOT_SPECIFIED: 1,
  NO_SOCKET: 2,
  PKT_TOO_SMALL: 3,
  TCP_CSUM: 4,
  NETFILTER_DROP: 7,
  OTHERHOST: 8,
} as const;
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_RUNNING = 0x40;
const IFF_MULTICAST = 0x1000;
const NET_SKB_PAD = 64;
const SKB_SHARED_INFO = 320;
const ETH_HLEN = 14;
const TCP_FLAG = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** An IPv4 address "a.b.c.d" as its four bytes' number in network order read little-endian. */
export function ipv4(text: string): number {
  const [a, b, c, d] = text.split(".").map(Number);
  return (a! | (b! << 8) | (c! << 16) | (d! << 24)) >>> 0;
}
/** The "a.b.c.d" of such a number. */
export function ipv4Text(be: number): string {
  return [be & 0xff, (be >>> 8) & 0xff, (be >>> 16) & 0xff, be >>> 24].join(".");
}
/** htons() as the u16 value a little-endian load of the big-endian field gives. */
export const htons = (port: number): number => ((port & 0xff) << 8) | ((port >>> 8) & 0xff);

export class NetDevice {
  readonly obj: KObject;
  rxPackets = 0;
  txPackets = 0;
  rxBytes = 0;
  txBytes = 0;
  constructor(
    kernel: SimKernel,
    readonly name: string,
    readonly ifindex: number,
    readonly mtu: number,
    readonly address: number,
    mac: number[],
    flags: number,
  ) {
    this.obj = kernel.newObject("net_device");
    const macAt = kernel.kmalloc.alloc(32);
    kernel.memory.u8.set(mac, macAt);
    this.obj
      .setString("name", name)
      .set("flags", flags)
      .set("ifindex", ifindex)
      .set("mtu", mtu)
      .set("min_mtu", 68)
      .set("max_mtu", 65535)
      .set("type", ifindex === 1 ? 772 : 1) // ARPHRD_LOOPBACK / ARPHRD_ETHER
      .set("hard_header_len", ETH_HLEN)
      .set("addr_len", 6)
      .set("dev_addr", kptr(macAt))
      .set("num_rx_queues", 1)
      .set("real_num_rx_queues", 1);
    kernel.memory.u8.set(mac, this.obj.at("perm_addr"));
  }

  count(rx: boolean, bytes: number): void {
    if (rx) {
      this.rxPackets++;
      this.rxBytes += bytes;
      this.obj.set("stats.rx_packets", this.rxPackets).set("stats.rx_bytes", this.rxBytes);
    } else {
      this.txPackets++;
      this.txBytes += bytes;
      this.obj.set("stats.tx_packets", this.txPackets).set("stats.tx_bytes", this.txBytes);
    }
  }
}

export class Socket {
  /** struct tcp_sock (whose first member chain is struct sock) */
  readonly tcp: KObject;
  /** the same object seen as struct sock */
  readonly sk: KObject;
  readonly socketObj: KObject;
  state = TCP_CLOSE;
  saddr = 0;
  daddr = 0;
  sport = 0;
  dport = 0;
  dev: NetDevice | undefined;
  bytesSent = 0;
  bytesReceived = 0;
  closed = false;

  constructor(
    kernel: SimKernel,
    readonly owner: Task,
  ) {
    this.tcp = kernel.newObject("tcp_sock");
    this.sk = KObject.of(kernel.memory, "sock", this.tcp.offset);
    this.socketObj = kernel.newObject("socket");
    this.sk
      .set("__sk_common.skc_family", AF_INET)
      .set("__sk_common.skc_state", TCP_CLOSE)
      .set("__sk_common.skc_refcnt.refs.counter", 1)
      .set("sk_rcvbuf", 131072)
      .set("sk_sndbuf", 16384)
      .set("sk_type", SOCK_STREAM)
      .set("sk_protocol", IPPROTO_TCP)
      .set("sk_uid.val", owner.uid)
      .set("sk_socket", this.socketObj)
      .set("sk_gso_max_segs", 65535);
    this.tcp.set("snd_cwnd", 10).set("snd_ssthresh", 0x7fffffff).set("rcv_wnd", 65535);
    this.socketObj.set("state", SS_UNCONNECTED).set("type", SOCK_STREAM).set("sk", this.sk);
  }

  /** The 4-tuple as the receive path looks it up (local address/port first). */
  get key(): string {
    return `${this.saddr}:${this.sport}:${this.daddr}:${this.dport}`;
  }
}

/** A packet to deliver: addresses in network order numbers, ports in host order. */
export interface PacketSpec {
  dev: NetDevice;
  saddr: number;
  daddr: number;
  sport: number;
  dport: number;
  flags: number;
  payload: number;
  pktType?: number;
  /** drop with this reason instead of delivering (a checksum error, netfilter ...) */
  dropReason?: number;
}

export class Net {
  readonly lo: NetDevice;
  readonly eth0: NetDevice;
  readonly devices: NetDevice[];
  private readonly sockets = new Map<string, Socket>();
  private readonly skbs = new Map<number, { data: number; spec: PacketSpec }>();
  private nextPort = 32768;
  /** packets dropped, by reason */
  readonly drops = new Map<number, number>();
  connects = 0;
  refused = 0;
  /** the skb the current receive path carries (set by receive()) */
  private rxSpec: PacketSpec | undefined;

  constructor(private readonly kernel: SimKernel) {
    this.lo = new NetDevice(
      kernel,
      "lo",
      1,
      65536,
      ipv4("127.0.0.1"),
      [0, 0, 0, 0, 0, 0],
      IFF_UP | IFF_LOOPBACK | IFF_RUNNING,
    );
    this.eth0 = new NetDevice(
      kernel,
      "eth0",
      2,
      1500,
      ipv4("10.0.2.15"),
      [0x52, 0x54, 0x00, 0x12, 0x34, 0x56],
      IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST,
    );
    this.devices = [this.lo, this.eth0];
  }

  boot(): void {}

  /** The device a destination is routed through. */
  route(daddr: number): NetDevice {
    return (daddr & 0xff) === 127 ? this.lo : this.eth0;
  }

  /** inet_hash_connect(): the next ephemeral port. */
  ephemeralPort(): number {
    const port = this.nextPort;
    this.nextPort = this.nextPort >= 60999 ? 32768 : this.nextPort + 1;
    return port;
  }

  /** Live sockets (established or connecting). */
  liveSockets(): Socket[] {
    return [...this.sockets.values()];
  }

  /** Find the socket a packet is for (its destination is the socket's source). */
  lookup(spec: PacketSpec): Socket | undefined {
    return this.sockets.get(`${spec.daddr}:${spec.dport}:${spec.saddr}:${spec.sport}`);
  }

  setState(sock: Socket, state: number): void {
    this.kernel.call(this.kernel.fn("tcp_set_state"), [sock.sk, state]);
  }

  /** tcp_set_state()'s effect. */
  applyState(sock: Socket, state: number): void {
    sock.state = state;
    sock.sk.set("__sk_common.skc_state", state);
    if (state === TCP_ESTABLISHED) sock.socketObj.set("state", SS_CONNECTED);
    if (state === TCP_CLOSE) this.sockets.delete(sock.key);
    else this.sockets.set(sock.key, sock);
  }

  /** Address the socket (tcp_v4_connect's work). */
  bind(sock: Socket, daddr: number, dport: number): void {
    const dev = this.route(daddr);
    sock.dev = dev;
    sock.daddr = daddr;
    sock.dport = dport;
    sock.saddr = dev === this.lo ? ipv4("127.0.0.1") : dev.address;
    sock.sport = this.ephemeralPort();
    sock.sk
      .set("__sk_common.skc_daddr", daddr)
      .set("__sk_common.skc_rcv_saddr", sock.saddr)
      .set("__sk_common.skc_dport", htons(dport))
      .set("__sk_common.skc_num", sock.sport);
    sock.tcp
      .set("inet_conn.icsk_inet.inet_saddr", sock.saddr)
      .set("inet_conn.icsk_inet.inet_sport", htons(sock.sport))
      .set("snd_nxt", 1)
      .set("write_seq", 1);
  }

  /** __alloc_skb + headers: an skb for `spec`, data pointing at the IP header. */
  buildSkb(spec: PacketSpec, sock: Socket | undefined, rx: boolean): KObject {
    const k = this.kernel;
    const len = 20 + 20 + spec.payload; // IP + TCP + payload
    const dataSize = Math.min(NET_SKB_PAD + ETH_HLEN + len, 2048 + NET_SKB_PAD);
    const head = k.kmalloc.alloc(dataSize + SKB_SHARED_INFO);
    const mac = NET_SKB_PAD;
    const net = mac + ETH_HLEN;
    this.writeHeaders(head + mac, spec, len);
    const skb = k.newObject("sk_buff");
    skb
      .set("dev", spec.dev.obj)
      .set("sk", sock?.sk ?? null)
      .set("tstamp", k.clock.realtimeNs)
      .set("len", rx ? len : len + ETH_HLEN)
      .set("mac_len", ETH_HLEN)
      .set("pkt_type", spec.pktType ?? PACKET_HOST)
      .set("ip_summed", rx ? 1 : 3) // CHECKSUM_UNNECESSARY on receive, CHECKSUM_PARTIAL on send
      .set("skb_iif", rx ? spec.dev.ifindex : 0)
      .set("hash", (spec.saddr ^ spec.daddr ^ (spec.sport << 16) ^ spec.dport) >>> 0)
      .set("protocol", htons(ETH_P_IP))
      .set("mac_header", mac)
      .set("network_header", net)
      .set("transport_header", net + 20)
      .set("tail", Math.min(net + len, dataSize))
      .set("end", dataSize)
      .set("head", kptr(head))
      .set("data", kptr(head + (rx ? net : mac)))
      .set("truesize", dataSize + SKB_SHARED_INFO + 256)
      .set("users.refs.counter", 1);
    this.skbs.set(skb.lo, { data: head, spec });
    return skb;
  }

  /** Ethernet, IPv4 and TCP headers (and a payload prefix) at linear offset `at`. */
  private writeHeaders(at: number, spec: PacketSpec, ipLen: number): void {
    const u8 = this.kernel.memory.u8;
    const view = this.kernel.memory.view;
    const dstMac = spec.dev === this.lo ? [0, 0, 0, 0, 0, 0] : [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    u8.set(dstMac, at);
    u8.set([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02], at + 6);
    view.setUint16(at + 12, ETH_P_IP, false);
    const ip = at + ETH_HLEN;
    u8[ip] = 0x45;
    view.setUint16(ip + 2, Math.min(ipLen, 0xffff), false);
    view.setUint16(ip + 6, 0x4000, false); // don't fragment
    u8[ip + 8] = 64;
    u8[ip + 9] = IPPROTO_TCP;
    view.setUint32(ip + 12, spec.saddr, true);
    view.setUint32(ip + 16, spec.daddr, true);
    const tcp = ip + 20;
    view.setUint16(tcp, spec.sport, false);
    view.setUint16(tcp + 2, spec.dport, false);
    view.setUint32(tcp + 4, 1000, false);
    u8[tcp + 12] = 5 << 4;
    u8[tcp + 13] = spec.flags;
    view.setUint16(tcp + 14, 65535, false);
  }

  /** Free an skb and its data (what kfree_skb_reason and consume_skb end in). */
  freeSkb(skb: Ptr): void {
    const entry = this.skbs.get(skb.lo);
    if (entry === undefined) return;
    this.skbs.delete(skb.lo);
    this.kernel.kmalloc.free(entry.data);
    this.kernel.freeObject(KObject.of(this.kernel.memory, "sk_buff", skb.lo >>> 0));
  }

  /** What an skb in flight is. */
  specOf(skb: KArg): PacketSpec | undefined {
    return skb !== null && typeof skb === "object" ? this.skbs.get(skb.lo)?.spec : undefined;
  }

  /**
   * A packet arrives on `spec.dev`: in a softirq on the CPU its flow hashes to (RSS), through
   * netif_receive_skb(). Returns what happened to it.
   */
  receive(spec: PacketSpec): "delivered" | "dropped" {
    const k = this.kernel;
    const cpu = ((spec.saddr ^ spec.sport ^ spec.dport) >>> 0) % k.cpus.length;
    spec.dev.count(true, 40 + spec.payload);
    return k.interrupt(cpu, "softirq", () => {
      const skb = this.buildSkb(spec, undefined, true);
      const before = this.dropCount();
      this.rxSpec = spec;
      k.call(k.fn("netif_receive_skb"), [skb]);
      this.rxSpec = undefined;
      return this.dropCount() > before ? "dropped" : "delivered";
    });
  }

  private dropCount(): number {
    let n = 0;
    for (const v of this.drops.values()) n += v;
    return n;
  }

  /** Transmit an skb for `sock` (ip_queue_xmit -> dev_queue_xmit). */
  transmit(sock: Socket, flags: number, payload: number): void {
    const k = this.kernel;
    const spec: PacketSpec = {
      dev: sock.dev ?? this.eth0,
      saddr: sock.saddr,
      daddr: sock.daddr,
      sport: sock.sport,
      dport: sock.dport,
      flags,
      payload,
    };
    const skb = this.buildSkb(spec, sock, false);
    k.call(k.fn("ip_queue_xmit"), [sock.sk, skb, null]);
  }

  /** The socket's file was released: close the connection, free the objects. */
  releaseSocket(sock: Socket): void {
    const k = this.kernel;
    if (!sock.closed) k.call(k.fn("tcp_close"), [sock.sk, 0]);
    this.byAddress.delete(sock.sk.lo);
    this.byAddress.delete(sock.socketObj.lo);
    k.freeObject(sock.socketObj);
    k.freeObject(sock.tcp);
  }

  /** read() on a socket: what has arrived (the simulation delivers nothing to read: EAGAIN). */
  socketRead(_sock: Socket, _buf: Ptr, _count: number): number {
    return -11;
  }

  /** write() on a socket: sock_sendmsg with a msghdr over the user buffer. */
  socketWrite(sock: Socket, buf: Ptr, count: number): number {
    const k = this.kernel;
    const msg = this.msghdr(buf, count);
    return k.call(k.fn("sock_sendmsg"), [sock.socketObj, msg]) as number;
  }

  /** A struct msghdr on the stack whose iov_iter covers `count` bytes at the user buffer. */
  msghdr(buf: Ptr, count: number): KObject {
    const msg = this.kernel.stackObject("msghdr");
    msg
      .set("msg_iter.iter_type", 6) // ITER_UBUF
      .set("msg_iter.data_source", 1)
      .set("msg_iter.user_backed", 1)
      .set("msg_iter.count", count)
      .set("msg_iter.ubuf", buf)
      .set("msg_iter.nr_segs", 1);
    return msg;
  }

  /** The socket behind a struct sock or struct socket pointer. */
  socketAt(p: KArg | undefined): Socket | undefined {
    if (p === null || p === undefined || typeof p !== "object") return undefined;
    return this.byAddress.get(p.lo);
  }

  /** every socket by the low words of its struct sock and struct socket */
  private readonly byAddress = new Map<number, Socket>();

  /** A socket exists from sock_create to its release. */
  register(sock: Socket): void {
    this.byAddress.set(sock.sk.lo, sock);
    this.byAddress.set(sock.socketObj.lo, sock);
  }

  /** The receive path's decision for the packet in `skb`. */
  deliver(skb: KArg): void {
    const k = this.kernel;
    const spec = this.specOf(skb) ?? this.rxSpec;
    let reason = spec?.dropReason;
    if (reason === undefined && spec !== undefined && spec.pktType === PACKET_OTHERHOST)
      reason = SKB_DROP_REASON.OTHERHOST;
    const sock = spec ? this.lookup(spec) : undefined;
    const listener = spec !== undefined && LISTENING.has(`${ipv4Text(spec.daddr)}:${spec.dport}`);
    if (reason === undefined && sock === undefined && !listener) reason = SKB_DROP_REASON.NO_SOCKET;
    if (reason !== undefined) {
      this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
      k.call(k.fn("kfree_skb_reason"), [skb, reason]);
      return;
    }
    if (sock && spec) {
      sock.bytesReceived += spec.payload;
      sock.tcp
        .set("bytes_received", sock.bytesReceived)
        .set("rcv_nxt", (1 + sock.bytesReceived) >>> 0);
      if (sock.state === TCP_SYN_SENT && (spec.flags & TCP_FLAG.SYN) !== 0)
        this.setState(sock, TCP_ESTABLISHED);
    }
    k.call(k.fn("consume_skb"), [skb]);
  }
}

export function registerNet(k: SimKernel): void {
  const def = k.defineFunction.bind(k);
  def({
    proto: "struct sk_buff *__alloc_skb(unsigned int size, gfp_t gfp_mask, int flags, int node)",
    cost: 150,
    size: 0x1e0,
    body: () => null, // allocations go through Net.buildSkb; kept for kallsyms completeness
  });
  def({
    proto: "void kfree_skb_reason(struct sk_buff *skb, enum skb_drop_reason reason)",
    cost: 120,
    size: 0xb0,
    body: (kernel, args) => {
      kernel.net.freeSkb(args[0] as Ptr);
      return null;
    },
  });
  def({
    proto: "void consume_skb(struct sk_buff *skb)",
    cost: 100,
    size: 0x90,
    body: (kernel, args) => {
      kernel.net.freeSkb(args[0] as Ptr);
      return null;
    },
  });
  def({
    proto: "int netif_receive_skb(struct sk_buff *skb)",
    cost: 150,
    size: 0x40,
    body: (kernel, args) => kernel.call(kernel.fn("__netif_receive_skb"), [args[0]!]),
  });
  def({
    proto: "int __netif_receive_skb(struct sk_buff *skb)",
    cost: 300,
    size: 0x60,
    body: (kernel, args) => {
      const spec = kernel.net.specOf(args[0]);
      return kernel.call(kernel.fn("ip_rcv"), [
        args[0]!,
        spec?.dev.obj ?? null,
        null,
        spec?.dev.obj ?? null,
      ]);
    },
  });
  def({
    proto:
      "int ip_rcv(struct sk_buff *skb, struct net_device *dev, struct packet_type *pt, struct net_device *orig_dev)",
    cost: 400,
    size: 0xd0,
    body: (kernel, args) => {
      const spec = kernel.net.specOf(args[0]);
      if (spec?.dropReason !== undefined || spec?.pktType === PACKET_OTHERHOST) {
        kernel.net.deliver(args[0]!);
        return 1; // NET_RX_DROP
      }
      return kernel.call(kernel.fn("tcp_v4_rcv"), [args[0]!]);
    },
  });
  def({
    proto: "int tcp_v4_rcv(struct sk_buff *skb)",
    cost: 900,
    size: 0xf60,
    body: (kernel, args) => {
      kernel.net.deliver(args[0]!);
      return 0;
    },
  });
  def({
    proto: "int ip_queue_xmit(struct sock *sk, struct sk_buff *skb, struct flowi *fl)",
    cost: 500,
    size: 0x20,
    body: (kernel, args) => kernel.call(kernel.fn("dev_queue_xmit"), [args[1]!]),
  });
  def({
    proto: "int dev_queue_xmit(struct sk_buff *skb)",
    cost: 700,
    size: 0x20,
    body: (kernel, args) => transmitDone(kernel, args[0]!),
  });
  def({
    proto: "void tcp_set_state(struct sock *sk, int state)",
    cost: 60,
    size: 0x1a0,
    body: (kernel, args) => {
      const sock = kernel.net.socketAt(args[0]);
      if (sock) kernel.net.applyState(sock, args[1] as number);
      return null;
    },
  });
  def({
    proto: "int tcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)",
    cost: 3_000,
    size: 0x5a0,
    body: (kernel, args) => tcpV4Connect(kernel, args),
  });
  def({
    proto:
      "int inet_stream_connect(struct socket *sock, struct sockaddr *uaddr, int addr_len, int flags)",
    cost: 300,
    size: 0x60,
    body: (kernel, args) => inetStreamConnect(kernel, args),
  });
  def({
    proto: "int tcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)",
    cost: 1_500,
    size: 0x50,
    body: (kernel, args) => tcpSendmsg(kernel, args),
  });
  def({
    proto: "int inet_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)",
    cost: 100,
    size: 0x60,
    body: (kernel, args) => {
      const sock = kernel.net.socketAt(args[0]);
      if (sock === undefined) return -88; // -ENOTSOCK
      return kernel.call(kernel.fn("tcp_sendmsg"), [sock.sk, args[1]!, args[2]!]);
    },
  });
  def({
    proto: "int sock_sendmsg(struct socket *sock, struct msghdr *msg)",
    cost: 100,
    size: 0x50,
    body: (kernel, args) => {
      const msg = args[1] as Ptr;
      const count = KObject.of(kernel.memory, "msghdr", msg.lo >>> 0).get("msg_iter.count");
      return kernel.call(kernel.fn("inet_sendmsg"), [args[0]!, msg, count]);
    },
  });
  def({
    proto: "void tcp_close(struct sock *sk, long timeout)",
    cost: 2_000,
    size: 0x80,
    body: (kernel, args) => {
      const net = kernel.net;
      const sock = net.socketAt(args[0]);
      if (sock === undefined || sock.closed) return null;
      sock.closed = true;
      if (sock.state === TCP_ESTABLISHED) {
        net.setState(sock, TCP_FIN_WAIT1);
        net.transmit(sock, TCP_FLAG.FIN | TCP_FLAG.ACK, 0);
      }
      net.setState(sock, TCP_CLOSE);
      return null;
    },
  });
  def({
    proto: "int __sys_socket(int family, int type, int protocol)",
    cost: 2_500,
    size: 0x110,
    body: (kernel, args) => {
      if (args[0] !== AF_INET || ((args[1] as number) & 0xf) !== SOCK_STREAM) return -97; // -EAFNOSUPPORT
      const task = kernel.current();
      const sock = new Socket(kernel, task);
      const file = kernel.vfs.socketFile(sock);
      kernel.net.register(sock);
      return task.process.installFile(file);
    },
  });
  def({
    proto: "int __sys_connect(int fd, struct sockaddr __user *uservaddr, int addrlen)",
    cost: 200,
    size: 0x100,
    body: (kernel, args) => {
      const open = kernel.current().process.files.get(args[0] as number)?.privateData as
        { socket?: Socket } | undefined;
      if (open?.socket === undefined) return -88;
      const addr = kernel.stackObject("sockaddr_in");
      const bytes = kernel.current().process.user?.read(args[1] as Ptr, 16);
      if (bytes === undefined) return -14;
      kernel.memory.u8.set(bytes, addr.offset);
      return kernel.call(kernel.fn("inet_stream_connect"), [
        open.socket.socketObj,
        addr,
        args[2]!,
        0,
      ]);
    },
  });
  def({
    proto:
      "int __sys_sendto(int fd, void __user *buff, size_t len, unsigned int flags, struct sockaddr __user *addr, int addr_len)",
    cost: 200,
    size: 0x160,
    body: (kernel, args) => {
      const open = kernel.current().process.files.get(args[0] as number)?.privateData as
        { socket?: Socket } | undefined;
      if (open?.socket === undefined) return -88;
      const msg = kernel.net.msghdr(args[1] as Ptr, args[2] as number);
      return kernel.call(kernel.fn("sock_sendmsg"), [open.socket.socketObj, msg]);
    },
  });
  defineSyscall(k, NR.socket, "socket", (kernel, r) =>
    kernel.call(kernel.fn("__sys_socket"), [asInt(r[0]!), asInt(r[1]!), asInt(r[2]!)]),
  );
  defineSyscall(k, NR.connect, "connect", (kernel, r) =>
    kernel.call(kernel.fn("__sys_connect"), [asInt(r[0]!), r[1]!, asInt(r[2]!)]),
  );
  defineSyscall(k, NR.sendto, "sendto", (kernel, r) =>
    kernel.call(kernel.fn("__sys_sendto"), [
      asInt(r[0]!),
      r[1]!,
      asU64(r[2]!),
      asU32(r[3]!),
      r[4]!,
      asInt(r[5]!),
    ]),
  );
}

function tcpV4Connect(kernel: SimKernel, args: readonly KArg[]): KArg {
  const net = kernel.net;
  const sock = net.socketAt(args[0]);
  if (sock === undefined) return -22;
  const addr = KObject.of(kernel.memory, "sockaddr_in", (args[1] as Ptr).lo >>> 0);
  if ((args[2] as number) < 16) return -22;
  if (addr.get("sin_family") !== AF_INET) return -97;
  const port = htons(addr.get("sin_port"));
  net.bind(sock, addr.get("sin_addr.s_addr"), port);
  net.setState(sock, TCP_SYN_SENT);
  net.transmit(sock, TCP_FLAG.SYN, 0);
  return 0;
}

/** Local services whose listening sockets take what arrives for them (not simulated as sockets). */
const LISTENING = new Set([
  "127.0.0.1:8080",
  "127.0.0.1:5432",
  "127.0.0.1:6379",
  "10.0.2.15:22",
  "10.0.2.15:80",
]);

/** The peers that refuse connections (nothing listens there). */
const REFUSING_PORTS = new Set([9, 8081]);

function inetStreamConnect(kernel: SimKernel, args: readonly KArg[]): KArg {
  const net = kernel.net;
  const sock = net.socketAt(args[0]);
  if (sock === undefined) return -88;
  sock.socketObj.set("state", SS_CONNECTING);
  const err = kernel.call(kernel.fn("tcp_v4_connect"), [sock.sk, args[1]!, args[2]!]) as number;
  if (err !== 0) return err;
  net.connects++;
  // One round trip later the peer answers, in a softirq of the receiving CPU.
  kernel.clock.advance(sock.dev === net.lo ? 20_000 : 300_000);
  const refused = REFUSING_PORTS.has(sock.dport);
  net.receive({
    dev: sock.dev!,
    saddr: sock.daddr,
    daddr: sock.saddr,
    sport: sock.dport,
    dport: sock.sport,
    flags: refused ? TCP_FLAG.RST | TCP_FLAG.ACK : TCP_FLAG.SYN | TCP_FLAG.ACK,
    payload: 0,
  });
  if (refused) {
    net.refused++;
    net.setState(sock, TCP_CLOSE);
    sock.socketObj.set("state", SS_UNCONNECTED);
    return -111; // -ECONNREFUSED
  }
  return 0;
}

function tcpSendmsg(kernel: SimKernel, args: readonly KArg[]): KArg {
  const net = kernel.net;
  const sock = net.socketAt(args[0]);
  const size = args[2] as number;
  if (sock === undefined || sock.state !== TCP_ESTABLISHED) return -32; // -EPIPE
  const msg = KObject.of(kernel.memory, "msghdr", (args[1] as Ptr).lo >>> 0);
  const buf = msg.ptr("msg_iter.ubuf");
  if (
    size > 0 &&
    kernel.current().process.user?.translate(buf.lo, buf.hi, Math.min(size, 256)) === -1
  )
    return -14;
  // TSO: one skb per 64 KiB.
  for (let sent = 0; sent < size || (size === 0 && sent === 0); sent += 65536) {
    net.transmit(sock, TCP_FLAG.PSH | TCP_FLAG.ACK, Math.min(65536, size - sent));
    if (size === 0) break;
  }
  sock.bytesSent += size;
  sock.tcp
    .set("bytes_sent", sock.bytesSent)
    .set("bytes_acked", sock.bytesSent)
    .set("snd_nxt", (1 + sock.bytesSent) >>> 0)
    .set("snd_una", (1 + sock.bytesSent) >>> 0)
    .set("srtt_us", sock.dev === net.lo ? 8 * 20 : 8 * 300)
    .set("segs_out", sock.tcp.get("segs_out") + Math.max(1, Math.ceil(size / 1448)));
  kernel.clock.advance(size / 2);
  return size;
}

/** The device sent the skb; on lo it comes back in through the receive path. */
function transmitDone(kernel: SimKernel, skb: KArg): KArg {
  const net = kernel.net;
  const spec = net.specOf(skb);
  if (spec === undefined) return 0;
  spec.dev.count(false, 54 + spec.payload);
  if (spec.dev === net.lo) {
    // loopback_xmit: the same packet is received on lo (netif_rx), a new skb there.
    net.receive({ ...spec, dropReason: undefined });
  }
  kernel.call(kernel.fn("consume_skb"), [skb]);
  return 0;
}
