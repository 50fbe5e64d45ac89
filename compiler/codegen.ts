// Code generation: from the checked AST to BPF instructions, one CompiledUnit per translation
// unit (compiler/unit.ts), which compiler/emit* writes out as an ELF object.
//
//   lower*.ts     AST -> IR (ir.ts), one function at a time. Locals whose address is never
//                 taken are SSA values (built on the fly, Braun et al.); the others, aggregates
//                 and volatiles live in stack slots. Loads and stores are explicit, with width
//                 and signedness; values are i32 (int and narrower, kept normalised: a char is
//                 sign-extended to 32 bits) or i64 (long, pointers). Calls are resolved here:
//                 helpers (function pointers initialised with `(void *) ID`, the style of
//                 bpf_helper_defs.h and the kernel samples), functions of the file (inlined when
//                 always_inline, or at -O2 unless noinline or large and called from several
//                 places; otherwise BPF-to-BPF calls), kfuncs (__ksym), legacy packet loads
//                 (load_byte & co), builtins. Struct copies and zeroing, __builtin_memcpy/memset
//                 of constant size become loads and stores. CO-RE (lower-core.ts): member accesses
//                 through preserve_access_index records or inside __builtin_preserve_access_index
//                 collapse into one relocated field offset per access chain, and the
//                 __builtin_preserve_* / __builtin_btf_type_id builtins give relocated values -
//                 "core" instructions the optimiser cannot see through, merged like clang's
//                 machine CSE, whose relocation instruction selection puts on a mov/lddw or moves
//                 into a load/store offset or a shift immediate as clang does. Loops under an
//                 unroll pragma - and at -O2 small counting loops, as clang's full unroller -
//                 are unrolled; the others stay bounded loops. Globals get their section and
//                 initial bytes (lower-globals), in clang's order.
//   opt*.ts       -O2 only, to a fixed point: constant folding and propagation, copy propagation
//                 (with SSA, replacing uses), algebraic simplification and strength reduction,
//                 folding of constant globals and of address arithmetic, branch folding and CFG
//                 clean-up, if-conversion of small diamonds to selects, common subexpressions
//                 with redundant-load and store-to-load elimination over extended basic blocks,
//                 sign-agnostic narrow loads made unsigned, dead code elimination; a peephole
//                 pass after allocation. -O0 runs none of it.
//   isel*.ts      IR -> machine IR, BPF instructions over virtual registers: ALU32 for i32 values
//                 (as clang -mcpu=v3's alu32: upper halves are zero, so unsigned widening is
//                 free), JMP32 compares from v3 (before, operands are widened), immediates where
//                 they fit, st imm for stack stores, constants and stack/global addresses
//                 rematerialised rather than kept across calls, and sequences for what a cpu
//                 lacks (sign-extending loads/moves and signed division before v4, the "less
//                 than" jumps on v1). Phis become copies, before the branch when the registers are
//                 dead on the other way out, else on a split edge.
//   regalloc.ts   iterated register coalescing over r0-r9; a call defines r0-r5, so values live
//                 across it get r6-r9 or are spilled to 8-byte stack slots.
//   isel-layout   frame layout with stack colouring at -O2 (slots with disjoint lifetimes share
//                 bytes; over 512 bytes is an error naming the function), block order, branch
//                 resolution, encoding with relocations and line marks.
//
// What BPF cannot express gets a clang-style diagnostic with its place, in clang's words where
// clang has some (see test/codegen/errors.test.ts): floating point, __int128, recursion, more
// than 5 arguments, struct arguments and returns of real calls, variadic functions, address of a
// helper, undefined or indirect callees, a stack address handed to a helper argument that must
// be a map/ctx/ring buffer record/constant string..., a returned or globally stored stack
// address, stack over 512 bytes, atomics needing a newer cpu, memcpy of run-time size, inline
// assembly other than empty barriers. They go into the front end's DiagnosticBag and generate()
// throws a CompileError carrying them all.
import type { CheckedProgram } from "./frontend.js";
import { CompileError } from "./diagnostics.js";
import type { CompiledFunction, CompiledUnit } from "./unit.js";
import { type Cpu, type LoweredFunction, UnitLowering } from "./lower.js";
import { optimize } from "./opt.js";
import { selectInstructions } from "./isel.js";
import { allocateRegisters } from "./regalloc.js";
import { MAX_STACK, encode, expandPseudos, layoutFrame } from "./isel-layout.js";
import { peephole } from "./opt-peephole.js";
import { diagnosticLoc, lineStarts } from "./lexer.js";
import type { Func } from "./ir.js";

export interface CodegenOptions {
  optLevel: 0 | 2;
  cpu: Cpu;
  /** Line marks for .BTF.ext line_info (clang -g). */
  debugLines: boolean;
  /** When given, filled with the milliseconds each phase took (summed over functions). */
  timings?: CodegenTimings;
}

export interface CodegenTimings {
  lowerMs: number;
  optimizeMs: number;
  selectMs: number;
  allocateMs: number;
  layoutMs: number;
  globalsMs: number;
}

export function generate(checked: CheckedProgram, opts: CodegenOptions): CompiledUnit {
  const bag = checked.diagnostics;
  if (checked.sema === undefined || bag.hasErrors())
    throw new CompileError(bag.items, checked.sources);
  const t = opts.timings;
  let t0 = performance.now();
  const unit = new UnitLowering(checked, { optLevel: opts.optLevel, cpu: opts.cpu });
  const lowered = unit.lowerFunctions();
  if (t) t.lowerMs += performance.now() - t0;
  bag.throwIfErrors(checked.sources);
  const functions = lowered.map((f) => compileFunction(unit, f, opts));
  t0 = performance.now();
  const referenced = new Set<string>();
  for (const f of functions)
    for (const r of f.relocs) if (r.kind === "map" || r.kind === "data") referenced.add(r.symbol);
  const globals = unit.compileGlobals(referenced);
  if (t) t.globalsMs += performance.now() - t0;
  bag.throwIfErrors(checked.sources);
  const sources = checked.sources;
  // line_info asks for a line per record: each file's line starts are found once.
  const lined = new Map<string, { text: string; starts: number[] } | undefined>();
  return {
    file: checked.unit!.loc.file,
    functions,
    globals,
    sourceLine(file: string, line: number): string | undefined {
      let source = lined.get(file);
      if (!lined.has(file)) {
        const text = sources(file);
        source = text === undefined ? undefined : { text, starts: lineStarts(text) };
        lined.set(file, source);
      }
      const start = source?.starts[line - 1];
      if (source === undefined || start === undefined) return undefined;
      const end = source.text.indexOf("\n", start);
      return source.text.slice(start, end < 0 ? source.text.length : end);
    },
  };
}

function compileFunction(
  unit: UnitLowering,
  f: LoweredFunction,
  opts: CodegenOptions,
): CompiledFunction {
  const t = opts.timings;
  let t0 = performance.now();
  optimize(f.func, opts.optLevel);
  checkAtomics(unit, f.func, opts.cpu);
  let t1 = performance.now();
  if (t) t.optimizeMs += t1 - t0;
  const mf = selectInstructions(f.func, { cpu: opts.cpu });
  t0 = performance.now();
  if (t) t.selectMs += t0 - t1;
  allocateRegisters(mf);
  t1 = performance.now();
  if (t) t.allocateMs += t1 - t0;
  const stackSize = layoutFrame(mf, opts.optLevel > 0);
  const at = f.decl.definition?.declarator.nameLoc ?? f.decl.loc;
  if (stackSize > MAX_STACK) {
    unit.error(
      at,
      `Looks like the BPF stack limit of 512 bytes is exceeded. Please move large on stack variables into BPF per-cpu array map. (function '${f.decl.name}' uses ${stackSize} bytes)`,
    );
  }
  expandPseudos(mf);
  if (opts.optLevel > 0) peephole(mf);
  const { insns, relocs, lines, coreRelos } = encode(mf, opts.cpu, opts.debugLines);
  if (t) t.layoutMs += performance.now() - t1;
  const l = diagnosticLoc(at);
  return {
    name: f.decl.name,
    section: f.section,
    global: f.global,
    type: f.decl.type,
    paramNames: f.decl.params.map((p) => p.name),
    insns,
    relocs,
    lines,
    coreRelos,
    stackSize,
    pos: { file: l.file, line: l.line, col: l.col },
  };
}

/** Atomics that return the old value need BPF_FETCH, which exists from cpu v3. */
function checkAtomics(unit: UnitLowering, fn: Func, cpu: Cpu): void {
  if (cpu === "v3" || cpu === "v4") return;
  for (const b of fn.blocks) {
    for (const inst of b.insts) {
      if (inst.op !== "atomic" || !inst.fetch) continue;
      const p = inst.pos;
      unit.diags.error(
        p ? { file: p.file, line: p.line, col: p.col } : undefined,
        "Invalid usage of the XADD return value: atomics that return the old value need -mcpu=v3 or later",
      );
    }
  }
}
