// Maps of maps: an array of maps and a hash of maps declared with __array(values, ...) and
// initial inner maps, looked up in two steps per event.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} inner0 SEC(".maps"), inner1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} m_array_of_maps SEC(".maps") = { .values = { &inner0, &inner1 } };

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} m_hash_of_maps SEC(".maps") = { .values = { [2] = &inner1 } };

SEC("kprobe/vfs_fsync")
int BPF_KPROBE(fsync_maps)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 k = tgid & 1, two = 2, zero = 0;
	__u64 *v;
	void *inner;

	inner = bpf_map_lookup_elem(&m_array_of_maps, &k);
	if (inner && (v = bpf_map_lookup_elem(inner, &zero)))
		*v += tgid;
	inner = bpf_map_lookup_elem(&m_hash_of_maps, &two);
	if (inner && (v = bpf_map_lookup_elem(inner, &zero)))
		*v += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
