// CO-RE relocation of a program (libbpf's bpf_core_apply_relo / bpf_object__relocate_core):
// for each relocation clang recorded, find what the local type and access path mean in the
// target BTF (the kernel's), compute the value the instruction must hold there, and patch it.
//
//   1. read the local spec from the access string (spec.ts)
//   2. find candidate target types by essential name (candidates.ts, cached per object)
//   3. match the spec against each candidate (match.ts); every matching candidate must agree
//   4. compute local and target values (calc.ts) and patch the instruction (patch.ts),
//      poisoning it when the field, type or enumerator is absent from the target
//
// A relocation that is malformed, ambiguous, or whose instruction does not hold the local value
// is an error (libbpf refuses the object); one that is merely unsatisfiable is not.
import type { Btf } from "../btf/btf.js";
import { BtfError } from "../btf/btf.js";
import { btfTypeById } from "../btf/query.js";
import type { Insn } from "../isa/insn.js";
import { BpfCoreReloKind as K } from "../uapi/bpf.js";
import { calcRelo, emptyResult, type CoreReloResult } from "./calc.js";
import { candidatesFor, createCandidateCache, type CandidateCache } from "./candidates.js";
import { CoreRelocationError, CoreSpecError } from "./error.js";
import { coreReloKindName, isEnumvalBased, isFieldBased } from "./kinds.js";
import { matchSpec } from "./match.js";
import { patchInsn, type PatchOutcome } from "./patch.js";
import { btfKindStr, formatSpec, parseLocalSpec, type CoreSpec } from "./spec.js";
import { fromNumber, sameValue, toNumber, type CoreValue } from "./value.js";

/** One CO-RE relocation of a program (the fields of BpfProgram.coreRelos that matter). */
export interface CoreRelo {
  /** instruction index within the program */
  insn: number;
  /** local root type id */
  typeId: number;
  accessStr: string;
  /** BPF_CORE_* */
  kind: number;
}

export interface CoreRelocationResult {
  /** the relocation's index in the list given */
  index: number;
  insn: number;
  kind: number;
  /** "byte_off", "field_exists", ... */
  kindName: string;
  /** the local spec as libbpf prints it: "<byte_off> [7] struct task_struct.pid (0:34 @ offset 1196)" */
  localSpec: string;
  /** the matched target spec; undefined when nothing in the target matched */
  targetSpec: string | undefined;
  /** the value clang wrote and the value patched in (exact below 2^53) */
  oldValue: number;
  newValue: number;
  /** the same, exactly, as 32-bit halves */
  oldValue64: CoreValue;
  newValue64: CoreValue;
  /** the instruction became `call 0xbad2310`: it fails verification if reached */
  poisoned: boolean;
  /** a load/store whose width changed (bytes before and after) */
  widthChange?: { from: number; to: number };
  /** why the instruction was poisoned, naming the field or enumerator and the type */
  message?: string;
}

export interface CoreRelocateOptions {
  /** for messages: "prog 'NAME': relo #I: ..." */
  programName?: string;
  /** candidate lists shared by every program of one object (libbpf keeps one per object) */
  candidates?: CandidateCache;
}

export interface CoreRelocated {
  /** a relocated copy of the instructions */
  insns: Insn[];
  results: CoreRelocationResult[];
}

/**
 * Apply `relos` to a copy of `insns`, local types from `localBtf` (the object's .BTF), target
 * types from `targetBtf` (the kernel's). Throws CoreRelocationError for relocations libbpf
 * would refuse; unsatisfiable ones are poisoned and reported in the results.
 */
export function relocateCore(
  insns: readonly Insn[],
  relos: readonly CoreRelo[],
  localBtf: Btf,
  targetBtf: Btf,
  options: CoreRelocateOptions = {},
): CoreRelocated {
  const out = insns.map((i) => ({ ...i }));
  const cache = options.candidates ?? createCandidateCache();
  const prog = options.programName ?? "(program)";
  const results = relos.map((relo, index) =>
    applyCoreRelo(out, relo, index, localBtf, targetBtf, cache, prog),
  );
  return { insns: out, results };
}

/**
 * Apply one relocation to `insns` in place; `index` numbers it in messages (libbpf numbers
 * the relocations of each ELF section).
 */
export function applyCoreRelo(
  insns: Insn[],
  relo: CoreRelo,
  index: number,
  localBtf: Btf,
  targetBtf: Btf,
  cache: CandidateCache,
  prog: string,
): CoreRelocationResult {
  const where = `prog '${prog}': relo #${index}: insn ${relo.insn}`;
  if (!Number.isInteger(relo.insn) || relo.insn < 0 || relo.insn >= insns.length)
    throw new CoreRelocationError(
      where,
      `instruction is outside the program (${insns.length} insns)`,
    );
  try {
    const local = parseLocal(localBtf, relo);
    const { res, target } = resolve(relo, local, targetBtf, cache);
    const outcome = patchInsn(insns, relo.insn, res);
    return describe(relo, index, local, target, res, outcome, where);
  } catch (err) {
    if (err instanceof CoreSpecError || err instanceof BtfError)
      throw new CoreRelocationError(where, err.message);
    throw err;
  }
}

function parseLocal(btf: Btf, relo: CoreRelo): CoreSpec {
  try {
    return parseLocalSpec(btf, relo);
  } catch (err) {
    if (!(err instanceof CoreSpecError || err instanceof BtfError)) throw err;
    const t = btf.types[relo.typeId];
    const type = t ? `[${t.id}] ${btfKindStr(t)} ${t.name || "<anon>"}` : `[${relo.typeId}]`;
    throw new CoreSpecError(`parsing ${type} + ${relo.accessStr} failed: ${err.message}`);
  }
}

/** The relocation's values against the target: from the one agreed match, or from none. */
function resolve(
  relo: CoreRelo,
  local: CoreSpec,
  targetBtf: Btf,
  cache: CandidateCache,
): { res: CoreReloResult; target: CoreSpec | undefined } {
  if (relo.kind === K.BPF_CORE_TYPE_ID_LOCAL) {
    // the object's own type id: nothing to look up (and linking may renumber it: no check)
    const id = fromNumber(local.rootTypeId);
    return {
      res: { ...emptyResult(), origVal: id, newVal: id, validate: false },
      target: undefined,
    };
  }
  const root = btfTypeById(local.btf, relo.typeId);
  if (root.name === "")
    throw new CoreSpecError(
      `<${coreReloKindName(relo.kind)}> (${relo.kind}) relocation doesn't support anonymous types`,
    );
  const candidates = candidatesFor(cache, local.btf, relo.typeId, targetBtf);
  const kept: number[] = [];
  let chosen: { res: CoreReloResult; target: CoreSpec } | undefined;
  for (const id of candidates) {
    const target = matchSpec(local, targetBtf, id);
    if (target === undefined) continue;
    const res = calcRelo(relo.kind, local, target, relo.insn);
    if (chosen === undefined) {
      chosen = { res, target };
    } else if (target.bitOffset !== chosen.target.bitOffset) {
      throw new CoreSpecError(
        `field offset ambiguity: ${target.bitOffset} != ${chosen.target.bitOffset} (${formatSpec(target)} vs ${formatSpec(chosen.target)})`,
      );
    } else if (res.poison !== chosen.res.poison || !sameValue(res.newVal, chosen.res.newVal)) {
      throw new CoreSpecError(
        `relocation decision ambiguity: ${formatSpec(target)} gives ${toNumber(res.newVal)}, ${formatSpec(chosen.target)} gives ${toNumber(chosen.res.newVal)}`,
      );
    }
    kept.push(id);
  }
  // later relocations of this type only consider the candidates that matched this one
  if (kept.length > 0) candidates.splice(0, candidates.length, ...kept);
  if (chosen !== undefined) return chosen;
  return { res: calcRelo(relo.kind, local, undefined, relo.insn), target: undefined };
}

function describe(
  relo: CoreRelo,
  index: number,
  local: CoreSpec,
  target: CoreSpec | undefined,
  res: CoreReloResult,
  outcome: PatchOutcome,
  where: string,
): CoreRelocationResult {
  const result: CoreRelocationResult = {
    index,
    insn: relo.insn,
    kind: relo.kind,
    kindName: coreReloKindName(relo.kind),
    localSpec: formatSpec(local),
    targetSpec: target === undefined ? undefined : formatSpec(target),
    oldValue: toNumber(res.origVal),
    newValue: toNumber(res.newVal),
    oldValue64: res.origVal,
    newValue64: res.newVal,
    poisoned: outcome.kind === "poisoned",
  };
  if (outcome.kind === "patched" && outcome.widthFrom !== undefined)
    result.widthChange = { from: outcome.widthFrom, to: outcome.widthTo! };
  if (outcome.kind === "poisoned")
    result.message = `${where}: ${poisonReason(local, res, outcome.reason)}; instruction poisoned (fails verification if reached)`;
  return result;
}

/** "field 'real_parent.tgid' of struct task_struct is not in the target BTF" and friends. */
function poisonReason(local: CoreSpec, res: CoreReloResult, reason: "missing" | "width"): string {
  const root = btfTypeById(local.btf, local.rootTypeId);
  const type = `${btfKindStr(root)} ${root.name || "<anon>"}`;
  if (isEnumvalBased(local.kind))
    return `enumerator '${local.accessors[0]?.name ?? "?"}' of ${type} is not in the target BTF`;
  if (!isFieldBased(local.kind)) return `${type} is not in the target BTF`;
  const path = fieldPath(local);
  if (reason === "width")
    return `field '${path}' of ${type} is ${res.origSize} bytes here but ${res.newSize} in the target, and is not a pointer or unsigned integer: the load/store cannot change width`;
  return `field '${path}' of ${type} is not in the target BTF (no compatible member of that name in any candidate)`;
}

/** The accessed members as C would write them after the root: "real_parent.comm[2]". */
function fieldPath(spec: CoreSpec): string {
  let s = "";
  spec.accessors.forEach((acc, i) => {
    if (acc.name !== undefined) s += s === "" ? acc.name : `.${acc.name}`;
    else if (i > 0 || acc.idx > 0) s += `[${acc.idx}]`;
  });
  return s || "(the root)";
}
