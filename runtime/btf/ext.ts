// The .BTF.ext model: per-section func_info, line_info and CO-RE relocation records, as
// libbpf's btf_ext format lays them out. Offsets (insnOff) are byte offsets in the ELF section,
// as clang writes them; names are offsets in the .BTF string section.

export const BTF_EXT_HEADER_SIZE = 24; // up to line_info_len
export const BTF_EXT_HEADER_SIZE_CORE = 32; // with core_relo_off/len

/** Smallest record sizes the format allows (bigger ones carry unknown trailing fields). */
export const BPF_FUNC_INFO_SIZE = 8;
export const BPF_LINE_INFO_SIZE = 16;
export const BPF_CORE_RELO_SIZE = 16;

/** enum bpf_core_relo_kind (linux/bpf.h) */
export const BPF_CORE_FIELD_BYTE_OFFSET = 0;
export const BPF_CORE_FIELD_BYTE_SIZE = 1;
export const BPF_CORE_FIELD_EXISTS = 2;
export const BPF_CORE_FIELD_SIGNED = 3;
export const BPF_CORE_FIELD_LSHIFT_U64 = 4;
export const BPF_CORE_FIELD_RSHIFT_U64 = 5;
export const BPF_CORE_TYPE_ID_LOCAL = 6;
export const BPF_CORE_TYPE_ID_TARGET = 7;
export const BPF_CORE_TYPE_EXISTS = 8;
export const BPF_CORE_TYPE_SIZE = 9;
export const BPF_CORE_ENUMVAL_EXISTS = 10;
export const BPF_CORE_ENUMVAL_VALUE = 11;
export const BPF_CORE_TYPE_MATCHES = 12;

export interface BtfExtRecord {
  /** byte offset of the instruction within its section */
  insnOff: number;
  /** bytes past the known fields when the record size is larger than the known struct */
  tail?: Uint8Array;
}

export interface BpfFuncInfoRecord extends BtfExtRecord {
  /** the BTF FUNC */
  typeId: number;
}

export interface BpfLineInfoRecord extends BtfExtRecord {
  fileNameOff: number;
  lineOff: number;
  /** line << 10 | column */
  lineCol: number;
}

export interface BpfCoreReloRecord extends BtfExtRecord {
  typeId: number;
  accessStrOff: number;
  /** BPF_CORE_* */
  kind: number;
}

/** The records of one ELF section. */
export interface BtfExtBlock<R> {
  secNameOff: number;
  /** resolved through the .BTF strings when they were given to the parser */
  secName: string;
  records: R[];
}

export interface BtfExtInfo<R> {
  recordSize: number;
  blocks: BtfExtBlock<R>[];
}

export interface BtfExt {
  version: number;
  flags: number;
  /** 24 (func and line info only) or 32 (with CO-RE relocations) */
  hdrLen: number;
  funcInfo: BtfExtInfo<BpfFuncInfoRecord>;
  lineInfo: BtfExtInfo<BpfLineInfoRecord>;
  coreRelo: BtfExtInfo<BpfCoreReloRecord>;
}

export const lineOf = (lineCol: number): number => lineCol >>> 10;
export const columnOf = (lineCol: number): number => lineCol & 0x3ff;
