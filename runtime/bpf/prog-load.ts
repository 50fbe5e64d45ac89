// BPF_PROG_LOAD up to the point where a program object exists, in the kernel's order:
//
//   syscall checks   prog_flags, insn_cnt (0 or too many: E2BIG; kernels before 4.15: EINVAL
//                    from 4096 on), the kern_version rule of old kernels for kprobes, the
//                    program type, prog_name, then the log attributes
//   bpf_check        structure (jumps, lddw pairs, exits), the lddw pseudo values (map fds ->
//                    maps, with EBADF for a closed fd; map value addresses), every helper call
//                    (known, allowed for the type, GPL-only helpers only for GPL-compatible
//                    licenses, implemented by the simulation), then the verifier proper
//   after            ENOSPC when the log filled its buffer; prog arrays used by the program
//                    must belong to its type
//
// Every refusal is a BpfSyscallError with the kernel's errno; what the verifier would log is in
// its `log` (and in the user's log buffer, when one was given).
import { decodeProgram, IsaError, validateProgram } from "../isa/codec.js";
import type { Insn } from "../isa/insn.js";
import * as op from "../isa/opcodes.js";
import type { HelperHost } from "../helpers/host.js";
import type { SimKernel } from "../kernel/kernel.js";
import { ArrayMap } from "../maps/array.js";
import { isValidObjName } from "../maps/create.js";
import { ProgArrayMap } from "../maps/fd-array.js";
import {
  BPF_COMPLEXITY_LIMIT_INSNS,
  BPF_F_ANY_ALIGNMENT,
  BPF_F_SLEEPABLE,
  BPF_F_STRICT_ALIGNMENT,
  BPF_F_TEST_RND_HI32,
  BPF_F_TEST_STATE_FREQ,
  BPF_F_XDP_HAS_FRAGS,
  BPF_MAXINSNS,
  BpfCmd,
  BpfMapType,
  KERNEL_VERSION,
  MAX_USED_MAPS,
  isGplCompatibleLicense,
  progTypeName,
} from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import {
  BpfFunc,
  helperFuncName,
  helperProto,
  modeledProgTypes,
  __BPF_FUNC_MAX_ID,
} from "../uapi/helpers.js";
import type { HelperTable } from "../vm/helpers.js";
import { KERNEL_HI } from "../vm/memory.js";
import { prepareProgram } from "../vm/program.js";
import type { ProgLoadAttr } from "./attr.js";
import { BpfSyscallError } from "./error.js";
import { logAttrProblem, logSizeOf, writeLog } from "./log.js";
import type { BpfMapObject, LoadedProgram } from "./objects.js";
import { progTag } from "./tag.js";
import { ArrayOfMapsMap, HashOfMapsMap } from "../maps/map-in-map.js";
import type { InsnFact } from "../verifier/index.js";
import { runVerifier } from "./verify.js";

const PROG_FLAGS =
  BPF_F_STRICT_ALIGNMENT |
  BPF_F_ANY_ALIGNMENT |
  BPF_F_TEST_STATE_FREQ |
  BPF_F_SLEEPABLE |
  BPF_F_TEST_RND_HI32 |
  BPF_F_XDP_HAS_FRAGS;

/** What PROG_LOAD needs from the facade. */
export interface ProgLoadContext {
  readonly kernel: SimKernel;
  readonly helpers: HelperTable<HelperHost>;
  /** The map an fd refers to, or -EBADF (not open) / -EINVAL (not a map). No reference taken. */
  mapOfFd(fd: number): BpfMapObject | number;
  /** printk(): the kernel log */
  printk(line: string): void;
}

const fail = (errno: number, reason: string, log?: string): BpfSyscallError =>
  new BpfSyscallError(errno, BpfCmd.BPF_PROG_LOAD, reason, log);

/** Run BPF_PROG_LOAD's checks and the verifier; the loaded program, or a BpfSyscallError. */
export function progLoad(ctx: ProgLoadContext, attr: ProgLoadAttr): LoadedProgram {
  const kernel = ctx.kernel;
  const insns = instructionsOf(attr);
  const progType = attr.progType;
  const name = attr.progName ?? "";
  const flags = attr.progFlags ?? 0;
  if (!Number.isInteger(flags) || (flags & ~PROG_FLAGS) !== 0)
    throw fail(Errno.EINVAL, `unknown prog_flags 0x${(flags >>> 0).toString(16)}`);
  checkInsnCount(kernel, insns.length);
  const kernVersionProblem = kernel.kernVersionProblem(progType, attr.kernVersion);
  if (kernVersionProblem !== undefined) {
    const log = `${kernVersionProblem}\n`;
    if (logAttrProblem(attr, kernel.version) === undefined) writeLog(attr, log);
    throw fail(Errno.EINVAL, kernVersionProblem, log);
  }
  if (!modeledProgTypes.includes(progType))
    throw fail(
      Errno.EINVAL,
      `program type ${progTypeName(progType) ?? progType} is not supported by the simulated kernel`,
    );
  if (!isValidObjName(name))
    throw fail(Errno.EINVAL, `bad prog_name '${name}' (at most 15 of [A-Za-z0-9_.])`);
  const logProblem = logAttrProblem(attr, kernel.version);
  if (logProblem !== undefined) throw fail(Errno.EINVAL, logProblem);

  const license = attr.license.split("\0")[0]!.slice(0, 127);
  const gplCompatible = isGplCompatibleLicense(license);
  const check = new LoadChecks(ctx, attr, insns, gplCompatible);
  const verdict = check.run();
  const { kept, full, fault } = writeLog(attr, verdict.log);
  if (fault) throw fail(Errno.EFAULT, "log_buf is shorter than log_size", verdict.log);
  if (logSizeOf(attr) > 0 && full)
    throw fail(
      Errno.ENOSPC,
      `the verifier log (${verdict.log.length} bytes) does not fit in log_size ${logSizeOf(attr)}` +
        (verdict.ok ? "" : `; the program was also rejected: ${verdict.reason}`),
      kept,
    );
  if (!verdict.ok)
    throw fail(verdict.errno, verdict.reason ?? "rejected by the verifier", verdict.log);
  check.checkProgArrayOwners();

  const program = prepareProgram(insns, {
    name: name === "" ? (progTypeName(progType) ?? "prog") : name,
    resolvePseudo: (_src, _imm, _next, index) => check.pseudoValue(index),
  });
  return {
    progType,
    expectedAttachType: attr.expectedAttachType ?? 0,
    name,
    license,
    gplCompatible,
    insns,
    program,
    usedMaps: check.takeMapReferences(),
    mapRefs: check.mapRefs(),
    tag: progTag(insns),
    verifiedInsns: verdict.verifiedInsns,
    ...(check.facts && { verifierFacts: check.facts }),
    funcInfo: attr.funcInfo ?? [],
    lineInfo: attr.lineInfo ?? [],
    loadTime: kernel.clock.bootNs,
    createdByUid: kernel.self?.uid ?? 0,
  };
}

/** insns / insn_cnt as copy_from_user would read them. */
function instructionsOf(attr: ProgLoadAttr): Insn[] {
  const given = attr.insns;
  const available = given instanceof Uint8Array ? Math.floor(given.length / 8) : given.length;
  const count = attr.insnCnt ?? available;
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff)
    throw fail(Errno.EINVAL, `insn_cnt ${count} is not a u32`);
  if (count > available)
    throw fail(Errno.EFAULT, `insn_cnt ${count} but the insns buffer holds ${available}`);
  if (given instanceof Uint8Array) return decodeProgram(given.subarray(0, count * 8));
  return given
    .slice(0, count)
    .map((i) => ({ code: i.code, dst: i.dst, src: i.src, off: i.off, imm: i.imm }));
}

/** The instruction count rule of the kernel's generation. */
function checkInsnCount(kernel: SimKernel, count: number): void {
  if (kernel.version < KERNEL_VERSION(4, 15, 0)) {
    if (count === 0 || count >= BPF_MAXINSNS)
      throw fail(
        Errno.EINVAL,
        `insn_cnt ${count}: this kernel loads 1..${BPF_MAXINSNS - 1} instructions`,
      );
    return;
  }
  const limit =
    kernel.version >= KERNEL_VERSION(5, 2, 0) ? BPF_COMPLEXITY_LIMIT_INSNS : BPF_MAXINSNS;
  if (count === 0 || count > limit)
    throw fail(Errno.E2BIG, `insn_cnt ${count}: programs have 1..${limit} instructions`);
}

/** A map reference in an lddw: the map and, for a value address, the byte offset. */
interface PseudoUse {
  map: BpfMapObject;
  /** undefined: the map pointer itself */
  valueOffset?: number;
}

/** The bpf_check part of PROG_LOAD that tsbpf does itself, then the verifier. */
class LoadChecks {
  private readonly log: string[] = [];
  private readonly uses = new Map<number, PseudoUse>();
  private readonly usedMaps: BpfMapObject[] = [];
  /** the verifier's per-instruction facts after a successful walk */
  facts: InsnFact[] | undefined;

  constructor(
    private readonly ctx: ProgLoadContext,
    private readonly attr: ProgLoadAttr,
    private readonly insns: Insn[],
    private readonly gplCompatible: boolean,
  ) {}

  run(): { ok: boolean; log: string; errno: number; reason?: string; verifiedInsns: number } {
    try {
      this.checkStructure();
      this.resolveMaps();
    } catch (err) {
      if (!(err instanceof Rejection)) throw err;
      this.log.push(err.reason);
      return {
        ok: false,
        log: this.text(),
        errno: err.errno,
        reason: err.reason,
        verifiedInsns: 0,
      };
    }
    const kernel = this.ctx.kernel;
    const verdict = runVerifier({
      insns: this.insnsWithMapFds(),
      progType: this.attr.progType,
      expectedAttachType: this.attr.expectedAttachType ?? 0,
      license: this.attr.license,
      name: this.attr.progName ?? "",
      kernVersion: this.attr.kernVersion,
      logLevel: this.attr.logLevel ?? 0,
      kernel:
        kernel.version < KERNEL_VERSION(5, 0, 0)
          ? "4.1"
          : kernel.version < KERNEL_VERSION(6, 2, 0)
            ? "6.1"
            : "6.18",
      mapByFd: (fd) => this.mapInfoByFd(fd),
      btf: this.attr.btf,
      funcInfo: this.attr.funcInfo,
      lineInfo: this.attr.lineInfo,
      helperContext: { expectedAttachType: this.attr.expectedAttachType ?? 0 },
      nrCpus: kernel.cpus.length,
    });
    const log = this.text() + verdict.log;
    if (verdict.ok && verdict.facts) {
      try {
        this.checkReachedHelpers(verdict.facts);
      } catch (err) {
        if (!(err instanceof Rejection)) throw err;
        const text = log + ((this.attr.logLevel ?? 0) === 0 ? "" : `${err.reason}\n`);
        return { ok: false, log: text, errno: err.errno, reason: err.reason, verifiedInsns: 0 };
      }
    }
    this.facts = verdict.facts;
    return { ...verdict, log };
  }

  private text(): string {
    return (this.attr.logLevel ?? 0) === 0 ? "" : this.log.map((l) => `${l}\n`).join("");
  }

  private checkStructure(): void {
    try {
      validateProgram(this.insns, { callx: false });
    } catch (err) {
      if (err instanceof IsaError) throw new Rejection(Errno.EINVAL, err.message);
      throw err;
    }
  }

  /** resolve_pseudo_ldimm64(): every map an lddw names, with the kernel's errors. */
  private resolveMaps(): void {
    const insns = this.insns;
    for (let i = 0; i < insns.length; i++) {
      const insn = insns[i]!;
      if (insn.code !== op.BPF_LDDW) continue;
      const src = insn.src;
      const next = insns[i + 1]!;
      i++;
      if (src === 0 || src === op.BPF_PSEUDO_FUNC) continue;
      if (src === op.BPF_PSEUDO_BTF_ID)
        throw new Rejection(
          Errno.EINVAL,
          `insn ${i - 1}: kernel symbols (BPF_PSEUDO_BTF_ID) are not simulated`,
        );
      const byIndex = src === op.BPF_PSEUDO_MAP_IDX || src === op.BPF_PSEUDO_MAP_IDX_VALUE;
      const wantsValue = src === op.BPF_PSEUDO_MAP_VALUE || src === op.BPF_PSEUDO_MAP_IDX_VALUE;
      if (!byIndex && src !== op.BPF_PSEUDO_MAP_FD && src !== op.BPF_PSEUDO_MAP_VALUE)
        throw new Rejection(Errno.EINVAL, `insn ${i - 1}: unrecognized bpf_ld_imm64 insn`);
      const fd = byIndex ? this.fdAtIndex(insn.imm, i - 1) : insn.imm;
      const map = this.ctx.mapOfFd(fd);
      if (typeof map === "number")
        throw new Rejection(-map, `fd ${fd} is not pointing to valid bpf_map`);
      const use: PseudoUse = { map };
      if (wantsValue) use.valueOffset = this.directValueOffset(map, next.imm >>> 0);
      this.uses.set(i - 1, use);
      if (!this.usedMaps.includes(map)) {
        if (this.usedMaps.length >= MAX_USED_MAPS)
          throw new Rejection(Errno.E2BIG, `too many maps (the limit is ${MAX_USED_MAPS})`);
        this.usedMaps.push(map);
      }
    }
  }

  private fdAtIndex(index: number, at: number): number {
    const fdArray = this.attr.fdArray;
    if (fdArray === undefined)
      throw new Rejection(Errno.EPROTO, `insn ${at}: fd_idx without fd_array is invalid`);
    const fd = fdArray[index];
    if (fd === undefined)
      throw new Rejection(Errno.EFAULT, `insn ${at}: fd_array has no entry ${index}`);
    return fd;
  }

  /** map_direct_value_addr(): only single-element arrays give a value address. */
  private directValueOffset(map: BpfMapObject, off: number): number {
    const m = map.map;
    if (m.type !== BpfMapType.BPF_MAP_TYPE_ARRAY || !(m instanceof ArrayMap))
      throw new Rejection(Errno.EINVAL, "no direct value access support for this map type");
    if (m.maxEntries !== 1 || off >= m.valueSize)
      throw new Rejection(
        m.maxEntries !== 1 ? Errno.ENOTSUPP : Errno.EINVAL,
        `invalid access to map value pointer, value_size=${m.valueSize} off=${off}`,
      );
    return off;
  }

  /** Every helper call: known, allowed for this program type and license, implemented. */
  /**
   * The helpers the verifier saw called on some path: each must be one the simulated kernel
   * runs (no stubs). Calls on dead paths are left alone, as the kernel leaves them.
   */
  private checkReachedHelpers(facts: readonly InsnFact[]): void {
    for (let i = 0; i < facts.length; i++) {
      const id = facts[i]!.helper;
      if (id === undefined || !facts[i]!.seen) continue;
      if (this.ctx.helpers.get(id) === undefined)
        throw new Rejection(
          Errno.EINVAL,
          `insn ${i}: ${helperFuncName(id)}#${id} is not implemented by tsbpf's simulated kernel`,
        );
      if (id === BpfFunc.BPF_FUNC_probe_write_user) {
        const task = this.ctx.kernel.self;
        this.ctx.printk(
          `${task?.comm ?? "tsbpf"}[${task?.pid ?? 0}] is installing a program with bpf_probe_write_user helper that may corrupt user memory!`,
        );
      }
    }
  }

  /** The program with index-form map references turned into fd form, for the verifier. */
  private insnsWithMapFds(): Insn[] {
    return this.insns.map((insn, i) => {
      const use = this.uses.get(i);
      if (
        use === undefined ||
        (insn.src !== op.BPF_PSEUDO_MAP_IDX && insn.src !== op.BPF_PSEUDO_MAP_IDX_VALUE)
      )
        return insn;
      const src =
        insn.src === op.BPF_PSEUDO_MAP_IDX ? op.BPF_PSEUDO_MAP_FD : op.BPF_PSEUDO_MAP_VALUE;
      return { ...insn, src, imm: this.attr.fdArray![insn.imm]! };
    });
  }

  private mapInfoByFd(fd: number): ReturnType<Parameters<typeof runVerifier>[0]["mapByFd"]> {
    const obj = this.ctx.mapOfFd(fd);
    if (typeof obj === "number") return undefined;
    const m = obj.map;
    return {
      type: m.type,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.mapFlags,
      name: m.name,
      frozen: m.frozen,
      ...(m.frozen && m.maxEntries === 1 && { value: this.firstValue(obj) }),
      ...((m instanceof ArrayOfMapsMap || m instanceof HashOfMapsMap) && {
        innerMap: {
          type: m.innerMeta.type,
          keySize: m.innerMeta.keySize,
          valueSize: m.innerMeta.valueSize,
          maxEntries: m.innerMeta.maxEntries,
          flags: m.innerMeta.mapFlags,
        },
      }),
    };
  }

  /** The value of element 0 (what loads from a frozen .rodata map read as constants). */
  private firstValue(obj: BpfMapObject): Uint8Array | undefined {
    const value = new Uint8Array(obj.map.valueSize);
    return obj.map.sysLookup(new Uint8Array(obj.map.keySize), value) === 0 ? value : undefined;
  }

  /** bpf_check_tail_call(): prog arrays take the type of their first program. */
  checkProgArrayOwners(): void {
    for (const map of this.usedMaps) {
      if (!(map.map instanceof ProgArrayMap)) continue;
      map.ownerProgType ??= this.attr.progType;
      if (map.ownerProgType !== this.attr.progType)
        throw fail(
          Errno.EINVAL,
          `${map.describe()} holds ${progTypeName(map.ownerProgType)} programs, this one is ${progTypeName(this.attr.progType)}`,
        );
    }
  }

  /** The 64-bit value the lddw at `index` loads (prepareProgram's resolver). */
  pseudoValue(index: number): readonly [number, number] {
    const use = this.uses.get(index)!;
    if (use.valueOffset === undefined) return [use.map.handle.addressLo, KERNEL_HI];
    const value = (use.map.map as ArrayMap).valueOffset(0) + use.valueOffset;
    return [value | 0, KERNEL_HI];
  }

  /** The map of each map lddw, by instruction index. */
  mapRefs(): Map<number, BpfMapObject> {
    return new Map([...this.uses].map(([i, use]) => [i, use.map]));
  }

  /** The used maps, each with the program's reference taken. */
  takeMapReferences(): BpfMapObject[] {
    for (const map of this.usedMaps) map.inc();
    return this.usedMaps;
  }
}

/** A reason bpf_check refuses the program, with its errno; becomes the last log line. */
class Rejection {
  constructor(
    readonly errno: number,
    readonly reason: string,
  ) {}
}
