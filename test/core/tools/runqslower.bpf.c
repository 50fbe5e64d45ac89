// runqslower: the wakeups that waited longer than min_us for a CPU, one event each with the
// task that ran before.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u64 min_us = 0;

struct event {
	char task[TASK_COMM_LEN];
	char prev_task[TASK_COMM_LEN];
	__u64 delta_us;
	__u32 pid;
	__u32 prev_pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("kprobe/try_to_wake_up")
int BPF_KPROBE(ttwu, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u64 ts = bpf_ktime_get_ns();

	if (pid)
		bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("kprobe/finish_task_switch")
int BPF_KPROBE(switch_finish, struct task_struct *prev)
{
	struct task_struct *next = (struct task_struct *)bpf_get_current_task();
	struct event e = {};
	__u64 *tsp, delta_us;
	__u32 pid = BPF_CORE_READ(next, pid);

	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta_us = (bpf_ktime_get_ns() - *tsp) / 1000;
	bpf_map_delete_elem(&start, &pid);
	if (delta_us < min_us)
		return 0;
	e.pid = pid;
	e.prev_pid = BPF_CORE_READ(prev, pid);
	e.delta_us = delta_us;
	BPF_CORE_READ_STR_INTO(&e.task, next, comm);
	BPF_CORE_READ_STR_INTO(&e.prev_task, prev, comm);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
