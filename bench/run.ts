// `npm run bench`: every benchmark section, as tables (default) or one JSON document (--json).
//
//   npm run bench -- [--json] [--section vm] [--filter alu] [--runs 5] [--warmup 2]
//
// A section is a file exporting a BenchSection (bench/section.ts); add it to `sections` below.
// The JSON document has one key per section ({"vm": [...], ...}) holding its rows; sections with
// the same key (the interpreter's and the JIT's "vm" rows) add to one list. Last comes "goals":
// the issues' yardsticks beside this run's figures (bench/goals.ts).
import type { BenchOptions, BenchSection } from "./section.js";
import { vmSection } from "./vm.js";
import { jitSection } from "./jit.js";
import { kprobeSection } from "./kernel.js";
import { isaSection } from "./isa.js";
import { mapsSection } from "./maps.js";
import { compileSection } from "./compile.js";
import { verifierSection } from "./verifier.js";
import { compileCacheSection, frontendSection } from "./frontend.js";
import { coreCompileSection } from "./core.js";
import { goalRows, goalsSection } from "./goals.js";

const sections: BenchSection<object>[] = [
  vmSection as BenchSection<object>,
  jitSection as BenchSection<object>,
  kprobeSection as BenchSection<object>,
  isaSection as BenchSection<object>,
  mapsSection as BenchSection<object>,
  compileSection as BenchSection<object>,
  verifierSection as BenchSection<object>,
  frontendSection as BenchSection<object>,
  compileCacheSection as BenchSection<object>,
  coreCompileSection as BenchSection<object>,
];

interface Args {
  json: boolean;
  only: string | undefined;
  options: BenchOptions;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    json: false,
    only: undefined,
    options: {
      runs: 5,
      warmup: 2,
      filter: undefined,
      log: (line) => process.stderr.write(line + "\n"),
    },
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${arg} needs a value`);
      return v;
    };
    if (arg === "--json") args.json = true;
    else if (arg === "--section") args.only = value();
    else if (arg === "--filter") args.options.filter = value();
    else if (arg === "--runs") args.options.runs = positive(arg, value());
    else if (arg === "--warmup") args.options.warmup = positive(arg, value());
    else throw new Error(`bench: unknown option ${arg}`);
  }
  return args;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${name} wants a positive integer`);
  return n;
}

function table<Row extends object>(
  section: Pick<BenchSection<Row>, "title" | "columns">,
  rows: Row[],
): string {
  const cells = rows.map((row) => section.columns.map((c) => String(c.value(row) ?? "-")));
  const headers = section.columns.map((c) => c.header);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  // Numbers right-aligned, text left-aligned.
  const numeric = headers.map((_, i) => cells.every((r) => /^-?[\d.,]+$/.test(r[i]!)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [
    section.title,
    line(headers),
    line(widths.map((w) => "-".repeat(w))),
    ...cells.map(line),
  ].join("\n");
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const chosen = sections.filter((s) => args.only === undefined || s.key === args.only);
  if (chosen.length === 0) throw new Error(`bench: no section '${args.only}'`);
  const doc: Record<string, object[]> = {};
  let failed = false;
  for (const section of chosen) {
    const rows = await section.run(args.options);
    doc[section.key] = [...(doc[section.key] ?? []), ...rows]; // sections may share a key
    failed ||= rows.some((r) => "ok" in r && r.ok === false);
    if (!args.json) console.log(table(section, rows) + "\n");
  }
  // The goals beside what this run measured (only when the sections they need ran).
  const goals = goalRows(doc).filter((g) => g.measured !== null);
  if (goals.length > 0) {
    doc[goalsSection.key] = goals;
    if (!args.json) console.log(table(goalsSection, goals) + "\n");
  }
  if (args.json) console.log(JSON.stringify(doc, null, 2));
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
