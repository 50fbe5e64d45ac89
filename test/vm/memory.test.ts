// The simulated kernel address space: addresses, alignment, guard gaps, growth, deferred free,
// checked scalar and bulk access, and the fault messages.
import { describe, expect, it } from "vitest";
import {
  AddressSpace,
  FIRST_REGION_OFFSET,
  GUARD_GAP,
  KERNEL_HI,
  MemoryError,
  MemoryFault,
} from "../../runtime/vm/memory.js";

describe("regions", () => {
  it("live at 0xffff8880_xxxxxxxx, never at the base of the direct map", () => {
    const as = new AddressSpace();
    const r = as.alloc(16, { name: "a", kind: "data" });
    expect(r.addressHi).toBe(KERNEL_HI);
    expect(r.base).toBeGreaterThanOrEqual(FIRST_REGION_OFFSET);
    expect(as.translateRead(0, KERNEL_HI, 1)).toBe(-1);
    expect(as.translateRead(r.addressLo, KERNEL_HI, 16)).toBe(r.base);
  });

  it("honour alignment and keep guard gaps between neighbours", () => {
    const as = new AddressSpace();
    const a = as.alloc(3, { name: "a", kind: "data", align: 1 });
    const b = as.alloc(10, { name: "b", kind: "data", align: 64 });
    const c = as.alloc(1, { name: "c", kind: "data" });
    expect(b.base % 64).toBe(0);
    expect(b.base - (a.base + a.size)).toBeGreaterThanOrEqual(GUARD_GAP);
    expect(c.base - (b.base + b.size)).toBeGreaterThanOrEqual(GUARD_GAP);
    // one byte past a region is unmapped
    expect(as.translateRead(a.lo(3), KERNEL_HI, 1)).toBe(-1);
    expect(as.translateRead(a.lo(2), KERNEL_HI, 2)).toBe(-1);
    expect(as.list().map((r) => r.name)).toEqual(["a", "b", "c"]);
  });

  it("rejects bad sizes and alignments with a MemoryError", () => {
    const as = new AddressSpace();
    expect(() => as.alloc(-1, { name: "x", kind: "data" })).toThrow(MemoryError);
    expect(() => as.alloc(8, { name: "x", kind: "data", align: 3 })).toThrow(/power of two/);
  });

  it("grow the buffer and keep earlier contents; views are refreshed", () => {
    const as = new AddressSpace(1);
    const a = as.alloc(8, { name: "a", kind: "data" });
    as.store64(a.addressLo, a.addressHi, 0x11223344, 0x55667788);
    const generation = as.generation;
    const big = as.alloc(300_000, { name: "big", kind: "data" });
    expect(as.generation).toBeGreaterThan(generation);
    expect(as.byteLength).toBeGreaterThanOrEqual(big.base + big.size);
    expect(as.load32(a.addressLo, a.addressHi)).toBe(0x11223344);
    expect(as.load32(a.lo(4), a.addressHi)).toBe(0x55667788);
    as.store8(big.lo(299_999), big.addressHi, 0xab);
    expect(as.load8(big.lo(299_999), big.addressHi)).toBe(0xab);
  });
});

describe("free and the grace period", () => {
  it("outside a run, a freed region is unmapped at once and its bytes reused zeroed", () => {
    const as = new AddressSpace();
    const a = as.alloc(32, { name: "a", kind: "map_value" });
    as.alloc(8, { name: "keep", kind: "data" });
    as.fill(a.addressLo, a.addressHi, 32, 0x5a);
    as.free(a);
    expect(as.translateRead(a.addressLo, a.addressHi, 1)).toBe(-1);
    const b = as.alloc(32, { name: "b", kind: "map_value" });
    expect(b.base).toBe(a.base);
    expect(Array.from(as.readBytes(b.addressLo, b.addressHi, 32))).toEqual(new Array(32).fill(0));
  });

  it("inside a run, a freed region stays readable until the outermost run ends", () => {
    const as = new AddressSpace();
    const a = as.alloc(8, { name: "elem", kind: "map_value" });
    as.alloc(8, { name: "keep", kind: "data" });
    as.enterRun();
    as.enterRun();
    as.free(a);
    expect(a.state).toBe("freeing");
    expect(as.translateRead(a.addressLo, a.addressHi, 8)).toBe(a.base);
    // not reused during the grace period
    const other = as.alloc(8, { name: "other", kind: "map_value" });
    expect(other.base).not.toBe(a.base);
    as.exitRun();
    expect(as.translateRead(a.addressLo, a.addressHi, 8)).toBe(a.base);
    as.exitRun();
    expect(a.state).toBe("freed");
    expect(as.translateRead(a.addressLo, a.addressHi, 8)).toBe(-1);
  });

  it("double free and unbalanced exitRun are errors", () => {
    const as = new AddressSpace();
    const a = as.alloc(8, { name: "a", kind: "data" });
    as.free(a);
    expect(() => as.free(a)).toThrow(/freed twice/);
    expect(() => as.exitRun()).toThrow(MemoryError);
  });
});

describe("checked access", () => {
  const setup = () => {
    const as = new AddressSpace();
    const ro = as.alloc(16, { name: "ctx", kind: "ctx", writable: false });
    const rw = as.alloc(16, { name: "buf", kind: "data" });
    return { as, ro, rw };
  };

  it("loads and stores of every width, little endian", () => {
    const { as, rw } = setup();
    as.store64(rw.addressLo, rw.addressHi, 0x04030201, 0x08070605);
    expect(as.load8(rw.addressLo, rw.addressHi)).toBe(1);
    expect(as.load16(rw.lo(1), rw.addressHi)).toBe(0x0302);
    expect(as.load32(rw.lo(4), rw.addressHi)).toBe(0x08070605);
    const out = new Int32Array(2);
    as.load64(rw.addressLo, rw.addressHi, out, 0);
    expect(Array.from(out)).toEqual([0x04030201, 0x08070605]);
    as.store16(rw.lo(14), rw.addressHi, 0xbeef);
    expect(as.load16(rw.lo(14), rw.addressHi)).toBe(0xbeef);
  });

  it("faults name the address in hex, the size, the access and the nearest region", () => {
    const { as, ro, rw } = setup();
    expect(() => as.store32(ro.addressLo, ro.addressHi, 1)).toThrow(
      /^invalid write of 4 bytes at 0xffff8880[0-9a-f]{8}: 'ctx' \(ctx, .*\) is not writable$/,
    );
    expect(() => as.load64(rw.lo(12), rw.addressHi, new Int32Array(2), 0)).toThrow(
      /invalid read of 8 bytes at .*: runs 4 bytes past the end of 'buf'/,
    );
    expect(() => as.load8(rw.lo(16 + 3), rw.addressHi)).toThrow(
      /invalid read of 1 byte at .*: unmapped, 3 bytes past the end of 'buf'/,
    );
    expect(() => as.load8(0x10, 0)).toThrow(/NULL/);
    const fault = as.describeFault(rw.lo(20), rw.addressHi, 2, "read");
    expect(fault).toBeInstanceOf(MemoryFault);
    expect(fault.region?.name).toBe("buf");
  });

  it("a stack window below its extent faults as 'below the live part'", () => {
    const as = new AddressSpace();
    const stack = as.alloc(1024, { name: "stack", kind: "stack" });
    stack.start = stack.base + 512;
    expect(() => as.load8(stack.lo(511), stack.addressHi)).toThrow(
      /1 byte below the live part of 'stack'/,
    );
    expect(as.load8(stack.lo(512), stack.addressHi)).toBe(0);
  });
});

describe("bulk helpers", () => {
  it("probeRead copies, or zero-fills and reports failure on a bad source", () => {
    const as = new AddressSpace();
    const src = as.alloc(8, { name: "src", kind: "kernel_object" });
    const dst = as.alloc(8, { name: "dst", kind: "stack" });
    as.writeBytes(src.addressLo, src.addressHi, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(as.probeRead(dst.addressLo, dst.addressHi, src.addressLo, src.addressHi, 8)).toBe(true);
    expect(Array.from(as.readBytes(dst.addressLo, dst.addressHi, 8))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect(as.probeRead(dst.addressLo, dst.addressHi, src.lo(4), src.addressHi, 8)).toBe(false);
    expect(Array.from(as.readBytes(dst.addressLo, dst.addressHi, 8))).toEqual(new Array(8).fill(0));
    expect(as.probeRead(dst.addressLo, dst.addressHi, 0, 0, 4)).toBe(false);
    // a bad destination is the caller's (verifier's) bug: it throws
    expect(() => as.probeRead(0, 0, src.addressLo, src.addressHi, 4)).toThrow(MemoryFault);
  });

  it("probeReadStr stops at the NUL, truncates with a NUL, fails on a bad source", () => {
    const as = new AddressSpace();
    const src = as.alloc(8, { name: "comm", kind: "kernel_object" });
    const dst = as.alloc(16, { name: "dst", kind: "stack" });
    as.writeBytes(src.addressLo, src.addressHi, new TextEncoder().encode("bash\0xyz"));
    expect(as.probeReadStr(dst.addressLo, dst.addressHi, src.addressLo, src.addressHi, 16)).toBe(5);
    expect(new TextDecoder().decode(as.readCString(dst.addressLo, dst.addressHi))).toBe("bash");
    expect(as.probeReadStr(dst.addressLo, dst.addressHi, src.addressLo, src.addressHi, 3)).toBe(3);
    expect(new TextDecoder().decode(as.readCString(dst.addressLo, dst.addressHi))).toBe("ba");
    // no NUL before the end of the region: the copy runs into the guard gap
    expect(as.probeReadStr(dst.addressLo, dst.addressHi, src.lo(5), src.addressHi, 16)).toBe(-1);
  });

  it("readCString faults on an unterminated string at the region's end", () => {
    const as = new AddressSpace();
    const s = as.alloc(4, { name: "s", kind: "data" });
    as.writeBytes(s.addressLo, s.addressHi, Uint8Array.from([0x61, 0x62, 0x63, 0x64]));
    expect(() => as.readCString(s.addressLo, s.addressHi)).toThrow(/invalid read of 1 byte/);
  });
});
