// Integer arithmetic of every width and signedness, constants of every size, memory of every width.
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;

struct mixed {
  u8 a;
  s8 b;
  u16 c;
  s16 d;
  u32 e;
  s32 f;
  u64 g;
  s64 h;
};

u64 arith64(u64 x, u64 y, s64 s, s64 t) {
  u64 r = x + y;
  r ^= x - y * 3;
  r |= x / (y | 1);
  r &= x % (y | 1);
  r += x << (y & 63);
  r -= x >> (y & 63);
  r += (u64)(s >> (t & 63));
  r += (u64)s / 9;
  r += (u64)(s * t);
  r += -x;
  r += x * 0x12345;
  r += x & 0xffff0000ffffULL;
  r += x | 0x8000000000000000ULL;
  r += x ^ 0x7fffffff;
  r += y - 0x80000000LL;
  r += x / 10 + x % 10;
  return r + (s < t) + (x > 0xfffffffffULL) + (s <= -5) + (t >= 100);
}

u32 arith32(u32 x, u32 y, s32 s, s32 t) {
  u32 r = x + y;
  r ^= x - y * 7;
  r |= x / (y | 1);
  r &= x % (y | 1);
  r += x << (y & 31);
  r -= x >> (y & 31);
  r += (u32)(s >> (t & 31));
  r += (u32)s / 11;
  r += (u32)(s * t);
  r += -x;
  r += x * 0xabcd;
  r += x & 0xff00ff;
  r += x | 0x80000000u;
  return r + (s < t) + (x > 77u) + (s <= -5) + (t >= 100) + (x != y) + (x == 9);
}

u64 widths(struct mixed *m, u8 *bytes, u16 *halves, u32 *words, u64 *dwords) {
  int i = m->f;
  u64 sum = m->a + m->b + m->c + m->d + m->e + m->f + m->g + m->h;
  bytes[i] = (u8)sum;
  halves[i + 1] = (u16)(sum >> 8);
  words[i - 1] = (u32)(sum >> 16);
  dwords[2] = sum * 3;
  m->b = -1;
  m->d = 1234;
  m->f = -100000;
  m->h = -5;
  m->g = 0x1122334455667788ULL;
  return sum + bytes[-3] + halves[100] + words[1000] + dwords[-1];
}

s64 branches(s64 a, s64 b, u64 c, u64 d, s32 e) {
  u32 f = (u32)(d >> 7);
  s64 r = 0;
  if (a < b) r += 1;
  if (a > 5) r += 2;
  if (a <= -7) r += 3;
  if (b >= 1000000) r += 4;
  if (c < d) r += 5;
  if (c > 0xffffffffULL) r += 6;
  if (c <= d + 1) r += 7;
  if (d >= 16) r += 8;
  if (e < 3) r += 9;
  if (e > -2) r += 10;
  if (f < 500) r += 11;
  if (f > 0x7fffffffU) r += 12;
  if ((s32)f == e) r += 13;
  if (f != (u32)e) r += 14;
  if (a == b) r += 15;
  if (c != 42) r += 16;
  while (c > 1) {
    c = (c & 1) ? 3 * c + 1 : c / 2;
    r++;
  }
  return r;
}

u64 swaps(u64 x, u32 y, u16 z) {
  return __builtin_bswap64(x) + __builtin_bswap32(y) + __builtin_bswap16(z);
}

u64 constants(u64 x) {
  x += 0x100000000ULL;
  x ^= 0xdeadbeefcafebabeULL;
  x += 0x7fffffffffffffffULL;
  x -= 9007199254740993ULL;
  return x * 0xffffffff00000001ULL;
}
