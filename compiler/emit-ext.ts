// The .BTF.ext of a compiled unit: func_info for every function, line_info (with -g) and
// CO-RE relocations, grouped per ELF section, as clang writes them.
//
// line_info follows clang's rule: a record where an instruction's source position differs from
// the previous recorded one, and, when a function's first instruction has no position of its
// own, a record there with the function's line and column 0. The file name is the path clang
// records (a relative name is prefixed with the working directory) and the line text is the
// whole source line. Blocks are ordered by their section name's offset in the string section
// (clang keys them that way); every record's insn_off gets a R_BPF_64_NODYLD32 relocation
// against its section's symbol, the offset itself written in place.
import {
  BPF_CORE_RELO_SIZE,
  BPF_FUNC_INFO_SIZE,
  BPF_LINE_INFO_SIZE,
  BTF_EXT_HEADER_SIZE_CORE,
  type BpfCoreReloRecord,
  type BpfFuncInfoRecord,
  type BpfLineInfoRecord,
  type BtfExt,
  type BtfExtBlock,
} from "../runtime/btf/ext.js";
import type { Btf } from "../runtime/btf/btf.js";
import type { SourcePos } from "./types.js";
import type { CompiledFunction, CompiledUnit } from "./unit.js";

/** Where a function landed: its section and first slot there. */
export interface PlacedFunction {
  fn: CompiledFunction;
  section: string;
  slot: number;
}

export interface ExtOptions {
  /** -g: write line_info */
  debugLines: boolean;
  /** the directory relative source names are taken from (clang: the working directory) */
  cwd: string;
}

export interface UnitBtfExt {
  ext: BtfExt;
  /** each record's insn_off position in the encoded .BTF.ext, with the section it points into */
  relocations: { offset: number; section: string }[];
}

/** Builds the .BTF.ext records (adding their strings to `btf`); undefined when there are none. */
export function buildUnitBtfExt(
  unit: CompiledUnit,
  placed: PlacedFunction[],
  funcIds: number[],
  coreTypeIds: number[][],
  btf: Btf,
  options: ExtOptions,
): UnitBtfExt | undefined {
  const strings = btf.strings;
  const funcBlocks = new Map<string, BtfExtBlock<BpfFuncInfoRecord>>();
  const lineBlocks = new Map<string, BtfExtBlock<BpfLineInfoRecord>>();
  const coreBlocks = new Map<string, BtfExtBlock<BpfCoreReloRecord>>();
  const block = <R>(blocks: Map<string, BtfExtBlock<R>>, section: string): BtfExtBlock<R> => {
    let b = blocks.get(section);
    if (!b) {
      b = { secNameOff: strings.add(section), secName: section, records: [] };
      blocks.set(section, b);
    }
    return b;
  };
  const lineStrings = new LineStrings(unit, options.cwd, btf);
  placed.forEach((p, i) => {
    const base = p.slot * 8;
    block(funcBlocks, p.section).records.push({ insnOff: base, typeId: funcIds[i]! });
    if (options.debugLines) {
      const records = lineRecords(p.fn, base, lineStrings);
      if (records.length > 0) block(lineBlocks, p.section).records.push(...records);
    }
    p.fn.coreRelos.forEach((m, j) => {
      block(coreBlocks, p.section).records.push({
        insnOff: base + m.insn * 8,
        typeId: coreTypeIds[i]![j]!,
        accessStrOff: strings.add(m.access),
        kind: m.kind,
      });
    });
  });
  if (funcBlocks.size === 0) return undefined;
  const ordered = <R>(blocks: Map<string, BtfExtBlock<R>>): BtfExtBlock<R>[] =>
    [...blocks.values()].sort((a, b) => a.secNameOff - b.secNameOff);
  const ext: BtfExt = {
    version: 1,
    flags: 0,
    hdrLen: BTF_EXT_HEADER_SIZE_CORE,
    funcInfo: { recordSize: BPF_FUNC_INFO_SIZE, blocks: ordered(funcBlocks) },
    lineInfo: { recordSize: BPF_LINE_INFO_SIZE, blocks: ordered(lineBlocks) },
    coreRelo: { recordSize: BPF_CORE_RELO_SIZE, blocks: ordered(coreBlocks) },
  };
  return { ext, relocations: recordPositions(ext) };
}

/**
 * The string offsets of line_info file names and line texts, each file and line looked up
 * once (interning a string again would give the same offset).
 */
class LineStrings {
  private readonly files = new Map<string, { nameOff: number; lines: Map<number, number> }>();

  constructor(
    private readonly unit: CompiledUnit,
    private readonly cwd: string,
    private readonly btf: Btf,
  ) {}

  file(name: string): { nameOff: number; lines: Map<number, number> } {
    let f = this.files.get(name);
    if (f === undefined) {
      f = { nameOff: this.btf.strings.add(recordedPath(name, this.cwd)), lines: new Map() };
      this.files.set(name, f);
    }
    return f;
  }

  line(file: { lines: Map<number, number> }, name: string, line: number): number {
    let off = file.lines.get(line);
    if (off === undefined) {
      const text = line > 0 ? (this.unit.sourceLine(name, line) ?? "") : "";
      off = this.btf.strings.add(text);
      file.lines.set(line, off);
    }
    return off;
  }
}

function lineRecords(
  fn: CompiledFunction,
  base: number,
  strings: LineStrings,
): BpfLineInfoRecord[] {
  const records: BpfLineInfoRecord[] = [];
  const marks = [...fn.lines].sort((a, b) => a.insn - b.insn);
  const record = (insn: number, pos: SourcePos, col: number): void => {
    const file = strings.file(pos.file);
    records.push({
      insnOff: base + insn * 8,
      fileNameOff: file.nameOff,
      lineOff: strings.line(file, pos.file, pos.line),
      lineCol: ((pos.line << 10) | (col & 0x3ff)) >>> 0,
    });
  };
  if (fn.insns.length > 0 && (marks.length === 0 || marks[0]!.insn !== 0)) {
    record(0, fn.pos, 0);
  }
  let prev: SourcePos | undefined;
  for (const m of marks) {
    if (m.insn < 0 || m.insn >= fn.insns.length) continue;
    if (prev && prev.file === m.pos.file && prev.line === m.pos.line && prev.col === m.pos.col)
      continue;
    // Two marks on one instruction: the later one describes it.
    if (records.length > 0 && records[records.length - 1]!.insnOff === base + m.insn * 8)
      records.pop();
    record(m.insn, m.pos, m.pos.col);
    prev = m.pos;
  }
  return records;
}

/** The file name clang puts in line_info: relative names are joined to the directory. */
export function recordedPath(file: string, cwd: string): string {
  if (file.startsWith("/") || file.startsWith("<") || cwd === "") return file;
  return `${cwd}/${file}`;
}

/** Byte positions of every record's insn_off in the encoding of `ext` (runtime/btf/ext-encode). */
function recordPositions(ext: BtfExt): { offset: number; section: string }[] {
  const out: { offset: number; section: string }[] = [];
  let pos = ext.hdrLen;
  for (const info of [ext.funcInfo, ext.lineInfo, ext.coreRelo]) {
    if (info.blocks.length === 0) continue;
    pos += 4; // record size
    for (const b of info.blocks) {
      pos += 8; // section name, count
      for (let i = 0; i < b.records.length; i++) {
        out.push({ offset: pos, section: b.secName });
        pos += info.recordSize;
      }
    }
  }
  return out;
}
