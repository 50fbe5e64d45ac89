// A system call dispatcher, as the kernel's tracex5 sample built one: a kprobe on
// do_syscall_64 jumps through a PROG_ARRAY indexed by the system call number to a handler
// written for that call; numbers without a handler fall through and are counted as such.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define NR_SYSCALLS 512
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_socket 41
#define NR_connect 42
#define NR_sendto 44
#define NR_exit_group 231
#define NR_openat 257
#define O_CREAT 0100

struct syscall_stat {
	__u64 calls;
	__u64 bytes;	/* read/write/sendto: bytes asked for; openat: files created */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SYSCALLS);
	__type(key, __u32);
	__type(value, struct syscall_stat);
} handled SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NR_SYSCALLS);
	__type(key, __u32);
	__type(value, __u64);
} unhandled SEC(".maps");

static __always_inline void account(__u32 nr, __u64 bytes)
{
	struct syscall_stat *s = bpf_map_lookup_elem(&handled, &nr);

	if (s) {
		__sync_fetch_and_add(&s->calls, 1);
		__sync_fetch_and_add(&s->bytes, bytes);
	}
}

/* The handlers run with the dispatcher's context: do_syscall_64(regs, nr). */
SEC("kprobe")
int BPF_KPROBE(sys_read, struct pt_regs *regs)
{
	account(NR_read, BPF_CORE_READ(regs, dx));
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(sys_write, struct pt_regs *regs)
{
	account(NR_write, BPF_CORE_READ(regs, dx));
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(sys_sendto, struct pt_regs *regs)
{
	account(NR_sendto, BPF_CORE_READ(regs, dx));
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(sys_openat, struct pt_regs *regs)
{
	account(NR_openat, (BPF_CORE_READ(regs, dx) & O_CREAT) ? 1 : 0);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(sys_close, struct pt_regs *regs) { account(NR_close, 0); return 0; }

SEC("kprobe")
int BPF_KPROBE(sys_socket, struct pt_regs *regs) { account(NR_socket, 0); return 0; }

SEC("kprobe")
int BPF_KPROBE(sys_connect, struct pt_regs *regs) { account(NR_connect, 0); return 0; }

SEC("kprobe")
int BPF_KPROBE(sys_exit_group, struct pt_regs *regs) { account(NR_exit_group, 0); return 0; }

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NR_SYSCALLS);
	__type(key, __u32);
	__array(values, int (void *));
} syscall_table SEC(".maps") = {
	.values = {
		[NR_read] = (void *)&sys_read,
		[NR_write] = (void *)&sys_write,
		[NR_close] = (void *)&sys_close,
		[NR_socket] = (void *)&sys_socket,
		[NR_connect] = (void *)&sys_connect,
		[NR_sendto] = (void *)&sys_sendto,
		[NR_exit_group] = (void *)&sys_exit_group,
		[NR_openat] = (void *)&sys_openat,
	},
};

SEC("kprobe/do_syscall_64")
int BPF_KPROBE(dispatch, struct pt_regs *regs, int nr)
{
	__u32 key = nr;
	__u64 one = 1, *count;

	bpf_tail_call(ctx, &syscall_table, key);
	/* only reached when the table has no handler for nr */
	count = bpf_map_lookup_elem(&unhandled, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&unhandled, &key, &one, BPF_NOEXIST);
	return 0;
}
