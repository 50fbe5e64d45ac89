// The oracle for test/loader: loads a BPF object into the running kernel with the machine's
// libbpf (maps created, relocations applied, programs verified; nothing attached) and prints
// what libbpf handed to BPF_PROG_LOAD, one fact per line:
//   map NAME FD TYPE KEY_SIZE VALUE_SIZE MAX_ENTRIES FLAGS
//   prog NAME SECTION TYPE INSN_CNT HEX          (bpf_program__insns() after load: the
//                                                 relocated program, map fds in its lddws)
//   value NAME HEX                               (key 0 of each array map, after load)
//   slot MAP INDEX PROG                          (each filled prog array slot)
//   error ERRNO                                  (when bpf_object__load failed)
// Build: cc -O2 -o libbpf-load libbpf-load.c -lbpf
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (getenv("LIBBPF_DEBUG")) return vfprintf(stderr, fmt, args);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: libbpf-load OBJ\n");
    return 2;
  }
  libbpf_set_print(quiet);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) {
    printf("error open\n");
    return 1;
  }
  int err = bpf_object__load(obj);
  if (err) {
    printf("error %d\n", err);
    return 1;
  }
  struct bpf_map *map;
  bpf_object__for_each_map(map, obj) {
    printf("map %s %d %d %u %u %u %u\n", bpf_map__name(map), bpf_map__fd(map), bpf_map__type(map),
           bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map),
           bpf_map__map_flags(map));
  }
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__type(map) != BPF_MAP_TYPE_ARRAY) continue;
    unsigned size = bpf_map__value_size(map);
    unsigned char *value = calloc(1, size);
    int zero = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, value) == 0) {
      printf("value %s ", bpf_map__name(map));
      for (unsigned i = 0; i < size; i++) printf("%02x", value[i]);
      printf("\n");
    }
    free(value);
  }
  struct bpf_program *prog;
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__type(map) != BPF_MAP_TYPE_PROG_ARRAY) continue;
    for (unsigned i = 0; i < bpf_map__max_entries(map); i++) {
      unsigned id;
      if (bpf_map_lookup_elem(bpf_map__fd(map), &i, &id) != 0) continue;
      bpf_object__for_each_program(prog, obj) {
        struct bpf_prog_info info = {};
        unsigned len = sizeof info;
        if (bpf_program__fd(prog) >= 0 && bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0 &&
            info.id == id)
          printf("slot %s %u %s\n", bpf_map__name(map), i, bpf_program__name(prog));
      }
    }
  }
  bpf_object__for_each_program(prog, obj) {
    const struct bpf_insn *insns = bpf_program__insns(prog);
    size_t n = bpf_program__insn_cnt(prog);
    printf("prog %s %s %d %zu ", bpf_program__name(prog), bpf_program__section_name(prog),
           bpf_program__type(prog), n);
    const unsigned char *bytes = (const unsigned char *)insns;
    for (size_t i = 0; i < n * 8; i++) printf("%02x", bytes[i]);
    printf("\n");
  }
  bpf_object__close(obj);
  return 0;
}
