// statsnoop: stat calls (newfstatat) with the path asked about and the result; failed ones
// only with targ_failed.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t target_pid = 0;
const volatile bool trace_failed_only = false;

struct event {
	__u64 ts;
	__u32 pid;
	__s32 ret;
	char comm[TASK_COMM_LEN];
	char pathname[NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, const char *);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("ksyscall/newfstatat")
int BPF_KSYSCALL(newfstatat_entry, int dfd, const char *pathname)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;

	if (target_pid && target_pid != (pid_t)(id >> 32))
		return 0;
	bpf_map_update_elem(&values, &tid, &pathname, BPF_ANY);
	return 0;
}

SEC("kretsyscall/newfstatat")
int BPF_KRETPROBE(newfstatat_exit, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	const char **pathname = bpf_map_lookup_elem(&values, &tid);
	struct event *e;

	if (!pathname)
		return 0;
	if (trace_failed_only && ret >= 0)
		goto cleanup;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->ts = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->ret = ret;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->pathname, sizeof(e->pathname), *pathname);
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&values, &tid);
	return 0;
}
