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
import { askClang, clangAccepts, hasClang } from "./sema-harness.js";
import type { Declaration } from "../../compiler/ast.js";
import { constantValue } from "../../compiler/sema.js";

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

// The bundled freestanding headers (compiler/include) against clang's own: every macro and
// type they define must evaluate to what clang -target bpf computes with its headers.
describe.skipIf(!hasClang)("bundled headers agree with clang's", () => {
  const includes = ["stddef.h", "stdint.h", "stdbool.h", "stdarg.h", "limits.h", "stdalign.h"]
    .map((h) => `#include <${h}>`)
    .join("\n");
  const declarations = `${includes}\nstruct tsbpf_probe { char c; long l; };\n`;
  const expressions = [
    "sizeof(size_t)",
    "sizeof(ptrdiff_t)",
    "sizeof(wchar_t)",
    "(wchar_t)-1 < 0",
    "(size_t)-1 > 0",
    "_Alignof(max_align_t)",
    "sizeof(max_align_t)",
    "offsetof(struct tsbpf_probe, l)",
    "NULL == (void *)0",
    "sizeof(int8_t)",
    "sizeof(int16_t)",
    "sizeof(int32_t)",
    "sizeof(int64_t)",
    "sizeof(intptr_t)",
    "sizeof(uintmax_t)",
    "(int64_t)-1 < 0",
    "(uint64_t)-1 > 0",
    "(int_least8_t)-1 < 0",
    "sizeof(int_fast16_t)",
    "sizeof(uint_fast32_t)",
    "INT8_MIN",
    "INT8_MAX",
    "UINT8_MAX",
    "INT16_MIN",
    "INT16_MAX",
    "UINT16_MAX",
    "INT32_MIN",
    "INT32_MAX",
    "UINT32_MAX",
    "INT64_MIN",
    "INT64_MAX",
    "UINT64_MAX",
    "INTPTR_MIN",
    "INTPTR_MAX",
    "UINTPTR_MAX",
    "SIZE_MAX",
    "PTRDIFF_MIN",
    "PTRDIFF_MAX",
    "INTMAX_MAX",
    "UINTMAX_MAX",
    "INT32_C(5) + UINT64_C(7)",
    "sizeof(UINT64_C(1))",
    "sizeof(INT8_C(1))",
    "WCHAR_MAX",
    "WCHAR_MIN",
    "CHAR_BIT",
    "SCHAR_MIN",
    "SCHAR_MAX",
    "UCHAR_MAX",
    "CHAR_MIN",
    "CHAR_MAX",
    "SHRT_MIN",
    "SHRT_MAX",
    "USHRT_MAX",
    "INT_MIN",
    "INT_MAX",
    "UINT_MAX",
    "LONG_MIN",
    "LONG_MAX",
    "ULONG_MAX",
    "LLONG_MIN",
    "LLONG_MAX",
    "ULLONG_MAX",
    ...[
      "int64_t",
      "uint64_t",
      "intptr_t",
      "uintptr_t",
      "size_t",
      "ptrdiff_t",
      "intmax_t",
      "wchar_t",
      "int32_t",
      "uint8_t",
    ].map(
      (t) =>
        `_Generic((${t})0, int: 1, unsigned int: 2, long: 3, unsigned long: 4, long long: 5, unsigned long long: 6, signed char: 7, unsigned char: 8, default: 0)`,
    ),
    "sizeof(bool)",
    "true",
    "false",
    "__bool_true_false_are_defined",
    "alignof(long long)",
    "__alignas_is_defined",
    "sizeof(va_list)",
  ];

  test(`${expressions.length} macros and types (sizes, signedness, exact type) of the bundled headers`, () => {
    const source =
      declarations +
      expressions
        .map((e, i) => `unsigned long long v${i} = (unsigned long long)(${e});`)
        .join("\n") +
      "\n";
    const p = checkProgram({ file: "bundled.c", source });
    expect(rendered(p)).toBe("");
    const decls = p.unit!.decls.filter(
      (d): d is Declaration => d.kind === "Declaration" && d.declarators.length > 0,
    );
    const byName = new Map(
      decls.map((d) => [d.declarators[0]!.declarator.name, d.declarators[0]!.init]),
    );
    const ours = expressions.map((_, i) => {
      const init = byName.get(`v${i}`);
      const v = init && init.kind !== "InitList" ? constantValue(p.sema!, init) : undefined;
      return v === undefined ? undefined : BigInt.asUintN(64, v);
    });
    // Freestanding: clang's own headers, not glibc's (which need a host architecture).
    const clang = askClang({ declarations, expressions, clangArgs: ["-ffreestanding"] }).values;
    const differing = expressions
      .filter((_, i) => ours[i] !== clang[i])
      .map(
        (e) => `${e}: clang ${clang[expressions.indexOf(e)]}, ours ${ours[expressions.indexOf(e)]}`,
      );
    expect(differing).toEqual([]);
  });
});
