// CO-RE relocation of a whole opened object, as libbpf's load phase does it before anything else
// touches the code: the .BTF.ext relocation records in their order (section by section), each
// applied to the program or .text function that holds its instruction, with one candidate cache
// for the object. Programs that will not be loaded are left alone.
import type { Btf } from "../btf/btf.js";
import type { Insn } from "../isa/insn.js";
import type { BpfObject, BpfProgram } from "../object/open.js";
import { createCandidateCache } from "./candidates.js";
import { CoreRelocationError } from "./error.js";
import { CORE_POISON_IMM } from "./patch.js";
import { applyCoreRelo, type CoreRelocationResult } from "./relocate.js";

/** A relocation result with the program and section it belongs to. */
export interface ObjectCoreResult extends CoreRelocationResult {
  program: string;
  section: string;
}

export interface ObjectCoreRelocation {
  /** relocated instructions of each program or .text function that had CO-RE relocations */
  insns: Map<BpfProgram, Insn[]>;
  results: ObjectCoreResult[];
}

export interface ObjectCoreOptions {
  /** which entry programs will be loaded (default: their autoload flag); .text always is */
  autoload?: (prog: BpfProgram) => boolean;
}

/**
 * Relocate every CO-RE relocation of `object` against `targetBtf`. Throws CoreRelocationError
 * (naming the file, section, program and relocation) for relocations libbpf would refuse.
 */
export function relocateObjectCore(
  object: BpfObject,
  targetBtf: Btf,
  options: ObjectCoreOptions = {},
): ObjectCoreRelocation {
  const out: ObjectCoreRelocation = { insns: new Map(), results: [] };
  const ext = object.btfExt;
  if (ext === undefined) return out;
  const file = object.elf.fileName;
  const autoload = options.autoload ?? ((p: BpfProgram) => p.autoload);
  const cache = createCandidateCache();
  const all = [...object.programs, ...object.subprograms];
  for (const block of ext.coreRelo.blocks) {
    if (block.records.length === 0) continue;
    const where = `${file}: .BTF.ext: section '${block.secName}'`;
    if (object.btf === undefined)
      throw new CoreRelocationError(where, "CO-RE relocations without a .BTF section");
    block.records.forEach((rec, index) => {
      if (rec.insnOff % 8 !== 0)
        throw new CoreRelocationError(
          `${where}: relo #${index}`,
          `instruction offset ${rec.insnOff} is not a multiple of 8`,
        );
      const slot = rec.insnOff / 8;
      const prog = all.find(
        (p) =>
          p.sectionName === block.secName &&
          slot >= p.sectionInsnOffset &&
          slot < p.sectionInsnOffset + p.insns.length,
      );
      // outside every function: an overridden weak function's leftovers, as libbpf skips them
      if (prog === undefined) return;
      if (!prog.isSubprogram && !autoload(prog)) return;
      let insns = out.insns.get(prog);
      if (insns === undefined) {
        insns = prog.insns.map((i) => ({ ...i }));
        out.insns.set(prog, insns);
      }
      const relo = {
        insn: slot - prog.sectionInsnOffset,
        typeId: rec.typeId,
        accessStr: object.btf!.strings.tryGet(rec.accessStrOff) ?? "",
        kind: rec.kind,
      };
      try {
        const result = applyCoreRelo(insns, relo, index, object.btf!, targetBtf, cache, prog.name);
        out.results.push({ ...result, program: prog.name, section: prog.sectionName });
      } catch (err) {
        if (err instanceof CoreRelocationError)
          throw new CoreRelocationError(
            `${file}: section '${block.secName}': ${err.where}`,
            err.reason,
          );
        throw err;
      }
    });
  }
  return out;
}

/** An object whose programs carry CO-RE-relocated instructions, and the way to its programs. */
export interface CoreRelocatedObject {
  object: BpfObject;
  /** every relocation applied, in order */
  results: ObjectCoreResult[];
  /** the relocated copy of one of the original object's programs or .text functions */
  program(original: BpfProgram): BpfProgram;
}

/**
 * A shallow copy of `object` in which every program and .text function that `relocation`
 * changed has its relocated instructions (the original object is not modified, so it can be
 * loaded again, into another kernel).
 */
export function withCoreRelocations(
  object: BpfObject,
  relocation: ObjectCoreRelocation,
): CoreRelocatedObject {
  const copies = new Map<BpfProgram, BpfProgram>();
  const copy = (p: BpfProgram): BpfProgram => {
    const insns = relocation.insns.get(p);
    if (insns === undefined) return p;
    let c = copies.get(p);
    if (c === undefined) {
      c = { ...p, insns };
      copies.set(p, c);
    }
    return c;
  };
  const relocated: BpfObject = {
    ...object,
    programs: object.programs.map(copy),
    subprograms: object.subprograms.map(copy),
  };
  return { object: relocated, results: relocation.results, program: copy };
}

/**
 * Why a program whose load failed on a poisoned instruction (`call 0xbad2310`, which the
 * verifier reports as "invalid func unknown#195896080") failed: "failed to resolve CO-RE
 * relocation <spec>: <which field of which type is missing>", as libbpf rewrites the log.
 * `functions` are the program's functions and where they start in the loaded instructions;
 * the log's instruction index picks the relocation when it is there. "" when the failure is
 * not about a poisoned instruction.
 */
export function explainPoisonedLoad(
  results: readonly ObjectCoreResult[],
  functions: readonly { name: string; start: number }[],
  reason: string,
  log: string,
): string {
  const marker = `unknown#${CORE_POISON_IMM}`;
  if (!reason.includes(marker) && !log.includes(marker)) return "";
  const poisoned = (name: string): ObjectCoreResult[] =>
    results.filter((r) => r.poisoned && r.program === name);
  const at = new RegExp(`^(\\d+): \\(85\\) call ${marker}`, "m").exec(log);
  let found: ObjectCoreResult[] = [];
  if (at !== null) {
    const insn = Number(at[1]);
    const fn = [...functions].reverse().find((f) => f.start <= insn);
    if (fn !== undefined)
      found = poisoned(fn.name).filter(
        (r) => r.insn === insn - fn.start || r.insn === insn - fn.start - 1,
      );
  }
  if (found.length === 0) found = functions.flatMap((f) => poisoned(f.name));
  return found
    .map((r) => `failed to resolve CO-RE relocation ${r.localSpec}: ${r.message ?? ""}`)
    .join("; ");
}
