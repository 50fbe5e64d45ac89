// A minimal AttachableProg around the interpreter, for the kernel tests (the bpf() facade
// provides the real one): a prepared Program, one Interpreter per CPU, reference counts.
import { assemble } from "../../runtime/isa/asm.js";
import { BpfProgType } from "../../runtime/uapi/bpf.js";
import { HelperTable, type Helper } from "../../runtime/vm/helpers.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { prepareProgram, type Program } from "../../runtime/vm/program.js";
import type { AttachableProg } from "../../runtime/kernel/attach.js";
import type { KernelCpu } from "../../runtime/kernel/cpu.js";
import type { SimKernel } from "../../runtime/kernel/kernel.js";
import { FileKind, KernelFile } from "../../runtime/kernel/files.js";

/**
 * A loaded program as the facade will present it: a prepared Program run by one Interpreter
 * per CPU (the CPU's slot), reference counted, with a misses counter.
 */
export class TestProg implements AttachableProg {
  refs = 1;
  released = false;
  runs = 0;
  misses = 0;
  readonly program: Program;
  private readonly vms: Interpreter<KernelCpu>[];

  constructor(
    readonly kernel: SimKernel,
    source: string | Program,
    readonly progType: number = BpfProgType.BPF_PROG_TYPE_KPROBE,
    helpers: Record<number, Helper<KernelCpu>> = {},
    readonly name = "test_prog",
  ) {
    this.program = typeof source === "string" ? prepareProgram(assemble(source), { name }) : source;
    const table = new HelperTable<KernelCpu>();
    for (const [id, fn] of Object.entries(helpers)) table.register(Number(id), `helper ${id}`, fn);
    this.vms = kernel.cpus.map(
      (cpu) => new Interpreter<KernelCpu>({ memory: kernel.memory, helpers: table, host: cpu }),
    );
  }

  run(ctxLo: number, ctxHi: number, cpu: number): readonly [number, number] {
    this.runs++;
    const result = this.vms[cpu]!.run(this.program, { args: [[ctxLo, ctxHi]] });
    return [result.lo, result.hi];
  }

  get(): void {
    if (this.released) throw new Error("get() after release");
    this.refs++;
  }

  put(): void {
    if (--this.refs === 0) this.released = true;
    if (this.refs < 0) throw new Error("put() below zero");
  }

  incMissesCounter(): void {
    this.misses++;
  }
}

/** Install a program in the simulated process's fd table, as BPF_PROG_LOAD does: its fd. */
export function installProg(kernel: SimKernel, prog: TestProg): number {
  return kernel.files.install(new KernelFile(FileKind.BPF_PROG, prog, () => prog.put()));
}
