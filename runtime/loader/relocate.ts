// The program a loader hands to BPF_PROG_LOAD, built from an opened object the way libbpf's
// bpf_object__relocate builds it:
//
//   code   Walk the program; at the first call (BPF_PSEUDO_CALL) or function address (lddw
//          BPF_PSEUDO_FUNC) into a .text function not yet in this program, append that function
//          and walk it in turn (depth first). Then point every such instruction at the
//          function's place in this program: imm = start - (index + 1).
//   data   An lddw of a map becomes BPF_PSEUDO_MAP_FD with the map's fd; an lddw of a global
//          becomes BPF_PSEUDO_MAP_VALUE with the map's fd and, in the second slot, the offset
//          into the map's value (the variable's offset plus the lddw's own imm).
//   extern An lddw of a `__kconfig` variable becomes BPF_PSEUDO_MAP_VALUE of the `.kconfig` map
//          at the variable's offset; an lddw of a `__ksym` variable takes its kallsyms address
//          (0 for a weak one the kernel lacks); a call of a weak kernel function the kernel
//          lacks stays a kfunc call of BTF id 0 (libbpf's way: dead code the verifier drops).
//   info   The program's .BTF.ext func_info and line_info, then those of each appended
//          function shifted to where it landed.
//
// CO-RE relocations were applied before (runtime/core, called from load.ts): the programs given
// here carry the target kernel's offsets.
//
// An lddw of a function's address (a callback for bpf_loop and friends) comes from clang with
// src_reg 0 and a relocation against .text; it becomes BPF_PSEUDO_FUNC with the relative offset.
import { ExternError } from "../core/error.js";
import { patchExternLddw, type BpfExtern, type KsymAddress } from "../core/externs.js";
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import type { BpfFuncInfo, BpfLineInfo, BpfObject, BpfProgram } from "../object/open.js";
import { LoadError } from "./error.js";

export interface RelocatedProgram {
  insns: Insn[];
  funcInfo: BpfFuncInfo[];
  lineInfo: BpfLineInfo[];
  /** where each function of the program starts: the program itself, then the appended ones */
  functions: { name: string; start: number }[];
}

/** What the loader resolved the object's externs to. */
export interface ExternResolution {
  externs: readonly BpfExtern[];
  /** every ksym's address (0 for a weak one the kernel lacks) */
  ksyms: ReadonlyMap<string, KsymAddress>;
  /** the `.kconfig` map's fd (-1: the object has no kconfig externs) */
  kconfigFd: number;
}

/**
 * Relocate one entry program. `mapFd(i)` is the fd of object.maps[i] (created beforehand).
 * Throws LoadError naming the program when a relocation cannot be applied.
 */
export function relocateProgram(
  object: BpfObject,
  prog: BpfProgram,
  mapFd: (mapIndex: number) => number,
  externs?: ExternResolution,
): RelocatedProgram {
  const where = `${object.elf.fileName}: section '${prog.sectionName}': program '${prog.name}'`;
  const insns = prog.insns.map(copyInsn);
  const placed = new Map<BpfProgram, number>([[prog, 0]]);
  const order: BpfProgram[] = [prog];

  const relocateCode = (p: BpfProgram, base: number): void => {
    for (let idx = 0; idx < p.insns.length; idx++) {
      const insn = insns[base + idx]!;
      const isCall = insn.code === (op.BPF_JMP | op.BPF_CALL) && insn.src === op.BPF_PSEUDO_CALL;
      const isFuncAddr =
        insn.code === op.BPF_LDDW &&
        (insn.src === op.BPF_PSEUDO_FUNC ||
          p.relocations.some((r) => r.insn === idx && r.kind === "subprog_addr"));
      if (!isCall && !isFuncAddr) continue;
      const sub = calleeOf(object, p, idx, insn, where);
      // clang leaves src_reg 0 on a function's address; the kernel wants BPF_PSEUDO_FUNC
      if (isFuncAddr) insn.src = op.BPF_PSEUDO_FUNC;
      let start = placed.get(sub);
      if (start === undefined) {
        start = insns.length;
        placed.set(sub, start);
        order.push(sub);
        for (const i of sub.insns) insns.push(copyInsn(i));
        relocateCode(sub, start);
      }
      insns[base + idx]!.imm = start - (base + idx) - 1;
    }
  };
  relocateCode(prog, 0);

  const relocateExtern = (code: Insn[], at: number, symbol: string, index: number): void => {
    const ext = externs?.externs[index];
    if (ext === undefined)
      throw new LoadError(where, `insn ${at}: extern '${symbol}' was not resolved`);
    const insn = code[at]!;
    if (insn.code === (op.BPF_JMP | op.BPF_CALL)) {
      // only a weak kernel function the kernel lacks gets here (a strong one failed to resolve)
      insn.src = op.BPF_PSEUDO_KFUNC_CALL;
      insn.imm = 0;
      insn.off = 0;
      return;
    }
    try {
      patchExternLddw(code, at, ext, externs!.ksyms, externs!.kconfigFd, where);
    } catch (err) {
      if (err instanceof ExternError)
        throw new LoadError(where, err.message.slice(where.length + 2));
      throw err;
    }
  };

  for (const p of order) {
    const base = placed.get(p)!;
    for (const r of p.relocations) {
      if (r.kind !== "map" && r.kind !== "data") continue;
      const at = base + r.insn;
      const first = insns[at];
      const second = insns[at + 1];
      if (first?.code !== op.BPF_LDDW || second === undefined)
        throw new LoadError(
          where,
          `insn ${at}: relocation against '${r.symbol}' is not on an lddw`,
        );
      const fd = mapFd(r.map);
      if (r.kind === "map") {
        first.src = op.BPF_PSEUDO_MAP_FD;
        first.imm = fd;
      } else {
        second.imm = (first.imm + r.offset) | 0;
        first.src = op.BPF_PSEUDO_MAP_VALUE;
        first.imm = fd;
      }
    }
  }

  for (const p of order) {
    const base = placed.get(p)!;
    for (const r of p.externRelocations) relocateExtern(insns, base + r.insn, r.symbol, r.extern);
  }

  const funcInfo: BpfFuncInfo[] = [];
  const lineInfo: BpfLineInfo[] = [];
  for (const p of order) {
    const base = placed.get(p)!;
    for (const f of p.funcInfo) funcInfo.push({ ...f, insn: f.insn + base });
    for (const l of p.lineInfo) lineInfo.push({ ...l, insn: l.insn + base });
  }
  return {
    insns,
    funcInfo,
    lineInfo,
    functions: order.map((p) => ({ name: p.name, start: placed.get(p)! })),
  };
}

/** The .text function a call or function address at `idx` of `p` names. */
function calleeOf(
  object: BpfObject,
  p: BpfProgram,
  idx: number,
  insn: Insn,
  where: string,
): BpfProgram {
  const relo = p.relocations.find((r) => r.insn === idx);
  let target: number;
  if (relo !== undefined) {
    if (relo.kind !== "call" && relo.kind !== "subprog_addr")
      throw new LoadError(
        where,
        `insn ${idx} of '${p.name}': unexpected ${relo.kind} relocation on a call`,
      );
    target = relo.target;
  } else if (insn.code === op.BPF_LDDW) {
    throw new LoadError(where, `insn ${idx} of '${p.name}': function address without a relocation`);
  } else if (p.isSubprogram) {
    // a static call inside .text needs no relocation: imm is relative to the instruction
    target = p.sectionInsnOffset + idx + insn.imm + 1;
  } else {
    throw new LoadError(where, `insn ${idx}: call to a function outside .text (no relocation)`);
  }
  const sub = object.subprograms.find(
    (s) => target >= s.sectionInsnOffset && target < s.sectionInsnOffset + s.insns.length,
  );
  if (sub === undefined)
    throw new LoadError(where, `insn ${idx} of '${p.name}': no .text function at slot ${target}`);
  return sub;
}

const copyInsn = (i: Insn): Insn => ({
  code: i.code,
  dst: i.dst,
  src: i.src,
  off: i.off,
  imm: i.imm,
});
