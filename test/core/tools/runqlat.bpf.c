// runqlat: how long runnable tasks wait for a CPU: the time from a wakeup (try_to_wake_up,
// wake_up_new_task) or an involuntary switch-out to the task running again (finish_task_switch
// runs as the next task), as a log2 histogram of microseconds.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TASK_RUNNING 0

const volatile pid_t targ_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct hist hist = {};
__u64 enqueues = 0;

static __always_inline int trace_enqueue(struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u64 ts;

	if (!pid)
		return 0;
	if (targ_tgid && targ_tgid != BPF_CORE_READ(p, tgid))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	__sync_fetch_and_add(&enqueues, 1);
	return 0;
}

SEC("kprobe/try_to_wake_up")
int BPF_KPROBE(ttwu, struct task_struct *p)
{
	return trace_enqueue(p);
}

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(wunt, struct task_struct *p)
{
	return trace_enqueue(p);
}

SEC("kprobe/finish_task_switch")
int BPF_KPROBE(switch_finish, struct task_struct *prev)
{
	struct task_struct *next = (struct task_struct *)bpf_get_current_task();
	__u64 *tsp, delta;
	__u32 pid;

	if (task_state(prev) == TASK_RUNNING)
		trace_enqueue(prev);
	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = (bpf_ktime_get_ns() - *tsp) / 1000;
	__sync_fetch_and_add(&hist.slots[hist_slot(delta)], 1);
	bpf_map_delete_elem(&start, &pid);
	return 0;
}
