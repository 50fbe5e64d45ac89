// BPF_OBJ_GET_INFO_BY_FD: what the kernel tells about a program, a map or a link behind an fd
// (struct bpf_prog_info, bpf_map_info, bpf_link_info, the fields the simulation has).
import type { PerfLink } from "../kernel/perf.js";
import type { BpfLinkInfo, BpfMapInfo, BpfProgInfo } from "./attr.js";
import type { BpfMapObject, BpfProgObject } from "./objects.js";

export function mapInfo(obj: BpfMapObject): BpfMapInfo {
  const m = obj.map;
  return {
    kind: "map",
    type: m.type,
    id: obj.id,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    mapFlags: m.mapFlags,
    name: m.name,
  };
}

export function progInfo(prog: BpfProgObject): BpfProgInfo {
  const l = prog.loaded;
  return {
    kind: "prog",
    type: prog.progType,
    id: prog.id,
    tag: l.tag,
    xlatedProgLen: l.insns.length * 8,
    xlatedProgInsns: xlatedInsns(prog),
    jitedProgLen: 0,
    loadTime: l.loadTime,
    createdByUid: l.createdByUid,
    mapIds: l.usedMaps.map((m) => m.id),
    name: prog.name,
    gplCompatible: l.gplCompatible,
    expectedAttachType: prog.expectedAttachType,
    verifiedInsns: l.verifiedInsns,
    runTimeNs: 0,
    runCnt: prog.runCnt,
    recursionMisses: prog.recursionMisses,
    nrFuncInfo: l.funcInfo.length,
    nrLineInfo: l.lineInfo.length,
  };
}

/** The loaded instructions as bpf_insn_prepare_dump() shows them: map fds become map ids. */
function xlatedInsns(prog: BpfProgObject): BpfProgInfo["xlatedProgInsns"] {
  const insns = prog.loaded.insns.map((i) => ({ ...i }));
  for (const [index, map] of prog.loaded.mapRefs) insns[index]!.imm = map.id;
  return insns;
}

export function linkInfo(link: PerfLink, progId: number): BpfLinkInfo {
  return { kind: "link", type: link.type, id: link.id, progId };
}
