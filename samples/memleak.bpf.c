// A memory leak finder in the manner of bcc's memleak: every __kmalloc that returns memory is
// remembered (size, caller, time) until kfree gives it back; what is still there at the end is
// outstanding, and what stays outstanding for long is the leak.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct pending {
	__u64 size;
	__u64 call_site;
};

struct allocation {
	__u64 size;
	__u64 call_site;
	__u64 ts;
	__u32 pid;
	__u32 reserved;
};

/* sizes asked for, by thread, between __kmalloc's entry and its return */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct pending);
} asked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);	/* address */
	__type(value, struct allocation);
} outstanding SEC(".maps");

__u64 frees_unknown = 0;

SEC("kprobe/__kmalloc")
int BPF_KPROBE(kmalloc_enter, size_t size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending p = { .size = size };

	BPF_KPROBE_READ_RET_IP(p.call_site, ctx);
	bpf_map_update_elem(&asked, &tid, &p, BPF_ANY);
	return 0;
}

SEC("kretprobe/__kmalloc")
int BPF_KRETPROBE(kmalloc_return, void *address)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct pending *p = bpf_map_lookup_elem(&asked, &tid);
	struct allocation a = {};
	__u64 key = (__u64)address;

	if (!p)
		return 0;
	if (address) {
		a.size = p->size;
		a.call_site = p->call_site;
		a.ts = bpf_ktime_get_ns();
		a.pid = id >> 32;
		bpf_map_update_elem(&outstanding, &key, &a, BPF_ANY);
	}
	bpf_map_delete_elem(&asked, &tid);
	return 0;
}

SEC("kprobe/kfree")
int BPF_KPROBE(kfree_enter, const void *address)
{
	__u64 key = (__u64)address;

	if (bpf_map_delete_elem(&outstanding, &key) != 0)
		__sync_fetch_and_add(&frees_unknown, 1);
	return 0;
}
