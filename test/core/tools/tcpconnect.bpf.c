// tcpconnect: active TCP connections (tcp_v4_connect) with their process and both ends, as
// events, and counted per destination. The socket is kept at entry; its addresses are read at
// return, once the kernel has filled them in.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t targ_tgid = 0;
const volatile __u16 targ_dport = 0;

struct ipv4_flow_key {
	__u32 daddr;
	__u16 dport;
	__u16 pad;
};

struct event {
	__u32 saddr;
	__u32 daddr;
	__u32 pid;
	__u32 uid;
	__u16 sport;
	__u16 dport;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct sock *);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ipv4_flow_key);
	__type(value, __u64);
} ipv4_count SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(tcp_v4_connect, struct sock *sk)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;

	if (targ_tgid && targ_tgid != (pid_t)(id >> 32))
		return 0;
	bpf_map_update_elem(&sockets, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(tcp_v4_connect_ret, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct ipv4_flow_key key = {};
	struct event e = {};
	struct sock **skpp, *sk;
	__u64 one = 1, *count;
	__u16 dport;

	skpp = bpf_map_lookup_elem(&sockets, &tid);
	if (!skpp)
		return 0;
	if (ret)
		goto end;
	sk = *skpp;
	dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (targ_dport && bpf_htons(targ_dport) != dport)
		goto end;
	key.daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	key.dport = bpf_ntohs(dport);
	count = bpf_map_lookup_elem(&ipv4_count, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&ipv4_count, &key, &one, BPF_ANY);

	e.saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	e.daddr = key.daddr;
	e.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e.dport = key.dport;
	e.pid = id >> 32;
	e.uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
end:
	bpf_map_delete_elem(&sockets, &tid);
	return 0;
}
