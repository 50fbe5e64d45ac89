// Pointers and pointer arithmetic: the registers copied from the context with
// bpf_probe_read_kernel, read through a pointer plus an index, a pointer difference, and
// the probed function's address and the caller's uid/gid.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NREGS (sizeof(struct pt_regs) / sizeof(unsigned long))

__u64 nonzero_regs, checksum, func_ip, last_uid_gid, walked;

SEC("kprobe/submit_bio")
int walk(struct pt_regs *ctx)
{
	unsigned long regs[NREGS] = {};
	unsigned long *p = regs, *end = regs + NREGS, *mid;
	__u64 sum = 0;
	__u32 i;

	if (bpf_probe_read_kernel(regs, sizeof(regs), ctx))
		return 0;
	for (i = 0; i < NREGS; i++) {
		unsigned long v = *(p + i);

		if (v)
			nonzero_regs++;
		sum = (sum << 5) ^ (sum >> 59) ^ v;
	}
	mid = regs + NREGS / 2;
	walked += end - mid;
	checksum ^= sum;
	func_ip = bpf_get_func_ip(ctx);
	last_uid_gid = bpf_get_current_uid_gid();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
