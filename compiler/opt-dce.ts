// Dead code elimination: everything not needed by a side effect (stores, calls, atomics,
// branches, returns) is removed. An atomic whose old value nobody reads loses its fetch flag,
// so `__sync_fetch_and_add(&x, 1);` is the classic `lock xadd` every cpu version has.
import { type Func, type Inst, isPure, newMark } from "./ir.js";

export function deadCodeElimination(fn: Func): boolean {
  const live = newMark();
  const work: Inst[] = [];
  for (const b of fn.blocks) {
    for (const inst of b.insts) {
      if (!isPure(inst)) {
        inst.mark = live;
        work.push(inst);
      }
    }
  }
  while (work.length) {
    const inst = work.pop()!;
    for (const a of inst.args) {
      if (a.mark !== live) {
        a.mark = live;
        work.push(a);
      }
    }
  }
  let changed = false;
  for (const b of fn.blocks) {
    const insts = b.insts;
    let kept = 0;
    for (let i = 0; i < insts.length; i++) {
      const inst = insts[i]!;
      if (inst.mark === live) {
        insts[kept++] = inst;
        continue;
      }
      for (const a of inst.args) {
        const i = a.uses.indexOf(inst);
        if (i >= 0) a.uses.splice(i, 1);
      }
      inst.args = [];
      changed = true;
    }
    if (kept !== insts.length) insts.length = kept;
  }
  dropUnusedFetch(fn);
  return changed;
}

/** An atomic whose result is unused needs no BPF_FETCH. */
export function dropUnusedFetch(fn: Func): void {
  for (const b of fn.blocks) {
    for (const inst of b.insts) {
      if (inst.op === "atomic" && inst.fetch && inst.aop !== "xchg" && !resultNeeded(inst)) {
        for (const u of inst.uses.slice()) {
          // Only dead pure users remain (e.g. the `old + v` of an unused add_and_fetch).
          for (const a of u.args) {
            const i = a.uses.indexOf(u);
            if (i >= 0) a.uses.splice(i, 1);
          }
          u.args = [];
          u.block.insts.splice(u.block.insts.indexOf(u), 1);
        }
        inst.fetch = false;
        inst.ty = "void";
      }
    }
  }
}

function resultNeeded(inst: Inst): boolean {
  return inst.uses.some((u) => !isPure(u) || u.uses.length > 0);
}
