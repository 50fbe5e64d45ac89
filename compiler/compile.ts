// The compiler as one in-process call: C source -> BPF ELF object, the way
// `clang -O2 -g -target bpf -c` does it. Used by `tsbpf build`, the tests, the bench and the
// loader API (open an object from C source).
//
//   compile("prog.bpf.c", { includeDirs, defines, optLevel: 2, cpu: "v3", debug: true })
//   compile({ file: "prog.bpf.c", source: text }, options)
//
// On errors it throws a CompileError carrying every diagnostic (render() prints them as clang
// does); warnings come back in `diagnostics`.
import { generate } from "./codegen.js";
import { CompileError, type Diagnostic, type SourceProvider } from "./diagnostics.js";
import { emitObject } from "./emit.js";
import {
  checkProgram,
  type CheckedProgram,
  type FrontendCache,
  type FrontendOptions,
} from "./frontend.js";
import { preprocess } from "./preprocess.js";
import { printTokens } from "./preprocess.js";
import type { CompiledGlobal, CompiledUnit } from "./unit.js";

export type Cpu = "v1" | "v2" | "v3" | "v4";

export interface CompileOptions {
  /** -I directories, in order */
  includeDirs?: string[];
  /** -D values: "NAME" or "NAME=VALUE" */
  defines?: string[];
  /** -U names */
  undefines?: string[];
  /** -O0 or -O2 (default 2) */
  optLevel?: 0 | 2;
  /** -mcpu (default v3: 32-bit ALU and JMP32, as clang -mcpu=v3) */
  cpu?: Cpu;
  /** -g: .BTF.ext line_info (default true; .BTF and func_info are always written) */
  debug?: boolean;
  /** the directory relative file names in line_info are joined to (default: the cwd) */
  cwd?: string;
  /** reads included files (default: the file system) */
  readFile?: (path: string) => string | undefined;
  /**
   * the front end's prefix cache (the state after the main file's leading #include lines): a
   * process-wide one by default, false for none. It never changes a result.
   */
  cache?: FrontendCache | false;
  /**
   * false: every record body is parsed where it is, none read past (see FrontendOptions); for
   * the tests that compare the two. Implies no cache.
   */
  deferBodies?: boolean;
}

/** A file path, or a file name with its text. */
export type CompileInput = string | { file: string; source?: string };

export interface CompileTimings {
  preprocessMs: number;
  parseMs: number;
  semaMs: number;
  codegenMs: number;
  emitMs: number;
  totalMs: number;
}

export interface CompileResult {
  /** the ELF object */
  object: Uint8Array;
  /** warnings (errors throw) */
  diagnostics: Diagnostic[];
  /** file texts by name, to render the diagnostics */
  sources: SourceProvider;
  unit: CompiledUnit;
  timings: CompileTimings;
}

/** Compiles C to a BPF object. Throws CompileError (a TsbpfError) when the input has errors. */
export function compile(input: CompileInput, options: CompileOptions = {}): CompileResult {
  const started = performance.now();
  const file = typeof input === "string" ? { file: input } : input;
  const checked = checkProgram(file, frontendOptions(options));
  const bag = checked.diagnostics;
  bag.throwIfErrors(checked.sources);
  const t0 = performance.now();
  const generated = generate(checked, {
    optLevel: options.optLevel ?? 2,
    cpu: options.cpu ?? "v3",
    debugLines: options.debug ?? true,
  });
  // The object is named after the main file (its STT_FILE symbol), whatever the first token's.
  const unit: CompiledUnit = withKfuncs({ ...generated, file: file.file }, checked);
  const t1 = performance.now();
  const object = emitObject(unit, {
    debugLines: options.debug ?? true,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  });
  const t2 = performance.now();
  return {
    object,
    diagnostics: bag.items.filter((d) => d.severity !== "error"),
    sources: checked.sources,
    unit,
    timings: {
      ...checked.timings,
      codegenMs: t1 - t0,
      emitMs: t2 - t1,
      totalMs: t2 - started,
    },
  };
}

/** `-E`: the preprocessed text (as clang -E -P prints it). Throws CompileError on errors. */
export function preprocessOnly(
  input: CompileInput,
  options: CompileOptions = {},
): { text: string; diagnostics: Diagnostic[]; sources: SourceProvider } {
  const file = typeof input === "string" ? { file: input } : input;
  const result = preprocess(
    file.source !== undefined ? { text: file.source, name: file.file } : { path: file.file },
    {
      includePaths: options.includeDirs ?? [],
      defines: options.defines ?? [],
      undefines: options.undefines ?? [],
      optimize: (options.optLevel ?? 2) > 0,
      ...(options.readFile ? { readFile: options.readFile } : {}),
    },
  );
  if (result.diagnostics.hasErrors())
    throw new CompileError(result.diagnostics.items, result.sources);
  return {
    text: printTokens(result.tokens),
    diagnostics: result.diagnostics.items,
    sources: result.sources,
  };
}

/**
 * Functions the code calls that the unit does not define are kfuncs (`extern ... __ksym`): the
 * writer gets them as external globals of function type, with their C type for BTF.
 */
function withKfuncs(unit: CompiledUnit, checked: CheckedProgram): CompiledUnit {
  const defined = new Set([...unit.functions, ...unit.globals].map((x) => x.name));
  const called = new Set<string>();
  for (const f of unit.functions)
    for (const r of f.relocs)
      if ((r.kind === "call" || r.kind === "func_addr") && !defined.has(r.symbol))
        called.add(r.symbol);
  if (called.size === 0) return unit;
  const externs: CompiledGlobal[] = [];
  for (const g of checked.sema?.globals ?? []) {
    if (g.kind !== "function" || !called.has(g.name)) continue;
    const section = g.section === ".ksyms" ? ".ksyms" : undefined;
    externs.push({
      name: g.name,
      section: section ?? ".extern",
      global: true,
      type: g.type,
      bytes: new Uint8Array(0),
      dataRelocs: [],
      external: { weak: g.attributes.some((a) => a.name === "weak"), section },
      pos: { file: g.loc.file, line: g.loc.line, col: g.loc.col },
    });
  }
  return { ...unit, globals: [...unit.globals, ...externs] };
}

function frontendOptions(options: CompileOptions): FrontendOptions {
  return {
    includeDirs: options.includeDirs ?? [],
    defines: options.defines ?? [],
    undefines: options.undefines ?? [],
    cpu: options.cpu ?? "v3",
    optimize: (options.optLevel ?? 2) > 0,
    ...(options.readFile ? { readFile: options.readFile } : {}),
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    ...(options.deferBodies !== undefined ? { deferBodies: options.deferBodies } : {}),
  };
}
