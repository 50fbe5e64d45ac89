// One program, many attachments: the same counter is attached to several kernel functions,
// each attachment with its own bpf_cookie, and the program tells them apart with
// bpf_get_attach_cookie() - the use the BPF perf link's cookie was made for.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define MAX_COOKIES 64

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_COOKIES);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

/* No target in the section: user space attaches it, once per function, with a cookie. */
SEC("kprobe")
int count_by_cookie(struct pt_regs *ctx)
{
	__u32 cookie = bpf_get_attach_cookie(ctx);
	__u64 *count = bpf_map_lookup_elem(&calls, &cookie);

	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}
