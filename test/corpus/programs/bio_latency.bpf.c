// Block I/O latency: start time per request pointer at blk_mq_start_request, the delta at
// blk_mq_end_request into a log2 histogram of microseconds, and errors counted.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, __u64);
} issued SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} usecs SEC(".maps");

__u64 io_errors;
__u64 unmatched;

static __always_inline __u32 log2l(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(rq_start, void *rq)
{
	__u64 key = (__u64)rq, ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&issued, &key, &ts, BPF_ANY);
	return 0;
}

SEC("kprobe/blk_mq_end_request")
int BPF_KPROBE(rq_done, void *rq, int error)
{
	__u64 key = (__u64)rq, *tsp, *slot;
	__u32 bucket;

	if (error)
		io_errors++;
	tsp = bpf_map_lookup_elem(&issued, &key);
	if (!tsp) {
		unmatched++;
		return 0;
	}
	bucket = log2l((bpf_ktime_get_ns() - *tsp) / 1000);
	if (bucket > 31)
		bucket = 31;
	slot = bpf_map_lookup_elem(&usecs, &bucket);
	if (slot)
		(*slot)++;
	bpf_map_delete_elem(&issued, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
