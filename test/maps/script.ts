// Map-operation scripts, run on tsbpf's maps with the output test/maps/c/kmap.c prints for the
// real kernel, so the two can be compared line by line. See kmap.c for the script language.
import { BpfMapType } from "../../runtime/uapi/bpf.js";
import { Errno } from "../../runtime/uapi/errno.js";
import { AddressSpace } from "../../runtime/vm/memory.js";
import { createMap } from "../../runtime/maps/create.js";
import {
  FdArrayMap,
  type FdArrayHooks,
  type PerfOutputTarget,
  type ProgArrayEntry,
} from "../../runtime/maps/fd-array.js";
import { round8, type BpfMap, type MapEnv } from "../../runtime/maps/map.js";
import { RingbufMap } from "../../runtime/maps/ringbuf.js";
import { decodeProgram } from "../../runtime/isa/codec.js";
import { Interpreter } from "../../runtime/vm/interpreter.js";
import { prepareProgram } from "../../runtime/vm/program.js";
import { MAP_HANDLE, mapHelpers } from "./programs.js";

/** The fds a script's @prog / @perf values stand for in the simulation. */
const PROG_FD = 1000;
const PERF_FD = 1001;

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function unhex(text: string, size: number): Uint8Array {
  const out = new Uint8Array(Math.max(size, text.length / 2));
  for (let i = 0; i < text.length / 2; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian hex of an unsigned integer in `size` bytes. */
export function le(value: number, size = 4): string {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(value / 2 ** (8 * i)) % 256;
  return hex(out);
}

/** Run a script on fresh simulated maps with `cpus` possible CPUs; returns kmap's output lines. */
export function runSimScript(script: string, cpus: number): string[] {
  let cpu = 0;
  const env: MapEnv = {
    memory: new AddressSpace(),
    possibleCpus: cpus,
    syscallCpu: () => cpu,
  };
  const out = [`cpus ${cpus}`];
  let map: BpfMap | undefined;
  let progLoaded = false;
  let perfOpen = false;
  const prog: ProgArrayEntry = { program: undefined as never };
  // kmap opens its event on its CPU without mmap()ing a ring: the kernel's output finds no
  // buffer and says -ENOSPC, and so does this stand-in.
  const perf = {
    oncpu: 0,
    isBpfOutput: true,
    outputSample: () => -Errno.ENOSPC,
  } as PerfOutputTarget & {
    oncpu: number;
  };

  const progHooks: FdArrayHooks<ProgArrayEntry> = {
    // bpf_prog_get(): a perf event fd is not a program (-EINVAL); an unknown fd is -EBADF
    getPtr: (fd) =>
      fd === PROG_FD && progLoaded
        ? prog
        : fd === PERF_FD && perfOpen
          ? -Errno.EINVAL
          : -Errno.EBADF,
    putPtr: () => {},
    sysLookup: () => 1,
  };
  const perfHooks: FdArrayHooks<PerfOutputTarget> = {
    getPtr: (fd) => (fd === PERF_FD && perfOpen ? perf : -Errno.EBADF),
    putPtr: () => {},
  };
  const vm = new Interpreter({
    memory: env.memory,
    helpers: mapHelpers(
      () => map!,
      () => cpu,
    ),
  });
  const keyArg = (token: string): Uint8Array | null =>
    token === "-" ? null : unhex(token, map!.keySize);

  for (const raw of script.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [op, ...args] = line.split(/\s+/);
    switch (op) {
      case "create": {
        map?.free();
        const [type, keySize, valueSize, maxEntries, mapFlags, numaNode, mapExtra] =
          args.map(Number);
        const result = createMap(env, {
          mapType: type!,
          keySize: keySize!,
          valueSize: valueSize!,
          maxEntries: maxEntries!,
          mapFlags: mapFlags!,
          numaNode: numaNode ?? 0,
          mapExtra: mapExtra ?? 0,
        });
        if (typeof result === "number") {
          map = undefined;
          out.push(`create ${result}`);
          break;
        }
        map = result;
        if (map instanceof FdArrayMap) {
          (map as FdArrayMap<unknown>).hooks = (
            map.type === BpfMapType.BPF_MAP_TYPE_PROG_ARRAY ? progHooks : perfHooks
          ) as FdArrayHooks<unknown>;
        }
        out.push("create 0");
        break;
      }
      case "update": {
        const [key, value, flags] = args as [string, string, string];
        const bytes = new Uint8Array(map!.userValueSize);
        if (value === "@prog") bytes.set(unhex(le(PROG_FD), 4));
        else if (value === "@perf") bytes.set(unhex(le(PERF_FD), 4));
        else bytes.set(unhex(value, 0).subarray(0, bytes.length));
        out.push(`update ${map!.sysUpdate(keyArg(key), bytes, Number(flags))}`);
        break;
      }
      case "lookup": {
        const value = new Uint8Array(map!.userValueSize).fill(0xaa);
        const err = map!.sysLookup(keyArg(args[0]!), value, Number(args[1] ?? 0));
        out.push(err === 0 ? `lookup 0 ${hex(value)}` : `lookup ${err}`);
        break;
      }
      case "delete":
        out.push(`delete ${map!.sysDelete(keyArg(args[0]!))}`);
        break;
      case "next": {
        const next = new Uint8Array(map!.keySize).fill(0xaa);
        const err = map!.sysGetNextKey(keyArg(args[0]!), next);
        out.push(err === 0 ? `next 0 ${hex(next)}` : `next ${err}`);
        break;
      }
      case "walk": {
        // get_next_key from NULL, then from each key, looking each one up
        let current: Uint8Array | null = null;
        for (;;) {
          const next = new Uint8Array(map!.keySize).fill(0xaa);
          const err = map!.sysGetNextKey(current, next);
          if (err !== 0) {
            out.push(`next ${err}`);
            break;
          }
          out.push(`next 0 ${hex(next)}`);
          current = next;
          const value = new Uint8Array(map!.userValueSize).fill(0xaa);
          const found = map!.sysLookup(current, value);
          out.push(found === 0 ? `lookup 0 ${hex(value)}` : `lookup ${found}`);
        }
        break;
      }
      case "run": {
        const program = prepareProgram(decodeProgram(unhex(args[0]!, 0)), {
          name: "run",
          resolvePseudo: (src) => {
            if (src !== 1) throw new Error(`script: lddw src_reg ${src}`);
            return MAP_HANDLE;
          },
        });
        out.push(`run ${vm.run(program, { args: [[0, 0]] }).lo | 0}`);
        break;
      }
      case "ring": {
        const ring = map as RingbufMap;
        const data = env.memory.u8.subarray(ring.dataOffset, ring.dataOffset + ring.size);
        out.push(`ring ${ring.consumerPosition} ${ring.producerPosition} ${hex(data)}`);
        break;
      }
      case "consume": {
        const ring = map as RingbufMap;
        ring.consume((sample) => {
          out.push(`sample ${hex(sample)}`);
        });
        out.push(`consume ${ring.consumerPosition}`);
        break;
      }
      case "freeze":
        out.push(`freeze ${map!.freeze()}`);
        break;
      case "cpu":
        cpu = Number(args[0]);
        out.push("cpu 0");
        break;
      case "prog":
        progLoaded = true;
        out.push("prog 0");
        break;
      case "perf":
        perfOpen = true;
        perf.oncpu = cpu;
        out.push("perf 0");
        break;
      default:
        throw new Error(`script: unknown op '${op}'`);
    }
  }
  return out;
}

/** Script operations, one per entry, as kmap reads them. */
export function scriptOps(script: string): string[] {
  return script
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

const PERCPU_TYPES = new Set<number>([
  BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY,
  BpfMapType.BPF_MAP_TYPE_PERCPU_HASH,
  BpfMapType.BPF_MAP_TYPE_LRU_PERCPU_HASH,
]);

/**
 * Output lines, each paired with the operation that printed it ("cpus" has none; a walk prints
 * many), with what may differ for a reason made equal:
 * - a PROG_ARRAY lookup reports the kernel's program id, which the simulation numbers otherwise;
 * - the padding after each per-CPU value (value_size up to the next multiple of 8) is whatever
 *   the element's previous user left there: the kernel reuses preallocated elements and copies
 *   8-byte words, tsbpf hands out zeroed elements. Values themselves are compared in full.
 */
export function normalize(lines: string[], script: string): { op: string; line: string }[] {
  const ops = scriptOps(script);
  const out: { op: string; line: string }[] = [{ op: "", line: lines[0] ?? "" }];
  let type = -1;
  let valueSize = 0;
  let next = 1;
  for (const op of ops) {
    if (op.startsWith("create ")) {
      const fields = op.split(/\s+/);
      type = Number(fields[1]);
      valueSize = Number(fields[3]);
    }
    do {
      const line = lines[next++];
      if (line === undefined) return out;
      out.push({ op, line: normalizeLine(line, type, valueSize) });
      if (op !== "walk" || line.startsWith("next -")) break;
    } while (next < lines.length);
  }
  for (; next < lines.length; next++) out.push({ op: "(none)", line: lines[next]! });
  return out;
}

function normalizeLine(line: string, type: number, valueSize: number): string {
  if (!line.startsWith("lookup 0 ")) return line;
  if (type === BpfMapType.BPF_MAP_TYPE_PROG_ARRAY) return "lookup 0 <prog id>";
  if (!PERCPU_TYPES.has(type)) return line;
  const bytes = line.slice("lookup 0 ".length);
  const stride = 2 * round8(valueSize);
  let masked = "";
  for (let at = 0; at < bytes.length; at += stride)
    masked += bytes.slice(at, at + 2 * valueSize) + "..".repeat(stride / 2 - valueSize);
  return `lookup 0 ${masked}`;
}

/** A small seeded PRNG (xorshift32) for generated scripts. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
