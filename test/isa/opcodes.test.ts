// The opcode constants must equal the kernel's uapi headers, the source of truth.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as op from "../../runtime/isa/opcodes.js";

const headers = ["/usr/include/linux/bpf_common.h", "/usr/include/linux/bpf.h"];
const present = headers.every((h) => existsSync(h));

function headerDefines(): Map<string, number> {
  const defs = new Map<string, number>();
  for (const h of headers) {
    for (const m of readFileSync(h, "utf8").matchAll(
      /^#define\s+(BPF_\w+)\s+(0x[0-9a-fA-F]+|\d+)\b/gm,
    )) {
      defs.set(m[1]!, Number(m[2]));
    }
  }
  // Enum members (BPF_PSEUDO_* are #defines; the rest we check are #defines too).
  return defs;
}

describe.skipIf(!present)("opcode constants match linux uapi headers", () => {
  if (!present) console.log("skipped: linux-libc-dev headers not installed");
  const defs = headerDefines();
  const ours = Object.entries(op).filter(
    ([name, v]) => name.startsWith("BPF_") && typeof v === "number" && defs.has(name),
  ) as [string, number][];

  it("checks a meaningful number of constants", () => {
    expect(ours.length).toBeGreaterThan(50);
  });
  it.each(ours)("%s", (name, value) => {
    expect(value).toBe(defs.get(name));
  });
});
