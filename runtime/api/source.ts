// What BpfObject.open() accepts, turned into object bytes: a path to an ELF object, the bytes
// themselves, or C source (a .c path, or text) compiled in process by tsbpf's compiler with
// clang's usual BPF flags. Programs written against `#include "vmlinux.h"` get the simulated
// kernel's header when none is on the include path.
//
// The compiler is imported only when C source is given: this is the one place the runtime
// reaches into compiler/, and a runtime-only user never loads it.
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { writeVmlinuxHeader } from "../kernel/header.js";
import { InputError, readInput } from "../cli/input.js";
import { Errno, type ErrnoName } from "../uapi/errno.js";
import { BpfError } from "./errors.js";

/** A path (.o, or .c to compile), object bytes, or C source text. */
export type ObjectInput =
  | string
  | Uint8Array
  | { readonly bytes: Uint8Array; readonly name?: string }
  | { readonly source: string; readonly file?: string };

export interface CompileSettings {
  /** -I directories (default: the source's directory) */
  includeDirs?: string[];
  /** -D values (default: __TARGET_ARCH_x86) */
  defines?: string[];
  /** -mcpu (default v3) */
  cpu?: "v1" | "v2" | "v3" | "v4";
  /** -O level (default 2) */
  optLevel?: 0 | 2;
}

export interface ObjectBytes {
  bytes: Uint8Array;
  /** the name messages use: the file's base name */
  name: string;
  /** warnings from the compiler, rendered as clang prints them */
  warnings: string[];
}

/** Directories every compile searches after the caller's: the machine's multiarch headers. */
const SYSTEM_DIRS = ["/usr/include/x86_64-linux-gnu"];
/** A directory that does not exist on disk: the simulated kernel's vmlinux.h lives there. */
const VIRTUAL_DIR = "/tsbpf-simulated-kernel/include";
let vmlinuxText: string | undefined;

export async function objectBytes(
  input: ObjectInput,
  settings: CompileSettings = {},
): Promise<ObjectBytes> {
  if (input instanceof Uint8Array) return { bytes: input, name: "object.o", warnings: [] };
  if (typeof input === "string") {
    if (input.endsWith(".c")) return compileSource({ file: input }, settings);
    return { bytes: readBytes(input), name: basename(input), warnings: [] };
  }
  if (typeof input !== "object" || input === null)
    throw BpfError.usage("BpfObject", "open", "expected a path, bytes, { bytes } or { source }");
  if ("bytes" in input && input.bytes instanceof Uint8Array)
    return { bytes: input.bytes, name: input.name ?? "object.o", warnings: [] };
  if ("source" in input && typeof input.source === "string")
    return compileSource({ file: input.file ?? "source.bpf.c", source: input.source }, settings);
  throw BpfError.usage("BpfObject", "open", "expected a path, bytes, { bytes } or { source }");
}

function readBytes(path: string): Uint8Array {
  try {
    return readInput(path);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    // (the reason and the errno the file system gave: EISDIR, EACCES, EFBIG..., not always ENOENT)
    const errno = err.code in Errno ? (err.code as ErrnoName) : "EIO";
    const reason = `cannot read the object: ${err.code} (${err.reason})`;
    throw BpfError.usage(path, "open", reason, errno);
  }
}

async function compileSource(
  input: { file: string; source?: string },
  settings: CompileSettings,
): Promise<ObjectBytes> {
  const { compile } = await import("../../compiler/compile.js");
  const { CompileError } = await import("../../compiler/diagnostics.js");
  const includeDirs = [...(settings.includeDirs ?? [dirname(resolve(input.file))]), ...SYSTEM_DIRS];
  const vmlinux = `${VIRTUAL_DIR}/vmlinux.h`;
  const result = compile(input, {
    includeDirs: [...includeDirs, VIRTUAL_DIR],
    defines: settings.defines ?? ["__TARGET_ARCH_x86"],
    cpu: settings.cpu ?? "v3",
    optLevel: settings.optLevel ?? 2,
    debug: true,
    readFile: (path) => {
      if (path === vmlinux) return (vmlinuxText ??= writeVmlinuxHeader());
      if (path.startsWith(VIRTUAL_DIR)) return undefined;
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
  });
  const warnings = result.diagnostics.map((d) => new CompileError([d], result.sources).render());
  return { bytes: result.object, name: basename(input.file).replace(/\.c$/, ".o"), warnings };
}
