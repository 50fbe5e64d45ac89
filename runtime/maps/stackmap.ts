// BPF_MAP_TYPE_STACK_TRACE (kernel/bpf/stackmap.c): bpf_get_stackid() hashes a stack's
// instruction pointers (jhash2, seed 0) into roundup_pow_of_two(max_entries) buckets and returns
// the bucket number as the stack id; user space reads a stack back with BPF_MAP_LOOKUP_ELEM on
// that id. A bucket holds one stack: a different stack hashing to an occupied bucket is
// -EEXIST unless BPF_F_REUSE_STACKID replaces it; BPF_F_FAST_STACK_CMP trusts an equal hash
// without comparing the ips. max_entries stacks are preallocated: with every one in use, a new
// stack is -ENOMEM.
//
// Values are value_size / 8 instruction pointers (zero-padded), or with BPF_F_STACK_BUILD_ID
// value_size / 32 struct bpf_stack_build_id records. The simulated kernel has no build ids, so
// every record says BPF_STACK_BUILD_ID_IP with the ip, as the kernel reports a stack whose
// build id it cannot find. Stacks are kept outside the address space: programs never read them.
import {
  BPF_F_FAST_STACK_CMP,
  BPF_F_NUMA_NODE,
  BPF_F_RDONLY,
  BPF_F_REUSE_STACKID,
  BPF_F_SKIP_FIELD_MASK,
  BPF_F_STACK_BUILD_ID,
  BPF_F_USER_STACK,
  BPF_F_WRONLY,
  BPF_STACK_BUILD_ID_IP,
} from "../uapi/bpf.js";
import { Errno } from "../uapi/errno.js";
import { writeU32 } from "./array.js";
import { MAP_MEMORY_LIMIT, roundupPowOfTwo } from "./hashtab.js";
import { jhash2 } from "./jhash.js";
import { BpfMap, type MapAttr, type MapEnv } from "./map.js";

const STACK_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_STACK_BUILD_ID;
/** sysctl kernel.perf_event_max_stack's default. */
export const PERF_EVENT_MAX_STACK = 127;
/** sizeof(struct bpf_stack_build_id): s32 status, u8 build_id[20], u64 offset or ip. */
const BUILD_ID_RECORD = 32;
const GET_STACKID_FLAGS =
  BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID;

/** stack_map_alloc()'s checks: 0 or -errno. */
export function stackMapAllocCheck(attr: MapAttr): number {
  const flags = attr.mapFlags ?? 0;
  if ((flags & ~STACK_CREATE_FLAG_MASK) !== 0) return -Errno.EINVAL;
  const valueSize = attr.valueSize;
  if (attr.maxEntries === 0 || attr.keySize !== 4 || valueSize < 8 || valueSize % 8 !== 0)
    return -Errno.EINVAL;
  if (flags & BPF_F_STACK_BUILD_ID) {
    if (valueSize % BUILD_ID_RECORD !== 0 || valueSize / BUILD_ID_RECORD > PERF_EVENT_MAX_STACK)
      return -Errno.EINVAL;
  } else if (valueSize / 8 > PERF_EVENT_MAX_STACK) {
    return -Errno.EINVAL;
  }
  if (attr.maxEntries > 2 ** 31) return -Errno.E2BIG;
  // buckets (8 bytes each) plus the preallocated stacks (header + value)
  const bytes = roundupPowOfTwo(attr.maxEntries) * 8 + attr.maxEntries * (16 + valueSize);
  return bytes > MAP_MEMORY_LIMIT ? -Errno.ENOMEM : 0;
}

/** A stored stack: the user-visible value words (u32, little-endian order) and its frame count. */
interface StackBucket {
  hash: number;
  nr: number;
  words: Int32Array;
}

export class StackTraceMap extends BpfMap {
  readonly nBuckets: number;
  readonly buildId: boolean;
  /** frames per value */
  readonly maxFrames: number;
  private readonly buckets = new Map<number, StackBucket>();
  /** preallocated stacks not in a bucket (pcpu_freelist), reused to avoid allocation */
  private freeCount: number;
  private readonly pool: StackBucket[] = [];
  private readonly frameWords: number;

  constructor(env: MapEnv, attr: MapAttr) {
    super(env, attr);
    this.nBuckets = roundupPowOfTwo(this.maxEntries);
    this.buildId = (this.mapFlags & BPF_F_STACK_BUILD_ID) !== 0;
    this.frameWords = (this.buildId ? BUILD_ID_RECORD : 8) / 4;
    this.maxFrames = this.valueSize / (this.frameWords * 4);
    this.freeCount = this.maxEntries;
  }

  /** The deepest stack bpf_get_stackid asks the unwinder for, given its flags (skip included). */
  maxDepth(flagsLo: number): number {
    return Math.min(this.maxFrames + (flagsLo & BPF_F_SKIP_FIELD_MASK), PERF_EVENT_MAX_STACK);
  }

  /**
   * bpf_get_stackid(ctx, map, flags) given the stack the simulated kernel unwound (kernel or
   * user, per BPF_F_USER_STACK): `ips` holds `nr` instruction pointers as (lo, hi) pairs,
   * innermost first. Returns the stack id, or -errno.
   */
  getStackid(ips: Int32Array, nr: number, flagsLo: number, flagsHi: number): number {
    if (flagsHi !== 0 || (flagsLo & ~GET_STACKID_FLAGS) !== 0) return -Errno.EINVAL;
    const skip = flagsLo & BPF_F_SKIP_FIELD_MASK;
    const depth = Math.min(nr, this.maxDepth(flagsLo));
    if (depth <= skip) return -Errno.EFAULT; // nothing left after skipping
    const frames = depth - skip;
    const hash = jhash2(ips, 2 * skip, 2 * frames, 0) | 0;
    const id = (hash >>> 0) % this.nBuckets;
    const bucket = this.buckets.get(id);
    const hashMatches = bucket !== undefined && bucket.hash === hash;
    if (hashMatches && (flagsLo & BPF_F_FAST_STACK_CMP) !== 0) return id;
    if (hashMatches && bucket.nr === frames && this.sameFrames(bucket, ips, skip, frames))
      return id;
    if (bucket !== undefined && (flagsLo & BPF_F_REUSE_STACKID) === 0) return -Errno.EEXIST;
    const fresh = this.popFree();
    if (fresh === undefined) return -Errno.ENOMEM;
    fresh.hash = hash;
    fresh.nr = frames;
    this.fill(fresh, ips, skip, frames);
    this.buckets.set(id, fresh);
    if (bucket !== undefined) this.pushFree(bucket);
    return id;
  }

  /** The stack stored under `id` as (lo, hi) ip pairs, or undefined. */
  stack(id: number): Int32Array | undefined {
    const bucket = this.buckets.get(id);
    if (bucket === undefined) return undefined;
    const out = new Int32Array(2 * bucket.nr);
    for (let i = 0; i < bucket.nr; i++) {
      const at = i * this.frameWords + (this.buildId ? 6 : 0);
      out[2 * i] = bucket.words[at]!;
      out[2 * i + 1] = bucket.words[at + 1]!;
    }
    return out;
  }

  // ---- syscall side ----

  /** bpf_stackmap_copy(): the stack's frames, zero-padded to value_size. */
  protected sysLookupElem(keyOffset: number, value: Uint8Array): number {
    const bucket = this.buckets.get(this.u32At(keyOffset));
    if (bucket === undefined) return -Errno.ENOENT;
    const bytes = new Uint8Array(bucket.words.buffer, 0, this.valueSize);
    const used = bucket.nr * this.frameWords * 4;
    value.set(bytes.subarray(0, used));
    value.fill(0, used, this.valueSize);
    return 0;
  }

  protected sysUpdateElem(): number {
    return -Errno.EINVAL;
  }

  protected sysDeleteElem(keyOffset: number): number {
    const id = this.u32At(keyOffset);
    if (id >= this.nBuckets) return -Errno.E2BIG;
    const bucket = this.buckets.get(id);
    if (bucket === undefined) return -Errno.ENOENT;
    this.buckets.delete(id);
    this.pushFree(bucket);
    return 0;
  }

  /** stack_map_get_next_key(): the next occupied bucket after `id` (or from 0). */
  protected sysGetNextKeyElem(keyOffset: number, nextKey: Uint8Array): number {
    let id = 0;
    if (keyOffset >= 0) {
      const key = this.u32At(keyOffset);
      id = key >= this.nBuckets || !this.buckets.has(key) ? 0 : key + 1;
    }
    let best = -1;
    for (const occupied of this.buckets.keys()) {
      if (occupied >= id && (best < 0 || occupied < best)) best = occupied;
    }
    if (best < 0) return -Errno.ENOENT;
    writeU32(nextKey, best);
    return 0;
  }

  protected freeMemory(): void {
    this.buckets.clear();
  }

  // ---- internals ----

  private sameFrames(bucket: StackBucket, ips: Int32Array, skip: number, frames: number): boolean {
    const offset = this.buildId ? 6 : 0;
    for (let i = 0; i < frames; i++) {
      const at = i * this.frameWords + offset;
      if (
        bucket.words[at] !== ips[2 * (skip + i)] ||
        bucket.words[at + 1] !== ips[2 * (skip + i) + 1]
      )
        return false;
    }
    return true;
  }

  /** Write the frames as the user will read them. */
  private fill(bucket: StackBucket, ips: Int32Array, skip: number, frames: number): void {
    const words = bucket.words;
    words.fill(0);
    for (let i = 0; i < frames; i++) {
      const at = i * this.frameWords;
      if (this.buildId) {
        words[at] = BPF_STACK_BUILD_ID_IP; // status; build_id[20] stays zero
        words[at + 6] = ips[2 * (skip + i)]!;
        words[at + 7] = ips[2 * (skip + i) + 1]!;
      } else {
        words[at] = ips[2 * (skip + i)]!;
        words[at + 1] = ips[2 * (skip + i) + 1]!;
      }
    }
  }

  private popFree(): StackBucket | undefined {
    if (this.freeCount === 0) return undefined;
    this.freeCount--;
    return this.pool.pop() ?? { hash: 0, nr: 0, words: new Int32Array(this.valueSize / 4) };
  }

  private pushFree(bucket: StackBucket): void {
    this.freeCount++;
    this.pool.push(bucket);
  }
}
