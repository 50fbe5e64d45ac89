// The JIT machine case by case, each against the reference interpreter on the same program and
// the same address space layout: the helper ABI, stop, tail calls, callbacks, call depth, the
// budget, faults and their messages, the memory-check modes, verifier facts, irreducible and
// deeply nested control flow, re-entry, memory growth inside a helper, and the engine factory.
import { describe, expect, it } from "vitest";
import { assemble } from "../../runtime/isa/asm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import * as op from "../../runtime/isa/opcodes.js";
import type { MemoryChecks } from "../../runtime/jit/codegen.js";
import { compileModule } from "../../runtime/jit/compile.js";
import {
  compileProgram,
  createRunner,
  DEFAULT_ENGINE,
  EngineError,
  factsFromVerifier,
  parseEngine,
  type Engine,
} from "../../runtime/jit/engine.js";
import { JitMachine } from "../../runtime/jit/machine.js";
import { createMapOrThrow } from "../../runtime/maps/create.js";
import { ArrayMap } from "../../runtime/maps/array.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { BpfMapType, BpfProgType } from "../../runtime/uapi/bpf.js";
import { verify } from "../../runtime/verifier/index.js";
import { testHelpers } from "../../runtime/vm/conformance.js";
import { BudgetExceeded, VmError, VmFault } from "../../runtime/vm/fault.js";
import { HelperTable, type HelperContext } from "../../runtime/vm/helpers.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { AddressSpace, hex64, KERNEL_HI, type Region } from "../../runtime/vm/memory.js";
import { funcIndex, prepareProgram } from "../../runtime/vm/program.js";

const exitInsn: Insn = { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 };

type Kind = "interp" | MemoryChecks;

interface Ran {
  /** r0 as hex, or the error's class and message */
  result: string;
  insns: number;
  mem: string;
}

interface Setup {
  mem?: Uint8Array;
  helpers?: () => HelperTable;
  budget?: number;
  packet?: boolean;
  budgetChunk?: number;
}

/**
 * Run on a fresh address space laid out the same for every engine: the buffer, then the stack
 * (the JIT's control block takes no region).
 */
function runOn(kind: Kind, source: string | Insn[], setup: Setup = {}): Ran {
  const program = prepareProgram(typeof source === "string" ? assemble(source) : source, {
    name: "test",
  });
  const mem = setup.mem ?? new Uint8Array(64);
  const memory = new AddressSpace();
  const buffer = memory.alloc(mem.length, { name: "mem", kind: "data" });
  memory.u8.set(mem, buffer.base);
  const helpers = (setup.helpers ?? testHelpers)();
  let vm: Interpreter | JitMachine;
  if (kind === "interp") {
    vm = new Interpreter({ memory, helpers });
  } else {
    vm = new JitMachine({
      memory,
      helpers,
      checks: kind,
      ...(setup.budgetChunk ? { budgetChunk: setup.budgetChunk } : {}),
    });
  }
  const bytes = (): string => hex(memory.u8.slice(buffer.base, buffer.end));
  try {
    const r = vm.run(program, {
      args: [
        [buffer.addressLo, buffer.addressHi],
        [mem.length, 0],
      ],
      ...(setup.packet !== false ? { packet: buffer } : {}),
      ...(setup.budget !== undefined ? { budget: setup.budget } : {}),
    });
    return { result: hex64(r.lo, r.hi), insns: r.insns, mem: bytes() };
  } catch (err) {
    if (!(err instanceof VmError)) throw err;
    return { result: `${err.name}: ${err.message}`, insns: vm.insns, mem: bytes() };
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** The JIT (both check modes, counted and not) gives the interpreter's outcome. */
function agree(source: string | Insn[], setup: Setup = {}): Ran {
  const reference = runOn("interp", source, { ...setup, budget: setup.budget ?? 1_000_000 });
  const counted = runOn("regions", source, { ...setup, budget: setup.budget ?? 1_000_000 });
  expect(counted).toEqual(reference);
  if (setup.budget === undefined) {
    expect({ ...runOn("regions", source, setup), insns: reference.insns }).toEqual(reference);
  }
  if (!reference.result.startsWith("VmFault")) {
    expect({ ...runOn("address", source, setup), insns: reference.insns }).toEqual(reference);
  }
  return reference;
}

describe("helpers", () => {
  it("see the interpreter's register file and return r0; r6-r9 survive", () => {
    const seen: Record<string, number[][]> = { interp: [], jit: [] };
    const helpers = (): HelperTable =>
      new HelperTable().register(7, "probe", (vm) => {
        seen[vm instanceof JitMachine ? "jit" : "interp"]!.push([...vm.regs]);
        vm.regs[0] = (vm.regs[2]! + vm.regs[4]! + vm.regs[6]! + vm.regs[8]! + vm.regs[10]!) | 0;
        vm.regs[1] = vm.regs[11]!;
      });
    const ran = agree(
      `lddw %r1, 0x1111111122222222
       mov %r2, -3
       mov %r3, 5
       mov %r4, 7
       lddw %r5, 0x7fffffff00000009
       mov %r6, 66
       mov %r7, -1
       mov %r9, 99
       call 7
       add %r0, %r6
       add %r0, %r9
       add %r0, %r7
       exit`,
      { helpers },
    );
    expect(ran.result).toBe(hex64((0x22222222 - 3 + 5 + 7 + 9 + 66 + 99 - 1) | 0, 0x7fffffff));
    // every run of the JIT saw exactly what the interpreter's runs saw
    expect(seen.jit!.length).toBeGreaterThan(0);
    for (const regs of seen.jit!) expect(regs).toEqual(seen.interp![0]);
  });

  it("stop() ends the run with r0, from main and from a subprogram", () => {
    expect(agree("mov %r1, 0\ncall 5\nmov %r0, 2\nexit").result).toBe(hex64(0, 0));
    expect(agree("mov %r1, 3\ncall 5\nmov %r0, 2\nexit").result).toBe(hex64(2, 0));
    expect(agree("call local f\nmov %r0, 2\nexit\nf:\nmov %r1, 0\ncall 5\nexit").result).toBe(
      hex64(0, 0),
    );
  });

  it("an unknown helper, kfunc or callx target is a fault naming it", () => {
    expect(agree("call 77\nexit").result).toMatch(
      /VmFault: test: insn 0: call to unknown helper 77/,
    );
    expect(agree("mov %r3, 1234\ncall %r3\nexit").result).toMatch(
      /insn 1: call to unknown helper 1234 \(callx r3\)/,
    );
    const kfunc: Insn[] = [
      { code: op.BPF_JMP | op.BPF_CALL, dst: 0, src: op.BPF_PSEUDO_KFUNC_CALL, off: 0, imm: 9 },
      exitInsn,
    ];
    expect(agree(kfunc).result).toMatch(/insn 0: call to unknown kfunc with BTF id 9/);
  });

  it("a helper's memory fault becomes a VmFault at the call", () => {
    // memfrob on 100 bytes of a 64-byte buffer
    expect(agree("mov %r2, 100\ncall 1\nexit").result).toMatch(
      /^VmFault: test: insn 1: in memfrob: invalid read of 100 bytes at 0xffff888000001040: runs 36 bytes past the end of 'mem'/,
    );
  });

  it("tailCall() replaces the program, keeps r1 and the frame, chains up to the limit", () => {
    const target = prepareProgram(
      assemble("mov %r0, %r1\nldxdw %r2, [%r10-8]\nadd %r0, %r2\nadd %r0, 100\nexit"),
      { name: "target" },
    );
    const helpers = (): HelperTable =>
      new HelperTable()
        .register(12, "bpf_tail_call", (vm) => vm.tailCall(target))
        .register(13, "self", (vm) => {
          if (vm.tailCallCount >= 33) {
            vm.regs[0] = vm.tailCallCount;
            vm.regs[1] = 0;
          } else vm.tailCall(vm.program);
        });
    expect(
      agree("mov %r1, 5\nstdw [%r10-8], 7\ncall 12\nmov %r0, 1\nexit", { helpers }).result,
    ).toBe(hex64(112, 0));
    // from a subprogram: the target finishes the subprogram's frame, whose caller goes on
    expect(
      agree(
        "mov %r6, 1000\ncall local f\nadd %r0, %r6\nexit\nf:\nmov %r1, 5\nstdw [%r10-8], 7\ncall 12\nexit",
        {
          helpers,
        },
      ).result,
    ).toBe(hex64(1112, 0));
    // 33 nested tail calls into the program itself, counted like the interpreter
    const ran = agree("stdw [%r10-8], 1\ncall 13\nexit", { helpers });
    expect(ran.result).toBe(hex64(33, 0));
    expect(ran.insns).toBe(34 * 2 + 1);
  });

  it("callSubprogram() runs a callback in a new frame (a bpf_loop)", () => {
    const helpers = (): HelperTable =>
      new HelperTable().register(181, "bpf_loop", (vm) => {
        const count = vm.regs[2]!;
        const fn = funcIndex(vm.regs[4]!, vm.regs[5]!, vm.program.length);
        let i = 0;
        for (; i < count; i++) {
          const ret = vm.callSubprogram(fn, [i, 0, vm.regs[6]!, vm.regs[7]!]);
          if (ret.lo !== 0) break;
        }
        vm.regs[0] = i;
        vm.regs[1] = 0;
      });
    const insns: Insn[] = [
      { code: op.BPF_ST | op.BPF_MEM | op.BPF_DW, dst: 10, src: 0, off: -8, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 6, src: 0, off: 0, imm: 77 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 1, src: 0, off: 0, imm: 10 },
      { code: op.BPF_LDDW, dst: 2, src: op.BPF_PSEUDO_FUNC, off: 0, imm: 7 },
      { code: 0, dst: 0, src: 0, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, dst: 3, src: 10, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_ADD | op.BPF_K, dst: 3, src: 0, off: 0, imm: -8 },
      { code: op.BPF_JMP | op.BPF_CALL, dst: 0, src: 0, off: 0, imm: 181 },
      { code: op.BPF_LDX | op.BPF_MEM | op.BPF_DW, dst: 0, src: 10, off: -8, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_ADD | op.BPF_X, dst: 0, src: 6, off: 0, imm: 0 },
      exitInsn,
      // callback(i, ctx): *ctx += i; return i == 6 (stops the loop after i = 6)
      { code: op.BPF_LDX | op.BPF_MEM | op.BPF_DW, dst: 3, src: 2, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_ADD | op.BPF_X, dst: 3, src: 1, off: 0, imm: 0 },
      { code: op.BPF_STX | op.BPF_MEM | op.BPF_DW, dst: 2, src: 3, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 6, src: 0, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 0, src: 0, off: 0, imm: 0 },
      { code: op.BPF_JMP | op.BPF_JNE | op.BPF_K, dst: 1, src: 0, off: 1, imm: 6 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 0, src: 0, off: 0, imm: 1 },
      exitInsn,
    ];
    expect(agree(insns, { helpers }).result).toBe(hex64(21 + 77, 0));
  });
});

describe("bpf-to-bpf calls", () => {
  const chain = (depth: number): string => {
    let asm = "mov %r0, 0\ncall local f1\nexit\n";
    for (let i = 1; i <= depth; i++) {
      asm += `f${i}:\nstdw [%r10-8], ${i}\nadd %r0, 1\n${i < depth ? `call local f${i + 1}\n` : ""}ldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit\n`;
    }
    return asm;
  };

  it("allow 8 frames, each with its own 512 bytes of stack", () => {
    expect(agree(chain(7)).result).toBe(hex64(7 + 28, 0));
  });

  it("stop at the ninth frame with the interpreter's error", () => {
    expect(runOn("regions", chain(8)).result).toBe(runOn("interp", chain(8)).result);
    expect(runOn("regions", chain(8)).result).toMatch(/call depth limit of 8 frames exceeded/);
  });

  it("r6-r9 survive, and a callee reads what its caller left in any register", () => {
    agree(`
      mov %r6, 1
      mov %r7, 2
      mov %r8, 3
      mov %r9, 4
      mov %r0, 10
      call local f
      add %r0, %r6
      add %r0, %r7
      add %r0, %r8
      add %r0, %r9
      exit
    f:
      add %r0, %r6
      add %r0, %r9
      mov %r6, 100
      mov %r9, 200
      exit`);
  });

  it("a caller reading r1-r5 after a call sees the callee's values, as in the interpreter", () => {
    agree(`
      mov %r1, 1
      mov %r3, 3
      call local f
      add %r0, %r1
      add %r0, %r3
      exit
    f:
      mov %r3, 30
      mov %r0, 0
      exit`);
  });
});

describe("the instruction budget", () => {
  it("stops a runaway loop at the interpreter's instruction, with its count", () => {
    const ran = agree("mov %r0, 0\nloop:\nadd %r0, 1\nstxdw [%r10-8], %r0\nja loop\nexit", {
      budget: 1000,
    });
    expect(ran.result).toMatch(
      /^BudgetExceeded: test: insn \d+: instruction budget of 1000 exhausted/,
    );
    expect(ran.insns).toBe(1000);
  });

  it("is exact across many refills of the counter", () => {
    const source = "mov %r0, 0\nloop:\nadd %r0, 1\njlt %r0, 5000, loop\nexit";
    const reference = runOn("interp", source, { budget: 10_000_000 });
    expect(runOn("regions", source, { budget: 10_000_000, budgetChunk: 7 })).toEqual(reference);
    expect(runOn("regions", source, { budget: 9_999, budgetChunk: 10 })).toEqual(
      runOn("interp", source, { budget: 9_999 }),
    );
  });

  it("throws BudgetExceeded, a VmError", () => {
    const jit = compileProgram(assemble("loop:\nja loop\nexit"), { name: "spin" });
    expect(() => jit.run({ budget: 50 })).toThrow(BudgetExceeded);
    expect(jit.machine.insns).toBe(50);
  });
});

describe("memory", () => {
  it("faults name the pc, address, size and region exactly as the interpreter does", () => {
    for (const source of [
      "ldxdw %r0, [%r1+60]\nexit", // past the end of mem
      "stb [%r1-1], 1\nexit", // just below it
      "ldxdw %r0, [%r10+0]\nexit", // above the stack
      "mov %r2, %r10\nldxw %r0, [%r2-516]\nexit", // below the frame
      "mov %r1, 0\nldxb %r0, [%r1+16]\nexit", // NULL
      "lddw %r1, 0x00007fff00001000\nldxb %r0, [%r1]\nexit", // user space
      "lddw %r1, 0xfffffffffffffff8\nldxdw %r0, [%r1+16]\nexit", // wraps around
      "call local f\nexit\nf:\nmov %r1, %r10\nstdw [%r10-8], 1\nexit\n", // fine
      "call local f\nldxdw %r0, [%r10-520]\nexit\nf:\nstdw [%r10-8], 1\nexit", // dead frame
      "mov %r2, %r1\nlock add [%r2+60], %r1\nexit", // atomic past the end
    ]) {
      agree(source);
    }
  });

  it("a read-only region: loads work, stores and atomics fault", () => {
    const helpers = (): HelperTable => {
      let region: Region | undefined;
      return new HelperTable().register(9, "ro_region", (vm) => {
        region ??= vm.memory.alloc(16, { name: "ro", kind: "map_value", writable: false });
        vm.memory.u8[region.base] = 42;
        vm.regs[0] = region.addressLo;
        vm.regs[1] = region.addressHi;
      });
    };
    expect(agree("call 9\nldxb %r0, [%r0]\nexit", { helpers }).result).toBe(hex64(42, 0));
    expect(agree("call 9\nstb [%r0], 1\nexit", { helpers }).result).toMatch(/is not writable/);
    expect(agree("call 9\nmov %r1, 1\nlock add [%r0], %r1\nexit", { helpers }).result).toMatch(
      /is not writable/,
    );
  });

  it('"address" checks: the high word inline, the end of memory by the wasm bounds check', () => {
    const program = prepareProgram(
      assemble("mov %r0, 0\nlddw %r1, 0xffff8880ffff0000\nldxdw %r0, [%r1]\nexit"),
      { name: "far" },
    );
    const machine = new JitMachine({ memory: new AddressSpace(), checks: "address" });
    expect(() => machine.run(program)).toThrow(VmFault);
    expect(() => machine.run(program)).toThrow(
      /^far: insn 3: invalid read of 8 bytes via r1\+0 beyond the end of the address space \(unchecked access\)$/,
    );
    // a non-kernel high word is checked inline, with the interpreter's message
    const user = prepareProgram(assemble("mov %r1, 8\nstb [%r1], 1\nexit"), { name: "null" });
    expect(() => machine.run(user)).toThrow(
      /^null: insn 1: invalid write of 1 byte at 0x0000000000000008: NULL or near-NULL pointer$/,
    );
  });

  it("accesses the verifier proved are compiled without checks", () => {
    const insns = assemble("ldxdw %r0, [%r1+8]\nstxdw [%r1+16], %r0\nexit");
    const program = prepareProgram(insns, { name: "proven" });
    const facts = { access: ["map_value", "map_value"] };
    const plain = compileModule(program);
    const proven = compileModule(program, { facts });
    expect(proven.byteLength).toBeLessThan(plain.byteLength - 80);
    // same result where the access is valid ...
    const memory = new AddressSpace();
    const buffer = memory.alloc(32, { name: "v", kind: "map_value" });
    memory.u8[buffer.base + 8] = 5;
    const jit = compileProgram(program, { memory, facts });
    expect(jit.run({ args: [[buffer.addressLo, buffer.addressHi]] }).lo).toBe(5);
    expect(memory.u8[buffer.base + 16]).toBe(5);
    // ... and no check where a (wrong) fact claims it: the gap after the region is not caught
    const gap = buffer.end + 8;
    expect(jit.run({ args: [[gap - 8 - 8, buffer.addressHi]] }).lo).toBe(0);
    const checked = compileProgram(program, { memory });
    expect(() => checked.run({ args: [[gap - 8 - 8, buffer.addressHi]] })).toThrow(/unmapped/);
  });

  it("a helper that grows the memory keeps working with a cached register file", () => {
    const helpers = (): HelperTable =>
      new HelperTable().register(20, "grow", (vm: HelperContext) => {
        const regs = vm.regs; // kept across the allocation
        const big = vm.memory.alloc(8 << 20, { name: "big", kind: "data" });
        vm.memory.u8[big.base + 100] = 9;
        regs[0] = big.lo(100);
        regs[1] = big.addressHi;
      });
    expect(
      agree("stdw [%r10-8], 3\ncall 20\nldxb %r0, [%r0]\nldxdw %r1, [%r10-8]\nadd %r0, %r1\nexit", {
        helpers,
      }).result,
    ).toBe(hex64(12, 0));
  });
});

describe("legacy packet access", () => {
  it("reads big-endian, ends the run with r0 = 0 out of bounds, faults without a packet", () => {
    const mem = Uint8Array.from({ length: 64 }, (_, i) => i * 3 + 1);
    agree("ldabsw 4\nmov %r6, %r0\nldabsh 62\nadd %r0, %r6\nldabsb 63\nadd %r0, %r6\nexit", {
      mem,
    });
    agree("mov %r2, 5\nldindh %r2, 3\nexit", { mem });
    expect(agree("mov %r0, 7\nldabsw 61\nmov %r0, 9\nexit", { mem }).result).toBe(hex64(0, 0));
    expect(agree("mov %r2, -8\nldindb %r2, 1\nmov %r0, 9\nexit", { mem }).result).toBe(hex64(0, 0));
    expect(agree("ldabsb 0\nexit", { packet: false }).result).toMatch(
      /insn 0: legacy packet access \(ld_abs\/ld_ind\) without a packet/,
    );
  });
});

describe("control flow", () => {
  it("irreducible flow (a jump into a loop) runs through the dispatch loop", () => {
    const source = `
      mov %r0, 0
      mov %r2, 0
      jgt %r1, 0, middle
    top:
      add %r0, 3
    middle:
      add %r0, 1
      add %r2, 1
      jlt %r2, 10, top
      exit`;
    expect(compileModule(prepareProgram(assemble(source))).dispatchFunctions).toBe(1);
    expect(agree(source).result).toBe(hex64(10 + 27, 0));
  });

  it("structured flow (loops, diamonds, breaks) needs no dispatch loop", () => {
    const source = `
      mov %r0, 0
      mov %r2, 0
    outer:
      mov %r3, 0
    inner:
      jset %r3, 1, odd
      add %r0, %r3
      ja next
    odd:
      xor %r0, %r3
      jeq %r3, 7, done
    next:
      add %r3, 1
      jlt %r3, 9, inner
    done:
      add %r2, 1
      jlt %r2, 4, outer
      exit`;
    expect(compileModule(prepareProgram(assemble(source))).dispatchFunctions).toBe(0);
    agree(source);
  });

  it("a function of 20000 instructions with 4000 nested joins compiles and agrees", () => {
    let source = "mov %r0, 0\nmov %r2, 1\n";
    for (let i = 0; i < 4000; i++) {
      source += `jset %r2, ${1 << (i % 31)}, l${i}\nadd %r0, ${i}\nl${i}:\nlsh %r2, 1\nadd %r2, %r0\n`;
    }
    source += "exit\n";
    agree(source);
  });

  it("writes to r10 (unverifiable) behave as in the interpreter", () => {
    agree(
      "mov %r0, %r10\nadd %r10, -16\nstdw [%r10+8], 5\nldxdw %r1, [%r10+8]\nsub %r0, %r10\nadd %r0, %r1\nexit",
    );
    agree("add %r10, -64\ncall local f\nmov %r0, %r10\nexit\nf:\nmov %r0, 1\nexit");
  });
});

describe("machines and engines", () => {
  it("a machine is not re-entrant (a helper cannot start a second run on it)", () => {
    const program = prepareProgram(assemble("call 3\nexit"), { name: "outer" });
    const helpers = new HelperTable().register(3, "rerun", (vm) => {
      (vm as JitMachine).run(program);
    });
    const machine = new JitMachine({ memory: new AddressSpace(), helpers });
    expect(() => machine.run(program)).toThrow(/not re-entrant/);
    // and the machine is usable again afterwards
    const ok = prepareProgram(assemble("mov %r0, 4\nexit"));
    expect(machine.run(ok).lo).toBe(4);
  });

  it("createRunner gives either engine behind one interface", () => {
    const program = prepareProgram(assemble("mov %r0, %r1\nmul %r0, 3\nexit"));
    for (const engine of ["interp", "jit"] as Engine[]) {
      const runner = createRunner(engine, { memory: new AddressSpace() });
      expect(runner.run(program, { args: [[14, 0]] }).lo).toBe(42);
    }
    expect(createRunner("jit", { memory: new AddressSpace() })).toBeInstanceOf(JitMachine);
    expect(createRunner("interp", { memory: new AddressSpace() })).toBeInstanceOf(Interpreter);
    expect(DEFAULT_ENGINE).toBe("jit");
  });

  it("parseEngine accepts the two names and rejects others with a TsbpfError", () => {
    expect(parseEngine("jit")).toBe("jit");
    expect(parseEngine("interp")).toBe("interp");
    expect(() => parseEngine("fast")).toThrow(EngineError);
    expect(() => parseEngine("fast")).toThrow("unknown engine 'fast' (expected interp or jit)");
  });

  it("compileProgram takes slots or a prepared program", () => {
    const jit = compileProgram([
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 0, src: 0, off: 0, imm: -5 },
      exitInsn,
    ]);
    expect(jit.run()).toEqual({ lo: -5, hi: -1, insns: -1 });
    expect(jit.run({ budget: 10 })).toEqual({ lo: -5, hi: -1, insns: 2 });
    expect(jit.module.byteLength).toBeGreaterThan(0);
  });
});

describe("the verifier's facts", () => {
  it("a verified kprobe program compiles its proven accesses unchecked and agrees", () => {
    // sum of pt_regs di and si (ctx offsets 112 and 104) through a stack slot
    const insns = assemble(`
      ldxdw %r2, [%r1+112]
      ldxdw %r3, [%r1+104]
      add %r2, %r3
      stxdw [%r10-8], %r2
      mov %r4, %r10
      add %r4, -8
      ldxdw %r0, [%r4+0]
      exit`);
    const verified = verify(
      { insns, progType: BpfProgType.BPF_PROG_TYPE_KPROBE, license: "GPL" },
      { mapByFd: () => undefined },
    );
    expect(verified.ok, verified.log).toBe(true);
    const facts = factsFromVerifier(verified.facts);
    expect(facts.access!.filter((a) => a !== undefined)).toEqual(["ctx", "ctx", "stack", "stack"]);
    const program = prepareProgram(insns, { name: "kprobe" });
    expect(compileModule(program, { facts, checks: "address" }).byteLength).toBeLessThan(
      compileModule(program, { checks: "address" }).byteLength,
    );
    const memory = new AddressSpace();
    const ctx = memory.alloc(168, { name: "pt_regs", kind: "ctx", writable: false });
    memory.view.setInt32(ctx.base + 112, 40, true); // di
    memory.view.setInt32(ctx.base + 104, 2, true); // si
    const jit = compileProgram(program, { memory, facts, checks: "address" });
    expect(jit.run({ args: [[ctx.addressLo, ctx.addressHi]] }).lo).toBe(42);
  });
});

describe("array lookups compiled inline", () => {
  // counts[*(u32 *)ctx] += 1 through bpf_map_lookup_elem, r0 = the value's address (or 0)
  const source = (mapLo: number): string => `
    ldxw %r3, [%r1+0]
    stxw [%r10-4], %r3
    mov %r2, %r10
    add %r2, -4
    lddw %r1, ${hex64(mapLo, KERNEL_HI)}
    call 1
    jeq %r0, 0, out
    mov %r3, 1
    lock add [%r0+0], %r3
  out:
    exit`;

  /** A kernel with a 3-slot array map, its handle, and helper 1 looking it up. */
  function setup() {
    const kernel = new SimKernel({ cpus: 1, seed: 1 });
    const map = createMapOrThrow(kernel, {
      mapType: BpfMapType.BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 4, // elements 8 bytes apart
      maxEntries: 3,
      name: "counts",
    }) as ArrayMap;
    const handle = kernel.memory.alloc(64, { name: "map handle", kind: "data", readable: false });
    const helpers = new HelperTable().register(1, "map_lookup_elem", (vm) => {
      expect(vm.regs[2]).toBe(handle.addressLo);
      const offset = map.lookupElem(vm.regs[4]!, vm.regs[5]!, 0);
      vm.regs[0] = offset;
      vm.regs[1] = offset === 0 ? 0 : KERNEL_HI;
    });
    const arrayMaps = new Map([
      [handle.base, { values: map.region.base, elemSize: map.elemSize, maxEntries: 3 }],
    ]);
    const ctx = kernel.memory.alloc(8, { name: "ctx", kind: "ctx" });
    return { kernel, map, handle, helpers, arrayMaps, ctx };
  }

  it("give the helper's results without calling it, and count the same instructions", () => {
    const { kernel, map, handle, helpers, arrayMaps, ctx } = setup();
    const program = prepareProgram(assemble(source(handle.addressLo)), { name: "count" });
    const facts = { arrayMaps };
    const jit = compileModule(program, { facts });
    expect(jit.inlineLookups).toBe(1);
    expect(compileModule(program).inlineLookups).toBe(0);
    const memory = kernel.memory;
    const interp = new Interpreter({ memory, helpers });
    const machine = new JitMachine({ memory, helpers: new HelperTable(), facts: () => facts });
    for (const key of [0, 1, 2, 3, 0x7fffffff, -1, 2]) {
      memory.view.setInt32(ctx.base, key, true);
      const args: [number, number][] = [[ctx.addressLo, ctx.addressHi]];
      const want = interp.run(program, { args, budget: 1000 });
      const got = machine.run(program, { args, budget: 1000 });
      expect(hex64(got.lo, got.hi), `key ${key}`).toBe(hex64(want.lo, want.hi));
      expect(got.insns).toBe(want.insns);
    }
    // keys 0 and 1 came once, key 2 twice, each time under both engines
    const u32 = (i: number): number => memory.view.getUint32(map.valueOffset(i), true);
    expect([u32(0), u32(1), u32(2)]).toEqual([2, 2, 4]);
  });

  it("only where r1 is the lddw's map in the same block, and only for helper 1", () => {
    const { handle, arrayMaps } = setup();
    const facts = { arrayMaps };
    const count = (text: string): number =>
      compileModule(prepareProgram(assemble(text), { name: "t" }), { facts }).inlineLookups;
    const map = hex64(handle.addressLo, KERNEL_HI);
    const other = hex64(handle.addressLo + 8, KERNEL_HI);
    expect(count(`lddw %r1, ${map}\n mov %r2, %r10\n call 1\n call 1\n exit`)).toBe(2);
    expect(count(`lddw %r1, ${other}\n call 1\n exit`)).toBe(0); // not an array map
    expect(count(`lddw %r1, ${map}\n call 2\n call 1\n exit`)).toBe(0); // a helper may change r1
    expect(count(`lddw %r1, ${map}\n mov %r1, %r1\n call 1\n exit`)).toBe(0);
    expect(count(`lddw %r1, ${map}\n ja +0\n call 1\n exit`)).toBe(0); // another block
    expect(count(`lddw %r3, ${map}\n call 1\n exit`)).toBe(0);
  });
});
