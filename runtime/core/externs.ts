// `__kconfig` and `__ksym` externs (libbpf's extern support), resolved against a kernel:
//
//   collectExterns    the object's undefined NOTYPE symbols, each with its BTF VAR or FUNC in
//                     the `.kconfig` or `.ksyms` DATASEC; kconfig ones laid out in one value
//                     (largest alignment first, then smallest size, then name) as libbpf lays
//                     out its `.kconfig` map
//   kconfigValue      that map's bytes: LINUX_KERNEL_VERSION and the other LINUX_* values
//                     libbpf computes, CONFIG_* from a kernel config text ("CONFIG_X=y"); a
//                     missing strong extern is an error naming it, a missing weak one is 0
//   resolveKsyms      each typeless `__ksym` variable's address from kallsyms (a typed one
//                     needs a VAR in the kernel's BTF, a kfunc a FUNC)
//   patchExternLddw   the lddw that references an extern: `.kconfig` map value + offset, or
//                     the symbol's address
//
// runtime/loader calls these with the extern relocations runtime/object/open.ts records.
import {
  BTF_FUNC_EXTERN,
  BTF_INT_BOOL,
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_DATASEC,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FUNC,
  BTF_KIND_INT,
  BTF_KIND_VAR,
  BTF_VAR_GLOBAL_EXTERN,
  type Btf,
} from "../btf/btf.js";
import { btfTypeSize, skipModsAndTypedefs } from "../btf/query.js";
import { SHN_UNDEF, STB_GLOBAL, STB_WEAK, STT_NOTYPE } from "../elf/elf.js";
import type { Insn } from "../isa/insn.js";
import { BPF_LDDW, BPF_PSEUDO_MAP_VALUE } from "../isa/opcodes.js";
import type { BpfObject } from "../object/open.js";
import { ExternError } from "./error.js";

/** How a kconfig extern's C type takes a config value. */
export type KconfigType = "bool" | "char" | "int" | "tristate" | "char_array";

export interface KconfigExtern {
  kind: "kconfig";
  name: string;
  weak: boolean;
  /** the symbol's index in the ELF symbol table */
  symbol: number;
  /** the BTF VAR */
  btfId: number;
  type: KconfigType;
  signed: boolean;
  size: number;
  align: number;
  /** where its value sits in the `.kconfig` map value */
  offset: number;
}

export interface KsymExtern {
  kind: "ksym";
  name: string;
  weak: boolean;
  symbol: number;
  /** the BTF VAR or FUNC */
  btfId: number;
  /** the variable's type once modifiers are skipped; 0 for a typeless `const void` ksym */
  typeId: number;
  /** an extern function (a kfunc) */
  func: boolean;
}

export type BpfExtern = KconfigExtern | KsymExtern;

/** libbpf_tristate */
const TRI_NO = 0;
const TRI_YES = 1;
const TRI_MODULE = 2;

/** The object's externs, in libbpf's order: kconfig ones laid out, then ksyms by name. */
export function collectExterns(object: Pick<BpfObject, "elf" | "btf">): BpfExtern[] {
  const { elf, btf } = object;
  const file = elf.fileName;
  const externs: BpfExtern[] = [];
  elf.symbols.forEach((sym, index) => {
    const isExtern =
      sym.shndx === SHN_UNDEF &&
      (sym.bind === STB_GLOBAL || sym.bind === STB_WEAK) &&
      sym.type === STT_NOTYPE;
    if (!isExtern || sym.name === "") return;
    const where = `${file}: extern '${sym.name}'`;
    if (btf === undefined) throw new ExternError(`${where}: no BTF describes it (no .BTF)`);
    const btfId = findExternBtfId(btf, sym.name, where);
    const section = findExternSection(btf, btfId, where);
    const weak = sym.bind === STB_WEAK;
    const t = btf.types[btfId]!;
    if (section === ".kconfig") {
      if (t.kind === BTF_KIND_FUNC)
        throw new ExternError(`${where}: an extern function cannot be __kconfig`);
      externs.push(kconfigExtern(btf, sym.name, weak, index, btfId, where));
    } else if (section === ".ksyms") {
      const typeId = skipModsAndTypedefs(btf, (t as { type: number }).type).id;
      externs.push({
        kind: "ksym",
        name: sym.name,
        weak,
        symbol: index,
        btfId,
        typeId,
        func: t.kind === BTF_KIND_FUNC,
      });
    } else {
      throw new ExternError(`${where}: in section '${section}', not .kconfig or .ksyms`);
    }
  });
  externs.sort(compareExterns);
  let offset = 0;
  for (const ext of externs) {
    if (ext.kind !== "kconfig") continue;
    ext.offset = Math.ceil(offset / ext.align) * ext.align;
    offset = ext.offset + ext.size;
  }
  return externs;
}

/** The size of the `.kconfig` map value (0: no kconfig externs, no map). */
export function kconfigSize(externs: readonly BpfExtern[]): number {
  let end = 0;
  for (const e of externs) if (e.kind === "kconfig") end = Math.max(end, e.offset + e.size);
  return end;
}

function compareExterns(a: BpfExtern, b: BpfExtern): number {
  if (a.kind !== b.kind) return a.kind === "kconfig" ? -1 : 1;
  if (a.kind === "kconfig" && b.kind === "kconfig") {
    if (a.align !== b.align) return b.align - a.align;
    if (a.size !== b.size) return a.size - b.size;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function findExternBtfId(btf: Btf, name: string, where: string): number {
  for (let id = 1; id < btf.types.length; id++) {
    const t = btf.types[id]!;
    if ((t.kind !== BTF_KIND_VAR && t.kind !== BTF_KIND_FUNC) || t.name !== name) continue;
    if (t.kind === BTF_KIND_VAR && t.linkage !== BTF_VAR_GLOBAL_EXTERN)
      throw new ExternError(`${where}: its BTF VAR [${id}] is not an extern`);
    if (t.kind === BTF_KIND_FUNC && t.linkage !== BTF_FUNC_EXTERN)
      throw new ExternError(`${where}: its BTF FUNC [${id}] is not an extern`);
    return id;
  }
  throw new ExternError(`${where}: no BTF VAR or FUNC describes it`);
}

function findExternSection(btf: Btf, btfId: number, where: string): string {
  for (const t of btf.types)
    if (t.kind === BTF_KIND_DATASEC && t.vars.some((v) => v.type === btfId)) return t.name;
  throw new ExternError(`${where}: in no DATASEC`);
}

function kconfigExtern(
  btf: Btf,
  name: string,
  weak: boolean,
  symbol: number,
  btfId: number,
  where: string,
): KconfigExtern {
  const type = (btf.types[btfId] as { type: number }).type;
  const size = btfTypeSize(btf, type);
  const align = alignOf(btf, type);
  const { kind, signed } = kconfigType(btf, type);
  if (size <= 0 || align <= 0 || kind === undefined)
    throw new ExternError(
      `${where}: __kconfig type is unsupported (bool, char, int, tristate, char[])`,
    );
  return { kind: "kconfig", name, weak, symbol, btfId, type: kind, signed, size, align, offset: 0 };
}

function alignOf(btf: Btf, id: number): number {
  const t = skipModsAndTypedefs(btf, id);
  if (t.kind === BTF_KIND_ARRAY) return alignOf(btf, t.type);
  if (t.kind === BTF_KIND_INT || t.kind === BTF_KIND_ENUM || t.kind === BTF_KIND_ENUM64)
    return Math.min(8, t.size);
  return 0;
}

function kconfigType(btf: Btf, id: number): { kind: KconfigType | undefined; signed: boolean } {
  const t = skipModsAndTypedefs(btf, id);
  switch (t.kind) {
    case BTF_KIND_INT:
      if (t.encoding & BTF_INT_BOOL)
        return { kind: t.size === 1 ? "bool" : undefined, signed: false };
      if (t.size === 1) return { kind: "char", signed: (t.encoding & BTF_INT_SIGNED) !== 0 };
      if (![2, 4, 8].includes(t.size)) return { kind: undefined, signed: false };
      return { kind: "int", signed: (t.encoding & BTF_INT_SIGNED) !== 0 };
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
      return {
        kind:
          t.name === "libbpf_tristate" && (t.kind === BTF_KIND_ENUM64 || t.size === 4)
            ? "tristate"
            : undefined,
        signed: false,
      };
    case BTF_KIND_ARRAY:
      return {
        kind: t.nelems > 0 && kconfigType(btf, t.type).kind === "char" ? "char_array" : undefined,
        signed: false,
      };
    default:
      return { kind: undefined, signed: false };
  }
}

// ---- values ---------------------------------------------------------------------------------

/** What the kernel tells libbpf: its version and (as /proc/config.gz would) its config. */
export interface KernelConfigSource {
  /** LINUX_VERSION_CODE */
  version: number;
  /** .config text: "CONFIG_X=y", "CONFIG_HZ=250", "CONFIG_LOCALVERSION=\"-x\"" lines */
  config: string;
  /** the kernel supports bpf_get_attach_cookie (LINUX_HAS_BPF_COOKIE) */
  hasBpfCookie?: boolean;
  /** system calls take a pt_regs (LINUX_HAS_SYSCALL_WRAPPER) */
  hasSyscallWrapper?: boolean;
}

/**
 * The `.kconfig` map value for `externs`. Throws ExternError naming the extern for a value
 * that does not fit its type, and for a strong extern with no value.
 */
export function kconfigValue(
  externs: readonly BpfExtern[],
  source: KernelConfigSource,
  file = "object",
): Uint8Array {
  const value = new Uint8Array(kconfigSize(externs));
  const view = new DataView(value.buffer);
  const set = new Set<string>();
  const kconfig = externs.filter((e): e is KconfigExtern => e.kind === "kconfig");
  const byName = new Map(kconfig.map((e) => [e.name, e]));
  for (const ext of kconfig) {
    const where = `${file}: extern (kcfg) '${ext.name}'`;
    if (ext.name.startsWith("CONFIG_")) continue;
    let n: number;
    if (ext.name === "LINUX_KERNEL_VERSION") n = source.version;
    else if (ext.name === "LINUX_HAS_BPF_COOKIE") n = source.hasBpfCookie ? 1 : 0;
    else if (ext.name === "LINUX_HAS_SYSCALL_WRAPPER") n = source.hasSyscallWrapper ? 1 : 0;
    else if (ext.name.startsWith("LINUX_") && ext.weak) continue;
    else throw new ExternError(`${where}: unrecognized virtual extern`);
    setNumber(view, ext, n, where);
    set.add(ext.name);
  }
  for (const line of source.config.split("\n")) {
    if (!line.startsWith("CONFIG_")) continue;
    const eq = line.indexOf("=");
    if (eq < 0 || eq === line.length - 1)
      throw new ExternError(`${file}: kernel config line '${line}': no value`);
    const ext = byName.get(line.slice(0, eq));
    if (ext === undefined || set.has(ext.name)) continue;
    setConfigValue(view, value, ext, line.slice(eq + 1), `${file}: extern (kcfg) '${ext.name}'`);
    set.add(ext.name);
  }
  for (const ext of kconfig)
    if (!set.has(ext.name) && !ext.weak)
      throw new ExternError(`${file}: extern '${ext.name}' (strong): not resolved`);
  return value;
}

function setConfigValue(
  view: DataView,
  bytes: Uint8Array,
  ext: KconfigExtern,
  text: string,
  where: string,
): void {
  const c = text[0];
  if (c === "y" || c === "n" || c === "m") {
    if (ext.type === "bool") {
      if (c === "m") throw new ExternError(`${where}: value 'm' implies tristate or char type`);
      view.setUint8(ext.offset, c === "y" ? 1 : 0);
    } else if (ext.type === "tristate") {
      view.setUint32(ext.offset, c === "y" ? TRI_YES : c === "m" ? TRI_MODULE : TRI_NO, true);
    } else if (ext.type === "char") {
      view.setUint8(ext.offset, c.charCodeAt(0));
    } else {
      throw new ExternError(`${where}: value '${c}' implies bool, tristate, or char type`);
    }
    return;
  }
  if (c === '"') {
    if (ext.type !== "char_array")
      throw new ExternError(`${where}: value '${text}' implies char array type`);
    if (!text.endsWith('"') || text.length < 2)
      throw new ExternError(`${where}: invalid string config '${text}'`);
    const str = new TextEncoder().encode(text.slice(1, -1)).subarray(0, ext.size - 1);
    bytes.set(str, ext.offset);
    bytes[ext.offset + str.length] = 0;
    return;
  }
  const n = parseConfigInteger(text);
  if (n === undefined) throw new ExternError(`${where}: value '${text}' isn't a valid integer`);
  if (ext.type !== "int" && ext.type !== "char")
    throw new ExternError(`${where}: value '${text}' implies integer type`);
  setNumber(view, ext, n, where);
}

/** strtoull(text, 0) for a whole string: decimal, 0x hexadecimal, 0 octal. */
function parseConfigInteger(text: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return parseInt(text, 8);
  if (/^[1-9]\d*$/.test(text)) return Number(text);
  return undefined;
}

/** A number into an int/char/bool extern of its size (the range checked as libbpf does). */
function setNumber(view: DataView, ext: KconfigExtern, n: number, where: string): void {
  if (ext.type !== "int" && ext.type !== "char" && ext.type !== "bool")
    throw new ExternError(`${where}: value '${n}' implies integer, char, or boolean type`);
  if (ext.type === "bool" && n > 1)
    throw new ExternError(`${where}: value '${n}' isn't boolean compatible`);
  const bits = ext.size * 8;
  const fits = ext.signed ? n < 2 ** (bits - 1) : n < 2 ** bits;
  if (!Number.isSafeInteger(n) || n < 0 || !fits)
    throw new ExternError(`${where}: value '${n}' doesn't fit in ${ext.size} bytes`);
  const lo = (n % 0x100000000) >>> 0;
  const hi = Math.floor(n / 0x100000000) >>> 0;
  if (ext.size === 1) view.setUint8(ext.offset, lo);
  else if (ext.size === 2) view.setUint16(ext.offset, lo, true);
  else if (ext.size === 4) view.setUint32(ext.offset, lo, true);
  else {
    view.setUint32(ext.offset, lo, true);
    view.setUint32(ext.offset + 4, hi, true);
  }
}

// ---- ksyms ----------------------------------------------------------------------------------

/** A resolved ksym: its address (0 for a weak one the kernel lacks). */
export interface KsymAddress {
  lo: number;
  hi: number;
}

/**
 * The address of every typeless `__ksym` variable, from `lookup` (kallsyms). A typed ksym
 * needs the variable in `kernelBtf` (found: its BTF id is reported as unsupported, since
 * PSEUDO_BTF_ID loads are not verified here), a kfunc is unsupported; a strong extern the
 * kernel lacks is an error naming it, a weak one resolves to 0.
 */
export function resolveKsyms(
  externs: readonly BpfExtern[],
  lookup: (name: string) => KsymAddress | undefined,
  file = "object",
): Map<string, KsymAddress> {
  const out = new Map<string, KsymAddress>();
  for (const ext of externs) {
    if (ext.kind !== "ksym") continue;
    const where = `${file}: extern (ksym) '${ext.name}'`;
    if (ext.func) {
      if (ext.weak) {
        out.set(ext.name, { lo: 0, hi: 0 });
        continue;
      }
      throw new ExternError(`${where}: kernel function calls (kfuncs) are not supported`);
    }
    if (ext.typeId !== 0 && !ext.weak)
      throw new ExternError(
        `${where}: typed ksyms (BPF_PSEUDO_BTF_ID) are not supported; declare it 'extern const void ${ext.name} __ksym'`,
      );
    const address = ext.typeId === 0 ? lookup(ext.name) : undefined;
    if (address === undefined && !ext.weak)
      throw new ExternError(
        `${file}: extern '${ext.name}' (strong): not resolved (not in kallsyms)`,
      );
    out.set(ext.name, { lo: address?.lo ?? 0, hi: address?.hi ?? 0 });
  }
  return out;
}

/** kallsyms as /proc/kallsyms text, for resolveKsyms (the first address of each name). */
export function kallsymsLookup(text: string): (name: string) => KsymAddress | undefined {
  const table = new Map<string, KsymAddress>();
  for (const line of text.split("\n")) {
    const [addr, , name] = line.split(/\s+/);
    if (name === undefined || addr === undefined || table.has(name)) continue;
    const padded = addr.padStart(16, "0");
    table.set(name, {
      hi: parseInt(padded.slice(0, 8), 16) | 0,
      lo: parseInt(padded.slice(8), 16) | 0,
    });
  }
  return (name) => table.get(name);
}

// ---- patching -------------------------------------------------------------------------------

/**
 * Point the lddw at `insns[idx]` (a reference to `ext`) at the extern: a kconfig value is
 * BPF_PSEUDO_MAP_VALUE of the `.kconfig` map (`kconfigMapFd`) at the extern's offset, a ksym
 * the symbol's address.
 */
export function patchExternLddw(
  insns: Insn[],
  idx: number,
  ext: BpfExtern,
  ksyms: ReadonlyMap<string, KsymAddress>,
  kconfigMapFd: number,
  where = "program",
): void {
  const first = insns[idx];
  const second = insns[idx + 1];
  if (first?.code !== BPF_LDDW || second === undefined)
    throw new ExternError(
      `${where}: insn ${idx}: extern '${ext.name}' is referenced by a non-lddw instruction`,
    );
  if (ext.kind === "kconfig") {
    first.src = BPF_PSEUDO_MAP_VALUE;
    first.imm = kconfigMapFd;
    second.imm = ext.offset;
    return;
  }
  const address = ksyms.get(ext.name);
  if (address === undefined)
    throw new ExternError(`${where}: insn ${idx}: extern '${ext.name}' was not resolved`);
  first.imm = address.lo | 0;
  second.imm = address.hi | 0;
}

// ---- the simulated kernel -------------------------------------------------------------------

/**
 * The simulated kernel's configuration as /proc/config.gz would give it: an x86_64 6.1 build
 * with BPF, kprobes, BTF and the subsystems it simulates.
 */
export const SIM_KERNEL_CONFIG = [
  "CONFIG_64BIT=y",
  "CONFIG_X86_64=y",
  "CONFIG_SMP=y",
  "CONFIG_NR_CPUS=64",
  "CONFIG_HZ=250",
  "CONFIG_HZ_250=y",
  'CONFIG_LOCALVERSION=""',
  "CONFIG_MODULES=y",
  "CONFIG_BPF=y",
  "CONFIG_BPF_SYSCALL=y",
  "CONFIG_BPF_JIT=y",
  "CONFIG_BPF_EVENTS=y",
  "CONFIG_HAVE_EBPF_JIT=y",
  "CONFIG_KPROBES=y",
  "CONFIG_KPROBE_EVENTS=y",
  "CONFIG_KRETPROBES=y",
  "CONFIG_PERF_EVENTS=y",
  "CONFIG_TRACEPOINTS=y",
  "CONFIG_FTRACE=y",
  "CONFIG_DEBUG_INFO_BTF=y",
  "CONFIG_NET=y",
  "CONFIG_INET=y",
  "CONFIG_IPV6=y",
  "CONFIG_BLOCK=y",
  "CONFIG_BLK_DEV=y",
  "CONFIG_CGROUPS=y",
  "CONFIG_PREEMPT_NONE=y",
  "CONFIG_ARCH_HAS_SYSCALL_WRAPPER=y",
].join("\n");

/** Where a SimKernel's `__kconfig` values come from. */
export function simKernelConfig(kernel: { readonly version: number }): KernelConfigSource {
  return {
    version: kernel.version,
    config: SIM_KERNEL_CONFIG,
    hasBpfCookie: true,
    // its system calls are __x64_sys_* handlers taking a pt_regs
    hasSyscallWrapper: true,
  };
}
