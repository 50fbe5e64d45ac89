// tcpconnlat: TCP connect latency, from tcp_v4_connect to the socket reaching
// TCP_ESTABLISHED (tcp_set_state), as events with the destination; connects slower than
// targ_min_us only.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TCP_ESTABLISHED 1

const volatile __u64 targ_min_us = 0;

struct piddata {
	char comm[TASK_COMM_LEN];
	__u64 ts;
	__u32 tgid;
};

struct event {
	__u64 delta_us;
	__u32 tgid;
	__u32 daddr;
	__u16 dport;
	__u16 lport;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sock *);
	__type(value, struct piddata);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_v4_connect, struct sock *sk)
{
	struct piddata p = {};

	bpf_get_current_comm(p.comm, sizeof(p.comm));
	p.ts = bpf_ktime_get_ns();
	p.tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_map_update_elem(&start, &sk, &p, BPF_ANY);
	return 0;
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(tcp_set_state, struct sock *sk, int state)
{
	struct piddata *p;
	struct event *e;
	__u64 delta_us;

	if (state != TCP_ESTABLISHED)
		return 0;
	p = bpf_map_lookup_elem(&start, &sk);
	if (!p)
		return 0;
	delta_us = (bpf_ktime_get_ns() - p->ts) / 1000;
	if (delta_us < targ_min_us)
		goto cleanup;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->delta_us = delta_us;
	e->tgid = p->tgid;
	__builtin_memcpy(e->comm, p->comm, sizeof(e->comm));
	e->daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&start, &sk);
	return 0;
}
