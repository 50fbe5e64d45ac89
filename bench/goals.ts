// The "goals" section: the issues' yardsticks beside the figures the other sections measured in
// the same run. Figures are per second (or ms) of the process's CPU time (the machine is shared;
// the wall-time figure is shown beside).
//
//   interpreter  >= 100 M BPF instructions/s on the ALU loops (issue 9; the worst program counts)
//   JIT          >= 500 M BPF instructions/s on the ALU loops (issue 9)
//   kprobe path  >= 5 M events/s with the JIT (counter program, one CPU, direct calls) (issue 9)
//   warm compile <= 5 ms for a typical program: the median over the corpus and the samples of a
//                compile in process with the prefix cache (issue 4, from compile_cache)
//   vmlinux.h    a libbpf-tools program with the real vmlinux.h compiles in no more time than
//                clang: the median ratio of tsbpf's CPU time to clang's <= 1, in a process that
//                has compiled before (without the prefix cache, and the program's first compile
//                with it), through `tsbpf build` with its compile server up (the program built
//                before, and new to the server), and in a `tsbpf build` process of its own
//                (issue 10, core_compile)
import type { CoreCompileRow } from "./core.js";
import type { CompileCacheRow } from "./frontend.js";
import type { JitRow } from "./jit.js";
import type { KprobeRow } from "./kernel.js";
import type { BenchSection } from "./section.js";
import type { VmRow } from "./vm.js";

export interface GoalRow {
  goal: string;
  /** which rows: "alu64_xorshift.data, ..." */
  over: string;
  unit: string;
  /** whether the figure must reach the target or stay under it */
  direction: "at least" | "at most";
  target: number;
  /** the figure, from CPU time (for speeds: the worst of the rows) */
  measured: number | null;
  /** the same from wall time */
  wall: number | null;
  /** how far past the goal: measured / target (at least) or target / measured (at most) */
  ratio: number | null;
  met: boolean | null;
}

/** The loops that are all ALU and jumps (no memory, no calls). */
export const ALU_LOOPS = ["alu64_xorshift.data", "alu32_jmp32.data", "muldiv64.data"];

function worst(values: number[]): number | null {
  return values.length === 0 ? null : Math.min(...values);
}

function goal(
  name: string,
  over: string,
  unit: string,
  target: number,
  cpu: number[],
  wall: number[],
): GoalRow {
  const measured = worst(cpu);
  return {
    goal: name,
    over,
    unit,
    direction: "at least",
    target,
    measured,
    wall: worst(wall),
    ratio: measured === null ? null : Math.round((measured / target) * 100) / 100,
    met: measured === null ? null : measured >= target,
  };
}

/** A goal the figure must stay under (times, ratios of times). */
function ceiling(
  name: string,
  over: string,
  unit: string,
  target: number,
  measured: number | null,
  wall: number | null,
): GoalRow {
  return {
    goal: name,
    over,
    unit,
    direction: "at most",
    target,
    measured,
    wall,
    ratio: measured === null || measured === 0 ? null : Math.round((target / measured) * 100) / 100,
    met: measured === null ? null : measured <= target,
  };
}

/** The goal rows from the document the other sections filled. */
export function goalRows(doc: Record<string, object[]>): GoalRow[] {
  const vm = (doc.vm ?? []) as (VmRow | JitRow)[];
  const rows: GoalRow[] = [];
  for (const [engine, target] of [
    ["interp", 100],
    ["jit", 500],
  ] as const) {
    const mine = vm.filter((r) => r.engine === engine && r.ok);
    const alu = mine.filter((r) => ALU_LOOPS.includes(r.program));
    const label = engine === "interp" ? "interpreter" : "JIT";
    rows.push(
      goal(
        `${label} on the ALU loops`,
        alu.map((r) => r.program.replace(/\.data$/, "")).join(", ") || "-",
        "M insn/s",
        target,
        alu.map((r) => r.cpu_mips),
        alu.map((r) => r.mips),
      ),
      goal(
        `${label} on every benchmark program`,
        `${mine.length} programs`,
        "M insn/s",
        target,
        mine.map((r) => r.cpu_mips),
        mine.map((r) => r.mips),
      ),
    );
  }
  const kprobe = ((doc.kprobe ?? []) as KprobeRow[]).filter(
    (r) => r.engine === "jit" && r.ok && r.driver.includes("directly"),
  );
  rows.push(
    goal(
      "kprobe path with the JIT (counter program)",
      kprobe.map((r) => r.driver).join(", ") || "-",
      "M events/s",
      5,
      kprobe.map((r) => r.events_per_s / 1e6),
      kprobe.map((r) => r.wall_events_per_s / 1e6),
    ),
  );
  const cache = ((doc.compile_cache ?? []) as CompileCacheRow[]).find(
    (r) => r.program === "median",
  );
  if (cache !== undefined) {
    rows.push(
      ceiling(
        "warm in-process compile, typical program",
        "median of compile_cache (corpus and samples, prefix cache)",
        "ms",
        5,
        cache.cached_cpu_ms,
        cache.cached_ms,
      ),
    );
  }
  const core = ((doc.core_compile ?? []) as CoreCompileRow[]).find((r) => r.program === "median");
  if (core !== undefined) {
    // Each a CPU-time ratio to clang's, with the wall-time ratio beside.
    const vsClang = (goal: string, over: string, ratio: number | null, ms: number | null) =>
      ceiling(
        `real vmlinux.h program, ${goal} / clang`,
        `median of core_compile (${over})`,
        "x clang",
        1,
        ratio,
        core.clang_ms && ms !== null ? ms / core.clang_ms : null,
      );
    rows.push(
      vsClang(
        "in process",
        "no prefix cache: the whole front end",
        core.inprocess_ratio,
        core.inprocess_ms,
      ),
      vsClang(
        "in process, first compile",
        "prefix cache holds other programs' states",
        core.first_ratio,
        core.first_ms,
      ),
      vsClang(
        "tsbpf build again",
        "compile server up, program built before",
        core.server_ratio,
        core.server_ms,
      ),
      vsClang(
        "tsbpf build first",
        "compile server up, program new to it",
        core.server_first_ratio,
        core.server_first_ms,
      ),
      vsClang(
        "fresh tsbpf build",
        "TSBPF_SERVER=0: a process of its own",
        core.cold_ratio,
        core.cold_ms,
      ),
    );
  }
  return rows;
}

/** Not run like the others: bench/run.ts fills it from the document at the end. */
export const goalsSection: Omit<BenchSection<GoalRow>, "run"> = {
  key: "goals",
  title: "goals of issues 4, 9 and 10 (from CPU time, wall beside; x goal >= 1 is met)",
  columns: [
    { header: "goal", value: (r) => r.goal },
    { header: "over", value: (r) => r.over },
    {
      header: "target",
      value: (r) => `${r.direction === "at least" ? ">=" : "<="} ${r.target} ${r.unit}`,
    },
    { header: "measured", value: (r) => (r.measured === null ? null : r.measured.toFixed(2)) },
    { header: "wall", value: (r) => (r.wall === null ? null : r.wall.toFixed(2)) },
    { header: "x goal", value: (r) => (r.ratio === null ? null : r.ratio.toFixed(2)) },
    { header: "met", value: (r) => (r.met === null ? "-" : r.met ? "yes" : "NO") },
  ],
};
