// Per-process open counter: how many times each process called openat, keyed by tgid.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} opens_by_tgid SEC(".maps");

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(count_open, int dfd, const char *filename)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1;
	__u64 *count;

	count = bpf_map_lookup_elem(&opens_by_tgid, &tgid);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	bpf_map_update_elem(&opens_by_tgid, &tgid, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
