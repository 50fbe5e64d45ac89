// The BPF conformance-suite vector format (`.data` files) and a runner for it.
//
// A vector is a sequence of sections, each starting with a `-- NAME` line:
//   -- asm     the program (uBPF assembler syntax, runtime/isa/asm.ts)
//   -- raw     the program as 64-bit instruction words in hex (used when there is no asm)
//   -- mem     hex bytes of the memory buffer; r1 = its address, r2 = its length on entry
//   -- result  the expected r0 at exit, in hex
//   -- c, -- no register offset   informative notes, ignored (as the suite's own parser does)
// `#` starts a comment. Lines before the first section are comments.
//
// The runner puts the buffer in its own region (also the packet that legacy ld_abs/ld_ind
// read), gives the program the interpreter's stack, and registers the six test helpers the
// suite expects by id (see testHelpers).
import { TsbpfError } from "../error.js";
import { assemble } from "../isa/asm.js";
import type { Insn } from "../isa/insn.js";
import { mulHighU32 } from "./alu64.js";
import { HelperTable, type HelperContext } from "./helpers.js";
import { VmFault } from "./fault.js";
import { Interpreter, type RunResult } from "./interpreter.js";
import { AddressSpace, hex64 } from "./memory.js";
import { prepareProgram, type Program } from "./program.js";

/** A malformed vector file, with file:line. */
export class VectorError extends TsbpfError {}

export interface Vector {
  file: string;
  /** the program, assembled (or decoded from `-- raw`) */
  insns: Insn[];
  /** the decoded `-- raw` words, when present */
  raw?: Insn[];
  mem: Uint8Array;
  /** expected r0, when the vector states it */
  expected?: { lo: number; hi: number };
}

const NOTE_SECTIONS = new Set(["c", "no register offset"]);

/** Parse a `.data` vector; `file` names it in error messages. */
export function parseVector(text: string, file = "<vector>"): Vector {
  const lines = text.split(/\r?\n/);
  const sections = new Map<string, { line: number; body: string[] }>();
  let current: string[] | undefined;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const header = /^--\s*(.*?)\s*$/.exec(line);
    if (header) {
      const name = header[1]!.toLowerCase();
      if (!NOTE_SECTIONS.has(name) && !["asm", "raw", "mem", "result"].includes(name)) {
        throw new VectorError(`${file}:${n + 1}:1: unknown section '-- ${header[1]}'`);
      }
      if (sections.has(name))
        throw new VectorError(`${file}:${n + 1}:1: section '-- ${name}' appears twice`);
      // Pad with blank lines so that body line k is file line k + 1 (assembler messages).
      current = new Array<string>(n + 1).fill("");
      sections.set(name, { line: n + 1, body: current });
      continue;
    }
    current?.push(line);
  }
  const asm = sections.get("asm");
  const raw = sections.get("raw");
  const vector: Vector = { file, insns: [], mem: new Uint8Array(0) };
  if (raw) vector.raw = parseRaw(raw.body, file);
  if (asm) vector.insns = assemble(asm.body.join("\n"), file);
  else if (vector.raw) vector.insns = vector.raw;
  else throw new VectorError(`${file}: no '-- asm' or '-- raw' section`);
  const mem = sections.get("mem");
  if (mem) vector.mem = parseMem(mem.body, file);
  const result = sections.get("result");
  if (result) vector.expected = parseResult(result.body, file, result.line);
  return vector;
}

/** Strip a `#` comment and surrounding blanks. */
function clean(line: string): string {
  const hash = line.indexOf("#");
  return (hash >= 0 ? line.slice(0, hash) : line).trim();
}

function parseMem(body: string[], file: string): Uint8Array {
  const bytes: number[] = [];
  body.forEach((line, n) => {
    for (const token of clean(line).split(/\s+/)) {
      if (token === "") continue;
      if (!/^[0-9a-fA-F]{2}$/.test(token)) {
        throw new VectorError(
          `${file}:${n + 1}:${line.indexOf(token) + 1}: bad memory byte '${token}'`,
        );
      }
      bytes.push(parseInt(token, 16));
    }
  });
  return Uint8Array.from(bytes);
}

/** A 64-bit hex literal (0x optional) as (lo, hi), or undefined. */
export function parseHex64(text: string): { lo: number; hi: number } | undefined {
  const m = /^(?:0[xX])?([0-9a-fA-F]{1,16})$/.exec(text);
  if (!m) return undefined;
  const digits = m[1]!.padStart(16, "0");
  return { hi: parseInt(digits.slice(0, 8), 16) | 0, lo: parseInt(digits.slice(8), 16) | 0 };
}

function parseResult(body: string[], file: string, headerLine: number): { lo: number; hi: number } {
  const values = body.map(clean).filter((l) => l !== "");
  const at = `${file}:${headerLine}:1`;
  if (values.length !== 1)
    throw new VectorError(`${at}: '-- result' must hold one value, found ${values.length}`);
  const value = parseHex64(values[0]!);
  if (!value) throw new VectorError(`${at}: bad result '${values[0]}' (64-bit hex expected)`);
  return value;
}

function parseRaw(body: string[], file: string): Insn[] {
  const insns: Insn[] = [];
  body.forEach((line, n) => {
    const text = clean(line);
    if (text === "") return;
    const word = parseHex64(text);
    if (!word) throw new VectorError(`${file}:${n + 1}:1: bad instruction word '${text}'`);
    // Little-endian struct bpf_insn read as one u64: code, regs, off in the low word; imm high.
    insns.push({
      code: word.lo & 0xff,
      dst: (word.lo >>> 8) & 0xf,
      src: (word.lo >>> 12) & 0xf,
      off: word.lo >> 16,
      imm: word.hi,
    });
  });
  return insns;
}

// ---- the test helpers ----

/**
 * The helpers the conformance suite's runners provide:
 *   0 gather_bytes(a, b, c, d, e) = (a&0xff)<<32 | (b&0xff)<<24 | (c&0xff)<<16 | (d&0xff)<<8 | e&0xff
 *   1 memfrob(ptr, len)   xor each byte with 42, returns 0
 *   2 no_op()             returns 0
 *   3 sqrti(a)            floor(sqrt(a)), a unsigned 64-bit
 *   4 strcmp_ext(a, b)    strcmp of two NUL-terminated strings
 *   5 unwind(a)           returns a; when a is 0 the program stops at once with r0 = 0
 */
export function testHelpers(limits: HelperLimits = {}): HelperTable {
  const memfrobBytes = limits.memfrobBytes ?? Infinity;
  let frobbed = 0;
  return new HelperTable()
    .register(0, "gather_bytes", gatherBytes)
    .register(1, "memfrob", (vm) => {
      frobbed += vm.regs[4]! >>> 0;
      if (frobbed > memfrobBytes) {
        throw new VmFault(
          vm.program.name,
          vm.pc,
          `memfrob has xored more than ${memfrobBytes} bytes in this run (the instruction budget does not count a helper's work)`,
        );
      }
      memfrob(vm);
    })
    .register(2, "no_op", (vm) => setR0(vm, 0, 0))
    .register(3, "sqrti", sqrti)
    .register(4, "strcmp_ext", strcmpExt)
    .register(5, "unwind", unwind);
}

/** Bounds on the work the test helpers do for one table (a run, in runVector). */
export interface HelperLimits {
  /** Bytes memfrob may xor in all (default: no bound). */
  memfrobBytes?: number;
}

/**
 * What one vector run's memfrob calls may xor in all: as long as the default instruction budget
 * takes to interpret (about 10 s), so a loop calling it on a big buffer ends too.
 */
const VECTOR_MEMFROB_BYTES = 2 ** 32;

function setR0(vm: HelperContext, lo: number, hi: number): void {
  vm.regs[0] = lo;
  vm.regs[1] = hi;
}

function gatherBytes(vm: HelperContext): void {
  const r = vm.regs;
  const lo =
    ((r[4]! & 0xff) << 24) | ((r[6]! & 0xff) << 16) | ((r[8]! & 0xff) << 8) | (r[10]! & 0xff);
  setR0(vm, lo, r[2]! & 0xff);
}

function memfrob(vm: HelperContext): void {
  const r = vm.regs;
  const length = r[4]! >>> 0;
  // A length with high bits set cannot fit any region: let the read fault on it.
  const bytes = vm.memory.readBytes(r[2]!, r[3]!, r[5] === 0 ? length : 0xffffffff);
  for (let i = 0; i < length; i++) bytes[i]! ^= 42;
  vm.memory.writeBytes(r[2]!, r[3]!, bytes);
  setR0(vm, 0, 0);
}

function sqrti(vm: HelperContext): void {
  const lo = vm.regs[2]! >>> 0;
  const hi = vm.regs[3]! >>> 0;
  // The double estimate can be off by one for values above 2^52; fix it with exact squares.
  let root = Math.min(0xffffffff, Math.floor(Math.sqrt(hi * 4294967296 + lo)));
  while (root > 0 && squareAbove(root, lo, hi)) root--;
  while (root < 0xffffffff && !squareAbove(root + 1, lo, hi)) root++;
  setR0(vm, root | 0, 0);
}

/** Is root * root > (hi, lo) unsigned? */
function squareAbove(root: number, lo: number, hi: number): boolean {
  const squareHi = mulHighU32(root, root);
  const squareLo = Math.imul(root, root) >>> 0;
  return squareHi > hi || (squareHi === hi && squareLo > lo);
}

function strcmpExt(vm: HelperContext): void {
  const r = vm.regs;
  const a = vm.memory.readCString(r[2]!, r[3]!);
  const b = vm.memory.readCString(r[4]!, r[5]!);
  let result = 0;
  for (let i = 0; i <= Math.min(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) {
      result = x - y;
      break;
    }
  }
  setR0(vm, result, result >> 31);
}

function unwind(vm: HelperContext): void {
  const r = vm.regs;
  setR0(vm, r[2]!, r[3]!);
  if ((r[2]! | r[3]!) === 0) vm.stop();
}

// ---- running ----

export interface VectorRunOptions {
  budget?: number;
  /** Bytes memfrob may xor in the run (default 2^32, see VECTOR_MEMFROB_BYTES). */
  memfrobBytes?: number;
}

export interface VectorRun extends RunResult {
  program: Program;
}

/** Run a vector's program on a fresh address space. Throws the machine's typed errors. */
export function runVector(vector: Vector, options: VectorRunOptions = {}): VectorRun {
  const program = prepareProgram(vector.insns, { name: vector.file });
  const memory = new AddressSpace();
  const helpers = testHelpers({ memfrobBytes: options.memfrobBytes ?? VECTOR_MEMFROB_BYTES });
  const vm = new Interpreter({ memory, helpers });
  const mem = memory.alloc(vector.mem.length, { name: "mem", kind: "data" });
  memory.u8.set(vector.mem, mem.base);
  // r1 = the buffer (NULL when the vector has none), r2 = its length.
  const r1: [number, number] = vector.mem.length > 0 ? [mem.addressLo, mem.addressHi] : [0, 0];
  const result = vm.run(program, {
    args: [r1, [vector.mem.length, 0]],
    packet: mem,
    ...(options.budget !== undefined ? { budget: options.budget } : {}),
  });
  return { ...result, program };
}

export interface VectorCheck {
  file: string;
  passed: boolean;
  /** r0 as hex, when the program ran to the end */
  actual?: string;
  expected?: string;
  /** the error's message, when parsing or running failed */
  error?: string;
}

/** Parse and run a vector, and compare r0 with its expected result. Never throws a TsbpfError. */
export function checkVector(
  text: string,
  file: string,
  options: VectorRunOptions = {},
): VectorCheck {
  try {
    const vector = parseVector(text, file);
    const expected = vector.expected ? hex64(vector.expected.lo, vector.expected.hi) : undefined;
    if (expected === undefined)
      return { file, passed: false, error: `${file}: no '-- result' section` };
    const run = runVector(vector, options);
    const actual = hex64(run.lo, run.hi);
    return { file, passed: actual === expected, actual, expected };
  } catch (err) {
    if (err instanceof TsbpfError) return { file, passed: false, error: err.message };
    throw err;
  }
}
