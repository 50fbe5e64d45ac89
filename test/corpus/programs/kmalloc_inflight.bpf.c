// Outstanding kmalloc memory: the kretprobe of __kmalloc records each pointer's size, kfree
// forgets it; a log2 histogram of request sizes and byte totals alongside.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __u64);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} pending_size SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 24);
	__type(key, __u32);
	__type(value, __u64);
} size_hist SEC(".maps");

__u64 bytes_allocated, bytes_freed, unknown_frees;

SEC("kprobe/__kmalloc")
int BPF_KPROBE(kmalloc_enter, __u64 size, unsigned int flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 slot = 0;
	__u64 v = size, *bucket;

	bpf_map_update_elem(&pending_size, &tid, &size, BPF_ANY);
#pragma unroll
	for (int i = 0; i < 23; i++) {
		if (v > 1) {
			v >>= 1;
			slot++;
		}
	}
	bucket = bpf_map_lookup_elem(&size_hist, &slot);
	if (bucket)
		*bucket += 1;
	return 0;
}

SEC("kretprobe/__kmalloc")
int BPF_KRETPROBE(kmalloc_exit, void *ptr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *size = bpf_map_lookup_elem(&pending_size, &tid);
	__u64 key = (__u64)ptr;

	if (!size)
		return 0;
	if (ptr) {
		bpf_map_update_elem(&inflight, &key, size, BPF_ANY);
		__sync_fetch_and_add(&bytes_allocated, *size);
	}
	bpf_map_delete_elem(&pending_size, &tid);
	return 0;
}

SEC("kprobe/kfree")
int BPF_KPROBE(kfree_enter, void *ptr)
{
	__u64 key = (__u64)ptr;
	__u64 *size = bpf_map_lookup_elem(&inflight, &key);

	if (!size) {
		if (ptr)
			__sync_fetch_and_add(&unknown_frees, 1);
		return 0;
	}
	__sync_fetch_and_add(&bytes_freed, *size);
	bpf_map_delete_elem(&inflight, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
