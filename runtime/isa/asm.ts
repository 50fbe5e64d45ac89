// Assembler for the uBPF / BPF conformance-suite syntax:
//
//   mov32 %r0, 0            ldxw %r0, [%r1+4]        stdw [%r1-8], 0x123
//   lddw %r1, 0x1111111111111111                     lock fetch add [%r10-8], %r1
//   jne %r0, 15, fail       ja +2      ja32 L1       call 5    call %r2    call local f
//   le16 %r0  be32 %r0  swap64 %r0   movsx832 %r0, %r1   ldxsb %r0, [%r10-1]   exit
//
// Two passes: parse every line into slots with unresolved label references, then patch the
// pc-relative offsets. A label is `name:`; comments start with `#` or `//`. As in the
// conformance suite, a jump to `exit` with no label of that name goes to the first `exit`.
import { TsbpfError } from "../error.js";
import type { Insn } from "./insn.js";
import * as op from "./opcodes.js";

export class AsmError extends TsbpfError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens of one line

type Token =
  | { kind: "word"; text: string; col: number }
  | { kind: "reg"; reg: number; text: string; col: number }
  | { kind: "num"; value: bigint; text: string; col: number }
  | { kind: "punct"; text: string; col: number };

const WORD = /[A-Za-z_.$][\w.$]*/y;
const REG = /%?r(\d+)\b/y;
const NUM = /(0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)(?![\w.$])/y;

class LineReader {
  constructor(
    readonly file: string,
    readonly lineNo: number,
  ) {}

  fail(col: number, reason: string): never {
    throw new AsmError(this.file, this.lineNo, col, reason);
  }

  tokenize(text: string): Token[] {
    const tokens: Token[] = [];
    let i = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === " " || c === "\t" || c === "\r") {
        i++;
        continue;
      }
      if (c === "#" || (c === "/" && text[i + 1] === "/")) break;
      const col = i + 1;
      REG.lastIndex = i;
      const reg = c === "%" || c === "r" ? REG.exec(text) : null;
      if (reg) {
        tokens.push({ kind: "reg", reg: Number(reg[1]), text: reg[0], col });
        i += reg[0].length;
        continue;
      }
      if (c === "%") this.fail(col, `bad register '${text.slice(i).split(/[\s,\]]/)[0]}'`);
      if (/\d/.test(c)) {
        NUM.lastIndex = i;
        const m = NUM.exec(text);
        if (!m) this.fail(col, `bad number '${text.slice(i).split(/[\s,\]]/)[0]}'`);
        tokens.push({ kind: "num", value: BigInt(m[0]), text: m[0], col });
        i += m[0].length;
        continue;
      }
      WORD.lastIndex = i;
      const w = WORD.exec(text);
      if (w) {
        tokens.push({ kind: "word", text: w[0], col });
        i += w[0].length;
        continue;
      }
      if ("[],:+-".includes(c)) {
        tokens.push({ kind: "punct", text: c, col });
        i++;
        continue;
      }
      this.fail(col, `unexpected character '${c}'`);
    }
    return tokens;
  }
}

// ---------------------------------------------------------------------------------------------
// Operands

type Operand =
  | { kind: "reg"; reg: number; col: number }
  | { kind: "mem"; reg: number; off: bigint; col: number }
  | { kind: "num"; value: bigint; col: number }
  | { kind: "label"; name: string; col: number };

/** Splits the tokens after the mnemonic at commas; a bare word (e.g. `fetch`, `local`) also
 * ends an operand so `lock fetch add [..]` and `call local f` parse uniformly. */
function parseOperands(r: LineReader, tokens: Token[], start: number): Operand[] {
  const operands: Operand[] = [];
  let i = start;
  while (i < tokens.length) {
    const t = tokens[i]!;
    const [operand, next] = parseOperand(r, tokens, i);
    operands.push(operand);
    i = next;
    if (i < tokens.length) {
      const sep = tokens[i]!;
      if (sep.kind === "punct" && sep.text === ",") {
        i++;
        if (i >= tokens.length) r.fail(sep.col, "operand expected after ','");
      } else if (operand.kind !== "label") {
        r.fail(sep.col, `',' expected before '${sep.text}' (operand at column ${t.col})`);
      }
    }
  }
  return operands;
}

function parseOperand(r: LineReader, tokens: Token[], i: number): [Operand, number] {
  const t = tokens[i]!;
  if (t.kind === "reg") return [{ kind: "reg", reg: t.reg, col: t.col }, i + 1];
  if (t.kind === "num") return [{ kind: "num", value: t.value, col: t.col }, i + 1];
  if (t.kind === "word") return [{ kind: "label", name: t.text, col: t.col }, i + 1];
  if (t.text === "+" || t.text === "-") {
    const n = tokens[i + 1];
    if (n?.kind !== "num") r.fail(t.col, `number expected after '${t.text}'`);
    const value = t.text === "-" ? -n.value : n.value;
    return [{ kind: "num", value, col: t.col }, i + 2];
  }
  if (t.text === "[") return parseMemory(r, tokens, i);
  return r.fail(t.col, `unexpected '${t.text}'`);
}

// mem := '[' reg ( ('+'|'-') num )? ']'
function parseMemory(r: LineReader, tokens: Token[], i: number): [Operand, number] {
  const open = tokens[i]!;
  const base = tokens[i + 1];
  if (base?.kind !== "reg") r.fail(base?.col ?? open.col, "register expected after '['");
  let off = 0n;
  let j = i + 2;
  const sign = tokens[j];
  if (sign?.kind === "punct" && (sign.text === "+" || sign.text === "-")) {
    const n = tokens[j + 1];
    if (n?.kind !== "num") r.fail(sign.col, `number expected after '${sign.text}'`);
    off = sign.text === "-" ? -n.value : n.value;
    j += 2;
  }
  const close = tokens[j];
  if (close?.kind !== "punct" || close.text !== "]") {
    r.fail(close?.col ?? open.col, "']' expected to close the memory operand");
  }
  return [{ kind: "mem", reg: base.reg, off, col: open.col }, j + 1];
}

// ---------------------------------------------------------------------------------------------
// Encoding helpers

/** A slot under construction, with the label its offset or imm waits for. */
interface Pending {
  insn: Insn;
  label?: { name: string; col: number; field: "off" | "imm" };
  line: number;
}

function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): Insn {
  return { code, dst, src, off, imm };
}

class InsnParser {
  constructor(
    readonly r: LineReader,
    readonly mnemonic: string,
    readonly mnemonicCol: number,
    readonly operands: Operand[],
  ) {}

  fail(col: number, reason: string): never {
    return this.r.fail(col, reason);
  }

  count(n: number, shape: string): void {
    if (this.operands.length !== n) {
      const col = this.operands[n]?.col ?? this.mnemonicCol;
      this.fail(col, `'${this.mnemonic}' takes ${shape}`);
    }
  }

  reg(i: number): number {
    const o = this.operands[i]!;
    if (o.kind !== "reg") this.fail(o.col, "register expected");
    if (o.reg > 10) this.fail(o.col, `bad register r${o.reg} (r0-r10)`);
    return o.reg;
  }

  mem(i: number): { reg: number; off: number } {
    const o = this.operands[i]!;
    if (o.kind !== "mem") this.fail(o.col, "memory operand [%rN+off] expected");
    if (o.reg > 10) this.fail(o.col + 1, `bad register r${o.reg} (r0-r10)`);
    return { reg: o.reg, off: this.off16(o.off, o.col) };
  }

  off16(v: bigint, col: number): number {
    if (v < -32768n || v > 32767n) this.fail(col, `offset ${v} out of range (-32768..32767)`);
    return Number(v);
  }

  /** A 32-bit immediate: signed or unsigned spelling, stored as the signed field value. */
  imm32(i: number): number {
    const o = this.operands[i]!;
    if (o.kind !== "num") this.fail(o.col, "immediate expected");
    if (o.value < -0x80000000n || o.value > 0xffffffffn) {
      this.fail(o.col, `immediate ${o.value} out of range for 32 bits`);
    }
    return Number(BigInt.asIntN(32, o.value));
  }

  isReg(i: number): boolean {
    return this.operands[i]?.kind === "reg";
  }

  /** A jump target: a label (resolved later) or a signed slot offset. */
  target(i: number, p: Pending, field: "off" | "imm"): void {
    const o = this.operands[i]!;
    if (o.kind === "label") {
      p.label = { name: o.name, col: o.col, field };
    } else if (o.kind === "num") {
      if (field === "off") p.insn.off = this.off16(o.value, o.col);
      else p.insn.imm = this.imm32(i);
    } else {
      this.fail(o.col, "jump target (label or +offset) expected");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Mnemonic table

type Encoder = (p: InsnParser, line: number) => Pending[];

const SIZES: Record<string, number> = { b: op.BPF_B, h: op.BPF_H, w: op.BPF_W, dw: op.BPF_DW };

const ALU_OPS: Record<string, number> = {
  add: op.BPF_ADD,
  sub: op.BPF_SUB,
  mul: op.BPF_MUL,
  div: op.BPF_DIV,
  or: op.BPF_OR,
  and: op.BPF_AND,
  lsh: op.BPF_LSH,
  rsh: op.BPF_RSH,
  mod: op.BPF_MOD,
  xor: op.BPF_XOR,
  mov: op.BPF_MOV,
  arsh: op.BPF_ARSH,
  sdiv: op.BPF_DIV,
  smod: op.BPF_MOD,
};

const JMP_OPS: Record<string, number> = {
  jeq: op.BPF_JEQ,
  jgt: op.BPF_JGT,
  jge: op.BPF_JGE,
  jset: op.BPF_JSET,
  jne: op.BPF_JNE,
  jsgt: op.BPF_JSGT,
  jsge: op.BPF_JSGE,
  jlt: op.BPF_JLT,
  jle: op.BPF_JLE,
  jslt: op.BPF_JSLT,
  jsle: op.BPF_JSLE,
};

const ATOMIC_OPS: Record<string, number> = {
  add: op.BPF_ADD,
  or: op.BPF_OR,
  and: op.BPF_AND,
  xor: op.BPF_XOR,
  xchg: op.BPF_XCHG,
  cmpxchg: op.BPF_CMPXCHG,
};

const one = (p: Pending): Pending[] => [p];

function aluEncoder(cls: number, aluOp: number, signed: boolean): Encoder {
  return (p, line) => {
    p.count(2, "dst, src|imm");
    const dst = p.reg(0);
    const off = signed ? 1 : 0;
    if (p.isReg(1)) return one({ insn: insn(cls | aluOp | op.BPF_X, dst, p.reg(1), off), line });
    return one({ insn: insn(cls | aluOp | op.BPF_K, dst, 0, off, p.imm32(1)), line });
  };
}

function negEncoder(cls: number): Encoder {
  return (p, line) => {
    p.count(1, "one register");
    return one({ insn: insn(cls | op.BPF_NEG | op.BPF_K, p.reg(0)), line });
  };
}

function movsxEncoder(cls: number, bits: number): Encoder {
  return (p, line) => {
    p.count(2, "dst, src registers");
    return one({ insn: insn(cls | op.BPF_MOV | op.BPF_X, p.reg(0), p.reg(1), bits), line });
  };
}

function endianEncoder(code: number, bits: number): Encoder {
  return (p, line) => {
    p.count(1, "one register");
    return one({ insn: insn(code, p.reg(0), 0, 0, bits), line });
  };
}

function ldxEncoder(code: number): Encoder {
  return (p, line) => {
    p.count(2, "dst, [src+off]");
    const m = p.mem(1);
    return one({ insn: insn(code, p.reg(0), m.reg, m.off), line });
  };
}

function stEncoder(code: number): Encoder {
  return (p, line) => {
    p.count(2, "[dst+off], imm");
    const m = p.mem(0);
    return one({ insn: insn(code, m.reg, 0, m.off, p.imm32(1)), line });
  };
}

function stxEncoder(code: number): Encoder {
  return (p, line) => {
    p.count(2, "[dst+off], src");
    const m = p.mem(0);
    return one({ insn: insn(code, m.reg, p.reg(1), m.off), line });
  };
}

function ldabsEncoder(code: number): Encoder {
  return (p, line) => {
    p.count(1, "one immediate");
    return one({ insn: insn(code, 0, 0, 0, p.imm32(0)), line });
  };
}

function ldindEncoder(code: number): Encoder {
  return (p, line) => {
    p.count(2, "src, imm");
    return one({ insn: insn(code, 0, p.reg(0), 0, p.imm32(1)), line });
  };
}

// lddw dst, imm64: low half in the first slot, high half in the second.
const lddw: Encoder = (p, line) => {
  p.count(2, "dst, imm64");
  const dst = p.reg(0);
  const o = p.operands[1]!;
  if (o.kind !== "num") return p.fail(o.col, "64-bit immediate expected");
  if (o.value < -(1n << 63n) || o.value >= 1n << 64n) {
    p.fail(o.col, `immediate ${o.value} out of range for 64 bits`);
  }
  const lo = Number(BigInt.asIntN(32, o.value));
  const hi = Number(BigInt.asIntN(32, o.value >> 32n));
  return [
    { insn: insn(op.BPF_LDDW, dst, 0, 0, lo), line },
    { insn: insn(0, 0, 0, 0, hi), line },
  ];
};

function jaEncoder(cls: number): Encoder {
  return (p, line) => {
    p.count(1, "a jump target");
    const pending: Pending = { insn: insn(cls | op.BPF_JA), line };
    // ja (JMP) keeps the offset in off; ja32 / gotol (JMP32) keeps it in imm.
    p.target(0, pending, cls === op.BPF_JMP ? "off" : "imm");
    return [pending];
  };
}

function condJumpEncoder(cls: number, jmpOp: number): Encoder {
  return (p, line) => {
    p.count(3, "dst, src|imm, target");
    const dst = p.reg(0);
    const pending: Pending = p.isReg(1)
      ? { insn: insn(cls | jmpOp | op.BPF_X, dst, p.reg(1)), line }
      : { insn: insn(cls | jmpOp | op.BPF_K, dst, 0, 0, p.imm32(1)), line };
    p.target(2, pending, "off");
    return [pending];
  };
}

// call N (helper) | call %rN (callx) | call local target | call helper N | call runtime N
const call: Encoder = (p, line) => {
  const code = op.BPF_JMP | op.BPF_CALL;
  const first = p.operands[0];
  if (first?.kind === "label" && ["local", "helper", "runtime"].includes(first.name)) {
    p.count(2, "a mode and a target");
    if (first.name === "local") {
      const pending: Pending = { insn: insn(code, 0, op.BPF_PSEUDO_CALL), line };
      p.target(1, pending, "imm");
      return [pending];
    }
    const src = first.name === "runtime" ? op.BPF_PSEUDO_KFUNC_CALL : 0;
    return one({ insn: insn(code, 0, src, 0, p.imm32(1)), line });
  }
  p.count(1, "a helper id, a register or 'local <label>'");
  if (p.isReg(0)) return callx(p, line);
  return one({ insn: insn(code, 0, 0, 0, p.imm32(0)), line });
};

// callx keeps the target register in dst, as the conformance suite and newer LLVM encode it.
const callx: Encoder = (p, line) => {
  p.count(1, "one register");
  return one({ insn: insn(op.BPF_JMP | op.BPF_CALL | op.BPF_X, p.reg(0)), line });
};

const exit: Encoder = (p, line) => {
  p.count(0, "no operands");
  return one({ insn: insn(op.BPF_JMP | op.BPF_EXIT), line });
};

// lock [fetch] <op>[32] [dst+off], src
const lock: Encoder = (p, line) => {
  const words: string[] = [];
  let k = 0;
  for (; k < p.operands.length; k++) {
    const o = p.operands[k]!;
    if (o.kind !== "label") break;
    words.push(o.name);
  }
  const fetch = words[0] === "fetch";
  const name = fetch ? words[1] : words[0];
  const col = p.operands[fetch ? 1 : 0]?.col ?? p.mnemonicCol;
  if (words.length !== (fetch ? 2 : 1) || name === undefined) {
    p.fail(col, "'lock' takes [fetch] <op> [dst+off], src");
  }
  const is32 = name.endsWith("32");
  const base = is32 ? name.slice(0, -2) : name;
  const atomicOp = ATOMIC_OPS[base];
  if (atomicOp === undefined) p.fail(col, `unknown atomic operation '${name}'`);
  const rest = new InsnParser(p.r, `lock ${words.join(" ")}`, p.mnemonicCol, p.operands.slice(k));
  rest.count(2, "[dst+off], src");
  const m = rest.mem(0);
  const size = is32 ? op.BPF_W : op.BPF_DW;
  const imm = fetch ? atomicOp | op.BPF_FETCH : atomicOp;
  return one({
    insn: insn(op.BPF_STX | op.BPF_ATOMIC | size, m.reg, rest.reg(1), m.off, imm),
    line,
  });
};

function buildMnemonics(): Map<string, Encoder> {
  const t = new Map<string, Encoder>();
  for (const [name, aluOp] of Object.entries(ALU_OPS)) {
    const signed = name === "sdiv" || name === "smod";
    t.set(name, aluEncoder(op.BPF_ALU64, aluOp, signed));
    t.set(`${name}64`, aluEncoder(op.BPF_ALU64, aluOp, signed));
    t.set(`${name}32`, aluEncoder(op.BPF_ALU, aluOp, signed));
  }
  t.set("neg", negEncoder(op.BPF_ALU64));
  t.set("neg64", negEncoder(op.BPF_ALU64));
  t.set("neg32", negEncoder(op.BPF_ALU));
  for (const bits of [8, 16, 32]) {
    t.set(`movsx${bits}64`, movsxEncoder(op.BPF_ALU64, bits));
    if (bits !== 32) t.set(`movsx${bits}32`, movsxEncoder(op.BPF_ALU, bits));
  }
  for (const bits of [16, 32, 64]) {
    t.set(`le${bits}`, endianEncoder(op.BPF_ALU | op.BPF_END | op.BPF_TO_LE, bits));
    t.set(`be${bits}`, endianEncoder(op.BPF_ALU | op.BPF_END | op.BPF_TO_BE, bits));
    t.set(`swap${bits}`, endianEncoder(op.BPF_ALU64 | op.BPF_END | op.BPF_K, bits));
    t.set(`bswap${bits}`, endianEncoder(op.BPF_ALU64 | op.BPF_END | op.BPF_K, bits));
  }
  for (const [s, size] of Object.entries(SIZES)) {
    t.set(`ldx${s}`, ldxEncoder(op.BPF_LDX | op.BPF_MEM | size));
    if (s !== "dw") t.set(`ldxs${s}`, ldxEncoder(op.BPF_LDX | op.BPF_MEMSX | size));
    t.set(`st${s}`, stEncoder(op.BPF_ST | op.BPF_MEM | size));
    t.set(`stx${s}`, stxEncoder(op.BPF_STX | op.BPF_MEM | size));
    // Legacy packet loads exist for b/h/w only (the kernel has no 8-byte form).
    if (s === "dw") continue;
    t.set(`ldabs${s}`, ldabsEncoder(op.BPF_LD | op.BPF_ABS | size));
    t.set(`ldind${s}`, ldindEncoder(op.BPF_LD | op.BPF_IND | size));
  }
  t.set("lddw", lddw);
  t.set("ja", jaEncoder(op.BPF_JMP));
  t.set("ja32", jaEncoder(op.BPF_JMP32));
  t.set("gotol", jaEncoder(op.BPF_JMP32));
  for (const [name, jmpOp] of Object.entries(JMP_OPS)) {
    t.set(name, condJumpEncoder(op.BPF_JMP, jmpOp));
    t.set(`${name}32`, condJumpEncoder(op.BPF_JMP32, jmpOp));
  }
  t.set("call", call);
  t.set("callx", callx);
  t.set("exit", exit);
  t.set("lock", lock);
  return t;
}

const MNEMONICS = buildMnemonics();

// ---------------------------------------------------------------------------------------------
// Driver

/** Assembles uBPF-syntax source into instruction slots; `file` names the source in errors. */
export function assemble(source: string, file = "<asm>"): Insn[] {
  const slots: Pending[] = [];
  const labels = new Map<string, number>();
  let firstExit = -1;
  const lines = source.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const r: LineReader = new LineReader(file, n + 1);
    const tokens = r.tokenize(lines[n]!);
    let i = 0;
    // Labels: `name:` (several may precede one instruction).
    while (tokens[i]?.kind === "word" && tokens[i + 1]?.kind === "punct") {
      const colon = tokens[i + 1]!;
      if (colon.text !== ":") break;
      const name = tokens[i]!.text;
      if (labels.has(name)) r.fail(tokens[i]!.col, `duplicate label '${name}'`);
      labels.set(name, slots.length);
      i += 2;
    }
    if (i >= tokens.length) continue;
    const head = tokens[i]!;
    if (head.kind !== "word") r.fail(head.col, "mnemonic expected");
    const mnemonic = head.text.toLowerCase();
    const encode = MNEMONICS.get(mnemonic);
    if (!encode) r.fail(head.col, `unknown mnemonic '${head.text}'`);
    const p = new InsnParser(r, mnemonic, head.col, parseOperands(r, tokens, i + 1));
    if (mnemonic === "exit" && firstExit < 0) firstExit = slots.length;
    for (const s of encode(p, n + 1)) slots.push(s);
  }
  if (!labels.has("exit") && firstExit >= 0) labels.set("exit", firstExit);
  return slots.map((s, index) => resolve(s, index, labels, file));
}

function resolve(s: Pending, index: number, labels: Map<string, number>, file: string): Insn {
  if (!s.label) return s.insn;
  const { name, col, field } = s.label;
  const target = labels.get(name);
  if (target === undefined) throw new AsmError(file, s.line, col, `undefined label '${name}'`);
  const delta = target - (index + 1);
  if (field === "off") {
    if (delta < -32768 || delta > 32767) {
      throw new AsmError(file, s.line, col, `jump to '${name}' out of 16-bit range (${delta})`);
    }
    s.insn.off = delta;
  } else {
    s.insn.imm = delta;
  }
  return s.insn;
}
