// Tail calls: a dispatcher jumps to a handler chosen by the system call number; each handler
// (a kprobe program with no attach point of its own) counts in its own slot, and an unknown
// number falls through to the default path.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} handled SEC(".maps");

static __always_inline void bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&handled, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("kprobe")
int handle_read(struct pt_regs *ctx) { bump(0); return 0; }

SEC("kprobe")
int handle_write(struct pt_regs *ctx) { bump(1); return 0; }

SEC("kprobe")
int handle_open(struct pt_regs *ctx) { bump(2); return 0; }

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (struct pt_regs *));
} handlers SEC(".maps") = {
	.values = {
		[0] = (void *)&handle_read,
		[1] = (void *)&handle_write,
		[2] = (void *)&handle_open,
	},
};

SEC("kprobe/do_syscall_64")
int dispatch(struct pt_regs *ctx)
{
	__u64 nr = PT_REGS_PARM2(ctx);
	__u32 index;

	switch (nr) {
	case 0: index = 0; break;	/* read */
	case 1: index = 1; break;	/* write */
	case 257: index = 2; break;	/* openat */
	default: index = 3; break;
	}
	bpf_tail_call(ctx, &handlers, index);
	bump(7);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
