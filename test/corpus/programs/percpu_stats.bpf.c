// Per-CPU counters without atomics: packets received per CPU in a per-CPU array and bytes per
// reason in a per-CPU hash, plus the CPU each event ran on.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct cpu_stats {
	__u64 packets;
	__u64 last_cpu;
	__u64 events;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_stats);
} rx_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} by_cpu SEC(".maps");

SEC("kprobe/netif_receive_skb")
int BPF_KPROBE(rx, void *skb)
{
	__u32 zero = 0, cpu = bpf_get_smp_processor_id();
	struct cpu_stats *s = bpf_map_lookup_elem(&rx_stats, &zero);
	__u64 *n, one = 1;

	if (s) {
		s->packets++;
		s->last_cpu = cpu;
		s->events += 2;
	}
	n = bpf_map_lookup_elem(&by_cpu, &cpu);
	if (n)
		(*n)++;
	else
		bpf_map_update_elem(&by_cpu, &cpu, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
