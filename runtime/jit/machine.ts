// The JIT's machine: one CPU running compiled programs, with the interpreter's interface
// (run(program, {args, budget, packet}) -> {lo, hi, insns}), its helper ABI and its errors.
//
// State
//   regs      the helpers' register file: a plain Int32Array(22) as in the interpreter (stable,
//             so a helper may keep it across an allocation that grows the memory). It is filled
//             from the control block before each helper call and r0-r5 go back after it.
//   control   the control block (abi.ts) in the address space's guard page: the registers handed between
//             compiled code and JavaScript, the instruction counter, the region cache, the
//             packet of the run.
//   stack     MAX_CALL_FRAMES * 512 bytes; frame k has r10 = top - k*512, as in the interpreter.
//
// Compiled modules (compile.ts) do not depend on the machine and are cached per program and
// variant; each machine instantiates them against its own memory, stack and control block.
//
// Runs end in one of four ways: the entry function returns; a helper calls stop() or ld_abs
// reads outside the packet (a StopRun exception unwinds the compiled frames, r0 travels with
// it); a fault (VmFault thrown by an import, or a WebAssembly trap mapped back to the pc of the
// instruction whose code trapped); the budget runs out (BudgetExceeded, from the refill import).
//
// Tail calls: the `call` import runs the target program's entry to completion in the same
// frame, then tells the compiled caller that the frame is finished; the caller returns the
// target's r0. Nesting is bounded by the helper's tail call limit (33 in the kernel).
//
// stop() inside a callback (callSubprogram) ends the whole run at once; the interpreter instead
// lets the helper that made the callback finish first.
import { MAX_BPF_STACK, MAX_CALL_FRAMES } from "../isa/opcodes.js";
import { BudgetExceeded, VmFault } from "../vm/fault.js";
import type { Helper, HelperContext, HelperTable } from "../vm/helpers.js";
import type { RunOptions, RunResult } from "../vm/interpreter.js";
import { AddressSpace, MemoryFault, type Access, type Region } from "../vm/memory.js";
import type { Program } from "../vm/program.js";
import {
  ACCESS_READ,
  ACCESS_RW,
  CALL_KFUNC,
  CALL_X,
  CB_LEFT,
  CB_PACKET_LENGTH,
  CB_PACKET_START,
  CB_READ_END,
  CB_READ_START,
  CB_WRITE_END,
  CB_WRITE_START,
  CONTROL_BLOCK_SIZE,
  EMPTY_CACHE_END,
  EMPTY_CACHE_START,
  IMPORT_MODULE,
} from "./abi.js";
import type { JitFacts, MemoryChecks } from "./codegen.js";
import { compileModule, type JitModule } from "./compile.js";
import { wasmApi } from "./wasm-api.js";

const STACK_SIZE = MAX_CALL_FRAMES * MAX_BPF_STACK;
const BUDGET_CHUNK = 1 << 30;

// Control block words (int32 indices from its start).
const W_LEFT = CB_LEFT >> 2;
const W_READ_START = CB_READ_START >> 2;
const W_READ_END = CB_READ_END >> 2;
const W_WRITE_START = CB_WRITE_START >> 2;
const W_WRITE_END = CB_WRITE_END >> 2;
const W_PACKET_START = CB_PACKET_START >> 2;
const W_PACKET_LENGTH = CB_PACKET_LENGTH >> 2;

export interface JitMachineOptions<Host> {
  memory: AddressSpace;
  helpers?: HelperTable<Host>;
  host?: Host;
  /** A stack region of at least MAX_CALL_FRAMES * 512 bytes (one is allocated if absent). */
  stack?: Region;
  /** How loads and stores are checked; default "regions" (as the interpreter). */
  checks?: MemoryChecks;
  /**
   * What the verifier proved about a program, if anything (accesses proven are unchecked, array
   * lookups inline): asked once per program, on its first run or compile.
   */
  facts?: (program: Program) => JitFacts | undefined;
  /** Instructions counted per refill of the counter (default 2^30; smaller in tests). */
  budgetChunk?: number;
}

/** A compiled module instantiated on a machine. */
interface Loaded {
  jit: JitModule;
  program: Program;
  /** entry wrappers by the start slot of their function */
  entries: Map<number, (fp: number) => void>;
  /** enter_0: the program from its first instruction */
  main: (fp: number) => void;
}

/** The run ends early with r0 (helper stop(), ld_abs out of bounds). Never escapes run(). */
class StopRun {
  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {}
}

const REQUEST_NONE = 0;
const REQUEST_STOP = 1;
const REQUEST_TAIL_CALL = 2;

// Modules by program, shared by all machines: compiling does not depend on the machine.
const moduleCache = new WeakMap<Program, JitModule[]>();

/** The compiled module of a program for one variant, compiled on first use. */
export function cachedModule(
  program: Program,
  checks: MemoryChecks,
  counted: boolean,
  facts: JitFacts | undefined,
): JitModule {
  let list = moduleCache.get(program);
  if (list === undefined) moduleCache.set(program, (list = []));
  const found = list.find((m) => m.checks === checks && m.counted === counted && m.facts === facts);
  if (found !== undefined) return found;
  const jit = compileModule(program, { checks, counted, ...(facts ? { facts } : {}) });
  list.push(jit);
  return jit;
}

/** "read of 8 bytes via r1+16" for the load, store or atomic at pc (its operands are gone). */
function describeAccess(code: Int32Array, pc: number): string {
  const w = code[2 * pc]!;
  const cls = w & 0x07;
  const size = [4, 2, 1, 8][(w >> 3) & 3]!;
  const base = cls === 0x01 ? (w >>> 12) & 0xf : (w >>> 8) & 0xf;
  const off = w >> 16;
  const kind = cls === 0x01 ? "read" : (w & 0xe0) === 0xc0 ? "atomic access" : "write";
  const bytes = size === 1 ? "1 byte" : `${size} bytes`;
  return `${kind} of ${bytes} via r${base}${off < 0 ? off : `+${off}`}`;
}

export class JitMachine<Host = unknown> implements HelperContext<Host> {
  readonly regs = new Int32Array(22);
  readonly memory: AddressSpace;
  readonly host: Host;
  readonly helpers: HelperTable<Host> | undefined;
  readonly stack: Region;
  readonly checks: MemoryChecks;
  private readonly facts: ((program: Program) => JitFacts | undefined) | undefined;
  private readonly stackTop: number;
  private readonly controlBase: number;
  private readonly at: number; // the control block's index in `words`
  private readonly budgetChunk: number;

  program!: Program;
  /** Index of the call instruction while a helper runs. */
  pc = 0;
  /** Instructions executed by the last run when it was counted (a budget given), else -1. */
  insns = -1;
  tailCallCount = 0;

  private running = false;
  private current: Loaded | undefined;
  private fp = 0; // the calling frame's fp while a helper runs
  private packet: Region | undefined;
  private request = REQUEST_NONE;
  private tailTarget: Program | undefined;
  private budget = 0;
  private spent = 0;
  private chunk = 0;
  private readonly loaded = new WeakMap<JitModule, Loaded>();
  private readonly imports: Record<string, Record<string, unknown>>;
  // The regions in the read and write caches, with the windows they had: a run starts with a
  // cache only while its region is live and unchanged.
  private readRegion: Region | undefined;
  private readonly readWindow = [0, 0];
  private writeRegion: Region | undefined;
  private readonly writeWindow = [0, 0];
  // Instances by program (uncounted, counted), for machines that alternate between programs
  // (an entry and a return probe on one CPU), and what the facts callback said per program.
  private readonly loadedByProgram = [
    new WeakMap<Program, Loaded>(),
    new WeakMap<Program, Loaded>(),
  ];
  private readonly factsByProgram = new WeakMap<Program, JitFacts | null>();
  // The last program run, for the common case of running it again.
  private lastProgram: Program | undefined;
  private lastCounted = false;
  private lastLoaded: Loaded | undefined;

  constructor(options: JitMachineOptions<Host>) {
    this.memory = options.memory;
    this.helpers = options.helpers;
    this.host = options.host as Host;
    this.checks = options.checks ?? "regions";
    this.facts = options.facts;
    this.budgetChunk = options.budgetChunk ?? BUDGET_CHUNK;
    this.stack =
      options.stack ?? this.memory.alloc(STACK_SIZE, { name: "stack", kind: "stack", align: 16 });
    if (this.stack.size < STACK_SIZE) {
      throw new VmFault(
        "jit",
        0,
        `stack region '${this.stack.name}' is smaller than ${STACK_SIZE} bytes`,
      );
    }
    this.stackTop = this.stack.base + this.stack.size;
    // In the address space's guard page when there is room (no region moves, so the kernel's
    // allocations land where they land under the interpreter); a region of its own otherwise.
    this.controlBase =
      this.memory.reserveEngineBlock(CONTROL_BLOCK_SIZE) ??
      this.memory.alloc(CONTROL_BLOCK_SIZE, {
        name: "jit control block",
        kind: "data",
        readable: false,
        writable: false,
      }).base;
    this.at = this.controlBase >> 2;
    this.clearCaches();
    this.imports = {
      [IMPORT_MODULE]: {
        memory: this.memory.memory,
        regs: this.controlBase,
        stackTop: this.stackTop,
        // A frame may call only while a deeper frame still fits (the interpreter's pushFrame).
        callLimit: this.stackTop - (MAX_CALL_FRAMES - 2) * MAX_BPF_STACK,
        call: this.callImport.bind(this),
        access: this.accessImport.bind(this),
        depthFault: this.depthFault.bind(this),
        refill: this.refill.bind(this),
        packetMiss: this.packetMiss.bind(this),
      },
    };
  }

  /** Compile `program` now (it is otherwise compiled on its first run), optionally counted. */
  compile(program: Program, counted = false): JitModule {
    return cachedModule(program, this.checks, counted, this.factsFor(program));
  }

  /** The facts callback's answer for a program, asked once (modules are cached by facts). */
  private factsFor(program: Program): JitFacts | undefined {
    if (this.facts === undefined) return undefined;
    let facts = this.factsByProgram.get(program);
    if (facts === undefined) {
      facts = this.facts(program) ?? null;
      this.factsByProgram.set(program, facts);
    }
    return facts ?? undefined;
  }

  /** Run `program` from instruction 0 and return r0. A budget makes the run counted. */
  run(program: Program, options: RunOptions = {}): RunResult {
    if (this.running) {
      throw new VmFault(program.name, 0, "machine is already running a program (not re-entrant)");
    }
    const counted = options.budget !== undefined;
    let loaded = this.lastLoaded;
    if (program !== this.lastProgram || counted !== this.lastCounted || loaded === undefined) {
      const byProgram = this.loadedByProgram[counted ? 1 : 0]!;
      loaded = byProgram.get(program);
      if (loaded === undefined) {
        loaded = this.load(this.compile(program, counted));
        byProgram.set(program, loaded);
      }
      this.lastProgram = program;
      this.lastCounted = counted;
      this.lastLoaded = loaded;
    }
    const words = this.controlWords();
    const at = this.at;
    // The registers the program may read before writing them: r1-r5 from args, others zero.
    const entryRegs = loaded.jit.entryRegs;
    const args = options.args;
    for (let k = 0; k < entryRegs.length; k++) {
      const r = entryRegs[k]!;
      const arg =
        args !== undefined && r >= 1 && r <= args.length && r <= 5 ? args[r - 1] : undefined;
      words[at + 2 * r] = arg === undefined ? 0 : arg[0] | 0;
      words[at + 2 * r + 1] = arg === undefined ? 0 : arg[1] | 0;
    }
    if (counted) {
      const budget = Math.floor(options.budget!);
      if (!(budget >= 0)) throw new VmFault(program.name, 0, `bad instruction budget ${budget}`);
      this.budget = budget;
      this.spent = 0;
      this.chunk = Math.min(budget, this.budgetChunk);
      words[at + W_LEFT] = this.chunk;
    }
    const packet = options.packet;
    this.packet = packet;
    words[at + W_PACKET_START] = packet === undefined ? 0 : packet.start;
    words[at + W_PACKET_LENGTH] = packet === undefined ? -1 : packet.end - packet.start;
    this.checkCaches(words);
    this.program = program;
    this.current = loaded;
    this.tailCallCount = 0;
    this.request = REQUEST_NONE;
    this.stack.start = this.stackTop - MAX_BPF_STACK;
    this.memory.enterRun();
    this.running = true;
    let lo: number;
    let hi: number;
    try {
      loaded.main(this.stackTop);
      const after = this.controlWords();
      lo = after[at]!;
      hi = after[at + 1]!;
    } catch (err) {
      if (err instanceof StopRun) {
        lo = err.lo;
        hi = err.hi;
      } else if (err instanceof wasmApi.RuntimeError) {
        throw this.trapFault(err, loaded);
      } else {
        throw err;
      }
    } finally {
      this.running = false;
      this.current = undefined;
      this.memory.exitRun();
      this.insns = counted ? this.spent + this.chunk - this.controlWords()[at + W_LEFT]! : -1;
    }
    this.regs[0] = lo;
    this.regs[1] = hi;
    return { lo, hi, insns: this.insns };
  }

  // ---- instances ----

  private load(jit: JitModule): Loaded {
    let loaded = this.loaded.get(jit);
    if (loaded !== undefined) return loaded;
    const instance = new wasmApi.Instance(jit.module, this.imports);
    const exports = instance.exports;
    const entries = new Map<number, (fp: number) => void>();
    for (const [pc, name] of jit.entries) entries.set(pc, exports[name] as (fp: number) => void);
    loaded = { jit, program: jit.program, entries, main: entries.get(0)! };
    this.loaded.set(jit, loaded);
    return loaded;
  }

  /**
   * Call into an instance from a helper (tail call, callback); a WebAssembly trap inside it
   * becomes a VmFault here, while that instance's position tables are at hand.
   */
  private enter(loaded: Loaded, entry: (fp: number) => void, fp: number): void {
    try {
      entry(fp);
    } catch (err) {
      if (err instanceof wasmApi.RuntimeError) throw this.trapFault(err, loaded);
      throw err;
    }
  }

  private trapFault(err: Error, loaded: Loaded): VmFault {
    const frame = /wasm-function\[(\d+)\]:0x([0-9a-f]+)/.exec(err.stack ?? "");
    let pc = -1;
    if (frame !== null) {
      const table = loaded.jit.positions.get(Number(frame[1]));
      const offset = parseInt(frame[2]!, 16);
      if (table !== undefined) {
        // the last instruction whose code starts at or before the trapping byte
        let lo = 0;
        let hi = table.offsets.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (table.offsets[mid]! <= offset) {
            pc = table.pcs[mid]!;
            lo = mid + 1;
          } else hi = mid - 1;
        }
      }
    }
    pc = Math.max(pc, 0);
    const access = describeAccess(loaded.program.code, pc);
    const reason = /out of bounds/.test(err.message)
      ? `invalid ${access} beyond the end of the address space (unchecked access)`
      : `WebAssembly trap: ${err.message}`;
    return new VmFault(loaded.program.name, pc, reason);
  }

  // ---- the control block ----

  /** The memory as int32 words (the address space's view, replaced when the memory grows). */
  private controlWords(): Int32Array {
    return this.memory.i32;
  }

  /** regs[0..n) -> the control block */
  private storeRegs(n: number): void {
    const words = this.controlWords();
    const at = this.at;
    const regs = this.regs;
    for (let i = 0; i < n; i++) words[at + i] = regs[i]!;
  }

  /** the control block -> regs (all 22 words) */
  private loadRegs(): void {
    const words = this.controlWords();
    const at = this.at;
    const regs = this.regs;
    for (let i = 0; i < 22; i++) regs[i] = words[at + i]!;
  }

  private clearCaches(): void {
    const words = this.controlWords();
    words[this.at + W_READ_START] = EMPTY_CACHE_START;
    words[this.at + W_READ_END] = EMPTY_CACHE_END;
    words[this.at + W_WRITE_START] = EMPTY_CACHE_START;
    words[this.at + W_WRITE_END] = EMPTY_CACHE_END;
    this.readRegion = undefined;
    this.writeRegion = undefined;
  }

  /** Keep the region caches only while their regions are live with the same windows. */
  private checkCaches(words: Int32Array): void {
    const read = this.readRegion;
    if (
      read !== undefined &&
      (read.state === "freed" ||
        read.start !== this.readWindow[0] ||
        read.end !== this.readWindow[1])
    ) {
      words[this.at + W_READ_START] = EMPTY_CACHE_START;
      words[this.at + W_READ_END] = EMPTY_CACHE_END;
      this.readRegion = undefined;
    }
    const write = this.writeRegion;
    if (
      write !== undefined &&
      (write.state === "freed" ||
        write.start !== this.writeWindow[0] ||
        write.end !== this.writeWindow[1])
    ) {
      words[this.at + W_WRITE_START] = EMPTY_CACHE_START;
      words[this.at + W_WRITE_END] = EMPTY_CACHE_END;
      this.writeRegion = undefined;
    }
  }

  // ---- imports ----

  /** The `call` import: a helper, kfunc or callx. Returns 1 when a tail call ended the frame. */
  private callImport(kind: number, a: number, b: number, pc: number, fp: number): number {
    const program = this.program;
    this.pc = pc;
    this.fp = fp;
    this.loadRegs();
    this.stack.start = fp - MAX_BPF_STACK;
    const helpers = this.helpers;
    let fn: Helper<Host> | undefined;
    if ((kind & 0xf) === CALL_X) {
      fn = b === 0 && a >= 0 ? helpers?.get(a) : undefined;
    } else if (kind === CALL_KFUNC) {
      fn = helpers?.kfuncs.get(a)?.fn;
    } else {
      fn = helpers?.get(a);
    }
    if (fn === undefined) {
      throw new VmFault(program.name, pc, `call to unknown ${this.calleeName(kind, a)}`);
    }
    this.request = REQUEST_NONE;
    try {
      fn(this);
    } catch (err) {
      if (err instanceof MemoryFault) {
        throw new VmFault(program.name, pc, `in ${this.calleeName(kind, a)}: ${err.message}`, err);
      }
      throw err;
    }
    if (this.request !== REQUEST_NONE) {
      if (this.request === REQUEST_STOP) throw new StopRun(this.regs[0]!, this.regs[1]!);
      return this.runTailCall(fp);
    }
    this.storeRegs(12); // r0-r5
    return 0;
  }

  /** The interpreter's name for a callee in messages. */
  private calleeName(kind: number, a: number): string {
    const helpers = this.helpers;
    if ((kind & 0xf) === CALL_X) return `helper ${a >>> 0} (callx r${kind >> 4})`;
    if (kind === CALL_KFUNC) return helpers?.kfuncs.get(a)?.name ?? `kfunc with BTF id ${a}`;
    return helpers?.nameOf(a) ?? `helper ${a}`;
  }

  private runTailCall(fp: number): number {
    const target = this.tailTarget!;
    this.tailTarget = undefined;
    this.request = REQUEST_NONE;
    this.tailCallCount++;
    const caller = this.current!;
    const loaded = this.load(this.compile(target, caller.jit.counted));
    this.storeRegs(22); // the target starts with the registers as they are
    this.program = target;
    this.current = loaded;
    this.stack.start = fp - MAX_BPF_STACK;
    try {
      this.enter(loaded, loaded.main, fp);
    } finally {
      this.program = caller.program;
      this.current = caller;
    }
    return 1;
  }

  /** The `access` import: a load or store the inline checks did not settle. */
  private accessImport(pc: number, lo: number, hi: number, sizeAccess: number, fp: number): number {
    const memory = this.memory;
    const size = sizeAccess & 0xff;
    const kind = sizeAccess >> 8;
    this.stack.start = fp - MAX_BPF_STACK;
    let offset: number;
    let failed: Access = "read";
    if (kind === ACCESS_READ) {
      offset = memory.translateRead(lo, hi, size);
    } else {
      offset = memory.translateWrite(lo, hi, size);
      failed = "write";
      if (offset >= 0 && kind === ACCESS_RW && memory.translateRead(lo, hi, size) < 0) {
        offset = -1;
        failed = "read";
      }
    }
    if (offset < 0) {
      const fault = memory.describeFault(lo, hi, size, failed);
      throw new VmFault(this.program.name, pc, fault.message, fault);
    }
    const region = memory.regionAt(offset);
    if (region !== undefined && region !== this.stack) {
      const words = this.controlWords();
      if (kind === ACCESS_READ) {
        words[this.at + W_READ_START] = region.start;
        words[this.at + W_READ_END] = region.end;
        this.readRegion = region;
        this.readWindow[0] = region.start;
        this.readWindow[1] = region.end;
      } else if (region.readable) {
        // the write cache also serves atomics, so it holds only readable regions
        words[this.at + W_WRITE_START] = region.start;
        words[this.at + W_WRITE_END] = region.end;
        this.writeRegion = region;
        this.writeWindow[0] = region.start;
        this.writeWindow[1] = region.end;
      }
    }
    return offset;
  }

  private depthFault(pc: number): void {
    throw new VmFault(
      this.program.name,
      pc,
      `call depth limit of ${MAX_CALL_FRAMES} frames exceeded`,
    );
  }

  /**
   * The counter went negative at the start of a segment of `count` instructions at pc: take
   * the next chunk, or stop at the instruction where the interpreter would have stopped.
   */
  private refill(pc: number, count: number): number {
    const words = this.controlWords();
    const left = words[this.at + W_LEFT]!; // already lowered by count
    const total = this.spent + this.chunk - left; // executed, this segment included
    if (total <= this.budget) {
      this.spent = total;
      this.chunk = Math.min(this.budget - total, this.budgetChunk);
      return this.chunk;
    }
    // The budget allows `allowed` more instructions of this segment; the next one stops it.
    const allowed = this.budget - (total - count);
    let stopPc = pc;
    const code = this.program.code;
    for (let i = 0; i < allowed; i++) stopPc += (code[2 * stopPc]! & 0xff) === 0x18 ? 2 : 1;
    this.spent = this.budget;
    this.chunk = 0;
    words[this.at + W_LEFT] = 0;
    throw new BudgetExceeded(this.program.name, stopPc, this.budget);
  }

  private packetMiss(pc: number): void {
    if (this.packet === undefined) {
      throw new VmFault(
        this.program.name,
        pc,
        "legacy packet access (ld_abs/ld_ind) without a packet",
      );
    }
    throw new StopRun(0, 0); // out of bounds: the kernel ends the program with r0 = 0
  }

  // ---- helper context ----

  stop(): void {
    this.request = REQUEST_STOP;
  }

  tailCall(target: Program): void {
    this.request = REQUEST_TAIL_CALL;
    this.tailTarget = target;
  }

  callSubprogram(pc: number, args: readonly number[]): { lo: number; hi: number } {
    const program = this.program;
    const loaded = this.current;
    if (!Number.isInteger(pc) || pc < 0 || pc >= program.length || loaded === undefined) {
      throw new VmFault(program.name, this.pc, `callback target ${pc} is outside the program`);
    }
    const entry = loaded.entries.get(pc);
    if (entry === undefined) {
      throw new VmFault(program.name, this.pc, `callback target ${pc} is not a function's start`);
    }
    const fp = this.fp;
    if (fp - MAX_BPF_STACK < this.stackTop - (MAX_CALL_FRAMES - 1) * MAX_BPF_STACK) {
      throw new VmFault(
        program.name,
        this.pc,
        `call depth limit of ${MAX_CALL_FRAMES} frames exceeded`,
      );
    }
    const saved = this.regs.slice();
    const savedPc = this.pc;
    for (let i = 0; i < 10; i++) this.regs[2 + i] = args[i] ?? 0;
    this.storeRegs(22);
    let lo: number;
    let hi: number;
    try {
      this.enter(loaded, entry, fp - MAX_BPF_STACK);
      const words = this.controlWords();
      lo = words[this.at]!;
      hi = words[this.at + 1]!;
    } finally {
      this.regs.set(saved);
      this.pc = savedPc;
      this.fp = fp;
      this.program = program;
      this.current = loaded;
      this.stack.start = fp - MAX_BPF_STACK;
    }
    return { lo, hi };
  }
}
