// Maps of maps through the bpf() facade: creation from a template inner map, what may be stored
// (the template's type, sizes, flags and max_entries unless BPF_F_INNER_MAP), the syscall's
// lookup giving the inner map's id, references (a stored map outlives its fd; overwrite and
// delete let go), and a program's two-step lookup. Checked against the running kernel's
// answers where root may call bpf() (test/maps/c/mapinmap.c).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpfSyscallError } from "../../runtime/bpf/error.js";
import { bpfOf } from "../../runtime/bpf/syscall.js";
import { assemble } from "../../runtime/isa/asm.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { BPF_F_INNER_MAP, BpfMapType, BpfProgType } from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";

const M = BpfMapType;
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);

function errnoOf(fn: () => unknown): number {
  try {
    fn();
    return 0;
  } catch (err) {
    if (err instanceof BpfSyscallError) return err.errno;
    throw err;
  }
}

function boot() {
  const kernel = new SimKernel({ cpus: 1 });
  const bpf = bpfOf(kernel);
  const array = (maxEntries = 1, mapFlags = 0) =>
    bpf.mapCreate({
      mapType: M.BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries,
      mapFlags,
    });
  return { kernel, bpf, array };
}

/**
 * The sequence both kernels run: every step's errno (0 for success) or looked-up value. The
 * simulated one runs it here; the running one through a small C program with the same steps.
 */
function sequence(): (number | string)[] {
  const { bpf, array } = boot();
  const out: (number | string)[] = [];
  const step = (fn: () => unknown) => out.push(errnoOf(fn));
  const template = array(1);
  // no template, a template of a kind that cannot be inner, a value size other than 4
  step(() =>
    bpf.mapCreate({
      mapType: M.BPF_MAP_TYPE_ARRAY_OF_MAPS,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
      innerMapFd: 999,
    }),
  );
  const progs = bpf.mapCreate({
    mapType: M.BPF_MAP_TYPE_PROG_ARRAY,
    keySize: 4,
    valueSize: 4,
    maxEntries: 1,
  });
  step(() =>
    bpf.mapCreate({
      mapType: M.BPF_MAP_TYPE_ARRAY_OF_MAPS,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
      innerMapFd: progs,
    }),
  );
  step(() =>
    bpf.mapCreate({
      mapType: M.BPF_MAP_TYPE_HASH_OF_MAPS,
      keySize: 4,
      valueSize: 8,
      maxEntries: 2,
      innerMapFd: template,
    }),
  );
  const outer = bpf.mapCreate({
    mapType: M.BPF_MAP_TYPE_ARRAY_OF_MAPS,
    keySize: 4,
    valueSize: 4,
    maxEntries: 2,
    innerMapFd: template,
  });
  const hash = bpf.mapCreate({
    mapType: M.BPF_MAP_TYPE_HASH_OF_MAPS,
    keySize: 4,
    valueSize: 4,
    maxEntries: 2,
    innerMapFd: template,
  });
  const same = array(1);
  const bigger = array(4);
  const hashInner = bpf.mapCreate({
    mapType: M.BPF_MAP_TYPE_HASH,
    keySize: 4,
    valueSize: 8,
    maxEntries: 1,
  });
  // stored maps: the same shape only; indexes past the end; flags
  for (const [fd, key] of [
    [same, 0],
    [bigger, 1],
    [hashInner, 1],
    [same, 2],
    [12345, 0],
  ] as const)
    step(() => bpf.mapUpdateElem({ mapFd: outer, key: u32(key), value: u32(fd) }));
  step(() => bpf.mapUpdateElem({ mapFd: outer, key: u32(1), value: u32(same), flags: 1 }));
  // the syscall's lookup: present, absent
  const value = new Uint8Array(4);
  step(() => bpf.mapLookupElem({ mapFd: outer, key: u32(0), value }));
  out.push(new DataView(value.buffer).getUint32(0, true) === idOf(bpf, same) ? "id" : "other");
  step(() => bpf.mapLookupElem({ mapFd: outer, key: u32(1), value }));
  // hash of maps: insert, full, replace, delete, delete again
  for (const key of [7, 8, 9])
    step(() => bpf.mapUpdateElem({ mapFd: hash, key: u32(key), value: u32(same) }));
  step(() => bpf.mapUpdateElem({ mapFd: hash, key: u32(7), value: u32(same), flags: 1 }));
  step(() => bpf.mapUpdateElem({ mapFd: hash, key: u32(7), value: u32(bigger) }));
  step(() => bpf.mapDeleteElem({ mapFd: hash, key: u32(7) }));
  step(() => bpf.mapDeleteElem({ mapFd: hash, key: u32(7) }));
  step(() => bpf.mapLookupElem({ mapFd: hash, key: u32(8), value }));
  // BPF_F_INNER_MAP templates accept any max_entries
  const loose = array(1, BPF_F_INNER_MAP);
  const looseOuter = bpf.mapCreate({
    mapType: M.BPF_MAP_TYPE_ARRAY_OF_MAPS,
    keySize: 4,
    valueSize: 4,
    maxEntries: 1,
    innerMapFd: loose,
  });
  step(() =>
    bpf.mapUpdateElem({ mapFd: looseOuter, key: u32(0), value: u32(array(8, BPF_F_INNER_MAP)) }),
  );
  return out;
}

function idOf(bpf: ReturnType<typeof bpfOf>, fd: number): number {
  const info = bpf.objGetInfoByFd(fd);
  return info.kind === "map" ? info.id : -1;
}

/** test/maps/c/mapinmap.c's lines on this machine's kernel, or why they are unavailable. */
function kernelSequence(): (number | string)[] | string {
  if (process.getuid?.() !== 0) return "not root";
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-mapinmap-"));
  const exe = join(dir, "mapinmap");
  try {
    execFileSync("cc", ["-O2", "-o", exe, join(import.meta.dirname, "c", "mapinmap.c")], {
      stdio: "ignore",
    });
    const lines = execFileSync(exe, { encoding: "utf8" }).trim().split("\n");
    return lines.map((l) => (/^\d+$/.test(l) ? Number(l) : l));
  } catch (err) {
    return `mapinmap.c: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const onKernel = kernelSequence();
if (typeof onKernel === "string")
  console.log(`test/maps/map-in-map: kernel comparison skipped: ${onKernel}`);

describe("maps of maps", () => {
  it.skipIf(typeof onKernel === "string")("answer each step as the running kernel does", () => {
    expect(sequence()).toEqual(onKernel);
  });

  it("refuse what the kernel refuses and store what it stores", () => {
    const E = Errno;
    expect(sequence()).toEqual([
      E.EBADF, // inner_map_fd is not open
      E.ENOTSUPP, // a prog array cannot be an inner map
      E.EINVAL, // value_size must be 4 (a map fd)
      0, // same shape
      E.EINVAL, // another max_entries
      E.EINVAL, // another type
      E.E2BIG, // index past the end
      E.EBADF, // not an fd
      E.EINVAL, // only BPF_ANY
      0,
      "id", // the syscall's lookup reports the inner map's id
      E.ENOENT,
      0,
      0,
      E.E2BIG, // the hash is full
      E.EEXIST, // BPF_NOEXIST on a present key
      E.EINVAL, // a mismatched map
      0,
      E.ENOENT,
      0,
      0, // BPF_F_INNER_MAP: any max_entries
    ]);
  });

  it("keep a stored map alive after its fd is closed, and let go on delete", () => {
    const { bpf, array } = boot();
    const template = array(1);
    const outer = bpf.mapCreate({
      mapType: M.BPF_MAP_TYPE_HASH_OF_MAPS,
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
      innerMapFd: template,
    });
    bpf.close(template);
    const inner = array(1);
    bpf.mapUpdateElem({ mapFd: inner, key: u32(0), value: u64(42) });
    const id = idOf(bpf, inner);
    bpf.mapUpdateElem({ mapFd: outer, key: u32(1), value: u32(inner) });
    bpf.mapUpdateElem({ mapFd: outer, key: u32(2), value: u32(inner) });
    bpf.close(inner);
    const live = () => bpf.liveMaps.some((m) => m.id === id);
    expect(live()).toBe(true);
    bpf.mapDeleteElem({ mapFd: outer, key: u32(1) });
    expect(live()).toBe(true); // key 2 still holds it
    bpf.mapDeleteElem({ mapFd: outer, key: u32(2) });
    expect(live()).toBe(false);
  });

  it("give a program the inner map, which it looks up in turn", () => {
    const { kernel, bpf, array } = boot();
    const template = array(1);
    const outer = bpf.mapCreate({
      mapType: M.BPF_MAP_TYPE_ARRAY_OF_MAPS,
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
      innerMapFd: template,
    });
    const inner = array(1);
    bpf.mapUpdateElem({ mapFd: outer, key: u32(1), value: u32(inner) });
    // r0 = outer[key] ? (*inner[0] += 5, 1) : 0
    const prog = (key: number) =>
      bpf.progLoad({
        progType: BpfProgType.BPF_PROG_TYPE_SOCKET_FILTER,
        license: "GPL",
        insns: assemble(`
          stw [%r10-4], ${key}
          lddw %r1, 0
          mov %r2, %r10
          add %r2, -4
          call 1
          jeq %r0, 0, none
          stw [%r10-8], 0
          mov %r1, %r0
          mov %r2, %r10
          add %r2, -8
          call 1
          jeq %r0, 0, none
          mov %r1, 5
          stxdw [%r0+0], %r1
          mov %r0, 1
          exit
        none:
          mov %r0, 0
          exit`).map((insn, i) => (i === 1 ? { ...insn, src: 1, imm: outer } : insn)),
      });
    const run = (fd: number) => bpf.progTestRun({ progFd: fd, dataIn: new Uint8Array(14) }).retval;
    expect(run(prog(0))).toBe(0); // empty slot
    expect(run(prog(1))).toBe(1);
    const value = new Uint8Array(8);
    bpf.mapLookupElem({ mapFd: inner, key: u32(0), value });
    expect(new DataView(value.buffer).getBigUint64(0, true)).toBe(5n);
    void kernel;
  });
});
