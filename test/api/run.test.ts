// `tsbpf run`: one object through load, attach, workload and report, printed for people or as
// JSON; the same options give the same bytes; bad input is one clear error.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { main, type RunReport } from "../../runtime/cli/run.js";
import { objectBytes } from "../../runtime/api/source.js";
import { TsbpfError } from "../../runtime/error.js";
import { HAS_LIBBPF_HEADERS } from "../../samples/lib/testing.js";
import { writeVmlinuxHeader } from "../../runtime/kernel/header.js";
import { readFileSync } from "node:fs";
import { INCLUDE_DIR, sourceOf } from "../../samples/lib/paths.js";

const dir = mkdtempSync(join(tmpdir(), "tsbpf-run-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => void vi.restoreAllMocks());

/** main(args) with its stdout and stderr captured. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(console, "error").mockImplementation((...parts: unknown[]) => {
    err += parts.join(" ") + "\n";
  });
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, out, err };
}

/** A sample compiled by tsbpf, written as an object file. */
async function sampleObject(name: string): Promise<string> {
  const { bytes } = await objectBytes(sourceOf(name), { includeDirs: [INCLUDE_DIR] });
  const file = join(dir, `${name}.bpf.o`);
  writeFileSync(file, bytes);
  return file;
}

describe.skipIf(!HAS_LIBBPF_HEADERS)("tsbpf run", () => {
  it("prints attachments, trace lines, buffers, maps and counts; the same bytes every time", async () => {
    const file = await sampleObject("tcpconnect");
    const args = [file, "--workload", "net", "--events", "300", "--seed", "4"];
    const first = await run(args);
    const second = await run(args);
    expect(first.code).toBe(0);
    expect(second.out).toBe(first.out);
    const text = first.out;
    expect(text).toMatch(
      /^tcpconnect\.bpf\.o on simulated Linux 6\.1\.192, 2 CPUs, seed 4, jit engine\n/,
    );
    expect(text).toContain("attached  kprobe/tcp_v4_connect -> connect_enter (link)\n");
    expect(text).toContain("attached  kretprobe/tcp_v4_connect -> connect_return (link)\n");
    expect(text).toMatch(/\nperf buffer 'events': (\d+) samples, 0 lost\n/);
    expect(text).toMatch(
      /\nmap 'per_peer' \(hash, struct peer -> __u64\): \d+ entries\n  \{"daddr":\d+,"dport":\d+\} = \d+\n/,
    );
    expect(text).toMatch(
      /\nprograms:\n  connect_enter: (\d+) runs, 0 missed\n  connect_return: \1 runs, 0 missed\n$/,
    );
    const other = await run([file, "--workload", "net", "--events", "300", "--seed", "5"]);
    expect(other.out).not.toBe(first.out);
  });

  it("--json: one document; the engines agree on everything but their name", async () => {
    const file = await sampleObject("opensnoop");
    const base = [file, "--workload", "files", "--events", "200", "--json"];
    const jit = JSON.parse((await run(base)).out) as RunReport;
    const interp = JSON.parse((await run([...base, "--engine", "interp"])).out) as RunReport;
    expect(jit.kernel).toEqual({ release: "6.1.192", cpus: 2, seed: 1, engine: "jit" });
    expect({ ...interp, kernel: { ...interp.kernel, engine: "jit" } }).toEqual(jit);
    const opens = Object.values(jit.workload.opensByPath).reduce((a, b) => a + b, 0);
    expect(jit.events.events!.records.length).toBe(opens);
    expect(jit.misses).toEqual({
      programs: { open_enter: 0, open_return: 0 },
      perfLost: { events: 0 },
    });
    expect(jit.programs.map((p) => [p.name, p.runs])).toEqual([
      ["open_enter", jit.workload.calls.do_sys_openat2],
      ["open_return", jit.workload.calls.do_sys_openat2],
    ]);
  });

  it("takes C source too, and a 4.1 kernel with more CPUs", async () => {
    const { out, code } = await run([
      sourceOf("seed_kprobe"),
      "--kernel",
      "4.1",
      "--cpus",
      "3",
      "--events",
      "100",
      "--workload",
      "files",
    ]);
    expect(code).toBe(0);
    expect(out).toMatch(/^seed_kprobe\.bpf\.o on simulated Linux 4\.1\.0, 3 CPUs/);
    expect(out).toContain("attached  kprobe/vfs_read -> count_reads (perf_event)\n");
    // a legacy map has no BTF: keys and values in hex, as bpftool shows them
    expect(out).toMatch(/\nmap 'reads' \(array\): 64 entries\n  "00000000" = "[0-9a-f]{48}"\n/);
  });

  it("attaches what it can: other kinds of sections stay loaded, with the reason", async () => {
    const file = join(dir, "kinds.bpf.c");
    writeFileSync(
      file,
      `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
SEC("kprobe/vfs_read") int on_read(void *ctx) { return 0; }
SEC("kprobe") int no_target(void *ctx) { return 0; }
SEC("tracepoint/sched/sched_process_exec") int on_exec(void *ctx) { return 0; }
SEC("socket") int filter(void *skb) { return 0; }
SEC("?kprobe/vfs_write") int off(void *ctx) { return 0; }
`,
    );
    const { code, out } = await run([file, "--events", "50"]);
    expect(code).toBe(0);
    expect(out).toContain("attached  kprobe/vfs_read -> on_read (link)\n");
    expect(out).toContain(
      "loaded    kprobe: no_target (kprobe, not attached: no target in its section)\n",
    );
    expect(out).toMatch(
      /loaded    tracepoint\/sched\/sched_process_exec: on_exec \(tracepoint, not attached: section '.*': tracepoint attachments are not simulated/,
    );
    expect(out).toContain(
      "loaded    socket: filter (socket_filter, not attached: no target in its section)\n",
    );
    expect(out).toContain("skipped   ?kprobe/vfs_write: off (autoload off)\n");
  });

  it("a program PROG_LOAD refuses: the error and its log, exit 1", async () => {
    const file = join(dir, "not_gpl.bpf.c");
    writeFileSync(
      file,
      '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "Proprietary";\n' +
        'SEC("kprobe/vfs_read") int print(void *ctx) { bpf_printk("x"); return 0; }\n',
    );
    const { code, out, err } = await run([file]);
    expect(code).toBe(1);
    expect(out).toBe("");
    expect(err).toMatch(
      /^tsbpf: not_gpl\.bpf\.o: section 'kprobe\/vfs_read': program 'print' \(kprobe\): BPF_PROG_LOAD: failed to load: \S*not_gpl\.bpf\.c:4:\d+: program 'print': insn \d+: cannot call GPL-restricted function .*\(hint: bpf_trace_printk is GPL-only/,
    );
    expect(err).toContain(
      "    | cannot call GPL-restricted function from non-GPL compatible program",
    );
  });

  it("bad arguments are one clear error", async () => {
    const cases: [string[], RegExp][] = [
      [[], /^usage: tsbpf run FILE\.o/],
      [["a.o", "--events", "x"], /--events must be an integer from 0 to 10000000, not 'x'/],
      [
        ["a.o", "--workload", "idle"],
        /--workload must be one of files, net, disk, alloc, sched, mixed, admin, not 'idle'/,
      ],
      [["a.o", "--kernel", "5.4"], /--kernel must be 4\.1, 6\.1 or 6\.18, not '5\.4'/],
      [["a.o", "--engine", "llvm"], /--engine must be interp or jit, not 'llvm'/],
      [["a.o", "--cpus", "0"], /--cpus must be an integer from 1 to 64, not '0'/],
      [["a.o", "--seed"], /--seed needs a value/],
      [["a.o", "--frobnicate"], /unknown option '--frobnicate'/],
      [["a.o", "b.o"], /one object at a time \('a\.o' and 'b\.o'\)/],
      [[join(dir, "missing.o")], /missing\.o: open: cannot read the object: ENOENT/],
    ];
    for (const [args, message] of cases) {
      const error = await main(args).catch((e: unknown) => e);
      expect(error, args.join(" ")).toBeInstanceOf(TsbpfError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe("samples/include/vmlinux.h", () => {
  it("is the header the simulated kernel writes for its types", () => {
    expect(readFileSync(join(INCLUDE_DIR, "vmlinux.h"), "utf8")).toBe(writeVmlinuxHeader());
  });
});
