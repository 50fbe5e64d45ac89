// What verification proved about each instruction, for the interpreter's and JIT's benefit
// (the kernel keeps the like in bpf_insn_aux_data): reached or dead, which kind of memory a
// load or store touches on every path, which way a conditional jump went, helper ids.

/** Kinds of memory a load or store can reach. */
export type AccessRegion =
  "stack" | "ctx" | "map_value" | "map_key" | "mem" | "ringbuf_mem" | "packet";

export interface InsnFact {
  /** some path reached this instruction */
  seen: boolean;
  /** loads, stores, atomics: the regions proven on the paths that reached it */
  access?: AccessRegion[];
  /** conditional jumps: a path took the jump / fell through */
  taken?: boolean;
  fallthrough?: boolean;
  /** ALU div/mod by a register whose range includes 0 (runtime semantics apply) */
  divisorMayBeZero?: boolean;
  /** helper calls: the helper id */
  helper?: number;
  /** bpf_loop calls: the callback's subprogram when every visit passed flags 0 and that same
   * callback (the kernel inlines such calls), -1 otherwise */
  loopInline?: number;
}

export function newFacts(n: number): InsnFact[] {
  const facts: InsnFact[] = new Array(n);
  for (let i = 0; i < n; i++) facts[i] = { seen: false };
  return facts;
}

export function recordAccess(fact: InsnFact, region: AccessRegion): void {
  if (!fact.access) fact.access = [region];
  else if (!fact.access.includes(region)) fact.access.push(region);
}
