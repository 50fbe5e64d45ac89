// Several programs in one section name (libbpf keeps them apart by symbol), plus static
// helpers called from all of them and one program in its own section.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 hits[4];

static __noinline void hit(__u32 i, __u64 weight)
{
	if (i < 4)
		hits[i] += weight;
}

SEC("kprobe/ip_queue_xmit")
int xmit_a(struct pt_regs *ctx) { hit(0, 1); return 0; }

SEC("kprobe/ip_queue_xmit")
int xmit_b(struct pt_regs *ctx) { hit(1, 2); return 0; }

SEC("kprobe/ip_queue_xmit")
int xmit_c(struct pt_regs *ctx) { hit(2, PT_REGS_PARM1(ctx) ? 3 : 0); return 0; }

SEC("kprobe/ip_rcv")
int rcv(struct pt_regs *ctx) { hit(3, 1); return 0; }

char LICENSE[] SEC("license") = "GPL";
