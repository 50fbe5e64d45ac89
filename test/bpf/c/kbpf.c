// The running kernel as an oracle for test/bpf and test/helpers: runs a script of bpf()
// commands through the raw system call and prints one result line per command. Nothing is
// attached; programs are only loaded (and socket filters run with BPF_PROG_TEST_RUN).
//
// Script (stdin), one command per line; HEX is a little-endian byte dump, "-" an empty one:
//   map TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES FLAGS        -> "map <index>" or "map -errno"
//   update MAP KEY VALUE                                  -> "update 0|-errno"
//   freeze MAP                                            -> "freeze 0|-errno"
//   lookup MAP KEY                                        -> "lookup 0 HEX" or "lookup -errno"
//   load TYPE LICENSE LOG_LEVEL LOG_SIZE NAME INSNS       (NAME "-" for none; LICENSE with '_'
//                                                          for spaces; lddw src 1/2 imm = map index)
//       -> "load <prog index> tag=HEX xlated=N" or "load -errno", then "log HEX" (the log
//          buffer up to its NUL) when LOG_LEVEL > 0
//   loadcnt TYPE INSN_CNT INSNS                           (insn_cnt given apart from the buffer)
//   run PROG DATA_IN REPEAT [DATA_OUT_SIZE]               -> "run <errno> retval=N size=N out=HEX"
//   setprog MAP KEY PROG                                  (a prog array slot = a loaded program)
//                                                         -> "setprog 0|-errno"
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_OBJS 64
#define MAX_BYTES (1 << 20)

static int maps[MAX_OBJS], nmaps;
static int progs[MAX_OBJS], nprogs;
static unsigned char buf1[MAX_BYTES], buf2[MAX_BYTES], logbuf[MAX_BYTES];

static int sys_bpf(int cmd, union bpf_attr *attr) {
  long r = syscall(__NR_bpf, cmd, attr, sizeof *attr);
  return r < 0 ? -errno : (int)r;
}

static int unhex(const char *s, unsigned char *out) {
  if (strcmp(s, "-") == 0) return 0;
  int n = 0;
  for (; s[0] && s[1]; s += 2) {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = (unsigned char)v;
  }
  return n;
}

static void hex(const unsigned char *p, int n) {
  for (int i = 0; i < n; i++) printf("%02x", p[i]);
  if (n == 0) printf("-");
}

// lddw with src_reg 1 (map fd) or 2 (map value): imm is a map index of this script.
static void patch_maps(struct bpf_insn *insns, int n) {
  for (int i = 0; i < n; i++) {
    if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
        (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE) &&
        insns[i].imm >= 0 && insns[i].imm < nmaps)
      insns[i].imm = maps[insns[i].imm];
  }
}

static void load(char *args) {
  unsigned type, level, size;
  char license[256], name[64], text[2 * MAX_BYTES + 1];
  if (sscanf(args, "%u %255s %u %u %63s %s", &type, license, &level, &size, name, text) != 6) {
    printf("load bad-command\n");
    return;
  }
  for (char *c = license; *c; c++)
    if (*c == '_') *c = ' ';
  if (strcmp(license, "-") == 0) license[0] = 0;
  int n = unhex(text, buf1) / 8;
  patch_maps((struct bpf_insn *)buf1, n);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  memset(logbuf, 0, sizeof logbuf);
  attr.prog_type = type;
  attr.insns = (uint64_t)(uintptr_t)buf1;
  attr.insn_cnt = n;
  attr.license = (uint64_t)(uintptr_t)license;
  attr.log_level = level;
  attr.log_size = size;
  if (level || size) attr.log_buf = (uint64_t)(uintptr_t)logbuf;
  if (strcmp(name, "-") != 0) strncpy(attr.prog_name, name, sizeof attr.prog_name - 1);
  if (strlen(name) >= sizeof attr.prog_name) memcpy(attr.prog_name, name, sizeof attr.prog_name);
  int fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    printf("load %d\n", fd);
  } else {
    struct bpf_prog_info info;
    memset(&info, 0, sizeof info);
    union bpf_attr ia;
    memset(&ia, 0, sizeof ia);
    ia.info.bpf_fd = fd;
    ia.info.info_len = sizeof info;
    ia.info.info = (uint64_t)(uintptr_t)&info;
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &ia);
    progs[nprogs] = fd;
    printf("load %d tag=", nprogs++);
    hex(info.tag, 8);
    printf(" xlated=%u\n", info.xlated_prog_len / 8);
  }
  if (level) {
    printf("log ");
    hex(logbuf, (int)strnlen((char *)logbuf, sizeof logbuf));
    printf("\n");
  }
}

static void loadcnt(char *args) {
  unsigned type, cnt;
  char text[2 * MAX_BYTES + 1];
  if (sscanf(args, "%u %u %s", &type, &cnt, text) != 3) {
    printf("loadcnt bad-command\n");
    return;
  }
  unhex(text, buf1);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = type;
  attr.insns = (uint64_t)(uintptr_t)buf1;
  attr.insn_cnt = cnt;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  int fd = sys_bpf(BPF_PROG_LOAD, &attr);
  printf("loadcnt %d\n", fd < 0 ? fd : 0);
}

static void run(char *args) {
  int prog, repeat, out_size = -1;
  char text[2 * MAX_BYTES + 1];
  if (sscanf(args, "%d %s %d %d", &prog, text, &repeat, &out_size) < 3 || prog >= nprogs) {
    printf("run bad-command\n");
    return;
  }
  int n = unhex(text, buf1);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  memset(buf2, 0, sizeof buf2);
  attr.test.prog_fd = progs[prog];
  attr.test.data_in = (uint64_t)(uintptr_t)buf1;
  attr.test.data_size_in = n;
  attr.test.data_out = (uint64_t)(uintptr_t)buf2;
  attr.test.data_size_out = out_size >= 0 ? out_size : sizeof buf2;
  attr.test.repeat = repeat;
  int err = sys_bpf(BPF_PROG_TEST_RUN, &attr);
  int shown = attr.test.data_size_out;
  if (out_size >= 0 && shown > out_size) shown = out_size;
  printf("run %d retval=%d size=%u out=", err, (int)attr.test.retval, attr.test.data_size_out);
  hex(buf2, err == 0 || err == -ENOSPC ? shown : 0);
  printf("\n");
}

int main(void) {
  static char line[4 * MAX_BYTES];
  setvbuf(stdout, NULL, _IOLBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *args = strchr(line, ' ');
    args = args ? args + 1 : line + strlen(line);
    if (strncmp(line, "map ", 4) == 0) {
      union bpf_attr attr;
      memset(&attr, 0, sizeof attr);
      sscanf(args, "%u %u %u %u %u", &attr.map_type, &attr.key_size, &attr.value_size,
             &attr.max_entries, &attr.map_flags);
      int fd = sys_bpf(BPF_MAP_CREATE, &attr);
      if (fd < 0) printf("map %d\n", fd);
      else {
        maps[nmaps] = fd;
        printf("map %d\n", nmaps++);
      }
    } else if (strncmp(line, "update ", 7) == 0) {
      int m;
      char k[4096], v[2 * 65536 + 1];
      sscanf(args, "%d %4095s %s", &m, k, v);
      unhex(k, buf1);
      unhex(v, buf2);
      union bpf_attr attr;
      memset(&attr, 0, sizeof attr);
      attr.map_fd = maps[m];
      attr.key = (uint64_t)(uintptr_t)buf1;
      attr.value = (uint64_t)(uintptr_t)buf2;
      printf("update %d\n", sys_bpf(BPF_MAP_UPDATE_ELEM, &attr));
    } else if (strncmp(line, "setprog ", 8) == 0) {
      int m, p;
      unsigned key;
      sscanf(args, "%d %u %d", &m, &key, &p);
      union bpf_attr attr;
      memset(&attr, 0, sizeof attr);
      attr.map_fd = maps[m];
      attr.key = (uint64_t)(uintptr_t)&key;
      attr.value = (uint64_t)(uintptr_t)&progs[p];
      printf("setprog %d\n", sys_bpf(BPF_MAP_UPDATE_ELEM, &attr));
    } else if (strncmp(line, "freeze ", 7) == 0) {
      union bpf_attr attr;
      memset(&attr, 0, sizeof attr);
      attr.map_fd = maps[atoi(args)];
      printf("freeze %d\n", sys_bpf(BPF_MAP_FREEZE, &attr));
    } else if (strncmp(line, "lookup ", 7) == 0) {
      int m;
      char k[4096];
      sscanf(args, "%d %4095s", &m, k);
      unhex(k, buf1);
      memset(buf2, 0, 65536);
      union bpf_attr info_attr;
      struct bpf_map_info info;
      memset(&info, 0, sizeof info);
      memset(&info_attr, 0, sizeof info_attr);
      info_attr.info.bpf_fd = maps[m];
      info_attr.info.info_len = sizeof info;
      info_attr.info.info = (uint64_t)(uintptr_t)&info;
      sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &info_attr);
      union bpf_attr attr;
      memset(&attr, 0, sizeof attr);
      attr.map_fd = maps[m];
      attr.key = (uint64_t)(uintptr_t)buf1;
      attr.value = (uint64_t)(uintptr_t)buf2;
      int err = sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr);
      printf("lookup %d ", err);
      hex(buf2, err == 0 ? (int)info.value_size : 0);
      printf("\n");
    } else if (strncmp(line, "load ", 5) == 0) {
      load(args);
    } else if (strncmp(line, "loadcnt ", 8) == 0) {
      loadcnt(args);
    } else if (strncmp(line, "run ", 4) == 0) {
      run(args);
    } else if (line[0]) {
      printf("unknown %s\n", line);
    }
  }
  return 0;
}
