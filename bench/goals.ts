// The "goals" section: issue 9's yardsticks beside the figures the other sections measured in
// the same run. Speeds are per second of the process's CPU time (the machine is shared; the
// wall-time figure is shown beside), the worst program of each group counting.
//
//   interpreter  >= 100 M BPF instructions/s on the ALU loops
//   JIT          >= 500 M BPF instructions/s on the ALU loops
//   kprobe path  >= 5 M events/s with the JIT (counter program, one CPU, direct calls)
import type { JitRow } from "./jit.js";
import type { KprobeRow } from "./kernel.js";
import type { BenchSection } from "./section.js";
import type { VmRow } from "./vm.js";

export interface GoalRow {
  goal: string;
  /** which rows: "alu64_xorshift.data, ..." */
  over: string;
  unit: string;
  target: number;
  /** the worst of the rows, per CPU second */
  measured: number | null;
  /** the same per wall second */
  wall: number | null;
  /** measured / target */
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
    target,
    measured,
    wall: worst(wall),
    ratio: measured === null ? null : Math.round((measured / target) * 100) / 100,
    met: measured === null ? null : measured >= target,
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
  return rows;
}

/** Not run like the others: bench/run.ts fills it from the document at the end. */
export const goalsSection: Omit<BenchSection<GoalRow>, "run"> = {
  key: "goals",
  title: "goals of issue 9 (the worst row counts; per CPU second, wall beside)",
  columns: [
    { header: "goal", value: (r) => r.goal },
    { header: "over", value: (r) => r.over },
    { header: "target", value: (r) => `${r.target} ${r.unit}` },
    { header: "measured", value: (r) => (r.measured === null ? null : r.measured.toFixed(1)) },
    { header: "wall", value: (r) => (r.wall === null ? null : r.wall.toFixed(1)) },
    { header: "x goal", value: (r) => (r.ratio === null ? null : r.ratio.toFixed(2)) },
    { header: "met", value: (r) => (r.met === null ? "-" : r.met ? "yes" : "NO") },
  ],
};
