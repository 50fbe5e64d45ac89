// biolatency: block I/O latency from issue (blk_mq_start_request) to completion
// (__blk_account_io_done) as log2 histograms, per disk when targ_per_disk.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool targ_per_disk = false;
const volatile bool targ_ms = false;

struct hist_key {
	char disk[DISK_NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct request *);
	__type(value, __u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero_hist;

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(block_rq_issue, struct request *rq)
{
	__u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &rq, &ts, BPF_ANY);
	return 0;
}

SEC("kprobe/__blk_account_io_done")
int BPF_KPROBE(block_rq_complete, struct request *rq, u64 now)
{
	struct hist_key key = {};
	struct hist *h;
	__u64 *tsp, delta;

	tsp = bpf_map_lookup_elem(&start, &rq);
	if (!tsp)
		return 0;
	delta = now - *tsp;
	if (targ_per_disk)
		BPF_CORE_READ_STR_INTO(&key.disk, rq, q, disk, disk_name);
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			goto cleanup;
	}
	delta /= targ_ms ? 1000000U : 1000U;
	__sync_fetch_and_add(&h->slots[hist_slot(delta)], 1);
cleanup:
	bpf_map_delete_elem(&start, &rq);
	return 0;
}
