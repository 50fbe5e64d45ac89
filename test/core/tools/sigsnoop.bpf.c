// sigsnoop: signals sent with kill(2): who sent which signal to whom, and the result. The
// arguments come through BPF_KSYSCALL (libbpf reads them from the syscall wrapper's pt_regs
// when the kernel's LINUX_HAS_SYSCALL_WRAPPER __kconfig says so), the result at return.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile pid_t filtered_pid = 0;
const volatile int target_signal = 0;
const volatile bool failed_only = false;

struct event {
	__u32 pid;
	__u32 tpid;
	__s32 sig;
	__s32 ret;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct event);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t tpid, int sig)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct event e = {};

	if (target_signal && sig != target_signal)
		return 0;
	if (filtered_pid && filtered_pid != (pid_t)(id >> 32))
		return 0;
	e.pid = id >> 32;
	e.tpid = tpid;
	e.sig = sig;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_map_update_elem(&values, &tid, &e, BPF_ANY);
	return 0;
}

SEC("kretsyscall/kill")
int BPF_KRETPROBE(kill_exit, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *e = bpf_map_lookup_elem(&values, &tid);

	if (!e)
		return 0;
	if (failed_only && ret >= 0)
		goto cleanup;
	e->ret = ret;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, sizeof(*e));
cleanup:
	bpf_map_delete_elem(&values, &tid);
	return 0;
}
