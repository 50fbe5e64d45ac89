// Shared by the vm tests: run assembler text or slots in a fresh machine; locate real tools.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble } from "../../runtime/isa/asm.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { testHelpers } from "../../runtime/vm/conformance.js";
import type { HelperTable } from "../../runtime/vm/helpers.js";
import { Interpreter, type RunOptions } from "../../runtime/vm/interpreter.js";
import { AddressSpace, type Region } from "../../runtime/vm/memory.js";
import { prepareProgram, type PrepareOptions } from "../../runtime/vm/program.js";

export const u64 = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
export const pair = (value: bigint): [number, number] => [
  Number(BigInt.asUintN(32, value)) | 0,
  Number(BigInt.asUintN(32, value >> 32n)) | 0,
];

export interface Machine {
  memory: AddressSpace;
  vm: Interpreter;
  mem: Region;
}

export function machine(mem: Uint8Array = new Uint8Array(64), helpers?: HelperTable): Machine {
  const memory = new AddressSpace();
  const vm = new Interpreter({ memory, helpers: helpers ?? testHelpers() });
  const region = memory.alloc(mem.length, { name: "mem", kind: "data" });
  memory.u8.set(mem, region.base);
  return { memory, vm, mem: region };
}

export interface Ran extends Machine {
  r0: bigint;
  insns: number;
}

/** Run slots (or assembler text) with r1 = mem, r2 = its length; r0 as an unsigned bigint. */
export function run(
  program: string | Insn[],
  options: {
    mem?: Uint8Array;
    helpers?: HelperTable;
    budget?: number;
    prepare?: PrepareOptions;
    m?: Machine;
    run?: RunOptions;
  } = {},
): Ran {
  const insns = typeof program === "string" ? assemble(program, "test.s") : program;
  const m = options.m ?? machine(options.mem, options.helpers);
  const prog = prepareProgram(insns, { name: "test", ...options.prepare });
  const result = m.vm.run(prog, {
    args: [
      [m.mem.addressLo, m.mem.addressHi],
      [m.mem.size, 0],
    ],
    packet: m.mem,
    ...(options.budget !== undefined ? { budget: options.budget } : {}),
    ...options.run,
  });
  return { ...m, r0: u64(result.lo, result.hi), insns: result.insns };
}

export function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-vm-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function withTmpAsync<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-vm-"));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small seeded PRNG (xorshift32), so failures reproduce. */
export function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
