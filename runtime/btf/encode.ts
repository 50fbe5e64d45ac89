// .BTF encoder: header (24 bytes), type section, string section — the layout clang writes.
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
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  BTF_MAGIC,
  BTF_VERSION,
  BtfError,
  describeType,
  type Btf,
  type BtfType,
} from "./btf.js";

/** Little-endian u32 writer that grows as needed. */
class WordWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  u32(v: number): void {
    if (this.length + 4 > this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Encodes `btf` as a .BTF section. */
export function encodeBtf(btf: Btf): Uint8Array {
  const w = new WordWriter();
  for (let id = 1; id < btf.types.length; id++) encodeType(w, btf.types[id]!);
  const types = w.bytes();
  const strings = btf.strings.bytes();
  const out = new Uint8Array(BTF_HEADER_SIZE + types.length + strings.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, BTF_MAGIC, true);
  out[2] = BTF_VERSION;
  out[3] = 0;
  view.setUint32(4, BTF_HEADER_SIZE, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, types.length, true);
  view.setUint32(16, types.length, true);
  view.setUint32(20, strings.length, true);
  out.set(types, BTF_HEADER_SIZE);
  out.set(strings, BTF_HEADER_SIZE + types.length);
  return out;
}

function info(kind: number, vlen: number, kindFlag: boolean): number {
  return ((kindFlag ? 0x80000000 : 0) | ((kind & 0x1f) << 24) | (vlen & 0xffff)) >>> 0;
}

function checkVlen(t: BtfType, n: number): number {
  if (n > 0xffff)
    throw new BtfError(`${describeType(t)}: ${n} entries exceed the vlen limit 65535`);
  return n;
}

/** The common part of every type: name_off, info, size or type. */
function head(w: WordWriter, t: BtfType, vlen: number, sizeOrType: number): void {
  w.u32(t.nameOff);
  w.u32(info(t.kind, vlen, t.kindFlag));
  w.u32(sizeOrType);
}

function encodeType(w: WordWriter, t: BtfType): void {
  switch (t.kind) {
    case BTF_KIND_INT:
      head(w, t, 0, t.size);
      w.u32(((t.encoding & 0x0f) << 24) | ((t.bitOffset & 0xff) << 16) | (t.bits & 0xff));
      break;
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
      head(w, t, 0, t.type);
      break;
    case BTF_KIND_ARRAY:
      head(w, t, 0, 0);
      w.u32(t.type);
      w.u32(t.indexType);
      w.u32(t.nelems);
      break;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      head(w, t, checkVlen(t, t.members.length), t.size);
      for (const m of t.members) {
        w.u32(m.nameOff);
        w.u32(m.type);
        w.u32(
          t.kindFlag ? ((m.bitfieldSize & 0xff) << 24) | (m.bitOffset & 0xffffff) : m.bitOffset,
        );
      }
      break;
    case BTF_KIND_ENUM:
      head(w, t, checkVlen(t, t.values.length), t.size);
      for (const v of t.values) {
        w.u32(v.nameOff);
        w.u32(v.value);
      }
      break;
    case BTF_KIND_ENUM64:
      head(w, t, checkVlen(t, t.values.length), t.size);
      for (const v of t.values) {
        w.u32(v.nameOff);
        w.u32(v.lo);
        w.u32(v.hi);
      }
      break;
    case BTF_KIND_FWD:
      head(w, t, 0, 0);
      break;
    case BTF_KIND_FUNC:
      head(w, t, t.linkage, t.type);
      break;
    case BTF_KIND_FUNC_PROTO:
      head(w, t, checkVlen(t, t.params.length), t.type);
      for (const p of t.params) {
        w.u32(p.nameOff);
        w.u32(p.type);
      }
      break;
    case BTF_KIND_VAR:
      head(w, t, 0, t.type);
      w.u32(t.linkage);
      break;
    case BTF_KIND_DATASEC:
      head(w, t, checkVlen(t, t.vars.length), t.size);
      for (const v of t.vars) {
        w.u32(v.type);
        w.u32(v.offset);
        w.u32(v.size);
      }
      break;
    case BTF_KIND_FLOAT:
      head(w, t, 0, t.size);
      break;
    case BTF_KIND_DECL_TAG:
      head(w, t, 0, t.type);
      w.u32(t.componentIdx);
      break;
    default:
      throw new BtfError(`${describeType(t)}: cannot encode kind ${t.kind}`);
  }
}
