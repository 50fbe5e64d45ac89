// Both ways of declaring helpers: the old `static long (*name)(...) = (void *) ID;` pointers
// written out by hand, and libbpf's bpf_helper_defs.h, in one program.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

static void *(*old_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*old_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static __u64 (*old_ktime_get_ns)(void) = (void *)5;
static __u64 (*old_get_current_pid_tgid)(void) = (void *)14;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} first_seen SEC(".maps");

__u64 via_old, via_new;

SEC("kprobe/tcp_close")
int BPF_KPROBE(tcp_close_enter, void *sk, long timeout)
{
	__u32 tgid = old_get_current_pid_tgid() >> 32;
	__u64 now = old_ktime_get_ns(), *seen;

	seen = old_map_lookup_elem(&first_seen, &tgid);
	if (!seen) {
		old_map_update_elem(&first_seen, &tgid, &now, BPF_NOEXIST);
		via_old++;
		return 0;
	}
	if (bpf_map_lookup_elem(&first_seen, &tgid))
		via_new++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
