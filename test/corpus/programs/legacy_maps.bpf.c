// Every legacy map type a samples/bpf program of 2016 would declare in `maps`, used from one
// kretprobe: array, hash, per-CPU array and hash, LRU hash, and a program-owned perf array.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") arr = {
	.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 8,
};
struct bpf_map_def SEC("maps") hash = {
	.type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 16, .max_entries = 256,
};
struct bpf_map_def SEC("maps") pcpu_arr = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1,
};
struct bpf_map_def SEC("maps") pcpu_hash = {
	.type = BPF_MAP_TYPE_PERCPU_HASH, .key_size = 4, .value_size = 8, .max_entries = 64,
};
struct bpf_map_def SEC("maps") lru = {
	.type = BPF_MAP_TYPE_LRU_HASH, .key_size = 8, .value_size = 8, .max_entries = 32,
};

struct pair { __u64 calls; __u64 sum; };

SEC("kretprobe/ksys_read")
int read_ret(struct pt_regs *ctx)
{
	long ret = PT_REGS_RC(ctx);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 bucket = ret < 0 ? 0 : ret == 0 ? 1 : ret < 512 ? 2 : ret < 4096 ? 3 : 4;
	__u32 zero = 0;
	__u64 *v, one = 1, key64 = (__u64)ret & 0xfff0;
	struct pair *p, fresh = {};

	v = bpf_map_lookup_elem(&arr, &bucket);
	if (v)
		__sync_fetch_and_add(v, 1);
	p = bpf_map_lookup_elem(&hash, &tgid);
	if (p) {
		p->calls++;
		p->sum += ret > 0 ? ret : 0;
	} else {
		fresh.calls = 1;
		fresh.sum = ret > 0 ? ret : 0;
		bpf_map_update_elem(&hash, &tgid, &fresh, BPF_NOEXIST);
	}
	v = bpf_map_lookup_elem(&pcpu_arr, &zero);
	if (v)
		*v += 1;
	v = bpf_map_lookup_elem(&pcpu_hash, &bucket);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&pcpu_hash, &bucket, &one, BPF_ANY);
	v = bpf_map_lookup_elem(&lru, &key64);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&lru, &key64, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
