// Latency of openat: a kprobe stores the start time by thread id, the kretprobe computes the
// delta, files it in a log2 histogram of microseconds and remembers the slowest call.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define SLOTS 27

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} latency_us SEC(".maps");

__u64 slowest_ns = 0;
__u64 completed = 0;
__u64 failed = 0;

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_enter)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(open_exit, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *tsp, delta, us, *slotp;
	__u32 slot = 0;

	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &tid);
	if (ret < 0)
		__sync_fetch_and_add(&failed, 1);
	us = delta / 1000;
	while (us > 1 && slot < SLOTS - 1) {
		us >>= 1;
		slot++;
	}
	slotp = bpf_map_lookup_elem(&latency_us, &slot);
	if (slotp)
		__sync_fetch_and_add(slotp, 1);
	if (delta > slowest_ns)
		slowest_ns = delta;
	__sync_fetch_and_add(&completed, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
