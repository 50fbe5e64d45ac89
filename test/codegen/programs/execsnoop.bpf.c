// Process executions as events: comm, pid, a copy of the file name, sent through a perf buffer.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NAME_LEN 64
#define COMM_LEN 16

struct event {
  __u32 pid;
  __u32 ppid_unused;
  __s32 name_len;
  char comm[COMM_LEN];
  char name[NAME_LEN];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct event);
} scratch SEC(".maps");

SEC("kprobe/do_execveat_common")
int BPF_KPROBE(exec_entry, int fd, void *filename)
{
  __u32 zero = 0;
  struct event *e = bpf_map_lookup_elem(&scratch, &zero);
  if (!e)
    return 0;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  const char *name = 0;
  bpf_probe_read_kernel(&name, sizeof(name), filename);
  e->name_len = bpf_probe_read_kernel_str(e->name, sizeof(e->name), name);
  bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, sizeof(*e));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
