// Arithmetic at every width, signed and unsigned: wrap-around, unsigned division and modulo,
// sign extension of narrow loads, signed and unsigned comparisons and shifts.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct mixed {
	__s8 s8;
	__u8 u8;
	__s16 s16;
	__u16 u16;
	__s32 s32;
	__u32 u32;
	__s64 s64;
	__u64 u64;
};

struct mixed state = { -5, 250, -300, 65000, -70000, 4000000000u, -5000000000LL, 18000000000000000000ULL };
__s64 results[16];

SEC("kprobe/ksys_write")
int BPF_KPROBE(arith, unsigned int fd, const char *buf, __u64 count)
{
	struct mixed *m = &state;
	__u32 c32 = (__u32)count;

	m->s8 += (__s8)c32;
	m->u8 += (__u8)c32;
	m->s16 -= (__s16)(c32 * 7);
	m->u16 *= 3;
	m->s32 = m->s32 * 5 - (__s32)c32;
	m->u32 = m->u32 / 3 + c32 % 7;
	m->s64 = (m->s64 >> 1) + (__s64)count;
	m->u64 = m->u64 / 10 + count % 1000;

	results[0] += m->s8;
	results[1] += m->u8;
	results[2] += m->s16;
	results[3] += m->u16;
	results[4] += m->s32;
	results[5] += m->u32;
	results[6] += m->s64 >> 3;
	results[7] += (__s64)(m->u64 >> 60);
	results[8] += m->s8 < 0 ? 1 : 0;
	results[9] += (__u8)m->s8 > 200 ? 1 : 0;
	results[10] += m->s32 < -100 ? 1 : 0;
	results[11] += (__u32)m->s32 > 100 ? 1 : 0;
	results[12] += ((__s64)m->s16 * m->s32) >> 4;
	results[13] += (__u16)(m->u16 + m->u8) % 100;
	results[14] += (m->u32 * 2654435761u) >> 16;
	results[15] += -(__s64)(count & 0xff);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
