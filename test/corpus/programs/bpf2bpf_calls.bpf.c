// BPF-to-BPF calls: static noinline helpers with one to five arguments, a global function in
// .text, calls between them, and results folded into a map.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

static __noinline __u64 mix(__u64 a, __u64 b, __u32 c, __u16 d, __u8 e)
{
	__u64 h = a * 31 + b;

	h ^= (__u64)c << 7;
	h += d * 3;
	return h - e;
}

static __noinline __u32 clamp(__u32 v, __u32 lo, __u32 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static __noinline void store(__u32 slot, __u64 value)
{
	__u64 *v = bpf_map_lookup_elem(&results, &slot);

	if (v)
		*v += value;
}

__noinline int global_score(__u64 size, __u32 fd)
{
	return clamp(size >> 4, 1, 100) + (fd & 7);
}

SEC("kprobe/ksys_read")
int BPF_KPROBE(calls_read, unsigned int fd, char *buf, __u64 count)
{
	__u64 id = bpf_get_current_pid_tgid();

	store(0, 1);
	store(1, mix(id >> 32, count, fd, (__u16)count, (__u8)fd));
	store(2 + (clamp(count, 0, 4096) >> 11), global_score(count, fd));
	return 0;
}

SEC("kprobe/ksys_write")
int BPF_KPROBE(calls_write, unsigned int fd, const char *buf, __u64 count)
{
	store(5, global_score(count, fd));
	store(6, clamp(fd, 3, 9));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
