// Helpers shared by the isa tests: locating the real LLVM tools and running them on byte code.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const hasLlvmMc = hasTool("llvm-mc") && hasTool("llvm-objdump") && hasTool("llvm-objcopy");
export const hasClang = hasTool("clang") && hasTool("llvm-objdump");

/** Runs `fn` with a fresh temporary directory that is removed afterwards. */
export function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-isa-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Assembles LLVM-syntax BPF assembly with llvm-mc and returns the bytes of .text. */
export function llvmMcBytes(lines: string[], mattr = "+alu32"): Uint8Array {
  return withTmp((dir) => {
    writeFileSync(join(dir, "a.s"), "\t.text\n" + lines.map((l) => `\t${l}\n`).join(""));
    execFileSync("llvm-mc", [
      "-triple",
      "bpfel",
      `-mattr=${mattr}`,
      "-filetype=obj",
      "-o",
      join(dir, "a.o"),
      join(dir, "a.s"),
    ]);
    execFileSync("llvm-objcopy", [
      "-O",
      "binary",
      "--only-section=.text",
      join(dir, "a.o"),
      join(dir, "a.bin"),
    ]);
    return new Uint8Array(readFileSync(join(dir, "a.bin")));
  });
}

/** Wraps raw byte code in an object (through .byte directives) and runs llvm-objdump -d on it. */
export function objdumpBytes(bytes: Uint8Array, extraArgs: string[] = []): ObjdumpLine[] {
  return withTmp((dir) => {
    const rows: string[] = [];
    for (let i = 0; i < bytes.length; i += 8) {
      rows.push(
        "\t.byte " + Array.from(bytes.subarray(i, i + 8), (b) => `0x${b.toString(16)}`).join(","),
      );
    }
    writeFileSync(join(dir, "a.s"), "\t.text\n" + rows.join("\n") + "\n");
    execFileSync("llvm-mc", [
      "-triple",
      "bpfel",
      "-filetype=obj",
      "-o",
      join(dir, "a.o"),
      join(dir, "a.s"),
    ]);
    return parseObjdump(
      execFileSync("llvm-objdump", ["-d", ...extraArgs, join(dir, "a.o")], { encoding: "utf8" }),
    );
  });
}

/** One instruction line of llvm-objdump -d output. */
export interface ObjdumpLine {
  /** the line as printed */
  raw: string;
  /** the section being disassembled */
  section: string;
  index: number;
  bytes: Uint8Array;
  /** the instruction text, without the trailing ` <label>` annotation */
  text: string;
  /** the ` <label>` annotation, if any */
  annotation: string;
}

const LINE = /^\s*(\d+):\t((?:[0-9a-f]{2} )*[0-9a-f]{2})\t(.*)$/;

export function parseObjdump(output: string): ObjdumpLine[] {
  const lines: ObjdumpLine[] = [];
  let section = "";
  for (const raw of output.split("\n")) {
    const header = /^Disassembly of section (.*):$/.exec(raw);
    if (header) section = header[1]!;
    const m = LINE.exec(raw);
    if (!m) continue;
    const bytes = new Uint8Array(m[2]!.split(" ").map((h) => parseInt(h, 16)));
    const full = m[3]!;
    const a = / <[^<>]*>$/.exec(full);
    lines.push({
      raw,
      section,
      index: Number(m[1]),
      bytes,
      text: a ? full.slice(0, a.index) : full,
      annotation: a ? a[0] : "",
    });
  }
  return lines;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Compiles C for BPF with clang 14 (`-O2 -target bpf` plus `flags`); returns the object path. */
export function compileBpf(dir: string, name: string, source: string, flags: string[]): string {
  const c = join(dir, `${name}.c`);
  const o = join(dir, `${name}.o`);
  writeFileSync(c, source);
  execFileSync(
    "clang",
    ["-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", ...flags, "-c", c, "-o", o],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return o;
}

export function objdump(object: string, extraArgs: string[] = []): ObjdumpLine[] {
  return parseObjdump(
    execFileSync("llvm-objdump", ["-d", ...extraArgs, object], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    }),
  );
}

/** A symbol of an object as `llvm-objdump -t` lists it. */
export interface ObjSymbol {
  value: number;
  flags: string;
  section: string;
  name: string;
}

export function symbols(object: string): ObjSymbol[] {
  const out = execFileSync("llvm-objdump", ["-t", object], { encoding: "utf8" });
  const syms: ObjSymbol[] = [];
  for (const line of out.split("\n")) {
    const m = /^([0-9a-f]{16}) (.{7}) (\S+)\t[0-9a-f]{16} (.*)$/.exec(line);
    if (m) syms.push({ value: parseInt(m[1]!, 16), flags: m[2]!, section: m[3]!, name: m[4]! });
  }
  return syms;
}

/** The raw bytes of one section, extracted with llvm-objcopy. */
export function sectionBytes(dir: string, object: string, section: string): Uint8Array {
  const out = join(dir, "section.bin");
  execFileSync("llvm-objcopy", [
    `--dump-section=${section}=${out}`,
    object,
    join(dir, "scratch.o"),
  ]);
  return new Uint8Array(readFileSync(out));
}

/** Loads raw programs into the running kernel's verifier (as socket filters, never attached)
 * through test/isa/c/kcheck.c; returns "OK" or "REJECT errno=N <log>" per program, or
 * undefined when the kernel or a C compiler is not available to us. */
export function kernelVerdicts(programs: Uint8Array[]): string[] | undefined {
  if (!kernelChecker()) return undefined;
  return withTmp((dir) => {
    const parts: Uint8Array[] = [];
    for (const p of programs) {
      const count = new Uint8Array(4);
      new DataView(count.buffer).setUint32(0, p.length / 8, true);
      parts.push(count, p);
    }
    const input = join(dir, "programs.bin");
    writeFileSync(input, Buffer.concat(parts));
    const out = execFileSync(kernelChecker()!, [input], { encoding: "utf8", maxBuffer: 1 << 26 });
    return out.split("\n").slice(0, programs.length);
  });
}

let checker: string | null | undefined;

function kernelChecker(): string | undefined {
  if (checker !== undefined) return checker ?? undefined;
  checker = null;
  if (process.getuid?.() !== 0 || !hasTool("cc")) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-kcheck-"));
  const exe = join(dir, "kcheck");
  try {
    execFileSync("cc", ["-O2", "-o", exe, join(import.meta.dirname, "c", "kcheck.c")], {
      stdio: "ignore",
    });
    // r0 = 0; exit must load, or the bpf() syscall is not open to us here.
    writeFileSync(
      join(dir, "probe.bin"),
      Buffer.from([2, 0, 0, 0, 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
    );
    const out = execFileSync(exe, [join(dir, "probe.bin")], { encoding: "utf8" });
    if (out.trim() === "OK") checker = exe;
  } catch {
    checker = null;
  }
  return checker ?? undefined;
}
