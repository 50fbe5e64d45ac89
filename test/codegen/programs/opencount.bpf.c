// Counts openat calls per process, keyed by tgid (a per-process counter).
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 10240);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(count_open, int dfd, const char *filename)
{
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  __u64 *v = bpf_map_lookup_elem(&counts, &tgid);
  if (!v) {
    __u64 one = 1;
    bpf_map_update_elem(&counts, &tgid, &one, BPF_NOEXIST);
    return 0;
  }
  __sync_fetch_and_add(v, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
