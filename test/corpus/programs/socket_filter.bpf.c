// A socket filter reading struct __sk_buff fields: keep IPv4 packets, truncate others, and
// count lengths and protocols in maps.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

__u64 total_len, marked;

SEC("socket")
int classify(struct __sk_buff *skb)
{
	__u32 key = skb->protocol == bpf_htons(ETH_P_IP) ? 0 : skb->protocol == bpf_htons(ETH_P_IPV6) ? 1 : skb->protocol == bpf_htons(ETH_P_ARP) ? 2 : 3;
	__u64 *v = bpf_map_lookup_elem(&proto_count, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	total_len += skb->len;
	if (skb->mark)
		marked++;
	return key == 0 ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
