// Log2 histogram of the sizes processes ask read() for.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 32

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} read_sizes SEC(".maps");

/* floor(log2(v)) by halving the search range, as the kernel's ilog2 does */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

SEC("kprobe/ksys_read")
int BPF_KPROBE(read_entry, unsigned int fd, char *buf, __u64 count)
{
	__u32 slot = count ? log2_u64(count) + 1 : 0;
	__u64 *bucket;

	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	bucket = bpf_map_lookup_elem(&read_sizes, &slot);
	if (bucket)
		__sync_fetch_and_add(bucket, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
