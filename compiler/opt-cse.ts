// Common subexpressions over extended basic blocks (value numbering along single-predecessor
// chains), including redundant loads and loads of a value just stored (store-to-load
// forwarding). Memory is tracked coarsely: any store,
// call or atomic operation forgets every load remembered before it, except that a stack slot
// whose address never escapes is only changed by stores to that slot.
import { type Block, type Func, type Inst, isCommutative, replaceAllUses } from "./ir.js";
import { dominators } from "./isel.js";
import type { CType } from "./types.js";

export function localCse(fn: Func): boolean {
  const escaping = escapingSlots(fn);
  let changed = false;
  // A block with a single predecessor continues its predecessor's table (extended basic
  // blocks): values and loads computed above an if are reused inside its arms.
  const tables = new Map<Block, Table>();
  for (const b of reversePostorder(fn)) {
    const pred = b.preds.length === 1 ? tables.get(b.preds[0]!) : undefined;
    const t: Table = pred
      ? { values: new Map(), parent: pred, epoch: pred.epoch, slotEpoch: new Map(pred.slotEpoch) }
      : { values: new Map(), parent: undefined, epoch: 0, slotEpoch: new Map() };
    changed = numberBlock(b, t, escaping) || changed;
    tables.set(b, t);
  }
  return changed;
}

interface Table {
  values: Map<string, Inst>;
  parent: Table | undefined;
  /** Bumped by anything that may write memory other than private slots. */
  epoch: number;
  slotEpoch: Map<number, number>;
}

function lookup(t: Table, key: string): Inst | undefined {
  for (let cur: Table | undefined = t; cur; cur = cur.parent) {
    const v = cur.values.get(key);
    if (v) return v;
  }
  return undefined;
}

/** What a load or store addresses, as of the memory state it sees. */
function memKey(inst: Inst, t: Table, escaping: Set<number>): string {
  const base = inst.args[0]!;
  if (base.op === "frame" && !escaping.has(base.slot!.id)) {
    const id = base.slot!.id;
    return `s${id}:${t.slotEpoch.get(id) ?? 0}:${base.off + inst.off}`;
  }
  return `m${t.epoch}:${base.id}:${inst.off}`;
}

function numberBlock(b: Block, t: Table, escaping: Set<number>): boolean {
  let changed = false;
  // (replacing uses leaves the block's instruction list as it is)
  const insts = b.insts;
  for (let i = 0; i < insts.length; i++) {
    const inst = insts[i]!;
    switch (inst.op) {
      case "store": {
        const base = inst.args[0]!;
        if (inst.volatile) t.epoch++;
        if (base.op === "frame" && !escaping.has(base.slot!.id)) {
          const id = base.slot!.id;
          t.slotEpoch.set(id, (t.slotEpoch.get(id) ?? 0) + 1);
        } else t.epoch++;
        // The stored value can be read back directly (same width, whole registers only).
        const v = inst.args[1]!;
        if ((inst.width === 8 && v.ty === "i64") || (inst.width === 4 && v.ty === "i32"))
          t.values.set(`load|${v.ty}|${inst.width}|false|${memKey(inst, t, escaping)}`, v);
        continue;
      }
      case "call":
      case "atomic":
      case "cmpxchg":
      case "opaque":
      case "ldabs":
        t.epoch++;
        continue;
      case "load": {
        if (inst.volatile) {
          t.epoch++;
          continue;
        }
        const key = `load|${inst.ty}|${inst.width}|${inst.signed}|${memKey(inst, t, escaping)}`;
        const known = lookup(t, key);
        if (known) {
          replaceAllUses(inst, known);
          changed = true;
        } else t.values.set(key, inst);
        continue;
      }
      case "phi":
      case "param":
        continue;
      case "core":
        continue; // coreCse below
    }
    if (inst.isTerminator || inst.ty === "void") continue;
    const key = valueKey(inst);
    const known = lookup(t, key);
    if (known) {
      replaceAllUses(inst, known);
      changed = true;
    } else t.values.set(key, inst);
  }
  return changed;
}

/** Blocks reachable from the entry, each before its successors except along back edges. */
export function reversePostorder(fn: Func): Block[] {
  const seen = new Set<Block>([fn.entry]);
  const out: Block[] = [];
  // An explicit stack: unrolled loops make CFGs too deep for recursion.
  const stack: { b: Block; next: number }[] = [{ b: fn.entry, next: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const succs = top.b.succs;
    if (top.next < succs.length) {
      const s = succs[top.next++]!;
      if (!seen.has(s)) {
        seen.add(s);
        stack.push({ b: s, next: 0 });
      }
      continue;
    }
    stack.pop();
    out.push(top.b);
  }
  return out.reverse();
}

function argKey(a: Inst): string {
  return a.op === "const" ? `c${a.lo}:${a.hi}` : String(a.id);
}

function valueKey(inst: Inst): string {
  const args = inst.args;
  let ids = "";
  if (isCommutative(inst.op)) {
    // operands in string order, so that a + b and b + a meet
    if (args.length === 2) {
      const x = argKey(args[0]!);
      const y = argKey(args[1]!);
      ids = y < x ? `${y},${x}` : `${x},${y}`;
    } else ids = args.map(argKey).sort().join(",");
  } else {
    for (let i = 0; i < args.length; i++)
      ids += i === 0 ? argKey(args[i]!) : `,${argKey(args[i]!)}`;
  }
  let extra = "";
  switch (inst.op) {
    case "const":
      extra = `${inst.lo}:${inst.hi}`;
      break;
    case "cmp":
    case "select":
      extra = inst.cond;
      break;
    case "sextin":
    case "bswap":
      extra = String(inst.width);
      break;
    case "frame":
      extra = `${inst.slot!.id}:${inst.off}`;
      break;
    case "global":
    case "funcaddr":
      extra = `${inst.symbol}:${inst.off}:${inst.relocKind}`;
      break;
  }
  const flags = (inst.nsw ? "n" : "") + (inst.inbounds ? "i" : "");
  return `${inst.op}|${inst.ty}|${extra}${flags}|${ids}`;
}

/** Slots whose address is used other than as the base of a load or store. */
export function escapingSlots(fn: Func): Set<number> {
  const out = new Set<number>();
  for (const b of fn.blocks) {
    for (const inst of b.insts) {
      if (inst.op !== "frame") continue;
      for (const u of inst.uses) {
        const asBase =
          (u.op === "load" || u.op === "store") && u.args[0] === inst && u.args[1] !== inst;
        if (!asBase) out.add(inst.slot!.id);
      }
    }
  }
  return out;
}

const typeKeys = new WeakMap<object, number>();
let nextTypeKey = 1;

/** One number per declaration (records, enums, typedefs) or per type object otherwise. */
function typeKey(t: CType): number {
  const o: object = "decl" in t ? t.decl : t;
  let k = typeKeys.get(o);
  if (k === undefined) {
    k = nextTypeKey++;
    typeKeys.set(o, k);
  }
  return k;
}

/**
 * CO-RE values merged where clang's code merges them: a relocation is materialised once per
 * basic block (an lddw of its global in the selection DAG; calls and stores do not separate
 * them) and machine CSE reuses one from a dominating immediate predecessor only (a cheap value
 * is rematerialised rather than kept longer); the address base + relocated offset is reused
 * wherever an equal one dominates.
 */
export function coreCse(fn: Func): boolean {
  let any = false;
  for (const b of fn.blocks) for (const i of b.insts) if (i.op === "core") any = true;
  if (!any) return false;
  const idom = dominators(fn);
  const cores = new Map<Block, Map<string, Inst>>();
  const adds = new Map<Block, Map<string, Inst>>();
  let changed = false;
  for (const b of reversePostorder(fn)) {
    const own = new Map<string, Inst>();
    const ownAdds = new Map<string, Inst>();
    cores.set(b, own);
    adds.set(b, ownAdds);
    const up = idom.get(b);
    const fromPred =
      up !== undefined && up !== b && b.preds.includes(up) ? cores.get(up) : undefined;
    for (const inst of b.insts) {
      if (inst.op === "core") {
        const c = inst.core!;
        const key = `${c.kind}|${c.access}|${inst.lo}:${inst.hi}|${typeKey(c.type)}`;
        // (a u32 value reaches its uses through a subregister copy, which machine CSE does
        // not consider worth a longer live range)
        const known = own.get(key) ?? (inst.ty === "i64" ? fromPred?.get(key) : undefined);
        if (known) {
          replaceAllUses(inst, known);
          changed = true;
        } else own.set(key, inst);
        continue;
      }
      if (inst.op !== "add" || inst.ty !== "i64") continue;
      if (inst.args[0]!.op !== "core" && inst.args[1]!.op !== "core") continue;
      const key = inst.args
        .map((a) => a.id)
        .sort((x, y) => x - y)
        .join(",");
      let known = ownAdds.get(key);
      for (let x = up; known === undefined && x !== undefined; x = idom.get(x)) {
        known = adds.get(x)?.get(key);
        if (idom.get(x) === x) break;
      }
      if (known) {
        replaceAllUses(inst, known);
        changed = true;
      } else ownAdds.set(key, inst);
    }
  }
  return changed;
}
