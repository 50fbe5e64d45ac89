// `tsbpf verify FILE.o`: load an object into a fresh simulated kernel the way libbpf would
// (maps created, relocations applied, every program through BPF_PROG_LOAD) and say, per
// program, whether it loads.
//
//   tsbpf verify FILE.o [--log-level 0|1|2] [--kernel 4.1|6.1|6.18]
//
// Prints one line per program ("OK" or "FAIL" with the section, the program and the reason)
// and, for a program that failed or when --log-level is given, the verifier log indented below
// it; then a summary line. Exits 0 when every program loads, 1 otherwise. A file that is not a
// usable object is one line on stderr and exit 1.
import { TsbpfError } from "../error.js";
import { SimKernel } from "../kernel/kernel.js";
import { ObjectLoader, type LoadedProgram } from "../loader/load.js";
import { openObject } from "../object/open.js";
import { progTypeShortName } from "../uapi/bpf.js";
import { readInput } from "./input.js";

class VerifyCliError extends TsbpfError {}

const USAGE = "usage: tsbpf verify FILE.o [--log-level 0|1|2] [--kernel 4.1|6.1|6.18]";

interface VerifyArgs {
  file: string;
  logLevel: number | undefined;
  kernel: "4.1" | "6.1" | "6.18";
}

/** The options, or undefined for -h/--help. */
function parseArgs(args: string[]): VerifyArgs | undefined {
  let file: string | undefined;
  let logLevel: number | undefined;
  let kernel: "4.1" | "6.1" | "6.18" = "6.1";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new VerifyCliError(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "-h" || arg === "--help") return undefined;
    if (arg === "--log-level") {
      const v = value();
      if (!["0", "1", "2"].includes(v))
        throw new VerifyCliError(`--log-level must be 0, 1 or 2, not '${v}'`);
      logLevel = Number(v);
    } else if (arg === "--kernel") {
      const v = value();
      if (v !== "4.1" && v !== "6.1" && v !== "6.18")
        throw new VerifyCliError(`--kernel must be 4.1, 6.1 or 6.18, not '${v}'`);
      kernel = v;
    } else if (arg.startsWith("-")) {
      throw new VerifyCliError(`unknown option '${arg}'\n${USAGE}`);
    } else if (file === undefined) {
      file = arg;
    } else {
      throw new VerifyCliError(`one object at a time ('${file}' and '${arg}')\n${USAGE}`);
    }
  }
  if (file === undefined) throw new VerifyCliError(USAGE);
  return { file, logLevel, kernel };
}

/** The log indented under its program, without a trailing empty line. */
function indented(log: string): string[] {
  return log
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => `    | ${line}`);
}

function report(p: LoadedProgram, showLog: boolean): string[] {
  const type = progTypeShortName(p.type) ?? `type ${p.type}`;
  if (!p.autoload) return [`SKIP  ${p.sectionName}: ${p.name} (autoload off)`];
  if (p.error === undefined) {
    const lines = [`OK    ${p.sectionName}: ${p.name} (${type}, ${p.insns.length} insns)`];
    return showLog && p.log !== "" ? [...lines, ...indented(p.log)] : lines;
  }
  const lines = [`FAIL  ${p.error.message}`];
  return p.error.log !== "" ? [...lines, ...indented(p.error.log)] : lines;
}

export async function main(args: string[]): Promise<number> {
  const options = parseArgs(args);
  if (options === undefined) {
    console.log(USAGE);
    return 0;
  }
  const object = openObject(readInput(options.file, { command: "verify" }), options.file);
  const kernel = new SimKernel({ version: options.kernel });
  const loaded = new ObjectLoader(object).load(kernel, {
    keepGoing: true,
    logLevel: options.logLevel ?? 1,
  });
  const showLog = options.logLevel !== undefined && options.logLevel > 0;
  for (const p of loaded.programs) for (const line of report(p, showLog)) console.log(line);
  const failed = loaded.failures.length;
  const loadedCount = loaded.programs.filter((p) => p.fd >= 0).length;
  console.log(
    `${object.elf.fileName}: ${loaded.programs.length} programs, ${loaded.maps.length} maps: ` +
      `${loadedCount} loaded, ${failed} failed`,
  );
  loaded.close();
  return failed === 0 ? 0 : 1;
}
