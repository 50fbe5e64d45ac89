// BPF-to-BPF calls and global data: noinline helpers in .text, counters in .data/.bss,
// a const volatile configuration in .rodata, a static local.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

const volatile __u64 sample_every = 4;
__u64 seen = 0;
__u64 sampled;
static __u32 last_cpu;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u64);
} per_cpu_hits SEC(".maps");

static __noinline __u64 mix(__u64 a, __u64 b)
{
  a ^= b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2);
  return a;
}

static __noinline int record(__u32 cpu, __u64 weight)
{
  __u64 *v = bpf_map_lookup_elem(&per_cpu_hits, &cpu);
  if (v) {
    *v += weight;
    return 1;
  }
  bpf_map_update_elem(&per_cpu_hits, &cpu, &weight, BPF_ANY);
  return 0;
}

SEC("kprobe/schedule")
int BPF_KPROBE(on_schedule)
{
  static __u64 calls;
  calls++;
  seen++;
  if (sample_every && seen % sample_every)
    return 0;
  sampled++;
  __u32 cpu = bpf_get_smp_processor_id();
  last_cpu = cpu;
  __u64 w = mix(bpf_get_current_pid_tgid(), calls);
  return record(cpu, (w & 7) + 1);
}

char LICENSE[] SEC("license") = "GPL";
