// Externs through compile(): kfuncs (`extern ... __ksym`, a weak one too) and a __kconfig
// variable give the same undefined symbols, relocations and BTF (extern FUNCs and VAR in
// .ksyms / .kconfig DATASECs) as clang's object.
import { afterAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../compiler/compile.js";
import { readElf } from "../../runtime/elf/read.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import { canonicalBtf } from "../emit/btf-canon.js";
import { clangCompile, hasClang, skipReason, tempDir } from "../emit/tools.js";
import { COMPILE_OPTIONS, readBytes } from "./corpus.js";

const tmp = tempDir("tsbpf-externs-");
afterAll(() => tmp.remove());

const SOURCE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_kfunc_call_test1(int a, long b) __ksym;
extern int maybe_there(void) __ksym __weak;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;

SEC("tc")
int prog(void *ctx)
{
	return bpf_kfunc_call_test1(1, 2) + maybe_there() + LINUX_KERNEL_VERSION;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Undefined symbols, and each relocation of the code as "type symbol". */
function externShape(bytes: Uint8Array) {
  const elf = readElf(bytes);
  const code = elf.sections.find((s) => s.name === "tc")!;
  return {
    undefined: elf.symbols
      .filter((s) => s.index > 0 && s.shndx === 0)
      .map((s) => `${s.name} type=${s.type} bind=${s.bind}`)
      .sort(),
    relocations: elf.relocations
      .find((t) => t.target === code)!
      .entries.map((r) => `${r.type} ${elf.symbols[r.symbol]!.name}`)
      .sort(),
    btf: canonicalBtf(parseBtf(elf.sections.find((s) => s.name === ".BTF")!.data)),
  };
}

describe.skipIf(skipReason({ clang: hasClang }))("externs", () => {
  it("kfuncs and __kconfig variables are written as clang writes them", () => {
    const file = join(tmp.dir, "externs.bpf.c");
    writeFileSync(file, SOURCE);
    const ours = compile(file, COMPILE_OPTIONS).object;
    const clang = readBytes(clangCompile(file, join(tmp.dir, "externs.clang.o"), ["-mcpu=v3"]));
    expect(externShape(ours)).toEqual(externShape(clang));
  });
});
