// Relocation values are 64-bit (an enum64 value, a 64-bit lddw immediate) but almost always
// small; they travel as unsigned 32-bit halves so nothing needs BigInt.

export interface CoreValue {
  /** low 32 bits, unsigned */
  readonly lo: number;
  /** high 32 bits, unsigned */
  readonly hi: number;
}

export const ZERO: CoreValue = { lo: 0, hi: 0 };

/** A non-negative integer below 2^53. */
export function fromNumber(n: number): CoreValue {
  return { lo: (n % 0x100000000) >>> 0, hi: Math.floor(n / 0x100000000) >>> 0 };
}

/** A signed 32-bit value widened to 64 bits, as C converts an s32 to u64. */
export function fromInt32(v: number): CoreValue {
  return { lo: v >>> 0, hi: v < 0 ? 0xffffffff : 0 };
}

export const sameValue = (a: CoreValue, b: CoreValue): boolean =>
  a.lo >>> 0 === b.lo >>> 0 && a.hi >>> 0 === b.hi >>> 0;

/** The value as a number (exact below 2^53; above, the nearest double). */
export const toNumber = (v: CoreValue): number => (v.hi >>> 0) * 0x100000000 + (v.lo >>> 0);

/** Decimal text of the unsigned 64-bit value (for messages; exact). */
export function valueText(v: CoreValue): string {
  if (v.hi === 0) return String(v.lo >>> 0);
  // Long division by 10 on 16-bit digits keeps every step exact without BigInt.
  const parts = [v.hi >>> 16, v.hi & 0xffff, v.lo >>> 16, v.lo & 0xffff];
  let out = "";
  while (parts.some((p) => p !== 0)) {
    let rem = 0;
    for (let i = 0; i < parts.length; i++) {
      const cur = rem * 0x10000 + parts[i]!;
      parts[i] = Math.floor(cur / 10);
      rem = cur % 10;
    }
    out = String(rem) + out;
  }
  return out || "0";
}
