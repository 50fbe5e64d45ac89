// Map keys and values read through the object's BTF, as `bpftool map dump` shows them with BTF:
// integers as numbers (64-bit ones past 2^53 as decimal strings), char arrays as strings, enums
// by name, pointers as hex, structs and unions as objects (anonymous members flattened),
// arrays as arrays; a global-data section as an object of its variables. The same codec encodes
// such values back, so `map.typed()` works without hand-written codecs.
import {
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_DATASEC,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_UNION,
  type Btf,
  type BtfComposite,
  type BtfType,
} from "../btf/btf.js";
import { btfTypeById, btfTypeSize, skipModsAndTypedefs } from "../btf/query.js";
import { CodecError, type Codec } from "../maps/codec.js";

/** A value as BTF describes it, in JSON's terms. */
export type BtfValue = number | string | boolean | BtfValue[] | { [name: string]: BtfValue };

const MAX_DEPTH = 32;

/** A codec for type `typeId` of `btf`. */
export function btfCodec(btf: Btf, typeId: number): Codec<BtfValue> {
  const size = btfTypeSize(btf, typeId);
  return {
    size,
    align: 1,
    decode: (bytes, offset) => decodeValue(btf, typeId, viewOf(bytes), offset, 0),
    encode: (value, out, offset) => {
      out.fill(0, offset, offset + size);
      encodeValue(btf, typeId, value, viewOf(out), offset, 0);
    },
  };
}

/** Raw bytes as one hex string (values without BTF). */
export function hexCodec(size: number): Codec<string> {
  return {
    size,
    align: 1,
    decode: (bytes, offset) => Buffer.from(bytes.subarray(offset, offset + size)).toString("hex"),
    encode: (value, out, offset) => {
      if (!/^([0-9a-fA-F]{2})*$/.test(value) || value.length !== size * 2)
        throw new CodecError(`hex(${size}): '${value}' is not ${size} bytes of hex`);
      out.set(Buffer.from(value, "hex"), offset);
    },
  };
}

const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function decodeValue(btf: Btf, id: number, v: DataView, at: number, depth: number): BtfValue {
  if (depth > MAX_DEPTH) throw new CodecError(`BTF type [${id}] nests too deeply`);
  const t = skipModsAndTypedefs(btf, id);
  switch (t.kind) {
    case BTF_KIND_INT:
      if (t.encoding & BTF_INT_BOOL) return v.getUint8(at) !== 0;
      return readInt(v, at, t.size, (t.encoding & BTF_INT_SIGNED) !== 0);
    case BTF_KIND_ENUM: {
      const raw = readInt(v, at, t.size, t.kindFlag) as number;
      const hit = t.values.find((e) => (t.kindFlag ? e.value : e.value >>> 0) === raw);
      return hit?.name ?? raw;
    }
    case BTF_KIND_ENUM64: {
      const lo = v.getUint32(at, true);
      const hi = t.size === 8 ? v.getUint32(at + 4, true) : 0;
      const hit = t.values.find((e) => e.lo >>> 0 === lo && e.hi >>> 0 === hi);
      return hit?.name ?? readInt(v, at, t.size, t.kindFlag);
    }
    case BTF_KIND_PTR:
      return "0x" + hex64(v.getUint32(at + 4, true), v.getUint32(at, true));
    case BTF_KIND_FLOAT:
      return t.size === 4 ? v.getFloat32(at, true) : v.getFloat64(at, true);
    case BTF_KIND_ARRAY: {
      if (isCharType(btf, t.type)) return readString(v, at, t.nelems);
      const stride = btfTypeSize(btf, t.type);
      return Array.from({ length: t.nelems }, (_, i) =>
        decodeValue(btf, t.type, v, at + i * stride, depth + 1),
      );
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: {
      const out: { [name: string]: BtfValue } = {};
      decodeMembers(btf, t, v, at, depth, out);
      return out;
    }
    case BTF_KIND_DATASEC: {
      const out: { [name: string]: BtfValue } = {};
      const vars = t.vars
        .map((s) => ({ s, name: btfTypeById(btf, s.type).name }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const { s, name } of vars) {
        const varType = (btfTypeById(btf, s.type) as { type: number }).type;
        out[name] = decodeValue(btf, varType, v, at + s.offset, depth + 1);
      }
      return out;
    }
    default:
      return hexOf(v, at, safeSize(btf, id));
  }
}

function decodeMembers(
  btf: Btf,
  t: BtfComposite,
  v: DataView,
  at: number,
  depth: number,
  out: { [name: string]: BtfValue },
): void {
  for (const m of t.members) {
    const byteAt = at + Math.floor(m.bitOffset / 8);
    if (m.name === "") {
      const inner = skipModsAndTypedefs(btf, m.type);
      if (inner.kind === BTF_KIND_STRUCT || inner.kind === BTF_KIND_UNION) {
        decodeMembers(btf, inner, v, byteAt, depth + 1, out);
        continue;
      }
    }
    const name = m.name === "" ? `[${t.members.indexOf(m)}]` : m.name;
    out[name] =
      m.bitfieldSize > 0
        ? readBits(v, at, m.bitOffset, m.bitfieldSize)
        : decodeValue(btf, m.type, v, byteAt, depth + 1);
  }
}

function encodeValue(
  btf: Btf,
  id: number,
  value: BtfValue,
  v: DataView,
  at: number,
  depth: number,
): void {
  if (depth > MAX_DEPTH) throw new CodecError(`BTF type [${id}] nests too deeply`);
  const t = skipModsAndTypedefs(btf, id);
  const fail = (why: string): never => {
    throw new CodecError(`BTF type [${id}] ${describe(t)}: ${why}`);
  };
  switch (t.kind) {
    case BTF_KIND_INT:
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64:
    case BTF_KIND_PTR: {
      const size = t.kind === BTF_KIND_PTR ? 8 : (t as { size: number }).size;
      return writeInt(
        v,
        at,
        size,
        enumValue(t, value) ?? fail(`cannot encode ${JSON.stringify(value)}`),
      );
    }
    case BTF_KIND_ARRAY: {
      if (typeof value === "string" && isCharType(btf, t.type)) {
        const bytes = new TextEncoder().encode(value);
        if (bytes.length >= t.nelems) fail(`"${value}" does not fit ${t.nelems} chars`);
        bytes.forEach((b, i) => v.setUint8(at + i, b));
        return;
      }
      if (!Array.isArray(value) || value.length > t.nelems)
        return fail(`expected ${t.nelems} elements`);
      const stride = btfTypeSize(btf, t.type);
      value.forEach((item, i) => encodeValue(btf, t.type, item, v, at + i * stride, depth + 1));
      return;
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: {
      if (typeof value !== "object" || Array.isArray(value)) return fail("expected an object");
      return encodeMembers(btf, t, value, v, at, depth);
    }
    default:
      return fail("values of this kind cannot be encoded");
  }
}

function encodeMembers(
  btf: Btf,
  t: BtfComposite,
  value: { [name: string]: BtfValue },
  v: DataView,
  at: number,
  depth: number,
): void {
  for (const m of t.members) {
    const byteAt = at + Math.floor(m.bitOffset / 8);
    const inner = skipModsAndTypedefs(btf, m.type);
    if (m.name === "" && (inner.kind === BTF_KIND_STRUCT || inner.kind === BTF_KIND_UNION)) {
      encodeMembers(btf, inner, value, v, byteAt, depth + 1);
      continue;
    }
    const field = value[m.name];
    if (field === undefined) continue; // absent members stay zero
    if (m.bitfieldSize > 0) {
      if (typeof field !== "number") throw new CodecError(`bitfield '${m.name}' needs a number`);
      writeBits(v, at, m.bitOffset, m.bitfieldSize, field);
    } else encodeValue(btf, m.type, field, v, byteAt, depth + 1);
  }
}

/** An integer, an enumerator name, a decimal string or a 0x string as a number or bigint. */
function enumValue(t: BtfType, value: BtfValue): number | bigint | undefined {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  if (t.kind === BTF_KIND_ENUM) {
    const hit = t.values.find((e) => e.name === value);
    if (hit) return hit.value;
  }
  if (t.kind === BTF_KIND_ENUM64) {
    const hit = t.values.find((e) => e.name === value);
    if (hit) return (BigInt(hit.hi >>> 0) << 32n) | BigInt(hit.lo >>> 0);
  }
  return /^(-?\d+|0x[0-9a-fA-F]+)$/.test(value) ? BigInt(value) : undefined;
}

function readInt(v: DataView, at: number, size: number, signed: boolean): number | string {
  switch (size) {
    case 1:
      return signed ? v.getInt8(at) : v.getUint8(at);
    case 2:
      return signed ? v.getInt16(at, true) : v.getUint16(at, true);
    case 4:
      return signed ? v.getInt32(at, true) : v.getUint32(at, true);
    case 8: {
      const lo = v.getUint32(at, true);
      const hi = signed ? v.getInt32(at + 4, true) : v.getUint32(at + 4, true);
      const n = hi * 0x100000000 + lo;
      if (Number.isSafeInteger(n)) return n;
      return (signed ? v.getBigInt64(at, true) : v.getBigUint64(at, true)).toString();
    }
    default:
      return "0x" + hexOf(v, at, size).replace(/^0+(?=.)/, "");
  }
}

function writeInt(v: DataView, at: number, size: number, value: number | bigint): void {
  const big = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < Math.min(size, 8); i++)
    v.setUint8(at + i, Number((big >> BigInt(8 * i)) & 0xffn));
}

function readBits(v: DataView, at: number, bitOffset: number, bits: number): number {
  let out = 0;
  for (let i = bits - 1; i >= 0; i--) {
    const bit = bitOffset + i;
    out = out * 2 + ((v.getUint8(at + (bit >> 3)) >> (bit & 7)) & 1);
  }
  return out;
}

function writeBits(v: DataView, at: number, bitOffset: number, bits: number, value: number): void {
  for (let i = 0; i < bits; i++) {
    const bit = bitOffset + i;
    const byte = at + (bit >> 3);
    const set = Math.floor(value / 2 ** i) % 2 === 1;
    const old = v.getUint8(byte);
    v.setUint8(byte, set ? old | (1 << (bit & 7)) : old & ~(1 << (bit & 7)));
  }
}

function readString(v: DataView, at: number, length: number): string {
  const bytes = new Uint8Array(v.buffer, v.byteOffset + at, length);
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? length : end));
}

function isCharType(btf: Btf, id: number): boolean {
  const t = skipModsAndTypedefs(btf, id);
  return (
    t.kind === BTF_KIND_INT &&
    t.size === 1 &&
    ((t.encoding & BTF_INT_CHAR) !== 0 || t.name === "char")
  );
}

function hexOf(v: DataView, at: number, size: number): string {
  return Buffer.from(v.buffer, v.byteOffset + at, size).toString("hex");
}

function hex64(hi: number, lo: number): string {
  return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, "0");
}

function safeSize(btf: Btf, id: number): number {
  try {
    return btfTypeSize(btf, id);
  } catch {
    return 0;
  }
}

function describe(t: BtfType): string {
  return t.name === "" ? `(${t.kind})` : `'${t.name}'`;
}
