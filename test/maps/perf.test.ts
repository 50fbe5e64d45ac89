// Map operations per second (runtime/maps/bench.ts). The bounds are about ten times the figures
// measured on the development machine, so only a real regression (an allocation or a region per
// operation, a linear scan) trips them.
import { describe, expect, it } from "vitest";
import { measureMapOps } from "../../runtime/maps/bench.js";

describe("map speed", () => {
  it("kernel-side and syscall-side operations stay fast", () => {
    const rows = measureMapOps({ ops: 50_000, runs: 3 });
    console.log(
      rows.map((r) => `${r.map} ${r.op}: ${r.ns_per_op} ns (${r.mops} Mops/s)`).join("\n"),
    );
    const ns = (map: string, op: string): number =>
      rows.find((r) => r.map === map && r.op.startsWith(op))!.ns_per_op;
    expect(ns("array", "lookup")).toBeLessThan(500);
    expect(ns("hash", "lookup")).toBeLessThan(1500);
    expect(ns("hash", "update existing")).toBeLessThan(5000);
    expect(ns("hash", "insert + delete")).toBeLessThan(5000);
    expect(ns("lru_hash", "update evicting")).toBeLessThan(8000);
    expect(ns("ringbuf", "reserve")).toBeLessThan(5000);
    expect(ns("stack_trace", "get_stackid")).toBeLessThan(5000);
  });
});
