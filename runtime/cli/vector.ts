// `tsbpf vector`: run conformance-suite vectors (.data files) in the reference interpreter.
//
//   tsbpf vector FILE.data          print r0 as hex on a line of its own; exit 1 on a fault
//   tsbpf vector --check DIR        run every DIR/*.data against its expected result and end
//                                   with the line `N passed, N failed`
//   --budget N                      stop a run after N instructions (default 2^30)
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { TsbpfError } from "../error.js";
import { checkVector, parseVector, runVector } from "../vm/conformance.js";
import { InputError, readInput, systemErrorText } from "./input.js";

class VectorCliError extends TsbpfError {}

const USAGE = `usage: tsbpf vector [--budget N] FILE.data
       tsbpf vector [--budget N] --check DIR`;

/** r0 as the shortest hex literal, e.g. 0x1 or 0x1122334455667788. */
export function formatR0(lo: number, hi: number): string {
  if (hi === 0) return "0x" + (lo >>> 0).toString(16);
  return "0x" + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0");
}

function readText(path: string): string {
  try {
    return Buffer.from(readInput(path)).toString("utf8");
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new VectorCliError(`cannot read ${path}: ${err.code} (${err.reason})`);
  }
}

/** A message that names the vector file: the assembler's and the interpreter's do already. */
const naming = (path: string, message: string): string =>
  message.startsWith(`${path}:`) ? message : `${path}: ${message}`;

function runOne(path: string, budget: number | undefined): number {
  try {
    const vector = parseVector(readText(path), path);
    const result = runVector(vector, budget === undefined ? {} : { budget });
    console.log(formatR0(result.lo, result.hi));
    return 0;
  } catch (err) {
    if (!(err instanceof TsbpfError) || err instanceof VectorCliError) throw err;
    throw new VectorCliError(naming(path, err.message));
  }
}

function checkDir(dir: string, budget: number | undefined): number {
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new VectorCliError(`${dir} is not a directory`);
    files = readdirSync(dir)
      .filter((f) => f.endsWith(".data"))
      .sort();
  } catch (err) {
    if (err instanceof TsbpfError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    throw new VectorCliError(`cannot read ${dir}: ${code} (${systemErrorText(err)})`);
  }
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    const path = join(dir, f);
    let text: string;
    try {
      text = readText(path);
    } catch (err) {
      // one unreadable entry (a directory named x.data) fails, the others still run
      if (!(err instanceof VectorCliError)) throw err;
      failed++;
      console.log(`FAIL ${err.message}`);
      continue;
    }
    const check = checkVector(text, path, budget === undefined ? {} : { budget });
    if (check.passed) {
      passed++;
    } else {
      failed++;
      const why = check.error ?? `r0 = ${check.actual}, expected ${check.expected}`;
      console.log(`FAIL ${naming(path, why)}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

export async function main(args: string[]): Promise<number> {
  let budget: number | undefined;
  let checkDirPath: string | undefined;
  const files: string[] = [];
  try {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === "-h" || arg === "--help") {
        console.log(USAGE);
        return 0;
      } else if (arg === "--budget") {
        const n = Number(args[++i]);
        if (!Number.isInteger(n) || n < 1)
          throw new VectorCliError("--budget wants a positive integer");
        budget = n;
      } else if (arg === "--check") {
        checkDirPath = args[++i];
        if (checkDirPath === undefined) throw new VectorCliError("--check wants a directory");
      } else if (arg.startsWith("-")) {
        throw new VectorCliError(`unknown option ${arg}\n${USAGE}`);
      } else {
        files.push(arg);
      }
    }
    if (checkDirPath !== undefined) {
      if (files.length > 0) throw new VectorCliError(`--check takes no files\n${USAGE}`);
      return checkDir(checkDirPath, budget);
    }
    if (files.length !== 1) throw new VectorCliError(USAGE);
    return runOne(files[0]!, budget);
  } catch (err) {
    if (!(err instanceof TsbpfError)) throw err;
    console.error(`tsbpf vector: ${err.message}`);
    return 1;
  }
}
