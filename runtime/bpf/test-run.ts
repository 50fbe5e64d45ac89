// BPF_PROG_TEST_RUN for the program types the kernel can run on demand:
//
//   socket filters (bpf_prog_test_run_skb): data_in is an Ethernet frame of 14 .. 3712 bytes;
//     the program sees a struct __sk_buff whose packet starts after the Ethernet header (as
//     eth_type_trans leaves it: len, protocol, pkt_type, ifindex 1 of the loopback device),
//     ctx_in may set mark, priority, ingress_ifindex, ifindex, cb[], tstamp, wire_len,
//     gso_segs, gso_size and hwtstamp; data_out gets the packet back with the Ethernet header
//     zeroed, ENOSPC when data_out is too short for it.
//   raw tracepoints (bpf_prog_test_run_raw_tp): ctx_in is the u64 argument array (at most 12);
//     no data, no repeat.
// Kprobe, tracepoint and perf_event programs cannot be test-run: -ENOTSUPP, as in the kernel.
import { BPF_F_TEST_RUN_ON_CPU, BpfCmd, BpfProgType, progTypeName } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import type { AddressSpace, Region } from "../vm/memory.js";
import type { ProgTestRunAttr, ProgTestRunResult } from "./attr.js";
import { BpfSyscallError } from "./error.js";
import type { BpfProgObject } from "./objects.js";

const ETH_HLEN = 14;
/** PAGE_SIZE - NET_SKB_PAD - SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86_64. */
const MAX_SKB_TEST_SIZE = 4096 - 64 - 320;
/** sizeof(struct __sk_buff) */
export const SK_BUFF_CTX_SIZE = 192;
/** MAX_BPF_FUNC_ARGS u64s of a raw tracepoint's arguments */
const MAX_RAW_TP_CTX = 12 * 8;

/** struct __sk_buff offsets (linux/bpf.h). */
export const SkBuff = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48,
  hash: 68,
  tc_classid: 72,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  gso_size: 176,
  hwtstamp: 184,
} as const;

/** The __sk_buff bytes ctx_in may set (convert___skb_to_skb). */
const SETTABLE: readonly [number, number][] = [
  [SkBuff.mark, 4],
  [SkBuff.priority, 4],
  [SkBuff.ingress_ifindex, 4],
  [SkBuff.ifindex, 4],
  [SkBuff.cb, 20],
  [SkBuff.tstamp, 8],
  [SkBuff.wire_len, 4],
  [SkBuff.gso_segs, 4],
  [SkBuff.gso_size, 4],
  [SkBuff.hwtstamp, 8],
];

const PACKET_HOST = 0;
const PACKET_MULTICAST = 2;
const PACKET_OTHERHOST = 3;
const LOOPBACK_IFINDEX = 1;

/** What a test run needs from the facade. */
export interface TestRunContext {
  readonly memory: AddressSpace;
  readonly cpus: number;
  /** The CPU syscalls run on. */
  readonly syscallCpu: number;
  /** Run `prog` on `cpu` with r1 = ctx (and a packet for ld_abs); r0's low word. */
  run(prog: BpfProgObject, cpu: number, ctx: Region, packet?: Region): number;
}

const fail = (errno: number, reason: string): BpfSyscallError =>
  new BpfSyscallError(errno, BpfCmd.BPF_PROG_TEST_RUN, reason);

export function progTestRun(
  ctx: TestRunContext,
  prog: BpfProgObject,
  attr: ProgTestRunAttr,
): ProgTestRunResult {
  switch (prog.progType) {
    case BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER:
      return testRunSkb(ctx, prog, attr);
    case BpfProgType.BPF_PROG_TYPE_RAW_TRACEPOINT:
    case BpfProgType.BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
      return testRunRawTp(ctx, prog, attr);
    default:
      throw fail(
        Errno.ENOTSUPP,
        `${progTypeName(prog.progType) ?? prog.progType} programs cannot be test-run`,
      );
  }
}

function testRunSkb(
  ctx: TestRunContext,
  prog: BpfProgObject,
  attr: ProgTestRunAttr,
): ProgTestRunResult {
  if ((attr.flags ?? 0) !== 0 || (attr.cpu ?? 0) !== 0)
    throw fail(Errno.EINVAL, "socket filter test runs take no flags or cpu");
  const data = attr.dataIn ?? new Uint8Array(0);
  if (data.length < ETH_HLEN || data.length > MAX_SKB_TEST_SIZE)
    throw fail(
      Errno.EINVAL,
      `data_in of ${data.length} bytes: a frame has ${ETH_HLEN}..${MAX_SKB_TEST_SIZE}`,
    );
  const skb = skbContext(data, attr.ctxIn);
  const memory = ctx.memory;
  const ctxRegion = memory.alloc(SK_BUFF_CTX_SIZE, { name: "test_run __sk_buff", kind: "ctx" });
  const packet = memory.alloc(data.length - ETH_HLEN, {
    name: "test_run packet",
    kind: "packet",
    writable: false,
  });
  try {
    memory.u8.set(skb, ctxRegion.base);
    memory.u8.set(data.subarray(ETH_HLEN), packet.base);
    const retval = runRepeated(ctx, prog, attr.repeat, ctxRegion, packet);
    const out = new Uint8Array(data.length);
    out.set(memory.u8.subarray(packet.base, packet.base + packet.size), ETH_HLEN);
    if (attr.ctxOut !== undefined)
      attr.ctxOut.set(
        memory.u8.subarray(
          ctxRegion.base,
          ctxRegion.base + Math.min(SK_BUFF_CTX_SIZE, attr.ctxOut.length),
        ),
      );
    if (attr.dataOut !== undefined) {
      attr.dataOut.set(out.subarray(0, Math.min(out.length, attr.dataOut.length)));
      if (attr.dataOut.length < out.length)
        throw fail(
          Errno.ENOSPC,
          `data_out holds ${attr.dataOut.length} of the ${out.length} packet bytes`,
        );
    }
    return {
      retval,
      duration: 0,
      dataSizeOut: out.length,
      ctxSizeOut: attr.ctxOut ? SK_BUFF_CTX_SIZE : 0,
    };
  } finally {
    memory.free(ctxRegion);
    memory.free(packet);
  }
}

/** The __sk_buff a socket filter sees for `frame`, with the fields ctx_in may set. */
function skbContext(frame: Uint8Array, ctxIn: Uint8Array | undefined): Uint8Array {
  const skb = new Uint8Array(SK_BUFF_CTX_SIZE);
  if (ctxIn !== undefined) {
    if (ctxIn.length > SK_BUFF_CTX_SIZE && ctxIn.subarray(SK_BUFF_CTX_SIZE).some((b) => b !== 0))
      throw fail(
        Errno.E2BIG,
        `ctx_in has non-zero bytes past sizeof(struct __sk_buff) = ${SK_BUFF_CTX_SIZE}`,
      );
    const given = ctxIn.subarray(0, SK_BUFF_CTX_SIZE);
    const settable = new Uint8Array(SK_BUFF_CTX_SIZE);
    for (const [at, size] of SETTABLE) settable.fill(1, at, at + size);
    for (let i = 0; i < given.length; i++) {
      if (given[i] !== 0 && !settable[i])
        throw fail(
          Errno.EINVAL,
          `ctx_in sets byte ${i} of struct __sk_buff, which a test run may not set`,
        );
    }
    skb.set(given);
  }
  const view = new DataView(skb.buffer);
  view.setUint32(SkBuff.len, frame.length - ETH_HLEN, true);
  view.setUint32(SkBuff.pkt_type, packetType(frame), true);
  view.setUint32(SkBuff.protocol, ethProtocol(frame), true);
  if (view.getUint32(SkBuff.ifindex, true) <= 1)
    view.setUint32(SkBuff.ifindex, LOOPBACK_IFINDEX, true);
  return skb;
}

/**
 * eth_type_trans()'s pkt_type on the loopback device, whose address and broadcast address are
 * both 00:00:00:00:00:00: so ff:ff:ff:ff:ff:ff is only multicast there, never PACKET_BROADCAST.
 */
function packetType(frame: Uint8Array): number {
  const dest = frame.subarray(0, 6);
  if (dest.every((b) => b === 0)) return PACKET_HOST;
  return (dest[0]! & 1) === 0 ? PACKET_OTHERHOST : PACKET_MULTICAST;
}

/** eth_type_trans()'s protocol as __sk_buff shows it: the big-endian field read as a u16. */
function ethProtocol(frame: Uint8Array): number {
  const proto = (frame[12]! << 8) | frame[13]!;
  let host = proto;
  if (proto < 0x600) host = frame[14] === 0xff && frame[15] === 0xff ? 0x0001 : 0x0004; // 802.3 / 802.2
  return ((host & 0xff) << 8) | (host >> 8);
}

function testRunRawTp(
  ctx: TestRunContext,
  prog: BpfProgObject,
  attr: ProgTestRunAttr,
): ProgTestRunResult {
  if (
    attr.dataIn !== undefined ||
    attr.dataOut !== undefined ||
    attr.ctxOut !== undefined ||
    (attr.repeat ?? 0) !== 0
  )
    throw fail(Errno.EINVAL, "raw tracepoint test runs take only ctx_in (the arguments)");
  const flags = attr.flags ?? 0;
  if ((flags & ~BPF_F_TEST_RUN_ON_CPU) !== 0)
    throw fail(Errno.EINVAL, `unknown flags 0x${flags.toString(16)}`);
  const args = attr.ctxIn ?? new Uint8Array(0);
  if (args.length > MAX_RAW_TP_CTX)
    throw fail(Errno.EINVAL, `ctx_in of ${args.length} bytes: at most ${MAX_RAW_TP_CTX}`);
  let cpu = ctx.syscallCpu;
  if (flags & BPF_F_TEST_RUN_ON_CPU) {
    cpu = attr.cpu ?? 0;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= ctx.cpus)
      throw fail(Errno.ENXIO, `cpu ${cpu} is not online`);
  } else if ((attr.cpu ?? 0) !== 0) {
    throw fail(Errno.EINVAL, "cpu given without BPF_F_TEST_RUN_ON_CPU");
  }
  const region = ctx.memory.alloc(Math.max(args.length, 8), {
    name: "test_run raw_tp args",
    kind: "ctx",
    writable: false,
  });
  try {
    ctx.memory.u8.set(args, region.base);
    const retval = ctx.run(prog, cpu, region);
    return { retval, duration: 0, dataSizeOut: 0, ctxSizeOut: 0 };
  } finally {
    ctx.memory.free(region);
  }
}

function runRepeated(
  ctx: TestRunContext,
  prog: BpfProgObject,
  repeat: number | undefined,
  ctxRegion: Region,
  packet: Region,
): number {
  const times = Math.max(repeat ?? 0, 1);
  let retval = 0;
  for (let i = 0; i < times; i++) retval = ctx.run(prog, ctx.syscallCpu, ctxRegion, packet);
  return retval;
}
