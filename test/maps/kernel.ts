// The running kernel as the oracle for map semantics: test/maps/c/kmap.c, built with cc, runs a
// script of BPF_MAP_* operations through the raw bpf() system call. Needs root (or
// CAP_BPF + CAP_PERFMON) and a kernel that lets us call bpf().
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), "c", "kmap.c");

let built: { exe: string } | { reason: string } | undefined;

/** Build the helper and check bpf() works; the reason when it cannot be used. */
function build(): { exe: string } | { reason: string } {
  if (built !== undefined) return built;
  if (process.env.TSBPF_NO_KERNEL) return (built = { reason: "TSBPF_NO_KERNEL is set" });
  if (process.getuid?.() !== 0)
    return (built = { reason: "not running as root: bpf() map creation needs privileges" });
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-kmap-"));
  const exe = join(dir, "kmap");
  try {
    execFileSync("cc", ["-O2", "-o", exe, SOURCE], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    return (built = { reason: `cannot build test/maps/c/kmap.c with cc: ${String(err)}` });
  }
  const probe = spawnSync(exe, [], { input: "create 2 4 4 1 0\n", encoding: "utf8" });
  if (probe.status !== 0 || !probe.stdout.includes("create 0")) {
    return (built = {
      reason: `the kernel refuses BPF_MAP_CREATE: ${probe.stdout.trim()} ${probe.stderr.trim()}`,
    });
  }
  return (built = { exe });
}

/** Why the kernel cannot serve as an oracle here, or undefined when it can. */
export function kernelUnavailable(): string | undefined {
  const b = build();
  return "reason" in b ? b.reason : undefined;
}

/** Run a script on the real kernel; kmap's output lines. */
export function runKernelScript(script: string): string[] {
  const b = build();
  if ("reason" in b) throw new Error(b.reason);
  const result = spawnSync(b.exe, [], {
    input: script + "\n",
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`kmap failed (${result.status}): ${result.stderr}`);
  return result.stdout.trimEnd().split("\n");
}

/** The kernel's possible CPU count (kmap's first line). */
export function kernelCpus(): number {
  const first = runKernelScript("")[0] ?? "cpus 1";
  return Number(first.split(" ")[1]);
}
