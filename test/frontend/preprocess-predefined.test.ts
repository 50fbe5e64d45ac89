// Predefined macros and feature checks against clang 14 -target bpf: the -dM listing for the
// option combinations that change it, and __has_builtin/__has_attribute/__has_feature/
// __has_extension answers for every name our tables know plus some they must not.
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { renderDiagnostics } from "../../compiler/diagnostics.js";
import {
  knownAttributes,
  knownBuiltins,
  knownExtensions,
  knownFeatures,
} from "../../compiler/predefined.js";
import {
  dumpMacros,
  preprocess,
  printTokens,
  type PreprocessOptions,
} from "../../compiler/preprocess.js";

const hasClang = spawnSync("clang", ["--version"]).status === 0;
if (!hasClang) console.log("predefined macro tests skipped: clang is not installed");

function clangDump(args: string[]): string {
  return execFileSync("clang", ["-target", "bpf", ...args, "-dM", "-E", "-"], {
    input: "",
  }).toString();
}

/** Our -dM listing; our diagnostics must be clang's, word for word. */
function ourDump(options: PreprocessOptions, clangArgs: string[]): string {
  const result = preprocess({ text: "", name: "<stdin>" }, options);
  const clangDiagnostics = spawnSync("clang", ["-target", "bpf", ...clangArgs, "-dM", "-E", "-"], {
    input: "",
    encoding: "utf8",
  }).stderr;
  expect(renderDiagnostics(result.diagnostics.items, result.sources)).toBe(clangDiagnostics);
  return dumpMacros(result.macros);
}

describe.skipIf(!hasClang)("predefined macros equal clang -target bpf -dM -E", () => {
  const combinations: [string[], PreprocessOptions][] = [
    [[], {}],
    [["-O2"], { optimize: true }],
    [["-std=gnu11"], { std: "gnu11" }],
    [["-std=c11"], { std: "c11" }],
    [["-std=c17", "-O1"], { std: "c17", optimize: true }],
    // clang 14 ignores -mcpu for macros (no __BPF_CPU_VERSION__ before clang 18).
    [["-mcpu=v3"], {}],
    [
      ["-DFOO", "-DBAR=1+2", "-DEMPTY=", "-D__bpf__=2", "-U__clang__"],
      { defines: ["FOO", "BAR=1+2", "EMPTY=", "__bpf__=2"], undefines: ["__clang__"] },
    ],
  ];
  for (const [args, options] of combinations) {
    it(`clang ${args.join(" ") || "(no options)"}`, () => {
      expect(ourDump(options, args)).toBe(clangDump(args));
    });
  }
});

describe.skipIf(!hasClang)("feature checks answer as clang 14 does", () => {
  const negatives = [
    "__builtin_nonexistent",
    "nonexistent_attr",
    "nonexistent_feature",
    "blocks",
    "modules",
    "c_thread_local",
    "__builtin_bpf_preserve_type_info",
    "designated_init",
    "copy",
  ];
  const checks: string[] = [];
  for (const name of [...knownBuiltins, ...negatives]) checks.push(`__has_builtin(${name})`);
  for (const name of [...knownAttributes, ...negatives])
    checks.push(`__has_attribute(${name})`, `__has_attribute(__${name}__)`);
  for (const name of [...knownFeatures, ...negatives])
    checks.push(`__has_feature(${name})`, `__has_extension(${name})`);
  for (const name of [...knownExtensions, ...negatives]) checks.push(`__has_extension(${name})`);

  it(`${checks.length} checks`, () => {
    const source = checks.map((c) => `${c.replace(/\W+/g, "_")} = ${c}`).join("\n") + "\n";
    const ours = printTokens(preprocess({ text: source, name: "checks.c" }).tokens)
      .trim()
      .split("\n");
    const theirs = execFileSync("clang", ["-target", "bpf", "-E", "-P", "-"], { input: source })
      .toString()
      .split("\n")
      .filter((l) => l.trim() !== "");
    expect(ours).toEqual(theirs);
  });
});
