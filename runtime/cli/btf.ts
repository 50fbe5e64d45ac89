// `tsbpf btf dump`: print a BTF the way `bpftool btf dump file X [format c]` does.
//
//   tsbpf btf dump FILE [--format raw|c]    FILE: a BPF object (its .BTF section) or a raw BTF
//                                           file such as /sys/kernel/btf/vmlinux
//   tsbpf btf dump --sim [--format raw|c]   the simulated kernel's BTF
//
// `--format c` writes a vmlinux.h (runtime/core/btf-to-c.ts) exactly as bpftool 7.1 does;
// with `--exact-layouts` also the enum size attributes bpftool 7.1 leaves out (without them a
// struct holding a 1-byte enum is laid out wrongly). `raw` (the default, as in bpftool) lists
// every type. bpftool's own spelling `dump file FILE format c` is accepted too.
import type { Btf } from "../btf/btf.js";
import { dumpBtf } from "../btf/dump.js";
import { parseBtf } from "../btf/parse.js";
import { btfToC } from "../core/btf-to-c.js";
import { ELFMAG } from "../elf/elf.js";
import { readElf } from "../elf/read.js";
import { TsbpfError } from "../error.js";
import { kernelBtf } from "../kernel/btf.js";
import { SimKernel } from "../kernel/kernel.js";
import { readInput } from "./input.js";

class BtfCliError extends TsbpfError {}

const USAGE =
  "usage: tsbpf btf dump FILE [--format raw|c [--exact-layouts]]\n" +
  "       tsbpf btf dump --sim [--format raw|c [--exact-layouts]]\n" +
  "  FILE: a BPF object (.BTF section) or a raw BTF file (/sys/kernel/btf/vmlinux)";

interface DumpArgs {
  file: string | undefined;
  sim: boolean;
  format: "raw" | "c";
  exactLayouts: boolean;
}

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "-h" || command === "--help") {
    console.log(USAGE);
    return 0;
  }
  if (command !== "dump")
    throw new BtfCliError(`btf: unknown command '${command ?? ""}'\n${USAGE}`);
  const opts = parseDumpArgs(rest);
  if (opts === undefined) {
    console.log(USAGE);
    return 0;
  }
  const { btf, where } = opts.sim
    ? { btf: kernelBtf(new SimKernel()), where: "simulated kernel BTF" }
    : loadBtf(opts.file!);
  let text: string;
  try {
    text = opts.format === "c" ? btfToC(btf, { enumModes: opts.exactLayouts }) : dumpBtf(btf);
  } catch (err) {
    // a BTF that parses but cannot be written out (a cycle C cannot express): say whose it is
    if (!(err instanceof TsbpfError)) throw err;
    throw new BtfCliError(`${where}: ${err.message}`);
  }
  process.stdout.write(text);
  return 0;
}

/** The dump options, or undefined for --help. */
export function parseDumpArgs(args: string[]): DumpArgs | undefined {
  const out: DumpArgs = { file: undefined, sim: false, format: "raw", exactLayouts: false };
  const setFormat = (f: string | undefined): void => {
    if (f !== "c" && f !== "raw")
      throw new BtfCliError(`btf dump: unknown format '${f ?? ""}' (raw or c)\n${USAGE}`);
    out.format = f;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-h" || arg === "--help") return undefined;
    if (arg === "--sim") out.sim = true;
    else if (arg === "--exact-layouts") out.exactLayouts = true;
    else if (arg === "--format" || arg === "format") {
      if (i + 1 >= args.length) throw new BtfCliError(`btf dump: ${arg} needs a value\n${USAGE}`);
      setFormat(args[++i]);
    } else if (arg.startsWith("--format=")) setFormat(arg.slice("--format=".length));
    else if (arg === "file" && out.file === undefined && i + 1 < args.length) out.file = args[++i];
    else if (arg.startsWith("-"))
      throw new BtfCliError(`btf dump: unknown option '${arg}'\n${USAGE}`);
    else if (out.file === undefined) out.file = arg;
    else throw new BtfCliError(`btf dump: more than one file ('${out.file}', '${arg}')\n${USAGE}`);
  }
  if (out.sim && out.file !== undefined)
    throw new BtfCliError(`btf dump: give a FILE or --sim, not both\n${USAGE}`);
  if (!out.sim && out.file === undefined)
    throw new BtfCliError(`btf dump: no FILE (or --sim) given\n${USAGE}`);
  if (out.exactLayouts && out.format !== "c")
    throw new BtfCliError(`btf dump: --exact-layouts applies to --format c only\n${USAGE}`);
  return out;
}

/** The BTF in a file: an ELF object's .BTF section, or the whole file when it is raw BTF. */
export function readBtfFile(file: string): Btf {
  return loadBtf(file).btf;
}

/** The BTF in a file, and how messages name it: `x.o: .BTF` or `vmlinux`. */
function loadBtf(file: string): { btf: Btf; where: string } {
  const bytes = readInput(file, { command: "btf dump" });
  if (ELFMAG.every((b, i) => bytes[i] === b)) {
    const elf = readElf(bytes, file);
    const section = elf.sections.find((s) => s.name === ".BTF");
    if (section === undefined) throw new BtfCliError(`btf dump: '${file}': no .BTF section`);
    return { btf: parseBtf(section.data, `${file}: .BTF`), where: `${file}: .BTF` };
  }
  return { btf: parseBtf(bytes, file), where: file };
}
