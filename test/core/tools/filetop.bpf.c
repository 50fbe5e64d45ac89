// filetop: reads and writes per file and process: calls and bytes requested, keyed by the
// inode, with the file's name and type (regular, socket, other) read through CO-RE.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFREG 0100000

const volatile pid_t target_pid = 0;
const volatile bool regular_file_only = false;

struct file_id {
	__u64 inode;
	__u32 dev;
	__u32 pid;
};

struct file_stat {
	__u64 reads;
	__u64 read_bytes;
	__u64 writes;
	__u64 write_bytes;
	__u32 pid;
	char type;
	char filename[32];
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct file_id);
	__type(value, struct file_stat);
} entries SEC(".maps");

static __always_inline int probe_entry(struct file *file, size_t count, bool is_read)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct file_id key = {};
	struct file_stat *st;
	const unsigned char *name;
	int mode;

	if (target_pid && target_pid != pid)
		return 0;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if (regular_file_only && (mode & S_IFMT) != S_IFREG)
		return 0;
	key.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev);
	key.inode = BPF_CORE_READ(file, f_inode, i_ino);
	key.pid = pid;
	st = bpf_map_lookup_elem(&entries, &key);
	if (!st) {
		struct file_stat zero = {};

		zero.pid = pid;
		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
		bpf_probe_read_kernel_str(zero.filename, sizeof(zero.filename), name);
		if ((mode & S_IFMT) == S_IFREG)
			zero.type = 'R';
		else if ((mode & S_IFMT) == S_IFSOCK)
			zero.type = 'S';
		else
			zero.type = 'O';
		bpf_map_update_elem(&entries, &key, &zero, BPF_ANY);
		st = bpf_map_lookup_elem(&entries, &key);
		if (!st)
			return 0;
	}
	if (is_read) {
		__sync_fetch_and_add(&st->reads, 1);
		__sync_fetch_and_add(&st->read_bytes, count);
	} else {
		__sync_fetch_and_add(&st->writes, 1);
		__sync_fetch_and_add(&st->write_bytes, count);
	}
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(vfs_read_entry, struct file *file, char *buf, size_t count)
{
	return probe_entry(file, count, true);
}

SEC("kprobe/vfs_write")
int BPF_KPROBE(vfs_write_entry, struct file *file, const char *buf, size_t count)
{
	return probe_entry(file, count, false);
}
