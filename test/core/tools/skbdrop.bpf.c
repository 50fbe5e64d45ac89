// skbdrop: packets the stack dropped (kfree_skb_reason), counted per drop reason and device.
// "Not specified" drops are told apart through bpf_core_enum_value, so the reason's value
// comes from the kernel the program loads into.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct drop_key {
	__u32 reason;
	char dev[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct drop_key);
	__type(value, __u64);
} drops SEC(".maps");

__u64 unspecified = 0;
__u64 have_reasons = 0;

SEC("kprobe/kfree_skb_reason")
int BPF_KPROBE(kfree_skb_reason, struct sk_buff *skb, enum skb_drop_reason reason)
{
	struct drop_key key = {};
	__u64 one = 1, *count;

	have_reasons = bpf_core_type_exists(enum skb_drop_reason);
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED)) {
		__sync_fetch_and_add(&unspecified, 1);
		return 0;
	}
	key.reason = reason;
	BPF_CORE_READ_STR_INTO(&key.dev, skb, dev, name);
	count = bpf_map_lookup_elem(&drops, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&drops, &key, &one, BPF_NOEXIST);
	return 0;
}
