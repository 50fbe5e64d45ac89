// The value a relocation stands for, computed once from the local spec (what clang wrote into
// the instruction) and once from the target spec (what the instruction must say instead).
// A missing target spec means no candidate matched: existence kinds then say 0, type kinds say
// 0, and the others ask for the instruction to be poisoned.
import { BTF_INT_SIGNED, BTF_KIND_ENUM, BTF_KIND_INT, BTF_KIND_PTR } from "../btf/btf.js";
import { btfTypeById, skipModsAndTypedefs } from "../btf/query.js";
import { BpfCoreReloKind as K } from "../uapi/bpf.js";
import { CoreSpecError } from "./error.js";
import { coreReloKindName, isEnumvalBased, isFieldBased, isTypeBased } from "./kinds.js";
import { isAnyEnum, sizeOf, type CoreSpec } from "./spec.js";
import { fromInt32, fromNumber, ZERO, type CoreValue } from "./value.js";

export interface CoreReloResult {
  /** the value the instruction holds now (from the local spec) */
  origVal: CoreValue;
  /** the value it must hold for the target */
  newVal: CoreValue;
  /** replace the instruction with an invalid call: the field/type/value is not in the target */
  poison: boolean;
  /** check that the instruction holds origVal before patching */
  validate: boolean;
  /** a load/store of this field cannot change width safely (poisoned when it must) */
  failMemszAdjust: boolean;
  /** bytes a load/store of the field moves, locally and in the target (0: not a plain field) */
  origSize: number;
  newSize: number;
  origTypeId: number;
  newTypeId: number;
}

interface FieldValue {
  value: CoreValue;
  /** memory size of a plain (non-bit-field) field or array element, else 0 */
  size: number;
  typeId: number;
  validate: boolean;
}

/** Poisoning requested: the spec is missing and the kind has no "absent" value. */
const POISON = Symbol("poison");

function fieldValue(
  spec: CoreSpec | undefined,
  kind: number,
  insn: number,
): FieldValue | typeof POISON {
  if (kind === K.BPF_CORE_FIELD_EXISTS)
    return { value: fromNumber(spec ? 1 : 0), size: 0, typeId: 0, validate: true };
  if (spec === undefined) return POISON;
  const btf = spec.btf;
  const acc = spec.accessors[spec.accessors.length - 1]!;
  if (acc.name === undefined) {
    // the last step is an array element (or the root itself)
    const size = sizeOf(btf, acc.typeId);
    if (kind === K.BPF_CORE_FIELD_BYTE_OFFSET)
      return {
        value: fromNumber(Math.floor(spec.bitOffset / 8)),
        size,
        typeId: acc.typeId,
        validate: true,
      };
    if (kind === K.BPF_CORE_FIELD_BYTE_SIZE)
      return { value: fromNumber(size), size: 0, typeId: 0, validate: true };
    throw new CoreSpecError(
      `${coreReloKindName(kind)} relocation at insn ${insn} cannot apply to an array element`,
    );
  }
  const owner = btfTypeById(btf, acc.typeId) as {
    members: { type: number; bitfieldSize: number }[];
  };
  const member = owner.members[acc.idx]!;
  const fieldType = skipModsAndTypedefs(btf, member.type);
  const bitOff = spec.bitOffset;
  let bitSize = member.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    // the smallest naturally aligned load (of at least the field's declared size) holding it
    byteSize = (fieldType as { size: number }).size;
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8)
        throw new CoreSpecError(
          `${coreReloKindName(kind)} relocation at insn ${insn}: bit-field '${acc.name}' cannot be read with one 64-bit load`,
        );
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = sizeOf(btf, fieldType.id);
    byteOff = Math.floor(bitOff / 8);
    bitSize = byteSize * 8;
  }
  // bit-field placement is the compiler's choice: only signedness and the right shift are checked
  const plain = { size: 0, typeId: 0, validate: !bitfield };
  switch (kind) {
    case K.BPF_CORE_FIELD_BYTE_OFFSET:
      return {
        value: fromNumber(byteOff),
        size: bitfield ? 0 : byteSize,
        typeId: bitfield ? 0 : fieldType.id,
        validate: !bitfield,
      };
    case K.BPF_CORE_FIELD_BYTE_SIZE:
      return { ...plain, value: fromNumber(byteSize) };
    case K.BPF_CORE_FIELD_SIGNED: {
      const signed =
        (isAnyEnum(fieldType) && fieldType.kindFlag) ||
        (fieldType.kind === BTF_KIND_INT && (fieldType.encoding & BTF_INT_SIGNED) !== 0);
      return { ...plain, value: fromNumber(signed ? 1 : 0), validate: true };
    }
    case K.BPF_CORE_FIELD_LSHIFT_U64:
      return { ...plain, value: fromNumber(64 - (bitOff + bitSize - byteOff * 8)) };
    case K.BPF_CORE_FIELD_RSHIFT_U64:
      return { ...plain, value: fromNumber(64 - bitSize), validate: true };
    default:
      throw new CoreSpecError(`unsupported relocation kind ${kind}`);
  }
}

function typeValue(spec: CoreSpec | undefined, kind: number): CoreValue {
  if (spec === undefined) return ZERO;
  switch (kind) {
    case K.BPF_CORE_TYPE_ID_TARGET:
      return fromNumber(spec.rootTypeId);
    case K.BPF_CORE_TYPE_EXISTS:
    case K.BPF_CORE_TYPE_MATCHES:
      return fromNumber(1);
    case K.BPF_CORE_TYPE_SIZE:
      return fromNumber(sizeOf(spec.btf, spec.rootTypeId));
    default:
      throw new CoreSpecError(`unsupported relocation kind ${coreReloKindName(kind)} (${kind})`);
  }
}

function enumvalValue(spec: CoreSpec | undefined, kind: number): CoreValue | typeof POISON {
  if (kind === K.BPF_CORE_ENUMVAL_EXISTS) return fromNumber(spec ? 1 : 0);
  if (spec === undefined) return POISON;
  const acc = spec.accessors[0]!;
  const t = btfTypeById(spec.btf, acc.typeId);
  if (t.kind === BTF_KIND_ENUM) return fromInt32(t.values[acc.idx]!.value);
  const v = (t as { values: { lo: number; hi: number }[] }).values[acc.idx]!;
  return { lo: v.lo >>> 0, hi: v.hi >>> 0 };
}

/** Nothing to change, check or poison yet. */
export function emptyResult(): CoreReloResult {
  return {
    origVal: ZERO,
    newVal: ZERO,
    poison: false,
    validate: true,
    failMemszAdjust: false,
    origSize: 0,
    newSize: 0,
    origTypeId: 0,
    newTypeId: 0,
  };
}

/** The relocation's local and target values (target undefined: no candidate matched). */
export function calcRelo(
  kind: number,
  local: CoreSpec,
  target: CoreSpec | undefined,
  insn: number,
): CoreReloResult {
  const res = emptyResult();
  if (isFieldBased(kind)) {
    const orig = fieldValue(local, kind, insn);
    if (orig === POISON) throw new CoreSpecError("local spec missing");
    res.origVal = orig.value;
    res.origSize = orig.size;
    res.origTypeId = orig.typeId;
    res.validate = orig.validate;
    const next = fieldValue(target, kind, insn);
    if (next === POISON) return { ...res, poison: true };
    res.newVal = next.value;
    res.newSize = next.size;
    res.newTypeId = next.typeId;
    if (res.origSize !== res.newSize && target !== undefined)
      res.failMemszAdjust = !widthChangeIsSafe(local, res.origTypeId, target, res.newTypeId);
    return res;
  }
  if (isTypeBased(kind)) {
    res.origVal = typeValue(local, kind);
    res.newVal = typeValue(target, kind);
    // a type id in an instruction may change at link time: nothing to check
    if (kind === K.BPF_CORE_TYPE_ID_TARGET) res.validate = false;
    return res;
  }
  if (isEnumvalBased(kind)) {
    const orig = enumvalValue(local, kind);
    if (orig === POISON) throw new CoreSpecError("local spec missing");
    res.origVal = orig;
    const next = enumvalValue(target, kind);
    if (next === POISON) return { ...res, poison: true };
    res.newVal = next;
    return res;
  }
  throw new CoreSpecError(`unrecognized CO-RE relocation ${coreReloKindName(kind)} (${kind})`);
}

/**
 * A load/store may change width only where zero extension keeps the value: pointers (a 32-bit
 * kernel's pointer read into a 64-bit register) and unsigned integers.
 */
function widthChangeIsSafe(
  local: CoreSpec,
  localTypeId: number,
  target: CoreSpec,
  targetTypeId: number,
): boolean {
  const a = btfTypeById(local.btf, localTypeId);
  const b = btfTypeById(target.btf, targetTypeId);
  if (a.kind === BTF_KIND_PTR && b.kind === BTF_KIND_PTR) return true;
  return (
    a.kind === BTF_KIND_INT &&
    b.kind === BTF_KIND_INT &&
    a.encoding !== BTF_INT_SIGNED &&
    b.encoding !== BTF_INT_SIGNED
  );
}
