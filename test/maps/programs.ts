// Tiny BPF programs that drive a map from the kernel side (the helpers a program calls), for the
// "run" operation of map scripts: the real kernel runs them with BPF_PROG_TEST_RUN as socket
// filters, tsbpf runs them in its interpreter with the helpers below bound to its maps. Each
// returns the helper's result (or the first 4 bytes a lookup found, -1 for NULL).
import {
  BPF_CALL_HELPER,
  BPF_EXIT_INSN,
  BPF_JMP_IMM,
  BPF_LD_IMM64,
  BPF_LD_MAP_FD,
  BPF_LDX_MEM,
  BPF_MOV64_IMM,
  BPF_MOV64_REG,
  BPF_ALU64_IMM,
  BPF_ST_MEM,
} from "../../runtime/isa/build.js";
import { encodeProgram } from "../../runtime/isa/codec.js";
import type { Insn } from "../../runtime/isa/insn.js";
import { BPF_ADD, BPF_B, BPF_DW, BPF_JNE, BPF_W } from "../../runtime/isa/opcodes.js";
import { BpfFunc } from "../../runtime/uapi/helpers.js";
import { HelperTable, argHi, argLo, setResult, setResultSigned } from "../../runtime/vm/helpers.js";
import { KERNEL_HI } from "../../runtime/vm/memory.js";
import type { BpfMap } from "../../runtime/maps/map.js";
import { RingbufMap, ringbufOfSample } from "../../runtime/maps/ringbuf.js";
import type { PerfEventArrayMap } from "../../runtime/maps/fd-array.js";
import { hex } from "./script.js";

const R0 = 0;
const R1 = 1;
const R2 = 2;
const R3 = 3;
const R4 = 4;
const R10 = 10;

/** Store bytes (given as hex) on the stack at r10 - at, byte by byte. */
function storeBytes(hexBytes: string, at: number): Insn[] {
  const insns: Insn[] = [];
  for (let i = 0; i < hexBytes.length / 2; i++)
    insns.push(BPF_ST_MEM(BPF_B, R10, -at + i, parseInt(hexBytes.slice(2 * i, 2 * i + 2), 16)));
  return insns;
}

/** r<reg> = r10 - at */
const stackPointer = (reg: number, at: number): Insn[] => [
  BPF_MOV64_REG(reg, R10),
  BPF_ALU64_IMM(BPF_ADD, reg, -at),
];

const finish = (insns: Insn[]): string => hex(encodeProgram(insns));

/** bpf_map_lookup_elem(map, key): the value's first u32, or -1 for NULL. */
export function progLookup(keyHex: string): string {
  const at = align8(keyHex.length / 2);
  return finish([
    ...storeBytes(keyHex, at),
    ...BPF_LD_MAP_FD(R1, 0),
    ...stackPointer(R2, at),
    BPF_CALL_HELPER(BpfFunc.BPF_FUNC_map_lookup_elem),
    BPF_JMP_IMM(BPF_JNE, R0, 0, 2),
    BPF_MOV64_IMM(R0, -1),
    BPF_EXIT_INSN(),
    BPF_LDX_MEM(BPF_W, R0, R0, 0),
    BPF_EXIT_INSN(),
  ]);
}

/** bpf_map_update_elem(map, key, value, flags): its result. */
export function progUpdate(keyHex: string, valueHex: string, flags: number): string {
  const keyAt = align8(keyHex.length / 2);
  const valueAt = keyAt + align8(valueHex.length / 2);
  return finish([
    ...storeBytes(keyHex, keyAt),
    ...storeBytes(valueHex, valueAt),
    ...BPF_LD_MAP_FD(R1, 0),
    ...stackPointer(R2, keyAt),
    ...stackPointer(R3, valueAt),
    BPF_MOV64_IMM(R4, flags),
    BPF_CALL_HELPER(BpfFunc.BPF_FUNC_map_update_elem),
    BPF_EXIT_INSN(),
  ]);
}

/** bpf_map_delete_elem(map, key): its result. */
export function progDelete(keyHex: string): string {
  const at = align8(keyHex.length / 2);
  return finish([
    ...storeBytes(keyHex, at),
    ...BPF_LD_MAP_FD(R1, 0),
    ...stackPointer(R2, at),
    BPF_CALL_HELPER(BpfFunc.BPF_FUNC_map_delete_elem),
    BPF_EXIT_INSN(),
  ]);
}

/** bpf_ringbuf_output(map, data, size, flags) of `size` bytes (byte i = seed + i): its result. */
export function progRingbufOutput(size: number, seed: number, flags: number): string {
  const at = Math.max(8, align8(size));
  return finish([
    ...storeBytes(pattern(size, seed), at),
    ...BPF_LD_MAP_FD(R1, 0),
    ...stackPointer(R2, at),
    BPF_MOV64_IMM(R3, size),
    BPF_MOV64_IMM(R4, flags),
    BPF_CALL_HELPER(BpfFunc.BPF_FUNC_ringbuf_output),
    BPF_EXIT_INSN(),
  ]);
}

/**
 * bpf_ringbuf_reserve(map, size, 0), fill the sample (byte i = seed + i), then submit or
 * discard it with `flags`: returns 0, or -1 when the reservation failed.
 */
export function progRingbufReserve(
  size: number,
  seed: number,
  discard: boolean,
  flags: number,
): string {
  const fill: Insn[] = [];
  const bytes = pattern(size, seed);
  for (let i = 0; i < size; i++)
    fill.push(BPF_ST_MEM(BPF_B, R0, i, parseInt(bytes.slice(2 * i, 2 * i + 2), 16)));
  return finish([
    ...BPF_LD_MAP_FD(R1, 0),
    BPF_MOV64_IMM(R2, size),
    BPF_MOV64_IMM(R3, 0),
    BPF_CALL_HELPER(BpfFunc.BPF_FUNC_ringbuf_reserve),
    BPF_JMP_IMM(BPF_JNE, R0, 0, 2),
    BPF_MOV64_IMM(R0, -1),
    BPF_EXIT_INSN(),
    ...fill,
    BPF_MOV64_REG(R1, R0),
    BPF_MOV64_IMM(R2, flags),
    BPF_CALL_HELPER(discard ? BpfFunc.BPF_FUNC_ringbuf_discard : BpfFunc.BPF_FUNC_ringbuf_submit),
    BPF_MOV64_IMM(R0, 0),
    BPF_EXIT_INSN(),
  ]);
}

/** bpf_ringbuf_query(map, flags): the low 32 bits of its answer. */
export function progRingbufQuery(flags: number): string {
  return finish([
    ...BPF_LD_MAP_FD(R1, 0),
    BPF_MOV64_IMM(R2, flags),
    BPF_CALL_HELPER(BpfFunc.BPF_FUNC_ringbuf_query),
    BPF_EXIT_INSN(),
  ]);
}

/**
 * bpf_perf_event_output(ctx, map, flags, data, size) with a 64-bit flags constant: its result.
 * (A socket filter reaches the skb flavour, which shares the slot, CPU and event checks.)
 */
export function progPerfEventOutput(flagsLo: number, flagsHi: number, size: number): string {
  const at = Math.max(8, align8(size));
  return finish([
    ...storeBytes(pattern(size, 1), at),
    ...BPF_LD_MAP_FD(R2, 0),
    ...BPF_LD_IMM64(R3, flagsLo, flagsHi),
    ...stackPointer(R4, at),
    BPF_MOV64_IMM(5, size),
    BPF_CALL_HELPER(BpfFunc.BPF_FUNC_perf_event_output),
    BPF_EXIT_INSN(),
  ]);
}

/** `size` bytes seed, seed + 1, ... as hex. */
export function pattern(size: number, seed: number): string {
  return hex(Uint8Array.from({ length: size }, (_, i) => (seed + i) & 0xff));
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

// ---- the kernel side of tsbpf's maps, as the helpers will call it ----

/** The 64-bit value an lddw with BPF_PSEUDO_MAP_FD loads in the simulation: a map handle. */
export const MAP_HANDLE: readonly [number, number] = [0x00ba0000, 0xffffffff | 0];

/** Map helpers over one map (the one MAP_HANDLE names), running on CPU `cpu()`. */
export function mapHelpers(map: () => BpfMap, cpu: () => number): HelperTable {
  const table = new HelperTable();
  const F = BpfFunc;
  const address = (offset: number): [number, number] =>
    offset === 0 ? [0, 0] : [offset | 0, KERNEL_HI];
  table.register(F.BPF_FUNC_map_lookup_elem, "map_lookup_elem", (vm) => {
    setResult(vm, ...address(map().lookupElem(argLo(vm, 2), argHi(vm, 2), cpu())));
  });
  table.register(F.BPF_FUNC_map_update_elem, "map_update_elem", (vm) => {
    const r = map().updateElem(
      argLo(vm, 2),
      argHi(vm, 2),
      argLo(vm, 3),
      argHi(vm, 3),
      argLo(vm, 4),
      argHi(vm, 4),
      cpu(),
    );
    setResultSigned(vm, r);
  });
  table.register(F.BPF_FUNC_map_delete_elem, "map_delete_elem", (vm) => {
    setResultSigned(vm, map().deleteElem(argLo(vm, 2), argHi(vm, 2), cpu()));
  });
  const ring = (): RingbufMap => map() as RingbufMap;
  table.register(F.BPF_FUNC_ringbuf_output, "ringbuf_output", (vm) => {
    setResultSigned(
      vm,
      ring().output(argLo(vm, 2), argHi(vm, 2), argLo(vm, 3) >>> 0, argLo(vm, 4), argHi(vm, 4)),
    );
  });
  table.register(F.BPF_FUNC_ringbuf_reserve, "ringbuf_reserve", (vm) => {
    setResult(
      vm,
      ...address(ring().bpfReserve(argLo(vm, 2), argHi(vm, 2), argLo(vm, 3), argHi(vm, 3))),
    );
  });
  const commit =
    (discard: boolean) => (vm: Parameters<Parameters<HelperTable["register"]>[2]>[0]) => {
      const rb = ringbufOfSample(vm.memory, argLo(vm, 1), argHi(vm, 1));
      if (rb === undefined) throw new Error("ringbuf commit of an address outside any ring");
      rb.commit(argLo(vm, 1) >>> 0, argLo(vm, 2), discard);
      setResult(vm, 0, 0);
    };
  table.register(F.BPF_FUNC_ringbuf_submit, "ringbuf_submit", commit(false));
  table.register(F.BPF_FUNC_ringbuf_discard, "ringbuf_discard", commit(true));
  table.register(F.BPF_FUNC_perf_event_output, "perf_event_output", (vm) => {
    const events = map() as PerfEventArrayMap;
    const r = events.perfEventOutput(
      cpu(),
      argLo(vm, 3),
      argHi(vm, 3),
      argLo(vm, 4),
      argHi(vm, 4),
      argLo(vm, 5) >>> 0,
    );
    setResultSigned(vm, r);
  });
  table.register(F.BPF_FUNC_ringbuf_query, "ringbuf_query", (vm) => {
    const v = ring().query(argLo(vm, 2), argHi(vm, 2));
    setResult(vm, (v % 2 ** 32) | 0, Math.floor(v / 2 ** 32));
  });
  return table;
}
