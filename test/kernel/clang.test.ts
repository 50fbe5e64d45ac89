// End to end with the reference compiler: tracing programs written as people write them
// (vmlinux.h of the simulated kernel, libbpf's BPF_KPROBE, BPF_CORE_READ, bpf_printk) compiled
// by clang -target bpf, run on kprobes while a workload drives the kernel. What they print must
// agree with the kernel's own state: paths opened and by whom (parent tgid, uid), files read,
// connections made, and every disk request's latency.
//
// The test loads the object itself (a few lines: .rodata placed in kernel memory, lddw
// relocations patched), since the project's loader is another engineer's; clang emits the
// header's offsets in the instructions, which are the kernel's layout, so no CO-RE relocation
// is needed.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readElf } from "../../runtime/elf/read.js";
import { decodeProgram } from "../../runtime/isa/codec.js";
import { writeVmlinuxHeader } from "../../runtime/kernel/header.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { ipv4Text } from "../../runtime/kernel/net.js";
import { runWorkload } from "../../runtime/kernel/workload.js";
import { BpfProgType } from "../../runtime/uapi/bpf.js";
import { PERF_EVENT_IOC_SET_BPF, PerfTypeId } from "../../runtime/uapi/perf_event.js";
import { prepareProgram, type Program } from "../../runtime/vm/program.js";
import { KERNEL_HI } from "../../runtime/vm/memory.js";
import { testHelpers } from "./helpers.js";
import { installProg, TestProg } from "./prog.js";
import { hasClang, run, withTmp } from "./tools.js";

if (!hasClang) console.log("test/kernel/clang: clang not found, skipping");

const SOURCE = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(trace_open, int dfd, const char *filename, struct open_how *how)
{
	char path[64];
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
	u32 uid = BPF_CORE_READ(task, cred, uid.val);

	bpf_probe_read_user_str(path, sizeof(path), filename);
	bpf_printk("open %s ppid=%u uid=%u", path, ppid, uid);
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(trace_read, struct file *file, char *buf, size_t count)
{
	char name[32];
	const unsigned char *p = BPF_CORE_READ(file, f_path.dentry, d_name.name);

	bpf_probe_read_kernel_str(name, sizeof(name), p);
	bpf_printk("read %s %lu", name, count);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(trace_connect, struct sock *sk, struct sockaddr *uaddr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)uaddr;
	u32 daddr = BPF_CORE_READ(sin, sin_addr.s_addr);
	u16 dport = BPF_CORE_READ(sin, sin_port);

	bpf_printk("connect %u %u", daddr, bpf_ntohs(dport));
	return 0;
}

SEC("kprobe/blk_mq_end_request")
int BPF_KPROBE(trace_rq_done, struct request *rq)
{
	char disk[32];
	u64 lat = bpf_ktime_get_ns() - BPF_CORE_READ(rq, start_time_ns);

	BPF_CORE_READ_STR_INTO(&disk, rq, q, disk, disk_name);
	bpf_printk("rq %s %u %llu", disk, BPF_CORE_READ(rq, __data_len), lat);
	return 0;
}
`;

const SECTIONS = [
  "kprobe/do_sys_openat2",
  "kprobe/vfs_read",
  "kprobe/tcp_v4_connect",
  "kprobe/blk_mq_end_request",
];

/** The object's programs, .rodata placed in the kernel's memory and lddw relocations applied. */
function loadPrograms(kernel: SimKernel, object: Uint8Array): Map<string, Program> {
  const elf = readElf(object, "prog.o");
  const placed = new Map<number, number>(); // section index -> linear offset
  const place = (index: number): number => {
    let at = placed.get(index);
    if (at === undefined) {
      const sec = elf.sections[index]!;
      const region = kernel.memory.alloc(Math.max(sec.size, 8), {
        name: sec.name,
        kind: "data",
        writable: false,
      });
      kernel.memory.u8.set(sec.data, region.base);
      at = region.base;
      placed.set(index, at);
    }
    return at;
  };
  const out = new Map<string, Program>();
  for (const name of SECTIONS) {
    const sec = elf.sections.find((s) => s.name === name)!;
    const insns = decodeProgram(sec.data);
    for (const rel of elf.relocations.find((r) => r.target === sec)?.entries ?? []) {
      const sym = elf.symbols[rel.symbol]!;
      const i = rel.offset / 8;
      const address = place(sym.shndx) + sym.value + insns[i]!.imm;
      insns[i] = { ...insns[i]!, src: 0, imm: address | 0 };
      insns[i + 1] = { ...insns[i + 1]!, imm: KERNEL_HI };
    }
    out.set(name, prepareProgram(insns, { name }));
  }
  return out;
}

describe.skipIf(!hasClang)("clang-built tracing programs on the simulated kernel", () => {
  it("print what the kernel did", () => {
    const object = withTmp((dir) => {
      writeFileSync(join(dir, "vmlinux.h"), writeVmlinuxHeader());
      writeFileSync(join(dir, "prog.c"), SOURCE);
      run("clang", [
        "-O2",
        "-g",
        "-target",
        "bpf",
        "-D__TARGET_ARCH_x86",
        "-c",
        join(dir, "prog.c"),
        "-o",
        join(dir, "prog.o"),
      ]);
      return new Uint8Array(readFileSync(join(dir, "prog.o")));
    });
    const kernel = new SimKernel({ cpus: 2, seed: 11 });
    for (const [section, program] of loadPrograms(kernel, object)) {
      const id = kernel.createKprobeEvent(
        `p:kprobes/${section.split("/")[1]} ${section.split("/")[1]}`,
      );
      const fd = kernel.perfEventOpen({ type: PerfTypeId.PERF_TYPE_TRACEPOINT, config: id }, -1, 0);
      const prog = new TestProg(
        kernel,
        program,
        BpfProgType.BPF_PROG_TYPE_KPROBE,
        testHelpers(),
        section,
      );
      kernel.ioctl(fd, PERF_EVENT_IOC_SET_BPF, installProg(kernel, prog));
    }
    const completedBefore = kernel.block.completed.length;
    const summary = runWorkload(kernel, "mixed", { events: 600 });
    const entries = kernel.trace.peek();
    const lines = entries.map((e) => e.text);
    const pick = (prefix: string) => entries.filter((e) => e.text.startsWith(prefix + " "));

    // Opens: one line per do_sys_openat2, the paths the workload opened, the right parents.
    const opens = pick("open");
    expect(opens.length).toBe(summary.calls.do_sys_openat2);
    const paths = new Map<string, number>();
    let checked = 0;
    for (const e of opens) {
      const m = /^open (\S+) ppid=(\d+) uid=(\d+)$/.exec(e.text)!;
      expect(m).not.toBeNull();
      paths.set(m[1]!, (paths.get(m[1]!) ?? 0) + 1);
      const task = kernel.tasks.get(e.pid);
      if (task === undefined) continue; // a command that has exited since
      expect([e.comm, Number(m[2]), Number(m[3])]).toEqual([
        task.comm,
        task.parent!.tgid,
        task.uid,
      ]);
      checked++;
    }
    expect(checked).toBeGreaterThan(opens.length * 0.8);
    const expected = new Map(Object.entries(summary.opensByPath));
    for (const [path, n] of expected) expect([path, paths.get(path) ?? 0]).toEqual([path, n]);

    // Reads: one per vfs_read, naming the file's dentry.
    const reads = pick("read");
    expect(reads.length).toBe(summary.calls.vfs_read);
    for (const e of reads) expect(e.text).toMatch(/^read [\w.-]+ \d+$/);

    // Connects: address and port of every tcp_v4_connect, as the workload chose them.
    const peers = new Map<string, number>();
    for (const e of pick("connect")) {
      const [, addr, port] = e.text.split(" ");
      const peer = `${ipv4Text(Number(addr))}:${port}`;
      peers.set(peer, (peers.get(peer) ?? 0) + 1);
    }
    expect(Object.fromEntries([...peers].sort())).toEqual(summary.net!.connectsByPeer);

    // Disk requests: every completion's disk, size and latency, to the nanosecond.
    const done = kernel.block.completed.slice(completedBefore);
    const rq = pick("rq").map((e) => e.text);
    expect(rq).toEqual(done.map((c) => `rq ${c.disk} ${c.bytes} ${c.latencyNs}`));
    expect(rq.length).toBeGreaterThan(10);

    console.log(
      `test/kernel/clang: ${lines.length} trace lines from 4 clang-built programs (${opens.length} opens, ${reads.length} reads, ${peers.size} peers, ${rq.length} disk requests) match the kernel's state`,
    );
  });
});
