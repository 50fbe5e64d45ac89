// Candidate target types for a local type: every target type of a compatible kind whose
// essential name (flavour `___suffix` dropped) equals the local one's, in target id order.
//
// As in libbpf, the list is cached per local type id for a whole object and shrinks as
// relocations are resolved: once some candidates matched a relocation, only those stay
// candidates for the next relocation of the same type.
import type { Btf } from "../btf/btf.js";
import { btfTypeById } from "../btf/query.js";
import { kindsCompatible } from "./compat.js";
import { essentialNameLength } from "./names.js";

/** Candidate lists by local type id, shared by every relocation of one object. */
export type CandidateCache = Map<number, number[]>;

export const createCandidateCache = (): CandidateCache => new Map();

/** Target type ids that may stand for local type `localId` (named: the caller checked). */
export function findCandidates(localBtf: Btf, localId: number, targetBtf: Btf): number[] {
  const local = btfTypeById(localBtf, localId);
  const length = essentialNameLength(local.name);
  const essential = local.name.slice(0, length);
  const found: number[] = [];
  const types = targetBtf.types;
  for (let id = 1; id < types.length; id++) {
    const t = types[id]!;
    if (t.name === "" || !kindsCompatible(t, local)) continue;
    if (essentialNameLength(t.name) !== length || !t.name.startsWith(essential)) continue;
    found.push(id);
  }
  return found;
}

/** The cached candidate list for `localId`, searched on first use. */
export function candidatesFor(
  cache: CandidateCache,
  localBtf: Btf,
  localId: number,
  targetBtf: Btf,
): number[] {
  let list = cache.get(localId);
  if (list === undefined) {
    list = findCandidates(localBtf, localId, targetBtf);
    cache.set(localId, list);
  }
  return list;
}
