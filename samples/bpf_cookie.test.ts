import { describe, expect, it } from "vitest";
import { bpfCookie, COUNTED } from "./bpf_cookie.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("bpf_cookie", () => {
  it("tells its ten attachments apart by cookie: each count is its function's calls", async () => {
    const run = await runFresh(bpfCookie, { seed: 17 });
    const { counts } = run.result;
    expect(counts.map((c) => [c.fn, c.cookie])).toEqual(COUNTED.map((fn, i) => [fn, i + 1]));
    for (const c of counts) {
      expect([c.fn, c.calls]).toEqual([c.fn, run.summary.calls[c.fn] ?? 0]);
      expect([c.fn, c.runs]).toEqual([c.fn, c.calls]);
    }
    expect(counts.filter((c) => c.calls > 0).length).toBeGreaterThanOrEqual(8);
    expect(run.report).toMatch(/FUNCTION\s+COOKIE\s+CALLS/);
  });

  // SEC("kprobe") names no target: `tsbpf run` loads it and attaches nothing, for both objects.
  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(bpfCookie);
      expect(runs.clang.programs.map((p) => p.attached)).toEqual([[]]);
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
