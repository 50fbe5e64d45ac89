// bpf_prog_info.tag: the first 8 bytes of the SHA-1 (SHA-256 from 6.18 on) of the program as loaded, with the imm of
// every map lddw (BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE, both slots) zeroed, so the same
// program gets the same tag whatever fds its maps had (kernel/bpf/core.c bpf_prog_calc_tag,
// run by the verifier before it resolves the maps).
import { createHash } from "node:crypto";
import { encodeProgram } from "../isa/codec.js";
import type { Insn } from "../isa/insn.js";
import { BPF_LDDW, BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from "../isa/opcodes.js";

export function progTag(insns: readonly Insn[], hash: "sha1" | "sha256" = "sha1"): string {
  const copy = insns.map((insn) => ({ ...insn }));
  let wasLdMap = false;
  for (const insn of copy) {
    if (
      !wasLdMap &&
      insn.code === BPF_LDDW &&
      (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_VALUE)
    ) {
      wasLdMap = true;
      insn.imm = 0;
    } else if (wasLdMap && insn.code === 0 && insn.dst === 0 && insn.src === 0 && insn.off === 0) {
      wasLdMap = false;
      insn.imm = 0;
    } else {
      wasLdMap = false;
    }
  }
  return createHash(hash).update(encodeProgram(copy)).digest("hex").slice(0, 16);
}
