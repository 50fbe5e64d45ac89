// A realistic kprobe program: maps, helpers, loops, bpf-to-bpf calls, globals, byte swaps.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

struct event {
  unsigned int pid;
  unsigned short port;
  unsigned char proto;
  signed char delta;
  long long latency;
  char comm[16];
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, unsigned int);
  __type(value, struct event);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 64);
  __type(key, unsigned int);
  __type(value, unsigned long long);
} histogram SEC(".maps");

volatile const unsigned int target_pid = 0;
unsigned long long total_calls = 0;
long long min_latency = 0x7fffffffffffffffLL;
static const char fmt[] = "pid %d port %u\n";

static __attribute__((noinline)) unsigned int log2_u64(unsigned long long v) {
  unsigned int r = 0;
  for (int i = 32; i > 0; i >>= 1) {
    if (v >= (1ULL << i)) {
      v >>= i;
      r += i;
    }
  }
  return r;
}

static __attribute__((noinline)) int classify(int proto, unsigned short port) {
  switch (proto) {
  case 6:
    return port == 80 ? 1 : port == 443 ? 2 : 3;
  case 17:
    return port < 1024 ? 4 : 5;
  case 1:
    return 6;
  default:
    return -1;
  }
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(trace_send, void *sk, void *msg, unsigned long size) {
  unsigned long long id = bpf_get_current_pid_tgid();
  unsigned int pid = id >> 32;
  if (target_pid && pid != target_pid) return 0;
  struct event ev = {};
  ev.pid = pid;
  unsigned short raw_port = 0;
  bpf_probe_read_kernel(&raw_port, sizeof(raw_port), (char *)sk + 12);
  ev.port = bpf_ntohs(raw_port);
  ev.proto = size & 0xff;
  ev.delta = (signed char)(size >> 3);
  ev.latency = (long long)bpf_ktime_get_ns() - (long long)size * 1000;
  bpf_get_current_comm(ev.comm, sizeof(ev.comm));
  bpf_map_update_elem(&events, &pid, &ev, BPF_ANY);
  unsigned int slot = log2_u64(size);
  if (slot >= 64) slot = 63;
  unsigned long long *count = bpf_map_lookup_elem(&histogram, &slot);
  if (count) *count += 1;
  __sync_fetch_and_add(&total_calls, 1);
  if (ev.latency < min_latency) min_latency = ev.latency;
  if (classify(ev.proto, ev.port) > 2) bpf_trace_printk(fmt, sizeof(fmt), pid, ev.port);
  return ev.delta < -3 ? 1 : 0;
}

SEC("kretprobe/tcp_sendmsg")
int BPF_KRETPROBE(trace_send_ret, long ret) {
  unsigned int pid = bpf_get_current_pid_tgid() >> 32;
  struct event *ev = bpf_map_lookup_elem(&events, &pid);
  if (!ev) return 0;
  if (ret < 0) {
    bpf_map_delete_elem(&events, &pid);
    return 0;
  }
  ev->latency = bpf_ktime_get_ns() - ev->latency;
  unsigned int h = 0;
  for (int i = 0; i < 16 && ev->comm[i]; i++) h = h * 31 + ev->comm[i];
  return (h % 7) ^ (unsigned int)((unsigned long long)ev->latency / 3);
}

char LICENSE[] SEC("license") = "GPL";
