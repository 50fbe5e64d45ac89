// A small WebAssembly module encoder: what the JIT needs and nothing more.
//
// The binary format (WebAssembly Core Specification 2.0, chapter 5): a magic number and
// version, then sections in a fixed order (type 1, import 2, function 3, global 6, export 7,
// code 10, custom "name" 0 last), each a byte id and a LEB128 byte length. Integers are LEB128:
// unsigned for indices and lengths, signed for i32.const / i64.const immediates.
//
// 64-bit constants arrive as (lo, hi) pairs of int32, so the encoder needs no BigInt.
//
// `Code` builds one function body (an expression); `ModuleBuilder` assembles the sections and
// remembers where each function's instructions start in the module, so a trap's byte offset in
// a stack trace can be mapped back to the instruction that raised it.

/** Value types (spec 5.3.1). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export type ValType = typeof I32 | typeof I64;

/** The empty block type (a block that takes and returns nothing). */
export const BLOCK_VOID = 0x40;

/** Instruction opcodes used by the JIT (spec 5.4). */
export const enum Op {
  unreachable = 0x00,
  nop = 0x01,
  block = 0x02,
  loop = 0x03,
  if = 0x04,
  else = 0x05,
  end = 0x0b,
  br = 0x0c,
  br_if = 0x0d,
  br_table = 0x0e,
  return = 0x0f,
  call = 0x10,
  drop = 0x1a,
  select = 0x1b,

  local_get = 0x20,
  local_set = 0x21,
  local_tee = 0x22,
  global_get = 0x23,
  global_set = 0x24,

  i32_load = 0x28,
  i64_load = 0x29,
  i32_load8_s = 0x2c,
  i32_load8_u = 0x2d,
  i32_load16_s = 0x2e,
  i32_load16_u = 0x2f,
  i64_load8_s = 0x30,
  i64_load8_u = 0x31,
  i64_load16_s = 0x32,
  i64_load16_u = 0x33,
  i64_load32_s = 0x34,
  i64_load32_u = 0x35,
  i32_store = 0x36,
  i64_store = 0x37,
  i32_store8 = 0x3a,
  i32_store16 = 0x3b,
  i64_store8 = 0x3c,
  i64_store16 = 0x3d,
  i64_store32 = 0x3e,

  i32_const = 0x41,
  i64_const = 0x42,

  i32_eqz = 0x45,
  i32_eq = 0x46,
  i32_ne = 0x47,
  i32_lt_s = 0x48,
  i32_lt_u = 0x49,
  i32_gt_s = 0x4a,
  i32_gt_u = 0x4b,
  i32_le_s = 0x4c,
  i32_le_u = 0x4d,
  i32_ge_s = 0x4e,
  i32_ge_u = 0x4f,

  i64_eqz = 0x50,
  i64_eq = 0x51,
  i64_ne = 0x52,
  i64_lt_s = 0x53,
  i64_lt_u = 0x54,
  i64_gt_s = 0x55,
  i64_gt_u = 0x56,
  i64_le_s = 0x57,
  i64_le_u = 0x58,
  i64_ge_s = 0x59,
  i64_ge_u = 0x5a,

  i32_add = 0x6a,
  i32_sub = 0x6b,
  i32_mul = 0x6c,
  i32_div_s = 0x6d,
  i32_div_u = 0x6e,
  i32_rem_s = 0x6f,
  i32_rem_u = 0x70,
  i32_and = 0x71,
  i32_or = 0x72,
  i32_xor = 0x73,
  i32_shl = 0x74,
  i32_shr_s = 0x75,
  i32_shr_u = 0x76,
  i32_rotl = 0x77,
  i32_rotr = 0x78,

  i64_add = 0x7c,
  i64_sub = 0x7d,
  i64_mul = 0x7e,
  i64_div_s = 0x7f,
  i64_div_u = 0x80,
  i64_rem_s = 0x81,
  i64_rem_u = 0x82,
  i64_and = 0x83,
  i64_or = 0x84,
  i64_xor = 0x85,
  i64_shl = 0x86,
  i64_shr_s = 0x87,
  i64_shr_u = 0x88,
  i64_rotl = 0x89,
  i64_rotr = 0x8a,

  i32_wrap_i64 = 0xa7,
  i64_extend_i32_s = 0xac,
  i64_extend_i32_u = 0xad,

  i32_extend8_s = 0xc0,
  i32_extend16_s = 0xc1,
  i64_extend8_s = 0xc2,
  i64_extend16_s = 0xc3,
  i64_extend32_s = 0xc4,
}

/** A growable byte buffer with the binary format's integer encodings. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): this {
    this.reserve(1);
    this.buf[this.length++] = b & 0xff;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
    return this;
  }

  /** Unsigned LEB128 of a value in 0..2^32-1. */
  u32(value: number): this {
    let v = value >>> 0;
    do {
      const b = v & 0x7f;
      v >>>= 7;
      this.byte(v === 0 ? b : b | 0x80);
    } while (v !== 0);
    return this;
  }

  /** Signed LEB128 of an int32. */
  s32(value: number): this {
    return this.s64(value | 0, (value | 0) >> 31);
  }

  /** Signed LEB128 of the 64-bit value hi:lo (two int32 halves). */
  s64(lo: number, hi: number): this {
    lo |= 0;
    hi |= 0;
    for (;;) {
      const b = lo & 0x7f;
      // arithmetic shift of the pair right by 7
      lo = (lo >>> 7) | (hi << 25);
      hi >>= 7;
      const done =
        (lo === 0 && hi === 0 && (b & 0x40) === 0) || (lo === -1 && hi === -1 && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  /** A name: its UTF-8 byte length, then the bytes. */
  name(text: string): this {
    const data = new TextEncoder().encode(text);
    return this.u32(data.length).bytes(data);
  }

  /** The bytes written so far (a copy). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** One function body's instructions, with an emitter per instruction form. */
export class Code extends ByteWriter {
  op(opcode: Op): this {
    return this.byte(opcode);
  }

  localGet(index: number): this {
    return this.byte(Op.local_get).u32(index);
  }
  localSet(index: number): this {
    return this.byte(Op.local_set).u32(index);
  }
  localTee(index: number): this {
    return this.byte(Op.local_tee).u32(index);
  }
  globalGet(index: number): this {
    return this.byte(Op.global_get).u32(index);
  }
  globalSet(index: number): this {
    return this.byte(Op.global_set).u32(index);
  }

  i32Const(value: number): this {
    return this.byte(Op.i32_const).s32(value);
  }
  /** i64.const hi:lo */
  i64Const(lo: number, hi: number): this {
    return this.byte(Op.i64_const).s64(lo, hi);
  }

  /** A load or store with its memarg: log2 of the alignment hint, and the constant offset. */
  mem(opcode: Op, alignLog2: number, offset = 0): this {
    return this.byte(opcode).u32(alignLog2).u32(offset);
  }

  block(type: number = BLOCK_VOID): this {
    return this.byte(Op.block).byte(type);
  }
  loop(type: number = BLOCK_VOID): this {
    return this.byte(Op.loop).byte(type);
  }
  if(type: number = BLOCK_VOID): this {
    return this.byte(Op.if).byte(type);
  }
  else(): this {
    return this.byte(Op.else);
  }
  end(): this {
    return this.byte(Op.end);
  }
  br(depth: number): this {
    return this.byte(Op.br).u32(depth);
  }
  brIf(depth: number): this {
    return this.byte(Op.br_if).u32(depth);
  }
  brTable(depths: readonly number[], fallback: number): this {
    this.byte(Op.br_table).u32(depths.length);
    for (const d of depths) this.u32(d);
    return this.u32(fallback);
  }
  call(func: number): this {
    return this.byte(Op.call).u32(func);
  }
}

export interface FuncType {
  params: readonly ValType[];
  results: readonly ValType[];
}

interface ImportEntry {
  module: string;
  name: string;
  kind: number; // 0 func, 2 memory, 3 global
  type: number; // type index (func) or value type (global)
  mutable?: boolean;
}

interface FunctionEntry {
  type: number;
  name: string;
  locals: ValType[];
  code: Uint8Array | undefined;
}

interface GlobalEntry {
  type: ValType;
  mutable: boolean;
  lo: number;
  hi: number;
}

const EXTERNAL_FUNC = 0;
const EXTERNAL_MEMORY = 2;
const EXTERNAL_GLOBAL = 3;

/** The encoded module and where each defined function's instructions start in it. */
export interface EncodedModule {
  bytes: Uint8Array;
  /** module byte offset of the first instruction of each defined function, by function index */
  codeOffsets: Map<number, number>;
}

/**
 * Builds a module. Imports must all be added before the first defined function or global
 * (their indices come first in each index space), as the spec's index spaces require.
 */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly imports: ImportEntry[] = [];
  private readonly functions: FunctionEntry[] = [];
  private readonly globals: GlobalEntry[] = [];
  private readonly exports: { name: string; kind: number; index: number }[] = [];
  private importedFunctions = 0;
  private importedGlobals = 0;
  private readonly importNames: string[] = [];

  /** The index of a function type, added if new. */
  type(params: readonly ValType[], results: readonly ValType[]): number {
    const same = (a: readonly ValType[], b: readonly ValType[]): boolean =>
      a.length === b.length && a.every((t, i) => t === b[i]);
    const found = this.types.findIndex((t) => same(t.params, params) && same(t.results, results));
    if (found >= 0) return found;
    this.types.push({ params: [...params], results: [...results] });
    return this.types.length - 1;
  }

  private checkImportOrder(): void {
    if (this.functions.length > 0 || this.globals.length > 0) {
      throw new Error("wasm: imports must precede defined functions and globals");
    }
  }

  importFunction(module: string, name: string, params: ValType[], results: ValType[]): number {
    this.checkImportOrder();
    this.imports.push({ module, name, kind: EXTERNAL_FUNC, type: this.type(params, results) });
    this.importNames.push(name);
    return this.importedFunctions++;
  }

  /** Import a memory with at least `minPages` pages and no maximum. */
  importMemory(module: string, name: string, minPages = 0): void {
    this.checkImportOrder();
    this.imports.push({ module, name, kind: EXTERNAL_MEMORY, type: minPages });
  }

  importGlobal(module: string, name: string, type: ValType, mutable = false): number {
    this.checkImportOrder();
    this.imports.push({ module, name, kind: EXTERNAL_GLOBAL, type, mutable });
    return this.importedGlobals++;
  }

  /** A global with a constant initial value (hi:lo for i64). */
  addGlobal(type: ValType, mutable: boolean, lo = 0, hi = 0): number {
    this.globals.push({ type, mutable, lo, hi });
    return this.importedGlobals + this.globals.length - 1;
  }

  /** Declare a function now (so calls can name it), give its body later with setBody. */
  declareFunction(params: ValType[], results: ValType[], name: string): number {
    this.functions.push({ type: this.type(params, results), name, locals: [], code: undefined });
    return this.importedFunctions + this.functions.length - 1;
  }

  /** The body of a declared function: extra locals (after the params) and its instructions. */
  setBody(func: number, locals: ValType[], code: Uint8Array): void {
    const entry = this.functions[func - this.importedFunctions];
    if (entry === undefined) throw new Error(`wasm: no defined function ${func}`);
    entry.locals = locals;
    entry.code = code;
  }

  exportFunction(name: string, func: number): void {
    this.exports.push({ name, kind: EXTERNAL_FUNC, index: func });
  }

  exportGlobal(name: string, global: number): void {
    this.exports.push({ name, kind: EXTERNAL_GLOBAL, index: global });
  }

  encode(): EncodedModule {
    const out = new ByteWriter();
    out.bytes(Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)); // \0asm, version 1
    const section = (id: number, body: ByteWriter): void => {
      out.byte(id).u32(body.length).bytes(body.view());
    };

    const types = new ByteWriter().u32(this.types.length);
    for (const t of this.types) {
      types.byte(0x60).u32(t.params.length);
      for (const p of t.params) types.byte(p);
      types.u32(t.results.length);
      for (const r of t.results) types.byte(r);
    }
    section(1, types);

    if (this.imports.length > 0) {
      const imports = new ByteWriter().u32(this.imports.length);
      for (const imp of this.imports) {
        imports.name(imp.module).name(imp.name).byte(imp.kind);
        if (imp.kind === EXTERNAL_FUNC) imports.u32(imp.type);
        else if (imp.kind === EXTERNAL_MEMORY)
          imports.byte(0x00).u32(imp.type); // min only
        else imports.byte(imp.type).byte(imp.mutable ? 1 : 0);
      }
      section(2, imports);
    }

    const funcs = new ByteWriter().u32(this.functions.length);
    for (const f of this.functions) funcs.u32(f.type);
    section(3, funcs);

    if (this.globals.length > 0) {
      const globals = new ByteWriter().u32(this.globals.length);
      for (const g of this.globals) {
        globals.byte(g.type).byte(g.mutable ? 1 : 0);
        if (g.type === I32) globals.byte(Op.i32_const).s32(g.lo);
        else globals.byte(Op.i64_const).s64(g.lo, g.hi);
        globals.byte(Op.end);
      }
      section(6, globals);
    }

    if (this.exports.length > 0) {
      const exports = new ByteWriter().u32(this.exports.length);
      for (const e of this.exports) exports.name(e.name).byte(e.kind).u32(e.index);
      section(7, exports);
    }

    // The code section: its offsets are known only once the section header is written, so the
    // bodies are laid out first and their positions shifted afterwards.
    const code = new ByteWriter().u32(this.functions.length);
    const bodyStarts: number[] = [];
    this.functions.forEach((f, i) => {
      if (f.code === undefined) {
        throw new Error(`wasm: function ${this.importedFunctions + i} has no body`);
      }
      const body = new ByteWriter();
      // locals, run-length encoded by type
      const runs: [number, ValType][] = [];
      for (const t of f.locals) {
        const last = runs[runs.length - 1];
        if (last !== undefined && last[1] === t) last[0]++;
        else runs.push([1, t]);
      }
      body.u32(runs.length);
      for (const [n, t] of runs) body.u32(n).byte(t);
      const localsLength = body.length;
      body.bytes(f.code);
      code.u32(body.length);
      bodyStarts.push(code.length + localsLength);
      code.bytes(body.view());
    });
    out.byte(10).u32(code.length);
    const codeStart = out.length;
    out.bytes(code.view());
    const codeOffsets = new Map<number, number>();
    bodyStarts.forEach((start, i) =>
      codeOffsets.set(this.importedFunctions + i, codeStart + start),
    );

    // Function names, for readable stack traces (custom section "name", subsection 1).
    const names = new ByteWriter().u32(this.importNames.length + this.functions.length);
    this.importNames.forEach((n, i) => names.u32(i).name(n));
    this.functions.forEach((f, i) => names.u32(this.importedFunctions + i).name(f.name));
    const nameSection = new ByteWriter().name("name").byte(1).u32(names.length).bytes(names.view());
    section(0, nameSection);

    return { bytes: out.toBytes(), codeOffsets };
  }
}
