// biosnoop: one event per block request with its disk, direction, sector, size and the time
// it spent on the device. The write direction is compared through bpf_core_enum_value, so the
// REQ_OP_WRITE value follows the kernel the program loads into.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define REQ_OP_BITS 8
#define REQ_OP_MASK ((1 << REQ_OP_BITS) - 1)

struct start_info {
	__u64 ts;
	__u32 pid;
	char comm[TASK_COMM_LEN];
};

struct event {
	char disk[DISK_NAME_LEN];
	char comm[TASK_COMM_LEN];
	__u64 delta_ns;
	__u64 sector;
	__u32 len;
	__u32 pid;
	__u32 write;
	__u32 dev;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, struct start_info);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(rq_issue, struct request *rq)
{
	struct start_info s = {};

	s.ts = bpf_ktime_get_ns();
	s.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_map_update_elem(&start, &rq, &s, BPF_ANY);
	return 0;
}

SEC("kprobe/__blk_account_io_done")
int BPF_KPROBE(rq_done, struct request *rq, u64 now)
{
	struct start_info *s = bpf_map_lookup_elem(&start, &rq);
	struct event *e;
	__u32 op;

	if (!s)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		goto cleanup;
	BPF_CORE_READ_STR_INTO(&e->disk, rq, q, disk, disk_name);
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	e->delta_ns = now - s->ts;
	e->sector = BPF_CORE_READ(rq, __sector);
	e->len = BPF_CORE_READ(rq, __data_len);
	e->pid = s->pid;
	op = BPF_CORE_READ(rq, cmd_flags) & REQ_OP_MASK;
	e->write = op == bpf_core_enum_value(enum req_op, REQ_OP_WRITE);
	e->dev = BPF_CORE_READ(rq, part, bd_dev);
	bpf_ringbuf_submit(e, 0);
cleanup:
	bpf_map_delete_elem(&start, &rq);
	return 0;
}
