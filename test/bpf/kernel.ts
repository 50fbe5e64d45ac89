// The running kernel as an oracle for the bpf() facade and the helpers: test/bpf/c/kbpf.c,
// built with cc, runs a script of bpf() commands (map create/update/freeze/lookup, PROG_LOAD with
// a log, BPF_PROG_TEST_RUN of socket filters) through the raw system call. Needs root (or
// CAP_BPF + CAP_PERFMON). Nothing is ever attached.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeProgram } from "../../runtime/isa/codec.js";
import type { Insn } from "../../runtime/isa/insn.js";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "c", "kbpf.c");

let built: { exe: string; dir: string } | { reason: string } | undefined;

function build(): { exe: string; dir: string } | { reason: string } {
  if (built !== undefined) return built;
  if (process.env.TSBPF_NO_KERNEL) return (built = { reason: "TSBPF_NO_KERNEL is set" });
  if (process.getuid?.() !== 0)
    return (built = { reason: "not running as root: bpf() needs privileges" });
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-kbpf-"));
  const exe = join(dir, "kbpf");
  try {
    execFileSync("cc", ["-O2", "-o", exe, SOURCE], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    return (built = { reason: `cannot build test/bpf/c/kbpf.c with cc: ${String(err)}` });
  }
  const probe = spawnSync(exe, [], { input: "map 2 4 4 1 0\n", encoding: "utf8" });
  if (probe.status !== 0 || !probe.stdout.includes("map 0"))
    return (built = {
      reason: `the kernel refuses bpf(): ${probe.stdout.trim()} ${probe.stderr.trim()}`,
    });
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return (built = { exe, dir });
}

/** Why the kernel cannot serve as an oracle here (printed by the caller), or undefined. */
export function kernelUnavailable(): string | undefined {
  const b = build();
  return "reason" in b ? b.reason : undefined;
}

/** Run a kbpf script on the real kernel: its output lines. */
export function runKernel(script: string[]): string[] {
  const b = build();
  if ("reason" in b) throw new Error(b.reason);
  const result = spawnSync(b.exe, [], {
    input: script.join("\n") + "\n",
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`kbpf failed (${result.status}): ${result.stderr}`);
  return result.stdout.trimEnd().split("\n");
}

/** Little-endian hex of bytes ("-" for none), kbpf's argument format. */
export function hex(bytes: Uint8Array): string {
  if (bytes.length === 0) return "-";
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text: string): Uint8Array {
  if (text === "-" || text === "") return new Uint8Array(0);
  return Uint8Array.from(text.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** The hex of a program, for `load`. */
export const insnsHex = (insns: readonly Insn[]): string => hex(encodeProgram(insns));

/** A license for the script (spaces as '_'), "-" for none. */
export const licenseArg = (license: string): string =>
  license === "" ? "-" : license.replace(/ /g, "_");

/** LINUX_VERSION_CODE of the running kernel (from uname -r), for a SimKernel with its rules. */
export function runningKernelVersion(): number {
  const release = execFileSync("uname", ["-r"], { encoding: "utf8" });
  const [major, minor, patch] = release.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  return (major ?? 0) * 65536 + (minor ?? 0) * 256 + Math.min(patch ?? 0, 255);
}
