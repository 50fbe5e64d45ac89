// Kernel symbols: name -> address and address -> name+offset/size, as /proc/kallsyms and
// sprint_symbol() give them. Text symbols (kernel functions) live at 0xffffffff81000000 and up,
// as on x86_64 without KASLR; data symbols (init_task, per-CPU variables) are objects in the
// simulated address space and take their addresses from there.
//
// Addresses are (lo, hi) pairs; comparisons use the unsigned words, never a double of all 64
// bits (which would round).
import { KERNEL_HI } from "../vm/memory.js";
import { KernelTypeError } from "./error.js";

/** High word of kernel text addresses. */
export const KERNEL_TEXT_HI = -1; // 0xffffffff
/** _stext: where the first function goes. */
export const KERNEL_TEXT_START = 0x81000000;

/** /proc/kallsyms type letters used here: text, data, bss, read-only data. */
export type SymbolType = "T" | "t" | "D" | "d" | "B" | "b" | "R" | "r";

export interface KernelSymbol {
  readonly name: string;
  readonly type: SymbolType;
  readonly lo: number;
  readonly hi: number;
  readonly size: number;
}

export interface SymbolOffset {
  readonly symbol: KernelSymbol;
  readonly offset: number;
}

const unsignedLess = (aLo: number, aHi: number, bLo: number, bHi: number): boolean =>
  aHi >>> 0 !== bHi >>> 0 ? aHi >>> 0 < bHi >>> 0 : aLo >>> 0 < bLo >>> 0;

export class Kallsyms {
  private readonly byName = new Map<string, KernelSymbol>();
  private readonly sorted: KernelSymbol[] = [];
  private nextText = KERNEL_TEXT_START;

  /** Add a function of `size` bytes at the next 16-byte aligned text address. */
  addText(name: string, size: number, type: SymbolType = "T"): KernelSymbol {
    const symbol: KernelSymbol = { name, type, lo: this.nextText | 0, hi: KERNEL_TEXT_HI, size };
    this.nextText += Math.ceil(size / 16) * 16;
    return this.insert(symbol);
  }

  /** Add a data symbol for an object at a kernel address (the simulated address space). */
  addData(
    name: string,
    lo: number,
    size: number,
    type: SymbolType = "D",
    hi = KERNEL_HI,
  ): KernelSymbol {
    return this.insert({ name, type, lo: lo | 0, hi, size });
  }

  private insert(symbol: KernelSymbol): KernelSymbol {
    if (this.byName.has(symbol.name)) {
      throw new KernelTypeError(`kallsyms: symbol '${symbol.name}' defined twice`);
    }
    this.byName.set(symbol.name, symbol);
    let i = this.sorted.length;
    while (
      i > 0 &&
      unsignedLess(symbol.lo, symbol.hi, this.sorted[i - 1]!.lo, this.sorted[i - 1]!.hi)
    )
      i--;
    this.sorted.splice(i, 0, symbol);
    return symbol;
  }

  /** kallsyms_lookup_name(). */
  lookup(name: string): KernelSymbol | undefined {
    return this.byName.get(name);
  }

  /** The symbol containing the address (within its size), and the offset into it. */
  resolve(lo: number, hi: number): SymbolOffset | undefined {
    let l = 0;
    let h = this.sorted.length;
    while (l < h) {
      const mid = (l + h) >>> 1;
      const s = this.sorted[mid]!;
      if (unsignedLess(lo, hi, s.lo, s.hi)) h = mid;
      else l = mid + 1;
    }
    const symbol = this.sorted[l - 1];
    if (symbol === undefined || symbol.hi >>> 0 !== hi >>> 0) return undefined;
    const offset = (lo >>> 0) - (symbol.lo >>> 0);
    return offset < Math.max(symbol.size, 1) ? { symbol, offset } : undefined;
  }

  /** sprint_symbol(): "vfs_read+0x1c/0x150", or the address in hex when no symbol has it. */
  format(lo: number, hi: number, withOffset = true): string {
    const found = this.resolve(lo, hi);
    if (found === undefined) {
      return (
        "0x" +
        ((hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, "0")).replace(/^0+(?=.)/, "")
      );
    }
    if (!withOffset) return found.symbol.name;
    return `${found.symbol.name}+0x${found.offset.toString(16)}/0x${found.symbol.size.toString(16)}`;
  }

  /** /proc/kallsyms text, sorted by address. */
  text(): string {
    return this.sorted
      .map(
        (s) =>
          `${(s.hi >>> 0).toString(16).padStart(8, "0")}${(s.lo >>> 0).toString(16).padStart(8, "0")} ${s.type} ${s.name}`,
      )
      .join("\n")
      .concat("\n");
  }

  /** Every symbol, by address. */
  list(): readonly KernelSymbol[] {
    return this.sorted;
  }
}
