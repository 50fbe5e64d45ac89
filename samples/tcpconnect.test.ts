import { describe, expect, it } from "vitest";
import { ipv4 } from "./lib/format.js";
import { tcpconnect } from "./tcpconnect.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("tcpconnect", () => {
  it("sees every connection attempt with the addresses and ports the kernel chose", async () => {
    const run = await runFresh(tcpconnect, { seed: 19 });
    const { events, perPeer, lost } = run.result;
    const expected = run.summary.net!.connectsByPeer;
    expect(lost).toBe(0);
    const seen: Record<string, number> = {};
    for (const e of events) {
      const peer = `${ipv4(e.daddr)}:${e.dport}`;
      seen[peer] = (seen[peer] ?? 0) + 1;
      expect(e.ret).toBe(0);
      expect(ipv4(e.saddr)).toBe(ipv4(e.daddr).startsWith("127.") ? "127.0.0.1" : "10.0.2.15");
      expect(e.sport).toBeGreaterThanOrEqual(32768);
    }
    expect(seen).toEqual(expected);
    expect(Object.fromEntries([...perPeer].sort())).toEqual(expected);
    // ephemeral ports are handed out once each
    expect(new Set(events.map((e) => e.sport)).size).toBe(events.length);
    expect(run.report).toMatch(/CONNECTS\s+DESTINATION/);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(tcpconnect);
      expect([...runs.tsbpfMaps].sort()).toEqual([...runs.clangMaps].sort());
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
