// Process lifecycle events through a BPF ring buffer, in the spirit of libbpf-bootstrap: a new
// process (wake_up_new_task) and its exit (do_exit) with the exit code and how long it lived,
// reserved and submitted in place, in the order they happened across CPUs.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u64 ts;
	__u64 duration_ns;	/* exit: since the process started */
	__u32 pid;
	__u32 ppid;
	__u32 exit_code;	/* wait status: code << 8 | signal */
	__u32 exit_event;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);	/* pid */
	__type(value, __u64);	/* start time */
} started SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(process_start, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, tgid);
	__u64 now = bpf_ktime_get_ns();
	struct event *e;

	if (BPF_CORE_READ(p, pid) != pid)
		return 0;	/* a new thread, not a new process */
	bpf_map_update_elem(&started, &pid, &now, BPF_ANY);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->ts = now;
	e->duration_ns = 0;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->exit_code = 0;
	e->exit_event = 0;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), p->comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/do_exit")
int BPF_KPROBE(process_exit, long code)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	__u64 now = bpf_ktime_get_ns();
	__u64 *start;
	struct event *e;

	if ((__u32)id != pid)
		return 0;	/* a thread leaving, not the process */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	start = bpf_map_lookup_elem(&started, &pid);
	e->ts = now;
	e->duration_ns = start ? now - *start : 0;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->exit_code = code;
	e->exit_event = 1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	bpf_map_delete_elem(&started, &pid);
	return 0;
}
