// CO-RE from tsbpf build, against clang and libbpf. CO-RE programs (test/codegen/core/*.bpf.c and
// the ones test/core relocates: BPF_CORE_READ chains over task_struct->real_parent->tgid and
// mm->exe_file->f_path.dentry->d_name.name, bit-fields, field/type/enum existence and sizes,
// type ids, __kconfig, __ksym, weak externs, `const volatile`, SEC("?...")) are compiled by
// tsbpf and by clang -O2 -g -mcpu=v3 against two vmlinux.h:
//
//   sim:   samples/include/vmlinux.h, the simulated kernel's header
//   real:  bpftool btf dump file /sys/kernel/btf/vmlinux format c, written to a scratch dir
//
// and then
//   (a) every function's .BTF.ext core_relo records - kind, access string, root type (kind and
//       name) and the local value in the relocated instruction - are the ones clang writes
//       (as sets: a few records clang repeats or merges differ in number, see below), and .BTF
//       is byte for byte clang's where the program's types are laid out the same;
//   (b) relocated by runtime/core against the simulated kernel's BTF and against
//       /sys/kernel/btf/vmlinux, every record resolves as clang's does (new value, poisoning),
//       and on the simulated kernel our programs fill their maps exactly as clang's do;
//   (c) libbpf (test/core/c/core-load.c) relocates our objects without error, to the same
//       instructions our loader gives, and the running kernel's verifier judges our programs
//       as it judges clang's;
// and bad uses of the builtins get clang's messages at clang's places.
//
// Relocation counts: clang materialises one relocated value per basic block and its register
// allocator sometimes rematerialises it at a second use, or keeps it across calls; tsbpf
// merges identical relocations like clang's machine CSE but not always as often. Every record
// clang writes, tsbpf writes, with the same value; the count of duplicates may differ.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { CompileError } from "../../compiler/diagnostics.js";
import { BpfObject } from "../../runtime/api/index.js";
import type { Btf } from "../../runtime/btf/btf.js";
import { encodeBtf } from "../../runtime/btf/encode.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import { btfTypeById } from "../../runtime/btf/query.js";
import { relocateObjectCore, withCoreRelocations } from "../../runtime/core/index.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BPF_LDDW } from "../../runtime/isa/opcodes.js";
import { kernelBtf } from "../../runtime/kernel/btf.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { runWorkload } from "../../runtime/kernel/workload.js";
import { relocateProgram } from "../../runtime/loader/relocate.js";
import { openObject, type BpfObject as OpenedObject } from "../../runtime/object/open.js";
import {
  FIXTURES as CORE_FIXTURES,
  VMLINUX_BTF,
  hasBpftool,
  hasClang,
  hasLibbpf,
  hasVmlinuxBtf,
  isRoot,
  libbpfRelocate,
  masked,
  run,
  scratchDir,
  scratchFile,
  skipReason,
} from "../core/tools.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const OWN = join(HERE, "core");
const SIM_HEADER_DIR = join(HERE, "..", "..", "samples", "include");

const skip = skipReason({
  clang: hasClang,
  bpftool: hasBpftool,
  "/sys/kernel/btf/vmlinux": hasVmlinuxBtf,
});
if (skip) console.log(`test/codegen/core: skipped: ${skip}`);
const libbpfSkip = skipReason({
  "libbpf-dev": hasLibbpf,
  "root (bpf() for verification-only loads)": isRoot,
});
if (!skip && libbpfSkip) console.log(`test/codegen/core (libbpf): skipped: ${libbpfSkip}`);

/** Programs compiled by both compilers: ours, then test/core's. */
const FIXTURES: { name: string; path: string }[] = [
  ...["tools", "access"].map((name) => ({ name, path: join(OWN, `${name}.bpf.c`) })),
  ...["task", "file", "net", "block", "direct", "snoop", "poison", "externs"].map((name) => ({
    name,
    path: join(CORE_FIXTURES, `${name}.bpf.c`),
  })),
];

type Header = "sim" | "real";
const HEADERS: Header[] = ["sim", "real"];

let realHeaderDir: string | undefined;
function headerDir(h: Header): string {
  if (h === "sim") return SIM_HEADER_DIR;
  if (realHeaderDir === undefined) {
    const dir = join(scratchDir(), "codegen-core-real");
    mkdirSync(dir, { recursive: true });
    const text = run("bpftool", ["btf", "dump", "file", VMLINUX_BTF, "format", "c"]);
    writeFileSync(join(dir, "vmlinux.h"), text);
    realHeaderDir = dir;
  }
  return realHeaderDir;
}

interface Built {
  path: string;
  bytes: Uint8Array;
  object: OpenedObject;
}

const built = new Map<string, Built>();

function build(fixture: string, header: Header, by: "clang" | "tsbpf"): Built {
  const key = `${fixture}-${header}-${by}`;
  const known = built.get(key);
  if (known) return known;
  const src = FIXTURES.find((f) => f.name === fixture)!.path;
  const out = join(scratchDir(), `${key}.bpf.o`);
  const inc = ["-I/usr/include/x86_64-linux-gnu", `-I${headerDir(header)}`];
  if (by === "clang") {
    run("clang", [
      ...["-O2", "-g", "-target", "bpf", "-mcpu=v3", "-D__TARGET_ARCH_x86", ...inc],
      ...["-c", src, "-o", out],
    ]);
  } else {
    const r = compile(src, {
      includeDirs: ["/usr/include/x86_64-linux-gnu", headerDir(header)],
      defines: ["__TARGET_ARCH_x86"],
      optLevel: 2,
      cpu: "v3",
      debug: true,
    });
    writeFileSync(out, r.object);
  }
  const bytes = new Uint8Array(readFileSync(out));
  const b = { path: out, bytes, object: openObject(bytes, out) };
  built.set(key, b);
  return b;
}

const KIND = [
  "byte_off",
  "byte_sz",
  "field_exists",
  "signed",
  "lshift_u64",
  "rshift_u64",
  "local_type_id",
  "target_type_id",
  "type_exists",
  "type_size",
  "enumval_exists",
  "enumval_value",
  "type_matches",
];

const BTF_KIND = ["void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef"];

/** The value a relocation patches: a load/store's offset, else the immediate (lddw: 64 bits). */
function localValue(insns: Insn[], i: number): string {
  const insn = insns[i]!;
  const cls = insn.code & 7;
  if (cls === 1 || cls === 3) return `off ${insn.off}`; // BPF_LDX, BPF_STX
  if (insn.code === BPF_LDDW) {
    const hi = BigInt(insns[i + 1]!.imm >>> 0) << 32n;
    return `lddw ${BigInt.asIntN(64, hi | BigInt(insn.imm >>> 0))}`;
  }
  return `imm ${insn.imm}`;
}

/** Each function's core_relo records as "kind struct:name "access" = value", in order. */
function records(o: OpenedObject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of o.programs) {
    out.set(
      p.name,
      p.coreRelos.map((r) => {
        const t = btfTypeById(o.btf!, r.typeId);
        // a type id's value is the root's own id in the object's .BTF: say so, not the number
        const value =
          r.kind === 6 || r.kind === 7
            ? localValue(p.insns, r.insn) === `lddw ${r.typeId}`
              ? "own id"
              : `wrong id ${localValue(p.insns, r.insn)}`
            : localValue(p.insns, r.insn);
        return `${KIND[r.kind]} ${BTF_KIND[t.kind] ?? t.kind}:${t.name ?? ""} "${r.accessStr}" = ${value}`;
      }),
    );
  }
  return out;
}

const distinct = (xs: string[]): string[] => [...new Set(xs)].sort();

let realBtf: Btf | undefined;
const targets: Record<Header, () => Btf> = {
  real: () => (realBtf ??= parseBtf(new Uint8Array(readFileSync(VMLINUX_BTF)), VMLINUX_BTF)),
  sim: () => kernelBtf(),
};

// Compiling against the real kernel's 100k-line vmlinux.h takes seconds per object on a
// loaded machine: a generous limit, not a speed requirement (that is bench/'s business).
const LIMIT = { timeout: 900_000 };

describe.skipIf(skip !== undefined)("CO-RE objects from tsbpf build", LIMIT, () => {
  const stats = { records: 0, sameOrder: 0, sameCount: 0, functions: 0, sameBtf: 0, objects: 0 };

  for (const header of HEADERS) {
    it(`write clang's core_relo records and .BTF (${header} vmlinux.h)`, () => {
      for (const { name } of FIXTURES) {
        const clang = build(name, header, "clang").object;
        const ours = build(name, header, "tsbpf").object;
        const theirs = records(clang);
        const mine = records(ours);
        expect([...mine.keys()].sort(), name).toEqual([...theirs.keys()].sort());
        for (const [fn, recs] of theirs) {
          const where = `${name}.bpf.c (${header}): ${fn}`;
          expect(distinct(mine.get(fn)!), where).toEqual(distinct(recs));
          stats.functions++;
          stats.records += recs.length;
          if (JSON.stringify(mine.get(fn)) === JSON.stringify(recs)) stats.sameOrder++;
          const sorted = (xs: string[]): string => JSON.stringify([...xs].sort());
          if (sorted(mine.get(fn)!) === sorted(recs)) stats.sameCount++;
        }
        stats.objects++;
        const a = build(name, header, "clang");
        const b = build(name, header, "tsbpf");
        const dump = (p: string): string => run("bpftool", ["btf", "dump", "file", p]);
        if (dump(a.path) === dump(b.path)) stats.sameBtf++;
      }
    });
  }

  it("says how close the records and types are", () => {
    console.log(
      `test/codegen/core: ${stats.records} clang core_relo records in ${stats.functions} functions, all written by tsbpf with the same values; ${stats.sameCount} functions with as many of each, ${stats.sameOrder} with the very same list; .BTF identical to clang's in ${stats.sameBtf} of ${stats.objects} objects`,
    );
    expect(stats.records).toBeGreaterThan(400);
    // the types clang describes, in clang's order: the BTF is the same but where the code
    // clang keeps differs (a global clang folds away is not described)
    expect(stats.sameBtf).toBeGreaterThanOrEqual(stats.objects - 2);
  });

  for (const target of HEADERS) {
    it(`resolve every record as clang's do against the ${target} kernel's BTF`, () => {
      const btf = targets[target]();
      for (const header of HEADERS) {
        for (const { name } of FIXTURES) {
          const resolved = (o: OpenedObject): Map<string, string[]> => {
            const out = new Map<string, string[]>();
            for (const r of relocateObjectCore(o, btf).results) {
              // (type ids in the local spec are each object's own; a local type id's value too)
              const spec = r.localSpec.replace(/\[\d+\] /, "");
              const value = r.poisoned ? "poisoned" : r.kind === 6 ? "own id" : String(r.newValue);
              const line = `${r.kindName} ${spec} -> ${value}`;
              out.set(r.program, [...(out.get(r.program) ?? []), line]);
            }
            return out;
          };
          const theirs = resolved(build(name, header, "clang").object);
          const mine = resolved(build(name, header, "tsbpf").object);
          for (const [prog, lines] of theirs) {
            const where = `${name}.bpf.c (${header} header -> ${target} BTF): ${prog}`;
            expect(distinct(mine.get(prog) ?? []), where).toEqual(distinct(lines));
          }
        }
      }
    });
  }

  it("fill the same maps as clang's objects on the simulated kernel, from either header", () => {
    const kernel = new SimKernel({ seed: 11 });
    const objects: { label: string; obj: BpfObject }[] = [];
    for (const name of ["tools", "snoop"]) {
      for (const header of HEADERS) {
        for (const by of ["clang", "tsbpf"] as const) {
          const b = build(name, header, by);
          const obj = BpfObject.fromBytes(b.bytes, `${name}-${header}-${by}.bpf.o`).load(kernel);
          obj.attachAll();
          objects.push({ label: `${name}-${header}-${by}`, obj });
        }
      }
    }
    // SEC("?kprobe/...") stays unloaded
    for (const { label, obj } of objects.filter((o) => o.label.startsWith("tools")))
      expect(obj.program("optional_probe").loaded, label).toBe(false);
    runWorkload(kernel, "mixed", { events: 1500 });
    type Entry = { key: unknown; value: Record<string, unknown> };
    const dump = (label: string, map: string): Entry[] =>
      objects
        .find((o) => o.label === label)!
        .obj.map(map)
        .dump() as Entry[];
    const maps = {
      tools: ["forks", "exits", "socks", "skbs"],
      snoop: ["readers", "files", "socks", "requests"],
    };
    for (const [name, names] of Object.entries(maps)) {
      for (const map of names) {
        const reference = dump(`${name}-sim-clang`, map);
        expect(reference.length, `${name} ${map}`).toBeGreaterThan(0);
        for (const header of HEADERS) {
          for (const by of ["clang", "tsbpf"]) {
            expect(dump(`${name}-${header}-${by}`, map), `${name}-${header}-${by} ${map}`).toEqual(
              reference,
            );
          }
        }
      }
    }
    // and what the tools program read is what the kernel holds
    let forks = 0;
    for (const { key, value } of dump("tools-real-tsbpf", "forks")) {
      const task = kernel.tasks.get(Number(key));
      if (task === undefined) continue;
      expect(value.pid).toBe(task.pid);
      expect(value.tgid).toBe(task.tgid);
      expect(value.uid).toBe(task.uid);
      expect(value.comm).toBe(task.comm);
      // pid exists, the made-up field does not, task_struct exists (and so does its ___none
      // flavour: flavours match by the name before ___), SKB_DROP_REASON_NO_SOCKET exists
      // (bit 1, the pre-5.14 `state`, depends on the kernel)
      expect(Number(value.exists) & ~2).toBe(1 + 8 + 16 + 32);
      expect(Number(value.type_id)).toBe(1);
      expect(Number(value.no_option)).toBe(0);
      expect(Number(value.weak_ksym)).toBe(0);
      expect(Number(value.ksym_set)).not.toBe(0);
      forks++;
    }
    expect(forks).toBeGreaterThan(0);
    for (const { obj } of objects) obj.close();
  });

  describe.skipIf(libbpfSkip !== undefined)("with libbpf", () => {
    const simBtfFile = (): string => scratchFile("codegen-core-sim.btf", encodeBtf(kernelBtf()));
    for (const header of HEADERS) {
      for (const target of HEADERS) {
        it(`relocates our objects (${header} header) to the ${target} kernel's BTF as we do`, () => {
          let compared = 0;
          let judged = 0;
          for (const { name } of FIXTURES) {
            const ours = build(name, header, "tsbpf");
            const core = relocateObjectCore(ours.object, targets[target]());
            const relocated = withCoreRelocations(ours.object, core);
            const file = target === "real" ? undefined : simBtfFile();
            const oracle = libbpfRelocate(ours.path, file);
            const reference =
              target === "real" ? libbpfRelocate(build(name, header, "clang").path) : undefined;
            for (const prog of ours.object.programs) {
              if (!prog.autoload) continue;
              const theirs = oracle.programs.find((p) => p.name === prog.name);
              const where = `${name}.bpf.c (${header} header -> ${target} BTF): ${prog.name}`;
              expect(theirs, where).toBeDefined();
              // (extern lddws carry addresses and map values each loader finds on its own:
              // test/core/externs compares those; the kernel's verdict below covers them here)
              if (prog.externRelocations.length === 0) {
                const mine = relocateProgram(
                  relocated.object,
                  relocated.program(prog),
                  (i) => 100 + i,
                );
                expect(masked(mine.insns), where).toEqual(masked(theirs!.insns));
                compared++;
              }
              if (reference !== undefined) {
                // the running kernel judges our program as it judges clang's
                const clangs = reference.programs.find((p) => p.name === prog.name)!;
                expect(theirs!.loaded, `${where}: kernel verdict`).toBe(clangs.loaded);
                judged++;
              }
            }
          }
          console.log(
            `test/codegen/core: ${header} header -> ${target} BTF: ${compared} programs relocated by libbpf to our instructions${target === "real" ? `, ${judged} judged by the kernel as clang's` : ""}`,
          );
          expect(compared).toBeGreaterThan(15);
        });
      }
    }

    it("bpf_core_type_matches (kind 12, which clang 14 cannot emit): libbpf relocates it as we do", () => {
      const source = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
struct task_struct___other { int pid; } __attribute__((preserve_access_index));
long out[2];
SEC("kprobe/do_exit")
int matches(void *ctx)
{
	out[0] = bpf_core_type_matches(struct task_struct);
	out[1] = bpf_core_type_matches(struct task_struct___other);
	return 0;
}
`;
      const src = scratchFile("codegen-core-matches.bpf.c", source);
      const r = compile(src, { includeDirs: [headerDir("sim")], optLevel: 2, debug: true });
      const path = scratchFile("codegen-core-matches.bpf.o", r.object);
      const object = openObject(r.object, path);
      expect(records(object).get("matches")).toEqual([
        'type_matches struct:task_struct "0" = imm 1',
        'type_matches struct:task_struct___other "0" = imm 1',
      ]);
      for (const target of HEADERS) {
        const core = relocateObjectCore(object, targets[target]());
        const relocated = withCoreRelocations(object, core);
        const oracle = libbpfRelocate(path, target === "real" ? undefined : simBtfFile());
        const prog = object.programs[0]!;
        const mine = relocateProgram(relocated.object, relocated.program(prog), (i) => 100 + i);
        expect(masked(mine.insns), target).toEqual(masked(oracle.programs[0]!.insns));
        // the sim header's task_struct is the sim kernel's own (a flavour with a member the
        // kernel's task_struct has matches too)
        if (target === "sim") expect(core.results.map((x) => x.newValue)).toEqual([1, 1]);
      }
    });
  });
});

// ---- bad input ----

interface BadUse {
  name: string;
  body: string;
}

const PRELUDE = `struct s { int a; int b : 3; int arr[2]; } __attribute__((preserve_access_index));
enum e { E1, E2 };
enum f { F1 };
typedef int myint;
int x;
`;

const BAD: BadUse[] = [
  { name: "field info of a variable", body: "return __builtin_preserve_field_info(x, 0);" },
  {
    name: "field info with a run-time kind",
    body: "return __builtin_preserve_field_info(p->a, k);",
  },
  {
    name: "type info of a variable of basic type",
    body: "return __builtin_preserve_type_info(x, 0);",
  },
  { name: "type info of int", body: "return __builtin_preserve_type_info(*(int *)0, 1);" },
  {
    name: "enum value of another enum's enumerator",
    body: "return __builtin_preserve_enum_value(*(enum e *)F1, 0);",
  },
  {
    name: "enum value of a number",
    body: "return __builtin_preserve_enum_value(*(enum e *)5, 1);",
  },
  {
    name: "enum value not through a pointer",
    body: "return __builtin_preserve_enum_value(E1, 0);",
  },
  { name: "type id with a run-time kind", body: "return __builtin_btf_type_id(x, k);" },
  {
    name: "enum value with a run-time kind",
    body: "return __builtin_preserve_enum_value(*(enum e *)E1, k);",
  },
];

/** "line:col: error: message" lines of a compiler's output. */
const errorLines = (text: string): string[] =>
  text
    .split("\n")
    .map((l) => /^[^:]*:(\d+:\d+: error: .*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);

/** Our error lines for a file (none when it compiles). */
function ourErrorLines(path: string): string[] {
  try {
    compile(path, { optLevel: 2, debug: true });
    return [];
  } catch (err) {
    if (!(err instanceof CompileError)) throw err;
    return errorLines(err.render());
  }
}

describe.skipIf(!hasClang)("bad uses of the CO-RE builtins", () => {
  for (const c of BAD) {
    it(`${c.name}: clang's error at clang's place`, () => {
      const source = `${PRELUDE}int g(struct s *p, int k) {\n\t${c.body}\n}\n`;
      const path = join(scratchDir(), `bad-${c.name.replace(/\W+/g, "-")}.c`);
      writeFileSync(path, source);
      const clang = spawnSync(
        "clang",
        ["-O2", "-g", "-target", "bpf", "-c", path, "-o", "/dev/null"],
        {
          encoding: "utf8",
        },
      );
      const expected = errorLines(clang.stderr);
      expect(expected.length, clang.stderr).toBeGreaterThan(0);
      expect(ourErrorLines(path)).toEqual(expected);
    });
  }

  it("a field of no record and an unsupported bit-field: errors naming the place", () => {
    const source = `struct w { unsigned int big : 20; unsigned char c; } __attribute__((preserve_access_index));
int g(struct w *p, int *q) {
\treturn __builtin_preserve_field_info(q[1], 0) + __builtin_preserve_field_info(p->big, 1);
}
`;
    const path = join(scratchDir(), "bad-backend.c");
    writeFileSync(path, source);
    // clang 14 stops with a fatal "error in backend" for these (no place given)
    expect(ourErrorLines(path)).toEqual([
      "3:39: error: Invalid field access for llvm.preserve.field.info intrinsic",
      "3:80: error: Unsupported field expression for llvm.bpf.preserve.field.info, requiring too big alignment",
    ]);
  });
});
