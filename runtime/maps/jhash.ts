// Bob Jenkins' lookup3 hash as the kernel's <linux/jhash.h> uses it: jhash() over bytes and
// jhash2() over 32-bit words. Hash maps pick their bucket with it (a key whose size is a multiple
// of 4 goes through jhash2), and stack trace maps hash the instruction pointers with jhash2, so
// with the same seed (BPF_F_ZERO_SEED gives 0) elements land in the kernel's buckets and
// BPF_MAP_GET_NEXT_KEY walks them in the kernel's order. All arithmetic is on uint32 via `| 0`
// and Math.imul-free shifts; results are returned as unsigned numbers.

/** The kernel's JHASH_INITVAL: an arbitrary starting value. */
export const JHASH_INITVAL = 0xdeadbeef;

const rol32 = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

// The state (a, b, c) lives in module scope so mixing allocates nothing.
let a = 0;
let b = 0;
let c = 0;

/** Mix three 32-bit values reversibly (__jhash_mix). */
function mix(): void {
  a = (a - c) | 0;
  a ^= rol32(c, 4);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol32(a, 6);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol32(b, 8);
  b = (b + a) | 0;
  a = (a - c) | 0;
  a ^= rol32(c, 16);
  c = (c + b) | 0;
  b = (b - a) | 0;
  b ^= rol32(a, 19);
  a = (a + c) | 0;
  c = (c - b) | 0;
  c ^= rol32(b, 4);
  b = (b + a) | 0;
}

/** Final mixing of three 32-bit values into c (__jhash_final). */
function final(): void {
  c ^= b;
  c = (c - rol32(b, 14)) | 0;
  a ^= c;
  a = (a - rol32(c, 11)) | 0;
  b ^= a;
  b = (b - rol32(a, 25)) | 0;
  c ^= b;
  c = (c - rol32(b, 16)) | 0;
  a ^= c;
  a = (a - rol32(c, 4)) | 0;
  b ^= a;
  b = (b - rol32(a, 14)) | 0;
  c ^= b;
  c = (c - rol32(b, 24)) | 0;
}

/** Little-endian 32-bit word at `offset` (unaligned). */
function word(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset]! |
    (bytes[offset + 1]! << 8) |
    (bytes[offset + 2]! << 16) |
    (bytes[offset + 3]! << 24)
  );
}

/** jhash(key, length, initval) over `length` bytes of `bytes` from `offset`. */
export function jhash(bytes: Uint8Array, offset: number, length: number, initval: number): number {
  a = b = c = (JHASH_INITVAL + length + initval) | 0;
  let k = offset;
  let left = length;
  while (left > 12) {
    a = (a + word(bytes, k)) | 0;
    b = (b + word(bytes, k + 4)) | 0;
    c = (c + word(bytes, k + 8)) | 0;
    mix();
    left -= 12;
    k += 12;
  }
  if (left === 0) return c >>> 0;
  // The last 1..12 bytes, each added at its little-endian place in a, b or c.
  let tail = 0;
  for (let i = left - 1; i >= 8; i--) tail = (tail << 8) | bytes[k + i]!;
  c = (c + tail) | 0;
  tail = 0;
  for (let i = Math.min(left, 8) - 1; i >= 4; i--) tail = (tail << 8) | bytes[k + i]!;
  b = (b + tail) | 0;
  tail = 0;
  for (let i = Math.min(left, 4) - 1; i >= 0; i--) tail = (tail << 8) | bytes[k + i]!;
  a = (a + tail) | 0;
  final();
  return c >>> 0;
}

/**
 * jhash2(words, count, initval) over `count` 32-bit little-endian words of `bytes` from
 * `offset` (which need not be aligned).
 */
export function jhash2Bytes(
  bytes: Uint8Array,
  offset: number,
  count: number,
  initval: number,
): number {
  a = b = c = (JHASH_INITVAL + (count << 2) + initval) | 0;
  let k = offset;
  let left = count;
  while (left > 3) {
    a = (a + word(bytes, k)) | 0;
    b = (b + word(bytes, k + 4)) | 0;
    c = (c + word(bytes, k + 8)) | 0;
    mix();
    left -= 3;
    k += 12;
  }
  if (left === 0) return c >>> 0;
  if (left === 3) c = (c + word(bytes, k + 8)) | 0;
  if (left >= 2) b = (b + word(bytes, k + 4)) | 0;
  a = (a + word(bytes, k)) | 0;
  final();
  return c >>> 0;
}

/** jhash2 over `count` words of an Int32Array / Uint32Array from index `start`. */
export function jhash2(
  words: ArrayLike<number>,
  start: number,
  count: number,
  initval: number,
): number {
  a = b = c = (JHASH_INITVAL + (count << 2) + initval) | 0;
  let k = start;
  let left = count;
  while (left > 3) {
    a = (a + words[k]!) | 0;
    b = (b + words[k + 1]!) | 0;
    c = (c + words[k + 2]!) | 0;
    mix();
    left -= 3;
    k += 3;
  }
  if (left === 0) return c >>> 0;
  if (left === 3) c = (c + words[k + 2]!) | 0;
  if (left >= 2) b = (b + words[k + 1]!) | 0;
  a = (a + words[k]!) | 0;
  final();
  return c >>> 0;
}

/** htab_map_hash(): the bucket hash of a hash map key. */
export function htabMapHash(
  bytes: Uint8Array,
  offset: number,
  keySize: number,
  hashrnd: number,
): number {
  return (keySize & 3) === 0
    ? jhash2Bytes(bytes, offset, keySize >>> 2, hashrnd)
    : jhash(bytes, offset, keySize, hashrnd);
}
