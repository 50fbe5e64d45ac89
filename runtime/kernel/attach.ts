// BPF programs as the simulated kernel runs them on its hooks. The bpf() facade owns program
// objects (verified, prepared, an engine per CPU); the kernel only needs the AttachableProg face
// of one, and runs attached programs the way kernel/trace/bpf_trace.c's trace_call_bpf() does:
// one program at a time per CPU (bpf_prog_active), a run context carrying the attachment's
// bpf_cookie, and the AND of the programs' results deciding whether the event is kept.

/** A loaded program, as attachments see it (the facade implements it). */
export interface AttachableProg {
  /** BPF_PROG_TYPE_* */
  readonly progType: number;
  /** BPF_* attach type the program was loaded with (expected_attach_type), if any */
  readonly expectedAttachType?: number;
  /** for messages */
  readonly name?: string;
  /**
   * Run the program on `cpu` with r1 = ctx; returns r0 as [lo, hi]. Runs nest only across CPUs:
   * the kernel never starts a second program on a CPU that is running one.
   */
  run(ctxLo: number, ctxHi: number, cpu: number): readonly [number, number];
  /** bpf_prog_inc(): an attachment takes a reference */
  get(): void;
  /** bpf_prog_put(): the last reference unloads the program */
  put(): void;
  /** bpf_prog_inc_misses_counter(): a run was skipped because the CPU was busy */
  incMissesCounter?(): void;
}

/** struct bpf_trace_run_ctx: what bpf_get_attach_cookie() reads while a program runs. */
export interface BpfRunContext {
  readonly prog: AttachableProg;
  readonly cookieLo: number;
  readonly cookieHi: number;
}

/** One program on one hook (an entry of the event's prog_array), with its counters. */
export class BpfAttachment implements BpfRunContext {
  /** times the program ran from this attachment */
  runs = 0;
  /** times it was skipped because a program was already running on the CPU */
  missed = 0;

  constructor(
    readonly prog: AttachableProg,
    readonly cookieLo = 0,
    readonly cookieHi = 0,
  ) {}
}

/** The per-CPU state trace_call_bpf() uses. */
export interface BpfCpuState {
  readonly id: number;
  /** DEFINE_PER_CPU(int, bpf_prog_active) */
  bpfProgActive: number;
  /** current->bpf_ctx */
  runContext: BpfRunContext | undefined;
}

/**
 * trace_call_bpf(): run every attached program with ctx = (ctxLo, ctxHi) on `cpu`. Returns the
 * AND of their 32-bit results starting from 1 (0: drop the event), or 0 when the CPU is already
 * running a program: then nothing runs and each attachment counts a miss.
 */
export function traceCallBpf(
  cpu: BpfCpuState,
  attachments: readonly BpfAttachment[],
  ctxLo: number,
  ctxHi: number,
): number {
  if (++cpu.bpfProgActive !== 1) {
    for (const a of attachments) {
      a.missed++;
      a.prog.incMissesCounter?.();
    }
    cpu.bpfProgActive--;
    return 0;
  }
  const saved = cpu.runContext;
  let ret = 1;
  try {
    for (let i = 0; i < attachments.length; i++) {
      const a = attachments[i]!;
      cpu.runContext = a;
      a.runs++;
      ret &= a.prog.run(ctxLo, ctxHi, cpu.id)[0];
    }
  } finally {
    cpu.runContext = saved;
    cpu.bpfProgActive--;
  }
  return ret >>> 0;
}
