import { describe, expect, it } from "vitest";
import { memleak } from "./memleak.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("memleak", () => {
  it("finds exactly the allocations the kernel still holds, leaks included", async () => {
    const run = await runFresh(memleak, { seed: 9 });
    const alloc = run.summary.alloc!;
    const { outstanding } = run.result;
    expect(outstanding.length).toBe(alloc.outstanding + alloc.leaks);
    expect(outstanding.reduce((n, a) => n + a.size, 0)).toBe(
      alloc.outstandingBytes + alloc.leakedBytes,
    );
    // every leak the workload made is there, with its size
    const byLow = new Map(
      outstanding.map((a) => [(a.address & 0xffffffffn).toString(16), a.size] as const),
    );
    expect(Object.keys(alloc.leakedAddresses).length).toBe(alloc.leaks);
    for (const [low, size] of Object.entries(alloc.leakedAddresses))
      expect([low, byLow.get(low)]).toEqual([low, size]);
    // made by the kernel workers that allocate, at a kallsyms-resolved call site
    for (const a of outstanding) {
      expect(a.comm).toMatch(/^kworker\//);
      expect(a.callSite).toMatch(/^\w+\+0x[0-9a-f]+\/0x[0-9a-f]+$/);
      expect(a.ageNs).toBeGreaterThanOrEqual(0);
    }
    expect(run.report).toContain(`${outstanding.length} allocations outstanding`);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(memleak);
      expect([...runs.tsbpfMaps].sort()).toEqual([...runs.clangMaps].sort());
      expect(runs.clang.maps.outstanding!.entries.length).toBeGreaterThan(0);
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
