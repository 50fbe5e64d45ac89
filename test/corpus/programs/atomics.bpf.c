// Atomic operations on map values and globals: fetch-and-add/or/and/xor with and without the
// old value, compare-and-swap to keep a maximum, and __atomic builtins.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct counters {
	__u64 add;
	__u64 or_bits;
	__u64 and_bits;
	__u64 xor_bits;
	__u64 max_seen;
	__u32 add32;
	__u32 old_sum;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} atomics SEC(".maps");

__u64 g_add, g_cas_fail;
__u32 g_flags32 = 0xffffffff;

SEC("kprobe/__kmalloc")
int BPF_KPROBE(atomic_ops, __u64 size, unsigned int gfp)
{
	__u32 zero = 0;
	struct counters *c = bpf_map_lookup_elem(&atomics, &zero);
	__u64 old, cur;

	if (!c)
		return 0;
	__sync_fetch_and_add(&c->add, size);
	__sync_fetch_and_or(&c->or_bits, 1ULL << (size & 63));
	__sync_fetch_and_and(&c->and_bits, ~(1ULL << (size & 31)));
	__sync_fetch_and_xor(&c->xor_bits, size);
	__sync_fetch_and_add(&c->add32, 1);
	old = __sync_fetch_and_add(&g_add, size);
	c->old_sum += (__u32)old;
	cur = c->max_seen;
	if (size > cur) {
		if (__sync_val_compare_and_swap(&c->max_seen, cur, size) != cur)
			__sync_fetch_and_add(&g_cas_fail, 1);
	}
	__atomic_fetch_and(&g_flags32, ~(1u << (gfp & 31)), __ATOMIC_RELAXED);
	__atomic_fetch_add(&g_add, 0, __ATOMIC_SEQ_CST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
