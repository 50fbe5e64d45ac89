// Native yardsticks for the JIT: a benchmark program written as C (bench/native/NAME.c, one C
// statement per BPF instruction), built with cc -O2 and run as a process that prints r0 and the
// CPU time of its loop. It shows what the same work costs as machine code, so a JIT figure far
// above the interpreter's can be checked against it (alu64_xorshift runs at about 0.1 ns per BPF
// instruction because its loop is a 6-cycle dependency chain with ~20 cheap instructions around
// it; cc's code takes the same time). Without cc the yardstick is absent (null).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, repoRoot } from "./section.js";

export interface NativeRun {
  /** r0 as 0x%016x */
  result: string;
  /** median CPU ms of the loop */
  ms: number;
}

/** Build and run bench/native/NAME.c `runs` times; undefined without a C model or a compiler. */
export function runNative(name: string, runs: number): NativeRun | undefined {
  const source = join(repoRoot(), "bench", "native", `${name}.c`);
  if (!existsSync(source)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-bench-native-"));
  try {
    const exe = join(dir, name);
    const built = spawnSync("cc", ["-O2", "-o", exe, source], { encoding: "utf8" });
    if (built.error || built.status !== 0) return undefined;
    const times: number[] = [];
    let result = "";
    for (let i = 0; i < runs + 1; i++) {
      const r = spawnSync(exe, [], { encoding: "utf8" });
      if (r.error || r.status !== 0) return undefined;
      const [r0, ms] = r.stdout.trim().split(/\s+/);
      result = r0!;
      if (i > 0) times.push(Number(ms)); // the first run warms the page cache
    }
    return { result, ms: median(times) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
