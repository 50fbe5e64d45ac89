// Filter by command name: compare the current comm with a list of names held in .rodata and
// count matching writes per name; other commands are counted together.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NAMES 4
#define LEN 16

const char watched[NAMES][LEN] = { "bash", "sshd", "nginx", "postgres" };
__u64 matches[NAMES + 1];
__u64 matched_bytes;

static __always_inline int same_name(const char *a, const char *b)
{
	for (int i = 0; i < LEN; i++) {
		if (a[i] != b[i])
			return 0;
		if (a[i] == 0)
			return 1;
	}
	return 1;
}

SEC("kprobe/ksys_write")
int BPF_KPROBE(comm_write, unsigned int fd, const char *buf, __u64 count)
{
	char comm[LEN];
	int i;

	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < NAMES; i++) {
		if (same_name(comm, watched[i])) {
			matches[i]++;
			matched_bytes += count;
			return 0;
		}
	}
	matches[NAMES]++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
