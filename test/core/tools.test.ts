// The Must-show corpus of issue 10: tracing tools in the style of bcc's libbpf-tools
// (test/core/tools/NAME.bpf.c), written against the simulated kernel's vmlinux.h with
// BPF_CORE_READ, BPF_KPROBE / BPF_KRETPROBE, const volatile configuration, __kconfig externs,
// bpf_core_field_exists and bpf_core_enum_value. For each tool:
//
//   1. clang builds it; loaded through the API on a seeded SimKernel, attached, driven by a
//      workload, its output (events, every map) is checked against what the kernel did
//   2. tsbpf builds it; the same run must give exactly clang's output (tools tsbpf cannot
//      build yet are listed in TSBPF_PENDING, their compile error printed)
//   3. where root bpf() is permitted, the running kernel accepts clang's object (built
//      against a vmlinux.h of its own BTF) through libbpf; tsbpf's objects once not pending
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { BpfObject, codec, type BtfValue, type Codec } from "../../runtime/api/index.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { NR } from "../../runtime/kernel/syscalls.js";
import {
  runWorkload,
  type WorkloadName,
  type WorkloadSummary,
} from "../../runtime/kernel/workload.js";
import { BpfMapType } from "../../runtime/uapi/bpf.js";
import { HAS_LIBBPF_HEADERS } from "../../samples/lib/paths.js";
import {
  hasBpftool,
  hasClang,
  hasLibbpf,
  hasVmlinuxBtf,
  isRoot,
  libbpfRelocate,
  run,
  scratchDir,
  skipReason,
  vmlinuxDir,
  VMLINUX_BTF,
} from "./tools.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const TOOLS_DIR = join(HERE, "tools");
const REPO = join(HERE, "..", "..");
const SIM_INCLUDE = join(REPO, "samples", "include");

/**
 * Tools tsbpf cannot build (tool name -> why): their compile error is printed and, once they
 * build, the test says so. Empty: every tool builds with tsbpf.
 */
export const TSBPF_PENDING: Record<string, string> = {};

const skipSim = skipReason({ clang: hasClang, "libbpf-dev headers": HAS_LIBBPF_HEADERS });
if (skipSim) console.log(`test/core/tools: skipped: ${skipSim}`);
const skipKernel = skipReason({
  clang: hasClang,
  bpftool: hasBpftool,
  "libbpf-dev": hasLibbpf,
  "/sys/kernel/btf/vmlinux": hasVmlinuxBtf,
  "root (bpf() for verification-only loads)": isRoot,
});
if (skipKernel) console.log(`test/core/tools: running-kernel loads skipped: ${skipKernel}`);

// ---- building -------------------------------------------------------------------------------

const CLANG_FLAGS = ["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86"];

/** clang's object for a tool, against the vmlinux.h in `include` (default: the simulated). */
function clangBuild(name: string, include = SIM_INCLUDE, tag = "sim"): Uint8Array {
  const out = join(scratchDir(), `${name}.${tag}.clang.o`);
  run("clang", [...CLANG_FLAGS, `-I${include}`, "-c", join(TOOLS_DIR, `${name}.bpf.c`), "-o", out]);
  return new Uint8Array(readFileSync(out));
}

/** tsbpf's object for a tool (the same flags), or the compile error's text. */
function tsbpfBuild(name: string): { bytes?: Uint8Array; error?: string } {
  try {
    const { object } = compile(join(TOOLS_DIR, `${name}.bpf.c`), {
      includeDirs: [SIM_INCLUDE],
      defines: ["__TARGET_ARCH_x86"],
      cpu: "v3",
      optLevel: 2,
    });
    return { bytes: object };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

// ---- running --------------------------------------------------------------------------------

interface Output {
  /** decoded events, in delivery order */
  events: Record<string, unknown>[];
  /** lost perf samples */
  lost: number;
  /** every map but the event buffers, decoded through BTF, by map name */
  maps: Record<string, unknown>;
}

interface Run {
  output: Output;
  summary: WorkloadSummary;
  kernel: SimKernel;
}

interface Tool {
  name: string;
  workload: WorkloadName;
  events: number;
  seed?: number;
  /** const volatile configuration */
  config?: Record<string, BtfValue>;
  /** the event buffer and how its records decode */
  stream?: { map: string; codec: Codec<Record<string, unknown>> };
  /** what the output must say about the kernel's state */
  check(run: Run): void;
}

/** Load the object into a fresh seeded kernel, attach, run the workload, gather the output. */
function runTool(tool: Tool, bytes: Uint8Array, label: string): Run {
  const kernel = new SimKernel({ cpus: 2, seed: tool.seed ?? 7 });
  const obj = BpfObject.fromBytes(bytes, `${tool.name}.${label}.o`);
  try {
    for (const [name, value] of Object.entries(tool.config ?? {})) obj.setGlobal(name, value);
    obj.load(kernel);
    const events: Record<string, unknown>[] = [];
    let lost = () => 0;
    if (tool.stream !== undefined) {
      const { map, codec: c } = tool.stream;
      const type = obj.map(map).type;
      if (type === BpfMapType.BPF_MAP_TYPE_RINGBUF) {
        obj.ringBuffer(map, { codec: c, onEvent: (e) => void events.push(e) });
      } else {
        const perf = obj.perfBuffer(map, {
          codec: c,
          onSample: (e, cpu) => void events.push({ ...e, cpu }),
        });
        lost = () => perf.lost;
      }
    }
    obj.attachAll();
    const summary = runWorkload(kernel, tool.workload, { events: tool.events });
    kernel.poll();
    const maps: Record<string, unknown> = {};
    for (const m of obj.maps) {
      // the .kconfig map holds the kernel's config, not the tool's output; whether an object
      // has one depends on the compiler dropping unused extern reads (BPF_KSYSCALL without
      // arguments reads LINUX_HAS_SYSCALL_WRAPPER only to throw it away)
      if (m.name === tool.stream?.map || m.origin === "kconfig") continue;
      maps[m.name] = m.dump();
    }
    return { output: { events, lost: lost(), maps }, summary, kernel };
  } finally {
    obj.close();
  }
}

/** JSON with bigints as decimal strings: outputs compared and inspected as plain data. */
const plain = <T>(value: T): T =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)));

// ---- reading outputs ------------------------------------------------------------------------

type Entry = { key: unknown; value: unknown };
const entries = (run: Run, map: string): Entry[] => plain(run.output.maps[map] as Entry[]);
/** The global-data map's variables (its one value). */
function globals(run: Run, section = ".bss"): Record<string, unknown> {
  const found = Object.entries(run.output.maps).find(([name]) => name.endsWith(section));
  const list = plain(found![1] as Entry[]);
  return list[0]!.value as Record<string, unknown>;
}
const num = (v: unknown): number => Number(v);
const sum = (xs: readonly unknown[]): number => xs.reduce<number>((a, x) => a + num(x), 0);
const slotsOf = (v: unknown): number[] => ((v as { slots: unknown[] }).slots ?? []).map(num);
const histTotal = (v: unknown): number => sum(slotsOf(v));
const calls = (run: Run, fn: string): number => run.summary.calls[fn] ?? 0;
/** A __be32 read as a little-endian u32: its bytes in memory order are the address. */
const ip = (v: unknown): string => {
  const n = num(v) >>> 0;
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join(".");
};
/** Per key, how many times it occurs. */
function tally<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}
const sorted = (r: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

const { u16, u32, s32, u64n, s64n, cstring, struct } = codec;
const TASK_COMM_LEN = 16;

// ---- the corpus -----------------------------------------------------------------------------

const TOOLS: Tool[] = [
  {
    name: "opensnoop",
    workload: "files",
    events: 400,
    stream: {
      map: "events",
      codec: struct({
        ts: u64n,
        pid: u32,
        uid: u32,
        ret: s32,
        flags: u32,
        comm: cstring(TASK_COMM_LEN),
        fname: cstring(64),
      }),
    },
    check({ output, summary, kernel }) {
      const events = output.events as { fname: string; ret: number; pid: number; comm: string }[];
      expect(output.lost).toBe(0);
      expect(sorted(tally(events, (e) => e.fname))).toEqual(sorted(summary.opensByPath));
      expect(events.filter((e) => e.ret < 0).length).toBe(summary.files!.openFailures);
      for (const e of events) {
        const task = kernel.tasks.get(e.pid);
        if (task) expect(e.comm).toBe(task.comm);
      }
    },
  },
  {
    name: "exitsnoop",
    workload: "sched",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        age_ns: u64n,
        pid: u32,
        tid: u32,
        ppid: u32,
        exit_code: s32,
        sig: u32,
        cpu: u32,
        comm: cstring(TASK_COMM_LEN),
      }),
    },
    check({ output, summary }) {
      const events = output.events as { exit_code: number; sig: number; age_ns: number }[];
      expect(events.length).toBe(summary.sched!.exits);
      expect(events.length).toBeGreaterThan(0);
      expect(sorted(tally(events, (e) => String(e.exit_code)))).toEqual(
        sorted(summary.sched!.exitCodes),
      );
      for (const e of events) expect(e.sig).toBe(e.exit_code & 0x7f);
    },
  },
  {
    name: "biolatency",
    workload: "disk",
    events: 300,
    config: { targ_per_disk: true },
    check(run) {
      const hists = entries(run, "hists");
      const perDisk = Object.fromEntries(
        hists.map((e) => [(e.key as { disk: string }).disk, histTotal(e.value)]),
      );
      expect(sorted(perDisk)).toEqual(sorted(run.summary.disk!.requests));
      const all: Record<string, number> = {};
      for (const e of hists)
        slotsOf(e.value).forEach((n, slot) => {
          if (n) all[slot] = (all[slot] ?? 0) + n;
        });
      expect(sorted(all)).toEqual(sorted(run.summary.disk!.latencyLog2Us));
    },
  },
  {
    name: "biosnoop",
    workload: "disk",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        disk: cstring(32),
        comm: cstring(TASK_COMM_LEN),
        delta_ns: u64n,
        sector: u64n,
        len: u32,
        pid: u32,
        write: u32,
        dev: u32,
      }),
    },
    check({ output, summary }) {
      const events = output.events as { disk: string; len: number; write: number }[];
      const disk = summary.disk!;
      expect(sorted(tally(events, (e) => e.disk))).toEqual(sorted(disk.requests));
      const bytes: Record<string, number> = {};
      for (const e of events) bytes[e.disk] = (bytes[e.disk] ?? 0) + e.len;
      expect(sorted(bytes)).toEqual(sorted(disk.bytes));
      expect(events.filter((e) => e.write === 1).length).toBe(disk.writeRequests);
      expect(events.filter((e) => e.write === 0).length).toBe(disk.readRequests);
    },
  },
  {
    name: "bitesize",
    workload: "disk",
    events: 300,
    check(run) {
      const hists = entries(run, "hists");
      expect(sum(hists.map((e) => histTotal(e.value)))).toBe(calls(run, "blk_mq_submit_bio"));
      expect(hists.length).toBeGreaterThan(0);
    },
  },
  {
    name: "runqlat",
    workload: "sched",
    events: 300,
    check(run) {
      const g = globals(run);
      const total = histTotal(g.hist);
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(num(g.enqueues));
      expect(total).toBeLessThanOrEqual(calls(run, "finish_task_switch"));
      expect(num(g.enqueues)).toBeGreaterThanOrEqual(calls(run, "wake_up_new_task"));
    },
  },
  {
    name: "runqslower",
    workload: "sched",
    events: 300,
    config: { min_us: 10 },
    stream: {
      map: "events",
      codec: struct({
        task: cstring(TASK_COMM_LEN),
        prev_task: cstring(TASK_COMM_LEN),
        delta_us: u64n,
        pid: u32,
        prev_pid: u32,
      }),
    },
    check({ output, summary, kernel }) {
      const events = output.events as { delta_us: number; pid: number; task: string }[];
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThanOrEqual(summary.calls.try_to_wake_up ?? 0);
      for (const e of events) {
        expect(e.delta_us).toBeGreaterThanOrEqual(10);
        const task = kernel.tasks.get(e.pid);
        if (task) expect(e.task).toBe(task.comm);
      }
    },
  },
  {
    name: "cpudist",
    workload: "sched",
    events: 300,
    check(run) {
      const hists = entries(run, "hists");
      const total = sum(hists.map((e) => histTotal(e.value)));
      expect(total).toBeGreaterThan(0);
      expect(total).toBeLessThanOrEqual(calls(run, "finish_task_switch"));
    },
  },
  {
    name: "offcputime",
    workload: "sched",
    events: 300,
    check(run) {
      const info = entries(run, "info");
      expect(info.length).toBeGreaterThan(0);
      const switches = sum(info.map((e) => (e.value as { count: unknown }).count));
      expect(switches).toBeLessThanOrEqual(calls(run, "finish_task_switch"));
      for (const e of info) {
        const k = e.key as { pid: number; tgid: number; comm: string };
        expect(k.pid).toBeGreaterThan(0);
        const task = run.kernel.tasks.get(k.pid);
        if (task) expect(k.tgid).toBe(task.tgid);
      }
    },
  },
  {
    name: "tcpconnect",
    workload: "net",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        saddr: u32,
        daddr: u32,
        pid: u32,
        uid: u32,
        sport: u16,
        dport: u16,
        comm: cstring(TASK_COMM_LEN),
      }),
    },
    check(run) {
      const counts = entries(run, "ipv4_count");
      const byPeer: Record<string, number> = {};
      for (const e of counts) {
        const k = e.key as { daddr: number; dport: number };
        byPeer[`${ip(k.daddr)}:${k.dport}`] = num(e.value);
      }
      expect(sorted(byPeer)).toEqual(sorted(run.summary.net!.connectsByPeer));
      const events = run.output.events as { daddr: number; dport: number }[];
      expect(sorted(tally(events, (e) => `${ip(e.daddr)}:${e.dport}`))).toEqual(sorted(byPeer));
    },
  },
  {
    name: "tcplife",
    workload: "net",
    events: 400,
    stream: {
      map: "events",
      codec: struct({
        span_us: u64n,
        rx_b: u64n,
        tx_b: u64n,
        pid: u32,
        saddr: u32,
        daddr: u32,
        sport: u16,
        dport: u16,
        comm: cstring(TASK_COMM_LEN),
      }),
    },
    check({ output, summary }) {
      const events = output.events as { tx_b: number; daddr: number; dport: number }[];
      expect(events.length).toBeGreaterThan(0);
      expect(sum(events.map((e) => e.tx_b))).toBeLessThanOrEqual(summary.net!.sendBytes);
      for (const e of events)
        expect(Object.keys(summary.net!.connectsByPeer)).toContain(`${ip(e.daddr)}:${e.dport}`);
    },
  },
  {
    name: "tcpstates",
    workload: "net",
    events: 300,
    check(run) {
      const transitions = entries(run, "transitions");
      expect(sum(transitions.map((e) => e.value))).toBe(calls(run, "tcp_set_state"));
      // every connection that succeeded went SYN_SENT -> ESTABLISHED
      const est = transitions.find((e) => {
        const k = e.key as { oldstate: number; newstate: number };
        return k.oldstate === 2 && k.newstate === 1;
      });
      expect(num(est?.value ?? 0)).toBe(run.summary.net!.connects);
    },
  },
  {
    name: "tcptop",
    workload: "net",
    events: 300,
    check(run) {
      const traffic = entries(run, "ip_map");
      expect(sum(traffic.map((e) => (e.value as { sent: unknown }).sent))).toBe(
        run.summary.net!.sendBytes,
      );
      for (const e of traffic) {
        const k = e.key as { daddr: number; dport: number };
        expect(Object.keys(run.summary.net!.connectsByPeer)).toContain(`${ip(k.daddr)}:${k.dport}`);
      }
    },
  },
  {
    name: "tcprtt",
    workload: "net",
    events: 400,
    check(run) {
      const g = globals(run);
      expect(num(g.closes)).toBe(calls(run, "tcp_close"));
      expect(histTotal(g.hist)).toBeGreaterThan(0);
      expect(histTotal(g.hist)).toBeLessThanOrEqual(num(g.closes));
    },
  },
  {
    name: "skbdrop",
    workload: "net",
    events: 300,
    check(run) {
      const byReason: Record<string, number> = {};
      for (const e of entries(run, "drops")) {
        const reason = String((e.key as { reason: number }).reason);
        byReason[reason] = (byReason[reason] ?? 0) + num(e.value);
      }
      const g = globals(run);
      const expected = { ...run.summary.net!.dropsByReasonTotal };
      const unspecified = expected["1"] ?? 0;
      delete expected["1"];
      expect(sorted(byReason)).toEqual(sorted(expected));
      expect(num(g.unspecified)).toBe(unspecified);
      expect(num(g.have_reasons)).toBe(1);
    },
  },
  {
    name: "filelife",
    workload: "files",
    events: 600,
    stream: {
      map: "events",
      codec: struct({
        file: cstring(64),
        task: cstring(TASK_COMM_LEN),
        delta_ns: u64n,
        tgid: u32,
        size: u32,
      }),
    },
    check({ output, summary }) {
      const events = output.events as { file: string; delta_ns: number }[];
      expect(events.length).toBe(summary.files!.unlinks);
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        expect(e.file).toMatch(/^tmp[0-9a-z]{6}$/);
        expect(e.delta_ns).toBeGreaterThan(0);
      }
    },
  },
  {
    name: "vfsstat",
    workload: "files",
    events: 400,
    check(run) {
      const g = globals(run);
      expect((g.stats as unknown[]).map(num)).toEqual(
        ["vfs_read", "vfs_write", "vfs_fsync", "do_sys_openat2", "vfs_create", "vfs_unlink"].map(
          (f) => calls(run, f),
        ),
      );
      expect(num(g.kernel_version)).toBe(run.kernel.version);
    },
  },
  {
    name: "fsslower",
    workload: "files",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        delta_us: u64n,
        offset: s64n,
        size: s64n,
        pid: u32,
        op: u32,
        file: cstring(32),
        task: cstring(TASK_COMM_LEN),
      }),
    },
    check(run) {
      const events = run.output.events as { op: number; size: number }[];
      const byOp = tally(events, (e) => ["read", "write", "fsync"][e.op]!);
      expect(byOp.read ?? 0).toBe(calls(run, "vfs_read"));
      expect(byOp.write ?? 0).toBe(calls(run, "vfs_write"));
      expect(byOp.fsync ?? 0).toBe(calls(run, "vfs_fsync"));
      const readBytes = sum(events.filter((e) => e.op === 0 && e.size > 0).map((e) => e.size));
      expect(readBytes).toBe(run.summary.files!.readBytes);
    },
  },
  {
    name: "filetop",
    workload: "files",
    events: 300,
    check(run) {
      const stats = entries(run, "entries").map((e) => e.value as Record<string, unknown>);
      expect(sum(stats.map((s) => s.reads))).toBe(calls(run, "vfs_read"));
      expect(sum(stats.map((s) => s.writes))).toBe(calls(run, "vfs_write"));
      expect(stats.some((s) => s.filename === "passwd" || s.filename === "ld.so.cache")).toBe(true);
    },
  },
  {
    name: "syscount",
    workload: "files",
    events: 300,
    check(run) {
      const names = new Map(Object.entries(NR).map(([name, nr]) => [nr, name]));
      const counts: Record<string, number> = {};
      for (const e of entries(run, "data"))
        counts[names.get(num(e.key) as never) ?? String(e.key)] = num(
          (e.value as { count: unknown }).count,
        );
      expect(sorted(counts)).toEqual(sorted(run.summary.syscalls));
    },
  },
  {
    name: "forksnoop",
    workload: "sched",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        pid: u32,
        tid: u32,
        ppid: u32,
        uid: u32,
        cpu: u32,
        parent_cpu: u32,
        comm: cstring(TASK_COMM_LEN),
        parent_comm: cstring(TASK_COMM_LEN),
      }),
    },
    check({ output, summary }) {
      const events = output.events as { parent_comm: string; comm: string; pid: number }[];
      expect(events.length).toBe(summary.sched!.forks);
      for (const e of events) expect(["bash", "cron", "sshd"]).toContain(e.parent_comm);
    },
  },
  {
    name: "kmallocsize",
    workload: "alloc",
    events: 300,
    check(run) {
      const g = globals(run);
      expect(num(g.allocs)).toBe(calls(run, "__kmalloc"));
      expect(num(g.frees)).toBeLessThanOrEqual(calls(run, "kfree"));
      expect(sum(entries(run, "sizes").map((e) => histTotal(e.value)))).toBe(num(g.allocs));
    },
  },
  {
    name: "fsyncsnoop",
    workload: "disk",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        ts: u64n,
        size: s64n,
        pid: u32,
        datasync: u32,
        comm: cstring(TASK_COMM_LEN),
        file: cstring(32),
      }),
    },
    check({ output, summary }) {
      const events = output.events as { comm: string; file: string }[];
      expect(events.length).toBe(summary.disk!.fsyncs);
      for (const e of events) expect(["postgres", "rsyslogd", "systemd-journal"]).toContain(e.comm);
    },
  },
  {
    name: "tcpconnlat",
    workload: "net",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        delta_us: u64n,
        tgid: u32,
        daddr: u32,
        dport: u16,
        lport: u16,
        comm: cstring(TASK_COMM_LEN),
      }),
    },
    check({ output, summary }) {
      const events = output.events as { daddr: number; dport: number; delta_us: number }[];
      expect(events.length).toBe(summary.net!.connects);
      for (const e of events)
        expect(Object.keys(summary.net!.connectsByPeer)).toContain(`${ip(e.daddr)}:${e.dport}`);
    },
  },
  {
    name: "sigsnoop",
    workload: "admin",
    events: 300,
    stream: {
      map: "events",
      codec: struct({ pid: u32, tpid: u32, sig: s32, ret: s32, comm: cstring(TASK_COMM_LEN) }),
    },
    check({ output, summary, kernel }) {
      const events = output.events as { pid: number; sig: number; ret: number; comm: string }[];
      const admin = summary.admin!;
      expect(events.length).toBe(admin.kills);
      expect(sorted(tally(events, (e) => String(e.sig)))).toEqual(sorted(admin.signals));
      expect(events.filter((e) => e.ret < 0).length).toBe(admin.killFailures);
      for (const e of events) expect(e.comm).toBe(kernel.tasks.get(e.pid)!.comm);
    },
  },
  {
    name: "syncsnoop",
    workload: "admin",
    events: 300,
    stream: {
      map: "events",
      codec: struct({ ts: u64n, pid: u32, uid: u32, comm: cstring(TASK_COMM_LEN) }),
    },
    check(run) {
      const events = run.output.events as { comm: string }[];
      expect(events.length).toBe(run.summary.admin!.syncs);
      expect(num(globals(run).ksys_syncs)).toBe(calls(run, "ksys_sync"));
      for (const e of events) expect(["cron", "bash"]).toContain(e.comm);
    },
  },
  {
    name: "statsnoop",
    workload: "admin",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        ts: u64n,
        pid: u32,
        ret: s32,
        comm: cstring(TASK_COMM_LEN),
        pathname: cstring(64),
      }),
    },
    check({ output, summary }) {
      const events = output.events as { pathname: string; ret: number }[];
      const admin = summary.admin!;
      expect(sorted(tally(events, (e) => e.pathname))).toEqual(sorted(admin.statsByPath));
      expect(events.filter((e) => e.ret < 0).length).toBe(admin.statFailures);
      expect(admin.statFailures).toBeGreaterThan(0);
    },
  },
  {
    name: "mountsnoop",
    workload: "admin",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        delta_ns: u64n,
        flags: u64n,
        pid: u32,
        mnt_ns: u32,
        ret: s32,
        comm: cstring(TASK_COMM_LEN),
        src: cstring(32),
        dest: cstring(32),
        fs: cstring(8),
      }),
    },
    check({ output, summary, kernel }) {
      const events = output.events as {
        src: string;
        dest: string;
        ret: number;
        mnt_ns: number;
        pid: number;
      }[];
      const admin = summary.admin!;
      expect(sorted(tally(events, (e) => `${e.src} ${e.dest}`))).toEqual(sorted(admin.mountsBy));
      expect(events.filter((e) => e.ret < 0).length).toBe(admin.mountFailures);
      const inum = kernel.initMntNs.get("ns.inum");
      for (const e of events) {
        expect(e.mnt_ns).toBe(inum);
        expect(e.ret).toBe(kernel.tasks.get(e.pid)!.uid === 0 ? 0 : -1);
      }
    },
  },
  {
    name: "bindsnoop",
    workload: "admin",
    events: 300,
    stream: {
      map: "events",
      codec: struct({
        pid: u32,
        uid: u32,
        addr: u32,
        port: u16,
        family: u16,
        ret: s32,
        task: cstring(TASK_COMM_LEN),
      }),
    },
    check(run) {
      const events = run.output.events as { port: number; ret: number; uid: number }[];
      const admin = run.summary.admin!;
      expect(sorted(tally(events, (e) => String(e.port)))).toEqual(sorted(admin.bindsByPort));
      expect(events.filter((e) => e.ret < 0).length).toBe(admin.bindFailures);
      for (const e of events) expect(e.ret).toBe(e.port < 1024 && e.uid !== 0 ? -13 : 0);
      const ports: Record<string, number> = {};
      for (const e of entries(run, "ports")) ports[String(e.key)] = num(e.value);
      expect(sorted(ports)).toEqual(sorted(admin.bindsByPort));
    },
  },
];

// ---- the tests ------------------------------------------------------------------------------

describe("the corpus", () => {
  it("has a test for every tool in test/core/tools and at least 20 of them", () => {
    const files = readdirSync(TOOLS_DIR)
      .filter((f) => f.endsWith(".bpf.c"))
      .map((f) => f.slice(0, -".bpf.c".length))
      .sort();
    expect(TOOLS.map((t) => t.name).sort()).toEqual(files);
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const name of Object.keys(TSBPF_PENDING)) expect(files).toContain(name);
  });
});

describe.skipIf(skipSim !== undefined)("tools on the simulated kernel", () => {
  const clangRuns = new Map<string, Run>();
  for (const tool of TOOLS) {
    it(`${tool.name}: clang's object reports what the kernel did`, () => {
      const run = runTool(tool, clangBuild(tool.name), "clang");
      clangRuns.set(tool.name, run);
      tool.check(run);
    });

    const pending = TSBPF_PENDING[tool.name];
    it(`${tool.name}: tsbpf's object gives clang's output${pending ? " (pending)" : ""}`, () => {
      const built = tsbpfBuild(tool.name);
      if (pending !== undefined) {
        console.log(
          built.error !== undefined
            ? `${tool.name}: tsbpf pending (${pending}): ${built.error.split("\n")[0]}`
            : `${tool.name}: tsbpf now builds it: drop it from TSBPF_PENDING if its output matches`,
        );
        if (built.bytes === undefined) return;
      }
      expect(built.error, `${tool.name}: tsbpf build`).toBeUndefined();
      const clang = clangRuns.get(tool.name) ?? runTool(tool, clangBuild(tool.name), "clang");
      let ours: Run;
      try {
        ours = runTool(tool, built.bytes!, "tsbpf");
      } catch (err) {
        if (pending !== undefined) {
          console.log(`${tool.name}: tsbpf's object does not load yet: ${(err as Error).message}`);
          return;
        }
        throw err;
      }
      if (pending !== undefined) {
        const same = JSON.stringify(plain(ours.output)) === JSON.stringify(plain(clang.output));
        console.log(`${tool.name}: tsbpf output ${same ? "matches" : "differs from"} clang's`);
        return;
      }
      expect(plain(ours.output)).toEqual(plain(clang.output));
    });
  }
});

describe.skipIf(skipKernel !== undefined)("tools on the running kernel (libbpf)", () => {
  let include: string | undefined;
  /** A directory with the running kernel's vmlinux.h, as bpftool writes it. */
  const realInclude = (): string => {
    include ??= vmlinuxDir(
      "tools-real",
      run("bpftool", ["btf", "dump", "file", VMLINUX_BTF, "format", "c"]),
    );
    return include;
  };

  /** Every program of the object loads (libbpf relocates against the running kernel). */
  function expectAccepted(name: string, bytes: Uint8Array, label: string): void {
    const path = join(scratchDir(), `${name}.${label}.o`);
    writeFileSync(path, bytes);
    const result = libbpfRelocate(path);
    expect([...result.errors], `${name} (${label}): libbpf load errors`).toEqual([]);
    expect(result.programs.length).toBeGreaterThan(0);
    for (const p of result.programs) expect(p.loaded, `${name}: ${p.name}`).toBe(true);
  }

  for (const tool of TOOLS) {
    it(`${tool.name}: clang's object is accepted`, () => {
      expectAccepted(tool.name, clangBuild(tool.name, realInclude(), "real"), "clang");
    });
    it.skipIf(TSBPF_PENDING[tool.name] !== undefined)(
      `${tool.name}: tsbpf's object is accepted`,
      () => {
        const dir = realInclude();
        try {
          const { object } = compile(join(TOOLS_DIR, `${tool.name}.bpf.c`), {
            includeDirs: [dir],
            defines: ["__TARGET_ARCH_x86"],
          });
          expectAccepted(tool.name, object, "tsbpf");
        } catch (err) {
          throw new Error(`${tool.name}: ${(err as Error).message.split("\n")[0]}`);
        }
      },
    );
  }
});
