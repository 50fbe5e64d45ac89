// bitesize: the sizes of the block I/O each process submits, as log2 histograms of KiB.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct hist_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct hist_key);
	__type(value, struct hist);
} hists SEC(".maps");

static struct hist zero_hist;

SEC("kprobe/blk_mq_submit_bio")
int BPF_KPROBE(submit_bio_entry, struct bio *bio)
{
	struct hist_key key = {};
	struct hist *h;
	__u32 kib;

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	kib = BPF_CORE_READ(bio, bi_iter.bi_size) / 1024;
	__sync_fetch_and_add(&h->slots[hist_slot(kib)], 1);
	return 0;
}
