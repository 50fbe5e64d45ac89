// runtime/uapi/helpers.ts against the installed headers: helper ids re-derived from
// linux/bpf.h's __BPF_FUNC_MAPPER and evaluated by clang, names and arities from libbpf's
// generated bpf_helper_defs.h, and the prototype sanity rules the kernel's verifier enforces
// on its own helper table (check_arg_pair_ok, check_raw_mode_ok, check_btf_id_ok,
// check_refcount_ok). The machine's kernel is the oracle for the rest: helpers.kernel.test.ts.
import { describe, expect, it } from "vitest";
import { BpfMapType, BpfProgType } from "../../runtime/uapi/bpf.js";
import {
  ArgType,
  BpfFunc,
  HELPER_NAMES,
  MEM_UNINIT,
  OBJ_RELEASE,
  RetType,
  __BPF_FUNC_MAX_ID,
  argTypeString,
  baseType,
  helperAllowed,
  helperById,
  helperByName,
  helperFuncName,
  helperMapCompatible,
  helperMapTypes,
  helperProto,
  retTypeString,
  type HelperProto,
} from "../../runtime/uapi/helpers.js";
import { cValues, hasClang, header, stripComments } from "./oracle.js";

const bpfH = header("/usr/include/linux/bpf.h");
const helperDefsH = header("/usr/include/bpf/bpf_helper_defs.h");
if (!bpfH) console.log("skipped: /usr/include/linux/bpf.h absent");
if (!helperDefsH) console.log("skipped: /usr/include/bpf/bpf_helper_defs.h absent (libbpf-dev)");

// FN(name) (6.1) or FN(name, id) (6.2+) entries of the mapper macro, in order.
function mapperNames(text: string): string[] {
  const macro =
    /#define\s+_*BPF_FUNC_MAPPER\w*\((?:FN|FN, ctx)\)([\s\S]*?)\n\s*(?:\/\* \*\/)?\n/.exec(text);
  if (!macro) throw new Error("no __BPF_FUNC_MAPPER in bpf.h");
  return [...macro[1]!.matchAll(/FN\((\w+)(?:,\s*(\d+))?/g)].map((m, i) => {
    if (m[2] !== undefined && Number(m[2]) !== i) throw new Error(`${m[1]} id ${m[2]} != ${i}`);
    return m[1]!;
  });
}

describe.skipIf(!bpfH)("helper ids are the header's __BPF_FUNC_MAPPER positions", () => {
  it("lists every helper of the installed header, in order", () => {
    expect([...HELPER_NAMES]).toEqual(mapperNames(bpfH!));
    expect(__BPF_FUNC_MAX_ID).toBe(HELPER_NAMES.length);
  });
  it.skipIf(!hasClang)("agrees with enum bpf_func_id as clang evaluates it", () => {
    const names = Object.keys(BpfFunc);
    const c = cValues(
      ["linux/bpf.h"],
      Object.fromEntries([...names, "__BPF_FUNC_MAX_ID"].map((n) => [n, n])),
    );
    for (const n of names) expect(BigInt(BpfFunc[n as keyof typeof BpfFunc]), n).toBe(c.get(n));
    expect(BigInt(__BPF_FUNC_MAX_ID)).toBe(c.get("__BPF_FUNC_MAX_ID"));
  });
});

// static long (*bpf_name)(params) = (void *) id;
function helperDefs(
  text: string,
): { name: string; id: number; params: number; varargs: boolean }[] {
  const decls = stripComments(text).matchAll(
    /static\s+[^;(]*\(\*\s*bpf_(\w+)\)\s*\(([^)]*)\)\s*=\s*\(void \*\)\s*(\d+);/g,
  );
  return [...decls].map((m) => {
    const params = m[2]!.split(",").map((p) => p.trim());
    const varargs = params.includes("...");
    const fixed = params.filter((p) => p !== "..." && p !== "void" && p !== "");
    return { name: m[1]!, id: Number(m[3]), params: fixed.length, varargs };
  });
}

// Where the kernel's prototype checks fewer registers than libbpf declares parameters.
const KERNEL_CHECKS_FEWER: Record<string, number> = {
  // bpf_get_branch_snapshot(buf, size, flags): the proto leaves flags ARG_DONTCARE.
  get_branch_snapshot: 2,
  // libbpf declares the tc variant (skb); tracing and socket programs get the no-argument one.
  get_cgroup_classid: 0,
};

describe.skipIf(!helperDefsH)("libbpf's bpf_helper_defs.h", () => {
  const defs = helperDefs(helperDefsH!).filter((d) => d.id < __BPF_FUNC_MAX_ID);
  it("declares the same id for every name", () => {
    expect(defs.length).toBe(__BPF_FUNC_MAX_ID - 1);
    for (const d of defs) expect(helperById(d.id)?.name, `id ${d.id}`).toBe(d.name);
  });
  it("declares as many parameters as our prototypes check", () => {
    const mismatches = defs.flatMap((d) => {
      const proto = helperById(d.id)?.proto;
      if (!proto) return [];
      // bpf_trace_printk(fmt, fmt_size, ...): varargs are not counted; the kernel checks
      // only fmt and fmt_size.
      const checked = KERNEL_CHECKS_FEWER[d.name] ?? d.params;
      return proto.args.length === checked ? [] : [`${d.name}: ${proto.args.length} vs ${checked}`];
    });
    expect(mismatches).toEqual([]);
  });
});

// The kernel refuses to register a helper whose prototype breaks these rules; ours must obey.
describe("prototypes obey the verifier's own sanity rules", () => {
  const withProto = HELPER_NAMES.flatMap((name, id) => {
    const proto = helperById(id)?.proto;
    return proto ? [[name, proto] as [string, HelperProto]] : [];
  });
  const isSize = (t: number) =>
    baseType(t) === ArgType.ARG_CONST_SIZE || baseType(t) === ArgType.ARG_CONST_SIZE_OR_ZERO;
  const isMem = (t: number) => baseType(t) === ArgType.ARG_PTR_TO_MEM;

  it("covers the helpers tracing programs use", () => {
    const required = [
      "map_lookup_elem",
      "map_update_elem",
      "map_delete_elem",
      "probe_read",
      "ktime_get_ns",
      "trace_printk",
      "get_prandom_u32",
      "get_smp_processor_id",
      "tail_call",
      "get_current_pid_tgid",
      "get_current_uid_gid",
      "get_current_comm",
      "perf_event_read",
      "perf_event_output",
      "get_stackid",
      "get_current_task",
      "probe_write_user",
      "current_task_under_cgroup",
      "probe_read_str",
      "send_signal",
      "probe_read_user",
      "probe_read_kernel",
      "probe_read_user_str",
      "probe_read_kernel_str",
      "get_numa_node_id",
      "ktime_get_boot_ns",
      "ringbuf_output",
      "ringbuf_reserve",
      "ringbuf_submit",
      "ringbuf_discard",
      "ringbuf_query",
      "snprintf",
      "get_func_ip",
      "get_attach_cookie",
      "trace_vprintk",
      "get_stack",
      "override_return",
      "jiffies64",
      "get_current_task_btf",
      "ktime_get_coarse_ns",
      "map_push_elem",
      "map_pop_elem",
      "map_peek_elem",
      "for_each_map_elem",
      "loop",
      "strncmp",
      "get_task_stack",
      "send_signal_thread",
      "copy_from_user",
      "d_path",
    ];
    expect(required.filter((n) => helperByName(n)?.proto === undefined)).toEqual([]);
    expect(withProto.length).toBeGreaterThan(100);
  });
  it.each(withProto)("%s: memory/size arguments come in pairs (check_arg_pair_ok)", (_, p) => {
    expect(isSize(p.args[0] ?? 0)).toBe(false);
    p.args.forEach((t, i) => {
      if (isMem(t)) expect(isSize(p.args[i + 1] ?? 0), `arg${i + 1}`).toBe(true);
      if (isSize(t)) expect(isMem(p.args[i - 1] ?? 0), `arg${i + 1}`).toBe(true);
    });
  });
  it.each(withProto)(
    "%s: at most one uninitialised memory argument (check_raw_mode_ok)",
    (_, p) => {
      expect(p.args.filter((t) => isMem(t) && (t & MEM_UNINIT) !== 0).length).toBeLessThanOrEqual(
        1,
      );
    },
  );
  it.each(withProto)("%s: BTF arguments name their type (check_btf_id_ok)", (name, p) => {
    p.args.forEach((t, i) => {
      const dynamic = name === "kptr_xchg"; // its BTF type comes from the kptr field
      if (baseType(t) === ArgType.ARG_PTR_TO_BTF_ID && !dynamic) {
        expect(p.argBtfTypes?.[i], `arg${i + 1}`).toMatch(/^\w+$/);
      }
    });
    if (baseType(p.ret) === RetType.RET_PTR_TO_BTF_ID && name !== "kptr_xchg") {
      expect(p.retBtfType).toMatch(/^\w+$/);
    }
  });
  it.each(withProto)("%s: releases at most one reference (check_refcount_ok)", (_, p) => {
    expect(p.args.filter((t) => (t & OBJ_RELEASE) !== 0).length).toBeLessThanOrEqual(1);
  });
  it.each(withProto)("%s: returned memory has a size argument", (_, p) => {
    if (baseType(p.ret) === RetType.RET_PTR_TO_MEM) {
      expect(baseType(p.args[p.retSizeArg!]!)).toBe(ArgType.ARG_CONST_ALLOC_SIZE_OR_ZERO);
    }
  });
});

describe("lookups", () => {
  it("find helpers by id and by any spelling of the name", () => {
    expect(helperById(1)?.name).toBe("map_lookup_elem");
    expect(helperByName("bpf_ringbuf_reserve")?.id).toBe(131);
    expect(helperByName("BPF_FUNC_trace_printk")?.id).toBe(6);
    expect(helperByName("get_func_ip")?.id).toBe(173);
    expect(helperById(__BPF_FUNC_MAX_ID)).toBeUndefined();
    expect(helperById(-1)).toBeUndefined();
    expect(helperById(1.5)).toBeUndefined();
    expect(helperByName("no_such_helper")).toBeUndefined();
    expect(helperFuncName(25)).toBe("bpf_perf_event_output");
    expect(helperFuncName(0)).toBe("unknown");
    expect(helperFuncName(100000)).toBe("unknown");
  });
  it("print types the kernel's way", () => {
    const reserve = helperByName("ringbuf_reserve")!.proto!;
    expect(retTypeString(reserve.ret)).toBe("RET_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RINGBUF");
    expect(reserve.retSizeArg).toBe(1);
    expect(argTypeString(helperByName("probe_read")!.proto!.args[0]!)).toBe(
      "ARG_PTR_TO_MEM | MEM_UNINIT | MEM_WRITE",
    );
    expect(retTypeString(helperByName("map_lookup_elem")!.proto!.ret)).toBe(
      "RET_PTR_TO_MAP_VALUE | PTR_MAYBE_NULL",
    );
  });
  it("refuse unknown ids and program types without a table", () => {
    expect(helperAllowed(BpfProgType.BPF_PROG_TYPE_KPROBE, 0)).toBe(false);
    expect(helperAllowed(BpfProgType.BPF_PROG_TYPE_KPROBE, 9999)).toBe(false);
    expect(helperProto(BpfProgType.BPF_PROG_TYPE_KPROBE, -3)).toBeUndefined();
  });
  it("know which maps the map helpers need", () => {
    const id = (n: string) => helperByName(n)!.id;
    expect(helperMapTypes(id("perf_event_output"))).toEqual([
      BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    ]);
    expect(helperMapTypes(id("tail_call"))).toEqual([BpfMapType.BPF_MAP_TYPE_PROG_ARRAY]);
    expect(helperMapTypes(id("get_stackid"))).toEqual([BpfMapType.BPF_MAP_TYPE_STACK_TRACE]);
    expect(helperMapTypes(id("ringbuf_reserve"))).toEqual([BpfMapType.BPF_MAP_TYPE_RINGBUF]);
    expect(helperMapTypes(id("map_lookup_elem"))).toBeUndefined();
    expect(helperMapCompatible(id("map_lookup_elem"), BpfMapType.BPF_MAP_TYPE_RINGBUF)).toBe(false);
  });
});
