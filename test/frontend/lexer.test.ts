// The C lexer (Chevrotain's Lexer over compiler/lexer.ts's token types): token kinds for C11
// spellings, and kinds, locations and flags against clang's own lexer (clang -Xclang -dump-tokens)
// on real headers, a generated vmlinux.h and generated token soup.
import { execFileSync, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiagnosticBag } from "../../compiler/diagnostics.js";
import { Lexer } from "../../compiler/chevrotain.js";
import { allTokens, keywordBySpelling, lexFile, type CToken } from "../../compiler/lexer.js";

const hasClang = spawnSync("clang", ["--version"]).status === 0;
if (!hasClang) console.log("lexer tests against clang skipped: clang is not installed");

function kinds(text: string): string[] {
  return lexFile(text, "t.c").map((t) => `${t.tokenType.name} ${t.image}`);
}

describe("token kinds", () => {
  it("types every C11 punctuator, longest match first, digraphs included", () => {
    const spellings =
      "[ ] ( ) { } . -> ++ -- & * + - ~ ! / % << >> < > <= >= == != ^ | && || ? : ; ... = *= /= %= += -= <<= >>= &= ^= |= , # ## <: :> <% %> %: %:%:";
    expect(kinds(spellings).map((k) => k.split(" ")[0])).toEqual(
      (
        "LBracket RBracket LParen RParen LBrace RBrace Dot Arrow PlusPlus MinusMinus Amp Star Plus Minus Tilde " +
        "Bang Slash Percent LShift RShift Less Greater LessEqual GreaterEqual EqualEqual BangEqual Caret Pipe " +
        "AmpAmp PipePipe Question Colon Semicolon Ellipsis Assign StarAssign SlashAssign PercentAssign " +
        "PlusAssign MinusAssign LShiftAssign RShiftAssign AmpAssign CaretAssign PipeAssign Comma Hash HashHash " +
        "LBracket RBracket LBrace RBrace Hash HashHash"
      ).split(" "),
    );
    // Without blanks the longest punctuator wins at each point (C11 6.4p4).
    expect(kinds("a+++++b x->y<<=1 .. ...")).toEqual([
      "Identifier a",
      "PlusPlus ++",
      "PlusPlus ++",
      "Plus +",
      "Identifier b",
      "Identifier x",
      "Arrow ->",
      "Identifier y",
      "LShiftAssign <<=",
      "IntegerConstant 1",
      "Dot .",
      "Dot .",
      "Ellipsis ...",
    ]);
  });

  it("tells integer, floating and other preprocessing numbers apart", () => {
    expect(
      kinds(
        "0 42 0x1F 0777 0b101 1u 2UL 3ll 4LLU 5lu 1.5 .5 1. 1e10 1.5e-3f 0x1p3 0x1.8p-1L 0x1e+1 1abc 08 1..2",
      ),
    ).toEqual([
      "IntegerConstant 0",
      "IntegerConstant 42",
      "IntegerConstant 0x1F",
      "IntegerConstant 0777",
      "IntegerConstant 0b101",
      "IntegerConstant 1u",
      "IntegerConstant 2UL",
      "IntegerConstant 3ll",
      "IntegerConstant 4LLU",
      "IntegerConstant 5lu",
      "FloatConstant 1.5",
      "FloatConstant .5",
      "FloatConstant 1.",
      "FloatConstant 1e10",
      "FloatConstant 1.5e-3f",
      "FloatConstant 0x1p3",
      "FloatConstant 0x1.8p-1L",
      "PPNumber 0x1e+1",
      "PPNumber 1abc",
      "IntegerConstant 08", // a pp-number of digits: the octal check belongs to whoever evaluates it
      "PPNumber 1..2",
    ]);
  });

  it("lexes character constants and string literals with prefixes and escapes", () => {
    expect(
      kinds(`'a' '\\'' '\\n' L'x' u'y' U'z' u8'w' "s" "a\\"b" L"w" u8"u" u"v" U"V" ""`),
    ).toEqual([
      "CharConstant 'a'",
      "CharConstant '\\''",
      "CharConstant '\\n'",
      "CharConstant L'x'",
      "CharConstant u'y'",
      "CharConstant U'z'",
      "CharConstant u8'w'",
      'StringLiteral "s"',
      'StringLiteral "a\\"b"',
      'StringLiteral L"w"',
      'StringLiteral u8"u"',
      'StringLiteral u"v"',
      'StringLiteral U"V"',
      'StringLiteral ""',
    ]);
    // A prefix letter alone is an identifier.
    expect(kinds("L u8 U x")).toEqual([
      "Identifier L",
      "Identifier u8",
      "Identifier U",
      "Identifier x",
    ]);
  });

  it("types keywords, with the GNU spellings sharing the C keyword's type", () => {
    const pairs: [string, string][] = [
      ["int", "Int"],
      ["struct", "Struct"],
      ["do", "Do"],
      ["double", "Double"],
      ["inline", "Inline"],
      ["__inline", "Inline"],
      ["__inline__", "Inline"],
      ["__attribute__", "Attribute"],
      ["__attribute", "Attribute"],
      ["__extension__", "Extension"],
      ["__restrict", "Restrict"],
      ["__restrict__", "Restrict"],
      ["__volatile__", "Volatile"],
      ["__const", "Const"],
      ["__signed__", "Signed"],
      ["asm", "Asm"],
      ["__asm__", "Asm"],
      ["__asm", "Asm"],
      ["typeof", "Typeof"],
      ["__typeof__", "Typeof"],
      ["__typeof", "Typeof"],
      ["_Bool", "Bool"],
      ["_Static_assert", "StaticAssert"],
      ["_Alignof", "Alignof"],
      ["__alignof__", "Alignof"],
      ["_Alignas", "Alignas"],
      ["__int128", "Int128"],
      ["__builtin_va_list", "BuiltinVaList"],
      ["__builtin_offsetof", "BuiltinOffsetof"],
      ["_Noreturn", "Noreturn"],
      ["_Thread_local", "ThreadLocal"],
      ["__auto_type", "AutoType"],
    ];
    for (const [spelling, name] of pairs) expect(kinds(spelling)).toEqual([`${name} ${spelling}`]);
    // Longer identifiers that start with a keyword are identifiers.
    expect(kinds("integer __inline__x doubled")).toEqual([
      "Identifier integer",
      "Identifier __inline__x",
      "Identifier doubled",
    ]);
    // Every keyword is also an IdentifierOrKeyword, as macro names may be keywords.
    const category = allTokens.find((t) => t.name === "IdentifierOrKeyword")!;
    for (const [spelling] of pairs) {
      const t = lexFile(spelling, "t.c")[0]!;
      expect(t.tokenType.CATEGORIES).toContain(category);
    }
  });

  it("keeps unknown characters and unterminated literals as tokens; reports an unterminated comment", () => {
    expect(kinds("@ ` \\ x \"abc\n'd\ny")).toEqual([
      "Other @",
      "Other `",
      "Other \\",
      "Identifier x",
      'UnterminatedString "abc',
      "UnterminatedChar 'd",
      "Identifier y",
    ]);
    const bag = new DiagnosticBag();
    const tokens = lexFile("int a;\n  /* never closed\n", "u.c", bag);
    expect(tokens.map((t) => t.image)).toEqual(["int", "a", ";"]);
    expect(bag.items).toEqual([
      {
        severity: "error",
        message: "unterminated /* comment",
        loc: { file: "u.c", line: 2, col: 3 },
        notes: [],
      },
    ]);
  });
});

describe("locations and line flags", () => {
  it("tracks lines through comments, splices and multi-line literals", () => {
    const tokens = lexFile(
      'a /* x\n y */ b // c \\\n still comment\n  #define\\\n X "s\\\n t" z\n',
      "t.c",
    );
    const shown = tokens.map(
      (t) =>
        `${t.image}@${t.line}:${t.col}${t.hasSpace ? " sp" : ""}${t.atLineStart ? " bol" : ""}`,
    );
    expect(shown).toEqual([
      "a@1:1 bol",
      "b@2:7 sp", // a newline inside a comment does not end a line for directives
      "#@4:3 sp bol",
      "define@4:4",
      "X@5:2 sp", // the splice continues the directive line
      '"s\\\n t"@5:4 sp',
      "z@6:5 sp",
    ]);
  });

  it("joins a token split by a backslash-newline, as translation phase 2 does", () => {
    const tokens = lexFile("int fo\\\no = 1;\nx+\\\n+;\n", "t.c");
    expect(tokens.map((t) => `${t.image}@${t.line}:${t.col}`)).toEqual([
      "int@1:1",
      "foo@1:5",
      "=@2:3",
      "1@2:5",
      ";@2:6",
      "x@3:1",
      "++@3:2",
      ";@4:2",
    ]);
  });

  it("accepts Chevrotain's checks of the token definitions (lexFile skips them)", () => {
    const checked = new Lexer(allTokens, {
      positionTracking: "onlyOffset",
      ensureOptimizations: true,
    });
    expect(checked.lexerDefinitionErrors).toEqual([]);
    const text = "int __u32 u8 L'x' u\"s\" __inline__x do double <: 0x1e+1 @";
    // lexFile types a keyword as it makes the token: to a plain Lexer every word is an Identifier.
    const asWords = kinds(text).map((kind) => {
      const image = kind.slice(kind.indexOf(" ") + 1);
      return keywordBySpelling.has(image) ? `Identifier ${image}` : kind;
    });
    expect(checked.tokenize(text).tokens.map((t) => `${t.tokenType.name} ${t.image}`)).toEqual(
      asWords,
    );
  });
});

describe.skipIf(!hasClang)("against clang's lexer", () => {
  // A file without directives is lexed as is by clang -dump-tokens, so its token list is the oracle
  // for kinds, images, line:col and the LeadingSpace/StartOfLine flags.
  interface ClangToken {
    kind: string;
    image: string;
    loc: string;
    space: boolean;
    start: boolean;
  }

  function clangTokens(path: string): ClangToken[] {
    // Into a file: clang writes the dump a line at a time, slow through a pipe.
    const dump = `${path}.tokens`;
    const out = openSync(dump, "w");
    spawnSync(
      "clang",
      // -undef: no predefined macro (__SIZE_TYPE__, ...) is expanded in the headers' text.
      ["-undef", "-target", "bpf", "-fsyntax-only", "-Xclang", "-dump-tokens", path],
      { stdio: ["ignore", "ignore", out] },
    );
    closeSync(out);
    const tokens: ClangToken[] = [];
    // kind 'spelling'<TAB>flags (UnClean='...' may span lines)<TAB>Loc=<file:line:col>
    const re = /^(\w+) '(.*?)'\t([^]*?)\tLoc=<[^\n>]*:(\d+):(\d+)>$/gm;
    for (const m of readFileSync(dump, "utf8").matchAll(re)) {
      if (m[1] === "eof") continue;
      tokens.push({
        kind: m[1]!,
        image: m[2]!,
        loc: `${m[4]}:${m[5]}`,
        space: m[3]!.includes("[LeadingSpace]"),
        start: m[3]!.includes("[StartOfLine]"),
      });
    }
    return tokens;
  }

  // clang's kind names for our punctuator types (digraphs have the kind of what they stand for).
  const punctuatorKinds: Record<string, string> = {
    LBracket: "l_square",
    RBracket: "r_square",
    LParen: "l_paren",
    RParen: "r_paren",
    LBrace: "l_brace",
    RBrace: "r_brace",
    Dot: "period",
    Arrow: "arrow",
    PlusPlus: "plusplus",
    MinusMinus: "minusminus",
    Amp: "amp",
    Star: "star",
    Plus: "plus",
    Minus: "minus",
    Tilde: "tilde",
    Bang: "exclaim",
    Slash: "slash",
    Percent: "percent",
    LShift: "lessless",
    RShift: "greatergreater",
    Less: "less",
    Greater: "greater",
    LessEqual: "lessequal",
    GreaterEqual: "greaterequal",
    EqualEqual: "equalequal",
    BangEqual: "exclaimequal",
    Caret: "caret",
    Pipe: "pipe",
    AmpAmp: "ampamp",
    PipePipe: "pipepipe",
    Question: "question",
    Colon: "colon",
    Semicolon: "semi",
    Ellipsis: "ellipsis",
    Assign: "equal",
    StarAssign: "starequal",
    SlashAssign: "slashequal",
    PercentAssign: "percentequal",
    PlusAssign: "plusequal",
    MinusAssign: "minusequal",
    LShiftAssign: "lesslessequal",
    RShiftAssign: "greatergreaterequal",
    AmpAssign: "ampequal",
    CaretAssign: "caretequal",
    PipeAssign: "pipeequal",
    Comma: "comma",
    Hash: "hash",
    HashHash: "hashhash",
  };
  const literalPrefix: Record<string, string> = {
    L: "wide_",
    u8: "utf8_",
    u: "utf16_",
    U: "utf32_",
  };

  /** The kind clang would give our token; every keyword of ours is just "keyword". */
  function clangKind(t: CToken): string {
    const name = t.tokenType.name;
    if (name === "Identifier") return "identifier";
    if (name === "IntegerConstant" || name === "FloatConstant" || name === "PPNumber")
      return "numeric_constant";
    // clang gives an unterminated literal the kind of a character it does not know.
    if (name === "Other" || name === "UnterminatedChar" || name === "UnterminatedString")
      return "unknown";
    if (name === "StringLiteral" || name === "CharConstant") {
      const prefix = /^(u8|u|U|L)?/.exec(t.image)![0];
      return (
        (literalPrefix[prefix] ?? "") +
        (name === "StringLiteral" ? "string_literal" : "char_constant")
      );
    }
    return punctuatorKinds[name] ?? "keyword";
  }

  const clangNonKeywordKinds = new Set([
    "identifier",
    "numeric_constant",
    "unknown",
    ...Object.values(punctuatorKinds),
    ...["", ...Object.values(literalPrefix)].flatMap((p) => [
      `${p}string_literal`,
      `${p}char_constant`,
    ]),
  ]);

  // Our keywords that clang reads as identifiers: a builtin typedef name to clang, a keyword to
  // our parser.
  const ourKeywordsClangNames = new Set(["__builtin_va_list"]);
  // clang's keywords that are names to us: no BPF program can use them.
  const clangKeywordsOurNames = new Set(["_Float16"]);

  function compareWithClang(text: string, name = "input.c"): number {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-lex-"));
    const path = join(dir, name);
    writeFileSync(path, text);
    const theirs = clangTokens(path);
    const ours = lexFile(text, path);
    const count = Math.min(ours.length, theirs.length);
    for (let i = 0; i < count; i++) {
      const t: CToken = ours[i]!;
      const c = theirs[i]!;
      const kind = clangNonKeywordKinds.has(c.kind) ? c.kind : "keyword";
      // clang's StartOfLine tokens count as spaced when stringized, which is what hasSpace means.
      // (Before the first token, hasSpace says whether anything was skipped: not compared.)
      const space = i === 0 ? t.hasSpace : c.space || c.start;
      const mine = clangKind(t);
      const same =
        (mine === kind ||
          (mine === "keyword" && ourKeywordsClangNames.has(t.image)) ||
          (kind === "keyword" && clangKeywordsOurNames.has(t.image))) &&
        // clang shows a spliced token's spelling without its splices.
        (t.image === c.image || t.image.replace(/\\\r?\n/g, "") === c.image) &&
        `${t.line}:${t.col}` === c.loc &&
        t.hasSpace === space &&
        t.atLineStart === c.start;
      if (!same) {
        const at = { file: name, index: i };
        expect({ ...at, kind: mine, image: t.image, loc: `${t.line}:${t.col}` }).toEqual({
          ...at,
          kind,
          image: c.image,
          loc: c.loc,
        });
        expect({ ...at, space: t.hasSpace, start: t.atLineStart }).toEqual({
          ...at,
          space,
          start: c.start,
        });
      }
    }
    expect(ours.length, name).toBe(theirs.length);
    return ours.length;
  }

  /** A header with its directive lines (and their continuations) left out. */
  function withoutDirectives(text: string): string {
    return text.replace(/^[ \t]*#(?:.*\\\r?\n)*.*$/gm, "");
  }

  it("on libbpf's helper declarations", () => {
    const header = "/usr/include/bpf/bpf_helper_defs.h";
    if (!existsSync(header)) return console.log(`skipped: ${header} is not installed`);
    expect(compareWithClang(withoutDirectives(readFileSync(header, "utf8")))).toBeGreaterThan(5000);
  });

  it("on tricky spacing, comments, splices and literals", () => {
    compareWithClang(
      [
        "int a; /* c */ int\tb ;",
        '  x = \'c\' + L\'\\0\' + u8"s" "t\\""; // tail \\',
        "still in the comment",
        "y = a+++b-->c<<=d ... e.f->g;",
        "/* multi",
        "line */ z = 0x1fULL + 1.5e+3 + 0x1p-2 + .5 + 1e5;",
        's = "a\\',
        'b";',
        "w = fo\\",
        "o;",
      ].join("\n") + "\n",
    );
  });

  // (clang writes -dump-tokens unbuffered, a system call per line: some seconds per 100000 tokens.)
  it("on the kernel, libbpf and C library headers (directives left out)", () => {
    const files = [
      "/usr/include/linux/bpf.h",
      "/usr/include/linux/ptrace.h",
      ...(existsSync("/usr/include/bpf") ? readdirSync("/usr/include/bpf") : [])
        .filter((f) => f.endsWith(".h"))
        .map((f) => `/usr/include/bpf/${f}`),
      ...readdirSync("/usr/include")
        .filter((f) => f.endsWith(".h"))
        .map((f) => `/usr/include/${f}`),
    ].filter(existsSync);
    // All in one file, so that one clang run checks them.
    const text = files.map((f) => withoutDirectives(readFileSync(f, "utf8"))).join("\n");
    const tokens = compareWithClang(text, "headers.c");
    console.log(`lexer = clang on ${files.length} headers, ${tokens} tokens`);
    expect(tokens).toBeGreaterThan(100000);
  }, 120_000);

  it("on a vmlinux.h generated from this machine's BTF (its first 30000 lines)", () => {
    if (!existsSync("/sys/kernel/btf/vmlinux") || spawnSync("bpftool", ["version"]).status !== 0) {
      return console.log("skipped: needs /sys/kernel/btf/vmlinux and bpftool");
    }
    const text = execFileSync(
      "bpftool",
      ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"],
      { maxBuffer: 1 << 30, encoding: "utf8" },
    );
    const head = text.split("\n").slice(0, 30000).join("\n") + "\n";
    const tokens = compareWithClang(withoutDirectives(head), "vmlinux.c");
    console.log(`lexer = clang on vmlinux.h: ${tokens} tokens`);
    expect(tokens).toBeGreaterThan(50000);
  }, 120_000);

  it("on generated token soup", () => {
    // A seeded mix of fragments that stress the boundaries between token kinds. Every line starts
    // with `x`, so that no `#` starts a directive; literals are complete (an unterminated one is
    // clang's error, ours is a token for the preprocessor to judge).
    const fragments = [
      "a",
      "_x9",
      "$y",
      "L",
      "u8",
      "U",
      "u",
      "0",
      "0x",
      "0x1f",
      "1e",
      "1e+",
      "1.",
      ".",
      "..",
      "...",
      "e+1",
      "'a'",
      "L'b'",
      '"s"',
      'u"t"',
      "\\",
      "\\\n",
      "\\\r\n",
      "/",
      "*",
      "//c\nx ",
      "/*c*/",
      "/*\n*/",
      "<",
      ":",
      "%",
      ">",
      "=",
      "-",
      "+",
      "&",
      "|",
      "#",
      "##",
      "%:",
      " ",
      "\t",
      "\f",
      "\v",
      "\nx ",
      "\r\nx ",
      "@",
      "`",
      "p-",
      "8",
      "ll",
      '"\\\\"',
      "int",
      "__inline__",
      "do",
      "double",
    ];
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const rounds: string[] = [];
    for (let round = 0; round < 2000; round++) {
      let text = "x ";
      for (let i = 0; i < 40; i++) text += fragments[next() % fragments.length];
      rounds.push(text);
    }
    const soup = (rounds.join("\n\nx ") + "\n")
      // u8'c' is a character constant only from C2x on: clang's C17 lexer reads u8 and 'c'.
      .replace(/u8'/g, "u8 '")
      // clang also splices a backslash separated from its newline by blanks (a GNU extension).
      .replace(/\\(?=[ \t\f\v]+\r?\n)/g, "\\@");
    compareWithClang(soup, "soup.c");
  });
});
