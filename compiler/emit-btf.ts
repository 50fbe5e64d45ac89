// The .BTF of a compiled unit, in the order clang builds it: the `.maps` variables' types
// first, then each function (its types, FUNC_PROTO, FUNC, then the types its CO-RE
// relocations name), then every other global as a VAR (an extern of function type, a kfunc,
// as an extern FUNC in .ksyms), then one DATASEC per section sorted by name, then the FWDs of
// records only ever seen behind pointer members (compiler/btfgen.ts).
//
// DATASEC offsets are left 0, as clang leaves them: .rel.BTF points each entry at its
// variable's symbol (compiler/emit.ts writes those relocations from `datasecs`).
import {
  BTF_VAR_GLOBAL_ALLOCATED,
  BTF_VAR_GLOBAL_EXTERN,
  BTF_VAR_STATIC,
  type Btf,
} from "../runtime/btf/btf.js";
import { BtfGenerator, type DatasecEntry } from "./btfgen.js";
import { canonical, sizeOf } from "./types.js";
import type { CompiledFunction, CompiledGlobal, CompiledUnit } from "./unit.js";

/**
 * btf_decl_tag names, honoured when code generation provides them (optional, beside the
 * unit contract): on a function, on its parameters, on a global.
 */
type TaggedFunction = CompiledFunction & {
  declTags?: readonly string[];
  paramDeclTags?: readonly (readonly string[] | undefined)[];
};
type TaggedGlobal = CompiledGlobal & { declTags?: readonly string[] };

export interface UnitBtf {
  btf: Btf;
  generator: BtfGenerator;
  /** FUNC id of each function, by unit.functions index */
  funcIds: number[];
  /** CO-RE relocation type ids, by unit.functions index then mark index */
  coreTypeIds: number[][];
  datasecs: { id: number; name: string; entries: DatasecEntry[] }[];
}

/** A private symbol (clang's `.L` names: string literals, constant initialisers): no VAR. */
export const isPrivateSymbol = (name: string): boolean => name.startsWith(".L");

const isMapsSection = (section: string): boolean => section.startsWith(".maps");

/** Builds the types of `unit`; call finishUnitBtf after adding .BTF.ext strings, if any. */
export function buildUnitBtf(unit: CompiledUnit): UnitBtf {
  const gen = new BtfGenerator();
  let mapsDone = false;
  const addMaps = (): void => {
    if (mapsDone) return;
    mapsDone = true;
    for (const g of unit.globals) if (isMapsSection(g.section)) addGlobal(gen, g, true);
  };
  const funcIds: number[] = [];
  const coreTypeIds: number[][] = [];
  for (const f of unit.functions as TaggedFunction[]) {
    addMaps();
    const tags = { own: f.declTags, params: f.paramDeclTags };
    funcIds.push(gen.addFunction(f.name, f.type, f.paramNames, f.global, tags));
    coreTypeIds.push(f.coreRelos.map((m) => gen.typeId(m.type)));
  }
  addMaps();
  for (const g of unit.globals) if (!isMapsSection(g.section)) addGlobal(gen, g, false);
  return { btf: gen.btf, generator: gen, funcIds, coreTypeIds, datasecs: [] };
}

/** Appends the DATASECs and resolves forward references; the BTF is complete afterwards. */
export function finishUnitBtf(unitBtf: UnitBtf): void {
  unitBtf.datasecs = unitBtf.generator.finish();
}

function addGlobal(gen: BtfGenerator, g: TaggedGlobal, isMap: boolean): void {
  if (isPrivateSymbol(g.name)) {
    // clang gives private constants in plain .rodata a DATASEC without a VAR; merged strings none.
    if (g.section === ".rodata") gen.ensureDatasec(g.section);
    return;
  }
  if (g.external && canonical(g.type).kind === "function") {
    gen.addExternFunction(g.name, g.type, g.external.section);
    return;
  }
  const typeId = isMap ? gen.mapDefTypeId(g.type) : gen.typeId(g.type);
  if (g.external) {
    const size = safeSize(g);
    gen.addVariable(g.name, typeId, BTF_VAR_GLOBAL_EXTERN, g.external.section, size, g.declTags);
    return;
  }
  const linkage = g.global ? BTF_VAR_GLOBAL_ALLOCATED : BTF_VAR_STATIC;
  gen.addVariable(g.name, typeId, linkage, g.section, g.bytes.length, g.declTags);
}

function safeSize(g: CompiledGlobal): number {
  try {
    return sizeOf(g.type);
  } catch {
    return 0; // an incomplete extern array: clang records size 0 too
  }
}
