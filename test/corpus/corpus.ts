// The corpus: test/corpus/programs/*.bpf.c, compiled by tsbpf (in process) and by clang 14, with
// the same flags: -O2 -g -mcpu=v3 -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/compile.js";
import { BPF_FLAGS, run } from "../emit/tools.js";
import { countInstructions } from "../../bench/compile.js";

export const PROGRAMS_DIR = join(dirname(fileURLToPath(import.meta.url)), "programs");

export const CORPUS = readdirSync(PROGRAMS_DIR)
  .filter((f) => f.endsWith(".bpf.c"))
  .sort();

export const COMPILE_OPTIONS = {
  includeDirs: BPF_FLAGS.filter((f) => f.startsWith("-I")).map((f) => f.slice(2)),
  defines: BPF_FLAGS.filter((f) => f.startsWith("-D")).map((f) => f.slice(2)),
  optLevel: 2 as const,
  cpu: "v3" as const,
  debug: true,
};

/** tsbpf's object for a corpus program, written to `dir`; its path. */
export function tsbpfObject(program: string, dir: string): string {
  const out = join(dir, program.replace(/\.c$/, ".tsbpf.o"));
  writeFileSync(out, compile(join(PROGRAMS_DIR, program), COMPILE_OPTIONS).object);
  return out;
}

/** clang's object for a corpus program, written to `dir`; its path. */
export function clangObject(program: string, dir: string): string {
  const out = join(dir, program.replace(/\.c$/, ".clang.o"));
  const r = run("clang", [
    "-O2",
    "-g",
    "-target",
    "bpf",
    "-mcpu=v3",
    ...BPF_FLAGS,
    "-c",
    join(PROGRAMS_DIR, program),
    "-o",
    out,
  ]);
  if (r.status !== 0) throw new Error(`clang failed on ${program}:\n${r.stderr}`);
  return out;
}

/** Instructions in an object's code sections (an lddw counts once, as llvm-objdump lists it). */
export function instructionCount(path: string): number {
  return countInstructions(new Uint8Array(readFileSync(path)));
}

/** Per-program settings for the differential run (libbpf skeleton-style .rodata values). */
export const RUN_SETTINGS: Record<string, { rodata?: Record<string, Uint8Array> }> = {
  "config_filter.bpf.c": { rodata: { min_size: u64(16) } },
};

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export const readBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** ../shared/tools/kload.c (libbpf loads an object, one verdict line per program) built in dir. */
export function kload(dir: string): string | undefined {
  const source = join(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "..",
    "..",
    "shared",
    "tools",
    "kload.c",
  );
  if (!existsSync(source)) return undefined;
  const exe = join(dir, "kload");
  try {
    execFileSync("cc", ["-O2", "-o", exe, source, "-lbpf"], { stdio: "ignore" });
    return exe;
  } catch {
    return undefined;
  }
}

/** kload's verdict lines by program name ("OK name ...", "REJECT name : msg", "OPEN_FAIL ..."). */
export function kernelVerdicts(exe: string, object: string): Map<string, string> {
  const r = spawnSync(exe, [object], { encoding: "utf8" });
  const lines = (r.stdout ?? "").split("\n").filter((l) => l !== "");
  return new Map(lines.map((l) => [l.split(" ")[1] ?? l, l]));
}
