// String handling: copy the path given to openat from user memory, compare it with a few
// prefixes byte by byte, and count opens per prefix; the last path seen is kept in .bss.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define PATH_LEN 64

enum prefix { P_ETC, P_PROC, P_TMP, P_HOME, P_OTHER, P_FAULT, NR_PREFIXES };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_PREFIXES);
	__type(key, __u32);
	__type(value, __u64);
} by_prefix SEC(".maps");

char last_path[PATH_LEN];
__u32 last_len;

static __always_inline int starts_with(const char *s, const char *prefix, int n)
{
	for (int i = 0; i < n; i++) {
		if (s[i] != prefix[i])
			return 0;
	}
	return 1;
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_path, int dfd, const char *filename)
{
	char path[PATH_LEN] = {};
	__u32 kind = P_OTHER;
	__u64 *count;
	long len;

	len = bpf_probe_read_user_str(path, sizeof(path), filename);
	if (len < 0)
		kind = P_FAULT;
	else if (starts_with(path, "/etc/", 5))
		kind = P_ETC;
	else if (starts_with(path, "/proc/", 6))
		kind = P_PROC;
	else if (starts_with(path, "/tmp/", 5))
		kind = P_TMP;
	else if (starts_with(path, "/home/", 6))
		kind = P_HOME;
	count = bpf_map_lookup_elem(&by_prefix, &kind);
	if (count)
		__sync_fetch_and_add(count, 1);
	if (len > 0) {
		__builtin_memcpy(last_path, path, sizeof(path));
		last_len = len;
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
