// The loader API end to end on the simulated kernel: open (C source, .c, .o, bytes), inspect and
// change before load, load (errors with errno, command and log), attach (perf_event and link
// modes, cookies, kprobe_events on 4.1), typed maps, the three readers, close and dispose. Each
// result is checked against what the kernel did (its call counters, its fd table, its probes).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BpfError,
  BpfObject,
  codec,
  runWorkload,
  SimKernel,
  type BpfLink,
} from "../../runtime/api/index.js";
import { bpfOf } from "../../runtime/bpf/syscall.js";
import { TsbpfError } from "../../runtime/error.js";
import { HAS_LIBBPF_HEADERS } from "../../samples/lib/testing.js";

const SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_count = 0;
__u64 hits = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

SEC("kprobe/vfs_read")
int BPF_KPROBE(on_read, struct file *file, char *buf, size_t count)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, zero = 0;
	__u64 one = 1, *n, *c;

	if (count < min_count)
		return 0;
	__sync_fetch_and_add(&hits, 1);
	n = bpf_map_lookup_elem(&counts, &pid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&per_cpu, &zero);
	if (c)
		*c += 1;
	return 0;
}

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(on_read_return, long ret)
{
	__s64 *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	*e = ret;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe")
int on_any(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);

	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &cookie, sizeof(cookie));
	return 0;
}

SEC("?kprobe/vfs_write")
int on_write(struct pt_regs *ctx)
{
	bpf_printk("write %lu", PT_REGS_PARM3(ctx));
	return 0;
}
`;

const REJECTED = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("kprobe/vfs_read")
int no_null_check(struct pt_regs *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&values, &key);

	return *v; /* the verifier wants a NULL check first */
}
`;

const NOT_GPL = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Proprietary";

SEC("kprobe/vfs_read")
int print(struct pt_regs *ctx)
{
	bpf_printk("read");
	return 0;
}
`;

const dir = mkdtempSync(join(tmpdir(), "tsbpf-api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The object compiled once, reopened from its bytes by each test. */
let compiled: Uint8Array | undefined;
async function fresh(): Promise<BpfObject> {
  compiled ??= await objectBytes();
  return BpfObject.fromBytes(compiled, "api.bpf.o");
}
async function objectBytes(): Promise<Uint8Array> {
  const obj = await BpfObject.open({ source: SOURCE, file: join(dir, "api.bpf.c") });
  const file = join(dir, "api.bpf.o");
  // the API's own compile, written out: the same bytes reopen as a file
  const { objectBytes: bytesOf } = await import("../../runtime/api/source.js");
  const { bytes } = await bytesOf({ source: SOURCE, file: join(dir, "api.bpf.c") });
  writeFileSync(file, bytes);
  expect(obj.programs.length).toBe(4);
  return bytes;
}

/** A BpfError with these fields. */
function expectBpfError(fn: () => unknown, fields: Partial<BpfError>): BpfError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(BpfError);
  expect(caught).toMatchObject(fields);
  return caught as BpfError;
}

const openFds = (kernel: SimKernel): number[] => kernel.files.list().map(([fd]) => fd);

describe.skipIf(!HAS_LIBBPF_HEADERS)("open", () => {
  it("opens C source, a .c file, a .o file and bytes alike; programs and maps are inspectable", async () => {
    const bytes = (compiled ??= await objectBytes());
    writeFileSync(join(dir, "api2.bpf.c"), SOURCE);
    const objects = [
      await BpfObject.open({ source: SOURCE, file: join(dir, "api.bpf.c") }),
      await BpfObject.open(join(dir, "api2.bpf.c")),
      await BpfObject.open(join(dir, "api.bpf.o")),
      await BpfObject.open(bytes),
    ];
    for (const obj of objects) {
      expect(obj.license).toBe("GPL");
      expect(
        obj.programs.map((p) => [p.name, p.sectionName, p.typeName, p.autoload, p.attachTarget]),
      ).toEqual([
        [
          "on_read",
          "kprobe/vfs_read",
          "kprobe",
          true,
          expect.objectContaining({ func: "vfs_read", retprobe: false }),
        ],
        [
          "on_read_return",
          "kretprobe/vfs_read",
          "kprobe",
          true,
          expect.objectContaining({ func: "vfs_read", retprobe: true }),
        ],
        ["on_any", "kprobe", "kprobe", true, undefined],
        [
          "on_write",
          "?kprobe/vfs_write",
          "kprobe",
          false,
          expect.objectContaining({ func: "vfs_write" }),
        ],
      ]);
      const maps = Object.fromEntries(
        obj.maps.map((m) => [
          m.name,
          [m.typeName, m.keySize, m.valueSize, m.maxEntries, m.keyType, m.valueType],
        ]),
      );
      expect(maps.counts).toEqual(["hash", 4, 8, 64, "__u32", "__u64"]);
      expect(maps.per_cpu).toEqual(["percpu_array", 4, 8, 4, "__u32", "__u64"]);
      expect(maps.rb?.slice(0, 1)).toEqual(["ringbuf"]);
      expect(obj.globals.map((g) => [g.name, g.section, g.size]).sort()).toEqual([
        ["hits", ".bss", 8],
        ["min_count", ".rodata", 8],
      ]);
      expect(obj.isLoaded).toBe(false);
      expect(obj.program("on_read").fd).toBe(-1);
      expect(obj.program("on_read").insns.length).toBeGreaterThan(5);
    }
  });

  it("refuses what is not an object, and compile errors name the line", async () => {
    const err = expectBpfError(() => BpfObject.fromBytes(new Uint8Array([1, 2, 3]), "junk.o"), {
      command: "open",
      errno: 22,
    });
    expect(err.message).toMatch(/^junk\.o: open: /);
    for (const bad of [42, null, { bytes: "no" }, { source: 7 }])
      await expect(BpfObject.open(bad as never)).rejects.toMatchObject({
        command: "open",
        errno: 22,
      });
    await expect(BpfObject.open(join(dir, "missing.o"))).rejects.toMatchObject({
      command: "open",
      errno: 2,
    });
    // the file system's reason and errno, not always ENOENT
    await expect(BpfObject.open(dir)).rejects.toMatchObject({ command: "open", errno: 21 });
    await expect(BpfObject.open(dir)).rejects.toThrow(
      `${dir}: open: cannot read the object: EISDIR (Is a directory)`,
    );
    await expect(
      BpfObject.open({ source: "int f(void) { return x; }", file: "broken.bpf.c" }),
    ).rejects.toThrow(/broken\.bpf\.c:1:\d+: error: use of undeclared identifier 'x'/);
  });
});

describe.skipIf(!HAS_LIBBPF_HEADERS)("load", () => {
  it("creates maps as changed before load and loads what autoload says", async () => {
    const obj = await fresh();
    obj.map("counts").maxEntries = 128;
    obj.setGlobal("min_count", 0);
    obj.program("on_write").autoload = true;
    const kernel = new SimKernel({ seed: 4 });
    obj.load(kernel, { engine: "interp" });
    expect(obj.map("counts").kernelMap("test").maxEntries).toBe(128);
    expect(obj.programs.every((p) => p.loaded)).toBe(true);
    expect(obj.readGlobal("min_count")).toBe(0);
    // now everything is fixed
    expectBpfError(() => (obj.map("counts").maxEntries = 4), { command: "maxEntries", errno: 16 });
    expectBpfError(() => obj.setGlobal("min_count", 1), { command: "setGlobal", errno: 16 });
    expectBpfError(() => (obj.program("on_read").autoload = false), { errno: 16 });
    expectBpfError(() => obj.load(kernel), { command: "load", errno: 16 });
    obj.close();
  });

  it("gives globals their values before load: the program sees them", async () => {
    for (const [minCount, expectAll] of [
      [0, true],
      [2 ** 40, false],
    ] as const) {
      const obj = await fresh();
      obj.setGlobal("min_count", minCount);
      const kernel = new SimKernel({ seed: 4 });
      obj.load(kernel).attachAll();
      const summary = runWorkload(kernel, "files", { events: 150 });
      expect(summary.calls.vfs_read).toBeGreaterThan(0);
      expect(obj.readGlobal("hits")).toBe(expectAll ? summary.calls.vfs_read : 0);
      expect(obj.readGlobal("min_count")).toBe(minCount);
      obj.close();
    }
  });

  it("a program PROG_LOAD refuses: its errno, the command and the log; nothing left open", async () => {
    const obj = await BpfObject.open({ source: NOT_GPL, file: join(dir, "not_gpl.bpf.c") });
    const kernel = new SimKernel({ seed: 1 });
    const before = openFds(kernel);
    const err = expectBpfError(() => obj.load(kernel), { command: "BPF_PROG_LOAD", errno: 22 });
    expect(err.errnoName).toBe("EINVAL");
    expect(err.message).toMatch(
      /^not_gpl\.bpf\.o: section 'kprobe\/vfs_read': program 'print' \(kprobe\): BPF_PROG_LOAD: failed to load: /,
    );
    expect(err.log).toMatch(/cannot call GPL-restricted function from non-GPL compatible program/);
    expect(openFds(kernel)).toEqual(before);
    expect(obj.isLoaded).toBe(false);
  });

  it("a program the verifier rejects: EACCES, the C place, a hint and the verifier's log", async () => {
    const obj = await BpfObject.open({ source: REJECTED, file: join(dir, "rejected.bpf.c") });
    const kernel = new SimKernel({ seed: 1 });
    const before = openFds(kernel);
    let err: unknown;
    try {
      obj.load(kernel).close();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ command: "BPF_PROG_LOAD", errno: 13 });
    expect((err as BpfError).message).toMatch(/program 'no_null_check'/);
    // where in the C source, the line itself, and what to do about it
    expect((err as BpfError).message).toMatch(
      /rejected\.bpf\.c:20:\d+: .*invalid mem access 'map_value_or_null' \[\s*return \*v;.*\] \(hint: .*NULL.*\)/,
    );
    expect((err as BpfError).log).toMatch(/invalid mem access 'map_value_or_null'/);
    expect(openFds(kernel)).toEqual(before);
  });

  it("one engine per kernel", async () => {
    const kernel = new SimKernel({ seed: 1 });
    const first = (await fresh()).load(kernel, { engine: "interp" });
    expectBpfError(() => BpfObject.fromBytes(compiled!, "b.o").load(kernel, { engine: "jit" }), {
      errno: 16,
    });
    const second = BpfObject.fromBytes(compiled!, "c.o").load(kernel); // the kernel's engine
    expect(bpfOf(kernel).engine).toBe("interp");
    first.close();
    second.close();
  });
});

describe.skipIf(!HAS_LIBBPF_HEADERS)("attach", () => {
  it('attachAll attaches by section name; SEC("kprobe") and autoload-off programs stay unattached', async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 5 });
    const links = obj.load(kernel).attachAll();
    expect(links.map(String)).toEqual([
      "kprobe/vfs_read -> on_read (link)",
      "kretprobe/vfs_read -> on_read_return (link)",
    ]);
    const summary = runWorkload(kernel, "files", { events: 200 });
    expect(links.map((l) => l.runs)).toEqual([summary.calls.vfs_read, summary.calls.vfs_read]);
    expect(obj.program("on_read").stats()).toEqual({
      runCount: summary.calls.vfs_read,
      recursionMisses: 0,
    });
    expect(obj.program("on_any").stats().runCount).toBe(0);
    obj.close();
  });

  it("one program on several functions, a cookie per BPF link, through a perf buffer", async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 6 });
    obj.load(kernel);
    const cookies: bigint[] = [];
    let lostReported = 0;
    obj.perfBuffer("perf", {
      codec: codec.u64,
      onSample: (cookie) => void cookies.push(cookie),
      onLost: (n) => void (lostReported += n),
    });
    const prog = obj.program("on_any");
    prog.attachKprobe("vfs_write", { cookie: 7 });
    prog.attachKprobe("do_sys_openat2", { cookie: 2n ** 63n + 9n });
    const summary = runWorkload(kernel, "files", { events: 200 });
    expect(lostReported).toBe(0);
    expect(cookies.filter((c) => c === 7n).length).toBe(summary.calls.vfs_write);
    expect(cookies.filter((c) => c === 2n ** 63n + 9n).length).toBe(summary.calls.do_sys_openat2);
    expect(cookies.length).toBe(summary.calls.vfs_write! + summary.calls.do_sys_openat2!);
    obj.close();
  });

  it("the perf_event mode: PERF_EVENT_IOC_SET_BPF, no link, no cookie", async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 6 });
    obj.load(kernel);
    const link = obj.program("on_read").attachKprobe("vfs_read", { mode: "perf_event" });
    expect([link.mode, link.linkFd, kernel.files.get(link.perfEventFd)?.kind]).toEqual([
      "perf_event",
      -1,
      "[perf_event]",
    ]);
    expectBpfError(
      () => obj.program("on_any").attachKprobe("vfs_read", { mode: "perf_event", cookie: 1 }),
      {
        command: "attachKprobe",
        errno: 95,
      },
    );
    const summary = runWorkload(kernel, "files", { events: 100 });
    expect(link.runs).toBe(summary.calls.vfs_read);
    obj.close();
  });

  it("errors name the call: unknown symbols, programs not loaded", async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 6 });
    expectBpfError(() => obj.program("on_any").attachKprobe("vfs_read"), { errno: 16 });
    obj.load(kernel);
    const before = openFds(kernel);
    const err = expectBpfError(() => obj.program("on_any").attachKprobe("no_such_function"), {
      command: "perf_event_open",
      errno: 2,
    });
    expect(err.message).toMatch(
      /program 'on_any': perf_event_open: .*unknown symbol 'no_such_function'/,
    );
    expectBpfError(() => obj.program("on_write").attachKprobe("vfs_write"), { errno: 2 });
    expect(openFds(kernel)).toEqual(before);
    expectBpfError(() => obj.program("nope"), { command: "program", errno: 2 });
    expectBpfError(() => obj.map("nope"), { command: "map", errno: 2 });
    obj.close();
  });

  it("detach stops the program; `using` detaches at the end of the block", async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 8 });
    obj.load(kernel);
    const fn = kernel.fn("vfs_read");
    let link: BpfLink;
    {
      using scoped = obj.program("on_read").attachKprobe("vfs_read");
      link = scoped;
      expect(fn.entryProbes.length).toBe(1);
      runWorkload(kernel, "files", { events: 100 });
    }
    expect(link.detached).toBe(true);
    expect(fn.entryProbes.length).toBe(0);
    const runs = link.runs;
    const calls = fn.calls;
    runWorkload(kernel, "files", { events: 100 });
    expect(fn.calls).toBeGreaterThan(calls);
    expect(link.runs).toBe(runs);
    expect(obj.readGlobal("hits")).toBe(runs);
    link.detach(); // idempotent
    obj.close();
  });

  it("on Linux 4.1: kprobe_events entries and perf events, removed on detach; no links", async () => {
    const kernel = new SimKernel({ seed: 9, version: "4.1", checkKernVersion: true });
    // 4.1 knows helpers 1..11 and no global data: counters in a hash map only.
    const obj = (
      await BpfObject.open({ source: OLD_KERNEL_SOURCE, file: join(dir, "old.bpf.c") })
    ).load(kernel);
    const links = obj.attachAll();
    expect(links.map((l) => [l.mode, l.traceEvent])).toEqual([
      ["perf_event", expect.stringMatching(/^kprobes\/tsbpf_\d+_vfs_read_0$/)],
      ["perf_event", expect.stringMatching(/^kprobes\/tsbpf_\d+_vfs_read_1$/)],
    ]);
    expect(kernel.kprobes.read()).toMatch(
      /^p:kprobes\/tsbpf_\d+_vfs_read_0 vfs_read\nr:kprobes\/tsbpf_\d+_vfs_read_1 vfs_read\n$/,
    );
    expectBpfError(() => obj.program("on_any").attachKprobe("vfs_read", { mode: "link" }), {
      command: "BPF_LINK_CREATE",
      errno: 22,
    });
    const summary = runWorkload(kernel, "files", { events: 100 });
    expect(links[0]!.runs).toBe(summary.calls.vfs_read);
    const counts = obj.map("counts").typed(codec.u32, codec.u64n);
    expect(counts.get(0)).toBe(summary.calls.vfs_read);
    expect(counts.get(1)).toBe(summary.calls.vfs_read);
    obj.close();
    expect(kernel.kprobes.read()).toBe("");
  });
});

const OLD_KERNEL_SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 key)
{
	__u64 one = 1, *n = bpf_map_lookup_elem(&counts, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
}

SEC("kprobe/vfs_read")
int on_read(void *ctx)
{
	count(0);
	return 0;
}

SEC("kretprobe/vfs_read")
int on_read_return(void *ctx)
{
	count(1);
	return 0;
}

SEC("kprobe")
int on_any(void *ctx)
{
	return 0;
}
`;

describe.skipIf(!HAS_LIBBPF_HEADERS)("maps", () => {
  it("typed access: what the program counted, written and deleted from user space", async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 10, cpus: 3 });
    obj.load(kernel).attachAll();
    const summary = runWorkload(kernel, "files", { events: 200 });
    const counts = obj.map("counts").typed(codec.u32, codec.u64n);
    const entries = counts.toArray();
    expect(entries.reduce((n, [, v]) => n + v, 0)).toBe(summary.calls.vfs_read);
    for (const [pid] of entries) expect(kernel.tasks.get(pid) ?? pid).toBeTruthy();
    // BTF decodes the same entries without codecs
    expect(obj.map("counts").typed().toArray()).toEqual(entries);
    counts.set(424242, 5);
    expect(counts.get(424242)).toBe(5);
    expect(counts.delete(424242)).toBe(true);
    expect(counts.delete(424242)).toBe(false);
    expect(counts.get(424242)).toBeUndefined();
    // per-CPU: a value per CPU, adding up to the same total
    const perCpu = obj.map("per_cpu").percpu(codec.u32, codec.u64n);
    const slot0 = perCpu.get(0)!;
    expect(slot0.length).toBe(3);
    expect(slot0.reduce((a, b) => a + b, 0)).toBe(summary.calls.vfs_read);
    perCpu.set(1, [1, 2, 3]);
    expect(perCpu.get(1)).toEqual([1, 2, 3]);
    // the wrong view or codec is a clear error
    expectBpfError(() => obj.map("per_cpu").typed(), { command: "typed" });
    expectBpfError(() => obj.map("counts").percpu(), { command: "percpu" });
    expect(() => obj.map("counts").typed(codec.u64, codec.u64n)).toThrow(
      /key codec is 8 bytes, key_size is 4/,
    );
    const full = obj.map("counts").typed(codec.u32, codec.u64n);
    expect(() => {
      for (let pid = 1_000_000; pid < 1_000_200; pid++) full.set(pid, 1);
    }).toThrow(BpfError);
    obj.close();
  });

  it("dump() lists entries decoded through BTF, in key order", async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 10 });
    obj.load(kernel);
    const counts = obj.map("counts").typed(codec.u32, codec.u64n);
    for (const pid of [300, 7, 70000, 12]) counts.set(pid, pid * 2);
    expect(obj.map("counts").dump()).toEqual([
      { key: 7, value: 14 },
      { key: 12, value: 24 },
      { key: 300, value: 600 },
      { key: 70000, value: 140000 },
    ]);
    expect(obj.map(".rodata").dump()).toEqual([
      { key: 0, value: expect.objectContaining({ min_count: 0 }) },
    ]);
    obj.close();
  });
});

describe.skipIf(!HAS_LIBBPF_HEADERS)("readers", () => {
  it("trace_pipe and the ring buffer as async iterators", async () => {
    const obj = await fresh();
    obj.program("on_write").autoload = true;
    const kernel = new SimKernel({ seed: 12 });
    obj.load(kernel).attachAll();
    const pipe = obj.tracePipe();
    const ring = obj.ringBuffer("rb", { codec: codec.s64n });
    const lines: string[] = [];
    const results: number[] = [];
    const reading = Promise.all([
      (async () => {
        for await (const l of pipe) lines.push(l.text);
      })(),
      (async () => {
        for await (const r of ring) results.push(r);
      })(),
    ]);
    const summary = runWorkload(kernel, "files", { events: 200 });
    pipe.close();
    ring.close();
    await reading;
    expect(lines.length).toBe(summary.calls.vfs_write);
    for (const l of lines) expect(l).toMatch(/^write \d+$/);
    // every vfs_read's return value, unless the 4 KiB ring was full when it returned
    expect(results.length).toBeGreaterThan(0);
    expect(results.length).toBeLessThanOrEqual(summary.calls.vfs_read!);
    expect(results.reduce((n, r) => n + (r > 0 ? r : 0), 0)).toBeLessThanOrEqual(
      summary.files!.readBytes,
    );
    obj.close();
  });

  it("a perf buffer too small for the events reports what it lost", async () => {
    const obj = await fresh();
    const kernel = new SimKernel({ seed: 13, cpus: 1 });
    obj.load(kernel);
    const buffer = obj.perfBuffer("perf", { pages: 1, codec: codec.u64n });
    obj.program("on_any").attachKprobe("netif_receive_skb", { cookie: 3 });
    // nobody reads the ring until the end: it overflows
    const first = runWorkload(kernel, "net", { events: 3000, pollEvery: 3000 });
    const kept = buffer.drain();
    expect(kept.every((e) => e.type === "sample" && e.data === 3 && e.cpu === 0)).toBe(true);
    expect(kept.length).toBeLessThan(first.calls.netif_receive_skb!);
    expect(buffer.lost).toBe(0); // the kernel says so with its next record, when there is room
    const second = runWorkload(kernel, "net", { events: 200 });
    const later = buffer.drain();
    expect(later[0]).toEqual({
      type: "lost",
      cpu: 0,
      lost: first.calls.netif_receive_skb! - kept.length,
    });
    expect(later.length - 1).toBe(second.calls.netif_receive_skb);
    expect(buffer.lost).toBe(first.calls.netif_receive_skb! - kept.length);
    expect(buffer.samples).toBe(kept.length + later.length - 1);
    obj.close();
  });

  it("a reader with a callback cannot also be iterated", async () => {
    const obj = (await fresh()).load(new SimKernel({ seed: 1 }));
    const pipe = obj.tracePipe({ onLine: () => undefined });
    expectBpfError(() => pipe[Symbol.asyncIterator](), { command: "[Symbol.asyncIterator]" });
    expectBpfError(() => obj.ringBuffer("counts"), { command: "ringBuffer" });
    expectBpfError(() => obj.perfBuffer("rb"), { command: "perfBuffer" });
    obj.close();
  });
});

describe.skipIf(!HAS_LIBBPF_HEADERS)("close", () => {
  it("closes every fd, detaches, ends readers; the object is unusable afterwards", async () => {
    const kernel = new SimKernel({ seed: 14 });
    const before = openFds(kernel);
    let obj: BpfObject;
    {
      using scoped = await fresh();
      obj = scoped;
      scoped.load(kernel).attachAll();
      scoped.perfBuffer("perf");
      scoped.program("on_any").attachKprobe("kfree", { cookie: 1 });
      expect(openFds(kernel).length).toBeGreaterThan(before.length + 6);
      runWorkload(kernel, "mixed", { events: 100 });
    }
    expect(openFds(kernel)).toEqual(before);
    expect(bpfOf(kernel).loadedProgs).toEqual([]);
    expect(bpfOf(kernel).liveMaps).toEqual([]);
    expect(kernel.fn("vfs_read").entryProbes).toEqual([]);
    expectBpfError(() => obj.map("counts").typed(), { errno: 9 });
    expectBpfError(() => obj.attachAll(), { errno: 9 });
    obj.close(); // idempotent
    expect(new BpfError("x", "y", "z")).toBeInstanceOf(TsbpfError);
  });
});
