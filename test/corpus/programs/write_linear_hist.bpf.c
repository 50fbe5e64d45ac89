// Linear histogram of write() sizes in a per-CPU array, 256-byte buckets, with a bounded loop
// to find the bucket (as a table lookup would) and a running total per CPU.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define BUCKETS 16
#define STEP 256

struct hist {
	__u64 slots[BUCKETS];
	__u64 total_bytes;
	__u64 calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hist);
} write_hist SEC(".maps");

SEC("kprobe/ksys_write")
int BPF_KPROBE(write_entry, unsigned int fd, const char *buf, __u64 count)
{
	__u32 zero = 0, i, slot = BUCKETS - 1;
	struct hist *h = bpf_map_lookup_elem(&write_hist, &zero);

	if (!h)
		return 0;
	for (i = 0; i < BUCKETS - 1; i++) {
		if (count < (__u64)(i + 1) * STEP) {
			slot = i;
			break;
		}
	}
	h->slots[slot]++;
	h->total_bytes += count;
	h->calls++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
