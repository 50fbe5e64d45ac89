// Errors of the simulated kernel. A system call the kernel refuses becomes a KernelError that
// carries the errno the real kernel returns, so a caller that speaks the ABI (the bpf() facade)
// can hand back -errno, and a human gets the call, the object and the reason in the message.
import { TsbpfError } from "../error.js";
import { Errno, type ErrnoName } from "../uapi/errno.js";

export class KernelError extends TsbpfError {
  readonly errno: number;
  constructor(
    readonly errnoName: ErrnoName,
    /** what was called: "perf_event_open", "ioctl(fd 5, PERF_EVENT_IOC_SET_BPF)" ... */
    readonly call: string,
    readonly reason: string,
  ) {
    super(`${call}: ${reason} (${errnoName})`);
    this.errno = Errno[errnoName];
  }
}

/** Run a system call and return its result, or -errno if the kernel refused it. */
export function syscallResult(fn: () => number): number {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KernelError) return -err.errno;
    throw err;
  }
}

/** A definition of the simulated kernel itself is inconsistent (an internal type error). */
export class KernelTypeError extends TsbpfError {}
