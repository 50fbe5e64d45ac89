// mountsnoop: mount(2) calls with source, target, file system type, flags, the caller's mount
// namespace (task->nsproxy->mnt_ns->ns.inum through CO-RE) and the result.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PATH_LEN 32

struct arg {
	__u64 ts;
	__u64 flags;
	const char *src;
	const char *dest;
	const char *fs;
};

struct event {
	__u64 delta_ns;
	__u64 flags;
	__u32 pid;
	__u32 mnt_ns;
	__s32 ret;
	char comm[TASK_COMM_LEN];
	char src[PATH_LEN];
	char dest[PATH_LEN];
	char fs[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct arg);
} args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* the event is too large for the stack together with its helpers' frames: a per-CPU slot */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} heap SEC(".maps");

SEC("ksyscall/mount")
int BPF_KSYSCALL(mount_entry, const char *src, const char *dest, const char *fs, __u64 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct arg a = {};

	a.ts = bpf_ktime_get_ns();
	a.flags = flags;
	a.src = src;
	a.dest = dest;
	a.fs = fs;
	bpf_map_update_elem(&args, &tid, &a, BPF_ANY);
	return 0;
}

SEC("kretsyscall/mount")
int BPF_KRETPROBE(mount_exit, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id, zero = 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct arg *a = bpf_map_lookup_elem(&args, &tid);
	struct event *e;

	if (!a)
		return 0;
	e = bpf_map_lookup_elem(&heap, &zero);
	if (!e)
		goto cleanup;
	e->delta_ns = bpf_ktime_get_ns() - a->ts;
	e->flags = a->flags;
	e->pid = id >> 32;
	e->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	e->ret = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->src, sizeof(e->src), a->src);
	bpf_probe_read_user_str(e->dest, sizeof(e->dest), a->dest);
	bpf_probe_read_user_str(e->fs, sizeof(e->fs), a->fs);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&args, &tid);
	return 0;
}
