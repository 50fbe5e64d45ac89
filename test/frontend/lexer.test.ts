// The C lexer: token kinds for C11 spellings, locations and flags against clang's own lexer
// (clang -Xclang -dump-tokens), and the hand-written scanner against the plain Chevrotain Lexer
// built from the same token types, on real headers.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiagnosticBag } from "../../compiler/diagnostics.js";
import { allTokens, chevrotainLexer, lexFile, type CToken } from "../../compiler/lexer.js";

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

  describe.skipIf(!hasClang)("against clang's lexer", () => {
    // A file without directives is lexed as is by clang -dump-tokens, so its token list is the oracle
    // for images, line:col and the LeadingSpace/StartOfLine flags.
    function clangTokens(
      path: string,
    ): { image: string; loc: string; space: boolean; start: boolean }[] {
      const out = spawnSync(
        "clang",
        ["-target", "bpf", "-fsyntax-only", "-Xclang", "-dump-tokens", path],
        {
          encoding: "utf8",
          maxBuffer: 1 << 28,
        },
      ).stderr;
      const tokens = [];
      // kind 'spelling'<TAB>flags (UnClean='...' may span lines)<TAB>Loc=<file:line:col>
      const re = /^\S+ '(.*?)'\t([^]*?)\tLoc=<[^\n>]*:(\d+):(\d+)>$/gm;
      for (const m of out.matchAll(re)) {
        if (m[1] === "" && m[2]!.trim() === "") continue; // eof
        tokens.push({
          image: m[1]!,
          loc: `${m[3]}:${m[4]}`,
          space: m[2]!.includes("[LeadingSpace]"),
          start: m[2]!.includes("[StartOfLine]"),
        });
      }
      return tokens;
    }

    function compareWithClang(text: string): void {
      const dir = mkdtempSync(join(tmpdir(), "tsbpf-lex-"));
      const path = join(dir, "input.c");
      writeFileSync(path, text);
      const theirs = clangTokens(path);
      const ours = lexFile(text, path);
      expect(ours.length).toBe(theirs.length);
      for (let i = 0; i < ours.length; i++) {
        const t: CToken = ours[i]!;
        const c = theirs[i]!;
        // clang's StartOfLine tokens count as spaced when stringized, which is what hasSpace means.
        const mine = {
          image: t.image,
          loc: `${t.line}:${t.col}`,
          space: t.hasSpace,
          start: t.atLineStart,
        };
        // (Before the first token, hasSpace says whether anything was skipped: not compared.)
        const expected = { ...c, space: i === 0 ? t.hasSpace : c.space || c.start };
        if (JSON.stringify(mine) !== JSON.stringify(expected)) {
          expect({ index: i, ...mine }).toEqual({ index: i, ...expected });
        }
      }
    }

    it("matches clang on libbpf's helper declarations (directives removed)", () => {
      const header = "/usr/include/bpf/bpf_helper_defs.h";
      if (!existsSync(header)) return console.log(`skipped: ${header} is not installed`);
      const text = readFileSync(header, "utf8").replace(/^#.*$/gm, "");
      compareWithClang(text);
    });

    it("matches clang on tricky spacing, comments, splices and literals", () => {
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
  });
});

describe("the hand-written scanner equals the Chevrotain Lexer", () => {
  function compareWithChevrotain(text: string, name: string): number {
    const reference = chevrotainLexer().tokenize(text);
    expect(reference.errors, name).toEqual([]);
    const ours = lexFile(text, name);
    const a = reference.tokens.map((t) => `${t.startOffset} ${t.tokenType.name} ${t.image}`);
    const b = ours.map((t) => `${t.startOffset} ${t.tokenType.name} ${t.image}`);
    if (a.join("\n") !== b.join("\n")) {
      const i = a.findIndex((x, k) => x !== b[k]);
      expect(b.slice(i, i + 5), name).toEqual(a.slice(i, i + 5));
    }
    return ours.length;
  }

  it("on the kernel and libbpf headers and the C library's", () => {
    const files = [
      "/usr/include/linux/bpf.h",
      "/usr/include/linux/ptrace.h",
      ...[
        "bpf_helpers.h",
        "bpf_helper_defs.h",
        "bpf_tracing.h",
        "bpf_core_read.h",
        "bpf_endian.h",
      ].map((f) => `/usr/include/bpf/${f}`),
      ...readdirSync("/usr/include")
        .filter((f) => f.endsWith(".h"))
        .map((f) => `/usr/include/${f}`),
    ].filter(existsSync);
    let tokens = 0;
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      // Files where a splice joins tokens are lexed after splicing: offsets differ by design.
      if (/[^ \t\r\n\\]\\\r?\n[^ \t\r\n]/.test(text)) continue;
      tokens += compareWithChevrotain(text, file);
    }
    console.log(`scanner = Chevrotain Lexer on ${files.length} headers, ${tokens} tokens`);
    expect(tokens).toBeGreaterThan(10000);
  });

  it("on generated token soup", () => {
    // A seeded mix of fragments that stress the boundaries between token kinds.
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
      "'",
      "'a'",
      '"',
      '"s"',
      '\\"',
      "\\",
      "\\\n",
      "/",
      "*",
      "//c\n",
      "/*c*/",
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
      "\n",
      "@",
      "`",
      "p-",
      "8",
      "ll",
      "U'",
      '"\\\\"',
    ];
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let round = 0; round < 300; round++) {
      let text = "";
      for (let i = 0; i < 40; i++) text += fragments[next() % fragments.length];
      if (/\/\*(?![^]*\*\/)/.test(text)) text += "*/"; // keep comments closed: the lexers differ only in the report
      if (/[^ \t\r\n\\]\\\r?\n[^ \t\r\n]/.test(text)) continue;
      compareWithChevrotain(text, `soup ${round}`);
    }
  });
});

describe.skipIf(!hasClang)("speed", () => {
  it("lexes a generated vmlinux.h", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-lex-"));
    const path = join(dir, "vmlinux.h");
    if (!existsSync("/sys/kernel/btf/vmlinux") || spawnSync("bpftool", ["version"]).status !== 0) {
      return console.log("skipped: needs /sys/kernel/btf/vmlinux and bpftool");
    }
    writeFileSync(
      path,
      execFileSync("bpftool", ["btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c"], {
        maxBuffer: 1 << 30,
      }),
    );
    const text = readFileSync(path, "utf8");
    let best = Infinity;
    let count = 0;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      count = lexFile(text, path).length;
      best = Math.min(best, performance.now() - started);
    }
    const lines = text.split("\n").length;
    console.log(
      `lexed vmlinux.h: ${(text.length / 1e6).toFixed(1)} MB, ${lines} lines, ${count} tokens in ${best.toFixed(0)} ms ` +
        `(${Math.round(lines / (best / 1000))} lines/s)`,
    );
    expect(count).toBeGreaterThan(100000);
  });
});
