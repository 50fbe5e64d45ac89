// An attachment of a program, as libbpf's struct bpf_link: detach() (or leaving a `using`
// block) undoes it - the BPF link and the perf event closed, a kprobe_events entry removed.
import type { BpfAttachment } from "../kernel/attach.js";
import "./dispose.js";

export type KprobeAttachMode = "perf_event" | "link";

/** What was attached where, for messages and listings. */
export interface KprobeLinkInfo {
  readonly program: string;
  readonly symbol: string;
  readonly retprobe: boolean;
  /** how: PERF_EVENT_IOC_SET_BPF on the perf event, or a BPF perf link */
  readonly mode: KprobeAttachMode;
  /** the bpf_cookie the program reads with bpf_get_attach_cookie() */
  readonly cookie: bigint;
  /** a kprobe_events entry made for the attachment (kernels without the kprobe PMU) */
  readonly traceEvent: string | undefined;
}

export class BpfLink implements Disposable, KprobeLinkInfo {
  readonly kind = "kprobe" as const;
  readonly program: string;
  readonly symbol: string;
  readonly retprobe: boolean;
  readonly mode: KprobeAttachMode;
  readonly cookie: bigint;
  readonly traceEvent: string | undefined;
  private detachedFlag = false;

  constructor(
    info: KprobeLinkInfo,
    /** the perf event fd */
    readonly perfEventFd: number,
    /** the BPF link fd, -1 in perf_event mode */
    readonly linkFd: number,
    private readonly attachment: BpfAttachment | undefined,
    private readonly undo: () => void,
  ) {
    this.program = info.program;
    this.symbol = info.symbol;
    this.retprobe = info.retprobe;
    this.mode = info.mode;
    this.cookie = info.cookie;
    this.traceEvent = info.traceEvent;
  }

  /** Times the program ran from this attachment. */
  get runs(): number {
    return this.attachment?.runs ?? 0;
  }

  /** Times it was skipped because another program was running on the CPU (bpf_prog_active). */
  get missed(): number {
    return this.attachment?.missed ?? 0;
  }

  get detached(): boolean {
    return this.detachedFlag;
  }

  /** "kretprobe/do_sys_openat2 -> trace_return (link, cookie 0)" */
  toString(): string {
    const cookie = this.cookie === 0n ? "" : `, cookie ${this.cookie}`;
    return `${this.retprobe ? "kretprobe" : "kprobe"}/${this.symbol} -> ${this.program} (${this.mode}${cookie})`;
  }

  /** Detach: the program stops running here (idempotent). */
  detach(): void {
    if (this.detachedFlag) return;
    this.detachedFlag = true;
    this.undo();
  }

  [Symbol.dispose](): void {
    this.detach();
  }
}
