// System calls as the dispatcher's handlers counted them: a table sorted by calls, with the
// bytes asked for by reads and writes, and the calls no handler was written for.
import { BpfObject, codec } from "../runtime/api/index.js";
import { NR } from "../runtime/kernel/syscalls.js";
import { table } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

export interface SyscallCount {
  nr: number;
  name: string;
  calls: number;
  /** read/write/sendto: bytes asked for; openat: files created */
  extra: number;
  /** a handler in the tail-call table counted it */
  handled: boolean;
}

export interface SyscallDispatchResult {
  syscalls: SyscallCount[];
  /** the table's slots: syscall number -> handler program */
  table: { nr: number; handler: string }[];
}

const STAT = codec.struct({ calls: codec.u64n, bytes: codec.u64n });
const NAMES = new Map<number, string>(Object.entries(NR).map(([name, nr]) => [nr, name]));
const nameOf = (nr: number): string => NAMES.get(nr) ?? `syscall ${nr}`;

export const syscallDispatch: Sample<SyscallDispatchResult> = {
  name: "syscall_dispatch",
  title:
    "syscall dispatcher (kprobe do_syscall_64, bpf_tail_call through a PROG_ARRAY indexed by syscall number)",
  workload: "mixed",
  events: 800,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    obj.attachAll();
    return {
      collect: () => collect(obj),
      close: () => obj.close(),
    };
  },

  report({ syscalls, table: slots }) {
    const extraOf = (s: SyscallCount): string =>
      s.name === "openat" ? `${s.extra} created` : s.extra > 0 ? `${s.extra} bytes asked` : "";
    return [
      `tail-call table: ${slots.map((s) => `[${s.nr}] ${s.handler}`).join(", ")}`,
      table(
        ["SYSCALL", "NR", "CALLS", "HANDLER", "DETAIL"],
        syscalls.map((s) => [
          s.name,
          s.nr,
          s.calls,
          s.handled ? "table" : "fall-through",
          extraOf(s),
        ]),
      ),
    ].join("\n");
  },
};

function collect(obj: BpfObject): SyscallDispatchResult {
  const out: SyscallCount[] = [];
  for (const [nr, s] of obj.map("handled").typed(codec.u32, STAT))
    if (s.calls > 0)
      out.push({ nr, name: nameOf(nr), calls: s.calls, extra: s.bytes, handled: true });
  for (const [nr, calls] of obj.map("unhandled").typed(codec.u32, codec.u64n))
    out.push({ nr, name: nameOf(nr), calls, extra: 0, handled: false });
  out.sort((a, b) => b.calls - a.calls || a.nr - b.nr);
  const slots = obj
    .map("syscall_table")
    .dump()
    .map((e) => ({ nr: e.key as number, handler: String(e.value) }));
  return { syscalls: out, table: slots };
}

mainIfRun(import.meta.url, syscallDispatch);
