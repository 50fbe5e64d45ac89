// runtime/uapi/perf_event.ts against linux/perf_event.h as clang compiles it: constants,
// ioctl numbers (the _IO/_IOW macros), struct offsets and bit-field positions.
import { describe, expect, it } from "vitest";
import * as perf from "../../runtime/uapi/perf_event.js";
import {
  asU64,
  cNamedConstants,
  cNamedMembers,
  cValues,
  enumNames,
  hasClang,
  header,
} from "./oracle.js";

const perfH = header("/usr/include/linux/perf_event.h");
const present = perfH !== undefined;
if (!present) console.log("skipped: /usr/include/linux/perf_event.h absent");
if (present && !hasClang) console.log("skipped: clang absent, perf constants not evaluated");

const enums: [string, Record<string, number>][] = [
  ["perf_type_id", perf.PerfTypeId],
  ["perf_sw_ids", perf.PerfSwIds],
  ["perf_event_sample_format", perf.PerfSampleFormat],
  ["perf_event_read_format", perf.PerfReadFormat],
  ["perf_event_type", perf.PerfEventType],
];

describe.skipIf(!present)("enums mirror linux/perf_event.h", () => {
  it.each(enums)("enum %s has the header's enumerators", (name, ours) => {
    expect(Object.keys(ours).sort()).toEqual(enumNames(perfH!, name).sort());
  });
});

describe.skipIf(!present || !hasClang)("perf constants equal clang's evaluation", () => {
  const constants = [
    ...cNamedMembers(enums.map(([, o]) => o)),
    ...cNamedConstants(perf).filter(([name]) => !name.startsWith("_IOC")),
  ];
  const c = cValues(
    ["linux/perf_event.h"],
    Object.fromEntries(constants.map(([name]) => [name, name])),
  );
  it("covers the ioctls and the record types", () => {
    expect(constants.length).toBeGreaterThan(70);
  });
  it.each(constants)("%s", (name, value) => expect(asU64(value)).toBe(c.get(name)));

  it("computes _IO/_IOR/_IOW/_IOWR as asm-generic/ioctl.h does", () => {
    const cases: [string, number][] = [
      ["_IO('x', 1)", perf._IO(0x78, 1)],
      ["_IOR('x', 2, int)", perf._IOR(0x78, 2, 4)],
      ["_IOW('x', 3, long)", perf._IOW(0x78, 3, 8)],
      ["_IOWR('x', 255, char[100])", perf._IOWR(0x78, 255, 100)],
    ];
    const got = cValues(
      ["linux/ioctl.h"],
      Object.fromEntries(cases.map(([expr], i) => [`c${i}`, expr])),
    );
    cases.forEach(([, ours], i) => expect(BigInt(ours)).toBe(got.get(`c${i}`)));
  });

  it("struct perf_event_attr field offsets", () => {
    const fields = Object.entries(perf.PerfEventAttr).filter(([f]) => f !== "flags");
    const got = cValues(
      ["linux/perf_event.h"],
      Object.fromEntries(fields.map(([f]) => [f, `offsetof(struct perf_event_attr, ${f})`])),
    );
    for (const [f, off] of fields) expect(BigInt(off), f).toBe(got.get(f));
  });

  it("perf_event_attr flag bits sit where the compiler puts the bit fields", () => {
    // Set one bit field in a zeroed struct, read the u64 at the flags offset.
    const src = (field: string): string =>
      `({ struct perf_event_attr a = {0}; a.${field} = 1; ` +
      `*(unsigned long long *)((char *)&a + ${perf.PerfEventAttr.flags}); })`;
    const flags = Object.entries(perf.PerfEventAttrFlag);
    const got = cValues(
      ["linux/perf_event.h"],
      Object.fromEntries(flags.map(([f]) => [f, src(f)])),
    );
    for (const [f, bit] of flags) expect(got.get(f), f).toBe(1n << BigInt(bit));
  });

  it("perf_event_header and perf_event_mmap_page offsets", () => {
    const exprs: Record<string, string> = {
      "header.type": "offsetof(struct perf_event_header, type)",
      "header.misc": "offsetof(struct perf_event_header, misc)",
      "header.size": "offsetof(struct perf_event_header, size)",
      "header.SIZE": "sizeof(struct perf_event_header)",
    };
    for (const f of Object.keys(perf.PerfEventMmapPage)) {
      exprs[`page.${f}`] = `offsetof(struct perf_event_mmap_page, ${f})`;
    }
    const got = cValues(["linux/perf_event.h"], exprs);
    for (const [f, off] of Object.entries(perf.PerfEventHeader)) {
      expect(BigInt(off), f).toBe(got.get(`header.${f}`));
    }
    for (const [f, off] of Object.entries(perf.PerfEventMmapPage)) {
      expect(BigInt(off), f).toBe(got.get(`page.${f}`));
    }
  });
});
