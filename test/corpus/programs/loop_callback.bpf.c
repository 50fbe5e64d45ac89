// bpf_loop with a callback: the callback's address is loaded with lddw, the context is a
// struct on the stack; it walks a table of weights to score a read.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const __u32 weights[16] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3 };

struct loop_ctx {
	__u64 count;
	__u64 score;
	__u32 steps;
};

__u64 total_score, total_steps, loop_results;

static long score_step(__u32 index, void *data)
{
	struct loop_ctx *c = data;

	if (index >= 16)
		return 1;
	if ((c->count >> index) & 1)
		c->score += weights[index];
	c->steps++;
	return c->score > 40;
}

SEC("kprobe/ksys_read")
int BPF_KPROBE(loop_read, unsigned int fd, char *buf, __u64 count)
{
	struct loop_ctx c = { .count = count, .score = 0, .steps = 0 };
	long n = bpf_loop(16, score_step, &c, 0);

	total_score += c.score;
	total_steps += c.steps;
	loop_results += n;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
