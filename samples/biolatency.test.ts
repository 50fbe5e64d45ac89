import { describe, expect, it } from "vitest";
import { biolatency } from "./biolatency.js";
import { log2Slot } from "./lib/format.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("biolatency", () => {
  it("puts every completed request in the slot of its latency", async () => {
    let completedBefore = 0;
    const run = await runFresh(biolatency, {
      seed: 5,
      before: (k) => void (completedBefore = k.block.completed.length),
    });
    const { slots, unmatched } = run.result;
    const completed = run.kernel.block.completed.slice(completedBefore);
    const total = slots.reduce((a, b) => a + (b ?? 0), 0);
    expect(unmatched).toBe(0);
    expect(total).toBe(completed.length);
    expect(total).toBe(Object.values(run.summary.disk!.requests).reduce((a, b) => a + b, 0));

    // The kernel measures from the request's start_time_ns; the program from the entry of
    // blk_mq_start_request, a little later (less than a microsecond). So each request lands in
    // the slot of its kernel latency in usecs, or of one usec less: the cumulative counts must
    // lie between those of the two.
    const usecs = completed.map((c) => Math.floor(c.latencyNs / 1000));
    const cumulative = (values: number[], s: number) =>
      values.filter((v) => log2Slot(v) <= s).length;
    let measured = 0;
    for (let s = 0; s < 27; s++) {
      measured += slots[s] ?? 0;
      expect(measured).toBeGreaterThanOrEqual(cumulative(usecs, s));
      expect(measured).toBeLessThanOrEqual(
        cumulative(
          usecs.map((u) => Math.max(u - 1, 0)),
          s,
        ),
      );
    }
    expect(run.report).toContain(`${total} requests completed`);
    expect(run.report).toMatch(/usecs\s+: count\s+distribution/);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(biolatency);
      expect([...runs.tsbpfMaps].sort()).toEqual([...runs.clangMaps].sort());
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
