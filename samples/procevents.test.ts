import { describe, expect, it } from "vitest";
import { procevents } from "./procevents.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("procevents", () => {
  it("reports every process start and exit, with exit codes and lifetimes", async () => {
    const run = await runFresh(procevents, { seed: 21 });
    const { events } = run.result;
    const sched = run.summary.sched!;
    const starts = events.filter((e) => !e.exitEvent);
    const exits = events.filter((e) => e.exitEvent);
    expect(starts.length).toBe(sched.forks);
    expect(starts.length).toBe(run.summary.calls.wake_up_new_task);
    expect(exits.length).toBe(sched.exits);
    const codes: Record<string, number> = {};
    for (const e of exits) codes[e.exitCode] = (codes[e.exitCode] ?? 0) + 1;
    expect(codes).toEqual(sched.exitCodes);
    // ring buffer order is time order; an exit's lifetime runs from its start event
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts);
    for (const e of exits) {
      const start = starts.find((s) => s.pid === e.pid);
      if (start === undefined) expect(e.durationNs).toBe(0);
      else expect(e.durationNs).toBe(e.ts - start.ts);
    }
    for (const s of starts) {
      const task = run.kernel.tasks.get(s.pid);
      if (task !== undefined) expect([s.comm, s.ppid]).toEqual([task.comm, task.parent!.tgid]);
    }
    expect(run.report).toContain(`${starts.length} processes started, ${exits.length} exited`);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(procevents);
      expect([...runs.tsbpfMaps].sort()).toEqual([...runs.clangMaps].sort());
      expect(runs.clang.events.events!.records.length).toBeGreaterThan(0);
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
