// The WebAssembly encoder against real tools: LEB128 immediates as clang's wasm32 backend encodes
// them, every opcode the JIT emits as llvm-objdump decodes it, modules V8 validates and runs,
// and code offsets that match the positions V8 reports for a trap.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { wasmApi } from "../../runtime/jit/wasm-api.js";
import { ByteWriter, Code, I32, I64, ModuleBuilder, Op } from "../../runtime/jit/wasm.js";
import { prng } from "./random.js";

function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const hasClang = hasTool("clang") && hasTool("llvm-objdump");
if (!hasClang) console.log("clang or llvm-objdump missing: skipping the wasm encoder's tool tests");

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-wasm-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** llvm-objdump -d of a wasm file: per instruction, its bytes and its text. */
function disassemble(dir: string, bytes: Uint8Array): { bytes: string; text: string }[] {
  writeFileSync(join(dir, "m.wasm"), bytes);
  const out = execFileSync("llvm-objdump", ["-d", join(dir, "m.wasm")], { encoding: "utf8" });
  const lines: { bytes: string; text: string }[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s+[0-9a-f]+:\s((?:[0-9a-f]{2}\s)+)\s*(.*?)\s*(?:#.*)?$/.exec(line);
    if (m)
      lines.push({
        bytes: m[1]!.trim().replace(/\s+/g, " "),
        text: m[2]!.replace(/\s+/g, " ").trim(),
      });
  }
  return lines;
}

const hexBytes = (data: Uint8Array): string =>
  Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(" ");

/** 64-bit constants worth encoding, as (lo, hi): LEB128 group boundaries, signs, random. */
function constants(): [number, number][] {
  const values: bigint[] = [];
  for (const bits of [
    0, 6, 7, 13, 14, 20, 21, 27, 28, 31, 32, 34, 35, 41, 42, 48, 49, 55, 56, 62, 63,
  ]) {
    const p = 1n << BigInt(bits);
    values.push(p, p - 1n, -p, 1n - p);
  }
  const next = prng(31337);
  for (let i = 0; i < 56; i++) {
    values.push((BigInt(next()) << 32n) | BigInt(next()), BigInt((next() | 0) >> (next() % 32)));
  }
  return values.map((v) => {
    const w = BigInt.asIntN(64, v);
    return [Number(BigInt.asIntN(32, w)), Number(BigInt.asIntN(32, w >> 32n))];
  });
}

describe.skipIf(!hasClang)("LEB128 immediates as clang -target wasm32 encodes them", () => {
  it("i64.const and i32.const of 196 constants", () => {
    const values = constants();
    const c = values
      .map(([lo, hi], i) => {
        const u = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
        const k = `unsigned long long k${i}(void) { return 0x${u.toString(16)}ull; }`;
        return `${k}\nint j${i}(void) { return ${lo}; }`;
      })
      .join("\n");
    withTmp((dir) => {
      writeFileSync(join(dir, "k.c"), c);
      execFileSync("clang", ["--target=wasm32", "-O2", "-c", "k.c", "-o", "k.o"], { cwd: dir });
      const lines = disassemble(dir, new Uint8Array(readFileSync(join(dir, "k.o"))));
      const i64 = lines.filter((l) => l.text.startsWith("i64.const")).map((l) => l.bytes);
      const i32 = lines.filter((l) => l.text.startsWith("i32.const")).map((l) => l.bytes);
      expect(i64).toHaveLength(values.length);
      expect(i32).toHaveLength(values.length);
      values.forEach(([lo, hi], i) => {
        expect(hexBytes(new Code().i64Const(lo, hi).toBytes()), `k${i}`).toBe(i64[i]);
        expect(hexBytes(new Code().i32Const(lo).toBytes()), `j${i}`).toBe(i32[i]);
      });
    });
  });
});

describe("unsigned LEB128", () => {
  it("encodes indices and lengths in 1-5 bytes", () => {
    const enc = (v: number): string => hexBytes(new ByteWriter().u32(v).toBytes());
    expect(enc(0)).toBe("00");
    expect(enc(127)).toBe("7f");
    expect(enc(128)).toBe("80 01");
    expect(enc(624485)).toBe("e5 8e 26"); // the example of the LEB128 literature
    expect(enc(0xffffffff)).toBe("ff ff ff ff 0f");
  });
});

// Every opcode the JIT emits, with the snippet that makes it valid, and LLVM's name for it.
type Snippet = (c: Code) => void;
const i32s: Snippet = (c) => c.i32Const(7).i32Const(3);
const i64s: Snippet = (c) => c.i64Const(7, 0).i64Const(3, 0);
const binary = (op: Op, name: string, operands: Snippet): [string, Snippet] => [
  name,
  (c) => {
    operands(c);
    c.op(op).op(Op.drop);
  },
];
const unary = (op: Op, name: string, operand: Snippet): [string, Snippet] => [
  name,
  (c) => {
    operand(c);
    c.op(op).op(Op.drop);
  },
];
const one32: Snippet = (c) => c.i32Const(5);
const one64: Snippet = (c) => c.i64Const(5, 0);
const load = (op: Op, name: string): [string, Snippet] => [
  name,
  (c) => c.i32Const(0).mem(op, 0, 16).op(Op.drop),
];
const store = (op: Op, name: string, value: Snippet): [string, Snippet] => [
  name,
  (c) => {
    c.i32Const(0);
    value(c);
    c.mem(op, 0, 24);
  },
];

const OPCODES: [string, Snippet][] = [
  ...(
    [
      [Op.i32_eq, "i32.eq"],
      [Op.i32_ne, "i32.ne"],
      [Op.i32_lt_s, "i32.lt_s"],
      [Op.i32_lt_u, "i32.lt_u"],
      [Op.i32_gt_s, "i32.gt_s"],
      [Op.i32_gt_u, "i32.gt_u"],
      [Op.i32_le_s, "i32.le_s"],
      [Op.i32_le_u, "i32.le_u"],
      [Op.i32_ge_s, "i32.ge_s"],
      [Op.i32_ge_u, "i32.ge_u"],
      [Op.i32_add, "i32.add"],
      [Op.i32_sub, "i32.sub"],
      [Op.i32_mul, "i32.mul"],
      [Op.i32_div_s, "i32.div_s"],
      [Op.i32_div_u, "i32.div_u"],
      [Op.i32_rem_s, "i32.rem_s"],
      [Op.i32_rem_u, "i32.rem_u"],
      [Op.i32_and, "i32.and"],
      [Op.i32_or, "i32.or"],
      [Op.i32_xor, "i32.xor"],
      [Op.i32_shl, "i32.shl"],
      [Op.i32_shr_s, "i32.shr_s"],
      [Op.i32_shr_u, "i32.shr_u"],
      [Op.i32_rotl, "i32.rotl"],
      [Op.i32_rotr, "i32.rotr"],
    ] as const
  ).map(([op, name]) => binary(op, name, i32s)),
  ...(
    [
      [Op.i64_eq, "i64.eq"],
      [Op.i64_ne, "i64.ne"],
      [Op.i64_lt_s, "i64.lt_s"],
      [Op.i64_lt_u, "i64.lt_u"],
      [Op.i64_gt_s, "i64.gt_s"],
      [Op.i64_gt_u, "i64.gt_u"],
      [Op.i64_le_s, "i64.le_s"],
      [Op.i64_le_u, "i64.le_u"],
      [Op.i64_ge_s, "i64.ge_s"],
      [Op.i64_ge_u, "i64.ge_u"],
      [Op.i64_add, "i64.add"],
      [Op.i64_sub, "i64.sub"],
      [Op.i64_mul, "i64.mul"],
      [Op.i64_div_s, "i64.div_s"],
      [Op.i64_div_u, "i64.div_u"],
      [Op.i64_rem_s, "i64.rem_s"],
      [Op.i64_rem_u, "i64.rem_u"],
      [Op.i64_and, "i64.and"],
      [Op.i64_or, "i64.or"],
      [Op.i64_xor, "i64.xor"],
      [Op.i64_shl, "i64.shl"],
      [Op.i64_shr_s, "i64.shr_s"],
      [Op.i64_shr_u, "i64.shr_u"],
      [Op.i64_rotl, "i64.rotl"],
      [Op.i64_rotr, "i64.rotr"],
    ] as const
  ).map(([op, name]) => binary(op, name, i64s)),
  unary(Op.i32_eqz, "i32.eqz", one32),
  unary(Op.i64_eqz, "i64.eqz", one64),
  unary(Op.i32_wrap_i64, "i32.wrap_i64", one64),
  unary(Op.i64_extend_i32_s, "i64.extend_i32_s", one32),
  unary(Op.i64_extend_i32_u, "i64.extend_i32_u", one32),
  unary(Op.i32_extend8_s, "i32.extend8_s", one32),
  unary(Op.i32_extend16_s, "i32.extend16_s", one32),
  unary(Op.i64_extend8_s, "i64.extend8_s", one64),
  unary(Op.i64_extend16_s, "i64.extend16_s", one64),
  unary(Op.i64_extend32_s, "i64.extend32_s", one64),
  load(Op.i32_load, "i32.load"),
  load(Op.i64_load, "i64.load"),
  load(Op.i32_load8_s, "i32.load8_s"),
  load(Op.i32_load8_u, "i32.load8_u"),
  load(Op.i32_load16_s, "i32.load16_s"),
  load(Op.i32_load16_u, "i32.load16_u"),
  load(Op.i64_load8_s, "i64.load8_s"),
  load(Op.i64_load8_u, "i64.load8_u"),
  load(Op.i64_load16_s, "i64.load16_s"),
  load(Op.i64_load16_u, "i64.load16_u"),
  load(Op.i64_load32_s, "i64.load32_s"),
  load(Op.i64_load32_u, "i64.load32_u"),
  store(Op.i32_store, "i32.store", one32),
  store(Op.i64_store, "i64.store", one64),
  store(Op.i32_store8, "i32.store8", one32),
  store(Op.i32_store16, "i32.store16", one32),
  store(Op.i64_store8, "i64.store8", one64),
  store(Op.i64_store16, "i64.store16", one64),
  store(Op.i64_store32, "i64.store32", one64),
];

/** A function (i64, i32) -> () of the snippets, inside a module importing memory and a global. */
function opcodeModule(body: (c: Code) => void): Uint8Array {
  const m = new ModuleBuilder();
  m.importMemory("env", "memory");
  m.importGlobal("env", "g", I32, true);
  const f = m.declareFunction([I64, I32], [], "ops");
  const c = new Code();
  body(c);
  c.end();
  m.setBody(f, [I64], c.toBytes());
  return m.encode().bytes;
}

describe.skipIf(!hasClang)("opcodes as llvm-objdump decodes them", () => {
  it("every arithmetic, conversion, load and store opcode", () => {
    const bytes = opcodeModule((c) => OPCODES.forEach(([, snippet]) => snippet(c)));
    expect(wasmApi.validate(bytes)).toBe(true);
    const names = withTmp((dir) => disassemble(dir, bytes)).map((l) => l.text.split(" ")[0]);
    const expected = OPCODES.map(([name]) => name);
    // the disassembly interleaves the operand pushes and drops; the opcodes appear in order
    const found = names.filter(
      (n) => expected.includes(n!) && !["i32.const", "i64.const"].includes(n!),
    );
    expect(found).toEqual(expected.filter((n) => !["i32.const", "i64.const"].includes(n)));
    // memory immediates: the offset, and the alignment hint (log2) as given
    expect(
      withTmp((dir) => disassemble(dir, bytes))
        .filter((l) => l.text.startsWith("i64.load "))
        .map((l) => l.text),
    ).toContain("i64.load 16:p2align=0");
  });

  it("control, variables and calls, with their immediates", () => {
    const m = new ModuleBuilder();
    m.importMemory("env", "memory");
    const g = m.importGlobal("env", "g", I32, true);
    const imported = m.importFunction("env", "f", [I32], [I32]);
    const f = m.declareFunction([I64, I32], [I64], "control");
    const c = new Code();
    c.block().loop().localGet(1).brIf(1).i32Const(0).brTable([0, 1], 1).end().end();
    c.globalGet(g).call(imported).localTee(1).globalSet(g);
    c.localGet(1).if().op(Op.nop).else().op(Op.unreachable).end();
    c.i64Const(1, 0).i64Const(2, 0).localGet(1).op(Op.select).localSet(2);
    c.localGet(2).op(Op.return).end();
    m.setBody(f, [I64], c.toBytes());
    const bytes = m.encode().bytes;
    expect(wasmApi.validate(bytes)).toBe(true);
    const text = withTmp((dir) => disassemble(dir, bytes)).map((l) => l.text);
    expect(text).toEqual([
      "block",
      "loop",
      "local.get 1",
      "br_if 1",
      "i32.const 0",
      "br_table {0, 1, 1}",
      "end",
      "end",
      "global.get 0",
      "call 0",
      "local.tee 1",
      "global.set 0",
      "local.get 1",
      "if",
      "nop",
      "else",
      "unreachable",
      "end",
      "i64.const 1",
      "i64.const 2",
      "local.get 1",
      "f32.select", // LLVM 14 prints the untyped select this way
      "local.set 2",
      "local.get 2",
      "return",
      "end",
    ]);
  });
});

describe("modules V8 accepts", () => {
  it("a loop with br_table, exported and run", () => {
    // sum of i * (i % 3 == 0 ? 2 : 1) for i < n, the switch through br_table
    const m = new ModuleBuilder();
    const f = m.declareFunction([I32], [I64], "sum");
    const c = new Code();
    const [n, i, acc] = [0, 1, 2];
    c.block().loop();
    c.localGet(i).localGet(n).op(Op.i32_ge_u).brIf(1);
    c.block().block();
    c.localGet(i).i32Const(3).op(Op.i32_rem_u).brTable([0], 1);
    c.end(); // case 0: double
    c.localGet(acc).localGet(i).op(Op.i64_extend_i32_u).op(Op.i64_add).localSet(acc);
    c.end(); // all cases
    c.localGet(acc).localGet(i).op(Op.i64_extend_i32_u).op(Op.i64_add).localSet(acc);
    c.localGet(i).i32Const(1).op(Op.i32_add).localSet(i);
    c.br(0).end().end();
    c.localGet(acc).end();
    m.setBody(f, [I32, I64], c.toBytes());
    m.exportFunction("sum", f);
    const instance = new wasmApi.Instance(new wasmApi.Module(m.encode().bytes), {});
    const sum = instance.exports.sum as (n: number) => bigint;
    let want = 0n;
    for (let k = 0; k < 100; k++) want += BigInt(k % 3 === 0 ? 2 * k : k);
    expect(sum(100)).toBe(want);
  });

  it("code offsets are the module offsets V8 reports for a trap", () => {
    const m = new ModuleBuilder();
    m.declareFunction([], [], "first");
    const f = m.declareFunction([I32], [I32], "traps");
    m.setBody(0, [], new Code().end().toBytes());
    const c = new Code().localGet(0).i32Const(0).op(Op.i32_div_u);
    const at = c.length - 1; // the division traps
    c.end();
    m.setBody(f, [], c.toBytes());
    m.exportFunction("traps", f);
    const encoded = m.encode();
    const instance = new wasmApi.Instance(new wasmApi.Module(encoded.bytes), {});
    let stack = "";
    try {
      (instance.exports.traps as (x: number) => number)(1);
    } catch (err) {
      stack = (err as Error).stack ?? "";
    }
    const frame = /wasm-function\[(\d+)\]:0x([0-9a-f]+)/.exec(stack);
    expect(frame).not.toBeNull();
    expect(Number(frame![1])).toBe(f);
    expect(parseInt(frame![2]!, 16)).toBe(encoded.codeOffsets.get(f)! + at);
  });

  it("imports must come before defined functions", () => {
    const m = new ModuleBuilder();
    m.declareFunction([], [], "f");
    expect(() => m.importFunction("env", "g", [], [])).toThrow(/imports must precede/);
  });
});
