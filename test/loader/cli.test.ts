// `tsbpf verify` (runtime/cli/verify.ts main(), in-process) on clang-built objects, objects
// whose programs the kernel refuses, and malformed objects; then a seeded fuzz of the whole
// open + load path: mutated objects may only produce TsbpfErrors (never another exception) and
// never hang.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../runtime/cli/verify.js";
import { TsbpfError } from "../../runtime/error.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { bpfOf } from "../../runtime/bpf/syscall.js";
import { loadObject } from "../../runtime/loader/index.js";
import { openObject } from "../../runtime/object/open.js";
import { compile, hasClang, scratchDir } from "./tools.js";

if (!hasClang) console.log("test/loader/cli: skipped: clang is not installed");

let out: string[];
beforeEach(() => {
  out = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
});
afterEach(() => vi.restoreAllMocks());

async function failure(args: string[]): Promise<TsbpfError> {
  try {
    await main(args);
  } catch (err) {
    if (err instanceof TsbpfError) return err;
    throw err;
  }
  throw new Error("expected a TsbpfError");
}

describe.skipIf(!hasClang)("tsbpf verify", () => {
  it("reports every program of a good object and exits 0", async () => {
    const { path } = compile("globals");
    expect(await main([path])).toBe(0);
    expect(out).toEqual([
      expect.stringMatching(/^OK {4}kprobe\/vfs_read: on_read \(kprobe, \d+ insns\)$/),
      expect.stringMatching(/^OK {4}kprobe\/vfs_read: on_read_too \(kprobe, \d+ insns\)$/),
      expect.stringMatching(/^OK {4}kretprobe\/vfs_write: on_write_ret \(kprobe, \d+ insns\)$/),
      "globals.bpf.o: 3 programs, 7 maps: 3 loaded, 0 failed",
    ]);
  });

  it("names the section, program and reason of a refused program, with its log, and exits 1", async () => {
    const { path } = compile(
      "refused",
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("kprobe/vfs_read") int reads(void *ctx) { char buf[8]; bpf_probe_read_kernel(buf, 8, ctx); return buf[0]; }
SEC("socket") int fine(void *ctx) { return 0; }
SEC("?socket") int optional(void *ctx) { return 1; }
char LICENSE[] SEC("license") = "Proprietary";`,
    );
    expect(await main([path])).toBe(1);
    // the failure names the C place, shows its line and gives a hint; the log follows
    expect(out[0]).toMatch(
      /^FAIL {2}refused\.bpf\.o: section 'kprobe\/vfs_read': program 'reads' \(kprobe\): failed to load: \S*refused\.bpf\.c:3:60: program 'reads': insn \d+: cannot call GPL-restricted function from non-GPL compatible program \[SEC\("kprobe\/vfs_read"\) int reads.*\] \(hint: bpf_probe_read_kernel is GPL-only: .*\) \(EINVAL\)$/,
    );
    expect(out[1]).toBe("    | 0: R1=ctx() R10=fp0");
    const logEnd = out.findIndex((l) => l.startsWith("    | processed "));
    expect(out[logEnd - 1]).toBe(
      "    | cannot call GPL-restricted function from non-GPL compatible program",
    );
    expect(out.slice(logEnd + 1)).toEqual([
      expect.stringMatching(/^OK {4}socket: fine \(socket_filter, 2 insns\)$/),
      "SKIP  ?socket: optional (autoload off)",
      "refused.bpf.o: 3 programs, 0 maps: 1 loaded, 1 failed",
    ]);
  });

  it("--kernel 4.1 applies the kern_version rule", async () => {
    const { path } = compile("legacy");
    expect(await main([path, "--kernel", "4.1"])).toBe(1);
    expect(out[0]).toMatch(
      /^FAIL {2}legacy\.bpf\.o: section 'kprobe\/vfs_read': program 'legacy_prog' \(kprobe\): failed to load: kprobe program has kern_version 0x601c0 \(6\.1\.192\), the kernel's LINUX_VERSION_CODE is 0x40100 \(4\.1\.0\) \(EINVAL\)$/,
    );
    expect(await main([path])).toBe(0);
  });

  it("--kernel 6.1 and 6.18 word a refusal as each of those kernels does", async () => {
    const { path } = compile(
      "stackid",
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket") int s(void *ctx) { return bpf_get_stackid(ctx, (void *)0, 0); }
char LICENSE[] SEC("license") = "GPL";`,
    );
    expect(await main([path, "--kernel", "6.1"])).toBe(1);
    expect(out[0]).toMatch(/insn \d+: unknown func bpf_get_stackid#27 /);
    out.length = 0;
    expect(await main([path, "--kernel", "6.18"])).toBe(1);
    expect(out[0]).toMatch(/insn \d+: program of this type cannot use helper bpf_get_stackid#27 /);
  });

  it("malformed input and bad arguments are one-line errors", async () => {
    const dir = scratchDir();
    const junk = join(dir, "junk.o");
    writeFileSync(junk, "not an ELF file at all");
    const { bytes } = compile("globals");
    const truncated = join(dir, "truncated.o");
    writeFileSync(truncated, bytes.subarray(0, 200));
    for (const args of [
      [junk],
      [truncated],
      [join(dir, "missing.o")],
      [],
      ["a.o", "b.o"],
      [junk, "--kernel", "5.0"],
      [junk, "--log-level"],
      ["--frobnicate"],
    ]) {
      const err = await failure(args);
      expect(err.message, args.join(" ")).not.toContain("\n    at ");
      expect(err.message.split("\n").length, args.join(" ")).toBeLessThanOrEqual(2); // message + usage
    }
    expect((await failure([junk])).message).toMatch(/junk\.o/);
  });
});

/** mulberry32 */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe.skipIf(!hasClang)("fuzzed objects through open and load", () => {
  it("300 seeded mutants: only TsbpfErrors, nothing left loaded", () => {
    const seeds = ["globals", "tail", "misc", "legacy"].map((n) => compile(n).bytes);
    const rand = prng(20240607);
    const kernel = new SimKernel({ cpus: 2 });
    const bpf = bpfOf(kernel);
    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const seed = seeds[Math.floor(rand() * seeds.length)]!;
      const bytes = seed.slice();
      const mutations = 1 + Math.floor(rand() * 4);
      for (let m = 0; m < mutations; m++) {
        const at = Math.floor(rand() * bytes.length);
        bytes[at] =
          rand() < 0.5 ? Math.floor(rand() * 256) : [0, 0xff, 0x7f, 0x80][Math.floor(rand() * 4)]!;
      }
      const input = rand() < 0.1 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
      const t0 = performance.now();
      try {
        const loaded = loadObject(kernel, openObject(input, `mutant${i}.o`), { keepGoing: true });
        loaded.close();
        outcomes.loaded = (outcomes.loaded ?? 0) + 1;
      } catch (err) {
        if (!(err instanceof TsbpfError))
          throw new Error(`case ${i}: ${String((err as Error).stack ?? err)}`);
        outcomes[err.name] = (outcomes[err.name] ?? 0) + 1;
      }
      expect(performance.now() - t0, `case ${i} took too long`).toBeLessThan(5000);
      expect(bpf.loadedProgs.length, `case ${i} left programs loaded`).toBe(0);
      expect(bpf.liveMaps.length, `case ${i} left maps`).toBe(0);
    }
    console.info(`fuzz outcomes: ${JSON.stringify(outcomes)}`);
  });
});
