// File operations: fsync and unlink counts per process in one hash of structs, and getname /
// putname pairing checked with a per-thread flag.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct file_ops {
	__u32 fsyncs;
	__u32 unlinks;
	__u32 datasync;
	__u32 unlink_errors;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct file_ops);
} ops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} in_getname SEC(".maps");

__u64 unbalanced_putname;

static __always_inline struct file_ops *ops_of(__u32 tgid)
{
	struct file_ops *o = bpf_map_lookup_elem(&ops, &tgid), zero = {};

	if (o)
		return o;
	bpf_map_update_elem(&ops, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&ops, &tgid);
}

SEC("kprobe/vfs_fsync")
int BPF_KPROBE(fsync, void *file, int datasync)
{
	struct file_ops *o = ops_of(bpf_get_current_pid_tgid() >> 32);

	if (!o)
		return 0;
	o->fsyncs++;
	if (datasync)
		o->datasync++;
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(unlink_ret, long ret)
{
	struct file_ops *o = ops_of(bpf_get_current_pid_tgid() >> 32);

	if (!o)
		return 0;
	o->unlinks++;
	if (ret < 0)
		o->unlink_errors++;
	return 0;
}

SEC("kprobe/getname")
int BPF_KPROBE(getname_enter)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u8 one = 1;

	bpf_map_update_elem(&in_getname, &tid, &one, BPF_ANY);
	return 0;
}

SEC("kprobe/putname")
int BPF_KPROBE(putname_enter)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (bpf_map_delete_elem(&in_getname, &tid) != 0)
		unbalanced_putname++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
