// `tsbpf vector`: through runtime/cli/vector.ts main() in-process, and once through the built
// bin when dist/ exists (npm run build).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main, formatR0 } from "../../runtime/cli/vector.js";
import { withTmp, withTmpAsync } from "./run.js";

const ROOT = join(import.meta.dirname, "..", "..");
const VECTORS = join(ROOT, "..", "shared", "conformance");

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const OK = "-- asm\nmov %r0, %r2\nadd %r0, 1\nexit\n-- mem\n00 01 02\n-- result\n0x4\n";
const WRONG = "-- asm\nmov %r0, 5\nexit\n-- result\n0x4\n";
const FAULT = "-- asm\nldxdw %r0, [%r1+2]\nexit\n-- mem\n00 01 02 03\n-- result\n0x0\n";
const LOOP = "-- asm\nloop:\nja loop\nexit\n-- result\n0x0\n";
const BAD_ASM = "-- asm\nmov %r0, %r99\nexit\n-- result\n0x0\n";

describe("tsbpf vector FILE", () => {
  it("prints r0 as hex on a line of its own and returns 0", async () => {
    await withTmpAsync(async (dir) => {
      writeFileSync(join(dir, "ok.data"), OK);
      expect(await main([join(dir, "ok.data")])).toBe(0);
      expect(out).toEqual(["0x4"]);
    });
  });

  it("prints r0 even when it differs from the stated result (it runs, it does not check)", async () => {
    await withTmpAsync(async (dir) => {
      writeFileSync(join(dir, "w.data"), WRONG);
      expect(await main([join(dir, "w.data")])).toBe(0);
      expect(out).toEqual(["0x5"]);
    });
  });

  it("a faulting program prints the error (pc, address, size) and returns 1", async () => {
    await withTmpAsync(async (dir) => {
      writeFileSync(join(dir, "f.data"), FAULT);
      expect(await main([join(dir, "f.data")])).toBe(1);
      expect(out).toEqual([]);
      expect(err.join("\n")).toMatch(
        /f\.data: insn 0: invalid read of 8 bytes at 0xffff8880[0-9a-f]{8}: runs 6 bytes past the end of 'mem'/,
      );
    });
  });

  it("a runaway program stops at --budget", async () => {
    await withTmpAsync(async (dir) => {
      writeFileSync(join(dir, "l.data"), LOOP);
      expect(await main(["--budget", "500", join(dir, "l.data")])).toBe(1);
      expect(err.join("\n")).toMatch(/instruction budget of 500 exhausted/);
    });
  });

  it("bad assembler, a missing file and bad usage are one-line errors with exit 1", async () => {
    await withTmpAsync(async (dir) => {
      writeFileSync(join(dir, "b.data"), BAD_ASM);
      expect(await main([join(dir, "b.data")])).toBe(1);
      expect(err[0]).toMatch(/b\.data:2:\d+: /);
      expect(await main([join(dir, "missing.data")])).toBe(1);
      expect(err[1]).toMatch(/cannot read .*missing\.data: ENOENT/);
      expect(await main([])).toBe(1);
      expect(await main(["--frobnicate"])).toBe(1);
    });
  });

  it("formats r0 without leading zeros", () => {
    expect(formatR0(1, 0)).toBe("0x1");
    expect(formatR0(0, 0)).toBe("0x0");
    expect(formatR0(0x55667788, 0x11223344)).toBe("0x1122334455667788");
    expect(formatR0(1, 1)).toBe("0x100000001");
    expect(formatR0(-1, -1)).toBe("0xffffffffffffffff");
  });
});

describe("tsbpf vector --check DIR", () => {
  it("reports each failure and ends with 'N passed, N failed'", async () => {
    await withTmpAsync(async (dir) => {
      mkdirSync(join(dir, "v"));
      writeFileSync(join(dir, "v", "a-ok.data"), OK);
      writeFileSync(join(dir, "v", "b-wrong.data"), WRONG);
      writeFileSync(join(dir, "v", "c-fault.data"), FAULT);
      writeFileSync(join(dir, "v", "d-ok.data"), OK);
      writeFileSync(join(dir, "v", "notes.txt"), "not a vector");
      expect(await main(["--check", join(dir, "v")])).toBe(1);
      expect(out.at(-1)).toBe("2 passed, 2 failed");
      expect(out.filter((l) => l.startsWith("FAIL"))).toHaveLength(2);
      expect(out.join("\n")).toMatch(
        /FAIL .*b-wrong\.data: r0 = 0x0000000000000005, expected 0x0000000000000004/,
      );
    });
  });

  it.skipIf(!existsSync(VECTORS))("passes the whole conformance suite", async () => {
    expect(await main(["--check", VECTORS])).toBe(0);
    expect(out.at(-1)).toBe("313 passed, 0 failed");
  });
});

const BIN = join(ROOT, "dist", "compiler", "cli", "tsbpf.js");
describe.skipIf(!existsSync(BIN) || !existsSync(VECTORS))("the built tsbpf bin", () => {
  it("runs a vector: prints r0 and exits 0", () => {
    const stdout = execFileSync("node", [BIN, "vector", join(VECTORS, "lddw.data")], {
      encoding: "utf8",
    });
    expect(stdout).toBe("0x1122334455667788\n");
  });

  it("exits 1 on a fault", () => {
    withTmp((dir) => {
      writeFileSync(join(dir, "f.data"), FAULT);
      const r = spawnSync("node", [BIN, "vector", join(dir, "f.data")], { encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/invalid read of 8 bytes/);
    });
  });
});
