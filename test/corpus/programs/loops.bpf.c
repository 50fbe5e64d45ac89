// Loops over arrays: a #pragma unroll loop over a fixed table, a bounded while loop, a for loop
// with continue and break, a nested loop, and a loop over a map-held array.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define N 16

struct window {
	__u64 samples[N];
	__u32 pos;
	__u32 filled;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct window);
} win SEC(".maps");

const __u32 thresholds[8] = { 16, 64, 256, 1024, 4096, 16384, 65536, 262144 };
__u64 above[8];
__u64 moving_sum, moving_max, odd_samples, digit_sum;

SEC("kprobe/ksys_read")
int BPF_KPROBE(loops_read, unsigned int fd, char *buf, __u64 count)
{
	__u32 zero = 0, i, j;
	struct window *w = bpf_map_lookup_elem(&win, &zero);
	__u64 sum = 0, max = 0, v = count;

	if (!w)
		return 0;
#pragma unroll
	for (i = 0; i < 8; i++) {
		if (count >= thresholds[i])
			above[i]++;
	}
	w->samples[w->pos & (N - 1)] = count;
	w->pos++;
	if (w->filled < N)
		w->filled++;
	for (i = 0; i < N; i++) {
		if (i >= w->filled)
			break;
		if (w->samples[i] & 1) {
			odd_samples++;
			continue;
		}
		sum += w->samples[i];
		if (w->samples[i] > max)
			max = w->samples[i];
	}
	moving_sum = sum;
	moving_max = max;
	i = 0;
	while (v && i < 20) {
		digit_sum += v % 10;
		v /= 10;
		i++;
	}
	for (i = 0; i < 4; i++)
		for (j = 0; j < 4; j++)
			if (((count >> (i * 4 + j)) & 1) && i != j)
				digit_sum++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
