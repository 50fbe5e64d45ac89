// One counting program attached to several kernel functions, a bpf_cookie per attachment
// (through BPF perf links); the counts come back per cookie, so per function.
import { BpfObject, codec, type BpfLink } from "../runtime/api/index.js";
import { table } from "./lib/format.js";
import { mainIfRun, type Sample } from "./lib/sample.js";

/** The functions counted; each attachment's cookie is its index + 1 (0 would be "no cookie"). */
export const COUNTED = [
  "vfs_read",
  "vfs_write",
  "do_sys_openat2",
  "tcp_sendmsg",
  "tcp_v4_connect",
  "netif_receive_skb",
  "__kmalloc",
  "kfree",
  "blk_mq_start_request",
  "wake_up_new_task",
] as const;

export interface BpfCookieResult {
  /** per function: its cookie, the program's count, the attachment's own run count */
  counts: { fn: string; cookie: number; calls: number; runs: number }[];
}

export const bpfCookie: Sample<BpfCookieResult> = {
  name: "bpf_cookie",
  title: "bpf_cookie: one program on ten kprobes, a cookie per BPF link, counts per cookie",
  workload: "mixed",
  events: 800,

  start(kernel, object, engine) {
    const obj = BpfObject.fromBytes(object.bytes, object.name).load(kernel, { engine });
    const prog = obj.program("count_by_cookie");
    const links: BpfLink[] = COUNTED.map((fn, i) =>
      prog.attachKprobe(fn, { cookie: i + 1, mode: "link" }),
    );
    return {
      collect: () => {
        const calls = obj.map("calls").typed(codec.u32, codec.u64n);
        return {
          counts: links.map((link) => {
            const cookie = Number(link.cookie);
            return { fn: link.symbol, cookie, calls: calls.get(cookie) ?? 0, runs: link.runs };
          }),
        };
      },
      close: () => obj.close(),
    };
  },

  report({ counts }) {
    const rows = [...counts].sort((a, b) => b.calls - a.calls || a.cookie - b.cookie);
    return table(
      ["FUNCTION", "COOKIE", "CALLS"],
      rows.map((c) => [c.fn, c.cookie, c.calls]),
    );
  },
};

mainIfRun(import.meta.url, bpfCookie);
