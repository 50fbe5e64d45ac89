// exitsnoop: process exits with their parent, exit status and age, from do_exit's entry (it
// never returns). Threads are left out unless targ_threads.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool targ_threads = false;

struct event {
	__u64 age_ns;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__s32 exit_code;
	__u32 sig;
	__u32 cpu;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("kprobe/do_exit")
int BPF_KPROBE(do_exit_entry, long code)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	struct event *e;

	if (!targ_threads && (__u32)(id >> 32) != (__u32)id)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->age_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = code;
	e->sig = code & 0x7f;
	e->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
