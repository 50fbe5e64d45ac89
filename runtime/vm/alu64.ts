// 64-bit arithmetic on (lo, hi) pairs of int32, without BigInt.
//
// Each operation updates the register file in place: `regs[d]` is the low word and `regs[d + 1]`
// the high word of the destination, (bLo, bHi) the source operand. The same register file layout
// as the interpreter (runtime/vm/interpreter.ts), so the JIT's slow paths can share these.
//
// Multiplication uses Math.imul for the low words and a double-precision estimate, rounded, for
// the high word of the 32x32 product (the estimate is within 2^12 of the true value, far below
// the 2^31 that rounding tolerates). Division is exact: a dividend below 2^53 divides directly
// in doubles; otherwise 32-bit divisors by long division in two steps of at most 53 bits, and
// 64-bit divisors by a double estimate of the quotient (which is < 2^32), lowered by
// one so it never overshoots, then corrected by at most a few subtractions.

const TWO_32 = 4294967296;

/** High 32 bits (as uint32 in a double) of the unsigned product a * b of two uint32. */
export function mulHighU32(a: number, b: number): number {
  const au = a >>> 0;
  const bu = b >>> 0;
  const low = Math.imul(a, b) >>> 0;
  return Math.round((au * bu - low) / TWO_32);
}

/** regs[d..d+1] *= (bLo, bHi), low 64 bits kept. */
export function mul64(regs: Int32Array, d: number, bLo: number, bHi: number): void {
  const aLo = regs[d]!;
  const aHi = regs[d + 1]!;
  regs[d + 1] = (mulHighU32(aLo, bLo) + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) | 0;
  regs[d] = Math.imul(aLo, bLo);
}

// Results of udivmod64, read right after the call.
let quotientLo = 0;
let quotientHi = 0;
let remainderLo = 0;
let remainderHi = 0;

// Operands of the last division: `x / y` followed by `x % y` (what compilers emit for both) costs
// one division.
let lastALo = 0;
let lastAHi = 0;
let lastBLo = 0;
let lastBHi = 0; // 0 / 0 is never computed, so the initial state matches nothing

/** Unsigned 64-bit division; the divisor must be non-zero. Sets quotient* and remainder*. */
function udivmod64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  if (aLo === lastALo && aHi === lastAHi && bLo === lastBLo && bHi === lastBHi) return;
  lastALo = aLo;
  lastAHi = aHi;
  lastBLo = bLo;
  lastBHi = bHi;
  const au = aHi >>> 0;
  const al = aLo >>> 0;
  const bl = bLo >>> 0;
  if (au < 0x200000) {
    // Dividend below 2^53: exact in a double, and so are floor(a / b) and a - q * b.
    const a = au * TWO_32 + al;
    const b = (bHi >>> 0) * TWO_32 + bl;
    const q = Math.floor(a / b);
    const r = a - q * b;
    quotientLo = q | 0;
    quotientHi = (q / TWO_32) | 0;
    remainderLo = r | 0;
    remainderHi = (r / TWO_32) | 0;
    return;
  }
  if (bHi === 0) {
    // Long division by a 32-bit divisor in two steps that stay below 2^53: the top 53 bits
    // of the dividend, then the remainder (< 2^32) followed by the low 11 bits.
    const top = au * 2097152 + (al >>> 11);
    const q1 = Math.floor(top / bl);
    const low = (top - q1 * bl) * 2048 + (al & 0x7ff);
    const q0 = Math.floor(low / bl);
    const q1Lo = q1 | 0;
    quotientLo = (q1Lo << 11) | q0;
    quotientHi = (((q1 / TWO_32) | 0) << 11) | (q1Lo >>> 21);
    remainderLo = (low - q0 * bl) | 0;
    remainderHi = 0;
    return;
  }
  // Divisor >= 2^32: the quotient fits in 32 bits.
  const bh = bHi >>> 0;
  let q = Math.floor((au * TWO_32 + al) / (bh * TWO_32 + bl));
  if (q > 0) q -= 1; // the estimate may be one too high; never start above the true quotient
  // r = a - q * b, which cannot go negative now.
  const pLo = Math.imul(q, bLo);
  const pHi = (mulHighU32(q, bLo) + Math.imul(q, bHi)) | 0;
  let rLo = (aLo - pLo) | 0;
  let rHi = (aHi - pHi - (aLo >>> 0 < pLo >>> 0 ? 1 : 0)) | 0;
  while (rHi >>> 0 > bh || (rHi >>> 0 === bh && rLo >>> 0 >= bl)) {
    const borrow = rLo >>> 0 < bl ? 1 : 0;
    rLo = (rLo - bLo) | 0;
    rHi = (rHi - bHi - borrow) | 0;
    q++;
  }
  quotientLo = q | 0;
  quotientHi = 0;
  remainderLo = rLo;
  remainderHi = rHi;
}

/** regs[d..d+1] /= (bLo, bHi) unsigned; division by zero gives 0. */
export function div64(regs: Int32Array, d: number, bLo: number, bHi: number): void {
  if ((bLo | bHi) === 0) {
    regs[d] = 0;
    regs[d + 1] = 0;
    return;
  }
  udivmod64(regs[d]!, regs[d + 1]!, bLo, bHi);
  regs[d] = quotientLo;
  regs[d + 1] = quotientHi;
}

/** regs[d..d+1] %= (bLo, bHi) unsigned; modulo by zero leaves the destination unchanged. */
export function mod64(regs: Int32Array, d: number, bLo: number, bHi: number): void {
  if ((bLo | bHi) === 0) return;
  udivmod64(regs[d]!, regs[d + 1]!, bLo, bHi);
  regs[d] = remainderLo;
  regs[d + 1] = remainderHi;
}

/**
 * Signed division, truncating toward zero; by zero gives 0. LLONG_MIN / -1 gives LLONG_MIN
 * (the magnitude 2^63 negates to itself), as RFC 9669 requires.
 */
export function sdiv64(regs: Int32Array, d: number, bLo: number, bHi: number): void {
  if ((bLo | bHi) === 0) {
    regs[d] = 0;
    regs[d + 1] = 0;
    return;
  }
  let aLo = regs[d]!;
  let aHi = regs[d + 1]!;
  const aNegative = aHi < 0;
  const bNegative = bHi < 0;
  if (aNegative) {
    aHi = negHigh(aLo, aHi);
    aLo = -aLo | 0;
  }
  if (bNegative) {
    bHi = negHigh(bLo, bHi);
    bLo = -bLo | 0;
  }
  udivmod64(aLo, aHi, bLo, bHi);
  if (aNegative !== bNegative) {
    regs[d + 1] = negHigh(quotientLo, quotientHi);
    regs[d] = -quotientLo | 0;
  } else {
    regs[d] = quotientLo;
    regs[d + 1] = quotientHi;
  }
}

/**
 * Signed modulo: the result takes the sign of the dividend; by zero leaves the destination
 * unchanged; LLONG_MIN % -1 gives 0.
 */
export function smod64(regs: Int32Array, d: number, bLo: number, bHi: number): void {
  if ((bLo | bHi) === 0) return;
  let aLo = regs[d]!;
  let aHi = regs[d + 1]!;
  const aNegative = aHi < 0;
  if (aNegative) {
    aHi = negHigh(aLo, aHi);
    aLo = -aLo | 0;
  }
  if (bHi < 0) {
    bHi = negHigh(bLo, bHi);
    bLo = -bLo | 0;
  }
  udivmod64(aLo, aHi, bLo, bHi);
  if (aNegative) {
    regs[d + 1] = negHigh(remainderLo, remainderHi);
    regs[d] = -remainderLo | 0;
  } else {
    regs[d] = remainderLo;
    regs[d + 1] = remainderHi;
  }
}

/** High word of the two's complement negation of (lo, hi). */
export function negHigh(lo: number, hi: number): number {
  return (~hi + (lo === 0 ? 1 : 0)) | 0;
}

/** regs[d..d+1] <<= n (n already masked to 0..63). */
export function lsh64(regs: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  const lo = regs[d]!;
  if (n < 32) {
    regs[d + 1] = (regs[d + 1]! << n) | (lo >>> (32 - n));
    regs[d] = lo << n;
  } else {
    regs[d + 1] = lo << (n - 32);
    regs[d] = 0;
  }
}

/** regs[d..d+1] >>= n, logical (n already masked to 0..63). */
export function rsh64(regs: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  const hi = regs[d + 1]!;
  if (n < 32) {
    regs[d] = (regs[d]! >>> n) | (hi << (32 - n));
    regs[d + 1] = hi >>> n;
  } else {
    regs[d] = hi >>> (n - 32);
    regs[d + 1] = 0;
  }
}

/** regs[d..d+1] >>= n, arithmetic (n already masked to 0..63). */
export function arsh64(regs: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  const hi = regs[d + 1]!;
  if (n < 32) {
    regs[d] = (regs[d]! >>> n) | (hi << (32 - n));
    regs[d + 1] = hi >> n;
  } else {
    regs[d] = hi >> (n - 32);
    regs[d + 1] = hi >> 31;
  }
}

export function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/**
 * Byte order conversion of regs[d..d+1]: `swap` reverses the low `width` bits (16, 32 or 64),
 * otherwise they are only truncated; the result is zero-extended to 64 bits either way.
 */
export function endian(regs: Int32Array, d: number, width: number, swap: boolean): void {
  const lo = regs[d]!;
  if (width === 16) {
    regs[d] = swap ? bswap16(lo) : lo & 0xffff;
    regs[d + 1] = 0;
  } else if (width === 32) {
    regs[d] = swap ? bswap32(lo) : lo;
    regs[d + 1] = 0;
  } else if (swap) {
    regs[d] = bswap32(regs[d + 1]!);
    regs[d + 1] = bswap32(lo);
  }
}
