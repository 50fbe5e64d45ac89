// Statements (C11 6.8, GNU asm statements and statement attributes) and the translation unit.
// CParser, the complete parser, is the last layer: declarations (parse-decl.ts) and expressions
// (parse-expr.ts) below it.
import { EOF, type IToken } from "./chevrotain.js";
import * as T from "./lexer.js";
import type {
  AsmOperand,
  Attribute,
  BlockItem,
  CompoundStmt,
  Declaration,
  Expr,
  ExternalDecl,
  FileScopeAsm,
  ForStmt,
  FunctionDef,
  LoopPragma,
  Stmt,
  StringLiteral,
} from "./ast.js";
import {
  DeclContext,
  declarationStart,
  exact,
  IDENTIFIER_IDX,
  joined,
  TYPEDEF_IDX,
  type Building,
} from "./parse-base.js";
import { ExprParser } from "./parse-expr.js";

const EXTENSION_IDX = T.Extension.tokenTypeIdx!;
const FILE_ARGS = { ARGS: [DeclContext.File] as [DeclContext] };

export class CParser extends ExprParser {
  /** The external declarations parsed so far (kept if the parse stops early). */
  protected unitDecls: ExternalDecl[] = [];

  /** Does a declaration start here? Decided by tokens and, for identifiers, by scope. */
  private readonly startsDeclaration = (): boolean => {
    const t = this.LA_FAST(1).tokenTypeIdx;
    if (declarationStart[t] === true) return true;
    // `foo x;` with foo undeclared: a declaration with an unknown type name (clang's reading).
    if (t === IDENTIFIER_IDX) {
      const next = this.LA_FAST(2).tokenTypeIdx;
      return (
        (next === IDENTIFIER_IDX || next === TYPEDEF_IDX) &&
        !this.scopes.isDeclared(this.LA_FAST(1).image)
      );
    }
    return false;
  };

  // translation-unit: external-declaration*
  translationUnit = this.RULE(
    "translationUnit",
    (): ExternalDecl[] => {
      this.MANY({
        GATE: () => {
          if (this.snapshotPending) this.maybeSnapshot(this.unitDecls);
          return this.LA_FAST(1).tokenType !== EOF;
        },
        DEF: () => {
          const d = this.SUBRULE(this.externalDeclaration);
          if (d !== null && !this.RECORDING_PHASE) this.unitDecls.push(d);
        },
      });
      return this.unitDecls;
    },
    { recoveryValueFunc: () => this.unitDecls },
  );

  // external-declaration:
  //   ';'                                     (empty declaration)
  //   '}'                                     (an error: extraneous closing brace)
  //   static_assert-declaration
  //   'asm' '(' string-literal+ ')' ';'
  //   '__extension__'* (function-definition | declaration)
  //   anything else: an error, skipped
  externalDeclaration = this.RULE(
    "externalDeclaration",
    (): ExternalDecl | null => {
      // A declaration-specifier next: the fifth alternative, which the OR would take (a header
      // is tens of thousands of these), without it.
      const next = this.LA_FAST(1).tokenTypeIdx;
      if (!this.RECORDING_PHASE && declarationStart[next] === true && next !== EXTENSION_IDX) {
        return this.SUBRULE(this.declaration, FILE_ARGS);
      }
      return this.OR(this.externalAlternatives);
    },
    { recoveryValueFunc: () => null },
  );

  private readonly externalAlternatives = {
    DEF: [
      {
        ALT: (): ExternalDecl | null => {
          this.CONSUME(T.Semicolon);
          return null;
        },
      },
      {
        ALT: (): ExternalDecl | null => {
          const brace = this.CONSUME(T.RBrace);
          if (!this.RECORDING_PHASE) this.errorAt(brace, "extraneous closing brace ('}')");
          return null;
        },
      },
      { ALT: (): ExternalDecl | null => this.SUBRULE(this.staticAssertDeclaration) },
      { ALT: (): ExternalDecl | null => this.SUBRULE(this.fileScopeAsm) },
      {
        ALT: (): ExternalDecl | null => {
          this.MANY(() => this.CONSUME(T.Extension));
          return this.SUBRULE(this.declaration, FILE_ARGS);
        },
      },
      {
        // Anything else cannot start a declaration: report it and skip to the next ';'.
        ALT: (): ExternalDecl | null => {
          if (this.RECORDING_PHASE) return null;
          this.errorAt(this.LA_FAST(1), "expected identifier or '('");
          const start = this.position();
          this.skipToSemicolonOrBrace();
          if (this.LA_FAST(1).tokenType === T.Semicolon) this.skipToken();
          if (this.position() === start) this.skipToken();
          return null;
        },
      },
    ],
    IGNORE_AMBIGUITIES: true,
  };

  // file-scope-asm: 'asm' '(' string-literal+ ')' ';'
  fileScopeAsm = this.RULE("fileScopeAsm", (): FileScopeAsm => {
    const kw = this.CONSUME(T.Asm);
    this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after 'asm'" });
    const text = this.SUBRULE(this.stringLiterals);
    this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
    this.CONSUME(T.Semicolon, { ERR_MSG: "expected ';' after top-level asm block" });
    return { kind: "FileScopeAsm", loc: this.real(kw), text };
  });

  // compound-statement: '{' block-item* '}'
  compoundStatement = this.RULE(
    "compoundStatement",
    (): CompoundStmt => {
      const open = this.CONSUME(T.LBrace);
      const items: BlockItem[] = [];
      const depth = this.scopes.depth;
      this.scopes.push();
      let close: IToken;
      try {
        this.MANY({
          GATE: () => {
            const t = this.LA_FAST(1).tokenType;
            return t !== T.RBrace && t !== EOF;
          },
          DEF: () => {
            const item = this.SUBRULE(this.blockItem);
            if (item !== null && !this.RECORDING_PHASE) items.push(item);
          },
        });
        close = this.CONSUME(T.RBrace, { ERR_MSG: "expected '}'" });
      } finally {
        this.scopes.popTo(depth);
      }
      return { kind: "CompoundStmt", loc: this.real(open), items, endLoc: this.real(close) };
    },
    {
      recoveryValueFunc: (): CompoundStmt => {
        const loc = this.real(this.LA(0));
        return { kind: "CompoundStmt", loc, items: [], endLoc: loc };
      },
    },
  );

  // block-item: static_assert-declaration | '__extension__'* attribute-specifier* (declaration | statement)
  // (a declaration when the next tokens start one: a type keyword, a typedef name in scope, or an
  // unknown name followed by another name)
  blockItem = this.RULE(
    "blockItem",
    (): BlockItem | null => {
      this.MANY(() => this.CONSUME(T.Extension));
      const attributes: Attribute[] = [];
      this.MANY2(() => {
        this.pushAll(attributes, this.SUBRULE(this.attributeSpecifier));
      });
      return this.OR({
        DEF: [
          { ALT: (): BlockItem | null => this.SUBRULE(this.staticAssertDeclaration) },
          {
            GATE: this.startsDeclaration,
            ALT: (): BlockItem | null => {
              if (!this.RECORDING_PHASE) this.pendingAttributes = attributes;
              return this.SUBRULE(this.declaration, { ARGS: [DeclContext.Block] }) as Declaration;
            },
          },
          {
            ALT: (): BlockItem | null => {
              const stmt = this.SUBRULE(this.statement);
              if (!this.RECORDING_PHASE && attributes.length > 0)
                attachStatementAttributes(stmt, attributes);
              return stmt;
            },
          },
        ],
        IGNORE_AMBIGUITIES: true,
      });
    },
    { recoveryValueFunc: () => null },
  );

  private readonly statementAlternatives = [
    { ALT: (): Stmt => this.SUBRULE(this.labeledStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.caseStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.defaultStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.compoundStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.ifStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.switchStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.whileStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.doStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.forStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.gotoStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.continueStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.breakStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.returnStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.asmStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.nullStatement) },
    { ALT: (): Stmt => this.SUBRULE(this.expressionStatement) },
  ];
  private readonly statementChoice = {
    DEF: this.statementAlternatives,
    ERR_MSG: "expected expression",
    IGNORE_AMBIGUITIES: true,
  };

  // statement:
  //   labeled-statement | case-statement | default-statement | compound-statement
  //   if-statement | switch-statement | while-statement | do-statement | for-statement
  //   jump-statement | asm-statement | null-statement | expression-statement
  statement = this.RULE("statement", (): Stmt => this.OR(this.statementChoice), {
    recoveryValueFunc: () => this.nullStmt(),
  });

  private nullStmt(): Stmt {
    return { kind: "ExprStmt", loc: this.real(this.LA(0)), expr: null, attributes: exact([]) };
  }

  // labeled-statement: identifier ':' attribute-specifier* statement
  labeledStatement = this.RULE(
    "labeledStatement",
    (): Stmt => {
      const label = this.CONSUME(T.Identifier);
      this.CONSUME(T.Colon);
      const attributes: Attribute[] = [];
      this.MANY(() => {
        this.pushAll(attributes, this.SUBRULE(this.attributeSpecifier));
      });
      const body = this.SUBRULE(this.labelBody);
      return { kind: "LabeledStmt", loc: this.real(label), label: label.image, body, attributes };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // label-body: statement | (nothing, before '}': C23 allows a label at the end of a block)
  labelBody = this.RULE(
    "labelBody",
    (): Stmt =>
      this.OR([
        {
          GATE: this.startsDeclaration,
          ALT: (): Stmt => {
            // clang (C17): a label must label a statement, not a declaration.
            const d = this.SUBRULE(this.declaration, { ARGS: [DeclContext.Block] });
            if (!this.RECORDING_PHASE) this.errorAt(d.loc, "expected expression");
            return this.nullStmt();
          },
        },
        { ALT: (): Stmt => this.SUBRULE(this.statement) },
        {
          ALT: (): Stmt => {
            if (!this.RECORDING_PHASE) {
              const atEnd = this.LA_FAST(1).tokenType === T.RBrace;
              this.errorAt(this.LA_FAST(1), atEnd ? "expected statement" : "expected expression");
            }
            return this.nullStmt();
          },
        },
      ]),
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // case-statement: 'case' constant-expression ('...' constant-expression)? ':' statement
  caseStatement = this.RULE(
    "caseStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Case);
      const value = this.SUBRULE(this.conditionalExpression);
      let rangeEnd: Expr | null = null;
      this.OPTION(() => {
        this.CONSUME(T.Ellipsis);
        rangeEnd = this.SUBRULE2(this.conditionalExpression);
      });
      this.CONSUME(T.Colon, { ERR_MSG: "expected ':' after 'case'" });
      const body = this.SUBRULE(this.labelBody);
      return { kind: "CaseStmt", loc: this.real(kw), value, rangeEnd, body };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // default-statement: 'default' ':' statement
  defaultStatement = this.RULE(
    "defaultStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Default);
      this.CONSUME(T.Colon, { ERR_MSG: "expected ':' after 'default'" });
      const body = this.SUBRULE(this.labelBody);
      return { kind: "DefaultStmt", loc: this.real(kw), body };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  /**
   * The '(' after if/switch/while/for (a helper: OPTION8/CONSUME8). When it is missing: clang's
   * error, and the statement is skipped up to and including the next ';'; returns false then.
   */
  private openParen(keyword: string): boolean {
    let found = false;
    this.OPTION8(() => {
      this.CONSUME8(T.LParen);
      found = true;
    });
    if (found || this.RECORDING_PHASE) return true;
    this.errorAt(this.LA_FAST(1), `expected '(' after '${keyword}'`);
    this.skipToSemicolonOrBrace();
    if (this.LA_FAST(1).tokenType === T.Semicolon) this.skipToken();
    return false;
  }

  // if-statement: 'if' '(' expression ')' statement ('else' statement)?
  ifStatement = this.RULE(
    "ifStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.If);
      if (!this.openParen("if")) return this.nullStmt();
      const cond = this.SUBRULE(this.expression);
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      const then = this.SUBRULE(this.statement);
      let otherwise: Stmt | null = null;
      this.OPTION(() => {
        this.CONSUME(T.Else);
        otherwise = this.SUBRULE2(this.statement);
      });
      return { kind: "IfStmt", loc: this.real(kw), cond, then, else: otherwise };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // switch-statement: 'switch' '(' expression ')' statement
  switchStatement = this.RULE(
    "switchStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Switch);
      if (!this.openParen("switch")) return this.nullStmt();
      const cond = this.SUBRULE(this.expression);
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      const body = this.SUBRULE(this.statement);
      return { kind: "SwitchStmt", loc: this.real(kw), cond, body };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // while-statement: 'while' '(' expression ')' statement
  whileStatement = this.RULE(
    "whileStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.While);
      const pragmas = this.pragmasHere();
      if (!this.openParen("while")) return this.nullStmt();
      const cond = this.SUBRULE(this.expression);
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      const body = this.SUBRULE(this.statement);
      return { kind: "WhileStmt", loc: this.real(kw), cond, body, pragmas };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // do-statement: 'do' statement 'while' '(' expression ')' ';'
  doStatement = this.RULE(
    "doStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Do);
      const pragmas = this.pragmasHere();
      const body = this.SUBRULE(this.statement);
      this.CONSUME(T.While, { ERR_MSG: "expected 'while' in do/while loop" });
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after 'while'" });
      const cond = this.SUBRULE(this.expression);
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      this.statementSemicolon("expected ';' after do/while statement");
      return { kind: "DoStmt", loc: this.real(kw), body, cond, pragmas };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // for-statement:
  //   'for' '(' (declaration | expression? ';') expression? ';' expression? ')' statement
  forStatement = this.RULE(
    "forStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.For);
      const pragmas = this.pragmasHere();
      if (!this.openParen("for")) return this.nullStmt();
      const depth = this.scopes.depth;
      this.scopes.push();
      let init: ForStmt["init"] = null;
      let cond: Expr | null = null;
      let step: Expr | null = null;
      let body: Stmt;
      try {
        this.OR({
          DEF: [
            {
              GATE: this.startsDeclaration,
              ALT: () => {
                init = this.SUBRULE(this.declaration, { ARGS: [DeclContext.For] }) as Declaration;
              },
            },
            {
              ALT: () => {
                this.OPTION(() => {
                  init = this.SUBRULE(this.expression);
                });
                this.CONSUME(T.Semicolon, { ERR_MSG: "expected ';' in 'for' statement specifier" });
              },
            },
          ],
          IGNORE_AMBIGUITIES: true,
        });
        this.OPTION2(() => {
          cond = this.SUBRULE2(this.expression);
        });
        this.CONSUME2(T.Semicolon, { ERR_MSG: "expected ';' in 'for' statement specifier" });
        this.OPTION3(() => {
          step = this.SUBRULE3(this.expression);
        });
        this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
        body = this.SUBRULE(this.statement);
      } finally {
        this.scopes.popTo(depth);
      }
      return { kind: "ForStmt", loc: this.real(kw), init, cond, step, body, pragmas };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  /** The loop pragmas written before the loop keyword just consumed. */
  private pragmasHere(): LoopPragma[] {
    return this.RECORDING_PHASE ? [] : this.loopPragmasAt(this.position());
  }

  // goto-statement: 'goto' identifier ';'
  gotoStatement = this.RULE(
    "gotoStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Goto);
      const label = this.CONSUME(T.Identifier, { ERR_MSG: "expected identifier" });
      this.statementSemicolon("expected ';' after goto statement");
      return { kind: "GotoStmt", loc: this.real(kw), label: label.image };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // continue-statement: 'continue' ';'
  continueStatement = this.RULE(
    "continueStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Continue);
      this.statementSemicolon("expected ';' after continue statement");
      return { kind: "ContinueStmt", loc: this.real(kw) };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // break-statement: 'break' ';'
  breakStatement = this.RULE(
    "breakStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Break);
      this.statementSemicolon("expected ';' after break statement");
      return { kind: "BreakStmt", loc: this.real(kw) };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // return-statement: 'return' expression? ';'
  returnStatement = this.RULE(
    "returnStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Return);
      let value: Expr | null = null;
      this.OPTION(() => {
        value = this.SUBRULE(this.expression);
      });
      if (value === null && !this.RECORDING_PHASE && this.LA_FAST(1).tokenType !== T.Semicolon) {
        // clang parses anything but ';' as the value: a bad one is "expected expression".
        this.errorAt(this.LA_FAST(1), "expected expression");
        this.skipToSemicolonOrBrace();
      }
      this.statementSemicolon("expected ';' after return statement");
      return { kind: "ReturnStmt", loc: this.real(kw), value };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  /**
   * The ';' ending a statement (uses OPTION9/CONSUME9). When missing: clang's message just past
   * the previous token, then a skip to the next ';' or '}' (left for the next statement).
   */
  private statementSemicolon(message: string): void {
    let ended = false;
    this.OPTION9(() => {
      this.CONSUME9(T.Semicolon);
      ended = true;
    });
    if (ended || this.RECORDING_PHASE) return;
    this.errorAfterPrevious(message);
    this.skipToSemicolonOrBrace();
  }

  // null-statement: ';'
  nullStatement = this.RULE(
    "nullStatement",
    (): Stmt => {
      const semi = this.CONSUME(T.Semicolon);
      return { kind: "ExprStmt", loc: this.real(semi), expr: null, attributes: exact([]) };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // expression-statement: expression ';'
  // (a missing ';' is reported and parsing goes on with the next token, as clang does)
  expressionStatement = this.RULE(
    "expressionStatement",
    (): Stmt => {
      const expr = this.SUBRULE(this.expression);
      let ended = false;
      this.OPTION9(() => {
        this.CONSUME9(T.Semicolon);
        ended = true;
      });
      if (!ended && !this.RECORDING_PHASE) this.errorAfterPrevious("expected ';' after expression");
      return { kind: "ExprStmt", loc: expr?.loc, expr, attributes: exact([]) };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // asm-statement:
  //   'asm' ('volatile' | 'inline' | 'goto')* '(' string-literal+
  //     (':' asm-operands? (':' asm-operands? (':' asm-clobbers? (':' asm-labels?)?)?)?)? ')' ';'
  asmStatement = this.RULE(
    "asmStatement",
    (): Stmt => {
      const kw = this.CONSUME(T.Asm);
      let isVolatile = false;
      let isInline = false;
      let isGoto = false;
      this.MANY(() =>
        this.OR([
          {
            ALT: () => {
              this.CONSUME(T.Volatile);
              isVolatile = true;
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.Inline);
              isInline = true;
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.Goto);
              isGoto = true;
            },
          },
        ]),
      );
      this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after 'asm'" });
      const template = this.SUBRULE(this.stringLiterals);
      const outputs: AsmOperand[] = [];
      const inputs: AsmOperand[] = [];
      const clobbers: StringLiteral[] = [];
      const labels: string[] = [];
      this.OPTION(() => {
        this.CONSUME(T.Colon);
        this.pushAll(outputs, this.SUBRULE(this.asmOperands));
        this.OPTION2(() => {
          this.CONSUME2(T.Colon);
          this.pushAll(inputs, this.SUBRULE2(this.asmOperands));
          this.OPTION3(() => {
            this.CONSUME3(T.Colon);
            this.OPTION4(() => {
              clobbers.push(this.SUBRULE2(this.stringLiterals));
              this.MANY2(() => {
                this.CONSUME(T.Comma);
                clobbers.push(this.SUBRULE3(this.stringLiterals));
              });
            });
            this.OPTION5(() => {
              this.CONSUME4(T.Colon);
              this.OPTION6(() => {
                labels.push(this.CONSUME(T.Identifier).image);
                this.MANY3(() => {
                  this.CONSUME2(T.Comma);
                  labels.push(this.CONSUME2(T.Identifier).image);
                });
              });
            });
          });
        });
      });
      this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
      this.statementSemicolon("expected ';' after asm statement");
      return {
        kind: "AsmStmt",
        loc: this.real(kw),
        isVolatile,
        isInline,
        isGoto,
        template,
        outputs,
        inputs,
        clobbers,
        labels,
      };
    },
    { recoveryValueFunc: () => this.nullStmt() },
  );

  // asm-operands: asm-operand (',' asm-operand)*
  // asm-operand: ('[' identifier ']')? string-literal '(' expression ')'
  asmOperands = this.RULE("asmOperands", (): AsmOperand[] => {
    const list: AsmOperand[] = [];
    this.OPTION(() => {
      list.push(this.SUBRULE(this.asmOperand));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        list.push(this.SUBRULE2(this.asmOperand));
      });
    });
    return list;
  });

  asmOperand = this.RULE("asmOperand", (): AsmOperand => {
    const first = this.LA_FAST(1);
    let symbolicName: string | null = null;
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      symbolicName = this.CONSUME(T.Identifier).image;
      this.CONSUME(T.RBracket, { ERR_MSG: "expected ']'" });
    });
    const constraint = this.SUBRULE(this.stringLiterals);
    this.CONSUME(T.LParen, { ERR_MSG: "expected '(' after asm operand" });
    const expr = this.SUBRULE(this.expression);
    this.CONSUME(T.RParen, { ERR_MSG: "expected ')'" });
    return { kind: "AsmOperand", loc: this.real(first), symbolicName, constraint, expr };
  });

  constructor(validate = false) {
    super(validate);
    this.performSelfAnalysis();
  }

  /** Parses the token array given to begin(); the parse state stays in the instance until then. */
  protected parseUnit(resumed: readonly ExternalDecl[] = []): ExternalDecl[] {
    this.unitDecls = resumed.slice();
    const decls = this.translationUnit();
    if (this.snapshotPending) this.maybeSnapshot(decls);
    return decls;
  }

  /** Loop pragmas no loop took: clang's error. */
  protected strayLoopPragmas(): LoopPragma[] {
    const stray: LoopPragma[] = [];
    for (const [pos, list] of this.pragmas.loopPragmas)
      if (!this.takenLoopPragmas.has(pos)) stray.push(...list);
    return stray;
  }
}

/** `__attribute__((fallthrough));` and attributes before a label belong to that statement. */
function attachStatementAttributes(stmt: Stmt, attributes: Attribute[]): void {
  if ((stmt.kind === "ExprStmt" && stmt.expr === null) || stmt.kind === "LabeledStmt") {
    (stmt as Building<typeof stmt>).attributes = joined(stmt.attributes, attributes);
  }
}

export type { FunctionDef };
