import { describe, expect, it } from "vitest";
import { runDemo } from "./demo.js";
import { SAMPLES } from "./index.js";
import { HAS_LIBBPF_HEADERS } from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("npm start (the demo)", () => {
  it("compiles every sample with tsbpf, runs them on one kernel and prints each under its heading", async () => {
    const lines: string[] = [];
    await runDemo({ seed: 1, events: 600, engine: "jit" }, (text) => lines.push(text));
    const out = lines.join("\n");
    SAMPLES.forEach((s, i) =>
      expect(out).toContain(`[${i + 1}/${SAMPLES.length}] ${s.name}: ${s.title}`),
    );
    expect(out).not.toMatch(/\((not run|failed):/);
    expect(out).toMatch(/one simulated Linux 6\.1\.192 kernel, 2 CPUs, seed 1: 9 samples attached/);
    expect(out).toContain("(on its own simulated Linux 4.1.0 kernel)");
    expect(out).toMatch(/compiled 10\/10 samples in [\d.]+ s/);
  });
});
