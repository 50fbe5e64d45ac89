// libbpf's read-only configuration pattern: const volatile globals the loader may set before
// load (a minimum size, a target process, a verbose flag) decide what is counted.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <stdbool.h>

const volatile __u64 min_size = 64;
const volatile __u32 target_tgid = 0;
const volatile bool count_failures = true;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} big_writes SEC(".maps");

__u64 skipped_small, skipped_other;

SEC("kprobe/ksys_write")
int BPF_KPROBE(filter_write, unsigned int fd, const char *buf, __u64 count)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 *v, init;

	if (target_tgid && tgid != target_tgid) {
		skipped_other++;
		return 0;
	}
	if (count < min_size) {
		skipped_small++;
		return 0;
	}
	v = bpf_map_lookup_elem(&big_writes, &tgid);
	if (v) {
		*v += count;
	} else {
		init = count;
		bpf_map_update_elem(&big_writes, &tgid, &init, BPF_ANY);
	}
	return 0;
}

SEC("kretprobe/ksys_write")
int BPF_KRETPROBE(filter_write_ret, long ret)
{
	__u32 key = 0xffffffff;
	__u64 *v, one = 1;

	if (!count_failures || ret >= 0)
		return 0;
	v = bpf_map_lookup_elem(&big_writes, &key);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&big_writes, &key, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
