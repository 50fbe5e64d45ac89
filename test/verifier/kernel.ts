// The machine's own kernel as the verifier's oracle: test/verifier/c/kverify.c loads raw
// programs with BPF_PROG_LOAD (test maps from BPF_MAP_CREATE, nothing attached) and prints the
// verdict and the verifier log. Tests that need it skip with a printed reason when the compiler
// or the bpf() syscall is unavailable.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Insn } from "../../runtime/isa/insn.js";

export interface KernelMap {
  fd: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  frozen?: boolean;
  /** contents (the oracle's maps are zero-filled; this mirrors it for our verifier) */
  value?: Uint8Array;
  /** a map of maps' template inner map */
  innerMap?: Omit<KernelMap, "fd" | "innerMap">;
}

export interface KernelProgram {
  insns: readonly Insn[];
  progType: number;
  logLevel?: number;
  license?: string;
  kernVersion?: number;
  maps?: readonly KernelMap[];
  /** BTF func_info: subprogram starts and linkage (0 static, 1 global) */
  funcs?: readonly { insnOff: number; linkage: number }[] | undefined;
}

export interface KernelVerdict {
  /** "OK", "REJECT" or "MAPFAIL" (a test map could not be created) */
  result: string;
  errno: number;
  log: string;
}

let binary: string | undefined | null = null;
let unavailable = "";

/** The compiled helper, or undefined (with `kernelUnavailable()` saying why). */
function kverify(): string | undefined {
  if (binary !== null) return binary;
  binary = undefined;
  const cc = spawnSync("sh", ["-c", "command -v cc"], { stdio: "ignore" });
  if (cc.status !== 0) {
    unavailable = "no C compiler (cc) to build test/verifier/c/kverify.c";
    return binary;
  }
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-kverify-"));
  const exe = join(dir, "kverify");
  try {
    execFileSync("cc", ["-O2", "-o", exe, fileURLToPath(new URL("c/kverify.c", import.meta.url))], {
      stdio: "pipe",
    });
  } catch (err) {
    unavailable = `cannot build kverify.c: ${(err as Error).message}`;
    rmSync(dir, { recursive: true, force: true });
    return binary;
  }
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  // Probe: can this process load a trivial program at all?
  binary = exe;
  const probe = runKernel([{ insns: TRIVIAL, progType: 2 }])[0];
  if (probe?.result !== "OK") {
    unavailable = `the kernel refused BPF_PROG_LOAD (not root, or bpf() disabled): ${probe?.result} errno=${probe?.errno}`;
    binary = undefined;
  }
  return binary;
}

const TRIVIAL: Insn[] = [
  { code: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
  { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
];

/** Whether the kernel oracle can be used here. */
export function hasKernel(): boolean {
  return kverify() !== undefined;
}

/** Why the kernel oracle cannot be used (empty when it can). */
export function kernelUnavailable(): string {
  kverify();
  return unavailable;
}

/** Loads every program into the kernel; one verdict per program, in order. */
export function runKernel(programs: readonly KernelProgram[]): KernelVerdict[] {
  const exe = binary ?? kverify();
  if (!exe) throw new Error(`kernel oracle unavailable: ${unavailable}`);
  const lines: string[] = [];
  for (const p of programs) {
    lines.push(`prog ${p.progType} ${p.logLevel ?? 1} ${p.kernVersion ?? 0} ${p.license ?? "GPL"}`);
    for (const m of p.maps ?? []) {
      const i = m.innerMap;
      const inner = i ? ` ${i.type} ${i.keySize} ${i.valueSize} ${i.maxEntries} ${i.flags}` : "";
      lines.push(
        `map ${m.fd} ${m.type} ${m.keySize} ${m.valueSize} ${m.maxEntries} ${m.flags} ${m.frozen ? 1 : 0}${inner}`,
      );
    }
    if (p.funcs) {
      lines.push(
        `funcs ${p.funcs.length} ${p.funcs.map((f) => `${f.insnOff}:${f.linkage}`).join(" ")}`,
      );
    }
    for (const i of p.insns) lines.push(`insn ${i.code} ${i.dst} ${i.src} ${i.off} ${i.imm}`);
    lines.push("end");
  }
  const out = execFileSync(exe, {
    input: lines.join("\n") + "\n",
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  return parseVerdicts(out);
}

function parseVerdicts(out: string): KernelVerdict[] {
  const verdicts: KernelVerdict[] = [];
  let cur: { result: string; errno: number; log: string[] } | undefined;
  for (const line of out.split("\n")) {
    if (cur === undefined) {
      const m = /^result (\w+)(?: errno=(\d+))?/.exec(line);
      if (m) cur = { result: m[1]!, errno: Number(m[2] ?? 0), log: [] };
      continue;
    }
    if (line === "end") {
      verdicts.push({ result: cur.result, errno: cur.errno, log: cur.log.join("\n") });
      cur = undefined;
    } else {
      cur.log.push(line);
    }
  }
  return verdicts;
}
