// Context switches per command name: the key is the 16-byte comm of the task going to sleep.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16

struct comm_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct comm_key);
	__type(value, __u64);
} switches SEC(".maps");

SEC("kprobe/schedule")
int on_schedule(struct pt_regs *ctx)
{
	struct comm_key key;
	__u64 zero = 0, *count;

	__builtin_memset(&key, 0, sizeof(key));
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&switches, &key);
	if (!count) {
		bpf_map_update_elem(&switches, &key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(&switches, &key);
		if (!count)
			return 0;
	}
	__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
