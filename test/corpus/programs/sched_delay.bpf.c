// Scheduler wake-up to switch delay: try_to_wake_up stamps the task pointer, finish_task_switch
// on the next switch measures how long the previous task waited; per-CPU last switch times
// give the gap between switches.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} woken SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} last_switch SEC(".maps");

__u64 gaps_us[20];
__u64 wakeups, switch_count;

SEC("kprobe/try_to_wake_up")
int BPF_KPROBE(wakeup, void *p, unsigned int state, int wake_flags)
{
	__u64 key = (__u64)p, now = bpf_ktime_get_ns();

	bpf_map_update_elem(&woken, &key, &now, BPF_ANY);
	wakeups++;
	return 0;
}

SEC("kprobe/finish_task_switch")
int BPF_KPROBE(switched, void *prev)
{
	__u32 zero = 0, slot = 0;
	__u64 now = bpf_ktime_get_ns(), key = (__u64)prev, *last, gap;

	switch_count++;
	bpf_map_delete_elem(&woken, &key);
	last = bpf_map_lookup_elem(&last_switch, &zero);
	if (!last)
		return 0;
	if (*last) {
		gap = (now - *last) / 1000;
		while (gap > 1 && slot < 19) {
			gap >>= 1;
			slot++;
		}
		gaps_us[slot]++;
	}
	*last = now;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
