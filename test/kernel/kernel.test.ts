// The kernel's building blocks: fd tables, kallsyms, kernel objects in memory, user memory,
// random streams, tasks and the clock.
import { describe, expect, it } from "vitest";
import { KernelError, syscallResult } from "../../runtime/kernel/error.js";
import { FdTable, KernelFile } from "../../runtime/kernel/files.js";
import { AT_FDCWD, O_RDONLY } from "../../runtime/kernel/fs.js";
import { KERNEL_TEXT_HI } from "../../runtime/kernel/kallsyms.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { Prng } from "../../runtime/kernel/random.js";
import { NR } from "../../runtime/kernel/syscalls.js";
import { PF_KTHREAD } from "../../runtime/kernel/tasks.js";
import { Errno } from "../../runtime/uapi/errno.js";
import { KERNEL_HI, MemoryFault } from "../../runtime/vm/memory.js";

describe("FdTable", () => {
  it("hands out the lowest free fd from 3 and releases a file on its last put", () => {
    const table = new FdTable("test", 8);
    let released = 0;
    const file = () => new KernelFile("x", undefined, () => released++);
    expect([table.install(file()), table.install(file()), table.install(file())]).toEqual([
      3, 4, 5,
    ]);
    table.close(4);
    expect(released).toBe(1);
    expect(table.install(file())).toBe(4);
    const dup = table.dup(3);
    expect(dup).toBe(6);
    table.close(3);
    expect(released).toBe(1); // the dup still holds it
    table.close(dup);
    expect(released).toBe(2);
    expect([table.install(file()), table.install(file()), table.install(file())]).toEqual([
      3, 6, 7,
    ]);
    expect(() => table.install(file())).toThrow(/EMFILE/);
    expect(syscallResult(() => (table.close(42), 0))).toBe(-Errno.EBADF);
    expect(() => table.fget(3, "read")).not.toThrow();
    expect(() => table.fget(99, "read")).toThrow(KernelError);
  });
});

describe("kallsyms", () => {
  it("resolves addresses to name+offset/size and lists /proc/kallsyms", () => {
    const kernel = new SimKernel();
    const vfsRead = kernel.kallsyms.lookup("vfs_read")!;
    expect(vfsRead.hi).toBe(KERNEL_TEXT_HI);
    expect(kernel.kallsyms.format(vfsRead.lo + 0x1c, KERNEL_TEXT_HI)).toBe(
      `vfs_read+0x1c/0x${vfsRead.size.toString(16)}`,
    );
    expect(kernel.kallsyms.format(0x10, 0)).toBe("0x10");
    for (const fn of kernel.functions.values()) {
      expect((fn.lo >>> 0) % 16).toBe(0);
      expect(kernel.kallsyms.resolve(fn.lo + fn.size - 1, KERNEL_TEXT_HI)!.symbol.name).toBe(
        fn.name,
      );
    }
    const init = kernel.kallsyms.lookup("init_task")!;
    expect(kernel.kallsyms.resolve(init.lo + 8, KERNEL_HI)!.symbol.name).toBe("init_task");
    const text = kernel.kallsyms.text().trim().split("\n");
    expect(text).toContain(`ffffffff${(vfsRead.lo >>> 0).toString(16)} T vfs_read`);
    const sorted = [...text].sort();
    expect(text).toEqual(sorted); // fixed-width hex sorts like the addresses
    for (const name of [
      "do_sys_openat2",
      "do_unlinkat",
      "ksys_read",
      "ksys_write",
      "vfs_read",
      "vfs_write",
      "netif_receive_skb",
      "kfree_skb_reason",
      "consume_skb",
      "tcp_v4_connect",
      "tcp_sendmsg",
      "tcp_close",
      "blk_mq_start_request",
      "blk_mq_end_request",
      "__kmalloc",
      "kfree",
      "wake_up_new_task",
      "do_exit",
      "finish_task_switch",
      "do_syscall_64",
    ]) {
      expect(kernel.functions.has(name)).toBe(true);
    }
  });
});

describe("kernel objects", () => {
  it("keep the fields programs read where the layout says", () => {
    const kernel = new SimKernel({ cpus: 2 });
    const bash = kernel.tasks.list().find((t) => t.comm === "bash")!;
    const t = bash.obj;
    expect(t.get("pid")).toBe(bash.pid);
    expect(t.get("tgid")).toBe(bash.tgid);
    expect(t.getString("comm")).toBe("bash");
    const parent = t.ptr("real_parent");
    expect(parent.hi).toBe(KERNEL_HI);
    expect(kernel.memory.load32((parent.lo + (t.at("tgid") - t.offset)) | 0, KERNEL_HI)).toBe(
      bash.parent!.tgid,
    );
    const cred = t.ptr("cred");
    expect(kernel.memory.load32(cred.lo + 4, KERNEL_HI)).toBe(1000); // cred->uid.val after usage
    bash.comm = "a-very-long-command-name";
    expect(t.getString("comm")).toBe("a-very-long-com");
    const kthread = kernel.tasks.list().find((x) => x.comm === "kthreadd")!;
    expect(kthread.flags & PF_KTHREAD).toBe(PF_KTHREAD);
    expect(kthread.obj.ptr("mm")).toEqual({ lo: 0, hi: 0 });
    // a bit-field: sk_buff's pkt_type (3 bits) next to its neighbours
    const skb = kernel.newObject("sk_buff");
    skb.set("pkt_type", 5).set("ignore_df", 1).set("nf_trace", 0);
    expect([skb.get("pkt_type"), skb.get("ignore_df"), skb.get("nf_trace")]).toEqual([5, 1, 0]);
    kernel.freeObject(skb);
    expect(() => kernel.freeObject(skb)).toThrow(/twice/);
  });
});

describe("user memory", () => {
  it("is reached only through the user-copy paths", () => {
    const kernel = new SimKernel();
    const bash = kernel.tasks.list().find((t) => t.comm === "bash")!;
    const p = bash.process.pushUserString("/etc/passwd");
    expect(p.hi).toBeLessThan(0x8000);
    const cpu = kernel.cpus[bash.cpu]!;
    kernel.runOn(bash.cpu, bash, () => undefined);
    const dst = kernel.memory.alloc(32, { name: "dst", kind: "data" });
    expect(kernel.probeReadUserStr(cpu, dst.addressLo, KERNEL_HI, p.lo, p.hi, 32)).toBe(12);
    expect(new TextDecoder().decode(kernel.memory.u8.subarray(dst.base, dst.base + 11))).toBe(
      "/etc/passwd",
    );
    expect(() => kernel.memory.load8(p.lo, p.hi)).toThrow(MemoryFault);
    expect(() => kernel.memory.load8(p.lo, p.hi)).toThrow(/user-space address/);
    // the region's kernel alias is not readable either
    const region = bash.process.user!.list()[0]!.region;
    expect(kernel.memory.isAccessible(region.base, KERNEL_HI, 1, "read")).toBe(false);
    // another task's user memory is not the current one
    const other = kernel.tasks.list().find((t) => t.comm === "cron")!;
    kernel.runOn(bash.cpu, other, () => undefined);
    expect(kernel.probeReadUser(cpu, dst.addressLo, KERNEL_HI, p.lo, p.hi, 8)).toBe(false);
    expect([...kernel.memory.u8.subarray(dst.base, dst.base + 8)]).toEqual(new Array(8).fill(0));
  });

  it("bad user pointers make system calls fail with EFAULT", () => {
    const kernel = new SimKernel();
    const bash = kernel.tasks.list().find((t) => t.comm === "bash")!;
    expect(
      kernel.syscall(bash, NR.openat, () => [AT_FDCWD, { lo: 0x1000, hi: 0x10 }, O_RDONLY, 0]),
    ).toBe(-Errno.EFAULT);
    expect(kernel.syscall(bash, 9999, () => [])).toBe(-Errno.ENOSYS);
  });
});

describe("random streams and the clock", () => {
  it("are deterministic and independent", () => {
    const a = new Prng(1, "workload");
    const b = new Prng(1, "workload");
    const c = new Prng(1, "prandom/cpu0");
    const xs = Array.from({ length: 8 }, () => a.u32());
    expect(Array.from({ length: 8 }, () => b.u32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.u32())).not.toEqual(xs);
    const r = new Prng(3, "x");
    for (let i = 0; i < 1000; i++) {
      const v = r.logUniform(4, 6);
      expect(v).toBeGreaterThanOrEqual(16);
      expect(v).toBeLessThan(128);
      expect(r.below(7)).toBeLessThan(7);
    }
  });

  it("gives boot time, realtime and jiffies from one monotonic clock", () => {
    const kernel = new SimKernel();
    const c = kernel.clock;
    expect(c.ns).toBe(3600e9);
    c.advance(1500);
    expect(c.bootNs).toBe(c.ns);
    expect(c.realtimeNs - c.ns).toBe(1_700_000_000e9);
    expect(c.coarseNs).toBeLessThanOrEqual(c.ns);
    expect(c.jiffies).toBe(2 ** 32 - 300 * 250 + 3600 * 250);
  });
});
