// opensnoop, as bcc and libbpf-tools write it: do_sys_openat2's arguments kept at entry, and
// at return one event per open (who, what, flags, the fd or error) streamed to user space
// through a perf buffer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define NAME_LEN 64

struct args {
	const char *filename;
	__u64 flags;
};

struct event {
	__u64 ts;
	__u32 pid;
	__u32 uid;
	__s32 ret;
	__u32 flags;
	char comm[16];
	char fname[NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct args);
} opening SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_enter, int dfd, const char *filename, struct open_how *how)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct args a = {};

	a.filename = filename;
	a.flags = BPF_CORE_READ(how, flags);
	bpf_map_update_elem(&opening, &tid, &a, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(open_return, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct args *a = bpf_map_lookup_elem(&opening, &tid);
	struct event e = {};

	if (!a)
		return 0;
	e.ts = bpf_ktime_get_ns();
	e.pid = id >> 32;
	e.uid = (__u32)bpf_get_current_uid_gid();
	e.ret = ret;
	e.flags = a->flags;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_probe_read_user_str(e.fname, sizeof(e.fname), a->filename);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	bpf_map_delete_elem(&opening, &tid);
	return 0;
}
