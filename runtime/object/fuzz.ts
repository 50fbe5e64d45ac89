// Seeded mutation fuzzing of the object reader: valid objects are truncated, have bytes flipped
// in their headers, section headers, symbols, relocations, code and BTF, or have indexes and
// offsets replaced by boundary values; then opened (and their BTF printed and re-encoded).
// Only TsbpfError subclasses may come out. The test runs a few hundred cases; the bench calls
// fuzzObjects with thousands.
import { TsbpfError } from "../error.js";
import { dumpBtf } from "../btf/dump.js";
import { encodeBtf } from "../btf/encode.js";
import { encodeBtfExt } from "../btf/ext-encode.js";
import { btfTypeSize, btfTypeToString } from "../btf/query.js";
import {
  EHDR_SIZE,
  SHDR_SIZE,
  SHF_EXECINSTR,
  SHT_REL,
  SHT_SYMTAB,
  SYM_SIZE,
  REL_SIZE,
  type ElfFile,
} from "../elf/elf.js";
import { readElf } from "../elf/read.js";
import { specFromElf, writeElf } from "../elf/write.js";
import { openObject } from "./open.js";

export interface FuzzSeed {
  name: string;
  bytes: Uint8Array;
}

export interface FuzzCrash {
  case: number;
  seed: string;
  mutation: string;
  /** the non-TsbpfError that escaped, with its stack */
  error: string;
}

export interface FuzzReport {
  cases: number;
  /** mutants that still opened */
  opened: number;
  /** rejections by error class (ElfError, BtfError, ObjectError, IsaError...) */
  rejected: Record<string, number>;
  crashes: FuzzCrash[];
  slowestCaseMs: number;
  slowestMutation: string;
  totalMs: number;
}

export interface FuzzOptions {
  cases: number;
  /** PRNG seed: the same seed and inputs give the same mutants */
  seed: number;
}

/** mulberry32: small, fast, good enough to pick mutations deterministically. */
export function makePrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/** Byte ranges of a valid seed where mutations are aimed, and its u16/u32 index fields. */
interface Layout {
  header: [number, number];
  sectionHeaders: [number, number];
  symtab: [number, number] | undefined;
  rels: [number, number][];
  btf: [number, number] | undefined;
  btfExt: [number, number] | undefined;
  code: [number, number][];
  /** offsets of index/offset fields with their widths */
  fields: { offset: number; width: 2 | 4 | 8; what: string }[];
}

function layoutOf(elf: ElfFile): Layout {
  const shoff = Number(new DataView(elf.bytes.buffer, elf.bytes.byteOffset).getUint32(40, true));
  const range = (s: { offset: number; size: number }): [number, number] => [
    s.offset,
    s.offset + s.size,
  ];
  const fields: Layout["fields"] = [
    { offset: 62, width: 2, what: "e_shstrndx" },
    { offset: 60, width: 2, what: "e_shnum" },
    { offset: 40, width: 8, what: "e_shoff" },
  ];
  for (const s of elf.sections) {
    const h = shoff + s.index * SHDR_SIZE;
    fields.push(
      { offset: h, width: 4, what: `sh_name of ${s.index}` },
      { offset: h + 4, width: 4, what: `sh_type of ${s.index}` },
      { offset: h + 24, width: 8, what: `sh_offset of ${s.index}` },
      { offset: h + 32, width: 8, what: `sh_size of ${s.index}` },
      { offset: h + 40, width: 4, what: `sh_link of ${s.index}` },
      { offset: h + 44, width: 4, what: `sh_info of ${s.index}` },
      { offset: h + 56, width: 8, what: `sh_entsize of ${s.index}` },
    );
  }
  if (elf.symtab) {
    for (let i = 1; i < elf.symbols.length; i++) {
      const o = elf.symtab.offset + i * SYM_SIZE;
      fields.push(
        { offset: o, width: 4, what: `st_name of symbol ${i}` },
        { offset: o + 6, width: 2, what: `st_shndx of symbol ${i}` },
        { offset: o + 8, width: 8, what: `st_value of symbol ${i}` },
        { offset: o + 16, width: 8, what: `st_size of symbol ${i}` },
      );
    }
  }
  for (const t of elf.relocations) {
    for (let i = 0; i < t.entries.length; i++) {
      const o = t.section.offset + i * REL_SIZE;
      fields.push(
        { offset: o, width: 8, what: `r_offset of ${t.section.name}[${i}]` },
        { offset: o + 8, width: 4, what: `r_type of ${t.section.name}[${i}]` },
        { offset: o + 12, width: 4, what: `r_sym of ${t.section.name}[${i}]` },
      );
    }
  }
  const btf = elf.sections.find((s) => s.name === ".BTF");
  const btfExt = elf.sections.find((s) => s.name === ".BTF.ext");
  if (btf)
    for (let o = btf.offset; o + 4 <= btf.offset + btf.size; o += 4)
      fields.push({ offset: o, width: 4, what: `.BTF word at ${o - btf.offset}` });
  if (btfExt)
    for (let o = btfExt.offset; o + 4 <= btfExt.offset + btfExt.size; o += 4)
      fields.push({ offset: o, width: 4, what: `.BTF.ext word at ${o - btfExt.offset}` });
  return {
    header: [0, EHDR_SIZE],
    sectionHeaders: [shoff, shoff + elf.sections.length * SHDR_SIZE],
    symtab: elf.sections.find((s) => s.type === SHT_SYMTAB) ? range(elf.symtab!) : undefined,
    rels: elf.sections.filter((s) => s.type === SHT_REL).map(range),
    btf: btf ? range(btf) : undefined,
    btfExt: btfExt ? range(btfExt) : undefined,
    code: elf.sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0).map(range),
    fields,
  };
}

const BOUNDARY_VALUES = [
  0, 1, 2, 7, 8, 0x7f, 0xff, 0x100, 0xff00, 0xfff1, 0xfff2, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
  0xffffffff,
];

function mutate(
  seed: Uint8Array,
  layout: Layout,
  rand: () => number,
): { bytes: Uint8Array; mutation: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = seed.slice();
  const flipIn = (what: string, r: [number, number] | undefined): string => {
    if (!r || r[1] <= r[0]) return flipIn("anywhere", [0, bytes.length]);
    const n = 1 + int(4);
    for (let i = 0; i < n; i++) bytes[r[0] + int(r[1] - r[0])] = int(256);
    return `flip ${n} bytes in ${what}`;
  };
  const strategies: (() => { bytes: Uint8Array; mutation: string })[] = [
    () => {
      const len = int(seed.length);
      return { bytes: seed.slice(0, len), mutation: `truncate to ${len}` };
    },
    () => ({ bytes, mutation: flipIn("ELF header", layout.header) }),
    () => ({ bytes, mutation: flipIn("section headers", layout.sectionHeaders) }),
    () => ({ bytes, mutation: flipIn("symbols", layout.symtab) }),
    () => ({
      bytes,
      mutation: flipIn("relocations", layout.rels.length ? pick(layout.rels) : undefined),
    }),
    () => ({ bytes, mutation: flipIn(".BTF", layout.btf) }),
    () => ({ bytes, mutation: flipIn(".BTF.ext", layout.btfExt) }),
    () => ({ bytes, mutation: flipIn("code", layout.code.length ? pick(layout.code) : undefined) }),
    () => ({ bytes, mutation: flipIn("anywhere", [0, bytes.length]) }),
    () =>
      setField(
        bytes,
        pick(layout.fields),
        rand() < 0.7 ? pick(BOUNDARY_VALUES) : int(0x1_0000_0000),
      ),
    () => setField(bytes, pick(layout.fields), pick(BOUNDARY_VALUES)),
  ];
  return pick(strategies)();
}

function setField(
  bytes: Uint8Array,
  field: Layout["fields"][number],
  value: number,
): { bytes: Uint8Array; mutation: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (field.offset + field.width <= bytes.length) {
    if (field.width === 2) view.setUint16(field.offset, value & 0xffff, true);
    else view.setUint32(field.offset, value >>> 0, true);
    if (field.width === 8)
      view.setUint32(field.offset + 4, value === 0xffffffff ? 0xffffffff : 0, true);
  }
  return { bytes, mutation: `set ${field.what} to 0x${value.toString(16)}` };
}

/** Everything a consumer of an untrusted object might do with it at open time. */
function exercise(bytes: Uint8Array, name: string): boolean {
  const object = openObject(bytes, name);
  const btf = object.btf;
  if (btf) {
    dumpBtf(btf);
    encodeBtf(btf);
    for (let id = 1; id < btf.types.length; id++) {
      btfTypeToString(btf, id);
      try {
        btfTypeSize(btf, id);
      } catch (e) {
        if (!(e instanceof TsbpfError)) throw e;
      }
    }
  }
  if (object.btfExt) encodeBtfExt(object.btfExt);
  writeElf(specFromElf(object.elf));
  return true;
}

/** Runs `options.cases` mutants of the seeds through the reader; see FuzzReport. */
export function fuzzObjects(seeds: FuzzSeed[], options: FuzzOptions): FuzzReport {
  const rand = makePrng(options.seed);
  const layouts = seeds.map((s) => layoutOf(readElf(s.bytes, s.name)));
  const report: FuzzReport = {
    cases: 0,
    opened: 0,
    rejected: {},
    crashes: [],
    slowestCaseMs: 0,
    slowestMutation: "",
    totalMs: 0,
  };
  const started = performance.now();
  for (let i = 0; i < options.cases; i++) {
    const which = Math.floor(rand() * seeds.length);
    const seed = seeds[which]!;
    const { bytes, mutation } = mutate(seed.bytes, layouts[which]!, rand);
    const t0 = performance.now();
    try {
      exercise(bytes, seed.name);
      report.opened++;
    } catch (e) {
      if (e instanceof TsbpfError) {
        report.rejected[e.name] = (report.rejected[e.name] ?? 0) + 1;
      } else {
        report.crashes.push({
          case: i,
          seed: seed.name,
          mutation,
          error: e instanceof Error ? (e.stack ?? e.message) : String(e),
        });
      }
    }
    const ms = performance.now() - t0;
    if (ms > report.slowestCaseMs) {
      report.slowestCaseMs = ms;
      report.slowestMutation = `${seed.name}: ${mutation}`;
    }
    report.cases++;
  }
  report.totalMs = performance.now() - started;
  return report;
}
