// kmallocsize: kernel allocation sizes (__kmalloc) as a log2 histogram per process name, and
// frees (kfree) counted, for a slab-pressure overview.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct hist_key {
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hist_key);
	__type(value, struct hist);
} sizes SEC(".maps");

__u64 allocs = 0;
__u64 alloc_bytes = 0;
__u64 frees = 0;

static struct hist zero_hist;

SEC("kprobe/__kmalloc")
int BPF_KPROBE(kmalloc_entry, size_t size)
{
	struct hist_key key = {};
	struct hist *h;

	__sync_fetch_and_add(&allocs, 1);
	__sync_fetch_and_add(&alloc_bytes, size);
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	h = bpf_map_lookup_elem(&sizes, &key);
	if (!h) {
		bpf_map_update_elem(&sizes, &key, &zero_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&sizes, &key);
		if (!h)
			return 0;
	}
	__sync_fetch_and_add(&h->slots[hist_slot(size)], 1);
	return 0;
}

SEC("kprobe/kfree")
int BPF_KPROBE(kfree_entry, const void *objp)
{
	if (objp)
		__sync_fetch_and_add(&frees, 1);
	return 0;
}
