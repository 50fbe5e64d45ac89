// One 8-byte instruction slot, exactly as struct bpf_insn: the unit every phase shares.
//
// A program is an array of slots. `lddw` takes two: the first holds the low 32 bits of the
// constant in imm, the second is a pseudo instruction (code 0, regs 0, off 0) whose imm holds the
// high 32 bits. Instruction indices are slot indices everywhere (verifier log, objdump, relocations),
// as in the kernel.
export interface Insn {
  /** opcode byte */
  code: number;
  /** destination register, 0-15 as encoded (only 0-10 are valid) */
  dst: number;
  /** source register, 0-15 as encoded */
  src: number;
  /** signed 16-bit offset */
  off: number;
  /** signed 32-bit immediate */
  imm: number;
}

export const INSN_SIZE = 8;
