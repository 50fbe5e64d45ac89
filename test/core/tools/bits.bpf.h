/* What the corpus's tools share: log2 histogram slots (bcc's convention: slot 0 holds 0,
 * slot n holds [2^(n-1), 2^n)), the task state read that works on kernels before and after
 * 5.14 (task_struct::state became __state), and event sizes. */
#ifndef __TOOLS_BITS_BPF_H
#define __TOOLS_BITS_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* bpftool's vmlinux.h declares them as enumerators; the simulated kernel's does not */
#ifndef false
#define false 0
#define true 1
#endif

#define MAX_SLOTS 27
#define TASK_COMM_LEN 16
#define NAME_LEN 64
#define DISK_NAME_LEN 32

/* floor(log2(v)) for v > 0, by halving the search range (no loop) */
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	if (hi)
		return log2_u32(hi) + 32;
	return log2_u32((__u32)v);
}

/* the histogram slot of v: 0 for 0, else floor(log2(v)) + 1, capped */
static __always_inline __u32 hist_slot(__u64 v)
{
	__u32 slot = v ? log2_u64(v) + 1 : 0;

	return slot < MAX_SLOTS ? slot : MAX_SLOTS - 1;
}

struct hist {
	__u32 slots[MAX_SLOTS];
};

/* task_struct before 5.14: the state field had another name */
struct task_struct___o {
	volatile long int state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)t, state);
}

#endif
