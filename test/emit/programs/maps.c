/* Maps of every declaration style: legacy `maps`, BTF `.maps` with __uint/__type/__array,
 * a program array filled with programs, a map of maps, ring buffer, perf event array. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type, key_size, value_size, max_entries, map_flags;
};

struct bpf_map_def SEC("maps") legacy_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(int),
	.value_size = sizeof(long),
	.max_entries = 4,
};

struct key { unsigned int pid; char comm[16]; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct key);
	__type(value, unsigned long long);
} by_key SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, int);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, int);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

SEC("kprobe/tail") int tail_target(void *ctx) { return 7; }

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, int);
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(int));
	__uint(value_size, sizeof(int));
} perf SEC(".maps");

SEC("kprobe/do_sys_open") int uses_maps(void *ctx)
{
	struct key k = { .pid = bpf_get_current_pid_tgid() >> 32 };
	unsigned long long one = 1, *v;
	int zero = 0;
	long *l;
	void *in;

	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = bpf_map_lookup_elem(&by_key, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&by_key, &k, &one, BPF_NOEXIST);
	l = bpf_map_lookup_elem(&legacy_counts, &zero);
	if (l)
		*l += 1;
	in = bpf_map_lookup_elem(&outer, &zero);
	if (in)
		bpf_map_lookup_elem(in, &zero);
	bpf_ringbuf_output(&events, &k, sizeof(k), 0);
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &k, sizeof(k));
	bpf_tail_call(ctx, &jumps, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
unsigned int _version SEC("version") = 0x060100;
