// The samples, in the order the demo shows them.
import { biolatency } from "./biolatency.js";
import { bpfCookie } from "./bpf_cookie.js";
import { dropsAndWrites } from "./drops_and_writes.js";
import type { Sample } from "./lib/sample.js";
import { memleak } from "./memleak.js";
import { opensnoop } from "./opensnoop.js";
import { packetFilter } from "./packet_filter.js";
import { procevents } from "./procevents.js";
import { seedKprobe } from "./seed_kprobe.js";
import { syscallDispatch } from "./syscall_dispatch.js";
import { tcpconnect } from "./tcpconnect.js";

/** Each sample's result type is its own; the demo only passes results back to their report. */
export const SAMPLES = [
  packetFilter,
  dropsAndWrites,
  biolatency,
  memleak,
  syscallDispatch,
  opensnoop,
  bpfCookie,
  procevents,
  seedKprobe,
  tcpconnect,
] as unknown as readonly Sample<unknown>[];
