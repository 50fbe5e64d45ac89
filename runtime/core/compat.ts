// When a target type can stand in for a local one, under libbpf's three relations:
//
//   fields compatible  (a matched member's type):  structs/unions with each other, pointers
//       with pointers, enums/fwds by essential name (or either anonymous), ints of any size
//       and sign (not old-style bit-field ints), arrays by element type.
//   types compatible   (TYPE_EXISTS, TYPE_SIZE, TYPE_ID_TARGET): same kind (any enum with any
//       enum), names ignored below the root, pointers/arrays by target, prototypes by arity and
//       each parameter and the return type.
//   types match        (TYPE_MATCHES): stricter; every local member or enumerator must exist
//       by name in the target, ints must agree in size and sign, arrays in length; behind a
//       pointer a struct also matches a forward declaration of the same kind.
//
// Each walk is bounded, so cyclic or corrupt BTF fails instead of recursing forever.
import {
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_UNION,
  BTF_KIND_UNKN,
  type Btf,
  type BtfType,
} from "../btf/btf.js";
import { btfTypeById, skipModsAndTypedefs } from "../btf/query.js";
import { CoreSpecError } from "./error.js";
import { essentialNameLength } from "./names.js";
import { isAnyEnum, isComposite } from "./spec.js";

/** Recursion budget of the type walks (libbpf's). */
const MAX_LEVEL = 32;

/** Same kind, or both enums (ENUM and ENUM64 are interchangeable). */
export const kindsCompatible = (a: BtfType, b: BtfType): boolean =>
  a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));

/** Essential names equal, or one of them anonymous. */
function namesCompatibleOrAnon(a: string, b: string): boolean {
  const la = essentialNameLength(a);
  const lb = essentialNameLength(b);
  return la === 0 || lb === 0 || (la === lb && a.slice(0, la) === b.slice(0, lb));
}

const intOffset = (t: BtfType): number => (t.kind === BTF_KIND_INT ? t.bitOffset : 0);

function tooDeep(): never {
  throw new CoreSpecError(`type chain deeper than ${MAX_LEVEL} levels`);
}

/** Can the target member type `targId` stand in for the local member type `localId`? */
export function fieldsAreCompat(
  localBtf: Btf,
  localId: number,
  targBtf: Btf,
  targId: number,
): boolean {
  for (let depth = 0; ; depth++) {
    if (depth > MAX_LEVEL) tooDeep();
    const local = skipModsAndTypedefs(localBtf, localId);
    const targ = skipModsAndTypedefs(targBtf, targId);
    if (isComposite(local) && isComposite(targ)) return true;
    if (!kindsCompatible(local, targ)) return false;
    switch (local.kind) {
      case BTF_KIND_PTR:
      case BTF_KIND_FLOAT:
        return true;
      case BTF_KIND_FWD:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        return namesCompatibleOrAnon(local.name, targ.name);
      case BTF_KIND_INT:
        return intOffset(local) === 0 && intOffset(targ) === 0;
      case BTF_KIND_ARRAY:
        localId = local.type;
        targId = (targ as { type: number }).type;
        continue;
      default:
        return false;
    }
  }
}

/** TYPE_EXISTS / TYPE_SIZE / TYPE_ID_TARGET compatibility (root names already matched). */
export function typesAreCompat(
  localBtf: Btf,
  localId: number,
  targBtf: Btf,
  targId: number,
  level = MAX_LEVEL,
): boolean {
  if (!kindsCompatible(btfTypeById(localBtf, localId), btfTypeById(targBtf, targId))) return false;
  for (let depth = 0; ; depth++) {
    if (depth >= MAX_LEVEL) tooDeep();
    const local = skipModsAndTypedefs(localBtf, localId);
    const targ = skipModsAndTypedefs(targBtf, targId);
    if (!kindsCompatible(local, targ)) return false;
    switch (local.kind) {
      case BTF_KIND_UNKN:
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_FWD:
        return true;
      case BTF_KIND_INT:
        return intOffset(local) === 0 && intOffset(targ) === 0;
      case BTF_KIND_PTR:
      case BTF_KIND_ARRAY:
        localId = local.type;
        targId = (targ as { type: number }).type;
        continue;
      case BTF_KIND_FUNC_PROTO: {
        if (targ.kind !== BTF_KIND_FUNC_PROTO) return false;
        if (local.params.length !== targ.params.length) return false;
        for (let i = 0; i < local.params.length; i++) {
          if (level <= 0) tooDeep();
          const lp = skipModsAndTypedefs(localBtf, local.params[i]!.type).id;
          const tp = skipModsAndTypedefs(targBtf, targ.params[i]!.type).id;
          if (!typesAreCompat(localBtf, lp, targBtf, tp, level - 1)) return false;
        }
        localId = skipModsAndTypedefs(localBtf, local.type).id;
        targId = skipModsAndTypedefs(targBtf, targ.type).id;
        continue;
      }
      default:
        return false;
    }
  }
}

/** Names equal up to flavour; an anonymous target matches only an anonymous local. */
function namesMatch(local: string, targ: string): boolean {
  if (targ === "") return local === "";
  const lt = essentialNameLength(targ);
  const ll = essentialNameLength(local);
  return lt === ll && local.slice(0, ll) === targ.slice(0, lt);
}

function enumsMatch(local: BtfType, targ: BtfType): boolean {
  if (!isAnyEnum(local) || !isAnyEnum(targ)) return false;
  const lv = (local as { values: { name: string }[] }).values;
  const tv = (targ as { values: { name: string }[] }).values;
  if ((local as { size: number }).size !== (targ as { size: number }).size) return false;
  if (lv.length > tv.length) return false;
  return lv.every((l) => tv.some((t) => namesMatch(l.name, t.name)));
}

function compositesMatch(
  localBtf: Btf,
  local: BtfType,
  targBtf: Btf,
  targ: BtfType,
  behindPtr: boolean,
  level: number,
): boolean {
  if (!isComposite(local) || !isComposite(targ)) return false;
  const lm = (local as { members: { name: string; type: number }[] }).members;
  const tm = (targ as { members: { name: string; type: number }[] }).members;
  if (lm.length > tm.length) return false;
  return lm.every((l) =>
    tm.some(
      (t) =>
        namesMatch(l.name, t.name) &&
        typesMatch(localBtf, l.type, targBtf, t.type, behindPtr, level - 1),
    ),
  );
}

/** TYPE_MATCHES (root names already matched by the candidate search). */
export function typesMatch(
  localBtf: Btf,
  localId: number,
  targBtf: Btf,
  targId: number,
  behindPtr = false,
  level = MAX_LEVEL,
): boolean {
  if (level <= 0) tooDeep();
  for (let depth = 0; ; depth++) {
    if (depth >= MAX_LEVEL) tooDeep();
    const local = skipModsAndTypedefs(localBtf, localId);
    const targ = skipModsAndTypedefs(targBtf, targId);
    if (!namesMatch(local.name, targ.name)) return false;
    switch (local.kind) {
      case BTF_KIND_UNKN:
        return targ.kind === BTF_KIND_UNKN;
      case BTF_KIND_FWD:
        if (behindPtr && targ.kind !== BTF_KIND_FWD)
          return (
            (targ.kind === BTF_KIND_STRUCT && !local.kindFlag) ||
            (targ.kind === BTF_KIND_UNION && local.kindFlag)
          );
        return targ.kind === BTF_KIND_FWD && local.kindFlag === targ.kindFlag;
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        return enumsMatch(local, targ);
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        if (behindPtr) {
          if (local.kind === targ.kind) return true;
          return targ.kind === BTF_KIND_FWD && (local.kind === BTF_KIND_UNION) === targ.kindFlag;
        }
        if (local.kind !== targ.kind) return false;
        return compositesMatch(localBtf, local, targBtf, targ, behindPtr, level);
      case BTF_KIND_INT:
        return (
          targ.kind === BTF_KIND_INT &&
          local.size === targ.size &&
          (local.encoding & BTF_INT_SIGNED) === (targ.encoding & BTF_INT_SIGNED)
        );
      case BTF_KIND_PTR:
        if (targ.kind !== BTF_KIND_PTR) return false;
        behindPtr = true;
        localId = local.type;
        targId = targ.type;
        continue;
      case BTF_KIND_ARRAY:
        if (targ.kind !== BTF_KIND_ARRAY || local.nelems !== targ.nelems) return false;
        localId = local.type;
        targId = targ.type;
        continue;
      case BTF_KIND_FUNC_PROTO: {
        if (targ.kind !== BTF_KIND_FUNC_PROTO) return false;
        if (local.params.length !== targ.params.length) return false;
        for (let i = 0; i < local.params.length; i++) {
          const ok = typesMatch(
            localBtf,
            local.params[i]!.type,
            targBtf,
            targ.params[i]!.type,
            behindPtr,
            level - 1,
          );
          if (!ok) return false;
        }
        localId = local.type;
        targId = targ.type;
        continue;
      }
      default:
        return false;
    }
  }
}
