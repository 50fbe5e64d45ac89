// The runtime commands (objdump, verify, run, btf dump, vector; runtime/cli, main() in-process)
// given bad input as a user gives it: directories, devices that never end, files too large,
// options without their value, a bad file among good ones, BTF that C cannot express, vectors
// the interpreter refuses. Each must be one clear error that names the file and the reason, with
// exit code 1 (or a thrown TsbpfError, which the tsbpf bin prints as one line and exits 1 on):
// no stack trace, no hang, no message in Node's words.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main as btf } from "../../runtime/cli/btf.js";
import { InputError, MAX_INPUT_BYTES, readInput } from "../../runtime/cli/input.js";
import { main as objdump, objdumpText } from "../../runtime/cli/objdump.js";
import { main as run } from "../../runtime/cli/run.js";
import { main as vector } from "../../runtime/cli/vector.js";
import { main as verify } from "../../runtime/cli/verify.js";
import { TsbpfError } from "../../runtime/error.js";
import { compile, hasClang, hasObjdump, scratchDir } from "./tools.js";

type Command = (args: string[]) => Promise<number>;

let out: string[];
let err: string[];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    out.push(String(s));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    err.push(String(s).replace(/\n$/, ""));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** What the tsbpf bin would print on stderr, and the exit code. */
async function outcome(
  command: Command,
  args: string[],
): Promise<{ code: number; stderr: string }> {
  try {
    const code = await command(args);
    return { code, stderr: err.join("\n") };
  } catch (e) {
    if (!(e instanceof TsbpfError)) throw e;
    return { code: 1, stderr: `tsbpf: ${e.message}` };
  }
}

const dir = (): string => {
  const d = join(scratchDir(), "robust");
  mkdirSync(d, { recursive: true });
  return d;
};

describe("reading the input file", () => {
  it("a directory is 'Is a directory', in every command", async () => {
    const d = join(dir(), "adir.o");
    mkdirSync(d, { recursive: true });
    for (const [command, name, args] of [
      [objdump, "objdump", ["-d", d]],
      [verify, "verify", [d]],
      [btf, "btf dump", ["dump", d]],
    ] as [Command, string, string[]][]) {
      expect(await outcome(command, args)).toEqual({
        code: 1,
        stderr: `tsbpf: ${name}: '${d}': Is a directory`,
      });
      err = [];
    }
    // run and vector keep their own framing, with the same reason
    expect((await outcome(run, [d])).stderr).toBe(
      `tsbpf: ${d}: open: cannot read the object: EISDIR (Is a directory)`,
    );
    const c = join(dir(), "adir.c");
    mkdirSync(c, { recursive: true });
    expect((await outcome(run, [c])).stderr).toBe(
      `tsbpf: ${c}: open: cannot read the source: EISDIR (Is a directory)`,
    );
    expect(await outcome(vector, [d])).toEqual({
      code: 1,
      stderr: `tsbpf vector: cannot read ${d}: EISDIR (Is a directory)`,
    });
  });

  it("a missing file is 'No such file or directory'", async () => {
    const m = join(dir(), "missing.o");
    expect(await outcome(verify, [m])).toEqual({
      code: 1,
      stderr: `tsbpf: verify: '${m}': No such file or directory`,
    });
    expect((await outcome(run, [m])).stderr).toBe(
      `tsbpf: ${m}: open: cannot read the object: ENOENT (No such file or directory)`,
    );
  });

  it("a file larger than any object is refused from its size, without reading it", async () => {
    const big = join(dir(), "big.o");
    writeFileSync(big, "");
    truncateSync(big, MAX_INPUT_BYTES + 4096); // sparse: no disk used
    for (const [command, name, args] of [
      [objdump, "objdump", ["-d", big]],
      [verify, "verify", [big]],
      [btf, "btf dump", ["dump", big]],
    ] as [Command, string, string[]][]) {
      const r = await outcome(command, args);
      expect(r).toEqual({
        code: 1,
        stderr: `tsbpf: ${name}: '${big}': ${MAX_INPUT_BYTES + 4096} bytes, more than the 256 MiB an input may have`,
      });
      err = [];
    }
  });

  it.skipIf(!existsSync("/dev/zero"))(
    "a device that never ends is an error, not a hang",
    async () => {
      expect(() => readInput("/dev/zero", { limit: 3 << 20 })).toThrow(
        new InputError("/dev/zero", "EFBIG", "more than the 3 MiB an input may have"),
      );
      expect(() => readInput("/dev/zero", { limit: 100, command: "x" })).toThrow(
        "x: '/dev/zero': more than the 100 bytes an input may have",
      );
      const t0 = performance.now();
      expect(await outcome(objdump, ["-d", "/dev/zero"])).toEqual({
        code: 1,
        stderr: "tsbpf: objdump: '/dev/zero': more than the 256 MiB an input may have",
      });
      expect(performance.now() - t0).toBeLessThan(20_000);
    },
  );

  it("reads a file whole, and a pipe to its end, over several chunks", () => {
    const f = join(dir(), "bytes.bin");
    const bytes = Buffer.from(Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 7) & 0xff));
    writeFileSync(f, bytes);
    const same = (a: Uint8Array): boolean => bytes.equals(a);
    expect(same(readInput(f))).toBe(true);
    expect(same(readInput(f, { limit: bytes.length }))).toBe(true);
    expect(() => readInput(f, { limit: bytes.length - 1 })).toThrow(
      /'.*bytes\.bin': 3000000 bytes, more than/,
    );
    const fifo = join(dir(), "bytes.fifo");
    execFileSync("mkfifo", [fifo]);
    const writer = spawn("sh", ["-c", 'cat "$0" > "$1"', f, fifo], { stdio: "ignore" });
    try {
      expect(same(readInput(fifo))).toBe(true);
    } finally {
      writer.kill();
    }
    if (existsSync("/dev/null")) expect(readInput("/dev/null")).toEqual(new Uint8Array(0));
  });
});

describe("options", () => {
  it("verify and run answer -h and --help with their usage, exit 0", async () => {
    for (const [command, usage] of [
      [verify, /^usage: tsbpf verify FILE\.o/],
      [run, /^usage: tsbpf run FILE\.o\|FILE\.bpf\.c/],
    ] as [Command, RegExp][]) {
      for (const flag of ["-h", "--help"]) {
        out = [];
        expect(await command([flag])).toBe(0);
        expect(out.join("\n")).toMatch(usage);
      }
    }
  });

  it("btf dump --format without its value says so", async () => {
    const r = await outcome(btf, ["dump", "--sim", "--format"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsbpf: btf dump: --format needs a value\nusage: /);
  });
});

/** A raw BTF: a 24-byte header, the types as u32 words, the strings. */
function rawBtf(types: number[], strings: string): Uint8Array {
  const typeBytes = new Uint8Array(Uint32Array.from(types).buffer);
  const strBytes = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + typeBytes.length + strBytes.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xeb9f, true);
  view.setUint8(2, 1);
  view.setUint32(4, 24, true);
  view.setUint32(8, 0, true);
  view.setUint32(12, typeBytes.length, true);
  view.setUint32(16, typeBytes.length, true);
  view.setUint32(20, strBytes.length, true);
  out.set(typeBytes, 24);
  out.set(strBytes, 24 + typeBytes.length);
  return out;
}

describe("btf dump --format c of BTF that C cannot express", () => {
  // [1] int; [2] typedef a -> [3]; [3] typedef b -> [2]: a loop of typedefs
  const INT = [1, 0x01000000, 4, 0x01000020];
  const TYPEDEF = (name: number, type: number): number[] => [name, 0x08000000, type];
  const STRINGS = "\0int\0a\0b\0";

  it("names the file that holds it", async () => {
    const loop = join(dir(), "typedef-loop.btf");
    writeFileSync(loop, rawBtf([...INT, ...TYPEDEF(5, 3), ...TYPEDEF(7, 2)], STRINGS));
    expect(await outcome(btf, ["dump", loop])).toEqual({ code: 0, stderr: "" }); // raw is fine
    const r = await outcome(btf, ["dump", loop, "--format", "c"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^tsbpf: ${loop}: type \\[\\d\\]: .*\\(cyclic BTF\\?\\)$`));
  });
});

describe.skipIf(!hasClang)("objects that are not usable", () => {
  it("objdump reports a bad file and still dumps the files after it, exit 1 (as llvm-objdump)", async () => {
    const { path } = compile("globals");
    const junk = join(dir(), "junk.o");
    writeFileSync(junk, "not an ELF file at all, but long enough for the ELF header's 64 bytes");
    const missing = join(dir(), "gone.o");
    expect(await objdump(["-d", junk, path, missing, path])).toBe(1);
    expect(err).toEqual([
      `tsbpf: ${junk}: ELF header: bad magic (not an ELF file)`,
      `tsbpf: objdump: '${missing}': No such file or directory`,
    ]);
    expect(out.filter((s) => s.includes(`${path}:\tfile format elf64-bpf`))).toHaveLength(2);
    out = [];
    err = [];
    expect(await objdump(["-d", path])).toBe(0);
    expect(err).toEqual([]);
  });

  it("run reports an object that is no ELF object as verify does, without the API's wrapping", async () => {
    const junk = join(dir(), "junk.o");
    writeFileSync(junk, "not an ELF file at all, but long enough for the ELF header's 64 bytes");
    const expected = "tsbpf: junk.o: ELF header: bad magic (not an ELF file)";
    expect(await outcome(run, [junk])).toEqual({ code: 1, stderr: expected });
    expect(await outcome(verify, [junk])).toEqual({ code: 1, stderr: expected });
  });
});

/** `bytes` with its one code section (and the symbol that spans it) cut to `size` bytes. */
function cutCode(bytes: Uint8Array, size: number): Uint8Array {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const shoff = Number(view.getBigUint64(0x28, true));
  const shnum = view.getUint16(0x3c, true);
  const header = (i: number): number => shoff + i * 64;
  let code = -1;
  for (let i = 0; i < shnum; i++) {
    const flags = view.getBigUint64(header(i) + 8, true);
    if (view.getUint32(header(i) + 4, true) === 1 && (flags & 4n) !== 0n) code = i;
  }
  const full = view.getBigUint64(header(code) + 32, true);
  view.setBigUint64(header(code) + 32, BigInt(size), true);
  for (let i = 0; i < shnum; i++) {
    if (view.getUint32(header(i) + 4, true) !== 2) continue; // SHT_SYMTAB
    const at = Number(view.getBigUint64(header(i) + 24, true));
    const count = Number(view.getBigUint64(header(i) + 32, true)) / 24;
    for (let k = 0; k < count; k++) {
      const sym = at + k * 24;
      if (view.getUint16(sym + 6, true) === code && view.getBigUint64(sym + 16, true) === full)
        view.setBigUint64(sym + 16, BigInt(size), true);
    }
  }
  return out;
}

describe.skipIf(!hasClang)("objdump of a code section cut short", () => {
  // lddw r0, imm64; exit: 24 bytes
  const SOURCE = `__attribute__((section("socket"), used)) long f(void *ctx) { return 0x1122334455667788; }
char LICENSE[] __attribute__((section("license"), used)) = "GPL";`;

  it("prints the bytes after the last whole instruction as llvm-objdump does, never drops them", () => {
    const { bytes } = compile("lddw-tail", SOURCE);
    const lines = (size: number): string[] =>
      objdumpText(cutCode(bytes, size), "cut.o", {
        disassemble: true,
        relocations: false,
        source: false,
      })
        .split("\n")
        .filter((l) => /^ +\d+:/.test(l));
    // 3 bytes after the lddw: one line each
    expect(lines(19)).toEqual([
      "       0:\t18 00 00 00 88 77 66 55 00 00 00 00 44 33 22 11\tr0 = 1234605616436508552 ll",
      "       2:\t95\t<unknown>",
      "       2:\t00\t<unknown>",
      "       2:\t00\t<unknown>",
    ]);
    // an lddw without its second slot: a byte, then 8 bytes decoded where they start, then bytes
    expect(lines(12)).toEqual([
      "       0:\t18\t<unknown>",
      "       0:\t00 00 00 88 77 66 55 00\t<unknown>",
      "       1:\t00\t<unknown>",
      "       1:\t00\t<unknown>",
      "       1:\t00\t<unknown>",
    ]);
    if (!hasObjdump) return;
    for (let size = 1; size < 24; size++) {
      const file = join(dir(), `cut${size}.o`);
      writeFileSync(file, cutCode(bytes, size));
      const llvm = execFileSync("llvm-objdump", ["-d", "-r", file], { encoding: "utf8" });
      const ours = objdumpText(cutCode(bytes, size), file, {
        disassemble: true,
        relocations: true,
        source: false,
      });
      expect(ours, `cut to ${size} bytes`).toBe(llvm);
    }
  });
});

describe("tsbpf vector", () => {
  it("names the file in every error, including those found before the program runs", async () => {
    const v = join(dir(), "jump.data");
    writeFileSync(v, "-- asm\nja +5\nexit\n");
    expect(await outcome(vector, [v])).toEqual({
      code: 1,
      stderr: `tsbpf vector: ${v}: insn 0: jump out of range: target 6 outside the program (0..1)`,
    });
  });

  it("--check: each failure names its file once; an unreadable entry fails, the rest still run", async () => {
    const d = join(dir(), "vectors");
    mkdirSync(join(d, "b-sub.data"), { recursive: true });
    writeFileSync(join(d, "a-ok.data"), "-- asm\nmov %r0, 4\nexit\n-- result\n0x4\n");
    writeFileSync(join(d, "c-badreg.data"), "-- asm\nmov %r11, 1\nexit\n-- result\n0x0\n");
    writeFileSync(join(d, "d-jump.data"), "-- asm\nja +5\nexit\n-- result\n0x0\n");
    expect(await vector(["--check", d])).toBe(1);
    expect(out).toEqual([
      `FAIL cannot read ${join(d, "b-sub.data")}: EISDIR (Is a directory)`,
      `FAIL ${join(d, "c-badreg.data")}:2:5: bad register r11 (r0-r10)`,
      `FAIL ${join(d, "d-jump.data")}: insn 0: jump out of range: target 6 outside the program (0..1)`,
      "1 passed, 3 failed",
    ]);
  });
});
