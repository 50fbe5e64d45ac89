// `tsbpf run FILE.o`: load an object into a fresh simulated kernel, attach every program by
// its section name, drive a workload, and print what the programs produced.
//
//   tsbpf run FILE.o|FILE.bpf.c [--workload NAME] [--events N] [--seed S] [--cpus N]
//                               [--kernel 4.1|6.1|6.18] [--engine interp|jit] [--json]
//
// Prints the attachments, the trace_pipe lines, the perf and ring buffer records, the final
// contents of every map (decoded through the object's BTF) and each program's run and miss
// counts; --json prints the same as one JSON document. The same options give the same output,
// byte for byte. A program the verifier rejects is reported with its log, exit 1.
import { basename } from "node:path";
import {
  BpfObject,
  type BpfLink,
  type BtfValue,
  type PerfBuffer,
  type RingBuffer,
} from "../api/index.js";
import { BpfError } from "../api/errors.js";
import type { Engine } from "../bpf/engine.js";
import { TsbpfError } from "../error.js";
import { SimKernel } from "../kernel/kernel.js";
import {
  runWorkload,
  WORKLOADS,
  type WorkloadName,
  type WorkloadSummary,
} from "../kernel/workload.js";
import { BpfMapType } from "../uapi/bpf.js";
import { InputError, readInput } from "./input.js";

class RunCliError extends TsbpfError {}

const USAGE =
  "usage: tsbpf run FILE.o|FILE.bpf.c [--workload " +
  WORKLOADS.join("|") +
  "] [--events N] [--seed S] [--cpus N] [--kernel 4.1|6.1|6.18] [--engine interp|jit] [--json]";

export interface RunOptions {
  /** an object file, or C source compiled in process */
  file: string;
  workload?: WorkloadName;
  events?: number;
  seed?: number;
  cpus?: number;
  kernel?: "4.1" | "6.1" | "6.18";
  engine?: Engine;
}

export interface ProgramReport {
  name: string;
  section: string;
  type: string;
  /** "kprobe/vfs_read -> count (link)"; empty when the section names no target */
  attached: string[];
  /** why it was not attached: "no target in its section", "autoload off" ... */
  notAttached?: string;
  runs: number;
  misses: number;
}

export type EventRecord =
  { cpu: number; data: string } | { cpu: number; lost: number } | { data: string };

export interface MapReport {
  type: string;
  keyType?: string;
  valueType?: string;
  entries: { key: BtfValue; value: BtfValue }[];
}

/** What `tsbpf run --json` prints. */
export interface RunReport {
  object: string;
  kernel: { release: string; cpus: number; seed: number; engine: Engine };
  workload: WorkloadSummary;
  programs: ProgramReport[];
  trace: string[];
  /** per perf event array or ring buffer map, its records in order */
  events: Record<string, { kind: "perf" | "ringbuf"; records: EventRecord[] }>;
  maps: Record<string, MapReport>;
  /** runs skipped for recursion, per program; samples lost, per perf buffer */
  misses: { programs: Record<string, number>; perfLost: Record<string, number> };
}

/** Load, attach, run and collect: the report `tsbpf run` prints. */
export async function runObject(options: RunOptions): Promise<RunReport> {
  const seed = options.seed ?? 1;
  const cpus = options.cpus ?? 2;
  const engine = options.engine ?? "jit";
  const kernel = new SimKernel({ cpus, seed, version: options.kernel ?? "6.1" });
  using obj = await openFile(options.file);
  obj.load(kernel, { engine });
  const trace = obj.tracePipe();
  const readers = openReaders(obj);
  const { links, notAttached } = attachEach(obj);
  const workload = runWorkload(kernel, options.workload ?? "mixed", {
    events: options.events ?? 1000,
  });
  trace.close();
  for (const r of Object.values(readers)) r.reader.close();
  return {
    object: obj.name,
    kernel: { release: kernel.release, cpus, seed, engine },
    workload,
    programs: obj.programs.map((p) => programReport(p, links, notAttached.get(p.name))),
    trace: trace.drain().map((l) => l.line),
    events: Object.fromEntries(
      Object.entries(readers).map(([name, r]) => [name, { kind: r.kind, records: r.records() }]),
    ),
    maps: Object.fromEntries(
      obj.maps.filter((m) => !isStream(m.type)).map((m) => [m.name, mapReport(m)]),
    ),
    misses: {
      programs: Object.fromEntries(
        obj.programs.filter((p) => p.loaded).map((p) => [p.name, p.stats().recursionMisses]),
      ),
      perfLost: Object.fromEntries(
        Object.entries(readers)
          .filter(([, r]) => r.kind === "perf")
          .map(([name, r]) => [name, (r.reader as PerfBuffer).lost]),
      ),
    },
  };
}

/**
 * The object in `file` (C source when it ends in .c), read here so that a read error says why.
 * An object that is not a usable ELF object is reported as `tsbpf verify` and `objdump` report
 * it (`x.o: ELF header: ...`), not wrapped a second time in the API's `x.o: open:` form.
 */
async function openFile(file: string): Promise<BpfObject> {
  const source = file.endsWith(".c");
  let bytes: Uint8Array;
  try {
    bytes = readInput(file);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const what = source ? "source" : "object";
    throw new RunCliError(`${file}: open: cannot read the ${what}: ${err.code} (${err.reason})`);
  }
  try {
    return await BpfObject.open(
      source
        ? { source: Buffer.from(bytes).toString("utf8"), file }
        : { bytes, name: basename(file) },
    );
  } catch (err) {
    if (err instanceof BpfError && err.command === "open" && err.cause instanceof TsbpfError)
      throw err.cause;
    throw err;
  }
}

type Reader =
  | { kind: "perf"; reader: PerfBuffer; records: () => EventRecord[] }
  | { kind: "ringbuf"; reader: RingBuffer; records: () => EventRecord[] };

/** A reader on every perf event array and ring buffer, its records kept as they come. */
function openReaders(obj: BpfObject): Record<string, Reader> {
  const readers: Record<string, Reader> = {};
  for (const map of obj.maps) {
    const records: EventRecord[] = [];
    if (map.type === BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
      const reader = obj.perfBuffer(map.name, {
        onSample: (data, cpu) => void records.push({ cpu, data: hex(data) }),
        onLost: (lost, cpu) => void records.push({ cpu, lost }),
      });
      readers[map.name] = { kind: "perf", reader, records: () => records };
    } else if (map.type === BpfMapType.BPF_MAP_TYPE_RINGBUF) {
      const reader = obj.ringBuffer(map.name, {
        onEvent: (data) => void records.push({ data: hex(data) }),
      });
      readers[map.name] = { kind: "ringbuf", reader, records: () => records };
    }
  }
  return readers;
}

/**
 * Attach every loaded program by its section name. A program whose section names a kind of
 * attachment the simulated kernel does not have (tracepoints, fentry ...) stays loaded, with
 * the reason; any other failure (an unknown function) is an error.
 */
function attachEach(obj: BpfObject): { links: BpfLink[]; notAttached: Map<string, string> } {
  const links: BpfLink[] = [];
  const notAttached = new Map<string, string>();
  for (const prog of obj.programs) {
    if (!prog.loaded) {
      notAttached.set(prog.name, "autoload off");
      continue;
    }
    try {
      const link = prog.attach();
      if (link === undefined) notAttached.set(prog.name, "no target in its section");
      else links.push(link);
    } catch (err) {
      if (!(err instanceof BpfError) || err.errnoName !== "EOPNOTSUPP") throw err;
      notAttached.set(prog.name, err.reason);
    }
  }
  return { links, notAttached };
}

const isStream = (type: number): boolean =>
  type === BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY || type === BpfMapType.BPF_MAP_TYPE_RINGBUF;

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

function programReport(
  p: BpfObject["programs"][number],
  links: BpfLink[],
  whyNot: string | undefined,
): ProgramReport {
  const stats = p.loaded ? p.stats() : { runCount: 0, recursionMisses: 0 };
  return {
    name: p.name,
    section: p.sectionName,
    type: p.typeName,
    attached: links.filter((l) => l.program === p.name).map(String),
    ...(whyNot === undefined ? {} : { notAttached: whyNot }),
    runs: stats.runCount,
    misses: stats.recursionMisses,
  };
}

function mapReport(m: BpfObject["maps"][number]): MapReport {
  return {
    type: m.typeName,
    ...(m.keyType === undefined ? {} : { keyType: m.keyType }),
    ...(m.valueType === undefined ? {} : { valueType: m.valueType }),
    entries: m.dump(),
  };
}

/** The report as text, for people. */
export function formatReport(r: RunReport): string {
  const out: string[] = [];
  const w = r.workload;
  out.push(
    `${r.object} on simulated Linux ${r.kernel.release}, ${r.kernel.cpus} CPUs, seed ${r.kernel.seed}, ${r.kernel.engine} engine`,
  );
  for (const p of r.programs) {
    if (p.notAttached === "autoload off")
      out.push(`skipped   ${p.section}: ${p.name} (autoload off)`);
    else if (p.attached.length === 0)
      out.push(`loaded    ${p.section}: ${p.name} (${p.type}, not attached: ${p.notAttached})`);
    for (const a of p.attached) out.push(`attached  ${a}`);
  }
  out.push(
    `workload ${w.workload}: ${w.events} events in ${((w.endNs - w.startNs) / 1e6).toFixed(3)} ms of kernel time`,
  );
  out.push("", `trace_pipe: ${r.trace.length} lines`, ...r.trace);
  for (const [name, e] of Object.entries(r.events)) {
    const samples = e.records.filter((x) => "data" in x).length;
    const lost = e.records.reduce((n, x) => n + ("lost" in x ? x.lost : 0), 0);
    out.push(
      "",
      e.kind === "perf"
        ? `perf buffer '${name}': ${samples} samples, ${lost} lost`
        : `ring buffer '${name}': ${samples} records`,
    );
    for (const x of e.records)
      out.push(
        "lost" in x
          ? `  cpu${x.cpu} lost ${x.lost}`
          : "cpu" in x
            ? `  cpu${x.cpu} ${x.data}`
            : `  ${x.data}`,
      );
  }
  for (const [name, m] of Object.entries(r.maps)) {
    const types = m.keyType === undefined ? "" : `, ${m.keyType} -> ${m.valueType}`;
    out.push("", `map '${name}' (${m.type}${types}): ${m.entries.length} entries`);
    for (const e of m.entries) out.push(`  ${show(e.key)} = ${show(e.value)}`);
  }
  out.push("", "programs:");
  for (const p of r.programs) out.push(`  ${p.name}: ${p.runs} runs, ${p.misses} missed`);
  return out.join("\n") + "\n";
}

const show = (v: BtfValue): string => JSON.stringify(v);

/** The options, or undefined for -h/--help. */
function parseArgs(args: string[]): (RunOptions & { json: boolean }) | undefined {
  let file: string | undefined;
  const options: Omit<RunOptions, "file"> & { json: boolean } = { json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new RunCliError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    const integer = (min: number, max: number): number => {
      const v = value();
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < min || n > max)
        throw new RunCliError(`${arg} must be an integer from ${min} to ${max}, not '${v}'`);
      return n;
    };
    switch (arg) {
      case "--workload": {
        const v = value();
        if (!(WORKLOADS as readonly string[]).includes(v))
          throw new RunCliError(`--workload must be one of ${WORKLOADS.join(", ")}, not '${v}'`);
        options.workload = v as WorkloadName;
        break;
      }
      case "--events":
        options.events = integer(0, 10_000_000);
        break;
      case "--seed":
        options.seed = integer(0, 0xffffffff);
        break;
      case "--cpus":
        options.cpus = integer(1, 64);
        break;
      case "--kernel": {
        const v = value();
        if (v !== "4.1" && v !== "6.1" && v !== "6.18")
          throw new RunCliError(`--kernel must be 4.1, 6.1 or 6.18, not '${v}'`);
        options.kernel = v;
        break;
      }
      case "--engine": {
        const v = value();
        if (v !== "interp" && v !== "jit")
          throw new RunCliError(`--engine must be interp or jit, not '${v}'`);
        options.engine = v;
        break;
      }
      case "--json":
        options.json = true;
        break;
      case "-h":
      case "--help":
        return undefined;
      default:
        if (arg.startsWith("-")) throw new RunCliError(`unknown option '${arg}'\n${USAGE}`);
        if (file !== undefined)
          throw new RunCliError(`one object at a time ('${file}' and '${arg}')\n${USAGE}`);
        file = arg;
    }
  }
  if (file === undefined) throw new RunCliError(USAGE);
  return { ...options, file };
}

export async function main(args: string[]): Promise<number> {
  const options = parseArgs(args);
  if (options === undefined) {
    console.log(USAGE);
    return 0;
  }
  let report: RunReport;
  try {
    report = await runObject(options);
  } catch (err) {
    if (!(err instanceof BpfError) || err.log === "") throw err;
    // A rejected program: its verifier log says why.
    console.error(`tsbpf: ${err.message}`);
    console.error(err.log.replace(/\n$/, "").replace(/^/gm, "    | "));
    return 1;
  }
  process.stdout.write(
    options.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report),
  );
  return 0;
}
