// Process creation: kernel_clone per parent, new tasks woken, and tasks released, with the
// clone's return value (the child's pid) recorded from a kretprobe.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} children SEC(".maps");

__u64 clones, new_tasks, released, failed_clones;
__u32 last_child;

SEC("kretprobe/kernel_clone")
int BPF_KRETPROBE(clone_ret, long pid)
{
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 *n, one = 1;

	clones++;
	if (pid <= 0) {
		failed_clones++;
		return 0;
	}
	last_child = pid;
	n = bpf_map_lookup_elem(&children, &parent);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&children, &parent, &one, BPF_ANY);
	return 0;
}

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(new_task, void *p)
{
	new_tasks++;
	return 0;
}

SEC("kprobe/release_task")
int BPF_KPROBE(release, void *p)
{
	released++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
