// TCP state transitions counted per (old class, new state), the state names classified with a
// switch as tcpstates does.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

enum {
	TCP_ESTABLISHED = 1, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_FIN_WAIT2,
	TCP_TIME_WAIT, TCP_CLOSE, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_LISTEN, TCP_CLOSING,
	TCP_NEW_SYN_RECV,
};

enum class { C_OPENING, C_OPEN, C_CLOSING, C_CLOSED, C_LISTEN, C_BAD, NR_CLASSES };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16 * NR_CLASSES);
	__type(key, __u32);
	__type(value, __u64);
} transitions SEC(".maps");

static __noinline int classify(int state)
{
	switch (state) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
	case TCP_NEW_SYN_RECV:
		return C_OPENING;
	case TCP_ESTABLISHED:
		return C_OPEN;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
	case TCP_TIME_WAIT:
		return C_CLOSING;
	case TCP_CLOSE:
		return C_CLOSED;
	case TCP_LISTEN:
		return C_LISTEN;
	default:
		return C_BAD;
	}
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(set_state, void *sk, int state)
{
	__u32 key = (__u32)(state & 15) * NR_CLASSES + classify(state);
	__u64 *count = bpf_map_lookup_elem(&transitions, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
