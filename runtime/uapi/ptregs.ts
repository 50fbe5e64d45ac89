// struct pt_regs on x86_64, the context a kprobe program receives, and the argument/return
// register mapping libbpf's bpf_tracing.h uses for x86 (PT_REGS_PARM1(ctx) and friends).
// Source of truth: /usr/include/x86_64-linux-gnu/asm/ptrace.h (which spells the fields rdi,
// rsi ... where the kernel says di, si ...) and /usr/include/bpf/bpf_tracing.h; checked by
// test/uapi/ptregs.test.ts with offsetof() and with clang-compiled PT_REGS_* accesses.

/** The 21 unsigned longs of struct pt_regs, in memory order (kernel names). */
export const PT_REGS_FIELDS = [
  "r15",
  "r14",
  "r13",
  "r12",
  "bp",
  "bx",
  "r11",
  "r10",
  "r9",
  "r8",
  "ax",
  "cx",
  "dx",
  "si",
  "di",
  "orig_ax",
  "ip",
  "cs",
  "flags",
  "sp",
  "ss",
] as const;

export type PtRegsField = (typeof PT_REGS_FIELDS)[number];

/** sizeof(struct pt_regs): 21 * 8. */
export const PT_REGS_SIZE = PT_REGS_FIELDS.length * 8;

/** Byte offset of each field: PtRegs.di === 112. */
export const PtRegs = Object.freeze(
  Object.fromEntries(PT_REGS_FIELDS.map((field, i) => [field, i * 8])),
) as { readonly [K in PtRegsField]: number };

/** The uapi header's spelling of each field (rdi for di, eflags for flags ...). */
export const PT_REGS_UAPI_NAMES: { readonly [K in PtRegsField]: string } = {
  r15: "r15",
  r14: "r14",
  r13: "r13",
  r12: "r12",
  bp: "rbp",
  bx: "rbx",
  r11: "r11",
  r10: "r10",
  r9: "r9",
  r8: "r8",
  ax: "rax",
  cx: "rcx",
  dx: "rdx",
  si: "rsi",
  di: "rdi",
  orig_ax: "orig_rax",
  ip: "rip",
  cs: "cs",
  flags: "eflags",
  sp: "rsp",
  ss: "ss",
};

/** Function arguments 1..6 in the x86_64 SysV calling convention (__PT_PARMn_REG). */
export const PT_REGS_PARM_REGS = ["di", "si", "dx", "cx", "r8", "r9"] as const;
/** Syscall arguments 1..6 (__PT_PARMn_SYSCALL_REG): the 4th is in r10, not cx. */
export const PT_REGS_PARM_SYSCALL_REGS = ["di", "si", "dx", "r10", "r8", "r9"] as const;
/** __PT_RC_REG: the return value, read by kretprobes. */
export const PT_REGS_RC_REG = "ax";
/** __PT_IP_REG: the probed instruction (the function's address at entry). */
export const PT_REGS_IP_REG = "ip";
/** __PT_SP_REG. */
export const PT_REGS_SP_REG = "sp";
/** __PT_FP_REG: the frame pointer. */
export const PT_REGS_FP_REG = "bp";
/** __PT_RET_REG: where the return address is (at function entry, *sp). */
export const PT_REGS_RET_REG = "sp";

/** Offset of argument n (1-based, 1..6) in pt_regs: PT_REGS_PARM1 is di at 112. */
export function ptRegsParmOffset(n: 1 | 2 | 3 | 4 | 5 | 6): number {
  return PtRegs[PT_REGS_PARM_REGS[n - 1]!];
}

/** Offset of syscall argument n (1..6), for programs on the syscall entry's pt_regs. */
export function ptRegsSyscallParmOffset(n: 1 | 2 | 3 | 4 | 5 | 6): number {
  return PtRegs[PT_REGS_PARM_SYSCALL_REGS[n - 1]!];
}

export const PT_REGS_RC_OFFSET = PtRegs.ax;
export const PT_REGS_IP_OFFSET = PtRegs.ip;
export const PT_REGS_SP_OFFSET = PtRegs.sp;
export const PT_REGS_FP_OFFSET = PtRegs.bp;

/**
 * struct bpf_perf_event_data (linux/bpf_perf_event.h), a perf_event program's context: the
 * sampled registers, then the sample period and address.
 */
export const BpfPerfEventData = {
  regs: 0,
  sample_period: PT_REGS_SIZE,
  addr: PT_REGS_SIZE + 8,
  SIZE: PT_REGS_SIZE + 16,
} as const;
