// The CO-RE relocation kinds (enum bpf_core_relo_kind) grouped as libbpf groups them, with the
// short names its messages use.
import { BpfCoreReloKind as K } from "../uapi/bpf.js";

const KIND_NAMES: Record<number, string> = {
  [K.BPF_CORE_FIELD_BYTE_OFFSET]: "byte_off",
  [K.BPF_CORE_FIELD_BYTE_SIZE]: "byte_sz",
  [K.BPF_CORE_FIELD_EXISTS]: "field_exists",
  [K.BPF_CORE_FIELD_SIGNED]: "signed",
  [K.BPF_CORE_FIELD_LSHIFT_U64]: "lshift_u64",
  [K.BPF_CORE_FIELD_RSHIFT_U64]: "rshift_u64",
  [K.BPF_CORE_TYPE_ID_LOCAL]: "local_type_id",
  [K.BPF_CORE_TYPE_ID_TARGET]: "target_type_id",
  [K.BPF_CORE_TYPE_EXISTS]: "type_exists",
  [K.BPF_CORE_TYPE_MATCHES]: "type_matches",
  [K.BPF_CORE_TYPE_SIZE]: "type_size",
  [K.BPF_CORE_ENUMVAL_EXISTS]: "enumval_exists",
  [K.BPF_CORE_ENUMVAL_VALUE]: "enumval_value",
};

/** "byte_off", "field_exists", ... ("unknown" for a kind libbpf does not know). */
export const coreReloKindName = (kind: number): string => KIND_NAMES[kind] ?? "unknown";

/** Kinds that follow an access string into a struct: offsets, sizes, existence, bit-fields. */
export const isFieldBased = (kind: number): boolean =>
  kind >= K.BPF_CORE_FIELD_BYTE_OFFSET && kind <= K.BPF_CORE_FIELD_RSHIFT_U64;

/** Kinds about a whole type: ids, existence, size, structural match. */
export const isTypeBased = (kind: number): boolean =>
  (kind >= K.BPF_CORE_TYPE_ID_LOCAL && kind <= K.BPF_CORE_TYPE_SIZE) ||
  kind === K.BPF_CORE_TYPE_MATCHES;

/** Kinds about one enumerator of an enum. */
export const isEnumvalBased = (kind: number): boolean =>
  kind === K.BPF_CORE_ENUMVAL_EXISTS || kind === K.BPF_CORE_ENUMVAL_VALUE;
