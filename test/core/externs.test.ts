// __kconfig / __ksym externs (runtime/core/externs.ts) against libbpf: for a clang-built object
// using every kind of kconfig extern and typeless ksyms, the `.kconfig` map value we lay out
// and fill from a kernel config must equal the one libbpf fills from the same config text, and
// the extern lddws we patch (map value offsets, kallsyms addresses from /proc/kallsyms) must
// equal what libbpf handed the kernel. Then the simulated kernel's own values, and the errors.
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { describe, expect, it } from "vitest";
import { parseBtf } from "../../runtime/btf/parse.js";
import { btfToC } from "../../runtime/core/btf-to-c.js";
import {
  collectExterns,
  kallsymsLookup,
  kconfigValue,
  patchExternLddw,
  resolveKsyms,
  simKernelConfig,
  SIM_KERNEL_CONFIG,
  type BpfExtern,
} from "../../runtime/core/index.js";
import { ExternError } from "../../runtime/core/error.js";
import { STT_NOTYPE, SHN_UNDEF } from "../../runtime/elf/elf.js";
import { readElf } from "../../runtime/elf/read.js";
import { decodeProgram } from "../../runtime/isa/codec.js";
import { disassemble } from "../../runtime/isa/disasm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import {
  compileFixture,
  hasClang,
  hasLibbpf,
  hasVmlinuxBtf,
  isRoot,
  libbpfRelocate,
  skipReason,
  vmlinuxDir,
  VMLINUX_BTF,
} from "./tools.js";

const skipClang = skipReason({ clang: hasClang, "/sys/kernel/btf/vmlinux": hasVmlinuxBtf });
const skipOracle = skipReason({
  clang: hasClang,
  "libbpf-dev": hasLibbpf,
  "/sys/kernel/btf/vmlinux": hasVmlinuxBtf,
  "root (bpf() for verification-only loads)": isRoot,
});
if (skipOracle) console.log(`test/core/externs: libbpf comparison skipped: ${skipOracle}`);

type Built = {
  path: string;
  elf: ReturnType<typeof readElf>;
  btf: ReturnType<typeof parseBtf>;
  insns: Insn[];
  refs: { insn: number; name: string }[];
};

let built: Built | undefined;
/** The object's pieces externs need (the open phase refuses extern relocations today). */
function build(): Built {
  if (built !== undefined) return { ...built, insns: built.insns.map((i) => ({ ...i })) };
  const dir = vmlinuxDir("real", btfToC(parseBtf(new Uint8Array(readFileSync(VMLINUX_BTF)))));
  const { path, bytes } = compileFixture("externs", dir);
  const elf = readElf(bytes, path);
  const btf = parseBtf(elf.sections.find((s) => s.name === ".BTF")!.data);
  const code = elf.sections.find((s) => s.name === "kprobe/do_nanosleep")!;
  const rel = elf.relocations.find((r) => r.target === code)!;
  const all = rel.entries.map((e) => ({ insn: e.offset / 8, sym: elf.symbols[e.symbol]! }));
  const refs = all
    .filter(({ sym }) => sym.shndx === SHN_UNDEF && sym.type === STT_NOTYPE)
    .map(({ insn, sym }) => ({ insn, name: sym.name }));
  // the one global (`out`, in .bss) becomes a map value reference, as the loader makes it
  const insns = decodeProgram(code.data);
  for (const { insn, sym } of all) if (sym.shndx !== SHN_UNDEF) insns[insn]!.src = 2;
  built = { path, elf, btf, insns, refs };
  return build();
}

/** KERNEL_VERSION of the running kernel's release, as libbpf computes LINUX_KERNEL_VERSION. */
function runningVersion(): number {
  const [major, minor, patch] = release().split(/[.-]/).map(Number);
  return (major! << 16) + (minor! << 8) + Math.min(patch!, 255);
}

const text = (insns: Insn[]): string[] =>
  insns.map((insn, i) =>
    insn.src === 2 && insn.code === 0x18
      ? "map value lddw"
      : `${disassemble(insns, i)} [${insn.src} ${insn.imm}]`,
  );

describe.skipIf(skipClang !== undefined)("externs of a clang object", () => {
  it("are collected and laid out as libbpf lays out .kconfig", () => {
    const { elf, btf } = build();
    const externs = collectExterns({ elf, btf });
    expect(externs.map((e) => [e.kind, e.name, e.kind === "kconfig" ? e.offset : -1])).toEqual([
      // largest alignment first, then smallest size, then name
      ["kconfig", "CONFIG_NR_CPUS", 0],
      ["kconfig", "CONFIG_BPF_JIT", 8],
      ["kconfig", "CONFIG_HZ", 12],
      ["kconfig", "LINUX_KERNEL_VERSION", 16],
      ["kconfig", "CONFIG_BPF_SYSCALL", 20],
      ["kconfig", "CONFIG_NO_SUCH_OPTION", 21],
      ["kconfig", "LINUX_HAS_BPF_COOKIE", 22],
      ["kconfig", "CONFIG_LOCALVERSION", 23],
      ["ksym", "no_such_symbol", -1],
      ["ksym", "vfs_read", -1],
    ]);
  });

  it.skipIf(skipOracle !== undefined)(
    "give the .kconfig value and the instructions libbpf gives, from the same config",
    () => {
      const { path, elf, btf, insns, refs } = build();
      const externs = collectExterns({ elf, btf });
      const config = `${SIM_KERNEL_CONFIG}\nCONFIG_LOCALVERSION="-tsbpf"`;
      const ours = kconfigValue(externs, {
        version: runningVersion(),
        config,
        hasBpfCookie: true,
      });
      const oracle = libbpfRelocate(path, undefined, config);
      expect(oracle.errors.size, [...oracle.errors].join()).toBe(0);
      expect([...ours]).toEqual([...oracle.kconfig.get("read_externs")!]);

      const ksyms = resolveKsyms(externs, kallsymsLookup(readFileSync("/proc/kallsyms", "utf8")));
      const patched = insns.map((i) => ({ ...i }));
      for (const ref of refs)
        patchExternLddw(
          patched,
          ref.insn,
          externs.find((e) => e.name === ref.name)!,
          ksyms,
          0,
        );
      const theirs = oracle.programs.find((p) => p.name === "read_externs")!;
      expect(text(patched)).toEqual(text(theirs.insns));
      // the kconfig references point into the map at each extern's offset
      const byName = new Map<string, BpfExtern>(externs.map((e) => [e.name, e]));
      for (const ref of refs) {
        const ext = byName.get(ref.name)!;
        if (ext.kind === "kconfig") expect(theirs.insns[ref.insn + 1]!.imm).toBe(ext.offset);
      }
    },
  );

  it("take the simulated kernel's version, config and kallsyms", () => {
    const { elf, btf } = build();
    const externs = collectExterns({ elf, btf });
    const kernel = new SimKernel();
    const value = kconfigValue(externs, simKernelConfig(kernel));
    const view = new DataView(value.buffer);
    expect(view.getUint32(16, true)).toBe(kernel.version); // LINUX_KERNEL_VERSION
    expect(view.getUint32(12, true)).toBe(250); // CONFIG_HZ
    expect(view.getUint32(8, true)).toBe(1); // CONFIG_BPF_JIT=y: TRI_YES
    expect(Number(view.getBigUint64(0, true))).toBe(64); // CONFIG_NR_CPUS
    expect(value[21]).toBe(0); // CONFIG_NO_SUCH_OPTION: weak, absent
    const ksyms = resolveKsyms(externs, (name) => kernel.kallsyms.lookup(name));
    expect(ksyms.get("vfs_read")).toEqual({
      lo: kernel.fn("vfs_read").lo,
      hi: kernel.kallsyms.lookup("vfs_read")!.hi,
    });
    expect(ksyms.get("no_such_symbol")).toEqual({ lo: 0, hi: 0 });
  });

  it("fail naming the extern when the kernel cannot satisfy it", () => {
    const { elf, btf } = build();
    const externs = collectExterns({ elf, btf });
    const message = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        if (err instanceof ExternError) return err.message;
        throw err;
      }
      return "no error";
    };
    const source = { version: 0x60100, config: "" };
    expect(message(() => kconfigValue(externs, source, "x.o"))).toBe(
      "x.o: extern 'CONFIG_HZ' (strong): not resolved",
    );
    expect(
      message(() => kconfigValue(externs, { ...source, config: "CONFIG_BPF_SYSCALL=m" }, "x.o")),
    ).toBe("x.o: extern (kcfg) 'CONFIG_BPF_SYSCALL': value 'm' implies tristate or char type");
    expect(message(() => kconfigValue(externs, { ...source, config: "CONFIG_HZ=y" }, "x.o"))).toBe(
      "x.o: extern (kcfg) 'CONFIG_HZ': value 'y' implies bool, tristate, or char type",
    );
    expect(
      message(() => kconfigValue(externs, { ...source, config: "CONFIG_HZ=4294967296" }, "x.o")),
    ).toMatch(/'CONFIG_HZ': value '4294967296' doesn't fit in 4 bytes/);
    expect(message(() => kconfigValue(externs, { ...source, config: "CONFIG_HZ" }, "x.o"))).toMatch(
      /config line 'CONFIG_HZ': no value/,
    );
    expect(message(() => resolveKsyms(externs, () => undefined, "x.o"))).toBe(
      "x.o: extern 'vfs_read' (strong): not resolved (not in kallsyms)",
    );
  });
});
