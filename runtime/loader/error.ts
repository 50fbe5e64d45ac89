// Why an object could not be loaded: the map or program (with its ELF section) that failed, the
// reason, the errno the bpf() call returned, and the verifier log when there is one.
import { TsbpfError } from "../error.js";
import { errnoName } from "../uapi/errno.js";

export class LoadError extends TsbpfError {
  constructor(
    /** "tracex2.bpf.o: section 'kprobe/vfs_read': program 'count_reads'" or "... map 'counts'" */
    readonly where: string,
    readonly reason: string,
    /** positive errno of the failed bpf() call, 0 when no call failed */
    readonly errno = 0,
    /** the verifier log ("" when none) */
    readonly log = "",
  ) {
    super(`${where}: ${reason}${errno ? ` (${errnoName(errno) ?? `errno ${errno}`})` : ""}`);
  }
}
