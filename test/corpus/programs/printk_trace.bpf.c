// bpf_printk with integers of every width, strings and hex into trace_pipe, as a debugging
// session would, on process exit.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("kprobe/do_exit")
int BPF_KPROBE(exit_printk, long code)
{
	char comm[16];
	__u64 id = bpf_get_current_pid_tgid();

	bpf_get_current_comm(comm, sizeof(comm));
	bpf_printk("exit %s pid=%u", comm, (__u32)id);
	bpf_printk("code=%ld status=%d signal=%x", code, (int)((code >> 8) & 0xff), (unsigned int)(code & 0x7f));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
