// Lowering calls: BPF helpers, functions of this file (inlined or BPF-to-BPF calls), kfuncs,
// and the compiler builtins BPF programs use (memcpy/memset, byte swaps, atomics, expect...).
//
// A helper is called through a variable of pointer-to-function type initialised with its id,
// the way libbpf's bpf_helper_defs.h and the kernel samples declare them:
//     static long (*bpf_map_lookup_elem)(void *map, const void *key) = (void *) 1;
// The call becomes `call <id>`; arguments go in r1..r5 and the result comes back in r0.
import type * as A from "./ast.js";
import type { FnLowering } from "./lower-func.js";
import type { AtomicOp, Inst } from "./ir.js";
import type { FunctionDecl } from "./sema.js";
import {
  type CType,
  type FunctionType,
  alignOf,
  canonical,
  isComplete,
  longType,
  sizeOf,
} from "./types.js";
import {
  addressOf,
  condBranch,
  convertedType,
  effect,
  infoOf,
  rvalue,
  splitAddress,
  stackObject,
  valueType,
} from "./lower-expr.js";
import { byAddress, convert, intInfo, irTy } from "./lower-types.js";
import { copyMemory, fillMemory } from "./lower-init.js";
import { inlineBody } from "./lower-stmt.js";
import { btfTypeId, enumValue, fieldInfo, typeInfo } from "./lower-core.js";
import {
  ArgType,
  argTypeString,
  baseType,
  helperById,
  helperFuncName,
} from "../runtime/uapi/helpers.js";

/** The most arguments a BPF call can pass (r1..r5). */
export const MAX_BPF_ARGS = 5;

export function lowerCall(fl: FnLowering, e: A.CallExpr): Inst | undefined {
  fl.at(e);
  const callee = stripCallee(e.callee);
  if (callee.kind === "Identifier") {
    const d = infoOf(fl, callee).decl;
    if (d?.kind === "function") {
      if (d.builtin) return lowerBuiltin(fl, e, d.name);
      return callFunction(fl, e, d);
    }
    if (d?.kind === "var") {
      const id = fl.unit.helperId(d);
      if (id !== undefined) return callHelper(fl, e, id, calleeType(fl, e));
    }
  }
  const constant = fl.unit.constant(callee);
  if (constant !== undefined && constant > 0n && constant < 0x10000n)
    return callHelper(fl, e, Number(constant), calleeType(fl, e));
  fl.error(
    e.loc,
    "indirect calls are not supported by the BPF back end: call a helper or a function defined in this file",
  );
  for (const a of e.args) effect(fl, a);
  return undefined;
}

/** `(*f)(...)` and `(f)(...)` call f. */
function stripCallee(e: A.Expr): A.Expr {
  let c = e;
  while (c.kind === "UnaryExpr" && c.op === "*") c = c.operand;
  return c;
}

function calleeType(fl: FnLowering, e: A.CallExpr): FunctionType | undefined {
  const t = canonical(valueType(infoOf(fl, e.callee)));
  const f = t.kind === "pointer" ? canonical(t.pointee) : t;
  return f.kind === "function" ? f : undefined;
}

function returnType(fl: FnLowering, e: A.CallExpr): CType {
  return infoOf(fl, e).type;
}

// ---- helpers ----

// Argument kinds whose register the verifier refuses to see holding a stack pointer.
const NOT_STACK: Record<number, string> = {
  [ArgType.ARG_CONST_MAP_PTR]: "a map",
  [ArgType.ARG_PTR_TO_CTX]: "the program's context",
  [ArgType.ARG_PTR_TO_SPIN_LOCK]: "a bpf_spin_lock in a map value",
  [ArgType.ARG_PTR_TO_SOCK_COMMON]: "a socket",
  [ArgType.ARG_PTR_TO_SOCKET]: "a socket",
  [ArgType.ARG_PTR_TO_BTF_ID]: "a kernel object",
  [ArgType.ARG_PTR_TO_RINGBUF_MEM]: "a ring buffer record from bpf_ringbuf_reserve",
  [ArgType.ARG_PTR_TO_BTF_ID_SOCK_COMMON]: "a socket",
  [ArgType.ARG_PTR_TO_PERCPU_BTF_ID]: "a per-CPU kernel variable",
  [ArgType.ARG_PTR_TO_FUNC]: "a BPF function",
  [ArgType.ARG_PTR_TO_CONST_STR]: "a constant string in read-only global data",
  [ArgType.ARG_PTR_TO_TIMER]: "a bpf_timer in a map value",
  [ArgType.ARG_PTR_TO_KPTR]: "a kptr in a map value",
};

function callHelper(
  fl: FnLowering,
  e: A.CallExpr,
  id: number,
  ft: FunctionType | undefined,
): Inst | undefined {
  const b = fl.b;
  if (e.args.length > MAX_BPF_ARGS) {
    fl.error(
      e.args[MAX_BPF_ARGS]!.loc,
      `too many arguments to helper call: BPF passes at most ${MAX_BPF_ARGS} arguments (r1-r5), have ${e.args.length}`,
    );
    return undefined;
  }
  const proto = helperById(id)?.proto;
  const args: Inst[] = [];
  e.args.forEach((a, i) => {
    const info = infoOf(fl, a);
    if (byAddress(convertedType(info))) {
      fl.error(a.loc, "pass by value not supported: BPF helpers take scalars and pointers");
      args.push(b.const64(0, 0));
      return;
    }
    const v = rvalue(fl, a);
    args.push(v);
    const kind = proto?.args[i];
    if (kind === undefined) return;
    const needs = NOT_STACK[baseType(kind)];
    if (needs === undefined) return;
    const local = stackObject(v);
    if (local !== undefined) {
      fl.error(
        a.loc,
        `passing the address of local variable '${local}' to ${helperFuncName(id)}: argument ${i + 1} must be ${needs} (${argTypeString(kind)}), and the verifier rejects a stack pointer there`,
      );
    }
  });
  const ret = ft ? ft.ret : longType;
  const rc = canonical(ret);
  const call = b.emit("call", rc.kind === "void" ? "void" : "i64", args);
  call.helper = id;
  fl.func.hasCalls = true;
  if (rc.kind === "void") return undefined;
  return convert(b, call, longType, ret);
}

// ---- functions of this file ----

function callFunction(fl: FnLowering, e: A.CallExpr, f: FunctionDecl): Inst | undefined {
  const b = fl.b;
  if (f.definition === undefined) {
    const intrinsic = fl.unit.intrinsicOf(f);
    if (intrinsic !== undefined) return packetLoad(fl, e, intrinsic);
    if (f.section === ".ksyms") return callKfunc(fl, e, f);
    fl.error(
      e.callee.loc,
      `call to undefined function '${f.name}': a BPF program can call helpers, functions defined in the same file, and kfuncs declared __ksym`,
    );
    for (const a of e.args) effect(fl, a);
    return undefined;
  }
  if (fl.unit.shouldInline(f) && !fl.inlineDepth.includes(f) && f !== fl.decl) {
    const args = e.args.map((a) => rvalue(fl, a));
    return inlineBody(fl, f, args, e);
  }
  const sym = fl.unit.requestCall(f, e);
  if (e.args.length > MAX_BPF_ARGS) {
    fl.error(
      e.loc,
      `too many args to '${f.name}': a BPF-to-BPF call passes at most ${MAX_BPF_ARGS} arguments`,
    );
    return undefined;
  }
  const args: Inst[] = [];
  for (const a of e.args) {
    if (byAddress(convertedType(infoOf(fl, a)))) {
      fl.error(
        a.loc,
        `pass by value not supported: '${f.name}' is not inlined, pass a pointer instead`,
      );
      args.push(b.const64(0, 0));
      continue;
    }
    args.push(rvalue(fl, a));
  }
  const ret = returnType(fl, e);
  const ty = irTy(ret);
  const call = b.emit("call", ty, args);
  call.symbol = sym;
  fl.func.hasCalls = true;
  return ty === "void" ? undefined : call;
}

/**
 * The kernel samples' legacy packet loads, declared with LLVM's intrinsic names:
 *     unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
 * become BPF_LD_ABS (constant offset) or BPF_LD_IND (run-time offset) on the skb.
 */
function packetLoad(fl: FnLowering, e: A.CallExpr, width: number): Inst | undefined {
  const b = fl.b;
  if (e.args.length !== 2) {
    fl.error(e.loc, "legacy packet loads take the skb and an offset");
    return undefined;
  }
  const skb = rvalue(fl, e.args[0]!);
  const offInfo = infoOf(fl, e.args[1]!);
  const k = fl.unit.constant(e.args[1]!);
  const inst =
    k !== undefined && k >= 0n && k < 0x80000000n
      ? b.emit("ldabs", "i64", [skb])
      : b.emit("ldabs", "i64", [
          skb,
          convert(b, rvalue(fl, e.args[1]!), convertedType(offInfo), longType),
        ]);
  inst.width = width;
  inst.off = k !== undefined && inst.args.length === 1 ? Number(k) : 0;
  fl.func.hasCalls = true;
  return inst;
}

/** A kernel function declared `extern ... __ksym`: clang's `call -1` with a call relocation. */
function callKfunc(fl: FnLowering, e: A.CallExpr, f: FunctionDecl): Inst | undefined {
  const b = fl.b;
  if (e.args.length > MAX_BPF_ARGS) {
    fl.error(
      e.loc,
      `too many args to '${f.name}': a kfunc call passes at most ${MAX_BPF_ARGS} arguments`,
    );
    return undefined;
  }
  const args = e.args.map((a) => rvalue(fl, a));
  const ret = returnType(fl, e);
  const ty = irTy(ret);
  const call = b.emit("call", ty, args);
  call.symbol = fl.unit.useKfunc(f);
  fl.func.hasCalls = true;
  return ty === "void" ? undefined : call;
}

// ---- builtins ----

function lowerBuiltin(fl: FnLowering, e: A.CallExpr, name: string): Inst | undefined {
  const b = fl.b;
  const args = e.args;
  const info = infoOf(fl, e);
  if (name.startsWith("__sync_") || name.startsWith("__atomic_")) return lowerAtomic(fl, e, name);
  switch (name) {
    case "__builtin_memcpy":
    case "__builtin_memmove":
    case "__builtin_memset": {
      const size = fl.unit.constant(args[2]!);
      const dst = rvalue(fl, args[0]!);
      if (size === undefined || size < 0n || size > 1024n) {
        fl.error(
          e.loc,
          `A call to built-in function '${name.slice("__builtin_".length)}' is not supported.`,
        );
        return dst;
      }
      const n = Number(size);
      const d = splitAddress(dst);
      if (name === "__builtin_memset") {
        const v = rvalue(fl, args[1]!);
        fillMemory(fl, d.base, d.off, v, n, pointeeAlign(fl, args[0]!));
      } else {
        const src = splitAddress(rvalue(fl, args[1]!));
        // clang expands the copy in its back end, after its optimiser kept the literal: the
        // string stays in .rodata.str1.1 even when every byte is stored as an immediate
        const lit = stringArg(args[1]!);
        if (lit !== undefined) fl.unit.keepString(lit);
        const align = Math.min(pointeeAlign(fl, args[0]!), pointeeAlign(fl, args[1]!));
        copyMemory(fl, d.base, d.off, src.base, src.off, n, e, align);
      }
      return dst;
    }
    case "__builtin_bswap16":
    case "__builtin_bswap32":
    case "__builtin_bswap64": {
      const v = rvalue(fl, args[0]!);
      const s = b.emit("bswap", v.ty, [v]);
      s.width = Number(name.slice("__builtin_bswap".length));
      return s;
    }
    case "__builtin_expect":
    case "__builtin_expect_with_probability": {
      for (let i = 1; i < args.length; i++) effect(fl, args[i]!);
      return rvalue(fl, args[0]!);
    }
    case "__builtin_unreachable":
    case "__builtin_trap":
      b.unreachable();
      return undefined;
    case "__builtin_assume":
      return undefined;
    case "__builtin_constant_p":
      return b.const32(info.value !== undefined && info.value !== 0n ? 1 : 0);
    case "__builtin_choose_expr": {
      const c = fl.unit.constant(args[0]!);
      return rvalue(fl, c !== undefined && c !== 0n ? args[1]! : args[2]!);
    }
    case "__builtin_preserve_access_index": {
      if (fl.preserveDepth > 0) {
        fl.error(e.loc, "nested builtin_preserve_access_index() not supported");
        return rvalue(fl, args[0]!);
      }
      fl.preserveDepth++;
      try {
        return rvalue(fl, args[0]!);
      } finally {
        fl.preserveDepth--;
      }
    }
    case "__builtin_object_size": {
      const t = fl.unit.constant(args[1]!) ?? 0n;
      effect(fl, args[0]!);
      return (t & 2n) !== 0n ? b.const64(0, 0) : b.const64(-1, -1);
    }
    case "__builtin_strlen": {
      const s = args[0]!;
      const lit = stringArg(s);
      if (lit !== undefined) {
        const nul = lit.bytes.indexOf(0);
        return b.const64(nul >= 0 ? nul : lit.bytes.length, 0);
      }
      break;
    }
    case "__builtin_preserve_field_info":
      return fieldInfo(fl, e);
    case "__builtin_preserve_type_info":
      return typeInfo(fl, e);
    case "__builtin_preserve_enum_value":
      return enumValue(fl, e);
    case "__builtin_btf_type_id":
      return btfTypeId(fl, e);
  }
  fl.error(
    e.loc,
    `A call to built-in function '${name.replace(/^__builtin_/, "")}' is not supported.`,
  );
  for (const a of args) effect(fl, a);
  return canonical(info.type).kind === "void"
    ? undefined
    : b.constOf(irTy(info.type) === "i64" ? "i64" : "i32", 0);
}

function stringArg(e: A.Expr): A.StringLiteral | undefined {
  let x = e;
  while (x.kind === "CastExpr") x = x.operand;
  return x.kind === "StringLiteral" ? x : undefined;
}

/** The alignment of what a pointer argument points to, from its type before conversion. */
function pointeeAlign(fl: FnLowering, e: A.Expr): number {
  let x = e;
  while (x.kind === "CastExpr") x = x.operand;
  const t = canonical(valueType(infoOf(fl, x)));
  if (t.kind !== "pointer") return 1;
  const p = canonical(t.pointee);
  if (p.kind === "void" || p.kind === "function" || !isComplete(p)) return 1;
  return Math.min(8, alignOf(p));
}

// ---- atomics ----

const fetchOps: Record<string, { op: AtomicOp | "sub" | "nand"; after: boolean }> = {
  __sync_fetch_and_add: { op: "add", after: false },
  __sync_fetch_and_sub: { op: "sub", after: false },
  __sync_fetch_and_or: { op: "or", after: false },
  __sync_fetch_and_and: { op: "and", after: false },
  __sync_fetch_and_xor: { op: "xor", after: false },
  __sync_fetch_and_nand: { op: "nand", after: false },
  __sync_add_and_fetch: { op: "add", after: true },
  __sync_sub_and_fetch: { op: "sub", after: true },
  __sync_or_and_fetch: { op: "or", after: true },
  __sync_and_and_fetch: { op: "and", after: true },
  __sync_xor_and_fetch: { op: "xor", after: true },
  __atomic_fetch_add: { op: "add", after: false },
  __atomic_fetch_sub: { op: "sub", after: false },
  __atomic_fetch_or: { op: "or", after: false },
  __atomic_fetch_and: { op: "and", after: false },
  __atomic_fetch_xor: { op: "xor", after: false },
  __atomic_add_fetch: { op: "add", after: true },
  __atomic_sub_fetch: { op: "sub", after: true },
  __atomic_or_fetch: { op: "or", after: true },
  __atomic_and_fetch: { op: "and", after: true },
  __atomic_xor_fetch: { op: "xor", after: true },
  __sync_lock_test_and_set: { op: "xchg", after: false },
  __atomic_exchange_n: { op: "xchg", after: false },
};

function lowerAtomic(fl: FnLowering, e: A.CallExpr, name: string): Inst | undefined {
  const b = fl.b;
  const args = e.args;
  if (name === "__sync_synchronize") return undefined;
  const p = args[0]!;
  const pt = canonical(convertedType(infoOf(fl, p)));
  const target = pt.kind === "pointer" ? pt.pointee : longType;
  const width = sizeOf(target);
  const ty = irTy(target);
  const addr = splitAddress(rvalue(fl, p));
  switch (name) {
    case "__atomic_load_n":
      effect(fl, args[1]!);
      return b.load(
        ty,
        width,
        intInfo(target)?.signed === true && width < 4,
        addr.base,
        addr.off,
        true,
      );
    case "__atomic_store_n":
    case "__sync_lock_release": {
      const v = name === "__sync_lock_release" ? b.constOf(ty, 0) : rvalue(fl, args[1]!);
      for (let i = 2; i < args.length; i++) effect(fl, args[i]!);
      b.store(width, addr.base, addr.off, v, true);
      return undefined;
    }
  }
  if (width !== 4 && width !== 8) {
    fl.error(e.loc, "Unsupported atomic operations, please use 32/64 bit version");
    return b.constOf(ty === "void" ? "i32" : ty, 0);
  }
  if (name.includes("compare_and_swap") || name === "__atomic_compare_exchange_n") {
    return compareAndSwap(fl, e, name, addr, width, ty, target);
  }
  const f = fetchOps[name];
  if (f === undefined) {
    fl.error(e.loc, `atomic builtin '${name}' is not supported by the BPF back end`);
    return b.constOf(ty, 0);
  }
  if (f.op === "nand") {
    fl.error(e.loc, `atomic builtin '${name}' is not supported by the BPF target (no atomic nand)`);
    return b.constOf(ty, 0);
  }
  let v = rvalue(fl, args[1]!);
  for (let i = 2; i < args.length; i++) effect(fl, args[i]!);
  if (v.ty !== ty) v = convert(b, v, convertedType(infoOf(fl, args[1]!)), target);
  const operand = f.op === "sub" ? b.emit("neg", ty, [v]) : v;
  const aop: AtomicOp = f.op === "sub" ? "add" : f.op;
  // Whether the old value is needed is known once dead code is gone: the fetch flag is
  // dropped then for unused results (codegen.ts), and refused before -mcpu=v3 for used ones.
  if (!fl.unit.atomicFetch && aop !== "add") {
    fl.error(
      e.loc,
      `atomic '${name}' needs -mcpu=v3 or later: before it BPF has only an atomic add without a result`,
    );
    return b.constOf(ty, 0);
  }
  const fetch = true;
  const inst = b.emit("atomic", ty, [addr.base, operand]);
  inst.aop = aop;
  inst.width = width;
  inst.off = addr.off;
  inst.fetch = fetch;
  if (!f.after) return inst;
  const binop = aop === "add" ? "add" : aop === "or" ? "or" : aop === "and" ? "and" : "xor";
  return b.bin(binop, inst, operand);
}

function compareAndSwap(
  fl: FnLowering,
  e: A.CallExpr,
  name: string,
  addr: { base: Inst; off: number },
  width: number,
  ty: "i32" | "i64" | "void",
  target: CType,
): Inst | undefined {
  const b = fl.b;
  const args = e.args;
  if (!fl.unit.atomicFetch) {
    fl.error(e.loc, `atomic compare-and-swap needs -mcpu=v3 or later`);
    return b.constOf(ty === "i64" ? "i64" : "i32", 0);
  }
  const t = ty === "i64" ? "i64" : "i32";
  const conv = (a: A.Expr): Inst => {
    const v = rvalue(fl, a);
    return v.ty === t ? v : convert(b, v, convertedType(infoOf(fl, a)), target);
  };
  if (name === "__atomic_compare_exchange_n") {
    // (p, expected*, desired, weak, success, failure) -> bool; *expected = old on failure.
    const expAddr = splitAddress(rvalue(fl, args[1]!));
    const expected = b.load(t, width, false, expAddr.base, expAddr.off, false);
    const desired = conv(args[2]!);
    for (let i = 3; i < args.length; i++) effect(fl, args[i]!);
    const old = cmpxchg(fl, addr, width, t, expected, desired);
    const ok = b.cmp("eq", old, expected);
    const fail = b.newBlock("cas.fail");
    const done = b.newBlock("cas.done");
    b.cbr("ne", old, expected, fail, done);
    b.seal(fail);
    b.setBlock(fail);
    b.store(width, expAddr.base, expAddr.off, old);
    b.br(done);
    b.seal(done);
    b.setBlock(done);
    return ok;
  }
  const expected = conv(args[1]!);
  const desired = conv(args[2]!);
  const old = cmpxchg(fl, addr, width, t, expected, desired);
  if (name.startsWith("__sync_bool")) return b.cmp("eq", old, expected);
  return old;
}

function cmpxchg(
  fl: FnLowering,
  addr: { base: Inst; off: number },
  width: number,
  ty: "i32" | "i64",
  expected: Inst,
  desired: Inst,
): Inst {
  const inst = fl.b.emit("cmpxchg", ty, [addr.base, expected, desired]);
  inst.width = width;
  inst.off = addr.off;
  return inst;
}

export { condBranch, addressOf };
