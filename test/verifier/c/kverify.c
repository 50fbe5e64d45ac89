// Loads raw BPF programs into the running kernel only to hear the verifier's verdict and log
// (nothing is attached), with test maps created through BPF_MAP_CREATE.
//
// Input (stdin), one block per program:
//   prog <prog_type> <log_level> <kern_version> <license>
//   map <fd_in_program> <type> <key_size> <value_size> <max_entries> <flags> <freeze>
//       [<inner_type> <inner_key_size> <inner_value_size> <inner_max_entries> <inner_flags>]
// (the inner part, for a map of maps, describes the template inner map)
//   insn <code> <dst> <src> <off> <imm>
//   end
// An lddw with src_reg BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE whose imm equals a map's
// <fd_in_program> gets that map's real fd. Output, per block:
//   result OK | result REJECT errno=<n> | result MAPFAIL errno=<n>
//   the verifier log, verbatim
//   end
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_INSNS (1 << 20)
#define MAX_MAPS 16

static struct bpf_insn insns[MAX_INSNS];
static char log_buf[1 << 24];

static long bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int create_map(unsigned type, unsigned key, unsigned value, unsigned max, unsigned flags,
                      int freeze, int inner_fd) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = type;
  attr.key_size = key;
  attr.value_size = value;
  attr.max_entries = max;
  attr.map_flags = flags;
  attr.inner_map_fd = inner_fd > 0 ? inner_fd : 0;
  int fd = bpf(BPF_MAP_CREATE, &attr);
  if (fd < 0 || !freeze) return fd;
  memset(&attr, 0, sizeof attr);
  attr.map_fd = fd;
  if (bpf(BPF_MAP_FREEZE, &attr) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

int main(void) {
  char line[512];
  unsigned prog_type = 0, log_level = 1, kern_version = 0;
  char license[128] = "GPL";
  int ids[MAX_MAPS], fds[MAX_MAPS], nmaps = 0, map_failed = 0, map_errno = 0;
  size_t n = 0;
  while (fgets(line, sizeof line, stdin)) {
    if (strncmp(line, "prog ", 5) == 0) {
      sscanf(line + 5, "%u %u %u %127[^\n]", &prog_type, &log_level, &kern_version, license);
      n = 0;
      nmaps = 0;
      map_failed = 0;
    } else if (strncmp(line, "map ", 4) == 0) {
      int id, freeze;
      unsigned type, key, value, max, flags, itype, ikey, ivalue, imax, iflags;
      int fields = sscanf(line + 4, "%d %u %u %u %u %u %d %u %u %u %u %u", &id, &type, &key,
                          &value, &max, &flags, &freeze, &itype, &ikey, &ivalue, &imax, &iflags);
      // A map of maps is created from a template inner map, which is closed afterwards.
      int inner_fd = 0;
      if (fields == 12) inner_fd = create_map(itype, ikey, ivalue, imax, iflags, 0, 0);
      int fd = inner_fd < 0 ? -1 : create_map(type, key, value, max, flags, freeze, inner_fd);
      if (inner_fd > 0) {
        int err = errno;
        close(inner_fd);
        errno = err;
      }
      if (fd < 0) {
        map_failed = 1;
        map_errno = errno;
      } else if (nmaps < MAX_MAPS) {
        ids[nmaps] = id;
        fds[nmaps++] = fd;
      }
    } else if (strncmp(line, "insn ", 5) == 0 && n < MAX_INSNS) {
      int code, dst, src, off, imm;
      sscanf(line + 5, "%d %d %d %d %d", &code, &dst, &src, &off, &imm);
      insns[n].code = code;
      insns[n].dst_reg = dst;
      insns[n].src_reg = src;
      insns[n].off = off;
      insns[n].imm = imm;
      n++;
    } else if (strncmp(line, "end", 3) == 0) {
      // Map references name test fds: give them the kernel's.
      for (size_t i = 0; i + 1 < n; i++) {
        if (insns[i].code != (BPF_LD | BPF_IMM | BPF_DW)) continue;
        if (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE) {
          for (int m = 0; m < nmaps; m++)
            if (insns[i].imm == ids[m]) insns[i].imm = fds[m];
        }
        i++;
      }
      if (map_failed) {
        printf("result MAPFAIL errno=%d\nend\n", map_errno);
      } else {
        union bpf_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.prog_type = prog_type;
        attr.insns = (uintptr_t)insns;
        attr.insn_cnt = n;
        attr.license = (uintptr_t)license;
        attr.kern_version = kern_version;
        attr.log_buf = (uintptr_t)log_buf;
        attr.log_size = sizeof log_buf;
        attr.log_level = log_level;
        log_buf[0] = 0;
        int fd = bpf(BPF_PROG_LOAD, &attr);
        int err = errno;
        if (fd >= 0) {
          close(fd);
          printf("result OK\n");
        } else {
          printf("result REJECT errno=%d\n", err);
        }
        fputs(log_buf, stdout);
        if (log_buf[0] && log_buf[strlen(log_buf) - 1] != '\n') putchar('\n');
        printf("end\n");
      }
      for (int m = 0; m < nmaps; m++) close(fds[m]);
      nmaps = 0;
      fflush(stdout);
    }
  }
  return 0;
}
