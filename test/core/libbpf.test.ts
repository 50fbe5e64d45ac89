// The Must-show of issue 10: our CO-RE relocation of clang-built objects gives the instructions
// libbpf gives. Each fixture (BPF_CORE_READ chains, field existence and size, type existence
// and size, enum values, flavours, bit-fields, direct loads whose width changes, type ids,
// poisoned relocations) is compiled by clang against two headers:
//
//   real: vmlinux.h written (by btfToC) from the running kernel's /sys/kernel/btf/vmlinux
//   sim:  vmlinux.h written from the simulated kernel's BTF (kernelBtf())
//
// and relocated against two targets: the running kernel's BTF, and the simulated kernel's BTF
// (given to libbpf as btf_custom_path). libbpf's side is c/core-load.c: the machine's libbpf
// relocates and loads each program into the running kernel (verification only) and we read
// what it handed to BPF_PROG_LOAD. Ours: relocateObjectCore, then the loader's relocateProgram
// (subprograms appended, map references). Every instruction must be equal, but for the map fds
// in lddw (ours are placeholders).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { encodeBtf } from "../../runtime/btf/encode.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import type { Btf } from "../../runtime/btf/btf.js";
import { btfToC } from "../../runtime/core/btf-to-c.js";
import {
  isPoisonedInsn,
  relocateObjectCore,
  withCoreRelocations,
  type ObjectCoreResult,
} from "../../runtime/core/index.js";
import { readElf } from "../../runtime/elf/read.js";
import { kernelBtf } from "../../runtime/kernel/btf.js";
import { relocateProgram } from "../../runtime/loader/relocate.js";
import { openObject } from "../../runtime/object/open.js";
import {
  compileFixture,
  hasClang,
  hasLibbpf,
  hasVmlinuxBtf,
  isRoot,
  libbpfRelocate,
  masked,
  scratchFile,
  skipReason,
  vmlinuxDir,
  VMLINUX_BTF,
} from "./tools.js";

const skip = skipReason({
  clang: hasClang,
  "libbpf-dev": hasLibbpf,
  "/sys/kernel/btf/vmlinux": hasVmlinuxBtf,
  "root (bpf() for verification-only loads)": isRoot,
});
if (skip) console.log(`test/core/libbpf: skipped: ${skip}`);

const FIXTURES = ["task", "file", "net", "block", "direct", "poison"];

interface Totals {
  relocations: number;
  changed: number;
  poisoned: number;
  widened: number;
  instructions: number;
}

describe.skipIf(skip !== undefined)("CO-RE relocation of clang objects equals libbpf's", () => {
  const realBtf = (): Btf => parseBtf(new Uint8Array(readFileSync(VMLINUX_BTF)), VMLINUX_BTF);
  let real: Btf | undefined;
  const targets = {
    real: () => (real ??= realBtf()),
    sim: () => kernelBtf(),
  };
  const headers = {
    real: () => btfToC(targets.real()),
    sim: () => btfToC(targets.sim()),
  };
  const simBtfFile = (): string => scratchFile("sim-vmlinux.btf", encodeBtf(kernelBtf()));
  const totals: Totals = { relocations: 0, changed: 0, poisoned: 0, widened: 0, instructions: 0 };

  for (const header of ["real", "sim"] as const) {
    for (const target of ["real", "sim"] as const) {
      it(`against the ${header} kernel's vmlinux.h, relocated to the ${target} kernel's BTF`, () => {
        const dir = vmlinuxDir(header, headers[header]());
        const targetBtf = targets[target]();
        const targetFile = target === "real" ? undefined : simBtfFile();
        for (const name of FIXTURES) {
          const { path, bytes } = compileFixture(name, dir, [], `${name}-${header}`);
          const object = openObject(bytes, path);
          const core = relocateObjectCore(object, targetBtf);
          const relocated = withCoreRelocations(object, core);
          const oracle = libbpfRelocate(path, targetFile);
          expect(oracle.programs.map((p) => p.name).sort()).toEqual(
            object.programs.map((p) => p.name).sort(),
          );
          for (const prog of object.programs) {
            const ours = relocateProgram(relocated.object, relocated.program(prog), (i) => 100 + i);
            const theirs = oracle.programs.find((p) => p.name === prog.name)!;
            const where = `${name}.bpf.c (${header} header -> ${target} BTF): ${prog.name}`;
            expect(masked(ours.insns), where).toEqual(masked(theirs.insns));
            // a program that libbpf could load has no reachable poisoned instruction, and
            // the kernel agrees with what our results say about it
            if (target === "real")
              expect(theirs.loaded, `${where}: kernel verdict`).toBe(!oracle.errors.has(prog.name));
            totals.instructions += ours.insns.length;
          }
          count(totals, core.results);
        }
      });
    }
  }

  it("covers every kind of change: offsets, widths, poisoning", () => {
    console.log(
      `test/core/libbpf: ${totals.relocations} relocations over ${totals.instructions} instructions compared with libbpf: ${totals.changed} changed a value, ${totals.widened} changed a load/store width, ${totals.poisoned} poisoned`,
    );
    expect(totals.relocations).toBeGreaterThan(200);
    expect(totals.changed).toBeGreaterThan(50);
    expect(totals.widened).toBeGreaterThan(0);
    expect(totals.poisoned).toBeGreaterThan(0);
  });

  it("TYPE_MATCHES (which clang 14 cannot emit: type_exists records patched into it)", () => {
    for (const header of ["real", "sim"] as const) {
      const dir = vmlinuxDir(header, headers[header]());
      const built = compileFixture("task", dir, [], `task-matches-${header}`);
      const patched = patchCoreReloKind(built.bytes, 8 /* TYPE_EXISTS */, 12 /* TYPE_MATCHES */);
      const path = scratchFile(`task-matches-${header}.bpf.o`, patched);
      const object = openObject(patched, path);
      for (const target of ["real", "sim"] as const) {
        const core = relocateObjectCore(object, targets[target]());
        const matches = core.results.filter((r) => r.kindName === "type_matches");
        expect(matches.length).toBeGreaterThan(0);
        const relocated = withCoreRelocations(object, core);
        const oracle = libbpfRelocate(path, target === "real" ? undefined : simBtfFile());
        for (const prog of object.programs) {
          const ours = relocateProgram(relocated.object, relocated.program(prog), () => 0);
          const theirs = oracle.programs.find((p) => p.name === prog.name)!;
          expect(masked(ours.insns), `${header} -> ${target}: ${prog.name}`).toEqual(
            masked(theirs.insns),
          );
        }
        // the sim header's task_struct matches the sim kernel's, not the real one's (nor the
        // reverse); real against real does not match either, for libbpf as for us: matching
        // compares names below typedefs, and clang spells the kernel's gcc-named `long
        // unsigned int` as `unsigned long`
        const self = matches.find((r) => /struct task_struct$/.test(r.localSpec))!;
        const expected = header === "sim" && target === "sim" ? 1 : 0;
        expect(self.newValue, `${header} -> ${target}`).toBe(expected);
      }
    }
  });

  it("poisons with a message naming the field and type; the kernel rejects the reached ones", () => {
    const dir = vmlinuxDir("real", headers.real());
    const { path, bytes } = compileFixture("poison", dir, [], "poison-messages");
    const object = openObject(bytes, path);
    const core = relocateObjectCore(object, targets.real());
    const poisoned = core.results.filter((r) => r.poisoned);
    expect(poisoned.map((r) => r.message)).toEqual([
      expect.stringMatching(
        /prog 'missing_field': relo #\d+: insn \d+: field 'field_that_never_was' of struct task_struct___gone is not in the target BTF/,
      ),
      expect.stringMatching(
        /enumerator 'PIDTYPE_NEVER___gone' of enum pid_type___gone is not in the target BTF/,
      ),
      expect.stringMatching(
        /prog 'signed_width': .*field 'cx' of struct pt_regs___signed is 4 bytes here but 8 in the target, and is not a pointer or unsigned integer/,
      ),
    ]);
    const relocated = withCoreRelocations(object, core);
    for (const prog of relocated.object.programs)
      expect(prog.insns.some(isPoisonedInsn), prog.name).toBe(true);
    const oracle = libbpfRelocate(path);
    expect(oracle.programs.every((p) => !p.loaded)).toBe(true);
  });
});

/** The object with every .BTF.ext CO-RE record of kind `from` turned into kind `to`. */
function patchCoreReloKind(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const out = bytes.slice();
  const ext = readElf(out).sections.find((s) => s.name === ".BTF.ext")!;
  const view = new DataView(out.buffer, ext.offset, ext.size);
  const hdrLen = view.getUint32(4, true);
  const reloOff = hdrLen + view.getUint32(24, true);
  const reloEnd = reloOff + view.getUint32(28, true);
  const recordSize = view.getUint32(reloOff, true);
  for (let at = reloOff + 4; at < reloEnd;) {
    const count = view.getUint32(at + 4, true);
    at += 8;
    for (let i = 0; i < count; i++, at += recordSize)
      if (view.getUint32(at + 12, true) === from) view.setUint32(at + 12, to, true);
  }
  return out;
}

function count(totals: Totals, results: ObjectCoreResult[]): void {
  for (const r of results) {
    totals.relocations++;
    if (r.poisoned) totals.poisoned++;
    else if (r.oldValue !== r.newValue) totals.changed++;
    if (r.widthChange) totals.widened++;
  }
}
