// The JIT's driver: a prepared program -> one WebAssembly module.
//
//   buildCfg (cfg.ts) -> analyzeLiveness (liveness.ts) -> structureFunction (structure.ts)
//   -> compileFunction (codegen.ts) per BPF function -> ModuleBuilder (wasm.ts) -> Module
//
// The module imports the address space's memory, three constants (the control block, the top
// of the stack, the lowest frame that may still call) and five functions (abi.ts; machine.ts
// provides them). It exports `enter_<pc>` for every function: runs, callbacks and tail calls
// start there with the registers in the control block.
//
// Why WebAssembly and not JavaScript (measured, not assumed): BPF registers are 64-bit.
// Generated JavaScript has to carry every register as two int32 halves (BigInt is far too
// slow), so a 64-bit add becomes a carry computation, a shift three shifts and an or, a multiply
// or divide a call into the interpreter's multi-step routines; WebAssembly has i64 locals that
// V8 keeps in machine registers. alu64_xorshift's loop hand-translated the way a JavaScript
// generator would emit it ran at ~2,900 M insn/s of CPU time; this compiler's module for the
// same program runs at ~11,000 M insn/s on the same machine (bench/jit.ts), as fast as the
// same loop written in C and built with cc -O2 (bench/native).
import { TsbpfError } from "../error.js";
import type { Program } from "../vm/program.js";
import { buildCfg } from "./cfg.js";
import {
  compileFunction,
  functionParams,
  functionResults,
  type JitFacts,
  type MemoryChecks,
  type ModuleIndices,
} from "./codegen.js";
import { findInlineLookups } from "./inline.js";
import { analyzeLiveness, regsOf, type ProgramLiveness } from "./liveness.js";
import { structureAsDispatch, structureFunction, type StructuredFunction } from "./structure.js";
import { CB_REGS, IMPORT_MODULE } from "./abi.js";
import { wasmApi, type WasmModule } from "./wasm-api.js";
import { Code, I32, I64, ModuleBuilder, Op, type ValType } from "./wasm.js";

/** A program the JIT cannot compile (too large for WebAssembly, say). */
export class JitError extends TsbpfError {}

export interface CompileOptions {
  /** How loads and stores are checked; default "regions" (the interpreter's checked mode). */
  checks?: MemoryChecks;
  /** Count executed instructions (needed for an instruction budget); default false. */
  counted?: boolean;
  /** What a verifier proved (accesses it proved in bounds are not checked). */
  facts?: JitFacts;
}

/** Where each BPF instruction's code starts, for one wasm function. */
export interface PositionTable {
  /** module byte offsets, ascending */
  offsets: Int32Array;
  /** the slot whose code starts at the same index of offsets */
  pcs: Int32Array;
}

export interface JitModule {
  program: Program;
  module: WasmModule;
  checks: MemoryChecks;
  counted: boolean;
  facts: JitFacts | undefined;
  /** by wasm function index */
  positions: Map<number, PositionTable>;
  /** export name of the entry wrapper of the function starting at each slot */
  entries: Map<number, string>;
  /** size of the module in bytes */
  byteLength: number;
  /** BPF functions compiled through the dispatch loop (irreducible or too deep) */
  dispatchFunctions: number;
  /**
   * The registers enter_0 reads from the control block (the main function's parameters, those
   * it may read before writing): all a run has to put there.
   */
  entryRegs: readonly number[];
  /** map_lookup_elem calls compiled inline */
  inlineLookups: number;
}

/** Compile a prepared program to a WebAssembly module. */
export function compileModule(program: Program, options: CompileOptions = {}): JitModule {
  const checks = options.checks ?? "regions";
  const counted = options.counted ?? false;
  const cfg = buildCfg(program);
  const inlined = findInlineLookups(program, cfg, options.facts);
  const liveness = analyzeLiveness(cfg, inlined);
  const m = new ModuleBuilder();

  m.importMemory(IMPORT_MODULE, "memory");
  const call = m.importFunction(IMPORT_MODULE, "call", [I32, I32, I32, I32, I32], [I32]);
  const access = m.importFunction(IMPORT_MODULE, "access", [I32, I32, I32, I32, I32], [I32]);
  const depthFault = m.importFunction(IMPORT_MODULE, "depthFault", [I32], []);
  const refill = m.importFunction(IMPORT_MODULE, "refill", [I32, I32], [I32]);
  const packetMiss = m.importFunction(IMPORT_MODULE, "packetMiss", [I32], []);
  const indices: ModuleIndices = {
    functions: [],
    call,
    access,
    depthFault,
    refill,
    packetMiss,
    regs: m.importGlobal(IMPORT_MODULE, "regs", I32),
    stackTop: m.importGlobal(IMPORT_MODULE, "stackTop", I32),
    callLimit: m.importGlobal(IMPORT_MODULE, "callLimit", I32),
  };

  for (const f of cfg.functions) {
    indices.functions.push(
      m.declareFunction(
        functionParams(liveness, f.index),
        functionResults(liveness, f.index),
        `bpf_${program.name}_${f.start}`,
      ),
    );
  }

  let dispatchFunctions = 0;
  const positions = new Map<number, PositionTable>();
  const relative = new Map<number, number[]>();
  for (const f of cfg.functions) {
    const codegenOptions = { checks, counted, facts: options.facts, inlined };
    let body;
    try {
      const structured = structureFunction(f);
      body = compileFunction(program, cfg, liveness, f, structured, indices, codegenOptions);
      if (structured.dispatch) dispatchFunctions++;
    } catch (err) {
      // Very deep nesting can exhaust the JavaScript stack in the recursive translation;
      // the dispatch loop is emitted without recursion.
      if (!(err instanceof RangeError)) throw err;
      const structured: StructuredFunction = structureAsDispatch(f);
      body = compileFunction(program, cfg, liveness, f, structured, indices, codegenOptions);
      dispatchFunctions++;
    }
    const func = indices.functions[f.index]!;
    m.setBody(func, body.locals, body.code);
    relative.set(func, body.positions);
  }

  const entries = new Map<number, string>();
  for (const f of cfg.functions) {
    const name = `enter_${f.start}`;
    entries.set(f.start, name);
    exportEntry(m, liveness, indices, f.index, name);
  }

  const encoded = m.encode();
  for (const [func, pairs] of relative) {
    const base = encoded.codeOffsets.get(func)!;
    const n = pairs.length / 2;
    const table: PositionTable = { offsets: new Int32Array(n), pcs: new Int32Array(n) };
    for (let i = 0; i < n; i++) {
      table.offsets[i] = base + pairs[2 * i]!;
      table.pcs[i] = pairs[2 * i + 1]!;
    }
    positions.set(func, table);
  }
  let module: WasmModule;
  try {
    module = new wasmApi.Module(encoded.bytes);
  } catch (err) {
    // V8 refuses functions or modules beyond its implementation limits.
    throw new JitError(`${program.name}: cannot compile to WebAssembly: ${(err as Error).message}`);
  }
  return {
    program,
    module,
    checks,
    counted,
    facts: options.facts,
    positions,
    entries,
    byteLength: encoded.bytes.length,
    dispatchFunctions,
    entryRegs: regsOf(liveness.functions[cfg.functionAt.get(0)!]!.params),
    inlineLookups: inlined.size,
  };
}

/** Load a function's parameters from the control block, call it, store its results back. */
function callThroughControlBlock(
  c: Code,
  liveness: ProgramLiveness,
  ix: ModuleIndices,
  index: number,
  firstTemp: number,
): void {
  c.localGet(0); // fp
  for (const r of regsOf(liveness.functions[index]!.params)) {
    c.globalGet(ix.regs).mem(Op.i64_load, 3, CB_REGS + 8 * r);
  }
  c.call(ix.functions[index]!);
  const results = regsOf(liveness.functions[index]!.results);
  for (let i = results.length - 1; i >= 0; i--) c.localSet(firstTemp + i);
  results.forEach((r, i) => {
    c.globalGet(ix.regs)
      .localGet(firstTemp + i)
      .mem(Op.i64_store, 3, CB_REGS + 8 * r);
  });
}

/**
 * enter_<pc>(fp): the function at pc, its registers from the control block, its results back
 * there. A run enters the program at enter_0; callbacks and tail calls at their function.
 */
function exportEntry(
  m: ModuleBuilder,
  liveness: ProgramLiveness,
  ix: ModuleIndices,
  index: number,
  name: string,
): void {
  const c = new Code();
  callThroughControlBlock(c, liveness, ix, index, 1);
  c.end();
  const func = m.declareFunction([I32], [], name);
  m.setBody(func, resultTemps(), c.toBytes());
  m.exportFunction(name, func);
}

/** Locals for up to r0-r5 returned by a function. */
function resultTemps(): ValType[] {
  return new Array<ValType>(6).fill(I64);
}
