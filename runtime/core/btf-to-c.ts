// BTF to compilable C: the vmlinux.h that `bpftool btf dump file X format c` writes, byte for
// byte (bpftool v7.1 as Debian builds it from Linux 6.1: libbpf 1.1's BTF-to-C converter with
// its padding and packing fixes and `(void)` for empty prototypes, without the later
// mode(byte)/mode(word) enum attributes), so CO-RE programs can be built against any BTF: the
// real kernel's, the simulated kernel's, an object's.
//
// Every type is visited in id order. For each, a depth-first walk (order) lists the named
// definitions it needs first: a struct/union embedded by value (or anonymous, so written
// inline) must be complete before its container, while one only pointed to needs just a
// forward declaration. Then each listed definition is written (emit), with forward
// declarations where a definition refers back to something not yet complete. Declarations are
// spelled by pushing the chain of types (pointers, arrays, prototypes, qualifiers) on a stack
// and unwinding it the way C declarators nest. Names that repeat (two different `struct
// foo`s) get `___2`, `___3`; enumerators share a namespace with typedefs. Struct layouts are
// reproduced with explicit padding bit-fields (`long: 64;`) and `__attribute__((packed))`
// where natural alignment could not give the recorded offsets.
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  BtfError,
  type Btf,
  type BtfComposite,
  type BtfEnum,
  type BtfEnum64,
  type BtfType,
} from "../btf/btf.js";
import { btfTypeById } from "../btf/query.js";
import { enumValueText } from "./spec.js";

/** bpftool's header and footer around the types. */
const HEADER =
  "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n" +
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n" +
  "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n" +
  "#endif\n\n";
const FOOTER =
  "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n" +
  "#endif /* __VMLINUX_H__ */\n";

/** Pointers of the BPF target (and of the x86_64 kernels whose BTF is dumped). */
const PTR_SIZE = 8;
/** Deepest type nesting followed before the BTF is called cyclic. */
const MAX_DEPTH = 1024;

const enum Order {
  NotOrdered,
  Ordering,
  Ordered,
}
const enum Emit {
  NotEmitted,
  Emitting,
  Emitted,
}

export interface BtfToCOptions {
  /**
   * Write `__attribute__((mode(byte)))` / `mode(word)` on enums whose size C would not give
   * them (newer libbpf does; bpftool 7.1 does not), so every struct gets the BTF's layout.
   * Default false: bpftool 7.1's text.
   */
  enumModes?: boolean;
}

/** The vmlinux.h text for `btf`, as bpftool's `format c` writes it. */
export function btfToC(btf: Btf, options: BtfToCOptions = {}): string {
  return HEADER + btfTypesToC(btf, options) + FOOTER;
}

/** The C definitions of every type of `btf` without bpftool's header and footer. */
export function btfTypesToC(btf: Btf, options: BtfToCOptions = {}): string {
  return new CWriter(btf, options).dumpAll();
}

/** A view of a declaration stack: ids[0..cnt) with the innermost type on top. */
interface DeclStack {
  ids: number[];
  cnt: number;
}

class CWriter {
  private readonly out: string[] = [];
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly cachedNames: (string | undefined)[] = [];
  /** struct/union/enum names -> occurrences */
  private readonly typeNames = new Map<string, number>();
  /** typedef and enumerator names -> occurrences */
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];

  constructor(
    private readonly btf: Btf,
    private readonly options: BtfToCOptions,
  ) {
    const n = btf.types.length;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    // void is always defined
    this.order[0] = Order.Ordered;
    this.emit[0] = Emit.Emitted;
    this.markReferenced();
  }

  dumpAll(): string {
    for (let id = 1; id < this.btf.types.length; id++) {
      this.queue = [];
      this.orderType(id, false, 0);
      for (const q of this.queue) this.emitType(q, 0, 0);
    }
    return this.out.join("");
  }

  private print(s: string): void {
    this.out.push(s);
  }

  private type(id: number): BtfType {
    return btfTypeById(this.btf, id);
  }

  private deep(id: number, depth: number): void {
    if (depth > MAX_DEPTH)
      throw new BtfError(`type [${id}]: types nest deeper than ${MAX_DEPTH} (cyclic BTF?)`);
  }

  /**
   * Types referenced by another type: an anonymous enum nobody refers to is a top-level
   * constant list (written on its own), one that is referenced is written inline where used.
   */
  private markReferenced(): void {
    const mark = (id: number): void => {
      if (id >= 0 && id < this.referenced.length) this.referenced[id] = 1;
    };
    for (const t of this.btf.types) {
      switch (t.kind) {
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_PTR:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_FUNC:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
        case BTF_KIND_TYPE_TAG:
          mark(t.type);
          break;
        case BTF_KIND_ARRAY:
          mark(t.indexType);
          mark(t.type);
          break;
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
          for (const m of t.members) mark(m.type);
          break;
        case BTF_KIND_FUNC_PROTO:
          for (const p of t.params) mark(p.type);
          break;
        case BTF_KIND_DATASEC:
          for (const v of t.vars) mark(v.type);
          break;
      }
    }
  }

  // ---- ordering ------------------------------------------------------------------------------

  /**
   * Queue the named definitions `id` needs, in dependency order. Returns true when `id` is
   * part of a strong link (its definition must precede the referrer), false when a forward
   * declaration suffices (reached through a pointer).
   */
  private orderType(id: number, throughPtr: boolean, depth: number): boolean {
    this.deep(id, depth);
    if (this.order[id] === Order.Ordered) return true;
    const t = this.type(id);
    if (this.order[id] === Order.Ordering) {
      // a loop, which a forward declaration resolves only through a pointer to a named record
      if (isComposite(t) && throughPtr && t.name !== "") return false;
      throw new BtfError(`unsatisfiable type cycle, id:[${id}]`);
    }
    switch (t.kind) {
      case BTF_KIND_INT:
      case BTF_KIND_FLOAT:
        this.order[id] = Order.Ordered;
        return false;
      case BTF_KIND_PTR: {
        const strong = this.orderType(t.type, true, depth + 1);
        this.order[id] = Order.Ordered;
        return strong;
      }
      case BTF_KIND_ARRAY:
        return this.orderType(t.type, false, depth + 1);
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        // only embedded (no pointer on the way) or anonymous (written inline) records are strong
        if (throughPtr && t.name !== "") return false;
        this.order[id] = Order.Ordering;
        for (const m of t.members) this.orderType(m.type, false, depth + 1);
        if (t.name !== "") this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      }
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_FWD:
        // named, or anonymous and unreferenced: a top-level declaration of its own
        if (t.name !== "" || !this.referenced[id]) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      case BTF_KIND_TYPEDEF: {
        const strong = this.orderType(t.type, throughPtr, depth + 1);
        if (throughPtr && !strong) return false;
        this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      }
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        return this.orderType(t.type, throughPtr, depth + 1);
      case BTF_KIND_FUNC_PROTO: {
        let strong = this.orderType(t.type, throughPtr, depth + 1);
        for (const p of t.params) if (this.orderType(p.type, throughPtr, depth + 1)) strong = true;
        return strong;
      }
      case BTF_KIND_FUNC:
      case BTF_KIND_VAR:
      case BTF_KIND_DATASEC:
      case BTF_KIND_DECL_TAG:
        this.order[id] = Order.Ordered;
        return false;
      default:
        throw new BtfError(`type [${id}]: unexpected kind ${t.kind} while ordering`);
    }
  }

  // ---- emitting ------------------------------------------------------------------------------

  /** Write `id`'s definition (and forward declarations it needs); contId: the record inside which we are. */
  private emitType(id: number, contId: number, depth: number): void {
    this.deep(id, depth);
    if (this.emit[id] === Emit.Emitted) return;
    const t = this.type(id);
    if (this.emit[id] === Emit.Emitting) {
      this.emitBackReference(id, t, contId);
      return;
    }
    const topLevel = contId === 0;
    switch (t.kind) {
      case BTF_KIND_INT:
        this.emitMissingAliases(id);
        this.emit[id] = Emit.Emitted;
        break;
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        if (topLevel) {
          this.emitEnumDef(id, t, 0);
          this.print(";\n\n");
        }
        this.emit[id] = Emit.Emitted;
        break;
      case BTF_KIND_PTR:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
      case BTF_KIND_ARRAY:
        this.emitType(t.type, contId, depth + 1);
        break;
      case BTF_KIND_FWD:
        this.emitFwdDef(id, t);
        this.print(";\n\n");
        this.emit[id] = Emit.Emitted;
        break;
      case BTF_KIND_TYPEDEF:
        this.emit[id] = Emit.Emitting;
        this.emitType(t.type, id, depth + 1);
        // unless a pointer already needed it (and wrote it), the typedef goes here
        if (!this.fwdEmitted[id] && !this.isBlacklisted(t)) {
          this.emitTypedefDef(id, t, 0);
          this.print(";\n\n");
        }
        this.emit[id] = Emit.Emitted;
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        this.emitRecord(id, t, contId, depth);
        break;
      case BTF_KIND_FUNC_PROTO:
        this.emitType(t.type, contId, depth + 1);
        for (const p of t.params) this.emitType(p.type, contId, depth + 1);
        break;
      default:
        break;
    }
  }

  /** A reference to a type being written: a forward declaration if one is needed. */
  private emitBackReference(id: number, t: BtfType, contId: number): void {
    if (this.fwdEmitted[id]) return;
    if (t.kind === BTF_KIND_STRUCT || t.kind === BTF_KIND_UNION) {
      // the record we are inside needs no forward declaration; an anonymous one cannot have one
      if (id === contId || t.name === "") return;
      this.emitStructFwd(id, t);
      this.print(";\n\n");
      this.fwdEmitted[id] = 1;
    } else if (t.kind === BTF_KIND_TYPEDEF) {
      // a typedef may be used through a pointer before its target is complete
      if (!this.isBlacklisted(t)) {
        this.emitTypedefDef(id, t, 0);
        this.print(";\n\n");
      }
      this.fwdEmitted[id] = 1;
    }
  }

  private emitRecord(id: number, t: BtfComposite, contId: number, depth: number): void {
    const topLevel = contId === 0;
    this.emit[id] = Emit.Emitting;
    // a definition spells its members, whose types may need forward declarations first
    if (topLevel || t.name === "") {
      const inner = t.name === "" ? contId : id;
      for (const m of t.members) this.emitType(m.type, inner, depth + 1);
    } else if (!this.fwdEmitted[id] && id !== contId) {
      this.emitStructFwd(id, t);
      this.print(";\n\n");
      this.fwdEmitted[id] = 1;
    }
    if (topLevel) {
      this.emitStructDef(id, t, 0);
      this.print(";\n\n");
      this.emit[id] = Emit.Emitted;
    } else {
      this.emit[id] = Emit.NotEmitted;
    }
  }

  /** __builtin_va_list is the compiler's own: never redefined. */
  private isBlacklisted(t: BtfType): boolean {
    return t.name === "__builtin_va_list";
  }

  /** GCC's internal Arm SIMD types, aliased to standard ones. */
  private emitMissingAliases(id: number): void {
    const name = this.typeName(id);
    const alias = MISSING_BASE_TYPES.get(name);
    if (alias !== undefined) this.print(`typedef ${alias} ${name};\n\n`);
  }

  // ---- records -------------------------------------------------------------------------------

  private emitStructFwd(id: number, t: BtfType): void {
    const name = this.typeName(id);
    this.print(
      `${t.kind === BTF_KIND_STRUCT ? "struct" : "union"}${t.name !== "" ? " " : ""}${name}`,
    );
  }

  private emitStructDef(id: number, t: BtfComposite, lvl: number): void {
    const isStruct = t.kind === BTF_KIND_STRUCT;
    const align = this.alignOf(id);
    const packed = isStruct ? this.isPacked(t) : false;
    this.print(`${isStruct ? "struct" : "union"}${t.name !== "" ? " " : ""}${this.typeName(id)} {`);
    // Offsets are C ints, as in libbpf's btf_dump_emit_struct_def: a size or offset past 2^31
    // bits wraps there as it does in bpftool (a corrupt BTF then gets bpftool's text).
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      const bits = t.kindFlag ? m.bitfieldSize : 0;
      const mAlign = packed ? 1 : this.alignOf(m.type);
      const inBitfield = prevBitfield && bits !== 0;
      const mOff = m.bitOffset | 0;
      this.emitBitPadding(id, off, mOff, mAlign, inBitfield, lvl + 1);
      this.print(`\n${indent(lvl + 1)}`);
      this.emitTypeDecl(m.type, m.name, lvl + 1);
      if (bits) {
        this.print(`: ${bits}`);
        off = (mOff + bits) | 0;
        prevBitfield = true;
      } else {
        off = (mOff + Math.imul(Math.max(0, this.sizeOf(m.type)) | 0, 8)) | 0;
        prevBitfield = false;
      }
      this.print(";");
    }
    if (isStruct) this.emitBitPadding(id, off, Math.imul(t.size, 8), align, false, lvl + 1);
    // `struct empty {}` stays on one line
    if (t.members.length || t.size) this.print(`\n${indent(lvl)}}`);
    else this.print("}");
    if (packed) this.print(" __attribute__((packed))");
  }

  /** Natural alignment cannot explain a member's offset or the size: the record was packed. */
  private isPacked(t: BtfComposite): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = this.alignOf(m.type);
      const bits = t.kindFlag ? m.bitfieldSize : 0;
      if (align && bits === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return t.size % maxAlign !== 0;
  }

  /**
   * Fill the gap from bit `cur` to `next` with anonymous bit-fields: first up to the natural
   * boundary of the largest type (long, int, short, char) that fits, marking it with `T: 0`
   * where the compiler would not align by itself, then whole `T: N` units.
   */
  private emitBitPadding(
    id: number,
    cur: number,
    next: number,
    nextAlign: number,
    inBitfield: boolean,
    lvl: number,
  ): void {
    if (cur >= next) return;
    // bpftool would print a line per 64 bits of any gap; a gap of millions of lines is a
    // corrupt size or offset, not a struct to write out
    if (next - cur > MAX_PADDING_BITS) {
      throw new BtfError(
        `type [${id}]: a gap of ${next - cur} bits between members (a corrupt size or offset?)`,
      );
    }
    let padBits = 0;
    let padType = "";
    let newOff = 0;
    for (const pad of PADS) {
      padBits = pad.bits;
      padType = pad.name;
      newOff = roundUp(cur, padBits);
      if (newOff <= next) break;
    }
    if (newOff > cur && newOff <= next) {
      if (
        inBitfield ||
        (newOff === next && roundUp(cur, nextAlign * 8) !== newOff) ||
        (newOff !== next && next - newOff <= newOff - cur)
      )
        this.print(`\n${indent(lvl)}${padType}: ${inBitfield ? newOff - cur : 0};`);
      cur = newOff;
    }
    while (cur !== next) {
      const bits = Math.min(next - cur, padBits);
      if (bits === padBits) {
        this.print(`\n${indent(lvl)}${padType}: ${padBits};`);
        cur += bits;
        continue;
      }
      // the remainder: the smallest type that holds it
      for (let i = PADS.length - 1; i >= 0; i--) {
        if (PADS[i]!.bits < bits) continue;
        this.print(`\n${indent(lvl)}${PADS[i]!.name}: ${bits};`);
        cur += bits;
        break;
      }
    }
  }

  // ---- enums, forwards, typedefs -------------------------------------------------------------

  private emitEnumFwd(id: number): void {
    this.print(`enum ${this.typeName(id)}`);
  }

  private emitEnumDef(id: number, t: BtfEnum | BtfEnum64, lvl: number): void {
    this.print(`enum${t.name !== "" ? " " : ""}${this.typeName(id)}`);
    if (t.values.length === 0) return;
    this.print(" {");
    const suffix = t.kind === BTF_KIND_ENUM64 ? (t.kindFlag ? "LL" : "ULL") : "";
    t.values.forEach((v, i) => {
      // enumerators share a namespace with typedefs
      const dups = this.nameDups(this.identNames, v.name);
      const name = dups > 1 ? `${v.name}___${dups}` : v.name;
      this.print(`\n${indent(lvl + 1)}${name} = ${enumValueText(t, i)}${suffix},`);
    });
    this.print(`\n${indent(lvl)}}`);
    // bpftool 7.1 (libbpf as in Linux 6.1) writes no mode(byte)/mode(word) for enums of
    // unusual size, so a struct holding a 1-byte enum gets the wrong layout; later libbpf
    // writes them, and so do we when asked for exact layouts.
    if (this.options.enumModes) this.emitEnumMode(t);
  }

  /** Force an enum's size where C would not give it by itself. */
  private emitEnumMode(t: BtfEnum | BtfEnum64): void {
    if (t.size === 1) {
      this.print(" __attribute__((mode(byte)))");
    } else if (t.size === 8 && PTR_SIZE === 8) {
      // 8 bytes come by themselves when some value needs them; otherwise mode(word)
      const wide = t.kind === BTF_KIND_ENUM64 && t.values.some((v) => v.hi !== 0);
      if (!wide) this.print(" __attribute__((mode(word)))");
    }
  }

  private emitFwdDef(id: number, t: BtfType): void {
    this.print(`${t.kindFlag ? "union" : "struct"} ${this.typeName(id)}`);
  }

  private emitTypedefDef(id: number, t: BtfType & { type: number }, lvl: number): void {
    const name = this.identName(id);
    // old GCC wrote __gnuc_va_list as a typedef of void
    if (t.type === 0 && name === "__gnuc_va_list") {
      this.print("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.print("typedef ");
    this.emitTypeDecl(t.type, name, lvl);
  }

  // ---- declarations --------------------------------------------------------------------------

  /** Spell a declaration of `fname` with type `id` (a member, parameter or typedef). */
  private emitTypeDecl(id: number, fname: string, lvl: number): void {
    const ids: number[] = [];
    for (;;) {
      if (ids.length > MAX_DEPTH)
        throw new BtfError(
          `type [${id}]: declaration chain longer than ${MAX_DEPTH} (cyclic BTF?)`,
        );
      ids.push(id);
      if (id === 0) break;
      const t = this.type(id);
      if (
        t.kind === BTF_KIND_PTR ||
        t.kind === BTF_KIND_VOLATILE ||
        t.kind === BTF_KIND_CONST ||
        t.kind === BTF_KIND_RESTRICT ||
        t.kind === BTF_KIND_FUNC_PROTO ||
        t.kind === BTF_KIND_TYPE_TAG ||
        t.kind === BTF_KIND_ARRAY
      ) {
        id = t.type;
        continue;
      }
      break; // int, float, enum, fwd, struct, union, typedef end the chain (others too)
    }
    this.emitTypeChain({ ids, cnt: ids.length }, fname, lvl);
  }

  /** const/volatile/restrict written before the type they qualify. */
  private emitMods(decls: DeclStack): void {
    while (decls.cnt) {
      const t = this.type(decls.ids[decls.cnt - 1]!);
      if (t.kind === BTF_KIND_VOLATILE) this.print("volatile ");
      else if (t.kind === BTF_KIND_CONST) this.print("const ");
      else if (t.kind === BTF_KIND_RESTRICT) this.print("restrict ");
      else return;
      decls.cnt--;
    }
  }

  /** Qualifiers on an array or a prototype mean nothing in C (GCC quirks): dropped. */
  private dropMods(decls: DeclStack): void {
    while (decls.cnt) {
      const t = this.type(decls.ids[decls.cnt - 1]!);
      if (
        t.kind !== BTF_KIND_VOLATILE &&
        t.kind !== BTF_KIND_CONST &&
        t.kind !== BTF_KIND_RESTRICT &&
        t.kind !== BTF_KIND_TYPE_TAG
      )
        return;
      decls.cnt--;
    }
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.print(name !== "" && !lastWasPtr ? ` ${name}` : name);
  }

  /** Unwind the declaration stack: the base type first, then what derives from it. */
  private emitTypeChain(decls: DeclStack, fname: string, lvl: number): void {
    // no space before the first '*' of `int *p` when a prototype restarts the chain
    let lastWasPtr = true;
    while (decls.cnt) {
      const id = decls.ids[--decls.cnt]!;
      if (id === 0) {
        this.emitMods(decls);
        this.print("void");
        lastWasPtr = false;
        continue;
      }
      const t = this.type(id);
      switch (t.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_FLOAT:
          this.emitMods(decls);
          this.print(t.name);
          break;
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
          this.emitMods(decls);
          if (t.name === "") this.emitStructDef(id, t, lvl);
          else this.emitStructFwd(id, t);
          break;
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
          this.emitMods(decls);
          if (t.name === "") this.emitEnumDef(id, t, lvl);
          else this.emitEnumFwd(id);
          break;
        case BTF_KIND_FWD:
          this.emitMods(decls);
          this.emitFwdDef(id, t);
          break;
        case BTF_KIND_TYPEDEF:
          this.emitMods(decls);
          this.print(this.identName(id));
          break;
        case BTF_KIND_PTR:
          this.print(lastWasPtr ? "*" : " *");
          break;
        case BTF_KIND_VOLATILE:
          this.print(" volatile");
          break;
        case BTF_KIND_CONST:
          this.print(" const");
          break;
        case BTF_KIND_RESTRICT:
          this.print(" restrict");
          break;
        case BTF_KIND_TYPE_TAG:
          this.emitMods(decls);
          this.print(` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case BTF_KIND_ARRAY:
          this.emitArray(decls, t.nelems, fname, lastWasPtr, lvl);
          return;
        case BTF_KIND_FUNC_PROTO:
          this.emitProto(decls, t.params, fname, lastWasPtr, lvl);
          return;
        default:
          return; // not part of a declaration: libbpf warns and stops
      }
      lastWasPtr = t.kind === BTF_KIND_PTR;
    }
    this.emitName(fname, lastWasPtr);
  }

  private emitArray(
    decls: DeclStack,
    nelems: number,
    fname: string,
    lastWasPtr: boolean,
    lvl: number,
  ): void {
    this.dropMods(decls);
    if (decls.cnt === 0) {
      this.emitName(fname, lastWasPtr);
      this.print(`[${nelems >>> 0}]`);
      return;
    }
    const multidim = this.type(decls.ids[decls.cnt - 1]!).kind === BTF_KIND_ARRAY;
    if (fname !== "" && !lastWasPtr) this.print(" ");
    if (!multidim) this.print("(");
    this.emitTypeChain(decls, fname, lvl);
    if (!multidim) this.print(")");
    this.print(`[${nelems >>> 0}]`);
  }

  private emitProto(
    decls: DeclStack,
    params: { name: string; type: number }[],
    fname: string,
    lastWasPtr: boolean,
    lvl: number,
  ): void {
    this.dropMods(decls);
    if (decls.cnt) {
      this.print(" (");
      this.emitTypeChain(decls, fname, lvl);
      this.print(")");
    } else {
      this.emitName(fname, lastWasPtr);
    }
    this.print("(");
    // no parameters, or clang's single void one: `f(void)`
    if (params.length === 0 || (params.length === 1 && params[0]!.type === 0)) {
      this.print("void)");
      return;
    }
    for (let i = 0; i < params.length; i++) {
      if (i > 0) this.print(", ");
      // a last parameter of type void is the `...`
      if (i === params.length - 1 && params[i]!.type === 0) {
        this.print("...");
        break;
      }
      this.emitTypeDecl(params[i]!.type, params[i]!.name, lvl);
    }
    this.print(")");
  }

  // ---- names ---------------------------------------------------------------------------------

  /** Count one more use of `name` in `map`; the count. */
  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  /** The name a type is written with: its own, or `name___N` for the N-th distinct one. */
  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.type(id);
    if (t.name === "") return "";
    if (this.nameResolved[id]) return this.cachedNames[id] ?? t.name;
    this.nameResolved[id] = 1;
    // forward declarations (and enum forwards) name the same type as the definition
    if (t.kind === BTF_KIND_FWD || (t.kind === BTF_KIND_ENUM && t.values.length === 0))
      return t.name;
    const dups = this.nameDups(map, t.name);
    if (dups > 1) this.cachedNames[id] = `${t.name}___${dups}`;
    return this.cachedNames[id] ?? t.name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }

  // ---- sizes ---------------------------------------------------------------------------------

  /** btf__align_of: natural alignment, 1 for a record whose layout shows it was packed. */
  private alignOf(id: number, depth = 0): number {
    this.deep(id, depth);
    const t = this.type(id);
    switch (t.kind) {
      case BTF_KIND_INT:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_FLOAT:
        return Math.min(PTR_SIZE, t.size);
      case BTF_KIND_PTR:
        return PTR_SIZE;
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
      case BTF_KIND_ARRAY:
        return this.alignOf(t.type, depth + 1);
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        let maxAlign = 1;
        for (const m of t.members) {
          const align = this.alignOf(m.type, depth + 1);
          if (align <= 0) return align;
          maxAlign = Math.max(maxAlign, align);
          const bits = t.kindFlag ? m.bitfieldSize : 0;
          if (bits === 0 && m.bitOffset % (8 * align) !== 0) return 1;
        }
        return t.size % maxAlign !== 0 ? 1 : maxAlign;
      }
      default:
        return 0; // void, functions, forward declarations: no alignment (libbpf: an error)
    }
  }

  /** btf__resolve_size, -1 when the type has none. */
  private sizeOf(id: number): number {
    let count = 1;
    for (let depth = 0; depth < 32; depth++) {
      if (id === 0) return -1;
      const t = this.type(id);
      switch (t.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_DATASEC:
        case BTF_KIND_FLOAT:
          return t.size * count;
        case BTF_KIND_PTR:
          return PTR_SIZE * count;
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_VAR:
        case BTF_KIND_DECL_TAG:
        case BTF_KIND_TYPE_TAG:
          id = t.type;
          break;
        case BTF_KIND_ARRAY:
          count *= t.nelems;
          id = t.type;
          break;
        default:
          return -1;
      }
    }
    return -1;
  }
}

/** The widest gap emitBitPadding writes out: 2^24 bits, 262,144 `long: 64;` lines. */
const MAX_PADDING_BITS = 1 << 24;

const PADS = [
  { name: "long", bits: PTR_SIZE * 8 },
  { name: "int", bits: 32 },
  { name: "short", bits: 16 },
  { name: "char", bits: 8 },
];

const MISSING_BASE_TYPES = new Map([
  ["__Poly8_t", "unsigned char"],
  ["__Poly16_t", "unsigned short"],
  ["__Poly64_t", "unsigned long long"],
  ["__Poly128_t", "unsigned __int128"],
]);

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

const indent = (lvl: number): string => "\t".repeat(Math.min(lvl, 13));

const isComposite = (t: BtfType): t is BtfComposite =>
  t.kind === BTF_KIND_STRUCT || t.kind === BTF_KIND_UNION;
