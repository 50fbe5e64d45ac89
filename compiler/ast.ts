// The abstract syntax tree the parser (parse.ts) builds and sema (sema.ts) checks.
//
// Every node has `kind` (the discriminant) and `loc`, the spelling location of its first token
// together with the macro expansions that produced that token, so a diagnostic about any node can
// point at the source and say which macro use it came from.
//
// The tree stays close to the C grammar but is shaped for sema: declaration specifiers are
// gathered into one DeclSpec with the basic type keywords already combined (`unsigned long int`
// -> "unsigned long"), and a declarator is flattened into the list of derivations read from the
// declared name outward, so building its type is one loop over that list.
//
// Treat the tree as read-only: to keep a large header's tree small, the parser shares one frozen
// empty list among all nodes with an empty list, and one frozen TypeQualifiers with nothing set.

import type { CToken } from "./lexer.js";

/**
 * A node's location is the token it starts at (a CToken from lexer.ts): its spelling location
 * (`file`, `line`, `col`, which makes it usable wherever diagnostics.ts wants a SourceLoc) and its
 * macro-expansion chain (`expansion`; use lexer.ts's diagnosticLoc() / expansionChain() to point
 * a diagnostic at the macro use and add "expanded from macro" notes). Sharing the token costs
 * nothing per node.
 */
export type SourceLoc = CToken;

// ---------------------------------------------------------------------------------------------
// Attributes

/**
 * `__attribute__((name))` or `__attribute__((name(args...)))`. `name` is normalised the way
 * clang matches attributes: surrounding double underscores removed (`__packed__` -> `packed`).
 * Identifier arguments (`format(printf, 1, 2)`, `mode(__DI__)`) are kept as Identifier exprs.
 */
export interface Attribute {
  readonly kind: "Attribute";
  readonly loc: SourceLoc;
  readonly name: string;
  /** null when written without parentheses; [] for `name()`. */
  readonly args: Expr[] | null;
}

// ---------------------------------------------------------------------------------------------
// Declaration specifiers

export type StorageClass = "typedef" | "extern" | "static" | "auto" | "register";

export interface TypeQualifiers {
  const: boolean;
  volatile: boolean;
  restrict: boolean;
  atomic: boolean;
}

/** The basic types, after combining the keywords (`long unsigned int` -> "unsigned long"). */
export type BasicTypeName =
  | "void"
  | "_Bool"
  | "char"
  | "signed char"
  | "unsigned char"
  | "short"
  | "unsigned short"
  | "int"
  | "unsigned int"
  | "long"
  | "unsigned long"
  | "long long"
  | "unsigned long long"
  | "__int128"
  | "unsigned __int128"
  | "float"
  | "double"
  | "long double";

export interface BasicTypeSpec {
  readonly kind: "BasicType";
  readonly loc: SourceLoc;
  readonly name: BasicTypeName;
}

/** `struct tag { ... }`, `union tag`, `struct { ... }`. */
export interface RecordSpec {
  readonly kind: "Record";
  readonly loc: SourceLoc;
  readonly tagKind: "struct" | "union";
  readonly tag: string | null;
  readonly tagLoc: SourceLoc | null;
  /** null when there is no body (a reference or forward declaration); [] for `struct s {}`. */
  readonly members: MemberDecl[] | null;
  /** After the keyword, after the closing brace, and from `#pragma clang attribute push`. */
  readonly attributes: Attribute[];
  /** `#pragma pack(N)` in effect where the body was parsed, in bytes; 0 (or absent) if none. */
  readonly maxFieldAlign?: number;
  /**
   * A body the parser read past (parse-skim.ts): reading `members` parses it. Code that can do
   * without the members (sema's first look at a definition) asks isDefinition and this first.
   */
  readonly deferred?: DeferredBody;
}

/** A record body's tokens, from its '{' to its '}', parsed when first asked for. */
export interface DeferredBody {
  readonly tokens: readonly CToken[];
  readonly open: number;
  readonly close: number;
  parse(): MemberDecl[];
}

/** Whether a record specifier has a body (parsed or not). */
export function isDefinition(rs: RecordSpec): boolean {
  return rs.deferred !== undefined || rs.members !== null;
}

/** `enum tag { A, B = 2 }` or `enum tag`. */
export interface EnumSpec {
  readonly kind: "Enum";
  readonly loc: SourceLoc;
  readonly tag: string | null;
  readonly tagLoc: SourceLoc | null;
  /** null when there is no body; [] for `enum e {}` (an error sema reports). */
  readonly enumerators: Enumerator[] | null;
  readonly attributes: Attribute[];
}

export interface Enumerator {
  readonly kind: "Enumerator";
  readonly loc: SourceLoc;
  readonly name: string;
  readonly value: Expr | null;
  readonly attributes: Attribute[];
}

/** A name declared by `typedef` in an enclosing scope (or a builtin one, see BUILTIN_TYPEDEFS). */
export interface TypedefNameSpec {
  readonly kind: "TypedefName";
  readonly loc: SourceLoc;
  readonly name: string;
}

/** `typeof(expr)`, `typeof(type)`, `__typeof__(...)`. */
export interface TypeofSpec {
  readonly kind: "Typeof";
  readonly loc: SourceLoc;
  readonly arg: Expr | TypeName;
}

/** `_Atomic(type)` as a type specifier (the qualifier form sets TypeQualifiers.atomic). */
export interface AtomicTypeSpec {
  readonly kind: "AtomicType";
  readonly loc: SourceLoc;
  readonly type: TypeName;
}

export type TypeSpecifier =
  BasicTypeSpec | RecordSpec | EnumSpec | TypedefNameSpec | TypeofSpec | AtomicTypeSpec;

/**
 * Typedef names clang predeclares; the parser treats them as typedef names in every scope and
 * sema gives them their builtin types.
 */
export const BUILTIN_TYPEDEFS: readonly string[] = [
  "__builtin_va_list",
  "__int128_t",
  "__uint128_t",
];

export interface DeclSpec {
  readonly kind: "DeclSpec";
  readonly loc: SourceLoc;
  storage: StorageClass | null;
  /** `_Thread_local` / `__thread` (may combine with static/extern). */
  threadLocal: boolean;
  readonly qualifiers: TypeQualifiers;
  /** null when no type specifier was written (implicit int: sema diagnoses). */
  typeSpec: TypeSpecifier | null;
  inline: boolean;
  noreturn: boolean;
  /** `_Alignas(expr)` / `_Alignas(type)`, in order. */
  readonly alignas: (Expr | TypeName)[];
  /** Attributes written before or among the specifiers. */
  readonly attributes: Attribute[];
}

// ---------------------------------------------------------------------------------------------
// Declarators

/** `*` with its qualifiers and attributes: `* const __attribute__((btf_type_tag("user")))`. */
export interface PointerDerivation {
  readonly kind: "Pointer";
  readonly loc: SourceLoc;
  readonly qualifiers: TypeQualifiers;
  readonly attributes: Attribute[];
}

/** `[size]`, `[]` (size null: incomplete or flexible array member), `[static 4]`, `[*]`. */
export interface ArrayDerivation {
  readonly kind: "Array";
  readonly loc: SourceLoc;
  readonly size: Expr | null;
  /** `[*]` in a prototype. */
  readonly star: boolean;
  /** `[static n]` in a parameter. */
  readonly isStatic: boolean;
  /** Qualifiers inside the brackets of a parameter array (`[const 3]`). */
  readonly qualifiers: TypeQualifiers;
}

/** `(params)`. `(void)` gives params [] with hasPrototype true; `()` gives hasPrototype false. */
export interface FunctionDerivation {
  readonly kind: "Function";
  readonly loc: SourceLoc;
  readonly params: ParamDecl[];
  readonly variadic: boolean;
  readonly hasPrototype: boolean;
}

export type Derivation = PointerDerivation | ArrayDerivation | FunctionDerivation;

/**
 * A declarator flattened: `derivations` are read from the name outward, so `int *a[3]` is
 * [Array 3, Pointer] ("a is an array of 3 pointers to int") and `int (*(*fp)(int))[3]` is
 * [Pointer, Function(int), Pointer, Array 3]. To build the type start from the DeclSpec's type
 * and apply the derivations from the last to the first. `name` is null in an abstract declarator
 * (type names, unnamed parameters).
 */
export interface Declarator {
  readonly kind: "Declarator";
  readonly loc: SourceLoc;
  readonly name: string | null;
  readonly nameLoc: SourceLoc | null;
  readonly derivations: Derivation[];
  /** Attributes written after the declarator (and inside its parentheses). */
  readonly attributes: Attribute[];
  /** `asm("symbol")` after the declarator. */
  readonly asmLabel: StringLiteral | null;
}

export interface ParamDecl {
  readonly kind: "ParamDecl";
  readonly loc: SourceLoc;
  readonly spec: DeclSpec;
  readonly declarator: Declarator;
}

/** A type written on its own: in casts, sizeof, compound literals, typeof, offsetof, va_arg. */
export interface TypeName {
  readonly kind: "TypeName";
  readonly loc: SourceLoc;
  readonly spec: DeclSpec;
  readonly declarator: Declarator;
}

// ---------------------------------------------------------------------------------------------
// Declarations

export interface InitDeclarator {
  readonly kind: "InitDeclarator";
  readonly loc: SourceLoc;
  readonly declarator: Declarator;
  readonly init: Initializer | null;
}

/** `spec d1, d2 = init;` at any scope. `struct s { ... };` alone has no declarators. */
export interface Declaration {
  readonly kind: "Declaration";
  readonly loc: SourceLoc;
  readonly spec: DeclSpec;
  readonly declarators: InitDeclarator[];
}

/** One member declarator of a struct/union; declarator null for an unnamed bit-field `int : 3`. */
export interface FieldDeclarator {
  readonly kind: "FieldDeclarator";
  readonly loc: SourceLoc;
  readonly declarator: Declarator | null;
  readonly bitWidth: Expr | null;
}

/**
 * A struct/union member declaration. An anonymous struct/union member is a FieldDecl whose spec
 * is a Record without tag and whose declarators are [].
 */
export interface FieldDecl {
  readonly kind: "FieldDecl";
  readonly loc: SourceLoc;
  readonly spec: DeclSpec;
  readonly declarators: FieldDeclarator[];
}

export type MemberDecl = FieldDecl | StaticAssertDecl;

/** `_Static_assert(cond, "message")` / `_Static_assert(cond)` / `static_assert`. */
export interface StaticAssertDecl {
  readonly kind: "StaticAssert";
  readonly loc: SourceLoc;
  readonly cond: Expr;
  readonly message: StringLiteral | null;
}

export interface FunctionDef {
  readonly kind: "FunctionDef";
  readonly loc: SourceLoc;
  readonly spec: DeclSpec;
  /** derivations[0] is the Function derivation holding the named parameters. */
  readonly declarator: Declarator;
  readonly body: CompoundStmt;
}

/** `asm("...")` at file scope. */
export interface FileScopeAsm {
  readonly kind: "FileScopeAsm";
  readonly loc: SourceLoc;
  readonly text: StringLiteral;
}

export type ExternalDecl = Declaration | FunctionDef | StaticAssertDecl | FileScopeAsm;

export interface TranslationUnit {
  readonly kind: "TranslationUnit";
  readonly loc: SourceLoc;
  readonly decls: ExternalDecl[];
}

// ---------------------------------------------------------------------------------------------
// Initializers

/** `.field` in a designation (also the `.a` of GNU `a: 1` old-style designators). */
export interface FieldDesignator {
  readonly kind: "FieldDesignator";
  readonly loc: SourceLoc;
  readonly name: string;
}

/** `[index]`, or GNU `[first ... last]` with `last` set. */
export interface IndexDesignator {
  readonly kind: "IndexDesignator";
  readonly loc: SourceLoc;
  readonly index: Expr;
  readonly last: Expr | null;
}

export type Designator = FieldDesignator | IndexDesignator;

export interface InitItem {
  readonly kind: "InitItem";
  readonly loc: SourceLoc;
  /** [] for a positional item. */
  readonly designators: Designator[];
  readonly value: Initializer;
}

/** `{ item, item, }`. */
export interface InitList {
  readonly kind: "InitList";
  readonly loc: SourceLoc;
  readonly items: InitItem[];
}

export type Initializer = Expr | InitList;

// ---------------------------------------------------------------------------------------------
// Statements

/**
 * `#pragma unroll`, `#pragma unroll 4`, `#pragma clang loop unroll(full)`, ... placed before a
 * loop: `words` are the spellings of the pragma's tokens after `pragma`
 * (e.g. ["clang", "loop", "unroll", "(", "full", ")"]).
 */
export interface LoopPragma {
  readonly kind: "LoopPragma";
  readonly loc: SourceLoc;
  readonly words: string[];
}

export interface CompoundStmt {
  readonly kind: "CompoundStmt";
  readonly loc: SourceLoc;
  readonly items: BlockItem[];
  /** The closing brace (line info for the function's end). */
  readonly endLoc: SourceLoc;
}

export type BlockItem = Stmt | Declaration | StaticAssertDecl;

/** `expr;`, or the null statement `;` (expr null), which may carry `__attribute__((fallthrough))`. */
export interface ExprStmt {
  readonly kind: "ExprStmt";
  readonly loc: SourceLoc;
  readonly expr: Expr | null;
  readonly attributes: Attribute[];
}

export interface IfStmt {
  readonly kind: "IfStmt";
  readonly loc: SourceLoc;
  readonly cond: Expr;
  readonly then: Stmt;
  readonly else: Stmt | null;
}

export interface SwitchStmt {
  readonly kind: "SwitchStmt";
  readonly loc: SourceLoc;
  readonly cond: Expr;
  readonly body: Stmt;
}

/** `case value: body` or GNU `case value ... rangeEnd: body`. */
export interface CaseStmt {
  readonly kind: "CaseStmt";
  readonly loc: SourceLoc;
  readonly value: Expr;
  readonly rangeEnd: Expr | null;
  readonly body: Stmt;
}

export interface DefaultStmt {
  readonly kind: "DefaultStmt";
  readonly loc: SourceLoc;
  readonly body: Stmt;
}

export interface WhileStmt {
  readonly kind: "WhileStmt";
  readonly loc: SourceLoc;
  readonly cond: Expr;
  readonly body: Stmt;
  readonly pragmas: LoopPragma[];
}

export interface DoStmt {
  readonly kind: "DoStmt";
  readonly loc: SourceLoc;
  readonly body: Stmt;
  readonly cond: Expr;
  readonly pragmas: LoopPragma[];
}

export interface ForStmt {
  readonly kind: "ForStmt";
  readonly loc: SourceLoc;
  readonly init: Declaration | Expr | null;
  readonly cond: Expr | null;
  readonly step: Expr | null;
  readonly body: Stmt;
  readonly pragmas: LoopPragma[];
}

export interface GotoStmt {
  readonly kind: "GotoStmt";
  readonly loc: SourceLoc;
  readonly label: string;
}

export interface LabeledStmt {
  readonly kind: "LabeledStmt";
  readonly loc: SourceLoc;
  readonly label: string;
  readonly body: Stmt;
  readonly attributes: Attribute[];
}

export interface BreakStmt {
  readonly kind: "BreakStmt";
  readonly loc: SourceLoc;
}

export interface ContinueStmt {
  readonly kind: "ContinueStmt";
  readonly loc: SourceLoc;
}

export interface ReturnStmt {
  readonly kind: "ReturnStmt";
  readonly loc: SourceLoc;
  readonly value: Expr | null;
}

/** `[name] "constraint" (expr)` in an asm statement. */
export interface AsmOperand {
  readonly kind: "AsmOperand";
  readonly loc: SourceLoc;
  readonly symbolicName: string | null;
  readonly constraint: StringLiteral;
  readonly expr: Expr;
}

/** `asm [volatile|inline|goto] ("template" : outputs : inputs : clobbers : labels);` */
export interface AsmStmt {
  readonly kind: "AsmStmt";
  readonly loc: SourceLoc;
  readonly isVolatile: boolean;
  readonly isInline: boolean;
  readonly isGoto: boolean;
  readonly template: StringLiteral;
  readonly outputs: AsmOperand[];
  readonly inputs: AsmOperand[];
  readonly clobbers: StringLiteral[];
  readonly labels: string[];
}

export type Stmt =
  | CompoundStmt
  | ExprStmt
  | IfStmt
  | SwitchStmt
  | CaseStmt
  | DefaultStmt
  | WhileStmt
  | DoStmt
  | ForStmt
  | GotoStmt
  | LabeledStmt
  | BreakStmt
  | ContinueStmt
  | ReturnStmt
  | AsmStmt;

// ---------------------------------------------------------------------------------------------
// Expressions

export interface Identifier {
  readonly kind: "Identifier";
  readonly loc: SourceLoc;
  readonly name: string;
}

/**
 * An integer constant. The value is decoded exactly as an unsigned 64-bit pair (lo, hi: each an
 * unsigned 32-bit number); `overflow` is set when it does not fit in 64 bits (clang: "integer
 * literal is too large to be represented in any integer type"). Sema picks the type from the
 * value, radix and suffix as C11 6.4.4.1 says.
 */
export interface IntegerLiteral {
  readonly kind: "IntegerLiteral";
  readonly loc: SourceLoc;
  readonly text: string;
  readonly lo: number;
  readonly hi: number;
  readonly overflow: boolean;
  readonly radix: 2 | 8 | 10 | 16;
  readonly unsigned: boolean;
  /** 0 none, 1 `l`, 2 `ll`. */
  readonly longness: 0 | 1 | 2;
}

export interface FloatLiteral {
  readonly kind: "FloatLiteral";
  readonly loc: SourceLoc;
  readonly text: string;
  readonly value: number;
  readonly suffix: "" | "f" | "l";
}

/** `'a'`, `'\n'`, `L'x'`: value is the (possibly multi-char) value as clang computes it for int. */
export interface CharLiteral {
  readonly kind: "CharLiteral";
  readonly loc: SourceLoc;
  readonly text: string;
  readonly value: number;
  readonly prefix: "" | "L" | "u" | "U" | "u8";
}

/**
 * One string literal, adjacent literals already concatenated. `value` is the decoded text;
 * `bytes` is its encoding without the terminating NUL (UTF-8 for plain and u8 strings, 2- or
 * 4-byte little-endian units for u, U and L strings).
 */
export interface StringLiteral {
  readonly kind: "StringLiteral";
  readonly loc: SourceLoc;
  readonly prefix: "" | "L" | "u" | "U" | "u8";
  readonly value: string;
  readonly bytes: Uint8Array;
}

export type UnaryOp = "+" | "-" | "!" | "~" | "*" | "&";

export interface UnaryExpr {
  readonly kind: "UnaryExpr";
  readonly loc: SourceLoc;
  readonly op: UnaryOp;
  readonly operand: Expr;
}

/** `++x`, `--x` (prefix true), `x++`, `x--`. */
export interface UpdateExpr {
  readonly kind: "UpdateExpr";
  readonly loc: SourceLoc;
  readonly op: "++" | "--";
  readonly prefix: boolean;
  readonly operand: Expr;
}

export type BinaryOp =
  | "*"
  | "/"
  | "%"
  | "+"
  | "-"
  | "<<"
  | ">>"
  | "<"
  | ">"
  | "<="
  | ">="
  | "=="
  | "!="
  | "&"
  | "^"
  | "|"
  | "&&"
  | "||";

/** `loc` is the left operand's; `opLoc` the operator's (clang points at the operator). */
export interface BinaryExpr {
  readonly kind: "BinaryExpr";
  readonly loc: SourceLoc;
  readonly opLoc: SourceLoc;
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}

export type AssignOp = "=" | "*=" | "/=" | "%=" | "+=" | "-=" | "<<=" | ">>=" | "&=" | "^=" | "|=";

export interface AssignExpr {
  readonly kind: "AssignExpr";
  readonly loc: SourceLoc;
  readonly opLoc: SourceLoc;
  readonly op: AssignOp;
  readonly target: Expr;
  readonly value: Expr;
}

export interface CommaExpr {
  readonly kind: "CommaExpr";
  readonly loc: SourceLoc;
  readonly left: Expr;
  readonly right: Expr;
}

/** `cond ? then : else`; then is null for GNU `cond ?: else`. */
export interface ConditionalExpr {
  readonly kind: "ConditionalExpr";
  readonly loc: SourceLoc;
  readonly cond: Expr;
  readonly then: Expr | null;
  readonly else: Expr;
}

export interface CastExpr {
  readonly kind: "CastExpr";
  readonly loc: SourceLoc;
  readonly type: TypeName;
  readonly operand: Expr;
}

/** `sizeof expr` / `sizeof(type)`. */
export interface SizeofExpr {
  readonly kind: "SizeofExpr";
  readonly loc: SourceLoc;
  readonly arg: Expr | TypeName;
}

/** `_Alignof(type)`, `__alignof__(type or expr)`; `spelling` is the keyword as written. */
export interface AlignofExpr {
  readonly kind: "AlignofExpr";
  readonly loc: SourceLoc;
  readonly spelling: string;
  readonly arg: Expr | TypeName;
}

/** `(type){ ... }`. */
export interface CompoundLiteral {
  readonly kind: "CompoundLiteral";
  readonly loc: SourceLoc;
  readonly type: TypeName;
  readonly init: InitList;
}

/** GNU `({ ...; value; })`. */
export interface StmtExpr {
  readonly kind: "StmtExpr";
  readonly loc: SourceLoc;
  readonly body: CompoundStmt;
}

/** Calls, including `__builtin_*` functions (their names are ordinary identifiers). */
export interface CallExpr {
  readonly kind: "CallExpr";
  readonly loc: SourceLoc;
  readonly callee: Expr;
  readonly args: Expr[];
}

/** `object.member` / `object->member` (arrow true). */
export interface MemberExpr {
  readonly kind: "MemberExpr";
  readonly loc: SourceLoc;
  readonly object: Expr;
  readonly member: string;
  readonly memberLoc: SourceLoc;
  readonly arrow: boolean;
}

export interface IndexExpr {
  readonly kind: "IndexExpr";
  readonly loc: SourceLoc;
  readonly array: Expr;
  readonly index: Expr;
}

/** `__builtin_offsetof(type, a.b[2].c)`: path [field a, field b, index 2, field c]. */
export interface OffsetofExpr {
  readonly kind: "OffsetofExpr";
  readonly loc: SourceLoc;
  readonly type: TypeName;
  readonly path: Designator[];
}

/** `__builtin_va_arg(ap, type)`. */
export interface VaArgExpr {
  readonly kind: "VaArgExpr";
  readonly loc: SourceLoc;
  readonly ap: Expr;
  readonly type: TypeName;
}

/** `__builtin_types_compatible_p(type1, type2)`. */
export interface TypesCompatibleExpr {
  readonly kind: "TypesCompatibleExpr";
  readonly loc: SourceLoc;
  readonly first: TypeName;
  readonly second: TypeName;
}

/** One `type: expr` (type null for `default: expr`) of a `_Generic` selection. */
export interface GenericAssoc {
  readonly kind: "GenericAssoc";
  readonly loc: SourceLoc;
  readonly type: TypeName | null;
  readonly expr: Expr;
}

/** `_Generic(control, type: expr, default: expr)`. */
export interface GenericSelection {
  readonly kind: "GenericSelection";
  readonly loc: SourceLoc;
  readonly control: Expr;
  readonly assocs: GenericAssoc[];
}

export type Expr =
  | Identifier
  | IntegerLiteral
  | FloatLiteral
  | CharLiteral
  | StringLiteral
  | UnaryExpr
  | UpdateExpr
  | BinaryExpr
  | AssignExpr
  | CommaExpr
  | ConditionalExpr
  | CastExpr
  | SizeofExpr
  | AlignofExpr
  | CompoundLiteral
  | StmtExpr
  | CallExpr
  | MemberExpr
  | IndexExpr
  | OffsetofExpr
  | VaArgExpr
  | TypesCompatibleExpr
  | GenericSelection;

/** Every node kind, for generic walkers. */
export type Node =
  | TranslationUnit
  | ExternalDecl
  | Declaration
  | InitDeclarator
  | DeclSpec
  | TypeSpecifier
  | Enumerator
  | MemberDecl
  | FieldDeclarator
  | Declarator
  | Derivation
  | ParamDecl
  | TypeName
  | Attribute
  | InitList
  | InitItem
  | Designator
  | LoopPragma
  | Stmt
  | AsmOperand
  | GenericAssoc
  | Expr;

/** Qualifiers with nothing set, as a fresh object. */
export function noQualifiers(): TypeQualifiers {
  return { const: false, volatile: false, restrict: false, atomic: false };
}
