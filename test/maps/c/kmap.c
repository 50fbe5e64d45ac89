// Runs a script of BPF map operations against the running kernel through the raw bpf() system
// call and prints one result line per operation, so test/maps/kernel.test.ts can run the same
// script on tsbpf's maps and compare. Nothing is attached; programs loaded here are socket
// filters that only serve as PROG_ARRAY values.
//
// Script (stdin), one operation per line; hex strings are little-endian byte dumps, "-" is a
// NULL pointer:
//   create TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES MAP_FLAGS [NUMA_NODE [MAP_EXTRA]]
//   update KEY VALUE FLAGS        (VALUE may be @prog or @perf: the fd loaded/opened below)
//   lookup KEY [FLAGS]
//   delete KEY
//   next KEY
//   freeze
//   walk                          (next from NULL, then from each key until -ENOENT, looking
//                                  each key up: prints one "next" and one "lookup" line per key)
//   cpu N                         (move this process to CPU N; per-CPU lists follow it)
//   prog                          (load "r0 = 0; exit" as a socket filter)
//   perf                          (open a PERF_COUNT_SW_BPF_OUTPUT event on this CPU)
//   run INSNS                     (load the hex instructions as a socket filter, every lddw
//                                  with src_reg 1 naming the current map, and run it once with
//                                  BPF_PROG_TEST_RUN on this CPU: prints r0 as a signed int)
//   ring                          (a ring buffer's consumer and producer positions and its data
//                                  pages as the user's mmap sees them)
//   consume                       (read committed records as libbpf does: one "sample HEX" line
//                                  each, discarded ones skipped, then the consumer position)
// Output: "<op> <result>" where result is 0 or -errno, plus " HEX" for a successful lookup
// or next. The first line printed is "cpus N" (possible CPUs, the per-CPU value count).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int map_fd = -1;
static unsigned max_entries;
static int prog_fd = -1;
static int perf_fd = -1;
static unsigned map_type, key_size, value_size;
static int possible_cpus = 1;

static int sys_bpf(int cmd, union bpf_attr *attr) {
  long r = syscall(__NR_bpf, cmd, attr, sizeof *attr);
  return r < 0 ? -errno : (int)r;
}

// "0-3" or "0" in /sys/devices/system/cpu/possible: the last number + 1.
static int count_possible_cpus(void) {
  FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
  char line[128];
  if (!f) return 1;
  if (!fgets(line, sizeof line, f)) {
    fclose(f);
    return 1;
  }
  fclose(f);
  char *last = strrchr(line, '-');
  if (!last) last = strrchr(line, ',');
  return atoi(last ? last + 1 : line) + 1;
}

static int is_percpu(unsigned type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static int is_fd_map(unsigned type) {
  return type == BPF_MAP_TYPE_PROG_ARRAY || type == BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
         type == BPF_MAP_TYPE_CGROUP_ARRAY || type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
         type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

// The size of the value buffer the syscall reads and writes, as libbpf computes it.
static size_t user_value_size(void) {
  if (is_percpu(map_type)) return (size_t)((value_size + 7) & ~7u) * possible_cpus;
  if (is_fd_map(map_type)) return 4;
  return value_size;
}

static int parse_hex(const char *text, unsigned char *out, size_t max, size_t *len) {
  size_t n = strlen(text);
  if (n % 2 || n / 2 > max) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned byte;
    if (sscanf(text + 2 * i, "%2x", &byte) != 1) return -1;
    out[i] = (unsigned char)byte;
  }
  *len = n / 2;
  return 0;
}

static void print_hex(const unsigned char *bytes, size_t len) {
  putchar(' ');
  for (size_t i = 0; i < len; i++) printf("%02x", bytes[i]);
}

static unsigned char key_buf[1 << 16], value_buf[1 << 20], next_buf[1 << 16];

// A key token: "-" is NULL, else hex bytes padded with zeroes to key_size.
static void *key_arg(const char *token, unsigned char *buf) {
  size_t len = 0;
  if (strcmp(token, "-") == 0) return NULL;
  memset(buf, 0, key_size);
  if (parse_hex(token, buf, sizeof key_buf, &len)) {
    fprintf(stderr, "bad key %s\n", token);
    exit(2);
  }
  return buf;
}

static int ring_fd;

static void op_create(char *args) {
  union bpf_attr attr;
  unsigned long long extra = 0;
  unsigned type, ks, vs, max, flags;
  int numa = 0;
  memset(&attr, 0, sizeof attr);
  int n = sscanf(args, "%u %u %u %u %u %d %llu", &type, &ks, &vs, &max, &flags, &numa, &extra);
  if (n < 5) {
    fprintf(stderr, "bad create\n");
    exit(2);
  }
  attr.map_type = type;
  attr.key_size = ks;
  attr.value_size = vs;
  attr.max_entries = max;
  attr.map_flags = flags;
  attr.numa_node = numa;
  attr.map_extra = extra;
  if (map_fd >= 0) close(map_fd);
  map_fd = sys_bpf(BPF_MAP_CREATE, &attr);
  ring_fd = -1; // the next ring/consume maps the new map
  map_type = type;
  max_entries = max;
  key_size = ks;
  value_size = vs;
  printf("create %d\n", map_fd < 0 ? map_fd : 0);
}

static void op_update(char *args) {
  char key[1 << 12], value[1 << 16];
  unsigned long long flags;
  union bpf_attr attr;
  size_t len = 0;
  if (sscanf(args, "%4095s %65535s %llu", key, value, &flags) != 3) exit(2);
  memset(&attr, 0, sizeof attr);
  memset(value_buf, 0, user_value_size());
  if (strcmp(value, "@prog") == 0) {
    memcpy(value_buf, &prog_fd, 4);
  } else if (strcmp(value, "@perf") == 0) {
    memcpy(value_buf, &perf_fd, 4);
  } else if (parse_hex(value, value_buf, sizeof value_buf, &len)) {
    exit(2);
  }
  attr.map_fd = map_fd;
  attr.key = (uintptr_t)key_arg(key, key_buf);
  attr.value = (uintptr_t)value_buf;
  attr.flags = flags;
  int r = sys_bpf(BPF_MAP_UPDATE_ELEM, &attr);
  printf("update %d\n", r < 0 ? r : 0);
}

static void op_lookup(char *args) {
  char key[1 << 12];
  unsigned long long flags = 0;
  union bpf_attr attr;
  if (sscanf(args, "%4095s %llu", key, &flags) < 1) exit(2);
  memset(&attr, 0, sizeof attr);
  // Poison the buffer: the kernel's writes (and what it leaves alone) show.
  memset(value_buf, 0xaa, user_value_size());
  attr.map_fd = map_fd;
  attr.key = (uintptr_t)key_arg(key, key_buf);
  attr.value = (uintptr_t)value_buf;
  attr.flags = flags;
  int r = sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
  printf("lookup %d", r < 0 ? r : 0);
  if (r >= 0) print_hex(value_buf, user_value_size());
  putchar('\n');
}

static void op_delete(char *args) {
  char key[1 << 12];
  union bpf_attr attr;
  if (sscanf(args, "%4095s", key) != 1) exit(2);
  memset(&attr, 0, sizeof attr);
  attr.map_fd = map_fd;
  attr.key = (uintptr_t)key_arg(key, key_buf);
  int r = sys_bpf(BPF_MAP_DELETE_ELEM, &attr);
  printf("delete %d\n", r < 0 ? r : 0);
}

static void op_next(char *args) {
  char key[1 << 12];
  union bpf_attr attr;
  if (sscanf(args, "%4095s", key) != 1) exit(2);
  memset(&attr, 0, sizeof attr);
  memset(next_buf, 0xaa, key_size);
  attr.map_fd = map_fd;
  attr.key = (uintptr_t)key_arg(key, key_buf);
  attr.next_key = (uintptr_t)next_buf;
  int r = sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr);
  printf("next %d", r < 0 ? r : 0);
  if (r >= 0) print_hex(next_buf, key_size);
  putchar('\n');
}

static void op_walk(void) {
  static unsigned char cur[1 << 16];
  union bpf_attr attr;
  int have = 0;
  for (;;) {
    memset(&attr, 0, sizeof attr);
    memset(next_buf, 0xaa, key_size);
    attr.map_fd = map_fd;
    attr.key = have ? (uintptr_t)cur : 0;
    attr.next_key = (uintptr_t)next_buf;
    int r = sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr);
    printf("next %d", r < 0 ? r : 0);
    if (r < 0) {
      putchar('\n');
      return;
    }
    print_hex(next_buf, key_size);
    putchar('\n');
    memcpy(cur, next_buf, key_size);
    have = 1;
    memset(&attr, 0, sizeof attr);
    memset(value_buf, 0xaa, user_value_size());
    attr.map_fd = map_fd;
    attr.key = (uintptr_t)cur;
    attr.value = (uintptr_t)value_buf;
    r = sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
    printf("lookup %d", r < 0 ? r : 0);
    if (r >= 0) print_hex(value_buf, user_value_size());
    putchar('\n');
  }
}

static void op_freeze(void) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = map_fd;
  int r = sys_bpf(BPF_MAP_FREEZE, &attr);
  printf("freeze %d\n", r < 0 ? r : 0);
}

static void op_cpu(char *args) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(atoi(args), &set);
  int r = sched_setaffinity(0, sizeof set, &set) ? -errno : 0;
  printf("cpu %d\n", r);
}

static void op_prog(void) {
  static const struct bpf_insn insns[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (uintptr_t)insns;
  attr.insn_cnt = 2;
  attr.license = (uintptr_t)"GPL";
  prog_fd = sys_bpf(BPF_PROG_LOAD, &attr);
  printf("prog %d\n", prog_fd < 0 ? prog_fd : 0);
}

static void op_perf(void) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_BPF_OUTPUT;
  attr.sample_type = PERF_SAMPLE_RAW;
  attr.sample_period = 1;
  attr.wakeup_events = 1;
  perf_fd = (int)syscall(__NR_perf_event_open, &attr, -1, sched_getcpu(), -1, 0);
  printf("perf %d\n", perf_fd < 0 ? -errno : 0);
}

static void op_run(char *args) {
  static unsigned char insns[1 << 16];
  static char log_buf[1 << 16];
  static unsigned char packet[64];
  size_t len = 0;
  union bpf_attr attr;
  if (parse_hex(args, insns, sizeof insns, &len) || len % 8) exit(2);
  for (size_t i = 0; i + 8 <= len; i += 8) {
    struct bpf_insn *insn = (struct bpf_insn *)(insns + i);
    if (insn->code == (BPF_LD | BPF_DW | BPF_IMM) && insn->src_reg == BPF_PSEUDO_MAP_FD)
      insn->imm = map_fd;
  }
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (uintptr_t)insns;
  attr.insn_cnt = len / 8;
  attr.license = (uintptr_t)"GPL";
  int fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    // Again with the verifier's log, to say why.
    attr.log_buf = (uintptr_t)log_buf;
    attr.log_size = sizeof log_buf;
    attr.log_level = 1;
    log_buf[0] = 0;
    sys_bpf(BPF_PROG_LOAD, &attr);
    for (char *p = log_buf; *p; p++)
      if (*p == '\n') *p = '|';
    printf("run load %d %s\n", fd, log_buf);
    return;
  }
  memset(&attr, 0, sizeof attr);
  attr.test.prog_fd = fd;
  attr.test.data_in = (uintptr_t)packet;
  attr.test.data_size_in = sizeof packet;
  attr.test.repeat = 1;
  int r = sys_bpf(BPF_PROG_TEST_RUN, &attr);
  close(fd);
  if (r < 0) printf("run test_run %d\n", r);
  else printf("run %d\n", (int)attr.test.retval);
}

// The ring buffer map's pages: consumer (read-write) and producer + data twice (read-only).
static volatile unsigned long *ring_consumer;
static volatile unsigned long *ring_producer;
static unsigned char *ring_data;

static int map_ring(void) {
  long page = sysconf(_SC_PAGESIZE);
  if (ring_fd == map_fd) return 0;
  void *cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  void *prod = mmap(NULL, page + 2 * (size_t)max_entries, PROT_READ, MAP_SHARED, map_fd, page);
  if (cons == MAP_FAILED || prod == MAP_FAILED) return -errno;
  ring_consumer = cons;
  ring_producer = prod;
  ring_data = (unsigned char *)prod + page;
  ring_fd = map_fd;
  return 0;
}

static void op_ring(void) {
  int r = map_ring();
  if (r) {
    printf("ring %d\n", r);
    return;
  }
  printf("ring %lu %lu", *ring_consumer, *ring_producer);
  print_hex(ring_data, max_entries);
  putchar('\n');
}

static void op_consume(void) {
  int r = map_ring();
  if (r) {
    printf("consume %d\n", r);
    return;
  }
  unsigned long cons = *ring_consumer, prod = __atomic_load_n(ring_producer, __ATOMIC_ACQUIRE);
  unsigned long mask = max_entries - 1;
  while (cons < prod) {
    uint32_t len = __atomic_load_n((uint32_t *)(ring_data + (cons & mask)), __ATOMIC_ACQUIRE);
    if (len & BPF_RINGBUF_BUSY_BIT) break;
    uint32_t size = len & ~BPF_RINGBUF_DISCARD_BIT;
    if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
      printf("sample");
      print_hex(ring_data + (cons & mask) + BPF_RINGBUF_HDR_SZ, size);
      putchar('\n');
    }
    cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
    __atomic_store_n(ring_consumer, cons, __ATOMIC_RELEASE);
  }
  printf("consume %lu\n", cons);
}

int main(void) {
  char line[1 << 17];
  possible_cpus = count_possible_cpus();
  // Start on CPU 0, so the per-CPU LRU lists a script touches are always the same.
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof set, &set);
  printf("cpus %d\n", possible_cpus);
  while (fgets(line, sizeof line, stdin)) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    char *op = line + strspn(line, " \t");
    char *args = strchr(op, ' ');
    if (args) *args++ = 0;
    else args = op + strlen(op);
    if (strcmp(op, "create") == 0) op_create(args);
    else if (strcmp(op, "update") == 0) op_update(args);
    else if (strcmp(op, "lookup") == 0) op_lookup(args);
    else if (strcmp(op, "delete") == 0) op_delete(args);
    else if (strcmp(op, "next") == 0) op_next(args);
    else if (strcmp(op, "freeze") == 0) op_freeze();
    else if (strcmp(op, "walk") == 0) op_walk();
    else if (strcmp(op, "run") == 0) op_run(args);
    else if (strcmp(op, "ring") == 0) op_ring();
    else if (strcmp(op, "consume") == 0) op_consume();
    else if (strcmp(op, "cpu") == 0) op_cpu(args);
    else if (strcmp(op, "prog") == 0) op_prog();
    else if (strcmp(op, "perf") == 0) op_perf();
    else if (op[0] == 0 || op[0] == '#') continue;
    else {
      fprintf(stderr, "unknown op %s\n", op);
      return 2;
    }
    fflush(stdout);
  }
  return 0;
}
