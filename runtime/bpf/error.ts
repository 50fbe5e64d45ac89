// The error a bpf() command raises when the simulated kernel refuses it. It carries what the
// real system call would return (the errno, positive as in errno.h), the command, a reason in
// plain words, and for BPF_PROG_LOAD the verifier log the kernel wrote (possibly truncated).
import { TsbpfError } from "../error.js";
import { bpfCmdName } from "../uapi/bpf.js";
import { errnoName } from "../uapi/errno.js";

export class BpfSyscallError extends TsbpfError {
  constructor(
    /** positive errno: Errno.EINVAL, Errno.EBADF ... */
    readonly errno: number,
    /** enum bpf_cmd */
    readonly cmd: number,
    /** why, in plain words (what the kernel would say in the verifier log or dmesg) */
    readonly reason: string,
    /** the verifier log as the kernel wrote it, for BPF_PROG_LOAD */
    readonly log?: string,
  ) {
    super(`bpf(${bpfCmdName(cmd) ?? `cmd ${cmd}`}): ${reason} (${errnoName(errno) ?? errno})`);
  }

  /** "EINVAL" */
  get errnoName(): string {
    return errnoName(this.errno) ?? `errno ${this.errno}`;
  }
}
