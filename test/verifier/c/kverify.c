// Loads raw BPF programs into the running kernel only to hear the verifier's verdict and log
// (nothing is attached), with test maps created through BPF_MAP_CREATE.
//
// Input (stdin), one block per program:
//   prog <prog_type> <log_level> <kern_version> <license>
//   map <fd_in_program> <type> <key_size> <value_size> <max_entries> <flags> <freeze>
//       [<inner_type> <inner_key_size> <inner_value_size> <inner_max_entries> <inner_flags>]
// (the inner part, for a map of maps, describes the template inner map)
//   funcs <n> <insn_off>:<linkage> ...      (optional: BTF func_info, one FUNC per subprogram)
//   insn <code> <dst> <src> <off> <imm>
//   end
// With `funcs`, a BTF object describing each subprogram as `int fK(void)` with the given linkage
// (0 static, 1 global) is loaded and passed with the program's func_info: the kernel needs it
// for callback addresses (lddw with BPF_PSEUDO_FUNC).
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

#define MAX_FUNCS 64
static struct bpf_func_info func_info[MAX_FUNCS];
static unsigned func_linkage[MAX_FUNCS];
static int nfuncs;

// A BTF object: [1] int, [2] int(void), [3..] FUNC fK with the subprogram's linkage.
static int load_btf(void) {
  static uint32_t buf[4096];
  static char strs[1024];
  uint32_t n = 0;
  int slen = 1;
  strs[0] = 0;
  memcpy(strs + slen, "int", 4);
  buf[n++] = slen;
  slen += 4;
  buf[n++] = 1u << 24; // BTF_KIND_INT
  buf[n++] = 4;
  buf[n++] = (1u << 24) | 32; // signed, 32 bits
  buf[n++] = 0;
  buf[n++] = 13u << 24; // BTF_KIND_FUNC_PROTO, no parameters
  buf[n++] = 1;
  for (int k = 0; k < nfuncs; k++) {
    int len = sprintf(strs + slen, "f%d", k);
    buf[n++] = slen;
    slen += len + 1;
    buf[n++] = (12u << 24) | func_linkage[k]; // BTF_KIND_FUNC
    buf[n++] = 2;
  }
  static unsigned char btf[sizeof buf + sizeof strs + 24];
  uint32_t hdr[6] = {0x0001eB9F, 24, 0, n * 4, n * 4, (uint32_t)slen};
  memcpy(btf, hdr, 24);
  memcpy(btf + 24, buf, n * 4);
  memcpy(btf + 24 + n * 4, strs, slen);
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.btf = (uintptr_t)btf;
  attr.btf_size = 24 + n * 4 + slen;
  return bpf(BPF_BTF_LOAD, &attr);
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
      nfuncs = 0;
    } else if (strncmp(line, "funcs ", 6) == 0) {
      char *p = line + 6;
      int count = (int)strtol(p, &p, 10);
      for (int k = 0; k < count && k < MAX_FUNCS; k++) {
        func_info[k].insn_off = (uint32_t)strtoul(p, &p, 10);
        func_linkage[k] = *p == ':' ? (unsigned)strtoul(p + 1, &p, 10) : 0;
        func_info[k].type_id = 3 + k;
        nfuncs = k + 1;
      }
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
        int btf_fd = -1;
        if (nfuncs) {
          btf_fd = load_btf();
          attr.prog_btf_fd = btf_fd < 0 ? 0 : btf_fd;
          attr.func_info = (uintptr_t)func_info;
          attr.func_info_rec_size = sizeof func_info[0];
          attr.func_info_cnt = nfuncs;
        }
        int fd = bpf(BPF_PROG_LOAD, &attr);
        int err = errno;
        if (btf_fd >= 0) close(btf_fd);
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
