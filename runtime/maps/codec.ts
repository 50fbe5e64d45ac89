// Key and value codecs for the typed map view: how a JavaScript value is laid out in a map's
// bytes. Integers are little-endian as on x86_64 and BPF; 64-bit integers are bigint (this is the
// user side, off every hot path) or, with u64n/s64n, a number that must be a safe integer.
// struct() lays fields out with C's natural alignment, as clang does for the program's side.
import { TsbpfError } from "../error.js";

export interface Codec<T> {
  /** bytes the value takes */
  readonly size: number;
  /** alignment in a struct */
  readonly align: number;
  encode(value: T, out: Uint8Array, offset: number): void;
  decode(bytes: Uint8Array, offset: number): T;
}

/** A value a codec cannot encode (out of range, wrong length). */
export class CodecError extends TsbpfError {}

const view = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function intCodec(size: 1 | 2 | 4, signed: boolean): Codec<number> {
  const min = signed ? -(2 ** (size * 8 - 1)) : 0;
  const max = signed ? 2 ** (size * 8 - 1) - 1 : 2 ** (size * 8) - 1;
  const name = `${signed ? "s" : "u"}${size * 8}`;
  return {
    size,
    align: size,
    encode(value, out, offset) {
      if (!Number.isInteger(value) || value < min || value > max)
        throw new CodecError(`${name}: ${value} is out of range`);
      const v = view(out);
      if (size === 1) v.setUint8(offset, value & 0xff);
      else if (size === 2) v.setUint16(offset, value & 0xffff, true);
      else v.setUint32(offset, value >>> 0, true);
    },
    decode(bytes, offset) {
      const v = view(bytes);
      if (size === 1) return signed ? v.getInt8(offset) : v.getUint8(offset);
      if (size === 2) return signed ? v.getInt16(offset, true) : v.getUint16(offset, true);
      return signed ? v.getInt32(offset, true) : v.getUint32(offset, true);
    },
  };
}

export const u8 = intCodec(1, false);
export const s8 = intCodec(1, true);
export const u16 = intCodec(2, false);
export const s16 = intCodec(2, true);
export const u32 = intCodec(4, false);
export const s32 = intCodec(4, true);

function bigCodec(signed: boolean): Codec<bigint> {
  return {
    size: 8,
    align: 8,
    encode(value, out, offset) {
      const v = view(out);
      if (signed) v.setBigInt64(offset, BigInt.asIntN(64, value), true);
      else v.setBigUint64(offset, BigInt.asUintN(64, value), true);
    },
    decode(bytes, offset) {
      const v = view(bytes);
      return signed ? v.getBigInt64(offset, true) : v.getBigUint64(offset, true);
    },
  };
}

/** 64-bit integers as bigint (wrapping to 64 bits on encode). */
export const u64 = bigCodec(false);
export const s64 = bigCodec(true);

function safeCodec(signed: boolean): Codec<number> {
  const name = signed ? "s64n" : "u64n";
  return {
    size: 8,
    align: 8,
    encode(value, out, offset) {
      if (!Number.isSafeInteger(value) || (!signed && value < 0))
        throw new CodecError(
          `${name}: ${value} is not a safe ${signed ? "" : "non-negative "}integer`,
        );
      const v = view(out);
      const lo = value % 2 ** 32;
      v.setUint32(offset, lo < 0 ? lo + 2 ** 32 : lo, true);
      v.setInt32(offset + 4, Math.floor(value / 2 ** 32), true);
    },
    decode(bytes, offset) {
      const v = view(bytes);
      const lo = v.getUint32(offset, true);
      const hi = signed ? v.getInt32(offset + 4, true) : v.getUint32(offset + 4, true);
      const value = hi * 2 ** 32 + lo;
      if (!Number.isSafeInteger(value))
        throw new CodecError(`${name}: ${hi}:${lo} does not fit a number exactly; use u64`);
      return value;
    },
  };
}

/** 64-bit integers as numbers; decoding throws past 2^53. */
export const u64n = safeCodec(false);
export const s64n = safeCodec(true);

/** Raw bytes of a fixed size (shorter input is zero-padded). */
export function bytes(size: number): Codec<Uint8Array> {
  return {
    size,
    align: 1,
    encode(value, out, offset) {
      if (value.length > size) throw new CodecError(`bytes(${size}): got ${value.length} bytes`);
      out.fill(0, offset, offset + size);
      out.set(value, offset);
    },
    decode(data, offset) {
      return data.slice(offset, offset + size);
    },
  };
}

/** A char[size] holding a NUL-terminated string (comm, file names). */
export function cstring(size: number): Codec<string> {
  return {
    size,
    align: 1,
    encode(value, out, offset) {
      const encoded = new TextEncoder().encode(value);
      if (encoded.length >= size) throw new CodecError(`cstring(${size}): "${value}" is too long`);
      out.fill(0, offset, offset + size);
      out.set(encoded, offset);
    },
    decode(data, offset) {
      let end = offset;
      while (end < offset + size && data[end] !== 0) end++;
      return new TextDecoder().decode(data.subarray(offset, end));
    },
  };
}

/** T[count], elements back to back. */
export function array<T>(element: Codec<T>, count: number): Codec<T[]> {
  const stride = alignTo(element.size, element.align);
  return {
    size: stride * count,
    align: element.align,
    encode(value, out, offset) {
      if (value.length !== count)
        throw new CodecError(`array of ${count}: got ${value.length} elements`);
      value.forEach((item, i) => element.encode(item, out, offset + i * stride));
    },
    decode(data, offset) {
      return Array.from({ length: count }, (_, i) => element.decode(data, offset + i * stride));
    },
  };
}

type Fields = Record<string, Codec<unknown>>;
type StructOf<F extends Fields> = { [K in keyof F]: F[K] extends Codec<infer T> ? T : never };

/** A C struct: fields in order, each at its natural alignment, the size padded to the largest. */
export function struct<F extends Fields>(fields: F): Codec<StructOf<F>> {
  let offset = 0;
  let align = 1;
  const layout: { name: keyof F; codec: Codec<unknown>; offset: number }[] = [];
  for (const [name, codec] of Object.entries(fields)) {
    offset = alignTo(offset, codec.align);
    layout.push({ name, codec, offset });
    offset += codec.size;
    align = Math.max(align, codec.align);
  }
  const size = alignTo(offset, align);
  return {
    size,
    align,
    encode(value, out, at) {
      out.fill(0, at, at + size); // padding is zero
      for (const field of layout) {
        if (!(field.name in value))
          throw new CodecError(`struct: field '${String(field.name)}' missing`);
        field.codec.encode(value[field.name], out, at + field.offset);
      }
    },
    decode(data, at) {
      const result = {} as StructOf<F>;
      for (const field of layout)
        (result as Record<keyof F, unknown>)[field.name] = field.codec.decode(
          data,
          at + field.offset,
        );
      return result;
    },
  };
}

const alignTo = (n: number, align: number): number => Math.ceil(n / align) * align;

/** Encode one value into a fresh buffer. */
export function encode<T>(codec: Codec<T>, value: T): Uint8Array {
  const out = new Uint8Array(codec.size);
  codec.encode(value, out, 0);
  return out;
}
