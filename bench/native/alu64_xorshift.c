/*
 * ../shared/bench/alu64_xorshift.data as C, instruction for instruction (one C statement per
 * BPF instruction; the empty asm keeps the compiler from reordering the loop away), for the
 * JIT's yardstick in bench/jit.ts: what the same loop costs as native code from cc -O2.
 * Prints r0 and the CPU time of the loop.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

int main(void) {
  struct timespec a, b;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
  uint64_t r0 = 0, r1 = 0x9e3779b97f4a7c15ull, r2 = 0, r3, r4, r5;
  do {
    r3 = r1; r3 <<= 13; r1 ^= r3;
    r3 = r1; r3 >>= 7; r1 ^= r3;
    r3 = r1; r3 <<= 17; r1 ^= r3;
    r4 = r0; r0 <<= 5; r4 >>= 59; r0 |= r4; r0 ^= r1;
    r5 = (uint64_t)((int64_t)r1 >> 40); r0 += r5; r0 -= r2;
    r2 += 1;
    __asm__ volatile("" : "+r"(r0), "+r"(r1), "+r"(r2));
  } while (r2 < 1500000);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
  double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  printf("0x%016llx %.6f\n", (unsigned long long)r0, ms);
  return 0;
}
