// The map-of-maps sequence of test/maps/map-in-map.test.ts, run on the machine's kernel through
// bpf(): one line per step, the errno (0 for success) or "id"/"other" for the looked-up id.
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int create(unsigned type, unsigned key, unsigned value, unsigned max, unsigned flags,
                  int inner) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = type;
  a.key_size = key;
  a.value_size = value;
  a.max_entries = max;
  a.map_flags = flags;
  a.inner_map_fd = inner;
  int fd = sys_bpf(BPF_MAP_CREATE, &a);
  return fd < 0 ? -errno : fd;
}

static int elem(int cmd, int fd, unsigned key, void *value, unsigned long long flags) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = fd;
  a.key = (unsigned long)&key;
  a.value = (unsigned long)value;
  a.flags = flags;
  return sys_bpf(cmd, &a) < 0 ? errno : 0;
}

static int update(int fd, unsigned key, int value, unsigned long long flags) {
  return elem(BPF_MAP_UPDATE_ELEM, fd, key, &value, flags);
}

static unsigned id_of(int fd) {
  struct bpf_map_info info;
  union bpf_attr a;
  memset(&info, 0, sizeof info);
  memset(&a, 0, sizeof a);
  a.info.bpf_fd = fd;
  a.info.info_len = sizeof info;
  a.info.info = (unsigned long)&info;
  return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0 ? 0 : info.id;
}

#define STEP(x) printf("%d\n", (x))
#define ERR(fd) ((fd) < 0 ? -(fd) : 0)

int main(void) {
  int template = create(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, 0);
  if (template < 0) {
    printf("unavailable %d\n", -template);
    return 1;
  }
  STEP(ERR(create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, 999)));
  int progs = create(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0, 0);
  STEP(ERR(create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, progs)));
  STEP(ERR(create(BPF_MAP_TYPE_HASH_OF_MAPS, 4, 8, 2, 0, template)));
  int outer = create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, template);
  int hash = create(BPF_MAP_TYPE_HASH_OF_MAPS, 4, 4, 2, 0, template);
  int same = create(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, 0);
  int bigger = create(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, 0);
  int hash_inner = create(BPF_MAP_TYPE_HASH, 4, 8, 1, 0, 0);
  int stores[5][2] = {{same, 0}, {bigger, 1}, {hash_inner, 1}, {same, 2}, {12345, 0}};
  for (int i = 0; i < 5; i++) STEP(update(outer, stores[i][1], stores[i][0], BPF_ANY));
  STEP(update(outer, 1, same, BPF_NOEXIST));
  unsigned value = 0;
  STEP(elem(BPF_MAP_LOOKUP_ELEM, outer, 0, &value, 0));
  printf("%s\n", value == id_of(same) ? "id" : "other");
  STEP(elem(BPF_MAP_LOOKUP_ELEM, outer, 1, &value, 0));
  for (unsigned key = 7; key <= 9; key++) STEP(update(hash, key, same, BPF_ANY));
  STEP(update(hash, 7, same, BPF_NOEXIST));
  STEP(update(hash, 7, bigger, BPF_ANY));
  STEP(elem(BPF_MAP_DELETE_ELEM, hash, 7, NULL, 0));
  STEP(elem(BPF_MAP_DELETE_ELEM, hash, 7, NULL, 0));
  STEP(elem(BPF_MAP_LOOKUP_ELEM, hash, 8, &value, 0));
  int loose = create(BPF_MAP_TYPE_ARRAY, 4, 8, 1, BPF_F_INNER_MAP, 0);
  int loose_outer = create(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0, loose);
  STEP(update(loose_outer, 0, create(BPF_MAP_TYPE_ARRAY, 4, 8, 8, BPF_F_INNER_MAP, 0), BPF_ANY));
  return 0;
}
