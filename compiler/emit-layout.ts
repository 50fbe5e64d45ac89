// Where everything of a unit goes in the object: code sections (.text first, as clang always
// has one, then one per SEC name in the order of its first function, functions back to back)
// and data sections (in the order of their first global, each global at its alignment), and
// the section and offset of every symbol. compiler/emit.ts writes the ELF from this.
import { TsbpfError } from "../runtime/error.js";
import { alignOf, canonical } from "./types.js";
import type { CompiledGlobal, CompiledUnit } from "./unit.js";
import type { PlacedFunction } from "./emit-ext.js";

/** A unit the writer cannot turn into an object (a code generation bug); names the place. */
export class EmitError extends TsbpfError {}

export interface CodeSection {
  name: string;
  functions: PlacedFunction[];
  slots: number;
}

export interface DataSection {
  name: string;
  globals: { g: CompiledGlobal; offset: number }[];
  size: number;
  align: number;
}

/** Where a symbol is: its section (undefined for externs) and offset. */
export interface Placed {
  name: string;
  section: string | undefined;
  offset: number;
  size: number;
  global: boolean;
  weak: boolean;
  func: boolean;
}

export interface Layout {
  code: CodeSection[];
  data: DataSection[];
  symbols: Map<string, Placed>;
  placedFunctions: PlacedFunction[];
}

export function layOut(unit: CompiledUnit): Layout {
  const symbols = new Map<string, Placed>();
  const define = (p: Placed): void => {
    if (symbols.has(p.name)) throw new EmitError(`${unit.file}: symbol '${p.name}' defined twice`);
    symbols.set(p.name, p);
  };
  const code = new Map<string, CodeSection>([
    [".text", { name: ".text", functions: [], slots: 0 }],
  ]);
  const placedFunctions: PlacedFunction[] = [];
  for (const fn of unit.functions) {
    let s = code.get(fn.section);
    if (!s) code.set(fn.section, (s = { name: fn.section, functions: [], slots: 0 }));
    const placed = { fn, section: s.name, slot: s.slots };
    s.functions.push(placed);
    placedFunctions.push(placed);
    define({
      name: fn.name,
      section: s.name,
      offset: s.slots * 8,
      size: fn.insns.length * 8,
      global: fn.global,
      weak: false,
      func: true,
    });
    s.slots += fn.insns.length;
  }
  const data = new Map<string, DataSection>();
  for (const g of unit.globals) {
    if (g.external) {
      // An extern of function type is a kfunc (`extern int f(...) __ksym`): calls go to it.
      define({
        name: g.name,
        section: undefined,
        offset: 0,
        size: 0,
        global: true,
        weak: g.external.weak,
        func: canonical(g.type).kind === "function",
      });
      continue;
    }
    if (code.has(g.section))
      throw new EmitError(`${unit.file}: global '${g.name}' is in code section '${g.section}'`);
    let s = data.get(g.section);
    if (!s) data.set(g.section, (s = { name: g.section, globals: [], size: 0, align: 1 }));
    const align = globalAlign(g);
    const offset = alignUp(s.size, align);
    s.globals.push({ g, offset });
    s.size = offset + g.bytes.length;
    s.align = Math.max(s.align, align);
    define({
      name: g.name,
      section: s.name,
      offset,
      size: g.bytes.length,
      global: g.global,
      weak: false,
      func: false,
    });
  }
  return { code: [...code.values()], data: [...data.values()], symbols, placedFunctions };
}

/** The unit as the writer lays it out (see referencedFirst and withFlexibleTail). */
export function normaliseGlobals(unit: CompiledUnit): CompiledUnit {
  return { ...unit, globals: referencedFirst(unit.globals).map(withFlexibleTail) };
}

/**
 * The globals with each one preceded by those its initializer points to, as clang creates them
 * (the inner maps of a map of maps come before it in .maps, which libbpf needs: it creates maps
 * in section order and fills the outer map's slots with the inner maps' fds).
 */
function referencedFirst(globals: readonly CompiledGlobal[]): CompiledGlobal[] {
  const byName = new Map(globals.map((g) => [g.name, g] as const));
  const out: CompiledGlobal[] = [];
  const placed = new Set<CompiledGlobal>();
  const place = (g: CompiledGlobal): void => {
    if (placed.has(g)) return;
    placed.add(g);
    for (const r of g.dataRelocs) {
      const target = byName.get(r.symbol);
      if (target) place(target);
    }
    out.push(g);
  };
  globals.forEach(place);
  return out;
}

/**
 * A struct whose flexible array member is initialised with addresses (libbpf's
 * `__array(values, ...) = { [1] = &prog }` in .maps) is as long as its last initialised
 * element, as clang sizes its symbol; sizeof leaves the array out.
 */
function withFlexibleTail(g: CompiledGlobal): CompiledGlobal {
  const end = Math.max(0, ...g.dataRelocs.map((r) => r.offset + (r.kind === "abs64" ? 8 : 4)));
  if (end <= g.bytes.length) return g;
  const c = canonical(g.type);
  if (c.kind !== "record" || !c.decl.hasFlexibleArray) return g; // addData reports it
  const bytes = new Uint8Array(end);
  bytes.set(g.bytes);
  return { ...g, bytes };
}

function globalAlign(g: CompiledGlobal): number {
  if (g.section === ".maps") return 8;
  try {
    return Math.max(1, alignOf(g.type));
  } catch {
    return 1;
  }
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;
