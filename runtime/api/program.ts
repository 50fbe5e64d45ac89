// A program of an object, as libbpf's struct bpf_program: its section decides its type and
// where it attaches; before load its autoload can be switched off; once loaded it has an fd,
// the verifier's log and run counters, and attaches to kprobes and kretprobes.
import type { BpfSyscall } from "../bpf/syscall.js";
import type { Insn } from "../isa/insn.js";
import type { SimKernel } from "../kernel/kernel.js";
import type { LoadedProgram, LoaderProgram } from "../loader/load.js";
import type { AttachTarget } from "../uapi/sections.js";
import { progTypeShortName } from "../uapi/bpf.js";
import { attachKprobe, type KprobeOptions } from "./attach.js";
import { attempt, BpfError } from "./errors.js";
import type { BpfLink } from "./link.js";

/** What a program needs from the object that owns it. */
export interface ProgramOwner {
  readonly fileName: string;
  /** the kernel and facade once loaded, undefined before; throws once closed */
  loadedKernel(method: string): { kernel: SimKernel; bpf: BpfSyscall } | undefined;
  /** a link was made: the object detaches it on close */
  adopt(link: BpfLink): void;
}

/** Run counters of a loaded program (bpf_prog_info). */
export interface ProgramStats {
  /** runs from every attachment (not counting tail calls into it) */
  runCount: number;
  /** runs skipped because the CPU was already running a program */
  recursionMisses: number;
}

export class BpfProgram {
  private result: LoadedProgram | undefined;

  constructor(
    private readonly owner: ProgramOwner,
    private readonly spec: LoaderProgram,
  ) {}

  /** The C function's name. */
  get name(): string {
    return this.spec.name;
  }

  /** The ELF section: "kprobe/do_sys_openat2". */
  get sectionName(): string {
    return this.spec.sectionName;
  }

  /** BPF_PROG_TYPE_* */
  get type(): number {
    return this.spec.type;
  }

  /** "kprobe", "socket_filter" ... */
  get typeName(): string {
    return progTypeShortName(this.spec.type) ?? `type ${this.spec.type}`;
  }

  /** Where attachAll() attaches it, from the section name (undefined: nowhere, as SEC("kprobe")). */
  get attachTarget(): AttachTarget | undefined {
    return this.spec.prog.attach;
  }

  /** Loaded by load() (false for SEC("?...") programs unless switched on). */
  get autoload(): boolean {
    return this.spec.autoload;
  }

  /** bpf_program__set_autoload(): before load only. */
  set autoload(on: boolean) {
    if (this.owner.loadedKernel("autoload") !== undefined)
      throw BpfError.usage(this.where, "autoload", "the object is loaded already", "EBUSY");
    this.spec.autoload = on;
  }

  /** The instructions: as compiled before load, as given to BPF_PROG_LOAD after. */
  get insns(): readonly Insn[] {
    return this.result?.insns ?? this.spec.prog.insns;
  }

  /** The program's fd in the simulated process (-1 before load or when not loaded). */
  get fd(): number {
    return this.result?.fd ?? -1;
  }

  get loaded(): boolean {
    return this.fd >= 0;
  }

  /** The verifier's log of the load ("" at log level 0). */
  get log(): string {
    return this.result?.log ?? "";
  }

  /** "opensnoop.bpf.o: program 'trace_open'" */
  get where(): string {
    return `${this.owner.fileName}: program '${this.name}'`;
  }

  /** Run counters (BPF_OBJ_GET_INFO_BY_FD). */
  stats(): ProgramStats {
    const { bpf } = this.loadedOrThrow("stats");
    const info = attempt(this.where, "BPF_OBJ_GET_INFO_BY_FD", () => bpf.objGetInfoByFd(this.fd));
    if (info.kind !== "prog")
      throw new BpfError(this.where, "stats", `fd ${this.fd} is not a program`);
    return { runCount: info.runCnt, recursionMisses: info.recursionMisses };
  }

  /**
   * Attach to a kernel function's entry (or, with `retprobe`, its return). The link detaches
   * on detach(), on leaving a `using` block, or when the object closes.
   */
  attachKprobe(symbol: string, options: KprobeOptions = {}): BpfLink {
    const { kernel, bpf } = this.loadedOrThrow("attachKprobe");
    const link = attachKprobe(
      { kernel, bpf, progFd: this.fd, name: this.name, where: this.where },
      symbol,
      options,
    );
    this.owner.adopt(link);
    return link;
  }

  /**
   * bpf_program__attach(): attach where the section name says (kprobe/SYM, kretprobe/SYM,
   * ksyscall/NAME). Undefined for a program whose section names no target.
   */
  attach(options: Pick<KprobeOptions, "mode" | "cookie"> = {}): BpfLink | undefined {
    const target = this.attachTarget;
    if (target === undefined) return undefined;
    switch (target.kind) {
      case "kprobe":
        if (target.offset !== 0)
          throw BpfError.usage(
            this.where,
            "attach",
            `kprobe offset +${target.offset} is not simulated`,
          );
        return this.attachKprobe(target.func, { ...options, retprobe: target.retprobe });
      case "ksyscall":
        // libbpf attaches to the architecture's syscall wrapper.
        return this.attachKprobe(`__x64_sys_${target.syscall}`, {
          ...options,
          retprobe: target.retprobe,
        });
      default:
        throw BpfError.usage(
          this.where,
          "attach",
          `section '${this.sectionName}': ${target.kind} attachments are not simulated (kprobes and kretprobes are)`,
          "EOPNOTSUPP",
        );
    }
  }

  /** The loader's result for this program. */
  loadedAs(result: LoadedProgram): void {
    this.result = result;
  }

  /** The object was closed. */
  closed(): void {
    this.result = undefined;
  }

  private loadedOrThrow(method: string): { kernel: SimKernel; bpf: BpfSyscall } {
    const loaded = this.owner.loadedKernel(method);
    if (loaded === undefined)
      throw BpfError.usage(this.where, method, "the object is not loaded yet", "EBUSY");
    if (this.fd < 0)
      throw BpfError.usage(
        this.where,
        method,
        "the program was not loaded (autoload is off)",
        "ENOENT",
      );
    return loaded;
  }
}
