// ELF64 little-endian ET_REL EM_BPF reader: header, section headers and names, the symbol table
// and relocation tables. Everything is bounds-checked; any inconsistency is an ElfError naming
// the section (index and name) or the file offset, and the reason.
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
  RELA_SIZE,
  SHDR_SIZE,
  SHN_ABS,
  SHN_COMMON,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_NOBITS,
  SHT_NULL,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
  STT_FUNC,
  STT_OBJECT,
  SYM_SIZE,
  describeSection,
  relocationTypeName,
  relocationWidth,
  type ElfFile,
  type ElfHeader,
  type ElfRelocation,
  type ElfRelocationTable,
  type ElfSection,
  type ElfSymbol,
} from "./elf.js";
import { decodeName } from "./cstring.js";

const TWO_32 = 0x1_0000_0000;

/** Little-endian field access that fails with an ElfError instead of a RangeError. */
class Bytes {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly fileName: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(where: string, reason: string): never {
    throw new ElfError(`${this.fileName}: ${where}: ${reason}`);
  }
  u8(off: number): number {
    return this.bytes[off]!;
  }
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  /** An unsigned 64-bit field as a number; values past 2^53 are refused (never valid here). */
  u64(off: number, where: string, field: string): number {
    const lo = this.view.getUint32(off, true);
    const hi = this.view.getUint32(off + 4, true);
    if (hi >= 0x20_0000) this.fail(where, `${field} 0x${hex64(hi, lo)} is too large`);
    return hi * TWO_32 + lo;
  }
  s64(off: number, where: string, field: string): number {
    const lo = this.view.getUint32(off, true);
    const hi = this.view.getInt32(off + 4, true);
    if (hi >= 0x20_0000 || hi < -0x20_0000)
      this.fail(where, `${field} 0x${hex64(hi >>> 0, lo)} is out of range`);
    return hi * TWO_32 + lo;
  }
}

const hex64 = (hi: number, lo: number): string =>
  hi.toString(16) + lo.toString(16).padStart(8, "0");
const hex = (n: number): string => "0x" + n.toString(16);

/**
 * Reads a relocatable BPF ELF object. `fileName` only serves error messages.
 * Throws ElfError on anything malformed.
 */
export function readElf(bytes: Uint8Array, fileName = "<object>"): ElfFile {
  const b = new Bytes(bytes, fileName);
  const header = readHeader(b);
  const sections = readSectionHeaders(b, header);
  nameSections(b, header, sections);
  checkSections(b, sections);
  checkOverlaps(b, sections, header);
  const symtab = findSymtab(b, sections);
  const symbols = symtab ? readSymbols(b, symtab, sections) : [];
  const relocations = readRelocationTables(b, sections, symtab, symbols);
  return { fileName, bytes, header, sections, symtab, symbols, relocations };
}

// --- header -------------------------------------------------------------------------------

interface RawHeader extends ElfHeader {
  shoff: number;
  shnum: number;
  shentsize: number;
}

function readHeader(b: Bytes): RawHeader {
  const where = "ELF header";
  if (b.bytes.length < EHDR_SIZE)
    b.fail(where, `file is ${b.bytes.length} bytes, too short for the ${EHDR_SIZE}-byte header`);
  for (let i = 0; i < 4; i++) {
    if (b.u8(i) !== ELFMAG[i]) b.fail(where, "bad magic (not an ELF file)");
  }
  if (b.u8(4) !== ELFCLASS64) b.fail(where, `class ${b.u8(4)} is not ELFCLASS64 (2)`);
  if (b.u8(5) !== ELFDATA2LSB)
    b.fail(where, `data encoding ${b.u8(5)} is not little endian (ELFDATA2LSB, 1)`);
  if (b.u8(6) !== EV_CURRENT) b.fail(where, `ident version ${b.u8(6)} is not EV_CURRENT (1)`);
  const type = b.u16(16);
  if (type !== ET_REL) b.fail(where, `type ${type} is not a relocatable object (ET_REL, 1)`);
  const machine = b.u16(18);
  if (machine !== EM_BPF) b.fail(where, `machine ${machine} is not BPF (EM_BPF, 247)`);
  const version = b.u32(20);
  if (version !== EV_CURRENT) b.fail(where, `version ${version} is not EV_CURRENT (1)`);
  const entry = b.u64(24, where, "e_entry");
  const shoff = b.u64(40, where, "e_shoff");
  const ehsize = b.u16(52);
  if (ehsize !== EHDR_SIZE) b.fail(where, `e_ehsize ${ehsize} is not ${EHDR_SIZE}`);
  const shentsize = b.u16(58);
  const shnum = b.u16(60);
  const shstrndx = b.u16(62);
  return {
    osabi: b.u8(7),
    abiVersion: b.u8(8),
    type,
    machine,
    version,
    entry,
    flags: b.u32(48),
    shstrndx,
    shoff,
    shnum,
    shentsize,
  };
}

// --- section headers ------------------------------------------------------------------------

function readSectionHeaders(b: Bytes, h: RawHeader): ElfSection[] {
  if (h.shoff === 0) {
    if (h.shnum !== 0) b.fail("ELF header", `${h.shnum} sections but e_shoff is 0`);
    return [];
  }
  if (h.shentsize !== SHDR_SIZE)
    b.fail("ELF header", `e_shentsize ${h.shentsize} is not ${SHDR_SIZE}`);
  if (h.shoff % 8 !== 0)
    b.fail("ELF header", `section header table offset ${hex(h.shoff)} is not 8-aligned`);
  if (h.shoff + SHDR_SIZE > b.bytes.length)
    b.fail(
      "ELF header",
      `section header table at ${hex(h.shoff)} is past the end of the file (${b.bytes.length} bytes)`,
    );
  // Extended numbering: section 0 holds the real count and string-table index.
  let shnum = h.shnum;
  if (shnum === 0) shnum = b.u64(h.shoff + 32, "section 0", "sh_size (section count)");
  if (h.shstrndx === SHN_XINDEX) h.shstrndx = b.u32(h.shoff + 40);
  if (shnum === 0) b.fail("ELF header", "e_shoff is set but there are no sections");
  const end = h.shoff + shnum * SHDR_SIZE;
  if (end > b.bytes.length)
    b.fail(
      "ELF header",
      `section header table (${shnum} entries at ${hex(h.shoff)}) runs past the end of the file (${b.bytes.length} bytes)`,
    );
  const sections: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) sections.push(readSectionHeader(b, h.shoff + i * SHDR_SIZE, i));
  if (sections[0]!.type !== SHT_NULL)
    b.fail("section 0", `type ${sections[0]!.type} is not SHT_NULL`);
  return sections;
}

function readSectionHeader(b: Bytes, off: number, index: number): ElfSection {
  const where = `section ${index} header at ${hex(off)}`;
  const type = b.u32(off + 4);
  const offset = b.u64(off + 24, where, "sh_offset");
  const size = b.u64(off + 32, where, "sh_size");
  const hasData = type !== SHT_NOBITS && type !== SHT_NULL && index !== 0;
  if (hasData && offset + size > b.bytes.length)
    b.fail(
      `section ${index}`,
      `data [${hex(offset)}, ${hex(offset + size)}) runs past the end of the file (${b.bytes.length} bytes)`,
    );
  return {
    index,
    name: "",
    nameOffset: b.u32(off),
    type,
    flags: b.u64(off + 8, where, "sh_flags"),
    addr: b.u64(off + 16, where, "sh_addr"),
    offset,
    size,
    link: b.u32(off + 40),
    info: b.u32(off + 44),
    addralign: b.u64(off + 48, where, "sh_addralign"),
    entsize: b.u64(off + 56, where, "sh_entsize"),
    data: hasData ? b.bytes.subarray(offset, offset + size) : new Uint8Array(0),
  };
}

function nameSections(b: Bytes, h: RawHeader, sections: ElfSection[]): void {
  if (sections.length === 0) return;
  if (h.shstrndx === SHN_UNDEF) {
    // No section names at all: legal ELF, but every section then has an empty name.
    return;
  }
  if (h.shstrndx >= sections.length)
    b.fail(
      "ELF header",
      `section-name string table index ${h.shstrndx} is out of range (${sections.length} sections)`,
    );
  const shstrtab = sections[h.shstrndx]!;
  if (shstrtab.type !== SHT_STRTAB)
    b.fail(
      describeSection(shstrtab),
      `section-name string table has type ${shstrtab.type}, not SHT_STRTAB`,
    );
  for (const s of sections) {
    if (s.index === 0) continue;
    s.name = readString(b, shstrtab, s.nameOffset, `section ${s.index} name`);
  }
}

/** A NUL-terminated string at `off` within string table `table`. */
function readString(b: Bytes, table: ElfSection, off: number, what: string): string {
  if (off === 0 && table.size === 0) return "";
  if (off >= table.data.length)
    b.fail(
      describeSection(table),
      `${what}: string offset ${off} is past the end of the table (${table.data.length} bytes)`,
    );
  const end = table.data.indexOf(0, off);
  if (end < 0)
    b.fail(describeSection(table), `${what}: string at offset ${off} is not NUL-terminated`);
  return decodeName(table.data, off, end);
}

function checkSections(b: Bytes, sections: ElfSection[]): void {
  for (const s of sections) {
    if (s.index === 0) continue;
    const where = describeSection(s);
    if (s.addralign !== 0 && (s.addralign & (s.addralign - 1)) !== 0 && s.addralign < TWO_32)
      b.fail(where, `alignment ${s.addralign} is not a power of two`);
    if (s.addralign >= TWO_32) b.fail(where, `alignment ${s.addralign} is too large`);
    const entsize = { [SHT_SYMTAB]: SYM_SIZE, [SHT_REL]: REL_SIZE, [SHT_RELA]: RELA_SIZE }[s.type];
    if (entsize !== undefined) {
      if (s.entsize !== entsize) b.fail(where, `entry size ${s.entsize} is not ${entsize}`);
      if (s.size % entsize !== 0)
        b.fail(where, `size ${s.size} is not a multiple of the entry size ${entsize}`);
    }
  }
}

/** No section's bytes may overlap the ELF header, the section header table or another section. */
function checkOverlaps(b: Bytes, sections: ElfSection[], h: RawHeader): void {
  const ranges: { start: number; end: number; what: string }[] = [
    { start: 0, end: EHDR_SIZE, what: "the ELF header" },
  ];
  if (sections.length > 0)
    ranges.push({
      start: h.shoff,
      end: h.shoff + sections.length * SHDR_SIZE,
      what: "the section header table",
    });
  for (const s of sections) {
    if (s.data.length > 0)
      ranges.push({ start: s.offset, end: s.offset + s.size, what: describeSection(s) });
  }
  ranges.sort((x, y) => x.start - y.start || x.end - y.end);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1]!;
    const cur = ranges[i]!;
    if (cur.start < prev.end)
      b.fail(
        cur.what,
        `file range [${hex(cur.start)}, ${hex(cur.end)}) overlaps ${prev.what} [${hex(prev.start)}, ${hex(prev.end)})`,
      );
  }
}

// --- symbols --------------------------------------------------------------------------------

function findSymtab(b: Bytes, sections: ElfSection[]): ElfSection | undefined {
  const tables = sections.filter((s) => s.type === SHT_SYMTAB);
  if (tables.length > 1)
    b.fail(
      describeSection(tables[1]!),
      `a second symbol table (the first is ${describeSection(tables[0]!)})`,
    );
  return tables[0];
}

function readSymbols(b: Bytes, symtab: ElfSection, sections: ElfSection[]): ElfSymbol[] {
  const where = describeSection(symtab);
  if (symtab.link === 0 || symtab.link >= sections.length)
    b.fail(where, `string table index ${symtab.link} (sh_link) is out of range`);
  const strtab = sections[symtab.link]!;
  if (strtab.type !== SHT_STRTAB)
    b.fail(
      where,
      `sh_link ${symtab.link} is ${describeSection(strtab)} of type ${strtab.type}, not SHT_STRTAB`,
    );
  const count = symtab.size / SYM_SIZE;
  if (symtab.info > count)
    b.fail(
      where,
      `first global symbol index ${symtab.info} (sh_info) is past the ${count} symbols`,
    );
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < count; i++) symbols.push(readSymbol(b, symtab, strtab, sections, i));
  return symbols;
}

function readSymbol(
  b: Bytes,
  symtab: ElfSection,
  strtab: ElfSection,
  sections: ElfSection[],
  index: number,
): ElfSymbol {
  const off = symtab.offset + index * SYM_SIZE;
  const where = `${describeSection(symtab)}: symbol ${index}`;
  const nameOffset = b.u32(off);
  const info = b.u8(off + 4);
  const other = b.u8(off + 5);
  const shndx = b.u16(off + 6);
  const value = b.u64(off + 8, where, "st_value");
  const size = b.u64(off + 16, where, "st_size");
  const name = readString(b, strtab, nameOffset, `symbol ${index} name`);
  const sym: ElfSymbol = {
    index,
    name,
    nameOffset,
    value,
    size,
    type: info & 0xf,
    bind: info >> 4,
    other,
    visibility: other & 0x3,
    shndx,
  };
  checkSymbolSection(b, sym, sections, `${where} '${name}'`);
  return sym;
}

function checkSymbolSection(b: Bytes, sym: ElfSymbol, sections: ElfSection[], where: string): void {
  const { shndx } = sym;
  if (shndx === SHN_UNDEF || shndx === SHN_ABS || shndx === SHN_COMMON) return;
  if (shndx === SHN_XINDEX) b.fail(where, "extended section index (SHN_XINDEX) is not supported");
  if (shndx >= SHN_LORESERVE) b.fail(where, `reserved section index ${hex(shndx)}`);
  if (shndx >= sections.length)
    b.fail(where, `section index ${shndx} is out of range (${sections.length} sections)`);
  const section = sections[shndx]!;
  if ((sym.type === STT_FUNC || sym.type === STT_OBJECT) && sym.value + sym.size > section.size)
    b.fail(
      where,
      `[${hex(sym.value)}, ${hex(sym.value + sym.size)}) runs past the end of ${describeSection(section)} (${section.size} bytes)`,
    );
}

// --- relocations ----------------------------------------------------------------------------

function readRelocationTables(
  b: Bytes,
  sections: ElfSection[],
  symtab: ElfSection | undefined,
  symbols: ElfSymbol[],
): ElfRelocationTable[] {
  const tables: ElfRelocationTable[] = [];
  for (const s of sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    const where = describeSection(s);
    if (!symtab) b.fail(where, "relocations but no symbol table");
    if (s.link !== symtab.index)
      b.fail(
        where,
        `symbol table index ${s.link} (sh_link) is not the symbol table (section ${symtab.index})`,
      );
    if (s.info === 0 || s.info >= sections.length)
      b.fail(
        where,
        `target section index ${s.info} (sh_info) is out of range (${sections.length} sections)`,
      );
    const target = sections[s.info]!;
    if (target.type === SHT_REL || target.type === SHT_RELA || target.type === SHT_NULL)
      b.fail(where, `target ${describeSection(target)} cannot be relocated`);
    tables.push({ section: s, target, entries: readRelocations(b, s, target, symbols) });
  }
  return tables;
}

function readRelocations(
  b: Bytes,
  s: ElfSection,
  target: ElfSection,
  symbols: ElfSymbol[],
): ElfRelocation[] {
  const withAddend = s.type === SHT_RELA;
  const entsize = withAddend ? RELA_SIZE : REL_SIZE;
  const count = s.size / entsize;
  const entries: ElfRelocation[] = [];
  for (let i = 0; i < count; i++) {
    const off = s.offset + i * entsize;
    const where = `${describeSection(s)}: relocation ${i}`;
    const offset = b.u64(off, where, "r_offset");
    const type = b.u32(off + 8);
    const symbol = b.u32(off + 12);
    const addend = withAddend ? b.s64(off + 16, where, "r_addend") : 0;
    const width = relocationWidth(type);
    if (width === undefined)
      b.fail(where, `unknown relocation type ${type} (not a BPF relocation)`);
    if (symbol >= symbols.length)
      b.fail(where, `symbol index ${symbol} is out of range (${symbols.length} symbols)`);
    if (offset + width > target.data.length)
      b.fail(
        where,
        `${relocationTypeName(type)} at offset ${hex(offset)} (${width} bytes) is past the end of ${describeSection(target)} (${target.data.length} bytes)`,
      );
    entries.push({ offset, type, symbol, addend });
  }
  return entries;
}
