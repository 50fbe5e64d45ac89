// The machine's own kernel judges runtime/uapi/helpers.ts. Tiny programs are loaded with
// BPF_PROG_LOAD (verification only: nothing is attached) and the verifier's first complaint
// tells us what the kernel thinks:
//   "program of this type cannot use helper ..."          -> not available to the type
//   "cannot call GPL-restricted function ..."              -> gpl_only (non-GPL license)
//   "R<n> type=<t> expected=<kinds>" and friends           -> what argument n accepts
//   "cannot pass map_type <m> into func ..."               -> map/helper incompatibility
// Needs root, clang and a kernel that lets root call bpf(); skips with the reason otherwise.
// The table models a current kernel; it was validated on Linux 6.18, other releases skip.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfMapType, BpfProgType, isGplCompatibleLicense } from "../../runtime/uapi/bpf.js";
import {
  ArgType,
  HELPER_NAMES,
  MEM_UNINIT,
  MEM_WRITE,
  PTR_MAYBE_NULL,
  baseType,
  helperByName,
  helperMapCompatible,
  helperProto,
  type HelperContext,
  type HelperProto,
} from "../../runtime/uapi/helpers.js";
import { hasClang } from "./oracle.js";

const VALIDATED_RELEASES = ["6.18"];
const kernelRelease = release().split(".").slice(0, 2).join(".");

// A harness that loads probe programs; see the modes in main().
const HARNESS = String.raw`
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
static char log_buf[1 << 16];
#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_K(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_X(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_K(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define CALL(id) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define EXIT INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define ST0(off) INSN(BPF_ST | BPF_MEM | BPF_DW, 10, 0, off, 0)
#define JEQ0(d, off) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, off, 0)

/* Loads and prints "OK" or the first verifier line after the call, one line. */
static void load(int type, const char *license, struct bpf_insn *insns, int n) {
  union bpf_attr a; memset(&a, 0, sizeof a);
  a.prog_type = type; a.insns = (unsigned long)insns; a.insn_cnt = n;
  a.license = (unsigned long)license;
  a.log_buf = (unsigned long)log_buf; a.log_size = sizeof log_buf; a.log_level = 1;
  log_buf[0] = 0;
  int fd = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  if (fd >= 0) { printf("OK\n"); close(fd); return; }
  char *p = strstr(log_buf, "call bpf_");
  if (p) p = strchr(p, '\n');
  p = p ? p + 1 : log_buf;
  char *e = strchr(p, '\n'); if (e) *e = 0;
  printf("ERR %d %s\n", errno, p);
}

/* mode 0: r1..r5 = ctx; 1: all 0; 2: r1 = ctx, rest 0; 3: r1 = fp, rest 0 */
static void probe(int type, const char *license, int mode) {
  for (int id = 1; id < __BPF_FUNC_MAX_ID; id++) {
    struct bpf_insn p[16]; int n = 0;
    for (int r = 1; r <= 5; r++) {
      if (mode == 0) { if (r > 1) p[n++] = MOV_X(r, 1); }
      else if (mode == 1 || r > 1) p[n++] = MOV_K(r, 0);
      else if (mode == 3) p[n++] = MOV_X(1, 10);
    }
    p[n++] = CALL(id); p[n++] = MOV_K(0, 0); p[n++] = EXIT;
    printf("%d ", id); load(type, license, p, n);
  }
}

static int map_create(int type, int key, int value, int entries) {
  union bpf_attr a; memset(&a, 0, sizeof a);
  a.map_type = type; a.key_size = key; a.value_size = value; a.max_entries = entries;
  if (type == BPF_MAP_TYPE_BLOOM_FILTER) a.map_extra = 1;
  return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
}

/* helper kinds: which registers to set around the map */
enum { KEY, KEY_VALUE, VALUE, CTX_MAP, MAP_ONLY, READ_VALUE, OUTPUT, RB_OUTPUT, RB_RESERVE };
static void map_calls(void) {
  struct { int type, key, value, entries; } maps[] = {
    { BPF_MAP_TYPE_HASH, 4, 8, 4 }, { BPF_MAP_TYPE_ARRAY, 4, 8, 4 },
    { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4 }, { BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4 },
    { BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4 }, { BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4 },
    { BPF_MAP_TYPE_STACK_TRACE, 4, 64, 4 }, { BPF_MAP_TYPE_CGROUP_ARRAY, 4, 4, 4 },
    { BPF_MAP_TYPE_LRU_HASH, 4, 8, 4 }, { BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 4 },
    { BPF_MAP_TYPE_RINGBUF, 0, 0, 4096 }, { BPF_MAP_TYPE_QUEUE, 0, 8, 4 },
    { BPF_MAP_TYPE_STACK, 0, 8, 4 }, { BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 4 },
  };
  struct { int id, kind; } calls[] = {
    { BPF_FUNC_map_lookup_elem, KEY }, { BPF_FUNC_map_update_elem, KEY_VALUE },
    { BPF_FUNC_map_delete_elem, KEY }, { BPF_FUNC_map_push_elem, VALUE },
    { BPF_FUNC_map_pop_elem, VALUE }, { BPF_FUNC_map_peek_elem, VALUE },
    { BPF_FUNC_map_lookup_percpu_elem, KEY }, { BPF_FUNC_tail_call, CTX_MAP },
    { BPF_FUNC_perf_event_read, MAP_ONLY }, { BPF_FUNC_perf_event_read_value, READ_VALUE },
    { BPF_FUNC_perf_event_output, OUTPUT }, { BPF_FUNC_get_stackid, CTX_MAP },
    { BPF_FUNC_current_task_under_cgroup, MAP_ONLY }, { BPF_FUNC_ringbuf_output, RB_OUTPUT },
    { BPF_FUNC_ringbuf_query, MAP_ONLY }, { BPF_FUNC_ringbuf_reserve, RB_RESERVE },
  };
  for (unsigned m = 0; m < sizeof maps / sizeof maps[0]; m++) {
    int fd = map_create(maps[m].type, maps[m].key, maps[m].value, maps[m].entries);
    if (fd < 0) { printf("MAP %d FAIL %d\n", maps[m].type, errno); continue; }
    for (unsigned c = 0; c < sizeof calls / sizeof calls[0]; c++) {
      struct bpf_insn p[32]; int n = 0;
      p[n++] = MOV_X(6, 1);
      for (int off = -8; off >= -64; off -= 8) p[n++] = ST0(off);
      p[n++] = INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, fd);
      p[n++] = INSN(0, 0, 0, 0, 0);
      int kind = calls[c].kind;
      if (kind == CTX_MAP) { p[n++] = MOV_X(2, 1); p[n++] = MOV_X(1, 6); p[n++] = MOV_K(3, 0); }
      if (kind == KEY || kind == KEY_VALUE || kind == VALUE) { p[n++] = MOV_X(2, 10); p[n++] = ADD_K(2, -64); }
      if (kind == KEY) p[n++] = MOV_K(3, 0);
      if (kind == KEY_VALUE) { p[n++] = MOV_X(3, 10); p[n++] = ADD_K(3, -64); p[n++] = MOV_K(4, 0); }
      if (kind == VALUE) p[n++] = MOV_K(3, 0);
      if (kind == MAP_ONLY) p[n++] = MOV_K(2, 0);
      if (kind == READ_VALUE) { p[n++] = MOV_K(2, 0); p[n++] = MOV_X(3, 10); p[n++] = ADD_K(3, -64); p[n++] = MOV_K(4, 24); }
      if (kind == OUTPUT) { p[n++] = MOV_X(2, 1); p[n++] = MOV_X(1, 6); p[n++] = MOV_K(3, 0); p[n++] = MOV_X(4, 10); p[n++] = ADD_K(4, -64); p[n++] = MOV_K(5, 8); }
      if (kind == RB_OUTPUT) { p[n++] = MOV_X(2, 10); p[n++] = ADD_K(2, -64); p[n++] = MOV_K(3, 8); p[n++] = MOV_K(4, 0); }
      if (kind == RB_RESERVE) { p[n++] = MOV_K(2, 8); p[n++] = MOV_K(3, 0); }
      p[n++] = CALL(calls[c].id);
      if (kind == RB_RESERVE) {
        p[n++] = JEQ0(0, 3); p[n++] = MOV_X(1, 0); p[n++] = MOV_K(2, 0);
        p[n++] = CALL(BPF_FUNC_ringbuf_discard);
      }
      p[n++] = MOV_K(0, 0); p[n++] = EXIT;
      printf("MAP %d CALL %d ", maps[m].type, calls[c].id);
      load(BPF_PROG_TYPE_KPROBE, "GPL", p, n);
    }
    close(fd);
  }
}

int main(int argc, char **argv) {
  if (!strcmp(argv[1], "probe")) probe(atoi(argv[2]), argv[3], atoi(argv[4]));
  if (!strcmp(argv[1], "maps")) map_calls();
  if (!strcmp(argv[1], "license")) {
    struct bpf_insn p[] = { CALL(BPF_FUNC_get_current_task), MOV_K(0, 0), EXIT };
    for (int i = 2; i < argc; i++) { printf("%s\t", argv[i]); load(BPF_PROG_TYPE_KPROBE, argv[i], p, 3); }
  }
  return 0;
}`;

// Whether this machine can serve as the oracle, and why not.
function unavailable(): string | undefined {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root (bpf() needs CAP_BPF)";
  if (!hasClang) return "clang absent";
  if (!VALIDATED_RELEASES.includes(kernelRelease)) {
    return `kernel ${release()}: the helper table was validated against ${VALIDATED_RELEASES.join(", ")}`;
  }
  return undefined;
}

let harnessPath: string | undefined;
function harness(args: string[]): string {
  if (!harnessPath) {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-kprobe-"));
    writeFileSync(join(dir, "h.c"), HARNESS);
    execFileSync("clang", ["-O1", "-w", "-o", join(dir, "h"), join(dir, "h.c")]);
    harnessPath = join(dir, "h");
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  const run = spawnSync(harnessPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  return run.stdout;
}

let reason = unavailable();
if (!reason && !harness(["license", "GPL"]).includes("OK")) {
  reason = "bpf() refused a trivial KPROBE program (unprivileged or locked-down kernel)";
}
if (reason) console.log(`skipped: kernel helper oracle unavailable: ${reason}`);

// The machine's configuration, which decides a few helpers (see HelperContext).
function machineContext(): HelperContext {
  const config = existsSync("/proc/config.gz")
    ? gunzipSync(readFileSync("/proc/config.gz")).toString()
    : "";
  const cmdline = existsSync("/proc/cmdline") ? readFileSync("/proc/cmdline", "utf8") : "";
  const lockdown = /CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y|lockdown=confidentiality/.test(
    config + cmdline,
  )
    ? "confidentiality"
    : /CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y|lockdown=integrity/.test(config + cmdline)
      ? "integrity"
      : "none";
  return { lockdown, kprobeOverride: /CONFIG_BPF_KPROBE_OVERRIDE=y/.test(config) };
}

const P = BpfProgType;
const PROG_TYPES: [string, number][] = [
  ["socket_filter", P.BPF_PROG_TYPE_SOCKET_FILTER],
  ["kprobe", P.BPF_PROG_TYPE_KPROBE],
  ["tracepoint", P.BPF_PROG_TYPE_TRACEPOINT],
  ["perf_event", P.BPF_PROG_TYPE_PERF_EVENT],
  ["raw_tracepoint", P.BPF_PROG_TYPE_RAW_TRACEPOINT],
];

// "<id> OK" / "<id> ERR <errno> <message>" lines -> message by id ("" for OK).
function probe(progType: number, license: string, mode: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of harness(["probe", String(progType), license, String(mode)]).split("\n")) {
    const m = /^(\d+) (?:OK|ERR \d+ (.*))$/.exec(line);
    if (m) out.set(Number(m[1]), m[2] ?? "");
  }
  return out;
}

const notAvailable = (msg: string) => /cannot use helper|unknown func/.test(msg);

describe.skipIf(reason !== undefined)("helper availability and gpl_only match the kernel", () => {
  const ctx = reason ? {} : machineContext();
  it.each(PROG_TYPES)("%s programs", (_, progType) => {
    const gpl = probe(progType, "GPL", 0);
    const proprietary = probe(progType, "Proprietary", 0);
    const disagreements: string[] = [];
    for (let id = 1; id < HELPER_NAMES.length; id++) {
      const kernelAllows = !notAvailable(gpl.get(id)!);
      const proto = helperProto(progType, id, ctx);
      if (kernelAllows !== (proto !== undefined)) {
        disagreements.push(`${HELPER_NAMES[id]}: kernel ${kernelAllows ? "allows" : "refuses"}`);
      } else if (proto) {
        const kernelGpl = /GPL-restricted/.test(proprietary.get(id)!);
        if (kernelGpl !== proto.gplOnly) {
          disagreements.push(`${HELPER_NAMES[id]}: kernel gpl_only=${kernelGpl}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
  });
});

// --- Argument kinds ----------------------------------------------------------------------------

type Reg = "ctx" | "zero" | "fp";
const MODES: [number, Reg[]][] = [
  [0, ["ctx", "ctx", "ctx", "ctx", "ctx"]],
  [1, ["zero", "zero", "zero", "zero", "zero"]],
  [2, ["ctx", "zero", "zero", "zero", "zero"]],
  [3, ["fp", "zero", "zero", "zero", "zero"]],
];

type Outcome =
  { kind: "ok" } | { kind: "sleep" } | { kind: "fail"; reg?: number } | { kind: "other" };

// What the verifier does with these registers, from the argument types alone: which register
// it rejects first. This is the kernel's check_func_arg() behaviour for a ctx pointer, a known
// zero and an empty-stack pointer (fp+0, so any non-empty stack access is out of bounds).
function predict(proto: HelperProto, regs: Reg[]): Outcome {
  if (proto.mightSleep) return { kind: "sleep" };
  let pendingMem: { reg: number; write: boolean; fp: boolean } | undefined;
  for (let i = 0; i < proto.args.length; i++) {
    const type = proto.args[i]!;
    const reg = regs[i]!;
    const nullable = (type & PTR_MAYBE_NULL) !== 0;
    const fail: Outcome = { kind: "fail", reg: i + 1 };
    switch (baseType(type)) {
      case ArgType.ARG_ANYTHING:
      case ArgType.ARG_DONTCARE:
        break;
      case ArgType.ARG_PTR_TO_CTX:
        if (!(reg === "ctx" || (reg === "zero" && nullable))) return fail;
        break;
      case ArgType.ARG_PTR_TO_MEM:
        if (reg === "ctx" || (reg === "zero" && !nullable)) return fail;
        pendingMem = {
          reg: i + 1,
          write: (type & (MEM_WRITE | MEM_UNINIT)) !== 0,
          fp: reg === "fp",
        };
        break;
      case ArgType.ARG_CONST_SIZE:
      case ArgType.ARG_CONST_SIZE_OR_ZERO:
        if (reg !== "zero") return fail;
        if (baseType(type) === ArgType.ARG_CONST_SIZE) return fail; // "invalid zero-sized read"
        if (pendingMem?.fp && pendingMem.write) return { kind: "fail", reg: pendingMem.reg };
        break;
      case ArgType.ARG_CONST_ALLOC_SIZE_OR_ZERO:
        if (reg !== "zero") return fail;
        break;
      case ArgType.ARG_PTR_TO_STACK:
        if (!(reg === "fp" || (reg === "zero" && nullable))) return fail;
        break;
      case ArgType.ARG_PTR_TO_BTF_ID:
        if (!(reg === "zero" && nullable)) return fail;
        break;
      default: // map, key, value, long, func, string, timer, lock, kptr, dynptr, sockets ...
        return fail;
    }
  }
  return { kind: "ok" };
}

function observed(message: string): Outcome {
  if (message === "") return { kind: "ok" };
  if (/might sleep/.test(message)) return { kind: "sleep" };
  const reg = /\bR(\d)\b/.exec(message);
  if (reg) return { kind: "fail", reg: Number(reg[1]) };
  if (/dynptr/.test(message)) return { kind: "fail" }; // names no register
  return { kind: "other" };
}

const same = (a: Outcome, b: Outcome): boolean =>
  a.kind === b.kind &&
  (a.kind !== "fail" ||
    b.kind !== "fail" ||
    a.reg === undefined ||
    b.reg === undefined ||
    a.reg === b.reg);

describe.skipIf(reason !== undefined)(
  "argument kinds match what the kernel's verifier accepts",
  () => {
    const ctx = reason ? {} : machineContext();
    const cases = PROG_TYPES.flatMap(([name, type]) =>
      MODES.map(
        ([mode, regs]) => [`${name}, r1-r5 = ${regs.join(" ")}`, type, mode, regs] as const,
      ),
    );
    it.each(cases)("%s", (_, progType, mode, regs) => {
      const kernel = probe(progType, "GPL", mode);
      const disagreements: string[] = [];
      let compared = 0;
      for (let id = 1; id < HELPER_NAMES.length; id++) {
        const proto = helperProto(progType, id, ctx);
        const message = kernel.get(id)!;
        if (!proto || notAvailable(message)) continue;
        // get_func_ip is refused after the argument checks outside kprobe/trampoline programs.
        const expected: Outcome =
          /not supported for program type/.test(message) &&
          HELPER_NAMES[id] === "get_func_ip" &&
          progType !== P.BPF_PROG_TYPE_KPROBE
            ? { kind: "other" }
            : predict(proto, regs);
        const got = observed(message);
        compared++;
        if (!same(expected, got)) {
          disagreements.push(
            `${HELPER_NAMES[id]}: predicted ${JSON.stringify(expected)}, kernel "${message}"`,
          );
        }
      }
      expect(disagreements).toEqual([]);
      expect(compared).toBeGreaterThan(70);
    });
  },
);

// --- Maps and licenses -------------------------------------------------------------------------

describe.skipIf(reason !== undefined)("map/helper compatibility matches the kernel", () => {
  it("for every map type a tracing program can create and every map helper", () => {
    const lines = harness(["maps"])
      .split("\n")
      .filter((l) => l.startsWith("MAP"));
    const failedMaps = lines.filter((l) => / FAIL /.test(l));
    expect(failedMaps).toEqual([]);
    const disagreements: string[] = [];
    let compared = 0;
    let inconclusive = 0;
    for (const line of lines) {
      const m = /^MAP (\d+) CALL (\d+) (.*)$/.exec(line);
      if (!m) continue;
      const [mapType, id, verdict] = [Number(m[1]), Number(m[2]), m[3]!];
      // Maps without keys or values (ringbuf, queue, stack, bloom filter) fail the key/value
      // argument check first, before compatibility is looked at: nothing to compare there.
      if (/invalid zero-sized read/.test(verdict)) {
        inconclusive++;
        continue;
      }
      // tail_call is refused earlier, in its own words, for anything but a PROG_ARRAY.
      const kernelCompatible = !/cannot pass map_type|expected prog array map for tail call/.test(
        verdict,
      );
      const ours = helperMapCompatible(id, mapType, P.BPF_PROG_TYPE_KPROBE);
      compared++;
      if (kernelCompatible !== ours) {
        disagreements.push(`${HELPER_NAMES[id]} x map type ${mapType}: kernel "${verdict}"`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(compared + inconclusive).toBe(14 * 16);
    expect(compared).toBeGreaterThan(180);
  });
  it("a tail call needs a PROG_ARRAY, perf output a PERF_EVENT_ARRAY (spot check)", () => {
    const id = (n: string) => helperByName(n)!.id;
    expect(helperMapCompatible(id("tail_call"), BpfMapType.BPF_MAP_TYPE_PROG_ARRAY)).toBe(true);
    expect(helperMapCompatible(id("perf_event_output"), BpfMapType.BPF_MAP_TYPE_HASH)).toBe(false);
  });
});

describe.skipIf(reason !== undefined)("GPL-compatible licenses are the kernel's", () => {
  it("as BPF_PROG_LOAD judges a call to a gpl_only helper", () => {
    const licenses = [
      "GPL",
      "GPL v2",
      "GPL and additional rights",
      "Dual BSD/GPL",
      "Dual MIT/GPL",
      "Dual MPL/GPL",
      "GPLv2",
      "gpl",
      "GPL v3",
      "Dual BSD/GPL ",
      "MIT",
      "BSD",
      "Proprietary",
    ];
    const rows = harness(["license", ...licenses])
      .trim()
      .split("\n");
    expect(rows).toHaveLength(licenses.length);
    for (const row of rows) {
      const [license, verdict] = row.split("\t");
      expect(isGplCompatibleLicense(license!), license).toBe(verdict === "OK");
    }
  });
});
