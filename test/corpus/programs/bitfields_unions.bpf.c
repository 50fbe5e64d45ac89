// Bit-fields, unions and enums: a packed flags word built from bit-fields, a union viewed as
// bytes and as a u64, and an enum-indexed table, all kept in a global.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

enum size_class { TINY, SMALL, MEDIUM, LARGE, HUGE, NR_CLASSES };

struct flags {
	__u32 readable : 1;
	__u32 small_fd : 1;
	__u32 klass : 3;
	__u32 low_bits : 11;
	__u32 high : 16;
};

union view {
	__u64 word;
	__u8 bytes[8];
	__u16 halves[4];
	struct flags f[2];
};

struct summary {
	union view last;
	__u64 per_class[NR_CLASSES];
	__u64 byte_sum;
	__u32 readable_count;
};

struct summary sum;

static __always_inline enum size_class class_of(__u64 n)
{
	return n < 16 ? TINY : n < 256 ? SMALL : n < 4096 ? MEDIUM : n < 65536 ? LARGE : HUGE;
}

SEC("kprobe/ksys_read")
int BPF_KPROBE(bitfields, unsigned int fd, char *buf, __u64 count)
{
	union view v;
	enum size_class c = class_of(count);

	v.word = 0;
	v.f[0].readable = buf != 0;
	v.f[0].small_fd = fd < 8;
	v.f[0].klass = c;
	v.f[0].low_bits = count;
	v.f[0].high = fd;
	v.halves[2] = (__u16)(count >> 16);
	v.bytes[7] = 0xa5;
	sum.last = v;
	sum.per_class[c]++;
	sum.byte_sum += v.bytes[0] + v.bytes[1] + v.bytes[2] + v.bytes[3];
	if (v.f[0].readable)
		sum.readable_count += v.f[0].klass + 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
