// tcplife (lite): each TCP session from its first state change to TCP_CLOSE, with its owner,
// both ends, its lifetime and the bytes it sent and received (tcp_sock counters, read through
// CO-RE from the socket tcp_set_state is given).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TCP_SYN_SENT 2
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7

struct ident {
	__u64 ts;
	__u32 pid;
	char comm[TASK_COMM_LEN];
};

struct event {
	__u64 span_us;
	__u64 rx_b;
	__u64 tx_b;
	__u32 pid;
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct sock *);
	__type(value, struct ident);
} birth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(tcp_set_state, struct sock *sk, int state)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct ident *who, id = {};
	struct event *e;

	if (state < TCP_FIN_WAIT1) {
		if (bpf_map_lookup_elem(&birth, &sk))
			return 0;
		id.ts = bpf_ktime_get_ns();
		id.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(id.comm, sizeof(id.comm));
		bpf_map_update_elem(&birth, &sk, &id, BPF_ANY);
		return 0;
	}
	if (state != TCP_CLOSE)
		return 0;
	who = bpf_map_lookup_elem(&birth, &sk);
	if (!who)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->span_us = (bpf_ktime_get_ns() - who->ts) / 1000;
	e->rx_b = BPF_CORE_READ(tp, bytes_received);
	e->tx_b = BPF_CORE_READ(tp, bytes_sent);
	e->pid = who->pid;
	__builtin_memcpy(e->comm, who->comm, sizeof(e->comm));
	e->saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	e->daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&birth, &sk);
	return 0;
}
