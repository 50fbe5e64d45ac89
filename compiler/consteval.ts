// Integer constant expressions (C11 6.6), evaluated exactly as clang's constant evaluator does
// for this target: every value wraps to the width and signedness of its type, oversized shift
// counts are clamped to width-1 and negative ones flip direction (clang's rule), division by
// zero makes the expression non-constant.
//
// Evaluation runs on expressions sema has already typed: the host answers "what is the type
// of this expression" and "what does this identifier name", so the conversions C applies
// (promotions, usual arithmetic conversions, casts) are read off those types. Values are
// bigint here: constant evaluation is a compile-time, per-declaration cost, never a hot path.
import type {
  AlignofExpr,
  BinaryExpr,
  CallExpr,
  Expr,
  Identifier,
  IntegerLiteral,
  MemberExpr,
  OffsetofExpr,
  SizeofExpr,
  SourceLoc,
  TypeName,
} from "./ast.js";
import {
  type CType,
  type MemberPath,
  alignOf,
  canonical,
  isComplete,
  sizeOf,
  typeToString,
  usualArithmeticConversion,
} from "./types.js";

// Why an expression is not an integer constant, for clang's "expression is not an integer
// constant expression" error and its note.
export interface NotConstant {
  readonly notConstant: true;
  readonly loc: SourceLoc;
  // The note clang adds, e.g. "division by zero"; undefined when clang adds none.
  readonly note: string | undefined;
}

export type ConstResult = bigint | NotConstant;

export function isNotConstant(r: ConstResult): r is NotConstant {
  return typeof r !== "bigint";
}

// What consteval needs to know from sema.
export interface ConstEvalHost {
  // The type sema gave the expression (undefined if it failed to type it).
  typeOf(e: Expr): CType | undefined;
  // The value of an enumeration constant, undefined for anything else.
  enumConstant(e: Identifier): bigint | undefined;
  typeNameType(t: TypeName): CType | undefined;
  memberOf(e: MemberExpr): MemberPath | undefined;
  // The expression a _Generic selection or __builtin_choose_expr picked.
  selectedOf(e: Expr): Expr | undefined;
  // clang's evaluation warnings (-Winteger-overflow...).
  warn(loc: SourceLoc, message: string, flag: string): void;
}

// Bits and signedness of the integer representation of a scalar type.
interface IntRep {
  bits: number;
  signed: boolean;
  isBool: boolean;
}

function repOf(t: CType): IntRep | undefined {
  const c = canonical(t);
  if (c.kind === "int") return { bits: c.size * 8, signed: c.signed, isBool: c.name === "_Bool" };
  if (c.kind === "enum") {
    const u = c.decl.underlying;
    return u ? { bits: u.size * 8, signed: u.signed, isBool: false } : undefined;
  }
  if (c.kind === "pointer") return { bits: 64, signed: false, isBool: false };
  return undefined;
}

// The values of small literals (array sizes, bit widths, enumerators...), made once.
const smallValues: bigint[] = [];
for (let i = 0; i < 1024; i++) smallValues.push(BigInt(i));

/** An integer literal's value. */
export function literalValue(e: IntegerLiteral): bigint {
  if (e.hi === 0 && e.lo >= 0 && e.lo < 1024) return smallValues[e.lo]!;
  return e.hi === 0 ? BigInt(e.lo >>> 0) : (BigInt(e.hi >>> 0) << 32n) | BigInt(e.lo >>> 0);
}

/** `n` (0 <= n < 1024) as a bigint, made once. */
export function smallValue(n: number): bigint {
  return smallValues[n]!;
}

// The value `v` converted to type `t` (C11 6.3.1.3, with the usual modular wrap).
export function convertValue(v: bigint, t: CType): bigint {
  const r = repOf(t);
  if (r === undefined) return v;
  return wrap(v, r);
}

function wrap(v: bigint, r: IntRep): bigint {
  if (r.isBool) return v !== 0n ? 1n : 0n;
  return r.signed ? BigInt.asIntN(r.bits, v) : BigInt.asUintN(r.bits, v);
}

function notConstant(loc: SourceLoc, note?: string): NotConstant {
  return { notConstant: true, loc, note };
}

export class ConstEvaluator {
  constructor(private readonly host: ConstEvalHost) {}

  // Evaluates an integer constant expression; the value is already converted to its type.
  evaluate(e: Expr): ConstResult {
    switch (e.kind) {
      case "IntegerLiteral":
        // Sema types a literal so that its value fits: nothing to wrap.
        return this.host.typeOf(e) === undefined ? notConstant(e.loc) : literalValue(e);
      case "CharLiteral":
        return this.toTypeOf(e, BigInt(e.value));
      case "Identifier": {
        const v = this.host.enumConstant(e);
        return v === undefined ? notConstant(e.loc) : v;
      }
      case "UnaryExpr":
        return this.unary(e.op, e.operand, e);
      case "BinaryExpr":
        return this.binary(e);
      case "ConditionalExpr": {
        const cond = this.evaluate(e.cond);
        if (isNotConstant(cond)) return cond;
        const chosen = cond !== 0n ? (e.then ?? e.cond) : e.else;
        const v = this.evaluate(chosen);
        return isNotConstant(v) ? v : this.toTypeOf(e, v);
      }
      case "CastExpr": {
        const v = this.evaluateScalar(e.operand);
        return isNotConstant(v) ? v : this.toTypeOf(e, v);
      }
      case "SizeofExpr":
      case "AlignofExpr":
        return this.sizeOrAlign(e);
      case "OffsetofExpr":
        return this.offsetof(e);
      case "CallExpr":
        return this.builtinCall(e);
      case "GenericSelection": {
        const chosen = this.host.selectedOf(e);
        return chosen ? this.evaluate(chosen) : notConstant(e.loc);
      }
      case "TypesCompatibleExpr":
        return notConstant(e.loc); // sema folds these itself
      default:
        return notConstant(e.loc);
    }
  }

  // Like evaluate, but also accepts address constants that are plain numbers:
  // `(char *)0 + 4`, `&((struct s *)0)->m` (the classic offsetof macro), `(void *)2`.
  evaluateScalar(e: Expr): ConstResult {
    const t = this.host.typeOf(e);
    const c = t && canonical(t);
    if (c && c.kind === "pointer") return this.pointerValue(e);
    if (c && (c.kind === "array" || c.kind === "function")) return notConstant(e.loc);
    return this.evaluate(e);
  }

  private toTypeOf(e: Expr, v: bigint): ConstResult {
    const t = this.host.typeOf(e);
    if (t === undefined) return notConstant(e.loc);
    const r = repOf(t);
    if (r === undefined) return notConstant(e.loc);
    return wrap(v, r);
  }

  private unary(op: string, operand: Expr, e: Expr): ConstResult {
    if (op === "&") return this.address(operand);
    if (op === "*") return notConstant(e.loc);
    const v = op === "!" ? this.evaluateScalar(operand) : this.evaluate(operand);
    if (isNotConstant(v)) return v;
    switch (op) {
      case "+":
        return this.toTypeOf(e, v);
      case "-": {
        const t = this.host.typeOf(e);
        const r = t && repOf(t);
        if (r && r.signed && v === -(1n << BigInt(r.bits - 1))) this.overflow(e.loc, -v, t!);
        return this.toTypeOf(e, -v);
      }
      case "~":
        return this.toTypeOf(e, ~v);
      case "!":
        return v === 0n ? 1n : 0n;
    }
    return notConstant(e.loc);
  }

  private binary(e: BinaryExpr): ConstResult {
    const op = e.op;
    if (op === "&&" || op === "||") {
      const l = this.evaluateScalar(e.left);
      if (isNotConstant(l)) return l;
      if (op === "&&" && l === 0n) return 0n;
      if (op === "||" && l !== 0n) return 1n;
      const r = this.evaluateScalar(e.right);
      if (isNotConstant(r)) return r;
      return r !== 0n ? 1n : 0n;
    }
    const lt = this.host.typeOf(e.left);
    const rt = this.host.typeOf(e.right);
    const resultType = this.host.typeOf(e);
    if (!lt || !rt || !resultType) return notConstant(e.loc);
    const lp = canonical(lt).kind === "pointer" || canonical(lt).kind === "array";
    const rp = canonical(rt).kind === "pointer" || canonical(rt).kind === "array";
    if (lp || rp) return this.pointerBinary(e, lp, rp);
    const l = this.evaluate(e.left);
    if (isNotConstant(l)) return l;
    const r = this.evaluate(e.right);
    if (isNotConstant(r)) return r;
    if (op === "<<" || op === ">>") return this.shift(e, l, r, resultType);
    // Operands meet in their common type; comparisons then yield int.
    const common = usualArithmeticConversion(lt, rt);
    const rep = repOf(common);
    if (rep === undefined) return notConstant(e.loc);
    const a = wrap(l, rep);
    const b = wrap(r, rep);
    switch (op) {
      case "<":
        return a < b ? 1n : 0n;
      case ">":
        return a > b ? 1n : 0n;
      case "<=":
        return a <= b ? 1n : 0n;
      case ">=":
        return a >= b ? 1n : 0n;
      case "==":
        return a === b ? 1n : 0n;
      case "!=":
        return a !== b ? 1n : 0n;
      case "&":
        return wrap(a & b, rep);
      case "|":
        return wrap(a | b, rep);
      case "^":
        return wrap(a ^ b, rep);
      case "+":
        return this.checked(e, a + b, common, rep);
      case "-":
        return this.checked(e, a - b, common, rep);
      case "*":
        return this.checked(e, a * b, common, rep);
      case "/":
      case "%": {
        if (b === 0n) return notConstant(e.opLoc, "division by zero");
        // bigint division truncates toward zero, as C does.
        return this.checked(e, op === "/" ? a / b : a % b, common, rep);
      }
    }
    return notConstant(e.loc);
  }

  // Signed results that do not fit warn as clang does and wrap.
  private checked(e: BinaryExpr, exact: bigint, t: CType, rep: IntRep): bigint {
    const wrapped = wrap(exact, rep);
    if (rep.signed && wrapped !== exact) this.overflow(e.opLoc, wrapped, t);
    return wrapped;
  }

  private overflow(loc: SourceLoc, wrapped: bigint, t: CType): void {
    const r = repOf(t)!;
    this.host.warn(
      loc,
      `overflow in expression; result is ${wrap(wrapped, r)} with type '${typeToString(t)}'`,
      "-Winteger-overflow",
    );
  }

  private shift(e: BinaryExpr, l: bigint, r: bigint, t: CType): ConstResult {
    const rep = repOf(t);
    if (rep === undefined) return notConstant(e.loc);
    let left = e.op === "<<";
    let count = r;
    // clang's evaluator: a negative count shifts the other way, an oversized one is clamped.
    if (count < 0n) {
      count = -count;
      left = !left;
    }
    if (count >= BigInt(rep.bits)) count = BigInt(rep.bits - 1);
    const v = wrap(l, rep);
    return wrap(left ? v << count : v >> count, rep);
  }

  private pointerBinary(e: BinaryExpr, lp: boolean, rp: boolean): ConstResult {
    const l = this.evaluateScalar(e.left);
    if (isNotConstant(l)) return l;
    const r = this.evaluateScalar(e.right);
    if (isNotConstant(r)) return r;
    const op = e.op;
    if (op === "+" || op === "-") {
      if (lp && rp) {
        const size = this.pointeeSize(e.left);
        if (size === undefined || size === 0) return notConstant(e.loc);
        return this.toTypeOf(e, BigInt.asIntN(64, l - r) / BigInt(size));
      }
      const ptr = lp ? e.left : e.right;
      const size = this.pointeeSize(ptr);
      if (size === undefined) return notConstant(e.loc);
      const [p, n] = lp ? [l, r] : [r, l];
      const delta = n * BigInt(size);
      return BigInt.asUintN(64, op === "+" ? p + delta : p - delta);
    }
    const a = BigInt.asUintN(64, l);
    const b = BigInt.asUintN(64, r);
    switch (op) {
      case "==":
        return a === b ? 1n : 0n;
      case "!=":
        return a !== b ? 1n : 0n;
      case "<":
        return a < b ? 1n : 0n;
      case ">":
        return a > b ? 1n : 0n;
      case "<=":
        return a <= b ? 1n : 0n;
      case ">=":
        return a >= b ? 1n : 0n;
    }
    return notConstant(e.loc);
  }

  private pointeeSize(e: Expr): number | undefined {
    const t = this.host.typeOf(e);
    if (!t) return undefined;
    const c = canonical(t);
    const target = c.kind === "pointer" ? c.pointee : c.kind === "array" ? c.element : undefined;
    if (target === undefined) return undefined;
    const k = canonical(target).kind;
    if (k === "void" || k === "function") return 1;
    return isComplete(target) ? sizeOf(target) : undefined;
  }

  // The numeric value of a pointer-typed constant expression.
  private pointerValue(e: Expr): ConstResult {
    switch (e.kind) {
      case "IntegerLiteral":
      case "CharLiteral":
        return this.evaluate(e);
      case "CastExpr": {
        const v = this.evaluateScalar(e.operand);
        return isNotConstant(v) ? v : BigInt.asUintN(64, v);
      }
      case "UnaryExpr":
        return e.op === "&" ? this.address(e.operand) : notConstant(e.loc);
      case "BinaryExpr":
        return this.binary(e);
      case "ConditionalExpr": {
        const cond = this.evaluateScalar(e.cond);
        if (isNotConstant(cond)) return cond;
        return this.evaluateScalar(cond !== 0n ? (e.then ?? e.cond) : e.else);
      }
      default:
        return notConstant(e.loc);
    }
  }

  // The address of an lvalue whose address is a plain number: members and elements reached
  // from a constant pointer, as in `&((struct s *)0)->field`.
  private address(e: Expr): ConstResult {
    switch (e.kind) {
      case "UnaryExpr":
        if (e.op === "*") return this.evaluateScalar(e.operand);
        return notConstant(e.loc);
      case "MemberExpr": {
        const m = this.host.memberOf(e);
        if (m === undefined || m.member.bitWidth !== undefined) return notConstant(e.loc);
        const base = e.arrow ? this.evaluateScalar(e.object) : this.address(e.object);
        if (isNotConstant(base)) return base;
        return BigInt.asUintN(64, base + BigInt(m.offset));
      }
      case "IndexExpr": {
        const at = this.host.typeOf(e.array);
        const isArray = at !== undefined && canonical(at).kind === "array";
        const base = isArray ? this.address(e.array) : this.evaluateScalar(e.array);
        if (isNotConstant(base)) return base;
        const index = this.evaluate(e.index);
        if (isNotConstant(index)) return index;
        const size = this.pointeeSize(e.array);
        if (size === undefined) return notConstant(e.loc);
        return BigInt.asUintN(64, base + index * BigInt(size));
      }
      default:
        return notConstant(e.loc);
    }
  }

  private sizeOrAlign(e: SizeofExpr | AlignofExpr): ConstResult {
    const arg = e.arg;
    const t = arg.kind === "TypeName" ? this.host.typeNameType(arg) : this.host.typeOf(arg);
    // Sema has already rejected incomplete operands with a diagnostic.
    if (t === undefined || (!isComplete(t) && !isSizeOneGnu(t))) return notConstant(e.loc);
    return BigInt(e.kind === "SizeofExpr" ? sizeOf(t) : alignOf(t));
  }

  private offsetof(e: OffsetofExpr): ConstResult {
    let t = this.host.typeNameType(e.type);
    if (t === undefined) return notConstant(e.loc);
    let offset = 0n;
    for (const d of e.path) {
      const c = canonical(t);
      if (d.kind === "FieldDesignator") {
        if (c.kind !== "record") return notConstant(d.loc);
        const m = c.decl.findMember(d.name);
        if (m === undefined || m.member.bitWidth !== undefined) return notConstant(d.loc);
        offset += BigInt(m.offset);
        t = m.member.type;
      } else {
        if (c.kind !== "array") return notConstant(d.loc);
        const index = this.evaluate(d.index);
        if (isNotConstant(index)) return index;
        offset += index * BigInt(sizeOf(c.element));
        t = c.element;
      }
    }
    return this.toTypeOf(e, offset);
  }

  private builtinCall(e: CallExpr): ConstResult {
    if (e.callee.kind !== "Identifier") return notConstant(e.loc);
    const name = e.callee.name;
    const args = e.args;
    switch (name) {
      case "__builtin_constant_p":
        return args.length === 1 && !isNotConstant(this.evaluateScalar(args[0]!)) ? 1n : 0n;
      case "__builtin_expect":
        return args.length === 2 ? this.argToResult(e, args[0]!) : notConstant(e.loc);
      case "__builtin_bswap16":
      case "__builtin_bswap32":
      case "__builtin_bswap64": {
        if (args.length !== 1) return notConstant(e.loc);
        const v = this.evaluate(args[0]!);
        if (isNotConstant(v)) return v;
        const bytes = name === "__builtin_bswap16" ? 2 : name === "__builtin_bswap32" ? 4 : 8;
        let out = 0n;
        let x = BigInt.asUintN(bytes * 8, v);
        for (let i = 0; i < bytes; i++) {
          out = (out << 8n) | (x & 0xffn);
          x >>= 8n;
        }
        return out;
      }
      case "__builtin_choose_expr": {
        if (args.length !== 3) return notConstant(e.loc);
        const cond = this.evaluate(args[0]!);
        if (isNotConstant(cond)) return cond;
        return this.evaluate(cond !== 0n ? args[1]! : args[2]!);
      }
      default:
        return notConstant(e.loc);
    }
  }

  private argToResult(e: CallExpr, arg: Expr): ConstResult {
    const v = this.evaluate(arg);
    return isNotConstant(v) ? v : this.toTypeOf(e, v);
  }
}

// sizeof(void) and sizeof of a function are 1 in GNU C (clang warns, sema does too).
function isSizeOneGnu(t: CType): boolean {
  const k = canonical(t).kind;
  return k === "void" || k === "function";
}
