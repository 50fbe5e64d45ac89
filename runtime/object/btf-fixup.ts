// Clang leaves every DATASEC's size and its variables' offsets at zero; the ELF section and
// symbol table know them. Fill them in (as libbpf does before reading maps and globals), mark
// hidden globals static, and order each DATASEC's variables by offset.
import {
  BTF_KIND_DATASEC,
  BTF_KIND_VAR,
  BTF_VAR_GLOBAL_EXTERN,
  BTF_VAR_STATIC,
  type Btf,
  type BtfVar,
} from "../btf/btf.js";
import {
  STB_GLOBAL,
  STB_WEAK,
  STT_OBJECT,
  STV_HIDDEN,
  STV_INTERNAL,
  type ElfFile,
  type ElfSymbol,
} from "../elf/elf.js";
import { ObjectError } from "./error.js";

/** Sections whose DATASECs describe externs, laid out by the linker/loader instead. */
const EXTERN_SECTIONS = new Set([".kconfig", ".ksyms"]);

export function fixupDatasecs(btf: Btf, elf: ElfFile): void {
  const globals = globalObjectSymbols(elf);
  for (const t of btf.types) {
    if (t.kind !== BTF_KIND_DATASEC || EXTERN_SECTIONS.has(t.name)) continue;
    const where = `${elf.fileName}: .BTF: DATASEC '${t.name}' [${t.id}]`;
    let fixOffsets = false;
    if (t.size === 0) {
      const section = elf.sections.find((s) => s.name === t.name);
      if (!section || section.size === 0)
        throw new ObjectError(`${where}: no ELF section of that name to take its size from`);
      t.size = section.size;
      fixOffsets = true;
    }
    for (const [i, v] of t.vars.entries()) {
      const var_ = btf.types[v.type];
      if (var_?.kind !== BTF_KIND_VAR)
        throw new ObjectError(`${where}: entry ${i} is type [${v.type}], not a VAR`);
      if (var_.linkage === BTF_VAR_STATIC || var_.linkage === BTF_VAR_GLOBAL_EXTERN) continue;
      const sym = globals.get(var_.name);
      if (!sym) throw new ObjectError(`${where}: no ELF symbol for variable '${var_.name}'`);
      if (fixOffsets) v.offset = sym.value;
      markHiddenStatic(var_, sym);
    }
    t.vars.sort((a, b) => a.offset - b.offset);
  }
}

/** Global or weak STT_OBJECT symbols by name (the first of a name wins). */
function globalObjectSymbols(elf: ElfFile): Map<string, ElfSymbol> {
  const byName = new Map<string, ElfSymbol>();
  for (const s of elf.symbols) {
    if (s.type !== STT_OBJECT || (s.bind !== STB_GLOBAL && s.bind !== STB_WEAK)) continue;
    if (!byName.has(s.name)) byName.set(s.name, s);
  }
  return byName;
}

/** A global with hidden/internal visibility is static as far as user space is concerned. */
function markHiddenStatic(var_: BtfVar, sym: ElfSymbol): void {
  if (sym.visibility === STV_HIDDEN || sym.visibility === STV_INTERNAL)
    var_.linkage = BTF_VAR_STATIC;
}
