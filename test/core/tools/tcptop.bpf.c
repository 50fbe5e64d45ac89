// tcptop: TCP bytes sent per process and destination, counted at tcp_sendmsg's return with
// what it returned.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct ip_key {
	__u32 pid;
	__u32 daddr;
	__u16 dport;
	__u16 lport;
	char comm[TASK_COMM_LEN];
};

struct traffic {
	__u64 sent;
	__u64 calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct sock *);
} sending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct ip_key);
	__type(value, struct traffic);
} ip_map SEC(".maps");

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(tcp_sendmsg_entry, struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sending, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_sendmsg")
int BPF_KRETPROBE(tcp_sendmsg_exit, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct traffic zero = {}, *t;
	struct ip_key key = {};
	struct sock **skp, *sk;

	skp = bpf_map_lookup_elem(&sending, &tid);
	if (!skp)
		return 0;
	if (ret <= 0)
		goto cleanup;
	sk = *skp;
	key.pid = id >> 32;
	key.daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	key.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	key.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	t = bpf_map_lookup_elem(&ip_map, &key);
	if (!t) {
		bpf_map_update_elem(&ip_map, &key, &zero, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&ip_map, &key);
		if (!t)
			goto cleanup;
	}
	__sync_fetch_and_add(&t->sent, ret);
	__sync_fetch_and_add(&t->calls, 1);
cleanup:
	bpf_map_delete_elem(&sending, &tid);
	return 0;
}
