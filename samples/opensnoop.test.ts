import { describe, expect, it } from "vitest";
import { opensnoop } from "./opensnoop.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("opensnoop", () => {
  it("streams one event per open: the paths, results and processes the kernel saw", async () => {
    const run = await runFresh(opensnoop, { seed: 3 });
    const { events, lost } = run.result;
    expect(lost).toBe(0);
    const byPath: Record<string, number> = {};
    for (const e of events) byPath[e.fname] = (byPath[e.fname] ?? 0) + 1;
    expect(byPath).toEqual(run.summary.opensByPath);
    expect(events.filter((e) => e.ret < 0).length).toBe(run.summary.files!.openFailures);
    for (const e of events) {
      const task = run.kernel.tasks.get(e.pid);
      if (task === undefined) continue; // exited since
      expect(e.comm).toBe(task.comm);
      // e.pid is the process; the uid is that of the thread that opened
      expect(task.process.threads.map((t) => t.uid)).toContain(e.uid);
    }
    for (let i = 1; i < events.length; i++)
      expect(events[i]!.ts).toBeGreaterThanOrEqual(events[i - 1]!.ts);
    expect(run.report).toContain(`${events.length} opens, 0 lost`);
    expect(run.report).toContain(events[0]!.fname);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(opensnoop);
      expect([...runs.tsbpfMaps].sort()).toEqual([...runs.clangMaps].sort());
      expect(runs.clang.events.events!.records.length).toBeGreaterThan(0);
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
