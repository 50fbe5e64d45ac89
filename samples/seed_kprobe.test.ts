import { describe, expect, it } from "vitest";
import { seedKprobe } from "./seed_kprobe.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("seed_kprobe", () => {
  it("loads by hand on a 4.1 kernel, counts every vfs_read, keeps the big ones, detaches on close", async () => {
    const run = await runFresh(seedKprobe, { seed: 2 });
    const { steps, stats, bigOnCpu0, trace, afterClose } = run.result;
    expect(run.kernel.release).toBe("4.1.0");
    expect(steps[1]).toMatch(
      /BPF_PROG_LOAD, kern_version 6\.1\.0\) = -EINVAL: kprobe program has kern_version/,
    );
    expect(steps).toContain("ioctl(5, PERF_EVENT_IOC_SET_BPF, 4) = 0");
    expect(stats.calls).toBe(run.summary.calls.vfs_read);
    // returning 1 kept the event: the perf event, opened on CPU 0 as the seed's loader did,
    // recorded each big read made on CPU 0 and nothing else
    expect(trace.length).toBe(bigOnCpu0);
    expect(bigOnCpu0).toBeGreaterThan(0);
    expect(stats.big).toBeGreaterThan(bigOnCpu0);
    expect(stats.big).toBeLessThan(stats.calls);
    for (const line of trace)
      expect(line).toMatch(/ \[000\] .* seed_vfs_read: \(vfs_read\+0x0\/0x[0-9a-f]+\)$/);
    // close(perf fd) detached it: more reads, no more counting, the program gone
    expect(afterClose.vfsReads).toBeGreaterThan(0);
    expect(afterClose.counted).toBe(stats.calls);
    expect(afterClose.unloaded).toBe(true);
    expect(run.report).toContain(`vfs_read: ${stats.calls} calls`);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json --kernel 4.1` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(seedKprobe);
      expect(runs.clang.kernel.release).toBe("4.1.0");
      expect(runs.clang.trace.length).toBeGreaterThan(0);
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
