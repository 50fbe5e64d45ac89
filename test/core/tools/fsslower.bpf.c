// fsslower: file reads, writes and fsyncs slower than min_us, each with the file's name, size,
// offset and latency. The file pointer is kept at entry; its name is read through
// f_path.dentry->d_name at return.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

enum fs_op { F_READ, F_WRITE, F_FSYNC };

const volatile pid_t targ_tgid = 0;
const volatile __u64 min_lat_ns = 0;

struct data {
	__u64 ts;
	__s64 start;
	__u64 end;
	struct file *fp;
};

struct event {
	__u64 delta_us;
	__s64 offset;
	__s64 size;
	__u32 pid;
	__u32 op;
	char file[32];
	char task[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct data);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline int probe_entry(struct file *fp, loff_t start, loff_t end)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct data d = {};

	if (!fp)
		return 0;
	if (targ_tgid && targ_tgid != (pid_t)(id >> 32))
		return 0;
	d.ts = bpf_ktime_get_ns();
	d.start = start;
	d.end = end;
	d.fp = fp;
	bpf_map_update_elem(&starts, &tid, &d, BPF_ANY);
	return 0;
}

static __always_inline int probe_exit(enum fs_op op, ssize_t size)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	const unsigned char *name;
	struct file *fp;
	struct data *d;
	struct event *e;
	__u64 delta;

	d = bpf_map_lookup_elem(&starts, &tid);
	if (!d)
		return 0;
	delta = bpf_ktime_get_ns() - d->ts;
	if (delta < min_lat_ns)
		goto cleanup;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->delta_us = delta / 1000;
	e->offset = d->start;
	e->size = op == F_FSYNC ? d->end - d->start : size;
	e->pid = id >> 32;
	e->op = op;
	/* through a local: inside BPF_CORE_READ, d->fp would be a CO-RE access to struct data */
	fp = d->fp;
	name = BPF_CORE_READ(fp, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(e->file, sizeof(e->file), name);
	bpf_get_current_comm(e->task, sizeof(e->task));
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(file_read_entry, struct file *file, char *buf, size_t count, loff_t *pos)
{
	loff_t start = 0;

	bpf_probe_read_kernel(&start, sizeof(start), pos);
	return probe_entry(file, start, start + count);
}

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(file_read_exit, ssize_t ret)
{
	return probe_exit(F_READ, ret);
}

SEC("kprobe/vfs_write")
int BPF_KPROBE(file_write_entry, struct file *file, const char *buf, size_t count, loff_t *pos)
{
	loff_t start = 0;

	bpf_probe_read_kernel(&start, sizeof(start), pos);
	return probe_entry(file, start, start + count);
}

SEC("kretprobe/vfs_write")
int BPF_KRETPROBE(file_write_exit, ssize_t ret)
{
	return probe_exit(F_WRITE, ret);
}

SEC("kprobe/vfs_fsync")
int BPF_KPROBE(file_sync_entry, struct file *file, int datasync)
{
	return probe_entry(file, 0, BPF_CORE_READ(file, f_inode, i_size));
}

SEC("kretprobe/vfs_fsync")
int BPF_KRETPROBE(file_sync_exit, int ret)
{
	return probe_exit(F_FSYNC, 0);
}
