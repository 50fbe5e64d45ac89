// Layout differential test: records, enums and bit-fields built with compiler/types.ts are
// printed as C, compiled by clang -target bpf, and every sizeof/_Alignof/offsetof and every
// bit-field position must equal clang's. Hand-written tricky cases plus a seeded random
// generator of a few hundred more.
import { describe, expect, test } from "vitest";
import {
  type CType,
  type FieldDecl,
  type RecordAttrs,
  EnumDecl,
  RecordDecl,
  TypedefDecl,
  arrayOf,
  boolType,
  charType,
  completeEnum,
  layoutRecord,
  declToString,
  intType,
  longType,
  longlongType,
  pointerTo,
  scharType,
  shortType,
  uintType,
  ulongType,
  ulonglongType,
  ucharType,
  ushortType,
  int128Type,
  functionType,
  voidType,
  sizeOf,
  alignOf,
  canonical,
  typeToString,
} from "../../compiler/types.js";
import { askClang, hasBpftool, hasClang, type OracleQuery } from "./layout-oracle.js";
import { checkProgram } from "../../compiler/frontend.js";
import { makePrng } from "../../runtime/object/fuzz.js";

const hasTools = hasClang && hasBpftool;
if (!hasTools)
  console.log("layout differential test skipped: needs clang and bpftool (for clang's BTF)");

// A record under test: its C definition and the decl our layout code filled in.
interface RecordCase {
  decl: RecordDecl;
  cType: string; // 'struct name'
  text: string; // the C definition (with any #pragma pack around it)
}

interface EnumCase {
  decl: EnumDecl;
  text: string;
}

class Corpus {
  readonly texts: string[] = [];
  readonly records: RecordCase[] = [];
  readonly enums: EnumCase[] = [];
  readonly typedefs: CType[] = [];
  private counter = 0;

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  typedef(target: CType, alignAttr = 0): CType {
    const name = this.fresh("td");
    const decl = new TypedefDecl(name, target, alignAttr, undefined);
    const attr = alignAttr ? ` __attribute__((aligned(${alignAttr})))` : "";
    this.texts.push(`typedef ${declToString(target, name)}${attr};`);
    this.typedefs.push(decl.type);
    return decl.type;
  }

  enumeration(values: bigint[], packed = false): CType {
    const tag = this.fresh("e");
    const decl = new EnumDecl(tag, undefined);
    decl.packed = packed;
    const constants = values.map((value, i) => ({ name: `${tag}_c${i}`, value }));
    completeEnum(decl, constants);
    const body = constants.map((c) => `${c.name} = ${cLiteral(c.value)}`).join(", ");
    const text = `enum ${packed ? "__attribute__((packed)) " : ""}${tag} { ${body} };`;
    this.texts.push(text);
    this.enums.push({ decl, text });
    return decl.type;
  }

  // Defines a named record; fields may contain anonymous records made by `anonymous`.
  record(isUnion: boolean, fields: FieldSpec[], attrs: RecordAttrs = {}): CType {
    const tag = this.fresh(isUnion ? "u" : "s");
    const decl = new RecordDecl(isUnion, tag, undefined);
    const { decls, body } = lowerFields(fields, attrs.maxFieldAlign);
    layoutRecord(decl, decls, attrs);
    let text = `${isUnion ? "union" : "struct"} ${tag} {\n${body}}${recordAttrText(attrs)};`;
    if (attrs.maxFieldAlign)
      text = `#pragma pack(push, ${attrs.maxFieldAlign})\n${text}\n#pragma pack(pop)`;
    this.texts.push(text);
    this.records.push({ decl, cType: `${isUnion ? "union" : "struct"} ${tag}`, text });
    return decl.type;
  }
}

interface FieldSpec {
  name?: string;
  type?: CType;
  bitWidth?: number;
  packed?: boolean;
  alignAttr?: number;
  // An anonymous struct/union member defined inline.
  anonymous?: { isUnion: boolean; fields: FieldSpec[]; attrs?: RecordAttrs };
}

function recordAttrText(attrs: RecordAttrs): string {
  const parts: string[] = [];
  if (attrs.packed) parts.push("packed");
  if (attrs.alignAttr) parts.push(`aligned(${attrs.alignAttr})`);
  return parts.length ? ` __attribute__((${parts.join(", ")}))` : "";
}

// `maxFieldAlign`: a #pragma pack around the outer record applies to records defined inside.
function lowerFields(
  fields: FieldSpec[],
  maxFieldAlign?: number,
): { decls: FieldDecl[]; body: string } {
  const decls: FieldDecl[] = [];
  let body = "";
  for (const f of fields) {
    if (f.anonymous) {
      const inner = new RecordDecl(f.anonymous.isUnion, undefined, undefined);
      const lowered = lowerFields(f.anonymous.fields, maxFieldAlign);
      layoutRecord(inner, lowered.decls, { ...f.anonymous.attrs, maxFieldAlign });
      const kw = f.anonymous.isUnion ? "union" : "struct";
      body += `  ${kw} {\n${lowered.body}  }${recordAttrText(f.anonymous.attrs ?? {})}${memberAttrText(f)};\n`;
      decls.push({ name: undefined, type: inner.type, packed: f.packed, alignAttr: f.alignAttr });
      continue;
    }
    const type = f.type!;
    const declText = f.name === undefined ? declToString(type, "") : declToString(type, f.name);
    const width = f.bitWidth !== undefined ? ` : ${f.bitWidth}` : "";
    body += `  ${declText}${width}${memberAttrText(f)};\n`;
    decls.push({
      name: f.name,
      type,
      bitWidth: f.bitWidth,
      packed: f.packed,
      alignAttr: f.alignAttr,
    });
  }
  return { decls, body };
}

function memberAttrText(f: FieldSpec): string {
  const parts: string[] = [];
  if (f.packed) parts.push("packed");
  if (f.alignAttr) parts.push(`aligned(${f.alignAttr})`);
  return parts.length ? ` __attribute__((${parts.join(", ")}))` : "";
}

function cLiteral(v: bigint): string {
  if (v < 0n) return `(${v + 1n}LL - 1)`;
  return `${v}ULL`;
}

// ---------------------------------------------------------------------------------------
// Hand-written cases: the rules that usually go wrong.

function handCases(c: Corpus): void {
  const u8 = ucharType;
  // Plain padding and tail padding.
  c.record(false, [
    { name: "c", type: charType },
    { name: "l", type: longType },
    { name: "s", type: shortType },
  ]);
  c.record(false, [
    { name: "a", type: int128Type },
    { name: "b", type: charType },
  ]);
  c.record(false, []); // empty struct (GNU): size 0
  c.record(true, [
    { name: "a", type: charType },
    { name: "b", type: arrayOf(shortType, 3) },
  ]);
  // Bit-fields: packing into units, crossing, zero-width, unnamed, mixed types.
  c.record(false, [
    { name: "a", type: intType, bitWidth: 3 },
    { name: "b", type: intType, bitWidth: 30 },
  ]);
  c.record(false, [
    { name: "a", type: charType },
    { name: "b", type: intType, bitWidth: 25 },
  ]);
  c.record(false, [
    { name: "a", type: charType },
    { name: "b", type: intType, bitWidth: 24 },
  ]);
  c.record(false, [
    { name: "a", type: charType },
    { type: intType, bitWidth: 0 },
    { name: "b", type: charType },
  ]);
  c.record(false, [
    { name: "a", type: charType },
    { type: longType, bitWidth: 0 },
    { name: "b", type: charType },
  ]);
  c.record(false, [
    { name: "a", type: charType },
    { type: intType, bitWidth: 3 },
  ]);
  c.record(false, [
    { type: longType, bitWidth: 5 },
    { name: "a", type: charType },
  ]);
  c.record(false, [
    { name: "a", type: longlongType, bitWidth: 40 },
    { name: "b", type: longlongType, bitWidth: 30 },
  ]);
  c.record(false, [
    { name: "a", type: u8, bitWidth: 7 },
    { name: "b", type: u8, bitWidth: 2 },
    { name: "c", type: ushortType, bitWidth: 9 },
  ]);
  c.record(false, [
    { name: "a", type: boolType, bitWidth: 1 },
    { name: "b", type: boolType },
    { name: "c", type: boolType, bitWidth: 1 },
  ]);
  c.record(false, [
    { name: "a", type: int128Type, bitWidth: 100 },
    { name: "b", type: charType, bitWidth: 3 },
  ]);
  c.record(true, [
    { name: "a", type: intType, bitWidth: 3 },
    { name: "b", type: longType, bitWidth: 33 },
  ]);
  c.record(true, [
    { type: longType, bitWidth: 33 },
    { name: "b", type: charType },
  ]);
  // packed records and members.
  c.record(
    false,
    [
      { name: "c", type: charType },
      { name: "i", type: intType },
    ],
    { packed: true },
  );
  c.record(false, [
    { name: "c", type: charType },
    { name: "i", type: intType, packed: true },
    { name: "s", type: shortType },
  ]);
  c.record(
    false,
    [
      { name: "a", type: charType },
      { name: "b", type: intType, bitWidth: 31 },
      { name: "c", type: intType, bitWidth: 9 },
    ],
    { packed: true },
  );
  c.record(
    false,
    [
      { name: "a", type: charType },
      { type: intType, bitWidth: 0 },
      { name: "b", type: charType },
    ],
    { packed: true },
  );
  c.record(false, [
    { name: "a", type: charType },
    { name: "b", type: longType, bitWidth: 60, packed: true },
  ]);
  // aligned on records, members, bit-fields; packed + aligned.
  c.record(false, [{ name: "c", type: charType }], { alignAttr: 16 });
  c.record(
    false,
    [
      { name: "c", type: charType },
      { name: "i", type: intType },
    ],
    { packed: true, alignAttr: 4 },
  );
  c.record(false, [
    { name: "c", type: charType },
    { name: "i", type: intType, alignAttr: 16 },
  ]);
  c.record(false, [
    { name: "c", type: charType },
    { name: "i", type: intType, alignAttr: 2 },
  ]);
  c.record(false, [
    { name: "c", type: charType },
    { name: "i", type: intType, packed: true, alignAttr: 2 },
  ]);
  c.record(false, [
    { name: "c", type: charType },
    { name: "b", type: intType, bitWidth: 4, alignAttr: 8 },
  ]);
  c.record(false, [
    { name: "a", type: charType, bitWidth: 3 },
    { name: "b", type: charType, bitWidth: 3, alignAttr: 4 },
  ]);
  // typedefs with aligned attributes (which may lower alignment).
  const i2 = c.typedef(intType, 2);
  const l16 = c.typedef(longType, 16);
  c.record(false, [
    { name: "c", type: charType },
    { name: "x", type: i2 },
  ]);
  c.record(false, [
    { name: "c", type: charType },
    { name: "x", type: l16 },
  ]);
  c.record(false, [
    { name: "c", type: charType },
    { name: "x", type: i2, bitWidth: 17 },
    { name: "y", type: i2, bitWidth: 17 },
  ]);
  c.record(false, [
    { name: "c", type: charType },
    { name: "x", type: l16, packed: true },
  ]);
  // Flexible array members.
  c.record(false, [
    { name: "n", type: intType },
    { name: "data", type: arrayOf(charType, undefined) },
  ]);
  c.record(false, [
    { name: "c", type: charType },
    { name: "data", type: arrayOf(longType, undefined) },
  ]);
  c.record(
    false,
    [
      { name: "c", type: charType },
      { name: "data", type: arrayOf(longType, undefined) },
    ],
    { packed: true },
  );
  // Anonymous members, nested.
  c.record(false, [
    { name: "a", type: charType },
    {
      anonymous: {
        isUnion: true,
        fields: [
          { name: "b", type: intType },
          { name: "c", type: longType },
        ],
      },
    },
    {
      anonymous: {
        isUnion: false,
        fields: [
          { name: "d", type: charType },
          { name: "e", type: intType, bitWidth: 4 },
        ],
      },
    },
    { name: "f", type: charType, bitWidth: 2 },
  ]);
  c.record(true, [
    {
      anonymous: {
        isUnion: false,
        fields: [
          { name: "lo", type: uintType },
          { name: "hi", type: uintType },
        ],
      },
    },
    { name: "whole", type: ulonglongType },
  ]);
  c.record(false, [
    { name: "a", type: charType },
    {
      anonymous: {
        isUnion: false,
        fields: [
          { name: "b", type: charType },
          { name: "c", type: longType },
        ],
        attrs: { packed: true },
      },
    },
  ]);
  c.record(false, [
    { name: "a", type: charType },
    { anonymous: { isUnion: false, fields: [{ name: "b", type: charType }] }, alignAttr: 8 },
  ]);
  // Nested arrays, pointers, function pointers.
  const fnp = pointerTo(
    functionType(intType, [{ name: undefined, type: pointerTo(voidType) }], false),
  );
  c.record(false, [
    { name: "m", type: arrayOf(arrayOf(shortType, 3), 5) },
    { name: "p", type: pointerTo(arrayOf(intType, 4)) },
    { name: "f", type: fnp },
    { name: "ps", type: arrayOf(pointerTo(charType), 2) },
  ]);
  // Enums with large and negative values, packed enums, as members and bit-fields.
  const e1 = c.enumeration([0n, 1n, 0xffffffffn]);
  const e2 = c.enumeration([-1n, 0x7fffffffn]);
  const e3 = c.enumeration([0x100000000n]);
  const e4 = c.enumeration([-0x80000001n, 5n]);
  const e5 = c.enumeration([0xffffffffffffffffn]);
  const e6 = c.enumeration([1n, 200n], true);
  const e7 = c.enumeration([-1n, 100n], true);
  const e8 = c.enumeration([70000n], true);
  const e9 = c.enumeration([0x80000000n, -1n]);
  c.record(false, [
    { name: "a", type: e6 },
    { name: "b", type: e1 },
    { name: "c", type: e3 },
    { name: "d", type: e2, bitWidth: 5 },
    { name: "e", type: e7 },
    { name: "f", type: e4 },
    { name: "g", type: e5 },
    { name: "h", type: e8 },
    { name: "i", type: e9 },
  ]);
  // #pragma pack
  c.record(
    false,
    [
      { name: "c", type: charType },
      { name: "l", type: longType },
      { name: "i", type: intType },
    ],
    { maxFieldAlign: 2 },
  );
  c.record(
    false,
    [
      { name: "c", type: charType },
      { name: "b", type: intType, bitWidth: 30 },
      { name: "d", type: intType, bitWidth: 30 },
    ],
    { maxFieldAlign: 1 },
  );
  c.record(
    false,
    [
      { name: "c", type: charType },
      { name: "l", type: longType, alignAttr: 8 },
    ],
    { maxFieldAlign: 4 },
  );
  c.record(
    false,
    [
      { name: "c", type: charType },
      { type: longType, bitWidth: 0 },
      { name: "d", type: charType },
    ],
    { maxFieldAlign: 2 },
  );
}

// ---------------------------------------------------------------------------------------
// Seeded random records over a pool of scalar, array, enum, typedef and record types.

const bitfieldTypes: CType[] = [
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
];

function randomCases(c: Corpus, count: number, seed: number): void {
  const rnd = makePrng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const chance = (p: number) => rnd() < p;
  const pool: CType[] = [
    ...bitfieldTypes,
    int128Type,
    pointerTo(charType),
    arrayOf(charType, 3),
    arrayOf(intType, 2),
  ];
  pool.push(c.typedef(intType, 2), c.typedef(shortType, 8), c.typedef(charType, 4));
  pool.push(
    c.enumeration([1n, 2n]),
    c.enumeration([-3n, 0x1_0000_0000n]),
    c.enumeration([7n], true),
  );
  const aligns = [1, 2, 4, 8, 16];

  let memberCounter = 0;
  const randomFields = (depth: number): FieldSpec[] => {
    const n = 1 + Math.floor(rnd() * 7);
    const fields: FieldSpec[] = [];
    for (let i = 0; i < n; i++) {
      // Unique within the record, anonymous members included.
      const name = `m${memberCounter++}`;
      if (depth < 2 && chance(0.08)) {
        fields.push({
          anonymous: {
            isUnion: chance(0.4),
            fields: randomFields(depth + 1),
            attrs: chance(0.2) ? { packed: true } : {},
          },
        });
        continue;
      }
      if (chance(0.45)) {
        const type = chance(0.85)
          ? pick(bitfieldTypes)
          : pick(pool.filter((t) => isBitfieldable(t)));
        const bits = maxBits(type);
        const width = chance(0.08) ? 0 : 1 + Math.floor(rnd() * bits);
        const unnamed = width === 0 || chance(0.1);
        fields.push({
          name: unnamed ? undefined : name,
          type,
          bitWidth: width,
          packed: !unnamed && chance(0.1),
          alignAttr: !unnamed && chance(0.05) ? pick(aligns) : undefined,
        });
        continue;
      }
      let type = pick(pool);
      if (chance(0.15)) type = arrayOf(type, 1 + Math.floor(rnd() * 3));
      fields.push({
        name,
        type,
        packed: chance(0.1),
        alignAttr: chance(0.08) ? pick(aligns) : undefined,
      });
    }
    return fields;
  };

  for (let i = 0; i < count; i++) {
    const isUnion = chance(0.2);
    memberCounter = 0;
    const fields = randomFields(0);
    if (!isUnion && chance(0.1))
      fields.push({ name: "flex", type: arrayOf(pick([charType, intType, longType]), undefined) });
    const attrs: RecordAttrs = {};
    if (chance(0.2)) attrs.packed = true;
    if (chance(0.1)) attrs.alignAttr = pick(aligns);
    if (chance(0.07)) attrs.maxFieldAlign = pick([1, 2, 4]);
    const t = c.record(isUnion, fields, attrs);
    // Let later records embed earlier ones (without flexible arrays).
    const d = canonical(t);
    if (d.kind === "record" && !d.decl.hasFlexibleArray && chance(0.3)) pool.push(t);
  }
}

function isBitfieldable(t: CType): boolean {
  const k = canonical(t).kind;
  return k === "int" || k === "enum";
}

function maxBits(t: CType): number {
  const c = canonical(t);
  if (c.kind === "int" && c.name === "_Bool") return 1;
  return sizeOf(t) * 8;
}

// ---------------------------------------------------------------------------------------
// Questions for clang and our answers to them.

interface Question {
  what: string;
  expr: string;
  ours: bigint;
}

function recordQuestions(r: RecordCase): {
  questions: Question[];
  probes: { type: string; member: string; ours: { bitOffset: number; bitWidth: number } }[];
} {
  const questions: Question[] = [
    { what: `sizeof(${r.cType})`, expr: `sizeof(${r.cType})`, ours: BigInt(r.decl.size) },
    { what: `_Alignof(${r.cType})`, expr: `_Alignof(${r.cType})`, ours: BigInt(r.decl.align) },
  ];
  const probes: { type: string; member: string; ours: { bitOffset: number; bitWidth: number } }[] =
    [];
  const visit = (
    members: readonly { name: string | undefined; type: CType; bitWidth: number | undefined }[],
  ) => {
    for (const m of members) {
      if (m.name === undefined) {
        const inner = canonical(m.type);
        if (m.bitWidth === undefined && inner.kind === "record" && inner.decl.members)
          visit(inner.decl.members);
        continue;
      }
      const path = r.decl.findMember(m.name)!;
      if (m.bitWidth === undefined) {
        questions.push({
          what: `offsetof(${r.cType}, ${m.name})`,
          expr: `__builtin_offsetof(${r.cType}, ${m.name})`,
          ours: BigInt(path.offset),
        });
      } else {
        probes.push({
          type: r.cType,
          member: m.name,
          ours: { bitOffset: path.bitOffset, bitWidth: m.bitWidth },
        });
      }
    }
  };
  visit(r.decl.members!);
  return { questions, probes };
}

function enumQuestions(e: EnumCase): Question[] {
  const t = `enum ${e.decl.tag}`;
  const u = e.decl.underlying!;
  const qs: Question[] = [
    { what: `sizeof(${t})`, expr: `sizeof(${t})`, ours: BigInt(u.size) },
    { what: `_Alignof(${t})`, expr: `_Alignof(${t})`, ours: BigInt(u.align) },
    { what: `signedness of ${t}`, expr: `(${t})-1 < 0`, ours: u.signed ? 1n : 0n },
  ];
  for (const k of e.decl.constants) {
    qs.push({ what: `sizeof(${k.name})`, expr: `sizeof(${k.name})`, ours: BigInt(k.type.size) });
    qs.push({ what: `value of ${k.name}`, expr: k.name, ours: BigInt.asUintN(64, k.value) });
  }
  return qs;
}

function compare(corpus: Corpus): { checked: number; mismatches: string[] } {
  const questions: Question[] = [];
  const probes: ReturnType<typeof recordQuestions>["probes"] = [];
  for (const r of corpus.records) {
    const q = recordQuestions(r);
    questions.push(...q.questions);
    probes.push(...q.probes);
  }
  for (const e of corpus.enums) questions.push(...enumQuestions(e));
  const query: OracleQuery = {
    declarations: corpus.texts.join("\n"),
    expressions: questions.map((q) => q.expr),
    bitfields: probes.map((p) => ({ type: p.type, member: p.member })),
  };
  const answers = askClang(query);
  const mismatches: string[] = [];
  questions.forEach((q, i) => {
    if (answers.values[i] !== q.ours)
      mismatches.push(`${q.what}: clang ${answers.values[i]}, ours ${q.ours}`);
  });
  probes.forEach((p, i) => {
    const a = answers.bitfields[i]!;
    if (a.bitOffset !== p.ours.bitOffset || a.bitWidth !== p.ours.bitWidth) {
      mismatches.push(
        `bit-field ${p.type}.${p.member}: clang bit ${a.bitOffset} width ${a.bitWidth}, ours bit ${p.ours.bitOffset} width ${p.ours.bitWidth}`,
      );
    }
  });
  return { checked: questions.length + probes.length, mismatches };
}

function withText(corpus: Corpus, mismatches: string[]): string[] {
  // Show the definition of the first mismatching record so a failure explains itself.
  const tags = new Set(mismatches.map((m) => /(struct|union|enum) (\w+)/.exec(m)?.[2]));
  const first = [...tags][0];
  const r =
    corpus.records.find((x) => x.decl.tag === first) ??
    corpus.enums.find((x) => x.decl.tag === first);
  return r ? [...mismatches, r.text] : mismatches;
}

// The same C text through the real front end (preprocess, parse, sema) must give the layout
// the constructed types got (which the tests above hold equal to clang's).
function parsedLayoutMismatches(corpus: Corpus): string[] {
  const p = checkProgram({ file: "corpus.c", source: corpus.texts.join("\n") + "\n" });
  const errors = p.diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message);
  if (errors.length > 0 || !p.sema) return errors;
  const parsed = new Map(p.sema.records.filter((r) => r.tag !== undefined).map((r) => [r.tag!, r]));
  const out: string[] = [];
  for (const r of corpus.records) {
    const q = parsed.get(r.decl.tag!);
    if (!q) {
      out.push(`${r.cType}: not laid out by the front end`);
      continue;
    }
    if (q.size !== r.decl.size || q.align !== r.decl.align)
      out.push(
        `${r.cType}: size/align ${q.size}/${q.align}, expected ${r.decl.size}/${r.decl.align}`,
      );
    const bits = (d: RecordDecl) => JSON.stringify(flatMembers(d));
    if (bits(q) !== bits(r.decl))
      out.push(`${r.cType}: members ${bits(q)}, expected ${bits(r.decl)}`);
  }
  for (const e of corpus.enums) {
    const q = p.sema.enums.find((x) => x.tag === e.decl.tag);
    if (!q || q.underlying?.name !== e.decl.underlying?.name)
      out.push(
        `enum ${e.decl.tag}: underlying ${q?.underlying?.name}, expected ${e.decl.underlying?.name}`,
      );
  }
  return out;
}

// Every member's (name, bit offset, width), anonymous members flattened.
function flatMembers(d: RecordDecl, base = 0): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (const m of d.members ?? []) {
    const c = canonical(m.type);
    if (m.name === undefined && m.bitWidth === undefined && c.kind === "record")
      out.push(...flatMembers(c.decl, base + m.bitOffset));
    else out.push([m.name ?? "", base + m.bitOffset, m.bitWidth ?? -1]);
  }
  return out;
}

describe.skipIf(!hasTools)("record and enum layout equals clang -target bpf", () => {
  test("hand-written tricky cases", () => {
    const corpus = new Corpus();
    handCases(corpus);
    const { checked, mismatches } = compare(corpus);
    expect(withText(corpus, mismatches)).toEqual([]);
    expect(checked).toBeGreaterThan(150);
    expect(parsedLayoutMismatches(corpus)).toEqual([]);
  });

  test("300 seeded random records", () => {
    const corpus = new Corpus();
    // TSBPF_LAYOUT_SEED explores other corpora; the default keeps runs reproducible.
    randomCases(corpus, 300, Number(process.env.TSBPF_LAYOUT_SEED ?? 20240501));
    const { checked, mismatches } = compare(corpus);
    expect(withText(corpus, mismatches.slice(0, 12))).toEqual([]);
    expect(corpus.records.length).toBe(300);
    expect(parsedLayoutMismatches(corpus).slice(0, 10)).toEqual([]);
    expect(checked).toBeGreaterThan(1500);
  });
});

describe("type printer matches clang's spelling", () => {
  test("declarators", () => {
    const fnp = pointerTo(
      functionType(intType, [{ name: undefined, type: pointerTo(voidType) }], false),
    );
    expect(typeToString(fnp)).toBe("int (*)(void *)");
    expect(typeToString(arrayOf(charType, 16))).toBe("char[16]");
    expect(typeToString(pointerTo(arrayOf(intType, 3)))).toBe("int (*)[3]");
    expect(typeToString(arrayOf(pointerTo(intType), 3))).toBe("int *[3]");
    expect(typeToString(functionType(voidType, [{ name: undefined, type: intType }], true))).toBe(
      "void (int, ...)",
    );
    expect(typeToString(functionType(intType, [], false))).toBe("int (void)");
    expect(typeToString(functionType(intType, [], false, false))).toBe("int ()");
    expect(alignOf(ulongType)).toBe(8);
  });
});

describe("lazy layout of deep nesting", () => {
  // A record is laid out when first asked; the records it holds by value are laid out first by
  // a loop, so a chain of thousands of records does not recurse once per level.
  test("sizeof the last of 5,000 records, each holding the one before", () => {
    const chain = [new RecordDecl(false, "S0", undefined)];
    chain[0]!.define([{ name: "x", type: intType }], {});
    for (let i = 1; i <= 5000; i++) {
      const r = new RecordDecl(false, `S${i}`, undefined);
      // By value, directly or as an array of one.
      const held = chain[i - 1]!.type;
      r.define([{ name: "x", type: i % 2 === 0 ? held : arrayOf(held, 1) }], {});
      chain.push(r);
    }
    expect(chain[5000]!.size).toBe(4);
    expect(chain[2500]!.align).toBe(4);
  });
});
