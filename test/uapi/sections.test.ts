// runtime/uapi/sections.ts against libbpf itself: the installed libbpf.so (libbpf-dev) prints
// its section table, classifies any name through libbpf_prog_type_by_name() and
// libbpf_attach_type_by_name(), and opens clang-built objects whose SEC("?...") programs it
// marks as not autoloaded. Attach targets are checked on the names real projects use
// (libbpf-bootstrap's examples, libbpf-tools).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TsbpfError } from "../../runtime/error.js";
import { BpfAttachType, BpfProgType } from "../../runtime/uapi/bpf.js";
import {
  SECTION_DEFS,
  SEC_ATTACHABLE,
  SectionNameError,
  parseAttachTarget,
  parseSectionName,
} from "../../runtime/uapi/sections.js";
import { hasClang, header } from "./oracle.js";

const hasLibbpf = hasClang && header("/usr/include/bpf/libbpf.h") !== undefined;
if (!hasLibbpf) console.log("skipped: libbpf oracle needs clang and libbpf-dev");

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-sections-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A C harness linked against libbpf: for each name on stdin-like file, what libbpf says; and
// libbpf's own list of section names (printed at debug level when a lookup fails).
const HARNESS = String.raw`
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
static int debug_out(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (strstr(fmt, "section(type) names are")) { fputs("LIST ", stdout); vprintf(fmt, args); }
  return 0;
}
int main(int argc, char **argv) {
  libbpf_set_print(debug_out);
  enum bpf_prog_type pt; enum bpf_attach_type at;
  libbpf_prog_type_by_name("\x01", &pt, &at);
  libbpf_attach_type_by_name("\x01", &at);
  libbpf_set_print(NULL);
  FILE *f = fopen(argv[1], "r"); char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    pt = 0; at = 0;
    int rc = libbpf_prog_type_by_name(line, &pt, &at);
    enum bpf_attach_type at2 = 0;
    int rc2 = libbpf_attach_type_by_name(line, &at2);
    printf("NAME\t%s\t%d\t%d\t%d\t%d\t%d\n", line, rc, pt, at, rc2, at2);
  }
  return 0;
}`;

interface LibbpfVerdict {
  found: boolean;
  progType: number;
  attachType: number;
  attachable: boolean;
  attachableType: number;
}

function libbpfClassify(names: string[]): {
  verdicts: Map<string, LibbpfVerdict>;
  lists: string[][];
} {
  return withTmp((dir) => {
    writeFileSync(join(dir, "h.c"), HARNESS);
    writeFileSync(join(dir, "names"), names.join("\n") + "\n");
    execFileSync("clang", ["-O1", "-w", "-o", join(dir, "h"), join(dir, "h.c"), "-lbpf"]);
    const out = execFileSync(join(dir, "h"), [join(dir, "names")], { encoding: "utf8" });
    const verdicts = new Map<string, LibbpfVerdict>();
    const lists: string[][] = [];
    for (const line of out.split("\n")) {
      if (line.startsWith("LIST ")) {
        lists.push(
          line
            .slice(line.indexOf("are:") + 4)
            .trim()
            .split(/\s+/),
        );
      } else if (line.startsWith("NAME\t")) {
        const [, name, rc, pt, at, rc2, at2] = line.split("\t");
        verdicts.set(name!, {
          found: rc === "0",
          progType: Number(pt),
          attachType: Number(at),
          attachable: rc2 === "0",
          attachableType: Number(at2),
        });
      }
    }
    return { verdicts, lists };
  });
}

// Section names from libbpf-bootstrap's examples and libbpf-tools.
const REAL_WORLD = [
  "tp/syscalls/sys_enter_write", // minimal
  "tp/sched/sched_process_exec", // bootstrap
  "tp/sched/sched_process_exit",
  "kprobe/do_unlinkat", // kprobe
  "kretprobe/do_unlinkat",
  "fentry/do_unlinkat", // fentry
  "fexit/do_unlinkat",
  "uprobe", // uprobe (attached by hand)
  "uretprobe",
  "uprobe//proc/self/exe:uprobed_sub",
  "uretprobe//proc/self/exe:uprobed_sub",
  "usdt/libc.so.6:libc:setjmp", // usdt
  "usdt",
  "ksyscall/tgkill", // ksyscall
  "ksyscall/kill",
  "socket", // sockfilter
  "tc", // tc
  "perf_event", // profile
  "iter/task", // task_iter
  "lsm/bpf", // lsm
  "tracepoint/syscalls/sys_enter_execve", // execsnoop, opensnoop ...
  "tracepoint/syscalls/sys_exit_execve",
  "tracepoint/syscalls/sys_enter_openat",
  "tracepoint/sched/sched_switch",
  "tracepoint/block/block_rq_issue",
  "tp_btf/sched_switch", // runqlat, offcputime
  "tp_btf/sched_wakeup",
  "tp_btf/block_rq_issue",
  "raw_tp/sched_switch",
  "raw_tp/block_rq_complete",
  "kprobe/tcp_v4_connect", // tcpconnect
  "kretprobe/tcp_v4_connect",
  "kprobe/vfs_read",
  "kretprobe/vfs_read",
  "fentry/vfs_read",
  "fexit/vfs_read",
  "kprobe/dummy_file_open", // fsslower: target replaced before load
  "kprobe.multi/tcp_*",
  "kretprobe.multi/vfs_*",
  "raw_tracepoint/sched_switch",
  "xdp",
  "cgroup_skb/ingress",
  "cgroup_skb/egress",
  "sk_lookup",
  "syscall",
  "struct_ops/dummy",
  "fmod_ret/bpf_modify_return_test",
  "freplace/handle_kprobe",
];

// Prefix x suffix combinations around every table row, to probe the match rules' edges.
function generatedNames(): string[] {
  const bases = SECTION_DEFS.map((d) => d.sec.replace(/[+/]$/, ""));
  const suffixes = ["", "/", "/x", "/a/b", "x", "_", ".s", ".s/x", ".w/x", "+", "-1", "/:"];
  const names = new Set<string>();
  for (const b of bases) for (const s of suffixes) names.add(b + s);
  for (const b of bases) names.add(b.slice(0, -1)); // one short
  ["", "k", "kp", "SOCKET", "Kprobe/x", " kprobe/x", "kprobe /x", "tp.s/x", "tc/ingress"].forEach(
    (n) => names.add(n),
  );
  return [...names].filter((n) => n !== "");
}

describe.skipIf(!hasLibbpf)("section table and matching equal libbpf's", () => {
  const names = [...new Set([...REAL_WORLD, ...generatedNames()])];
  const { verdicts, lists } = libbpfClassify(names);

  it("lists the same section names in the same order", () => {
    expect(lists[0]).toEqual(SECTION_DEFS.map((d) => d.sec));
  });
  it("marks the same sections attachable", () => {
    expect(lists[1]).toEqual(
      SECTION_DEFS.filter((d) => (d.flags & SEC_ATTACHABLE) !== 0).map((d) => d.sec),
    );
  });
  it(`classifies ${names.length} names as libbpf does`, () => {
    const disagreements: string[] = [];
    for (const name of names) {
      const theirs = verdicts.get(name)!;
      const ours = parseSectionName(name);
      const same =
        (ours !== undefined) === theirs.found &&
        (ours === undefined ||
          (ours.progType === theirs.progType &&
            ours.expectedAttachType === theirs.attachType &&
            ((ours.def.flags & SEC_ATTACHABLE) !== 0) === theirs.attachable));
      if (!same)
        disagreements.push(
          `${name}: ours ${JSON.stringify(ours)} libbpf ${JSON.stringify(theirs)}`,
        );
    }
    expect(disagreements).toEqual([]);
    expect(names.length).toBeGreaterThan(800);
  });
});

describe.skipIf(!hasLibbpf)('SEC("?...") as libbpf opens it', () => {
  const sections = ["?kprobe/do_nothing", "kprobe/do_nothing", "?tp/sched/sched_switch", "?socket"];
  const opened = withTmp((dir) => {
    const progs = sections.map((s, i) => `SEC("${s}") int prog${i}(void *ctx) { return 0; }`);
    writeFileSync(
      join(dir, "p.bpf.c"),
      [
        "#include <linux/bpf.h>",
        "#include <bpf/bpf_helpers.h>",
        ...progs,
        'char LICENSE[] SEC("license") = "GPL";',
      ].join("\n"),
    );
    execFileSync("clang", [
      "-O2",
      "-target",
      "bpf",
      "-I/usr/include/x86_64-linux-gnu",
      "-c",
      join(dir, "p.bpf.c"),
      "-o",
      join(dir, "p.o"),
    ]);
    writeFileSync(
      join(dir, "open.c"),
      String.raw`#include <bpf/libbpf.h>
#include <stdio.h>
int main(int c, char **v) {
  libbpf_set_print(NULL);
  struct bpf_object *o = bpf_object__open_file(v[1], NULL);
  if (!o) return 1;
  struct bpf_program *p;
  bpf_object__for_each_program(p, o)
    printf("%s\t%s\t%d\t%d\n", bpf_program__name(p), bpf_program__section_name(p),
           bpf_program__autoload(p), bpf_program__type(p));
  return 0;
}`,
    );
    execFileSync("clang", ["-O1", "-w", "-o", join(dir, "open"), join(dir, "open.c"), "-lbpf"]);
    return execFileSync(join(dir, "open"), [join(dir, "p.o")], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => l.split("\t"));
  });

  it.each(sections.map((s, i) => [s, i] as const))("%s", (section, i) => {
    const row = opened.find((r) => r[0] === `prog${i}`)!;
    const ours = parseSectionName(section)!;
    expect(ours.name).toBe(row[1]);
    expect(ours.autoload).toBe(row[2] === "1");
    expect(ours.progType).toBe(Number(row[3]));
  });
});

describe("attach targets of real-world section names", () => {
  const target = (name: string) => parseAttachTarget(parseSectionName(name)!);
  it("kprobes: function, offset, return probes", () => {
    expect(target("kprobe/do_unlinkat")).toEqual({
      kind: "kprobe",
      retprobe: false,
      func: "do_unlinkat",
      offset: 0,
    });
    expect(target("kretprobe/tcp_v4_connect")).toMatchObject({
      retprobe: true,
      func: "tcp_v4_connect",
    });
    expect(target("kprobe/vfs_read+0x10")).toMatchObject({ func: "vfs_read", offset: 16 });
    expect(target("kprobe/vfs_read+010")).toMatchObject({ offset: 8 }); // %li reads octal
    expect(target("kprobe/do_sys_open.isra.0")).toMatchObject({ func: "do_sys_open.isra.0" });
    expect(target("kprobe")).toBeUndefined(); // attached by hand
  });
  it("tracepoints split category and name", () => {
    expect(target("tp/syscalls/sys_enter_write")).toEqual({
      kind: "tracepoint",
      category: "syscalls",
      name: "sys_enter_write",
    });
    expect(target("tracepoint/sched/sched_switch")).toMatchObject({ category: "sched" });
    expect(target("tp")).toBeUndefined();
  });
  it("raw tracepoints, syscalls, usdt, uprobes, kprobe.multi", () => {
    expect(target("raw_tp/sched_switch")).toEqual({ kind: "raw_tracepoint", name: "sched_switch" });
    expect(target("raw_tp.w/sched_switch")).toMatchObject({ name: "sched_switch" });
    expect(target("ksyscall/tgkill")).toEqual({
      kind: "ksyscall",
      retprobe: false,
      syscall: "tgkill",
    });
    expect(target("kretsyscall/kill")).toMatchObject({ retprobe: true });
    expect(target("usdt/libc.so.6:libc:setjmp")).toEqual({
      kind: "usdt",
      path: "libc.so.6",
      provider: "libc",
      name: "setjmp",
    });
    expect(target("uprobe//proc/self/exe:uprobed_sub")).toEqual({
      kind: "uprobe",
      retprobe: false,
      binaryPath: "/proc/self/exe",
      func: "uprobed_sub",
      offset: 0,
    });
    expect(target("uretprobe//proc/self/exe:uprobed_sub")).toMatchObject({ retprobe: true });
    expect(target("uprobe")).toBeUndefined();
    expect(target("kprobe.multi/tcp_*")).toEqual({
      kind: "kprobe_multi",
      retprobe: false,
      pattern: "tcp_*",
    });
  });
  it("BTF targets carry the name libbpf looks up", () => {
    expect(target("fentry/do_unlinkat")).toEqual({
      kind: "btf",
      name: "do_unlinkat",
      btfName: "do_unlinkat",
    });
    expect(target("tp_btf/sched_switch")).toMatchObject({ btfName: "btf_trace_sched_switch" });
    expect(target("lsm/bpf")).toMatchObject({ btfName: "bpf_lsm_bpf" });
    expect(target("iter/task")).toMatchObject({ btfName: "bpf_iter_task" });
  });
  it("non-attachable programs have no target", () => {
    for (const name of ["socket", "xdp", "perf_event", "tc", "cgroup_skb/ingress"]) {
      expect(target(name)).toBeUndefined();
    }
  });
  it("bad targets are TsbpfErrors naming the section and libbpf's reason", () => {
    const bad: [string, RegExp][] = [
      ["kprobe/", /section 'kprobe\/': kprobe name is invalid/],
      ["kretprobe/vfs_read+4", /kretprobes do not support offset/],
      ["tp/sched", /tp\/<category>\/<name>/],
      ["uprobe//bin/true", /missing ':function/],
      ["usdt/libc.so.6:libc", /usdt\/<path>:<provider>:<name>/],
      ["fentry", /no BTF-based attach target/],
      ["kprobe.multi/!", /kprobe multi pattern is invalid/],
    ];
    for (const [name, reason] of bad) {
      const parsed = parseSectionName(name);
      expect(parsed, name).toBeDefined();
      expect(() => parseAttachTarget(parsed!)).toThrow(SectionNameError);
      expect(() => parseAttachTarget(parsed!)).toThrow(TsbpfError);
      expect(() => parseAttachTarget(parsed!)).toThrow(reason);
    }
  });
  it("program and attach types of the common tracing sections", () => {
    expect(parseSectionName("kprobe/x")!.progType).toBe(BpfProgType.BPF_PROG_TYPE_KPROBE);
    expect(parseSectionName("kprobe.multi/x")!.expectedAttachType).toBe(
      BpfAttachType.BPF_TRACE_KPROBE_MULTI,
    );
    expect(parseSectionName("fentry.s/x")!.sleepable).toBe(true);
    expect(parseSectionName("?fentry/x")!.autoload).toBe(false);
    expect(parseSectionName("bogus/x")).toBeUndefined();
    expect(parseSectionName("kprobe")!.def.target).toBe("optional");
    expect(parseSectionName("socket")!.def.target).toBe("none");
  });
});
