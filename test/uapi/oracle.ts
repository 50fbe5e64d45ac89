// Ground truth for the uapi tests: the installed headers read as text, and C programs built
// with the host clang that print what the compiler makes of them.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const hasCommand = (cmd: string): boolean =>
  spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

export const hasClang = hasCommand("clang");

/** The installed header, or undefined if it is absent. */
export function header(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** Header text with comments removed, for the small parsers below. */
export const stripComments = (text: string): string =>
  text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/.*$/gm, "");

/** The enumerator names of `enum <name> { ... }`, without the __MAX / MAX_ / _MAX (non-ABI) sentinels. */
export function enumNames(text: string, name: string): string[] {
  const body = new RegExp(`enum\\s+${name}\\s*\\{([\\s\\S]*?)\\};`).exec(stripComments(text));
  if (!body) throw new Error(`enum ${name} not found`);
  return body[1]!
    .split(",")
    .map((item) => item.trim().split(/\s|=/)[0]!)
    .filter((n) => n !== "" && !n.startsWith("__") && !n.startsWith("MAX_") && !n.endsWith("_MAX"));
}

/** Runs a C program built with clang for the host; returns its stdout. */
export function runC(source: string, extraArgs: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-uapi-"));
  try {
    const src = join(dir, "probe.c");
    const exe = join(dir, "probe");
    writeFileSync(src, source);
    execFileSync("clang", ["-O1", "-w", "-o", exe, src, ...extraArgs], { stdio: "pipe" });
    return execFileSync(exe, { encoding: "utf8", maxBuffer: 64 << 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the C compiler says each expression evaluates to, with `includes` in scope.
 * Values come back as bigint so 64-bit constants survive exactly.
 */
export function cValues(includes: string[], exprs: Record<string, string>): Map<string, bigint> {
  const lines = Object.entries(exprs).map(
    ([key, expr]) => `  printf("%s %llu\\n", "${key}", (unsigned long long)(${expr}));`,
  );
  const source = [
    ...includes.map((h) => `#include <${h}>`),
    "#include <stdio.h>",
    "#include <stddef.h>",
    "int main(void) {",
    ...lines,
    "  return 0;",
    "}",
  ].join("\n");
  const out = new Map<string, bigint>();
  for (const line of runC(source).trim().split("\n")) {
    const [key, value] = line.split(" ");
    out.set(key!, BigInt(value!));
  }
  return out;
}

/** A JS number as the unsigned 64-bit value C would print for it. */
export const asU64 = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

/** The numeric, all-caps exports of a module (the C-named constants). */
export function cNamedConstants(mod: Record<string, unknown>): [string, number][] {
  return Object.entries(mod).filter(
    (e): e is [string, number] => typeof e[1] === "number" && /^[A-Z_][A-Z0-9_]*$/.test(e[0]),
  );
}

/** Members of the exported `as const` objects whose keys are C names (BpfMapType.*). */
export function cNamedMembers(objects: Record<string, number>[]): [string, number][] {
  return objects.flatMap((o) => Object.entries(o));
}
