// A program as the first kprobe programs were written (Linux 4.1): a map declared in the
// legacy `maps` section, the `version` section carrying the kernel version it was built for,
// plain pt_regs, and the return value deciding whether the kprobe event is kept: non-zero
// stores it in the trace buffer, 0 drops it. The driver loads and attaches it by hand, with
// the system calls of that time.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define KERNEL_VERSION_4_1 ((4 << 16) + (1 << 8) + 0)
#define BIG_READ 65536
#define MAX_CPUS 64

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct read_stats {
	__u64 calls;
	__u64 bytes;
	__u64 big;
};

/* one slot per CPU, each CPU counting in its own */
struct bpf_map_def SEC("maps") reads = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(struct read_stats),
	.max_entries = MAX_CPUS,
};

SEC("kprobe/vfs_read")
int count_reads(struct pt_regs *ctx)
{
	__u64 count = PT_REGS_PARM3(ctx);
	__u32 cpu = bpf_get_smp_processor_id();
	struct read_stats *s = bpf_map_lookup_elem(&reads, &cpu);

	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	__sync_fetch_and_add(&s->bytes, count);
	if (count < BIG_READ)
		return 0;	/* drop the event */
	__sync_fetch_and_add(&s->big, 1);
	return 1;		/* keep it: the perf event on this CPU records it */
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = KERNEL_VERSION_4_1;
