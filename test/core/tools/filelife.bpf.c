// filelife: short-lived files: created (vfs_create) then deleted (vfs_unlink), with their
// name, age and the process that deleted them.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t targ_tgid = 0;

struct event {
	char file[NAME_LEN];
	char task[TASK_COMM_LEN];
	__u64 delta_ns;
	__u32 tgid;
	__u32 size;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct dentry *);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("kprobe/vfs_create")
int BPF_KPROBE(vfs_create, void *mnt_userns, struct inode *dir, struct dentry *dentry)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 ts;

	if (targ_tgid && targ_tgid != tgid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &dentry, &ts, BPF_ANY);
	return 0;
}

SEC("kprobe/vfs_unlink")
int BPF_KPROBE(vfs_unlink, void *mnt_userns, struct inode *dir, struct dentry *dentry)
{
	struct event e = {};
	const unsigned char *name;
	__u64 *tsp;

	tsp = bpf_map_lookup_elem(&start, &dentry);
	if (!tsp)
		return 0;
	e.delta_ns = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &dentry);
	name = BPF_CORE_READ(dentry, d_name.name);
	bpf_probe_read_kernel_str(e.file, sizeof(e.file), name);
	e.size = BPF_CORE_READ(dentry, d_inode, i_size);
	e.tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e.task, sizeof(e.task));
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
