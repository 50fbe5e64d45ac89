// Exec-snoop shaped events through a ring buffer: reserve, fill (pid, comm, path, flags),
// submit or discard; a second path uses bpf_ringbuf_output with a stack copy.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct open_event {
	__u32 pid;
	__u32 tgid;
	__u64 ts;
	char comm[16];
	char path[48];
	__s32 dfd;
	__u32 flags;
};

struct close_event {
	__u32 tgid;
	__u32 fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

__u64 discarded;

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_event, int dfd, const char *filename)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct open_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	e->ts = bpf_ktime_get_ns();
	e->dfd = dfd;
	e->flags = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), filename) < 0) {
		bpf_ringbuf_discard(e, 0);
		discarded++;
		return 0;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/close_fd")
int BPF_KPROBE(close_event, unsigned int fd)
{
	struct close_event e = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.fd = fd,
	};

	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
