// Edge cases of the instruction set, each checked against what RFC 9669 says (quoted in the
// comments), plus the machine's own rules: frames, the call depth limit, the budget, faults.
import { describe, expect, it } from "vitest";
import { TsbpfError } from "../../runtime/error.js";
import * as op from "../../runtime/isa/opcodes.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BudgetExceeded, VmFault } from "../../runtime/vm/fault.js";
import { HelperTable } from "../../runtime/vm/helpers.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { AddressSpace, MemoryFault } from "../../runtime/vm/memory.js";
import { funcIndex, PrepareError, prepareProgram, Program } from "../../runtime/vm/program.js";
import { IsaError } from "../../runtime/isa/codec.js";
import { machine, run } from "./run.js";

const r0 = (asm: string, mem?: Uint8Array): bigint => run(asm + "\nexit", mem ? { mem } : {}).r0;
const HIGH = "lddw %r0, 0xdeadbeef00000000\n";

describe("division and modulo (RFC 9669 4.1)", () => {
  // "If execution would result in division by zero, the destination register is instead set to
  // zero. If execution would result in modulo by zero, for BPF_ALU64 the value of the
  // destination register is unchanged whereas for BPF_ALU the upper 32 bits of the destination
  // register are zeroed."
  it("division by zero gives 0, 32 and 64 bit, register and immediate", () => {
    expect(r0("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1")).toBe(0n);
    expect(r0("mov %r0, 7\ndiv %r0, 0")).toBe(0n);
    expect(r0(HIGH + "mov %r1, 0\ndiv32 %r0, %r1")).toBe(0n);
    expect(r0("mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1")).toBe(0n);
    expect(r0("mov32 %r0, -7\nsdiv32 %r0, 0")).toBe(0n);
  });

  it("modulo by zero leaves dst (64-bit) or zero-extends it (32-bit)", () => {
    expect(r0(HIGH + "or %r0, 5\nmov %r1, 0\nmod %r0, %r1")).toBe(0xdeadbeef00000005n);
    expect(r0(HIGH + "or %r0, 5\nmod32 %r0, 0")).toBe(5n);
    expect(r0(HIGH + "or %r0, 5\nmov %r1, 0\nsmod %r0, %r1")).toBe(0xdeadbeef00000005n);
    expect(r0(HIGH + "or %r0, -5\nsmod32 %r0, 0")).toBe(0xfffffffbn);
  });

  it("sdiv of INT_MIN by -1 is INT_MIN; smod of INT_MIN by -1 is 0", () => {
    expect(r0("lddw %r0, 0x8000000000000000\nsdiv %r0, -1")).toBe(0x8000000000000000n);
    expect(r0("lddw %r0, 0x8000000000000000\nsmod %r0, -1")).toBe(0n);
    expect(r0("mov32 %r0, 0x80000000\nsdiv32 %r0, -1")).toBe(0x80000000n);
    expect(r0("mov32 %r0, 0x80000000\nsmod32 %r0, -1")).toBe(0n);
  });

  it("signed division truncates toward zero, modulo takes the dividend's sign", () => {
    expect(r0("mov %r0, -7\nsdiv %r0, 2")).toBe(BigInt.asUintN(64, -3n));
    expect(r0("mov %r0, -7\nsmod %r0, 2")).toBe(BigInt.asUintN(64, -1n));
    expect(r0("mov %r0, 7\nsmod %r0, -2")).toBe(1n);
    expect(r0("mov32 %r0, -7\nsmod32 %r0, 2")).toBe(0xffffffffn);
  });

  it("64-bit div/mod with an immediate sign-extend it, then divide unsigned", () => {
    // -1 as an immediate is 0xffffffffffffffff: anything smaller divides to 0.
    expect(r0("lddw %r0, 0xfffffffffffffffe\ndiv %r0, -1")).toBe(0n);
    expect(r0("lddw %r0, 0xfffffffffffffffe\nmod %r0, -1")).toBe(0xfffffffffffffffen);
    // 32-bit immediates are used as unsigned 32-bit values.
    expect(r0("mov32 %r0, -2\ndiv32 %r0, -1")).toBe(0n);
  });

  it("64-bit division with dividend and divisor above 2^32", () => {
    expect(r0("lddw %r0, 0xffffffffffffffff\nlddw %r1, 0x100000001\ndiv %r0, %r1")).toBe(
      0xffffffffffffffffn / 0x100000001n,
    );
    expect(r0("lddw %r0, 0xfedcba9876543210\nlddw %r1, 0x123456789\nmod %r0, %r1")).toBe(
      0xfedcba9876543210n % 0x123456789n,
    );
  });
});

describe("shifts (RFC 9669 4.1: the shift amount is masked to the operand width)", () => {
  it("64-bit shifts use the low 6 bits", () => {
    expect(r0("mov %r0, 1\nlsh %r0, 65")).toBe(2n);
    expect(r0("mov %r0, 1\nmov %r1, 64\nlsh %r0, %r1")).toBe(1n);
    expect(r0("mov %r0, 1\nlsh %r0, 63")).toBe(0x8000000000000000n);
    expect(r0("lddw %r0, 0x8000000000000000\nrsh %r0, 63")).toBe(1n);
    expect(r0("lddw %r0, 0x8000000000000000\narsh %r0, 63")).toBe(0xffffffffffffffffn);
    expect(r0("lddw %r0, 0x8000000000000000\narsh %r0, 32")).toBe(0xffffffff80000000n);
    expect(r0("lddw %r0, 0x0000000180000000\nrsh %r0, 31")).toBe(3n);
  });

  it("32-bit shifts use the low 5 bits and zero the high word", () => {
    expect(r0(HIGH + "or %r0, 1\nlsh32 %r0, 33")).toBe(2n);
    expect(r0("mov32 %r0, 0x80000000\narsh32 %r0, 31")).toBe(0xffffffffn);
    expect(r0("mov32 %r0, 0x80000000\nmov %r1, 36\nrsh32 %r0, %r1")).toBe(0x08000000n);
  });
});

describe("sign extension and 32-bit zero extension", () => {
  it("32-bit ALU results zero the upper half (RFC 9669 4.1)", () => {
    expect(r0(HIGH + "add32 %r0, 1")).toBe(1n);
    expect(r0(HIGH + "mov32 %r0, %r0")).toBe(0n);
    expect(r0("mov %r0, -1\nneg32 %r0")).toBe(1n);
    expect(r0("mov %r0, -1\nxor32 %r0, 0")).toBe(0xffffffffn);
  });

  it("64-bit immediates are sign-extended", () => {
    expect(r0("mov %r0, -1")).toBe(0xffffffffffffffffn);
    expect(r0("mov %r0, 0\nadd %r0, -2")).toBe(0xfffffffffffffffen);
    expect(r0("mov %r0, 0\nor %r0, 0x80000000")).toBe(0xffffffff80000000n);
    expect(r0("mov32 %r0, -1")).toBe(0xffffffffn);
  });

  it("movsx sign-extends 8/16/32 bits (into 64 or 32 bits)", () => {
    expect(r0("mov %r1, 0x80\nmovsx864 %r0, %r1")).toBe(0xffffffffffffff80n);
    expect(r0("mov %r1, 0x8000\nmovsx1664 %r0, %r1")).toBe(0xffffffffffff8000n);
    expect(r0("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1")).toBe(0xffffffff80000000n);
    expect(r0("mov %r1, 0x80\nmovsx832 %r0, %r1")).toBe(0xffffff80n);
    expect(r0("mov %r1, 0x7fff\nmovsx1632 %r0, %r1")).toBe(0x7fffn);
  });

  it("sign-extending loads (ldxsb/ldxsh/ldxsw) and zero-extending loads", () => {
    const mem = Uint8Array.from([0x80, 0x80, 0xff, 0xff, 0x00, 0x00, 0x00, 0x80]);
    expect(r0("ldxsb %r0, [%r1]", mem)).toBe(0xffffffffffffff80n);
    expect(r0("ldxsh %r0, [%r1]", mem)).toBe(0xffffffffffff8080n);
    expect(r0("ldxsw %r0, [%r1+4]", mem)).toBe(0xffffffff80000000n);
    expect(r0("ldxw %r0, [%r1+4]", mem)).toBe(0x80000000n);
    expect(r0("ldxdw %r0, [%r1]", mem)).toBe(0x80000000ffff8080n);
  });

  it("byte swaps: le truncates, be and bswap reverse (RFC 9669 4.2)", () => {
    expect(r0("lddw %r0, 0x1122334455667788\nle16 %r0")).toBe(0x7788n);
    expect(r0("lddw %r0, 0x1122334455667788\nle32 %r0")).toBe(0x55667788n);
    expect(r0("lddw %r0, 0x1122334455667788\nle64 %r0")).toBe(0x1122334455667788n);
    expect(r0("lddw %r0, 0x1122334455667788\nbe16 %r0")).toBe(0x8877n);
    expect(r0("lddw %r0, 0x1122334455667788\nbe32 %r0")).toBe(0x88776655n);
    expect(r0("lddw %r0, 0x1122334455667788\nbswap64 %r0")).toBe(0x8877665544332211n);
  });
});

describe("jumps", () => {
  it("signed and unsigned 64-bit compares differ on the sign bit", () => {
    expect(r0("mov %r0, 0\nmov %r1, -1\njgt %r1, 1, +1\nexit\nmov %r0, 1")).toBe(1n);
    expect(r0("mov %r0, 0\nmov %r1, -1\njsgt %r1, 1, +1\nexit\nmov %r0, 1")).toBe(0n);
    expect(r0("mov %r0, 0\nmov %r1, -1\njslt %r1, 0, +1\nexit\nmov %r0, 1")).toBe(1n);
  });

  it("32-bit jumps ignore the upper half", () => {
    expect(r0("mov %r0, 0\nlddw %r1, 0x100000005\njeq32 %r1, 5, +1\nexit\nmov %r0, 1")).toBe(1n);
    expect(r0("mov %r0, 0\nlddw %r1, 0x100000005\njeq %r1, 5, +1\nexit\nmov %r0, 1")).toBe(0n);
  });

  it("gotol takes its offset from imm", () => {
    expect(r0("mov %r0, 1\ngotol +1\nmov %r0, 2\nexit")).toBe(1n);
  });
});

describe("atomics (RFC 9669 5.3)", () => {
  const stack = (body: string): bigint => r0("lddw %r2, 0x100000003\nstxdw [%r10-8], %r2\n" + body);

  it("add/or/and/xor without fetch update memory only", () => {
    expect(stack("mov %r1, 4\nlock add [%r10-8], %r1\nldxdw %r0, [%r10-8]")).toBe(0x100000007n);
    expect(stack("mov %r1, 4\nlock or32 [%r10-8], %r1\nldxdw %r0, [%r10-8]")).toBe(0x100000007n);
    expect(stack("mov %r1, 2\nlock and [%r10-8], %r1\nldxdw %r0, [%r10-8]")).toBe(2n);
    expect(stack("mov %r1, -1\nlock xor32 [%r10-8], %r1\nldxdw %r0, [%r10-8]")).toBe(0x1fffffffcn);
    expect(stack("mov %r1, 4\nlock add [%r10-8], %r1\nmov %r0, %r1")).toBe(4n);
  });

  it("fetch variants return the old value (32-bit: zero-extended)", () => {
    expect(stack("mov %r1, 4\nlock fetch add [%r10-8], %r1\nmov %r0, %r1")).toBe(0x100000003n);
    expect(
      stack("lddw %r1, 0xffffffff00000004\nlock fetch add32 [%r10-8], %r1\nmov %r0, %r1"),
    ).toBe(3n);
    expect(stack("mov %r1, 9\nlock xchg [%r10-8], %r1\nldxdw %r0, [%r10-8]\nadd %r0, %r1")).toBe(
      0x100000003n + 9n,
    );
    expect(stack("mov %r1, -1\nlock xchg32 [%r10-8], %r1\nldxdw %r0, [%r10-8]")).toBe(0x1ffffffffn);
  });

  it("cmpxchg stores when r0 matches and always returns the old value in r0", () => {
    // match: memory takes r1, r0 = old
    expect(stack("lddw %r0, 0x100000003\nmov %r1, 7\nlock cmpxchg [%r10-8], %r1")).toBe(
      0x100000003n,
    );
    expect(
      stack("lddw %r0, 0x100000003\nmov %r1, 7\nlock cmpxchg [%r10-8], %r1\nldxdw %r0, [%r10-8]"),
    ).toBe(7n);
    // mismatch: memory unchanged, r0 = old
    expect(stack("mov %r0, 3\nmov %r1, 7\nlock cmpxchg [%r10-8], %r1\nldxdw %r0, [%r10-8]")).toBe(
      0x100000003n,
    );
    expect(stack("mov %r0, 3\nmov %r1, 7\nlock cmpxchg [%r10-8], %r1")).toBe(0x100000003n);
    // 32-bit: compares the low word of r0 only, r0 = old word zero-extended
    expect(stack("lddw %r0, 0xff00000003\nmov %r1, 7\nlock cmpxchg32 [%r10-8], %r1")).toBe(3n);
    expect(
      stack(
        "lddw %r0, 0xff00000003\nmov %r1, 7\nlock cmpxchg32 [%r10-8], %r1\nldxdw %r0, [%r10-8]",
      ),
    ).toBe(0x100000007n);
  });
});

describe("BPF-to-BPF calls", () => {
  it("each frame has its own 512-byte stack and r6-r9 survive calls", () => {
    const { r0: result } = run(`
      mov %r6, 66
      stdw [%r10-8], 11
      mov %r1, %r10
      call local f
      ldxdw %r1, [%r10-8]
      add %r0, %r1
      add %r0, %r6
      exit
    f:
      mov %r6, 0
      stdw [%r10-8], 22
      mov %r0, %r10
      sub %r1, %r0
      mov %r0, %r1
      exit`);
    // caller's r10 - callee's r10 = 512, plus the caller's 11 and r6 = 66
    expect(result).toBe(512n + 11n + 66n);
  });

  it("a callee can use a pointer into its caller's frame", () => {
    const { r0: result } = run(`
      stdw [%r10-8], 5
      mov %r1, %r10
      add %r1, -8
      call local f
      ldxdw %r0, [%r10-8]
      exit
    f:
      ldxdw %r2, [%r1]
      add %r2, 1
      stxdw [%r1], %r2
      exit`);
    expect(result).toBe(6n);
  });

  // Calls nested `depth` deep below the entry function.
  const chain = (depth: number): string => {
    let asm = "mov %r0, 0\ncall local f1\nexit\n";
    for (let i = 1; i <= depth; i++) {
      asm += `f${i}:\nadd %r0, 1\n${i < depth ? `call local f${i + 1}\n` : ""}exit\n`;
    }
    return asm;
  };

  it("allows 8 frames (the entry function and 7 nested calls)", () => {
    expect(run(chain(7)).r0).toBe(7n);
  });

  it("stops at the ninth frame with a clear error", () => {
    expect(() => run(chain(8))).toThrow(VmFault);
    expect(() => run(chain(8))).toThrow(/insn \d+: call depth limit of 8 frames exceeded/);
  });

  it("unbounded recursion hits the depth limit, not the budget", () => {
    expect(() => run("f:\ncall local f\nexit")).toThrow(/call depth limit/);
  });
});

describe("the instruction budget", () => {
  it("stops a runaway loop with a typed error naming the budget", () => {
    let error: unknown;
    try {
      run("mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit", { budget: 1000 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BudgetExceeded);
    expect((error as BudgetExceeded).message).toMatch(/insn [12]: instruction budget of 1000/);
  });

  it("counts every executed instruction once (lddw once)", () => {
    const { insns } = run("lddw %r0, 1\nmov %r1, 3\nloop:\nsub %r1, 1\njne %r1, 0, loop\nexit");
    expect(insns).toBe(1 + 1 + 3 * 2 + 1);
    // exactly enough budget is enough
    expect(run("mov %r0, 1\nexit", { budget: 2 }).r0).toBe(1n);
    expect(() => run("mov %r0, 1\nexit", { budget: 1 })).toThrow(BudgetExceeded);
  });

  it("works across budget chunks and with no limit", () => {
    const asm =
      "mov %r0, 0\nmov %r1, 100000\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nexit";
    const unlimited = run(asm, { budget: Number.POSITIVE_INFINITY });
    expect(unlimited.r0).toBe(100000n);
    expect(unlimited.insns).toBe(2 + 3 * 100000 + 1);
  });
});

describe("memory faults", () => {
  const fault = (asm: string, mem?: Uint8Array): VmFault => {
    try {
      run(asm, mem ? { mem } : {});
    } catch (e) {
      if (e instanceof VmFault) return e;
      throw e;
    }
    throw new Error("no fault");
  };

  it("reading past the end of mem names pc, address, size and region", () => {
    const f = fault("ldxw %r0, [%r1+62]\nexit", new Uint8Array(64));
    expect(f.pc).toBe(0);
    expect(f.memory).toBeInstanceOf(MemoryFault);
    expect(f.memory!.size).toBe(4);
    expect(f.message).toMatch(
      /^test: insn 0: invalid read of 4 bytes at 0xffff8880[0-9a-f]{8}: runs 2 bytes past the end of 'mem'/,
    );
  });

  it("writing just below mem lands in the guard gap", () => {
    const f = fault("mov %r0, 0\nstb [%r1-1], 1\nexit");
    expect(f.pc).toBe(1);
    expect(f.message).toMatch(/invalid write of 1 byte at .*: unmapped, 1 byte before 'mem'/);
  });

  it("the stack: above r10 and below the current frame fault", () => {
    expect(fault("ldxdw %r0, [%r10]\nexit").message).toMatch(/past the end of 'stack'/);
    expect(fault("stdw [%r10-520], 1\nexit").message).toMatch(/below the live part of 'stack'/);
    expect(fault("stw [%r10-4], 1\nldxdw %r0, [%r10-4]\nexit").message).toMatch(
      /insn 1: invalid read of 8 bytes/,
    );
    // the deepest byte of the frame is fine
    expect(run("stb [%r10-512], 7\nldxb %r0, [%r10-512]\nexit").r0).toBe(7n);
  });

  it("NULL and user-space pointers fault", () => {
    expect(fault("mov %r1, 0\nldxb %r0, [%r1]\nexit").message).toMatch(/NULL/);
    expect(fault("mov %r1, 0x1000\nlsh %r1, 20\nldxb %r0, [%r1]\nexit").message).toMatch(
      /user-space address/,
    );
  });

  it("an address that wraps around the 64-bit space faults instead of aliasing", () => {
    expect(fault("lddw %r1, 0xffffffffffffffff\nldxb %r0, [%r1+2]\nexit").message).toMatch(
      /invalid read of 1 byte at 0x0000000000000001/,
    );
  });

  it("writing a read-only region faults", () => {
    const m = machine();
    const ro = m.memory.alloc(16, { name: "ctx", kind: "ctx", writable: false });
    const prog = prepareProgram([
      { code: op.BPF_ST | op.BPF_MEM | op.BPF_W, dst: 1, src: 0, off: 0, imm: 1 },
      { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
    expect(() => m.vm.run(prog, { args: [[ro.addressLo, ro.addressHi]] })).toThrow(
      /'ctx' \(ctx, .*\) is not writable/,
    );
  });
});

describe("run bookkeeping", () => {
  it("insns is exact after a fault too", () => {
    const m = machine();
    expect(() => run("mov %r0, 1\nmov %r0, 2\nldxdw %r0, [%r10]\nexit", { m })).toThrow(VmFault);
    expect(m.vm.insns).toBe(3);
  });

  it("an interpreter is not re-entrant (a helper cannot start a second run on it)", () => {
    let vm: Interpreter | undefined;
    const inner = prepareProgram([
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 0, src: 0, off: 0, imm: 0 },
      { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
    const helpers = new HelperTable().register(1, "nested", () => {
      vm!.run(inner);
    });
    const m = machine(undefined, helpers);
    vm = m.vm;
    expect(() => run("call 1\nexit", { m })).toThrow(/not re-entrant/);
    // and it is usable again afterwards
    expect(m.vm.run(inner).lo).toBe(0);
  });
});

describe("legacy packet access (ld_abs / ld_ind)", () => {
  const packet = Uint8Array.from([0x12, 0x34, 0x56, 0x78, 0x9a]);
  it("reads big-endian bytes, half words and words", () => {
    expect(r0("ldabsw 1", packet)).toBe(0x3456789an);
    expect(r0("ldabsh 0", packet)).toBe(0x1234n);
    expect(r0("mov %r3, 2\nldindb %r3, 2", packet)).toBe(0x9an);
  });
  it("an access beyond the packet ends the program with r0 = 0", () => {
    expect(run("mov %r0, 5\nldabsw 2\nmov %r0, 9\nexit", { mem: packet }).r0).toBe(0n);
    expect(run("mov %r3, -1\nldindb %r3, 0\nmov %r0, 9\nexit", { mem: packet }).r0).toBe(0n);
  });
});

describe("lddw pseudo sources", () => {
  const lddwMapValue: Insn[] = [
    { code: op.BPF_LDDW, dst: 0, src: op.BPF_PSEUDO_MAP_VALUE, off: 0, imm: 3 },
    { code: 0, dst: 0, src: 0, off: 0, imm: 8 },
    { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
  ];

  it("map fd / value references need a resolver", () => {
    expect(() => prepareProgram(lddwMapValue)).toThrow(PrepareError);
    expect(() => prepareProgram(lddwMapValue)).toThrow(/insn 0: lddw with src_reg 2 \(map value\)/);
  });

  it("the resolver's value is what the program sees", () => {
    const seen: number[] = [];
    const result = run(lddwMapValue, {
      prepare: {
        resolvePseudo: (src, imm, next) => {
          seen.push(src, imm, next);
          return [0x1000 + next, 0x7777];
        },
      },
    });
    expect(seen).toEqual([2, 3, 8]);
    expect(result.r0).toBe(0x0000777700001008n);
  });

  it("BPF_PSEUDO_FUNC gives a code address that names the subprogram", () => {
    const program = prepareProgram([
      { code: op.BPF_LDDW, dst: 0, src: op.BPF_PSEUDO_FUNC, off: 0, imm: 2 },
      { code: 0, dst: 0, src: 0, off: 0, imm: 0 },
      { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
      { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
    const vm = new Interpreter({ memory: new AddressSpace() });
    const { lo, hi } = vm.run(program);
    expect(funcIndex(lo, hi, program.length)).toBe(3);
  });
});

describe("helpers", () => {
  const exitInsn: Insn = { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 };

  it("an unknown helper id is a fault naming it", () => {
    expect(() => run("call 77\nexit")).toThrow(/insn 0: call to unknown helper 77/);
    expect(() => run("mov %r2, 99\ncallx %r2\nexit")).toThrow(/insn 1: call to unknown helper 99/);
  });

  it("a helper's memory fault becomes a VmFault at the call", () => {
    expect(() => run("mov %r1, 0\nmov %r2, 4\ncall 1\nexit")).toThrow(
      /insn 2: in memfrob: invalid read of 4 bytes at 0x0000000000000000/,
    );
  });

  it("helpers read r1-r5 and set r0; r6-r9 are untouched", () => {
    const result = run(
      "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\nmov %r6, 6\ncall 0\nadd %r0, %r6\nexit",
    );
    expect(result.r0).toBe(0x0102030405n + 6n);
  });

  it("stop() ends the run with r0 (unwind)", () => {
    expect(run("mov %r1, 0\ncall 5\nmov %r0, 2\nexit").r0).toBe(0n);
    expect(run("mov %r1, 3\ncall 5\nmov %r0, 2\nexit").r0).toBe(2n);
    // from inside a BPF-to-BPF call too
    expect(run("call local f\nmov %r0, 2\nexit\nf:\nmov %r1, 0\ncall 5\nexit").r0).toBe(0n);
  });

  it("tailCall() replaces the current program and does not return", () => {
    const target = prepareProgram(
      [
        { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_X, dst: 0, src: 1, off: 0, imm: 0 },
        { code: op.BPF_ALU64 | op.BPF_ADD | op.BPF_K, dst: 0, src: 0, off: 0, imm: 100 },
        exitInsn,
      ],
      { name: "target" },
    );
    const helpers = new HelperTable().register(12, "bpf_tail_call", (vm) => {
      if (vm.tailCallCount >= 33) {
        vm.regs[0] = -2;
        vm.regs[1] = -1;
        return;
      }
      vm.tailCall(target);
    });
    // r1 = 5 is the "ctx" that survives into the target
    const result = run("mov %r1, 5\ncall 12\nmov %r0, 1\nexit", { helpers });
    expect(result.r0).toBe(105n);
    expect(result.vm.tailCallCount).toBe(1);
    expect(result.vm.program.name).toBe("target");
  });

  it("callSubprogram() runs a callback in a new frame (a bpf_loop)", () => {
    const helpers = new HelperTable().register(181, "bpf_loop", (vm) => {
      const count = vm.regs[2]!;
      const fn = funcIndex(vm.regs[4]!, vm.regs[5]!, vm.program.length);
      let i = 0;
      for (; i < count; i++) {
        const ret = vm.callSubprogram(fn, [i, 0, vm.regs[6]!, vm.regs[7]!]);
        if (ret.lo !== 0) break;
      }
      vm.regs[0] = i + 1 > count ? count : i + 1;
      vm.regs[1] = 0;
    });
    // sum of i for i < 10 into the caller's stack through the context pointer (r3)
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
      // callback(i, ctx): *ctx += i; return 0   (r6 clobbered: the caller's must survive)
      { code: op.BPF_LDX | op.BPF_MEM | op.BPF_DW, dst: 3, src: 2, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_ADD | op.BPF_X, dst: 3, src: 1, off: 0, imm: 0 },
      { code: op.BPF_STX | op.BPF_MEM | op.BPF_DW, dst: 2, src: 3, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 6, src: 0, off: 0, imm: 0 },
      { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 0, src: 0, off: 0, imm: 0 },
      exitInsn,
    ];
    // the lddw at slot 3 names slot 3 + 1 + 7 = 11
    expect(run(insns, { helpers }).r0).toBe(45n + 77n);
  });
});

describe("malformed programs", () => {
  const exitInsn: Insn = { code: op.BPF_JMP | op.BPF_EXIT, dst: 0, src: 0, off: 0, imm: 0 };
  const isaIndex = (insns: Insn[]): number => {
    try {
      prepareProgram(insns);
    } catch (e) {
      if (e instanceof IsaError) return e.index;
      throw e;
    }
    return -1;
  };
  const mov0: Insn = { code: op.BPF_ALU64 | op.BPF_MOV | op.BPF_K, dst: 0, src: 0, off: 0, imm: 0 };

  it("prepareProgram rejects structural faults with an IsaError naming the slot", () => {
    expect(() => prepareProgram([])).toThrow(IsaError);
    expect(isaIndex([mov0, { code: op.BPF_LDDW, dst: 0, src: 0, off: 0, imm: 1 }])).toBe(1);
    expect(
      isaIndex([{ code: op.BPF_JMP | op.BPF_JA, dst: 0, src: 0, off: 5, imm: 0 }, exitInsn]),
    ).toBe(0);
    expect(isaIndex([mov0, { ...mov0, dst: 12 }, exitInsn])).toBe(1);
    expect(isaIndex([mov0, { ...mov0, code: 0xff }, exitInsn])).toBe(1);
    expect(isaIndex([exitInsn, mov0])).toBe(1); // falls through past the end
  });

  // The dispatch loop does not trust validation: a Program built without it still only faults.
  const unvalidated = (insns: Insn[]): Program => {
    const code = new Int32Array(2 * (insns.length + 1));
    insns.forEach((insn, i) => {
      code[2 * i] = insn.code | (insn.dst << 8) | (insn.src << 12) | (insn.off << 16);
      code[2 * i + 1] = insn.imm;
    });
    return new Program("raw", insns, code);
  };

  it("falling off the end and unknown opcodes fault at run time", () => {
    const m = machine();
    expect(() => m.vm.run(unvalidated([mov0]))).toThrow(
      /raw: insn 1: fell off the end of the program/,
    );
    expect(() => m.vm.run(unvalidated([{ ...mov0, code: 0xff }, exitInsn]))).toThrow(
      /raw: insn 0: unknown opcode 0xff/,
    );
    expect(() =>
      m.vm.run(
        unvalidated([{ code: op.BPF_JMP | op.BPF_JA, dst: 0, src: 0, off: 7, imm: 0 }, exitInsn]),
      ),
    ).toThrow(/raw: insn 8: jumped outside the program \(0\.\.1\)/);
    expect(() =>
      m.vm.run(
        unvalidated([{ code: op.BPF_JMP | op.BPF_JA, dst: 0, src: 0, off: -9, imm: 0 }, exitInsn]),
      ),
    ).toThrow(VmFault);
  });

  it("all of these are TsbpfErrors", () => {
    for (const e of [VmFault, BudgetExceeded, IsaError, PrepareError, MemoryFault]) {
      expect(e.prototype).toBeInstanceOf(TsbpfError);
    }
  });
});
