// Matching a local spec against one candidate target type, producing the target spec: the same
// named members and array indexes, found in the target by name (searching anonymous structs and
// unions at any depth), with the target's own path and bit offset.
import { BTF_KIND_ARRAY, BTF_KIND_ENUM, BTF_KIND_ENUM64, type Btf } from "../btf/btf.js";
import { btfTypeById, skipModsAndTypedefs } from "../btf/query.js";
import { BpfCoreReloKind as K } from "../uapi/bpf.js";
import { fieldsAreCompat, typesAreCompat, typesMatch } from "./compat.js";
import { CoreSpecError } from "./error.js";
import { isEnumvalBased, isFieldBased, isTypeBased } from "./kinds.js";
import { essentialNameLength } from "./names.js";
import {
  CORE_SPEC_MAX_LEN,
  emptySpec,
  isComposite,
  isFlexArray,
  sizeOf,
  type CoreAccessor,
  type CoreSpec,
} from "./spec.js";

/** The target spec when candidate `targId` matches `local`, else undefined. */
export function matchSpec(local: CoreSpec, targBtf: Btf, targId: number): CoreSpec | undefined {
  const targ = emptySpec(targBtf, targId, local.kind);
  if (isTypeBased(local.kind)) {
    const ok =
      local.kind === K.BPF_CORE_TYPE_MATCHES
        ? typesMatch(local.btf, local.rootTypeId, targBtf, targId)
        : typesAreCompat(local.btf, local.rootTypeId, targBtf, targId);
    return ok ? targ : undefined;
  }
  if (isEnumvalBased(local.kind)) return matchEnumval(local, targ);
  if (!isFieldBased(local.kind)) throw new CoreSpecError(`unknown relocation kind ${local.kind}`);
  let id = targId;
  for (let i = 0; i < local.accessors.length; i++) {
    const acc = local.accessors[i]!;
    const t = skipModsAndTypedefs(targBtf, id);
    id = t.id;
    if (acc.name !== undefined) {
      const next = matchMember(local.btf, acc, targBtf, id, targ, 0);
      if (next === undefined) return undefined;
      id = next;
      continue;
    }
    // i = 0 indexes the root itself; later indexes need an array of the target's
    if (i > 0) {
      if (t.kind !== BTF_KIND_ARRAY) return undefined;
      const flex = isFlexArray(targBtf, targ.accessors[targ.accessors.length - 1]!, t);
      if (!flex && acc.idx >= t.nelems) return undefined;
      id = skipModsAndTypedefs(targBtf, t.type).id;
    }
    if (targ.raw.length === CORE_SPEC_MAX_LEN) throw tooLong();
    targ.accessors.push({ typeId: id, idx: acc.idx, name: undefined });
    targ.raw.push(acc.idx);
    targ.bitOffset += acc.idx * sizeOf(targBtf, id) * 8;
  }
  return targ;
}

function matchEnumval(local: CoreSpec, targ: CoreSpec): CoreSpec | undefined {
  const t = skipModsAndTypedefs(targ.btf, targ.rootTypeId);
  if (t.kind !== BTF_KIND_ENUM && t.kind !== BTF_KIND_ENUM64) return undefined;
  const name = local.accessors[0]!.name!;
  const length = essentialNameLength(name);
  const idx = t.values.findIndex(
    (v) =>
      essentialNameLength(v.name) === length && v.name.slice(0, length) === name.slice(0, length),
  );
  if (idx < 0) return undefined;
  targ.accessors.push({ typeId: t.id, idx, name: t.values[idx]!.name });
  targ.raw.push(idx);
  return targ;
}

/**
 * Find the member named by local accessor `acc` in target composite `targId` (through anonymous
 * members), appending to the target spec; the member's type id, or undefined when there is no
 * compatible member of that name. Every member tried is pushed on the raw path and its offset
 * added first, and taken back when it turns out not to be the one, as libbpf does.
 */
function matchMember(
  localBtf: Btf,
  acc: CoreAccessor,
  targBtf: Btf,
  targId: number,
  spec: CoreSpec,
  depth: number,
): number | undefined {
  const targ = skipModsAndTypedefs(targBtf, targId);
  if (!isComposite(targ)) return undefined;
  if (depth > CORE_SPEC_MAX_LEN) throw tooLong();
  const localOwner = btfTypeById(localBtf, acc.typeId) as { members: { type: number }[] };
  const localMember = localOwner.members[acc.idx]!;
  const members = (targ as { members: { name: string; type: number; bitOffset: number }[] })
    .members;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (spec.raw.length === CORE_SPEC_MAX_LEN) throw tooLong();
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === "") {
      const found = matchMember(localBtf, acc, targBtf, m.type, spec, depth + 1);
      if (found !== undefined) return found;
    } else if (m.name === acc.name) {
      if (!fieldsAreCompat(localBtf, localMember.type, targBtf, m.type)) return undefined;
      spec.accessors.push({ typeId: targ.id, idx: i, name: m.name });
      return m.type;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return undefined;
}

const tooLong = (): CoreSpecError =>
  new CoreSpecError(`target access path longer than ${CORE_SPEC_MAX_LEN}`);
