// Sign-extending narrow loads that do not need their sign (-O2). C promotes a `char` to int by
// sign extension, which before cpu v4 costs two shifts after the load; but equality tests, narrow
// stores and masks of the low bits read the same bits either way. A signed load of w bits whose
// every use is such becomes a plain (zero-extending) load: `a[i] != b[i]` on two char arrays
// compares bytes, as clang's code does.
import { type Func, type Inst, setArg } from "./ir.js";
import { constBig, insertBefore } from "./opt-fold.js";

export function unsignNarrowLoads(fn: Func): boolean {
  const cand = new Set<Inst>();
  for (const b of fn.blocks)
    for (const inst of b.insts)
      if (inst.op === "load" && inst.signed && inst.width < 4 && !inst.volatile) cand.add(inst);
  if (cand.size === 0) return false;
  // Drop loads with a sign-sensitive use until the rest agree (a comparison of two loads needs both).
  let changed = true;
  while (changed) {
    changed = false;
    for (const l of cand) {
      if (!l.uses.every((u) => signAgnostic(u, l, cand))) {
        cand.delete(l);
        changed = true;
      }
    }
  }
  for (const l of cand) {
    l.signed = false;
    const mask = l.width === 1 ? 0xff : 0xffff;
    for (const u of l.uses) {
      if (u.op !== "cmp" && u.op !== "cbr" && u.op !== "select") continue;
      for (const i of [0, 1]) {
        const c = u.args[i]!;
        if (c.op !== "const") continue;
        const k = fn.make("const", "i32", [], u.block);
        k.lo = c.lo & mask;
        insertBefore(k, u);
        setArg(u, i, k);
      }
    }
  }
  return cand.size > 0;
}

function signAgnostic(u: Inst, l: Inst, cand: Set<Inst>): boolean {
  const bits = l.width * 8;
  switch (u.op) {
    case "store":
      return u.args[0] !== l && u.width * 8 <= bits;
    case "sextin":
      return u.width <= bits; // re-extends from the low bits it keeps
    case "and": {
      const m = u.args[0] === l ? u.args[1]! : u.args[0]!;
      return m.op === "const" && m.lo >>> 0 < 2 ** bits;
    }
    case "cmp":
    case "cbr":
    case "select": {
      if (u.cond !== "eq" && u.cond !== "ne") return false;
      if (u.op === "select" && (u.args[2] === l || u.args[3] === l)) return false;
      const a = u.args[0]!;
      const b = u.args[1]!;
      const other = a === l ? b : a;
      if (other === l) return true;
      if (other.op === "const") {
        const v = Number(BigInt.asIntN(32, constBig(other)));
        return v >= -(2 ** (bits - 1)) && v < 2 ** (bits - 1);
      }
      return cand.has(other) && other.width === l.width;
    }
    default:
      return false;
  }
}
