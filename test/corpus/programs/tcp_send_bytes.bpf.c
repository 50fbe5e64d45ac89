// Bytes sent by TCP per process, in an LRU hash so that old processes fall out.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct send_stats {
	__u64 bytes;
	__u64 calls;
	__u64 largest;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, struct send_stats);
} tcp_send SEC(".maps");

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(tcp_sendmsg_enter, void *sk, void *msg, __u64 size)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct send_stats *s, init = {};

	s = bpf_map_lookup_elem(&tcp_send, &tgid);
	if (!s) {
		init.bytes = size;
		init.calls = 1;
		init.largest = size;
		bpf_map_update_elem(&tcp_send, &tgid, &init, BPF_ANY);
		return 0;
	}
	s->bytes += size;
	s->calls++;
	if (size > s->largest)
		s->largest = size;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
