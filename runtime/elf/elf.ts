// ELF64 constants and the in-memory model of a relocatable BPF object (what readElf returns and
// what writeElf is given). Names follow <elf.h> and LLVM's BPF relocation names.
import { TsbpfError } from "../error.js";

// e_ident
export const ELFMAG = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;
export const ELFOSABI_NONE = 0;

export const ET_REL = 1;
export const EM_BPF = 247;

export const EHDR_SIZE = 64;
export const SHDR_SIZE = 64;
export const SYM_SIZE = 24;
export const REL_SIZE = 16;
export const RELA_SIZE = 24;

// Section types
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;

// Section flags
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;
export const SHF_INFO_LINK = 0x40;
export const SHF_EXCLUDE = 0x80000000;

// Special section indexes
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// Symbol types, bindings, visibility
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

// BPF relocation types (LLVM's names; binutils calls them R_BPF_INSN_*)
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1; // lddw imm pair: a map or global
export const R_BPF_64_ABS64 = 2; // 64-bit data word
export const R_BPF_64_ABS32 = 3; // 32-bit data word
export const R_BPF_64_NODYLD32 = 4; // 32-bit data word in .BTF.ext
export const R_BPF_64_32 = 10; // call imm: bpf-to-bpf call

/** Bytes a relocation of this type patches, counted from r_offset (undefined: not a BPF type). */
export function relocationWidth(type: number): number | undefined {
  switch (type) {
    case R_BPF_NONE:
      return 0;
    case R_BPF_64_64:
      return 16; // both lddw slots
    case R_BPF_64_ABS64:
    case R_BPF_64_32:
      return 8;
    case R_BPF_64_ABS32:
    case R_BPF_64_NODYLD32:
      return 4;
    default:
      return undefined;
  }
}

export const relocationTypeName = (type: number): string =>
  ({
    [R_BPF_NONE]: "R_BPF_NONE",
    [R_BPF_64_64]: "R_BPF_64_64",
    [R_BPF_64_ABS64]: "R_BPF_64_ABS64",
    [R_BPF_64_ABS32]: "R_BPF_64_ABS32",
    [R_BPF_64_NODYLD32]: "R_BPF_64_NODYLD32",
    [R_BPF_64_32]: "R_BPF_64_32",
  })[type] ?? `R_BPF_${type}`;

/** A malformed ELF file; the message names the section or file offset and the reason. */
export class ElfError extends TsbpfError {}

export interface ElfHeader {
  osabi: number;
  abiVersion: number;
  type: number;
  machine: number;
  version: number;
  entry: number;
  flags: number;
  /** index of the section-name string table */
  shstrndx: number;
}

export interface ElfSection {
  index: number;
  name: string;
  /** sh_name: offset of the name in the section-name string table */
  nameOffset: number;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
  /** the section's bytes in the file (empty for SHT_NOBITS and SHT_NULL) */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  nameOffset: number;
  value: number;
  size: number;
  type: number;
  bind: number;
  /** st_other (visibility in the low 2 bits) */
  other: number;
  visibility: number;
  /** st_shndx: a section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON */
  shndx: number;
}

export interface ElfRelocation {
  offset: number;
  type: number;
  symbol: number;
  /** r_addend for SHT_RELA; 0 for SHT_REL (BPF keeps the addend in the instruction) */
  addend: number;
}

export interface ElfRelocationTable {
  /** the SHT_REL / SHT_RELA section itself */
  section: ElfSection;
  /** the section the relocations patch (sh_info) */
  target: ElfSection;
  entries: ElfRelocation[];
}

export interface ElfFile {
  /** the name used in error messages */
  fileName: string;
  bytes: Uint8Array;
  header: ElfHeader;
  sections: ElfSection[];
  /** the SHT_SYMTAB section, if any */
  symtab: ElfSection | undefined;
  /** symbols of .symtab, index 0 included (the null symbol); empty when there is no .symtab */
  symbols: ElfSymbol[];
  relocations: ElfRelocationTable[];
}

/** "section 3 '.rel.text'" — how errors name a section. */
export function describeSection(section: { index: number; name?: string }): string {
  return section.name !== undefined && section.name !== ""
    ? `section ${section.index} '${section.name}'`
    : `section ${section.index}`;
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}
