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
import type { BpfMap, MapEnv } from "../../runtime/maps/map.js";

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
  const perf: PerfOutputTarget = { oncpu: 0, isBpfOutput: true, outputSample: () => 0 };

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
        out.push("perf 0");
        break;
      default:
        throw new Error(`script: unknown op '${op}'`);
    }
  }
  return out;
}

/**
 * Lines that may differ for a reason, made equal: a PROG_ARRAY lookup reports the kernel's
 * program id, which the simulation numbers differently.
 */
export function normalize(lines: string[], script: string): string[] {
  const ops = script
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  let type = -1;
  return lines.map((line, i) => {
    const op = ops[i - 1] ?? "";
    if (op.startsWith("create ")) type = Number(op.split(/\s+/)[1]);
    if (type === BpfMapType.BPF_MAP_TYPE_PROG_ARRAY && line.startsWith("lookup 0 "))
      return "lookup 0 <prog id>";
    return line;
  });
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
