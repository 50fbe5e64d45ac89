// .BTF parser: header, type section, string section (linux/btf.h). Layout errors and dangling
// references are BtfErrors naming the byte offset (from the start of the blob) and the reason.
import {
  BTF_HEADER_SIZE,
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_MAX,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  BTF_MAGIC,
  BTF_MAX_TYPE,
  BTF_VERSION,
  BtfError,
  BtfStrings,
  btfKindName,
  voidType,
  type Btf,
  type BtfEnum64Value,
  type BtfEnumValue,
  type BtfMember,
  type BtfParam,
  type BtfType,
} from "./btf.js";

const hex = (n: number): string => "0x" + n.toString(16);

/** Reads one little-endian blob, failing with BtfErrors that carry the blob's name. */
export class BtfReader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fail(off: number, reason: string): never {
    throw new BtfError(`${this.what}: offset ${hex(off)}: ${reason}`);
  }
  need(off: number, len: number, what: string): void {
    if (off + len > this.bytes.length)
      this.fail(off, `${what} (${len} bytes) runs past the end (${this.bytes.length} bytes)`);
  }
  u8(off: number): number {
    return this.bytes[off]!;
  }
  u16(off: number): number {
    return this.view.getUint16(off, true);
  }
  u32(off: number): number {
    return this.view.getUint32(off, true);
  }
  s32(off: number): number {
    return this.view.getInt32(off, true);
  }
}

export interface BtfHeader {
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

/** Parses a .BTF section. `what` names it in errors (e.g. "a.o: .BTF"). */
export function parseBtf(bytes: Uint8Array, what = ".BTF"): Btf {
  const r = new BtfReader(bytes, what);
  const h = parseBtfHeader(r);
  const strings = parseStrings(r, h);
  const offsets: number[] = [];
  const types = parseTypes(r, h, strings, offsets);
  checkReferences(r, types, offsets);
  return { types, strings };
}

export function parseBtfHeader(r: BtfReader): BtfHeader {
  r.need(0, BTF_HEADER_SIZE, "header");
  const magic = r.u16(0);
  if (magic === 0x9feb) r.fail(0, "big-endian BTF is not supported");
  if (magic !== BTF_MAGIC) r.fail(0, `bad magic ${hex(magic)} (expected ${hex(BTF_MAGIC)})`);
  const h: BtfHeader = {
    version: r.u8(2),
    flags: r.u8(3),
    hdrLen: r.u32(4),
    typeOff: r.u32(8),
    typeLen: r.u32(12),
    strOff: r.u32(16),
    strLen: r.u32(20),
  };
  if (h.version !== BTF_VERSION) r.fail(2, `unsupported version ${h.version}`);
  if (h.flags !== 0) r.fail(3, `unsupported flags ${hex(h.flags)}`);
  if (h.hdrLen < BTF_HEADER_SIZE)
    r.fail(4, `header length ${h.hdrLen} is shorter than ${BTF_HEADER_SIZE}`);
  r.need(0, h.hdrLen, "header");
  for (let i = BTF_HEADER_SIZE; i < h.hdrLen; i++) {
    if (r.u8(i) !== 0) r.fail(i, "unknown non-zero header field");
  }
  checkSectionLayout(r, h);
  return h;
}

/** Types then strings, contiguous, 4-aligned types, covering everything after the header. */
function checkSectionLayout(r: BtfReader, h: BtfHeader): void {
  const data = r.bytes.length - h.hdrLen;
  if (h.typeOff % 4 !== 0) r.fail(8, `type section offset ${h.typeOff} is not 4-aligned`);
  if (h.typeOff + h.typeLen > data)
    r.fail(8, `type section [${h.typeOff}, +${h.typeLen}) runs past the data (${data} bytes)`);
  if (h.strOff + h.strLen > data)
    r.fail(16, `string section [${h.strOff}, +${h.strLen}) runs past the data (${data} bytes)`);
  if (h.typeOff !== 0) r.fail(8, `type section must start the data (offset ${h.typeOff})`);
  if (h.strOff !== h.typeLen)
    r.fail(
      16,
      `string section at ${h.strOff} does not follow the type section (ends at ${h.typeLen})`,
    );
  if (h.strOff + h.strLen !== data)
    r.fail(20, `${data - h.strOff - h.strLen} bytes after the string section`);
}

function parseStrings(r: BtfReader, h: BtfHeader): BtfStrings {
  const start = h.hdrLen + h.strOff;
  if (h.strLen === 0) r.fail(start, "empty string section");
  const bytes = r.bytes.subarray(start, start + h.strLen);
  if (bytes[0] !== 0) r.fail(start, "string section does not start with NUL");
  if (bytes[h.strLen - 1] !== 0)
    r.fail(start + h.strLen - 1, "string section does not end with NUL");
  return new BtfStrings(bytes);
}

/** The types; `offsets` gets each one's offset in the bytes (for later errors). */
function parseTypes(r: BtfReader, h: BtfHeader, strings: BtfStrings, offsets: number[]): BtfType[] {
  const types: BtfType[] = [voidType()];
  offsets.push(0);
  let off = h.hdrLen + h.typeOff;
  const end = off + h.typeLen;
  while (off < end) {
    if (types.length > BTF_MAX_TYPE) r.fail(off, `more than ${BTF_MAX_TYPE} types`);
    const type = parseType(r, off, end, types.length, strings);
    types.push(type);
    offsets.push(off);
    off += 12 + extraSize(type.kind, vlenOf(r.u32(off + 4)));
  }
  return types;
}

const vlenOf = (info: number): number => info & 0xffff;

/** Bytes following struct btf_type, per kind and vlen. */
function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case BTF_KIND_INT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
      return 4;
    case BTF_KIND_ARRAY:
      return 12;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC:
    case BTF_KIND_ENUM64:
      return vlen * 12;
    case BTF_KIND_ENUM:
    case BTF_KIND_FUNC_PROTO:
      return vlen * 8;
    default:
      return 0;
  }
}

/** Kinds whose info.vlen must be 0 (FUNC keeps its linkage there). */
const NO_VLEN = new Set([
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_ARRAY,
  BTF_KIND_FWD,
  BTF_KIND_TYPEDEF,
  BTF_KIND_VOLATILE,
  BTF_KIND_CONST,
  BTF_KIND_RESTRICT,
  BTF_KIND_VAR,
  BTF_KIND_FLOAT,
  BTF_KIND_DECL_TAG,
  BTF_KIND_TYPE_TAG,
]);

const describe = (id: number, kind: number): string => `type [${id}] ${btfKindName(kind)}`;

/** The type at `off` (its struct btf_type and the entries after it). */
function parseType(
  r: BtfReader,
  off: number,
  end: number,
  id: number,
  strings: BtfStrings,
): BtfType {
  if (off + 12 > end) r.fail(off, `type [${id}] header runs past the type section`);
  const nameOff = r.u32(off);
  const info = r.u32(off + 4);
  const sizeOrType = r.u32(off + 8);
  const kind = (info >>> 24) & 0x1f;
  const vlen = vlenOf(info);
  const kindFlag = info >>> 31 === 1;
  if (kind === 0 || kind > BTF_KIND_MAX) r.fail(off + 4, `type [${id}]: unknown kind ${kind}`);
  if ((info & 0x60ff0000) !== 0)
    r.fail(off + 4, `${describe(id, kind)}: unused info bits set (${hex(info)})`);
  if (vlen !== 0 && NO_VLEN.has(kind))
    r.fail(off + 4, `${describe(id, kind)}: vlen ${vlen} must be 0`);
  const name = strings.tryGet(nameOff);
  if (name === undefined)
    r.fail(
      off,
      `${describe(id, kind)}: name offset ${nameOff} is past the string section (${strings.size} bytes)`,
    );
  const x = off + 12;
  if (x + extraSize(kind, vlen) > end)
    r.fail(off, `${describe(id, kind)}: ${vlen} entries run past the type section`);
  switch (kind) {
    case BTF_KIND_INT: {
      const data = r.u32(x);
      if ((data & 0xf000ff00) !== 0)
        r.fail(x, `${describe(id, kind)}: unused int data bits set (${hex(data)})`);
      const encoding = (data >>> 24) & 0x0f;
      const bitOffset = (data >>> 16) & 0xff;
      return {
        id,
        name,
        nameOff,
        kindFlag,
        kind,
        size: sizeOrType,
        encoding,
        bitOffset,
        bits: data & 0xff,
      };
    }
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
      return { id, name, nameOff, kindFlag, kind, type: sizeOrType };
    case BTF_KIND_ARRAY:
      if (sizeOrType !== 0)
        r.fail(off + 8, `${describe(id, kind)}: size field ${sizeOrType} must be 0`);
      return {
        id,
        name,
        nameOff,
        kindFlag,
        kind,
        type: r.u32(x),
        indexType: r.u32(x + 4),
        nelems: r.u32(x + 8),
      };
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      return {
        id,
        name,
        nameOff,
        kindFlag,
        kind,
        size: sizeOrType,
        members: readMembers(r, strings, x, vlen, kindFlag, id, kind),
      };
    case BTF_KIND_ENUM:
      return {
        id,
        name,
        nameOff,
        kindFlag,
        kind,
        size: sizeOrType,
        values: readEnumValues(r, strings, x, vlen, id),
      };
    case BTF_KIND_ENUM64:
      return {
        id,
        name,
        nameOff,
        kindFlag,
        kind,
        size: sizeOrType,
        values: readEnum64Values(r, strings, x, vlen, id),
      };
    case BTF_KIND_FWD:
      if (sizeOrType !== 0)
        r.fail(off + 8, `${describe(id, kind)}: type field ${sizeOrType} must be 0`);
      return { id, name, nameOff, kindFlag, kind };
    case BTF_KIND_FUNC:
      return { id, name, nameOff, kindFlag, kind, type: sizeOrType, linkage: vlen };
    case BTF_KIND_FUNC_PROTO:
      return {
        id,
        name,
        nameOff,
        kindFlag,
        kind,
        type: sizeOrType,
        params: readParams(r, strings, x, vlen, id),
      };
    case BTF_KIND_VAR:
      return { id, name, nameOff, kindFlag, kind, type: sizeOrType, linkage: r.u32(x) };
    case BTF_KIND_DATASEC: {
      const vars = [];
      for (let i = 0, o = x; i < vlen; i++, o += 12)
        vars.push({ type: r.u32(o), offset: r.u32(o + 4), size: r.u32(o + 8) });
      return { id, name, nameOff, kindFlag, kind, size: sizeOrType, vars };
    }
    case BTF_KIND_FLOAT:
      return { id, name, nameOff, kindFlag, kind, size: sizeOrType };
    case BTF_KIND_DECL_TAG:
      return { id, name, nameOff, kindFlag, kind, type: sizeOrType, componentIdx: r.s32(x) };
    default:
      return r.fail(off + 4, `type [${id}]: unknown kind ${kind}`);
  }
}

/** The name at the u32 offset stored at `at`, for entry `what` of type `id`. */
function entryName(
  r: BtfReader,
  strings: BtfStrings,
  at: number,
  id: number,
  what: string,
): string {
  const s = strings.tryGet(r.u32(at));
  if (s === undefined) r.fail(at, `type [${id}]: ${what} name offset ${r.u32(at)} is out of range`);
  return s;
}

function readMembers(
  r: BtfReader,
  strings: BtfStrings,
  x: number,
  vlen: number,
  kindFlag: boolean,
  id: number,
  kind: number,
): BtfMember[] {
  const members: BtfMember[] = [];
  for (let i = 0, o = x; i < vlen; i++, o += 12) {
    const raw = r.u32(o + 8);
    members.push({
      name: entryName(r, strings, o, id, `${btfKindName(kind)} member ${i}`),
      nameOff: r.u32(o),
      type: r.u32(o + 4),
      bitOffset: kindFlag ? raw & 0xffffff : raw,
      bitfieldSize: kindFlag ? raw >>> 24 : 0,
    });
  }
  return members;
}

function readEnumValues(
  r: BtfReader,
  strings: BtfStrings,
  x: number,
  vlen: number,
  id: number,
): BtfEnumValue[] {
  const values: BtfEnumValue[] = [];
  for (let i = 0, o = x; i < vlen; i++, o += 8)
    values.push({
      name: entryName(r, strings, o, id, `value ${i}`),
      nameOff: r.u32(o),
      value: r.s32(o + 4),
    });
  return values;
}

function readEnum64Values(
  r: BtfReader,
  strings: BtfStrings,
  x: number,
  vlen: number,
  id: number,
): BtfEnum64Value[] {
  const values: BtfEnum64Value[] = [];
  for (let i = 0, o = x; i < vlen; i++, o += 12)
    values.push({
      name: entryName(r, strings, o, id, `value ${i}`),
      nameOff: r.u32(o),
      lo: r.u32(o + 4),
      hi: r.u32(o + 8),
    });
  return values;
}

function readParams(
  r: BtfReader,
  strings: BtfStrings,
  x: number,
  vlen: number,
  id: number,
): BtfParam[] {
  const params: BtfParam[] = [];
  for (let i = 0, o = x; i < vlen; i++, o += 8)
    params.push({
      name: entryName(r, strings, o, id, `param ${i}`),
      nameOff: r.u32(o),
      type: r.u32(o + 4),
    });
  return params;
}

/** Every type id a type refers to must exist. */
function checkReferences(r: BtfReader, types: BtfType[], offsets: readonly number[]): void {
  const count = types.length;
  const check = (t: BtfType, ref: number, what: string): void => {
    if (ref >= count)
      r.fail(
        offsets[t.id] ?? 0,
        `type [${t.id}] ${btfKindName(t.kind)} '${t.name}': ${what} refers to type [${ref}], past the last type [${count - 1}]`,
      );
  };
  for (const t of types) {
    switch (t.kind) {
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
      case BTF_KIND_FUNC:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
        check(t, t.type, "its type");
        break;
      case BTF_KIND_ARRAY:
        check(t, t.type, "element type");
        check(t, t.indexType, "index type");
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        t.members.forEach((m, i) => check(t, m.type, `member ${i} '${m.name}'`));
        break;
      case BTF_KIND_FUNC_PROTO:
        check(t, t.type, "return type");
        t.params.forEach((p, i) => check(t, p.type, `param ${i}`));
        break;
      case BTF_KIND_DATASEC:
        t.vars.forEach((v, i) => check(t, v.type, `var ${i}`));
        break;
    }
  }
}
