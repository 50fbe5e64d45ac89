// __int128 values. A BPF register holds 64 bits, so a 16-byte integer lives in memory and is
// handled by its address, as records are (see lower-expr.ts): the value of an expression of
// such a type is the address of 16 bytes holding it, low half first. Operators work on the two
// 64-bit halves, as clang's BPF back end splits them. What clang would call a compiler-rt routine
// for (division, remainder, a shift by a count that is not a constant, the high half of a
// product) gets clang's error, since a BPF program cannot call one.
import type * as A from "./ast.js";
import type { Cond, Inst } from "./ir.js";
import type { FnLowering } from "./lower-func.js";
import { convert, intInfo, isWideInt } from "./lower-types.js";
import { longlongType, ulonglongType, type CType } from "./types.js";

/** A 128-bit value as its two 64-bit halves. */
export interface Halves {
  readonly lo: Inst;
  readonly hi: Inst;
}

/** The halves of the value at `addr`. */
export function loadHalves(fl: FnLowering, addr: Inst): Halves {
  return {
    lo: fl.b.load("i64", 8, false, addr, 0, false),
    hi: fl.b.load("i64", 8, false, addr, 8, false),
  };
}

/** A 128-bit value made from its halves: the address of a stack temporary holding them. */
export function wideValue(fl: FnLowering, t: CType, h: Halves): Inst {
  const slot = fl.newSlot(t, "int128");
  const addr = fl.frameAddr(slot);
  fl.b.store(8, addr, 0, h.lo);
  fl.b.store(8, addr, 8, h.hi);
  return addr;
}

/** The halves of the constant `v` (any integer, taken modulo 2^128). */
export function constantHalves(fl: FnLowering, v: bigint): Halves {
  const u = BigInt.asUintN(128, v);
  return {
    lo: fl.b.constBig("i64", BigInt.asUintN(64, u)),
    hi: fl.b.constBig("i64", u >> 64n),
  };
}

/** The halves of a narrower integer (or pointer) value `v` of type `from`, extended. */
export function extendedHalves(fl: FnLowering, v: Inst, from: CType): Halves {
  const b = fl.b;
  const signed = intInfo(from)?.signed ?? false;
  const lo = v.ty === "i64" ? v : convert(b, v, from, signed ? longlongType : ulonglongType);
  const hi = signed ? b.bin("ashr", lo, b.const64(63, 0)) : b.const64(0, 0);
  return { lo, hi };
}

/**
 * Converts between a 128-bit type and another scalar type (either side may be the wide one);
 * undefined when neither is.
 */
export function convertWide(fl: FnLowering, v: Inst, from: CType, to: CType): Inst | undefined {
  const wideFrom = isWideInt(from);
  const wideTo = isWideInt(to);
  if (!wideFrom && !wideTo) return undefined;
  if (wideFrom && wideTo) return v; // the same bits, read with another signedness
  if (wideTo) return wideValue(fl, to, extendedHalves(fl, v, from));
  return narrowed(fl, loadHalves(fl, v), to);
}

/** A 128-bit value converted to a narrower scalar type: its low bits, or for _Bool its truth. */
export function narrowed(fl: FnLowering, h: Halves, to: CType): Inst {
  const ti = intInfo(to);
  if (ti?.isBool) return fl.b.cmp("ne", fl.b.bin("or", h.lo, h.hi), fl.b.const64(0, 0));
  return convert(fl.b, h.lo, ulonglongType, to);
}

/** Whether a 128-bit value is non-zero, as a value to compare with 0 (`ne`: true). */
export function truthOperand(fl: FnLowering, h: Halves): Inst {
  return fl.b.bin("or", h.lo, h.hi);
}

/**
 * `l cond r` for 128-bit operands, as 0 or 1: equality compares both halves; an order compares
 * the high halves (signed or not as the type is) and, when they are equal, the low halves
 * unsigned.
 */
export function compareHalves(fl: FnLowering, cond: Cond, l: Halves, r: Halves): Inst {
  const b = fl.b;
  const zero = b.const64(0, 0);
  if (cond === "eq" || cond === "ne") {
    const diff = b.bin("or", b.bin("xor", l.lo, r.lo), b.bin("xor", l.hi, r.hi));
    return b.cmp(cond, diff, zero);
  }
  const unsignedCond = ("u" + cond.slice(1)) as Cond;
  const strict = cond.endsWith("t") ? cond : ((cond.slice(0, 2) + "t") as Cond);
  const highDecides = b.cmp(strict, l.hi, r.hi);
  const highEqual = b.cmp("eq", l.hi, r.hi);
  const lowDecides = b.cmp(unsignedCond, l.lo, r.lo);
  return b.bin("or", highDecides, b.bin("and", highEqual, lowDecides));
}

/** The name of the compiler-rt routine clang would call for `op` on 128-bit operands. */
function runtimeRoutine(op: A.BinaryOp, signed: boolean): string | undefined {
  switch (op) {
    case "*":
      return "__multi3";
    case "/":
      return signed ? "__divti3" : "__udivti3";
    case "%":
      return signed ? "__modti3" : "__umodti3";
    case "<<":
      return "__ashlti3";
    case ">>":
      return signed ? "__ashrti3" : "__lshrti3";
    default:
      return undefined;
  }
}

/**
 * `l op r` in the 128-bit type `t`. `count` is a shift's count when it is a constant (shifts
 * by any other count are refused, as clang refuses them).
 */
export function arithHalves(
  fl: FnLowering,
  op: A.BinaryOp,
  l: Halves,
  r: Halves,
  t: CType,
  count: bigint | undefined,
  at: A.SourceLoc,
): Halves {
  const b = fl.b;
  const signed = intInfo(t)?.signed ?? false;
  switch (op) {
    case "+": {
      const lo = b.bin("add", l.lo, r.lo);
      const carry = b.emit("zext", "i64", [b.cmp("ult", lo, l.lo)]);
      return { lo, hi: b.bin("add", b.bin("add", l.hi, r.hi), carry) };
    }
    case "-":
      return subtract(fl, l, r);
    case "&":
    case "|":
    case "^": {
      const bin = op === "&" ? "and" : op === "|" ? "or" : "xor";
      return { lo: b.bin(bin, l.lo, r.lo), hi: b.bin(bin, l.hi, r.hi) };
    }
    case "*": {
      // The low half is the product of the low halves; the high half would need __multi3,
      // and is refused only if something reads it (as clang narrows `(long)(a * b)`).
      const lo = b.bin("mul", l.lo, r.lo);
      let hi: Inst | undefined;
      return {
        lo,
        get hi(): Inst {
          hi ??= refused(fl, op, signed, at);
          return hi;
        },
      };
    }
    case "<<":
    case ">>":
      if (count !== undefined) return shiftHalves(fl, op, l, count, signed);
  }
  return { lo: refused(fl, op, signed, at), hi: l.hi };
}

/** clang's error for an operator that needs a compiler-rt routine; a placeholder value. */
function refused(fl: FnLowering, op: A.BinaryOp, signed: boolean, at: A.SourceLoc): Inst {
  fl.error(at, `A call to built-in function '${runtimeRoutine(op, signed)}' is not supported.`);
  return fl.b.const64(0, 0);
}

/** `h << n` or `h >> n` by a constant count (a count outside [0, 128) shifts by it mod 128). */
function shiftHalves(
  fl: FnLowering,
  op: "<<" | ">>",
  h: Halves,
  count: bigint,
  signed: boolean,
): Halves {
  const b = fl.b;
  const n = Number(BigInt.asUintN(7, count));
  const c = (k: number): Inst => b.const64(k, 0);
  if (n === 0) return h;
  if (op === "<<") {
    if (n >= 64) return { lo: c(0), hi: n === 64 ? h.lo : b.bin("shl", h.lo, c(n - 64)) };
    const hi = b.bin("or", b.bin("shl", h.hi, c(n)), b.bin("lshr", h.lo, c(64 - n)));
    return { lo: b.bin("shl", h.lo, c(n)), hi };
  }
  const right = signed ? "ashr" : "lshr";
  const fill = signed ? b.bin("ashr", h.hi, c(63)) : c(0);
  if (n >= 64) return { lo: n === 64 ? h.hi : b.bin(right, h.hi, c(n - 64)), hi: fill };
  const lo = b.bin("or", b.bin("lshr", h.lo, c(n)), b.bin("shl", h.hi, c(64 - n)));
  return { lo, hi: b.bin(right, h.hi, c(n)) };
}

/** `-h` and `~h`. */
export function negateHalves(fl: FnLowering, op: "-" | "~", h: Halves): Halves {
  const b = fl.b;
  if (op === "~") {
    const ones = b.const64(-1, -1);
    return { lo: b.bin("xor", h.lo, ones), hi: b.bin("xor", h.hi, ones) };
  }
  return subtract(fl, constantHalves(fl, 0n), h);
}

function subtract(fl: FnLowering, l: Halves, r: Halves): Halves {
  const b = fl.b;
  const borrow = b.emit("zext", "i64", [b.cmp("ult", l.lo, r.lo)]);
  return { lo: b.bin("sub", l.lo, r.lo), hi: b.bin("sub", b.bin("sub", l.hi, r.hi), borrow) };
}
