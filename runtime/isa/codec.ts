// Bytes <-> instruction slots (struct bpf_insn, 8 bytes, little endian), and the structural
// checks every consumer of untrusted byte code runs first.
//
// Slot layout: byte 0 opcode, byte 1 dst_reg (low nibble) and src_reg (high nibble),
// bytes 2-3 signed off, bytes 4-7 signed imm.
import { TsbpfError } from "../error.js";
import { INSN_SIZE, type Insn } from "./insn.js";

/** A structural error in byte code, naming the slot index (or -1 for the whole program). */
export class IsaError extends TsbpfError {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(index >= 0 ? `insn ${index}: ${reason}` : reason);
  }
}

/** Decodes the slot at `byteOffset`. */
export function decodeInsn(bytes: Uint8Array, byteOffset = 0): Insn {
  const regs = bytes[byteOffset + 1]!;
  return {
    code: bytes[byteOffset]!,
    dst: regs & 0x0f,
    src: regs >>> 4,
    off: ((bytes[byteOffset + 2]! | (bytes[byteOffset + 3]! << 8)) << 16) >> 16,
    imm:
      bytes[byteOffset + 4]! |
      (bytes[byteOffset + 5]! << 8) |
      (bytes[byteOffset + 6]! << 16) |
      (bytes[byteOffset + 7]! << 24),
  };
}

/** Encodes one slot into `out` at `byteOffset` (a fresh 8-byte array by default). */
export function encodeInsn(
  insn: Insn,
  out = new Uint8Array(INSN_SIZE),
  byteOffset = 0,
): Uint8Array {
  out[byteOffset] = insn.code;
  out[byteOffset + 1] = (insn.dst & 0x0f) | ((insn.src & 0x0f) << 4);
  out[byteOffset + 2] = insn.off & 0xff;
  out[byteOffset + 3] = (insn.off >> 8) & 0xff;
  out[byteOffset + 4] = insn.imm & 0xff;
  out[byteOffset + 5] = (insn.imm >> 8) & 0xff;
  out[byteOffset + 6] = (insn.imm >> 16) & 0xff;
  out[byteOffset + 7] = (insn.imm >>> 24) & 0xff;
  return out;
}

/** Splits byte code into slots; its length must be a multiple of 8. */
export function decodeProgram(bytes: Uint8Array): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new IsaError(
      Math.floor(bytes.length / INSN_SIZE),
      `byte code length ${bytes.length} is not a multiple of ${INSN_SIZE} (truncated instruction)`,
    );
  }
  const n = bytes.length / INSN_SIZE;
  const insns = new Array<Insn>(n);
  for (let i = 0; i < n; i++) insns[i] = decodeInsn(bytes, i * INSN_SIZE);
  return insns;
}

/** Joins slots into byte code. */
export function encodeProgram(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  for (let i = 0; i < insns.length; i++) encodeInsn(insns[i]!, out, i * INSN_SIZE);
  return out;
}
