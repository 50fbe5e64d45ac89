// Errors a running BPF program can raise. All are TsbpfErrors naming the program, the
// instruction index (pc) and the reason.
import { TsbpfError } from "../error.js";
import type { MemoryFault } from "./memory.js";

/** Base of every error raised while a program runs. */
export class VmError extends TsbpfError {
  constructor(
    readonly program: string,
    readonly pc: number,
    readonly reason: string,
  ) {
    super(`${program}: insn ${pc}: ${reason}`);
  }
}

/**
 * The program did something the machine cannot do: an out-of-bounds or unmapped access, an
 * unknown opcode or helper, the call depth limit. `memory` is set for memory faults.
 */
export class VmFault extends VmError {
  constructor(
    program: string,
    pc: number,
    reason: string,
    readonly memory?: MemoryFault,
  ) {
    super(program, pc, reason);
  }
}

/** The run used up its instruction budget (a runaway, unverified program). */
export class BudgetExceeded extends VmError {
  constructor(
    program: string,
    pc: number,
    readonly budget: number,
  ) {
    super(program, pc, `instruction budget of ${budget} exhausted (runaway program?)`);
  }
}
