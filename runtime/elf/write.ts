// ELF64 ET_REL EM_BPF writer, laid out the way clang -target bpf lays out its objects:
//
//   section headers: [0] null, [1] .strtab, then each content section followed by its
//   .rel<name> (when it has relocations), and .symtab last;
//   file: ELF header, content sections in header order (each at its alignment), .symtab,
//   the .rel sections, .strtab, then the section header table.
//
// One string table (.strtab) holds both section and symbol names, as in clang's output.
// Symbols: the null symbol, then locals, then globals (sh_info = first global).
import {
  EHDR_SIZE,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFMAG,
  EM_BPF,
  ET_REL,
  EV_CURRENT,
  ElfError,
  REL_SIZE,
  SHDR_SIZE,
  SHF_INFO_LINK,
  SHN_ABS,
  SHN_COMMON,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_NULL,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_LOCAL,
  SYM_SIZE,
  type ElfFile,
} from "./elf.js";

export interface ElfRelocationSpec {
  /** r_offset: byte offset in the section being relocated */
  offset: number;
  /** R_BPF_* type */
  type: number;
  /** index into ElfObjectSpec.symbols */
  symbol: number;
}

export interface ElfSectionSpec {
  name: string;
  type: number;
  flags: number;
  /** contents (omit for SHT_NOBITS) */
  data?: Uint8Array;
  /** size of a SHT_NOBITS section */
  size?: number;
  addralign: number;
  entsize?: number;
  /** written as a .rel<name> section right after this one */
  relocations?: ElfRelocationSpec[];
}

export interface ElfSymbolSpec {
  name: string;
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* */
  bind: number;
  /** STV_* (default STV_DEFAULT) */
  visibility?: number;
  /** index into ElfObjectSpec.sections, or a special section */
  section: number | "UNDEF" | "ABS" | "COMMON";
}

export interface ElfObjectSpec {
  sections: ElfSectionSpec[];
  symbols: ElfSymbolSpec[];
  /** e_flags (0 for BPF) */
  flags?: number;
}

const TWO_32 = 0x1_0000_0000;
const utf8 = new TextEncoder();

/** Writes a relocatable BPF object. Throws ElfError when the spec is inconsistent. */
export function writeElf(spec: ElfObjectSpec): Uint8Array {
  checkSpec(spec);
  const symbols = orderSymbols(spec);
  const strtab = new StringTableBuilder();
  const plan = planSections(spec, strtab);
  for (const s of symbols.ordered) strtab.add(s.name);
  const strtabBytes = strtab.finish();
  const symtabBytes = encodeSymbols(symbols.ordered, plan.specIndexToHeader, strtab);
  const relBytes = plan.rels.map((r) => encodeRelocations(r.relocations, symbols.newIndex));
  return layOut(spec, plan, strtab, strtabBytes, symtabBytes, relBytes, symbols.firstGlobal);
}

function checkSpec(spec: ElfObjectSpec): void {
  spec.sections.forEach((s, i) => {
    const where = `section spec ${i} '${s.name}'`;
    if (s.addralign < 0 || (s.addralign !== 0 && (s.addralign & (s.addralign - 1)) !== 0))
      throw new ElfError(`${where}: alignment ${s.addralign} is not a power of two`);
    if (s.type === SHT_NOBITS && s.data !== undefined && s.data.length > 0)
      throw new ElfError(`${where}: SHT_NOBITS section given contents`);
    for (const [j, r] of (s.relocations ?? []).entries()) {
      if (!Number.isInteger(r.symbol) || r.symbol < 0 || r.symbol >= spec.symbols.length)
        throw new ElfError(`${where}: relocation ${j}: symbol ${r.symbol} is out of range`);
    }
  });
  spec.symbols.forEach((s, i) => {
    if (typeof s.section === "number" && (s.section < 0 || s.section >= spec.sections.length))
      throw new ElfError(`symbol spec ${i} '${s.name}': section ${s.section} is out of range`);
  });
}

// --- symbols --------------------------------------------------------------------------------

interface OrderedSymbols {
  /** the null symbol is not included; output index = position + 1 */
  ordered: ElfSymbolSpec[];
  /** spec symbol index -> output symbol index */
  newIndex: number[];
  firstGlobal: number;
}

function orderSymbols(spec: ElfObjectSpec): OrderedSymbols {
  const locals: number[] = [];
  const globals: number[] = [];
  spec.symbols.forEach((s, i) => (s.bind === STB_LOCAL ? locals : globals).push(i));
  const order = [...locals, ...globals];
  const newIndex = new Array<number>(spec.symbols.length);
  order.forEach((specIndex, pos) => (newIndex[specIndex] = pos + 1));
  return {
    ordered: order.map((i) => spec.symbols[i]!),
    newIndex,
    firstGlobal: locals.length + 1,
  };
}

function encodeSymbols(
  symbols: ElfSymbolSpec[],
  specIndexToHeader: number[],
  strtab: StringTableBuilder,
): Uint8Array {
  const out = new Uint8Array((symbols.length + 1) * SYM_SIZE);
  const view = new DataView(out.buffer);
  symbols.forEach((s, i) => {
    const off = (i + 1) * SYM_SIZE;
    view.setUint32(off, s.name === "" ? 0 : strtab.offsetOf(s.name), true);
    out[off + 4] = ((s.bind & 0xf) << 4) | (s.type & 0xf);
    out[off + 5] = (s.visibility ?? 0) & 0x3;
    view.setUint16(off + 6, sectionIndexOf(s.section, specIndexToHeader), true);
    setU64(view, off + 8, s.value);
    setU64(view, off + 16, s.size);
  });
  return out;
}

function sectionIndexOf(section: ElfSymbolSpec["section"], specIndexToHeader: number[]): number {
  if (section === "UNDEF") return SHN_UNDEF;
  if (section === "ABS") return SHN_ABS;
  if (section === "COMMON") return SHN_COMMON;
  return specIndexToHeader[section]!;
}

function encodeRelocations(relocations: ElfRelocationSpec[], newIndex: number[]): Uint8Array {
  const out = new Uint8Array(relocations.length * REL_SIZE);
  const view = new DataView(out.buffer);
  relocations.forEach((r, i) => {
    setU64(view, i * REL_SIZE, r.offset);
    view.setUint32(i * REL_SIZE + 8, r.type, true);
    view.setUint32(i * REL_SIZE + 12, newIndex[r.symbol]!, true);
  });
  return out;
}

function setU64(view: DataView, off: number, value: number): void {
  view.setUint32(off, value % TWO_32, true);
  view.setUint32(off + 4, Math.floor(value / TWO_32), true);
}

// --- sections -------------------------------------------------------------------------------

interface SectionPlan {
  /** spec section index -> section header index */
  specIndexToHeader: number[];
  /** relocation sections in header order */
  rels: {
    headerIndex: number;
    targetHeader: number;
    name: string;
    relocations: ElfRelocationSpec[];
  }[];
  symtabIndex: number;
  count: number;
}

function planSections(spec: ElfObjectSpec, strtab: StringTableBuilder): SectionPlan {
  strtab.add(".strtab");
  strtab.add(".symtab");
  let next = 2; // [0] null, [1] .strtab
  const specIndexToHeader: number[] = [];
  const rels: SectionPlan["rels"] = [];
  spec.sections.forEach((s, i) => {
    strtab.add(s.name);
    specIndexToHeader[i] = next++;
    if (s.relocations && s.relocations.length > 0) {
      const name = ".rel" + s.name;
      strtab.add(name);
      rels.push({
        headerIndex: next++,
        targetHeader: specIndexToHeader[i]!,
        name,
        relocations: s.relocations,
      });
    }
  });
  return { specIndexToHeader, rels, symtabIndex: next, count: next + 1 };
}

interface SectionHeader {
  name: number;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

function layOut(
  spec: ElfObjectSpec,
  plan: SectionPlan,
  strtab: StringTableBuilder,
  strtabBytes: Uint8Array,
  symtabBytes: Uint8Array,
  relBytes: Uint8Array[],
  firstGlobal: number,
): Uint8Array {
  const headers: SectionHeader[] = new Array(plan.count);
  const chunks: { offset: number; bytes: Uint8Array }[] = [];
  let pos = EHDR_SIZE;
  const place = (bytes: Uint8Array, align: number): number => {
    pos = alignUp(pos, Math.max(align, 1));
    const offset = pos;
    chunks.push({ offset, bytes });
    pos += bytes.length;
    return offset;
  };
  headers[0] = {
    name: 0,
    type: SHT_NULL,
    flags: 0,
    offset: 0,
    size: 0,
    link: 0,
    info: 0,
    addralign: 0,
    entsize: 0,
  };
  spec.sections.forEach((s, i) => {
    const isNobits = s.type === SHT_NOBITS;
    const data = isNobits ? new Uint8Array(0) : (s.data ?? new Uint8Array(0));
    const offset = isNobits ? alignUp(pos, Math.max(s.addralign, 1)) : place(data, s.addralign);
    headers[plan.specIndexToHeader[i]!] = {
      name: strtab.offsetOf(s.name),
      type: s.type,
      flags: s.flags,
      offset,
      size: isNobits ? (s.size ?? 0) : data.length,
      link: 0,
      info: 0,
      addralign: s.addralign,
      entsize: s.entsize ?? 0,
    };
  });
  headers[plan.symtabIndex] = {
    name: strtab.offsetOf(".symtab"),
    type: SHT_SYMTAB,
    flags: 0,
    offset: place(symtabBytes, 8),
    size: symtabBytes.length,
    link: 1,
    info: firstGlobal,
    addralign: 8,
    entsize: SYM_SIZE,
  };
  plan.rels.forEach((r, i) => {
    headers[r.headerIndex] = {
      name: strtab.offsetOf(r.name),
      type: SHT_REL,
      flags: SHF_INFO_LINK,
      offset: place(relBytes[i]!, 8),
      size: relBytes[i]!.length,
      link: plan.symtabIndex,
      info: r.targetHeader,
      addralign: 8,
      entsize: REL_SIZE,
    };
  });
  headers[1] = {
    name: strtab.offsetOf(".strtab"),
    type: SHT_STRTAB,
    flags: 0,
    offset: place(strtabBytes, 1),
    size: strtabBytes.length,
    link: 0,
    info: 0,
    addralign: 1,
    entsize: 0,
  };
  const shoff = alignUp(pos, 8);
  const out = new Uint8Array(shoff + plan.count * SHDR_SIZE);
  for (const c of chunks) out.set(c.bytes, c.offset);
  const view = new DataView(out.buffer);
  writeHeader(out, view, shoff, plan.count, spec.flags ?? 0);
  headers.forEach((h, i) => writeSectionHeader(view, shoff + i * SHDR_SIZE, h));
  return out;
}

const alignUp = (n: number, align: number): number => Math.ceil(n / align) * align;

function writeHeader(
  out: Uint8Array,
  view: DataView,
  shoff: number,
  shnum: number,
  flags: number,
): void {
  out.set(ELFMAG, 0);
  out[4] = ELFCLASS64;
  out[5] = ELFDATA2LSB;
  out[6] = EV_CURRENT;
  view.setUint16(16, ET_REL, true);
  view.setUint16(18, EM_BPF, true);
  view.setUint32(20, EV_CURRENT, true);
  setU64(view, 40, shoff);
  view.setUint32(48, flags, true);
  view.setUint16(52, EHDR_SIZE, true);
  view.setUint16(58, SHDR_SIZE, true);
  view.setUint16(60, shnum, true);
  view.setUint16(62, 1, true); // .strtab names the sections
}

function writeSectionHeader(view: DataView, off: number, h: SectionHeader): void {
  view.setUint32(off, h.name, true);
  view.setUint32(off + 4, h.type, true);
  setU64(view, off + 8, h.flags);
  setU64(view, off + 24, h.offset);
  setU64(view, off + 32, h.size);
  view.setUint32(off + 40, h.link, true);
  view.setUint32(off + 44, h.info, true);
  setU64(view, off + 48, h.addralign);
  setU64(view, off + 56, h.entsize);
}

// --- string table ---------------------------------------------------------------------------

/** A string table where a name that ends another name shares its bytes (".text" in ".rel.text"). */
class StringTableBuilder {
  private readonly names = new Set<string>();
  private offsets: Map<string, number> | undefined;

  add(name: string): void {
    if (name !== "") this.names.add(name);
  }

  finish(): Uint8Array {
    // Sorting by reversed name puts every name right after the longer names it ends.
    const keyed = [...this.names].map((name) => ({ name, key: reversed(name) }));
    keyed.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    this.offsets = new Map([["", 0]]);
    // (an ASCII name's bytes are its char codes; others are encoded once, here)
    const written: { name: string; offset: number; bytes: Uint8Array | undefined }[] = [];
    let size = 1;
    let prev: { name: string; offset: number; length: number } | undefined;
    for (const { name } of keyed) {
      const bytes = isAscii(name) ? undefined : utf8.encode(name);
      const length = bytes?.length ?? name.length;
      if (prev && prev.name.endsWith(name)) {
        this.offsets.set(name, prev.offset + prev.length - length);
        continue;
      }
      this.offsets.set(name, size);
      prev = { name, offset: size, length };
      written.push({ name, offset: size, bytes });
      size += length + 1;
    }
    const out = new Uint8Array(size);
    for (const { name, offset, bytes } of written) {
      if (bytes !== undefined) out.set(bytes, offset);
      else for (let i = 0; i < name.length; i++) out[offset + i] = name.charCodeAt(i);
    }
    return out;
  }

  offsetOf(name: string): number {
    const off = this.offsets?.get(name);
    if (off === undefined)
      throw new ElfError(`internal: name '${name}' missing from the string table`);
    return off;
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** `s` backwards, by code points. */
function reversed(s: string): string {
  if (!isAscii(s)) return [...s].reverse().join("");
  let r = "";
  for (let i = s.length - 1; i >= 0; i--) r += s[i];
  return r;
}

// --- from a read object ---------------------------------------------------------------------

/**
 * The spec that writes `elf` again: every section except the string and symbol tables,
 * the relocation sections (attached to their targets) and .llvm_addrsig, which are rebuilt
 * (or, for .llvm_addrsig, dropped).
 */
export function specFromElf(elf: ElfFile): ElfObjectSpec {
  const rebuilt = new Set<number>([0]);
  for (const s of elf.sections) {
    if (s.type === SHT_STRTAB || s.type === SHT_SYMTAB || s.type === SHT_REL || s.type === SHT_RELA)
      rebuilt.add(s.index);
    if (s.type === 0x6fff4c03) rebuilt.add(s.index); // SHT_LLVM_ADDRSIG
  }
  const specIndex = new Map<number, number>();
  const sections: ElfSectionSpec[] = [];
  for (const s of elf.sections) {
    if (rebuilt.has(s.index)) continue;
    specIndex.set(s.index, sections.length);
    sections.push({
      name: s.name,
      type: s.type,
      flags: s.flags,
      ...(s.type === SHT_NOBITS ? { size: s.size } : { data: s.data }),
      addralign: s.addralign,
      entsize: s.entsize,
    });
  }
  const symbols: ElfSymbolSpec[] = elf.symbols.slice(1).map((s) => ({
    name: s.name,
    value: s.value,
    size: s.size,
    type: s.type,
    bind: s.bind,
    visibility: s.visibility,
    section: symbolSection(s.shndx, specIndex, s.name),
  }));
  for (const table of elf.relocations) {
    const target = specIndex.get(table.target.index);
    if (target === undefined) continue;
    const spec = sections[target]!;
    spec.relocations = [
      ...(spec.relocations ?? []),
      ...table.entries.map((r) => ({ offset: r.offset, type: r.type, symbol: r.symbol - 1 })),
    ];
  }
  return { sections, symbols, flags: elf.header.flags };
}

function symbolSection(
  shndx: number,
  specIndex: Map<number, number>,
  name: string,
): ElfSymbolSpec["section"] {
  if (shndx === SHN_UNDEF) return "UNDEF";
  if (shndx === SHN_ABS) return "ABS";
  if (shndx === SHN_COMMON) return "COMMON";
  const index = specIndex.get(shndx);
  if (index === undefined)
    throw new ElfError(`symbol '${name}' is defined in section ${shndx}, which is not rewritten`);
  return index;
}
