// Classifying syscall ids with a switch inside a bounded loop over an argument array.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 8);
  __type(key, __u32);
  __type(value, __u64);
} classes SEC(".maps");

static __always_inline __u32 classify(long id)
{
  switch (id) {
  case 0: case 1: case 17: case 18: return 1;  /* read/write */
  case 2: case 257: return 2;                 /* open */
  case 3: return 3;                           /* close */
  case 56: case 57: case 58: return 4;        /* clone/fork */
  case 59: case 322: return 5;                /* exec */
  case 60: case 231: return 6;                /* exit */
  default: return 0;
  }
}

SEC("tracepoint/raw_syscalls/sys_enter")
int on_sys_enter(struct { __u64 pad; long id; unsigned long args[6]; } *ctx)
{
  __u32 cls = classify(ctx->id);
  __u64 *c = bpf_map_lookup_elem(&classes, &cls);
  if (c)
    __sync_fetch_and_add(c, 1);
  __u32 zeros = 0;
  for (int i = 0; i < 6; i++)
    if (ctx->args[i] == 0)
      zeros++;
  __u32 key = 7;
  __u64 *z = bpf_map_lookup_elem(&classes, &key);
  if (z)
    *z += zeros;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
