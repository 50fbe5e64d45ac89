// Tracing programs of real shape (test/codegen/programs): per-process counters, latency
// histograms from start/end pairs, string handling, perf and ring buffer events, bpf-to-bpf
// calls, global data, legacy maps, switch and loops over ctx arrays. Each is compiled by tsbpf
// (compile(): code generation and the object writer) and by clang -O2 -g -target bpf:
//  - both objects run in the interpreter on the same inputs with the same results;
//  - where the bpf() syscall is permitted, the real kernel verifier (via
//    ../shared/tools/kload.c) accepts every program of ours whose clang twin it accepts;
//  - the instruction counts are printed beside clang's.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "../../compiler/compile.js";
import { openObject } from "../../runtime/object/open.js";
import {
  INCLUDES,
  clangCompile,
  hasClang,
  imageFromObject,
  imageFromUnit,
  randomBytes,
  runImage,
} from "./harness.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "programs");
const NAMES = readdirSync(DIR)
  .filter((f) => f.endsWith(".bpf.c"))
  .map((f) => f.slice(0, -".bpf.c".length))
  .sort();
const KLOAD_SRC = join(dirname(fileURLToPath(import.meta.url)), "../../../shared/tools/kload.c");

let work = "";
let kload: string | undefined;
let kloadWhyNot = "";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "tsbpf-programs-"));
  if (!hasClang) return;
  if (!existsSync(KLOAD_SRC)) {
    kloadWhyNot = "../shared/tools/kload.c not found";
    return;
  }
  const exe = join(work, "kload");
  const cc = spawnSync("cc", ["-O2", "-o", exe, KLOAD_SRC, "-lbpf"], { encoding: "utf8" });
  if (cc.status !== 0) {
    kloadWhyNot = `kload does not build (libbpf-dev missing?): ${cc.stderr.split("\n")[0]}`;
    return;
  }
  // Is the bpf() syscall permitted here? Try a clang object.
  const probe = join(work, "probe.o");
  writeFileSync(probe, clangCompile(readFileSync(join(DIR, "opencount.bpf.c"), "utf8")));
  const r = spawnSync(exe, [probe], { encoding: "utf8" });
  if (!r.stdout.includes("OK ")) {
    kloadWhyNot = `the bpf() syscall is not permitted here: ${r.stdout.trim()} ${r.stderr.trim()}`;
    return;
  }
  kload = exe;
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function loadResults(object: string): Map<string, string> {
  const r = spawnSync(kload!, [object], { encoding: "utf8" });
  const out = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    const m = /^(OK|REJECT) (\S+)/.exec(line);
    if (m) out.set(m[2]!, line);
  }
  if (out.size === 0) out.set("*", r.stdout.trim() || r.stderr.trim());
  return out;
}

const INPUTS = [new Uint8Array(256), ...[11, 12, 13].map((s) => randomBytes(s, 256))];
const counts: string[] = [];

if (!hasClang) console.log("clang not installed: skipping the tracing program tests");

describe.skipIf(!hasClang)("tracing programs: tsbpf vs clang", () => {
  for (const name of NAMES) {
    it(name, () => {
      const file = join(DIR, `${name}.bpf.c`);
      const source = readFileSync(file, "utf8");
      const clangObject = clangCompile(source, "v3");
      const ours = compile(
        { file: `${name}.bpf.c`, source },
        { includeDirs: INCLUDES, defines: ["__TARGET_ARCH_x86"], cpu: "v3" },
      );
      // The object opens like clang's (same programs), and runs like clang's.
      const theirs = openObject(clangObject, `${name}.o`);
      const mine = openObject(ours.object, `${name}.o`);
      expect(mine.programs.map((p) => p.name).sort()).toEqual(
        theirs.programs.map((p) => p.name).sort(),
      );
      const a = imageFromObject(clangObject);
      const b = imageFromUnit(ours.unit);
      for (const p of theirs.programs) {
        for (const ctx of INPUTS) {
          const spec = { program: p.name, ctx, times: 3 };
          const x = runImage(a, spec);
          const y = runImage(b, spec);
          delete x.insns;
          delete y.insns;
          expect(y).toEqual(x);
        }
      }
      const n = ours.unit.functions.reduce((s, f) => s + f.insns.length, 0);
      const c = [...theirs.programs, ...theirs.subprograms].reduce((s, p) => s + p.insns.length, 0);
      counts.push(
        `  ${name.padEnd(14)} ${String(n).padStart(5)} ${String(c).padStart(6)}  ${(n / c).toFixed(2)}`,
      );
      if (!kload) return;
      const co = join(work, `${name}.clang.o`);
      const oo = join(work, `${name}.ours.o`);
      writeFileSync(co, clangObject);
      writeFileSync(oo, ours.object);
      const clangLoads = loadResults(co);
      const ourLoads = loadResults(oo);
      for (const [prog, line] of clangLoads) {
        if (!line.startsWith("OK ")) continue;
        expect(ourLoads.get(prog) ?? "missing", `kernel verifier on ${name}:${prog}`).toMatch(
          /^OK /,
        );
      }
    });
  }
  it("prints instruction counts and the verifier's availability", () => {
    if (!kload) console.log(`kernel verifier check skipped: ${kloadWhyNot}`);
    console.log(
      `tracing programs, instruction slots: tsbpf, clang -O2, ratio\n${counts.join("\n")}`,
    );
    expect(counts.length).toBe(NAMES.length);
  });
});
