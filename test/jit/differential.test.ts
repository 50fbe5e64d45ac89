// The JIT against the reference interpreter on thousands of seeded random programs: the same
// outcome (r0, or the same error message naming the same instruction), the same number of
// executed instructions, and the same bytes in the buffer and the stack afterwards.
//
// Both machines get identical address spaces (the stack, then the buffer; the JIT's control
// block takes no region), so fault messages, which name addresses and the nearest region, must
// match character for character.
import { describe, expect, it } from "vitest";
import { IsaError, validateProgram } from "../../runtime/isa/codec.js";
import { cachedModule, JitMachine } from "../../runtime/jit/machine.js";
import type { MemoryChecks } from "../../runtime/jit/codegen.js";
import { testHelpers } from "../../runtime/vm/conformance.js";
import { VmError } from "../../runtime/vm/fault.js";
import type { HelperTable } from "../../runtime/vm/helpers.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { AddressSpace, hex64, type Region } from "../../runtime/vm/memory.js";
import { funcIndex, PrepareError, prepareProgram, type Program } from "../../runtime/vm/program.js";
import { assemble } from "../../runtime/isa/asm.js";
import { LOOP_CALLBACK, prng, randomProgram, TAIL_CALL_OTHER, TAIL_CALL_SELF } from "./random.js";

interface Outcome {
  kind: "ok" | "fault" | "budget";
  /** r0 as hex, or the error message */
  result: string;
  insns: number;
  mem: string;
  stack: string;
}

const TAIL_TARGET = prepareProgram(
  assemble(`
    mov %r6, %r2
    call 2
    add %r0, %r6
    ldxdw %r3, [%r10-8]
    xor %r0, %r3
    exit`),
  { name: "tail_target" },
);

/** How often the JIT ran the helpers that re-enter compiled code. */
const reentries = { tailCalls: 0, callbacks: 0 };

/** The suite's helpers plus tail calls, a bpf_loop-style callback helper and a kfunc. */
function helpers(): HelperTable {
  let inCallback = 0;
  const table = testHelpers();
  const unwind = table.get(5)!;
  return table
    .register(5, "unwind", (vm) => {
      // stop() inside a callback is engine-specific (the interpreter resumes the outer helper,
      // the JIT ends the run at once); keep the random programs away from it
      if (inCallback > 0) {
        vm.regs[0] = vm.regs[2]!;
        vm.regs[1] = vm.regs[3]!;
      } else unwind(vm);
    })
    .register(TAIL_CALL_SELF, "tail_call_self", (vm) => {
      if (vm.tailCallCount >= 33) {
        vm.regs[0] = -1;
        vm.regs[1] = -1;
      } else {
        if (vm instanceof JitMachine) reentries.tailCalls++;
        vm.tailCall(vm.program);
      }
    })
    .register(TAIL_CALL_OTHER, "tail_call_other", (vm) => {
      if (vm.tailCallCount >= 33) {
        vm.regs[0] = -2;
        vm.regs[1] = -1;
      } else {
        if (vm instanceof JitMachine) reentries.tailCalls++;
        vm.tailCall(TAIL_TARGET);
      }
    })
    .register(LOOP_CALLBACK, "loop", (vm) => {
      const count = (vm.regs[2]! >>> 5) & 7; // r1 is mostly the buffer's address: 4
      const fn = funcIndex(vm.regs[4]!, vm.regs[5]!, vm.program.length);
      if (fn <= 0 || !validateProgram(vm.program.insns).subprogs.includes(fn)) {
        vm.regs[0] = -22;
        vm.regs[1] = -1;
        return;
      }
      const ctxLo = vm.regs[6]!;
      const ctxHi = vm.regs[7]!;
      let i = 0;
      inCallback++;
      try {
        for (; i < count; i++) {
          if (vm instanceof JitMachine) reentries.callbacks++;
          const ret = vm.callSubprogram(fn, [i, 0, ctxLo, ctxHi]);
          if (ret.lo !== 0) break;
        }
      } finally {
        inCallback--;
      }
      vm.regs[0] = i;
      vm.regs[1] = 0;
    })
    .registerKfunc(1, "kf_add", (vm) => {
      vm.regs[0] = (vm.regs[2]! + vm.regs[4]!) | 0;
      vm.regs[1] = 0;
    });
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** FNV-1a of the bytes: the stack is 4 KiB, too long to print in a failing comparison. */
function digest(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

type Engine = "interp" | MemoryChecks;

interface Machine {
  memory: AddressSpace;
  vm: Interpreter | JitMachine;
  stack: Region;
  buffer: Region;
}

/** The buffer r1 points to (also the packet of ld_abs / ld_ind). */
const MEM_SIZE = 64;

/**
 * One machine per engine, reused from program to program (creating a WebAssembly.Memory per
 * run would dominate the test's time): the stack, then the buffer, at the same addresses in every
 * engine (the JIT's control block takes no region).
 */
const machines = new Map<Engine, Machine>();

function machineFor(engine: Engine): Machine {
  let m = machines.get(engine);
  if (m !== undefined) return m;
  const memory = new AddressSpace();
  if (engine === "interp") {
    const interp = new Interpreter({ memory, helpers: helpers() });
    m = { memory, vm: interp, stack: interp.stack, buffer: interp.stack };
  } else {
    const jit = new JitMachine({ memory, helpers: helpers(), checks: engine });
    m = { memory, vm: jit, stack: jit.stack, buffer: jit.stack };
  }
  m.buffer = memory.alloc(MEM_SIZE, { name: "mem", kind: "data" });
  machines.set(engine, m);
  return m;
}

/** Run with a fresh buffer and a zeroed stack; the layout is the same for every engine. */
function runOn(
  engine: Engine,
  program: Program,
  mem: Uint8Array,
  budget: number | undefined,
): Outcome {
  const { memory, vm, stack, buffer } = machineFor(engine);
  memory.u8.set(mem, buffer.base);
  memory.u8.fill(0, stack.base, stack.base + stack.size);
  const snapshot = (kind: Outcome["kind"], result: string, insns: number): Outcome => ({
    kind,
    result,
    insns,
    mem: hex(memory.u8.slice(buffer.base, buffer.base + buffer.size)),
    stack: digest(memory.u8.subarray(stack.base, stack.base + stack.size)),
  });
  try {
    const r = vm.run(program, {
      args: [
        [buffer.addressLo, buffer.addressHi],
        [mem.length, 0],
      ],
      packet: buffer,
      ...(budget !== undefined ? { budget } : {}),
    });
    return snapshot("ok", hex64(r.lo, r.hi), r.insns);
  } catch (err) {
    if (!(err instanceof VmError)) throw err;
    return snapshot(err.name === "BudgetExceeded" ? "budget" : "fault", err.message, vm.insns);
  }
}

describe("the JIT against the interpreter on random programs", () => {
  it("3000 seeded random programs: same outcome, count and memory in both check modes", () => {
    const next = prng(0x5eed1);
    const counts = { ok: 0, fault: 0, budget: 0, invalid: 0, dispatch: 0 };
    for (let i = 0; i < 3000; i++) {
      const generated = randomProgram(next, MEM_SIZE);
      const mem = Uint8Array.from({ length: MEM_SIZE }, () => next() & 0xff);
      let program: Program;
      try {
        program = prepareProgram(generated.insns, { name: `random${i}` });
      } catch (err) {
        if (!(err instanceof IsaError || err instanceof PrepareError)) throw err;
        counts.invalid++;
        continue;
      }
      const reference = runOn("interp", program, mem, 3000);
      counts[reference.kind]++;
      if (cachedModule(program, "regions", true, undefined).dispatchFunctions > 0)
        counts.dispatch++;
      const context = `program ${i}: ${JSON.stringify(generated.insns)}`;
      expect(runOn("regions", program, mem, 3000), context).toEqual(reference);
      if (reference.kind !== "fault") {
        // every access was valid, so unchecked accesses must give the same result
        expect(runOn("address", program, mem, 3000), context).toEqual(reference);
      }
      if (reference.kind === "ok") {
        // and the uncounted code (no budget) too
        const fast = runOn("regions", program, mem, undefined);
        expect({ ...fast, insns: reference.insns }, context).toEqual(reference);
        expect(fast.insns).toBe(-1);
      }
    }
    console.log("random programs (interpreter outcomes):", counts, "JIT re-entries:", reentries);
    expect(counts.ok).toBeGreaterThan(600);
    expect(counts.fault).toBeGreaterThan(600);
    expect(counts.budget).toBeGreaterThan(100);
    expect(counts.dispatch).toBeGreaterThan(50); // irreducible control flow met
    expect(reentries.tailCalls).toBeGreaterThan(100);
    expect(reentries.callbacks).toBeGreaterThan(5);
  }, 120_000);
});
