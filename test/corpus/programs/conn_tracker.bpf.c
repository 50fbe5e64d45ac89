// Connection attempts keyed by a struct (socket pointer and caller), start at tcp_v4_connect,
// result at its return, and the connect latency per process in an LRU map.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct conn_key {
	__u64 sk;
	__u32 tgid;
	__u32 pad;
};

struct conn_info {
	__u64 start_ns;
	__u64 latency_ns;
	__s32 result;
	__u32 attempts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, struct conn_key);
	__type(value, struct conn_info);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct conn_key);
} keys SEC(".maps");

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(connect_enter, void *sk)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 now = bpf_ktime_get_ns();
	struct conn_key key = { .sk = (__u64)sk, .tgid = id >> 32, .pad = 0 };

	bpf_map_update_elem(&pending, &tid, &now, BPF_ANY);
	bpf_map_update_elem(&keys, &tid, &key, BPF_ANY);
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(connect_exit, int ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *start = bpf_map_lookup_elem(&pending, &tid);
	struct conn_key *key = bpf_map_lookup_elem(&keys, &tid);
	struct conn_info *info, fresh = {};

	if (!start || !key)
		return 0;
	info = bpf_map_lookup_elem(&conns, key);
	if (!info) {
		fresh.start_ns = *start;
		bpf_map_update_elem(&conns, key, &fresh, BPF_ANY);
		info = bpf_map_lookup_elem(&conns, key);
		if (!info)
			return 0;
	}
	info->latency_ns = bpf_ktime_get_ns() - *start;
	info->result = ret;
	info->attempts++;
	bpf_map_delete_elem(&pending, &tid);
	bpf_map_delete_elem(&keys, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
