// NUL-terminated strings out of string tables. Names are almost always ASCII, which is read
// directly; TextDecoder (slow on short inputs) only sees the rest.
const utf8 = new TextDecoder("utf-8");

/** The bytes [start, end) as text. */
export function decodeName(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return utf8.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}
