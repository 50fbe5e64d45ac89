// Kernel stacks of kfree_skb_reason callers: stack ids from a stack trace map, counted in a
// hash, with the drop reason kept beside the count.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 256);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 64 * sizeof(__u64));
} stacks SEC(".maps");

struct drop_key {
	__s32 stack_id;
	__u32 reason;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct drop_key);
	__type(value, __u64);
} drops SEC(".maps");

__u64 stack_errors;

SEC("kprobe/kfree_skb_reason")
int BPF_KPROBE(drop, void *skb, __u32 reason)
{
	struct drop_key key = {};
	__u64 *count, one = 1;

	key.stack_id = bpf_get_stackid(ctx, &stacks, 0);
	key.reason = reason;
	if (key.stack_id < 0)
		stack_errors++;
	count = bpf_map_lookup_elem(&drops, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&drops, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
