// .BTF.ext parser. Each info section is: u32 record size, then blocks of
// { u32 sec_name_off, u32 num_info, num_info records }. With the .BTF strings (and types) at
// hand, section names, file names, source lines and type ids are checked too.
import { BTF_MAGIC, BTF_VERSION, type Btf } from "./btf.js";
import {
  BPF_CORE_RELO_SIZE,
  BPF_FUNC_INFO_SIZE,
  BPF_LINE_INFO_SIZE,
  BTF_EXT_HEADER_SIZE,
  BTF_EXT_HEADER_SIZE_CORE,
  type BpfCoreReloRecord,
  type BpfFuncInfoRecord,
  type BpfLineInfoRecord,
  type BtfExt,
  type BtfExtBlock,
  type BtfExtInfo,
} from "./ext.js";
import { BtfReader } from "./parse.js";

/** Parses a .BTF.ext section; `btf` (the object's .BTF) lets names and type ids be checked. */
export function parseBtfExt(bytes: Uint8Array, btf?: Btf, what = ".BTF.ext"): BtfExt {
  const r = new BtfReader(bytes, what);
  r.need(0, 8, "header");
  const magic = r.u16(0);
  if (magic === 0x9feb) r.fail(0, "big-endian BTF.ext is not supported");
  if (magic !== BTF_MAGIC) r.fail(0, `bad magic 0x${magic.toString(16)} (expected 0xeb9f)`);
  const version = r.u8(2);
  if (version !== BTF_VERSION) r.fail(2, `unsupported version ${version}`);
  const flags = r.u8(3);
  if (flags !== 0) r.fail(3, `unsupported flags 0x${flags.toString(16)}`);
  const hdrLen = r.u32(4);
  if (hdrLen < BTF_EXT_HEADER_SIZE)
    r.fail(4, `header length ${hdrLen} is shorter than ${BTF_EXT_HEADER_SIZE}`);
  r.need(0, hdrLen, "header");
  const ctx: Context = { r, btf, hdrLen };
  const funcInfo = parseInfo(ctx, 8, "func_info", BPF_FUNC_INFO_SIZE, readFuncInfo);
  const lineInfo = parseInfo(ctx, 16, "line_info", BPF_LINE_INFO_SIZE, readLineInfo);
  const coreRelo =
    hdrLen >= BTF_EXT_HEADER_SIZE_CORE
      ? parseInfo(ctx, 24, "core_relo", BPF_CORE_RELO_SIZE, readCoreRelo)
      : { recordSize: BPF_CORE_RELO_SIZE, blocks: [] };
  return { version, flags, hdrLen, funcInfo, lineInfo, coreRelo };
}

interface Context {
  r: BtfReader;
  btf: Btf | undefined;
  hdrLen: number;
}

type RecordReader<R> = (ctx: Context, off: number, where: string) => R;

function parseInfo<R extends { tail?: Uint8Array }>(
  ctx: Context,
  headerField: number,
  what: string,
  minSize: number,
  read: RecordReader<R>,
): BtfExtInfo<R> {
  const { r, hdrLen } = ctx;
  const secOff = r.u32(headerField);
  const secLen = r.u32(headerField + 4);
  const info: BtfExtInfo<R> = { recordSize: minSize, blocks: [] };
  if (secLen === 0) return info;
  const start = hdrLen + secOff;
  if (secOff % 4 !== 0) r.fail(headerField, `${what} offset ${secOff} is not 4-aligned`);
  if (secLen < 4)
    r.fail(headerField + 4, `${what} length ${secLen} is too short for the record size`);
  if (start + secLen > r.bytes.length)
    r.fail(
      headerField,
      `${what} [${start}, +${secLen}) runs past the end (${r.bytes.length} bytes)`,
    );
  const recordSize = r.u32(start);
  if (recordSize < minSize || recordSize % 4 !== 0)
    r.fail(
      start,
      `${what} record size ${recordSize} is invalid (at least ${minSize}, a multiple of 4)`,
    );
  info.recordSize = recordSize;
  const end = start + secLen;
  let off = start + 4;
  while (off < end) {
    const block = parseBlock(ctx, off, end, what, recordSize, minSize, read);
    info.blocks.push(block.block);
    off = block.next;
  }
  return info;
}

function parseBlock<R extends { tail?: Uint8Array }>(
  ctx: Context,
  off: number,
  end: number,
  what: string,
  recordSize: number,
  minSize: number,
  read: RecordReader<R>,
): { block: BtfExtBlock<R>; next: number } {
  const { r } = ctx;
  if (off + 8 > end) r.fail(off, `${what} block header runs past the section`);
  const secNameOff = r.u32(off);
  const count = r.u32(off + 4);
  const secName = stringAt(ctx, off, secNameOff, `${what} section name`);
  const where = `${what} of '${secName}'`;
  if (count === 0) r.fail(off + 4, `${where}: zero records`);
  const first = off + 8;
  if (count > (end - first) / recordSize)
    r.fail(off + 4, `${where}: ${count} records of ${recordSize} bytes run past the section`);
  const records: R[] = [];
  for (let i = 0; i < count; i++) {
    const at = first + i * recordSize;
    const rec = read(ctx, at, `${where}: record ${i}`);
    if (recordSize > minSize) rec.tail = r.bytes.slice(at + minSize, at + recordSize);
    records.push(rec);
  }
  return { block: { secNameOff, secName, records }, next: first + count * recordSize };
}

function stringAt(ctx: Context, at: number, off: number, what: string): string {
  if (!ctx.btf) return "";
  const s = ctx.btf.strings.tryGet(off);
  if (s === undefined)
    ctx.r.fail(
      at,
      `${what}: string offset ${off} is past the .BTF strings (${ctx.btf.strings.size} bytes)`,
    );
  return s;
}

function checkType(ctx: Context, at: number, id: number, where: string): void {
  if (ctx.btf && id >= ctx.btf.types.length)
    ctx.r.fail(at, `${where}: type id ${id} is past the last type [${ctx.btf.types.length - 1}]`);
}

const readFuncInfo: RecordReader<BpfFuncInfoRecord> = (ctx, off, where) => {
  const rec = { insnOff: ctx.r.u32(off), typeId: ctx.r.u32(off + 4) };
  checkType(ctx, off + 4, rec.typeId, where);
  return rec;
};

const readLineInfo: RecordReader<BpfLineInfoRecord> = (ctx, off, where) => {
  const rec = {
    insnOff: ctx.r.u32(off),
    fileNameOff: ctx.r.u32(off + 4),
    lineOff: ctx.r.u32(off + 8),
    lineCol: ctx.r.u32(off + 12),
  };
  stringAt(ctx, off + 4, rec.fileNameOff, `${where} file name`);
  stringAt(ctx, off + 8, rec.lineOff, `${where} source line`);
  return rec;
};

const readCoreRelo: RecordReader<BpfCoreReloRecord> = (ctx, off, where) => {
  const rec = {
    insnOff: ctx.r.u32(off),
    typeId: ctx.r.u32(off + 4),
    accessStrOff: ctx.r.u32(off + 8),
    kind: ctx.r.u32(off + 12),
  };
  checkType(ctx, off + 4, rec.typeId, where);
  stringAt(ctx, off + 8, rec.accessStrOff, `${where} access string`);
  return rec;
};
