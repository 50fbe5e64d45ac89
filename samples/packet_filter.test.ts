import { describe, expect, it } from "vitest";
import { packetFilter } from "./packet_filter.js";
import {
  clangAndTsbpfRuns,
  comparable,
  HAS_CLANG,
  runFresh,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("packet_filter", () => {
  it("prints every packet the kernel received on lo, and only those", async () => {
    let lo = { packets: 0, bytes: 0 };
    const run = await runFresh(packetFilter, {
      seed: 7,
      before: (k) => void (lo = { packets: k.net.lo.rxPackets, bytes: k.net.lo.rxBytes }),
    });
    const dev = run.kernel.net.lo;
    const { lines, received } = run.result;
    expect(lines.length).toBe(dev.rxPackets - lo.packets);
    expect(lines.length).toBeGreaterThan(20);
    expect(received).toBe(run.summary.calls.netif_receive_skb);
    expect(received).toBeGreaterThan(lines.length); // eth0 traffic was filtered out
    // skb->len of each packet adds up to the bytes lo received
    let bytes = 0;
    for (const l of lines) {
      const m = /^skb [0-9a-f]{16} len (\d+)$/.exec(l.text);
      expect(m, l.line).not.toBeNull();
      bytes += Number(m![1]);
    }
    expect(bytes).toBe(dev.rxBytes - lo.bytes);
    expect(run.report).toContain(`${lines.length} of ${received} received packets arrived on lo:`);
    expect(run.report).toContain(lines[0]!.line);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(packetFilter);
      expect(runs.tsbpfMaps).toEqual(runs.clangMaps);
      expect(runs.clang.trace.length).toBeGreaterThan(0);
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
