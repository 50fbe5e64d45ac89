// String handling: string literals on the stack passed to helpers, the path of unlinkat read
// with bpf_probe_read_kernel_str from the kernel's struct filename, a length count, a
// reversed copy and the extension after the last dot.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define LEN 16

struct name_info {
	char name[LEN];
	char reversed[LEN];
	char ext[8];
	__u32 len;
	__u32 slashes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct name_info);
} last SEC(".maps");

__u64 user_opens;

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_name, int dfd, const char *filename)
{
	__u32 zero = 0, i, n, dot = LEN;
	struct name_info *info = bpf_map_lookup_elem(&last, &zero);
	char marker[] = "user-open";

	if (!info)
		return 0;
	__builtin_memset(info, 0, sizeof(*info));
	if (bpf_probe_read_user_str(info->name, LEN, filename) <= 0)
		return 0;
	for (n = 0; n < LEN && info->name[n]; n++) {
		if (info->name[n] == '/')
			info->slashes++;
		if (info->name[n] == '.')
			dot = n;
	}
	info->len = n;
	for (i = 0; i < LEN; i++) {
		if (i < n)
			info->reversed[i] = info->name[(n - 1 - i) & (LEN - 1)];
	}
	for (i = 0; i < 7; i++) {
		if (dot + 1 + i < n)
			info->ext[i] = info->name[dot + 1 + i];
	}
	if (marker[0] == 'u' && n > 1)
		user_opens++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
