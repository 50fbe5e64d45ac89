// The loader against libbpf: clang-built objects loaded by tsbpf into a SimKernel and by the
// machine's libbpf into the running kernel (test/loader/c/libbpf-load.c) must give the same
// maps (names, attributes, initial values, prog array slots) and the same programs.
//
// The fair oracle for "same program" is what libbpf hands to BPF_PROG_LOAD:
// bpf_program__insns() after bpf_object__load() is the relocated program (.text functions
// appended in libbpf's order, call offsets fixed, map and global lddws turned into
// BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE with fds), before any verifier rewrite. (The xlated
// program from BPF_OBJ_GET_INFO_BY_FD is not: the kernel inlines helpers and rewrites ctx
// accesses.) Map fds differ between the two processes, so lddw immediates are compared as the
// names of the maps they refer to. Func info is checked against the function starts that
// libbpf's call offsets reveal; legacy `maps` objects, which libbpf 1.x refuses, are checked
// against the relocations llvm-objdump -r lists.
import { describe, expect, it } from "vitest";
import { decodeProgram } from "../../runtime/isa/codec.js";
import { disassemble } from "../../runtime/isa/disasm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import * as op from "../../runtime/isa/opcodes.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { bpfOf } from "../../runtime/bpf/syscall.js";
import {
  LoadError,
  ObjectLoader,
  loadObject,
  type LoadedObject,
} from "../../runtime/loader/index.js";
import { openObject } from "../../runtime/object/open.js";
import { BpfProgType } from "../../runtime/uapi/bpf.js";
import {
  compile,
  hasClang,
  hasLibbpf,
  hasObjdump,
  isRoot,
  libbpfLoad,
  objdumpRelocations,
} from "./tools.js";

const FIXTURES = ["globals", "tail", "misc"];

const why = !hasClang ? "clang is not installed" : undefined;
if (why) console.log(`test/loader: skipped: ${why}`);
const whyOracle = !hasLibbpf
  ? "libbpf-dev is not installed"
  : !isRoot
    ? "not root: libbpf cannot load into the kernel"
    : undefined;
if (whyOracle) console.log(`test/loader: libbpf comparison skipped: ${whyOracle}`);

/** The program with each map lddw's imm replaced by the map's name, as text. */
function normalized(insns: readonly Insn[], mapName: (fd: number) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (
      insn.code === op.BPF_LDDW &&
      (insn.src === op.BPF_PSEUDO_MAP_FD || insn.src === op.BPF_PSEUDO_MAP_VALUE)
    ) {
      const second = insns[i + 1]!;
      out.push(
        `${i}: lddw r${insn.dst} src=${insn.src} map=${mapName(insn.imm)} off=${second.imm}`,
      );
      i++;
      continue;
    }
    out.push(`${i}: ${disassemble(insns, i)}`);
  }
  return out;
}

function load(
  name: string,
  kernel = new SimKernel({ cpus: 2 }),
): { loaded: LoadedObject; path: string } {
  const { path, bytes } = compile(name);
  return { loaded: loadObject(kernel, openObject(bytes, path)), path };
}

const hexOf = (bytes: Uint8Array): string =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

describe.skipIf(why !== undefined || whyOracle !== undefined)(
  "loaded objects equal libbpf's",
  () => {
    for (const name of FIXTURES) {
      describe(name, () => {
        const { loaded, path } = load(name);
        const oracle = libbpfLoad(path);
        const ours = (fd: number): string =>
          loaded.maps.find((m) => m.fd === fd)?.name ?? `fd${fd}`;
        const theirs = (fd: number): string =>
          oracle.maps.find((m) => m.fd === fd)?.name ?? `fd${fd}`;

        it("creates the same maps", () => {
          const bpf = loaded.bpf;
          const info = loaded.maps.map((m) => {
            const i = bpf.objGetInfoByFd(m.fd);
            if (i.kind !== "map") throw new Error("not a map");
            return {
              name: i.name,
              type: i.type,
              keySize: i.keySize,
              valueSize: i.valueSize,
              maxEntries: i.maxEntries,
              flags: i.mapFlags,
            };
          });
          const expected = oracle.maps.map(({ fd: _fd, ...m }) => m);
          expect(info).toEqual(expected);
        });

        it("fills global data and array maps as libbpf does", () => {
          for (const [mapName, value] of oracle.values) {
            const m = loaded.map(mapName);
            const buf = new Uint8Array(m.def.valueSize);
            loaded.bpf.mapLookupElem({ mapFd: m.fd, key: new Uint8Array(4), value: buf });
            expect(hexOf(buf), mapName).toBe(value);
          }
        });

        it("fills the prog array slots the object names", () => {
          const slots = [];
          for (const m of loaded.maps.filter((x) => x.def.type === 3)) {
            for (let i = 0; i < m.def.maxEntries; i++) {
              const key = Uint8Array.of(i, 0, 0, 0);
              const value = new Uint8Array(4);
              if (loaded.bpf.bpf(1, { mapFd: m.fd, key, value }) !== 0) continue;
              const id = new DataView(value.buffer).getUint32(0, true);
              slots.push({ map: m.name, index: i, prog: loaded.bpf.progById(id)!.name });
            }
          }
          expect(slots).toEqual(oracle.slots);
        });

        it("hands BPF_PROG_LOAD the same relocated instructions", () => {
          expect(loaded.programs.map((p) => [p.name, p.sectionName, p.type])).toEqual(
            oracle.programs.map((p) => [p.name, p.section, p.type]),
          );
          for (const p of loaded.programs) {
            const theirsInsns = decodeProgram(
              oracle.programs.find((o) => o.name === p.name)!.insns,
            );
            expect(normalized(p.insns, ours), p.name).toEqual(normalized(theirsInsns, theirs));
          }
        });

        it("keeps func_info at the function starts libbpf's calls point to", () => {
          const btf = loaded.object.btf!;
          for (const p of loaded.programs) {
            const insns = decodeProgram(oracle.programs.find((o) => o.name === p.name)!.insns);
            const starts = new Set([0]);
            insns.forEach((insn, i) => {
              const call =
                insn.code === (op.BPF_JMP | op.BPF_CALL) && insn.src === op.BPF_PSEUDO_CALL;
              const addr = insn.code === op.BPF_LDDW && insn.src === op.BPF_PSEUDO_FUNC;
              if (call || addr) starts.add(i + 1 + insn.imm);
            });
            expect(
              p.funcInfo.map((f) => f.insn),
              p.name,
            ).toEqual([...starts].sort((a, b) => a - b));
            for (const f of p.funcInfo) {
              const fn = p.functions.find((x) => x.start === f.insn)!;
              expect(btf.types[f.typeId]!.name, `${p.name} func_info at ${f.insn}`).toBe(fn.name);
              // the kernel wants line info at every function's first instruction
              expect(
                p.lineInfo.some((l) => l.insn === f.insn),
                `${p.name} line_info at ${f.insn}`,
              ).toBe(true);
            }
            const lines = p.lineInfo.map((l) => l.insn);
            expect(lines, `${p.name} line_info sorted`).toEqual([...lines].sort((a, b) => a - b));
            expect(Math.max(...lines)).toBeLessThan(p.insns.length);
          }
        });
      });
    }
  },
);

describe.skipIf(why !== undefined || !hasObjdump)("legacy maps and the version section", () => {
  it("turns each map relocation llvm-objdump lists into BPF_PSEUDO_MAP_FD of that map", () => {
    const { loaded, path } = load("legacy");
    const relocs = objdumpRelocations(path).get("kprobe/vfs_read")!;
    expect(relocs.length).toBeGreaterThan(0);
    const prog = loaded.program("legacy_prog");
    for (const [offset, symbol] of relocs) {
      const insn = prog.insns[offset / 8]!;
      expect(insn.src).toBe(op.BPF_PSEUDO_MAP_FD);
      expect(insn.imm).toBe(loaded.map(symbol).fd);
    }
    expect(loaded.maps.map((m) => [m.name, m.def.type, m.def.maxEntries]).sort()).toEqual([
      ["first", 1, 128],
      ["second", 2, 4],
    ]);
  });

  it("checks kern_version against the kernel when the kernel asks (4.1)", () => {
    const { bytes, path } = compile("legacy");
    const object = openObject(bytes, path);
    // version section = the machine's uapi LINUX_VERSION_CODE (6.1.x): a 4.1 kernel refuses it
    const old = new SimKernel({ cpus: 1, version: "4.1", checkKernVersion: true });
    const err = catchError(() => loadObject(old, object));
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).errno).toBe(22);
    expect((err as LoadError).message).toMatch(
      /section 'kprobe\/vfs_read': program 'legacy_prog'.*kern_version.*LINUX_VERSION_CODE/,
    );
    expect((err as LoadError).log).toMatch(/kern_version/);
    // the same kernel without the rule loads it; an object without a version section gets the
    // kernel's own version, as libbpf gives the running kernel's
    expect(() =>
      loadObject(new SimKernel({ cpus: 1, version: "4.1", checkKernVersion: false }), object),
    ).not.toThrow();
    // (a program of the 4.1 era: no bpf-to-bpf calls, no global data)
    const plain = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("kprobe/vfs_read") int plain(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";`;
    const noVersion = openObject(compile("plain", plain).bytes, "plain.bpf.o");
    expect(noVersion.kernVersion).toBeUndefined();
    expect(() => loadObject(old, noVersion)).not.toThrow();
  });
});

describe.skipIf(why !== undefined)("load errors and options", () => {
  it("names the section, the program and the reason, with the verifier log", () => {
    const src = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("kprobe/vfs_read") int reads(void *ctx) { char buf[8]; bpf_probe_read_kernel(buf, 8, ctx); return buf[0]; }
SEC("socket") int ok(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "Proprietary";`;
    const { bytes, path } = compile("nongpl", src);
    const object = openObject(bytes, path);
    const err = catchError(() => loadObject(new SimKernel({ cpus: 1 }), object));
    expect(err).toBeInstanceOf(LoadError);
    const e = err as LoadError;
    expect(e.message).toContain(
      "nongpl.bpf.o: section 'kprobe/vfs_read': program 'reads' (kprobe): failed to load",
    );
    expect(e.message).toContain(
      "cannot call GPL-restricted function from non-GPL compatible program",
    );
    expect(e.errno).toBe(22);
    // the verifier's log up to the refused call, then its statistics line
    expect(e.log).toMatch(
      /^0: R1=ctx\(\) R10=fp0\n[^]*\ncannot call GPL-restricted function from non-GPL compatible program\nprocessed \d+ insns/,
    );
    // keepGoing: the other program still loads, the failure is reported
    const kernel = new SimKernel({ cpus: 1 });
    const loaded = loadObject(kernel, object, { keepGoing: true });
    expect(loaded.program("ok").fd).toBeGreaterThan(2);
    expect(loaded.failures.map((p) => p.name)).toEqual(["reads"]);
    loaded.close();
    expect(bpfOf(kernel).loadedProgs).toEqual([]);
    expect(bpfOf(kernel).liveMaps).toEqual([]);
  });

  it("refuses an unknown section name as libbpf does", () => {
    const src = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("kprobez/vfs_read") int odd(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";`;
    const { bytes, path } = compile("oddsec", src);
    const err = catchError(() => loadObject(new SimKernel({ cpus: 1 }), openObject(bytes, path)));
    expect((err as Error).message).toBe(
      "prog 'odd': missing BPF prog type, check ELF section name 'kprobez/vfs_read'",
    );
  });

  it("applies changes made before load: max_entries, globals, autoload, program type", () => {
    const { bytes, path } = compile("globals");
    const loader = new ObjectLoader(openObject(bytes, path));
    loader.map("counts").maxEntries = 500;
    loader.setGlobal("scale", Uint8Array.of(9, 0, 0, 0));
    loader.setGlobal("hits", Uint8Array.of(1, 2));
    loader.program("on_read_too").autoload = false;
    expect(() => loader.setGlobal("nope", new Uint8Array(1))).toThrow(/no global variable 'nope'/);
    expect(() => loader.setGlobal("scale", new Uint8Array(8))).toThrow(/has 4 bytes, 8 given/);
    const kernel = new SimKernel({ cpus: 1 });
    const loaded = loader.load(kernel);
    const info = loaded.bpf.objGetInfoByFd(loaded.map("counts").fd);
    expect(info.kind === "map" && info.maxEntries).toBe(500);
    const rodata = new Uint8Array(12);
    loaded.bpf.mapLookupElem({
      mapFd: loaded.map(".rodata").fd,
      key: new Uint8Array(4),
      value: rodata,
    });
    expect([...rodata.subarray(0, 4)]).toEqual([9, 0, 0, 0]);
    const data = new Uint8Array(8);
    loaded.bpf.mapLookupElem({
      mapFd: loaded.map(".data").fd,
      key: new Uint8Array(4),
      value: data,
    });
    expect([...data]).toEqual([1, 2, 0, 0, 0, 0, 0, 0]);
    // .rodata is frozen: the syscall side can no longer write it
    expect(
      loaded.bpf.bpf(2, { mapFd: loaded.map(".rodata").fd, key: new Uint8Array(4), value: rodata }),
    ).toBe(-1);
    expect(loaded.program("on_read_too").fd).toBe(-1);
    expect(loaded.program("on_read").fd).toBeGreaterThan(2);
    expect(loaded.program("on_read").type).toBe(BpfProgType.BPF_PROG_TYPE_KPROBE);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected an error");
}
