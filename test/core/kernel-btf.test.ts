// The simulated kernel's BTF (runtime/kernel/btf.ts) against the layouts its memory uses
// (runtime/kernel/layout.ts): every record's size, every member's bit offset and bit-field
// width, enums (enum64 where a value needs 64 bits), typedefs, __user pointers as type tags,
// and a FUNC with its prototype for each kernel function. bpftool and clang reading it back
// are in btf-dump.test.ts.
import { describe, expect, it } from "vitest";
import {
  BTF_FUNC_STATIC,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  type Btf,
  type BtfComposite,
} from "../../runtime/btf/btf.js";
import { encodeBtf } from "../../runtime/btf/encode.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import { btfTypeToString, findBtfType, findMember } from "../../runtime/btf/query.js";
import { kernelBtf } from "../../runtime/kernel/btf.js";
import { resolve, type RecordType } from "../../runtime/kernel/ctypes.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { allFields, layoutRecord } from "../../runtime/kernel/layout.js";
import { kernelTypes } from "../../runtime/kernel/vmlinux.js";

const btf = kernelBtf();
const records = kernelTypes()
  .definitions()
  .filter(
    (d): d is RecordType =>
      (d.kind === "struct" || d.kind === "union") && d.name !== "" && d.members !== undefined,
  );

function record(btf: Btf, r: RecordType): BtfComposite {
  const t = findBtfType(btf, r.name, r.kind === "struct" ? BTF_KIND_STRUCT : BTF_KIND_UNION);
  expect(t, `${r.kind} ${r.name}`).toBeDefined();
  return t as BtfComposite;
}

describe("the simulated kernel's BTF", () => {
  it("has every record with the size and member offsets the kernel lays out", () => {
    expect(records.length).toBeGreaterThan(70);
    for (const r of records) {
      const t = record(btf, r);
      const layout = layoutRecord(r);
      expect(t.size, `${r.kind} ${r.name}`).toBe(layout.size);
      expect(t.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual(
        layout.members.map((m) => [m.member.name, m.bitOffset, m.bitSize]),
      );
      expect(t.kindFlag).toBe(layout.members.some((m) => m.bitSize !== 0));
      // every leaf field, through anonymous members, where the kernel puts it
      for (const f of allFields(r)) {
        if (f.path.includes(".")) continue; // nested named records: checked as records
        const found = findMember(btf, t.id, f.path);
        expect(found?.bitOffset, `${r.name}.${f.path}`).toBe(f.bitOffset);
      }
    }
  });

  it("spells member types as the kernel's C declarations", () => {
    const task = record(btf, kernelTypes().get("struct task_struct") as RecordType);
    const spell = (name: string): string =>
      btfTypeToString(btf, task.members.find((m) => m.name === name)!.type, name);
    expect(spell("comm")).toBe("char comm[16]");
    expect(spell("real_parent")).toBe("struct task_struct *real_parent");
    expect(spell("cred")).toBe("const struct cred *cred");
    expect(spell("pid")).toBe("pid_t pid");
    const skc = findBtfType(btf, "sock_common", BTF_KIND_STRUCT) as BtfComposite;
    const reuse = findMember(btf, skc.id, "skc_reuse")!;
    expect(reuse.member.bitfieldSize).toBe(4);
    expect(findMember(btf, skc.id, "skc_dport")!.bitOffset).toBe(12 * 8);
    // records only pointed to are forward declarations
    const key = findBtfType(btf, "key")!;
    expect(key.kind).toBe(BTF_KIND_FWD);
  });

  it("has typedefs, enums (enum64 where needed) and __user type tags", () => {
    const u32 = findBtfType(btf, "u32", BTF_KIND_TYPEDEF)!;
    expect(btfTypeToString(btf, (u32 as { type: number }).type)).toBe("__u32");
    const drop = findBtfType(btf, "skb_drop_reason", BTF_KIND_ENUM)!;
    expect(drop.kind === BTF_KIND_ENUM && drop.values[2]).toMatchObject({
      name: "SKB_DROP_REASON_NO_SOCKET",
      value: 2,
    });
    const wide = btf.types.find(
      (t) => t.kind === BTF_KIND_ENUM64 && t.values.some((v) => v.name === "BPF_F_CTXLEN_MASK"),
    );
    expect(
      wide?.kind === BTF_KIND_ENUM64 && wide.values.find((v) => v.name === "BPF_F_CTXLEN_MASK"),
    ).toMatchObject({ lo: 0, hi: 0xfffff });
    const filename = findBtfType(btf, "filename", BTF_KIND_STRUCT) as BtfComposite;
    const uptr = filename.members.find((m) => m.name === "uptr")!;
    const ptr = btf.types[uptr.type]!;
    expect(ptr.kind).toBe(BTF_KIND_PTR);
    const tag = btf.types[(ptr as { type: number }).type]!;
    expect([tag.kind, tag.name]).toEqual([BTF_KIND_TYPE_TAG, "user"]);
    // derived types are shared, as in a deduplicated vmlinux BTF
    const shapes = btf.types
      .filter((t) => t.kind === BTF_KIND_PTR)
      .map((t) => (t as { type: number }).type);
    expect(new Set(shapes).size).toBe(shapes.length);
  });

  it("describes each kernel function with a FUNC and its prototype", () => {
    const kernel = new SimKernel();
    const withFuncs = kernelBtf(kernel);
    expect(kernelBtf(kernel)).toBe(withFuncs); // built once per kernel
    const funcs = withFuncs.types.filter((t) => t.kind === BTF_KIND_FUNC);
    expect(funcs.map((f) => f.name).sort()).toEqual([...kernel.functions.keys()].sort());
    const read = funcs.find((f) => f.name === "vfs_read")!;
    expect(read.kind === BTF_KIND_FUNC && read.linkage).toBe(BTF_FUNC_STATIC);
    const proto = withFuncs.types[(read as { type: number }).type]!;
    expect(proto.kind).toBe(BTF_KIND_FUNC_PROTO);
    expect(btfTypeToString(withFuncs, proto.id, "vfs_read")).toBe(
      "ssize_t vfs_read(struct file *, char *, size_t, loff_t *)",
    );
    expect(proto.kind === BTF_KIND_FUNC_PROTO && proto.params.map((p) => p.name)).toEqual([
      "file",
      "buf",
      "count",
      "pos",
    ]);
  });

  it("encodes and parses back to the same types", () => {
    const again = parseBtf(encodeBtf(btf), "kernel btf");
    expect(again.types.length).toBe(btf.types.length);
    for (const r of records.slice(0, 20)) expect(record(again, r)).toEqual(record(btf, r));
    // typedefs keep their target through resolve() as the registry does
    const size = kernelTypes().get("size_t");
    expect(resolve(size).kind).toBe("int");
  });
});
