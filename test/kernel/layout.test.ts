// The kernel's type layouts against clang: the generated vmlinux.h is compiled with
// `clang -target bpf`, which must agree with every size, alignment and member offset the kernel
// uses to place its objects (checked by _Static_assert on __builtin_offsetof); bit-field
// positions are read back from a host program; and a CO-RE program using libbpf's headers
// compiles against the header.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KernelTypeError } from "../../runtime/kernel/error.js";
import { resolve, TypeRegistry, type RecordType } from "../../runtime/kernel/ctypes.js";
import { writeVmlinuxHeader } from "../../runtime/kernel/header.js";
import { alignOf, allFields, fieldOf, layoutRecord, sizeOf } from "../../runtime/kernel/layout.js";
import { kernelStruct, kernelTypes } from "../../runtime/kernel/vmlinux.js";
import { hasClang, run, withTmp } from "./tools.js";

if (!hasClang) console.log("test/kernel/layout: clang not found, skipping the clang comparisons");

const types = kernelTypes();
const records = types
  .definitions()
  .filter((d): d is RecordType => (d.kind === "struct" || d.kind === "union") && d.name !== "");

/** One _Static_assert per size, alignment and (non-bit-field) member offset. */
function layoutAsserts(): { lines: string[]; count: number } {
  const lines: string[] = [];
  const check = (expr: string, value: number, what: string): void => {
    lines.push(`_Static_assert(${expr} == ${value}, "${what}: expected ${value}");`);
  };
  for (const r of records) {
    const name = `${r.kind} ${r.name}`;
    check(`sizeof(${name})`, sizeOf(r), `sizeof(${name})`);
    check(`_Alignof(${name})`, alignOf(r), `_Alignof(${name})`);
    for (const f of allFields(r)) {
      if (f.bitSize !== 0) continue;
      check(`__builtin_offsetof(${name}, ${f.path})`, f.offset, `offsetof(${name}, ${f.path})`);
    }
  }
  for (const d of types.definitions()) {
    if (d.kind === "typedef" && resolve(d).kind !== "func") {
      check(`sizeof(${d.name})`, sizeOf(d), `sizeof(${d.name})`);
      check(`_Alignof(${d.name})`, alignOf(d), `_Alignof(${d.name})`);
    }
    if (d.kind === "enum") {
      for (const v of d.values ?? []) check(`(long long)${v.name}`, v.value, v.name);
      if (d.name !== "") check(`sizeof(enum ${d.name})`, sizeOf(d), `sizeof(enum ${d.name})`);
    }
  }
  return { lines, count: lines.length };
}

describe("kernel type layouts", () => {
  it("are computed for every record, with the C rules", () => {
    const ss = kernelStruct("sock_common");
    expect(fieldOf(ss, "skc_daddr").offset).toBe(0);
    expect(fieldOf(ss, "skc_rcv_saddr").offset).toBe(4);
    expect(fieldOf(ss, "skc_dport").offset).toBe(12);
    expect(fieldOf(ss, "skc_num").offset).toBe(14);
    const task = kernelStruct("task_struct");
    expect(fieldOf(task, "comm").size).toBe(16);
    expect(fieldOf(task, "thread_info.cpu").offset).toBe(20);
    const file = kernelStruct("file");
    expect(fieldOf(file, "f_path.dentry").offset).toBe(fieldOf(file, "f_path").offset + 8);
    expect(fieldOf(kernelStruct("filename"), "iname").size).toBe(0);
    for (const r of records) expect(layoutRecord(r).size % layoutRecord(r).align).toBe(0);
  });

  it("refuse bad paths and definitions with a KernelTypeError", () => {
    expect(() => fieldOf(kernelStruct("task_struct"), "no_such")).toThrow(KernelTypeError);
    expect(() => fieldOf(kernelStruct("task_struct"), "comm[16]")).toThrow(/index 16/);
    const t = new TypeRegistry();
    expect(() => t.parseType("struct")).toThrow(KernelTypeError);
    expect(() => t.parseType("frobnicate")).toThrow(/unknown type 'frobnicate'/);
    expect(() => t.struct("x", ["int a:40"])).not.toThrow();
    expect(() => layoutRecord(t.record("struct", "x"))).toThrow(/bad width 40/);
    expect(() => sizeOf(t.record("struct", "incomplete"))).toThrow(/incomplete/);
  });

  it("parses C declarators as C does", () => {
    const t = new TypeRegistry();
    expect(t.parseDecl("int (*fn)(void *)").type.kind).toBe("ptr");
    const arrOfPtr = t.parseDecl("char *argv[4]").type;
    expect(arrOfPtr.kind === "array" && arrOfPtr.of.kind).toBe("ptr");
    const ptrToArr = t.parseDecl("char (*p)[4]").type;
    expect(ptrToArr.kind === "ptr" && ptrToArr.to.kind).toBe("array");
    const user = t.parseDecl("const char __user *filename");
    expect(user.name).toBe("filename");
    expect(user.type.kind === "ptr" && user.type.user).toBe(true);
    expect(t.parseType("unsigned long long").kind).toBe("int");
    expect(sizeOf(t.parseType("long unsigned int"))).toBe(8);
  });
});

describe.skipIf(!hasClang)("kernel type layouts vs clang -target bpf", () => {
  it("every size, alignment, offset and enum value matches clang's", () => {
    const { lines, count } = layoutAsserts();
    withTmp((dir) => {
      writeFileSync(join(dir, "vmlinux.h"), writeVmlinuxHeader());
      writeFileSync(join(dir, "check.c"), ['#include "vmlinux.h"', ...lines, ""].join("\n"));
      run("clang", [
        "-O2",
        "-target",
        "bpf",
        "-c",
        join(dir, "check.c"),
        "-o",
        join(dir, "check.o"),
      ]);
    });
    console.log(`test/kernel/layout: ${count} layout facts checked by clang -target bpf`);
    expect(count).toBeGreaterThan(900);
  });

  it("bit-field positions match clang's (host program, same LP64 rules)", () => {
    const bitfields = records.flatMap((r) =>
      allFields(r)
        .filter((f) => f.bitSize !== 0)
        .map((f) => ({ record: `${r.kind} ${r.name}`, ...f })),
    );
    const body = bitfields.map(
      (f) =>
        `  { ${f.record} v; memset(&v, 0, sizeof v); v.${f.path} = -1; show("${f.record} ${f.path}", &v, sizeof v); }`,
    );
    const source = [
      '#include "vmlinux.h"',
      "#include <stdio.h>",
      "#include <string.h>",
      "static void show(const char *what, const void *p, unsigned long n) {",
      "  const unsigned char *b = p; int first = -1, count = 0;",
      "  for (unsigned long i = 0; i < n * 8; i++) if (b[i / 8] >> (i % 8) & 1) { if (first < 0) first = i; count++; }",
      '  printf("%s %d %d\\n", what, first, count);',
      "}",
      "int main(void) {",
      ...body,
      "  return 0;",
      "}",
      "",
    ].join("\n");
    const output = withTmp((dir) => {
      writeFileSync(join(dir, "vmlinux.h"), writeVmlinuxHeader());
      writeFileSync(join(dir, "bits.c"), source);
      run("clang", ["-O1", "-w", "-o", join(dir, "bits"), join(dir, "bits.c")]);
      return run(join(dir, "bits"), []);
    });
    const expected = bitfields.map((f) => `${f.record} ${f.path} ${f.bitOffset} ${f.bitSize}`);
    expect(output.trim().split("\n")).toEqual(expected);
    expect(bitfields.length).toBeGreaterThan(20);
  });

  it("a CO-RE program using libbpf's headers compiles against the header", () => {
    const source = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
char LICENSE[] SEC("license") = "GPL";
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, u32); __type(value, u64); } counts SEC(".maps");
SEC("kprobe/vfs_read")
int BPF_KPROBE(probe_vfs_read, struct file *file, char *buf, size_t count) {
  struct task_struct *task = (void *)bpf_get_current_task();
  u32 ppid = BPF_CORE_READ(task, real_parent, tgid);
  const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
  u64 *v = bpf_map_lookup_elem(&counts, &ppid);
  if (v && name && bpf_core_field_exists(file->f_inode->i_size)) __sync_fetch_and_add(v, count);
  return 0;
}
SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(probe_connect, struct sock *sk) {
  u16 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
  u32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
  u32 len = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_userlocks);
  return dport + daddr + len;
}
SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(probe_rq, struct request *rq) {
  char disk[32];
  BPF_CORE_READ_STR_INTO(&disk, rq, q, disk, disk_name);
  return BPF_CORE_READ(rq, __data_len);
}
`;
    const symbols = withTmp((dir) => {
      writeFileSync(join(dir, "vmlinux.h"), writeVmlinuxHeader());
      writeFileSync(join(dir, "prog.c"), source);
      run("clang", [
        "-O2",
        "-g",
        "-target",
        "bpf",
        "-D__TARGET_ARCH_x86",
        "-c",
        join(dir, "prog.c"),
        "-o",
        join(dir, "prog.o"),
      ]);
      return run("llvm-objdump", ["-t", join(dir, "prog.o")]);
    });
    for (const name of ["probe_vfs_read", "probe_connect", "probe_rq"]) {
      expect(symbols).toContain(name);
    }
  });
});
