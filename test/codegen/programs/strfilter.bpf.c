// String handling: copy a user string, compare it with a prefix in a loop, count matches and
// log the length distribution; a bounded loop over the bytes.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

static const char prefix[] = "/etc/";

static __always_inline void bump(__u32 key)
{
  __u64 *v = bpf_map_lookup_elem(&stats, &key);
  if (v)
    __sync_fetch_and_add(v, 1);
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(filter_open, int dfd, const char *filename)
{
  char buf[32];
  int len = bpf_probe_read_user_str(buf, sizeof(buf), filename);
  if (len <= 0)
    return 0;
  int match = 1;
  #pragma unroll
  for (int i = 0; i < sizeof(prefix) - 1; i++) {
    if (buf[i] != prefix[i]) {
      match = 0;
      break;
    }
  }
  bump(match ? 0 : 1);
  int slashes = 0;
  for (int i = 0; i < 16; i++)
    slashes += buf[i] == '/';
  bump(slashes > 3 ? 3 : 2);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
