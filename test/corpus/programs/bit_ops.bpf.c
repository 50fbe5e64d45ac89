// Bit manipulation on 8, 16, 32 and 64-bit values: population count, bit reversal, rotations,
// byte swaps, masks, lowest/highest set bit, parity; results accumulated per operation.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

__u64 acc[12];

static __always_inline __u32 popcount64(__u64 v)
{
	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (v * 0x0101010101010101ULL) >> 56;
}

static __always_inline __u32 reverse32(__u32 v)
{
	v = ((v >> 1) & 0x55555555) | ((v & 0x55555555) << 1);
	v = ((v >> 2) & 0x33333333) | ((v & 0x33333333) << 2);
	v = ((v >> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
	v = ((v >> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
	return (v >> 16) | (v << 16);
}

static __always_inline __u64 rotl64(__u64 v, unsigned int n)
{
	n &= 63;
	return n ? (v << n) | (v >> (64 - n)) : v;
}

static __always_inline __u8 rotr8(__u8 v, unsigned int n)
{
	n &= 7;
	return (__u8)((v >> n) | (v << (8 - n)));
}

SEC("kprobe/__kmalloc")
int BPF_KPROBE(bits, __u64 size, unsigned int flags)
{
	__u64 x = size * 0x9e3779b97f4a7c15ULL;
	__u32 lo = (__u32)x, hi = x >> 32;
	__u16 h = (__u16)(x >> 13);
	__u8 b = (__u8)(x >> 5);
	__u32 lowest = 0, highest = 0;

	acc[0] += popcount64(x);
	acc[1] += reverse32(lo);
	acc[2] ^= rotl64(x, flags);
	acc[3] += rotr8(b, hi);
	acc[4] += bpf_htons(h);
	acc[5] += bpf_htonl(lo);
	acc[6] ^= __builtin_bswap64(x);
	if (lo) {
		while (!(lo & (1u << lowest)) && lowest < 31)
			lowest++;
		highest = 31;
		while (!(lo & (1u << highest)) && highest > 0)
			highest--;
	}
	acc[7] += lowest;
	acc[8] += highest;
	acc[9] += popcount64(lo ^ hi) & 1;
	acc[10] |= (__u64)(h & 0xf0f0) << 16 | (b & 0x0f);
	acc[11] += (x & -x) >> 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
