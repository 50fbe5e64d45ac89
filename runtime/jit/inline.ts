// Helper calls the JIT compiles inline instead of calling into JavaScript (JitFacts.arrayMaps):
// bpf_map_lookup_elem on a plain array map whose pointer an lddw put in r1 earlier in the same
// basic block, as the kernel's verifier rewrites such calls with array_map_gen_lookup. Both
// liveness (the call reads only r2 and writes only r0) and code generation use the result.
import * as op from "../isa/opcodes.js";
import { KERNEL_HI } from "../vm/memory.js";
import type { Program } from "../vm/program.js";
import { dstOf, opcodeOf, slotsOf, srcOf, type ProgramCfg } from "./cfg.js";
import type { JitArrayMap, JitFacts } from "./codegen.js";

/** enum bpf_func_id: BPF_FUNC_map_lookup_elem. */
const FUNC_MAP_LOOKUP_ELEM = 1;
const CALL = op.BPF_JMP | op.BPF_CALL;

/** The calls compiled inline, by slot, with the array each one looks up. */
export type InlineLookups = ReadonlyMap<number, JitArrayMap>;

export const NO_INLINE_LOOKUPS: InlineLookups = new Map();

export function findInlineLookups(
  program: Program,
  cfg: ProgramCfg,
  facts: JitFacts | undefined,
): InlineLookups {
  const arrays = facts?.arrayMaps;
  if (arrays === undefined || arrays.size === 0) return NO_INLINE_LOOKUPS;
  const code = program.code;
  const found = new Map<number, JitArrayMap>();
  for (const f of cfg.functions) {
    for (const b of f.blocks) {
      let map: JitArrayMap | undefined; // what r1 holds, if an array map's pointer
      for (let pc = b.start; pc < b.end; pc += slotsOf(code, pc)) {
        const w = code[2 * pc]!;
        const c = opcodeOf(w);
        if (c === op.BPF_LDDW) {
          if (dstOf(w) === 1) {
            map = code[2 * pc + 3] === KERNEL_HI ? arrays.get(code[2 * pc + 1]!) : undefined;
          }
          continue;
        }
        if (c === CALL && srcOf(w) === 0 && code[2 * pc + 1] === FUNC_MAP_LOOKUP_ELEM) {
          if (map !== undefined) found.set(pc, map); // inline, it leaves r1 as it is
          continue;
        }
        if (writesR1(c, w)) map = undefined;
      }
    }
  }
  return found;
}

/** May the instruction (not an lddw or a map lookup) change r1? */
function writesR1(c: number, w: number): boolean {
  const cls = c & 0x07;
  if (cls === op.BPF_ALU || cls === op.BPF_ALU64 || cls === op.BPF_LDX) return dstOf(w) === 1;
  if (cls === op.BPF_STX) return (c & 0xe0) === op.BPF_ATOMIC && srcOf(w) === 1; // fetch
  if (cls === op.BPF_LD) return true; // ld_abs / ld_ind
  return cls === op.BPF_JMP || cls === op.BPF_JMP32; // calls: a helper or callee may change it
}
