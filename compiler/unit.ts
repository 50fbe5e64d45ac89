// The compiled unit: what code generation hands to the object writer. Code generation
// (compiler/codegen*) fills it from the checked AST; compiler/emit* turns it into an ELF object
// with .BTF and .BTF.ext. Nothing here knows about ELF; everything here is target code and data.
import type { Insn } from "../runtime/isa/insn.js";
import type { CType, SourcePos } from "./types.js";

/** A reference from an instruction to a symbol, resolved by the object writer into a .rel entry. */
export type InsnReloc =
  /** lddw of a map (legacy `maps` or BTF `.maps`): R_BPF_64_64 against the map's symbol. */
  | { kind: "map"; insn: number; symbol: string }
  /**
   * lddw of a global or of const data: R_BPF_64_64 against the variable's symbol (or, as clang
   * does for string literals, the section symbol with the offset in the lddw's imm).
   */
  | { kind: "data"; insn: number; symbol: string; addend: number }
  /** BPF-to-BPF call (src_reg = BPF_PSEUDO_CALL): R_BPF_64_32 against the callee. */
  | { kind: "call"; insn: number; symbol: string }
  /** lddw of a function's address (callbacks, e.g. bpf_loop): R_BPF_64_64 against the function. */
  | { kind: "func_addr"; insn: number; symbol: string };

/** One source position attached to an instruction, for .BTF.ext line_info. */
export interface LineMark {
  insn: number;
  pos: SourcePos;
}

/** A CO-RE relocation on an instruction, for .BTF.ext core_relo (issue 10). */
export interface CoreReloMark {
  insn: number;
  /** The root type of the access (a record, or the type for type-based kinds). */
  type: CType;
  /** clang's access string, e.g. "0:1:2". */
  access: string;
  /** enum bpf_core_relo_kind */
  kind: number;
}

export interface CompiledFunction {
  name: string;
  /** The SEC("...") name, or ".text" for functions without one. */
  section: string;
  /** STB_GLOBAL unless the function is static. */
  global: boolean;
  /** The C type of the function, for BTF FUNC / FUNC_PROTO. */
  type: CType;
  /** Parameter names, for BTF. */
  paramNames: string[];
  insns: Insn[];
  relocs: InsnReloc[];
  lines: LineMark[];
  coreRelos: CoreReloMark[];
  /** Stack bytes used (for diagnostics and stats). */
  stackSize: number;
  pos: SourcePos;
}

/** A global object: a variable in .data/.bss/.rodata, a map, the license, the version. */
export interface CompiledGlobal {
  name: string;
  /** ".data", ".bss", ".rodata", ".rodata.str1.1", ".maps", "maps", "license", "version", or a SEC name. */
  section: string;
  global: boolean;
  type: CType;
  /** Initial bytes (all zero for .bss); length = sizeof(type). */
  bytes: Uint8Array;
  /** Relocations inside the data (e.g. `__array(values, ...)` slots in .maps: R_BPF_64_ABS64). */
  dataRelocs: { offset: number; symbol: string; kind: "abs64" | "abs32" }[];
  /** extern variables (`__kconfig`, `__ksym`, weak) have no bytes and are undefined symbols. */
  external?: { weak: boolean; section: ".kconfig" | ".ksyms" | undefined };
  pos: SourcePos;
}

export interface CompiledUnit {
  /** The main source file name (for BTF.ext line info file names and the STT_FILE symbol). */
  file: string;
  functions: CompiledFunction[];
  globals: CompiledGlobal[];
  /** Reads a source line for line_info's line text (1-based line). */
  sourceLine(file: string, line: number): string | undefined;
}
