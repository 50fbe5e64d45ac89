// Latency of vfs_read by start/end pairs: a kprobe stores the start time per thread, the
// kretprobe computes the delta and adds it to a log2 histogram.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 26

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u64);
} start SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, MAX_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} hist SEC(".maps");

const volatile __u32 target_tgid = 0;

static __always_inline __u32 log2l(__u64 v)
{
  __u32 r = 0;
  #pragma unroll
  for (int i = 5; i >= 0; i--) {
    __u32 shift = 1u << i;
    if (v >= (1ULL << shift)) { v >>= shift; r += shift; }
  }
  return r;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(read_entry)
{
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = id;
  if (target_tgid && (id >> 32) != target_tgid)
    return 0;
  __u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
  return 0;
}

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(read_exit, long ret)
{
  __u32 tid = bpf_get_current_pid_tgid();
  __u64 *tsp = bpf_map_lookup_elem(&start, &tid);
  if (!tsp)
    return 0;
  __u64 delta = (bpf_ktime_get_ns() - *tsp) / 1000;
  bpf_map_delete_elem(&start, &tid);
  __u32 slot = log2l(delta);
  if (slot >= MAX_SLOTS)
    slot = MAX_SLOTS - 1;
  __u64 *count = bpf_map_lookup_elem(&hist, &slot);
  if (count)
    __sync_fetch_and_add(count, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
