// tcpconnect: every active TCP connection attempt, as bcc's tool traces it: the socket kept at
// tcp_v4_connect's entry, and at its return the addresses and ports the kernel chose, streamed
// as events and counted per destination.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u64 ts;
	__u32 pid;
	__u32 uid;
	__u32 saddr;	/* network byte order */
	__u32 daddr;
	__u16 sport;	/* host byte order */
	__u16 dport;
	__s32 ret;
	char comm[16];
};

struct peer {
	__u32 daddr;
	__u32 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct sock *);
} connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct peer);
	__type(value, __u64);
} per_peer SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(connect_enter, struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&connecting, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(connect_return, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct sock **skp = bpf_map_lookup_elem(&connecting, &tid);
	struct event e = {};
	struct peer peer = {};
	__u64 one = 1, *count;
	struct sock *sk;

	if (!skp)
		return 0;
	sk = *skp;
	bpf_map_delete_elem(&connecting, &tid);
	e.ts = bpf_ktime_get_ns();
	e.pid = id >> 32;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	e.daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	e.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e.dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e.ret = ret;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));

	peer.daddr = e.daddr;
	peer.dport = e.dport;
	count = bpf_map_lookup_elem(&per_peer, &peer);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&per_peer, &peer, &one, BPF_NOEXIST);
	return 0;
}
