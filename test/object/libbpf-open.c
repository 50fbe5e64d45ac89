// The oracle for test/object/open.test.ts: opens a BPF object with the machine's libbpf (open
// phase only: nothing is created or loaded, no privileges needed) and prints what it found,
// one fact per line. With a second argument, writes libbpf's BTF after its open-time fix-ups
// there. `secname NAME...` prints libbpf_prog_type_by_name for each name instead.
// Build: cc -O2 -o libbpf-open libbpf-open.c -lbpf
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

static int print_sec_names(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		enum bpf_prog_type type;
		enum bpf_attach_type attach;

		if (libbpf_prog_type_by_name(argv[i], &type, &attach))
			printf("secname %s none\n", argv[i]);
		else
			printf("secname %s %d %d\n", argv[i], type, attach);
	}
	return 0;
}

static void print_map(const char *what, const struct bpf_map *m)
{
	printf("%s %s %d %u %u %u %u %u %u %d\n", what, bpf_map__name(m), bpf_map__type(m),
	       bpf_map__key_size(m), bpf_map__value_size(m), bpf_map__max_entries(m),
	       bpf_map__map_flags(m), bpf_map__btf_key_type_id(m), bpf_map__btf_value_type_id(m),
	       bpf_map__is_internal(m));
}

static int write_btf(const struct bpf_object *obj, const char *path)
{
	const struct btf *btf = bpf_object__btf(obj);
	__u32 size = 0;
	const void *raw;
	FILE *f;

	if (!btf)
		return 0;
	raw = btf__raw_data(btf, &size);
	f = fopen(path, "wb");
	if (!f || fwrite(raw, 1, size, f) != size)
		return 1;
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;

	libbpf_set_print(quiet);
	if (argc >= 2 && strcmp(argv[1], "secname") == 0)
		return print_sec_names(argc, argv);
	if (argc < 2) {
		fprintf(stderr, "usage: libbpf-open OBJ [BTF_OUT] | secname NAME...\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("error %d\n", errno);
		return 1;
	}
	printf("kversion %u\n", bpf_object__kversion(obj));
	bpf_object__for_each_program(prog, obj)
		printf("prog %s %s %d %d %d %zu\n", bpf_program__name(prog),
		       bpf_program__section_name(prog), bpf_program__type(prog),
		       bpf_program__expected_attach_type(prog), bpf_program__autoload(prog),
		       bpf_program__insn_cnt(prog));
	bpf_object__for_each_map(map, obj) {
		print_map("map", map);
		if (bpf_map__inner_map(map))
			print_map("inner", bpf_map__inner_map(map));
	}
	if (argc >= 3 && write_btf(obj, argv[2]))
		return 1;
	bpf_object__close(obj);
	return 0;
}
