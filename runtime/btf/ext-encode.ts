// .BTF.ext encoder, in clang's layout: header, then func_info, line_info and core_relo back to
// back (an empty info section has length 0 and sits at the end of the previous one).
import { BTF_MAGIC, BTF_VERSION, BtfError } from "./btf.js";
import {
  BPF_CORE_RELO_SIZE,
  BPF_FUNC_INFO_SIZE,
  BPF_LINE_INFO_SIZE,
  BTF_EXT_HEADER_SIZE,
  BTF_EXT_HEADER_SIZE_CORE,
  type BtfExt,
  type BtfExtInfo,
  type BtfExtRecord,
} from "./ext.js";

type FieldWriter<R> = (view: DataView, off: number, rec: R) => void;

export function encodeBtfExt(ext: BtfExt): Uint8Array {
  const hdrLen = Math.max(
    ext.hdrLen,
    ext.coreRelo.blocks.length > 0 ? BTF_EXT_HEADER_SIZE_CORE : BTF_EXT_HEADER_SIZE,
  );
  const sections = [
    infoSize(ext.funcInfo, BPF_FUNC_INFO_SIZE, "func_info"),
    infoSize(ext.lineInfo, BPF_LINE_INFO_SIZE, "line_info"),
    infoSize(ext.coreRelo, BPF_CORE_RELO_SIZE, "core_relo"),
  ];
  const total = sections.reduce((a, b) => a + b, 0);
  const out = new Uint8Array(hdrLen + total);
  const view = new DataView(out.buffer);
  view.setUint16(0, BTF_MAGIC, true);
  out[2] = BTF_VERSION;
  out[3] = ext.flags;
  view.setUint32(4, hdrLen, true);
  let off = 0;
  const fields = [8, 16, 24];
  sections.forEach((len, i) => {
    if (fields[i]! + 8 > hdrLen) return; // no core_relo fields in a 24-byte header
    view.setUint32(fields[i]!, off, true);
    view.setUint32(fields[i]! + 4, len, true);
    off += len;
  });
  let pos = hdrLen;
  pos = writeInfo(view, out, pos, ext.funcInfo, BPF_FUNC_INFO_SIZE, (v, o, r) => {
    v.setUint32(o, r.insnOff, true);
    v.setUint32(o + 4, r.typeId, true);
  });
  pos = writeInfo(view, out, pos, ext.lineInfo, BPF_LINE_INFO_SIZE, (v, o, r) => {
    v.setUint32(o, r.insnOff, true);
    v.setUint32(o + 4, r.fileNameOff, true);
    v.setUint32(o + 8, r.lineOff, true);
    v.setUint32(o + 12, r.lineCol, true);
  });
  writeInfo(view, out, pos, ext.coreRelo, BPF_CORE_RELO_SIZE, (v, o, r) => {
    v.setUint32(o, r.insnOff, true);
    v.setUint32(o + 4, r.typeId, true);
    v.setUint32(o + 8, r.accessStrOff, true);
    v.setUint32(o + 12, r.kind, true);
  });
  return out;
}

function infoSize<R>(info: BtfExtInfo<R>, minSize: number, what: string): number {
  if (info.blocks.length === 0) return 0;
  if (info.recordSize < minSize || info.recordSize % 4 !== 0)
    throw new BtfError(`.BTF.ext ${what}: record size ${info.recordSize} is invalid`);
  let size = 4;
  for (const b of info.blocks) {
    if (b.records.length === 0)
      throw new BtfError(`.BTF.ext ${what} of '${b.secName}': no records`);
    size += 8 + b.records.length * info.recordSize;
  }
  return size;
}

function writeInfo<R extends BtfExtRecord>(
  view: DataView,
  out: Uint8Array,
  pos: number,
  info: BtfExtInfo<R>,
  minSize: number,
  write: FieldWriter<R>,
): number {
  if (info.blocks.length === 0) return pos;
  view.setUint32(pos, info.recordSize, true);
  pos += 4;
  for (const b of info.blocks) {
    view.setUint32(pos, b.secNameOff, true);
    view.setUint32(pos + 4, b.records.length, true);
    pos += 8;
    for (const rec of b.records) {
      write(view, pos, rec);
      // Unknown trailing fields round-trip; the known part is at least the struct size.
      if (rec.tail) out.set(rec.tail.subarray(0, info.recordSize - minSize), pos + minSize);
      pos += info.recordSize;
    }
  }
  return pos;
}
