// Sema's half of the deferred record bodies (see parse-skim.ts): whether a body the parser read
// past would be checked without a diagnostic, decided from its tokens and the types in scope
// where it is defined, without parsing it. When it would, sema defines the record with its body
// unparsed (RecordDecl.defineLater); when the fields are first asked for, the body is parsed and
// checked the usual way, with nothing left to report. Else the body is parsed and checked at
// once, diagnostics and all.
//
// The parser's skim has checked the grammar; this one checks what the types decide, as sema's
// fieldDecl, applyDeclarator and bitFieldWidth would: every typedef name and tag is declared
// (a tag not yet declared would be declared by the member), of the kind written; a member held
// by value (array elements too) has a complete object type; a bit-field has an integer type and
// a width that fits it, not zero when named; a function pointer returns no array or function and
// takes `void` only as its one unqualified parameter; no two members (anonymous members' included)
// have one name.
import type { BasicTypeName, DeferredBody } from "./ast.js";
import type { IToken } from "./chevrotain.js";
import {
  basicKeywordOf,
  basicsValid,
  clearBasics,
  Kind,
  kindOf,
  plainInteger,
} from "./parse-skim.js";
import {
  addBasicKeyword,
  BasicSpecifiers,
  resolveBasicKeywords,
  type BasicKeyword,
} from "./parse-specifiers.js";
import {
  canonical,
  EnumDecl,
  integerTypeOf,
  isComplete,
  qualsOf,
  RecordDecl,
  type CType,
} from "./types.js";

/** What the body's names mean where it is defined. */
export interface SkimScope {
  /** The type a typedef name in scope names, else undefined. */
  typedefType(name: string): CType | undefined;
  tag(name: string): RecordDecl | EnumDecl | undefined;
  basicType(name: BasicTypeName): CType;
}

/** Whether sema would check the body without a diagnostic (see above). */
export function bodyChecksOut(body: DeferredBody, scope: SkimScope): boolean {
  check.tokens = body.tokens;
  check.i = body.open + 1;
  check.scope = scope;
  try {
    return check.members(new Set());
  } finally {
    check.tokens = NO_TOKENS;
    check.scope = undefined;
  }
}

const NO_TOKENS: readonly IToken[] = [];

/** An anonymous struct or union written in place: the names its members bring. */
type Base = CType | Set<string>;

class BodyCheck {
  tokens = NO_TOKENS;
  i = 0;
  scope: SkimScope | undefined = undefined;
  private readonly basics = new BasicSpecifiers<number>();
  /** The basic types by keyword combination (type, width, sign). */
  private readonly basicTypes = new Map<number, CType>();
  /** Whether the last specifiers had a qualifier. */
  private qualified = false;

  private kind(): number {
    return kindOf(this.tokens[this.i]);
  }

  private image(): string {
    return this.tokens[this.i]!.image;
  }

  members(names: Set<string>): boolean {
    for (;;) {
      if (this.kind() === Kind.RBrace) return true;
      const base = this.specifiers();
      if (base === undefined) return false;
      if (this.kind() === Kind.Semicolon) {
        // An anonymous member: its names are this record's.
        for (const name of base as Set<string>) if (!added(names, name)) return false;
        this.i++;
        continue;
      }
      for (;;) {
        if (!this.declarator(base, names)) return false;
        const k = this.kind();
        this.i++;
        if (k === Kind.Semicolon) break;
      }
    }
  }

  private specifiers(): Base | undefined {
    const b = this.basics;
    clearBasics(b);
    this.qualified = false;
    let other: Base | undefined;
    for (;;) {
      const tok = this.tokens[this.i]!;
      const k = kindOf(tok);
      if (k === Kind.Const || k === Kind.Volatile) {
        this.qualified = true;
      } else if (k === Kind.Basic) {
        addBasicKeyword(b, basicKeywordOf[tok.tokenTypeIdx] as BasicKeyword, 0, null);
      } else if (k === Kind.Name) {
        if (other !== undefined || b.any()) break;
        other = this.scope!.typedefType(tok.image);
        if (other === undefined) return undefined;
      } else if (k === Kind.Struct || k === Kind.Union || k === Kind.Enum) {
        this.i++;
        if (this.kind() === Kind.LBrace) {
          this.i++;
          const inner = new Set<string>();
          if (!this.members(inner)) return undefined;
          other = inner;
        } else {
          const tag = this.scope!.tag(this.image());
          if (k === Kind.Enum) {
            if (!(tag instanceof EnumDecl)) return undefined;
          } else if (!(tag instanceof RecordDecl) || tag.isUnion !== (k === Kind.Union)) {
            return undefined;
          }
          other = tag.type;
        }
      } else break;
      this.i++;
    }
    return other ?? this.basicType();
  }

  private basicType(): CType | undefined {
    const b = this.basics;
    if (!basicsValid(b)) return undefined;
    const key = (b.type + 1) * 16 + b.width * 4 + b.sign;
    let t = this.basicTypes.get(key);
    if (t === undefined) {
      t = this.scope!.basicType(resolveBasicKeywords(b, null).name!);
      this.basicTypes.set(key, t);
    }
    return t;
  }

  /** Pointer derivations: how many. */
  private pointers(): number {
    let n = 0;
    for (;;) {
      const k = this.kind();
      if (k === Kind.Star) n++;
      else if (k !== Kind.Const && k !== Kind.Volatile) return n;
      this.i++;
    }
  }

  private declarator(base: Base, names: Set<string>): boolean {
    if (this.kind() === Kind.Colon) {
      this.i++;
      return this.bitField(base, false);
    }
    const pointers = this.pointers();
    if (this.kind() === Kind.LParen) {
      // '(' '*' name ')' '(' parameters ')'
      this.i += 2;
      const name = this.image();
      this.i += 3;
      return this.returnable(base, pointers) && this.parameters() && added(names, name);
    }
    const name = this.image();
    this.i++;
    let arrays = 0;
    while (this.kind() === Kind.LBracket) {
      this.i += 3;
      arrays++;
    }
    if (this.kind() === Kind.Colon) {
      this.i++;
      return pointers === 0 && arrays === 0 && this.bitField(base, true) && added(names, name);
    }
    if (pointers === 0 && !(base instanceof Set) && !isComplete(base)) return false;
    return added(names, name);
  }

  /** After the ':' of a bit-field. */
  private bitField(base: Base, named: boolean): boolean {
    const width = plainInteger(this.tokens[this.i]!);
    this.i++;
    if (base instanceof Set) return false;
    const it = integerTypeOf(base);
    if (it === undefined) return false;
    const bits = it.name === "_Bool" ? 1 : it.size * 8;
    return width <= bits && (width > 0 || !named);
  }

  private returnable(base: Base, pointers: number): boolean {
    if (pointers > 0) return true;
    if (base instanceof Set) return false;
    const c = canonical(base).kind;
    return c !== "array" && c !== "function";
  }

  /** After the '(' of a parameter list, through its ')'. */
  private parameters(): boolean {
    if (this.kind() === Kind.RParen) {
      this.i++;
      return true;
    }
    let count = 0;
    let sawVoid = false;
    for (;;) {
      const t = this.specifiers();
      if (t === undefined || t instanceof Set) return false;
      const qualified = this.qualified;
      const pointers = this.pointers();
      if (pointers === 0 && canonical(t).kind === "void") {
        if (count > 0 || qualified || qualsOf(t) !== 0) return false;
        sawVoid = true;
      } else if (sawVoid) return false;
      count++;
      const k = this.kind();
      this.i++;
      if (k === Kind.RParen) return true;
      if (this.kind() === Kind.Ellipsis) {
        this.i += 2;
        return !sawVoid;
      }
    }
  }
}

/** Adds a member's name; false if it was there. */
function added(names: Set<string>, name: string): boolean {
  const size = names.size;
  return names.add(name).size !== size;
}

const check = new BodyCheck();
