// syncsnoop: calls to sync(2), each with its process and time, and the ksys_sync work they
// started counted.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct event {
	__u64 ts;
	__u32 pid;
	__u32 uid;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} events SEC(".maps");

__u64 ksys_syncs = 0;

SEC("ksyscall/sync")
int BPF_KSYSCALL(sync_entry)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/ksys_sync")
int BPF_KPROBE(ksys_sync_entry)
{
	__sync_fetch_and_add(&ksys_syncs, 1);
	return 0;
}
