// Socket buffers: frees by reason (kfree_skb_reason) against normal consumption (consume_skb),
// and transmit counts from dev_queue_xmit; the reason enum clamps into an array.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_REASON 64

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_REASON);
	__type(key, __u32);
	__type(value, __u64);
} drop_reasons SEC(".maps");

__u64 consumed, transmitted, dropped;

SEC("kprobe/kfree_skb_reason")
int BPF_KPROBE(skb_drop, void *skb, __u32 reason)
{
	__u32 r = reason < MAX_REASON ? reason : MAX_REASON - 1;
	__u64 *v = bpf_map_lookup_elem(&drop_reasons, &r);

	if (v)
		(*v)++;
	dropped++;
	return 0;
}

SEC("kprobe/consume_skb")
int BPF_KPROBE(skb_consume, void *skb)
{
	consumed++;
	return 0;
}

SEC("kprobe/dev_queue_xmit")
int BPF_KPROBE(skb_xmit, void *skb)
{
	transmitted++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
