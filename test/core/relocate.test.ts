// The CO-RE relocator on hand-built BTF, for the rules the clang fixtures rarely reach: flavour
// names, several candidates (agreeing, ambiguous, pruned), anonymous members, arrays and
// flexible arrays, bit-field shifts, width changes, enum64 values in lddw, and every malformed
// input (which must be a CoreRelocationError naming the program, relocation and instruction).
import { describe, expect, it } from "vitest";
import {
  addBtfType,
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  createBtf,
  type Btf,
} from "../../runtime/btf/btf.js";
import {
  CORE_POISON_IMM,
  CoreRelocationError,
  createCandidateCache,
  essentialNameLength,
  relocateCore,
  type CoreRelo,
} from "../../runtime/core/index.js";
import { typesMatch } from "../../runtime/core/compat.js";
import { valueText } from "../../runtime/core/value.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BpfCoreReloKind as K } from "../../runtime/uapi/bpf.js";

/** A small BTF builder: ints, pointers, arrays, records with [name, type, bits?] members. */
class Types {
  readonly btf: Btf = createBtf();
  int(name: string, size: number, signed = false): number {
    return addBtfType(this.btf, {
      kind: BTF_KIND_INT,
      name,
      kindFlag: false,
      size,
      encoding: signed ? BTF_INT_SIGNED : 0,
      bitOffset: 0,
      bits: size * 8,
    });
  }
  ptr(to: number): number {
    return addBtfType(this.btf, { kind: BTF_KIND_PTR, name: "", kindFlag: false, type: to });
  }
  typedef(name: string, to: number): number {
    return addBtfType(this.btf, { kind: BTF_KIND_TYPEDEF, name, kindFlag: false, type: to });
  }
  array(of: number, nelems: number): number {
    return addBtfType(this.btf, {
      kind: BTF_KIND_ARRAY,
      name: "",
      kindFlag: false,
      type: of,
      indexType: of,
      nelems,
    });
  }
  /** members as [name, type, bitOffset, bitfieldSize?] */
  record(
    name: string,
    size: number,
    members: [string, number, number, number?][],
    union = false,
  ): number {
    return addBtfType(this.btf, {
      kind: union ? BTF_KIND_UNION : BTF_KIND_STRUCT,
      name,
      kindFlag: members.some((m) => (m[3] ?? 0) > 0),
      size,
      members: members.map(([n, type, bitOffset, bits]) => ({
        name: n,
        type,
        bitOffset,
        bitfieldSize: bits ?? 0,
      })),
    });
  }
  enum(name: string, values: [string, number][], size = 4): number {
    return addBtfType(this.btf, {
      kind: BTF_KIND_ENUM,
      name,
      kindFlag: values.some((v) => v[1] < 0),
      size,
      values: values.map(([n, value]) => ({ name: n, value })),
    });
  }
  enum64(name: string, values: [string, number, number][]): number {
    return addBtfType(this.btf, {
      kind: BTF_KIND_ENUM64,
      name,
      kindFlag: false,
      size: 8,
      values: values.map(([n, lo, hi]) => ({ name: n, lo, hi })),
    });
  }
  fwd(name: string, union = false): number {
    return addBtfType(this.btf, { kind: BTF_KIND_FWD, name, kindFlag: union });
  }
}

const mov = (imm: number): Insn => ({ code: 0xb7, dst: 1, src: 0, off: 0, imm }); // r1 = imm
const ldxw = (off: number): Insn => ({ code: 0x61, dst: 1, src: 2, off, imm: 0 }); // r1 = *(u32 *)(r2 + off)
const ldxdw = (off: number): Insn => ({ code: 0x79, dst: 1, src: 2, off, imm: 0 });
const stxw = (off: number): Insn => ({ code: 0x63, dst: 2, src: 1, off, imm: 0 });
const lddw = (lo: number, hi: number): Insn[] => [
  { code: 0x18, dst: 1, src: 0, off: 0, imm: lo },
  { code: 0, dst: 0, src: 0, off: 0, imm: hi },
];
const exit: Insn = { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

const relo = (typeId: number, accessStr: string, kind: number, insn = 0): CoreRelo => ({
  insn,
  typeId,
  accessStr,
  kind,
});

function coreError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof CoreRelocationError) return err.message;
    throw err;
  }
  throw new Error("no CoreRelocationError");
}

describe("essential names", () => {
  it("drop the last ___flavour, as libbpf does", () => {
    expect(essentialNameLength("task_struct")).toBe(11);
    expect(essentialNameLength("task_struct___old")).toBe(11);
    expect(essentialNameLength("a___b___c")).toBe(5); // "a___b"
    expect(essentialNameLength("x____y")).toBe(6); // four underscores: no flavour
    expect(essentialNameLength("___x")).toBe(4);
    expect(essentialNameLength("x___")).toBe(4);
  });
});

describe("field relocations", () => {
  // local: struct s { int a; struct { int b; }; int arr[4]; }  (clang's view)
  // target: struct s { long pad; int arr[8]; union { int x; int b; }; int a; }
  const local = new Types();
  const lInt = local.int("int", 4, true);
  const lAnon = local.record("", 4, [["b", lInt, 0]]);
  const lS = local.record("s", 24, [
    ["a", lInt, 0],
    ["", lAnon, 32],
    ["arr", local.array(lInt, 4), 64],
  ]);
  const target = new Types();
  const tInt = target.int("int", 4, true);
  const tLong = target.int("long", 8, true);
  const tUnion = target.record(
    "",
    4,
    [
      ["x", tInt, 0],
      ["b", tInt, 0],
    ],
    true,
  );
  const tS = target.record("s", 48, [
    ["pad", tLong, 0],
    ["arr", target.array(tInt, 8), 64],
    ["", tUnion, 320],
    ["a", tInt, 352],
  ]);

  it("follow names through anonymous records and array indexes", () => {
    const r = relocateCore(
      [ldxw(0), ldxw(4), ldxw(16), mov(16), exit],
      [
        relo(lS, "0:0", K.BPF_CORE_FIELD_BYTE_OFFSET, 0),
        relo(lS, "0:1:0", K.BPF_CORE_FIELD_BYTE_OFFSET, 1),
        relo(lS, "0:2:2", K.BPF_CORE_FIELD_BYTE_OFFSET, 2),
        relo(lS, "0:2", K.BPF_CORE_FIELD_BYTE_SIZE, 3),
      ],
      local.btf,
      target.btf,
      { programName: "p" },
    );
    expect(r.insns.map((i) => i.off).slice(0, 3)).toEqual([44, 40, 16]);
    expect(r.insns[3]!.imm).toBe(32); // int arr[8] in the target
    expect(r.results.map((x) => x.targetSpec)).toEqual([
      `<byte_off> [${tS}] struct s.a (0:3 @ offset 44)`,
      `<byte_off> [${tS}] struct s.b (0:2:1 @ offset 40)`,
      `<byte_off> [${tS}] struct s.arr[2] (0:1:2 @ offset 16)`,
      `<byte_sz> [${tS}] struct s.arr (0:1 @ offset 8)`,
    ]);
    expect(r.results[0]!.localSpec).toBe(`<byte_off> [${lS}] struct s.a (0:0 @ offset 0)`);
    expect(r.results.every((x) => !x.poisoned)).toBe(true);
  });

  it("poison an index past the target's array, and exists says 0", () => {
    const t2 = new Types();
    const i2 = t2.int("int", 4, true);
    t2.record("s", 12, [
      ["a", i2, 0],
      ["arr", t2.array(i2, 2), 32],
    ]);
    const r = relocateCore(
      [ldxw(16), mov(1), exit],
      [
        relo(lS, "0:2:3", K.BPF_CORE_FIELD_BYTE_OFFSET, 0),
        relo(lS, "0:2:3", K.BPF_CORE_FIELD_EXISTS, 1),
      ],
      local.btf,
      t2.btf,
      { programName: "p" },
    );
    expect(r.insns[0]).toEqual({ code: 0x85, dst: 0, src: 0, off: 0, imm: CORE_POISON_IMM });
    expect(r.insns[1]!.imm).toBe(0);
    expect(r.results[0]!.message).toMatch(
      /prog 'p': relo #0: insn 0: field 'arr\[3\]' of struct s is not in the target BTF/,
    );
  });

  it("poison a member whose type is incompatible (a struct where an int was)", () => {
    const t2 = new Types();
    const inner = t2.record("inner", 4, [["z", t2.int("int", 4, true), 0]]);
    t2.record("s", 4, [["a", inner, 0]]);
    const r = relocateCore(
      [ldxw(0), exit],
      [relo(lS, "0:0", K.BPF_CORE_FIELD_BYTE_OFFSET)],
      local.btf,
      t2.btf,
    );
    expect(r.results[0]!.poisoned).toBe(true);
  });

  it("widen an unsigned load, poison a signed one, refuse an offset past 32767", () => {
    const l = new Types();
    const u32 = l.int("unsigned int", 4);
    const s32 = l.int("int", 4, true);
    const ls = l.record("regs", 8, [
      ["di", u32, 0],
      ["cx", s32, 32],
    ]);
    const t = new Types();
    const u64 = t.int("unsigned long", 8);
    t.record("regs", 40000, [
      ["cx", u64, 0],
      ["di", u64, 64],
      ["far", u64, 33000 * 8],
    ]);
    const r = relocateCore(
      [ldxw(0), ldxw(4), stxw(0), exit],
      [
        relo(ls, "0:0", K.BPF_CORE_FIELD_BYTE_OFFSET, 0),
        relo(ls, "0:1", K.BPF_CORE_FIELD_BYTE_OFFSET, 1),
        relo(ls, "0:0", K.BPF_CORE_FIELD_BYTE_OFFSET, 2),
      ],
      l.btf,
      t.btf,
    );
    expect(r.insns[0]).toEqual(ldxdw(8)); // u32 load at 0 -> u64 load at 8
    expect(r.results[0]!.widthChange).toEqual({ from: 4, to: 8 });
    expect(r.insns[1]!.imm).toBe(CORE_POISON_IMM);
    expect(r.results[1]!.message).toMatch(/field 'cx' of struct regs is 4 bytes here but 8/);
    expect(r.insns[2]).toEqual({ ...stxw(8), code: 0x7b }); // stxw -> stxdw
    // a field beyond what an instruction's 16-bit offset can hold
    const l2 = new Types();
    const lr = l2.record("regs", 8, [["far", l2.int("unsigned long", 8), 0]]);
    expect(
      coreError(() =>
        relocateCore([ldxdw(0)], [relo(lr, "0:0", K.BPF_CORE_FIELD_BYTE_OFFSET)], l2.btf, t.btf, {
          programName: "far",
        }),
      ),
    ).toMatch(/prog 'far': relo #0: insn 0: insn #0 \(LDX\/ST\/STX\) value too big: 33000/);
  });

  it("compute bit-field shifts and load sizes for the target's placement", () => {
    const l = new Types();
    const u8 = l.int("unsigned char", 1);
    const ls = l.record("flags", 4, [
      ["x", u8, 0, 3],
      ["y", u8, 3, 4],
    ]);
    const t = new Types();
    const tu8 = t.int("unsigned char", 1);
    const tu32 = t.int("unsigned int", 4);
    // y straddles a byte in the target: the load grows to 2 bytes
    t.record("flags", 8, [
      ["pad", tu32, 0],
      ["x", tu8, 32, 5],
      ["y", tu8, 37, 6],
    ]);
    const kinds = [
      K.BPF_CORE_FIELD_BYTE_OFFSET,
      K.BPF_CORE_FIELD_BYTE_SIZE,
      K.BPF_CORE_FIELD_LSHIFT_U64,
      K.BPF_CORE_FIELD_RSHIFT_U64,
      K.BPF_CORE_FIELD_SIGNED,
    ];
    // local values clang would have written for y (bit 3, 4 bits, in a 1-byte unit)
    const localValues = [0, 1, 64 - 7, 64 - 4, 0];
    const r = relocateCore(
      [...localValues.map(mov), exit],
      kinds.map((k, i) => relo(ls, "0:1", k, i)),
      l.btf,
      t.btf,
    );
    // y at bits 37..42: a 2-byte load at offset 4, shifted left 64 - (43 - 32) = 53, right 58
    expect(r.insns.slice(0, 5).map((i) => i.imm)).toEqual([4, 2, 53, 58, 0]);
  });

  it("check that the instruction holds the local value", () => {
    expect(
      coreError(() =>
        relocateCore(
          [ldxw(12)],
          [relo(lS, "0:0", K.BPF_CORE_FIELD_BYTE_OFFSET)],
          local.btf,
          target.btf,
          {
            programName: "check",
          },
        ),
      ),
    ).toBe(
      "prog 'check': relo #0: insn 0: unexpected insn #0 (LDX/ST/STX) value: got 12, exp 0 -> 44",
    );
  });
});

describe("candidates", () => {
  // local: struct sk___mine { int port; int len; }
  const l = new Types();
  const li = l.int("int", 4, true);
  const ls = l.record("sk___mine", 8, [
    ["port", li, 0],
    ["len", li, 32],
  ]);
  const targetWith = (extra: boolean): Btf => {
    const t = new Types();
    const ti = t.int("int", 4, true);
    t.record("sk", 8, [
      ["pad", ti, 0],
      ["port", ti, 32],
    ]);
    t.record("sk___v2", 12, [
      ["pad", ti, 0],
      ["port", ti, 32],
      ["len", ti, 64],
    ]);
    t.record("sk___v3", 4, [["len", ti, 0]]);
    if (extra) t.record("sk___v4", 12, [["port", ti, 64]]);
    t.record("skb", 4, [["port", ti, 0]]); // another essential name
    t.fwd("sk"); // another kind
    return t.btf;
  };
  const port = relo(ls, "0:0", K.BPF_CORE_FIELD_BYTE_OFFSET, 0);
  const len = relo(ls, "0:1", K.BPF_CORE_FIELD_BYTE_OFFSET, 1);

  it("match by essential name and kind; matching ones must agree", () => {
    const r = relocateCore([ldxw(0), ldxw(4)], [port], l.btf, targetWith(false));
    expect(r.insns[0]!.off).toBe(4);
    expect(
      coreError(() =>
        relocateCore([ldxw(0)], [port], l.btf, targetWith(true), { programName: "amb" }),
      ),
    ).toMatch(/prog 'amb': relo #0: insn 0: field offset ambiguity: 64 != 32/);
  });

  it("shrink to those that matched, for the next relocation of the type", () => {
    const t = targetWith(false);
    // port matched sk and sk___v2 only: len then resolves in sk___v2 alone
    const r = relocateCore([ldxw(0), ldxw(4)], [port, len], l.btf, t);
    expect(r.insns.map((i) => i.off)).toEqual([4, 8]);
    // without that history, sk___v2 and sk___v3 disagree on len
    expect(coreError(() => relocateCore([ldxw(0), ldxw(4)], [len], l.btf, t))).toMatch(
      /relo #0: insn 1: field offset ambiguity/,
    );
    // the history is per object: a shared cache carries it from program to program
    const cache = createCandidateCache();
    relocateCore([ldxw(0)], [port], l.btf, t, { candidates: cache });
    expect(
      relocateCore([ldxw(0), ldxw(4)], [len], l.btf, t, { candidates: cache }).insns[1]!.off,
    ).toBe(8);
  });
});

describe("type and enum relocations", () => {
  const l = new Types();
  const li = l.int("int", 4, true);
  const lTask = l.record("task", 4, [["pid", li, 0]]);
  const lGone = l.record("gone", 4, [["x", li, 0]]);
  const lPid = l.typedef("pid_t", li);
  const lState = l.enum("state___local", [
    ["RUNNING", 0],
    ["DEAD", 2],
    ["NEGATIVE", -5],
  ]);
  const lWide = l.enum64("wide", [["BIG", 0, 0x10]]);
  const t = new Types();
  const ti = t.int("int", 4, true);
  const tTask = t.record("task", 16, [
    ["x", ti, 0],
    ["pid", ti, 32],
  ]);
  t.typedef("pid_t", ti);
  t.enum("state", [
    ["DEAD", 7],
    ["RUNNING", 0],
    ["NEGATIVE", -9],
  ]);
  t.enum64("wide", [["BIG", 0x1234, 0x5678]]);

  it("give existence, sizes and type ids", () => {
    const r = relocateCore(
      [mov(1), mov(1), mov(4), mov(4), ...lddw(lTask, 0), ...lddw(lTask, 0), mov(1), exit],
      [
        relo(lTask, "0", K.BPF_CORE_TYPE_EXISTS, 0),
        relo(lGone, "0", K.BPF_CORE_TYPE_EXISTS, 1),
        relo(lTask, "0", K.BPF_CORE_TYPE_SIZE, 2),
        relo(lPid, "0", K.BPF_CORE_TYPE_SIZE, 3),
        relo(lTask, "0", K.BPF_CORE_TYPE_ID_TARGET, 4),
        relo(lTask, "0", K.BPF_CORE_TYPE_ID_LOCAL, 6),
        relo(lTask, "0", K.BPF_CORE_TYPE_MATCHES, 8),
      ],
      l.btf,
      t.btf,
    );
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => r.insns[i]!.imm)).toEqual([
      1,
      0,
      16,
      4,
      tTask,
      0,
      lTask,
      0,
      1,
    ]);
    expect(r.results.some((x) => x.poisoned)).toBe(false);
  });

  it("find enumerators by name in a flavoured enum, sign-extend, fill both lddw halves", () => {
    const r = relocateCore(
      [mov(2), mov(-5), mov(1), ...lddw(0, 0x10), ...lddw(0, 0x10), exit],
      [
        relo(lState, "1", K.BPF_CORE_ENUMVAL_VALUE, 0),
        relo(lState, "2", K.BPF_CORE_ENUMVAL_VALUE, 1),
        relo(lState, "0", K.BPF_CORE_ENUMVAL_EXISTS, 2),
        relo(lWide, "0", K.BPF_CORE_ENUMVAL_VALUE, 3),
        relo(l.enum("none", [["NOPE", 1]]), "0", K.BPF_CORE_ENUMVAL_VALUE, 5),
      ],
      l.btf,
      t.btf,
    );
    expect(r.insns.slice(0, 5).map((i) => i.imm)).toEqual([7, -9, 1, 0x1234, 0x5678]);
    expect(valueText(r.results[3]!.newValue64)).toBe(String(0x5678 * 2 ** 32 + 0x1234));
    expect(r.results[0]!.targetSpec).toMatch(/<enumval_value> \[\d+\] enum state::DEAD = 7/);
    expect(r.results[1]!.localSpec).toMatch(/::NEGATIVE = -5$/);
    // an absent enumerator's value poisons the lddw, both slots
    expect(r.insns[5]!.imm).toBe(CORE_POISON_IMM);
    expect(r.insns[6]!.imm).toBe(CORE_POISON_IMM);
    expect(r.results[4]!.message).toMatch(/enumerator 'NOPE' of enum none is not in the target/);
  });

  it("match types structurally for TYPE_MATCHES", () => {
    const a = new Types();
    const ai = a.int("int", 4, true);
    const au = a.int("unsigned int", 4);
    const s1 = a.record("s", 8, [["x", ai, 0]]);
    const s2 = a.record("s", 8, [["x", au, 0]]);
    const s3 = a.record("s", 8, [
      ["x", ai, 0],
      ["y", ai, 32],
    ]);
    const p1 = a.ptr(a.record("node", 8, [["v", ai, 0]]));
    const p2 = a.ptr(a.fwd("node"));
    const p3 = a.ptr(a.fwd("node", true));
    expect(typesMatch(a.btf, s1, a.btf, s3)).toBe(true); // local members all in the target
    expect(typesMatch(a.btf, s3, a.btf, s1)).toBe(false);
    expect(typesMatch(a.btf, s1, a.btf, s2)).toBe(false); // sign differs
    expect(typesMatch(a.btf, p1, a.btf, p2)).toBe(true); // struct behind a pointer vs fwd
    expect(typesMatch(a.btf, p1, a.btf, p3)).toBe(false); // ... of a union
  });
});

describe("malformed relocations", () => {
  const l = new Types();
  const li = l.int("int", 4, true);
  const ls = l.record("s", 4, [["a", li, 0]]);
  const anon = l.record("", 4, [["a", li, 0]]);
  const t = new Types();
  t.record("s", 4, [["a", t.int("int", 4, true), 0]]);
  const fails = (insns: Insn[], r: CoreRelo): string =>
    coreError(() => relocateCore(insns, [r], l.btf, t.btf, { programName: "bad" }));

  it("are CoreRelocationErrors naming program, relocation, instruction and reason", () => {
    const off = K.BPF_CORE_FIELD_BYTE_OFFSET;
    expect(fails([ldxw(0)], relo(ls, "", off))).toMatch(
      /^prog 'bad': relo #0: insn 0: parsing \[\d+\] struct s \+  failed: bad access string ''/,
    );
    expect(fails([ldxw(0)], relo(ls, "0:x", off))).toMatch(/bad access string '0:x'/);
    expect(fails([ldxw(0)], relo(ls, "0:5", off))).toMatch(/struct s has no member #5/);
    expect(fails([ldxw(0)], relo(ls, "0:0:1", off))).toMatch(
      /step 2 reaches \[\d+\] int int, which has no members or elements/,
    );
    expect(fails([ldxw(0)], relo(ls, "1", K.BPF_CORE_TYPE_EXISTS))).toMatch(
      /access string '1' of a type_exists relocation is not "0"/,
    );
    expect(fails([ldxw(0)], relo(ls, "0", K.BPF_CORE_ENUMVAL_VALUE))).toMatch(/not an enum/);
    expect(fails([ldxw(0)], relo(ls, "0:0", 99))).toMatch(/unknown CO-RE relocation kind 99/);
    expect(fails([ldxw(0)], relo(anon, "0:0", off))).toMatch(/doesn't support anonymous types/);
    expect(fails([ldxw(0)], relo(999, "0:0", off))).toMatch(/type id 999 is out of range/);
    expect(fails([ldxw(0)], relo(ls, "0:0", off, 3))).toMatch(
      /relo #0: insn 3: instruction is outside the program \(1 insns\)/,
    );
    expect(fails([exit], relo(ls, "0:0", off))).toMatch(/trying to relocate unrecognized insn #0/);
    expect(fails([{ ...mov(0), code: 0xbf }], relo(ls, "0:0", off))).toMatch(
      /takes a register, not an immediate/,
    );
    expect(fails([{ ...lddw(0, 0)[0]! }], relo(ls, "0:0", off))).toMatch(
      /\(LDIMM64\) has unexpected form/,
    );
    expect(fails([mov(0)], relo(ls, "0:0", K.BPF_CORE_FIELD_LSHIFT_U64))).toMatch(
      /unexpected insn #0 \(ALU\/ALU64\) value: got 0, exp 32 -> 32/,
    );
  });
});

describe("random relocation records", () => {
  it("only ever raise CoreRelocationErrors, and never hang", () => {
    const l = new Types();
    const li = l.int("int", 4, true);
    const arr = l.array(li, 3);
    const inner = l.record("inner", 12, [["v", arr, 0]]);
    const anon = l.record("", 16, [
      ["in", inner, 0],
      ["w", li, 96, 5],
    ]);
    const outer = l.record("outer", 24, [
      ["", anon, 0],
      ["p", l.ptr(inner), 128],
    ]);
    l.enum("e", [
      ["A", 1],
      ["B", -2],
    ]);
    l.typedef("outer_t", outer);
    // a cyclic typedef, as corrupt BTF may have
    const loop = l.typedef("loop", 0);
    (l.btf.types[loop] as { type: number }).type = loop;
    const t = new Types();
    const ti = t.int("int", 4, true);
    const tin = t.record("inner", 16, [["v", t.array(ti, 4), 0]]);
    t.record("outer", 40, [
      ["p", t.ptr(tin), 0],
      ["in", tin, 64],
      ["w", ti, 192, 3],
    ]);
    t.record("outer___b", 40, [["in", tin, 0]]);
    t.enum64("e", [["B", 5, 0]]);
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const access = (): string =>
      Array.from({ length: 1 + random(5) }, () => String(random(4))).join(":");
    let errors = 0;
    for (let i = 0; i < 3000; i++) {
      const insns: Insn[] = [mov(random(3)), ldxw(random(3) * 4), ...lddw(random(2), 0), exit];
      const r = relo(random(l.btf.types.length + 2), access(), random(14), random(6));
      try {
        relocateCore(insns, [r], l.btf, t.btf);
      } catch (err) {
        if (!(err instanceof CoreRelocationError)) throw err;
        expect(err.message).toMatch(/^prog '\(program\)': relo #0: insn \d+: /);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(100);
  });
});
