// Write events to user space through a perf event array on the current CPU.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct write_event {
	__u32 tgid;
	__u32 fd;
	__u64 count;
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} writes SEC(".maps");

__u64 errors;

SEC("kprobe/ksys_write")
int BPF_KPROBE(write_event, unsigned int fd, const char *buf, __u64 count)
{
	struct write_event e;

	__builtin_memset(&e, 0, sizeof(e));
	e.tgid = bpf_get_current_pid_tgid() >> 32;
	e.fd = fd;
	e.count = count;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	if (bpf_perf_event_output(ctx, &writes, BPF_F_CURRENT_CPU, &e, sizeof(e)) < 0)
		errors++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
