// The headers BPF programs really include go through preprocess + parse + sema with zero
// diagnostics: linux/bpf.h, linux/ptrace.h, libbpf's headers (with -D__TARGET_ARCH_x86) and a
// vmlinux.h that bpftool writes from this machine's kernel BTF. Also reports the front end's
// speed on vmlinux.h.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { checkProgram, type CheckedProgram } from "../../compiler/frontend.js";
import { renderDiagnostics } from "../../compiler/diagnostics.js";
import { clangAccepts, hasClang } from "./sema-harness.js";

const archInclude = "/usr/include/x86_64-linux-gnu";
const hasLinuxHeaders = existsSync("/usr/include/linux/bpf.h");
const hasLibbpf = existsSync("/usr/include/bpf/bpf_helpers.h");
const hasBpftool = spawnSync("bpftool", ["version"]).status === 0;
const hasVmlinuxBtf = existsSync("/sys/kernel/btf/vmlinux");
if (!hasLinuxHeaders)
  console.log(
    "linux uapi header tests skipped: /usr/include/linux/bpf.h is absent (linux-libc-dev)",
  );
if (!hasLibbpf) console.log("libbpf header tests skipped: /usr/include/bpf is absent (libbpf-dev)");
if (!hasBpftool || !hasVmlinuxBtf)
  console.log("vmlinux.h test skipped: needs bpftool and /sys/kernel/btf/vmlinux");

const dir = mkdtempSync(join(tmpdir(), "tsbpf-headers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(file: string, source: string, defines: string[] = []): CheckedProgram {
  return checkProgram({ file, source }, { includeDirs: [archInclude], defines });
}

// Diagnostics as clang would print them, so a failure shows what went wrong and where.
function rendered(p: CheckedProgram): string {
  return renderDiagnostics(p.diagnostics.items, p.sources);
}

describe.skipIf(!hasLinuxHeaders)("linux uapi headers", () => {
  test("linux/bpf.h", () => {
    const p = check("bpf_h.c", "#include <linux/bpf.h>\n");
    expect(rendered(p)).toBe("");
    expect(p.sema!.records.length).toBeGreaterThan(50);
  });

  test("linux/ptrace.h", () => {
    const p = check("ptrace_h.c", "#include <linux/ptrace.h>\n");
    expect(rendered(p)).toBe("");
  });
});

describe.skipIf(!hasLinuxHeaders || !hasLibbpf)("libbpf headers", () => {
  // bpf_helper_defs.h has no include guard: it is included on its own, the others after
  // bpf_helpers.h as programs do.
  const sources: Record<string, string> = {
    "bpf_helper_defs.h": "#include <linux/bpf.h>\n#include <bpf/bpf_helper_defs.h>\n",
    "bpf_helpers.h": "#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n",
  };
  for (const h of ["bpf_tracing.h", "bpf_core_read.h", "bpf_endian.h"]) {
    sources[h] =
      `#include <linux/bpf.h>\n#include <linux/ptrace.h>\n#include <bpf/bpf_helpers.h>\n#include <bpf/${h}>\n`;
  }
  for (const [h, source] of Object.entries(sources)) {
    test(`bpf/${h}`, () => {
      const p = check(`${h}.c`, source, ["__TARGET_ARCH_x86"]);
      expect(rendered(p)).toBe("");
      if (hasClang)
        expect(clangAccepts(source, ["-D__TARGET_ARCH_x86", `-I${archInclude}`])).toBe(true);
    });
  }
});

describe.skipIf(!hasBpftool || !hasVmlinuxBtf || !hasLibbpf)(
  "vmlinux.h from this kernel's BTF",
  () => {
    test("vmlinux.h with libbpf headers, and the front end's speed on it", () => {
      const vmlinux = join(dir, "vmlinux.h");
      writeFileSync(
        vmlinux,
        execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], {
          maxBuffer: 1 << 28,
        }),
      );
      const source = `#include "${vmlinux}"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n#include <bpf/bpf_core_read.h>\n`;
      // Warm up once (the parser's grammar analysis is a one-off cost), then measure.
      check("vmlinux.c", source, ["__TARGET_ARCH_x86"]);
      const started = performance.now();
      const p = check("vmlinux.c", source, ["__TARGET_ARCH_x86"]);
      const ms = performance.now() - started;
      expect(rendered(p)).toBe("");
      const t = p.timings;
      console.log(
        `front end on vmlinux.h + libbpf headers: ${p.lines} lines in ${ms.toFixed(0)} ms ` +
          `(${Math.round(p.lines / (ms / 1000))} lines/s; preprocess ${t.preprocessMs.toFixed(0)} ms, ` +
          `parse ${t.parseMs.toFixed(0)} ms, sema ${t.semaMs.toFixed(0)} ms)`,
      );
      expect(p.sema!.records.length).toBeGreaterThan(1000);
    });
  },
);
