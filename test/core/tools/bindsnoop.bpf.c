// bindsnoop: bind(2) calls on IPv4 sockets, with the port and address read from the caller's
// sockaddr_in and the result (privileged ports are refused to unprivileged callers).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool ignore_errors = false;
const volatile __u16 target_port = 0;

struct bind_args {
	__u32 addr;
	__u16 port;
	__u16 family;
};

struct event {
	__u32 pid;
	__u32 uid;
	__u32 addr;
	__u16 port;
	__u16 family;
	__s32 ret;
	char task[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct bind_args);
} binds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("ksyscall/bind")
int BPF_KSYSCALL(bind_entry, int fd, struct sockaddr *umyaddr, int addrlen)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sockaddr_in sin = {};
	struct bind_args a = {};

	if (bpf_probe_read_user(&sin, sizeof(sin), umyaddr))
		return 0;
	a.family = sin.sin_family;
	a.port = bpf_ntohs(sin.sin_port);
	a.addr = sin.sin_addr.s_addr;
	if (target_port && a.port != target_port)
		return 0;
	bpf_map_update_elem(&binds, &tid, &a, BPF_ANY);
	return 0;
}

SEC("kretsyscall/bind")
int BPF_KRETPROBE(bind_exit, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct bind_args *a = bpf_map_lookup_elem(&binds, &tid);
	__u64 one = 1, *count;
	struct event *e;
	__u16 port;

	if (!a)
		return 0;
	port = a->port;
	count = bpf_map_lookup_elem(&ports, &port);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&ports, &port, &one, BPF_NOEXIST);
	if (ignore_errors && ret != 0)
		goto cleanup;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	e->pid = id >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->addr = a->addr;
	e->port = a->port;
	e->family = a->family;
	e->ret = ret;
	bpf_get_current_comm(e->task, sizeof(e->task));
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&binds, &tid);
	return 0;
}
