// How the samples print: log2 histograms with bars as bcc draws them, tables sorted by count,
// timestamps and addresses.

/** A log2 histogram: slot 0 counts zeros, slot n counts values in [2^(n-1), 2^n - 1]. */
export function log2Histogram(slots: readonly number[], unit: string, indent = ""): string {
  let last = slots.length - 1;
  while (last > 0 && slots[last] === 0) last--;
  const first = Math.max(
    0,
    slots.findIndex((n) => n > 0),
  );
  const max = Math.max(1, ...slots);
  const rows = [`${indent}${unit.padStart(20)}${" ".repeat(12)}: count    distribution`];
  for (let i = Math.min(first, last); i <= last; i++) {
    const low = i === 0 ? 0 : 2 ** (i - 1);
    const high = i === 0 ? 0 : 2 ** i - 1;
    const n = slots[i] ?? 0;
    const bar = "*".repeat(Math.round((n / max) * 40)).padEnd(40);
    rows.push(
      `${indent}${String(low).padStart(20)} -> ${String(high).padEnd(8)}: ${String(n).padEnd(8)} |${bar}|`,
    );
  }
  return rows.join("\n");
}

/** A table: a header row and rows, columns padded; numbers right-aligned. */
export function table(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const widths = header.map((h, c) =>
    Math.max(h.length, ...rows.map((r) => String(r[c] ?? "").length)),
  );
  const line = (cells: readonly (string | number)[]) =>
    cells
      .map((cell, c) =>
        typeof cell === "number"
          ? String(cell).padStart(widths[c]!)
          : String(cell).padEnd(widths[c]!),
      )
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** CLOCK_MONOTONIC ns as seconds with microseconds, as trace_pipe prints them. */
export const seconds = (ns: number): string => (ns / 1e9).toFixed(6);

/** A u32 IPv4 address in network byte order, as a program read it from a sockaddr. */
export function ipv4(networkOrder: number): string {
  const n = networkOrder >>> 0;
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join(".");
}

/** A 64-bit kernel address (a bigint from a u64 codec) in hex. */
export const hexAddress = (address: bigint): string => "0x" + address.toString(16);

/** The slot log2Histogram uses for a value (for tests that build the expected histogram). */
export function log2Slot(value: number): number {
  let slot = 0;
  for (let v = value; v >= 1 && slot < 64; v = Math.floor(v / 2)) slot++;
  return slot;
}
