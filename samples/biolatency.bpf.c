// Block I/O latency, as bcc's biolatency shows it: the time a request spends on the device,
// from blk_mq_start_request (the driver takes it) to blk_mq_end_request (it completed), in a
// log2 histogram of microseconds.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_SLOTS 27

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, __u64);	/* ns at blk_mq_start_request */
} started SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} usecs SEC(".maps");

/* requests that completed without a start seen (started before the program was attached) */
__u64 unmatched = 0;

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 slot = 0;

	while (v && slot < MAX_SLOTS - 1) {
		v >>= 1;
		slot++;
	}
	return slot;
}

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(request_start, struct request *rq)
{
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&started, &rq, &now, BPF_ANY);
	return 0;
}

SEC("kprobe/blk_mq_end_request")
int BPF_KPROBE(request_done, struct request *rq)
{
	__u64 *start = bpf_map_lookup_elem(&started, &rq);
	__u64 *count;
	__u32 slot;

	if (!start) {
		__sync_fetch_and_add(&unmatched, 1);
		return 0;
	}
	slot = log2_slot((bpf_ktime_get_ns() - *start) / 1000);
	count = bpf_map_lookup_elem(&usecs, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
	bpf_map_delete_elem(&started, &rq);
	return 0;
}
