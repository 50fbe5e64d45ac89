// cpudist: how long tasks run on a CPU each time they get one (or, with targ_offcpu, how long
// they stay off it), as a log2 histogram of microseconds per process name.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool targ_offcpu = false;

struct hist_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero_hist;

static __always_inline void store_start(__u32 pid, __u64 ts)
{
	if (pid)
		bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
}

static __always_inline void update_hist(struct task_struct *t, __u32 pid, __u64 ts)
{
	struct hist_key key = {};
	struct hist *h;
	__u64 *tsp, delta;

	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp || ts < *tsp)
		return;
	delta = (ts - *tsp) / 1000;
	BPF_CORE_READ_STR_INTO(&key.comm, t, comm);
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return;
	}
	__sync_fetch_and_add(&h->slots[hist_slot(delta)], 1);
}

SEC("kprobe/finish_task_switch")
int BPF_KPROBE(switch_finish, struct task_struct *prev)
{
	struct task_struct *next = (struct task_struct *)bpf_get_current_task();
	__u32 prev_pid = BPF_CORE_READ(prev, pid);
	__u32 pid = BPF_CORE_READ(next, pid);
	__u64 ts = bpf_ktime_get_ns();

	if (targ_offcpu) {
		store_start(prev_pid, ts);
		if (pid)
			update_hist(next, pid, ts);
	} else {
		if (prev_pid)
			update_hist(prev, prev_pid, ts);
		store_start(pid, ts);
	}
	return 0;
}
