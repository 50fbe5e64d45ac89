// System calls by number, in a legacy `maps` array (struct bpf_map_def, as samples/bpf wrote
// them) read from do_syscall_64's second argument.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

#define NR_SYSCALLS 512

struct bpf_map_def SEC("maps") syscall_count = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = NR_SYSCALLS,
};

struct bpf_map_def SEC("maps") out_of_range = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u64),
	.value_size = sizeof(__u64),
	.max_entries = 64,
};

SEC("kprobe/do_syscall_64")
int syscall_enter(struct pt_regs *ctx)
{
	__u64 nr = PT_REGS_PARM2(ctx);
	__u32 key = nr;
	__u64 *count, one = 1;

	if (nr >= NR_SYSCALLS) {
		count = bpf_map_lookup_elem(&out_of_range, &nr);
		if (count)
			*count += 1;
		else
			bpf_map_update_elem(&out_of_range, &nr, &one, BPF_ANY);
		return 0;
	}
	count = bpf_map_lookup_elem(&syscall_count, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
