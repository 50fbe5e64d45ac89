// Compact text forms of parsed C, for tests and debugging: expressions as s-expressions
// (`a + b * c` -> `(+ a (* b c))`) and types spelled the way clang prints them
// (`int (*(*)(int))[3]`), straight from the AST before any semantic analysis.
import type {
  Declarator,
  DeclSpec,
  Derivation,
  Designator,
  Expr,
  Initializer,
  TypeName,
  TypeQualifiers,
  TypeSpecifier,
} from "./ast.js";

function qualifierWords(q: TypeQualifiers): string[] {
  const words: string[] = [];
  if (q.const) words.push("const");
  if (q.volatile) words.push("volatile");
  if (q.restrict) words.push("restrict");
  if (q.atomic) words.push("_Atomic");
  return words;
}

function specifierText(t: TypeSpecifier | null): string {
  if (t === null) return "int";
  switch (t.kind) {
    case "BasicType":
      return t.name;
    case "Record":
      return `${t.tagKind} ${t.tag ?? "(anonymous)"}`;
    case "Enum":
      return `enum ${t.tag ?? "(anonymous)"}`;
    case "TypedefName":
      return t.name;
    case "Typeof":
      return `typeof(${t.arg.kind === "TypeName" ? formatTypeName(t.arg) : formatExpr(t.arg)})`;
    case "AtomicType":
      return `_Atomic(${formatTypeName(t.type)})`;
  }
}

/** The base type of a declaration: qualifiers then the type specifier (`const unsigned long`). */
export function formatSpec(spec: DeclSpec): string {
  return [...qualifierWords(spec.qualifiers), specifierText(spec.typeSpec)].join(" ");
}

function arraySize(e: Expr | null): string {
  return e === null ? "" : formatExpr(e);
}

/**
 * The declarator's type around `name` (or abstract when name is ""), as clang spells types:
 * `int *[3]`, `int (*)[3]`, `char *const`, `void (*)(int, ...)`.
 */
export function formatDeclaratorType(
  base: string,
  derivations: readonly Derivation[],
  name = "",
): string {
  let s = name;
  let afterPointer = false;
  for (const d of derivations) {
    if (d.kind === "Pointer") {
      const q = qualifierWords(d.qualifiers).join(" ");
      s = "*" + (q !== "" ? q + (s !== "" ? " " : "") : "") + s;
      afterPointer = true;
      continue;
    }
    if (afterPointer) s = `(${s})`;
    afterPointer = false;
    if (d.kind === "Array") {
      s += `[${d.star ? "*" : arraySize(d.size)}]`;
    } else {
      const params = d.params.map((p) => formatType(p.spec, p.declarator));
      if (d.variadic) params.push("...");
      if (params.length === 0 && d.hasPrototype) params.push("void");
      s += `(${params.join(", ")})`;
    }
  }
  return s === "" ? base : s.startsWith("[") ? base + s : `${base} ${s}`;
}

/** The type a declarator declares, without its name (`int (*(*)(int))[3]`). */
export function formatType(spec: DeclSpec, declarator: Declarator): string {
  return formatDeclaratorType(formatSpec(spec), declarator.derivations);
}

export function formatTypeName(t: TypeName): string {
  return formatType(t.spec, t.declarator);
}

function formatDesignators(path: readonly Designator[]): string {
  let s = "";
  for (const d of path) {
    s +=
      d.kind === "FieldDesignator"
        ? `.${d.name}`
        : `[${formatExpr(d.index)}${d.last ? ` ... ${formatExpr(d.last)}` : ""}]`;
  }
  return s;
}

export function formatInitializer(init: Initializer): string {
  if (init.kind !== "InitList") return formatExpr(init);
  const items = init.items.map((item) => {
    const designation =
      item.designators.length > 0 ? `${formatDesignators(item.designators)}=` : "";
    return designation + formatInitializer(item.value);
  });
  return `{${items.join(" ")}}`;
}

/** An unsigned 64-bit (lo, hi) pair in decimal (exact, without BigInt). */
export function decimal(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * 4294967296 + lo);
  const limbs = [lo & 0xffff, lo >>> 16, hi & 0xffff, hi >>> 16];
  let out = "";
  while (limbs.some((l) => l !== 0)) {
    let rem = 0;
    for (let k = 3; k >= 0; k--) {
      const cur = rem * 65536 + limbs[k]!;
      limbs[k] = Math.floor(cur / 10000);
      rem = cur % 10000;
    }
    out = String(rem).padStart(4, "0") + out;
  }
  return out.replace(/^0+(?=\d)/, "");
}

/** An expression as an s-expression: `(+ a (* b c))`, `(call f x)`, `(-> p next)`. */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case "Identifier":
      return e.name;
    case "IntegerLiteral":
      return decimal(e.lo, e.hi);
    case "FloatLiteral":
      return e.text;
    case "CharLiteral":
      return String(e.value);
    case "StringLiteral":
      return JSON.stringify(e.value);
    case "UnaryExpr":
      return `(${e.op} ${formatExpr(e.operand)})`;
    case "UpdateExpr":
      return `(${e.prefix ? "pre" : "post"}${e.op} ${formatExpr(e.operand)})`;
    case "BinaryExpr":
      return `(${e.op} ${formatExpr(e.left)} ${formatExpr(e.right)})`;
    case "AssignExpr":
      return `(${e.op} ${formatExpr(e.target)} ${formatExpr(e.value)})`;
    case "CommaExpr":
      return `(, ${formatExpr(e.left)} ${formatExpr(e.right)})`;
    case "ConditionalExpr":
      return `(? ${formatExpr(e.cond)} ${e.then === null ? "_" : formatExpr(e.then)} ${formatExpr(e.else)})`;
    case "CastExpr":
      return `(cast {${formatTypeName(e.type)}} ${formatExpr(e.operand)})`;
    case "SizeofExpr":
      return `(sizeof ${e.arg.kind === "TypeName" ? `{${formatTypeName(e.arg)}}` : formatExpr(e.arg)})`;
    case "AlignofExpr":
      return `(alignof ${e.arg.kind === "TypeName" ? `{${formatTypeName(e.arg)}}` : formatExpr(e.arg)})`;
    case "CompoundLiteral":
      return `(compound {${formatTypeName(e.type)}} ${formatInitializer(e.init)})`;
    case "StmtExpr":
      return `({ ${e.body.items.length} items })`;
    case "CallExpr":
      return `(call ${[e.callee, ...e.args].map(formatExpr).join(" ")})`;
    case "MemberExpr":
      return `(${e.arrow ? "->" : "."} ${formatExpr(e.object)} ${e.member})`;
    case "IndexExpr":
      return `([] ${formatExpr(e.array)} ${formatExpr(e.index)})`;
    case "OffsetofExpr":
      return `(offsetof {${formatTypeName(e.type)}} ${formatDesignators(e.path).replace(/^\./, "")})`;
    case "VaArgExpr":
      return `(va_arg ${formatExpr(e.ap)} {${formatTypeName(e.type)}})`;
    case "TypesCompatibleExpr":
      return `(types_compatible {${formatTypeName(e.first)}} {${formatTypeName(e.second)}})`;
    case "GenericSelection":
      return `(_Generic ${formatExpr(e.control)} ${e.assocs
        .map(
          (a) =>
            `${a.type === null ? "default" : `{${formatTypeName(a.type)}}`}:${formatExpr(a.expr)}`,
        )
        .join(" ")})`;
  }
}
