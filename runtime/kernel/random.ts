// The simulated kernel's randomness: seeded, deterministic, and split into independent streams
// so that one consumer cannot shift another's numbers. The workload draws from its own stream;
// bpf_get_prandom_u32 draws from per-CPU streams (the kernel's per-CPU rnd_state), so how often
// a program asks for random numbers never changes what the workload does.
//
// Generator: xoshiro128** (32-bit state words, no BigInt), seeded through splitmix32 from the
// kernel seed and a stream name. Distributions use integer arithmetic only, so the same seed
// gives the same numbers on every platform.

/** splitmix32: a well-mixed 32-bit value from a 32-bit state step. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a of a stream name, to derive a stream's seed. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: string) {
    let s = (Math.floor(seed) ^ hashName(stream)) >>> 0;
    const next = (): number => (s = splitmix32((s + 0x6d2b79f5) | 0));
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next unsigned 32-bit value. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** An integer in [0, n) for 0 < n <= 2^32 (multiply-shift; bias below 2^-32 per draw). */
  below(n: number): number {
    return Math.floor((this.u32() * n) / 0x100000000);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability num/den. */
  chance(num: number, den: number): boolean {
    return this.below(den) < num;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** An index chosen with the given integer weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.below(total);
    for (let i = 0; i < weights.length; i++) {
      if (r < weights[i]!) return i;
      r -= weights[i]!;
    }
    return weights.length - 1;
  }

  /**
   * A log-uniform integer in [2^minExp, 2^(maxExp+1)): an exponent picked uniformly, then a
   * uniform value within that power of two. Latencies and sizes look like this.
   */
  logUniform(minExp: number, maxExp: number): number {
    const e = this.range(minExp, maxExp);
    const base = 2 ** e;
    return base + this.below(base);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
