// bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf over the format engine (printf.ts).
//
//   bpf_trace_printk(fmt, fmt_size, a1, a2, a3)   at most 3 arguments; the message (cut to 1023
//                                                 bytes) goes to trace_pipe as a
//                                                 "bpf_trace_printk: ..." line; returns its length
//   bpf_trace_vprintk(fmt, fmt_size, data, len)   up to 12 u64 arguments in `data`
//   bpf_snprintf(str, size, fmt, data, len)       writes at most size bytes (NUL included) and
//                                                 returns the full length + 1
// A bad format or argument array is -EINVAL (nothing printed). Kernels before 4.2 check
// trace_printk formats with 4.1's stricter rules.
import { KERNEL_VERSION, MAX_BPRINTF_VARARGS, MAX_TRACE_PRINTK_VARARGS } from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { BpfFunc } from "../uapi/helpers.js";
import { setResultSigned, type HelperContext, type HelperTable } from "../vm/helpers.js";
import type { HelperHost } from "./host.js";
import { bpfPrintf, type PrintfEnv, type PrintfRules } from "./printf.js";
import { belowTaskSize } from "./probe.js";

type Vm = HelperContext<HelperHost>;

/** BPF_TRACE_PRINTK_SIZE: bpf_trace_printk's output buffer. */
const TRACE_PRINTK_SIZE = 1024;

const envs = new WeakMap<HelperHost, PrintfEnv>();

/** The format engine's view of the kernel this host runs in. */
function printfEnv(host: HelperHost): PrintfEnv {
  let env = envs.get(host);
  if (env === undefined) {
    env = makePrintfEnv(host);
    envs.set(host, env);
  }
  return env;
}

function makePrintfEnv(host: HelperHost): PrintfEnv {
  const { kernel } = host;
  const memory = kernel.memory;
  const kernelByte = (lo: number, hi: number): number => {
    if (hi >>> 0 < 0xffff8000) return -1; // copy_from_kernel_nofault refuses the lower half
    const at = memory.translateRead(lo, hi, 1);
    return at < 0 ? -1 : memory.u8[at]!;
  };
  const userByte = (lo: number, hi: number): number => {
    const at = kernel.translateUser(host.cpu, lo, hi, 1);
    return at < 0 ? -1 : memory.u8[at]!;
  };
  return {
    readString(lo, hi, kind, max) {
      const user = kind === "u" || (kind === "s" && belowTaskSize(lo, hi));
      const byteAt = user ? userByte : kernelByte;
      const out: number[] = [];
      for (let i = 0; i < max - 1; i++) {
        const carry = (lo >>> 0) + i > 0xffffffff ? 1 : 0;
        const b = byteAt((lo + i) | 0, (hi + carry) | 0);
        if (b < 0) return undefined;
        if (b === 0) break;
        out.push(b);
      }
      return Uint8Array.from(out);
    },
    readKernel(lo, hi, size) {
      if (hi >>> 0 < 0xffff8000) return undefined;
      const at = memory.translateRead(lo, hi, size);
      return at < 0 ? undefined : memory.u8.slice(at, at + size);
    },
    symbol(lo, hi, style) {
      if (style !== "B") return kernel.kallsyms.format(lo, hi, style === "S");
      // a return address: look up the byte before it, print the offset of the address itself
      const found = kernel.kallsyms.resolve((lo - 1) | 0, hi);
      if (found === undefined) return kernel.kallsyms.format(lo, hi);
      const { symbol, offset } = found;
      return `${symbol.name}+0x${(offset + 1).toString(16)}/0x${symbol.size.toString(16)}`;
    },
    hashPointer(lo, hi) {
      return pointerHash(lo, hi, kernel.seed);
    },
  };
}

/** ptr_to_id()'s keyed hash, seeded by the kernel so runs repeat: 32 bits. */
export function pointerHash(lo: number, hi: number, seed: number): number {
  let h = Math.imul(seed ^ 0x2545f491, 0x9e3779b1);
  for (const word of [lo, hi]) {
    h = Math.imul(h ^ word, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

function rulesOf(host: HelperHost): PrintfRules {
  return host.kernel.version < KERNEL_VERSION(4, 2, 0) ? "legacy" : "bprintf";
}

/** The u64 arguments of the vprintk/snprintf helpers, or -EINVAL for a bad array. */
function dataArgs(vm: Vm, lo: number, hi: number, len: number): Int32Array | number {
  if ((len & 7) !== 0 || len > MAX_BPRINTF_VARARGS * 8) return -Errno.EINVAL;
  if (len === 0) return new Int32Array(0);
  if (lo === 0 && hi === 0) return -Errno.EINVAL;
  const bytes = vm.memory.readBytes(lo, hi, len);
  return new Int32Array(bytes.buffer, bytes.byteOffset, len / 4);
}

const decoder = new TextDecoder();

/** Format and print to trace_pipe; r0 = the message length or -errno. */
function printToTrace(vm: Vm, fmt: Uint8Array, args: ArrayLike<number>, numArgs: number): void {
  const host = vm.host;
  const result = bpfPrintf(fmt, args, numArgs, printfEnv(host), rulesOf(host));
  if ("errno" in result) {
    setResultSigned(vm, -result.errno);
    return;
  }
  const message = result.bytes.subarray(0, TRACE_PRINTK_SIZE - 1);
  host.kernel.tracePrintk(host.cpu, decoder.decode(message));
  setResultSigned(vm, result.bytes.length);
}

function tracePrintk(vm: Vm): void {
  const r = vm.regs;
  const size = r[4]! >>> 0;
  const fmt = vm.memory.readBytes(r[2]!, r[3]!, size);
  const args = r.subarray(6, 12); // r3, r4, r5
  printToTrace(vm, fmt, args, MAX_TRACE_PRINTK_VARARGS);
}

function traceVprintk(vm: Vm): void {
  const r = vm.regs;
  const args = dataArgs(vm, r[6]!, r[7]!, r[8]! >>> 0);
  if (typeof args === "number") {
    setResultSigned(vm, args);
    return;
  }
  const fmt = vm.memory.readBytes(r[2]!, r[3]!, r[4]! >>> 0);
  printToTrace(vm, fmt, args, args.length / 2);
}

function snprintf(vm: Vm): void {
  const r = vm.regs;
  const args = dataArgs(vm, r[8]!, r[9]!, r[10]! >>> 0);
  if (typeof args === "number") {
    setResultSigned(vm, args);
    return;
  }
  // fmt is a NUL-terminated read-only string (the verifier checked it)
  const text = vm.memory.readCString(r[6]!, r[7]!, 1 << 16);
  const fmt = new Uint8Array(text.length + 1);
  fmt.set(text);
  const result = bpfPrintf(fmt, args, args.length / 2, printfEnv(vm.host), "bprintf");
  if ("errno" in result) {
    setResultSigned(vm, -result.errno);
    return;
  }
  const size = r[4]! >>> 0;
  if (size > 0) {
    const dst = vm.memory.check(r[2]!, r[3]!, size, "write");
    const n = Math.min(result.bytes.length, size - 1);
    vm.memory.u8.set(result.bytes.subarray(0, n), dst);
    vm.memory.u8[dst + n] = 0;
  }
  setResultSigned(vm, result.bytes.length + 1);
}

export function registerPrintkHelpers(table: HelperTable<HelperHost>): void {
  const F = BpfFunc;
  table
    .register(F.BPF_FUNC_trace_printk, "bpf_trace_printk", tracePrintk)
    .register(F.BPF_FUNC_trace_vprintk, "bpf_trace_vprintk", traceVprintk)
    .register(F.BPF_FUNC_snprintf, "bpf_snprintf", snprintf);
}
