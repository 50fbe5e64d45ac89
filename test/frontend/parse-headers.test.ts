// The parser on the headers BPF programs really include, with zero diagnostics: linux/bpf.h,
// linux/ptrace.h, libbpf's headers (bpf_tracing.h with -D__TARGET_ARCH_x86) and a vmlinux.h that
// bpftool writes from this machine's kernel BTF. Two paths: `clang -E -P` output lexed and parsed
// directly (isolates the parser from our preprocessor), and our own preprocessor. Reports the
// parser's speed on vmlinux.h.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Declaration, RecordSpec, TranslationUnit } from "../../compiler/ast.js";
import { formatLoc, type Diagnostic } from "../../compiler/diagnostics.js";
import { lexFile } from "../../compiler/lexer.js";
import { parseSource, parseTranslationUnit } from "../../compiler/parse.js";
import { preprocess } from "../../compiler/preprocess.js";

const archInclude = "/usr/include/x86_64-linux-gnu";
const hasClang = spawnSync("clang", ["--version"]).status === 0;
const hasLinuxHeaders = existsSync("/usr/include/linux/bpf.h");
const hasLibbpf = existsSync("/usr/include/bpf/bpf_helpers.h");
const hasBpftool = spawnSync("bpftool", ["version"]).status === 0;
const hasVmlinuxBtf = existsSync("/sys/kernel/btf/vmlinux");
if (!hasClang) console.log("clang -E header tests skipped: clang is not installed");
if (!hasLinuxHeaders)
  console.log("header tests skipped: /usr/include/linux/bpf.h is absent (linux-libc-dev)");
if (!hasLibbpf) console.log("libbpf header tests skipped: /usr/include/bpf is absent (libbpf-dev)");
if (!hasBpftool || !hasVmlinuxBtf)
  console.log("vmlinux.h tests skipped: need bpftool and /sys/kernel/btf/vmlinux");

const dir = mkdtempSync(join(tmpdir(), "tsbpf-parse-headers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shown(diagnostics: Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.loc ? formatLoc(d.loc) : "-"}: ${d.severity}: ${d.message}`);
}

/** `clang -E -P` of a file including `headers` (pragmas are kept in its output). */
function clangPreprocessed(name: string, headers: string[], defines: string[] = []): string {
  const file = join(dir, name);
  writeFileSync(file, headers.map((h) => `#include ${h}\n`).join(""));
  const r = spawnSync(
    "clang",
    [
      "-target",
      "bpf",
      "-E",
      "-P",
      `-I${archInclude}`,
      `-I${dir}`,
      ...defines.map((d) => `-D${d}`),
      file,
    ],
    { encoding: "utf8", maxBuffer: 1 << 28 },
  );
  if (r.status !== 0) throw new Error(`clang -E failed:\n${r.stderr}`);
  return r.stdout;
}

function parseWithOurPreprocessor(name: string, headers: string[], defines: string[] = []) {
  const pre = preprocess(
    { text: headers.map((h) => `#include ${h}\n`).join(""), name },
    { includePaths: [archInclude, dir], defines },
  );
  expect(pre.diagnostics.items.filter((d) => d.severity === "error")).toEqual([]);
  return parseTranslationUnit(pre.tokens);
}

const headerSets: { name: string; headers: string[]; defines?: string[] }[] = [
  { name: "linux/bpf.h", headers: ["<linux/bpf.h>"] },
  { name: "linux/ptrace.h", headers: ["<linux/ptrace.h>"] },
  { name: "bpf_helpers.h", headers: ["<linux/bpf.h>", "<bpf/bpf_helpers.h>"] },
  { name: "bpf_helper_defs.h", headers: ["<linux/bpf.h>", "<bpf/bpf_helper_defs.h>"] },
  {
    name: "bpf_tracing.h",
    headers: ["<linux/bpf.h>", "<linux/ptrace.h>", "<bpf/bpf_helpers.h>", "<bpf/bpf_tracing.h>"],
    defines: ["__TARGET_ARCH_x86"],
  },
  {
    name: "bpf_core_read.h",
    headers: ["<linux/bpf.h>", "<bpf/bpf_helpers.h>", "<bpf/bpf_core_read.h>"],
  },
  { name: "bpf_endian.h", headers: ["<linux/bpf.h>", "<bpf/bpf_endian.h>"] },
];

describe.skipIf(!hasClang || !hasLinuxHeaders || !hasLibbpf)(
  "headers preprocessed by clang -E -P",
  () => {
    for (const set of headerSets) {
      test(set.name, () => {
        const text = clangPreprocessed(
          `${set.name.replace(/\W/g, "_")}.c`,
          set.headers,
          set.defines,
        );
        const r = parseSource(text, `${set.name}.i`);
        expect(shown(r.diagnostics)).toEqual([]);
        expect(r.unit.decls.length).toBeGreaterThan(10);
      });
    }
  },
);

describe.skipIf(!hasLinuxHeaders || !hasLibbpf)("headers preprocessed by tsbpf", () => {
  for (const set of headerSets) {
    test(set.name, () => {
      const r = parseWithOurPreprocessor(
        `${set.name.replace(/\W/g, "_")}.c`,
        set.headers,
        set.defines,
      );
      expect(shown(r.diagnostics)).toEqual([]);
      expect(r.unit.decls.length).toBeGreaterThan(10);
    });
  }
});

function findRecord(unit: TranslationUnit, tag: string): RecordSpec | undefined {
  for (const d of unit.decls) {
    if (d.kind !== "Declaration") continue;
    const t = (d as Declaration).spec.typeSpec;
    if (t?.kind === "Record" && t.tag === tag && t.members !== null) return t;
  }
  return undefined;
}

describe.skipIf(!hasBpftool || !hasVmlinuxBtf)("vmlinux.h from this kernel's BTF", () => {
  const vmlinux = join(dir, "vmlinux.h");
  if (hasBpftool && hasVmlinuxBtf) {
    const r = spawnSync(
      "bpftool",
      ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
      {
        encoding: "utf8",
        maxBuffer: 1 << 28,
      },
    );
    writeFileSync(vmlinux, r.stdout);
  }

  test("lexed and parsed directly (its directives are only include guards and pragmas)", () => {
    // vmlinux.h needs no macro expansion: drop the guard lines, keep the pragmas.
    const r = parseSource(
      spawnSync("grep", ["-v", "^#if\\|^#endif\\|^#define", vmlinux], {
        encoding: "utf8",
        maxBuffer: 1 << 28,
      }).stdout,
      vmlinux,
    );
    expect(shown(r.diagnostics)).toEqual([]);
    expect(r.unit.decls.length).toBeGreaterThan(10000);
    // `#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)`.
    const task = findRecord(r.unit, "task_struct")!;
    expect(task.attributes.map((a) => a.name)).toContain("preserve_access_index");
    expect(task.members!.length).toBeGreaterThan(100);
  });

  test.skipIf(!hasClang)("with libbpf's headers after it, preprocessed by clang -E -P", () => {
    const text = clangPreprocessed(
      "vmlinux_libbpf.c",
      [
        '"vmlinux.h"',
        "<bpf/bpf_helpers.h>",
        "<bpf/bpf_tracing.h>",
        "<bpf/bpf_core_read.h>",
        "<bpf/bpf_endian.h>",
      ],
      ["__TARGET_ARCH_x86"],
    );
    const r = parseSource(text, "vmlinux_libbpf.i");
    expect(shown(r.diagnostics)).toEqual([]);
  });

  test("with libbpf's headers after it, preprocessed by tsbpf", () => {
    const r = parseWithOurPreprocessor(
      "vmlinux_libbpf.c",
      [
        '"vmlinux.h"',
        "<bpf/bpf_helpers.h>",
        "<bpf/bpf_tracing.h>",
        "<bpf/bpf_core_read.h>",
        "<bpf/bpf_endian.h>",
      ],
      ["__TARGET_ARCH_x86"],
    );
    expect(shown(r.diagnostics)).toEqual([]);
    expect(findRecord(r.unit, "task_struct")!.attributes.map((a) => a.name)).toContain(
      "preserve_access_index",
    );
  });

  test("speed: tokens per second parsing vmlinux.h", () => {
    const tokens = lexFile(
      spawnSync("grep", ["-v", "^#", vmlinux], { encoding: "utf8", maxBuffer: 1 << 28 }).stdout,
      vmlinux,
    );
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const r = parseTranslationUnit(tokens);
      runs.push(performance.now() - started);
      expect(r.diagnostics).toEqual([]);
    }
    const best = Math.min(...runs);
    console.log(
      `parse vmlinux.h: ${tokens.length} tokens; runs ${runs.map((ms) => ms.toFixed(0)).join(", ")} ms; ` +
        `best ${(((tokens.length / best) * 1000) / 1e6).toFixed(2)} M tokens/s`,
    );
    expect(best).toBeLessThan(5000);
  });
});
