// __kconfig / __ksym externs through the load path: a clang object's externs resolved against
// the simulated kernel (the `.kconfig` map filled from its version and config and frozen, ksyms
// from its kallsyms), weak ones it lacks read as 0, strong ones it lacks refused naming them;
// and CO-RE relocated against the kernel's own BTF by default.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../../runtime/api/index.js";
import { encodeBtf } from "../../runtime/btf/encode.js";
import { kernelBtf } from "../../runtime/kernel/btf.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { runWorkload } from "../../runtime/kernel/workload.js";
import { LoadError, loadObject } from "../../runtime/loader/index.js";
import { openObject } from "../../runtime/object/open.js";
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, BpfMapType } from "../../runtime/uapi/bpf.js";
import { COMPILE_FLAGS, HAS_LIBBPF_HEADERS } from "../../samples/lib/paths.js";
import { FIXTURES, hasClang, scratchDir } from "./tools.js";

const why = !hasClang
  ? "clang is not installed"
  : !HAS_LIBBPF_HEADERS
    ? "libbpf's headers (libbpf-dev) are not installed"
    : undefined;
if (why) console.log(`test/loader/externs: skipped: ${why}`);

/** clang -O2 -g -target bpf with the samples' include path (vmlinux.h, libbpf headers). */
function build(name: string, source?: string): { path: string; bytes: Uint8Array } {
  const dir = scratchDir();
  let input = join(FIXTURES, `${name}.bpf.c`);
  if (source !== undefined) {
    input = join(dir, `${name}.bpf.c`);
    writeFileSync(input, source);
  }
  const out = join(dir, `${name}.bpf.o`);
  execFileSync("clang", ["-O2", "-g", "-target", "bpf", ...COMPILE_FLAGS, "-c", input, "-o", out], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return { path: out, bytes: new Uint8Array(readFileSync(out)) };
}

const PRELUDE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
long out;
`;

/** The u64 words of the `out` array after the program ran. */
function outWords(obj: BpfObject): bigint[] {
  const map = obj.map(".bss").kernelMap("test");
  const value = new Uint8Array(map.userValueSize);
  expect(map.sysLookup(new Uint8Array(4), value)).toBe(0);
  const view = new DataView(value.buffer);
  return Array.from({ length: value.length / 8 }, (_, i) => view.getBigUint64(i * 8, true));
}

const address = (s: { lo: number; hi: number } | undefined): bigint =>
  (BigInt(s!.hi >>> 0) << 32n) | BigInt(s!.lo >>> 0);

describe.skipIf(why !== undefined)("externs on the simulated kernel", () => {
  it("open records them and the .kconfig map libbpf makes", () => {
    const { path, bytes } = build("externs");
    const object = openObject(bytes, path);
    expect(object.externs.map((e) => e.name)).toEqual([
      "CONFIG_NR_CPUS",
      "CONFIG_BPF_JIT",
      "CONFIG_HZ",
      "LINUX_KERNEL_VERSION",
      "CONFIG_BPF_SYSCALL",
      "CONFIG_NO_SUCH_OPTION",
      "LINUX_HAS_BPF_COOKIE",
      "CONFIG_LOCALVERSION",
      "init_task",
      "no_such_symbol",
      "vfs_read",
    ]);
    const kconfig = object.maps[object.maps.length - 1]!;
    expect(kconfig).toMatchObject({
      name: "externs.kconfig",
      realName: ".kconfig",
      origin: "kconfig",
      type: BpfMapType.BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 39,
      maxEntries: 1,
      mapFlags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
    });
    const refs = object.programs[0]!.externRelocations.map((r) => r.symbol);
    expect([...new Set(refs)].sort()).toEqual(object.externs.map((e) => e.name).sort());
  });

  it("read the kernel's version, config and kallsyms at run time", () => {
    const { path, bytes } = build("externs");
    const kernel = new SimKernel({ cpus: 2, seed: 5 });
    const obj = BpfObject.fromBytes(bytes, path).load(kernel, { engine: "interp" });
    try {
      obj.attachAll();
      runWorkload(kernel, "files", { events: 40 });
      const out = outWords(obj);
      expect(out[11]).toBeGreaterThan(0n); // it ran
      expect(out.slice(0, 11)).toEqual([
        BigInt(kernel.version),
        1n, // LINUX_HAS_BPF_COOKIE
        1n, // CONFIG_BPF_SYSCALL=y
        1n, // CONFIG_BPF_JIT=y as TRI_YES
        250n, // CONFIG_HZ
        64n, // CONFIG_NR_CPUS
        0n, // weak and absent
        0n, // CONFIG_LOCALVERSION="": its NUL
        address(kernel.kallsyms.lookup("vfs_read")),
        address(kernel.kallsyms.lookup("init_task")),
        0n, // weak ksym the kernel lacks
      ]);
      // the .kconfig map is frozen: user space cannot change what programs read
      const kconfig = obj.map(".kconfig");
      expect(kconfig.origin).toBe("kconfig");
      const raw = kconfig.kernelMap("test");
      expect(raw.frozen).toBe(true);
      expect(raw.sysUpdate(new Uint8Array(4), new Uint8Array(39), 0)).toBeLessThan(0);
      expect(kconfig.dump()).toHaveLength(1);
    } finally {
      obj.close();
    }
  });

  it("take config lines given at load before the kernel's own", () => {
    const { path, bytes } = build("externs");
    const kernel = new SimKernel({ cpus: 2, seed: 5 });
    const obj = BpfObject.fromBytes(bytes, path).load(kernel, {
      kconfig: 'CONFIG_HZ=1000\nCONFIG_NO_SUCH_OPTION=m\nCONFIG_LOCALVERSION="-x"',
    });
    try {
      obj.attachAll();
      runWorkload(kernel, "files", { events: 40 });
      const out = outWords(obj);
      expect(out[4]).toBe(1000n);
      expect(out[6]).toBe(BigInt("m".charCodeAt(0)));
      expect(out[7]).toBe(BigInt("-".charCodeAt(0)));
    } finally {
      obj.close();
    }
  });

  it.each([
    [
      "a strong kconfig extern the kernel lacks",
      `extern int CONFIG_NO_SUCH_THING __kconfig;
SEC("kprobe/vfs_read") int f(void *ctx) { out = CONFIG_NO_SUCH_THING; return 0; }`,
      /^bad\.bpf\.o: extern 'CONFIG_NO_SUCH_THING' \(strong\): not resolved$/,
    ],
    [
      "a strong ksym the kernel lacks",
      `extern const void no_such_function __ksym;
SEC("kprobe/vfs_read") int f(void *ctx) { out = (long)&no_such_function; return 0; }`,
      /^bad\.bpf\.o: extern 'no_such_function' \(strong\): not resolved \(not in kallsyms\)$/,
    ],
    [
      "a typed ksym (BPF_PSEUDO_BTF_ID)",
      `extern const struct task_struct init_task __ksym;
SEC("kprobe/vfs_read") int f(void *ctx) { out = (long)&init_task; return 0; }`,
      /^bad\.bpf\.o: extern \(ksym\) 'init_task': typed ksyms \(BPF_PSEUDO_BTF_ID\) are not supported/,
    ],
    [
      "a value that does not fit",
      `extern char CONFIG_HZ __kconfig;
SEC("kprobe/vfs_read") int f(void *ctx) { out = CONFIG_HZ; return 0; }`,
      /^bad\.bpf\.o: extern \(kcfg\) 'CONFIG_HZ': value '250' doesn't fit in 1 bytes$/,
    ],
  ])("refuse %s, naming it", (_what, body, pattern) => {
    const { bytes } = build("bad", PRELUDE + body);
    const kernel = new SimKernel({ cpus: 1 });
    let error: unknown;
    try {
      loadObject(kernel, openObject(bytes, "bad.bpf.o"));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LoadError);
    expect((error as Error).message).toMatch(pattern);
    // nothing stays behind: the failed load closed what it created
    expect(() => BpfObject.fromBytes(bytes, "bad.bpf.o").load(kernel)).toThrow(
      new RegExp(pattern.source.replace("^bad\\.bpf\\.o: ", "^bad\\.bpf\\.o: load: ")),
    );
  });

  it("relocate CO-RE against a BTF given at load, by path or parsed", () => {
    const { bytes } = build(
      "core_target",
      PRELUDE +
        `#include <bpf/bpf_core_read.h>
SEC("kprobe/vfs_read") int f(void *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	out = BPF_CORE_READ(t, tgid);
	return 0;
}`,
    );
    const kernel = new SimKernel({ cpus: 1 });
    expect(() =>
      BpfObject.fromBytes(bytes, "t.bpf.o").load(kernel, { targetBtf: "/no/such/btf" }),
    ).toThrow(/^t\.bpf\.o: load: targetBtf '\/no\/such\/btf': .*ENOENT/);
    const path = join(scratchDir(), "sim.btf");
    writeFileSync(path, encodeBtf(kernel.btf));
    for (const targetBtf of [path, kernel.btf]) {
      const obj = BpfObject.fromBytes(bytes, "t.bpf.o").load(kernel, { targetBtf });
      try {
        obj.attachAll();
        runWorkload(kernel, "files", { events: 20 });
        const tgids = new Set(kernel.tasks.list().map((t) => BigInt(t.tgid)));
        expect(tgids.has(outWords(obj)[0]!)).toBe(true);
      } finally {
        obj.close();
      }
    }
  });

  it("relocate CO-RE against the kernel's own BTF (kernel.btf) by default", () => {
    const kernel = new SimKernel({ cpus: 1 });
    expect(kernel.btf).toBe(kernel.btf);
    expect(kernel.btf).toBe(kernelBtf(kernel));
    expect(kernel.btf.types.some((t) => t.kind === 12 && t.name === "vfs_read")).toBe(true);
    const { bytes } = build(
      "core",
      PRELUDE +
        `#include <bpf/bpf_core_read.h>
SEC("kprobe/vfs_read") int f(void *ctx) {
	struct task_struct *t = (void *)bpf_get_current_task();
	out = BPF_CORE_READ(t, tgid) + bpf_core_field_exists(t->pid) * 1000000;
	return 0;
}`,
    );
    const obj = BpfObject.fromBytes(bytes, "core.bpf.o").load(kernel);
    try {
      obj.attachAll();
      runWorkload(kernel, "files", { events: 40 });
      const pids = new Set(kernel.tasks.list().map((t) => t.tgid));
      const out = Number(outWords(obj)[0]);
      expect(out).toBeGreaterThan(1000000);
      expect(pids.has(out - 1000000)).toBe(true);
    } finally {
      obj.close();
    }
  });
});
