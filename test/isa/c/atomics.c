// Atomic read-modify-write in every form clang emits for the selected -mcpu.
typedef unsigned int u32;
typedef unsigned long long u64;

u32 c32;
u64 c64;
long long s64;

int atomics(u32 v, u64 w, u32 *p32, u64 *p64) {
  __sync_fetch_and_add(&c32, v);
  __sync_fetch_and_add(&c64, w);
  __sync_fetch_and_add(p64 + 3, 7);
  __sync_fetch_and_add(p32 - 2, v);
#ifdef CPU_V3 // set by the test for -mcpu=v3 (clang 14 has no cpu version macro)
  __sync_fetch_and_and(&c32, v);
  __sync_fetch_and_or(&c32, v);
  __sync_fetch_and_xor(&c32, v);
  __sync_fetch_and_and(&c64, w);
  __sync_fetch_and_or(p64, w);
  __sync_fetch_and_xor(p64 + 1, w);
  u32 a = __sync_fetch_and_add(&c32, v);
  u32 b = __sync_fetch_and_and(p32, v);
  u32 c = __sync_fetch_and_or(p32 + 1, a);
  u32 d = __sync_fetch_and_xor(p32 + 2, b);
  u64 e = __sync_fetch_and_add(&c64, w);
  u64 f = __sync_fetch_and_and(p64, e);
  u64 g = __sync_fetch_and_or(p64 + 4, f);
  u64 h = __sync_fetch_and_xor(p64 - 4, g);
  u32 i = __sync_lock_test_and_set(p32, d);
  u64 j = __sync_lock_test_and_set(p64, h);
  u32 k = __sync_val_compare_and_swap(p32, i, c);
  u64 l = __sync_val_compare_and_swap(p64, j, e);
  u64 m = __sync_fetch_and_sub(&c64, l);
  u32 n = __sync_fetch_and_sub(&c32, k);
  return a + b + c + d + e + f + g + h + i + j + k + l + m + n;
#else
  return *p32 + (int)*p64;
#endif
}
