// Struct copies and zeroing: nested structs assigned whole, arrays of structs, zero
// initialisers, __builtin_memcpy/__builtin_memset and struct values stored in maps.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct point { __u32 x, y; };
struct rect { struct point lo, hi; };
struct record {
	struct rect box;
	struct point history[4];
	__u64 stamp;
	char name[12];
	__u32 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct record);
} records SEC(".maps");

struct record template = { .box = { { 1, 2 }, { 3, 4 } }, .name = "template", .n = 0 };
struct record last;

static __always_inline struct point make_point(__u32 a, __u32 b)
{
	struct point p = { .x = a, .y = b };
	return p;
}

SEC("kprobe/ksys_read")
int BPF_KPROBE(copy_structs, unsigned int fd, char *buf, __u64 count)
{
	__u32 key = fd & 15;
	struct record r, *existing;
	struct point p = make_point(fd, (__u32)count);

	existing = bpf_map_lookup_elem(&records, &key);
	if (existing) {
		existing->history[existing->n & 3] = p;
		existing->n++;
		existing->box.hi = existing->box.lo;
		existing->box.lo = p;
		last = *existing;
		return 0;
	}
	r = template;
	r.box.lo = p;
	__builtin_memset(r.history, 0, sizeof(r.history));
	r.history[0] = p;
	r.stamp = count;
	__builtin_memcpy(r.name, "first", 6);
	r.n = 1;
	bpf_map_update_elem(&records, &key, &r, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
