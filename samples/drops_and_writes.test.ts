import { describe, expect, it } from "vitest";
import { dropsAndWrites } from "./drops_and_writes.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("drops_and_writes", () => {
  it("counts every drop at its call site and every write in its process's histogram", async () => {
    const run = await runFresh(dropsAndWrites, { seed: 11 });
    const { drops, writers } = run.result;
    const kernel = run.kernel;

    // Drops: one per kfree_skb_reason call, each at an address inside a kernel function
    // that calls it, as kallsyms resolves it.
    const dropped = drops.reduce((n, d) => n + d.drops, 0);
    expect(dropped).toBe(run.summary.calls.kfree_skb_reason);
    expect(dropped).toBe(
      Object.values(run.summary.net!.dropsByReasonTotal).reduce((a, b) => a + b, 0),
    );
    for (const d of drops) {
      const fn = /^(\w+)\+0x[0-9a-f]+\/0x[0-9a-f]+$/.exec(d.site)?.[1];
      expect(fn && kernel.functions.has(fn), d.site).toBeTruthy();
    }

    // Writes: every ksys_write in exactly one slot of one process's histogram.
    const writes = writers.reduce((n, w) => n + w.writes, 0);
    expect(writes).toBe(run.summary.calls.ksys_write);
    for (const w of writers) {
      expect(w.slots.reduce((a, b) => a + b, 0)).toBe(w.writes);
      const task = kernel.tasks.get(w.pid);
      if (task === undefined) continue; // exited since
      expect(w.comm).toBe(task.comm);
      // w.pid is the process; the uid is that of the thread that wrote
      expect(task.process.threads.map((t) => t.uid)).toContain(w.uid);
    }
    expect(run.report).toContain(`${dropped} packets dropped`);
    expect(run.report).toContain(`${writers[0]!.comm} (pid ${writers[0]!.pid}`);
    expect(run.report).toMatch(/bytes\s+: count\s+distribution/);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(dropsAndWrites);
      expect([...runs.tsbpfMaps].sort()).toEqual([...runs.clangMaps].sort());
      expect(runs.clang.maps.write_sizes!.entries.length).toBeGreaterThan(0);
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
