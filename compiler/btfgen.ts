// BTF types from the compiler's C types, visited in the order clang -target bpf -g creates
// them, so that `bpftool btf dump` of our objects reads like clang's:
//
// - a pointer, typedef or qualifier gets its id before the type it refers to; a struct or
//   union gets its id before its members' types; an array gets its id after its element type
//   (the innermost dimension first), and `__ARRAY_SIZE_TYPE__` comes right after the first
//   array;
// - a function's parameter types come first, then its FUNC_PROTO, then the return type, then
//   the FUNC; a function pointer's FUNC_PROTO comes before its return and parameter types;
// - inside a struct member, a pointer to a named struct or union is not followed: the pointer
//   is recorded and, once everything else is emitted, pointed at the struct of that name if
//   one was emitted, or at a FWD created at the end (clang's way of not pulling in every type
//   a pointer member can reach);
// - qualifiers are const, then volatile, then restrict, outermost first; unnamed bit-fields
//   are left out of records; the map structs of `.maps` have their members' types visited
//   before the struct itself.
//
// Types that clang describes with one debug-info node share one BTF type: records, enums and
// typedefs by declaration, everything else by structure.
import {
  addBtfType,
  createBtf,
  BTF_FUNC_EXTERN,
  BTF_FUNC_GLOBAL,
  BTF_FUNC_STATIC,
  BTF_INT_BOOL,
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  BTF_MAX_VLEN,
  type Btf,
  type BtfArray,
  type BtfComposite,
  type BtfFuncProto,
  type BtfRef,
} from "../runtime/btf/btf.js";
import { TsbpfError } from "../runtime/error.js";
import {
  Q_CONST,
  Q_RESTRICT,
  Q_VOLATILE,
  canonical,
  type ArrayType,
  type CType,
  type EnumDecl,
  type FunctionType,
  type PointerType,
  type RecordDecl,
  type TypedefDecl,
} from "./types.js";

/** A type the BTF generator cannot describe; names the type and the reason. */
export class BtfGenError extends TsbpfError {}

/** One variable (or extern function) of a DATASEC, with the ELF symbol its offset comes from. */
export interface DatasecEntry {
  /** the VAR (or FUNC) id */
  type: number;
  /** the ELF symbol whose address the loader puts in the entry's offset */
  symbol: string;
  size: number;
}

/** btf_decl_tag names of a declaration and of its parameters. */
export interface DeclTags {
  own?: readonly string[];
  params?: readonly (readonly string[] | undefined)[];
}

/** A derived type whose target is fixed up at the end: a named record behind a pointer. */
interface PendingRef {
  ref: BtfRef;
  name: string;
  isUnion: boolean;
}

export class BtfGenerator {
  readonly btf: Btf = createBtf();
  /** DATASECs by section name, created as variables are added. */
  private readonly datasecs = new Map<string, DatasecEntry[]>();
  private readonly ids = new Map<string, number>();
  /** keyOf's answers: member and parameter types are the same objects again and again. */
  private readonly keys = new Map<CType, string>();
  private readonly declIds = new WeakMap<object, number>();
  private nextDeclId = 1;
  private arrayIndexType = 0;
  /** STRUCT/UNION types by creation order, for resolving pending references by name. */
  private readonly records: BtfComposite[] = [];
  private readonly pending: PendingRef[] = [];
  private finished = false;

  /** The id of a C type (void is 0), creating what is missing. */
  typeId(t: CType): number {
    return this.visit(t, false, false);
  }

  /**
   * The id of a `.maps` variable's type: a struct whose member types are visited first, so
   * that the key and value types behind the member pointers are emitted whole.
   */
  mapDefTypeId(t: CType): number {
    const stripped = canonicalRecordOf(t);
    if (stripped === undefined || stripped.isUnion || !stripped.complete) return 0;
    for (const m of btfMembers(stripped)) this.visit(m.type, false, false);
    return this.visit(t, false, false);
  }

  /**
   * A function definition: its parameters' types, its own FUNC_PROTO (never shared, as
   * clang's), the return type, then the FUNC. Returns the FUNC id.
   */
  addFunction(
    name: string,
    type: CType,
    paramNames: readonly string[],
    global: boolean,
    tags: DeclTags = {},
  ): number {
    const fn = functionTypeOf(type, name);
    for (const p of fn.params) this.visit(p.type, false, false);
    const proto = this.addProto(fn, paramNames);
    const id = addBtfType(this.btf, {
      kind: BTF_KIND_FUNC,
      name,
      kindFlag: false,
      type: proto,
      linkage: global ? BTF_FUNC_GLOBAL : BTF_FUNC_STATIC,
    });
    this.addDeclTags(id, -1, tags.own);
    tags.params?.forEach((list, i) => this.addDeclTags(id, i, list));
    return id;
  }

  /** DECL_TAGs naming `target` (component -1: the declaration itself). */
  addDeclTags(target: number, component: number, tags: readonly string[] | undefined): void {
    for (const tag of tags ?? []) {
      addBtfType(this.btf, {
        kind: BTF_KIND_DECL_TAG,
        name: tag,
        kindFlag: false,
        type: target,
        componentIdx: component,
      });
    }
  }

  /** An extern function (a kfunc): FUNC_PROTO, its types, FUNC extern, and its DATASEC entry. */
  addExternFunction(name: string, type: CType, section: string | undefined): number {
    const fn = functionTypeOf(type, name);
    const proto = this.addProto(fn, []);
    const id = addBtfType(this.btf, {
      kind: BTF_KIND_FUNC,
      name,
      kindFlag: false,
      type: proto,
      linkage: BTF_FUNC_EXTERN,
    });
    if (section !== undefined) this.datasec(section).push({ type: id, symbol: name, size: 0 });
    return id;
  }

  /** A VAR and, when it has a section, its DATASEC entry. Returns the VAR id. */
  addVariable(
    name: string,
    typeId: number,
    linkage: number,
    section: string | undefined,
    size: number,
    tags?: readonly string[],
  ): number {
    const id = addBtfType(this.btf, {
      kind: BTF_KIND_VAR,
      name,
      kindFlag: false,
      type: typeId,
      linkage,
    });
    this.addDeclTags(id, -1, tags);
    if (section !== undefined) this.datasec(section).push({ type: id, symbol: name, size });
    return id;
  }

  /** Makes sure a DATASEC exists for `section` (clang makes one for private .rodata constants). */
  ensureDatasec(section: string): void {
    this.datasec(section);
  }

  /**
   * Appends the DATASECs (by name, sizes and offsets left 0 for the loader as clang leaves
   * them) and resolves the pending pointer targets (to a record of that name, or a new FWD).
   * Returns each DATASEC's id with its entries, in order.
   */
  finish(): { id: number; name: string; entries: DatasecEntry[] }[] {
    if (this.finished) throw new BtfGenError("internal: BTF generator finished twice");
    this.finished = true;
    const sections = [...this.datasecs.keys()].sort(byteOrder);
    const out = sections.map((name) => {
      const entries = this.datasecs.get(name)!;
      const id = addBtfType(this.btf, {
        kind: BTF_KIND_DATASEC,
        name,
        kindFlag: false,
        size: 0,
        vars: entries.map((e) => ({ type: e.type, offset: 0, size: e.size })),
      });
      return { id, name, entries };
    });
    this.resolvePending();
    return out;
  }

  // --- visiting ---------------------------------------------------------------------------

  private visit(t: CType, checkPointer: boolean, seenPointer: boolean): number {
    // An array's qualifiers belong to its elements.
    if (t.kind === "array" && t.quals !== 0) t = { ...t, quals: 0 };
    if (t.kind === "void" && t.quals === 0) return 0;
    const key = this.keyOf(t);
    const known = this.ids.get(key);
    if (known !== undefined) {
      // An already emitted typedef or qualifier may stand for a record that was only pending
      // behind a pointer: outside a pointer, follow it so the record is emitted whole.
      if (!(checkPointer && seenPointer)) {
        const base = derivedBase(t);
        if (base !== undefined) this.visit(base, checkPointer, seenPointer);
      }
      return known;
    }
    if (t.quals & (Q_CONST | Q_VOLATILE | Q_RESTRICT)) {
      return this.visitQualified(t, key, checkPointer, seenPointer);
    }
    switch (t.kind) {
      case "void":
        return 0;
      case "int":
        return this.remember(key, this.intType(t.name, t.size, t.signed, t.name === "_Bool"));
      case "float":
        return this.remember(
          key,
          addBtfType(this.btf, {
            kind: BTF_KIND_FLOAT,
            name: t.name,
            kindFlag: false,
            size: t.size,
          }),
        );
      case "pointer":
        return this.visitPointer(t, key, checkPointer, seenPointer);
      case "array":
        return this.visitArray(t, key);
      case "function":
        return this.visitFunctionPointee(t, key);
      case "record":
        return this.visitRecord(t.decl, key);
      case "enum":
        return this.visitEnum(t.decl, key);
      case "typedef":
        return this.visitTypedef(t.decl, key, checkPointer, seenPointer);
    }
  }

  private remember(key: string, id: number): number {
    this.ids.set(key, id);
    return id;
  }

  private intType(name: string, size: number, signed: boolean, bool: boolean): number {
    return addBtfType(this.btf, {
      kind: BTF_KIND_INT,
      name,
      kindFlag: false,
      size,
      encoding: bool ? BTF_INT_BOOL : signed ? BTF_INT_SIGNED : 0,
      bitOffset: 0,
      bits: size * 8,
    });
  }

  /** A derived type (pointer, typedef, qualifier) whose target is filled in later. */
  private addRef(kind: BtfRef["kind"], name: string): BtfRef {
    const id = addBtfType(this.btf, { kind, name, kindFlag: false, type: 0 });
    return this.btf.types[id] as BtfRef;
  }

  /**
   * Inside a struct member, behind a pointer: a derived type whose target is a named, complete
   * record is not followed; its target is resolved by name at the end.
   */
  private deferred(
    kind: BtfRef["kind"],
    name: string,
    key: string,
    target: CType,
    checkPointer: boolean,
    seenPointer: boolean,
  ): number | undefined {
    if (!checkPointer || !seenPointer || target.kind !== "record" || target.quals !== 0)
      return undefined;
    const decl = target.decl;
    if (decl.tag === undefined || !decl.complete) return undefined;
    const ref = this.addRef(kind, name);
    this.pending.push({ ref, name: decl.tag, isUnion: decl.isUnion });
    return this.remember(key, ref.id);
  }

  private visitQualified(
    t: CType,
    key: string,
    checkPointer: boolean,
    seenPointer: boolean,
  ): number {
    const base = derivedBase(t)!;
    const kind =
      t.quals & Q_CONST
        ? BTF_KIND_CONST
        : t.quals & Q_VOLATILE
          ? BTF_KIND_VOLATILE
          : BTF_KIND_RESTRICT;
    const deferred = this.deferred(kind, "", key, base, checkPointer, seenPointer);
    if (deferred !== undefined) return deferred;
    const ref = this.addRef(kind, "");
    this.remember(key, ref.id);
    ref.type = this.visit(base, checkPointer, seenPointer);
    return ref.id;
  }

  private visitTypedef(
    decl: TypedefDecl,
    key: string,
    checkPointer: boolean,
    seenPointer: boolean,
  ): number {
    const deferred = this.deferred(
      BTF_KIND_TYPEDEF,
      decl.name,
      key,
      decl.target,
      checkPointer,
      seenPointer,
    );
    if (deferred !== undefined) return deferred;
    const ref = this.addRef(BTF_KIND_TYPEDEF, decl.name);
    this.remember(key, ref.id);
    ref.type = this.visit(decl.target, checkPointer, seenPointer);
    return ref.id;
  }

  private visitPointer(
    t: PointerType,
    key: string,
    checkPointer: boolean,
    seenPointer: boolean,
  ): number {
    const seen = seenPointer || checkPointer;
    const tags = t.pointeeTags ?? [];
    if (tags.length === 0) {
      const deferred = this.deferred(BTF_KIND_PTR, "", key, t.pointee, checkPointer, seen);
      if (deferred !== undefined) return deferred;
    }
    // `int __tag1 __tag2 *p` is PTR -> tag2 -> tag1 -> int, the tags created first.
    const tagRefs = tags.map((tag) => this.addRef(BTF_KIND_TYPE_TAG, tag));
    for (let i = 1; i < tagRefs.length; i++) tagRefs[i]!.type = tagRefs[i - 1]!.id;
    const ptr = this.addRef(BTF_KIND_PTR, "");
    if (tagRefs.length > 0) ptr.type = tagRefs[tagRefs.length - 1]!.id;
    this.remember(key, ptr.id);
    const pointee = this.visit(t.pointee, checkPointer, seen);
    if (tagRefs.length > 0) tagRefs[0]!.type = pointee;
    else ptr.type = pointee;
    return ptr.id;
  }

  /**
   * `int a[2][3]` is one array type with two dimensions, as in clang's debug info: the
   * element, then ARRAY[3], then ARRAY[2] (only the outermost shared), then the index type.
   */
  private visitArray(t: ArrayType, key: string): number {
    const lengths: number[] = [t.length ?? 0];
    let element: CType = t.element;
    while (element.kind === "array") {
      lengths.push(element.length ?? 0);
      element = element.element;
    }
    let id = this.visit(element, false, false);
    const created: BtfArray[] = [];
    for (let i = lengths.length - 1; i >= 0; i--) {
      id = addBtfType(this.btf, {
        kind: BTF_KIND_ARRAY,
        name: "",
        kindFlag: false,
        type: id,
        indexType: 0,
        nelems: lengths[i]!,
      });
      created.push(this.btf.types[id] as BtfArray);
    }
    this.remember(key, id);
    if (this.arrayIndexType === 0) {
      this.arrayIndexType = this.intType("__ARRAY_SIZE_TYPE__", 4, false, false);
    }
    for (const a of created) a.indexType = this.arrayIndexType;
    return id;
  }

  /** A function type behind a pointer: its FUNC_PROTO first, then its types. */
  private visitFunctionPointee(t: FunctionType, key: string): number {
    const id = this.addProtoShell(t, []);
    this.remember(key, id);
    this.fillProto(id, t);
    return id;
  }

  private addProto(fn: FunctionType, paramNames: readonly string[]): number {
    const id = this.addProtoShell(fn, paramNames);
    this.fillProto(id, fn);
    return id;
  }

  private addProtoShell(fn: FunctionType, paramNames: readonly string[]): number {
    const params = fn.params.map((_, i) => ({ name: paramNames[i] ?? "", type: 0 }));
    if (fn.variadic) params.push({ name: "", type: 0 });
    if (params.length > BTF_MAX_VLEN)
      throw new BtfGenError(`function type with ${params.length} parameters exceeds BTF's limit`);
    return addBtfType(this.btf, {
      kind: BTF_KIND_FUNC_PROTO,
      name: "",
      kindFlag: false,
      type: 0,
      params,
    });
  }

  private fillProto(id: number, fn: FunctionType): void {
    const proto = this.btf.types[id] as BtfFuncProto;
    proto.type = this.visit(fn.ret, false, false);
    fn.params.forEach((p, i) => (proto.params[i]!.type = this.visit(p.type, false, false)));
  }

  private visitRecord(decl: RecordDecl, key: string): number {
    const name = decl.tag ?? "";
    if (!decl.complete) {
      return this.remember(
        key,
        addBtfType(this.btf, { kind: BTF_KIND_FWD, name, kindFlag: decl.isUnion }),
      );
    }
    const members = btfMembers(decl);
    const bitfields = members.some((m) => m.bitWidth !== undefined);
    const id = addBtfType(this.btf, {
      kind: decl.isUnion ? BTF_KIND_UNION : BTF_KIND_STRUCT,
      name,
      kindFlag: bitfields,
      size: decl.size,
      members: members.map((m) => ({
        name: m.name ?? "",
        type: 0,
        bitOffset: m.bitOffset,
        bitfieldSize: m.bitWidth ?? 0,
      })),
    });
    this.remember(key, id);
    const record = this.btf.types[id] as BtfComposite;
    this.records.push(record);
    members.forEach((m, i) => {
      record.members[i]!.type = this.visit(m.type, true, false);
      this.addDeclTags(id, i, m.declTags);
    });
    return id;
  }

  private visitEnum(decl: EnumDecl, key: string): number {
    const name = decl.tag ?? "";
    if (!decl.complete) {
      return this.remember(
        key,
        addBtfType(this.btf, { kind: BTF_KIND_FWD, name, kindFlag: false }),
      );
    }
    return this.remember(
      key,
      addBtfType(this.btf, {
        kind: BTF_KIND_ENUM,
        name,
        kindFlag: false,
        size: decl.underlying!.size,
        values: decl.constants.map((c) => ({
          name: c.name,
          value: Number(BigInt.asIntN(32, c.value)),
        })),
      }),
    );
  }

  private resolvePending(): void {
    const byName = new Map<string, PendingRef[]>();
    for (const p of this.pending) {
      const list = byName.get(p.name);
      if (list) list.push(p);
      else byName.set(p.name, [p]);
    }
    for (const name of [...byName.keys()].sort(byteOrder)) {
      const refs = byName.get(name)!;
      let target = this.records.find((r) => r.name === name)?.id;
      if (target === undefined) {
        const isUnion = refs[refs.length - 1]!.isUnion;
        target = addBtfType(this.btf, { kind: BTF_KIND_FWD, name, kindFlag: isUnion });
      }
      for (const p of refs) p.ref.type = target;
    }
  }

  private datasec(section: string): DatasecEntry[] {
    let entries = this.datasecs.get(section);
    if (!entries) {
      entries = [];
      this.datasecs.set(section, entries);
    }
    return entries;
  }

  // --- identity ---------------------------------------------------------------------------

  /** A key equal for types clang gives one debug-info node. */
  private keyOf(t: CType): string {
    let key = this.keys.get(t);
    if (key === undefined) {
      key = this.newKey(t);
      this.keys.set(t, key);
    }
    return key;
  }

  private newKey(t: CType): string {
    let k = "";
    if (t.quals & Q_CONST) k += "c";
    if (t.quals & Q_VOLATILE) k += "v";
    if (t.quals & Q_RESTRICT) k += "r";
    if (k !== "") k += ":";
    switch (t.kind) {
      case "void":
        return k + "void";
      case "int":
      case "float":
        return k + t.name;
      case "pointer":
        return `${k}*${(t.pointeeTags ?? []).join(",")}(${this.keyOf(t.pointee)})`;
      case "array":
        return `${k}[${t.length ?? ""}](${this.keyOf(t.element)})`;
      case "function":
        return `${k}fn(${this.keyOf(t.ret)};${t.params.map((p) => this.keyOf(p.type)).join(";")}${t.variadic ? ";..." : ""})`;
      case "record":
      case "enum":
      case "typedef":
        return `${k}${t.kind}#${this.declId(t.decl)}`;
    }
  }

  private declId(decl: object): number {
    let id = this.declIds.get(decl);
    if (id === undefined) {
      id = this.nextDeclId++;
      this.declIds.set(decl, id);
    }
    return id;
  }
}

/** What a typedef or qualified type stands for, one level down; undefined for other types. */
function derivedBase(t: CType): CType | undefined {
  if (t.quals & Q_CONST) return { ...t, quals: t.quals & ~Q_CONST } as CType;
  if (t.quals & Q_VOLATILE) return { ...t, quals: t.quals & ~Q_VOLATILE } as CType;
  if (t.quals & Q_RESTRICT) return { ...t, quals: t.quals & ~Q_RESTRICT } as CType;
  if (t.kind === "typedef") return t.decl.target;
  return undefined;
}

/** The members BTF lists: unnamed bit-fields are not members in clang's debug info. */
function btfMembers(decl: RecordDecl) {
  return (decl.members ?? []).filter((m) => !(m.name === undefined && m.bitWidth !== undefined));
}

function canonicalRecordOf(t: CType): RecordDecl | undefined {
  const c = canonical(t);
  return c.kind === "record" ? c.decl : undefined;
}

function functionTypeOf(t: CType, name: string): FunctionType {
  const c = canonical(t);
  if (c.kind !== "function") throw new BtfGenError(`'${name}' does not have a function type`);
  return c;
}

/** std::map<std::string> order: bytes, not locale. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
