// The kernel samples' style: legacy maps, helper pointers declared by hand, a version section.
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <linux/version.h>

#define SEC(name) __attribute__((section(name), used))

static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *) BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value, unsigned long long flags) = (void *) BPF_FUNC_map_update_elem;
static unsigned long long (*bpf_get_current_pid_tgid)(void) = (void *) BPF_FUNC_get_current_pid_tgid;
static long (*bpf_trace_printk)(const char *fmt, unsigned int fmt_size, ...) = (void *) BPF_FUNC_trace_printk;

struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") my_map = {
  .type = BPF_MAP_TYPE_HASH,
  .key_size = sizeof(long),
  .value_size = sizeof(long),
  .max_entries = 1024,
};

SEC("kprobe/sys_write")
int bpf_prog1(struct pt_regs *ctx)
{
  long size = ctx->rdx;
  long key = bpf_get_current_pid_tgid() & 0xff;
  long *value = bpf_map_lookup_elem(&my_map, &key);
  if (value) {
    *value += size;
  } else {
    bpf_map_update_elem(&my_map, &key, &size, BPF_ANY);
  }
  if (size > 1000) {
    char fmt[] = "big write %ld\n";
    bpf_trace_printk(fmt, sizeof(fmt), size);
  }
  return 0;
}

char _license[] SEC("license") = "GPL";
unsigned int _version SEC("version") = LINUX_VERSION_CODE;
