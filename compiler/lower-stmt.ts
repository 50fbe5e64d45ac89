// Lowering statements: blocks, declarations, if/switch/loops, goto and labels, return, asm
// barriers, and whole function bodies (the emitted function or an inlined callee).
//
// Loops are emitted as bounded loops (header, body, step). A `for` loop under
// `#pragma unroll` / `#pragma clang loop unroll(full)` whose trip count is known at compile
// time (constant start, bound and step, an induction variable the body never writes) is
// unrolled completely, as clang does; its induction variable is then a constant in each copy.
import type * as A from "./ast.js";
import { VarKey } from "./lower-builder.js";
import type { FnLowering } from "./lower-func.js";
import type { Block, Inst } from "./ir.js";
import type { FunctionDecl, VarDecl } from "./sema.js";
import { convertValue } from "./consteval.js";
import { constBig } from "./opt-fold.js";
import { type CType, canonical, intType, sizeOf } from "./types.js";
import {
  condBranch,
  effect,
  infoOf,
  rvalue,
  sealAndEnter,
  stackObject,
  convertedType,
} from "./lower-expr.js";
import { copyMemory, initializeLocal } from "./lower-init.js";
import {
  byAddress,
  intInfo,
  irTy,
  isWideInt,
  normalizeNarrow,
  unsupportedScalar,
} from "./lower-types.js";
import { walk } from "./lower.js";

// ---------------------------------------------------------------------------------------------
// Function bodies

/** Lowers the body of the function being emitted, parameters from r1..r5. */
export function lowerFunctionBody(fl: FnLowering): void {
  const decl = fl.decl;
  const def = decl.definition!;
  fl.pushFrame(fl.newFrame(decl, undefined, returnTypeOf(decl)));
  fl.at({ loc: def.declarator.nameLoc ?? def.loc });
  fl.func.entryPos = fl.b.pos;
  decl.params.forEach((p, i) => {
    const s = fl.declareLocal(p);
    const ty = irTy(p.type);
    if (ty === "void") return; // an aggregate parameter was diagnosed by the caller
    const param = fl.b.emit("param", ty, []);
    param.index = i;
    let v: Inst = param;
    const ii = intInfo(p.type);
    if (ii && (ii.size < 4 || ii.isBool)) v = normalizeNarrow(fl.b, v, ii);
    storeVariable(fl, s, p, v);
  });
  lowerCompound(fl, def.body);
  finishBody(fl, def.body);
  fl.popFrame();
  fl.b.finish();
}

export function returnTypeOf(decl: FunctionDecl): CType {
  const c = canonical(decl.type);
  return c.kind === "function" ? c.ret : intType;
}

/** Falling off the end of a function: `return;` (an undefined value for non-void, here 0). */
function finishBody(fl: FnLowering, body: A.CompoundStmt): void {
  if (fl.b.terminated) return;
  fl.b.pos = { file: body.endLoc.file, line: body.endLoc.line, col: body.endLoc.col };
  const frame = fl.frame;
  if (frame.returnTo) {
    fl.b.br(frame.returnTo);
    return;
  }
  const ty = fl.func.retTy;
  fl.b.ret(ty === "void" ? undefined : fl.b.constOf(ty, 0));
}

/** Expands the body of `callee` here with the given argument values; returns its value. */
export function inlineBody(
  fl: FnLowering,
  callee: FunctionDecl,
  args: Inst[],
  at: A.Expr,
): Inst | undefined {
  const def = callee.definition!;
  const retType = returnTypeOf(callee);
  const done = fl.b.newBlock(`${callee.name}.exit`);
  const frame = fl.newFrame(callee, done, retType);
  const savedLoops = fl.loops.splice(0);
  const savedSwitches = fl.switches.splice(0);
  const savedPos = fl.b.pos;
  fl.pushFrame(frame);
  fl.inlineDepth.push(callee);
  callee.params.forEach((p, i) => {
    const s = fl.declareLocal(p);
    const a = args[i];
    if (a === undefined) return;
    if (byAddress(p.type) && s.kind === "slot") {
      copyMemory(fl, fl.frameAddr(s.slot), 0, a, 0, sizeOf(p.type), at);
      return;
    }
    storeVariable(fl, s, p, a);
  });
  lowerCompound(fl, def.body);
  finishBody(fl, def.body);
  fl.inlineDepth.pop();
  fl.popFrame();
  fl.loops.push(...savedLoops);
  fl.switches.push(...savedSwitches);
  sealAndEnter(fl, done);
  fl.b.pos = savedPos;
  if (frame.returnKey) return fl.b.read(frame.returnKey);
  if (frame.returnSlot) return fl.frameAddr(frame.returnSlot);
  return undefined;
}

function storeVariable(
  fl: FnLowering,
  s: ReturnType<FnLowering["declareLocal"]>,
  v: VarDecl,
  value: Inst,
): void {
  switch (s.kind) {
    case "ssa":
      fl.b.write(s.key, value);
      return;
    case "slot": {
      const ii = intInfo(v.type);
      if (ii) fl.b.store(ii.size, fl.frameAddr(s.slot), 0, value);
      return;
    }
    case "global":
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Statements

export function lowerCompound(fl: FnLowering, s: A.CompoundStmt): void {
  for (const item of s.items) lowerBlockItem(fl, item);
}

function lowerBlockItem(fl: FnLowering, item: A.BlockItem): void {
  switch (item.kind) {
    case "Declaration":
      lowerDeclaration(fl, item);
      return;
    case "StaticAssert":
      return;
    default:
      lowerStmt(fl, item);
  }
}

/** A GNU statement expression: its value is that of its last expression statement. */
export function lowerStmtExpr(fl: FnLowering, e: A.StmtExpr): Inst | undefined {
  const items = e.body.items;
  const last = items[items.length - 1];
  const n = last && last.kind === "ExprStmt" && last.expr ? items.length - 1 : items.length;
  for (let i = 0; i < n; i++) lowerBlockItem(fl, items[i]!);
  if (n === items.length) return undefined;
  const expr = (last as A.ExprStmt).expr!;
  reviveIfTerminated(fl);
  const info = infoOf(fl, expr);
  if (canonical(info.type).kind === "void") {
    effect(fl, expr);
    return undefined;
  }
  return rvalue(fl, expr);
}

function reviveIfTerminated(fl: FnLowering): void {
  if (fl.b.terminated) fl.b.startDeadBlock();
}

function lowerDeclaration(fl: FnLowering, d: A.Declaration): void {
  if (d.spec.storage === "typedef") return;
  for (const init of d.declarators) {
    const entity = fl.sema.declarators.get(init.declarator);
    if (entity === undefined || entity.kind !== "var") continue;
    // statics and externs are globals (a block-scope extern's entity may be defined later)
    if (entity.storage === "static" || entity.storage === "extern" || entity.isFileScope) continue;
    reviveIfTerminated(fl);
    fl.at(init);
    const bad = unsupportedScalar(entity.type);
    if (bad !== undefined) {
      fl.error(init.declarator.nameLoc ?? init.loc, bad);
      continue;
    }
    const s = fl.declareLocal(entity);
    if (init.init === null) continue;
    if (s.kind === "slot") {
      initializeLocal(fl, s.slot, entity.type, init.init, init);
    } else if (s.kind === "ssa") {
      const entries = fl.sema.initializers.get(init.init) ?? [];
      const first = entries[0];
      const v = first ? rvalue(fl, first.expr) : fl.b.constOf(s.key.ty, 0);
      fl.b.write(s.key, v);
    }
  }
}

export function lowerStmt(fl: FnLowering, s: A.Stmt): void {
  const b = fl.b;
  if (
    b.terminated &&
    s.kind !== "LabeledStmt" &&
    s.kind !== "CaseStmt" &&
    s.kind !== "DefaultStmt"
  ) {
    if (s.kind === "CompoundStmt" || !isEmpty(s)) b.startDeadBlock();
  }
  if (s.kind !== "CompoundStmt") fl.at(s);
  switch (s.kind) {
    case "CompoundStmt":
      lowerCompound(fl, s);
      return;
    case "ExprStmt":
      if (s.expr) effect(fl, s.expr);
      return;
    case "IfStmt":
      lowerIf(fl, s);
      return;
    case "SwitchStmt":
      lowerSwitch(fl, s);
      return;
    case "CaseStmt":
    case "DefaultStmt": {
      const sw = fl.switches[fl.switches.length - 1];
      const target = sw?.cases.get(s);
      if (target) {
        b.br(target);
        sealAndEnter(fl, target);
      }
      lowerStmt(fl, s.body);
      return;
    }
    case "WhileStmt":
      lowerWhile(fl, s);
      return;
    case "DoStmt":
      lowerDo(fl, s);
      return;
    case "ForStmt":
      lowerFor(fl, s);
      return;
    case "GotoStmt": {
      const label = fl.sema.labels.get(s);
      if (label) b.br(fl.labelBlock(label));
      return;
    }
    case "LabeledStmt": {
      const target = fl.labelBlock(s);
      b.br(target);
      b.setBlock(target);
      lowerStmt(fl, s.body);
      return;
    }
    case "BreakStmt": {
      const l = fl.loops[fl.loops.length - 1];
      if (l) b.br(l.breakTo);
      return;
    }
    case "ContinueStmt": {
      for (let i = fl.loops.length - 1; i >= 0; i--) {
        const t = fl.loops[i]!.continueTo;
        if (t) {
          b.br(t);
          break;
        }
      }
      return;
    }
    case "ReturnStmt":
      lowerReturn(fl, s);
      return;
    case "AsmStmt":
      lowerAsm(fl, s);
      return;
  }
}

function isEmpty(s: A.Stmt): boolean {
  return s.kind === "ExprStmt" && s.expr === null;
}

function lowerIf(fl: FnLowering, s: A.IfStmt): void {
  const b = fl.b;
  const then = b.newBlock("if.then");
  const join = b.newBlock("if.end");
  const otherwise = s.else ? b.newBlock("if.else") : join;
  condBranch(fl, s.cond, then, otherwise);
  sealAndEnter(fl, then);
  lowerStmt(fl, s.then);
  b.br(join);
  if (s.else) {
    sealAndEnter(fl, otherwise);
    lowerStmt(fl, s.else);
    b.br(join);
  }
  sealAndEnter(fl, join);
}

function lowerReturn(fl: FnLowering, s: A.ReturnStmt): void {
  const b = fl.b;
  const frame = fl.frame;
  let value: Inst | undefined;
  if (s.value !== null) {
    const info = infoOf(fl, s.value);
    if (canonical(info.type).kind === "void" || canonical(frame.returnType).kind === "void") {
      effect(fl, s.value);
    } else {
      value = rvalue(fl, s.value);
      const local =
        value.ty === "i64" && !byAddress(frame.returnType) ? stackObject(value) : undefined;
      if (local !== undefined)
        fl.error(
          s.value.loc,
          `address of stack memory associated with local variable '${local}' returned`,
        );
    }
  }
  if (frame.returnTo) {
    if (value !== undefined) {
      if (frame.returnKey) b.write(frame.returnKey, value);
      else if (frame.returnSlot)
        copyMemory(
          fl,
          fl.frameAddr(frame.returnSlot),
          0,
          value,
          0,
          sizeOf(frame.returnType),
          s.value!,
        );
    }
    b.br(frame.returnTo);
    return;
  }
  const ty = fl.func.retTy;
  if (ty === "void") b.ret(undefined);
  else b.ret(value ?? b.constOf(ty, 0));
}

// ---- switch ----

function lowerSwitch(fl: FnLowering, s: A.SwitchStmt): void {
  const b = fl.b;
  if (isWideInt(convertedType(infoOf(fl, s.cond)))) {
    fl.error(
      s.cond.loc,
      "a switch on an __int128 value is not supported by the BPF back end of tsbpf",
    );
    return;
  }
  const v = rvalue(fl, s.cond);
  const signed = intInfo(convertedType(infoOf(fl, s.cond)))?.signed ?? true;
  const labels = fl.sema.switches.get(s) ?? [];
  const exit = b.newBlock("sw.end");
  const cases = new Map<A.CaseStmt | A.DefaultStmt, Block>();
  let defaultBlock: Block = exit;
  const points: { lo: bigint; hi: bigint; target: Block }[] = [];
  for (const c of labels) {
    const block = b.newBlock(c.kind === "DefaultStmt" ? "sw.default" : "sw.case");
    cases.set(c, block);
    if (c.kind === "DefaultStmt") {
      defaultBlock = block;
      continue;
    }
    const lo = fl.sema.caseValues.get(c);
    if (lo === undefined) continue;
    let hi = lo;
    if (c.rangeEnd) {
      const end = fl.unit.constant(c.rangeEnd);
      if (end === undefined) continue;
      hi = convertValue(end, convertedType(infoOf(fl, s.cond)));
      if (hi < lo) continue; // an empty GNU range matches nothing
    }
    points.push({ lo, hi, target: block });
  }
  const ty = v.ty;
  const norm = (x: bigint): bigint =>
    signed ? BigInt.asIntN(ty === "i32" ? 32 : 64, x) : BigInt.asUintN(ty === "i32" ? 32 : 64, x);
  points.sort((x, y) => (norm(x.lo) < norm(y.lo) ? -1 : norm(x.lo) > norm(y.lo) ? 1 : 0));
  switchTree(fl, v, signed, points, defaultBlock);
  fl.switches.push({ cases });
  fl.loops.push({ breakTo: exit, continueTo: undefined });
  b.startDeadBlock();
  lowerStmt(fl, s.body);
  fl.loops.pop();
  fl.switches.pop();
  b.br(exit);
  // Case blocks nobody fell into or jumped to were sealed when reached; seal leftovers.
  for (const blk of cases.values()) b.seal(blk);
  sealAndEnter(fl, exit);
}

/** Compare-and-branch dispatch: linear for few cases, else a binary search over the values. */
function switchTree(
  fl: FnLowering,
  v: Inst,
  signed: boolean,
  points: { lo: bigint; hi: bigint; target: Block }[],
  otherwise: Block,
): void {
  const b = fl.b;
  if (points.length <= 4) {
    for (let i = 0; i < points.length; i++) {
      const p = points[i]!;
      const last = i === points.length - 1;
      const next = last ? otherwise : b.newBlock("sw.next");
      if (p.lo === p.hi) b.cbr("eq", v, b.constBig(v.ty, p.lo), p.target, next);
      else {
        // lo <= v <= hi as one unsigned compare: v - lo <= hi - lo.
        const d = b.bin("sub", v, b.constBig(v.ty, p.lo));
        b.cbr("ule", d, b.constBig(v.ty, p.hi - p.lo), p.target, next);
      }
      if (!last) sealAndEnter(fl, next);
    }
    if (points.length === 0) b.br(otherwise);
    return;
  }
  const mid = points.length >> 1;
  const pivot = points[mid]!.lo;
  const left = b.newBlock("sw.lt");
  const right = b.newBlock("sw.ge");
  b.cbr(signed ? "slt" : "ult", v, b.constBig(v.ty, pivot), left, right);
  sealAndEnter(fl, left);
  switchTree(fl, v, signed, points.slice(0, mid), otherwise);
  sealAndEnter(fl, right);
  switchTree(fl, v, signed, points.slice(mid), otherwise);
}

// ---- loops ----

function lowerWhile(fl: FnLowering, s: A.WhileStmt): void {
  const b = fl.b;
  const header = b.newBlock("while.cond");
  const body = b.newBlock("while.body");
  const exit = b.newBlock("while.end");
  b.br(header);
  b.setBlock(header);
  condBranch(fl, s.cond, body, exit);
  sealAndEnter(fl, body);
  fl.loops.push({ breakTo: exit, continueTo: header });
  lowerStmt(fl, s.body);
  fl.loops.pop();
  b.br(header);
  b.seal(header);
  sealAndEnter(fl, exit);
}

function lowerDo(fl: FnLowering, s: A.DoStmt): void {
  const b = fl.b;
  const body = b.newBlock("do.body");
  const cond = b.newBlock("do.cond");
  const exit = b.newBlock("do.end");
  b.br(body);
  b.setBlock(body);
  fl.loops.push({ breakTo: exit, continueTo: cond });
  lowerStmt(fl, s.body);
  fl.loops.pop();
  b.br(cond);
  sealAndEnter(fl, cond);
  fl.at(s.cond);
  condBranch(fl, s.cond, body, exit);
  b.seal(body);
  sealAndEnter(fl, exit);
}

function lowerFor(fl: FnLowering, s: A.ForStmt): void {
  const b = fl.b;
  if (s.init) {
    if (s.init.kind === "Declaration") lowerDeclaration(fl, s.init);
    else effect(fl, s.init);
  }
  const trips = unrollTrips(fl, s);
  if (trips !== undefined) {
    unrollFor(fl, s, trips);
    return;
  }
  const header = b.newBlock("for.cond");
  const body = b.newBlock("for.body");
  const step = b.newBlock("for.inc");
  const exit = b.newBlock("for.end");
  b.br(header);
  b.setBlock(header);
  if (s.cond) {
    fl.at(s.cond);
    condBranch(fl, s.cond, body, exit);
  } else b.br(body);
  sealAndEnter(fl, body);
  fl.loops.push({ breakTo: exit, continueTo: step });
  lowerStmt(fl, s.body);
  fl.loops.pop();
  b.br(step);
  sealAndEnter(fl, step);
  if (s.step) {
    fl.at(s.step);
    effect(fl, s.step);
  }
  b.br(header);
  b.seal(header);
  sealAndEnter(fl, exit);
}

function unrollFor(fl: FnLowering, s: A.ForStmt, trips: number): void {
  const b = fl.b;
  const exit = b.newBlock("unroll.end");
  for (let i = 0; i < trips; i++) {
    const next = b.newBlock("unroll.inc");
    fl.loops.push({ breakTo: exit, continueTo: next });
    reviveIfTerminated(fl);
    lowerStmt(fl, s.body);
    fl.loops.pop();
    b.br(next);
    sealAndEnter(fl, next);
    if (s.step) effect(fl, s.step);
  }
  b.br(exit);
  sealAndEnter(fl, exit);
}

/**
 * The trip count of a loop to unroll completely, or undefined to keep the loop: loops under an
 * unroll pragma, and, at -O2, small counting loops the way clang's full unroller takes them
 * (unrolled cost up to its threshold), or somewhat larger ones that index memory through a
 * pointer with the counter (a ctx access with a variable offset is refused by the verifier).
 */
function unrollTrips(fl: FnLowering, s: A.ForStmt): number | undefined {
  if (s.pragmas.some((p) => p.words[0] === "nounroll" || p.words.includes("disable")))
    return undefined;
  if (wantsFullUnroll(s)) return tripCount(fl, s);
  if (!fl.unit.optimize) return undefined;
  const trips = tripCount(fl, s);
  if (trips === undefined || trips === 0) return trips;
  const cost = loopBodyCost(fl, s);
  if (trips * cost.insns <= AUTO_UNROLL_COST) return trips;
  if (cost.pointerIndexing && trips <= 64 && trips * cost.insns <= AUTO_UNROLL_POINTER_COST)
    return trips;
  return undefined;
}

// clang's full-unroll threshold (unrolled instructions) and a larger one for pointer indexing.
const AUTO_UNROLL_COST = 150;
const AUTO_UNROLL_POINTER_COST = 400;

/** A rough instruction estimate of one iteration, and whether it indexes through ctx. */
function loopBodyCost(fl: FnLowering, s: A.ForStmt): { insns: number; pointerIndexing: boolean } {
  const r = { insns: 2, pointerIndexing: false }; // the step and the back-edge compare
  addCost(fl, s.body, r, 0);
  return r;
}

function addCost(
  fl: FnLowering,
  root: object,
  r: { insns: number; pointerIndexing: boolean },
  depth: number,
): void {
  walk(root, (n) => {
    switch (n.kind) {
      case "CallExpr": {
        let callee = (n as A.CallExpr).callee;
        while (callee.kind === "UnaryExpr" && callee.op === "*") callee = callee.operand;
        const d = callee.kind === "Identifier" ? fl.sema.exprs.get(callee)?.decl : undefined;
        if (d?.kind === "function" && d.definition && fl.unit.shouldInline(d) && depth < 3)
          addCost(fl, d.definition.body, r, depth + 1);
        else r.insns += d?.kind === "function" && d.builtin ? 1 : 5;
        break;
      }
      case "BinaryExpr":
      case "AssignExpr":
      case "UpdateExpr":
      case "IfStmt":
      case "MemberExpr":
      case "ConditionalExpr":
      case "CaseStmt":
      case "ReturnStmt":
        r.insns += 1;
        break;
      case "IndexExpr":
        r.insns += 2;
        if (throughParameter(fl, (n as A.IndexExpr).array)) r.pointerIndexing = true;
        break;
      case "ForStmt":
      case "WhileStmt":
      case "DoStmt":
        r.insns += 100; // nested loops make unrolling expensive
        break;
    }
  });
}

/**
 * Whether an indexed array lives behind a pointer parameter (the program's ctx): the verifier
 * refuses a ctx access whose offset is not a constant.
 */
function throughParameter(fl: FnLowering, e: A.Expr): boolean {
  let x = e;
  for (let guard = 0; guard < 32; guard++) {
    if (x.kind === "MemberExpr") x = x.object;
    else if (x.kind === "IndexExpr") x = x.array;
    else if (x.kind === "CastExpr") x = x.operand;
    else if (x.kind === "UnaryExpr" && (x.op === "*" || x.op === "&")) x = x.operand;
    else break;
  }
  if (x.kind !== "Identifier") return false;
  const d = fl.sema.exprs.get(x)?.decl;
  return d?.kind === "var" && d.isParam && canonical(d.type).kind === "pointer";
}

/** `#pragma unroll` (no count), `unroll(full)`/`unroll(enable)`, or a count we can satisfy. */
function wantsFullUnroll(s: A.ForStmt): boolean {
  for (const p of s.pragmas) {
    const w = p.words;
    if (w[0] === "unroll" || w[0] === "GCC" || w[0] === "clang") {
      if (w[0] === "unroll" && w.length === 1) return true;
      if (w[0] === "unroll") return true; // unroll N: full when N covers the trip count (checked by the caller)
      if (w[0] === "clang" && w[1] === "loop") {
        const i = w.indexOf("unroll");
        if (i >= 0 && (w[i + 2] === "full" || w[i + 2] === "enable")) return true;
        if (w.includes("unroll_count")) return true;
      }
      if (w[0] === "GCC" && w[1] === "unroll") return true;
    }
  }
  return false;
}

function pragmaCount(s: A.ForStmt): number | undefined {
  for (const p of s.pragmas) {
    const nums = p.words.filter((w) => /^\d+$/.test(w));
    if (
      nums.length &&
      (p.words[0] === "unroll" || p.words.includes("unroll_count") || p.words[0] === "GCC")
    )
      return Number(nums[0]);
  }
  return undefined;
}

const MAX_UNROLL = 1024;

/** The exact trip count of a counting loop, or undefined when it is not one. */
function tripCount(fl: FnLowering, s: A.ForStmt): number | undefined {
  const iv = inductionStart(fl, s.init);
  if (iv === undefined || s.cond === null || s.step === null) return undefined;
  const { v, start } = iv;
  const cond = s.cond;
  if (cond.kind !== "BinaryExpr") return undefined;
  const leftIsVar = isVar(fl, cond.left, v);
  const rightIsVar = isVar(fl, cond.right, v);
  if (leftIsVar === rightIsVar) return undefined;
  const boundExpr = leftIsVar ? cond.right : cond.left;
  const bound = fl.unit.constant(boundExpr) ?? knownValue(fl, boundExpr, s);
  if (bound === undefined) return undefined;
  const opType = infoOf(fl, cond).opType ?? v.type;
  const step = stepOf(fl, s.step, v);
  if (step === undefined) return undefined;
  if (writesVar(fl, s.body, v)) return undefined;
  const cmp = (x: bigint): boolean | undefined => {
    const a = convertValue(x, opType);
    const c = convertValue(bound, opType);
    const [l, r] = leftIsVar ? [a, c] : [c, a];
    switch (cond.op) {
      case "<":
        return l < r;
      case "<=":
        return l <= r;
      case ">":
        return l > r;
      case ">=":
        return l >= r;
      case "!=":
        return l !== r;
      case "==":
        return l === r;
      default:
        return undefined;
    }
  };
  let x = start;
  let n = 0;
  for (;;) {
    const c = cmp(x);
    if (c === undefined) return undefined;
    if (!c) break;
    if (++n > MAX_UNROLL) return undefined;
    x = convertValue(x + step, v.type);
  }
  const count = pragmaCount(s);
  if (count !== undefined && count < n) return undefined;
  return n;
}

function inductionStart(
  fl: FnLowering,
  init: A.ForStmt["init"],
): { v: VarDecl; start: bigint } | undefined {
  if (init === null) return undefined;
  if (init.kind === "Declaration") {
    if (init.declarators.length !== 1) return undefined;
    const d = init.declarators[0]!;
    const v = fl.sema.declarators.get(d.declarator);
    if (v?.kind !== "var" || d.init === null || d.init.kind === "InitList") return undefined;
    const start = fl.unit.constant(d.init);
    return start === undefined || fl.storageOf(v).kind !== "ssa" ? undefined : { v, start };
  }
  if (init.kind === "AssignExpr" && init.op === "=" && init.target.kind === "Identifier") {
    const v = infoOf(fl, init.target).decl;
    if (v?.kind !== "var") return undefined;
    const start = fl.unit.constant(init.value);
    return start === undefined || fl.storageOf(v).kind !== "ssa" ? undefined : { v, start };
  }
  return undefined;
}

function isVar(fl: FnLowering, e: A.Expr, v: VarDecl): boolean {
  let x = e;
  while (x.kind === "CastExpr") x = x.operand;
  return x.kind === "Identifier" && infoOf(fl, x).decl === v;
}

function stepOf(fl: FnLowering, e: A.Expr, v: VarDecl): bigint | undefined {
  if (e.kind === "UpdateExpr" && isVar(fl, e.operand, v)) return e.op === "++" ? 1n : -1n;
  if (e.kind === "AssignExpr" && isVar(fl, e.target, v)) {
    if (e.op === "+=" || e.op === "-=") {
      const c = fl.unit.constant(e.value);
      if (c === undefined) return undefined;
      return e.op === "+=" ? c : -c;
    }
    if (
      e.op === "=" &&
      e.value.kind === "BinaryExpr" &&
      (e.value.op === "+" || e.value.op === "-")
    ) {
      if (!isVar(fl, e.value.left, v)) return undefined;
      const c = fl.unit.constant(e.value.right);
      if (c === undefined) return undefined;
      return e.value.op === "+" ? c : -c;
    }
  }
  return undefined;
}

/** Whether the statement may assign `v` (or take its address). */
/**
 * The value a loop bound that is a plain variable holds on entry, when it is a constant there
 * (an inlined function's parameter given a constant argument) and the loop never writes it:
 * what clang's full unroller sees after inlining and constant propagation.
 */
function knownValue(fl: FnLowering, e: A.Expr, loop: A.ForStmt): bigint | undefined {
  if (e.kind !== "Identifier") return undefined;
  const d = fl.sema.exprs.get(e)?.decl;
  if (d?.kind !== "var" || canonical(d.type).kind !== "int") return undefined;
  const s = fl.frame.vars.get(d);
  if (s?.kind !== "ssa" || writesVar(fl, loop.body, d)) return undefined;
  if (loop.step !== null && writesVar(fl, loop.step, d)) return undefined;
  const v = fl.b.read(s.key);
  return v.isConst() ? convertValue(constBig(v), d.type) : undefined;
}

function writesVar(fl: FnLowering, s: A.Stmt | A.Expr, v: VarDecl): boolean {
  let found = false;
  walk(s, (n) => {
    if (found) return;
    switch (n.kind) {
      case "AssignExpr":
        if (isVar(fl, (n as A.AssignExpr).target, v)) found = true;
        break;
      case "UpdateExpr":
        if (isVar(fl, (n as A.UpdateExpr).operand, v)) found = true;
        break;
      case "UnaryExpr": {
        const u = n as A.UnaryExpr;
        if (u.op === "&" && isVar(fl, u.operand, v)) found = true;
        break;
      }
      case "AsmStmt":
        found = true;
        break;
    }
  });
  return found;
}

// ---- asm ----

/**
 * Only empty templates are accepted: `asm volatile("" ::: "memory")` (a compiler barrier) and
 * libbpf's barrier_var(), `asm volatile("" : "+r"(x))`, which hides x's value from the optimiser.
 */
function lowerAsm(fl: FnLowering, s: A.AsmStmt): void {
  if (s.template.value.trim() !== "") {
    fl.error(s.loc, "inline assembly is not supported by the BPF back end of tsbpf");
    return;
  }
  for (const input of s.inputs) effect(fl, input.expr);
  for (const out of s.outputs) {
    const e = out.expr;
    if (e.kind !== "Identifier") continue;
    const d = infoOf(fl, e).decl;
    if (d?.kind !== "var") continue;
    const st = fl.storageOf(d);
    if (st.kind !== "ssa") continue;
    const cur = fl.b.read(st.key);
    fl.b.write(st.key, fl.b.emit("opaque", cur.ty, [cur]));
  }
}

export { VarKey };
