// BTF-defined maps of every type the simulated kernel has, each touched by one program:
// hash, array, per-CPU hash and array, LRU and per-CPU LRU hash, stack trace, ring buffer,
// perf event array and program array (maps of maps: map_in_map.bpf.c).
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } m_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } m_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } m_pcpu_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } m_pcpu_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } m_lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } m_lru_pcpu SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(max_entries, 128); __uint(key_size, sizeof(__u32)); __uint(value_size, 127 * sizeof(__u64)); } m_stacks SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 16); } m_ringbuf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, sizeof(__u32)); __uint(value_size, sizeof(__u32)); } m_perf SEC(".maps");

SEC("kprobe")
int fsync_target(struct pt_regs *ctx) { return 0; }

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int (struct pt_regs *));
} m_progs SEC(".maps") = { .values = { [1] = (void *)&fsync_target } };

struct sample { __u32 tgid; __u32 cpu; __u64 stack; };

SEC("kprobe/vfs_fsync")
int use_all(struct pt_regs *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, cpu = bpf_get_smp_processor_id();
	__u32 k = tgid & 3;
	__u64 one = 1, *v;
	struct sample s = { .tgid = tgid, .cpu = cpu };

	if ((v = bpf_map_lookup_elem(&m_hash, &tgid))) *v += 1; else bpf_map_update_elem(&m_hash, &tgid, &one, BPF_ANY);
	if ((v = bpf_map_lookup_elem(&m_array, &k))) *v += 1;
	if ((v = bpf_map_lookup_elem(&m_pcpu_hash, &k))) *v += 1; else bpf_map_update_elem(&m_pcpu_hash, &k, &one, BPF_ANY);
	if ((v = bpf_map_lookup_elem(&m_pcpu_array, &k))) *v += 1;
	if ((v = bpf_map_lookup_elem(&m_lru, &tgid))) *v += 1; else bpf_map_update_elem(&m_lru, &tgid, &one, BPF_ANY);
	if ((v = bpf_map_lookup_elem(&m_lru_pcpu, &tgid))) *v += 1; else bpf_map_update_elem(&m_lru_pcpu, &tgid, &one, BPF_ANY);
	s.stack = bpf_get_stackid(ctx, &m_stacks, 0);
	bpf_ringbuf_output(&m_ringbuf, &s, sizeof(s), 0);
	bpf_perf_event_output(ctx, &m_perf, BPF_F_CURRENT_CPU, &s, sizeof(s));
	bpf_tail_call(ctx, &m_progs, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
