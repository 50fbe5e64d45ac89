// Where the samples' C sources and headers are, whether this file runs from the source tree
// (samples/lib, under vitest) or compiled (dist/samples/lib, under `npm start`).
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The repository's samples/ directory. */
export const SAMPLES_DIR =
  [resolve(here, ".."), resolve(here, "..", "..", "..", "samples")].find((dir) =>
    existsSync(join(dir, "include", "vmlinux.h")),
  ) ?? resolve(here, "..");

/** samples/include: vmlinux.h of the simulated kernel. */
export const INCLUDE_DIR = join(SAMPLES_DIR, "include");

/** The C source of sample `name`. */
export const sourceOf = (name: string): string => join(SAMPLES_DIR, `${name}.bpf.c`);

/** The flags both compilers get (clang also needs -O2 -g -target bpf -c). */
export const COMPILE_FLAGS = [
  "-D__TARGET_ARCH_x86",
  `-I${INCLUDE_DIR}`,
  "-I/usr/include/x86_64-linux-gnu",
];

/** libbpf's headers (bpf_helpers.h, bpf_tracing.h ...), which the samples include. */
export const LIBBPF_INCLUDE = "/usr/include/bpf";
export const HAS_LIBBPF_HEADERS = existsSync(join(LIBBPF_INCLUDE, "bpf_helpers.h"));
