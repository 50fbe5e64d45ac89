// Global variables in .data, .bss and .rodata: counters, a struct, an array indexed at run
// time, a const lookup table and a string in .rodata, and a static variable.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct totals {
	__u64 reads;
	__u64 bytes;
	__u32 max_fd;
	__u32 last_tgid;
};

__u64 calls = 0;			/* .bss */
__u64 seed = 0x9e3779b97f4a7c15ULL;	/* .data */
struct totals totals;			/* .bss */
__u64 per_fd[8];			/* .bss */
__u32 weights[4] = { 1, 3, 5, 7 };	/* .data */
const __u32 scale[4] = { 10, 100, 1000, 10000 };	/* .rodata */
const char tag[] = "reads";		/* .rodata */
static __u64 hidden_state = 42;		/* .data, static */

SEC("kprobe/ksys_read")
int BPF_KPROBE(globals_read, unsigned int fd, char *buf, __u64 count)
{
	__u32 i = fd & 3;

	calls++;
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	totals.reads++;
	totals.bytes += count * weights[i];
	if (fd > totals.max_fd)
		totals.max_fd = fd;
	totals.last_tgid = bpf_get_current_pid_tgid() >> 32;
	per_fd[fd & 7] += scale[i] / 10;
	hidden_state ^= count + tag[i & 3];
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
