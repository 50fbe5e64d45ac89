// `tsbpf build`: clang's command line for BPF objects.
//
//   tsbpf build [-target bpf] [-c] [-O0|-O2] [-g] [-mcpu=v1..v4] [-I DIR] [-D NAME[=V]] [-U NAME]
//               [-E | -S | -fsyntax-only] FILE.bpf.c [-o OUT]
//
// -c (the default) writes the object (FILE.bpf.o unless -o); -S writes the disassembly as
// `llvm-objdump -d -r` prints it (FILE.bpf.s unless -o); -E prints the preprocessed source
// (to -o or stdout); -fsyntax-only writes nothing. Given several, the earliest phase wins, as
// with clang. `-` as the input reads stdin, as the output writes stdout. Diagnostics are
// printed as clang prints them; any error exits 1 and, as with clang, leaves no output file.
import { closeSync, lstatSync, openSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { TsbpfError } from "../../runtime/error.js";
import {
  InputError,
  MAX_INPUT_BYTES,
  readInput,
  systemErrorText,
} from "../../runtime/cli/input.js";
import { objdumpText } from "../../runtime/cli/objdump.js";
import {
  compile,
  preprocessOnly,
  type CompileInput,
  type CompileOptions,
  type Cpu,
} from "../compile.js";
import {
  CompileError,
  renderDiagnostics,
  type Diagnostic,
  type SourceProvider,
} from "../diagnostics.js";

/** A bad command line, reported as clang reports one. */
export class BuildUsageError extends TsbpfError {}

const USAGE = `usage: tsbpf build [-target bpf] [-c] [-O0|-O2] [-g] [-mcpu=v1|v2|v3|v4]
                   [-I DIR] [-D NAME[=VALUE]] [-U NAME] [-E | -S | -fsyntax-only]
                   FILE.bpf.c|- [-o OUT|-]`;

export interface BuildArgs {
  input: string;
  output: string | undefined;
  mode: "object" | "assembly" | "syntax" | "preprocess";
  options: CompileOptions;
  werror: boolean;
}

const CPUS = new Map<string, Cpu>([
  ["v1", "v1"],
  ["v2", "v2"],
  ["v3", "v3"],
  ["v4", "v4"],
  ["generic", "v1"],
  ["probe", "v3"],
]);

/** The phases a build can stop after, earliest first: asked for several, clang stops first. */
const PHASES: BuildArgs["mode"][] = ["preprocess", "syntax", "assembly", "object"];

/** Reads clang's flags; throws BuildUsageError naming the bad argument. */
export function parseBuildArgs(args: string[]): BuildArgs {
  const includeDirs: string[] = [];
  const defines: string[] = [];
  const undefines: string[] = [];
  const inputs: string[] = [];
  let output: string | undefined;
  let mode = "object" as BuildArgs["mode"]; // set by stopAfter
  let optLevel: 0 | 2 = 0; // clang's default is -O0
  let debug = false;
  let cpu: Cpu = "v3";
  let werror = false;
  const stopAfter = (phase: BuildArgs["mode"]): void => {
    if (PHASES.indexOf(phase) < PHASES.indexOf(mode)) mode = phase;
  };
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined)
      throw new BuildUsageError(`error: argument to '${flag}' is missing (expected 1 value)`);
    return v;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const joined = (flag: string): string | undefined =>
      a.startsWith(flag) && a.length > flag.length ? a.slice(flag.length) : undefined;
    if (a === "-o") output = value(i++, a);
    else if (joined("-o") !== undefined) output = joined("-o");
    else if (a === "-I") includeDirs.push(value(i++, a));
    else if (joined("-I") !== undefined) includeDirs.push(joined("-I")!);
    else if (a === "-D") defines.push(value(i++, a));
    else if (joined("-D") !== undefined) defines.push(joined("-D")!);
    else if (a === "-U") undefines.push(value(i++, a));
    else if (joined("-U") !== undefined) undefines.push(joined("-U")!);
    else if (a === "-c") stopAfter("object");
    else if (a === "-S") stopAfter("assembly");
    else if (a === "-E") stopAfter("preprocess");
    else if (a === "-fsyntax-only") stopAfter("syntax");
    else if (a === "-g" || a === "-g2" || a === "-gdwarf" || a === "-gbtf") debug = true;
    else if (a === "-g0") debug = false;
    else if (a === "-O0") optLevel = 0;
    else if (/^-O([1-3sz]|fast)?$/.test(a)) optLevel = 2;
    else if (a === "-target" || a === "--target") checkTarget(value(i++, a));
    else if (joined("--target=") !== undefined) checkTarget(joined("--target=")!);
    else if (a.startsWith("-mcpu=")) {
      const c = CPUS.get(a.slice("-mcpu=".length));
      if (!c)
        throw new BuildUsageError(
          `error: unknown target CPU '${a.slice("-mcpu=".length)}' (expected v1, v2, v3, v4, generic or probe)`,
        );
      cpu = c;
    } else if (a === "-Werror") werror = true;
    else if (/^-W[a-z]/.test(a) || a === "-w" || /^-f(no-)?[a-z-]+$/.test(a) || a === "-v0") {
      // warning and code generation switches clang users pass: accepted, no effect here
    } else if (a.startsWith("-") && a !== "-")
      throw new BuildUsageError(`error: unknown argument: '${a}'`);
    else inputs.push(a);
  }
  if (inputs.length === 0) throw new BuildUsageError("error: no input files");
  if (inputs.length > 1 && output !== undefined && mode !== "preprocess")
    throw new BuildUsageError("error: cannot specify -o when generating multiple output files");
  if (inputs.length > 1) throw new BuildUsageError("error: tsbpf build takes one input file");
  return {
    input: inputs[0]!,
    output,
    mode,
    options: { includeDirs, defines, undefines, optLevel, cpu, debug },
    werror,
  };
}

function checkTarget(target: string): void {
  if (target !== "bpf" && target !== "bpfel")
    throw new BuildUsageError(
      `error: unknown target triple '${target}': tsbpf builds for 'bpf' (bpfel) only`,
    );
}

/** The default output: the input's base name with its extension replaced, as clang does. */
function defaultOutput(input: string, ext: string): string {
  const base = basename(input);
  const dot = base.lastIndexOf(".");
  return (dot > 0 ? base.slice(0, dot) : base) + ext;
}

/** Where a command writes: the process's stdout and stderr, or a compile server's reply. */
export interface CommandOutput {
  /** Text, or an object's bytes (-o -). */
  stdout(data: string | Uint8Array): void;
  stderr(text: string): void;
  /** What `-` reads: the process's stdin; a compile server has not its client's. */
  stdin?(): Uint8Array;
}

const processOutput: CommandOutput = {
  stdout: (data) => void process.stdout.write(data),
  stderr: (text) => void process.stderr.write(text),
  stdin: () => readInput("/dev/stdin"),
};

export async function main(args: string[]): Promise<number> {
  return build(args, processOutput, false);
}

/**
 * `tsbpf build ARGS`, writing to `io`. `cache`: keep the prefix-cache state for a later build
 * (a compile server); a build in a process of its own would store a state never used.
 */
export function build(args: string[], io: CommandOutput, cache: boolean): number {
  if (args.includes("-h") || args.includes("--help")) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  let parsed: BuildArgs;
  try {
    parsed = parseBuildArgs(args);
  } catch (err) {
    if (err instanceof BuildUsageError) {
      io.stderr(`tsbpf build: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let code = 1;
  try {
    code = runBuild(parsed, io, cache);
  } catch (err) {
    if (isStackOverflow(err)) {
      const name = parsed.input === "-" ? "<stdin>" : parsed.input;
      err = fileError(`nesting too deep to compile '${name}' (out of stack)`);
    }
    if (!(err instanceof CompileError)) throw err;
    io.stderr(err.render());
  } finally {
    if (code !== 0) removeOutput(parsed);
  }
  return code;
}

function runBuild(args: BuildArgs, io: CommandOutput, cache: boolean): number {
  const { input, mode, werror } = args;
  const printDiagnostics = (diagnostics: Diagnostic[], sources: SourceProvider | undefined) => {
    if (diagnostics.length > 0) io.stderr(renderDiagnostics(diagnostics, sources));
  };
  const out = outputFile(args);
  const write = (data: string | Uint8Array): void => {
    if (out === undefined || out === "-") io.stdout(data);
    else writeOutput(out, data);
  };
  const main = mainInput(input, io);
  const options = withWorkingDirectory(args.options);
  if (mode === "preprocess") {
    const pre = preprocessOnly(main, options);
    printDiagnostics(pre.diagnostics, pre.sources);
    write(pre.text);
    return 0;
  }
  const result = compile(main, cache ? options : { ...options, cache: false });
  printDiagnostics(result.diagnostics, result.sources);
  if (werror && result.diagnostics.some((d) => d.severity === "warning")) return 1;
  if (mode === "syntax") return 0;
  if (mode === "assembly") {
    const listing = { disassemble: true, relocations: true, source: false };
    write(objdumpText(result.object, out!, listing));
  } else write(result.object);
  return 0;
}

/**
 * The options, with no directory to join relative file names in line_info to when the working
 * directory was removed (process.cwd() throws; clang builds there too): names as given.
 */
function withWorkingDirectory(options: CompileOptions): CompileOptions {
  try {
    process.cwd();
    return options;
  } catch {
    return { ...options, cwd: "" };
  }
}

/**
 * The file a build writes: -o's, else clang's default name (but -E prints); "-" or undefined
 * for stdout; undefined too with -fsyntax-only, which writes nothing.
 */
function outputFile({ input, output, mode }: BuildArgs): string | undefined {
  if (mode === "syntax") return undefined;
  if (output !== undefined || mode === "preprocess") return output;
  return defaultOutput(input, mode === "object" ? ".o" : ".s");
}

/**
 * The main file as compile() takes it: its path when it is a regular file it can read (the
 * front end reads it, and reports it missing as clang does), else its text, read here: stdin
 * for `-` (named <stdin>, as clang names it), a pipe (`<(...)`), a device, with readInput's
 * limit on its size. A directory, a file that cannot be read and one too large are errors that
 * name the file and the reason.
 */
function mainInput(input: string, io: CommandOutput): CompileInput {
  const failed = (err: unknown, name = input): CompileError =>
    fileError(
      `error reading '${name}': ${err instanceof InputError ? err.reason : systemErrorText(err)}`,
    );
  if (input === "-") {
    if (!io.stdin) throw fileError("standard input is not readable by the compile server");
    try {
      return { file: "<stdin>", source: Buffer.from(io.stdin()).toString("utf8") };
    } catch (err) {
      throw failed(err, "<stdin>");
    }
  }
  try {
    const stat = statSync(input);
    if (stat.isFile() && stat.size <= MAX_INPUT_BYTES) {
      closeSync(openSync(input, "r"));
      return input;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return input;
    throw failed(err);
  }
  try {
    // As the front end decodes a file (Buffer's UTF-8, which keeps a byte order mark).
    return { file: input, source: Buffer.from(readInput(input)).toString("utf8") };
  } catch (err) {
    throw failed(err);
  }
}

/**
 * V8's stack ran out: a program that nests deeper than a phase can recurse (a declarator of
 * thousands of `*`, a sum of thousands of terms) ends in an error that names it, not a stack
 * trace; the parser's own ("nesting too deep for the parser") also says where.
 */
function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && err.message === "Maximum call stack size exceeded";
}

/** An error about a file named on the command line, reported as clang reports one. */
function fileError(message: string): CompileError {
  return new CompileError([{ severity: "error", message, loc: undefined, notes: [] }]);
}

/** Writes an output file (one that fails half-written is removed by build()). */
function writeOutput(path: string, data: string | Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(path, "w");
  } catch (err) {
    throw fileError(`unable to open output file '${path}': '${systemErrorText(err)}'`);
  }
  try {
    writeFileSync(fd, data);
  } catch (err) {
    throw fileError(`unable to write output file '${path}': '${systemErrorText(err)}'`);
  } finally {
    closeSync(fd);
  }
}

/**
 * A failed build leaves no output file, as with clang, so that no older object passes for this
 * build's: it removes the file it would have written when that is a regular file and not the
 * input (which clang would remove too).
 */
function removeOutput(args: BuildArgs): void {
  const path = outputFile(args);
  if (path === undefined || path === "-") return;
  try {
    const out = lstatSync(path);
    if (!out.isFile()) return;
    const source = statSync(args.input, { throwIfNoEntry: false });
    if (source !== undefined && source.ino === out.ino && source.dev === out.dev) return;
    unlinkSync(path);
  } catch {
    // gone already, or not ours to remove
  }
}
