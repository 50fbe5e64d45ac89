// Exit statuses: do_exit's code split into exit status and signal with shifts and masks, a
// signed histogram by status and a per-signal count.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __s32);
	__type(value, __u64);
} by_status SEC(".maps");

__u64 by_signal[32];
__u64 core_dumps;

SEC("kprobe/do_exit")
int BPF_KPROBE(exit_code, long code)
{
	__s32 status = (__s8)((code >> 8) & 0xff);
	__u32 sig = code & 0x7f;
	__u64 *v, one = 1;

	if (code & 0x80)
		core_dumps++;
	by_signal[sig & 31]++;
	v = bpf_map_lookup_elem(&by_status, &status);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&by_status, &status, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
