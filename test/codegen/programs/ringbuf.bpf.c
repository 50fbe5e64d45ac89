// Ring buffer records: reserve, fill, submit or discard.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct rec {
  __u64 ts;
  __u32 pid;
  __u32 flags;
  char comm[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} rb SEC(".maps");

SEC("kprobe/vfs_write")
int BPF_KPROBE(write_entry, void *file, const char *buf, __u64 count)
{
  struct rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
  if (!r)
    return 0;
  r->ts = bpf_ktime_get_ns();
  r->pid = bpf_get_current_pid_tgid() >> 32;
  r->flags = count > 4096 ? 1 : 0;
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  if (r->comm[0] == 0) {
    bpf_ringbuf_discard(r, 0);
    return 0;
  }
  bpf_ringbuf_submit(r, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
