// CO-RE access shapes compared with clang record by record: __builtin_preserve_access_index
// over records without the attribute (array elements, p[N] roots, anonymous members, unions,
// two-dimensional arrays, typedef roots), every __builtin_preserve_field_info kind on plain
// and bit-field members and array elements, type and enum relocations, type ids, direct loads
// and stores (tp_btf) with the relocation in the instruction's offset, BPF_CORE_READ_BITFIELD
// through the asm barrier, and a typed __ksym.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct plain {
	int a;
	int arr[4];
	struct {
		int x;
		union {
			int y;
			long z;
		};
	} in;
	short m[2][3];
	struct plain *next;
};

typedef struct plain plain_t;

struct bits {
	unsigned int flag : 1;
	int level : 5;
	unsigned long long wide : 20;
	unsigned char tail;
} __attribute__((preserve_access_index));

union either {
	int i;
	struct plain p;
} __attribute__((preserve_access_index));

enum amode { MODE_OFF = -1, MODE_ON = 7, MODE_BIG = 0x7fffffff };
typedef enum amode amode_t;

extern const int bpf_prog_active __ksym;

long out[64];

SEC("kprobe/vfs_read")
int builtin_region(struct pt_regs *ctx)
{
	struct plain *p = (void *)PT_REGS_PARM1(ctx);
	plain_t *q = (void *)PT_REGS_PARM2(ctx);
	union either *u = (void *)PT_REGS_PARM3(ctx);
	int v = 0;

	bpf_probe_read_kernel(&v, 4, __builtin_preserve_access_index(&p->arr[2]));
	out[0] = v;
	bpf_probe_read_kernel(&v, 4, __builtin_preserve_access_index(&p[1].in.y));
	out[1] = v;
	bpf_probe_read_kernel(&v, 2, __builtin_preserve_access_index(&p->m[1][2]));
	out[2] = v;
	bpf_probe_read_kernel(&v, 4, __builtin_preserve_access_index(&q->in.x));
	out[3] = v;
	bpf_probe_read_kernel(&v, 4, __builtin_preserve_access_index(&p->next->a));
	out[4] = v;
	bpf_probe_read_kernel(&v, 4, &u->p.in.z);
	out[5] = v;
	out[6] = (long)__builtin_preserve_access_index(&p->in);
	return 0;
}

SEC("kprobe/vfs_write")
int field_info(struct pt_regs *ctx)
{
	struct bits *b = (void *)PT_REGS_PARM1(ctx);
	struct plain *p = (void *)PT_REGS_PARM2(ctx);

	out[0] = bpf_core_field_offset(b->level) + bpf_core_field_size(b->level) * 10;
	out[1] = __builtin_preserve_field_info(b->level, BPF_FIELD_SIGNED);
	out[2] = __builtin_preserve_field_info(b->level, BPF_FIELD_LSHIFT_U64);
	out[3] = __builtin_preserve_field_info(b->level, BPF_FIELD_RSHIFT_U64);
	out[4] = __builtin_preserve_field_info(b->wide, BPF_FIELD_LSHIFT_U64);
	out[5] = __builtin_preserve_field_info(b->wide, BPF_FIELD_BYTE_SIZE);
	out[6] = __builtin_preserve_field_info(b->flag, BPF_FIELD_SIGNED);
	out[7] = __builtin_preserve_field_info(b->tail, BPF_FIELD_LSHIFT_U64);
	out[8] = bpf_core_field_exists(b->tail) + bpf_core_field_offset(b->tail);
	out[9] = bpf_core_field_size(p->arr[1]) + bpf_core_field_offset(p->arr[3]);
	out[10] = bpf_core_field_size(p->m[1]) + __builtin_preserve_field_info(p->in.y, BPF_FIELD_SIGNED);
	out[11] = bpf_core_field_exists(struct plain, next) + bpf_core_field_offset(plain_t, in.z);
	out[12] = BPF_CORE_READ_BITFIELD_PROBED(b, level);
	out[13] = BPF_CORE_READ_BITFIELD_PROBED(b, wide);
	return 0;
}

SEC("kprobe/vfs_open")
int type_info(struct pt_regs *ctx)
{
	out[0] = bpf_core_type_exists(plain_t) + bpf_core_type_size(plain_t);
	out[1] = bpf_core_type_exists(union either) + bpf_core_type_size(struct bits);
	out[2] = bpf_core_type_size(enum amode) + bpf_core_type_exists(amode_t);
	out[3] = bpf_core_enum_value(enum amode, MODE_OFF) + bpf_core_enum_value(amode_t, MODE_BIG);
	out[4] = bpf_core_enum_value_exists(enum amode, MODE_ON);
	out[5] = bpf_core_type_id_local(struct plain) + bpf_core_type_id_local(int);
	out[6] = bpf_core_type_id_kernel(struct task_struct) + bpf_core_type_id_local(struct plain *);
	out[7] = bpf_core_type_id_kernel(const struct sk_buff);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int direct(u64 *ctx)
{
	struct task_struct *t = (void *)ctx[0];
	struct sk_buff *skb = (void *)ctx[1];
	struct bits *b = (void *)ctx[2];

	out[0] = t->pid + t->real_parent->tgid;
	out[1] = BPF_CORE_READ_BITFIELD(skb, pkt_type);
	out[2] = BPF_CORE_READ_BITFIELD(b, level);
	out[3] = (long)&t->comm[3];
	out[4] = (long)bpf_this_cpu_ptr(&bpf_prog_active);
	b->tail = 3;
	return 0;
}
