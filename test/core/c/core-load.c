// The oracle for test/core: the machine's libbpf CO-RE-relocates a BPF object and loads every
// program into the running kernel (verification only, nothing attached or pinned), and this
// prints the instructions libbpf handed to BPF_PROG_LOAD for each program:
//   prog NAME LOADED HEX        (LOADED 1 when the kernel accepted it; HEX = struct bpf_insn[])
//   error NAME ERR              (loading program NAME failed: the kernel rejected it)
//   kconfig NAME HEX            (the .kconfig map's value after loading NAME; with KCONFIG in
//                                the environment, libbpf takes CONFIG_* values from it)
// With a second argument, relocation is against that BTF file (btf_custom_path) instead of the
// running kernel's. The instructions are caught on their way into bpf(): this program defines
// syscall(), which libbpf calls, records BPF_PROG_LOAD's instructions and passes the call on,
// so a program the verifier rejects (an unguarded poisoned relocation) is still seen.
// Each program is loaded on its own (the others' autoload turned off).
// Build: cc -O2 -o core-load core-load.c -lbpf -ldl
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#define MAX_LOADS 256

struct load {
  char name[BPF_OBJ_NAME_LEN];
  unsigned cnt;
  struct bpf_insn *insns;
};

static struct load loads[MAX_LOADS];
static int nloads;

typedef long (*syscall_fn)(long, ...);

long syscall(long number, ...) {
  static syscall_fn real;
  va_list ap;
  va_start(ap, number);
  long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  if (!real) real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
  if (number == __NR_bpf && a1 == BPF_PROG_LOAD && nloads < MAX_LOADS) {
    const union bpf_attr *attr = (const union bpf_attr *)a2;
    struct load *l = &loads[nloads++];
    memcpy(l->name, attr->prog_name, sizeof(l->name));
    l->cnt = attr->insn_cnt;
    l->insns = malloc(sizeof(struct bpf_insn) * l->cnt);
    memcpy(l->insns, (const void *)(unsigned long)attr->insns, sizeof(struct bpf_insn) * l->cnt);
  }
  return real(number, a1, a2, a3, a4, a5, a6);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (getenv("LIBBPF_DEBUG")) return vfprintf(stderr, fmt, args);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: core-load OBJ [TARGET_BTF]\n");
    return 2;
  }
  libbpf_set_print(quiet);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argc == 3 ? argv[2] : NULL,
              .kconfig = getenv("KCONFIG"));
  struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
  if (!obj) {
    printf("error open\n");
    return 1;
  }
  /* one load per program (the others' autoload off), so a rejected one stops nothing else */
  char *names[MAX_LOADS];
  int nprogs = 0;
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, obj) if (nprogs < MAX_LOADS) names[nprogs++] = strdup(bpf_program__name(prog));
  bpf_object__close(obj);
  for (int i = 0; i < nprogs; i++) {
    obj = bpf_object__open_file(argv[1], &opts);
    if (!obj) {
      printf("error open\n");
      return 1;
    }
    bpf_object__for_each_program(prog, obj) {
      bpf_program__set_type(prog, BPF_PROG_TYPE_KPROBE);
      bpf_program__set_autoload(prog, strcmp(bpf_program__name(prog), names[i]) == 0);
    }
    nloads = 0;
    int err = bpf_object__load(obj);
    if (err) printf("error %s %d\n", names[i], err);
    prog = bpf_object__find_program_by_name(obj, names[i]);
    /* the last load under this name (the kernel keeps 15 characters of it) */
    const struct load *l = NULL;
    for (int j = 0; j < nloads; j++)
      if (strncmp(loads[j].name, names[i], BPF_OBJ_NAME_LEN - 1) == 0) l = &loads[j];
    if (l && prog) {
      printf("prog %s %d ", names[i], bpf_program__fd(prog) >= 0);
      const unsigned char *bytes = (const unsigned char *)l->insns;
      for (unsigned k = 0; k < l->cnt * sizeof(struct bpf_insn); k++) printf("%02x", bytes[k]);
      printf("\n");
    }
    for (int j = 0; j < nloads; j++) free(loads[j].insns);
    /* the .kconfig map's value, as libbpf filled it */
    struct bpf_map *map;
    bpf_object__for_each_map(map, obj) {
      const char *mname = bpf_map__name(map);
      size_t n = strlen(mname);
      if (err || n < 8 || strcmp(mname + n - 8, ".kconfig") != 0) continue;
      unsigned size = bpf_map__value_size(map);
      unsigned char *value = calloc(1, size);
      int zero = 0;
      if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, value) == 0) {
        printf("kconfig %s ", names[i]);
        for (unsigned k = 0; k < size; k++) printf("%02x", value[k]);
        printf("\n");
      }
      free(value);
    }
    bpf_object__close(obj);
  }
  return 0;
}
