// The one error the loader API raises for anything the simulated kernel refused or the caller
// asked for at the wrong time: it says where (object, program or map), which call failed (a bpf()
// command, perf_event_open, an ioctl, or the API method), why, the errno the real call would
// have returned, and for BPF_PROG_LOAD the verifier log.
import { BpfSyscallError } from "../bpf/error.js";
import { TsbpfError } from "../error.js";
import { KernelError } from "../kernel/error.js";
import { MapError } from "../maps/error.js";
import { bpfCmdName } from "../uapi/bpf.js";
import { Errno, errnoName, type ErrnoName } from "../uapi/errno.js";

export class BpfError extends TsbpfError {
  constructor(
    /** "opensnoop.bpf.o: program 'trace_open'" */
    readonly where: string,
    /** "BPF_PROG_LOAD", "perf_event_open", "ioctl(PERF_EVENT_IOC_SET_BPF)", "map.typed" ... */
    readonly command: string,
    /** in plain words */
    readonly reason: string,
    /** positive errno (0 when no system call failed) */
    readonly errno = 0,
    /** the verifier log ("" when there is none) */
    readonly log = "",
  ) {
    const code = errno === 0 ? "" : ` (${errnoName(errno) ?? `errno ${errno}`})`;
    super(`${where}: ${command}: ${reason}${code}`);
  }

  /** "EINVAL", or "" when no system call failed */
  get errnoName(): string {
    return this.errno === 0 ? "" : (errnoName(this.errno) ?? `errno ${this.errno}`);
  }

  /** An error for the caller's misuse of the API (wrong phase, unknown name ...). */
  static usage(where: string, method: string, reason: string, errno: ErrnoName = "EINVAL") {
    return new BpfError(where, method, reason, Errno[errno]);
  }
}

/**
 * The same failure as a BpfError: `command` names the call when the error itself does not
 * (a KernelError names it in its own words; a BpfSyscallError carries its bpf() command).
 * Anything that is not a user-caused error is returned as it was, to be rethrown.
 */
export function asBpfError(err: unknown, where: string, command: string): unknown {
  if (err instanceof BpfError) return err;
  let wrapped: BpfError | undefined;
  if (err instanceof BpfSyscallError) {
    const cmd = bpfCmdName(err.cmd) ?? command;
    wrapped = new BpfError(where, cmd, err.reason, err.errno, err.log ?? "");
  } else if (err instanceof KernelError) {
    wrapped = new BpfError(where, command, `${err.call}: ${err.reason}`, err.errno);
  } else if (err instanceof MapError) {
    wrapped = new BpfError(where, command, err.message, err.errno);
  } else if (err instanceof TsbpfError) {
    wrapped = new BpfError(where, command, err.message);
  }
  if (wrapped === undefined) return err;
  wrapped.cause = err;
  return wrapped;
}

/** Run `fn`; a user-caused failure comes out as a BpfError naming `where` and `command`. */
export function attempt<T>(where: string, command: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw asBpfError(err, where, command);
  }
}
