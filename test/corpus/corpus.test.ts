// The corpus against the reference tools, for every program:
//   - tsbpf compiles it; readelf -a and llvm-objdump -d -r read the object without a warning
//     (llvm-objdump 14 prints <unknown> only for instructions it cannot name: stores of an
//     immediate and 32-bit atomics, which clang 14 never emits);
//   - runtime/object opens it and finds the programs, sections and maps clang's object has;
//   - differential: our object and clang's, loaded into the simulated kernel and run on the
//     same seeded workload, leave the same maps, globals, ring/perf buffer records, trace_pipe
//     lines and test-run results;
//   - the real kernel's verifier (through libbpf, ../shared/tools/kload.c) accepts every
//     program of ours whenever it accepts clang's;
//   - instruction counts, ours and clang's, with the total ratio (goal: at most 1.15).
import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { openObject } from "../../runtime/object/open.js";
import { BTF_KIND_DATASEC } from "../../runtime/btf/btf.js";
import { decodeInsn } from "../../runtime/isa/codec.js";
import { disassemble, UNKNOWN } from "../../runtime/isa/disasm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_JSET,
  BPF_LDX,
  BPF_MEMSX,
  BPF_MOD,
  BPF_ST,
  BPF_STX,
  BPF_W,
  classOf,
  modeOf,
  opOf,
  sizeOf,
} from "../../runtime/isa/opcodes.js";
import {
  hasClang,
  hasLibbpf,
  hasObjdump,
  hasReadelf,
  isRoot,
  run,
  skipReason,
  tempDir,
} from "../emit/tools.js";
import {
  CORPUS,
  RUN_SETTINGS,
  clangObject,
  instructionCount,
  kernelVerdicts,
  kload,
  readBytes,
  tsbpfObject,
} from "./corpus.js";
import { runObject, unsupportedMaps } from "./harness.js";
import { canonicalBtf } from "../emit/btf-canon.js";

const tmp = tempDir("tsbpf-corpus-");
afterAll(() => tmp.remove());

const ours = new Map<string, string>();
const theirs = new Map<string, string>();
const oursOf = (p: string): string => {
  let path = ours.get(p);
  if (!path) ours.set(p, (path = tsbpfObject(p, tmp.dir)));
  return path;
};
const clangOf = (p: string): string => {
  let path = theirs.get(p);
  if (!path) theirs.set(p, (path = clangObject(p, tmp.dir)));
  return path;
};

const counts: { program: string; ours: number; clang: number }[] = [];
const lineStats: { program: string; ours: number; clang: number; shared: number }[] = [];
afterAll(() => {
  if (lineStats.length < 40) return; // a partial run (-t) says nothing about the whole corpus
  const sum = (f: (s: (typeof lineStats)[number]) => number) =>
    lineStats.reduce((a, s) => a + f(s), 0);
  console.log(
    `line_info: ${lineStats.length} programs, source lines named by tsbpf ${sum((s) => s.ours)}, ` +
      `by clang ${sum((s) => s.clang)}, by both ${sum((s) => s.shared)}`,
  );
});

/**
 * Valid instructions llvm-objdump 14 prints as <unknown> (runtime/isa/disasm.ts): stores of an
 * immediate, mod, jset, 32-bit atomics, and the cpu v4 forms.
 */
function llvm14CannotName(insn: Insn): boolean {
  const cls = classOf(insn.code);
  const op = opOf(insn.code);
  if (cls === BPF_ST) return true;
  if ((cls === BPF_ALU || cls === BPF_ALU64) && (op === BPF_MOD || insn.off !== 0)) return true;
  if ((cls === BPF_JMP || cls === BPF_JMP32) && op === BPF_JSET) return true;
  if (cls === BPF_STX && modeOf(insn.code) === BPF_ATOMIC && sizeOf(insn.code) === BPF_W)
    return true;
  if ((cls === BPF_LDX && modeOf(insn.code) === BPF_MEMSX) || (cls === BPF_JMP32 && op === BPF_JA))
    return true;
  return false;
}

describe("corpus", () => {
  it("has at least 40 programs", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CORPUS)("%s: tsbpf compiles it and runtime/object opens it", (program) => {
    const obj = openObject(readBytes(oursOf(program)), program);
    expect(obj.programs.length).toBeGreaterThan(0);
    expect(obj.license).toBe("GPL");
  });
});

describe.skipIf(skipReason({ readelf: hasReadelf, "llvm-objdump": hasObjdump }))(
  "corpus objects read by readelf and llvm-objdump",
  () => {
    it.each(CORPUS)("%s: no warning", (program) => {
      const path = oursOf(program);
      const elf = run("readelf", ["-a", "-W", path]);
      expect(elf.status).toBe(0);
      expect(elf.stderr).toBe("");
      const dump = run("llvm-objdump", ["-d", "-r", path]);
      expect(dump.status).toBe(0);
      expect(dump.stderr).toBe("");
      for (const line of dump.stdout.split("\n")) {
        if (!line.endsWith(UNKNOWN)) continue;
        const bytes = Uint8Array.from(
          line
            .split("\t")[1]!
            .trim()
            .split(" ")
            .map((h) => parseInt(h, 16)),
        );
        const insn = decodeInsn(bytes);
        expect(disassemble([insn], 0), line).not.toBe(UNKNOWN);
        expect(llvm14CannotName(insn), line).toBe(true);
      }
    });
  },
);

describe.skipIf(skipReason({ clang: hasClang }))("corpus against clang", () => {
  it.each(CORPUS)("%s: same programs, sections and maps as clang's object", (program) => {
    const mine = openObject(readBytes(oursOf(program)), program);
    const clang = openObject(readBytes(clangOf(program)), program);
    // Global-data maps compare by their variables: the two compilers may order a section's
    // variables differently (so its size differs by padding), and clang folds reads of string
    // literals at constant indexes, which can leave it without a .rodata.str1.1 section.
    const shape = (o: typeof mine) => ({
      programs: o.programs.map((p) => `${p.sectionName} ${p.name} type=${p.type}`).sort(),
      maps: o.maps
        .filter((m) => m.origin === "btf" || m.origin === "legacy")
        .map(
          (m) =>
            `${m.name} type=${m.type} key=${m.keySize} value=${m.valueSize} max=${m.maxEntries} slots=${m.initialSlots.length}`,
        )
        .sort(),
      variables: o
        .btf!.types.filter((t) => t.kind === BTF_KIND_DATASEC)
        .flatMap((t) =>
          t.kind === BTF_KIND_DATASEC
            ? t.vars.map((v) => `${t.name} ${o.btf!.types[v.type]!.name} ${v.size}`)
            : [],
        )
        .sort(),
      kernVersion: o.kernVersion,
    });
    expect(shape(mine)).toEqual(shape(clang));
  });

  it.each(CORPUS)("%s: .BTF has clang's types (up to their order)", (program) => {
    const mine = openObject(readBytes(oursOf(program)), program).btf!;
    const clang = openObject(readBytes(clangOf(program)), program).btf!;
    expect(canonicalBtf(mine)).toEqual(canonicalBtf(clang));
  });

  it.each(CORPUS)("%s: func_info for every function, line_info on clang's lines", (program) => {
    const mine = openObject(readBytes(oursOf(program)), program);
    const clang = openObject(readBytes(clangOf(program)), program);
    const funcs = (o: typeof mine) =>
      [...o.programs, ...o.subprograms]
        .map(
          (p) =>
            `${p.name} ${p.funcInfo.map((f) => `${f.insn}:${o.btf!.types[f.typeId]!.name}`).join(",")}`,
        )
        .sort();
    expect(funcs(mine)).toEqual(funcs(clang));
    // The source lines each program's line_info names: the two compilers place and merge code
    // differently (clang folds more lines away, so ours name more), but clang's lines must be
    // ours too.
    for (const p of mine.programs) {
      const theirs = clang.programs.find((q) => q.name === p.name)!;
      const lines = (q: typeof p) =>
        new Set(
          q.lineInfo.filter((l) => l.line > 0).map((l) => `${l.fileName}:${l.line} ${l.source}`),
        );
      const clangLines = lines(theirs);
      const ourLines = lines(p);
      expect(p.lineInfo[0]?.insn, `${p.name}: the first instruction has a line`).toBe(0);
      const shared = [...clangLines].filter((l) => ourLines.has(l)).length;
      lineStats.push({ program: p.name, ours: ourLines.size, clang: clangLines.size, shared });
      expect(shared / clangLines.size, `${p.name}: clang's lines we name`).toBeGreaterThanOrEqual(
        0.7,
      );
    }
  });

  it.each(CORPUS)("%s: runs like clang's object in the simulated kernel", (program) => {
    const mineBytes = readBytes(oursOf(program));
    const clangBytes = readBytes(clangOf(program));
    const unsupported = unsupportedMaps(clangBytes, program);
    if (unsupported.length > 0) {
      console.log(`${program}: not run: the simulated kernel has no ${unsupported.join(", ")}`);
      return;
    }
    const settings = { events: 300, seed: 11, ...RUN_SETTINGS[program] };
    const expected = runObject(clangBytes, "corpus.bpf.o", settings);
    const got = runObject(mineBytes, "corpus.bpf.o", settings);
    expect(Object.values(expected.runs).some((n) => n > 0) || expected.testRuns.length > 0).toBe(
      true,
    );
    expect(got).toEqual(expected);
  });

  it("instruction counts: ours against clang -O2 -mcpu=v3", () => {
    const failed: string[] = [];
    for (const program of CORPUS) {
      try {
        counts.push({
          program,
          ours: instructionCount(oursOf(program)),
          clang: instructionCount(clangOf(program)),
        });
      } catch (err) {
        failed.push(`${program}: ${(err as Error).message.split("\n")[0]}`);
      }
    }
    if (failed.length > 0) console.log(`not counted (no object):\n${failed.join("\n")}`);
    const total = counts.reduce((a, c) => ({ ours: a.ours + c.ours, clang: a.clang + c.clang }), {
      ours: 0,
      clang: 0,
    });
    const lines = counts.map(
      (c) =>
        `${c.program.padEnd(28)} ${String(c.ours).padStart(5)} ${String(c.clang).padStart(5)}  ${(c.ours / c.clang).toFixed(2)}`,
    );
    console.log(
      [
        `${"program".padEnd(28)} tsbpf clang  ratio`,
        ...lines,
        `${"total".padEnd(28)} ${String(total.ours).padStart(5)} ${String(total.clang).padStart(5)}  ${(total.ours / total.clang).toFixed(3)}`,
      ].join("\n"),
    );
    expect(total.ours / total.clang).toBeLessThanOrEqual(1.15);
  });
});

const kloadExe =
  isRoot && hasLibbpf && process.env.TSBPF_NO_KERNEL === undefined ? kload(tmp.dir) : undefined;

describe.skipIf(
  skipReason({
    clang: hasClang,
    root: isRoot,
    "libbpf-dev": hasLibbpf,
    "kload (../shared/tools/kload.c built with -lbpf)": kloadExe !== undefined,
  }),
)("corpus in the real kernel's verifier", () => {
  it.each(CORPUS)("%s: accepted whenever clang's object is", (program) => {
    const verdicts = (path: string): Map<string, string> => kernelVerdicts(kloadExe!, path);
    const clang = verdicts(clangOf(program));
    const mine = verdicts(oursOf(program));
    const opened = [...clang.values()].every((l) => !l.startsWith("OPEN_FAIL"));
    if (!opened) {
      // libbpf 1.x refuses legacy `maps` sections: neither object can be loaded by it.
      console.log(
        `${program}: libbpf cannot open clang's object either: ${[...clang.values()][0]}`,
      );
      return;
    }
    for (const [name, verdict] of clang) {
      if (!verdict.startsWith("OK")) continue;
      expect(mine.get(name) ?? `missing ${name}`, `${program}: ${name}`).toMatch(/^OK /);
    }
  });
});
