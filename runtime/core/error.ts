// Why a CO-RE relocation could not be applied at all (libbpf fails the object load for these):
// a malformed relocation record, an ambiguous match, an instruction that is not what the
// relocation says. A relocation whose field or type is merely absent from the target is not an
// error: its instruction is poisoned (see patch.ts) and the verifier objects only if it runs.
import { TsbpfError } from "../error.js";

export class CoreRelocationError extends TsbpfError {
  constructor(
    /** "prog 'handle_exec': relo #3: insn 12" */
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${where}: ${reason}`);
  }
}

/** A __kconfig or __ksym extern the simulated kernel cannot satisfy. */
export class ExternError extends TsbpfError {}

/** A relocation record or BTF the relocator cannot work with; relocate.ts adds the place. */
export class CoreSpecError extends TsbpfError {}
