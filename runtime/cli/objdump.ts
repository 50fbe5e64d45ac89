// `tsbpf objdump`: what llvm-objdump (LLVM 14) prints for a BPF object.
//
//   tsbpf objdump -d [-r] [-S] FILE.o...   disassemble the code sections: symbol headers,
//                                           instruction lines with jump targets named by the
//                                           nearest symbol, relocations under the instruction
//                                           they patch (-r), source lines (-S)
//   tsbpf objdump -r FILE.o...             the relocation records of every section
//
// Where llvm-objdump 14 prints <unknown> for a valid instruction (a store of an immediate, mod,
// jset, 32-bit atomics, cpu v4 forms) the line names it as newer LLVM does (runtime/isa/disasm).
// -S takes its source lines from .BTF.ext line_info (llvm-objdump reads DWARF; for clang's
// objects both give the same lines, but for the first instruction of a function, where DWARF
// names the line of its opening brace and line_info the line of its name): a line is printed
// above the instruction whose line_info record starts it, unless the record before had the
// same line (line-0 records count).
import { parseBtf } from "../btf/parse.js";
import { parseBtfExt } from "../btf/ext-parse.js";
import { lineOf } from "../btf/ext.js";
import {
  SHF_EXECINSTR,
  SHT_PROGBITS,
  STT_FILE,
  STT_SECTION,
  relocationTypeName,
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
} from "../elf/elf.js";
import { readElf } from "../elf/read.js";
import { decodeInsn } from "../isa/codec.js";
import { formatObjdumpLine, insnSlots } from "../isa/disasm.js";
import type { Insn } from "../isa/insn.js";
import { BPF_LDDW } from "../isa/opcodes.js";
import { TsbpfError } from "../error.js";
import { readInput } from "./input.js";

class ObjdumpCliError extends TsbpfError {}

const USAGE = "usage: tsbpf objdump -d [-r] [-S] FILE.o...\n       tsbpf objdump -r FILE.o...";

export interface ObjdumpOptions {
  disassemble: boolean;
  relocations: boolean;
  source: boolean;
}

export async function main(args: string[]): Promise<number> {
  const opts: ObjdumpOptions = { disassemble: false, relocations: false, source: false };
  const files: string[] = [];
  for (const arg of args) {
    if (arg === "-h" || arg === "--help") {
      console.log(USAGE);
      return 0;
    }
    if (/^-[drS]+$/.test(arg)) {
      for (const c of arg.slice(1)) {
        if (c === "d") opts.disassemble = true;
        else if (c === "r") opts.relocations = true;
        else opts.source = true;
      }
    } else if (arg === "--disassemble") opts.disassemble = true;
    else if (arg === "--reloc") opts.relocations = true;
    else if (arg === "--source") opts.source = true;
    else if (arg.startsWith("-"))
      throw new ObjdumpCliError(`objdump: unknown option '${arg}'\n${USAGE}`);
    else files.push(arg);
  }
  if (opts.source) opts.disassemble = true;
  if (files.length === 0 || (!opts.disassemble && !opts.relocations))
    throw new ObjdumpCliError(`objdump: nothing to do\n${USAGE}`);
  // As llvm-objdump: a file that cannot be read or is no usable object is an error on stderr,
  // and the files after it are still dumped; the exit code says whether any failed.
  let failed = 0;
  for (const file of files) {
    try {
      process.stdout.write(objdumpText(readInput(file, { command: "objdump" }), file, opts));
    } catch (err) {
      if (!(err instanceof TsbpfError)) throw err;
      process.stderr.write(`tsbpf: ${err.message}\n`);
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}

/** The whole text llvm-objdump prints for one object. */
export function objdumpText(bytes: Uint8Array, file: string, opts: ObjdumpOptions): string {
  const elf = readElf(bytes, file);
  const out: string[] = ["", `${file}:\tfile format elf64-bpf`];
  if (opts.disassemble) {
    const lines = opts.source ? sourceLines(elf) : undefined;
    for (const s of elf.sections) {
      if (s.type !== SHT_PROGBITS || (s.flags & SHF_EXECINSTR) === 0 || s.size === 0) continue;
      disassembleSection(elf, s, opts.relocations, lines?.get(s.name), out);
    }
  } else {
    for (const table of elf.relocations) {
      out.push("", `RELOCATION RECORDS FOR [${table.target.name}]:`);
      out.push("OFFSET           TYPE                     VALUE");
      for (const r of table.entries) {
        out.push(
          `${hex16(r.offset)} ${relocationTypeName(r.type).padEnd(24)} ${symbolName(elf, r.symbol)}`,
        );
      }
    }
  }
  return out.join("\n") + "\n";
}

function disassembleSection(
  elf: ElfFile,
  s: ElfSection,
  withRelocations: boolean,
  lines: Map<number, { line: number; text: string; file: string }> | undefined,
  out: string[],
): void {
  out.push("", `Disassembly of section ${s.name}:`);
  const insns: Insn[] = [];
  for (let off = 0; off + 8 <= s.data.length; off += 8) insns.push(decodeInsn(s.data, off));
  const symbols = elf.symbols
    .filter(
      (sym) =>
        sym.shndx === s.index && sym.type !== STT_SECTION && sym.type !== STT_FILE && sym.index > 0,
    )
    .sort((a, b) => a.value - b.value || a.index - b.index);
  const headers = new Map<number, ElfSymbol[]>();
  for (const sym of symbols) {
    const list = headers.get(sym.value);
    if (list) list.push(sym);
    else headers.set(sym.value, [sym]);
  }
  const relocs = withRelocations
    ? (elf.relocations.find((t) => t.target.index === s.index)?.entries ?? [])
        .slice()
        .sort((a, b) => a.offset - b.offset)
    : [];
  const label = (target: number): string | undefined => nearestSymbol(symbols, target * 8, s.name);
  if (!headers.has(0)) out.push("", `${hex16(0)} <${s.name}>:`);
  let r = 0;
  let lastLine: { line: number; file: string } | undefined;
  let i = 0;
  for (; i < insns.length; i += insnSlots(insns, i)) {
    if (insns[i]!.code === BPF_LDDW && i + 1 === insns.length) break; // no second slot: the tail
    for (const sym of headers.get(i * 8) ?? []) out.push("", `${hex16(sym.value)} <${sym.name}>:`);
    const src = lines?.get(i * 8);
    if (src) {
      if (src.line !== 0 && !(lastLine && lastLine.line === src.line && lastLine.file === src.file))
        out.push(`; ${src.text}`);
      lastLine = src;
    }
    out.push(formatObjdumpLine(insns, i, { label }));
    const end = (i + insnSlots(insns, i)) * 8;
    while (r < relocs.length && relocs[r]!.offset < end) {
      const rel = relocs[r++]!;
      if (rel.offset < i * 8) continue;
      out.push(
        `\t\t${hex16(rel.offset)}:  ${relocationTypeName(rel.type)}\t${symbolName(elf, rel.symbol)}`,
      );
    }
  }
  disassembleTail(s.data, i * 8, headers, out);
}

/**
 * The bytes after the last whole instruction (a section cut short), as llvm-objdump walks them:
 * where fewer than 8 bytes are left, or an lddw lacks its second slot, one byte is printed as
 * `<unknown>` and the walk goes on at the next byte; 8 bytes that are there are decoded wherever
 * they start (without the <label> of a jump target, which an unaligned jump has none of).
 */
function disassembleTail(
  data: Uint8Array,
  from: number,
  headers: Map<number, ElfSymbol[]>,
  out: string[],
): void {
  for (let off = from; off < data.length;) {
    for (const sym of headers.get(off) ?? []) out.push("", `${hex16(sym.value)} <${sym.name}>:`);
    const left = data.length - off;
    const address = Math.floor(off / 8);
    if (left < 8 || (data[off] === BPF_LDDW && left < 16)) {
      out.push(`${(PAD + address).slice(-8)}:\t${hex2(data[off]!)}\t<unknown>`);
      off += 1;
      continue;
    }
    const insns = [decodeInsn(data, off)];
    if (insns[0]!.code === BPF_LDDW) insns.push(decodeInsn(data, off + 8));
    out.push(formatObjdumpLine(insns, 0, { address }));
    off += insns.length * 8;
  }
}

/** `name` or `name+0x10`: the last symbol at or before `offset`. */
function nearestSymbol(symbols: ElfSymbol[], offset: number, section: string): string {
  let best: ElfSymbol | undefined;
  for (const sym of symbols) {
    if (sym.value > offset) break;
    if (!best || sym.value >= best.value) best = sym;
  }
  const name = best ? best.name : section;
  const delta = offset - (best?.value ?? 0);
  return delta === 0 ? name : `${name}+0x${delta.toString(16)}`;
}

/** A relocation's symbol as objdump names it: section symbols by their section. */
function symbolName(elf: ElfFile, index: number): string {
  const sym = elf.symbols[index];
  if (!sym) return `<symbol ${index}>`;
  if (sym.type === STT_SECTION && sym.name === "") return elf.sections[sym.shndx]?.name ?? "";
  return sym.name;
}

/** line_info by section, then byte offset: the line number, its text and its file. */
function sourceLines(
  elf: ElfFile,
): Map<string, Map<number, { line: number; text: string; file: string }>> {
  const out = new Map<string, Map<number, { line: number; text: string; file: string }>>();
  const btfSection = elf.sections.find((s) => s.name === ".BTF");
  const extSection = elf.sections.find((s) => s.name === ".BTF.ext");
  if (!btfSection || !extSection) return out;
  const btf = parseBtf(btfSection.data, `${elf.fileName}: .BTF`);
  const ext = parseBtfExt(extSection.data, btf, `${elf.fileName}: .BTF.ext`);
  for (const block of ext.lineInfo.blocks) {
    let m = out.get(block.secName);
    if (!m) out.set(block.secName, (m = new Map()));
    for (const rec of block.records) {
      m.set(rec.insnOff, {
        line: lineOf(rec.lineCol),
        text: btf.strings.tryGet(rec.lineOff) ?? "",
        file: btf.strings.tryGet(rec.fileNameOff) ?? "",
      });
    }
  }
  return out;
}

const hex16 = (n: number): string => n.toString(16).padStart(16, "0");
const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
const PAD = "        ";
