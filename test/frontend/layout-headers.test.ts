// Layout differential test on real headers: every struct and union the front end lays out
// from linux/bpf.h, linux/ptrace.h, libbpf's headers and this kernel's vmlinux.h has the
// sizeof, _Alignof and offsetof of every named member that clang -target bpf computes, and
// every bit-field sits at the bit clang's BTF records.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { checkProgram } from "../../compiler/frontend.js";
import { type CType, type Member, type RecordDecl, canonical } from "../../compiler/types.js";
import { askClang, hasBpftool, hasClang } from "./layout-oracle.js";

const archInclude = "/usr/include/x86_64-linux-gnu";
const hasHeaders =
  existsSync("/usr/include/linux/bpf.h") && existsSync("/usr/include/bpf/bpf_helpers.h");
const hasVmlinux = hasBpftool && existsSync("/sys/kernel/btf/vmlinux");
const canRun = hasClang && hasBpftool && hasHeaders;
if (!canRun)
  console.log("header layout test skipped: needs clang, bpftool, linux-libc-dev and libbpf-dev");
else if (!hasVmlinux)
  console.log("vmlinux.h layout test skipped: /sys/kernel/btf/vmlinux is absent");

const dir = mkdtempSync(join(tmpdir(), "tsbpf-layout-headers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Comparison {
  records: number;
  questions: number;
  bitfields: number;
  mismatches: string[];
}

// Lays the headers out with our front end and asks clang the same questions in one compile.
function compareHeaders(source: string): Comparison {
  const p = checkProgram(
    { file: join(dir, "headers.c"), source },
    { includeDirs: [archInclude], defines: ["__TARGET_ARCH_x86"] },
  );
  if (p.diagnostics.errorCount > 0 || !p.sema) throw new Error("the headers did not check cleanly");
  const records = p.sema.records.filter((r) => r.tag !== undefined && r.complete);
  const exprs: string[] = [];
  const ours: bigint[] = [];
  const what: string[] = [];
  const probes: { type: string; member: string; bitOffset: number; bitWidth: number }[] = [];
  for (const r of records) {
    const name = `${r.isUnion ? "union" : "struct"} ${r.tag}`;
    exprs.push(`sizeof(${name})`, `_Alignof(${name})`);
    ours.push(BigInt(r.size), BigInt(r.align));
    what.push(`sizeof(${name})`, `_Alignof(${name})`);
    for (const m of namedMembers(r)) {
      const path = r.findMember(m.name!)!;
      if (m.bitWidth === undefined) {
        exprs.push(`__builtin_offsetof(${name}, ${m.name})`);
        ours.push(BigInt(path.offset));
        what.push(`offsetof(${name}, ${m.name})`);
      } else {
        probes.push({
          type: name,
          member: m.name!,
          bitOffset: path.bitOffset,
          bitWidth: m.bitWidth,
        });
      }
    }
  }
  const answers = askClang({
    declarations: source,
    expressions: exprs,
    bitfields: probes.map((b) => ({ type: b.type, member: b.member })),
    clangArgs: [`-I${archInclude}`, "-D__TARGET_ARCH_x86"],
  });
  const mismatches: string[] = [];
  exprs.forEach((_, i) => {
    if (answers.values[i] !== ours[i])
      mismatches.push(`${what[i]}: clang ${answers.values[i]}, ours ${ours[i]}`);
  });
  probes.forEach((b, i) => {
    const a = answers.bitfields[i]!;
    if (a.bitOffset !== b.bitOffset || a.bitWidth !== b.bitWidth) {
      mismatches.push(
        `${b.type}.${b.member}: clang bit ${a.bitOffset}:${a.bitWidth}, ours ${b.bitOffset}:${b.bitWidth}`,
      );
    }
  });
  return { records: records.length, questions: exprs.length, bitfields: probes.length, mismatches };
}

// Named members, including those reached through anonymous struct/union members.
function namedMembers(r: RecordDecl): Member[] {
  const out: Member[] = [];
  const visit = (members: readonly Member[]) => {
    for (const m of members) {
      if (m.name !== undefined) out.push(m);
      else if (m.bitWidth === undefined) {
        const c: CType = canonical(m.type);
        if (c.kind === "record" && c.decl.members) visit(c.decl.members);
      }
    }
  };
  visit(r.members ?? []);
  return out;
}

describe.skipIf(!canRun)("layout of real headers equals clang -target bpf", () => {
  test("linux/bpf.h, linux/ptrace.h and libbpf's headers", () => {
    const source = [
      "#include <linux/bpf.h>",
      "#include <linux/ptrace.h>",
      "#include <bpf/bpf_helpers.h>",
      "#include <bpf/bpf_tracing.h>",
      "#include <bpf/bpf_core_read.h>",
      "#include <bpf/bpf_endian.h>",
      "",
    ].join("\n");
    const c = compareHeaders(source);
    console.log(
      `uapi + libbpf headers: ${c.records} records, ${c.questions} sizeof/alignof/offsetof, ${c.bitfields} bit-fields compared`,
    );
    expect(c.mismatches.slice(0, 20)).toEqual([]);
    expect(c.records).toBeGreaterThan(40);
  });

  test.skipIf(!hasVmlinux)("vmlinux.h from this kernel's BTF", () => {
    const vmlinux = join(dir, "vmlinux.h");
    writeFileSync(
      vmlinux,
      execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], {
        maxBuffer: 1 << 28,
      }),
    );
    const c = compareHeaders(`#include "${vmlinux}"\n`);
    console.log(
      `vmlinux.h: ${c.records} records, ${c.questions} sizeof/alignof/offsetof, ${c.bitfields} bit-fields compared`,
    );
    expect(c.mismatches.slice(0, 20)).toEqual([]);
    expect(c.records).toBeGreaterThan(1000);
  });
});
