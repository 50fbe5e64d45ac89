// compiler/types.ts against clang -target bpf: integer promotions and usual arithmetic
// conversions (read back through _Generic), type compatibility (__builtin_types_compatible_p),
// nested offsetof, and the type printer (clang's own spelling from -ast-dump).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  type CType,
  EnumDecl,
  Q_CONST,
  Q_VOLATILE,
  RecordDecl,
  TypedefDecl,
  addQuals,
  arrayOf,
  boolType,
  canonical,
  charType,
  compatible,
  completeEnum,
  compositeType,
  declToString,
  describeType,
  functionType,
  int128Type,
  intType,
  layoutRecord,
  longType,
  longlongType,
  offsetOf,
  pointerTo,
  promote,
  scharType,
  shortType,
  typeToString,
  uint128Type,
  uintType,
  ucharType,
  unqualified,
  ulongType,
  ulonglongType,
  ushortType,
  usualArithmeticConversion,
  voidType,
} from "../../compiler/types.js";
import { askClang, hasClang } from "./layout-oracle.js";

if (!hasClang) console.log("types differential tests skipped: clang is not installed");

const integerTypes = [
  boolType,
  charType,
  scharType,
  ucharType,
  shortType,
  ushortType,
  intType,
  uintType,
  longType,
  ulongType,
  longlongType,
  ulonglongType,
  int128Type,
  uint128Type,
];

// _Generic association numbers for the types an arithmetic result can have.
const resultTypes: CType[] = [
  intType,
  uintType,
  longType,
  ulongType,
  longlongType,
  ulonglongType,
  int128Type,
  uint128Type,
];
const genericList = resultTypes.map((t, i) => `${typeToString(t)}: ${i + 1}`).join(", ");

function resultNumber(t: CType): bigint {
  const c = canonical(t);
  const i = resultTypes.findIndex(
    (r) => r === c || (c.kind === "int" && r.kind === "int" && r.name === c.name),
  );
  return BigInt(i + 1);
}

// Two enums: one with an unsigned int underlying type, one with a long one.
function enums(): { decls: string; types: { type: CType; name: string }[] } {
  const small = new EnumDecl("small", undefined);
  completeEnum(small, [{ name: "SMALL", value: 1n }]);
  const neg = new EnumDecl("neg", undefined);
  completeEnum(neg, [{ name: "NEG", value: -1n }]);
  const big = new EnumDecl("big", undefined);
  completeEnum(big, [{ name: "BIG", value: -0x100000000n }]);
  return {
    decls: "enum small { SMALL = 1 }; enum neg { NEG = -1 }; enum big { BIG = -0x100000000LL };",
    types: [
      { type: small.type, name: "enum small" },
      { type: neg.type, name: "enum neg" },
      { type: big.type, name: "enum big" },
    ],
  };
}

describe.skipIf(!hasClang)("conversions equal clang's", () => {
  test("integer promotion of every integer and enum type", () => {
    const e = enums();
    const all = [
      ...integerTypes.map((t) => ({ type: t as CType, name: typeToString(t) })),
      ...e.types,
    ];
    const answers = askClang({
      declarations: e.decls,
      expressions: all.map((t) => `_Generic(+(${t.name})0, ${genericList}, default: 0)`),
    });
    expect(answers.values).toEqual(all.map((t) => resultNumber(promote(t.type))));
  });

  test("usual arithmetic conversions of every pair (14 integer types and 3 enums)", () => {
    const e = enums();
    const all = [
      ...integerTypes.map((t) => ({ type: t as CType, name: typeToString(t) })),
      ...e.types,
    ];
    const pairs = all.flatMap((a) => all.map((b) => [a, b] as const));
    const answers = askClang({
      declarations: e.decls,
      expressions: pairs.map(
        ([a, b]) => `_Generic((${a.name})0 + (${b.name})0, ${genericList}, default: 0)`,
      ),
    });
    expect(answers.values).toEqual(
      pairs.map(([a, b]) => resultNumber(usualArithmeticConversion(a.type, b.type))),
    );
    expect(pairs.length).toBe(289);
  });

  test("bit-field promotion by width and type", () => {
    const fields: { type: CType; width: number }[] = [];
    for (const t of [
      charType,
      ucharType,
      shortType,
      ushortType,
      intType,
      uintType,
      longType,
      ulongType,
    ]) {
      for (const width of [1, 7, 8, 15, 16, 31, 32, 33, 63, 64]) {
        if (width <= (canonical(t) as { size: number }).size * 8) fields.push({ type: t, width });
      }
    }
    const body = fields.map((f, i) => `  ${typeToString(f.type)} f${i} : ${f.width};`).join("\n");
    const answers = askClang({
      declarations: `struct bf {\n${body}\n};`,
      expressions: fields.map(
        (_, i) => `_Generic(+((struct bf *)0)->f${i}, ${genericList}, default: 0)`,
      ),
    });
    expect(answers.values).toEqual(fields.map((f) => resultNumber(promote(f.type, f.width))));
  });
});

describe.skipIf(!hasClang)("compatibility equals __builtin_types_compatible_p", () => {
  test("pairs of pointers, arrays, functions, qualifiers, enums and typedefs", () => {
    const small = new EnumDecl("small", undefined);
    completeEnum(small, [{ name: "SMALL", value: 1n }]);
    const neg = new EnumDecl("neg", undefined);
    completeEnum(neg, [{ name: "NEG", value: -1n }]);
    const rec = new RecordDecl(false, "r", undefined);
    layoutRecord(rec, [{ name: "a", type: intType }]);
    const u32 = new TypedefDecl("u32_t", uintType, 0, undefined).type;
    const vp = pointerTo(voidType);
    const types: { type: CType; text: string }[] = [];
    const add = (type: CType) => types.push({ type, text: typeToString(type) });
    add(intType);
    add(uintType);
    add(addQuals(intType, Q_CONST));
    add(small.type);
    add(neg.type);
    add(u32);
    add(pointerTo(intType));
    add(pointerTo(uintType));
    add(pointerTo(u32));
    add(pointerTo(addQuals(intType, Q_CONST)));
    add(addQuals(pointerTo(intType), Q_CONST));
    add(vp);
    add(arrayOf(intType, 3));
    add(arrayOf(intType, 4));
    add(arrayOf(intType, undefined));
    add(pointerTo(arrayOf(intType, 3)));
    add(pointerTo(arrayOf(intType, undefined)));
    add(pointerTo(functionType(intType, [{ name: undefined, type: vp }], false)));
    add(
      pointerTo(functionType(intType, [{ name: undefined, type: addQuals(vp, Q_CONST) }], false)),
    );
    add(pointerTo(functionType(intType, [], false, false)));
    add(pointerTo(functionType(intType, [{ name: undefined, type: charType }], false)));
    add(pointerTo(functionType(intType, [{ name: undefined, type: intType }], false)));
    add(pointerTo(functionType(intType, [{ name: undefined, type: intType }], true)));
    add(rec.type);
    add(addQuals(rec.type, Q_VOLATILE));
    const pairs = types.flatMap((a) => types.map((b) => [a, b] as const));
    const answers = askClang({
      declarations:
        "enum small { SMALL = 1 }; enum neg { NEG = -1 }; struct r { int a; }; typedef unsigned int u32_t;",
      expressions: pairs.map(([a, b]) => `__builtin_types_compatible_p(${a.text}, ${b.text})`),
    });
    const mismatches = pairs
      // The builtin ignores top-level qualifiers.
      .map(([a, b], i) => ({
        a: a.text,
        b: b.text,
        clang: answers.values[i],
        ours: compatible(unqualified(canonical(a.type)), unqualified(canonical(b.type))) ? 1n : 0n,
      }))
      .filter((x) => x.clang !== x.ours);
    expect(mismatches).toEqual([]);
  });
});

describe.skipIf(!hasClang)("offsetof with nested designators equals clang's", () => {
  test("members of nested records and array elements", () => {
    const inner = new RecordDecl(false, "inner", undefined);
    layoutRecord(inner, [
      { name: "c", type: charType },
      { name: "v", type: arrayOf(longType, 3) },
    ]);
    const outer = new RecordDecl(false, "outer", undefined);
    const anon = new RecordDecl(true, undefined, undefined);
    layoutRecord(anon, [
      { name: "x", type: shortType },
      { name: "y", type: arrayOf(inner.type, 2) },
    ]);
    layoutRecord(outer, [
      { name: "a", type: charType },
      { name: undefined, type: anon.type },
      { name: "m", type: arrayOf(arrayOf(inner.type, 2), 3) },
    ]);
    const paths = [
      { text: "a", path: [{ field: "a" }] },
      { text: "x", path: [{ field: "x" }] },
      { text: "y[1].v[2]", path: [{ field: "y" }, { index: 1 }, { field: "v" }, { index: 2 }] },
      { text: "m[2][1].c", path: [{ field: "m" }, { index: 2 }, { index: 1 }, { field: "c" }] },
      { text: "m[1]", path: [{ field: "m" }, { index: 1 }] },
    ];
    const answers = askClang({
      declarations:
        "struct inner { char c; long v[3]; }; struct outer { char a; union { short x; struct inner y[2]; }; struct inner m[3][2]; };",
      expressions: paths.map((p) => `__builtin_offsetof(struct outer, ${p.text})`),
    });
    expect(answers.values).toEqual(paths.map((p) => BigInt(offsetOf(outer.type, p.path))));
  });
});

// clang's own spelling of each declared variable's type, from -ast-dump.
function clangTypeSpellings(declarations: string, count: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-types-"));
  try {
    const file = join(dir, "printer.c");
    writeFileSync(file, declarations);
    const dump = execFileSync(
      "clang",
      ["-target", "bpf", "-fsyntax-only", "-fno-color-diagnostics", "-Xclang", "-ast-dump", file],
      {
        maxBuffer: 1 << 26,
      },
    ).toString();
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const m = new RegExp(`(?:VarDecl|FunctionDecl) .* v${i} '([^']*)'`).exec(dump);
      out.push(m ? m[1]! : "?");
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasClang)("the type printer spells types as clang does", () => {
  test("declarators, qualifiers and typedef sugar", () => {
    const u32 = new TypedefDecl("__u32", uintType, 0, undefined).type;
    const fp = new TypedefDecl(
      "fp_t",
      pointerTo(functionType(intType, [{ name: undefined, type: pointerTo(voidType) }], false)),
      0,
      undefined,
    ).type;
    const rec = new RecordDecl(false, "task_struct", undefined);
    const types: CType[] = [
      pointerTo(rec.type),
      pointerTo(u32),
      fp,
      arrayOf(addQuals(pointerTo(addQuals(charType, Q_CONST)), Q_CONST), 3),
      pointerTo(arrayOf(intType, 4)),
      pointerTo(functionType(voidType, [{ name: undefined, type: intType }], true)),
      pointerTo(functionType(pointerTo(intType), [], false)),
      addQuals(u32, Q_VOLATILE),
      addQuals(intType, Q_CONST | Q_VOLATILE),
      arrayOf(arrayOf(shortType, 3), 2),
      pointerTo(pointerTo(pointerTo(charType))),
      addQuals(pointerTo(addQuals(pointerTo(intType), Q_CONST)), Q_VOLATILE),
      arrayOf(pointerTo(functionType(intType, [{ name: undefined, type: longType }], false)), 2),
      pointerTo(
        functionType(pointerTo(arrayOf(intType, 5)), [{ name: undefined, type: charType }], false),
      ),
      ulonglongType,
      uint128Type,
    ];
    const decls = [
      "typedef unsigned int __u32;",
      "typedef int (*fp_t)(void *);",
      "struct task_struct;",
      ...types.map((t, i) => `extern ${declToString(t, `v${i}`)};`),
    ].join("\n");
    expect(clangTypeSpellings(decls, types.length)).toEqual(types.map(typeToString));
  });

  test("aka text for typedef sugar", () => {
    const u32 = new TypedefDecl("__u32", uintType, 0, undefined).type;
    expect(describeType(pointerTo(u32))).toBe("'__u32 *' (aka 'unsigned int *')");
    expect(describeType(intType)).toBe("'int'");
  });

  test("composite type takes the array length and the prototype", () => {
    const a = compositeType(arrayOf(intType, undefined), arrayOf(intType, 5));
    expect(typeToString(a)).toBe("int[5]");
    const f = compositeType(
      functionType(intType, [], false, false),
      functionType(intType, [{ name: "x", type: longType }], false),
    );
    expect(typeToString(f)).toBe("int (long)");
  });
});
