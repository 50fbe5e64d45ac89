// The one place BPF_PROG_LOAD calls the verifier (runtime/verifier): PROG_LOAD's attributes and
// the facade's maps turned into the verifier's program and environment, its verdict turned back
// into the log, errno and reason PROG_LOAD reports.
import { BTF_KIND_FUNC, type Btf } from "../btf/btf.js";
import type { Insn } from "../isa/insn.js";
import type { BpfFuncInfo, BpfLineInfo } from "../object/open.js";
import type { HelperContext } from "../uapi/helpers.js";
import {
  verify,
  type FuncInfo,
  type InsnFact,
  type LineInfo,
  type VerifyMap,
} from "../verifier/index.js";

/** A map as the verifier needs it (by the fd the program's lddw names). */
export type VerifierMapInfo = VerifyMap;

export interface VerifierRequest {
  /** the program with map fds (BPF_PSEUDO_MAP_FD / _VALUE) in its lddw instructions */
  insns: readonly Insn[];
  progType: number;
  expectedAttachType: number;
  license: string;
  name: string;
  kernVersion: number | undefined;
  logLevel: number;
  /** the kernel generation whose rules and log the verifier follows */
  kernel: "4.1" | "6.1" | "6.18";
  mapByFd(fd: number): VerifierMapInfo | undefined;
  btf?: Btf;
  funcInfo?: readonly BpfFuncInfo[];
  lineInfo?: readonly BpfLineInfo[];
  helperContext?: HelperContext;
  nrCpus?: number;
}

export interface VerifierVerdict {
  ok: boolean;
  /** the log text at the requested level ("" at level 0) */
  log: string;
  /** positive errno when rejected (EINVAL, EACCES, E2BIG ...) */
  errno: number;
  /** the reason in one line when rejected */
  reason?: string;
  /** instructions processed (bpf_prog_info.verified_insns) */
  verifiedInsns: number;
  /** what the walk proved per instruction (reached, regions, helper ids), when it ran */
  facts?: InsnFact[];
}

/** Run the verifier on a program PROG_LOAD has already checked. */
export function runVerifier(request: VerifierRequest): VerifierVerdict {
  const level = request.logLevel;
  const result = verify(
    {
      insns: request.insns,
      progType: request.progType,
      expectedAttachType: request.expectedAttachType,
      license: request.license,
      name: request.name,
      ...(request.kernVersion !== undefined && { kernVersion: request.kernVersion }),
    },
    {
      mapByFd: request.mapByFd,
      logLevel: level >= 2 ? 2 : level === 1 ? 1 : 0,
      kernel: request.kernel,
      lineInfo: lineInfoOf(request.lineInfo),
      funcInfo: funcInfoOf(request.funcInfo, request.btf),
      ...(request.helperContext && { helperContext: request.helperContext }),
      ...(request.nrCpus !== undefined && { nrCpus: request.nrCpus }),
    },
  );
  const verifiedInsns = result.stats.processedInsns;
  if (result.ok) return { ok: true, log: result.log, errno: 0, verifiedInsns, facts: result.facts };
  const error = result.error!;
  return { ok: false, log: result.log, errno: error.errno, reason: error.message, verifiedInsns };
}

/** .BTF.ext line info as the verifier names C places. */
function lineInfoOf(lines: readonly BpfLineInfo[] | undefined): LineInfo[] | undefined {
  if (lines === undefined || lines.length === 0) return undefined;
  return lines.map((l) => ({
    insnOff: l.insn,
    file: l.fileName,
    line: l.line,
    col: l.column,
    ...(l.source !== "" && { text: l.source }),
  }));
}

/** .BTF.ext func info with each FUNC's name and linkage from the program's BTF. */
function funcInfoOf(
  funcs: readonly BpfFuncInfo[] | undefined,
  btf: Btf | undefined,
): FuncInfo[] | undefined {
  if (funcs === undefined || funcs.length === 0) return undefined;
  return funcs.map((f) => {
    const t = btf?.types[f.typeId];
    return {
      insnOff: f.insn,
      name: t?.name ?? "",
      ...(t?.kind === BTF_KIND_FUNC && { linkage: t.linkage }),
    };
  });
}
