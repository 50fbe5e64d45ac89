// The instruction constructors build the same slots as the assembler (whose encodings are
// checked against llvm-mc and RFC 9669 in asm.test.ts), and what they build validates.
import { describe, expect, it } from "vitest";
import { assemble } from "../../runtime/isa/asm.js";
import * as b from "../../runtime/isa/build.js";
import { validateProgram } from "../../runtime/isa/codec.js";
import type { Insn } from "../../runtime/isa/insn.js";
import * as op from "../../runtime/isa/opcodes.js";

const cases: [string, Insn | Insn[]][] = [
  ["add %r1, %r2", b.BPF_ALU64_REG(op.BPF_ADD, 1, 2)],
  ["sub32 %r3, %r4", b.BPF_ALU32_REG(op.BPF_SUB, 3, 4)],
  ["mul %r5, -7", b.BPF_ALU64_IMM(op.BPF_MUL, 5, -7)],
  ["xor32 %r0, 0xffffffff", b.BPF_ALU32_IMM(op.BPF_XOR, 0, 0xffffffff)],
  ["sdiv %r1, %r2", b.BPF_ALU64_REG_OFF(op.BPF_DIV, 1, 2, 1)],
  ["smod32 %r1, %r2", b.BPF_ALU32_REG_OFF(op.BPF_MOD, 1, 2, 1)],
  ["sdiv %r1, 3", b.BPF_ALU64_IMM_OFF(op.BPF_DIV, 1, 3, 1)],
  ["smod32 %r1, 3", b.BPF_ALU32_IMM_OFF(op.BPF_MOD, 1, 3, 1)],
  ["neg %r6", b.BPF_NEG64(6)],
  ["neg32 %r6", b.BPF_NEG32(6)],
  ["mov %r0, %r1", b.BPF_MOV64_REG(b.BPF_REG_0, b.BPF_REG_1)],
  ["mov32 %r0, %r1", b.BPF_MOV32_REG(0, 1)],
  ["mov %r0, 5", b.BPF_MOV64_IMM(0, 5)],
  ["mov32 %r0, -5", b.BPF_MOV32_IMM(0, -5)],
  ["movsx3264 %r2, %r3", b.BPF_MOVSX64_REG(2, 3, 32)],
  ["movsx832 %r2, %r3", b.BPF_MOVSX32_REG(2, 3, 8)],
  ["le16 %r1", b.BPF_ENDIAN(op.BPF_TO_LE, 1, 16)],
  ["be64 %r1", b.BPF_ENDIAN(op.BPF_TO_BE, 1, 64)],
  ["bswap32 %r1", b.BPF_BSWAP(1, 32)],
  ["lddw %r1, 0x1122334455667788", b.BPF_LD_IMM64(1, 0x55667788, 0x11223344)],
  ["lddw %r9, -1", b.BPF_LD_IMM64(9, -1, -1)],
  ["ldxw %r0, [%r1+4]", b.BPF_LDX_MEM(op.BPF_W, 0, 1, 4)],
  ["ldxsh %r0, [%r1-2]", b.BPF_LDX_MEMSX(op.BPF_H, 0, 1, -2)],
  ["stxdw [%r10-8], %r1", b.BPF_STX_MEM(op.BPF_DW, b.BPF_REG_10, 1, -8)],
  ["stb [%r10-1], 0x7f", b.BPF_ST_MEM(op.BPF_B, 10, -1, 0x7f)],
  [
    "lock fetch add [%r10-8], %r1",
    b.BPF_ATOMIC_OP(op.BPF_DW, op.BPF_ADD | op.BPF_FETCH, 10, 1, -8),
  ],
  ["lock cmpxchg32 [%r2+4], %r3", b.BPF_ATOMIC_OP(op.BPF_W, op.BPF_CMPXCHG, 2, 3, 4)],
  ["ldabsh 12", b.BPF_LD_ABS(op.BPF_H, 12)],
  ["ldindb %r7, 3", b.BPF_LD_IND(op.BPF_B, 7, 3)],
  ["jeq %r1, %r2, +3", b.BPF_JMP_REG(op.BPF_JEQ, 1, 2, 3)],
  ["jsgt %r1, -1, -2", b.BPF_JMP_IMM(op.BPF_JSGT, 1, -1, -2)],
  ["jle32 %r1, %r2, +0", b.BPF_JMP32_REG(op.BPF_JLE, 1, 2, 0)],
  ["jset32 %r1, 8, +1", b.BPF_JMP32_IMM(op.BPF_JSET, 1, 8, 1)],
  ["ja -1", b.BPF_JMP_A(-1)],
  ["ja32 +100000", b.BPF_JMP32_A(100000)],
  ["call 6", b.BPF_CALL_HELPER(6)],
  ["call local +4", b.BPF_CALL_REL(4)],
  ["call runtime 77", b.BPF_CALL_KFUNC(0, 77)],
  ["callx %r3", b.BPF_CALLX(3)],
  ["exit", b.BPF_EXIT_INSN()],
];

describe("constructors build what the assembler assembles", () => {
  for (const [source, built] of cases) {
    it(source, () => expect([built].flat()).toEqual(assemble(source)));
  }

  it("pseudo lddw forms carry their src_reg", () => {
    expect(b.BPF_LD_MAP_FD(1, 5)[0]).toMatchObject({ code: 0x18, dst: 1, src: 1, imm: 5 });
    expect(b.BPF_LD_MAP_VALUE(2, 5, 16)).toEqual([
      { code: 0x18, dst: 2, src: 2, off: 0, imm: 5 },
      { code: 0, dst: 0, src: 0, off: 0, imm: 16 },
    ]);
    expect(b.BPF_LD_FUNC(3, 2)[0]).toMatchObject({ src: op.BPF_PSEUDO_FUNC, imm: 2 });
  });

  it("a program built from them validates", () => {
    const prog: Insn[] = [
      b.BPF_MOV64_IMM(b.BPF_REG_0, 0),
      ...b.BPF_LD_MAP_FD(b.BPF_REG_1, 3),
      b.BPF_CALL_REL(2),
      b.BPF_JMP_IMM(op.BPF_JEQ, b.BPF_REG_0, 0, 0),
      b.BPF_EXIT_INSN(),
      b.BPF_MOV64_REG(b.BPF_REG_0, b.BPF_REG_1),
      b.BPF_EXIT_INSN(),
    ];
    expect(validateProgram(prog).subprogs).toEqual([0, 6]);
  });
});
