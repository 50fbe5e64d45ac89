// Two questions a network server's operator asks, answered as the kernel's tracex2 sample did:
// where in the kernel are packets being dropped (kfree_skb_reason counted by the caller's
// address), and who writes how much (a log2 histogram of write sizes per process, counted on
// each CPU without locks in a PERCPU_HASH).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);	/* return address inside the caller */
	__type(value, __u64);	/* drops */
} drop_sites SEC(".maps");

/* No padding: the whole key is written, so equal keys are equal bytes. */
struct write_key {
	char comm[16];
	__u32 pid;
	__u32 uid;
	__u32 slot;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct write_key);
	__type(value, __u64);
} write_sizes SEC(".maps");

SEC("kprobe/kfree_skb_reason")
int BPF_KPROBE(count_drop_site, struct sk_buff *skb)
{
	__u64 site = 0, one = 1, *count;

	BPF_KPROBE_READ_RET_IP(site, ctx);
	count = bpf_map_lookup_elem(&drop_sites, &site);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&drop_sites, &site, &one, BPF_NOEXIST);
	return 0;
}

/* floor(log2(v)) + 1 for v > 0, 0 for v == 0: slot n holds [2^(n-1), 2^n - 1] */
static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 slot = 0;

	while (v && slot < 64) {
		v >>= 1;
		slot++;
	}
	return slot;
}

SEC("kprobe/ksys_write")
int BPF_KPROBE(count_write_size, unsigned int fd, const char *buf, size_t count)
{
	struct write_key key = {};
	__u64 one = 1, *n;

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.uid = (__u32)bpf_get_current_uid_gid();
	key.slot = log2_slot(count);
	n = bpf_map_lookup_elem(&write_sizes, &key);
	if (n)
		*n += 1;	/* this CPU's own counter: no atomic needed */
	else
		bpf_map_update_elem(&write_sizes, &key, &one, BPF_NOEXIST);
	return 0;
}
