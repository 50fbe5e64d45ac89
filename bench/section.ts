// What a benchmark section is: a named producer of rows, shown as a table or as one JSON key.
// bench/run.ts lists the sections; each lives in its own file (bench/vm.ts, ...).
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface BenchOptions {
  /** timed runs per measurement (the median is reported) */
  runs: number;
  /** untimed runs first, so the JIT compilers have settled */
  warmup: number;
  /** only programs whose name contains this */
  filter: string | undefined;
  /** progress lines go here (stderr), never into the JSON */
  log: (line: string) => void;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | null;
}

export interface BenchSection<Row extends object = object> {
  /** the JSON key ("vm", "kprobe", "compile", ...) */
  key: string;
  title: string;
  columns: Column<Row>[];
  run: (options: BenchOptions) => Promise<Row[]>;
}

/** The repository root (the directory holding package.json), from source or from dist/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("bench: cannot find the repository root");
    dir = up;
  }
  return dir;
}

/** The shared data directory beside the repository (../shared). */
export function sharedDir(): string {
  return join(repoRoot(), "..", "shared");
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
