// The verifier against the running kernel's on every compiled corpus program: each object (ours
// and clang's) is loaded by libbpf into the machine's kernel (../shared/tools/kload.c) and into a
// simulated kernel of the same generation (6.18 rules), and every program gets the same verdict;
// where the kernel refuses, ours refuses with the kernel's last log line. Processed-instruction
// counts (bpf_prog_info.verified_insns) must be equal too, except where listed below.
import { afterAll, describe, expect, it } from "vitest";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { KERNEL_VERSION } from "../../runtime/uapi/bpf.js";
import { bpfOf } from "../../runtime/bpf/syscall.js";
import { loadObject } from "../../runtime/loader/load.js";
import { LoadError } from "../../runtime/loader/error.js";
import { openObject } from "../../runtime/object/open.js";
import { hasClang, hasLibbpf, isRoot, skipReason, tempDir } from "../emit/tools.js";
import { CORPUS, clangObject, kernelVerdicts, kload, readBytes, tsbpfObject } from "./corpus.js";
import { unsupportedMaps } from "./harness.js";

const tmp = tempDir("tsbpf-corpus-verifier-");
afterAll(() => tmp.remove());

const kloadExe =
  isRoot && hasLibbpf && process.env.TSBPF_NO_KERNEL === undefined ? kload(tmp.dir) : undefined;

/** Our verdict per program: "OK <processed insns>" or "REJECT <kernel message's last line>". */
function ourVerdicts(bytes: Uint8Array, name: string): Map<string, string> {
  const kernel = new SimKernel({ cpus: 2, version: KERNEL_VERSION(6, 18, 0) });
  const loaded = loadObject(kernel, openObject(bytes, name), { keepGoing: true });
  const verdicts = new Map<string, string>();
  const bpf = bpfOf(kernel);
  for (const p of loaded.programs) {
    if (p.error === undefined && p.fd >= 0) {
      const info = bpf.objGetInfoByFd(p.fd);
      verdicts.set(p.name, `OK ${info.kind === "prog" ? info.verifiedInsns : "?"}`);
    } else {
      const log = p.error instanceof LoadError ? p.error.log : "";
      const lines = log.split("\n").filter((l) => l !== "" && !l.startsWith("processed "));
      verdicts.set(p.name, `REJECT ${lines.at(-1) ?? p.error?.message ?? "?"}`);
    }
  }
  loaded.close();
  return verdicts;
}

/**
 * Programs whose processed-instruction count is not yet the kernel's (the verdicts agree):
 * - bpf2bpf_calls: the walk of static subprograms prunes at different points than 6.18's;
 * - bitfields_unions (tsbpf): one instruction more is processed by the kernel;
 * Every other program and object matches the kernel's verified_insns exactly.
 */
const COUNT_DIFFERS = new Set([
  "bpf2bpf_calls.bpf.c clang",
  "bpf2bpf_calls.bpf.c tsbpf",
  "bitfields_unions.bpf.c tsbpf",
]);

const rows: string[] = [];
afterAll(() => {
  if (rows.length > 0)
    console.log(`verified_insns, running kernel vs tsbpf's verifier:\n${rows.sort().join("\n")}`);
});

describe.skipIf(
  skipReason({
    clang: hasClang,
    root: isRoot,
    "libbpf-dev": hasLibbpf,
    "kload (../shared/tools/kload.c built with -lbpf)": kloadExe !== undefined,
  }),
)("corpus: tsbpf's verifier against the running kernel's", () => {
  const cases = CORPUS.flatMap((program) => [
    [`${program} (tsbpf)`, program, "tsbpf"] as const,
    [`${program} (clang)`, program, "clang"] as const,
  ]);
  it.each(cases)("%s: same verdict per program", (_, program, compiler) => {
    const path =
      compiler === "tsbpf" ? tsbpfObject(program, tmp.dir) : clangObject(program, tmp.dir);
    const bytes = readBytes(path);
    const kernel = kernelVerdicts(kloadExe!, path);
    const first = [...kernel.values()][0] ?? "";
    // libbpf 1.x refuses legacy `maps` sections; map types the simulated kernel lacks
    if (first.startsWith("OPEN_FAIL") || unsupportedMaps(bytes, program).length > 0) return;
    const ours = ourVerdicts(bytes, program);
    const firstReject = [...kernel.values()].find((v) => v.startsWith("REJECT"));
    for (const [name, verdict] of kernel) {
      const mine = ours.get(name) ?? `missing ${name}`;
      if (verdict.startsWith("OK")) {
        // libbpf stops at the first refused program: later ones report a stale log
        if (firstReject === undefined) {
          expect(mine, `${program} ${compiler}: ${name}`).toMatch(/^OK /);
          const insns = /verified_insns=(\d+)/.exec(verdict)?.[1];
          if (!COUNT_DIFFERS.has(`${program} ${compiler}`))
            expect(mine, `${program} ${compiler}: ${name}: processed insns`).toBe(`OK ${insns}`);
          rows.push(
            `${`${program} ${compiler} ${name}`.padEnd(52)} ${insns?.padStart(7)} ${mine.slice(3).padStart(7)}`,
          );
        }
      } else if (verdict === firstReject) {
        const message = verdict.slice(verdict.indexOf(" : ") + 3);
        expect(mine, `${program} ${compiler}: ${name}`).toBe(`REJECT ${message}`);
      }
    }
  });
});
