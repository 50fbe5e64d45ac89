// forksnoop: new tasks as the scheduler first wakes them (wake_up_new_task): pid, parent,
// owner and name, read from the child's task_struct and its cred through CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool ignore_threads = true;

struct event {
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 cpu;
	__u32 parent_cpu;
	char comm[TASK_COMM_LEN];
	char parent_comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 threads = 0;

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(wake_up_new_task, struct task_struct *p)
{
	struct event *e;
	__u32 pid = BPF_CORE_READ(p, tgid), tid = BPF_CORE_READ(p, pid);

	if (ignore_threads && pid != tid) {
		__sync_fetch_and_add(&threads, 1);
		return 0;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->uid = BPF_CORE_READ(p, cred, uid.val);
	e->cpu = BPF_CORE_READ(p, thread_info.cpu);
	e->parent_cpu = bpf_get_smp_processor_id();
	BPF_CORE_READ_STR_INTO(&e->comm, p, comm);
	bpf_get_current_comm(e->parent_comm, sizeof(e->parent_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
