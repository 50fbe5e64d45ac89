// The open phase of a BPF object (libbpf's bpf_object__open): read the ELF and its BTF, find
// license, kern_version, programs (one per STT_FUNC symbol of each executable section), map
// definitions and global-data maps, and record every relocation against the instruction it
// patches — without creating anything or applying any relocation (that is the loader's job).
// `__kconfig` and `__ksym` externs are collected (runtime/core/externs.ts) and, as in libbpf,
// the `.kconfig` externs get an internal read-only array map after the global-data maps; the
// loader fills it and resolves the ksyms against the kernel it loads into.
import { parseBtf } from "../btf/parse.js";
import { parseBtfExt } from "../btf/ext-parse.js";
import { columnOf, lineOf, type BtfExt } from "../btf/ext.js";
import type { Btf } from "../btf/btf.js";
import {
  R_BPF_64_32,
  R_BPF_64_64,
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_REL,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FUNC,
  STT_SECTION,
  STV_HIDDEN,
  STV_INTERNAL,
  describeSection,
  relocationTypeName,
  type ElfFile,
  type ElfRelocation,
  type ElfRelocationTable,
  type ElfSection,
  type ElfSymbol,
} from "../elf/elf.js";
import { readElf } from "../elf/read.js";
import { decodeProgram } from "../isa/codec.js";
import type { Insn } from "../isa/insn.js";
import { BPF_CALL, BPF_JMP, BPF_LDDW, BPF_PSEUDO_CALL } from "../isa/opcodes.js";
import { collectExterns, kconfigSize, type BpfExtern } from "../core/externs.js";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from "../uapi/bpf.js";
import { ObjectError } from "./error.js";
import { fixupDatasecs } from "./btf-fixup.js";
import {
  collectBtfMaps,
  collectGlobalDataMaps,
  collectLegacyMaps,
  collectMapSlots,
  internalMapName,
  isGlobalDataSection,
  type BpfMapDef,
  type MapContext,
} from "./maps.js";
import { BpfMapType, BpfProgType } from "../uapi/bpf.js";
import {
  SectionNameError,
  parseAttachTarget,
  parseSectionName,
  type AttachTarget,
  type ParsedSection,
} from "../uapi/sections.js";

/** A relocation the loader must apply to instruction `insn` (an index within the program). */
export type ProgramRelocation =
  /** lddw of a map (legacy or BTF-defined): becomes BPF_PSEUDO_MAP_FD */
  | { kind: "map"; insn: number; symbol: string; map: number }
  /** lddw of a global: BPF_PSEUDO_MAP_VALUE, value offset = `offset` + the lddw's imm */
  | { kind: "data"; insn: number; symbol: string; map: number; offset: number }
  /** bpf-to-bpf call into .text: the callee starts at slot `target` of .text */
  | { kind: "call"; insn: number; symbol: string; target: number; subprogram: string }
  /** lddw of a .text function's address (callbacks): BPF_PSEUDO_FUNC */
  | { kind: "subprog_addr"; insn: number; symbol: string; target: number; subprogram: string };

/**
 * A reference to an extern the loader resolves at instruction `insn`: an lddw of a `__kconfig`
 * variable (the `.kconfig` map's value at the extern's offset) or of a `__ksym` (its address),
 * or a call of an extern kernel function. `extern` indexes BpfObject.externs.
 */
export interface ExternRelocation {
  insn: number;
  symbol: string;
  extern: number;
}

export interface BpfFuncInfo {
  /** instruction index within the program */
  insn: number;
  /** the BTF FUNC */
  typeId: number;
}

export interface BpfLineInfo {
  insn: number;
  fileNameOff: number;
  lineOff: number;
  fileName: string;
  /** the source line text clang recorded */
  source: string;
  line: number;
  column: number;
}

export interface BpfCoreRelo {
  insn: number;
  typeId: number;
  accessStrOff: number;
  accessStr: string;
  kind: number;
}

export interface BpfProgram {
  /** the function's symbol name */
  name: string;
  /** the ELF section name, '?' included */
  sectionName: string;
  sectionIndex: number;
  /** the program's first slot within its section */
  sectionInsnOffset: number;
  insns: Insn[];
  /** from the section name; BPF_PROG_TYPE_UNSPEC when it matched no definition (may be set) */
  type: number;
  expectedAttachType: number;
  /** the section name read the libbpf way; undefined for .text and for unknown names */
  section: ParsedSection | undefined;
  /** where the program auto-attaches; undefined for bare names (SEC("kprobe")) and others */
  attach: AttachTarget | undefined;
  /** why the section's attach target is unusable (libbpf fails at attach time, not at open) */
  attachError: string | undefined;
  /** false for SEC("?...") and for .text subprograms */
  autoload: boolean;
  sleepable: boolean;
  /** a non-local symbol */
  global: boolean;
  /** global but STV_HIDDEN/INTERNAL: verified as a static function */
  markBtfStatic: boolean;
  /** a function in .text, only ever appended to the programs that call it */
  isSubprogram: boolean;
  relocations: ProgramRelocation[];
  /** references to `__kconfig` / `__ksym` externs */
  externRelocations: ExternRelocation[];
  funcInfo: BpfFuncInfo[];
  lineInfo: BpfLineInfo[];
  coreRelos: BpfCoreRelo[];
}

export interface BpfObject {
  /** libbpf's object name: the file name up to its first '.' */
  name: string;
  elf: ElfFile;
  /** the `license` section up to its NUL ("" without one) */
  license: string;
  /**
   * the `version` section (kern_version); undefined without one (the loader then uses the
   * kernel's own LINUX_VERSION_CODE, as libbpf uses the running kernel's)
   */
  kernVersion: number | undefined;
  /** .BTF with DATASEC sizes and offsets filled in */
  btf: Btf | undefined;
  btfExt: BtfExt | undefined;
  /** entry programs by section then offset */
  programs: BpfProgram[];
  /** the functions of .text */
  subprograms: BpfProgram[];
  maps: BpfMapDef[];
  /** `__kconfig` and `__ksym` externs, in libbpf's order (kconfig ones laid out in `.kconfig`) */
  externs: BpfExtern[];
}

/** What an object's sections are, by role. */
interface SectionRoles {
  license?: ElfSection;
  version?: ElfSection;
  legacyMaps?: ElfSection;
  btfMaps?: ElfSection;
  btf?: ElfSection;
  btfExt?: ElfSection;
  text?: ElfSection;
  programs: ElfSection[];
}

/**
 * Opens a BPF object: everything libbpf's open phase knows, nothing created or relocated.
 * `name` is the file name or path (for the object name and error messages).
 * Throws ElfError, BtfError or ObjectError (all TsbpfError) on malformed input.
 */
export function openObject(bytes: Uint8Array, name = "object.o"): BpfObject {
  const fileName = name.slice(name.lastIndexOf("/") + 1);
  const elf = readElf(bytes, fileName);
  if (!elf.symtab) throw new ObjectError(`${fileName}: no symbol table (stripped object?)`);
  const roles = classifySections(elf);
  const btf = roles.btf ? parseBtf(roles.btf.data, `${fileName}: .BTF`) : undefined;
  const btfExt = roles.btfExt
    ? parseBtfExt(roles.btfExt.data, btf, `${fileName}: .BTF.ext`)
    : undefined;
  if (btf) fixupDatasecs(btf, elf);
  const objectName = fileName.includes(".") ? fileName.slice(0, fileName.indexOf(".")) : fileName;
  const mapContext: MapContext = { elf, objectName, btf };
  const maps = [
    ...(roles.legacyMaps ? collectLegacyMaps(mapContext, roles.legacyMaps) : []),
    ...(roles.btfMaps ? collectBtfMaps(mapContext, roles.btfMaps) : []),
    ...collectGlobalDataMaps(mapContext),
  ];
  const externs = collectExterns({ elf, btf });
  const kconfig = kconfigMap(mapContext, externs);
  if (kconfig) maps.push(kconfig);
  const all = roles.programs.flatMap((s) => collectPrograms(elf, s, s === roles.text));
  const object: BpfObject = {
    name: objectName,
    elf,
    license: roles.license ? readLicense(elf, roles.license) : "",
    kernVersion: roles.version ? readKernVersion(elf, roles.version) : undefined,
    btf,
    btfExt,
    programs: all.filter((p) => !p.isSubprogram),
    subprograms: all.filter((p) => p.isSubprogram),
    maps,
    externs,
  };
  collectRelocations(object, roles, mapContext);
  if (btfExt) attachBtfExt(object, btfExt);
  return object;
}

/**
 * libbpf's `.kconfig` map: one read-only element holding every kconfig extern at its offset,
 * created after the global-data maps and frozen once the loader has filled it.
 */
function kconfigMap(ctx: MapContext, externs: readonly BpfExtern[]): BpfMapDef | undefined {
  const size = kconfigSize(externs);
  if (size === 0) return undefined;
  return {
    name: internalMapName(ctx.objectName, ".kconfig"),
    realName: ".kconfig",
    origin: "kconfig",
    type: BpfMapType.BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: size,
    maxEntries: 1,
    mapFlags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
    numaNode: 0,
    mapExtra: 0,
    pinning: 0,
    sectionIndex: SHN_UNDEF,
    sectionOffset: 0,
    btfKeyTypeId: 0,
    // clang leaves the extern DATASEC's offsets at 0: the layout is the loader's, not BTF's
    btfValueTypeId: 0,
    initialSlots: [],
  };
}

// --- sections -------------------------------------------------------------------------------

function classifySections(elf: ElfFile): SectionRoles {
  const roles: SectionRoles = { programs: [] };
  const unique = (role: keyof Omit<SectionRoles, "programs">, s: ElfSection): void => {
    if (roles[role])
      throw new ObjectError(
        `${elf.fileName}: two '${s.name}' sections (${roles[role]!.index} and ${s.index})`,
      );
    roles[role] = s;
  };
  for (const s of elf.sections) {
    if (s.index === 0) continue;
    switch (s.name) {
      case "license":
        unique("license", s);
        continue;
      case "version":
        unique("version", s);
        continue;
      case "maps":
        unique("legacyMaps", s);
        continue;
      case ".maps":
        unique("btfMaps", s);
        continue;
      case ".BTF":
      case ".BTF.ext":
        if (s.type !== SHT_PROGBITS)
          throw new ObjectError(
            `${elf.fileName}: ${describeSection(s)} has type ${s.type}, not SHT_PROGBITS`,
          );
        unique(s.name === ".BTF" ? "btf" : "btfExt", s);
        continue;
    }
    if (s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0) {
      if (s.name === ".text") roles.text = s;
      roles.programs.push(s);
    }
  }
  return roles;
}

function readLicense(elf: ElfFile, s: ElfSection): string {
  if (s.type === SHT_NOBITS)
    throw new ObjectError(
      `${elf.fileName}: ${describeSection(s)}: invalid license section (no contents)`,
    );
  const end = s.data.indexOf(0);
  return new TextDecoder().decode(s.data.subarray(0, end < 0 ? s.data.length : end));
}

function readKernVersion(elf: ElfFile, s: ElfSection): number {
  if (s.type === SHT_NOBITS || s.data.length !== 4)
    throw new ObjectError(
      `${elf.fileName}: ${describeSection(s)}: invalid kern_version section (${s.size} bytes, expected 4)`,
    );
  return new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, true);
}

// --- programs -------------------------------------------------------------------------------

function collectPrograms(elf: ElfFile, section: ElfSection, isText: boolean): BpfProgram[] {
  const where = `${elf.fileName}: ${describeSection(section)}`;
  const parsed = isText ? undefined : parseSectionName(section.name);
  const { attach, attachError } = attachTargetOf(parsed);
  const functions = elf.symbols
    .filter((sym) => sym.shndx === section.index && sym.type === STT_FUNC)
    .sort((a, b) => a.value - b.value);
  const programs: BpfProgram[] = [];
  let end = 0;
  for (const sym of functions) {
    const progWhere = `${where}: program '${sym.name}' at offset ${sym.value}`;
    if (sym.name === "")
      throw new ObjectError(`${where}: function at offset ${sym.value} has no name`);
    if (sym.size === 0 || sym.size % 8 !== 0 || sym.value % 8 !== 0)
      throw new ObjectError(
        `${progWhere}: corrupted program (size ${sym.size} is not a whole number of instructions)`,
      );
    if (sym.value < end) throw new ObjectError(`${progWhere}: overlaps the previous program`);
    if (!isText && sym.bind === STB_LOCAL)
      throw new ObjectError(`${progWhere}: program is static and not supported`);
    end = sym.value + sym.size;
    const global = sym.bind !== STB_LOCAL;
    programs.push({
      name: sym.name,
      sectionName: section.name,
      sectionIndex: section.index,
      sectionInsnOffset: sym.value / 8,
      insns: decodeProgram(section.data.subarray(sym.value, sym.value + sym.size)),
      type: parsed?.progType ?? BpfProgType.BPF_PROG_TYPE_UNSPEC,
      expectedAttachType: parsed?.expectedAttachType ?? 0,
      section: parsed,
      attach,
      attachError,
      // SEC("?...") starts not autoloaded, whether or not the rest of the name is known.
      autoload: !isText && !section.name.startsWith("?"),
      sleepable: parsed?.sleepable ?? false,
      global,
      markBtfStatic: global && (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL),
      isSubprogram: isText,
      relocations: [],
      externRelocations: [],
      funcInfo: [],
      lineInfo: [],
      coreRelos: [],
    });
  }
  return programs;
}

/** The attach target, or why it is unusable: libbpf only complains when attaching. */
function attachTargetOf(parsed: ParsedSection | undefined): {
  attach: AttachTarget | undefined;
  attachError: string | undefined;
} {
  if (!parsed) return { attach: undefined, attachError: undefined };
  try {
    return { attach: parseAttachTarget(parsed), attachError: undefined };
  } catch (e) {
    if (e instanceof SectionNameError) return { attach: undefined, attachError: e.message };
    throw e;
  }
}

/**
 * The error libbpf gives when loading a program whose section name matched no definition and
 * whose type nobody set; the loader throws it.
 */
export function missingProgramType(program: BpfProgram): ObjectError {
  const section = program.sectionName.replace(/^\?/, "");
  return new ObjectError(
    `prog '${program.name}': missing BPF prog type, check ELF section name '${section}'`,
  );
}

// --- relocations ----------------------------------------------------------------------------

function collectRelocations(object: BpfObject, roles: SectionRoles, mapContext: MapContext): void {
  const { elf } = object;
  const programs = [...object.programs, ...object.subprograms];
  for (const table of elf.relocations) {
    const target = table.target;
    const isProgramSection = roles.programs.includes(target);
    const isMapsSection = target === roles.btfMaps;
    if (!isProgramSection && !isMapsSection) continue; // debug info, BTF, data: nothing to do
    if (table.section.type !== SHT_REL)
      throw new ObjectError(
        `${elf.fileName}: ${describeSection(table.section)}: RELA relocations are not used for BPF`,
      );
    if (isMapsSection) {
      const isEntry = (symbolIndex: number): boolean => {
        const sym = elf.symbols[symbolIndex]!;
        return object.programs.some(
          (p) =>
            p.sectionIndex === sym.shndx &&
            p.sectionInsnOffset * 8 === sym.value &&
            p.name === sym.name,
        );
      };
      collectMapSlots(mapContext, object.maps, table.entries, isEntry, table.section);
      continue;
    }
    const inSection = programs.filter((p) => p.sectionIndex === target.index);
    table.entries.forEach((rel, i) => recordRelocation(object, roles, table, rel, i, inSection));
  }
}

function recordRelocation(
  object: BpfObject,
  roles: SectionRoles,
  table: ElfRelocationTable,
  rel: ElfRelocation,
  index: number,
  inSection: BpfProgram[],
): void {
  const { elf } = object;
  const sym = elf.symbols[rel.symbol]!;
  const symName =
    sym.type === STT_SECTION && sym.name === "" ? (elf.sections[sym.shndx]?.name ?? "") : sym.name;
  let where = `${elf.fileName}: ${describeSection(table.section)}: relocation ${index} at offset 0x${rel.offset.toString(16)} against '${symName}'`;
  if (rel.offset % 8 !== 0)
    throw new ObjectError(`${where}: offset is not at an instruction boundary`);
  const slot = rel.offset / 8;
  const prog = inSection.find(
    (p) => slot >= p.sectionInsnOffset && slot < p.sectionInsnOffset + p.insns.length,
  );
  if (!prog) return; // outside every function (libbpf skips these: an overridden weak function)
  const insnIndex = slot - prog.sectionInsnOffset;
  where += ` (prog '${prog.name}' insn ${insnIndex})`;
  const insn = prog.insns[insnIndex]!;
  if (sym.shndx === SHN_UNDEF && (sym.bind === STB_GLOBAL || sym.bind === STB_WEAK)) {
    prog.externRelocations.push(externTarget(object, rel, symName, insn, insnIndex, prog, where));
    return;
  }
  const relocation = describeTarget(object, roles, rel, sym, symName, insn, insnIndex, prog, where);
  prog.relocations.push(relocation);
}

function describeTarget(
  object: BpfObject,
  roles: SectionRoles,
  rel: ElfRelocation,
  sym: ElfSymbol,
  symName: string,
  insn: Insn,
  insnIndex: number,
  prog: BpfProgram,
  where: string,
): ProgramRelocation {
  const fail = (reason: string): never => {
    throw new ObjectError(`${where}: ${reason}`);
  };
  const code = `0x${insn.code.toString(16).padStart(2, "0")}`;
  if (rel.type === R_BPF_64_32) {
    if (insn.code !== (BPF_JMP | BPF_CALL))
      fail(`R_BPF_64_32 on a non-call instruction (code ${code})`);
    if (insn.src !== BPF_PSEUDO_CALL)
      fail(`call relocation on a helper call (src_reg ${insn.src}, expected ${BPF_PSEUDO_CALL})`);
  } else if (rel.type === R_BPF_64_64) {
    if (insn.code !== BPF_LDDW) fail(`R_BPF_64_64 on a non-lddw instruction (code ${code})`);
    if (insnIndex + 1 >= prog.insns.length) fail("lddw is missing its second slot");
  } else {
    fail(`unexpected ${relocationTypeName(rel.type)} relocation in a program section`);
  }
  if (sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE)
    fail(
      `relocation against special section 0x${sym.shndx.toString(16)}; forgot to initialize a global?`,
    );
  const text = roles.text;
  if (rel.type === R_BPF_64_32) {
    if (!text || sym.shndx !== text.index)
      fail(`call relocation into section '${object.elf.sections[sym.shndx]!.name}', not .text`);
    if (sym.value % 8 !== 0)
      fail(`call target offset ${sym.value} is not at an instruction boundary`);
    const target = sym.value / 8 + insn.imm + 1;
    return {
      kind: "call",
      insn: insnIndex,
      symbol: symName,
      target,
      subprogram: subprogramAt(object, target, fail),
    };
  }
  if (text && sym.shndx === text.index && (sym.type === STT_FUNC || sym.type === STT_SECTION)) {
    if (sym.value % 8 !== 0 || insn.imm % 8 !== 0)
      fail(`subprogram address ${sym.value}+${insn.imm} is not at an instruction boundary`);
    const target = (sym.value + insn.imm) / 8;
    return {
      kind: "subprog_addr",
      insn: insnIndex,
      symbol: symName,
      target,
      subprogram: subprogramAt(object, target, fail),
    };
  }
  const section = object.elf.sections[sym.shndx]!;
  if (section === roles.legacyMaps || section === roles.btfMaps) {
    const map = object.maps.findIndex(
      (m) =>
        (m.origin === "legacy" || m.origin === "btf") &&
        m.sectionIndex === sym.shndx &&
        m.sectionOffset === sym.value,
    );
    if (map < 0) fail(`no map at offset ${sym.value} of section '${section.name}'`);
    return { kind: "map", insn: insnIndex, symbol: symName, map };
  }
  if (isGlobalDataSection(section)) {
    const map = object.maps.findIndex(
      (m) => m.sectionIndex === sym.shndx && m.origin !== "legacy" && m.origin !== "btf",
    );
    if (map < 0) fail(`no global-data map for section '${section.name}'`);
    return { kind: "data", insn: insnIndex, symbol: symName, map, offset: sym.value };
  }
  return fail(`bad data relocation against section '${section.name}'`);
}

/** A reference to an extern: an lddw of a kconfig or ksym variable, or a kfunc call. */
function externTarget(
  object: BpfObject,
  rel: ElfRelocation,
  symName: string,
  insn: Insn,
  insnIndex: number,
  prog: BpfProgram,
  where: string,
): ExternRelocation {
  const fail = (reason: string): never => {
    throw new ObjectError(`${where}: ${reason}`);
  };
  const code = `0x${insn.code.toString(16).padStart(2, "0")}`;
  const index = object.externs.findIndex((e) => e.symbol === rel.symbol);
  if (index < 0) fail(`extern '${symName}' is not a __kconfig or __ksym extern`);
  const ext = object.externs[index]!;
  if (rel.type === R_BPF_64_32) {
    if (insn.code !== (BPF_JMP | BPF_CALL))
      fail(`R_BPF_64_32 on a non-call instruction (code ${code})`);
    if (ext.kind !== "ksym" || !ext.func)
      fail(`call of extern '${symName}', which is not an extern function`);
  } else if (rel.type === R_BPF_64_64) {
    if (insn.code !== BPF_LDDW) fail(`R_BPF_64_64 on a non-lddw instruction (code ${code})`);
    if (insnIndex + 1 >= prog.insns.length) fail("lddw is missing its second slot");
  } else {
    fail(`unexpected ${relocationTypeName(rel.type)} relocation against extern '${symName}'`);
  }
  return { insn: insnIndex, symbol: symName, extern: index };
}

/** The .text function containing slot `target` of .text. */
function subprogramAt(object: BpfObject, target: number, fail: (reason: string) => never): string {
  const sub = object.subprograms.find(
    (p) => target >= p.sectionInsnOffset && target < p.sectionInsnOffset + p.insns.length,
  );
  if (!sub) fail(`.text slot ${target} is not inside any function`);
  return sub!.name;
}

// --- .BTF.ext -------------------------------------------------------------------------------

/** Func info, line info and CO-RE relocations of each program, with program-relative indexes. */
function attachBtfExt(object: BpfObject, ext: BtfExt): void {
  const btf = object.btf;
  const str = (off: number): string => btf?.strings.tryGet(off) ?? "";
  for (const prog of [...object.programs, ...object.subprograms]) {
    const start = prog.sectionInsnOffset;
    const endSlot = start + prog.insns.length;
    const recordsOf = <R extends { insnOff: number }>(
      blocks: { secName: string; records: R[] }[],
    ): { insn: number; rec: R }[] =>
      blocks
        .filter((b) => b.secName === prog.sectionName)
        .flatMap((b) => b.records)
        .filter((r) => r.insnOff % 8 === 0 && r.insnOff / 8 >= start && r.insnOff / 8 < endSlot)
        .map((rec) => ({ insn: rec.insnOff / 8 - start, rec }));
    prog.funcInfo = recordsOf(ext.funcInfo.blocks).map(({ insn, rec }) => ({
      insn,
      typeId: rec.typeId,
    }));
    prog.lineInfo = recordsOf(ext.lineInfo.blocks).map(({ insn, rec }) => ({
      insn,
      fileNameOff: rec.fileNameOff,
      lineOff: rec.lineOff,
      fileName: str(rec.fileNameOff),
      source: str(rec.lineOff),
      line: lineOf(rec.lineCol),
      column: columnOf(rec.lineCol),
    }));
    prog.coreRelos = recordsOf(ext.coreRelo.blocks).map(({ insn, rec }) => ({
      insn,
      typeId: rec.typeId,
      accessStrOff: rec.accessStrOff,
      accessStr: str(rec.accessStrOff),
      kind: rec.kind,
    }));
  }
}

export { ObjectError } from "./error.js";
