// The object writer: a CompiledUnit as the ELF relocatable file clang -target bpf writes.
//
//   sections  .text (always, as clang), one section per SEC name holding its functions back to
//             back, then the data sections in the order their first global appears (license,
//             version, maps, .maps, .data, .rodata, .rodata.str1.1, .bss, custom), then .BTF
//             and .BTF.ext; runtime/elf/write.ts adds .rel<sec>, .symtab and .strtab.
//   symbols   STT_FILE, a section symbol for every code section and for every data section
//             holding a local symbol, STT_FUNC per function and STT_OBJECT per global (local
//             for static ones; none for clang's private `.L` constants), undefined NOTYPE
//             symbols for externs.
//   relocs    as clang's assembler leaves them: against the symbol when it is global, against
//             the section symbol with the offset in the instruction when it is local; a call
//             to a static function of the same section is resolved here and gets none.
//             R_BPF_64_64 on lddw of maps, globals and functions, R_BPF_64_32 on calls (a kfunc
//             is an external global of function type: `call -1` against its undefined symbol),
//             R_BPF_64_ABS64/ABS32 in data, R_BPF_64_NODYLD32/ABS32 in .BTF (DATASEC offsets:
//             NODYLD32 for writable sections) and R_BPF_64_NODYLD32 in .BTF.ext.
import { encodeBtf } from "../runtime/btf/encode.js";
import { encodeBtfExt } from "../runtime/btf/ext-encode.js";
import {
  BTF_HEADER_SIZE,
  BTF_KIND_ARRAY,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_INT,
  BTF_KIND_STRUCT,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  type Btf,
  type BtfType,
} from "../runtime/btf/btf.js";
import {
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS32,
  R_BPF_64_ABS64,
  R_BPF_64_NODYLD32,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_MERGE,
  SHF_STRINGS,
  SHF_WRITE,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FILE,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_SECTION,
} from "../runtime/elf/elf.js";
import {
  writeElf,
  type ElfRelocationSpec,
  type ElfSectionSpec,
  type ElfSymbolSpec,
} from "../runtime/elf/write.js";
import { encodeProgram } from "../runtime/isa/codec.js";
import type { Insn } from "../runtime/isa/insn.js";
import {
  BPF_CALL,
  BPF_EXIT,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LDDW,
  BPF_PSEUDO_CALL,
} from "../runtime/isa/opcodes.js";
import { buildUnitBtf, finishUnitBtf, isPrivateSymbol, type UnitBtf } from "./emit-btf.js";
import { buildUnitBtfExt, type PlacedFunction } from "./emit-ext.js";
import {
  EmitError,
  layOut,
  normaliseGlobals,
  type DataSection,
  type Layout,
  type Placed,
} from "./emit-layout.js";
import { Q_CONST, canonical, type CType } from "./types.js";
import type { CompiledFunction, CompiledUnit, InsnReloc } from "./unit.js";

export { EmitError };

export interface EmitOptions {
  /** -g: .BTF.ext line_info */
  debugLines?: boolean;
  /** the directory relative file names in line_info are joined to (default: process.cwd()) */
  cwd?: string;
}

/** Writes `unit` as a BPF ELF object. Throws EmitError for an inconsistent unit. */
export function emitObject(given: CompiledUnit, options: EmitOptions = {}): Uint8Array {
  const unit = normaliseGlobals(given);
  const layout = layOut(unit);
  const writer = new ObjectWriter(unit, layout);
  writer.addCode();
  writer.addData();
  writer.addBtf(options.debugLines ?? false, options.cwd ?? process.cwd());
  return writeElf({ sections: writer.sections, symbols: writer.symbols });
}

// --- the writer -----------------------------------------------------------------------------

class ObjectWriter {
  readonly sections: ElfSectionSpec[] = [];
  readonly symbols: ElfSymbolSpec[] = [];
  private readonly sectionIndex = new Map<string, number>();
  private readonly sectionSymbols = new Map<string, number>();
  private readonly symbolIndex = new Map<string, number>();
  /** Built before the code: CO-RE type-id relocations carry their type's BTF id in place. */
  private readonly unitBtf: UnitBtf;
  private readonly functionIndex: Map<CompiledFunction, number>;

  constructor(
    private readonly unit: CompiledUnit,
    private readonly layout: Layout,
  ) {
    this.unitBtf = buildUnitBtf(unit);
    this.functionIndex = new Map(unit.functions.map((f, i) => [f, i] as const));
    const file = unit.file.slice(unit.file.lastIndexOf("/") + 1);
    this.symbols.push({
      name: file,
      value: 0,
      size: 0,
      type: STT_FILE,
      bind: STB_LOCAL,
      section: "ABS",
    });
    this.planSections();
    this.planSymbols();
  }

  private planSections(): void {
    for (const s of this.layout.code) {
      this.sectionIndex.set(s.name, this.sections.length);
      this.sections.push({
        name: s.name,
        type: SHT_PROGBITS,
        flags: SHF_ALLOC | SHF_EXECINSTR,
        addralign: s.slots === 0 ? 4 : 8,
      });
    }
    for (const s of this.layout.data) {
      this.sectionIndex.set(s.name, this.sections.length);
      this.sections.push(dataSectionSpec(s));
    }
  }

  /** Section symbols first (code sections, data sections with local symbols), then the rest. */
  private planSymbols(): void {
    const needsSectionSymbol = new Set(
      this.layout.code.filter((s) => s.slots > 0).map((s) => s.name),
    );
    for (const p of this.layout.symbols.values()) {
      if (p.section !== undefined && (!p.global || isPrivateSymbol(p.name)))
        needsSectionSymbol.add(p.section);
    }
    for (const [name, index] of this.sectionIndex) {
      if (!needsSectionSymbol.has(name)) continue;
      this.sectionSymbols.set(name, this.symbols.length);
      this.symbols.push({
        name: "",
        value: 0,
        size: 0,
        type: STT_SECTION,
        bind: STB_LOCAL,
        section: index,
      });
    }
    for (const p of this.layout.symbols.values()) {
      if (isPrivateSymbol(p.name)) continue;
      this.symbolIndex.set(p.name, this.symbols.length);
      this.symbols.push({
        name: p.name,
        value: p.offset,
        size: p.size,
        type: p.section === undefined ? STT_NOTYPE : p.func ? STT_FUNC : STT_OBJECT,
        bind: p.weak ? STB_WEAK : p.global ? STB_GLOBAL : STB_LOCAL,
        section: p.section === undefined ? "UNDEF" : this.sectionIndex.get(p.section)!,
      });
    }
  }

  /**
   * The ELF symbol a reference to `name` + `addend` uses and the value left in place: the
   * symbol itself when global (or extern), else its section's symbol with the offset added.
   */
  private target(
    name: string,
    addend: number,
    where: string,
  ): { symbol: number; inPlace: number; placed: Placed } {
    const placed = this.layout.symbols.get(name);
    if (!placed) throw new EmitError(`${where}: reference to unknown symbol '${name}'`);
    if (placed.section === undefined || (placed.global && !isPrivateSymbol(name))) {
      return { symbol: this.symbolIndex.get(name)!, inPlace: addend, placed };
    }
    return {
      symbol: this.sectionSymbols.get(placed.section)!,
      inPlace: placed.offset + addend,
      placed,
    };
  }

  // --- code -----------------------------------------------------------------------------

  addCode(): void {
    for (const s of this.layout.code) {
      const insns: Insn[] = [];
      const relocations: ElfRelocationSpec[] = [];
      for (const p of s.functions) {
        this.addBlockLabels(p);
        const copy = p.fn.insns.map((i) => ({ ...i }));
        for (const r of p.fn.relocs) {
          const reloc = this.relocateInsn(p, copy, r);
          if (reloc) relocations.push(reloc);
        }
        const typeIds = this.unitBtf.coreTypeIds[this.functionIndex.get(p.fn)!]!;
        p.fn.coreRelos.forEach((m, j) => {
          // BPF_CORE_TYPE_ID_LOCAL / _TARGET: clang's lddw holds the local type id.
          if (m.kind !== 6 && m.kind !== 7) return;
          copy[m.insn]!.imm = typeIds[j]!;
          if (copy[m.insn + 1]) copy[m.insn + 1]!.imm = 0;
        });
        insns.push(...copy);
      }
      const spec = this.sections[this.sectionIndex.get(s.name)!]!;
      spec.data = encodeProgram(insns);
      if (relocations.length > 0)
        spec.relocations = relocations.sort((a, b) => a.offset - b.offset);
    }
  }

  /**
   * clang's local labels `LBB<function>_<block>` at jump targets (llvm-objdump prints them as
   * headers and names branch targets by them): blocks are numbered from 0 in layout order, a
   * block starting at the function, at every jump target and after every jump or exit.
   */
  private addBlockLabels(p: PlacedFunction): void {
    const insns = p.fn.insns;
    const targets = new Set<number>();
    const starts = new Set<number>([0]);
    for (let i = 0; i < insns.length; i++) {
      const t = jumpTarget(insns[i]!, i);
      if (t === undefined) continue;
      if (t.target !== undefined && t.target > 0 && t.target < insns.length) {
        targets.add(t.target);
        starts.add(t.target);
      }
      if (i + 1 < insns.length) starts.add(i + 1);
      if (insns[i]!.code === BPF_LDDW) i++;
    }
    const functionNumber = this.unit.functions.indexOf(p.fn);
    let block = 0;
    for (let i = 0; i < insns.length; i++) {
      if (!starts.has(i)) continue;
      if (targets.has(i)) {
        this.symbols.push({
          name: `LBB${functionNumber}_${block}`,
          value: (p.slot + i) * 8,
          size: 0,
          type: STT_NOTYPE,
          bind: STB_LOCAL,
          section: this.sectionIndex.get(p.section)!,
        });
      }
      block++;
    }
  }

  private relocateInsn(
    p: PlacedFunction,
    insns: Insn[],
    r: InsnReloc,
  ): ElfRelocationSpec | undefined {
    const where = `${this.unit.file}: function '${p.fn.name}' insn ${r.insn}`;
    const insn = insns[r.insn];
    if (insn === undefined)
      throw new EmitError(`${where}: relocation past the end of the function`);
    const offset = (p.slot + r.insn) * 8;
    if (r.kind === "call") {
      if (insn.code !== (BPF_JMP | BPF_CALL))
        throw new EmitError(
          `${where}: call relocation on a non-call instruction (code 0x${insn.code.toString(16)})`,
        );
      insn.src = BPF_PSEUDO_CALL;
      const t = this.target(r.symbol, 0, where);
      if (!t.placed.func)
        throw new EmitError(`${where}: call to '${r.symbol}', which is not a function`);
      if (t.placed.section === p.section && !t.placed.global) {
        // A static function of the same section: the assembler resolves the call itself.
        insn.imm = t.placed.offset / 8 - (p.slot + r.insn + 1);
        return undefined;
      }
      insn.imm = t.inPlace / 8 - 1;
      return { offset, type: R_BPF_64_32, symbol: t.symbol };
    }
    if (insn.code !== BPF_LDDW || insns[r.insn + 1] === undefined)
      throw new EmitError(
        `${where}: ${r.kind} relocation on a non-lddw instruction (code 0x${insn.code.toString(16)})`,
      );
    const addend = r.kind === "data" ? r.addend : 0;
    const t = this.target(r.symbol, addend, where);
    if (r.kind === "func_addr" && !t.placed.func)
      throw new EmitError(`${where}: address of '${r.symbol}', which is not a function`);
    insn.src = 0;
    insn.imm = t.inPlace | 0;
    insns[r.insn + 1]!.imm = 0;
    return { offset, type: R_BPF_64_64, symbol: t.symbol };
  }

  // --- data -----------------------------------------------------------------------------

  addData(): void {
    for (const s of this.layout.data) {
      const spec = this.sections[this.sectionIndex.get(s.name)!]!;
      if (spec.type === SHT_NOBITS) {
        for (const { g } of s.globals) {
          if (g.bytes.some((b) => b !== 0) || g.dataRelocs.length > 0)
            throw new EmitError(
              `${this.unit.file}: global '${g.name}' in ${s.name} has initial data`,
            );
        }
        spec.size = s.size;
        continue;
      }
      const bytes = new Uint8Array(s.size);
      const view = new DataView(bytes.buffer);
      const relocations: ElfRelocationSpec[] = [];
      for (const { g, offset } of s.globals) {
        bytes.set(g.bytes, offset);
        for (const r of g.dataRelocs) {
          const where = `${this.unit.file}: global '${g.name}' offset ${r.offset}`;
          const width = r.kind === "abs64" ? 8 : 4;
          if (r.offset < 0 || r.offset + width > g.bytes.length)
            throw new EmitError(`${where}: relocation outside the variable`);
          const t = this.target(r.symbol, 0, where);
          view.setUint32(offset + r.offset, t.inPlace >>> 0, true);
          if (width === 8) view.setUint32(offset + r.offset + 4, 0, true);
          relocations.push({
            offset: offset + r.offset,
            type: width === 8 ? R_BPF_64_ABS64 : R_BPF_64_ABS32,
            symbol: t.symbol,
          });
        }
      }
      spec.data = bytes;
      if (relocations.length > 0)
        spec.relocations = relocations.sort((a, b) => a.offset - b.offset);
    }
  }

  // --- .BTF and .BTF.ext ----------------------------------------------------------------

  addBtf(debugLines: boolean, cwd: string): void {
    const unitBtf = this.unitBtf;
    const order = this.functionIndex;
    const placed = this.layout.placedFunctions;
    const ext = buildUnitBtfExt(
      this.unit,
      placed,
      placed.map((p) => unitBtf.funcIds[order.get(p.fn)!]!),
      placed.map((p) => unitBtf.coreTypeIds[order.get(p.fn)!]!),
      unitBtf.btf,
      { debugLines, cwd },
    );
    finishUnitBtf(unitBtf);
    const btfBytes = encodeBtf(unitBtf.btf);
    const btfRelocs: ElfRelocationSpec[] = [];
    const typeOffsets = typeByteOffsets(unitBtf.btf);
    const view = new DataView(btfBytes.buffer, btfBytes.byteOffset);
    for (const ds of unitBtf.datasecs) {
      ds.entries.forEach((e, j) => {
        const at = BTF_HEADER_SIZE + typeOffsets[ds.id]! + 12 + j * 12 + 4;
        const t = this.target(e.symbol, 0, `${this.unit.file}: DATASEC '${ds.name}'`);
        view.setUint32(at, t.inPlace >>> 0, true);
        btfRelocs.push({ offset: at, type: this.datasecRelocType(t.placed), symbol: t.symbol });
      });
    }
    this.sections.push({
      name: ".BTF",
      type: SHT_PROGBITS,
      flags: 0,
      data: btfBytes,
      addralign: 4,
      ...(btfRelocs.length > 0 ? { relocations: btfRelocs } : {}),
    });
    if (!ext) return;
    this.sections.push({
      name: ".BTF.ext",
      type: SHT_PROGBITS,
      flags: 0,
      data: encodeBtfExt(ext.ext),
      addralign: 4,
      relocations: ext.relocations.map((r) => ({
        offset: r.offset,
        type: R_BPF_64_NODYLD32,
        symbol: this.sectionSymbols.get(r.section)!,
      })),
    });
  }

  /** clang: NODYLD32 for a variable in a writable section, ABS32 otherwise (read-only, extern). */
  private datasecRelocType(p: Placed): number {
    if (p.section === undefined) return R_BPF_64_ABS32;
    const spec = this.sections[this.sectionIndex.get(p.section)!]!;
    return spec.flags & SHF_WRITE ? R_BPF_64_NODYLD32 : R_BPF_64_ABS32;
  }
}

/** For a jump or exit: the slot it jumps to (undefined for exit); undefined for others. */
function jumpTarget(insn: Insn, i: number): { target: number | undefined } | undefined {
  const cls = insn.code & 0x07;
  if (cls !== BPF_JMP && cls !== BPF_JMP32) return undefined;
  const op = insn.code & 0xf0;
  if (op === BPF_CALL) return undefined;
  if (op === BPF_EXIT) return { target: undefined };
  if (op === BPF_JA && cls === BPF_JMP32) return { target: i + 1 + insn.imm };
  return { target: i + 1 + insn.off };
}

// --- sections -------------------------------------------------------------------------------

function dataSectionSpec(s: DataSection): ElfSectionSpec {
  const name = s.name;
  if (name === ".bss" || name.startsWith(".bss.")) {
    return {
      name,
      type: SHT_NOBITS,
      flags: SHF_ALLOC | SHF_WRITE,
      size: s.size,
      addralign: s.align,
    };
  }
  const str = /^\.rodata\.str(\d+)\.\d+$/.exec(name);
  if (str) {
    return {
      name,
      type: SHT_PROGBITS,
      flags: SHF_ALLOC | SHF_MERGE | SHF_STRINGS,
      addralign: s.align,
      entsize: Number(str[1]),
    };
  }
  const readOnly =
    name === ".rodata" ||
    name.startsWith(".rodata.") ||
    (name !== ".data" &&
      name !== ".maps" &&
      name !== "maps" &&
      s.globals.every(({ g }) => isConst(g.type)));
  return {
    name,
    type: SHT_PROGBITS,
    flags: readOnly ? SHF_ALLOC : SHF_ALLOC | SHF_WRITE,
    addralign: s.align,
  };
}

/** A const object (an array of const elements counts). */
function isConst(t: CType): boolean {
  let c = canonical(t);
  while (c.kind === "array") c = canonical(c.element);
  return (c.quals & Q_CONST) !== 0;
}

/** Byte offset of each type in the type section (index = id; id 0 has none). */
function typeByteOffsets(btf: Btf): number[] {
  const offsets: number[] = [0];
  let pos = 0;
  for (let id = 1; id < btf.types.length; id++) {
    offsets[id] = pos;
    pos += encodedSize(btf.types[id]!);
  }
  return offsets;
}

function encodedSize(t: BtfType): number {
  switch (t.kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
      return 16;
    case BTF_KIND_ARRAY:
      return 24;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      return 12 + 12 * t.members.length;
    case BTF_KIND_ENUM:
      return 12 + 8 * t.values.length;
    case BTF_KIND_ENUM64:
      return 12 + 12 * t.values.length;
    case BTF_KIND_FUNC_PROTO:
      return 12 + 8 * t.params.length;
    case BTF_KIND_DATASEC:
      return 12 + 12 * t.vars.length;
    default:
      return 12;
  }
}
