// Expressions (C11 6.5 and the GNU forms BPF code uses). Binary operators are parsed as one flat
// list `cast-expression (op cast-expression)*` and folded by precedence, instead of ten nested
// rules: the same tree, far fewer rule calls per operand.
import type { IToken } from "./chevrotain.js";
import * as T from "./lexer.js";
import type { CToken } from "./lexer.js";
import type {
  AssignOp,
  CompoundStmt,
  BinaryOp,
  Designator,
  Expr,
  GenericAssoc,
  InitList,
  StringLiteral,
  TypeName,
  UnaryOp,
} from "./ast.js";
import { DeclParser } from "./parse-decl.js";
import { declarationStart, IDENTIFIER_IDX, TypedefName } from "./parse-base.js";
import { decodeChar, decodeFloat, decodeInteger, invalidNumber } from "./parse-literals.js";

interface BinaryOperator {
  op: BinaryOp;
  precedence: number;
}

// C11 6.5.5 to 6.5.14, tightest first.
const BINARY_OPERATORS = new Map<number, BinaryOperator>();
function binary(type: typeof T.Star, op: BinaryOp, precedence: number): void {
  BINARY_OPERATORS.set(type.tokenTypeIdx!, { op, precedence });
}
binary(T.Star, "*", 10);
binary(T.Slash, "/", 10);
binary(T.Percent, "%", 10);
binary(T.Plus, "+", 9);
binary(T.Minus, "-", 9);
binary(T.LShift, "<<", 8);
binary(T.RShift, ">>", 8);
binary(T.Less, "<", 7);
binary(T.Greater, ">", 7);
binary(T.LessEqual, "<=", 7);
binary(T.GreaterEqual, ">=", 7);
binary(T.EqualEqual, "==", 6);
binary(T.BangEqual, "!=", 6);
binary(T.Amp, "&", 5);
binary(T.Caret, "^", 4);
binary(T.Pipe, "|", 3);
binary(T.AmpAmp, "&&", 2);
binary(T.PipePipe, "||", 1);

const ASSIGN_OPERATORS = new Map<number, AssignOp>([
  [T.Assign.tokenTypeIdx!, "="],
  [T.StarAssign.tokenTypeIdx!, "*="],
  [T.SlashAssign.tokenTypeIdx!, "/="],
  [T.PercentAssign.tokenTypeIdx!, "%="],
  [T.PlusAssign.tokenTypeIdx!, "+="],
  [T.MinusAssign.tokenTypeIdx!, "-="],
  [T.LShiftAssign.tokenTypeIdx!, "<<="],
  [T.RShiftAssign.tokenTypeIdx!, ">>="],
  [T.AmpAssign.tokenTypeIdx!, "&="],
  [T.CaretAssign.tokenTypeIdx!, "^="],
  [T.PipeAssign.tokenTypeIdx!, "|="],
]);

const UNARY_OPERATORS = new Map<number, UnaryOp>([
  [T.Amp.tokenTypeIdx!, "&"],
  [T.Star.tokenTypeIdx!, "*"],
  [T.Plus.tokenTypeIdx!, "+"],
  [T.Minus.tokenTypeIdx!, "-"],
  [T.Tilde.tokenTypeIdx!, "~"],
  [T.Bang.tokenTypeIdx!, "!"],
]);

const INTEGER_IDX = T.IntegerConstant.tokenTypeIdx!;

/** Tokens no expression goes on with (`, ; ) ] } :`), by token type index. */
const endsExpression: boolean[] = [];
for (const t of [T.Comma, T.Semicolon, T.RParen, T.RBracket, T.RBrace, T.Colon]) {
  endsExpression[t.tokenTypeIdx!] = true;
}

/** Tokens a postfix suffix starts with (`[ ( . -> ++ --`), by token type index. */
const startsPostfix: boolean[] = [];
for (const t of [T.LBracket, T.LParen, T.Dot, T.Arrow, T.PlusPlus, T.MinusMinus]) {
  startsPostfix[t.tokenTypeIdx!] = true;
}

export abstract class ExprParser extends DeclParser {
  /** The expression postfix suffixes apply to (a field, so the alternatives are built once). */
  private postfixOperand: Expr | undefined = undefined;

  // expression: assignment-expression (',' assignment-expression)*
  expression = this.RULE(
    "expression",
    (): Expr => {
      let e = this.SUBRULE(this.assignmentExpression);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        const right = this.SUBRULE2(this.assignmentExpression);
        if (!this.RECORDING_PHASE) e = { kind: "CommaExpr", loc: e.loc, left: e, right };
      });
      return e;
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  private readonly assignOperatorAlternatives = [...ASSIGN_OPERATORS.keys()].map((idx) => {
    const type = T.allTokens.find((t) => t.tokenTypeIdx === idx)!;
    return { ALT: () => this.CONSUME(type) };
  });

  // assignment-expression: conditional-expression (assignment-operator assignment-expression)?
  assignmentExpression = this.RULE(
    "assignmentExpression",
    (): Expr => {
      const lone = this.RECORDING_PHASE ? undefined : this.loneExpression();
      if (lone !== undefined) return lone;
      const target = this.SUBRULE(this.conditionalExpression);
      let result = target;
      this.OPTION(() => {
        const op = this.OR(this.assignOperatorAlternatives);
        const value = this.SUBRULE(this.assignmentExpression);
        if (!this.RECORDING_PHASE) {
          result = {
            kind: "AssignExpr",
            loc: target.loc,
            opLoc: this.real(op),
            op: ASSIGN_OPERATORS.get(op.tokenTypeIdx)!,
            target,
            value,
          };
        }
      });
      return result;
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // conditional-expression: binary-expression ('?' expression? ':' conditional-expression)?
  // (an empty middle operand is GNU's `a ?: b`)
  conditionalExpression = this.RULE(
    "conditionalExpression",
    (): Expr => {
      const lone = this.RECORDING_PHASE ? undefined : this.loneExpression();
      if (lone !== undefined) return lone;
      const cond = this.SUBRULE(this.binaryExpression);
      let result = cond;
      this.OPTION(() => {
        this.CONSUME(T.Question);
        let then: Expr | null = null;
        this.OPTION2(() => {
          then = this.SUBRULE(this.expression);
        });
        this.CONSUME(T.Colon, { ERR_MSG: "expected ':'" });
        const otherwise = this.SUBRULE(this.conditionalExpression);
        if (!this.RECORDING_PHASE) {
          result = { kind: "ConditionalExpr", loc: cond.loc, cond, then, else: otherwise };
        }
      });
      return result;
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  private readonly binaryOperatorAlternatives = [...BINARY_OPERATORS.keys()].map((idx) => {
    const type = T.allTokens.find((t) => t.tokenTypeIdx === idx)!;
    return { ALT: () => this.CONSUME(type) };
  });

  // binary-expression: cast-expression (binary-operator cast-expression)*
  // binary-operator: one of * / % + - << >> < > <= >= == != & ^ | && ||  (folded by precedence)
  binaryExpression = this.RULE(
    "binaryExpression",
    (): Expr => {
      const first = this.SUBRULE(this.castExpression);
      let operands: Expr[] | undefined;
      let operators: IToken[] | undefined;
      this.MANY(() => {
        const op = this.OR(this.binaryOperatorAlternatives);
        const right = this.SUBRULE2(this.castExpression);
        if (!this.RECORDING_PHASE) {
          (operands ??= [first]).push(right);
          (operators ??= []).push(op);
        }
      });
      if (this.RECORDING_PHASE || operators === undefined) return first;
      return this.foldBinary(operands!, operators);
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  /** Operator precedence parsing over the flat list; every operator is left-associative. */
  private foldBinary(operands: Expr[], operators: IToken[]): Expr {
    const values: Expr[] = [operands[0]!];
    const pending: IToken[] = [];
    const reduce = (): void => {
      const op = pending.pop()!;
      const right = values.pop()!;
      const left = values.pop()!;
      const info = BINARY_OPERATORS.get(op.tokenTypeIdx)!;
      values.push({
        kind: "BinaryExpr",
        loc: left.loc,
        opLoc: this.real(op),
        op: info.op,
        left,
        right,
      });
    };
    for (let i = 0; i < operators.length; i++) {
      const precedence = BINARY_OPERATORS.get(operators[i]!.tokenTypeIdx)!.precedence;
      while (
        pending.length > 0 &&
        BINARY_OPERATORS.get(pending[pending.length - 1]!.tokenTypeIdx)!.precedence >= precedence
      ) {
        reduce();
      }
      pending.push(operators[i]!);
      values.push(operands[i + 1]!);
    }
    while (pending.length > 0) reduce();
    return values[0]!;
  }

  /** '(' then a token that starts a type: a cast, compound literal or sizeof/_Alignof(type). */
  private readonly typeNameAhead = (): boolean =>
    this.LA_FAST(1).tokenType === T.LParen &&
    declarationStart[this.LA_FAST(2).tokenTypeIdx] === true;

  // cast-expression:
  //   '(' type-name ')' cast-expression
  //   '(' type-name ')' initializer-list postfix-suffix*            (compound literal)
  //   unary-expression
  castExpression = this.RULE(
    "castExpression",
    (): Expr => {
      if (!this.RECORDING_PHASE && startsPostfix[this.LA_FAST(2).tokenTypeIdx] !== true) {
        const lone = this.loneOperand();
        if (lone !== undefined) return lone;
      }
      return this.OR({
        MAX_LOOKAHEAD: 1,
        DEF: [
          {
            GATE: this.typeNameAhead,
            ALT: (): Expr => {
              const open = this.CONSUME(T.LParen);
              const type = this.SUBRULE(this.typeName);
              this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
              return this.OR2([
                {
                  ALT: (): Expr =>
                    this.compoundLiteral(open, type, this.SUBRULE(this.initializerList)),
                },
                {
                  ALT: (): Expr => {
                    const operand = this.SUBRULE(this.castExpression);
                    return { kind: "CastExpr", loc: this.real(open), type, operand };
                  },
                },
              ]);
            },
          },
          { ALT: (): Expr => this.SUBRULE(this.unaryExpression) },
        ],
        IGNORE_AMBIGUITIES: true,
      });
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  /** `(type){...}` and the postfix suffixes after it (a helper: uses SUBRULE7). */
  private compoundLiteral(open: IToken, type: TypeName, init: InitList): Expr {
    const literal: Expr = this.RECORDING_PHASE
      ? (undefined as never)
      : { kind: "CompoundLiteral", loc: this.real(open), type, init };
    return this.SUBRULE7(this.postfixSuffixes, { ARGS: [literal] });
  }

  // unary-expression:
  //   postfix-expression
  //   ('++' | '--') unary-expression
  //   ('&' | '*' | '+' | '-' | '~' | '!') cast-expression
  //   'sizeof' unary-expression | 'sizeof' '(' type-name ')'
  //   ('_Alignof' | '__alignof__') ('(' type-name ')' | unary-expression)
  //   '__extension__' cast-expression
  unaryExpression = this.RULE(
    "unaryExpression",
    (): Expr =>
      this.OR([
        {
          ALT: (): Expr => {
            const op = this.OR2([
              { ALT: () => this.CONSUME(T.PlusPlus) },
              { ALT: () => this.CONSUME(T.MinusMinus) },
            ]);
            const operand = this.SUBRULE(this.unaryExpression);
            return {
              kind: "UpdateExpr",
              loc: this.real(op),
              op: op.tokenType === T.PlusPlus ? "++" : "--",
              prefix: true,
              operand,
            };
          },
        },
        {
          ALT: (): Expr => {
            const op = this.OR3([
              { ALT: () => this.CONSUME(T.Amp) },
              { ALT: () => this.CONSUME(T.Star) },
              { ALT: () => this.CONSUME(T.Plus) },
              { ALT: () => this.CONSUME(T.Minus) },
              { ALT: () => this.CONSUME(T.Tilde) },
              { ALT: () => this.CONSUME(T.Bang) },
            ]);
            const operand = this.SUBRULE(this.castExpression);
            return {
              kind: "UnaryExpr",
              loc: this.real(op),
              op: UNARY_OPERATORS.get(op.tokenTypeIdx)!,
              operand,
            };
          },
        },
        { ALT: (): Expr => this.SUBRULE(this.sizeofExpression) },
        { ALT: (): Expr => this.SUBRULE(this.alignofExpression) },
        {
          ALT: (): Expr => {
            this.CONSUME(T.Extension);
            return this.SUBRULE2(this.castExpression);
          },
        },
        { ALT: (): Expr => this.SUBRULE(this.postfixExpression) },
      ]),
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // sizeof-expression: 'sizeof' ('(' type-name ')' (initializer-list postfix-suffix*)? | unary-expression)
  sizeofExpression = this.RULE(
    "sizeofExpression",
    (): Expr => {
      const kw = this.CONSUME(T.Sizeof);
      const arg = this.OR({
        MAX_LOOKAHEAD: 1,
        DEF: [
          {
            GATE: this.typeNameAhead,
            ALT: (): Expr | TypeName => {
              const open = this.CONSUME(T.LParen);
              const type = this.SUBRULE(this.typeName);
              this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
              let arg: Expr | TypeName = type;
              this.OPTION(() => {
                arg = this.compoundLiteral(open, type, this.SUBRULE(this.initializerList));
              });
              return arg;
            },
          },
          { ALT: (): Expr | TypeName => this.SUBRULE(this.unaryExpression) },
        ],
        IGNORE_AMBIGUITIES: true,
      });
      return { kind: "SizeofExpr", loc: this.real(kw), arg };
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // alignof-expression: ('_Alignof' | '__alignof__') ('(' type-name ')' | unary-expression)
  alignofExpression = this.RULE(
    "alignofExpression",
    (): Expr => {
      const kw = this.CONSUME(T.Alignof);
      const arg = this.OR({
        MAX_LOOKAHEAD: 1,
        DEF: [
          {
            GATE: this.typeNameAhead,
            ALT: (): Expr | TypeName => {
              this.CONSUME(T.LParen);
              const type = this.SUBRULE(this.typeName);
              this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
              return type;
            },
          },
          { ALT: (): Expr | TypeName => this.SUBRULE(this.unaryExpression) },
        ],
        IGNORE_AMBIGUITIES: true,
      });
      return { kind: "AlignofExpr", loc: this.real(kw), spelling: kw.image, arg };
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // postfix-expression: primary-expression postfix-suffix*
  postfixExpression = this.RULE(
    "postfixExpression",
    (): Expr => {
      const primary = this.SUBRULE(this.primaryExpression);
      return this.SUBRULE(this.postfixSuffixes, { ARGS: [primary] });
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  private readonly postfixAlternatives = [
    {
      ALT: (): Expr => {
        const array = this.postfixOperand!;
        this.CONSUME(T.LBracket);
        const index = this.SUBRULE(this.expression);
        this.CONSUME(T.RBracket, { ERR_MSG: "expected ']'" });
        return { kind: "IndexExpr", loc: array?.loc, array, index };
      },
    },
    {
      ALT: (): Expr => {
        const callee = this.postfixOperand!;
        this.CONSUME(T.LParen);
        const args: Expr[] = [];
        this.OPTION(() => {
          args.push(this.SUBRULE(this.assignmentExpression));
          this.MANY2(() => {
            this.CONSUME(T.Comma);
            args.push(this.SUBRULE2(this.assignmentExpression));
          });
        });
        this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
        return { kind: "CallExpr", loc: callee?.loc, callee, args };
      },
    },
    {
      ALT: (): Expr => {
        const object = this.postfixOperand!;
        this.CONSUME(T.Dot);
        const member = this.CONSUME(T.Identifier, { ERR_MSG: "expected identifier" });
        return {
          kind: "MemberExpr",
          loc: object?.loc,
          object,
          member: member.image,
          memberLoc: this.real(member),
          arrow: false,
        };
      },
    },
    {
      ALT: (): Expr => {
        const object = this.postfixOperand!;
        this.CONSUME(T.Arrow);
        const member = this.CONSUME2(T.Identifier, { ERR_MSG: "expected identifier" });
        return {
          kind: "MemberExpr",
          loc: object?.loc,
          object,
          member: member.image,
          memberLoc: this.real(member),
          arrow: true,
        };
      },
    },
    {
      ALT: (): Expr => {
        const operand = this.postfixOperand!;
        this.CONSUME(T.PlusPlus);
        return { kind: "UpdateExpr", loc: operand?.loc, op: "++", prefix: false, operand };
      },
    },
    {
      ALT: (): Expr => {
        const operand = this.postfixOperand!;
        this.CONSUME(T.MinusMinus);
        return { kind: "UpdateExpr", loc: operand?.loc, op: "--", prefix: false, operand };
      },
    },
  ];

  // postfix-suffix:
  //   '[' expression ']' | '(' (assignment-expression (',' assignment-expression)*)? ')'
  //   '.' identifier | '->' identifier | '++' | '--'
  postfixSuffixes = this.RULE(
    "postfixSuffixes",
    (base: Expr): Expr => {
      this.postfixOperand = base;
      this.MANY(() => {
        this.postfixOperand = this.OR(this.postfixAlternatives);
      });
      const result = this.postfixOperand;
      this.postfixOperand = undefined;
      return result as Expr;
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  private readonly parenthesizedAlternatives = {
    DEF: [
      { ALT: (): Expr | CompoundStmt => this.SUBRULE(this.compoundStatement) },
      { ALT: (): Expr | CompoundStmt => this.SUBRULE(this.expression) },
    ],
    ERR_MSG: "expected expression",
  };

  private readonly primaryAlternatives = [
    { ALT: (): Expr => this.identifierExpr(this.CONSUME(T.Identifier)) },
    { ALT: (): Expr => this.integerExpr(this.CONSUME(T.IntegerConstant)) },
    { ALT: (): Expr => this.floatExpr(this.CONSUME(T.FloatConstant)) },
    { ALT: (): Expr => this.charExpr(this.CONSUME(T.CharConstant)) },
    { ALT: (): Expr => this.ppNumberExpr(this.CONSUME(T.PPNumber)) },
    { ALT: (): Expr => this.SUBRULE(this.stringLiterals) as StringLiteral },
    {
      // '(' expression ')' or GNU's statement expression '(' compound-statement ')'. One token
      // decides to enter, so `(;` reports the missing expression at ';' as clang does.
      ALT: (): Expr => {
        const open = this.CONSUME(T.LParen);
        const inner = this.OR2(this.parenthesizedAlternatives);
        this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
        return inner.kind === "CompoundStmt"
          ? { kind: "StmtExpr", loc: this.real(open), body: inner }
          : inner;
      },
    },
    { ALT: (): Expr => this.SUBRULE(this.genericSelection) },
    { ALT: (): Expr => this.SUBRULE(this.offsetofExpression) },
    { ALT: (): Expr => this.SUBRULE(this.vaArgExpression) },
    { ALT: (): Expr => this.SUBRULE(this.typesCompatibleExpression) },
    {
      // __builtin_choose_expr(c, a, b) is called like a function; sema evaluates it.
      ALT: (): Expr => {
        const kw = this.CONSUME(T.BuiltinChooseExpr);
        return { kind: "Identifier", loc: this.real(kw), name: kw.image };
      },
    },
  ];
  private readonly primaryChoice = {
    DEF: this.primaryAlternatives,
    ERR_MSG: "expected expression",
  };

  // primary-expression:
  //   identifier | constant | string-literal+ | '(' expression ')' | '(' compound-statement ')'
  //   generic-selection | offsetof-expression | va-arg-expression | types-compatible-expression
  //   '__builtin_choose_expr'
  primaryExpression = this.RULE("primaryExpression", (): Expr => this.OR(this.primaryChoice), {
    recoveryValueFunc: () => this.errorExpr(),
  });

  /**
   * An identifier (not a typedef name) or an integer constant that is a whole expression (the
   * token after it is one no expression goes on with): the node the rules below would build for
   * it, without going through them. Most expressions in headers are one such token (enumerator
   * values, bit-field widths, array sizes), and each went through six rules.
   */
  private loneExpression(): Expr | undefined {
    return endsExpression[this.LA_FAST(2).tokenTypeIdx] === true ? this.loneOperand() : undefined;
  }

  /** Such a token as a whole operand, when the caller has seen that nothing after it joins it. */
  protected loneOperand(): Expr | undefined {
    const type = this.LA_FAST(1).tokenTypeIdx;
    if (type === INTEGER_IDX) return this.integerExpr(this.CONSUME(T.IntegerConstant));
    if (type === IDENTIFIER_IDX) return this.identifierExpr(this.CONSUME(T.Identifier));
    return undefined;
  }

  private identifierExpr(tok: IToken): Expr {
    if (this.RECORDING_PHASE) return undefined as never;
    if (tok.tokenType === TypedefName && this.attributeArgDepth === 0) {
      this.errorAt(tok, `unexpected type name '${tok.image}': expected expression`);
    }
    return { kind: "Identifier", loc: this.real(tok), name: tok.image };
  }

  private integerExpr(tok: IToken): Expr {
    if (this.RECORDING_PHASE) return undefined as never;
    const d = decodeInteger(tok.image);
    if (d.error !== null) this.errorAt(tok, d.error, [], d.errorOffset);
    else if (d.overflow)
      this.errorAt(tok, "integer literal is too large to be represented in any integer type");
    return {
      kind: "IntegerLiteral",
      loc: this.real(tok),
      text: tok.image,
      lo: d.lo,
      hi: d.hi,
      overflow: d.overflow,
      radix: d.radix,
      unsigned: d.unsigned,
      longness: d.longness,
    };
  }

  private floatExpr(tok: IToken): Expr {
    if (this.RECORDING_PHASE) return undefined as never;
    const d = decodeFloat(tok.image);
    if (d.error !== null) this.errorAt(tok, d.error);
    return {
      kind: "FloatLiteral",
      loc: this.real(tok),
      text: tok.image,
      value: d.value,
      suffix: d.suffix,
    };
  }

  private charExpr(tok: IToken): Expr {
    if (this.RECORDING_PHASE) return undefined as never;
    const d = decodeChar(tok.image);
    if (d.error !== null) this.errorAt(tok, d.error);
    else if (d.multiChar) this.warnAt(tok, "multi-character character constant", "-Wmultichar");
    return {
      kind: "CharLiteral",
      loc: this.real(tok),
      text: tok.image,
      value: d.value,
      prefix: d.prefix,
    };
  }

  /** A preprocessing number that is no valid constant (`1abc`, `0x`, `1.2.3`). */
  private ppNumberExpr(tok: IToken): Expr {
    if (this.RECORDING_PHASE) return undefined as never;
    const problem = invalidNumber(tok.image);
    this.errorAt(tok, problem.message, [], problem.offset);
    return this.errorExpr();
  }

  // generic-selection: '_Generic' '(' assignment-expression (',' generic-association)+ ')'
  // generic-association: (type-name | 'default') ':' assignment-expression
  genericSelection = this.RULE(
    "genericSelection",
    (): Expr => {
      const kw = this.CONSUME(T.Generic);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '('" });
      const control = this.SUBRULE(this.assignmentExpression);
      const assocs: GenericAssoc[] = [];
      this.AT_LEAST_ONE(() => {
        this.CONSUME(T.Comma, { ERR_MSG: "expected ','" });
        const first = this.LA_FAST(1);
        const type = this.OR([
          {
            ALT: (): TypeName | null => {
              this.CONSUME(T.Default);
              return null;
            },
          },
          { ALT: (): TypeName | null => this.SUBRULE(this.typeName) },
        ]);
        this.CONSUME(T.Colon, { ERR_MSG: "expected ':'" });
        const expr = this.SUBRULE2(this.assignmentExpression);
        if (!this.RECORDING_PHASE)
          assocs.push({ kind: "GenericAssoc", loc: this.real(first), type, expr });
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      return { kind: "GenericSelection", loc: this.real(kw), control, assocs };
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // offsetof-expression:
  //   '__builtin_offsetof' '(' type-name ',' identifier ('.' identifier | '[' expression ']')* ')'
  offsetofExpression = this.RULE(
    "offsetofExpression",
    (): Expr => {
      const kw = this.CONSUME(T.BuiltinOffsetof);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after '__builtin_offsetof'" });
      const type = this.SUBRULE(this.typeName);
      this.CONSUME(T.Comma, { ERR_MSG: "expected ','" });
      const path: Designator[] = [];
      const first = this.CONSUME(T.Identifier, { ERR_MSG: "expected identifier" });
      if (!this.RECORDING_PHASE)
        path.push({ kind: "FieldDesignator", loc: this.real(first), name: first.image });
      this.MANY(() =>
        this.OR([
          {
            ALT: () => {
              const dot = this.CONSUME(T.Dot);
              const name = this.CONSUME2(T.Identifier, { ERR_MSG: "expected identifier" });
              if (!this.RECORDING_PHASE)
                path.push({ kind: "FieldDesignator", loc: this.real(dot), name: name.image });
            },
          },
          {
            ALT: () => {
              const open = this.CONSUME(T.LBracket);
              const index = this.SUBRULE(this.expression);
              this.CONSUME(T.RBracket, { ERR_MSG: "expected ']'" });
              if (!this.RECORDING_PHASE)
                path.push({ kind: "IndexDesignator", loc: this.real(open), index, last: null });
            },
          },
        ]),
      );
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      return { kind: "OffsetofExpr", loc: this.real(kw), type, path };
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // va-arg-expression: '__builtin_va_arg' '(' assignment-expression ',' type-name ')'
  vaArgExpression = this.RULE(
    "vaArgExpression",
    (): Expr => {
      const kw = this.CONSUME(T.BuiltinVaArg);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after '__builtin_va_arg'" });
      const ap = this.SUBRULE(this.assignmentExpression);
      this.CONSUME(T.Comma, { ERR_MSG: "expected ','" });
      const type = this.SUBRULE(this.typeName);
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      return { kind: "VaArgExpr", loc: this.real(kw), ap, type };
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );

  // types-compatible-expression: '__builtin_types_compatible_p' '(' type-name ',' type-name ')'
  typesCompatibleExpression = this.RULE(
    "typesCompatibleExpression",
    (): Expr => {
      const kw = this.CONSUME(T.BuiltinTypesCompatibleP);
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after '__builtin_types_compatible_p'" });
      const first = this.SUBRULE(this.typeName);
      this.CONSUME(T.Comma, { ERR_MSG: "expected ','" });
      const second = this.SUBRULE2(this.typeName);
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      return { kind: "TypesCompatibleExpr", loc: this.real(kw), first, second };
    },
    { recoveryValueFunc: () => this.errorExpr() },
  );
}

export type { CToken };
