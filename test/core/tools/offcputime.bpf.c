// offcputime (lite): total time each thread spent off CPU (blocked or preempted), from the
// switch away from it to the switch back, summed per thread in microseconds. Kernel threads
// are left out unless targ_kernel_threads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000

const volatile bool targ_kernel_threads = false;

struct key_t {
	__u32 pid;
	__u32 tgid;
	char comm[TASK_COMM_LEN];
};

struct val_t {
	__u64 delta_us;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct key_t);
	__type(value, struct val_t);
} info SEC(".maps");

static __always_inline bool allow_record(struct task_struct *t)
{
	if (!BPF_CORE_READ(t, pid))
		return false;
	if (!targ_kernel_threads && (BPF_CORE_READ(t, flags) & PF_KTHREAD))
		return false;
	return true;
}

SEC("kprobe/finish_task_switch")
int BPF_KPROBE(switch_finish, struct task_struct *prev)
{
	struct task_struct *next = (struct task_struct *)bpf_get_current_task();
	struct key_t key = {};
	struct val_t zero = {}, *val;
	__u64 ts = bpf_ktime_get_ns(), *tsp;
	__u32 pid;

	if (allow_record(prev)) {
		pid = BPF_CORE_READ(prev, pid);
		bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	}
	pid = BPF_CORE_READ(next, pid);
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	key.pid = pid;
	key.tgid = BPF_CORE_READ(next, tgid);
	BPF_CORE_READ_STR_INTO(&key.comm, next, comm);
	val = bpf_map_lookup_elem(&info, &key);
	if (!val) {
		bpf_map_update_elem(&info, &key, &zero, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&info, &key);
		if (!val)
			goto cleanup;
	}
	__sync_fetch_and_add(&val->delta_us, (ts - *tsp) / 1000);
	__sync_fetch_and_add(&val->count, 1);
cleanup:
	bpf_map_delete_elem(&start, &pid);
	return 0;
}
