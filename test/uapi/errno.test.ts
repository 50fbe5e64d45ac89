// runtime/uapi/errno.ts against asm-generic/errno-base.h and errno.h, the C library's own
// <errno.h>, and Node's os.constants.errno (libuv's view of the same kernel ABI).
import { constants } from "node:os";
import { describe, expect, it } from "vitest";
import {
  Errno,
  KERNEL_INTERNAL_ERRNOS,
  errnoName,
  type ErrnoName,
} from "../../runtime/uapi/errno.js";
import { cValues, hasClang, header, stripComments } from "./oracle.js";

const files = ["/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h"];
const texts = files.map(header);
const present = texts.every((t) => t !== undefined);
if (!present) console.log("skipped: asm-generic errno headers absent (install linux-libc-dev)");

// #define EPERM 1 and #define EWOULDBLOCK EAGAIN, resolved.
function headerErrnos(): Map<string, number> {
  const defs = new Map<string, number>();
  for (const text of texts) {
    for (const m of stripComments(text!).matchAll(/^#define\s+(E\w+)\s+(\w+)/gm)) {
      const value = /^\d+$/.test(m[2]!) ? Number(m[2]) : defs.get(m[2]!);
      if (value === undefined) throw new Error(`unresolved ${m[1]} ${m[2]}`);
      defs.set(m[1]!, value);
    }
  }
  return defs;
}

const uapiNames = (Object.keys(Errno) as ErrnoName[]).filter(
  (n) => !KERNEL_INTERNAL_ERRNOS.includes(n),
);

describe.skipIf(!present)("errno numbers match the uapi headers", () => {
  const defs = headerErrnos();
  it("has exactly the headers' names (plus the kernel-internal ones)", () => {
    expect([...uapiNames].sort()).toEqual([...defs.keys()].sort());
    expect(defs.size).toBeGreaterThan(130);
  });
  it.each(uapiNames)("%s", (name) => {
    expect(Errno[name]).toBe(defs.get(name));
  });
});

describe.skipIf(!hasClang)("errno numbers match the C library's <errno.h>", () => {
  const c = cValues(["errno.h"], Object.fromEntries(uapiNames.map((n) => [n, n])));
  it.each(uapiNames)("%s", (name) => expect(BigInt(Errno[name])).toBe(c.get(name)));
});

describe("errno numbers match Node's os.constants.errno", () => {
  const node = constants.errno as Record<string, number>;
  const shared = uapiNames.filter((n) => node[n] !== undefined);
  it("shares most names with Node", () => expect(shared.length).toBeGreaterThan(70));
  it.each(shared)("%s", (name) => expect(Errno[name]).toBe(node[name]));
});

describe("errnoName", () => {
  it("names a number by its first (canonical) name, either sign", () => {
    expect(errnoName(22)).toBe("EINVAL");
    expect(errnoName(-7)).toBe("E2BIG");
    expect(errnoName(11)).toBe("EAGAIN"); // not EWOULDBLOCK
    expect(errnoName(35)).toBe("EDEADLK"); // not EDEADLOCK
    expect(errnoName(524)).toBe("ENOTSUPP");
    expect(errnoName(95)).toBe("EOPNOTSUPP");
    expect(errnoName(0)).toBeUndefined();
    expect(errnoName(4000)).toBeUndefined();
  });
});
