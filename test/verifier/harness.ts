// Test programs for the verifier, written in the assembler syntax (runtime/isa/asm.ts) plus two
// map notations the assembler lacks, expanded here into the relocated form the verifier takes:
//
//   lddw %r1, map_fd 3            -> lddw with src_reg 1 (BPF_PSEUDO_MAP_FD), imm 3
//   lddw %r1, map_value 3 16      -> lddw with src_reg 2 (BPF_PSEUDO_MAP_VALUE), imm 3, offset 16
//   lddw %r2, func LABEL          -> lddw with src_reg 4 (BPF_PSEUDO_FUNC), imm = LABEL - (pc + 1)
//
// A program holding a callback address gets BTF func_info (one static `int fK(void)` per
// subprogram), as the kernel requires for BPF_PSEUDO_FUNC.
//
// Maps are given by fd; the same description creates the kernel's test maps (kernel.ts).
import { assemble } from "../../runtime/isa/asm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BpfMapType, BpfProgType } from "../../runtime/uapi/bpf.js";
import { verify, type VerifyEnv, type VerifyResult } from "../../runtime/verifier/index.js";
import type { KernelMap, KernelProgram } from "./kernel.js";

const RAW = /^\s*raw\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/;
const FUNC_REF = /^\s*lddw\s+%?r(\d+)\s*,\s*func\s+(\w+)\s*(?:[#;].*)?$/;
const MAP_REF = /^\s*lddw\s+%?r(\d+)\s*,\s*map_(fd|value)\s+(\d+)(?:\s+(-?\d+))?\s*(?:[#;].*)?$/;

/** Assemble with the map notations; labels and comments as the assembler has them. */
export function asm(text: string): Insn[] {
  const lines = text.split("\n");
  const patches: { line: number; dst: number; src: number; fd: number; off: number }[] = [];
  const raws: Insn[] = [];
  const funcs: number[] = [];
  const plain = lines.map((line, i) => {
    // a callback address: a call to the label (same pc-relative imm) plus a marker slot
    const f = FUNC_REF.exec(line);
    if (f) {
      funcs.push(Number(f[1]));
      return `call local ${f[2]}\nmov %r0, 0x${(0x5eef0000 + funcs.length - 1).toString(16)}`;
    }
    // raw CODE DST SRC OFF IMM: any slot, reserved fields included
    const r = RAW.exec(line);
    if (r) {
      const [code, dst, src, off, imm] = r.slice(1).map((v) => Number(v));
      raws.push({ code: code!, dst: dst!, src: src!, off: off!, imm: imm! });
      return `mov %r0, 0x${(0x5eee0000 + raws.length - 1).toString(16)}`;
    }
    const m = MAP_REF.exec(line);
    if (!m) return line;
    patches.push({
      line: i,
      dst: Number(m[1]),
      src: m[2] === "fd" ? 1 : 2,
      fd: Number(m[3]),
      off: Number(m[4] ?? 0),
    });
    return `lddw %r${m[1]}, 0x${(0x5eed0000 + patches.length - 1).toString(16)}`;
  });
  const insns = assemble(plain.join("\n"));
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    const k = (insn.imm >>> 0) - 0x5eee0000;
    if (insn.code === 0xb7 && insn.dst === 0 && k >= 0 && k < raws.length) insns[i] = raws[k]!;
  }
  for (let i = 0; i + 1 < insns.length; i++) {
    const k = (insns[i + 1]!.imm >>> 0) - 0x5eef0000;
    if (insns[i]!.code !== 0x85 || insns[i + 1]!.code !== 0xb7 || k < 0 || k >= funcs.length)
      continue;
    insns[i] = { code: 0x18, dst: funcs[k]!, src: 4, off: 0, imm: insns[i]!.imm };
    insns[i + 1] = { code: 0, dst: 0, src: 0, off: 0, imm: 0 };
  }
  // Find the placeholder constants and turn them into map references.
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    if (insn.code !== 0x18 || insns[i + 1]?.imm !== 0) continue;
    const k = (insn.imm >>> 0) - 0x5eed0000;
    const p = patches[k];
    if (!p || k < 0) continue;
    insns[i] = { code: 0x18, dst: p.dst, src: p.src, off: 0, imm: p.fd };
    insns[i + 1] = { code: 0, dst: 0, src: 0, off: 0, imm: p.off };
  }
  return insns;
}

export const M = BpfMapType;
export const P = BpfProgType;

/** Common test maps, by fd. */
export const MAPS: Record<number, KernelMap> = {
  3: { fd: 3, type: M.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16, flags: 0 },
  4: { fd: 4, type: M.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 48, maxEntries: 4, flags: 0 },
  5: { fd: 5, type: M.BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 },
  6: { fd: 6, type: M.BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 },
  7: {
    fd: 7,
    type: M.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    keySize: 4,
    valueSize: 4,
    maxEntries: 2,
    flags: 0,
  },
  // .rodata-like: one element, read-only for programs, frozen
  8: {
    fd: 8,
    type: M.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: 16,
    maxEntries: 1,
    flags: 1 << 7,
    frozen: true,
    // kverify creates it zero-filled: the kernel reads loads from it as constants, and so do we
    value: new Uint8Array(16),
  },
  // .data-like: one element
  9: { fd: 9, type: M.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 1, flags: 0 },
  10: {
    fd: 10,
    type: M.BPF_MAP_TYPE_STACK_TRACE,
    keySize: 4,
    valueSize: 8 * 127,
    maxEntries: 16,
    flags: 0,
  },
  11: {
    fd: 11,
    type: M.BPF_MAP_TYPE_PERCPU_ARRAY,
    keySize: 4,
    valueSize: 16,
    maxEntries: 2,
    flags: 0,
  },
  12: { fd: 12, type: M.BPF_MAP_TYPE_HASH, keySize: 16, valueSize: 32, maxEntries: 16, flags: 0 },
  // a map of maps: each element is an array of one u64
  13: {
    fd: 13,
    type: M.BPF_MAP_TYPE_ARRAY_OF_MAPS,
    keySize: 4,
    valueSize: 4,
    maxEntries: 2,
    flags: 0,
    innerMap: { type: M.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 },
  },
};

/** The fds a program's lddws reference. */
export function mapsOf(insns: readonly Insn[]): KernelMap[] {
  const fds = new Set<number>();
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    if (x.code === 0x18 && (x.src === 1 || x.src === 2)) fds.add(x.imm);
    if (x.code === 0x18) i++;
  }
  return [...fds].filter((fd) => MAPS[fd]).map((fd) => MAPS[fd]!);
}

/**
 * BTF func_info for a program with callback addresses: every subprogram start (instruction 0,
 * call and callback targets), static unless `global` names it (by subprogram number).
 */
export function funcsOf(
  insns: readonly Insn[],
  global: readonly number[] = [],
): { insnOff: number; linkage: number }[] | undefined {
  const starts = new Set([0]);
  let callbacks = false;
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    if (x.code === 0x18 && x.src === 4) callbacks = true;
    if ((x.code === 0x18 && x.src === 4) || (x.code === 0x85 && x.src === 1))
      starts.add(i + x.imm + 1);
    if (x.code === 0x18) i++;
  }
  if (!callbacks) return undefined;
  return [...starts]
    .sort((a, b) => a - b)
    .map((insnOff, k) => ({ insnOff, linkage: global.includes(k) ? 1 : 0 }));
}

export interface CaseOptions {
  progType?: number;
  license?: string;
  logLevel?: 0 | 1 | 2;
  kernel?: VerifyEnv["kernel"];
  unpriv?: boolean;
  maps?: Record<number, KernelMap>;
  /** subprograms (by number) whose BTF linkage is global */
  globalFuncs?: readonly number[];
  /** no BTF func_info even with callback addresses */
  noBtf?: boolean;
}

/** Verify a program with the test maps. */
export function run(insns: readonly Insn[], o: CaseOptions = {}): VerifyResult {
  const maps = o.maps ?? MAPS;
  const funcs = o.noBtf ? undefined : funcsOf(insns, o.globalFuncs);
  return verify(
    { insns, progType: o.progType ?? P.BPF_PROG_TYPE_KPROBE, license: o.license ?? "GPL" },
    {
      mapByFd: (fd) => maps[fd],
      logLevel: o.logLevel ?? 1,
      ...(o.kernel && { kernel: o.kernel }),
      ...(o.unpriv && { unpriv: true }),
      ...(funcs && {
        funcInfo: funcs.map((f, k) => ({ insnOff: f.insnOff, name: `f${k}`, linkage: f.linkage })),
      }),
    },
  );
}

/** The same program as the kernel oracle loads it. */
export function kernelProgram(insns: readonly Insn[], o: CaseOptions = {}): KernelProgram {
  return {
    insns,
    progType: o.progType ?? P.BPF_PROG_TYPE_KPROBE,
    license: o.license ?? "GPL",
    logLevel: o.logLevel ?? 1,
    maps: mapsOf(insns).map((m) => (o.maps ?? MAPS)[m.fd] ?? m),
    funcs: o.noBtf ? undefined : funcsOf(insns, o.globalFuncs),
  };
}
