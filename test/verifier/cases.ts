// The verifier's own test programs: for every rule an accepted and a rejected program, written
// in the assembler syntax (harness.ts adds `lddw %rN, map_fd FD`, `lddw %rN, map_value FD OFF`
// and `raw CODE DST SRC OFF IMM`). `expect` is "ok" or the kernel's message for the fault (all
// of its lines). rules.test.ts checks our verdict and message; kernel.test.ts loads each case
// into the running kernel and checks the same verdict and that the kernel printed the message.
import { P } from "./harness.js";

export interface Case {
  rule: string;
  name: string;
  text: string;
  expect: "ok" | string;
  progType?: number;
  license?: string;
  kernel?: "4.1" | "6.1" | "6.18";
  unpriv?: boolean;
  /** why the running kernel cannot judge this case (another kernel version, unprivileged) */
  noKernel?: string;
  /** log level for our run (default 1); 0 for the case that walks a million instructions */
  logLevel?: 0 | 1 | 2;
  /** subprograms (by number) whose BTF func_info linkage is global */
  globalFuncs?: number[];
  /** load a program with callback addresses without BTF func_info */
  noBtf?: boolean;
}

const cases: Case[] = [];
const ok = (rule: string, name: string, text: string, o: Partial<Case> = {}): void => {
  cases.push({ rule, name, text, expect: "ok", ...o });
};
const bad = (
  rule: string,
  name: string,
  text: string,
  expect: string,
  o: Partial<Case> = {},
): void => {
  cases.push({ rule, name, text, expect, ...o });
};

const EXIT0 = "mov %r0, 0\nexit";
// A map lookup with key 0 in fp-4, result in r0.
const LOOKUP = (fd: number, key = 0): string => `stw [%r10-8], ${key}
mov %r2, %r10
add %r2, -8
lddw %r1, map_fd ${fd}
call 1`;
// A lookup in the 16-byte-key hash map (fd 12), key zeroed at fp-16.
const LOOKUP16 =
  "stdw [%r10-16], 0\nstdw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -16\nlddw %r1, map_fd 12\ncall 1";
// The end every "jump to out" reaches.
const OUT = "out:\nmov %r0, 0\nexit";
const OLD = "the 4.1 kernel setting: the running kernel is 6.18";
const UNPRIV = "an unprivileged load: the kernel oracle loads as root";

// ---- structure ----------------------------------------------------------------------------

ok("structure", "exit ends the program", EXIT0);
bad("structure", "last insn is not exit", "mov %r0, 0", "last insn is not an exit or jmp");
ok("structure", "goto ends a function", "mov %r0, 0\nja +1\nexit\nja -2");
bad(
  "structure",
  "fall off a function end",
  "call local f\nexit\nf:\nmov %r0, 1",
  "last insn is not an exit or jmp",
);
ok("structure", "jump in range", "mov %r0, 0\njeq %r0, 0, +0\nexit");
bad(
  "structure",
  "jump out of range",
  "mov %r0, 0\nraw 0x15 0 0 5 0\nexit",
  "jump out of range from insn 1 to 7",
);
bad(
  "structure",
  "jump before the start",
  "mov %r0, 0\nraw 0x05 0 0 -3 0\nexit",
  "jump out of range from insn 1 to -1",
);
bad(
  "structure",
  "jump out of a function",
  "mov %r0, 0\ncall local f\njeq %r0, 0, f\nexit\nf:\nmov %r0, 0\nexit",
  "jump out of range from insn 2 to 4",
);
ok(
  "structure",
  "jump over an lddw",
  "mov %r0, 0\njeq %r0, 1, +2\nlddw %r1, 0x1122334455667788\nexit",
);
bad(
  "structure",
  "jump into an lddw",
  "mov %r0, 0\nraw 0x15 0 0 1 1\nlddw %r1, 0x1122334455667788\nexit",
  "jump into the middle of ldimm64 insn 2",
);
ok("structure", "every insn reachable", "mov %r0, 0\njeq %r0, 1, +1\nmov %r0, 2\nexit");
bad("structure", "unreachable insn", "mov %r0, 0\nja +1\nmov %r0, 1\nexit", "unreachable insn 2");
bad("structure", "uncalled function", "mov %r0, 0\nexit\nmov %r0, 1\nexit", "unreachable insn 2");
bad("structure", "unknown opcode", "mov %r0, 0\nraw 0xff 0 0 0 0\nexit", "unknown opcode ff");
bad(
  "structure",
  "callx is not the kernel's",
  "mov %r2, 0\nraw 0x8d 2 0 0 0\nexit",
  "unknown opcode 8d",
);
bad("structure", "lddw without second slot", "raw 0x18 0 0 0 0\nexit", "invalid bpf_ld_imm64 insn");
bad(
  "structure",
  "lddw second slot not zero",
  "raw 0x18 1 0 0 1\nraw 0 1 0 0 0\nmov %r0, 0\nexit",
  "invalid bpf_ld_imm64 insn",
);
bad(
  "structure",
  "lddw unknown pseudo",
  "raw 0x18 1 7 0 1\nraw 0 0 0 0 0\nmov %r0, 0\nexit",
  "unrecognized bpf_ld_imm64 insn",
);
ok("structure", "lddw of a map fd", `lddw %r1, map_fd 3\n${EXIT0}`);
bad(
  "structure",
  "lddw of a bad fd",
  `lddw %r1, map_fd 99\n${EXIT0}`,
  "fd 99 is not pointing to valid bpf_map",
);
ok("structure", "call inside the program", "call local f\nexit\nf:\nmov %r0, 1\nexit");
bad(
  "structure",
  "call outside the program",
  "raw 0x85 0 1 0 5\nmov %r0, 0\nexit",
  "call to invalid destination",
);
bad("structure", "ldx reserved imm", "raw 0x79 0 1 0 1\nexit", "BPF_LDX uses reserved fields");
ok("structure", "4.1: 4096 instructions", "mov %r0, 0\n".repeat(4095) + "exit", {
  kernel: "4.1",
  noKernel: OLD,
});
bad(
  "structure",
  "4.1: 4097 instructions",
  "mov %r0, 0\n".repeat(4096) + "exit",
  "program of 4097 insns is too large (limit 4096)",
  { kernel: "4.1", noKernel: OLD },
);
ok("structure", "6.18: 5000 instructions", "mov %r0, 0\n".repeat(4999) + "exit");

// ---- registers ----------------------------------------------------------------------------

ok("registers", "r0 set before exit", EXIT0);
bad("registers", "r0 unset at exit", "exit", "R0 !read_ok");
bad(
  "registers",
  "r0 unset on one path",
  "ldxdw %r1, [%r1+0]\njeq %r1, 0, +1\nmov %r0, 0\nexit",
  "R0 !read_ok",
);
ok("registers", "r1 holds ctx on entry", "mov %r0, %r1\nmov %r0, 0\nexit");
bad("registers", "read an unset register", "mov %r0, %r2\nexit", "R2 !read_ok");
bad("registers", "add an unset register", "mov %r0, 0\nadd %r0, %r5\nexit", "R5 !read_ok");
ok("registers", "r10 readable", "mov %r1, %r10\nmov %r0, 0\nexit");
bad("registers", "write r10", "mov %r10, 1\nmov %r0, 0\nexit", "frame pointer is read only");
bad("registers", "add to r10", "add %r10, -8\nmov %r0, 0\nexit", "frame pointer is read only");
bad(
  "registers",
  "load into r10",
  "ldxdw %r10, [%r1+0]\nmov %r0, 0\nexit",
  "frame pointer is read only",
);
ok("registers", "r6 survives a helper call", "mov %r6, 1\ncall 5\nmov %r0, %r6\nexit");
bad("registers", "r1 clobbered by a helper call", "call 5\nmov %r0, %r1\nexit", "R1 !read_ok");
bad(
  "registers",
  "r5 clobbered by a helper call",
  "mov %r5, 1\ncall 5\nmov %r0, %r5\nexit",
  "R5 !read_ok",
);
ok(
  "registers",
  "r6 survives a function call",
  "mov %r6, 3\ncall local f\nmov %r0, %r6\nexit\nf:\nmov %r6, 9\nmov %r0, 0\nexit",
);
bad(
  "registers",
  "r1 clobbered by a function call",
  "call local f\nmov %r0, %r1\nexit\nf:\nmov %r0, 1\nexit",
  "R1 !read_ok",
);
bad(
  "registers",
  "r6 unset in a callee",
  "call local f\nexit\nf:\nmov %r0, %r6\nexit",
  "R6 !read_ok",
);

// ---- ALU ----------------------------------------------------------------------------------

ok(
  "alu",
  "division by a register that may be 0",
  "ldxdw %r2, [%r1+0]\nmov %r0, 10\ndiv %r0, %r2\nexit",
);
ok(
  "alu",
  "modulo by a register that may be 0",
  "ldxdw %r2, [%r1+0]\nmov %r0, 10\nmod32 %r0, %r2\nexit",
);
bad("alu", "division by the constant 0", "mov %r0, 1\ndiv %r0, 0\nexit", "div by zero");
bad("alu", "modulo by the constant 0", "mov %r0, 1\nmod32 %r0, 0\nexit", "div by zero");
ok("alu", "shift by 63", "mov %r0, 1\nlsh %r0, 63\nexit");
bad("alu", "shift by 64", "mov %r0, 1\nlsh %r0, 64\nexit", "invalid shift 64");
bad("alu", "32-bit shift by 32", "mov %r0, 1\nrsh32 %r0, 32\nexit", "invalid shift 32");
ok("alu", "shift by a register", "ldxdw %r2, [%r1+0]\nmov %r0, 1\narsh %r0, %r2\nexit");
ok(
  "alu",
  "negate, swap, sign-extend",
  "ldxdw %r0, [%r1+0]\nneg %r0\nbe16 %r0\nswap32 %r0\nmovsx864 %r0, %r0\nldxsw %r2, [%r1+0]\nexit",
);
ok("alu", "signed division", "ldxdw %r0, [%r1+0]\nsdiv %r0, -3\nsmod32 %r0, 7\nexit");
bad(
  "alu",
  "reserved src_reg with an immediate",
  "mov %r0, 0\nraw 0x07 0 1 0 1\nexit",
  "BPF_ALU uses reserved fields",
);
bad("alu", "reserved off in mov", "raw 0xb7 0 0 1 0\nexit", "BPF_MOV uses reserved fields");
bad("alu", "reserved imm in mov reg", "raw 0xbf 0 1 0 5\nexit", "BPF_MOV uses reserved fields");
bad(
  "alu",
  "reserved neg operands",
  "mov %r0, 0\nraw 0x87 0 0 0 1\nexit",
  "BPF_NEG uses reserved fields",
);
bad(
  "alu",
  "bad byte swap width",
  "mov %r0, 0\nraw 0xd4 0 0 0 8\nexit",
  "BPF_END uses reserved fields",
);
ok(
  "alu",
  "32-bit results are zero-extended",
  `ldxdw %r6, [%r1+0]
mov32 %r6, %r6
rsh %r6, 32
${LOOKUP(4, 1)}
add %r0, %r6
ldxdw %r1, [%r0+40]
${EXIT0}`,
);
bad(
  "alu",
  "64-bit values are not",
  `ldxdw %r6, [%r1+0]
rsh %r6, 31
${LOOKUP(4, 1)}
add %r0, %r6
ldxdw %r1, [%r0+40]
${EXIT0}`,
  "R0 unbounded memory access, make sure to bounds check any such access",
);

// ---- pointer arithmetic -------------------------------------------------------------------

ok(
  "pointer arithmetic",
  "stack pointer plus a constant",
  "mov %r1, %r10\nadd %r1, -8\nstdw [%r1+0], 0\nmov %r0, 0\nexit",
);
bad(
  "pointer arithmetic",
  "stack pointer minus a constant",
  "mov %r1, %r10\nsub %r1, 8\nmov %r0, 0\nexit",
  "R1 subtraction from stack pointer prohibited",
);
bad(
  "pointer arithmetic",
  "stack pointer minus a register",
  "mov %r1, %r10\nmov %r2, 8\nsub %r1, %r2\nmov %r0, 0\nexit",
  "R1 subtraction from stack pointer prohibited",
);
ok("pointer arithmetic", "map_ptr plus 0", "lddw %r1, map_fd 3\nadd %r1, 0\nmov %r0, 0\nexit");
bad(
  "pointer arithmetic",
  "map_ptr plus 8",
  "lddw %r1, map_fd 3\nadd %r1, 8\nmov %r0, 0\nexit",
  "R1 pointer arithmetic on map_ptr prohibited",
);
ok(
  "pointer arithmetic",
  "map value moved after the null check",
  `${LOOKUP(3)}\njeq %r0, 0, out\nadd %r0, 4\nldxw %r1, [%r0+0]\n${OUT}`,
);
bad(
  "pointer arithmetic",
  "map value moved before the null check",
  `${LOOKUP(3)}\nadd %r0, 4\n${EXIT0}`,
  "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first",
);
ok(
  "pointer arithmetic",
  "pointer minus pointer (root)",
  "mov %r1, %r10\nmov %r2, %r10\nadd %r2, -8\nsub %r1, %r2\nmov %r0, %r1\nexit",
);
bad(
  "pointer arithmetic",
  "pointer plus pointer",
  "mov %r1, %r10\nmov %r2, %r10\nadd %r1, %r2\nmov %r0, 0\nexit",
  "R1 pointer += pointer prohibited",
);
bad(
  "pointer arithmetic",
  "scalar minus pointer",
  "mov %r1, 8\nsub %r1, %r10\nmov %r0, 0\nexit",
  "R1 tried to subtract pointer from scalar",
);
ok(
  "pointer arithmetic",
  "scalar plus pointer",
  "mov %r1, -8\nadd %r1, %r10\nstdw [%r1+0], 1\nmov %r0, 0\nexit",
);
bad(
  "pointer arithmetic",
  "and on a pointer",
  "mov %r1, %r10\nand %r1, 8\nmov %r0, 0\nexit",
  "R1 bitwise operator &= on pointer prohibited",
);
bad(
  "pointer arithmetic",
  "xor on a pointer",
  "mov %r1, %r10\nxor %r1, %r1\nmov %r0, 0\nexit",
  "R1 pointer ^= pointer prohibited",
);
bad(
  "pointer arithmetic",
  "multiply a pointer",
  "mov %r1, %r10\nmul %r1, 8\nmov %r0, 0\nexit",
  "R1 pointer arithmetic with *= operator prohibited",
);
bad(
  "pointer arithmetic",
  "32-bit add to a pointer",
  "mov %r1, %r10\nadd32 %r1, 8\nmov %r0, 0\nexit",
  "R1 32-bit pointer arithmetic prohibited",
);
ok(
  "pointer arithmetic",
  "32-bit copy of a pointer is a number (root)",
  "mov32 %r1, %r10\nadd32 %r1, 8\nmov %r0, %r1\nexit",
);
ok(
  "pointer arithmetic",
  "negating a pointer gives a number (root)",
  "mov %r1, %r10\nneg %r1\nmov %r0, %r1\nexit",
);
ok(
  "pointer arithmetic",
  "bounded index into a map value",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\nand %r6, 0x1f\nadd %r0, %r6\nldxdw %r1, [%r0+8]\n${OUT}`,
);
bad(
  "pointer arithmetic",
  "unbounded index into a map value",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\nadd %r0, %r6\nldxdw %r1, [%r0+8]\n${OUT}`,
  "math between map_value pointer and register with unbounded min value is not allowed",
);
bad(
  "pointer arithmetic",
  "far too large offset",
  "mov %r1, %r10\nlddw %r2, 0x40000000\nadd %r1, %r2\nmov %r0, 0\nexit",
  "math between fp pointer and 1073741824 is not allowed",
);
ok("pointer arithmetic", "ctx pointer copied", "mov %r6, %r1\nldxdw %r0, [%r6+0]\nexit");
bad(
  "pointer arithmetic",
  "modified ctx pointer dereferenced",
  "add %r1, 8\nldxdw %r0, [%r1+0]\nexit",
  "dereference of modified ctx ptr R1 off=8 disallowed",
);
bad(
  "pointer arithmetic",
  "unprivileged: pointer comparison",
  "mov %r0, 0\njeq %r10, 0, +0\nexit",
  "R10 pointer comparison prohibited",
  { unpriv: true, noKernel: UNPRIV },
);
ok("pointer arithmetic", "root: pointer comparison", "mov %r0, 0\njeq %r10, 0, +0\nexit");
bad(
  "pointer arithmetic",
  "unprivileged: pointer returned",
  "mov %r0, %r10\nexit",
  "R0 leaks addr as return value",
  { unpriv: true, noKernel: UNPRIV },
);
ok("pointer arithmetic", "root: pointer returned", "mov %r0, %r10\nexit");

// ---- stack --------------------------------------------------------------------------------

ok("stack", "bottom of the frame", "stdw [%r10-512], 1\nmov %r0, 0\nexit");
bad(
  "stack",
  "below the frame",
  "stdw [%r10-520], 1\nmov %r0, 0\nexit",
  "invalid write to stack R10 off=-520 size=8",
);
bad(
  "stack",
  "read below the frame",
  "ldxdw %r0, [%r10-520]\nexit",
  "invalid read from stack R10 off=-520 size=8",
);
bad(
  "stack",
  "above the frame pointer",
  "stdw [%r10+0], 1\nmov %r0, 0\nexit",
  "invalid write to stack R10 off=0 size=8",
);
bad(
  "stack",
  "straddling the frame pointer",
  "stw [%r10-2], 1\nmov %r0, 0\nexit",
  "misaligned stack access off 0+0+-2 size 4",
);
ok(
  "stack",
  "aligned narrow store",
  "stw [%r10-4], 1\nsth [%r10-6], 1\nstb [%r10-7], 1\nmov %r0, 0\nexit",
);
bad(
  "stack",
  "misaligned store",
  "stdw [%r10-4], 1\nmov %r0, 0\nexit",
  "misaligned stack access off 0+0+-4 size 8",
);
ok("stack", "root reads uninitialised stack", "ldxdw %r0, [%r10-8]\nexit");
bad(
  "stack",
  "unprivileged reads unwritten stack",
  "ldxdw %r0, [%r10-8]\nexit",
  "invalid read from stack R10 off=-8 size=8",
  { unpriv: true, noKernel: UNPRIV },
);
bad(
  "stack",
  "unprivileged reads uninitialised stack",
  "stdw [%r10-16], 0\nldxdw %r0, [%r10-8]\nexit",
  "invalid read from stack off -8+0 size 8",
  { unpriv: true, noKernel: UNPRIV },
);
bad(
  "stack",
  "4.1 reads uninitialised stack",
  "stdw [%r10-16], 0\nldxdw %r0, [%r10-8]\nexit",
  "invalid read from stack off -8+0 size 8",
  { kernel: "4.1", noKernel: OLD },
);
ok(
  "stack",
  "spilled pointer filled back",
  "stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxdw %r0, [%r2+0]\nexit",
);
bad(
  "stack",
  "pointer spilled as 4 bytes",
  "stxw [%r10-8], %r1\nmov %r0, 0\nexit",
  "invalid size of register spill",
);
bad(
  "stack",
  "pointer filled as 4 bytes",
  "stxdw [%r10-8], %r1\nldxw %r0, [%r10-8]\nexit",
  "invalid size of register fill",
);
ok(
  "stack",
  "scalar spilled as 4 bytes",
  "mov %r1, 7\nstxw [%r10-8], %r1\nldxw %r0, [%r10-8]\nexit",
);
ok(
  "stack",
  "spilled constant keeps its value",
  `mov %r1, 8\nstxdw [%r10-16], %r1\n${LOOKUP(4)}\njeq %r0, 0, out\nldxdw %r1, [%r10-16]\nadd %r0, %r1\nldxdw %r1, [%r0+32]\n${OUT}`,
);
bad(
  "stack",
  "spilled constant keeps its value (too far)",
  `mov %r1, 48\nstxdw [%r10-16], %r1\n${LOOKUP(4)}\njeq %r0, 0, out\nldxdw %r1, [%r10-16]\nadd %r0, %r1\nldxdw %r1, [%r0+0]\n${OUT}`,
  "invalid access to map value, value_size=48 off=48 size=8\nR0 min value is outside of the allowed memory range",
);
ok(
  "stack",
  "bounded variable offset",
  "ldxdw %r2, [%r1+0]\nand %r2, 7\nmov %r3, %r10\nadd %r3, -64\nadd %r3, %r2\nstb [%r3+0], 1\nldxb %r0, [%r3+0]\nexit",
);
bad(
  "stack",
  "variable offset out of the frame",
  "ldxdw %r2, [%r1+0]\nand %r2, 63\nmov %r3, %r10\nadd %r3, -32\nadd %r3, %r2\nstb [%r3+0], 1\nmov %r0, 0\nexit",
  "invalid variable-offset write to stack R3 var_off=(0x0; 0x3f) off=-32 size=1",
);
bad(
  "stack",
  "misaligned variable offset",
  "ldxdw %r2, [%r1+0]\nand %r2, 7\nmov %r3, %r10\nadd %r3, -64\nadd %r3, %r2\nstdw [%r3+0], 1\nmov %r0, 0\nexit",
  "misaligned stack access off (0x0; 0x7)+-64+0 size 8",
);
ok(
  "stack",
  "callee writes the caller's stack",
  "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r0, [%r10-8]\nexit\nf:\nstdw [%r1+0], 7\nmov %r0, 0\nexit",
);
bad(
  "stack",
  "callee spills its stack pointer into the caller's frame",
  "mov %r1, %r10\nadd %r1, -8\ncall local f\nmov %r0, 0\nexit\nf:\nstxdw [%r1+0], %r10\nmov %r0, 0\nexit",
  "cannot spill pointers to stack into stack frame of the caller",
);
ok("stack", "zero stored, zero loaded", "stdw [%r10-8], 0\nldxw %r0, [%r10-4]\nexit");

// ---- context ------------------------------------------------------------------------------

ok("ctx kprobe", "read pt_regs->di", "ldxdw %r0, [%r1+112]\nexit");
ok("ctx kprobe", "narrow read of pt_regs", "ldxw %r0, [%r1+4]\nldxb %r0, [%r1+167]\nexit");
bad(
  "ctx kprobe",
  "write pt_regs",
  "stdw [%r1+0], 1\nmov %r0, 0\nexit",
  "invalid bpf_context access off=0 size=8",
);
bad(
  "ctx kprobe",
  "misaligned pt_regs read",
  "ldxdw %r0, [%r1+3]\nexit",
  "invalid bpf_context access off=3 size=8",
);
bad(
  "ctx kprobe",
  "read past pt_regs",
  "ldxdw %r0, [%r1+168]\nexit",
  "invalid bpf_context access off=168 size=8",
);
bad(
  "ctx kprobe",
  "read before pt_regs",
  "ldxdw %r0, [%r1-8]\nexit",
  "invalid bpf_context access off=-8 size=8",
);
bad(
  "ctx kprobe",
  "store a register into pt_regs",
  "stxdw [%r1+8], %r1\nmov %r0, 0\nexit",
  "invalid bpf_context access off=8 size=8",
);
ok("ctx tracepoint", "read a field", "ldxdw %r0, [%r1+8]\nldxw %r0, [%r1+16]\nexit", {
  progType: P.BPF_PROG_TYPE_TRACEPOINT,
});
bad(
  "ctx tracepoint",
  "read the common header",
  "ldxdw %r0, [%r1+0]\nexit",
  "invalid bpf_context access off=0 size=8",
  { progType: P.BPF_PROG_TYPE_TRACEPOINT },
);
bad(
  "ctx tracepoint",
  "write a field",
  "stw [%r1+8], 0\nmov %r0, 0\nexit",
  "invalid bpf_context access off=8 size=4",
  { progType: P.BPF_PROG_TYPE_TRACEPOINT },
);
ok(
  "ctx perf_event",
  "read sample_period narrowly",
  "ldxw %r0, [%r1+168]\nldxdw %r0, [%r1+176]\nexit",
  { progType: P.BPF_PROG_TYPE_PERF_EVENT },
);
bad(
  "ctx perf_event",
  "narrow register read",
  "ldxw %r0, [%r1+0]\nexit",
  "invalid bpf_context access off=0 size=4",
  { progType: P.BPF_PROG_TYPE_PERF_EVENT },
);
bad(
  "ctx perf_event",
  "read past the data",
  "ldxdw %r0, [%r1+184]\nexit",
  "invalid bpf_context access off=184 size=8",
  { progType: P.BPF_PROG_TYPE_PERF_EVENT },
);
ok("ctx raw_tp", "read the last argument", "ldxdw %r0, [%r1+88]\nexit", {
  progType: P.BPF_PROG_TYPE_RAW_TRACEPOINT,
});
bad(
  "ctx raw_tp",
  "read past 12 arguments",
  "ldxdw %r0, [%r1+96]\nexit",
  "invalid bpf_context access off=96 size=8",
  { progType: P.BPF_PROG_TYPE_RAW_TRACEPOINT },
);
ok("ctx socket filter", "read len, write cb[0]", "ldxw %r0, [%r1+0]\nstw [%r1+48], 1\nexit", {
  progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
});
ok("ctx socket filter", "narrow read of protocol", "ldxh %r0, [%r1+16]\nexit", {
  progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
});
bad(
  "ctx socket filter",
  "write mark",
  "stw [%r1+8], 1\nmov %r0, 0\nexit",
  "invalid bpf_context access off=8 size=4",
  { progType: P.BPF_PROG_TYPE_SOCKET_FILTER },
);
bad(
  "ctx socket filter",
  "read data",
  "ldxw %r0, [%r1+76]\nexit",
  "invalid bpf_context access off=76 size=4",
  { progType: P.BPF_PROG_TYPE_SOCKET_FILTER },
);
bad(
  "ctx socket filter",
  "write past cb",
  "stdw [%r1+64], 1\nmov %r0, 0\nexit",
  "invalid bpf_context access off=64 size=8",
  { progType: P.BPF_PROG_TYPE_SOCKET_FILTER },
);
ok("ctx socket filter", "legacy packet load", "mov %r6, %r1\nldabsb 12\nldindh %r0, 14\nexit", {
  progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
});
bad("ctx socket filter", "legacy packet load without skb in r6", "ldabsb 12\nexit", "R6 !read_ok", {
  progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
});
bad(
  "ctx kprobe",
  "legacy packet load in a kprobe",
  "mov %r6, %r1\nldabsb 12\nexit",
  "BPF_LD_[ABS|IND] instructions not allowed for this program type",
);

// ---- map values ---------------------------------------------------------------------------

ok("map value", "null-checked lookup", `${LOOKUP(3)}\njeq %r0, 0, out\nldxdw %r1, [%r0+0]\n${OUT}`);
bad(
  "map value",
  "lookup used without a null check",
  `${LOOKUP(3)}\nldxdw %r1, [%r0+0]\n${EXIT0}`,
  "R0 invalid mem access 'map_value_or_null'",
);
ok(
  "map value",
  "one check covers every copy",
  `${LOOKUP(3)}\nmov %r6, %r0\njne %r0, 0, use\nexit\nuse:\nldxdw %r1, [%r6+0]\n${EXIT0}`,
);
bad(
  "map value",
  "a copy used on the NULL side",
  `${LOOKUP(3)}\nmov %r6, %r0\njne %r0, 0, out\nldxdw %r1, [%r6+0]\n${OUT}`,
  "R6 invalid mem access 'scalar'",
);
ok("map value", "last 8 bytes", `${LOOKUP(3)}\njeq %r0, 0, out\nstdw [%r0+0], 1\n${OUT}`);
bad(
  "map value",
  "past the value",
  `${LOOKUP(3)}\njeq %r0, 0, out\nldxdw %r1, [%r0+8]\n${OUT}`,
  "invalid access to map value, value_size=8 off=8 size=8\nR0 min value is outside of the allowed memory range",
);
bad(
  "map value",
  "before the value",
  `${LOOKUP(3)}\njeq %r0, 0, out\nldxdw %r1, [%r0-8]\n${OUT}`,
  "invalid access to map value, value_size=8 off=-8 size=8\nR0 min value is outside of the allowed memory range",
);
ok(
  "map value",
  "unaligned but inside",
  `${LOOKUP(4)}\njeq %r0, 0, out\nldxdw %r1, [%r0+3]\n${OUT}`,
);
ok(
  "map value",
  "index checked with if (i < N)",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\njgt %r6, 40, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
);
bad(
  "map value",
  "index check one too loose",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\njgt %r6, 41, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
  "invalid access to map value, value_size=48 off=41 size=8\nR0 max value is outside of the allowed memory range",
);
bad(
  "map value",
  "signed index may be negative",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\njsgt %r6, 40, out\njslt %r6, -8, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
  "R0 min value is negative, either use unsigned index or do a if (index >=0) check.",
);
bad(
  "map value",
  "index with no upper bound",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\njsgt %r6, 0x7fffffff, out\njslt %r6, 0, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
  "R0 unbounded memory access, make sure to bounds check any such access",
);
ok(
  "map value",
  "array lookup with a constant key in range (6.18)",
  `${LOOKUP(4, 3)}\nldxdw %r1, [%r0+0]\n${EXIT0}`,
);
bad(
  "map value",
  "array lookup with a constant key out of range",
  `${LOOKUP(4, 4)}\nldxdw %r1, [%r0+0]\n${EXIT0}`,
  "R0 invalid mem access 'map_value_or_null'",
);
bad(
  "map value",
  "6.1: array lookups may be NULL",
  `${LOOKUP(4, 3)}\nldxdw %r1, [%r0+0]\n${EXIT0}`,
  "R0 invalid mem access 'map_value_or_null'",
  { kernel: "6.1", noKernel: "the 6.1 kernel setting" },
);
ok("map value", "read-only map read", "lddw %r1, map_value 8 0\nldxdw %r0, [%r1+8]\nexit");
bad(
  "map value",
  "read-only map written",
  "lddw %r1, map_value 8 0\nstdw [%r1+0], 1\nmov %r0, 0\nexit",
  "write into map forbidden, value_size=16 off=0 size=8",
);
ok(
  "map value",
  "global data read and written",
  "lddw %r1, map_value 9 8\nldxdw %r0, [%r1+0]\nstdw [%r1+48], 1\nexit",
);
bad(
  "map value",
  "global data past the end",
  "lddw %r1, map_value 9 8\nstdw [%r1+56], 1\nmov %r0, 0\nexit",
  "invalid access to map value, value_size=64 off=64 size=8\nR1 min value is outside of the allowed memory range",
);
bad(
  "map value",
  "global data offset past the value",
  "lddw %r1, map_value 9 64\nmov %r0, 0\nexit",
  "invalid access to map value pointer, value_size=64 off=64",
);
bad(
  "map value",
  "direct value of a hash map",
  "lddw %r1, map_value 3 0\nmov %r0, 0\nexit",
  "no direct value access support for this map type",
);
bad(
  "map value",
  "map pointer dereferenced",
  "lddw %r1, map_fd 3\nldxdw %r0, [%r1+0]\nexit",
  "map_ptr access to 'struct bpf_htab' needs the kernel's BTF, which this verifier does not have",
  {
    noKernel: "6.18 reads struct bpf_map fields through the kernel's BTF; we have none",
  },
);
bad(
  "map value",
  "number dereferenced",
  "mov %r0, 0\nldxdw %r0, [%r0+0]\nexit",
  "R0 invalid mem access 'scalar'",
);

// ---- helpers ------------------------------------------------------------------------------

ok("helpers", "helper of the program type", "call 14\nexit");
bad("helpers", "helper id out of range", "call 1000\nexit", "invalid func unknown#1000");
bad(
  "helpers",
  "helper of another program type",
  "call 9\nexit",
  "program of this type cannot use helper bpf_skb_store_bytes#9",
);
bad(
  "helpers",
  "socket helper in a kprobe",
  "call 46\nexit",
  "program of this type cannot use helper bpf_get_socket_cookie#46",
);
ok("helpers", "socket helper in a socket filter", "call 46\nexit", {
  progType: P.BPF_PROG_TYPE_SOCKET_FILTER,
});
ok("helpers", "non-GPL helper, non-GPL license", "call 14\nexit", { license: "MIT" });
bad(
  "helpers",
  "GPL helper, non-GPL license",
  "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nexit",
  "cannot call GPL-restricted function from non-GPL compatible program",
  { license: "MIT" },
);
ok(
  "helpers",
  "GPL helper, dual license",
  "stdw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nexit",
  { license: "Dual BSD/GPL" },
);
bad(
  "helpers",
  "map argument not a map",
  `mov %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\n${EXIT0}`,
  "R1 type=scalar expected=map_ptr",
);
bad(
  "helpers",
  "key argument a number",
  `lddw %r1, map_fd 3\nmov %r2, 0\ncall 1\n${EXIT0}`,
  "R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
);
bad(
  "helpers",
  "key argument the context",
  `mov %r2, %r1\nlddw %r1, map_fd 3\ncall 1\n${EXIT0}`,
  "R2 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_",
);
ok(
  "helpers",
  "key in a map value",
  `${LOOKUP16}\njeq %r0, 0, out\nmov %r2, %r0\nlddw %r1, map_fd 12\ncall 3\n${OUT}`,
);
bad(
  "helpers",
  "key straddling the frame pointer",
  `mov %r2, %r10\nadd %r2, -2\nlddw %r1, map_fd 3\ncall 1\n${EXIT0}`,
  "invalid read from stack R2 off=-2 size=4",
);
bad(
  "helpers",
  "key larger than its buffer",
  `${LOOKUP16}\njeq %r0, 0, out\nadd %r0, 24\nmov %r2, %r0\nlddw %r1, map_fd 12\ncall 3\n${OUT}`,
  "invalid access to map value, value_size=32 off=24 size=16\nR2 min value is outside of the allowed memory range",
);
ok(
  "helpers",
  "update with key and value on the stack",
  `stdw [%r10-16], 0\nstw [%r10-4], 1\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\nlddw %r1, map_fd 3\ncall 2\n${EXIT0}`,
);
bad(
  "helpers",
  "update with a value buffer too small",
  `stw [%r10-4], 1\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -4\nmov %r4, 0\nlddw %r1, map_fd 3\ncall 2\n${EXIT0}`,
  "invalid read from stack R3 off=-4 size=8",
);
ok(
  "helpers",
  "probe_read into the stack",
  `mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r3, 0\ncall 4\nldxdw %r0, [%r10-8]\nexit`,
);
bad(
  "helpers",
  "probe_read past its buffer",
  `mov %r1, %r10\nadd %r1, -8\nmov %r2, 16\nmov %r3, 0\ncall 4\n${EXIT0}`,
  "invalid write to stack R1 off=-8 size=16",
);
ok(
  "helpers",
  "probe_read of zero bytes",
  `mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\nmov %r3, 0\ncall 4\n${EXIT0}`,
);
bad(
  "helpers",
  "get_current_comm of zero bytes",
  `mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 16\n${EXIT0}`,
  "R2 invalid zero-sized read: u64=[0,0]",
);
ok(
  "helpers",
  "size masked to the buffer",
  `ldxdw %r2, [%r1+0]\nand %r2, 15\nmov %r1, %r10\nadd %r1, -16\nmov %r3, 0\ncall 4\n${EXIT0}`,
);
bad(
  "helpers",
  "size may be negative",
  `ldxdw %r2, [%r1+0]\nmov %r1, %r10\nadd %r1, -16\nmov %r3, 0\ncall 4\n${EXIT0}`,
  "R2 min value is negative, either use unsigned or 'var &= const'",
);
bad(
  "helpers",
  "size without an upper bound",
  `ldxdw %r2, [%r1+0]\nrsh %r2, 1\nmov %r1, %r10\nadd %r1, -16\nmov %r3, 0\ncall 4\n${EXIT0}`,
  "R2 unbounded memory access, use 'var &= const' or 'if (var < const)'",
);
bad(
  "helpers",
  "size larger than the buffer",
  `ldxdw %r2, [%r1+0]\nand %r2, 31\nmov %r1, %r10\nadd %r1, -16\nmov %r3, 0\ncall 4\n${EXIT0}`,
  "invalid write to stack R1 off=-16 size=31",
);
ok(
  "helpers",
  "probe_read into a map value",
  `${LOOKUP(4)}\njeq %r0, 0, out\nmov %r1, %r0\nmov %r2, 48\nmov %r3, 0\ncall 4\n${OUT}`,
);
bad(
  "helpers",
  "probe_read past a map value",
  `${LOOKUP(4)}\njeq %r0, 0, out\nmov %r1, %r0\nmov %r2, 49\nmov %r3, 0\ncall 4\n${OUT}`,
  "invalid access to map value, value_size=48 off=0 size=49\nR1 min value is outside of the allowed memory range",
);
ok(
  "helpers",
  "perf_event_output to a perf event array",
  `mov %r6, %r1\nstdw [%r10-8], 0\nmov %r1, %r6\nlddw %r2, map_fd 7\nlddw %r3, 0xffffffff\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\ncall 25\n${EXIT0}`,
);
bad(
  "helpers",
  "perf_event_output to a hash map",
  `mov %r6, %r1\nstdw [%r10-8], 0\nmov %r1, %r6\nlddw %r2, map_fd 3\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\ncall 25\n${EXIT0}`,
  "cannot pass map_type 1 into func bpf_perf_event_output#25",
);
bad(
  "helpers",
  "lookup in a ring buffer (no key)",
  `${LOOKUP(5)}\n${EXIT0}`,
  "invalid zero-sized read",
);
bad(
  "helpers",
  "lookup in a perf event array",
  `${LOOKUP(4)}\nstw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -8\nlddw %r1, map_fd 7\ncall 1\n${EXIT0}`,
  "cannot pass map_type 4 into func bpf_map_lookup_elem#1",
);
bad(
  "helpers",
  "context argument not the context",
  `mov %r1, %r10\nlddw %r2, map_fd 10\nmov %r3, 0\ncall 27\n${EXIT0}`,
  "R1 type=fp expected=ctx",
);
ok(
  "helpers",
  "get_stackid with a stack trace map",
  `lddw %r2, map_fd 10\nmov %r3, 0\ncall 27\n${EXIT0}`,
);
bad(
  "helpers",
  "get_stackid with an array",
  `lddw %r2, map_fd 4\nmov %r3, 0\ncall 27\n${EXIT0}`,
  "cannot pass map_type 2 into func bpf_get_stackid#27",
);
ok(
  "helpers",
  "tail call through a program array",
  `lddw %r2, map_fd 6\nmov %r3, 1\ncall 12\n${EXIT0}`,
);
bad(
  "helpers",
  "tail call through a hash map",
  `lddw %r2, map_fd 3\nmov %r3, 1\ncall 12\n${EXIT0}`,
  "expected prog array map for tail call",
);
// A map of maps: the element found is the inner map, looked up in turn with the same key.
const INNER = (use: string): string => `${LOOKUP(13)}\njeq %r0, 0, out\n${use}\n${OUT}`;
ok(
  "helpers",
  "map of maps: lookup in the inner map",
  INNER("mov %r1, %r0\nmov %r2, %r10\nadd %r2, -8\ncall 1\njeq %r0, 0, out\nldxdw %r1, [%r0+0]"),
);
bad(
  "helpers",
  "map of maps: inner lookup before the NULL check",
  `${LOOKUP(13)}\nmov %r1, %r0\nmov %r2, %r10\nadd %r2, -8\ncall 1\n${EXIT0}`,
  "R1 type=map_value_or_null expected=map_ptr",
);
bad(
  "helpers",
  "map of maps: inner value past its end",
  INNER("mov %r1, %r0\nmov %r2, %r10\nadd %r2, -8\ncall 1\njeq %r0, 0, out\nldxdw %r1, [%r0+8]"),
  "invalid access to map value, value_size=8 off=8 size=8\nR0 min value is outside of the allowed memory range",
);
bad(
  "helpers",
  "map of maps: writing to the inner map's own fields",
  INNER("stdw [%r0+0], 1"),
  "only read from bpf_array is supported",
);
bad(
  "helpers",
  "update of a read-only map",
  `stw [%r10-4], 0\nstdw [%r10-24], 0\nstdw [%r10-16], 0\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -24\nmov %r4, 0\nlddw %r1, map_fd 8\ncall 2\n${EXIT0}`,
  "write into map forbidden",
);
ok(
  "helpers",
  "trace_printk with a format in .rodata",
  `lddw %r1, map_value 8 0\nmov %r2, 8\nmov %r3, 1\ncall 6\n${EXIT0}`,
);
ok(
  "helpers",
  "CPU id indexes a per-CPU table",
  `call 8\nmov %r6, %r0\nlsh %r6, 3\n${LOOKUP(11, 1)}\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${EXIT0}`,
);
bad(
  "helpers",
  "CPU id times 16 is too far",
  `call 8\nmov %r6, %r0\nlsh %r6, 4\n${LOOKUP(11, 1)}\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${EXIT0}`,
  "invalid access to map value, value_size=16 off=16 size=8\nR0 max value is outside of the allowed memory range",
);
bad("helpers", "4.1: helper not yet there", "call 14\nexit", "invalid func 14", {
  kernel: "4.1",
  noKernel: OLD,
});
ok("helpers", "4.1: ktime_get_ns", "call 5\nexit", { kernel: "4.1", noKernel: OLD });

// ---- ring buffer references ---------------------------------------------------------------

const RESERVE = "lddw %r1, map_fd 5\nmov %r2, 16\nmov %r3, 0\ncall 131";
ok(
  "references",
  "reserve then submit",
  `${RESERVE}\njeq %r0, 0, out\nstdw [%r0+8], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\n${OUT}`,
);
ok(
  "references",
  "reserve then discard",
  `${RESERVE}\njeq %r0, 0, out\nmov %r1, %r0\nmov %r2, 0\ncall 133\n${OUT}`,
);
bad(
  "references",
  "reserved record leaked",
  `${RESERVE}\njeq %r0, 0, out\nstdw [%r0+0], 1\n${OUT}`,
  "BPF_EXIT instruction in main prog would lead to reference leak",
);
bad(
  "references",
  "submit before the null check",
  `${RESERVE}\nmov %r1, %r0\nmov %r2, 0\ncall 132\n${EXIT0}`,
  "R1 type=ringbuf_mem_or_null expected=ringbuf_mem",
);
bad(
  "references",
  "record used after submit",
  `${RESERVE}\njeq %r0, 0, out\nmov %r6, %r0\nmov %r1, %r0\nmov %r2, 0\ncall 132\nstdw [%r6+0], 1\n${OUT}`,
  "R6 invalid mem access 'scalar'",
);
bad(
  "references",
  "submitted twice",
  `${RESERVE}\njeq %r0, 0, out\nmov %r6, %r0\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r1, %r6\nmov %r2, 0\ncall 132\n${OUT}`,
  "R1 type=scalar expected=ringbuf_mem",
);
bad(
  "references",
  "size not a constant",
  "ldxdw %r2, [%r1+0]\nlddw %r1, map_fd 5\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit",
  "R2 is not a known constant'",
);
bad(
  "references",
  "record written past its size",
  `${RESERVE}\njeq %r0, 0, out\nstdw [%r0+16], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\n${OUT}`,
  "invalid access to memory, mem_size=16 off=16 size=8\nR0 min value is outside of the allowed memory range",
);
bad(
  "references",
  "submit a moved record",
  `${RESERVE}\njeq %r0, 0, out\nmov %r1, %r0\nadd %r1, 8\nmov %r2, 0\ncall 132\n${OUT}`,
  "R1 must have zero offset when passed to release func or trusted arg to kfunc",
);
bad(
  "references",
  "submit a stack buffer",
  `mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\n${EXIT0}`,
  "R1 type=fp expected=ringbuf_mem",
);
ok(
  "references",
  "reserved record output in pieces",
  `${RESERVE}\njne %r0, 0, use\nexit\nuse:\nmov %r6, %r0\nstdw [%r6+0], 1\nstdw [%r6+8], 2\nmov %r1, %r6\nmov %r2, 0\ncall 132\n${EXIT0}`,
);
bad(
  "references",
  "tail call while holding a record",
  `mov %r6, %r1\n${RESERVE}\njeq %r0, 0, out\nmov %r7, %r0\nmov %r1, %r6\nlddw %r2, map_fd 6\nmov %r3, 0\ncall 12\nmov %r1, %r7\nmov %r2, 0\ncall 133\n${OUT}`,
  "tail_call would lead to reference leak",
);

// ---- branches -----------------------------------------------------------------------------

ok(
  "branches",
  "dead branch not walked",
  `mov %r1, 3\njgt %r1, 5, +2\n${EXIT0}\nldxdw %r0, [%r0+0]\nexit`,
);
bad(
  "branches",
  "live branch walked",
  `ldxdw %r1, [%r1+0]\njgt %r1, 5, +2\n${EXIT0}\nldxdw %r0, [%r0+0]\nexit`,
  "R0 !read_ok",
);
ok(
  "branches",
  "32-bit compare bounds the subregister",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\nmov32 %r6, %r6\njgt32 %r6, 40, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
);
bad(
  "branches",
  "32-bit compare does not bound 64 bits",
  `ldxdw %r6, [%r1+0]\n${LOOKUP(4)}\njeq %r0, 0, out\njgt32 %r6, 40, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
  "math between map_value pointer and register with unbounded min value is not allowed",
);
ok(
  "branches",
  "jset learns a bit",
  `ldxdw %r2, [%r1+0]\nand %r2, 8\njset %r2, 8, +2\nmov %r0, 0\nexit\nmov %r0, %r2\nexit`,
);
ok(
  "branches",
  "register compare narrows both",
  `ldxdw %r6, [%r1+0]\nmov %r7, 40\n${LOOKUP(4)}\njeq %r0, 0, out\njgt %r6, %r7, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
);
bad(
  "branches",
  "reserved src_reg in an immediate compare",
  "mov %r0, 0\nraw 0x15 0 1 0 0\nexit",
  "BPF_JMP/JMP32 uses reserved fields",
);
bad(
  "branches",
  "reserved fields in goto",
  "mov %r0, 0\nraw 0x05 0 0 0 1\nexit",
  "BPF_JA uses reserved fields",
);
ok(
  "branches",
  "copies narrowed together",
  `ldxdw %r6, [%r1+0]\nmov %r7, %r6\n${LOOKUP(4)}\njeq %r0, 0, out\njgt %r6, 40, out\nadd %r0, %r7\nldxdw %r1, [%r0+0]\n${OUT}`,
);
bad(
  "branches",
  "a changed copy is not narrowed",
  `ldxdw %r6, [%r1+0]\nmov %r7, %r6\nadd %r7, 1\n${LOOKUP(4)}\njeq %r0, 0, out\njgt %r6, 40, out\nadd %r0, %r7\nldxdw %r1, [%r0+0]\n${OUT}`,
  "math between map_value pointer and register with unbounded min value is not allowed",
  {
    noKernel: "6.18 links `r7 = r6 + 1` to r6 (BPF_ADD_CONST) and narrows it too; we drop the link",
  },
);
ok(
  "branches",
  "x & c split for x in [-1, 0] (6.18)",
  `ldxdw %r6, [%r1+0]\narsh %r6, 63\nand %r6, 40\n${LOOKUP(4)}\njeq %r0, 0, out\nadd %r0, %r6\nldxdw %r1, [%r0+0]\n${OUT}`,
);

// ---- loops --------------------------------------------------------------------------------

ok(
  "loops",
  "bounded loop",
  "mov %r6, 0\nmov %r7, 0\nl:\nadd %r7, %r6\nadd %r6, 1\njlt %r6, 100, l\nmov %r0, %r7\nexit",
);
bad(
  "loops",
  "loop back-edge on 4.1",
  "mov %r6, 0\nl:\nadd %r6, 1\njlt %r6, 100, l\nmov %r0, %r6\nexit",
  "back-edge from insn 2 to 1",
  { kernel: "4.1", noKernel: OLD },
);
ok(
  "loops",
  "loop over a map value",
  `${LOOKUP(4)}\njeq %r0, 0, out\nmov %r6, 0\nl:\nmov %r1, %r0\nadd %r1, %r6\nstb [%r1+0], 0\nadd %r6, 1\njlt %r6, 48, l\n${OUT}`,
);
bad(
  "loops",
  "loop one step too far",
  `${LOOKUP(4)}\njeq %r0, 0, out\nmov %r6, 0\nl:\nmov %r1, %r0\nadd %r1, %r6\nstb [%r1+0], 0\nadd %r6, 1\njle %r6, 48, l\n${OUT}`,
  "invalid access to map value, value_size=48 off=48 size=1\nR1 min value is outside of the allowed memory range",
);
bad(
  "loops",
  "loop that never ends",
  "mov %r0, 0\nl:\njeq %r0, 1, +1\nja l\nexit",
  "infinite loop detected at insn 1",
);
bad(
  "loops",
  "loop that does not change state",
  "ldxdw %r1, [%r1+0]\nmov %r0, 0\nl:\nadd %r1, 1\njne %r1, 0, l\nexit",
  "infinite loop detected at insn 2",
);
bad(
  "loops",
  "loop longer than the complexity limit",
  "mov %r0, 0\nl:\nadd %r0, 1\njlt %r0, 600000, l\nexit",
  "BPF program is too large. Processed 1000001 insn",
  { logLevel: 0 },
);
ok(
  "loops",
  "loop with a data-dependent bound",
  "ldxdw %r6, [%r1+0]\nand %r6, 15\nmov %r0, 0\nl:\nadd %r0, 1\njlt %r0, %r6, l\nexit",
);

// ---- bpf-to-bpf calls ---------------------------------------------------------------------

ok(
  "calls",
  "function returns a value",
  "mov %r1, 5\ncall local f\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit",
);
ok(
  "calls",
  "eight frames",
  "call local f1\nexit\n" +
    [1, 2, 3, 4, 5, 6].map((k) => `f${k}:\ncall local f${k + 1}\nexit`).join("\n") +
    "\nf7:\nmov %r0, 0\nexit",
);
bad(
  "calls",
  "nine frames",
  "call local f\nmov %r0, 0\nexit\nf:\ncall local f\nexit",
  "the call stack of 9 frames is too deep",
);
bad(
  "calls",
  "callee returns its stack",
  "call local f\nmov %r0, 0\nexit\nf:\nmov %r0, %r10\nexit",
  "cannot return stack pointer to the caller",
);
bad(
  "calls",
  "callee leaves r0 unset, caller reads it",
  "call local f\nexit\nf:\nexit",
  "R0 !read_ok",
);
ok(
  "calls",
  "callee returns a map value",
  `call local f\njeq %r0, 0, out\nldxdw %r1, [%r0+0]\n${OUT}\nf:\n${LOOKUP(3)}\nexit`,
);
ok(
  "calls",
  "kprobe frames may exceed 512 bytes together (6.18 private stacks)",
  "stdw [%r10-496], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-32], 0\nmov %r0, 0\nexit",
);
bad(
  "calls",
  "socket filter frames over 512 bytes together",
  "stdw [%r10-496], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-32], 0\nmov %r0, 0\nexit",
  "combined stack size of 2 calls is 528. Too large",
  { progType: P.BPF_PROG_TYPE_SOCKET_FILTER },
);
ok(
  "calls",
  "socket filter frames within 512 bytes",
  "stdw [%r10-256], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-256], 0\nmov %r0, 0\nexit",
  { progType: P.BPF_PROG_TYPE_SOCKET_FILTER },
);
bad(
  "calls",
  "4.1: no bpf-to-bpf calls",
  "call local f\nexit\nf:\nmov %r0, 0\nexit",
  "BPF_CALL uses reserved fields",
  { kernel: "4.1", noKernel: OLD },
);
bad(
  "calls",
  "reserved fields in a call",
  "raw 0x85 1 0 0 5\nexit",
  "BPF_CALL uses reserved fields",
);
bad(
  "calls",
  "kernel function call",
  "raw 0x85 0 2 0 5\nexit",
  "calling kernel functions is not supported",
  {
    noKernel: "kfuncs need the kernel's BTF; the kernel names the BTF id instead",
  },
);

// ---- return values ------------------------------------------------------------------------

ok("return value", "cgroup_skb returns 1", "mov %r0, 1\nexit", {
  progType: P.BPF_PROG_TYPE_CGROUP_SKB,
});
bad(
  "return value",
  "cgroup_skb returns 5",
  "mov %r0, 5\nexit",
  "At program exit the register R0 has smin=5 smax=5 should have been in [0, 1]",
  { progType: P.BPF_PROG_TYPE_CGROUP_SKB },
);
bad(
  "return value",
  "cgroup_skb returns a random 0..3",
  "call 7\nand %r0, 3\nexit",
  "At program exit the register R0 has smin=0 smax=3 should have been in [0, 1]",
  { progType: P.BPF_PROG_TYPE_CGROUP_SKB },
);
ok("return value", "kprobe returns anything", "ldxdw %r0, [%r1+0]\nexit");

// ---- atomics ------------------------------------------------------------------------------

ok(
  "atomics",
  "atomic add on the stack",
  "stdw [%r10-8], 0\nmov %r1, 1\nlock add [%r10-8], %r1\nmov %r0, 0\nexit",
);
ok(
  "atomics",
  "fetch-add on a map value",
  `${LOOKUP(3)}\njeq %r0, 0, out\nmov %r1, 1\nlock fetch add [%r0+0], %r1\n${OUT}`,
);
ok(
  "atomics",
  "compare-exchange",
  "stdw [%r10-8], 0\nmov %r0, 0\nmov %r1, 1\nlock cmpxchg [%r10-8], %r1\nexit",
);
bad(
  "atomics",
  "compare-exchange without r0",
  "stdw [%r10-8], 0\nmov %r1, 1\nlock cmpxchg [%r10-8], %r1\nmov %r0, 0\nexit",
  "R0 !read_ok",
);
bad(
  "atomics",
  "atomic on the context",
  "mov %r2, 1\nlock add [%r1+0], %r2\nmov %r0, 0\nexit",
  "BPF_ATOMIC stores into R1 ctx is not allowed",
);
bad(
  "atomics",
  "misaligned atomic on a map value",
  `${LOOKUP(4)}\njeq %r0, 0, out\nmov %r1, 1\nlock add [%r0+4], %r1\n${OUT}`,
  "misaligned value access off 0+0+4 size 8",
);
bad(
  "atomics",
  "atomic past a map value",
  `${LOOKUP(3)}\njeq %r0, 0, out\nmov %r1, 1\nlock add [%r0+8], %r1\n${OUT}`,
  "invalid access to map value, value_size=8 off=8 size=8\nR0 min value is outside of the allowed memory range",
);

// ---- precision and pruning ----------------------------------------------------------------

// Two paths reach the join with r6 = 0 and r6 = 64: pruning must not treat them as equal, since
// r6 then indexes the 48-byte value.
const JOIN = (a: number, b: number): string => `ldxdw %r1, [%r1+0]
jeq %r1, 0, other
mov %r6, ${a}
ja join
other:
mov %r6, ${b}
join:
${LOOKUP(4)}
jeq %r0, 0, out
add %r0, %r6
ldxdw %r1, [%r0+0]
${OUT}`;
ok("precision", "both paths in bounds", JOIN(0, 40));
bad(
  "precision",
  "one path out of bounds",
  JOIN(0, 64),
  "invalid access to map value, value_size=48 off=64 size=8\nR0 min value is outside of the allowed memory range",
);
const SPILLED = (a: number, b: number): string => `ldxdw %r1, [%r1+0]
mov %r6, ${a}
jeq %r1, 0, keep
mov %r6, ${b}
keep:
stxdw [%r10-16], %r6
${LOOKUP(4)}
jeq %r0, 0, out
ldxdw %r6, [%r10-16]
add %r0, %r6
ldxdw %r1, [%r0+0]
${OUT}`;
ok("precision", "spilled index, both in bounds", SPILLED(8, 16));
bad(
  "precision",
  "spilled index, one out of bounds",
  SPILLED(8, 48),
  "invalid access to map value, value_size=48 off=48 size=8\nR0 min value is outside of the allowed memory range",
);
ok(
  "precision",
  "imprecise values are pruned",
  `ldxdw %r1, [%r1+0]\n` +
    Array.from({ length: 14 }, (_, k) => `jset %r1, ${1 << k}, +1\nmov %r6, ${k}`).join("\n") +
    `\n${EXIT0}`,
);

// ---- callbacks (bpf_loop, bpf_for_each_map_elem) -------------------------------------------

// bpf_loop(nr, cb, fp-8, flags) with a u64 context at fp-8 (initialised to `init`).
const LOOP = (
  nr: string,
  cb: string,
  o: { init?: string; flags?: string; after?: string } = {},
): string => `${o.init ?? "stdw [%r10-8], 0"}
${nr}
lddw %r2, func cb
mov %r3, %r10
add %r3, -8
mov %r4, ${o.flags ?? "0"}
call 181
${o.after ?? EXIT0}
cb:
${cb}`;
// The callback adds one to the counter in its context.
const COUNT = "ldxdw %r0, [%r2]\nadd %r0, 1\nstxdw [%r2], %r0\nmov %r0, 0\nexit";
ok("callbacks", "bpf_loop: counter in the caller's stack", LOOP("mov %r1, 3", COUNT));
ok(
  "callbacks",
  "bpf_loop: unknown number of iterations converges",
  LOOP("call 7\nmov %r1, %r0", COUNT),
);
ok(
  "callbacks",
  "bpf_loop: counter is unknown after the loop, checked before use",
  LOOP("mov %r1, 4", COUNT, {
    after: `ldxdw %r6, [%r10-8]
${LOOKUP(4)}
jeq %r0, 0, out
jgt %r6, 5, out
lsh %r6, 3
add %r0, %r6
ldxdw %r0, [%r0+0]
${OUT}`,
  }),
);
bad(
  "callbacks",
  "bpf_loop: counter used after the loop without a check",
  LOOP("mov %r1, 8", COUNT, {
    after: `ldxdw %r6, [%r10-8]
${LOOKUP(4)}
jeq %r0, 0, out
lsh %r6, 3
add %r0, %r6
ldxdw %r0, [%r0+0]
${OUT}`,
  }),
  "invalid access to map value, value_size=48 off=48 size=8\nR0 min value is outside of the allowed memory range",
);
const INDEX = (check: string): string => `mov %r6, %r1
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_fd 4
call 1
jeq %r0, 0, done
${check}
lsh %r6, 3
add %r0, %r6
stdw [%r0+0], 1
done:
mov %r0, 0
exit`;
ok(
  "callbacks",
  "bpf_loop: the index, checked, indexes a map value",
  LOOP("mov %r1, 6", INDEX("jgt %r6, 5, done")),
);
bad(
  "callbacks",
  "bpf_loop: the index is not bounded by nr_loops",
  LOOP("mov %r1, 6", INDEX("")),
  "math between map_value pointer and register with unbounded min value is not allowed",
);
bad(
  "callbacks",
  "bpf_loop: callback returns 2",
  LOOP("mov %r1, 3", "mov %r0, 2\nexit"),
  "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]",
);
bad(
  "callbacks",
  "bpf_loop: callback returns an unknown value",
  LOOP("mov %r1, 3", "call 7\nexit"),
  "At callback return the register R0 has unknown scalar value should have been in [0, 1]",
);
ok(
  "callbacks",
  "bpf_loop: callback returns 0 or 1",
  LOOP("mov %r1, 3", "call 7\nand %r0, 1\nexit"),
);
bad(
  "callbacks",
  "bpf_loop: callback returns a pointer",
  LOOP("mov %r1, 3", "lddw %r0, map_value 9 0\nexit"),
  "R0 not a scalar value",
);
bad(
  "callbacks",
  "bpf_loop: callback writes past its context",
  LOOP("mov %r1, 3", "stdw [%r2+8], 1\nmov %r0, 0\nexit"),
  "invalid write to stack R2 off=0 size=8",
);
bad(
  "callbacks",
  "bpf_loop: callback reads r3",
  LOOP("mov %r1, 3", "mov %r0, %r3\nexit"),
  "R3 !read_ok",
);
ok(
  "callbacks",
  "bpf_loop: no context (NULL)",
  LOOP("mov %r1, 3", "mov %r0, 0\nexit").replace("mov %r3, %r10\nadd %r3, -8", "mov %r3, 0"),
);
bad(
  "callbacks",
  "bpf_loop: context in a map value",
  LOOP("mov %r1, 3", "mov %r0, 0\nexit").replace(
    "mov %r3, %r10\nadd %r3, -8",
    "lddw %r3, map_value 9 0",
  ),
  "R3 type=map_value expected=fp",
);
bad(
  "callbacks",
  "bpf_loop: the callback is not a function address",
  LOOP("mov %r1, 3", "mov %r0, 0\nexit").replace("call 181", "mov %r2, 0\ncall 181"),
  "R2 type=scalar expected=func",
);
bad(
  "callbacks",
  "bpf_loop: a moved function address",
  LOOP("mov %r1, 3", "mov %r0, 0\nexit").replace("call 181", "add %r2, 8\ncall 181"),
  "dereference of modified func ptr R2 off=8 disallowed",
);
ok(
  "callbacks",
  "bpf_loop: flags other than 0 (the helper fails at run time)",
  LOOP("mov %r1, 3", COUNT, { flags: "1" }),
);
ok(
  "callbacks",
  "bpf_loop: zero iterations never enter the callback",
  LOOP("mov %r1, 0", "mov %r0, 2\nexit"),
);
ok(
  "callbacks",
  "bpf_loop: nested loops",
  LOOP(
    "mov %r1, 2",
    `mov %r1, 2
lddw %r2, func inner
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
inner:
mov %r0, 1
exit`,
  ),
);
bad(
  "callbacks",
  "bpf_loop: the callback is not static",
  LOOP("mov %r1, 3", COUNT),
  "callback function not static",
  { globalFuncs: [1] },
);
bad("callbacks", "bpf_loop: no BTF func_info", LOOP("mov %r1, 3", COUNT), "missing btf func_info", {
  noBtf: true,
});
ok(
  "callbacks",
  "bpf_for_each_map_elem: values of a hash map",
  `lddw %r1, map_fd 3
lddw %r2, func cb
mov %r3, 0
mov %r4, 0
call 164
${EXIT0}
cb:
ldxdw %r0, [%r3+0]
ldxw %r0, [%r2+0]
mov %r0, 0
exit`,
);
bad(
  "callbacks",
  "bpf_for_each_map_elem: reading past the value",
  `lddw %r1, map_fd 3
lddw %r2, func cb
mov %r3, 0
mov %r4, 0
call 164
${EXIT0}
cb:
ldxdw %r0, [%r3+8]
mov %r0, 0
exit`,
  "invalid access to map value, value_size=8 off=8 size=8\nR3 min value is outside of the allowed memory range",
);

bad(
  "callbacks",
  "bpf_for_each_map_elem: a ring buffer",
  `lddw %r1, map_fd 5
lddw %r2, func cb
mov %r3, 0
mov %r4, 0
call 164
${EXIT0}
cb:
mov %r0, 0
exit`,
  "callback function not allowed for map",
);
ok(
  "callbacks",
  "bpf_for_each_map_elem: an array, counting in the caller's stack",
  `stdw [%r10-8], 0
lddw %r1, map_fd 4
lddw %r2, func cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 164
${EXIT0}
cb:
ldxdw %r0, [%r3+40]
ldxdw %r1, [%r4+0]
add %r1, %r0
stxdw [%r4+0], %r1
mov %r0, 0
exit`,
);
ok(
  "callbacks",
  "bpf_loop: the callback calls a function",
  LOOP(
    "mov %r1, 5",
    "mov %r6, %r2\ncall local f\nldxdw %r1, [%r6]\nadd %r1, %r0\nstxdw [%r6], %r1\nmov %r0, 0\nexit\nf:\nmov %r0, 1\nexit",
  ),
);
ok(
  "callbacks",
  "bpf_loop: two calls share a callback",
  LOOP("mov %r1, 2", COUNT, {
    after: `mov %r1, 3
lddw %r2, func cb
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
${EXIT0}`,
  }),
);

bad(
  "callbacks",
  "bpf_loop: a pointer as the number of iterations",
  `lddw %r2, func cb
mov %r3, 0
mov %r4, 0
call 181
${EXIT0}
cb:
ldxdw %r0, [%r5+0]
exit`,
  "verifier bug: backtracking misuse",
);

bad(
  "callbacks",
  "bpf_loop: the callback address is inside the main function",
  `mov %r1, 3
lddw %r2, func mid
mov %r3, 0
mov %r4, 0
call 181
mid:
mov %r0, 0
exit`,
  "last insn is not an exit or jmp",
);
bad(
  "callbacks",
  "bpf_loop: the callback address is outside the program",
  "mov %r1, 3\nraw 0x18 2 4 0 40\nraw 0 0 0 0 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit",
  "call to invalid destination",
  { noBtf: true },
);

export default cases;
