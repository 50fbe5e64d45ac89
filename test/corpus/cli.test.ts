// The tsbpf build and tsbpf objdump command lines: clang's flags, outputs, -E and -S, warnings,
// and the errors a user can make (each one line or clang-style, exit 1, no stack trace).
import { afterAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../../compiler/compile.js";
import { parseBuildArgs, BuildUsageError } from "../../compiler/cli/build.js";
import { objdumpText } from "../../runtime/cli/objdump.js";
import { hasObjdump, hasReadelf, run, skipReason, tempDir } from "../emit/tools.js";
import { COMPILE_OPTIONS, PROGRAMS_DIR } from "./corpus.js";
import { runCli } from "./cli.js";

const tmp = tempDir("tsbpf-cli-");
afterAll(() => tmp.remove());

const INCLUDES = COMPILE_OPTIONS.includeDirs.map((d) => `-I${d}`);
const DEFINES = COMPILE_OPTIONS.defines.map((d) => `-D${d}`);
const program = join(PROGRAMS_DIR, "open_latency.bpf.c");

describe("tsbpf build arguments", () => {
  it("reads clang's flags, joined or separate", () => {
    const a = parseBuildArgs([
      "-O2",
      "-g",
      "-target",
      "bpf",
      "-mcpu=v2",
      "-c",
      "-I",
      "inc",
      "-Iinc2",
      "-D",
      "A=1",
      "-DB",
      "-U",
      "C",
      "-UD",
      "x.bpf.c",
      "-o",
      "x.o",
    ]);
    expect(a).toEqual({
      input: "x.bpf.c",
      output: "x.o",
      mode: "object",
      options: {
        includeDirs: ["inc", "inc2"],
        defines: ["A=1", "B"],
        undefines: ["C", "D"],
        optLevel: 2,
        cpu: "v2",
        debug: true,
      },
      werror: false,
    });
    expect(parseBuildArgs(["--target=bpfel", "-O0", "-ox.o", "-E", "x.c"])).toMatchObject({
      output: "x.o",
      mode: "preprocess",
      options: { optLevel: 0, debug: false, cpu: "v3" },
    });
    expect(parseBuildArgs(["-S", "-mcpu=generic", "-Wall", "-Werror", "x.c"])).toMatchObject({
      mode: "assembly",
      options: { cpu: "v1" },
      werror: true,
    });
  });

  it.each([
    [["-x", "c", "a.c"], "error: unknown argument: '-x'"],
    [["-O2"], "error: no input files"],
    [["-mcpu=v9", "a.c"], "error: unknown target CPU 'v9'"],
    [["-target", "x86_64-linux-gnu", "a.c"], "error: unknown target triple 'x86_64-linux-gnu'"],
    [["a.c", "-o"], "error: argument to '-o' is missing"],
  ])("refuses %j", (args, message) => {
    expect(() => parseBuildArgs(args)).toThrow(BuildUsageError);
    expect(() => parseBuildArgs(args)).toThrow(message);
  });

  it("reports a bad command line on one line with exit 1", async () => {
    const r = await runCli("build", ["-x", "c", "a.c"]);
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: "tsbpf build: error: unknown argument: '-x'\n",
    });
  });
});

describe("tsbpf build", () => {
  it("writes the object compile() makes", async () => {
    const out = join(tmp.dir, "open_latency.bpf.o");
    const r = await runCli("build", [
      "-O2",
      "-g",
      "-target",
      "bpf",
      ...DEFINES,
      ...INCLUDES,
      "-c",
      program,
      "-o",
      out,
    ]);
    expect(r).toEqual({ code: 0, stdout: "", stderr: "" });
    const expected = compile(program, { ...COMPILE_OPTIONS }).object;
    expect(new Uint8Array(readFileSync(out))).toEqual(expected);
  });

  it("-O0 and -mcpu=v1 give a different, still valid object", async () => {
    const o0 = join(tmp.dir, "o0.o");
    const v1 = join(tmp.dir, "v1.o");
    expect(
      (await runCli("build", [...DEFINES, ...INCLUDES, "-O0", "-c", program, "-o", o0])).code,
    ).toBe(0);
    expect(
      (await runCli("build", [...DEFINES, ...INCLUDES, "-O2", "-mcpu=v1", program, "-o", v1])).code,
    ).toBe(0);
    const count = (p: string) =>
      objdumpText(new Uint8Array(readFileSync(p)), p, {
        disassemble: true,
        relocations: false,
        source: false,
      })
        .split("\n")
        .filter((l) => /^\s+\d+:\t/.test(l)).length;
    expect(count(o0)).toBeGreaterThan(count(v1) / 2);
    expect(count(o0)).not.toBe(count(v1));
  });

  it("-E prints the preprocessed source with -D applied", async () => {
    const src = join(tmp.dir, "pp.c");
    writeFileSync(
      src,
      "#define TWICE(x) ((x) * 2)\nint v = TWICE(LIMIT);\n#ifdef GONE\nint gone;\n#endif\n",
    );
    const r = await runCli("build", ["-E", "-DLIMIT=21", "-DGONE", "-UGONE", src]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("int v = ((21) * 2);\n");
  });

  it("-S writes the disassembly as llvm-objdump -d -r prints it", async () => {
    const out = join(tmp.dir, "open_latency.s");
    const r = await runCli("build", ["-O2", ...DEFINES, ...INCLUDES, "-S", program, "-o", out]);
    expect(r.code).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text).toContain("Disassembly of section kretprobe/do_sys_openat2:");
    expect(text).toMatch(/<open_exit>:\n/);
    expect(text).toMatch(/R_BPF_64_64\tstart\n/);
  });

  it("prints warnings as clang does and still writes the object", async () => {
    const src = join(tmp.dir, "warn.c");
    const out = join(tmp.dir, "warn.o");
    writeFileSync(
      src,
      '__attribute__((section("kprobe/x"))) int prog(void *ctx)\n{\n\tint x;\n\tx == 1;\n\treturn 0;\n}\n',
    );
    const r = await runCli("build", ["-O2", src, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warn\.c:4:4: warning: equality comparison result unused/);
    expect(r.stderr).toMatch(/1 warning generated\.\n$/);
    expect(existsSync(out)).toBe(true);
    const strict = await runCli("build", ["-O2", "-Werror", src, "-o", out]);
    expect(strict.code).toBe(1);
  });

  it("names a missing input file and exits 1", async () => {
    const missing = join(tmp.dir, "missing.bpf.c");
    const r = await runCli("build", ["-c", missing, "-o", join(tmp.dir, "m.o")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("missing.bpf.c");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("tsbpf objdump", () => {
  it("refuses nothing to do, unknown options and missing files, on one line", async () => {
    expect((await runCli("objdump", [])).code).toBe(1);
    const bad = await runCli("objdump", ["-x", "a.o"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tsbpf: objdump: unknown option '-x'/);
    const missing = await runCli("objdump", ["-d", join(tmp.dir, "nope.o")]);
    expect(missing.stderr).toBe(
      `tsbpf: objdump: '${join(tmp.dir, "nope.o")}': No such file or directory\n`,
    );
  });

  it("names the file and the reason for something that is not an object", async () => {
    const r = await runCli("objdump", ["-d", program]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tsbpf: .*open_latency\.bpf\.c.*ELF header: bad magic/);
  });
});

describe.skipIf(skipReason({ readelf: hasReadelf, "llvm-objdump": hasObjdump }))(
  "tsbpf objdump on our objects",
  () => {
    it("prints what llvm-objdump -d -r prints, and -S shows the source lines", async () => {
      const out = join(tmp.dir, "latency.o");
      await runCli("build", ["-O2", "-g", ...DEFINES, ...INCLUDES, program, "-o", out]);
      const mine = (await runCli("objdump", ["-d", "-r", out])).stdout.split("\n");
      const llvm = run("llvm-objdump", ["-d", "-r", out]).stdout.split("\n");
      // Where LLVM 14 prints <unknown> for a valid instruction (a store of an immediate, ...),
      // tsbpf names it as newer LLVM does (runtime/isa/disasm.ts): same bytes, other text.
      expect(mine.length).toBe(llvm.length);
      mine.forEach((line, i) => {
        const theirs = llvm[i]!;
        if (theirs.endsWith("\t<unknown>")) expect(line.startsWith(theirs.slice(0, -9))).toBe(true);
        else expect(line).toBe(theirs);
      });
      const withSource = await runCli("objdump", ["-dS", out]);
      expect(withSource.stdout).toContain("; \tdelta = bpf_ktime_get_ns() - *tsp;\n");
    });
  },
);
