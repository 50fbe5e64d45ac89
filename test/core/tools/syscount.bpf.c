// syscount: system calls counted per syscall number, with their total latency, from
// do_syscall_64's entry (the number is its second argument) to its return.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t filter_pid = 0;
const volatile bool count_by_process = false;

struct start_t {
	__u64 ts;
	__u32 nr;
};

struct data_t {
	__u64 count;
	__u64 total_ns;
	__u64 errors;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct start_t);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct data_t);
} data SEC(".maps");

SEC("kprobe/do_syscall_64")
int BPF_KPROBE(sys_enter, struct pt_regs *regs, int nr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct start_t s = {};

	if (filter_pid && filter_pid != (pid_t)(id >> 32))
		return 0;
	s.ts = bpf_ktime_get_ns();
	s.nr = nr;
	bpf_map_update_elem(&start, &tid, &s, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_syscall_64")
int BPF_KRETPROBE(sys_exit, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct data_t zero = {}, *val;
	struct start_t *s;
	__u32 key;

	s = bpf_map_lookup_elem(&start, &tid);
	if (!s)
		return 0;
	key = count_by_process ? id >> 32 : s->nr;
	val = bpf_map_lookup_elem(&data, &key);
	if (!val) {
		bpf_map_update_elem(&data, &key, &zero, BPF_NOEXIST);
		val = bpf_map_lookup_elem(&data, &key);
		if (!val)
			goto cleanup;
	}
	__sync_fetch_and_add(&val->count, 1);
	__sync_fetch_and_add(&val->total_ns, bpf_ktime_get_ns() - s->ts);
cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}
