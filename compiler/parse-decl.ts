// Declarations: attributes, declaration specifiers, struct/union/enum specifiers, declarators,
// parameters, type names, initializers, declarations and function definitions (C11 6.7, 6.9 and
// the GNU extensions kernel and libbpf headers use). Each rule has its grammar above it.
import type { IToken, ParserMethod } from "./chevrotain.js";
import * as T from "./lexer.js";
import type { CToken } from "./lexer.js";
import {
  noQualifiers,
  type ArrayDerivation,
  type Attribute,
  type CompoundStmt,
  type Declaration,
  type DeclSpec,
  type Declarator,
  type Derivation,
  type Designator,
  type Enumerator,
  type EnumSpec,
  type Expr,
  type FieldDeclarator,
  type FunctionDef,
  type FunctionDerivation,
  type Initializer,
  type InitDeclarator,
  type InitItem,
  type InitList,
  type MemberDecl,
  type ParamDecl,
  type PointerDerivation,
  type RecordSpec,
  type DeferredBody,
  isDefinition,
  type StaticAssertDecl,
  type StringLiteral,
  type TypeName,
  type TypeQualifiers,
} from "./ast.js";
import {
  basicTypeKeyword,
  DeclContext,
  declarationStart,
  emptyDeclarator,
  IDENTIFIER_IDX,
  ParserBase,
  SpecState,
  TYPEDEF_IDX,
  TypedefName,
  exact,
  joined,
  NO_QUALIFIERS,
  type Building,
  type DeferredTokens,
  type PragmaState,
  STRUCT_IDX,
  UNION_IDX,
  ENUM_IDX,
  LBRACE_IDX,
} from "./parse-base.js";
import { BasicKeyword } from "./parse-specifiers.js";
import { basicKeywordTokens } from "./parse-skim.js";
import { normalizeAttributeName } from "./parse-pragmas.js";
import { decodeStrings } from "./parse-literals.js";

const SEMICOLON_MESSAGE: Record<number, string> = {
  [DeclContext.File]: "expected ';' after top level declarator",
  [DeclContext.Block]: "expected ';' at end of declaration",
  [DeclContext.For]: "expected ';' in 'for' statement specifier",
};

/** The pieces of a declarator before they are flattened (see Declarator in ast.ts). */
interface DeclaratorParts {
  pointers: PointerDerivation[] | null;
  name: CToken | null;
  inner: Declarator | null;
  suffixes: Derivation[] | null;
  attributes: Attribute[] | null;
  asmLabel: StringLiteral | null;
}

const STAR_IDX = T.Star.tokenTypeIdx!;

/** Tokens that may follow `*` in a pointer declarator's qualifier list, by token type index. */
const qualifiesPointer: boolean[] = [];
for (const t of [T.Const, T.Volatile, T.Restrict, T.Atomic, T.Attribute]) {
  qualifiesPointer[t.tokenTypeIdx!] = true;
}

/** The attribute list of a node without attributes (the shared empty list exact() gives). */
const NO_ATTRIBUTES: Attribute[] = exact([]);
/** The derivation list of a declarator that is only a name. */
const NO_DERIVATIONS: Derivation[] = exact([]);

const COMMA_IDX = T.Comma.tokenTypeIdx!;
const ASSIGN_IDX = T.Assign.tokenTypeIdx!;
const INTEGER_IDX = T.IntegerConstant.tokenTypeIdx!;
const SEMICOLON_IDX = T.Semicolon.tokenTypeIdx!;
const COLON_IDX = T.Colon.tokenTypeIdx!;
const ATTRIBUTE_IDX = T.Attribute.tokenTypeIdx!;

/** Tokens a struct-declarator may start with (`* ( :` and names), by token type index. */
const startsMemberDeclarator: boolean[] = [];
for (const t of [T.Star, T.LParen, T.Colon, T.Identifier, TypedefName]) {
  startsMemberDeclarator[t.tokenTypeIdx!] = true;
}

/** Tokens after a member's name that end its declarator and attributes (`; , :`). */
const endsPlainMember: boolean[] = [];
for (const t of [T.Semicolon, T.Comma, T.Colon]) endsPlainMember[t.tokenTypeIdx!] = true;

/** Tokens after a member's name that end the whole member declarator (`; ,`: no bit-field). */
const endsPlainField: boolean[] = [];
for (const t of [T.Semicolon, T.Comma]) endsPlainField[t.tokenTypeIdx!] = true;

/** Tokens that end a parameter's or a type name's declarator (`, )`). */
const endsPlainParam: boolean[] = [];
for (const t of [T.Comma, T.RParen]) endsPlainParam[t.tokenTypeIdx!] = true;

/** Tokens that end an enumerator (`, }`). */
const endsEnumerator: boolean[] = [];
for (const t of [T.Comma, T.RBrace]) endsEnumerator[t.tokenTypeIdx!] = true;

/** The member context argument of declarationSpecifiers, made once (it is not changed). */
const MEMBER_ARGS = { ARGS: [DeclContext.Member] as [DeclContext] };

/**
 * Tokens after a declarator's name that end the declarator (`; , : = )`): no suffix, asm label
 * or attribute follows, so the name is the whole direct declarator.
 */
const endsPlainDeclarator: boolean[] = [];
for (const t of [T.Semicolon, T.Comma, T.Colon, T.Assign, T.RParen]) {
  endsPlainDeclarator[t.tokenTypeIdx!] = true;
}

/** A body recordSpecifier read past: its tokens, parsed by the parser that read past them. */
class DeferredRecordBody implements DeferredBody, DeferredTokens {
  constructor(
    readonly tokens: readonly CToken[],
    readonly open: number,
    readonly close: number,
    readonly typedefs: readonly number[],
    readonly pragma: PragmaState,
    private readonly parser: DeclParser,
  ) {}

  parse(): MemberDecl[] {
    return this.parser.parseDeferred(this);
  }
}

/** A record specifier whose body was read past: its members are parsed when first read. */
class DeferredRecordSpec implements RecordSpec {
  readonly kind = "Record";
  readonly loc: RecordSpec["loc"];
  readonly tagKind: RecordSpec["tagKind"];
  readonly tag: string | null;
  readonly tagLoc: RecordSpec["tagLoc"];
  readonly attributes: Attribute[];
  readonly maxFieldAlign: number;
  private parsed: MemberDecl[] | undefined = undefined;

  constructor(
    head: RecordSpec,
    readonly deferred: DeferredBody,
  ) {
    this.loc = head.loc;
    this.tagKind = head.tagKind;
    this.tag = head.tag;
    this.tagLoc = head.tagLoc;
    this.attributes = head.attributes;
    this.maxFieldAlign = head.maxFieldAlign ?? 0;
  }

  get members(): MemberDecl[] {
    return (this.parsed ??= this.deferred.parse());
  }
}

export abstract class DeclParser extends ParserBase {
  // Rules defined by the expression and statement layers.
  abstract assignmentExpression: ParserMethod<[], Expr>;
  abstract conditionalExpression: ParserMethod<[], Expr>;
  abstract expression: ParserMethod<[], Expr>;
  abstract compoundStatement: ParserMethod<[], CompoundStmt>;
  /** An integer constant or an identifier as a whole operand (see ExprParser). */
  protected abstract loneOperand(): Expr | undefined;

  /** Builds a Declarator node from its parts: derivations read from the name outward. */
  private buildDeclarator(first: CToken, parts: DeclaratorParts): Declarator {
    const inner = parts.inner;
    let derivations: Derivation[] = inner !== null ? inner.derivations : [];
    if (parts.suffixes !== null || parts.pointers !== null) {
      derivations = derivations.length === 0 ? [] : [...derivations];
      if (parts.suffixes !== null) for (const s of parts.suffixes) derivations.push(s);
      const pointers = parts.pointers;
      if (pointers !== null)
        for (let i = pointers.length - 1; i >= 0; i--) derivations.push(pointers[i]!);
    }
    return {
      kind: "Declarator",
      loc: first,
      name: inner !== null ? inner.name : parts.name !== null ? parts.name.image : null,
      nameLoc: inner !== null ? inner.nameLoc : parts.name,
      derivations: exact(derivations),
      attributes: joined(inner !== null ? inner.attributes : exact([]), parts.attributes ?? []),
      asmLabel: parts.asmLabel ?? inner?.asmLabel ?? null,
    };
  }

  private newParts(): DeclaratorParts {
    return {
      pointers: null,
      name: null,
      inner: null,
      suffixes: null,
      attributes: null,
      asmLabel: null,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Attributes

  // attribute-specifier:
  //   '__attribute__' '(' '(' attribute? (',' attribute?)* ')' ')'
  attributeSpecifier = this.RULE(
    "attributeSpecifier",
    (): Attribute[] => {
      const list: Attribute[] = [];
      this.CONSUME(T.Attribute);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after 'attribute'" });
      this.CONSUME2(T.LParen, { ERR_MSG: "expected '(' after '('" });
      this.OPTION(() => list.push(this.SUBRULE(this.attribute)));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.OPTION2(() => list.push(this.SUBRULE2(this.attribute)));
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      this.CONSUME2(T.RParen, { ERR_MSG: "expected ')'" });
      return list;
    },
    { recoveryValueFunc: () => [] },
  );

  // attribute:
  //   attribute-name ('(' (assignment-expression (',' assignment-expression)*)? ')')?
  // attribute-name: any identifier or keyword (`const`, `__packed__`, ...)
  attribute = this.RULE(
    "attribute",
    (): Attribute => {
      const name = this.CONSUME(T.IdentifierOrKeyword);
      let args: Expr[] | null = null;
      this.OPTION(() => {
        this.CONSUME(T.LParen);
        args = [];
        this.attributeArgDepth++;
        try {
          this.OPTION2(() => {
            args!.push(this.SUBRULE(this.assignmentExpression));
            this.MANY(() => {
              this.CONSUME(T.Comma);
              args!.push(this.SUBRULE2(this.assignmentExpression));
            });
          });
        } finally {
          this.attributeArgDepth--;
        }
        this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      });
      return {
        kind: "Attribute",
        loc: this.real(name),
        name: normalizeAttributeName(name.image),
        args,
      };
    },
    {
      recoveryValueFunc: (): Attribute => ({
        kind: "Attribute",
        loc: this.real(this.LA(0)),
        name: "",
        args: null,
      }),
    },
  );

  /** Zero or more attribute specifiers as one list (a helper, not a rule: uses MANY9). */
  private attributesInto(list: Attribute[]): void {
    this.MANY9(() => {
      this.pushAll(list, this.SUBRULE9(this.attributeSpecifier));
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Declaration specifiers

  // The alternatives of one specifier, shared by declarationSpecifiers and specifierQualifierList.
  // They act on this.spec, so the array is built once.
  private readonly specifierAlternatives = [
    { ALT: () => this.setStorage(this.CONSUME(T.Typedef), "typedef") },
    { ALT: () => this.setStorage(this.CONSUME(T.Extern), "extern") },
    { ALT: () => this.setStorage(this.CONSUME(T.Static), "static") },
    { ALT: () => this.setStorage(this.CONSUME(T.Auto), "auto") },
    { ALT: () => this.setStorage(this.CONSUME(T.Register), "register") },
    {
      ALT: () => {
        this.CONSUME(T.ThreadLocal);
        if (!this.RECORDING_PHASE) this.spec!.node.threadLocal = true;
      },
    },
    { ALT: () => this.setQualifier(this.CONSUME(T.Const), "const") },
    { ALT: () => this.setQualifier(this.CONSUME(T.Volatile), "volatile") },
    { ALT: () => this.setQualifier(this.CONSUME(T.Restrict), "restrict") },
    {
      // `_Atomic` followed by '(' is the type specifier _Atomic(type-name) (C11 6.7.2.4p4),
      // otherwise the qualifier. One token decides every alternative of this OR.
      ALT: () => {
        const kw = this.CONSUME(T.Atomic);
        let type: TypeName | undefined;
        this.OPTION5(() => {
          this.CONSUME(T.LParen);
          type = this.SUBRULE(this.typeName);
          this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
        });
        if (this.RECORDING_PHASE) return;
        if (type === undefined) this.setQualifier(kw, "atomic");
        else this.setTypeSpecifier(kw, { kind: "AtomicType", loc: kw as CToken, type });
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.Inline);
        if (!this.RECORDING_PHASE) this.spec!.node.inline = true;
      },
    },
    {
      ALT: () => {
        this.CONSUME(T.Noreturn);
        if (!this.RECORDING_PHASE) this.spec!.node.noreturn = true;
      },
    },
    { ALT: () => this.basic(this.CONSUME(T.Void), BasicKeyword.Void) },
    { ALT: () => this.basic(this.CONSUME(T.Char), BasicKeyword.Char) },
    { ALT: () => this.basic(this.CONSUME(T.Short), BasicKeyword.Short) },
    { ALT: () => this.basic(this.CONSUME(T.Int), BasicKeyword.Int) },
    { ALT: () => this.basic(this.CONSUME(T.Long), BasicKeyword.Long) },
    { ALT: () => this.basic(this.CONSUME(T.Float), BasicKeyword.Float) },
    { ALT: () => this.basic(this.CONSUME(T.Double), BasicKeyword.Double) },
    { ALT: () => this.basic(this.CONSUME(T.Signed), BasicKeyword.Signed) },
    { ALT: () => this.basic(this.CONSUME(T.Unsigned), BasicKeyword.Unsigned) },
    { ALT: () => this.basic(this.CONSUME(T.Bool), BasicKeyword.Bool) },
    { ALT: () => this.basic(this.CONSUME(T.Int128), BasicKeyword.Int128) },
    { ALT: () => this.basic(this.CONSUME(T.Complex), BasicKeyword.Complex) },
    {
      ALT: () => {
        const spec = this.SUBRULE(this.recordSpecifier);
        if (!this.RECORDING_PHASE) this.setTypeSpecifier(spec.loc, spec);
      },
    },
    {
      ALT: () => {
        const spec = this.SUBRULE(this.enumSpecifier);
        if (!this.RECORDING_PHASE) this.setTypeSpecifier(spec.loc, spec);
      },
    },
    { ALT: () => this.typedefName(this.CONSUME(TypedefName)) },
    { ALT: () => this.typedefName(this.CONSUME(T.BuiltinVaList)) },
    { ALT: () => this.typedefName(this.CONSUME(T.AutoType)) },
    {
      ALT: () => {
        const spec = this.SUBRULE(this.typeofSpecifier);
        if (!this.RECORDING_PHASE) this.setTypeSpecifier(spec.loc, spec);
      },
    },
    {
      ALT: () => {
        const arg = this.SUBRULE(this.alignasSpecifier);
        if (!this.RECORDING_PHASE) this.addAlignas(arg);
      },
    },
    {
      ALT: () => {
        const attrs = this.SUBRULE2(this.attributeSpecifier);
        if (!this.RECORDING_PHASE) this.addSpecAttributes(attrs);
      },
    },
  ];
  private readonly specifierChoice = { DEF: this.specifierAlternatives, IGNORE_AMBIGUITIES: true };
  // In declarations (not in type names) an unknown identifier where a type must be is taken as
  // one, to report clang's "unknown type name" (moreSpecifiers decides when).
  private readonly declarationSpecifierChoice = {
    DEF: [
      ...this.specifierAlternatives,
      {
        ALT: () => {
          const name = this.CONSUME(T.Identifier);
          if (this.RECORDING_PHASE) return;
          // clang's words: in a block the name reads as an expression that went wrong.
          const inBlock =
            this.spec!.context === DeclContext.Block || this.spec!.context === DeclContext.For;
          this.errorAt(
            name,
            inBlock
              ? `use of undeclared identifier '${name.image}'`
              : `unknown type name '${name.image}'`,
          );
          // Recover as clang does: carry on as if it were int.
          this.setTypeSpecifier(name, { kind: "BasicType", loc: name as CToken, name: "int" });
        },
      },
    ],
    IGNORE_AMBIGUITIES: true,
  };

  /**
   * What each one-keyword specifier does, by token type (the same actions as its alternative
   * above): basic types, qualifiers but _Atomic, storage classes, inline, _Noreturn.
   */
  private readonly keywordSpecifiers: ((tok: IToken) => void)[] = (() => {
    const table: ((tok: IToken) => void)[] = [];
    const on = (type: typeof T.Int, action: (tok: IToken) => void): void => {
      table[type.tokenTypeIdx!] = action;
    };
    on(T.Typedef, (tok) => this.setStorage(tok, "typedef"));
    on(T.Extern, (tok) => this.setStorage(tok, "extern"));
    on(T.Static, (tok) => this.setStorage(tok, "static"));
    on(T.Auto, (tok) => this.setStorage(tok, "auto"));
    on(T.Register, (tok) => this.setStorage(tok, "register"));
    on(T.ThreadLocal, () => void (this.spec!.node.threadLocal = true));
    on(T.Const, (tok) => this.setQualifier(tok, "const"));
    on(T.Volatile, (tok) => this.setQualifier(tok, "volatile"));
    on(T.Restrict, (tok) => this.setQualifier(tok, "restrict"));
    on(T.Inline, () => void (this.spec!.node.inline = true));
    on(T.Noreturn, () => void (this.spec!.node.noreturn = true));
    for (const [type, keyword] of basicKeywordTokens)
      on(type, (tok) => this.addBasic(tok, keyword));
    on(T.Complex, (tok) => this.addBasic(tok, BasicKeyword.Complex));
    return table;
  })();

  /**
   * Reads the leading specifiers that are one keyword (see keywordSpecifiers) or a typedef name
   * the loop would take, without the loop: most specifier lists are only those (`unsigned int`,
   * `const char`, `u32`). Returns how many it read.
   */
  private keywordSpecifierRun(): number {
    let count = 0;
    for (;;) {
      const tok = this.LA_FAST(1);
      const type = tok.tokenTypeIdx;
      if (type === TYPEDEF_IDX) {
        if (this.spec!.hasType()) return count;
        this.typedefName(this.CONSUME(TypedefName));
      } else if (type === STRUCT_IDX || type === UNION_IDX || type === ENUM_IDX) {
        if (!this.tagReferenceAhead()) return count;
        this.tagReference();
      } else {
        const action = this.keywordSpecifiers[type];
        if (action === undefined) return count;
        action(this.CONSUME(tok.tokenType));
      }
      count++;
    }
  }

  /**
   * `struct s`, `union u` or `enum e` next, not followed by a body: a reference to a tag (most
   * of a header's record specifiers are one). The record and enum rules would read only the
   * keyword and the name: their attribute loop takes nothing (and, with the name next, tries no
   * recovery) and their body option does not apply.
   */
  private tagReferenceAhead(): boolean {
    return (
      this.LA_FAST(2).tokenTypeIdx === IDENTIFIER_IDX && this.LA_FAST(3).tokenTypeIdx !== LBRACE_IDX
    );
  }

  /** Reads the tag reference tagReferenceAhead saw: the node the record or enum rule builds. */
  private tagReference(): void {
    const kw = this.CONSUME(this.LA_FAST(1).tokenType);
    const tag = this.CONSUME(T.Identifier);
    const spec =
      kw.tokenTypeIdx === ENUM_IDX
        ? this.enumNode(kw, tag, null, NO_ATTRIBUTES)
        : this.recordNode(kw, tag, null, NO_ATTRIBUTES, 0);
    this.setTypeSpecifier(spec.loc, spec);
  }

  /** After keywordSpecifierRun: whether the specifier loop would take the next token. */
  private specifierFollows(): boolean {
    const type = this.LA_FAST(1).tokenTypeIdx;
    if (type === IDENTIFIER_IDX) return this.unknownTypeName();
    if (type === TYPEDEF_IDX) return !this.spec!.hasType();
    return declarationStart[type] === true;
  }

  private basic(tok: IToken, keyword: BasicKeyword): void {
    if (!this.RECORDING_PHASE) this.addBasic(tok, keyword);
  }

  private typedefName(tok: IToken): void {
    if (this.RECORDING_PHASE) return;
    this.setTypeSpecifier(tok, { kind: "TypedefName", loc: this.real(tok), name: tok.image });
  }

  /** Another specifier may follow: a typedef name only while no type specifier was seen. */
  private readonly moreSpecifiers = (): boolean => {
    const t = this.LA_FAST(1);
    if (t.tokenTypeIdx === TYPEDEF_IDX) return !this.spec!.hasType();
    if (t.tokenTypeIdx === IDENTIFIER_IDX) return this.unknownTypeName();
    // After `struct s { ... }` a type keyword means the ';' was forgotten (clang: expected ';' after struct).
    if (basicTypeKeyword[t.tokenTypeIdx] === true && this.spec!.other !== null) {
      const o = this.spec!.other;
      if ((o.kind === "Record" && isDefinition(o)) || (o.kind === "Enum" && o.enumerators !== null))
        return false;
    }
    return true;
  };

  /** `foo x` / `foo *x` with foo not a type: clang's "unknown type name 'foo'". */
  private readonly unknownTypeName = (): boolean => {
    if (this.spec!.hasType() || this.LA_FAST(1).tokenTypeIdx !== IDENTIFIER_IDX) return false;
    const next = this.LA_FAST(2).tokenTypeIdx;
    return next === IDENTIFIER_IDX || next === TYPEDEF_IDX || next === T.Star.tokenTypeIdx;
  };

  private readonly typeNameSpecifierLoop = {
    GATE: this.moreSpecifiers,
    DEF: () => this.OR(this.specifierChoice),
    ERR_MSG: "expected a type",
  };

  private readonly declarationSpecifierLoop = [
    "expected identifier or '('",
    "expected expression",
    "expected expression",
    "type name requires a specifier or qualifier",
    "expected parameter declarator",
    "expected a type",
  ].map((message) => ({
    GATE: this.moreSpecifiers,
    DEF: () => this.OR(this.declarationSpecifierChoice),
    ERR_MSG: message,
  }));

  private startSpec(context: DeclContext): SpecState | undefined {
    if (this.RECORDING_PHASE) return undefined;
    const state = new SpecState(this.real(this.LA_FAST(1)), context);
    if (this.pendingAttributes.length > 0) {
      (state.node as Building<DeclSpec>).attributes = this.pendingAttributes;
      this.pendingAttributes = [];
    }
    return state;
  }

  // declaration-specifiers:
  //   (storage-class-specifier | type-specifier | type-qualifier | function-specifier
  //    | alignment-specifier | attribute-specifier)*  unknown-type-name?
  // A TypedefName is a type specifier only while no other type specifier has been seen: in
  // `typedef int T; struct { T T; }` the second T is the member's name.
  declarationSpecifiers = this.RULE(
    "declarationSpecifiers",
    (context: DeclContext): DeclSpec => {
      const saved = this.spec;
      const state = this.startSpec(context);
      this.spec = state;
      try {
        if (this.RECORDING_PHASE || this.keywordSpecifierRun() === 0 || this.specifierFollows()) {
          this.AT_LEAST_ONE(
            this.declarationSpecifierLoop[context] ?? this.declarationSpecifierLoop[0]!,
          );
        }
      } finally {
        this.spec = saved;
      }
      return this.RECORDING_PHASE ? (undefined as never) : this.finishSpec(state!, context);
    },
    { recoveryValueFunc: () => this.errorSpec() },
  );

  // specifier-qualifier-list: (type-specifier | type-qualifier | alignment-specifier | attribute-specifier)+
  // (storage classes are parsed and refused, to give clang's message)
  specifierQualifierList = this.RULE(
    "specifierQualifierList",
    (): DeclSpec => {
      const saved = this.spec;
      const state = this.startSpec(DeclContext.TypeName);
      this.spec = state;
      try {
        this.AT_LEAST_ONE(this.typeNameSpecifierLoop);
      } finally {
        this.spec = saved;
      }
      return this.RECORDING_PHASE
        ? (undefined as never)
        : this.finishSpec(state!, DeclContext.TypeName);
    },
    { recoveryValueFunc: () => this.errorSpec() },
  );

  /** The next token starts a type name (decided by scope for identifiers). */
  private readonly typeAhead = (): boolean =>
    declarationStart[this.LA_FAST(1).tokenTypeIdx] === true;

  // typeof-specifier: ('typeof' | '__typeof__') '(' (type-name | expression) ')'
  typeofSpecifier = this.RULE(
    "typeofSpecifier",
    () => {
      const kw = this.CONSUME(T.Typeof);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after 'typeof'" });
      const arg = this.OR({
        MAX_LOOKAHEAD: 1,
        DEF: [
          { GATE: this.typeAhead, ALT: () => this.SUBRULE(this.typeName) as TypeName | Expr },
          { ALT: () => this.SUBRULE(this.expression) },
        ],
        IGNORE_AMBIGUITIES: true,
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      return { kind: "Typeof" as const, loc: this.real(kw), arg };
    },
    {
      recoveryValueFunc: () => ({
        kind: "Typeof" as const,
        loc: this.real(this.LA(0)),
        arg: this.errorExpr(),
      }),
    },
  );

  // alignment-specifier: '_Alignas' '(' (type-name | constant-expression) ')'
  alignasSpecifier = this.RULE(
    "alignasSpecifier",
    (): Expr | TypeName => {
      this.CONSUME(T.Alignas);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after '_Alignas'" });
      const arg = this.OR({
        MAX_LOOKAHEAD: 1,
        DEF: [
          { GATE: this.typeAhead, ALT: () => this.SUBRULE(this.typeName) as TypeName | Expr },
          { ALT: () => this.SUBRULE(this.conditionalExpression) },
        ],
        IGNORE_AMBIGUITIES: true,
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      return arg;
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // ---------------------------------------------------------------------------------------------
  // struct, union, enum

  private readonly structOrUnion = [
    { ALT: () => this.CONSUME(T.Struct) },
    { ALT: () => this.CONSUME(T.Union) },
  ];

  // struct-or-union-specifier:
  //   ('struct' | 'union') attribute-specifier* identifier? ('{' struct-declaration* '}' attribute-specifier*)?
  recordSpecifier = this.RULE(
    "recordSpecifier",
    (): RecordSpec => {
      const kw = this.OR(this.structOrUnion);
      const pragma = this.RECORDING_PHASE ? undefined : this.pragmaStateAt(this.position());
      const attributes: Attribute[] = [];
      this.attributesInto(attributes);
      let tag: IToken | null = null;
      this.OPTION(() => {
        tag = this.CONSUME(T.Identifier);
      });
      let members: MemberDecl[] | null = null;
      let deferred: DeferredRecordBody | undefined;
      this.OPTION2(() => {
        this.CONSUME(T.LBrace);
        const close = this.RECORDING_PHASE ? -1 : this.deferrableBody();
        if (close >= 0) {
          const at = this.deferredTokens(close);
          deferred = new DeferredRecordBody(
            at.tokens,
            at.open,
            at.close,
            at.typedefs,
            pragma!,
            this,
          );
        } else {
          members = [];
          this.recordNesting++;
          try {
            this.recordMembers(members);
          } finally {
            this.recordNesting--;
          }
          this.CONSUME(T.RBrace, { ERR_MSG: "expected '}'" });
        }
        this.MANY2(() => {
          this.pushAll(attributes, this.SUBRULE(this.attributeSpecifier));
        });
      });
      if (this.RECORDING_PHASE) return undefined as never;
      const tagTok = tag as IToken | null;
      if (deferred !== undefined) {
        return new DeferredRecordSpec(
          this.recordNode(
            kw,
            tagTok,
            null,
            exact(joined(attributes, pragma!.attributes)),
            pragma!.pack,
          ),
          deferred,
        );
      }
      if (tagTok === null && members === null) {
        this.errorAt(kw, `declaration of anonymous ${kw.image} must be a definition`);
        members = [];
      }
      return members !== null
        ? this.recordNode(
            kw,
            tagTok,
            members,
            exact(joined(attributes, pragma!.attributes)),
            pragma!.pack,
          )
        : this.recordNode(kw, tagTok, null, exact(attributes), 0);
    },
    {
      recoveryValueFunc: (): RecordSpec => ({
        kind: "Record",
        loc: this.real(this.LA(0)),
        tagKind: "struct",
        tag: null,
        tagLoc: null,
        members: [],
        attributes: [],
      }),
    },
  );

  /** A record body's members, up to its '}'. */
  private recordMembers(members: MemberDecl[]): void {
    if (this.RECORDING_PHASE || this.fieldDeclarations(members)) {
      this.MANY({
        GATE: () => this.LA_FAST(1).tokenType !== T.RBrace,
        DEF: () => {
          const m =
            !this.RECORDING_PHASE && declarationStart[this.LA_FAST(1).tokenTypeIdx] === true
              ? this.fieldDeclaration()
              : this.OR5(this.memberChoice);
          if (m !== null) members!.push(m);
        },
      });
    }
  }

  // The members of a body recordSpecifier read past, then its '}' (see parseDeferred).
  deferredRecordBody = this.RULE("deferredRecordBody", (): MemberDecl[] => {
    const members: MemberDecl[] = [];
    this.recordMembers(members);
    this.CONSUME(T.RBrace);
    return members;
  });

  /**
   * The members of a deferred body, parsed now. The skim saw to it that there is nothing to
   * report; a problem here is the skim's bug.
   */
  parseDeferred(d: DeferredTokens): MemberDecl[] {
    this.beginDeferred(d);
    try {
      const members = this.deferredRecordBody();
      if (!this.reportedNothing()) {
        const at = d.tokens[d.open]!;
        throw new Error(
          `internal error: the record body at ${at.file}:${at.line}:${at.col} was read past but does not parse`,
        );
      }
      return members;
    } finally {
      this.end();
    }
  }

  private recordNode(
    kw: IToken,
    tag: IToken | null,
    members: MemberDecl[] | null,
    attributes: Attribute[],
    maxFieldAlign: number,
  ): RecordSpec {
    return {
      kind: "Record",
      loc: this.real(kw),
      tagKind: kw.tokenType === T.Struct ? "struct" : "union",
      tag: tag !== null ? tag.image : null,
      tagLoc: tag !== null ? this.real(tag) : null,
      members,
      attributes,
      maxFieldAlign,
    };
  }

  // struct-declaration (parsed inside recordSpecifier, one rule call less per member; the
  // numbered DSL calls 5 and 6 are not used elsewhere in that rule):
  //   '__extension__'* specifier-qualifier-list (struct-declarator (',' struct-declarator)*)? ';'
  //   static_assert-declaration
  //   ';'                                        (an empty member declaration: clang warns)
  private readonly memberAlternatives = [
    { ALT: () => this.SUBRULE5(this.staticAssertDeclaration) as MemberDecl | null },
    {
      ALT: () => {
        const semi = this.CONSUME5(T.Semicolon);
        if (!this.RECORDING_PHASE) this.warnAt(semi, "extra ';' inside a struct", "-Wextra-semi");
        return null;
      },
    },
    {
      ALT: () => {
        this.MANY5(() => this.CONSUME5(T.Extension));
        const spec = this.SUBRULE5(this.declarationSpecifiers, MEMBER_ARGS);
        const declarators: FieldDeclarator[] = [];
        this.OPTION5(() => {
          declarators.push(this.SUBRULE5(this.memberDeclarator));
          this.MANY6(() => {
            this.CONSUME5(T.Comma);
            declarators.push(this.SUBRULE6(this.memberDeclarator));
          });
        });
        let ended = false;
        this.OPTION9(() => {
          this.CONSUME9(T.Semicolon);
          ended = true;
        });
        if (this.RECORDING_PHASE) return null;
        if (!ended) this.missingMemberSemicolon();
        return { kind: "FieldDecl" as const, loc: spec.loc, spec, declarators: exact(declarators) };
      },
    },
  ];
  private readonly memberChoice = { IGNORE_AMBIGUITIES: true, DEF: this.memberAlternatives };

  /**
   * A member declaration starting with a specifier (not `__extension__`): what the last of the
   * member alternatives does, deciding its OPTION and MANY by the same one-token lookahead
   * without them. Nearly every member of a header is one, and the OR and the loops around it
   * cost more than reading its few tokens.
   */
  private fieldDeclaration(): MemberDecl {
    const spec = this.SUBRULE5(this.declarationSpecifiers, MEMBER_ARGS);
    const declarators: FieldDeclarator[] = [];
    if (startsMemberDeclarator[this.LA_FAST(1).tokenTypeIdx] === true) {
      declarators.push(
        this.plainDeclaratorAhead(endsPlainField)
          ? this.plainFieldDeclarator()
          : this.SUBRULE5(this.memberDeclarator),
      );
      while (this.LA_FAST(1).tokenTypeIdx === COMMA_IDX) {
        this.CONSUME5(T.Comma);
        declarators.push(
          this.plainDeclaratorAhead(endsPlainField)
            ? this.plainFieldDeclarator()
            : this.SUBRULE6(this.memberDeclarator),
        );
      }
    }
    if (this.LA_FAST(1).tokenTypeIdx === SEMICOLON_IDX) this.CONSUME9(T.Semicolon);
    else this.missingMemberSemicolon();
    return { kind: "FieldDecl" as const, loc: spec.loc, spec, declarators: exact(declarators) };
  }

  /**
   * The members from here on that start with a specifier, read without the MANY around them in
   * recordSpecifier (whose lookahead would take them, one at a time, all the same); the MANY
   * goes on from the first other token. False when a member read nothing: the MANY would have
   * stopped there, stuck, with no recovery, so it must not run again.
   */
  private fieldDeclarations(members: MemberDecl[]): boolean {
    while (declarationStart[this.LA_FAST(1).tokenTypeIdx] === true) {
      const before = this.position();
      members.push(this.fieldDeclaration());
      if (this.position() === before) return false;
    }
    return true;
  }

  /**
   * A member declarator that is `*`s and a name before `;` or `,` (plainDeclaratorAhead): the
   * node memberDeclarator builds for it, without the rule call.
   */
  private plainFieldDeclarator(): FieldDeclarator {
    const first = this.LA_FAST(1);
    const declarator = this.plainDeclarator(first);
    return { kind: "FieldDeclarator", loc: this.real(first), declarator, bitWidth: null };
  }

  /** clang: a warning before '}', else an error and a skip to the next ';'. */
  private missingMemberSemicolon(): void {
    if (this.LA_FAST(1).tokenType === T.RBrace) {
      this.errorAfterPrevious("expected ';' at end of declaration list", "warning");
      return;
    }
    this.errorAfterPrevious("expected ';' at end of declaration list");
    this.skipToSemicolonOrBrace();
    if (this.LA_FAST(1).tokenType === T.Semicolon) this.skipToken();
  }

  private readonly memberDeclaratorHead = [
    { ALT: (): Declarator | Expr => this.SUBRULE(this.declarator) },
    {
      ALT: (): Declarator | Expr => {
        this.CONSUME2(T.Colon);
        return this.SUBRULE2(this.conditionalExpression);
      },
    },
  ];

  // struct-declarator:
  //   declarator (':' constant-expression)? attribute-specifier*
  //   ':' constant-expression attribute-specifier*
  memberDeclarator = this.RULE(
    "memberDeclarator",
    (): FieldDeclarator => {
      let declarator: Declarator | null = null;
      let bitWidth: Expr | null = null;
      const first = this.LA_FAST(1);
      if (!this.RECORDING_PHASE && this.plainDeclaratorAhead(endsPlainMember)) {
        // `*`s and a name, then `;` `,` or `:`: without the declarator rule.
        declarator = this.plainDeclarator(first);
        if (this.LA_FAST(1).tokenTypeIdx === COLON_IDX) {
          this.CONSUME(T.Colon);
          bitWidth = this.SUBRULE(this.conditionalExpression);
        }
      } else if (!this.RECORDING_PHASE && this.LA_FAST(1).tokenTypeIdx === COLON_IDX) {
        // An unnamed bit-field (`long: 64;` pads most structs of a vmlinux.h): the second
        // alternative below, which the OR would take, and no OPTION after it.
        this.CONSUME2(T.Colon);
        bitWidth = this.SUBRULE2(this.conditionalExpression);
      } else {
        const head = this.OR(this.memberDeclaratorHead);
        if (!this.RECORDING_PHASE) {
          if (head.kind === "Declarator") declarator = head;
          else bitWidth = head;
        }
        this.OPTION({
          GATE: () => bitWidth === null,
          DEF: () => {
            this.CONSUME(T.Colon);
            bitWidth = this.SUBRULE(this.conditionalExpression);
          },
        });
      }
      let attributes = NO_ATTRIBUTES;
      if (this.RECORDING_PHASE || this.LA_FAST(1).tokenTypeIdx === ATTRIBUTE_IDX) {
        attributes = [];
        this.attributesInto(attributes);
      }
      if (this.RECORDING_PHASE) return undefined as never;
      const d = declarator as Declarator | null;
      if (d !== null && attributes.length > 0) {
        (d as Building<Declarator>).attributes = joined(d.attributes, attributes);
      }
      return { kind: "FieldDeclarator", loc: this.real(first), declarator: d, bitWidth };
    },
    {
      recoveryValueFunc: (): FieldDeclarator => ({
        kind: "FieldDeclarator",
        loc: this.real(this.LA(0)),
        declarator: null,
        bitWidth: null,
      }),
    },
  );

  // After an enumerator: ',', nothing (before '}'), or a name, which means a ',' was forgotten.
  private readonly enumeratorSeparator = [
    { ALT: () => void this.CONSUME(T.Comma) },
    {
      ALT: () => {
        if (!this.RECORDING_PHASE && this.LA_FAST(1).tokenTypeIdx === IDENTIFIER_IDX) {
          this.errorAfterPrevious("missing ',' between enumerators");
        }
      },
    },
  ];

  // enum-specifier:
  //   'enum' attribute-specifier* identifier? ('{' (enumerator ','?)* '}' attribute-specifier*)?
  //   (every enumerator but the last needs its ',': a missing one is reported)
  enumSpecifier = this.RULE(
    "enumSpecifier",
    (): EnumSpec => {
      const kw = this.CONSUME(T.Enum);
      const attributes: Attribute[] = [];
      this.attributesInto(attributes);
      let tag: IToken | null = null;
      this.OPTION(() => {
        tag = this.CONSUME(T.Identifier);
      });
      let enumerators: Enumerator[] | null = null;
      this.OPTION2(() => {
        this.CONSUME(T.LBrace);
        enumerators = [];
        this.MANY(() => {
          enumerators!.push(
            !this.RECORDING_PHASE && this.plainEnumeratorAhead()
              ? this.plainEnumerator()
              : this.SUBRULE(this.enumerator),
          );
          if (!this.RECORDING_PHASE && this.LA_FAST(1).tokenTypeIdx === COMMA_IDX) {
            this.CONSUME(T.Comma); // the separator's first alternative
          } else {
            this.OR(this.enumeratorSeparator);
          }
        });
        this.CONSUME(T.RBrace, { ERR_MSG: "expected '}'" });
        this.MANY2(() => {
          this.pushAll(attributes, this.SUBRULE(this.attributeSpecifier));
        });
      });
      if (this.RECORDING_PHASE) return undefined as never;
      const tagTok = tag as IToken | null;
      if (tagTok === null && enumerators === null) {
        this.errorAt(this.LA_FAST(1), "expected identifier or '{'");
        enumerators = [];
      }
      return this.enumNode(kw, tagTok, enumerators, exact(attributes));
    },
    {
      recoveryValueFunc: (): EnumSpec => ({
        kind: "Enum",
        loc: this.real(this.LA(0)),
        tag: null,
        tagLoc: null,
        enumerators: [],
        attributes: [],
      }),
    },
  );

  private enumNode(
    kw: IToken,
    tag: IToken | null,
    enumerators: Enumerator[] | null,
    attributes: Attribute[],
  ): EnumSpec {
    return {
      kind: "Enum",
      loc: this.real(kw),
      tag: tag !== null ? tag.image : null,
      tagLoc: tag !== null ? this.real(tag) : null,
      enumerators,
      attributes,
    };
  }

  /**
   * `name = 5` or `name = other` before `,` or `}` (every enumerator of a vmlinux.h): what the
   * enumerator rule does, without it. Its attribute loop takes nothing and, with `=` next,
   * tries no recovery; conditionalExpression would take the operand alone (loneExpression).
   */
  private plainEnumeratorAhead(): boolean {
    if (
      this.LA_FAST(1).tokenTypeIdx !== IDENTIFIER_IDX ||
      this.LA_FAST(2).tokenTypeIdx !== ASSIGN_IDX
    ) {
      return false;
    }
    const operand = this.LA_FAST(3).tokenTypeIdx;
    return (
      (operand === INTEGER_IDX || operand === IDENTIFIER_IDX) &&
      endsEnumerator[this.LA_FAST(4).tokenTypeIdx] === true
    );
  }

  private plainEnumerator(): Enumerator {
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Assign);
    const value = this.loneOperand()!;
    this.scopes.declare(name.image, false);
    return this.enumeratorNode(name, value, NO_ATTRIBUTES);
  }

  private enumeratorNode(name: IToken, value: Expr | null, attributes: Attribute[]): Enumerator {
    return { kind: "Enumerator", loc: this.real(name), name: name.image, value, attributes };
  }

  // enumerator: identifier attribute-specifier* ('=' constant-expression)?
  enumerator = this.RULE(
    "enumerator",
    (): Enumerator => {
      const name = this.CONSUME(T.Identifier, { ERR_MSG: "expected identifier" });
      const attributes: Attribute[] = [];
      this.attributesInto(attributes);
      let value: Expr | null = null;
      this.OPTION(() => {
        this.CONSUME(T.Assign);
        value = this.SUBRULE(this.conditionalExpression);
      });
      if (this.RECORDING_PHASE) return undefined as never;
      // An enumeration constant is an ordinary identifier: it hides a typedef of the same name.
      this.scopes.declare(name.image, false);
      return this.enumeratorNode(name, value, exact(attributes));
    },
    {
      recoveryValueFunc: (): Enumerator => ({
        kind: "Enumerator",
        loc: this.real(this.LA(0)),
        name: "",
        value: null,
        attributes: [],
      }),
    },
  );

  // ---------------------------------------------------------------------------------------------
  // Declarators

  // The qualifiers after '*' (and in array brackets): each alternative names what it read.
  private readonly qualifierAlternatives = [
    { ALT: (): keyof TypeQualifiers => (this.CONSUME(T.Const), "const") },
    { ALT: (): keyof TypeQualifiers => (this.CONSUME(T.Volatile), "volatile") },
    { ALT: (): keyof TypeQualifiers => (this.CONSUME(T.Restrict), "restrict") },
    { ALT: (): keyof TypeQualifiers => (this.CONSUME(T.Atomic), "atomic") },
  ];
  private readonly pointerAlternatives = [
    ...this.qualifierAlternatives,
    { ALT: (): keyof TypeQualifiers | Attribute[] => this.SUBRULE(this.attributeSpecifier) },
  ];

  // pointer: '*' (type-qualifier | attribute-specifier)*
  pointer = this.RULE(
    "pointer",
    (): PointerDerivation => {
      const star = this.CONSUME(T.Star);
      let qualifiers = NO_QUALIFIERS;
      let attributes: Attribute[] = exact([]);
      this.MANY(() => {
        const what = this.OR(this.pointerAlternatives);
        if (this.RECORDING_PHASE) return;
        if (typeof what === "string") qualifiers = this.withQualifier(qualifiers, this.LA(0), what);
        else attributes = joined(attributes, what as Attribute[]);
      });
      return { kind: "Pointer", loc: this.real(star), qualifiers, attributes };
    },
    {
      recoveryValueFunc: (): PointerDerivation => ({
        kind: "Pointer",
        loc: this.real(this.LA(0)),
        qualifiers: noQualifiers(),
        attributes: [],
      }),
    },
  );

  /** The qualifiers with one more (a copy: NO_QUALIFIERS is shared). */
  private withQualifier(
    q: TypeQualifiers,
    tok: IToken,
    which: keyof TypeQualifiers,
  ): TypeQualifiers {
    if (q[which]) {
      this.warnAt(
        tok,
        `duplicate '${tok.image}' declaration specifier`,
        "-Wduplicate-decl-specifier",
      );
      return q;
    }
    const copy = { ...q };
    copy[which] = true;
    return copy;
  }

  private readonly arrayQualifierAlternatives = [
    { ALT: (): keyof TypeQualifiers | "static" => (this.CONSUME(T.Static), "static") },
    ...this.qualifierAlternatives,
  ];

  // declarator-suffix: array-suffix | function-suffix
  // array-suffix: '[' ('static' | type-qualifier)* (assignment-expression | '*')? ']'
  arraySuffix = this.RULE(
    "arraySuffix",
    (): ArrayDerivation => {
      const open = this.CONSUME(T.LBracket);
      let qualifiers = NO_QUALIFIERS;
      let isStatic = false;
      let star = false;
      let size: Expr | null = null;
      this.MANY(() => {
        const what = this.OR(this.arrayQualifierAlternatives);
        if (this.RECORDING_PHASE) return;
        if (what === "static") isStatic = true;
        else qualifiers = this.withQualifier(qualifiers, this.LA(0), what);
      });
      // `[*]`: a variable length array of unspecified size, in a prototype.
      this.OPTION({
        GATE: () => this.LA_FAST(2).tokenType === T.RBracket,
        DEF: () => {
          this.CONSUME(T.Star);
          star = true;
        },
      });
      this.OPTION2({
        GATE: () => !star,
        DEF: () => {
          size = this.SUBRULE(this.assignmentExpression);
        },
      });
      this.CONSUME(T.RBracket, { ERR_MSG: "expected ']'" });
      return { kind: "Array", loc: this.real(open), size, star, isStatic, qualifiers };
    },
    {
      recoveryValueFunc: (): ArrayDerivation => ({
        kind: "Array",
        loc: this.real(this.LA(0)),
        size: null,
        star: false,
        isStatic: false,
        qualifiers: noQualifiers(),
      }),
    },
  );

  // function-suffix: '(' parameter-type-list? ')'
  // parameter-type-list: parameter-declaration (',' parameter-declaration)* (',' '...')?
  // The parameters get a scope of their own (a prototype scope), closed at ')'.
  functionSuffix = this.RULE(
    "functionSuffix",
    (): FunctionDerivation => {
      const open = this.CONSUME(T.LParen);
      const params: ParamDecl[] = [];
      let variadic = false;
      let empty = true;
      const depth = this.scopes.depth;
      this.scopes.push();
      try {
        this.OPTION(() => {
          empty = false;
          params.push(this.SUBRULE(this.parameterDeclaration));
          this.MANY(() => {
            this.CONSUME(T.Comma);
            this.OR({
              DEF: [
                {
                  ALT: () => {
                    this.CONSUME(T.Ellipsis);
                    variadic = true;
                  },
                },
                { ALT: () => params.push(this.SUBRULE2(this.parameterDeclaration)) },
              ],
              ERR_MSG: "expected parameter declarator",
            });
          });
        });
        this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      } finally {
        this.scopes.popTo(depth);
      }
      if (this.RECORDING_PHASE) return undefined as never;
      // `(void)`: no parameters, with a prototype.
      if (params.length === 1 && !variadic && isVoidParameter(params[0]!)) params.length = 0;
      return { kind: "Function", loc: this.real(open), params, variadic, hasPrototype: !empty };
    },
    {
      recoveryValueFunc: (): FunctionDerivation => ({
        kind: "Function",
        loc: this.real(this.LA(0)),
        params: [],
        variadic: false,
        hasPrototype: true,
      }),
    },
  );

  // parameter-declaration: declaration-specifiers (declarator | abstract-declarator)?
  parameterDeclaration = this.RULE(
    "parameterDeclaration",
    (): ParamDecl => {
      const spec = this.SUBRULE(this.declarationSpecifiers, { ARGS: [DeclContext.Param] });
      const declarator = this.SUBRULE(this.anyDeclarator);
      if (this.RECORDING_PHASE) return undefined as never;
      this.declareName(declarator, spec);
      return { kind: "ParamDecl", loc: spec.loc, spec, declarator };
    },
    {
      recoveryValueFunc: (): ParamDecl => {
        const spec = this.errorSpec();
        return { kind: "ParamDecl", loc: spec.loc, spec, declarator: emptyDeclarator(spec.loc) };
      },
    },
  );

  private readonly declaratorSuffixAlternatives = [
    { ALT: () => this.SUBRULE(this.arraySuffix) as Derivation },
    { ALT: () => this.SUBRULE(this.functionSuffix) as Derivation },
  ];

  private readonly directDeclaratorChoice = {
    DEF: [
      { ALT: (): IToken | Declarator => this.CONSUME(T.Identifier) },
      {
        ALT: (): IToken | Declarator => {
          this.CONSUME(T.LParen);
          const attributes: Attribute[] = [];
          this.attributesInto(attributes);
          const inner = this.SUBRULE(this.declarator);
          this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
          if (!this.RECORDING_PHASE && attributes.length > 0) {
            (inner as Building<Declarator>).attributes = joined(inner.attributes, attributes);
          }
          return inner;
        },
      },
    ],
    ERR_MSG: "expected identifier or '('",
  };

  // declarator:
  //   pointer* direct-declarator declarator-suffix* ('asm' '(' string-literal+ ')')? attribute-specifier*
  // direct-declarator: identifier | '(' attribute-specifier* declarator ')'
  declarator = this.RULE(
    "declarator",
    (): Declarator => {
      const first = this.LA_FAST(1);
      if (!this.RECORDING_PHASE && this.plainDeclaratorAhead(endsPlainDeclarator)) {
        return this.plainDeclarator(first);
      }
      const parts = this.newParts();
      this.MANY(() => (parts.pointers ??= []).push(this.SUBRULE(this.pointer)));
      const direct = this.OR(this.directDeclaratorChoice);
      if (!this.RECORDING_PHASE) {
        if ((direct as Declarator).kind === "Declarator") parts.inner = direct as Declarator;
        else parts.name = direct as CToken;
      }
      this.MANY2(() => (parts.suffixes ??= []).push(this.OR2(this.declaratorSuffixAlternatives)));
      this.declaratorTail(parts);
      return this.RECORDING_PHASE
        ? (undefined as never)
        : this.buildDeclarator(this.real(first), parts);
    },
    { recoveryValueFunc: () => this.errorDeclarator() },
  );

  /** The lookahead position after the `*`s without qualifiers or attributes that come next. */
  private afterPlainPointers(): number {
    let i = 1;
    while (
      this.LA_FAST(i).tokenTypeIdx === STAR_IDX &&
      qualifiesPointer[this.LA_FAST(i + 1).tokenTypeIdx] !== true
    ) {
      i++;
    }
    return i;
  }

  /**
   * Whether the next tokens are `*`s without qualifiers or attributes, a name, then a token in
   * `ends`: a declarator that is only pointers and a name.
   */
  private plainDeclaratorAhead(ends: readonly boolean[]): boolean {
    const i = this.afterPlainPointers();
    const type = this.LA_FAST(i).tokenTypeIdx;
    return (
      (type === IDENTIFIER_IDX || type === TYPEDEF_IDX) &&
      ends[this.LA_FAST(i + 1).tokenTypeIdx] === true
    );
  }

  /**
   * For anyDeclarator: `*`s without qualifiers or attributes, maybe a name, then `,` or `)` (a
   * parameter or a type name's declarator, most often `*` or nothing). Its loops would take
   * nothing more, and none of them tries recovery after it (Chevrotain finds no token that must
   * follow them), so plainDeclarator reads what the rule would.
   */
  private plainAnyDeclaratorAhead(): boolean {
    let i = this.afterPlainPointers();
    const type = this.LA_FAST(i).tokenTypeIdx;
    if (type === IDENTIFIER_IDX || type === TYPEDEF_IDX) i++;
    return endsPlainParam[this.LA_FAST(i).tokenTypeIdx] === true;
  }

  /**
   * Reads the declarator plainDeclaratorAhead or plainAnyDeclaratorAhead saw, without the
   * pointer and declarator rules: the node buildDeclarator makes of plain `*`s and a name, if
   * any (most declarators of a header are one), built directly.
   */
  private plainDeclarator(first: IToken): Declarator {
    let derivations = NO_DERIVATIONS;
    if (this.LA_FAST(1).tokenTypeIdx === STAR_IDX) {
      const pointers: Derivation[] = [];
      do {
        const star = this.CONSUME(T.Star);
        pointers.push({
          kind: "Pointer",
          loc: this.real(star),
          qualifiers: NO_QUALIFIERS,
          attributes: NO_ATTRIBUTES,
        });
      } while (this.LA_FAST(1).tokenTypeIdx === STAR_IDX);
      // Read from the name outward: the last `*` first.
      derivations = pointers.length === 1 ? [pointers[0]!] : pointers.reverse();
    }
    const type = this.LA_FAST(1).tokenTypeIdx;
    const name =
      type === IDENTIFIER_IDX || type === TYPEDEF_IDX
        ? (this.CONSUME(T.Identifier) as CToken)
        : null;
    return {
      kind: "Declarator",
      loc: this.real(first),
      name: name !== null ? name.image : null,
      nameLoc: name,
      derivations,
      attributes: NO_ATTRIBUTES,
      asmLabel: null,
    };
  }

  // After a declarator: `asm("name")` (clang allows it once, before the attributes; any order
  // is accepted here) and attributes. One loop: nearly every declarator has neither.
  private readonly declaratorTailAlternatives = [
    {
      ALT: (): StringLiteral | Attribute[] => {
        this.CONSUME8(T.Asm);
        this.CONSUME8(T.LParen);
        const label = this.SUBRULE8(this.stringLiterals);
        this.CONSUME8(T.RParen);
        return label;
      },
    },
    { ALT: (): StringLiteral | Attribute[] => this.SUBRULE8(this.attributeSpecifier) },
  ];

  /** `asm("name")` and attributes after a declarator (a helper using MANY8/OR8). */
  private declaratorTail(parts: DeclaratorParts): void {
    this.MANY8(() => {
      const tail = this.OR8(this.declaratorTailAlternatives);
      if (this.RECORDING_PHASE) return;
      if (Array.isArray(tail)) this.pushAll((parts.attributes ??= []), tail);
      else parts.asmLabel = tail;
    });
  }

  /** In `(`, a nested declarator rather than a parameter list: not `()` nor `(T` with T a type. */
  private readonly nestedDeclaratorAhead = (): boolean => {
    const t = this.LA_FAST(2).tokenTypeIdx;
    return t !== TYPEDEF_IDX && t !== T.RParen.tokenTypeIdx && declarationStart[t] !== true;
  };

  // abstract-or-named-declarator (parameters and type names; may be empty):
  //   pointer* (identifier | '(' attribute-specifier* abstract-or-named-declarator ')')?
  //   declarator-suffix* attribute-specifier*
  anyDeclarator = this.RULE(
    "anyDeclarator",
    (): Declarator => {
      const first = this.LA_FAST(1);
      if (!this.RECORDING_PHASE && this.plainAnyDeclaratorAhead())
        return this.plainDeclarator(first);
      const parts = this.newParts();
      this.MANY(() => (parts.pointers ??= []).push(this.SUBRULE(this.pointer)));
      this.OR({
        DEF: [
          {
            ALT: () => {
              parts.name = this.CONSUME(T.Identifier) as CToken;
            },
          },
          {
            GATE: this.nestedDeclaratorAhead,
            ALT: () => {
              this.CONSUME(T.LParen);
              this.attributesInto((parts.attributes ??= []));
              parts.inner = this.SUBRULE(this.anyDeclarator);
              this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
            },
          },
          { ALT: () => undefined },
        ],
        IGNORE_AMBIGUITIES: true,
      });
      this.MANY2(() => (parts.suffixes ??= []).push(this.OR2(this.declaratorSuffixAlternatives)));
      this.declaratorTail(parts);
      return this.RECORDING_PHASE
        ? (undefined as never)
        : this.buildDeclarator(this.real(first), parts);
    },
    { recoveryValueFunc: () => this.errorDeclarator() },
  );

  // type-name: specifier-qualifier-list abstract-declarator?
  typeName = this.RULE(
    "typeName",
    (): TypeName => {
      const spec = this.SUBRULE(this.specifierQualifierList);
      const declarator = this.SUBRULE(this.anyDeclarator);
      if (this.RECORDING_PHASE) return undefined as never;
      if (declarator.name !== null) {
        const open = this.unclosed(T.LParen, T.RParen);
        const notes = open !== undefined ? [{ token: open, message: "to match this '('" }] : [];
        this.errorAt(declarator.nameLoc!, "expected ')'", notes);
      }
      return { kind: "TypeName", loc: spec.loc, spec, declarator };
    },
    { recoveryValueFunc: () => this.errorTypeName() },
  );

  // string-literal+ (adjacent literals are one)
  stringLiterals = this.RULE(
    "stringLiterals",
    (): StringLiteral => {
      const parts: IToken[] = [];
      this.AT_LEAST_ONE(() => parts.push(this.CONSUME(T.StringLiteral)));
      if (this.RECORDING_PHASE) return undefined as never;
      const decoded = decodeStrings(parts.map((p) => p.image));
      if (decoded.error !== null) this.errorAt(parts[0], decoded.error);
      return {
        kind: "StringLiteral",
        loc: this.real(parts[0]),
        prefix: decoded.prefix,
        value: decoded.value,
        bytes: decoded.bytes,
      };
    },
    {
      recoveryValueFunc: (): StringLiteral => ({
        kind: "StringLiteral",
        loc: this.real(this.LA(0)),
        prefix: "",
        value: "",
        bytes: new Uint8Array(0),
      }),
    },
  );

  // ---------------------------------------------------------------------------------------------
  // Initializers

  // initializer: assignment-expression | initializer-list
  initializer = this.RULE(
    "initializer",
    (): Initializer =>
      this.OR([
        { ALT: () => this.SUBRULE(this.initializerList) as Initializer },
        { ALT: () => this.SUBRULE(this.assignmentExpression) },
      ]),
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // initializer-list: '{' (initializer-item (',' initializer-item)* ','?)? '}'
  initializerList = this.RULE(
    "initializerList",
    (): InitList => {
      const open = this.CONSUME(T.LBrace);
      const items: InitItem[] = [];
      this.OPTION(() => {
        items.push(this.SUBRULE(this.initializerItem));
        this.MANY(() => {
          this.CONSUME(T.Comma);
          items.push(this.SUBRULE2(this.initializerItem));
        });
        this.OPTION2(() => this.CONSUME2(T.Comma));
      });
      this.CONSUME(T.RBrace, { ERR_MSG: "expected '}'" });
      return { kind: "InitList", loc: this.real(open), items };
    },
    {
      recoveryValueFunc: (): InitList => ({
        kind: "InitList",
        loc: this.real(this.LA(0)),
        items: [],
      }),
    },
  );

  // initializer-item: designation? initializer
  // designation: designator+ '=' | identifier ':'          (the second is GNU's old form)
  initializerItem = this.RULE(
    "initializerItem",
    (): InitItem => {
      const first = this.LA_FAST(1);
      const designators: Designator[] = [];
      this.OPTION(() =>
        this.OR([
          {
            ALT: () => {
              this.AT_LEAST_ONE(() => designators.push(this.SUBRULE(this.designator)));
              this.CONSUME(T.Assign, { ERR_MSG: "expected '=' or another designator" });
            },
          },
          {
            ALT: () => {
              const name = this.CONSUME(T.Identifier);
              this.CONSUME(T.Colon);
              if (!this.RECORDING_PHASE) {
                designators.push({
                  kind: "FieldDesignator",
                  loc: this.real(name),
                  name: name.image,
                });
              }
            },
          },
        ]),
      );
      const value = this.SUBRULE(this.initializer);
      return { kind: "InitItem", loc: this.real(first), designators, value };
    },
    {
      recoveryValueFunc: (): InitItem => ({
        kind: "InitItem",
        loc: this.real(this.LA(0)),
        designators: [],
        value: this.errorExpr(),
      }),
    },
  );

  // designator: '[' constant-expression ('...' constant-expression)? ']' | '.' identifier
  designator = this.RULE(
    "designator",
    (): Designator =>
      this.OR([
        {
          ALT: (): Designator => {
            const open = this.CONSUME(T.LBracket);
            const index = this.SUBRULE(this.conditionalExpression);
            let last: Expr | null = null;
            this.OPTION(() => {
              this.CONSUME(T.Ellipsis);
              last = this.SUBRULE2(this.conditionalExpression);
            });
            this.CONSUME(T.RBracket, { ERR_MSG: "expected ']'" });
            return { kind: "IndexDesignator", loc: this.real(open), index, last };
          },
        },
        {
          ALT: (): Designator => {
            const dot = this.CONSUME(T.Dot);
            const name = this.CONSUME2(T.Identifier, {
              ERR_MSG: "expected a field designator, such as '.field = 4'",
            });
            return { kind: "FieldDesignator", loc: this.real(dot), name: name.image };
          },
        },
      ]),
    {
      recoveryValueFunc: (): Designator => ({
        kind: "FieldDesignator",
        loc: this.real(this.LA(0)),
        name: "",
      }),
    },
  );

  // ---------------------------------------------------------------------------------------------
  // Declarations

  // static_assert-declaration: '_Static_assert' '(' constant-expression (',' string-literal+)? ')' ';'
  staticAssertDeclaration = this.RULE(
    "staticAssertDeclaration",
    (): StaticAssertDecl => {
      const kw = this.CONSUME(T.StaticAssert);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after '_Static_assert'" });
      const cond = this.SUBRULE(this.conditionalExpression);
      let message: StringLiteral | null = null;
      this.OPTION(() => {
        this.CONSUME(T.Comma);
        message = this.SUBRULE(this.stringLiterals);
      });
      const close = this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      let ended = false;
      this.OPTION9(() => {
        this.CONSUME9(T.Semicolon);
        ended = true;
      });
      if (this.RECORDING_PHASE) return undefined as never;
      if (message === null) {
        this.warnAt(
          close,
          "'_Static_assert' with no message is a C2x extension",
          "-Wc2x-extensions",
        );
      }
      if (!ended) this.errorAfterPrevious("expected ';' after static_assert");
      return { kind: "StaticAssert", loc: this.real(kw), cond, message };
    },
    {
      recoveryValueFunc: (): StaticAssertDecl => ({
        kind: "StaticAssert",
        loc: this.real(this.LA(0)),
        cond: { ...this.errorExpr(), text: "1", lo: 1 },
        message: null,
      }),
    },
  );

  // init-declarator: declarator ('=' initializer)?
  initDeclarator = this.RULE(
    "initDeclarator",
    (spec: DeclSpec): InitDeclarator => {
      const declarator = this.SUBRULE(this.declarator);
      if (!this.RECORDING_PHASE) this.declareName(declarator, spec);
      let init: Initializer | null = null;
      this.OPTION(() => {
        this.CONSUME(T.Assign);
        init = this.SUBRULE(this.initializer);
      });
      return { kind: "InitDeclarator", loc: declarator.loc, declarator, init };
    },
    {
      recoveryValueFunc: (): InitDeclarator => {
        const declarator = this.errorDeclarator();
        return { kind: "InitDeclarator", loc: declarator.loc, declarator, init: null };
      },
    },
  );

  // declaration:
  //   declaration-specifiers (init-declarator (',' init-declarator)*)? ';'
  // function-definition:
  //   declaration-specifiers declarator compound-statement
  // Both start alike; the token after the first declarator tells them apart.
  declaration = this.RULE(
    "declaration",
    (context: DeclContext): Declaration | FunctionDef => {
      const spec = this.SUBRULE(this.declarationSpecifiers, { ARGS: [context] });
      if (!this.RECORDING_PHASE && this.LA_FAST(1).tokenTypeIdx === SEMICOLON_IDX) {
        // `struct s { ... };`, `struct s;`: the first alternative, without the OR.
        this.CONSUME(T.Semicolon);
        return { kind: "Declaration", loc: spec.loc, spec, declarators: [] };
      }
      return this.OR({
        DEF: [
          {
            ALT: (): Declaration | FunctionDef => {
              this.CONSUME(T.Semicolon);
              return { kind: "Declaration", loc: spec.loc, spec, declarators: [] };
            },
          },
          {
            ALT: (): Declaration | FunctionDef => {
              const first = this.SUBRULE(this.declarator);
              if (!this.RECORDING_PHASE) this.declareName(first, spec);
              return this.OR2({
                DEF: [
                  {
                    ALT: (): Declaration | FunctionDef =>
                      this.SUBRULE(this.functionBody, { ARGS: [spec, first, context] }),
                  },
                  {
                    ALT: (): Declaration | FunctionDef => {
                      let init: Initializer | null = null;
                      this.OPTION(() => {
                        this.CONSUME(T.Assign);
                        init = this.SUBRULE(this.initializer);
                      });
                      const declarators: InitDeclarator[] = [
                        { kind: "InitDeclarator", loc: first?.loc, declarator: first, init },
                      ];
                      this.MANY(() => {
                        this.CONSUME(T.Comma);
                        declarators.push(this.SUBRULE(this.initDeclarator, { ARGS: [spec] }));
                      });
                      let ended = false;
                      this.OPTION9(() => {
                        this.CONSUME9(T.Semicolon);
                        ended = true;
                      });
                      if (!ended && !this.RECORDING_PHASE)
                        this.missingDeclarationSemicolon(context);
                      return { kind: "Declaration", loc: spec?.loc, spec, declarators };
                    },
                  },
                ],
                IGNORE_AMBIGUITIES: true,
              });
            },
          },
          {
            ALT: (): Declaration | FunctionDef => {
              if (!this.RECORDING_PHASE) this.missingDeclarator(spec);
              return { kind: "Declaration", loc: spec?.loc, spec, declarators: [] };
            },
          },
        ],
        IGNORE_AMBIGUITIES: true,
      });
    },
    {
      recoveryValueFunc: (): Declaration => {
        const spec = this.errorSpec();
        return { kind: "Declaration", loc: spec.loc, spec, declarators: [] };
      },
    },
  );

  /** clang's ParseDeclGroup: go on if a declaration follows, else skip past the next ';'. */
  private missingDeclarationSemicolon(context: DeclContext): void {
    if (context === DeclContext.For) {
      // clang points at the token and reads on as if the ';' were there.
      this.errorAt(this.LA_FAST(1), SEMICOLON_MESSAGE[context]!);
      return;
    }
    this.errorAfterPrevious(SEMICOLON_MESSAGE[context] ?? "expected ';' at end of declaration");
    const next = this.LA_FAST(1).tokenTypeIdx;
    if (declarationStart[next] === true) return;
    this.skipToSemicolonOrBrace();
    if (this.LA_FAST(1).tokenType === T.Semicolon) this.skipToken();
  }

  /** Specifiers not followed by a declarator nor ';'. */
  private missingDeclarator(spec: DeclSpec): void {
    const t = spec.typeSpec;
    if (
      t !== null &&
      ((t.kind === "Record" && isDefinition(t)) || (t.kind === "Enum" && t.enumerators !== null))
    ) {
      // `struct s { ... }` then another declaration: clang inserts the ';'.
      this.errorAfterPrevious(`expected ';' after ${t.kind === "Enum" ? "enum" : t.tagKind}`);
      return;
    }
    this.errorAt(this.LA_FAST(1), "expected identifier or '('");
    this.skipToSemicolonOrBrace();
    if (this.LA_FAST(1).tokenType === T.Semicolon) this.skipToken();
  }

  // function-body: compound-statement, with the parameters in scope
  functionBody = this.RULE(
    "functionBody",
    (spec: DeclSpec, declarator: Declarator, context: DeclContext): FunctionDef => {
      const open = this.LA_FAST(1);
      if (!this.RECORDING_PHASE) {
        if (context !== DeclContext.File)
          this.errorAt(open, "function definition is not allowed here");
        else if (declarator.derivations[0]?.kind !== "Function")
          this.errorAt(open, "expected ';' after top level declarator");
      }
      const depth = this.scopes.depth;
      this.scopes.push();
      let body: CompoundStmt;
      try {
        if (!this.RECORDING_PHASE) {
          const fn = declarator.derivations[0];
          if (fn?.kind === "Function")
            for (const p of fn.params) this.declareName(p.declarator, p.spec);
        }
        body = this.SUBRULE(this.compoundStatement);
      } finally {
        this.scopes.popTo(depth);
      }
      return { kind: "FunctionDef", loc: spec?.loc, spec, declarator, body };
    },
  );
}

function isVoidParameter(p: ParamDecl): boolean {
  const s = p.spec;
  return (
    s.typeSpec?.kind === "BasicType" &&
    s.typeSpec.name === "void" &&
    p.declarator.name === null &&
    p.declarator.derivations.length === 0 &&
    s.storage === null &&
    !s.qualifiers.const &&
    !s.qualifiers.volatile
  );
}
