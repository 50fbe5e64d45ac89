// The simulated kernel's clock. Time moves only when the workload says simulated work was done
// (a syscall's cost, a disk's latency, an idle gap), never with the number of BPF instructions
// run or the engine that ran them, so a seed fixes every timestamp.
//
// Values are nanoseconds as JavaScript numbers: exact up to 2^53 ns (104 days of uptime).

const TWO32 = 0x100000000;

/** CLOCK_MONOTONIC when the simulated machine starts running workloads: one hour of uptime. */
export const BOOT_UPTIME_NS = 3600 * 1e9;
/** CLOCK_REALTIME at monotonic zero: 2023-11-14 22:13:20 UTC (a fixed, arbitrary date). */
export const REALTIME_AT_BOOT_NS = 1_700_000_000 * 1e9;
/** CONFIG_HZ of the simulated kernel. */
export const HZ = 250;
/** INITIAL_JIFFIES: jiffies start 5 minutes before wrapping, as in the kernel. */
const INITIAL_JIFFIES = TWO32 - 300 * HZ;

export class KernelClock {
  /** ktime_get_ns(): CLOCK_MONOTONIC in nanoseconds */
  ns = BOOT_UPTIME_NS;
  /** time spent suspended (CLOCK_BOOTTIME - CLOCK_MONOTONIC); the machine never sleeps */
  readonly suspendedNs = 0;

  /** Simulated work took `ns` nanoseconds. */
  advance(ns: number): void {
    if (!(ns >= 0)) return;
    this.ns += Math.round(ns);
  }

  /** ktime_get_boot_ns(). */
  get bootNs(): number {
    return this.ns + this.suspendedNs;
  }

  /** ktime_get_real_ns(). */
  get realtimeNs(): number {
    return REALTIME_AT_BOOT_NS + this.ns;
  }

  /** ktime_get_coarse_ns(): the time of the last tick. */
  get coarseNs(): number {
    const tick = 1e9 / HZ;
    return Math.floor(this.ns / tick) * tick;
  }

  /** jiffies (64-bit, as a number). */
  get jiffies(): number {
    return INITIAL_JIFFIES + Math.floor(this.ns / (1e9 / HZ));
  }
}

/** Low 32 bits of an integer below 2^53 in magnitude, as a signed int32 (ToInt32 is exact). */
export const lo32 = (n: number): number => n | 0;
/** High 32 bits of an integer below 2^53 (two's complement for negative values). */
export const hi32 = (n: number): number => Math.floor(n / TWO32) | 0;
/** The number a (lo, hi) pair holds, when it is below 2^53. */
export const join64 = (lo: number, hi: number): number => (hi >>> 0) * TWO32 + (lo >>> 0);
