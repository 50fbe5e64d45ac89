// Shared by test/core: clang, bpftool, the libbpf oracle (c/core-load.c: the machine's libbpf
// relocating and loading an object into the running kernel) and scratch files under
// os.tmpdir().
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeProgram } from "../../runtime/isa/codec.js";
import { disassemble } from "../../runtime/isa/disasm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BPF_LDDW, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from "../../runtime/isa/opcodes.js";

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, "fixtures");
export const VMLINUX_BTF = "/sys/kernel/btf/vmlinux";

const works = (cmd: string, args: string[]): boolean =>
  spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

export const hasClang = works("clang", ["--version"]);
export const hasBpftool = works("bpftool", ["version"]);
export const hasObjdump = works("llvm-objdump", ["--version"]);
export const hasLibbpf = works("cc", ["--version"]) && existsSync("/usr/include/bpf/libbpf.h");
export const hasVmlinuxBtf = existsSync(VMLINUX_BTF);
export const isRoot = process.getuid?.() === 0 && !process.env.TSBPF_NO_KERNEL;

/** Print why a suite is skipped (vitest's skipIf alone says nothing). */
export function skipReason(needs: Record<string, boolean>): string | undefined {
  const missing = Object.entries(needs)
    .filter(([, ok]) => !ok)
    .map(([what]) => what);
  return missing.length ? `missing ${missing.join(", ")}` : undefined;
}

let scratch: string | undefined;
/** This test run's scratch directory (removed at exit). */
export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-core-"));
    scratch = dir;
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

/** Write `text` to a scratch file; its path. */
export function scratchFile(name: string, data: string | Uint8Array): string {
  const path = join(scratchDir(), name);
  writeFileSync(path, data);
  return path;
}

/** Run a command, returning stdout; a failure throws with its stderr. */
export function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, {
      encoding: "utf8",
      input,
      maxBuffer: 1 << 28,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${e.stderr ?? e.message}`);
  }
}

/**
 * clang -O2 -g -target bpf of fixtures/NAME.bpf.c against the vmlinux.h in `includeDir`
 * (plus `extra` flags); the object's path and bytes.
 */
export function compileFixture(
  name: string,
  includeDir: string,
  extra: string[] = [],
  outName = name,
): { path: string; bytes: Uint8Array } {
  const out = join(scratchDir(), `${outName}.bpf.o`);
  run("clang", [
    "-O2",
    "-g",
    "-target",
    "bpf",
    "-D__TARGET_ARCH_x86",
    "-I/usr/include/x86_64-linux-gnu",
    `-I${includeDir}`,
    ...extra,
    "-c",
    join(FIXTURES, `${name}.bpf.c`),
    "-o",
    out,
  ]);
  return { path: out, bytes: new Uint8Array(readFileSync(out)) };
}

/** A directory holding vmlinux.h = `text`. */
export function vmlinuxDir(tag: string, text: string): string {
  const dir = join(scratchDir(), `include-${tag}`);
  rmSync(dir, { recursive: true, force: true });
  execFileSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "vmlinux.h"), text);
  return dir;
}

let oracle: string | undefined;

export interface LibbpfProgram {
  name: string;
  /** the kernel accepted it */
  loaded: boolean;
  insns: Insn[];
}

/**
 * What libbpf handed BPF_PROG_LOAD for each program of the object at `path`, CO-RE-relocated
 * against the running kernel's BTF or `targetBtf` (a file).
 */
export function libbpfRelocate(
  path: string,
  targetBtf?: string,
  kconfig?: string,
): { programs: LibbpfProgram[]; errors: Map<string, string>; kconfig: Map<string, Uint8Array> } {
  if (oracle === undefined) {
    oracle = join(scratchDir(), "core-load");
    run("cc", ["-O2", "-o", oracle, join(HERE, "c", "core-load.c"), "-lbpf", "-ldl"]);
  }
  const args = targetBtf === undefined ? [path] : [path, targetBtf];
  const env = kconfig === undefined ? process.env : { ...process.env, KCONFIG: kconfig };
  const r = spawnSync(oracle, args, { encoding: "utf8", maxBuffer: 1 << 26, env });
  if (r.status !== 0) throw new Error(`core-load ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  const programs: LibbpfProgram[] = [];
  const errors = new Map<string, string>();
  const kconfigValues = new Map<string, Uint8Array>();
  const hexBytes = (hex: string): Uint8Array =>
    Uint8Array.from(hex.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
  for (const line of r.stdout.trim().split("\n")) {
    const f = line.split(" ");
    if (f[0] === "error") errors.set(f[1]!, f[2]!);
    if (f[0] === "kconfig") kconfigValues.set(f[1]!, hexBytes(f[2] ?? ""));
    if (f[0] !== "prog") continue;
    programs.push({
      name: f[1]!,
      loaded: f[2] === "1",
      insns: decodeProgram(hexBytes(f[3] ?? "")),
    });
  }
  return { programs, errors, kconfig: kconfigValues };
}

/** bpftool btf dump file PATH [format c]. */
export function bpftoolDump(path: string, format: "raw" | "c"): string {
  return run("bpftool", ["btf", "dump", "file", path, ...(format === "c" ? ["format", "c"] : [])]);
}

/** Instructions as text for comparing two loaders: lddws of maps carry fds, which differ. */
export function masked(insns: Insn[]): string[] {
  return insns.map((insn, i) => {
    const prev = insns[i - 1];
    const isMapRef = (x: Insn | undefined): boolean =>
      x?.code === BPF_LDDW && (x.src === BPF_PSEUDO_MAP_FD || x.src === BPF_PSEUDO_MAP_VALUE);
    if (isMapRef(insn)) return disassemble([{ ...insn, imm: 0 }, insns[i + 1]!], 0);
    if (isMapRef(prev) && insn.code === 0)
      return `(second slot of a map lddw) imm ${prev!.src === BPF_PSEUDO_MAP_VALUE ? insn.imm : 0}`;
    return `${disassemble(insns, i)}  [${insn.code} ${insn.dst} ${insn.src} ${insn.off} ${insn.imm}]`;
  });
}
