// The C type model of the simulated kernel: one declarative description of every kernel type,
// from which the memory layouts (layout.ts), the vmlinux.h header (header.ts) and, later, the
// kernel's BTF are all derived, so programs and kernel cannot drift apart.
//
// Types are plain objects shaped like BTF kinds (int, ptr, array, struct, union, enum, typedef,
// const, volatile, func). A TypeRegistry names them and reads C declarations written as text:
//
//   types.struct("list_head", ["struct list_head *next", "struct list_head *prev"]);
//   types.struct("sock_common", [
//     union_(["__addrpair skc_addrpair", struct_(["__be32 skc_daddr", "__be32 skc_rcv_saddr"])]),
//     "unsigned char skc_reuse:4",
//     "void (*skc_destructor)(struct sock *)",
//   ]);
//
// A member is a C declaration (with an optional `:bits` bit-field width), an anonymous struct or
// union (struct_ / union_), or field(name, type) for a named member of an anonymous record.
// `__user` marks a pointer to user memory (kept for BTF type tags; the header omits it).
import { KernelTypeError } from "./error.js";

export interface VoidType {
  readonly kind: "void";
}
export interface IntType {
  readonly kind: "int";
  /** canonical C spelling: "unsigned long", "_Bool", "char" */
  readonly name: string;
  readonly size: 1 | 2 | 4 | 8;
  readonly signed: boolean;
  /** plain `char` (BTF_INT_CHAR) */
  readonly char?: boolean;
  /** `_Bool` (BTF_INT_BOOL) */
  readonly bool?: boolean;
}
export interface PtrType {
  readonly kind: "ptr";
  readonly to: CType;
  /** points to user memory (`__user`) */
  readonly user?: boolean;
}
export interface ArrayType {
  readonly kind: "array";
  readonly of: CType;
  /** element count; -1 for a flexible array member `x[]` */
  readonly length: number;
}
export interface Member {
  /** "" for an anonymous struct or union member */
  readonly name: string;
  readonly type: CType;
  /** bit-field width, absent for ordinary members */
  readonly bits?: number;
}
export interface RecordType {
  readonly kind: "struct" | "union";
  /** "" for an anonymous record */
  readonly name: string;
  /** undefined while only declared (`struct x;`) */
  members: Member[] | undefined;
}
export interface EnumValue {
  readonly name: string;
  readonly value: number;
}
export interface EnumType {
  readonly kind: "enum";
  readonly name: string;
  values: EnumValue[] | undefined;
}
export interface TypedefType {
  readonly kind: "typedef";
  readonly name: string;
  readonly type: CType;
}
export interface QualifiedType {
  readonly kind: "const" | "volatile";
  readonly type: CType;
}
export interface Param {
  readonly name: string;
  readonly type: CType;
}
export interface FuncType {
  readonly kind: "func";
  readonly ret: CType;
  readonly params: readonly Param[];
  readonly variadic: boolean;
}

export type CType =
  | VoidType
  | IntType
  | PtrType
  | ArrayType
  | RecordType
  | EnumType
  | TypedefType
  | QualifiedType
  | FuncType;

export const VOID: VoidType = { kind: "void" };

// ---- member specifications ----------------------------------------------------------------

/** An anonymous struct or union given inline, or a named member of one (field()). */
export interface InlineRecord {
  readonly inline: "struct" | "union";
  readonly members: readonly MemberSpec[];
  /** member name; "" for an anonymous member */
  readonly name: string;
}
export type MemberSpec = string | InlineRecord;

/** An anonymous `struct { ... };` member. */
export const struct_ = (members: readonly MemberSpec[]): InlineRecord => ({
  inline: "struct",
  members,
  name: "",
});
/** An anonymous `union { ... };` member. */
export const union_ = (members: readonly MemberSpec[]): InlineRecord => ({
  inline: "union",
  members,
  name: "",
});
/** A named member whose type is an inline anonymous record: `union { ... } in6_u;`. */
export const field = (name: string, record: InlineRecord): InlineRecord => ({ ...record, name });

// ---- the registry -------------------------------------------------------------------------

/** A named definition, in the order it was made (the header keeps this order where it can). */
export type Definition = RecordType | EnumType | TypedefType;

interface IntSpec {
  name: string;
  size: 1 | 2 | 4 | 8;
  signed: boolean;
  char?: boolean;
  bool?: boolean;
}

// x86_64 / BPF (LP64) integer types, by their canonical spelling.
const BASE_INTS: IntSpec[] = [
  { name: "char", size: 1, signed: true, char: true },
  { name: "signed char", size: 1, signed: true },
  { name: "unsigned char", size: 1, signed: false },
  { name: "short", size: 2, signed: true },
  { name: "unsigned short", size: 2, signed: false },
  { name: "int", size: 4, signed: true },
  { name: "unsigned int", size: 4, signed: false },
  { name: "long", size: 8, signed: true },
  { name: "unsigned long", size: 8, signed: false },
  { name: "long long", size: 8, signed: true },
  { name: "unsigned long long", size: 8, signed: false },
  { name: "_Bool", size: 1, signed: false, bool: true },
];

const INT_WORDS = new Set(["char", "short", "int", "long", "signed", "unsigned", "_Bool"]);
const QUALIFIERS = new Set(["const", "volatile", "__user", "restrict"]);

export class TypeRegistry {
  private readonly named = new Map<string, CType>();
  private readonly order: Definition[] = [];

  constructor() {
    for (const spec of BASE_INTS) this.named.set(spec.name, { kind: "int", ...spec });
    this.named.set("void", VOID);
  }

  /** Named definitions (records, enums, typedefs) in definition order. */
  definitions(): readonly Definition[] {
    return this.order;
  }

  /** A type by name: "int", "u32", "struct task_struct", "enum skb_drop_reason". */
  lookup(name: string): CType | undefined {
    return this.named.get(name);
  }

  /** Like lookup, but a missing name is an internal error. */
  get(name: string): CType {
    const type = this.named.get(name);
    if (type === undefined) throw new KernelTypeError(`kernel type '${name}' is not defined`);
    return type;
  }

  /** The record `struct name` / `union name`, created incomplete on first mention. */
  record(kind: "struct" | "union", name: string): RecordType {
    const key = `${kind} ${name}`;
    let type = this.named.get(key) as RecordType | undefined;
    if (type === undefined) {
      type = { kind, name, members: undefined };
      this.named.set(key, type);
    }
    return type;
  }

  private enumType(name: string): EnumType {
    const key = `enum ${name}`;
    let type = this.named.get(key) as EnumType | undefined;
    if (type === undefined) {
      type = { kind: "enum", name, values: undefined };
      this.named.set(key, type);
    }
    return type;
  }

  /** typedef <text> name; (text is a type: "unsigned int", "struct { ... }" via a CType). */
  typedef(name: string, type: string | CType | InlineRecord): TypedefType {
    if (this.named.has(name)) throw new KernelTypeError(`typedef '${name}' defined twice`);
    const target =
      typeof type === "string"
        ? this.parseType(type)
        : "inline" in type
          ? this.inlineRecord(type)
          : type;
    const def: TypedefType = { kind: "typedef", name, type: target };
    this.named.set(name, def);
    this.order.push(def);
    return def;
  }

  struct(name: string, members: readonly MemberSpec[]): RecordType {
    return this.define("struct", name, members);
  }

  union(name: string, members: readonly MemberSpec[]): RecordType {
    return this.define("union", name, members);
  }

  private define(
    kind: "struct" | "union",
    name: string,
    members: readonly MemberSpec[],
  ): RecordType {
    const type = this.record(kind, name);
    if (type.members !== undefined) throw new KernelTypeError(`${kind} ${name} defined twice`);
    type.members = members.map((m) => this.member(m, `${kind} ${name}`));
    this.order.push(type);
    return type;
  }

  /** enum name { A = 0, B, ... }: values given as names (counting up) or [name, value]. */
  enum(name: string, values: readonly EnumValueSpec[]): EnumType {
    // An anonymous enum (`enum { TCP_ESTABLISHED = 1, ... };`) is kept only in the order list.
    const type: EnumType =
      name === "" ? { kind: "enum", name, values: undefined } : this.enumType(name);
    if (type.values !== undefined) throw new KernelTypeError(`enum ${name} defined twice`);
    type.values = enumValues(values);
    this.order.push(type);
    return type;
  }

  /** An anonymous enum used only through a typedef: `typedef enum { ... } socket_state;`. */
  anonymousEnum(values: readonly EnumValueSpec[]): EnumType {
    return { kind: "enum", name: "", values: enumValues(values) };
  }

  private member(spec: MemberSpec, where: string): Member {
    if (typeof spec !== "string") return { name: spec.name, type: this.inlineRecord(spec) };
    const colon = /^(.*?):\s*(\d+)\s*$/.exec(spec);
    const decl = this.parseDecl(colon ? colon[1]! : spec);
    if (decl.name === "") throw new KernelTypeError(`${where}: member '${spec}' has no name`);
    if (colon) return { name: decl.name, type: decl.type, bits: Number(colon[2]) };
    return decl;
  }

  private inlineRecord(spec: InlineRecord): RecordType {
    return {
      kind: spec.inline,
      name: "",
      members: spec.members.map((m) => this.member(m, `anonymous ${spec.inline}`)),
    };
  }

  /** A type name without a declarator: "const char *", "struct file", "char [16]". */
  parseType(text: string): CType {
    const decl = this.parseDecl(text);
    if (decl.name !== "") throw new KernelTypeError(`'${text}' declares '${decl.name}'`);
    return decl.type;
  }

  /** A declaration: "const char __user *filename" -> { name: "filename", type }. */
  parseDecl(text: string): Param {
    return new DeclParser(this, text).declaration();
  }

  /** A function prototype: "long do_sys_openat2(int dfd, const char __user *filename, ...)". */
  parsePrototype(text: string): { name: string; type: FuncType } {
    const decl = this.parseDecl(text);
    if (decl.type.kind !== "func") throw new KernelTypeError(`'${text}' is not a function`);
    return { name: decl.name, type: decl.type };
  }

  /** Resolve the type named by specifier words (used by the parser). */
  baseType(words: string[], text: string): CType {
    const [first, second] = words;
    if (first === "struct" || first === "union") return this.record(first, second!);
    if (first === "enum") return this.enumType(second!);
    if (words.every((w) => INT_WORDS.has(w))) return this.intFromWords(words, text);
    if (words.length === 1) {
      const type = this.named.get(first!);
      if (type !== undefined) return type;
    }
    throw new KernelTypeError(`unknown type '${words.join(" ")}' in '${text}'`);
  }

  private intFromWords(words: string[], text: string): CType {
    const count = (w: string): number => words.filter((x) => x === w).length;
    const unsigned = count("unsigned") > 0;
    const signed = count("signed") > 0;
    let name: string;
    if (count("_Bool")) name = "_Bool";
    else if (count("char")) name = unsigned ? "unsigned char" : signed ? "signed char" : "char";
    else if (count("short")) name = unsigned ? "unsigned short" : "short";
    else if (count("long") === 2) name = unsigned ? "unsigned long long" : "long long";
    else if (count("long") === 1) name = unsigned ? "unsigned long" : "long";
    else name = unsigned ? "unsigned int" : "int";
    const type = this.named.get(name);
    if (type === undefined) throw new KernelTypeError(`bad integer type in '${text}'`);
    return type;
  }
}

/** An enumerator: a name (one more than the previous value) or [name, value]. */
export type EnumValueSpec = string | readonly [string, number];

function enumValues(values: readonly EnumValueSpec[]): EnumValue[] {
  let next = 0;
  return values.map((v) => {
    const [name, value] = typeof v === "string" ? [v, next] : v;
    next = value + 1;
    return { name, value };
  });
}

// ---- declaration parser ---------------------------------------------------------------------
//
// declaration := specifiers declarator
// declarator  := '*' qualifier* declarator | direct
// direct      := ( '(' declarator ')' | NAME? ) ( '[' NUMBER? ']' | '(' params ')' )*

/** Applies a declarator to its base type; `user` is set for the pointer next to a __user base. */
type Derive = (base: CType, user: boolean) => CType;

class DeclParser {
  private readonly tokens: string[];
  private pos = 0;

  constructor(
    private readonly registry: TypeRegistry,
    private readonly text: string,
  ) {
    this.tokens = text.match(/\.\.\.|[A-Za-z_]\w*|\d+|[*()[\],]/g) ?? [];
    const rest = text.replace(/\.\.\.|[A-Za-z_]\w*|\d+|[*()[\],]|\s+/g, "");
    if (rest !== "") this.fail(`unexpected '${rest[0]}'`);
  }

  private fail(reason: string): never {
    throw new KernelTypeError(`bad declaration '${this.text}': ${reason}`);
  }

  private peek(): string | undefined {
    return this.tokens[this.pos];
  }

  private next(): string {
    const token = this.tokens[this.pos++];
    if (token === undefined) this.fail("unexpected end");
    return token;
  }

  private expect(token: string): void {
    const got = this.next();
    if (got !== token) this.fail(`expected '${token}', found '${got}'`);
  }

  declaration(): Param {
    const decl = this.parameter();
    if (this.pos !== this.tokens.length) this.fail(`unexpected '${this.peek()}'`);
    return decl;
  }

  private parameter(): Param {
    const { type: base, user } = this.specifiers();
    const { name, derive } = this.declarator();
    return { name, type: derive(base, user) };
  }

  /** Specifier words and qualifiers: the qualified base type, and whether it was `__user`. */
  private specifiers(): { type: CType; user: boolean } {
    const words: string[] = [];
    let isConst = false;
    let isVolatile = false;
    let user = false;
    for (;;) {
      const token = this.peek();
      if (token === undefined) break;
      if (QUALIFIERS.has(token)) {
        this.pos++;
        if (token === "const") isConst = true;
        else if (token === "volatile") isVolatile = true;
        else if (token === "__user") user = true;
        continue;
      }
      if (token === "struct" || token === "union" || token === "enum") {
        if (words.length > 0) break;
        words.push(this.next(), this.next());
        continue;
      }
      if (!/^[A-Za-z_]/.test(token)) break;
      // A second non-integer word is the declarator's name (`u32 len`).
      if (words.length > 0 && !(INT_WORDS.has(token) && words.every((w) => INT_WORDS.has(w))))
        break;
      words.push(this.next());
    }
    if (words.length === 0) this.fail("no type");
    let type = this.registry.baseType(words, this.text);
    if (isVolatile) type = { kind: "volatile", type };
    if (isConst) type = { kind: "const", type };
    return { type, user };
  }

  private declarator(): { name: string; derive: Derive } {
    if (this.peek() === "*") {
      this.pos++;
      let isConst = false;
      let isVolatile = false;
      while (this.peek() !== undefined && QUALIFIERS.has(this.peek()!)) {
        const q = this.next();
        if (q === "const") isConst = true;
        if (q === "volatile") isVolatile = true;
      }
      const inner = this.declarator();
      return {
        name: inner.name,
        derive: (base, user) => {
          let ptr: CType = user ? { kind: "ptr", to: base, user } : { kind: "ptr", to: base };
          if (isVolatile) ptr = { kind: "volatile", type: ptr };
          if (isConst) ptr = { kind: "const", type: ptr };
          return inner.derive(ptr, false);
        },
      };
    }
    let name = "";
    let nested: { name: string; derive: Derive } | undefined;
    const token = this.peek();
    if (token === "(" && (this.tokens[this.pos + 1] === "*" || this.tokens[this.pos + 1] === "(")) {
      this.pos++;
      nested = this.declarator();
      this.expect(")");
      name = nested.name;
    } else if (token !== undefined && /^[A-Za-z_]/.test(token)) {
      name = this.next();
    }
    const suffixes: Derive[] = [];
    for (;;) {
      const t = this.peek();
      if (t === "[") {
        this.pos++;
        let length = -1;
        if (this.peek() !== "]") {
          const n = this.next();
          if (!/^\d+$/.test(n)) this.fail(`bad array length '${n}'`);
          length = Number(n);
        }
        this.expect("]");
        suffixes.push((of) => ({ kind: "array", of, length }));
      } else if (t === "(") {
        this.pos++;
        const { params, variadic } = this.params();
        suffixes.push((ret) => ({ kind: "func", ret, params, variadic }));
      } else break;
    }
    const inner = nested;
    return {
      name,
      derive: (base, user) => {
        let type = base;
        for (let i = suffixes.length - 1; i >= 0; i--) type = suffixes[i]!(type, false);
        return inner ? inner.derive(type, user) : type;
      },
    };
  }

  private params(): { params: Param[]; variadic: boolean } {
    const params: Param[] = [];
    let variadic = false;
    if (this.peek() === ")") {
      this.pos++;
      return { params, variadic };
    }
    if (this.peek() === "void" && this.tokens[this.pos + 1] === ")") {
      this.pos += 2;
      return { params, variadic };
    }
    for (;;) {
      if (this.peek() === "...") {
        this.pos++;
        variadic = true;
      } else {
        params.push(this.parameter());
      }
      const t = this.next();
      if (t === ")") break;
      if (t !== ",") this.fail(`expected ',' or ')', found '${t}'`);
    }
    return { params, variadic };
  }
}

// ---- helpers over types ---------------------------------------------------------------------

/** The type without typedefs and qualifiers. */
export function resolve(type: CType): CType {
  let t = type;
  while (t.kind === "typedef" || t.kind === "const" || t.kind === "volatile") t = t.type;
  return t;
}

/** C spelling of the type's name part: "struct file", "u32", "unsigned int". */
export function baseName(type: CType): string {
  switch (type.kind) {
    case "void":
      return "void";
    case "int":
      return type.name;
    case "typedef":
      return type.name;
    case "struct":
    case "union":
    case "enum":
      return `${type.kind} ${type.name}`;
    default:
      throw new KernelTypeError(`${type.kind} type has no base name`);
  }
}

/**
 * The C declaration of `name` with `type` ("" for an abstract declarator): declToC(char[16],
 * "comm") is "char comm[16]". `anonymous` prints the body of an anonymous record.
 */
export function declToC(
  type: CType,
  name: string,
  anonymous: (type: RecordType | EnumType) => string = (r) => `${r.kind} { ... }`,
): string {
  const join = (base: string, inner: string): string => (inner === "" ? base : `${base} ${inner}`);
  switch (type.kind) {
    case "ptr": {
      const to = type.to;
      const wrap = to.kind === "array" || to.kind === "func";
      return declToC(to, wrap ? `(*${name})` : `*${name}`, anonymous);
    }
    case "array":
      return declToC(type.of, `${name}[${type.length < 0 ? "" : type.length}]`, anonymous);
    case "func": {
      const params =
        type.params.length === 0 && !type.variadic
          ? "void"
          : [
              ...type.params.map((p) => declToC(p.type, p.name, anonymous)),
              ...(type.variadic ? ["..."] : []),
            ].join(", ");
      return declToC(type.ret, `${name}(${params})`, anonymous);
    }
    case "const":
    case "volatile":
      if (resolveQualified(type.type).kind === "ptr" && !isNamed(type.type)) {
        return declToC(type.type, name === "" ? type.kind : `${type.kind} ${name}`, anonymous);
      }
      return `${type.kind} ${declToC(type.type, name, anonymous)}`;
    case "struct":
    case "union":
    case "enum":
      if (type.name === "") return join(anonymous(type), name);
      return join(baseName(type), name);
    default:
      return join(baseName(type), name);
  }
}

function resolveQualified(type: CType): CType {
  let t = type;
  while (t.kind === "const" || t.kind === "volatile") t = t.type;
  return t;
}

function isNamed(type: CType): boolean {
  return type.kind === "typedef";
}
