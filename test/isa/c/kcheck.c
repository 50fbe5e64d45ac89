// Loads raw BPF programs into the running kernel as socket filters, only to hear the
// verifier's verdict (nothing is attached). Input file: repeated [u32 slot count][slots].
// Output: one line per program, "OK" or "REJECT " + the verifier log joined with " | ".
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned char insns[1 << 20];
static char log_buf[1 << 16];

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return 2;
  uint32_t count;
  while (fread(&count, sizeof count, 1, f) == 1) {
    if ((size_t)count * 8 > sizeof insns || fread(insns, 8, count, f) != count) return 2;
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uintptr_t)"GPL";
    attr.log_buf = (uintptr_t)log_buf;
    attr.log_size = sizeof log_buf;
    attr.log_level = 1;
    log_buf[0] = 0;
    int fd = syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd >= 0) {
      close(fd);
      printf("OK\n");
      continue;
    }
    int err = errno;
    for (char *p = log_buf; *p; p++)
      if (*p == '\n') *p = '|';
    printf("REJECT errno=%d %s\n", err, log_buf);
  }
  return 0;
}
