// runtime/uapi/bpf.ts must say what the installed linux/bpf.h says: the same enumerators in
// every enum we mirror, and the value clang computes for every constant we export.
import { describe, expect, it } from "vitest";
import * as bpf from "../../runtime/uapi/bpf.js";
import {
  asU64,
  cNamedConstants,
  cNamedMembers,
  cValues,
  enumNames,
  hasClang,
  header,
  runC,
} from "./oracle.js";

const bpfH = header("/usr/include/linux/bpf.h");
const present = bpfH !== undefined;
if (!present) console.log("skipped: /usr/include/linux/bpf.h absent (install linux-libc-dev)");
if (present && !hasClang) console.log("skipped: clang absent, constants not evaluated");

// Kernel-internal values (not in any uapi header): checked by the tests of their users.
const KERNEL_INTERNAL = new Set([
  "BPF_COMPLEXITY_LIMIT_INSNS",
  "MAX_TAIL_CALL_CNT",
  "BPF_MAX_LOOPS",
  "MAX_USED_MAPS",
  "BPF_MAX_SUBPROGS",
  "MAX_BPF_FUNC_REG_ARGS",
  "MAX_TRACE_PRINTK_VARARGS",
  "MAX_BPRINTF_VARARGS",
  "MAX_BPRINTF_BUF",
  "BPF_TRACE_MAX_PROGS",
  "TASK_COMM_LEN",
  "PERF_MAX_TRACE_SIZE",
  "BPF_LOG_LEVEL1",
  "BPF_LOG_LEVEL2",
  "BPF_LOG_STATS",
  "BPF_LOG_SIZE_MIN",
  "BPF_LOG_SIZE_MAX",
]);

const mirrored: [string, Record<string, number>][] = [
  ["bpf_cmd", bpf.BpfCmd],
  ["bpf_map_type", bpf.BpfMapType],
  ["bpf_prog_type", bpf.BpfProgType],
  ["bpf_attach_type", bpf.BpfAttachType],
  ["bpf_link_type", bpf.BpfLinkType],
  ["bpf_core_relo_kind", bpf.BpfCoreReloKind],
];

describe.skipIf(!present)("enums mirror linux/bpf.h", () => {
  it.each(mirrored)("enum %s has exactly the header's enumerators", (name, ours) => {
    expect(Object.keys(ours).sort()).toEqual(enumNames(bpfH!, name).sort());
  });
});

describe.skipIf(!present || !hasClang)("constants equal clang's evaluation of the headers", () => {
  const constants = [
    ...cNamedMembers(mirrored.map(([, o]) => o)),
    ...cNamedConstants(bpf).filter(([name]) => !KERNEL_INTERNAL.has(name)),
  ];
  const values = cValues(
    ["linux/bpf.h", "linux/version.h"],
    Object.fromEntries(constants.map(([name]) => [name, name])),
  );

  it("checks every enumerator and flag (a meaningful number)", () => {
    expect(constants.length).toBeGreaterThan(200);
  });
  it.each(constants)("%s", (name, value) => {
    expect(Number.isSafeInteger(value)).toBe(true);
    expect(asU64(value)).toBe(values.get(name));
  });

  it("KERNEL_VERSION computes what the header's macro computes", () => {
    const triples: [number, number, number][] = [
      [4, 1, 0],
      [5, 0, 0],
      [6, 1, 192],
      [6, 1, 300], // sublevel saturates at 255
      [2, 6, 39],
    ];
    const c = cValues(
      ["linux/version.h"],
      Object.fromEntries(triples.map((t, i) => [`v${i}`, `KERNEL_VERSION(${t.join(",")})`])),
    );
    triples.forEach((t, i) => expect(BigInt(bpf.KERNEL_VERSION(...t))).toBe(c.get(`v${i}`)));
    expect(bpf.kernelVersionString(bpf.KERNEL_VERSION(6, 1, 192))).toBe("6.1.192");
  });
});

describe("reverse lookups", () => {
  it("name numbers as the kernel spells them, the first name winning for aliases", () => {
    expect(bpf.bpfCmdName(0)).toBe("BPF_MAP_CREATE");
    expect(bpf.bpfCmdName(10)).toBe("BPF_PROG_TEST_RUN");
    expect(bpf.mapTypeName(27)).toBe("BPF_MAP_TYPE_RINGBUF");
    expect(bpf.progTypeName(2)).toBe("BPF_PROG_TYPE_KPROBE");
    expect(bpf.attachTypeName(bpf.BpfAttachType.BPF_TRACE_KPROBE_MULTI)).toBe(
      "BPF_TRACE_KPROBE_MULTI",
    );
    expect(bpf.linkTypeName(7)).toBe("BPF_LINK_TYPE_PERF_EVENT");
    expect(bpf.mapTypeName(999)).toBeUndefined();
    expect(bpf.mapTypeName(-1)).toBeUndefined();
  });

  // The short names bpftool prints ("type hash", "kprobe  name ...").
  it.skipIf(!hasBpftoolNames())("short names are the ones bpftool prints", () => {
    const { maps, progs } = bpftoolNames();
    for (const [value, name] of maps) expect(bpf.mapTypeShortName(value)).toBe(name);
    for (const [value, name] of progs) expect(bpf.progTypeShortName(value)).toBe(name);
  });
});

// libbpf's own type-name tables, read from the installed libbpf.so through its public
// libbpf_bpf_map_type_str() / libbpf_bpf_prog_type_str() API.
function hasBpftoolNames(): boolean {
  return (
    hasClang && header("/usr/include/bpf/libbpf.h")?.includes("libbpf_bpf_map_type_str") === true
  );
}

function bpftoolNames(): { maps: [number, string][]; progs: [number, string][] } {
  const maps = Object.values(bpf.BpfMapType);
  const progs = Object.values(bpf.BpfProgType);
  const src = [
    "#include <bpf/libbpf.h>",
    "#include <stdio.h>",
    "int main(void) {",
    ...maps.map((v) => `  printf("m %d %s\\n", ${v}, libbpf_bpf_map_type_str(${v}));`),
    ...progs.map((v) => `  printf("p %d %s\\n", ${v}, libbpf_bpf_prog_type_str(${v}));`),
    "}",
  ].join("\n");
  const rows = runCLinked(src)
    .trim()
    .split("\n")
    .map((l) => l.split(" "));
  const pick = (kind: string): [number, string][] =>
    rows.filter((r) => r[0] === kind).map((r) => [Number(r[1]), r[2]!]);
  return { maps: pick("m"), progs: pick("p") };
}

const runCLinked = (src: string): string => runC(src, ["-lbpf"]);
