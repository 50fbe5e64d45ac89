// 64-bit two's complement values as immutable pairs of unsigned 32-bit halves.
//
// The verifier's scalar bounds (smin/smax/umin/umax, tnum value/mask) are 64-bit quantities that
// are read as signed or unsigned depending on the bound. A value is the same bit pattern either
// way; the functions say which reading they use (ltU vs ltS). No BigInt: the bounds code runs on
// every ALU instruction the verifier walks.

export interface U64 {
  /** high 32 bits, unsigned */
  readonly hi: number;
  /** low 32 bits, unsigned */
  readonly lo: number;
}

const TWO32 = 4294967296;

/** A value from its halves (any int32 or uint32 spelling is normalised). */
export const u64 = (hi: number, lo: number): U64 => ({ hi: hi >>> 0, lo: lo >>> 0 });

export const ZERO = u64(0, 0);
export const ONE = u64(0, 1);
export const U64_MAX = u64(0xffffffff, 0xffffffff);
export const S64_MIN = u64(0x80000000, 0);
export const S64_MAX = u64(0x7fffffff, 0xffffffff);
export const U32_MAX = u64(0, 0xffffffff);
/** S32_MIN sign-extended to 64 bits */
export const S32_MIN = u64(0xffffffff, 0x80000000);
export const S32_MAX = u64(0, 0x7fffffff);

/** An exact integer in [-2^63, 2^64) given as a JS number (safe integers only). */
export function fromNumber(n: number): U64 {
  if (n >= 0) return u64(Math.floor(n / TWO32), n % TWO32);
  const m = -n; // two's complement of the magnitude
  const lo = m % TWO32;
  const hi = Math.floor(m / TWO32);
  return lo === 0 ? u64(-hi, 0) : u64(~hi, -lo);
}

/** A signed 32-bit value sign-extended to 64 bits. */
export const fromS32 = (n: number): U64 => u64((n | 0) < 0 ? 0xffffffff : 0, n);
/** An unsigned 32-bit value zero-extended to 64 bits. */
export const fromU32 = (n: number): U64 => u64(0, n);

export const eq = (a: U64, b: U64): boolean => a.hi === b.hi && a.lo === b.lo;
export const isZero = (a: U64): boolean => a.hi === 0 && a.lo === 0;
export const isNeg = (a: U64): boolean => a.hi >= 0x80000000;

export const ltU = (a: U64, b: U64): boolean => a.hi < b.hi || (a.hi === b.hi && a.lo < b.lo);
export const leU = (a: U64, b: U64): boolean => a.hi < b.hi || (a.hi === b.hi && a.lo <= b.lo);
export const ltS = (a: U64, b: U64): boolean => {
  const ah = a.hi | 0;
  const bh = b.hi | 0;
  return ah < bh || (ah === bh && a.lo < b.lo);
};
export const leS = (a: U64, b: U64): boolean => {
  const ah = a.hi | 0;
  const bh = b.hi | 0;
  return ah < bh || (ah === bh && a.lo <= b.lo);
};
export const gtU = (a: U64, b: U64): boolean => ltU(b, a);
export const geU = (a: U64, b: U64): boolean => leU(b, a);
export const gtS = (a: U64, b: U64): boolean => ltS(b, a);
export const geS = (a: U64, b: U64): boolean => leS(b, a);

export const minU = (a: U64, b: U64): U64 => (ltU(b, a) ? b : a);
export const maxU = (a: U64, b: U64): U64 => (ltU(a, b) ? b : a);
export const minS = (a: U64, b: U64): U64 => (ltS(b, a) ? b : a);
export const maxS = (a: U64, b: U64): U64 => (ltS(a, b) ? b : a);

export function add(a: U64, b: U64): U64 {
  const lo = a.lo + b.lo;
  const carry = lo >= TWO32 ? 1 : 0;
  return u64(a.hi + b.hi + carry, lo);
}

export function sub(a: U64, b: U64): U64 {
  const lo = a.lo - b.lo;
  const borrow = lo < 0 ? 1 : 0;
  return u64(a.hi - b.hi - borrow, lo);
}

export const neg = (a: U64): U64 => sub(ZERO, a);
export const not = (a: U64): U64 => u64(~a.hi, ~a.lo);
export const and = (a: U64, b: U64): U64 => u64(a.hi & b.hi, a.lo & b.lo);
export const or = (a: U64, b: U64): U64 => u64(a.hi | b.hi, a.lo | b.lo);
export const xor = (a: U64, b: U64): U64 => u64(a.hi ^ b.hi, a.lo ^ b.lo);
/** a & ~b */
export const andNot = (a: U64, b: U64): U64 => u64(a.hi & ~b.hi, a.lo & ~b.lo);

/** Logical shift left by 0..63. */
export function shl(a: U64, n: number): U64 {
  if (n === 0) return a;
  if (n >= 32) return u64(a.lo << (n - 32), 0);
  return u64((a.hi << n) | (a.lo >>> (32 - n)), a.lo << n);
}

/** Logical shift right by 0..63. */
export function shr(a: U64, n: number): U64 {
  if (n === 0) return a;
  if (n >= 32) return u64(0, a.hi >>> (n - 32));
  return u64(a.hi >>> n, (a.lo >>> n) | (a.hi << (32 - n)));
}

/** Arithmetic shift right by 0..63. */
export function sar(a: U64, n: number): U64 {
  if (n === 0) return a;
  if (n >= 32) return u64((a.hi | 0) >> 31, (a.hi | 0) >> (n - 32));
  return u64((a.hi | 0) >> n, (a.lo >>> n) | (a.hi << (32 - n)));
}

/** Low 64 bits of the product. */
export function mul(a: U64, b: U64): U64 {
  // 16-bit limbs keep every partial product below 2^53.
  const a0 = a.lo & 0xffff;
  const a1 = a.lo >>> 16;
  const a2 = a.hi & 0xffff;
  const a3 = a.hi >>> 16;
  const b0 = b.lo & 0xffff;
  const b1 = b.lo >>> 16;
  const b2 = b.hi & 0xffff;
  const b3 = b.hi >>> 16;
  let c0 = a0 * b0;
  let c1 = (c0 >>> 16) + a0 * b1 + a1 * b0;
  let c2 = Math.floor(c1 / 65536) + a0 * b2 + a1 * b1 + a2 * b0;
  let c3 = Math.floor(c2 / 65536) + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  c0 &= 0xffff;
  c1 %= 65536;
  c2 %= 65536;
  c3 %= 65536;
  return u64(c3 * 65536 + c2, c1 * 65536 + c0);
}

/** Whether a + b wraps past 2^64 - 1 (unsigned). */
export const addOverflowsU = (a: U64, b: U64): boolean => ltU(add(a, b), a);
/** Whether a - b wraps below 0 (unsigned). */
export const subOverflowsU = (a: U64, b: U64): boolean => ltU(a, b);
/** Whether a + b leaves the signed 64-bit range. */
export function addOverflowsS(a: U64, b: U64): boolean {
  const r = add(a, b);
  return isNeg(a) === isNeg(b) && isNeg(r) !== isNeg(a);
}
/** Whether a - b leaves the signed 64-bit range. */
export function subOverflowsS(a: U64, b: U64): boolean {
  const r = sub(a, b);
  return isNeg(a) !== isNeg(b) && isNeg(r) !== isNeg(a);
}

/** Whether the unsigned product needs more than 64 bits. */
export const mulOverflowsU = (a: U64, b: U64): boolean => mulWide(a, b).overflow;

/** The 128-bit unsigned product, reported as its low 64 bits and whether the top half is non-zero. */
function mulWide(a: U64, b: U64): { low: U64; overflow: boolean } {
  const al = [a.lo & 0xffff, a.lo >>> 16, a.hi & 0xffff, a.hi >>> 16];
  const bl = [b.lo & 0xffff, b.lo >>> 16, b.hi & 0xffff, b.hi >>> 16];
  const r = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    let carry = 0;
    for (let j = 0; j < 4; j++) {
      const t = r[i + j]! + al[i]! * bl[j]! + carry;
      r[i + j] = t % 65536;
      carry = Math.floor(t / 65536);
    }
    r[i + 4] = r[i + 4]! + carry;
  }
  const overflow = r[4] !== 0 || r[5] !== 0 || r[6] !== 0 || r[7] !== 0;
  return { low: u64(r[3]! * 65536 + r[2]!, r[1]! * 65536 + r[0]!), overflow };
}

/** Whether the signed product leaves the signed 64-bit range. */
export function mulOverflowsS(a: U64, b: U64): boolean {
  if (isZero(a) || isZero(b)) return false;
  const negA = isNeg(a);
  const negB = isNeg(b);
  const ma = negA ? neg(a) : a; // |S64_MIN| stays 2^63 as an unsigned value
  const mb = negB ? neg(b) : b;
  const p = mulWide(ma, mb);
  if (p.overflow) return true;
  const resultNeg = negA !== negB;
  // |product| must be <= 2^63 - 1 for a positive result and <= 2^63 for a negative one.
  if (resultNeg) return ltU(S64_MIN, p.low);
  return ltU(S64_MAX, p.low);
}

/** Index (1-based) of the highest set bit, 0 for zero: the kernel's fls64. */
export function fls(a: U64): number {
  if (a.hi !== 0) return 64 - Math.clz32(a.hi);
  if (a.lo !== 0) return 32 - Math.clz32(a.lo);
  return 0;
}

/** Low 32 bits read as signed. */
export const s32 = (a: U64): number => a.lo | 0;

/** The value as a JS number when it is a safe integer (unsigned reading), else undefined. */
export function toSafeU(a: U64): number | undefined {
  return a.hi < 0x200000 ? a.hi * TWO32 + a.lo : undefined;
}

/** The value as a JS number when it is a safe integer (signed reading), else undefined. */
export function toSafeS(a: U64): number | undefined {
  if (!isNeg(a)) return toSafeU(a);
  const m = neg(a);
  const v = toSafeU(m);
  return v === undefined ? undefined : -v;
}

/** Unsigned decimal text. */
export function decU(a: U64): string {
  const small = toSafeU(a);
  if (small !== undefined) return String(small);
  // Split at 10^8: hi * 2^32 + lo = q * 10^8 + r, done in 16-bit steps.
  const limbs = [a.hi >>> 16, a.hi & 0xffff, a.lo >>> 16, a.lo & 0xffff];
  const parts: string[] = [];
  while (limbs.some((l) => l !== 0)) {
    let rem = 0;
    for (let i = 0; i < 4; i++) {
      const cur = rem * 65536 + limbs[i]!;
      limbs[i] = Math.floor(cur / 1e8);
      rem = cur % 1e8;
    }
    parts.unshift(String(rem));
  }
  return parts.map((p, i) => (i === 0 ? p : p.padStart(8, "0"))).join("");
}

/** Signed decimal text. */
export const decS = (a: U64): string => (isNeg(a) ? "-" + decU(neg(a)) : decU(a));

/** The kernel's %#llx: "0x..." lower-case (the kernel's printf writes "0x0" for zero). */
export function hex(a: U64): string {
  if (a.hi === 0) return "0x" + a.lo.toString(16);
  return "0x" + a.hi.toString(16) + a.lo.toString(16).padStart(8, "0");
}
