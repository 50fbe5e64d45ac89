// Control-flow simplification: branch folding leaves unreachable blocks, empty blocks and chains
// of single-successor blocks; this pass removes the first, jumps over the second, merges the
// third, and turns small if/else diamonds that only choose a value into selects (one compare and
// two moves instead of two branches), as clang's SimplifyCFG does.
import {
  type Block,
  type Func,
  type Inst,
  isPure,
  removeInst,
  removePred,
  replaceAllUses,
} from "./ir.js";
import { insertBefore } from "./opt-fold.js";

export function simplifyCfg(fn: Func, allowSelects: boolean): boolean {
  let changed = false;
  let again = true;
  while (again) {
    again = removeUnreachable(fn);
    again = removeTrivialPhis(fn) || again;
    again = mergeBlocks(fn) || again;
    again = skipEmptyBlocks(fn) || again;
    if (allowSelects) again = convertDiamonds(fn) || again;
    changed ||= again;
  }
  return changed;
}

export function removeUnreachable(fn: Func): boolean {
  const seen = new Set<Block>();
  const stack = [fn.entry];
  while (stack.length) {
    const b = stack.pop()!;
    if (seen.has(b)) continue;
    seen.add(b);
    for (const s of b.succs) stack.push(s);
  }
  if (seen.size === fn.blocks.length) return false;
  const dead = fn.blocks.filter((b) => !seen.has(b));
  for (const b of dead) for (const s of b.succs) if (seen.has(s)) removePred(s, b);
  for (const b of dead) {
    for (const inst of b.insts) {
      for (const a of inst.args) {
        const i = a.uses.indexOf(inst);
        if (i >= 0) a.uses.splice(i, 1);
      }
      inst.args = [];
    }
  }
  for (const b of dead) {
    // Values of dead blocks used by other dead blocks only: nothing left refers to them.
    b.insts.length = 0;
    b.preds.length = 0;
  }
  const keep = fn.blocks.filter((b) => seen.has(b));
  fn.blocks.length = 0;
  fn.blocks.push(...keep);
  return true;
}

function removeTrivialPhis(fn: Func): boolean {
  let changed = false;
  for (const b of fn.blocks) {
    for (let i = 0; i < b.insts.length;) {
      const phi = b.insts[i]!;
      if (phi.op !== "phi") break;
      let same: Inst | undefined;
      let trivial = true;
      for (const a of phi.args) {
        if (a === phi || a === same) continue;
        if (same !== undefined) {
          trivial = false;
          break;
        }
        same = a;
      }
      if (trivial && same !== undefined) {
        replaceAllUses(phi, same);
        removeInst(phi);
        changed = true;
        continue;
      }
      i++;
    }
  }
  return changed;
}

/** B --br--> S where S has B as its only predecessor: append S to B. */
function mergeBlocks(fn: Func): boolean {
  let changed = false;
  for (let bi = 0; bi < fn.blocks.length; bi++) {
    const b = fn.blocks[bi]!;
    const t = b.terminator;
    if (!t || t.op !== "br") continue;
    const s = t.targets[0]!;
    if (s === b || s === fn.entry || s.preds.length !== 1) continue;
    // S's phis have one operand.
    while (s.insts.length && s.insts[0]!.op === "phi") {
      const phi = s.insts[0]!;
      const v = phi.args[0]!;
      replaceAllUses(phi, v);
      removeInst(phi);
    }
    removeInst(t);
    for (const inst of s.insts) {
      inst.block = b;
      b.insts.push(inst);
    }
    s.insts.length = 0;
    for (const succ of b.succs) {
      for (let i = 0; i < succ.preds.length; i++) if (succ.preds[i] === s) succ.preds[i] = b;
    }
    b.loopDepth = Math.max(b.loopDepth, s.loopDepth);
    const si = fn.blocks.indexOf(s);
    fn.blocks.splice(si, 1);
    if (si < bi) bi--;
    bi--; // look at b again: it may merge further
    changed = true;
  }
  return changed;
}

/** A block holding only `br T` is bypassed: its predecessors jump to T directly. */
function skipEmptyBlocks(fn: Func): boolean {
  let changed = false;
  for (const e of fn.blocks.slice()) {
    if (e === fn.entry || e.insts.length !== 1) continue;
    const t = e.terminator;
    if (!t || t.op !== "br") continue;
    const target = t.targets[0]!;
    if (target === e) continue;
    const ei = target.preds.indexOf(e);
    for (const p of e.preds.slice()) {
      // A second edge P -> T would need its own phi operands; keep E then.
      if (target.preds.includes(p) && hasPhis(target)) continue;
      const pt = p.terminator!;
      if (pt.op === "cbr" && pt.targets.includes(target)) {
        if (hasPhis(target)) continue;
      }
      for (let k = 0; k < pt.targets.length; k++) if (pt.targets[k] === e) pt.targets[k] = target;
      e.preds.splice(e.preds.indexOf(p), 1);
      target.preds.push(p);
      for (const phi of target.insts) {
        if (phi.op !== "phi") break;
        const v = phi.args[ei]!;
        phi.args.push(v);
        v.uses.push(phi);
      }
      if (pt.op === "cbr" && pt.targets[0] === pt.targets[1]) {
        // Both edges now go to T: a plain jump (T has no phis here).
        for (const a of pt.args) {
          const i = a.uses.indexOf(pt);
          if (i >= 0) a.uses.splice(i, 1);
        }
        pt.args = [];
        pt.op = "br";
        pt.targets = [target];
        target.preds.splice(target.preds.lastIndexOf(p), 1);
      }
      changed = true;
    }
    if (e.preds.length === 0) {
      removePred(target, e);
      removeInst(t);
      fn.blocks.splice(fn.blocks.indexOf(e), 1);
    }
  }
  return changed;
}

function hasPhis(b: Block): boolean {
  return b.insts.length > 0 && b.insts[0]!.op === "phi";
}

// Instructions cheap and safe enough to execute on both paths.
const MAX_SPECULATED = 2;
function speculatable(inst: Inst): boolean {
  if (!isPure(inst) || inst.op === "load" || inst.op === "phi") return false;
  switch (inst.op) {
    case "udiv":
    case "sdiv":
    case "urem":
    case "srem":
      return false;
  }
  return true;
}

/**
 * if (c) { x = a } else { x = b } with nothing else in the arms: x = select(c, a, b).
 * Arms may compute up to two cheap pure values, which move above the branch.
 */
function convertDiamonds(fn: Func): boolean {
  let changed = false;
  for (const a of fn.blocks.slice()) {
    const t = a.terminator;
    if (!t || t.op !== "cbr") continue;
    const [x, y] = t.targets as [Block, Block];
    let join: Block | undefined;
    let tArm: Block | undefined;
    let fArm: Block | undefined;
    if (isArm(x, a) && isArm(y, a) && x.succs[0] === y.succs[0]) {
      join = x.succs[0];
      tArm = x;
      fArm = y;
    } else if (isArm(x, a) && x.succs[0] === y) {
      join = y;
      tArm = x;
    } else if (isArm(y, a) && y.succs[0] === x) {
      join = x;
      fArm = y;
    }
    if (join === undefined || join === a) continue;
    const phis = join.insts.filter((i) => i.op === "phi");
    if (phis.length === 0 || phis.length > 2) continue;
    const tEdge = tArm ?? a;
    const fEdge = fArm ?? a;
    const ti = join.preds.indexOf(tEdge);
    const fi = join.preds.indexOf(fEdge);
    if (ti < 0 || fi < 0 || ti === fi) continue;
    // Hoist the arms' computations above the branch.
    for (const arm of [tArm, fArm]) {
      if (!arm) continue;
      for (const inst of arm.insts.slice(0, -1)) {
        arm.insts.splice(arm.insts.indexOf(inst), 1);
        inst.block = a;
        insertBefore(inst, t);
      }
    }
    for (const phi of phis) {
      const tv = phi.args[ti]!;
      const fv = phi.args[fi]!;
      const sel = fn.make("select", phi.ty, [t.args[0]!, t.args[1]!, tv, fv], a);
      sel.cond = t.cond;
      sel.pos = t.pos;
      insertBefore(sel, t);
      phi.args.push(sel);
      sel.uses.push(phi);
    }
    join.preds.push(a);
    // Drop the two old edges (and their phi operands), highest index first.
    for (const idx of [ti, fi].sort((p, q) => q - p)) {
      const pred = join.preds[idx]!;
      removePred(join, pred);
    }
    for (const arm of [tArm, fArm]) {
      if (!arm) continue;
      arm.insts.length = 0;
      arm.preds.length = 0;
      fn.blocks.splice(fn.blocks.indexOf(arm), 1);
    }
    for (const v of t.args) {
      const i = v.uses.indexOf(t);
      if (i >= 0) v.uses.splice(i, 1);
    }
    t.args = [];
    t.op = "br";
    t.targets = [join];
    changed = true;
  }
  return changed;
}

/** A block entered only from `from`, holding at most a few speculatable values and a br. */
function isArm(b: Block, from: Block): boolean {
  if (b.preds.length !== 1 || b.preds[0] !== from) return false;
  const term = b.terminator;
  if (!term || term.op !== "br") return false;
  if (b.insts.length - 1 > MAX_SPECULATED) return false;
  for (let i = 0; i < b.insts.length - 1; i++) if (!speculatable(b.insts[i]!)) return false;
  return true;
}
