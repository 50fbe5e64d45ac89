// fsyncsnoop (syncsnoop for fsync): every fsync with its process, file name and size, and
// whether only the data was asked for.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u64 ts;
	__s64 size;
	__u32 pid;
	__u32 datasync;
	char comm[TASK_COMM_LEN];
	char file[32];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("kprobe/vfs_fsync")
int BPF_KPROBE(vfs_fsync_entry, struct file *file, int datasync)
{
	struct event e = {};

	e.ts = bpf_ktime_get_ns();
	e.size = BPF_CORE_READ(file, f_inode, i_size);
	e.pid = bpf_get_current_pid_tgid() >> 32;
	e.datasync = datasync;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	BPF_CORE_READ_STR_INTO(&e.file, file, f_path.dentry, d_name.name);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
