// runtime/uapi/ptregs.ts against x86_64's asm/ptrace.h (offsetof, sizeof) and against what
// clang -target bpf makes of libbpf's PT_REGS_* accessors from the installed bpf_tracing.h.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BpfPerfEventData,
  PT_REGS_FIELDS,
  PT_REGS_FP_OFFSET,
  PT_REGS_IP_OFFSET,
  PT_REGS_RC_OFFSET,
  PT_REGS_SIZE,
  PT_REGS_SP_OFFSET,
  PT_REGS_UAPI_NAMES,
  PtRegs,
  ptRegsParmOffset,
  ptRegsSyscallParmOffset,
} from "../../runtime/uapi/ptregs.js";
import { cValues, hasClang, hasCommand, header } from "./oracle.js";

const ARCH_INCLUDE = "/usr/include/x86_64-linux-gnu";
const ptraceH = header(`${ARCH_INCLUDE}/asm/ptrace.h`);
const tracingH = header("/usr/include/bpf/bpf_tracing.h");
const hasObjdump = hasCommand("llvm-objdump");
if (!ptraceH) console.log(`skipped: ${ARCH_INCLUDE}/asm/ptrace.h absent`);
if (!hasClang) console.log("skipped: clang absent");
if (!tracingH) console.log("skipped: /usr/include/bpf/bpf_tracing.h absent (libbpf-dev)");
if (!hasObjdump) console.log("skipped: llvm-objdump absent");

describe.skipIf(!ptraceH || !hasClang)("struct pt_regs layout matches asm/ptrace.h", () => {
  const exprs: Record<string, string> = { SIZE: "sizeof(struct pt_regs)" };
  for (const f of PT_REGS_FIELDS) exprs[f] = `offsetof(struct pt_regs, ${PT_REGS_UAPI_NAMES[f]})`;
  exprs.perf_sample_period = "offsetof(struct bpf_perf_event_data, sample_period)";
  exprs.perf_addr = "offsetof(struct bpf_perf_event_data, addr)";
  exprs.perf_SIZE = "sizeof(struct bpf_perf_event_data)";
  const c = cValues(["asm/ptrace.h", "linux/bpf_perf_event.h"], exprs);

  it("is 21 unsigned longs", () => expect(BigInt(PT_REGS_SIZE)).toBe(c.get("SIZE")));
  it.each([...PT_REGS_FIELDS])("%s", (f) => expect(BigInt(PtRegs[f])).toBe(c.get(f)));
  it("struct bpf_perf_event_data puts the sample after the registers", () => {
    expect(BigInt(BpfPerfEventData.sample_period)).toBe(c.get("perf_sample_period"));
    expect(BigInt(BpfPerfEventData.addr)).toBe(c.get("perf_addr"));
    expect(BigInt(BpfPerfEventData.SIZE)).toBe(c.get("perf_SIZE"));
  });
});

// Compile one function per accessor and read the load offset clang emitted.
function accessorOffsets(accessors: Record<string, string>): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-ptregs-"));
  try {
    const src = [
      "#include <linux/types.h>",
      "#include <asm/ptrace.h>",
      "#include <bpf/bpf_helpers.h>",
      "#include <bpf/bpf_tracing.h>",
      ...Object.entries(accessors).map(
        ([name, macro]) => `unsigned long ${name}(struct pt_regs *ctx) { return ${macro}(ctx); }`,
      ),
    ].join("\n");
    writeFileSync(join(dir, "acc.c"), src);
    const obj = join(dir, "acc.o");
    execFileSync("clang", [
      "-O2",
      "-target",
      "bpf",
      "-D__TARGET_ARCH_x86",
      `-I${ARCH_INCLUDE}`,
      "-c",
      join(dir, "acc.c"),
      "-o",
      obj,
    ]);
    const dis = execFileSync("llvm-objdump", ["-d", obj], { encoding: "utf8" });
    const offsets = new Map<string, number>();
    let current = "";
    for (const line of dis.split("\n")) {
      const fn = /^[0-9a-f]+ <(\w+)>:/.exec(line);
      if (fn) current = fn[1]!;
      const load = /r0 = \*\(u64 \*\)\(r1 \+ (\d+)\)/.exec(line);
      if (load && current) offsets.set(current, Number(load[1]));
    }
    return offsets;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!ptraceH || !hasClang || !tracingH || !hasObjdump)(
  "PT_REGS_* accessors of libbpf's bpf_tracing.h (x86)",
  () => {
    const accessors: Record<string, string> = {
      parm1: "PT_REGS_PARM1",
      parm2: "PT_REGS_PARM2",
      parm3: "PT_REGS_PARM3",
      parm4: "PT_REGS_PARM4",
      parm5: "PT_REGS_PARM5",
      rc: "PT_REGS_RC",
      ip: "PT_REGS_IP",
      sp: "PT_REGS_SP",
      fp: "PT_REGS_FP",
      sys1: "PT_REGS_PARM1_SYSCALL",
      sys2: "PT_REGS_PARM2_SYSCALL",
      sys3: "PT_REGS_PARM3_SYSCALL",
      sys4: "PT_REGS_PARM4_SYSCALL",
      sys5: "PT_REGS_PARM5_SYSCALL",
    };
    // libbpf 1.2+ adds the sixth argument; 1.1 (Debian 12) does not have it.
    const hasParm6 = /PT_REGS_PARM6\b/.test(tracingH ?? "");
    if (!hasParm6)
      console.log("note: this bpf_tracing.h has no PT_REGS_PARM6; r9 checked by offsetof only");
    if (hasParm6) {
      accessors.parm6 = "PT_REGS_PARM6";
      accessors.sys6 = "PT_REGS_PARM6_SYSCALL";
    }
    const got = accessorOffsets(accessors);
    const parms = [1, 2, 3, 4, 5, 6] as const;

    it("PARM1..5 are di si dx cx r8", () => {
      for (const n of parms.slice(0, hasParm6 ? 6 : 5)) {
        expect(got.get(`parm${n}`), `PARM${n}`).toBe(ptRegsParmOffset(n));
      }
    });
    it("syscall PARM4 is r10", () => {
      for (const n of parms.slice(0, hasParm6 ? 6 : 5)) {
        expect(got.get(`sys${n}`), `PARM${n}_SYSCALL`).toBe(ptRegsSyscallParmOffset(n));
      }
      expect(got.get("sys4")).toBe(PtRegs.r10);
    });
    it("RC, IP, SP, FP are ax, ip, sp, bp", () => {
      expect(got.get("rc")).toBe(PT_REGS_RC_OFFSET);
      expect(got.get("ip")).toBe(PT_REGS_IP_OFFSET);
      expect(got.get("sp")).toBe(PT_REGS_SP_OFFSET);
      expect(got.get("fp")).toBe(PT_REGS_FP_OFFSET);
    });
  },
);
