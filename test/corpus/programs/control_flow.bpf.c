// Control flow: goto to a shared exit, ternaries, short-circuit && and ||, do-while, early
// returns, and nested conditions, all on process and size information.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

__u64 outcome[8];

SEC("kprobe/ksys_write")
int BPF_KPROBE(flow, unsigned int fd, const char *buf, __u64 count)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	int kind = 0;
	__u32 n = 0;

	if (fd > 1000)
		goto weird;
	if (fd <= 2 && count > 0)
		kind = fd == 1 ? 1 : 2;
	else if (count == 0 || (fd & 1 && count < 16))
		kind = 3;
	else
		kind = tgid == tid ? 4 : 5;
	do {
		n++;
		count >>= 3;
	} while (count && n < 10);
	outcome[kind]++;
	outcome[6] += n;
	return kind;
weird:
	outcome[7]++;
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
