// Switch statements: a dense one over small values (a jump table in other back ends), a sparse
// one over syscall numbers, and fallthrough between cases.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 dense[10];
__u64 sparse_hits[6];
__u64 fallthrough_total;

static __always_inline __u32 dense_class(__u32 v)
{
	switch (v) {
	case 0: return 7;
	case 1: return 3;
	case 2: return 9;
	case 3: return 1;
	case 4: return 4;
	case 5: return 8;
	case 6: return 2;
	case 7: return 6;
	default: return 0;
	}
}

SEC("kprobe/do_syscall_64")
int BPF_KPROBE(classify_syscall, void *regs, __u64 nr)
{
	__u32 c = dense_class(nr & 15);
	__u32 s;

	if (c < 10)
		dense[c]++;
	switch (nr) {
	case 0: s = 0; break;
	case 1: s = 1; break;
	case 3: s = 2; break;
	case 257: s = 3; break;
	case 87: s = 4; break;
	default: s = 5;
	}
	sparse_hits[s]++;
	switch (nr & 3) {
	case 3:
		fallthrough_total += 3;
		/* fall through */
	case 2:
		fallthrough_total += 2;
		/* fall through */
	case 1:
		fallthrough_total += 1;
		break;
	default:
		break;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
