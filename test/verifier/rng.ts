// A small seeded PRNG for the verifier tests (xorshift128+ on 32-bit halves).
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = seed | 0 || 1;
    this.b = (seed * 0x9e3779b9) | 0 || 2;
    this.c = (seed ^ 0x5bd1e995) | 0 || 3;
    this.d = (seed * 0x85ebca6b + 7) | 0 || 4;
    for (let i = 0; i < 8; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = this.a ^ (this.a << 11);
    this.a = this.b;
    this.b = this.c;
    this.c = this.d;
    this.d = (this.d ^ (this.d >>> 19) ^ (t ^ (t >>> 8))) | 0;
    return this.d >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  /** A 64-bit value as a BigInt, biased towards edges and small numbers. */
  u64(): bigint {
    switch (this.int(6)) {
      case 0:
        return BigInt(this.int(20));
      case 1:
        return BigInt.asUintN(64, -BigInt(this.int(20)));
      case 2:
        return BigInt(this.u32());
      case 3:
        return this.pick([
          0n,
          1n,
          0x7fffffffn,
          0x80000000n,
          0xffffffffn,
          0x100000000n,
          0x7fffffffffffffffn,
          0x8000000000000000n,
          0xffffffffffffffffn,
        ]);
      default:
        return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
    }
  }
}
