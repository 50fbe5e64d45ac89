// How the verifier reports a rejected program: VerifierError carries the kernel's words for the
// fault, the instruction it happened at, the C source place when line info is known, and a
// one-line hint in plain words.
import { TsbpfError } from "../error.js";

/** Where a program's instruction came from in C (from .BTF.ext line info). */
export interface SourcePlace {
  file: string;
  line: number;
  col: number;
  /** the text of the source line, when known */
  text?: string;
}

export class VerifierError extends TsbpfError {
  constructor(
    /** instruction index of the fault, or -1 for whole-program faults */
    readonly insnIndex: number,
    /** the kernel verifier's message (its last lines before the statistics) */
    readonly kernelMessage: string,
    /** a plain-words explanation */
    readonly hint: string,
    readonly source: SourcePlace | undefined,
    readonly progName: string | undefined,
    errno?: number,
  ) {
    super(formatMessage(insnIndex, kernelMessage, hint, source, progName));
    this.errno = errno ?? errnoFor(kernelMessage);
  }

  /** The errno BPF_PROG_LOAD fails with (EACCES, EINVAL, E2BIG, EBADF ...). */
  readonly errno: number;
}

function formatMessage(
  insnIndex: number,
  kernelMessage: string,
  hint: string,
  source: SourcePlace | undefined,
  progName: string | undefined,
): string {
  const where: string[] = [];
  if (source) where.push(`${source.file}:${source.line}:${source.col}`);
  if (progName) where.push(`program '${progName}'`);
  if (insnIndex >= 0) where.push(`insn ${insnIndex}`);
  const reason = kernelMessage.split("\n").filter(Boolean).join("; ");
  let text = `${where.join(": ")}${where.length ? ": " : ""}${reason}`;
  if (source?.text) text += ` [${source.text.trim()}]`;
  if (hint) text += ` (hint: ${hint})`;
  return text;
}

const EPERM = 1;
const EBADF = 9;
const EACCES = 13;
const EINVAL = 22;
const E2BIG = 7;
const ENOTSUPP = 524;

// The errno BPF_PROG_LOAD returns with each kernel message (EACCES unless listed).
const ERRNO_RULES: [RegExp, number][] = [
  [
    /^BPF program is too large|^the call stack of \d+ frames is too deep|^program of \d+ insns is too large/,
    E2BIG,
  ],
  [/^fd -?\d+ is not pointing to valid bpf_map/, EBADF],
  [
    /^(jump out of range|last insn|unreachable insn|back-edge|jump into the middle|unknown opcode|invalid bpf_ld_imm64|unrecognized bpf_ld_imm64|call to invalid|empty program|malformed instruction|unknown insn class|direct value offset|no direct value access|invalid access to map value pointer|fd_idx without)/,
    EINVAL,
  ],
  [
    /uses reserved fields$|^invalid BPF_(ALU|LD|JMP)|^div by zero|^invalid shift|^invalid func|^program of this type cannot use helper|^unknown func/,
    EINVAL,
  ],
  [
    /^cannot call GPL-restricted|^infinite loop detected|would lead to reference leak|^expected prog array map|^cannot pass map_type|^cannot return stack pointer|^helper call might sleep/,
    EINVAL,
  ],
  [
    /^The sequence of \d+ jumps is too complex|^cannot spill pointers to stack into stack frame/,
    EINVAL,
  ],
  [
    /^math between .* pointer and|pointer offset -?\d+ is not allowed|makes .* pointer be out of bounds/,
    EINVAL,
  ],
  [/^BPF_LD_\[ABS\|IND\] instructions|^At program exit the register R0 has/, EINVAL],
  [
    /reference has not been acquired|must have zero offset when passed to release|must be referenced when passed to release/,
    EINVAL,
  ],
  [
    /^At program exit the register R0 is not a known value|^calling kernel functions|callbacks, timers and spin locks/,
    EINVAL,
  ],
  [/^verifier internal error|^kernel subsystem misconfigured/, EPERM],
  [/not supported/, ENOTSUPP],
];

/** The errno the kernel returns with this verifier message (first line). */
export function errnoFor(message: string): number {
  const first = message.split("\n")[0]!;
  // Stack bounds: a start outside the frame is EACCES, an end past fp EINVAL.
  const stack = /^invalid (?:read from|write to) stack R\d+ off=(-?\d+) size=(\d+)$/.exec(first);
  if (stack) {
    const off = Number(stack[1]);
    if (off < -512 || off > -1) return EACCES;
    return off + Number(stack[2]) > 0 ? EINVAL : EACCES;
  }
  for (const [re, errno] of ERRNO_RULES) if (re.test(first)) return errno;
  return EACCES;
}

/** Thrown inside the verifier to stop at a fault; turned into VerifierError at the top. */
export class VerifyAbort extends Error {
  constructor(
    /** already printed to the log */
    readonly kernelMessage: string,
    readonly hint: string,
    readonly insnIndex: number,
    /** the errno when the message alone does not tell it */
    readonly errno?: number,
  ) {
    super(kernelMessage);
  }
}
