// Map definitions of an object, before any map exists: legacy `maps` (struct bpf_map_def),
// BTF-defined `.maps` (__uint/__type/__array members described in .BTF) and the global-data
// sections .data/.rodata/.bss (and their .data.* / .rodata.* / .bss.* relatives) as one-element
// array maps, in that order, as libbpf collects them.
import {
  BTF_KIND_ARRAY,
  BTF_KIND_DATASEC,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_VAR,
  BTF_VAR_GLOBAL_ALLOCATED,
  BTF_VAR_STATIC,
  BtfError,
  btfKindName,
  type Btf,
  type BtfComposite,
  type BtfMember,
} from "../btf/btf.js";
import { btfTypeById, btfTypeSize, skipModsAndTypedefs } from "../btf/query.js";
import {
  SHF_EXECINSTR,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_LOCAL,
  STT_SECTION,
  describeSection,
  type ElfFile,
  type ElfSection,
} from "../elf/elf.js";
import { ObjectError } from "./error.js";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, BpfMapType } from "../uapi/bpf.js";

const {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_UNSPEC,
} = BpfMapType;

/** Where a map definition came from (libbpf's libbpf_map_type, split by declaration style). */
export type MapOrigin = "legacy" | "btf" | "data" | "rodata" | "bss" | "kconfig";

/** An initial element of a PROG_ARRAY or map-in-map, from `.values = { [i] = &x }`. */
export interface MapSlot {
  index: number;
  kind: "prog" | "map";
  /** the program or map name */
  name: string;
}

export interface BpfMapDef {
  /** the name given to the kernel (global-data maps: libbpf's "<object>.<section>" names) */
  name: string;
  /** the variable or symbol name; the ELF section name for global-data maps */
  realName: string;
  origin: MapOrigin;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  numaNode: number;
  mapExtra: number;
  /** 0 none, 1 LIBBPF_PIN_BY_NAME */
  pinning: number;
  sectionIndex: number;
  sectionOffset: number;
  /** BTF ids of key and value (0 when unknown; global-data maps: value = the DATASEC) */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** the inner map of an ARRAY_OF_MAPS / HASH_OF_MAPS defined with __array(values, ...) */
  inner?: BpfMapDef;
  initialSlots: MapSlot[];
  /** initial contents of a .data/.rodata map; undefined means zeroes (.bss) */
  initialValue?: Uint8Array;
}

export const LIBBPF_PIN_NONE = 0;
export const LIBBPF_PIN_BY_NAME = 1;

/** sizeof(struct bpf_map_def): type, key_size, value_size, max_entries, map_flags. */
export const BPF_MAP_DEF_SIZE = 20;

const BPF_OBJ_NAME_LEN = 16;

export interface MapContext {
  elf: ElfFile;
  /** the object's name (libbpf: the file name up to the first '.') */
  objectName: string;
  btf: Btf | undefined;
}

function newMap(
  init: Partial<BpfMapDef> & Pick<BpfMapDef, "name" | "realName" | "origin">,
): BpfMapDef {
  return {
    type: BPF_MAP_TYPE_UNSPEC,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    mapFlags: 0,
    numaNode: 0,
    mapExtra: 0,
    pinning: LIBBPF_PIN_NONE,
    sectionIndex: 0,
    sectionOffset: 0,
    btfKeyTypeId: 0,
    btfValueTypeId: 0,
    initialSlots: [],
    ...init,
  };
}

// --- legacy `maps` --------------------------------------------------------------------------

/**
 * struct bpf_map_def definitions, one per symbol in the section; all definitions have the same
 * size (section size / symbol count). Shorter than 20 bytes is an error; longer is accepted
 * when the extra bytes are zero.
 */
export function collectLegacyMaps(ctx: MapContext, section: ElfSection): BpfMapDef[] {
  const where = `${ctx.elf.fileName}: ${describeSection(section)}`;
  const symbols = ctx.elf.symbols.filter(
    (s) => s.index !== 0 && s.shndx === section.index && s.type !== STT_SECTION,
  );
  if (section.size === 0 || symbols.length === 0 || section.size % symbols.length !== 0)
    throw new ObjectError(
      `${where}: cannot determine the map definition size (${section.size} bytes, ${symbols.length} map symbols)`,
    );
  if (section.type === SHT_NOBITS)
    throw new ObjectError(`${where}: map definitions have no contents (SHT_NOBITS)`);
  const defSize = section.size / symbols.length;
  if (defSize < BPF_MAP_DEF_SIZE)
    throw new ObjectError(
      `${where}: map definition too short (${defSize} bytes, struct bpf_map_def is ${BPF_MAP_DEF_SIZE})`,
    );
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  return symbols.map((sym) => {
    const mapWhere = `${where}: map '${sym.name}' at offset ${sym.value}`;
    if (sym.name === "") throw new ObjectError(`${mapWhere}: map symbol has no name`);
    if (sym.bind === STB_LOCAL) throw new ObjectError(`${mapWhere}: static maps are not supported`);
    if (sym.value + defSize > section.size)
      throw new ObjectError(
        `${mapWhere}: definition (${defSize} bytes) runs past the section (${section.size} bytes)`,
      );
    for (let i = sym.value + BPF_MAP_DEF_SIZE; i < sym.value + defSize; i++) {
      if (section.data[i] !== 0)
        throw new ObjectError(`${mapWhere}: unrecognized non-zero fields after struct bpf_map_def`);
    }
    const u32 = (field: number): number => view.getUint32(sym.value + field * 4, true);
    return newMap({
      name: sym.name,
      realName: sym.name,
      origin: "legacy",
      type: u32(0),
      keySize: u32(1),
      valueSize: u32(2),
      maxEntries: u32(3),
      mapFlags: u32(4),
      sectionIndex: section.index,
      sectionOffset: sym.value,
    });
  });
}

// --- BTF-defined `.maps` --------------------------------------------------------------------

/** One map per variable of the `.maps` DATASEC, decoded from its struct's members. */
export function collectBtfMaps(ctx: MapContext, section: ElfSection): BpfMapDef[] {
  const where = `${ctx.elf.fileName}: ${describeSection(section)}`;
  const btf = ctx.btf;
  if (!btf) throw new ObjectError(`${where}: BTF-defined maps need .BTF (build with -g)`);
  const datasec = btf.types.find((t) => t.kind === BTF_KIND_DATASEC && t.name === section.name);
  if (datasec?.kind !== BTF_KIND_DATASEC)
    throw new ObjectError(`${where}: no BTF DATASEC '${section.name}'`);
  return datasec.vars.map((vi, i) => {
    const var_ = btf.types[vi.type];
    const name = var_?.name ?? "";
    const mapWhere = `${where}: map '${name}'`;
    if (name === "") throw new ObjectError(`${where}: map #${i} has no name`);
    if (vi.offset + vi.size > section.size)
      throw new ObjectError(
        `${mapWhere}: BTF places it at [${vi.offset}, +${vi.size}), past the section`,
      );
    if (var_?.kind !== BTF_KIND_VAR)
      throw new ObjectError(
        `${mapWhere}: unexpected ${btfKindName(var_?.kind ?? 0)} in the DATASEC`,
      );
    if (var_.linkage !== BTF_VAR_GLOBAL_ALLOCATED)
      throw new ObjectError(`${mapWhere}: unsupported map linkage ${var_.linkage}`);
    return withBtfErrors(mapWhere, () => {
      const def = skipModsAndTypedefs(btf, var_.type);
      if (def.kind !== BTF_KIND_STRUCT)
        throw new ObjectError(
          `${mapWhere}: definition is a ${btfKindName(def.kind)}, not a struct`,
        );
      if (def.size > vi.size)
        throw new ObjectError(`${mapWhere}: definition size ${def.size} exceeds ${vi.size}`);
      const map = newMap({
        name,
        realName: name,
        origin: "btf",
        sectionIndex: section.index,
        sectionOffset: vi.offset,
      });
      parseBtfMapDef(btf, def, map, mapWhere, false);
      return map;
    });
  });
}

/** BTF query failures inside a map definition are reported against the map. */
function withBtfErrors<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BtfError) throw new ObjectError(`${where}: ${e.message}`);
    throw e;
  }
}

const isMapInMap = (type: number): boolean =>
  type === BPF_MAP_TYPE_ARRAY_OF_MAPS || type === BPF_MAP_TYPE_HASH_OF_MAPS;

/** Decodes the members of a map definition struct into `map`. */
function parseBtfMapDef(
  btf: Btf,
  def: BtfComposite,
  map: BpfMapDef,
  where: string,
  isInner: boolean,
): void {
  let keySizeSet = false;
  let valueSizeSet = false;
  const setKeySize = (size: number): void => {
    if (keySizeSet && map.keySize !== size)
      throw new ObjectError(`${where}: conflicting key size ${map.keySize} != ${size}`);
    map.keySize = size;
    keySizeSet = true;
  };
  const setValueSize = (size: number): void => {
    if (valueSizeSet && map.valueSize !== size)
      throw new ObjectError(`${where}: conflicting value size ${map.valueSize} != ${size}`);
    map.valueSize = size;
    valueSizeSet = true;
  };
  def.members.forEach((m, i) => {
    const int = (): number => mapFieldInt(btf, m, where);
    switch (m.name) {
      case "type":
        map.type = int();
        break;
      case "max_entries":
        map.maxEntries = int();
        break;
      case "map_flags":
        map.mapFlags = int();
        break;
      case "numa_node":
        map.numaNode = int();
        break;
      case "key_size":
        setKeySize(int());
        break;
      case "value_size":
        setValueSize(int());
        break;
      case "key": {
        const target = pointee(btf, m, where);
        setKeySize(btfTypeSize(btf, target));
        map.btfKeyTypeId = target;
        break;
      }
      case "value": {
        const target = pointee(btf, m, where);
        setValueSize(btfTypeSize(btf, target));
        map.btfValueTypeId = target;
        break;
      }
      case "values":
        if (isInner) throw new ObjectError(`${where}: multi-level inner maps are not supported`);
        if (i !== def.members.length - 1)
          throw new ObjectError(`${where}: 'values' must be the last member`);
        setValueSize(4);
        parseValues(btf, m, map, where);
        break;
      case "pinning": {
        if (isInner) throw new ObjectError(`${where}: an inner map cannot be pinned`);
        const pinning = int();
        if (pinning !== LIBBPF_PIN_NONE && pinning !== LIBBPF_PIN_BY_NAME)
          throw new ObjectError(`${where}: invalid pinning value ${pinning}`);
        map.pinning = pinning;
        break;
      }
      case "map_extra":
        map.mapExtra = mapFieldLong(btf, m, where);
        break;
      default:
        throw new ObjectError(`${where}: unknown field '${m.name}'`);
    }
  });
  if (map.type === BPF_MAP_TYPE_UNSPEC) throw new ObjectError(`${where}: map type isn't specified`);
}

/** __uint(name, N) is `int (*name)[N]`: a pointer to an array of N elements. */
function mapFieldInt(btf: Btf, m: BtfMember, where: string): number {
  const ptr = skipModsAndTypedefs(btf, m.type);
  if (ptr.kind !== BTF_KIND_PTR)
    throw new ObjectError(`${where}: attr '${m.name}': expected PTR, got ${btfKindName(ptr.kind)}`);
  const array = btfTypeById(btf, ptr.type);
  if (array.kind !== BTF_KIND_ARRAY)
    throw new ObjectError(
      `${where}: attr '${m.name}': expected ARRAY, got ${btfKindName(array.kind)}`,
    );
  return array.nelems;
}

/** map_extra may also be a one-value enum (__ulong); only 53-bit values are representable. */
function mapFieldLong(btf: Btf, m: BtfMember, where: string): number {
  const t = skipModsAndTypedefs(btf, m.type);
  if (t.kind === BTF_KIND_PTR) return mapFieldInt(btf, m, where);
  if (t.kind !== BTF_KIND_ENUM && t.kind !== BTF_KIND_ENUM64)
    throw new ObjectError(
      `${where}: attr '${m.name}': expected ENUM or ENUM64, got ${btfKindName(t.kind)}`,
    );
  if (t.values.length !== 1) throw new ObjectError(`${where}: attr '${m.name}': invalid __ulong`);
  if (t.kind === BTF_KIND_ENUM) return t.values[0]!.value >>> 0;
  const { lo, hi } = t.values[0]!;
  if (hi >= 0x20_0000) throw new ObjectError(`${where}: attr '${m.name}': value too large`);
  return hi * 0x1_0000_0000 + lo;
}

/** __type(name, T) is `T *name`: the pointed-to type id. */
function pointee(btf: Btf, m: BtfMember, where: string): number {
  const ptr = btfTypeById(btf, m.type);
  if (ptr.kind !== BTF_KIND_PTR)
    throw new ObjectError(`${where}: ${m.name} spec is not PTR: ${btfKindName(ptr.kind)}`);
  return ptr.type;
}

/** __array(values, T) is `T *values[]`: for a PROG_ARRAY T is a function, for map-in-map a map struct. */
function parseValues(btf: Btf, m: BtfMember, map: BpfMapDef, where: string): void {
  const isProgArray = map.type === BPF_MAP_TYPE_PROG_ARRAY;
  if (!isMapInMap(map.type) && !isProgArray)
    throw new ObjectError(`${where}: 'values' needs a map-in-map or prog-array map type`);
  const desc = isProgArray ? "prog-array value" : "map-in-map inner";
  const array = btfTypeById(btf, m.type);
  if (array.kind !== BTF_KIND_ARRAY || array.nelems !== 0)
    throw new ObjectError(`${where}: ${desc} spec is not a zero-sized array`);
  const ptr = skipModsAndTypedefs(btf, array.type);
  if (ptr.kind !== BTF_KIND_PTR)
    throw new ObjectError(`${where}: ${desc} def is of unexpected kind ${btfKindName(ptr.kind)}`);
  const target = skipModsAndTypedefs(btf, ptr.type);
  if (isProgArray) {
    if (target.kind !== BTF_KIND_FUNC_PROTO)
      throw new ObjectError(
        `${where}: prog-array value def is of unexpected kind ${btfKindName(target.kind)}`,
      );
    return;
  }
  if (target.kind !== BTF_KIND_STRUCT)
    throw new ObjectError(
      `${where}: map-in-map inner def is of unexpected kind ${btfKindName(target.kind)}`,
    );
  const inner = newMap({
    name: `${map.name}.inner`,
    realName: `${map.name}.inner`,
    origin: "btf",
    sectionIndex: map.sectionIndex,
  });
  parseBtfMapDef(btf, target, inner, `${where}.inner`, true);
  map.inner = inner;
}

/**
 * Initial elements of PROG_ARRAY and map-in-map maps: each relocation in `.rel.maps` points
 * a pointer slot of a `values` array at a program or map symbol.
 */
export function collectMapSlots(
  ctx: MapContext,
  maps: BpfMapDef[],
  relocations: { offset: number; symbol: number }[],
  isEntryProgram: (symbolIndex: number) => boolean,
  relSection: ElfSection,
): void {
  const where = `${ctx.elf.fileName}: ${describeSection(relSection)}`;
  const btf = ctx.btf;
  for (const [i, rel] of relocations.entries()) {
    const sym = ctx.elf.symbols[rel.symbol]!;
    const relWhere = `${where}: relocation ${i} against '${sym.name}'`;
    const map = maps.find((m) => {
      if (m.origin !== "btf") return false;
      const size = mapVarSize(ctx, m);
      return m.sectionOffset <= rel.offset && rel.offset + 8 <= m.sectionOffset + size;
    });
    if (!map || !btf) throw new ObjectError(`${relWhere}: no map at offset ${rel.offset}`);
    let kind: MapSlot["kind"];
    if (isMapInMap(map.type)) {
      if (sym.shndx !== map.sectionIndex)
        throw new ObjectError(`${relWhere}: not a BTF-defined map`);
      if (!maps.some((m) => m.name === sym.name && m.origin === "btf"))
        throw new ObjectError(`${relWhere}: not a valid map reference`);
      kind = "map";
    } else if (map.type === BPF_MAP_TYPE_PROG_ARRAY) {
      if (!isEntryProgram(rel.symbol))
        throw new ObjectError(`${relWhere}: not an entry-point program`);
      kind = "prog";
    } else {
      throw new ObjectError(`${relWhere}: map '${map.name}' cannot hold initial values`);
    }
    const valuesOffset = valuesMemberOffset(btf, map, relWhere);
    const slotOffset = rel.offset - map.sectionOffset - valuesOffset;
    if (slotOffset < 0 || slotOffset % 8 !== 0)
      throw new ObjectError(
        `${relWhere}: offset ${rel.offset} is not a slot of '${map.name}.values'`,
      );
    map.initialSlots.push({ index: slotOffset / 8, kind, name: sym.name });
  }
}

/** Size the DATASEC gives the map variable. */
function mapVarSize(ctx: MapContext, map: BpfMapDef): number {
  const datasec = ctx.btf?.types.find(
    (t) => t.kind === BTF_KIND_DATASEC && t.name === ctx.elf.sections[map.sectionIndex]?.name,
  );
  if (datasec?.kind !== BTF_KIND_DATASEC) return 0;
  return datasec.vars.find((v) => v.offset === map.sectionOffset)?.size ?? 0;
}

function valuesMemberOffset(btf: Btf, map: BpfMapDef, where: string): number {
  return withBtfErrors(where, () => {
    const datasec = btf.types.find((t) => t.kind === BTF_KIND_DATASEC && t.name === ".maps");
    const vi =
      datasec?.kind === BTF_KIND_DATASEC
        ? datasec.vars.find((v) => v.offset === map.sectionOffset)
        : undefined;
    const var_ = vi ? btfTypeById(btf, vi.type) : undefined;
    if (var_?.kind !== BTF_KIND_VAR)
      throw new ObjectError(`${where}: map '${map.name}' has no BTF variable`);
    const def = skipModsAndTypedefs(btf, var_.type);
    const last = def.kind === BTF_KIND_STRUCT ? def.members[def.members.length - 1] : undefined;
    if (!last || last.name !== "values")
      throw new ObjectError(`${where}: map '${map.name}' has no 'values' member`);
    return Math.floor(last.bitOffset / 8);
  });
}

// --- global data ----------------------------------------------------------------------------

const globalDataOrigin = (s: ElfSection): MapOrigin | undefined => {
  const is = (base: string): boolean => s.name === base || s.name.startsWith(base + ".");
  if (s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) === 0) {
    if (is(".data")) return "data";
    if (is(".rodata")) return "rodata";
  }
  if (s.type === SHT_NOBITS && is(".bss")) return "bss";
  return undefined;
};

/** Whether `section` holds global variables (a one-element array map backs it). */
export const isGlobalDataSection = (section: ElfSection): boolean =>
  globalDataOrigin(section) !== undefined;

/** One ARRAY map (key 4 bytes, one element of the section's size) per non-empty data section. */
export function collectGlobalDataMaps(ctx: MapContext): BpfMapDef[] {
  const maps: BpfMapDef[] = [];
  for (const s of ctx.elf.sections) {
    const origin = globalDataOrigin(s);
    if (!origin || s.size === 0) continue;
    const datasec = ctx.btf?.types.find((t) => t.kind === BTF_KIND_DATASEC && t.name === s.name);
    const mmapable =
      datasec?.kind === BTF_KIND_DATASEC &&
      datasec.vars.some((v) => {
        const t = ctx.btf!.types[v.type];
        return t?.kind === BTF_KIND_VAR && t.linkage !== BTF_VAR_STATIC;
      });
    maps.push(
      newMap({
        name: internalMapName(ctx.objectName, s.name),
        realName: s.name,
        origin,
        type: BPF_MAP_TYPE_ARRAY,
        keySize: 4,
        valueSize: s.size,
        maxEntries: 1,
        mapFlags: (origin === "rodata" ? BPF_F_RDONLY_PROG : 0) | (mmapable ? BPF_F_MMAPABLE : 0),
        sectionIndex: s.index,
        btfValueTypeId: datasec?.id ?? 0,
        ...(origin === "bss" ? {} : { initialValue: s.data.slice() }),
      }),
    );
  }
  return maps;
}

/**
 * libbpf's kernel-visible name for a global-data map: up to 8 characters of the object name
 * then the section name (".data" -> "tracex2.data"); a section name with a second dot
 * (".rodata.str1.1") is used alone. At most 15 characters; odd characters become '_'.
 */
export function internalMapName(objectName: string, sectionName: string): string {
  const maxLen = BPF_OBJ_NAME_LEN - 1;
  const suffixLen = Math.min(Math.max(7, sectionName.length), maxLen);
  const prefixLen =
    sectionName.indexOf(".", 1) >= 0 ? 0 : Math.min(maxLen - suffixLen, objectName.length);
  const name = (objectName.slice(0, prefixLen) + sectionName.slice(0, suffixLen)).slice(0, maxLen);
  return name.replace(/[^A-Za-z0-9_.]/g, "_");
}
