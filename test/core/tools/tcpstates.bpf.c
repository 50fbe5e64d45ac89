// tcpstates (counting): TCP state transitions, old state -> new state, counted. The old state
// is the socket's skc_state when tcp_set_state is entered.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct transition {
	__u32 oldstate;
	__u32 newstate;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct transition);
	__type(value, __u64);
} transitions SEC(".maps");

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(tcp_set_state, struct sock *sk, int state)
{
	struct transition key = {};
	__u64 one = 1, *count;

	key.oldstate = BPF_CORE_READ(sk, __sk_common.skc_state);
	key.newstate = state;
	count = bpf_map_lookup_elem(&transitions, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&transitions, &key, &one, BPF_NOEXIST);
	return 0;
}
