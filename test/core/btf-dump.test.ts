// `tsbpf btf dump` against bpftool (v7.1 on this machine): the vmlinux.h written from a BTF
// (format c) and the raw listing must equal bpftool's byte for byte, for the running kernel's
// /sys/kernel/btf/vmlinux, for the simulated kernel's BTF, and for an object whose structs
// need explicit padding, packing and bit-fields. The generated header must compile, and give
// clang the layouts the BTF records.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { encodeBtf } from "../../runtime/btf/encode.js";
import { dumpBtf } from "../../runtime/btf/dump.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  BTF_KIND_VOLATILE,
  type Btf,
} from "../../runtime/btf/btf.js";
import { main, readBtfFile } from "../../runtime/cli/btf.js";
import { btfToC } from "../../runtime/core/btf-to-c.js";
import { TsbpfError } from "../../runtime/error.js";
import { kernelBtf } from "../../runtime/kernel/btf.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import {
  bpftoolDump,
  FIXTURES,
  hasBpftool,
  hasClang,
  hasVmlinuxBtf,
  run,
  scratchDir,
  scratchFile,
  skipReason,
  VMLINUX_BTF,
} from "./tools.js";

const skipReal = skipReason({ bpftool: hasBpftool, "/sys/kernel/btf/vmlinux": hasVmlinuxBtf });
const skipTools = skipReason({ bpftool: hasBpftool, clang: hasClang });
if (skipReal) console.log(`test/core/btf-dump: vmlinux comparisons skipped: ${skipReal}`);
if (skipTools) console.log(`test/core/btf-dump: object comparisons skipped: ${skipTools}`);

let stdout: string[];
beforeEach(() => {
  stdout = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

async function cli(args: string[]): Promise<string> {
  stdout = [];
  expect(await main(args)).toBe(0);
  return stdout.join("");
}

async function cliError(args: string[]): Promise<string> {
  try {
    await main(args);
  } catch (err) {
    if (err instanceof TsbpfError) return err.message;
    throw err;
  }
  throw new Error(`tsbpf btf ${args.join(" ")} did not fail`);
}

/**
 * _Static_asserts of every named record's size and member offsets, as the BTF says: records
 * whose tag is written under another name (`foo___2`, a tag shared with another record or
 * enum) are left out, as are those holding a va_list by value (the BPF target's va_list is a
 * pointer, the kernel's x86_64 one a 24-byte struct).
 */
function layoutAsserts(btf: Btf): string {
  const tags = new Map<string, number>();
  for (const t of btf.types)
    if (
      t.name !== "" &&
      [BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_ENUM, BTF_KIND_ENUM64].includes(t.kind)
    )
      tags.set(t.name, (tags.get(t.name) ?? 0) + 1);
  const lines: string[] = [];
  for (const t of btf.types) {
    if ((t.kind !== BTF_KIND_STRUCT && t.kind !== BTF_KIND_UNION) || t.name === "") continue;
    if (tags.get(t.name)! > 1 || holdsVaList(btf, t.id, 0)) continue;
    const tag = `${t.kind === BTF_KIND_STRUCT ? "struct" : "union"} ${t.name}`;
    lines.push(`_Static_assert(sizeof(${tag}) == ${t.size}, "sizeof ${tag}");`);
    for (const m of t.members) {
      if (m.name === "" || m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0) continue;
      lines.push(
        `_Static_assert(__builtin_offsetof(${tag}, ${m.name}) == ${m.bitOffset / 8}, "${tag}.${m.name}");`,
      );
    }
  }
  return lines.join("\n");
}

function holdsVaList(btf: Btf, id: number, depth: number): boolean {
  const t = btf.types[id];
  if (t === undefined || depth > 64) return false;
  if (/va_list$/.test(t.name)) return true;
  switch (t.kind) {
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      return t.members.some((m) => holdsVaList(btf, m.type, depth + 1));
    case BTF_KIND_ARRAY:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
      return holdsVaList(btf, t.type, depth + 1);
    default:
      return false;
  }
}

/** clang -target bpf accepts `header` with the layout asserts of `btf`. */
function compilesWithLayouts(name: string, header: string, btf: Btf): void {
  const h = scratchFile(`${name}.h`, header);
  const c = scratchFile(`${name}-check.c`, `#include "${h}"\n${layoutAsserts(btf)}\n`);
  run("clang", ["-target", "bpf", "-fsyntax-only", "-Wno-everything", c]);
}

describe.skipIf(skipReal !== undefined)("the running kernel's BTF", () => {
  let btf: Btf | undefined;
  const vmlinux = (): Btf => (btf ??= readBtfFile(VMLINUX_BTF));

  it("format c equals bpftool's vmlinux.h byte for byte", async () => {
    const ours = await cli(["dump", VMLINUX_BTF, "--format", "c"]);
    expect(ours.length).toBeGreaterThan(1_000_000);
    expect(ours === bpftoolDump(VMLINUX_BTF, "c")).toBe(true);
  });

  it("raw equals bpftool's listing byte for byte", async () => {
    const ours = await cli(["dump", "file", VMLINUX_BTF]);
    expect(ours === bpftoolDump(VMLINUX_BTF, "raw")).toBe(true);
  });

  it("compiles with clang; with --exact-layouts, to the layouts the BTF records", async () => {
    // bpftool 7.1's header lays out structs holding a 1-byte enum wrongly (no mode(byte)):
    // CO-RE relocates such offsets at load time, but an exact header needs the attribute
    const exact = await cli(["dump", VMLINUX_BTF, "--format", "c", "--exact-layouts"]);
    expect(exact).toContain("__attribute__((mode(byte)))");
    compilesWithLayouts("vmlinux", exact, vmlinux());
    expect(() => compilesWithLayouts("vmlinux-bpftool", btfToC(vmlinux()), vmlinux())).toThrow(
      /sizeof struct inode/,
    );
  });
});

describe.skipIf(!hasBpftool)("the simulated kernel's BTF", () => {
  const kernel = new SimKernel();
  const btf = kernelBtf(kernel);
  const file = (): string => scratchFile("sim.btf", encodeBtf(btf));

  it("is read back by bpftool as we list it, raw and as C", async () => {
    expect(bpftoolDump(file(), "raw")).toBe(dumpBtf(btf));
    expect(bpftoolDump(file(), "c")).toBe(btfToC(btf));
    expect(await cli(["dump", "--sim"])).toBe(dumpBtf(btf));
    expect(await cli(["dump", "--sim", "--format=c"])).toBe(btfToC(btf));
  });

  it.skipIf(!hasClang)("compiles with clang, with the kernel's layouts", () => {
    compilesWithLayouts("sim", btfToC(btf), btf);
  });
});

describe.skipIf(skipTools !== undefined)("an object's BTF", () => {
  it("with padding, packing and bit-fields: format c and raw equal bpftool's", async () => {
    const obj = join(scratchDir(), "layouts.o");
    run("clang", ["-g", "-O2", "-target", "bpf", "-c", join(FIXTURES, "layouts.c"), "-o", obj]);
    const c = await cli(["dump", obj, "format", "c"]);
    expect(c).toBe(bpftoolDump(obj, "c"));
    expect(c).toContain("__attribute__((packed))");
    expect(c).toMatch(/\tlong: 64;/);
    expect(await cli(["dump", obj])).toBe(bpftoolDump(obj, "raw"));
    const btf = readBtfFile(obj);
    compilesWithLayouts("layouts", c, btf);
  });
});

describe("tsbpf btf errors", () => {
  it("name the file and the reason", async () => {
    expect(await cliError(["dump", "/no/such/file"])).toMatch(
      /'\/no\/such\/file': No such file or directory/,
    );
    expect(await cliError(["dump"])).toMatch(/no FILE \(or --sim\) given/);
    expect(await cliError(["dump", "--sim", "--format", "json"])).toMatch(/unknown format 'json'/);
    expect(await cliError(["list"])).toMatch(/unknown command 'list'/);
    const notBtf = scratchFile("not-btf.bin", "hello, world: not BTF at all");
    expect(await cliError(["dump", notBtf])).toMatch(/not-btf\.bin/);
    const elf = readFileSync("/proc/self/exe").subarray(0, 4096);
    const truncated = scratchFile("truncated.elf", elf);
    expect(await cliError(["dump", truncated])).toMatch(/truncated\.elf/);
  });

  it("a struct size or member offset past 2^31 bits wraps as in bpftool; a huge gap is an error", () => {
    // struct s { int int; } with a corrupt size or member offset (C ints in libbpf's
    // btf_dump): bpftool's text, where writing the gap out would have been ~10^9 lines
    const structBtf = (size: number, bitOffset: number): Uint8Array => {
      const b = Buffer.alloc(24 + 40 + 7);
      b.writeUInt32LE(0x0001eb9f, 0);
      b.writeUInt32LE(24, 4);
      b.writeUInt32LE(40, 16); // str_off: types take 40 bytes
      b.writeUInt32LE(7, 20);
      b.writeUInt32LE(40, 12);
      const t = 24;
      b.writeUInt32LE(1, t); // [1] INT 'int' size 4, 32 bits
      b.writeUInt32LE(0x01000000, t + 4);
      b.writeUInt32LE(4, t + 8);
      b.writeUInt32LE(0x01000020, t + 12);
      b.writeUInt32LE(5, t + 16); // [2] STRUCT 's', one member
      b.writeUInt32LE(0x04000001, t + 20);
      b.writeUInt32LE(size, t + 24);
      b.writeUInt32LE(1, t + 28); // member 'int' of type [1]
      b.writeUInt32LE(1, t + 32);
      b.writeUInt32LE(bitOffset, t + 36);
      b.write("\0int\0s\0", 64, "latin1");
      return new Uint8Array(b);
    };
    const text = (size: number, bitOffset: number): string =>
      btfToC(parseBtf(structBtf(size, bitOffset), "corrupt"));
    expect(text(0xffffffff, 0xfffffff0)).toContain(
      "struct s {\n\tint int;\n} __attribute__((packed));",
    );
    expect(text(8, 0xffffffff)).toContain(
      "struct s {\n\tint int;\n\tlong: 0;\n} __attribute__((packed));",
    );
    expect(() => text(1 << 24, 0)).toThrow(/type \[2\]: a gap of 134217696 bits between members/);
    if (hasBpftool) {
      for (const [size, offset] of [
        [0xffffffff, 0xfffffff0],
        [8, 0xffffffff],
      ] as const) {
        const file = scratchFile(`corrupt-${size}-${offset}.btf`, structBtf(size, offset));
        expect(text(size, offset)).toBe(bpftoolDump(file, "c"));
      }
    }
  });

  it("never throw anything but a TsbpfError on corrupt BTF", () => {
    const good = encodeBtf(kernelBtf());
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 200; i++) {
      const bytes = good.slice();
      for (let k = 0; k < 8; k++) bytes[24 + random(bytes.length - 24)] = random(256);
      try {
        const btf = parseBtf(bytes, "mutant");
        btfToC(btf);
      } catch (err) {
        if (!(err instanceof TsbpfError)) throw err;
      }
    }
  });
});
