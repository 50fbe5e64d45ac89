// vfsstat: VFS calls counted by kind in a global array, with the kernel's version (a
// __kconfig extern) recorded beside them for the report's header.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

enum stat_types {
	S_READ,
	S_WRITE,
	S_FSYNC,
	S_OPEN,
	S_CREATE,
	S_UNLINK,
	S_MAXSTAT,
};

extern int LINUX_KERNEL_VERSION __kconfig;

__u64 stats[S_MAXSTAT] = {};
__u32 kernel_version = 0;

static __always_inline int inc_stat(enum stat_types key)
{
	kernel_version = LINUX_KERNEL_VERSION;
	__sync_fetch_and_add(&stats[key], 1);
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(kprobe_vfs_read) { return inc_stat(S_READ); }

SEC("kprobe/vfs_write")
int BPF_KPROBE(kprobe_vfs_write) { return inc_stat(S_WRITE); }

SEC("kprobe/vfs_fsync")
int BPF_KPROBE(kprobe_vfs_fsync) { return inc_stat(S_FSYNC); }

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(kprobe_vfs_open) { return inc_stat(S_OPEN); }

SEC("kprobe/vfs_create")
int BPF_KPROBE(kprobe_vfs_create) { return inc_stat(S_CREATE); }

SEC("kprobe/vfs_unlink")
int BPF_KPROBE(kprobe_vfs_unlink) { return inc_stat(S_UNLINK); }
